# tests/bench/common.sh - what the side-by-side benchmarks (checks.sh,
# dns.sh, ops.sh) share, sourced after they set RUN (a scratch folder)
# and PY (a python3): processes to stop at exit, free loopback ports,
# waiting for a listener, and an smtp-sink that counts its messages.
# KEEP=1 keeps $RUN (logs, raw rows) after the run.
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	if [ -n "${KEEP:-}" ]; then echo "raw rows and logs kept in $RUN" >&2
	else rm -rf "$RUN"; fi
}
trap cleanup EXIT

free_port() {
	"${PY:-python3}" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

wait_port() {
	for _ in $(seq 200); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.05
	done
	echo "nothing listens on port $1" >&2
	exit 1
}

# start_sink SINK: smtp-sink on a free port (SINK_PORT), as nobody when
# root, up to 20,000 connections (-m; 256 by default), idle timeout 900 s,
# with a running count (-c: sess=N quit=N mesg=N, CR-separated) in
# $RUN/sink.out that sink_count reads.
start_sink() {
	local user=()
	SINK_PORT=$(free_port)
	[ "$(id -u)" = 0 ] && user=(-u nobody)
	"$1" "${user[@]}" -c -m 20000 -t 900 "127.0.0.1:$SINK_PORT" 4096 \
	    >"$RUN/sink.out" 2>&1 &
	PIDS+=($!)
	wait_port "$SINK_PORT"
}

sink_count() {
	tr '\r' '\n' <"$RUN/sink.out" | sed -n 's/.*mesg=\([0-9]*\).*/\1/p' |
	    tail -1 | grep . || echo 0
}
