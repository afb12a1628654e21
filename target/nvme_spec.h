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
#define NVME_SC_NS_WRITE_PROTECTED	NVME_SC(0, 0x20)

/* Command specific status. */
#define NVME_SC_INVALID_QUEUE_ID	NVME_SC(1, 0x01)
#define NVME_SC_INVALID_QUEUE_SIZE	NVME_SC(1, 0x02)
#define NVME_SC_ABORT_LIMIT		NVME_SC(1, 0x03)
#define NVME_SC_ASYNC_LIMIT		NVME_SC(1, 0x05)
#define NVME_SC_INVALID_LOG_PAGE	NVME_SC(1, 0x09)
#define NVME_SC_INVALID_FORMAT		NVME_SC(1, 0x0A)
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

/* Admin command opcodes. */
enum {
	NVME_OPC_GET_LOG_PAGE = 0x02,
	NVME_OPC_IDENTIFY = 0x06,
	NVME_OPC_ABORT = 0x08,
	NVME_OPC_SET_FEATURES = 0x09,
	NVME_OPC_GET_FEATURES = 0x0A,
	NVME_OPC_ASYNC_EVENT_REQUEST = 0x0C,
	NVME_OPC_KEEP_ALIVE = 0x18,
};

/* NVM command set opcodes. */
enum {
	NVME_OPC_FLUSH = 0x00,
	NVME_OPC_WRITE = 0x01,
	NVME_OPC_READ = 0x02,
	NVME_OPC_WRITE_ZEROES = 0x08,
	NVME_OPC_DSM = 0x09,
};

/* Identify CNS values. */
enum {
	NVME_CNS_NS = 0x00,
	NVME_CNS_CTRLR = 0x01,
	NVME_CNS_ACTIVE_NS_LIST = 0x02,
	NVME_CNS_NS_DESC_LIST = 0x03,
	NVME_CNS_CTRLR_CSI = 0x06,	/* command set specific controller */
};

/* Feature identifiers. */
enum {
	NVME_FEAT_ARBITRATION = 0x01,
	NVME_FEAT_POWER_MGMT = 0x02,
	NVME_FEAT_TEMP_THRESH = 0x04,
	NVME_FEAT_ERR_RECOVERY = 0x05,
	NVME_FEAT_VOLATILE_WC = 0x06,
	NVME_FEAT_NUM_QUEUES = 0x07,
	NVME_FEAT_IRQ_COALESCE = 0x08,
	NVME_FEAT_IRQ_CONFIG = 0x09,
	NVME_FEAT_WRITE_ATOMIC = 0x0A,
	NVME_FEAT_ASYNC_EVENT = 0x0B,
	NVME_FEAT_KATO = 0x0F,
	NVME_FEAT_HOST_ID = 0x81,
};

/* Log page identifiers. */
enum {
	NVME_LOG_ERROR = 0x01,
	NVME_LOG_SMART = 0x02,
	NVME_LOG_FW_SLOT = 0x03,
	NVME_LOG_CHANGED_NS = 0x04,
	NVME_LOG_CMD_EFFECTS = 0x05,
	NVME_LOG_DISC = 0x70,
};

/* Controller properties (NVMe-oF Property Get/Set offsets). */
enum {
	NVME_REG_CAP = 0x00,
	NVME_REG_VS = 0x08,
	NVME_REG_CC = 0x14,
	NVME_REG_CSTS = 0x1C,
};
#define NVME_CC_EN		(1u << 0)
#define NVME_CC_SHN(cc)		(((cc) >> 14) & 0x3)
#define NVME_CSTS_RDY		(1u << 0)
#define NVME_CSTS_CFS		(1u << 1)
#define NVME_CSTS_SHST_CMPLT	(2u << 2)
#define NVME_CSTS_SHST_MASK	(3u << 2)

/* Asynchronous events: notice type, NS attribute changed. */
#define NVME_AER_TYPE_NOTICE		2
#define NVME_AER_NOTICE_NS_CHANGED	0x00
#define NVME_AER_NOTICE_DISC_CHANGED	0xF0
#define NVME_AEN_CFG_NS_ATTR		(1u << 8)
#define NVME_AEN_CFG_DISC_CHANGE	(1u << 31)

/* Identify Controller data (4096 bytes). */
struct nvme_id_ctrl {
	uint16_t vid;
	uint16_t ssvid;
	char sn[20];
	char mn[40];
	char fr[8];
	uint8_t rab;
	uint8_t ieee[3];
	uint8_t cmic;
	uint8_t mdts;
	uint16_t cntlid;
	uint32_t ver;
	uint32_t rtd3r;
	uint32_t rtd3e;
	uint32_t oaes;
	uint32_t ctratt;
	uint16_t rrls;
	uint8_t rsvd102[9];
	uint8_t cntrltype;
	uint8_t fguid[16];
	uint16_t crdt[3];
	uint8_t rsvd134[122];
	uint16_t oacs;
	uint8_t acl;
	uint8_t aerl;
	uint8_t frmw;
	uint8_t lpa;
	uint8_t elpe;
	uint8_t npss;
	uint8_t avscc;
	uint8_t apsta;
	uint16_t wctemp;
	uint16_t cctemp;
	uint8_t rsvd270[50];
	uint16_t kas;
	uint8_t rsvd322[190];
	uint8_t sqes;
	uint8_t cqes;
	uint16_t maxcmd;
	uint32_t nn;
	uint16_t oncs;
	uint16_t fuses;
	uint8_t fna;
	uint8_t vwc;
	uint16_t awun;
	uint16_t awupf;
	uint8_t nvscc;
	uint8_t nwpc;
	uint16_t acwu;
	uint16_t ocfs;
	uint32_t sgls;
	uint32_t mnan;
	uint8_t rsvd544[224];
	char subnqn[256];
	uint8_t rsvd1024[768];
	uint32_t ioccsz;
	uint32_t iorcsz;
	uint16_t icdoff;
	uint8_t fcatt;
	uint8_t msdbd;
	uint16_t ofcs;
	uint8_t rsvd1806[242];
	uint8_t psd[32][32];
	uint8_t vs[1024];
} __attribute__((packed));
static_assert(sizeof(struct nvme_id_ctrl) == 4096, "Identify Controller is 4 KiB");
static_assert(__builtin_offsetof(struct nvme_id_ctrl, kas) == 320, "KAS at 320");
static_assert(__builtin_offsetof(struct nvme_id_ctrl, sgls) == 536, "SGLS at 536");
static_assert(__builtin_offsetof(struct nvme_id_ctrl, subnqn) == 768, "SUBNQN at 768");
static_assert(__builtin_offsetof(struct nvme_id_ctrl, ioccsz) == 1792, "IOCCSZ at 1792");

