# shellcheck shell=bash
# Helpers for e2e guest scripts (source it; it also sources target.sh). Everything here is
# meant to run inside the VM that run-vm.sh boots: it creates netdevs, RDMA links and
# addresses, so it refuses to run anywhere else, unless run-main.sh has checked that this
# machine can host the demo itself and set E2E_LOCAL=1 (then rxe_up removes what it created).

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
E2E_ROOT=${E2E_ROOT:-$(cd "$E2E_LIB_DIR/../.." && pwd)}
E2E_RESULTS=${E2E_RESULTS:-/tmp}
E2E_IF=${E2E_IF:-e2e0}          # netdev carrying soft-RoCE (one end of a veth pair)
E2E_IF_PEER=${E2E_IF_PEER:-e2e1}
E2E_RDMA_DEV=${E2E_RDMA_DEV:-rxe0}
E2E_ADDR=${E2E_ADDR:-10.0.0.1}  # private, guest-only
E2E_PORT=${E2E_PORT:-4420}
E2E_DISK=${E2E_DISK:-/dev/vda}  # the scratch virtio disk (ext4, made by run-vm.sh)
E2E_DISK_MNT=${E2E_DISK_MNT:-/e2e/disk}
VERBS_CHECK=${VERBS_CHECK:-$E2E_ROOT/build/tests/verbs_check}
NVMF_TGT=${NVMF_TGT:-$E2E_ROOT/build/nvmf_tgt}

E2E_FAILS=0
E2E_CLEANUPS=()

# ---- messages, assertions -------------------------------------------------------------
# Messages go to stderr so that helpers that print a value ($(...)) still show them.
log() { printf '[%s] %s\n' "$(uptime_s)" "$*" >&2; }
pass() { printf 'PASS: %s\n' "$*"; }
fail() {
    printf 'FAIL: %s\n' "$*" >&2
    fail_diagnose
    exit 1
}
# What a failure leaves for whoever reads the run (the VM is gone afterwards): the blocked
# kernel tasks' stacks in dmesg, and the end of the target's log in the test log.
fail_diagnose() {
    [[ ${E2E_GUEST:-} == 1 && -z ${E2E_DIAGNOSED:-} ]] || return 0
    E2E_DIAGNOSED=1
    echo w >/proc/sysrq-trigger 2>/dev/null || true
    [[ -n ${E2E_FAIL_HOOK:-} ]] && { $E2E_FAIL_HOOK >&2 || true; }
    if [[ -n ${NVMF_TGT_LOG:-} && -r $NVMF_TGT_LOG ]]; then
        printf -- '----- last 25 lines of %s\n' "$NVMF_TGT_LOG" >&2
        tail -n 25 "$NVMF_TGT_LOG" >&2
    fi
    # The target's threads: where each one is (results/target-stacks.txt).
    if [[ -n ${NVMF_TGT_PID:-} ]] && kill -0 "$NVMF_TGT_PID" 2>/dev/null &&
        command -v gdb >/dev/null; then
        timeout 30 gdb -p "$NVMF_TGT_PID" -batch -ex 'thread apply all bt' \
            -x "$E2E_LIB_DIR/target-state.gdb" >"$E2E_RESULTS/target-stacks.txt" 2>&1 || true
        printf -- '----- target threads (full stacks in %s/target-stacks.txt)\n' \
            "$E2E_RESULTS" >&2
        grep -E '^Thread|^#[0-3] |^group|^  qid' "$E2E_RESULTS/target-stacks.txt" >&2 || true
    fi
}
# Soft failure: report, count, continue; finish() turns the count into the exit code.
check_fail() {
    printf 'FAIL: %s\n' "$*" >&2
    E2E_FAILS=$((E2E_FAILS + 1))
}
# assert "what it checks" CMD [ARGS...]: run CMD, fail the test with its output if it fails.
assert() {
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then
        pass "$what"
    else
        printf '%s\n' "$out" | tail -n 20
        fail "$what (command: $*)"
    fi
}
# refute "what it checks" CMD [ARGS...]: the command must fail.
refute() {
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then
        printf '%s\n' "$out" | tail -n 20
        fail "$what (command succeeded but must fail: $*)"
    fi
    pass "$what"
}
assert_eq() {
    local what=$1 want=$2 got=$3
    [[ $want == "$got" ]] || fail "$what: expected '$want', got '$got'"
    pass "$what"
}
finish() {
    if ((E2E_FAILS > 0)); then
        log "$E2E_FAILS check(s) failed"
        exit 1
    fi
    log "all checks passed"
    exit 0
}

