/* SPDX-License-Identifier: BSD-3-Clause */
#include "transport/rdma_sgl.h"

#include <errno.h>
#include <string.h>

#include "memmap/log.h"

#define PSDT_MASK	0xC0
#define PSDT_SGL	0x40	/* SGL for data, MPTR a contiguous buffer */
#define ST(sc)		((nvme_status)((sc) | NVME_DNR))

static void sgl_reset(struct nvmf_rdma_sgl *out)
{
	out->kind = NVMF_RDMA_SGL_NONE;
	out->length = 0;
	out->icd_offset = 0;
	out->invalidate = false;
	out->inv_rkey = 0;
	out->ndesc = 0;
}

static bool keyed_subtype_ok(uint8_t sub)
{
	return sub == NVME_SGL_SUBTYPE_ADDRESS || sub == NVME_SGL_SUBTYPE_INVALIDATE_KEY;
}

/* Add one keyed descriptor; zero-length ones describe nothing. */
static void keyed_add(const struct nvme_sgl *s, struct nvmf_rdma_sgl *out)
{
	uint32_t len = nvme_sgl_keyed_length(s), key = nvme_sgl_keyed_key(s);

	if (nvme_sgl_subtype(s) == NVME_SGL_SUBTYPE_INVALIDATE_KEY && !out->invalidate) {
		out->invalidate = true;
		out->inv_rkey = key;
	}
	if (!len)
		return;
	out->desc[out->ndesc++] = (struct nvmf_rdma_sgl_desc){ s->address, key, len };
	out->length += len;
	out->kind = NVMF_RDMA_SGL_KEYED;
}

static nvme_status parse_keyed(const struct nvme_sgl *s,
			       const struct nvmf_rdma_sgl_limits *lim,
			       struct nvmf_rdma_sgl *out)
{
	if (!keyed_subtype_ok(nvme_sgl_subtype(s))) {
		log_info("rdma: keyed SGL with subtype 0x%x", nvme_sgl_subtype(s));
		return ST(NVME_SC_SGL_DESC_TYPE_INVALID);
	}
	if (nvme_sgl_keyed_length(s) > lim->max_io_size) {
		log_info("rdma: keyed SGL of %u bytes is over max_io_size %u",
			 nvme_sgl_keyed_length(s), lim->max_io_size);
		return ST(NVME_SC_DATA_SGL_LEN_INVALID);
	}
	keyed_add(s, out);
	return 0;
}

static nvme_status parse_in_capsule(const struct nvme_sgl *s, bool host_to_ctrlr,
				    uint32_t icd_len,
				    const struct nvmf_rdma_sgl_limits *lim,
				    struct nvmf_rdma_sgl *out)
{
	uint64_t off = s->address;
	uint32_t len = s->unkeyed.length;

	if (!host_to_ctrlr) {
		log_info("rdma: in-capsule data on a command that does not write");
		return ST(NVME_SC_INVALID_FIELD);
	}
	if (off > lim->icd_size) {
		log_info("rdma: in-capsule data offset %llu over %u",
			 (unsigned long long)off, lim->icd_size);
		return ST(NVME_SC_INVALID_SGL_OFFSET);
	}
	if (len > lim->icd_size - off || off + len > icd_len) {
		log_info("rdma: in-capsule data of %u bytes at %llu: capsule holds %u",
			 len, (unsigned long long)off, icd_len);
		return ST(NVME_SC_DATA_SGL_LEN_INVALID);
	}
	if (!len)
		return 0;
	out->kind = NVMF_RDMA_SGL_IN_CAPSULE;
	out->icd_offset = (uint32_t)off;
	out->length = len;
	return 0;
}

static nvme_status list_check(const struct nvme_sgl *s, uint32_t icd_len,
			      const struct nvmf_rdma_sgl_limits *lim)
{
	uint64_t off = s->address;
	uint32_t len = s->unkeyed.length;

	if (len == 0 || len / sizeof(struct nvme_sgl) > NVMF_RDMA_MSDBD) {
		log_info("rdma: SGL list of %u bytes: 1 to %d descriptors allowed",
			 len, NVMF_RDMA_MSDBD);
		return ST(NVME_SC_SGL_DESC_COUNT_INVALID);
	}
	if (len % sizeof(struct nvme_sgl)) {
		log_info("rdma: SGL list of %u bytes is not whole descriptors", len);
		return ST(NVME_SC_SGL_SEG_DESC_INVALID);
	}
	if (off > lim->icd_size || len > lim->icd_size - off || off + len > icd_len) {
		log_info("rdma: SGL list at offset %llu, %u bytes: outside the capsule "
			 "(%u bytes received)", (unsigned long long)off, len, icd_len);
		return ST(NVME_SC_INVALID_SGL_OFFSET);
	}
	return 0;
}

