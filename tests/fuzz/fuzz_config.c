/* SPDX-License-Identifier: BSD-3-Clause */
/* libFuzzer: the JSON config loader (validation only: no files or memory). */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_text(data, size);
	struct nvmf_tgt *tgt;

	if (!text)
		return 0;
	tgt = nvmf_tgt_create();
	if (tgt)
		nvmf_config_load_string(tgt, text, "fuzz", NVMF_CONFIG_DRY_RUN);
	nvmf_tgt_destroy(tgt);
	free(text);
	return 0;
}
