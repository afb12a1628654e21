/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer: the RPC socket's byte stream (framing, then every method),
 * on a target that validates only. The first byte picks the target's
 * state (before/after framework_start_init) and whether the stream ended.
 */
#include "target/rpc.h"
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvmf_rpc_buf out = { 0 };
	struct nvmf_tgt *tgt;
	long n;

	if (!size)
		return 0;
	tgt = nvmf_tgt_create();
	if (!tgt)
		return 0;
	tgt->dry_run = true;
	tgt->state = data[0] & 1 ? NVMF_TGT_RUNNING : NVMF_TGT_STARTUP;
	n = nvmf_rpc_process(tgt, (const char *)data + 1, size - 1, data[0] & 2, &out);
	if (n > (long)size - 1)
		abort();	/* consumed more than it was given */
	free(out.data);
	nvmf_tgt_destroy(tgt);
	return 0;
}
