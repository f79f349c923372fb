#!/usr/bin/env bash
# tests/bench/run.sh - measure mxshield against a direct connection and,
# when the shared rig (../shared/bench beside the repo, or RIG_DIR) is
# present, beside haproxy, proxsmtp and Haraka in its product slot.
# Usage: tests/bench/run.sh [BINARY] [bench|idle]   (QUICK=1 for a short run)
# A measurement, never a pass/fail test.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
BIN=$(realpath "${1:-$HERE/../../build/mxshield}")
WHAT=${2:-bench}
RIG=${RIG_DIR:-$HERE/../../../shared/bench}
# BENCH_CONF=checks: the message checks on (bench-checks.conf.in), the
# warning appended to every message; THRESHOLD=25 scores without it.
case "${BENCH_CONF:-plain}" in
plain) CONF_IN=$HERE/bench.conf.in ;;
checks) CONF_IN=$HERE/bench-checks.conf.in ;;
*) echo "BENCH_CONF is plain or checks" >&2; exit 2 ;;
esac
THRESHOLD=${THRESHOLD:-10}

if [ ! -x "$RIG/bench.sh" ]; then
	echo "no benchmark rig at $RIG: running the direct-vs-mxshield points only" >&2
	exec "$HERE/mini.sh" "$BIN"
fi
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
export PRODUCT_NAME=mxshield
export PRODUCT_PORT=${PRODUCT_PORT:-25260}
export PRODUCT_VERSION="$("$BIN" --version)"
export PRODUCT_CMD="sed -e \"s/@BACKEND_PORT@/\$SINK_PORT/\" -e \"s/@PORT@/\$PRODUCT_PORT/\" -e \"s/@THRESHOLD@/$THRESHOLD/\" '$CONF_IN' >\"\$RUN_DIR/mxshield.conf\" && exec '$BIN' -c \"\$RUN_DIR/mxshield.conf\""
case "$WHAT" in
bench) exec "$RIG/bench.sh" ;;
idle) exec "$RIG/idle.sh" ;;
*) echo "usage: $0 [BINARY] [bench|idle]" >&2; exit 2 ;;
esac
