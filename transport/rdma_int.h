/* SPDX-License-Identifier: BSD-3-Clause */
/* State shared by rdma.c (devices, polling) and rdma_conn.c (CM, queues). */
#ifndef TRANSPORT_RDMA_INT_H
#define TRANSPORT_RDMA_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#include "target/nvmf.h"
#include "transport/rdma.h"
#include "transport/rdma_mr.h"
#include "transport/rdma_req.h"

#define NVMF_RDMA_POLL_BATCH	32	/* work completions per ibv_poll_cq */
#define NVMF_RDMA_POLL_ROUNDS	4	/* batches per poll call at most */
#define NVMF_RDMA_QPN_BUCKETS	256
#define NVMF_RDMA_MAX_SGE	16	/* SGEs per data WR we ask for */
#define NVMF_RDMA_RECV_SGE	2	/* a capsule buffer may span two MRs */
#define NVMF_RDMA_CQ_MIN	1024

struct nvmf_rdma_transport;
struct nvmf_rdma_group;
struct nvmf_thread;
struct nvmf_mbox;

/* What an rdma_cm_id's context points to. */
enum nvmf_rdma_cm_type {
	NVMF_RDMA_CM_LISTENER,
	NVMF_RDMA_CM_CONN,
};

/*
 * A device as one poll group sees it. The main thread's (group 0) is the
 * primary: it owns the context's PD and MR map and reads its async events.
 * Every other group has a clone of it with its own completion channel, CQ,
 * shared receive queue, poller and queues, borrowing the primary's PD and
 * MR map (translations are lock-free reads).
 */
struct nvmf_rdma_device {
	TAILQ_ENTRY(nvmf_rdma_device) link;
	struct nvmf_rdma_transport *rt;
	struct nvmf_rdma_group *group;		/* NULL: the main thread's */
	struct nvmf_rdma_device *primary;	/* a clone's; NULL for a primary */
	unsigned int clones;			/* a primary's live clones */
	struct nvmf_rdma_pool *pool;		/* its group's data buffers */
	struct ibv_context *ctx;
	struct ibv_device_attr attr;
	struct ibv_pd *pd;
	struct nvmf_rdma_mr_map *mr_map;
	struct ibv_comp_channel *channel;
	struct ibv_cq *cq;
	int cq_size;
	int cq_used;
	struct ibv_srq *srq;
	uint32_t srq_depth;
	struct nvmf_rdma_recv *srq_recvs;
	uint8_t *srq_bufs;
	struct nvmf_poller *poller;
	struct nvmf_poller *async_poller;	/* ibv_get_async_event */
	uint64_t async_polled_us;
	bool armed;		/* CQ notification requested */
	bool in_poll;		/* posts wait for the end of the poll: batched */
	TAILQ_HEAD(, nvmf_rdma_conn) flush;	/* queues with posts waiting */
	struct ibv_recv_wr *srq_head, *srq_tail;	/* SRQ reposts waiting */
	bool removed;		/* DEVICE_REMOVAL seen */
	bool port_down;		/* IBV_EVENT_PORT_ERR seen, no PORT_ACTIVE yet */
	bool send_with_inv;
	uint32_t max_sge;	/* per data WR */
	TAILQ_HEAD(, nvmf_rdma_conn) conns;	/* every queue on the device */
	TAILQ_HEAD(, nvmf_rdma_conn) dying;	/* to tear down from the poller */
	struct nvmf_rdma_conn *qpn[NVMF_RDMA_QPN_BUCKETS];
	char name[IBV_SYSFS_NAME_MAX];
	struct nvmf_transport_dev_stats stats;
};

