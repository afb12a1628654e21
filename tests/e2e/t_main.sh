#!/bin/bash
# The demo behind `make run`: the target started exactly as a user would start it, from the
# repository root with the shipped configuration, serving a Linux host over soft-RoCE.
#   tests/e2e/run-main.sh [nvmf_tgt|kernel]        (boots the VM or runs here; see there)
#   tests/e2e/run-vm.sh tests/e2e/t_main.sh [nvmf_tgt|kernel]
# Steps: soft-RoCE up, `$NVMF_TGT -c conf/target.json` (or the kernel's nvmet configured the
# same way: MAIN_TARGET=kernel), wait until it listens, nvme discover, nvme connect, write
# random data O_DIRECT, read it back and compare sha256, disconnect, SIGTERM (exit 0
# expected), then a few lines saying what happened.
# Settings (environment):
#   E2E_MAIN_CONFIG   the config (default conf/target.json; a temporary one if it is missing)
#   E2E_MAIN_DATA_MB  MiB written and read back (32)
#   E2E_MAIN_NS_SIZE  size of a backing file that does not exist yet (256M)
#   E2E_MAIN_HUGE_MB  hugepages for nvmf_tgt in MiB (256; the VM reserves them, a machine
#                     of its own is used only if they are free); 0: --no-huge -s E2E_MAIN_MEM_MB
#   E2E_MAIN_MEM_MB   memory for --no-huge (256)
#   E2E_NVMF_TGT_ARGS more nvmf_tgt options
#   E2E_LOCAL=1       run on this machine (set by run-main.sh after its checks), not in the VM
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGET=${1:-nvmf_tgt}
CONFIG=${E2E_MAIN_CONFIG:-conf/target.json}
DATA_MB=${E2E_MAIN_DATA_MB:-32}
NS_SIZE=${E2E_MAIN_NS_SIZE:-256M}
HUGE_MB=${E2E_MAIN_HUGE_MB:-256}
MEM_MB=${E2E_MAIN_MEM_MB:-256}
DATA=/tmp/e2e-main-data.bin
SUMMARY=()

say() { SUMMARY+=("$(printf '  %-12s %s' "$1" "$2")"); }
mbps() { awk -v mib="$1" -v s="$2" 'BEGIN { printf "%.1f", mib * 1.048576 / s }'; }
local_mode() { [[ ${E2E_LOCAL:-} == 1 ]]; }

# ---- the configuration ------------------------------------------------------------------
# conf/target.json is not there yet on some branches: write one of the same shape.
temp_config() {
    local f=/tmp/e2e-main-target.json
    cat >"$f" <<'EOF'
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_aio_create",
     "params": {"name": "aio0", "filename": "build/nvmf_tgt-aio0.img", "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "RDMA"}},
    {"method": "nvmf_create_subsystem",
     "params": {"nqn": "nqn.2016-06.io.spdk:cnode1", "allow_any_host": true,
                "serial_number": "NVMFTGT0000000001", "model_number": "nvmf_tgt"}},
    {"method": "nvmf_subsystem_add_ns",
     "params": {"nqn": "nqn.2016-06.io.spdk:cnode1", "namespace": {"nsid": 1, "bdev_name": "aio0"}}},
    {"method": "nvmf_subsystem_add_listener",
     "params": {"nqn": "nqn.2016-06.io.spdk:cnode1",
                "listen_address": {"trtype": "RDMA", "adrfam": "IPv4",
                                   "traddr": "10.0.0.1", "trsvcid": "4420"}}}]}]}
EOF
    log "$CONFIG does not exist: using a temporary config of the same shape ($f)"
    CONFIG=$f
}

cfg() { jq -r "$@" "$CONFIG" || fail "cannot read $CONFIG with jq"; }

