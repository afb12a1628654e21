/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The SPDK JSON config file: its structure (root, subsystem sections,
 * config entries and batches), comments, the two passes (option methods,
 * then creates in file order), and the typed field getters the methods
 * use. The methods themselves are in config_apply.c.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uuid/uuid.h>

#include "target/config.h"
#include "target/config_int.h"
#include "target/core.h"

#define CFG_ERRBUF	8192
#define CFG_FILE_MAX	(16u << 20)

static char g_errors[CFG_ERRBUF];

/* Sections nvmf_tgt links (POLICY.md §1): their methods must be known. */
static const char *const linked_sections[] = {
	"scheduler", "vmd", "sock", "iobuf", "keyring", "accel", "bdev", "nvmf",
	"nbd", NULL,
};

const char *nvmf_config_errors(void)
{
	return g_errors;
}

static void errbuf_add(const char *line)
{
	size_t len = strlen(g_errors);

	snprintf(g_errors + len, sizeof(g_errors) - len, "%s\n", line);
}

static int cfg_where(struct cfg_ctx *c, char *buf, size_t n)
{
	if (c->method)
		return snprintf(buf, n, "config: subsystems[%d] (%s) config[%d] %s: ",
				c->si, c->section ? c->section : "?", c->ci, c->method);
	return snprintf(buf, n, "config: ");
}

/* The message with its place in the file in front. */
static void cfg_vformat(struct cfg_ctx *c, char *line, size_t n, const char *fmt,
			va_list ap)
{
	int off = cfg_where(c, line, n);

	vsnprintf(line + off, n - (size_t)off, fmt, ap);
}

static void cfg_verror(struct cfg_ctx *c, int code, const char *fmt, va_list ap)
{
	char line[1024];

	if (c->rpc) {
		vsnprintf(line, sizeof(line), fmt, ap);
		log_err("rpc: %s: %s", c->method ? c->method : "?", line);
		if (!c->nerr) {
			c->code = code;
			memcpy(c->msg, line, sizeof(c->msg) - 1);
			c->msg[sizeof(c->msg) - 1] = '\0';
		}
	} else {
		cfg_vformat(c, line, sizeof(line), fmt, ap);
		log_err("%s", line);
		errbuf_add(line);
	}
	c->nerr++;
}

void cfg_error(struct cfg_ctx *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(c, RPC_INVALID_PARAMS, fmt, ap);
	va_end(ap);
}

void cfg_error_code(struct cfg_ctx *c, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cfg_verror(c, code, fmt, ap);
	va_end(ap);
}

void cfg_info(struct cfg_ctx *c, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	va_start(ap, fmt);
	if (c->rpc) {
		vsnprintf(line, sizeof(line), fmt, ap);
		log_info("rpc: %s: %s", c->method ? c->method : "?", line);
	} else {
		cfg_vformat(c, line, sizeof(line), fmt, ap);
		log_info("%s", line);
	}
	va_end(ap);
}

const char *cfg_json_str(json_t *obj, const char *key)
{
	const char *v = json_string_value(json_object_get(obj, key));

	return v ? v : "";
}

/* ---- One call over the socket: the same methods as a file ---- */

static int call_refuse(struct cfg_ctx *c, int code, const char *msg)
{
	c->code = code;
	memcpy(c->msg, msg, strnlen(msg, sizeof(c->msg) - 1));
	log_info("rpc: %s: %s", c->method, msg);
	return -1;
}

static const char *state_error(const struct nvmf_tgt *tgt)
{
	if (tgt->state == NVMF_TGT_STARTUP)
		return "Method may only be called after framework is initialized "
		       "using framework_start_init RPC.";
	return "Method may only be called before framework is initialized. Use "
	       "--wait-for-rpc command line parameter and then issue this method "
	       "before calling framework_start_init RPC.";
}

