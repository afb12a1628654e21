/* SPDX-License-Identifier: BSD-3-Clause */
/* Subsystems: namespaces, allowed hosts, listeners. */
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
		if (!s->ns) {
			free(s);
			return NULL;
		}
	}
	arr[tgt->nsubsys++] = s;
	tgt->genctr++;
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
	s->ns[ns->nsid - 1] = copy;
	return 0;
}

struct nvmf_ns *nvmf_subsystem_get_ns(struct nvmf_subsystem *s, uint32_t nsid)
{
	if (nsid == 0 || nsid > s->max_ns)
		return NULL;
	return s->ns[nsid - 1];
}

uint32_t nvmf_subsystem_free_nsid(struct nvmf_subsystem *s)
{
	for (uint32_t i = 0; i < s->max_ns; i++) {
		if (!s->ns[i])
			return i + 1;
	}
	return 0;
}

int nvmf_subsystem_add_host(struct nvmf_subsystem *s, const char *hostnqn)
{
	char (*h)[NVMF_NQN_MAX + 1];

	if (strlen(hostnqn) > NVMF_NQN_MAX)
		return -EINVAL;
	if (nvmf_subsystem_host_allowed(s, hostnqn) && !s->allow_any_host)
		return -EEXIST;
	h = realloc(s->hosts, (s->nhosts + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	s->hosts = h;
	strcpy(h[s->nhosts++], hostnqn);
	s->tgt->genctr++;
	return 0;
}

bool nvmf_subsystem_host_allowed(const struct nvmf_subsystem *s,
				 const char *hostnqn)
{
	if (s->allow_any_host)
		return true;
	for (int i = 0; i < s->nhosts; i++) {
		if (!strcmp(s->hosts[i], hostnqn))
			return true;
	}
	return false;
}

int nvmf_subsystem_add_listener(struct nvmf_subsystem *s,
				const struct nvmf_listen_addr *a)
{
	struct nvmf_listen_addr *l;
	int port = nvmf_tgt_add_addr(s->tgt, a);

	if (port < 0)
		return port;
	for (int i = 0; i < s->nlisteners; i++) {
		if (nvmf_tgt_find_addr(s->tgt, &s->listeners[i]) == port)
			return -EEXIST;
	}
	l = realloc(s->listeners, (s->nlisteners + 1) * sizeof(*l));
	if (!l)
		return -ENOMEM;
	s->listeners = l;
	l[s->nlisteners++] = *a;
	s->tgt->genctr++;
	return 0;
}

void nvmf_subsystem_ns_changed(struct nvmf_subsystem *s, uint32_t nsid)
{
	uint32_t cdw0 = NVME_AER_TYPE_NOTICE | NVME_AER_NOTICE_NS_CHANGED << 8 |
			(uint32_t)NVME_LOG_CHANGED_NS << 16;

	for (struct nvmf_ctrlr *c = s->ctrlrs; c; c = c->next)
		nvmf_ctrlr_aen(c, cdw0, nsid);
}
