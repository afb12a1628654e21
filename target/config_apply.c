/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config methods nvmf_tgt applies, and the policy table that sorts
 * every SPDK method into apply / accept with an info line / refuse
 * (../shared/spdk-configs/POLICY.md §3).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "target/config.h"
#include "target/config_int.h"
#include "target/core.h"

#define U16MAX 0xFFFFull
#define U32MAX 0xFFFFFFFFull

/* ---- bdevs ---- */

static int block_size_ok(struct cfg_ctx *c, uint64_t bs)
{
	if (bs < 512 || bs > 4096 || (bs & (bs - 1))) {
		cfg_error(c, "field 'block_size': %llu is not 512, 1024, 2048 or 4096",
			  (unsigned long long)bs);
		return -EINVAL;
	}
	return 0;
}

static int apply_bdev_malloc(struct cfg_ctx *c, json_t *p)
{
	static const char *const keys[] = { "name", "num_blocks", "block_size",
		"uuid", "physical_block_size", "optimal_io_boundary", "numa_id",
		"md_size", "dif_type", "md_interleave", "dif_is_head_of_md",
		"dif_pi_format", NULL };
	uint64_t nb = 0, bs = 0, md = 0, dif = 0, ign;
	bool interleave = false, has_uuid, bflag;
	const char *name = NULL;
	char autoname[32];
	uint8_t uuid[16];
	struct bdev *b;
	int rc;

	if (cfg_check_keys(c, p, "params", keys, true) ||
	    cfg_str(c, p, "name", false, 63, &name) ||
	    cfg_u64(c, p, "num_blocks", true, 1, U32MAX * 4096, &nb) ||
	    cfg_u64(c, p, "block_size", true, 1, U32MAX, &bs) ||
	    cfg_uuid(c, p, "uuid", uuid, &has_uuid) ||
	    cfg_u64(c, p, "md_size", false, 0, U32MAX, &md) ||
	    cfg_u64(c, p, "dif_type", false, 0, 3, &dif) ||
	    cfg_bool(c, p, "md_interleave", &interleave) ||
	    cfg_bool(c, p, "dif_is_head_of_md", &bflag) ||
	    cfg_u64(c, p, "physical_block_size", false, 0, U32MAX, &ign) ||
	    cfg_u64(c, p, "optimal_io_boundary", false, 0, U32MAX, &ign) ||
	    block_size_ok(c, bs))
		return -EINVAL;
	if (md || dif || interleave) {
		cfg_error(c, "field '%s': metadata and DIF are not supported",
			  md ? "md_size" : dif ? "dif_type" : "md_interleave");
		return -EINVAL;
	}
	if (!name) {
		snprintf(autoname, sizeof(autoname), "Malloc%u", c->tgt->malloc_seq++);
		name = autoname;
	}
	if (bdev_find(c->tgt, name)) {
		cfg_error(c, "field 'name': bdev '%s' already exists", name);
		return -EINVAL;
	}
	if (c->dry)
		rc = bdev_placeholder_create(c->tgt, name, (uint32_t)bs, nb,
					     has_uuid ? uuid : NULL, &b);
	else
		rc = bdev_malloc_create(c->tgt, &(struct bdev_malloc_opts){
			.name = name, .num_blocks = nb, .block_size = (uint32_t)bs,
			.uuid = has_uuid ? uuid : NULL }, &b);
	if (rc)
		cfg_error(c, "bdev '%s' could not be created: %s", name, strerror(-rc));
	return rc;
}

static uint64_t aio_create_size(struct cfg_ctx *c)
{
	const char *env = getenv(NVMF_AIO_SIZE_ENV);
	unsigned long long mb = NVMF_AIO_SIZE_DEFAULT_MB;
	char *end;

	if (env && *env) {
		mb = strtoull(env, &end, 10);
		if (*end || mb == 0) {
			cfg_info(c, "%s='%s' is not a size in MiB; using %d", NVMF_AIO_SIZE_ENV,
				 env, NVMF_AIO_SIZE_DEFAULT_MB);
			mb = NVMF_AIO_SIZE_DEFAULT_MB;
		}
	}
	return (uint64_t)mb << 20;
}

