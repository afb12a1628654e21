/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RDMA transport: the ops table, one protection domain, MR map,
 * completion queue (with its completion channel) and optional shared
 * receive queue per device, and the completion poller of each device.
 * Listening, connection management and queue lifecycle are in rdma_conn.c.
 */
#include "transport/rdma.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memmap/env.h"
#include "memmap/log.h"
#include "target/thread.h"
#include "transport/rdma_int.h"

#define NO_DEVICE_HELP \
	"no RDMA device: load a driver or create a soft-RoCE device as root, e.g. " \
	"'modprobe rdma_rxe; rdma link add rxe0 type rxe netdev IF' (IF: the " \
	"network interface that holds the listen address), then check 'rdma link show'"

/* ---- The thin layer the state machine runs on ---- */

/*
 * Inside the device poller, posts are chained per queue and go out in one
 * ibv_post_recv and one ibv_post_send per queue at the end of the poll
 * (under rxe every post is a system call). Outside it (a completion from
 * the core's own poller) they go out at once.
 */
static void flush_mark(struct nvmf_rdma_conn *c)
{
	if (c->on_flush)
		return;
	c->on_flush = true;
	TAILQ_INSERT_TAIL(&c->dev->flush, c, flush_link);
}

void nvmf_rdma_conn_unflush(struct nvmf_rdma_conn *c)
{
	if (c->on_flush)
		TAILQ_REMOVE(&c->dev->flush, c, flush_link);
	c->on_flush = false;
	c->send_head = c->send_tail = NULL;
	c->recv_head = c->recv_tail = NULL;
}

/*
 * Soft-RoCE does its protocol work (segmenting, checksums) inside the
 * poster's system call: the time spent in posts is what a transfer costs
 * this thread there (nvmf_get_stats: total_post_us).
 */
static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int post_send_now(struct nvmf_rdma_conn *c, struct ibv_send_wr *wr)
{
	struct ibv_send_wr *bad = NULL;
	uint64_t t0;
	int rc;

	c->dev->stats.send_doorbell_updates++;
	for (struct ibv_send_wr *w = wr; w; w = w->next) {
		c->dev->stats.total_send_wrs++;
		c->dev->stats.total_send_sges += (uint64_t)w->num_sge;
	}
	t0 = now_ns();
	rc = ibv_post_send(c->ibqp, wr, &bad);
	c->dev->stats.post_ns += now_ns() - t0;
	if (rc)
		log_err("rdma: %s: QP 0x%x: ibv_post_send failed: %s", c->dev->name,
			c->qp_num, strerror(rc));
	return rc;
}

static int post_recv_now(struct nvmf_rdma_conn *c, struct ibv_recv_wr *wr)
{
	struct ibv_recv_wr *bad = NULL;
	uint64_t t0;
	int rc;

	c->dev->stats.recv_doorbell_updates++;
	for (struct ibv_recv_wr *w = wr; w; w = w->next)
		c->dev->stats.total_recv_wrs++;
	t0 = now_ns();
	if (c->dev->srq)
		rc = ibv_post_srq_recv(c->dev->srq, wr, &bad);
	else
		rc = ibv_post_recv(c->ibqp, wr, &bad);
	c->dev->stats.post_ns += now_ns() - t0;
	if (rc)
		log_err("rdma: %s: QP 0x%x: posting receives failed: %s", c->dev->name,
			c->qp_num, strerror(rc));
	return rc;
}

int nvmf_rdma_io_post_send(struct nvmf_rdma_qpair *qp, struct ibv_send_wr *wr)
{
	struct nvmf_rdma_conn *c = (struct nvmf_rdma_conn *)qp;
	struct ibv_send_wr *tail = wr;

	if (!c->dev->in_poll)
		return post_send_now(c, wr);
	while (tail->next)
		tail = tail->next;
	if (c->send_tail)
		c->send_tail->next = wr;
	else
		c->send_head = wr;
	c->send_tail = tail;
	flush_mark(c);
	return 0;
}

int nvmf_rdma_io_post_recv(struct nvmf_rdma_qpair *qp, struct nvmf_rdma_recv *rv)
{
	struct nvmf_rdma_conn *c = (struct nvmf_rdma_conn *)qp;
	struct nvmf_rdma_device *dev = c->dev;

	rv->wr.next = NULL;
	if (!dev->in_poll)
		return post_recv_now(c, &rv->wr);
	if (dev->srq) {
		if (dev->srq_tail)
			dev->srq_tail->next = &rv->wr;
		else
			dev->srq_head = &rv->wr;
		dev->srq_tail = &rv->wr;
		return 0;
	}
	if (c->recv_tail)
		c->recv_tail->next = &rv->wr;
	else
		c->recv_head = &rv->wr;
	c->recv_tail = &rv->wr;
	flush_mark(c);
	return 0;
}

void nvmf_rdma_io_qp_error(struct nvmf_rdma_qpair *qp, const char *why)
{
	nvmf_rdma_conn_disconnect((struct nvmf_rdma_conn *)qp, why);
}

