/* SPDX-License-Identifier: BSD-3-Clause */
#include "memmap.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#define L1_SHIFT	30
#define L1_ENTRIES	(1UL << (MEMMAP_VA_BITS - L1_SHIFT))	/* 2^18 */
#define L2_ENTRIES	(1UL << (L1_SHIFT - MEMMAP_PAGE_SHIFT))	/* 512 */
#define PAGE_FRAMES	(MEMMAP_VA_LIMIT >> MEMMAP_PAGE_SHIFT)

/* Registration map values. */
#define REG_REGISTERED	1ULL
#define REG_START	2ULL	/* first page of a memmap_register() call */

struct table_1gb {
	_Atomic uint64_t t[L2_ENTRIES];
};

struct memmap {
	uint64_t default_translation;
	struct memmap_ops ops;
	void *ctx;
	struct memmap *next;		/* in g_maps, when it has a notify op */
	_Atomic(struct table_1gb *) l1[L1_ENTRIES];
};

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct memmap *g_maps;		/* maps with a notify op, in order */
static struct memmap *g_reg_map;	/* REG_* flags per page */
static struct memmap *_Atomic g_vtophys_map;
static memmap_iova_fn g_iova;

static bool range_valid(uint64_t vaddr, uint64_t len)
{
	return len != 0 && !(vaddr & MEMMAP_PAGE_MASK) && !(len & MEMMAP_PAGE_MASK) &&
	       vaddr < MEMMAP_VA_LIMIT && len <= MEMMAP_VA_LIMIT - vaddr;
}

static uint64_t page_get(const struct memmap *map, uint64_t vfn)
{
	struct table_1gb *tbl;

	tbl = atomic_load_explicit(&map->l1[vfn / L2_ENTRIES], memory_order_acquire);
	if (!tbl)
		return map->default_translation;
	return atomic_load_explicit(&tbl->t[vfn % L2_ENTRIES], memory_order_relaxed);
}

static struct table_1gb *table_get(struct memmap *map, uint64_t vfn)
{
	_Atomic(struct table_1gb *) *slot = &map->l1[vfn / L2_ENTRIES];
	struct table_1gb *tbl, *expected = NULL;
	size_t i;

	tbl = atomic_load_explicit(slot, memory_order_acquire);
	if (tbl)
		return tbl;
	tbl = malloc(sizeof(*tbl));
	if (!tbl)
		return NULL;
	for (i = 0; i < L2_ENTRIES; i++)
		atomic_init(&tbl->t[i], map->default_translation);
	if (!atomic_compare_exchange_strong_explicit(slot, &expected, tbl,
						     memory_order_acq_rel,
						     memory_order_acquire)) {
		free(tbl);
		tbl = expected;
	}
	return tbl;
}

static int pages_set(struct memmap *map, uint64_t vfn, uint64_t n, uint64_t t)
{
	struct table_1gb *tbl;
	uint64_t i;

	while (n) {
		tbl = table_get(map, vfn);
		if (!tbl)
			return -ENOMEM;
		for (i = vfn % L2_ENTRIES; i < L2_ENTRIES && n; i++, vfn++, n--)
			atomic_store_explicit(&tbl->t[i], t, memory_order_relaxed);
	}
	return 0;
}

int memmap_set_translation(struct memmap *map, uint64_t vaddr, uint64_t size,
			   uint64_t translation)
{
	if (!map || !range_valid(vaddr, size))
		return -EINVAL;
	return pages_set(map, vaddr >> MEMMAP_PAGE_SHIFT, size >> MEMMAP_PAGE_SHIFT,
			 translation);
}

int memmap_clear_translation(struct memmap *map, uint64_t vaddr, uint64_t size)
{
	if (!map)
		return -EINVAL;
	return memmap_set_translation(map, vaddr, size, map->default_translation);
}

static bool contiguous(const struct memmap *map, uint64_t t1, uint64_t t2)
{
	if (map->ops.are_contiguous)
		return map->ops.are_contiguous(t1, t2);
	return t1 == t2;
}

