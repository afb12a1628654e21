/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Block backends behind namespaces: a file or block device through libaio
 * (bdev_aio.c) and RAM (bdev_malloc.c). A backend completes each I/O by
 * calling bdev_io_done(req, res), maybe later from the event loop;
 * res is 0 or -errno, never an NVMe status.
 */
#ifndef TARGET_BDEV_H
#define TARGET_BDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct nvmf_tgt;
struct nvmf_req;
struct bdev;

enum bdev_op {
	BDEV_READ,
	BDEV_WRITE,
	BDEV_FLUSH,
	BDEV_WRITE_ZEROES,
	BDEV_UNMAP,
};

struct bdev_ops {
	const char *type;
	/* Data is req->iov; completion through bdev_io_done. */
	void (*submit)(struct bdev *b, struct nvmf_req *req, enum bdev_op op,
		       uint64_t offset, uint64_t len, bool fua);
	int (*flush_sync)(struct bdev *b);	/* at shutdown: 0 or -errno */
	/*
	 * Optional: the bdev's own registered memory for [offset, +len) as
	 * iov (zero copy), 0; or -ENOTSUP.
	 */
	int (*zcopy)(struct bdev *b, uint64_t offset, uint64_t len, struct iovec *iov,
		     int max_iov, int *iovcnt);
	void (*destroy)(struct bdev *b);
};

struct bdev {
	struct bdev *next;
	struct nvmf_tgt *tgt;
	char name[64];
	const struct bdev_ops *ops;
	uint32_t block_size;
	uint64_t num_blocks;
	uint8_t uuid[16];
	bool readonly;
	bool claimed;		/* by a namespace */
	const char *filename;	/* aio: the file, for saving the config */
	struct bdev *base;	/* a stacked bdev's (delay) base, claimed by it */
	unsigned int inflight;	/* I/O submitted on the main thread, not completed
				   (a group's own are drained by pausing) */
	struct nvmf_timer *reaper;	/* deleted: destroy at inflight 0 */
};

/* Options shared by the creators (config names). */
struct bdev_aio_opts {
	const char *name;
	const char *filename;
	uint32_t block_size;		/* 0: detect */
	bool readonly;
	const uint8_t *uuid;		/* NULL: generated */
	uint64_t create_size;		/* if the file is absent; 0: don't create */
	bool buffered;			/* no O_DIRECT even where it works */
};

struct bdev_malloc_opts {
	const char *name;
	uint64_t num_blocks;
	uint32_t block_size;
	const uint8_t *uuid;
};

/* 0 or -errno (logged); *out is linked into tgt's list. */
int bdev_aio_create(struct nvmf_tgt *tgt, const struct bdev_aio_opts *o,
		    struct bdev **out);
int bdev_malloc_create(struct nvmf_tgt *tgt, const struct bdev_malloc_opts *o,
		       struct bdev **out);
/* Reads return zeroes, writes are dropped (SPDK's null bdev). */
int bdev_null_create(struct nvmf_tgt *tgt, const struct bdev_malloc_opts *o,
		     struct bdev **out);
/* Latencies in microseconds: avg/p99 for reads and for everything else. */
struct bdev_delay_opts {
	const char *name;
	struct bdev *base;
	const uint8_t *uuid;
	uint64_t avg_read, p99_read, avg_write, p99_write;
};
int bdev_delay_create(struct nvmf_tgt *tgt, const struct bdev_delay_opts *o,
		      struct bdev **out);
/* type: "avg_read", "p99_read", "avg_write", "p99_write": 0 or -EINVAL. */
int bdev_delay_set_latency(struct bdev *b, const char *type, uint64_t us);
/* The latencies of a delay bdev (for queries), or -EINVAL. */
int bdev_delay_get(const struct bdev *b, struct bdev_delay_opts *o);

/* A bdev with geometry only, for validating configs (no I/O). */
int bdev_placeholder_create(struct nvmf_tgt *tgt, const char *name,
			    uint32_t block_size, uint64_t num_blocks,
			    const uint8_t *uuid, struct bdev **out);

struct bdev *bdev_find(struct nvmf_tgt *tgt, const char *name);
void bdev_destroy_all(struct nvmf_tgt *tgt);
/*
 * Hot-remove: every namespace on b goes first (hosts get the AEN), then b
 * is forgotten, and destroyed once its last I/O in flight completes.
 */
void bdev_delete(struct nvmf_tgt *tgt, struct bdev *b);

/* Core side (bdev.c). */
void bdev_submit(struct bdev *b, struct nvmf_req *req, enum bdev_op op,
		 uint64_t offset, uint64_t len, bool fua,
		 void (*cb)(struct nvmf_req *req, int res));
void bdev_io_done(struct nvmf_req *req, int res);
/*
 * A poll group's thread runs I/O too: backends keep what they need per
 * thread (an aio context, a delay queue), made on its first I/O there.
 * This releases the calling thread's, at the group's end; nothing of it
 * may be in flight.
 */
void bdev_thread_fini(void);
void bdev_aio_thread_fini(void);
/* A bdev of struct bdev alone (destroy: free): 0 or -errno. */
int bdev_plain_create(struct nvmf_tgt *tgt, const struct bdev_ops *ops, const char *name,
		      uint32_t block_size, uint64_t num_blocks, const uint8_t *uuid,
		      struct bdev **out);
/* Link a new bdev at the end of the list (name unique): 0 or -EEXIST. */
int bdev_register(struct nvmf_tgt *tgt, struct bdev *b);

#endif
