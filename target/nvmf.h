/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The target core as a transport sees it: the transport ops table a
 * transport implements, and the request/queue API of the core it calls.
 * This header is the contract between transport/ and target/ (with
 * target/thread.h, the mailboxes and threads a transport with poll groups
 * uses); target/ never includes anything from transport/. Every call into
 * the core is made on the main thread, except one: a poll group on a
 * thread of its own first offers a command to nvmf_group_req_exec (the
 * I/O of its connected I/O queues runs right there) and sends the rest to
 * the main thread (nvmf_tgt_mbox).
 *
 * A request's life, seen from the transport:
 *   capsule received -> req->cmd filled (and in-capsule data, if any)
 *   -> nvmf_req_xfer(req) tells the data direction
 *   -> the transport parses the SGL, sets req->length and req->iov (buffers
 *      from registered memory), RDMA-READs host data for writes
 *   -> nvmf_req_exec(req): the core runs the command (maybe later, from the
 *      loop, when the backend completes)
 *   -> the core fills req->cpl and calls ops->req_complete(req): the
 *      transport RDMA-WRITEs data for reads, then SENDs the response
 *   -> when the SEND completes, the transport reuses the request: requests
 *      belong to the transport, the core never frees one.
 * A transport that cannot even parse the command (bad SGL, too long) sets
 * the status with nvmf_req_fail(req, status) instead of nvmf_req_exec().
 */
#ifndef TARGET_NVMF_H
#define TARGET_NVMF_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "target/nvme_spec.h"

#define NVMF_REQ_MAX_IOV	32	/* data buffers per request */

struct nvmf_tgt;
struct nvmf_qpair;
struct nvmf_ctrlr;
struct nvmf_transport;

enum nvmf_xfer {
	NVMF_XFER_NONE,
	NVMF_XFER_HOST_TO_CTRLR,	/* write-like: RDMA READ before exec */
	NVMF_XFER_CTRLR_TO_HOST,	/* read-like: RDMA WRITE after exec */
	NVMF_XFER_BIDIRECTIONAL,	/* never valid here */
};

struct nvmf_req {
	struct nvmf_qpair *qpair;
	struct nvme_cmd *cmd;	/* in registered memory, owned by transport */
	struct nvme_cpl *cpl;	/* likewise */
	enum nvmf_xfer xfer;
	uint32_t length;	/* data bytes the SGL describes */
	int iovcnt;
	struct iovec iov[NVMF_REQ_MAX_IOV];	/* data, in registered memory */
	/* Core-private from here: transports leave it alone. */
	void *core_ctx;		/* backend I/O context */
	uint64_t core_tag;
	void (*core_cb)(struct nvmf_req *req, int res);
	void (*core_exec)(struct nvmf_req *req);	/* set by parsing */
	struct nvmf_req *core_next;	/* core queues (backend retries) */
	struct bdev *core_zcopy;	/* data lives in this bdev (zero copy) */
	struct nvmf_subsys_grp *core_sg;	/* run by a poll group: its count */
	struct nvmf_subsys_grp *core_zsg;	/* zero copy on a group: its count */
	/* A stacked bdev (delay) keeps the outer completion here. */
	void (*core_outer_cb)(struct nvmf_req *req, int res);
	void *core_outer_ctx;
	uint64_t core_deadline_us;
	_Alignas(8) unsigned char core_priv[128];	/* backend I/O state (iocb) */
};

/* Queue-pair state the core keeps; the transport embeds it in its own. */
struct nvmf_qpair {
	struct nvmf_transport *transport;
	struct nvmf_ctrlr *ctrlr;	/* NULL until Connect succeeds */
	uint16_t qid;
	uint16_t sqsize;		/* from Connect (0-based) */
	uint16_t sqhd;			/* for completions */
	bool disconnecting;
	unsigned int outstanding;	/* requests inside the core */
	void *core_ctx;
	/* Set by a transport with poll groups: the queue's (NULL: main thread). */
	struct nvmf_poll_group *group;
	/*
	 * Core-private: an I/O queue's subsystem and host, written once by its
	 * Connect, read by the group that runs its commands.
	 */
	struct nvmf_subsystem *io_subsys;
	char io_hostnqn[224];
};

/* Transport parameters (SPDK's nvmf_create_transport names and defaults). */
struct nvmf_transport_opts {
	uint16_t max_queue_depth;		/* 128 */
	uint16_t max_io_qpairs_per_ctrlr;	/* 127 */
	uint32_t in_capsule_data_size;		/* 4096 */
	uint32_t max_io_size;			/* 131072 */
	uint32_t io_unit_size;			/* 8192 */
	uint32_t max_aq_depth;			/* 128 */
	uint32_t num_shared_buffers;		/* 4095 */
	uint32_t buf_cache_size;		/* 32 */
	uint32_t max_srq_depth;			/* 4096 */
	bool no_srq;				/* false */
	int acceptor_backlog;			/* 100 */
};

