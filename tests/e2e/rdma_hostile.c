/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * rdma_hostile: a raw NVMe-oF RDMA host (librdmacm + libibverbs, no kernel
 * host) that misbehaves on purpose (issue 12, "hostile input"). It connects
 * queues with the NVMe-oF RDMA CM private data, sends command capsules with
 * SEND, receives completions on posted receives, and serves the target's
 * RDMA READ/WRITE from its own registered memory (keyed SGLs). Each named
 * case checks one exact outcome: a completion's status (SCT, SC, DNR, and
 * CDW0 where the spec says what it holds), a CM reject status, or the queue
 * being disconnected. One line per case: "PASS name: ..." or
 * "FAIL name: expected X got Y"; exit status 1 if any case failed.
 *
 *   rdma_hostile -a ADDR -p PORT -n SUBNQN -h HOSTNQN -H HOSTNQN2
 *                [-d MAX_QUEUE_DEPTH] [-Q MAX_IO_QPAIRS] [-S SRQ_DEPTH]
 *                [-c IN_CAPSULE_SIZE] [-m MAX_IO_SIZE] [-b BLOCK_SIZE] [-o CASE] [-x CASE]
 * -o runs only CASE, -x all but CASE.
 * Both host NQNs must be allowed on SUBNQN (namespace 1, at least 1 MiB).
 * The wire formats are written here from the NVMe base and NVMe-oF specs,
 * not taken from the target, so that the two can disagree.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

/* ---- Wire formats (NVMe base 2.0, NVMe-oF 1.1, NVMe/RDMA binding) ---- */

struct sqe {
	uint8_t opc;
	uint8_t flags;		/* fuse 1:0, psdt 7:6 */
	uint16_t cid;
	uint32_t nsid;		/* fabrics: fctype in byte 4 */
	uint32_t cdw2, cdw3;
	uint64_t mptr;
	uint8_t sgl[16];
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
} __attribute__((packed));

struct cqe {
	uint32_t cdw0, cdw1;
	uint16_t sqhd, sqid, cid, status;
} __attribute__((packed));

struct cm_req {			/* RDMA CM private data, host to target */
	uint16_t recfmt, qid, hrqsize, hsqsize, cntlid;
	uint8_t rsvd[22];
} __attribute__((packed));

#define PSDT_SGL	0x40	/* 01b: SGLs, MPTR contiguous */
#define OPC_FABRICS	0x7F
#define FCT_PROP_SET	0x00
#define FCT_CONNECT	0x01
#define FCT_PROP_GET	0x04
#define OPC_WRITE	0x01
#define OPC_READ	0x02
#define OPC_IDENTIFY	0x06
#define OPC_KEEP_ALIVE	0x18
#define REG_CC		0x14
#define REG_CSTS	0x1C
#define SGL_KEYED	0x40	/* keyed data block, subtype address */
#define SGL_ICD		0x01	/* data block, subtype offset */
#define SGL_LAST_SEG	0x31	/* last segment, subtype offset */
#define CD_CNTLID	16	/* Connect data offsets */
#define CD_SUBNQN	256
#define CD_HOSTNQN	512
#define SQE_QID		42	/* Connect SQE byte offsets */
#define SQE_SQSIZE	44

/* Status as (DNR << 15) | (SCT << 8) | SC, the way we print it. */
#define ST(sct, sc, dnr)	((uint16_t)((dnr) << 15 | (sct) << 8 | (sc)))
#define DNR			1

/* ---- A queue ---- */

#define SLOTS		256	/* send capsules and receives */
#define SLOT_SZ		1024
#define RQ_SZ		64
#define BIG_SZ		(80 * 1024)
#define DATA_SZ		(512 * 1024)
#define OFF_RQ		(SLOTS * SLOT_SZ)
#define OFF_BIG		(OFF_RQ + SLOTS * RQ_SZ)
#define OFF_DATA	(OFF_BIG + BIG_SZ)
#define MEM_SZ		(OFF_DATA + DATA_SZ)
#define NCID		4096

struct hq {
	struct rdma_event_channel *ch;
	struct rdma_cm_id *id;
	struct ibv_pd *pd;
	struct ibv_cq *cq;
	struct ibv_mr *mr;
	uint8_t *mem;
	bool qp_made;
	bool up;		/* established */
	bool dead;		/* disconnected or a send failed */
	char why[96];
	uint16_t cid;
	unsigned int slot;
	int sends_out;
	uint8_t nseen[NCID];
	struct cqe cqe[NCID];
};

struct opts {
	const char *addr, *port, *subnqn, *host, *host2, *only, *skip;
	unsigned int qd, ioq, srq, icd, mdts, bs;
};

static struct opts o = { .qd = 32, .ioq = 2, .srq = 64, .icd = 4096,
			 .mdts = 131072, .bs = 512 };
/* On no allowlist. */
static const char *bad_host =
	"nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-0000000bad00";

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void hq_dead(struct hq *q, const char *why)
{
	if (!q->dead)
		snprintf(q->why, sizeof(q->why), "%s", why);
	q->dead = true;
}

static int hq_post_recv(struct hq *q, unsigned int i)
{
	struct ibv_sge sge = { (uintptr_t)(q->mem + OFF_RQ + i * RQ_SZ), RQ_SZ, q->mr->lkey };
	struct ibv_recv_wr wr = { .wr_id = i, .sg_list = &sge, .num_sge = 1 }, *bad;

	return ibv_post_recv(q->id->qp, &wr, &bad);
}

/* One CM event (any): 0, or -1 after ms. The event is acked by the caller. */
static int cm_get(struct hq *q, int ms, struct rdma_cm_event **ev)
{
	struct pollfd p = { q->ch->fd, POLLIN, 0 };

	if (!rdma_get_cm_event(q->ch, ev))
		return 0;
	if (poll(&p, 1, ms) <= 0)
		return -1;
	return rdma_get_cm_event(q->ch, ev);
}

/*
 * Wait for event want: 0; a reject: 1 with *rej the NVMe/RDMA status (-1 if
 * none came with it); anything else or a timeout: -1.
 */
static int cm_wait(struct hq *q, enum rdma_cm_event_type want, int *rej)
{
	struct rdma_cm_event *ev;
	const uint8_t *pd;
	int rc = -1;

	if (cm_get(q, 3000, &ev)) {
		snprintf(q->why, sizeof(q->why), "no CM event (want %s)", rdma_event_str(want));
		return -1;
	}
	if (ev->event == want) {
		rc = 0;
	} else if (ev->event == RDMA_CM_EVENT_REJECTED) {
		pd = ev->param.conn.private_data;
		*rej = pd && ev->param.conn.private_data_len >= 4 ? pd[2] | pd[3] << 8 : -1;
		rc = 1;
	} else {
		snprintf(q->why, sizeof(q->why), "CM event %s (status %d), want %s",
			 rdma_event_str(ev->event), ev->status, rdma_event_str(want));
	}
	rdma_ack_cm_event(ev);
	return rc;
}

