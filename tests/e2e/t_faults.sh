#!/bin/bash
# shellcheck disable=SC2317 # functions called through timed/at_exit look unreachable
# Guest test: the target's bad days (issue 12), each a check that fails when it breaks.
#   tests/e2e/run-vm.sh tests/e2e/t_faults.sh
# 1. Power cut: a host writes numbered 4 KiB blocks one by one with O_DIRECT|O_DSYNC (FUA
#    on the wire), and a region that it then flushes; nvmf_tgt gets kill -9 at a random
#    moment and is restarted from the same config; the host reconnects by itself; every
#    block acknowledged before the kill, and the flushed region, read back intact.
#    Identify says there is a volatile write cache (a file namespace: O_DIRECT data sits
#    in the disk's cache until Flush/FUA), so the host does send FUA and Flush.
# 2. Churn: E2E_CHURN_CYCLES (500) connect/disconnect cycles of a host with two I/O queues
#    against the ASan/LSan/UBSan build: the target's RSS stays flat, its QP/CQ/MR/PD counts
#    are back to their start values, and it exits 0 on SIGTERM with no sanitizer report.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NQN=nqn.2016-06.io.spdk:faults
CONFIG=/tmp/e2e-faults.json
TGT_LOG=$E2E_RESULTS/nvmf_tgt_faults.log
ASAN_TGT=${E2E_ASAN_TGT:-$E2E_ROOT/build/nvmf_tgt_asan}
CYCLES=${E2E_CHURN_CYCLES:-500}
NS_MB=64
BLOCKS_MAX=4000          # the writer stops here if the kill has not come
FLUSH_OFF_MB=32          # the flushed region: 1 MiB there
TGT_PID=
TGT_BIN=

# No quarantine: freed memory is reused at once, so RSS shows what is really held.
asan_env quarantine_size_mb=0

write_config() {
    cat >"$CONFIG" <<EOF
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_aio_create", "params": {"name": "aio0", "filename": "$E2E_DISK_MNT/faults.img", "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "RDMA"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN", "allow_any_host": true, "serial_number": "FAULTS00000000001"}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$NQN", "namespace": {"nsid": 1, "bdev_name": "aio0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$NQN", "listen_address": {"trtype": "RDMA", "adrfam": "IPv4", "traddr": "$E2E_ADDR", "trsvcid": "$E2E_PORT"}}}]}]}
EOF
}

tgt_start() { # BINARY
    TGT_BIN=$1
    log "starting $TGT_BIN -c $CONFIG (log: $TGT_LOG)"
    "$TGT_BIN" --no-huge -s 256 -r /var/tmp/e2e-faults.sock -c "$CONFIG" >>"$TGT_LOG" 2>&1 &
    TGT_PID=$!
    NVMF_TGT_PID=$TGT_PID
    NVMF_TGT_LOG=$TGT_LOG
    target_wait_listen nvmf_tgt
}
tgt_kill() { [[ -z $TGT_PID ]] || kill -KILL "$TGT_PID" 2>/dev/null || true; }

# ---- 1. power cut ----------------------------------------------------------------------------
# The 4 KiB content of block N (no pipe: pipefail would see yes(1)'s SIGPIPE).
block() {
    local s out= k
    printf -v s '%-32s' "power-cut block $1"
    for ((k = 0; k < 128; k++)); do out+=$s; done
    printf '%s' "$out"
}

# Write blocks 0, 1, ... each O_DIRECT|O_DSYNC; after each acknowledged one, its number
# goes to /tmp/e2e-faults-acked. A write that fails (the target is gone) is tried again
# (90 s at most): only an acknowledged write counts. Stops at /tmp/e2e-faults-stop or
# BLOCKS_MAX.
writer() {
    local i try
    for ((i = 0; i < BLOCKS_MAX; i++)); do
        [[ -e /tmp/e2e-faults-stop ]] && break
        for ((try = 0; ; try++)); do
            block "$i" | dd of="$1" bs=4096 seek="$i" count=1 oflag=direct,dsync \
                status=none 2>/dev/null && break
            ((try < 450)) || { echo "write $i failed for 90 s" >/tmp/e2e-faults-writer-error; return 1; }
            sleep 0.2
        done
        echo "$i" >/tmp/e2e-faults-acked
    done
}
acked_beyond() { (($(cat /tmp/e2e-faults-acked 2>/dev/null || echo -1) > $1)); }

# (Files, not <(...): the guest's /dev has no /dev/fd.)
check_blocks() { # DEV LAST
    local i bad=0 got=/tmp/e2e-faults-got want=/tmp/e2e-faults-want
    for ((i = 0; i <= $2; i++)); do
        dd if="$1" of="$got" bs=4096 skip="$i" count=1 iflag=direct status=none
        block "$i" >"$want"
        if ! cmp -s "$got" "$want"; then
            ((bad++ > 0)) || log "block $i differs: read '$(head -c 48 "$got")'"
        fi
    done
    ((bad == 0)) || fail "$bad of the $(($2 + 1)) blocks acknowledged before the kill are lost or wrong"
}

