/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The event loop: one thread polls every poller while there is work, keeps
 * spinning NVMF_SPIN_US after the last work (a completion often follows
 * shortly, and an idle vCPU wakes slowly), then arms every poller, polls
 * once more (to close the race with work that came before the arm) and
 * sleeps in epoll_wait on the pollers' fds until the next timer deadline.
 * Timers are one-shot deadlines kept in a short list; the epoll timeout is
 * the nearest one, so no timerfd is needed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "memmap/log.h"
#include "target/core.h"

#define LOOP_MAX_EVENTS 32

struct nvmf_poller {
	struct nvmf_poller *next;
	char name[32];
	nvmf_poll_fn poll;
	nvmf_arm_fn arm;
	int fd;
	void *arg;
	bool dead;
};

struct nvmf_timer {
	struct nvmf_timer *next;
	nvmf_timer_fn fn;
	void *arg;
	uint64_t deadline_us;
	bool armed;
	bool dead;
};

struct nvmf_loop_state {
	int epfd;
	struct nvmf_poller *pollers;
	struct nvmf_timer *timers;
	int walking;		/* > 0 while iterating: deletions deferred */
	bool stop;
	int fail;		/* nvmf_loop_fail: what nvmf_loop_run returns */
	uint64_t last_work_us;
};

uint64_t nvmf_now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* A thread with a loop of its own (a poll group) sets it here. */
static __thread struct nvmf_loop_state *t_loop;

/* The calling thread's loop: its own, or the target's (the main thread). */
static struct nvmf_loop_state *cur(struct nvmf_tgt *tgt)
{
	return t_loop ? t_loop : tgt->loop;
}

struct nvmf_loop_state *nvmf_loop_alloc(void)
{
	struct nvmf_loop_state *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0) {
		log_err("loop: epoll_create1: %s", strerror(errno));
		free(l);
		return NULL;
	}
	return l;
}

void nvmf_loop_bind(struct nvmf_loop_state *l)
{
	t_loop = l;
}

int nvmf_loop_create(struct nvmf_tgt *tgt)
{
	tgt->loop = nvmf_loop_alloc();
	return tgt->loop ? 0 : -ENOMEM;
}

void nvmf_loop_destroy(struct nvmf_tgt *tgt)
{
	nvmf_loop_free(tgt->loop);
	tgt->loop = NULL;
}

void nvmf_loop_free(struct nvmf_loop_state *l)
{
	if (!l)
		return;
	while (l->pollers) {
		struct nvmf_poller *p = l->pollers;

		l->pollers = p->next;
		free(p);
	}
	while (l->timers) {
		struct nvmf_timer *t = l->timers;

		l->timers = t->next;
		free(t);
	}
	close(l->epfd);
	free(l);
}

struct nvmf_poller *nvmf_poller_add(struct nvmf_tgt *tgt, const char *name,
				    nvmf_poll_fn poll, nvmf_arm_fn arm, int fd,
				    void *arg)
{
	struct nvmf_loop_state *l = cur(tgt);
	struct nvmf_poller *p = calloc(1, sizeof(*p));

	if (!p) {
		log_err("loop: no memory for poller %s", name);
		return NULL;
	}
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->poll = poll;
	p->arm = arm;
	p->fd = fd;
	p->arg = arg;
	if (fd >= 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = p };

		if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			log_err("loop: poller %s: epoll_ctl(%d): %s", name, fd,
				strerror(errno));
			free(p);
			return NULL;
		}
	}
	p->next = l->pollers;
	l->pollers = p;
	return p;
}

static void poller_reap(struct nvmf_loop_state *l)
{
	struct nvmf_poller **pp = &l->pollers;
	struct nvmf_timer **tp = &l->timers;

	while (*pp) {
		struct nvmf_poller *p = *pp;

		if (p->dead) {
			*pp = p->next;
			free(p);
		} else {
			pp = &p->next;
		}
	}
	while (*tp) {
		struct nvmf_timer *t = *tp;

		if (t->dead) {
			*tp = t->next;
			free(t);
		} else {
			tp = &t->next;
		}
	}
}

void nvmf_poller_del(struct nvmf_tgt *tgt, struct nvmf_poller *p)
{
	struct nvmf_loop_state *l = cur(tgt);

	if (!p)
		return;
	if (p->fd >= 0)
		epoll_ctl(l->epfd, EPOLL_CTL_DEL, p->fd, NULL);
	p->dead = true;
	if (!l->walking)
		poller_reap(l);
}

