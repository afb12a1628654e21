/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JSON-RPC server: framing through nvmf_rpc_process (bytes in, answers
 * out), the STARTUP/RUNTIME states, the methods' checks and answers through
 * cfg_call, and the apply path a config file and RPCs share. JSON text is
 * written with ' for " (dq).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "memmap/env.h"
#include "memmap/log.h"
#include "target/config.h"
#include "target/config_int.h"
#include "target/core.h"
#include "target/rpc.h"
#include "tests/unit/ut.h"

#define NQN1 "nqn.2016-06.io.spdk:cnode1"
#define NQN2 "nqn.2016-06.io.spdk:cnode2"
#define DISC "nqn.2014-08.org.nvmexpress.discovery"
#define H1 "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000001"
#define H2 "nqn.2014-08.org.nvmexpress:uuid:00000000-0000-0000-0000-000000000002"
#define LA(ip, port) "{'trtype':'RDMA','adrfam':'IPv4','traddr':'" ip "','trsvcid':'" port "'}"
#define SUB(nqn, extra) "{'nqn':'" nqn "'" extra "}"
#define NS(nqn, ns) "{'nqn':'" nqn "','namespace':" ns "}"
#define NULLB(n) "{'name':'" n "','num_blocks':1024,'block_size':512}"
#define REQ(m, id) "{'jsonrpc':'2.0','method':'" m "','id':" #id "}"
#define VERSION_REQ(id) REQ("spdk_get_version", id)
#define STARTUP_MSG "Method may only be called after framework is initialized using " \
		    "framework_start_init RPC."
#define RUNTIME_MSG "Method may only be called before framework is initialized"
#define EINV RPC_INVALID_PARAMS

static bool g_env_ok;
static struct nvmf_tgt *t;	/* the target of the running test */
static json_t *g_res, *g_ans;	/* the last cfg_call's result; the last feed's answers */
static int g_code;
static char g_msg[CFG_MSG_MAX];

/* Error lines are expected: hidden unless UT_DEBUG. */
static void quiet(bool on)
{
	static int saved = -1;

	if (getenv("UT_DEBUG"))
		return;
	fflush(stderr);
	if (on) {
		int null = open("/dev/null", O_WRONLY);

		saved = dup(2);
		dup2(null, 2);
		close(null);
	} else {
		dup2(saved, 2);
		close(saved);
	}
}

static char *dq(const char *s)
{
	char *d = strdup(s);

	for (char *p = d; *p; p++)
		*p = *p == '\'' ? '"' : *p;
	return d;
}

static json_t *J(const char *s)
{
	char *d = dq(s);
	json_t *j = json_loads(d, 0, NULL);

	free(d);
	return j;
}

static const char *S(json_t *o, const char *k) { return cfg_json_str(o, k); }
static json_int_t I(json_t *o, const char *k) { return json_integer_value(json_object_get(o, k)); }
static json_t *G(json_t *o, const char *k) { return json_object_get(o, k); }
static json_t *A(json_t *a, size_t i) { return json_array_get(a, i); }

/* A fake "RDMA" transport, so that a RUNNING target takes listeners. */
static struct nvmf_transport *fake_create(struct nvmf_tgt *tg, const struct nvmf_transport_opts *o)
{
	return tg && o ? calloc(1, sizeof(struct nvmf_transport)) : NULL;
}
static void fake_destroy(struct nvmf_transport *tr) { free(tr); }
static int fake_listen(struct nvmf_transport *tr, const struct nvmf_listen_addr *a) { return !tr || !a; }
static const struct nvmf_transport_ops fake_rdma = {
	.name = "RDMA", .create = fake_create, .destroy = fake_destroy, .listen = fake_listen,
};

static struct nvmf_tgt *tgt_new(bool running)
{
	struct nvmf_tgt *tg = nvmf_tgt_create();

	CU_ASSERT_PTR_NOT_NULL_FATAL(tg);
	if (running)
		tg->state = NVMF_TGT_RUNNING;	/* not nvmf_tgt_start: no RDMA device */
	return tg;
}

static void done(void)
{
	json_decref(g_res);
	json_decref(g_ans);
	g_res = g_ans = NULL;
	nvmf_tgt_destroy(t);
	t = NULL;
}

/* A fresh target (one that a failed test left behind is destroyed). */
static void start(bool running)
{
	if (t)
		done();
	t = tgt_new(running);
}

static int suite_fini(void)
{
	if (t)
		done();
	return 0;
}

/* ---- cfg_call: one method; g_res, g_code, g_msg hold its answer ---- */

static int call_on(struct nvmf_tgt *tg, const char *method, const char *params)
{
	struct cfg_ctx c = { .tgt = tg };
	json_t *p = params ? J(params) : NULL;
	int rc;

	json_decref(g_res);
	g_res = NULL;
	if (params && !p)
		return -100;	/* the test's JSON is wrong */
	quiet(true);
	rc = cfg_call(&c, method, p);
	quiet(false);
	json_decref(p);
	g_res = c.result;
	g_code = rc ? c.code : 0;
	snprintf(g_msg, sizeof(g_msg), "%s", rc ? c.msg : "");
	return rc;
}

/* Refused with code (0: any), the message starting with prefix (NULL: any). */
static bool refused(const char *m, const char *p, int code, const char *prefix)
{
	bool ok = call_on(t, m, p) == -1 && (!code || g_code == code) &&
		  (!prefix || !strncmp(g_msg, prefix, strlen(prefix)));

	if (!ok)
		fprintf(stderr, "\n  %s %s: code %d '%s', expected %d '%s'\n", m, p ? p : "",
			g_code, g_msg, code, prefix ? prefix : "");
	return ok;
}

