/* SPDX-License-Identifier: BSD-3-Clause */
#include "transport/rdma_req.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The ring's C11 flavour, as target/thread.c (its reasons there). */
#ifndef RTE_USE_C11_MEM_MODEL
#define RTE_USE_C11_MEM_MODEL 1
#endif
#include <rte_ring.h>

#include "memmap/log.h"

static void req_new(struct nvmf_rdma_req *r, struct nvmf_rdma_recv *rv);
static void req_have_buffers(struct nvmf_rdma_req *r);
static void qpair_pending(struct nvmf_rdma_qpair *qp);

/* Request latency for nvmf_get_stats, only when a device keeps stats. */
static uint64_t stats_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- Buffer pool ---- */

int nvmf_rdma_pool_init(struct nvmf_rdma_pool *p, void *base, uint32_t count,
			uint32_t unit)
{
	uint32_t i;

	memset(p, 0, sizeof(*p));
	TAILQ_INIT(&p->waiting);
	p->free = calloc(count ? count : 1, sizeof(*p->free));
	if (!p->free)
		return -ENOMEM;
	p->base = base;
	p->unit = unit;
	p->count = count;
	for (i = 0; i < count; i++)
		p->free[i] = p->base + (size_t)(count - 1 - i) * unit;
	p->nfree = count;
	return 0;
}

int nvmf_rdma_bufs_init(struct nvmf_rdma_bufs *b, void *base, uint32_t count, uint32_t unit)
{
	ssize_t len = rte_ring_get_memsize(rte_align32pow2(count + 1));
	uint32_t i;

	memset(b, 0, sizeof(*b));
	if (len < 0)
		return -ENOMEM;
	b->ring = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL((size_t)len,
								    RTE_CACHE_LINE_SIZE));
	if (!b->ring || rte_ring_init(b->ring, "rdma_bufs", count, RING_F_EXACT_SZ)) {
		free(b->ring);
		b->ring = NULL;
		return -ENOMEM;
	}
	b->base = base;
	b->unit = unit;
	b->count = count;
	for (i = 0; i < count; i++) {
		void *buf = b->base + (size_t)i * unit;

		rte_ring_mp_enqueue(b->ring, buf);
	}
	return 0;
}

uint32_t nvmf_rdma_bufs_free(const struct nvmf_rdma_bufs *b)
{
	return b->ring ? rte_ring_count(b->ring) : 0;
}

void nvmf_rdma_bufs_fini(struct nvmf_rdma_bufs *b)
{
	if (!b->ring)
		return;
	if (nvmf_rdma_bufs_free(b) != b->count)
		log_warn("rdma: %u of %u data buffers still in use at shutdown",
			 b->count - nvmf_rdma_bufs_free(b), b->count);
	free(b->ring);
	b->ring = NULL;
}

int nvmf_rdma_pool_init_shared(struct nvmf_rdma_pool *p, struct nvmf_rdma_bufs *b,
			       uint32_t cache_size)
{
	memset(p, 0, sizeof(*p));
	TAILQ_INIT(&p->waiting);
	/* Room for twice the cache and one more request's worth. */
	p->count = 2 * cache_size + NVMF_REQ_MAX_IOV;
	p->free = calloc(p->count, sizeof(*p->free));
	if (!p->free)
		return -ENOMEM;
	p->shared = b;
	p->unit = b->unit;
	p->cache_size = cache_size;
	return 0;
}

void nvmf_rdma_pool_fini(struct nvmf_rdma_pool *p)
{
	if (p->shared) {
		rte_ring_mp_enqueue_bulk(p->shared->ring, p->free, p->nfree, NULL);
	} else if (p->nfree != p->count) {
		log_warn("rdma: %u of %u data buffers still in use at shutdown",
			 p->count - p->nfree, p->count);
	}
	free(p->free);
	p->free = NULL;
	p->nfree = p->count = 0;
}

/* Shared: the cache takes what it lacks for n, and cache_size more. */
static void pool_refill(struct nvmf_rdma_pool *p, uint32_t n)
{
	uint32_t want = n - p->nfree + p->cache_size;

	if (want > p->count - p->nfree)
		want = p->count - p->nfree;
	p->nfree += rte_ring_mc_dequeue_burst(p->shared->ring, &p->free[p->nfree], want,
					      NULL);
}

