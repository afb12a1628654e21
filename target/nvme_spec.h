/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe and NVMe over Fabrics wire formats used by the core and the
 * transports (NVMe Base 2.0, NVMe-oF 1.1, NVMe-oF RDMA transport binding).
 * Only what this target reads or writes.
 */
#ifndef TARGET_NVME_SPEC_H
#define TARGET_NVME_SPEC_H

#include <assert.h>
#include <stdint.h>

/* SGL descriptor types (high nibble of the last byte) and subtypes. */
enum {
	NVME_SGL_TYPE_DATA_BLOCK = 0x0,
	NVME_SGL_TYPE_BIT_BUCKET = 0x1,
	NVME_SGL_TYPE_SEGMENT = 0x2,
	NVME_SGL_TYPE_LAST_SEGMENT = 0x3,
	NVME_SGL_TYPE_KEYED_DATA_BLOCK = 0x4,
	NVME_SGL_TYPE_TRANSPORT_DATA_BLOCK = 0x5,
};
enum {
	NVME_SGL_SUBTYPE_ADDRESS = 0x0,
	NVME_SGL_SUBTYPE_OFFSET = 0x1,
	NVME_SGL_SUBTYPE_INVALIDATE_KEY = 0xF,	/* keyed data block */
};

/* 16-byte SGL descriptor, keyed and unkeyed views. */
struct nvme_sgl {
	uint64_t address;
	union {
		struct {
			uint32_t length;
			uint8_t reserved[3];
			uint8_t type;		/* subtype:4 (low), type:4 (high) */
		} unkeyed;
		struct {
			uint8_t length[3];	/* little endian, 24 bits */
			uint8_t key[4];		/* little endian rkey */
			uint8_t type;
		} keyed;
	};
} __attribute__((packed));
static_assert(sizeof(struct nvme_sgl) == 16, "SGL descriptor is 16 bytes");

static inline uint8_t nvme_sgl_type(const struct nvme_sgl *s)
{
	return s->unkeyed.type >> 4;
}

static inline uint8_t nvme_sgl_subtype(const struct nvme_sgl *s)
{
	return s->unkeyed.type & 0xF;
}

static inline uint32_t nvme_sgl_keyed_length(const struct nvme_sgl *s)
{
	return s->keyed.length[0] | (uint32_t)s->keyed.length[1] << 8 |
	       (uint32_t)s->keyed.length[2] << 16;
}

static inline uint32_t nvme_sgl_keyed_key(const struct nvme_sgl *s)
{
	return s->keyed.key[0] | (uint32_t)s->keyed.key[1] << 8 |
	       (uint32_t)s->keyed.key[2] << 16 | (uint32_t)s->keyed.key[3] << 24;
}

/* 64-byte submission queue entry (command capsule's SQE). */
struct nvme_cmd {
	uint8_t opc;
	uint8_t flags;		/* fuse:2, rsvd:4, psdt:2 (10b = SGL, metadata buffer) */
	uint16_t cid;
	uint32_t nsid;		/* fabrics commands: reserved */
	uint32_t cdw2;
	uint32_t cdw3;
	uint64_t mptr;
	struct nvme_sgl dptr;
	uint32_t cdw10;
	uint32_t cdw11;
	uint32_t cdw12;
	uint32_t cdw13;
	uint32_t cdw14;
	uint32_t cdw15;
} __attribute__((packed));
static_assert(sizeof(struct nvme_cmd) == 64, "SQE is 64 bytes");

/* Fabrics command: opc 0x7F, fctype at byte 4 (where nsid would be). */
#define NVME_OPC_FABRICS	0x7F
static inline uint8_t nvme_cmd_fctype(const struct nvme_cmd *c)
{
	return (uint8_t)(c->nsid & 0xFF);
}