/* The last result as a string ("" if it is not one). */
static const char *R(void) { return json_is_string(g_res) ? json_string_value(g_res) : ""; }

#define OK(m, p) CU_ASSERT_EQUAL(call_on(t, m, p), 0)
#define ERR(m, p, code, prefix) CU_ASSERT(refused(m, p, code, prefix))

/* ---- nvmf_rpc_process: g_ans holds the answers of the last feed ---- */

static long feedn(const char *in, size_t len, bool eof)
{
	struct nvmf_rpc_buf out = { 0 };
	size_t off = 0;
	long n;

	json_decref(g_ans);
	g_ans = json_array();
	quiet(true);
	n = nvmf_rpc_process(t, in, len, eof, &out);
	quiet(false);
	while (off < out.len) {
		json_error_t e;
		json_t *a = json_loadb(out.data + off, out.len - off, JSON_DISABLE_EOF_CHECK, &e);

		CU_ASSERT_PTR_NOT_NULL(a);
		if (!a)
			break;
		json_array_append_new(g_ans, a);
		for (off += (size_t)e.position; off < out.len && out.data[off] == '\n'; off++)
			;
	}
	free(out.data);
	return n;
}

/* text with ' for "; the bytes consumed (g_len: the text's length). */
static size_t g_len;
static long feed(const char *text, bool eof)
{
	char *d = dq(text);
	long n;

	g_len = strlen(d);
	n = feedn(d, g_len, eof);
	free(d);
	return n;
}
#define FEED_ALL(text) CU_ASSERT_EQUAL(feed(text, false), (long)g_len)

static size_t nans(void) { return json_array_size(g_ans); }
static json_t *ans(size_t i) { return A(g_ans, i); }
static json_int_t ans_code(size_t i) { return I(G(ans(i), "error"), "code"); }
static json_int_t ans_id(size_t i) { return I(ans(i), "id"); }

static void test_pretty_and_back_to_back(void)
{
	static const char *const seps[] = { "", "\n", "\r\n  \t\n" };
	char buf[512];

	start(false);
	FEED_ALL("{\n  'jsonrpc': '2.0',\n  'method': 'spdk_get_version',\n  'id': 1\n}");
	CU_ASSERT_EQUAL_FATAL(nans(), 1);
	CU_ASSERT(!strcmp(S(ans(0), "jsonrpc"), "2.0") && ans_id(0) == 1);
	CU_ASSERT(json_is_string(G(G(ans(0), "result"), "version")) && !G(ans(0), "error"));
	for (int i = 0; i < 3; i++) {
		snprintf(buf, sizeof(buf), VERSION_REQ(1) "%s" REQ("no_such", 2) "%s" VERSION_REQ(3)
			 "%s", seps[i], seps[i], seps[i]);
		FEED_ALL(buf);
		CU_ASSERT_EQUAL_FATAL(nans(), 3);
		for (int k = 0; k < 3; k++)
			CU_ASSERT_EQUAL(ans_id(k), k + 1);
		CU_ASSERT(ans_code(1) == RPC_METHOD_NOT_FOUND && G(ans(2), "result"));
	}
	done();
}

/* Every proper prefix must wait (0 consumed, no answer); the whole is answered. */
static int split_failures(const char *text)
{
	char *d = dq(text);
	size_t len = strlen(d);
	int bad = 0;

	for (size_t k = 1; k < len; k++) {
		long n = feedn(d, k, false);

		if (n == 0 && !nans())
			continue;
		if (!bad++)
			fprintf(stderr, "\n  consumed %ld, answered %lld after these prefixes:", n,
				nans() ? (long long)ans_code(0) : 0);
		fprintf(stderr, "\n    %3zu bytes: ...%.*s|", k, (int)(k < 10 ? k : 10),
			d + (k < 10 ? 0 : k - 10));
	}
	CU_ASSERT_EQUAL(feedn(d, len, false), (long)len);
	CU_ASSERT(nans() == 1 && G(ans(0), "result"));
	free(d);
	return bad;
}

static void test_split_every_byte(void)
{
	start(false);
	CU_ASSERT_EQUAL(split_failures("{\n  'jsonrpc': '2.0',\n  'method': 'rpc_get_methods',"
				       "\n  'id': 12,\n  'params': {}\n}"), 0);
	/* A whole request, then half of the next: the first is answered. */
	CU_ASSERT_EQUAL(feed(VERSION_REQ(1) "\n{'jsonrpc':'2.0','meth", false),
			(long)strlen(VERSION_REQ(1)) + 1);
	CU_ASSERT_EQUAL(nans(), 1);
	done();
}

/*
 * A read may end inside true/false/null, a number ("-", "1.", "1e"), after
 * a backslash or inside \uXXXX, or inside a UTF-8 character: jansson calls
 * such a prefix invalid, not "premature end", so the server must find the
 * value's end itself and wait for the rest, never answer -32700.
 */
static void test_split_inside_tokens(void)
{
	start(false);
	CU_ASSERT_EQUAL(split_failures("{\n  'jsonrpc': '2.0',\n  'method': 'rpc_get_methods',"
				       "\n  'id': 'r\\u00e9q\\'1',\n  'params': {\n    'current': "
				       "true,\n    'include_aliases': false\n  }\n}"), 0);
	CU_ASSERT_EQUAL(split_failures("{'jsonrpc':'2.0','method':'spdk_get_version',"
				       "'id':'caf\xc3\xa9'}"), 0);
	CU_ASSERT_EQUAL(split_failures(VERSION_REQ(-15)), 0);
	done();
}

