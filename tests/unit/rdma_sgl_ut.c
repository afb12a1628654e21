/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RDMA memory map, SGL parsing and SGE filling, with real memmap maps
 * and a fake MR notify: two adjacent registered regions, each its own MR.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memmap/memmap.h"
#include "transport/rdma_mr.h"
#include "target/nvmf.h"
#include "transport/rdma_sgl.h"
#include "tests/unit/ut.h"


#define MB2	MEMMAP_PAGE_SIZE
#define DNR(sc)	((nvme_status)((sc) | NVME_DNR))

/* ---- Fake MRs ---- */

static int g_regs, g_deregs, g_fail_reg_at, g_bad_access;
static uint32_t g_next_lkey = 0x100;

static struct ibv_mr *fake_reg(struct ibv_pd *pd, void *addr, size_t len, int access)
{
	struct ibv_mr *mr;

	(void)pd;
	g_bad_access += access != NVMF_RDMA_MR_ACCESS;
	if (++g_regs == g_fail_reg_at) {
		errno = ENOMEM;
		return NULL;
	}
	mr = calloc(1, sizeof(*mr));
	mr->addr = addr;
	mr->length = len;
	mr->lkey = g_next_lkey++;
	mr->rkey = mr->lkey + 0x1000;
	return mr;
}

static int fake_dereg(struct ibv_mr *mr)
{
	g_deregs++;
	free(mr);
	return 0;
}

static const struct nvmf_rdma_mr_hooks fake_hooks = { fake_reg, fake_dereg };

static uint8_t *g_mem;		/* 3 x 2 MiB: A and B registered, C not */
static struct nvmf_rdma_mr_map *g_map;

static int suite_init(void)
{
	if (memmap_init(NULL) && memmap_init(NULL) != -EALREADY)
		return 1;
	g_mem = aligned_alloc(MB2, 3 * MB2);
	if (!g_mem)
		return 1;
	/* Two separate registrations: two regions, two MRs, adjacent. */
	if (memmap_register(g_mem, MB2) || memmap_register(g_mem + MB2, MB2))
		return 1;
	g_map = nvmf_rdma_mr_map_create(NULL, &fake_hooks);
	return g_map ? 0 : 1;
}

static int suite_fini(void)
{
	nvmf_rdma_mr_map_destroy(&g_map);
	memmap_unregister(g_mem, MB2);
	memmap_unregister(g_mem + MB2, MB2);
	free(g_mem);
	memmap_fini();
	return 0;
}

static uint32_t lkey_at(const void *p)
{
	uint32_t len = 1;
	struct ibv_mr *mr = nvmf_rdma_mr_translate(g_map, p, &len);

	return mr ? mr->lkey : 0;
}

/* ---- MR map ---- */

