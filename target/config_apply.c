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

/* SPDK answers -EEXIST for a name taken. */
static bool bdev_exists(struct cfg_ctx *c, const char *name)
{
	if (!bdev_find(c->tgt, name))
		return false;
	cfg_error_code(c, -EEXIST, "field 'name': bdev '%s' already exists", name);
	return true;
}

/* The answer of a create: the bdev's name. */
static int bdev_created(struct cfg_ctx *c, const char *name, int rc)
{
	if (rc) {
		cfg_error_code(c, rc, "bdev '%s' could not be created: %s", name,
			       strerror(-rc));
		return rc;
	}
	if (c->rpc)
		c->result = json_string(name);
	return 0;
}

static int block_size_ok(struct cfg_ctx *c, uint64_t bs)
{
	if (bs < 512 || bs > 4096 || (bs & (bs - 1))) {
		cfg_error(c, "field 'block_size': %llu is not 512, 1024, 2048 or 4096",
			  (unsigned long long)bs);
		return -EINVAL;
	}
	return 0;
}

int cfg_bdev_malloc_create(struct cfg_ctx *c, json_t *p)
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
	if (bdev_exists(c, name))
		return -EINVAL;
	if (c->dry)
		rc = bdev_placeholder_create(c->tgt, name, (uint32_t)bs, nb,
					     has_uuid ? uuid : NULL, &b);
	else
		rc = bdev_malloc_create(c->tgt, &(struct bdev_malloc_opts){
			.name = name, .num_blocks = nb, .block_size = (uint32_t)bs,
			.uuid = has_uuid ? uuid : NULL }, &b);
	return bdev_created(c, name, rc);
}

int cfg_bdev_null_create(struct cfg_ctx *c, json_t *p)
{
	static const char *const keys[] = { "name", "num_blocks", "block_size",
		"uuid", "physical_block_size", "md_size", "dif_type", "dif_is_head_of_md",
		"dif_pi_format", NULL };
	uint64_t nb = 0, bs = 0, md = 0, dif = 0, ign;
	const char *name = NULL;
	bool has_uuid, bflag;
	uint8_t uuid[16];
	struct bdev *b;
	int rc;

	if (cfg_check_keys(c, p, "params", keys, true) ||
	    cfg_str(c, p, "name", true, 63, &name) ||
	    cfg_u64(c, p, "num_blocks", true, 1, UINT64_MAX / 4096, &nb) ||
	    cfg_u64(c, p, "block_size", true, 1, U32MAX, &bs) ||
	    cfg_uuid(c, p, "uuid", uuid, &has_uuid) ||
	    cfg_u64(c, p, "md_size", false, 0, U32MAX, &md) ||
	    cfg_u64(c, p, "dif_type", false, 0, 3, &dif) ||
	    cfg_bool(c, p, "dif_is_head_of_md", &bflag) ||
	    cfg_u64(c, p, "physical_block_size", false, 0, U32MAX, &ign) ||
	    cfg_u64(c, p, "dif_pi_format", false, 0, U32MAX, &ign) ||
	    block_size_ok(c, bs))
		return -EINVAL;
	if (md || dif) {
		cfg_error(c, "field '%s': metadata and DIF are not supported",
			  md ? "md_size" : "dif_type");
		return -EINVAL;
	}
	if (bdev_exists(c, name))
		return -EINVAL;
	rc = bdev_null_create(c->tgt, &(struct bdev_malloc_opts){ .name = name,
		.num_blocks = nb, .block_size = (uint32_t)bs,
		.uuid = has_uuid ? uuid : NULL }, &b);
	return bdev_created(c, name, rc);
}

