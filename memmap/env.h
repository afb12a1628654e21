/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The memory environment: DPDK's EAL, the standard memory maps, and DMA-able
 * (registered) buffers.
 */
#ifndef MEMMAP_ENV_H
#define MEMMAP_ENV_H

#include <stdbool.h>
#include <stddef.h>

enum env_iova {
	ENV_IOVA_VA,	/* default: IO address == virtual address */
	ENV_IOVA_PA,	/* physical addresses; needs root and hugepages */
};

struct env_opts {
	const char *name;	/* process name in EAL messages */
	const char *core_mask;	/* hex mask, e.g. "0x1"; NULL: unpinned */
	unsigned int mem_mb;	/* 0: hugepages on demand; no_huge: a cap, 512 */
	bool no_huge;		/* anonymous memory instead of hugepages */
	enum env_iova iova;
	bool legacy_mem;	/* reserve all memory at start */
	const char *file_prefix;/* NULL: in-memory, nothing in /var/run */
	bool quiet_eal;		/* only EAL warnings and errors (default) */
};

void env_opts_init(struct env_opts *opts);

/* "va" or "pa": 0, or -EINVAL. */
int env_parse_iova(const char *s, enum env_iova *iova);

/*
 * Start the EAL once per process, create the standard maps, register all
 * DPDK memory and follow it as it grows and shrinks. Returns 0 or -errno,
 * having logged why and how to fix it.
 */
int env_init(const struct env_opts *opts);

/* Unregister and release everything env_init set up. */
void env_fini(void);

/* Registered memory, aligned to align (a power of two; 0 means 64). */
void *env_dma_alloc(size_t size, size_t align);
void *env_dma_zalloc(size_t size, size_t align);
void env_dma_free(void *buf);

/* Free 2 MiB hugepages on this machine (all NUMA nodes). */
unsigned long env_free_hugepages(void);

#endif
