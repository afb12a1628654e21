#!/usr/bin/env bash
# Run each libFuzzer harness for SECS seconds on its seed corpus.
#   tests/fuzz/run.sh SECS OUTDIR FUZZER...
# Seeds: tests/fuzz/corpus/NAME (read only); what the run finds goes to OUTDIR/corpus/NAME,
# a crash to OUTDIR/crash-NAME-*. The last line is "fuzz: N passed, N failed".
set -uo pipefail
secs=$1 out=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
passed=0 failed=0
for f in "$@"; do
	name=$(basename "$f")
	mkdir -p "$out/corpus/$name"
	log=$out/$name.log
	if "$f" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$out/crash-$name-" "$out/corpus/$name" "$here/corpus/$name" \
		>"$log" 2>&1; then
		passed=$((passed + 1))
		echo "fuzz: $name: $(grep -m1 'stat::number_of_executed_units' "$log" | awk '{print $2}') runs in ${secs} s, no crash"
	else
		failed=$((failed + 1))
		echo "fuzz: $name: FAILED (log $log; the input is $out/crash-$name-*):"
		grep -E 'ERROR|SUMMARY|runtime error' "$log" | head -5
	fi
done
echo "fuzz: $passed passed, $failed failed"
((failed == 0))