const struct nvmf_rdma_io_ops nvmf_rdma_io = {
	.post_send = nvmf_rdma_io_post_send,
	.post_recv = nvmf_rdma_io_post_recv,
	.qp_error = nvmf_rdma_io_qp_error,
	.xfer = nvmf_req_xfer,
	.exec = nvmf_req_exec,
	.fail = nvmf_req_fail,
	.zcopy_start = nvmf_req_zcopy_start,
	.zcopy_end = nvmf_req_zcopy_end,
};

/* ---- Completion polling ---- */

static void qpn_bucket(uint32_t qpn, unsigned int *b)
{
	*b = (qpn ^ (qpn >> 8)) % NVMF_RDMA_QPN_BUCKETS;
}

void nvmf_rdma_qpn_add(struct nvmf_rdma_device *dev, struct nvmf_rdma_conn *c)
{
	unsigned int b;

	qpn_bucket(c->qp_num, &b);
	c->qpn_next = dev->qpn[b];
	dev->qpn[b] = c;
}

void nvmf_rdma_qpn_del(struct nvmf_rdma_device *dev, struct nvmf_rdma_conn *c)
{
	struct nvmf_rdma_conn **p;
	unsigned int b;

	qpn_bucket(c->qp_num, &b);
	for (p = &dev->qpn[b]; *p; p = &(*p)->qpn_next) {
		if (*p == c) {
			*p = c->qpn_next;
			return;
		}
	}
}

static struct nvmf_rdma_conn *qpn_find(struct nvmf_rdma_device *dev, uint32_t qpn)
{
	struct nvmf_rdma_conn *c;
	unsigned int b;

	qpn_bucket(qpn, &b);
	for (c = dev->qpn[b]; c; c = c->qpn_next)
		if (c->qp_num == qpn)
			return c;
	return NULL;
}

static void srq_post(struct nvmf_rdma_device *dev, struct ibv_recv_wr *wr)
{
	struct ibv_recv_wr *bad = NULL;
	int rc;

	dev->stats.recv_doorbell_updates++;
	for (struct ibv_recv_wr *w = wr; w; w = w->next)
		dev->stats.total_recv_wrs++;
	rc = ibv_post_srq_recv(dev->srq, wr, &bad);
	if (rc)
		log_err("rdma: %s: reposting shared receives failed: %s", dev->name,
			strerror(rc));
}

static void srq_repost(struct nvmf_rdma_device *dev, struct nvmf_rdma_recv *rv)
{
	rv->wr.next = NULL;
	if (!dev->in_poll) {
		srq_post(dev, &rv->wr);
		return;
	}
	if (dev->srq_tail)
		dev->srq_tail->next = &rv->wr;
	else
		dev->srq_head = &rv->wr;
	dev->srq_tail = &rv->wr;
}

/* A dying queue's waiting posts are dropped: its teardown finishes them. */
static void conn_flush(struct nvmf_rdma_conn *c)
{
	struct ibv_send_wr *send = c->send_head;
	struct ibv_recv_wr *recv = c->recv_head;

	nvmf_rdma_conn_unflush(c);
	if (c->qp.dying)
		return;
	if (recv && post_recv_now(c, recv)) {
		nvmf_rdma_conn_disconnect(c, "cannot post receives");
		return;
	}
	if (send && post_send_now(c, send))
		nvmf_rdma_conn_disconnect(c, "cannot post sends");
}

static void device_flush(struct nvmf_rdma_device *dev)
{
	struct nvmf_rdma_conn *c;

	if (dev->srq_head) {
		srq_post(dev, dev->srq_head);
		dev->srq_head = dev->srq_tail = NULL;
	}
	while ((c = TAILQ_FIRST(&dev->flush)))
		conn_flush(c);
}

static void wc_recv(struct nvmf_rdma_device *dev, struct nvmf_rdma_recv *rv,
		    const struct ibv_wc *wc)
{
	struct nvmf_rdma_conn *c;

	if (!dev->srq) {
		nvmf_rdma_recv_done(rv->qp, rv, wc);
		return;
	}
	c = qpn_find(dev, wc->qp_num);
	if (!c) {	/* a queue already gone */
		if (wc->status == IBV_WC_SUCCESS || wc->status == IBV_WC_WR_FLUSH_ERR)
			srq_repost(dev, rv);
		return;
	}
	nvmf_rdma_recv_done(&c->qp, rv, wc);
}

static void wc_dispatch(struct nvmf_rdma_device *dev, const struct ibv_wc *wc)
{
	struct nvmf_rdma_wr_ctx *ctx = (struct nvmf_rdma_wr_ctx *)(uintptr_t)wc->wr_id;

	switch (ctx->type) {
	case NVMF_RDMA_WR_RECV:
		wc_recv(dev, nvmf_rdma_container_of(ctx, struct nvmf_rdma_recv, ctx), wc);
		break;
	case NVMF_RDMA_WR_DATA:
		nvmf_rdma_read_done(nvmf_rdma_container_of(ctx, struct nvmf_rdma_req,
							   data_ctx), wc);
		break;
	case NVMF_RDMA_WR_SEND:
		nvmf_rdma_send_done(nvmf_rdma_container_of(ctx, struct nvmf_rdma_req,
							   send_ctx), wc);
		break;
	default:
		log_err("rdma: %s: completion with unknown context type %u",
			dev->name, ctx->type);
	}
}

