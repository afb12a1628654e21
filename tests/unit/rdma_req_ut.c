/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RDMA request state machine without a device or the core: a fake
 * verbs/core layer records what would be posted and executed, and the
 * tests play the work completions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifndef RTE_USE_C11_MEM_MODEL
#define RTE_USE_C11_MEM_MODEL 1
#endif
#include <rte_ring.h>

#include "memmap/memmap.h"
#include "target/nvmf.h"
#include "transport/rdma_req.h"
#include "tests/unit/ut.h"


#define MB2		MEMMAP_PAGE_SIZE
#define UNIT		8192
#define DEPTH		4
#define RECV_LEN	(64 + 4096)
#define OPC_FLUSH	0x00
#define OPC_WRITE	0x01
#define OPC_READ	0x02

/* ---- Fake MRs over one registered region ---- */

static struct ibv_mr *fake_reg(struct ibv_pd *pd, void *addr, size_t len, int access)
{
	struct ibv_mr *mr = calloc(1, sizeof(*mr));

	(void)pd;
	(void)access;
	mr->addr = addr;
	mr->length = len;
	mr->lkey = 0x500;
	return mr;
}

static int fake_dereg(struct ibv_mr *mr)
{
	free(mr);
	return 0;
}

static const struct nvmf_rdma_mr_hooks fake_hooks = { fake_reg, fake_dereg };

static uint8_t *g_mem;	/* 2 MiB registered: capsules, responses, buffers */
static struct nvmf_rdma_mr_map *g_map;

/* ---- The fake verbs and core ---- */

#define MAX_POSTS	32
struct post {
	int nwr;
	enum ibv_wr_opcode op[40];
	unsigned int flags[40];
	uint32_t inv_rkey;
	uint64_t wr_id_last;
};

static struct {
	struct post posts[MAX_POSTS];
	int nposts;
	int recv_posts;
	int errors;
	int post_send_rc;
	int execs;
	int fails;
	nvme_status fail_status;
	bool exec_completes;	/* the core completes inside exec */
	struct nvmf_req *last_exec;
} g;

static int fake_post_send(struct nvmf_rdma_qpair *qp, struct ibv_send_wr *wr)
{
	struct post *p = &g.posts[g.nposts < MAX_POSTS ? g.nposts++ : MAX_POSTS - 1];

	(void)qp;
	memset(p, 0, sizeof(*p));
	for (; wr; wr = wr->next) {
		p->op[p->nwr] = wr->opcode;
		p->flags[p->nwr] = wr->send_flags;
		p->inv_rkey = wr->invalidate_rkey;
		p->wr_id_last = wr->wr_id;
		p->nwr++;
	}
	return g.post_send_rc;
}

static int fake_post_recv(struct nvmf_rdma_qpair *qp, struct nvmf_rdma_recv *rv)
{
	(void)qp;
	(void)rv;
	g.recv_posts++;
	return 0;
}

static void fake_qp_error(struct nvmf_rdma_qpair *qp, const char *why)
{
	(void)why;
	g.errors++;
	qp->dying = true;
}

static enum nvmf_xfer fake_xfer(const struct nvmf_req *req)
{
	switch (req->cmd->opc) {
	case OPC_WRITE: return NVMF_XFER_HOST_TO_CTRLR;
	case OPC_READ: return NVMF_XFER_CTRLR_TO_HOST;
	case 0x7F: return NVMF_XFER_BIDIRECTIONAL;
	}
	return NVMF_XFER_NONE;
}

static void fake_exec(struct nvmf_req *req)
{
	g.execs++;
	g.last_exec = req;
	if (g.exec_completes)
		nvmf_rdma_req_complete(req);
}

/* Like the core: status into the CQE, then complete through the transport. */
static void fake_fail(struct nvmf_req *req, nvme_status st)
{
	g.fails++;
	g.fail_status = st;
	req->cpl->status = nvme_cpl_status_field(st);
	nvmf_rdma_req_complete(req);
}

static const struct nvmf_rdma_io_ops fake_io = {
	fake_post_send, fake_post_recv, fake_qp_error, fake_xfer, fake_exec, fake_fail,
	NULL, NULL,
};

/* Zero copy: the core points the data at "namespace" memory 1 MiB in. */
#define ZC_OFF	(1u << 20)
static struct {
	bool on;
	int starts, ends;
} gz;

static bool fake_zcopy_start(struct nvmf_req *req)
{
	gz.starts++;
	if (!gz.on)
		return false;
	req->iov[0].iov_base = g_mem + ZC_OFF;
	req->iov[0].iov_len = req->length;
	req->iovcnt = 1;
	return true;
}

static void fake_zcopy_end(struct nvmf_req *req)
{
	(void)req;
	gz.ends++;
}

static const struct nvmf_rdma_io_ops zcopy_io = {
	fake_post_send, fake_post_recv, fake_qp_error, fake_xfer, fake_exec, fake_fail,
	fake_zcopy_start, fake_zcopy_end,
};

/* ---- A queue with DEPTH requests and capsules, and a pool ---- */

static struct nvmf_rdma_pool g_pool;
static struct nvmf_rdma_qpair g_qp;
static struct nvmf_rdma_recv g_recv[DEPTH + 2];

