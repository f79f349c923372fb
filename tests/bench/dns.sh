#!/usr/bin/env bash
# tests/bench/dns.sh - what the DNS checks cost. mxshield processes side
# by side in front of one smtp-sink, and a DNS server of our own
# (tests/bench/dnsbench.py serve, on 127.0.0.53):
#   off   every check off (bench.conf.in)
#   dns   every DNS check on (bench-dns.conf.in): FCrDNS, the HELO name
#         resolving to the client, two DNSBL zones, SPF with
#         reject_fail; smtp-source's traffic passes them all
#   cold  the same, asking a second DNS server that answers after 50 ms
# Both log at info (the resolver's counters are an info line).
# 1. Throughput at C=50, 10 KB with a warm cache: a warm-up run fills
#    it, then off and dns are measured in turn round by round with
#    Postfix's smtp-source (so a noisy neighbour hurts both alike):
#    messages per second, the per-round ratio dns/off and its median,
#    CPU per message of each process. The sink must have received
#    every message of every run.
# 2. The cache: the dns process's "dns" lines at shutdown (summed over
#    its workers) and the DNS server's own count of questions, during
#    the warm-up and during the measured rounds.
# 3. Latency with a cold cache: CLIENTS sessions one after another,
#    each from its own address 127.0.0.x with its own PTR, HELO name and
#    sender domain, against off and cold in turn; one 10 KB message,
#    timed from connect to the reply to the final dot.
# A measurement, never a pass/fail test.
# Usage: tests/bench/dns.sh [BINARY]
#   (ROUNDS=3, COUNT=5000 messages a run, WARMUP=500, CLIENTS=20,
#    OUT=file for the table, KEEP=1 keeps the raw rows and logs)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "${1:-$HERE/../../build/mxshield}")
ROUNDS=${ROUNDS:-3}
COUNT=${COUNT:-5000}
WARMUP=${WARMUP:-500}
CLIENTS=${CLIENTS:-20}
CONC=50
SIZE=10240
SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}
PY=${PYTHON:-/usr/bin/python3}
for t in "$SOURCE" "$SINK"; do
	[ -x "$t" ] || { echo "$t missing (apt-get install postfix)" >&2; exit 2; }
done
"$PY" -c 'import dnslib' 2>/dev/null ||
    { echo "python3 dnslib missing (apt-get install python3-dnslib)" >&2; exit 2; }
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

RUN=$(mktemp -d "${TMPDIR:-/tmp}/mxs-dns.XXXXXX")
. "$HERE/common.sh"

wait_file() {
	for _ in $(seq 100); do
		[ -s "$1" ] && return 0
		sleep 0.05
	done
	echo "$1 never came" >&2
	exit 1
}
loadavg() {
	cut -d' ' -f1-3 /proc/loadavg
}
LOAD0=$(loadavg)

# the DNS servers: answering at once, and after 50 ms
"$PY" "$HERE/dnsbench.py" serve "$RUN/fast.addr" "$RUN/fast.q" 0 &
PIDS+=($!)
"$PY" "$HERE/dnsbench.py" serve "$RUN/slow.addr" "$RUN/slow.q" 50 &
PIDS+=($!)
wait_file "$RUN/fast.addr"
wait_file "$RUN/slow.addr"
: >>"$RUN/fast.q"
: >>"$RUN/slow.q"
questions() {	# file -> questions the server got so far
	wc -l <"$1"
}

start_sink "$SINK"

declare -A PORT PID
start() {	# name template dns-server-file
	local port dns
	port=$(free_port)
	dns=$(cat "$RUN/$3")
	sed -e "s/@BACKEND_PORT@/$SINK_PORT/" -e "s/@PORT@/$port/" \
	    -e "s/@DNS@/$dns/" -e 's/level = "warn"/level = "info"/' \
	    "$HERE/$2" >"$RUN/$1.conf"
	"$BIN" --check-config -c "$RUN/$1.conf" >/dev/null 2>"$RUN/$1.check" || {
		cat "$RUN/$1.check" >&2
		exit 1
	}
	"$BIN" -c "$RUN/$1.conf" 2>"$RUN/$1.log" &
	PIDS+=($!)
	PID[$1]=$!
	PORT[$1]=$port
	wait_port "$port"
}
start off bench.conf.in fast.addr
start dns bench-dns.conf.in fast.addr
start cold bench-dns.conf.in slow.addr