/* One batch: the number of completions handled, 0 if none (or an error). */
int nvmf_rdma_device_poll_cq(struct nvmf_rdma_device *dev)
{
	struct ibv_wc wc[NVMF_RDMA_POLL_BATCH];
	int i, n;

	n = ibv_poll_cq(dev->cq, NVMF_RDMA_POLL_BATCH, wc);
	if (n < 0) {
		log_err("rdma: %s: ibv_poll_cq failed (%d)", dev->name, n);
		return 0;
	}
	dev->stats.completions += (uint64_t)n;
	for (i = 0; i < n; i++)
		wc_dispatch(dev, &wc[i]);
	return n;
}

/*
 * Take the completion event of an armed CQ off the channel (its fd is
 * level-triggered in the loop's epoll: left there, the loop would never
 * sleep). The CQ stays armed until its one event has come.
 */
static void cq_events_ack(struct nvmf_rdma_device *dev)
{
	unsigned int n = 0;
	struct ibv_cq *cq;
	void *ctx;

	while (ibv_get_cq_event(dev->channel, &cq, &ctx) == 0)
		n++;
	if (!n)
		return;
	ibv_ack_cq_events(dev->cq, n);
	dev->armed = false;
}

int nvmf_rdma_device_poll(void *arg)
{
	struct nvmf_rdma_device *dev = arg;
	int n, rounds = 0, done = 0;

	if (dev->armed)
		cq_events_ack(dev);
	dev->in_poll = true;
	do {
		n = nvmf_rdma_device_poll_cq(dev);
		done += n;
	} while (n == NVMF_RDMA_POLL_BATCH && ++rounds < NVMF_RDMA_POLL_ROUNDS);
	device_flush(dev);
	/* Buffers another group gave back, for requests waiting here. */
	done += nvmf_rdma_pool_poll(dev->pool);
	if (!TAILQ_EMPTY(&dev->dying)) {
		done += nvmf_rdma_conns_reap(dev);
		device_flush(dev);
	}
	dev->in_poll = false;
	dev->stats.polls++;
	dev->stats.idle_polls += !done;
	return done;
}

/* Idle: ask for an event on the next completion, then catch any that raced. */
static void device_arm(void *arg)
{
	struct nvmf_rdma_device *dev = arg;
	int rc;

	if (dev->armed)
		cq_events_ack(dev);
	rc = ibv_req_notify_cq(dev->cq, 0);
	if (rc) {
		log_err("rdma: %s: ibv_req_notify_cq failed: %s", dev->name, strerror(rc));
		return;
	}
	dev->armed = true;
	dev->in_poll = true;
	while (nvmf_rdma_device_poll_cq(dev) > 0)
		;
	device_flush(dev);
	/* A queue the core closed from its own poller: do not sleep on it. */
	if (!TAILQ_EMPTY(&dev->dying)) {
		nvmf_rdma_conns_reap(dev);
		device_flush(dev);
	}
	dev->in_poll = false;
}

/* Make room in the device's CQ for a queue: 0, or -ENOSPC (logged). */
int nvmf_rdma_cq_reserve(struct nvmf_rdma_device *dev, int slots)
{
	int want = dev->cq_used + slots, size = dev->cq_size, rc;

	if (want <= dev->cq_size) {
		dev->cq_used = want;
		return 0;
	}
	while (size < want)
		size *= 2;
	if (size > dev->attr.max_cqe)
		size = dev->attr.max_cqe;
	if (size < want) {
		log_err("rdma: %s: completion queue full (%d of %d entries used)",
			dev->name, dev->cq_used, dev->attr.max_cqe);
		return -ENOSPC;
	}
	rc = ibv_resize_cq(dev->cq, size);
	if (rc) {
		log_err("rdma: %s: ibv_resize_cq to %d failed: %s", dev->name, size,
			strerror(rc));
		return -ENOSPC;
	}
	dev->cq_size = size;
	dev->cq_used = want;
	return 0;
}

/* ---- Devices ---- */

struct nvmf_rdma_device *nvmf_rdma_device_find(struct nvmf_rdma_transport *rt,
					       struct ibv_context *ctx)
{
	struct nvmf_rdma_device *dev;

	TAILQ_FOREACH(dev, &rt->devices, link)
		if (dev->ctx == ctx)
			return dev;
	return NULL;
}

static int fd_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

static void srq_free(struct nvmf_rdma_device *dev)
{
	int rc;

	if (dev->srq) {
		rc = ibv_destroy_srq(dev->srq);
		if (rc)
			log_err("rdma: %s: ibv_destroy_srq failed: %s", dev->name,
				strerror(rc));
	}
	dev->srq = NULL;
	free(dev->srq_recvs);
	dev->srq_recvs = NULL;
	env_dma_free(dev->srq_bufs);
	dev->srq_bufs = NULL;
}