int cfg_bdev_delay_create(struct cfg_ctx *c, json_t *p)
{
	static const char *const keys[] = { "name", "base_bdev_name", "uuid",
		"avg_read_latency", "p99_read_latency", "avg_write_latency",
		"p99_write_latency", NULL };
	struct bdev_delay_opts o = { 0 };
	const char *base = NULL;
	bool has_uuid;
	uint8_t uuid[16];
	struct bdev *b;
	int rc;

	if (cfg_check_keys(c, p, "params", keys, true) ||
	    cfg_str(c, p, "name", true, 63, &o.name) ||
	    cfg_str(c, p, "base_bdev_name", true, 63, &base) ||
	    cfg_uuid(c, p, "uuid", uuid, &has_uuid) ||
	    cfg_u64(c, p, "avg_read_latency", true, 0, UINT32_MAX * 1000ull, &o.avg_read) ||
	    cfg_u64(c, p, "p99_read_latency", true, 0, UINT32_MAX * 1000ull, &o.p99_read) ||
	    cfg_u64(c, p, "avg_write_latency", true, 0, UINT32_MAX * 1000ull, &o.avg_write) ||
	    cfg_u64(c, p, "p99_write_latency", true, 0, UINT32_MAX * 1000ull, &o.p99_write))
		return -EINVAL;
	if (o.p99_read < o.avg_read || o.p99_write < o.avg_write) {
		cfg_error_code(c, -EINVAL, "Invalid argument: a p99 latency is below its "
			       "average");
		return -EINVAL;
	}
	if (bdev_exists(c, o.name))
		return -EINVAL;
	o.base = bdev_find(c->tgt, base);
	if (!o.base) {
		cfg_error_code(c, -ENODEV, "field 'base_bdev_name': no bdev '%s' (create "
			       "it first)", base);
		return -EINVAL;
	}
	if (o.base->claimed || !strcmp(o.base->ops->type, "delay")) {
		cfg_error(c, "field 'base_bdev_name': bdev '%s' is %s", base,
			  o.base->claimed ? "already claimed" : "a delay bdev itself");
		return -EINVAL;
	}
	o.uuid = has_uuid ? uuid : NULL;
	rc = c->dry ? bdev_placeholder_create(c->tgt, o.name, o.base->block_size,
					      o.base->num_blocks, o.uuid, &b) :
		      bdev_delay_create(c->tgt, &o, &b);
	if (!rc && c->dry)
		o.base->claimed = true;
	return bdev_created(c, o.name, rc);
}

int cfg_bdev_delay_update_latency(struct cfg_ctx *c, json_t *p)
{
	const char *name = NULL, *type = NULL;
	uint64_t us = 0;
	struct bdev *b;

	if (cfg_str(c, p, "delay_bdev_name", true, 63, &name) ||
	    cfg_str(c, p, "latency_type", true, 15, &type) ||
	    cfg_u64(c, p, "latency_us", true, 0, UINT32_MAX * 1000ull, &us))
		return -EINVAL;
	b = bdev_find(c->tgt, name);
	if (!b || strcmp(b->ops->type, "delay")) {
		cfg_error(c, "The requested bdev does not exist.");
		return -EINVAL;
	}
	if (bdev_delay_set_latency(b, type, us)) {
		cfg_error(c, "Please specify a valid latency type.");
		return -EINVAL;
	}
	return 0;
}

