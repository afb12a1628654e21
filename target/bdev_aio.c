/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * File and block-device namespaces through libaio. Reads and writes go
 * straight from the request's registered buffers with O_DIRECT; FUA writes
 * use a second descriptor opened with O_DSYNC; Flush is an aio fdsync
 * where the kernel has it, else fdatasync. Completions arrive on an eventfd
 * the event loop polls. Where O_DIRECT cannot be had (tmpfs), the file is
 * used buffered, as SPDK's aio bdev does, with one warning.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <libaio.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <uuid/uuid.h>

#include "memmap/log.h"
#include "target/core.h"

#define AIO_DEPTH	1024
#define AIO_BATCH	64
#define AIO_ALIGN	512
#define BOUNCE_SIZE	16384	/* pooled: in-capsule writes are <= 8 KiB */
#define BOUNCE_KEEP	256

/*
 * Where I/O is submitted and reaped: an io_context with its eventfd and
 * poller. The main thread has one per bdev; a poll group's thread has one
 * for all its aio I/O, made on its first (nvmf_poll_group_self).
 */
struct aio_chan {
	io_context_t ctx;
	int efd;
	struct nvmf_poller *poller;
	struct nvmf_req *retry_head, *retry_tail;
	void *bounce_free[BOUNCE_KEEP];	/* pool of BOUNCE_SIZE buffers */
	int nbounce;
};

struct aio_io {
	struct iocb iocb;
	void *bounce;		/* for buffers O_DIRECT cannot use */
	uint64_t len;
	enum bdev_op op;
	struct aio_chan *ch;
};
static_assert(sizeof(struct aio_io) <= sizeof(((struct nvmf_req *)0)->core_priv),
	      "aio state fits in the request");

struct bdev_aio {
	struct bdev b;
	char filename[256];
	int fd;
	int fd_dsync;
	bool buffered;
	bool no_aio_fsync;	/* __atomic: any thread may find it out */
	struct aio_chan main;
};

static _Thread_local struct aio_chan *chan_self;	/* a poll group's */

static struct aio_chan *aio_chan_get(struct bdev_aio *a);

static struct aio_io *aio_io(struct nvmf_req *req)
{
	return (struct aio_io *)req->core_priv;
}

/*
 * Data O_DIRECT cannot take (in-capsule data sits right after the 64-byte
 * command) goes through an aligned bounce buffer; small ones are pooled so
 * the hot path does not allocate.
 */
static void *bounce_get(struct aio_chan *a, uint64_t len)
{
	void *p = NULL;

	if (len <= BOUNCE_SIZE && a->nbounce)
		return a->bounce_free[--a->nbounce];
	if (posix_memalign(&p, 4096, len <= BOUNCE_SIZE ? BOUNCE_SIZE : len))
		return NULL;
	return p;
}

static void bounce_put(struct aio_chan *a, void *p, uint64_t len)
{
	if (len <= BOUNCE_SIZE && a->nbounce < BOUNCE_KEEP)
		a->bounce_free[a->nbounce++] = p;
	else
		free(p);
}

static void aio_finish(struct nvmf_req *req, long res)
{
	struct aio_io *io = aio_io(req);
	int rc = 0;

	if (res < 0)
		rc = (int)res;
	else if (io->op == BDEV_READ && (uint64_t)res != io->len)
		rc = -EIO;	/* short read: past the end of a shrunk file */
	else if (io->op == BDEV_WRITE && (uint64_t)res != io->len)
		rc = -ENOSPC;	/* short write: the filesystem filled up */
	if (io->bounce) {
		if (!rc && io->op == BDEV_READ)
			nvmf_req_copy_to(req, io->bounce, io->len);
		bounce_put(io->ch, io->bounce, io->len);
		io->bounce = NULL;
	}
	bdev_io_done(req, rc);
}

static bool iov_aligned(const struct nvmf_req *req)
{
	for (int i = 0; i < req->iovcnt; i++) {
		if (((uintptr_t)req->iov[i].iov_base | req->iov[i].iov_len) & (AIO_ALIGN - 1))
			return false;
	}
	return true;
}

static int aio_prep_rw(struct bdev_aio *a, struct nvmf_req *req, uint64_t off,
		       bool fua)
{
	struct aio_io *io = aio_io(req);
	int fd = fua ? a->fd_dsync : a->fd;

	if (a->buffered || iov_aligned(req)) {
		if (io->op == BDEV_READ)
			io_prep_preadv(&io->iocb, fd, req->iov, req->iovcnt, (long long)off);
		else
			io_prep_pwritev(&io->iocb, fd, req->iov, req->iovcnt, (long long)off);
		return 0;
	}
	io->bounce = bounce_get(io->ch, io->len);
	if (!io->bounce)
		return -ENOMEM;
	if (io->op == BDEV_WRITE) {
		nvmf_req_copy_from(req, io->bounce, io->len);
		io_prep_pwrite(&io->iocb, fd, io->bounce, io->len, (long long)off);
	} else {
		io_prep_pread(&io->iocb, fd, io->bounce, io->len, (long long)off);
	}
	return 0;
}

