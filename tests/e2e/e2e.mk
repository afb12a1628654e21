# End-to-end tests in a soft-RoCE VM (see tests/e2e/README.md). Included by the top-level
# Makefile; everything it builds goes under $(BUILD).
#   make e2e           prepare the VM (cached), build verbs_check, run E2E_TESTS
#   make e2e-prepare   only prepare the VM (packages, kernel, initramfs) in $(BUILD)/e2e
BUILD ?= build
CC ?= cc
# Including this file must not change the including Makefile's default goal.
E2E_SAVED_DEFAULT_GOAL := $(.DEFAULT_GOAL)

E2E_SRC := tests/e2e
E2E_WORK_DIR = $(abspath $(BUILD))/e2e
E2E_VERBS_CHECK = $(BUILD)/tests/verbs_check
E2E_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Werror
# Each test boots its own VM: script[:arg...]
E2E_TESTS ?= t_verbs.sh t_basic.sh:kernel t_basic.sh:nvmf_tgt t_asan.sh
# t_asan.sh runs the sanitizer build of the target: build it when it is on the list.
E2E_ASAN_TGT_DEP = $(if $(filter t_asan.sh%,$(notdir $(E2E_TESTS))),$(BUILD)/nvmf_tgt_asan)

.PHONY: e2e e2e-prepare

e2e-prepare:
	E2E_WORK=$(E2E_WORK_DIR) $(E2E_SRC)/prepare.sh

# pkg-config runs in the recipe: the -dev packages may only just have been installed.
$(E2E_VERBS_CHECK): $(E2E_SRC)/verbs_check.c
	@mkdir -p $(@D)
	$(CC) $(E2E_CFLAGS) $$(pkg-config --cflags libibverbs librdmacm) $< -o $@ \
		$$(pkg-config --libs libibverbs librdmacm)

e2e: e2e-prepare $(E2E_ASAN_TGT_DEP)
	$(MAKE) --no-print-directory $(E2E_VERBS_CHECK)
	E2E_WORK=$(E2E_WORK_DIR) VERBS_CHECK=$(abspath $(E2E_VERBS_CHECK)) \
		$(E2E_SRC)/suite.sh $(E2E_TESTS)

.DEFAULT_GOAL := $(E2E_SAVED_DEFAULT_GOAL)