static int srq_fill(struct nvmf_rdma_device *dev, uint32_t len)
{
	struct ibv_recv_wr *bad = NULL;
	uint32_t i;
	int rc;

	for (i = 0; i < dev->srq_depth; i++) {
		rc = nvmf_rdma_recv_init(&dev->srq_recvs[i], dev->srq_bufs + (size_t)i * len,
					 len, dev->mr_map);
		if (rc)
			return rc;
		dev->srq_recvs[i].wr.next = i + 1 < dev->srq_depth ?
					    &dev->srq_recvs[i + 1].wr : NULL;
	}
	rc = ibv_post_srq_recv(dev->srq, &dev->srq_recvs[0].wr, &bad);
	if (rc)
		log_err("rdma: %s: posting %u shared receives failed: %s", dev->name,
			dev->srq_depth, strerror(rc));
	return rc ? -rc : 0;
}

/* The shared receive queue, if asked for and the device has one. */
static int srq_create(struct nvmf_rdma_device *dev)
{
	const struct nvmf_transport_opts *o = &dev->rt->t.opts;
	struct ibv_srq_init_attr a = { 0 };
	uint32_t len = dev->rt->recv_len;

	if (o->no_srq || o->max_srq_depth == 0 || dev->attr.max_srq == 0)
		return 0;
	dev->srq_depth = o->max_srq_depth;
	if (dev->srq_depth > (uint32_t)dev->attr.max_srq_wr)
		dev->srq_depth = dev->attr.max_srq_wr;
	a.attr.max_wr = dev->srq_depth;
	a.attr.max_sge = NVMF_RDMA_RECV_SGE;
	dev->srq = ibv_create_srq(dev->pd, &a);
	if (!dev->srq) {
		log_warn("rdma: %s: ibv_create_srq(%u) failed: %s; using a receive queue "
			 "per host queue", dev->name, dev->srq_depth, strerror(errno));
		return 0;
	}
	dev->srq_recvs = calloc(dev->srq_depth, sizeof(*dev->srq_recvs));
	dev->srq_bufs = env_dma_zalloc((size_t)dev->srq_depth * len, 64);
	if (!dev->srq_recvs || !dev->srq_bufs) {
		log_err("rdma: %s: no memory for %u shared receive buffers", dev->name,
			dev->srq_depth);
		goto err;
	}
	if (srq_fill(dev, len))
		goto err;
	dev->cq_used += dev->srq_depth;
	return 0;
err:
	srq_free(dev);
	return -ENOMEM;
}

static int device_cq_create(struct nvmf_rdma_device *dev)
{
	int rc;

	dev->channel = ibv_create_comp_channel(dev->ctx);
	if (!dev->channel) {
		log_err("rdma: %s: ibv_create_comp_channel failed: %s", dev->name,
			strerror(errno));
		return -ENOMEM;
	}
	rc = fd_nonblock(dev->channel->fd);
	if (rc) {
		log_err("rdma: %s: completion channel: %s", dev->name, strerror(-rc));
		return rc;
	}
	dev->cq_size = NVMF_RDMA_CQ_MIN + dev->rt->t.opts.max_srq_depth;
	if (dev->cq_size > dev->attr.max_cqe)
		dev->cq_size = dev->attr.max_cqe;
	dev->cq = ibv_create_cq(dev->ctx, dev->cq_size, dev, dev->channel, 0);
	if (!dev->cq) {
		log_err("rdma: %s: ibv_create_cq(%d) failed: %s", dev->name, dev->cq_size,
			strerror(errno));
		return -ENOMEM;
	}
	return 0;
}

void nvmf_rdma_device_free(struct nvmf_rdma_device *dev)
{
	struct nvmf_tgt *tgt = dev->rt->t.tgt;
	int rc;

	if (dev->poller)
		nvmf_poller_del(tgt, dev->poller);
	if (dev->async_poller)
		nvmf_poller_del(tgt, dev->async_poller);
	if (dev->armed)
		cq_events_ack(dev);
	srq_free(dev);
	if (dev->cq && (rc = ibv_destroy_cq(dev->cq)))
		log_err("rdma: %s: ibv_destroy_cq failed: %s", dev->name, strerror(rc));
	if (dev->channel && (rc = ibv_destroy_comp_channel(dev->channel)))
		log_err("rdma: %s: ibv_destroy_comp_channel failed: %s", dev->name,
			strerror(rc));
	if (dev->primary) {	/* the PD and MR map are the primary's */
		free(dev);
		return;
	}
	nvmf_rdma_mr_map_destroy(&dev->mr_map);
	if (dev->pd && (rc = ibv_dealloc_pd(dev->pd)))
		log_err("rdma: %s: ibv_dealloc_pd failed: %s", dev->name, strerror(rc));
	free(dev);
}

