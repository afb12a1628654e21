/* SPDX-License-Identifier: BSD-3-Clause */
#include "env.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "log.h"
#include "memmap.h"

#define EAL_ARGS_MAX		24
#define NOHUGE_EAL_MB		32	/* EAL's own heap beside ours */
#define NOHUGE_DEFAULT_MB	512
#define LEGACY_DEFAULT_MB	512
#define DMA_HEAP		"env_dma"
#define HUGEPAGES_FREE		"/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages"

static bool g_eal_started;
static bool g_event_cb;
static int g_dma_socket = SOCKET_ID_ANY;

/* --no-huge: our DMA heap, grown in chunks inside reserved address space. */
#define HEAP_CHUNK		(32ULL << 20)
#define HEAP_CHUNK_SLACK	(64 << 10)	/* DPDK's element headers */
#define HEAP_CHUNKS_MAX		64
static struct {
	void *base;
	size_t len, used;
	int nchunks;
	size_t chunk_len[HEAP_CHUNKS_MAX];
	pthread_mutex_t lock;
} g_heap = { .lock = PTHREAD_MUTEX_INITIALIZER };

void env_opts_init(struct env_opts *opts)
{
	memset(opts, 0, sizeof(*opts));
	opts->name = "nvmf_tgt";
	opts->iova = ENV_IOVA_VA;
	opts->quiet_eal = true;
}

int env_parse_iova(const char *s, enum env_iova *iova)
{
	if (!strcmp(s, "va"))
		*iova = ENV_IOVA_VA;
	else if (!strcmp(s, "pa"))
		*iova = ENV_IOVA_PA;
	else
		return -EINVAL;
	return 0;
}

unsigned long env_free_hugepages(void)
{
	unsigned long n = 0;
	FILE *f = fopen(HUGEPAGES_FREE, "r");

	if (!f)
		return 0;
	if (fscanf(f, "%lu", &n) != 1)
		n = 0;
	fclose(f);
	return n;
}

static bool core_mask_valid(const char *m)
{
	bool nonzero = false;

	if (!strncmp(m, "0x", 2) || !strncmp(m, "0X", 2))
		m += 2;
	if (!*m)
		return false;
	for (; *m; m++) {
		if (!isxdigit((unsigned char)*m))
			return false;
		nonzero |= *m != '0';
	}
	return nonzero;
}

static int opts_check(const struct env_opts *o)
{
	unsigned long free_pages;

	if (o->core_mask && !core_mask_valid(o->core_mask)) {
		log_err("core mask '%s' is not a non-zero hex number (e.g. 0x1)",
			o->core_mask);
		return -EINVAL;
	}
	if (o->iova == ENV_IOVA_PA && o->no_huge) {
		log_err("IOVA mode pa needs hugepages: drop --no-huge or use --iova-mode va");
		return -EINVAL;
	}
	if (o->iova == ENV_IOVA_PA && geteuid() != 0) {
		log_err("IOVA mode pa needs root to read physical addresses; use --iova-mode va");
		return -EPERM;
	}
	if (o->no_huge)
		return 0;
	free_pages = env_free_hugepages();
	if (free_pages == 0) {
		log_err("no free 2 MiB hugepages (%s is 0): reserve some as root with "
			"'echo 1024 > /proc/sys/vm/nr_hugepages', or start with --no-huge -s 256",
			HUGEPAGES_FREE);
		return -ENOMEM;
	}
	if (o->mem_mb > free_pages * 2) {
		log_err("-s %u MiB is more than the %lu MiB of free hugepages: reserve more "
			"with /proc/sys/vm/nr_hugepages, or ask for less", o->mem_mb,
			free_pages * 2);
		return -ENOMEM;
	}
	return 0;
}

struct eal_args {
	int argc;
	char *argv[EAL_ARGS_MAX];
	char buf[EAL_ARGS_MAX][64];
};

