/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Connection management of the RDMA transport: listeners, the rdma_cm
 * events, accepting or rejecting host queues (NVMe-oF RDMA CM private
 * data), and the lifecycle of a host queue down to its last request.
 *
 * Tearing a queue down: conn_disconnect() marks it dying (the state machine
 * then drops instead of posting), disconnects the CM id and puts it on its
 * device's dying list. The device poller reaps it outside any completion
 * batch: nvmf_qpair_fini, destroy the verbs QP, poll the shared CQ empty
 * (so no completion of it is left behind to point at freed memory), finish
 * the requests that are not inside the core, and free everything once the
 * core has completed the rest (qp->executing == 0).
 */
#include "transport/rdma.h"

#include <endian.h>
#include <errno.h>
#include <time.h>
#include <netdb.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "memmap/env.h"
#include "memmap/log.h"
#include "transport/rdma_int.h"

#define CM_PDATA_MAX	256

static const char *rej_str(int sts)
{
	switch (sts) {
	case NVMF_RDMA_REJ_INVALID_PRIVATE_DATA_LENGTH: return "invalid private data length";
	case NVMF_RDMA_REJ_INVALID_RECFMT: return "invalid RECFMT";
	case NVMF_RDMA_REJ_INVALID_QID: return "invalid QID";
	case NVMF_RDMA_REJ_INVALID_HSQSIZE: return "invalid HSQSIZE";
	case NVMF_RDMA_REJ_INVALID_HRQSIZE: return "invalid HRQSIZE";
	case NVMF_RDMA_REJ_NO_RESOURCES: return "no resources";
	case NVMF_RDMA_REJ_INVALID_IRD: return "invalid IRD";
	case NVMF_RDMA_REJ_INVALID_ORD: return "invalid ORD";
	}
	return "unknown";
}

int nvmf_rdma_cm_check(const void *pdata, uint32_t len,
		       const struct nvmf_transport_opts *o, uint16_t *qid,
		       uint16_t *depth)
{
	struct nvmf_rdma_cm_req req;
	uint32_t max, hsq, hrq;

	if (!pdata || len < sizeof(req))
		return NVMF_RDMA_REJ_INVALID_PRIVATE_DATA_LENGTH;
	memcpy(&req, pdata, sizeof(req));
	if (le16toh(req.recfmt) != 0)
		return NVMF_RDMA_REJ_INVALID_RECFMT;
	*qid = le16toh(req.qid);
	if (*qid > o->max_io_qpairs_per_ctrlr)
		return NVMF_RDMA_REJ_INVALID_QID;
	max = *qid ? o->max_queue_depth : o->max_aq_depth;
	hsq = le16toh(req.hsqsize);
	hrq = le16toh(req.hrqsize);
	if (hsq < 1 || hsq + 1 > max)
		return NVMF_RDMA_REJ_INVALID_HSQSIZE;
	if (hrq < 1 || hrq > max)
		return NVMF_RDMA_REJ_INVALID_HRQSIZE;
	*depth = (uint16_t)(hsq + 1);
	return 0;
}

/* ---- Queue lifecycle ---- */

void nvmf_rdma_conn_disconnect(struct nvmf_rdma_conn *c, const char *why)
{
	if (c->qp.dying)
		return;
	c->qp.dying = true;
	log_info("rdma: %s: host queue %u (QP 0x%x) closing: %s", c->dev->name,
		 c->qp.qpair.qid, c->qp_num, why);
	if (!c->cm_gone && c->cm_id && rdma_disconnect(c->cm_id))
		log_debug("rdma: rdma_disconnect: %s", strerror(errno));
	TAILQ_INSERT_TAIL(&c->dev->dying, c, dying_link);
	c->on_dying = true;
}

