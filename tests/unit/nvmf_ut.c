/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Controllers, fabrics, admin commands and discovery, driven through the
 * loopback transport the way the Linux host drives them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memmap/log.h"
#include "tests/unit/loopback.h"
#include "tests/unit/ut.h"

#define SUBNQN "nqn.2016-06.io.spdk:cnode1"
#define SUBNQN2 "nqn.2016-06.io.spdk:cnode2"
#define HOSTX "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000000x"

static char g_dir[64];
static char g_cfg[4096];

static void make_cfg(void)
{
	snprintf(g_cfg, sizeof(g_cfg),
		"{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":["
		"{\"method\":\"bdev_aio_create\",\"params\":{\"name\":\"a0\",\"filename\":\"%s/d0\"}},"
		"{\"method\":\"bdev_aio_create\",\"params\":{\"name\":\"a1\",\"filename\":\"%s/d1\","
		"\"block_size\":4096}}]},"
		"{\"subsystem\":\"nvmf\",\"config\":["
		"{\"method\":\"nvmf_create_transport\",\"params\":{\"trtype\":\"rdma\",\"max_io_qpairs_per_ctrlr\":8}},"
		"{\"method\":\"nvmf_create_subsystem\",\"params\":{\"nqn\":\"" SUBNQN "\","
		"\"allow_any_host\":true,\"serial_number\":\"SN0001\",\"model_number\":\"nvmf_tgt\"}},"
		"{\"method\":\"nvmf_subsystem_add_ns\",\"params\":{\"nqn\":\"" SUBNQN "\","
		"\"namespace\":{\"nsid\":1,\"bdev_name\":\"a0\",\"uuid\":\"6b2f1e8a-3c4d-4e5f-8a9b-0c1d2e3f4a5b\","
		"\"eui64\":\"0011223344556677\"}}},"
		"{\"method\":\"nvmf_create_subsystem\",\"params\":{\"nqn\":\"" SUBNQN2 "\"}},"
		"{\"method\":\"nvmf_subsystem_add_ns\",\"params\":{\"nqn\":\"" SUBNQN2 "\","
		"\"namespace\":{\"bdev_name\":\"a1\"}}},"
		"{\"method\":\"nvmf_subsystem_add_host\",\"params\":{\"nqn\":\"" SUBNQN2 "\",\"host\":\"" HOSTX "\"}},"
		"{\"method\":\"nvmf_subsystem_add_listener\",\"params\":{\"nqn\":\"" SUBNQN "\","
		"\"listen_address\":{\"trtype\":\"RDMA\",\"adrfam\":\"IPv4\",\"traddr\":\"10.0.0.1\",\"trsvcid\":\"4420\"}}},"
		"{\"method\":\"nvmf_subsystem_add_listener\",\"params\":{\"nqn\":\"" SUBNQN "\","
		"\"listen_address\":{\"trtype\":\"RDMA\",\"traddr\":\"10.0.0.2\",\"trsvcid\":\"4421\"}}},"
		"{\"method\":\"nvmf_subsystem_add_listener\",\"params\":{\"nqn\":\"" SUBNQN2 "\","
		"\"listen_address\":{\"trtype\":\"RDMA\",\"adrfam\":\"ipv4\",\"traddr\":\"10.0.0.1\",\"trsvcid\":\"4420\"}}}"
		"]}]}", g_dir, g_dir);
}

static struct nvmf_tgt *tgt_new(void)
{
	return lo_tgt_from(g_cfg);
}

static void test_linux_connect_sequence(void)
{
	struct nvmf_tgt *tgt = tgt_new();
	struct lo_qp aq, ioq;
	struct nvme_id_ctrl *id = calloc(1, 4096);
	struct nvme_id_ns *ns = calloc(1, 4096);
	uint8_t *buf = calloc(1, 4096);
	struct nvme_cpl cpl;
	uint64_t v;
	uint16_t cntlid;

	lo_qp_init(&aq);
	CU_ASSERT_EQUAL(lo_connect(tgt, &aq, 0, SUBNQN, LO_HOSTNQN, 0xFFFF, 5000, &cpl), 0);
	cntlid = (uint16_t)cpl.cdw0;
	CU_ASSERT(cntlid >= 1 && cntlid <= 0xFFEF);
	/* CAP: MQES 127, CQR, TO 15, CSS NVM, MPSMIN 0 */
	CU_ASSERT_EQUAL(lo_prop_get(tgt, &aq, NVME_REG_CAP, true, &v), 0);
	CU_ASSERT_EQUAL(v & 0xFFFF, 127);
	CU_ASSERT_EQUAL((v >> 16) & 1, 1);
	CU_ASSERT_EQUAL((v >> 24) & 0xFF, 15);
	CU_ASSERT_EQUAL((v >> 37) & 1, 1);
	CU_ASSERT_EQUAL((v >> 48) & 0xF, 0);
	CU_ASSERT_EQUAL(lo_prop_set(tgt, &aq, NVME_REG_CC, LO_CC_ENABLE & ~1u), 0);
	CU_ASSERT_EQUAL(lo_prop_get(tgt, &aq, NVME_REG_VS, false, &v), 0);
	CU_ASSERT_EQUAL(v, 0x10300);
	CU_ASSERT_EQUAL(lo_prop_set(tgt, &aq, NVME_REG_CC, LO_CC_ENABLE), 0);
	CU_ASSERT_EQUAL(lo_prop_get(tgt, &aq, NVME_REG_CSTS, false, &v), 0);
	CU_ASSERT_EQUAL(v, NVME_CSTS_RDY);

	CU_ASSERT_EQUAL(lo_admin(tgt, &aq, NVME_OPC_IDENTIFY, 0, NVME_CNS_CTRLR, 0, id,
				 4096, NULL), 0);
	CU_ASSERT_EQUAL(id->cntlid, cntlid);
	CU_ASSERT(id->kas != 0);
	CU_ASSERT(id->ioccsz >= 4);
	CU_ASSERT_EQUAL(id->ioccsz, (64 + 4096) / 16);
	CU_ASSERT_EQUAL(id->iorcsz, 1);
	CU_ASSERT_EQUAL(id->icdoff, 0);
	CU_ASSERT(id->sgls & NVME_CTRLR_SGLS_KEYED);
	CU_ASSERT(id->sgls & NVME_CTRLR_SGLS_OFFSET);
	CU_ASSERT(id->cmic & NVME_CTRLR_CMIC_MULTI_CTRL);
	CU_ASSERT_FALSE(id->cmic & NVME_CTRLR_CMIC_ANA);
	CU_ASSERT_STRING_EQUAL(id->subnqn, SUBNQN);
	CU_ASSERT_EQUAL(id->mdts, 5);		/* 128 KiB in 4 KiB pages */
	CU_ASSERT_EQUAL(id->maxcmd, 128);
	CU_ASSERT_EQUAL(id->nn, 32);
	CU_ASSERT_EQUAL(id->cntrltype, 1);
	CU_ASSERT_EQUAL(id->oncs & 0xC, 0xC);
	CU_ASSERT_EQUAL(id->vwc & 1, 1);
	CU_ASSERT(id->lpa & NVME_CTRLR_LPA_CMD_EFFECTS);
	CU_ASSERT(id->oaes & NVME_AEN_CFG_NS_ATTR);
	CU_ASSERT_EQUAL(id->msdbd, 1);
	CU_ASSERT_EQUAL(id->sqes, 0x66);
	CU_ASSERT_EQUAL(id->cqes, 0x44);
	CU_ASSERT_EQUAL(memcmp(id->sn, "SN0001              ", 20), 0);
	CU_ASSERT_EQUAL(memcmp(id->mn, "nvmf_tgt ", 9), 0);

	/* Commands supported and effects: LPA bit1 makes it mandatory. */
	CU_ASSERT_EQUAL(lo_admin(tgt, &aq, NVME_OPC_GET_LOG_PAGE, 0,
				 NVME_LOG_CMD_EFFECTS | 1023u << 16, 0, buf, 4096, NULL), 0);
	CU_ASSERT_EQUAL(((uint32_t *)buf)[NVME_OPC_IDENTIFY], 1);
	CU_ASSERT_EQUAL(((uint32_t *)buf)[256 + NVME_OPC_WRITE] & 1, 1);
	/* SMART from hwmon: NSID all, 512 bytes */
	CU_ASSERT_EQUAL(lo_admin(tgt, &aq, NVME_OPC_GET_LOG_PAGE, 0xFFFFFFFF,
				 NVME_LOG_SMART | 127u << 16, 0, buf, 512, NULL), 0);
	CU_ASSERT(buf[1] | buf[2] << 8);	/* a temperature */

	CU_ASSERT_EQUAL(lo_admin(tgt, &aq, NVME_OPC_SET_FEATURES, 0, NVME_FEAT_NUM_QUEUES,
				 3 | 3 << 16, NULL, 0, &cpl), 0);
	CU_ASSERT_EQUAL(cpl.cdw0, 3 | 3 << 16);
	CU_ASSERT_EQUAL(lo_admin(tgt, &aq, NVME_OPC_SET_FEATURES, 0, NVME_FEAT_NUM_QUEUES,
				 100 | 100 << 16, NULL, 0, &cpl), 0);
	CU_ASSERT_EQUAL(cpl.cdw0, 7 | 7 << 16);	/* capped at max_io_qpairs - 1 */

	memset(buf, 0xFF, 4096);
	CU_ASSERT_EQUAL(lo_admin(tgt, &aq, NVME_OPC_IDENTIFY, 0, NVME_CNS_ACTIVE_NS_LIST,
				 0, buf, 4096, NULL), 0);
	CU_ASSERT_EQUAL(((uint32_t *)buf)[0], 1);
	CU_ASSERT_EQUAL(((uint32_t *)buf)[1], 0);
	CU_ASSERT_EQUAL(lo_admin(tgt, &aq, NVME_OPC_IDENTIFY, 1, NVME_CNS_NS_DESC_LIST,
				 0, buf, 4096, NULL), 0);
	CU_ASSERT_EQUAL(buf[0], NVME_NIDT_UUID);
	CU_ASSERT_EQUAL(buf[1], 16);
	CU_ASSERT_EQUAL(buf[4], 0x6b);
	CU_ASSERT_EQUAL(buf[19], 0x5b);
	CU_ASSERT_EQUAL(buf[20], NVME_NIDT_NGUID);
	CU_ASSERT_EQUAL(memcmp(buf + 24, buf + 4, 16), 0);	/* NGUID = UUID */
	CU_ASSERT_EQUAL(buf[40], NVME_NIDT_EUI64);
	CU_ASSERT_EQUAL(buf[44 + 7], 0x77);
	CU_ASSERT_EQUAL(buf[52], NVME_NIDT_CSI);
	CU_ASSERT_EQUAL(lo_admin(tgt, &aq, NVME_OPC_IDENTIFY, 1, NVME_CNS_NS, 0, ns,
				 4096, NULL), 0);
	CU_ASSERT_EQUAL(ns->nsze, 16u << 20 >> 9);
	CU_ASSERT_EQUAL(ns->ncap, ns->nsze);
	CU_ASSERT_EQUAL(ns->lbaf[0].lbads, 9);
	CU_ASSERT_EQUAL(ns->eui64[0], 0x00);
	CU_ASSERT_EQUAL(ns->eui64[7], 0x77);
	CU_ASSERT_EQUAL(ns->nguid[0], 0x6b);

	CU_ASSERT_EQUAL(lo_admin(tgt, &aq, NVME_OPC_SET_FEATURES, 0, NVME_FEAT_ASYNC_EVENT,
				 NVME_AEN_CFG_NS_ATTR, NULL, 0, NULL), 0);
	struct lo_req *aer = lo_start(&aq, &(struct nvme_cmd){
		.opc = NVME_OPC_ASYNC_EVENT_REQUEST, .cid = 31 }, NULL, 0);
	CU_ASSERT_EQUAL(aer->done, 0);
	CU_ASSERT_EQUAL(lo_admin(tgt, &aq, NVME_OPC_KEEP_ALIVE, 0, 0, 0, NULL, 0, NULL), 0);

	lo_qp_init(&ioq);
	CU_ASSERT_EQUAL(lo_connect(tgt, &ioq, 1, SUBNQN, LO_HOSTNQN, cntlid, 0, &cpl), 0);
	CU_ASSERT_EQUAL(cpl.cdw0, cntlid);
	CU_ASSERT_EQUAL(ioq.qp.qid, 1);
	CU_ASSERT_PTR_NOT_NULL(ioq.qp.ctrlr);
	/* Number of queues cannot change once I/O queues exist. */
	CU_ASSERT_EQUAL(lo_admin(tgt, &aq, NVME_OPC_SET_FEATURES, 0, NVME_FEAT_NUM_QUEUES,
				 1, NULL, 0, &cpl), NVME_SC_CMD_SEQ_ERROR);

	/* Admin queue torn down: held AER completes as aborted, I/O queue dropped. */
	nvmf_qpair_fini(&aq.qp);
	CU_ASSERT_EQUAL(aer->done, 1);
	CU_ASSERT_EQUAL(lo_status(&aer->cpl), NVME_SC_ABORTED_SQ_DELETION);
	CU_ASSERT_EQUAL(ioq.disconnects, 1);
	CU_ASSERT_PTR_NULL(ioq.qp.ctrlr);
	CU_ASSERT_EQUAL(aq.qp.outstanding, 0);
	free(aer);
	free(id);
	free(ns);
	free(buf);
	nvmf_tgt_destroy(tgt);
}

static void test_connect_errors(void)
{
	struct nvmf_tgt *tgt = tgt_new();
	struct lo_qp q, q2, aq;
	struct nvme_cpl cpl;
	struct nvme_cmd c;
	uint8_t small[100] = { 0 };
	uint16_t cntlid;
	uint64_t v;

	lo_qp_init(&q);
	CU_ASSERT_EQUAL(lo_connect(tgt, &q, 0, "nqn.2016-06.io.spdk:nope", LO_HOSTNQN,
				   0xFFFF, 0, &cpl), NVME_SC_CONNECT_INVALID_PARAM);
	CU_ASSERT(lo_dnr(&cpl));
	CU_ASSERT_EQUAL(cpl.cdw0, 1u << 16 | 256);	/* IATTR data, subnqn */
	CU_ASSERT_EQUAL(lo_connect(tgt, &q, 0, SUBNQN2, LO_HOSTNQN, 0xFFFF, 0, &cpl),
			NVME_SC_CONNECT_INVALID_HOST);
	CU_ASSERT(lo_dnr(&cpl));
	CU_ASSERT_PTR_NULL(q.qp.ctrlr);
	/* Commands before Connect. */
	CU_ASSERT_EQUAL(lo_prop_get(tgt, &q, NVME_REG_CAP, true, &v), NVME_SC_CMD_SEQ_ERROR);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_IDENTIFY, 0, 1, 0, NULL, 0, NULL),
			NVME_SC_CMD_SEQ_ERROR);
	/* Short connect data, record format. */
	lo_connect_cmd(&c, 0, 31, 0);
	CU_ASSERT_EQUAL(lo_cmd(tgt, &q, &c, small, sizeof(small), NULL),
			NVME_SC_DATA_SGL_LEN_INVALID);
	c.cdw10 |= 1;
	{
		struct nvmf_connect_data d = { .cntlid = 0xFFFF };

		strcpy(d.subnqn, SUBNQN);
		strcpy(d.hostnqn, LO_HOSTNQN);
		CU_ASSERT_EQUAL(lo_cmd(tgt, &q, &c, &d, sizeof(d), NULL),
				NVME_SC_CONNECT_INCOMPATIBLE);
		c.cdw10 &= ~1u;
		c.cdw11 = 4096;		/* sqsize over max_aq_depth */
		CU_ASSERT_EQUAL(lo_cmd(tgt, &q, &c, &d, sizeof(d), &cpl),
				NVME_SC_CONNECT_INVALID_PARAM);
		CU_ASSERT_EQUAL(cpl.cdw0, 44);
	}
	/* Allowed host on the restricted subsystem. */
	CU_ASSERT_EQUAL(lo_connect(tgt, &q, 0, SUBNQN2, HOSTX, 0xFFFF, 0, &cpl), 0);
	/* A second Connect on a connected queue. */
	CU_ASSERT_EQUAL(lo_connect(tgt, &q, 0, SUBNQN2, HOSTX, 0xFFFF, 0, &cpl),
			NVME_SC_CMD_SEQ_ERROR);
	/* Admin command while CC.EN = 0. */
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_IDENTIFY, 0, 1, 0, NULL, 0, NULL),
			NVME_SC_CMD_SEQ_ERROR);

	cntlid = lo_admin_up(tgt, &aq, SUBNQN, 0);
	lo_qp_init(&q2);
	CU_ASSERT_EQUAL(lo_connect(tgt, &q2, 1, SUBNQN, LO_HOSTNQN, cntlid + 100, 0, &cpl),
			NVME_SC_CONNECT_INVALID_PARAM);
	CU_ASSERT_EQUAL(cpl.cdw0, 1u << 16 | 16);	/* data, cntlid */
	CU_ASSERT_EQUAL(lo_connect(tgt, &q2, 1, SUBNQN, HOSTX, cntlid, 0, &cpl),
			NVME_SC_CONNECT_INVALID_PARAM);
	CU_ASSERT_EQUAL(cpl.cdw0, 1u << 16 | 512);	/* data, hostnqn */
	CU_ASSERT_EQUAL(lo_connect(tgt, &q2, 9, SUBNQN, LO_HOSTNQN, cntlid, 0, &cpl),
			NVME_SC_CONNECT_INVALID_PARAM);
	CU_ASSERT_EQUAL(cpl.cdw0, 42);			/* SQE, qid */
	CU_ASSERT_EQUAL(lo_connect(tgt, &q2, 8, SUBNQN, LO_HOSTNQN, cntlid, 0, &cpl), 0);

	nvmf_qpair_fini(&q2.qp);
	nvmf_qpair_fini(&aq.qp);
	nvmf_qpair_fini(&q.qp);
	nvmf_tgt_destroy(tgt);
}

