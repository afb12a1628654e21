/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * RAM namespaces in registered (DMA) memory, and null namespaces (no
 * memory: reads return zeroes, writes are dropped); every I/O completes
 * at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "memmap/env.h"
#include "memmap/log.h"
#include "target/core.h"

struct bdev_malloc {
	struct bdev b;
	uint8_t *mem;
};

static void malloc_rw(struct bdev_malloc *m, struct nvmf_req *req, bool write,
		      uint64_t off, uint64_t len)
{
	for (int i = 0; i < req->iovcnt && len; i++) {
		size_t n = req->iov[i].iov_len < len ? req->iov[i].iov_len : len;

		if (write)
			memcpy(m->mem + off, req->iov[i].iov_base, n);
		else
			memcpy(req->iov[i].iov_base, m->mem + off, n);
		off += n;
		len -= n;
	}
}

static void malloc_submit(struct bdev *b, struct nvmf_req *req, enum bdev_op op,
			  uint64_t off, uint64_t len, bool fua)
{
	struct bdev_malloc *m = (struct bdev_malloc *)b;

	(void)fua;
	switch (op) {
	case BDEV_READ:
	case BDEV_WRITE:
		malloc_rw(m, req, op == BDEV_WRITE, off, len);
		break;
	case BDEV_WRITE_ZEROES:
	case BDEV_UNMAP:
		memset(m->mem + off, 0, len);
		break;
	case BDEV_FLUSH:
		break;
	}
	bdev_io_done(req, 0);
}

static int malloc_zcopy(struct bdev *b, uint64_t off, uint64_t len, struct iovec *iov,
			int max_iov, int *iovcnt)
{
	struct bdev_malloc *m = (struct bdev_malloc *)b;

	if (max_iov < 1)
		return -ENOTSUP;
	iov[0].iov_base = m->mem + off;
	iov[0].iov_len = len;
	*iovcnt = 1;
	return 0;
}

static void malloc_destroy(struct bdev *b)
{
	struct bdev_malloc *m = (struct bdev_malloc *)b;

	env_dma_free(m->mem);
	free(m);
}

static const struct bdev_ops malloc_ops = {
	.type = "malloc",
	.submit = malloc_submit,
	.zcopy = malloc_zcopy,
	.destroy = malloc_destroy,
};

int bdev_malloc_create(struct nvmf_tgt *tgt, const struct bdev_malloc_opts *o,
		       struct bdev **out)
{
	struct bdev_malloc *m = calloc(1, sizeof(*m));
	uint64_t size = o->num_blocks * o->block_size;
	int rc;

	if (!m)
		return -ENOMEM;
	m->mem = env_dma_zalloc(size, 4096);
	if (!m->mem) {
		log_err("bdev %s: no %llu MiB of DMA memory (start with a larger -s, "
			"or hugepages)", o->name, (unsigned long long)(size >> 20));
		rc = -ENOMEM;
		goto err;
	}
	snprintf(m->b.name, sizeof(m->b.name), "%s", o->name);
	m->b.ops = &malloc_ops;
	m->b.block_size = o->block_size;
	m->b.num_blocks = o->num_blocks;
	if (o->uuid)
		memcpy(m->b.uuid, o->uuid, 16);
	else
		uuid_generate(m->b.uuid);
	rc = bdev_register(tgt, &m->b);
	if (rc)
		goto err;
	*out = &m->b;
	return 0;
err:
	env_dma_free(m->mem);
	free(m);
	return rc;
}

/* ---- Null: geometry only, reads zeroes ---- */

static void null_submit(struct bdev *b, struct nvmf_req *req, enum bdev_op op,
			uint64_t off, uint64_t len, bool fua)
{
	(void)b; (void)off; (void)len; (void)fua;
	if (op == BDEV_READ)
		nvmf_req_zero(req);
	bdev_io_done(req, 0);
}

static void null_destroy(struct bdev *b)
{
	free(b);
}

static const struct bdev_ops null_ops = {
	.type = "null",
	.submit = null_submit,
	.destroy = null_destroy,
};

int bdev_null_create(struct nvmf_tgt *tgt, const struct bdev_malloc_opts *o,
		     struct bdev **out)
{
	return bdev_plain_create(tgt, &null_ops, o->name, o->block_size, o->num_blocks,
				 o->uuid, out);
}
