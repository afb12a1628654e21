/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Subsystems: namespaces, allowed hosts, listeners, and what changing any
 * of them at run time does to the controllers connected to it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "memmap/log.h"
#include "target/core.h"

struct nvmf_subsystem *nvmf_subsystem_create(struct nvmf_tgt *tgt,
					     const char *nqn)
{
	struct nvmf_subsystem **arr, *s;

	if (strlen(nqn) > NVMF_NQN_MAX)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	arr = realloc(tgt->subsys, (tgt->nsubsys + 1) * sizeof(*arr));
	if (!arr) {
		free(s);
		return NULL;
	}
	tgt->subsys = arr;
	s->tgt = tgt;
	strcpy(s->nqn, nqn);
	s->discovery = !strcmp(nqn, NVMF_DISCOVERY_NQN);
	strcpy(s->sn, NVMF_DEFAULT_SN);
	strcpy(s->mn, s->discovery ? "nvmf_tgt discovery" : NVMF_DEFAULT_MN);
	s->allow_any_host = s->discovery;
	s->min_cntlid = NVMF_MIN_CNTLID;
	s->max_cntlid = NVMF_MAX_CNTLID;
	s->next_cntlid = NVMF_MIN_CNTLID;
	if (!s->discovery) {
		s->max_ns = NVMF_DEFAULT_MAX_NS;
		s->ns = calloc(s->max_ns, sizeof(*s->ns));
		s->grp = aligned_alloc(_Alignof(struct nvmf_subsys_grp),
				       NVMF_MAX_POLL_GROUPS * sizeof(*s->grp));
		if (!s->ns || !s->grp) {
			free(s->ns);
			free(s->grp);
			free(s);
			return NULL;
		}
		memset(s->grp, 0, NVMF_MAX_POLL_GROUPS * sizeof(*s->grp));
	}
	arr[tgt->nsubsys++] = s;
	nvmf_tgt_discovery_changed(tgt);
	return s;
}

struct nvmf_subsystem *nvmf_subsystem_find(struct nvmf_tgt *tgt, const char *nqn)
{
	for (int i = 0; i < tgt->nsubsys; i++) {
		if (!strcmp(tgt->subsys[i]->nqn, nqn))
			return tgt->subsys[i];
	}
	return NULL;
}

/* ---- Namespaces ---- */

int nvmf_subsystem_add_ns(struct nvmf_subsystem *s, struct nvmf_ns *ns)
{
	struct nvmf_ns *copy;

	if (ns->nsid == 0 || ns->nsid > s->max_ns)
		return -EINVAL;
	if (s->ns[ns->nsid - 1])
		return -EEXIST;
	copy = malloc(sizeof(*copy));
	if (!copy)
		return -ENOMEM;
	*copy = *ns;
	copy->hosts = NULL;
	copy->nhosts = 0;
	nvmf_subsystem_pause(s);
	s->ns[ns->nsid - 1] = copy;
	nvmf_subsystem_resume(s);
	nvmf_subsystem_ns_changed(s, ns->nsid);
	return 0;
}

static void ns_free(struct nvmf_ns *ns)
{
	if (ns->bdev)
		ns->bdev->claimed = false;
	free(ns->hosts);
	free(ns);
}

int nvmf_subsystem_remove_ns(struct nvmf_subsystem *s, uint32_t nsid)
{
	struct nvmf_ns *ns = nvmf_subsystem_get_ns(s, nsid);

	if (!ns)
		return -ENOENT;
	/* Tell first: the AEN goes to those that could see it. */
	nvmf_subsystem_ns_changed(s, nsid);
	nvmf_subsystem_pause(s);
	s->ns[nsid - 1] = NULL;
	log_notice("%s: namespace %u (bdev %s) removed", s->nqn, nsid, ns->bdev->name);
	ns_free(ns);
	nvmf_subsystem_resume(s);
	return 0;
}

