/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The nvmf methods of a config file and of the RPC socket alike:
 * subsystems, namespaces, hosts, listeners, referrals. Each validates its
 * params, applies them to the target (running or not) and answers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "target/config.h"
#include "target/config_int.h"
#include "target/core.h"

#define U32MAX 0xFFFFFFFFull

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

struct nvmf_subsystem *cfg_subsys(struct cfg_ctx *c, json_t *p,
					 bool allow_discovery)
{
	const char *nqn = NULL;
	struct nvmf_subsystem *s;

	if (cfg_str(c, p, "nqn", true, NVMF_NQN_MAX, &nqn))
		return NULL;
	s = nvmf_subsystem_find(c->tgt, nqn);
	if (!s) {
		cfg_error(c, "Unable to find subsystem with NQN %s: field 'nqn': no "
			  "subsystem '%s' (nvmf_create_subsystem must come first)", nqn, nqn);
		return NULL;
	}
	if (s->discovery && !allow_discovery) {
		cfg_error(c, "field 'nqn': not allowed on the discovery subsystem");
		return NULL;
	}
	return s;
}

struct subsys_opts {
	const char *sn, *mn;
	uint64_t max_ns, min_id, max_id;
	bool any;
};

/* Serial and model: SPDK's messages ("Invalid SN ..."), scripts match them. */
static int subsys_strings(struct cfg_ctx *c, json_t *p, struct subsys_opts *o)
{
	if (cfg_str(c, p, "serial_number", false, 1024, &o->sn) ||
	    cfg_str(c, p, "model_number", false, 1024, &o->mn))
		return -EINVAL;
	if (o->sn && (!*o->sn || strlen(o->sn) > NVMF_SN_LEN || !printable(o->sn))) {
		cfg_error(c, "Invalid SN %s: field 'serial_number' must be 1-%d printable "
			  "ASCII characters", o->sn, NVMF_SN_LEN);
		return -EINVAL;
	}
	if (o->mn && (!*o->mn || strlen(o->mn) > NVMF_MN_LEN || !printable(o->mn))) {
		cfg_error(c, "Invalid MN %s: field 'model_number' must be 1-%d printable "
			  "ASCII characters", o->mn, NVMF_MN_LEN);
		return -EINVAL;
	}
	return 0;
}

static int subsys_numbers(struct cfg_ctx *c, json_t *p, struct subsys_opts *o)
{
	uint64_t ign;

	o->min_id = NVMF_MIN_CNTLID;
	o->max_id = NVMF_MAX_CNTLID;
	if (cfg_u64(c, p, "max_namespaces", false, 0, 1024, &o->max_ns) ||
	    cfg_u64(c, p, "min_cntlid", false, 0, U32MAX, &o->min_id) ||
	    cfg_u64(c, p, "max_cntlid", false, 0, U32MAX, &o->max_id) ||
	    cfg_u64(c, p, "max_discard_size_kib", false, 0, U32MAX, &ign) ||
	    cfg_u64(c, p, "max_write_zeroes_size_kib", false, 0, U32MAX, &ign) ||
	    cfg_u64(c, p, "dmrsl", false, 0, U32MAX, &ign) ||
	    cfg_u64(c, p, "wzsl", false, 0, 255, &ign))
		return -EINVAL;
	if (o->min_id < NVMF_MIN_CNTLID || o->max_id > NVMF_MAX_CNTLID ||
	    o->min_id > o->max_id) {
		cfg_error(c, "Invalid cntlid range [%llu-%llu]: fields 'min_cntlid' and "
			  "'max_cntlid' must satisfy %d <= min <= max <= %d",
			  (unsigned long long)o->min_id, (unsigned long long)o->max_id,
			  NVMF_MIN_CNTLID, NVMF_MAX_CNTLID);
		return -EINVAL;
	}
	return 0;
}

static int subsys_apply(struct nvmf_subsystem *s, const struct subsys_opts *o)
{
	struct nvmf_ns **ns;

	if (o->max_ns && o->max_ns != s->max_ns) {
		ns = calloc(o->max_ns, sizeof(*ns));
		if (!ns)
			return -ENOMEM;
		free(s->ns);
		s->ns = ns;
		s->max_ns = (uint32_t)o->max_ns;
	}
	if (o->sn)
		strcpy(s->sn, o->sn);
	if (o->mn)
		strcpy(s->mn, o->mn);
	s->min_cntlid = s->next_cntlid = (uint16_t)o->min_id;
	s->max_cntlid = (uint16_t)o->max_id;
	s->allow_any_host = o->any;
	return 0;
}

