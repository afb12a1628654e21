#!/bin/bash
# shellcheck disable=SC2317 # functions called through timed/wait_for look unreachable
# shellcheck disable=SC2016 # jq programs ($n: a jq variable) passed through jrpc/rpc_is
# Guest test: nvmf_tgt managed at run time over its JSON-RPC socket, with build/nvmf_rpc.
#   tests/e2e/run-vm.sh tests/e2e/t_rpc.sh
# 1. nvmf_tgt starts with no config (-r SOCK only); two bdevs (aio file, malloc), the RDMA
#    transport, a discovery listener and subsystem cnode1 (host A only, ns 1 on the aio
#    bdev) are created over the socket; discovery lists cnode1; host A connects; the
#    target's view (subsystems, bdevs, controllers, qpairs) matches the host's.
# 2. While host A runs fio with crc32c verify on ns 1: subsystem cnode2 (ns on the malloc
#    bdev, host B only) is created, host B discovers it and does I/O; ns 2 (a null bdev) is
#    added to cnode1 and appears on host A, then is removed and disappears; host B is
#    removed from cnode2 and cut off (host A's I/O goes on), allowed again and reconnects;
#    cnode2 is deleted with host B connected, which cuts host B off again; the bdevs are
#    deleted. fio must end with no I/O or verify error.
# 3. Error answers: cnode1 created twice, an unknown method, a 21-character serial number.
# 4. The configuration is saved (framework_get_subsystems + framework_get_config, as
#    rpc.py save_config), spdk_kill_instance SIGTERM (exit status 0), restart with -c on
#    it: the same subsystems (namespace UUIDs included), host A reconnects, data intact.
# 5. SIGTERM: exit status 0.
# Environment: NVMF_RPC (build/nvmf_rpc), E2E_RPC_SOCK (/var/tmp/e2e-nvmf_tgt.sock),
# E2E_RPC_FIO_SECS (60: fio's write phase, rate-capped so that it outlasts step 2),
# E2E_NVMF_TGT_ARGS (--no-huge -s 256).
set -euo pipefail
# shellcheck source=tests/e2e/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

NVMF_RPC=${NVMF_RPC:-$E2E_ROOT/build/nvmf_rpc}
RPC_SOCK=${E2E_RPC_SOCK:-/var/tmp/e2e-nvmf_tgt.sock}
RPC_TIMEOUT=30
NQN1=nqn.2016-06.io.spdk:cnode1
NQN2=nqn.2016-06.io.spdk:cnode2
NQN_BAD=nqn.2016-06.io.spdk:badsn
DISC_NQN=nqn.2014-08.org.nvmexpress.discovery
SN1=E2ERPC00000000001
SN2=E2ERPC00000000002
MODEL=e2e-nvmf_rpc
AIO=rpc_aio0
AIO_FILE= # on the scratch disk (set in main)
AIO_MB=256
MALLOC=Malloc0
MALLOC_BLOCKS=65536 # 32 MiB of 512-byte blocks
NULL=Null0
NULL_BLOCKS=131072 # 64 MiB of 512-byte blocks
DELAY=Delay0       # stacked on $NULL
DELAY_US=50000     # its read and write latency
M=$((1024 * 1024))
# ns 1 (256 MiB): 0-16M fio verify, 64M-68M data written after fio, checked after restart.
FIO_MB=16
FIO_SECS=${E2E_RPC_FIO_SECS:-60}
DATA_OFF=$((64 * M))
DATA_LEN=$((4 * M))
SAVED=/tmp/e2e-rpc-saved.json
B_OPTS=(--ctrl-loss-tmo=3 --reconnect-delay=1) # host B gives up soon once cut off
NVMF_TGT_LOG=$E2E_RESULTS/nvmf_tgt.log
FIO_PID=