/* -1, and the last of answers is -32700 with id null. */
static void parse_error(long n, size_t answers)
{
	CU_ASSERT_EQUAL(n, -1);
	CU_ASSERT_EQUAL(nans(), answers);
	if (nans() == answers) {
		CU_ASSERT_EQUAL(ans_code(answers - 1), RPC_PARSE_ERROR);
		CU_ASSERT(json_is_null(G(ans(answers - 1), "id")));
	}
}

static void test_truncated_oversize_garbage(void)
{
	size_t big = NVMF_RPC_MAX_REQUEST + 64;
	char *buf = malloc(big + 8);
	int head;

	start(false);
	parse_error(feed("{'jsonrpc':'2.0','method':'spdk_get_ver", true), 1);
	parse_error(feed(VERSION_REQ(1) " {'jsonrpc'", true), 2);
	CU_ASSERT(feed(" \n", true) == 2 && nans() == 0);	/* nothing pending */
	/* Incomplete: waits up to 1 MiB, refused beyond; complete but too big. */
	head = sprintf(buf, "{\"jsonrpc\":\"2.0\",\"method\":\"spdk_get_version\",\"id\":1,"
		       "\"params\":{\"x\":\"");
	memset(buf + head, 'a', big - (size_t)head);
	CU_ASSERT(feedn(buf, NVMF_RPC_MAX_REQUEST, false) == 0 && nans() == 0);
	parse_error(feedn(buf, big, false), 1);
	strcpy(buf + big, "\"}}");
	parse_error(feedn(buf, big + 3, false), 1);
	free(buf);
	parse_error(feedn("\x01\x02\xff\xfe\x80zz", 7, false), 1);
	parse_error(feed("hello world", false), 1);
	parse_error(feed("'a string'", false), 1);
	parse_error(feed(VERSION_REQ(1) "}}", false), 2);	/* answered, then closed */
	done();
}

/*
 * JSON whitespace is space, tab, CR and LF only (strchr(" \t\r\n", c) would
 * also match c == '\0'): NUL bytes are binary garbage, -32700 and close.
 */
static void test_nul_bytes(void)
{
	char buf[128] = { 0 };

	start(false);
	parse_error(feedn("\0\0\0\0", 4, false), 1);
	strcpy(buf + 2, "{\"jsonrpc\":\"2.0\",\"method\":\"spdk_get_version\",\"id\":1}");
	parse_error(feedn(buf, 2 + strlen(buf + 2), false), 1);
	done();
}

static void test_invalid_requests_and_ids(void)
{
	start(false);
	/* A top-level array (a batch): -32600, and the connection stays. */
	FEED_ALL("[" VERSION_REQ(1) "]" VERSION_REQ(2));
	CU_ASSERT_EQUAL_FATAL(nans(), 2);
	CU_ASSERT(ans_code(0) == RPC_INVALID_REQUEST && json_is_null(G(ans(0), "id")));
	CU_ASSERT_STRING_EQUAL(S(G(ans(0), "error"), "message"), "Invalid request");
	CU_ASSERT_EQUAL(ans_id(1), 2);
	CU_ASSERT(feed("[]", false) == 2 && ans_code(0) == RPC_INVALID_REQUEST);
	/* No jsonrpc, a wrong one, no method, a method not a string: id echoed. */
	FEED_ALL("{'method':'spdk_get_version','id':5}"
		 "{'jsonrpc':'1.0','method':'spdk_get_version','id':6}"
		 "{'jsonrpc':'2.0','id':7}{'jsonrpc':'2.0','method':1,'id':8}");
	CU_ASSERT_EQUAL_FATAL(nans(), 4);
	for (int i = 0; i < 4; i++)
		CU_ASSERT(ans_code(i) == RPC_INVALID_REQUEST && ans_id(i) == 5 + i);
	/* A notification (no id; id null as in SPDK) runs, unanswered... */
	FEED_ALL("{'jsonrpc':'2.0','method':'nvmf_set_max_subsystems','params':{'max_subsystems':7}}"
		 VERSION_REQ(null));
	CU_ASSERT(nans() == 0 && t->max_subsystems == 7);
	/* ...but its error is answered, id null (as SPDK; rpc.c handle()). */
	FEED_ALL("{'jsonrpc':'2.0','method':'no_such'}");
	CU_ASSERT(nans() == 1 && ans_code(0) == RPC_METHOD_NOT_FOUND);
	CU_ASSERT(json_is_null(G(ans(0), "id")));
	/* Ids echoed; unknown and refused methods; params not an object. */
	FEED_ALL(VERSION_REQ('abc') VERSION_REQ(4242) REQ("no_such", 'x-1')
		 REQ("bdev_nvme_attach_controller", 9)
		 "{'jsonrpc':'2.0','method':'spdk_get_version','params':[1],'id':10}"
		 "{'jsonrpc':'2.0','method':'rpc_get_methods','params':'x','id':11}");
	CU_ASSERT_EQUAL_FATAL(nans(), 6);
	CU_ASSERT(!strcmp(S(ans(0), "id"), "abc") && G(ans(0), "result"));
	CU_ASSERT(json_is_integer(G(ans(1), "id")) && ans_id(1) == 4242);
	CU_ASSERT(!strcmp(S(ans(2), "id"), "x-1") && ans_code(2) == RPC_METHOD_NOT_FOUND);
	CU_ASSERT_EQUAL(ans_code(3), RPC_METHOD_NOT_FOUND);	/* a refused method */
	CU_ASSERT(ans_code(4) == RPC_INVALID_PARAMS && ans_id(4) == 10);
	CU_ASSERT(ans_code(5) == RPC_INVALID_PARAMS && ans_id(5) == 11);
	done();
}

/* ---- States ---- */

static bool listed(json_t *list, const char *name)
{
	size_t i;
	json_t *v;

	json_array_foreach(list, i, v)
		if (!strcmp(json_string_value(v), name))
			return true;
	return false;
}

