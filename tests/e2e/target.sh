# shellcheck shell=bash
# Target abstraction for e2e guest scripts (sourced by lib.sh). A test names its target:
#   kernel    the kernel's nvmet-rdma, configured through configfs (the reference)
#   nvmf_tgt  our user-space target, $NVMF_TGT -c CONFIG with a generated SPDK-format config
# and uses only:
#   target_start TARGET SUBNQN BACKING_FILE [HOSTNQN...]   no HOSTNQN: any host may connect
#   target_add_host TARGET SUBNQN HOSTNQN
#   target_stop TARGET
# The listener is $E2E_ADDR:$E2E_PORT (RDMA, IPv4); the namespace is NSID 1.

NVMET_CFS=/sys/kernel/config/nvmet
NVMET_PORT=1

target_start() {
    local t=$1
    shift
    case $t in
        kernel) target_start_kernel "$@" ;;
        nvmf_tgt) target_start_nvmf_tgt "$@" ;;
        *) fail "unknown target '$t' (kernel or nvmf_tgt)" ;;
    esac
    at_exit target_stop "$t"
    target_wait_listen "$t"
}
target_add_host() {
    case $1 in
        kernel) target_add_host_kernel "$2" "$3" ;;
        nvmf_tgt) target_add_host_nvmf_tgt "$2" "$3" ;;
        *) fail "unknown target '$1'" ;;
    esac
}
target_stop() {
    case $1 in
        kernel) target_stop_kernel ;;
        nvmf_tgt) target_stop_nvmf_tgt ;;
        *) fail "unknown target '$1'" ;;
    esac
}

# Wait until an RDMA CM id listens on the address (rdma resource tracking shows it).
target_listening() {
    rdma resource show cm_id 2>/dev/null | grep 'state LISTEN' | grep -q "src-addr $E2E_ADDR:$E2E_PORT "
}
target_wait_listen() {
    local i
    for ((i = 0; i < 300; i++)); do
        target_listening && { log "target $1 listens on $E2E_ADDR:$E2E_PORT"; return 0; }
        if [[ $1 == nvmf_tgt ]] && ! kill -0 "${NVMF_TGT_PID:-0}" 2>/dev/null; then
            tail -n 30 "$NVMF_TGT_LOG" >&2 || true
            fail "nvmf_tgt exited before listening (log above: $NVMF_TGT_LOG)"
        fi
        sleep 0.1
    done
    fail "target $1 does not listen on $E2E_ADDR:$E2E_PORT after 30 s"
}

# ---- kernel nvmet ----------------------------------------------------------------------------
cfs_write() { printf '%s' "$2" >"$1" || fail "cannot write '$2' to $1"; }