uint64_t memmap_translate(const struct memmap *map, uint64_t vaddr, uint64_t *size)
{
	uint64_t vfn = vaddr >> MEMMAP_PAGE_SHIFT;
	uint64_t t, prev, next, have;

	if (vaddr >= MEMMAP_VA_LIMIT) {
		if (size)
			*size = 0;
		return map->default_translation;
	}
	t = page_get(map, vfn);
	if (!size)
		return t;

	have = MEMMAP_PAGE_SIZE - (vaddr & MEMMAP_PAGE_MASK);
	prev = t;
	while (have < *size && ++vfn < PAGE_FRAMES) {
		next = page_get(map, vfn);
		if (next != prev && !contiguous(map, prev, next))
			break;
		have += MEMMAP_PAGE_SIZE;
		prev = next;
	}
	if (have < *size)
		*size = have;
	return t;
}

/*
 * Registered regions, in address order, as (start page, page count).
 * Calls fn for each until it returns non-zero. Caller holds g_lock.
 */
typedef int (*region_fn)(uint64_t vfn, uint64_t n, void *arg);

static int regions_walk(uint64_t first, uint64_t end, region_fn fn, void *arg)
{
	uint64_t vfn = first, start = 0, n = 0, r;
	int rc;

	while (g_reg_map && vfn < end) {
		if (!atomic_load_explicit(&g_reg_map->l1[vfn / L2_ENTRIES],
					  memory_order_acquire) && !n) {
			vfn = (vfn / L2_ENTRIES + 1) * L2_ENTRIES;
			continue;
		}
		r = page_get(g_reg_map, vfn);
		if (n && (!(r & REG_REGISTERED) || (r & REG_START))) {
			rc = fn(start, n, arg);
			if (rc)
				return rc;
			n = 0;
		}
		if (r & REG_REGISTERED) {
			if (!n)
				start = vfn;
			n++;
		}
		vfn++;
	}
	return n ? fn(start, n, arg) : 0;
}

static void *page_addr(uint64_t vfn)
{
	return (void *)(uintptr_t)(vfn << MEMMAP_PAGE_SHIFT);
}

static size_t pages_len(uint64_t n)
{
	return (size_t)(n << MEMMAP_PAGE_SHIFT);
}

struct replay {
	struct memmap *map;
	enum memmap_action action;
	uint64_t stop_vfn;	/* REGISTER replay failed here: undo before it */
};

static int replay_one(uint64_t vfn, uint64_t n, void *arg)
{
	struct replay *r = arg;
	int rc;

	if (r->action == MEMMAP_UNREGISTER && vfn >= r->stop_vfn)
		return 1;
	rc = r->map->ops.notify(r->map->ctx, r->map, r->action, page_addr(vfn),
				pages_len(n));
	if (r->action == MEMMAP_UNREGISTER)
		return 0;
	if (rc)
		r->stop_vfn = vfn;
	return rc;
}

static void replay_unregister(struct memmap *map, uint64_t stop_vfn)
{
	struct replay r = { map, MEMMAP_UNREGISTER, stop_vfn };

	regions_walk(0, PAGE_FRAMES, replay_one, &r);
}

static void map_destroy(struct memmap *map)
{
	size_t i;

	for (i = 0; i < L1_ENTRIES; i++)
		free(atomic_load_explicit(&map->l1[i], memory_order_relaxed));
	free(map);
}

static struct memmap *map_new(uint64_t default_translation,
			      const struct memmap_ops *ops, void *ctx)
{
	struct memmap *map;

	/* 2 MiB of top-level pointers: calloc gets zero pages lazily. */
	map = calloc(1, sizeof(*map));
	if (!map)
		return NULL;
	map->default_translation = default_translation;
	if (ops)
		map->ops = *ops;
	map->ctx = ctx;
	return map;
}

static int reg_map_ready(void)
{
	if (!g_reg_map)
		g_reg_map = map_new(0, NULL, NULL);
	return g_reg_map ? 0 : -ENOMEM;
}

struct memmap *memmap_alloc(uint64_t default_translation,
			    const struct memmap_ops *ops, void *ctx)
{
	struct replay r = { NULL, MEMMAP_REGISTER, PAGE_FRAMES };
	struct memmap *map, **tail;
	int rc;

	map = map_new(default_translation, ops, ctx);
	if (!map || !map->ops.notify)
		return map;

	pthread_mutex_lock(&g_lock);
	r.map = map;
	rc = regions_walk(0, PAGE_FRAMES, replay_one, &r);
	if (rc) {
		replay_unregister(map, r.stop_vfn);
		pthread_mutex_unlock(&g_lock);
		map_destroy(map);
		return NULL;
	}
	for (tail = &g_maps; *tail; tail = &(*tail)->next)
		;
	*tail = map;
	pthread_mutex_unlock(&g_lock);
	return map;
}

