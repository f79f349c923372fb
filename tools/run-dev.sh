#!/bin/sh
# tools/run-dev.sh - `make run`: mxshield in the foreground with
# deploy/dev.conf (listen 127.0.0.1:2525).
#   run-dev.sh BINARY ""          backend: tools/devsink.py on 127.0.0.1:2526,
#                                 storing each message in run/mail/*.eml
#   run-dev.sh BINARY host:port   backend: that server (run/dev.conf is
#                                 dev.conf with backend.address/port replaced)
# Ctrl-C stops mxshield; the sink is stopped with it.
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
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

if [ -z "$backend" ]; then
	mkdir -p run/mail
	"$PYTHON" tools/devsink.py --listen 127.0.0.1:2526 --dir run/mail &
	sink=$!
	# wait (bounded) until the sink accepts connections
	i=0
	until "$PYTHON" -c 'import socket,sys; socket.create_connection(("127.0.0.1",2526),0.2).close()' 2>/dev/null; do
		i=$((i + 1))
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
# mxshield runs as our child; INT/TERM are forwarded to it (a second
# Ctrl-C kills it), and the sink is stopped when it has exited.
"$bin" -c "$conf" &
mx=$!
signals=0
# shellcheck disable=SC2317  # called from traps
stop_mx() {
	signals=$((signals + 1))
	if [ "$signals" -ge 2 ]; then
		kill -KILL "$mx" 2>/dev/null || true
	else
		echo "run-dev: stopping mxshield (Ctrl-C again to kill it)" >&2
		kill -TERM "$mx" 2>/dev/null || true
	fi
}
trap stop_mx INT TERM
rc=0
wait "$mx" || rc=$?
# wait returns early when a trapped signal arrives: wait for the real exit
while kill -0 "$mx" 2>/dev/null; do
	rc=0
	wait "$mx" || rc=$?
done
exit $rc