static void arg_add(struct eal_args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void arg_add(struct eal_args *a, const char *fmt, ...)
{
	va_list ap;

	if (a->argc >= EAL_ARGS_MAX - 1)
		return;
	va_start(ap, fmt);
	vsnprintf(a->buf[a->argc], sizeof(a->buf[0]), fmt, ap);
	va_end(ap);
	a->argv[a->argc] = a->buf[a->argc];
	a->argc++;
}

static void eal_args_build(const struct env_opts *o, struct eal_args *a)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	a->argc = 0;
	arg_add(a, "%s", o->name ? o->name : "nvmf_tgt");
	if (o->core_mask)
		arg_add(a, "-c%s", o->core_mask);
	else	/* lcore 0 may run on any CPU: no pinning of our threads */
		arg_add(a, "--lcores=0@(0-%ld)", ncpu > 1 ? ncpu - 1 : 0);
	arg_add(a, "--no-pci");
	arg_add(a, "--no-telemetry");
	arg_add(a, "--iova-mode=%s", o->iova == ENV_IOVA_PA ? "pa" : "va");
	arg_add(a, "--log-level=lib.eal:%s", o->quiet_eal ? "warning" : "info");
	if (o->no_huge) {
		arg_add(a, "--no-huge");
		arg_add(a, "-m%d", NOHUGE_EAL_MB);
		arg_add(a, "--no-shconf");
		return;
	}
	if (o->file_prefix)
		arg_add(a, "--file-prefix=%s", o->file_prefix);
	else
		arg_add(a, "--in-memory");
	if (o->legacy_mem) {
		arg_add(a, "--legacy-mem");
		arg_add(a, "-m%u", o->mem_mb ? o->mem_mb : LEGACY_DEFAULT_MB);
	} else if (o->mem_mb) {
		arg_add(a, "-m%u", o->mem_mb);
	}
}

static uint64_t pa_of(uint64_t vaddr)
{
	void *p = (void *)(uintptr_t)vaddr;
	rte_iova_t iova;

	if (rte_mem_virt2memseg(p, NULL))
		iova = rte_mem_virt2iova(p);
	else
		iova = rte_mem_virt2phy(p);
	return iova == RTE_BAD_IOVA ? MEMMAP_VTOPHYS_ERROR : iova;
}

/* Register [addr, addr + len) rounded inwards to 2 MiB pages. */
static int register_inner(void *addr, size_t len)
{
	uintptr_t start = ((uintptr_t)addr + MEMMAP_PAGE_MASK) & ~MEMMAP_PAGE_MASK;
	uintptr_t end = ((uintptr_t)addr + len) & ~MEMMAP_PAGE_MASK;
	int rc;

	if (end <= start) {
		log_info("DPDK memory %p+%zu holds no whole 2 MiB page; not registered",
			 addr, len);
		return 0;
	}
	if (start != (uintptr_t)addr || end != (uintptr_t)addr + len)
		log_info("DPDK memory %p+%zu is not 2 MiB aligned; registered %#lx-%#lx",
			 addr, len, (unsigned long)start, (unsigned long)end);
	rc = memmap_register((void *)start, end - start);
	if (rc)
		log_err("cannot register DPDK memory %#lx+%lu: %s", (unsigned long)start,
			(unsigned long)(end - start), strerror(-rc));
	return rc;
}

static int memseg_register(const struct rte_memseg_list *msl,
			   const struct rte_memseg *ms, size_t len, void *arg)
{
	(void)arg;
	if (msl->external)	/* our own DMA heap, registered whole */
		return 0;
	return register_inner(ms->addr, len);
}

/*
 * Unregister [addr, addr + len) even where it covers only part of a region
 * registered earlier: DPDK may free pages from the middle of what it
 * allocated in one piece. The rest of such a region is registered again.
 */
static void unregister_range(void *addr, size_t len)
{
	uintptr_t va = (uintptr_t)addr, end = va + len, s, e;
	void *start;
	size_t rlen;
	int rc;

	while (va < end) {
		if (memmap_region((void *)va, &start, &rlen)) {
			va += MEMMAP_PAGE_SIZE;
			continue;
		}
		s = (uintptr_t)start;
		e = s + rlen;
		rc = memmap_unregister(start, rlen);
		if (!rc && s < (uintptr_t)addr)
			rc = memmap_register(start, (uintptr_t)addr - s);
		if (!rc && e > end)
			rc = memmap_register((void *)end, e - end);
		if (rc)
			log_err("cannot unregister DPDK memory %p+%zu: %s", start, rlen,
				strerror(-rc));
		va = e;
	}
}

