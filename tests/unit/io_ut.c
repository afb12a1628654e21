/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O commands on real backends: a file with O_DIRECT through libaio, a
 * read-only file, a file on tmpfs (buffered fallback), and a RAM namespace
 * in DMA memory (env_init once, --no-huge).
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memmap/env.h"
#include "memmap/log.h"
#include "tests/unit/loopback.h"
#include "tests/unit/ut.h"

#define NQN "nqn.2016-06.io.spdk:io"
#define BS 512
#define NS_FILE 1
#define NS_RO 2
#define NS_TMPFS 3
#define NS_RAM 4
#define NS_SHRINK 5
#define IO_FUA_FLAG (1u << 30)

static char g_dir[64];
static char g_shm[128];
static char g_cfg[4096];
static struct nvmf_tgt *g_tgt;
static struct lo_qp g_aq, g_ioq;
static bool g_have_shm;

static void make_cfg(void)
{
	snprintf(g_cfg, sizeof(g_cfg),
		"{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":["
		"{\"method\":\"bdev_aio_create\",\"params\":{\"name\":\"f\",\"filename\":\"%s/f\"}},"
		"{\"method\":\"bdev_aio_create\",\"params\":{\"name\":\"ro\",\"filename\":\"%s/f\",\"readonly\":true}},"
		"{\"method\":\"bdev_malloc_create\",\"params\":{\"name\":\"ram\",\"num_blocks\":2048,\"block_size\":512}},"
		"{\"method\":\"bdev_aio_create\",\"params\":{\"name\":\"shrink\",\"filename\":\"%s/s\"}}]},"
		"{\"subsystem\":\"nvmf\",\"config\":["
		"{\"method\":\"nvmf_create_subsystem\",\"params\":{\"nqn\":\"" NQN "\",\"allow_any_host\":true}},"
		"{\"method\":\"nvmf_subsystem_add_ns\",\"params\":{\"nqn\":\"" NQN "\",\"namespace\":{\"nsid\":1,\"bdev_name\":\"f\"}}},"
		"{\"method\":\"nvmf_subsystem_add_ns\",\"params\":{\"nqn\":\"" NQN "\",\"namespace\":{\"nsid\":2,\"bdev_name\":\"ro\"}}},"
		"{\"method\":\"nvmf_subsystem_add_ns\",\"params\":{\"nqn\":\"" NQN "\",\"namespace\":{\"nsid\":4,\"bdev_name\":\"ram\"}}},"
		"{\"method\":\"nvmf_subsystem_add_ns\",\"params\":{\"nqn\":\"" NQN "\",\"namespace\":{\"nsid\":5,\"bdev_name\":\"shrink\"}}}"
		"]}]}", g_dir, g_dir, g_dir);
}

/* The first test: everything after it uses this controller and I/O queue. */
static void test_setup(void)
{
	struct nvme_cpl cpl;
	uint16_t cntlid;

	struct bdev_aio_opts o = { .name = "shm", .filename = g_shm,
				   .create_size = 16 << 20, .buffered = true };
	struct nvmf_ns ns = { .nsid = NS_TMPFS };

	g_tgt = lo_tgt_from(g_cfg);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g_tgt);
	/* The buffered fallback, forced: tmpfs here may well have O_DIRECT. */
	CU_ASSERT_EQUAL_FATAL(bdev_aio_create(g_tgt, &o, &ns.bdev), 0);
	memset(ns.uuid, 0x42, 16);
	memset(ns.nguid, 0x42, 16);
	CU_ASSERT_EQUAL(nvmf_subsystem_add_ns(nvmf_subsystem_find(g_tgt, NQN), &ns), 0);
	cntlid = lo_admin_up(g_tgt, &g_aq, NQN, 0);
	lo_qp_init(&g_ioq);
	CU_ASSERT_EQUAL_FATAL(lo_connect(g_tgt, &g_ioq, 1, NQN, LO_HOSTNQN, cntlid, 0,
					 &cpl), 0);
}

static int suite_fini(void)
{
	if (!g_tgt)
		return 0;
	nvmf_qpair_fini(&g_aq.qp);
	nvmf_tgt_destroy(g_tgt);
	return 0;
}