static int hq_resolve(struct hq *q)
{
	struct addrinfo *ai;
	int rej, rc;

	q->ch = rdma_create_event_channel();
	if (!q->ch || rdma_create_id(q->ch, &q->id, q, RDMA_PS_TCP))
		return -1;
	fcntl(q->ch->fd, F_SETFL, fcntl(q->ch->fd, F_GETFL) | O_NONBLOCK);
	if (getaddrinfo(o.addr, o.port, NULL, &ai))
		return -1;
	rc = rdma_resolve_addr(q->id, NULL, ai->ai_addr, 2000);
	freeaddrinfo(ai);
	if (rc || cm_wait(q, RDMA_CM_EVENT_ADDR_RESOLVED, &rej))
		return -1;
	if (rdma_resolve_route(q->id, 2000) || cm_wait(q, RDMA_CM_EVENT_ROUTE_RESOLVED, &rej))
		return -1;
	return 0;
}

static int hq_verbs(struct hq *q)
{
	struct ibv_qp_init_attr a = { 0 };
	unsigned int i;

	q->pd = ibv_alloc_pd(q->id->verbs);
	q->cq = q->pd ? ibv_create_cq(q->id->verbs, 2 * SLOTS + 8, NULL, NULL, 0) : NULL;
	q->mem = aligned_alloc(4096, MEM_SZ);
	if (!q->cq || !q->mem)
		return -1;
	memset(q->mem, 0, MEM_SZ);
	q->mr = ibv_reg_mr(q->pd, q->mem, MEM_SZ, IBV_ACCESS_LOCAL_WRITE |
			   IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
	if (!q->mr)
		return -1;
	a.send_cq = a.recv_cq = q->cq;
	a.qp_type = IBV_QPT_RC;
	a.cap.max_send_wr = SLOTS;
	a.cap.max_recv_wr = SLOTS;
	a.cap.max_send_sge = a.cap.max_recv_sge = 1;
	a.sq_sig_all = 1;
	if (rdma_create_qp(q->id, q->pd, &a))
		return -1;
	q->qp_made = true;
	for (i = 0; i < SLOTS; i++)
		if (hq_post_recv(q, i))
			return -1;
	return 0;
}

/* Open a queue: 0 established, 1 rejected (*rej), -1 failed (q->why). */
static int hq_open(struct hq *q, uint16_t qid, uint16_t hsqsize, int *rej)
{
	struct cm_req req = { 0, qid, (uint16_t)(hsqsize + 1), hsqsize, 0xFFFF, { 0 } };
	struct rdma_conn_param p = { 0 };
	int rc;

	memset(q, 0, sizeof(*q));
	if (hq_resolve(q) || hq_verbs(q)) {
		if (!q->why[0])
			snprintf(q->why, sizeof(q->why), "setup: %s", strerror(errno));
		return -1;
	}
	p.private_data = &req;
	p.private_data_len = sizeof(req);
	p.responder_resources = 16;
	p.initiator_depth = 16;
	p.retry_count = 7;
	p.rnr_retry_count = 7;	/* infinite: a full receive queue only slows us */
	p.flow_control = 1;
	if (rdma_connect(q->id, &p)) {
		snprintf(q->why, sizeof(q->why), "rdma_connect: %s", strerror(errno));
		return -1;
	}
	rc = cm_wait(q, RDMA_CM_EVENT_ESTABLISHED, rej);
	q->up = rc == 0;
	return rc;
}

static void hq_close(struct hq *q)
{
	struct rdma_cm_event *ev;

	if (q->up && !q->dead && !rdma_disconnect(q->id)) {
		while (!cm_get(q, 1000, &ev)) {
			enum rdma_cm_event_type t = ev->event;

			rdma_ack_cm_event(ev);
			if (t == RDMA_CM_EVENT_DISCONNECTED)
				break;
		}
	}
	if (q->qp_made)
		rdma_destroy_qp(q->id);
	if (q->mr)
		ibv_dereg_mr(q->mr);
	if (q->cq)
		ibv_destroy_cq(q->cq);
	if (q->pd)
		ibv_dealloc_pd(q->pd);
	if (q->id)
		rdma_destroy_id(q->id);
	if (q->ch)
		rdma_destroy_event_channel(q->ch);
	free(q->mem);
	memset(q, 0, sizeof(*q));
}

static void hq_wc(struct hq *q, const struct ibv_wc *wc)
{
	char why[96];
	struct cqe c;

	if (!(wc->opcode & IBV_WC_RECV)) {
		q->sends_out--;
		if (wc->status != IBV_WC_SUCCESS) {
			snprintf(why, sizeof(why), "send completion: %s",
				 ibv_wc_status_str(wc->status));
			hq_dead(q, why);
		}
		return;
	}
	if (wc->status != IBV_WC_SUCCESS) {
		hq_dead(q, "receive flushed");
		return;
	}
	memcpy(&c, q->mem + OFF_RQ + wc->wr_id * RQ_SZ, sizeof(c));
	q->cqe[c.cid % NCID] = c;
	if (q->nseen[c.cid % NCID] < 255)
		q->nseen[c.cid % NCID]++;
	if (!q->dead && hq_post_recv(q, (unsigned int)wc->wr_id))
		hq_dead(q, "cannot repost a receive");
}

/* Completions and CM events: how many work completions were handled. */
static int hq_poll(struct hq *q)
{
	struct rdma_cm_event *ev;
	struct ibv_wc wc[32];
	int i, n;

	n = ibv_poll_cq(q->cq, 32, wc);
	for (i = 0; i < n; i++)
		hq_wc(q, &wc[i]);
	if (!rdma_get_cm_event(q->ch, &ev)) {
		char why[96];

		snprintf(why, sizeof(why), "CM %s", rdma_event_str(ev->event));
		rdma_ack_cm_event(ev);
		hq_dead(q, why);
	}
	if (n == 0)
		usleep(200);
	return n > 0 ? n : 0;
}

/* A fresh SQE in the next send slot, with the next command ID. */
static struct sqe *hq_sqe(struct hq *q, uint8_t opc)
{
	struct sqe *s;

	while (q->sends_out >= SLOTS && !q->dead)
		hq_poll(q);
	s = (struct sqe *)(q->mem + (q->slot % SLOTS) * SLOT_SZ);
	memset(s, 0, SLOT_SZ);
	s->opc = opc;
	s->flags = PSDT_SGL;
	s->cid = q->cid++ % NCID;
	q->nseen[s->cid] = 0;
	return s;
}

static int hq_send_buf(struct hq *q, void *buf, uint32_t len)
{
	struct ibv_sge sge = { (uintptr_t)buf, len, q->mr->lkey };
	struct ibv_send_wr wr = { .sg_list = &sge, .num_sge = 1, .opcode = IBV_WR_SEND,
				  .send_flags = IBV_SEND_SIGNALED }, *bad;

	if (ibv_post_send(q->id->qp, &wr, &bad)) {
		hq_dead(q, "ibv_post_send failed");
		return -1;
	}
	q->sends_out++;
	return 0;
}

/* Send the capsule of s: the SQE and icd bytes after it. */
static int hq_send(struct hq *q, struct sqe *s, uint32_t icd)
{
	q->slot++;
	return hq_send_buf(q, s, sizeof(*s) + icd);
}

static void sgl_keyed(struct sqe *s, const struct hq *q, uint32_t off, uint32_t len,
		      uint8_t type)
{
	uint64_t a = (uintptr_t)(q->mem + OFF_DATA + off);
	uint32_t k = q->mr->rkey;

	memcpy(s->sgl, &a, 8);
	s->sgl[8] = len & 0xFF;
	s->sgl[9] = len >> 8 & 0xFF;
	s->sgl[10] = len >> 16 & 0xFF;
	memcpy(&s->sgl[11], &k, 4);
	s->sgl[15] = type;
}

static void sgl_unkeyed(struct sqe *s, uint64_t addr, uint32_t len, uint8_t type)
{
	memcpy(s->sgl, &addr, 8);
	memcpy(&s->sgl[8], &len, 4);
	s->sgl[15] = type;
}

/* ---- Outcomes ---- */

enum out_kind { OUT_NONE, OUT_CQE, OUT_DISC, OUT_REJECT, OUT_COUNT, OUT_ERR };

struct outcome {
	enum out_kind kind;
	uint16_t st;		/* OUT_CQE: ST(); OUT_REJECT: the status */
	bool cdw0_set;
	uint32_t cdw0;
	unsigned int n, of;	/* OUT_COUNT: answered once with success, sent */
	char why[128];
};

static void out_str(const struct outcome *x, char *b, size_t len)
{
	switch (x->kind) {
	case OUT_CQE:
		snprintf(b, len, "status sct=0x%x sc=0x%02x dnr=%u", x->st >> 8 & 7,
			 x->st & 0xFF, x->st >> 15);
		if (x->cdw0_set)
			snprintf(b + strlen(b), len - strlen(b), " cdw0=0x%x", x->cdw0);
		break;
	case OUT_DISC:
		snprintf(b, len, "queue disconnected");
		break;
	case OUT_REJECT:
		snprintf(b, len, "CM reject, NVMe/RDMA status 0x%x", x->st);
		break;
	case OUT_COUNT:
		snprintf(b, len, "%u of %u commands answered once, with success", x->n, x->of);
		break;
	default:
		snprintf(b, len, "%s", x->why[0] ? x->why : "nothing");
	}
}

static struct outcome want_st(uint16_t st)
{
	return (struct outcome){ .kind = OUT_CQE, .st = st };
}

static struct outcome want_st0(uint16_t st, uint32_t cdw0)
{
	return (struct outcome){ .kind = OUT_CQE, .st = st, .cdw0_set = true, .cdw0 = cdw0 };
}

static struct outcome out_err(const char *what, const struct hq *q)
{
	struct outcome x = { .kind = OUT_ERR };

	snprintf(x.why, sizeof(x.why), "%s%s%s", what, q && q->why[0] ? ": " : "",
		 q ? q->why : "");
	return x;
}

static uint16_t cqe_st(const struct cqe *c)
{
	return (uint16_t)((c->status >> 15 & 1) << 15 | (c->status >> 9 & 7) << 8 |
			  (c->status >> 1 & 0xFF));
}

/* Wait for the completion of cid (ms): OUT_CQE, OUT_DISC or a timeout. */
static struct outcome hq_wait(struct hq *q, uint16_t cid, int ms)
{
	uint64_t end = now_ms() + (uint64_t)ms;
	struct outcome x = { 0 };

	while (!q->nseen[cid] && !q->dead && now_ms() < end)
		hq_poll(q);
	if (q->nseen[cid]) {
		x.kind = OUT_CQE;
		x.st = cqe_st(&q->cqe[cid]);
		x.cdw0 = q->cqe[cid].cdw0;
		return x;
	}
	if (q->dead) {
		x.kind = OUT_DISC;
		snprintf(x.why, sizeof(x.why), "%s", q->why);
		return x;
	}
	return out_err("no completion, no disconnect in time", NULL);
}

/* Send s (icd bytes of in-capsule data) and wait for its outcome. */
static struct outcome hq_cmd(struct hq *q, struct sqe *s, uint32_t icd)
{
	uint16_t cid = s->cid;

	if (hq_send(q, s, icd))
		return out_err("send", q);
	return hq_wait(q, cid, 3000);
}

/* ---- NVMe-oF steps ---- */

static struct sqe *connect_sqe(struct hq *q, uint16_t qid, uint16_t sqsize,
			       uint16_t cntlid, const char *subnqn, const char *host)
{
	struct sqe *s = hq_sqe(q, OPC_FABRICS);
	uint8_t *d = q->mem + OFF_DATA;

	s->nsid = FCT_CONNECT;
	s->cdw10 = (uint32_t)qid << 16;
	s->cdw11 = sqsize;
	memset(d, 0, 1024);
	memcpy(d + CD_CNTLID, &cntlid, 2);
	snprintf((char *)d + CD_SUBNQN, 256, "%s", subnqn);
	snprintf((char *)d + CD_HOSTNQN, 256, "%s", host);
	d[0] = 0x42;		/* host ID: any, not zero */
	sgl_keyed(s, q, 0, 1024, SGL_KEYED);
	return s;
}

static struct outcome prop(struct hq *q, uint8_t fct, uint32_t ofst, uint32_t val)
{
	struct sqe *s = hq_sqe(q, OPC_FABRICS);

	s->nsid = fct;
	s->cdw11 = ofst;
	s->cdw12 = val;
	return hq_cmd(q, s, 0);
}

struct ctrl {
	struct hq aq;
	uint16_t cntlid;
	const char *host;
};

/* Admin queue connected and CC.EN set, CSTS.RDY seen: 0, or -1 (why). */
static int ctrl_open(struct ctrl *c, const char *host, char *why, size_t len)
{
	struct outcome x;
	int rej = 0, i;

	c->host = host;
	if (hq_open(&c->aq, 0, 31, &rej)) {
		snprintf(why, len, "admin queue: %s (reject %d)", c->aq.why, rej);
		return -1;
	}
	x = hq_cmd(&c->aq, connect_sqe(&c->aq, 0, 31, 0xFFFF, o.subnqn, host), 0);
	if (x.kind != OUT_CQE || x.st) {
		snprintf(why, len, "admin Connect failed (0x%x %.60s)", x.st, x.why);
		return -1;
	}
	c->cntlid = (uint16_t)x.cdw0;
	/* CC: EN, IOSQES 6, IOCQES 4 */
	x = prop(&c->aq, FCT_PROP_SET, REG_CC, 0x00460001);
	for (i = 0; i < 100 && x.kind == OUT_CQE && !x.st; i++) {
		x = prop(&c->aq, FCT_PROP_GET, REG_CSTS, 0);
		if (x.kind == OUT_CQE && !x.st && (x.cdw0 & 1))
			return 0;
		usleep(10000);
	}
	snprintf(why, len, "controller %u not ready", c->cntlid);
	return -1;
}

/* An I/O queue of c: 0 connected, else -1 (why). */
static int io_open(struct hq *q, const struct ctrl *c, uint16_t qid, char *why, size_t len)
{
	struct outcome x;
	int rej = 0;

	if (hq_open(q, qid, (uint16_t)(o.qd - 1), &rej)) {
		snprintf(why, len, "I/O queue %u: %s (reject %d)", qid, q->why, rej);
		return -1;
	}
	x = hq_cmd(q, connect_sqe(q, qid, (uint16_t)(o.qd - 1), c->cntlid, o.subnqn,
				  c->host), 0);
	if (x.kind != OUT_CQE || x.st) {
		snprintf(why, len, "I/O Connect qid %u failed (0x%x %.60s)", qid, x.st, x.why);
		return -1;
	}
	return 0;
}

static struct sqe *rw_sqe(struct hq *q, uint8_t opc, uint64_t slba, uint32_t nlb)
{
	struct sqe *s = hq_sqe(q, opc);

	s->nsid = 1;
	s->cdw10 = (uint32_t)slba;
	s->cdw11 = (uint32_t)(slba >> 32);
	s->cdw12 = nlb - 1;
	return s;
}

/* A Read (nlb blocks) with a keyed SGL of len bytes. */
static struct sqe *read_sqe(struct hq *q, uint32_t nlb, uint32_t len)
{
	struct sqe *s = rw_sqe(q, OPC_READ, 0, nlb);

	sgl_keyed(s, q, 0, len, SGL_KEYED);
	return s;
}

/* ---- The cases ---- */

/* Shared by the cases: a controller with one I/O queue that stays up. */
struct env {
	struct ctrl w;
	struct hq wio;
};

typedef void (*case_fn)(struct env *e, struct outcome *want, struct outcome *got);

/* Run one command on a fresh controller's admin queue (io: its I/O queue 1). */
struct one {
	struct ctrl c;
	struct hq io;
	char why[128];
};

static int one_open(struct one *x, bool io)
{
	memset(x, 0, sizeof(*x));
	if (ctrl_open(&x->c, o.host, x->why, sizeof(x->why)))
		return -1;
	return io ? io_open(&x->io, &x->c, 1, x->why, sizeof(x->why)) : 0;
}

static void one_close(struct one *x)
{
	hq_close(&x->io);
	hq_close(&x->c.aq);
}

/* The witness still answers: others are not affected. */
static bool witness_ok(struct env *e, struct outcome *got)
{
	struct outcome x = hq_cmd(&e->wio, read_sqe(&e->wio, 8, 8 * o.bs), 0);

	if (x.kind == OUT_CQE && x.st == 0)
		return true;
	*got = out_err("the witness queue (another controller) failed a Read", &e->wio);
	return false;
}

#define ONE_IO(name, ...)						\
static void name(struct env *e, struct outcome *want, struct outcome *got) \
{									\
	struct one x;							\
	struct hq *q = &x.io;						\
	struct sqe *s;							\
									\
	(void)e;							\
	if (one_open(&x, true)) {					\
		*got = out_err(x.why, NULL);				\
		one_close(&x);						\
		return;							\
	}								\
	__VA_ARGS__							\
	one_close(&x);							\
}

#define ONE_ADMIN(name, ...)						\
static void name(struct env *e, struct outcome *want, struct outcome *got) \
{									\
	struct one x;							\
	struct hq *q = &x.c.aq;						\
	struct sqe *s;							\
									\
	(void)e;							\
	if (one_open(&x, false)) {					\
		*got = out_err(x.why, NULL);				\
		one_close(&x);						\
		return;							\
	}								\
	__VA_ARGS__							\
	one_close(&x);							\
}

/* Invalid Command Opcode (base 2.0, 4.2.3.1 / figure "Generic Command Status"). */
ONE_IO(c_io_unknown_opcode,
	s = hq_sqe(q, 0x84);
	s->nsid = 1;
	*want = want_st(ST(0, 0x01, DNR));
	*got = hq_cmd(q, s, 0);
)

/* A bidirectional opcode (low bits 11b): none is supported, Invalid Opcode. */
ONE_IO(c_io_unknown_opcode_bidir,
	s = hq_sqe(q, 0x83);
	s->nsid = 1;
	sgl_keyed(s, q, 0, 512, SGL_KEYED);
	*want = want_st(ST(0, 0x01, DNR));
	*got = hq_cmd(q, s, 0);
)

ONE_ADMIN(c_admin_unknown_opcode,
	s = hq_sqe(q, 0xC4);
	*want = want_st(ST(0, 0x01, DNR));
	*got = hq_cmd(q, s, 0);
)

/* Fabrics: an fctype the controller does not support is Invalid Opcode. */
ONE_ADMIN(c_fabrics_unknown_fctype,
	s = hq_sqe(q, OPC_FABRICS);
	s->nsid = 0x7C;
	*want = want_st(ST(0, 0x01, DNR));
	*got = hq_cmd(q, s, 0);
)

/* Property Get is an admin queue command: on an I/O queue, Invalid Opcode. */
ONE_IO(c_prop_get_on_io_queue,
	s = hq_sqe(q, OPC_FABRICS);
	s->nsid = FCT_PROP_GET;
	s->cdw11 = REG_CSTS;
	*want = want_st(ST(0, 0x01, DNR));
	*got = hq_cmd(q, s, 0);
)

/* Identify FUSES is 0: a FUSE field other than 00b is Invalid Field. */
ONE_IO(c_fused_first,
	s = read_sqe(q, 1, o.bs);
	s->flags |= 0x01;
	*want = want_st(ST(0, 0x02, DNR));
	*got = hq_cmd(q, s, 0);
)

ONE_IO(c_fused_second,
	s = rw_sqe(q, OPC_WRITE, 0, 1);
	sgl_keyed(s, q, 0, o.bs, SGL_KEYED);
	s->flags |= 0x02;
	*want = want_st(ST(0, 0x02, DNR));
	*got = hq_cmd(q, s, 0);
)

/* NVMe-oF: PSDT shall be 01b (SGL); PRP (00b) or reserved (11b): Invalid Field. */
ONE_IO(c_psdt_prp,
	s = read_sqe(q, 1, o.bs);
	s->flags = 0x00;
	*want = want_st(ST(0, 0x02, DNR));
	*got = hq_cmd(q, s, 0);
)

ONE_IO(c_psdt_reserved,
	s = read_sqe(q, 1, o.bs);
	s->flags = 0xC0;
	*want = want_st(ST(0, 0x02, DNR));
	*got = hq_cmd(q, s, 0);
)

/* SGL Descriptor Type Invalid (0x11): a type or subtype not supported. */
ONE_IO(c_sgl_unknown_type,
	s = read_sqe(q, 1, o.bs);
	s->sgl[15] = 0xE0;
	*want = want_st(ST(0, 0x11, DNR));
	*got = hq_cmd(q, s, 0);
)

ONE_IO(c_sgl_bit_bucket,
	s = read_sqe(q, 1, o.bs);
	s->sgl[15] = 0x10;
	*want = want_st(ST(0, 0x11, DNR));
	*got = hq_cmd(q, s, 0);
)

ONE_IO(c_sgl_keyed_bad_subtype,
	s = read_sqe(q, 1, o.bs);
	s->sgl[15] = 0x42;
	*want = want_st(ST(0, 0x11, DNR));
	*got = hq_cmd(q, s, 0);
)

/* In-capsule data (offset subtype) past what the capsule brought: 0x0f. */
ONE_IO(c_sgl_icd_beyond_received,
	s = rw_sqe(q, OPC_WRITE, 0, 1);
	sgl_unkeyed(s, 0, o.bs, SGL_ICD);
	*want = want_st(ST(0, 0x0F, DNR));
	*got = hq_cmd(q, s, o.bs / 2);
)

/* In-capsule length over the advertised in-capsule size (IOCCSZ): 0x0f. */
ONE_IO(c_sgl_icd_over_ioccsz,
	s = rw_sqe(q, OPC_WRITE, 0, (2 * o.icd) / o.bs);
	sgl_unkeyed(s, 0, 2 * o.icd, SGL_ICD);
	*want = want_st(ST(0, 0x0F, DNR));
	*got = hq_cmd(q, s, o.bs);
)

/* An offset outside the in-capsule data area: SGL Offset Invalid (0x16). */
ONE_IO(c_sgl_icd_offset_invalid,
	s = rw_sqe(q, OPC_WRITE, 0, 1);
	sgl_unkeyed(s, 2 * o.icd, o.bs, SGL_ICD);
	*want = want_st(ST(0, 0x16, DNR));
	*got = hq_cmd(q, s, o.bs);
)

/* In-capsule data on a command that reads: Invalid Field. */
ONE_IO(c_sgl_icd_on_read,
	s = rw_sqe(q, OPC_READ, 0, 1);
	sgl_unkeyed(s, 0, o.bs, SGL_ICD);
	*want = want_st(ST(0, 0x02, DNR));
	*got = hq_cmd(q, s, o.bs);
)

/* A keyed SGL longer than the controller takes (MDTS): Data SGL Length Invalid. */
ONE_IO(c_sgl_keyed_over_mdts,
	s = read_sqe(q, 2 * o.mdts / o.bs, 2 * o.mdts);
	*want = want_st(ST(0, 0x0F, DNR));
	*got = hq_cmd(q, s, 0);
)

/* A transfer over MDTS (SGL within it): Invalid Field (base 2.0, MDTS). */
ONE_IO(c_rw_over_mdts,
	s = read_sqe(q, 2 * o.mdts / o.bs, o.mdts);
	*want = want_st(ST(0, 0x02, DNR));
	*got = hq_cmd(q, s, 0);
)

/* SGL shorter than NLB * block size: Data SGL Length Invalid. */
ONE_IO(c_sgl_shorter_read,
	s = read_sqe(q, 8, 4 * o.bs);
	*want = want_st(ST(0, 0x0F, DNR));
	*got = hq_cmd(q, s, 0);
)

ONE_IO(c_sgl_shorter_write,
	s = rw_sqe(q, OPC_WRITE, 0, 8);
	sgl_keyed(s, q, 0, 4 * o.bs, SGL_KEYED);
	*want = want_st(ST(0, 0x0F, DNR));
	*got = hq_cmd(q, s, 0);
)

ONE_IO(c_sgl_keyed_zero_write,
	s = rw_sqe(q, OPC_WRITE, 0, 1);
	sgl_keyed(s, q, 0, 0, SGL_KEYED);
	*want = want_st(ST(0, 0x0F, DNR));
	*got = hq_cmd(q, s, 0);
)

/* Last segment lists: empty (0x0e), not whole descriptors (0x0d), > MSDBD (0x0e). */
ONE_IO(c_sgl_list_empty,
	s = read_sqe(q, 1, o.bs);
	sgl_unkeyed(s, 0, 0, SGL_LAST_SEG);
	*want = want_st(ST(0, 0x0E, DNR));
	*got = hq_cmd(q, s, 64);
)

ONE_IO(c_sgl_list_partial,
	s = read_sqe(q, 1, o.bs);
	sgl_unkeyed(s, 0, 24, SGL_LAST_SEG);
	*want = want_st(ST(0, 0x0D, DNR));
	*got = hq_cmd(q, s, 64);
)

ONE_IO(c_sgl_list_too_many,
	s = read_sqe(q, 1, o.bs);
	sgl_unkeyed(s, 0, 17 * 16, SGL_LAST_SEG);
	*want = want_st(ST(0, 0x0E, DNR));
	*got = hq_cmd(q, s, 17 * 16);
)

/*
 * A SEND bigger than the target's receive buffer: its receive completes in
 * error and the queue is disconnected; another controller goes on.
 */
static void oversized(struct env *e, struct outcome *want, struct outcome *got, bool io)
{
	struct one x;
	struct hq *q;
	struct sqe *s;
	uint32_t len = 2 * o.icd;

	*want = (struct outcome){ .kind = OUT_DISC };
	if (one_open(&x, io)) {
		*got = out_err(x.why, NULL);
		goto out;
	}
	q = io ? &x.io : &x.c.aq;
	s = (struct sqe *)(q->mem + OFF_BIG);
	memset(s, 0, BIG_SZ);
	if (io) {	/* a Write whose in-capsule data really comes, all 8 KiB */
		s->opc = OPC_WRITE;
		s->nsid = 1;
		s->cdw12 = len / o.bs - 1;
		sgl_unkeyed(s, 0, len, SGL_ICD);
	} else {	/* a Keep Alive in a 64 KiB capsule */
		s->opc = OPC_KEEP_ALIVE;
		len = BIG_SZ - 16 * 1024 - 64;
	}
	s->flags = PSDT_SGL;
	s->cid = q->cid++;
	q->nseen[s->cid] = 0;
	if (hq_send_buf(q, s, 64 + len)) {
		*got = out_err("send", q);
		goto out;
	}
	*got = hq_wait(q, s->cid, 5000);
	if (got->kind == OUT_DISC)
		witness_ok(e, got);
out:
	one_close(&x);
}

static void c_icd_longer_than_capsule(struct env *e, struct outcome *want,
				      struct outcome *got)
{
	oversized(e, want, got, true);
}

static void c_capsule_larger_than_recv_buffer(struct env *e, struct outcome *want,
					      struct outcome *got)
{
	oversized(e, want, got, false);
}

/* NVMe-oF: any command but Connect before Connect: Command Sequence Error. */
static void before_connect(struct outcome *want, struct outcome *got, uint16_t qid,
			   uint8_t opc)
{
	struct hq q;
	struct sqe *s;
	int rej = 0;

	*want = want_st(ST(0, 0x0C, DNR));
	if (hq_open(&q, qid, 31, &rej)) {
		*got = out_err("queue", &q);
	} else if (opc == OPC_FABRICS) {
		*got = prop(&q, FCT_PROP_GET, REG_CSTS, 0);
	} else {
		s = hq_sqe(&q, opc);
		if (opc == OPC_IDENTIFY) {
			s->cdw10 = 1;
			sgl_keyed(s, &q, 0, 4096, SGL_KEYED);
		} else {
			s->nsid = 1;
			sgl_keyed(s, &q, 0, o.bs, SGL_KEYED);
		}
		*got = hq_cmd(&q, s, 0);
	}
	hq_close(&q);
}

static void c_admin_before_connect(struct env *e, struct outcome *want, struct outcome *got)
{
	(void)e;
	before_connect(want, got, 0, OPC_IDENTIFY);
}

static void c_io_before_connect(struct env *e, struct outcome *want, struct outcome *got)
{
	(void)e;
	before_connect(want, got, 1, OPC_READ);
}

static void c_prop_get_before_connect(struct env *e, struct outcome *want,
				      struct outcome *got)
{
	(void)e;
	before_connect(want, got, 0, OPC_FABRICS);
}

ONE_ADMIN(c_second_connect,
	s = connect_sqe(q, 0, 31, 0xFFFF, o.subnqn, o.host);
	*want = want_st(ST(0, 0x0C, DNR));
	*got = hq_cmd(q, s, 0);
)

ONE_IO(c_second_connect_io,
	s = connect_sqe(q, 1, (uint16_t)(o.qd - 1), x.c.cntlid, o.subnqn, o.host);
	*want = want_st(ST(0, 0x0C, DNR));
	*got = hq_cmd(q, s, 0);
)

/* Read's opcode (0x02) on the admin queue is Get Log Page: LID 0 is not one. */
ONE_ADMIN(c_io_read_on_admin,
	s = read_sqe(q, 1, o.bs);
	*want = want_st(ST(1, 0x09, DNR));
	*got = hq_cmd(q, s, 0);
)

/* Write's opcode (0x01) on the admin queue is Create I/O SQ: not over fabrics. */
ONE_ADMIN(c_io_write_on_admin,
	s = rw_sqe(q, OPC_WRITE, 0, 1);
	sgl_keyed(s, q, 0, o.bs, SGL_KEYED);
	*want = want_st(ST(0, 0x01, DNR));
	*got = hq_cmd(q, s, 0);
)

/*
 * Connect refused. Connect Invalid Parameters (SCT 1, SC 0x82) carries in
 * CDW0 IATTR (bit 16: 1 = in the data, 0 = in the SQE) and IPO (the byte
 * offset); Connect Invalid Host is SC 0x84.
 */
static void connect_io_with(struct outcome *want, struct outcome *got, uint16_t cm_qid,
			    uint16_t qid, uint16_t sqsize, int cntlid_delta,
			    const char *subnqn, const char *host)
{
	struct one x;
	struct hq *q = &x.io;
	int rej = 0;

	(void)want;	/* set by the caller; CDW0 is compared when it says so */
	if (one_open(&x, false)) {
		*got = out_err(x.why, NULL);
	} else if (hq_open(q, cm_qid, (uint16_t)(o.qd - 1), &rej)) {
		*got = out_err("I/O queue", q);
	} else {
		*got = hq_cmd(q, connect_sqe(q, qid, sqsize,
					     (uint16_t)(x.c.cntlid + cntlid_delta),
					     subnqn, host), 0);
	}
	one_close(&x);
}

#define SC_INVALID_PARAM(iattr, ipo) want_st0(ST(1, 0x82, DNR), (iattr) << 16 | (ipo))

static void c_connect_io_bad_cntlid(struct env *e, struct outcome *want, struct outcome *got)
{
	(void)e;
	*want = SC_INVALID_PARAM(1, CD_CNTLID);
	connect_io_with(want, got, 1, 1, (uint16_t)(o.qd - 1), 100, o.subnqn, o.host);
}

static void c_connect_io_not_owner(struct env *e, struct outcome *want, struct outcome *got)
{
	(void)e;
	*want = SC_INVALID_PARAM(1, CD_HOSTNQN);
	connect_io_with(want, got, 1, 1, (uint16_t)(o.qd - 1), 0, o.subnqn, o.host2);
}

static void c_connect_io_bad_host(struct env *e, struct outcome *want, struct outcome *got)
{
	(void)e;
	*want = want_st(ST(1, 0x84, DNR));
	connect_io_with(want, got, 1, 1, (uint16_t)(o.qd - 1), 0, o.subnqn, bad_host);
}

static void c_connect_io_bad_subnqn(struct env *e, struct outcome *want, struct outcome *got)
{
	(void)e;
	*want = SC_INVALID_PARAM(1, CD_SUBNQN);
	connect_io_with(want, got, 1, 1, (uint16_t)(o.qd - 1), 0,
			"nqn.2016-06.io.spdk:no-such-subsystem", o.host);
}

static void c_connect_io_sqsize_over(struct env *e, struct outcome *want, struct outcome *got)
{
	(void)e;
	*want = SC_INVALID_PARAM(0, SQE_SQSIZE);
	connect_io_with(want, got, 1, 1, (uint16_t)o.qd, 0, o.subnqn, o.host);
}

static void c_connect_io_qid_over(struct env *e, struct outcome *want, struct outcome *got)
{
	(void)e;
	*want = SC_INVALID_PARAM(0, SQE_QID);
	connect_io_with(want, got, 1, (uint16_t)(o.ioq + 1), (uint16_t)(o.qd - 1), 0,
			o.subnqn, o.host);
}

/* Admin Connect from a host not on the subsystem's list: Connect Invalid Host. */
static void c_connect_admin_bad_host(struct env *e, struct outcome *want, struct outcome *got)
{
	struct hq q;
	int rej = 0;

	(void)e;
	*want = want_st(ST(1, 0x84, DNR));
	if (hq_open(&q, 0, 31, &rej))
		*got = out_err("admin queue", &q);
	else
		*got = hq_cmd(&q, connect_sqe(&q, 0, 31, 0xFFFF, o.subnqn, bad_host), 0);
	hq_close(&q);
}

/* The RDMA CM private data checked before any queue exists: rejects. */
static void cm_reject_case(struct outcome *want, struct outcome *got, uint16_t qid,
			   uint16_t hsqsize, uint16_t sts)
{
	struct hq q;
	int rej = -1, rc;

	*want = (struct outcome){ .kind = OUT_REJECT, .st = sts };
	rc = hq_open(&q, qid, hsqsize, &rej);
	if (rc == 1)
		*got = (struct outcome){ .kind = OUT_REJECT, .st = (uint16_t)rej };
	else
		*got = rc ? out_err("no reject", &q) : out_err("queue accepted", NULL);
	hq_close(&q);
}

static void c_cm_hsqsize_over(struct env *e, struct outcome *want, struct outcome *got)
{
	(void)e;
	cm_reject_case(want, got, 1, (uint16_t)o.qd, 0x04);	/* Invalid HSQSIZE */
}

static void c_cm_qid_over(struct env *e, struct outcome *want, struct outcome *got)
{
	(void)e;
	cm_reject_case(want, got, (uint16_t)(o.ioq + 1), 31, 0x03);	/* Invalid QID */
}

/* One block Read, or a Write of wlen bytes (slow: the target READs them first). */
static struct sqe *flood_sqe(struct hq *q, uint32_t wlen)
{
	struct sqe *s;

	if (!wlen)
		return read_sqe(q, 1, o.bs);
	s = rw_sqe(q, OPC_WRITE, 0, wlen / o.bs);
	sgl_keyed(s, q, 0, wlen, SGL_KEYED);
	return s;
}

/* Send n commands on each of nq queues at once; count the single successes. */
static struct outcome flood(struct hq **qs, int nq, unsigned int n, uint32_t wlen)
{
	struct outcome x = { .kind = OUT_COUNT };
	bool dup = false;
	uint64_t end;
	int i;

	for (i = 0; i < nq; i++) {
		qs[i]->cid = 0;
		for (unsigned int k = 0; k < n && !qs[i]->dead; k++)
			hq_send(qs[i], flood_sqe(qs[i], wlen), 0);
	}
	end = now_ms() + 20000;
	for (i = 0; i < nq; i++) {
		unsigned int got;

		do {
			got = 0;
			hq_poll(qs[i]);
			for (unsigned int k = 0; k < n; k++)
				got += qs[i]->nseen[k] == 1 && !cqe_st(&qs[i]->cqe[k]);
		} while (got < n && !qs[i]->dead && now_ms() < end);
		x.n += got;
		x.of += n;
		if (qs[i]->dead && got < n && !dup)
			snprintf(x.why, sizeof(x.why), "a queue died: %s", qs[i]->why);
		for (unsigned int k = 0; k < n && !dup; k++) {
			dup = qs[i]->nseen[k] > 1;
			if (dup)
				snprintf(x.why, sizeof(x.why), "cid %u answered %u times",
					 k, qs[i]->nseen[k]);
		}
	}
	if (dup)
		x.kind = OUT_ERR;	/* a command answered twice */
	return x;
}

/*
 * More commands than the queue holds (3 x (sqsize + 1) Writes of MDTS bytes,
 * which keep their requests while the target READs the data) without waiting
 * for a response: the host breaks the queue's flow control (NVMe/RDMA binding:
 * at most HSQSIZE + 1 outstanding). The target drops the queue: with a shared
 * receive queue the excess would hold receive buffers that every other queue
 * needs. What it answered before, it answered once.
 */
ONE_IO(c_queue_overflow,
	struct hq *qs[1] = { q };
	struct outcome f;

	(void)s;
	*want = (struct outcome){ .kind = OUT_DISC };
	f = flood(qs, 1, 3 * o.qd, o.mdts);
	if (f.kind == OUT_ERR) {
		*got = f;
	} else if (!q->dead) {
		*got = out_err("not disconnected", NULL);
		snprintf(got->why, sizeof(got->why), "not disconnected: %u of %u answered",
			 f.n, f.of);
	} else {
		*got = (struct outcome){ .kind = OUT_DISC };
		snprintf(got->why, sizeof(got->why), "%u of %u answered once before it (%.40s)",
			 f.n, f.of, q->why);
	}
)

/* Many queues each filling their depth, more capsules than the SRQ holds. */
static void c_srq_overflow(struct env *e, struct outcome *want, struct outcome *got)
{
	struct ctrl c[3];
	struct hq io[6], *qs[6];
	char why[128];
	int nq = 0, i, k;

	(void)e;
	memset(c, 0, sizeof(c));
	memset(io, 0, sizeof(io));
	*want = (struct outcome){ .kind = OUT_COUNT, .n = 6 * o.qd, .of = 6 * o.qd };
	for (i = 0; i < 3; i++) {
		if (ctrl_open(&c[i], o.host, why, sizeof(why)))
			goto fail;
		for (k = 1; k <= 2; k++, nq++) {
			if (io_open(&io[nq], &c[i], (uint16_t)k, why, sizeof(why)))
				goto fail;
			qs[nq] = &io[nq];
		}
	}
	*got = flood(qs, nq, o.qd, 0);
	goto out;
fail:
	*got = out_err(why, NULL);
out:
	for (i = 0; i < 6; i++)
		hq_close(&io[i]);
	for (i = 0; i < 3; i++)
		hq_close(&c[i].aq);
}

static const struct {
	const char *name;
	case_fn fn;
} cases[] = {
	{ "io_unknown_opcode", c_io_unknown_opcode },
	{ "io_unknown_opcode_bidir", c_io_unknown_opcode_bidir },
	{ "admin_unknown_opcode", c_admin_unknown_opcode },
	{ "fabrics_unknown_fctype", c_fabrics_unknown_fctype },
	{ "prop_get_on_io_queue", c_prop_get_on_io_queue },
	{ "fused_first", c_fused_first },
	{ "fused_second", c_fused_second },
	{ "psdt_prp", c_psdt_prp },
	{ "psdt_reserved", c_psdt_reserved },
	{ "sgl_unknown_type", c_sgl_unknown_type },
	{ "sgl_bit_bucket", c_sgl_bit_bucket },
	{ "sgl_keyed_bad_subtype", c_sgl_keyed_bad_subtype },
	{ "sgl_icd_beyond_received", c_sgl_icd_beyond_received },
	{ "sgl_icd_over_ioccsz", c_sgl_icd_over_ioccsz },
	{ "sgl_icd_offset_invalid", c_sgl_icd_offset_invalid },
	{ "sgl_icd_on_read", c_sgl_icd_on_read },
	{ "sgl_keyed_over_mdts", c_sgl_keyed_over_mdts },
	{ "rw_over_mdts", c_rw_over_mdts },
	{ "sgl_shorter_read", c_sgl_shorter_read },
	{ "sgl_shorter_write", c_sgl_shorter_write },
	{ "sgl_keyed_zero_write", c_sgl_keyed_zero_write },
	{ "sgl_list_empty", c_sgl_list_empty },
	{ "sgl_list_partial", c_sgl_list_partial },
	{ "sgl_list_too_many", c_sgl_list_too_many },
	{ "icd_longer_than_capsule", c_icd_longer_than_capsule },
	{ "capsule_larger_than_recv_buffer", c_capsule_larger_than_recv_buffer },
	{ "admin_before_connect", c_admin_before_connect },
	{ "io_before_connect", c_io_before_connect },
	{ "prop_get_before_connect", c_prop_get_before_connect },
	{ "second_connect", c_second_connect },
	{ "second_connect_io", c_second_connect_io },
	{ "io_read_on_admin", c_io_read_on_admin },
	{ "io_write_on_admin", c_io_write_on_admin },
	{ "connect_io_bad_cntlid", c_connect_io_bad_cntlid },
	{ "connect_io_not_owner", c_connect_io_not_owner },
	{ "connect_io_bad_host", c_connect_io_bad_host },
	{ "connect_io_bad_subnqn", c_connect_io_bad_subnqn },
	{ "connect_admin_bad_host", c_connect_admin_bad_host },
	{ "connect_io_sqsize_over", c_connect_io_sqsize_over },
	{ "connect_io_qid_over", c_connect_io_qid_over },
	{ "cm_hsqsize_over", c_cm_hsqsize_over },
	{ "cm_qid_over", c_cm_qid_over },
	{ "queue_overflow", c_queue_overflow },
	{ "srq_overflow", c_srq_overflow },
};

static bool out_eq(const struct outcome *a, const struct outcome *b)
{
	if (a->kind != b->kind)
		return false;
	switch (a->kind) {
	case OUT_CQE:
		return a->st == b->st && (!a->cdw0_set || a->cdw0 == b->cdw0);
	case OUT_REJECT:
		return a->st == b->st;
	case OUT_COUNT:
		return a->n == b->n && a->of == b->of;
	default:
		return a->kind == OUT_DISC;
	}
}

static bool run_case(struct env *e, int i)
{
	struct outcome want = { 0 }, got = { 0 };
	char w[192], g[192];
	uint64_t t0 = now_ms();
	bool ok;

	cases[i].fn(e, &want, &got);
	if (want.cdw0_set && got.kind == OUT_CQE)
		got.cdw0_set = true;
	ok = out_eq(&want, &got);
	out_str(&want, w, sizeof(w));
	out_str(&got, g, sizeof(g));
	if (ok)
		printf("PASS %s: %s%s%s (%llu ms)\n", cases[i].name, g, got.why[0] ? ", " : "",
		       got.why, (unsigned long long)(now_ms() - t0));
	else
		printf("FAIL %s: expected %s got %s\n", cases[i].name, w, g);
	fflush(stdout);
	return ok;
}

static int usage(const char *me)
{
	fprintf(stderr, "usage: %s -a ADDR -p PORT -n SUBNQN -h HOSTNQN -H HOSTNQN2 "
		"[-d MAX_QUEUE_DEPTH] [-Q MAX_IO_QPAIRS] [-S SRQ_DEPTH] [-c IN_CAPSULE] "
		"[-m MAX_IO_SIZE] [-b BLOCK_SIZE] [-o CASE] [-x CASE]\n", me);
	return 2;
}

static int parse_args(int argc, char **argv)
{
	int ch;

	while ((ch = getopt(argc, argv, "a:p:n:h:H:d:Q:S:c:m:b:o:x:")) != -1) {
		switch (ch) {
		case 'a': o.addr = optarg; break;
		case 'p': o.port = optarg; break;
		case 'n': o.subnqn = optarg; break;
		case 'h': o.host = optarg; break;
		case 'H': o.host2 = optarg; break;
		case 'd': o.qd = (unsigned int)atoi(optarg); break;
		case 'Q': o.ioq = (unsigned int)atoi(optarg); break;
		case 'S': o.srq = (unsigned int)atoi(optarg); break;
		case 'c': o.icd = (unsigned int)atoi(optarg); break;
		case 'm': o.mdts = (unsigned int)atoi(optarg); break;
		case 'b': o.bs = (unsigned int)atoi(optarg); break;
		case 'o': o.only = optarg; break;
		case 'x': o.skip = optarg; break;
		default: return -1;
		}
	}
	if (!o.addr || !o.port || !o.subnqn || !o.host || !o.host2 || o.qd < 2 ||
	    o.qd > 64 || !o.bs || o.icd < 2 * o.bs || o.mdts > 2 * 1024 * 1024 / 8)
		return -1;
	return 0;
}

int main(int argc, char **argv)
{
	struct env e;
	char why[128];
	int i, fails = 0, ran = 0;

	if (parse_args(argc, argv))
		return usage(argv[0]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	memset(&e, 0, sizeof(e));
	if (ctrl_open(&e.w, o.host, why, sizeof(why)) ||
	    io_open(&e.wio, &e.w, 1, why, sizeof(why))) {
		printf("FAIL setup: expected a working controller got %s\n", why);
		return 1;
	}
	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		if ((o.only && strcmp(o.only, cases[i].name)) ||
		    (o.skip && !strcmp(o.skip, cases[i].name)))
			continue;
		ran++;
		fails += !run_case(&e, i);
	}
	if (!witness_ok(&e, &(struct outcome){ 0 })) {
		printf("FAIL witness: expected the first controller to work to the end\n");
		fails++;
	}
	hq_close(&e.wio);
	hq_close(&e.w.aq);
	printf("rdma_hostile: %d cases, %d passed, %d failed\n", ran, ran - fails, fails);
	return fails ? 1 : 0;
}
