/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The JSON-RPC 2.0 server on a Unix socket, as SPDK's rpc.py speaks it:
 * one request object after another on a stream (no delimiter), one
 * response object each. It is one more fd in the event loop; every method
 * is the config file's own (config_int.h: cfg_call).
 */
#ifndef TARGET_RPC_H
#define TARGET_RPC_H

#include <stdbool.h>
#include <stddef.h>

struct nvmf_tgt;

#define NVMF_TGT_VERSION	"0.2.0"
#define NVMF_TGT_VERSION_MAJOR	0
#define NVMF_TGT_VERSION_MINOR	2
#define NVMF_TGT_VERSION_PATCH	0

#define NVMF_RPC_DEFAULT_SOCK	"/var/tmp/spdk.sock"
#define NVMF_RPC_MAX_REQUEST	(1u << 20)	/* bytes of one request */
#define NVMF_RPC_MAX_CLIENTS	1024

/*
 * Listen on path (owner-only). 0; -EADDRINUSE if a live process holds it
 * (its lock file PATH.lock is locked); another -errno (logged).
 */
int nvmf_rpc_listen(struct nvmf_tgt *tgt, const char *path);
/* Close every client, remove the socket and its lock file. */
void nvmf_rpc_close(struct nvmf_tgt *tgt);

/*
 * Handle the bytes of one client's stream: answers are appended to out
 * (a growing buffer the caller frees). Returns the bytes consumed, or -1
 * when the connection must be closed (the answer -32700 is in out).
 * For tests: the socket does exactly this with what it reads.
 */
struct nvmf_rpc_buf {
	char *data;
	size_t len, cap;
};
long nvmf_rpc_process(struct nvmf_tgt *tgt, const char *in, size_t len, bool eof,
		      struct nvmf_rpc_buf *out);

/* Send signal sig to ourselves once the current answer is written. */
void nvmf_rpc_after_answer(struct nvmf_tgt *tgt, int sig);

#endif