static void ut_io_cmd(struct nvme_cmd *c, uint8_t opc, uint32_t nsid, uint64_t slba,
		   uint32_t nlb, uint32_t cdw12_flags)
{
	memset(c, 0, sizeof(*c));
	c->opc = opc;
	c->cid = 0x33;
	c->nsid = nsid;
	c->cdw10 = (uint32_t)slba;
	c->cdw11 = (uint32_t)(slba >> 32);
	c->cdw12 = (nlb ? nlb - 1 : 0) | cdw12_flags;
}

static nvme_status ut_io(uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb,
		      uint32_t flags, void *buf, uint32_t len)
{
	struct nvme_cmd c;

	ut_io_cmd(&c, opc, nsid, slba, nlb, flags);
	return lo_cmd(g_tgt, &g_ioq, &c, buf, len, NULL);
}

static void *abuf(size_t len, int fill)
{
	void *p = NULL;

	CU_ASSERT_EQUAL_FATAL(posix_memalign(&p, 4096, len), 0);
	memset(p, fill, len);
	return p;
}

static void fill_pattern(uint8_t *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + seed);
}

static bool all_zero(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return false;
	return true;
}

static void rw_roundtrip(uint32_t nsid, uint64_t slba, uint32_t flags)
{
	uint32_t len = 8 * BS;
	uint8_t *w = abuf(len, 0), *r = abuf(len, 0xEE);

	fill_pattern(w, len, (unsigned)(slba + nsid));
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_WRITE, nsid, slba, 8, flags, w, len), 0);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_READ, nsid, slba, 8, 0, r, len), 0);
	CU_ASSERT_EQUAL(memcmp(w, r, len), 0);
	free(w);
	free(r);
}

static void test_file_rw(void)
{
	uint8_t *w = abuf(4096, 0), *disk = abuf(4096, 0);
	char path[128];
	struct lo_req *rq;
	struct nvme_cmd c;
	int fd;

	rw_roundtrip(NS_FILE, 0, 0);
	rw_roundtrip(NS_FILE, 32760, 0);		/* the last 8 blocks */
	rw_roundtrip(NS_FILE, 1000, IO_FUA_FLAG);
	/* The data is in the file itself. */
	fill_pattern(w, 4096, 99);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_WRITE, NS_FILE, 2048, 8, IO_FUA_FLAG, w, 4096), 0);
	snprintf(path, sizeof(path), "%s/f", g_dir);
	fd = open(path, O_RDONLY);
	CU_ASSERT_EQUAL(pread(fd, disk, 4096, 2048 * BS), 4096);
	CU_ASSERT_EQUAL(memcmp(w, disk, 4096), 0);
	close(fd);
	/* Completion is asynchronous: it arrives from the loop, not from exec. */
	ut_io_cmd(&c, NVME_OPC_READ, NS_FILE, 2048, 8, 0);
	rq = lo_start(&g_ioq, &c, disk, 4096);
	CU_ASSERT_EQUAL(rq->done, 0);
	CU_ASSERT(g_tgt->io_inflight > 0);
	lo_wait(g_tgt, rq);
	CU_ASSERT_EQUAL(rq->done, 1);
	CU_ASSERT_EQUAL(lo_status(&rq->cpl), 0);
	CU_ASSERT_EQUAL(g_tgt->io_inflight, 0);
	free(rq);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_FLUSH, NS_FILE, 0, 0, 0, NULL, 0), 0);
	free(w);
	free(disk);
}

static void test_multi_iov_and_unaligned(void)
{
	uint8_t *a = abuf(8192, 0), *b = abuf(8192, 0), *big = abuf(16384, 0);
	struct nvme_cmd c;
	struct lo_req *rq;

	/* Three buffers, one command. */
	fill_pattern(a, 4096, 1);
	fill_pattern(b, 4096, 2);
	ut_io_cmd(&c, NVME_OPC_WRITE, NS_FILE, 4096, 16, 0);
	rq = calloc(1, sizeof(*rq));
	rq->req.qpair = &g_ioq.qp;
	rq->req.cmd = &rq->cmd;
	rq->req.cpl = &rq->cpl;
	rq->cmd = c;
	rq->req.iov[0] = (struct iovec){ a, 4096 };
	rq->req.iov[1] = (struct iovec){ b, 2048 };
	rq->req.iov[2] = (struct iovec){ b + 2048, 2048 };
	rq->req.iovcnt = 3;
	rq->req.length = 8192;
	nvmf_req_exec(&rq->req);
	lo_wait(g_tgt, rq);
	CU_ASSERT_EQUAL(lo_status(&rq->cpl), 0);
	free(rq);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_READ, NS_FILE, 4096, 16, 0, big, 8192), 0);
	CU_ASSERT_EQUAL(memcmp(big, a, 4096), 0);
	CU_ASSERT_EQUAL(memcmp(big + 4096, b, 4096), 0);
	/* A buffer O_DIRECT cannot take (in-capsule data at an odd offset). */
	fill_pattern(big + 8, 512, 5);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_WRITE, NS_FILE, 7, 1, 0, big + 8, 512), 0);
	memset(a + 24, 0, 512);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_READ, NS_FILE, 7, 1, 0, a + 24, 512), 0);
	CU_ASSERT_EQUAL(memcmp(a + 24, big + 8, 512), 0);
	free(a);
	free(b);
	free(big);
}

