#!/bin/bash
# shellcheck disable=SC2317 # functions called through timed/at_exit look unreachable
# shellcheck disable=SC2153 # A_NQN, H1_NQN, H2_NQN are set by new_host
# Guest test: hostile input (issue 12).
#   tests/e2e/run-vm.sh tests/e2e/t_hostile.sh
# nvmf_tgt runs with small limits (max_queue_depth 32, max_io_qpairs_per_ctrlr 2,
# max_srq_depth 64, SRQ on) and two subsystems: one where a kernel host runs fio with
# crc32c verify, one where rdma_hostile (a raw librdmacm/verbs NVMe-oF host, built by
# `make e2e` as build/tests/rdma_hostile, $RDMA_HOSTILE) runs its cases at the same time:
# unknown opcodes and fctypes, fused commands, PRP/reserved PSDT, every bad SGL, capsules
# larger than the receive buffer, commands before Connect, a second Connect, an I/O
# opcode on the admin queue, refused Connects, queues and commands over the limits (a
# queue sent 3x its depth is dropped). Every case must PASS (its exact status, reject or
# disconnect), the kernel host must not be reset during them, fio must pass verify with no
# I/O error, the target must still run, each fault must be logged exactly once (a few
# representative messages counted), its QP/CQ/MR counts must be back to where they were
# once the hostile host is gone, and SIGTERM must give exit status 0. The legitimate SRQ
# overload (srq_overflow) runs last, on its own: see the comment in main.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

HOSTILE=${RDMA_HOSTILE:-$E2E_ROOT/build/tests/rdma_hostile}
FIO_NQN=nqn.2016-06.io.spdk:hostile-fio
H_NQN=nqn.2016-06.io.spdk:hostile
CONFIG=/tmp/e2e-hostile.json
TGT_LOG=$E2E_RESULTS/nvmf_tgt_hostile.log
H_LOG=$E2E_RESULTS/rdma_hostile.log
QD=32            # max_queue_depth
IOQ=2            # max_io_qpairs_per_ctrlr
SRQ=64           # max_srq_depth
ICD=4096         # in_capsule_data_size
MAX_IO=131072    # max_io_size
CASES=44         # rdma_hostile's cases
FIO_STOP=/tmp/e2e-hostile-fio-stop
FIO_RUNS=/tmp/e2e-hostile-fio-runs
TGT_PID=
FIO_PID=