/* Also rpc_get_methods {"current": true} in both states. */
static void test_states(void)
{
	static const char wait[] = REQ("framework_wait_init", 2);
	json_t *st;

	start(false);
	CU_ASSERT_EQUAL(t->state, NVMF_TGT_STARTUP);
	FEED_ALL("{'jsonrpc':'2.0','method':'nvmf_create_subsystem','params':" SUB(NQN1, "")
		 ",'id':1}");
	CU_ASSERT_EQUAL_FATAL(nans(), 1);
	CU_ASSERT_EQUAL(ans_code(0), RPC_INVALID_STATE);
	CU_ASSERT_STRING_EQUAL(S(G(ans(0), "error"), "message"), STARTUP_MSG);
	CU_ASSERT_PTR_NULL(nvmf_subsystem_find(t, NQN1));
	ERR("bdev_null_create", NULLB("n"), RPC_INVALID_STATE, STARTUP_MSG);
	OK("iobuf_set_options", "{'small_pool_count':8192}");
	OK("nvmf_set_max_subsystems", "{'max_subsystems':9}");
	OK("rpc_get_methods", "{'current':true}");
	st = json_incref(g_res);
	/* framework_wait_init: the request before it is answered, it is held. */
	CU_ASSERT_EQUAL(feed(VERSION_REQ(1) "\n" REQ("framework_wait_init", 2), false),
			(long)strlen(VERSION_REQ(1)) + 1);
	CU_ASSERT_EQUAL(nans(), 1);
	CU_ASSERT(feed(wait, false) == 0 && nans() == 0);
	t->state = NVMF_TGT_RUNNING;
	FEED_ALL(wait);
	CU_ASSERT_EQUAL_FATAL(nans(), 1);
	CU_ASSERT(json_is_true(G(ans(0), "result")) && ans_id(0) == 2);
	CU_ASSERT(listed(st, "framework_start_init") && listed(st, "iobuf_set_options"));
	CU_ASSERT(listed(st, "nvmf_set_max_subsystems") && listed(st, "spdk_get_version"));
	CU_ASSERT(!listed(st, "nvmf_create_subsystem") && !listed(st, "bdev_nvme_attach_controller"));
	OK("rpc_get_methods", "{'current':true}");
	CU_ASSERT_FALSE(json_equal(st, g_res));
	CU_ASSERT(listed(g_res, "nvmf_create_subsystem") && listed(g_res, "spdk_get_version"));
	CU_ASSERT(!listed(g_res, "framework_start_init") && !listed(g_res, "iobuf_set_options"));
	OK("rpc_get_methods", NULL);
	CU_ASSERT(listed(g_res, "nvmf_set_max_subsystems") && listed(g_res, "nvmf_create_subsystem"));
	json_decref(st);
	ERR("iobuf_set_options", "{}", RPC_INVALID_STATE, RUNTIME_MSG);
	ERR("nvmf_set_max_subsystems", "{'max_subsystems':5}", RPC_INVALID_STATE, RUNTIME_MSG);
	ERR("framework_start_init", NULL, RPC_INVALID_STATE, RUNTIME_MSG);
	CU_ASSERT_EQUAL(t->max_subsystems, 9);
	OK("nvmf_create_subsystem", SUB(NQN1, ""));
	CU_ASSERT_PTR_NOT_NULL(nvmf_subsystem_find(t, NQN1));
	done();
}

/* ---- Methods through cfg_call ---- */

static void test_bdev_create(void)
{
	start(true);
	if (!g_env_ok) {
		CU_FAIL("env_init failed: no DMA memory for bdev_malloc_create");
	} else {
		OK("bdev_malloc_create", "{'num_blocks':64,'block_size':512}");
		CU_ASSERT_STRING_EQUAL(R(), "Malloc0");
		OK("bdev_malloc_create", "{'name':'ram','num_blocks':16,'block_size':4096}");
		CU_ASSERT_STRING_EQUAL(R(), "ram");
		OK("bdev_malloc_create", "{'num_blocks':8,'block_size':512}");
		CU_ASSERT_STRING_EQUAL(R(), "Malloc1");
		ERR("bdev_malloc_create", "{'name':'ram','num_blocks':8,'block_size':512}", -EEXIST,
		    NULL);
		ERR("bdev_null_delete", "{'name':'ram'}", -ENODEV, "No such device");
		OK("bdev_malloc_delete", "{'name':'ram'}");
		CU_ASSERT_PTR_NULL(bdev_find(t, "ram"));
	}
	OK("bdev_null_create", NULLB("n0"));
	CU_ASSERT_STRING_EQUAL(R(), "n0");
	ERR("bdev_null_create", NULLB("n0"), -EEXIST, NULL);
	ERR("bdev_null_create", "{'num_blocks':8,'block_size':512}", EINV, "field 'name'");
	ERR("bdev_null_create", "{'name':'x','num_blocks':8,'block_size':1000}", EINV, NULL);
	ERR("bdev_null_delete", "{'name':'nope'}", -ENODEV, NULL);
	done();
}