static void test_cntlid_unique(void)
{
	struct nvmf_tgt *tgt = tgt_new();
	struct lo_qp a, b, c;
	uint16_t ia, ib, ic;

	ia = lo_admin_up(tgt, &a, SUBNQN, 0);
	ib = lo_admin_up(tgt, &b, SUBNQN, 0);
	CU_ASSERT_NOT_EQUAL(ia, ib);
	nvmf_qpair_fini(&a.qp);
	ic = lo_admin_up(tgt, &c, SUBNQN, 0);
	CU_ASSERT_NOT_EQUAL(ic, ib);
	nvmf_qpair_fini(&b.qp);
	nvmf_qpair_fini(&c.qp);
	nvmf_tgt_destroy(tgt);
}

/* More hosts than the CNTLID range holds: Controller Busy, until one leaves. */
static void test_cntlid_exhausted(void)
{
	struct nvmf_tgt *tgt = tgt_new();
	struct nvmf_subsystem *s = nvmf_subsystem_find(tgt, SUBNQN);
	struct lo_qp a, b, c;
	struct nvme_cpl cpl;

	s->min_cntlid = s->next_cntlid = 7;
	s->max_cntlid = 8;
	CU_ASSERT_EQUAL(lo_admin_up(tgt, &a, SUBNQN, 0), 7);
	CU_ASSERT_EQUAL(lo_admin_up(tgt, &b, SUBNQN, 0), 8);
	lo_qp_init(&c);
	CU_ASSERT_EQUAL(lo_connect(tgt, &c, 0, SUBNQN, LO_HOSTNQN, 0xFFFF, 0, &cpl),
			NVME_SC_CONNECT_CTRL_BUSY);
	CU_ASSERT_EQUAL(c.qp.ctrlr, NULL);
	nvmf_qpair_fini(&a.qp);
	CU_ASSERT_EQUAL(lo_connect(tgt, &c, 0, SUBNQN, LO_HOSTNQN, 0xFFFF, 0, &cpl), 0);
	CU_ASSERT_EQUAL(cpl.cdw0, 7);
	nvmf_qpair_fini(&b.qp);
	nvmf_qpair_fini(&c.qp);
	nvmf_tgt_destroy(tgt);
}

