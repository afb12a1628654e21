/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The config loader: SPDK value conventions, the method classes of
 * POLICY.md, precise errors, and the real SPDK files of
 * ../shared/spdk-configs with their expected outcome (POLICY.md §6).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "memmap/log.h"
#include "target/config.h"
#include "target/core.h"
#include "tests/unit/ut.h"

#define SPDK_DIR "../shared/spdk-configs"
#define NQN1 "nqn.2016-06.io.spdk:cnode1"

/* Errors are checked through nvmf_config_errors(), not shown (UT_DEBUG shows). */
static int g_saved_stderr = -1;

static void quiet(bool on)
{
	if (getenv("UT_DEBUG"))
		return;
	fflush(stderr);
	if (on) {
		int null = open("/dev/null", O_WRONLY);

		g_saved_stderr = dup(2);
		dup2(null, 2);
		close(null);
	} else if (g_saved_stderr >= 0) {
		dup2(g_saved_stderr, 2);
		close(g_saved_stderr);
		g_saved_stderr = -1;
	}
}

static struct nvmf_tgt *load(const char *json, int *rc)
{
	struct nvmf_tgt *tgt = nvmf_tgt_create();

	CU_ASSERT_PTR_NOT_NULL_FATAL(tgt);
	quiet(true);
	*rc = nvmf_config_load_string(tgt, json, "test", NVMF_CONFIG_DRY_RUN);
	quiet(false);
	return tgt;
}

/* The config must be refused with every one of the words in its errors. */
static void refused(const char *json, const char *w1, const char *w2)
{
	int rc;
	struct nvmf_tgt *tgt = load(json, &rc);

	CU_ASSERT_EQUAL(rc, -EINVAL);
	if (w1 && !strstr(nvmf_config_errors(), w1)) {
		fprintf(stderr, "\n  missing '%s' in: %s", w1, nvmf_config_errors());
		CU_FAIL("error does not name it");
	}
	if (w2 && !strstr(nvmf_config_errors(), w2)) {
		fprintf(stderr, "\n  missing '%s' in: %s", w2, nvmf_config_errors());
		CU_FAIL("error does not name it");
	}
	nvmf_tgt_destroy(tgt);
}

#define SUBS(x) "{\"subsystems\":[" x "]}"
#define SEC(name, x) "{\"subsystem\":\"" name "\",\"config\":[" x "]}"
#define M(name, params) "{\"method\":\"" name "\",\"params\":" params "}"
#define MALLOC0 M("bdev_malloc_create", "{\"name\":\"m0\",\"num_blocks\":64,\"block_size\":512}")
#define SUBSYS1 M("nvmf_create_subsystem", "{\"nqn\":\"" NQN1 "\"}")
#define LISTEN(la) M("nvmf_subsystem_add_listener", "{\"nqn\":\"" NQN1 "\",\"listen_address\":" la "}")

