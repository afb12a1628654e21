/* SPDX-License-Identifier: BSD-3-Clause */
/* Every edge of memmap/memmap.h, without DPDK: addresses are only numbers. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "memmap/memmap.h"
#include "tests/unit/ut.h"

#define MB2	MEMMAP_PAGE_SIZE
#define BASE	0x200000000000ULL	/* 32 TiB: never touched, only numbers */

struct event {
	enum memmap_action action;
	uint64_t vaddr;
	uint64_t len;
};

struct recorder {
	struct event ev[64];
	int n;
	int fail_at;		/* REGISTER number (1-based) that fails, 0: none */
	int registers;
};

static int record(void *ctx, struct memmap *map, enum memmap_action action,
		  void *vaddr, size_t len)
{
	struct recorder *r = ctx;

	(void)map;
	if (r->n < 64)
		r->ev[r->n++] = (struct event){ action, (uintptr_t)vaddr, len };
	if (action == MEMMAP_REGISTER && ++r->registers == r->fail_at)
		return -ENOSPC;
	return 0;
}

static const struct memmap_ops rec_ops = { .notify = record };

static void *va(uint64_t a)
{
	return (void *)(uintptr_t)a;
}

static bool event_is(const struct event *e, enum memmap_action a, uint64_t vaddr,
		     uint64_t len)
{
	return e->action == a && e->vaddr == vaddr && e->len == len;
}

static int contig_plus_2mb(uint64_t t1, uint64_t t2)
{
	return t2 == t1 + MB2;
}