static bool pool_get(struct nvmf_rdma_pool *p, void **bufs, uint32_t n)
{
	uint32_t i;

	if (p->nfree < n && p->shared)
		pool_refill(p, n);
	if (p->nfree < n)
		return false;
	for (i = 0; i < n; i++)
		bufs[i] = p->free[--p->nfree];
	return true;
}

/* Serve the waiting requests, oldest first, while buffers last. */
static void pool_serve(struct nvmf_rdma_pool *p)
{
	struct nvmf_rdma_req *r;

	while ((r = TAILQ_FIRST(&p->waiting))) {
		if (!pool_get(p, r->bufs, r->nbufs))
			return;
		TAILQ_REMOVE(&p->waiting, r, link);
		r->list = NVMF_RDMA_LIST_NONE;
		req_have_buffers(r);
	}
}

static void pool_put(struct nvmf_rdma_pool *p, void **bufs, uint32_t n)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		p->free[p->nfree++] = bufs[i];
	pool_serve(p);
	if (p->shared && p->nfree > 2 * p->cache_size) {
		uint32_t back = p->nfree - p->cache_size;

		rte_ring_mp_enqueue_bulk(p->shared->ring, &p->free[p->nfree - back], back, NULL);
		p->nfree -= back;
	}
}

int nvmf_rdma_pool_poll(struct nvmf_rdma_pool *p)
{
	if (!p || !p->shared || TAILQ_EMPTY(&p->waiting))
		return 0;
	pool_serve(p);
	return !TAILQ_EMPTY(&p->waiting);
}

/* ---- Receive buffers ---- */

int nvmf_rdma_recv_init(struct nvmf_rdma_recv *rv, uint8_t *buf, uint32_t len,
			const struct nvmf_rdma_mr_map *map)
{
	uint32_t off = 0, piece;
	struct ibv_mr *mr;
	int n = 0;

	memset(rv, 0, sizeof(*rv));
	rv->ctx.type = NVMF_RDMA_WR_RECV;
	rv->buf = buf;
	while (off < len) {
		piece = len - off;
		mr = nvmf_rdma_mr_translate(map, buf + off, &piece);
		if (!mr || n == 2)
			return -EFAULT;
		rv->sge[n].addr = (uintptr_t)(buf + off);
		rv->sge[n].length = piece;
		rv->sge[n].lkey = mr->lkey;
		n++;
		off += piece;
	}
	rv->wr.wr_id = (uintptr_t)&rv->ctx;
	rv->wr.sg_list = rv->sge;
	rv->wr.num_sge = n;
	return 0;
}

/* A capsule we will not process: back to the SRQ, or left to the dying QP. */
static void recv_drop(struct nvmf_rdma_qpair *qp, struct nvmf_rdma_recv *rv)
{
	if (qp->srq)
		qp->io->post_recv(qp, rv);
}

static void recv_repost(struct nvmf_rdma_req *r)
{
	struct nvmf_rdma_qpair *qp = r->qp;
	struct nvmf_rdma_recv *rv = r->recv;

	if (!rv)
		return;
	r->recv = NULL;
	if (qp->dying) {
		recv_drop(qp, rv);
		return;
	}
	if (qp->io->post_recv(qp, rv))
		qp->io->qp_error(qp, "cannot repost a receive buffer");
}

/* ---- Requests ---- */

static void req_unlist(struct nvmf_rdma_req *r)
{
	struct nvmf_rdma_qpair *qp = r->qp;

	switch (r->list) {
	case NVMF_RDMA_LIST_FREE:
		TAILQ_REMOVE(&qp->free_reqs, r, link);
		break;
	case NVMF_RDMA_LIST_POOL_WAIT:
		TAILQ_REMOVE(&qp->pool->waiting, r, link);
		break;
	case NVMF_RDMA_LIST_READ_WAIT:
		TAILQ_REMOVE(&qp->read_wait, r, link);
		break;
	case NVMF_RDMA_LIST_CPL_WAIT:
		TAILQ_REMOVE(&qp->cpl_wait, r, link);
		break;
	case NVMF_RDMA_LIST_NONE:
		break;
	}
	r->list = NVMF_RDMA_LIST_NONE;
}

