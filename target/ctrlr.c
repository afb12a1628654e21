/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Controllers and queue pairs: the request entry points a transport calls,
 * the one completion path, controller registers (properties), keep-alive
 * and asynchronous events.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memmap/log.h"
#include "target/core.h"

/* ---- Requests ---- */

enum nvmf_xfer nvmf_req_xfer(const struct nvmf_req *req)
{
	const struct nvme_cmd *cmd = req->cmd;
	uint8_t bits = cmd->opc == NVME_OPC_FABRICS ? nvme_cmd_fctype(cmd) : cmd->opc;

	/* The two low bits of an opcode (or fctype) give the direction. */
	switch (bits & 0x3) {
	case 1:
		return NVMF_XFER_HOST_TO_CTRLR;
	case 2:
		return NVMF_XFER_CTRLR_TO_HOST;
	case 3:
		return NVMF_XFER_BIDIRECTIONAL;
	default:
		return NVMF_XFER_NONE;
	}
}

void nvmf_req_start(struct nvmf_req *req)
{
	struct nvmf_qpair *qp = req->qpair;

	qp->outstanding++;
	/* The command left the submission queue: advance its head. */
	qp->sqhd = qp->sqsize ? (uint16_t)((qp->sqhd + 1) % (qp->sqsize + 1u)) : 0;
	memset(req->cpl, 0, sizeof(*req->cpl));
	req->core_exec = NULL;
	req->core_next = NULL;
	req->core_sg = NULL;
}

void nvmf_req_complete(struct nvmf_req *req, nvme_status st)
{
	struct nvmf_qpair *qp = req->qpair;
	struct nvme_cpl *cpl = req->cpl;
	struct nvmf_subsys_grp *sg = req->core_sg;

	cpl->cid = req->cmd->cid;
	cpl->sqid = qp->qid;
	cpl->sqhd = qp->sqhd;
	cpl->status = nvme_cpl_status_field(st);
	qp->outstanding--;
	req->core_sg = NULL;
	qp->transport->ops->req_complete(req);
	/* Only now may a pause that waits for it answer. */
	if (sg)
		nvmf_group_req_done(sg);
}

void nvmf_req_fail(struct nvmf_req *req, nvme_status status)
{
	nvmf_req_start(req);
	nvmf_req_complete(req, status);
}

static nvme_status ctrlr_ready(const struct nvmf_qpair *qp)
{
	const struct nvmf_ctrlr *c = qp->ctrlr;

	if (!c) {
		log_info("qid %u: command before Connect", qp->qid);
		return NVME_SC_CMD_SEQ_ERROR | NVME_DNR;
	}
	if (!(c->csts & NVME_CSTS_RDY)) {
		log_info("cntlid %u: command while the controller is disabled", c->cntlid);
		return NVME_SC_CMD_SEQ_ERROR | NVME_DNR;
	}
	return 0;
}

void nvmf_req_exec(struct nvmf_req *req)
{
	struct nvmf_qpair *qp = req->qpair;
	const struct nvme_cmd *cmd = req->cmd;
	nvme_status st;

	nvmf_req_start(req);
	if (cmd->flags & 0x3) {
		log_info("qid %u: fused command refused", qp->qid);
		st = NVME_SC_INVALID_FIELD | NVME_DNR;
	} else if (cmd->opc == NVME_OPC_FABRICS) {
		st = nvmf_fabrics_parse(req);
	} else if ((st = ctrlr_ready(qp)) == 0) {
		st = qp->qid ? nvmf_io_parse(req) : nvmf_admin_parse(req);
	}
	if (st || !req->core_exec) {
		nvmf_req_complete(req, st);
		return;
	}
	req->core_exec(req);
}

static size_t req_copy(struct nvmf_req *req, void *buf, size_t len, bool to_req)
{
	size_t done = 0;

	for (int i = 0; i < req->iovcnt && done < len; i++) {
		size_t n = req->iov[i].iov_len;

		if (n > len - done)
			n = len - done;
		if (to_req)
			memcpy(req->iov[i].iov_base, (char *)buf + done, n);
		else
			memcpy((char *)buf + done, req->iov[i].iov_base, n);
		done += n;
	}
	return done;
}

size_t nvmf_req_copy_to(struct nvmf_req *req, const void *buf, size_t len)
{
	return req_copy(req, (void *)buf, len, true);
}

size_t nvmf_req_copy_from(struct nvmf_req *req, void *buf, size_t len)
{
	return req_copy(req, buf, len, false);
}

void nvmf_req_zero(struct nvmf_req *req)
{
	for (int i = 0; i < req->iovcnt; i++)
		memset(req->iov[i].iov_base, 0, req->iov[i].iov_len);
}

/* ---- Queue pairs ---- */