static int suite_init(void)
{
	if (memmap_init(NULL) && memmap_init(NULL) != -EALREADY)
		return 1;
	g_mem = aligned_alloc(MB2, MB2);
	if (!g_mem || memmap_register(g_mem, MB2))
		return 1;
	g_map = nvmf_rdma_mr_map_create(NULL, &fake_hooks);
	return g_map ? 0 : 1;
}

static int suite_fini(void)
{
	nvmf_rdma_mr_map_destroy(&g_map);
	memmap_unregister(g_mem, MB2);
	free(g_mem);
	memmap_fini();
	return 0;
}

/* Layout: capsules at 0, responses at 64 KiB, data buffers from 128 KiB. */
static void setup(uint32_t nbufs, uint16_t max_reads, uint16_t sq)
{
	int i;

	memset(&g, 0, sizeof(g));
	memset(&g_qp, 0, sizeof(g_qp));
	CU_ASSERT_EQUAL_FATAL(nvmf_rdma_pool_init(&g_pool, g_mem + 131072, nbufs, UNIT), 0);
	g_qp.io = &fake_io;
	g_qp.pool = &g_pool;
	g_qp.mr_map = g_map;
	g_qp.lim.max_io_size = 131072;
	g_qp.lim.icd_size = 4096;
	g_qp.max_sge = 16;
	g_qp.send_with_inv = true;
	g_qp.inline_rsp = true;
	g_qp.depth = DEPTH;
	g_qp.sq_free = sq;
	g_qp.max_reads = max_reads;
	CU_ASSERT_EQUAL_FATAL(nvmf_rdma_qpair_reqs_init(&g_qp,
				(struct nvme_cpl *)(g_mem + 65536)), 0);
	for (i = 0; i < DEPTH + 2; i++) {
		CU_ASSERT_EQUAL_FATAL(nvmf_rdma_recv_init(&g_recv[i], g_mem + i * RECV_LEN,
							  RECV_LEN, g_map), 0);
		g_recv[i].qp = &g_qp;
	}
}

static void teardown(void)
{
	nvmf_rdma_qpair_drop(&g_qp);
	CU_ASSERT_EQUAL(g_qp.executing, 0);
	CU_ASSERT_EQUAL(g_pool.nfree, g_pool.count);	/* no buffer leaked */
	nvmf_rdma_qpair_reqs_fini(&g_qp);
	nvmf_rdma_pool_fini(&g_pool);
}

static void sgl_keyed(struct nvme_cmd *c, uint64_t addr, uint32_t len, uint32_t key,
		      uint8_t sub)
{
	c->dptr.address = addr;
	c->dptr.keyed.length[0] = len & 0xFF;
	c->dptr.keyed.length[1] = (len >> 8) & 0xFF;
	c->dptr.keyed.length[2] = (len >> 16) & 0xFF;
	memcpy(c->dptr.keyed.key, &key, 4);
	c->dptr.keyed.type = NVME_SGL_TYPE_KEYED_DATA_BLOCK << 4 | sub;
}

/* The host sends a capsule into g_recv[i]; returns its request. */
static struct nvmf_rdma_req *capsule(int i, uint8_t opc, uint16_t cid, uint32_t len,
				     uint8_t sub, uint32_t icd)
{
	struct nvme_cmd *c = (struct nvme_cmd *)g_recv[i].buf;
	struct ibv_wc wc = { .status = IBV_WC_SUCCESS, .opcode = IBV_WC_RECV };
	struct nvmf_rdma_req *first = TAILQ_FIRST(&g_qp.free_reqs);

	memset(c, 0, sizeof(*c));
	c->opc = opc;
	c->cid = cid;
	c->flags = 0x40;
	if (icd) {
		c->dptr.unkeyed.length = icd;
		c->dptr.unkeyed.type = NVME_SGL_TYPE_DATA_BLOCK << 4 | NVME_SGL_SUBTYPE_OFFSET;
	} else {
		sgl_keyed(c, 0x7000000 + cid * 0x100000ULL, len, 0x1000 + cid, sub);
	}
	wc.byte_len = 64 + icd;
	wc.wr_id = (uintptr_t)&g_recv[i].ctx;
	nvmf_rdma_recv_done(&g_qp, &g_recv[i], &wc);
	return first;
}

static void wc_done(struct nvmf_rdma_req *r, bool read, enum ibv_wc_status st)
{
	struct ibv_wc wc = { .status = st };

	if (read)
		nvmf_rdma_read_done(r, &wc);
	else
		nvmf_rdma_send_done(r, &wc);
}

static void cpl_ok(struct nvmf_rdma_req *r)
{
	r->req.cpl->status = 0;
	nvmf_rdma_req_complete(&r->req);
}

/* ---- Tests ---- */

