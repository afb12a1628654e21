/* SPDX-License-Identifier: BSD-3-Clause */
/* Leveled logging to stderr, shared by every module. */
#ifndef MEMMAP_LOG_H
#define MEMMAP_LOG_H

enum log_level {
	LOGL_OFF = -1,		/* nothing at all (fuzzers) */
	LOGL_ERROR,
	LOGL_WARN,
	LOGL_NOTICE,
	LOGL_INFO,
	LOGL_DEBUG,
};

/* Messages above this level are dropped. Default LOGL_NOTICE. */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* "error", "warn", "notice", "info", "debug": 0, or -EINVAL. */
int log_parse_level(const char *name, enum log_level *level);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_err(...)	log_msg(LOGL_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOGL_WARN, __VA_ARGS__)
#define log_notice(...)	log_msg(LOGL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOGL_DEBUG, __VA_ARGS__)

#endif
