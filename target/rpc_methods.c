/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The methods that only the RPC socket asks: the framework's (version,
 * method list, init, kill, log levels), the queries that tell what the
 * target serves (result shapes as SPDK v24.09's rpc.py expects), and
 * framework_get_config, which writes the target back as config methods
 * (rpc.py save_config), in an order nvmf_tgt -c and SPDK both load.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <uuid/uuid.h>

#include "memmap/log.h"
#include "target/config_int.h"
#include "target/core.h"
#include "target/rpc.h"

#define NVMF_TGT_POLL_GROUP	"nvmf_tgt_poll_group_000"

static int answer(struct cfg_ctx *c, json_t *result)
{
	if (!result)
		return -ENOMEM;
	json_decref(c->result);
	c->result = result;
	return 0;
}

static int no_params(struct cfg_ctx *c, json_t *p)
{
	if (json_object_size(p)) {
		cfg_error(c, "Invalid parameters: %s takes none", c->method);
		return -EINVAL;
	}
	return 0;
}

/* ---- Framework ---- */

int rpc_get_version(struct cfg_ctx *c, json_t *p)
{
	(void)p;
	return answer(c, json_pack("{s:s, s:{s:i, s:i, s:i, s:s}}",
				   "version", "nvmf_tgt v" NVMF_TGT_VERSION,
				   "fields", "major", NVMF_TGT_VERSION_MAJOR,
				   "minor", NVMF_TGT_VERSION_MINOR,
				   "patch", NVMF_TGT_VERSION_PATCH, "suffix", ""));
}

int rpc_get_methods(struct cfg_ctx *c, json_t *p)
{
	unsigned int state = c->tgt->state == NVMF_TGT_STARTUP ? CFG_STARTUP : CFG_RUNTIME;
	bool current = false, aliases = false;
	const struct cfg_method *m;
	json_t *list = json_array();

	if (!list)
		return -ENOMEM;
	if (cfg_bool(c, p, "current", &current) ||
	    cfg_bool(c, p, "include_aliases", &aliases)) {
		json_decref(list);
		return -EINVAL;
	}
	for (size_t i = 0; (m = cfg_method_at(i)); i++) {
		if (m->cls == CFG_REFUSE || (current && !(m->states & state)))
			continue;
		json_array_append_new(list, json_string(m->name));
	}
	return answer(c, list);
}

int rpc_start_init(struct cfg_ctx *c, json_t *p)
{
	int rc;

	if (no_params(c, p))
		return -EINVAL;
	if (!c->rpc) {
		cfg_info(c, "ignored in a config file");
		return 0;
	}
	rc = nvmf_tgt_start(c->tgt);
	if (rc) {
		cfg_error_code(c, RPC_INTERNAL_ERROR, "framework_start_init: the transport "
			       "could not start: %s (see the target's log)", strerror(-rc));
		return rc;
	}
	log_notice("framework_start_init: initialized");
	return 0;
}

/* Answers once initialized: the socket holds the answer until then. */
int rpc_wait_init(struct cfg_ctx *c, json_t *p)
{
	return no_params(c, p);
}

int rpc_get_subsystems(struct cfg_ctx *c, json_t *p)
{
	(void)p;
	return answer(c, json_pack("[{s:s, s:[]}, {s:s, s:[s]}]",
				   "subsystem", "bdev", "depends_on",
				   "subsystem", "nvmf", "depends_on", "bdev"));
}

int rpc_kill_instance(struct cfg_ctx *c, json_t *p)
{
	const char *name = "SIGTERM";
	int sig;

	if (cfg_str(c, p, "sig_name", false, 15, &name))
		return -EINVAL;
	if (!strcasecmp(name, "SIGTERM") || !strcasecmp(name, "TERM") || !strcmp(name, "15"))
		sig = SIGTERM;
	else if (!strcasecmp(name, "SIGINT") || !strcasecmp(name, "INT") || !strcmp(name, "2"))
		sig = SIGINT;
	else if (!strcasecmp(name, "SIGKILL") || !strcasecmp(name, "KILL") || !strcmp(name, "9"))
		sig = SIGKILL;
	else {
		cfg_error(c, "Invalid parameters: field 'sig_name': '%s' is not SIGTERM, "
			  "SIGINT or SIGKILL", name);
		return -EINVAL;
	}
	if (!c->rpc || c->dry) {
		cfg_info(c, "ignored (%s)", c->rpc ? "dry run" : "in a config file");
		return 0;
	}
	/* The signal waits in the signalfd: the answer leaves first. */
	nvmf_rpc_after_answer(c->tgt, sig);
	return 0;
}

static const char *const spdk_levels[] = {
	[LOGL_ERROR] = "ERROR", [LOGL_WARN] = "WARNING", [LOGL_NOTICE] = "NOTICE",
	[LOGL_INFO] = "INFO", [LOGL_DEBUG] = "DEBUG",
};

int rpc_log_set_level(struct cfg_ctx *c, json_t *p)
{
	const char *name = NULL;

	if (cfg_str(c, p, "level", true, 15, &name))
		return -EINVAL;
	for (int i = LOGL_ERROR; i <= LOGL_DEBUG; i++) {
		if (!strcasecmp(name, spdk_levels[i]) ||
		    (i == LOGL_WARN && !strcasecmp(name, "WARN"))) {
			log_set_level((enum log_level)i);
			return 0;
		}
	}
	cfg_error(c, "Invalid parameters: field 'level': '%s' is not ERROR, WARNING, "
		  "NOTICE, INFO or DEBUG", name);
	return -EINVAL;
}

int rpc_log_get_level(struct cfg_ctx *c, json_t *p)
{
	enum log_level l = log_get_level();

	(void)p;
	return answer(c, json_string(spdk_levels[l < LOGL_ERROR ? LOGL_ERROR : l]));
}

/* SPDK's debug log flags: we have none; accepted so that scripts run. */
int rpc_log_set_flag(struct cfg_ctx *c, json_t *p)
{
	const char *flag = NULL;

	if (cfg_str(c, p, "flag", true, 63, &flag))
		return -EINVAL;
	cfg_info(c, "log flag '%s': nvmf_tgt has no debug flags (use log_set_level)", flag);
	return 0;
}

int rpc_log_get_flags(struct cfg_ctx *c, json_t *p)
{
	(void)p;
	return answer(c, json_object());
}

/* ---- bdevs ---- */

static void uuid_str(const uint8_t *u, char out[37])
{
	uuid_unparse_lower(u, out);
}

static json_t *delay_json(const struct bdev_delay_opts *d, const char *uuid)
{
	return json_pack("{s:s, s:s, s:s, s:I, s:I, s:I, s:I}", "name", d->name,
			 "base_bdev_name", d->base->name, "uuid", uuid,
			 "avg_read_latency", (json_int_t)d->avg_read,
			 "p99_read_latency", (json_int_t)d->p99_read,
			 "avg_write_latency", (json_int_t)d->avg_write,
			 "p99_write_latency", (json_int_t)d->p99_write);
}

static json_t *bdev_json(const struct bdev *b)
{
	struct bdev_delay_opts d;
	static const char *const io[] = { "read", "write", "unmap", "flush", "reset",
		"nvme_admin", "nvme_io", "write_zeroes", "zcopy", "compare",
		"compare_and_write", "abort", NULL };
	char uuid[37];
	json_t *o, *types = json_object();

	uuid_str(b->uuid, uuid);
	for (int i = 0; io[i]; i++) {
		bool yes = !strcmp(io[i], "read") || !strcmp(io[i], "write") ||
			   !strcmp(io[i], "unmap") || !strcmp(io[i], "flush") ||
			   !strcmp(io[i], "write_zeroes");

		json_object_set_new(types, io[i], json_boolean(yes && (!b->readonly ||
					!strcmp(io[i], "read") || !strcmp(io[i], "flush"))));
	}
	o = json_pack("{s:s, s:[s], s:s, s:I, s:I, s:s, s:{s:I, s:I, s:I, s:I}, s:b, s:b, s:o,"
		      " s:{}}",
		      "name", b->name, "aliases", uuid,
		      "product_name", !strcmp(b->ops->type, "aio") ? "AIO disk" :
				      !strcmp(b->ops->type, "null") ? "Null disk" :
				      !strcmp(b->ops->type, "delay") ? "delay" : "Malloc disk",
		      "block_size", (json_int_t)b->block_size,
		      "num_blocks", (json_int_t)b->num_blocks, "uuid", uuid,
		      "assigned_rate_limits", "rw_ios_per_sec", (json_int_t)0,
		      "rw_mbytes_per_sec", (json_int_t)0, "r_mbytes_per_sec", (json_int_t)0,
		      "w_mbytes_per_sec", (json_int_t)0,
		      "claimed", b->claimed, "zoned", false, "supported_io_types", types,
		      "driver_specific");
	if (o && b->claimed)
		json_object_set_new(o, "claim_type", json_string("exclusive_write"));
	if (o && !bdev_delay_get(b, &d))
		json_object_set_new(json_object_get(o, "driver_specific"), "delay",
				    delay_json(&d, uuid));
	if (o && b->filename)
		json_object_set_new(json_object_get(o, "driver_specific"), "aio",
				    json_pack("{s:s, s:b, s:b}", "filename", b->filename,
					      "block_size_override", true, "readonly",
					      b->readonly));
	return o;
}

int rpc_bdev_get_bdevs(struct cfg_ctx *c, json_t *p)
{
	const char *name = NULL;
	uint64_t timeout = 0;
	json_t *list;

	if (cfg_str(c, p, "name", false, 63, &name) ||
	    cfg_u64(c, p, "timeout", false, 0, UINT32_MAX, &timeout))
		return -EINVAL;
	list = json_array();
	if (!list)
		return -ENOMEM;
	for (struct bdev *b = c->tgt->bdevs; b; b = b->next) {
		if (name && strcmp(name, b->name))
			continue;
		json_array_append_new(list, bdev_json(b));
	}
	if (name && !json_array_size(list)) {
		json_decref(list);
		cfg_error_code(c, -ENODEV, "No such device: bdev '%s'", name);
		return -EINVAL;
	}
	return answer(c, list);
}

/* ---- nvmf queries ---- */

static json_t *addr_json(const struct nvmf_listen_addr *a)
{
	return json_pack("{s:s, s:s, s:s, s:s}", "trtype", a->trtype, "adrfam", a->adrfam,
			 "traddr", a->traddr, "trsvcid", a->trsvcid);
}

static json_t *transport_json(const struct nvmf_transport_opts *o)
{
	return json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:b, s:b, s:i,"
			 " s:i, s:i, s:b, s:i, s:b}",
			 "trtype", "RDMA", "max_queue_depth", o->max_queue_depth,
			 "max_io_qpairs_per_ctrlr", o->max_io_qpairs_per_ctrlr,
			 "in_capsule_data_size", o->in_capsule_data_size,
			 "max_io_size", o->max_io_size, "io_unit_size", o->io_unit_size,
			 "max_aq_depth", o->max_aq_depth,
			 "num_shared_buffers", o->num_shared_buffers,
			 "buf_cache_size", o->buf_cache_size,
			 "dif_insert_or_strip", false, "zcopy", false,
			 "abort_timeout_sec", 1, "ack_timeout", 0, "data_wr_pool_size", 4095,
			 "no_srq", o->no_srq, "acceptor_backlog", o->acceptor_backlog,
			 "no_wr_batching", false);
}