static void test_zeroes_and_deallocate(uint32_t nsid)
{
	uint32_t len = 64 * BS;
	uint8_t *w = abuf(len, 0), *r = abuf(len, 0xEE);
	struct nvme_dsm_range *rg = abuf(4096, 0);

	fill_pattern(w, len, 3);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_WRITE, nsid, 256, 64, 0, w, len), 0);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_WRITE_ZEROES, nsid, 264, 8, 0, NULL, 0), 0);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_READ, nsid, 256, 64, 0, r, len), 0);
	CU_ASSERT_EQUAL(memcmp(r, w, 8 * BS), 0);
	CU_ASSERT(all_zero(r + 8 * BS, 8 * BS));
	CU_ASSERT_EQUAL(memcmp(r + 16 * BS, w + 16 * BS, 48 * BS), 0);
	/* Deallocate two ranges: they read back as zeroes (DLFEAT). */
	rg[0] = (struct nvme_dsm_range){ .nlb = 8, .slba = 288 };
	rg[1] = (struct nvme_dsm_range){ .nlb = 16, .slba = 304 };
	{
		struct nvme_cmd c;

		ut_io_cmd(&c, NVME_OPC_DSM, nsid, 0, 0, 0);
		c.cdw10 = 1;		/* two ranges */
		c.cdw11 = 1u << 2;	/* AD */
		CU_ASSERT_EQUAL(lo_cmd(g_tgt, &g_ioq, &c, rg, 4096, NULL), 0);
		c.cdw11 = 0;		/* hints only: no change */
		CU_ASSERT_EQUAL(lo_cmd(g_tgt, &g_ioq, &c, rg, 4096, NULL), 0);
		rg[1].slba = 1ull << 40;
		c.cdw11 = 1u << 2;
		CU_ASSERT_EQUAL(lo_cmd(g_tgt, &g_ioq, &c, rg, 4096, NULL),
				NVME_SC_LBA_OUT_OF_RANGE);
		CU_ASSERT_EQUAL(lo_cmd(g_tgt, &g_ioq, &c, rg, 16, NULL),
				NVME_SC_DATA_SGL_LEN_INVALID);
	}
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_READ, nsid, 256, 64, 0, r, len), 0);
	CU_ASSERT_EQUAL(memcmp(r + 16 * BS, w + 16 * BS, 16 * BS), 0);
	CU_ASSERT(all_zero(r + 32 * BS, 8 * BS));
	CU_ASSERT_EQUAL(memcmp(r + 40 * BS, w + 40 * BS, 8 * BS), 0);
	CU_ASSERT(all_zero(r + 48 * BS, 16 * BS));
	free(w);
	free(r);
	free(rg);
}

static void test_zeroes_file(void)
{
	test_zeroes_and_deallocate(NS_FILE);
}

