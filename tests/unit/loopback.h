/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * An in-process transport for unit tests: it builds command capsules,
 * points the request's data at plain buffers, runs them through the core
 * and records completions and disconnects. Header-only, static.
 */
#ifndef TESTS_UNIT_LOOPBACK_H
#define TESTS_UNIT_LOOPBACK_H

#include <CUnit/Basic.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "target/config.h"
#include "target/core.h"

#define LO_HOSTNQN "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"

struct lo_req {
	struct nvmf_req req;
	struct nvme_cmd cmd;
	struct nvme_cpl cpl;
	int done;
};

struct lo_qp {
	struct nvmf_qpair qp;
	int disconnects;
	struct nvmf_listen_addr local;	/* the address "connected to"; unset: unknown */
};

static inline uint32_t lo_ioccsz(const struct nvmf_transport *t)
{
	return 64 + t->opts.in_capsule_data_size;
}

static inline void lo_req_complete(struct nvmf_req *req)
{
	struct lo_req *r = (struct lo_req *)req;

	r->done++;
}

static inline void lo_qpair_disconnect(struct nvmf_qpair *qp)
{
	struct lo_qp *q = (struct lo_qp *)qp;

	q->disconnects++;
	nvmf_qpair_fini(qp);
}

static inline int lo_qpair_local_addr(const struct nvmf_qpair *qp, struct nvmf_listen_addr *a)
{
	const struct lo_qp *q = (const struct lo_qp *)qp;

	if (!q->local.trtype[0])
		return -ENOTCONN;
	*a = q->local;
	return 0;
}

static const struct nvmf_transport_ops lo_ops = {
	.name = "LOOP",
	.req_complete = lo_req_complete,
	.qpair_disconnect = lo_qpair_disconnect,
	.qpair_local_addr = lo_qpair_local_addr,
	.ioccsz_bytes = lo_ioccsz,
	.msdbd = 1,
};

static struct nvmf_transport g_lo_t;

static inline void lo_transport_init(struct nvmf_tgt *tgt)
{
	g_lo_t.ops = &lo_ops;
	g_lo_t.tgt = tgt;
	g_lo_t.opts = tgt->topts;
}

static inline void lo_qp_init(struct lo_qp *q)
{
	memset(q, 0, sizeof(*q));
	nvmf_qpair_init(&q->qp, &g_lo_t);
}

/* NVMe status (sct << 8 | sc) of a completion, without DNR. */
static inline nvme_status lo_status(const struct nvme_cpl *cpl)
{
	return (nvme_status)((((cpl->status >> 9) & 0x7) << 8) | ((cpl->status >> 1) & 0xFF));
}

static inline int lo_dnr(const struct nvme_cpl *cpl)
{
	return !!(cpl->status & 0x8000);
}

/* Start a command; the caller frees the returned request after it is done. */
static inline struct lo_req *lo_start(struct lo_qp *q, const struct nvme_cmd *cmd,
			       void *buf, uint32_t len)
{
	struct lo_req *r = calloc(1, sizeof(*r));

	r->req.qpair = &q->qp;
	r->req.cmd = &r->cmd;
	r->req.cpl = &r->cpl;
	r->cmd = *cmd;
	if (buf) {
		r->req.iov[0].iov_base = buf;
		r->req.iov[0].iov_len = len;
		r->req.iovcnt = 1;
		r->req.length = len;
	}
	r->req.xfer = nvmf_req_xfer(&r->req);
	nvmf_req_exec(&r->req);
	return r;
}

static inline void lo_wait(struct nvmf_tgt *tgt, struct lo_req *r)
{
	for (int i = 0; !r->done && i < 5000; i++)
		nvmf_loop_once(tgt, 1);
}

/* Run a command to completion; returns its status, *cpl gets the CQE. */
static inline nvme_status lo_cmd(struct nvmf_tgt *tgt, struct lo_qp *q,
			  const struct nvme_cmd *cmd, void *buf, uint32_t len,
			  struct nvme_cpl *cpl)
{
	struct lo_req *r = lo_start(q, cmd, buf, len);
	nvme_status st;

	lo_wait(tgt, r);
	CU_ASSERT_EQUAL(r->done, 1);
	CU_ASSERT_EQUAL(r->cpl.cid, cmd->cid);
	CU_ASSERT_EQUAL(r->cpl.sqid, q->qp.qid);
	if (cpl)
		*cpl = r->cpl;
	st = r->done ? lo_status(&r->cpl) : 0xFFFF;
	free(r);
	return st;
}

