/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the libFuzzer harnesses (make fuzz): a quiet log, and commands
 * run through the unit tests' in-process transport (loopback.h).
 */
#ifndef TESTS_FUZZ_FUZZ_H
#define TESTS_FUZZ_FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memmap/log.h"
#include "target/config.h"
#include "target/core.h"
#include "tests/unit/loopback.h"

/*
 * Errors are the point: our log stays quiet unless FUZZ_VERBOSE (stderr
 * itself is libFuzzer's and the sanitizers').
 */
static inline void fuzz_quiet(void)
{
	if (!getenv("FUZZ_VERBOSE"))
		log_set_level(LOGL_OFF);
}

/* NUL-terminated copy of the input (free it). */
static inline char *fuzz_text(const uint8_t *data, size_t size)
{
	char *t = malloc(size + 1);

	if (t) {
		memcpy(t, data, size);
		t[size] = '\0';
	}
	return t;
}

/* ---- The unit tests' loopback transport: completions counted, nothing sent ---- */

/* Requests the core still holds (AERs) when fz_cmd returns: freed at the end. */
#define FZ_PENDING_MAX 64
static struct lo_req *g_fz_pending[FZ_PENDING_MAX];
static int g_fz_npending;

static inline void fz_free_pending(void)
{
	while (g_fz_npending)
		free(g_fz_pending[--g_fz_npending]);
}

/* Run one command on q with data buf[len]; whether it completed (an AER waits). */
static inline int fz_cmd(struct nvmf_tgt *tgt, struct lo_qp *q, const struct nvme_cmd *cmd,
			 void *buf, uint32_t len)
{
	struct lo_req *r = lo_start(q, cmd, buf, len);
	int done;

	for (int i = 0; i < 50 && !r->done; i++)
		nvmf_loop_once(tgt, 0);
	done = r->done;
	if (done)
		free(r);
	else if (g_fz_npending < FZ_PENDING_MAX)
		g_fz_pending[g_fz_npending++] = r;
	else
		abort();	/* the core holds more than it may */
	return done;
}

/* A target from a config (bdev_null namespaces: no DMA memory needed). */
static inline struct nvmf_tgt *fz_tgt(const char *json)
{
	struct nvmf_tgt *tgt = nvmf_tgt_create();

	if (!tgt)
		abort();
	if (nvmf_config_load_string(tgt, json, "fuzz", 0))
		abort();
	tgt->state = NVMF_TGT_RUNNING;
	lo_transport_init(tgt);
	return tgt;
}

/* Every harness: our log stays quiet (see fuzz_quiet). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_quiet();
	return 0;
}

#endif
