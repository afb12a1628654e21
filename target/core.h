/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The target core's own objects: the target, its event loop and timers,
 * subsystems, namespaces, controllers, and the command layer's internal
 * entry points. Transports see only target/nvmf.h; main() and the tests
 * see this file too.
 */
#ifndef TARGET_CORE_H
#define TARGET_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "target/nvmf.h"
#include "target/bdev.h"

#define NVMF_DISCOVERY_NQN	"nqn.2014-08.org.nvmexpress.discovery"
#define NVMF_NQN_MAX		223
#define NVMF_SN_LEN		20
#define NVMF_MN_LEN		40
#define NVMF_FW_REV		"0.1.0"
#define NVMF_DEFAULT_SN		"00000000000000000000"
#define NVMF_DEFAULT_MN		"SPDK bdev Controller"
#define NVMF_DEFAULT_MAX_NS	32
#define NVMF_DEFAULT_MAX_SUBSYSTEMS 1024
#define NVMF_MIN_CNTLID		1
#define NVMF_MAX_CNTLID		0xFFEF
#define NVMF_AER_MAX		4	/* AERL + 1 */
#define NVMF_ABORT_MAX		4	/* ACL + 1 */
#define NVMF_CHANGED_NS_MAX	1024
#define NVMF_CAP_TO		15	/* 500 ms units: 7.5 s */
#define NVMF_KAS		10	/* 100 ms units */
#define NVMF_SPIN_US		2000	/* keep polling this long after work */

/* ---- Event loop: pollers and timers (nvmf.h) ---- */

int nvmf_loop_create(struct nvmf_tgt *tgt);	/* 0 or -errno */
void nvmf_loop_destroy(struct nvmf_tgt *tgt);
/*
 * Every loop call works on the calling thread's loop: the target's, or one
 * a thread of its own made with nvmf_loop_alloc and set with nvmf_loop_bind
 * (target/thread.c). NULL on failure (logged).
 */
struct nvmf_loop_state *nvmf_loop_alloc(void);
void nvmf_loop_free(struct nvmf_loop_state *l);
void nvmf_loop_bind(struct nvmf_loop_state *l);

/* Run until nvmf_loop_stop. 0, or -errno if epoll itself failed. */
int nvmf_loop_run(struct nvmf_tgt *tgt);
void nvmf_loop_stop(struct nvmf_tgt *tgt);
/* Stop the calling thread's loop with an error: nvmf_loop_run returns err. */
void nvmf_loop_fail(struct nvmf_tgt *tgt, int err);
/*
 * One pass for tests and shutdown: poll every poller and due timer; if
 * nothing was done, sleep up to timeout_ms in epoll (0: don't sleep).
 * Returns the work done.
 */
int nvmf_loop_once(struct nvmf_tgt *tgt, int timeout_ms);

/* ---- Subsystems and namespaces ---- */

struct nvmf_ns {
	uint32_t nsid;
	struct bdev *bdev;
	uint8_t uuid[16];
	uint8_t nguid[16];
	uint8_t eui64[8];
	bool has_eui64;
	bool no_auto_visible;		/* visible only to hosts[] */
	char (*hosts)[NVMF_NQN_MAX + 1];
	int nhosts;
	/* SMART counters, per thread (index: poll group, 0 the main thread). */
	struct nvmf_ns_stats {
		uint64_t units_read, units_written;	/* 512 B units */
		uint64_t reads, writes;
	} st[NVMF_MAX_POLL_GROUPS];
};

/*
 * One poll group's view of a subsystem: the group's alone (cache line of
 * its own). Paused: new commands of the subsystem wait in held.
 */
struct nvmf_subsys_grp {
	_Alignas(64) bool paused;
	bool ack_drained;		/* answer the pause when outstanding is 0 */
	unsigned int outstanding;	/* commands of the subsystem running here */
	struct nvmf_req *held_head, *held_tail;
};

struct nvmf_subsystem {
	struct nvmf_tgt *tgt;
	char nqn[NVMF_NQN_MAX + 1];
	bool discovery;
	char sn[NVMF_SN_LEN + 1];
	char mn[NVMF_MN_LEN + 1];
	uint32_t max_ns;
	struct nvmf_ns **ns;		/* [max_ns], index nsid - 1 */
	bool allow_any_host;
	char (*hosts)[NVMF_NQN_MAX + 1];
	int nhosts;
	struct nvmf_listen_addr *listeners;
	int nlisteners;
	uint16_t min_cntlid, max_cntlid, next_cntlid;
	struct nvmf_ctrlr *ctrlrs;
	bool deleted;			/* gone from tgt->subsys; freed with its
					   last controller */
	struct nvmf_subsys_grp *grp;	/* [NVMF_MAX_POLL_GROUPS] */
	int pause_depth;		/* main thread: nested pauses */
	struct nvmf_subsystem *dead_next;
};

