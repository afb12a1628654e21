/*
 * verbs_check: does user-space RDMA work on this machine the way the target will use it?
 *
 *   verbs_check ADDR [PORT]
 *
 * Creates an RDMA CM event channel and id, binds it to ADDR (the address of the netdev
 * carrying the RDMA device, e.g. soft-RoCE), listens, then allocates a protection domain on
 * the id's device, registers a 1 MiB buffer for local write and remote read/write, and
 * creates a completion queue. Prints each step; exit status 0 when all worked.
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <infiniband/verbs.h>
#include <rdma/rdma_cma.h>

#define BUF_SIZE (1024 * 1024)
#define CQ_SIZE 64
#define NO_DEVICE_HINT "create one with rdma link add rxe0 type rxe netdev IF"

static int count_devices(void)
{
	int n = 0;
	struct ibv_device **list = ibv_get_device_list(&n);

	if (list == NULL)
		return 0;
	ibv_free_device_list(list);
	return n;
}

static int parse_addr(const char *addr, const char *port, struct sockaddr_in *sin)
{
	char *end;
	long p = strtol(port, &end, 10);

	if (*port == '\0' || *end != '\0' || p < 0 || p > 65535) {
		fprintf(stderr, "verbs_check: bad port '%s'\n", port);
		return -1;
	}
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((unsigned short)p);
	if (inet_pton(AF_INET, addr, &sin->sin_addr) != 1) {
		fprintf(stderr, "verbs_check: '%s' is not an IPv4 address\n", addr);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct rdma_event_channel *ch = NULL;
	struct rdma_cm_id *id = NULL;
	struct ibv_pd *pd = NULL;
	struct ibv_mr *mr = NULL;
	struct ibv_cq *cq = NULL;
	struct sockaddr_in sin;
	void *buf = NULL;
	int rc = 1;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: %s ADDR [PORT]\n", argv[0]);
		return 2;
	}
	if (parse_addr(argv[1], argc == 3 ? argv[2] : "0", &sin) != 0)
		return 2;

	int ndev = count_devices();
	if (ndev == 0) {
		fprintf(stderr, "verbs_check: no RDMA device: " NO_DEVICE_HINT "\n");
		return 1;
	}
	printf("verbs_check: %d RDMA device(s)\n", ndev);

	ch = rdma_create_event_channel();
	if (ch == NULL) {
		fprintf(stderr, "verbs_check: rdma_create_event_channel: %s%s\n", strerror(errno),
			errno == ENODEV ? " (no RDMA device: " NO_DEVICE_HINT ")" : "");
		goto out;
	}
	if (rdma_create_id(ch, &id, NULL, RDMA_PS_TCP) != 0) {
		fprintf(stderr, "verbs_check: rdma_create_id: %s\n", strerror(errno));
		goto out;
	}
	if (rdma_bind_addr(id, (struct sockaddr *)&sin) != 0) {
		fprintf(stderr,
			"verbs_check: cannot bind to %s: %s (is this the address of the netdev "
			"that carries the RDMA device?)\n",
			argv[1], strerror(errno));
		goto out;
	}
	if (id->verbs == NULL) {
		fprintf(stderr, "verbs_check: %s is not on an RDMA device: " NO_DEVICE_HINT "\n",
			argv[1]);
		goto out;
	}
	if (rdma_listen(id, 8) != 0) {
		fprintf(stderr, "verbs_check: rdma_listen: %s\n", strerror(errno));
		goto out;
	}
	printf("verbs_check: listening on %s:%u, device %s port %u\n", argv[1],
	       (unsigned)ntohs(rdma_get_src_port(id)), ibv_get_device_name(id->verbs->device),
	       (unsigned)id->port_num);

	pd = ibv_alloc_pd(id->verbs);
	if (pd == NULL) {
		fprintf(stderr, "verbs_check: ibv_alloc_pd: %s\n", strerror(errno));
		goto out;
	}
	printf("verbs_check: protection domain allocated\n");

	buf = malloc(BUF_SIZE);
	if (buf == NULL) {
		fprintf(stderr, "verbs_check: out of memory\n");
		goto out;
	}
	memset(buf, 0, BUF_SIZE);
	mr = ibv_reg_mr(pd, buf, BUF_SIZE,
			IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE);
	if (mr == NULL) {
		fprintf(stderr, "verbs_check: ibv_reg_mr of %d bytes: %s%s\n", BUF_SIZE,
			strerror(errno),
			errno == ENOMEM ? " (locked memory limit? see ulimit -l)" : "");
		goto out;
	}
	printf("verbs_check: registered %d bytes, lkey 0x%x rkey 0x%x\n", BUF_SIZE, mr->lkey,
	       mr->rkey);

	cq = ibv_create_cq(id->verbs, CQ_SIZE, NULL, NULL, 0);
	if (cq == NULL) {
		fprintf(stderr, "verbs_check: ibv_create_cq: %s\n", strerror(errno));
		goto out;
	}
	printf("verbs_check: completion queue of %d entries created\n", cq->cqe);
	printf("verbs_check: OK\n");
	rc = 0;

out:
	if (cq != NULL && ibv_destroy_cq(cq) != 0)
		rc = 1;
	if (mr != NULL && ibv_dereg_mr(mr) != 0)
		rc = 1;
	free(buf);
	if (pd != NULL && ibv_dealloc_pd(pd) != 0)
		rc = 1;
	if (id != NULL)
		rdma_destroy_id(id);
	if (ch != NULL)
		rdma_destroy_event_channel(ch);
	return rc;
}