static void test_create_delete_subsystem(void)
{
	static const char cs[] = "nvmf_create_subsystem";

	start(true);
	ERR(cs, SUB(NQN1, ",'serial_number':'012345678901234567890'"), EINV, "Invalid SN");
	ERR(cs, SUB(NQN1, ",'serial_number':'bad\\u0001'"), EINV, "Invalid SN");
	ERR(cs, SUB(NQN1, ",'model_number':'01234567890123456789012345678901234567890'"), EINV,
	    "Invalid MN");
	ERR(cs, SUB(NQN1, ",'min_cntlid':10,'max_cntlid':5"), EINV, "Invalid cntlid range");
	ERR(cs, SUB(NQN1, ",'min_cntlid':0"), EINV, "Invalid cntlid range");
	ERR(cs, SUB(NQN1, ",'tgt_name':'other'"), EINV, "Unable to find target");
	ERR(cs, "{}", EINV, NULL);
	CU_ASSERT_EQUAL(t->nsubsys, 1);
	OK(cs, SUB(NQN1, ",'tgt_name':'nvmf_tgt','serial_number':'01234567890123456789'"));
	ERR(cs, SUB(NQN1, ""), -32603, "Unable to create subsystem");	/* as SPDK */
	ERR(cs, SUB(DISC, ""), -32603, NULL);
	CU_ASSERT_EQUAL(t->nsubsys, 2);
	ERR("nvmf_delete_subsystem", SUB(NQN2, ""), EINV, "Unable to find subsystem");
	ERR("nvmf_delete_subsystem", SUB(DISC, ""), EINV, NULL);
	OK("nvmf_delete_subsystem", SUB(NQN1, ""));
	CU_ASSERT_PTR_NULL(nvmf_subsystem_find(t, NQN1));
	ERR("nvmf_delete_subsystem", SUB(NQN1, ""), EINV, NULL);
	done();
}

static void test_namespaces(void)
{
	static const char add[] = "nvmf_subsystem_add_ns", rm[] = "nvmf_subsystem_remove_ns";
	struct nvmf_subsystem *s;

	start(true);
	OK("bdev_null_create", NULLB("a"));
	OK("bdev_null_create", NULLB("b"));
	OK("bdev_null_create", NULLB("c"));
	OK("nvmf_create_subsystem", SUB(NQN1, ""));
	OK("nvmf_create_subsystem", SUB(NQN2, ""));
	s = nvmf_subsystem_find(t, NQN1);
	OK(add, NS(NQN1, "{'bdev_name':'a','nsid':2}"));
	CU_ASSERT(json_is_integer(g_res) && json_integer_value(g_res) == 2);
	OK(add, NS(NQN1, "{'bdev_name':'b'}"));	/* the lowest free nsid */
	CU_ASSERT(json_is_integer(g_res) && json_integer_value(g_res) == 1);
	ERR(add, NS(NQN2, "{'bdev_name':'a','uuid':'44444444-4444-4444-8444-444444444444',"
	    "'nguid':'44444444444444448444444444444445'}"), EINV, "field 'bdev_name'");
	ERR(add, NS(NQN1, "{'bdev_name':'c','nsid':1}"), EINV, NULL);
	ERR(add, NS(NQN1, "{'bdev_name':'zz'}"), EINV, NULL);
	ERR(add, SUB(NQN1, ""), EINV, NULL);
	CU_ASSERT_FALSE(bdev_find(t, "c")->claimed);
	OK(add, NS(NQN1, "{'bdev_name':'c'}"));
	CU_ASSERT_EQUAL(json_integer_value(g_res), 3);
	ERR(rm, SUB(NQN1, ",'nsid':4"), EINV, NULL);
	ERR(rm, SUB(NQN2, ",'nsid':1"), EINV, NULL);
	CU_ASSERT(bdev_find(t, "a")->claimed);
	OK(rm, SUB(NQN1, ",'nsid':2"));
	CU_ASSERT(!nvmf_subsystem_get_ns(s, 2) && !bdev_find(t, "a")->claimed);
	OK(add, NS(NQN2, "{'bdev_name':'a'}"));
	CU_ASSERT_EQUAL(json_integer_value(g_res), 1);
	/* Hot-remove: deleting the bdev removes its namespace. */
	OK("bdev_null_delete", "{'name':'a'}");
	CU_ASSERT_PTR_NULL(bdev_find(t, "a"));
	OK("nvmf_get_subsystems", SUB(NQN2, ""));
	CU_ASSERT_EQUAL(json_array_size(G(A(g_res, 0), "namespaces")), 0);
	nvmf_loop_once(t, 0);		/* the reaper frees it */
	done();
}

