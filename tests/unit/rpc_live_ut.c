/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Run-time changes seen by connected controllers (loopback transport):
 * namespace add/remove AENs, masking, host removal, subsystem delete,
 * discovery log change; and the RPC socket itself: owner-only, lock file,
 * stale socket, 64 clients at once, garbage and vanishing clients.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "target/config_int.h"
#include "target/rpc.h"
#include "tests/unit/loopback.h"
#include "tests/unit/ut.h"

#define NQN1 "nqn.2016-06.io.spdk:cnode1"
#define HOSTB "nqn.2014-08.org.nvmexpress:uuid:bbbbbbbb-0000-0000-0000-000000000000"
#define AEN_NS_CDW0 (NVME_AER_TYPE_NOTICE | (uint32_t)NVME_LOG_CHANGED_NS << 16)
#define AEN_DISC_CDW0 (NVME_AER_TYPE_NOTICE | NVME_AER_NOTICE_DISC_CHANGED << 8 | \
		       (uint32_t)NVME_LOG_DISC << 16)

static const char *g_cfg =
	"{\"subsystems\":[{\"subsystem\":\"bdev\",\"config\":["
	"{\"method\":\"bdev_null_create\",\"params\":{\"name\":\"n0\",\"num_blocks\":1024,"
	"\"block_size\":512}},"
	"{\"method\":\"bdev_null_create\",\"params\":{\"name\":\"n1\",\"num_blocks\":2048,"
	"\"block_size\":512}}]},"
	"{\"subsystem\":\"nvmf\",\"config\":["
	"{\"method\":\"nvmf_create_transport\",\"params\":{\"trtype\":\"RDMA\"}},"
	"{\"method\":\"nvmf_create_subsystem\",\"params\":{\"nqn\":\"" NQN1 "\"}},"
	"{\"method\":\"nvmf_subsystem_add_host\",\"params\":{\"nqn\":\"" NQN1 "\",\"host\":\""
	LO_HOSTNQN "\"}},"
	"{\"method\":\"nvmf_subsystem_add_host\",\"params\":{\"nqn\":\"" NQN1 "\",\"host\":\""
	HOSTB "\"}},"
	"{\"method\":\"nvmf_subsystem_add_ns\",\"params\":{\"nqn\":\"" NQN1 "\","
	"\"namespace\":{\"nsid\":1,\"bdev_name\":\"n0\"}}}]}]}";

/* One method through the shared apply path; 0 or the error code. */
static int call(struct nvmf_tgt *tgt, const char *method, const char *params)
{
	struct cfg_ctx c = { .tgt = tgt };
	json_t *p = params ? json_loads(params, 0, NULL) : NULL;
	int rc = cfg_call(&c, method, p);

	json_decref(p);
	json_decref(c.result);
	return rc ? c.code : 0;
}

static struct nvmf_tgt *live_tgt(void)
{
	struct nvmf_tgt *tgt = lo_tgt_from(g_cfg);

	if (tgt)
		tgt->state = NVMF_TGT_RUNNING;	/* as after framework_start_init */
	return tgt;
}

/* Enable the AEN kinds given and post one AER; the caller frees it. */
static struct lo_req *aer_post(struct nvmf_tgt *tgt, struct lo_qp *q, uint32_t aec)
{
	CU_ASSERT_EQUAL(lo_admin(tgt, q, NVME_OPC_SET_FEATURES, 0, NVME_FEAT_ASYNC_EVENT,
				 aec, NULL, 0, NULL), 0);
	return lo_start(q, &(struct nvme_cmd){ .opc = NVME_OPC_ASYNC_EVENT_REQUEST,
					       .cid = 31 }, NULL, 0);
}

/* The active namespace list as the controller's host sees it. */
static int active_ns(struct nvmf_tgt *tgt, struct lo_qp *q, uint32_t *first)
{
	uint32_t *list = calloc(1, 4096);
	int n = 0;

	CU_ASSERT_EQUAL(lo_admin(tgt, q, NVME_OPC_IDENTIFY, 0, NVME_CNS_ACTIVE_NS_LIST, 0,
				 list, 4096, NULL), 0);
	while (n < 1024 && list[n])
		n++;
	*first = list[0];
	free(list);
	return n;
}

