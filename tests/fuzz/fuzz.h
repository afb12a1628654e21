/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the libFuzzer harnesses (make fuzz): a quiet log, a target
 * that validates only (no files, memory, transport or signals), and an
 * in-process transport that completes requests into plain memory.
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

/* ---- An in-process transport: completions are counted, nothing sent ---- */

struct fz_qp {
	struct nvmf_qpair qp;
	int disconnects;
};

struct fz_req {
	struct nvmf_req req;
	struct nvme_cmd cmd;
	struct nvme_cpl cpl;
	int done;
};

static inline void fz_req_complete(struct nvmf_req *req)
{
	((struct fz_req *)req)->done++;
}

static inline void fz_qpair_disconnect(struct nvmf_qpair *qp)
{
	((struct fz_qp *)qp)->disconnects++;
	nvmf_qpair_fini(qp);
}

static inline uint32_t fz_ioccsz(const struct nvmf_transport *t)
{
	return 64 + t->opts.in_capsule_data_size;
}

static const struct nvmf_transport_ops fz_ops = {
	.name = "FUZZ",
	.req_complete = fz_req_complete,
	.qpair_disconnect = fz_qpair_disconnect,
	.ioccsz_bytes = fz_ioccsz,
	.msdbd = 16,
};

static struct nvmf_transport g_fz_t;

/* Requests the core still holds (AERs) when fz_cmd returns: freed at the end. */
#define FZ_PENDING_MAX 64
static struct fz_req *g_fz_pending[FZ_PENDING_MAX];
static int g_fz_npending;

static inline void fz_free_pending(void)
{
	while (g_fz_npending)
		free(g_fz_pending[--g_fz_npending]);
}

/*
 * Run one command to completion on q with data buf[len] (the transport's
 * buffers). Returns whether it completed (a held AER does not).
 */
static inline int fz_cmd(struct nvmf_tgt *tgt, struct fz_qp *q, const struct nvme_cmd *cmd,
			 void *buf, uint32_t len)
{
	struct fz_req *r = calloc(1, sizeof(*r));
	int done;

	if (!r)
		return 0;
	r->req.qpair = &q->qp;
	r->req.cmd = &r->cmd;
	r->req.cpl = &r->cpl;
	r->cmd = *cmd;
	if (buf && len) {
		r->req.iov[0].iov_base = buf;
		r->req.iov[0].iov_len = len;
		r->req.iovcnt = 1;
		r->req.length = len;
	}
	r->req.xfer = nvmf_req_xfer(&r->req);
	nvmf_req_exec(&r->req);
	for (int i = 0; i < 50 && !r->done; i++)
		nvmf_loop_once(tgt, 0);
	done = r->done;
	if (done)
		free(r);
	else if (g_fz_npending < FZ_PENDING_MAX)
		g_fz_pending[g_fz_npending++] = r;	/* held (AER) */
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
	g_fz_t.ops = &fz_ops;
	g_fz_t.tgt = tgt;
	g_fz_t.opts = tgt->topts;
	return tgt;
}

static inline void fz_qp_init(struct fz_qp *q)
{
	memset(q, 0, sizeof(*q));
	nvmf_qpair_init(&q->qp, &g_fz_t);
}

#endif