static void conn_qp_destroy(struct nvmf_rdma_conn *c)
{
	int rc;

	if (!c->ibqp)
		return;
	rc = ibv_destroy_qp(c->ibqp);
	if (rc)
		log_err("rdma: %s: ibv_destroy_qp(0x%x) failed: %s", c->dev->name,
			c->qp_num, strerror(rc));
	c->ibqp = NULL;
	if (c->cm_id)
		c->cm_id->qp = NULL;
}

/*
 * The core forgets the queue. A grouped queue's core lives on the main
 * thread: fini goes there and comes back (fini_wait until then), except at
 * transport teardown, when the main thread waits for this one.
 */
static void conn_core_fini(struct nvmf_rdma_conn *c)
{
	if (!c->core_init)
		return;
	c->core_init = false;
	if (c->dev->group && !c->dev->rt->destroying) {
		c->fini_wait = true;
		nvmf_rdma_group_core_fini(c);
		return;
	}
	nvmf_qpair_fini(&c->qp.qpair);
}

void nvmf_rdma_conn_release(struct nvmf_rdma_conn *c)
{
	struct nvmf_rdma_device *dev = c->dev;

	conn_core_fini(c);
	conn_qp_destroy(c);
	nvmf_rdma_conn_unflush(c);
	if (c->counted) {
		if (c->cm_qid)
			dev->stats.io_qpairs--;
		else
			dev->stats.admin_qpairs--;
	}
	if (c->on_dying)
		TAILQ_REMOVE(&dev->dying, c, dying_link);
	nvmf_rdma_qpn_del(dev, c);
	TAILQ_REMOVE(&dev->conns, c, link);
	if (c->cm_id && rdma_destroy_id(c->cm_id))
		log_err("rdma: rdma_destroy_id: %s", strerror(errno));
	dev->cq_used -= c->cq_slots;
	nvmf_rdma_qpair_reqs_fini(&c->qp);
	free(c->recvs);
	env_dma_free(c->recv_bufs);
	env_dma_free(c->cpls);
	log_debug("rdma: %s: host queue QP 0x%x released", dev->name, c->qp_num);
	free(c);
}

static void conn_teardown(struct nvmf_rdma_conn *c)
{
	struct nvmf_rdma_device *dev = c->dev;

	conn_core_fini(c);
	if (c->ibqp) {
		conn_qp_destroy(c);
		/* Completions of the QP still in the shared CQ: handle them now. */
		while (nvmf_rdma_device_poll_cq(dev) > 0)
			;
	}
	if (nvmf_rdma_qpair_drop(&c->qp) > 0 || c->fini_wait) {
		c->zombie = true;	/* the last completion (or fini) frees it */
		return;
	}
	nvmf_rdma_conn_release(c);
}

int nvmf_rdma_conns_reap(struct nvmf_rdma_device *dev)
{
	struct nvmf_rdma_conn *c;
	int n = 0;

	while ((c = TAILQ_FIRST(&dev->dying))) {
		TAILQ_REMOVE(&dev->dying, c, dying_link);
		c->on_dying = false;
		conn_teardown(c);
		n++;
	}
	return n;
}

/* ---- Accepting a queue ---- */

static int conn_recvs(struct nvmf_rdma_conn *c)
{
	uint32_t len = c->dev->rt->recv_len, i;
	struct ibv_recv_wr *bad = NULL;
	int rc;

	c->recvs = calloc(c->qp.depth, sizeof(*c->recvs));
	c->recv_bufs = env_dma_zalloc((size_t)c->qp.depth * len, 64);
	if (!c->recvs || !c->recv_bufs)
		return -ENOMEM;
	for (i = 0; i < c->qp.depth; i++) {
		rc = nvmf_rdma_recv_init(&c->recvs[i], c->recv_bufs + (size_t)i * len,
					 len, c->dev->mr_map);
		if (rc)
			return rc;
		c->recvs[i].qp = &c->qp;
		c->recvs[i].wr.next = i + 1 < c->qp.depth ? &c->recvs[i + 1].wr : NULL;
	}
	rc = ibv_post_recv(c->ibqp, &c->recvs[0].wr, &bad);
	if (rc)
		log_err("rdma: posting %u receives failed: %s", c->qp.depth, strerror(rc));
	return rc ? -rc : 0;
}