static int aio_dry(struct cfg_ctx *c, const char *name, const char *file,
		   uint64_t bs, const uint8_t *uuid, struct bdev **b)
{
	struct stat st;
	uint64_t size = aio_create_size(c);

	if (!stat(file, &st) && S_ISREG(st.st_mode))
		size = (uint64_t)st.st_size;
	if (!bs)
		bs = 512;
	return bdev_placeholder_create(c->tgt, name, (uint32_t)bs, size / bs, uuid, b);
}

static int apply_bdev_aio(struct cfg_ctx *c, json_t *p)
{
	static const char *const keys[] = { "name", "filename", "block_size",
		"readonly", "uuid", "fallocate", "nowait", NULL };
	const char *name = NULL, *file = NULL;
	bool ro = false, has_uuid, ign;
	uint64_t bs = 0;
	uint8_t uuid[16];
	struct bdev *b;
	int rc;

	if (cfg_check_keys(c, p, "params", keys, true) ||
	    cfg_str(c, p, "name", true, 63, &name) ||
	    cfg_str(c, p, "filename", true, 255, &file) ||
	    cfg_u64(c, p, "block_size", false, 0, U32MAX, &bs) ||
	    cfg_bool(c, p, "readonly", &ro) ||
	    cfg_bool(c, p, "fallocate", &ign) ||
	    cfg_bool(c, p, "nowait", &ign) ||
	    cfg_uuid(c, p, "uuid", uuid, &has_uuid) ||
	    (bs && block_size_ok(c, bs)))
		return -EINVAL;
	if (bdev_find(c->tgt, name)) {
		cfg_error(c, "field 'name': bdev '%s' already exists", name);
		return -EINVAL;
	}
	if (c->dry)
		rc = aio_dry(c, name, file, bs, has_uuid ? uuid : NULL, &b);
	else
		rc = bdev_aio_create(c->tgt, &(struct bdev_aio_opts){
			.name = name, .filename = file, .block_size = (uint32_t)bs,
			.readonly = ro, .uuid = has_uuid ? uuid : NULL,
			.create_size = aio_create_size(c) }, &b);
	if (rc)
		cfg_error(c, "field 'filename': bdev '%s' on %s could not be created: %s",
			  name, file, strerror(-rc));
	return rc;
}

/* ---- nvmf_create_transport ---- */

struct topt_u {
	const char *key;
	uint64_t min, max;
	size_t off;		/* in nvmf_transport_opts; SIZE_MAX: ignored */
	uint8_t width;		/* 2 or 4 bytes */
};

#define TOPT(k, mn, mx, f) { #k, mn, mx, offsetof(struct nvmf_transport_opts, f), \
	sizeof(((struct nvmf_transport_opts *)0)->f) }
#define TIGN(k) { #k, 0, U32MAX, SIZE_MAX, 0 }

static const struct topt_u topts_u[] = {
	TOPT(max_queue_depth, 2, U16MAX, max_queue_depth),
	TOPT(max_io_qpairs_per_ctrlr, 1, U16MAX - 1, max_io_qpairs_per_ctrlr),
	TOPT(in_capsule_data_size, 0, 1u << 20, in_capsule_data_size),
	TOPT(max_io_size, 4096, 1u << 30, max_io_size),
	TOPT(io_unit_size, 0, U32MAX, io_unit_size),
	TOPT(max_aq_depth, 2, 4096, max_aq_depth),
	TOPT(num_shared_buffers, 0, U32MAX, num_shared_buffers),
	TOPT(buf_cache_size, 0, U32MAX, buf_cache_size),
	TOPT(max_srq_depth, 0, U32MAX, max_srq_depth),
	TOPT(acceptor_backlog, 0, 65535, acceptor_backlog),
	TIGN(iobuf_small_cache_size), TIGN(iobuf_large_cache_size), TIGN(num_cqe),
	TIGN(abort_timeout_sec), TIGN(ack_timeout), TIGN(data_wr_pool_size),
	TIGN(kas), TIGN(min_kato), TIGN(acceptor_poll_rate),
};