static void test_mr_translate(void)
{
	uint32_t len = 8192;
	struct ibv_mr *a, *b;

	a = nvmf_rdma_mr_translate(g_map, g_mem + 100, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(len, 8192);
	CU_ASSERT_PTR_EQUAL(a->addr, g_mem);
	len = 8192;
	b = nvmf_rdma_mr_translate(g_map, g_mem + MB2 - 100, &len);
	CU_ASSERT_PTR_EQUAL(b, a);
	CU_ASSERT_EQUAL(len, 100);	/* cut where region A ends */
	len = 8192;
	b = nvmf_rdma_mr_translate(g_map, g_mem + MB2, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_NOT_EQUAL(b->lkey, a->lkey);
	CU_ASSERT_EQUAL(len, 8192);
	len = 64;
	CU_ASSERT_PTR_NULL(nvmf_rdma_mr_translate(g_map, g_mem + 2 * MB2, &len));
	len = 64;
	CU_ASSERT_PTR_NULL(nvmf_rdma_mr_translate(g_map, &len, &len));	/* stack */
	CU_ASSERT_EQUAL(g_bad_access, 0);	/* local write, remote read/write */
}

static void test_mr_follows_registration(void)
{
	int regs = g_regs, deregs = g_deregs;
	uint32_t len = 4096;

	CU_ASSERT_EQUAL_FATAL(memmap_register(g_mem + 2 * MB2, MB2), 0);
	CU_ASSERT_EQUAL(g_regs, regs + 1);
	CU_ASSERT_PTR_NOT_NULL(nvmf_rdma_mr_translate(g_map, g_mem + 2 * MB2, &len));
	CU_ASSERT_EQUAL(memmap_unregister(g_mem + 2 * MB2, MB2), 0);
	CU_ASSERT_EQUAL(g_deregs, deregs + 1);
	len = 4096;
	CU_ASSERT_PTR_NULL(nvmf_rdma_mr_translate(g_map, g_mem + 2 * MB2, &len));
}

static void test_mr_map_lifecycle(void)
{
	struct nvmf_rdma_mr_map *m;
	int regs = g_regs, deregs = g_deregs;

	m = nvmf_rdma_mr_map_create(NULL, &fake_hooks);	/* replays A and B */
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(g_regs, regs + 2);
	nvmf_rdma_mr_map_destroy(&m);
	CU_ASSERT_PTR_NULL(m);
	CU_ASSERT_EQUAL(g_deregs, deregs + 2);
	/* The 2nd ibv_reg_mr fails: no map, the 1st MR deregistered. */
	regs = g_regs;
	deregs = g_deregs;
	g_fail_reg_at = regs + 2;
	m = nvmf_rdma_mr_map_create(NULL, &fake_hooks);
	g_fail_reg_at = 0;
	CU_ASSERT_PTR_NULL(m);
	CU_ASSERT_EQUAL(g_deregs, deregs + 1);
}

/* ---- SGL parsing ---- */

static const struct nvmf_rdma_sgl_limits g_lim = { .max_io_size = 131072,
						   .icd_size = 4096 };

static void keyed(struct nvme_sgl *s, uint64_t addr, uint32_t len, uint32_t key,
		  uint8_t sub)
{
	s->address = addr;
	s->keyed.length[0] = len & 0xFF;
	s->keyed.length[1] = (len >> 8) & 0xFF;
	s->keyed.length[2] = (len >> 16) & 0xFF;
	memcpy(s->keyed.key, &key, 4);
	s->keyed.type = NVME_SGL_TYPE_KEYED_DATA_BLOCK << 4 | sub;
}

static void unkeyed(struct nvme_sgl *s, uint8_t type, uint8_t sub, uint64_t addr,
		    uint32_t len)
{
	memset(s, 0, sizeof(*s));
	s->address = addr;
	s->unkeyed.length = len;
	s->unkeyed.type = type << 4 | sub;
}

static void cmd_init(struct nvme_cmd *c)
{
	memset(c, 0, sizeof(*c));
	c->opc = 0x01;
	c->flags = 0x40;	/* PSDT: SGL */
}

static nvme_status parse(const struct nvme_cmd *c, bool h2c, const uint8_t *icd,
			 uint32_t icd_len, struct nvmf_rdma_sgl *out)
{
	return nvmf_rdma_sgl_parse(c, h2c, icd, icd_len, &g_lim, out);
}

static void test_parse_keyed(void)
{
	struct nvmf_rdma_sgl s;
	struct nvme_cmd c;

	cmd_init(&c);
	keyed(&c.dptr, 0x123456789000ULL, 16384, 0xabcd1234, NVME_SGL_SUBTYPE_ADDRESS);
	CU_ASSERT_EQUAL(parse(&c, false, NULL, 0, &s), 0);
	CU_ASSERT_EQUAL(s.kind, NVMF_RDMA_SGL_KEYED);
	CU_ASSERT_EQUAL(s.length, 16384);
	CU_ASSERT_EQUAL(s.ndesc, 1);
	CU_ASSERT_EQUAL(s.desc[0].addr, 0x123456789000ULL);
	CU_ASSERT_EQUAL(s.desc[0].rkey, 0xabcd1234);
	CU_ASSERT_FALSE(s.invalidate);

	/* What the Linux host sends: type 0x4F, keyed with invalidate. */
	keyed(&c.dptr, 0x1000, 1024, 0x77, NVME_SGL_SUBTYPE_INVALIDATE_KEY);
	CU_ASSERT_EQUAL(c.dptr.keyed.type, 0x4F);
	CU_ASSERT_EQUAL(parse(&c, true, NULL, 0, &s), 0);
	CU_ASSERT_TRUE(s.invalidate);
	CU_ASSERT_EQUAL(s.inv_rkey, 0x77);
	CU_ASSERT_EQUAL(s.length, 1024);

	keyed(&c.dptr, 0x1000, 0, 0x77, NVME_SGL_SUBTYPE_ADDRESS);
	CU_ASSERT_EQUAL(parse(&c, true, NULL, 0, &s), 0);
	CU_ASSERT_EQUAL(s.kind, NVMF_RDMA_SGL_NONE);
	CU_ASSERT_EQUAL(s.length, 0);

	keyed(&c.dptr, 0x1000, 131072, 1, NVME_SGL_SUBTYPE_ADDRESS);
	CU_ASSERT_EQUAL(parse(&c, true, NULL, 0, &s), 0);
	keyed(&c.dptr, 0x1000, 131073, 1, NVME_SGL_SUBTYPE_ADDRESS);
	CU_ASSERT_EQUAL(parse(&c, true, NULL, 0, &s), DNR(NVME_SC_DATA_SGL_LEN_INVALID));
	keyed(&c.dptr, 0x1000, 512, 1, NVME_SGL_SUBTYPE_OFFSET);
	CU_ASSERT_EQUAL(parse(&c, true, NULL, 0, &s), DNR(NVME_SC_SGL_DESC_TYPE_INVALID));
	keyed(&c.dptr, 0x1000, 512, 1, 0x3);
	CU_ASSERT_EQUAL(parse(&c, true, NULL, 0, &s), DNR(NVME_SC_SGL_DESC_TYPE_INVALID));
}

static void test_parse_bad_type(void)
{
	static const uint8_t types[][2] = {
		{ NVME_SGL_TYPE_DATA_BLOCK, NVME_SGL_SUBTYPE_ADDRESS },
		{ NVME_SGL_TYPE_BIT_BUCKET, 0 },
		{ NVME_SGL_TYPE_SEGMENT, NVME_SGL_SUBTYPE_OFFSET },
		{ NVME_SGL_TYPE_LAST_SEGMENT, NVME_SGL_SUBTYPE_ADDRESS },
		{ NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK, 0 },
		{ 0xE, 0x1 },
	};
	struct nvmf_rdma_sgl s;
	struct nvme_cmd c;
	size_t i;

	cmd_init(&c);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		unkeyed(&c.dptr, types[i][0], types[i][1], 0, 16);
		CU_ASSERT_EQUAL(parse(&c, true, NULL, 0, &s),
				DNR(NVME_SC_SGL_DESC_TYPE_INVALID));
	}
	/* PRPs (PSDT 0) are not for fabrics. */
	keyed(&c.dptr, 0x1000, 512, 1, NVME_SGL_SUBTYPE_ADDRESS);
	c.flags = 0;
	CU_ASSERT_EQUAL(parse(&c, true, NULL, 0, &s), DNR(NVME_SC_INVALID_FIELD));
}

static void test_parse_in_capsule(void)
{
	uint8_t icd[4096] = { 0 };
	struct nvmf_rdma_sgl s;
	struct nvme_cmd c;

	cmd_init(&c);
	unkeyed(&c.dptr, NVME_SGL_TYPE_DATA_BLOCK, NVME_SGL_SUBTYPE_OFFSET, 0, 4096);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), 0);
	CU_ASSERT_EQUAL(s.kind, NVMF_RDMA_SGL_IN_CAPSULE);
	CU_ASSERT_EQUAL(s.length, 4096);
	CU_ASSERT_EQUAL(s.icd_offset, 0);

	unkeyed(&c.dptr, NVME_SGL_TYPE_DATA_BLOCK, NVME_SGL_SUBTYPE_OFFSET, 512, 1024);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 1536, &s), 0);
	CU_ASSERT_EQUAL(s.icd_offset, 512);
	CU_ASSERT_EQUAL(s.length, 1024);
	/* Only 1535 bytes arrived. */
	CU_ASSERT_EQUAL(parse(&c, true, icd, 1535, &s), DNR(NVME_SC_DATA_SGL_LEN_INVALID));
	/* Offset beyond the in-capsule data size. */
	unkeyed(&c.dptr, NVME_SGL_TYPE_DATA_BLOCK, NVME_SGL_SUBTYPE_OFFSET, 4097, 0);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), DNR(NVME_SC_INVALID_SGL_OFFSET));
	unkeyed(&c.dptr, NVME_SGL_TYPE_DATA_BLOCK, NVME_SGL_SUBTYPE_OFFSET,
		1ULL << 40, 16);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), DNR(NVME_SC_INVALID_SGL_OFFSET));
	/* Longer than the in-capsule data size from that offset. */
	unkeyed(&c.dptr, NVME_SGL_TYPE_DATA_BLOCK, NVME_SGL_SUBTYPE_OFFSET, 16, 4096);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), DNR(NVME_SC_DATA_SGL_LEN_INVALID));
	unkeyed(&c.dptr, NVME_SGL_TYPE_DATA_BLOCK, NVME_SGL_SUBTYPE_OFFSET, 0, 0xFFFFFFFF);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), DNR(NVME_SC_DATA_SGL_LEN_INVALID));
	/* In-capsule data on a read. */
	unkeyed(&c.dptr, NVME_SGL_TYPE_DATA_BLOCK, NVME_SGL_SUBTYPE_OFFSET, 0, 512);
	CU_ASSERT_EQUAL(parse(&c, false, icd, 4096, &s), DNR(NVME_SC_INVALID_FIELD));
	/* Zero length: no data. */
	unkeyed(&c.dptr, NVME_SGL_TYPE_DATA_BLOCK, NVME_SGL_SUBTYPE_OFFSET, 0, 0);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 0, &s), 0);
	CU_ASSERT_EQUAL(s.kind, NVMF_RDMA_SGL_NONE);
}