static nvme_status parse_list(const struct nvme_sgl *s, const uint8_t *icd,
			      uint32_t icd_len,
			      const struct nvmf_rdma_sgl_limits *lim,
			      struct nvmf_rdma_sgl *out)
{
	uint32_t i, n = s->unkeyed.length / sizeof(struct nvme_sgl);
	struct nvme_sgl d;
	nvme_status st;

	st = list_check(s, icd_len, lim);
	if (st)
		return st;
	for (i = 0; i < n; i++) {
		memcpy(&d, icd + s->address + i * sizeof(d), sizeof(d));
		if (nvme_sgl_type(&d) != NVME_SGL_TYPE_KEYED_DATA_BLOCK ||
		    !keyed_subtype_ok(nvme_sgl_subtype(&d))) {
			log_info("rdma: SGL list entry %u has type 0x%x subtype 0x%x", i,
				 nvme_sgl_type(&d), nvme_sgl_subtype(&d));
			return ST(NVME_SC_SGL_DESC_TYPE_INVALID);
		}
		if (nvme_sgl_keyed_length(&d) > lim->max_io_size - out->length) {
			log_info("rdma: SGL list describes more than max_io_size %u",
				 lim->max_io_size);
			return ST(NVME_SC_DATA_SGL_LEN_INVALID);
		}
		keyed_add(&d, out);
	}
	return 0;
}

nvme_status nvmf_rdma_sgl_parse(const struct nvme_cmd *cmd, bool host_to_ctrlr,
				const uint8_t *icd, uint32_t icd_len,
				const struct nvmf_rdma_sgl_limits *lim,
				struct nvmf_rdma_sgl *out)
{
	const struct nvme_sgl *s = &cmd->dptr;
	uint8_t type = nvme_sgl_type(s), sub = nvme_sgl_subtype(s);

	sgl_reset(out);
	if ((cmd->flags & PSDT_MASK) != PSDT_SGL) {
		log_info("rdma: command 0x%x cid %u does not use SGLs (flags 0x%x)",
			 cmd->opc, cmd->cid, cmd->flags);
		return ST(NVME_SC_INVALID_FIELD);
	}
	if (type == NVME_SGL_TYPE_KEYED_DATA_BLOCK)
		return parse_keyed(s, lim, out);
	if (type == NVME_SGL_TYPE_DATA_BLOCK && sub == NVME_SGL_SUBTYPE_OFFSET)
		return parse_in_capsule(s, host_to_ctrlr, icd_len, lim, out);
	if (type == NVME_SGL_TYPE_LAST_SEGMENT && sub == NVME_SGL_SUBTYPE_OFFSET)
		return parse_list(s, icd, icd_len, lim, out);
	log_info("rdma: SGL type 0x%x subtype 0x%x not supported", type, sub);
	return ST(NVME_SC_SGL_DESC_TYPE_INVALID);
}

uint32_t nvmf_rdma_sgl_nbufs(const struct nvmf_rdma_sgl *sgl, uint32_t unit)
{
	uint32_t i, n = 0;

	if (sgl->kind != NVMF_RDMA_SGL_KEYED)
		return 0;
	for (i = 0; i < sgl->ndesc; i++)
		n += (sgl->desc[i].len + unit - 1) / unit;
	return n;
}

static struct ibv_send_wr *wr_new(struct nvmf_rdma_wrs *wrs, enum ibv_wr_opcode op,
				  uint64_t raddr, uint32_t rkey)
{
	struct ibv_send_wr *wr;

	if (wrs->nwr == NVMF_RDMA_MAX_DATA_WR)
		return NULL;
	wr = &wrs->wr[wrs->nwr++];
	memset(wr, 0, sizeof(*wr));
	wr->opcode = op;
	wr->sg_list = &wrs->sge[wrs->nsge];
	wr->wr.rdma.remote_addr = raddr;
	wr->wr.rdma.rkey = rkey;
	return wr;
}