struct nvmf_subsystem *nvmf_subsystem_create(struct nvmf_tgt *tgt,
					     const char *nqn);
struct nvmf_subsystem *nvmf_subsystem_find(struct nvmf_tgt *tgt,
					   const char *nqn);
/* 0, -EEXIST (nsid taken), -EINVAL (nsid out of range), -ENOMEM. */
int nvmf_subsystem_add_ns(struct nvmf_subsystem *s, struct nvmf_ns *ns);
struct nvmf_ns *nvmf_subsystem_get_ns(struct nvmf_subsystem *s, uint32_t nsid);
/* The namespace if the controller's host may see it (masking), else NULL. */
struct nvmf_ns *nvmf_ctrlr_get_ns(const struct nvmf_ctrlr *c, uint32_t nsid);
bool nvmf_ns_visible(const struct nvmf_ns *ns, const char *hostnqn);
uint32_t nvmf_subsystem_free_nsid(struct nvmf_subsystem *s);
/*
 * Run-time changes: each applies at once and tells the connected hosts
 * what the specification says (AENs, disconnects); nobody else notices.
 */
/* 0, or -ENOENT (no such namespace). Releases the bdev's claim. */
int nvmf_subsystem_remove_ns(struct nvmf_subsystem *s, uint32_t nsid);
/* Per-namespace host visibility: 0, -EEXIST/-ENOENT, -ENOMEM. */
int nvmf_ns_add_host(struct nvmf_subsystem *s, struct nvmf_ns *ns, const char *hostnqn);
int nvmf_ns_remove_host(struct nvmf_subsystem *s, struct nvmf_ns *ns, const char *hostnqn);
int nvmf_subsystem_add_host(struct nvmf_subsystem *s, const char *hostnqn);
/* 0 or -ENOENT; that host's controllers that lost access are disconnected. */
int nvmf_subsystem_remove_host(struct nvmf_subsystem *s, const char *hostnqn);
void nvmf_subsystem_set_allow_any_host(struct nvmf_subsystem *s, bool any);
bool nvmf_subsystem_host_allowed(const struct nvmf_subsystem *s,
				 const char *hostnqn);
/* 0, -EEXIST (listed), or the transport's -errno when it cannot listen. */
int nvmf_subsystem_add_listener(struct nvmf_subsystem *s,
				const struct nvmf_listen_addr *a);
/* 0 or -ENOENT; the controllers connected through it are disconnected. */
int nvmf_subsystem_remove_listener(struct nvmf_subsystem *s,
				   const struct nvmf_listen_addr *a);
/* Disconnect every controller, release the namespaces, forget s. */
void nvmf_subsystem_delete(struct nvmf_subsystem *s);
void nvmf_subsystem_free(struct nvmf_subsystem *s);
/* Tell every controller of s that may see nsid that it changed (AEN). */
void nvmf_subsystem_ns_changed(struct nvmf_subsystem *s, uint32_t nsid);
/* The namespace nsid of s if hostnqn may see it, else NULL. */
struct nvmf_ns *nvmf_subsystem_host_ns(struct nvmf_subsystem *s, const char *hostnqn,
				       uint32_t nsid);

/*
 * Poll groups (group.c). Every change of a subsystem's namespaces is made
 * between pause and resume: pause returns once no other thread runs a
 * command of s (those in flight done, new ones held), resume lets the held
 * ones run. They nest; both wait for every group's answer.
 */
void nvmf_subsystem_pause(struct nvmf_subsystem *s);
void nvmf_subsystem_resume(struct nvmf_subsystem *s);
/*
 * Returns once every group has run what the main thread sent it before
 * (disconnects): no group starts a command on those queues any more.
 */
void nvmf_groups_barrier(struct nvmf_tgt *tgt);
/* The calling thread's poll group (NULL: the main thread) and its index. */
struct nvmf_poll_group *nvmf_poll_group_self(void);
int nvmf_thread_index(void);
/* A command a group ran was handed back to the transport (nvmf_req_complete). */
void nvmf_group_req_done(struct nvmf_subsys_grp *sg);

struct nvmf_poll_group {
	struct nvmf_tgt *tgt;
	struct nvmf_thread *th;		/* NULL until started */
	int idx;
	/* Written by the group's thread only; read with __atomic loads. */
	uint64_t completed_io;
	uint64_t io_inflight;
};

/* Counters one thread writes and others read: relaxed, no read-modify-write. */
static inline void nvmf_stat_add(uint64_t *p, uint64_t v)
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + v, __ATOMIC_RELAXED);
}

static inline uint64_t nvmf_stat_get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* ---- The target ---- */

