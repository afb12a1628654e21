#!/bin/bash
# shellcheck disable=SC2317 # functions called through at_exit look unreachable
# Guest test: poll groups (issue 11). The sanitizer build of nvmf_tgt runs with -m 0x3: poll
# group 0 on the main thread (CPU 0), poll group 1 on a thread pinned to CPU 1. Three hosts
# connect with two I/O queues each and run fio with crc32c verify; admin queues and I/O
# queue 1 stay on group 0, I/O queue 2 goes to group 1 (the target's log says where each went).
# Under that I/O: host B's controller is reset, host C leaves, a namespace is added and
# removed, and a subsystem with a connected host is deleted; A's and B's fio must pass
# verify throughout. Then: the target idle for 5 s costs at most 5% of one CPU, every QP/CQ/
# MR/PD is back to its start count once the hosts are gone, and SIGTERM with a host connected
# exits 0 with no sanitizer report.
#   tests/e2e/run-vm.sh tests/e2e/t_multicore.sh
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NQN_PREFIX=nqn.2016-06.io.spdk:mc
CONFIG=/tmp/e2e-multicore.json
HOSTS=(A B C)

write_config() {
    local h sep=
    {
        echo '{"subsystems": [{"subsystem": "bdev", "config": ['
        for h in "${HOSTS[@]}" X; do
            printf '%s{"method": "bdev_malloc_create", "params": {"name": "Mal%s", "num_blocks": 65536, "block_size": 512}}\n' "$sep" "$h"
            sep=,
        done
        echo ']}, {"subsystem": "nvmf", "config": ['
        echo '{"method": "nvmf_create_transport", "params": {"trtype": "RDMA"}}'
        for h in "${HOSTS[@]}"; do
            cat <<EOF
,{"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN_PREFIX$h", "allow_any_host": true, "serial_number": "MULTICORE0000000$h"}}
,{"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$NQN_PREFIX$h", "namespace": {"nsid": 1, "bdev_name": "Mal$h"}}}
,{"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$NQN_PREFIX$h", "listen_address": {"trtype": "RDMA", "adrfam": "IPv4", "traddr": "$E2E_ADDR", "trsvcid": "$E2E_PORT"}}}
EOF
        done
        echo ']}]}'
    } >"$CONFIG"
}

