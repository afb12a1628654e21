/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The request state machine of the RDMA transport, driven by work
 * completions, with the shared data buffer pool and the per-queue limits
 * (send queue slots, outstanding RDMA READs). Every verbs call and every
 * call into the core goes through struct nvmf_rdma_io_ops, so the whole
 * machine runs in unit tests without a device or the core.
 *
 *   FREE -> NEW -> NEED_BUFFER -> READ_PENDING -> READING (RDMA READ)
 *        -> EXECUTING (core) -> EXECUTED -> COMPLETE_PENDING
 *        -> COMPLETING (RDMA WRITEs + response SEND, one post) -> COMPLETED
 *        -> FREE
 * Requests without data skip the buffer and READ states; a command that
 * cannot be parsed goes to EXECUTING through the core's nvmf_req_fail.
 */
#ifndef TRANSPORT_RDMA_REQ_H
#define TRANSPORT_RDMA_REQ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include <infiniband/verbs.h>

#include "target/nvmf.h"
#include "transport/rdma_mr.h"
#include "transport/rdma_sgl.h"

#define nvmf_rdma_container_of(ptr, type, member) \
	((type *)(void *)((char *)(ptr) - offsetof(type, member)))

struct nvmf_rdma_qpair;
struct nvmf_rdma_recv;
struct nvmf_rdma_req;

/* What a work request's wr_id points to. */
enum nvmf_rdma_wr_type {
	NVMF_RDMA_WR_RECV,	/* struct nvmf_rdma_recv */
	NVMF_RDMA_WR_DATA,	/* RDMA READ of a request */
	NVMF_RDMA_WR_SEND,	/* RDMA WRITEs + response SEND of a request */
};

struct nvmf_rdma_wr_ctx {
	uint8_t type;		/* enum nvmf_rdma_wr_type */
};

/* The thin layer over verbs and the core (rdma.c; fakes in unit tests). */
struct nvmf_rdma_io_ops {
	int (*post_send)(struct nvmf_rdma_qpair *qp, struct ibv_send_wr *wr);
	/* Repost rv: to qp's receive queue, or to the shared receive queue. */
	int (*post_recv)(struct nvmf_rdma_qpair *qp, struct nvmf_rdma_recv *rv);
	/* The queue cannot go on: start tearing it down (idempotent). */
	void (*qp_error)(struct nvmf_rdma_qpair *qp, const char *why);
	enum nvmf_xfer (*xfer)(const struct nvmf_req *req);
	void (*exec)(struct nvmf_req *req);
	void (*fail)(struct nvmf_req *req, nvme_status status);
	/* Optional (NULL: always buffers): the core's zero copy (nvmf.h). */
	bool (*zcopy_start)(struct nvmf_req *req);
	void (*zcopy_end)(struct nvmf_req *req);
};

/*
 * The transport's data buffers, shared by every poll group (SPDK's iobuf):
 * count buffers of unit bytes in registered memory, the free ones in a
 * DPDK ring (multi-producer, multi-consumer).
 */
struct rte_ring;
struct nvmf_rdma_bufs {
	uint8_t *base;
	uint32_t unit;
	uint32_t count;
	struct rte_ring *ring;
};

/*
 * What one poll group takes its buffers from. Standalone (no shared):
 * count buffers of its own. In front of shared buffers: a cache of its own
 * (no atomic while it lasts), refilled from the ring by cache_size when it
 * runs out, and giving back down to cache_size when it holds twice that.
 */
struct nvmf_rdma_pool {
	struct nvmf_rdma_bufs *shared;	/* NULL: standalone */
	uint8_t *base;			/* standalone: the buffers */
	uint32_t unit;
	uint32_t count;			/* standalone: buffers; shared: cache room */
	uint32_t cache_size;
	uint32_t nfree;
	void **free;		/* stack of free buffers */
	TAILQ_HEAD(, nvmf_rdma_req) waiting;	/* FIFO, across all queues */
};

/* A capsule receive buffer (64-byte SQE + in-capsule data). */
struct nvmf_rdma_recv {
	struct nvmf_rdma_wr_ctx ctx;
	struct ibv_recv_wr wr;
	struct ibv_sge sge[2];	/* 2: a buffer may span two MRs */
	uint8_t *buf;
	uint32_t byte_len;	/* of the last capsule received */
	struct nvmf_rdma_qpair *qp;	/* owner; SRQ: the queue it came in on */
	STAILQ_ENTRY(nvmf_rdma_recv) link;
};

enum nvmf_rdma_req_state {
	NVMF_RDMA_REQ_FREE,
	NVMF_RDMA_REQ_NEW,
	NVMF_RDMA_REQ_NEED_BUFFER,
	NVMF_RDMA_REQ_READ_PENDING,
	NVMF_RDMA_REQ_READING,
	NVMF_RDMA_REQ_READY_TO_EXECUTE,
	NVMF_RDMA_REQ_EXECUTING,
	NVMF_RDMA_REQ_EXECUTED,
	NVMF_RDMA_REQ_COMPLETE_PENDING,
	NVMF_RDMA_REQ_COMPLETING,
	NVMF_RDMA_REQ_COMPLETED,
};

enum nvmf_rdma_req_list {
	NVMF_RDMA_LIST_NONE,
	NVMF_RDMA_LIST_FREE,
	NVMF_RDMA_LIST_POOL_WAIT,
	NVMF_RDMA_LIST_READ_WAIT,
	NVMF_RDMA_LIST_CPL_WAIT,
};