/* 0: submitted or queued for retry; else -errno (not submitted). */
static int aio_submit_iocb(struct nvmf_req *req)
{
	struct aio_chan *a = aio_io(req)->ch;
	struct iocb *cb = &aio_io(req)->iocb;
	int rc;

	io_set_eventfd(cb, a->efd);
	cb->data = req;
	rc = io_submit(a->ctx, 1, &cb);
	if (rc == 1)
		return 0;
	if (rc == -EAGAIN) {
		nvmf_req_fifo_push(&a->retry_head, &a->retry_tail, req);
		return 0;
	}
	return rc < 0 ? rc : -EIO;
}

static int aio_write_zeroes(struct bdev_aio *a, uint64_t off, uint64_t len)
{
	size_t chunk = 65536;
	void *zeros;
	int rc = 0;

	if (posix_memalign(&zeros, 4096, chunk))
		return -ENOMEM;
	memset(zeros, 0, chunk);
	while (len) {
		size_t n = len < chunk ? len : chunk;
		ssize_t w = pwrite(a->fd, zeros, n, (off_t)off);

		if (w <= 0) {
			rc = w < 0 ? -errno : -EIO;
			break;
		}
		off += (uint64_t)w;
		len -= (uint64_t)w;
	}
	free(zeros);
	return rc;
}

static int aio_fallocate(struct bdev_aio *a, int mode, uint64_t off, uint64_t len)
{
	if (!fallocate(a->fd, mode | FALLOC_FL_KEEP_SIZE, (off_t)off, (off_t)len))
		return 0;
	if (errno != EOPNOTSUPP && errno != ENOSYS && errno != EINVAL)
		return -errno;
	if (mode == FALLOC_FL_PUNCH_HOLE)
		return aio_fallocate(a, FALLOC_FL_ZERO_RANGE, off, len);
	/* This file system cannot zero a range: write the zeroes. */
	return aio_write_zeroes(a, off, len);
}

static int aio_flush_sync(struct bdev *b)
{
	struct bdev_aio *a = (struct bdev_aio *)b;

	return fdatasync(a->fd) ? -errno : 0;
}

static void aio_submit(struct bdev *b, struct nvmf_req *req, enum bdev_op op,
		       uint64_t off, uint64_t len, bool fua)
{
	struct bdev_aio *a = (struct bdev_aio *)b;
	struct aio_io *io = aio_io(req);
	int rc = 0;

	memset(io, 0, sizeof(*io));
	io->op = op;
	io->len = len;
	io->ch = aio_chan_get(a);
	if (!io->ch) {
		bdev_io_done(req, -ENOMEM);
		return;
	}
	switch (op) {
	case BDEV_READ:
	case BDEV_WRITE:
		rc = aio_prep_rw(a, req, off, fua && op == BDEV_WRITE);
		if (!rc)
			rc = aio_submit_iocb(req);
		if (rc && io->bounce) {
			bounce_put(io->ch, io->bounce, io->len);
			io->bounce = NULL;
		}
		break;
	case BDEV_FLUSH:
		if (!__atomic_load_n(&a->no_aio_fsync, __ATOMIC_RELAXED)) {
			io_prep_fdsync(&io->iocb, a->fd);
			rc = aio_submit_iocb(req);
			if (rc != -EINVAL)
				break;
			if (!__atomic_exchange_n(&a->no_aio_fsync, true, __ATOMIC_RELAXED))
				log_info("bdev %s: no aio fsync here, fdatasync instead",
					 b->name);
		}
		rc = aio_flush_sync(b);
		bdev_io_done(req, rc);
		return;
	case BDEV_WRITE_ZEROES:
	case BDEV_UNMAP:
		rc = aio_fallocate(a, op == BDEV_UNMAP ? FALLOC_FL_PUNCH_HOLE :
				   FALLOC_FL_ZERO_RANGE, off, len);
		if (!rc && fua)
			rc = aio_flush_sync(b);
		bdev_io_done(req, rc);
		return;
	}
	if (rc)
		bdev_io_done(req, rc);
}

static void aio_retry(struct aio_chan *a)
{
	struct nvmf_req *req = a->retry_head;

	a->retry_head = a->retry_tail = NULL;
	while (req) {
		struct nvmf_req *next = req->core_next;
		int rc = aio_submit_iocb(req);

		if (rc)
			aio_finish(req, rc);
		req = next;
	}
}