/* A host queue: the state machine's qpair plus its verbs and CM objects. */
struct nvmf_rdma_conn {
	struct nvmf_rdma_qpair qp;	/* first: &conn->qp.qpair is the core's */
	enum nvmf_rdma_cm_type cm_type;
	struct nvmf_rdma_device *dev;
	struct rdma_cm_id *cm_id;
	struct ibv_qp *ibqp;
	uint32_t qp_num;
	int cq_slots;
	bool core_init;		/* nvmf_qpair_init done, fini not yet */
	bool cm_gone;		/* the peer disconnected: no rdma_disconnect */
	bool on_dying;
	bool zombie;		/* verbs gone, waits for the core's requests */
	bool on_flush;
	bool fini_wait;		/* grouped: the core's fini not done yet */
	uint32_t forwarded;	/* grouped: commands sent to the main thread */
	bool counted;		/* in its device's admin/io_qpairs */
	uint16_t cm_qid;	/* from the connect request */
	struct ibv_send_wr *send_head, *send_tail;	/* posts waiting */
	struct ibv_recv_wr *recv_head, *recv_tail;
	struct nvmf_rdma_recv *recvs;	/* no SRQ: this queue's capsules */
	uint8_t *recv_bufs;
	struct nvme_cpl *cpls;
	TAILQ_ENTRY(nvmf_rdma_conn) link;
	TAILQ_ENTRY(nvmf_rdma_conn) dying_link;
	TAILQ_ENTRY(nvmf_rdma_conn) flush_link;
	struct nvmf_rdma_conn *qpn_next;
};

struct nvmf_rdma_listener {
	enum nvmf_rdma_cm_type cm_type;
	TAILQ_ENTRY(nvmf_rdma_listener) link;
	struct nvmf_rdma_transport *rt;
	struct nvmf_listen_addr addr;
	struct rdma_cm_id *id;	/* NULL: its device is gone, retried */
	unsigned int refs;	/* subsystems listening here */
};

struct nvmf_rdma_transport {
	struct nvmf_transport t;	/* first: the core's view */
	struct rdma_event_channel *cm_channel;
	struct nvmf_poller *cm_poller;
	uint64_t cm_polled_us;		/* last look at the CM channel */
	struct ibv_context **ctx_list;
	TAILQ_HEAD(nvmf_rdma_device_list, nvmf_rdma_device) devices;
	TAILQ_HEAD(, nvmf_rdma_listener) listeners;
	struct nvmf_rdma_bufs bufs;	/* every group's data buffers */
	void *pool_mem;
	uint32_t cache_size;		/* each group's cache of them */
	struct nvmf_rdma_pool pool;	/* the main thread's cache */
	struct nvmf_timer *retry_timer;	/* lost listeners: find devices, bind */
	struct nvmf_rdma_group **groups;	/* [1..ngroups-1]: threads; [0] NULL */
	int ngroups;
	struct nvmf_mbox *main_mbox;	/* groups -> core: the target's mailbox */
	uint32_t recv_len;	/* capsule buffer: SQE + in-capsule data */
	bool destroying;
};

/* A poll group on a thread of its own (rdma_group.c). */
struct nvmf_rdma_group {
	struct nvmf_rdma_transport *rt;
	int idx, cpu;
	struct nvmf_thread *th;
	struct rdma_event_channel *cm_channel;	/* its queues' CM ids migrate here */
	struct nvmf_poller *cm_poller;
	TAILQ_HEAD(, nvmf_rdma_device) devices;	/* clones */
	struct nvmf_rdma_pool pool;	/* its cache of rt->bufs */
	struct nvmf_poll_group *pg;	/* the core's side of it */
};

extern const struct nvmf_rdma_io_ops nvmf_rdma_io;
extern const struct nvmf_rdma_io_ops nvmf_rdma_io_grouped;

/* rdma.c */
struct nvmf_rdma_device *nvmf_rdma_device_find(struct nvmf_rdma_transport *rt,
					       struct ibv_context *ctx);
