#!/usr/bin/env bash
# Runs every fuzzer for a bounded time (make fuzz; never part of make check).
#   scripts/fuzz.sh BUILD/fuzz/fuzz_NAME...
# Each libFuzzer harness runs FUZZ_TIME seconds (default 60) from its seed
# corpus tests/fuzz/corpus/NAME/ (read only: what it learns goes to
# build/fuzz/corpus/NAME/), with tests/fuzz/NAME.dict when there is one. A crash
# is saved under build/fuzz/artifacts/ and fails the run: fix it, then add the
# input to tests/fuzz/corpus/NAME/ as a regression case. Then the BPF program
# fuzzer runs XPXE_FUZZ_ITERATIONS frames (default 3000000) under
# XPXE_FUZZ_SEED (default: a new seed each run, printed).
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here" || exit 1
time_each=${FUZZ_TIME:-60}
work=build/fuzz
failed=()

mkdir -p "$work/artifacts" "$work/logs"
for bin in "$@"; do
	name=$(basename "$bin")
	name=${name#fuzz_}
	seeds=tests/fuzz/corpus/$name
	corpus=$work/corpus/$name
	log=$work/logs/$name.log
	dict=()
	[ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
	mkdir -p "$corpus"
	rm -f "$work/artifacts/$name-"*
	echo "# fuzz $name: ${time_each}s from $seeds"
	# detect_leaks stays on: a leak per request is a daemon that grows until it dies.
	# libfyaml has no frame pointers: the harnesses that use it unwind the slow way,
	# so that tests/fuzz/lsan.supp can name the libfyaml function that leaks.
	asan=abort_on_error=1
	case $name in config | json) asan=$asan:fast_unwind_on_malloc=0 ;; esac
	LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$here/tests/fuzz/lsan.supp} \
		ASAN_OPTIONS=${ASAN_OPTIONS:-$asan} \
		UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
		"$bin" -max_total_time="$time_each" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$work/artifacts/$name-" "${dict[@]}" \
		"$corpus" "$seeds" >"$log" 2>&1
	rc=$?
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
	echo "  $name: ${runs:-?} executions in ${time_each}s, ${cov:-cov: ?}, exit $rc"
	if [ "$rc" -ne 0 ]; then
		grep -E 'ERROR|SUMMARY|invariant|runtime error' "$log" | head -5 | sed 's/^/  /'
		crashes=("$work/artifacts/$name-"*)
		echo "  crash input: ${crashes[*]} (log: $log)"
		failed+=("$name")
	fi
done

seed=${XPXE_FUZZ_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
iters=${XPXE_FUZZ_ITERATIONS:-3000000}
echo "# fuzz the BPF programs: $iters frames, XPXE_FUZZ_SEED=$seed"
start=$SECONDS
if XPXE_FUZZ_SEED=$seed XPXE_FUZZ_ITERATIONS=$iters build/tests/test_fuzz_xdp >"$work/logs/xdp.log" 2>&1; then
	echo "  xdp: $iters frames through xdp_pxe and tc_tftp in $((SECONDS - start))s, no violation"
else
	grep -E 'VIOLATION|written to|FAILED' "$work/logs/xdp.log" | head -8 | sed 's/^/  /'
	failed+=(xdp)
fi

if [ ${#failed[@]} -gt 0 ]; then
	echo "# fuzz: failures in ${failed[*]} (logs in $work/logs/)"
	exit 1
fi
echo "# fuzz: no crash, no violation"