/* 16-byte completion queue entry. */
struct nvme_cpl {
	uint32_t cdw0;
	uint32_t cdw1;
	uint16_t sqhd;
	uint16_t sqid;
	uint16_t cid;
	uint16_t status;	/* p:1, sc:8, sct:3, crd:2, m:1, dnr:1 */
} __attribute__((packed));
static_assert(sizeof(struct nvme_cpl) == 16, "CQE is 16 bytes");

/*
 * An NVMe status as one value: (sct << 8) | sc, plus NVME_DNR. 0 is success.
 * Never mixed with -errno.
 */
typedef uint16_t nvme_status;
#define NVME_SC(sct, sc)	((nvme_status)(((sct) << 8) | (sc)))
#define NVME_DNR		0x8000	/* bit kept above sct in this encoding */

static inline uint16_t nvme_cpl_status_field(nvme_status st)
{
	/* CQE status: sc in bits 8:1, sct in 11:9, dnr in bit 15; phase 0. */
	return (uint16_t)(((st & 0xFF) << 1) | (((st >> 8) & 0x7) << 9) |
			  ((st & NVME_DNR) ? 0x8000 : 0));
}

/* Status code types. */
enum {
	NVME_SCT_GENERIC = 0x0,
	NVME_SCT_CMD_SPECIFIC = 0x1,
	NVME_SCT_MEDIA = 0x2,
	NVME_SCT_PATH = 0x3,
};

/* Generic command status. */
#define NVME_SC_SUCCESS			NVME_SC(0, 0x00)
#define NVME_SC_INVALID_OPCODE		NVME_SC(0, 0x01)
#define NVME_SC_INVALID_FIELD		NVME_SC(0, 0x02)
#define NVME_SC_CMDID_CONFLICT		NVME_SC(0, 0x03)
#define NVME_SC_DATA_XFER_ERROR		NVME_SC(0, 0x04)
#define NVME_SC_INTERNAL		NVME_SC(0, 0x06)
#define NVME_SC_ABORTED_BY_REQUEST	NVME_SC(0, 0x07)
#define NVME_SC_ABORTED_SQ_DELETION	NVME_SC(0, 0x08)
#define NVME_SC_INVALID_NS		NVME_SC(0, 0x0B)
#define NVME_SC_CMD_SEQ_ERROR		NVME_SC(0, 0x0C)
#define NVME_SC_SGL_SEG_DESC_INVALID	NVME_SC(0, 0x0D)
#define NVME_SC_SGL_DESC_COUNT_INVALID	NVME_SC(0, 0x0E)
#define NVME_SC_DATA_SGL_LEN_INVALID	NVME_SC(0, 0x0F)
#define NVME_SC_SGL_DESC_TYPE_INVALID	NVME_SC(0, 0x11)
#define NVME_SC_INVALID_SGL_OFFSET	NVME_SC(0, 0x16)
#define NVME_SC_HOSTID_INCONSISTENT	NVME_SC(0, 0x18)
#define NVME_SC_KA_TIMEOUT_EXPIRED	NVME_SC(0, 0x19)
#define NVME_SC_CMD_INTERRUPTED		NVME_SC(0, 0x21)
#define NVME_SC_LBA_OUT_OF_RANGE	NVME_SC(0, 0x80)
#define NVME_SC_CAPACITY_EXCEEDED	NVME_SC(0, 0x81)
#define NVME_SC_NS_NOT_READY		NVME_SC(0, 0x82)