/* Back to FREE: capsule reposted (or dropped), buffers to the pool. */
static void req_free(struct nvmf_rdma_req *r)
{
	struct nvmf_rdma_qpair *qp = r->qp;
	/* Waiting for buffers: nbufs is what it needs, not what it holds. */
	uint32_t n = r->list == NVMF_RDMA_LIST_POOL_WAIT ? 0 : r->nbufs;

	req_unlist(r);
	recv_repost(r);
	qp->sq_free += r->sq_used;
	qp->reads -= r->reads;
	r->sq_used = r->reads = 0;
	r->nbufs = 0;
	r->req.iovcnt = 0;
	if (r->zcopy) {
		r->zcopy = false;
		qp->io->zcopy_end(&r->req);
	}
	r->state = NVMF_RDMA_REQ_FREE;
	TAILQ_INSERT_TAIL(&qp->free_reqs, r, link);
	r->list = NVMF_RDMA_LIST_FREE;
	if (n)
		pool_put(qp->pool, r->bufs, n);
}

static void req_exec(struct nvmf_rdma_req *r)
{
	r->state = NVMF_RDMA_REQ_EXECUTING;
	r->qp->executing++;
	r->qp->io->exec(&r->req);
}

static void req_fail(struct nvmf_rdma_req *r, nvme_status st)
{
	r->state = NVMF_RDMA_REQ_EXECUTING;
	r->qp->executing++;
	r->qp->io->fail(&r->req, st);
}

static bool read_room(const struct nvmf_rdma_qpair *qp, uint16_t n)
{
	/* A request longer than the depth still goes alone. */
	if (qp->reads && qp->reads + n > qp->max_reads)
		return false;
	return qp->sq_free >= n;
}

static void req_post_read(struct nvmf_rdma_req *r)
{
	struct nvmf_rdma_qpair *qp = r->qp;
	uint16_t i, n = r->wrs.nwr;

	for (i = 0; i < n; i++) {
		r->wrs.wr[i].wr_id = (uintptr_t)&r->data_ctx;
		r->wrs.wr[i].send_flags = i + 1 == n ? IBV_SEND_SIGNALED : 0;
	}
	r->wrs.wr[n - 1].next = NULL;
	r->reads = n;
	r->sq_used = n;
	qp->reads += n;
	qp->sq_free -= n;
	r->state = NVMF_RDMA_REQ_READING;
	if (qp->io->post_send(qp, &r->wrs.wr[0])) {
		qp->io->qp_error(qp, "cannot post RDMA READ");
		req_free(r);
	}
}

static void req_read(struct nvmf_rdma_req *r)
{
	struct nvmf_rdma_qpair *qp = r->qp;

	if (TAILQ_EMPTY(&qp->read_wait) && read_room(qp, r->wrs.nwr)) {
		req_post_read(r);
		return;
	}
	r->state = NVMF_RDMA_REQ_READ_PENDING;
	TAILQ_INSERT_TAIL(&qp->read_wait, r, link);
	r->list = NVMF_RDMA_LIST_READ_WAIT;
}

/* Buffers in hand: lay the SGL over them, then READ or execute. */
static void req_have_buffers(struct nvmf_rdma_req *r)
{
	struct nvmf_rdma_qpair *qp = r->qp;
	bool h2c = r->req.xfer == NVMF_XFER_HOST_TO_CTRLR;
	int rc;

	if (qp->dying) {
		req_free(r);
		return;
	}
	rc = nvmf_rdma_sgl_fill(&r->sgl, r->bufs, qp->pool->unit, qp->mr_map,
				qp->max_sge, h2c ? IBV_WR_RDMA_READ : IBV_WR_RDMA_WRITE,
				r->req.iov, NVMF_REQ_MAX_IOV, &r->req.iovcnt, &r->wrs);
	if (rc) {
		log_err("rdma: cid %u: cannot map %u data bytes: %s", r->req.cmd->cid,
			r->sgl.length, rc == -EFAULT ? "buffer not in registered memory" :
			"too many pieces");
		r->req.iovcnt = 0;
		req_fail(r, rc == -EFAULT ? NVME_SC_INTERNAL : NVME_SC_INTERNAL | NVME_DNR);
		return;
	}
	if (h2c) {
		req_read(r);
		return;
	}
	r->state = NVMF_RDMA_REQ_READY_TO_EXECUTE;
	req_exec(r);
}

