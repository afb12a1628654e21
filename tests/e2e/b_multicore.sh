#!/bin/bash
# Poll group benchmark (a report, not a pass/fail test; part of `make bench-e2e`): our target
# with one poll group (-m 0x1) against two (-m 0x3) in one VM boot, on the same jobs: two
# hosts at once, each on its own RAM namespace (4k random read QD32, 128k sequential read
# QD16). Both targets run side by side (ports 4421 and 4423), the one not measured
# SIGSTOPped (hosts keep a long keep-alive); rounds alternate the order. Per job: the median
# IOPS and MB/s of each, the ratio 0x3/0x1, and how idle each vCPU was during the rounds.
# Under emulation the hosts' kernel (nvme-rdma, soft-RoCE) and fio share the same two vCPUs:
# a second group can only win what the host leaves free, so read the ratio as "does the
# split cost or gain here", not as the scaling of a real NIC.
#   tests/e2e/run-vm.sh tests/e2e/b_multicore.sh
# Settings: E2E_BENCH_ROUNDS (5), E2E_BENCH_SECS (8), E2E_BENCH_RAMP (1).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ROUNDS=${E2E_BENCH_ROUNDS:-5}
SECS=${E2E_BENCH_SECS:-8}
RAMP=${E2E_BENCH_RAMP:-1}
OUT=$E2E_RESULTS/bench-multicore
MASKS=(0x1 0x3)
declare -A PORT=([0x1]=4421 [0x3]=4423) PID DEVS

config() { # MASK
    local h sep=
    {
        echo '{"subsystems": [{"subsystem": "bdev", "config": ['
        for h in 1 2; do
            printf '%s{"method": "bdev_malloc_create", "params": {"name": "M%s", "num_blocks": 262144, "block_size": 512}}\n' "$sep" "$h"
            sep=,
        done
        echo ']}, {"subsystem": "nvmf", "config": [{"method": "nvmf_create_transport", "params": {"trtype": "RDMA"}}'
        for h in 1 2; do
            cat <<EOF
,{"method": "nvmf_create_subsystem", "params": {"nqn": "nqn.2026-11.io.e2e:mc$1-$h", "allow_any_host": true}}
,{"method": "nvmf_subsystem_add_ns", "params": {"nqn": "nqn.2026-11.io.e2e:mc$1-$h", "namespace": {"nsid": 1, "bdev_name": "M$h"}}}
,{"method": "nvmf_subsystem_add_listener", "params": {"nqn": "nqn.2026-11.io.e2e:mc$1-$h", "listen_address": {"trtype": "RDMA", "adrfam": "IPv4", "traddr": "$E2E_ADDR", "trsvcid": "${PORT[$1]}"}}}
EOF
        done
        echo ']}]}'
    }
}

start() { # MASK
    local m=$1 h nqn id i d
    config "$m" >"/tmp/e2e-mc-$m.json"
    "$NVMF_TGT" --no-huge -s 512 -m "$m" -r "/var/tmp/e2e-mc-$m.sock" -c "/tmp/e2e-mc-$m.json" \
        >"$OUT/nvmf_tgt-$m.log" 2>&1 &
    PID[$m]=$!
    at_exit kill -KILL "${PID[$m]}"
    for ((i = 0; i < 300; i++)); do
        rdma resource show cm_id 2>/dev/null | grep 'state LISTEN' |
            grep -q "src-addr $E2E_ADDR:${PORT[$m]} " && break
        sleep 0.1
    done
    DEVS[$m]=
    for h in 1 2; do
        nqn=H${h}_NQN id=H${h}_ID
        nvme connect -t rdma -a "$E2E_ADDR" -s "${PORT[$m]}" -n "nqn.2026-11.io.e2e:mc$m-$h" \
            --hostnqn "${!nqn}" --hostid "${!id}" --nr-io-queues=2 --keep-alive-tmo=600 \
            >/dev/null || fail "host $h: connect to the $m target"
        at_exit nvme disconnect -n "nqn.2026-11.io.e2e:mc$m-$h"
        DEVS[$m]+=" $(wait_nvme_dev "nqn.2026-11.io.e2e:mc$m-$h")"
    done
    log "the $m target is up, its hosts connected:${DEVS[$m]}"
}

