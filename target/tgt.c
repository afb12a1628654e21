/* SPDX-License-Identifier: BSD-3-Clause */
/* The target object, the transport registry, start-up and shutdown. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "memmap/log.h"
#include "target/core.h"
#include "target/thread.h"

#define TRANSPORTS_MAX 4

static const struct nvmf_transport_ops *g_transports[TRANSPORTS_MAX];

void nvmf_transport_register(const struct nvmf_transport_ops *ops)
{
	for (int i = 0; i < TRANSPORTS_MAX; i++) {
		if (g_transports[i] == ops)
			return;
		if (!g_transports[i]) {
			g_transports[i] = ops;
			return;
		}
	}
	log_err("transport: registry full, %s not registered", ops->name);
}

const struct nvmf_transport_ops *nvmf_transport_find(const char *name)
{
	for (int i = 0; i < TRANSPORTS_MAX && g_transports[i]; i++) {
		if (!strcasecmp(g_transports[i]->name, name))
			return g_transports[i];
	}
	return NULL;
}

struct nvmf_mbox *nvmf_tgt_mbox(struct nvmf_tgt *tgt)
{
	if (!tgt->mbox)
		tgt->mbox = nvmf_mbox_create(tgt, "main", NVMF_MAIN_MBOX_SIZE);
	return tgt->mbox;
}

int nvmf_tgt_poll_group_cpus(const struct nvmf_tgt *tgt, int *cpus, int max)
{
	int n = tgt->ngroup_cpus < max ? tgt->ngroup_cpus : max;

	memcpy(cpus, tgt->group_cpus, (size_t)n * sizeof(*cpus));
	return n;
}

void nvmf_transport_opts_init(struct nvmf_transport_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->max_queue_depth = 128;
	o->max_io_qpairs_per_ctrlr = 127;
	o->in_capsule_data_size = 4096;
	o->max_io_size = 131072;
	o->io_unit_size = 8192;
	o->max_aq_depth = 128;
	o->num_shared_buffers = 4095;
	o->buf_cache_size = 32;
	o->max_srq_depth = 4096;
	o->no_srq = false;
	o->acceptor_backlog = 100;
}

struct nvmf_tgt *nvmf_tgt_create(void)
{
	struct nvmf_tgt *tgt = calloc(1, sizeof(*tgt));

	if (!tgt)
		return NULL;
	tgt->max_subsystems = NVMF_DEFAULT_MAX_SUBSYSTEMS;
	tgt->genctr = 1;
	nvmf_transport_opts_init(&tgt->topts);
	if (nvmf_loop_create(tgt))
		goto err_free;
	if (!nvmf_subsystem_create(tgt, NVMF_DISCOVERY_NQN))
		goto err_loop;
	return tgt;
err_loop:
	nvmf_loop_destroy(tgt);
err_free:
	free(tgt);
	return NULL;
}

void nvmf_tgt_destroy(struct nvmf_tgt *tgt)
{
	if (!tgt)
		return;
	if (tgt->transport) {
		tgt->transport->ops->destroy(tgt->transport);
		tgt->transport = NULL;
	}
	for (int i = 0; i < tgt->nsubsys; i++)
		nvmf_subsystem_free(tgt->subsys[i]);
	while (tgt->dead)
		nvmf_subsystem_free(tgt->dead);
	free(tgt->subsys);
	free(tgt->addrs);
	free(tgt->addr_refs);
	free(tgt->referrals);
	bdev_destroy_all(tgt);
	nvmf_mbox_destroy(tgt, tgt->mbox);
	nvmf_loop_destroy(tgt);
	free(tgt);
}

static bool addr_equal(const struct nvmf_listen_addr *a,
		       const struct nvmf_listen_addr *b)
{
	return !strcasecmp(a->trtype, b->trtype) && !strcasecmp(a->adrfam, b->adrfam) &&
	       !strcmp(a->traddr, b->traddr) && !strcmp(a->trsvcid, b->trsvcid);
}

static int addr_family(const char *adrfam)
{
	return !strcasecmp(adrfam, "IPv6") ? AF_INET6 : AF_INET;
}

bool nvmf_listen_addr_covers(const struct nvmf_listen_addr *l,
			     const struct nvmf_listen_addr *a)
{
	int af = addr_family(l->adrfam);
	unsigned char lb[sizeof(struct in6_addr)], ab[sizeof(struct in6_addr)];
	size_t len = af == AF_INET6 ? sizeof(struct in6_addr) : sizeof(struct in_addr);

	if (strcasecmp(l->trtype, a->trtype) || af != addr_family(a->adrfam) ||
	    strtoul(l->trsvcid, NULL, 10) != strtoul(a->trsvcid, NULL, 10))
		return false;
	if (inet_pton(af, l->traddr, lb) != 1 || inet_pton(af, a->traddr, ab) != 1)
		return !strcmp(l->traddr, a->traddr);
	/* A wildcard listener (0.0.0.0, ::) takes every address of the port. */
	return !memcmp(lb, ab, len) || !memcmp(lb, (unsigned char[16]){ 0 }, len);
}

