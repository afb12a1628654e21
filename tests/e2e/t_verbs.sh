#!/bin/bash
# Guest test: user-space verbs over soft-RoCE, the way the target uses them.
#   tests/e2e/run-vm.sh tests/e2e/t_verbs.sh
# verbs_check (our program) must explain a missing RDMA device, then bind/listen/PD/MR/CQ on
# the rxe address; rping (rdmacm-utils) must pass data between a server and a client.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RPING_COUNT=5

check_no_device_message() {
    local out
    if out=$("$VERBS_CHECK" "$E2E_ADDR" 2>&1); then
        fail "verbs_check succeeded with no RDMA device"
    fi
    grep -q 'no RDMA device: create one with rdma link add' <<<"$out" ||
        fail "verbs_check without a device says: $out"
    pass "verbs_check names the missing RDMA device"
}

check_verbs() {
    local out
    out=$("$VERBS_CHECK" "$E2E_ADDR" "$E2E_PORT" 2>&1) || {
        printf '%s\n' "$out"
        fail "verbs_check on $E2E_ADDR"
    }
    printf '%s\n' "$out"
    pass "verbs_check: listen, PD, MR, CQ on $E2E_RDMA_DEV"
}

# shellcheck disable=SC2317 # called through timed
rping_client() {
    timeout 30 rping -c -a "$E2E_ADDR" -C "$RPING_COUNT" -v >/tmp/rping-client.log 2>&1
}

check_rping() {
    local srv
    timeout 30 rping -s -a "$E2E_ADDR" -C "$RPING_COUNT" >/tmp/rping-server.log 2>&1 &
    srv=$!
    at_exit "kill $srv"
    sleep 0.5
    timed rping rping_client ||
        { cat /tmp/rping-client.log /tmp/rping-server.log; fail "rping client"; }
    wait "$srv" || { cat /tmp/rping-server.log; fail "rping server"; }
    local n
    n=$(grep -c 'ping data' /tmp/rping-client.log || true)
    assert_eq "rping client saw $RPING_COUNT pings" "$RPING_COUNT" "$n"
}

main() {
    require_guest
    require_cmd rping ibv_devices
    [[ -x $VERBS_CHECK ]] || fail "no $VERBS_CHECK: build it first (make e2e builds it)"
    check_no_device_message
    timed rxe_up rxe_up
    ibv_devices
    check_verbs
    check_rping
    finish
}

main "$@"
