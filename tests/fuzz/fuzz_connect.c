/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: what a host sends before it has a controller: the RDMA CM
 * private data, then Connect (SQE + 1024 bytes of connect data) on an
 * admin queue, then Connect on an I/O queue for whatever controller the
 * first made. Input: [2-byte pdata length][pdata][SQE][data][SQE][data].
 */
#include "transport/rdma.h"
#include "tests/fuzz/fuzz.h"

#define NQN "nqn.2016-06.io.spdk:fuzz"

static const char *g_cfg =
	"{\"subsystems\":[{\"subsystem\":\"nvmf\",\"config\":[{\"method\":"
	"\"nvmf_create_transport\",\"params\":{\"trtype\":\"RDMA\"}},"
	"{\"method\":\"nvmf_create_subsystem\",\"params\":{\"nqn\":\"" NQN "\","
	"\"allow_any_host\":true}}]}]}";

/* One Connect from the input at *off; false when the input is used up. */
static bool connect_from(struct nvmf_tgt *tgt, struct lo_qp *q, const uint8_t *data,
			 size_t size, size_t *off)
{
	static struct nvmf_connect_data d;
	struct nvme_cmd c;
	size_t n;

	if (size - *off < sizeof(c))
		return false;
	memcpy(&c, data + *off, sizeof(c));
	*off += sizeof(c);
	c.opc = NVME_OPC_FABRICS;		/* a Connect, whatever else it says */
	c.nsid = NVMF_FCTYPE_CONNECT;
	n = size - *off < sizeof(d) ? size - *off : sizeof(d);
	memset(&d, 0, sizeof(d));
	memcpy(&d, data + *off, n);
	*off += n;
	lo_qp_init(q);
	fz_cmd(tgt, q, &c, &d, (uint32_t)n);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvmf_tgt *tgt;
	struct lo_qp aq, ioq;
	uint16_t qid, depth;
	size_t off = 2, plen;

	if (size < 2)
		return 0;
	tgt = fz_tgt(g_cfg);
	plen = (size_t)data[0] | (size_t)data[1] << 8;
	if (plen > size - off)
		plen = size - off;
	nvmf_rdma_cm_check(data + off, (uint32_t)plen, &tgt->topts, &qid, &depth);
	off += plen;
	memset(&aq, 0, sizeof(aq));
	memset(&ioq, 0, sizeof(ioq));
	if (connect_from(tgt, &aq, data, size, &off) && aq.qp.ctrlr) {
		struct nvme_cmd cc = { .opc = NVME_OPC_FABRICS, .cid = 2,
				       .nsid = NVMF_FCTYPE_PROPERTY_SET, .cdw11 = NVME_REG_CC,
				       .cdw12 = 0x460001 };

		fz_cmd(tgt, &aq, &cc, NULL, 0);
	}
	if (aq.qp.transport)
		connect_from(tgt, &ioq, data, size, &off);
	if (ioq.qp.transport)
		nvmf_qpair_fini(&ioq.qp);
	if (aq.qp.transport)
		nvmf_qpair_fini(&aq.qp);
	nvmf_tgt_destroy(tgt);
	fz_free_pending();
	return 0;
}