static void test_io_errors(void)
{
	uint8_t *buf = abuf(256 * 1024, 0);
	struct nvme_cpl cpl;
	struct nvme_cmd c;

	ut_io_cmd(&c, NVME_OPC_READ, NS_FILE, 32767, 2, 0);
	CU_ASSERT_EQUAL(lo_cmd(g_tgt, &g_ioq, &c, buf, 1024, &cpl), NVME_SC_LBA_OUT_OF_RANGE);
	CU_ASSERT(lo_dnr(&cpl));
	ut_io_cmd(&c, NVME_OPC_READ, NS_FILE, ~0ull - 1, 4, 0);	/* wraps */
	CU_ASSERT_EQUAL(lo_cmd(g_tgt, &g_ioq, &c, buf, 2048, NULL), NVME_SC_LBA_OUT_OF_RANGE);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_WRITE_ZEROES, NS_FILE, 32760, 9, 0, NULL, 0),
			NVME_SC_LBA_OUT_OF_RANGE);
	ut_io_cmd(&c, NVME_OPC_READ, 9, 0, 1, 0);
	CU_ASSERT_EQUAL(lo_cmd(g_tgt, &g_ioq, &c, buf, 512, &cpl), NVME_SC_INVALID_NS);
	CU_ASSERT(lo_dnr(&cpl));
	CU_ASSERT_EQUAL(ut_io(0x05, NS_FILE, 0, 1, 0, buf, 512), NVME_SC_INVALID_OPCODE);
	/* 257 blocks of 512 B: over max_io_size 128 KiB (MDTS). */
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_READ, NS_FILE, 0, 257, 0, buf, 257 * 512),
			NVME_SC_INVALID_FIELD);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_READ, NS_FILE, 0, 256, 0, buf, 256 * 512), 0);
	/* The SGL does not match the blocks. */
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_READ, NS_FILE, 0, 2, 0, buf, 512),
			NVME_SC_DATA_SGL_LEN_INVALID);
	/* Read-only namespace: reads fine, writes refused. */
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_READ, NS_RO, 0, 1, 0, buf, 512), 0);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_WRITE, NS_RO, 0, 1, 0, buf, 512),
			NVME_SC_NS_WRITE_PROTECTED);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_WRITE_ZEROES, NS_RO, 0, 1, 0, NULL, 0),
			NVME_SC_NS_WRITE_PROTECTED);
	free(buf);
}

static void test_backend_error(void)
{
	uint8_t *buf = abuf(4096, 0);
	char path[128];
	struct nvme_cpl cpl;
	struct nvme_cmd c;

	snprintf(path, sizeof(path), "%s/s", g_dir);
	CU_ASSERT_EQUAL(truncate(path, 1 << 20), 0);	/* shrunk behind our back */
	ut_io_cmd(&c, NVME_OPC_READ, NS_SHRINK, 8192, 8, 0);
	CU_ASSERT_EQUAL(lo_cmd(g_tgt, &g_ioq, &c, buf, 4096, &cpl), NVME_SC_UNRECOVERED_READ);
	CU_ASSERT_EQUAL(cpl.status >> 9 & 0x7, NVME_SCT_MEDIA);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_READ, NS_SHRINK, 0, 8, 0, buf, 4096), 0);
	free(buf);
}

/*
 * A write the kernel refuses (past RLIMIT_FSIZE: EFBIG) is a write fault;
 * one it cuts short is Capacity Exceeded.
 */
static void test_write_fault(void)
{
	struct rlimit old, lim;
	uint8_t *buf = abuf(4096, 0x5A);
	struct nvme_cpl cpl;
	struct nvme_cmd c;

	signal(SIGXFSZ, SIG_IGN);
	CU_ASSERT_EQUAL_FATAL(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 1 << 20;
	CU_ASSERT_EQUAL_FATAL(setrlimit(RLIMIT_FSIZE, &lim), 0);
	ut_io_cmd(&c, NVME_OPC_WRITE, NS_FILE, 8192, 8, 0);	/* at 4 MiB */
	CU_ASSERT_EQUAL(lo_cmd(g_tgt, &g_ioq, &c, buf, 4096, &cpl), NVME_SC_WRITE_FAULT);
	CU_ASSERT_EQUAL(cpl.status >> 9 & 0x7, NVME_SCT_MEDIA);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_WRITE, NS_FILE, 8, 8, 0, buf, 4096), 0);
	/*
	 * Across the limit the kernel writes what fits: a short write, as
	 * on a filesystem that fills up, is Capacity Exceeded, not retried.
	 */
	ut_io_cmd(&c, NVME_OPC_WRITE, NS_FILE, 2044, 8, 0);
	CU_ASSERT_EQUAL(lo_cmd(g_tgt, &g_ioq, &c, buf, 4096, &cpl), NVME_SC_CAPACITY_EXCEEDED);
	CU_ASSERT_EQUAL(cpl.status >> 9 & 0x7, NVME_SCT_GENERIC);
	CU_ASSERT(lo_dnr(&cpl));
	CU_ASSERT_EQUAL(setrlimit(RLIMIT_FSIZE, &old), 0);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_WRITE, NS_FILE, 8192, 8, 0, buf, 4096), 0);
	free(buf);
}