/*
 * Zero copy: the data stays in the namespace (a RAM one), the READs or
 * WRITEs go straight from/to it. False: take buffers as usual.
 */
static bool req_zcopy(struct nvmf_rdma_req *r)
{
	struct nvmf_rdma_qpair *qp = r->qp;
	bool h2c = r->req.xfer == NVMF_XFER_HOST_TO_CTRLR;

	if (!qp->io->zcopy_start || !qp->io->zcopy_start(&r->req))
		return false;
	r->zcopy = true;
	if (nvmf_rdma_sgl_fill_iov(&r->sgl, r->req.iov, r->req.iovcnt, qp->mr_map,
				   qp->max_sge, h2c ? IBV_WR_RDMA_READ : IBV_WR_RDMA_WRITE,
				   &r->wrs)) {
		r->zcopy = false;
		qp->io->zcopy_end(&r->req);
		r->req.iovcnt = 0;
		return false;
	}
	if (h2c) {
		req_read(r);
	} else {
		r->state = NVMF_RDMA_REQ_READY_TO_EXECUTE;
		req_exec(r);
	}
	return true;
}

static void req_need_buffers(struct nvmf_rdma_req *r)
{
	struct nvmf_rdma_pool *p = r->qp->pool;

	r->state = NVMF_RDMA_REQ_NEED_BUFFER;
	r->nbufs = nvmf_rdma_sgl_nbufs(&r->sgl, p->unit);
	if (r->nbufs > NVMF_REQ_MAX_IOV || r->nbufs > p->count) {
		log_info("rdma: cid %u: %u bytes need %u buffers", r->req.cmd->cid,
			 r->sgl.length, r->nbufs);
		r->nbufs = 0;
		req_fail(r, NVME_SC_DATA_SGL_LEN_INVALID | NVME_DNR);
		return;
	}
	if (TAILQ_EMPTY(&p->waiting) && pool_get(p, r->bufs, r->nbufs)) {
		req_have_buffers(r);
		return;
	}
	TAILQ_INSERT_TAIL(&p->waiting, r, link);
	r->list = NVMF_RDMA_LIST_POOL_WAIT;
}

static void req_new(struct nvmf_rdma_req *r, struct nvmf_rdma_recv *rv)
{
	struct nvmf_rdma_qpair *qp = r->qp;
	struct nvmf_req *req = &r->req;
	uint32_t icd_len = rv->byte_len - NVMF_RDMA_SQE_SIZE;
	nvme_status st;

	req_unlist(r);
	r->state = NVMF_RDMA_REQ_NEW;
	r->start_us = qp->stats ? stats_now_us() : 0;
	r->recv = rv;
	rv->qp = qp;
	req->cmd = (struct nvme_cmd *)rv->buf;
	memset(req->cpl, 0, sizeof(*req->cpl));
	req->length = 0;
	req->iovcnt = 0;
	/* Nothing of the previous command: no stale rkey to invalidate. */
	r->sgl.kind = NVMF_RDMA_SGL_NONE;
	r->sgl.invalidate = false;
	r->sgl.ndesc = 0;
	r->sgl.length = 0;
	r->wrs.nwr = 0;
	req->xfer = qp->io->xfer(req);
	if (req->xfer == NVMF_XFER_NONE) {
		req_exec(r);
		return;
	}
	if (req->xfer == NVMF_XFER_BIDIRECTIONAL) {
		/* No command we know moves data both ways (base spec: opcode bits 1:0). */
		log_info("rdma: qid %u cid %u: opcode 0x%02x (bidirectional) not supported",
			 qp->qpair.qid, req->cmd->cid, req->cmd->opc);
		req_fail(r, NVME_SC_INVALID_OPCODE | NVME_DNR);
		return;
	}
	st = nvmf_rdma_sgl_parse(req->cmd, req->xfer == NVMF_XFER_HOST_TO_CTRLR,
				 rv->buf + NVMF_RDMA_SQE_SIZE, icd_len, &qp->lim, &r->sgl);
	if (st) {
		r->sgl.invalidate = false;	/* the descriptor may be garbage */
		req_fail(r, st);
		return;
	}
	req->length = r->sgl.length;
	if (r->sgl.kind == NVMF_RDMA_SGL_KEYED) {
		if (!req_zcopy(r))
			req_need_buffers(r);
		return;
	}
	if (r->sgl.kind == NVMF_RDMA_SGL_IN_CAPSULE) {
		req->iov[0].iov_base = rv->buf + NVMF_RDMA_SQE_SIZE + r->sgl.icd_offset;
		req->iov[0].iov_len = r->sgl.length;
		req->iovcnt = 1;
	}
	r->state = NVMF_RDMA_REQ_READY_TO_EXECUTE;
	req_exec(r);
}