static void mem_event(enum rte_mem_event type, const void *addr, size_t len,
		      void *arg)
{
	int rc;

	(void)arg;
	if (type == RTE_MEM_EVENT_ALLOC) {
		rc = memmap_register((void *)addr, len);
		if (rc)
			log_err("cannot register memory DPDK added at %p+%zu: %s", addr,
				len, strerror(-rc));
	} else {
		unregister_range((void *)addr, len);
	}
}

/*
 * DPDK's --no-huge memory starts wherever its metadata ends (seen:
 * 0x100331000), so it cannot be registered whole at 2 MiB granularity.
 * DMA buffers come instead from 2 MiB aligned address space reserved here
 * (-s MiB) and handed to DPDK as an external heap in chunks, on demand:
 * DPDK writes every byte of memory it is given, and a chunk at a time keeps
 * start-up from paying for memory nobody uses yet. Each chunk is one
 * registered region.
 */
static int heap_add_chunk(size_t need)
{
	size_t len = (need + HEAP_CHUNK_SLACK + MEMMAP_PAGE_MASK) & ~MEMMAP_PAGE_MASK;
	char *addr = (char *)g_heap.base + g_heap.used;
	unsigned int n, i;
	rte_iova_t *iovas;
	int rc;

	if (len < HEAP_CHUNK)
		len = HEAP_CHUNK;
	if (len > g_heap.len - g_heap.used)
		len = g_heap.len - g_heap.used;
	if (len < need + HEAP_CHUNK_SLACK || g_heap.nchunks == HEAP_CHUNKS_MAX)
		return -ENOMEM;

	/* IO addresses == virtual ones, as DPDK's own memory in VA mode. */
	n = (unsigned int)(len >> MEMMAP_PAGE_SHIFT);
	iovas = calloc(n, sizeof(*iovas));
	if (!iovas)
		return -ENOMEM;
	for (i = 0; i < n; i++)
		iovas[i] = (uintptr_t)addr + ((size_t)i << MEMMAP_PAGE_SHIFT);
	rc = rte_malloc_heap_memory_add(DMA_HEAP, addr, len, iovas, n, MEMMAP_PAGE_SIZE);
	free(iovas);
	if (rc) {
		log_err("cannot add %zu MiB to the DMA heap: %s", len >> 20,
			rte_strerror(rte_errno));
		return -ENOMEM;
	}
	rc = memmap_register(addr, len);
	if (rc) {
		log_err("cannot register DMA memory %p+%zu: %s", (void *)addr, len,
			strerror(-rc));
		rte_malloc_heap_memory_remove(DMA_HEAP, addr, len);
		return rc;
	}
	g_heap.chunk_len[g_heap.nchunks++] = len;
	g_heap.used += len;
	return 0;
}

static int dma_heap_create(size_t len)
{
	size_t map_len = len + MEMMAP_PAGE_SIZE;
	uintptr_t raw, aligned;
	void *p;

	/* Address space only: pages cost nothing until a chunk is used. */
	p = mmap(NULL, map_len, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		log_err("cannot reserve %zu MiB for DMA buffers: %s", len >> 20,
			strerror(errno));
		return -ENOMEM;
	}
	raw = (uintptr_t)p;
	aligned = (raw + MEMMAP_PAGE_MASK) & ~MEMMAP_PAGE_MASK;
	if (aligned > raw)
		munmap(p, aligned - raw);
	if (raw + map_len > aligned + len)
		munmap((void *)(aligned + len), raw + map_len - aligned - len);
	/* DPDK writes every page of a chunk: fault 2 MiB at once. */
	madvise((void *)aligned, len, MADV_HUGEPAGE);

	if (rte_malloc_heap_create(DMA_HEAP)) {
		log_err("cannot create the DMA heap: %s", rte_strerror(rte_errno));
		munmap((void *)aligned, len);
		return -ENOMEM;
	}
	g_heap.base = (void *)aligned;
	g_heap.len = len;
	g_heap.used = 0;
	g_heap.nchunks = 0;
	g_dma_socket = rte_malloc_heap_get_socket(DMA_HEAP);
	return 0;
}

