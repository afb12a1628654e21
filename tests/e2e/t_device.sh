#!/bin/bash
# shellcheck disable=SC2317 # functions called through at_exit look unreachable
# Guest test: the RDMA device goes away under the target (issue 12). Two soft-RoCE devices:
# rxe0 on e2e0 (10.0.0.1) and rxe1 on e2e2 (10.0.1.1); subsystem A listens on the first,
# B on the second. Host B runs fio with crc32c verify through all of it.
# 1. Host A writes known data; `rdma link delete rxe0` returns (rxe cannot take verbs
#    objects back: it waits until the target has destroyed every QP/CQ/MR/PD and let go of
#    the device); the target logs the loss and keeps running; host B sees no error.
# 2. `rdma link add rxe0` again: the target finds the device, listens again on 10.0.0.1,
#    host A connects again and reads its data back intact.
# 3. Port down/up (ip link set e2e0 down/up): the target logs both async events, still
#    listens, and host A's I/O works afterwards.
# 4. Host lost mid-I/O: host C and the target each have their own soft-RoCE device on the
#    two ends of a veth pair (rxeh on h0 10.0.2.2, rxet on t0 10.0.2.1; policy routing makes
#    the kernel send between the two local addresses over the wire instead of lo). While C
#    writes with fio verify, the wire is cut (netem drops every packet both ways; the ports
#    stay up, as when a switch between them fails): the target notices (keep-alive timeout),
#    releases C's controller and QPs, and host B's I/O goes on during the cut; when the wire
#    returns C reconnects by itself and its fio verify passes.
# SIGTERM then exits 0 (the sanitizer build: no report).
# With the argument "groups" the target runs two poll groups (-m 0x3): every device then has
# a clone with its own CQ/SRQ in group 1, which must be let go of as well.
#   tests/e2e/run-vm.sh tests/e2e/t_device.sh [groups]
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NQN_A=nqn.2016-06.io.spdk:deva
NQN_B=nqn.2016-06.io.spdk:devb
NQN_C=nqn.2016-06.io.spdk:devc
ADDR_B=10.0.1.1
ADDR_C_HOST=10.0.2.2
ADDR_C_TGT=10.0.2.1
CONFIG=/tmp/e2e-device.json
FIO_LOG=/tmp/e2e-device-fio.log

