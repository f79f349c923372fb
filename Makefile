# mxshield - the two commands a newcomer needs: `make run` and `make test`.
# Everything else wraps CMake.

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
PYTHON     ?= /usr/bin/python3
FUZZ_SECONDS ?= 60
BACKEND    ?=
# ON builds the cmocka unit tests into build/ too (make unit and make test
# set it). Left empty, build/ keeps what its CMake cache says: off in a
# new build/, so `make run` never needs cmocka.
UNIT_TESTS ?=

.PHONY: all build asan fuzz-build run test unit integration fuzz-smoke fuzz \
        bench check-config clean deps-build deps-test install test-container

all: build

deps-build:
	@tools/deps.sh build

deps-test:
	@tools/deps.sh test

build: deps-build
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  $(if $(UNIT_TESTS),-DMXS_UNIT_TESTS=$(UNIT_TESTS))
	cmake --build $(BUILD) -j $(JOBS)

# The ASan+UBSan build is a test build: unit tests always on. clang,
# whose UBSan checks pointer arithmetic (NULL + 0) that gcc's does not.
# A build-asan/ configured with another compiler starts afresh: CMake
# would drop the options below with its cache when the compiler changes.
asan: deps-test
	@if [ -f $(ASAN_BUILD)/CMakeCache.txt ] && ! grep -q \
	  '^CMAKE_C_COMPILER:.*clang' $(ASAN_BUILD)/CMakeCache.txt; then \
	  echo "$(ASAN_BUILD)/ was made with another compiler: removing it"; \
	  rm -rf $(ASAN_BUILD); fi
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_C_COMPILER=clang \
	  -DCMAKE_BUILD_TYPE=Debug -DMXS_SANITIZE=ON -DMXS_UNIT_TESTS=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)

fuzz-build: deps-test
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMXS_FUZZ=ON
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Start mxshield on 127.0.0.1:2525 with deploy/dev.conf. Its backend is
# BACKEND=host:port when given, else a development sink that stores each
# message as an .eml file.
run: build
	@tools/run-dev.sh "$(BUILD)/mxshield" "$(BACKEND)"

# A target-specific value reaches the prerequisites: build/ gets its
# unit tests too. --no-tests=error: a build without them fails here.
unit: UNIT_TESTS = ON
unit: asan build
	cd $(ASAN_BUILD) && ctest --output-on-failure --no-tests=error
	cd $(BUILD) && ctest --output-on-failure --no-tests=error

# -rfEs: the summary names every failure, error and skip with its reason.
integration: deps-test asan build
	MXSHIELD_BIN=$(CURDIR)/$(ASAN_BUILD)/mxshield MXSHIELD_RELEASE_BIN=$(CURDIR)/$(BUILD)/mxshield \
	  $(PYTHON) -m pytest -q -rfEs -p no:cacheprovider tests/integration

fuzz-smoke: fuzz-build
	@tools/fuzz.sh $(FUZZ_BUILD) 10

fuzz: fuzz-build
	@tools/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

test: deps-test
	$(MAKE) build asan fuzz-build UNIT_TESTS=ON
	$(MAKE) unit
	$(MAKE) integration
	$(MAKE) fuzz-smoke

# The container image: built with podman from docker/Dockerfile and run
# (mail through it, non-root, /healthz, SIGHUP, SIGTERM). Prints SKIP and
# succeeds only where podman cannot run a container.
test-container:
	@PYTHON=$(PYTHON) tests/container/run.sh

bench: build
	@tools/deps.sh bench
	tests/bench/run.sh $(BUILD)/mxshield

check-config: build
	$(BUILD)/mxshield --check-config -c deploy/mxshield.conf

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)

# Install the binary, the systemd unit, and the reference configuration
# (only when /etc/mxshield/mxshield.conf does not exist yet).
PREFIX ?= /usr/local
install: build
	install -D -m 0755 $(BUILD)/mxshield $(DESTDIR)$(PREFIX)/bin/mxshield
	install -D -m 0644 deploy/mxshield.service $(DESTDIR)/etc/systemd/system/mxshield.service
	test -e $(DESTDIR)/etc/mxshield/mxshield.conf || \
	  install -D -m 0644 deploy/mxshield.conf $(DESTDIR)/etc/mxshield/mxshield.conf
	@echo "installed; check the configuration with: $(PREFIX)/bin/mxshield --check-config -c /etc/mxshield/mxshield.conf"