/* bdev_malloc_delete, bdev_aio_delete, bdev_null_delete: a hot-remove. */
int cfg_bdev_delete(struct cfg_ctx *c, json_t *p)
{
	const char *name = NULL, *type = strchr(c->method, '_') + 1;
	size_t tlen = strcspn(type, "_");
	struct bdev *b;

	if (cfg_str(c, p, "name", true, 63, &name))
		return -EINVAL;
	b = bdev_find(c->tgt, name);
	if (!b || strlen(b->ops->type) != tlen || strncmp(b->ops->type, type, tlen)) {
		cfg_error_code(c, -ENODEV, "No such device: field 'name': no %.*s bdev '%s'",
			       (int)tlen, type, name);
		return -EINVAL;
	}
	bdev_delete(c->tgt, b);
	return 0;
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

int cfg_bdev_aio_create(struct cfg_ctx *c, json_t *p)
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
	if (bdev_exists(c, name))
		return -EINVAL;
	if (c->dry)
		rc = aio_dry(c, name, file, bs, has_uuid ? uuid : NULL, &b);
	else
		rc = bdev_aio_create(c->tgt, &(struct bdev_aio_opts){
			.name = name, .filename = file, .block_size = (uint32_t)bs,
			.readonly = ro, .uuid = has_uuid ? uuid : NULL,
			.create_size = aio_create_size(c) }, &b);
	if (rc) {
		cfg_error_code(c, rc, "field 'filename': bdev '%s' on %s could not be "
			       "created: %s", name, file, strerror(-rc));
		return rc;
	}
	if (c->rpc)
		c->result = json_string(name);
	return 0;
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

int cfg_create_transport(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_transport_opts o;
	const char *trtype = NULL, *tgt_name = NULL;
	int rc;

	if (cfg_str(c, p, "trtype", true, 15, &trtype) ||
	    cfg_str(c, p, "tgt_name", false, 255, &tgt_name))
		return -EINVAL;
	if (strcasecmp(trtype, "RDMA")) {
		cfg_error(c, "field 'trtype': '%s' is not supported (only RDMA)", trtype);
		return -EINVAL;
	}
	if (tgt_name && strcmp(tgt_name, "nvmf_tgt")) {
		cfg_error(c, "Unable to find target %s: field 'tgt_name': only the default "
			  "target 'nvmf_tgt' exists", tgt_name);
		return -EINVAL;
	}
	if (c->tgt->has_transport) {
		cfg_error(c, "Transport type 'RDMA' already exists (an RDMA transport "
			  "already exists)");
		return -EINVAL;
	}
	nvmf_transport_opts_init(&o);
	if (topt_numbers(c, p, &o) || topt_misc(c, p, &o) || topt_check(c, &o))
		return -EINVAL;
	c->tgt->topts = o;
	c->tgt->has_transport = true;
	rc = nvmf_tgt_transport_start(c->tgt);	/* at once if running */
	if (rc) {
		c->tgt->has_transport = false;
		cfg_error_code(c, RPC_INTERNAL_ERROR, "Transport type 'RDMA' create "
			       "failed: %s (see the target's log)", strerror(-rc));
		return -EINVAL;
	}
	return 0;
}

/* ---- The policy table ---- */

/*
 * A: applied; AO: an option, applied before every create; B: accepted
 * with an info line; C: refused; Q: answers over the socket, ignored in a
 * file. The last field: when the socket takes it (SPDK's STARTUP/RUNTIME).
 */
#define A(n, f) { n, CFG_APPLY, false, f, NULL, CFG_RUNTIME }
#define AO(n, f) { n, CFG_APPLY, true, f, NULL, CFG_STARTUP }
#define Q(n, f, st) { n, CFG_APPLY, false, f, NULL, st }
#define B(n, w) { n, CFG_ACCEPT, true, NULL, w, CFG_STARTUP }
#define BA(n, w) { n, CFG_ACCEPT, true, NULL, w, CFG_ANYTIME }
#define C(n, w) { n, CFG_REFUSE, false, NULL, w, 0 }

static const struct cfg_method methods[] = {
	A("bdev_malloc_create", cfg_bdev_malloc_create),
	A("bdev_malloc_delete", cfg_bdev_delete),
	A("bdev_aio_create", cfg_bdev_aio_create),
	A("bdev_aio_delete", cfg_bdev_delete),
	A("bdev_null_create", cfg_bdev_null_create),
	A("bdev_null_delete", cfg_bdev_delete),
	A("bdev_delay_create", cfg_bdev_delay_create),
	A("bdev_delay_update_latency", cfg_bdev_delay_update_latency),
	A("bdev_delay_delete", cfg_bdev_delete),
	Q("bdev_get_bdevs", rpc_bdev_get_bdevs, CFG_RUNTIME),
	A("nvmf_create_transport", cfg_create_transport),
	Q("nvmf_get_transports", rpc_nvmf_get_transports, CFG_RUNTIME),
	A("nvmf_create_subsystem", cfg_create_subsystem),
	A("nvmf_delete_subsystem", cfg_delete_subsystem),
	Q("nvmf_get_subsystems", rpc_nvmf_get_subsystems, CFG_RUNTIME),
	A("nvmf_subsystem_add_ns", cfg_add_ns),
	A("nvmf_subsystem_remove_ns", cfg_remove_ns),
	A("nvmf_subsystem_add_host", cfg_add_host),
	A("nvmf_subsystem_remove_host", cfg_remove_host),
	A("nvmf_subsystem_add_listener", cfg_add_listener),
	A("nvmf_subsystem_remove_listener", cfg_remove_listener),
	Q("nvmf_subsystem_get_listeners", rpc_nvmf_get_listeners, CFG_RUNTIME),
	A("nvmf_subsystem_allow_any_host", cfg_allow_any_host),
	Q("nvmf_subsystem_get_controllers", rpc_nvmf_get_controllers, CFG_RUNTIME),
	Q("nvmf_subsystem_get_qpairs", rpc_nvmf_get_qpairs, CFG_RUNTIME),
	Q("nvmf_get_stats", rpc_nvmf_get_stats, CFG_RUNTIME),
	A("nvmf_ns_add_host", cfg_ns_add_host),
	A("nvmf_ns_remove_host", cfg_ns_remove_host),
	A("nvmf_discovery_add_referral", cfg_add_referral),
	A("nvmf_discovery_remove_referral", cfg_remove_referral),
	Q("nvmf_discovery_get_referrals", rpc_nvmf_get_referrals, CFG_RUNTIME),
	Q("nvmf_get_targets", rpc_nvmf_get_targets, CFG_RUNTIME),
	AO("nvmf_set_max_subsystems", cfg_max_subsystems),
	Q("spdk_get_version", rpc_get_version, CFG_ANYTIME),
	Q("rpc_get_methods", rpc_get_methods, CFG_ANYTIME),
	Q("framework_start_init", rpc_start_init, CFG_STARTUP),
	Q("framework_wait_init", rpc_wait_init, CFG_ANYTIME),
	Q("framework_get_subsystems", rpc_get_subsystems, CFG_ANYTIME),
	Q("framework_get_config", rpc_get_config, CFG_ANYTIME),
	Q("spdk_kill_instance", rpc_kill_instance, CFG_ANYTIME),
	Q("log_set_level", rpc_log_set_level, CFG_ANYTIME),
	Q("log_get_level", rpc_log_get_level, CFG_ANYTIME),
	Q("log_set_print_level", rpc_log_set_level, CFG_ANYTIME),
	Q("log_get_print_level", rpc_log_get_level, CFG_ANYTIME),
	Q("log_set_flag", rpc_log_set_flag, CFG_ANYTIME),
	Q("log_clear_flag", rpc_log_set_flag, CFG_ANYTIME),
	Q("log_get_flags", rpc_log_get_flags, CFG_ANYTIME),
	B("nvmf_set_config", "discovery filter, passthru, poll groups, auth digests: n/a"),
	B("nvmf_set_crdt", "no retry-delay statuses are returned"),
	BA("framework_set_scheduler", "SPDK reactor scheduler"),
	B("iobuf_set_options", "nvmf_tgt sizes its own buffers"),
	B("sock_set_default_impl", "no sockets in an RDMA target"),
	B("sock_impl_set_options", "no sockets in an RDMA target"),
	B("accel_set_options", "no offload engines"),
	B("accel_set_driver", "no offload engines"),
	B("accel_assign_opc", "no offload engines"),
	BA("accel_error_inject_error", "no offload engines"),
	B("vmd_enable", "no PCIe devices"),
	BA("keyring_file_add_key", "keys are only refused where used"),
	B("keyring_linux_set_options", "keys are only refused where used"),
	B("bdev_set_options", "bdev-layer pools"),
	BA("bdev_examine", "creates are synchronous"),
	BA("bdev_wait_for_examine", "creates are synchronous"),
	BA("bdev_enable_histogram", "no histograms"),
	BA("bdev_nvme_set_options", "no NVMe bdev module"),
	BA("bdev_nvme_set_hotplug", "no NVMe bdev module"),
	BA("bdev_raid_set_options", "no RAID module"),
	BA("bdev_iscsi_set_options", "no iSCSI bdev module"),
	C("nvmf_create_target", "one target per process: the default 'nvmf_tgt'"),
	C("nvmf_delete_target", "one target per process: the default 'nvmf_tgt'"),
	C("bdev_nvme_attach_controller", "NVMe devices/remote controllers cannot be served"),
	C("bdev_nvme_start_discovery", "NVMe devices/remote controllers cannot be served"),
	C("bdev_nvme_start_mdns_discovery", "NVMe devices/remote controllers cannot be served"),
	C("bdev_nvme_cuse_register", "NVMe devices/remote controllers cannot be served"),
	C("bdev_nvme_set_multipath_policy", "NVMe devices/remote controllers cannot be served"),
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

const struct cfg_method *cfg_method_at(size_t i)
{
	return i < sizeof(methods) / sizeof(methods[0]) ? &methods[i] : NULL;
}

static const struct cfg_method other_bdev = {
	NULL, CFG_REFUSE, false, NULL, "this bdev type is not supported", 0
};
static const struct cfg_method accel_module = {
	NULL, CFG_ACCEPT, true, NULL, "no offload engines", CFG_STARTUP
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