static void test_alloc_free(void)
{
	struct memmap *map = memmap_alloc(7, NULL, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(map);
	CU_ASSERT_EQUAL(memmap_translate(map, BASE, NULL), 7);
	memmap_free(&map);
	CU_ASSERT_PTR_NULL(map);
	memmap_free(&map);	/* NULL is fine */
}

static void test_default_translation(void)
{
	struct memmap *map = memmap_alloc(0xdead, NULL, NULL);
	uint64_t size = 4 * MB2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(map);
	CU_ASSERT_EQUAL(memmap_translate(map, 0, NULL), 0xdead);
	CU_ASSERT_EQUAL(memmap_set_translation(map, BASE, MB2, 1), 0);
	/* Same 1 GiB table, other page: still the default. */
	CU_ASSERT_EQUAL(memmap_translate(map, BASE + MB2, &size), 0xdead);
	CU_ASSERT_EQUAL(size, 4 * MB2);
	CU_ASSERT_EQUAL(memmap_clear_translation(map, BASE, MB2), 0);
	CU_ASSERT_EQUAL(memmap_translate(map, BASE + 5, NULL), 0xdead);
	memmap_free(&map);
}

static void test_set_einval(void)
{
	struct memmap *map = memmap_alloc(0, NULL, NULL);

	CU_ASSERT_PTR_NOT_NULL_FATAL(map);
	CU_ASSERT_EQUAL(memmap_set_translation(map, BASE + 1, MB2, 1), -EINVAL);
	CU_ASSERT_EQUAL(memmap_set_translation(map, BASE, MB2 - 1, 1), -EINVAL);
	CU_ASSERT_EQUAL(memmap_set_translation(map, BASE, MB2 + 4096, 1), -EINVAL);
	CU_ASSERT_EQUAL(memmap_set_translation(map, BASE, 0, 1), -EINVAL);
	CU_ASSERT_EQUAL(memmap_clear_translation(map, BASE + 4096, MB2), -EINVAL);
	CU_ASSERT_EQUAL(memmap_set_translation(NULL, BASE, MB2, 1), -EINVAL);
	/* Nothing was written by the failed calls. */
	CU_ASSERT_EQUAL(memmap_translate(map, BASE, NULL), 0);
	memmap_free(&map);
}

static void test_contiguous_6mb(void)
{
	const struct memmap_ops ops = { .are_contiguous = contig_plus_2mb };
	struct memmap *map = memmap_alloc(0, &ops, NULL);
	struct memmap *same = memmap_alloc(0, NULL, NULL);
	uint64_t size;

	CU_ASSERT_PTR_NOT_NULL_FATAL(map);
	CU_ASSERT_PTR_NOT_NULL_FATAL(same);
	CU_ASSERT_EQUAL(memmap_set_translation(map, BASE, MB2, 0x1000000), 0);
	CU_ASSERT_EQUAL(memmap_set_translation(map, BASE + MB2, MB2, 0x1000000 + MB2), 0);
	CU_ASSERT_EQUAL(memmap_set_translation(map, BASE + 2 * MB2, MB2,
					       0x1000000 + 2 * MB2), 0);
	size = 6 << 20;		/* 6 MiB = three pages */
	CU_ASSERT_EQUAL(memmap_translate(map, BASE, &size), 0x1000000);
	CU_ASSERT_EQUAL(size, 6 << 20);
	/* Asking for more stops where contiguity stops. */
	size = 10 * MB2;
	memmap_translate(map, BASE, &size);
	CU_ASSERT_EQUAL(size, 6 << 20);
	/* From inside the first page: the rest of the 6 MiB. */
	size = 10 * MB2;
	CU_ASSERT_EQUAL(memmap_translate(map, BASE + 4096, &size), 0x1000000);
	CU_ASSERT_EQUAL(size, (6 << 20) - 4096);

	/* Without are_contiguous, equal translations are contiguous. */
	CU_ASSERT_EQUAL(memmap_set_translation(same, BASE, 3 * MB2, 42), 0);
	size = 6 << 20;
	CU_ASSERT_EQUAL(memmap_translate(same, BASE, &size), 42);
	CU_ASSERT_EQUAL(size, 6 << 20);
	CU_ASSERT_EQUAL(memmap_set_translation(same, BASE + MB2, MB2, 43), 0);
	size = 6 << 20;
	memmap_translate(same, BASE, &size);
	CU_ASSERT_EQUAL(size, MB2);
	memmap_free(&map);
	memmap_free(&same);
}

static void test_unaligned_request(void)
{
	struct memmap *map = memmap_alloc(0, NULL, NULL);
	uint64_t size;

	CU_ASSERT_PTR_NOT_NULL_FATAL(map);
	CU_ASSERT_EQUAL(memmap_set_translation(map, BASE, MB2, 9), 0);
	/* From the middle of the only translated page: what is left of it. */
	size = 4 * MB2;
	CU_ASSERT_EQUAL(memmap_translate(map, BASE + MB2 / 2 + 3, &size), 9);
	CU_ASSERT_EQUAL(size, MB2 / 2 - 3);
	/* A 543-byte request inside a page is answered 543. */
	size = 543;
	CU_ASSERT_EQUAL(memmap_translate(map, BASE + 12345, &size), 9);
	CU_ASSERT_EQUAL(size, 543);
	/* 543 bytes that end exactly at the page end. */
	size = 543;
	memmap_translate(map, BASE + MB2 - 543, &size);
	CU_ASSERT_EQUAL(size, 543);
	/* 543 bytes that cross into a page with another translation. */
	size = 543;
	memmap_translate(map, BASE + MB2 - 100, &size);
	CU_ASSERT_EQUAL(size, 100);
	memmap_free(&map);
}

static void test_clear_middle(void)
{
	struct memmap *map = memmap_alloc(0, NULL, NULL);
	uint64_t size = 3 * MB2;

	CU_ASSERT_PTR_NOT_NULL_FATAL(map);
	CU_ASSERT_EQUAL(memmap_set_translation(map, BASE, 3 * MB2, 5), 0);
	CU_ASSERT_EQUAL(memmap_translate(map, BASE, &size), 5);
	CU_ASSERT_EQUAL(size, 3 * MB2);
	CU_ASSERT_EQUAL(memmap_clear_translation(map, BASE + MB2, MB2), 0);
	size = 3 * MB2;
	CU_ASSERT_EQUAL(memmap_translate(map, BASE, &size), 5);
	CU_ASSERT_EQUAL(size, MB2);
	size = 3 * MB2;
	CU_ASSERT_EQUAL(memmap_translate(map, BASE + MB2, &size), 0);
	CU_ASSERT_EQUAL(size, MB2);
	size = MB2;
	CU_ASSERT_EQUAL(memmap_translate(map, BASE + 2 * MB2, &size), 5);
	CU_ASSERT_EQUAL(size, MB2);
	memmap_free(&map);
}

static void test_va_limit(void)
{
	struct memmap *map = memmap_alloc(0, NULL, NULL);
	uint64_t last = MEMMAP_VA_LIMIT - MB2, size;

	CU_ASSERT_PTR_NOT_NULL_FATAL(map);
	CU_ASSERT_EQUAL(memmap_set_translation(map, last, MB2, 77), 0);
	size = 4 * MB2;		/* runs into the end of the space */
	CU_ASSERT_EQUAL(memmap_translate(map, last, &size), 77);
	CU_ASSERT_EQUAL(size, MB2);
	CU_ASSERT_EQUAL(memmap_translate(map, MEMMAP_VA_LIMIT - 1, NULL), 77);
	/* The first address beyond: refused, and reads as the default. */
	CU_ASSERT_EQUAL(memmap_set_translation(map, MEMMAP_VA_LIMIT, MB2, 1), -EINVAL);
	CU_ASSERT_EQUAL(memmap_set_translation(map, last, 2 * MB2, 1), -EINVAL);
	size = MB2;
	CU_ASSERT_EQUAL(memmap_translate(map, MEMMAP_VA_LIMIT, &size), 0);
	CU_ASSERT_EQUAL(size, 0);
	CU_ASSERT_EQUAL(memmap_translate(map, UINT64_MAX, NULL), 0);
	CU_ASSERT_EQUAL(memmap_register(va(MEMMAP_VA_LIMIT), MB2), -EINVAL);
	CU_ASSERT_EQUAL(memmap_register(va(last), 2 * MB2), -EINVAL);
	CU_ASSERT_EQUAL(memmap_register(va(last), MB2), 0);
	CU_ASSERT_EQUAL(memmap_unregister(va(last), MB2), 0);
	memmap_free(&map);
}

static void test_register_errors(void)
{
	CU_ASSERT_EQUAL(memmap_register(va(BASE + 4096), MB2), -EINVAL);
	CU_ASSERT_EQUAL(memmap_register(va(BASE), MB2 + 1), -EINVAL);
	CU_ASSERT_EQUAL(memmap_register(va(BASE), 0), -EINVAL);
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE), MB2), -EINVAL);

	CU_ASSERT_EQUAL(memmap_register(va(BASE + 2 * MB2), 4 * MB2), 0);
	/* Overlaps at the start, at the end, inside, around. */
	CU_ASSERT_EQUAL(memmap_register(va(BASE), 3 * MB2), -EBUSY);
	CU_ASSERT_EQUAL(memmap_register(va(BASE + 5 * MB2), 2 * MB2), -EBUSY);
	CU_ASSERT_EQUAL(memmap_register(va(BASE + 3 * MB2), MB2), -EBUSY);
	CU_ASSERT_EQUAL(memmap_register(va(BASE), 8 * MB2), -EBUSY);
	/* The pages around are still free. */
	CU_ASSERT_EQUAL(memmap_register(va(BASE), 2 * MB2), 0);

	/* Part of a region: its tail, its head, its middle. */
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE + 4 * MB2), 2 * MB2), -ERANGE);
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE + 2 * MB2), 2 * MB2), -ERANGE);
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE + 3 * MB2), MB2), -ERANGE);
	/* Partly unregistered range. */
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE + 2 * MB2), 6 * MB2), -EINVAL);
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE + 2 * MB2), 4 * MB2 + 1), -EINVAL);

	/* Two whole adjacent regions at once are fine. */
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE), 6 * MB2), 0);
	CU_ASSERT_EQUAL(memmap_register(va(BASE), 6 * MB2), 0);
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE), 6 * MB2), 0);
}