void nvmf_qpair_init(struct nvmf_qpair *qp, struct nvmf_transport *t)
{
	memset(qp, 0, sizeof(*qp));
	qp->transport = t;
}

static void ctrlr_abort_aers(struct nvmf_ctrlr *c)
{
	while (c->naer > 0) {
		struct nvmf_req *req = c->aer[--c->naer];

		nvmf_req_complete(req, NVME_SC_ABORTED_SQ_DELETION);
	}
}

void nvmf_ctrlr_free(struct nvmf_ctrlr *c)
{
	struct nvmf_ctrlr **pp = &c->subsys->ctrlrs;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	for (uint16_t q = 1; q <= c->max_io; q++) {
		if (c->io[q])
			c->io[q]->ctrlr = NULL;
	}
	if (c->admin)
		c->admin->ctrlr = NULL;
	nvmf_timer_del(c->tgt, c->ka_timer);
	free(c->io);
	if (c->subsys->deleted && !c->subsys->ctrlrs)
		nvmf_subsystem_free(c->subsys);
	free(c);
}

void nvmf_qpair_fini(struct nvmf_qpair *qp)
{
	struct nvmf_ctrlr *c = qp->ctrlr;

	qp->disconnecting = true;
	if (!c)
		return;
	if (qp->qid) {
		if (qp->qid <= c->max_io && c->io[qp->qid] == qp)
			c->io[qp->qid] = NULL;
		qp->ctrlr = NULL;
		return;
	}
	log_info("cntlid %u (%s): admin queue gone, controller destroyed",
		 c->cntlid, c->subsys->nqn);

	ctrlr_abort_aers(c);
	nvmf_ctrlr_disconnect(c, true);
	nvmf_ctrlr_free(c);
}

/* ---- Controllers ---- */

static bool cntlid_used(const struct nvmf_subsystem *s, uint16_t id)
{
	for (const struct nvmf_ctrlr *c = s->ctrlrs; c; c = c->next) {
		if (c->cntlid == id)
			return true;
	}
	return false;
}

static int cntlid_alloc(struct nvmf_subsystem *s, uint16_t *out)
{
	uint32_t range = (uint32_t)s->max_cntlid - s->min_cntlid + 1;

	for (uint32_t i = 0; i < range; i++) {
		uint16_t id = s->next_cntlid;

		s->next_cntlid = id >= s->max_cntlid ? s->min_cntlid : id + 1;
		if (id >= s->min_cntlid && id <= s->max_cntlid && !cntlid_used(s, id)) {
			*out = id;
			return 0;
		}
	}
	return -EBUSY;
}

static void ctrlr_ka_expired(void *arg)
{
	struct nvmf_ctrlr *c = arg;
	uint64_t deadline = c->last_ka_us + (uint64_t)c->kato_ms * 1000;

	if (!c->kato_ms || c->ka_expired)
		return;
	if (nvmf_now_us() < deadline) {
		nvmf_timer_arm(c->ka_timer, deadline);
		return;
	}
	log_warn("cntlid %u (%s, host %s): keep-alive timeout (%u ms), "
		 "disconnecting its queues", c->cntlid, c->subsys->nqn,
		 c->hostnqn, c->kato_ms);
	c->ka_expired = true;
	nvmf_ctrlr_disconnect(c, false);
}

struct nvmf_ctrlr *nvmf_ctrlr_create(struct nvmf_subsystem *s,
				     struct nvmf_qpair *admin,
				     const char *hostnqn, const uint8_t hostid[16],
				     uint32_t kato_ms)
{
	const struct nvmf_transport_opts *o = &admin->transport->opts;
	struct nvmf_ctrlr *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	if (cntlid_alloc(s, &c->cntlid)) {
		log_err("%s: no free controller ID", s->nqn);
		goto err;
	}
	c->max_io = s->discovery ? 0 : o->max_io_qpairs_per_ctrlr;
	c->io = calloc(c->max_io + 1u, sizeof(*c->io));
	if (!c->io)
		goto err;
	c->ka_timer = nvmf_timer_add(s->tgt, ctrlr_ka_expired, c);
	if (!c->ka_timer)
		goto err;
	c->subsys = s;
	c->tgt = s->tgt;
	c->admin = admin;
	snprintf(c->hostnqn, sizeof(c->hostnqn), "%s", hostnqn);
	memcpy(c->hostid, hostid, 16);
	c->feat.num_queues = (uint32_t)(c->max_io ? c->max_io - 1 : 0) * 0x10001u;
	c->feat.vwc = 1;
	c->feat.temp_over = 0x157;	/* 343 K */
	nvmf_ctrlr_set_kato(c, kato_ms);
	c->next = s->ctrlrs;
	s->ctrlrs = c;
	admin->ctrlr = c;
	s->tgt->admin_qpairs++;
	return c;
err:
	free(c->io);
	free(c);
	return NULL;
}

