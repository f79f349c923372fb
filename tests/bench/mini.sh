#!/usr/bin/env bash
# tests/bench/mini.sh - without the shared rig: smtp-source straight to
# smtp-sink, then through mxshield, at the rig's default points; prints
# msgs/s for both and the ratio. Usage: tests/bench/mini.sh BINARY
set -eu
BIN=$1
HERE=$(cd "$(dirname "$0")" && pwd)
SINK_PORT=${SINK_PORT:-25350}
PORT=${PORT:-25351}
POINTS=${POINTS:-"1:1024:1000 50:10240:3000 200:10240:3000 10:1048576:100"}
RUN=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$RUN"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# smtp-sink refuses to run as root without a user to switch to
as=(); [ "$(id -u)" = 0 ] && as=(-u nobody)
/usr/sbin/smtp-sink "${as[@]}" -c -C -t 100 -m 2048 "127.0.0.1:$SINK_PORT" 4096 >/dev/null 2>&1 &
pids+=($!)
sed -e "s/@BACKEND_PORT@/$SINK_PORT/" -e "s/@PORT@/$PORT/" "$HERE/bench.conf.in" >"$RUN/m.conf"
"$BIN" -c "$RUN/m.conf" 2>"$RUN/m.log" &
pids+=($!)
sleep 1

rate() {   # port C S N
	local t0 t1
	t0=$(date +%s.%N)
	timeout 60 /usr/sbin/smtp-source -c -s "$2" -m "$4" -l "$3" -f bench@example.com \
		-t sink@example.com -M client.example.com "127.0.0.1:$1" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	awk -v n="$4" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }'
}
printf '| point | direct msgs/s | mxshield msgs/s | ratio |\n|---|---|---|---|\n'
for pt in $POINTS; do
	IFS=: read -r c s n <<<"$pt"
	d=$(rate "$SINK_PORT" "$c" "$s" "$n")
	m=$(rate "$PORT" "$c" "$s" "$n")
	awk -v p="C=$c $s B" -v d="$d" -v m="$m" 'BEGIN { printf "| %s | %s | %s | %.2f |\n", p, d, m, m / d }'
done
