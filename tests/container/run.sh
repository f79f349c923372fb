#!/bin/sh
# tests/container/run.sh - `make test-container`: build the image from
# docker/Dockerfile with podman and run tests/container/test_container.py
# against it (mail through it, non-root, /healthz and the HEALTHCHECK,
# SIGHUP, SIGTERM). Prints "SKIP: ..." and exits 0 only when podman
# cannot run a container on this machine; anything else that fails fails.
#
#   PYTHON                 the Python with pytest (default /usr/bin/python3)
#   MXSHIELD_TEST_IMAGE    the tag to build (default localhost/mxshield:test)
#
# The Debian base images come from tools/container-base.sh (debootstrap,
# made once and kept); the build reuses podman's layer cache, so only a
# changed source rebuilds mxshield. The containers the tests make are
# removed; the images are kept for the next run.
set -eu
cd "$(dirname "$0")/../.."

PYTHON=${PYTHON:-/usr/bin/python3}
IMAGE=${MXSHIELD_TEST_IMAGE:-localhost/mxshield:test}

skip() {
	echo "SKIP: make test-container: $*"
	exit 0
}
fail() {
	echo "FAIL: make test-container: $*" >&2
	exit 1
}

# podman, runc and debootstrap (as root: apt-get).
if ! tools/deps.sh container; then
	command -v podman >/dev/null 2>&1 ||
	    skip "podman is not installed and cannot be installed here (tools/deps.sh container)"
	fail "tools/deps.sh container failed"
fi

tools/container-base.sh || fail "no Debian base image (tools/container-base.sh)"
base=$(sed -n 's/^ARG DEBIAN_RUN=\(.*\)$/\1/p' docker/Dockerfile)

# Can podman run a container here at all? With the machine's settings,
# else with ours (runc; the host's network for builds, since a machine
# where podman cannot make networks is common in CI): the tests
# themselves give each container a namespace of its own.
probe() {
	timeout 120 podman run --rm --pull=never --network none "$base" true 2>&1
}
if ! err=$(probe); then
	CONTAINERS_CONF=$PWD/tests/container/containers.conf
	export CONTAINERS_CONF
	if ! err2=$(probe); then
		echo "$err" | tail -n 3
		echo "with tests/container/containers.conf: $err2" | tail -n 3
		skip "podman cannot run a container on this machine: $(echo "$err2" | tail -n 1)"
	fi
	echo "test-container: podman runs containers with tests/container/containers.conf"
fi

# The image. --format docker: the OCI format has no HEALTHCHECK.
log=$(mktemp "${TMPDIR:-/tmp}/mxshield-image-build.XXXXXX")
trap 'rm -f "$log"' EXIT
echo "test-container: building $IMAGE from docker/Dockerfile"
start=$(date +%s)
if ! timeout 1200 podman build --pull=never --format docker --network host \
    -f docker/Dockerfile -t "$IMAGE" . >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	fail "podman build failed"
fi
cached=$(grep -c -- '--> Using cache' "$log" || true)
echo "test-container: built in $(( $(date +%s) - start )) s ($cached steps from the cache);" \
    "$(podman image inspect --format '{{.Size}}' "$IMAGE") bytes"

MXSHIELD_IMAGE=$IMAGE exec "$PYTHON" -m pytest -q -rfEs -s -p no:cacheprovider tests/container