# ---- RPC ---------------------------------------------------------------------------------
rpc() { "$NVMF_RPC" -s "$RPC_SOCK" -t "$RPC_TIMEOUT" "$@"; }
# jrpc [JQ_OPTION...] FILTER -- METHOD [PARAMS...]: the result through jq -c.
jrpc() {
    local jq_args=() out
    while (($# > 0)) && [[ $1 != -- ]]; do
        jq_args+=("$1")
        shift
    done
    (($# > 1)) || { log "jrpc: no METHOD after --"; return 1; }
    shift
    out=$(rpc "$@") || return 1
    jq -c "${jq_args[@]}" <<<"$out"
}
# rpc_ok "what" METHOD [PARAMS...]: the call must give a result (exit status 0).
rpc_ok() {
    local what=$1
    shift
    log "rpc: $*"
    assert "$what" rpc "$@"
}
# rpc_is "what" WANT [JQ_OPTION...] FILTER -- METHOD [PARAMS...]: the result through
# jq -c FILTER is WANT.
rpc_is() {
    local what=$1 want=$2 got a call=()
    shift 2
    for a in "$@"; do
        if ((${#call[@]} > 0)) || [[ $a == -- ]]; then call+=("$a"); fi
    done
    log "rpc: ${call[*]:1}"
    got=$(jrpc "$@") || fail "$what: nvmf_rpc ${call[*]:1} failed"
    assert_eq "$what" "$want" "$got"
}
# rpc_error "what" PATTERN METHOD [PARAMS...]: an error answer (exit status 1) whose
# message matches PATTERN (extended regex, any case).
rpc_error() {
    local what=$1 pat=$2 out rc=0
    shift 2
    out=$(rpc "$@" 2>&1) || rc=$?
    log "rpc: $* -> exit $rc: $out"
    [[ $rc == 1 ]] || fail "$what: nvmf_rpc exit status $rc, not 1 (an error answer): $out"
    grep -qiE -- "$pat" <<<"$out" || fail "$what: the error does not match '$pat': $out"
    pass "$what"
}

# rpc_save_config: what rpc.py save_config prints, from framework_get_subsystems and
# framework_get_config for each subsystem it lists.
rpc_save_config() {
    local names name cfg doc='{"subsystems": []}'
    names=$(jrpc -r '.[].subsystem' -- framework_get_subsystems) || return 1
    for name in $names; do
        cfg=$(rpc framework_get_config name="str:$name") || return 1
        doc=$(jq --arg n "$name" --argjson c "$cfg" \
            '.subsystems += [{subsystem: $n, config: $c}]' <<<"$doc") || return 1
    done
    jq . <<<"$doc"
}

listen_params() {
    echo listen_address.trtype=RDMA listen_address.adrfam=IPv4 \
        "listen_address.traddr=str:$E2E_ADDR" "listen_address.trsvcid=str:$E2E_PORT"
}

# The target's view: one subsystem (empty when absent), the number of controllers.
subsys() { jrpc --arg n "$1" '.[] | select(.nqn == $n)' -- nvmf_get_subsystems; }
ctrlr_count_is() { [[ $(jrpc length -- nvmf_subsystem_get_controllers nqn="$1") == "$2" ]]; }
# Comparable summary of nvmf_get_subsystems (namespace identifiers included).
subsys_summary() {
    jrpc -S '[.[] | {nqn, subtype, allow_any_host, serial_number, model_number,
        hosts: ([.hosts[]?.nqn] | sort),
        listen: ([.listen_addresses[]? | {t: (.trtype | ascii_downcase), traddr, trsvcid}]
            | sort_by(.traddr, .trsvcid)),
        namespaces: ([.namespaces[]? | {nsid, bdev_name, uuid, nguid}] | sort_by(.nsid))}]
        | sort_by(.nqn)' -- nvmf_get_subsystems
}

# ---- the target ----------------------------------------------------------------------------
# tgt_launch [CONFIG]: $NVMF_TGT $E2E_NVMF_TGT_ARGS -r SOCK [-c CONFIG] in the background,
# then wait for its RPC server; NVMF_TGT_PID is target.sh's (target_wait_listen,
# target_stop_rc).
tgt_launch() {
    local args=()
    [[ -x $NVMF_TGT ]] || fail "no target binary $NVMF_TGT: build it first (make)"
    [[ -x $NVMF_RPC ]] || fail "no RPC client $NVMF_RPC: build it first (make), or set NVMF_RPC"
    read -r -a args <<<"${E2E_NVMF_TGT_ARGS---no-huge -s 256}"
    args+=(-r "$RPC_SOCK")
    (($# == 0)) || args+=(-c "$1")
    rm -f "$RPC_SOCK"
    log "starting $NVMF_TGT ${args[*]} (log: $NVMF_TGT_LOG)"
    "$NVMF_TGT" "${args[@]}" >>"$NVMF_TGT_LOG" 2>&1 &
    NVMF_TGT_PID=$!
    tgt_wait_rpc
}
# The RPC server answers rpc_get_methods (about 30 s at most; the target must stay alive).
tgt_wait_rpc() {
    local i
    for ((i = 0; i < 60; i++)); do
        if ! kill -0 "$NVMF_TGT_PID" 2>/dev/null; then
            tail -n 30 "$NVMF_TGT_LOG" >&2 || true
            fail "nvmf_tgt exited before serving RPCs on $RPC_SOCK (log above: $NVMF_TGT_LOG)"
        fi
        "$NVMF_RPC" -s "$RPC_SOCK" -t 5 -r 5 rpc_get_methods >/dev/null 2>&1 && return 0
    done
    tail -n 30 "$NVMF_TGT_LOG" >&2 || true
    fail "nvmf_tgt does not answer rpc_get_methods on $RPC_SOCK after 30 s"
}
tgt_kill() { [[ -z $NVMF_TGT_PID ]] || kill -KILL "$NVMF_TGT_PID" 2>/dev/null || true; }
# tgt_wait_exit SECONDS: return the target's exit status (124 when it still ran: SIGKILL).
tgt_wait_exit() {
    local i rc=0
    for ((i = 0; i < $1 * 10; i++)); do
        kill -0 "$NVMF_TGT_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$NVMF_TGT_PID" 2>/dev/null; then
        kill -KILL "$NVMF_TGT_PID" 2>/dev/null || true
        wait "$NVMF_TGT_PID" 2>/dev/null || true
        rc=124
    else
        wait "$NVMF_TGT_PID" 2>/dev/null || rc=$?
    fi
    NVMF_TGT_PID=
    return "$rc"
}

# ---- host side -------------------------------------------------------------------------------
# ns_dev SUBNQN NSID: /dev/ of the namespace's multipath head node (by its nsid attribute).
ns_dev() {
    local s ns id
    for s in /sys/class/nvme-subsystem/*/; do
        [[ -f $s/subsysnqn && $(cat "$s/subsysnqn") == "$1" ]] || continue
        for ns in "$s"nvme*n*; do
            [[ -e $ns ]] || continue
            id=$(cat "$ns/nsid" 2>/dev/null) || id=${ns##*n}
            [[ $id == "$2" && -b /dev/${ns##*/} ]] && { echo "/dev/${ns##*/}"; return 0; }
        done
    done
    return 1
}
no_ns_dev() { ! ns_dev "$1" "$2" >/dev/null; }
# wait_ns_dev SECONDS SUBNQN NSID: print the device once it is there.
wait_ns_dev() {
    local i
    for ((i = 0; i < $1 * 10; i++)); do
        ns_dev "$2" "$3" && return 0
        sleep 0.1
    done
    ls -l /sys/class/nvme-subsystem/*/ >&2 || true
    fail "no block device for namespace $3 of $2 after $1 s"
}
no_live_ctrl() { ! nvme_ctrl "$1" "$2" >/dev/null; }
# wait_ctrl_gone CTRL: the host gives the controller up (host B: ctrl-loss-tmo 3 s); it is
# disconnected here if it does not, so that the next connect is not refused.
wait_ctrl_gone() {
    local i
    for ((i = 0; i < 150; i++)); do
        [[ -e /sys/class/nvme/$1 ]] || return 0
        sleep 0.1
    done
    log "$1 still there 15 s after being cut off (state $(cat "/sys/class/nvme/$1/state" 2>/dev/null)): nvme disconnect -d $1"
    nvme disconnect -d "$1" >/dev/null 2>&1 || true
}
sysattr() { sed 's/ *$//' "/sys/class/nvme/$1/$2"; }

put_at() { dd if="$1" of="$2" bs=1M oflag=direct,seek_bytes seek="$3" conv=notrunc status=none; }
get_at() { dd if="$1" bs=1M iflag=direct,skip_bytes,count_bytes skip="$2" count="$3" status=none; }
sha() { sha256sum | cut -d' ' -f1; }
region_sha() { get_at "$1" "$2" "$3" | sha; }

# ---- fio on host A (as t_basic's fio_bg/fio_wait) --------------------------------------------
# dev_ios: reads + writes completed on the namespace's paths (the head node keeps none).
dev_ios() {
    local n=${DEV_A##*/}
    cat /sys/block/"${n%n*}"c*n"${n##*n}"/stat 2>/dev/null | awk '{ s += $1 + $5 } END { print s + 0 }'
}
# 4k random writes over FIO_MB, capped so that the write phase lasts FIO_SECS, then the
# crc32c verify of every block (reads not capped).
fio_start() {
    local iops=$(((FIO_MB * M / 4096 + FIO_SECS - 1) / FIO_SECS))
    FIO_LOG=/tmp/e2e-rpc-fio.log
    FIO_IOS0=$(dev_ios)
    log "fio on $DEV_A: ${FIO_MB} MiB of 4k random writes at $iops IOPS, then verify"
    fio --name=rpcverify --filename="$DEV_A" --allow_file_create=0 --ioengine=libaio \
        --direct=1 --rw=randwrite --bs=4k --iodepth=16 --size="${FIO_MB}M" \
        --rate_iops=",$iops" --verify=crc32c --do_verify=1 --verify_fatal=1 \
        >"$FIO_LOG" 2>&1 &
    FIO_PID=$!
    at_exit fio_kill
}
fio_running() { [[ -n $FIO_PID ]] && kill -0 "$FIO_PID" 2>/dev/null; }
fio_kill() { fio_running && kill -KILL "$FIO_PID"; }
# fio_busy_since N "what": fio still runs and has done I/O since dev_ios was N.
fio_busy_since() {
    local i
    for ((i = 0; i < 100; i++)); do
        fio_running || { tail -n 20 "$FIO_LOG"; fail "fio ended before $2 (E2E_RPC_FIO_SECS=$FIO_SECS is too short for step 2 here)"; }
        (($(dev_ios) > $1)) && return 0
        sleep 0.1
    done
    fail "fio did no I/O in 10 s before $2"
}
fio_wait() {
    local i
    for ((i = 0; i < $1 * 10; i++)); do
        fio_running || break
        sleep 0.1
    done
    if fio_running; then
        kill -KILL "$FIO_PID"
        tail -n 20 "$FIO_LOG"
        fail "fio still runs $1 s later"
    fi
    FIO_RC=0
    wait "$FIO_PID" || FIO_RC=$?
    FIO_PID=
}

# ---- 1. the target built over the socket ----------------------------------------------------
build_target() {
    local l
    read -r -a l <<<"$(listen_params)"
    rpc_is "bdev_aio_create returns the bdev's name" "\"$AIO\"" . -- \
        bdev_aio_create name="$AIO" filename="$AIO_FILE" block_size=512
    rpc_is "bdev_malloc_create returns the bdev's name" "\"$MALLOC\"" . -- \
        bdev_malloc_create name="$MALLOC" num_blocks="$MALLOC_BLOCKS" block_size=512
    rpc_is "bdev_get_bdevs lists both bdevs with their sizes" \
        "[[\"$MALLOC\",512,$MALLOC_BLOCKS],[\"$AIO\",512,$((AIO_MB * M / 512))]]" \
        '[.[] | [.name, .block_size, .num_blocks]] | sort' -- bdev_get_bdevs
    rpc_ok "nvmf_create_transport RDMA" nvmf_create_transport trtype=RDMA
    rpc_ok "discovery listener" nvmf_subsystem_add_listener nqn="$DISC_NQN" "${l[@]}"
    rpc_ok "nvmf_create_subsystem cnode1" nvmf_create_subsystem nqn="$NQN1" \
        allow_any_host=false serial_number="str:$SN1" model_number="str:$MODEL"
    rpc_ok "nvmf_subsystem_add_host cnode1 host A" \
        nvmf_subsystem_add_host nqn="$NQN1" host="$A_NQN"
    rpc_is "nvmf_subsystem_add_ns cnode1 returns nsid 1" 1 . -- \
        nvmf_subsystem_add_ns nqn="$NQN1" namespace.bdev_name="$AIO" namespace.nsid=1
    rpc_ok "cnode1 listener" nvmf_subsystem_add_listener nqn="$NQN1" "${l[@]}"
    target_wait_listen nvmf_tgt
}

check_cnode1_config() {
    local s want
    s=$(subsys "$NQN1") || fail "nvmf_get_subsystems failed"
    [[ -n $s ]] || fail "nvmf_get_subsystems does not list $NQN1"
    want=$(jq -cn --arg h "$A_NQN" --arg sn "$SN1" --arg mn "$MODEL" --arg b "$AIO" \
        --arg a "$E2E_ADDR" --arg p "$E2E_PORT" '[false, [$h], $sn, $mn, [[1, $b]], [[$a, $p]]]')
    assert_eq "nvmf_get_subsystems: cnode1 as built (allow_any_host, hosts, SN, MN, ns, listener)" \
        "$want" "$(jq -c '[.allow_any_host, [.hosts[].nqn], .serial_number, .model_number,
            [.namespaces[] | [.nsid, .bdev_name]], [.listen_addresses[] | [.traddr, .trsvcid]]]' <<<"$s")"
    rpc_is "nvmf_get_subsystems: the discovery subsystem has the listener" \
        "[\"$E2E_ADDR\",\"$E2E_PORT\"]" --arg n "$DISC_NQN" \
        '[.[] | select(.nqn == $n) | .listen_addresses[] | .traddr, .trsvcid]' -- nvmf_get_subsystems
}

# discover_lists HOST(A|B) NQN NOT_NQN: that host's discovery log lists NQN, not NOT_NQN.
discover_lists() {
    local nqn=${1}_NQN id=${1}_ID out
    out=$(host_discover "${!nqn}" "${!id}") || fail "nvme discover (host $1)"
    grep -q "subnqn: *$2" <<<"$out" || { printf '%s\n' "$out"; fail "discovery for host $1 does not list $2"; }
    ! grep -q "subnqn: *$3" <<<"$out" || { printf '%s\n' "$out"; fail "discovery for host $1 lists $3 (not allowed)"; }
    pass "discovery for host $1 lists ${2##*:}, not ${3##*:}"
}

connect_a() {
    timed "$1" host_connect "$NQN1" "$A_NQN" "$A_ID" >/dev/null || fail "host A: nvme connect $NQN1"
    DEV_A=$(wait_ns_dev 10 "$NQN1" 1) || fail "host A: no namespace 1"
    CTRL_A=$(nvme_ctrl "$NQN1" "$A_NQN") || fail "host A: no live controller on $NQN1"
    log "host A: $CTRL_A, namespace 1 is $DEV_A"
}

# The target's controllers and qpairs of cnode1 match host A's controller.
check_ctrl_a() {
    local want
    want=$(jq -cn --arg h "$A_NQN" --arg i "$A_ID" \
        --argjson c "$(cat "/sys/class/nvme/$CTRL_A/cntlid")" '[[$c, $h, $i]]')
    rpc_is "nvmf_subsystem_get_controllers cnode1: host A's controller (cntlid, hostnqn, hostid)" \
        "$want" '[.[] | [.cntlid, .hostnqn, (.hostid | ascii_downcase)]]' -- \
        nvmf_subsystem_get_controllers nqn="$NQN1"
    rpc_is "nvmf_subsystem_get_controllers cnode1: at least one I/O qpair" true \
        '.[0].num_io_qpairs >= 1' -- nvmf_subsystem_get_controllers nqn="$NQN1"
    rpc_is "nvmf_subsystem_get_qpairs cnode1: admin and I/O qpairs" true \
        'length >= 2' -- nvmf_subsystem_get_qpairs nqn="$NQN1"
    rpc_is "nvmf_get_stats answers an object" true 'type == "object"' -- nvmf_get_stats
    STATS0=$(jrpc '[.poll_groups[0].transports[0].devices[] | .completions, .request_latency]
        | [.[0], .[1]]' -- nvmf_get_stats) || fail "nvmf_get_stats: no RDMA device counters"
    assert_eq "host A sees the serial number set over RPC" "$SN1" "$(sysattr "$CTRL_A" serial)"
    assert_eq "host A sees the model number set over RPC" "$MODEL" "$(sysattr "$CTRL_A" model)"
}

# ---- 2. changes while host A runs fio --------------------------------------------------------
create_cnode2() {
    local l
    read -r -a l <<<"$(listen_params)"
    rpc_ok "nvmf_create_subsystem cnode2 under I/O" nvmf_create_subsystem nqn="$NQN2" \
        allow_any_host=false serial_number="str:$SN2" model_number="str:$MODEL"
    rpc_is "nvmf_subsystem_add_ns cnode2 (malloc, no nsid given) returns nsid 1" 1 . -- \
        nvmf_subsystem_add_ns nqn="$NQN2" namespace.bdev_name="$MALLOC"
    rpc_ok "nvmf_subsystem_add_host cnode2 host B" \
        nvmf_subsystem_add_host nqn="$NQN2" host="$B_NQN"
    rpc_ok "cnode2 listener" nvmf_subsystem_add_listener nqn="$NQN2" "${l[@]}"
    rpc_is "nvmf_get_subsystems: cnode2 with host B and the malloc namespace" \
        "[false,[\"$B_NQN\"],[[1,\"$MALLOC\"]]]" --arg n "$NQN2" \
        '.[] | select(.nqn == $n) | [.allow_any_host, [.hosts[].nqn],
            [.namespaces[] | [.nsid, .bdev_name]]]' -- nvmf_get_subsystems
}

connect_b() {
    host_connect "$NQN2" "$B_NQN" "$B_ID" "${B_OPTS[@]}" >/dev/null ||
        fail "host B: nvme connect $NQN2"
    DEV_B=$(wait_ns_dev 10 "$NQN2" 1) || fail "host B: no namespace 1 on $NQN2"
    CTRL_B=$(nvme_ctrl "$NQN2" "$B_NQN") || fail "host B: no live controller on $NQN2"
    rpc_is "nvmf_subsystem_get_controllers cnode2: host B's controller (cntlid, hostnqn)" \
        "[[$(cat "/sys/class/nvme/$CTRL_B/cntlid"),\"$B_NQN\"]]" '[.[] | [.cntlid, .hostnqn]]' -- \
        nvmf_subsystem_get_controllers nqn="$NQN2"
}

# io_b OFFSET "what": 1 MiB of random data written by host B reads back the same.
io_b() {
    local f=/tmp/e2e-rpc-b.bin want
    head -c "$M" /dev/urandom >"$f"
    want=$(sha <"$f")
    put_at "$f" "$DEV_B" "$1" || fail "host B: O_DIRECT write of 1 MiB at $1 to $DEV_B"
    assert_eq "$2" "$want" "$(region_sha "$DEV_B" "$1" "$M")"
}

step_cnode2() {
    create_cnode2
    discover_lists B "$NQN2" "$NQN1"
    connect_b
    io_b "$M" "host B writes and reads back 1 MiB on cnode2's malloc namespace (sha256)"
    rpc_is "cnode1 still has host A's controller only" "[\"$A_NQN\"]" '[.[].hostnqn]' -- \
        nvmf_subsystem_get_controllers nqn="$NQN1"
}

step_ns_add() {
    local dev
    rpc_is "bdev_null_create returns the bdev's name" "\"$NULL\"" . -- \
        bdev_null_create name="$NULL" num_blocks="$NULL_BLOCKS" block_size=512
    rpc_is "bdev_delay_create on it returns its name" "\"$DELAY\"" . -- \
        bdev_delay_create name="$DELAY" base_bdev_name="$NULL" avg_read_latency=$DELAY_US \
        p99_read_latency=$DELAY_US avg_write_latency=$DELAY_US p99_write_latency=$DELAY_US
    rpc_is "nvmf_subsystem_add_ns cnode1 nsid 2 under I/O" 2 . -- \
        nvmf_subsystem_add_ns nqn="$NQN1" namespace.bdev_name="$DELAY" namespace.nsid=2
    rpc_is "nvmf_get_subsystems: cnode1 has namespaces 1 and 2" "[[1,\"$AIO\"],[2,\"$DELAY\"]]" \
        --arg n "$NQN1" '[.[] | select(.nqn == $n) | .namespaces[] | [.nsid, .bdev_name]]' -- \
        nvmf_get_subsystems
    timed ns_appear wait_ns_dev 10 "$NQN1" 2 >/tmp/e2e-rpc-ns2 || fail "namespace 2 did not appear"
    dev=$(cat /tmp/e2e-rpc-ns2) || fail "namespace 2 did not appear"
    pass "host A sees namespace 2 appear ($dev, ${TIMED_S} s after the RPC)"
    assert_eq "namespace 2 has the null bdev's size" $((NULL_BLOCKS * 512)) \
        "$(blockdev --getsize64 "$dev")"
    delay_read_check "$dev"
}

# A 4 KiB O_DIRECT read of the delay bdev's namespace takes at least its latency.
delay_read_check() {
    local t0 t1 us
    t0=$(date +%s%N)
    dd if="$1" of=/dev/null bs=4k count=1 iflag=direct status=none || fail "read of $1 failed"
    t1=$(date +%s%N)
    us=$(((t1 - t0) / 1000))
    ((us >= DELAY_US)) || fail "a read of the delay namespace took $us us, less than $DELAY_US"
    pass "a read of the delay bdev's namespace takes its latency ($us us >= $DELAY_US us)"
    rpc_ok "bdev_delay_update_latency" bdev_delay_update_latency delay_bdev_name="$DELAY" \
        latency_type=avg_read latency_us=1000
}

step_ns_remove() {
    rpc_ok "nvmf_subsystem_remove_ns cnode1 nsid 2 under I/O" \
        nvmf_subsystem_remove_ns nqn="$NQN1" nsid=2
    rpc_is "nvmf_get_subsystems: cnode1 has namespace 1 only" "[1]" --arg n "$NQN1" \
        '[.[] | select(.nqn == $n) | .namespaces[].nsid]' -- nvmf_get_subsystems
    timed ns_disappear wait_for 10 "namespace 2 to disappear from host A" no_ns_dev "$NQN1" 2
    pass "host A sees namespace 2 disappear (${TIMED_S} s after the RPC)"
    [[ $(ns_dev "$NQN1" 1) == "$DEV_A" ]] || fail "namespace 1 is no longer $DEV_A on host A"
    rpc_ok "bdev_null_delete (the delay bdev stacked on it goes first)" \
        bdev_null_delete name="$NULL"
    rpc_is "bdev_get_bdevs: neither the null nor the delay bdev is left" 0 \
        --arg n "$NULL" --arg d "$DELAY" '[.[] | select(.name == $n or .name == $d)] | length' \
        -- bdev_get_bdevs
}

# cut_off_b "why" TIMING_NAME: host B's controller on cnode2 stops being live in 10 s.
cut_off_b() {
    timed "$2" wait_for 10 "host B's controller on cnode2 to go down ($1)" \
        no_live_ctrl "$NQN2" "$B_NQN"
    pass "host B's controller goes down within 10 s ($1)"
    wait_ctrl_gone "$CTRL_B"
}

step_remove_host() {
    local ios
    ios=$(dev_ios)
    rpc_ok "nvmf_subsystem_remove_host cnode2 host B" \
        nvmf_subsystem_remove_host nqn="$NQN2" host="$B_NQN"
    cut_off_b "host removed from cnode2" host_removed_cutoff
    wait_for 10 "the target to list no controller on cnode2" ctrlr_count_is "$NQN2" 0
    pass "nvmf_subsystem_get_controllers cnode2: none after host B was removed"
    rpc_is "nvmf_get_subsystems: cnode2 allows no host" "[]" --arg n "$NQN2" \
        '[.[] | select(.nqn == $n) | .hosts[].nqn]' -- nvmf_get_subsystems
    fio_busy_since "$ios" "host B was cut off"
    nvme_ctrl "$NQN1" "$A_NQN" >/dev/null || fail "host A's controller went down with host B's"
    pass "host A's fio goes on while host B is cut off"
    refute "host B, removed, cannot connect to cnode2" \
        host_connect "$NQN2" "$B_NQN" "$B_ID" "${B_OPTS[@]}"
}

step_delete_subsystem() {
    rpc_ok "nvmf_subsystem_add_host cnode2 host B again" \
        nvmf_subsystem_add_host nqn="$NQN2" host="$B_NQN"
    connect_b
    io_b $((2 * M)) "host B, allowed again, reconnects and does I/O (1 MiB, sha256)"
    rpc_ok "nvmf_delete_subsystem cnode2 with host B connected" nvmf_delete_subsystem nqn="$NQN2"
    cut_off_b "subsystem deleted" subsys_delete_cutoff
    rpc_is "nvmf_get_subsystems: cnode2 is gone" 0 --arg n "$NQN2" \
        '[.[] | select(.nqn == $n)] | length' -- nvmf_get_subsystems
    rpc_error "nvmf_subsystem_get_controllers on the deleted cnode2 is an error" . \
        nvmf_subsystem_get_controllers nqn="$NQN2"
    rpc_ok "bdev_malloc_delete (its subsystem is gone)" bdev_malloc_delete name="$MALLOC"
    rpc_is "bdev_get_bdevs: only the aio bdev is left" "[\"$AIO\"]" '[.[].name]' -- bdev_get_bdevs
}

check_fio_result() {
    fio_busy_since 0 "the last change was done"
    timed fio_wait fio_wait 120
    ((FIO_RC == 0)) || { tail -n 30 "$FIO_LOG"; fail "fio on host A failed (exit $FIO_RC) across the changes"; }
    ! grep -q 'verify: bad\|crc32c: verify failed' "$FIO_LOG" || { cat "$FIO_LOG"; fail "fio verify errors"; }
    pass "host A's fio (4k random writes, crc32c verify) passes across all the changes"
    rpc_is "nvmf_get_stats: the device's completions and request latency grew with the I/O" \
        true --argjson s "$STATS0" '.poll_groups[0].transports[0].devices[0]
        | .completions > $s[0] and .request_latency > $s[1]' -- nvmf_get_stats
    rpc_is "nvmf_get_stats: one poll group, host A's admin and I/O queues counted" true \
        '.poll_groups | length == 1 and .[0].current_admin_qpairs >= 1
        and .[0].current_io_qpairs >= 1 and .[0].completed_nvme_io > 0' -- nvmf_get_stats
    rpc_is "cnode1 still has exactly host A's controller" "[\"$A_NQN\"]" '[.[].hostnqn]' -- \
        nvmf_subsystem_get_controllers nqn="$NQN1"
}

# ---- 3. error answers ------------------------------------------------------------------------
step_errors() {
    rpc_error "creating cnode1 again is an error that names it" "$NQN1" \
        nvmf_create_subsystem nqn="$NQN1" allow_any_host=true
    rpc_error "an unknown method is an error (Method not found)" "method not found|-32601" \
        nvmf_no_such_method
    rpc_error "a 21-character serial number is refused (Invalid SN)" "Invalid SN" \
        nvmf_create_subsystem nqn="$NQN_BAD" serial_number=str:123456789012345678901
    rpc_is "nvmf_get_subsystems: still discovery and cnode1 only" "[\"$DISC_NQN\",\"$NQN1\"]" \
        '[.[].nqn] | sort' -- nvmf_get_subsystems
}

# ---- 4. save, stop, restart -------------------------------------------------------------------
check_saved() {
    jq -e --arg a "$AIO" --arg n "$NQN1" --arg d "$DISC_NQN" --arg h "$A_NQN" --arg n2 "$NQN2" '
        def m($s): [.subsystems[] | select(.subsystem == $s) | .config[]?];
        (m("bdev") | any(.method == "bdev_aio_create" and .params.name == $a)) and
        (m("nvmf") | any(.method == "nvmf_create_transport"
            and (.params.trtype | ascii_downcase) == "rdma")) and
        (m("nvmf") | any(.method == "nvmf_create_subsystem" and .params.nqn == $n)) and
        (m("nvmf") | any(.method == "nvmf_subsystem_add_ns" and .params.nqn == $n
            and .params.namespace.nsid == 1)) and
        (m("nvmf") | any(.method == "nvmf_subsystem_add_host" and .params.nqn == $n
            and .params.host == $h)) and
        (m("nvmf") | any(.method == "nvmf_subsystem_add_listener" and .params.nqn == $n)) and
        (m("nvmf") | any(.method == "nvmf_subsystem_add_listener" and .params.nqn == $d)) and
        (m("nvmf") | all(.params.nqn? != $n2))' "$SAVED" >/dev/null
}

step_restart() {
    local sum0 sum1 fio_sha data_sha f=/tmp/e2e-rpc-data.bin rc=0 uuid
    fio_sha=$(region_sha "$DEV_A" 0 $((FIO_MB * M))) || fail "read of fio's region"
    head -c "$DATA_LEN" /dev/urandom >"$f"
    data_sha=$(sha <"$f")
    put_at "$f" "$DEV_A" "$DATA_OFF" || fail "O_DIRECT write of $DATA_LEN bytes at $DATA_OFF"
    sum0=$(subsys_summary) || fail "nvmf_get_subsystems before the restart"
    rpc_save_config >"$SAVED" || fail "rpc_save_config (framework_get_subsystems/framework_get_config)"
    log "saved config: $(jq -c . "$SAVED")"
    assert "the saved config has the aio bdev, transport, listeners, cnode1 with ns 1 and host A, no cnode2" \
        check_saved
    host_disconnect "$NQN1" || fail "host A: nvme disconnect before the restart"
    rpc_ok "spdk_kill_instance SIGTERM answers" spdk_kill_instance sig_name=SIGTERM
    timed kill_instance_exit tgt_wait_exit 15 || rc=$?
    assert_eq "nvmf_tgt exits with status 0 after spdk_kill_instance SIGTERM" 0 "$rc"

    timed restart tgt_launch "$SAVED"
    target_wait_listen nvmf_tgt
    pass "nvmf_tgt restarts with -c on the saved config"
    sum1=$(subsys_summary) || fail "nvmf_get_subsystems after the restart"
    [[ $sum0 == "$sum1" ]] || log "before: $sum0"$'\n'"after:  $sum1"
    assert_eq "nvmf_get_subsystems after the restart as before (hosts, listeners, ns UUID/NGUID)" \
        "$sum0" "$sum1"
    connect_a reconnect_after_restart
    uuid=$(jrpc -r --arg n "$NQN1" '.[] | select(.nqn == $n) | .namespaces[0].uuid' -- \
        nvmf_get_subsystems) || fail "nvmf_get_subsystems after the restart"
    assert_eq "host A sees the namespace UUID that nvmf_get_subsystems reports" \
        "${uuid,,}" "$(cat "/sys/block/${DEV_A##*/}/uuid")"
    assert_eq "fio's ${FIO_MB} MiB read back identical after the restart (sha256)" \
        "$fio_sha" "$(region_sha "$DEV_A" 0 $((FIO_MB * M)))"
    assert_eq "$((DATA_LEN / M)) MiB written after fio read back identical after the restart (sha256)" \
        "$data_sha" "$(region_sha "$DEV_A" "$DATA_OFF" "$DATA_LEN")"
}

main() {
    local rc=0
    require_guest
    require_cmd nvme fio dd sha256sum jq blockdev
    require_module nvme-rdma
    timed rxe_up rxe_up
    disk_mount
    AIO_FILE=$E2E_DISK_MNT/rpc-aio0.img
    truncate -s "${AIO_MB}M" "$AIO_FILE"
    new_host A
    new_host B

    # 1. built over the socket; host A connects
    at_exit tgt_kill
    timed target_start tgt_launch
    at_exit "nvme disconnect -n $NQN1" # before the target is killed (cleanups run in reverse)
    at_exit "nvme disconnect -n $NQN2"
    timed build_over_rpc build_target
    check_cnode1_config
    discover_lists A "$NQN1" "$NQN2"
    connect_a connect
    check_ctrl_a

    # 2. changes under host A's fio
    fio_start
    fio_busy_since "$FIO_IOS0" "the first change"
    timed cnode2 step_cnode2
    timed ns_add step_ns_add
    timed ns_remove step_ns_remove
    timed remove_host step_remove_host
    timed delete_subsystem step_delete_subsystem
    check_fio_result

    # 3. error answers
    step_errors

    # 4. save_config, spdk_kill_instance, restart on the saved config
    timed save_stop_restart step_restart

    # 5. SIGTERM
    host_disconnect "$NQN1" || fail "host A: nvme disconnect"
    timed nvmf_tgt_sigterm target_stop_rc nvmf_tgt || rc=$?
    assert_eq "nvmf_tgt exits with status 0 on SIGTERM" 0 "$rc"
    finish
}

main "$@"