void memmap_free(struct memmap **mapp)
{
	struct memmap *map = mapp ? *mapp : NULL, **p;

	if (!map)
		return;
	if (map->ops.notify) {
		pthread_mutex_lock(&g_lock);
		for (p = &g_maps; *p; p = &(*p)->next) {
			if (*p == map) {
				*p = map->next;
				replay_unregister(map, PAGE_FRAMES);
				break;
			}
		}
		pthread_mutex_unlock(&g_lock);
	}
	map_destroy(map);
	*mapp = NULL;
}

/* Notify maps from first up to (not including) stop. */
static void notify_unregister(struct memmap *first, struct memmap *stop,
			      void *vaddr, size_t len)
{
	struct memmap *m;

	for (m = first; m && m != stop; m = m->next)
		m->ops.notify(m->ctx, m, MEMMAP_UNREGISTER, vaddr, len);
}

int memmap_register(void *vaddr, size_t len)
{
	uint64_t va = (uintptr_t)vaddr, vfn, n, i;
	struct memmap *m;
	int rc;

	if (!range_valid(va, len))
		return -EINVAL;
	vfn = va >> MEMMAP_PAGE_SHIFT;
	n = len >> MEMMAP_PAGE_SHIFT;

	pthread_mutex_lock(&g_lock);
	rc = reg_map_ready();
	if (rc)
		goto out;
	for (i = 0; i < n; i++) {
		if (page_get(g_reg_map, vfn + i) & REG_REGISTERED) {
			rc = -EBUSY;
			goto out;
		}
	}
	rc = pages_set(g_reg_map, vfn, 1, REG_REGISTERED | REG_START);
	if (!rc && n > 1)
		rc = pages_set(g_reg_map, vfn + 1, n - 1, REG_REGISTERED);
	if (rc)
		goto clear;

	for (m = g_maps; m; m = m->next) {
		rc = m->ops.notify(m->ctx, m, MEMMAP_REGISTER, vaddr, len);
		if (rc) {
			notify_unregister(g_maps, m, vaddr, len);
			goto clear;
		}
	}
	pthread_mutex_unlock(&g_lock);
	return 0;

clear:
	pages_set(g_reg_map, vfn, n, 0);
out:
	pthread_mutex_unlock(&g_lock);
	return rc;
}

static int unregister_one(uint64_t vfn, uint64_t n, void *arg)
{
	(void)arg;
	notify_unregister(g_maps, NULL, page_addr(vfn), pages_len(n));
	return 0;
}

int memmap_unregister(void *vaddr, size_t len)
{
	uint64_t va = (uintptr_t)vaddr, vfn, n, i, end;
	int rc = 0;

	if (!range_valid(va, len))
		return -EINVAL;
	vfn = va >> MEMMAP_PAGE_SHIFT;
	n = len >> MEMMAP_PAGE_SHIFT;
	end = vfn + n;

	pthread_mutex_lock(&g_lock);
	if (!g_reg_map) {
		rc = -EINVAL;
		goto out;
	}
	for (i = vfn; i < end; i++) {
		if (!(page_get(g_reg_map, i) & REG_REGISTERED)) {
			rc = -EINVAL;
			goto out;
		}
	}
	if (!(page_get(g_reg_map, vfn) & REG_START) ||
	    (end < PAGE_FRAMES &&
	     page_get(g_reg_map, end) == REG_REGISTERED)) {
		rc = -ERANGE;
		goto out;
	}
	regions_walk(vfn, end, unregister_one, NULL);
	rc = pages_set(g_reg_map, vfn, n, 0);
out:
	pthread_mutex_unlock(&g_lock);
	return rc;
}