# Sets SUBNQN, AIO_FILES and the listener (E2E_ADDR, E2E_PORT: rxe_up uses that address).
read_config() {
    [[ -f $CONFIG ]] || temp_config
    local nvmf='.subsystems[] | select(.subsystem == "nvmf") | .config[]?'
    SUBNQN=$(cfg "[$nvmf | select(.method == \"nvmf_create_subsystem\") | .params.nqn][0] // empty")
    [[ -n $SUBNQN ]] || fail "$CONFIG creates no subsystem (nvmf_create_subsystem)"
    E2E_ADDR=$(cfg --arg n "$SUBNQN" "[$nvmf | select(.method == \"nvmf_subsystem_add_listener\"
        and .params.nqn == \$n) | .params.listen_address.traddr][0] // empty")
    E2E_PORT=$(cfg --arg n "$SUBNQN" "[$nvmf | select(.method == \"nvmf_subsystem_add_listener\"
        and .params.nqn == \$n) | .params.listen_address.trsvcid][0] // \"4420\"")
    [[ -n $E2E_ADDR ]] || fail "$CONFIG has no listener for $SUBNQN"
    local files # no process substitution: the guest has no /dev/fd
    files=$(cfg '.subsystems[] | select(.subsystem == "bdev") | .config[]?
        | select(.method == "bdev_aio_create") | .params.filename')
    mapfile -t AIO_FILES <<<"$files"
    [[ -n $files ]] || fail "$CONFIG has no bdev_aio_create namespace to write to"
    log "config $CONFIG: $SUBNQN on rdma $E2E_ADDR:$E2E_PORT, backing file(s) ${AIO_FILES[*]}"
}

