#!/bin/bash
# Guest test: the basic NVMe-oF RDMA path against a target, with the kernel's nvme-rdma host.
#   tests/e2e/run-vm.sh tests/e2e/t_basic.sh kernel|nvmf_tgt
# Discover, refuse a host not on the allowlist, connect, nvme list shows the configured
# serial/model, write 64 MiB O_DIRECT and read it back, a write lands at the same offset of
# the backing file, fio 4k random and 128k sequential writes with crc32c verify, write-zeroes
# and discard read back zeroes (neighbours intact), flush, disconnect, reconnect, data still
# there, ext4 on the namespace survives umount/disconnect/reconnect, a host allowed at run
# time, two hosts (two controllers) at once and one leaves, a new connect after all
# disconnects; against nvmf_tgt also a controller reset under fio (verify passes) and a
# controller deleted under fio (target keeps serving), and SIGTERM gives exit status 0.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGET=${1:-}
SUBNQN=nqn.2016-06.io.spdk:cnode1
NS_SIZE=256M
DATA_MB=64
FIO_SIZE=${E2E_FIO_SIZE:-16M}
DATA=/tmp/e2e-data.bin
M=$((1024 * 1024))
BACKING= # the namespace's backing file (set in main)
# Namespace layout (256 MiB, byte offsets): 0-64M dd data (checked again after reconnect),
# 64M-80M fio 4k verify, 96M-128M fio 128k verify, 128M-136M write-zeroes/discard zone,
# 160M backing-file check; later ext4 takes the whole namespace.
SEQ_OFF=$((96 * M))
SEQ_SIZE=${E2E_FIO_SEQ_SIZE:-32M}
ZONE_OFF=$((128 * M))
ZONE_LEN=$((8 * M))
BK_OFF=$((160 * M + 12 * 1024))
FS_MNT=/e2e/nsfs
FS_FILE_MB=8

check_discover() {
    local out
    out=$(timed discover host_discover "$HOST_NQN" "$HOST_ID") || fail "nvme discover"
    printf '%s\n' "$out"
    grep -q "subnqn: *$SUBNQN" <<<"$out" || fail "discovery log does not list $SUBNQN"
    grep -q 'trtype: *rdma' <<<"$out" || fail "discovery log entry is not rdma"
    pass "discovery lists $SUBNQN for an allowed host"
    out=$(host_discover "$OTHER_NQN" "$OTHER_ID") || fail "nvme discover (other host)"
    grep -q "subnqn: *$SUBNQN" <<<"$out" && fail "discovery shows $SUBNQN to a host not allowed"
    pass "discovery hides $SUBNQN from a host not allowed"
}

check_refused() {
    refute "a host not on the allowlist cannot connect" \
        host_connect "$SUBNQN" "$OTHER_NQN" "$OTHER_ID"
    nvme_is_connected "$SUBNQN" && fail "a controller exists after a refused connect"
    return 0
}