static void device_limits(struct nvmf_rdma_device *dev)
{
	struct ibv_device_attr *a = &dev->attr;
	uint32_t sge = a->max_sge;

	if (a->max_sge_rd > 0 && (uint32_t)a->max_sge_rd < sge)
		sge = a->max_sge_rd;	/* READ WRs may take fewer SGEs */
	dev->max_sge = sge < NVMF_RDMA_MAX_SGE ? sge : NVMF_RDMA_MAX_SGE;
	if (!dev->max_sge)
		dev->max_sge = 1;
	dev->send_with_inv = a->device_cap_flags & IBV_DEVICE_MEM_MGT_EXTENSIONS;
	log_info("rdma: %s: max_qp_wr %d, max_sge %d (rd %d), max_cqe %d, "
		 "max_qp_rd_atom %d, max_qp_init_rd_atom %d, max_srq_wr %d%s",
		 dev->name, a->max_qp_wr, a->max_sge, a->max_sge_rd, a->max_cqe,
		 a->max_qp_rd_atom, a->max_qp_init_rd_atom, a->max_srq_wr,
		 dev->send_with_inv ? ", send with invalidate" : "");
}

static int device_verbs(struct nvmf_rdma_device *dev)
{
	int rc;

	rc = ibv_query_device(dev->ctx, &dev->attr);
	if (rc) {
		log_err("rdma: %s: ibv_query_device failed: %s", dev->name, strerror(rc));
		return -rc;
	}
	device_limits(dev);
	dev->pd = ibv_alloc_pd(dev->ctx);
	if (!dev->pd) {
		log_err("rdma: %s: ibv_alloc_pd failed: %s", dev->name, strerror(errno));
		return -ENOMEM;
	}
	dev->mr_map = nvmf_rdma_mr_map_create(dev->pd, NULL);
	if (!dev->mr_map)
		return -ENOMEM;
	rc = device_cq_create(dev);
	if (rc)
		return rc;
	return srq_create(dev);
}

/* ---- Asynchronous device events ---- */

#define ASYNC_POLL_US	1000

static void qp_event(struct nvmf_rdma_device *dev, const struct ibv_async_event *ev)
{
	struct nvmf_rdma_conn *c = qpn_find(dev, ev->element.qp->qp_num);

	log_err("rdma: %s: QP 0x%x: %s", dev->name, ev->element.qp->qp_num,
		ibv_event_type_str(ev->event_type));
	if (c)
		nvmf_rdma_conn_disconnect(c, ibv_event_type_str(ev->event_type));
}

static void async_event(struct nvmf_rdma_device *dev, const struct ibv_async_event *ev)
{
	switch (ev->event_type) {
	case IBV_EVENT_QP_FATAL:
	case IBV_EVENT_QP_REQ_ERR:
	case IBV_EVENT_QP_ACCESS_ERR:
		qp_event(dev, ev);
		break;
	case IBV_EVENT_DEVICE_FATAL:
		log_err("rdma: %s: device fatal error", dev->name);
		nvmf_rdma_device_removed(dev->rt, dev->ctx);
		break;
	case IBV_EVENT_PORT_ERR:
		if (!dev->port_down)
			log_warn("rdma: %s: port %d down", dev->name, ev->element.port_num);
		dev->port_down = true;
		break;
	case IBV_EVENT_PORT_ACTIVE:
		/* rxe may say it twice: log the change only. */
		if (dev->port_down)
			log_notice("rdma: %s: port %d up", dev->name, ev->element.port_num);
		dev->port_down = false;
		nvmf_rdma_listen_retry(dev->rt, 0);
		break;
	case IBV_EVENT_GID_CHANGE:
		/* An address came or went: a lost listener may bind now. */
		nvmf_rdma_listen_retry(dev->rt, 0);
		break;
	case IBV_EVENT_CQ_ERR:
	case IBV_EVENT_SRQ_ERR:
		log_err("rdma: %s: %s", dev->name, ibv_event_type_str(ev->event_type));
		break;
	default:
		log_info("rdma: %s: %s", dev->name, ibv_event_type_str(ev->event_type));
	}
}

/* Events are rare: like the CM channel, looked at once per ms while busy. */
static int device_async_poll(void *arg)
{
	struct nvmf_rdma_device *dev = arg;
	struct ibv_async_event ev, copy;
	uint64_t now = nvmf_now_us();
	int n = 0;

	if (now - dev->async_polled_us < ASYNC_POLL_US)
		return 0;
	dev->async_polled_us = now;
	while (!dev->removed && !ibv_get_async_event(dev->ctx, &ev)) {
		copy = ev;
		/* Acked first: destroying a QP waits for its events' acks. */
		ibv_ack_async_event(&ev);
		async_event(dev, &copy);
		n++;
	}
	return n;
}