int rpc_nvmf_get_transports(struct cfg_ctx *c, json_t *p)
{
	const char *trtype = NULL;
	json_t *list = json_array(), *t;

	if (!list)
		return -ENOMEM;
	if (cfg_str(c, p, "trtype", false, 15, &trtype) || cfg_str(c, p, "tgt_name", false,
								   255, &trtype)) {
		json_decref(list);
		return -EINVAL;
	}
	if (c->tgt->has_transport) {
		t = transport_json(&c->tgt->topts);
		if (t)
			json_object_set_new(t, "max_srq_depth",
					    json_integer(c->tgt->topts.max_srq_depth));
		json_array_append_new(list, t);
	}
	return answer(c, list);
}

static json_t *ns_json(const struct nvmf_ns *ns)
{
	char uuid[37], nguid[33];
	json_t *o;

	uuid_str(ns->uuid, uuid);
	for (int i = 0; i < 16; i++)
		sprintf(nguid + 2 * i, "%02X", ns->nguid[i]);
	o = json_pack("{s:i, s:s, s:s, s:s, s:s, s:b}", "nsid", (int)ns->nsid,
		      "bdev_name", ns->bdev->name, "name", ns->bdev->name, "nguid", nguid,
		      "uuid", uuid, "no_auto_visible", ns->no_auto_visible);
	if (o && ns->has_eui64) {
		char eui[17];

		for (int i = 0; i < 8; i++)
			sprintf(eui + 2 * i, "%02X", ns->eui64[i]);
		json_object_set_new(o, "eui64", json_string(eui));
	}
	return o;
}