static int conn_qp_create(struct nvmf_rdma_conn *c, uint32_t sq_size)
{
	struct nvmf_rdma_device *dev = c->dev;
	struct ibv_qp_init_attr a;
	int inl;

	for (inl = sizeof(struct nvme_cpl); inl >= 0; inl -= sizeof(struct nvme_cpl)) {
		memset(&a, 0, sizeof(a));
		a.qp_context = c;
		a.send_cq = dev->cq;
		a.recv_cq = dev->cq;
		a.srq = dev->srq;
		a.qp_type = IBV_QPT_RC;
		a.cap.max_send_wr = sq_size;
		a.cap.max_recv_wr = dev->srq ? 0 : c->qp.depth;
		a.cap.max_send_sge = dev->max_sge;
		a.cap.max_recv_sge = dev->srq ? 0 : NVMF_RDMA_RECV_SGE;
		a.cap.max_inline_data = inl;
		if (!rdma_create_qp(c->cm_id, dev->pd, &a))
			break;
		log_warn("rdma: %s: rdma_create_qp(send %u, recv %u, sge %u, inline %d) "
			 "failed: %s", dev->name, sq_size, a.cap.max_recv_wr, dev->max_sge,
			 inl, strerror(errno));
	}
	if (inl < 0)
		return -ENOMEM;
	c->ibqp = c->cm_id->qp;
	c->qp_num = c->ibqp->qp_num;
	c->qp.inline_rsp = a.cap.max_inline_data >= sizeof(struct nvme_cpl);
	return 0;
}

/*
 * A request holds at most one signaled WR at a time (its last READ, or its
 * SEND after the WRITEs): two slots per request cover the usual one data
 * WR; a request needing more waits for room, and one request always fits.
 */
static uint32_t conn_sq_size(const struct nvmf_rdma_device *dev, uint16_t depth)
{
	uint32_t sq = (uint32_t)depth * 2 + 1;

	if (sq < NVMF_RDMA_MAX_DATA_WR + 1)
		sq = NVMF_RDMA_MAX_DATA_WR + 1;
	if (sq > (uint32_t)dev->attr.max_qp_wr)
		sq = dev->attr.max_qp_wr;
	return sq;
}

static uint16_t conn_read_depth(const struct nvmf_rdma_device *dev,
				const struct rdma_conn_param *host, uint16_t depth)
{
	uint32_t rd = dev->attr.max_qp_init_rd_atom;

	/* At the passive side initiator_depth is what the host can answer. */
	if (host->initiator_depth && host->initiator_depth < rd)
		rd = host->initiator_depth;
	if (rd > depth)
		rd = depth;
	return rd ? rd : 1;
}

static void conn_opts(struct nvmf_rdma_conn *c, uint16_t depth,
		      const struct rdma_conn_param *host)
{
	struct nvmf_rdma_device *dev = c->dev;
	const struct nvmf_transport_opts *o = &dev->rt->t.opts;

	c->cm_type = NVMF_RDMA_CM_CONN;
	c->qp.io = dev->group ? &nvmf_rdma_io_grouped : &nvmf_rdma_io;
	c->qp.pool = dev->pool;
	c->qp.mr_map = dev->mr_map;
	c->qp.lim.max_io_size = o->max_io_size;
	c->qp.lim.icd_size = o->in_capsule_data_size;
	c->qp.max_sge = dev->max_sge;
	c->qp.srq = dev->srq != NULL;
	c->qp.send_with_inv = dev->send_with_inv;
	c->qp.depth = depth;
	c->qp.max_reads = conn_read_depth(dev, host, depth);
}