write_config() {
    local listen="\"listen_address\": {\"trtype\": \"RDMA\", \"adrfam\": \"IPv4\", \"traddr\": \"$E2E_ADDR\", \"trsvcid\": \"$E2E_PORT\"}"
    cat >"$CONFIG" <<EOF
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_aio_create", "params": {"name": "aio0", "filename": "$E2E_DISK_MNT/hostile.img", "block_size": 512}},
    {"method": "bdev_malloc_create", "params": {"name": "mal0", "num_blocks": 16384, "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "RDMA", "max_queue_depth": $QD,
      "max_io_qpairs_per_ctrlr": $IOQ, "max_srq_depth": $SRQ, "in_capsule_data_size": $ICD,
      "max_io_size": $MAX_IO}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$FIO_NQN", "allow_any_host": true, "serial_number": "HOSTILE0000000001"}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$FIO_NQN", "namespace": {"nsid": 1, "bdev_name": "aio0"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$FIO_NQN", $listen}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$H_NQN", "allow_any_host": false, "serial_number": "HOSTILE0000000002"}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$H_NQN", "namespace": {"nsid": 1, "bdev_name": "mal0"}}},
    {"method": "nvmf_subsystem_add_host", "params": {"nqn": "$H_NQN", "host": "$H1_NQN"}},
    {"method": "nvmf_subsystem_add_host", "params": {"nqn": "$H_NQN", "host": "$H2_NQN"}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$H_NQN", $listen}}]}]}
EOF
}

# The sanitizer build: hostile input is where memory errors hide (lib.sh).
tgt_start() {
    use_asan_target
    log "starting $NVMF_TGT -L info -c $CONFIG (log: $TGT_LOG)"
    "$NVMF_TGT" --no-huge -s 256 -L info -r /var/tmp/e2e-hostile.sock -c "$CONFIG" \
        >>"$TGT_LOG" 2>&1 &
    TGT_PID=$!
    NVMF_TGT_PID=$TGT_PID
    NVMF_TGT_LOG=$TGT_LOG
    target_wait_listen nvmf_tgt
}
tgt_kill() { [[ -z $TGT_PID ]] || kill -KILL "$TGT_PID" 2>/dev/null || true; }

# ---- fio on the kernel host: 8 MiB runs of 4k random writes + crc32c verify, one after
# the other until $FIO_STOP exists; each run's exit status is appended to $FIO_RUNS.
fio_loop() {
    local i=0 rc
    while [[ ! -e $FIO_STOP ]]; do
        rc=0
        fio --name=hostile --filename="$1" --ioengine=libaio --direct=1 --rw=randwrite \
            --bs=4k --iodepth=16 --offset=$((i % 4 * 8))M --size=8M --verify=crc32c \
            --do_verify=1 --verify_fatal=1 >"/tmp/e2e-hostile-fio-$i.log" 2>&1 || rc=$?
        echo "$i $rc" >>"$FIO_RUNS"
        ((rc == 0)) || return 0
        i=$((i + 1))
    done
}
fio_kill() { [[ -z $FIO_PID ]] || kill -KILL "$FIO_PID" 2>/dev/null || true; }

# log_count N "what" FIXED-STRING: the target logged the line exactly N times.
log_count() {
    local n
    n=$(grep -cF -- "$3" "$TGT_LOG") || true
    ((n == $1)) || { grep -nF -- "$3" "$TGT_LOG" | head -5; check_fail "$2: '$3' logged $n times, expected $1"; return 0; }
    pass "$2 logged exactly $1 time(s)"
}

# run_hostile OPTION CASE: every case but srq_overflow (-x), or only it (-o).
run_hostile() {
    local rc=0
    "$HOSTILE" -a "$E2E_ADDR" -p "$E2E_PORT" -n "$H_NQN" -h "$H1_NQN" -H "$H2_NQN" -d "$QD" \
        -Q "$IOQ" -S "$SRQ" -c "$ICD" -m "$MAX_IO" -b 512 "$@" >>"$H_LOG" 2>&1 || rc=$?
    return "$rc"
}

check_logs() {
    log_count 1 "the bidirectional opcode" "opcode 0x83 (bidirectional) not supported"
    log_count 1 "the unknown I/O opcode" "I/O opcode 0x84 not supported"
    log_count 1 "the unknown admin opcode" "admin opcode 0xc4 not supported"
    log_count 1 "the unknown fctype" "fabrics command type 0x7c not supported"
    log_count 2 "the fused commands" "fused command refused"
    log_count 2 "the PRP and reserved PSDTs" "does not use SGLs"
    log_count 1 "the unknown SGL type" "SGL type 0xe subtype 0x0 not supported"
    log_count 1 "the keyed SGL subtype" "keyed SGL with subtype 0x2"
    log_count 1 "the keyed SGL over max_io_size" "is over max_io_size"
    log_count 1 "the oversized capsule on the I/O queue" "qid 1: receive failed"
    log_count 1 "the oversized capsule on the admin queue" "qid 0: receive failed"
    log_count 1 "the second Connect on an admin queue" "qid 0: second Connect"
    log_count 1 "the second Connect on an I/O queue" "qid 1: second Connect"
    log_count 1 "the Property Get before Connect" "fabrics command 0x4 before Connect"
    log_count 1 "the I/O Connect to no controller" "has no controller"
    log_count 1 "the I/O Connect of another host" "is not the owner of cntlid"
    log_count 2 "the hosts not allowed" "is not allowed on $H_NQN"
    log_count 1 "the subsystem that does not exist" "no subsystem nqn.2016-06.io.spdk:no-such-subsystem"
    log_count 1 "the Connect sqsize over max_queue_depth" "sqsize $QD over max_queue_depth"
    log_count 1 "the CM hsqsize over max_queue_depth" "invalid HSQSIZE"
    log_count 1 "the CM qid over max_io_qpairs_per_ctrlr" "invalid QID"
    log_count 1 "the queue over its depth" "the host sent more than $QD commands"
}

# dev_ios DEV: reads + writes completed on the namespace's paths (the head node keeps none).
dev_ios() {
    local n=${1##*/}
    cat /sys/block/"${n%n*}"c*n"${n##*n}"/stat 2>/dev/null | awk '{ s += $1 + $5 } END { print s + 0 }'
}
dev_busy() { (($(dev_ios "$1") > 0)); }
# resets: how many times the kernel host started error recovery (a reconnect).
resets() { dmesg | grep -c 'starting error recovery' || true; }

main() {
    local dev base now i ios r0 h_rc=0 rc=0 fails
    require_guest
    require_cmd nvme fio rdma
    require_module nvme-rdma
    [[ -x $HOSTILE ]] || fail "no $HOSTILE: build it first (make build/tests/rdma_hostile)"
    rxe_up
    disk_mount
    new_host A
    new_host H1
    new_host H2
    truncate -s 64M "$E2E_DISK_MNT/hostile.img"
    write_config
    at_exit tgt_kill
    tgt_start

    host_connect "$FIO_NQN" "$A_NQN" "$A_ID" --nr-io-queues="$IOQ" --queue-size="$QD" \
        >/dev/null || fail "nvme connect (kernel host)"
    at_exit "nvme disconnect -n $FIO_NQN"
    dev=$(wait_nvme_dev "$FIO_NQN")
    base=$(rdma_objs "$TGT_PID")
    log "the target's verbs objects with the kernel host connected: $base"

    rm -f "$FIO_STOP" "$FIO_RUNS"
    fio_loop "$dev" &
    FIO_PID=$!
    at_exit fio_kill
    wait_for 30 "fio to start its I/O" dev_busy "$dev"
    ios=$(dev_ios "$dev")
    r0=$(resets)
    rm -f "$H_LOG"
    timed hostile run_hostile -x srq_overflow || h_rc=$?
    ((r0 == $(resets))) || check_fail "the kernel host's controller was reset during the hostile cases (dmesg)"
    # Legitimate overload: more receives wanted than the SRQ holds, so every queue on the
    # device (the kernel host's too) gets RNR NAKs until receives come back. The kernel
    # host may then hit soft-RoCE's "rxe_reg_fast_mr: ... not free" and reconnect (its
    # I/O is requeued, fio must still pass): counted, not failed.
    r0=$(resets)
    timed hostile_srq run_hostile -o srq_overflow || h_rc=$?
    (($(resets) == r0)) || log "the kernel host reconnected during srq_overflow (SRQ exhausted, RNR; see dmesg)"
    timing kernel_host_resets_srq_overflow $(($(resets) - r0))
    (($(dev_ios "$dev") > ios)) || check_fail "fio did no I/O while the hostile host ran"
    kill -0 "$FIO_PID" 2>/dev/null || check_fail "fio ended before the hostile host"
    touch "$FIO_STOP"
    cat "$H_LOG"
    ((h_rc != 0)) || (($(grep -c '^PASS [a-z]' "$H_LOG") == CASES)) ||
        check_fail "rdma_hostile ran $(grep -c '^PASS [a-z]' "$H_LOG") cases, expected $CASES"
    if ((h_rc != 0)) || grep -q '^FAIL' "$H_LOG"; then
        check_fail "rdma_hostile: exit status $h_rc, $(grep -c '^FAIL' "$H_LOG" || true) case(s) failed"
    fi
    fails=$(grep -c '^PASS' "$H_LOG" || true)
    pass "rdma_hostile: $fails cases passed"
    kill -0 "$TGT_PID" 2>/dev/null || { tail -n 40 "$TGT_LOG"; fail "the target died under the hostile host"; }
    target_listening || fail "the target no longer listens"
    pass "the target survived the hostile host and still listens"

    for ((i = 0; i < 600; i++)); do
        kill -0 "$FIO_PID" 2>/dev/null || break
        sleep 0.1
    done
    kill -0 "$FIO_PID" 2>/dev/null && fail "fio still runs 60 s after the hostile host ended"
    FIO_PID=
    [[ -s $FIO_RUNS ]] || fail "fio did not complete a single run"
    if awk '$2 != 0 { bad = 1 } END { exit !bad }' "$FIO_RUNS"; then
        i=$(awk '$2 != 0 { print $1; exit }' "$FIO_RUNS")
        tail -n 30 "/tmp/e2e-hostile-fio-$i.log"
        fail "fio run $i failed (I/O or verify error) beside the hostile host"
    fi
    grep -l 'verify: bad\|crc32c: verify failed\|io_u error' /tmp/e2e-hostile-fio-*.log &&
        fail "fio reported verify or I/O errors"
    pass "fio: $(wc -l <"$FIO_RUNS") runs of 8 MiB 4k random writes with crc32c verify passed beside the hostile host"

    assert_rdma_objs_back "$TGT_PID" "$base"
    check_logs

    host_disconnect "$FIO_NQN" || fail "nvme disconnect"
    kill -TERM "$TGT_PID"
    wait "$TGT_PID" || rc=$?
    TGT_PID=
    assert_eq "nvmf_tgt exits 0 after SIGTERM (0: no sanitizer report)" 0 "$rc"
    no_sanitizer_report "$TGT_LOG"
    pass "no ASan/LSan/UBSan report in the target's log"
    finish
}

main "$@"
