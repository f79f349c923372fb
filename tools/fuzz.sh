#!/bin/sh
# tools/fuzz.sh BUILD_DIR SECONDS - run every libFuzzer target
# BUILD_DIR/fuzz_* for SECONDS each, over a scratch copy of its seed
# corpus tests/fuzz/corpus/<name>/, so a run never writes into the
# repository. Prints one line per target; crash inputs and the log of a
# failed target are kept in BUILD_DIR/fuzz-artifacts/<name>/. Exits 1
# when a target crashed (or found a leak or a timeout), 2 on bad usage
# or when there is no target at all.
set -u

usage() {
	echo "usage: $0 BUILD_DIR SECONDS" >&2
	exit 2
}

[ $# -eq 2 ] || usage
build=$1
secs=$2
case $secs in
''|*[!0-9]*) usage ;;
esac
[ -d "$build" ] || { echo "fuzz: no build directory $build" >&2; exit 2; }

root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mxs-fuzz.XXXXXX") || exit 2
trap 'rm -rf "$scratch"' EXIT
trap 'exit 130' INT TERM

targets=0
failed=0
for bin in "$build"/fuzz_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	name=$(basename "$bin")
	targets=$((targets + 1))
	work=$scratch/$name
	mkdir -p "$work/corpus"
	seeds=$root/tests/fuzz/corpus/$name
	if [ -d "$seeds" ]; then
		cp -R "$seeds/." "$work/corpus/"
	fi
	nseeds=$(find "$work/corpus" -type f | wc -l)
	artifacts=$build/fuzz-artifacts/$name
	rm -rf "$artifacts"
	mkdir -p "$artifacts"

	"$bin" -max_total_time="$secs" -error_exitcode=77 \
	    -timeout_exitcode=78 -timeout=25 -print_final_stats=1 \
	    -artifact_prefix="$artifacts/" "$work/corpus" \
	    >"$work/log" 2>&1
	rc=$?

	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" |
	    tail -n 1)
	ncorpus=$(find "$work/corpus" -type f | wc -l)
	if [ $rc -eq 0 ]; then
		rmdir "$artifacts" 2>/dev/null
		echo "fuzz: $name ok: ${runs:-?} runs in ${secs}s," \
		    "corpus $nseeds -> $ncorpus"
	else
		failed=$((failed + 1))
		cp "$work/log" "$artifacts/log"
		echo "fuzz: $name FAILED (exit $rc) after ${runs:-?} runs;" \
		    "log and inputs in $artifacts/"
		grep -m 1 -E 'ERROR: |SUMMARY: |deadly signal' "$work/log" |
		    sed 's/^/fuzz:   /'
	fi
done

if [ $targets -eq 0 ]; then
	echo "fuzz: no fuzz_* executables in $build" >&2
	exit 2
fi
[ $failed -eq 0 ] || exit 1
exit 0