struct nvmf_ns *nvmf_subsystem_get_ns(struct nvmf_subsystem *s, uint32_t nsid)
{
	if (nsid == 0 || nsid > s->max_ns)
		return NULL;
	return s->ns[nsid - 1];
}

bool nvmf_ns_visible(const struct nvmf_ns *ns, const char *hostnqn)
{
	if (!ns->no_auto_visible)
		return true;
	for (int i = 0; i < ns->nhosts; i++) {
		if (!strcmp(ns->hosts[i], hostnqn))
			return true;
	}
	return false;
}

struct nvmf_ns *nvmf_subsystem_host_ns(struct nvmf_subsystem *s, const char *hostnqn,
				       uint32_t nsid)
{
	struct nvmf_ns *ns = s ? nvmf_subsystem_get_ns(s, nsid) : NULL;

	return ns && nvmf_ns_visible(ns, hostnqn) ? ns : NULL;
}

struct nvmf_ns *nvmf_ctrlr_get_ns(const struct nvmf_ctrlr *c, uint32_t nsid)
{
	return nvmf_subsystem_host_ns(c->subsys, c->hostnqn, nsid);
}

static int host_find(char (*hosts)[NVMF_NQN_MAX + 1], int n, const char *nqn)
{
	for (int i = 0; i < n; i++) {
		if (!strcmp(hosts[i], nqn))
			return i;
	}
	return -ENOENT;
}

/* The controllers of that host see the namespace come or go. */
static void ns_host_changed(struct nvmf_subsystem *s, uint32_t nsid, const char *hostnqn)
{
	for (struct nvmf_ctrlr *c = s->ctrlrs; c; c = c->next) {
		if (!strcmp(c->hostnqn, hostnqn))
			nvmf_ctrlr_ns_changed(c, nsid);
	}
}

int nvmf_ns_add_host(struct nvmf_subsystem *s, struct nvmf_ns *ns, const char *hostnqn)
{
	char (*h)[NVMF_NQN_MAX + 1];

	if (strlen(hostnqn) > NVMF_NQN_MAX)
		return -EINVAL;
	if (host_find(ns->hosts, ns->nhosts, hostnqn) >= 0)
		return -EEXIST;
	nvmf_subsystem_pause(s);
	h = realloc(ns->hosts, (ns->nhosts + 1) * sizeof(*h));
	if (!h) {
		nvmf_subsystem_resume(s);
		return -ENOMEM;
	}
	ns->hosts = h;
	strcpy(h[ns->nhosts++], hostnqn);
	nvmf_subsystem_resume(s);
	if (ns->no_auto_visible)
		ns_host_changed(s, ns->nsid, hostnqn);
	return 0;
}

int nvmf_ns_remove_host(struct nvmf_subsystem *s, struct nvmf_ns *ns, const char *hostnqn)
{
	int i = host_find(ns->hosts, ns->nhosts, hostnqn);

	if (i < 0)
		return -ENOENT;
	nvmf_subsystem_pause(s);
	memmove(ns->hosts[i], ns->hosts[i + 1], (size_t)(ns->nhosts - i - 1) * sizeof(*ns->hosts));
	ns->nhosts--;
	nvmf_subsystem_resume(s);
	if (ns->no_auto_visible)
		ns_host_changed(s, ns->nsid, hostnqn);
	return 0;
}

uint32_t nvmf_subsystem_free_nsid(struct nvmf_subsystem *s)
{
	for (uint32_t i = 0; i < s->max_ns; i++) {
		if (!s->ns[i])
			return i + 1;
	}
	return 0;
}

void nvmf_subsystem_ns_changed(struct nvmf_subsystem *s, uint32_t nsid)
{
	struct nvmf_ns *ns = nvmf_subsystem_get_ns(s, nsid);

	for (struct nvmf_ctrlr *c = s->ctrlrs; c; c = c->next) {
		if (!ns || nvmf_ns_visible(ns, c->hostnqn))
			nvmf_ctrlr_ns_changed(c, nsid);
	}
}

