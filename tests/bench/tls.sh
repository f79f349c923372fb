#!/usr/bin/env bash
# tests/bench/tls.sh - what TLS costs mxshield. smtp-source speaks no
# TLS, so haproxy is the TLS client:
#   plain: smtp-source -> haproxy (tcp) -> mxshield (plain)        -> smtp-sink
#   tls:   smtp-source -> haproxy (tcp in, ssl out) -> mxshield (implicit TLS) -> smtp-sink
# at C=50 10 KB; then handshakes per second with openssl s_time -new
# against the implicit listener, and RSS per idle TLS session.
# Usage: tests/bench/tls.sh [BINARY]    A measurement, never a test.
set -eu
BIN=$(realpath "${1:-build/mxshield}")
BASE=${PORT_BASE:-25400}
SINK=$BASE; MX_PLAIN=$((BASE + 1)); MX_TLS=$((BASE + 2)); HA_PLAIN=$((BASE + 3)); HA_TLS=$((BASE + 4))
C=${C:-50}; S=${S:-10240}; N=${N:-3000}; ROUNDS=${ROUNDS:-3}
RUN=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; sleep 0.5; rm -rf "$RUN"; }
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
	-keyout "$RUN/key.pem" -out "$RUN/cert.pem" -days 2 -subj /CN=mx.bench.example 2>/dev/null
cat >"$RUN/m.conf" <<CONF
hostname = "mx.bench.example";
listen = ( { address = "127.0.0.1"; port = $MX_PLAIN; },
           { address = "127.0.0.1"; port = $MX_TLS; tls = "implicit"; } );
backend = { address = "127.0.0.1"; port = $SINK; };
tls = { cert_file = "$RUN/cert.pem"; key_file = "$RUN/key.pem"; };
limits = { max_per_ip = 20000; max_connections = 20000; };
log = { level = "warn"; };
allow_root = true;
CONF
cat >"$RUN/h.cfg" <<CONF
global
    maxconn 9000
defaults
    mode tcp
    timeout connect 10s
    timeout client 15m
    timeout server 15m
frontend plain
    bind 127.0.0.1:$HA_PLAIN
    default_backend mx_plain
frontend tls
    bind 127.0.0.1:$HA_TLS
    default_backend mx_tls
backend mx_plain
    server m 127.0.0.1:$MX_PLAIN
backend mx_tls
    server m 127.0.0.1:$MX_TLS ssl verify none
CONF
/usr/sbin/smtp-sink -u root -c -C -t 100 -m 2048 "127.0.0.1:$SINK" 4096 >/dev/null 2>&1 &
pids+=($!)
"$BIN" -c "$RUN/m.conf" 2>"$RUN/m.log" &
MXPID=$!
pids+=($MXPID)
haproxy -db -f "$RUN/h.cfg" >/dev/null 2>&1 &
pids+=($!)
sleep 1

rate() {   # port
	local t0 t1
	t0=$(date +%s.%N)
	timeout 120 /usr/sbin/smtp-source -c -s "$C" -m "$N" -l "$S" -f bench@example.com \
		-t sink@example.com -M client.example.com "127.0.0.1:$1" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	awk -v n="$N" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.0f", n / (b - a) }'
}
echo "| round | plain msgs/s | TLS msgs/s | TLS / plain |"
echo "|---|---|---|---|"
for r in $(seq 1 "$ROUNDS"); do
	p=$(rate "$HA_PLAIN"); t=$(rate "$HA_TLS")
	awk -v r="$r" -v p="$p" -v t="$t" 'BEGIN { printf "| %d | %s | %s | %.2f |\n", r, p, t, t / p }'
done
echo
echo "handshakes per second (openssl s_time -new, 10 s):"
timeout 30 openssl s_time -connect "127.0.0.1:$MX_TLS" -new -time 10 2>/dev/null | grep -E "connections in|connections/user" || true
echo
/usr/bin/python3 - "$MX_TLS" "$MXPID" <<'PY'
import socket, ssl, sys, time
port, pid = int(sys.argv[1]), sys.argv[2]
def rss():
    for l in open("/proc/%s/status" % pid):
        if l.startswith("VmRSS"):
            return int(l.split()[1])
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
ctx.maximum_version = ssl.TLSVersion.TLSv1_2
held = []
for i in range(20):   # warm-up
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="x"); s.recv(100); s.close()
time.sleep(0.5)
before = rss()
K = 500
for i in range(K):
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="x")
    s.settimeout(10); s.recv(100)   # the greeting arrived: handshake done
    held.append(s)
time.sleep(2)
after = rss()
print("idle TLS sessions: %d held, %.1f KB RSS each (client leg TLS, backend leg plain)" % (K, (after - before) / K))
PY
