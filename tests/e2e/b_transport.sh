#!/bin/bash
# Transport benchmark (a report, not a pass/fail test): our target against the kernel's
# nvmet-rdma in one VM boot, both on RAM namespaces so that only the transport and target
# are measured, both connected at once from the kernel host; then both on a file of the
# same ext4 scratch disk (ours: bdev_aio, O_DIRECT; the kernel: its file backend with
# buffered_io off), which is what users run.
#   tests/e2e/run-vm.sh tests/e2e/b_transport.sh [nvmf_tgt|kernel2]     (make bench-e2e)
# kernel:  nvmet-rdma, port 4420, namespace on a memory-backed null_blk (configfs nullb)
# ours:    nvmf_tgt, port 4421, namespace on bdev_malloc_create; or with kernel2 a second
#          kernel nvmet subsystem on a second null_blk (the noise floor: kernel vs itself).
# Each fio job runs in alternating rounds (kernel, ours, then ours, kernel, ...); nvmf_tgt is
# SIGSTOPped outside its own rounds so that its polling cannot slow the kernel's (hosts use a
# long keep-alive timeout). See DESIGN.md "Performance". The table shows per job the medians,
# the ratio ours/kernel and the spread of the rounds; then our start-up time, idle CPU, RSS.
# Settings (environment): E2E_BENCH_ROUNDS (5), E2E_BENCH_SECS (8 s per round),
# E2E_BENCH_RAMP (1 s), E2E_BENCH_SETTLE (1 s after SIGCONT), E2E_BENCH_NS_MB (128),
# E2E_BENCH_HUGE_MB (512 MiB of hugepages for nvmf_tgt; 0: --no-huge -s E2E_BENCH_MEM_MB),
# E2E_BENCH_MEM_MB (512), E2E_BENCH_IDLE_SECS (5), E2E_BENCH_KATO (600 s),
# E2E_BENCH_JOBS (all: rr4k_qd1 rr4k_qd32 sr128k_qd16 sw128k_qd16 f_rr4k_qd32 f_sr128k_qd16
# f_sw128k_qd16; f_: the file namespaces), E2E_NVMF_TGT_ARGS.
# For ours the report also gives, per job, what one I/O cost the transport (nvmf_get_stats
# before and after the job): work requests posted, their SGEs, and work completions.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OURS=${1:-nvmf_tgt}
ROUNDS=${E2E_BENCH_ROUNDS:-5}
SECS=${E2E_BENCH_SECS:-8}
RAMP=${E2E_BENCH_RAMP:-1}
SETTLE=${E2E_BENCH_SETTLE:-1}
NS_MB=${E2E_BENCH_NS_MB:-128}
HUGE_MB=${E2E_BENCH_HUGE_MB:-512}
MEM_MB=${E2E_BENCH_MEM_MB:-512}
IDLE_SECS=${E2E_BENCH_IDLE_SECS:-5}
KATO=${E2E_BENCH_KATO:-600}
read -r -a JOBS <<<"${E2E_BENCH_JOBS:-rr4k_qd1 rr4k_qd32 sr128k_qd16 sw128k_qd16 f_rr4k_qd32 f_sr128k_qd16 f_sw128k_qd16}"

K_NQN=nqn.2026-11.io.e2e:bench-kernel
O_NQN=nqn.2026-11.io.e2e:bench-ours
KF_NQN=nqn.2026-11.io.e2e:bench-kernel-file
OF_NQN=nqn.2026-11.io.e2e:bench-ours-file
K_PORT=4420
O_PORT=4421
KF_PORT=4422 # a second nvmet port: an enabled port's address cannot change
FILE_DIR= # on the scratch disk (main)
OUT=$E2E_RESULTS/bench
RESULTS=$OUT/rounds.txt # job side round iops MiB/s mean-latency-us
CPU_TICKS=$OUT/cpu-ticks.txt # ROUND start|end busy0 total0 busy1 total1 ...
OURS_CONFIG=/tmp/e2e-bench-nvmf_tgt.json
FAILED_ROUNDS=0
declare -A DEV START_S
INFO=()

