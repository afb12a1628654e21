/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVM I/O commands: Read, Write, Flush, Write Zeroes, Dataset Management.
 * Parsing checks the namespace, range and length and picks the execute
 * function; the backend completes through nvmf_io_done, which maps -errno to a
 * status: -ENOSPC to Capacity Exceeded, any other error to a media status.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memmap/log.h"
#include "target/core.h"

#define DSM_RANGES_MAX	256
#define IO_FUA		(1u << 30)
#define WZ_DEAC		(1u << 25)
#define DSM_AD		(1u << 2)

/* Not through the controller: a poll group runs I/O without it. */
static struct nvmf_ns *req_ns(const struct nvmf_req *req)
{
	struct nvmf_qpair *qp = req->qpair;

	return nvmf_subsystem_host_ns(qp->io_subsys, qp->io_hostnqn, req->cmd->nsid);
}

static void nvmf_io_done(struct nvmf_req *req, int res)
{
	struct nvmf_poll_group *pg = nvmf_poll_group_self();
	uint8_t opc = req->cmd->opc;
	nvme_status st = 0;

	if (res == -ENOSPC) {
		/* A sparse file on a full filesystem: retrying will not help. */
		st = NVME_SC_CAPACITY_EXCEEDED | NVME_DNR;
	} else if (res) {
		st = opc == NVME_OPC_READ ? NVME_SC_UNRECOVERED_READ :
		     opc == NVME_OPC_FLUSH ? NVME_SC_INTERNAL : NVME_SC_WRITE_FAULT;
	}
	if (res) {
		log_err("qid %u cid %u: opcode 0x%02x nsid %u failed in the backend: %s",
			req->qpair->qid, req->cmd->cid, opc, req->cmd->nsid,
			strerror(-res));
	}
	if (pg)
		nvmf_stat_add(&pg->completed_io, 1);
	else
		req->qpair->transport->tgt->completed_io++;
	nvmf_req_complete(req, st);
}

static void range_of(const struct nvmf_req *req, uint64_t *slba, uint32_t *nlb)
{
	*slba = req->cmd->cdw10 | (uint64_t)req->cmd->cdw11 << 32;
	*nlb = (req->cmd->cdw12 & 0xFFFF) + 1;
}

static void exec_rw(struct nvmf_req *req)
{
	struct nvmf_ns *ns = req_ns(req);
	struct bdev *b = ns->bdev;
	bool write = req->cmd->opc == NVME_OPC_WRITE;
	struct nvmf_ns_stats *st;
	uint64_t slba;
	uint32_t nlb;

	range_of(req, &slba, &nlb);
	st = &ns->st[nvmf_thread_index()];
	if (write) {
		nvmf_stat_add(&st->writes, 1);
		nvmf_stat_add(&st->units_written, (uint64_t)nlb * b->block_size / 512);
	} else {
		nvmf_stat_add(&st->reads, 1);
		nvmf_stat_add(&st->units_read, (uint64_t)nlb * b->block_size / 512);
	}
	if (req->core_zcopy) {
		/*
		 * The data is sent from where it lies. A namespace replaced
		 * since the transport asked: its data is not this one's.
		 */
		nvmf_io_done(req, req->core_zcopy == b ? 0 : -ESTALE);
		return;
	}
	bdev_submit(b, req, write ? BDEV_WRITE : BDEV_READ, slba * b->block_size,
		    (uint64_t)nlb * b->block_size, req->cmd->cdw12 & IO_FUA, nvmf_io_done);
}

static void exec_flush(struct nvmf_req *req)
{
	bdev_submit(req_ns(req)->bdev, req, BDEV_FLUSH, 0, 0, false, nvmf_io_done);
}

static void exec_write_zeroes(struct nvmf_req *req)
{
	struct bdev *b = req_ns(req)->bdev;
	uint64_t slba;
	uint32_t nlb;

	range_of(req, &slba, &nlb);
	bdev_submit(b, req, req->cmd->cdw12 & WZ_DEAC ? BDEV_UNMAP : BDEV_WRITE_ZEROES,
		    slba * b->block_size, (uint64_t)nlb * b->block_size,
		    req->cmd->cdw12 & IO_FUA, nvmf_io_done);
}