write_config() {
    local sub
    cat >"$CONFIG" <<EOF
{"subsystems": [
  {"subsystem": "bdev", "config": [
    {"method": "bdev_malloc_create", "params": {"name": "MallocA", "num_blocks": 65536, "block_size": 512}},
    {"method": "bdev_malloc_create", "params": {"name": "MallocB", "num_blocks": 65536, "block_size": 512}},
    {"method": "bdev_malloc_create", "params": {"name": "MallocC", "num_blocks": 65536, "block_size": 512}}]},
  {"subsystem": "nvmf", "config": [
    {"method": "nvmf_create_transport", "params": {"trtype": "RDMA"}},
EOF
    for sub in "A $NQN_A $E2E_ADDR" "B $NQN_B $ADDR_B" "C $NQN_C $ADDR_C_TGT"; do
        set -- $sub
        cat >>"$CONFIG" <<EOF
    {"method": "nvmf_create_subsystem", "params": {"nqn": "$2", "allow_any_host": true, "serial_number": "DEVICE00000000000$1"}},
    {"method": "nvmf_subsystem_add_ns", "params": {"nqn": "$2", "namespace": {"nsid": 1, "bdev_name": "Malloc$1"}}},
    {"method": "nvmf_subsystem_add_listener", "params": {"nqn": "$2", "listen_address": {"trtype": "RDMA", "adrfam": "IPv4", "traddr": "$3", "trsvcid": "$E2E_PORT"}}},
EOF
    done
    sed -i '$ s/},$/}]}]}/' "$CONFIG"
}

listening_on() { rdma resource show cm_id 2>/dev/null | grep 'state LISTEN' | grep -q "src-addr $1:$E2E_PORT "; }
log_has() { grep -q -- "$1" "$NVMF_TGT_LOG"; }
connect_a() {
    nvme connect -t rdma -a "$E2E_ADDR" -s "$E2E_PORT" -n "$NQN_A" --hostnqn "$A_NQN" \
        --hostid "$A_ID" --reconnect-delay=1 --ctrl-loss-tmo=60 >/dev/null
}
a_ctrl_live() { nvme_ctrl "$NQN_A" "$A_NQN" >/dev/null; }
# a_roundtrip TAG: write 1 MiB of fresh data at 8 MiB of A's namespace, read it back.
a_roundtrip() {
    head -c 1M /dev/urandom >/tmp/e2e-device-rt
    dd if=/tmp/e2e-device-rt of="$DEV_A" bs=1M seek=8 oflag=direct status=none &&
        dd if="$DEV_A" of=/tmp/e2e-device-rt.back bs=1M skip=8 count=1 iflag=direct status=none &&
        cmp -s /tmp/e2e-device-rt /tmp/e2e-device-rt.back
}

# Host C's own wire: h0 (host, rxeh) <-> t0 (target, rxet). Both addresses are local, so
# the kernel would take lo: rules looked up before the local table send locally made packets
# between them out of the right veth end; the other end accepts them (accept_local).
wire_routes() {
    ip route replace "$ADDR_C_TGT" dev h0 src "$ADDR_C_HOST" table 200 &&
        ip route replace "$ADDR_C_HOST" dev t0 src "$ADDR_C_TGT" table 201
}
wire_up() {
    local i
    ip link add h0 type veth peer name t0 || fail "veth h0/t0"
    ip addr add "$ADDR_C_HOST/24" dev h0 && ip addr add "$ADDR_C_TGT/24" dev t0 &&
        ip link set h0 up && ip link set t0 up || fail "addresses on h0/t0"
    for i in all h0 t0; do
        echo 0 >"/proc/sys/net/ipv4/conf/$i/rp_filter"
        echo 1 >"/proc/sys/net/ipv4/conf/$i/accept_local"
    done
    ip rule add pref 100 table local && ip rule del pref 0 &&
        ip rule add pref 10 from "$ADDR_C_HOST" to "$ADDR_C_TGT" iif lo table 200 &&
        ip rule add pref 11 from "$ADDR_C_TGT" to "$ADDR_C_HOST" iif lo table 201 &&
        wire_routes || fail "policy routing for h0/t0"
    rdma link add rxeh type rxe netdev h0 && rdma link add rxet type rxe netdev t0 ||
        fail "rxe on h0/t0"
    wait_for 10 "rxeh and rxet ACTIVE" eval \
        "rdma link show rxeh/1 | grep -q ACTIVE && rdma link show rxet/1 | grep -q ACTIVE"
}

require_guest
require_module sch_netem
rxe_up
E2E_IF=e2e2 E2E_IF_PEER=e2e3 E2E_RDMA_DEV=rxe1 E2E_ADDR=$ADDR_B rxe_up
wire_up
write_config
NVMF_TGT_LOG=$E2E_RESULTS/nvmf_tgt_device.log
NVMF_TGT_SOCK=/var/tmp/e2e-device.sock
use_asan_target # the teardown paths under test are where memory errors hide
if [[ ${1:-} == groups ]]; then
    E2E_NVMF_TGT_ARGS="--no-huge -s 512 -m 0x3"
elif [[ -n ${1:-} ]]; then
    fail "usage: $0 [groups]"
fi
nvmf_tgt_exec "$CONFIG"
at_exit target_stop nvmf_tgt
target_wait_listen nvmf_tgt
wait_for 10 "a listener on $ADDR_B" listening_on "$ADDR_B"
wait_for 10 "a listener on $ADDR_C_TGT" listening_on "$ADDR_C_TGT"

new_host A
new_host B
connect_a || fail "host A: nvme connect"
at_exit host_disconnect "$NQN_A"
nvme connect -t rdma -a "$ADDR_B" -s "$E2E_PORT" -n "$NQN_B" --hostnqn "$B_NQN" \
    --hostid "$B_ID" >/dev/null || fail "host B: nvme connect"
at_exit host_disconnect "$NQN_B"
DEV_A=$(wait_nvme_dev "$NQN_A")
DEV_B=$(wait_nvme_dev "$NQN_B")
log "host A: $DEV_A via rxe0, host B: $DEV_B via rxe1"

fio_bg FIO_PID hostb "$DEV_B" "$FIO_LOG" --rw=randrw --size=16M --verify_backlog=256

head -c 4M /dev/urandom >/tmp/e2e-device-data
dd if=/tmp/e2e-device-data of="$DEV_A" bs=1M oflag=direct status=none || fail "host A: write"
pass "host A wrote 4 MiB"

# ---- 1. the device goes ---------------------------------------------------------------------
# It blocks in the kernel (no signal ends it) while a process holds the device: wait in
# the background, so that a target that never lets go fails the test instead of hanging it.
link_gone() { ! kill -0 "$DEL_PID" 2>/dev/null; }
t0=$(now_ns)
rdma link delete rxe0 &
DEL_PID=$!
for ((i = 0; i < 300; i++)); do link_gone && break; sleep 0.1; done
link_gone || fail "rdma link delete rxe0 still waits after 30 s: the target holds verbs objects on it"
timing rdma_link_delete "$(awk -v a="$t0" -v b="$(now_ns)" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')"
rc=0
wait "$DEL_PID" || rc=$?
((rc == 0)) || fail "rdma link delete rxe0: exit $rc"
pass "rdma link delete rxe0 returned: every verbs object on it was released"
assert "the target is still running" kill -0 "$NVMF_TGT_PID"
wait_for 10 "the target's log of the loss" log_has "device rxe0 released"
assert "the target logged the lost listener" log_has "10.0.0.1:$E2E_PORT lost its RDMA device"
refute "nothing listens on 10.0.0.1 any more" listening_on "$E2E_ADDR"
assert "10.0.1.1 still listens" listening_on "$ADDR_B"
sleep 2
kill -0 "$FIO_PID" 2>/dev/null || { cat "$FIO_LOG" >&2; fail "host B's fio stopped"; }
pass "host B's fio goes on"

# ---- 2. the device comes back ---------------------------------------------------------------
rdma link add rxe0 type rxe netdev "$E2E_IF" || fail "rdma link add rxe0"
wait_for 10 "rxe0 ACTIVE" rxe_active
wait_for 20 "the target listening again on 10.0.0.1" listening_on "$E2E_ADDR"
assert "the target logged it" log_has "listening again on $E2E_ADDR:$E2E_PORT"
nvme_is_connected "$NQN_A" && host_disconnect "$NQN_A"
connect_a || fail "host A: nvme connect after the device came back"
DEV_A=$(wait_nvme_dev "$NQN_A")
dd if="$DEV_A" of=/tmp/e2e-device-back bs=1M count=4 iflag=direct status=none || fail "host A: read back"
assert "host A's 4 MiB read back intact through the new device" \
    cmp -s /tmp/e2e-device-data /tmp/e2e-device-back

# ---- 3. port down and up --------------------------------------------------------------------
ip link set "$E2E_IF" down || fail "ip link set $E2E_IF down"
wait_for 10 "the target's port-down log" log_has "rxe0: port 1 down"
sleep 2
ip link set "$E2E_IF" up || fail "ip link set $E2E_IF up"
wait_for 10 "rxe0 ACTIVE again" rxe_active
wait_for 10 "the target's port-up log" log_has "rxe0: port 1 up"
assert "the target still listens on 10.0.0.1" listening_on "$E2E_ADDR"
wait_for 60 "host A's controller live again" a_ctrl_live
wait_for 60 "host A's I/O working after the port came back" a_roundtrip
pass "host A's I/O works after port down/up"

# ---- 4. host C lost mid-I/O ------------------------------------------------------------------
c_ctrls() { "$NVMF_RPC" -s "$NVMF_TGT_SOCK" nvmf_subsystem_get_controllers nqn="$NQN_C" | jq length; }
c_gone() { [[ $(c_ctrls) == 0 ]] && ! rdma resource show qp | grep "^link rxet/" | grep -qw "pid $NVMF_TGT_PID"; }
c_live() { nvme_ctrl "$NQN_C" "$C_NQN" >/dev/null; }
# Host B, beside its fio: 1 MiB written at 24 MiB and read back, in 5 s at most.
b_roundtrip() {
    head -c 1M /dev/urandom >/tmp/e2e-device-b
    timeout 5 dd if=/tmp/e2e-device-b of="$DEV_B" bs=1M seek=24 oflag=direct status=none &&
        timeout 5 dd if="$DEV_B" of=/tmp/e2e-device-b.back bs=1M skip=24 count=1 iflag=direct \
            status=none && cmp -s /tmp/e2e-device-b /tmp/e2e-device-b.back
}
new_host C
# The host's own timeouts decide how soon it notices a silent wire (I/O 30 s, admin and so
# keep-alive 60 s by default): 5 s each for host C's controller (read when it is created).
echo 5 >/sys/module/nvme_core/parameters/io_timeout && echo 5 >/sys/module/nvme_core/parameters/admin_timeout ||
    fail "nvme_core timeouts"
nvme connect -t rdma -a "$ADDR_C_TGT" -s "$E2E_PORT" -w "$ADDR_C_HOST" -n "$NQN_C" \
    --hostnqn "$C_NQN" --hostid "$C_ID" --reconnect-delay=1 --ctrl-loss-tmo=120 >/dev/null ||
    fail "host C: nvme connect over rxeh"
at_exit host_disconnect "$NQN_C"
DEV_C=$(wait_nvme_dev "$NQN_C")
assert "host C's queues run on rxet" eval "rdma resource show qp | grep '^link rxet/' | grep -qw 'pid $NVMF_TGT_PID'"
FIO_C_LOG=/tmp/e2e-device-fio-c.log
fio_bg FIO_C_PID hostc "$DEV_C" "$FIO_C_LOG" --rw=randwrite --size=16M --verify_backlog=128
sleep 2
tc qdisc add dev h0 root netem loss 100% && tc qdisc add dev t0 root netem loss 100% ||
    fail "netem on h0/t0"
log "host C's wire is cut"
assert "host B's I/O goes on at once while host C is cut" b_roundtrip
wait_for 30 "the target releasing host C's controller and QPs" c_gone
assert "the target says why" log_has "keep-alive timeout"
assert "host B's I/O goes on after the target let host C go" b_roundtrip
tc qdisc del dev h0 root && tc qdisc del dev t0 root || fail "netem off"
c_back() { [[ $(c_ctrls) == 1 ]] && c_live; }
wait_for 90 "host C reconnecting by itself (a controller on the target again)" c_back
pass "host C reconnected by itself"
sleep 2
fio_bg_end hostc "$FIO_C_PID" "$FIO_C_LOG" "host C's fio with verify passed across the cut"

# ---- the other host and the target ----------------------------------------------------------
fio_bg_end hostb "$FIO_PID" "$FIO_LOG" "host B's fio with verify saw no error through it all"
host_disconnect "$NQN_A" || fail "disconnect A"
host_disconnect "$NQN_B" || fail "disconnect B"
host_disconnect "$NQN_C" || fail "disconnect C"
asan_target_stop
finish
