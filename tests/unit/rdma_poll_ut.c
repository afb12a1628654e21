/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The completion poller and queue teardown of rdma.c/rdma_conn.c over a
 * fake verbs context (ibv_poll_cq and ibv_post_srq_recv go through its ops
 * table): completions reach the right queue (by wr_id, or by QP number
 * with a shared receive queue), batches of 32, and a torn-down queue waits
 * for the core's last request before it is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memmap/memmap.h"
#include "target/nvmf.h"
#include "transport/rdma_int.h"
#include "tests/unit/ut.h"


#define MB2	MEMMAP_PAGE_SIZE
#define DEPTH	4
#define RLEN	(64 + 4096)

/* ---- Fake verbs context ---- */

static struct {
	struct ibv_wc wc[128];
	int n, pos;
	int srq_posts;
	int execs;
	int sends;
	struct nvmf_req *exec_req[16];
	bool exec_completes;
	int send_calls, send_wrs, recv_calls, recv_wrs;
} g;

static int fake_post_send(struct ibv_qp *qp, struct ibv_send_wr *wr,
			  struct ibv_send_wr **bad)
{
	(void)qp;
	(void)bad;
	g.send_calls++;
	for (; wr; wr = wr->next)
		g.send_wrs++;
	return 0;
}

static int fake_post_recv(struct ibv_qp *qp, struct ibv_recv_wr *wr,
			  struct ibv_recv_wr **bad)
{
	(void)qp;
	(void)bad;
	g.recv_calls++;
	for (; wr; wr = wr->next)
		g.recv_wrs++;
	return 0;
}

static int fake_poll_cq(struct ibv_cq *cq, int n, struct ibv_wc *wc)
{
	int k = 0;

	(void)cq;
	while (k < n && g.pos < g.n)
		wc[k++] = g.wc[g.pos++];
	return k;
}

static int fake_post_srq_recv(struct ibv_srq *srq, struct ibv_recv_wr *wr,
			      struct ibv_recv_wr **bad)
{
	(void)srq;
	(void)bad;
	for (; wr; wr = wr->next)
		g.srq_posts++;
	return 0;
}

static struct ibv_context g_ctx;
static struct ibv_cq g_cq;
static struct ibv_srq g_srq;
static struct ibv_qp g_ibqp;

/* ---- Fake core, real teardown ---- */

static int io_post_send(struct nvmf_rdma_qpair *qp, struct ibv_send_wr *wr)
{
	(void)qp;
	(void)wr;
	g.sends++;
	return 0;
}

static int io_post_recv(struct nvmf_rdma_qpair *qp, struct nvmf_rdma_recv *rv)
{
	struct nvmf_rdma_conn *c = (struct nvmf_rdma_conn *)qp;
	struct ibv_recv_wr *bad;

	if (c->dev->srq)
		return ibv_post_srq_recv(c->dev->srq, &rv->wr, &bad);
	return 0;
}

static void io_qp_error(struct nvmf_rdma_qpair *qp, const char *why)
{
	nvmf_rdma_conn_disconnect((struct nvmf_rdma_conn *)qp, why);
}

static enum nvmf_xfer io_xfer(const struct nvmf_req *req)
{
	return req->cmd->opc == 0x02 ? NVMF_XFER_CTRLR_TO_HOST : NVMF_XFER_NONE;
}

static void io_exec(struct nvmf_req *req)
{
	g.exec_req[g.execs++ % 16] = req;
	if (g.exec_completes)
		nvmf_rdma_ops.req_complete(req);
}

static void io_fail(struct nvmf_req *req, nvme_status st)
{
	(void)st;
	nvmf_rdma_ops.req_complete(req);
}

static const struct nvmf_rdma_io_ops fake_io = {
	io_post_send, io_post_recv, io_qp_error, io_xfer, io_exec, io_fail, NULL, NULL,
};

/* rdma.c's own posting (batched in the poller) over the fake context. */
static const struct nvmf_rdma_io_ops verbs_io = {
	nvmf_rdma_io_post_send, nvmf_rdma_io_post_recv, io_qp_error, io_xfer,
	io_exec, io_fail, NULL, NULL,
};

static struct ibv_mr *fake_reg(struct ibv_pd *pd, void *addr, size_t len, int access)
{
	struct ibv_mr *mr = calloc(1, sizeof(*mr));

	(void)pd;
	(void)access;
	mr->addr = addr;
	mr->length = len;
	mr->lkey = 0x77;
	return mr;
}