static int conn_resources(struct nvmf_rdma_conn *c)
{
	struct nvmf_rdma_device *dev = c->dev;
	uint32_t sq = conn_sq_size(dev, c->qp.depth);
	int rc;

	if (sq < NVMF_RDMA_MAX_DATA_WR + 1 || c->qp.depth > dev->attr.max_qp_wr) {
		log_err("rdma: %s: max_qp_wr %d too small for %u requests", dev->name,
			dev->attr.max_qp_wr, c->qp.depth);
		return -ENOSPC;
	}
	c->qp.sq_free = sq;
	rc = nvmf_rdma_cq_reserve(dev, sq + (dev->srq ? 0 : c->qp.depth));
	if (rc)
		return rc;
	c->cq_slots = sq + (dev->srq ? 0 : c->qp.depth);
	rc = conn_qp_create(c, sq);
	if (rc)
		return rc;
	c->cpls = env_dma_zalloc(sizeof(*c->cpls) * c->qp.depth, 64);
	if (!c->cpls)
		return -ENOMEM;
	rc = nvmf_rdma_qpair_reqs_init(&c->qp, c->cpls);
	if (rc)
		return rc;
	return dev->srq ? 0 : conn_recvs(c);
}

static struct nvmf_rdma_conn *conn_create(struct nvmf_rdma_device *dev,
					  struct rdma_cm_id *id, uint16_t depth,
					  const struct rdma_conn_param *host)
{
	struct nvmf_rdma_conn *c;

	c = calloc(1, sizeof(*c));
	if (!c) {
		log_err("rdma: out of memory for a host queue");
		return NULL;
	}
	c->dev = dev;
	c->cm_id = id;
	conn_opts(c, depth, host);
	TAILQ_INSERT_TAIL(&dev->conns, c, link);
	if (conn_resources(c)) {
		log_err("rdma: %s: cannot set up a host queue of %u requests", dev->name,
			depth);
		c->cm_id = NULL;	/* the caller rejects and destroys it */
		nvmf_rdma_conn_release(c);
		return NULL;
	}
	nvmf_rdma_qpn_add(dev, c);
	c->qp.stats = &dev->stats;
	id->context = &c->cm_type;
	nvmf_qpair_init(&c->qp.qpair, &dev->rt->t);
	c->qp.qpair.group = dev->group ? dev->group->pg : NULL;
	c->core_init = true;
	return c;
}

static int conn_accept(struct nvmf_rdma_conn *c, const struct rdma_conn_param *host)
{
	struct nvmf_rdma_cm_rep rep = { 0 };
	struct rdma_conn_param p = { 0 };
	uint32_t rr = c->dev->attr.max_qp_rd_atom;

	rep.recfmt = 0;
	rep.crqsize = htole16(c->qp.depth);
	p.private_data = &rep;
	p.private_data_len = sizeof(rep);
	/* We never let the host READ from us: 0 from a Linux host. */
	p.responder_resources = host->responder_resources < rr ? host->responder_resources : rr;
	p.initiator_depth = (uint8_t)c->qp.max_reads;
	p.flow_control = 1;
	p.rnr_retry_count = 7;
	p.srq = c->dev->srq != NULL;
	if (rdma_accept(c->cm_id, &p)) {
		log_err("rdma: %s: rdma_accept failed: %s", c->dev->name, strerror(errno));
		return -errno;
	}
	log_info("rdma: %s: accepted host queue (QP 0x%x): %u requests, %u READs",
		 c->dev->name, c->qp_num, c->qp.depth, c->qp.max_reads);
	return 0;
}

static void cm_reject(struct rdma_cm_id *id, int sts)
{
	struct nvmf_rdma_cm_rej rej = { .recfmt = 0, .sts = htole16(sts) };

	if (rdma_reject(id, &rej, sizeof(rej)))
		log_err("rdma: rdma_reject failed: %s", strerror(errno));
	if (rdma_destroy_id(id))
		log_err("rdma: rdma_destroy_id failed: %s", strerror(errno));
}