static void list_cmd(struct nvme_cmd *c, uint8_t *icd, uint64_t off, int n)
{
	struct nvme_sgl d;
	int i;

	cmd_init(c);
	unkeyed(&c->dptr, NVME_SGL_TYPE_LAST_SEGMENT, NVME_SGL_SUBTYPE_OFFSET, off,
		n * 16);
	for (i = 0; i < n; i++) {
		keyed(&d, 0x10000 * (i + 1), 4096, 0x50 + i, NVME_SGL_SUBTYPE_ADDRESS);
		memcpy(icd + off + i * 16, &d, 16);
	}
}

static void test_parse_list(void)
{
	static uint8_t icd[8192];	/* room to write a list past the capsule */
	struct nvmf_rdma_sgl s;
	struct nvme_sgl d;
	struct nvme_cmd c;

	list_cmd(&c, icd, 0, 3);
	CU_ASSERT_EQUAL(parse(&c, false, icd, 48, &s), 0);
	CU_ASSERT_EQUAL(s.kind, NVMF_RDMA_SGL_KEYED);
	CU_ASSERT_EQUAL(s.ndesc, 3);
	CU_ASSERT_EQUAL(s.length, 3 * 4096);
	CU_ASSERT_EQUAL(s.desc[2].addr, 0x30000);
	CU_ASSERT_EQUAL(s.desc[2].rkey, 0x52);

	/* An invalidate entry: its key is the one to invalidate. */
	keyed(&d, 0x20000, 4096, 0x99, NVME_SGL_SUBTYPE_INVALIDATE_KEY);
	memcpy(icd + 16, &d, 16);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 48, &s), 0);
	CU_ASSERT_TRUE(s.invalidate);
	CU_ASSERT_EQUAL(s.inv_rkey, 0x99);

	list_cmd(&c, icd, 0, NVMF_RDMA_MSDBD);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), 0);
	CU_ASSERT_EQUAL(s.ndesc, NVMF_RDMA_MSDBD);
	list_cmd(&c, icd, 0, NVMF_RDMA_MSDBD + 1);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), DNR(NVME_SC_SGL_DESC_COUNT_INVALID));
	list_cmd(&c, icd, 0, 0);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), DNR(NVME_SC_SGL_DESC_COUNT_INVALID));
	list_cmd(&c, icd, 0, 2);
	c.dptr.unkeyed.length = 24;
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), DNR(NVME_SC_SGL_SEG_DESC_INVALID));
	/* The list must lie in the capsule: offset and received bytes. */
	list_cmd(&c, icd, 4096 - 16, 2);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), DNR(NVME_SC_INVALID_SGL_OFFSET));
	list_cmd(&c, icd, 64, 2);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 95, &s), DNR(NVME_SC_INVALID_SGL_OFFSET));
	CU_ASSERT_EQUAL(parse(&c, true, icd, 96, &s), 0);
	/* Entries must be keyed data blocks. */
	list_cmd(&c, icd, 0, 2);
	unkeyed(&d, NVME_SGL_TYPE_DATA_BLOCK, NVME_SGL_SUBTYPE_OFFSET, 0, 16);
	memcpy(icd + 16, &d, 16);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), DNR(NVME_SC_SGL_DESC_TYPE_INVALID));
	keyed(&d, 0x1000, 16, 1, NVME_SGL_SUBTYPE_OFFSET);
	memcpy(icd + 16, &d, 16);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), DNR(NVME_SC_SGL_DESC_TYPE_INVALID));
	/* Together over max_io_size. */
	list_cmd(&c, icd, 0, 2);
	keyed(&d, 0x1000, 131072 - 4095, 1, NVME_SGL_SUBTYPE_ADDRESS);
	memcpy(icd + 16, &d, 16);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), DNR(NVME_SC_DATA_SGL_LEN_INVALID));
	keyed(&d, 0x1000, 131072 - 4096, 1, NVME_SGL_SUBTYPE_ADDRESS);
	memcpy(icd + 16, &d, 16);
	CU_ASSERT_EQUAL(parse(&c, true, icd, 4096, &s), 0);
	CU_ASSERT_EQUAL(s.length, 131072);
}