static const char good[] =
	"// an SPDK config with comments\n"
	"{ \"extra_root\": 1, /* ignored */\n"
	" \"subsystems\": [\n"
	"  {\"subsystem\": \"accel\", \"config\": null},\n"
	"  {\"subsystem\": \"vhost\", \"config\": [" M("vhost_create_blk_controller", "{}") "]},\n"
	"  " SEC("bdev", M("bdev_set_options", "{\"bdev_io_pool_size\":65536}") ","
		MALLOC0 ","
		M("bdev_malloc_create", "{\"num_blocks\":32,\"block_size\":4096,"
		  "\"uuid\":\"0A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D\",\"md_size\":0,"
		  "\"dif_type\":0,\"physical_block_size\":4096}") ","
		"[" M("bdev_malloc_create", "{\"name\":\"m2\",\"num_blocks\":8,\"block_size\":512}")
		"], []") ",\n"
	"  " SEC("nvmf",
		M("nvmf_create_transport", "{\"trtype\":\"rdma\",\"max_queue_depth\":64,"
		  "\"max_qpairs_per_ctrlr\":9,\"in_capsule_data_size\":8192,"
		  "\"max_io_size\":1048576,\"io_unit_size\":8192,\"buf_cache_size\":4294967295,"
		  "\"c2h_success\":true,\"some_future_knob\":3}") ","
		M("nvmf_subsystem_add_listener", "{\"nqn\":\"nqn.2014-08.org.nvmexpress.discovery\","
		  "\"listen_address\":{\"trtype\":\"RDMA\",\"adrfam\":\"IPv4\",\"traddr\":\"10.0.0.1\","
		  "\"trsvcid\":\"4420\"}}") ","
		M("nvmf_create_subsystem", "{\"nqn\":\"" NQN1 "\",\"serial_number\":\"SN1\","
		  "\"model_number\":\"Model // not a comment\",\"max_namespaces\":4,"
		  "\"min_cntlid\":5,\"max_cntlid\":9,\"ana_reporting\":false}") ","
		M("nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\",\"namespace\":{\"bdev_name\":\"m0\"}}") ","
		M("nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\",\"namespace\":{\"nsid\":3,"
		  "\"bdev_name\":\"Malloc0\",\"nguid\":\"00112233445566778899aabbccddeeff\","
		  "\"eui64\":\"ABCDEF0123456789\"}}") ","
		M("nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\",\"namespace\":{\"bdev_name\":\"m2\"}}") ","
		M("nvmf_subsystem_add_host", "{\"nqn\":\"" NQN1 "\",\"host\":\"nqn.2014-08.org.nvmexpress:uuid:1\"}") ","
		LISTEN("{\"transport\":\"RDMA\",\"traddr\":\"10.0.0.1\",\"trsvcid\":\"4420\"}") ","
		LISTEN("{\"trtype\":\"rdma\",\"adrfam\":\"ipv6\",\"traddr\":\"fe80::1\",\"trsvcid\":\"4421\"}") ","
		M("nvmf_set_config", "{\"acceptor_poll_rate\":10000}") ","
		M("nvmf_set_max_subsystems", "{\"max_subsystems\":4}")) "\n"
	" ]\n}\n";

static void test_good_config(void)
{
	struct nvmf_subsystem *s;
	struct nvmf_ns *ns;
	struct nvmf_tgt *tgt;
	struct bdev *m0;
	int rc;

	tgt = load(good, &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_STRING_EQUAL(nvmf_config_errors(), "");
	CU_ASSERT(tgt->has_transport);
	CU_ASSERT_EQUAL(tgt->topts.max_queue_depth, 64);
	CU_ASSERT_EQUAL(tgt->topts.max_io_qpairs_per_ctrlr, 8);	/* 9 - 1 */
	CU_ASSERT_EQUAL(tgt->topts.in_capsule_data_size, 8192);
	CU_ASSERT_EQUAL(tgt->topts.max_io_size, 1048576);
	CU_ASSERT_EQUAL(tgt->topts.max_aq_depth, 128);
	CU_ASSERT_EQUAL(tgt->topts.acceptor_backlog, 100);
	CU_ASSERT_EQUAL(tgt->max_subsystems, 4);
	s = nvmf_subsystem_find(tgt, NQN1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s->sn, "SN1");
	CU_ASSERT_STRING_EQUAL(s->mn, "Model // not a comment");
	CU_ASSERT_EQUAL(s->max_ns, 4);
	CU_ASSERT_EQUAL(s->min_cntlid, 5);
	CU_ASSERT_EQUAL(s->max_cntlid, 9);
	CU_ASSERT_FALSE(s->allow_any_host);
	CU_ASSERT(nvmf_subsystem_host_allowed(s, "nqn.2014-08.org.nvmexpress:uuid:1"));
	CU_ASSERT_FALSE(nvmf_subsystem_host_allowed(s, "nqn.2014-08.org.nvmexpress:uuid:2"));
	CU_ASSERT_EQUAL(s->nlisteners, 2);
	CU_ASSERT_STRING_EQUAL(s->listeners[0].adrfam, "IPv4");
	CU_ASSERT_STRING_EQUAL(s->listeners[1].adrfam, "IPv6");
	CU_ASSERT_STRING_EQUAL(s->listeners[1].trtype, "RDMA");
	CU_ASSERT_EQUAL(tgt->naddrs, 2);	/* the discovery listener is shared */
	/* nsid 1: auto; UUID and NGUID both the bdev's. */
	ns = nvmf_subsystem_get_ns(s, 1);
	m0 = bdev_find(tgt, "m0");
	CU_ASSERT_PTR_NOT_NULL_FATAL(ns);
	CU_ASSERT_PTR_EQUAL(ns->bdev, m0);
	CU_ASSERT_EQUAL(memcmp(ns->uuid, m0->uuid, 16), 0);
	CU_ASSERT_EQUAL(memcmp(ns->nguid, m0->uuid, 16), 0);
	CU_ASSERT_FALSE(ns->has_eui64);
	/* nsid 3: auto-named Malloc0 with a config UUID, NGUID, EUI64. */
	ns = nvmf_subsystem_get_ns(s, 3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ns);
	CU_ASSERT_STRING_EQUAL(ns->bdev->name, "Malloc0");
	CU_ASSERT_EQUAL(ns->bdev->block_size, 4096);
	CU_ASSERT_EQUAL(ns->uuid[0], 0x0A);
	CU_ASSERT_EQUAL(ns->uuid[15], 0x4D);
	CU_ASSERT_EQUAL(ns->nguid[0], 0x00);
	CU_ASSERT_EQUAL(ns->nguid[15], 0xFF);
	CU_ASSERT(ns->has_eui64);
	CU_ASSERT_EQUAL(ns->eui64[0], 0xAB);
	/* nsid 2: the lowest free one, from a batch entry. */
	ns = nvmf_subsystem_get_ns(s, 2);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ns);
	CU_ASSERT_STRING_EQUAL(ns->bdev->name, "m2");
	CU_ASSERT_NOT_EQUAL(memcmp(ns->uuid, nvmf_subsystem_get_ns(s, 1)->uuid, 16), 0);
	nvmf_tgt_destroy(tgt);
}

