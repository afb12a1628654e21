#!/bin/bash
# `make run`: show the target serving a Linux host's nvme connect and writes over soft-RoCE.
#   tests/e2e/run-main.sh [nvmf_tgt|kernel]     (default: $MAIN_TARGET, else nvmf_tgt)
# Where: on this machine when its own kernel can do it (root, rdma_rxe and nvme-rdma
# loadable, `rdma link` works, and the listen address of the config is not on any network
# of this machine): a veth pair of its own carries soft-RoCE and is removed afterwards;
# nothing else is touched. Otherwise (the build machines: no RDMA, no KVM) in the e2e VM
# (prepared on first use, then cached). The steps are tests/e2e/t_main.sh's.
# Environment: E2E_MAIN_MODE (auto, vm, local), E2E_MAIN_CONFIG (conf/target.json),
# NVMF_TGT (build/nvmf_tgt), E2E_WORK (build/e2e), E2E_TIMEOUT (240 s), and t_main.sh's.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TARGET=${1:-${MAIN_TARGET:-nvmf_tgt}}
MODE=${E2E_MAIN_MODE:-auto}
CONFIG=${E2E_MAIN_CONFIG:-conf/target.json}
# Names used on this machine (in local mode): unlikely to exist, removed afterwards.
LOCAL_IF=nvmfdemo0
LOCAL_IF_PEER=nvmfdemo1
LOCAL_RDMA_DEV=nvmfdemo_rxe
WHY_NOT=

say() { printf 'run: %s\n' "$*"; }
die() { printf 'run: ERROR: %s\n' "$*" >&2; exit 1; }

module_available() {
    [[ -d /sys/module/${1//-/_} ]] || modprobe -n -q "$1" 2>/dev/null
}

# The address the config listens on (10.0.0.1 when there is no config yet).
listen_addr() {
    local f=$CONFIG
    [[ $f == /* ]] || f=$ROOT/$f
    if [[ -f $f ]] && command -v jq >/dev/null; then
        jq -r '[.subsystems[] | select(.subsystem == "nvmf") | .config[]?
            | select(.method == "nvmf_subsystem_add_listener") | .params.listen_address.traddr][0]
            // "10.0.0.1"' "$f"
    else
        echo 10.0.0.1
    fi
}

# The address must not be on, or routed through, any interface of this machine but ours:
# adding it would take traffic away from a real network.
address_free() {
    local addr=$1 routes
    if ip -o addr show | grep -v " $LOCAL_IF " | grep -qF " inet $addr/"; then
        WHY_NOT="$addr is already an address of this machine"
        return 1
    fi
    routes=$(ip route show match "$addr" | grep -v '^default' | grep -v " dev $LOCAL_IF " || true)
    if [[ -n $routes ]]; then
        WHY_NOT="$addr is on a network this machine already reaches ($(head -n1 <<<"$routes"))"
        return 1
    fi
}

# Sets WHY_NOT when this machine cannot run the demo itself.
can_run_local() {
    local m c mods=(rdma_rxe rdma_ucm nvme-rdma veth)
    [[ $TARGET == kernel ]] && mods+=(nvmet-rdma)
    [[ $(id -u) == 0 ]] || { WHY_NOT="not root"; return 1; }
    for c in ip rdma nvme jq modprobe; do
        command -v "$c" >/dev/null || { WHY_NOT="no '$c' command"; return 1; }
    done
    for m in "${mods[@]}"; do
        module_available "$m" || { WHY_NOT="kernel $(uname -r) has no module $m"; return 1; }
    done
    modprobe rdma_rxe 2>/dev/null || { WHY_NOT="modprobe rdma_rxe failed"; return 1; }
    rdma link show >/dev/null 2>&1 || { WHY_NOT="'rdma link show' does not work"; return 1; }
    address_free "$(listen_addr)"
}

run_local() {
    local results
    results=$ROOT/build/run-main/$(date +%Y%m%d-%H%M%S)-$$
    mkdir -p "$results"
    say "running on this machine (kernel $(uname -r)); soft-RoCE $LOCAL_RDMA_DEV on a veth pair $LOCAL_IF/$LOCAL_IF_PEER, removed afterwards; logs in $results"
    E2E_LOCAL=1 E2E_RESULTS=$results E2E_IF=$LOCAL_IF E2E_IF_PEER=$LOCAL_IF_PEER \
        E2E_RDMA_DEV=$LOCAL_RDMA_DEV exec "$HERE/t_main.sh" "$TARGET"
}

run_vm() {
    say "running in the e2e VM (Debian's kernel under qemu: soft-RoCE and the NVMe modules live there)"
    E2E_WORK=${E2E_WORK:-$ROOT/build/e2e} "$HERE/prepare.sh" || die "the VM could not be prepared"
    E2E_TIMEOUT=${E2E_TIMEOUT:-240} exec "$HERE/run-vm.sh" "$HERE/t_main.sh" "$TARGET"
}

main() {
    [[ $TARGET == nvmf_tgt || $TARGET == kernel ]] || die "usage: $0 [nvmf_tgt|kernel]"
    export NVMF_TGT=${NVMF_TGT:-$ROOT/build/nvmf_tgt}
    export E2E_MAIN_CONFIG=$CONFIG
    if [[ $TARGET == nvmf_tgt && ! -x $NVMF_TGT ]]; then
        die "no target binary $NVMF_TGT: build it first (make)"
    fi
    case $MODE in
        local) can_run_local || die "cannot run on this machine: $WHY_NOT"; run_local ;;
        vm) run_vm ;;
        auto)
            if can_run_local; then run_local; fi
            say "this machine cannot run it itself: $WHY_NOT"
            run_vm
            ;;
        *) die "E2E_MAIN_MODE must be auto, vm or local (not '$MODE')" ;;
    esac
}

main "$@"