/* ---- SGE filling ---- */

static struct nvmf_rdma_wrs g_wrs;

static void sgl_one(struct nvmf_rdma_sgl *s, uint64_t addr, uint32_t len, uint32_t rkey)
{
	memset(s, 0, sizeof(*s));
	s->kind = NVMF_RDMA_SGL_KEYED;
	s->ndesc = 1;
	s->length = len;
	s->desc[0] = (struct nvmf_rdma_sgl_desc){ addr, rkey, len };
}

static void test_fill_simple(void)
{
	void *bufs[2] = { g_mem + 8192, g_mem + 65536 };
	struct iovec iov[32];
	struct nvmf_rdma_sgl s;
	int iovcnt;

	sgl_one(&s, 0xa0000, 12288, 0x42);
	CU_ASSERT_EQUAL(nvmf_rdma_sgl_nbufs(&s, 8192), 2);
	CU_ASSERT_EQUAL_FATAL(nvmf_rdma_sgl_fill(&s, bufs, 8192, g_map, 16, IBV_WR_RDMA_READ,
						 iov, 32, &iovcnt, &g_wrs), 0);
	CU_ASSERT_EQUAL(iovcnt, 2);
	CU_ASSERT_PTR_EQUAL(iov[0].iov_base, bufs[0]);
	CU_ASSERT_EQUAL(iov[0].iov_len, 8192);
	CU_ASSERT_EQUAL(iov[1].iov_len, 4096);
	CU_ASSERT_EQUAL(g_wrs.nwr, 1);
	CU_ASSERT_EQUAL(g_wrs.wr[0].opcode, IBV_WR_RDMA_READ);
	CU_ASSERT_EQUAL(g_wrs.wr[0].num_sge, 2);
	CU_ASSERT_EQUAL(g_wrs.wr[0].wr.rdma.remote_addr, 0xa0000);
	CU_ASSERT_EQUAL(g_wrs.wr[0].wr.rdma.rkey, 0x42);
	CU_ASSERT_PTR_NULL(g_wrs.wr[0].next);
	CU_ASSERT_EQUAL(g_wrs.wr[0].sg_list[0].addr, (uintptr_t)bufs[0]);
	CU_ASSERT_EQUAL(g_wrs.wr[0].sg_list[0].lkey, lkey_at(g_mem));
	CU_ASSERT_EQUAL(g_wrs.wr[0].sg_list[1].length, 4096);
}