# ---- jobs --------------------------------------------------------------------------------------
job_desc() {
    case $1 in
        f_*) echo "file: $(job_desc "${1#f_}")" ;;
        rr4k_qd1) echo "4k randread QD1" ;;
        rr4k_qd32) echo "4k randread QD32" ;;
        sr128k_qd16) echo "128k seq read QD16" ;;
        sw128k_qd16) echo "128k seq write QD16" ;;
        *) fail "unknown job '$1'" ;;
    esac
}
job_args() { # fio job-file options
    case ${1#f_} in
        rr4k_qd1) echo "rw=randread bs=4k iodepth=1" ;;
        rr4k_qd32) echo "rw=randread bs=4k iodepth=32" ;;
        sr128k_qd16) echo "rw=read bs=128k iodepth=16" ;;
        sw128k_qd16) echo "rw=write bs=128k iodepth=16" ;;
    esac
}
job_dir() { if [[ ${1#f_} == sw* ]]; then echo write; else echo read; fi; }
# The device a job runs on: the RAM namespace, or for f_ jobs the file one.
job_dev() { if [[ $1 == f_* ]]; then echo "${DEV[$2_file]}"; else echo "${DEV[$2]}"; fi; }
file_jobs() { [[ " ${JOBS[*]}" == *" f_"* ]]; }

# ---- kernel targets on null_blk -----------------------------------------------------------------
# nullb_create NAME: a memory-backed null_blk of NS_MB MiB (configfs), prints its device.
nullb_create() {
    local d=/sys/kernel/config/nullb/$1
    mkdir "$d" || fail "cannot create null_blk $1 (configfs nullb)"
    cfs_write "$d/size" "$NS_MB"
    cfs_write "$d/blocksize" 512
    cfs_write "$d/memory_backed" 1
    cfs_write "$d/power" 1
    # Kernel 6.1 names the disk after the configfs item; older ones nullb<index>.
    local dev=/dev/$1
    [[ -b $dev ]] || dev=/dev/nullb$(cat "$d/index")
    [[ -b $dev ]] || fail "null_blk $1 is powered on but has no block device"
    echo "$dev"
}
nullb_remove() {
    local d
    for d in /sys/kernel/config/nullb/*/; do
        [[ -f $d/power ]] || continue
        echo 0 >"$d/power"
        rmdir "$d"
    done
}

kernel_start() { # NQN PORT NVMET_PORT_ID
    local dev
    dev=$(nullb_create "nb$3") || fail "null_blk for $1"
    NVMET_PORT=$3 E2E_PORT=$2 target_start kernel "$1" "$dev"
}

# ---- file namespaces: both targets on a file of the same ext4 disk ---------------------------
# Written through once (no sparse extents, which read back without I/O).
file_make() {
    dd if=/dev/zero of="$1" bs=1M count="$NS_MB" oflag=direct status=none ||
        fail "cannot write $1"
}
kernel_file_start() {
    local f=$FILE_DIR/kernel.img ns=$NVMET_CFS/subsystems/$KF_NQN/namespaces/1
    file_make "$f"
    NVMET_PORT=3 E2E_PORT=$KF_PORT target_start kernel "$KF_NQN" "$f"
    # O_DIRECT, like ours: the file backend's buffered_io off, said rather than assumed.
    cfs_write "$ns/enable" 0
    cfs_write "$ns/buffered_io" 0
    cfs_write "$ns/enable" 1
}

# ---- our target on a malloc bdev (and an aio file) ------------------------------------------
# ours_subsystem NQN SERIAL MODEL BDEV: its three config methods (a comma before them).
ours_subsystem() {
    cat <<EOF
,   {"method": "nvmf_create_subsystem",
     "params": {"nqn": "$1", "allow_any_host": true, "serial_number": "$2", "model_number": "$3"}},
    {"method": "nvmf_subsystem_add_ns",
     "params": {"nqn": "$1", "namespace": {"nsid": 1, "bdev_name": "$4"}}},
    {"method": "nvmf_subsystem_add_listener",
     "params": {"nqn": "$1", "listen_address": {"trtype": "RDMA", "adrfam": "IPv4",
                "traddr": "$E2E_ADDR", "trsvcid": "$O_PORT"}}}
EOF
}
ours_config() {
    local aio=""
    file_jobs && aio=", {\"method\": \"bdev_aio_create\", \"params\": {\"name\": \"aio0\",
     \"filename\": \"$FILE_DIR/ours.img\", \"block_size\": 512}}"
    cat <<EOF
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create",
     "params": {"name": "Malloc0", "num_blocks": $((NS_MB * 2048)), "block_size": 512}}$aio]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "RDMA"}}
$(ours_subsystem "$O_NQN" BENCH000000000001 e2e-bench-nvmf_tgt Malloc0)
$(if file_jobs; then ours_subsystem "$OF_NQN" BENCH000000000002 e2e-bench-nvmf_tgt-file aio0; fi)
  ]}]}
EOF
}

ours_memory() {
    if ((HUGE_MB > 0)); then
        echo $((HUGE_MB / 2)) >/proc/sys/vm/nr_hugepages || fail "cannot reserve hugepages"
        (($(hugepages free) >= HUGE_MB / 2)) || fail "only $(hugepages free) hugepages reserved (E2E_MEM?)"
        INFO+=("ours memory: $HUGE_MB MiB of hugepages reserved")
        E2E_NVMF_TGT_ARGS=${E2E_NVMF_TGT_ARGS:-} # set: no --no-huge default
    else
        E2E_NVMF_TGT_ARGS="--no-huge -s $MEM_MB ${E2E_NVMF_TGT_ARGS:-}"
        INFO+=("ours memory: --no-huge -s $MEM_MB")
    fi
}
hugepages() { cat "/sys/kernel/mm/hugepages/hugepages-2048kB/${1}_hugepages"; }

# shellcheck disable=SC2317 # run through timed
nvmf_tgt_start_listen() {
    nvmf_tgt_exec "$OURS_CONFIG"
    E2E_PORT=$O_PORT target_wait_listen nvmf_tgt
}

ours_start() {
    if [[ $OURS == kernel2 ]]; then
        timed start_ours kernel_start "$O_NQN" "$O_PORT" 2 || fail "second kernel subsystem"
    else
        [[ -x $NVMF_TGT ]] || fail "no target binary $NVMF_TGT: build it first (make), or set NVMF_TGT"
        ours_memory
        if file_jobs; then file_make "$FILE_DIR/ours.img"; fi
        ours_config >"$OURS_CONFIG"
        at_exit target_stop nvmf_tgt
        timed start_ours nvmf_tgt_start_listen || fail "nvmf_tgt did not start"
    fi
    START_S[ours]=$TIMED_S
}

# SIGSTOP/SIGCONT around our target's rounds (a kernel target has nothing to pause).
# A target that died is a zombie until reaped: kill -0 alone would not tell.
ours_alive() {
    local st
    st=$(awk '{ print $3 }' "/proc/$NVMF_TGT_PID/stat" 2>/dev/null) && [[ $st != Z ]]
}
ours_gone() {
    tail -n 20 "$NVMF_TGT_LOG" >&2 || true
    fail "nvmf_tgt died during the benchmark (log: $NVMF_TGT_LOG)"
}
ours_pause() {
    [[ $OURS == kernel2 ]] && return 0
    ours_alive || ours_gone
    kill -STOP "$NVMF_TGT_PID"
}
ours_resume() {
    [[ $OURS == kernel2 ]] && return 0
    ours_alive || ours_gone
    kill -CONT "$NVMF_TGT_PID"
    sleep "$SETTLE"
}

# ---- host ------------------------------------------------------------------------------------
# --ctrl-loss-tmo: should a target die, its I/O fails after that many seconds instead of
# hanging in uninterruptible sleep for the default 600 s.
connect() { # SIDE NQN PORT
    E2E_PORT=$3 host_connect "$2" "$HOST_NQN" "$HOST_ID" --keep-alive-tmo="$KATO" \
        --ctrl-loss-tmo=15 >/dev/null ||
        fail "nvme connect to $2 on port $3 (see dmesg)"
    at_exit "nvme disconnect -n $2"
    DEV[$1]=$(wait_nvme_dev "$2")
    log "$1: $2 on $E2E_ADDR:$3 is ${DEV[$1]}"
}

# null_blk answers reads of never-written pages without copying: write the kernel side(s)
# once so that reads copy data as a malloc bdev always does.
prefill() {
    local side=$1 log=$OUT/prefill-$1.log
    fio --name=prefill --filename="${DEV[$side]}" --ioengine=libaio --direct=1 --rw=write \
        --bs=1M --iodepth=8 --size="${NS_MB}M" >"$log" 2>&1 || { tail -n 20 "$log"; fail "prefill $side"; }
}

# ---- resource use of our target ----------------------------------------------------------------
proc_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
measure_ours_idle() {
    [[ $OURS == kernel2 ]] && { INFO+=("ours idle CPU, RSS: n/a (kernel target)"); return 0; }
    local pid=$NVMF_TGT_PID t0 t1 hz pct rss used
    hz=$(getconf CLK_TCK)
    t0=$(proc_ticks "$pid")
    sleep "$IDLE_SECS"
    t1=$(proc_ticks "$pid")
    pct=$(awk -v d=$((t1 - t0)) -v hz="$hz" -v s="$IDLE_SECS" 'BEGIN { printf "%.1f", 100 * d / hz / s }')
    rss=$(awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$pid/status")
    used=$(($(hugepages nr) - $(hugepages free)))
    timing bench_ours_idle_cpu_pct "$pct"
    timing bench_ours_rss_mib "$rss"
    INFO+=("ours idle CPU: $pct% of one core over ${IDLE_SECS} s (connected, no I/O)")
    INFO+=("ours memory use: RSS $rss MiB, plus $((used * 2)) MiB of hugepages in use")
}

# ---- what one I/O costs our transport (nvmf_get_stats around a job) ---------------------------
# "requests WRs SGEs completions post_us latency_us" of the RDMA device(s), summed.
ours_counters() {
    "$NVMF_RPC" -s "$NVMF_TGT_SOCK" nvmf_get_stats | jq -r '[.poll_groups[].transports[].devices[]]
        | "\(map(.requests) | add) \(map(.total_send_wrs) | add) \(map(.total_send_sges // 0) | add) \(map(.completions) | add) \(map(.total_post_us // 0) | add) \(map(.request_latency) | add)"'
}
# per_io JOB BEFORE AFTER: "WRs/SGEs/completions per I/O, µs in verbs posts / µs in the
# target" for the report (under soft-RoCE a post does the transfer's protocol work).
declare -A PER_IO
per_io() {
    local a b
    read -r -a a <<<"$2"
    read -r -a b <<<"$3"
    PER_IO[$1]=$(awk -v r=$((b[0] - a[0])) -v w=$((b[1] - a[1])) -v s=$((b[2] - a[2])) \
        -v c=$((b[3] - a[3])) -v p=$((b[4] - a[4])) -v l=$((b[5] - a[5])) 'BEGIN {
            if (r > 0) printf "%.2f/%.2f/%.2f %.0f/%.0f", w / r, s / r, c / r, p / r, l / r
            else print "-" }')
}
ours_snapshot() {
    [[ $OURS == kernel2 ]] && return 0
    ours_resume
    ours_counters || echo "0 0 0 0 0 0"
    ours_pause
}

# ---- rounds -----------------------------------------------------------------------------------
# One fio run per job: its rounds are fio jobs one after the other (stonewall), and ours'
# are wrapped in exec_prerun/exec_postrun hooks that resume and pause our target. fio thus
# starts once per job: under emulation on a busy host a start alone took 4-5 s.
round_order() { if (($1 % 2)); then echo kernel ours; else echo ours kernel; fi; }

# Every round's hooks also record the vCPUs' busy ticks (/proc/stat) at its start and end,
# so the report can say how much of each vCPU a side's round used (host and target alike:
# under soft-RoCE the protocol work runs on whichever CPU posts or receives).
write_hooks() {
    HOOK_RESUME=/tmp/e2e-bench-resume.sh
    HOOK_PAUSE=/tmp/e2e-bench-pause.sh
    HOOK_CPU=/tmp/e2e-bench-cpu.sh
    cat >"$HOOK_CPU" <<EOF
#!/bin/sh
# cpu.sh ROUND start|end: one line "ROUND start|end busy0 total0 busy1 total1 ..."
awk -v r="\$1" -v w="\$2" '/^cpu[0-9]/ { t = 0; for (i = 2; i <= NF; i++) t += \$i
    s = s " " (t - \$5 - \$6) " " t } END { print r, w s }' /proc/stat >>"$CPU_TICKS"
EOF
    chmod +x "$HOOK_CPU"
    [[ $OURS == kernel2 ]] && return 0
    # A target that died is a zombie until reaped: the hook fails and fio fails the round.
    cat >"$HOOK_RESUME" <<EOF
#!/bin/sh
[ "\$(cut -d' ' -f3 /proc/$NVMF_TGT_PID/stat 2>/dev/null)" = T ] || exit 1
kill -CONT $NVMF_TGT_PID && sleep $SETTLE && exec $HOOK_CPU "\$1" start
EOF
    # shellcheck disable=SC2016 # $1: the hook's argument
    printf '#!/bin/sh\n%s "$1" end\nkill -STOP %s\n' "$HOOK_CPU" "$NVMF_TGT_PID" >"$HOOK_PAUSE"
    chmod +x "$HOOK_RESUME" "$HOOK_PAUSE"
}

job_file() { # JOB
    local job=$1 r side opt opts
    read -r -a opts <<<"$(job_args "$job")"
    echo "[global]"
    for opt in ioengine=libaio direct=1 "size=${NS_MB}M" norandommap randrepeat=0 time_based \
        "runtime=$SECS" "ramp_time=$RAMP" "${opts[@]}"; do
        echo "$opt"
    done
    for ((r = 1; r <= ROUNDS; r++)); do
        for side in $(round_order "$r"); do
            printf '[%s]\nfilename=%s\nstonewall\n' "$job-$side-$r" "$(job_dev "$job" "$side")"
            if [[ $side == ours && $OURS != kernel2 ]]; then
                printf 'exec_prerun=%s %s\nexec_postrun=%s %s\n' "$HOOK_RESUME" "$job-$side-$r" \
                    "$HOOK_PAUSE" "$job-$side-$r"
            else
                printf 'exec_prerun=%s %s start\nexec_postrun=%s %s end\n' "$HOOK_CPU" \
                    "$job-$side-$r" "$HOOK_CPU" "$job-$side-$r"
            fi
        done
    done
}

# round_value JSON NAME DIR: "IOPS MiB/s latency" of one fio job (mean completion latency,
# submission to completion, in us), or "fail" (a failed exec_prerun
# hook leaves error 0 but no I/O).
round_value() {
    jq -r --arg n "$2" --arg d "$3" '[.jobs[] | select(.jobname == $n)][0]
        | if . == null or .error != 0 or .[$d].io_bytes == 0 then "fail" else "\(.[$d].iops) \(.[$d].bw_bytes / 1048576) \(.[$d].lat_ns.mean / 1000)" end' \
        "$1" 2>/dev/null || echo fail
}

run_job() {
    local job=$1 json=$OUT/$1.json r side val limit before
    job_file "$job" >"$OUT/$job.fio"
    before=$(ours_snapshot)
    limit=$((ROUNDS * 2 * (SECS + RAMP + SETTLE + 30) + 60))
    log "$(job_desc "$job"): $ROUNDS rounds each, about $((ROUNDS * 2 * (SECS + RAMP + 1))) s"
    # In $OUT: fio leaves the hooks' output there (JOBNAME.prerun.txt).
    (cd "$OUT" && timeout -k 10 "$limit" fio --output-format=json --output="$json" "$job.fio" \
        >"$job.err" 2>&1) || { tail -n 20 "$OUT/$job.err" >&2; log "fio failed for $job"; }
    for ((r = 1; r <= ROUNDS; r++)); do
        for side in $(round_order "$r"); do
            val=$(round_value "$json" "$job-$side-$r" "$(job_dir "$job")")
            if [[ $val == fail ]]; then
                FAILED_ROUNDS=$((FAILED_ROUNDS + 1))
                log "$(job_desc "$job") round $r/$ROUNDS $side: FAILED (fio output: $OUT/$job.*)"
                continue
            fi
            echo "$job $side $r $val" >>"$RESULTS"
            log "$(job_desc "$job") round $r/$ROUNDS $side: $(awk '{ printf "%.0f IOPS, %.1f MiB/s, %.0f us", $1, $2, $3 }' <<<"$val")"
        done
    done
    if [[ $OURS != kernel2 ]]; then
        ours_alive || ours_gone
        per_io "$job" "$before" "$(ours_snapshot)"
    fi
}

# ---- report ----------------------------------------------------------------------------------
# median_spread: "median spread%" of the numbers on stdin (spread: max-min over median);
# "- -" when there are none.
median_spread() {
    sort -g | awk '{ v[NR] = $1 } END {
            if (NR == 0) { print "- -"; exit }
            m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            printf "%s %.0f\n", m, (m > 0 ? 100 * (v[NR] - v[1]) / m : 0) }'
}
# stats JOB SIDE COLUMN: median_spread of a column of $RESULTS over the rounds.
stats() {
    awk -v j="$1" -v s="$2" -v c="$3" '$1 == j && $2 == s { print $c }' "$RESULTS" | median_spread
}

# cpu_busy JOB SIDE: median over the rounds of each vCPU's busy %, "a/b" (or "-").
cpu_busy() {
    local rounds ncpu c m out=""
    # One line per round: each vCPU's busy % between its start and end ticks.
    rounds=$(awk -v p="$1-$2-" 'index($1, p) != 1 { next }
        $2 == "start" { for (i = 3; i <= NF; i++) s[$1, i] = $i; next }
        $2 == "end" && (($1, 3) in s) {
            line = ""
            for (i = 3; i < NF; i += 2) {
                t = $(i + 1) - s[$1, i + 1]
                line = line sprintf(" %.3f", t > 0 ? 100 * ($i - s[$1, i]) / t : 0)
            }
            print line }' "$CPU_TICKS")
    [[ -n $rounds ]] || { echo -; return; }
    ncpu=$(awk 'NR == 1 { print NF }' <<<"$rounds")
    for ((c = 1; c <= ncpu; c++)); do
        read -r m _ <<<"$(awk -v c="$c" '{ print $c }' <<<"$rounds" | median_spread)"
        out+="${out:+/}$(printf '%.0f' "$m")"
    done
    echo "$out"
}

report_row() {
    local job=$1 ki km kl oi om ol oo spread ratio
    read -r ki spread <<<"$(stats "$job" kernel 4)"
    read -r km _ <<<"$(stats "$job" kernel 5)"
    read -r kl _ <<<"$(stats "$job" kernel 6)"
    read -r oi oo <<<"$(stats "$job" ours 4)"
    read -r om _ <<<"$(stats "$job" ours 5)"
    read -r ol _ <<<"$(stats "$job" ours 6)"
    ratio=$(awk -v a="$oi" -v b="$ki" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2fx", a / b }')
    printf '%-26s %8s %7s %6s %8s %7s %6s %8s %9s %-11s %s\n' "$(job_desc "$job")" \
        "$(fmt_int "$ki")" "$(fmt_mb "$km")" "$(fmt_int "$kl")" \
        "$(fmt_int "$oi")" "$(fmt_mb "$om")" "$(fmt_int "$ol")" "$ratio" \
        "${spread}%/${oo}%" "$(cpu_busy "$job" kernel) $(cpu_busy "$job" ours)" "${PER_IO[$job]:--}"
    # Kept in timings.txt for scripts, not shown in the table.
    {
        [[ $ratio == - ]] || timing "bench_${job}_ratio" "${ratio%x}"
        [[ $ki == - ]] || timing "bench_${job}_kernel_iops" "$(fmt_int "$ki")"
        [[ $oi == - ]] || timing "bench_${job}_ours_iops" "$(fmt_int "$oi")"
    } 2>/dev/null
}
fmt_int() { if [[ $1 == - ]]; then echo -; else printf '%.0f' "$1"; fi; }
fmt_mb() { if [[ $1 == - ]]; then echo -; else printf '%.1f' "$1"; fi; }

report() {
    local ours_name="nvmf_tgt (malloc bdev, port $O_PORT)" job line
    [[ $OURS == kernel2 ]] && ours_name="a 2nd kernel nvmet subsystem (null_blk, port $O_PORT): noise floor"
    echo
    echo "=== bench-e2e: ours = $ours_name"
    echo "    vs kernel = the kernel's nvmet-rdma (null_blk, port $K_PORT); soft-RoCE in the VM"
    echo "    ($(nproc) vCPUs, Debian $(uname -r) under qemu TCG), kernel host, fio libaio O_DIRECT"
    echo "    $ROUNDS alternating rounds of ${SECS} s (+${RAMP} s ramp) per job, medians;" \
        "$([[ $OURS == kernel2 ]] && echo "nothing paused" || echo "ours SIGSTOPped outside its rounds")"
    echo
    printf '%-26s %8s %7s %6s %8s %7s %6s %8s %9s %-11s %s\n' "" "kernel" "" "" "ours" "" "" \
        "" "" "" "ours per I/O:"
    printf '%-26s %8s %7s %6s %8s %7s %6s %8s %9s %-11s %s\n' job IOPS MiB/s lat_us IOPS MiB/s \
        lat_us ours/krn "spread" "busy% k o" "WR/SGE/CQE post/total us"
    for job in "${JOBS[@]}"; do report_row "$job"; done
    echo
    echo "start-up to listening: ours ${START_S[ours]} s, kernel nvmet (configfs) ${START_S[kernel]} s"
    for line in "${INFO[@]}"; do echo "$line"; done
    echo "lat_us = mean completion latency (fio); ours/krn = ratio of the IOPS medians"
    echo "spread = (max - min) / median of the rounds, kernel/ours; busy% = each vCPU's busy time during the"
    echo "rounds (median, vCPU0/vCPU1, kernel side then ours; host, fio and target together);"
    echo "per-round numbers and fio JSON: the run's results/bench/"
    ((FAILED_ROUNDS == 0)) || echo "WARNING: $FAILED_ROUNDS round(s) failed (fio output under $OUT)"
}

main() {
    [[ $OURS == nvmf_tgt || $OURS == kernel2 ]] || fail "usage: $0 [nvmf_tgt|kernel2]"
    local job
    for job in "${JOBS[@]}"; do job_desc "$job" >/dev/null; done
    require_guest
    require_cmd nvme fio jq
    require_module nvme-rdma nvmet nvmet-rdma
    [[ -d /sys/module/null_blk ]] || modprobe null_blk nr_devices=0 || fail "modprobe null_blk"
    at_exit nullb_remove
    mkdir -p "$OUT"
    : >"$RESULTS"
    rxe_up
    new_host HOST
    timed start_kernel kernel_start "$K_NQN" "$K_PORT" 1 || fail "kernel nvmet start"
    START_S[kernel]=$TIMED_S
    if file_jobs; then
        disk_mount
        FILE_DIR=$E2E_DISK_MNT/bench
        mkdir -p "$FILE_DIR"
        kernel_file_start
        INFO+=("file jobs: ${NS_MB} MiB files on the ext4 scratch disk (virtio, cache=unsafe)")
    fi
    ours_start
    connect kernel "$K_NQN" "$K_PORT"
    connect ours "$O_NQN" "$O_PORT"
    if file_jobs; then
        connect kernel_file "$KF_NQN" "$KF_PORT"
        connect ours_file "$OF_NQN" "$O_PORT"
    fi
    timed prefill_kernel prefill kernel
    [[ $OURS == kernel2 ]] && timed prefill_ours prefill ours
    measure_ours_idle
    ours_pause
    : >"$CPU_TICKS"
    write_hooks
    for job in "${JOBS[@]}"; do run_job "$job"; done
    ours_resume
    report | tee "$OUT/report.txt"
    ((FAILED_ROUNDS == 0)) || exit 1
}

main "$@"
