/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Registration and translation speed of memmap (a report, not a test).
 * 100 GiB of reserved address space (PROT_NONE, MAP_NORESERVE) is
 * registered with the registration map, the vtophys map (IOVA as VA) and
 * one extra map with a counting notify, then unregistered.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "memmap/memmap.h"

#define GIB		((uint64_t)1 << 30)
#define SPACE_GIB	((uint64_t)100)
#define SEED_MS_PER_GB	169.3	/* seed 001: 100 GB registered in 16.93 s */
#define TRANSLATIONS	(20 * 1000 * 1000)

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t g_notified;

static int count_notify(void *ctx, struct memmap *map, enum memmap_action a,
			void *vaddr, size_t len)
{
	(void)ctx;
	(void)map;
	(void)a;
	(void)vaddr;
	g_notified += len;
	return 0;
}

static const struct memmap_ops count_ops = { .notify = count_notify };

static char *reserve(uint64_t len)
{
	uint64_t span = len + MEMMAP_PAGE_SIZE;
	char *p = mmap(NULL, span, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	return (char *)(((uintptr_t)p + MEMMAP_PAGE_MASK) & ~MEMMAP_PAGE_MASK);
}

/* Register and unregister the space in chunks; prints ms per GiB. */
static int bench_register(char *base, uint64_t len, uint64_t chunk)
{
	double t0, t1, t2;
	uint64_t off;

	t0 = now_s();
	for (off = 0; off < len; off += chunk) {
		if (memmap_register(base + off, chunk)) {
			fprintf(stderr, "register failed at +%" PRIu64 "\n", off);
			return 1;
		}
	}
	t1 = now_s();
	for (off = 0; off < len; off += chunk) {
		if (memmap_unregister(base + off, chunk)) {
			fprintf(stderr, "unregister failed at +%" PRIu64 "\n", off);
			return 1;
		}
	}
	t2 = now_s();
	printf("  chunks of %6" PRIu64 " MiB: register %.3f ms/GiB, unregister %.3f ms/GiB"
	       " (seed %.1f ms/GB: %.0fx faster)\n", chunk >> 20,
	       (t1 - t0) * 1e3 / (double)(len / GIB), (t2 - t1) * 1e3 / (double)(len / GIB),
	       SEED_MS_PER_GB,
	       SEED_MS_PER_GB * (double)GIB / 1e9 / ((t1 - t0) * 1e3 / (double)(len / GIB)));
	return 0;
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int bench_translate(char *base, uint64_t len)
{
	uint64_t i, sum = 0, seed = 88172645463325252ULL, pages = len / MEMMAP_PAGE_SIZE;
	uint64_t *offs;
	double t0, t1, t2;

	/* Random page offsets drawn beforehand, so only lookups are timed. */
	offs = malloc(sizeof(*offs) * TRANSLATIONS);
	if (!offs)
		return 1;
	for (i = 0; i < TRANSLATIONS; i++)
		offs[i] = (xorshift(&seed) % pages) * MEMMAP_PAGE_SIZE + (i & 4095);

	t0 = now_s();
	for (i = 0; i < TRANSLATIONS; i++)	/* hot: 64-byte steps in 1 MiB */
		sum += memmap_vtophys(base + ((i * 64) & ((1 << 20) - 1)), NULL);
	t1 = now_s();
	for (i = 0; i < TRANSLATIONS; i++)	/* cold: random pages of 100 GiB */
		sum += memmap_vtophys(base + offs[i], NULL);
	t2 = now_s();
	printf("  vtophys hot (sequential): %.2f ns/op, cold (random pages over %" PRIu64
	       " GiB): %.2f ns/op [checksum %" PRIx64 "]\n",
	       (t1 - t0) * 1e9 / TRANSLATIONS, len / GIB, (t2 - t1) * 1e9 / TRANSLATIONS,
	       sum);
	free(offs);
	return 0;
}

int main(void)
{
	uint64_t len = SPACE_GIB * GIB;
	struct memmap *extra;
	char *base;
	int rc = 1;

	base = reserve(len);
	if (!base) {
		perror("mmap 100 GiB PROT_NONE");
		return 1;
	}
	if (memmap_init(NULL) || !(extra = memmap_alloc(0, &count_ops, NULL))) {
		fprintf(stderr, "memmap_init/alloc failed\n");
		return 1;
	}
	printf("memmap: %" PRIu64 " GiB, 3 maps (registration, vtophys, counting)\n",
	       SPACE_GIB);
	if (bench_register(base, len, len) || bench_register(base, len, GIB) ||
	    bench_register(base, len, MEMMAP_PAGE_SIZE))
		goto out;
	if (g_notified != 6 * len) {
		fprintf(stderr, "counting map saw %" PRIu64 " bytes, expected %" PRIu64 "\n",
			g_notified, 6 * len);
		goto out;
	}
	if (memmap_register(base, len) || bench_translate(base, len) ||
	    memmap_unregister(base, len))
		goto out;
	rc = 0;
out:
	memmap_free(&extra);
	memmap_fini();
	munmap(base, len);
	return rc;
}