static void cm_connect(struct nvmf_rdma_transport *rt, struct rdma_cm_id *id,
		       const struct rdma_conn_param *host)
{
	struct nvmf_rdma_device *dev = nvmf_rdma_device_find(rt, id->verbs);
	struct nvmf_rdma_group *g;
	uint16_t qid = 0, depth = 0;
	int sts;

	if (!dev || dev->removed || rt->destroying) {
		log_err("rdma: connect request on a device we do not serve");
		cm_reject(id, NVMF_RDMA_REJ_NO_RESOURCES);
		return;
	}
	sts = nvmf_rdma_cm_check(host->private_data, host->private_data_len,
				 &rt->t.opts, &qid, &depth);
	if (sts) {
		log_err("rdma: %s: rejecting host queue %u: %s", dev->name, qid,
			rej_str(sts));
		cm_reject(id, sts);
		return;
	}
	g = nvmf_rdma_group_pick(rt, qid);
	if (g)
		nvmf_rdma_group_accept(g, id, qid, depth, host);
	else
		nvmf_rdma_conn_start(dev, id, qid, depth, host);
}

void nvmf_rdma_conn_start(struct nvmf_rdma_device *dev, struct rdma_cm_id *id,
			  uint16_t qid, uint16_t depth, const struct rdma_conn_param *host)
{
	struct nvmf_rdma_conn *c = conn_create(dev, id, depth, host);

	if (!c) {
		cm_reject(id, NVMF_RDMA_REJ_NO_RESOURCES);
		return;
	}
	if (conn_accept(c, host)) {
		c->cm_gone = true;
		nvmf_rdma_conn_disconnect(c, "accept failed");
		return;
	}
	c->cm_qid = qid;
	c->counted = true;
	if (qid)
		dev->stats.io_qpairs++;
	else
		dev->stats.admin_qpairs++;
	if (dev->group)
		log_info("rdma: %s: host queue %u (QP 0x%x) on poll group %d (CPU %d)",
			 dev->name, qid, c->qp_num, dev->group->idx, dev->group->cpu);
}

/* ---- Listeners ---- */

static struct nvmf_rdma_listener *listener_find(struct nvmf_rdma_transport *rt,
						const struct nvmf_listen_addr *a)
{
	struct nvmf_rdma_listener *l;

	TAILQ_FOREACH(l, &rt->listeners, link)
		if (!strcasecmp(l->addr.adrfam, a->adrfam) &&
		    !strcmp(l->addr.traddr, a->traddr) &&
		    !strcmp(l->addr.trsvcid, a->trsvcid))
			return l;
	return NULL;
}

static int listen_family(const struct nvmf_listen_addr *a)
{
	if (!strcasecmp(a->adrfam, "IPv4"))
		return AF_INET;
	if (!strcasecmp(a->adrfam, "IPv6"))
		return AF_INET6;
	return -1;
}

/* Bind and listen; quiet (a retry): failures are not logged. */
static int listener_bind(struct nvmf_rdma_listener *l, const struct addrinfo *ai,
			 bool quiet)
{
	const struct nvmf_listen_addr *a = &l->addr;
	int backlog = l->rt->t.opts.acceptor_backlog;

	if (rdma_create_id(l->rt->cm_channel, &l->id, &l->cm_type, RDMA_PS_TCP)) {
		log_err("rdma: rdma_create_id failed: %s", strerror(errno));
		return -errno;
	}
	if (rdma_bind_addr(l->id, ai->ai_addr)) {
		if (!quiet)
			log_err("rdma: cannot bind %s:%s: %s (is the address on an interface "
				"with an RDMA device? see 'rdma link show')", a->traddr,
				a->trsvcid, strerror(errno));
		return -errno;
	}
	if (rdma_listen(l->id, backlog > 0 ? backlog : 100)) {
		if (!quiet)
			log_err("rdma: rdma_listen on %s:%s failed: %s", a->traddr,
				a->trsvcid, strerror(errno));
		return -errno;
	}
	if (l->id->verbs && !nvmf_rdma_device_find(l->rt, l->id->verbs))
		log_warn("rdma: %s:%s is on a device that could not be set up", a->traddr,
			 a->trsvcid);
	return 0;
}