static json_t *subsystem_json(const struct nvmf_subsystem *s)
{
	json_t *o, *l = json_array(), *h = json_array(), *n;

	for (int i = 0; i < s->nlisteners; i++)
		json_array_append_new(l, addr_json(&s->listeners[i]));
	for (int i = 0; i < s->nhosts; i++)
		json_array_append_new(h, json_pack("{s:s}", "nqn", s->hosts[i]));
	o = json_pack("{s:s, s:s, s:o, s:b, s:o}", "nqn", s->nqn, "subtype",
		      s->discovery ? "Discovery" : "NVMe", "listen_addresses", l,
		      "allow_any_host", s->allow_any_host, "hosts", h);
	if (!o || s->discovery)
		return o;
	n = json_array();
	for (uint32_t i = 0; i < s->max_ns; i++) {
		if (s->ns[i])
			json_array_append_new(n, ns_json(s->ns[i]));
	}
	json_object_set_new(o, "serial_number", json_string(s->sn));
	json_object_set_new(o, "model_number", json_string(s->mn));
	json_object_set_new(o, "max_namespaces", json_integer(s->max_ns));
	json_object_set_new(o, "min_cntlid", json_integer(s->min_cntlid));
	json_object_set_new(o, "max_cntlid", json_integer(s->max_cntlid));
	json_object_set_new(o, "namespaces", n);
	return o;
}