# Both targets up and every host's scan done before either is stopped: a command left
# waiting on a stopped target holds the host (and its next connects) for a timeout.
settle() {
    local m d
    sleep 3
    for m in "${MASKS[@]}"; do
        for d in ${DEVS[$m]}; do
            dd if="$d" of=/dev/null bs=4k count=1 iflag=direct status=none || fail "read $d"
        done
    done
    for m in "${MASKS[@]}"; do kill -STOP "${PID[$m]}"; done
}

idle_ticks() { awk -v c="cpu$1" '$1 == c { print $5 }' /proc/stat; }

# one MASK JOB ROUND: run the job against that target; append "job mask round iops MBps idle0 idle1".
one() {
    local m=$1 job=$2 r=$3 args d i0 i1 out
    case $job in
        rr4k_qd32) args=(--rw=randread --bs=4k --iodepth=32) ;;
        sr128k_qd16) args=(--rw=read --bs=128k --iodepth=16) ;;
    esac
    for d in ${DEVS[$m]}; do args+=(--name="${d##*/}" --filename="$d"); done
    kill -CONT "${PID[$m]}"
    sleep 1
    i0="$(idle_ticks 0) $(idle_ticks 1)"
    out=$(fio --output-format=json --group_reporting --ioengine=libaio --direct=1 \
        --time_based --runtime="$SECS" --ramp_time="$RAMP" "${args[@]}") ||
        fail "fio $job against the $m target"
    i1="$(idle_ticks 0) $(idle_ticks 1)"
    kill -STOP "${PID[$m]}"
    printf '%s\n' "$out" >"$OUT/fio-$job-$m-$r.json"
    read -r a0 a1 <<<"$i0"
    read -r b0 b1 <<<"$i1"
    jq -r --arg j "$job" --arg m "$m" --arg r "$r" --arg i0 "$((b0 - a0))" --arg i1 "$((b1 - a1))" \
        '.jobs[0].read | "\($j) \($m) \($r) \(.iops) \(.bw_bytes / 1048576) \($i0) \($i1)"' \
        <<<"$out" >>"$OUT/rounds.txt"
}

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
col() { awk -v j="$1" -v m="$2" -v c="$3" '$1 == j && $2 == m { print $c }' "$OUT/rounds.txt" | median; }

report() {
    local job secs=$((SECS + RAMP))
    echo "poll groups: nvmf_tgt -m 0x3 (2 groups) against -m 0x1 (1), two hosts, $ROUNDS rounds of ${SECS}s, medians"
    printf '%-12s %10s %10s %9s %8s %8s %7s   %s\n' job "iops 0x1" "iops 0x3" "ratio" "MB/s 0x1" \
        "MB/s 0x3" "" "idle cpu0/cpu1 % (0x1 | 0x3)"
    for job in rr4k_qd32 sr128k_qd16; do
        local a b
        a=$(col "$job" 0x1 4)
        b=$(col "$job" 0x3 4)
        printf '%-12s %10.0f %10.0f %9.2f %8.1f %8.1f %7s   %s/%s | %s/%s\n' "$job" "$a" "$b" \
            "$(awk -v a="$a" -v b="$b" 'BEGIN { print b / a }')" "$(col "$job" 0x1 5)" \
            "$(col "$job" 0x3 5)" "" \
            "$(($(col "$job" 0x1 6 | cut -d. -f1) / secs))" "$(($(col "$job" 0x1 7 | cut -d. -f1) / secs))" \
            "$(($(col "$job" 0x3 6 | cut -d. -f1) / secs))" "$(($(col "$job" 0x3 7 | cut -d. -f1) / secs))"
    done
}

main() {
    local r job m order
    require_guest
    require_cmd nvme fio jq
    mkdir -p "$OUT"
    : >"$OUT/rounds.txt"
    rxe_up
    new_host H1
    new_host H2
    for m in "${MASKS[@]}"; do start "$m"; done
    settle
    for ((r = 1; r <= ROUNDS; r++)); do
        if ((r % 2)); then order="0x1 0x3"; else order="0x3 0x1"; fi
        for job in rr4k_qd32 sr128k_qd16; do
            for m in $order; do one "$m" "$job" "$r"; done
        done
        log "round $r of $ROUNDS done"
    done
    for m in "${MASKS[@]}"; do kill -CONT "${PID[$m]}"; done
    report | tee "$OUT/report.txt"
}

main "$@"