struct nvmf_loop_state;
struct nvmf_rpc_server;

enum nvmf_tgt_state {
	NVMF_TGT_STARTUP,	/* options may change; nothing listens yet */
	NVMF_TGT_RUNNING,	/* initialized: transport up, serving */
	NVMF_TGT_STOPPING,
};

/* A discovery referral: another discovery service the log points to. */
struct nvmf_referral {
	struct nvmf_listen_addr a;
	char subnqn[NVMF_NQN_MAX + 1];
	bool secure_channel;
};

struct nvmf_tgt {
	struct nvmf_loop_state *loop;
	enum nvmf_tgt_state state;
	struct nvmf_subsystem **subsys;	/* [0] is the discovery subsystem */
	int nsubsys;
	struct nvmf_subsystem *dead;	/* deleted, controllers still leaving */
	uint32_t max_subsystems;
	struct bdev *bdevs;
	struct bdev *dead_bdevs;	/* deleted, I/O still in flight */
	bool has_transport;		/* the config asked for RDMA */
	struct nvmf_transport_opts topts;
	struct nvmf_transport *transport;
	struct nvmf_listen_addr *addrs;	/* unique listen addresses: ports */
	unsigned int *addr_refs;	/* subsystems listing each address */
	int naddrs;
	struct nvmf_referral *referrals;
	int nreferrals;
	uint64_t genctr;		/* discovery log generation */
	unsigned int io_inflight;	/* backend I/O not completed yet */
	unsigned int malloc_seq;	/* auto names Malloc<N> */
	unsigned int null_seq;
	struct nvmf_rpc_server *rpc;
	bool dry_run;		/* RPCs validate only: no files, memory, transport
				   or signals (config checks, fuzzing) */
	int group_cpus[NVMF_MAX_POLL_GROUPS];	/* -m/--cpus: poll groups */
	int ngroup_cpus;
	struct nvmf_mbox *mbox;		/* the main thread's: nvmf_tgt_mbox() */
	struct nvmf_poll_group *pgroups[NVMF_MAX_POLL_GROUPS];	/* [0]: NULL */
	_Atomic unsigned int grp_acks;	/* answers to a pause/resume */
	bool failed;			/* a thread of the target died */
	uint64_t admin_qpairs, io_qpairs;	/* connected since start */
	uint64_t completed_io;			/* NVMe I/O commands completed */
};

struct nvmf_tgt *nvmf_tgt_create(void);
void nvmf_tgt_destroy(struct nvmf_tgt *tgt);
/* Record a listen address (port); returns its port id or -errno. */
int nvmf_tgt_add_addr(struct nvmf_tgt *tgt, const struct nvmf_listen_addr *a);
int nvmf_tgt_find_addr(const struct nvmf_tgt *tgt, const struct nvmf_listen_addr *a);
/*
 * Whether a host that connected to address a came through listener l: the
 * same transport, family and port, and the same address (compared as
 * addresses, not text) or l is the wildcard.
 */
bool nvmf_listen_addr_covers(const struct nvmf_listen_addr *l,
			     const struct nvmf_listen_addr *a);
/*
 * Initialize (SPDK's framework_start_init): create the configured transport
 * and listen on every address, then RUNNING. 0, or -ENOENT (no such
 * transport registered), or another -errno (logged).
 */
int nvmf_tgt_start(struct nvmf_tgt *tgt);
/* Create the transport now if the target runs: 0 or -errno (logged). */
int nvmf_tgt_transport_start(struct nvmf_tgt *tgt);
/* A listener reference on port (an index of addrs): listens at the first. */
int nvmf_tgt_port_get(struct nvmf_tgt *tgt, int port);
void nvmf_tgt_port_put(struct nvmf_tgt *tgt, int port);
/* The discovery log changed: new generation, AEN to discovery controllers. */
void nvmf_tgt_discovery_changed(struct nvmf_tgt *tgt);
/* Stop listening, keep serving what is in flight. */
void nvmf_tgt_stop_listen(struct nvmf_tgt *tgt);
/* Flush every namespace's backend: 0 or the first -errno. */
int nvmf_tgt_flush_all(struct nvmf_tgt *tgt);

/* ---- Controllers ---- */

struct nvmf_ctrlr_feat {
	uint32_t arbitration;
	uint32_t power_mgmt;
	uint16_t temp_over, temp_under;
	uint32_t err_recovery;
	uint32_t vwc;
	uint32_t num_queues;		/* granted, as Set Features cdw0 */
	uint32_t irq_coalesce;
	uint32_t irq_config;
	uint32_t write_atomic;
	uint32_t aec;
};