#define NVME_CTRLR_SGLS_SUPPORTED	(1u << 0)
#define NVME_CTRLR_SGLS_KEYED		(1u << 2)
#define NVME_CTRLR_SGLS_OFFSET		(1u << 20)
#define NVME_CTRLR_CMIC_MULTI_CTRL	(1u << 1)
#define NVME_CTRLR_CMIC_ANA		(1u << 3)
#define NVME_CTRLR_ONCS_DSM		(1u << 2)
#define NVME_CTRLR_ONCS_WRITE_ZEROES	(1u << 3)
#define NVME_CTRLR_LPA_CMD_EFFECTS	(1u << 1)
#define NVME_CTRLR_LPA_EXT_DATA		(1u << 2)

struct nvme_lbaf {
	uint16_t ms;
	uint8_t lbads;
	uint8_t rp;
} __attribute__((packed));

/* Identify Namespace data (4096 bytes). */
struct nvme_id_ns {
	uint64_t nsze;
	uint64_t ncap;
	uint64_t nuse;
	uint8_t nsfeat;
	uint8_t nlbaf;
	uint8_t flbas;
	uint8_t mc;
	uint8_t dpc;
	uint8_t dps;
	uint8_t nmic;
	uint8_t rescap;
	uint8_t fpi;
	uint8_t dlfeat;
	uint16_t nawun;
	uint16_t nawupf;
	uint16_t nacwu;
	uint16_t nabsn;
	uint16_t nabo;
	uint16_t nabspf;
	uint16_t noiob;
	uint8_t nvmcap[16];
	uint8_t rsvd64[35];
	uint8_t nsattr;
	uint16_t nvmsetid;
	uint16_t endgid;
	uint8_t nguid[16];
	uint8_t eui64[8];
	struct nvme_lbaf lbaf[16];
	uint8_t rsvd192[3904];
} __attribute__((packed));
static_assert(sizeof(struct nvme_id_ns) == 4096, "Identify Namespace is 4 KiB");
static_assert(__builtin_offsetof(struct nvme_id_ns, nguid) == 104, "NGUID at 104");

/* Namespace identification descriptor types. */
enum {
	NVME_NIDT_EUI64 = 1,
	NVME_NIDT_NGUID = 2,
	NVME_NIDT_UUID = 3,
	NVME_NIDT_CSI = 4,
};

/* Dataset Management range (16 bytes). */
struct nvme_dsm_range {
	uint32_t cattr;
	uint32_t nlb;
	uint64_t slba;
} __attribute__((packed));
static_assert(sizeof(struct nvme_dsm_range) == 16, "DSM range is 16 bytes");

/* Discovery log page (LID 70h): a 1024-byte header, then 1024-byte entries. */
struct nvmf_disc_log_entry {
	uint8_t trtype;
	uint8_t adrfam;
	uint8_t subtype;
	uint8_t treq;
	uint16_t portid;
	uint16_t cntlid;
	uint16_t asqsz;
	uint16_t eflags;
	uint8_t rsvd12[20];
	char trsvcid[32];
	uint8_t rsvd64[192];
	char subnqn[256];
	char traddr[256];
	union {
		uint8_t raw[256];
		struct {
			uint8_t qptype;
			uint8_t prtype;
			uint8_t cms;
			uint8_t rsvd3[5];
			uint16_t pkey;
			uint8_t rsvd10[246];
		} rdma;
	} tsas;
} __attribute__((packed));
static_assert(sizeof(struct nvmf_disc_log_entry) == 1024, "disc entry is 1 KiB");

struct nvmf_disc_log_hdr {
	uint64_t genctr;
	uint64_t numrec;
	uint16_t recfmt;
	uint8_t rsvd[1006];
} __attribute__((packed));
static_assert(sizeof(struct nvmf_disc_log_hdr) == 1024, "disc header is 1 KiB");

enum {
	NVMF_TRTYPE_RDMA = 1,
	NVMF_ADRFAM_IPV4 = 1,
	NVMF_ADRFAM_IPV6 = 2,
	NVMF_SUBTYPE_DISCOVERY_REFERRAL = 1,
	NVMF_SUBTYPE_NVME = 2,
	NVMF_SUBTYPE_DISCOVERY_CURRENT = 3,
	NVMF_RDMA_QPTYPE_CONNECTED = 1,
	NVMF_RDMA_PRTYPE_NOT_SPECIFIED = 1,
	NVMF_RDMA_CMS_RDMA_CM = 1,
};

#endif