static void test_fill_crosses_mr_boundary(void)
{
	uint8_t *cross = g_mem + MB2 - 3000;
	void *bufs[2] = { cross, g_mem + MB2 + 8192 };
	struct iovec iov[32];
	struct nvmf_rdma_sgl s;
	struct ibv_sge *sg;
	int iovcnt;

	sgl_one(&s, 0xb0000, 16384, 0x43);
	CU_ASSERT_EQUAL_FATAL(nvmf_rdma_sgl_fill(&s, bufs, 8192, g_map, 16, IBV_WR_RDMA_WRITE,
						 iov, 32, &iovcnt, &g_wrs), 0);
	CU_ASSERT_EQUAL(iovcnt, 2);	/* the buffer is one iov for the core */
	CU_ASSERT_EQUAL(iov[0].iov_len, 8192);
	CU_ASSERT_EQUAL(g_wrs.nwr, 1);
	CU_ASSERT_EQUAL_FATAL(g_wrs.wr[0].num_sge, 3);
	sg = g_wrs.wr[0].sg_list;
	CU_ASSERT_EQUAL(sg[0].addr, (uintptr_t)cross);
	CU_ASSERT_EQUAL(sg[0].length, 3000);
	CU_ASSERT_EQUAL(sg[0].lkey, lkey_at(g_mem));
	CU_ASSERT_EQUAL(sg[1].addr, (uintptr_t)(g_mem + MB2));
	CU_ASSERT_EQUAL(sg[1].length, 8192 - 3000);
	CU_ASSERT_EQUAL(sg[1].lkey, lkey_at(g_mem + MB2));
	CU_ASSERT_NOT_EQUAL(sg[0].lkey, sg[1].lkey);
	CU_ASSERT_EQUAL(sg[2].length, 8192);
	CU_ASSERT_EQUAL(sg[2].lkey, lkey_at(g_mem + MB2));
}