static const char *const topt_bools[] = { "no_srq", "dif_insert_or_strip", "zcopy",
	"no_wr_batching", "disable_command_passthru", NULL };
static const char *const topt_silent[] = { "trtype", "tgt_name", "c2h_success",
	"sock_priority", "control_msg_num", "max_qpairs_per_ctrlr", "masked_oncs",
	"masked_fuses", NULL };

static int topt_numbers(struct cfg_ctx *c, json_t *p, struct nvmf_transport_opts *o)
{
	for (size_t i = 0; i < sizeof(topts_u) / sizeof(topts_u[0]); i++) {
		const struct topt_u *t = &topts_u[i];
		uint64_t v;
		bool set = json_object_get(p, t->key) != NULL;

		if (cfg_u64(c, p, t->key, false, t->min, t->max, &v))
			return -EINVAL;
		if (!set || t->off == SIZE_MAX)
			continue;
		if (t->width == 2)
			*(uint16_t *)((char *)o + t->off) = (uint16_t)v;
		else
			*(uint32_t *)((char *)o + t->off) = (uint32_t)v;
	}
	return 0;
}

static bool topt_known(const char *key)
{
	for (size_t i = 0; i < sizeof(topts_u) / sizeof(topts_u[0]); i++)
		if (!strcmp(topts_u[i].key, key))
			return true;
	for (int i = 0; topt_bools[i]; i++)
		if (!strcmp(topt_bools[i], key))
			return true;
	for (int i = 0; topt_silent[i]; i++)
		if (!strcmp(topt_silent[i], key))
			return true;
	return false;
}

static int topt_misc(struct cfg_ctx *c, json_t *p, struct nvmf_transport_opts *o)
{
	bool dif = false, b;
	uint64_t v;
	const char *key;
	json_t *val;

	for (int i = 0; topt_bools[i]; i++)
		if (cfg_bool(c, p, topt_bools[i], &b))
			return -EINVAL;
	cfg_bool(c, p, "no_srq", &o->no_srq);
	cfg_bool(c, p, "dif_insert_or_strip", &dif);
	if (dif) {
		cfg_error(c, "field 'dif_insert_or_strip': DIF is not supported");
		return -EINVAL;
	}
	if (json_object_get(p, "max_qpairs_per_ctrlr")) {
		if (cfg_u64(c, p, "max_qpairs_per_ctrlr", true, 2, U16MAX, &v))
			return -EINVAL;
		o->max_io_qpairs_per_ctrlr = (uint16_t)(v - 1);
		cfg_info(c, "max_qpairs_per_ctrlr %llu (removed in SPDK v22.05) taken as "
			 "max_io_qpairs_per_ctrlr %llu", (unsigned long long)v,
			 (unsigned long long)v - 1);
	}
	if (json_object_get(p, "masked_oncs") || json_object_get(p, "masked_fuses"))
		cfg_info(c, "masked_oncs/masked_fuses ignored");
	json_object_foreach(p, key, val) {
		if (!topt_known(key))
			cfg_info(c, "field '%s' ignored", key);
	}
	return 0;
}

static int topt_check(struct cfg_ctx *c, const struct nvmf_transport_opts *o)
{
	if (o->max_io_size % 4096) {
		cfg_error(c, "field 'max_io_size': %u is not a multiple of 4096", o->max_io_size);
		return -EINVAL;
	}
	if (o->in_capsule_data_size % 16 || o->in_capsule_data_size > o->max_io_size) {
		cfg_error(c, "field 'in_capsule_data_size': %u must be a multiple of 16 "
			  "and at most max_io_size", o->in_capsule_data_size);
		return -EINVAL;
	}
	return 0;
}