static void test_admin_errors(void)
{
	struct nvmf_tgt *tgt = tgt_new();
	uint8_t *buf = calloc(1, 4096);
	struct lo_req *aer[5];
	struct nvme_cpl cpl;
	struct lo_qp q;
	uint64_t v;

	lo_admin_up(tgt, &q, SUBNQN, 0);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, 0x80, 0, 0, 0, NULL, 0, &cpl), NVME_SC_INVALID_OPCODE);
	CU_ASSERT(lo_dnr(&cpl));
	memset(buf, 0xFF, 4096);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_IDENTIFY, 0, NVME_CNS_CTRLR_CSI, 0, buf,
				 4096, &cpl), 0);
	CU_ASSERT_EQUAL(buf[0] | buf[4095], 0);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_IDENTIFY, 0, NVME_CNS_CTRLR_CSI, 2u << 24,
				 buf, 4096, &cpl), NVME_SC_INVALID_FIELD);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_IDENTIFY, 0, 0x05, 0, buf, 4096, &cpl),
			NVME_SC_INVALID_FIELD);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_IDENTIFY, 0, NVME_CNS_NS, 0, buf, 4096,
				 NULL), NVME_SC_INVALID_NS);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_IDENTIFY, 33, NVME_CNS_NS, 0, buf, 4096,
				 NULL), NVME_SC_INVALID_NS);
	memset(buf, 0xFF, 4096);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_IDENTIFY, 5, NVME_CNS_NS, 0, buf, 4096,
				 NULL), 0);
	CU_ASSERT_EQUAL(buf[0] | buf[8] | buf[4095], 0);	/* inactive: zeroes */
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_IDENTIFY, 5, NVME_CNS_NS_DESC_LIST, 0,
				 buf, 4096, NULL), NVME_SC_INVALID_NS);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_IDENTIFY, 0xFFFFFFFE,
				 NVME_CNS_ACTIVE_NS_LIST, 0, buf, 4096, NULL), NVME_SC_INVALID_NS);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_GET_LOG_PAGE, 0, 0x0C | 127u << 16, 0,
				 buf, 512, NULL), NVME_SC_INVALID_LOG_PAGE);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_GET_LOG_PAGE, 0, NVME_LOG_DISC | 255u << 16,
				 0, buf, 1024, NULL), NVME_SC_INVALID_LOG_PAGE);
	{
		struct nvme_cmd c = { .opc = NVME_OPC_GET_LOG_PAGE, .cid = 9,
				      .cdw10 = NVME_LOG_SMART | 127u << 16, .cdw12 = 2 };

		CU_ASSERT_EQUAL(lo_cmd(tgt, &q, &c, buf, 512, NULL), NVME_SC_INVALID_FIELD);
		c.cdw12 = 516;	/* past the 512-byte page */
		CU_ASSERT_EQUAL(lo_cmd(tgt, &q, &c, buf, 512, NULL), NVME_SC_INVALID_FIELD);
		c.cdw12 = 8;	/* tail of the page, rest zero-filled */
		memset(buf, 0xEE, 512);
		CU_ASSERT_EQUAL(lo_cmd(tgt, &q, &c, buf, 512, NULL), 0);
		CU_ASSERT_EQUAL(buf[511], 0);
	}
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_GET_LOG_PAGE, 0, NVME_LOG_ERROR | 15u << 16,
				 0, buf, 64, NULL), 0);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_GET_LOG_PAGE, 0, NVME_LOG_FW_SLOT | 127u << 16,
				 0, buf, 512, NULL), 0);
	CU_ASSERT_EQUAL(buf[0], 1);
	CU_ASSERT_EQUAL(memcmp(buf + 8, "0.1.0", 5), 0);

	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_GET_FEATURES, 0, 0x7E, 0, NULL, 0, NULL),
			NVME_SC_INVALID_FIELD);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_SET_FEATURES, 0,
				 NVME_FEAT_ARBITRATION | 1u << 31, 0, NULL, 0, NULL),
			NVME_SC_FEATURE_NOT_SAVEABLE);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_SET_FEATURES, 0, NVME_FEAT_NUM_QUEUES,
				 0xFFFF, NULL, 0, NULL), NVME_SC_INVALID_FIELD);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_SET_FEATURES, 0, NVME_FEAT_POWER_MGMT, 1,
				 NULL, 0, NULL), NVME_SC_INVALID_FIELD);
	/* Features a host reads and writes. */
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_SET_FEATURES, 0, NVME_FEAT_TEMP_THRESH,
				 350, NULL, 0, NULL), 0);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_GET_FEATURES, 0, NVME_FEAT_TEMP_THRESH, 0,
				 NULL, 0, &cpl), 0);
	CU_ASSERT_EQUAL(cpl.cdw0, 350);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_SET_FEATURES, 0, NVME_FEAT_VOLATILE_WC, 0,
				 NULL, 0, NULL), 0);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_GET_FEATURES, 0, NVME_FEAT_VOLATILE_WC, 0,
				 NULL, 0, &cpl), 0);
	CU_ASSERT_EQUAL(cpl.cdw0, 0);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_SET_FEATURES, 0, NVME_FEAT_KATO, 7000,
				 NULL, 0, NULL), 0);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_GET_FEATURES, 0, NVME_FEAT_KATO, 0,
				 NULL, 0, &cpl), 0);
	CU_ASSERT_EQUAL(cpl.cdw0, 7000);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_GET_FEATURES, 0, NVME_FEAT_ARBITRATION |
				 3u << 8, 0, NULL, 0, &cpl), 0);
	CU_ASSERT_EQUAL(cpl.cdw0, 1u << 2);		/* changeable */
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_GET_FEATURES, 0, NVME_FEAT_HOST_ID, 1,
				 buf, 16, NULL), 0);
	CU_ASSERT_EQUAL(buf[0], 0xAB);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_GET_FEATURES, 0, NVME_FEAT_HOST_ID, 0,
				 buf, 16, NULL), NVME_SC_INVALID_FIELD);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_SET_FEATURES, 0, NVME_FEAT_HOST_ID, 1,
				 buf, 16, NULL), NVME_SC_CMD_SEQ_ERROR);

	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_ABORT, 0, 5, 0, NULL, 0, &cpl), 0);
	CU_ASSERT_EQUAL(cpl.cdw0 & 1, 1);			/* not aborted */

	for (int i = 0; i < 5; i++)
		aer[i] = lo_start(&q, &(struct nvme_cmd){ .opc = NVME_OPC_ASYNC_EVENT_REQUEST,
							  .cid = (uint16_t)(40 + i) }, NULL, 0);
	for (int i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(aer[i]->done, 0);
	CU_ASSERT_EQUAL(aer[4]->done, 1);
	CU_ASSERT_EQUAL(lo_status(&aer[4]->cpl), NVME_SC_ASYNC_LIMIT);

	CU_ASSERT_EQUAL(lo_prop_get(tgt, &q, 0x30, false, &v), NVME_SC_INVALID_FIELD);
	CU_ASSERT_EQUAL(lo_prop_get(tgt, &q, NVME_REG_CAP, false, &v), NVME_SC_INVALID_FIELD);
	CU_ASSERT_EQUAL(lo_prop_set(tgt, &q, NVME_REG_CAP, 0), NVME_SC_INVALID_FIELD);
	{
		struct nvme_cmd c = { .opc = NVME_OPC_FABRICS, .cid = 5,
				      .nsid = NVMF_FCTYPE_AUTH_SEND };

		CU_ASSERT_EQUAL(lo_cmd(tgt, &q, &c, NULL, 0, NULL), NVME_SC_INVALID_OPCODE);
		c.opc = NVME_OPC_IDENTIFY;
		c.flags = 1;	/* fused */
		CU_ASSERT_EQUAL(lo_cmd(tgt, &q, &c, NULL, 0, NULL), NVME_SC_INVALID_FIELD);
	}
	nvmf_qpair_fini(&q.qp);
	for (int i = 0; i < 5; i++) {
		CU_ASSERT_EQUAL(aer[i]->done, 1);
		free(aer[i]);
	}
	free(buf);
	nvmf_tgt_destroy(tgt);
}