static void test_fill_sge_limit(void)
{
	void *bufs[4] = { g_mem, g_mem + 65536, g_mem + MB2 - 4096, g_mem + 131072 };
	struct iovec iov[32];
	struct nvmf_rdma_sgl s;
	uint16_t i;
	int iovcnt;

	/* max_sge 2: 5 pieces -> WRs of 2, 2, 1 SGEs, remote address running on. */
	sgl_one(&s, 0xc0000, 4 * 8192, 0x44);
	CU_ASSERT_EQUAL_FATAL(nvmf_rdma_sgl_fill(&s, bufs, 8192, g_map, 2, IBV_WR_RDMA_READ,
						 iov, 32, &iovcnt, &g_wrs), 0);
	CU_ASSERT_EQUAL(g_wrs.nsge, 5);
	CU_ASSERT_EQUAL_FATAL(g_wrs.nwr, 3);
	CU_ASSERT_EQUAL(g_wrs.wr[0].num_sge, 2);
	CU_ASSERT_EQUAL(g_wrs.wr[1].num_sge, 2);
	CU_ASSERT_EQUAL(g_wrs.wr[2].num_sge, 1);
	CU_ASSERT_EQUAL(g_wrs.wr[0].wr.rdma.remote_addr, 0xc0000);
	CU_ASSERT_EQUAL(g_wrs.wr[1].wr.rdma.remote_addr, 0xc0000 + 16384);
	CU_ASSERT_EQUAL(g_wrs.wr[2].wr.rdma.remote_addr, 0xc0000 + 16384 + 8192);
	CU_ASSERT_EQUAL(g_wrs.wr[1].sg_list[0].lkey, lkey_at(g_mem));
	CU_ASSERT_EQUAL(g_wrs.wr[1].sg_list[1].lkey, lkey_at(g_mem + MB2));
	for (i = 0; i < 3; i++) {
		CU_ASSERT(g_wrs.wr[i].num_sge <= 2);
		CU_ASSERT_EQUAL(g_wrs.wr[i].wr.rdma.rkey, 0x44);
		CU_ASSERT_PTR_EQUAL(g_wrs.wr[i].next, i < 2 ? &g_wrs.wr[i + 1] : NULL);
	}
	/* More WRs than a request holds: refused, not overrun. */
	sgl_one(&s, 0xc0000, 4 * 8192, 0x44);
	{
		void *many[40];
		for (i = 0; i < 40; i++)
			many[i] = g_mem + i * 4096;
		s.desc[0].len = s.length = 40 * 1024;
		CU_ASSERT_EQUAL(nvmf_rdma_sgl_fill(&s, many, 1024, g_map, 1,
						   IBV_WR_RDMA_READ, iov, 32, &iovcnt,
						   &g_wrs), -E2BIG);
		s.desc[0].len = s.length = 33 * 1024;
		CU_ASSERT_EQUAL(nvmf_rdma_sgl_fill(&s, many, 1024, g_map, 16,
						   IBV_WR_RDMA_READ, iov, 32, &iovcnt,
						   &g_wrs), -E2BIG);
	}
}