static int device_pollers(struct nvmf_rdma_device *dev)
{
	struct nvmf_tgt *tgt = dev->rt->t.tgt;
	char pname[IBV_SYSFS_NAME_MAX + 16];
	int rc;

	snprintf(pname, sizeof(pname), "rdma_cq:%s", dev->name);
	dev->poller = nvmf_poller_add(tgt, pname, nvmf_rdma_device_poll, device_arm,
				      dev->channel->fd, dev);
	if (!dev->poller)
		return -ENOMEM;
	if (dev->primary)
		return 0;	/* async events: the primary's */
	rc = fd_nonblock(dev->ctx->async_fd);
	if (rc) {
		log_err("rdma: %s: async event fd: %s", dev->name, strerror(-rc));
		return rc;
	}
	snprintf(pname, sizeof(pname), "rdma_async:%s", dev->name);
	dev->async_poller = nvmf_poller_add(tgt, pname, device_async_poll, NULL,
					    dev->ctx->async_fd, dev);
	return dev->async_poller ? 0 : -ENOMEM;
}

/* A device of a poll group (its pool), not set up yet. */
static struct nvmf_rdma_device *device_new(struct nvmf_rdma_transport *rt,
					   struct ibv_context *ctx,
					   struct nvmf_rdma_pool *pool)
{
	struct nvmf_rdma_device *dev = calloc(1, sizeof(*dev));

	if (!dev)
		return NULL;
	dev->rt = rt;
	dev->ctx = ctx;
	dev->pool = pool;
	TAILQ_INIT(&dev->conns);
	TAILQ_INIT(&dev->dying);
	TAILQ_INIT(&dev->flush);
	snprintf(dev->name, sizeof(dev->name), "%s", ibv_get_device_name(ctx->device));
	return dev;
}

static int device_add(struct nvmf_rdma_transport *rt, struct ibv_context *ctx)
{
	struct nvmf_rdma_device *dev = device_new(rt, ctx, &rt->pool);
	int rc;

	if (!dev)
		return -ENOMEM;
	rc = device_verbs(dev);
	if (rc)
		goto err;
	rc = device_pollers(dev);
	if (rc)
		goto err;
	TAILQ_INSERT_TAIL(&rt->devices, dev, link);
	log_notice("rdma: device %s ready (%s)", dev->name,
		   dev->srq ? "shared receive queue" : "receive queue per host queue");
	return 0;
err:
	log_err("rdma: device %s not usable", dev->name);
	nvmf_rdma_device_free(dev);
	return rc;
}

/* On g's thread: g's own CQ, SRQ and poller for primary p. */
int nvmf_rdma_device_clone(struct nvmf_rdma_group *g, struct nvmf_rdma_device *p)
{
	struct nvmf_rdma_device *dev = device_new(p->rt, p->ctx, &g->pool);
	int rc;

	if (!dev)
		return -ENOMEM;
	dev->group = g;
	dev->primary = p;
	dev->attr = p->attr;
	dev->pd = p->pd;
	dev->mr_map = p->mr_map;
	dev->max_sge = p->max_sge;
	dev->send_with_inv = p->send_with_inv;
	rc = device_cq_create(dev);
	if (!rc)
		rc = srq_create(dev);
	if (!rc)
		rc = device_pollers(dev);
	if (rc) {
		log_err("rdma: %s: poll group %d: cannot set up its queues", dev->name, g->idx);
		nvmf_rdma_device_free(dev);
		return rc;
	}
	TAILQ_INSERT_TAIL(&g->devices, dev, link);
	return 0;
}

static int devices_open(struct nvmf_rdma_transport *rt)
{
	int i, n = 0, ok = 0;

	errno = 0;
	rt->ctx_list = rdma_get_devices(&n);
	if (!rt->ctx_list || n == 0) {
		log_err("rdma: %s", NO_DEVICE_HELP);
		return -ENODEV;
	}
	for (i = 0; i < n; i++)
		ok += device_add(rt, rt->ctx_list[i]) == 0;
	if (!ok) {
		log_err("rdma: none of the %d RDMA devices could be set up", n);
		return -ENODEV;
	}
	return 0;
}

int nvmf_rdma_devices_rescan(struct nvmf_rdma_transport *rt)
{
	struct ibv_context **list;
	int i, n = 0, added = 0;

	list = rdma_get_devices(&n);
	if (!list)
		return 0;
	for (i = 0; i < n; i++) {
		if (nvmf_rdma_device_find(rt, list[i]))
			continue;
		log_notice("rdma: new RDMA device %s", ibv_get_device_name(list[i]->device));
		if (device_add(rt, list[i]))
			continue;
		nvmf_rdma_groups_device_added(rt, TAILQ_LAST(&rt->devices, nvmf_rdma_device_list));
		added++;
	}
	/* The old list held the gone devices open: librdmacm closes them now. */
	if (rt->ctx_list)
		rdma_free_devices(rt->ctx_list);
	rt->ctx_list = list;
	return added;
}

/* ---- Transport ---- */