/* Command specific status. */
#define NVME_SC_INVALID_QUEUE_ID	NVME_SC(1, 0x01)
#define NVME_SC_INVALID_QUEUE_SIZE	NVME_SC(1, 0x02)
#define NVME_SC_ABORT_LIMIT		NVME_SC(1, 0x03)
#define NVME_SC_ASYNC_LIMIT		NVME_SC(1, 0x05)
#define NVME_SC_INVALID_LOG_PAGE	NVME_SC(1, 0x09)
#define NVME_SC_FEATURE_NOT_SAVEABLE	NVME_SC(1, 0x0D)
#define NVME_SC_FEATURE_NOT_CHANGEABLE	NVME_SC(1, 0x0E)
#define NVME_SC_ATTR_CONFLICT		NVME_SC(1, 0x80) /* I/O: conflicting attributes */
#define NVME_SC_WRITE_TO_RO		NVME_SC(1, 0x82)
/* Fabrics command specific status (Connect, Property Get/Set). */
#define NVME_SC_CONNECT_INCOMPATIBLE	NVME_SC(1, 0x80)
#define NVME_SC_CONNECT_CTRL_BUSY	NVME_SC(1, 0x81)
#define NVME_SC_CONNECT_INVALID_PARAM	NVME_SC(1, 0x82)
#define NVME_SC_CONNECT_RESTART_DISC	NVME_SC(1, 0x83)
#define NVME_SC_CONNECT_INVALID_HOST	NVME_SC(1, 0x84)
#define NVME_SC_INVALID_PROPERTY	NVME_SC(1, 0x80) /* Property Get/Set */

/* Media and data integrity errors. */
#define NVME_SC_WRITE_FAULT		NVME_SC(2, 0x80)
#define NVME_SC_UNRECOVERED_READ	NVME_SC(2, 0x81)
#define NVME_SC_ACCESS_DENIED		NVME_SC(2, 0x86)

/* Fabrics command types. */
enum {
	NVMF_FCTYPE_PROPERTY_SET = 0x00,
	NVMF_FCTYPE_CONNECT = 0x01,
	NVMF_FCTYPE_PROPERTY_GET = 0x04,
	NVMF_FCTYPE_AUTH_SEND = 0x05,
	NVMF_FCTYPE_AUTH_RECV = 0x06,
	NVMF_FCTYPE_DISCONNECT = 0x08,
};

/* Connect command data (1024 bytes, host to controller). */
struct nvmf_connect_data {
	uint8_t hostid[16];
	uint16_t cntlid;
	uint8_t reserved1[238];
	char subnqn[256];
	char hostnqn[256];
	uint8_t reserved2[256];
} __attribute__((packed));
static_assert(sizeof(struct nvmf_connect_data) == 1024, "Connect data is 1 KiB");

/* NVMe-oF RDMA CM private data (NVMe-oF RDMA transport binding). */
struct nvmf_rdma_cm_req {
	uint16_t recfmt;	/* 0 */
	uint16_t qid;
	uint16_t hrqsize;
	uint16_t hsqsize;
	uint16_t cntlid;	/* I/O queues: the admin queue's cntlid */
	uint8_t reserved[22];
} __attribute__((packed));
static_assert(sizeof(struct nvmf_rdma_cm_req) == 32, "CM request is 32 bytes");

struct nvmf_rdma_cm_rep {
	uint16_t recfmt;
	uint16_t crqsize;
	uint8_t reserved[28];
} __attribute__((packed));
static_assert(sizeof(struct nvmf_rdma_cm_rep) == 32, "CM reply is 32 bytes");

struct nvmf_rdma_cm_rej {
	uint16_t recfmt;
	uint16_t sts;
} __attribute__((packed));

/* RDMA CM reject status codes (NVMe-oF RDMA binding, figure 8). */
enum {
	NVMF_RDMA_REJ_INVALID_PRIVATE_DATA_LENGTH = 0x01,
	NVMF_RDMA_REJ_INVALID_RECFMT = 0x02,
	NVMF_RDMA_REJ_INVALID_QID = 0x03,
	NVMF_RDMA_REJ_INVALID_HSQSIZE = 0x04,
	NVMF_RDMA_REJ_INVALID_HRQSIZE = 0x05,
	NVMF_RDMA_REJ_NO_RESOURCES = 0x06,
	NVMF_RDMA_REJ_INVALID_IRD = 0x07,
	NVMF_RDMA_REJ_INVALID_ORD = 0x08,
};

#endif