/* ---- Hosts ---- */

int nvmf_subsystem_add_host(struct nvmf_subsystem *s, const char *hostnqn)
{
	char (*h)[NVMF_NQN_MAX + 1];

	if (strlen(hostnqn) > NVMF_NQN_MAX)
		return -EINVAL;
	if (host_find(s->hosts, s->nhosts, hostnqn) >= 0)
		return -EEXIST;
	h = realloc(s->hosts, (s->nhosts + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	s->hosts = h;
	strcpy(h[s->nhosts++], hostnqn);
	nvmf_tgt_discovery_changed(s->tgt);
	return 0;
}

bool nvmf_subsystem_host_allowed(const struct nvmf_subsystem *s,
				 const char *hostnqn)
{
	return s->allow_any_host || host_find(s->hosts, s->nhosts, hostnqn) >= 0;
}

/* Disconnect the controllers whose host is no longer allowed. */
static void hosts_enforce(struct nvmf_subsystem *s)
{
	/* A transport may tear a controller down inside the call: keep next. */
	for (struct nvmf_ctrlr *c = s->ctrlrs, *next; c; c = next) {
		next = c->next;
		if (nvmf_subsystem_host_allowed(s, c->hostnqn))
			continue;
		log_notice("cntlid %u (%s): host %s no longer allowed, disconnecting",
			   c->cntlid, s->nqn, c->hostnqn);
		nvmf_ctrlr_disconnect(c, false);
	}
}

int nvmf_subsystem_remove_host(struct nvmf_subsystem *s, const char *hostnqn)
{
	int i = host_find(s->hosts, s->nhosts, hostnqn);

	if (i < 0)
		return -ENOENT;
	memmove(s->hosts[i], s->hosts[i + 1], (size_t)(s->nhosts - i - 1) * sizeof(*s->hosts));
	s->nhosts--;
	hosts_enforce(s);
	nvmf_tgt_discovery_changed(s->tgt);
	return 0;
}

void nvmf_subsystem_set_allow_any_host(struct nvmf_subsystem *s, bool any)
{
	s->allow_any_host = any;
	hosts_enforce(s);
	nvmf_tgt_discovery_changed(s->tgt);
}

/* ---- Listeners ---- */

static int listener_find(const struct nvmf_subsystem *s, int port)
{
	for (int i = 0; i < s->nlisteners; i++) {
		if (nvmf_tgt_find_addr(s->tgt, &s->listeners[i]) == port)
			return i;
	}
	return -ENOENT;
}

int nvmf_subsystem_add_listener(struct nvmf_subsystem *s,
				const struct nvmf_listen_addr *a)
{
	struct nvmf_listen_addr *l;
	int port = nvmf_tgt_add_addr(s->tgt, a), rc;

	if (port < 0)
		return port;
	if (listener_find(s, port) >= 0)
		return -EEXIST;
	l = realloc(s->listeners, (s->nlisteners + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	s->listeners = l;
	rc = nvmf_tgt_port_get(s->tgt, port);
	if (rc)
		return rc;
	l[s->nlisteners++] = *a;
	nvmf_tgt_discovery_changed(s->tgt);
	return 0;
}

static bool ctrlr_on_port(const struct nvmf_ctrlr *c, int port)
{
	const struct nvmf_qpair *qp = c->admin;
	struct nvmf_listen_addr a;
	int exact;

	if (!qp || !qp->transport->ops->qpair_local_addr)
		return true;	/* cannot tell: assume it came that way */
	if (qp->transport->ops->qpair_local_addr(qp, &a))
		return true;
	/* A listener of exactly that address, still listed, wins over a wildcard. */
	exact = nvmf_tgt_find_addr(c->tgt, &a);
	if (exact >= 0 && exact != port && listener_find(c->subsys, exact) >= 0)
		return false;
	return nvmf_listen_addr_covers(&c->tgt->addrs[port], &a);
}

int nvmf_subsystem_remove_listener(struct nvmf_subsystem *s,
				   const struct nvmf_listen_addr *a)
{
	int port = nvmf_tgt_find_addr(s->tgt, a);
	int i = port < 0 ? port : listener_find(s, port);

	if (i < 0)
		return -ENOENT;
	memmove(&s->listeners[i], &s->listeners[i + 1],
		(size_t)(s->nlisteners - i - 1) * sizeof(*s->listeners));
	s->nlisteners--;
	for (struct nvmf_ctrlr *c = s->ctrlrs, *next; c; c = next) {
		next = c->next;
		if (!ctrlr_on_port(c, port))
			continue;
		log_notice("cntlid %u (%s): listener %s:%s removed, disconnecting",
			   c->cntlid, s->nqn, a->traddr, a->trsvcid);
		nvmf_ctrlr_disconnect(c, false);
	}
	nvmf_tgt_port_put(s->tgt, port);
	nvmf_tgt_discovery_changed(s->tgt);
	return 0;
}

/* ---- Deletion ---- */

void nvmf_subsystem_free(struct nvmf_subsystem *s)
{
	struct nvmf_subsystem **pp = &s->tgt->dead;

	/* An I/O queue of s on a group may not have seen its disconnect yet. */
	if (s->grp)
		nvmf_groups_barrier(s->tgt);
	while (*pp && *pp != s)
		pp = &(*pp)->dead_next;
	if (*pp)
		*pp = s->dead_next;
	s->deleted = false;	/* nvmf_ctrlr_free must not come back here */
	while (s->ctrlrs)
		nvmf_ctrlr_free(s->ctrlrs);
	for (uint32_t i = 0; i < s->max_ns; i++) {
		if (s->ns[i])
			ns_free(s->ns[i]);
	}
	free(s->ns);
	free(s->grp);
	free(s->hosts);
	free(s->listeners);
	free(s);
}

void nvmf_subsystem_delete(struct nvmf_subsystem *s)
{
	struct nvmf_tgt *tgt = s->tgt;
	int i;

	for (i = 0; i < tgt->nsubsys && tgt->subsys[i] != s; i++)
		;
	if (i == tgt->nsubsys || s->discovery)
		return;
	memmove(&tgt->subsys[i], &tgt->subsys[i + 1],
		(size_t)(tgt->nsubsys - i - 1) * sizeof(*tgt->subsys));
	tgt->nsubsys--;
	while (s->nlisteners)
		nvmf_subsystem_remove_listener(s, &s->listeners[s->nlisteners - 1]);
	/*
	 * The namespaces go while no group runs a command of s; what the
	 * groups held meanwhile is aborted (resume of a deleted subsystem),
	 * and s is freed only once every group has seen its queues'
	 * disconnects (nvmf_subsystem_free).
	 */
	nvmf_subsystem_pause(s);
	for (uint32_t n = 0; n < s->max_ns; n++) {
		if (s->ns[n]) {
			ns_free(s->ns[n]);
			s->ns[n] = NULL;
		}
	}
	log_notice("%s: deleted", s->nqn);
	/* Resumed whatever pauses it was under: nothing held may be lost. */
	s->deleted = true;
	s->pause_depth = 1;
	nvmf_subsystem_resume(s);
	if (!s->ctrlrs) {
		nvmf_subsystem_free(s);
	} else {
		/* Freed with its last controller (nvmf_ctrlr_free). */
		s->dead_next = tgt->dead;
		tgt->dead = s;
		for (struct nvmf_ctrlr *c = s->ctrlrs, *next; c; c = next) {
			next = c->next;
			nvmf_ctrlr_disconnect(c, false);
		}
	}
	nvmf_tgt_discovery_changed(tgt);
}