static void listener_free(struct nvmf_rdma_listener *l)
{
	if (l->id && rdma_destroy_id(l->id))
		log_err("rdma: rdma_destroy_id (listener) failed: %s", strerror(errno));
	free(l);
}

/* Resolve the address and listen on it: 0 or -errno; l->id NULL on failure. */
static int listener_open(struct nvmf_rdma_listener *l, bool quiet)
{
	const struct nvmf_listen_addr *a = &l->addr;
	struct addrinfo hints = { 0 }, *ai = NULL;
	int rc;

	hints.ai_family = listen_family(a);
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	rc = getaddrinfo(a->traddr, a->trsvcid, &hints, &ai);
	if (rc) {
		log_err("rdma: listen address %s:%s: %s", a->traddr, a->trsvcid,
			gai_strerror(rc));
		return -EINVAL;
	}
	rc = listener_bind(l, ai, quiet);
	freeaddrinfo(ai);
	if (rc && l->id) {
		if (rdma_destroy_id(l->id))
			log_err("rdma: rdma_destroy_id (listener) failed: %s", strerror(errno));
		l->id = NULL;
	}
	return rc;
}

static const char *listener_dev(const struct nvmf_rdma_listener *l)
{
	return l->id->verbs ? ibv_get_device_name(l->id->verbs->device) : "all devices";
}

int nvmf_rdma_listen(struct nvmf_transport *t, const struct nvmf_listen_addr *a)
{
	struct nvmf_rdma_transport *rt = (struct nvmf_rdma_transport *)t;
	struct nvmf_rdma_listener *l;
	int rc;

	l = listener_find(rt, a);
	if (l) {
		l->refs++;
		return 0;
	}
	if (strcasecmp(a->trtype, "RDMA") || listen_family(a) < 0) {
		log_err("rdma: cannot listen on trtype '%s' adrfam '%s' (RDMA, IPv4/IPv6)",
			a->trtype, a->adrfam);
		return -EINVAL;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->cm_type = NVMF_RDMA_CM_LISTENER;
	l->rt = rt;
	l->addr = *a;
	l->refs = 1;
	rc = listener_open(l, false);
	if (rc) {
		listener_free(l);
		return rc;
	}
	TAILQ_INSERT_TAIL(&rt->listeners, l, link);
	log_notice("rdma: listening on %s:%s (%s)", a->traddr, a->trsvcid, listener_dev(l));
	return 0;
}

#define LISTEN_RETRY_US	1000000

void nvmf_rdma_listen_retry(struct nvmf_rdma_transport *rt, uint64_t delay_us)
{
	if (rt->retry_timer && !rt->destroying)
		nvmf_timer_arm(rt->retry_timer, nvmf_now_us() + delay_us);
}

/*
 * A listener whose device went away listens again as soon as a device with
 * its address is there: look for new devices, then bind; every second until
 * every listener is back.
 */
void nvmf_rdma_listen_retry_fn(void *arg)
{
	struct nvmf_rdma_transport *rt = arg;
	struct nvmf_rdma_listener *l;
	bool lost = false;

	nvmf_rdma_devices_rescan(rt);
	TAILQ_FOREACH(l, &rt->listeners, link) {
		if (l->id)
			continue;
		if (listener_open(l, true)) {
			lost = true;
			continue;
		}
		log_notice("rdma: listening again on %s:%s (%s)", l->addr.traddr,
			   l->addr.trsvcid, listener_dev(l));
	}
	if (lost)
		nvmf_rdma_listen_retry(rt, LISTEN_RETRY_US);
}

void nvmf_rdma_stop_listen(struct nvmf_transport *t, const struct nvmf_listen_addr *a)
{
	struct nvmf_rdma_transport *rt = (struct nvmf_rdma_transport *)t;
	struct nvmf_rdma_listener *l = listener_find(rt, a);

	if (!l || --l->refs)
		return;
	TAILQ_REMOVE(&rt->listeners, l, link);
	log_notice("rdma: stopped listening on %s:%s", a->traddr, a->trsvcid);
	listener_free(l);
}

/* The address the host connected to: the listener that accepted it. */
int nvmf_rdma_qpair_local_addr(const struct nvmf_qpair *qp, struct nvmf_listen_addr *a)
{
	const struct nvmf_rdma_conn *c = (const struct nvmf_rdma_conn *)qp;
	struct sockaddr *sa;
	char host[64], serv[32];

	if (!c->cm_id)
		return -ENOTCONN;
	sa = rdma_get_local_addr(c->cm_id);
	if (getnameinfo(sa, sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) :
			sizeof(struct sockaddr_in), host, sizeof(host), serv, sizeof(serv),
			NI_NUMERICHOST | NI_NUMERICSERV))
		return -EINVAL;
	memset(a, 0, sizeof(*a));
	strcpy(a->trtype, "RDMA");
	strcpy(a->adrfam, sa->sa_family == AF_INET6 ? "IPv6" : "IPv4");
	snprintf(a->traddr, sizeof(a->traddr), "%s", host);
	snprintf(a->trsvcid, sizeof(a->trsvcid), "%s", serv);
	return 0;
}

