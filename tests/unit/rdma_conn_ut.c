/* SPDX-License-Identifier: BSD-3-Clause */
/* The NVMe-oF RDMA CM private data a host sends, and what we reject. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "target/nvmf.h"
#include "transport/rdma.h"
#include "transport/rdma_int.h"
#include "tests/unit/ut.h"


static struct nvmf_transport_opts g_opts = {
	.max_queue_depth = 128,
	.max_io_qpairs_per_ctrlr = 127,
	.max_aq_depth = 32,
};

static struct nvmf_rdma_cm_req req(uint16_t qid, uint16_t hrq, uint16_t hsq)
{
	struct nvmf_rdma_cm_req r;

	memset(&r, 0, sizeof(r));
	r.qid = qid;
	r.hrqsize = hrq;
	r.hsqsize = hsq;
	return r;
}

static int check(const struct nvmf_rdma_cm_req *r, uint32_t len, uint16_t *depth)
{
	uint16_t qid = 0xFFFF;

	return nvmf_rdma_cm_check(r, len, &g_opts, &qid, depth);
}

static void test_linux_host(void)
{
	struct nvmf_rdma_cm_req r;
	uint16_t depth = 0;

	/* Admin queue: hrqsize 32, hsqsize 31. */
	r = req(0, 32, 31);
	CU_ASSERT_EQUAL(check(&r, sizeof(r), &depth), 0);
	CU_ASSERT_EQUAL(depth, 32);
	/* I/O queue of 128: hsqsize 127; CM private data may be longer. */
	r = req(1, 128, 127);
	CU_ASSERT_EQUAL(check(&r, 56, &depth), 0);
	CU_ASSERT_EQUAL(depth, 128);
	r = req(127, 2, 1);
	CU_ASSERT_EQUAL(check(&r, sizeof(r), &depth), 0);
	CU_ASSERT_EQUAL(depth, 2);
}

static void test_rejects(void)
{
	struct nvmf_rdma_cm_req r = req(1, 128, 127);
	uint16_t depth;

	CU_ASSERT_EQUAL(check(NULL, 0, &depth), NVMF_RDMA_REJ_INVALID_PRIVATE_DATA_LENGTH);
	CU_ASSERT_EQUAL(check(&r, 31, &depth), NVMF_RDMA_REJ_INVALID_PRIVATE_DATA_LENGTH);
	r.recfmt = 1;
	CU_ASSERT_EQUAL(check(&r, sizeof(r), &depth), NVMF_RDMA_REJ_INVALID_RECFMT);
	r = req(128, 128, 127);
	CU_ASSERT_EQUAL(check(&r, sizeof(r), &depth), NVMF_RDMA_REJ_INVALID_QID);
	r = req(1, 128, 128);		/* 129 entries > max_queue_depth */
	CU_ASSERT_EQUAL(check(&r, sizeof(r), &depth), NVMF_RDMA_REJ_INVALID_HSQSIZE);
	r = req(1, 128, 0);		/* a queue of one entry */
	CU_ASSERT_EQUAL(check(&r, sizeof(r), &depth), NVMF_RDMA_REJ_INVALID_HSQSIZE);
	r = req(1, 129, 127);
	CU_ASSERT_EQUAL(check(&r, sizeof(r), &depth), NVMF_RDMA_REJ_INVALID_HRQSIZE);
	r = req(1, 0, 127);
	CU_ASSERT_EQUAL(check(&r, sizeof(r), &depth), NVMF_RDMA_REJ_INVALID_HRQSIZE);
	/* The admin queue is held to max_aq_depth. */
	r = req(0, 64, 63);
	CU_ASSERT_EQUAL(check(&r, sizeof(r), &depth), NVMF_RDMA_REJ_INVALID_HSQSIZE);
	r = req(0, 33, 31);
	CU_ASSERT_EQUAL(check(&r, sizeof(r), &depth), NVMF_RDMA_REJ_INVALID_HRQSIZE);
}