# ---- timing ----------------------------------------------------------------------------
uptime_s() { cut -d' ' -f1 /proc/uptime; }
now_ns() { date +%s%N; }
# timing NAME SECONDS: print (to stderr, like log) and keep a TIMING line.
timing() {
    printf 'TIMING %s %s\n' "$1" "$2" | tee -a "$E2E_RESULTS/timings.txt" >&2
}
# timed NAME CMD [ARGS...]: run CMD (output kept), print "TIMING NAME seconds"; keeps CMD's
# exit status. The elapsed time is left in TIMED_S. CMD runs in an || list, where errexit
# does not apply: functions run this way check their steps themselves (|| fail).
timed() {
    local name=$1 t0 rc=0
    shift
    t0=$(now_ns)
    "$@" || rc=$?
    TIMED_S=$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
    timing "$name" "$TIMED_S"
    return "$rc"
}

# ---- cleanup stack -----------------------------------------------------------------------
at_exit() { E2E_CLEANUPS+=("$*"); }
run_cleanups() {
    local i
    for ((i = ${#E2E_CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${E2E_CLEANUPS[i]}" >/dev/null 2>&1 || true
    done
    E2E_CLEANUPS=()
}
trap run_cleanups EXIT

# ---- environment -------------------------------------------------------------------------
require_guest() {
    [[ ${E2E_LOCAL:-} == 1 ]] && return 0
    [[ ${E2E_GUEST:-} == 1 && $(cat /proc/sys/kernel/hostname) == e2e-guest ]] ||
        fail "this script runs inside the e2e VM: tests/e2e/run-vm.sh $0 ARGS..."
}
require_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null || fail "command '$c' not found in the guest (host package missing? run tests/e2e/prepare.sh)"
    done
}
# require_module NAME...: loaded already (by init) or loadable, else name what is missing.
require_module() {
    local m
    for m in "$@"; do
        [[ -d /sys/module/${m//-/_} ]] && continue
        modprobe "$m" 2>/dev/null || fail "kernel $(uname -r) has no module '$m' (or it failed to load; see dmesg)"
    done
}

# ---- soft-RoCE -----------------------------------------------------------------------------
# rxe on a veth pair: the address on one end, the other end up (rxe on lo does not work
# with rdma_cm). Everything stays inside the guest.
rxe_up() {
    require_guest
    require_cmd ip rdma
    require_module veth rdma_rxe rdma_ucm ib_uverbs crc32_generic
    if ! ip link show "$E2E_IF" >/dev/null 2>&1; then
        ip link add "$E2E_IF" type veth peer name "$E2E_IF_PEER" || fail "cannot create veth $E2E_IF"
        if [[ ${E2E_LOCAL:-} == 1 ]]; then at_exit ip link del "$E2E_IF"; fi
    fi
    # Explicit checks: under timed (an || list) errexit does not apply.
    ip addr replace "$E2E_ADDR/24" dev "$E2E_IF" || fail "cannot set $E2E_ADDR on $E2E_IF"
    ip link set "$E2E_IF_PEER" up || fail "cannot set $E2E_IF_PEER up"
    ip link set "$E2E_IF" up || fail "cannot set $E2E_IF up"
    if ! rdma link show "$E2E_RDMA_DEV/1" >/dev/null 2>&1; then
        rdma link add "$E2E_RDMA_DEV" type rxe netdev "$E2E_IF" ||
            fail "rdma link add $E2E_RDMA_DEV type rxe netdev $E2E_IF failed (crc32 module? see dmesg)"
        if [[ ${E2E_LOCAL:-} == 1 ]]; then at_exit rdma link del "$E2E_RDMA_DEV"; fi
    fi
    wait_for 10 "rxe port ACTIVE" rxe_active
    log "soft-RoCE $E2E_RDMA_DEV on $E2E_IF, address $E2E_ADDR"
}
rxe_active() { rdma link show "$E2E_RDMA_DEV/1" 2>/dev/null | grep -q 'state ACTIVE'; }

# wait_for SECONDS "what" CMD [ARGS...]: poll CMD every 0.1 s.
wait_for() {
    local secs=$1 what=$2 i
    shift 2
    for ((i = 0; i < secs * 10; i++)); do
        "$@" && return 0
        sleep 0.1
    done
    fail "timed out after ${secs}s waiting for $what"
}

# ---- host identity -------------------------------------------------------------------------
# qemu's DMI uuid is zero, so nvme gen-hostnqn is useless here: use a fresh uuid.
# new_host VAR_PREFIX: sets ${VAR_PREFIX}_NQN and ${VAR_PREFIX}_ID.
new_host() {
    local uuid
    uuid=$(cat /proc/sys/kernel/random/uuid)
    printf -v "${1}_ID" '%s' "$uuid"
    printf -v "${1}_NQN" 'nqn.2014-08.org.nvmexpress:uuid:%s' "$uuid"
}

# ---- NVMe host side ------------------------------------------------------------------------
# nvme_dev SUBNQN: print /dev/<head node> of the first namespace of the connected subsystem
# (multipath head node, e.g. nvme0n1; the per-path nvme0c0n1 is hidden).
nvme_dev() {
    local s ns
    for s in /sys/class/nvme-subsystem/*/; do
        [[ -f $s/subsysnqn && $(cat "$s/subsysnqn") == "$1" ]] || continue
        for ns in "$s"nvme*n*; do
            [[ -e $ns ]] || continue
            [[ -b /dev/${ns##*/} ]] && { echo "/dev/${ns##*/}"; return 0; }
        done
    done
    return 1
}
# wait_nvme_dev SUBNQN: wait for the namespace block device, print it.
wait_nvme_dev() {
    local i
    for ((i = 0; i < 100; i++)); do
        nvme_dev "$1" && return 0
        sleep 0.1
    done
    fail "no namespace block device for $1 under /sys/class/nvme-subsystem"
}
nvme_is_connected() {
    local s
    for s in /sys/class/nvme-subsystem/*/; do
        [[ -f $s/subsysnqn && $(cat "$s/subsysnqn") == "$1" ]] && ls -d "$s"nvme[0-9]* >/dev/null 2>&1 && return 0
    done
    return 1
}
# host_connect SUBNQN HOSTNQN HOSTID [OPTION...]: nvme connect over RDMA to
# $E2E_ADDR:$E2E_PORT; options go to nvme connect (e.g. --keep-alive-tmo=600).
host_connect() {
    nvme connect -t rdma -a "$E2E_ADDR" -s "$E2E_PORT" -n "$1" --hostnqn "$2" --hostid "$3" "${@:4}"
}
host_disconnect() {
    nvme disconnect -n "$1" >/dev/null
    local i
    for ((i = 0; i < 50; i++)); do
        nvme_is_connected "$1" || return 0
        sleep 0.1
    done
    return 1
}
host_discover() {
    nvme discover -t rdma -a "$E2E_ADDR" -s "$E2E_PORT" --hostnqn "$1" --hostid "$2"
}

# ---- scratch disk ----------------------------------------------------------------------------
# The virtio disk (ext4) holds backing files that need O_DIRECT (tmpfs and the overlay
# root cannot serve them).
disk_mount() {
    mountpoint -q "$E2E_DISK_MNT" && return 0
    [[ -b $E2E_DISK ]] || fail "no scratch disk $E2E_DISK (run-vm.sh attaches one)"
    mkdir -p "$E2E_DISK_MNT"
    mount -t ext4 "$E2E_DISK" "$E2E_DISK_MNT" || fail "cannot mount $E2E_DISK (ext4) on $E2E_DISK_MNT"
}

# rdma_objs PID: the QPs, CQs, MRs and PDs that process holds, as the kernel counts them
# (rdma resource tracking): "qp=N cq=N mr=N pd=N".
rdma_objs() {
    local t n out=
    for t in qp cq mr pd; do
        n=$(rdma resource show "$t" 2>/dev/null | grep -cw "pid $1") || true
        out+="$t=$n "
    done
    echo "${out% }"
}

# ---- sanitizer builds -----------------------------------------------------------------------
# build/nvmf_tgt_asan (ASan+LSan+UBSan, -fno-sanitize-recover=all): with asan_env, any report
# makes it exit non-zero (ASan/LSan 23, UBSan 24); no_sanitizer_report LOG fails with it.
E2E_ASAN_TGT=${E2E_ASAN_TGT:-$E2E_ROOT/build/nvmf_tgt_asan}
asan_env() { # [EXTRA_ASAN_OPTIONS]
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=23:halt_on_error=1${1:+:$1}
    export LSAN_OPTIONS=exitcode=23:report_objects=1
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=24
}
# use_asan_target: run the sanitizer build as $NVMF_TGT (target.sh's nvmf_tgt_exec).
use_asan_target() {
    asan_env
    NVMF_TGT=$E2E_ASAN_TGT
    [[ -x $NVMF_TGT ]] || fail "no $NVMF_TGT: build it first (make build/nvmf_tgt_asan)"
}
# asan_target_stop: SIGTERM; exit status 0 and no report in $NVMF_TGT_LOG.
asan_target_stop() {
    local rc=0
    target_stop_rc nvmf_tgt || rc=$?
    assert_eq "nvmf_tgt exit status after SIGTERM (0: no sanitizer report)" 0 "$rc"
    no_sanitizer_report "$NVMF_TGT_LOG"
    pass "no ASan/LSan/UBSan report in the target's log"
}
no_sanitizer_report() { # LOG
    local pat='ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error|SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer'
    if grep -Eq "$pat" "$1"; then
        grep -En -A40 "$pat" "$1" | head -n 150
        fail "sanitizer report in $1"
    fi
}

# ---- fio in the background -----------------------------------------------------------------
# fio_bg VAR NAME DEV LOG [FIO_OPTION...]: 4k random I/O with crc32c verify on DEV until
# fio_bg_end; its PID goes to VAR.
fio_bg() {
    local var=$1 name=$2 dev=$3 log=$4
    shift 4
    fio --name="$name" --filename="$dev" --ioengine=libaio --direct=1 --bs=4k --iodepth=8 \
        --time_based --runtime=3600 --verify=crc32c --verify_fatal=1 --output="$log" \
        "${@---rw=randrw}" &
    printf -v "$var" '%s' "$!"
    at_exit kill "$!"
}
# fio_bg_end NAME PID LOG WHAT: fio must still run; SIGINT ends it (exit status non-zero
# then): its job line must say err= 0 and no verify error. Passes "WHAT".
fio_bg_end() {
    local name=$1 pid=$2 log=$3
    kill -0 "$pid" 2>/dev/null || { cat "$log" >&2; fail "fio $name stopped early"; }
    kill -INT "$pid"
    wait "$pid" || true
    grep -q "$name: .*err= 0" "$log" && ! grep -qi 'verify.*fail\|bad magic\|crc32c' "$log" ||
        { cat "$log" >&2; fail "fio $name saw errors"; }
    pass "$4"
}

# assert_rdma_objs_back PID BASE: the process's counts return to BASE within 10 s.
assert_rdma_objs_back() {
    local i now
    for ((i = 0; i < 100; i++)); do
        now=$(rdma_objs "$1")
        [[ $now == "$2" ]] && break
        sleep 0.1
    done
    assert_eq "the target's QP/CQ/MR/PD counts are back to their start" "$2" "$now"
}

# shellcheck source=tests/e2e/target.sh
. "$E2E_LIB_DIR/target.sh"

# ---- controllers (added for t_basic's multi-host checks) ------------------------------------
# nvme_ctrl SUBNQN HOSTNQN: print the name (nvmeX) of the live controller that HOSTNQN has
# on SUBNQN; fails when there is none.
nvme_ctrl() {
    local c
    for c in /sys/class/nvme/nvme*; do
        [[ -f $c/subsysnqn && -f $c/hostnqn ]] || continue
        [[ $(cat "$c/subsysnqn") == "$1" && $(cat "$c/hostnqn") == "$2" ]] || continue
        [[ $(cat "$c/state" 2>/dev/null) == live ]] || continue
        echo "${c##*/}"
        return 0
    done
    return 1
}
