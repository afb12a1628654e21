/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Poll groups on threads of their own: the core's side (issue 11).
 *
 * Once an I/O queue of a group is connected (its Connect ran on the main
 * thread and recorded the subsystem and host in the queue), the group runs
 * that queue's commands itself: the I/O path stays on the group's thread
 * and takes no lock. The main thread keeps everything else: admin queues,
 * Connect, controllers, and every change of a subsystem.
 *
 * The main thread changes a subsystem's namespaces only while the
 * subsystem is paused on every group (SPDK's pause/resume): each group is
 * told by message, holds the subsystem's new commands and answers once its
 * commands in flight are done; resume lets the held ones run against the
 * new state. The main thread waits for every answer (a pause lasts as long
 * as the slowest I/O in flight), so an RPC answers once its change holds
 * everywhere, and the groups read namespaces without copies or locks.
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "memmap/log.h"
#include "target/core.h"
#include "target/thread.h"

static _Thread_local struct nvmf_poll_group *pg_self;

struct nvmf_poll_group *nvmf_poll_group_self(void)
{
	return pg_self;
}

int nvmf_thread_index(void)
{
	return pg_self ? pg_self->idx : 0;
}

/* ---- Life ---- */

struct nvmf_poll_group *nvmf_poll_group_create(struct nvmf_tgt *tgt, int idx)
{
	struct nvmf_poll_group *pg;

	if (idx < 1 || idx >= NVMF_MAX_POLL_GROUPS || tgt->pgroups[idx])
		return NULL;
	pg = calloc(1, sizeof(*pg));
	if (!pg)
		return NULL;
	pg->tgt = tgt;
	pg->idx = idx;
	tgt->pgroups[idx] = pg;
	return pg;
}

void nvmf_poll_group_started(struct nvmf_poll_group *pg, struct nvmf_thread *th)
{
	pg->th = th;
}

void nvmf_poll_group_bind(struct nvmf_poll_group *pg)
{
	pg_self = pg;
}

void nvmf_poll_group_unbind(struct nvmf_poll_group *pg)
{
	(void)pg;
	bdev_thread_fini();
	pg_self = NULL;
}

void nvmf_poll_group_destroy(struct nvmf_poll_group *pg)
{
	if (!pg)
		return;
	pg->tgt->pgroups[pg->idx] = NULL;
	free(pg);
}

/* ---- Commands on a group ---- */

static bool group_owns(const struct nvmf_qpair *qp)
{
	return pg_self && qp->group == pg_self && qp->io_subsys;
}

/* A connected I/O queue: what the main thread would answer, without it. */
static nvme_status group_parse(struct nvmf_req *req)
{
	const struct nvme_cmd *cmd = req->cmd;
	struct nvmf_qpair *qp = req->qpair;

	if (cmd->flags & 0x3) {
		log_info("qid %u: fused command refused", qp->qid);
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	if (cmd->opc == NVME_OPC_FABRICS) {
		if (nvme_cmd_fctype(cmd) == NVMF_FCTYPE_CONNECT) {
			log_info("qid %u: second Connect", qp->qid);
			return NVME_SC_CMD_SEQ_ERROR | NVME_DNR;
		}
		log_info("qid %u: fabrics command type 0x%x not supported", qp->qid,
			 nvme_cmd_fctype(cmd));
		return NVME_SC_INVALID_OPCODE | NVME_DNR;
	}
	return nvmf_io_parse(req);
}

static void group_run(struct nvmf_req *req, struct nvmf_subsys_grp *sg)
{
	nvme_status st = group_parse(req);

	if (st || !req->core_exec) {
		nvmf_req_complete(req, st);
		return;
	}
	sg->outstanding++;
	req->core_sg = sg;
	req->core_exec(req);
}

/*
 * Paused, new commands wait. One whose data is already mapped (zero copy)
 * runs: it counts as in flight, so the main thread is still waiting for
 * this group's answer and has changed nothing yet.
 */
bool nvmf_group_req_exec(struct nvmf_req *req)
{
	struct nvmf_qpair *qp = req->qpair;
	struct nvmf_subsys_grp *sg;

	if (!group_owns(qp))
		return false;
	nvmf_req_start(req);
	sg = &qp->io_subsys->grp[pg_self->idx];
	if (sg->paused && !req->core_zsg)
		nvmf_req_fifo_push(&sg->held_head, &sg->held_tail, req);
	else
		group_run(req, sg);
	return true;
}

bool nvmf_group_req_fail(struct nvmf_req *req, nvme_status status)
{
	if (!group_owns(req->qpair))
		return false;
	nvmf_req_fail(req, status);
	return true;
}

static void pause_answer(struct nvmf_tgt *tgt)
{
	atomic_fetch_add_explicit(&tgt->grp_acks, 1, memory_order_release);
}

void nvmf_group_req_done(struct nvmf_subsys_grp *sg)
{
	if (--sg->outstanding == 0 && sg->ack_drained) {
		sg->ack_drained = false;
		pause_answer(pg_self->tgt);
	}
}

bool nvmf_group_zcopy_start(struct nvmf_req *req)
{
	struct nvmf_qpair *qp = req->qpair;
	struct nvmf_subsys_grp *sg;

	if (!group_owns(qp))
		return false;
	sg = &qp->io_subsys->grp[pg_self->idx];
	if (sg->paused || !nvmf_io_zcopy_map(req))
		return false;
	sg->outstanding++;
	req->core_zsg = sg;
	return true;
}

void nvmf_group_zcopy_end(struct nvmf_req *req)
{
	struct nvmf_subsys_grp *sg = req->core_zsg;

	if (!sg)
		return;
	req->core_zsg = NULL;
	req->core_zcopy = NULL;
	nvmf_group_req_done(sg);
}

/* ---- Pause and resume (messages to each group) ---- */

static void pause_msg(void *arg)
{
	struct nvmf_subsystem *s = arg;
	struct nvmf_subsys_grp *sg = &s->grp[pg_self->idx];

	sg->paused = true;
	if (sg->outstanding)
		sg->ack_drained = true;
	else
		pause_answer(pg_self->tgt);
}

static void resume_msg(void *arg)
{
	struct nvmf_subsystem *s = arg;
	struct nvmf_tgt *tgt = pg_self->tgt;
	struct nvmf_subsys_grp *sg = &s->grp[pg_self->idx];
	struct nvmf_req *req = sg->held_head, *next;

	sg->paused = false;
	sg->held_head = sg->held_tail = NULL;
	for (; req; req = next) {
		next = req->core_next;
		if (s->deleted)
			nvmf_req_complete(req, NVME_SC_ABORTED_SQ_DELETION);
		else
			group_run(req, sg);
	}
	pause_answer(tgt);
}

/* Send fn(arg) to every running group and wait for each one's answer. */
static void groups_round(struct nvmf_tgt *tgt, nvmf_msg_fn fn, void *arg)
{
	_Atomic unsigned int *acks = &tgt->grp_acks;
	struct nvmf_thread *th[NVMF_MAX_POLL_GROUPS];
	unsigned int n = 0;

	atomic_store_explicit(acks, 0, memory_order_relaxed);
	for (int i = 1; i < NVMF_MAX_POLL_GROUPS; i++) {
		struct nvmf_poll_group *pg = tgt->pgroups[i];

		if (!pg || !pg->th || !nvmf_thread_alive(pg->th))
			continue;
		while (nvmf_thread_send(pg->th, fn, arg) == -ENOBUFS)
			sched_yield();
		th[n++] = pg->th;
	}
	while (atomic_load_explicit(acks, memory_order_acquire) < n) {
		for (unsigned int i = 0; i < n; i++) {
			if (!nvmf_thread_alive(th[i]))
				return;	/* the target is going down (thread.h) */
		}
		sched_yield();
	}
}

void nvmf_subsystem_pause(struct nvmf_subsystem *s)
{
	if (!s->grp || s->pause_depth++)
		return;
	groups_round(s->tgt, pause_msg, s);
}

void nvmf_subsystem_resume(struct nvmf_subsystem *s)
{
	if (!s->grp || --s->pause_depth)
		return;
	groups_round(s->tgt, resume_msg, s);
}

static void barrier_msg(void *arg)
{
	(void)arg;
	pause_answer(pg_self->tgt);
}

void nvmf_groups_barrier(struct nvmf_tgt *tgt)
{
	groups_round(tgt, barrier_msg, NULL);
}