cpu() {	# pid -> utime+stime in clock ticks
	awk '{print $14 + $15}' "/proc/$1/stat"
}

# rate round name count -> "round name msgs/s CPU-us/msg" on stdout; the
# sink must have got every message
rate() {
	local t0 t1 c0 c1 s0 s1
	s0=$(sink_count)
	c0=$(cpu "${PID[$2]}")
	t0=$(date +%s.%N)
	"$SOURCE" -c -s "$CONC" -m "$3" -l "$SIZE" -f bench@example.com \
	    -t sink@example.com -M client.example.com "127.0.0.1:${PORT[$2]}" \
	    >/dev/null 2>"$RUN/source.err" || { cat "$RUN/source.err" >&2; exit 1; }
	t1=$(date +%s.%N)
	c1=$(cpu "${PID[$2]}")
	sleep 0.2
	s1=$(sink_count)
	if [ $((s1 - s0)) -ne "$3" ]; then
		echo "$2: the sink got $((s1 - s0)) of $3 messages" >&2
		tail -3 "$RUN/$2.log" >&2
		exit 1
	fi
	"$PY" -c "print('%s\t%s\t%.1f\t%.0f' % ('$1', '$2', $3 / ($t1 - $t0), ($c1 - $c0) * 1e6 / $(getconf CLK_TCK) / $3))"
}

# warm-up: fills the dns process's cache (both workers), not recorded
rate 0 off "$WARMUP" >/dev/null
rate 0 dns "$WARMUP" >/dev/null
WARM_Q=$(questions "$RUN/fast.q")

RES=$RUN/res.tsv
: >"$RES"
for r in $(seq "$ROUNDS"); do
	# the order turns each round
	if [ $((r % 2)) = 1 ]; then order="off dns"; else order="dns off"; fi
	for name in $order; do
		rate "$r" "$name" "$COUNT" >>"$RES"
	done
done
MEASURED_Q=$(( $(questions "$RUN/fast.q") - WARM_Q ))

# latency with a cold cache and a 50 ms resolver (the cold process has
# seen one connection so far, wait_port's: its PTR and DNSBL questions)
s0=$(sink_count)
COLD_Q0=$(questions "$RUN/slow.q")
"$PY" "$HERE/dnsbench.py" latency "${PORT[off]}" "${PORT[cold]}" "$CLIENTS" \
    "$SIZE" >"$RUN/lat.tsv"
sleep 0.2
s1=$(sink_count)
[ $((s1 - s0)) -eq $((2 * CLIENTS)) ] ||
    { echo "latency: the sink got $((s1 - s0)) of $((2 * CLIENTS))" >&2; exit 1; }
COLD_Q=$(( $(questions "$RUN/slow.q") - COLD_Q0 ))
LOAD1=$(loadavg)

# the resolvers write their counters as they close
for name in off dns cold; do
	kill -TERM "${PID[$name]}"
	wait "${PID[$name]}" || true
done
for name in off dns cold; do
	grep -q '"level":"error"' "$RUN/$name.log" && {
		echo "errors in the $name log:" >&2
		grep '"level":"error"' "$RUN/$name.log" | head -3 >&2
	}
	grep -q '"result":"rejected"' "$RUN/$name.log" && {
		echo "refusals in the $name log:" >&2
		grep '"result":"rejected"' "$RUN/$name.log" | head -3 >&2
		exit 1
	}
done

{
	echo "$("$BIN" --version | head -1), $(nproc) CPUs, workers"\
	    "as many; $COUNT messages a run after a warm-up of $WARMUP;" \
	    "$(date -u +%Y-%m-%d)."
	echo
	# sessions of the dns process: wait_port's, the warm-up, the rounds
	"$PY" "$HERE/dnsbench.py" table "$RES" "$RUN/lat.tsv" "$RUN/dns.log" \
	    $((1 + WARMUP + ROUNDS * COUNT)) "$WARM_Q" "$MEASURED_Q" "$COLD_Q" "$LOAD0 / $LOAD1"
} | tee "${OUT:-/dev/null}"
