/* SPDX-License-Identifier: BSD-3-Clause */
/* Fabrics commands: Connect, Property Get, Property Set. */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "memmap/log.h"
#include "target/core.h"

/* Connect SQE fields (NVMe-oF 1.1, figure 20): byte offsets in the SQE. */
#define CONNECT_SQE_QID		42
#define CONNECT_SQE_SQSIZE	44
#define CONNECT_IATTR_DATA	(1u << 16)

static nvme_status connect_invalid(struct nvmf_req *req, bool in_data, size_t off)
{
	req->cpl->cdw0 = (in_data ? CONNECT_IATTR_DATA : 0) | (uint32_t)off;
	return NVME_SC_CONNECT_INVALID_PARAM | NVME_DNR;
}

static bool nqn_terminated(const char *s)
{
	return memchr(s, '\0', 256) != NULL;
}

static nvme_status connect_admin(struct nvmf_req *req, struct nvmf_subsystem *s,
				 const struct nvmf_connect_data *d, uint16_t sqsize,
				 uint32_t kato)
{
	struct nvmf_qpair *qp = req->qpair;
	const struct nvmf_transport_opts *o = &qp->transport->opts;
	struct nvmf_ctrlr *c;

	if (sqsize >= o->max_aq_depth) {
		log_warn("Connect: admin sqsize %u over max_aq_depth %u", sqsize,
			 o->max_aq_depth);
		return connect_invalid(req, false, CONNECT_SQE_SQSIZE);
	}
	if (d->cntlid != 0xFFFF && d->cntlid != 0xFFFE) {
		log_warn("Connect: static cntlid %u requested; only dynamic", d->cntlid);
		return connect_invalid(req, true, offsetof(struct nvmf_connect_data, cntlid));
	}
	qp->sqsize = sqsize;
	c = nvmf_ctrlr_create(s, qp, d->hostnqn, d->hostid, kato);
	if (!c)
		return NVME_SC_CONNECT_CTRL_BUSY;
	log_info("cntlid %u: %s connected to %s (kato %u ms)", c->cntlid,
		 d->hostnqn, s->nqn, kato);
	req->cpl->cdw0 = c->cntlid;
	return 0;
}

static nvme_status connect_io(struct nvmf_req *req, struct nvmf_subsystem *s,
			      const struct nvmf_connect_data *d, uint16_t qid,
			      uint16_t sqsize)
{
	struct nvmf_qpair *qp = req->qpair;
	const struct nvmf_transport_opts *o = &qp->transport->opts;
	struct nvmf_ctrlr *c = nvmf_ctrlr_find(s, d->cntlid);

	if (!c) {
		log_warn("Connect qid %u: %s has no controller %u", qid, s->nqn, d->cntlid);
		return connect_invalid(req, true, offsetof(struct nvmf_connect_data, cntlid));
	}
	if (strcmp(c->hostnqn, d->hostnqn)) {
		log_warn("Connect qid %u: host %s is not the owner of cntlid %u",
			 qid, d->hostnqn, c->cntlid);
		return connect_invalid(req, true, offsetof(struct nvmf_connect_data, hostnqn));
	}
	if (!(c->csts & NVME_CSTS_RDY)) {
		log_warn("Connect qid %u: cntlid %u is not enabled", qid, c->cntlid);
		return NVME_SC_CMD_SEQ_ERROR | NVME_DNR;
	}
	if (sqsize >= o->max_queue_depth) {
		log_warn("Connect qid %u: sqsize %u over max_queue_depth %u", qid,
			 sqsize, o->max_queue_depth);
		return connect_invalid(req, false, CONNECT_SQE_SQSIZE);
	}
	if (qid > (c->feat.num_queues & 0xFFFF) + 1u || qid > c->max_io ||
	    c->io[qid]) {
		log_warn("Connect: cntlid %u qid %u not granted or in use", c->cntlid, qid);
		return connect_invalid(req, false, CONNECT_SQE_QID);
	}
	qp->qid = qid;
	qp->sqsize = sqsize;
	qp->io_subsys = s;
	snprintf(qp->io_hostnqn, sizeof(qp->io_hostnqn), "%s", c->hostnqn);
	nvmf_ctrlr_add_io_qpair(c, qp);
	req->cpl->cdw0 = c->cntlid;
	return 0;
}

