/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Memory maps: translate a virtual address to a per-map 64-bit value
 * (a physical address, an RDMA memory region, ...) at 2 MiB granularity.
 *
 * The table has three levels over the 48-bit address space:
 * bits [47..30] pick a lazily allocated 1 GiB table, bits [29..21] pick a
 * 2 MiB entry, bits [20..0] are the offset inside that 2 MiB page.
 *
 * Memory is registered once (memmap_register) and every map is told about
 * it through its notify op; a map allocated later is replayed every region
 * registered so far. Registration is serialised by one mutex; translation
 * takes no lock.
 */
#ifndef MEMMAP_MEMMAP_H
#define MEMMAP_MEMMAP_H

#include <stddef.h>
#include <stdint.h>

#define MEMMAP_PAGE_SHIFT	21
#define MEMMAP_PAGE_SIZE	(1ULL << MEMMAP_PAGE_SHIFT)
#define MEMMAP_PAGE_MASK	(MEMMAP_PAGE_SIZE - 1)
#define MEMMAP_VA_BITS		48
#define MEMMAP_VA_LIMIT		(1ULL << MEMMAP_VA_BITS)	/* 256 TiB */

/* vtophys() of an address that is not registered. */
#define MEMMAP_VTOPHYS_ERROR	UINT64_MAX

struct memmap;

enum memmap_action {
	MEMMAP_REGISTER,
	MEMMAP_UNREGISTER,
};

struct memmap_ops {
	/*
	 * Called once per registered region, with the map's ctx. A non-zero
	 * return (-errno) on MEMMAP_REGISTER fails the registration (or the map
	 * allocation during replay), and everything done so far is undone.
	 * The return value of MEMMAP_UNREGISTER is ignored.
	 */
	int (*notify)(void *ctx, struct memmap *map, enum memmap_action action,
		      void *vaddr, size_t len);
	/*
	 * Whether a page translated to t2 continues a page translated to t1
	 * (e.g. t2 == t1 + 2 MiB for physical addresses). NULL: only equal
	 * translations are contiguous.
	 */
	int (*are_contiguous)(uint64_t t1, uint64_t t2);
};

/*
 * Allocate a map whose untranslated pages read as default_translation.
 * ops may be NULL (no notify). Returns NULL if memory runs out or the replay
 * of already registered regions fails; nothing is left behind then.
 */
struct memmap *memmap_alloc(uint64_t default_translation,
			    const struct memmap_ops *ops, void *ctx);

/* Notify MEMMAP_UNREGISTER for every registered region, then free. */
void memmap_free(struct memmap **map);

/*
 * Set or clear the translation of [vaddr, vaddr + size), 2 MiB granular.
 * -EINVAL: vaddr or size not 2 MiB aligned, size 0, or beyond 256 TiB.
 * -ENOMEM: a 1 GiB table could not be allocated.
 */
int memmap_set_translation(struct memmap *map, uint64_t vaddr, uint64_t size,
			   uint64_t translation);
int memmap_clear_translation(struct memmap *map, uint64_t vaddr, uint64_t size);

/*
 * The translation stored for vaddr's 2 MiB page (not offset-adjusted), or
 * the default translation. If size is not NULL, *size (the bytes wanted)
 * becomes the number of bytes from vaddr covered by contiguous translations,
 * at most the bytes wanted; 0 for an address beyond 256 TiB. Lock-free.
 */
uint64_t memmap_translate(const struct memmap *map, uint64_t vaddr,
			  uint64_t *size);

/*
 * Register [vaddr, vaddr + len) with every map.
 * -EINVAL: not 2 MiB aligned, len 0, or beyond 256 TiB.
 * -EBUSY: some page is already registered.
 * Any error a notify returns: every map already notified got UNREGISTER and
 * nothing stays registered.
 */
int memmap_register(void *vaddr, size_t len);

/*
 * Unregister whole regions. -EINVAL: not aligned, or some page is not
 * registered. -ERANGE: the range would split a registered region.
 */
int memmap_unregister(void *vaddr, size_t len);

/* The registered region holding vaddr: 0, or -ENOENT if none. */
int memmap_region(const void *vaddr, void **start, size_t *len);

/*
 * Physical (IO virtual) address of buf, with the in-page offset, or
 * MEMMAP_VTOPHYS_ERROR if buf is not registered. If size is not NULL, it is
 * limited to the bytes that are contiguous in IO space. In IOVA-as-VA mode
 * vtophys(buf) == buf.
 */
uint64_t memmap_vtophys(const void *buf, uint64_t *size);

/*
 * Translates one 2 MiB page's virtual address to its IO address, or
 * MEMMAP_VTOPHYS_ERROR. NULL selects IOVA-as-VA.
 */
typedef uint64_t (*memmap_iova_fn)(uint64_t vaddr);

/*
 * Create the registration and vtophys maps. Called by env_init() (with the
 * EAL's IOVA mode) before any registration; unit tests call it directly.
 * Returns 0, -EALREADY if done before, or -ENOMEM.
 */
int memmap_init(memmap_iova_fn iova);

/* Unregister everything and free the standard maps (tests, shutdown). */
void memmap_fini(void);

#endif