static void test_ns_add_remove_aen(void)
{
	struct nvmf_tgt *tgt = live_tgt();
	struct nvme_cmd rd = { .opc = NVME_OPC_READ, .cid = 9, .nsid = 2 };
	struct lo_qp aq, ioq;
	struct lo_req *aer;
	uint32_t first, *log = calloc(1, 4096);
	uint8_t buf[512];
	struct nvme_cpl cpl;

	lo_admin_up(tgt, &aq, NQN1, 0);
	aer = aer_post(tgt, &aq, NVME_AEN_CFG_NS_ATTR);
	CU_ASSERT_EQUAL(aer->done, 0);
	CU_ASSERT_EQUAL(call(tgt, "nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\","
			     "\"namespace\":{\"bdev_name\":\"n1\"}}"), 0);
	CU_ASSERT_EQUAL(aer->done, 1);
	CU_ASSERT_EQUAL(aer->cpl.cdw0, AEN_NS_CDW0);
	free(aer);
	CU_ASSERT_EQUAL(active_ns(tgt, &aq, &first), 2);
	CU_ASSERT_EQUAL(lo_admin(tgt, &aq, NVME_OPC_GET_LOG_PAGE, 0xFFFFFFFF,
				 NVME_LOG_CHANGED_NS | 1023u << 16, 0, log, 4096, NULL), 0);
	CU_ASSERT_EQUAL(log[0], 2);
	CU_ASSERT_EQUAL(log[1], 0);

	/* I/O to it works, then the namespace goes: the next read is refused. */
	lo_qp_init(&ioq);
	CU_ASSERT_EQUAL(lo_connect(tgt, &ioq, 1, NQN1, LO_HOSTNQN, 1, 0, &cpl), 0);
	rd.cdw12 = 0;
	CU_ASSERT_EQUAL(lo_cmd(tgt, &ioq, &rd, buf, sizeof(buf), NULL), 0);
	aer = aer_post(tgt, &aq, NVME_AEN_CFG_NS_ATTR);
	CU_ASSERT_EQUAL(call(tgt, "nvmf_subsystem_remove_ns", "{\"nqn\":\"" NQN1 "\","
			     "\"nsid\":2}"), 0);
	CU_ASSERT_EQUAL(aer->done, 1);
	free(aer);
	CU_ASSERT_EQUAL(lo_cmd(tgt, &ioq, &rd, buf, sizeof(buf), NULL),
			NVME_SC_INVALID_NS & 0x7FF);
	CU_ASSERT_EQUAL(active_ns(tgt, &aq, &first), 1);
	CU_ASSERT_FALSE(bdev_find(tgt, "n1")->claimed);
	/* Deleting the bdev of namespace 1 hot-removes the namespace. */
	CU_ASSERT_EQUAL(call(tgt, "bdev_null_delete", "{\"name\":\"n0\"}"), 0);
	CU_ASSERT_EQUAL(active_ns(tgt, &aq, &first), 0);
	CU_ASSERT_PTR_NULL(bdev_find(tgt, "n0"));
	free(log);
	nvmf_tgt_destroy(tgt);
}