static int tgt_name_check(struct cfg_ctx *c, json_t *p)
{
	const char *name = NULL;

	if (cfg_str(c, p, "tgt_name", false, 255, &name))
		return -EINVAL;
	if (name && strcmp(name, "nvmf_tgt")) {
		cfg_error(c, "Unable to find target %s: only the default target "
			  "'nvmf_tgt' exists", name);
		return -EINVAL;
	}
	return 0;
}

int cfg_create_subsystem(struct cfg_ctx *c, json_t *p)
{
	static const char *const keys[] = { "nqn", "serial_number", "model_number",
		"max_namespaces", "allow_any_host", "min_cntlid", "max_cntlid",
		"tgt_name", "ana_reporting", "max_discard_size_kib",
		"max_write_zeroes_size_kib", "passthrough", "enable_nssr", "dmrsl",
		"wzsl", NULL };
	bool ana = false, nssr = false, pt = false;
	struct subsys_opts o = { 0 };
	const char *nqn = NULL;
	struct nvmf_subsystem *s;
	int rc;

	if (cfg_check_keys(c, p, "params", keys, true) ||
	    cfg_str(c, p, "nqn", true, NVMF_NQN_MAX, &nqn) || nqn_check(c, "nqn", nqn) ||
	    tgt_name_check(c, p) ||
	    cfg_bool(c, p, "allow_any_host", &o.any) || cfg_bool(c, p, "ana_reporting", &ana) ||
	    cfg_bool(c, p, "enable_nssr", &nssr) || cfg_bool(c, p, "passthrough", &pt) ||
	    subsys_strings(c, p, &o) || subsys_numbers(c, p, &o))
		return -EINVAL;
	if (pt) {
		cfg_error(c, "field 'passthrough': NVMe passthrough is not supported");
		return -EINVAL;
	}
	if (nvmf_subsystem_find(c->tgt, nqn)) {
		cfg_error_code(c, RPC_INTERNAL_ERROR, "Unable to create subsystem %s: field "
			       "'nqn': subsystem '%s' already exists", nqn, nqn);
		return -EINVAL;
	}
	if ((uint32_t)c->tgt->nsubsys - 1 >= c->tgt->max_subsystems) {
		cfg_error_code(c, RPC_INTERNAL_ERROR, "Unable to create subsystem %s: more "
			       "than max_subsystems (%u) subsystems", nqn,
			       c->tgt->max_subsystems);
		return -EINVAL;
	}
	if (ana || nssr)
		cfg_info(c, "%s ignored (single path)", ana ? "ana_reporting" : "enable_nssr");
	s = nvmf_subsystem_create(c->tgt, nqn);
	if (!s)
		return -ENOMEM;
	rc = subsys_apply(s, &o);
	if (rc)
		nvmf_subsystem_delete(s);
	return rc;
}