static bool req_sends_data(const struct nvmf_rdma_req *r)
{
	return r->req.xfer == NVMF_XFER_CTRLR_TO_HOST &&
	       r->sgl.kind == NVMF_RDMA_SGL_KEYED && r->wrs.nwr &&
	       (r->req.cpl->status & 0xFFFE) == 0;
}

static uint16_t req_send_slots(const struct nvmf_rdma_req *r)
{
	return 1 + (req_sends_data(r) ? r->wrs.nwr : 0);
}

/* RDMA WRITEs (if any) chained with the response SEND, one post. */
static void req_post_response(struct nvmf_rdma_req *r)
{
	struct nvmf_rdma_qpair *qp = r->qp;
	struct ibv_send_wr *first = &r->send_wr;
	uint16_t i, n = req_send_slots(r);

	r->send_wr.next = NULL;
	r->send_wr.opcode = IBV_WR_SEND;
	r->send_wr.invalidate_rkey = 0;
	if (r->sgl.invalidate && qp->send_with_inv) {
		r->send_wr.opcode = IBV_WR_SEND_WITH_INV;
		r->send_wr.invalidate_rkey = r->sgl.inv_rkey;
	}
	if (n > 1) {
		for (i = 0; i < r->wrs.nwr; i++) {
			r->wrs.wr[i].wr_id = (uintptr_t)&r->send_ctx;
			r->wrs.wr[i].send_flags = 0;
		}
		r->wrs.wr[r->wrs.nwr - 1].next = &r->send_wr;
		first = &r->wrs.wr[0];
	}
	recv_repost(r);
	r->sq_used = n;
	qp->sq_free -= n;
	r->state = NVMF_RDMA_REQ_COMPLETING;
	if (qp->io->post_send(qp, first)) {
		qp->io->qp_error(qp, "cannot post the response");
		req_free(r);
	}
}

static void req_respond(struct nvmf_rdma_req *r)
{
	struct nvmf_rdma_qpair *qp = r->qp;

	if (TAILQ_EMPTY(&qp->cpl_wait) && qp->sq_free >= req_send_slots(r)) {
		req_post_response(r);
		return;
	}
	r->state = NVMF_RDMA_REQ_COMPLETE_PENDING;
	TAILQ_INSERT_TAIL(&qp->cpl_wait, r, link);
	r->list = NVMF_RDMA_LIST_CPL_WAIT;
}

void nvmf_rdma_req_complete(struct nvmf_req *req)
{
	struct nvmf_rdma_req *r = nvmf_rdma_container_of(req, struct nvmf_rdma_req, req);
	struct nvmf_rdma_qpair *qp = r->qp;

	if (r->state != NVMF_RDMA_REQ_EXECUTING) {
		log_err("rdma: completion of a request that is not executing (state %d)",
			r->state);
		return;
	}
	qp->executing--;
	r->state = NVMF_RDMA_REQ_EXECUTED;
	if (qp->dying) {
		req_free(r);
		return;
	}
	req_respond(r);
}

/* ---- Work completions ---- */

/*
 * The host may have at most depth commands without a response (HSQSIZE + 1,
 * NVMe/RDMA binding); a capsule may come before our response SEND has
 * completed, so requests whose response is out count as room. A capsule
 * beyond that breaks the queue's flow control: with a shared receive queue
 * it would hold receive buffers every other queue needs.
 */