int rpc_nvmf_get_subsystems(struct cfg_ctx *c, json_t *p)
{
	const char *nqn = NULL, *tgt = NULL;
	json_t *list;

	if (cfg_str(c, p, "nqn", false, NVMF_NQN_MAX, &nqn) ||
	    cfg_str(c, p, "tgt_name", false, 255, &tgt))
		return -EINVAL;
	if (nqn && !nvmf_subsystem_find(c->tgt, nqn)) {
		cfg_error_code(c, -ENODEV, "No such device: subsystem '%s' not found", nqn);
		return -EINVAL;
	}
	list = json_array();
	if (!list)
		return -ENOMEM;
	for (int i = 0; i < c->tgt->nsubsys; i++) {
		if (!nqn || !strcmp(nqn, c->tgt->subsys[i]->nqn))
			json_array_append_new(list, subsystem_json(c->tgt->subsys[i]));
	}
	return answer(c, list);
}

static void hostid_str(const uint8_t *id, char out[37])
{
	uuid_unparse_lower(id, out);
}

/* The subsystem params name, and an empty list for the answer (or NULL). */
static json_t *subsys_list(struct cfg_ctx *c, json_t *p, struct nvmf_subsystem **s)
{
	*s = cfg_subsys(c, p, true);
	return *s ? json_array() : NULL;
}

int rpc_nvmf_get_controllers(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_subsystem *s;
	json_t *list = subsys_list(c, p, &s);

	if (!list)
		return c->nerr ? -EINVAL : -ENOMEM;
	for (const struct nvmf_ctrlr *ct = s->ctrlrs; ct; ct = ct->next) {
		char hostid[37];
		int nio = 1;	/* as SPDK: the admin queue counts */

		for (uint16_t q = 1; q <= ct->max_io; q++)
			nio += ct->io[q] != NULL;
		hostid_str(ct->hostid, hostid);
		json_array_append_new(list, json_pack("{s:i, s:s, s:s, s:i}", "cntlid",
						      ct->cntlid, "hostnqn", ct->hostnqn,
						      "hostid", hostid, "num_io_qpairs", nio));
	}
	return answer(c, list);
}

