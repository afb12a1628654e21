/* SPDX-License-Identifier: BSD-3-Clause */
/* Mailboxes, threads with loops of their own, CPU sets (target/thread.h). */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <unistd.h>

/*
 * The ring's C11 flavour (acquire/release atomics) instead of x86's default
 * (compiler barriers and inline assembly): the same guarantees on x86, and
 * more of them visible to ThreadSanitizer. Every ring operation is inline
 * and in this file, so the choice is this file's.
 */
#ifndef RTE_USE_C11_MEM_MODEL
#define RTE_USE_C11_MEM_MODEL 1
#endif
#include <rte_ring.h>

#include "memmap/log.h"
#include "target/core.h"
#include "target/thread.h"

#define MSG_BURST	32
#define THREAD_MBOX_SIZE 4096

struct msg {
	nvmf_msg_fn fn;
	void *arg;
};

struct nvmf_mbox {
	struct rte_ring *ring;
	int efd;
	atomic_int sleeping;	/* the owner may be in epoll: write efd */
	/*
	 * DPDK 22.11's multi-producer ring hands a slot from one producer to
	 * the next with a relaxed load: ordered on x86, not in C11's model.
	 * A release increment by each sender before it enqueues, and an acquire
	 * load by the owner after it dequeues, give ThreadSanitizer (and the C11
	 * model) the edge for what a message points to; the ring's own slot
	 * copies are suppressed (tests/unit/tsan.supp).
	 */
	atomic_uint sync;
	struct nvmf_poller *poller;
};

/* ---- Mailboxes ---- */

int nvmf_mbox_drain(struct nvmf_mbox *m, int max)
{
	struct msg msgs[MSG_BURST];
	unsigned int n, i;
	int done = 0;

	while (done < max) {
		n = rte_ring_sc_dequeue_burst_elem(m->ring, msgs, sizeof(struct msg),
						   max - done < MSG_BURST ? max - done : MSG_BURST,
						   NULL);
		if (!n)
			break;
		(void)atomic_load_explicit(&m->sync, memory_order_acquire);
		if (atomic_load_explicit(&m->sleeping, memory_order_relaxed))
			atomic_store_explicit(&m->sleeping, 0, memory_order_relaxed);
		for (i = 0; i < n; i++)
			msgs[i].fn(msgs[i].arg);
		done += (int)n;
	}
	return done;
}

static int mbox_poll(void *arg)
{
	return nvmf_mbox_drain(arg, MSG_BURST);
}

/*
 * The loop is about to sleep (it polls once more after this): take a
 * wake-up left from before off the eventfd, then ask senders for a new one.
 * With the fence on both sides, either a sender sees sleeping set and
 * writes, or the loop's last poll sees its message.
 */
