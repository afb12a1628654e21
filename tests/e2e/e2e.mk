# End-to-end tests in a soft-RoCE VM (see tests/e2e/README.md). Included by the top-level
# Makefile; everything it builds goes under $(BUILD).
#   make e2e           prepare the VM (cached), build verbs_check and nvmf_tgt, run E2E_TESTS
#   make e2e-prepare   only prepare the VM (packages, kernel, initramfs) in $(BUILD)/e2e
#   make run           the demo: nvmf_tgt -c conf/target.json serving a Linux host (here if
#                      this kernel has soft-RoCE, else in the VM); MAIN_TARGET=kernel: nvmet
#   make bench-e2e     transport benchmark report, ours vs the kernel's nvmet, in the VM;
#                      BENCH_OURS=kernel2: the kernel against itself (the noise floor);
#                      then ours with one poll group against two (b_multicore.sh)
# run and bench-e2e are not part of `make e2e`.
BUILD ?= build
CC ?= cc
# Including this file must not change the including Makefile's default goal.
E2E_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

E2E_SRC := tests/e2e
E2E_WORK_DIR = $(abspath $(BUILD))/e2e
E2E_VERBS_CHECK = $(BUILD)/tests/verbs_check
E2E_RDMA_HOSTILE = $(BUILD)/tests/rdma_hostile
# The target under test (t_basic.sh:nvmf_tgt); built by `make e2e` unless given.
NVMF_TGT ?= $(abspath $(BUILD)/nvmf_tgt)
E2E_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror
# Each test boots its own VM: script[:arg...]
E2E_TESTS ?= t_verbs.sh t_basic.sh:kernel t_basic.sh:nvmf_tgt t_asan.sh t_rpc.sh t_faults.sh t_disk.sh \
	t_device.sh t_device.sh:groups t_hostile.sh t_multicore.sh
# These run the sanitizer build of the target: build it when one is on the list.
E2E_ASAN_TESTS := t_asan.sh% t_faults.sh% t_disk.sh% t_device.sh% t_hostile.sh% \
	t_multicore.sh%
E2E_ASAN_TGT_DEP = $(if $(filter $(E2E_ASAN_TESTS),$(notdir $(E2E_TESTS))),$(BUILD)/nvmf_tgt_asan)

# make run / make bench-e2e settings
MAIN_TARGET ?= nvmf_tgt
BENCH_OURS ?= nvmf_tgt
BENCH_ROUNDS ?= 5
BENCH_SECS ?= 8
BENCH_MEM ?= 3072
# 14 fio jobs per round (7 kinds, 2 targets) of BENCH_SECS + 1 s ramp + ~1 s each, plus
# boot, set-up and one fio start per kind (seconds each under emulation).
BENCH_TIMEOUT ?= $(shell echo $$((14 * $(BENCH_ROUNDS) * ($(BENCH_SECS) + 3) + 420)))

.PHONY: e2e e2e-prepare run bench-e2e

e2e-prepare:
	E2E_WORK=$(E2E_WORK_DIR) $(E2E_SRC)/prepare.sh

# pkg-config runs in the recipe: the -dev packages may only just have been installed.
$(E2E_VERBS_CHECK): $(E2E_SRC)/verbs_check.c
	@mkdir -p $(@D)
	$(CC) $(E2E_CFLAGS) $$(pkg-config --cflags libibverbs librdmacm) $< -o $@ \
		$$(pkg-config --libs libibverbs librdmacm)

# The hostile NVMe-oF RDMA host of t_hostile.sh (issue 12).
$(E2E_RDMA_HOSTILE): $(E2E_SRC)/rdma_hostile.c
	@mkdir -p $(@D)
	$(CC) $(E2E_CFLAGS) $$(pkg-config --cflags libibverbs librdmacm) $< -o $@ \
		$$(pkg-config --libs libibverbs librdmacm)

e2e: e2e-prepare $(E2E_ASAN_TGT_DEP)
	$(MAKE) --no-print-directory $(E2E_VERBS_CHECK) $(E2E_RDMA_HOSTILE) $(BUILD)/nvmf_tgt \
		$(BUILD)/nvmf_rpc
	E2E_WORK=$(E2E_WORK_DIR) VERBS_CHECK=$(abspath $(E2E_VERBS_CHECK)) NVMF_TGT=$(NVMF_TGT) \
		RDMA_HOSTILE=$(abspath $(E2E_RDMA_HOSTILE)) \
		$(E2E_SRC)/suite.sh $(E2E_TESTS)

# nvmf_tgt is built only when it is the one to run.
run:
	$(if $(filter kernel,$(MAIN_TARGET)),,$(MAKE) --no-print-directory all)
	E2E_WORK=$(E2E_WORK_DIR) $(E2E_SRC)/run-main.sh $(MAIN_TARGET)

bench-e2e: e2e-prepare
	$(if $(filter kernel2,$(BENCH_OURS)),,$(MAKE) --no-print-directory all)
	@echo "bench-e2e: host load average $$(cut -d' ' -f1-3 /proc/loadavg) ($$(nproc) CPUs):" \
		"other VMs running beside it disturb the numbers"
	E2E_WORK=$(E2E_WORK_DIR) E2E_TIMEOUT=$(BENCH_TIMEOUT) E2E_MEM=$(BENCH_MEM) \
		E2E_BENCH_ROUNDS=$(BENCH_ROUNDS) E2E_BENCH_SECS=$(BENCH_SECS) \
		$(E2E_SRC)/run-vm.sh $(E2E_SRC)/b_transport.sh $(BENCH_OURS)
	$(if $(filter kernel2,$(BENCH_OURS)),,E2E_WORK=$(E2E_WORK_DIR) E2E_MEM=$(BENCH_MEM) \
		E2E_TIMEOUT=$$((4 * $(BENCH_ROUNDS) * ($(BENCH_SECS) + 6) + 300)) \
		E2E_BENCH_ROUNDS=$(BENCH_ROUNDS) E2E_BENCH_SECS=$(BENCH_SECS) \
		$(E2E_SRC)/run-vm.sh $(E2E_SRC)/b_multicore.sh)

.DEFAULT_GOAL := $(E2E_SAVED_DEFAULT_GOAL)
