/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Admin commands: Identify, Get/Set Features, Get Log Page, Abort,
 * Asynchronous Event Request, Keep Alive. Parsing checks and picks the
 * execute function; executing fills the data and completes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memmap/log.h"
#include "target/core.h"

#define LOG_PAGE_SIZE	4096

void nvmf_pad_copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len);

	memcpy(dst, src, n);
	memset(dst + n, ' ', len - n);
}

static uint8_t ctrlr_mdts(const struct nvmf_transport_opts *o)
{
	uint32_t pages = o->max_io_size / 4096;
	uint8_t mdts = 0;

	while (pages > 1) {
		pages >>= 1;
		mdts++;
	}
	return mdts;
}

static uint32_t ctrlr_ioccsz(const struct nvmf_transport *t)
{
	uint32_t bytes = t->ops->ioccsz_bytes ? t->ops->ioccsz_bytes(t) :
			 64 + t->opts.in_capsule_data_size;

	return bytes / 16 < 4 ? 4 : bytes / 16;
}

static void identify_ctrlr(struct nvmf_ctrlr *c, const struct nvmf_transport *t,
			   struct nvme_id_ctrl *id)
{
	const struct nvmf_subsystem *s = c->subsys;

	nvmf_pad_copy(id->sn, sizeof(id->sn), s->sn);
	nvmf_pad_copy(id->mn, sizeof(id->mn), s->mn);
	nvmf_pad_copy(id->fr, sizeof(id->fr), NVMF_FW_REV);
	id->rab = 6;
	id->cmic = NVME_CTRLR_CMIC_MULTI_CTRL;
	id->mdts = ctrlr_mdts(&t->opts);
	id->cntlid = c->cntlid;
	id->ver = 0x00010300;
	id->oaes = s->discovery ? NVME_AEN_CFG_DISC_CHANGE : NVME_AEN_CFG_NS_ATTR;
	id->cntrltype = s->discovery ? 2 : 1;
	id->acl = NVMF_ABORT_MAX - 1;
	id->aerl = NVMF_AER_MAX - 1;
	id->frmw = 0x3;			/* slot 1 read-only, 1 slot */
	id->lpa = NVME_CTRLR_LPA_EXT_DATA | (s->discovery ? 0 : NVME_CTRLR_LPA_CMD_EFFECTS);
	id->wctemp = 0x157;
	id->cctemp = 0x175;
	id->kas = NVMF_KAS;
	id->sqes = 0x66;
	id->cqes = 0x44;
	id->maxcmd = t->opts.max_queue_depth;
	id->nn = s->max_ns;
	id->oncs = s->discovery ? 0 : NVME_CTRLR_ONCS_DSM | NVME_CTRLR_ONCS_WRITE_ZEROES;
	id->vwc = s->discovery ? 0 : 0x1 | 0x4;	/* present; no broadcast flush */
	id->sgls = NVME_CTRLR_SGLS_SUPPORTED | NVME_CTRLR_SGLS_KEYED |
		   NVME_CTRLR_SGLS_OFFSET;
	snprintf(id->subnqn, sizeof(id->subnqn), "%s", s->nqn);
	id->ioccsz = ctrlr_ioccsz(t);
	id->iorcsz = 1;
	id->icdoff = 0;
	id->msdbd = t->ops->msdbd ? t->ops->msdbd : 1;
}

static uint8_t lbads(uint32_t block_size)
{
	uint8_t n = 0;

	while ((1u << n) < block_size)
		n++;
	return n;
}

static void identify_ns(const struct nvmf_ns *ns, struct nvme_id_ns *id)
{
	const struct bdev *b = ns->bdev;

	id->nsze = id->ncap = id->nuse = b->num_blocks;
	id->nlbaf = 0;
	id->flbas = 0;
	id->nmic = 1;			/* may be shared by controllers */
	id->dlfeat = 0x1 | 0x8;		/* deallocated reads 0; WZ may deallocate */
	id->nsattr = b->readonly ? 1 : 0;
	memcpy(id->nguid, ns->nguid, 16);
	if (ns->has_eui64)
		memcpy(id->eui64, ns->eui64, 8);
	id->lbaf[0].lbads = lbads(b->block_size);
}