static void test_shutdown_and_reset(void)
{
	struct nvmf_tgt *tgt = tgt_new();
	struct lo_qp aq, ioq;
	struct nvme_cpl cpl;
	uint16_t cntlid;
	uint64_t v;

	cntlid = lo_admin_up(tgt, &aq, SUBNQN, 0);
	lo_qp_init(&ioq);
	CU_ASSERT_EQUAL(lo_connect(tgt, &ioq, 1, SUBNQN, LO_HOSTNQN, cntlid, 0, &cpl), 0);
	/* Reset: CC.EN = 0 drops I/O queues and clears RDY. */
	CU_ASSERT_EQUAL(lo_prop_set(tgt, &aq, NVME_REG_CC, LO_CC_ENABLE & ~1u), 0);
	CU_ASSERT_EQUAL(ioq.disconnects, 1);
	CU_ASSERT_EQUAL(lo_prop_get(tgt, &aq, NVME_REG_CSTS, false, &v), 0);
	CU_ASSERT_EQUAL(v & NVME_CSTS_RDY, 0);
	/* Bad CC on enable: CFS. */
	CU_ASSERT_EQUAL(lo_prop_set(tgt, &aq, NVME_REG_CC, 1), 0);
	CU_ASSERT_EQUAL(lo_prop_get(tgt, &aq, NVME_REG_CSTS, false, &v), 0);
	CU_ASSERT_EQUAL(v & (NVME_CSTS_CFS | NVME_CSTS_RDY), NVME_CSTS_CFS);
	CU_ASSERT_EQUAL(lo_prop_set(tgt, &aq, NVME_REG_CC, 0), 0);
	CU_ASSERT_EQUAL(lo_prop_set(tgt, &aq, NVME_REG_CC, LO_CC_ENABLE), 0);
	CU_ASSERT_EQUAL(lo_prop_get(tgt, &aq, NVME_REG_CSTS, false, &v), 0);
	CU_ASSERT_EQUAL(v, NVME_CSTS_RDY);
	/* Shutdown: SHST complete. */
	CU_ASSERT_EQUAL(lo_prop_set(tgt, &aq, NVME_REG_CC, LO_CC_ENABLE | 1u << 14), 0);
	CU_ASSERT_EQUAL(lo_prop_get(tgt, &aq, NVME_REG_CSTS, false, &v), 0);
	CU_ASSERT_EQUAL(v & NVME_CSTS_SHST_MASK, NVME_CSTS_SHST_CMPLT);
	nvmf_qpair_fini(&aq.qp);
	nvmf_tgt_destroy(tgt);
}