static void test_ns_masking(void)
{
	struct nvmf_tgt *tgt = live_tgt();
	struct lo_qp aq;
	struct lo_req *aer;
	uint32_t first;

	lo_admin_up(tgt, &aq, NQN1, 0);
	CU_ASSERT_EQUAL(call(tgt, "nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\","
			     "\"namespace\":{\"nsid\":5,\"bdev_name\":\"n1\","
			     "\"no_auto_visible\":true}}"), 0);
	CU_ASSERT_EQUAL(active_ns(tgt, &aq, &first), 1);	/* only nsid 1 */
	CU_ASSERT_EQUAL(first, 1);
	aer = aer_post(tgt, &aq, NVME_AEN_CFG_NS_ATTR);
	CU_ASSERT_EQUAL(call(tgt, "nvmf_ns_add_host", "{\"nqn\":\"" NQN1 "\",\"nsid\":5,"
			     "\"host\":\"" HOSTB "\"}"), 0);
	CU_ASSERT_EQUAL(aer->done, 0);		/* another host's business */
	CU_ASSERT_EQUAL(call(tgt, "nvmf_ns_add_host", "{\"nqn\":\"" NQN1 "\",\"nsid\":5,"
			     "\"host\":\"" LO_HOSTNQN "\"}"), 0);
	CU_ASSERT_EQUAL(aer->done, 1);
	free(aer);
	CU_ASSERT_EQUAL(active_ns(tgt, &aq, &first), 2);
	CU_ASSERT_EQUAL(call(tgt, "nvmf_ns_remove_host", "{\"nqn\":\"" NQN1 "\",\"nsid\":5,"
			     "\"host\":\"" LO_HOSTNQN "\"}"), 0);
	CU_ASSERT_EQUAL(active_ns(tgt, &aq, &first), 1);
	CU_ASSERT_NOT_EQUAL(call(tgt, "nvmf_ns_remove_host", "{\"nqn\":\"" NQN1 "\","
				 "\"nsid\":5,\"host\":\"" LO_HOSTNQN "\"}"), 0);
	nvmf_tgt_destroy(tgt);
}

static void test_host_removed(void)
{
	struct nvmf_tgt *tgt = live_tgt();
	struct lo_qp a, b, ioa;
	struct nvme_cpl cpl;

	lo_admin_up(tgt, &a, NQN1, 0);
	lo_qp_init(&ioa);
	CU_ASSERT_EQUAL(lo_connect(tgt, &ioa, 1, NQN1, LO_HOSTNQN, 1, 0, &cpl), 0);
	lo_qp_init(&b);
	CU_ASSERT_EQUAL(lo_connect(tgt, &b, 0, NQN1, HOSTB, 0xFFFF, 0, &cpl), 0);
	/* Removing host B drops B's controller only. */
	CU_ASSERT_EQUAL(call(tgt, "nvmf_subsystem_remove_host", "{\"nqn\":\"" NQN1 "\","
			     "\"host\":\"" HOSTB "\"}"), 0);
	CU_ASSERT_EQUAL(b.disconnects, 1);
	CU_ASSERT_EQUAL(a.disconnects, 0);
	CU_ASSERT_EQUAL(ioa.disconnects, 0);
	lo_qp_init(&b);
	CU_ASSERT_EQUAL(lo_connect(tgt, &b, 0, NQN1, HOSTB, 0xFFFF, 0, &cpl),
			NVME_SC_CONNECT_INVALID_HOST & 0x7FF);
	CU_ASSERT_NOT_EQUAL(call(tgt, "nvmf_subsystem_remove_host", "{\"nqn\":\"" NQN1
				 "\",\"host\":\"" HOSTB "\"}"), 0);
	/* allow_any_host off keeps A (listed); on, then off again: B's would go. */
	CU_ASSERT_EQUAL(call(tgt, "nvmf_subsystem_allow_any_host", "{\"nqn\":\"" NQN1 "\","
			     "\"allow_any_host\":false}"), 0);
	CU_ASSERT_EQUAL(a.disconnects, 0);
	/* Deleting the subsystem drops every queue of its controllers. */
	CU_ASSERT_EQUAL(call(tgt, "nvmf_delete_subsystem", "{\"nqn\":\"" NQN1 "\"}"), 0);
	CU_ASSERT_EQUAL(a.disconnects, 1);
	CU_ASSERT_EQUAL(ioa.disconnects, 1);
	CU_ASSERT_PTR_NULL(nvmf_subsystem_find(tgt, NQN1));
	CU_ASSERT_PTR_NULL(tgt->dead);	/* freed with its last controller */
	CU_ASSERT_FALSE(bdev_find(tgt, "n0")->claimed);
	nvmf_tgt_destroy(tgt);
}