connect() {
    timed "$1" host_connect "$SUBNQN" "$HOST_NQN" "$HOST_ID" >/dev/null ||
        fail "nvme connect to $SUBNQN (see dmesg)"
    DEV=$(wait_nvme_dev "$SUBNQN") || {
        nvme list-subsys >&2 || true
        ls -l /dev/nvme* /sys/class/nvme-subsystem/*/ >&2 || true
        fail "no block device after connect"
    }
    log "namespace block device: $DEV"
}

disconnect() {
    timed "$1" host_disconnect "$SUBNQN" || fail "nvme disconnect -n $SUBNQN"
}

check_list() {
    local out
    out=$(nvme list) || fail "nvme list"
    printf '%s\n' "$out"
    grep -q "^$DEV " <<<"$out" || fail "nvme list does not show $DEV"
    pass "nvme list shows $DEV"
}

# nvme list's row for $DEV must carry the serial and model the target was configured with.
check_ident() {
    local serial model row
    read -r serial model <<<"$(target_ident "$TARGET" "$SUBNQN")"
    [[ -n $serial && -n $model ]] || fail "target_ident $TARGET gave no serial/model"
    row=$(nvme list | awk -v d="$DEV" '$1 == d')
    [[ $row == *" $serial "* ]] || fail "nvme list row for $DEV lacks serial '$serial': $row"
    [[ $row == *" $model "* ]] || fail "nvme list row for $DEV lacks model '$model': $row"
    pass "nvme list shows the configured serial '$serial' and model '$model'"
}

# Byte-range I/O, O_DIRECT (offsets and lengths: multiples of 4 KiB).
# put_at FILE DEST OFFSET: write FILE into DEST at OFFSET. get_at SRC OFFSET LEN: print.
put_at() { dd if="$1" of="$2" bs=1M oflag=direct,seek_bytes seek="$3" conv=notrunc status=none; }
get_at() { dd if="$1" bs=1M iflag=direct,skip_bytes,count_bytes skip="$2" count="$3" status=none; }
sha() { sha256sum | cut -d' ' -f1; }

# io_roundtrip OFFSET "what": 1 MiB of random data written at OFFSET reads back the same.
io_roundtrip() {
    local f=/tmp/e2e-io.bin want
    head -c "$M" /dev/urandom >"$f"
    want=$(sha <"$f")
    put_at "$f" "$DEV" "$1" || fail "$2: O_DIRECT write of 1 MiB at $1 to $DEV"
    assert_eq "$2" "$want" "$(get_at "$DEV" "$1" "$M" | sha)"
}

dev_sha() {
    dd if="$DEV" bs=1M count="$DATA_MB" iflag=direct status=none | sha256sum | cut -d' ' -f1
}

mbps() { awk -v mb="$1" -v s="$2" 'BEGIN { printf "%.1f", mb / s }'; }

check_data_roundtrip() {
    head -c "${DATA_MB}M" /dev/urandom >"$DATA"
    WANT_SHA=$(sha256sum "$DATA" | cut -d' ' -f1)
    timed dd_write dd if="$DATA" of="$DEV" bs=1M oflag=direct status=none ||
        fail "dd O_DIRECT write to $DEV"
    timing dd_write_MBps "$(mbps "$DATA_MB" "$TIMED_S")"
    local got
    timed dd_read_sha dev_sha >/tmp/e2e-sha || fail "dd O_DIRECT read from $DEV"
    got=$(cat /tmp/e2e-sha)
    timing dd_read_MBps "$(mbps "$DATA_MB" "$TIMED_S")"
    assert_eq "$DATA_MB MiB read back O_DIRECT with the same sha256" "$WANT_SHA" "$got"
}

# fio_iops FILE rw: the IOPS fio printed for reads or writes (handles "3.4k").
fio_iops() {
    sed -n "s/^ *$2: IOPS=\([0-9.]*k\{0,1\}\),.*/\1/p" "$1" | head -n1 |
        awk '/k$/ { sub(/k$/, ""); printf "%d", $1 * 1000; next } { printf "%d", $1 }'
}

check_fio_verify() {
    local log=/tmp/e2e-fio-verify.log
    fio --name=verify --filename="$DEV" --ioengine=libaio --direct=1 --rw=randwrite --bs=4k \
        --iodepth=16 --offset="${DATA_MB}M" --size="$FIO_SIZE" --verify=crc32c --do_verify=1 \
        --verify_fatal=1 --runtime=60 >"$log" 2>&1 || { tail -n 30 "$log"; fail "fio verify"; }
    grep -q 'verify: bad\|crc32c: verify failed' "$log" && { cat "$log"; fail "fio verify errors"; }
    timing fio_randwrite_4k_qd16_iops "$(fio_iops "$log" write)"
    pass "fio 4k random write $FIO_SIZE with crc32c verify"
}

check_fio_seq_verify() {
    local log=/tmp/e2e-fio-seq.log iops
    fio --name=seqverify --filename="$DEV" --ioengine=libaio --direct=1 --rw=write --bs=128k \
        --iodepth=16 --offset="$SEQ_OFF" --size="$SEQ_SIZE" --verify=crc32c --do_verify=1 \
        --verify_fatal=1 --runtime=60 >"$log" 2>&1 || { tail -n 30 "$log"; fail "fio seq verify"; }
    grep -q 'verify: bad\|crc32c: verify failed' "$log" && { cat "$log"; fail "fio verify errors"; }
    iops=$(fio_iops "$log" write)
    timing fio_seqwrite_128k_qd16_MiBps "$(awk -v i="$iops" 'BEGIN { printf "%.1f", i / 8 }')"
    pass "fio 128k sequential write $SEQ_SIZE with crc32c verify"
}

# The 1 MiB written through the block device at BK_OFF (O_DIRECT, then flush) is in the
# target's backing file at the same offset (the guest is host and target both).
check_backing_file() {
    local f=/tmp/e2e-bk.bin want
    head -c "$M" /dev/urandom >"$f"
    want=$(sha <"$f")
    put_at "$f" "$DEV" "$BK_OFF" || fail "O_DIRECT write of 1 MiB at $BK_OFF to $DEV"
    nvme flush "$DEV" >/dev/null || fail "nvme flush $DEV"
    assert_eq "1 MiB written at byte $BK_OFF of $DEV is at the same offset of the backing file" \
        "$want" "$(get_at "$BACKING" "$BK_OFF" "$M" | sha)"
}

# Write-zeroes and discard of 4K-aligned ranges inside a zone of random data: the range
# reads back as zeroes, the bytes around it unchanged. Zeroes after a discard are not an
# NVMe promise (DLFEAT), but both targets here punch a hole in a file on ext4 (ours:
# fallocate PUNCH_HOLE; the kernel's nvmet file backend: vfs_fallocate PUNCH_HOLE), which
# reads back as zeroes, so the check holds for both.
check_write_zeroes_discard() {
    local ss want=/tmp/e2e-zone-want.bin off len
    ss=$(blockdev --getss "$DEV") || fail "blockdev --getss $DEV"
    head -c "$ZONE_LEN" /dev/urandom >"$want"
    put_at "$want" "$DEV" "$ZONE_OFF" || fail "O_DIRECT write of the zone at $ZONE_OFF"
    off=$((M + 12 * 1024)) len=$((M + 4096))
    nvme write-zeroes "$DEV" -s $(((ZONE_OFF + off) / ss)) -c $((len / ss - 1)) >/dev/null ||
        fail "nvme write-zeroes $DEV (slba $(((ZONE_OFF + off) / ss)), $((len / ss)) blocks of $ss)"
    zero_range "$want" "$off" "$len"
    zone_is "$want" "nvme write-zeroes of $len bytes at $((ZONE_OFF + off)): zeroes, neighbours intact"
    off=$((4 * M + 8192)) len=$((2 * M + 4096))
    blkdiscard -o $((ZONE_OFF + off)) -l "$len" "$DEV" || fail "blkdiscard $DEV"
    zero_range "$want" "$off" "$len"
    zone_is "$want" "blkdiscard of $len bytes at $((ZONE_OFF + off)): zeroes, neighbours intact"
}
zero_range() { dd if=/dev/zero of="$1" bs=4k seek=$(($2 / 4096)) count=$(($3 / 4096)) conv=notrunc status=none; }
zone_is() {
    local got=/tmp/e2e-zone-got.bin
    get_at "$DEV" "$ZONE_OFF" "$ZONE_LEN" >"$got" || fail "O_DIRECT read of the zone at $ZONE_OFF"
    cmp "$1" "$got" || fail "$2 (cmp: expected vs read back; bytes counted from $ZONE_OFF)"
    pass "$2"
}

measure_fio_randread() {
    local log=/tmp/e2e-fio-read.log
    fio --name=randread --filename="$DEV" --ioengine=libaio --direct=1 --rw=randread --bs=4k \
        --iodepth=16 --size="${DATA_MB}M" --time_based --runtime=3 >"$log" 2>&1 ||
        { tail -n 30 "$log"; fail "fio randread"; }
    timing fio_randread_4k_qd16_iops "$(fio_iops "$log" read)"
}

check_add_host() {
    target_add_host "$TARGET" "$SUBNQN" "$OTHER_NQN"
    host_connect "$SUBNQN" "$OTHER_NQN" "$OTHER_ID" >/dev/null ||
        fail "a host added with target_add_host cannot connect"
    wait_nvme_dev "$SUBNQN" >/dev/null
    pass "a host added at run time connects"
    host_disconnect "$SUBNQN" || fail "disconnect (added host)"
}

# ext4 on the namespace: a file written, unmounted, disconnected, reconnected, fsck clean,
# mounted again, same sha256.
check_fs_persists() {
    local f=$FS_MNT/e2e-file.bin want
    timed mkfs_ext4 mkfs.ext4 -F -q -E lazy_itable_init=0,lazy_journal_init=0 "$DEV" ||
        fail "mkfs.ext4 $DEV"
    mkdir -p "$FS_MNT"
    mount -t ext4 "$DEV" "$FS_MNT" || fail "mount $DEV (fresh ext4)"
    at_exit "umount $FS_MNT"
    head -c "${FS_FILE_MB}M" /dev/urandom >"$f" || fail "write $f"
    want=$(sha <"$f")
    umount "$FS_MNT" || fail "umount $FS_MNT"
    disconnect disconnect_fs
    connect reconnect_fs
    assert "e2fsck: ext4 on the namespace is clean after reconnect" e2fsck -fn "$DEV"
    mount -t ext4 "$DEV" "$FS_MNT" || fail "mount $DEV after reconnect"
    assert_eq "a ${FS_FILE_MB} MiB file on ext4 survives umount/disconnect/reconnect (sha256)" \
        "$want" "$(sha <"$f")"
    umount "$FS_MNT" || fail "umount $FS_MNT"
}

# host_connect_raw SUBNQN HOSTNQN HOSTID: connect through /dev/nvme-fabrics itself. nvme-cli
# 2.3 refuses a second controller on the same subsystem and address whatever its host NQN
# ("already connected": its lookup ignores the host, and -D does not skip it).
host_connect_raw() {
    local fd out
    exec {fd}<>/dev/nvme-fabrics || return 1
    if ! printf 'transport=rdma,traddr=%s,trsvcid=%s,nqn=%s,hostnqn=%s,hostid=%s' \
        "$E2E_ADDR" "$E2E_PORT" "$1" "$2" "$3" >&"$fd"; then
        exec {fd}>&-
        return 1
    fi
    read -r out <&"$fd" || true
    exec {fd}>&-
    log "/dev/nvme-fabrics: $out"
}

# Two hosts (both allowed) connected at once: two controllers of the subsystem with
# distinct CNTLIDs. One disconnects; the other still does I/O. After all disconnect, a new
# connect works.
check_two_hosts() {
    local c1 c2 id1 id2 i
    host_connect "$SUBNQN" "$HOST_NQN" "$HOST_ID" >/dev/null || fail "connect (first host)"
    host_connect_raw "$SUBNQN" "$OTHER_NQN" "$OTHER_ID" ||
        fail "a second host cannot connect while the first is connected (see dmesg)"
    c1=$(nvme_ctrl "$SUBNQN" "$HOST_NQN") || fail "no live controller for the first host"
    c2=$(nvme_ctrl "$SUBNQN" "$OTHER_NQN") || fail "no live controller for the second host"
    id1=$(cat "/sys/class/nvme/$c1/cntlid") id2=$(cat "/sys/class/nvme/$c2/cntlid")
    [[ $id1 != "$id2" ]] || fail "both controllers have cntlid $id1"
    pass "two hosts connected at once: $c1 (cntlid $id1) and $c2 (cntlid $id2)"
    DEV=$(wait_nvme_dev "$SUBNQN") || fail "no block device with two hosts connected"
    nvme disconnect -d "$c2" >/dev/null || fail "nvme disconnect -d $c2"
    for ((i = 0; i < 50; i++)); do
        [[ -e /sys/class/nvme/$c2 ]] || break
        sleep 0.1
    done
    [[ ! -e /sys/class/nvme/$c2 ]] || fail "$c2 still there 5 s after nvme disconnect -d"
    nvme_ctrl "$SUBNQN" "$HOST_NQN" >/dev/null || fail "disconnecting $c2 took $c1 down"
    io_roundtrip $((200 * M)) "$c2 disconnected, $c1 still does I/O (1 MiB, sha256)"
    disconnect disconnect_all
    connect connect_after_all
    io_roundtrip $((201 * M)) "a new connect after all disconnects does I/O (1 MiB, sha256)"
}

# fio_bg NAME ARGS...: start fio on $DEV in the background (log /tmp/e2e-fio-NAME.log),
# FIO_PID; fio_doing_io_or_fail: it must be running and doing I/O (else the check proves nothing).
fio_bg() {
    local name=$1
    shift
    FIO_LOG=/tmp/e2e-fio-$name.log
    FIO_IOS0=$(dev_ios)
    # allow_file_create=0: a fio that opens $DEV just after its controller went away must
    # not create a regular file there (devtmpfs would then never show the block device
    # again under that name).
    fio --name="$name" --filename="$DEV" --allow_file_create=0 --ioengine=libaio --direct=1 \
        "$@" >"$FIO_LOG" 2>&1 &
    FIO_PID=$!
}
# fio_doing_io_or_fail "before what": wait (up to 30 s: fio starts slowly on a loaded
# machine) until the device has completed 64 more I/Os since fio_bg, fio still running.
fio_doing_io_or_fail() {
    local i
    for ((i = 0; i < 300; i++)); do
        kill -0 "$FIO_PID" 2>/dev/null || { cat "$FIO_LOG"; fail "fio ended before $1"; }
        (($(dev_ios) >= FIO_IOS0 + 64)) && return 0
        sleep 0.1
    done
    fail "fio did no I/O in 30 s before $1"
}
# dev_ios: reads + writes completed on the namespace's paths (nvmeXcYnZ: the multipath
# head $DEV keeps no I/O counters).
dev_ios() {
    local n=${DEV##*/}
    cat /sys/block/"${n%n*}"c*n"${n##*n}"/stat 2>/dev/null | awk '{ s += $1 + $5 } END { print s + 0 }'
}
# fio_wait SECONDS: wait for the background fio (SIGKILL and fail after SECONDS); its
# exit status in FIO_RC.
fio_wait() {
    local i
    for ((i = 0; i < $1 * 10; i++)); do
        kill -0 "$FIO_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$FIO_PID" 2>/dev/null; then
        kill -KILL "$FIO_PID"
        tail -n 20 "$FIO_LOG"
        fail "fio still runs $1 s later"
    fi
    FIO_RC=0
    wait "$FIO_PID" || FIO_RC=$?
}

# A controller reset under random writes (QD16): the host drops the queues with commands
# outstanding at the target, connects a new controller, and retries them. fio must end
# without an I/O error and its crc32c verify must pass. The rate cap keeps the write
# phase >= 2 s however fast the machine, so the reset lands in it.
check_reset_under_io() {
    local ctrl
    ctrl=$(nvme_ctrl "$SUBNQN" "$HOST_NQN") || fail "no live controller before the reset test"
    fio_bg reset --rw=randwrite --bs=4k --iodepth=16 --offset=$((208 * M)) --size=4M \
        --rate_iops=500 --verify=crc32c --do_verify=1 --verify_fatal=1
    fio_doing_io_or_fail "the controller reset"
    timed reset_mid_io nvme reset "/dev/$ctrl" || fail "nvme reset /dev/$ctrl"
    fio_wait 60
    ((FIO_RC == 0)) || { tail -n 30 "$FIO_LOG"; fail "fio failed across a controller reset (see dmesg)"; }
    grep -q 'verify: bad\|crc32c: verify failed' "$FIO_LOG" && { cat "$FIO_LOG"; fail "fio verify errors after reset"; }
    pass "controller reset under fio random writes: no I/O error, crc32c verify passes"
}

# A host that vanishes mid-I/O: fio (random reads/writes 4k-128k, QD32) runs while the
# host deletes its controller through sysfs. fio's I/O fails; the target must keep
# serving: a fresh connect does I/O.
check_delete_under_io() {
    local ctrl
    ctrl=$(nvme_ctrl "$SUBNQN" "$HOST_NQN") || fail "no live controller before the delete test"
    fio_bg crash --rw=randrw --bsrange=4k-128k --iodepth=32 --size=64M --time_based --runtime=60
    fio_doing_io_or_fail "the controller was deleted"
    timed delete_ctrl_mid_io sh -c "echo 1 >/sys/class/nvme/$ctrl/delete_controller" ||
        fail "delete_controller on $ctrl"
    fio_wait 30 # I/O errors are expected: the device went away under fio
    log "fio after its controller was deleted: exit $FIO_RC, $(grep -m1 'err=' "$FIO_LOG" || true)"
    target_alive "$TARGET" || fail "$TARGET stopped serving after a host vanished mid-I/O"
    pass "$TARGET survives a controller deleted under fio"
    connect reconnect_after_delete
    io_roundtrip $((202 * M)) "a fresh connect after the host vanished does I/O (1 MiB, sha256)"
}

# The target still serves at the end; nvmf_tgt then exits 0 on SIGTERM.
check_target_exit() {
    local rc=0
    target_alive "$TARGET" || fail "$TARGET is not serving at the end"
    pass "$TARGET still serving after all disconnects"
    [[ $TARGET == nvmf_tgt ]] || return 0
    timed nvmf_tgt_sigterm target_stop_rc "$TARGET" || rc=$?
    assert_eq "nvmf_tgt exits with status 0 on SIGTERM" 0 "$rc"
}

main() {
    [[ $TARGET == kernel || $TARGET == nvmf_tgt ]] || fail "usage: $0 kernel|nvmf_tgt"
    require_guest
    require_cmd nvme fio dd sha256sum cmp blkdiscard blockdev mkfs.ext4 e2fsck jq
    require_module nvme-rdma
    timed rxe_up rxe_up
    disk_mount
    BACKING=$E2E_DISK_MNT/ns1.img
    truncate -s "$NS_SIZE" "$BACKING"
    new_host HOST
    new_host OTHER
    timed target_start target_start "$TARGET" "$SUBNQN" "$BACKING" "$HOST_NQN"
    at_exit "nvme disconnect -n $SUBNQN" # before the target stops (cleanups run in reverse)

    check_discover
    check_refused
    connect connect
    check_list
    check_ident
    check_data_roundtrip
    check_backing_file
    check_fio_verify
    timed fio_seq_verify check_fio_seq_verify
    measure_fio_randread
    check_write_zeroes_discard
    assert "nvme flush" nvme flush "$DEV"
    disconnect disconnect
    connect reconnect
    assert_eq "data survives disconnect/reconnect (sha256)" "$WANT_SHA" "$(dev_sha)"
    timed fs_persists check_fs_persists
    disconnect disconnect2
    check_add_host
    timed two_hosts check_two_hosts
    if [[ $TARGET == nvmf_tgt ]]; then # robustness: our target only, to keep the time down
        timed reset_under_io check_reset_under_io
        timed delete_under_io check_delete_under_io
    fi
    disconnect disconnect_last
    check_target_exit
    finish
}

main "$@"