static void test_hosts_and_visibility(void)
{
	struct nvmf_subsystem *s;
	struct nvmf_ns *hid, *vis;

	start(true);
	OK("nvmf_create_subsystem", SUB(NQN1, ""));
	s = nvmf_subsystem_find(t, NQN1);
	CU_ASSERT_FALSE(nvmf_subsystem_host_allowed(s, H1));
	OK("nvmf_subsystem_add_host", SUB(NQN1, ",'host':'" H1 "'"));
	OK("nvmf_subsystem_add_host", SUB(NQN1, ",'host':'" H1 "'"));	/* twice: ok */
	CU_ASSERT_EQUAL(s->nhosts, 1);
	CU_ASSERT(nvmf_subsystem_host_allowed(s, H1) && !nvmf_subsystem_host_allowed(s, H2));
	ERR("nvmf_subsystem_add_host", SUB(NQN1, ",'host':'" H2 "','psk':'k'"), EINV, NULL);
	ERR("nvmf_subsystem_add_host", SUB(NQN2, ",'host':'" H2 "'"), EINV, "Unable to find");
	ERR("nvmf_subsystem_remove_host", SUB(NQN1, ",'host':'" H2 "'"), EINV, NULL);
	OK("nvmf_subsystem_remove_host", SUB(NQN1, ",'host':'" H1 "'"));
	CU_ASSERT_FALSE(nvmf_subsystem_host_allowed(s, H1));
	ERR("nvmf_subsystem_remove_host", SUB(NQN1, ",'host':'" H1 "'"), EINV, NULL);
	ERR("nvmf_subsystem_allow_any_host", SUB(NQN1, ""), EINV, NULL);
	ERR("nvmf_subsystem_allow_any_host", SUB(NQN1, ",'allow_any_host':'yes'"), EINV, NULL);
	CU_ASSERT_FALSE(s->allow_any_host);
	OK("nvmf_subsystem_allow_any_host", SUB(NQN1, ",'allow_any_host':true"));
	CU_ASSERT(nvmf_subsystem_host_allowed(s, H2));
	/* Namespace masking: no_auto_visible, then nvmf_ns_add_host. */
	OK("bdev_null_create", NULLB("a"));
	OK("bdev_null_create", NULLB("b"));
	OK("nvmf_subsystem_add_ns", NS(NQN1, "{'bdev_name':'a','no_auto_visible':true}"));
	OK("nvmf_subsystem_add_ns", NS(NQN1, "{'bdev_name':'b'}"));
	hid = nvmf_subsystem_get_ns(s, 1);
	vis = nvmf_subsystem_get_ns(s, 2);
	CU_ASSERT_FATAL(hid && vis);
	CU_ASSERT(hid->no_auto_visible && !nvmf_ns_visible(hid, H1) && nvmf_ns_visible(vis, H1));
	OK("nvmf_ns_add_host", SUB(NQN1, ",'nsid':1,'host':'" H1 "'"));
	CU_ASSERT(nvmf_ns_visible(hid, H1) && !nvmf_ns_visible(hid, H2));
	OK("nvmf_ns_add_host", SUB(NQN1, ",'nsid':1,'host':'" H1 "'"));	/* twice: ok */
	CU_ASSERT_EQUAL(hid->nhosts, 1);
	ERR("nvmf_ns_add_host", SUB(NQN1, ",'nsid':5,'host':'" H1 "'"), EINV, "Unable to find");
	ERR("nvmf_ns_add_host", SUB(NQN1, ",'nsid':1"), EINV, NULL);
	ERR("nvmf_ns_remove_host", SUB(NQN1, ",'nsid':1,'host':'" H2 "'"), EINV, NULL);
	OK("nvmf_ns_remove_host", SUB(NQN1, ",'nsid':1,'host':'" H1 "'"));
	CU_ASSERT_FALSE(nvmf_ns_visible(hid, H1));
	done();
}

static void test_referrals(void)
{
	static const char ref[] = "{'address':" LA("10.0.0.2", "4420") "}";
	json_t *a = J(LA("10.0.0.2", "4420"));

	start(true);
	OK("nvmf_discovery_get_referrals", NULL);
	CU_ASSERT_EQUAL(json_array_size(g_res), 0);
	OK("nvmf_discovery_add_referral", ref);
	OK("nvmf_discovery_add_referral", "{'address':" LA("10.0.0.2", "4420") ",'subnqn':'"
	   NQN1 "'}");
	ERR("nvmf_discovery_add_referral", ref, EINV, "Unable to add referral");
	ERR("nvmf_discovery_add_referral", "{}", EINV, NULL);
	OK("nvmf_discovery_get_referrals", NULL);
	CU_ASSERT_EQUAL(json_array_size(g_res), 2);
	CU_ASSERT(!strcmp(S(A(g_res, 0), "subnqn"), DISC) && !strcmp(S(A(g_res, 1), "subnqn"), NQN1));
	CU_ASSERT(json_is_false(G(A(g_res, 0), "secure_channel")));
	CU_ASSERT(json_equal(G(A(g_res, 0), "address"), a));
	OK("nvmf_discovery_remove_referral", ref);
	ERR("nvmf_discovery_remove_referral", ref, EINV, "Unable to remove referral");
	OK("nvmf_discovery_get_referrals", NULL);
	CU_ASSERT(json_array_size(g_res) == 1 && !strcmp(S(A(g_res, 0), "subnqn"), NQN1));
	json_decref(a);
	done();
}

static void test_version_and_log(void)
{
	enum log_level saved = log_get_level();
	json_t *f;

	start(false);
	OK("spdk_get_version", NULL);
	CU_ASSERT_EQUAL(strncmp(S(g_res, "version"), "nvmf_tgt v", 10), 0);
	f = G(g_res, "fields");
	CU_ASSERT(json_is_integer(G(f, "major")) && json_is_integer(G(f, "patch")));
	CU_ASSERT(I(f, "minor") == NVMF_TGT_VERSION_MINOR && json_is_string(G(f, "suffix")));
	OK("log_set_level", "{'level':'DEBUG'}");
	CU_ASSERT_EQUAL(log_get_level(), LOGL_DEBUG);
	OK("log_get_level", NULL);
	CU_ASSERT_STRING_EQUAL(R(), "DEBUG");
	OK("log_set_level", "{'level':'warn'}");
	OK("log_get_level", NULL);
	CU_ASSERT_STRING_EQUAL(R(), "WARNING");
	ERR("log_set_level", "{'level':'LOUD'}", EINV, NULL);
	log_set_level(saved);
	done();
}