static void set_local(struct lo_qp *q, const char *adrfam, const char *traddr,
		      const char *svc)
{
	snprintf(q->local.trtype, sizeof(q->local.trtype), "RDMA");
	snprintf(q->local.adrfam, sizeof(q->local.adrfam), "%s", adrfam);
	snprintf(q->local.traddr, sizeof(q->local.traddr), "%s", traddr);
	snprintf(q->local.trsvcid, sizeof(q->local.trsvcid), "%s", svc);
}

#define LISTENER(fam, addr, svc) "{\"nqn\":\"" NQN1 "\",\"listen_address\":{" \
	"\"trtype\":\"RDMA\",\"adrfam\":\"" fam "\",\"traddr\":\"" addr "\"," \
	"\"trsvcid\":\"" svc "\"}}"

/*
 * Removing a listener drops the controllers that came through it: matched
 * as addresses (a wildcard covers its port, IPv6 in any spelling), and a
 * listener of the exact address, still listed, keeps its own hosts.
 */
static void test_listener_removed(void)
{
	struct nvmf_tgt *tgt = live_tgt();
	struct lo_qp a, b, c;

	CU_ASSERT_EQUAL(call(tgt, "nvmf_subsystem_add_listener",
			     LISTENER("IPv4", "0.0.0.0", "4420")), 0);
	CU_ASSERT_EQUAL(call(tgt, "nvmf_subsystem_add_listener",
			     LISTENER("IPv4", "10.0.0.9", "4421")), 0);
	CU_ASSERT_EQUAL(call(tgt, "nvmf_subsystem_add_listener",
			     LISTENER("IPv6", "0:0:0:0:0:0:0:1", "4422")), 0);
	lo_admin_up(tgt, &a, NQN1, 0);
	set_local(&a, "IPv4", "10.0.0.9", "4420");	/* through the wildcard */
	lo_admin_up(tgt, &b, NQN1, 0);
	set_local(&b, "IPv4", "10.0.0.9", "4421");
	lo_admin_up(tgt, &c, NQN1, 0);
	set_local(&c, "IPv6", "::1", "4422");
	CU_ASSERT_EQUAL(call(tgt, "nvmf_subsystem_remove_listener",
			     LISTENER("IPv4", "0.0.0.0", "4420")), 0);
	CU_ASSERT_EQUAL(a.disconnects, 1);
	CU_ASSERT_EQUAL(b.disconnects + c.disconnects, 0);
	CU_ASSERT_EQUAL(call(tgt, "nvmf_subsystem_remove_listener",
			     LISTENER("IPv6", "0:0:0:0:0:0:0:1", "4422")), 0);
	CU_ASSERT_EQUAL(c.disconnects, 1);
	CU_ASSERT_EQUAL(b.disconnects, 0);
	CU_ASSERT_EQUAL(call(tgt, "nvmf_subsystem_remove_listener",
			     LISTENER("IPv4", "10.0.0.9", "4421")), 0);
	CU_ASSERT_EQUAL(b.disconnects, 1);
	nvmf_tgt_destroy(tgt);
}

static void test_discovery_changed(void)
{
	struct nvmf_tgt *tgt = live_tgt();
	struct lo_qp dq;
	struct lo_req *aer;
	uint64_t gen = tgt->genctr;
	struct nvme_id_ctrl *id = calloc(1, 4096);

	lo_admin_up(tgt, &dq, NVMF_DISCOVERY_NQN, 0);
	CU_ASSERT_EQUAL(lo_admin(tgt, &dq, NVME_OPC_IDENTIFY, 0, NVME_CNS_CTRLR, 0, id,
				 4096, NULL), 0);
	CU_ASSERT_EQUAL(id->oaes, NVME_AEN_CFG_DISC_CHANGE);
	aer = aer_post(tgt, &dq, NVME_AEN_CFG_DISC_CHANGE);
	CU_ASSERT_EQUAL(call(tgt, "nvmf_discovery_add_referral", "{\"address\":{\"trtype\":"
			     "\"RDMA\",\"traddr\":\"10.0.0.9\",\"trsvcid\":\"4420\"}}"), 0);
	CU_ASSERT_EQUAL(aer->done, 1);
	CU_ASSERT_EQUAL(aer->cpl.cdw0, AEN_DISC_CDW0);
	CU_ASSERT(tgt->genctr > gen);
	free(aer);
	free(id);
	nvmf_tgt_destroy(tgt);
}