static void exec_connect(struct nvmf_req *req)
{
	const struct nvme_cmd *cmd = req->cmd;
	uint16_t recfmt = cmd->cdw10 & 0xFFFF, qid = cmd->cdw10 >> 16;
	uint16_t sqsize = cmd->cdw11 & 0xFFFF;
	struct nvmf_connect_data d;
	struct nvmf_subsystem *s;
	nvme_status st;

	if (nvmf_req_copy_from(req, &d, sizeof(d)) < sizeof(d)) {
		log_warn("Connect: data of %u bytes, need 1024", req->length);
		st = NVME_SC_DATA_SGL_LEN_INVALID | NVME_DNR;
		goto done;
	}
	if (recfmt != 0) {
		log_warn("Connect: record format %u", recfmt);
		st = NVME_SC_CONNECT_INCOMPATIBLE | NVME_DNR;
		goto done;
	}
	if (!nqn_terminated(d.subnqn) || !nqn_terminated(d.hostnqn)) {
		log_warn("Connect: NQN not terminated");
		st = connect_invalid(req, true, nqn_terminated(d.subnqn) ?
				     offsetof(struct nvmf_connect_data, hostnqn) :
				     offsetof(struct nvmf_connect_data, subnqn));
		goto done;
	}
	if (sqsize == 0) {
		log_warn("Connect: sqsize 0");
		st = connect_invalid(req, false, CONNECT_SQE_SQSIZE);
		goto done;
	}
	s = nvmf_subsystem_find(req->qpair->transport->tgt, d.subnqn);
	if (!s) {
		log_warn("Connect: no subsystem %s (host %s)", d.subnqn, d.hostnqn);
		st = connect_invalid(req, true, offsetof(struct nvmf_connect_data, subnqn));
		goto done;
	}
	if (!nvmf_subsystem_host_allowed(s, d.hostnqn)) {
		log_warn("Connect: host %s is not allowed on %s", d.hostnqn, s->nqn);
		st = NVME_SC_CONNECT_INVALID_HOST | NVME_DNR;
		goto done;
	}
	st = qid == 0 ? connect_admin(req, s, &d, sqsize, cmd->cdw12) :
			connect_io(req, s, &d, qid, sqsize);
done:
	nvmf_req_complete(req, st);
}

static void exec_prop_get(struct nvmf_req *req)
{
	const struct nvme_cmd *cmd = req->cmd;
	uint8_t size = (cmd->cdw10 & 0x7) == 1 ? 8 : 4;
	uint64_t val = 0;
	nvme_status st;

	st = nvmf_ctrlr_prop_get(req->qpair->ctrlr, cmd->cdw11, size, &val);
	if (!st) {
		req->cpl->cdw0 = (uint32_t)val;
		req->cpl->cdw1 = (uint32_t)(val >> 32);
	}
	nvmf_req_complete(req, st);
}

static void exec_prop_set(struct nvmf_req *req)
{
	const struct nvme_cmd *cmd = req->cmd;
	uint8_t size = (cmd->cdw10 & 0x7) == 1 ? 8 : 4;
	uint64_t val = cmd->cdw12 | (uint64_t)cmd->cdw13 << 32;

	nvmf_req_complete(req, nvmf_ctrlr_prop_set(req->qpair->ctrlr, cmd->cdw11,
						    size, val));
}

nvme_status nvmf_fabrics_parse(struct nvmf_req *req)
{
	struct nvmf_qpair *qp = req->qpair;
	uint8_t fctype = nvme_cmd_fctype(req->cmd);

	if (fctype == NVMF_FCTYPE_CONNECT) {
		if (qp->ctrlr) {
			log_info("qid %u: second Connect", qp->qid);
			return NVME_SC_CMD_SEQ_ERROR | NVME_DNR;
		}
		req->core_exec = exec_connect;
		return 0;
	}
	if (!qp->ctrlr) {
		log_info("fabrics command 0x%x before Connect", fctype);
		return NVME_SC_CMD_SEQ_ERROR | NVME_DNR;
	}
	if (qp->qid == 0 && fctype == NVMF_FCTYPE_PROPERTY_GET) {
		req->core_exec = exec_prop_get;
		return 0;
	}
	if (qp->qid == 0 && fctype == NVMF_FCTYPE_PROPERTY_SET) {
		req->core_exec = exec_prop_set;
		return 0;
	}
	log_info("qid %u: fabrics command type 0x%x not supported", qp->qid, fctype);
	return NVME_SC_INVALID_OPCODE | NVME_DNR;
}