static void test_keep_alive_expiry(void)
{
	struct nvmf_tgt *tgt = tgt_new();
	struct lo_qp aq, ioq;
	struct nvme_cpl cpl;
	uint16_t cntlid;
	uint64_t start, last_ka = 0;

	cntlid = lo_admin_up(tgt, &aq, SUBNQN, 200);
	lo_qp_init(&ioq);
	CU_ASSERT_EQUAL(lo_connect(tgt, &ioq, 1, SUBNQN, LO_HOSTNQN, cntlid, 0, &cpl), 0);
	/* Keep-alives every ~20 ms hold the 200 ms controller for 500 ms. */
	start = nvmf_now_us();
	while (nvmf_now_us() - start < 500000) {
		CU_ASSERT_EQUAL(lo_admin(tgt, &aq, NVME_OPC_KEEP_ALIVE, 0, 0, 0, NULL, 0,
					 NULL), 0);
		last_ka = nvmf_now_us();
		nvmf_loop_once(tgt, 10);
		nvmf_loop_once(tgt, 10);
	}
	CU_ASSERT_EQUAL(aq.disconnects, 0);
	/* Then silence: the loop sleeps until the deadline and tears it down. */
	start = nvmf_now_us();
	while (!aq.disconnects && nvmf_now_us() - start < 2000000)
		nvmf_loop_once(tgt, 50);
	CU_ASSERT_EQUAL(aq.disconnects, 1);
	CU_ASSERT_EQUAL(ioq.disconnects, 1);
	CU_ASSERT(nvmf_now_us() - last_ka >= 195000);
	CU_ASSERT_PTR_NULL(aq.qp.ctrlr);
	CU_ASSERT_PTR_NULL(nvmf_subsystem_find(tgt, SUBNQN)->ctrlrs);
	nvmf_tgt_destroy(tgt);
}

