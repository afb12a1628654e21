/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared by the config file walker (config.c) and its methods (config_apply.c). */
#ifndef TARGET_CONFIG_INT_H
#define TARGET_CONFIG_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "memmap/log.h"
#include "target/nvmf.h"

struct nvmf_tgt;

/* JSON-RPC 2.0 error codes, as SPDK answers them. */
#define RPC_PARSE_ERROR		-32700
#define RPC_INVALID_REQUEST	-32600
#define RPC_METHOD_NOT_FOUND	-32601
#define RPC_INVALID_PARAMS	-32602
#define RPC_INTERNAL_ERROR	-32603
#define RPC_INVALID_STATE	-1

#define CFG_MSG_MAX		512

struct cfg_ctx {
	struct nvmf_tgt *tgt;
	bool dry;
	bool rpc;		/* a socket request: the first error answers it */
	/* Where we are, for messages. */
	int si, ci;
	const char *section;
	const char *method;
	int nerr;
	/* The answer of an RPC. */
	json_t *result;		/* NULL: true */
	int code;		/* JSON-RPC error code of the first error */
	char msg[CFG_MSG_MAX];
};

/*
 * Record an error at the current place: in a file "subsystems[i] (sec)
 * config[j] m: ...", over the socket the answer's message. cfg_error
 * answers RPC_INVALID_PARAMS, cfg_error_code the code given (SPDK answers
 * -errno for some: -EEXIST, -ENODEV).
 */
void cfg_error(struct cfg_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void cfg_error_code(struct cfg_ctx *c, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
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

/*
 * One method call as the RPC socket makes it (c->tgt set, the rest zero):
 * 0 with c->result (NULL: true; the caller owns it), or -1 with c->code
 * and c->msg. The same method functions as a config file's.
 */
int cfg_call(struct cfg_ctx *c, const char *method, json_t *params);

/* A JSON object's member that must be a string; "" if absent. */
const char *cfg_json_str(json_t *obj, const char *key);

/* Methods (config_apply.c, config_nvmf.c, rpc_methods.c). */
typedef int (*cfg_apply_fn)(struct cfg_ctx *c, json_t *params);

enum cfg_class {
	CFG_APPLY,	/* A */
	CFG_ACCEPT,	/* B: one info line */
	CFG_REFUSE,	/* C */
};

/* When a method may be called over the socket (SPDK's STARTUP/RUNTIME). */
enum {
	CFG_STARTUP = 1,	/* before framework_start_init */
	CFG_RUNTIME = 2,	/* after it */
	CFG_ANYTIME = 3,
};

struct cfg_method {
	const char *name;
	enum cfg_class cls;
	bool option;		/* runs before every create */
	cfg_apply_fn apply;
	const char *why;	/* B: what is ignored; C: why refused */
	unsigned int states;	/* CFG_STARTUP | CFG_RUNTIME */
};

/* The policy for name, or NULL if the method is unknown. */
const struct cfg_method *cfg_method_find(const char *name);
/* Every method the socket serves, for rpc_get_methods: NULL-terminated walk. */
const struct cfg_method *cfg_method_at(size_t i);

/* bdev methods: config_apply.c; nvmf methods: config_nvmf.c. */
int cfg_bdev_malloc_create(struct cfg_ctx *c, json_t *p);
int cfg_bdev_aio_create(struct cfg_ctx *c, json_t *p);
int cfg_bdev_null_create(struct cfg_ctx *c, json_t *p);
int cfg_bdev_delay_create(struct cfg_ctx *c, json_t *p);
int cfg_bdev_delay_update_latency(struct cfg_ctx *c, json_t *p);
int cfg_bdev_delete(struct cfg_ctx *c, json_t *p);
int cfg_create_transport(struct cfg_ctx *c, json_t *p);
int cfg_create_subsystem(struct cfg_ctx *c, json_t *p);
int cfg_delete_subsystem(struct cfg_ctx *c, json_t *p);
int cfg_add_ns(struct cfg_ctx *c, json_t *p);
int cfg_remove_ns(struct cfg_ctx *c, json_t *p);
int cfg_add_host(struct cfg_ctx *c, json_t *p);
int cfg_remove_host(struct cfg_ctx *c, json_t *p);
int cfg_allow_any_host(struct cfg_ctx *c, json_t *p);
int cfg_add_listener(struct cfg_ctx *c, json_t *p);
int cfg_remove_listener(struct cfg_ctx *c, json_t *p);
int cfg_max_subsystems(struct cfg_ctx *c, json_t *p);
int cfg_ns_add_host(struct cfg_ctx *c, json_t *p);
int cfg_ns_remove_host(struct cfg_ctx *c, json_t *p);
int cfg_add_referral(struct cfg_ctx *c, json_t *p);
int cfg_remove_referral(struct cfg_ctx *c, json_t *p);
int cfg_listen_addr(struct cfg_ctx *c, json_t *la, struct nvmf_listen_addr *a);
struct nvmf_subsystem *cfg_subsys(struct cfg_ctx *c, json_t *p, bool allow_discovery);

/* Queries and framework methods (rpc_methods.c). */
int rpc_get_version(struct cfg_ctx *c, json_t *p);
int rpc_get_methods(struct cfg_ctx *c, json_t *p);
int rpc_start_init(struct cfg_ctx *c, json_t *p);
int rpc_wait_init(struct cfg_ctx *c, json_t *p);
int rpc_get_subsystems(struct cfg_ctx *c, json_t *p);
int rpc_get_config(struct cfg_ctx *c, json_t *p);
int rpc_kill_instance(struct cfg_ctx *c, json_t *p);
int rpc_log_set_level(struct cfg_ctx *c, json_t *p);
int rpc_log_get_level(struct cfg_ctx *c, json_t *p);
int rpc_log_set_flag(struct cfg_ctx *c, json_t *p);
int rpc_log_get_flags(struct cfg_ctx *c, json_t *p);
int rpc_bdev_get_bdevs(struct cfg_ctx *c, json_t *p);
int rpc_nvmf_get_transports(struct cfg_ctx *c, json_t *p);
int rpc_nvmf_get_subsystems(struct cfg_ctx *c, json_t *p);
int rpc_nvmf_get_controllers(struct cfg_ctx *c, json_t *p);
int rpc_nvmf_get_qpairs(struct cfg_ctx *c, json_t *p);
int rpc_nvmf_get_listeners(struct cfg_ctx *c, json_t *p);
int rpc_nvmf_get_stats(struct cfg_ctx *c, json_t *p);
int rpc_nvmf_get_referrals(struct cfg_ctx *c, json_t *p);
int rpc_nvmf_get_targets(struct cfg_ctx *c, json_t *p);

#endif