int nvmf_tgt_find_addr(const struct nvmf_tgt *tgt, const struct nvmf_listen_addr *a)
{
	for (int i = 0; i < tgt->naddrs; i++) {
		if (addr_equal(&tgt->addrs[i], a))
			return i;
	}
	return -ENOENT;
}

/* Addresses are never forgotten: their index is the discovery log's port ID. */
int nvmf_tgt_add_addr(struct nvmf_tgt *tgt, const struct nvmf_listen_addr *a)
{
	struct nvmf_listen_addr *n;
	unsigned int *r;
	int i = nvmf_tgt_find_addr(tgt, a);

	if (i >= 0)
		return i;
	r = realloc(tgt->addr_refs, (tgt->naddrs + 1) * sizeof(*r));
	if (!r)
		return -ENOMEM;
	tgt->addr_refs = r;
	n = realloc(tgt->addrs, (tgt->naddrs + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	tgt->addrs = n;
	n[tgt->naddrs] = *a;
	r[tgt->naddrs] = 0;
	return tgt->naddrs++;
}

static int port_listen(struct nvmf_tgt *tgt, int port)
{
	struct nvmf_transport *t = tgt->transport;
	const struct nvmf_listen_addr *a = &tgt->addrs[port];
	int rc = t->ops->listen(t, a);

	if (rc) {
		log_err("listen %s %s:%s failed", a->trtype, a->traddr, a->trsvcid);
		return rc;
	}
	log_notice("listening on %s %s %s:%s", a->trtype, a->adrfam, a->traddr, a->trsvcid);
	return 0;
}

int nvmf_tgt_port_get(struct nvmf_tgt *tgt, int port)
{
	int rc;

	if (tgt->addr_refs[port]++ || !tgt->transport)
		return 0;
	rc = port_listen(tgt, port);
	if (rc)
		tgt->addr_refs[port]--;
	return rc;
}

void nvmf_tgt_port_put(struct nvmf_tgt *tgt, int port)
{
	struct nvmf_transport *t = tgt->transport;

	if (--tgt->addr_refs[port] || !t || !t->ops->stop_listen)
		return;
	t->ops->stop_listen(t, &tgt->addrs[port]);
	log_notice("stopped listening on %s %s:%s", tgt->addrs[port].trtype,
		   tgt->addrs[port].traddr, tgt->addrs[port].trsvcid);
}

void nvmf_tgt_discovery_changed(struct nvmf_tgt *tgt)
{
	tgt->genctr++;
	if (!tgt->nsubsys || !tgt->subsys[0]->discovery)
		return;
	for (struct nvmf_ctrlr *c = tgt->subsys[0]->ctrlrs; c; c = c->next)
		nvmf_ctrlr_disc_changed(c);
}

int nvmf_tgt_transport_start(struct nvmf_tgt *tgt)
{
	const struct nvmf_transport_ops *ops;
	struct nvmf_transport *t;
	int rc;

	if (!tgt->has_transport || tgt->transport || tgt->state != NVMF_TGT_RUNNING ||
	    tgt->dry_run)
		return 0;
	ops = nvmf_transport_find("RDMA");
	if (!ops) {
		log_err("the configuration asks for an RDMA transport, but this "
			"nvmf_tgt was built without one");
		return -ENOENT;
	}
	t = ops->create(tgt, &tgt->topts);
	if (!t) {
		log_err("transport %s: could not be created", ops->name);
		return -EIO;
	}
	t->ops = ops;
	t->tgt = tgt;
	t->opts = tgt->topts;
	tgt->transport = t;
	for (int i = 0; i < tgt->naddrs; i++) {
		if (!tgt->addr_refs[i])
			continue;
		rc = port_listen(tgt, i);
		if (rc) {
			/* All or nothing: a later try starts from scratch. */
			t->ops->destroy(t);
			tgt->transport = NULL;
			return rc;
		}
	}
	return 0;
}

int nvmf_tgt_start(struct nvmf_tgt *tgt)
{
	int rc;

	tgt->state = NVMF_TGT_RUNNING;
	if (!tgt->has_transport) {
		log_notice("no transport configured yet: waiting for nvmf_create_transport");
		return 0;
	}
	rc = nvmf_tgt_transport_start(tgt);
	if (rc)
		tgt->state = NVMF_TGT_STARTUP;	/* framework_start_init may try again */
	return rc;
}

void nvmf_tgt_stop_listen(struct nvmf_tgt *tgt)
{
	struct nvmf_transport *t = tgt->transport;

	tgt->state = NVMF_TGT_STOPPING;
	if (!t || !t->ops->stop_listen)
		return;
	for (int i = 0; i < tgt->naddrs; i++) {
		if (tgt->addr_refs[i])
			t->ops->stop_listen(t, &tgt->addrs[i]);
	}
}

int nvmf_tgt_flush_all(struct nvmf_tgt *tgt)
{
	int first = 0;

	for (struct bdev *b = tgt->bdevs; b; b = b->next) {
		int rc = b->ops->flush_sync ? b->ops->flush_sync(b) : 0;

		if (rc) {
			log_err("bdev %s: flush failed: %s", b->name, strerror(-rc));
			if (!first)
				first = rc;
		}
	}
	return first;
}