int memmap_region(const void *vaddr, void **start, size_t *len)
{
	uint64_t vfn = (uintptr_t)vaddr >> MEMMAP_PAGE_SHIFT, first, end;
	uint64_t r;
	int rc = -ENOENT;

	if ((uintptr_t)vaddr >= MEMMAP_VA_LIMIT)
		return rc;
	pthread_mutex_lock(&g_lock);
	if (!g_reg_map || !(page_get(g_reg_map, vfn) & REG_REGISTERED))
		goto out;
	for (first = vfn; !(page_get(g_reg_map, first) & REG_START); first--)
		;
	for (end = vfn + 1; end < PAGE_FRAMES; end++) {
		r = page_get(g_reg_map, end);
		if (r != REG_REGISTERED)
			break;
	}
	*start = page_addr(first);
	*len = pages_len(end - first);
	rc = 0;
out:
	pthread_mutex_unlock(&g_lock);
	return rc;
}

static int vtophys_notify(void *ctx, struct memmap *map, enum memmap_action action,
			  void *vaddr, size_t len)
{
	uint64_t va = (uintptr_t)vaddr, end = va + len, iova;
	int rc;

	(void)ctx;
	if (action == MEMMAP_UNREGISTER)
		return memmap_clear_translation(map, va, len);
	for (; va < end; va += MEMMAP_PAGE_SIZE) {
		iova = g_iova ? g_iova(va) : va;
		if (iova == MEMMAP_VTOPHYS_ERROR || (iova & MEMMAP_PAGE_MASK)) {
			rc = -EFAULT;
			goto undo;
		}
		rc = memmap_set_translation(map, va, MEMMAP_PAGE_SIZE, iova);
		if (rc)
			goto undo;
	}
	return 0;
undo:
	if (va > (uintptr_t)vaddr)
		memmap_clear_translation(map, (uintptr_t)vaddr, va - (uintptr_t)vaddr);
	return rc;
}

static int vtophys_contiguous(uint64_t t1, uint64_t t2)
{
	return t1 != MEMMAP_VTOPHYS_ERROR && t2 == t1 + MEMMAP_PAGE_SIZE;
}

static const struct memmap_ops vtophys_ops = {
	.notify = vtophys_notify,
	.are_contiguous = vtophys_contiguous,
};

uint64_t memmap_vtophys(const void *buf, uint64_t *size)
{
	uint64_t va = (uintptr_t)buf, t;
	struct memmap *map;

	map = atomic_load_explicit(&g_vtophys_map, memory_order_acquire);
	if (!map) {
		if (size)
			*size = 0;
		return MEMMAP_VTOPHYS_ERROR;
	}
	if (!size && va < MEMMAP_VA_LIMIT)	/* the hot path: one table walk */
		t = page_get(map, va >> MEMMAP_PAGE_SHIFT);
	else
		t = memmap_translate(map, va, size);
	if (t == MEMMAP_VTOPHYS_ERROR) {
		if (size)
			*size = 0;
		return t;
	}
	return t + (va & MEMMAP_PAGE_MASK);
}

int memmap_init(memmap_iova_fn iova)
{
	struct memmap *map;
	int rc = 0;

	pthread_mutex_lock(&g_lock);
	if (g_vtophys_map)
		rc = -EALREADY;
	else
		rc = reg_map_ready();
	pthread_mutex_unlock(&g_lock);
	if (rc)
		return rc;

	g_iova = iova;
	map = memmap_alloc(MEMMAP_VTOPHYS_ERROR, &vtophys_ops, NULL);
	if (!map)
		return -ENOMEM;
	atomic_store_explicit(&g_vtophys_map, map, memory_order_release);
	return 0;
}

static int unregister_region(uint64_t vfn, uint64_t n, void *arg)
{
	(void)arg;
	unregister_one(vfn, n, NULL);
	return pages_set(g_reg_map, vfn, n, 0);
}

void memmap_fini(void)
{
	struct memmap *vt;

	pthread_mutex_lock(&g_lock);
	regions_walk(0, PAGE_FRAMES, unregister_region, NULL);
	vt = g_vtophys_map;
	g_vtophys_map = NULL;
	pthread_mutex_unlock(&g_lock);

	memmap_free(&vt);
	pthread_mutex_lock(&g_lock);
	if (g_reg_map)
		map_destroy(g_reg_map);
	g_reg_map = NULL;
	g_iova = NULL;
	pthread_mutex_unlock(&g_lock);
}