static void test_tmpfs_buffered(void)
{
	if (!g_have_shm) {
		printf("\n  skipped: no tmpfs at /dev/shm\n");
		return;
	}
	rw_roundtrip(NS_TMPFS, 0, 0);
	rw_roundtrip(NS_TMPFS, 100, IO_FUA_FLAG);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_FLUSH, NS_TMPFS, 0, 0, 0, NULL, 0), 0);
	test_zeroes_and_deallocate(NS_TMPFS);
}

static void test_ram(void)
{
	rw_roundtrip(NS_RAM, 0, 0);
	rw_roundtrip(NS_RAM, 2040, IO_FUA_FLAG);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_FLUSH, NS_RAM, 0, 0, 0, NULL, 0), 0);
	test_zeroes_and_deallocate(NS_RAM);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_READ, NS_RAM, 2048, 1, 0, NULL, 0), NVME_SC_LBA_OUT_OF_RANGE);
}

/* A zero-copy request as the transport makes it: iov from the core. */
static bool zc_start(struct lo_req *r, uint8_t opc, uint32_t nsid, uint64_t slba,
		     uint32_t nlb, uint32_t len, struct lo_qp *q)
{
	memset(r, 0, sizeof(*r));
	ut_io_cmd(&r->cmd, opc, nsid, slba, nlb, 0);
	r->req.qpair = &q->qp;
	r->req.cmd = &r->cmd;
	r->req.cpl = &r->cpl;
	r->req.length = len;
	r->req.xfer = nvmf_req_xfer(&r->req);
	return nvmf_req_zcopy_start(&r->req);
}

static void test_ram_zcopy(void)
{
	struct bdev *ram = nvmf_subsystem_get_ns(nvmf_subsystem_find(g_tgt, NQN), NS_RAM)->bdev;
	uint32_t len = 8 * BS, held = ram->inflight;
	uint8_t *buf = abuf(len, 0);
	struct lo_req r;

	fill_pattern(buf, len, 9);
	CU_ASSERT_EQUAL(ut_io(NVME_OPC_WRITE, NS_RAM, 16, 8, 0, buf, len), 0);
	/* A read points at the namespace's memory, exec has no copy to do. */
	CU_ASSERT_TRUE_FATAL(zc_start(&r, NVME_OPC_READ, NS_RAM, 16, 8, len, &g_ioq));
	CU_ASSERT_EQUAL(r.req.iovcnt, 1);
	CU_ASSERT_EQUAL(r.req.iov[0].iov_len, len);
	CU_ASSERT_EQUAL(memcmp(r.req.iov[0].iov_base, buf, len), 0);
	CU_ASSERT_EQUAL(ram->inflight, held + 1);	/* the bdev is held */
	nvmf_req_exec(&r.req);
	lo_wait(g_tgt, &r);
	CU_ASSERT_EQUAL(r.done, 1);
	CU_ASSERT_EQUAL(lo_status(&r.cpl), 0);
	CU_ASSERT_EQUAL(ram->inflight, held + 1);	/* until the transport is done */
	nvmf_req_zcopy_end(&r.req);
	CU_ASSERT_PTR_NULL(r.req.core_zcopy);
	nvmf_req_zcopy_end(&r.req);			/* twice: harmless */
	CU_ASSERT_EQUAL(ram->inflight, held);
	/*
	 * Declined: a write (its data would land before exec), a file
	 * namespace, a bad range or length, the admin queue, no data.
	 */
	CU_ASSERT_FALSE(zc_start(&r, NVME_OPC_WRITE, NS_RAM, 16, 8, len, &g_ioq));
	CU_ASSERT_FALSE(zc_start(&r, NVME_OPC_READ, NS_FILE, 0, 8, len, &g_ioq));
	CU_ASSERT_FALSE(zc_start(&r, NVME_OPC_READ, NS_RAM, 2044, 8, len, &g_ioq));
	CU_ASSERT_FALSE(zc_start(&r, NVME_OPC_READ, NS_RAM, 0, 8, len - BS, &g_ioq));
	CU_ASSERT_FALSE(zc_start(&r, NVME_OPC_READ, NS_RAM, 0, 8, len, &g_aq));
	CU_ASSERT_FALSE(zc_start(&r, NVME_OPC_FLUSH, NS_RAM, 0, 0, 0, &g_ioq));
	CU_ASSERT_EQUAL(ram->inflight, held);
	free(buf);
}

