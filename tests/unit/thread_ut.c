/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mailboxes and threads (target/thread.h): order, many producers, a full
 * ring, waking a sleeping loop without spinning, pinned threads with loops of
 * their own, CPU sets. Built under ASan/UBSan like every unit test, and under
 * ThreadSanitizer by `make tsan`. CUnit is not thread-safe: threads record,
 * the main thread asserts after joining them.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "target/core.h"
#include "target/thread.h"
#include "tests/unit/ut.h"

#define PRODUCERS	4
#define PER_PRODUCER	5000

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- one thread: order, full ring ---- */

static unsigned int g_seen[64], g_nseen;

static void record(void *arg)
{
	if (g_nseen < UT_COUNT(g_seen))
		g_seen[g_nseen] = (unsigned int)(uintptr_t)arg;
	g_nseen++;
}

static void test_mbox_order(void)
{
	struct nvmf_tgt *tgt = nvmf_tgt_create();
	struct nvmf_mbox *m = nvmf_mbox_create(tgt, "order", 64);
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	g_nseen = 0;
	for (i = 0; i < 63; i++)
		CU_ASSERT_EQUAL(nvmf_mbox_send(m, record, (void *)(uintptr_t)i), 0);
	/* The loop runs them, a burst per poll, in the order sent. */
	while (nvmf_loop_once(tgt, 0) > 0)
		;
	CU_ASSERT_EQUAL(g_nseen, 63);
	for (i = 0; i < 63; i++)
		CU_ASSERT_EQUAL(g_seen[i], i);
	nvmf_mbox_destroy(tgt, m);
	nvmf_tgt_destroy(tgt);
}