/*
 * Deallocate each range in turn: one range at a time through the backend,
 * the ranges kept in a buffer hung on req->core_tag until the last is done.
 */
struct dsm_ctx {
	struct bdev *b;
	uint32_t n, next;
	struct nvme_dsm_range r[DSM_RANGES_MAX];
};

static void dsm_next(struct nvmf_req *req, int res)
{
	struct dsm_ctx *d = (struct dsm_ctx *)(uintptr_t)req->core_tag;
	struct nvme_dsm_range *r;

	if (res || d->next == d->n) {
		free(d);
		nvmf_io_done(req, res);
		return;
	}
	r = &d->r[d->next++];
	bdev_submit(d->b, req, BDEV_UNMAP, r->slba * d->b->block_size,
		    (uint64_t)r->nlb * d->b->block_size, false, dsm_next);
}

static void exec_dsm(struct nvmf_req *req)
{
	dsm_next(req, 0);
}

static nvme_status parse_dsm(struct nvmf_req *req, struct nvmf_ns *ns)
{
	uint32_t n = (req->cmd->cdw10 & 0xFF) + 1;
	struct dsm_ctx *d;

	if (req->length < n * sizeof(struct nvme_dsm_range)) {
		log_info("DSM: %u ranges in %u bytes", n, req->length);
		return NVME_SC_DATA_SGL_LEN_INVALID | NVME_DNR;
	}
	if (!(req->cmd->cdw11 & DSM_AD)) {
		req->core_exec = NULL;		/* only hints: nothing to do */
		return 0;
	}
	d = calloc(1, sizeof(*d));
	if (!d)
		return NVME_SC_INTERNAL;
	nvmf_req_copy_from(req, d->r, n * sizeof(struct nvme_dsm_range));
	for (uint32_t i = 0; i < n; i++) {
		if (d->r[i].slba + d->r[i].nlb > ns->bdev->num_blocks ||
		    d->r[i].slba + d->r[i].nlb < d->r[i].slba) {
			log_info("DSM: range %u (lba %llu + %u) out of range", i,
				 (unsigned long long)d->r[i].slba, d->r[i].nlb);
			free(d);
			return NVME_SC_LBA_OUT_OF_RANGE | NVME_DNR;
		}
	}
	d->b = ns->bdev;
	d->n = n;
	req->core_tag = (uintptr_t)d;
	req->core_exec = exec_dsm;
	return 0;
}

static nvme_status check_range(const struct nvmf_req *req, const struct nvmf_ns *ns)
{
	uint64_t slba;
	uint32_t nlb;

	range_of(req, &slba, &nlb);
	if (slba + nlb > ns->bdev->num_blocks || slba + nlb < slba) {
		log_info("qid %u: lba %llu + %u past nsid %u's %llu blocks",
			 req->qpair->qid, (unsigned long long)slba, nlb, ns->nsid,
			 (unsigned long long)ns->bdev->num_blocks);
		return NVME_SC_LBA_OUT_OF_RANGE | NVME_DNR;
	}
	return 0;
}

static nvme_status parse_rw(struct nvmf_req *req, struct nvmf_ns *ns)
{
	const struct nvmf_transport_opts *o = &req->qpair->transport->opts;
	uint64_t slba, len;
	uint32_t nlb;
	nvme_status st = check_range(req, ns);

	if (st)
		return st;
	range_of(req, &slba, &nlb);
	len = (uint64_t)nlb * ns->bdev->block_size;
	if (len > o->max_io_size) {
		log_info("qid %u: %llu bytes over max_io_size %u", req->qpair->qid,
			 (unsigned long long)len, o->max_io_size);
		return NVME_SC_INVALID_FIELD | NVME_DNR;
	}
	if (req->length != len) {
		log_info("qid %u: SGL of %u bytes for %llu bytes of data",
			 req->qpair->qid, req->length, (unsigned long long)len);
		return NVME_SC_DATA_SGL_LEN_INVALID | NVME_DNR;
	}
	req->core_exec = exec_rw;
	return 0;
}

