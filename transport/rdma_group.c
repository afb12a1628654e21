/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Poll groups of the RDMA transport: with more than one CPU (-m), group 0
 * is the main thread and every other CPU runs a thread of its own
 * (target/thread.h) with, per device, its own completion channel, CQ,
 * shared receive queue and host queues, and its own cache of the
 * transport's data buffers.
 *
 * A host queue is placed when it connects, by its queue id (group_pick).
 * The main thread takes the connect request (its listeners), checks it,
 * moves the CM id to the group's event channel (rdma_migrate_id: the id's
 * later events are the group's alone) and hands it over; the group creates
 * the QP on its CQ and accepts. From then on every verbs call of the queue,
 * every completion and every CM event is the group's.
 *
 * Controllers, subsystems and namespaces have one owner, the main thread.
 * A connected I/O queue's commands run on its group (nvmf_group_req_exec:
 * the core's I/O path on this thread); the rest (Connect, admin queues)
 * go to the main thread to run (io->exec, io->fail), and the core's
 * answers (ops->req_complete, ops->qpair_disconnect) come back by message.
 * While any command of a queue is at the main thread, the queue's next
 * ones go there too, so a queue's commands never run on two threads at
 * once. The queue's nvmf_qpair_fini goes to the main thread as well and the
 * group frees the queue once it is done. Nothing on these paths takes a
 * lock: mailboxes are DPDK rings.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memmap/env.h"
#include "memmap/log.h"
#include "target/thread.h"
#include "transport/rdma_int.h"

/* ---- Messages ---- */

static void send_or_wait(struct nvmf_mbox *m, nvmf_msg_fn fn, void *arg)
{
	/* Rings hold more than every request of a group: full means busy. */
	while (nvmf_mbox_send(m, fn, arg) == -ENOBUFS)
		sched_yield();
}

/* A group whose thread died (the target is going down) gets nothing more. */
static void to_group(struct nvmf_rdma_group *g, nvmf_msg_fn fn, void *arg)
{
	while (nvmf_thread_send(g->th, fn, arg) == -ENOBUFS) {
		if (!nvmf_thread_alive(g->th))
			return;
		sched_yield();
	}
}

static struct nvmf_rdma_transport *req_rt(const struct nvmf_req *req)
{
	return (struct nvmf_rdma_transport *)req->qpair->transport;
}

static _Thread_local struct nvmf_rdma_group *grp_self;

/* Group -> core. */
static void core_exec_msg(void *arg)
{
	nvmf_req_exec(arg);
}

static void core_fail_msg(void *arg)
{
	struct nvmf_rdma_req *r = arg;

	nvmf_req_fail(&r->req, r->fail_st);
}

static void grp_exec(struct nvmf_req *req)
{
	struct nvmf_rdma_conn *c = (struct nvmf_rdma_conn *)req->qpair;

	if (!c->forwarded && nvmf_group_req_exec(req))
		return;
	c->forwarded++;
	send_or_wait(req_rt(req)->main_mbox, core_exec_msg, req);
}

static void grp_fail(struct nvmf_req *req, nvme_status st)
{
	struct nvmf_rdma_req *r = nvmf_rdma_container_of(req, struct nvmf_rdma_req, req);
	struct nvmf_rdma_conn *c = (struct nvmf_rdma_conn *)req->qpair;

	if (!c->forwarded && nvmf_group_req_fail(req, st))
		return;
	c->forwarded++;
	r->fail_st = st;
	send_or_wait(req_rt(req)->main_mbox, core_fail_msg, r);
}

/* Only while the queue is the group's alone, as for exec. */
static bool grp_zcopy_start(struct nvmf_req *req)
{
	struct nvmf_rdma_conn *c = (struct nvmf_rdma_conn *)req->qpair;

	return !c->forwarded && nvmf_group_zcopy_start(req);
}

const struct nvmf_rdma_io_ops nvmf_rdma_io_grouped = {
	.post_send = nvmf_rdma_io_post_send,
	.post_recv = nvmf_rdma_io_post_recv,
	.qp_error = nvmf_rdma_io_qp_error,
	.xfer = nvmf_req_xfer,
	.exec = grp_exec,
	.fail = grp_fail,
	.zcopy_start = grp_zcopy_start,
	.zcopy_end = nvmf_group_zcopy_end,
};

/* Core -> group. */
static void conn_maybe_release(struct nvmf_rdma_conn *c)
{
	if (c->zombie && !c->fini_wait && c->qp.executing == 0)
		nvmf_rdma_conn_release(c);
}