struct nvmf_ctrlr *nvmf_ctrlr_find(struct nvmf_subsystem *s, uint16_t cntlid)
{
	for (struct nvmf_ctrlr *c = s->ctrlrs; c; c = c->next) {
		if (c->cntlid == cntlid)
			return c;
	}
	return NULL;
}

int nvmf_ctrlr_add_io_qpair(struct nvmf_ctrlr *c, struct nvmf_qpair *qp)
{
	if (qp->qid == 0 || qp->qid > c->max_io)
		return -EINVAL;
	if (c->io[qp->qid])
		return -EEXIST;
	c->io[qp->qid] = qp;
	qp->ctrlr = c;
	c->io_queues_seen = true;
	c->tgt->io_qpairs++;
	return 0;
}

void nvmf_ctrlr_disconnect(struct nvmf_ctrlr *c, bool io_only)
{
	const struct nvmf_transport_ops *ops = c->admin ?
		c->admin->transport->ops : NULL;

	for (uint16_t q = 1; q <= c->max_io; q++) {
		struct nvmf_qpair *qp = c->io[q];

		if (!qp)
			continue;
		c->io[q] = NULL;
		qp->ctrlr = NULL;
		if (!qp->disconnecting && qp->transport->ops->qpair_disconnect) {
			qp->disconnecting = true;
			qp->transport->ops->qpair_disconnect(qp);
		}
	}
	if (!io_only && c->admin && !c->admin->disconnecting && ops &&
	    ops->qpair_disconnect) {
		c->admin->disconnecting = true;
		ops->qpair_disconnect(c->admin);
	}
}

void nvmf_ctrlr_keep_alive(struct nvmf_ctrlr *c)
{
	c->last_ka_us = nvmf_now_us();
}

void nvmf_ctrlr_set_kato(struct nvmf_ctrlr *c, uint32_t kato_ms)
{
	c->kato_ms = kato_ms;
	c->last_ka_us = nvmf_now_us();
	if (kato_ms)
		nvmf_timer_arm(c->ka_timer, c->last_ka_us + (uint64_t)kato_ms * 1000);
	else
		nvmf_timer_disarm(c->ka_timer);
}

/* ---- Properties ---- */

uint64_t nvmf_ctrlr_cap(const struct nvmf_ctrlr *c)
{
	const struct nvmf_transport_opts *o = &c->admin->transport->opts;
	uint64_t mqes = (uint64_t)(o->max_queue_depth - 1) & 0xFFFF;

	if (c->subsys->discovery)
		mqes = (uint64_t)(o->max_aq_depth - 1) & 0xFFFF;
	/* MQES, CQR, TO, CSS=NVM; DSTRD, MPSMIN and MPSMAX 0 (4 KiB). */
	return mqes | 1ull << 16 | (uint64_t)NVMF_CAP_TO << 24 | 1ull << 37;
}