void nvmf_rdma_listeners_destroy(struct nvmf_rdma_transport *rt)
{
	struct nvmf_rdma_listener *l;

	while ((l = TAILQ_FIRST(&rt->listeners))) {
		TAILQ_REMOVE(&rt->listeners, l, link);
		listener_free(l);
	}
}

/* ---- rdma_cm events ---- */

void nvmf_rdma_device_removed(struct nvmf_rdma_transport *rt, struct ibv_context *ctx)
{
	struct nvmf_rdma_device *dev = nvmf_rdma_device_find(rt, ctx);
	struct nvmf_rdma_listener *l;
	struct nvmf_rdma_conn *c;

	TAILQ_FOREACH(l, &rt->listeners, link) {
		if (l->id && l->id->verbs == ctx) {
			log_err("rdma: %s:%s lost its RDMA device: not listening until it "
				"comes back", l->addr.traddr, l->addr.trsvcid);
			if (rdma_destroy_id(l->id))
				log_err("rdma: rdma_destroy_id failed: %s", strerror(errno));
			l->id = NULL;
		}
	}
	if (!dev || dev->removed)
		return;
	log_err("rdma: device %s removed: closing its host queues", dev->name);
	dev->removed = true;
	TAILQ_FOREACH(c, &dev->conns, link)
		nvmf_rdma_conn_disconnect(c, "device removed");
	nvmf_rdma_groups_device_removed(rt, dev);
}

/* Removed devices whose queues are all gone: release them. */
static void devices_gc(struct nvmf_rdma_transport *rt)
{
	struct nvmf_rdma_device *dev, *next;
	bool released = false;

	for (dev = TAILQ_FIRST(&rt->devices); dev; dev = next) {
		next = TAILQ_NEXT(dev, link);
		if (!dev->removed || !TAILQ_EMPTY(&dev->conns) || dev->clones)
			continue;
		TAILQ_REMOVE(&rt->devices, dev, link);
		log_notice("rdma: device %s released", dev->name);
		nvmf_rdma_device_free(dev);
		released = true;
	}
	/* Let librdmacm close it; listen again once a device has the address. */
	if (released)
		nvmf_rdma_listen_retry(rt, 0);
}