static void grp_local_complete(struct nvmf_req *req)
{
	struct nvmf_rdma_conn *c = (struct nvmf_rdma_conn *)req->qpair;

	nvmf_rdma_req_complete(req);
	conn_maybe_release(c);
}

static void grp_complete_msg(void *arg)
{
	struct nvmf_req *req = arg;
	struct nvmf_rdma_conn *c = (struct nvmf_rdma_conn *)req->qpair;

	c->forwarded--;
	grp_local_complete(req);
}

/*
 * On the group's own thread (a command it ran, or at shutdown, grp_fini
 * with the main thread waiting) the answer is delivered at once; from the
 * main thread it comes by message.
 */
void nvmf_rdma_group_complete(struct nvmf_rdma_conn *c, struct nvmf_req *req)
{
	if (grp_self == c->dev->group)
		grp_local_complete(req);
	else
		to_group(c->dev->group, grp_complete_msg, req);
}

static void grp_disconnect_msg(void *arg)
{
	nvmf_rdma_conn_disconnect(arg, "asked by the core");
}

void nvmf_rdma_group_disconnect(struct nvmf_rdma_conn *c)
{
	if (grp_self == c->dev->group)
		grp_disconnect_msg(c);
	else
		to_group(c->dev->group, grp_disconnect_msg, c);
}

static void grp_fini_done_msg(void *arg)
{
	struct nvmf_rdma_conn *c = arg;

	c->fini_wait = false;
	conn_maybe_release(c);
}

static void core_fini_msg(void *arg)
{
	struct nvmf_rdma_conn *c = arg;

	nvmf_qpair_fini(&c->qp.qpair);
	to_group(c->dev->group, grp_fini_done_msg, c);
}

void nvmf_rdma_group_core_fini(struct nvmf_rdma_conn *c)
{
	send_or_wait(c->dev->rt->main_mbox, core_fini_msg, c);
}

/* ---- Placing a host queue ---- */

struct accept_msg {
	struct nvmf_rdma_group *g;
	struct rdma_cm_id *id;
	uint16_t qid, depth;
	struct rdma_conn_param host;
};

/*
 * Where a host queue runs: admin queues on the main thread, which runs admin
 * commands anyway; I/O queue k on group (k - 1) mod n. Each host's queues thus
 * spread evenly over the groups whatever the order hosts connect in, and a
 * host on this machine, whose CPU k - 1 submits to queue k, has that queue's
 * work done beside it, as the kernel target does it in the submitter's softirq.
 */
struct nvmf_rdma_group *nvmf_rdma_group_pick(struct nvmf_rdma_transport *rt, uint16_t qid)
{
	if (rt->ngroups <= 1 || !qid)
		return NULL;
	return rt->groups[(qid - 1u) % (unsigned int)rt->ngroups];	/* [0]: NULL, the main thread */
}

static struct nvmf_rdma_device *group_device(struct nvmf_rdma_group *g,
					     struct ibv_context *ctx)
{
	struct nvmf_rdma_device *dev;

	TAILQ_FOREACH(dev, &g->devices, link)
		if (dev->ctx == ctx && !dev->removed)
			return dev;
	return NULL;
}

static void grp_accept_msg(void *arg)
{
	struct accept_msg *m = arg;
	struct nvmf_rdma_device *dev = group_device(m->g, m->id->verbs);

	if (!dev) {
		log_err("rdma: poll group %d has no queues on that device", m->g->idx);
		rdma_reject(m->id, NULL, 0);
		rdma_destroy_id(m->id);
	} else {
		nvmf_rdma_conn_start(dev, m->id, m->qid, m->depth, &m->host);
	}
	free(m);
}

void nvmf_rdma_group_accept(struct nvmf_rdma_group *g, struct rdma_cm_id *id, uint16_t qid,
			    uint16_t depth, const struct rdma_conn_param *host)
{
	struct accept_msg *m = calloc(1, sizeof(*m));

	if (!m || rdma_migrate_id(id, g->cm_channel)) {
		log_err("rdma: cannot hand a host queue to poll group %d: %s", g->idx,
			m ? strerror(errno) : "no memory");
		free(m);
		rdma_reject(id, NULL, 0);
		rdma_destroy_id(id);
		return;
	}
	*m = (struct accept_msg){ .g = g, .id = id, .qid = qid, .depth = depth,
				  .host = *host };
	m->host.private_data = NULL;	/* checked already; not kept */
	m->host.private_data_len = 0;
	to_group(g, grp_accept_msg, m);
}

/* ---- Devices coming and going ---- */