static int aio_poll(void *arg)
{
	struct aio_chan *a = arg;
	struct io_event ev[AIO_BATCH];
	struct timespec zero = { 0, 0 };
	int n, total = 0;

	do {
		n = io_getevents(a->ctx, 0, AIO_BATCH, ev, &zero);
		for (int i = 0; i < n; i++)
			aio_finish(ev[i].data, (long)ev[i].res);
		total += n > 0 ? n : 0;
	} while (n == AIO_BATCH);
	if (a->retry_head)
		aio_retry(a);
	return total;
}

/*
 * Before the loop sleeps: reset the eventfd (the loop polls once more after
 * arming, so completions that came before this read are not lost). Busy
 * polling therefore costs no system call: io_getevents with a zero timeout
 * looks at the completion ring in user space.
 */
static void aio_arm(void *arg)
{
	struct aio_chan *a = arg;
	uint64_t cnt;

	if (read(a->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		log_debug("aio: eventfd read: %s", strerror(errno));
}

/* io_destroy waits for what is in flight and drops its events. */
static void chan_close(struct nvmf_tgt *tgt, struct aio_chan *a)
{
	if (a->poller)
		nvmf_poller_del(tgt, a->poller);
	if (a->ctx)
		io_destroy(a->ctx);
	if (a->efd >= 0)
		close(a->efd);
	while (a->nbounce)
		free(a->bounce_free[--a->nbounce]);
}

static int chan_setup(struct nvmf_tgt *tgt, struct aio_chan *a, const char *name)
{
	int rc;

	a->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (a->efd < 0)
		return -errno;
	for (int depth = AIO_DEPTH; depth >= 32; depth /= 2) {
		rc = io_setup(depth, &a->ctx);
		if (rc != -EAGAIN)
			break;
	}
	if (rc) {
		a->ctx = 0;
		log_err("%s: io_setup: %s (raise fs.aio-max-nr?)", name, strerror(-rc));
		return rc;
	}
	a->poller = nvmf_poller_add(tgt, name, aio_poll, aio_arm, a->efd, a);
	return a->poller ? 0 : -ENOMEM;
}

static struct aio_chan *aio_chan_get(struct bdev_aio *a)
{
	struct aio_chan *ch;

	if (!nvmf_poll_group_self())
		return &a->main;
	if (chan_self)
		return chan_self;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return NULL;
	ch->efd = -1;
	if (chan_setup(a->b.tgt, ch, "aio group")) {
		chan_close(a->b.tgt, ch);
		free(ch);
		return NULL;
	}
	chan_self = ch;
	return ch;
}

void bdev_aio_thread_fini(void)
{
	struct nvmf_poll_group *pg = nvmf_poll_group_self();

	if (!chan_self || !pg)
		return;
	chan_close(pg->tgt, chan_self);
	free(chan_self);
	chan_self = NULL;
}

static void aio_close(struct bdev_aio *a)
{
	chan_close(a->b.tgt, &a->main);
	if (a->fd_dsync >= 0)
		close(a->fd_dsync);
	if (a->fd >= 0)
		close(a->fd);
	free(a);
}

static void aio_destroy(struct bdev *b)
{
	/*
	 * io_destroy waits for I/O still in flight and drops its events: by
	 * now the transport (and the requests) may be gone, so no callback
	 * may run. Shutdown drains before it gets here.
	 */
	aio_close((struct bdev_aio *)b);
}

static const struct bdev_ops aio_ops = {
	.type = "aio",
	.submit = aio_submit,
	.flush_sync = aio_flush_sync,
	.destroy = aio_destroy,
};

/*
 * Without a configured UUID, a name-based one of the bdev's name and the
 * file's real path. A restart from the same config then gives the
 * namespace the same identifiers, and a host reconnects to it (a new UUID
 * would be another namespace to it: "identifiers changed", I/O failed).
 */
static void aio_uuid(const char *bdev, const char *filename, uint8_t out[16])
{
	/* Our name space for these UUIDs (a random UUID, fixed here). */
	static const uuid_t ns = { 0x5e, 0x1f, 0x0a, 0x3d, 0x8c, 0x47, 0x4b, 0x2e,
				   0x9a, 0x61, 0x2d, 0x70, 0xb4, 0x13, 0xc8, 0x95 };
	char *real = realpath(filename, NULL), name[PATH_MAX + 80];
	int n = snprintf(name, sizeof(name), "%s:%s", bdev, real ? real : filename);

	uuid_generate_sha1(out, ns, name, (size_t)n < sizeof(name) ? (size_t)n : sizeof(name) - 1);
	free(real);
}

static int aio_create_file(const char *path, uint64_t size)
{
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, (off_t)size)) {
		int err = -errno;

		close(fd);
		unlink(path);
		return err;
	}
	close(fd);
	log_notice("created backing file %s (%llu MiB, sparse)", path,
		   (unsigned long long)(size >> 20));
	return 0;
}