static void test_strip_comments(void)
{
	char *s = nvmf_config_strip_comments("{\"a\": \"x//y\\\"/*z*/\", // c\n\"b\": /* d\ne */ 1}");

	CU_ASSERT_STRING_EQUAL(s, "{\"a\": \"x//y\\\"/*z*/\",     \n\"b\":     \n     1}");
	free(s);
	s = nvmf_config_strip_comments("{} /* unterminated");
	CU_ASSERT_EQUAL(strlen(s), 18);
	CU_ASSERT_EQUAL(strspn(s + 2, " "), 16);
	free(s);
}

static void test_structure_errors(void)
{
	refused("\"subsystems\": 1", "not enclosed", NULL);
	refused("[1]", "root is not an object", NULL);
	refused("  // only a comment\n", "not enclosed", NULL);
	refused("{\"subsystems\": {}}", "not an array", NULL);
	refused("{\"subsystems\": [ {\"subsystem\":\"bdev\"} ]}", "subsystems[0]", "config");
	refused("{\"subsystems\": [ {\"subsystem\":\"bdev\",\"config\":[],\"x\":1} ]}",
		"unknown field 'x'", NULL);
	refused(SUBS(SEC("bdev", "{\"method\":\"bdev_malloc_create\",\"param\":{}}")),
		"unknown field 'param'", "config[0]");
	refused(SUBS(SEC("bdev", "{\"params\":{}}")), "no \"method\"", NULL);
	refused(SUBS(SEC("bdev", M("bdev_malloc_create", "[]"))), "must be an object", NULL);
	refused("{\"subsystems\": [], \"subsystems\": []}", "duplicate", NULL);
	refused("{\"subsystems\": [ }", "test:1:", NULL);
}