int cfg_delete_subsystem(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_subsystem *s;

	if (tgt_name_check(c, p))
		return -EINVAL;
	s = cfg_subsys(c, p, false);
	if (!s)
		return -EINVAL;
	nvmf_subsystem_delete(s);
	return 0;
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

int cfg_add_ns(struct cfg_ctx *c, json_t *p)
{
	static const char *const keys[] = { "nsid", "bdev_name", "uuid", "nguid",
		"eui64", "ptpl_file", "anagrpid", "no_auto_visible", "hide_metadata", NULL };
	struct nvmf_subsystem *s = cfg_subsys(c, p, false);
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
	ns.no_auto_visible = hidden;
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
	ns.bdev->claimed = true;
	rc = nvmf_subsystem_add_ns(s, &ns);
	if (rc) {
		ns.bdev->claimed = false;
		if (rc == -ENOMEM)
			return rc;
		cfg_error(c, "Unable to add namespace: field 'nsid': %u is %s "
			  "(max_namespaces %u)", ns.nsid,
			  rc == -EEXIST ? "taken" : "out of range", s->max_ns);
		return -EINVAL;
	}
	if (c->rpc)
		c->result = json_integer(ns.nsid);
	return 0;
}

int cfg_remove_ns(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_subsystem *s = cfg_subsys(c, p, false);
	uint64_t nsid = 0;

	if (!s || tgt_name_check(c, p) || cfg_u64(c, p, "nsid", true, 1, U32MAX, &nsid))
		return -EINVAL;
	if (nvmf_subsystem_remove_ns(s, (uint32_t)nsid)) {
		cfg_error(c, "Invalid parameters: field 'nsid': %s has no namespace %llu",
			  s->nqn, (unsigned long long)nsid);
		return -EINVAL;
	}
	return 0;
}

static struct nvmf_ns *ns_get(struct cfg_ctx *c, json_t *p, struct nvmf_subsystem **out)
{
	struct nvmf_subsystem *s = cfg_subsys(c, p, false);
	uint64_t nsid = 0;
	struct nvmf_ns *ns;

	if (!s || cfg_u64(c, p, "nsid", true, 1, U32MAX, &nsid))
		return NULL;
	ns = nvmf_subsystem_get_ns(s, (uint32_t)nsid);
	if (!ns)
		cfg_error(c, "Unable to find namespace: field 'nsid': %s has no "
			  "namespace %llu", s->nqn, (unsigned long long)nsid);
	*out = s;
	return ns;
}

int cfg_ns_add_host(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_subsystem *s = NULL;
	struct nvmf_ns *ns = ns_get(c, p, &s);
	const char *host = NULL;
	int rc;

	if (!ns || cfg_str(c, p, "host", true, NVMF_NQN_MAX, &host))
		return -EINVAL;
	rc = nvmf_ns_add_host(s, ns, host);
	if (rc == -EEXIST)
		cfg_info(c, "host %s already sees namespace %u", host, ns->nsid);
	return rc == -EEXIST ? 0 : rc;
}

int cfg_ns_remove_host(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_subsystem *s = NULL;
	struct nvmf_ns *ns = ns_get(c, p, &s);
	const char *host = NULL;

	if (!ns || cfg_str(c, p, "host", true, NVMF_NQN_MAX, &host))
		return -EINVAL;
	if (nvmf_ns_remove_host(s, ns, host)) {
		cfg_error(c, "field 'host': %s is not a host of namespace %u", host, ns->nsid);
		return -EINVAL;
	}
	return 0;
}

int cfg_add_host(struct cfg_ctx *c, json_t *p)
{
	static const char *const auth[] = { "dhchap_key", "dhchap_ctrlr_key", "psk", NULL };
	struct nvmf_subsystem *s = cfg_subsys(c, p, false);
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

int cfg_remove_host(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_subsystem *s = cfg_subsys(c, p, false);
	const char *host = NULL;

	if (!s || tgt_name_check(c, p) || cfg_str(c, p, "host", true, NVMF_NQN_MAX, &host))
		return -EINVAL;
	if (nvmf_subsystem_remove_host(s, host)) {
		cfg_error(c, "field 'host': %s is not an allowed host of %s", host, s->nqn);
		return -EINVAL;
	}
	return 0;
}

int cfg_allow_any_host(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_subsystem *s = cfg_subsys(c, p, false);
	bool any = false;

	if (!s || cfg_bool(c, p, "allow_any_host", &any))
		return -EINVAL;
	if (!json_object_get(p, "allow_any_host")) {
		cfg_error(c, "field 'allow_any_host' is required");
		return -EINVAL;
	}
	nvmf_subsystem_set_allow_any_host(s, any);
	return 0;
}

int cfg_listen_addr(struct cfg_ctx *c, json_t *la, struct nvmf_listen_addr *a)
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

/* The transport, created with defaults when a listener comes first. */
static int transport_implicit(struct cfg_ctx *c)
{
	int rc;

	if (c->tgt->has_transport)
		return 0;
	cfg_info(c, "no nvmf_create_transport before it: RDMA transport created with defaults");
	nvmf_transport_opts_init(&c->tgt->topts);
	c->tgt->has_transport = true;
	rc = nvmf_tgt_transport_start(c->tgt);
	if (rc) {
		c->tgt->has_transport = false;
		cfg_error_code(c, RPC_INTERNAL_ERROR, "Transport type 'RDMA' could not "
			       "be created: %s (see the target's log)", strerror(-rc));
	}
	return rc;
}

int cfg_add_listener(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_subsystem *s = cfg_subsys(c, p, true);
	struct nvmf_listen_addr a;
	bool secure = false;
	int rc;

	if (!s || tgt_name_check(c, p) || cfg_bool(c, p, "secure_channel", &secure) ||
	    cfg_listen_addr(c, json_object_get(p, "listen_address"), &a))
		return -EINVAL;
	if (secure) {
		cfg_error(c, "field 'secure_channel': TLS is not supported");
		return -EINVAL;
	}
	if (transport_implicit(c))
		return -EINVAL;
	rc = nvmf_subsystem_add_listener(s, &a);
	if (rc == -EEXIST) {
		cfg_error(c, "field 'listen_address': %s:%s already listed", a.traddr, a.trsvcid);
		return -EINVAL;
	}
	if (rc && rc != -ENOMEM) {
		cfg_error_code(c, RPC_INTERNAL_ERROR, "Unable to listen on %s %s:%s: %s",
			       a.trtype, a.traddr, a.trsvcid, strerror(-rc));
		return -EINVAL;
	}
	return rc;
}

int cfg_remove_listener(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_subsystem *s = cfg_subsys(c, p, true);
	struct nvmf_listen_addr a;

	if (!s || tgt_name_check(c, p) ||
	    cfg_listen_addr(c, json_object_get(p, "listen_address"), &a))
		return -EINVAL;
	if (nvmf_subsystem_remove_listener(s, &a)) {
		cfg_error(c, "Unable to remove listener: field 'listen_address': %s does "
			  "not listen on %s:%s", s->nqn, a.traddr, a.trsvcid);
		return -EINVAL;
	}
	return 0;
}

/* ---- Discovery referrals ---- */

static int referral_get(struct cfg_ctx *c, json_t *p, struct nvmf_referral *r)
{
	const char *subnqn = NVMF_DISCOVERY_NQN;

	memset(r, 0, sizeof(*r));
	if (tgt_name_check(c, p) || cfg_bool(c, p, "secure_channel", &r->secure_channel) ||
	    cfg_str(c, p, "subnqn", false, NVMF_NQN_MAX, &subnqn) ||
	    cfg_listen_addr(c, json_object_get(p, "address"), &r->a))
		return -EINVAL;
	strcpy(r->subnqn, subnqn);
	return 0;
}

static int referral_find(const struct nvmf_tgt *tgt, const struct nvmf_referral *r)
{
	for (int i = 0; i < tgt->nreferrals; i++) {
		const struct nvmf_referral *o = &tgt->referrals[i];

		if (!strcmp(o->a.traddr, r->a.traddr) && !strcmp(o->a.trsvcid, r->a.trsvcid) &&
		    !strcmp(o->subnqn, r->subnqn))
			return i;
	}
	return -ENOENT;
}

int cfg_add_referral(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_tgt *tgt = c->tgt;
	struct nvmf_referral r, *n;

	if (referral_get(c, p, &r))
		return -EINVAL;
	if (referral_find(tgt, &r) >= 0) {
		cfg_error(c, "Unable to add referral: %s:%s (%s) is already a referral",
			  r.a.traddr, r.a.trsvcid, r.subnqn);
		return -EINVAL;
	}
	n = realloc(tgt->referrals, (tgt->nreferrals + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	tgt->referrals = n;
	n[tgt->nreferrals++] = r;
	nvmf_tgt_discovery_changed(tgt);
	return 0;
}

int cfg_remove_referral(struct cfg_ctx *c, json_t *p)
{
	struct nvmf_tgt *tgt = c->tgt;
	struct nvmf_referral r;
	int i;

	if (referral_get(c, p, &r))
		return -EINVAL;
	i = referral_find(tgt, &r);
	if (i < 0) {
		cfg_error(c, "Unable to remove referral: %s:%s (%s) is not a referral",
			  r.a.traddr, r.a.trsvcid, r.subnqn);
		return -EINVAL;
	}
	memmove(&tgt->referrals[i], &tgt->referrals[i + 1],
		(size_t)(tgt->nreferrals - i - 1) * sizeof(r));
	tgt->nreferrals--;
	nvmf_tgt_discovery_changed(tgt);
	return 0;
}

int cfg_max_subsystems(struct cfg_ctx *c, json_t *p)
{
	uint64_t v = 0;

	if (cfg_u64(c, p, "max_subsystems", true, 1, U32MAX, &v))
		return -EINVAL;
	c->tgt->max_subsystems = (uint32_t)v;
	return 0;
}