# ---- backing files --------------------------------------------------------------------------
# The target runs from the repository root, so relative names are relative to it.
abs_path() { if [[ $1 == /* ]]; then echo "$1"; else echo "$E2E_ROOT/$1"; fi; }

# In the VM the root is an overlay (no O_DIRECT, odd sizes for nvmet): each backing file is
# a file on the ext4 scratch disk, bind-mounted where the config expects it.
backing_guest() {
    local path=$1 img
    disk_mount
    img=$E2E_DISK_MNT/main-$(basename "$path")
    truncate -s "$NS_SIZE" "$img" || fail "cannot create $img"
    mkdir -p "$(dirname "$path")" || fail "cannot create $(dirname "$path") in the guest"
    # An existing file stays untouched: touching it would copy it up into the tmpfs.
    [[ -e $path ]] || touch "$path" || fail "cannot create $path in the guest"
    mount --bind "$img" "$path" || fail "cannot bind-mount $img on $path"
    log "backing file $path: $img (ext4 scratch disk), bind-mounted"
}

# On this machine: create the file if it is missing (removed at exit) on a filesystem that
# does O_DIRECT.
backing_local() {
    local path=$1 dir probe
    dir=$(dirname "$path")
    [[ -d $dir ]] || fail "directory $dir of backing file $path does not exist"
    probe=$dir/.e2e-odirect-probe.$$
    if ! dd if=/dev/zero of="$probe" bs=4096 count=1 oflag=direct status=none 2>/dev/null; then
        rm -f "$probe"
        fail "$dir does not support O_DIRECT (tmpfs?): put the backing file elsewhere"
    fi
    rm -f "$probe"
    if [[ -e $path ]]; then
        log "using the existing $path: its first $DATA_MB MiB are overwritten"
    else
        truncate -s "$NS_SIZE" "$path" || fail "cannot create $path"
        at_exit rm -f "$path"
    fi
}

prepare_backing() {
    local f path size
    for f in "${AIO_FILES[@]}"; do
        path=$(abs_path "$f")
        if local_mode; then backing_local "$path"; else backing_guest "$path"; fi
        size=$(stat -L -c %s "$path")
        ((size >= DATA_MB * 1048576)) || fail "$path is smaller than the $DATA_MB MiB to write"
    done
    BACKING=$(abs_path "${AIO_FILES[0]}")
}

# ---- the target -----------------------------------------------------------------------------
# Hugepages: reserved in the VM; on a machine of its own only used if already free.
memory_args() {
    local pages free
    if ((HUGE_MB > 0)); then
        pages=$((HUGE_MB / 2))
        if ! local_mode; then
            echo "$pages" >/proc/sys/vm/nr_hugepages || fail "cannot reserve $pages hugepages"
        fi
        free=$(cat /sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages 2>/dev/null || echo 0)
        if ((free >= pages)); then
            MEM_DESC="hugepages: $HUGE_MB MiB reserved, $free 2 MiB pages free at start"
            E2E_NVMF_TGT_ARGS=${E2E_NVMF_TGT_ARGS:-} # set: no --no-huge default
            return 0
        fi
        local_mode || fail "only $free of $pages hugepages could be reserved (E2E_MEM?)"
        log "only $free free hugepages here: running with --no-huge -s $MEM_MB"
    fi
    E2E_NVMF_TGT_ARGS="--no-huge -s $MEM_MB ${E2E_NVMF_TGT_ARGS:-}"
    MEM_DESC="--no-huge -s $MEM_MB"
}

start_target() {
    local cfg_shown=$CONFIG
    [[ $CONFIG == "$E2E_ROOT"/* ]] && cfg_shown=${CONFIG#"$E2E_ROOT"/}
    if [[ $TARGET == kernel ]]; then
        timed target_start target_start kernel "$SUBNQN" "$BACKING" || fail "kernel nvmet start"
        say target "the kernel's nvmet-rdma (configfs), $SUBNQN, namespace 1 on $BACKING"
    else
        [[ -x $NVMF_TGT ]] || fail "no target binary $NVMF_TGT: build it first (make), or set NVMF_TGT"
        memory_args
        cd "$E2E_ROOT" || fail "cannot cd to $E2E_ROOT"
        at_exit target_stop nvmf_tgt
        timed target_start nvmf_tgt_start "$cfg_shown" || fail "nvmf_tgt start"
        local args=()
        read -r -a args <<<"${E2E_NVMF_TGT_ARGS:-}"
        say target "${NVMF_TGT#"$E2E_ROOT"/} ${args[*]}${args[*]:+ }-c $cfg_shown (pid $NVMF_TGT_PID, $MEM_DESC)"
    fi
    say listening "rdma $E2E_ADDR:$E2E_PORT, $TIMED_S s after start"
}
# shellcheck disable=SC2317 # run through timed
nvmf_tgt_start() {
    nvmf_tgt_exec "$1"
    target_wait_listen nvmf_tgt
}

stop_target() {
    if [[ $TARGET == kernel ]]; then
        target_stop_kernel
        say stopped "kernel nvmet configuration removed"
        return 0
    fi
    timed target_stop target_stop_nvmf_tgt
    if ((NVMF_TGT_KILLED)) || [[ $NVMF_TGT_RC != 0 ]]; then
        tail -n 30 "$NVMF_TGT_LOG" >&2 || true
        fail "nvmf_tgt did not exit cleanly after SIGTERM (exit status $NVMF_TGT_RC, killed: $NVMF_TGT_KILLED)"
    fi
    pass "nvmf_tgt exited with status 0 after SIGTERM"
    say stopped "SIGTERM: the target exited cleanly (status 0) in $TIMED_S s"
}

# ---- the host ---------------------------------------------------------------------------------
discover() {
    local out
    out=$(timed discover host_discover "$HOST_NQN" "$HOST_ID") || fail "nvme discover -t rdma -a $E2E_ADDR -s $E2E_PORT"
    printf '%s\n' "$out" >"$E2E_RESULTS/discover.txt"
    grep -q "subnqn: *$SUBNQN\$" <<<"$out" || fail "the discovery log does not list $SUBNQN"
    pass "nvme discover lists $SUBNQN"
    say discovered "$SUBNQN at rdma $E2E_ADDR:$E2E_PORT ($(grep -c '^=====Discovery Log Entry' <<<"$out") log entries)"
}

# --ctrl-loss-tmo: should the target die, I/O fails after that many seconds instead of
# hanging in uninterruptible sleep for the default 600 s.
connect() {
    local ctrl model size_mib
    timed connect host_connect "$SUBNQN" "$HOST_NQN" "$HOST_ID" --ctrl-loss-tmo=15 >/dev/null ||
        fail "nvme connect -t rdma -n $SUBNQN -a $E2E_ADDR -s $E2E_PORT (see dmesg)"
    at_exit "nvme disconnect -n $SUBNQN"
    DEV=$(wait_nvme_dev "$SUBNQN")
    pass "nvme connect: $DEV"
    ctrl=$(nvme_ctrl "$SUBNQN")
    model=$(sed 's/ *$//' "/sys/block/${DEV#/dev/}/device/model" 2>/dev/null || echo '?')
    size_mib=$(($(cat "/sys/block/${DEV#/dev/}/size") / 2048))
    say connected "nvme connect -t rdma -n $SUBNQN -a $E2E_ADDR -s $E2E_PORT in $TIMED_S s:"
    say "" "$DEV (controller $ctrl, model '$model', $size_mib MiB)"
}

# nvme_ctrl SUBNQN: the controller (nvmeN) connected to the subsystem.
nvme_ctrl() {
    local c
    for c in /sys/class/nvme-subsystem/*/nvme[0-9]*; do
        [[ -f $c/subsysnqn && $(cat "$c/subsysnqn") == "$1" ]] && { basename "$c"; return 0; }
    done
    echo '?'
}

# shellcheck disable=SC2317 # run through timed
read_sha() {
    dd if="$DEV" bs=1M count="$DATA_MB" iflag=direct status=none | sha256sum | cut -d' ' -f1
}

write_read_verify() {
    local want got
    head -c "${DATA_MB}M" /dev/urandom >"$DATA"
    want=$(sha256sum "$DATA" | cut -d' ' -f1)
    timed write dd if="$DATA" of="$DEV" bs=1M oflag=direct status=none || fail "dd O_DIRECT write to $DEV"
    say wrote "$DATA_MB MiB of random data, O_DIRECT, 1 MiB blocks: $(mbps "$DATA_MB" "$TIMED_S") MB/s"
    timed read read_sha >/tmp/e2e-main-sha || fail "dd O_DIRECT read from $DEV"
    got=$(cat /tmp/e2e-main-sha)
    assert_eq "$DATA_MB MiB read back O_DIRECT with the same sha256" "$want" "$got"
    say "read back" "$DATA_MB MiB at $(mbps "$DATA_MB" "$TIMED_S") MB/s: sha256 ${got:0:16}... matches"
    rm -f "$DATA"
}

disconnect() {
    timed disconnect host_disconnect "$SUBNQN" || fail "nvme disconnect -n $SUBNQN"
    say disconnected "in $TIMED_S s"
}

print_summary() {
    local where
    where="in the e2e VM (Debian kernel $(uname -r) under qemu)"
    if local_mode; then where="on this machine (kernel $(uname -r))"; fi
    echo
    echo "=== make run: $TARGET served a Linux host over soft-RoCE ($E2E_RDMA_DEV on $E2E_IF) $where"
    printf '%s\n' "${SUMMARY[@]}"
}

main() {
    [[ $TARGET == kernel || $TARGET == nvmf_tgt ]] || fail "usage: $0 [nvmf_tgt|kernel]"
    require_guest
    require_cmd nvme dd sha256sum jq rdma
    require_module nvme-rdma
    cd "$E2E_ROOT" || fail "cannot cd to $E2E_ROOT"
    [[ $CONFIG == /* ]] || CONFIG=$E2E_ROOT/$CONFIG
    read_config
    timed rxe_up rxe_up
    prepare_backing
    new_host HOST
    start_target
    discover
    connect
    write_read_verify
    disconnect
    stop_target
    print_summary
    finish
}

main "$@"