static int apply_create_transport(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_transport_opts o;
	const char *trtype = NULL, *tgt_name = NULL;

	if (cfg_str(c, p, "trtype", true, 15, &trtype) ||
	    cfg_str(c, p, "tgt_name", false, 255, &tgt_name))
		return -EINVAL;
	if (strcasecmp(trtype, "RDMA")) {
		cfg_error(c, "field 'trtype': '%s' is not supported (only RDMA)", trtype);
		return -EINVAL;
	}
	if (tgt_name && strcmp(tgt_name, "nvmf_tgt")) {
		cfg_error(c, "field 'tgt_name': only the default target 'nvmf_tgt' exists");
		return -EINVAL;
	}
	if (c->tgt->has_transport) {
		cfg_error(c, "an RDMA transport already exists");
		return -EINVAL;
	}
	nvmf_transport_opts_init(&o);
	if (topt_numbers(c, p, &o) || topt_misc(c, p, &o) || topt_check(c, &o))
		return -EINVAL;
	c->tgt->topts = o;
	c->tgt->has_transport = true;
	return 0;
}

/* ---- nvmf subsystems ---- */

static bool printable(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7E)
			return false;
	return true;
}

static int nqn_check(struct cfg_ctx *c, const char *field, const char *nqn)
{
	if (!*nqn || !printable(nqn)) {
		cfg_error(c, "field '%s': '%s' is not 1-223 printable characters", field, nqn);
		return -EINVAL;
	}
	if (strncmp(nqn, "nqn.", 4))
		log_warn("config: NQN '%s' is not in the nqn.yyyy-mm.domain:name form", nqn);
	return 0;
}

static struct nvmf_subsystem *subsys_get(struct cfg_ctx *c, json_t *p,
					 bool allow_discovery)
{
	const char *nqn = NULL;
	struct nvmf_subsystem *s;

	if (cfg_str(c, p, "nqn", true, NVMF_NQN_MAX, &nqn))
		return NULL;
	s = nvmf_subsystem_find(c->tgt, nqn);
	if (!s) {
		cfg_error(c, "field 'nqn': no subsystem '%s' (nvmf_create_subsystem "
			  "must come first)", nqn);
		return NULL;
	}
	if (s->discovery && !allow_discovery) {
		cfg_error(c, "field 'nqn': not allowed on the discovery subsystem");
		return NULL;
	}
	return s;
}

static int subsys_strings(struct cfg_ctx *c, json_t *p, struct nvmf_subsystem *s)
{
	const char *sn = NULL, *mn = NULL;

	if (cfg_str(c, p, "serial_number", false, NVMF_SN_LEN, &sn) ||
	    cfg_str(c, p, "model_number", false, NVMF_MN_LEN, &mn))
		return -EINVAL;
	if ((sn && (!*sn || !printable(sn))) || (mn && (!*mn || !printable(mn)))) {
		cfg_error(c, "field '%s' must be printable ASCII",
			  sn && !printable(sn) ? "serial_number" : "model_number");
		return -EINVAL;
	}
	if (sn)
		strcpy(s->sn, sn);
	if (mn)
		strcpy(s->mn, mn);
	return 0;
}

