/* SPDX-License-Identifier: BSD-3-Clause */
/* nvmf_tgt: command line, environment start-up, and the exit codes. */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "memmap/env.h"
#include "memmap/log.h"
#include "target/config.h"
#include "target/core.h"
#include "target/rpc.h"
#include "target/thread.h"

/* Linked in when transport/ is built; NULL otherwise (see nvmf.h). */
#pragma weak nvmf_rdma_ops

#define DRAIN_TIMEOUT_US	(10 * 1000 * 1000)

/* Exit codes a script can rely on. */
enum {
	EXIT_OK = 0,
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_ENV = 3,		/* memory environment could not start */
	EXIT_CONFIG = 4,	/* configuration refused (nothing started) */
	EXIT_TRANSPORT = 5,	/* no such transport, or it could not listen */
	EXIT_RUNTIME = 6,	/* failure while serving or shutting down */
	EXIT_RPC = 7,		/* the RPC socket is held by a live process */
};

struct args {
	const char *cpus_opt;	/* "-m MASK" or "--cpus LIST", for messages */
	cpu_set_t cpus;
	char mask[CPU_SETSIZE / 4 + 3];
	const char *config;
	const char *rpc_sock;
	bool wait_for_rpc;
	struct env_opts env;
};

static void usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s [options]\n"
		"  -c, --config FILE     JSON configuration (SPDK format; also --json);\n"
		"                        without it the target starts empty and waits\n"
		"                        for RPCs\n"
		"  -r, --rpc-socket PATH JSON-RPC socket (default %s)\n"
		"      --wait-for-rpc    hold initialization (transport, listeners)\n"
		"                        until the framework_start_init RPC\n"
		"  -m, --cpumask MASK    CPUs as a hex mask (0x3) or a list ([0,2-3]):\n"
		"                        one poll group pinned to each, host queues\n"
		"                        spread over them (default: one, unpinned)\n"
		"      --cpus LIST       the same as a list: 0,2-3\n"
		"  -s, --mem-size MB     memory in MiB (default: hugepages on demand,\n"
		"                        a cap of 512 with --no-huge)\n"
		"      --no-huge         anonymous memory instead of hugepages\n"
		"      --iova-mode MODE  va (default) or pa\n"
		"      --legacy-mem      reserve all memory at start\n"
		"      --file-prefix P   DPDK runtime files under this prefix\n"
		"                        (default: none, in-memory)\n"
		"  -L, --log-level LVL   error, warn, notice (default), info, debug;\n"
		"                        an SPDK log flag name is accepted (info line)\n"
		"  -i, --shm-id ID       accepted for SPDK's scripts (no shared memory)\n"
		"  -e, --tpoint-group-mask M  accepted for SPDK's scripts (no tracing)\n"
		"  -h, --help            this text\n"
		"      --version         print the version\n"
		"\n"
		"SIGINT/SIGTERM stop listening, drain in-flight I/O (up to 10 s; a\n"
		"second signal skips the wait), flush the namespaces and exit.\n"
		"A bdev_aio_create file that does not exist is created sparse, of\n"
		"$%s MiB (default %d).\n"
		"\n"
		"exit status: 0 clean shutdown, 2 usage, 3 memory environment,\n"
		"  4 configuration refused, 5 transport missing or cannot listen,\n"
		"  6 error while serving or flushing at shutdown,\n"
		"  7 the RPC socket is in use by another running process\n", prog,
		NVMF_RPC_DEFAULT_SOCK, NVMF_AIO_SIZE_ENV, NVMF_AIO_SIZE_DEFAULT_MB);
}

enum { OPT_NO_HUGE = 256, OPT_IOVA, OPT_LEGACY, OPT_PREFIX, OPT_VERSION, OPT_WAIT,
       OPT_CPUS };

static const struct option long_opts[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "json", required_argument, NULL, 'c' },
	{ "rpc-socket", required_argument, NULL, 'r' },
	{ "wait-for-rpc", no_argument, NULL, OPT_WAIT },
	{ "shm-id", required_argument, NULL, 'i' },
	{ "tpoint-group-mask", required_argument, NULL, 'e' },
	{ "logflag", required_argument, NULL, 'L' },
	{ "cpumask", required_argument, NULL, 'm' },
	{ "cpus", required_argument, NULL, OPT_CPUS },
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