nvme_status nvmf_io_parse(struct nvmf_req *req)
{
	uint8_t opc = req->cmd->opc;
	struct nvmf_ns *ns = req_ns(req);
	nvme_status st;

	if (opc != NVME_OPC_READ && opc != NVME_OPC_WRITE && opc != NVME_OPC_FLUSH &&
	    opc != NVME_OPC_WRITE_ZEROES && opc != NVME_OPC_DSM) {
		log_info("qid %u: I/O opcode 0x%02x not supported", req->qpair->qid, opc);
		return NVME_SC_INVALID_OPCODE | NVME_DNR;
	}
	if (!ns) {
		log_info("qid %u: opcode 0x%02x to inactive nsid %u", req->qpair->qid,
			 opc, req->cmd->nsid);
		return NVME_SC_INVALID_NS | NVME_DNR;
	}
	if (opc != NVME_OPC_READ && opc != NVME_OPC_FLUSH && ns->bdev->readonly) {
		log_info("nsid %u is read-only: opcode 0x%02x refused", ns->nsid, opc);
		return NVME_SC_NS_WRITE_PROTECTED | NVME_DNR;
	}
	switch (opc) {
	case NVME_OPC_READ:
	case NVME_OPC_WRITE:
		return parse_rw(req, ns);
	case NVME_OPC_FLUSH:
		req->core_exec = exec_flush;
		return 0;
	case NVME_OPC_WRITE_ZEROES:
		st = check_range(req, ns);
		if (!st)
			req->core_exec = exec_write_zeroes;
		return st;
	default:
		return parse_dsm(req, ns);
	}
}

/* ---- Zero copy (a RAM namespace): the transport's data in place ---- */

/*
 * Reads only: a write's RDMA READ would land in the namespace before the
 * command is executed, and a namespace removed (and its bdev given to
 * another subsystem) meanwhile would take data the host was told failed.
 * On success req->iov points into the bdev and req->core_zcopy is set.
 */
bool nvmf_io_zcopy_map(struct nvmf_req *req)
{
	const struct nvme_cmd *cmd = req->cmd;
	struct nvmf_ns *ns;
	struct bdev *b;
	uint64_t slba, len;
	uint32_t nlb;

	if ((cmd->flags & 0x3) || cmd->opc != NVME_OPC_READ)
		return false;
	ns = req_ns(req);
	if (!ns || !ns->bdev->ops->zcopy)
		return false;
	b = ns->bdev;
	range_of(req, &slba, &nlb);
	len = (uint64_t)nlb * b->block_size;
	if (slba + nlb > b->num_blocks || slba + nlb < slba || len != req->length ||
	    len > req->qpair->transport->opts.max_io_size)
		return false;	/* parsing at exec says what is wrong */
	if (b->ops->zcopy(b, slba * b->block_size, len, req->iov, NVMF_REQ_MAX_IOV,
			  &req->iovcnt))
		return false;
	req->core_zcopy = b;
	return true;
}

bool nvmf_req_zcopy_start(struct nvmf_req *req)
{
	struct nvmf_qpair *qp = req->qpair;
	const struct nvmf_ctrlr *c = qp->ctrlr;

	if (!qp->qid || !c || !(c->csts & NVME_CSTS_RDY) || !nvmf_io_zcopy_map(req))
		return false;
	req->core_zcopy->inflight++;	/* the bdev stays until zcopy_end */
	return true;
}

void nvmf_req_zcopy_end(struct nvmf_req *req)
{
	struct bdev *b = req->core_zcopy;

	if (!b)
		return;
	req->core_zcopy = NULL;
	if (!--b->inflight && b->reaper)
		nvmf_timer_arm(b->reaper, 0);
}
