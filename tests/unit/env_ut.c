/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * memmap/env.c over the real DPDK EAL. The EAL starts once per process, so
 * each case runs in a child process and reports its failed checks back.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <rte_malloc.h>
#include <rte_memory.h>

#include "memmap/env.h"
#include "memmap/log.h"
#include "memmap/memmap.h"
#include "tests/unit/ut.h"

#define HUGEPAGES_NR "/proc/sys/vm/nr_hugepages"

static int g_fails;	/* in the child */

static void check(int ok, const char *what, ...)
	__attribute__((format(printf, 2, 3)));

static void check(int ok, const char *what, ...)
{
	va_list ap;

	if (ok)
		return;
	g_fails++;
	va_start(ap, what);
	fprintf(stderr, "    check failed: ");
	vfprintf(stderr, what, ap);
	fprintf(stderr, "\n");
	va_end(ap);
}

/* Run fn in a child; the test passes when the child had no failed check. */
static void in_child(void (*fn)(void))
{
	int status = 0;
	pid_t pid = fork();

	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		fn();
		_exit(g_fails > 100 ? 100 : g_fails);
	}
	CU_ASSERT_EQUAL_FATAL(waitpid(pid, &status, 0), pid);
	CU_ASSERT(WIFEXITED(status));
	CU_ASSERT_EQUAL(WEXITSTATUS(status), 0);
}

struct counter {
	unsigned long regs, unregs;
	uint64_t reg_bytes;
};

static int count_notify(void *ctx, struct memmap *map, enum memmap_action a,
			void *vaddr, size_t len)
{
	struct counter *c = ctx;

	(void)map;
	(void)vaddr;
	if (a == MEMMAP_REGISTER) {
		c->regs++;
		c->reg_bytes += len;
	} else {
		c->unregs++;
	}
	return 0;
}

static const struct memmap_ops count_ops = { .notify = count_notify };

/* Every whole 2 MiB page of every DPDK memory chunk must be registered. */
static int seg_check(const struct rte_memseg_list *msl, const struct rte_memseg *ms,
		     size_t len, void *arg)
{
	uintptr_t s = ((uintptr_t)ms->addr + MEMMAP_PAGE_MASK) & ~MEMMAP_PAGE_MASK;
	uintptr_t e = ((uintptr_t)ms->addr + len) & ~MEMMAP_PAGE_MASK;
	int *unregistered = arg;
	void *start;
	size_t rlen;

	(void)msl;
	for (; s < e; s += MEMMAP_PAGE_SIZE)
		*unregistered += memmap_region((void *)s, &start, &rlen) != 0;
	return 0;
}

static void check_buffer(void *p, size_t len)
{
	uint64_t size = len;
	void *start;
	size_t rlen;

	check(p != NULL, "env_dma_alloc(%zu)", len);
	if (!p)
		return;
	check(memmap_region(p, &start, &rlen) == 0, "buffer %p is registered", p);
	/* IOVA as VA: vtophys is the address itself, offset included. */
	check(memmap_vtophys(p, &size) == (uintptr_t)p, "vtophys(%p) == %p", p, p);
	check(size == len, "contiguous size %lu == %zu", (unsigned long)size, len);
	check(memmap_vtophys(p, NULL) == rte_malloc_virt2iova(p),
	      "vtophys agrees with DPDK's iova");
}

static void nohuge_case(void)
{
	struct env_opts o;
	struct counter c = { 0 };
	struct memmap *map;
	int unregistered = 0;
	char *p, *small, *big;

	env_opts_init(&o);
	o.name = "env_ut";
	o.no_huge = true;
	o.mem_mb = 128;
	check(env_init(&o) == 0, "env_init --no-huge");
	check(env_init(&o) == -EALREADY, "second env_init is -EALREADY");

	rte_memseg_contig_walk(seg_check, &unregistered);
	check(unregistered == 0, "%d DPDK pages not registered", unregistered);

	small = env_dma_alloc(8, 0);
	check(small && ((uintptr_t)small & MEMMAP_PAGE_MASK) != 0,
	      "an 8-byte buffer lies at a non-zero offset in its page");
	check_buffer(small, 8);
	p = env_dma_alloc(16 << 20, 4096);
	check_buffer(p, 16 << 20);

	/* A map allocated now is replayed what env registered. */
	map = memmap_alloc(0, &count_ops, &c);
	check(map != NULL, "memmap_alloc after env_init");
	check(c.regs >= 2 && c.reg_bytes >= (32ULL << 20), "replay: %lu regions, %lu bytes",
	      c.regs, (unsigned long)c.reg_bytes);

	/* Larger than a heap chunk: one more chunk, registered whole. */
	big = env_dma_zalloc(40 << 20, 0);
	check_buffer(big, 40 << 20);
	check(big && big[0] == 0 && big[(40 << 20) - 1] == 0, "zalloc is zeroed");
	check(c.regs >= 3, "the new chunk was notified (%lu regions)", c.regs);
	/* Beyond the -s cap (128 MiB): NULL, nothing else. */
	check(env_dma_alloc(100 << 20, 0) == NULL, "allocation beyond -s fails");
	env_dma_free(big);
	memmap_free(&map);
	check(c.unregs == c.regs, "free: %lu unregisters for %lu registers", c.unregs,
	      c.regs);
	env_dma_free(p);
	env_dma_free(small);
	env_fini();
	check(memmap_vtophys(small, NULL) == MEMMAP_VTOPHYS_ERROR,
	      "nothing translates after env_fini");
}