static inline void lo_connect_cmd(struct nvme_cmd *c, uint16_t qid, uint16_t sqsize,
			   uint32_t kato)
{
	memset(c, 0, sizeof(*c));
	c->opc = NVME_OPC_FABRICS;
	c->cid = 0x10;
	c->nsid = NVMF_FCTYPE_CONNECT;
	c->cdw10 = (uint32_t)qid << 16;
	c->cdw11 = sqsize;
	c->cdw12 = kato;
}

static inline nvme_status lo_connect(struct nvmf_tgt *tgt, struct lo_qp *q, uint16_t qid,
			      const char *subnqn, const char *hostnqn,
			      uint16_t cntlid, uint32_t kato, struct nvme_cpl *cpl)
{
	struct nvmf_connect_data d;
	struct nvme_cmd c;

	memset(&d, 0, sizeof(d));
	memset(d.hostid, 0xAB, sizeof(d.hostid));
	d.cntlid = cntlid;
	strcpy(d.subnqn, subnqn);
	strcpy(d.hostnqn, hostnqn);
	lo_connect_cmd(&c, qid, qid ? 127 : 31, kato);
	return lo_cmd(tgt, q, &c, &d, sizeof(d), cpl);
}

static inline nvme_status lo_prop_get(struct nvmf_tgt *tgt, struct lo_qp *q, uint32_t ofst,
			       bool eight, uint64_t *val)
{
	struct nvme_cmd c = { .opc = NVME_OPC_FABRICS, .cid = 2,
			      .nsid = NVMF_FCTYPE_PROPERTY_GET };
	struct nvme_cpl cpl;
	nvme_status st;

	c.cdw10 = eight ? 1 : 0;
	c.cdw11 = ofst;
	st = lo_cmd(tgt, q, &c, NULL, 0, &cpl);
	*val = cpl.cdw0 | (uint64_t)cpl.cdw1 << 32;
	return st;
}

static inline nvme_status lo_prop_set(struct nvmf_tgt *tgt, struct lo_qp *q, uint32_t ofst,
			       uint32_t val)
{
	struct nvme_cmd c = { .opc = NVME_OPC_FABRICS, .cid = 3,
			      .nsid = NVMF_FCTYPE_PROPERTY_SET };

	c.cdw11 = ofst;
	c.cdw12 = val;
	return lo_cmd(tgt, q, &c, NULL, 0, NULL);
}

#define LO_CC_ENABLE	(0x1u | 6u << 16 | 4u << 20)

/* Connect the admin queue and enable the controller as Linux does. */
static inline uint16_t lo_admin_up(struct nvmf_tgt *tgt, struct lo_qp *q, const char *subnqn,
			    uint32_t kato)
{
	struct nvme_cpl cpl;
	uint64_t v;

	lo_qp_init(q);
	CU_ASSERT_EQUAL_FATAL(lo_connect(tgt, q, 0, subnqn, LO_HOSTNQN, 0xFFFF, kato,
					 &cpl), 0);
	CU_ASSERT_EQUAL(lo_prop_set(tgt, q, NVME_REG_CC, LO_CC_ENABLE & ~1u), 0);
	CU_ASSERT_EQUAL(lo_prop_set(tgt, q, NVME_REG_CC, LO_CC_ENABLE), 0);
	CU_ASSERT_EQUAL(lo_prop_get(tgt, q, NVME_REG_CSTS, false, &v), 0);
	CU_ASSERT_EQUAL(v & NVME_CSTS_RDY, 1);
	return (uint16_t)cpl.cdw0;
}

static inline nvme_status lo_admin(struct nvmf_tgt *tgt, struct lo_qp *q, uint8_t opc,
			    uint32_t nsid, uint32_t cdw10, uint32_t cdw11, void *buf,
			    uint32_t len, struct nvme_cpl *cpl)
{
	struct nvme_cmd c = { .opc = opc, .cid = 7, .nsid = nsid, .cdw10 = cdw10,
			      .cdw11 = cdw11 };

	return lo_cmd(tgt, q, &c, buf, len, cpl);
}

/* A temporary directory on a file system with O_DIRECT. */
static inline char *lo_tmpdir(void)
{
	static char dir[64];

	strcpy(dir, "/var/tmp/nvmf_ut.XXXXXX");
	return mkdtemp(dir);
}

static inline struct nvmf_tgt *lo_tgt_from(const char *json)
{
	struct nvmf_tgt *tgt = nvmf_tgt_create();

	CU_ASSERT_PTR_NOT_NULL_FATAL(tgt);
	if (nvmf_config_load_string(tgt, json, "test", 0)) {
		CU_FAIL("test config refused");
		nvmf_tgt_destroy(tgt);
		return NULL;
	}
	lo_transport_init(tgt);
	return tgt;
}

#endif