static struct nvmf_rdma_conn *event_conn(struct rdma_cm_id *id)
{
	enum nvmf_rdma_cm_type *type = id ? id->context : NULL;

	if (!type || *type != NVMF_RDMA_CM_CONN)
		return NULL;
	return nvmf_rdma_container_of(type, struct nvmf_rdma_conn, cm_type);
}

void nvmf_rdma_cm_conn_event(struct rdma_cm_id *id, enum rdma_cm_event_type type,
			     int status)
{
	struct nvmf_rdma_conn *c = event_conn(id);

	if (!c)
		return;
	switch (type) {
	case RDMA_CM_EVENT_ESTABLISHED:
		log_info("rdma: %s: host queue QP 0x%x established", c->dev->name,
			 c->qp_num);
		break;
	case RDMA_CM_EVENT_DISCONNECTED:
		c->cm_gone = true;
		nvmf_rdma_conn_disconnect(c, "host disconnected");
		break;
	default:
		log_info("rdma: %s: QP 0x%x: %s (status %d)", c->dev->name, c->qp_num,
			 rdma_event_str(type), status);
		c->cm_gone = true;
		nvmf_rdma_conn_disconnect(c, rdma_event_str(type));
	}
}

struct cm_event_copy {
	enum rdma_cm_event_type type;
	int status;
	struct rdma_cm_id *id;
	struct rdma_conn_param conn;
	uint8_t pdata[CM_PDATA_MAX];
};

static void cm_event(struct nvmf_rdma_transport *rt, struct rdma_cm_event *ev)
{
	struct cm_event_copy e = { ev->event, ev->status, ev->id, ev->param.conn, { 0 } };

	if (ev->event == RDMA_CM_EVENT_CONNECT_REQUEST && ev->param.conn.private_data) {
		memcpy(e.pdata, ev->param.conn.private_data, e.conn.private_data_len);
		e.conn.private_data = e.pdata;
	}
	/* Ack first: rdma_destroy_id waits for every event of its id to be acked. */
	if (rdma_ack_cm_event(ev))
		log_err("rdma: rdma_ack_cm_event failed: %s", strerror(errno));
	switch (e.type) {
	case RDMA_CM_EVENT_CONNECT_REQUEST:
		cm_connect(rt, e.id, &e.conn);
		break;
	case RDMA_CM_EVENT_DEVICE_REMOVAL:
		/* The queue first: device_removed may destroy a listener's id. */
		nvmf_rdma_cm_conn_event(e.id, e.type, e.status);
		nvmf_rdma_device_removed(rt, e.id->verbs);
		break;
	case RDMA_CM_EVENT_TIMEWAIT_EXIT:
		break;
	case RDMA_CM_EVENT_ADDR_CHANGE:
		log_warn("rdma: the address of an RDMA listener or queue changed");
		break;
	default:
		nvmf_rdma_cm_conn_event(e.id, e.type, e.status);
	}
}

#define CM_POLL_US 1000

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int nvmf_rdma_cm_poll(void *arg)
{
	struct nvmf_rdma_transport *rt = arg;
	struct rdma_cm_event *ev;
	uint64_t now = now_us();
	int n = 0;

	/*
	 * Connection events are rare: while the loop is busy, look at most
	 * once per CM_POLL_US (a read system call each time). An event that
	 * waits makes the channel's fd readable, so the loop never sleeps on it.
	 */
	if (now - rt->cm_polled_us < CM_POLL_US)
		return 0;
	rt->cm_polled_us = now;
	while (!rdma_get_cm_event(rt->cm_channel, &ev)) {
		cm_event(rt, ev);
		n++;
	}
	if (errno != EAGAIN && errno != EWOULDBLOCK)
		log_err("rdma: rdma_get_cm_event failed: %s", strerror(errno));
	/* Every call: a removed device's last queue goes from its own poller. */
	devices_gc(rt);
	return n;
}