power_cut() {
    local ctrl dev vwc kill_at acked wpid sum
    write_config
    truncate -s "${NS_MB}M" "$E2E_DISK_MNT/faults.img"
    tgt_start "$NVMF_TGT"
    host_connect "$NQN" "$A_NQN" "$A_ID" --ctrl-loss-tmo=120 --reconnect-delay=1 >/dev/null ||
        fail "nvme connect"
    at_exit "nvme disconnect -n $NQN"
    dev=$(wait_nvme_dev "$NQN")
    ctrl=$(nvme_ctrl "$NQN" "$A_NQN")
    vwc=$(nvme id-ctrl "/dev/$ctrl" | awk '$1 == "vwc" { print $3 }')
    log "Identify: $(nvme id-ctrl "/dev/$ctrl" | grep -E "^(vwc|oncs|fuses) ")"
    (( (vwc & 1) == 1 )) || fail "Identify VWC is $vwc: a file namespace has a volatile cache (disk)"
    pass "Identify says there is a volatile write cache ($vwc): the host sends FUA and Flush"

    # A region written, then flushed: acknowledged by the Flush.
    head -c 1M /dev/urandom >/tmp/e2e-faults-flushed.bin
    dd if=/tmp/e2e-faults-flushed.bin of="$dev" bs=1M seek="$FLUSH_OFF_MB" oflag=direct status=none ||
        fail "write of the region to flush"
    nvme flush "/dev/$ctrl" -n 1 >/dev/null || fail "nvme flush"
    sum=$(sha256sum </tmp/e2e-faults-flushed.bin)

    rm -f /tmp/e2e-faults-stop /tmp/e2e-faults-acked /tmp/e2e-faults-writer-error
    writer "$dev" &
    wpid=$!
    kill_at=$((2 + RANDOM % 4))
    sleep "$kill_at"
    acked=$(cat /tmp/e2e-faults-acked 2>/dev/null || echo -1)
    kill -KILL "$TGT_PID"
    wait "$TGT_PID" 2>/dev/null || true
    log "kill -9 after ${kill_at} s, block $acked acknowledged last"
    ((acked >= 10)) || fail "only $((acked + 1)) blocks written in ${kill_at} s: too few to tell"
    tgt_start "$NVMF_TGT"
    timed reconnect wait_for 90 "the host's writes to go on after the restart" \
        acked_beyond $((acked + 5))
    pass "the host reconnected by itself and its writes go on (${TIMED_S} s after the restart)"
    touch /tmp/e2e-faults-stop
    wait "$wpid" || fail "the writer failed: $(cat /tmp/e2e-faults-writer-error 2>/dev/null)"
    check_blocks "$dev" "$acked"
    pass "all $((acked + 1)) blocks acknowledged (FUA) before the kill -9 read back intact"
    assert_eq "the region flushed before the kill -9 reads back intact" "$sum" \
        "$(dd if="$dev" bs=1M skip="$FLUSH_OFF_MB" count=1 iflag=direct status=none | sha256sum)"
    host_disconnect "$NQN"
    kill -TERM "$TGT_PID"
    wait "$TGT_PID" || fail "nvmf_tgt exit status $? after SIGTERM"
    TGT_PID=
}

# ---- 2. churn ----------------------------------------------------------------------------------
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$TGT_PID/status"; }

churn() {
    local i base rss_early= rss now
    [[ -x $ASAN_TGT ]] || fail "no $ASAN_TGT: build it first (make build/nvmf_tgt_asan)"
    tgt_start "$ASAN_TGT"
    base=$(rdma_objs "$TGT_PID")
    for ((i = 1; i <= CYCLES; i++)); do
        host_connect "$NQN" "$B_NQN" "$B_ID" --nr-io-queues=2 >/dev/null ||
            fail "cycle $i: nvme connect"
        wait_nvme_dev "$NQN" >/dev/null || fail "cycle $i: no namespace"
        host_disconnect "$NQN" || fail "cycle $i: nvme disconnect"
        kill -0 "$TGT_PID" 2>/dev/null || { tail -n 40 "$TGT_LOG"; fail "the target died at cycle $i"; }
        # RSS after the allocator has warmed up, then at the end.
        ((i == CYCLES / 10)) && rss_early=$(rss_kib)
        ((i % 100 == 0)) && log "churn: $i cycles, RSS $(rss_kib) KiB"
    done
    rss=$(rss_kib)
    log "churn: RSS $rss_early KiB after $((CYCLES / 10)) cycles, $rss KiB after $CYCLES"
    ((rss - rss_early < 8192)) || fail "RSS grew by $((rss - rss_early)) KiB over the cycles"
    pass "$CYCLES connect/disconnect cycles: RSS flat ($rss_early -> $rss KiB)"
    assert_rdma_objs_back "$TGT_PID" "$base"
    kill -TERM "$TGT_PID"
    local rc=0
    wait "$TGT_PID" || rc=$?
    TGT_PID=
    assert_eq "nvmf_tgt_asan exits 0 after SIGTERM (no sanitizer report)" 0 "$rc"
    no_sanitizer_report "$TGT_LOG"
    pass "no ASan/LSan/UBSan report after $CYCLES cycles"
}

main() {
    require_guest
    require_cmd nvme dd cmp sha256sum rdma
    require_module nvme-rdma
    rxe_up
    disk_mount
    new_host A
    new_host B
    at_exit tgt_kill
    timed power_cut power_cut
    timed churn churn
    finish
}

main "$@"