static int opts_check(const struct nvmf_transport_opts *o)
{
	uint32_t units;

	if (o->io_unit_size < 4096 || o->io_unit_size % 4096) {
		log_err("rdma: io_unit_size %u must be a multiple of 4096", o->io_unit_size);
		return -EINVAL;
	}
	units = (o->max_io_size + o->io_unit_size - 1) / o->io_unit_size;
	if (!o->max_io_size || units > NVMF_REQ_MAX_IOV - NVMF_RDMA_MSDBD) {
		log_err("rdma: max_io_size %u needs %u buffers of io_unit_size %u; at most "
			"%d: raise io_unit_size", o->max_io_size, units, o->io_unit_size,
			NVMF_REQ_MAX_IOV - NVMF_RDMA_MSDBD);
		return -EINVAL;
	}
	if (o->in_capsule_data_size % 16 || o->in_capsule_data_size > 65536) {
		log_err("rdma: in_capsule_data_size %u: a multiple of 16, at most 65536",
			o->in_capsule_data_size);
		return -EINVAL;
	}
	if (o->max_queue_depth < 2 || o->max_aq_depth < 2 || o->max_aq_depth > 4096) {
		log_err("rdma: max_queue_depth %u / max_aq_depth %u: at least 2",
			o->max_queue_depth, o->max_aq_depth);
		return -EINVAL;
	}
	if (o->num_shared_buffers < units + NVMF_RDMA_MSDBD) {
		log_err("rdma: num_shared_buffers %u is less than one largest I/O (%u)",
			o->num_shared_buffers, units + NVMF_RDMA_MSDBD);
		return -EINVAL;
	}
	return 0;
}

/*
 * num_shared_buffers (at least one largest I/O) shared by every poll group,
 * each taking them through a cache of buf_cache_size of its own; the caches
 * together keep at most half of the buffers (SPDK trims them likewise).
 */
static int bufs_create(struct nvmf_rdma_transport *rt)
{
	const struct nvmf_transport_opts *o = &rt->t.opts;
	uint32_t min = (o->max_io_size + o->io_unit_size - 1) / o->io_unit_size + NVMF_RDMA_MSDBD;
	uint32_t count = o->num_shared_buffers < min ? min : o->num_shared_buffers;
	size_t len = (size_t)count * o->io_unit_size;

	rt->cache_size = o->buf_cache_size;
	if ((uint64_t)rt->cache_size * 2 * (uint32_t)rt->ngroups > count) {
		rt->cache_size = count / (2 * (uint32_t)rt->ngroups);
		log_info("rdma: buf_cache_size %u is too large for %u buffers and %d poll "
			 "groups: %u", o->buf_cache_size, count, rt->ngroups, rt->cache_size);
	}
	rt->pool_mem = env_dma_zalloc(len, 4096);
	if (!rt->pool_mem) {
		log_err("rdma: cannot allocate %u data buffers of %u bytes (%zu MiB) of "
			"registered memory: lower num_shared_buffers or give more memory (-s)",
			count, o->io_unit_size, len >> 20);
		return -ENOMEM;
	}
	if (nvmf_rdma_bufs_init(&rt->bufs, rt->pool_mem, count, o->io_unit_size) ||
	    nvmf_rdma_pool_init_shared(&rt->pool, &rt->bufs, rt->cache_size)) {
		log_err("rdma: out of memory for the buffer pool");
		return -ENOMEM;
	}
	return 0;
}