/* Every CPU asked for exists, is online and is ours; then the mask for EAL. */
static int cpus_check(struct args *a)
{
	char online[4096] = "";
	cpu_set_t allowed;
	FILE *f = fopen("/sys/devices/system/cpu/online", "r");
	int bad = -1;

	if (f) {
		if (!fgets(online, sizeof(online), f))
			online[0] = '\0';
		fclose(f);
	}
	if (!online[0])
		snprintf(online, sizeof(online), "0-%ld", sysconf(_SC_NPROCESSORS_ONLN) - 1);
	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		CPU_ZERO(&allowed);
	if (nvmf_cpus_check(&a->cpus, online, CPU_COUNT(&allowed) ? &allowed : NULL,
			    &bad)) {
		online[strcspn(online, "\n")] = '\0';
		log_err("%s: CPU %d does not exist, is offline or is not allowed to this "
			"process (online: %s)", a->cpus_opt, bad, online);
		return -ENODEV;
	}
	nvmf_cpus_to_mask(&a->cpus, a->mask, sizeof(a->mask));
	a->env.core_mask = a->mask;
	return 0;
}

/* 0: go on; otherwise the exit code (EXIT_OK after --help/--version). */
static int parse_args(int argc, char **argv, struct args *a, int *exit_code)
{
	enum log_level level;
	int opt;

	env_opts_init(&a->env);
	a->env.name = "nvmf_tgt";
	a->rpc_sock = NVMF_RPC_DEFAULT_SOCK;
	while ((opt = getopt_long(argc, argv, "c:m:s:L:hr:i:e:", long_opts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			a->config = optarg;
			break;
		case 'r':
			a->rpc_sock = optarg;
			break;
		case OPT_WAIT:
			a->wait_for_rpc = true;
			break;
		case 'i':
			log_info("-i %s: accepted (nvmf_tgt keeps no shared memory)", optarg);
			break;
		case 'e':
			log_info("-e %s: accepted (nvmf_tgt has no tracepoints)", optarg);
			break;
		case 'm':
			if (nvmf_cpus_parse_mask(optarg, &a->cpus)) {
				log_err("-m: '%s' is neither a hex CPU mask (0x3) nor a "
					"list ([0,2-3])", optarg);
				goto usage;
			}
			a->cpus_opt = "-m";
			break;
		case OPT_CPUS:
			if (nvmf_cpus_parse_list(optarg, &a->cpus)) {
				log_err("--cpus: '%s' is not a CPU list (0,2-3)", optarg);
				goto usage;
			}
			a->cpus_opt = "--cpus";
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
				/* SPDK's -L names a debug log flag (nvmf, rdma, ...). */
				log_info("-L %s: not a log level; SPDK log flags have no "
					 "effect here", optarg);
				break;
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
	if (a->cpus_opt && cpus_check(a)) {
		*exit_code = EXIT_USAGE;
		return 1;
	}
	return 0;
usage:
	usage(stderr, argv[0]);
	*exit_code = EXIT_USAGE;
	return 1;
}

struct sig_state {
	struct nvmf_tgt *tgt;
	int fd;
	int count;
};

static int sig_poll(void *arg)
{
	struct sig_state *ss = arg;
	struct signalfd_siginfo si;
	int n = 0;

	while (read(ss->fd, &si, sizeof(si)) == sizeof(si)) {
		ss->count++;
		log_notice("%s: %s", strsignal((int)si.ssi_signo),
			   ss->count == 1 ? "shutting down" : "not waiting for I/O");
		nvmf_loop_stop(ss->tgt);
		n++;
	}
	return n;
}

/* Blocked from the start: a signal during start-up waits in the signalfd. */
static void sig_block(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	sigprocmask(SIG_BLOCK, set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

static int sig_setup(struct sig_state *ss)
{
	sigset_t set;

	sig_block(&set);
	ss->fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ss->fd < 0)
		return -errno;
	if (!nvmf_poller_add(ss->tgt, "signals", sig_poll, NULL, ss->fd, ss))
		return -ENOMEM;
	return 0;
}

/* Validate the whole file before anything starts (no files, no memory). */
static int config_check(const char *path)
{
	struct nvmf_tgt *tgt = nvmf_tgt_create();
	enum log_level level = log_get_level();
	int rc;

	if (!tgt)
		return -ENOMEM;
	if (level > LOGL_WARN)	/* the real load repeats the info lines */
		log_set_level(LOGL_WARN);
	rc = nvmf_config_load_file(tgt, path, NVMF_CONFIG_DRY_RUN);
	log_set_level(level);
	nvmf_tgt_destroy(tgt);
	return rc;
}

/* Backend I/O in flight on every thread (poll groups count their own). */
static uint64_t io_inflight(const struct nvmf_tgt *tgt)
{
	uint64_t n = tgt->io_inflight;

	for (int i = 1; i < NVMF_MAX_POLL_GROUPS; i++) {
		if (tgt->pgroups[i])
			n += nvmf_stat_get(&tgt->pgroups[i]->io_inflight);
	}
	return n;
}

static void drain(struct nvmf_tgt *tgt, struct sig_state *ss)
{
	uint64_t deadline = nvmf_now_us() + DRAIN_TIMEOUT_US;
	int seen = ss->count;

	nvmf_tgt_stop_listen(tgt);
	while (io_inflight(tgt) && ss->count == seen && nvmf_now_us() < deadline)
		nvmf_loop_once(tgt, 10);
	if (io_inflight(tgt))
		log_warn("shutdown: %llu I/Os still in flight",
			 (unsigned long long)io_inflight(tgt));
}

static int serve(struct nvmf_tgt *tgt, const struct args *a)
{
	struct sig_state ss = { .tgt = tgt, .fd = -1 };
	int rc, code = EXIT_OK;

	if (a->config && nvmf_config_load_file(tgt, a->config, 0))
		return EXIT_CONFIG;
	if (&nvmf_rdma_ops)
		nvmf_transport_register(&nvmf_rdma_ops);
	rc = sig_setup(&ss);
	if (rc) {
		log_err("signals: %s", strerror(-rc));
		code = EXIT_RUNTIME;
		goto out;
	}
	rc = nvmf_rpc_listen(tgt, a->rpc_sock);
	if (rc) {
		code = rc == -EADDRINUSE ? EXIT_RPC : EXIT_RUNTIME;
		goto out;
	}
	if (a->wait_for_rpc) {
		log_notice("nvmf_tgt %s: waiting for framework_start_init on %s",
			   NVMF_TGT_VERSION, a->rpc_sock);
	} else if (nvmf_tgt_start(tgt)) {
		code = EXIT_TRANSPORT;
		goto out;
	}
	log_notice("nvmf_tgt %s: serving %d subsystem(s)%s", NVMF_TGT_VERSION,
		   tgt->nsubsys - 1, a->config ? "" : ", configure it over RPC");
	if (nvmf_loop_run(tgt) || tgt->failed)
		code = EXIT_RUNTIME;
	drain(tgt, &ss);
	if (nvmf_tgt_flush_all(tgt))
		code = EXIT_RUNTIME;
out:
	nvmf_rpc_close(tgt);
	if (ss.fd >= 0)
		close(ss.fd);
	return code;
}

int main(int argc, char **argv)
{
	struct nvmf_tgt *tgt;
	struct args a = { 0 };
	sigset_t set;
	int code;

	sig_block(&set);
	if (parse_args(argc, argv, &a, &code))
		return code;
	if (a.config && config_check(a.config))
		return EXIT_CONFIG;
	if (env_init(&a.env))
		return EXIT_ENV;
	tgt = nvmf_tgt_create();
	if (!tgt) {
		log_err("out of memory");
		env_fini();
		return EXIT_RUNTIME;
	}
	if (a.cpus_opt) {
		for (int c = 0; c < CPU_SETSIZE && tgt->ngroup_cpus < NVMF_MAX_POLL_GROUPS; c++)
			if (CPU_ISSET(c, &a.cpus))
				tgt->group_cpus[tgt->ngroup_cpus++] = c;
		if (tgt->ngroup_cpus > 1)
			log_notice("%d poll groups, on CPUs %s (the first on the main thread)",
				   tgt->ngroup_cpus, a.mask);
	}
	code = serve(tgt, &a);
	nvmf_tgt_destroy(tgt);
	env_fini();
	if (code == EXIT_OK)
		log_notice("nvmf_tgt: clean shutdown");
	return code;
}
