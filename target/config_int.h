/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the config file walker (config.c) and its methods (config_apply.c). */
#ifndef TARGET_CONFIG_INT_H
#define TARGET_CONFIG_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "memmap/log.h"

struct nvmf_tgt;

struct cfg_ctx {
	struct nvmf_tgt *tgt;
	bool dry;
	/* Where we are, for messages. */
	int si, ci;
	const char *section;
	const char *method;
	int nerr;
};

/* Record an error at the current place: "subsystems[i] (sec) config[j] m: ..." */
void cfg_error(struct cfg_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cfg_info(struct cfg_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Unknown keys: strict -> error; relaxed -> one info line each. */
int cfg_check_keys(struct cfg_ctx *c, json_t *obj, const char *what,
		   const char *const *keys, bool strict);

/* Field getters: 0 (absent and optional: *out untouched), or -EINVAL logged. */
int cfg_u64(struct cfg_ctx *c, json_t *obj, const char *key, bool required,
	    uint64_t min, uint64_t max, uint64_t *out);
int cfg_bool(struct cfg_ctx *c, json_t *obj, const char *key, bool *out);
int cfg_str(struct cfg_ctx *c, json_t *obj, const char *key, bool required,
	    size_t maxlen, const char **out);
/* Hex string of exactly 2*n digits into n bytes. */
int cfg_hex(struct cfg_ctx *c, json_t *obj, const char *key, uint8_t *out,
	    size_t n, bool *present);
int cfg_uuid(struct cfg_ctx *c, json_t *obj, const char *key, uint8_t out[16],
	     bool *present);

/* Methods (config_apply.c). */
typedef int (*cfg_apply_fn)(struct cfg_ctx *c, json_t *params);

enum cfg_class {
	CFG_APPLY,	/* A */
	CFG_ACCEPT,	/* B: one info line */
	CFG_REFUSE,	/* C */
};

struct cfg_method {
	const char *name;
	enum cfg_class cls;
	bool option;		/* runs before every create */
	cfg_apply_fn apply;
	const char *why;	/* B: what is ignored; C: why refused */
};

/* The policy for name, or NULL if the method is unknown. */
const struct cfg_method *cfg_method_find(const char *name);

#endif
