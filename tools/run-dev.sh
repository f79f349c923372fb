#!/bin/sh
# tools/run-dev.sh - `make run`: mxshield in the foreground with
# deploy/dev.conf (listen 127.0.0.1:2525).
#   run-dev.sh BINARY ""          backend: tools/devsink.py on 127.0.0.1:2526,
#                                 storing each message in run/mail/*.eml
#   run-dev.sh BINARY host:port   backend: that server (run/dev.conf is
#                                 dev.conf with backend.address/port replaced)
# Ctrl-C stops mxshield as SIGTERM does: it stops accepting and lets the
# sessions in progress finish; the sink is stopped once mxshield has
# exited. A second Ctrl-C stops mxshield at once.
#
# mxshield and the sink run in sessions of their own (setsid), so the
# terminal's SIGINT reaches this script only and mxshield gets exactly one
# signal per Ctrl-C; were it in the terminal's process group, one Ctrl-C
# would reach it twice (the terminal's SIGINT and the TERM passed on
# here), which means "stop at once", and the sink would stop under it.
set -eu

usage() { echo "usage: $0 BINARY [BACKEND host:port]" >&2; exit 2; }
[ $# -ge 1 ] || usage
bin=$1
backend=${2:-}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
PYTHON=${PYTHON:-/usr/bin/python3}
[ -x "$PYTHON" ] || PYTHON=python3
conf=deploy/dev.conf

[ -x "$bin" ] || { echo "run-dev: $bin is not built (make build)" >&2; exit 1; }
[ -f "$conf" ] || { echo "run-dev: $conf is missing" >&2; exit 1; }
mkdir -p run

sink=""
# shellcheck disable=SC2317  # called from traps
cleanup() {
	if [ -n "$sink" ]; then
		kill "$sink" 2>/dev/null || true
		wait "$sink" 2>/dev/null || true
		sink=""
	fi
}
trap cleanup EXIT
# Until mxshield runs, a signal is only noted (so that no child is left
# behind between its start and the line that records its pid); check_held
# then stops what runs and leaves.
held=""
trap 'held=${held:-INT}' INT
trap 'held=${held:-TERM}' TERM
trap 'held=${held:-HUP}' HUP
check_held() {
	case $held in
	'') return 0 ;;
	INT) cleanup; exit 130 ;;
	TERM) cleanup; exit 143 ;;
	*) cleanup; exit 129 ;;
	esac
}

if [ -z "$backend" ]; then
	mkdir -p run/mail
	setsid "$PYTHON" tools/devsink.py --listen 127.0.0.1:2526 --dir run/mail &
	sink=$!
	# wait (bounded) until the sink accepts connections
	i=0
	until "$PYTHON" -c 'import socket,sys; socket.create_connection(("127.0.0.1",2526),0.2).close()' 2>/dev/null; do
		i=$((i + 1))
		check_held
		if [ $i -ge 50 ] || ! kill -0 "$sink" 2>/dev/null; then
			echo "run-dev: devsink did not start on 127.0.0.1:2526" >&2
			exit 1
		fi
		sleep 0.1
	done
else
	case $backend in
	\[*\]:*) host=${backend%]:*}; host=${host#[}; port=${backend##*]:} ;;
	*:*) host=${backend%:*}; port=${backend##*:} ;;
	*) echo "run-dev: BACKEND must be host:port, got '$backend'" >&2; exit 2 ;;
	esac
	case $port in ''|*[!0-9]*) echo "run-dev: bad port in '$backend'" >&2; exit 2 ;; esac
	# Replace address and port inside the backend group only.
	"$PYTHON" - "$conf" run/dev.conf "$host" "$port" <<'PY'
import re, sys
src, dst, host, port = sys.argv[1:]
text = open(src).read()
m = re.search(r'(?m)^\s*backend\s*[=:]\s*\{', text)
if not m:
    sys.exit("run-dev: no backend group in " + src)
depth, i = 0, m.end() - 1
while i < len(text):
    c = text[i]
    if c == '"':
        i = text.index('"', i + 1)
    elif c == '#' or text.startswith('//', i):
        i = text.find('\n', i)
        i = len(text) if i == -1 else i
    elif text.startswith('/*', i):
        i = text.index('*/', i) + 1
    elif c == '{':
        depth += 1
    elif c == '}':
        depth -= 1
        if depth == 0:
            break
    i += 1
group = text[m.end():i]
new, na = re.subn(r'(\baddress\s*[=:]\s*)"[^"]*"', lambda x: x.group(1) + '"%s"' % host, group, count=1)
new, np_ = re.subn(r'(\bport\s*[=:]\s*)\d+', lambda x: x.group(1) + port, new, count=1)
if not na:
    new = ' address = "%s";' % host + new
if not np_:
    new = ' port = %s;' % port + new
open(dst, "w").write(text[:m.end()] + new + text[i:])
PY
	conf=run/dev.conf
	echo "run-dev: backend $host:$port (config $conf)"
fi

echo "run-dev: mxshield on 127.0.0.1:2525 with $conf; Ctrl-C stops it"
echo "try: swaks --server 127.0.0.1:2525 --to you@example.com"
[ -n "$sink" ] && echo "     messages land in run/mail/"
# mxshield runs as our child in its own session. The first INT, TERM or
# HUP becomes one TERM for it (more TERMs and HUPs change nothing: a
# "kill -TERM" of make's process group reaches us twice, once through
# make); another Ctrl-C becomes a second TERM, which stops it at once,
# and a third one a KILL.
check_held
setsid "$bin" -c "$conf" &
mx=$!
sent=0
# shellcheck disable=SC2317  # called from traps
stop_mx() {
	if [ "$sent" -ge 1 ] && [ "$1" != INT ]; then
		return
	fi
	sent=$((sent + 1))
	case $sent in
	1)
		echo "run-dev: stopping mxshield: sessions may finish (Ctrl-C again to stop at once)" >&2
		kill -TERM "$mx" 2>/dev/null || true ;;
	2)
		echo "run-dev: stopping mxshield at once (Ctrl-C again to kill it)" >&2
		kill -TERM "$mx" 2>/dev/null || true ;;
	*)
		kill -KILL "$mx" 2>/dev/null || true ;;
	esac
}
trap 'stop_mx INT' INT
trap 'stop_mx TERM' TERM
trap 'stop_mx HUP' HUP
[ -z "$held" ] || stop_mx "$held"
# wait returns early when a trapped signal arrives: wait again until
# mxshield has really exited
while :; do
	rc=0
	wait "$mx" || rc=$?
	kill -0 "$mx" 2>/dev/null || break
done
cleanup
exit "$rc"