int cfg_call(struct cfg_ctx *c, const char *method, json_t *params)
{
	const struct cfg_method *m = cfg_method_find(method);
	unsigned int state = c->tgt->state == NVMF_TGT_STARTUP ? CFG_STARTUP : CFG_RUNTIME;
	json_t *empty = NULL;
	int rc;

	c->rpc = true;
	c->dry = c->tgt->dry_run;
	c->method = method;
	if (!m || m->cls == CFG_REFUSE) {
		char msg[CFG_MSG_MAX];

		snprintf(msg, sizeof(msg), "Method not found%s%s", m ? ": " : "",
			 m ? m->why : "");
		return call_refuse(c, RPC_METHOD_NOT_FOUND, msg);
	}
	if (!(m->states & state))
		return call_refuse(c, RPC_INVALID_STATE, state_error(c->tgt));
	if (params && !json_is_object(params))
		return call_refuse(c, RPC_INVALID_PARAMS, "Invalid parameters");
	if (m->cls == CFG_ACCEPT) {
		cfg_info(c, "accepted, ignored (%s)", m->why);
		return 0;
	}
	if (!params)
		params = empty = json_object();
	rc = params ? m->apply(c, params) : -ENOMEM;
	json_decref(empty);
	if (rc && !c->nerr)
		cfg_error_code(c, RPC_INTERNAL_ERROR, "%s", strerror(rc < 0 ? -rc : EIO));
	return c->nerr ? -1 : 0;
}

/* ---- Field getters ---- */

int cfg_check_keys(struct cfg_ctx *c, json_t *obj, const char *what,
		   const char *const *keys, bool strict)
{
	const char *key;
	json_t *v;
	int rc = 0;

	json_object_foreach(obj, key, v) {
		bool known = false;

		for (int i = 0; keys[i] && !known; i++)
			known = !strcmp(keys[i], key);
		if (known)
			continue;
		if (strict) {
			cfg_error(c, "%s: unknown field '%s'", what, key);
			rc = -EINVAL;
		} else {
			cfg_info(c, "%s: field '%s' ignored", what, key);
		}
	}
	return rc;
}

int cfg_u64(struct cfg_ctx *c, json_t *obj, const char *key, bool required,
	    uint64_t min, uint64_t max, uint64_t *out)
{
	json_t *v = json_object_get(obj, key);
	json_int_t i;

	if (!v) {
		if (!required)
			return 0;
		cfg_error(c, "field '%s' is required", key);
		return -EINVAL;
	}
	if (!json_is_integer(v)) {
		cfg_error(c, "field '%s' must be an integer", key);
		return -EINVAL;
	}
	i = json_integer_value(v);
	if (i < 0 || (uint64_t)i < min || (uint64_t)i > max) {
		cfg_error(c, "field '%s': %lld is out of range [%llu, %llu]", key,
			  (long long)i, (unsigned long long)min, (unsigned long long)max);
		return -EINVAL;
	}
	*out = (uint64_t)i;
	return 0;
}

int cfg_bool(struct cfg_ctx *c, json_t *obj, const char *key, bool *out)
{
	json_t *v = json_object_get(obj, key);

	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		cfg_error(c, "field '%s' must be true or false", key);
		return -EINVAL;
	}
	*out = json_is_true(v);
	return 0;
}