static void test_reject_wire_format(void)
{
	/* What goes into rdma_reject's private data: recfmt, then sts. */
	struct nvmf_rdma_cm_rej rej = { .recfmt = 0, .sts = NVMF_RDMA_REJ_INVALID_HSQSIZE };
	const uint8_t *b = (const uint8_t *)&rej;

	CU_ASSERT_EQUAL(sizeof(rej), 4);
	CU_ASSERT_EQUAL(b[2], 0x04);
	CU_ASSERT_EQUAL(b[3], 0x00);
	CU_ASSERT_EQUAL(nvmf_rdma_ops.msdbd, 16);
	CU_ASSERT_STRING_EQUAL(nvmf_rdma_ops.name, "RDMA");
}

static void test_ioccsz(void)
{
	struct nvmf_transport t = { .opts = { .in_capsule_data_size = 4096 } };

	CU_ASSERT_EQUAL(nvmf_rdma_ops.ioccsz_bytes(&t), 64 + 4096);
	t.opts.in_capsule_data_size = 0;
	CU_ASSERT_EQUAL(nvmf_rdma_ops.ioccsz_bytes(&t), 64);
}

/* Without any RDMA device (this build machine): a plain message, no leak. */
static void test_no_device(void)
{
	struct nvmf_transport_opts o = {
		.max_queue_depth = 128, .max_io_qpairs_per_ctrlr = 127,
		.in_capsule_data_size = 4096, .max_io_size = 131072,
		.io_unit_size = 8192, .max_aq_depth = 128, .num_shared_buffers = 4095,
		.buf_cache_size = 32, .max_srq_depth = 4096, .acceptor_backlog = 100,
	};
	char path[] = "/tmp/rdma_conn_ut.XXXXXX", buf[1024] = { 0 };
	int fd, saved;
	FILE *f;

	if (access("/dev/infiniband/rdma_cm", F_OK) == 0)
		return;		/* a machine with RDMA: not this test's case */
	fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fd, 2);
	CU_ASSERT_PTR_NULL(nvmf_rdma_ops.create(NULL, &o));
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	CU_ASSERT(fread(buf, 1, sizeof(buf) - 1, f) > 0);
	fclose(f);
	unlink(path);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "no RDMA device"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "rdma link add rxe0 type rxe netdev"));
	/* Bad options are refused before anything is opened. */
	o.io_unit_size = 1000;
	CU_ASSERT_PTR_NULL(nvmf_rdma_ops.create(NULL, &o));
	o.io_unit_size = 4096;	/* 128 KiB would need 32 buffers per I/O */
	CU_ASSERT_PTR_NULL(nvmf_rdma_ops.create(NULL, &o));
}

/*
 * Admin queues stay on the main thread (NULL), where admin commands run; I/O
 * queue k goes to group (k - 1) mod n, so every host's queues spread evenly
 * whatever the order hosts connect in.
 */
static void test_group_placement(void)
{
	struct nvmf_rdma_group g1 = { .idx = 1 }, g2 = { .idx = 2 };
	struct nvmf_rdma_group *groups[3] = { NULL, &g1, &g2 };
	struct nvmf_rdma_transport rt = { .groups = groups, .ngroups = 1 };
	struct nvmf_rdma_group *want[] = { NULL, NULL, &g1, &g2, NULL, &g1, &g2 };

	/* One group: everything on the main thread. */
	for (uint16_t qid = 0; qid < 4; qid++)
		CU_ASSERT_PTR_NULL(nvmf_rdma_group_pick(&rt, qid));
	rt.ngroups = 3;
	for (uint16_t qid = 0; qid < UT_COUNT(want); qid++)
		CU_ASSERT_PTR_EQUAL(nvmf_rdma_group_pick(&rt, qid), want[qid]);
	/* A second host's queues land exactly where the first one's did. */
	for (uint16_t qid = 0; qid < UT_COUNT(want); qid++)
		CU_ASSERT_PTR_EQUAL(nvmf_rdma_group_pick(&rt, qid), want[qid]);
	/* The highest qid the wire can carry. */
	CU_ASSERT_PTR_EQUAL(nvmf_rdma_group_pick(&rt, UINT16_MAX), groups[(UINT16_MAX - 1) % 3]);
}

int main(void)
{
	static const struct ut_test tests[] = {
		{ "linux_host", test_linux_host },
		{ "rejects", test_rejects },
		{ "reject_wire_format", test_reject_wire_format },
		{ "ioccsz", test_ioccsz },
		{ "no_device", test_no_device },
		{ "group_placement", test_group_placement },
	};
	return ut_run("rdma_conn", NULL, NULL, tests, UT_COUNT(tests));
}