int nvmf_rdma_device_poll_cq(struct nvmf_rdma_device *dev);
int nvmf_rdma_device_poll(void *dev);
int nvmf_rdma_io_post_send(struct nvmf_rdma_qpair *qp, struct ibv_send_wr *wr);
int nvmf_rdma_io_post_recv(struct nvmf_rdma_qpair *qp, struct nvmf_rdma_recv *rv);
void nvmf_rdma_io_qp_error(struct nvmf_rdma_qpair *qp, const char *why);
void nvmf_rdma_conn_unflush(struct nvmf_rdma_conn *c);
int nvmf_rdma_cq_reserve(struct nvmf_rdma_device *dev, int slots);
void nvmf_rdma_device_free(struct nvmf_rdma_device *dev);
void nvmf_rdma_qpn_add(struct nvmf_rdma_device *dev, struct nvmf_rdma_conn *c);
void nvmf_rdma_qpn_del(struct nvmf_rdma_device *dev, struct nvmf_rdma_conn *c);
int nvmf_rdma_device_clone(struct nvmf_rdma_group *g, struct nvmf_rdma_device *p);
/* Take devices that appeared since the last look; drop references to gone ones. */
int nvmf_rdma_devices_rescan(struct nvmf_rdma_transport *rt);

/* rdma_conn.c */
int nvmf_rdma_listen(struct nvmf_transport *t, const struct nvmf_listen_addr *a);
void nvmf_rdma_stop_listen(struct nvmf_transport *t, const struct nvmf_listen_addr *a);
void nvmf_rdma_listeners_destroy(struct nvmf_rdma_transport *rt);
int nvmf_rdma_cm_poll(void *arg);
void nvmf_rdma_conn_disconnect(struct nvmf_rdma_conn *c, const char *why);
int nvmf_rdma_conns_reap(struct nvmf_rdma_device *dev);
void nvmf_rdma_conn_release(struct nvmf_rdma_conn *c);
int nvmf_rdma_qpair_local_addr(const struct nvmf_qpair *qp, struct nvmf_listen_addr *a);
/* Set up a host queue on dev (its group's thread) and accept it, or reject. */
void nvmf_rdma_conn_start(struct nvmf_rdma_device *dev, struct rdma_cm_id *id,
			  uint16_t qid, uint16_t depth, const struct rdma_conn_param *host);
/* One CM event of a queue (any group's channel). */
void nvmf_rdma_cm_conn_event(struct rdma_cm_id *id, enum rdma_cm_event_type type,
			     int status);
/* A device is gone (CM event or async event): close its queues and listeners. */
void nvmf_rdma_device_removed(struct nvmf_rdma_transport *rt, struct ibv_context *ctx);
/* Try lost listeners again soon (a port came up, a device came back). */
void nvmf_rdma_listen_retry(struct nvmf_rdma_transport *rt, uint64_t delay_us);
void nvmf_rdma_listen_retry_fn(void *rt);

/* rdma_group.c */
int nvmf_rdma_groups_start(struct nvmf_rdma_transport *rt);
void nvmf_rdma_groups_stop(struct nvmf_rdma_transport *rt);
/* The group for a new host queue by its qid; NULL: the main thread. */
struct nvmf_rdma_group *nvmf_rdma_group_pick(struct nvmf_rdma_transport *rt, uint16_t qid);
/* Hand a host queue's CM id to group g, which sets it up and accepts it. */
void nvmf_rdma_group_accept(struct nvmf_rdma_group *g, struct rdma_cm_id *id, uint16_t qid,
			    uint16_t depth, const struct rdma_conn_param *host);
/* Core -> a grouped queue (main thread): run on the queue's group. */
void nvmf_rdma_group_complete(struct nvmf_rdma_conn *c, struct nvmf_req *req);
void nvmf_rdma_group_disconnect(struct nvmf_rdma_conn *c);
/* A grouped queue's nvmf_qpair_fini, on the main thread, then back. */
void nvmf_rdma_group_core_fini(struct nvmf_rdma_conn *c);
/* A primary came or went: every group adds or drops its clone. */
void nvmf_rdma_groups_device_added(struct nvmf_rdma_transport *rt,
				   struct nvmf_rdma_device *p);
void nvmf_rdma_groups_device_removed(struct nvmf_rdma_transport *rt,
				     struct nvmf_rdma_device *p);
/* Per-group device counters (clones), after the primaries'. */
int nvmf_rdma_groups_stats(struct nvmf_rdma_transport *rt,
			   struct nvmf_transport_dev_stats *out, int max);

#endif