/* The same methods through cfg_call (RUNNING) and in a config file. */
static const char *const sample[][3] = {
	{ "bdev", "bdev_null_create", "{'name':'n0','num_blocks':1024,'block_size':512,"
	  "'uuid':'11111111-1111-4111-8111-111111111111'}" },
	{ "bdev", "bdev_null_create", "{'name':'n1','num_blocks':2048,'block_size':4096,"
	  "'uuid':'22222222-2222-4222-8222-222222222222'}" },
	{ "bdev", "bdev_null_create", "{'name':'n2','num_blocks':64,'block_size':512,"
	  "'uuid':'33333333-3333-4333-8333-333333333333'}" },
	{ "nvmf", "nvmf_discovery_add_referral", "{'address':" LA("10.0.0.9", "4420") "}" },
	{ "nvmf", "nvmf_subsystem_add_listener", SUB(DISC, ",'listen_address':"
	  LA("10.0.0.1", "4420")) },
	{ "nvmf", "nvmf_create_subsystem", SUB(NQN1, ",'serial_number':'SN1','model_number':"
	  "'MN1','max_namespaces':8,'min_cntlid':2") },
	{ "nvmf", "nvmf_subsystem_add_ns", NS(NQN1, "{'bdev_name':'n0','nsid':3}") },
	{ "nvmf", "nvmf_subsystem_add_ns", NS(NQN1, "{'bdev_name':'n1','no_auto_visible':true,"
	  "'eui64':'0011223344556677'}") },
	{ "nvmf", "nvmf_ns_add_host", SUB(NQN1, ",'nsid':1,'host':'" H1 "'") },
	{ "nvmf", "nvmf_subsystem_add_host", SUB(NQN1, ",'host':'" H1 "'") },
	{ "nvmf", "nvmf_subsystem_add_listener", SUB(NQN1, ",'listen_address':"
	  LA("10.0.0.1", "4420")) },
	{ "nvmf", "nvmf_create_subsystem", SUB(NQN2, ",'allow_any_host':true") },
	{ "nvmf", "nvmf_subsystem_add_ns", NS(NQN2, "{'bdev_name':'n2',"
	  "'nguid':'00112233445566778899AABBCCDDEEFF'}") },
};

static void sample_by_rpc(void)
{
	start(true);
	for (size_t i = 0; i < UT_COUNT(sample); i++)
		OK(sample[i][1], sample[i][2]);
}

/* Index of the first config entry of method (and nqn) from from on, or -1. */
static int entry(const char *method, const char *nqn, int from)
{
	for (size_t i = (size_t)from; i < json_array_size(g_res); i++) {
		json_t *e = A(g_res, i);

		if (!strcmp(S(e, "method"), method) && (!nqn || !strcmp(S(G(e, "params"), "nqn"), nqn)))
			return (int)i;
	}
	return -1;
}

static void test_get_subsystems_and_config(void)
{
	json_t *d, *s, *ns;
	int n, cs;

	sample_by_rpc();
	OK("nvmf_get_subsystems", NULL);
	CU_ASSERT_EQUAL_FATAL(json_array_size(g_res), 3);
	d = A(g_res, 0);
	CU_ASSERT(!strcmp(S(d, "nqn"), DISC) && !strcmp(S(d, "subtype"), "Discovery"));
	CU_ASSERT_EQUAL(json_array_size(G(d, "listen_addresses")), 1);
	s = A(g_res, 1);
	CU_ASSERT(!strcmp(S(s, "nqn"), NQN1) && !strcmp(S(s, "subtype"), "NVMe"));
	CU_ASSERT(!strcmp(S(s, "serial_number"), "SN1") && !strcmp(S(s, "model_number"), "MN1"));
	CU_ASSERT(json_is_false(G(s, "allow_any_host")));
	CU_ASSERT_STRING_EQUAL(S(A(G(s, "hosts"), 0), "nqn"), H1);
	CU_ASSERT_STRING_EQUAL(S(A(G(s, "listen_addresses"), 0), "traddr"), "10.0.0.1");
	CU_ASSERT_EQUAL_FATAL(json_array_size(G(s, "namespaces")), 2);
	ns = A(G(s, "namespaces"), 0);	/* in nsid order */
	CU_ASSERT(I(ns, "nsid") == 1 && !strcmp(S(ns, "bdev_name"), "n1"));
	CU_ASSERT_STRING_EQUAL(S(ns, "uuid"), "22222222-2222-4222-8222-222222222222");
	CU_ASSERT_STRING_EQUAL(S(ns, "nguid"), "22222222222242228222222222222222");
	ns = A(G(s, "namespaces"), 1);
	CU_ASSERT(I(ns, "nsid") == 3 && !strcmp(S(ns, "bdev_name"), "n0"));
	ns = A(G(A(g_res, 2), "namespaces"), 0);
	CU_ASSERT_STRING_EQUAL(S(ns, "nguid"), "00112233445566778899AABBCCDDEEFF");
	OK("nvmf_get_subsystems", SUB(NQN2, ""));
	CU_ASSERT_EQUAL(json_array_size(g_res), 1);
	ERR("nvmf_get_subsystems", SUB("nqn.2016-06.io.spdk:none", ""), -ENODEV, NULL);
	/* framework_get_config: an order that loads. */
	if (g_env_ok)
		OK("bdev_malloc_create", "{'name':'m0','num_blocks':8,'block_size':512}");
	OK("framework_get_config", "{'name':'bdev'}");
	n = (int)json_array_size(g_res);
	CU_ASSERT_EQUAL(n, g_env_ok ? 6 : 5);
	CU_ASSERT(entry("bdev_set_options", NULL, 0) == 0 && entry("bdev_null_create", NULL, 0) == 1);
	CU_ASSERT_STRING_EQUAL(S(G(A(g_res, 3), "params"), "name"), "n2");
	CU_ASSERT(!g_env_ok || entry("bdev_malloc_create", NULL, 0) == 4);
	CU_ASSERT_EQUAL(entry("bdev_wait_for_examine", NULL, 0), n - 1);
	OK("framework_get_config", "{'name':'nvmf'}");
	CU_ASSERT_EQUAL(entry("nvmf_set_max_subsystems", NULL, 0), 0);
	CU_ASSERT(entry("nvmf_create_transport", NULL, 0) > 0);
	CU_ASSERT(entry("nvmf_discovery_add_referral", NULL, 0) > 0);
	CU_ASSERT(entry("nvmf_subsystem_add_listener", DISC, 0) > 0);
	cs = entry("nvmf_create_subsystem", NQN2, 0);
	CU_ASSERT(cs > 0 && entry("nvmf_subsystem_add_ns", NQN2, 0) > cs);
	cs = entry("nvmf_create_subsystem", NQN1, 0);
	CU_ASSERT(cs > 0 && entry("nvmf_subsystem_add_ns", NQN1, 0) > cs);
	CU_ASSERT(entry("nvmf_subsystem_add_host", NQN1, 0) > cs);
	CU_ASSERT(entry("nvmf_subsystem_add_listener", NQN1, 0) > cs);
	CU_ASSERT(entry("nvmf_ns_add_host", NQN1, 0) > entry("nvmf_subsystem_add_ns", NQN1, 0));
	ERR("framework_get_config", "{'name':'iscsi'}", EINV, NULL);
	ERR("framework_get_config", NULL, EINV, NULL);
	done();
}