static size_t ns_desc(uint8_t *p, uint8_t type, const void *val, uint8_t len)
{
	p[0] = type;
	p[1] = len;
	memcpy(p + 4, val, len);
	return 4u + len;
}

static void identify_desc_list(const struct nvmf_ns *ns, uint8_t *buf)
{
	static const uint8_t csi_nvm;
	size_t off = 0;

	off += ns_desc(buf + off, NVME_NIDT_UUID, ns->uuid, 16);
	off += ns_desc(buf + off, NVME_NIDT_NGUID, ns->nguid, 16);
	if (ns->has_eui64)
		off += ns_desc(buf + off, NVME_NIDT_EUI64, ns->eui64, 8);
	ns_desc(buf + off, NVME_NIDT_CSI, &csi_nvm, 1);
}

static void identify_active_list(const struct nvmf_ctrlr *c, uint32_t after,
				 uint32_t *list)
{
	int n = 0;

	for (uint32_t i = after; i < c->subsys->max_ns && n < 1024; i++) {
		if (nvmf_ctrlr_get_ns(c, i + 1))
			list[n++] = i + 1;
	}
}

static void exec_identify(struct nvmf_req *req)
{
	struct nvmf_ctrlr *c = req->qpair->ctrlr;
	const struct nvme_cmd *cmd = req->cmd;
	uint8_t cns = cmd->cdw10 & 0xFF;
	struct nvmf_ns *ns = nvmf_ctrlr_get_ns(c, cmd->nsid);
	void *buf = calloc(1, 4096);
	nvme_status st = 0;

	if (!buf) {
		nvmf_req_complete(req, NVME_SC_INTERNAL);
		return;
	}
	switch (cns) {
	case NVME_CNS_CTRLR:
		identify_ctrlr(c, req->qpair->transport, buf);
		break;
	case NVME_CNS_NS:
		if (ns)
			identify_ns(ns, buf);
		break;		/* an inactive namespace reads as zeroes */
	case NVME_CNS_ACTIVE_NS_LIST:
		identify_active_list(c, cmd->nsid, buf);
		break;
	case NVME_CNS_CTRLR_CSI:
		break;		/* NVM: no size limits to report, all zero */
	case NVME_CNS_NS_DESC_LIST:
		if (ns)
			identify_desc_list(ns, buf);
		else
			st = NVME_SC_INVALID_NS | NVME_DNR;
		break;
	}
	if (!st)
		nvmf_req_copy_to(req, buf, 4096);
	free(buf);
	nvmf_req_complete(req, st);
}