static void test_replay_adjacent(void)
{
	static const int pages[] = { 2, 1, 3, 2, 1, 1 };
	struct recorder rec = { 0 };
	struct memmap *map;
	uint64_t a = BASE;
	int i;

	for (i = 0; i < 6; i++) {
		CU_ASSERT_EQUAL(memmap_register(va(a), pages[i] * MB2), 0);
		a += pages[i] * MB2;
	}
	map = memmap_alloc(0, &rec_ops, &rec);
	CU_ASSERT_PTR_NOT_NULL_FATAL(map);
	CU_ASSERT_EQUAL_FATAL(rec.n, 6);
	for (a = BASE, i = 0; i < 6; a += pages[i] * MB2, i++)
		CU_ASSERT(event_is(&rec.ev[i], MEMMAP_REGISTER, a, pages[i] * MB2));

	/* Unregistering all six at once tells the map six times, in order. */
	rec.n = 0;
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE), 10 * MB2), 0);
	CU_ASSERT_EQUAL_FATAL(rec.n, 6);
	for (a = BASE, i = 0; i < 6; a += pages[i] * MB2, i++)
		CU_ASSERT(event_is(&rec.ev[i], MEMMAP_UNREGISTER, a, pages[i] * MB2));

	rec.n = 0;
	memmap_free(&map);
	CU_ASSERT_EQUAL(rec.n, 0);	/* nothing registered any more */
}

