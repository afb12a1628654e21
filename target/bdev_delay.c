/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A delay bdev: stacked on a base bdev, it holds each I/O for a latency
 * (average, and one in a hundred the p99 value) before passing it on,
 * as SPDK's bdev_delay does for abort and host-timeout tests. The base is
 * claimed; I/O waits in a list served by one timer of the event loop,
 * one list and timer per thread that runs I/O (a poll group's timer lives
 * while it has I/O waiting).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "memmap/log.h"
#include "target/core.h"

#define P99_EVERY	100

struct bdev_delay;

struct delay_chan {
	struct bdev_delay *d;
	uint64_t count;
	struct nvmf_req *head, *tail;	/* waiting, in arrival order */
	struct nvmf_timer *timer;
	uint64_t timer_at;		/* its deadline; 0: not armed */
};

struct bdev_delay {
	struct bdev b;
	uint64_t lat[4];		/* avg_read, p99_read, avg_write, p99_write
					   (__atomic: set while groups read) */
	struct delay_chan ch[NVMF_MAX_POLL_GROUPS];	/* [thread index] */
};

/* What a waiting I/O asked for, kept in the request until it goes on. */
struct delay_io {
	enum bdev_op op;
	uint64_t offset, len;
	bool fua;
};

_Static_assert(sizeof(struct delay_io) <= sizeof(((struct nvmf_req *)0)->core_priv),
	       "delay_io must fit in core_priv");

static const char *const lat_names[] = { "avg_read", "p99_read", "avg_write", "p99_write" };

static void delay_done(struct nvmf_req *req, int res)
{
	/* Back to the delay bdev's own completion: its counters, the caller's cb. */
	req->core_cb = req->core_outer_cb;
	req->core_ctx = req->core_outer_ctx;
	bdev_io_done(req, res);
}

static void delay_fire(void *arg);

static void delay_queue(struct delay_chan *d, struct nvmf_req *req)
{
	nvmf_req_fifo_push(&d->head, &d->tail, req);
	if (!d->timer_at || req->core_deadline_us < d->timer_at) {
		d->timer_at = req->core_deadline_us;
		nvmf_timer_arm(d->timer, d->timer_at);
	}
}

/*
 * The list is taken whole first: a completion below may start another
 * I/O on this bdev (a request that waited for resources), which queues.
 */
static void delay_fire(void *arg)
{
	struct delay_chan *d = arg;
	struct nvmf_req *req = d->head, *next;
	uint64_t now = nvmf_now_us();

	d->head = d->tail = NULL;
	d->timer_at = 0;
	for (; req; req = next) {
		struct delay_io io;

		next = req->core_next;
		if (req->core_deadline_us > now) {
			delay_queue(d, req);
			continue;
		}
		memcpy(&io, req->core_priv, sizeof(io));
		req->core_outer_cb = req->core_cb;
		req->core_outer_ctx = req->core_ctx;
		bdev_submit(d->d->b.base, req, io.op, io.offset, io.len, io.fua, delay_done);
	}
	if (!d->head && d != &d->d->ch[0]) {
		/* A group's: nothing is left for the main thread to free. */
		nvmf_timer_del(d->d->b.tgt, d->timer);
		d->timer = NULL;
	}
}

static void delay_submit(struct bdev *b, struct nvmf_req *req, enum bdev_op op,
			 uint64_t offset, uint64_t len, bool fua)
{
	struct bdev_delay *d = (struct bdev_delay *)b;
	struct delay_chan *ch = &d->ch[nvmf_thread_index()];
	int kind = (op == BDEV_READ ? 0 : 2) + (++ch->count % P99_EVERY == 0);
	struct delay_io io = { .op = op, .offset = offset, .len = len, .fua = fua };

	if (!ch->timer) {
		ch->d = d;
		ch->timer = nvmf_timer_add(b->tgt, delay_fire, ch);
		if (!ch->timer) {
			bdev_io_done(req, -ENOMEM);
			return;
		}
	}
	memcpy(req->core_priv, &io, sizeof(io));
	req->core_deadline_us = nvmf_now_us() + __atomic_load_n(&d->lat[kind], __ATOMIC_RELAXED);
	delay_queue(ch, req);
}

static int delay_flush_sync(struct bdev *b)
{
	return b->base->ops->flush_sync ? b->base->ops->flush_sync(b->base) : 0;
}

static void delay_destroy(struct bdev *b)
{
	struct bdev_delay *d = (struct bdev_delay *)b;

	nvmf_timer_del(b->tgt, d->ch[0].timer);
	free(d);
}

static const struct bdev_ops delay_ops = {
	.type = "delay",
	.submit = delay_submit,
	.flush_sync = delay_flush_sync,
	.destroy = delay_destroy,
};

int bdev_delay_create(struct nvmf_tgt *tgt, const struct bdev_delay_opts *o,
		      struct bdev **out)
{
	struct bdev_delay *d;
	int rc;

	if (o->base->claimed || o->base->ops == &delay_ops)
		return -EBUSY;	/* one user per base; no delay on a delay */
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ch[0].d = d;
	d->ch[0].timer = nvmf_timer_add(tgt, delay_fire, &d->ch[0]);
	if (!d->ch[0].timer) {
		free(d);
		return -ENOMEM;
	}
	snprintf(d->b.name, sizeof(d->b.name), "%s", o->name);
	d->b.ops = &delay_ops;
	d->b.base = o->base;
	d->b.block_size = o->base->block_size;
	d->b.num_blocks = o->base->num_blocks;
	d->b.readonly = o->base->readonly;
	d->b.tgt = tgt;
	if (o->uuid)
		memcpy(d->b.uuid, o->uuid, 16);
	else
		uuid_generate(d->b.uuid);
	d->lat[0] = o->avg_read;
	d->lat[1] = o->p99_read;
	d->lat[2] = o->avg_write;
	d->lat[3] = o->p99_write;
	rc = bdev_register(tgt, &d->b);
	if (rc) {
		delay_destroy(&d->b);
		return rc;
	}
	/* Held until this bdev is destroyed: its queued I/O goes to the base. */
	o->base->claimed = true;
	o->base->inflight++;
	*out = &d->b;
	return 0;
}

int bdev_delay_set_latency(struct bdev *b, const char *type, uint64_t us)
{
	struct bdev_delay *d = (struct bdev_delay *)b;

	if (b->ops != &delay_ops)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		if (!strcmp(type, lat_names[i])) {
			__atomic_store_n(&d->lat[i], us, __ATOMIC_RELAXED);
			return 0;
		}
	}
	return -EINVAL;
}

int bdev_delay_get(const struct bdev *b, struct bdev_delay_opts *o)
{
	const struct bdev_delay *d = (const struct bdev_delay *)b;

	if (b->ops != &delay_ops)
		return -EINVAL;
	o->name = b->name;
	o->base = b->base;
	o->avg_read = d->lat[0];
	o->p99_read = d->lat[1];
	o->avg_write = d->lat[2];
	o->p99_write = d->lat[3];
	return 0;
}
