/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SGL parsing (what data a command capsule describes, and where) and SGE
 * filling (the RDMA READ/WRITE work requests that move it). Pure functions
 * over structs: no verbs call, unit-testable without a device.
 */
#ifndef TRANSPORT_RDMA_SGL_H
#define TRANSPORT_RDMA_SGL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include <infiniband/verbs.h>

#include "target/nvme_spec.h"
#include "transport/rdma_mr.h"

#define NVMF_RDMA_MSDBD		16	/* keyed descriptors in a last-segment list */
#define NVMF_RDMA_MAX_DATA_WR	32	/* RDMA READ/WRITE WRs per request */
#define NVMF_RDMA_MAX_DATA_SGE	64	/* their SGEs together */
#define NVMF_RDMA_SQE_SIZE	64	/* sizeof(struct nvme_cmd) */

enum nvmf_rdma_sgl_kind {
	NVMF_RDMA_SGL_NONE,		/* no data */
	NVMF_RDMA_SGL_KEYED,		/* host memory: RDMA READ / WRITE */
	NVMF_RDMA_SGL_IN_CAPSULE,	/* data follows the SQE in the capsule */
};

struct nvmf_rdma_sgl_desc {
	uint64_t addr;
	uint32_t rkey;
	uint32_t len;
};

struct nvmf_rdma_sgl {
	enum nvmf_rdma_sgl_kind kind;
	uint32_t length;		/* total data bytes */
	uint32_t icd_offset;		/* IN_CAPSULE: offset after the SQE */
	bool invalidate;		/* host asked us to invalidate inv_rkey */
	uint32_t inv_rkey;
	uint16_t ndesc;			/* KEYED: descriptors with len > 0 */
	struct nvmf_rdma_sgl_desc desc[NVMF_RDMA_MSDBD];
};

struct nvmf_rdma_sgl_limits {
	uint32_t max_io_size;		/* bytes a keyed SGL may describe */
	uint32_t icd_size;		/* in-capsule data size advertised (0: none) */
};

/*
 * Parse cmd's data pointer. icd/icd_len: the capsule bytes received after
 * the SQE (in-capsule data or a descriptor list). Returns 0 and fills out,
 * or the NVMe status (with DNR) to complete the command with:
 *   SGL Descriptor Type Invalid: unknown type or subtype;
 *   Data SGL Length Invalid: over max_io_size / the in-capsule size;
 *   Invalid SGL Offset: in-capsule data or list outside the capsule;
 *   SGL Descriptor Count Invalid: empty list or more than MSDBD entries;
 *   SGL Segment Descriptor Invalid: list length not a multiple of 16;
 *   Invalid Field: in-capsule data on a command that reads.
 */
nvme_status nvmf_rdma_sgl_parse(const struct nvme_cmd *cmd, bool host_to_ctrlr,
				const uint8_t *icd, uint32_t icd_len,
				const struct nvmf_rdma_sgl_limits *lim,
				struct nvmf_rdma_sgl *out);

/* Buffers of unit bytes a keyed SGL needs (each descriptor starts a buffer). */
uint32_t nvmf_rdma_sgl_nbufs(const struct nvmf_rdma_sgl *sgl, uint32_t unit);

/* RDMA data work requests of one request, chained in order. */
struct nvmf_rdma_wrs {
	uint16_t nwr;
	uint16_t nsge;
	struct ibv_send_wr wr[NVMF_RDMA_MAX_DATA_WR];
	struct ibv_sge sge[NVMF_RDMA_MAX_DATA_SGE];
};

/*
 * Lay a keyed SGL over bufs (nvmf_rdma_sgl_nbufs of them, unit bytes each):
 * fills iov (one entry per buffer piece used) and one or more WRs per
 * descriptor, each WR with at most max_sge SGEs. A buffer that crosses from
 * one MR into the next is cut there and continued in a new SGE with the
 * next MR's lkey. WRs get opcode, remote address, rkey, sg_list and next;
 * wr_id and send_flags are left 0 for the caller.
 * Returns 0, -EFAULT if some buffer has no MR (logged), -E2BIG if iov, WR
 * or SGE arrays would overflow.
 */
int nvmf_rdma_sgl_fill(const struct nvmf_rdma_sgl *sgl, void *const *bufs,
		       uint32_t unit, const struct nvmf_rdma_mr_map *map,
		       uint32_t max_sge, enum ibv_wr_opcode opcode,
		       struct iovec *iov, int max_iov, int *iovcnt,
		       struct nvmf_rdma_wrs *wrs);

/*
 * The same over data that is already somewhere (iov: zero copy): the
 * descriptors' bytes laid over iov in order, SGEs cut at MR boundaries.
 * 0, -EFAULT (no MR), -E2BIG, or -EINVAL (iov shorter than the SGL).
 */
int nvmf_rdma_sgl_fill_iov(const struct nvmf_rdma_sgl *sgl, const struct iovec *iov,
			   int iovcnt, const struct nvmf_rdma_mr_map *map,
			   uint32_t max_sge, enum ibv_wr_opcode opcode,
			   struct nvmf_rdma_wrs *wrs);

#endif