static void test_free_unregisters(void)
{
	struct recorder rec = { 0 };
	struct memmap *map = memmap_alloc(0, &rec_ops, &rec);

	CU_ASSERT_PTR_NOT_NULL_FATAL(map);
	CU_ASSERT_EQUAL(memmap_register(va(BASE), MB2), 0);
	CU_ASSERT_EQUAL(memmap_register(va(BASE + 4 * MB2), 2 * MB2), 0);
	CU_ASSERT_EQUAL(rec.n, 2);
	memmap_free(&map);
	CU_ASSERT_EQUAL_FATAL(rec.n, 4);
	CU_ASSERT(event_is(&rec.ev[2], MEMMAP_UNREGISTER, BASE, MB2));
	CU_ASSERT(event_is(&rec.ev[3], MEMMAP_UNREGISTER, BASE + 4 * MB2, 2 * MB2));
	/* A freed map is told nothing more. */
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE), MB2), 0);
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE + 4 * MB2), 2 * MB2), 0);
	CU_ASSERT_EQUAL(rec.n, 4);
}

static void test_replay_failure(void)
{
	struct recorder rec = { .fail_at = 3 }, later = { 0 };
	struct memmap *map, *other;
	int i;

	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(memmap_register(va(BASE + i * 4 * MB2), MB2), 0);
	map = memmap_alloc(0, &rec_ops, &rec);
	CU_ASSERT_PTR_NULL(map);
	/* Three REGISTERs (the third failed), then the first two undone. */
	CU_ASSERT_EQUAL_FATAL(rec.n, 5);
	CU_ASSERT(event_is(&rec.ev[3], MEMMAP_UNREGISTER, BASE, MB2));
	CU_ASSERT(event_is(&rec.ev[4], MEMMAP_UNREGISTER, BASE + 4 * MB2, MB2));

	/* The failed map is not in the list: a new registration skips it. */
	other = memmap_alloc(0, &rec_ops, &later);
	CU_ASSERT_PTR_NOT_NULL_FATAL(other);
	CU_ASSERT_EQUAL(memmap_register(va(BASE + 32 * MB2), MB2), 0);
	CU_ASSERT_EQUAL(rec.n, 5);
	CU_ASSERT_EQUAL(later.n, 5);
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE + 32 * MB2), MB2), 0);
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(memmap_unregister(va(BASE + i * 4 * MB2), MB2), 0);
	memmap_free(&other);
}