static void test_mbox_full(void)
{
	struct nvmf_tgt *tgt = nvmf_tgt_create();
	struct nvmf_mbox *m = nvmf_mbox_create(tgt, "full", 8);
	unsigned int i;

	CU_ASSERT_PTR_NULL(nvmf_mbox_create(tgt, "odd", 12));	/* not a power of two */
	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	g_nseen = 0;
	for (i = 0; i < 7; i++)
		CU_ASSERT_EQUAL(nvmf_mbox_send(m, record, (void *)(uintptr_t)i), 0);
	/* Full: refused, nothing half-sent. */
	CU_ASSERT_EQUAL(nvmf_mbox_send(m, record, (void *)99), -ENOBUFS);
	CU_ASSERT_EQUAL(nvmf_mbox_drain(m, 1), 1);
	CU_ASSERT_EQUAL(nvmf_mbox_send(m, record, (void *)7), 0);
	CU_ASSERT_EQUAL(nvmf_mbox_drain(m, 100), 7);
	CU_ASSERT_EQUAL(nvmf_mbox_drain(m, 100), 0);
	CU_ASSERT_EQUAL(g_nseen, 8);
	for (i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(g_seen[i], i);
	nvmf_mbox_destroy(tgt, m);
	nvmf_tgt_destroy(tgt);
}

/* ---- many producers, one consumer thread ---- */

/* Touched only on the consumer thread; read after it is joined. */
static unsigned int g_next[PRODUCERS], g_out_of_order, g_received;

static void consume(void *arg)
{
	uintptr_t v = (uintptr_t)arg;
	unsigned int p = (unsigned int)(v >> 24), seq = (unsigned int)(v & 0xFFFFFF);

	if (p >= PRODUCERS || seq != g_next[p])
		g_out_of_order++;
	else
		g_next[p]++;
	g_received++;
}

struct producer {
	struct nvmf_thread *to;
	unsigned int id;
	unsigned int full;	/* -ENOBUFS seen (and retried) */
	int err;
};

static void *produce(void *arg)
{
	struct producer *pr = arg;

	for (unsigned int seq = 0; seq < PER_PRODUCER; seq++) {
		uintptr_t v = (uintptr_t)pr->id << 24 | seq;
		int rc;

		while ((rc = nvmf_thread_send(pr->to, consume, (void *)v)) == -ENOBUFS) {
			pr->full++;
			usleep(50);	/* let the consumer have the CPU */
		}
		if (rc)
			pr->err = rc;
	}
	return NULL;
}

static void test_many_producers(void)
{
	struct nvmf_tgt *tgt = nvmf_tgt_create();
	struct nvmf_thread *th = nvmf_thread_start(tgt, "consumer", -1, NULL, NULL);
	struct producer pr[PRODUCERS];
	pthread_t tid[PRODUCERS];
	unsigned int i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(th);
	memset(g_next, 0, sizeof(g_next));
	g_out_of_order = g_received = 0;
	for (i = 0; i < PRODUCERS; i++) {
		pr[i] = (struct producer){ .to = th, .id = i };
		CU_ASSERT_EQUAL_FATAL(pthread_create(&tid[i], NULL, produce, &pr[i]), 0);
	}
	for (i = 0; i < PRODUCERS; i++)
		pthread_join(tid[i], NULL);
	/* The stop message comes after every message sent before it. */
	CU_ASSERT_EQUAL(nvmf_thread_stop(th, NULL, NULL), 0);
	CU_ASSERT_EQUAL(g_received, PRODUCERS * PER_PRODUCER);
	CU_ASSERT_EQUAL(g_out_of_order, 0);
	for (i = 0; i < PRODUCERS; i++) {
		CU_ASSERT_EQUAL(g_next[i], PER_PRODUCER);
		CU_ASSERT_EQUAL(pr[i].err, 0);
	}
	nvmf_tgt_destroy(tgt);
}

/* ---- a sleeping loop wakes for a message, and costs nothing meanwhile ---- */

static atomic_uint_fast64_t g_cpu_ns, g_arrived_us;

static void stamp(void *arg)
{
	(void)arg;
	atomic_store(&g_cpu_ns, thread_cpu_ns());
	atomic_store(&g_arrived_us, nvmf_now_us());
}

static uint64_t stamp_and_wait(struct nvmf_thread *th, uint64_t *cpu_ns)
{
	uint64_t sent;

	atomic_store(&g_arrived_us, 0);
	sent = nvmf_now_us();
	CU_ASSERT_EQUAL(nvmf_thread_send(th, stamp, NULL), 0);
	while (!atomic_load(&g_arrived_us) && nvmf_now_us() - sent < 5000000)
		usleep(100);
	*cpu_ns = atomic_load(&g_cpu_ns);
	return atomic_load(&g_arrived_us) ? atomic_load(&g_arrived_us) - sent : UINT64_MAX;
}

static void test_wakes_sleeper(void)
{
	struct nvmf_tgt *tgt = nvmf_tgt_create();
	struct nvmf_thread *th = nvmf_thread_start(tgt, "sleeper", -1, NULL, NULL);
	uint64_t cpu0, cpu1, lat;

	CU_ASSERT_PTR_NOT_NULL_FATAL(th);
	stamp_and_wait(th, &cpu0);
	usleep(300000);		/* well past the loop's spin: it sleeps in epoll */
	lat = stamp_and_wait(th, &cpu1);
	CU_ASSERT(lat < 1000000);	/* woken, not found by a timeout */
	/* 300 ms idle: the spin after the last message (2 ms) and little else. */
	CU_ASSERT(cpu1 - cpu0 < 30000000);
	printf("\n  idle 300 ms: %.1f ms of CPU; woken in %.0f us\n",
	       (double)(cpu1 - cpu0) / 1e6, (double)lat);
	CU_ASSERT_EQUAL(nvmf_thread_stop(th, NULL, NULL), 0);
	nvmf_tgt_destroy(tgt);
}

/* ---- pinned threads with loops of their own ---- */

struct pin_state {
	int cpu_seen;
	atomic_int fired;
	struct nvmf_timer *timer;
	struct nvmf_tgt *tgt;
	bool fail;
};

static void pin_timer(void *arg)
{
	struct pin_state *s = arg;

	atomic_store(&s->fired, sched_getcpu() + 1);
}

static int pin_init(void *arg)
{
	struct pin_state *s = arg;

	if (s->fail)
		return -EIO;
	s->cpu_seen = sched_getcpu();
	/* On this thread's loop, not the target's. */
	s->timer = nvmf_timer_add(s->tgt, pin_timer, s);
	if (!s->timer)
		return -ENOMEM;
	nvmf_timer_arm(s->timer, nvmf_now_us() + 10000);
	return 0;
}

static void pin_fini(void *arg)
{
	struct pin_state *s = arg;

	nvmf_timer_del(s->tgt, s->timer);
}

static void test_pinned_thread(void)
{
	struct nvmf_tgt *tgt = nvmf_tgt_create();
	int cpu = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 1 : 0;
	struct pin_state s = { .tgt = tgt }, bad = { .tgt = tgt, .fail = true };
	struct nvmf_thread *th;
	uint64_t start = nvmf_now_us();

	CU_ASSERT_PTR_NULL(nvmf_thread_start(tgt, "failing", cpu, pin_init, &bad));
	th = nvmf_thread_start(tgt, "pinned", cpu, pin_init, &s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(th);
	CU_ASSERT_EQUAL(nvmf_thread_cpu(th), cpu);
	CU_ASSERT_EQUAL(s.cpu_seen, cpu);
	while (!atomic_load(&s.fired) && nvmf_now_us() - start < 5000000)
		usleep(1000);
	CU_ASSERT_EQUAL(atomic_load(&s.fired), cpu + 1);	/* ran there */
	/* The main loop has nothing of it. */
	CU_ASSERT_EQUAL(nvmf_loop_once(tgt, 0), 0);
	CU_ASSERT_EQUAL(nvmf_thread_stop(th, pin_fini, &s), 0);
	nvmf_tgt_destroy(tgt);
}

/* ---- a thread that dies takes the target down ---- */

static void die_msg(void *arg)
{
	nvmf_loop_fail(arg, -EIO);
}

static void test_thread_dies(void)
{
	struct nvmf_tgt *tgt = nvmf_tgt_create();
	struct nvmf_thread *th = nvmf_thread_start(tgt, "dying", -1, NULL, NULL);
	uint64_t start = nvmf_now_us();

	CU_ASSERT_PTR_NOT_NULL_FATAL(th);
	CU_ASSERT(nvmf_thread_alive(th));
	CU_ASSERT_FALSE(tgt->failed);
	CU_ASSERT_EQUAL(nvmf_thread_send(th, die_msg, tgt), 0);
	/* The main loop is told, logs it and stops (sets failed). */
	while (!tgt->failed && nvmf_now_us() - start < 5000000)
		nvmf_loop_once(tgt, 100);
	CU_ASSERT(tgt->failed);
	CU_ASSERT_FALSE(nvmf_thread_alive(th));
	CU_ASSERT_EQUAL(nvmf_thread_stop(th, NULL, NULL), -EIO);
	nvmf_tgt_destroy(tgt);
}

/* ---- CPU sets ---- */

static bool set_is(const cpu_set_t *s, const char *want_list)
{
	cpu_set_t w;

	return !nvmf_cpus_parse_list(want_list, &w) && CPU_EQUAL(s, &w);
}

static void test_cpus(void)
{
	cpu_set_t s, allowed;
	char buf[64];
	int bad = -1;

	CU_ASSERT(!nvmf_cpus_parse_mask("0x3", &s) && set_is(&s, "0-1"));
	CU_ASSERT(!nvmf_cpus_parse_mask("3", &s) && set_is(&s, "0,1"));
	CU_ASSERT(!nvmf_cpus_parse_mask("0XA0", &s) && set_is(&s, "5,7"));
	CU_ASSERT(!nvmf_cpus_parse_mask("[0,2-3]", &s) && set_is(&s, "0,2,3"));
	CU_ASSERT(!nvmf_cpus_parse_list("4", &s) && set_is(&s, "4"));
	CU_ASSERT(!nvmf_cpus_parse_list("0-1\n", &s) && set_is(&s, "0,1"));
	CU_ASSERT_EQUAL(nvmf_cpus_parse_mask("0x0", &s), -EINVAL);
	CU_ASSERT_EQUAL(nvmf_cpus_parse_mask("0x", &s), -EINVAL);
	CU_ASSERT_EQUAL(nvmf_cpus_parse_mask("0x1g", &s), -EINVAL);
	CU_ASSERT_EQUAL(nvmf_cpus_parse_mask("[]", &s), -EINVAL);
	CU_ASSERT_EQUAL(nvmf_cpus_parse_mask("[1,]", &s), -EINVAL);
	CU_ASSERT_EQUAL(nvmf_cpus_parse_list("3-1", &s), -EINVAL);
	CU_ASSERT_EQUAL(nvmf_cpus_parse_list("1,,2", &s), -EINVAL);
	CU_ASSERT_EQUAL(nvmf_cpus_parse_list("-1", &s), -EINVAL);
	CU_ASSERT_EQUAL(nvmf_cpus_parse_list("99999", &s), -EINVAL);
	/* 1024 CPUs fit cpu_set_t; 1025 hex digits do not. */
	memset(buf, 'f', 63);
	buf[63] = '\0';
	CU_ASSERT_EQUAL(nvmf_cpus_parse_mask(buf, &s), 0);
	CU_ASSERT_EQUAL(CPU_COUNT(&s), 63 * 4);

	nvmf_cpus_parse_list("0-1", &s);
	CU_ASSERT_EQUAL(nvmf_cpus_check(&s, "0-1\n", NULL, &bad), 0);
	nvmf_cpus_parse_list("0,2", &s);
	CU_ASSERT_EQUAL(nvmf_cpus_check(&s, "0-1\n", NULL, &bad), -ENODEV);
	CU_ASSERT_EQUAL(bad, 2);
	nvmf_cpus_parse_list("1", &allowed);
	nvmf_cpus_parse_list("0-1", &s);
	CU_ASSERT_EQUAL(nvmf_cpus_check(&s, "0-3", &allowed, &bad), -ENODEV);
	CU_ASSERT_EQUAL(bad, 0);
	CU_ASSERT_EQUAL(nvmf_cpus_check(&s, "garbage", NULL, &bad), -EINVAL);

	nvmf_cpus_parse_list("0,1,5", &s);
	nvmf_cpus_to_mask(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "0x23");
	nvmf_cpus_parse_list("12", &s);
	nvmf_cpus_to_mask(&s, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "0x1000");
}

int main(void)
{
	static const struct ut_test tests[] = {
		{ "mailbox: order", test_mbox_order },
		{ "mailbox: full ring refuses, loses nothing", test_mbox_full },
		{ "mailbox: many producers, one consumer thread", test_many_producers },
		{ "mailbox: wakes a sleeping loop, idle costs nothing", test_wakes_sleeper },
		{ "thread: pinned, init, its own loop", test_pinned_thread },
		{ "thread: one that dies takes the target down", test_thread_dies },
		{ "CPU masks and lists", test_cpus },
	};

	return ut_run("thread", NULL, NULL, tests, UT_COUNT(tests));
}
