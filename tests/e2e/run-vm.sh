#!/bin/bash
# Boot the e2e VM (prepared by prepare.sh) and run one guest script inside it:
#   tests/e2e/run-vm.sh GUEST_SCRIPT [ARGS...]
# The host's / is the guest's root (read-only 9p under a tmpfs overlay), so the script and
# the binaries it runs are used straight from their host paths. Exit code: the guest
# script's; 124 when the overall timeout hit; 125 when the VM gave no result (did not boot).
# Environment: E2E_TIMEOUT (s, 600), E2E_MEM (MiB, 2048), E2E_SMP (2), E2E_DISK_SIZE (1G),
# E2E_ACCEL (tcg,thread=multi), E2E_WORK (build/e2e); every E2E_* variable and
# NVMF_TGT/VERBS_CHECK/RDMA_HOSTILE reach the guest.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${E2E_WORK:-$ROOT/build/e2e}
TIMEOUT=${E2E_TIMEOUT:-600}
MEM=${E2E_MEM:-2048}
SMP=${E2E_SMP:-2}
ACCEL=${E2E_ACCEL:-tcg,thread=multi}
DISK_SIZE=${E2E_DISK_SIZE:-1G}
EXIT_TIMEOUT=124
EXIT_NORESULT=125

say() { printf 'run-vm: %s\n' "$*"; }
die() { printf 'run-vm: ERROR: %s\n' "$*" >&2; exit "$EXIT_NORESULT"; }

check_ready() {
    command -v qemu-system-x86_64 >/dev/null ||
        die "qemu-system-x86_64 not found: install qemu-system-x86 (tests/e2e/prepare.sh does)"
    [[ -f $WORK/stamp && -f $WORK/initrd.img && -e $WORK/vmlinuz ]] ||
        die "no prepared VM in $WORK: run tests/e2e/prepare.sh first"
    KVER=$(cut -d' ' -f1 "$WORK/stamp")
}

# The command the guest's init runs (with bash, inside the chroot): environment + script.
write_cmd() {
    local script=$1
    shift
    {
        echo "export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        echo "export HOME=/root E2E_GUEST=1 E2E_RESULTS=/e2e/results E2E_ROOT=$(printf %q "$ROOT")"
        export -p | grep -E '^declare -x (E2E_[A-Z0-9_]*|NVMF_TGT|VERBS_CHECK|RDMA_HOSTILE)=' |
            grep -vE '^declare -x E2E_(GUEST|RESULTS|ROOT)=' || true
        echo "cd $(printf %q "$PWD")"
        printf 'exec'
        printf ' %q' "$script" "$@"
        echo
    } >"$RUN/results/cmd"
}

make_disk() {
    truncate -s "$DISK_SIZE" "$RUN/disk.img"
    mkfs.ext4 -F -q -L e2edisk -E lazy_itable_init=0,lazy_journal_init=0 "$RUN/disk.img" ||
        die "mkfs.ext4 failed on $RUN/disk.img"
}

start_qemu() {
    local append="console=ttyS0 panic=-1 loglevel=4 mitigations=off"
    append+=" e2e.kmods=$WORK/kernel/lib/modules/$KVER"
    qemu-system-x86_64 -accel "$ACCEL" -cpu max -smp "$SMP" -m "$MEM" \
        -nographic -no-reboot -nic none \
        -kernel "$WORK/vmlinuz" -initrd "$WORK/initrd.img" -append "$append" \
        -virtfs local,path=/,mount_tag=e2eroot,security_model=none,readonly=on,multidevs=remap \
        -virtfs "local,path=$RUN/results,mount_tag=e2eres,security_model=none,multidevs=remap" \
        -drive "file=$RUN/disk.img,format=raw,if=virtio,cache=unsafe" \
        -device virtio-rng-pci \
        </dev/null >"$RUN/console.log" 2>&1 &
    QEMU_PID=$!
}

