/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: command capsules through the transport's SGL parse and the
 * core's parse and execute steps (admin, fabrics incl. Property Get/Set,
 * Get Log Page, I/O) on a connected controller with a null namespace.
 * Input: records of [queue byte][64-byte SQE][2-byte data length][data].
 */
#include "transport/rdma_sgl.h"
#include "tests/fuzz/fuzz.h"

#define NQN "nqn.2016-06.io.spdk:fuzz"
#define HOST "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-00000000f00d"
#define DATA_MAX 8192

static const char *g_cfg =
	"{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":[{\"method\":\"bdev_null_create\","
	"\"params\":{\"name\":\"n0\",\"num_blocks\":2048,\"block_size\":512}}]},"
	"{\"subsystem\":\"nvmf\",\"config\":[{\"method\":\"nvmf_create_transport\","
	"\"params\":{\"trtype\":\"RDMA\",\"max_io_qpairs_per_ctrlr\":4}},"
	"{\"method\":\"nvmf_create_subsystem\",\"params\":{\"nqn\":\"" NQN "\","
	"\"allow_any_host\":true}},{\"method\":\"nvmf_subsystem_add_ns\",\"params\":{\"nqn\":"
	"\"" NQN "\",\"namespace\":{\"bdev_name\":\"n0\"}}}]}]}";

static int connect_q(struct nvmf_tgt *tgt, struct lo_qp *q, uint16_t qid, uint16_t cntlid)
{
	struct nvme_cmd c = { .opc = NVME_OPC_FABRICS, .cid = 1, .nsid = NVMF_FCTYPE_CONNECT };
	struct nvmf_connect_data d = { 0 };

	c.cdw10 = (uint32_t)qid << 16;
	c.cdw11 = 31;
	d.cntlid = cntlid;
	strcpy(d.subnqn, NQN);
	strcpy(d.hostnqn, HOST);
	lo_qp_init(q);
	return fz_cmd(tgt, q, &c, &d, sizeof(d));
}

static void prop_set_cc(struct nvmf_tgt *tgt, struct lo_qp *q, uint32_t cc)
{
	struct nvme_cmd c = { .opc = NVME_OPC_FABRICS, .cid = 2,
			      .nsid = NVMF_FCTYPE_PROPERTY_SET, .cdw11 = NVME_REG_CC,
			      .cdw12 = cc };

	fz_cmd(tgt, q, &c, NULL, 0);
}

static void one(struct nvmf_tgt *tgt, struct lo_qp *aq, struct lo_qp *ioq,
		const uint8_t *rec, const uint8_t *payload, uint32_t len)
{
	static uint8_t buf[DATA_MAX];
	const struct nvmf_rdma_sgl_limits lim = { .max_io_size = 131072, .icd_size = 4096 };
	struct nvmf_rdma_sgl sgl;
	struct nvme_cmd cmd;
	struct nvmf_req req = { .cmd = &cmd };

	memcpy(&cmd, rec + 1, sizeof(cmd));
	memcpy(buf, payload, len);
	/* What the transport does with the SGL first (in-capsule data: payload). */
	req.xfer = nvmf_req_xfer(&req);
	if (req.xfer == NVMF_XFER_HOST_TO_CTRLR || req.xfer == NVMF_XFER_CTRLR_TO_HOST)
		nvmf_rdma_sgl_parse(&cmd, req.xfer == NVMF_XFER_HOST_TO_CTRLR, buf, len, &lim,
				    &sgl);
	fz_cmd(tgt, rec[0] & 1 ? ioq : aq, &cmd, len ? buf : NULL, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvmf_tgt *tgt = fz_tgt(g_cfg);
	struct lo_qp aq, ioq;
	size_t off = 0;

	connect_q(tgt, &aq, 0, 0xFFFF);
	prop_set_cc(tgt, &aq, 0x460001);	/* enable, as Linux does */
	connect_q(tgt, &ioq, 1, 1);
	while (size - off >= 1 + 64 + 2) {
		const uint8_t *rec = data + off;
		uint32_t len = (uint32_t)rec[65] | (uint32_t)rec[66] << 8;

		off += 67;
		if (len > size - off)
			len = (uint32_t)(size - off);
		if (len > DATA_MAX)
			len = DATA_MAX;
		one(tgt, &aq, &ioq, rec, data + off, len);
		off += len;
	}
	nvmf_qpair_fini(&ioq.qp);
	nvmf_qpair_fini(&aq.qp);
	nvmf_tgt_destroy(tgt);
	fz_free_pending();
	return 0;
}