rpc() { "$NVMF_RPC" -s "$NVMF_TGT_SOCK" "$@"; }
log_count() { grep -c -- "$1" "$NVMF_TGT_LOG" || true; }
connect() { # HOST
    local nqn id
    nqn=${1}_NQN id=${1}_ID
    nvme connect -t rdma -a "$E2E_ADDR" -s "$E2E_PORT" -n "$NQN_PREFIX$1" \
        --hostnqn "${!nqn}" --hostid "${!id}" --nr-io-queues=2 >/dev/null
}
ticks() { awk '{ print $14 + $15 }' "/proc/$NVMF_TGT_PID/stat"; }
ns_count() { ls "/sys/class/nvme-subsystem/$1/" | grep -c 'nvme[0-9]*n[0-9]' || true; }
# ns_count_is SUBSYS OP N: counted anew on each call (wait_for calls it until it holds).
ns_count_is() { test "$(ns_count "$1")" "$2" "$3"; }
subsys_of() { # NQN: the nvme-subsystemN folder name
    local s
    for s in /sys/class/nvme-subsystem/*/; do
        [[ $(cat "$s/subsysnqn") == "$1" ]] && { basename "$s"; return 0; }
    done
    return 1
}

require_guest
rxe_up
write_config
NVMF_TGT_LOG=$E2E_RESULTS/nvmf_tgt_multicore.log
NVMF_TGT_SOCK=/var/tmp/e2e-multicore.sock
use_asan_target
E2E_NVMF_TGT_ARGS="--no-huge -s 512 -m 0x3 -L info"
nvmf_tgt_exec "$CONFIG"
at_exit target_stop nvmf_tgt
target_wait_listen nvmf_tgt
base=$(rdma_objs "$NVMF_TGT_PID")
log "the target's verbs objects at start: $base"
psr=$(ps -L -o psr=,comm= -p "$NVMF_TGT_PID" | awk '$2 == "nvmf_pg1" { print $1 }')
assert_eq "poll group 1's thread runs on CPU 1" 1 "$psr"

for h in "${HOSTS[@]}"; do
    new_host "$h"
    connect "$h" || fail "host $h: nvme connect"
    at_exit host_disconnect "$NQN_PREFIX$h"
done
for h in "${HOSTS[@]}"; do
    printf -v "DEV_$h" '%s' "$(wait_nvme_dev "$NQN_PREFIX$h")"
done
g1=$(log_count "on poll group 1 (CPU 1)")
all=$(log_count "accepted host queue")
log "host queues: $all accepted, $g1 of them on poll group 1"
assert_eq "nine host queues accepted" 9 "$all"
q2=$(log_count "host queue 2 (QP 0x[0-9a-f]*) on poll group 1 (CPU 1)")
((g1 == 3 && q2 == 3)) || fail "$g1 of 9 queues on poll group 1, $q2 of them I/O queue 2: want each host's queue 2 there, nothing else"
pass "the queues are spread over both poll groups (each host's I/O queue 2 on group 1)"
stats=$(rpc nvmf_get_stats) || fail "nvmf_get_stats"
per_group=$(jq -c '[.poll_groups[] | .current_admin_qpairs + .current_io_qpairs]' <<<"$stats")
assert_eq "nvmf_get_stats: one entry per poll group, with the queues the log shows" \
    "[$((9 - g1)),$g1]" "$per_group"

for h in "${HOSTS[@]}"; do
    dev=DEV_$h
    fio_bg "FIO_$h" "host$h" "${!dev}" "/tmp/e2e-mc-fio-$h.log" --rw=randrw --size=16M \
        --verify_backlog=256 --numjobs=1
done
sleep 3

# Reset host B's controller under I/O: every queue goes and comes back.
ctrl_b=$(nvme_ctrl "$NQN_PREFIX"B "$B_NQN")
echo 1 >"/sys/class/nvme/$ctrl_b/reset_controller" || fail "reset of host B's controller"
b_live() { nvme_ctrl "$NQN_PREFIX"B "$B_NQN" >/dev/null; }
wait_for 30 "host B's controller live again" b_live
pass "host B's controller was reset under I/O"

# Host C leaves (its fio first), A and B go on.
fio_bg_end hostC "$FIO_C" /tmp/e2e-mc-fio-C.log "host C's fio passed verify"
host_disconnect "$NQN_PREFIX"C || fail "host C: disconnect"
pass "host C left"

# A namespace added to A's subsystem and removed again, under A's I/O.
sub_a=$(subsys_of "$NQN_PREFIX"A)
rpc nvmf_subsystem_add_ns nqn="str:${NQN_PREFIX}A" namespace.bdev_name=MalX namespace.nsid=2 \
    >/dev/null || fail "nvmf_subsystem_add_ns"
wait_for 20 "host A seeing namespace 2" ns_count_is "$sub_a" -ge 2
ns2=$(ls "/sys/class/nvme-subsystem/$sub_a/" | grep -m1 'nvme[0-9]*n2$') ||
    fail "host A: no block device for namespace 2"
dd if="/dev/$ns2" of=/dev/null bs=4k count=16 iflag=direct status=none ||
    fail "host A: read of namespace 2"
rpc nvmf_subsystem_remove_ns nqn="str:${NQN_PREFIX}A" nsid=2 >/dev/null ||
    fail "nvmf_subsystem_remove_ns"
wait_for 20 "namespace 2 gone from host A" ns_count_is "$sub_a" -le 1
pass "a namespace came and went under I/O"

# C connects again; its subsystem is deleted under it while A and B run.
connect C || fail "host C: connect again"
wait_nvme_dev "$NQN_PREFIX"C >/dev/null
rpc nvmf_delete_subsystem nqn="str:${NQN_PREFIX}C" >/dev/null || fail "nvmf_delete_subsystem"
wait_for 30 "host C's controller gone" eval "! nvme_ctrl ${NQN_PREFIX}C $C_NQN >/dev/null"
nvme disconnect -n "$NQN_PREFIX"C >/dev/null 2>&1 || true
pass "a subsystem was deleted under a connected host"

sleep 2
fio_bg_end hostA "$FIO_A" /tmp/e2e-mc-fio-A.log "host A's fio passed verify through it all"
fio_bg_end hostB "$FIO_B" /tmp/e2e-mc-fio-B.log "host B's fio passed verify through it all"

# Idle: both groups asleep.
sleep 1
t0=$(ticks)
sleep 5
t1=$(ticks)
log "idle 5 s: $((t1 - t0)) CPU ticks (100 per CPU-second)"
(((t1 - t0) <= 25)) || fail "idle with two poll groups the target used $((t1 - t0)) ticks in 5 s (> 5%)"
pass "idle with two poll groups: $((t1 - t0)) ticks in 5 s"

for h in A B; do host_disconnect "$NQN_PREFIX$h" || fail "host $h: disconnect"; done
assert_rdma_objs_back "$NVMF_TGT_PID" "$base"
# SIGTERM with a host connected (its AERs held by the core, its queues on both groups).
connect A || fail "host A: connect again"
wait_nvme_dev "$NQN_PREFIX"A >/dev/null
asan_target_stop
finish
