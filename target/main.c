/* SPDX-License-Identifier: BSD-3-Clause */
/* nvmf_tgt: command line, environment start-up, and the exit codes. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memmap/env.h"
#include "memmap/log.h"

#define NVMF_TGT_VERSION "0.1.0"

/* Exit codes a script can rely on. */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_ENV = 3,		/* memory environment could not start */
};

struct args {
	const char *config;
	struct env_opts env;
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [options]\n"
		"  -c, --config FILE     JSON configuration (SPDK format)\n"
		"  -m, --cpumask MASK    core mask in hex (default: any CPU, unpinned)\n"
		"  -s, --mem-size MB     memory in MiB (default: hugepages on demand,\n"
		"                        a cap of 512 with --no-huge)\n"
		"      --no-huge         anonymous memory instead of hugepages\n"
		"      --iova-mode MODE  va (default) or pa\n"
		"      --legacy-mem      reserve all memory at start\n"
		"      --file-prefix P   DPDK runtime files under this prefix\n"
		"                        (default: none, in-memory)\n"
		"  -L, --log-level LVL   error, warn, notice (default), info, debug\n"
		"  -h, --help            this text\n"
		"      --version         print the version\n", prog);
}

enum { OPT_NO_HUGE = 256, OPT_IOVA, OPT_LEGACY, OPT_PREFIX, OPT_VERSION };

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "cpumask", required_argument, NULL, 'm' },
	{ "mem-size", required_argument, NULL, 's' },
	{ "no-huge", no_argument, NULL, OPT_NO_HUGE },
	{ "iova-mode", required_argument, NULL, OPT_IOVA },
	{ "legacy-mem", no_argument, NULL, OPT_LEGACY },
	{ "file-prefix", required_argument, NULL, OPT_PREFIX },
	{ "log-level", required_argument, NULL, 'L' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, OPT_VERSION },
	{ NULL, 0, NULL, 0 },
};

static int parse_mb(const char *s, unsigned int *mb)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v == 0 || v > 1024UL * 1024)
		return -EINVAL;
	*mb = (unsigned int)v;
	return 0;
}

/* 0: go on; otherwise the exit code (EXIT_OK after --help/--version). */
static int parse_args(int argc, char **argv, struct args *a, int *exit_code)
{
	enum log_level level;
	int opt;

	env_opts_init(&a->env);
	a->env.name = "nvmf_tgt";
	while ((opt = getopt_long(argc, argv, "c:m:s:L:h", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a->config = optarg;
			break;
		case 'm':
			a->env.core_mask = optarg;
			break;
		case 's':
			if (parse_mb(optarg, &a->env.mem_mb)) {
				log_err("-s: '%s' is not a size in MiB", optarg);
				goto usage;
			}
			break;
		case OPT_NO_HUGE:
			a->env.no_huge = true;
			break;
		case OPT_IOVA:
			if (env_parse_iova(optarg, &a->env.iova)) {
				log_err("--iova-mode: '%s' is neither va nor pa", optarg);
				goto usage;
			}
			break;
		case OPT_LEGACY:
			a->env.legacy_mem = true;
			break;
		case OPT_PREFIX:
			a->env.file_prefix = optarg;
			break;
		case 'L':
			if (log_parse_level(optarg, &level)) {
				log_err("-L: unknown log level '%s'", optarg);
				goto usage;
			}
			log_set_level(level);
			a->env.quiet_eal = level < LOGL_INFO;
			break;
		case 'h':
			usage(stdout, argv[0]);
			*exit_code = EXIT_OK;
			return 1;
		case OPT_VERSION:
			printf("nvmf_tgt %s\n", NVMF_TGT_VERSION);
			*exit_code = EXIT_OK;
			return 1;
		default:
			goto usage;
		}
	}
	if (optind < argc) {
		log_err("unexpected argument '%s'", argv[optind]);
		goto usage;
	}
	return 0;
usage:
	usage(stderr, argv[0]);
	*exit_code = EXIT_USAGE;
	return 1;
}

int main(int argc, char **argv)
{
	struct args a = { 0 };
	int code;

	if (parse_args(argc, argv, &a, &code))
		return code;
	if (env_init(&a.env))
		return EXIT_ENV;
	log_notice("nvmf_tgt %s: environment ready", NVMF_TGT_VERSION);
	env_fini();
	return EXIT_OK;
}