struct nvmf_rdma_req {
	struct nvmf_req req;		/* the core's view */
	uint64_t start_us;		/* capsule received (stats) */
	enum nvmf_rdma_req_state state;
	enum nvmf_rdma_req_list list;
	struct nvmf_rdma_qpair *qp;
	struct nvmf_rdma_recv *recv;	/* capsule, until reposted */
	struct nvmf_rdma_sgl sgl;
	struct nvmf_rdma_wr_ctx data_ctx;
	struct nvmf_rdma_wr_ctx send_ctx;
	bool zcopy;			/* data in the namespace: no buffers */
	nvme_status fail_st;		/* io->fail's status, handed to another thread */
	uint16_t sq_used;		/* send queue slots held */
	uint16_t reads;			/* READ WRs outstanding */
	uint32_t nbufs;
	void *bufs[NVMF_REQ_MAX_IOV];
	struct ibv_send_wr send_wr;
	struct ibv_sge send_sge;
	struct nvmf_rdma_wrs wrs;
	TAILQ_ENTRY(nvmf_rdma_req) link;
};

/* Everything the state machine knows of a queue; rdma.c adds the rest. */
struct nvmf_rdma_qpair {
	struct nvmf_qpair qpair;	/* the core's view, first */
	const struct nvmf_rdma_io_ops *io;
	struct nvmf_rdma_pool *pool;
	const struct nvmf_rdma_mr_map *mr_map;
	struct nvmf_rdma_sgl_limits lim;
	uint32_t max_sge;		/* per data WR */
	bool srq;			/* receives come from a shared queue */
	bool send_with_inv;		/* device can SEND with invalidate */
	bool inline_rsp;		/* responses sent inline */
	bool dying;			/* torn down: drop, never post */
	uint16_t depth;			/* requests */
	uint16_t sq_free;		/* send queue slots */
	uint16_t max_reads;		/* negotiated initiator depth */
	uint16_t reads;			/* READ WRs outstanding */
	uint32_t executing;		/* requests inside the core */
	struct nvmf_rdma_req *reqs;
	TAILQ_HEAD(, nvmf_rdma_req) free_reqs;
	TAILQ_HEAD(, nvmf_rdma_req) read_wait;
	TAILQ_HEAD(, nvmf_rdma_req) cpl_wait;
	STAILQ_HEAD(, nvmf_rdma_recv) recv_wait;	/* no free request yet */
	void *priv;			/* rdma.c's own state */
	struct nvmf_transport_dev_stats *stats;	/* the device's; may be NULL */
};

/* Buffer pool over [base, base + count * unit): 0 or -ENOMEM. */
int nvmf_rdma_pool_init(struct nvmf_rdma_pool *p, void *base, uint32_t count,
			uint32_t unit);
/* A poll group's cache of cache_size in front of b: 0 or -ENOMEM. */
int nvmf_rdma_pool_init_shared(struct nvmf_rdma_pool *p, struct nvmf_rdma_bufs *b,
			       uint32_t cache_size);
/* Its cached buffers go back to the shared ones. */
void nvmf_rdma_pool_fini(struct nvmf_rdma_pool *p);
/*
 * Requests waiting for buffers another group gave back: served from the
 * shared ones. Nonzero while some still wait (the poller keeps polling).
 */
int nvmf_rdma_pool_poll(struct nvmf_rdma_pool *p);
/* Shared buffers over [base, base + count * unit): 0 or -ENOMEM. */
int nvmf_rdma_bufs_init(struct nvmf_rdma_bufs *b, void *base, uint32_t count, uint32_t unit);
/* Every buffer must be back (warns with the count of those that are not). */
void nvmf_rdma_bufs_fini(struct nvmf_rdma_bufs *b);
uint32_t nvmf_rdma_bufs_free(const struct nvmf_rdma_bufs *b);

/* Receive buffer rv over buf (len bytes, registered in map): 0 or -EFAULT. */
int nvmf_rdma_recv_init(struct nvmf_rdma_recv *rv, uint8_t *buf, uint32_t len,
			const struct nvmf_rdma_mr_map *map);

/*
 * Allocate qp->depth requests (qp's fields set first), their responses at
 * cpls (depth entries, registered in qp->mr_map): 0, -ENOMEM or -EFAULT.
 */
int nvmf_rdma_qpair_reqs_init(struct nvmf_rdma_qpair *qp, struct nvme_cpl *cpls);
void nvmf_rdma_qpair_reqs_fini(struct nvmf_rdma_qpair *qp);

/* Work completions, by what their wr_id points to. */
void nvmf_rdma_recv_done(struct nvmf_rdma_qpair *qp, struct nvmf_rdma_recv *rv,
			 const struct ibv_wc *wc);
void nvmf_rdma_read_done(struct nvmf_rdma_req *r, const struct ibv_wc *wc);
void nvmf_rdma_send_done(struct nvmf_rdma_req *r, const struct ibv_wc *wc);

/* ops->req_complete: the core is done with req. */
void nvmf_rdma_req_complete(struct nvmf_req *req);

/*
 * The queue's verbs QP is gone and no completion of it is left: finish
 * every request that is not inside the core. Returns qp->executing (the
 * queue may be freed when it is 0).
 */
uint32_t nvmf_rdma_qpair_drop(struct nvmf_rdma_qpair *qp);

#endif