static void dma_heap_destroy(void)
{
	char *addr;
	int i;

	if (!g_heap.base)
		return;
	for (i = g_heap.nchunks - 1, addr = (char *)g_heap.base + g_heap.used; i >= 0; i--) {
		addr -= g_heap.chunk_len[i];
		memmap_unregister(addr, g_heap.chunk_len[i]);
		rte_malloc_heap_memory_remove(DMA_HEAP, addr, g_heap.chunk_len[i]);
	}
	rte_malloc_heap_destroy(DMA_HEAP);
	munmap(g_heap.base, g_heap.len);
	memset(&g_heap, 0, sizeof(g_heap));
	g_dma_socket = SOCKET_ID_ANY;
}

int env_init(const struct env_opts *opts)
{
	struct eal_args a;
	bool va;
	int rc;

	if (g_eal_started) {
		log_err("the DPDK environment can start only once per process");
		return -EALREADY;
	}
	rc = opts_check(opts);
	if (rc)
		return rc;
	eal_args_build(opts, &a);
	if (rte_eal_init(a.argc, a.argv) < 0) {
		rc = rte_errno ? rte_errno : EIO;
		log_err("DPDK EAL initialization failed (%s); EAL's own messages above say "
			"why", rte_errno ? rte_strerror(rte_errno) : "no reason given");
		return -rc;
	}
	g_eal_started = true;

	va = rte_eal_iova_mode() == RTE_IOVA_VA;
	rc = memmap_init(va ? NULL : pa_of);
	if (rc) {
		log_err("memory maps already initialized: %s", strerror(-rc));
		goto err_eal;
	}
	if (opts->no_huge) {
		rc = dma_heap_create((size_t)(opts->mem_mb ? opts->mem_mb :
					      NOHUGE_DEFAULT_MB) << 20);
		if (rc)
			goto err_maps;
	}
	if (rte_memseg_contig_walk(memseg_register, NULL)) {
		rc = -EFAULT;
		goto err_heap;
	}
	if (!opts->no_huge && !opts->legacy_mem) {
		if (rte_mem_event_callback_register("memmap", mem_event, NULL)) {
			log_err("cannot follow DPDK memory events: %s",
				rte_strerror(rte_errno));
			rc = -rte_errno;
			goto err_heap;
		}
		g_event_cb = true;
	}
	log_info("memory: %s, IOVA as %s, DMA memory %s", opts->no_huge ?
		 "no hugepages" : opts->legacy_mem ? "hugepages (legacy)" : "hugepages",
		 va ? "VA" : "PA", opts->no_huge ? "from our own heap" : "from DPDK");
	return 0;

err_heap:
	dma_heap_destroy();
err_maps:
	memmap_fini();
err_eal:
	rte_eal_cleanup();
	return rc;
}

void env_fini(void)
{
	if (!g_eal_started)
		return;
	if (g_event_cb)
		rte_mem_event_callback_unregister("memmap", NULL);
	g_event_cb = false;
	dma_heap_destroy();
	memmap_fini();
	rte_eal_cleanup();
}

static void *heap_alloc(size_t size, size_t align, bool zero)
{
	return zero ? rte_zmalloc_socket("dma", size, align, g_dma_socket) :
		      rte_malloc_socket("dma", size, align, g_dma_socket);
}

/* --no-huge: one more chunk for the heap, unless another thread added one. */
static void *heap_grow_alloc(size_t size, size_t align, bool zero)
{
	void *p;

	if (!g_heap.base)
		return NULL;
	pthread_mutex_lock(&g_heap.lock);
	p = heap_alloc(size, align, zero);
	if (!p && heap_add_chunk(size + align) == 0)
		p = heap_alloc(size, align, zero);
	pthread_mutex_unlock(&g_heap.lock);
	return p;
}

void *env_dma_alloc(size_t size, size_t align)
{
	void *p;

	align = align ? align : 64;
	p = heap_alloc(size, align, false);
	return p ? p : heap_grow_alloc(size, align, false);
}

void *env_dma_zalloc(size_t size, size_t align)
{
	void *p;

	align = align ? align : 64;
	p = heap_alloc(size, align, true);
	return p ? p : heap_grow_alloc(size, align, true);
}

void env_dma_free(void *buf)
{
	rte_free(buf);
}
