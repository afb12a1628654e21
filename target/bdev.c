/* SPDX-License-Identifier: BSD-3-Clause */
/* The bdev list and the submit/complete wrappers every backend shares. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "memmap/log.h"
#include "target/core.h"

int bdev_register(struct nvmf_tgt *tgt, struct bdev *b)
{
	struct bdev **pp = &tgt->bdevs;

	if (bdev_find(tgt, b->name))
		return -EEXIST;
	while (*pp)
		pp = &(*pp)->next;
	b->tgt = tgt;
	b->next = NULL;
	*pp = b;
	return 0;
}

static void bdev_unlink(struct bdev **pp, struct bdev *b)
{
	while (*pp && *pp != b)
		pp = &(*pp)->next;
	if (*pp)
		*pp = b->next;
}

static void bdev_reap(void *arg)
{
	struct bdev *b = arg;

	if (b->inflight)
		return;		/* re-armed by the last completion */
	bdev_unlink(&b->tgt->dead_bdevs, b);
	nvmf_timer_del(b->tgt, b->reaper);
	if (b->base) {
		/* A stacked bdev held its base (bdev_delay_create): let it go. */
		b->base->claimed = false;
		if (!--b->base->inflight && b->base->reaper)
			nvmf_timer_arm(b->base->reaper, 0);
	}
	log_info("bdev %s: destroyed", b->name);
	b->ops->destroy(b);
}

void bdev_delete(struct nvmf_tgt *tgt, struct bdev *b)
{
	struct bdev **pp = &tgt->bdevs;

	/*
	 * Stacked bdevs on it go first (SPDK's hot-remove goes up the stack);
	 * each delete changes the list: look again from its head.
	 */
	for (struct bdev *o = tgt->bdevs; o;) {
		if (o->base == b) {
			bdev_delete(tgt, o);
			o = tgt->bdevs;
		} else {
			o = o->next;
		}
	}

	for (int i = 0; i < tgt->nsubsys; i++) {
		struct nvmf_subsystem *s = tgt->subsys[i];

		for (uint32_t n = 0; n < s->max_ns; n++) {
			if (s->ns[n] && s->ns[n]->bdev == b)
				nvmf_subsystem_remove_ns(s, n + 1);
		}
	}
	bdev_unlink(pp, b);
	log_notice("bdev %s: deleted%s", b->name, b->inflight ? ", I/O still in flight" : "");
	/*
	 * Never from inside the backend's own completion path: a timer runs
	 * it from the loop, at once if nothing is in flight.
	 */
	b->reaper = nvmf_timer_add(tgt, bdev_reap, b);
	b->next = tgt->dead_bdevs;	/* destroyed at exit if still there */
	tgt->dead_bdevs = b;
	if (!b->reaper) {
		log_err("bdev %s: kept until exit (no memory for its reaper)", b->name);
		return;
	}
	if (!b->inflight)
		nvmf_timer_arm(b->reaper, 0);
}

struct bdev *bdev_find(struct nvmf_tgt *tgt, const char *name)
{
	for (struct bdev *b = tgt->bdevs; b; b = b->next) {
		if (!strcmp(b->name, name))
			return b;
	}
	return NULL;
}

void bdev_destroy_all(struct nvmf_tgt *tgt)
{
	while (tgt->bdevs) {
		struct bdev *b = tgt->bdevs;

		tgt->bdevs = b->next;
		b->ops->destroy(b);
	}
	while (tgt->dead_bdevs) {
		struct bdev *b = tgt->dead_bdevs;

		tgt->dead_bdevs = b->next;
		nvmf_timer_del(tgt, b->reaper);
		b->ops->destroy(b);
	}
}

void bdev_submit(struct bdev *b, struct nvmf_req *req, enum bdev_op op,
		 uint64_t offset, uint64_t len, bool fua,
		 void (*cb)(struct nvmf_req *req, int res))
{
	struct nvmf_poll_group *pg = nvmf_poll_group_self();

	req->core_cb = cb;
	req->core_ctx = b;
	if (pg) {
		nvmf_stat_add(&pg->io_inflight, 1);
	} else {
		b->tgt->io_inflight++;
		b->inflight++;
	}
	b->ops->submit(b, req, op, offset, len, fua);
}

void bdev_io_done(struct nvmf_req *req, int res)
{
	struct nvmf_poll_group *pg = nvmf_poll_group_self();
	struct bdev *b = req->core_ctx;

	if (pg) {
		nvmf_stat_add(&pg->io_inflight, (uint64_t)-1);
	} else {
		b->tgt->io_inflight--;
		if (!--b->inflight && b->reaper)
			nvmf_timer_arm(b->reaper, 0);
	}
	req->core_cb(req, res);
}

void bdev_thread_fini(void)
{
	bdev_aio_thread_fini();
}

/* ---- Placeholder: geometry only, for validating a configuration ---- */

static void placeholder_submit(struct bdev *b, struct nvmf_req *req,
			       enum bdev_op op, uint64_t offset, uint64_t len,
			       bool fua)
{
	(void)b; (void)op; (void)offset; (void)len; (void)fua;
	bdev_io_done(req, -ENODEV);
}

static void placeholder_destroy(struct bdev *b)
{
	free(b);
}

static const struct bdev_ops placeholder_ops = {
	.type = "placeholder",
	.submit = placeholder_submit,
	.destroy = placeholder_destroy,
};

/* A bdev that is nothing but its struct bdev (placeholder, null). */
int bdev_plain_create(struct nvmf_tgt *tgt, const struct bdev_ops *ops, const char *name,
		      uint32_t block_size, uint64_t num_blocks, const uint8_t *uuid,
		      struct bdev **out)
{
	struct bdev *b = calloc(1, sizeof(*b));
	int rc;

	if (!b)
		return -ENOMEM;
	snprintf(b->name, sizeof(b->name), "%s", name);
	b->ops = ops;
	b->block_size = block_size;
	b->num_blocks = num_blocks;
	if (uuid)
		memcpy(b->uuid, uuid, 16);
	else
		uuid_generate(b->uuid);
	rc = bdev_register(tgt, b);
	if (rc) {
		free(b);
		return rc;
	}
	*out = b;
	return 0;
}

int bdev_placeholder_create(struct nvmf_tgt *tgt, const char *name,
			    uint32_t block_size, uint64_t num_blocks,
			    const uint8_t *uuid, struct bdev **out)
{
	return bdev_plain_create(tgt, &placeholder_ops, name, block_size, num_blocks,
				 uuid, out);
}