static void disc_read(struct nvmf_tgt *tgt, struct lo_qp *q, uint64_t lpo, void *buf,
		      uint32_t len, nvme_status want)
{
	struct nvme_cmd c = { .opc = NVME_OPC_GET_LOG_PAGE, .cid = 11 };
	uint32_t numd = len / 4 - 1;

	c.cdw10 = NVME_LOG_DISC | (numd & 0xFFFF) << 16;
	c.cdw11 = numd >> 16;
	c.cdw12 = (uint32_t)lpo;
	c.cdw13 = (uint32_t)(lpo >> 32);
	CU_ASSERT_EQUAL(lo_cmd(tgt, q, &c, buf, len, NULL), want);
}

static void test_discovery(void)
{
	struct nvmf_tgt *tgt = tgt_new();
	struct nvme_id_ctrl *id = calloc(1, 4096);
	uint8_t *full = calloc(1, 8192), *part = calloc(1, 8192);
	struct nvmf_disc_log_hdr *h = (void *)full;
	struct nvmf_disc_log_entry *e = (void *)(full + 1024);
	struct lo_qp q, qx;

	lo_admin_up(tgt, &q, NVMF_DISCOVERY_NQN, 0);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_IDENTIFY, 0, NVME_CNS_CTRLR, 0, id, 4096,
				 NULL), 0);
	CU_ASSERT_EQUAL(id->cntrltype, 2);
	CU_ASSERT_STRING_EQUAL(id->subnqn, NVMF_DISCOVERY_NQN);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_IDENTIFY, 1, NVME_CNS_NS, 0, id, 4096,
				 NULL), NVME_SC_INVALID_FIELD);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_SET_FEATURES, 0, NVME_FEAT_NUM_QUEUES, 1,
				 NULL, 0, NULL), NVME_SC_INVALID_FIELD);

	/* Host LO_HOSTNQN: current discovery + cnode1 x 2 listeners (not cnode2). */
	disc_read(tgt, &q, 0, full, 4096, 0);
	CU_ASSERT_EQUAL(h->numrec, 3);
	CU_ASSERT(h->genctr > 0);
	CU_ASSERT_EQUAL(e[0].subtype, NVMF_SUBTYPE_DISCOVERY_CURRENT);
	CU_ASSERT_STRING_EQUAL(e[0].subnqn, NVMF_DISCOVERY_NQN);
	CU_ASSERT_EQUAL(e[1].subtype, NVMF_SUBTYPE_NVME);
	CU_ASSERT_EQUAL(e[1].trtype, NVMF_TRTYPE_RDMA);
	CU_ASSERT_EQUAL(e[1].adrfam, NVMF_ADRFAM_IPV4);
	CU_ASSERT_EQUAL(e[1].cntlid, 0xFFFF);
	CU_ASSERT_STRING_EQUAL(e[1].subnqn, SUBNQN);
	CU_ASSERT_EQUAL(memcmp(e[1].traddr, "10.0.0.1 ", 9), 0);
	CU_ASSERT_EQUAL(memcmp(e[1].trsvcid, "4420 ", 5), 0);
	CU_ASSERT_EQUAL(memcmp(e[2].traddr, "10.0.0.2 ", 9), 0);
	CU_ASSERT_EQUAL(e[2].portid, 1);
	CU_ASSERT_EQUAL(e[1].tsas.rdma.qptype, NVMF_RDMA_QPTYPE_CONNECTED);
	CU_ASSERT_EQUAL(e[1].tsas.rdma.cms, NVMF_RDMA_CMS_RDMA_CM);

	/* libnvme HEAD: 20-byte header, entries from LPO 1024 in small chunks. */
	disc_read(tgt, &q, 0, part, 20, 0);
	CU_ASSERT_EQUAL(memcmp(part, full, 20), 0);
	for (uint32_t off = 1024; off < 4096; off += 1000)
		disc_read(tgt, &q, off, part + off, 1000, 0);
	CU_ASSERT_EQUAL(memcmp(part + 1024, full + 1024, 3 * 1024), 0);
	/* A read past the records returns zeroes; unaligned LPO is refused. */
	disc_read(tgt, &q, 4096, part, 1024, 0);
	CU_ASSERT_EQUAL(part[0] | part[1023], 0);
	disc_read(tgt, &q, 8192, part, 1024, NVME_SC_INVALID_FIELD);
	disc_read(tgt, &q, 1026, part, 1024, NVME_SC_INVALID_FIELD);
	disc_read(tgt, &q, 0, part, 4096, 0);
	CU_ASSERT_EQUAL(((struct nvmf_disc_log_hdr *)part)->genctr, h->genctr);

	/* Host HOSTX also sees cnode2. */
	lo_qp_init(&qx);
	CU_ASSERT_EQUAL(lo_connect(tgt, &qx, 0, NVMF_DISCOVERY_NQN, HOSTX, 0xFFFF, 0, NULL), 0);
	CU_ASSERT_EQUAL(lo_prop_set(tgt, &qx, NVME_REG_CC, LO_CC_ENABLE), 0);
	disc_read(tgt, &qx, 0, full, 8192, 0);
	CU_ASSERT_EQUAL(h->numrec, 4);
	CU_ASSERT_STRING_EQUAL(e[3].subnqn, SUBNQN2);

	nvmf_qpair_fini(&q.qp);
	nvmf_qpair_fini(&qx.qp);
	free(id);
	free(full);
	free(part);
	nvmf_tgt_destroy(tgt);
}

