/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Poll groups in the core (target/group.c): an I/O queue placed on a group
 * runs its commands on the group's thread once connected; a subsystem
 * paused from the main thread waits for the group's I/O in flight, holds
 * what comes meanwhile and runs it against the new namespaces on resume;
 * a deleted subsystem aborts what was held. Each command completes exactly
 * once. The backend is a delay bdev over a file through libaio (the group's
 * own aio context), so I/O really is in flight on the group while the main
 * thread pauses. Built under ASan/UBSan and under
 * ThreadSanitizer (`make tsan`). CUnit is not thread-safe: the group thread
 * only records; the main thread asserts.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "target/config.h"
#include "target/core.h"
#include "target/thread.h"
#include "tests/unit/ut.h"

#define NQN	"nqn.2016-06.io.spdk:cnode1"
#define HOSTNQN	"nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555"
#define NREQ	16
/* Long enough that a loaded machine still has the first I/O in flight when the pause starts. */
#define DELAY_US 200000

static const char g_cfg_fmt[] =
	"{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":["
	"{\"method\":\"bdev_aio_create\",\"params\":{\"name\":\"m0\",\"filename\":\"%s/f0\","
	"\"block_size\":512}},"
	"{\"method\":\"bdev_aio_create\",\"params\":{\"name\":\"m1\",\"filename\":\"%s/f1\","
	"\"block_size\":512}},"
	"{\"method\":\"bdev_delay_create\",\"params\":{\"name\":\"d0\",\"base_bdev_name\":\"m0\","
	"\"avg_read_latency\":200000,\"p99_read_latency\":200000,"
	"\"avg_write_latency\":200000,\"p99_write_latency\":200000}}]},"
	"{\"subsystem\":\"nvmf\",\"config\":["
	"{\"method\":\"nvmf_create_subsystem\",\"params\":{\"nqn\":\"" NQN "\","
	"\"allow_any_host\":true}},"
	"{\"method\":\"nvmf_subsystem_add_ns\",\"params\":{\"nqn\":\"" NQN "\","
	"\"namespace\":{\"bdev_name\":\"d0\",\"nsid\":1}}}]}]}";

struct greq {
	struct nvmf_req req;
	struct nvme_cmd cmd;
	struct nvme_cpl cpl;
	atomic_int done;	/* completions seen (exactly one expected) */
	atomic_int taken;	/* 1: the group ran it, 2: sent on (false) */
	uint8_t buf[1024];	/* data; Connect's is 1024 bytes */
};

static atomic_int g_completions;

static void g_req_complete(struct nvmf_req *req)
{
	struct greq *r = (struct greq *)req;

	atomic_fetch_add_explicit(&r->done, 1, memory_order_release);
	atomic_fetch_add_explicit(&g_completions, 1, memory_order_release);
	/*
	 * Then, as the transport does once the data has left, zero copy ends;
	 * that may answer a pause, so the completion is recorded first.
	 */
	if (req->core_zsg)
		nvmf_group_zcopy_end(req);
}

static void g_qpair_disconnect(struct nvmf_qpair *qp)
{
	nvmf_qpair_fini(qp);
}

static uint32_t g_ioccsz(const struct nvmf_transport *t)
{
	return 64 + t->opts.in_capsule_data_size;
}

static const struct nvmf_transport_ops g_ops = {
	.name = "GROUPTEST",
	.req_complete = g_req_complete,
	.qpair_disconnect = g_qpair_disconnect,
	.ioccsz_bytes = g_ioccsz,
	.msdbd = 1,
};

static struct nvmf_transport g_t;
static struct nvmf_tgt *g_tgt;
static struct nvmf_poll_group *g_pg;
static struct nvmf_thread *g_th;
static struct nvmf_qpair g_admin, g_io;
static char g_dir[64];

static nvme_status status_of(const struct greq *r)
{
	return (nvme_status)((((r->cpl.status >> 9) & 0x7) << 8) | ((r->cpl.status >> 1) & 0xFF));
}

static void greq_init(struct greq *r, struct nvmf_qpair *qp, const struct nvme_cmd *cmd,
		      const void *data, uint32_t len)
{
	memset(&r->req, 0, sizeof(r->req));
	atomic_store(&r->done, 0);
	atomic_store(&r->taken, 0);
	r->req.qpair = qp;
	r->req.cmd = &r->cmd;
	r->req.cpl = &r->cpl;
	r->cmd = *cmd;
	if (len > sizeof(r->buf))
		abort();	/* a bug in this test */
	if (data)
		memcpy(r->buf, data, len);
	if (len) {
		r->req.iov[0].iov_base = r->buf;
		r->req.iov[0].iov_len = len;
		r->req.iovcnt = 1;
		r->req.length = len;
	}
	r->req.xfer = nvmf_req_xfer(&r->req);
}

/* On the main thread, as a transport's forwarded command. */
static nvme_status main_cmd(struct nvmf_qpair *qp, const struct nvme_cmd *cmd,
			    const void *data, uint32_t len, uint32_t *cdw0)
{
	struct greq *r = calloc(1, sizeof(*r));
	nvme_status st;

	greq_init(r, qp, cmd, data, len);
	nvmf_req_exec(&r->req);
	for (int i = 0; !atomic_load(&r->done) && i < 5000; i++)
		nvmf_loop_once(g_tgt, 1);
	st = atomic_load(&r->done) == 1 ? status_of(r) : 0xFFFF;	/* (setup: no CU asserts) */
	if (cdw0)
		*cdw0 = r->cpl.cdw0;
	free(r);
	return st;
}

static nvme_status connect(struct nvmf_qpair *qp, uint16_t qid, uint16_t cntlid,
			   uint32_t *cdw0)
{
	struct nvmf_connect_data d;
	struct nvme_cmd c = { .opc = NVME_OPC_FABRICS, .cid = 0x10,
			      .nsid = NVMF_FCTYPE_CONNECT };

	memset(&d, 0, sizeof(d));
	d.cntlid = cntlid;
	strcpy(d.subnqn, NQN);
	strcpy(d.hostnqn, HOSTNQN);
	c.cdw10 = (uint32_t)qid << 16;
	c.cdw11 = 31;
	return main_cmd(qp, &c, &d, sizeof(d), cdw0);
}

static nvme_status prop_set(uint32_t ofst, uint32_t val)
{
	struct nvme_cmd c = { .opc = NVME_OPC_FABRICS, .cid = 3,
			      .nsid = NVMF_FCTYPE_PROPERTY_SET, .cdw11 = ofst, .cdw12 = val };

	return main_cmd(&g_admin, &c, NULL, 0, NULL);
}

/* ---- the group's side ---- */

static int grp_init(void *arg)
{
	nvmf_poll_group_bind(arg);
	return 0;
}

static void grp_fini(void *arg)
{
	nvmf_poll_group_unbind(arg);
}

static void grp_submit_msg(void *arg)
{
	struct greq *r = arg;
	bool zcopy = r->req.core_zsg != NULL;

	/*
	 * A zero-copy read may complete and answer a pause inside exec:
	 * it is the group's to run, so say so first.
	 */
	if (zcopy)
		atomic_store(&r->taken, 1);
	if (!nvmf_group_req_exec(&r->req))
		atomic_store(&r->taken, 2);
	else if (!zcopy)
		atomic_store(&r->taken, 1);
}

static void rw_cmd(struct nvme_cmd *c, uint8_t opc, uint16_t cid, uint64_t slba)
{
	memset(c, 0, sizeof(*c));
	c->opc = opc;
	c->cid = cid;
	c->nsid = 1;
	c->cdw10 = (uint32_t)slba;
	c->cdw11 = (uint32_t)(slba >> 32);
}

/* Send each request to the group; wait until it has taken them all. */
static void group_submit(struct greq *r, int n)
{
	for (int i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(nvmf_thread_send(g_th, grp_submit_msg, &r[i]), 0);
	for (int i = 0; i < n; i++) {
		for (int t = 0; !atomic_load(&r[i].taken) && t < 50000; t++)
			nanosleep(&(struct timespec){ 0, 100000 }, NULL);
		CU_ASSERT_EQUAL(atomic_load(&r[i].taken), 1);
	}
}

static int wait_done(struct greq *r, int n, int ms)
{
	int done = 0;

	for (int t = 0; t < ms * 10; t++) {
		done = 0;
		for (int i = 0; i < n; i++)
			done += atomic_load(&r[i].done) != 0;
		if (done == n)
			break;
		nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	}
	return done;
}

static int make_file(const char *name)
{
	char path[128];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/%s", g_dir, name);
	f = fopen(path, "w");
	if (!f)
		return -1;
	rc = ftruncate(fileno(f), 1 << 20);
	fclose(f);
	return rc;
}

static int setup(void)
{
	char cfg[sizeof(g_cfg_fmt) + 2 * sizeof(g_dir)];
	uint32_t cdw0 = 0;

	strcpy(g_dir, "/var/tmp/group_ut.XXXXXX");
	if (!mkdtemp(g_dir) || make_file("f0") || make_file("f1"))
		return 1;
	snprintf(cfg, sizeof(cfg), g_cfg_fmt, g_dir, g_dir);
	g_tgt = nvmf_tgt_create();
	if (!g_tgt || nvmf_config_load_string(g_tgt, cfg, "test", 0))
		return 1;
	g_tgt->state = NVMF_TGT_RUNNING;
	g_t.ops = &g_ops;
	g_t.tgt = g_tgt;
	g_t.opts = g_tgt->topts;
	g_pg = nvmf_poll_group_create(g_tgt, 1);
	if (!g_pg)
		return 1;
	g_th = nvmf_thread_start(g_tgt, "pg1", -1, grp_init, g_pg);
	if (!g_th)
		return 1;
	nvmf_poll_group_started(g_pg, g_th);

	nvmf_qpair_init(&g_admin, &g_t);
	if (connect(&g_admin, 0, 0xFFFF, &cdw0) || prop_set(NVME_REG_CC, 0x460001))
		return 1;
	nvmf_qpair_init(&g_io, &g_t);
	g_io.group = g_pg;
	return connect(&g_io, 1, (uint16_t)cdw0, NULL) ? 1 : 0;
}

static int teardown(void)
{
	if (g_th) {
		nvmf_poll_group_started(g_pg, NULL);
		nvmf_thread_stop(g_th, grp_fini, g_pg);
	}
	nvmf_poll_group_destroy(g_pg);
	nvmf_tgt_destroy(g_tgt);
	for (const char *f = "f0"; f; f = strcmp(f, "f0") ? NULL : "f1") {
		char path[128];

		snprintf(path, sizeof(path), "%s/%s", g_dir, f);
		unlink(path);
	}
	rmdir(g_dir);
	return 0;
}

/* ---- tests ---- */

static void test_placement(void)
{
	struct nvmf_qpair other;
	struct greq r;
	struct nvme_cmd c;

	/* Not connected yet: the main thread's (Connect runs there). */
	nvmf_qpair_init(&other, &g_t);
	other.group = g_pg;
	rw_cmd(&c, NVME_OPC_READ, 1, 0);
	greq_init(&r, &other, &c, NULL, 512);
	CU_ASSERT_EQUAL_FATAL(nvmf_thread_send(g_th, grp_submit_msg, &r), 0);
	for (int t = 0; !atomic_load(&r.taken) && t < 50000; t++)
		nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	CU_ASSERT_EQUAL(atomic_load(&r.taken), 2);
	/* On the main thread nothing is a group's to run. */
	greq_init(&r, &g_io, &c, NULL, 512);
	CU_ASSERT_FALSE(nvmf_group_req_exec(&r.req));
	CU_ASSERT_EQUAL(nvmf_thread_index(), 0);
}

static void test_io_runs_on_group(void)
{
	static struct greq w[NREQ], rd[NREQ];
	struct nvme_cmd c;
	int bad = 0;

	for (int i = 0; i < NREQ; i++) {
		uint8_t pat[512];

		memset(pat, 0xA0 + i, sizeof(pat));
		rw_cmd(&c, NVME_OPC_WRITE, (uint16_t)i, (uint64_t)i);
		greq_init(&w[i], &g_io, &c, pat, sizeof(pat));
	}
	group_submit(w, NREQ);
	CU_ASSERT_EQUAL(wait_done(w, NREQ, 5000), NREQ);
	for (int i = 0; i < NREQ; i++) {
		rw_cmd(&c, NVME_OPC_READ, (uint16_t)(100 + i), (uint64_t)i);
		greq_init(&rd[i], &g_io, &c, NULL, 512);
	}
	group_submit(rd, NREQ);
	CU_ASSERT_EQUAL(wait_done(rd, NREQ, 5000), NREQ);
	for (int i = 0; i < NREQ; i++) {
		CU_ASSERT_EQUAL(atomic_load(&w[i].done), 1);
		CU_ASSERT_EQUAL(status_of(&w[i]), 0);
		CU_ASSERT_EQUAL(status_of(&rd[i]), 0);
		CU_ASSERT_EQUAL(rd[i].cpl.sqid, 1);
		CU_ASSERT_EQUAL(rd[i].cpl.cid, 100 + i);
		for (int b = 0; b < 512; b++)
			bad += rd[i].buf[b] != (uint8_t)(0xA0 + i);
	}
	CU_ASSERT_EQUAL(bad, 0);
	/* The group's counters, not the main thread's. */
	CU_ASSERT_EQUAL(nvmf_stat_get(&g_pg->completed_io), 2 * NREQ);
	CU_ASSERT_EQUAL(nvmf_stat_get(&g_pg->io_inflight), 0);
	CU_ASSERT_EQUAL(g_tgt->completed_io, 0);
}

static void test_pause_drains_holds_resumes(void)
{
	static struct greq inflight[NREQ], held[NREQ], after[NREQ];
	struct nvmf_subsystem *s = nvmf_subsystem_find(g_tgt, NQN);
	struct bdev *m1 = bdev_find(g_tgt, "m1");
	struct nvmf_ns ns = { .nsid = 1, .bdev = m1 };
	struct nvme_cmd c;
	int n = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m1);
	/* In flight on the group (DELAY_US each) when the pause starts. */
	for (int i = 0; i < NREQ; i++) {
		rw_cmd(&c, NVME_OPC_READ, (uint16_t)i, (uint64_t)i);
		greq_init(&inflight[i], &g_io, &c, NULL, 512);
	}
	group_submit(inflight, NREQ);
	CU_ASSERT_EQUAL(wait_done(inflight, NREQ, 0), 0);
	nvmf_subsystem_pause(s);
	/* It returned only once they were done. */
	for (int i = 0; i < NREQ; i++)
		n += atomic_load(&inflight[i].done);
	CU_ASSERT_EQUAL(n, NREQ);

	/* Paused: new commands are held, not run. */
	for (int i = 0; i < NREQ; i++) {
		rw_cmd(&c, NVME_OPC_READ, (uint16_t)(200 + i), (uint64_t)i);
		greq_init(&held[i], &g_io, &c, NULL, 512);
	}
	group_submit(held, NREQ);
	CU_ASSERT_EQUAL(wait_done(held, NREQ, 3 * DELAY_US / 1000), 0);

	/* The change: namespace 1 goes (a nested pause), ... */
	CU_ASSERT_EQUAL(nvmf_subsystem_remove_ns(s, 1), 0);
	CU_ASSERT_EQUAL(wait_done(held, NREQ, 1), 0);
	nvmf_subsystem_resume(s);
	/* ... and what was held runs against that: Invalid Namespace, once each. */
	CU_ASSERT_EQUAL(wait_done(held, NREQ, 5000), NREQ);
	for (int i = 0; i < NREQ; i++) {
		CU_ASSERT_EQUAL(atomic_load(&held[i].done), 1);
		CU_ASSERT_EQUAL(status_of(&held[i]), NVME_SC_INVALID_NS);
		CU_ASSERT_EQUAL(held[i].cpl.cid, 200 + i);
	}

	/* A new namespace 1 (the file, no delay) serves the group at once. */
	CU_ASSERT_EQUAL(nvmf_subsystem_add_ns(s, &ns), 0);
	for (int i = 0; i < NREQ; i++) {
		rw_cmd(&c, NVME_OPC_READ, (uint16_t)(300 + i), (uint64_t)i);
		greq_init(&after[i], &g_io, &c, NULL, 512);
	}
	group_submit(after, NREQ);
	CU_ASSERT_EQUAL(wait_done(after, NREQ, 5000), NREQ);
	for (int i = 0; i < NREQ; i++)
		CU_ASSERT_EQUAL(status_of(&after[i]), 0);
	for (int i = 0; i < NREQ; i++)
		CU_ASSERT_EQUAL(atomic_load(&inflight[i].done), 1);
}

/* ---- zero copy on the group: a RAM-like bdev whose data is mapped in place ---- */

static uint8_t g_zmem[64 * 512];

static void z_submit(struct bdev *b, struct nvmf_req *req, enum bdev_op op, uint64_t off,
		     uint64_t len, bool fua)
{
	(void)b; (void)op; (void)off; (void)len; (void)fua;
	bdev_io_done(req, 0);
}

static int z_zcopy(struct bdev *b, uint64_t off, uint64_t len, struct iovec *iov, int max_iov,
		   int *iovcnt)
{
	(void)b; (void)max_iov;
	iov[0].iov_base = g_zmem + off;
	iov[0].iov_len = len;
	*iovcnt = 1;
	return 0;
}

static void z_destroy(struct bdev *b)
{
	free(b);
}

static const struct bdev_ops z_ops = {
	.type = "ztest", .submit = z_submit, .zcopy = z_zcopy, .destroy = z_destroy,
};

static void grp_zcopy_msg(void *arg)
{
	struct greq *r = arg;

	atomic_store(&r->taken, nvmf_group_zcopy_start(&r->req) ? 1 : 2);
}

static void *late_exec(void *arg)
{
	nanosleep(&(struct timespec){ 0, 100000000 }, NULL);	/* the pause is waiting */
	while (nvmf_thread_send(g_th, grp_submit_msg, arg) == -ENOBUFS)
		;
	return NULL;
}

/*
 * A read mapped in place counts as in flight until its data has left: the
 * pause waits for it, and its exec runs even though the subsystem is paused
 * meanwhile (holding it would wait on itself).
 */
static void test_zcopy_pauses(void)
{
	static struct greq z;
	struct nvmf_subsystem *s = nvmf_subsystem_find(g_tgt, NQN);
	struct nvmf_ns ns = { .nsid = 2 };
	struct nvme_cmd c;
	pthread_t t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL_FATAL(bdev_plain_create(g_tgt, &z_ops, "z", 512, 64, NULL, &ns.bdev), 0);
	CU_ASSERT_EQUAL_FATAL(nvmf_subsystem_add_ns(s, &ns), 0);
	memset(g_zmem + 512, 0x5A, 512);
	rw_cmd(&c, NVME_OPC_READ, 500, 1);
	c.nsid = 2;
	greq_init(&z, &g_io, &c, NULL, 512);
	CU_ASSERT_EQUAL_FATAL(nvmf_thread_send(g_th, grp_zcopy_msg, &z), 0);
	for (int t = 0; !atomic_load(&z.taken) && t < 50000; t++)
		nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	CU_ASSERT_EQUAL_FATAL(atomic_load(&z.taken), 1);
	CU_ASSERT_PTR_EQUAL(z.req.iov[0].iov_base, g_zmem + 512);

	atomic_store(&z.taken, 0);
	CU_ASSERT_EQUAL_FATAL(pthread_create(&t, NULL, late_exec, &z), 0);
	nvmf_subsystem_pause(s);
	/* It returned only once the read had run and its data had left. */
	CU_ASSERT_EQUAL(atomic_load(&z.taken), 1);
	CU_ASSERT_EQUAL(atomic_load(&z.done), 1);
	CU_ASSERT_EQUAL(status_of(&z), 0);
	nvmf_subsystem_resume(s);
	pthread_join(t, NULL);
	/* Paused, nothing is mapped in place: buffers, and the command waits. */
	nvmf_subsystem_pause(s);
	greq_init(&z, &g_io, &c, NULL, 512);
	CU_ASSERT_EQUAL_FATAL(nvmf_thread_send(g_th, grp_zcopy_msg, &z), 0);
	for (int t = 0; !atomic_load(&z.taken) && t < 50000; t++)
		nanosleep(&(struct timespec){ 0, 100000 }, NULL);
	CU_ASSERT_EQUAL(atomic_load(&z.taken), 2);
	nvmf_subsystem_resume(s);
	CU_ASSERT_EQUAL(nvmf_subsystem_remove_ns(s, 2), 0);
}

static void test_delete_aborts_held(void)
{
	static struct greq held[NREQ];
	struct nvmf_subsystem *s = nvmf_subsystem_find(g_tgt, NQN);
	struct nvme_cmd c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	nvmf_subsystem_pause(s);
	for (int i = 0; i < NREQ; i++) {
		rw_cmd(&c, NVME_OPC_WRITE, (uint16_t)(400 + i), (uint64_t)i);
		greq_init(&held[i], &g_io, &c, NULL, 512);
	}
	group_submit(held, NREQ);
	CU_ASSERT_EQUAL(wait_done(held, NREQ, 5), 0);
	nvmf_subsystem_delete(s);	/* its controller and queues go, s is freed */
	CU_ASSERT_PTR_NULL(nvmf_subsystem_find(g_tgt, NQN));
	CU_ASSERT_EQUAL(wait_done(held, NREQ, 5000), NREQ);
	for (int i = 0; i < NREQ; i++) {
		CU_ASSERT_EQUAL(atomic_load(&held[i].done), 1);
		CU_ASSERT_EQUAL(status_of(&held[i]), NVME_SC_ABORTED_SQ_DELETION);
	}
	CU_ASSERT_PTR_NULL(g_io.ctrlr);
	CU_ASSERT_PTR_NULL(g_tgt->dead);
}

int main(void)
{
	static const struct ut_test tests[] = {
		{ "placement: only a connected queue of this group runs here", test_placement },
		{ "I/O runs on the group, counted there", test_io_runs_on_group },
		{ "pause drains, holds, resume runs against the change", test_pause_drains_holds_resumes },
		{ "zero copy counts as in flight; its exec runs while paused", test_zcopy_pauses },
		{ "subsystem deleted while paused: held commands aborted once", test_delete_aborts_held },
	};

	return ut_run("group", setup, teardown, tests, UT_COUNT(tests));
}