static int fake_dereg(struct ibv_mr *mr)
{
	free(mr);
	return 0;
}

static const struct nvmf_rdma_mr_hooks fake_hooks = { fake_reg, fake_dereg };

static uint8_t *g_mem;
static size_t g_mem_used;
static struct nvmf_rdma_mr_map *g_map;
static struct nvmf_rdma_pool g_pool;
static struct nvmf_rdma_device g_dev;
static struct nvmf_rdma_recv g_srq_recv[8];

static void *mem_take(size_t len)
{
	void *p = g_mem + g_mem_used;

	g_mem_used += (len + 63) & ~(size_t)63;
	return p;
}

static int suite_init(void)
{
	int i;

	if (memmap_init(NULL) && memmap_init(NULL) != -EALREADY)
		return 1;
	g_mem = aligned_alloc(MB2, MB2);
	if (!g_mem || memmap_register(g_mem, MB2))
		return 1;
	g_map = nvmf_rdma_mr_map_create(NULL, &fake_hooks);
	if (!g_map)
		return 1;
	g_ctx.ops.poll_cq = fake_poll_cq;
	g_ctx.ops.post_srq_recv = fake_post_srq_recv;
	g_ctx.ops.post_send = fake_post_send;
	g_ctx.ops.post_recv = fake_post_recv;
	g_cq.context = &g_ctx;
	g_srq.context = &g_ctx;
	g_ibqp.context = &g_ctx;
	for (i = 0; i < 8; i++)
		if (nvmf_rdma_recv_init(&g_srq_recv[i], mem_take(RLEN), RLEN, g_map))
			return 1;
	return nvmf_rdma_pool_init(&g_pool, mem_take(8 * 8192), 8, 8192);
}

static int suite_fini(void)
{
	nvmf_rdma_pool_fini(&g_pool);
	nvmf_rdma_mr_map_destroy(&g_map);
	memmap_unregister(g_mem, MB2);
	free(g_mem);
	memmap_fini();
	return 0;
}

static void dev_reset(bool srq)
{
	memset(&g, 0, sizeof(g));
	memset(&g_dev, 0, sizeof(g_dev));
	g_dev.cq = &g_cq;
	g_dev.srq = srq ? &g_srq : NULL;
	g_dev.mr_map = g_map;
	strcpy(g_dev.name, "fake0");
	TAILQ_INIT(&g_dev.conns);
	TAILQ_INIT(&g_dev.dying);
	TAILQ_INIT(&g_dev.flush);
}

/* A queue as rdma_conn.c builds one, minus the verbs QP and the CM id. */
static struct nvmf_rdma_conn *conn_new(uint32_t qpn)
{
	struct nvmf_rdma_conn *c = calloc(1, sizeof(*c));
	int i;

	c->cm_type = NVMF_RDMA_CM_CONN;
	c->dev = &g_dev;
	c->qp_num = qpn;
	c->qp.io = &fake_io;
	c->qp.pool = &g_pool;
	c->qp.mr_map = g_map;
	c->qp.lim.max_io_size = 131072;
	c->qp.lim.icd_size = 4096;
	c->qp.max_sge = 16;
	c->qp.srq = g_dev.srq != NULL;
	c->qp.depth = DEPTH;
	c->qp.sq_free = 64;
	c->qp.max_reads = 16;
	CU_ASSERT_EQUAL_FATAL(nvmf_rdma_qpair_reqs_init(&c->qp, mem_take(16 * DEPTH)), 0);
	if (!g_dev.srq) {
		c->recvs = calloc(DEPTH, sizeof(*c->recvs));
		for (i = 0; i < DEPTH; i++) {
			CU_ASSERT_EQUAL(nvmf_rdma_recv_init(&c->recvs[i], mem_take(RLEN),
							    RLEN, g_map), 0);
			c->recvs[i].qp = &c->qp;
		}
	}
	TAILQ_INSERT_TAIL(&g_dev.conns, c, link);
	nvmf_rdma_qpn_add(&g_dev, c);
	return c;
}

static void wc_recv(struct nvmf_rdma_recv *rv, uint32_t qpn, uint8_t opc,
		    uint32_t len, enum ibv_wc_status st)
{
	struct nvme_cmd *cmd = (struct nvme_cmd *)rv->buf;
	struct ibv_wc *wc = &g.wc[g.n++];

	memset(cmd, 0, sizeof(*cmd));
	cmd->opc = opc;
	cmd->flags = 0x40;
	cmd->dptr.keyed.length[1] = len >> 8;
	cmd->dptr.keyed.type = NVME_SGL_TYPE_KEYED_DATA_BLOCK << 4;
	memset(wc, 0, sizeof(*wc));
	wc->wr_id = (uintptr_t)&rv->ctx;
	wc->status = st;
	wc->opcode = IBV_WC_RECV;
	wc->byte_len = 64;
	wc->qp_num = qpn;
}

