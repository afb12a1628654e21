#!/bin/bash
# shellcheck disable=SC2317 # functions called through at_exit look unreachable
# Guest test: failing backing storage (issue 12). One subsystem, three namespaces:
#   nsid 1  a device-mapper device over a loop file with a 2 MiB `error` range
#   nsid 2  a plain file on the scratch disk: fio with crc32c verify runs on it throughout
#   nsid 3  a 64 MiB sparse file on a 24 MiB ext4 filesystem that fills up
# Checks: reads and writes in the error range answer Unrecovered Read Error (0x281) and
# Write Fault (0x280) to `nvme read/write`, and EIO to the block layer; the rest of nsid 1
# keeps working; writes past the free space answer Capacity Exceeded (0x81, DNR), every write
# acknowledged before that reads back intact, and writes work again once space is freed;
# fio on nsid 2 never sees an error; the target stays up and exits 0 on SIGTERM.
#   tests/e2e/run-vm.sh tests/e2e/t_disk.sh
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NQN=nqn.2016-06.io.spdk:disk
CONFIG=/tmp/e2e-disk.json
DM=e2efaulty
ERR_SECTOR=65536 # the error range: 2 MiB at 32 MiB of nsid 1
ERR_SECTORS=4096
SMALL_MNT=/e2e/small
FIO_LOG=/tmp/e2e-disk-fio.log

# nvme_ns_dev SUBNQN NSID: the head node of that namespace.
nvme_ns_dev() {
    local s ns
    for s in /sys/class/nvme-subsystem/*/; do
        [[ -f $s/subsysnqn && $(cat "$s/subsysnqn") == "$1" ]] || continue
        for ns in "$s"nvme*n*; do
            [[ -f $ns/nsid && $(cat "$ns/nsid") == "$2" && -b /dev/${ns##*/} ]] || continue
            echo "/dev/${ns##*/}"
            return 0
        done
    done
    return 1
}
wait_ns_dev() {
    local i
    for ((i = 0; i < 100; i++)); do
        nvme_ns_dev "$1" "$2" && return 0
        sleep 0.1
    done
    fail "no block device for nsid $2 of $1"
}

faulty_up() {
    local loop
    truncate -s 64M "$E2E_DISK_MNT/dm.img"
    loop=$(losetup -f --show "$E2E_DISK_MNT/dm.img") || fail "losetup"
    at_exit losetup -d "$loop"
    printf '%s\n' "0 $ERR_SECTOR linear $loop 0" \
        "$ERR_SECTOR $ERR_SECTORS error" \
        "$((ERR_SECTOR + ERR_SECTORS)) $((131072 - ERR_SECTOR - ERR_SECTORS)) linear $loop $((ERR_SECTOR + ERR_SECTORS))" \
        >/tmp/e2e-dm.table
    dmsetup create "$DM" --noudevsync </tmp/e2e-dm.table || fail "dmsetup create"
    at_exit dmsetup remove --noudevsync "$DM"
    dmsetup mknodes "$DM"
    [[ -b /dev/mapper/$DM ]] || fail "no /dev/mapper/$DM"
}

small_fs_up() {
    truncate -s 24M "$E2E_DISK_MNT/small.fs"
    mkfs.ext4 -q -F "$E2E_DISK_MNT/small.fs" || fail "mkfs.ext4"
    mkdir -p "$SMALL_MNT"
    mount -o loop "$E2E_DISK_MNT/small.fs" "$SMALL_MNT" || fail "mount the small filesystem"
    at_exit umount "$SMALL_MNT"
    truncate -s 64M "$SMALL_MNT/sparse.img"
    # Ballast, deleted later to free space while the target runs.
    dd if=/dev/zero of="$SMALL_MNT/ballast" bs=1M count=4 status=none
}