static void test_rollback_three_maps(void)
{
	struct recorder r1 = { 0 }, r2 = { 0 }, r3 = { .fail_at = 1 };
	struct memmap *m1 = memmap_alloc(0, &rec_ops, &r1);
	struct memmap *m2 = memmap_alloc(0, &rec_ops, &r2);
	struct memmap *m3 = memmap_alloc(0, &rec_ops, &r3);
	void *start;
	size_t len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m3);
	CU_ASSERT_EQUAL(memmap_register(va(BASE), 3 * MB2), -ENOSPC);
	CU_ASSERT_EQUAL_FATAL(r1.n, 2);
	CU_ASSERT(event_is(&r1.ev[0], MEMMAP_REGISTER, BASE, 3 * MB2));
	CU_ASSERT(event_is(&r1.ev[1], MEMMAP_UNREGISTER, BASE, 3 * MB2));
	CU_ASSERT_EQUAL_FATAL(r2.n, 2);
	CU_ASSERT(event_is(&r2.ev[1], MEMMAP_UNREGISTER, BASE, 3 * MB2));
	CU_ASSERT_EQUAL(r3.n, 1);
	/* Nothing registered is left: no region, not even vtophys. */
	CU_ASSERT_EQUAL(memmap_region(va(BASE), &start, &len), -ENOENT);
	CU_ASSERT_EQUAL(memmap_vtophys(va(BASE + 100), NULL), MEMMAP_VTOPHYS_ERROR);
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE), 3 * MB2), -EINVAL);
	/* And the same range registers fine once every map agrees. */
	CU_ASSERT_EQUAL(memmap_register(va(BASE), 3 * MB2), 0);
	CU_ASSERT_EQUAL(r3.n, 2);
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE), 3 * MB2), 0);
	memmap_free(&m3);
	memmap_free(&m2);
	memmap_free(&m1);
}

static void test_region(void)
{
	void *start;
	size_t len;

	CU_ASSERT_EQUAL(memmap_register(va(BASE), 2 * MB2), 0);
	CU_ASSERT_EQUAL(memmap_register(va(BASE + 2 * MB2), 3 * MB2), 0);
	CU_ASSERT_EQUAL(memmap_region(va(BASE + 3 * MB2 + 17), &start, &len), 0);
	CU_ASSERT_EQUAL((uintptr_t)start, BASE + 2 * MB2);
	CU_ASSERT_EQUAL(len, 3 * MB2);
	CU_ASSERT_EQUAL(memmap_region(va(BASE + MB2), &start, &len), 0);
	CU_ASSERT_EQUAL((uintptr_t)start, BASE);
	CU_ASSERT_EQUAL(len, 2 * MB2);
	CU_ASSERT_EQUAL(memmap_region(va(BASE + 5 * MB2), &start, &len), -ENOENT);
	CU_ASSERT_EQUAL(memmap_region(va(MEMMAP_VA_LIMIT), &start, &len), -ENOENT);
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE), 5 * MB2), 0);
}

/* vtophys in IOVA-as-VA mode (the default memmap_init(NULL) of this suite). */
static void test_vtophys_va(void)
{
	char *region = aligned_alloc(MB2, 2 * MB2), *buf;
	uint64_t size;

	CU_ASSERT_PTR_NOT_NULL_FATAL(region);
	buf = region + MB2 + 0x1234;	/* an 8-byte object mid-page */
	CU_ASSERT_EQUAL(memmap_vtophys(buf, NULL), MEMMAP_VTOPHYS_ERROR);
	CU_ASSERT_EQUAL(memmap_register(region, 2 * MB2), 0);
	size = 8;
	CU_ASSERT_EQUAL(memmap_vtophys(buf, &size), (uintptr_t)buf);
	CU_ASSERT_EQUAL(size, 8);
	/* Contiguous to the end of the region, no further. */
	size = 4 * MB2;
	CU_ASSERT_EQUAL(memmap_vtophys(region, &size), (uintptr_t)region);
	CU_ASSERT_EQUAL(size, 2 * MB2);
	CU_ASSERT_EQUAL(memmap_unregister(region, 2 * MB2), 0);
	size = 8;
	CU_ASSERT_EQUAL(memmap_vtophys(buf, &size), MEMMAP_VTOPHYS_ERROR);
	CU_ASSERT_EQUAL(size, 0);
	free(region);
}

/* A fake physical layout: pages reversed in a window, 2 MiB aligned. */
#define PHYS_TOP 0x4000000000ULL
static uint64_t fake_pa(uint64_t vaddr)
{
	if (vaddr < BASE || vaddr >= BASE + 64 * MB2)
		return MEMMAP_VTOPHYS_ERROR;
	return PHYS_TOP - ((vaddr - BASE) / MB2) * MB2;
}

