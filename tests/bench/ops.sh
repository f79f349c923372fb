#!/usr/bin/env bash
# tests/bench/ops.sh - operations under load, with Postfix's smtp-source
# and smtp-sink on loopback (a measurement, never a pass/fail test):
#   reload   RELOADS SIGHUPs, one every half second, while smtp-source
#            sends COUNT messages at C=50 (10 KB): each reload flips the
#            spoof threshold and adds or removes a second listener. Says
#            how many reloads were applied, their time (the "ms" of the
#            reload lines), and whether every message reached the sink.
#   drain    SIGTERM in the middle of such a run: how long the drain
#            took, the exit status, and that every message smtp-source
#            was told 250 for is at the sink.
#   idle     IDLE sessions (default 10,000) greeted and held idle at
#            once, each with its backend leg: mxshield's RSS before and
#            after, per session. Raises the descriptor limits it needs.
# Usage: tests/bench/ops.sh [BINARY] [reload|drain|idle|all]
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "${1:-$HERE/../../build/mxshield}")
WHAT=${2:-all}
COUNT=${COUNT:-20000}
RELOADS=${RELOADS:-20}
IDLE=${IDLE:-10000}
SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}
IDLE_CLIENT=${IDLE_CLIENT:-$HERE/../../../shared/bench/idle_client.py}
for t in "$SOURCE" "$SINK"; do
	[ -x "$t" ] || { echo "$t missing (apt-get install postfix)" >&2; exit 2; }
done
# 2 descriptors a session for mxshield, 1 for the sink and the client
need=$((2 * IDLE + 200))
if [ "$(ulimit -Hn)" -lt "$need" ]; then
	ulimit -Hn "$need" 2>/dev/null || {
		fit=$(( ($(ulimit -Hn) - 200) / 2 ))
		echo "the hard descriptor limit is $(ulimit -Hn) and cannot be" \
		    "raised here: $fit idle sessions instead of $IDLE" >&2
		IDLE=$fit
	}
fi
ulimit -n "$(ulimit -Hn)"

RUN=$(mktemp -d "${TMPDIR:-/tmp}/mxs-ops.XXXXXX")
. "$HERE/common.sh"
start_sink "$SINK"

PORT=$(free_port)
PORT2=$(free_port)
conf() {	# threshold, second listener (0/1) -> the configuration file
	{
		echo "hostname = \"mx.bench.example\";"
		if [ "$2" = 1 ]; then
			echo "listen = ( { address = \"127.0.0.1\"; port = $PORT; }, { address = \"127.0.0.1\"; port = $PORT2; } );"
		else
			echo "listen = ( { address = \"127.0.0.1\"; port = $PORT; } );"
		fi
		echo "backend = { address = \"127.0.0.1\"; port = $SINK_PORT; };"
		echo "limits = { max_per_ip = 30000; max_connections = 30000; };"
		echo "log = { level = \"info\"; };"
		echo "local_domains = [ \"example.com\" ];"
		echo "spoof = { enabled = true; threshold = $1; action = \"append\"; };"
		[ "$(id -u)" = 0 ] && echo "allow_root = true;"
		echo "shutdown_timeout = 30;"
	} >"$RUN/m.conf"
}

MX=
start_mx() {
	conf 10 0
	"$BIN" -c "$RUN/m.conf" 2>"$RUN/mx.log" &
	MX=$!
	PIDS+=("$MX")
	wait_port "$PORT"
}

run_source() {	# count -> smtp-source in the background, its PID in SRC
	"$SOURCE" -c -s 50 -m "$1" -l 10240 -f bench@example.net \
	    -t sink@example.com -M client.example.net "127.0.0.1:$PORT" \
	    >"$RUN/source.out" 2>"$RUN/source.err" &
	SRC=$!
}