static json_t *qpair_json(const struct nvmf_ctrlr *ct, const struct nvmf_qpair *qp)
{
	const struct nvmf_transport_ops *ops = qp->transport->ops;
	struct nvmf_listen_addr a;
	json_t *o = json_pack("{s:i, s:i, s:s, s:s, s:s}", "cntlid", ct->cntlid,
			      "qid", qp->qid, "state",
			      qp->disconnecting ? "deactivating" : "active",
			      "thread", NVMF_TGT_POLL_GROUP, "hostnqn", ct->hostnqn);

	if (o && ops->qpair_local_addr && !ops->qpair_local_addr(qp, &a))
		json_object_set_new(o, "listen_address", addr_json(&a));
	return o;
}

int rpc_nvmf_get_qpairs(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_subsystem *s;
	json_t *list = subsys_list(c, p, &s);

	if (!list)
		return c->nerr ? -EINVAL : -ENOMEM;
	for (const struct nvmf_ctrlr *ct = s->ctrlrs; ct; ct = ct->next) {
		if (ct->admin)
			json_array_append_new(list, qpair_json(ct, ct->admin));
		for (uint16_t q = 1; q <= ct->max_io; q++) {
			if (ct->io[q])
				json_array_append_new(list, qpair_json(ct, ct->io[q]));
		}
	}
	return answer(c, list);
}

int rpc_nvmf_get_listeners(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_subsystem *s;
	json_t *list = subsys_list(c, p, &s);

	if (!list)
		return c->nerr ? -EINVAL : -ENOMEM;
	for (int i = 0; i < s->nlisteners; i++)
		json_array_append_new(list, json_pack("{s:o, s:[{s:i, s:s}]}", "address",
						      addr_json(&s->listeners[i]), "ana_states",
						      "ana_group", 1, "ana_state", "optimized"));
	return answer(c, list);
}

#define STATS_MAX	(8 * NVMF_MAX_POLL_GROUPS)

/* The transport's devices in poll group g; their queues counted in *admin, *io. */
static json_t *stats_transport(const struct nvmf_transport_dev_stats *st, int n, int g,
			       unsigned int *admin, unsigned int *io)
{
	json_t *devs = json_array();

	for (int i = 0; i < n; i++) {
		if (st[i].group != g)
			continue;
		*admin += st[i].admin_qpairs;
		*io += st[i].io_qpairs;
		json_array_append_new(devs, json_pack(
			"{s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, "
			"s:I}",
			"name", st[i].name, "polls", (json_int_t)st[i].polls,
			"idle_polls", (json_int_t)st[i].idle_polls,
			"completions", (json_int_t)st[i].completions,
			"requests", (json_int_t)st[i].requests,
			"request_latency", (json_int_t)st[i].request_latency,
			"pending_free_request", (json_int_t)st[i].pending_free_request,
			"pending_rdma_read", (json_int_t)st[i].pending_rdma_read,
			"pending_rdma_write", (json_int_t)st[i].pending_rdma_write,
			"pending_rdma_send", (json_int_t)0,
			"total_send_wrs", (json_int_t)st[i].total_send_wrs,
			"send_doorbell_updates", (json_int_t)st[i].send_doorbell_updates,
			"total_recv_wrs", (json_int_t)st[i].total_recv_wrs,
			"recv_doorbell_updates", (json_int_t)st[i].recv_doorbell_updates,
			"total_send_sges", (json_int_t)st[i].total_send_sges,
			"total_post_us", (json_int_t)(st[i].post_ns / 1000)));
	}
	return json_pack("{s:s, s:I, s:o}", "trtype", "RDMA", "pending_data_buffer",
			 (json_int_t)0, "devices", devs);
}

static void core_qpairs(const struct nvmf_tgt *tgt, unsigned int *admin, unsigned int *io)
{
	for (int i = 0; i < tgt->nsubsys; i++) {
		for (const struct nvmf_ctrlr *ct = tgt->subsys[i]->ctrlrs; ct; ct = ct->next) {
			*admin += ct->admin != NULL;
			for (uint16_t q = 1; q <= ct->max_io; q++)
				*io += ct->io[q] != NULL;
		}
	}
}

/*
 * One entry per poll group, with the host queues it holds and its devices'
 * counters. The commands all run on the main thread (group 0): the totals
 * of connects, commands and backend I/O are group 0's.
 */