static void test_method_errors(void)
{
	/* Every unsupported method is named, with its place. */
	refused(SUBS(SEC("bdev", MALLOC0 "," M("bdev_split_create", "{}") ","
			 M("construct_malloc_bdev", "{}") "," M("bdev_frobnicate", "{}"))),
		"subsystems[0] (bdev) config[1] bdev_split_create", "config[2] construct_malloc_bdev");
	refused(SUBS(SEC("bdev", M("bdev_frobnicate", "{}"))), "bdev_frobnicate", "unknown");
	refused(SUBS(SEC("nvmf", M("nvmf_discovery_add_referral", "{}"))),
		"nvmf_discovery_add_referral", NULL);
	refused(SUBS(SEC("bdev", M("bdev_nvme_attach_controller", "{}"))),
		"bdev_nvme_attach_controller", NULL);
	refused(SUBS(SEC("nvmf", M("nvmf_create_transport", "{\"trtype\":\"TCP\"}"))),
		"nvmf_create_transport", "'TCP'");
	refused(SUBS(SEC("nvmf", M("nvmf_create_transport", "{\"trtype\":\"RDMA\"}") ","
			 M("nvmf_create_transport", "{\"trtype\":\"RDMA\"}"))),
		"config[1] nvmf_create_transport", "already exists");
	refused(SUBS(SEC("nvmf", M("nvmf_create_transport", "{\"trtype\":\"RDMA\","
				   "\"dif_insert_or_strip\":true}"))), "dif_insert_or_strip", NULL);
	refused(SUBS(SEC("nvmf", M("nvmf_create_transport", "{\"trtype\":\"RDMA\","
				   "\"tgt_name\":\"other\"}"))), "tgt_name", NULL);
	refused(SUBS(SEC("bdev", M("bdev_malloc_create", "{\"num_blocks\":8,\"block_size\":512,"
				   "\"md_size\":8}"))), "md_size", NULL);
	refused(SUBS(SEC("nvmf", SUBSYS1 "," M("nvmf_subsystem_add_host", "{\"nqn\":\"" NQN1 "\","
				   "\"host\":\"nqn.h\",\"dhchap_key\":\"k\"}"))), "dhchap_key", NULL);
	refused(SUBS(SEC("nvmf", SUBSYS1 "," LISTEN("{\"trtype\":\"RDMA\",\"traddr\":\"1.2.3.4\","
				   "\"trsvcid\":\"4420\"},\"secure_channel\":true"))),
		"secure_channel", NULL);
	refused(SUBS(SEC("nvmf", M("nvmf_create_subsystem", "{\"nqn\":\"" NQN1 "\","
				   "\"passthrough\":true}"))), "passthrough", NULL);
}