static bool recv_over_depth(const struct nvmf_rdma_qpair *qp)
{
	const struct nvmf_rdma_recv *w;
	uint32_t room = 0, waiting = 0;
	uint16_t i;

	for (i = 0; qp->reqs && i < qp->depth; i++)
		room += qp->reqs[i].state == NVMF_RDMA_REQ_FREE ||
			qp->reqs[i].state == NVMF_RDMA_REQ_COMPLETING;
	STAILQ_FOREACH(w, &qp->recv_wait, link)
		waiting++;
	return waiting + 1 > room;
}

/* No free request for rv: wait for one, or drop a queue over its depth. */
static void recv_park(struct nvmf_rdma_qpair *qp, struct nvmf_rdma_recv *rv)
{
	if (recv_over_depth(qp)) {
		log_err("rdma: qid %u: the host sent more than %u commands (its queue "
			"depth) without waiting for responses", qp->qpair.qid, qp->depth);
		qp->io->qp_error(qp, "host exceeded the queue depth");
		recv_drop(qp, rv);
		return;
	}
	if (qp->stats)
		qp->stats->pending_free_request++;
	STAILQ_INSERT_TAIL(&qp->recv_wait, rv, link);
}

void nvmf_rdma_recv_done(struct nvmf_rdma_qpair *qp, struct nvmf_rdma_recv *rv,
			 const struct ibv_wc *wc)
{
	struct nvmf_rdma_req *r;

	if (wc->status != IBV_WC_SUCCESS || qp->dying) {
		if (wc->status != IBV_WC_SUCCESS && !qp->dying) {
			log_err("rdma: qid %u: receive failed: %s", qp->qpair.qid,
				ibv_wc_status_str(wc->status));
			qp->io->qp_error(qp, "receive completion in error");
		}
		recv_drop(qp, rv);
		return;
	}
	if (wc->byte_len < NVMF_RDMA_SQE_SIZE) {
		log_err("rdma: qid %u: capsule of %u bytes, less than an SQE",
			qp->qpair.qid, wc->byte_len);
		qp->io->qp_error(qp, "short capsule");
		recv_drop(qp, rv);
		return;
	}
	rv->byte_len = wc->byte_len;
	rv->qp = qp;
	if (qp->stats)
		qp->stats->requests++;
	r = TAILQ_FIRST(&qp->free_reqs);
	if (!r || !STAILQ_EMPTY(&qp->recv_wait)) {
		recv_park(qp, rv);
		return;
	}
	req_new(r, rv);
}

void nvmf_rdma_read_done(struct nvmf_rdma_req *r, const struct ibv_wc *wc)
{
	struct nvmf_rdma_qpair *qp = r->qp;

	if (r->state != NVMF_RDMA_REQ_READING)
		return;		/* a flushed READ of a request already dropped */
	qp->reads -= r->reads;
	qp->sq_free += r->sq_used;
	r->reads = r->sq_used = 0;
	if (wc->status != IBV_WC_SUCCESS || qp->dying) {
		if (wc->status != IBV_WC_SUCCESS && !qp->dying) {
			log_err("rdma: qid %u: RDMA READ failed: %s", qp->qpair.qid,
				ibv_wc_status_str(wc->status));
			qp->io->qp_error(qp, "RDMA READ completion in error");
		}
		req_free(r);
		return;
	}
	r->state = NVMF_RDMA_REQ_READY_TO_EXECUTE;
	req_exec(r);
	qpair_pending(qp);
}

void nvmf_rdma_send_done(struct nvmf_rdma_req *r, const struct ibv_wc *wc)
{
	struct nvmf_rdma_qpair *qp = r->qp;

	if (r->state != NVMF_RDMA_REQ_COMPLETING)
		return;		/* a flushed WRITE of a request already dropped */
	if (wc->status != IBV_WC_SUCCESS && !qp->dying) {
		log_err("rdma: qid %u: response SEND/WRITE failed: %s", qp->qpair.qid,
			ibv_wc_status_str(wc->status));
		qp->io->qp_error(qp, "send completion in error");
	}
	r->state = NVMF_RDMA_REQ_COMPLETED;
	if (qp->stats && r->start_us)
		qp->stats->request_latency += stats_now_us() - r->start_us;
	req_free(r);
	qpair_pending(qp);
}

