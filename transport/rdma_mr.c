/* SPDX-License-Identifier: BSD-3-Clause */
#include "transport/rdma_mr.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memmap/log.h"

static struct ibv_mr *mr_reg_verbs(struct ibv_pd *pd, void *addr, size_t len,
				   int access)
{
	return ibv_reg_mr(pd, addr, len, access);
}

static int mr_dereg_verbs(struct ibv_mr *mr)
{
	return ibv_dereg_mr(mr);
}

static const struct nvmf_rdma_mr_hooks g_verbs_hooks = {
	.reg = mr_reg_verbs,
	.dereg = mr_dereg_verbs,
};

static int mr_register(struct nvmf_rdma_mr_map *m, struct memmap *map,
		       void *vaddr, size_t len)
{
	struct ibv_mr *mr;
	int rc;

	errno = 0;
	mr = m->hooks->reg(m->pd, vaddr, len, NVMF_RDMA_MR_ACCESS);
	if (!mr) {
		rc = errno ? -errno : -ENOMEM;
		log_err("rdma: ibv_reg_mr(%p, %zu bytes) failed: %s", vaddr, len,
			strerror(-rc));
		return rc;
	}
	rc = memmap_set_translation(map, (uintptr_t)vaddr, len, (uintptr_t)mr);
	if (rc) {
		log_err("rdma: cannot map MR for %p, %zu bytes: %s", vaddr, len,
			strerror(-rc));
		goto err_dereg;
	}
	log_debug("rdma: MR lkey 0x%x for %p, %zu bytes", mr->lkey, vaddr, len);
	return 0;
err_dereg:
	m->hooks->dereg(mr);
	return rc;
}

static void mr_unregister(struct nvmf_rdma_mr_map *m, struct memmap *map,
			  void *vaddr, size_t len)
{
	struct ibv_mr *mr;
	int rc;

	mr = (struct ibv_mr *)(uintptr_t)memmap_translate(map, (uintptr_t)vaddr, NULL);
	if (!mr)
		return;
	memmap_clear_translation(map, (uintptr_t)vaddr, len);
	rc = m->hooks->dereg(mr);
	if (rc)
		log_err("rdma: ibv_dereg_mr(%p, %zu bytes) failed: %s", vaddr, len,
			strerror(rc > 0 ? rc : -rc));
}

static int mr_notify(void *ctx, struct memmap *map, enum memmap_action action,
		     void *vaddr, size_t len)
{
	struct nvmf_rdma_mr_map *m = ctx;

	if (action == MEMMAP_REGISTER)
		return mr_register(m, map, vaddr, len);
	mr_unregister(m, map, vaddr, len);
	return 0;
}

/* One MR per registered region: pages are contiguous only inside one MR. */
static int mr_same(uint64_t t1, uint64_t t2)
{
	return t1 == t2;
}

static const struct memmap_ops g_mr_map_ops = {
	.notify = mr_notify,
	.are_contiguous = mr_same,
};

struct nvmf_rdma_mr_map *nvmf_rdma_mr_map_create(struct ibv_pd *pd,
						 const struct nvmf_rdma_mr_hooks *hooks)
{
	struct nvmf_rdma_mr_map *m;

	m = calloc(1, sizeof(*m));
	if (!m) {
		log_err("rdma: out of memory for the MR map");
		return NULL;
	}
	m->pd = pd;
	m->hooks = hooks ? hooks : &g_verbs_hooks;
	m->map = memmap_alloc(0, &g_mr_map_ops, m);
	if (!m->map) {
		log_err("rdma: cannot create the RDMA memory map (registering MRs failed)");
		free(m);
		return NULL;
	}
	return m;
}

void nvmf_rdma_mr_map_destroy(struct nvmf_rdma_mr_map **mp)
{
	struct nvmf_rdma_mr_map *m = mp ? *mp : NULL;

	if (!m)
		return;
	memmap_free(&m->map);
	free(m);
	*mp = NULL;
}

struct ibv_mr *nvmf_rdma_mr_translate(const struct nvmf_rdma_mr_map *m,
				      const void *addr, uint32_t *len)
{
	uint64_t size = *len;
	struct ibv_mr *mr;

	mr = (struct ibv_mr *)(uintptr_t)memmap_translate(m->map, (uintptr_t)addr, &size);
	if (!mr || size == 0) {
		log_err("rdma: no translation for ptr %p, size %u: the buffer is not in "
			"registered memory", addr, *len);
		return NULL;
	}
	*len = (uint32_t)size;
	return mr;
}