static void mbox_arm(void *arg)
{
	struct nvmf_mbox *m = arg;
	uint64_t v;

	if (read(m->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_err("mailbox: eventfd read: %s", strerror(errno));
	atomic_store_explicit(&m->sleeping, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
}

int nvmf_mbox_send(struct nvmf_mbox *m, nvmf_msg_fn fn, void *arg)
{
	struct msg msg = { fn, arg };
	uint64_t one = 1;

	/* Before the enqueue: what the sender wrote is the receiver's (see sync). */
	atomic_fetch_add_explicit(&m->sync, 1, memory_order_release);
	if (rte_ring_mp_enqueue_elem(m->ring, &msg, sizeof(msg)))
		return -ENOBUFS;
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&m->sleeping, memory_order_relaxed) &&
	    write(m->efd, &one, sizeof(one)) < 0)
		log_err("mailbox: eventfd write: %s", strerror(errno));
	return 0;
}

struct nvmf_mbox *nvmf_mbox_create(struct nvmf_tgt *tgt, const char *name,
				   unsigned int size)
{
	struct nvmf_mbox *m = calloc(1, sizeof(*m));
	ssize_t len = rte_ring_get_memsize_elem(sizeof(struct msg), size);

	if (!m || len < 0) {
		log_err("mailbox %s: %s", name, m ? "size not a power of two" : "no memory");
		goto err_free;
	}
	m->efd = -1;
	m->ring = aligned_alloc(RTE_CACHE_LINE_SIZE, RTE_ALIGN_CEIL((size_t)len,
								    RTE_CACHE_LINE_SIZE));
	if (!m->ring || rte_ring_init(m->ring, name, size, RING_F_SC_DEQ)) {
		log_err("mailbox %s: cannot set up a ring of %u", name, size);
		goto err_free;
	}
	m->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (m->efd < 0) {
		log_err("mailbox %s: eventfd: %s", name, strerror(errno));
		goto err_free;
	}
	m->poller = nvmf_poller_add(tgt, name, mbox_poll, mbox_arm, m->efd, m);
	if (!m->poller)
		goto err_free;
	return m;
err_free:
	if (m && m->efd >= 0)
		close(m->efd);
	if (m)
		free(m->ring);
	free(m);
	return NULL;
}

static void mbox_free(struct nvmf_mbox *m)
{
	close(m->efd);
	free(m->ring);
	free(m);
}

void nvmf_mbox_destroy(struct nvmf_tgt *tgt, struct nvmf_mbox *m)
{
	if (!m)
		return;
	nvmf_poller_del(tgt, m->poller);
	mbox_free(m);
}

/* ---- Threads ---- */

struct nvmf_thread {
	struct nvmf_tgt *tgt;
	pthread_t tid;
	char name[16];
	int cpu;
	int (*init)(void *arg);
	void *arg;
	struct nvmf_mbox *mbox;
	struct nvmf_mbox *main;		/* the target's: told if this thread dies */
	sem_t ready;
	int init_rc;
	int loop_rc;
	atomic_bool alive;
	nvmf_msg_fn fini;
	void *fini_arg;
};

/* On the main thread: a thread of the target is gone; so is the target. */
static void thread_failed_msg(void *arg)
{
	struct nvmf_thread *th = arg;

	log_err("thread %s (CPU %d) stopped: %s; the target stops", th->name, th->cpu,
		strerror(-th->loop_rc));
	th->tgt->failed = true;
	nvmf_loop_stop(th->tgt);
}

static int thread_setup(struct nvmf_thread *th, struct nvmf_loop_state **loop)
{
	*loop = nvmf_loop_alloc();
	if (!*loop)
		return -ENOMEM;
	nvmf_loop_bind(*loop);
	th->mbox = nvmf_mbox_create(th->tgt, th->name, THREAD_MBOX_SIZE);
	if (!th->mbox)
		return -ENOMEM;
	return th->init ? th->init(th->arg) : 0;
}

static void *thread_main(void *arg)
{
	struct nvmf_thread *th = arg;
	struct nvmf_loop_state *loop = NULL;
	int rc;

	pthread_setname_np(pthread_self(), th->name);
	rc = thread_setup(th, &loop);
	th->init_rc = rc;
	atomic_store(&th->alive, !rc);
	sem_post(&th->ready);
	if (!rc) {
		th->loop_rc = nvmf_loop_run(th->tgt);
		atomic_store(&th->alive, false);
		if (th->loop_rc && th->main)
			nvmf_mbox_send(th->main, thread_failed_msg, th);
	}
	/*
	 * The loop goes with its pollers; the mailbox stays until the thread
	 * is joined: whoever sent the stop message may still be in
	 * nvmf_mbox_send, looking at it.
	 */
	nvmf_loop_bind(NULL);
	nvmf_loop_free(loop);
	return NULL;
}

struct nvmf_thread *nvmf_thread_start(struct nvmf_tgt *tgt, const char *name, int cpu,
				      int (*init)(void *arg), void *arg)
{
	struct nvmf_thread *th = calloc(1, sizeof(*th));
	pthread_attr_t attr;
	cpu_set_t set;
	int rc;

	if (!th || sem_init(&th->ready, 0, 0)) {
		log_err("thread %s: no memory", name);
		free(th);
		return NULL;
	}
	th->tgt = tgt;
	snprintf(th->name, sizeof(th->name), "%s", name);
	th->cpu = cpu;
	th->init = init;
	th->arg = arg;
	th->main = nvmf_tgt_mbox(tgt);
	pthread_attr_init(&attr);
	if (cpu >= 0) {
		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	}
	rc = pthread_create(&th->tid, &attr, thread_main, th);
	pthread_attr_destroy(&attr);
	if (rc) {
		log_err("thread %s (CPU %d): pthread_create: %s", name, cpu, strerror(rc));
		goto err;
	}
	while (sem_wait(&th->ready) && errno == EINTR)
		;
	if (th->init_rc) {
		log_err("thread %s (CPU %d) could not start: %s", name, cpu,
			strerror(-th->init_rc));
		pthread_join(th->tid, NULL);
		if (th->mbox)
			mbox_free(th->mbox);
		goto err;
	}
	return th;
err:
	sem_destroy(&th->ready);
	free(th);
	return NULL;
}

int nvmf_thread_send(struct nvmf_thread *th, nvmf_msg_fn fn, void *arg)
{
	return nvmf_mbox_send(th->mbox, fn, arg);
}

bool nvmf_thread_alive(const struct nvmf_thread *th)
{
	return atomic_load(&th->alive);
}

int nvmf_thread_cpu(const struct nvmf_thread *th)
{
	return th->cpu;
}

static void thread_stop_msg(void *arg)
{
	struct nvmf_thread *th = arg;

	if (th->fini)
		th->fini(th->fini_arg);
	nvmf_loop_stop(th->tgt);
}

int nvmf_thread_stop(struct nvmf_thread *th, nvmf_msg_fn fini, void *arg)
{
	int rc;

	if (!th)
		return 0;
	th->fini = fini;
	th->fini_arg = arg;
	/* A full mailbox empties: the thread is running it. */
	while (nvmf_thread_send(th, thread_stop_msg, th) == -ENOBUFS)
		sched_yield();
	pthread_join(th->tid, NULL);
	rc = th->loop_rc;
	mbox_free(th->mbox);
	sem_destroy(&th->ready);
	free(th);
	return rc;
}

/* ---- CPU sets ---- */

static int cpu_num(const char **p, const char *end, int *cpu)
{
	long v = 0;

	if (*p >= end || !isdigit((unsigned char)**p))
		return -EINVAL;
	for (; *p < end && isdigit((unsigned char)**p); (*p)++) {
		v = v * 10 + (**p - '0');
		if (v >= CPU_SETSIZE)
			return -EINVAL;
	}
	*cpu = (int)v;
	return 0;
}

/* "0,2-3" in [s, end), with trailing white space (a sysfs file's newline). */
static int list_parse(const char *s, const char *end, cpu_set_t *set)
{
	int lo, hi;

	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	CPU_ZERO(set);
	while (s < end) {
		if (cpu_num(&s, end, &lo))
			return -EINVAL;
		hi = lo;
		if (s < end && *s == '-') {
			s++;
			if (cpu_num(&s, end, &hi) || hi < lo)
				return -EINVAL;
		}
		for (int c = lo; c <= hi; c++)
			CPU_SET(c, set);
		if (s < end && *s++ != ',')
			return -EINVAL;
		if (s == end && s[-1] == ',')
			return -EINVAL;
	}
	return CPU_COUNT(set) ? 0 : -EINVAL;
}

int nvmf_cpus_parse_list(const char *s, cpu_set_t *set)
{
	return list_parse(s, s + strlen(s), set);
}

int nvmf_cpus_parse_mask(const char *s, cpu_set_t *set)
{
	size_t n = strlen(s);

	if (n >= 2 && s[0] == '[' && s[n - 1] == ']')
		return list_parse(s + 1, s + n - 1, set);
	if (!strncasecmp(s, "0x", 2)) {
		s += 2;
		n -= 2;
	}
	CPU_ZERO(set);
	if (!n)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int c = (unsigned char)s[n - 1 - i], v;

		if (!isxdigit(c))
			return -EINVAL;
		v = isdigit(c) ? c - '0' : tolower(c) - 'a' + 10;
		for (int b = 0; b < 4; b++) {
			if (!(v & 1 << b))
				continue;
			if (i * 4 + b >= CPU_SETSIZE)
				return -EINVAL;
			CPU_SET(i * 4 + b, set);
		}
	}
	return CPU_COUNT(set) ? 0 : -EINVAL;
}

int nvmf_cpus_check(const cpu_set_t *want, const char *online, const cpu_set_t *allowed,
		    int *bad)
{
	cpu_set_t on;

	if (nvmf_cpus_parse_list(online, &on))
		return -EINVAL;
	for (int c = 0; c < CPU_SETSIZE; c++) {
		if (!CPU_ISSET(c, want))
			continue;
		if (!CPU_ISSET(c, &on) || (allowed && !CPU_ISSET(c, allowed))) {
			*bad = c;
			return -ENODEV;
		}
	}
	return 0;
}

void nvmf_cpus_to_mask(const cpu_set_t *set, char *buf, size_t len)
{
	int hi = -1;
	size_t o;

	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, set))
			hi = c;
	o = (size_t)snprintf(buf, len, "0x");
	for (int nib = hi < 0 ? 0 : hi / 4; nib >= 0 && o + 1 < len; nib--) {
		int v = 0;

		for (int b = 0; b < 4; b++)
			v |= CPU_ISSET(nib * 4 + b, set) ? 1 << b : 0;
		buf[o++] = "0123456789abcdef"[v];
	}
	buf[o < len ? o : len - 1] = '\0';
}