struct dev_msg {
	struct nvmf_rdma_group *g;
	struct nvmf_rdma_device *primary;
};

static void core_clone_gone_msg(void *arg)
{
	struct nvmf_rdma_device *p = arg;

	p->clones--;	/* the primary may go now (devices_gc) */
}

/* A removed clone whose queues are all gone is freed; the primary told. */
static void grp_gc(struct nvmf_rdma_group *g)
{
	struct nvmf_rdma_device *dev, *next;

	for (dev = TAILQ_FIRST(&g->devices); dev; dev = next) {
		next = TAILQ_NEXT(dev, link);
		if (!dev->removed || !TAILQ_EMPTY(&dev->conns))
			continue;
		TAILQ_REMOVE(&g->devices, dev, link);
		send_or_wait(g->rt->main_mbox, core_clone_gone_msg, dev->primary);
		nvmf_rdma_device_free(dev);
	}
}

static void grp_device_removed_msg(void *arg)
{
	struct dev_msg *m = arg;
	struct nvmf_rdma_device *dev;
	struct nvmf_rdma_conn *c;

	TAILQ_FOREACH(dev, &m->g->devices, link) {
		if (dev->primary != m->primary || dev->removed)
			continue;
		dev->removed = true;
		TAILQ_FOREACH(c, &dev->conns, link)
			nvmf_rdma_conn_disconnect(c, "device removed");
	}
	grp_gc(m->g);
	free(m);
}

static void grp_clone_msg(void *arg)
{
	struct dev_msg *m = arg;

	if (nvmf_rdma_device_clone(m->g, m->primary))
		send_or_wait(m->g->rt->main_mbox, core_clone_gone_msg, m->primary);
	free(m);
}

static void to_every_group(struct nvmf_rdma_transport *rt, struct nvmf_rdma_device *p,
			   nvmf_msg_fn fn)
{
	for (int i = 1; i < rt->ngroups; i++) {
		struct dev_msg *m = rt->groups[i] ? malloc(sizeof(*m)) : NULL;

		if (!m)
			continue;
		*m = (struct dev_msg){ rt->groups[i], p };
		to_group(rt->groups[i], fn, m);
	}
}

void nvmf_rdma_groups_device_removed(struct nvmf_rdma_transport *rt,
				     struct nvmf_rdma_device *p)
{
	to_every_group(rt, p, grp_device_removed_msg);
}

void nvmf_rdma_groups_device_added(struct nvmf_rdma_transport *rt,
				   struct nvmf_rdma_device *p)
{
	for (int i = 1; i < rt->ngroups; i++)
		p->clones += rt->groups[i] != NULL;
	to_every_group(rt, p, grp_clone_msg);
}

/* ---- A group's own CM events: its queues' ---- */

static int grp_cm_poll(void *arg)
{
	struct nvmf_rdma_group *g = arg;
	struct rdma_cm_event *ev;
	int n = 0;

	while (!rdma_get_cm_event(g->cm_channel, &ev)) {
		struct rdma_cm_id *id = ev->id;
		enum rdma_cm_event_type type = ev->event;
		int status = ev->status;

		if (rdma_ack_cm_event(ev))
			log_err("rdma: rdma_ack_cm_event failed: %s", strerror(errno));
		if (type != RDMA_CM_EVENT_TIMEWAIT_EXIT)
			nvmf_rdma_cm_conn_event(id, type, status);
		n++;
	}
	grp_gc(g);
	return n;
}

/* ---- Group threads ---- */

static void grp_fini(void *arg);