static void test_nohuge(void)
{
	in_child(nohuge_case);
}

static void bad_opts_case(void)
{
	struct env_opts o;

	env_opts_init(&o);
	o.name = "env_ut";
	o.core_mask = "0xZZ";
	o.no_huge = true;
	check(env_init(&o) == -EINVAL, "bad core mask is -EINVAL");
	env_opts_init(&o);
	o.iova = ENV_IOVA_PA;
	o.no_huge = true;
	check(env_init(&o) == -EINVAL, "pa with --no-huge is -EINVAL");
	env_opts_init(&o);
	o.mem_mb = 1024 * 1024;	/* 1 TiB of hugepages: never there */
	check(env_init(&o) == -ENOMEM, "more hugepages than free is -ENOMEM");
}

static void test_bad_opts(void)
{
	in_child(bad_opts_case);
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static int write_long(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int rc;

	if (!f)
		return -errno;
	rc = fprintf(f, "%ld\n", v) > 0 ? 0 : -EIO;
	if (fclose(f))
		rc = -errno;
	return rc;
}

static void dynamic_case(void)
{
	struct counter c = { 0 };
	struct env_opts o;
	struct memmap *map;
	unsigned long regs;
	size_t big = 24 << 20;
	char *p;

	env_opts_init(&o);
	o.name = "env_ut";
	check(env_init(&o) == 0, "env_init with hugepages, dynamic memory");
	map = memmap_alloc(0, &count_ops, &c);
	check(map != NULL, "memmap_alloc");
	regs = c.regs;

	/* More than DPDK holds yet: the heap grows, an ALLOC event comes. */
	p = env_dma_alloc(big, MEMMAP_PAGE_SIZE);
	check_buffer(p, big);
	check(c.regs > regs, "growth notified the map (%lu > %lu)", c.regs, regs);
	env_dma_free(p);
	/* DPDK gives the pages back: they are unregistered through the event. */
	check(c.unregs >= 1, "shrink notified the map (%lu)", c.unregs);
	check(memmap_vtophys(p + big / 2, NULL) == MEMMAP_VTOPHYS_ERROR,
	      "freed memory no longer translates");
	printf("(heap grew: %lu -> %lu regions, %lu unregistered) ", regs, c.regs,
	       c.unregs);
	fflush(stdout);
	memmap_free(&map);
	env_fini();
}

static void test_dynamic(void)
{
	long nr = read_long(HUGEPAGES_NR);
	unsigned long free_pages = env_free_hugepages();
	bool reserved = false;

	if (free_pages < 32) {
		/* Reserve a few for this test only, and give them back after. */
		if (nr < 0 || write_long(HUGEPAGES_NR, nr + 32) != 0 ||
		    env_free_hugepages() < 32) {
			if (nr >= 0)
				write_long(HUGEPAGES_NR, nr);
			printf("\n    SKIPPED: no free hugepages and none can be reserved "
			       "(not root?); the --no-huge case still ran\n");
			return;
		}
		reserved = true;
	}
	in_child(dynamic_case);
	if (reserved)
		CU_ASSERT_EQUAL(write_long(HUGEPAGES_NR, nr), 0);
}

int main(void)
{
	static const struct ut_test tests[] = {
		{ "--no-huge: all memory registered", test_nohuge },
		{ "bad options fail before EAL", test_bad_opts },
		{ "hugepages: growth registered", test_dynamic },
	};

	log_set_level(LOGL_WARN);
	return ut_run("env (real DPDK EAL)", NULL, NULL, tests, UT_COUNT(tests));
}