static int aio_open_direct(struct bdev_aio *a, const struct bdev_aio_opts *o, int flags)
{
	a->fd = open(o->filename, flags | O_DIRECT);
	if (a->fd < 0 && errno == ENOENT && o->create_size) {
		int rc = aio_create_file(o->filename, o->create_size);

		if (rc)
			return rc;
		a->fd = open(o->filename, flags | O_DIRECT);
	}
	if (a->fd < 0 && errno == EINVAL) {
		log_warn("bdev %s: %s does not support O_DIRECT; using buffered I/O "
			 "with fdatasync (slower, uses the page cache)", o->name,
			 o->filename);
		a->buffered = true;
	}
	return 0;
}

static int aio_open(struct bdev_aio *a, const struct bdev_aio_opts *o)
{
	int flags = (o->readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	int rc;

	a->buffered = o->buffered;
	if (!a->buffered) {
		rc = aio_open_direct(a, o, flags);
		if (rc)
			return rc;
	}
	if (a->buffered) {
		a->fd = open(o->filename, flags);
		if (a->fd < 0 && errno == ENOENT && o->create_size) {
			rc = aio_create_file(o->filename, o->create_size);
			if (rc)
				return rc;
			a->fd = open(o->filename, flags);
		}
	}
	if (a->fd < 0)
		return -errno;
	a->fd_dsync = open(o->filename, flags | O_DSYNC | (a->buffered ? 0 : O_DIRECT));
	return a->fd_dsync < 0 ? -errno : 0;
}

static int aio_geometry(struct bdev_aio *a, const struct bdev_aio_opts *o)
{
	struct stat st;
	uint64_t size;
	uint32_t bs = o->block_size;

	if (fstat(a->fd, &st))
		return -errno;
	if (S_ISBLK(st.st_mode)) {
		int ssz = 0;

		if (ioctl(a->fd, BLKGETSIZE64, &size) || ioctl(a->fd, BLKSSZGET, &ssz))
			return -errno;
		if (!bs)
			bs = (uint32_t)ssz;
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
	} else {
		log_err("bdev %s: %s is neither a file nor a block device", o->name,
			o->filename);
		return -EINVAL;
	}
	if (!bs)
		bs = 512;
	if (bs < 512 || (bs & (bs - 1))) {
		log_err("bdev %s: block_size %u is not a power of two >= 512", o->name, bs);
		return -EINVAL;
	}
	if (size < bs) {
		log_err("bdev %s: %s is smaller than one block (%llu bytes)", o->name,
			o->filename, (unsigned long long)size);
		return -EINVAL;
	}
	a->b.block_size = bs;
	a->b.num_blocks = size / bs;
	return 0;
}

static int aio_setup_queue(struct bdev_aio *a)
{
	char name[80];

	snprintf(name, sizeof(name), "bdev %s", a->b.name);
	return chan_setup(a->b.tgt, &a->main, name);
}

int bdev_aio_create(struct nvmf_tgt *tgt, const struct bdev_aio_opts *o,
		    struct bdev **out)
{
	struct bdev_aio *a = calloc(1, sizeof(*a));
	int rc;

	if (!a)
		return -ENOMEM;
	a->fd = a->fd_dsync = a->main.efd = -1;
	snprintf(a->b.name, sizeof(a->b.name), "%s", o->name);
	snprintf(a->filename, sizeof(a->filename), "%s", o->filename);
	a->b.filename = a->filename;
	a->b.ops = &aio_ops;
	a->b.readonly = o->readonly;
	a->b.tgt = tgt;
	rc = aio_open(a, o);
	if (rc) {
		log_err("bdev %s: cannot open %s: %s", o->name, o->filename, strerror(-rc));
		goto err;
	}
	/* After the open: a file it created has a real path now too. */
	if (o->uuid)
		memcpy(a->b.uuid, o->uuid, 16);
	else
		aio_uuid(o->name, o->filename, a->b.uuid);
	rc = aio_geometry(a, o);
	if (rc)
		goto err;
	rc = aio_setup_queue(a);
	if (rc)
		goto err;
	rc = bdev_register(tgt, &a->b);
	if (rc)
		goto err;
	log_info("bdev %s: %s, %llu blocks of %u bytes%s", o->name, o->filename,
		 (unsigned long long)a->b.num_blocks, a->b.block_size,
		 a->buffered ? " (buffered)" : "");
	*out = &a->b;
	return 0;
err:
	aio_close(a);
	return rc;
}
