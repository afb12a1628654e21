/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RDMA memory map: one memmap map per protection domain whose notify
 * registers an MR for every registered memory region (and deregisters it
 * when the region goes), so that any buffer from registered memory finds
 * its MR (lkey) with one lock-free translate.
 */
#ifndef TRANSPORT_RDMA_MR_H
#define TRANSPORT_RDMA_MR_H

#include <stddef.h>
#include <stdint.h>

#include <infiniband/verbs.h>

#include "memmap/memmap.h"

#define NVMF_RDMA_MR_ACCESS	(IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | \
				 IBV_ACCESS_REMOTE_WRITE)

/* The verbs calls behind the map; NULL selects ibv_reg_mr/ibv_dereg_mr. */
struct nvmf_rdma_mr_hooks {
	struct ibv_mr *(*reg)(struct ibv_pd *pd, void *addr, size_t len, int access);
	int (*dereg)(struct ibv_mr *mr);
};

struct nvmf_rdma_mr_map {
	struct memmap *map;
	struct ibv_pd *pd;
	const struct nvmf_rdma_mr_hooks *hooks;
};

/*
 * Create the map for pd: every region registered so far gets its MR now.
 * Returns NULL (logged) if memory runs out or an ibv_reg_mr fails; nothing
 * stays registered then.
 */
struct nvmf_rdma_mr_map *nvmf_rdma_mr_map_create(struct ibv_pd *pd,
						 const struct nvmf_rdma_mr_hooks *hooks);

/* Deregister every MR of the map and free it; *m becomes NULL. */
void nvmf_rdma_mr_map_destroy(struct nvmf_rdma_mr_map **m);

/*
 * The MR holding [addr, addr + *len), or NULL if addr has none (logged
 * with address and length). *len shrinks to the bytes from addr that the
 * same MR covers, so a buffer that runs into the next region is cut there.
 */
struct ibv_mr *nvmf_rdma_mr_translate(const struct nvmf_rdma_mr_map *m,
				      const void *addr, uint32_t *len);

#endif