struct nvmf_timer *nvmf_timer_add(struct nvmf_tgt *tgt, nvmf_timer_fn fn,
				  void *arg)
{
	struct nvmf_loop_state *l = cur(tgt);
	struct nvmf_timer *t = calloc(1, sizeof(*t));

	if (!t) {
		log_err("loop: no memory for a timer");
		return NULL;
	}
	t->fn = fn;
	t->arg = arg;
	t->next = l->timers;
	l->timers = t;
	return t;
}

void nvmf_timer_arm(struct nvmf_timer *t, uint64_t deadline_us)
{
	t->deadline_us = deadline_us;
	t->armed = true;
}

void nvmf_timer_disarm(struct nvmf_timer *t)
{
	t->armed = false;
}

void nvmf_timer_del(struct nvmf_tgt *tgt, struct nvmf_timer *t)
{
	if (!t)
		return;
	t->armed = false;
	t->dead = true;
	if (!cur(tgt)->walking)
		poller_reap(cur(tgt));
}

static int run_timers(struct nvmf_loop_state *l, uint64_t now)
{
	int n = 0;

	for (struct nvmf_timer *t = l->timers; t; t = t->next) {
		if (t->dead || !t->armed || t->deadline_us > now)
			continue;
		t->armed = false;
		t->fn(t->arg);
		n++;
	}
	return n;
}

static int poll_all(struct nvmf_loop_state *l)
{
	int work = 0;

	for (struct nvmf_poller *p = l->pollers; p; p = p->next) {
		if (!p->dead)
			work += p->poll(p->arg) > 0;
	}
	return work;
}

/* Milliseconds until the nearest timer (rounded up), or -1. */
static int next_timeout_ms(struct nvmf_loop_state *l, uint64_t now, int cap)
{
	int ms = cap;

	for (struct nvmf_timer *t = l->timers; t; t = t->next) {
		int64_t d;

		if (t->dead || !t->armed)
			continue;
		d = t->deadline_us > now ? (int64_t)(t->deadline_us - now + 999) / 1000 : 0;
		if (d > INT32_MAX)
			d = INT32_MAX;
		if (ms < 0 || d < ms)
			ms = (int)d;
	}
	return ms;
}

static void arm_all(struct nvmf_loop_state *l)
{
	for (struct nvmf_poller *p = l->pollers; p; p = p->next) {
		if (!p->dead && p->arm)
			p->arm(p->arg);
	}
}

static int loop_sleep(struct nvmf_loop_state *l, int timeout_ms)
{
	struct epoll_event ev[LOOP_MAX_EVENTS];
	int n;

	arm_all(l);
	if (poll_all(l))
		return 1;
	n = epoll_wait(l->epfd, ev, LOOP_MAX_EVENTS,
		       next_timeout_ms(l, nvmf_now_us(), timeout_ms));
	if (n < 0 && errno != EINTR) {
		log_err("loop: epoll_wait: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int nvmf_loop_once(struct nvmf_tgt *tgt, int timeout_ms)
{
	struct nvmf_loop_state *l = cur(tgt);
	int work, rc = 0;

	l->walking++;
	work = poll_all(l) + run_timers(l, nvmf_now_us());
	if (!work && timeout_ms != 0)
		rc = loop_sleep(l, timeout_ms);
	l->walking--;
	poller_reap(l);
	return rc < 0 ? rc : work;
}

int nvmf_loop_run(struct nvmf_tgt *tgt)
{
	struct nvmf_loop_state *l = cur(tgt);
	int rc = 0;

	l->stop = false;
	l->fail = 0;
	l->last_work_us = nvmf_now_us();
	while (!l->stop) {
		uint64_t now;
		int work;

		l->walking++;
		now = nvmf_now_us();
		work = poll_all(l) + run_timers(l, now);
		if (work) {
			l->last_work_us = now;
		} else if (now - l->last_work_us > NVMF_SPIN_US) {
			rc = loop_sleep(l, -1);
			l->last_work_us = nvmf_now_us();
		}
		l->walking--;
		poller_reap(l);
		if (rc < 0)
			return rc;
	}
	return l->fail;
}

void nvmf_loop_stop(struct nvmf_tgt *tgt)
{
	cur(tgt)->stop = true;
}

void nvmf_loop_fail(struct nvmf_tgt *tgt, int err)
{
	cur(tgt)->fail = err;
	cur(tgt)->stop = true;
}
