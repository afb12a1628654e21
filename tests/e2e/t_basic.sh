#!/bin/bash
# Guest test: the basic NVMe-oF RDMA path against a target, with the kernel's nvme-rdma host.
#   tests/e2e/run-vm.sh tests/e2e/t_basic.sh kernel|nvmf_tgt
# Discover, refuse a host not on the allowlist, connect, write 64 MiB O_DIRECT and read it
# back, fio random writes with crc32c verify, flush, disconnect, reconnect, data still there,
# allow a second host at run time, disconnect.
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

TARGET=${1:-}
SUBNQN=nqn.2016-06.io.spdk:cnode1
NS_SIZE=256M
DATA_MB=64
FIO_SIZE=${E2E_FIO_SIZE:-16M}
DATA=/tmp/e2e-data.bin

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
    DEV=$(wait_nvme_dev "$SUBNQN")
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

main() {
    [[ $TARGET == kernel || $TARGET == nvmf_tgt ]] || fail "usage: $0 kernel|nvmf_tgt"
    require_guest
    require_cmd nvme fio dd sha256sum
    require_module nvme-rdma
    timed rxe_up rxe_up
    disk_mount
    truncate -s "$NS_SIZE" "$E2E_DISK_MNT/ns1.img"
    new_host HOST
    new_host OTHER
    timed target_start target_start "$TARGET" "$SUBNQN" "$E2E_DISK_MNT/ns1.img" "$HOST_NQN"
    at_exit "nvme disconnect -n $SUBNQN" # before the target stops (cleanups run in reverse)

    check_discover
    check_refused
    connect connect
    check_list
    check_data_roundtrip
    check_fio_verify
    measure_fio_randread
    assert "nvme flush" nvme flush "$DEV"
    disconnect disconnect
    connect reconnect
    assert_eq "data survives disconnect/reconnect (sha256)" "$WANT_SHA" "$(dev_sha)"
    disconnect disconnect2
    check_add_host
    finish
}

main "$@"