static void wc_send(struct nvmf_req *req)
{
	struct nvmf_rdma_req *r = nvmf_rdma_container_of(req, struct nvmf_rdma_req, req);
	struct ibv_wc *wc = &g.wc[g.n++];

	memset(wc, 0, sizeof(*wc));
	wc->wr_id = (uintptr_t)&r->send_ctx;
	wc->status = IBV_WC_SUCCESS;
	wc->opcode = IBV_WC_SEND;
}

static void test_srq_dispatch_by_qp_number(void)
{
	struct nvmf_rdma_conn *a, *b;

	dev_reset(true);
	a = conn_new(0x11);
	b = conn_new(0x11 + 256);	/* same hash bucket region, other queue */
	wc_recv(&g_srq_recv[0], 0x11 + 256, 0x00, 0, IBV_WC_SUCCESS);
	wc_recv(&g_srq_recv[1], 0x11, 0x00, 0, IBV_WC_SUCCESS);
	wc_recv(&g_srq_recv[2], 0x999, 0x00, 0, IBV_WC_SUCCESS);	/* gone */
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll_cq(&g_dev), 3);
	CU_ASSERT_EQUAL_FATAL(g.execs, 2);
	CU_ASSERT_PTR_EQUAL(g.exec_req[0]->qpair, &b->qp.qpair);
	CU_ASSERT_PTR_EQUAL(g.exec_req[1]->qpair, &a->qp.qpair);
	CU_ASSERT_EQUAL(g.srq_posts, 1);	/* the stray capsule went back */
	/* Responses: each request's SEND completion frees it. */
	nvmf_rdma_ops.req_complete(g.exec_req[0]);
	nvmf_rdma_ops.req_complete(g.exec_req[1]);
	CU_ASSERT_EQUAL(g.srq_posts, 3);	/* capsules reposted before SENDs */
	CU_ASSERT_EQUAL(g.sends, 2);
	wc_send(g.exec_req[0]);
	wc_send(g.exec_req[1]);
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll_cq(&g_dev), 2);
	CU_ASSERT_EQUAL(a->qp.executing + b->qp.executing, 0);
	nvmf_rdma_conn_disconnect(a, "test");
	nvmf_rdma_conn_disconnect(b, "test");
	CU_ASSERT_EQUAL(nvmf_rdma_conns_reap(&g_dev), 2);
	CU_ASSERT_TRUE(TAILQ_EMPTY(&g_dev.conns));
	/* A late completion for a freed queue: back to the SRQ, no crash. */
	wc_recv(&g_srq_recv[3], 0x11, 0x00, 0, IBV_WC_WR_FLUSH_ERR);
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll_cq(&g_dev), 1);
	CU_ASSERT_EQUAL(g.srq_posts, 4);
}

static void test_batches_of_32(void)
{
	int i;

	dev_reset(true);
	for (i = 0; i < 40; i++)
		wc_recv(&g_srq_recv[i % 8], 0x1234, 0x00, 0, IBV_WC_WR_FLUSH_ERR);
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll_cq(&g_dev), NVMF_RDMA_POLL_BATCH);
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll_cq(&g_dev), 8);
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll_cq(&g_dev), 0);
	CU_ASSERT_EQUAL(g.srq_posts, 40);
}

