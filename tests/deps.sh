#!/usr/bin/env bash
# Install (as root, apt-get) or check the Debian packages that the build and
# the tests need.   usage: tests/deps.sh install|check
set -euo pipefail

# package:what-proves-it-is-there
BUILD_PKGS=(
	"build-essential:cc"
	"pkg-config:pkg-config"
	"libdpdk-dev:pc=libdpdk"
	"libnuma-dev:file=/usr/include/numa.h"
	"libbsd-dev:file=/usr/include/bsd/string.h"
	"libibverbs-dev:pc=libibverbs"
	"librdmacm-dev:pc=librdmacm"
	"libaio-dev:file=/usr/include/libaio.h"
	"uuid-dev:pc=uuid"
	"libjansson-dev:pc=jansson"
	"libcunit1-dev:pc=cunit"
	"libtsan2:file=/usr/lib/x86_64-linux-gnu/libtsan.so.2"
	"clang:clang"
	"libclang-rt-14-dev:file=/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a"
)
# Needed at run time by the target and by the end-to-end test bed.
RUN_PKGS=(ibverbs-providers rdma-core rdmacm-utils ibverbs-utils iproute2 kmod)

present() {
	local probe=$1
	case $probe in
	pc=*) pkg-config --exists "${probe#pc=}" 2>/dev/null ;;
	file=*) [ -e "${probe#file=}" ] ;;
	*) command -v "$probe" >/dev/null 2>&1 ;;
	esac
}

missing_build() {
	local entry
	for entry in "${BUILD_PKGS[@]}"; do
		present "${entry#*:}" || echo "${entry%%:*}"
	done
}

case ${1:-check} in
check)
	# pkg-config itself may be what is missing.
	missing=$(missing_build | tr '\n' ' ')
	if [ -n "$missing" ]; then
		echo "missing Debian packages: $missing" >&2
		echo "install them with: make deps   (as root; runs apt-get)" >&2
		exit 1
	fi
	;;
install)
	if [ "$(id -u)" != 0 ]; then
		echo "make deps needs root to run apt-get (try: sudo make deps)" >&2
		exit 1
	fi
	pkgs=()
	for entry in "${BUILD_PKGS[@]}"; do pkgs+=("${entry%%:*}"); done
	pkgs+=("${RUN_PKGS[@]}")
	todo=()
	for p in "${pkgs[@]}"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || todo+=("$p")
	done
	if [ ${#todo[@]} -eq 0 ]; then
		echo "deps: all ${#pkgs[@]} Debian packages already installed"
		exit 0
	fi
	echo "deps: installing with apt-get: ${todo[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends "${todo[@]}"
	;;
*)
	echo "usage: $0 install|check" >&2
	exit 2
	;;
esac
