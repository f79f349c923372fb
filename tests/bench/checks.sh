#!/usr/bin/env bash
# tests/bench/checks.sh - what the message checks cost: three mxshield
# processes side by side in front of one smtp-sink, measured in turn
# round by round with Postfix's smtp-source (so a noisy neighbour hurts
# all three alike):
#   off      every check off (bench.conf.in)
#   checks   IP Shield on MAIL FROM and the From: header, the From:
#            identity rule, a size limit with exemptions, the spoof
#            score: smtp-source's messages score 13 and get the warning
#            appended (bench-checks.conf.in, threshold 10)
#   tagged   the same, threshold 25: scored and tagged, nothing appended
# Points: C=50 10 KB and C=10 1 MB. Prints messages per second per
# round and the medians of the per-round ratios checks/off and, at 1 MB,
# checks/tagged (the warning appended against not). A measurement, never
# a pass/fail test.
# Usage: tests/bench/checks.sh [BINARY]   (ROUNDS=3, OUT=file for the table)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "${1:-$HERE/../../build/mxshield}")
ROUNDS=${ROUNDS:-3}
SOURCE=${SMTP_SOURCE:-/usr/sbin/smtp-source}
SINK=${SMTP_SINK:-/usr/sbin/smtp-sink}
POINTS=${POINTS:-"50:10240:3000 10:1048576:150"}
for t in "$SOURCE" "$SINK"; do
	[ -x "$t" ] || { echo "$t missing (apt-get install postfix)" >&2; exit 2; }
done
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

RUN=$(mktemp -d "${TMPDIR:-/tmp}/mxs-checks.XXXXXX")
. "$HERE/common.sh"
start_sink "$SINK"

declare -A PORT PID
start() {	# name template threshold
	local port
	port=$(free_port)
	sed -e "s/@BACKEND_PORT@/$SINK_PORT/" -e "s/@PORT@/$port/" \
	    -e "s/@THRESHOLD@/$3/" "$HERE/$2" >"$RUN/$1.conf"
	"$BIN" -c "$RUN/$1.conf" 2>"$RUN/$1.log" &
	PIDS+=($!)
	PID[$1]=$!
	PORT[$1]=$port
	wait_port "$port"
}
start off bench.conf.in 10
start checks bench-checks.conf.in 10
start tagged bench-checks.conf.in 25
NAMES="off checks tagged"

cpu() {	# pid -> utime+stime in clock ticks
	awk '{print $14 + $15}' "/proc/$1/stat"
}

rate() {	# name conc size count -> msgs/s and CPU us per message
	local t0 t1 c0 c1
	c0=$(cpu "${PID[$1]}")
	t0=$(date +%s.%N)
	"$SOURCE" -c -s "$2" -m "$4" -l "$3" -f bench@example.com \
	    -t sink@example.com -M client.example.com "127.0.0.1:${PORT[$1]}" \
	    >/dev/null 2>"$RUN/source.err" || { cat "$RUN/source.err" >&2; exit 1; }
	t1=$(date +%s.%N)
	c1=$(cpu "${PID[$1]}")
	python3 -c "print('%.1f\t%.0f' % ($4 / ($t1 - $t0), ($c1 - $c0) * 1e6 / $(getconf CLK_TCK) / $4))"
}

RES=$RUN/res.tsv
: >"$RES"
for r in $(seq "$ROUNDS"); do
	for p in $POINTS; do
		IFS=: read -r c s n <<<"$p"
		# rotate the order each round
		order=$(echo $NAMES | tr ' ' '\n' | awk -v r="$r" '{a[NR]=$0} END {for (i=0;i<NR;i++) print a[(i+r)%NR+1]}')
		for name in $order; do
			echo -e "$r\t$c:$s\t$name\t$(rate "$name" "$c" "$s" "$n")" >>"$RES"
		done
	done
done
for name in $NAMES; do
	grep -c '"level":"error"' "$RUN/$name.log" >/dev/null && {
		echo "errors in the $name log:" >&2
		grep '"level":"error"' "$RUN/$name.log" | head -3 >&2
	}
done

python3 - "$RES" <<'EOF' | tee "${OUT:-/dev/null}"
import sys, statistics, collections
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1])]
rate = collections.defaultdict(dict)
cpu = collections.defaultdict(dict)
for r, point, name, v, us in rows:
    rate[point].setdefault(name, {})[r] = float(v)
    cpu[point].setdefault(name, {})[r] = float(us)
print("| point | off msgs/s | checks msgs/s | tagged msgs/s | checks / off | checks / tagged | CPU us/msg off / checks / tagged |")
print("|---|---|---|---|---|---|---|")
for point, by in rate.items():
    rounds = sorted(by["off"])
    med = {n: statistics.median(by[n].values()) for n in by}
    r1 = statistics.median(by["checks"][k] / by["off"][k] for k in rounds)
    r2 = statistics.median(by["checks"][k] / by["tagged"][k] for k in rounds)
    c, s = point.split(":")
    us = {n: statistics.median(cpu[point][n].values()) for n in by}
    print("| C=%s, %s | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f / %.0f / %.0f |" % (
        c, "%d KB" % (int(s) // 1024) if int(s) < 1048576 else "1 MB",
        med["off"], med["checks"], med["tagged"], r1, r2,
        us["off"], us["checks"], us["tagged"]))
EOF