static json_t *stats_group(struct nvmf_tgt *tgt, const struct nvmf_transport_dev_stats *st,
			   int n, int g)
{
	unsigned int admin = 0, io = 0;
	json_t *transports = json_array();
	const struct nvmf_poll_group *pg = g > 0 && g < NVMF_MAX_POLL_GROUPS ?
					   tgt->pgroups[g] : NULL;
	char name[32];

	if (tgt->transport)
		json_array_append_new(transports, stats_transport(st, n, g, &admin, &io));
	if (!tgt->transport || !tgt->transport->ops->get_stats)
		core_qpairs(tgt, &admin, &io);	/* the transport cannot tell: the core's */
	snprintf(name, sizeof(name), "nvmf_tgt_poll_group_%03d", g % 1000);
	return json_pack("{s:s, s:I, s:I, s:i, s:i, s:I, s:I, s:o}", "name", name,
			 "admin_qpairs", (json_int_t)(g ? 0 : tgt->admin_qpairs),
			 "io_qpairs", (json_int_t)(g ? 0 : tgt->io_qpairs),
			 "current_admin_qpairs", admin, "current_io_qpairs", io,
			 "pending_bdev_io", (json_int_t)(!g ? tgt->io_inflight : pg ?
					 nvmf_stat_get(&pg->io_inflight) : 0),
			 "completed_nvme_io", (json_int_t)(!g ? tgt->completed_io : pg ?
					   nvmf_stat_get(&pg->completed_io) : 0),
			 "transports", transports);
}

int rpc_nvmf_get_stats(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_tgt *tgt = c->tgt;
	struct nvmf_transport *t = tgt->transport;
	struct nvmf_transport_dev_stats *st = calloc(STATS_MAX, sizeof(*st));
	int n = 0, ngroups = tgt->ngroup_cpus > 1 ? tgt->ngroup_cpus : 1;
	json_t *groups = json_array();

	(void)p;
	if (!st)
		return -ENOMEM;
	if (t && t->ops->get_stats)
		n = t->ops->get_stats(t, st, STATS_MAX);
	for (int g = 0; g < ngroups; g++)
		json_array_append_new(groups, stats_group(tgt, st, n, g));
	free(st);
	return answer(c, json_pack("{s:I, s:o}", "tick_rate", (json_int_t)1000000,
				   "poll_groups", groups));
}

static json_t *referral_json(const struct nvmf_referral *r)
{
	return json_pack("{s:o, s:b, s:s}", "address", addr_json(&r->a), "secure_channel",
			 r->secure_channel, "subnqn", r->subnqn);
}

int rpc_nvmf_get_referrals(struct cfg_ctx *c, json_t *p)
{
	json_t *list = json_array();

	(void)p;
	if (!list)
		return -ENOMEM;
	for (int i = 0; i < c->tgt->nreferrals; i++)
		json_array_append_new(list, referral_json(&c->tgt->referrals[i]));
	return answer(c, list);
}

int rpc_nvmf_get_targets(struct cfg_ctx *c, json_t *p)
{
	(void)p;
	return answer(c, json_pack("[s]", "nvmf_tgt"));
}

/* ---- framework_get_config: the target as config methods ---- */

static void add(json_t *cfg, const char *method, json_t *params)
{
	json_array_append_new(cfg, json_pack("{s:s, s:o}", "method", method, "params",
					     params ? params : json_object()));
}

static json_t *bdev_config(struct nvmf_tgt *tgt)
{
	json_t *cfg = json_array();

	add(cfg, "bdev_set_options", json_pack("{s:i, s:i, s:b}", "bdev_io_pool_size",
					       65535, "bdev_io_cache_size", 256,
					       "bdev_auto_examine", true));
	for (struct bdev *b = tgt->bdevs; b; b = b->next) {
		struct bdev_delay_opts d;
		char uuid[37];

		uuid_str(b->uuid, uuid);
		if (!strcmp(b->ops->type, "aio"))
			add(cfg, "bdev_aio_create",
			    json_pack("{s:s, s:s, s:i, s:b, s:s, s:b}", "name", b->name,
				      "filename", b->filename, "block_size", b->block_size,
				      "readonly", b->readonly, "uuid", uuid, "fallocate", false));
		else if (!bdev_delay_get(b, &d))
			add(cfg, "bdev_delay_create", delay_json(&d, uuid));
		else if (!strcmp(b->ops->type, "malloc") || !strcmp(b->ops->type, "null"))
			add(cfg, !strcmp(b->ops->type, "malloc") ? "bdev_malloc_create" :
				 "bdev_null_create",
			    json_pack("{s:s, s:I, s:i, s:s}", "name", b->name, "num_blocks",
				      (json_int_t)b->num_blocks, "block_size", b->block_size,
				      "uuid", uuid));
	}
	add(cfg, "bdev_wait_for_examine", NULL);
	return cfg;
}