static void test_value_errors(void)
{
	refused(SUBS(SEC("bdev", M("bdev_malloc_create", "{\"num_blocks\":\"8\",\"block_size\":512}"))),
		"field 'num_blocks'", "integer");
	refused(SUBS(SEC("bdev", M("bdev_malloc_create", "{\"num_blocks\":8,\"block_size\":1000}"))),
		"field 'block_size'", NULL);
	refused(SUBS(SEC("bdev", M("bdev_malloc_create", "{\"num_blocks\":8.0,\"block_size\":512}"))),
		"field 'num_blocks'", NULL);
	refused(SUBS(SEC("bdev", M("bdev_malloc_create", "{\"num_blocks\":-8,\"block_size\":512}"))),
		"field 'num_blocks'", "out of range");
	refused(SUBS(SEC("bdev", M("bdev_malloc_create", "{\"num_blocks\":8,\"block_size\":512,"
				   "\"colour\":1}"))), "unknown field 'colour'", NULL);
	refused(SUBS(SEC("bdev", MALLOC0 "," MALLOC0)), "already exists", NULL);
	refused(SUBS(SEC("bdev", M("bdev_aio_create", "{\"name\":\"a\"}"))), "field 'filename'", NULL);
	refused(SUBS(SEC("nvmf", M("nvmf_create_transport", "{\"trtype\":\"RDMA\","
				   "\"max_queue_depth\":70000}"))), "max_queue_depth", "out of range");
	refused(SUBS(SEC("nvmf", M("nvmf_create_transport", "{\"trtype\":\"RDMA\","
				   "\"max_io_size\":5000}"))), "max_io_size", NULL);
	refused(SUBS(SEC("nvmf", M("nvmf_create_transport", "{\"trtype\":\"RDMA\","
				   "\"no_srq\":1}"))), "no_srq", NULL);
	refused(SUBS(SEC("nvmf", M("nvmf_create_subsystem", "{\"nqn\":\"" NQN1 "\","
				   "\"serial_number\":\"012345678901234567890\"}"))), "serial_number", NULL);
	refused(SUBS(SEC("nvmf", M("nvmf_create_subsystem", "{\"nqn\":\"" NQN1 "\","
				   "\"min_cntlid\":9,\"max_cntlid\":5}"))), "min_cntlid", NULL);
	refused(SUBS(SEC("nvmf", SUBSYS1 "," SUBSYS1)), "already exists", NULL);
	refused(SUBS(SEC("nvmf", M("nvmf_create_subsystem", "{\"nqn\":\"" NQN1 "\",\"ana\":1}"))),
		"unknown field 'ana'", NULL);
	refused(SUBS(SEC("nvmf", M("nvmf_create_subsystem",
				   "{\"nqn\":\"nqn.2014-08.org.nvmexpress.discovery\"}"))), "already exists", NULL);
	/* Order: the subsystem and the bdev must exist first. */
	refused(SUBS(SEC("nvmf", M("nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\","
				   "\"namespace\":{\"bdev_name\":\"m0\"}}"))), "field 'nqn'", "no subsystem");
	refused(SUBS(SEC("nvmf", SUBSYS1 "," M("nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\","
				   "\"namespace\":{\"bdev_name\":\"m0\"}}"))), "field 'bdev_name'", NULL);
	refused(SUBS(SEC("bdev", MALLOC0) "," SEC("nvmf", SUBSYS1 ","
		M("nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\",\"namespace\":{\"bdev_name\":\"m0\",\"nsid\":33}}"))),
		"field 'nsid'", NULL);
	refused(SUBS(SEC("bdev", MALLOC0 "," M("bdev_malloc_create", "{\"name\":\"m1\",\"num_blocks\":8,\"block_size\":512}"))
		"," SEC("nvmf", SUBSYS1 ","
		M("nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\",\"namespace\":{\"bdev_name\":\"m0\",\"nsid\":2}}") ","
		M("nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\",\"namespace\":{\"bdev_name\":\"m1\",\"nsid\":2}}"))),
		"field 'nsid'", "taken");
	refused(SUBS(SEC("bdev", MALLOC0) "," SEC("nvmf", SUBSYS1 ","
		M("nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\",\"namespace\":{\"bdev_name\":\"m0\"}}") ","
		M("nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\",\"namespace\":{\"bdev_name\":\"m0\"}}"))),
		"already a namespace", NULL);
	refused(SUBS(SEC("bdev", MALLOC0) "," SEC("nvmf", SUBSYS1 ","
		M("nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\",\"namespace\":{\"bdev_name\":\"m0\","
		  "\"nguid\":\"0011\"}}"))), "field 'nguid'", NULL);
	refused(SUBS(SEC("bdev", MALLOC0) "," SEC("nvmf", SUBSYS1 ","
		M("nvmf_subsystem_add_ns", "{\"nqn\":\"" NQN1 "\",\"namespace\":{\"bdev_name\":\"m0\","
		  "\"uuid\":\"not-a-uuid\"}}"))), "field 'uuid'", NULL);
	/* Listener values: trsvcid is a string, adrfam and trtype known. */
	refused(SUBS(SEC("nvmf", SUBSYS1 "," LISTEN("{\"trtype\":\"RDMA\",\"traddr\":\"1.2.3.4\",\"trsvcid\":4420}"))),
		"field 'trsvcid'", "string");
	refused(SUBS(SEC("nvmf", SUBSYS1 "," LISTEN("{\"trtype\":\"RDMA\",\"traddr\":\"1.2.3.4\",\"trsvcid\":\"http\"}"))),
		"field 'trsvcid'", NULL);
	refused(SUBS(SEC("nvmf", SUBSYS1 "," LISTEN("{\"trtype\":\"TCP\",\"traddr\":\"1.2.3.4\",\"trsvcid\":\"1\"}"))),
		"field 'trtype'", "TCP");
	refused(SUBS(SEC("nvmf", SUBSYS1 "," LISTEN("{\"trtype\":\"RDMA\",\"adrfam\":\"FC\",\"traddr\":\"1\",\"trsvcid\":\"1\"}"))),
		"field 'adrfam'", NULL);
	refused(SUBS(SEC("nvmf", SUBSYS1 "," LISTEN("{\"trtype\":\"RDMA\",\"traddr\":\"1\",\"trsvcid\":\"1\",\"x\":1}"))),
		"unknown field 'x'", NULL);
	refused(SUBS(SEC("nvmf", M("nvmf_set_max_subsystems", "{\"max_subsystems\":1}") ","
			 SUBSYS1 "," M("nvmf_create_subsystem", "{\"nqn\":\"nqn.2016-06.io.spdk:cnode2\"}"))),
		"max_subsystems", NULL);
}