/* Resources came back: start what waited for them, in order. */
static void qpair_pending(struct nvmf_rdma_qpair *qp)
{
	struct nvmf_rdma_recv *rv;
	struct nvmf_rdma_req *r;

	while (!qp->dying && (r = TAILQ_FIRST(&qp->read_wait)) &&
	       read_room(qp, r->wrs.nwr)) {
		req_unlist(r);
		req_post_read(r);
	}
	while (!qp->dying && (r = TAILQ_FIRST(&qp->cpl_wait)) &&
	       qp->sq_free >= req_send_slots(r)) {
		req_unlist(r);
		req_post_response(r);
	}
	while (!qp->dying && !STAILQ_EMPTY(&qp->recv_wait) &&
	       (r = TAILQ_FIRST(&qp->free_reqs))) {
		rv = STAILQ_FIRST(&qp->recv_wait);
		STAILQ_REMOVE_HEAD(&qp->recv_wait, link);
		req_new(r, rv);
	}
}

/* ---- Queue setup and teardown ---- */

static int req_init(struct nvmf_rdma_qpair *qp, struct nvmf_rdma_req *r,
		    struct nvme_cpl *cpl)
{
	uint32_t len = sizeof(*cpl);
	struct ibv_mr *mr;

	mr = nvmf_rdma_mr_translate(qp->mr_map, cpl, &len);
	if (!mr || len < sizeof(*cpl))
		return -EFAULT;
	r->qp = qp;
	r->req.qpair = &qp->qpair;
	r->req.cpl = cpl;
	r->data_ctx.type = NVMF_RDMA_WR_DATA;
	r->send_ctx.type = NVMF_RDMA_WR_SEND;
	r->send_sge.addr = (uintptr_t)cpl;
	r->send_sge.length = sizeof(*cpl);
	r->send_sge.lkey = mr->lkey;
	r->send_wr.wr_id = (uintptr_t)&r->send_ctx;
	r->send_wr.sg_list = &r->send_sge;
	r->send_wr.num_sge = 1;
	r->send_wr.send_flags = IBV_SEND_SIGNALED |
				(qp->inline_rsp ? IBV_SEND_INLINE : 0);
	r->state = NVMF_RDMA_REQ_FREE;
	TAILQ_INSERT_TAIL(&qp->free_reqs, r, link);
	r->list = NVMF_RDMA_LIST_FREE;
	return 0;
}

int nvmf_rdma_qpair_reqs_init(struct nvmf_rdma_qpair *qp, struct nvme_cpl *cpls)
{
	uint16_t i;
	int rc;

	TAILQ_INIT(&qp->free_reqs);
	TAILQ_INIT(&qp->read_wait);
	TAILQ_INIT(&qp->cpl_wait);
	STAILQ_INIT(&qp->recv_wait);
	qp->reqs = calloc(qp->depth, sizeof(*qp->reqs));
	if (!qp->reqs)
		return -ENOMEM;
	for (i = 0; i < qp->depth; i++) {
		rc = req_init(qp, &qp->reqs[i], &cpls[i]);
		if (rc) {
			log_err("rdma: response buffer %p is not in registered memory",
				(void *)&cpls[i]);
			goto err_free;
		}
	}
	return 0;
err_free:
	free(qp->reqs);
	qp->reqs = NULL;
	return rc;
}

void nvmf_rdma_qpair_reqs_fini(struct nvmf_rdma_qpair *qp)
{
	free(qp->reqs);
	qp->reqs = NULL;
}

uint32_t nvmf_rdma_qpair_drop(struct nvmf_rdma_qpair *qp)
{
	struct nvmf_rdma_recv *rv;
	uint16_t i;

	qp->dying = true;
	for (i = 0; qp->reqs && i < qp->depth; i++) {
		switch (qp->reqs[i].state) {
		case NVMF_RDMA_REQ_FREE:
		case NVMF_RDMA_REQ_EXECUTING:
			break;
		default:
			req_free(&qp->reqs[i]);
		}
	}
	while ((rv = STAILQ_FIRST(&qp->recv_wait))) {
		STAILQ_REMOVE_HEAD(&qp->recv_wait, link);
		recv_drop(qp, rv);
	}
	return qp->executing;
}