static json_t *ns_config(const struct nvmf_subsystem *s, const struct nvmf_ns *ns)
{
	json_t *n = ns_json(ns);

	json_object_del(n, "name");
	return json_pack("{s:s, s:o}", "nqn", s->nqn, "namespace", n);
}

static void subsystem_config(json_t *cfg, const struct nvmf_subsystem *s)
{
	add(cfg, "nvmf_create_subsystem",
	    json_pack("{s:s, s:b, s:s, s:s, s:i, s:i, s:i, s:b}", "nqn", s->nqn,
		      "allow_any_host", s->allow_any_host, "serial_number", s->sn,
		      "model_number", s->mn, "max_namespaces", s->max_ns,
		      "min_cntlid", s->min_cntlid, "max_cntlid", s->max_cntlid,
		      "ana_reporting", false));
	for (int i = 0; i < s->nhosts; i++)
		add(cfg, "nvmf_subsystem_add_host", json_pack("{s:s, s:s}", "nqn", s->nqn,
							      "host", s->hosts[i]));
	for (uint32_t i = 0; i < s->max_ns; i++) {
		const struct nvmf_ns *ns = s->ns[i];

		if (!ns)
			continue;
		add(cfg, "nvmf_subsystem_add_ns", ns_config(s, ns));
		for (int h = 0; h < ns->nhosts; h++)
			add(cfg, "nvmf_ns_add_host", json_pack("{s:s, s:i, s:s}", "nqn", s->nqn,
							       "nsid", (int)ns->nsid, "host",
							       ns->hosts[h]));
	}
	for (int i = 0; i < s->nlisteners; i++)
		add(cfg, "nvmf_subsystem_add_listener",
		    json_pack("{s:s, s:o, s:b}", "nqn", s->nqn, "listen_address",
			      addr_json(&s->listeners[i]), "secure_channel", false));
}

static json_t *nvmf_config(struct nvmf_tgt *tgt)
{
	json_t *cfg = json_array();

	add(cfg, "nvmf_set_max_subsystems", json_pack("{s:i}", "max_subsystems",
						      (int)tgt->max_subsystems));
	if (tgt->has_transport) {
		json_t *t = transport_json(&tgt->topts);

		json_object_set_new(t, "max_srq_depth", json_integer(tgt->topts.max_srq_depth));
		add(cfg, "nvmf_create_transport", t);
	}
	for (int i = 0; i < tgt->nreferrals; i++)
		add(cfg, "nvmf_discovery_add_referral", referral_json(&tgt->referrals[i]));
	/* The discovery subsystem first (it is never created), as SPDK writes it. */
	for (int i = 0; i < tgt->nsubsys; i++) {
		const struct nvmf_subsystem *s = tgt->subsys[i];

		if (!s->discovery)
			continue;
		for (int j = 0; j < s->nlisteners; j++)
			add(cfg, "nvmf_subsystem_add_listener",
			    json_pack("{s:s, s:o, s:b}", "nqn", s->nqn, "listen_address",
				      addr_json(&s->listeners[j]), "secure_channel", false));
	}
	for (int i = 0; i < tgt->nsubsys; i++) {
		if (!tgt->subsys[i]->discovery)
			subsystem_config(cfg, tgt->subsys[i]);
	}
	return cfg;
}

int rpc_get_config(struct cfg_ctx *c, json_t *p)
{
	const char *name = NULL;

	if (cfg_str(c, p, "name", true, 63, &name))
		return -EINVAL;
	if (!strcmp(name, "bdev"))
		return answer(c, bdev_config(c->tgt));
	if (!strcmp(name, "nvmf"))
		return answer(c, nvmf_config(c->tgt));
	cfg_error(c, "Invalid parameters: no subsystem '%s' (bdev, nvmf)", name);
	return -EINVAL;
}
