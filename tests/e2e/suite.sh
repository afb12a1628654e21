#!/bin/bash
# Run e2e guest scripts, each in its own VM boot, and print a summary:
#   tests/e2e/suite.sh TEST...      TEST = script[:arg[:arg...]], e.g. t_basic.sh:kernel
# Scripts are taken from tests/e2e/ unless given with a path. The last line is
# "e2e: N passed, N failed"; the exit code is 1 when any test failed or timed out.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${E2E_WORK:-$ROOT/build/e2e}
LOGS=$WORK/logs

PASSED=0
FAILED=0
SUMMARY=()

run_one() {
    local spec=$1 script args name log rc=0 t0
    IFS=: read -r -a args <<<"$spec"
    script=${args[0]}
    args=("${args[@]:1}")
    [[ $script == */* ]] || script=$HERE/$script
    name="$(basename "$script")${args[*]:+ ${args[*]}}"
    log=$LOGS/${name// /_}.log
    echo "=== e2e: $name"
    t0=$SECONDS
    "$HERE/run-vm.sh" "$script" "${args[@]}" 2>&1 | tee "$log" || rc=$?
    record "$name" "$rc" "$((SECONDS - t0))"
}

record() {
    local name=$1 rc=$2 secs=$3 verdict
    case $rc in
        0) verdict=PASS ;;
        124) verdict=TIMEOUT ;;
        125) verdict=NO-RESULT ;;
        *) verdict="FAIL($rc)" ;;
    esac
    if [[ $rc == 0 ]]; then PASSED=$((PASSED + 1)); else FAILED=$((FAILED + 1)); fi
    SUMMARY+=("$(printf '  %-10s %-28s %4d s' "$verdict" "$name" "$secs")")
}

main() {
    (($# > 0)) || { echo "usage: $0 TEST..." >&2; exit 2; }
    local t0=$SECONDS spec
    mkdir -p "$LOGS"
    for spec in "$@"; do
        run_one "$spec"
    done
    echo "=== e2e summary (logs in $LOGS)"
    printf '%s\n' "${SUMMARY[@]}"
    echo "TIMING e2e_tests_wall $((SECONDS - t0))"
    echo "e2e: $PASSED passed, $FAILED failed"
    ((FAILED == 0))
}

main "$@"