/* Where a transport listens (a listener of the config). */
struct nvmf_listen_addr {
	char trtype[16];	/* "RDMA" */
	char adrfam[8];		/* "IPv4", "IPv6" */
	char traddr[64];
	char trsvcid[32];
};

/* Per-device counters a transport may report (SPDK's nvmf_get_stats names). */
struct nvmf_transport_dev_stats {
	char name[64];
	uint64_t polls, idle_polls, completions, requests;
	uint64_t request_latency;	/* microseconds, summed over requests */
	uint64_t pending_free_request, pending_rdma_read, pending_rdma_write;
	uint64_t total_send_wrs, send_doorbell_updates;
	uint64_t total_send_sges;		/* ours: SGEs of those WRs */
	uint64_t post_ns;			/* ours: time inside ibv_post_* calls */
	uint64_t total_recv_wrs, recv_doorbell_updates;
	int group;				/* the poll group (0: main thread) */
	uint32_t admin_qpairs, io_qpairs;	/* host queues on it now */
};

/* What a transport implements: one static table per transport type. */
struct nvmf_transport_ops {
	const char *name;			/* "RDMA" */
	/* Create with validated opts; returns NULL and logs why. */
	struct nvmf_transport *(*create)(struct nvmf_tgt *tgt,
					 const struct nvmf_transport_opts *opts);
	void (*destroy)(struct nvmf_transport *t);
	/* Start/stop accepting on an address: 0 or -errno (logged). */
	int (*listen)(struct nvmf_transport *t, const struct nvmf_listen_addr *a);
	void (*stop_listen)(struct nvmf_transport *t, const struct nvmf_listen_addr *a);
	/* Deliver the completion in req->cpl (and read data) to the host. */
	void (*req_complete)(struct nvmf_req *req);
	/* The core wants this queue gone (controller reset, keep-alive, ...). */
	void (*qpair_disconnect)(struct nvmf_qpair *qp);
	/* Identify values that depend on the transport. */
	uint32_t (*ioccsz_bytes)(const struct nvmf_transport *t); /* capsule size */
	uint8_t msdbd;				/* SGL descriptors per command */
	/*
	 * Optional: the local address qp was accepted on (for the discovery
	 * log's "current discovery subsystem" entry). 0 or -errno; NULL: the
	 * core uses the first listener.
	 */
	int (*qpair_local_addr)(const struct nvmf_qpair *qp,
				struct nvmf_listen_addr *a);
	/* Optional: per-device counters into out[max]; returns how many. */
	int (*get_stats)(struct nvmf_transport *t, struct nvmf_transport_dev_stats *out,
			 int max);
};

/* Transport state the core keeps; the transport embeds it first in its own. */
struct nvmf_transport {
	const struct nvmf_transport_ops *ops;
	struct nvmf_tgt *tgt;
	struct nvmf_transport_opts opts;
};

void nvmf_transport_opts_init(struct nvmf_transport_opts *opts);

/*
 * Transport registry: a transport makes itself known by name, e.g. from a
 * constructor in its own file:
 *   __attribute__((constructor)) static void reg(void)
 *   { nvmf_transport_register(&nvmf_rdma_ops); }
 * main() also registers nvmf_rdma_ops if it is linked in (weak reference).
 * Registering the same table twice is harmless. Lookup is case-insensitive.
 */
void nvmf_transport_register(const struct nvmf_transport_ops *ops);
const struct nvmf_transport_ops *nvmf_transport_find(const char *name);

/* The RDMA transport (transport/rdma.c); main() references it weakly. */
extern const struct nvmf_transport_ops nvmf_rdma_ops;

/* ---- Calls from the transport into the core ---- */

/* A new host queue was accepted; the core expects a Connect first. */
void nvmf_qpair_init(struct nvmf_qpair *qp, struct nvmf_transport *t);
/*
 * The queue is gone on the wire (disconnect, error, device removal): the
 * core detaches it from its controller. Requests still inside the core
 * (qp->outstanding > 0) complete later through ops->req_complete, which
 * must then drop them; the transport frees qp only at outstanding == 0.
 */
void nvmf_qpair_fini(struct nvmf_qpair *qp);

/* Direction of the data of req->cmd (opcode or fabrics command type). */
enum nvmf_xfer nvmf_req_xfer(const struct nvmf_req *req);