static void test_implicit_transport_and_real_aio(void)
{
	char dir[] = "/var/tmp/config_ut.XXXXXX", path[64], json[1024];
	struct nvmf_tgt *tgt;
	struct stat st;
	struct bdev *b;

	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/disk", dir);
	snprintf(json, sizeof(json), SUBS(SEC("bdev", M("bdev_aio_create",
		"{\"name\":\"a\",\"filename\":\"%s\",\"block_size\":4096}")) "," SEC("nvmf", SUBSYS1 ","
		LISTEN("{\"trtype\":\"RDMA\",\"traddr\":\"10.0.0.1\",\"trsvcid\":\"4420\"}"))), path);
	setenv(NVMF_AIO_SIZE_ENV, "3", 1);
	tgt = nvmf_tgt_create();
	CU_ASSERT_EQUAL(nvmf_config_load_string(tgt, json, "test", 0), 0);
	CU_ASSERT(tgt->has_transport);		/* created with defaults */
	CU_ASSERT_EQUAL(tgt->topts.max_queue_depth, 128);
	CU_ASSERT_EQUAL(tgt->topts.max_io_size, 131072);
	CU_ASSERT_EQUAL(tgt->topts.in_capsule_data_size, 4096);
	CU_ASSERT_EQUAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_size, 3 << 20);
	CU_ASSERT(st.st_blocks * 512 < st.st_size);	/* sparse */
	b = bdev_find(tgt, "a");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	CU_ASSERT_EQUAL(b->num_blocks, (3 << 20) / 4096);
	/* No RDMA transport in this binary: starting must say so. */
	quiet(true);
	CU_ASSERT_EQUAL(nvmf_tgt_start(tgt), -ENOENT);
	quiet(false);
	nvmf_tgt_destroy(tgt);
	unsetenv(NVMF_AIO_SIZE_ENV);
	unlink(path);
	rmdir(dir);
}

/* ---- The real SPDK files (POLICY.md §6) ---- */

struct spdk_case {
	const char *file;
	bool loads;
	const char *must_name;		/* in the errors, when refused */
};

static const struct spdk_case spdk_cases[] = {
	{ "soothill-blog--nvmf_target.json", true, NULL },
	{ "spdk-alias_rpc--conf.json", true, NULL },
	{ "spdk-json_config--extra_key.json", true, NULL },
	{ "spdk-cfgconv-2021--spdk_config.json", false, "bdev_split_create" },
	{ "spdk-cfgconv-v19.07--spdk_config.json", false, "set_bdev_options" },
	{ "spdk-fuzz--fuzz_json.conf.json", false, "'TCP'" },
	{ "spdk-fuzz-2021--fuzz_json.conf.json", false, "'TCP'" },
	{ "spdk-docker--storage-target.conf.json", false, "'TCP'" },
	{ "spdk-docker--proxy-container.conf.json", false, "bdev_nvme_attach_controller" },
	{ "spdk-fuzz-vfio--fuzz_vfio_json.conf.json", false, "VFIOUSER" },
	{ "spdk-bdevtest--nonenclosed.json", false, "not enclosed" },
	{ "spdk-bdevtest--nonarray.json", false, "not an array" },
};

static struct nvmf_tgt *load_spdk(const char *file, int *rc)
{
	char path[256];
	struct nvmf_tgt *tgt = nvmf_tgt_create();

	snprintf(path, sizeof(path), "%s/%s", SPDK_DIR, file);
	quiet(true);
	*rc = nvmf_config_load_file(tgt, path, NVMF_CONFIG_DRY_RUN);
	quiet(false);
	return tgt;
}

static void test_spdk_files(void)
{
	if (access(SPDK_DIR, R_OK)) {
		printf("\n  skipped: %s is absent (the shared SPDK configs)\n", SPDK_DIR);
		return;
	}
	for (size_t i = 0; i < sizeof(spdk_cases) / sizeof(spdk_cases[0]); i++) {
		const struct spdk_case *c = &spdk_cases[i];
		int rc;
		struct nvmf_tgt *tgt = load_spdk(c->file, &rc);

		if ((rc == 0) != c->loads ||
		    (c->must_name && !strstr(nvmf_config_errors(), c->must_name))) {
			fprintf(stderr, "\n  %s: rc %d, errors:\n%s", c->file, rc,
				nvmf_config_errors());
			CU_FAIL("SPDK file outcome differs from POLICY.md section 6");
		}
		nvmf_tgt_destroy(tgt);
	}
}

