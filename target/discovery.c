/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The discovery log page: the current discovery subsystem first, then one
 * entry per (subsystem the host may see) x (listener of that subsystem).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "memmap/log.h"
#include "target/core.h"

static uint8_t adrfam_code(const char *adrfam)
{
	return !strcasecmp(adrfam, "IPv6") ? NVMF_ADRFAM_IPV6 : NVMF_ADRFAM_IPV4;
}

static void disc_entry(struct nvmf_disc_log_entry *e, const struct nvmf_tgt *tgt,
		       const struct nvmf_listen_addr *a, const char *nqn,
		       uint8_t subtype)
{
	int port = nvmf_tgt_find_addr(tgt, a);

	e->trtype = NVMF_TRTYPE_RDMA;
	e->adrfam = adrfam_code(a->adrfam);
	e->subtype = subtype;
	e->treq = 0;
	e->portid = port < 0 ? 0 : (uint16_t)port;
	e->cntlid = 0xFFFF;
	e->asqsz = (uint16_t)tgt->topts.max_aq_depth;
	nvmf_pad_copy(e->trsvcid, sizeof(e->trsvcid), a->trsvcid);
	snprintf(e->subnqn, sizeof(e->subnqn), "%s", nqn);
	nvmf_pad_copy(e->traddr, sizeof(e->traddr), a->traddr);
	e->tsas.rdma.qptype = NVMF_RDMA_QPTYPE_CONNECTED;
	e->tsas.rdma.prtype = NVMF_RDMA_PRTYPE_NOT_SPECIFIED;
	e->tsas.rdma.cms = NVMF_RDMA_CMS_RDMA_CM;
}

static bool current_addr(const struct nvmf_qpair *qp, const struct nvmf_tgt *tgt,
			 struct nvmf_listen_addr *a)
{
	const struct nvmf_transport_ops *ops = qp->transport->ops;

	if (ops->qpair_local_addr && !ops->qpair_local_addr(qp, a))
		return true;
	if (!tgt->naddrs)
		return false;
	*a = tgt->addrs[0];
	return true;
}

static size_t count_entries(const struct nvmf_tgt *tgt, const char *hostnqn)
{
	size_t n = 0;

	for (int i = 0; i < tgt->nsubsys; i++) {
		const struct nvmf_subsystem *s = tgt->subsys[i];

		if (!s->discovery && nvmf_subsystem_host_allowed(s, hostnqn))
			n += s->nlisteners;
	}
	return n + (size_t)tgt->nreferrals;
}

size_t nvmf_discovery_log(struct nvmf_ctrlr *c, const struct nvmf_qpair *qp,
			  void **out)
{
	const struct nvmf_tgt *tgt = c->tgt;
	struct nvmf_listen_addr cur;
	bool has_cur = current_addr(qp, tgt, &cur);
	size_t n = count_entries(tgt, c->hostnqn) + has_cur, size;
	struct nvmf_disc_log_hdr *hdr;
	struct nvmf_disc_log_entry *e;

	size = sizeof(*hdr) + n * sizeof(*e);
	hdr = calloc(1, size);
	*out = hdr;
	if (!hdr)
		return 0;
	hdr->genctr = tgt->genctr;
	hdr->numrec = n;
	e = (struct nvmf_disc_log_entry *)(hdr + 1);
	if (has_cur)
		disc_entry(e++, tgt, &cur, NVMF_DISCOVERY_NQN,
			   NVMF_SUBTYPE_DISCOVERY_CURRENT);
	for (int i = 0; i < tgt->nsubsys; i++) {
		const struct nvmf_subsystem *s = tgt->subsys[i];

		if (s->discovery || !nvmf_subsystem_host_allowed(s, c->hostnqn))
			continue;
		for (int j = 0; j < s->nlisteners; j++)
			disc_entry(e++, tgt, &s->listeners[j], s->nqn, NVMF_SUBTYPE_NVME);
	}
	for (int i = 0; i < tgt->nreferrals; i++) {
		const struct nvmf_referral *r = &tgt->referrals[i];

		disc_entry(e, tgt, &r->a, r->subnqn, NVMF_SUBTYPE_DISCOVERY_REFERRAL);
		e->portid = 0;
		if (r->secure_channel)
			e->treq = 1;	/* secure channel required */
		e++;
	}
	return size;
}