reload_run() {
	start_mx
	local s0 t0 t1 i
	s0=$(sink_count)
	t0=$(date +%s.%N)
	run_source "$COUNT"
	for i in $(seq "$RELOADS"); do
		sleep 0.5
		conf $((i % 2 ? 25 : 10)) $((i % 2))
		kill -HUP "$MX"
	done
	wait "$SRC" && src=0 || src=$?
	t1=$(date +%s.%N)
	sleep 1
	local got=$(($(sink_count) - s0))
	python3 - "$RUN/mx.log" "$RELOADS" "$COUNT" "$got" "$src" "$t0" "$t1" \
	    "$(grep -c . "$RUN/source.err" || true)" <<'EOF'
import json, statistics, sys
log, reloads, count, got, src, t0, t1, errs = sys.argv[1:]
lines = [json.loads(l) for l in open(log) if l.startswith("{")]
rl = [l for l in lines if l.get("event") == "reload" and "result" in l]
ok = [l for l in rl if l["result"] == "ok"]
ms = [l["ms"] for l in ok]
print("| reload under load | value |")
print("|---|---|")
print("| SIGHUPs sent / reloads applied / refused | %s / %d / %d |" % (
    reloads, len(ok), len(rl) - len(ok)))
if ms:
    print("| reload time ms: median / max | %s / %s |" % (statistics.median(ms), max(ms)))
print("| messages sent by smtp-source (C=50, 10 KB) | %s in %.1f s |" % (count, float(t1) - float(t0)))
print("| at the sink | %s |" % got)
print("| smtp-source exit status / error lines | %s / %s |" % (src, errs))
EOF
	kill -TERM "$MX"
	wait "$MX" || true
}

drain_run() {
	start_mx
	local s0 t0 t1 rc
	s0=$(sink_count)
	run_source "$COUNT"
	sleep 3
	t0=$(date +%s.%N)
	kill -TERM "$MX"
	wait "$MX" && rc=0 || rc=$?
	t1=$(date +%s.%N)
	wait "$SRC" || true
	sleep 1
	local got=$(($(sink_count) - s0))
	# smtp-source counts what it got 250 for only as a total; its errors
	# are the refused ones (421 4.3.2 once draining)
	printf '| drain under load (SIGTERM 3 s into C=50) | value |\n|---|---|\n'
	printf '| drain took | %s s |\n' "$(python3 -c "print('%.2f' % ($t1 - $t0))")"
	printf '| exit status | %s |\n' "$rc"
	printf '| messages at the sink | %s |\n' "$got"
	printf '| smtp-source error lines (421 and refused connections) | %s |\n' \
	    "$(grep -c . "$RUN/source.err" || true)"
	grep -o '"msg":"[^"]*drain[^"]*"' "$RUN/mx.log" | head -3 | sed 's/^/    /'
}

idle_run() {
	[ -f "$IDLE_CLIENT" ] || { echo "no $IDLE_CLIENT (the shared rig): idle run skipped" >&2; return 0; }
	start_mx
	local r0 r1
	sleep 0.5
	r0=$(awk '/VmRSS/ {print $2}' "/proc/$MX/status")
	mkfifo "$RUN/hold"
	python3 "$IDLE_CLIENT" --port "$PORT" --count "$IDLE" --window 64 \
	    --timeout 300 --hold 600 --hold-stdin <"$RUN/hold" >"$RUN/idle.out" 2>&1 &
	local cl=$!
	exec 7>"$RUN/hold"
	for _ in $(seq 600); do
		grep -q READY "$RUN/idle.out" && break
		sleep 0.5
	done
	sleep 2
	r1=$(awk '/VmRSS/ {print $2}' "/proc/$MX/status")
	printf '| idle sessions | value |\n|---|---|\n'
	printf '| client | %s |\n' "$(grep READY "$RUN/idle.out" || echo 'not ready')"
	printf '| mxshield RSS before / with the sessions | %s KB / %s KB |\n' "$r0" "$r1"
	printf '| per session (backend leg included) | %s bytes |\n' \
	    "$(( (r1 - r0) * 1024 / IDLE ))"
	printf '| descriptors open | %s |\n' "$(ls "/proc/$MX/fd" | wc -l)"
	exec 7>&-
	wait "$cl" || true
	kill -TERM "$MX"
	wait "$MX" || true
}

case "$WHAT" in
reload) reload_run ;;
drain) drain_run ;;
idle) idle_run ;;
all) reload_run; echo; drain_run; echo; idle_run ;;
*) echo "usage: $0 [BINARY] [reload|drain|idle|all]" >&2; exit 2 ;;
esac