static int grp_setup(struct nvmf_rdma_group *g)
{
	struct nvmf_rdma_transport *rt = g->rt;
	struct nvmf_rdma_device *p;
	int fl, rc;
	char name[32];

	g->cm_channel = rdma_create_event_channel();
	if (!g->cm_channel)
		return -ENODEV;
	fl = fcntl(g->cm_channel->fd, F_GETFL);
	if (fl < 0 || fcntl(g->cm_channel->fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	snprintf(name, sizeof(name), "rdma_cm:pg%d", g->idx);
	g->cm_poller = nvmf_poller_add(rt->t.tgt, name, grp_cm_poll, NULL,
				       g->cm_channel->fd, g);
	if (!g->cm_poller)
		return -ENOMEM;
	rc = nvmf_rdma_pool_init_shared(&g->pool, &rt->bufs, rt->cache_size);
	if (rc)
		return rc;
	TAILQ_FOREACH(p, &rt->devices, link) {
		if (p->removed)
			continue;
		rc = nvmf_rdma_device_clone(g, p);
		if (rc)
			return rc;
		p->clones++;	/* the main thread waits in nvmf_thread_start */
	}
	return 0;
}

/* On the new thread: a failure is undone here, where its pollers live. */
static int grp_init(void *arg)
{
	struct nvmf_rdma_group *g = arg;
	int rc;

	grp_self = g;
	nvmf_poll_group_bind(g->pg);
	rc = grp_setup(g);

	if (rc)
		grp_fini(g);
	return rc;
}

/* On the group's thread, the main thread waiting in nvmf_thread_stop. */
static void grp_fini(void *arg)
{
	struct nvmf_rdma_group *g = arg;
	struct nvmf_rdma_device *dev;
	struct nvmf_rdma_conn *c;

	while ((dev = TAILQ_FIRST(&g->devices))) {
		TAILQ_FOREACH(c, &dev->conns, link)
			nvmf_rdma_conn_disconnect(c, "target shutting down");
		nvmf_rdma_conns_reap(dev);
		while ((c = TAILQ_FIRST(&dev->conns))) {
			log_warn("rdma: poll group %d: qid %u: %u requests still in the core "
				 "at shutdown", g->idx, c->qp.qpair.qid, c->qp.executing);
			nvmf_rdma_conn_release(c);
		}
		TAILQ_REMOVE(&g->devices, dev, link);
		dev->primary->clones--;
		nvmf_rdma_device_free(dev);
	}
	if (g->cm_poller)
		nvmf_poller_del(g->rt->t.tgt, g->cm_poller);
	g->cm_poller = NULL;
	nvmf_poll_group_unbind(g->pg);
	grp_self = NULL;
}

static void group_free(struct nvmf_rdma_group *g)
{
	if (g->pool.free)
		nvmf_rdma_pool_fini(&g->pool);
	if (g->cm_channel)
		rdma_destroy_event_channel(g->cm_channel);
	nvmf_poll_group_destroy(g->pg);
	free(g);
}

int nvmf_rdma_groups_start(struct nvmf_rdma_transport *rt)
{
	int cpus[NVMF_MAX_POLL_GROUPS], n, i;
	char name[16];

	if (rt->ngroups <= 1)
		return 0;
	n = nvmf_tgt_poll_group_cpus(rt->t.tgt, cpus, NVMF_MAX_POLL_GROUPS);
	for (i = 1; i < n; i++) {
		struct nvmf_rdma_group *g = calloc(1, sizeof(*g));

		if (!g)
			return -ENOMEM;
		g->rt = rt;
		g->idx = i;
		g->cpu = cpus[i];
		TAILQ_INIT(&g->devices);
		g->pg = nvmf_poll_group_create(rt->t.tgt, i);
		if (!g->pg) {
			free(g);
			return -ENOMEM;
		}
		snprintf(name, sizeof(name), "nvmf_pg%d", i % NVMF_MAX_POLL_GROUPS);
		g->th = nvmf_thread_start(rt->t.tgt, name, cpus[i], grp_init, g);
		if (!g->th) {
			group_free(g);
			return -EIO;
		}
		nvmf_poll_group_started(g->pg, g->th);
		rt->groups[i] = g;
		log_notice("rdma: poll group %d on CPU %d", i, cpus[i]);
	}
	return 0;
}

void nvmf_rdma_groups_stop(struct nvmf_rdma_transport *rt)
{
	for (int i = 1; i < rt->ngroups; i++) {
		struct nvmf_rdma_group *g = rt->groups[i];

		if (!g)
			continue;
		nvmf_poll_group_started(g->pg, NULL);	/* no more pauses to it */
		if (nvmf_thread_stop(g->th, grp_fini, g))
			log_err("rdma: poll group %d: its loop had failed", i);
		group_free(g);
		rt->groups[i] = NULL;
	}
}

int nvmf_rdma_groups_stats(struct nvmf_rdma_transport *rt,
			   struct nvmf_transport_dev_stats *out, int max)
{
	struct nvmf_rdma_device *dev;
	int n = 0;

	/* Counters another thread writes: a snapshot, good to a few counts. */
	for (int i = 1; i < rt->ngroups; i++) {
		if (!rt->groups[i])
			continue;
		TAILQ_FOREACH(dev, &rt->groups[i]->devices, link) {
			if (n == max)
				return n;
			out[n] = dev->stats;
			snprintf(out[n].name, sizeof(out[n].name), "%s", dev->name);
			out[n].group = i;
			n++;
		}
	}
	return n;
}
