/* SPDX-License-Identifier: BSD-3-Clause */
/* The RDMA transport (rdma-core: librdmacm + libibverbs), for main() to register. */
#ifndef TRANSPORT_RDMA_H
#define TRANSPORT_RDMA_H

#include <stdint.h>

#include "target/nvmf.h"

extern const struct nvmf_transport_ops nvmf_rdma_ops;

/*
 * Check a host's NVMe-oF RDMA CM request private data (len bytes) against
 * the transport limits. Returns 0 with *qid and *depth (the queue's
 * request count, HSQSIZE + 1), or the NVMF_RDMA_REJ_* status to reject with.
 */
int nvmf_rdma_cm_check(const void *pdata, uint32_t len,
		       const struct nvmf_transport_opts *o, uint16_t *qid,
		       uint16_t *depth);

#endif