struct nvmf_ctrlr {
	struct nvmf_ctrlr *next;
	struct nvmf_subsystem *subsys;
	struct nvmf_tgt *tgt;
	uint16_t cntlid;
	char hostnqn[NVMF_NQN_MAX + 1];
	uint8_t hostid[16];
	struct nvmf_qpair *admin;
	struct nvmf_qpair **io;		/* [max_io + 1], index qid */
	uint16_t max_io;
	uint32_t cc, csts;
	uint32_t kato_ms;
	uint64_t last_ka_us;
	struct nvmf_timer *ka_timer;
	bool ka_expired;
	struct nvmf_ctrlr_feat feat;
	bool io_queues_seen;
	struct nvmf_req *aer[NVMF_AER_MAX];
	int naer;
	uint32_t aen_pending;		/* NVMF_AEN_* queued */
	uint32_t aen_masked;		/* awaiting Get Log Page with RAE=0 */
	uint32_t changed_ns[NVMF_CHANGED_NS_MAX];
	int nchanged;
	bool changed_overflow;
	uint64_t host_reads, host_writes;
};

/* The core's queues of requests (held, waiting, retried): FIFO on core_next. */
static inline void nvmf_req_fifo_push(struct nvmf_req **head, struct nvmf_req **tail,
				      struct nvmf_req *req)
{
	req->core_next = NULL;
	if (*tail)
		(*tail)->core_next = req;
	else
		*head = req;
	*tail = req;
}

/* A command leaves the submission queue (SQ head, outstanding). */
void nvmf_req_start(struct nvmf_req *req);
/* Complete req with status: the one way every command finishes. */
void nvmf_req_complete(struct nvmf_req *req, nvme_status st);

/* Copy between a flat buffer and the request's data buffers. */
size_t nvmf_req_copy_to(struct nvmf_req *req, const void *buf, size_t len);
size_t nvmf_req_copy_from(struct nvmf_req *req, void *buf, size_t len);
/* Zero the request's data buffers. */
void nvmf_req_zero(struct nvmf_req *req);

/* Zero copy on a poll group: map the read's data in its namespace (io.c). */
bool nvmf_io_zcopy_map(struct nvmf_req *req);

/* Fabrics (fabrics.c), admin (admin.c), I/O (io.c): parse only. */
nvme_status nvmf_fabrics_parse(struct nvmf_req *req);
nvme_status nvmf_admin_parse(struct nvmf_req *req);
nvme_status nvmf_io_parse(struct nvmf_req *req);

/* Controller life (ctrlr.c). */
struct nvmf_ctrlr *nvmf_ctrlr_create(struct nvmf_subsystem *s,
				     struct nvmf_qpair *admin,
				     const char *hostnqn, const uint8_t hostid[16],
				     uint32_t kato_ms);
/* Free without completing anything (target teardown). */
void nvmf_ctrlr_free(struct nvmf_ctrlr *c);
struct nvmf_ctrlr *nvmf_ctrlr_find(struct nvmf_subsystem *s, uint16_t cntlid);
int nvmf_ctrlr_add_io_qpair(struct nvmf_ctrlr *c, struct nvmf_qpair *qp);
/* Ask the transport to drop every queue of c (keep-alive, reset). */
void nvmf_ctrlr_disconnect(struct nvmf_ctrlr *c, bool io_only);
void nvmf_ctrlr_keep_alive(struct nvmf_ctrlr *c);
void nvmf_ctrlr_set_kato(struct nvmf_ctrlr *c, uint32_t kato_ms);
uint64_t nvmf_ctrlr_cap(const struct nvmf_ctrlr *c);
nvme_status nvmf_ctrlr_prop_get(struct nvmf_ctrlr *c, uint32_t ofst,
				uint8_t size, uint64_t *val);
nvme_status nvmf_ctrlr_prop_set(struct nvmf_ctrlr *c, uint32_t ofst,
				uint8_t size, uint64_t val);
/* AER: hold req, or complete it now if an event is pending. */
nvme_status nvmf_ctrlr_aer_hold(struct nvmf_ctrlr *c, struct nvmf_req *req);
/* Namespace attribute changed (nsid goes to the Changed Namespace List). */
void nvmf_ctrlr_ns_changed(struct nvmf_ctrlr *c, uint32_t nsid);
/* Discovery log page changed (discovery controllers). */
void nvmf_ctrlr_disc_changed(struct nvmf_ctrlr *c);
void nvmf_ctrlr_aen_clear(struct nvmf_ctrlr *c, uint8_t lid);

/* Discovery log (discovery.c): fill buf with the log as host sees it. */
size_t nvmf_discovery_log(struct nvmf_ctrlr *c, const struct nvmf_qpair *qp,
			  void **buf);

/* Identify helpers shared by admin and discovery. */
void nvmf_pad_copy(char *dst, size_t len, const char *src);

#endif