static int subsys_numbers(struct cfg_ctx *c, json_t *p, struct nvmf_subsystem *s)
{
	uint64_t max_ns = 0, min_id = NVMF_MIN_CNTLID, max_id = NVMF_MAX_CNTLID, ign;
	struct nvmf_ns **ns;

	if (cfg_u64(c, p, "max_namespaces", false, 0, 1024, &max_ns) ||
	    cfg_u64(c, p, "min_cntlid", false, 1, NVMF_MAX_CNTLID, &min_id) ||
	    cfg_u64(c, p, "max_cntlid", false, 1, NVMF_MAX_CNTLID, &max_id) ||
	    cfg_u64(c, p, "max_discard_size_kib", false, 0, U32MAX, &ign) ||
	    cfg_u64(c, p, "max_write_zeroes_size_kib", false, 0, U32MAX, &ign) ||
	    cfg_u64(c, p, "dmrsl", false, 0, U32MAX, &ign) ||
	    cfg_u64(c, p, "wzsl", false, 0, 255, &ign))
		return -EINVAL;
	if (min_id > max_id) {
		cfg_error(c, "field 'min_cntlid': %llu is above max_cntlid %llu",
			  (unsigned long long)min_id, (unsigned long long)max_id);
		return -EINVAL;
	}
	s->min_cntlid = s->next_cntlid = (uint16_t)min_id;
	s->max_cntlid = (uint16_t)max_id;
	if (max_ns && max_ns != s->max_ns) {
		ns = calloc(max_ns, sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		free(s->ns);
		s->ns = ns;
		s->max_ns = (uint32_t)max_ns;
	}
	return 0;
}

static int apply_create_subsystem(struct cfg_ctx *c, json_t *p)
{
	static const char *const keys[] = { "nqn", "serial_number", "model_number",
		"max_namespaces", "allow_any_host", "min_cntlid", "max_cntlid",
		"tgt_name", "ana_reporting", "max_discard_size_kib",
		"max_write_zeroes_size_kib", "passthrough", "enable_nssr", "dmrsl",
		"wzsl", NULL };
	bool any = false, ana = false, nssr = false, pt = false;
	const char *nqn = NULL;
	struct nvmf_subsystem *s;

	if (cfg_check_keys(c, p, "params", keys, true) ||
	    cfg_str(c, p, "nqn", true, NVMF_NQN_MAX, &nqn) || nqn_check(c, "nqn", nqn) ||
	    cfg_bool(c, p, "allow_any_host", &any) || cfg_bool(c, p, "ana_reporting", &ana) ||
	    cfg_bool(c, p, "enable_nssr", &nssr) || cfg_bool(c, p, "passthrough", &pt))
		return -EINVAL;
	if (pt) {
		cfg_error(c, "field 'passthrough': NVMe passthrough is not supported");
		return -EINVAL;
	}
	if (nvmf_subsystem_find(c->tgt, nqn)) {
		cfg_error(c, "field 'nqn': subsystem '%s' already exists", nqn);
		return -EINVAL;
	}
	if ((uint32_t)c->tgt->nsubsys - 1 >= c->tgt->max_subsystems) {
		cfg_error(c, "more than max_subsystems (%u) subsystems", c->tgt->max_subsystems);
		return -EINVAL;
	}
	if (ana || nssr)
		cfg_info(c, "%s ignored (single path)", ana ? "ana_reporting" : "enable_nssr");
	s = nvmf_subsystem_create(c->tgt, nqn);
	if (!s)
		return -ENOMEM;
	s->allow_any_host = any;
	return subsys_strings(c, p, s) || subsys_numbers(c, p, s) ? -EINVAL : 0;
}

static int ns_ids(struct cfg_ctx *c, json_t *n, struct nvmf_ns *ns)
{
	uint8_t uuid[16], nguid[16];
	bool has_uuid, has_nguid;

	if (cfg_uuid(c, n, "uuid", uuid, &has_uuid) ||
	    cfg_hex(c, n, "nguid", nguid, 16, &has_nguid) ||
	    cfg_hex(c, n, "eui64", ns->eui64, 8, &ns->has_eui64))
		return -EINVAL;
	/* As SPDK: with neither given, the bdev's UUID serves as both. */
	memcpy(ns->uuid, has_uuid ? uuid : ns->bdev->uuid, 16);
	memcpy(ns->nguid, has_nguid ? nguid : ns->uuid, 16);
	return 0;
}

static int ns_unique(struct cfg_ctx *c, const struct nvmf_ns *ns)
{
	for (int i = 0; i < c->tgt->nsubsys; i++) {
		const struct nvmf_subsystem *s = c->tgt->subsys[i];

		for (uint32_t j = 0; j < s->max_ns; j++) {
			const struct nvmf_ns *o = s->ns[j];

			if (o && (!memcmp(o->uuid, ns->uuid, 16) ||
				  !memcmp(o->nguid, ns->nguid, 16))) {
				cfg_error(c, "field 'uuid'/'nguid': same as nsid %u of %s "
					  "(hosts drop namespaces with duplicate IDs)",
					  o->nsid, s->nqn);
				return -EINVAL;
			}
		}
	}
	return 0;
}

static int apply_add_ns(struct cfg_ctx *c, json_t *p)
{
	static const char *const keys[] = { "nsid", "bdev_name", "uuid", "nguid",
		"eui64", "ptpl_file", "anagrpid", "no_auto_visible", "hide_metadata", NULL };
	struct nvmf_subsystem *s = subsys_get(c, p, false);
	json_t *n = json_object_get(p, "namespace");
	struct nvmf_ns ns = { 0 };
	const char *bname = NULL;
	uint64_t nsid = 0, ign;
	bool hidden = false;
	int rc;

	if (!s)
		return -EINVAL;
	if (!json_is_object(n)) {
		cfg_error(c, "field 'namespace' (an object) is required");
		return -EINVAL;
	}
	if (cfg_check_keys(c, n, "namespace", keys, true) ||
	    cfg_str(c, n, "bdev_name", true, 63, &bname) ||
	    cfg_u64(c, n, "nsid", false, 0, 0xFFFFFFFE, &nsid) ||
	    cfg_u64(c, n, "anagrpid", false, 0, U32MAX, &ign) ||
	    cfg_bool(c, n, "no_auto_visible", &hidden))
		return -EINVAL;
	if (hidden) {
		cfg_error(c, "field 'no_auto_visible': per-host namespace visibility "
			  "(nvmf_ns_add_host) is not supported");
		return -EINVAL;
	}
	if (json_object_get(n, "ptpl_file"))
		cfg_info(c, "ptpl_file ignored (no reservations)");
	ns.bdev = bdev_find(c->tgt, bname);
	if (!ns.bdev) {
		cfg_error(c, "field 'bdev_name': no bdev '%s' (create it first)", bname);
		return -EINVAL;
	}
	if (ns.bdev->claimed) {
		cfg_error(c, "field 'bdev_name': bdev '%s' is already a namespace", bname);
		return -EINVAL;
	}
	ns.nsid = nsid ? (uint32_t)nsid : nvmf_subsystem_free_nsid(s);
	if (ns_ids(c, n, &ns) || ns_unique(c, &ns))
		return -EINVAL;
	rc = nvmf_subsystem_add_ns(s, &ns);
	if (rc) {
		cfg_error(c, "field 'nsid': %u is %s (max_namespaces %u)", ns.nsid,
			  rc == -EEXIST ? "taken" : "out of range", s->max_ns);
		return -EINVAL;
	}
	ns.bdev->claimed = true;
	return 0;
}

static int apply_add_host(struct cfg_ctx *c, json_t *p)
{
	static const char *const auth[] = { "dhchap_key", "dhchap_ctrlr_key", "psk", NULL };
	struct nvmf_subsystem *s = subsys_get(c, p, false);
	const char *host = NULL;
	int rc;

	if (!s)
		return -EINVAL;
	for (int i = 0; auth[i]; i++) {
		if (json_object_get(p, auth[i])) {
			cfg_error(c, "field '%s': authentication (DH-HMAC-CHAP/TLS) is "
				  "not supported", auth[i]);
			return -EINVAL;
		}
	}
	if (cfg_str(c, p, "host", true, NVMF_NQN_MAX, &host) || nqn_check(c, "host", host))
		return -EINVAL;
	rc = nvmf_subsystem_add_host(s, host);
	if (rc == -EEXIST)
		cfg_info(c, "host %s listed twice", host);
	return rc == -EEXIST ? 0 : rc;
}

static int apply_allow_any_host(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_subsystem *s = subsys_get(c, p, false);
	bool any = false;

	if (!s || cfg_bool(c, p, "allow_any_host", &any))
		return -EINVAL;
	if (!json_object_get(p, "allow_any_host")) {
		cfg_error(c, "field 'allow_any_host' is required");
		return -EINVAL;
	}
	s->allow_any_host = any;
	s->tgt->genctr++;
	return 0;
}

static int listen_addr_get(struct cfg_ctx *c, json_t *la, struct nvmf_listen_addr *a)
{
	static const char *const keys[] = { "trtype", "transport", "adrfam", "traddr",
		"trsvcid", NULL };
	const char *trtype = NULL, *adrfam = "IPv4", *traddr = NULL, *svc = NULL;
	char *end;
	long port;

	if (!json_is_object(la)) {
		cfg_error(c, "field 'listen_address' (an object) is required");
		return -EINVAL;
	}
	if (cfg_check_keys(c, la, "listen_address", keys, true) ||
	    cfg_str(c, la, json_object_get(la, "trtype") ? "trtype" : "transport", true,
		    15, &trtype) ||
	    cfg_str(c, la, "adrfam", false, 7, &adrfam) ||
	    cfg_str(c, la, "traddr", true, 63, &traddr) ||
	    cfg_str(c, la, "trsvcid", true, 31, &svc))
		return -EINVAL;
	if (strcasecmp(trtype, "RDMA")) {
		cfg_error(c, "field 'trtype': '%s' is not supported (only RDMA)", trtype);
		return -EINVAL;
	}
	if (strcasecmp(adrfam, "IPv4") && strcasecmp(adrfam, "IPv6")) {
		cfg_error(c, "field 'adrfam': '%s' is not IPv4 or IPv6", adrfam);
		return -EINVAL;
	}
	port = strtol(svc, &end, 10);
	if (!*svc || *end || port < 0 || port > 65535) {
		cfg_error(c, "field 'trsvcid': '%s' is not a port number", svc);
		return -EINVAL;
	}
	memset(a, 0, sizeof(*a));
	strcpy(a->trtype, "RDMA");
	strcpy(a->adrfam, strcasecmp(adrfam, "IPv6") ? "IPv4" : "IPv6");
	strcpy(a->traddr, traddr);
	strcpy(a->trsvcid, svc);
	return 0;
}

static int apply_add_listener(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_subsystem *s = subsys_get(c, p, true);
	struct nvmf_listen_addr a;
	bool secure = false;
	int rc;

	if (!s || cfg_bool(c, p, "secure_channel", &secure) ||
	    listen_addr_get(c, json_object_get(p, "listen_address"), &a))
		return -EINVAL;
	if (secure) {
		cfg_error(c, "field 'secure_channel': TLS is not supported");
		return -EINVAL;
	}
	if (!c->tgt->has_transport) {
		cfg_info(c, "no nvmf_create_transport before it: RDMA transport "
			 "created with defaults");
		nvmf_transport_opts_init(&c->tgt->topts);
		c->tgt->has_transport = true;
	}
	rc = nvmf_subsystem_add_listener(s, &a);
	if (rc == -EEXIST) {
		cfg_error(c, "field 'listen_address': %s:%s already listed", a.traddr, a.trsvcid);
		return -EINVAL;
	}
	return rc;
}

static int apply_max_subsystems(struct cfg_ctx *c, json_t *p)
{
	uint64_t v = 0;

	if (cfg_u64(c, p, "max_subsystems", true, 1, U32MAX, &v))
		return -EINVAL;
	c->tgt->max_subsystems = (uint32_t)v;
	return 0;
}

/* ---- The policy table ---- */

#define A(n, f) { n, CFG_APPLY, false, f, NULL }
#define AO(n, f) { n, CFG_APPLY, true, f, NULL }
#define B(n, w) { n, CFG_ACCEPT, true, NULL, w }
#define C(n, w) { n, CFG_REFUSE, false, NULL, w }

static const struct cfg_method methods[] = {
	A("bdev_malloc_create", apply_bdev_malloc),
	A("bdev_aio_create", apply_bdev_aio),
	A("nvmf_create_transport", apply_create_transport),
	A("nvmf_create_subsystem", apply_create_subsystem),
	A("nvmf_subsystem_add_ns", apply_add_ns),
	A("nvmf_subsystem_add_host", apply_add_host),
	A("nvmf_subsystem_add_listener", apply_add_listener),
	A("nvmf_subsystem_allow_any_host", apply_allow_any_host),
	AO("nvmf_set_max_subsystems", apply_max_subsystems),
	B("nvmf_set_config", "discovery filter, passthru, poll groups, auth digests: n/a"),
	B("nvmf_set_crdt", "no retry-delay statuses are returned"),
	B("framework_set_scheduler", "SPDK reactor scheduler"),
	B("iobuf_set_options", "nvmf_tgt sizes its own buffers"),
	B("sock_set_default_impl", "no sockets in an RDMA target"),
	B("sock_impl_set_options", "no sockets in an RDMA target"),
	B("accel_set_options", "no offload engines"),
	B("accel_set_driver", "no offload engines"),
	B("accel_assign_opc", "no offload engines"),
	B("accel_error_inject_error", "no offload engines"),
	B("vmd_enable", "no PCIe devices"),
	B("keyring_file_add_key", "keys are only refused where used"),
	B("keyring_linux_set_options", "keys are only refused where used"),
	B("bdev_set_options", "bdev-layer pools"),
	B("bdev_examine", "creates are synchronous"),
	B("bdev_wait_for_examine", "creates are synchronous"),
	B("bdev_enable_histogram", "no histograms"),
	B("bdev_nvme_set_options", "no NVMe bdev module"),
	B("bdev_nvme_set_hotplug", "no NVMe bdev module"),
	B("bdev_raid_set_options", "no RAID module"),
	B("bdev_iscsi_set_options", "no iSCSI bdev module"),
	C("nvmf_ns_add_host", "per-host namespace visibility is not supported"),
	C("nvmf_discovery_add_referral", "discovery referrals are not supported"),
	C("bdev_nvme_attach_controller", "NVMe devices/remote controllers cannot be served"),
	C("bdev_nvme_start_discovery", "NVMe devices/remote controllers cannot be served"),
	C("bdev_nvme_start_mdns_discovery", "NVMe devices/remote controllers cannot be served"),
	C("bdev_nvme_cuse_register", "NVMe devices/remote controllers cannot be served"),
	C("bdev_nvme_set_multipath_policy", "NVMe devices/remote controllers cannot be served"),
	C("bdev_null_create", "use bdev_malloc_create"),
	C("bdev_uring_create", "use bdev_aio_create"),
	C("bdev_xnvme_create", "use bdev_aio_create"),
	C("bdev_set_qos_limit", "ignoring it would silently remove a rate limit"),
	C("accel_crypto_key_create", "crypto bdevs are not supported"),
	C("nbd_start_disk", "no local NBD exports"),
	C("construct_malloc_bdev", "legacy name, use bdev_malloc_create"),
	C("construct_aio_bdev", "legacy name, use bdev_aio_create"),
	C("construct_nvme_bdev", "legacy name of bdev_nvme_attach_controller"),
	C("construct_split_vbdev", "legacy name of bdev_split_create"),
	C("construct_pmem_bdev", "legacy name of bdev_pmem_create"),
	C("nvmf_subsystem_create", "legacy name, use nvmf_create_subsystem"),
	C("set_nvmf_target_config", "legacy name, use nvmf_set_config"),
	C("set_nvmf_target_max_subsystems", "legacy name, use nvmf_set_max_subsystems"),
	C("set_bdev_options", "legacy name, use bdev_set_options"),
	C("set_bdev_nvme_options", "legacy name, use bdev_nvme_set_options"),
	C("set_bdev_nvme_hotplug", "legacy name, use bdev_nvme_set_hotplug"),
};

static const struct cfg_method other_bdev = {
	NULL, CFG_REFUSE, false, NULL, "this bdev type is not supported"
};
static const struct cfg_method accel_module = {
	NULL, CFG_ACCEPT, true, NULL, "no offload engines"
};

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

const struct cfg_method *cfg_method_find(const char *name)
{
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		if (!strcmp(methods[i].name, name))
			return &methods[i];
	}
	if (has_suffix(name, "_scan_accel_module"))
		return &accel_module;
	if (!strncmp(name, "bdev_", 5) && (has_suffix(name, "_create") ||
	    !strncmp(name, "bdev_lvol_", 10) || has_suffix(name, "_attach_controller")))
		return &other_bdev;
	return NULL;
}