/* A delay bdev's queued I/O outlives the deletion of its base; no delay on a delay. */
static void test_delay_base_deleted(void)
{
	struct nvmf_tgt *tgt = live_tgt();
	struct nvme_cmd rd = { .opc = NVME_OPC_READ, .cid = 9, .nsid = 2 };
	uint8_t buf[512];
	struct lo_qp aq, ioq;
	struct nvme_cpl cpl;
	struct lo_req *r;

	CU_ASSERT_EQUAL(call(tgt, "bdev_delay_create", "{\"name\":\"d1\",\"base_bdev_name\":"
			     "\"n1\",\"avg_read_latency\":20000,\"p99_read_latency\":20000,"
			     "\"avg_write_latency\":1,\"p99_write_latency\":1}"), 0);
	CU_ASSERT_NOT_EQUAL(call(tgt, "bdev_delay_create", "{\"name\":\"d2\",\"base_bdev_name\":"
				 "\"d1\",\"avg_read_latency\":1,\"p99_read_latency\":1,"
				 "\"avg_write_latency\":1,\"p99_write_latency\":1}"), 0);
	CU_ASSERT_EQUAL(call(tgt, "nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\","
			     "\"namespace\":{\"nsid\":2,\"bdev_name\":\"d1\"}}"), 0);
	lo_admin_up(tgt, &aq, NQN1, 0);
	lo_qp_init(&ioq);
	CU_ASSERT_EQUAL(lo_connect(tgt, &ioq, 1, NQN1, LO_HOSTNQN, 1, 0, &cpl), 0);
	r = lo_start(&ioq, &rd, buf, sizeof(buf));
	CU_ASSERT_EQUAL(r->done, 0);			/* waits in d1's queue */
	CU_ASSERT_EQUAL(call(tgt, "bdev_null_delete", "{\"name\":\"n1\"}"), 0);
	CU_ASSERT_PTR_NULL(bdev_find(tgt, "d1"));	/* deleted up the stack */
	CU_ASSERT_PTR_NOT_NULL(tgt->dead_bdevs);	/* both wait for the read */
	for (int i = 0; i < 2000 && (!r->done || tgt->dead_bdevs); i++)
		nvmf_loop_once(tgt, 1);
	CU_ASSERT_EQUAL(r->done, 1);
	CU_ASSERT_PTR_NULL(tgt->dead_bdevs);		/* then both are gone */
	free(r);
	nvmf_tgt_destroy(tgt);
}

/* ---- The socket ---- */

static char g_sock[108];

static int sock_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, g_sock);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Serve until fd has an answer (or closes); the bytes read, -1 on timeout. */
static ssize_t sock_answer(struct nvmf_tgt *tgt, int fd, char *buf, size_t len)
{
	size_t got = 0;

	for (int i = 0; i < 3000; i++) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		nvmf_loop_once(tgt, 1);
		if (poll(&p, 1, 0) <= 0)
			continue;
		n = recv(fd, buf + got, len - got - 1, MSG_DONTWAIT);
		if (n <= 0)
			return (ssize_t)got;
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "}\n"))
			return (ssize_t)got;
	}
	return -1;
}