static int cm_channel_open(struct nvmf_rdma_transport *rt)
{
	int rc;

	rt->cm_channel = rdma_create_event_channel();
	if (!rt->cm_channel) {
		if (errno == ENODEV || errno == ENOENT || errno == ENOSYS)
			log_err("rdma: %s", NO_DEVICE_HELP);
		else
			log_err("rdma: rdma_create_event_channel failed: %s", strerror(errno));
		return -ENODEV;
	}
	rc = fd_nonblock(rt->cm_channel->fd);
	if (rc) {
		log_err("rdma: rdma_cm event channel: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

static void cm_arm(void *arg)
{
	(void)arg;	/* the event channel fd is readable while events wait */
}

static void rdma_destroy(struct nvmf_transport *t);

/* The CPUs given: one poll group each; the groups' messages to the core. */
static int groups_count(struct nvmf_rdma_transport *rt)
{
	int cpus[NVMF_MAX_POLL_GROUPS];
	int n = nvmf_tgt_poll_group_cpus(rt->t.tgt, cpus, NVMF_MAX_POLL_GROUPS);

	if (n <= 1)
		return 0;
	rt->main_mbox = nvmf_tgt_mbox(rt->t.tgt);
	rt->groups = calloc((size_t)n, sizeof(*rt->groups));
	if (!rt->main_mbox || !rt->groups)
		return -ENOMEM;
	rt->ngroups = n;
	return 0;
}

static struct nvmf_transport *rdma_create(struct nvmf_tgt *tgt,
					  const struct nvmf_transport_opts *opts)
{
	struct nvmf_rdma_transport *rt;

	if (opts_check(opts))
		return NULL;
	rt = calloc(1, sizeof(*rt));
	if (!rt) {
		log_err("rdma: out of memory");
		return NULL;
	}
	rt->t.ops = &nvmf_rdma_ops;
	rt->t.tgt = tgt;
	rt->t.opts = *opts;
	rt->recv_len = NVMF_RDMA_SQE_SIZE + opts->in_capsule_data_size;
	TAILQ_INIT(&rt->devices);
	TAILQ_INIT(&rt->listeners);
	rt->ngroups = 1;
	if (cm_channel_open(rt) || groups_count(rt) ||
	    bufs_create(rt) || devices_open(rt) ||
	    nvmf_rdma_groups_start(rt))
		goto err;
	rt->cm_poller = nvmf_poller_add(tgt, "rdma_cm", nvmf_rdma_cm_poll, cm_arm,
					rt->cm_channel->fd, rt);
	rt->retry_timer = nvmf_timer_add(tgt, nvmf_rdma_listen_retry_fn, rt);
	if (!rt->cm_poller || !rt->retry_timer)
		goto err;
	log_notice("rdma: transport ready: queue depth %u (admin %u), in-capsule data "
		   "%u, max I/O %u, %u buffers of %u", opts->max_queue_depth,
		   opts->max_aq_depth, opts->in_capsule_data_size, opts->max_io_size,
		   opts->num_shared_buffers, opts->io_unit_size);
	return &rt->t;
err:
	rdma_destroy(&rt->t);
	return NULL;
}

static void devices_close(struct nvmf_rdma_transport *rt)
{
	struct nvmf_rdma_device *dev;
	struct nvmf_rdma_conn *c;

	TAILQ_FOREACH(dev, &rt->devices, link) {
		TAILQ_FOREACH(c, &dev->conns, link)
			nvmf_rdma_conn_disconnect(c, "target shutting down");
		nvmf_rdma_conns_reap(dev);
		while ((c = TAILQ_FIRST(&dev->conns))) {
			log_warn("rdma: qid %u: %u requests still in the core at shutdown",
				 c->qp.qpair.qid, c->qp.executing);
			nvmf_rdma_conn_release(c);
		}
	}
	while ((dev = TAILQ_FIRST(&rt->devices))) {
		TAILQ_REMOVE(&rt->devices, dev, link);
		nvmf_rdma_device_free(dev);
	}
}

static void rdma_destroy(struct nvmf_transport *t)
{
	struct nvmf_rdma_transport *rt = (struct nvmf_rdma_transport *)t;

	if (!rt)
		return;
	rt->destroying = true;
	nvmf_rdma_groups_stop(rt);
	nvmf_rdma_listeners_destroy(rt);
	if (rt->cm_poller)
		nvmf_poller_del(t->tgt, rt->cm_poller);
	if (rt->retry_timer)
		nvmf_timer_del(t->tgt, rt->retry_timer);
	devices_close(rt);
	if (rt->pool.free)
		nvmf_rdma_pool_fini(&rt->pool);
	nvmf_rdma_bufs_fini(&rt->bufs);
	env_dma_free(rt->pool_mem);
	if (rt->ctx_list)
		rdma_free_devices(rt->ctx_list);
	if (rt->cm_channel)
		rdma_destroy_event_channel(rt->cm_channel);
	free(rt->groups);
	free(rt);
}

static void rdma_qpair_disconnect(struct nvmf_qpair *qp)
{
	struct nvmf_rdma_conn *c = (struct nvmf_rdma_conn *)qp;

	if (c->dev->group)
		nvmf_rdma_group_disconnect(c);
	else
		nvmf_rdma_conn_disconnect(c, "asked by the core");
}

static void rdma_req_complete(struct nvmf_req *req)
{
	struct nvmf_rdma_conn *c = (struct nvmf_rdma_conn *)req->qpair;

	if (c->dev->group) {
		nvmf_rdma_group_complete(c, req);
		return;
	}
	nvmf_rdma_req_complete(req);
	if (c->zombie && c->qp.executing == 0)
		nvmf_rdma_conn_release(c);
}

static int rdma_get_stats(struct nvmf_transport *t, struct nvmf_transport_dev_stats *out,
			  int max)
{
	struct nvmf_rdma_transport *rt = (struct nvmf_rdma_transport *)t;
	struct nvmf_rdma_device *dev;
	int n = 0;

	TAILQ_FOREACH(dev, &rt->devices, link) {
		if (n == max)
			break;
		out[n] = dev->stats;
		snprintf(out[n].name, sizeof(out[n].name), "%s", dev->name);
		n++;
	}
	return n + nvmf_rdma_groups_stats(rt, out + n, max - n);
}

static uint32_t rdma_ioccsz_bytes(const struct nvmf_transport *t)
{
	return NVMF_RDMA_SQE_SIZE + t->opts.in_capsule_data_size;
}

const struct nvmf_transport_ops nvmf_rdma_ops = {
	.name = "RDMA",
	.create = rdma_create,
	.destroy = rdma_destroy,
	.listen = nvmf_rdma_listen,
	.stop_listen = nvmf_rdma_stop_listen,
	.req_complete = rdma_req_complete,
	.qpair_disconnect = rdma_qpair_disconnect,
	.ioccsz_bytes = rdma_ioccsz_bytes,
	.msdbd = NVMF_RDMA_MSDBD,
	.qpair_local_addr = nvmf_rdma_qpair_local_addr,
	.get_stats = rdma_get_stats,
};