stop_qemu() {
    [[ -n ${QEMU_PID:-} ]] || return 0
    kill "$QEMU_PID" 2>/dev/null || true
    wait "$QEMU_PID" 2>/dev/null || true
    QEMU_PID=
}

# Wait for qemu to exit or the timeout; note when the guest script started (boot time).
wait_qemu() {
    local t0=$SECONDS
    BOOT_WALL=
    while kill -0 "$QEMU_PID" 2>/dev/null; do
        if [[ -z $BOOT_WALL && -e $RUN/results/test.log ]]; then
            BOOT_WALL=$((SECONDS - t0))
        fi
        if ((SECONDS - t0 >= TIMEOUT)); then
            stop_qemu
            return 1
        fi
        sleep 0.2
    done
    wait "$QEMU_PID" || true
    QEMU_PID=
}

# Terminal escapes (the firmware clears the screen) are dropped.
show_tail() {
    local what=$1 file=$2 n=$3
    [[ -s $file ]] || return 0
    echo "----- last $n lines of $what ($file) -----"
    tail -n "$n" "$file" | sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g'
}

# Keep the newest runs only (each keeps its console, test log, dmesg).
prune_runs() {
    local old
    [[ -d $WORK/runs ]] || return 0
    mapfile -t old < <(find "$WORK/runs" -mindepth 1 -maxdepth 1 -type d -printf '%T@ %p\n' |
        sort -rn | tail -n +21 | cut -d' ' -f2-)
    ((${#old[@]} == 0)) || rm -rf "${old[@]}"
}

report() {
    local name=$1 wall=$2 rc
    echo "TIMING vm_wall $wall"
    [[ -n $BOOT_WALL ]] && echo "TIMING vm_boot_wall $BOOT_WALL"
    [[ -f $RUN/results/init-timings.txt ]] && sed 's/^TIMING /TIMING guest_/' "$RUN/results/init-timings.txt"
    if [[ ! -f $RUN/results/rc ]]; then
        show_tail "guest test log" "$RUN/results/test.log" 40
        show_tail "guest init errors" "$RUN/results/init-error.txt" 5
        show_tail "VM console" "$RUN/console.log" 40
        say "NO RESULT: $name (the VM stopped before the test finished; did it boot?)"
        return "$EXIT_NORESULT"
    fi
    rc=$(cat "$RUN/results/rc")
    if [[ $rc == 0 ]]; then
        cat "$RUN/results/test.log"
        say "PASS: $name"
        return 0
    fi
    show_tail "guest test log" "$RUN/results/test.log" 60
    show_tail "guest dmesg" "$RUN/results/dmesg.txt" 40
    say "FAIL: $name (exit code $rc), results in $RUN"
    return "$rc"
}

main() {
    (($# >= 1)) || { echo "usage: $0 GUEST_SCRIPT [ARGS...]" >&2; exit 2; }
    local script name t0 rc=0
    script=$(realpath "$1")
    shift
    [[ -f $script ]] || die "no such guest script: $script"
    name="$(basename "$script")${*:+ $*}"
    check_ready
    prune_runs
    RUN=$WORK/runs/$(basename "$script" .sh)-$(date +%Y%m%d-%H%M%S)-$$
    mkdir -p "$RUN/results"
    write_cmd "$script" "$@"
    make_disk
    trap stop_qemu EXIT
    trap 'stop_qemu; exit 130' INT TERM
    say "booting for $name (timeout ${TIMEOUT}s, console: $RUN/console.log)"
    t0=$SECONDS
    start_qemu
    if ! wait_qemu; then
        show_tail "guest test log" "$RUN/results/test.log" 40
        show_tail "VM console" "$RUN/console.log" 20
        say "TIMEOUT: $name after ${TIMEOUT}s (E2E_TIMEOUT), results in $RUN"
        rm -f "$RUN/disk.img"
        exit "$EXIT_TIMEOUT"
    fi
    rm -f "$RUN/disk.img"
    report "$name" "$((SECONDS - t0))" || rc=$?
    exit "$rc"
}

main "$@"