target_start_kernel() {
    local nqn=$1 backing=$2 s h
    shift 2
    require_module nvmet nvmet-rdma
    s=$NVMET_CFS/subsystems/$nqn
    mkdir "$s" || fail "cannot create nvmet subsystem $nqn"
    cfs_write "$s/attr_model" "e2e-kernel-nvmet"
    if (($# == 0)); then
        cfs_write "$s/attr_allow_any_host" 1
    else
        cfs_write "$s/attr_allow_any_host" 0
        for h in "$@"; do target_add_host_kernel "$nqn" "$h"; done
    fi
    mkdir "$s/namespaces/1" || fail "cannot create namespace 1 in $nqn"
    cfs_write "$s/namespaces/1/device_path" "$backing"
    cfs_write "$s/namespaces/1/enable" 1
    local p=$NVMET_CFS/ports/$NVMET_PORT
    mkdir -p "$p" || fail "cannot create nvmet port $NVMET_PORT"
    cfs_write "$p/addr_trtype" rdma
    cfs_write "$p/addr_adrfam" ipv4
    cfs_write "$p/addr_traddr" "$E2E_ADDR"
    cfs_write "$p/addr_trsvcid" "$E2E_PORT"
    ln -s "$s" "$p/subsystems/$nqn" || fail "cannot enable port $NVMET_PORT for $nqn (see dmesg)"
}
target_add_host_kernel() {
    local nqn=$1 host=$2
    mkdir -p "$NVMET_CFS/hosts/$host" || fail "cannot create nvmet host $host"
    ln -s "$NVMET_CFS/hosts/$host" "$NVMET_CFS/subsystems/$nqn/allowed_hosts/$host" ||
        fail "cannot allow host $host on $nqn"
}
# Tear down everything in nvmet's configfs, children first.
target_stop_kernel() {
    local x
    [[ -d $NVMET_CFS ]] || return 0
    for x in "$NVMET_CFS"/ports/*/subsystems/* "$NVMET_CFS"/subsystems/*/allowed_hosts/*; do
        [[ -L $x ]] && rm -f "$x"
    done
    for x in "$NVMET_CFS"/subsystems/*/namespaces/*; do
        [[ -d $x ]] || continue
        echo 0 >"$x/enable"
        rmdir "$x"
    done
    for x in "$NVMET_CFS"/ports/* "$NVMET_CFS"/subsystems/* "$NVMET_CFS"/hosts/*; do
        [[ -d $x ]] && rmdir "$x"
    done
    return 0
}

# ---- our nvmf_tgt --------------------------------------------------------------------------
# Started from a generated JSON config; changes at run time go over its RPC socket
# ($NVMF_TGT_SOCK) with our client $NVMF_RPC, as SPDK's rpc.py would send them.
# E2E_NVMF_TGT_ARGS: more options for it (e.g. "--no-huge -s 256").
NVMF_TGT_CONFIG=${NVMF_TGT_CONFIG:-/tmp/e2e-nvmf_tgt.json}
NVMF_TGT_SOCK=${NVMF_TGT_SOCK:-/var/tmp/spdk.sock}
NVMF_RPC=${NVMF_RPC:-$E2E_ROOT/build/nvmf_rpc}
NVMF_TGT_LOG=${NVMF_TGT_LOG:-$E2E_RESULTS/nvmf_tgt.log}
NVMF_TGT_PID=
NVMF_TGT_RC=
NVMF_TGT_KILLED=0
NVMF_TGT_NQN=
NVMF_TGT_BACKING=
NVMF_TGT_HOSTS=()

json_str() { printf '"%s"' "$(printf '%s' "$1" | sed 's/\\/\\\\/g; s/"/\\"/g')"; }

# Print an SPDK-format JSON config: an aio bdev on the backing file, the RDMA transport,
# a discovery listener, one subsystem with namespace 1, its listener and allowed hosts.
nvmf_tgt_config() {
    local nqn any=true h listen
    nqn=$(json_str "$NVMF_TGT_NQN")
    ((${#NVMF_TGT_HOSTS[@]} > 0)) && any=false
    listen="\"listen_address\": {\"trtype\": \"RDMA\", \"adrfam\": \"IPv4\", \"traddr\": \"$E2E_ADDR\", \"trsvcid\": \"$E2E_PORT\"}"
    cat <<EOF
{
  "subsystems": [
    {
      "subsystem": "bdev",
      "config": [
        {"method": "bdev_aio_create",
         "params": {"name": "e2e_aio0", "filename": $(json_str "$NVMF_TGT_BACKING"), "block_size": 512}}
      ]
    },
    {
      "subsystem": "nvmf",
      "config": [
        {"method": "nvmf_create_transport", "params": {"trtype": "RDMA"}},
        {"method": "nvmf_subsystem_add_listener",
         "params": {"nqn": "nqn.2014-08.org.nvmexpress.discovery", $listen}},
        {"method": "nvmf_create_subsystem",
         "params": {"nqn": $nqn, "allow_any_host": $any,
                    "serial_number": "E2E00000000000001", "model_number": "e2e-nvmf_tgt"}},
        {"method": "nvmf_subsystem_add_ns",
         "params": {"nqn": $nqn, "namespace": {"nsid": 1, "bdev_name": "e2e_aio0"}}},
EOF
    for h in "${NVMF_TGT_HOSTS[@]}"; do
        printf '        {"method": "nvmf_subsystem_add_host", "params": {"nqn": %s, "host": %s}},\n' \
            "$nqn" "$(json_str "$h")"
    done
    cat <<EOF
        {"method": "nvmf_subsystem_add_listener", "params": {"nqn": $nqn, $listen}}
      ]
    }
  ]
}
EOF
}

target_start_nvmf_tgt() {
    NVMF_TGT_NQN=$1
    NVMF_TGT_BACKING=$2
    shift 2
    NVMF_TGT_HOSTS=("$@")
    [[ -x $NVMF_TGT ]] || fail "no target binary $NVMF_TGT: build it first (make), or set NVMF_TGT"
    nvmf_tgt_launch
}
nvmf_tgt_launch() {
    nvmf_tgt_config >"$NVMF_TGT_CONFIG"
    nvmf_tgt_exec "$NVMF_TGT_CONFIG"
}
# nvmf_tgt_exec CONFIG: start $NVMF_TGT $E2E_NVMF_TGT_ARGS -c CONFIG in the background, in
# the current directory (a config's relative paths are relative to it); sets NVMF_TGT_PID.
# Unset, E2E_NVMF_TGT_ARGS is "--no-huge -s 256": the guest reserves no hugepages.
nvmf_tgt_exec() {
    local args=()
    read -r -a args <<<"${E2E_NVMF_TGT_ARGS---no-huge -s 256}"
    log "starting $NVMF_TGT ${args[*]} -c $1 (log: $NVMF_TGT_LOG)"
    "$NVMF_TGT" "${args[@]}" -r "$NVMF_TGT_SOCK" -c "$1" >>"$NVMF_TGT_LOG" 2>&1 &
    NVMF_TGT_PID=$!
}
# The running target learns the host over RPC: no restart, connected hosts stay.
target_add_host_nvmf_tgt() {
    NVMF_TGT_HOSTS+=("$2")
    nvmf_tgt_config >"$NVMF_TGT_CONFIG" # target_ident reads it
    [[ -n $NVMF_TGT_PID ]] || return 0
    "$NVMF_RPC" -s "$NVMF_TGT_SOCK" nvmf_subsystem_add_host nqn="$1" host="$2" >/dev/null ||
        fail "nvmf_subsystem_add_host $2 on $1 failed (log: $NVMF_TGT_LOG)"
}
# shellcheck disable=SC2034 # NVMF_TGT_RC, NVMF_TGT_KILLED are for the caller
# Leaves the target's exit status in NVMF_TGT_RC and NVMF_TGT_KILLED=1 if SIGTERM was not
# enough (a stopped target is continued first, so that it sees the SIGTERM).
target_stop_nvmf_tgt() {
    local i
    [[ -n $NVMF_TGT_PID ]] || return 0
    NVMF_TGT_KILLED=0
    kill -TERM "$NVMF_TGT_PID" 2>/dev/null || true
    kill -CONT "$NVMF_TGT_PID" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        kill -0 "$NVMF_TGT_PID" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$NVMF_TGT_PID" 2>/dev/null; then
        log "nvmf_tgt did not stop in 10 s after SIGTERM: SIGKILL"
        kill -KILL "$NVMF_TGT_PID" 2>/dev/null || true
        NVMF_TGT_KILLED=1
    fi
    NVMF_TGT_RC=0
    wait "$NVMF_TGT_PID" 2>/dev/null || NVMF_TGT_RC=$?
    NVMF_TGT_PID=
}

# ---- identity, liveness, exit status (added for t_basic) ------------------------------------
# target_ident TARGET SUBNQN: print "SERIAL MODEL" as the target was configured (nvmet's
# configfs attributes; the subsystem entry of nvmf_tgt's generated JSON config).
target_ident() {
    case $1 in
        kernel)
            printf '%s %s\n' "$(cat "$NVMET_CFS/subsystems/$2/attr_serial")" \
                "$(cat "$NVMET_CFS/subsystems/$2/attr_model")"
            ;;
        nvmf_tgt)
            jq -r --arg n "$2" '.subsystems[] | select(.subsystem == "nvmf") | .config[]
                | select(.method == "nvmf_create_subsystem" and .params.nqn == $n)
                | "\(.params.serial_number) \(.params.model_number)"' "$NVMF_TGT_CONFIG"
            ;;
        *) fail "unknown target '$1'" ;;
    esac
}
# target_alive TARGET: nvmf_tgt's process is running and it listens.
target_alive() {
    if [[ $1 == nvmf_tgt ]]; then
        [[ -n $NVMF_TGT_PID ]] && kill -0 "$NVMF_TGT_PID" 2>/dev/null || return 1
    fi
    target_listening
}
# target_stop_rc TARGET: stop the target and return its exit status: nvmf_tgt gets SIGTERM
# and 10 s to exit (then SIGKILL, status 124). The kernel target gives 0.
target_stop_rc() {
    [[ $1 == nvmf_tgt ]] || { target_stop "$1"; return 0; }
    [[ -n $NVMF_TGT_PID ]] || return 1
    target_stop_nvmf_tgt
    ((NVMF_TGT_KILLED)) && return 124
    return "$NVMF_TGT_RC"
}
