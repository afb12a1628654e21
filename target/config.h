/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * SPDK JSON configuration files, loaded unchanged (the subset and policy
 * of ../shared/spdk-configs/POLICY.md): every method is applied, accepted
 * with one info line, or refused by name. On any error nothing is left
 * half-configured for the caller to start: the caller destroys the target.
 */
#ifndef TARGET_CONFIG_H
#define TARGET_CONFIG_H

#include <stddef.h>

struct nvmf_tgt;

enum {
	/* Validate only: bdevs get their geometry but no file or memory. */
	NVMF_CONFIG_DRY_RUN = 1u << 0,
};

/* Size of a bdev_aio_create file created because it was absent. */
#define NVMF_AIO_SIZE_ENV	"NVMF_TGT_AIO_SIZE_MB"
#define NVMF_AIO_SIZE_DEFAULT_MB 1024

/* 0, or -EINVAL (bad config, logged) or another -errno. */
int nvmf_config_load_file(struct nvmf_tgt *tgt, const char *path, unsigned flags);
int nvmf_config_load_string(struct nvmf_tgt *tgt, const char *text,
			    const char *origin, unsigned flags);

/* The errors of the last load, one per line ("" if none). */
const char *nvmf_config_errors(void);

/*
 * Copy of text with // and block comments outside strings turned into
 * spaces (newlines kept, so positions stay right). NULL on no memory.
 */
char *nvmf_config_strip_comments(const char *text);

#endif