struct fill_ctx {
	const struct nvmf_rdma_mr_map *map;
	uint32_t max_sge;
	enum ibv_wr_opcode op;
	struct nvmf_rdma_wrs *wrs;
	struct ibv_send_wr *wr;		/* WR being filled */
	uint64_t raddr;			/* host address of the next byte */
	uint32_t rkey;
};

/* SGEs for one buffer piece, cut at MR boundaries, WRs split at max_sge. */
static int fill_piece(struct fill_ctx *f, uint8_t *buf, uint32_t piece)
{
	struct ibv_sge *sge;
	struct ibv_mr *mr;
	uint32_t off = 0, len;

	while (off < piece) {
		len = piece - off;
		mr = nvmf_rdma_mr_translate(f->map, buf + off, &len);
		if (!mr)
			return -EFAULT;
		if ((uint32_t)f->wr->num_sge == f->max_sge) {
			f->wr = wr_new(f->wrs, f->op, f->raddr, f->rkey);
			if (!f->wr)
				return -E2BIG;
		}
		if (f->wrs->nsge == NVMF_RDMA_MAX_DATA_SGE)
			return -E2BIG;
		sge = &f->wrs->sge[f->wrs->nsge++];
		sge->addr = (uintptr_t)(buf + off);
		sge->length = len;
		sge->lkey = mr->lkey;
		f->wr->num_sge++;
		off += len;
		f->raddr += len;
	}
	return 0;
}

static void wrs_link(struct nvmf_rdma_wrs *wrs)
{
	uint16_t i;

	for (i = 0; i < wrs->nwr; i++)
		wrs->wr[i].next = i + 1 < wrs->nwr ? &wrs->wr[i + 1] : NULL;
}

int nvmf_rdma_sgl_fill(const struct nvmf_rdma_sgl *sgl, void *const *bufs,
		       uint32_t unit, const struct nvmf_rdma_mr_map *map,
		       uint32_t max_sge, enum ibv_wr_opcode opcode,
		       struct iovec *iov, int max_iov, int *iovcnt,
		       struct nvmf_rdma_wrs *wrs)
{
	struct fill_ctx f = { map, max_sge ? max_sge : 1, opcode, wrs, NULL, 0, 0 };
	uint32_t i, b = 0, left, piece;
	int rc;

	wrs->nwr = wrs->nsge = 0;
	*iovcnt = 0;
	for (i = 0; i < sgl->ndesc; i++) {
		f.raddr = sgl->desc[i].addr;
		f.rkey = sgl->desc[i].rkey;
		f.wr = wr_new(wrs, opcode, f.raddr, f.rkey);
		if (!f.wr)
			return -E2BIG;
		for (left = sgl->desc[i].len; left; left -= piece) {
			piece = left < unit ? left : unit;
			if (*iovcnt == max_iov)
				return -E2BIG;
			iov[*iovcnt].iov_base = bufs[b];
			iov[*iovcnt].iov_len = piece;
			(*iovcnt)++;
			rc = fill_piece(&f, bufs[b++], piece);
			if (rc)
				return rc;
		}
	}
	wrs_link(wrs);
	return 0;
}

int nvmf_rdma_sgl_fill_iov(const struct nvmf_rdma_sgl *sgl, const struct iovec *iov,
			   int iovcnt, const struct nvmf_rdma_mr_map *map,
			   uint32_t max_sge, enum ibv_wr_opcode opcode,
			   struct nvmf_rdma_wrs *wrs)
{
	struct fill_ctx f = { map, max_sge ? max_sge : 1, opcode, wrs, NULL, 0, 0 };
	size_t off = 0;		/* into iov[v] */
	int v = 0, rc;

	wrs->nwr = wrs->nsge = 0;
	for (uint32_t i = 0; i < sgl->ndesc; i++) {
		uint32_t left = sgl->desc[i].len;

		f.raddr = sgl->desc[i].addr;
		f.rkey = sgl->desc[i].rkey;
		f.wr = wr_new(wrs, opcode, f.raddr, f.rkey);
		if (!f.wr)
			return -E2BIG;
		while (left) {
			size_t avail;
			uint32_t piece;

			if (v == iovcnt)
				return -EINVAL;
			avail = iov[v].iov_len - off;
			piece = avail < left ? (uint32_t)avail : left;
			rc = fill_piece(&f, (uint8_t *)iov[v].iov_base + off, piece);
			if (rc)
				return rc;
			left -= piece;
			off += piece;
			if (off == iov[v].iov_len) {
				v++;
				off = 0;
			}
		}
	}
	wrs_link(wrs);
	return 0;
}
