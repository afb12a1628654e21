#!/usr/bin/env bash
# Run each unit-test binary; print one summary line for all of them.
set -uo pipefail
passed=0 failed=0
for t in "$@"; do
	echo "== $t"
	if "$t"; then
		passed=$((passed + 1))
	else
		echo "FAILED: $t" >&2
		failed=$((failed + 1))
	fi
done
echo "unit: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