int cfg_str(struct cfg_ctx *c, json_t *obj, const char *key, bool required,
	    size_t maxlen, const char **out)
{
	json_t *v = json_object_get(obj, key);

	if (!v) {
		if (!required)
			return 0;
		cfg_error(c, "field '%s' is required", key);
		return -EINVAL;
	}
	if (!json_is_string(v)) {
		cfg_error(c, "field '%s' must be a string", key);
		return -EINVAL;
	}
	if (json_string_length(v) > maxlen || json_string_length(v) != strlen(json_string_value(v))) {
		cfg_error(c, "field '%s' is longer than %zu bytes or holds a NUL", key, maxlen);
		return -EINVAL;
	}
	*out = json_string_value(v);
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch = (char)tolower((unsigned char)ch);
	return ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

int cfg_hex(struct cfg_ctx *c, json_t *obj, const char *key, uint8_t *out,
	    size_t n, bool *present)
{
	const char *s = NULL;

	*present = false;
	if (cfg_str(c, obj, key, false, 2 * n, &s))
		return -EINVAL;
	if (!s)
		return 0;
	if (strlen(s) != 2 * n)
		goto bad;
	for (size_t i = 0; i < n; i++) {
		int hi = hexval(s[2 * i]), lo = hexval(s[2 * i + 1]);

		if (hi < 0 || lo < 0)
			goto bad;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	*present = true;
	return 0;
bad:
	cfg_error(c, "field '%s': '%s' is not %zu hex digits", key, s, 2 * n);
	return -EINVAL;
}

int cfg_uuid(struct cfg_ctx *c, json_t *obj, const char *key, uint8_t out[16],
	     bool *present)
{
	const char *s = NULL;

	*present = false;
	if (cfg_str(c, obj, key, false, 36, &s))
		return -EINVAL;
	if (!s)
		return 0;
	if (uuid_parse(s, out)) {
		cfg_error(c, "field '%s': '%s' is not a UUID", key, s);
		return -EINVAL;
	}
	*present = true;
	return 0;
}

/* ---- Comments ---- */

char *nvmf_config_strip_comments(const char *text)
{
	char *out = strdup(text);
	bool in_str = false;

	if (!out)
		return NULL;
	for (char *p = out; *p; p++) {
		if (in_str) {
			if (*p == '\\' && p[1])
				p++;
			else if (*p == '"')
				in_str = false;
		} else if (*p == '"') {
			in_str = true;
		} else if (p[0] == '/' && p[1] == '/') {
			while (*p && *p != '\n')
				*p++ = ' ';
			if (!*p)
				break;
		} else if (p[0] == '/' && p[1] == '*') {
			char *end = strstr(p + 2, "*/");
			char *stop = end ? end + 2 : p + strlen(p);

			for (; p < stop; p++)
				if (*p != '\n')
					*p = ' ';
			p--;
		}
	}
	return out;
}

/* ---- Walking the file ---- */

struct cfg_entry {
	json_t *params;
	const char *method;
	const char *section;
	int si, ci;
	const struct cfg_method *m;
};

struct cfg_list {
	struct cfg_entry *e;
	int n, cap;
};

static bool section_linked(const char *name)
{
	for (int i = 0; linked_sections[i]; i++) {
		if (!strcmp(linked_sections[i], name))
			return true;
	}
	return false;
}

static int list_add(struct cfg_list *l, const struct cfg_entry *e)
{
	if (l->n == l->cap) {
		int cap = l->cap ? 2 * l->cap : 32;
		struct cfg_entry *n = realloc(l->e, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		l->e = n;
		l->cap = cap;
	}
	l->e[l->n++] = *e;
	return 0;
}

static int entry_collect(struct cfg_ctx *c, json_t *entry, struct cfg_list *l)
{
	static const char *const keys[] = { "method", "params", NULL };
	struct cfg_entry e = { .section = c->section, .si = c->si, .ci = c->ci };
	json_t *m;

	if (!json_is_object(entry)) {
		cfg_error(c, "subsystems[%d] config[%d] is not an object", c->si, c->ci);
		return -EINVAL;
	}
	m = json_object_get(entry, "method");
	if (!json_is_string(m)) {
		cfg_error(c, "subsystems[%d] config[%d] has no \"method\" string",
			  c->si, c->ci);
		return -EINVAL;
	}
	e.method = json_string_value(m);
	e.params = json_object_get(entry, "params");
	c->method = e.method;
	if (cfg_check_keys(c, entry, "entry", keys, true))
		return -EINVAL;
	if (e.params && !json_is_object(e.params)) {
		cfg_error(c, "\"params\" must be an object");
		return -EINVAL;
	}
	e.m = cfg_method_find(e.method);
	if (!section_linked(c->section)) {
		log_notice("config: subsystems[%d] (%s) config[%d] %s: skipped, "
			   "nvmf_tgt has no '%s' subsystem", c->si, c->section, c->ci,
			   e.method, c->section);
		return 0;
	}
	if (!e.m || e.m->cls == CFG_REFUSE) {
		cfg_error(c, "unsupported method%s%s", e.m ? ": " : " (unknown to nvmf_tgt)",
			  e.m ? e.m->why : "");
		return 0;	/* keep collecting: every unsupported method is named */
	}
	return list_add(l, &e);
}

static int section_collect(struct cfg_ctx *c, json_t *sec, struct cfg_list *l)
{
	static const char *const keys[] = { "subsystem", "config", NULL };
	json_t *name, *cfg, *entry, *sub;
	size_t i, j;
	int rc = 0;

	if (!json_is_object(sec)) {
		cfg_error(c, "subsystems[%d] is not an object", c->si);
		return -EINVAL;
	}
	name = json_object_get(sec, "subsystem");
	cfg = json_object_get(sec, "config");
	if (!json_is_string(name) || !cfg || (!json_is_array(cfg) && !json_is_null(cfg))) {
		cfg_error(c, "subsystems[%d] needs \"subsystem\" (a string) and "
			  "\"config\" (an array or null)", c->si);
		return -EINVAL;
	}
	c->section = json_string_value(name);
	if (cfg_check_keys(c, sec, "subsystem entry", keys, true))
		return -EINVAL;
	json_array_foreach(cfg, i, entry) {
		c->ci = (int)i;
		c->method = NULL;
		if (!json_is_array(entry)) {
			rc = entry_collect(c, entry, l);
		} else {
			/* A batch (SPDK v26.05): its entries in order; [] is skipped. */
			json_array_foreach(entry, j, sub) {
				rc = entry_collect(c, sub, l);
				if (rc)
					break;
			}
		}
		if (rc)
			return rc;
	}
	c->method = NULL;
	return 0;
}

static int apply_pass(struct cfg_ctx *c, struct cfg_list *l, bool options)
{
	json_t *empty = json_object();
	int rc = 0;

	if (!empty)
		return -ENOMEM;
	for (int i = 0; i < l->n; i++) {
		struct cfg_entry *e = &l->e[i];

		if (e->m->option != options)
			continue;
		c->si = e->si;
		c->ci = e->ci;
		c->section = e->section;
		c->method = e->method;
		if (e->m->cls == CFG_ACCEPT) {
			cfg_info(c, "accepted, ignored (%s)", e->m->why);
			continue;
		}
		rc = e->m->apply(c, e->params ? e->params : empty);
		json_decref(c->result);		/* a query's answer: nobody asked */
		c->result = NULL;
		if (rc)
			break;
	}
	json_decref(empty);
	return rc ? -EINVAL : 0;
}

static int config_walk(struct cfg_ctx *c, json_t *root)
{
	struct cfg_list l = { 0 };
	json_t *subs, *sec;
	size_t i;
	int rc = 0;

	if (!json_is_object(root)) {
		cfg_error(c, "the root is not an object (not enclosed in {})");
		return -EINVAL;
	}
	subs = json_object_get(root, "subsystems");
	if (!subs) {
		log_warn("config: no \"subsystems\": nothing configured");
		return 0;
	}
	if (!json_is_array(subs)) {
		cfg_error(c, "\"subsystems\" is not an array");
		return -EINVAL;
	}
	json_array_foreach(subs, i, sec) {
		c->si = (int)i;
		rc = section_collect(c, sec, &l);
		if (rc)
			goto out;
	}
	if (c->nerr) {
		rc = -EINVAL;
		goto out;
	}
	rc = apply_pass(c, &l, true);
	if (!rc)
		rc = apply_pass(c, &l, false);
out:
	free(l.e);
	return rc;
}

int nvmf_config_load_string(struct nvmf_tgt *tgt, const char *text,
			    const char *origin, unsigned flags)
{
	struct cfg_ctx c = { .tgt = tgt, .dry = flags & NVMF_CONFIG_DRY_RUN };
	char *clean = nvmf_config_strip_comments(text);
	json_error_t jerr;
	json_t *root;
	int rc;

	g_errors[0] = '\0';
	if (!clean)
		return -ENOMEM;
	if (clean[strspn(clean, " \t\r\n")] != '{') {
		free(clean);
		cfg_error(&c, "%s: the root is not an object (not enclosed in {})", origin);
		return -EINVAL;
	}
	root = json_loads(clean, JSON_REJECT_DUPLICATES, &jerr);
	free(clean);
	if (!root) {
		cfg_error(&c, "%s:%d:%d: %s", origin, jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	rc = config_walk(&c, root);
	json_decref(root);
	if (rc == -EINVAL && c.nerr > 1)
		log_err("config: %s refused (%d errors above)", origin, c.nerr);
	return rc;
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long len;

	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (len = ftell(f)) < 0 || (unsigned long)len > CFG_FILE_MAX ||
	    fseek(f, 0, SEEK_SET)) {
		errno = EFBIG;
		goto out;
	}
	buf = malloc((size_t)len + 1);
	if (!buf)
		goto out;
	if (fread(buf, 1, (size_t)len, f) != (size_t)len) {
		free(buf);
		buf = NULL;
		errno = EIO;
		goto out;
	}
	buf[len] = '\0';
out:
	fclose(f);
	return buf;
}

int nvmf_config_load_file(struct nvmf_tgt *tgt, const char *path, unsigned flags)
{
	char *text = read_file(path);
	int rc;

	if (!text) {
		rc = -errno;
		g_errors[0] = '\0';
		log_err("config: cannot read %s: %s", path, strerror(errno));
		return rc ? rc : -EIO;
	}
	rc = nvmf_config_load_string(tgt, text, path, flags);
	free(text);
	return rc;
}
