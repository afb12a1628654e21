#!/bin/bash
# Prepare the end-to-end VM once: host packages, Debian's kernel (extracted, not installed)
# and a small busybox initramfs with the modules the tests need. The result is cached in
# $E2E_WORK (default build/e2e); a second run with the same kernel and script is a no-op.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
WORK=${E2E_WORK:-$ROOT/build/e2e}

# Host packages: the emulator, the initramfs tools, and everything the guest runs from the
# host's root (shared read-only): nvme-cli, rdma tool, verbs provider for rxe, fio.
PACKAGES=(qemu-system-x86 busybox-static kmod cpio e2fsprogs iproute2 dmsetup nvme-cli rdma-core
    ibverbs-providers ibverbs-utils rdmacm-utils fio libibverbs-dev librdmacm-dev pkg-config)

# Modules loaded at boot (names as modprobe knows them); dependencies come from modules.dep.
# crc32_generic is loaded by name by rdma_rxe (not in modules.dep), crc32c_generic by ext4.
MODULES=(virtio_pci virtio_blk virtio_rng 9p 9pnet_virtio overlay configfs
    crc32_generic crc32c_generic ext4 loop veth dummy
    rdma_rxe ib_uverbs rdma_ucm nvme-core nvme-fabrics nvme-rdma nvmet nvmet-rdma)
# In the initramfs too, but loaded only by the tests that need them (with options).
MODULES_LATER=(null_blk)

say() { printf 'prepare: %s\n' "$*"; }
die() { printf 'prepare: ERROR: %s\n' "$*" >&2; exit 1; }

missing_packages() {
    local installed
    # dpkg-query fails when one package is unknown; the others are still listed.
    installed=$({ dpkg-query -W -f='${Package} ${Status}\n' "${PACKAGES[@]}" 2>/dev/null || true; } |
        awk '$NF == "installed" { print $1 }')
    local p
    for p in "${PACKAGES[@]}"; do
        grep -qxF "$p" <<<"$installed" || printf '%s\n' "$p"
    done
}

apt_updated=0
apt_update_once() {
    [[ $apt_updated == 1 ]] && return 0
    say "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq || die "apt-get update failed"
    apt_updated=1
}

install_packages() {
    local missing
    mapfile -t missing < <(missing_packages)
    ((${#missing[@]} == 0)) && return 0
    if [[ $(id -u) != 0 ]]; then
        die "missing packages: ${missing[*]} (run as root, or: apt-get install --no-install-recommends ${missing[*]})"
    fi
    say "installing with apt-get --no-install-recommends: ${missing[*]}"
    apt_update_once
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" </dev/null || true
    mapfile -t missing < <(missing_packages)
    ((${#missing[@]} == 0)) || die "apt-get could not install: ${missing[*]}"
}

# The versioned kernel package that the linux-image-amd64 metapackage depends on.
kernel_package() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}

find_kernel() {
    KPKG=$(kernel_package)
    if [[ -z $KPKG && $(id -u) == 0 ]]; then
        apt_update_once
        KPKG=$(kernel_package)
    fi
    [[ -n $KPKG ]] || die "cannot tell which kernel linux-image-amd64 points at (apt-cache depends linux-image-amd64 gives nothing; run apt-get update)"
    KVER=${KPKG#linux-image-}
}

stamp_key() {
    printf '%s %s\n' "$KVER" "$(cat "${BASH_SOURCE[0]}" "$HERE/init" | sha256sum | cut -d' ' -f1)"
}

is_cached() {
    [[ -f $WORK/stamp && $(cat "$WORK/stamp") == "$(stamp_key)" &&
        -f $WORK/vmlinuz && -f $WORK/initrd.img && -d $WORK/kernel/lib/modules/$KVER ]]
}

extract_kernel() {
    local deb
    rm -rf "$WORK/dl" "$WORK/kernel"
    mkdir -p "$WORK/dl"
    chmod 777 "$WORK/dl" # apt-get download fetches as user _apt
    say "downloading $KPKG (apt-get download)"
    (cd "$WORK/dl" && apt-get download -qq "$KPKG") || die "apt-get download $KPKG failed"
    deb=$(ls "$WORK"/dl/*.deb)
    say "extracting $(basename "$deb") (dpkg -x, nothing installed)"
    dpkg -x "$deb" "$WORK/kernel"
    [[ -f $WORK/kernel/boot/vmlinuz-$KVER ]] || die "$KPKG has no boot/vmlinuz-$KVER"
    depmod -b "$WORK/kernel" "$KVER"
    ln -sf "kernel/boot/vmlinuz-$KVER" "$WORK/vmlinuz"
    rm -rf "$WORK/dl"
}

# Print the module files (relative to the modules dir) needed for one module, in load order.
module_files() {
    local mod=$1 out
    out=$(modprobe -d "$WORK/kernel" -S "$KVER" --show-depends "$mod" 2>&1) ||
        die "kernel $KVER has no module '$mod' (modprobe: $out)"
    sed -n "s|^insmod $WORK/kernel/lib/modules/$KVER/\([^ ]*\).*|\1|p" <<<"$out"
}

build_initramfs() {
    local r=$WORK/initramfs.d mdir mod f
    rm -rf "$r"
    mkdir -p "$r"/{bin,sbin,dev,proc,sys,etc,lower,upper,newroot,results}
    cp /bin/busybox "$r/bin/busybox"
    ln -s busybox "$r/bin/sh"
    ln -s ../bin/busybox "$r/sbin/modprobe" # for the kernel's request_module (pitfall 2)
    cp "$HERE/init" "$r/init"
    chmod 755 "$r/init"
    mdir=$r/lib/modules/$KVER
    mkdir -p "$mdir"
    : >"$r/etc/modules.boot"
    for mod in "${MODULES[@]}"; do
        for f in $(module_files "$mod"); do
            grep -qxF "$f" "$r/etc/modules.boot" && continue
            printf '%s\n' "$f" >>"$r/etc/modules.boot"
        done
    done
    for mod in "${MODULES_LATER[@]}"; do
        module_files "$mod" >>"$r/etc/modules.later"
    done
    sort -u "$r/etc/modules.boot" "$r/etc/modules.later" | while read -r f; do
        install -D -m 644 "$WORK/kernel/lib/modules/$KVER/$f" "$mdir/$f"
    done
    cp "$WORK/kernel/lib/modules/$KVER"/modules.{builtin,builtin.modinfo,order} "$mdir/"
    depmod -b "$r" "$KVER" # modules.dep and modules.alias for busybox modprobe
    (cd "$r" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | gzip -1 >"$WORK/initrd.img.tmp"
    mv "$WORK/initrd.img.tmp" "$WORK/initrd.img"
    say "initramfs: $(wc -l <"$r/etc/modules.boot") boot modules, $(du -h "$WORK/initrd.img" | cut -f1)"
}

main() {
    local t0=$SECONDS
    install_packages
    find_kernel
    if is_cached; then
        say "cached: kernel $KVER in $WORK (delete $WORK/stamp to rebuild)"
        return 0
    fi
    mkdir -p "$WORK"
    rm -f "$WORK/stamp"
    if [[ ! -d $WORK/kernel/lib/modules/$KVER || ! -f $WORK/kernel/boot/vmlinuz-$KVER ]]; then
        extract_kernel
    fi
    build_initramfs
    stamp_key >"$WORK/stamp"
    say "ready: kernel $KVER, $WORK ($((SECONDS - t0)) s)"
}

main "$@"