static void test_ns_changed_aen(void)
{
	struct nvmf_tgt *tgt = tgt_new();
	uint32_t *list = calloc(1, 4096);
	struct lo_req *aer;
	struct lo_qp q;

	lo_admin_up(tgt, &q, SUBNQN, 0);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_SET_FEATURES, 0, NVME_FEAT_ASYNC_EVENT,
				 NVME_AEN_CFG_NS_ATTR, NULL, 0, NULL), 0);
	aer = lo_start(&q, &(struct nvme_cmd){ .opc = NVME_OPC_ASYNC_EVENT_REQUEST,
					       .cid = 31 }, NULL, 0);
	CU_ASSERT_EQUAL(aer->done, 0);
	nvmf_subsystem_ns_changed(nvmf_subsystem_find(tgt, SUBNQN), 1);
	CU_ASSERT_EQUAL(aer->done, 1);
	CU_ASSERT_EQUAL(lo_status(&aer->cpl), 0);
	CU_ASSERT_EQUAL(aer->cpl.cdw0, 0x040002);
	CU_ASSERT_EQUAL(aer->cpl.cid, 31);
	free(aer);
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_GET_LOG_PAGE, 0xFFFFFFFF,
				 NVME_LOG_CHANGED_NS | 1023u << 16, 0, list, 4096, NULL), 0);
	CU_ASSERT_EQUAL(list[0], 1);
	CU_ASSERT_EQUAL(list[1], 0);
	/* Read once: the list is empty again. */
	CU_ASSERT_EQUAL(lo_admin(tgt, &q, NVME_OPC_GET_LOG_PAGE, 0xFFFFFFFF,
				 NVME_LOG_CHANGED_NS | 1023u << 16, 0, list, 4096, NULL), 0);
	CU_ASSERT_EQUAL(list[0], 0);
	nvmf_qpair_fini(&q.qp);
	free(list);
	nvmf_tgt_destroy(tgt);
}