static void test_spdk_file_contents(void)
{
	struct nvmf_subsystem *s;
	struct nvmf_tgt *tgt;
	int rc;

	if (access(SPDK_DIR, R_OK)) {
		printf("\n  skipped: %s is absent\n", SPDK_DIR);
		return;
	}
	tgt = load_spdk("soothill-blog--nvmf_target.json", &rc);
	CU_ASSERT_EQUAL_FATAL(rc, 0);
	CU_ASSERT_EQUAL(tgt->topts.max_io_qpairs_per_ctrlr, 63);	/* max_qpairs 64 */
	CU_ASSERT_EQUAL(tgt->topts.max_queue_depth, 128);
	s = nvmf_subsystem_find(tgt, "nqn.2024-10.io.spdk:cnode1");
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(s->max_ns, 32);
	CU_ASSERT_STRING_EQUAL(s->sn, "SPDK00000000000001");
	CU_ASSERT_EQUAL(s->nhosts, 1);
	CU_ASSERT_FALSE(s->allow_any_host);
	CU_ASSERT_PTR_NOT_NULL(nvmf_subsystem_get_ns(s, 1));
	CU_ASSERT_EQUAL(nvmf_subsystem_get_ns(s, 1)->bdev->num_blocks, 131072);
	CU_ASSERT_EQUAL(s->nlisteners, 1);
	CU_ASSERT_STRING_EQUAL(s->listeners[0].traddr, "192.168.1.100");
	nvmf_tgt_destroy(tgt);

	tgt = load_spdk("spdk-alias_rpc--conf.json", &rc);
	CU_ASSERT_EQUAL(rc, 0);
	CU_ASSERT_PTR_NOT_NULL(bdev_find(tgt, "Malloc0"));
	CU_ASSERT_PTR_NOT_NULL(bdev_find(tgt, "Malloc1"));
	CU_ASSERT_FALSE(tgt->has_transport);
	nvmf_tgt_destroy(tgt);

	tgt = load_spdk("spdk-cfgconv-2021--spdk_config.json", &rc);
	CU_ASSERT_EQUAL(rc, -EINVAL);
	CU_ASSERT_PTR_NOT_NULL(strstr(nvmf_config_errors(), "bdev_pmem_create"));
	CU_ASSERT_PTR_NULL(strstr(nvmf_config_errors(), "vhost"));	/* skipped */
	nvmf_tgt_destroy(tgt);
}

static void test_repo_conf(void)
{
	struct nvmf_subsystem *s;
	struct nvmf_tgt *tgt;

	if (access("conf/target.json", R_OK)) {
		printf("\n  skipped: run from the repository root\n");
		return;
	}
	tgt = nvmf_tgt_create();
	CU_ASSERT_EQUAL_FATAL(nvmf_config_load_file(tgt, "conf/target.json",
						    NVMF_CONFIG_DRY_RUN), 0);
	s = nvmf_subsystem_find(tgt, NQN1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT(s->allow_any_host);
	CU_ASSERT_PTR_NOT_NULL(nvmf_subsystem_get_ns(s, 1));
	CU_ASSERT_EQUAL(s->nlisteners, 1);
	CU_ASSERT_STRING_EQUAL(s->listeners[0].traddr, "10.0.0.1");
	CU_ASSERT_STRING_EQUAL(s->listeners[0].trsvcid, "4420");
	CU_ASSERT(tgt->has_transport);
	nvmf_tgt_destroy(tgt);
}

int main(void)
{
	static const struct ut_test tests[] = {
		{ "a good config with every convention", test_good_config },
		{ "comments outside strings", test_strip_comments },
		{ "file structure errors", test_structure_errors },
		{ "refused methods are named", test_method_errors },
		{ "bad values name the field", test_value_errors },
		{ "implicit transport, aio file created", test_implicit_transport_and_real_aio },
		{ "SPDK files: POLICY.md section 6 outcomes", test_spdk_files },
		{ "SPDK files: what they configure", test_spdk_file_contents },
		{ "conf/target.json", test_repo_conf },
	};
	unsigned int failures;

	log_set_level(getenv("UT_DEBUG") ? LOGL_DEBUG : LOGL_ERROR);
	failures = ut_run("config", NULL, NULL, tests, UT_COUNT(tests));
	return failures ? 1 : 0;
}