write_config() {
    cat >"$CONFIG" <<EOF
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_aio_create", "params": {"name": "faulty", "filename": "/dev/mapper/$DM", "block_size": 512}},
    {"method": "bdev_aio_create", "params": {"name": "good", "filename": "$E2E_DISK_MNT/good.img", "block_size": 512}},
    {"method": "bdev_aio_create", "params": {"name": "full", "filename": "$SMALL_MNT/sparse.img", "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "RDMA"}},
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$NQN", "allow_any_host": true, "serial_number": "DISK0000000000001"}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$NQN", "namespace": {"nsid": 1, "bdev_name": "faulty"}}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$NQN", "namespace": {"nsid": 2, "bdev_name": "good"}}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$NQN", "namespace": {"nsid": 3, "bdev_name": "full"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$NQN", "listen_address": {"trtype": "RDMA", "adrfam": "IPv4", "traddr": "$E2E_ADDR", "trsvcid": "$E2E_PORT"}}}]}]}
EOF
}

# nvme_status_is WHAT HEX CMD...: the passthrough command fails with that NVMe status.
nvme_status_is() {
    local what=$1 want=$2 out rc=0
    shift 2
    out=$("$@" 2>&1) || rc=$?
    log "$* -> exit $rc: $out"
    ((rc != 0)) || fail "$what: the command succeeded"
    grep -qi "($want)" <<<"$out" || fail "$what: not status $want: $out"
    pass "$what"
}

require_guest
require_cmd dmsetup
require_cmd mkfs.ext4
require_module dm-mod
rxe_up
disk_mount
faulty_up
small_fs_up
truncate -s 64M "$E2E_DISK_MNT/good.img"
write_config
NVMF_TGT_LOG=$E2E_RESULTS/nvmf_tgt_disk.log
NVMF_TGT_SOCK=/var/tmp/e2e-disk.sock
use_asan_target # the error paths under test are where memory errors hide
nvmf_tgt_exec "$CONFIG"
at_exit target_stop nvmf_tgt
target_wait_listen nvmf_tgt

new_host H
host_connect "$NQN" "$H_NQN" "$H_ID" >/dev/null || fail "nvme connect"
at_exit host_disconnect "$NQN"
D1=$(wait_ns_dev "$NQN" 1)
D2=$(wait_ns_dev "$NQN" 2)
D3=$(wait_ns_dev "$NQN" 3)
log "namespaces: faulty $D1, good $D2, full $D3"

# Verified I/O on the good namespace for the whole test.
fio_bg FIO_PID good "$D2" "$FIO_LOG" --rw=randrw --size=32M --verify_backlog=256
sleep 2

# ---- EIO: the device-mapper error range ------------------------------------------------------
head -c 4096 /dev/urandom >/tmp/e2e-disk-blk
nvme_status_is "a read in the error range is Unrecovered Read Error" 0x281 \
    nvme read "$D1" --start-block=$((ERR_SECTOR + 8)) --block-count=7 --data-size=4096 \
    --data=/tmp/e2e-disk-out
nvme_status_is "a write in the error range is Write Fault" 0x280 \
    nvme write "$D1" --start-block=$((ERR_SECTOR + 16)) --block-count=7 --data-size=4096 \
    --data=/tmp/e2e-disk-blk
refute "the block layer gets an error for the error range" \
    dd if="$D1" of=/dev/null bs=4096 skip=$((ERR_SECTOR / 8 + 4)) count=1 iflag=direct status=none
assert "a write before the error range still works" \
    dd if=/tmp/e2e-disk-blk of="$D1" bs=4096 seek=$((ERR_SECTOR / 8 - 1)) count=1 oflag=direct status=none
dd if="$D1" of=/tmp/e2e-disk-back bs=4096 skip=$((ERR_SECTOR / 8 - 1)) count=1 iflag=direct status=none ||
    fail "reading back before the error range"
assert "and reads back" cmp -s /tmp/e2e-disk-blk /tmp/e2e-disk-back
assert "a write after the error range works" \
    dd if=/tmp/e2e-disk-blk of="$D1" bs=4096 seek=$(((ERR_SECTOR + ERR_SECTORS) / 8)) count=1 \
    oflag=direct status=none
n=$(grep -c 'failed in the backend: Input/output error' "$NVMF_TGT_LOG") || true
((n >= 3)) || fail "the target logged $n backend I/O errors, expected the failed commands"
pass "the target logged the failed commands ($n lines)"

# ---- ENOSPC: a sparse file on a full filesystem ---------------------------------------------
head -c $((40 << 20)) /dev/urandom >/tmp/e2e-disk-src
rc=0
out=$(dd if=/tmp/e2e-disk-src of="$D3" bs=1M oflag=direct 2>&1) || rc=$?
log "dd 40 MiB to the 24 MiB filesystem: exit $rc: $out"
((rc != 0)) || fail "40 MiB fitted on a 24 MiB filesystem"
grep -q 'No space left on device' <<<"$out" || fail "dd did not see ENOSPC: $out"
pass "a write past the free space fails with ENOSPC on the host"
done_mb=$(sed -n 's/^\([0-9]*\)+0 records out$/\1/p' <<<"$out")
[[ -n $done_mb ]] || fail "no record count from dd: $out"
((done_mb >= 8)) || fail "only $done_mb MiB written before ENOSPC"
dd if="$D3" of=/tmp/e2e-disk-read bs=1M count="$done_mb" iflag=direct status=none ||
    fail "reading back the written part"
head -c $((done_mb << 20)) /tmp/e2e-disk-src >/tmp/e2e-disk-want
assert "the $done_mb MiB acknowledged before ENOSPC read back intact" \
    cmp -s /tmp/e2e-disk-want /tmp/e2e-disk-read
nvme_status_is "a write to unallocated space is Capacity Exceeded (DNR)" 0x4081 \
    nvme write "$D3" --start-block=$((60 << 11)) --block-count=7 --data-size=4096 \
    --data=/tmp/e2e-disk-blk
n=$(grep -c 'failed in the backend: No space left on device' "$NVMF_TGT_LOG") || true
((n >= 1)) || fail "the target did not log the ENOSPC"
rm "$SMALL_MNT/ballast"
sync
assert "once space is freed, the same write works" \
    nvme write "$D3" --start-block=$((60 << 11)) --block-count=7 --data-size=4096 \
    --data=/tmp/e2e-disk-blk

# ---- the good namespace and the target -------------------------------------------------------
fio_bg_end good "$FIO_PID" "$FIO_LOG" "fio with verify on the good namespace saw no error"
assert "the target is still up" target_alive nvmf_tgt
host_disconnect "$NQN" || fail "disconnect"
asan_target_stop
finish