nvme_status nvmf_ctrlr_prop_get(struct nvmf_ctrlr *c, uint32_t ofst,
				uint8_t size, uint64_t *val)
{
	uint8_t want = ofst == NVME_REG_CAP ? 8 : 4;

	switch (ofst) {
	case NVME_REG_CAP:
		*val = nvmf_ctrlr_cap(c);
		break;
	case NVME_REG_VS:
		*val = 0x00010300;
		break;
	case NVME_REG_CC:
		*val = c->cc;
		break;
	case NVME_REG_CSTS:
		*val = c->csts;
		break;
	default:
		log_info("cntlid %u: Property Get of unknown offset 0x%x", c->cntlid, ofst);
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	if (size != want) {
		log_info("cntlid %u: Property Get 0x%x with size %u", c->cntlid, ofst, size);
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	return 0;
}

static bool cc_valid(uint32_t cc)
{
	uint32_t css = (cc >> 4) & 0x7, mps = (cc >> 7) & 0xF, ams = (cc >> 11) & 0x7;
	uint32_t iosqes = (cc >> 16) & 0xF, iocqes = (cc >> 20) & 0xF;

	return css == 0 && mps == 0 && ams == 0 && iosqes == 6 && iocqes == 4;
}

static void ctrlr_flush_namespaces(struct nvmf_ctrlr *c)
{
	for (uint32_t i = 0; i < c->subsys->max_ns; i++) {
		struct bdev *b = c->subsys->ns[i] ? c->subsys->ns[i]->bdev : NULL;

		if (b && b->ops->flush_sync && b->ops->flush_sync(b))
			log_err("bdev %s: flush at shutdown failed", b->name);
	}
}

static void ctrlr_cc_write(struct nvmf_ctrlr *c, uint32_t cc)
{
	uint32_t old = c->cc;

	c->cc = cc;
	if ((cc & NVME_CC_EN) && !(old & NVME_CC_EN)) {
		if (!cc_valid(cc)) {
			log_warn("cntlid %u: CC 0x%x has unsupported settings", c->cntlid, cc);
			c->csts |= NVME_CSTS_CFS;
			return;
		}
		c->csts = NVME_CSTS_RDY;
	} else if (!(cc & NVME_CC_EN) && (old & NVME_CC_EN)) {
		/* Reset: I/O queues go, the admin queue stays until the host drops it. */
		nvmf_ctrlr_disconnect(c, true);
		c->csts &= ~(NVME_CSTS_RDY | NVME_CSTS_CFS);
	}
	if (NVME_CC_SHN(cc) && !NVME_CC_SHN(old)) {
		ctrlr_flush_namespaces(c);
		c->csts = (c->csts & ~NVME_CSTS_SHST_MASK) | NVME_CSTS_SHST_CMPLT;
	} else if (!NVME_CC_SHN(cc)) {
		c->csts &= ~NVME_CSTS_SHST_MASK;
	}
}

nvme_status nvmf_ctrlr_prop_set(struct nvmf_ctrlr *c, uint32_t ofst,
				uint8_t size, uint64_t val)
{
	if (ofst != NVME_REG_CC) {
		log_info("cntlid %u: Property Set of read-only or unknown offset 0x%x",
			 c->cntlid, ofst);
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	if (size != 4) {
		log_info("cntlid %u: Property Set CC with size %u", c->cntlid, size);
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	ctrlr_cc_write(c, (uint32_t)val);
	return 0;
}

/* ---- Asynchronous events ---- */

/* aen_pending / aen_masked bits: one per kind of notice we send. */
enum { AEN_NS_CHANGED, AEN_DISC_CHANGED };

static uint32_t aen_cdw0(int bit)
{
	if (bit == AEN_DISC_CHANGED)
		return NVME_AER_TYPE_NOTICE | (uint32_t)NVME_AER_NOTICE_DISC_CHANGED << 8 |
		       (uint32_t)NVME_LOG_DISC << 16;
	return NVME_AER_TYPE_NOTICE | (uint32_t)NVME_AER_NOTICE_NS_CHANGED << 8 |
	       (uint32_t)NVME_LOG_CHANGED_NS << 16;
}

static void aen_deliver(struct nvmf_ctrlr *c)
{
	while (c->naer > 0 && c->aen_pending) {
		int bit = __builtin_ctz(c->aen_pending);
		struct nvmf_req *req = c->aer[--c->naer];

		c->aen_pending &= ~(1u << bit);
		c->aen_masked |= 1u << bit;
		req->cpl->cdw0 = aen_cdw0(bit);
		log_debug("cntlid %u: AEN 0x%08x", c->cntlid, req->cpl->cdw0);
		nvmf_req_complete(req, 0);
	}
}

nvme_status nvmf_ctrlr_aer_hold(struct nvmf_ctrlr *c, struct nvmf_req *req)
{
	if (c->naer >= NVMF_AER_MAX) {
		log_info("cntlid %u: more than %d AERs", c->cntlid, NVMF_AER_MAX);
		return NVME_SC_ASYNC_LIMIT | NVME_DNR;
	}
	c->aer[c->naer++] = req;
	aen_deliver(c);
	return 0;
}

static void aen_raise(struct nvmf_ctrlr *c, int bit, uint32_t aec_bit)
{
	if (!(c->feat.aec & aec_bit) || (c->aen_masked & (1u << bit)))
		return;
	c->aen_pending |= 1u << bit;
	aen_deliver(c);
}

void nvmf_ctrlr_ns_changed(struct nvmf_ctrlr *c, uint32_t nsid)
{
	if (c->nchanged < NVMF_CHANGED_NS_MAX) {
		bool seen = false;

		for (int i = 0; i < c->nchanged; i++)
			seen |= c->changed_ns[i] == nsid;
		if (!seen)
			c->changed_ns[c->nchanged++] = nsid;
	} else {
		c->changed_overflow = true;
	}
	aen_raise(c, AEN_NS_CHANGED, NVME_AEN_CFG_NS_ATTR);
}

void nvmf_ctrlr_disc_changed(struct nvmf_ctrlr *c)
{
	aen_raise(c, AEN_DISC_CHANGED, NVME_AEN_CFG_DISC_CHANGE);
}

void nvmf_ctrlr_aen_clear(struct nvmf_ctrlr *c, uint8_t lid)
{
	if (lid == NVME_LOG_CHANGED_NS)
		c->aen_masked &= ~(1u << AEN_NS_CHANGED);
	else if (lid == NVME_LOG_DISC)
		c->aen_masked &= ~(1u << AEN_DISC_CHANGED);
}