/* A restart from the same config keeps the namespace's identity (no uuid given). */
static void test_aio_uuid_stable(void)
{
	struct nvmf_tgt *t1 = nvmf_tgt_create(), *t2 = nvmf_tgt_create();
	struct bdev *a = NULL, *b = NULL, *c = NULL;
	char path[128];

	snprintf(path, sizeof(path), "%s/uuid.img", g_dir);
	CU_ASSERT_EQUAL_FATAL(bdev_aio_create(t1, &(struct bdev_aio_opts){ .name = "u0",
		.filename = path, .create_size = 1 << 20 }, &a), 0);
	CU_ASSERT_EQUAL_FATAL(bdev_aio_create(t2, &(struct bdev_aio_opts){ .name = "u0",
		.filename = path }, &b), 0);
	CU_ASSERT_EQUAL(memcmp(a->uuid, b->uuid, 16), 0);
	CU_ASSERT_EQUAL_FATAL(bdev_aio_create(t2, &(struct bdev_aio_opts){ .name = "u1",
		.filename = path }, &c), 0);
	CU_ASSERT_NOT_EQUAL(memcmp(a->uuid, c->uuid, 16), 0);	/* another bdev */
	nvmf_tgt_destroy(t1);
	nvmf_tgt_destroy(t2);
	unlink(path);
}

static void test_smart_counts(void)
{
	uint8_t *log = abuf(512, 0);
	uint64_t wc = 0, rc = 0;

	CU_ASSERT_EQUAL(lo_admin(g_tgt, &g_aq, NVME_OPC_GET_LOG_PAGE, 0xFFFFFFFF,
				 NVME_LOG_SMART | 127u << 16, 0, log, 512, NULL), 0);
	memcpy(&rc, log + 64, 8);
	memcpy(&wc, log + 80, 8);
	CU_ASSERT(rc >= 5);
	CU_ASSERT(wc >= 5);
	free(log);
}

int main(void)
{
	static const struct ut_test tests[] = {
		{ "config with file, read-only, tmpfs and RAM namespaces", test_setup },
		{ "file read/write/FUA/flush through libaio", test_file_rw },
		{ "several buffers and an unaligned one", test_multi_iov_and_unaligned },
		{ "write zeroes and deallocate (file)", test_zeroes_file },
		{ "I/O error statuses", test_io_errors },
		{ "backend error -> media status", test_backend_error },
		{ "refused write -> write fault", test_write_fault },
		{ "tmpfs: buffered fallback", test_tmpfs_buffered },
		{ "RAM namespace", test_ram },
		{ "RAM namespace: zero copy", test_ram_zcopy },
		{ "file namespace UUID stable across restarts", test_aio_uuid_stable },
		{ "SMART counters", test_smart_counts },
	};
	struct env_opts eo;
	unsigned int failures;
	char path[128];
	char *d;

	log_set_level(getenv("UT_DEBUG") ? LOGL_DEBUG : LOGL_ERROR);
	setenv(NVMF_AIO_SIZE_ENV, "16", 1);
	env_opts_init(&eo);
	eo.name = "io_ut";
	eo.no_huge = true;
	eo.mem_mb = 64;
	if (env_init(&eo)) {
		fprintf(stderr, "env_init failed\n");
		return 1;
	}
	d = lo_tmpdir();
	if (!d) {
		perror("mkdtemp");
		return 1;
	}
	snprintf(g_dir, sizeof(g_dir), "%s", d);
	snprintf(g_shm, sizeof(g_shm), "/dev/shm/nvmf_ut.%d", (int)getpid());
	g_have_shm = access("/dev/shm", W_OK) == 0;
	if (!g_have_shm)
		snprintf(g_shm, sizeof(g_shm), "%s/shm", g_dir);
	make_cfg();
	failures = ut_run("io", NULL, suite_fini, tests, UT_COUNT(tests));
	unlink(g_shm);
	snprintf(path, sizeof(path), "%s/f", g_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/s", g_dir);
	unlink(path);
	rmdir(g_dir);
	env_fini();
	return failures ? 1 : 0;
}
