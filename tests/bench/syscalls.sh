#!/usr/bin/env bash
# tests/bench/syscalls.sh - system calls per message of a relay, counted
# with strace -c -f: smtp-source -> relay -> smtp-sink on loopback, at
# C=50, 10 KB (the rig's middle point). Relays: mxshield (BINARY) and,
# when installed, haproxy as a pure byte relay with the rig's settings.
# Usage: tests/bench/syscalls.sh [BINARY] [MESSAGES]   (a measurement only)
# strace slows every call, so the figures are counts, not speeds.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "${1:-$HERE/../../build/mxshield}")
N=${2:-2000}
SINK_PORT=${SINK_PORT:-25360}
PORT=${PORT:-25361}
RUN=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$RUN"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
command -v strace >/dev/null || { echo "strace is not installed (apt-get install strace)" >&2; exit 1; }

# smtp-sink refuses to run as root without a user to switch to
as=(); [ "$(id -u)" = 0 ] && as=(-u nobody)
/usr/sbin/smtp-sink "${as[@]}" -c -C -t 100 -m 2048 "127.0.0.1:$SINK_PORT" 4096 >/dev/null 2>&1 &
pids+=($!)
sleep 0.5

# count NAME CMD...: run the relay under strace, push N messages, print
# the total calls and the calls per message by name.
count() {
	local name=$1; shift
	strace -c -f -o "$RUN/$name.strace" "$@" 2>"$RUN/$name.log" &
	local sp=$!
	pids+=("$sp")
	for _ in $(seq 50); do
		ss -ltn 2>/dev/null | grep -q ":$PORT " && break
		sleep 0.1
	done
	timeout 300 /usr/sbin/smtp-source -c -s 50 -m "$N" -l 10240 -f bench@example.com \
		-t sink@example.com -M client.example.com "127.0.0.1:$PORT" >/dev/null 2>&1 || true
	kill -TERM "$sp" 2>/dev/null || true
	pkill -TERM -P "$sp" 2>/dev/null || true
	wait "$sp" 2>/dev/null || true
	awk -v n="$N" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" { tot += $4 }
		END { printf "%.1f", tot / n }' "$RUN/$name.strace" |
		xargs printf '%s: %s system calls per message\n' "$name"
	awk -v n="$N" '$1 ~ /^[0-9.]+$/ && NF >= 5 && $NF != "total" && $4 / n >= 0.5 {
		printf "  %-14s %6.1f\n", $NF, $4 / n }' "$RUN/$name.strace" | sort -k2 -rn
}

sed -e "s/@BACKEND_PORT@/$SINK_PORT/" -e "s/@PORT@/$PORT/" "$HERE/bench.conf.in" >"$RUN/m.conf"
count mxshield "$BIN" -c "$RUN/m.conf"
if command -v haproxy >/dev/null; then
	cat >"$RUN/h.cfg" <<EOF
global
    maxconn 9000
defaults
    mode tcp
    timeout connect 5s
    timeout client 15m
    timeout server 15m
frontend smtp_in
    bind 127.0.0.1:$PORT
    default_backend sink
backend sink
    server sink 127.0.0.1:$SINK_PORT
EOF
	count haproxy haproxy -db -f "$RUN/h.cfg"
fi