static void test_in_capsule_write(void)
{
	struct nvmf_rdma_req *r;

	setup(8, 16, 64);
	r = capsule(0, OPC_WRITE, 1, 0, 0, 512);
	CU_ASSERT_EQUAL(g.execs, 1);
	CU_ASSERT_EQUAL(r->state, NVMF_RDMA_REQ_EXECUTING);
	CU_ASSERT_EQUAL(r->req.length, 512);
	CU_ASSERT_EQUAL(r->req.iovcnt, 1);
	CU_ASSERT_PTR_EQUAL(r->req.iov[0].iov_base, g_recv[0].buf + 64);	/* zero-copy */
	CU_ASSERT_EQUAL(g.nposts, 0);
	CU_ASSERT_EQUAL(g_pool.nfree, 8);	/* no pool buffer for in-capsule data */
	cpl_ok(r);
	CU_ASSERT_EQUAL(g.recv_posts, 1);	/* capsule reposted before the SEND */
	CU_ASSERT_EQUAL_FATAL(g.nposts, 1);
	CU_ASSERT_EQUAL(g.posts[0].nwr, 1);
	CU_ASSERT_EQUAL(g.posts[0].op[0], IBV_WR_SEND);
	CU_ASSERT_EQUAL(g.posts[0].flags[0], IBV_SEND_SIGNALED | IBV_SEND_INLINE);
	CU_ASSERT_EQUAL(r->state, NVMF_RDMA_REQ_COMPLETING);
	wc_done(r, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(r->state, NVMF_RDMA_REQ_FREE);
	CU_ASSERT_EQUAL(g_qp.sq_free, 64);
	teardown();
}

static void test_no_data(void)
{
	struct nvmf_rdma_req *r;

	setup(8, 16, 64);
	g.exec_completes = true;
	r = capsule(0, OPC_FLUSH, 2, 0, 0, 0);
	CU_ASSERT_EQUAL(g.execs, 1);
	CU_ASSERT_EQUAL(r->req.length, 0);
	CU_ASSERT_EQUAL(r->req.iovcnt, 0);
	CU_ASSERT_EQUAL_FATAL(g.nposts, 1);
	CU_ASSERT_EQUAL(g.posts[0].op[0], IBV_WR_SEND);
	wc_done(r, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(r->state, NVMF_RDMA_REQ_FREE);
	teardown();
}

static void test_read_write_chained_with_send(void)
{
	struct nvmf_rdma_req *r;

	setup(8, 16, 64);
	r = capsule(0, OPC_READ, 3, 20000, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(g.execs, 1);
	CU_ASSERT_EQUAL(g.nposts, 0);		/* nothing to READ for a read */
	CU_ASSERT_EQUAL(r->req.iovcnt, 3);
	CU_ASSERT_EQUAL(r->req.iov[2].iov_len, 20000 - 2 * UNIT);
	CU_ASSERT_EQUAL(g_pool.nfree, 5);
	cpl_ok(r);
	CU_ASSERT_EQUAL_FATAL(g.nposts, 1);	/* one post: WRITE + SEND */
	CU_ASSERT_EQUAL(g.posts[0].nwr, 2);
	CU_ASSERT_EQUAL(g.posts[0].op[0], IBV_WR_RDMA_WRITE);
	CU_ASSERT_EQUAL(g.posts[0].flags[0], 0);	/* only the SEND signals */
	CU_ASSERT_EQUAL(g.posts[0].op[1], IBV_WR_SEND);
	CU_ASSERT_EQUAL(g.posts[0].flags[1] & IBV_SEND_SIGNALED, IBV_SEND_SIGNALED);
	CU_ASSERT_EQUAL(r->wrs.wr[0].wr.rdma.remote_addr, 0x7000000 + 3 * 0x100000ULL);
	CU_ASSERT_EQUAL(r->wrs.wr[0].wr.rdma.rkey, 0x1003);
	CU_ASSERT_EQUAL(r->wrs.wr[0].num_sge, 3);
	CU_ASSERT_EQUAL(g_qp.sq_free, 62);
	wc_done(r, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(g_pool.nfree, 8);
	CU_ASSERT_EQUAL(g_qp.sq_free, 64);
	teardown();
}

static void test_read_error_sends_no_data(void)
{
	struct nvmf_rdma_req *r;

	setup(8, 16, 64);
	r = capsule(0, OPC_READ, 4, 4096, NVME_SGL_SUBTYPE_ADDRESS, 0);
	r->req.cpl->status = nvme_cpl_status_field(NVME_SC_LBA_OUT_OF_RANGE);
	nvmf_rdma_req_complete(&r->req);
	CU_ASSERT_EQUAL_FATAL(g.nposts, 1);
	CU_ASSERT_EQUAL(g.posts[0].nwr, 1);
	CU_ASSERT_EQUAL(g.posts[0].op[0], IBV_WR_SEND);
	wc_done(r, false, IBV_WC_SUCCESS);
	teardown();
}

static void test_send_with_invalidate(void)
{
	struct nvmf_rdma_req *r;

	setup(8, 16, 64);
	g.exec_completes = true;
	r = capsule(0, OPC_READ, 5, 4096, NVME_SGL_SUBTYPE_INVALIDATE_KEY, 0);
	CU_ASSERT_EQUAL_FATAL(g.nposts, 1);
	CU_ASSERT_EQUAL(g.posts[0].op[1], IBV_WR_SEND_WITH_INV);
	CU_ASSERT_EQUAL(g.posts[0].inv_rkey, 0x1005);
	wc_done(r, false, IBV_WC_SUCCESS);
	/* A device without it: plain SEND, the host invalidates itself. */
	g_qp.send_with_inv = false;
	r = capsule(1, OPC_READ, 6, 4096, NVME_SGL_SUBTYPE_INVALIDATE_KEY, 0);
	CU_ASSERT_EQUAL_FATAL(g.nposts, 2);
	CU_ASSERT_EQUAL(g.posts[1].op[1], IBV_WR_SEND);
	wc_done(r, false, IBV_WC_SUCCESS);
	/* Address subtype: plain SEND. */
	g_qp.send_with_inv = true;
	r = capsule(2, OPC_READ, 7, 4096, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL_FATAL(g.nposts, 3);
	CU_ASSERT_EQUAL(g.posts[2].op[1], IBV_WR_SEND);
	wc_done(r, false, IBV_WC_SUCCESS);
	teardown();
}

static void test_no_stale_invalidate(void)
{
	struct nvmf_rdma_req *r;
	int i;

	setup(8, 16, 64);
	g.exec_completes = true;
	/* Every request once with an rkey to invalidate... */
	for (i = 0; i < DEPTH; i++) {
		r = capsule(i, OPC_READ, 100 + i, 4096, NVME_SGL_SUBTYPE_INVALIDATE_KEY, 0);
		CU_ASSERT_EQUAL(g.posts[g.nposts - 1].op[1], IBV_WR_SEND_WITH_INV);
		wc_done(r, false, IBV_WC_SUCCESS);
	}
	/* ...then a command without data on the same request: plain SEND. */
	r = capsule(0, OPC_FLUSH, 110, 0, 0, 0);
	CU_ASSERT_PTR_EQUAL(r, &g_qp.reqs[0]);
	CU_ASSERT_EQUAL_FATAL(g.nposts, DEPTH + 1);
	CU_ASSERT_EQUAL(g.posts[DEPTH].nwr, 1);
	CU_ASSERT_EQUAL(g.posts[DEPTH].op[0], IBV_WR_SEND);
	wc_done(r, false, IBV_WC_SUCCESS);
	/* A malformed SGL with the invalidate subtype: no invalidation. */
	r = capsule(1, OPC_READ, 111, 131072 + 1, NVME_SGL_SUBTYPE_INVALIDATE_KEY, 0);
	CU_ASSERT_EQUAL(g.fails, 1);
	CU_ASSERT_EQUAL(g.posts[g.nposts - 1].op[0], IBV_WR_SEND);
	wc_done(r, false, IBV_WC_SUCCESS);
	teardown();
}

static void test_write_reads_then_executes(void)
{
	struct nvmf_rdma_req *r;

	setup(8, 16, 64);
	r = capsule(0, OPC_WRITE, 8, 1024, NVME_SGL_SUBTYPE_INVALIDATE_KEY, 0);
	CU_ASSERT_EQUAL(r->state, NVMF_RDMA_REQ_READING);
	CU_ASSERT_EQUAL(g.execs, 0);
	CU_ASSERT_EQUAL_FATAL(g.nposts, 1);
	CU_ASSERT_EQUAL(g.posts[0].nwr, 1);
	CU_ASSERT_EQUAL(g.posts[0].op[0], IBV_WR_RDMA_READ);
	CU_ASSERT_EQUAL(g.posts[0].flags[0], IBV_SEND_SIGNALED);
	CU_ASSERT_EQUAL(g.posts[0].wr_id_last, (uintptr_t)&r->data_ctx);
	CU_ASSERT_EQUAL(g_qp.reads, 1);
	wc_done(r, true, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(g_qp.reads, 0);
	CU_ASSERT_EQUAL(g.execs, 1);
	CU_ASSERT_EQUAL(r->state, NVMF_RDMA_REQ_EXECUTING);
	cpl_ok(r);
	CU_ASSERT_EQUAL_FATAL(g.nposts, 2);
	CU_ASSERT_EQUAL(g.posts[1].nwr, 1);		/* no data back for a write */
	CU_ASSERT_EQUAL(g.posts[1].op[0], IBV_WR_SEND_WITH_INV);
	wc_done(r, false, IBV_WC_SUCCESS);
	teardown();
}

static void test_read_depth_one(void)
{
	struct nvmf_rdma_req *a, *b;

	setup(8, 1, 64);
	a = capsule(0, OPC_WRITE, 10, 4096, NVME_SGL_SUBTYPE_ADDRESS, 0);
	b = capsule(1, OPC_WRITE, 11, 4096, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(a->state, NVMF_RDMA_REQ_READING);
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_READ_PENDING);	/* waits */
	CU_ASSERT_EQUAL(g.nposts, 1);
	CU_ASSERT_EQUAL(g_qp.reads, 1);
	wc_done(a, true, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(a->state, NVMF_RDMA_REQ_EXECUTING);
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_READING);	/* now its turn */
	CU_ASSERT_EQUAL_FATAL(g.nposts, 2);
	CU_ASSERT_EQUAL(g.posts[1].op[0], IBV_WR_RDMA_READ);
	CU_ASSERT_EQUAL(g_qp.reads, 1);
	wc_done(b, true, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(g.execs, 2);
	cpl_ok(a);
	cpl_ok(b);
	wc_done(a, false, IBV_WC_SUCCESS);
	wc_done(b, false, IBV_WC_SUCCESS);
	teardown();
}

static void test_read_depth_two(void)
{
	struct nvmf_rdma_req *a, *b, *c;

	setup(8, 2, 64);
	a = capsule(0, OPC_WRITE, 12, 4096, NVME_SGL_SUBTYPE_ADDRESS, 0);
	b = capsule(1, OPC_WRITE, 13, 4096, NVME_SGL_SUBTYPE_ADDRESS, 0);
	c = capsule(2, OPC_WRITE, 14, 4096, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(a->state, NVMF_RDMA_REQ_READING);
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_READING);
	CU_ASSERT_EQUAL(c->state, NVMF_RDMA_REQ_READ_PENDING);
	wc_done(b, true, IBV_WC_SUCCESS);	/* out of order is fine */
	CU_ASSERT_EQUAL(c->state, NVMF_RDMA_REQ_READING);
	wc_done(a, true, IBV_WC_SUCCESS);
	wc_done(c, true, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(g.execs, 3);
	CU_ASSERT_EQUAL(g_qp.executing, 3);
	/* Executing requests stay with the core when the queue is dropped. */
	CU_ASSERT_EQUAL(nvmf_rdma_qpair_drop(&g_qp), 3);
	CU_ASSERT_EQUAL(g_pool.nfree, 5);
	cpl_ok(a);
	cpl_ok(b);
	cpl_ok(c);
	CU_ASSERT_EQUAL(g.nposts, 3);		/* the 3 READs, no response */
	teardown();
}

static void test_buffer_starvation(void)
{
	struct nvmf_rdma_req *a, *b, *c;

	setup(2, 16, 64);
	a = capsule(0, OPC_READ, 20, 2 * UNIT, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(a->state, NVMF_RDMA_REQ_EXECUTING);
	CU_ASSERT_EQUAL(g_pool.nfree, 0);
	b = capsule(1, OPC_READ, 21, UNIT, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_NEED_BUFFER);	/* waits, no error */
	CU_ASSERT_EQUAL(g.execs, 1);
	CU_ASSERT_EQUAL(g.fails, 0);
	c = capsule(2, OPC_FLUSH, 22, 0, 0, 0);		/* no data: not held up */
	CU_ASSERT_EQUAL(c->state, NVMF_RDMA_REQ_EXECUTING);
	cpl_ok(a);
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_NEED_BUFFER);	/* still in flight */
	wc_done(a, false, IBV_WC_SUCCESS);			/* buffers back */
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_EXECUTING);
	CU_ASSERT_EQUAL(g.execs, 3);
	CU_ASSERT_EQUAL(g_pool.nfree, 1);
	cpl_ok(b);
	cpl_ok(c);
	wc_done(b, false, IBV_WC_SUCCESS);
	wc_done(c, false, IBV_WC_SUCCESS);
	teardown();
}

static void test_buffer_fifo(void)
{
	struct nvmf_rdma_req *a, *b, *c;

	setup(2, 16, 64);
	a = capsule(0, OPC_READ, 23, UNIT, NVME_SGL_SUBTYPE_ADDRESS, 0);
	b = capsule(1, OPC_READ, 24, 2 * UNIT, NVME_SGL_SUBTYPE_ADDRESS, 0);
	c = capsule(2, OPC_READ, 25, UNIT, NVME_SGL_SUBTYPE_ADDRESS, 0);
	/* One buffer is free, but c queues behind b: no starving big I/O. */
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_NEED_BUFFER);
	CU_ASSERT_EQUAL(c->state, NVMF_RDMA_REQ_NEED_BUFFER);
	CU_ASSERT_EQUAL(g_pool.nfree, 1);
	cpl_ok(a);
	wc_done(a, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_EXECUTING);
	CU_ASSERT_EQUAL(c->state, NVMF_RDMA_REQ_NEED_BUFFER);
	cpl_ok(b);
	wc_done(b, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(c->state, NVMF_RDMA_REQ_EXECUTING);
	cpl_ok(c);
	wc_done(c, false, IBV_WC_SUCCESS);
	teardown();
}

/*
 * Poll groups share the transport's buffers through caches of their own:
 * a cache refills by what it lacks plus cache_size, gives back down to
 * cache_size when it holds twice that, and requests that wait are served
 * by the poller once another group gives buffers back.
 */
static void test_shared_buffers(void)
{
	struct nvmf_rdma_bufs bufs;
	struct nvmf_rdma_req *a, *b;
	void *taken[3];

	setup(1, 16, 64);
	nvmf_rdma_pool_fini(&g_pool);
	CU_ASSERT_EQUAL_FATAL(nvmf_rdma_bufs_init(&bufs, g_mem + 131072, 8, UNIT), 0);
	CU_ASSERT_EQUAL_FATAL(nvmf_rdma_pool_init_shared(&g_pool, &bufs, 2), 0);
	CU_ASSERT_EQUAL(nvmf_rdma_bufs_free(&bufs), 8);

	a = capsule(0, OPC_READ, 30, 3 * UNIT, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(a->state, NVMF_RDMA_REQ_EXECUTING);
	CU_ASSERT_EQUAL(g_pool.nfree, 2);		/* took 3 + 2 */
	CU_ASSERT_EQUAL(nvmf_rdma_bufs_free(&bufs), 3);

	/* Another group takes the rest. */
	CU_ASSERT_EQUAL_FATAL(rte_ring_mc_dequeue_bulk(bufs.ring, taken, 3, NULL), 3);
	b = capsule(1, OPC_READ, 31, 4 * UNIT, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_NEED_BUFFER);
	CU_ASSERT_NOT_EQUAL(nvmf_rdma_pool_poll(&g_pool), 0);	/* still waiting */
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_NEED_BUFFER);

	/* It gives them back: the poller serves b from the shared buffers. */
	CU_ASSERT_EQUAL_FATAL(rte_ring_mp_enqueue_bulk(bufs.ring, taken, 3, NULL), 3);
	CU_ASSERT_EQUAL(nvmf_rdma_pool_poll(&g_pool), 0);
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_EXECUTING);
	CU_ASSERT_EQUAL(g_pool.nfree, 1);
	CU_ASSERT_EQUAL(nvmf_rdma_bufs_free(&bufs), 0);

	cpl_ok(a);
	wc_done(a, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(g_pool.nfree, 4);		/* twice the cache: kept */
	cpl_ok(b);
	wc_done(b, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(g_pool.nfree, 2);		/* back down to the cache */
	CU_ASSERT_EQUAL(nvmf_rdma_bufs_free(&bufs), 6);
	CU_ASSERT_EQUAL(nvmf_rdma_pool_poll(&g_pool), 0);

	nvmf_rdma_qpair_drop(&g_qp);
	CU_ASSERT_EQUAL(g_qp.executing, 0);
	nvmf_rdma_qpair_reqs_fini(&g_qp);
	nvmf_rdma_pool_fini(&g_pool);			/* the cache goes back */
	CU_ASSERT_EQUAL(nvmf_rdma_bufs_free(&bufs), 8);
	nvmf_rdma_bufs_fini(&bufs);
}

static void test_invalid_sgl_fails(void)
{
	struct nvmf_rdma_req *r;
	struct nvme_cmd *c;

	setup(8, 16, 64);
	r = capsule(0, OPC_READ, 30, 131072 + 1, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(g.fails, 1);
	CU_ASSERT_EQUAL(g.fail_status, NVME_SC_DATA_SGL_LEN_INVALID | NVME_DNR);
	CU_ASSERT_EQUAL(g.execs, 0);
	CU_ASSERT_EQUAL_FATAL(g.nposts, 1);
	CU_ASSERT_EQUAL(g.posts[0].nwr, 1);	/* the SEND alone, no WRITE */
	CU_ASSERT_EQUAL(r->req.cpl->status,
			nvme_cpl_status_field(NVME_SC_DATA_SGL_LEN_INVALID | NVME_DNR));
	wc_done(r, false, IBV_WC_SUCCESS);
	/* Bit bucket: descriptor type invalid. */
	c = (struct nvme_cmd *)g_recv[1].buf;
	r = TAILQ_FIRST(&g_qp.free_reqs);
	memset(c, 0, sizeof(*c));
	c->opc = OPC_READ;
	c->flags = 0x40;
	c->dptr.unkeyed.type = NVME_SGL_TYPE_BIT_BUCKET << 4;
	{
		struct ibv_wc wc = { .status = IBV_WC_SUCCESS, .byte_len = 64 };
		nvmf_rdma_recv_done(&g_qp, &g_recv[1], &wc);
	}
	CU_ASSERT_EQUAL(g.fail_status, NVME_SC_SGL_DESC_TYPE_INVALID | NVME_DNR);
	wc_done(r, false, IBV_WC_SUCCESS);
	/* Bidirectional: no such command, Invalid Command Opcode. */
	r = capsule(2, 0x7F, 31, 512, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(g.fail_status, NVME_SC_INVALID_OPCODE | NVME_DNR);
	wc_done(r, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(g.errors, 0);		/* the queue lives on */
	teardown();
}

static void test_no_translation_fails_request(void)
{
	static uint8_t outside[2 * UNIT];
	struct nvmf_rdma_req *r;

	setup(2, 16, 64);
	g_pool.base = outside;	/* a pool in memory no MR covers */
	g_pool.free[0] = outside;
	g_pool.free[1] = outside + UNIT;
	r = capsule(0, OPC_WRITE, 40, 4096, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(g.fails, 1);
	CU_ASSERT_EQUAL(g.fail_status, NVME_SC_INTERNAL);
	CU_ASSERT_EQUAL(g.errors, 0);
	CU_ASSERT_EQUAL_FATAL(g.nposts, 1);
	CU_ASSERT_EQUAL(g.posts[0].op[0], IBV_WR_SEND);
	wc_done(r, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(g_pool.nfree, 2);	/* buffers returned */
	teardown();
}

static void test_send_queue_full(void)
{
	struct nvmf_rdma_req *a, *b;

	setup(8, 16, 2);	/* room for one WRITE + SEND */
	g.exec_completes = true;
	a = capsule(0, OPC_READ, 50, 4096, NVME_SGL_SUBTYPE_ADDRESS, 0);
	b = capsule(1, OPC_READ, 51, 4096, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(a->state, NVMF_RDMA_REQ_COMPLETING);
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_COMPLETE_PENDING);
	CU_ASSERT_EQUAL(g.nposts, 1);
	wc_done(a, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_COMPLETING);
	CU_ASSERT_EQUAL(g.nposts, 2);
	wc_done(b, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(g_qp.sq_free, 2);
	teardown();
}

static void test_more_capsules_than_requests(void)
{
	struct nvmf_rdma_req *r[DEPTH];
	int i;

	setup(8, 16, 64);
	for (i = 0; i < DEPTH; i++)
		r[i] = capsule(i, OPC_FLUSH, 60 + i, 0, 0, 0);
	cpl_ok(r[0]);
	/* The host got a response, sent again before our SEND completed. */
	capsule(DEPTH, OPC_FLUSH, 70, 0, 0, 0);
	CU_ASSERT_EQUAL(g.execs, DEPTH);
	CU_ASSERT_EQUAL(g.errors, 0);
	wc_done(r[0], false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(g.execs, DEPTH + 1);	/* the waiting capsule runs */
	CU_ASSERT_EQUAL(r[0]->state, NVMF_RDMA_REQ_EXECUTING);
	CU_ASSERT_PTR_EQUAL(r[0]->req.cmd, (struct nvme_cmd *)g_recv[DEPTH].buf);
	for (i = 0; i < DEPTH; i++) {
		cpl_ok(r[i]);
		wc_done(r[i], false, IBV_WC_SUCCESS);
	}
	teardown();
}

/* More commands than the depth without waiting for a response: dropped. */
static void test_capsules_over_depth(void)
{
	struct nvmf_rdma_req *r[DEPTH];
	int i;

	setup(8, 16, 64);
	for (i = 0; i < DEPTH; i++)
		r[i] = capsule(i, OPC_FLUSH, 60 + i, 0, 0, 0);
	capsule(DEPTH, OPC_FLUSH, 70, 0, 0, 0);
	CU_ASSERT_EQUAL(g.errors, 1);
	CU_ASSERT_TRUE(g_qp.dying);
	CU_ASSERT_EQUAL(g.execs, DEPTH);
	CU_ASSERT_TRUE(STAILQ_EMPTY(&g_qp.recv_wait));
	CU_ASSERT_EQUAL(nvmf_rdma_qpair_drop(&g_qp), DEPTH);	/* all in the core */
	for (i = 0; i < DEPTH; i++)
		cpl_ok(r[i]);
	CU_ASSERT_EQUAL(g.nposts, 0);
	teardown();
}

static void test_error_completion_tears_down(void)
{
	struct nvmf_rdma_req *a, *b, *c;

	setup(8, 1, 64);
	a = capsule(0, OPC_WRITE, 80, 4096, NVME_SGL_SUBTYPE_ADDRESS, 0);
	b = capsule(1, OPC_WRITE, 81, 4096, NVME_SGL_SUBTYPE_ADDRESS, 0);
	c = capsule(2, OPC_FLUSH, 82, 0, 0, 0);		/* inside the core */
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_READ_PENDING);
	wc_done(a, true, IBV_WC_REM_ACCESS_ERR);
	CU_ASSERT_EQUAL(g.errors, 1);
	CU_ASSERT_TRUE(g_qp.dying);
	CU_ASSERT_EQUAL(a->state, NVMF_RDMA_REQ_FREE);
	CU_ASSERT_EQUAL(g.execs, 1);			/* only c */
	wc_done(a, true, IBV_WC_WR_FLUSH_ERR);		/* stale: ignored */
	CU_ASSERT_EQUAL(g.errors, 1);
	{	/* a capsule flushed out of the dying queue */
		struct ibv_wc wc = { .status = IBV_WC_WR_FLUSH_ERR };
		nvmf_rdma_recv_done(&g_qp, &g_recv[3], &wc);
	}
	CU_ASSERT_EQUAL(nvmf_rdma_qpair_drop(&g_qp), 1);	/* c still in the core */
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_FREE);
	CU_ASSERT_EQUAL(g_pool.nfree, 8);
	cpl_ok(c);				/* the core finishes late: dropped */
	CU_ASSERT_EQUAL(c->state, NVMF_RDMA_REQ_FREE);
	CU_ASSERT_EQUAL(g.nposts, 1);		/* nothing posted after the error */
	CU_ASSERT_EQUAL(g.recv_posts, 0);	/* nor reposted to a dying queue */
	teardown();
}

static void test_dying_queue_waiters_dropped(void)
{
	struct nvmf_rdma_req *a, *b;

	setup(1, 16, 64);
	a = capsule(0, OPC_READ, 90, UNIT, NVME_SGL_SUBTYPE_ADDRESS, 0);
	b = capsule(1, OPC_READ, 91, UNIT, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_NEED_BUFFER);
	fake_qp_error(&g_qp, "host crashed");
	CU_ASSERT_EQUAL(nvmf_rdma_qpair_drop(&g_qp), 1);	/* a in the core */
	CU_ASSERT_EQUAL(b->state, NVMF_RDMA_REQ_FREE);
	CU_ASSERT_TRUE(TAILQ_EMPTY(&g_pool.waiting));
	cpl_ok(a);
	CU_ASSERT_EQUAL(a->state, NVMF_RDMA_REQ_FREE);
	CU_ASSERT_EQUAL(g_pool.nfree, 1);
	CU_ASSERT_EQUAL(g.nposts, 0);
	teardown();
}

static void test_post_failure(void)
{
	struct nvmf_rdma_req *r;

	setup(8, 16, 64);
	g.post_send_rc = ENOMEM;
	r = capsule(0, OPC_WRITE, 95, 4096, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(g.errors, 1);
	CU_ASSERT_EQUAL(r->state, NVMF_RDMA_REQ_FREE);
	CU_ASSERT_EQUAL(g_qp.reads, 0);
	CU_ASSERT_EQUAL(g_qp.sq_free, 64);
	teardown();
}

static void test_short_capsule(void)
{
	struct ibv_wc wc = { .status = IBV_WC_SUCCESS, .byte_len = 63 };

	setup(8, 16, 64);
	nvmf_rdma_recv_done(&g_qp, &g_recv[0], &wc);
	CU_ASSERT_EQUAL(g.errors, 1);
	CU_ASSERT_EQUAL(g.execs + g.fails, 0);
	teardown();
}

static void zc_setup(bool on)
{
	setup(8, 16, 64);
	g_qp.io = &zcopy_io;
	memset(&gz, 0, sizeof(gz));
	gz.on = on;
}

static void test_zcopy_read(void)
{
	struct nvmf_rdma_req *r;

	zc_setup(true);
	r = capsule(0, OPC_READ, 3, 131072, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(gz.starts, 1);
	CU_ASSERT_EQUAL(g.execs, 1);
	CU_ASSERT_EQUAL(g_pool.nfree, 8);	/* no pool buffer taken */
	CU_ASSERT_EQUAL(r->wrs.nwr, 1);
	CU_ASSERT_EQUAL(r->wrs.wr[0].num_sge, 1);	/* 128 KiB in one SGE */
	CU_ASSERT_EQUAL(r->wrs.wr[0].sg_list[0].addr, (uintptr_t)(g_mem + ZC_OFF));
	CU_ASSERT_EQUAL(r->wrs.wr[0].sg_list[0].length, 131072);
	CU_ASSERT_EQUAL(r->wrs.wr[0].sg_list[0].lkey, 0x500);
	cpl_ok(r);
	CU_ASSERT_EQUAL_FATAL(g.nposts, 1);
	CU_ASSERT_EQUAL(g.posts[0].op[0], IBV_WR_RDMA_WRITE);
	CU_ASSERT_EQUAL(g.posts[0].op[1], IBV_WR_SEND);
	CU_ASSERT_EQUAL(gz.ends, 0);		/* the NIC still reads from it */
	wc_done(r, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(r->state, NVMF_RDMA_REQ_FREE);
	CU_ASSERT_EQUAL(gz.ends, 1);
	teardown();
}

static void test_zcopy_write(void)
{
	struct nvmf_rdma_req *r;

	zc_setup(true);
	r = capsule(0, OPC_WRITE, 5, 65536, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(g.execs, 0);		/* READ first, straight into place */
	CU_ASSERT_EQUAL_FATAL(g.nposts, 1);
	CU_ASSERT_EQUAL(g.posts[0].op[0], IBV_WR_RDMA_READ);
	CU_ASSERT_EQUAL(r->wrs.wr[0].sg_list[0].addr, (uintptr_t)(g_mem + ZC_OFF));
	CU_ASSERT_EQUAL(g_pool.nfree, 8);
	wc_done(r, true, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(g.execs, 1);
	cpl_ok(r);
	wc_done(r, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(gz.ends, 1);
	teardown();
}

static void test_zcopy_declined_and_dropped(void)
{
	struct nvmf_rdma_req *r;

	zc_setup(false);			/* the core says no: buffers */
	r = capsule(0, OPC_READ, 6, 20000, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(gz.starts, 1);
	CU_ASSERT_EQUAL(g_pool.nfree, 5);
	cpl_ok(r);
	wc_done(r, false, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(gz.ends, 0);
	gz.on = true;				/* a write whose queue dies mid-READ */
	r = capsule(1, OPC_WRITE, 7, 8192, NVME_SGL_SUBTYPE_ADDRESS, 0);
	CU_ASSERT_EQUAL(r->state, NVMF_RDMA_REQ_READING);
	wc_done(r, true, IBV_WC_WR_FLUSH_ERR);
	teardown();
	CU_ASSERT_EQUAL(gz.ends, 1);		/* released with the request */
}

int main(void)
{
	static const struct ut_test tests[] = {
		{ "in_capsule_write", test_in_capsule_write },
		{ "no_data", test_no_data },
		{ "read_write_chained_with_send", test_read_write_chained_with_send },
		{ "read_error_sends_no_data", test_read_error_sends_no_data },
		{ "send_with_invalidate", test_send_with_invalidate },
		{ "no_stale_invalidate", test_no_stale_invalidate },
		{ "write_reads_then_executes", test_write_reads_then_executes },
		{ "read_depth_one", test_read_depth_one },
		{ "read_depth_two", test_read_depth_two },
		{ "buffer_starvation", test_buffer_starvation },
		{ "buffer_fifo", test_buffer_fifo },
		{ "shared_buffers", test_shared_buffers },
		{ "invalid_sgl_fails", test_invalid_sgl_fails },
		{ "no_translation_fails_request", test_no_translation_fails_request },
		{ "send_queue_full", test_send_queue_full },
		{ "more_capsules_than_requests", test_more_capsules_than_requests },
		{ "capsules_over_depth", test_capsules_over_depth },
		{ "error_completion_tears_down", test_error_completion_tears_down },
		{ "dying_queue_waiters_dropped", test_dying_queue_waiters_dropped },
		{ "post_failure", test_post_failure },
		{ "short_capsule", test_short_capsule },
		{ "zcopy_read", test_zcopy_read },
		{ "zcopy_write", test_zcopy_write },
		{ "zcopy_declined_and_dropped", test_zcopy_declined_and_dropped },
	};
	return ut_run("rdma_req", suite_init, suite_fini, tests, UT_COUNT(tests));
}