/* A config text loaded into a fresh (STARTUP) target, then RUNNING for queries. */
static struct nvmf_tgt *load(const char *text)
{
	struct nvmf_tgt *tg = tgt_new(false);
	int rc;

	quiet(true);
	rc = nvmf_config_load_string(tg, text, "test", 0);
	quiet(false);
	CU_ASSERT_EQUAL(rc, 0);
	if (rc)
		fprintf(stderr, "\n  %s", nvmf_config_errors());
	tg->state = NVMF_TGT_RUNNING;
	return tg;
}

static json_t *answer(struct nvmf_tgt *tg, const char *method, const char *params)
{
	CU_ASSERT_EQUAL(call_on(tg, method, params), 0);
	return json_incref(g_res);
}

static void test_shared_apply(void)
{
	json_t *root = J("{'subsystems':[{'subsystem':'bdev','config':[]},"
			 "{'subsystem':'nvmf','config':[]}]}"), *subs, *sa, *sb, *cfg;
	struct nvmf_tgt *b, *c;
	char *text;

	CU_ASSERT_PTR_NOT_NULL_FATAL(root);
	subs = G(root, "subsystems");
	for (size_t i = 0; i < UT_COUNT(sample); i++)
		json_array_append_new(G(A(subs, strcmp(sample[i][0], "bdev") ? 1 : 0), "config"),
				      json_pack("{s:s, s:o}", "method", sample[i][1], "params",
						J(sample[i][2])));
	text = json_dumps(root, JSON_INDENT(1));
	json_decref(root);
	b = load(text);
	free(text);
	sample_by_rpc();
	sa = answer(t, "nvmf_get_subsystems", NULL);
	sb = answer(b, "nvmf_get_subsystems", NULL);
	CU_ASSERT(json_equal(sa, sb));
	json_decref(sb);
	/* save_config, then -c on it: the same subsystems, the same config. */
	cfg = json_pack("{s:[{s:s, s:o}, {s:s, s:o}]}", "subsystems",
			"subsystem", "bdev", "config", answer(t, "framework_get_config",
							      "{'name':'bdev'}"),
			"subsystem", "nvmf", "config", answer(t, "framework_get_config",
							      "{'name':'nvmf'}"));
	text = json_dumps(cfg, 0);
	c = load(text);
	free(text);
	sb = answer(c, "nvmf_get_subsystems", NULL);
	CU_ASSERT(json_equal(sa, sb));
	json_decref(sb);
	for (int i = 0; i < 2; i++) {
		sb = answer(c, "framework_get_config", i ? "{'name':'nvmf'}" : "{'name':'bdev'}");
		CU_ASSERT(json_equal(G(A(G(cfg, "subsystems"), (size_t)i), "config"), sb));
		json_decref(sb);
	}
	json_decref(sa);
	json_decref(cfg);
	nvmf_tgt_destroy(b);
	nvmf_tgt_destroy(c);
	done();
}

int main(void)
{
	static const struct ut_test tests[] = {
		{ "framing: pretty-printed, back to back", test_pretty_and_back_to_back },
		{ "framing: split at every byte boundary", test_split_every_byte },
		{ "framing: split inside a literal/escape/UTF-8", test_split_inside_tokens },
		{ "framing: truncated, over 1 MiB, garbage", test_truncated_oversize_garbage },
		{ "framing: NUL bytes are not whitespace", test_nul_bytes },
		{ "framing: invalid requests, ids, notifications", test_invalid_requests_and_ids },
		{ "state: STARTUP/RUNNING, wait_init, get_methods", test_states },
		{ "bdev creates, names, -EEXIST, deletes", test_bdev_create },
		{ "nvmf_create_subsystem / delete checks", test_create_delete_subsystem },
		{ "namespaces: nsid, claims, remove, hot-remove", test_namespaces },
		{ "hosts, allow_any_host, namespace visibility", test_hosts_and_visibility },
		{ "discovery referrals", test_referrals },
		{ "spdk_get_version, log levels", test_version_and_log },
		{ "nvmf_get_subsystems shape, framework_get_config order",
		  test_get_subsystems_and_config },
		{ "config file and RPCs: one apply path; save and reload", test_shared_apply },
	};
	struct env_opts eo;
	unsigned int failures;

	log_set_level(getenv("UT_DEBUG") ? LOGL_DEBUG : LOGL_ERROR);
	nvmf_transport_register(&fake_rdma);
	env_opts_init(&eo);
	eo.name = "rpc_ut";
	eo.no_huge = true;
	eo.mem_mb = 64;
	g_env_ok = env_init(&eo) == 0;
	if (!g_env_ok)
		fprintf(stderr, "env_init failed: the bdev_malloc_create cases fail\n");
	failures = ut_run("rpc", NULL, suite_fini, tests, UT_COUNT(tests));
	if (g_env_ok)
		env_fini();
	return failures ? 1 : 0;
}
