#!/bin/sh
# tools/deps.sh - install the Debian packages mxshield needs, only those
# missing. Usage: tools/deps.sh build|test|bench
# As root it runs apt-get; otherwise sudo when it can; else it prints
# the command to run and fails.
set -eu

# Packages are installed without their recommendations, so every package
# a command below needs is named here, recommended ones included.
#
# build: what `make build` and `make run` need: the C toolchain
# (build-essential brings libc6-dev, without which gcc compiles nothing),
# CMake, pkg-config, the five libraries (c-ares: asynchronous DNS on the
# event loop, which getaddrinfo cannot do; libmicrohttpd: the /metrics
# and /healthz endpoint in a thread of its own; libsystemd: sd_notify
# for the unit's Type=notify), and Python for the development
# sink; netbase (/etc/protocols, /etc/services), which a minimal Debian
# lacks and without which SMTP clients such as swaks cannot open a TCP
# connection to try the README's example; hiredis, the Redis client of
# hijack.store = "redis" (the one the Redis project keeps, with an
# asynchronous API that runs on each worker's loop).
BUILD="build-essential cmake pkg-config libuv1-dev libmbedtls-dev libconfig-dev libc-ares-dev libmicrohttpd-dev libhiredis-dev libsystemd-dev python3 netbase"
# test: everything the unit, integration and fuzz tests run.
#   libcmocka-dev                  unit tests (CMake -DMXS_UNIT_TESTS=ON)
#   clang libclang-rt-14-dev       libFuzzer targets and their sanitizers
#   python3-pytest python3-yaml    integration tests (yaml: compose.yaml)
#   python3-dnslib                 the tests' DNS server (dnskit.py)
#   python3-prometheus-client      its parser reads /metrics (test_metrics.py)
#   swaks libnet-ssleay-perl       an independent SMTP client; swaks only
#                                  recommends Net::SSLeay, which its
#                                  --tls/--tlsc need
#   postfix                        smtp-source, smtp-sink, a private Postfix
#   openssl                        test certificates, s_client
#   redis-server                   hijack.store = "redis" against a real
#                                  Redis (test_hijack_redis.py)
TEST="$BUILD libcmocka-dev clang libclang-rt-14-dev python3-pytest python3-yaml python3-dnslib python3-prometheus-client swaks libnet-ssleay-perl postfix openssl redis-server"
BENCH="$TEST haproxy proxsmtp iproute2 procps"
# container: make test-container builds the image and runs it with podman
# (runc as its runtime where crun cannot run here), on a Debian base made
# by debootstrap when no registry can be pulled from
# (tools/container-base.sh); nsenter (util-linux) reaches into a
# container's network namespace.
CONTAINER="$TEST podman runc debootstrap util-linux"

case "${1:-build}" in
build) want=$BUILD ;;
test) want=$TEST ;;
bench) want=$BENCH ;;
container) want=$CONTAINER ;;
*) echo "usage: $0 build|test|bench|container" >&2; exit 2 ;;
esac

# The tests run servers under unprivileged users (smtp-sink as nobody, a
# private Postfix as postfix), which must be able to reach the files
# below /. A Debian install has / at 0755; a root made by hand (a chroot
# built from a 0700 temporary folder) may not, and then every such test
# fails with "Permission denied" on libc itself. Say so, and as root
# open / for search: on a normal system this changes nothing.
if [ "${1:-build}" != build ] && [ "$(( 0$(stat -c %a /) & 01 ))" = 0 ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "tools/deps.sh: / is mode $(stat -c %a /); the tests run servers as" \
		    "unprivileged users, which need to traverse it: chmod o+x /" >&2
		chmod o+x /
	else
		echo "tools/deps.sh: / is mode $(stat -c %a /): the tests run servers as" \
		    "unprivileged users, which cannot reach any file; run: sudo chmod o+x /" >&2
		exit 1
	fi
fi

missing=""
# Haraka, a peer in the benchmark, needs Node.js and npm: take them from
# Debian only when no node/npm is on PATH already.
if [ "${1:-build}" = bench ] && ! { command -v node && command -v npm; } >/dev/null 2>&1; then
	want="$want nodejs npm"
fi
for p in $want; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ]; then
	SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
	SUDO="sudo"
else
	echo "mxshield needs these Debian packages:$missing" >&2
	echo "install them with: sudo apt-get install$missing" >&2
	exit 1
fi

echo "installing:$missing" >&2
# postfix is only wanted for smtp-source/smtp-sink: never configure or
# start a mail system on this machine.
echo "postfix postfix/main_mailer_type select No configuration" |
	$SUDO debconf-set-selections 2>/dev/null || true
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