static void timer_cb(void *arg)
{
	(*(int *)arg)++;
}

static int poll_cb(void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void test_loop_sleeps_and_timers(void)
{
	struct nvmf_tgt *tgt = nvmf_tgt_create();
	struct nvmf_poller *p;
	struct nvmf_timer *t;
	int fired = 0, polls = 0;
	uint64_t start;

	p = nvmf_poller_add(tgt, "count", poll_cb, NULL, -1, &polls);
	CU_ASSERT_PTR_NOT_NULL(p);
	t = nvmf_timer_add(tgt, timer_cb, &fired);
	start = nvmf_now_us();
	/* Nothing to do: the loop sleeps the whole timeout in epoll. */
	CU_ASSERT_EQUAL(nvmf_loop_once(tgt, 30), 0);
	CU_ASSERT(nvmf_now_us() - start >= 25000);
	CU_ASSERT(polls >= 2);		/* polled, armed, polled again */
	/* An armed timer cuts the sleep short and then fires once. */
	start = nvmf_now_us();
	nvmf_timer_arm(t, start + 20000);
	nvmf_loop_once(tgt, 1000);
	CU_ASSERT(nvmf_now_us() - start < 500000);
	CU_ASSERT_EQUAL(nvmf_loop_once(tgt, 0), 1);
	CU_ASSERT_EQUAL(fired, 1);
	CU_ASSERT_EQUAL(nvmf_loop_once(tgt, 0), 0);
	CU_ASSERT_EQUAL(fired, 1);
	nvmf_poller_del(tgt, p);
	nvmf_timer_del(tgt, t);
	nvmf_tgt_destroy(tgt);
}

int main(void)
{
	static const struct ut_test tests[] = {
		{ "Linux host connect sequence", test_linux_connect_sequence },
		{ "Connect errors and allowlist", test_connect_errors },
		{ "CNTLID unique per subsystem", test_cntlid_unique },
		{ "CNTLID range full: Controller Busy", test_cntlid_exhausted },
		{ "admin command errors and features", test_admin_errors },
		{ "CC reset and shutdown", test_shutdown_and_reset },
		{ "keep-alive expiry", test_keep_alive_expiry },
		{ "discovery log page", test_discovery },
		{ "namespace changed AEN", test_ns_changed_aen },
		{ "loop sleeps when idle", test_loop_sleeps_and_timers },
	};
	unsigned int failures;
	char path[128];
	char *d;

	log_set_level(getenv("UT_DEBUG") ? LOGL_DEBUG : LOGL_ERROR);
	setenv(NVMF_AIO_SIZE_ENV, "16", 1);
	d = lo_tmpdir();

	if (!d) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(g_dir, sizeof(g_dir), "%s", d);
	make_cfg();
	failures = ut_run("nvmf", NULL, NULL, tests, UT_COUNT(tests));
	snprintf(path, sizeof(path), "%s/d0", g_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/d1", g_dir);
	unlink(path);
	rmdir(g_dir);
	return failures ? 1 : 0;
}