static void test_socket_files(void)
{
	struct nvmf_tgt *tgt = nvmf_tgt_create(), *other = nvmf_tgt_create();
	char lock[128];
	struct stat st;
	int fd;

	snprintf(g_sock, sizeof(g_sock), "/tmp/rpc_ut.%d.sock", getpid());
	snprintf(lock, sizeof(lock), "%s.lock", g_sock);
	/* A stale socket file (nobody holds the lock) is replaced. */
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	{
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		strcpy(sa.sun_path, g_sock);
		CU_ASSERT_EQUAL(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	}
	close(fd);
	CU_ASSERT_EQUAL_FATAL(nvmf_rpc_listen(tgt, g_sock), 0);
	CU_ASSERT_EQUAL(stat(g_sock, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0600);
	CU_ASSERT(S_ISSOCK(st.st_mode));
	/* A live owner: refused, and its files stay. */
	CU_ASSERT_EQUAL(nvmf_rpc_listen(other, g_sock), -EADDRINUSE);
	CU_ASSERT_EQUAL(access(g_sock, F_OK), 0);
	nvmf_rpc_close(tgt);
	CU_ASSERT_NOT_EQUAL(access(g_sock, F_OK), 0);
	CU_ASSERT_NOT_EQUAL(access(lock, F_OK), 0);
	/* Not a socket: never replaced. */
	fd = open(g_sock, O_CREAT | O_WRONLY, 0600);
	close(fd);
	CU_ASSERT_EQUAL(nvmf_rpc_listen(other, g_sock), -EEXIST);
	unlink(g_sock);
	nvmf_tgt_destroy(tgt);
	nvmf_tgt_destroy(other);
}

#define NCLIENTS 64

static void test_socket_clients(void)
{
	static const char req[] = "{\n  \"jsonrpc\": \"2.0\",\n  \"method\": "
				  "\"spdk_get_version\",\n  \"id\": 7\n}";
	struct nvmf_tgt *tgt = nvmf_tgt_create();
	int fds[NCLIENTS], bad, gone, ok = 0;
	char buf[4096];

	snprintf(g_sock, sizeof(g_sock), "/tmp/rpc_ut.%d.sock", getpid());
	CU_ASSERT_EQUAL_FATAL(nvmf_rpc_listen(tgt, g_sock), 0);
	/* A client that vanishes mid-request, one that sends garbage. */
	gone = sock_connect();
	CU_ASSERT(send(gone, req, 20, 0) == 20);
	bad = sock_connect();
	CU_ASSERT(send(bad, "\x01\x02garbage", 9, 0) == 9);
	for (int i = 0; i < NCLIENTS; i++) {
		fds[i] = sock_connect();
		CU_ASSERT_FATAL(fds[i] >= 0);
		/* Half of them in two pieces. */
		if (i % 2) {
			CU_ASSERT(send(fds[i], req, 10, 0) == 10);
			nvmf_loop_once(tgt, 0);
			CU_ASSERT(send(fds[i], req + 10, sizeof(req) - 11, 0) ==
				  (ssize_t)sizeof(req) - 11);
		} else {
			CU_ASSERT(send(fds[i], req, sizeof(req) - 1, 0) ==
				  (ssize_t)sizeof(req) - 1);
		}
	}
	close(gone);
	CU_ASSERT(sock_answer(tgt, bad, buf, sizeof(buf)) > 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "-32700"));
	CU_ASSERT_EQUAL(recv(bad, buf, sizeof(buf), 0), 0);	/* closed */
	close(bad);
	for (int i = 0; i < NCLIENTS; i++) {
		ssize_t n = sock_answer(tgt, fds[i], buf, sizeof(buf));

		ok += n > 0 && strstr(buf, "\"id\": 7") && strstr(buf, "nvmf_tgt v");
		close(fds[i]);
	}
	CU_ASSERT_EQUAL(ok, NCLIENTS);
	nvmf_rpc_close(tgt);
	nvmf_tgt_destroy(tgt);
}

int main(void)
{
	static const struct ut_test tests[] = {
		{ "namespace add/remove: AEN, changed list, I/O refused", test_ns_add_remove_aen },
		{ "listener removal: the controllers that came through it", test_listener_removed },
		{ "namespace masking: nvmf_ns_add_host/remove_host", test_ns_masking },
		{ "host removed, subsystem deleted: exactly those controllers go",
		  test_host_removed },
		{ "discovery log change AEN", test_discovery_changed },
		{ "delay bdev: base deleted under queued I/O, no delay on a delay",
		  test_delay_base_deleted },
		{ "socket: owner-only, lock, stale file, not a socket", test_socket_files },
		{ "socket: 64 clients, split, garbage, vanishing", test_socket_clients },
	};

	log_set_level(LOGL_ERROR);
	return ut_run("rpc_live", NULL, NULL, tests, UT_COUNT(tests));
}