static void test_fill_multi_desc(void)
{
	void *bufs[3] = { g_mem, g_mem + 16384, g_mem + 32768 };
	struct iovec iov[32];
	struct nvmf_rdma_sgl s;
	int iovcnt;

	memset(&s, 0, sizeof(s));
	s.kind = NVMF_RDMA_SGL_KEYED;
	s.ndesc = 2;
	s.desc[0] = (struct nvmf_rdma_sgl_desc){ 0x1000, 7, 4096 };
	s.desc[1] = (struct nvmf_rdma_sgl_desc){ 0x9000, 8, 9000 };
	s.length = 13096;
	CU_ASSERT_EQUAL(nvmf_rdma_sgl_nbufs(&s, 8192), 3);	/* 1 + 2: not 2 */
	CU_ASSERT_EQUAL_FATAL(nvmf_rdma_sgl_fill(&s, bufs, 8192, g_map, 16, IBV_WR_RDMA_WRITE,
						 iov, 32, &iovcnt, &g_wrs), 0);
	CU_ASSERT_EQUAL(iovcnt, 3);
	CU_ASSERT_EQUAL(iov[0].iov_len, 4096);
	CU_ASSERT_EQUAL(iov[1].iov_len, 8192);
	CU_ASSERT_EQUAL(iov[2].iov_len, 808);
	CU_ASSERT_EQUAL_FATAL(g_wrs.nwr, 2);
	CU_ASSERT_EQUAL(g_wrs.wr[0].wr.rdma.rkey, 7);
	CU_ASSERT_EQUAL(g_wrs.wr[0].num_sge, 1);
	CU_ASSERT_EQUAL(g_wrs.wr[1].wr.rdma.rkey, 8);
	CU_ASSERT_EQUAL(g_wrs.wr[1].wr.rdma.remote_addr, 0x9000);
	CU_ASSERT_EQUAL(g_wrs.wr[1].num_sge, 2);
	CU_ASSERT_PTR_EQUAL(g_wrs.wr[0].next, &g_wrs.wr[1]);
}

static void test_fill_no_translation(void)
{
	static uint8_t not_registered[8192];
	void *bufs[2] = { g_mem, not_registered };
	struct iovec iov[32];
	struct nvmf_rdma_sgl s;
	int iovcnt;

	sgl_one(&s, 0xd0000, 16384, 0x45);
	CU_ASSERT_EQUAL(nvmf_rdma_sgl_fill(&s, bufs, 8192, g_map, 16, IBV_WR_RDMA_READ,
					   iov, 32, &iovcnt, &g_wrs), -EFAULT);
	bufs[0] = g_mem + 2 * MB2;	/* the unregistered third page */
	CU_ASSERT_EQUAL(nvmf_rdma_sgl_fill(&s, bufs, 8192, g_map, 16, IBV_WR_RDMA_READ,
					   iov, 32, &iovcnt, &g_wrs), -EFAULT);
}

int main(void)
{
	static const struct ut_test tests[] = {
		{ "mr_translate", test_mr_translate },
		{ "mr_follows_registration", test_mr_follows_registration },
		{ "mr_map_lifecycle", test_mr_map_lifecycle },
		{ "parse_keyed", test_parse_keyed },
		{ "parse_bad_type", test_parse_bad_type },
		{ "parse_in_capsule", test_parse_in_capsule },
		{ "parse_list", test_parse_list },
		{ "fill_simple", test_fill_simple },
		{ "fill_crosses_mr_boundary", test_fill_crosses_mr_boundary },
		{ "fill_sge_limit", test_fill_sge_limit },
		{ "fill_multi_desc", test_fill_multi_desc },
		{ "fill_no_translation", test_fill_no_translation },
	};
	return ut_run("rdma_sgl", suite_init, suite_fini, tests, UT_COUNT(tests));
}