static nvme_status parse_identify(struct nvmf_req *req)
{
	const struct nvmf_ctrlr *c = req->qpair->ctrlr;
	const struct nvme_cmd *cmd = req->cmd;
	uint8_t cns = cmd->cdw10 & 0xFF;
	uint32_t nsid = cmd->nsid;

	if (c->subsys->discovery && cns != NVME_CNS_CTRLR) {
		log_info("discovery cntlid %u: Identify CNS %u", c->cntlid, cns);
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	switch (cns) {
	case NVME_CNS_CTRLR:
		break;
	case NVME_CNS_NS:
	case NVME_CNS_NS_DESC_LIST:
		if (nsid == 0 || nsid > c->subsys->max_ns) {
			log_info("cntlid %u: Identify CNS %u of nsid %u", c->cntlid, cns, nsid);
			return NVME_SC_INVALID_NS | NVME_DNR;
		}
		break;
	case NVME_CNS_CTRLR_CSI:
		if (cmd->cdw11 >> 24 != 0) {	/* only the NVM command set */
			log_info("cntlid %u: Identify CNS 6 for CSI %u", c->cntlid,
				 cmd->cdw11 >> 24);
			return NVME_SC_INVALID_FIELD | NVME_DNR;
		}
		break;
	case NVME_CNS_ACTIVE_NS_LIST:
		if (nsid >= 0xFFFFFFFE) {
			log_info("cntlid %u: active list after nsid 0x%x", c->cntlid, nsid);
			return NVME_SC_INVALID_NS | NVME_DNR;
		}
		break;
	default:
		log_info("cntlid %u: Identify CNS 0x%x not supported", c->cntlid, cns);
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	req->core_exec = exec_identify;
	return 0;
}

/* ---- Features ---- */

static nvme_status feat_get(struct nvmf_ctrlr *c, struct nvmf_req *req,
			    uint8_t fid, uint32_t cdw11, uint32_t *val)
{
	const struct nvmf_ctrlr_feat *f = &c->feat;

	switch (fid) {
	case NVME_FEAT_ARBITRATION: *val = f->arbitration; break;
	case NVME_FEAT_POWER_MGMT: *val = f->power_mgmt; break;
	case NVME_FEAT_TEMP_THRESH:
		if ((cdw11 >> 16 & 0xF) != 0 || (cdw11 >> 20 & 0x3) > 1)
			return NVME_SC_INVALID_FIELD | NVME_DNR;
		*val = (cdw11 >> 20 & 0x3) ? f->temp_under : f->temp_over;
		break;
	case NVME_FEAT_ERR_RECOVERY: *val = f->err_recovery; break;
	case NVME_FEAT_VOLATILE_WC: *val = f->vwc; break;
	case NVME_FEAT_NUM_QUEUES: *val = f->num_queues; break;
	case NVME_FEAT_IRQ_COALESCE: *val = f->irq_coalesce; break;
	case NVME_FEAT_IRQ_CONFIG: *val = f->irq_config; break;
	case NVME_FEAT_WRITE_ATOMIC: *val = f->write_atomic; break;
	case NVME_FEAT_ASYNC_EVENT: *val = f->aec; break;
	case NVME_FEAT_KATO: *val = c->kato_ms; break;
	case NVME_FEAT_HOST_ID:
		if (!(cdw11 & 1))	/* only the 128-bit form over fabrics */
			return NVME_SC_INVALID_FIELD | NVME_DNR;
		nvmf_req_copy_to(req, c->hostid, 16);
		*val = 0;
		break;
	default:
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	return 0;
}

static bool feat_allowed(const struct nvmf_ctrlr *c, uint8_t fid)
{
	if (!c->subsys->discovery)
		return true;
	return fid == NVME_FEAT_ASYNC_EVENT || fid == NVME_FEAT_KATO;
}

static void exec_get_features(struct nvmf_req *req)
{
	struct nvmf_ctrlr *c = req->qpair->ctrlr;
	uint8_t fid = req->cmd->cdw10 & 0xFF, sel = (req->cmd->cdw10 >> 8) & 0x7;
	uint32_t val = 0;
	nvme_status st = 0;

	if (!feat_allowed(c, fid)) {
		st = NVME_SC_INVALID_FIELD | NVME_DNR;
	} else if (sel == 3) {
		val = 1u << 2;		/* changeable, not saveable */
		if (feat_get(c, req, fid, req->cmd->cdw11, &(uint32_t){ 0 }))
			st = NVME_SC_INVALID_FIELD | NVME_DNR;
	} else {
		st = feat_get(c, req, fid, req->cmd->cdw11, &val);
		if (sel == 1 && fid == NVME_FEAT_VOLATILE_WC)
			val = 1;
	}
	if (st)
		log_info("cntlid %u: Get Features 0x%x sel %u refused", c->cntlid, fid, sel);
	req->cpl->cdw0 = val;
	nvmf_req_complete(req, st);
}

static nvme_status feat_num_queues(struct nvmf_ctrlr *c, uint32_t cdw11,
				   uint32_t *cdw0)
{
	uint32_t nsq = cdw11 & 0xFFFF, ncq = cdw11 >> 16;
	uint32_t max = c->max_io ? c->max_io - 1u : 0;

	if (nsq == 0xFFFF || ncq == 0xFFFF)
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	if (c->io_queues_seen)
		return NVME_SC_CMD_SEQ_ERROR | NVME_DNR;
	nsq = nsq < max ? nsq : max;
	ncq = ncq < max ? ncq : max;
	c->feat.num_queues = nsq | ncq << 16;
	*cdw0 = c->feat.num_queues;
	return 0;
}

static nvme_status feat_set(struct nvmf_ctrlr *c, uint8_t fid, uint32_t cdw11,
			    uint32_t *cdw0)
{
	struct nvmf_ctrlr_feat *f = &c->feat;

	switch (fid) {
	case NVME_FEAT_ARBITRATION: f->arbitration = cdw11; break;
	case NVME_FEAT_POWER_MGMT:
		if (cdw11 & 0x1F)	/* only power state 0 exists */
			return NVME_SC_INVALID_FIELD | NVME_DNR;
		f->power_mgmt = cdw11;
		break;
	case NVME_FEAT_TEMP_THRESH:
		if ((cdw11 >> 16 & 0xF) != 0 || (cdw11 >> 20 & 0x3) > 1)
			return NVME_SC_INVALID_FIELD | NVME_DNR;
		if (cdw11 >> 20 & 0x3)
			f->temp_under = cdw11 & 0xFFFF;
		else
			f->temp_over = cdw11 & 0xFFFF;
		break;
	case NVME_FEAT_ERR_RECOVERY:
		if (cdw11 & (1u << 16))	/* DULBE: no unwritten-block errors */
			return NVME_SC_INVALID_FIELD | NVME_DNR;
		f->err_recovery = cdw11;
		break;
	case NVME_FEAT_VOLATILE_WC: f->vwc = cdw11 & 1; break;
	case NVME_FEAT_NUM_QUEUES: return feat_num_queues(c, cdw11, cdw0);
	case NVME_FEAT_IRQ_COALESCE: f->irq_coalesce = cdw11; break;
	case NVME_FEAT_IRQ_CONFIG: f->irq_config = cdw11; break;
	case NVME_FEAT_WRITE_ATOMIC: f->write_atomic = cdw11 & 1; break;
	case NVME_FEAT_ASYNC_EVENT:
		f->aec = cdw11 & (c->subsys->discovery ? NVME_AEN_CFG_DISC_CHANGE :
				  NVME_AEN_CFG_NS_ATTR);
		break;
	case NVME_FEAT_KATO: nvmf_ctrlr_set_kato(c, cdw11); break;
	case NVME_FEAT_HOST_ID:		/* set by Connect over fabrics */
		return NVME_SC_CMD_SEQ_ERROR | NVME_DNR;
	default:
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	return 0;
}

static void exec_set_features(struct nvmf_req *req)
{
	struct nvmf_ctrlr *c = req->qpair->ctrlr;
	uint8_t fid = req->cmd->cdw10 & 0xFF;
	uint32_t cdw0 = 0;
	nvme_status st;

	if (req->cmd->cdw10 & (1u << 31))
		st = NVME_SC_FEATURE_NOT_SAVEABLE | NVME_DNR;
	else if (!feat_allowed(c, fid))
		st = NVME_SC_INVALID_FIELD | NVME_DNR;
	else
		st = feat_set(c, fid, req->cmd->cdw11, &cdw0);
	if (st)
		log_info("cntlid %u: Set Features 0x%x (0x%x) refused", c->cntlid, fid,
			 req->cmd->cdw11);
	req->cpl->cdw0 = cdw0;
	nvmf_req_complete(req, st);
}

/* ---- Log pages ---- */

struct log_args {
	uint8_t lid;
	bool rae;
	uint64_t offset;
	uint64_t len;
};

static void log_args_get(const struct nvme_cmd *cmd, struct log_args *a)
{
	uint64_t numd = (cmd->cdw10 >> 16 | (cmd->cdw11 & 0xFFFF) << 16) + 1ull;

	a->lid = cmd->cdw10 & 0xFF;
	a->rae = cmd->cdw10 & (1u << 15);
	a->offset = cmd->cdw12 | (uint64_t)cmd->cdw13 << 32;
	a->len = numd * 4;
}

static void log_smart(struct nvmf_ctrlr *c, uint32_t nsid, uint8_t *p)
{
	const struct nvmf_subsystem *s = c->subsys;
	uint64_t rd = 0, wr = 0, rc = 0, wc = 0;

	for (uint32_t i = 0; i < s->max_ns; i++) {
		const struct nvmf_ns *ns = nvmf_ctrlr_get_ns(c, i + 1);

		if (!ns || (nsid != 0xFFFFFFFF && nsid != 0 && nsid != i + 1))
			continue;
		for (int g = 0; g < NVMF_MAX_POLL_GROUPS; g++) {
			rd += nvmf_stat_get(&ns->st[g].units_read);
			wr += nvmf_stat_get(&ns->st[g].units_written);
			rc += nvmf_stat_get(&ns->st[g].reads);
			wc += nvmf_stat_get(&ns->st[g].writes);
		}
	}
	p[1] = 0x2A;		/* composite temperature 298 K, little endian */
	p[2] = 0x01;
	p[3] = 100;		/* available spare */
	p[4] = 10;		/* threshold */
	rd = (rd + 999) / 1000;	/* data units are 1000 x 512 bytes */
	wr = (wr + 999) / 1000;
	memcpy(p + 32, &rd, 8);
	memcpy(p + 48, &wr, 8);
	memcpy(p + 64, &rc, 8);
	memcpy(p + 80, &wc, 8);
}

static void log_changed_ns(struct nvmf_ctrlr *c, uint8_t *p, bool rae)
{
	uint32_t *list = (uint32_t *)p;

	if (c->changed_overflow)
		list[0] = 0xFFFFFFFF;
	else
		memcpy(list, c->changed_ns, c->nchanged * sizeof(uint32_t));
	c->nchanged = 0;
	c->changed_overflow = false;
	if (!rae)
		nvmf_ctrlr_aen_clear(c, NVME_LOG_CHANGED_NS);
}

static void log_cmd_effects(uint8_t *p)
{
	static const uint8_t admin[] = { NVME_OPC_GET_LOG_PAGE, NVME_OPC_IDENTIFY,
		NVME_OPC_ABORT, NVME_OPC_SET_FEATURES, NVME_OPC_GET_FEATURES,
		NVME_OPC_ASYNC_EVENT_REQUEST, NVME_OPC_KEEP_ALIVE };
	static const uint8_t io[] = { NVME_OPC_FLUSH, NVME_OPC_WRITE, NVME_OPC_READ,
		NVME_OPC_WRITE_ZEROES, NVME_OPC_DSM };
	uint32_t *acs = (uint32_t *)p, *iocs = acs + 256;

	for (size_t i = 0; i < sizeof(admin); i++)
		acs[admin[i]] = 1;			/* CSUPP */
	for (size_t i = 0; i < sizeof(io); i++)
		iocs[io[i]] = 1 | (io[i] != NVME_OPC_READ && io[i] != NVME_OPC_FLUSH ? 2 : 0);
}

/* Build the page into *buf; returns its size or 0 if lid is not served. */
static size_t log_build(struct nvmf_req *req, const struct log_args *a, void **buf)
{
	struct nvmf_ctrlr *c = req->qpair->ctrlr;

	if (a->lid == NVME_LOG_DISC) {
		if (!a->rae)
			nvmf_ctrlr_aen_clear(c, NVME_LOG_DISC);
		return nvmf_discovery_log(c, req->qpair, buf);
	}
	*buf = calloc(1, LOG_PAGE_SIZE);
	if (!*buf)
		return 0;
	switch (a->lid) {
	case NVME_LOG_ERROR:
		return 64;
	case NVME_LOG_SMART:
		log_smart(c, req->cmd->nsid, *buf);
		return 512;
	case NVME_LOG_FW_SLOT:
		((uint8_t *)*buf)[0] = 1;	/* active slot 1 */
		memcpy((uint8_t *)*buf + 8, NVMF_FW_REV "   ", 8);
		return 512;
	case NVME_LOG_CHANGED_NS:
		log_changed_ns(c, *buf, a->rae);
		return LOG_PAGE_SIZE;
	case NVME_LOG_CMD_EFFECTS:
		log_cmd_effects(*buf);
		return LOG_PAGE_SIZE;
	}
	return 0;
}

static void exec_get_log_page(struct nvmf_req *req)
{
	struct log_args a;
	void *buf = NULL;
	size_t size, n;

	log_args_get(req->cmd, &a);
	size = log_build(req, &a, &buf);
	if (!buf) {
		nvmf_req_complete(req, NVME_SC_INTERNAL);
		return;
	}
	if (a.offset > size) {
		log_info("Get Log Page 0x%x: offset %llu past its %zu bytes", a.lid,
			 (unsigned long long)a.offset, size);
		free(buf);
		nvmf_req_complete(req, NVME_SC_INVALID_FIELD | NVME_DNR);
		return;
	}
	nvmf_req_zero(req);
	n = size - a.offset < a.len ? size - a.offset : a.len;
	nvmf_req_copy_to(req, (uint8_t *)buf + a.offset, n);
	free(buf);
	nvmf_req_complete(req, 0);
}

static nvme_status parse_get_log_page(struct nvmf_req *req)
{
	const struct nvmf_ctrlr *c = req->qpair->ctrlr;
	struct log_args a;
	bool disc = c->subsys->discovery;

	log_args_get(req->cmd, &a);
	if (a.offset & 3) {
		log_info("cntlid %u: Get Log Page 0x%x offset %llu not dword aligned",
			 c->cntlid, a.lid, (unsigned long long)a.offset);
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	switch (a.lid) {
	case NVME_LOG_DISC:
		if (!disc)
			goto bad;
		break;
	case NVME_LOG_ERROR:
	case NVME_LOG_SMART:
	case NVME_LOG_FW_SLOT:
	case NVME_LOG_CHANGED_NS:
	case NVME_LOG_CMD_EFFECTS:
		if (disc && a.lid != NVME_LOG_ERROR)
			goto bad;
		break;
	default:
		goto bad;
	}
	req->core_exec = exec_get_log_page;
	return 0;
bad:
	log_info("cntlid %u: log page 0x%x not supported", c->cntlid, a.lid);
	return NVME_SC_INVALID_LOG_PAGE | NVME_DNR;
}

/* ---- The rest ---- */

static void exec_abort(struct nvmf_req *req)
{
	req->cpl->cdw0 = 1;	/* the command was not aborted */
	nvmf_req_complete(req, 0);
}

static void exec_keep_alive(struct nvmf_req *req)
{
	nvmf_ctrlr_keep_alive(req->qpair->ctrlr);
	nvmf_req_complete(req, 0);
}

static void exec_aer(struct nvmf_req *req)
{
	nvme_status st = nvmf_ctrlr_aer_hold(req->qpair->ctrlr, req);

	if (st)
		nvmf_req_complete(req, st);
}

nvme_status nvmf_admin_parse(struct nvmf_req *req)
{
	const struct nvmf_ctrlr *c = req->qpair->ctrlr;
	uint8_t opc = req->cmd->opc;

	log_debug("cntlid %u: admin opcode 0x%02x cid %u nsid %u cdw10 0x%x", c->cntlid, opc,
		  req->cmd->cid, req->cmd->nsid, req->cmd->cdw10);
	switch (opc) {
	case NVME_OPC_IDENTIFY:
		return parse_identify(req);
	case NVME_OPC_GET_LOG_PAGE:
		return parse_get_log_page(req);
	case NVME_OPC_GET_FEATURES:
		req->core_exec = exec_get_features;
		return 0;
	case NVME_OPC_SET_FEATURES:
		req->core_exec = exec_set_features;
		return 0;
	case NVME_OPC_KEEP_ALIVE:
		req->core_exec = exec_keep_alive;
		return 0;
	case NVME_OPC_ASYNC_EVENT_REQUEST:
		req->core_exec = exec_aer;
		return 0;
	case NVME_OPC_ABORT:
		if (!c->subsys->discovery) {
			req->core_exec = exec_abort;
			return 0;
		}
		break;
	}
	log_info("cntlid %u: admin opcode 0x%02x not supported", c->cntlid, opc);
	return NVME_SC_INVALID_OPCODE | NVME_DNR;
}