/* Run the command; completion comes through ops->req_complete. */
void nvmf_req_exec(struct nvmf_req *req);

/* Complete without running: the transport found the command malformed. */
void nvmf_req_fail(struct nvmf_req *req, nvme_status status);

/*
 * Zero copy: before the transport takes data buffers for a command, it
 * may ask whether the data can stay in the namespace itself (today: a Read
 * of a RAM namespace in registered memory). If so (true), req->iov points
 * there: the transport moves the data straight from it with RDMA and takes
 * no buffers, and must call nvmf_req_zcopy_end once the request is done with
 * the memory (after its last RDMA completion), which releases the bdev.
 * False: use buffers as usual (any check failing is reported at exec).
 */
bool nvmf_req_zcopy_start(struct nvmf_req *req);
void nvmf_req_zcopy_end(struct nvmf_req *req);

/*
 * Poll groups: the CPUs the target was given (-m, --cpus), the first being
 * the main thread's. A transport runs one poll group per CPU; with one CPU
 * (or none given) everything runs on the main thread. Returns how many CPUs
 * were put in cpus[max].
 */
#define NVMF_MAX_POLL_GROUPS	64
int nvmf_tgt_poll_group_cpus(const struct nvmf_tgt *tgt, int *cpus, int max);
/*
 * The main thread's mailbox (target/thread.h), made on first use, which
 * must be on the main thread: the core's calls (nvmf_req_exec, ...) from
 * another thread are messages to it.
 */
struct nvmf_mbox;
struct nvmf_mbox *nvmf_tgt_mbox(struct nvmf_tgt *tgt);

/*
 * The core's side of a poll group on a thread of its own (target/group.c).
 * On the main thread, before the group's thread starts: create (NULL: no
 * memory); once it runs: started. On the group's thread: bind first thing,
 * unbind last (its backend contexts go). On the main thread after the
 * thread is gone: destroy. idx: 1 .. NVMF_MAX_POLL_GROUPS - 1.
 */
struct nvmf_poll_group;
struct nvmf_thread;
struct nvmf_poll_group *nvmf_poll_group_create(struct nvmf_tgt *tgt, int idx);
void nvmf_poll_group_started(struct nvmf_poll_group *pg, struct nvmf_thread *th);
void nvmf_poll_group_bind(struct nvmf_poll_group *pg);
void nvmf_poll_group_unbind(struct nvmf_poll_group *pg);
void nvmf_poll_group_destroy(struct nvmf_poll_group *pg);
/*
 * On a group's thread, instead of sending a command to the main thread:
 * true if the core ran it here (or holds it while its subsystem is paused),
 * which it does for a connected I/O queue of this group; false: send it on.
 * The transport asks only while none of the queue's commands is at the
 * main thread, so one queue's commands never run on two threads at once.
 */
bool nvmf_group_req_exec(struct nvmf_req *req);
bool nvmf_group_req_fail(struct nvmf_req *req, nvme_status status);
/*
 * Zero copy (nvmf_req_zcopy_start) on a group's own queue: until end, the
 * namespace memory counts as in flight, so a pause waits for it.
 */
bool nvmf_group_zcopy_start(struct nvmf_req *req);
void nvmf_group_zcopy_end(struct nvmf_req *req);

/* ---- The event loop, shared by core and transports ---- */

/*
 * A poller returns how much work it did (0: idle). When every poller has
 * been idle for a while, the loop calls each poller's arm (which makes its
 * fd readable on the next event, e.g. ibv_req_notify_cq) and sleeps in
 * epoll on all fds. Returns a handle, or NULL (logged).
 */
struct nvmf_poller;
typedef int (*nvmf_poll_fn)(void *arg);
typedef void (*nvmf_arm_fn)(void *arg);

struct nvmf_poller *nvmf_poller_add(struct nvmf_tgt *tgt, const char *name,
				    nvmf_poll_fn poll, nvmf_arm_fn arm, int fd,
				    void *arg);
void nvmf_poller_del(struct nvmf_tgt *tgt, struct nvmf_poller *p);

struct nvmf_timer;
typedef void (*nvmf_timer_fn)(void *arg);

/* A timer that fires once at a deadline set with nvmf_timer_arm. */
struct nvmf_timer *nvmf_timer_add(struct nvmf_tgt *tgt, nvmf_timer_fn fn,
				  void *arg);
void nvmf_timer_arm(struct nvmf_timer *t, uint64_t deadline_us);
void nvmf_timer_disarm(struct nvmf_timer *t);
void nvmf_timer_del(struct nvmf_tgt *tgt, struct nvmf_timer *t);

/* Monotonic microseconds. */
uint64_t nvmf_now_us(void);

#endif
