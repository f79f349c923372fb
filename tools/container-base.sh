#!/bin/sh
# tools/container-base.sh - make the Debian base images docker/Dockerfile
# and docker/postfix-backend/Dockerfile start FROM, without a registry:
# debootstrap a bookworm root file system from a Debian mirror and
# `podman import` it under the names the Dockerfiles use (the default
# DEBIAN_BUILD and DEBIAN_RUN, e.g. debian:12.8 and debian:12.8-slim:
# both from the same root file system).
#
# The images are kept in podman's storage and made only when one is
# missing, so a second run costs nothing. --force makes them again (a
# newer bookworm, its security fixes).
#
#   MXSHIELD_DEBIAN_MIRROR  the mirror (default: the one apt uses here,
#                           else http://deb.debian.org/debian)
#
# This is a stand-in for the official images, which a machine that can
# reach a registry pulls instead: the root file system is the current
# bookworm (debootstrap --variant=minbase), larger than debian:12.8-slim,
# and its apt sources are the official image's (bookworm,
# bookworm-updates, bookworm-security on deb.debian.org). Needs root
# (debootstrap), podman and debootstrap (tools/deps.sh container).
set -eu
cd "$(dirname "$0")/.."

force=0
case "${1:-}" in
--force) force=1 ;;
"") ;;
*) echo "usage: $0 [--force]" >&2; exit 2 ;;
esac

# The names, from the Dockerfile itself: ARG DEBIAN_BUILD=debian:12.8
names=""
for arg in DEBIAN_BUILD DEBIAN_RUN; do
	n=$(sed -n "s/^ARG $arg=\(.*\)$/\1/p" docker/Dockerfile)
	[ -n "$n" ] || { echo "$0: no ARG $arg= in docker/Dockerfile" >&2; exit 1; }
	names="$names $n"
done
# podman resolves the short name debian:12.8 to docker.io/library/debian:12.8
qualify() {
	case "$1" in
	*/*/*) echo "$1" ;;
	*/*) echo "docker.io/$1" ;;
	*) echo "docker.io/library/$1" ;;
	esac
}

missing=""
for n in $names; do
	q=$(qualify "$n")
	if [ "$force" = 1 ] || ! podman image exists "$q"; then
		missing="$missing $q"
	fi
done
if [ -z "$missing" ]; then
	echo "container-base: kept:$(for n in $names; do printf ' %s' "$(qualify "$n")"; done)"
	exit 0
fi

if [ "$(id -u)" != 0 ]; then
	echo "$0: debootstrap needs root; missing:$missing" >&2
	exit 1
fi
command -v debootstrap >/dev/null || { echo "$0: debootstrap is not installed (tools/deps.sh container)" >&2; exit 1; }

# The mirror apt uses on this machine (deb822 URIs: or one-line deb).
mirror=${MXSHIELD_DEBIAN_MIRROR:-}
if [ -z "$mirror" ]; then
	mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	    /etc/apt/sources.list.d/*.sources 2>/dev/null |
	    sed -n -e 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' \
	        -e 's/^deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}\([^[:space:]]*\).*/\2/p' |
	    grep -v -e security -e '^cdrom' | grep '/debian/\{0,1\}$' | head -n 1)
	mirror=${mirror:-http://deb.debian.org/debian}
fi

# One run at a time: two makes would debootstrap twice.
work=/var/tmp/mxshield-container-base
mkdir -p "$work"
exec 9>"$work/lock"
flock 9
# another run may have made them while we waited
if [ "$force" = 0 ]; then
	again=""
	for q in $missing; do podman image exists "$q" || again="$again $q"; done
	[ -n "$again" ] || { echo "container-base: made by another run:$missing"; exit 0; }
fi

root="$work/rootfs"
rm -rf "$root"
trap 'rm -rf "$root"' EXIT
echo "container-base: debootstrap bookworm from $mirror (a few minutes)" >&2
started=$(date +%s)
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
	tail -n 20 "$work/debootstrap.log" >&2
	echo "$0: debootstrap failed (log: $work/debootstrap.log)" >&2
	exit 1
}
# The official image's apt sources, not the mirror used to build it.
rm -f "$root/etc/apt/sources.list"
cat >"$root/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
# What the official image leaves out: package lists, caches, logs.
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin \
    "$root"/var/cache/apt/archives/*.deb "$root"/var/log/* "$root"/tmp/*
: >"$root/etc/hostname"

first=""
for q in $missing; do
	if [ -z "$first" ]; then
		tar -C "$root" --numeric-owner -c . |
		    podman import --quiet --change 'CMD ["bash"]' \
		        --message "debootstrap --variant=minbase bookworm $mirror" - "$q" >/dev/null
		first=$q
	else
		podman tag "$first" "$q"
	fi
done
echo "container-base: made$missing in $(( $(date +%s) - started )) s;" \
    "$(podman image inspect --format '{{.Size}}' "$first") bytes" >&2