static void test_vtophys_pa(void)
{
	uint64_t size, buf = BASE + MB2 + 0x1234;

	memmap_fini();
	CU_ASSERT_EQUAL_FATAL(memmap_init(fake_pa), 0);
	CU_ASSERT_EQUAL(memmap_init(fake_pa), -EALREADY);
	CU_ASSERT_EQUAL(memmap_register(va(BASE), 2 * MB2), 0);
	/* The page's physical address plus the offset in the page. */
	size = 8;
	CU_ASSERT_EQUAL(memmap_vtophys(va(buf), &size), PHYS_TOP - MB2 + 0x1234);
	CU_ASSERT_EQUAL(size, 8);
	/* Reversed pages are not contiguous: stops at the page end. */
	size = MB2;
	memmap_vtophys(va(BASE + 0x10), &size);
	CU_ASSERT_EQUAL(size, MB2 - 0x10);
	/* A page without physical address fails the registration. */
	CU_ASSERT_EQUAL(memmap_register(va(BASE + 63 * MB2), 2 * MB2), -EFAULT);
	CU_ASSERT_EQUAL(memmap_vtophys(va(BASE + 63 * MB2), NULL), MEMMAP_VTOPHYS_ERROR);
	CU_ASSERT_EQUAL(memmap_register(va(BASE + 63 * MB2), MB2), 0);
	memmap_fini();
	CU_ASSERT_EQUAL(memmap_vtophys(va(buf), NULL), MEMMAP_VTOPHYS_ERROR);
	CU_ASSERT_EQUAL_FATAL(memmap_init(NULL), 0);
	/* memmap_fini unregistered everything. */
	CU_ASSERT_EQUAL(memmap_register(va(BASE), 2 * MB2), 0);
	CU_ASSERT_EQUAL(memmap_unregister(va(BASE), 2 * MB2), 0);
}

#define THREAD_ROUNDS 2000

struct worker {
	uint64_t base;
	int errors;
};

static void *register_loop(void *arg)
{
	struct worker *w = arg;
	int i;

	for (i = 0; i < THREAD_ROUNDS; i++) {
		w->errors += memmap_register(va(w->base), 2 * MB2) != 0;
		w->errors += memmap_vtophys(va(w->base + 5), NULL) != w->base + 5;
		w->errors += memmap_unregister(va(w->base), 2 * MB2) != 0;
	}
	return NULL;
}

static void test_threads(void)
{
	struct worker w[2] = { { BASE, 0 }, { BASE + 1024 * MB2, 0 } };
	pthread_t t[2];
	int i;

	for (i = 0; i < 2; i++)
		CU_ASSERT_EQUAL_FATAL(pthread_create(&t[i], NULL, register_loop, &w[i]), 0);
	for (i = 0; i < 2; i++) {
		pthread_join(t[i], NULL);
		CU_ASSERT_EQUAL(w[i].errors, 0);
	}
}

static int suite_init(void)
{
	return memmap_init(NULL);
}

static int suite_fini(void)
{
	memmap_fini();
	return 0;
}

int main(void)
{
	static const struct ut_test tests[] = {
		{ "map alloc/free", test_alloc_free },
		{ "default translation", test_default_translation },
		{ "set_translation -EINVAL", test_set_einval },
		{ "6 MiB contiguous", test_contiguous_6mb },
		{ "unaligned and 543-byte requests", test_unaligned_request },
		{ "clearing a middle page splits", test_clear_middle },
		{ "last page of the 48-bit space", test_va_limit },
		{ "register -EINVAL/-EBUSY/-ERANGE", test_register_errors },
		{ "replay {2,1,3,2,1,1} regions", test_replay_adjacent },
		{ "free notifies unregister", test_free_unregisters },
		{ "failed replay leaves nothing", test_replay_failure },
		{ "rollback across three maps", test_rollback_three_maps },
		{ "region lookup", test_region },
		{ "vtophys in VA mode with offset", test_vtophys_va },
		{ "vtophys in PA mode with offset", test_vtophys_pa },
		{ "register from two threads", test_threads },
	};
	return ut_run("memmap", suite_init, suite_fini, tests, UT_COUNT(tests));
}