static void test_teardown_waits_for_core(void)
{
	struct nvmf_rdma_conn *a, *b;
	struct nvmf_req *inside;

	dev_reset(false);
	a = conn_new(0x21);
	b = conn_new(0x22);
	wc_recv(&a->recvs[0], 0x21, 0x02, 8192, IBV_WC_SUCCESS);	/* a read */
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll_cq(&g_dev), 1);
	CU_ASSERT_EQUAL_FATAL(g.execs, 1);
	inside = g.exec_req[0];
	CU_ASSERT_EQUAL(g_pool.nfree, 7);
	/* The host goes away while the read is inside the core. */
	wc_recv(&a->recvs[1], 0x21, 0x00, 0, IBV_WC_RETRY_EXC_ERR);
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll_cq(&g_dev), 1);
	CU_ASSERT_TRUE(a->qp.dying);
	CU_ASSERT_EQUAL(nvmf_rdma_conns_reap(&g_dev), 1);
	CU_ASSERT_TRUE(a->zombie);		/* kept for the core */
	/* The other host keeps working meanwhile. */
	wc_recv(&b->recvs[0], 0x22, 0x00, 0, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll_cq(&g_dev), 1);
	CU_ASSERT_EQUAL(g.execs, 2);
	CU_ASSERT_PTR_EQUAL(g.exec_req[1]->qpair, &b->qp.qpair);
	/* The core finishes the read: dropped, buffer back, queue freed. */
	nvmf_rdma_ops.req_complete(inside);
	CU_ASSERT_EQUAL(g_pool.nfree, 8);
	CU_ASSERT_PTR_EQUAL(TAILQ_FIRST(&g_dev.conns), b);
	CU_ASSERT_PTR_NULL(TAILQ_NEXT(b, link));
	CU_ASSERT_EQUAL(g.sends, 0);		/* nothing sent for a */
	nvmf_rdma_ops.req_complete(g.exec_req[1]);
	CU_ASSERT_EQUAL(g.sends, 1);
	wc_send(g.exec_req[1]);
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll_cq(&g_dev), 1);
	nvmf_rdma_conn_disconnect(b, "test");
	nvmf_rdma_conn_disconnect(b, "twice is fine");
	CU_ASSERT_EQUAL(nvmf_rdma_conns_reap(&g_dev), 1);
	CU_ASSERT_TRUE(TAILQ_EMPTY(&g_dev.conns));
}

static void test_posts_batched_in_poll(void)
{
	struct nvmf_rdma_conn *a;
	struct nvmf_req *later;
	int i;

	dev_reset(false);
	a = conn_new(0x31);
	a->qp.io = &verbs_io;
	a->ibqp = &g_ibqp;
	g.exec_completes = true;	/* e.g. a RAM namespace: done in exec */
	for (i = 0; i < 3; i++)
		wc_recv(&a->recvs[i], 0x31, 0x00, 0, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll(&g_dev), 3);
	CU_ASSERT_EQUAL(g.execs, 3);
	CU_ASSERT_EQUAL(g.recv_calls, 1);	/* 3 reposts, one call */
	CU_ASSERT_EQUAL(g.recv_wrs, 3);
	CU_ASSERT_EQUAL(g.send_calls, 1);	/* 3 responses, one call */
	CU_ASSERT_EQUAL(g.send_wrs, 3);
	for (i = 0; i < 3; i++)
		wc_send(g.exec_req[i]);
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll(&g_dev), 3);
	CU_ASSERT_EQUAL(g.send_calls, 1);
	/* A completion from the core's own poller goes out at once. */
	g.exec_completes = false;
	wc_recv(&a->recvs[0], 0x31, 0x00, 0, IBV_WC_SUCCESS);
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll(&g_dev), 1);
	later = g.exec_req[3];
	CU_ASSERT_EQUAL(g.send_calls, 1);
	nvmf_rdma_ops.req_complete(later);
	CU_ASSERT_EQUAL(g.send_calls, 2);
	CU_ASSERT_EQUAL(g.recv_calls, 2);
	wc_send(later);
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll(&g_dev), 1);
	/* An error in the batch: the queue's waiting posts are not sent. */
	g.exec_completes = true;
	wc_recv(&a->recvs[1], 0x31, 0x00, 0, IBV_WC_SUCCESS);
	wc_recv(&a->recvs[2], 0x31, 0x00, 0, IBV_WC_LOC_PROT_ERR);
	a->ibqp = NULL;		/* no verbs QP to destroy in this test */
	CU_ASSERT_EQUAL(nvmf_rdma_device_poll(&g_dev), 3);	/* 2 + reaped */
	CU_ASSERT_EQUAL(g.send_calls, 2);
	CU_ASSERT_TRUE(TAILQ_EMPTY(&g_dev.conns));
	CU_ASSERT_TRUE(TAILQ_EMPTY(&g_dev.flush));
	CU_ASSERT_EQUAL(g_pool.nfree, 8);
}

int main(void)
{
	static const struct ut_test tests[] = {
		{ "srq_dispatch_by_qp_number", test_srq_dispatch_by_qp_number },
		{ "batches_of_32", test_batches_of_32 },
		{ "teardown_waits_for_core", test_teardown_waits_for_core },
		{ "posts_batched_in_poll", test_posts_batched_in_poll },
	};
	return ut_run("rdma_poll", suite_init, suite_fini, tests, UT_COUNT(tests));
}
