# nvmf_tgt: one build for the library objects, the target, tests and benchmarks.
# `make help` lists the targets.

CC      ?= cc
BUILD   ?= build
PREFIX  ?= /usr/local
OPT     ?= -O2

PKGS    := libdpdk libibverbs librdmacm jansson uuid cunit
# Evaluated on first use, not when the Makefile is read, so that
# `make deps test` finds what `deps` has just installed.
lazy = $(eval $(1) := $(shell $(2)))$($(1))
DPDK_CFLAGS = $(call lazy,DPDK_CFLAGS,pkg-config --cflags libdpdk 2>/dev/null)
# DPDK's EAL linked statically: the shared one loads every driver plugin
# Debian ships at each start (+50-100 ms, +19 MB).
DPDK_LIBDIR = $(call lazy,DPDK_LIBDIR,pkg-config --variable=libdir libdpdk 2>/dev/null)
DPDK_LIBS = -Wl,--whole-archive $(addprefix $(DPDK_LIBDIR)/,librte_eal.a librte_ring.a \
	librte_kvargs.a librte_telemetry.a) -Wl,--no-whole-archive -lnuma -lbsd

WARN    := -Wall -Wextra -Werror
CFLAGS  += -std=c11 -D_GNU_SOURCE $(WARN) $(OPT) -g -MMD -MP -I. \
	$(DPDK_CFLAGS)
LDLIBS  += $(DPDK_LIBS) -libverbs -lrdmacm -laio -luuid -ljansson -lpthread -ldl -lm
SAN     := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

MEMMAP_SRC := memmap/memmap.c memmap/env.c memmap/log.c
LIB_SRC    := $(MEMMAP_SRC) $(wildcard transport/*.c) \
	$(filter-out target/main.c target/nvmf_rpc.c,$(wildcard target/*.c))
LIB_OBJ    := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
SAN_OBJ    := $(LIB_SRC:%.c=$(BUILD)/san/%.o)

UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(wildcard tests/unit/*_ut.c))

# ThreadSanitizer build of the unit tests that run threads (`make tsan`, part of
# `make test`): any report is a failure.
TSAN       := -fsanitize=thread -fno-omit-frame-pointer
TSAN_OBJ   := $(LIB_SRC:%.c=$(BUILD)/tsan/obj/%.o)
TSAN_TESTS := $(BUILD)/tsan/thread_ut $(BUILD)/tsan/group_ut

# libFuzzer harnesses (clang, ASan+UBSan): `make fuzz` builds them, `make fuzz-run`
# runs each for FUZZ_SECS on its seed corpus (tests/fuzz/corpus/NAME; new inputs go to
# $(BUILD)/fuzz/corpus/NAME, crashes to $(BUILD)/fuzz/crash-NAME-*).
FUZZ_CC   ?= clang
FUZZ_SECS ?= 30
FUZZ_SAN  := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
FUZZ_OBJ  := $(LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
FUZZERS   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(wildcard tests/fuzz/fuzz_*.c))
BENCHES    := $(patsubst tests/bench/%.c,$(BUILD)/bench/%,$(wildcard tests/bench/*.c))

.SECONDARY:
.PHONY: all deps check-deps test unit tsan bench install clean help fuzz fuzz-run
all: check-deps $(BUILD)/nvmf_tgt $(BUILD)/nvmf_rpc

help:
	@echo "make            build $(BUILD)/nvmf_tgt"
	@echo "make run        the main job: nvmf_tgt -c conf/target.json serves a Linux host"
	@echo "make deps       install the Debian packages needed (root, apt-get)"
	@echo "make test       unit tests, then the end-to-end tests in a VM"
	@echo "make unit       unit tests only (CUnit, ASan/UBSan)"
	@echo "make tsan       the threaded unit tests under ThreadSanitizer"
	@echo "make $(BUILD)/nvmf_tgt_asan   the target under ASan/UBSan/LSan"
	@echo "make e2e        end-to-end tests only (soft-RoCE VM)"
	@echo "make fuzz       libFuzzer harnesses (clang); make fuzz-run FUZZ_SECS=30 runs them"
	@echo "make bench      memmap benchmark (a report, not pass/fail)"
	@echo "make bench-e2e  nvmf_tgt vs the kernel's nvmet in one VM boot (a report)"
	@echo "make install PREFIX=/usr/local"
	@echo "make clean"

deps:
	tests/deps.sh install

check-deps:
	@tests/deps.sh check

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -c $< -o $@

$(BUILD)/tsan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(TSAN) -c $< -o $@

$(BUILD)/nvmf_tgt: $(BUILD)/obj/target/main.o $(LIB_OBJ)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The JSON-RPC client (SPDK's rpc.py works too): needs only jansson.
$(BUILD)/nvmf_rpc: $(BUILD)/obj/target/nvmf_rpc.o
	$(CC) $(LDFLAGS) $^ -ljansson -o $@

# The target under ASan+UBSan (LSan included), for the e2e leak test (t_asan.sh).
$(BUILD)/nvmf_tgt_asan: $(BUILD)/san/target/main.o $(SAN_OBJ)
	$(CC) $(SAN) $(LDFLAGS) $^ $(LDLIBS) -o $@

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS) -Wno-unused-command-line-argument $(FUZZ_SAN) \
		-fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/%: $(BUILD)/fuzz/obj/tests/fuzz/%.o $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_SAN) -fsanitize=fuzzer $(LDFLAGS) $^ $(LDLIBS) -o $@

fuzz: check-deps $(FUZZERS)

fuzz-run: fuzz
	@tests/fuzz/run.sh $(FUZZ_SECS) $(BUILD)/fuzz $(FUZZERS)

$(BUILD)/tests/%: $(BUILD)/san/tests/unit/%.o $(SAN_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(SAN) $(LDFLAGS) $^ $(LDLIBS) -lcunit -o $@

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

unit: check-deps $(UNIT_TESTS)
	@tests/unit/run.sh $(UNIT_TESTS)

$(BUILD)/tsan/%: $(BUILD)/tsan/obj/tests/unit/%.o $(TSAN_OBJ)
	$(CC) $(TSAN) $(LDFLAGS) $^ $(LDLIBS) -lcunit -o $@

tsan: check-deps $(TSAN_TESTS)
	@TSAN_OPTIONS="halt_on_error=1 exitcode=66 suppressions=$(CURDIR)/tests/unit/tsan.supp" \
		tests/unit/run.sh $(TSAN_TESTS)

test: all unit tsan fuzz-run e2e

bench: check-deps $(BENCHES)
	@for b in $(BENCHES); do echo "== $$b"; $$b || exit 1; done

install: all
	install -D -m 0755 $(BUILD)/nvmf_tgt $(DESTDIR)$(PREFIX)/bin/nvmf_tgt
	install -D -m 0755 $(BUILD)/nvmf_rpc $(DESTDIR)$(PREFIX)/bin/nvmf_rpc
	install -D -m 0644 conf/target.json $(DESTDIR)$(PREFIX)/share/nvmf_tgt/target.json

clean:
	rm -rf $(BUILD)/obj $(BUILD)/san $(BUILD)/tsan $(BUILD)/tests $(BUILD)/bench $(BUILD)/fuzz $(BUILD)/nvmf_tgt \
	$(BUILD)/nvmf_tgt_asan $(BUILD)/nvmf_rpc

-include tests/e2e/e2e.mk
-include $(shell find $(BUILD)/obj $(BUILD)/san $(BUILD)/tsan $(BUILD)/fuzz -name '*.d' -type f 2>/dev/null)
