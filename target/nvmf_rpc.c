/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * nvmf_rpc: send one JSON-RPC 2.0 request to nvmf_tgt's Unix socket (or any
 * SPDK application's) and print the answer. A standalone program: it links
 * only libjansson.
 *
 * Framing is SPDK's: the request is one JSON object, the answer is the first
 * complete JSON value the server writes back, in as many pieces as the stream
 * delivers. Completeness is decided by a small scanner that tracks nesting
 * and strings: jansson alone cannot tell a truncated answer from a bad one
 * when a read ends inside a literal ("tr|ue"), an escape ("\u00|41") or a
 * UTF-8 sequence (those are reported as invalid, not as premature end).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define PROG			"nvmf_rpc"
#define DEFAULT_SOCK		"/var/tmp/spdk.sock"
#define DEFAULT_TIMEOUT_S	60.0
#define MAX_TIMEOUT_S		(365.0 * 24 * 3600)
#define RETRY_DELAY_MS		100
#define MAX_RETRIES		1000000
#define REQUEST_ID		1
#define RECV_CHUNK		65536	/* first buffer; then doubled */
#define RECV_MIN_ROOM		4096	/* free space wanted before a read */
#define ANSWER_MAX		(256u << 20)
#define FORCE_STR		"str:"
#define KILL_METHOD		"spdk_kill_instance"

enum {
	EXIT_RESULT = 0,	/* the server answered with a result */
	EXIT_RPC_ERROR = 1,	/* the server answered with an error */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_COMM = 3,		/* no connection, no answer in time, bad answer */
};

struct opts {
	const char *sock;
	double timeout_s;
	unsigned long retries;
	const char *method;
	json_t *params;		/* NULL: the request has no "params" */
};

/* The answer as it arrives, and the scanner's state over it. */
struct answer {
	char *data;
	size_t len;
	size_t cap;
	size_t scanned;		/* bytes the scanner has looked at */
	size_t end;		/* length of the first complete value; 0: not yet */
	unsigned long depth;
	bool started;
	bool in_str;
	bool esc;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: " PROG " [-s SOCK] [-t SECONDS] [-r RETRIES] METHOD\n"
		"                [JSON-OBJECT | KEY=VALUE ...]\n"
		"Send one JSON-RPC 2.0 request to nvmf_tgt (or any SPDK application) and\n"
		"print the result.\n"
		"  -s SOCK     the server's Unix socket (default " DEFAULT_SOCK ")\n"
		"  -t SECONDS  how long to wait for the answer (default %.0f; fractions allowed)\n"
		"  -r RETRIES  retry connecting RETRIES times, %d ms apart, e.g. while the\n"
		"              server starts (default 0)\n"
		"  -h          this text\n"
		"Parameters (none: the request has no \"params\"), either\n"
		"  one JSON object:  '{\"nqn\": \"nqn.2016-06.io.spdk:cnode1\", \"nsid\": 1}'\n"
		"  or KEY=VALUE ...: nqn=nqn.2016-06.io.spdk:cnode1 nsid=1\n"
		"    VALUE is JSON when it is a number, true, false, null, an object or an\n"
		"    array, else a string; " FORCE_STR "VALUE is always the string VALUE\n"
		"    (serial_number=" FORCE_STR "0001). A dotted KEY makes nested objects:\n"
		"    namespace.bdev_name=Malloc0 namespace.nsid=1\n"
		"    -> {\"namespace\": {\"bdev_name\": \"Malloc0\", \"nsid\": 1}}\n"
		"The result is printed as JSON on stdout. An error answer is printed on\n"
		"stderr as '" PROG ": METHOD: error CODE: MESSAGE'. For " KILL_METHOD ",\n"
		"a connection closed before the answer counts as success (as rpc.py does).\n"
		"Exit status: 0 result, 1 error answer, 2 usage, 3 cannot connect, no answer\n"
		"in time, connection closed early or an answer that is not JSON-RPC 2.0.\n",
		DEFAULT_TIMEOUT_S, RETRY_DELAY_MS);
}

static void msg(const char *fmt, ...)
{
	va_list ap;

	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- parameters ------------------------------------------------------------ */

/* JSON when it is a number, true, false, null, an object or an array. */
static json_t *param_value(const char *s)
{
	json_error_t err;
	json_t *v;

	if (!strncmp(s, FORCE_STR, strlen(FORCE_STR)))
		return json_string(s + strlen(FORCE_STR));
	v = json_loads(s, JSON_DECODE_ANY, &err);
	if (v && !json_is_string(v))
		return v;
	json_decref(v);
	return json_string(s);
}

/* The object at PATH's component, created when absent; NULL on a conflict. */
static json_t *param_child(json_t *obj, const char *name, const char *arg)
{
	json_t *child = json_object_get(obj, name);

	if (child) {
		if (!json_is_object(child))
			msg("'%s': '%s' is already set to a value", arg, name);
		return json_is_object(child) ? child : NULL;
	}
	child = json_object();
	if (!child || json_object_set_new(obj, name, child)) {
		msg("out of memory");
		return NULL;
	}
	return child;
}

/* KEY=VALUE into ROOT; KEY is modified (split at its dots). */
static int param_set(json_t *root, char *key, const char *val, const char *arg)
{
	json_t *obj = root, *v;
	char *dot;

	for (dot = strchr(key, '.'); dot; dot = strchr(key, '.')) {
		*dot = '\0';
		if (!*key || !dot[1])
			goto bad_key;
		obj = param_child(obj, key, arg);
		if (!obj)
			return -1;
		key = dot + 1;
	}
	if (!*key)
		goto bad_key;
	if (json_object_get(obj, key)) {
		msg("'%s': '%s' is given twice", arg, key);
		return -1;
	}
	v = param_value(val);
	if (!v || json_object_set_new(obj, key, v)) {
		msg("'%s': out of memory or not UTF-8", arg);
		return -1;
	}
	return 0;
bad_key:
	msg("'%s': empty name in the key", arg);
	return -1;
}

static int param_pair(json_t *root, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *key;
	int rc;

	if (!eq || eq == arg) {
		msg("'%s': parameters are KEY=VALUE or one JSON object", arg);
		return -1;
	}
	key = strndup(arg, (size_t)(eq - arg));
	if (!key) {
		msg("out of memory");
		return -1;
	}
	rc = param_set(root, key, eq + 1, arg);
	free(key);
	return rc;
}

static bool looks_like_object(const char *s)
{
	s += strspn(s, " \t\r\n");
	return *s == '{';
}

static json_t *params_object(const char *arg)
{
	json_error_t err;
	json_t *v = json_loads(arg, 0, &err);

	if (!v) {
		msg("parameters: bad JSON: %s (line %d, column %d)", err.text,
		    err.line, err.column);
		return NULL;
	}
	if (!json_is_object(v)) {
		msg("parameters: a JSON object is needed");
		json_decref(v);
		return NULL;
	}
	return v;
}

/* ARGS: one JSON object, or KEY=VALUE pairs; none: NULL in *OUT. */
static int params_build(int n, char **args, json_t **out)
{
	json_t *root;
	int i;

	*out = NULL;
	if (n == 0)
		return 0;
	if (looks_like_object(args[0])) {
		if (n > 1) {
			msg("a JSON object must be the only parameter");
			return -1;
		}
		*out = params_object(args[0]);
		return *out ? 0 : -1;
	}
	root = json_object();
	if (!root)
		return -1;
	for (i = 0; i < n; i++)
		if (param_pair(root, args[i]))
			goto err;
	*out = root;
	return 0;
err:
	json_decref(root);
	return -1;
}

/* ---- command line ---------------------------------------------------------- */

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !(v > 0) || v > MAX_TIMEOUT_S)
		return -1;
	*out = v;
	return 0;
}

static int parse_count(const char *s, unsigned long *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > MAX_RETRIES)
		return -1;
	*out = v;
	return 0;
}

/* -1: go on; otherwise the exit status. */
static int parse_args(int argc, char **argv, struct opts *o)
{
	int opt;

	o->sock = DEFAULT_SOCK;
	o->timeout_s = DEFAULT_TIMEOUT_S;
	while ((opt = getopt(argc, argv, "+s:t:r:h")) != -1) {
		switch (opt) {
		case 's':
			o->sock = optarg;
			break;
		case 't':
			if (parse_seconds(optarg, &o->timeout_s)) {
				msg("-t: '%s' is not a number of seconds > 0", optarg);
				goto usage;
			}
			break;
		case 'r':
			if (parse_count(optarg, &o->retries)) {
				msg("-r: '%s' is not a count (0-%d)", optarg, MAX_RETRIES);
				goto usage;
			}
			break;
		case 'h':
			usage(stdout);
			return EXIT_RESULT;
		default:
			goto usage;
		}
	}
	if (optind >= argc) {
		msg("no METHOD");
		goto usage;
	}
	o->method = argv[optind++];
	if (!*o->method) {
		msg("empty METHOD");
		goto usage;
	}
	if (params_build(argc - optind, argv + optind, &o->params))
		goto usage;
	return -1;
usage:
	usage(stderr);
	return EXIT_USAGE;
}

/* ---- time ------------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds left until DEADLINE, rounded up; 0 when it has passed. */
static int ms_left(double deadline)
{
	double left = deadline - now_s();

	if (left <= 0)
		return 0;
	if (left > 3600)
		return 3600 * 1000;
	return (int)(left * 1000) + 1;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ---- connection ------------------------------------------------------------ */

static int connect_once(const struct sockaddr_un *sa)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	if (connect(fd, (const struct sockaddr *)sa, sizeof(*sa))) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

static int rpc_connect(const char *path, unsigned long retries)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	unsigned long i;
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		msg("socket path too long (%zu bytes, at most %zu): %s", strlen(path),
		    sizeof(sa.sun_path) - 1, path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	for (i = 0;; i++) {
		fd = connect_once(&sa);
		if (fd >= 0)
			return fd;
		if (i >= retries)
			break;
		sleep_ms(RETRY_DELAY_MS);
	}
	e = errno;
	if (retries)
		msg("cannot connect to %s: %s (%lu retries, %d ms apart)", path, strerror(e),
		    retries, RETRY_DELAY_MS);
	else
		msg("cannot connect to %s: %s", path, strerror(e));
	if (e == ENOENT || e == ECONNREFUSED)
		msg("is nvmf_tgt running, serving RPCs on that socket (-r)?");
	return -1;
}

/* Wait until FD is ready for EVENTS: 1 ready, 0 deadline passed, -1 error. */
static int wait_fd(int fd, short events, double deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n, ms;

	for (;;) {
		ms = ms_left(deadline);
		if (ms == 0)
			return 0;
		n = poll(&p, 1, ms);
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return -1;
	}
}

static int send_all(int fd, const char *buf, size_t len, double deadline)
{
	ssize_t n;
	int w;

	while (len) {
		w = wait_fd(fd, POLLOUT, deadline);
		if (w < 0) {
			msg("poll: %s", strerror(errno));
			return -1;
		}
		if (w == 0) {
			msg("timed out sending the request");
			return -1;
		}
		n = send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			msg("cannot send the request: %s", strerror(errno));
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static char *request_text(const struct opts *o)
{
	json_t *req;
	char *text = NULL;

	req = json_pack("{s:s, s:s, s:i}", "jsonrpc", "2.0", "method", o->method,
			"id", REQUEST_ID);
	if (!req)
		goto out;
	if (o->params && json_object_set(req, "params", o->params))
		goto out;
	text = json_dumps(req, JSON_COMPACT);
out:
	if (!text)
		msg("cannot encode the request (is METHOD UTF-8?)");
	json_decref(req);
	return text;
}

/* ---- the answer ------------------------------------------------------------ */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* One byte outside strings: 1 the value is complete, -1 not an object. */
static int scan_token(struct answer *a, char c)
{
	if (!a->started) {
		if (is_ws(c))
			return 0;
		if (c != '{')
			return -1;
		a->started = true;
	}
	if (c == '"')
		a->in_str = true;
	else if (c == '{' || c == '[')
		a->depth++;
	else if (c == '}' || c == ']')
		return --a->depth == 0;
	return 0;
}

/* Scan new bytes: 1 the first value is complete (a->end set), 0 not yet, -1 bad. */
static int scan(struct answer *a)
{
	char c;
	int r;

	for (; a->scanned < a->len; a->scanned++) {
		c = a->data[a->scanned];
		if (a->in_str) {
			if (a->esc)
				a->esc = false;
			else if (c == '\\')
				a->esc = true;
			else if (c == '"')
				a->in_str = false;
			continue;
		}
		r = scan_token(a, c);
		if (r < 0)
			return -1;
		if (r > 0) {
			a->end = a->scanned + 1;
			return 1;
		}
	}
	return 0;
}

static int grow(struct answer *a)
{
	size_t cap = a->cap ? a->cap * 2 : RECV_CHUNK;
	char *p;

	if (a->cap - a->len >= RECV_MIN_ROOM)
		return 0;
	if (cap > ANSWER_MAX) {
		msg("the answer is larger than %u MiB", ANSWER_MAX >> 20);
		return -1;
	}
	p = realloc(a->data, cap);
	if (!p) {
		msg("out of memory");
		return -1;
	}
	a->data = p;
	a->cap = cap;
	return 0;
}

enum recv_status { RECV_DONE, RECV_CLOSED, RECV_FAILED };

/* Read until one complete JSON value is in A. */
static enum recv_status recv_value(int fd, struct answer *a, double timeout_s,
				   double deadline)
{
	ssize_t n;
	int w;

	for (;;) {
		if (grow(a))
			return RECV_FAILED;
		w = wait_fd(fd, POLLIN, deadline);
		if (w < 0) {
			msg("poll: %s", strerror(errno));
			return RECV_FAILED;
		}
		if (w == 0) {
			msg("no complete answer within %g s", timeout_s);
			return RECV_FAILED;
		}
		n = recv(fd, a->data + a->len, a->cap - a->len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0 && errno != ECONNRESET) {
			msg("cannot read the answer: %s", strerror(errno));
			return RECV_FAILED;
		}
		if (n <= 0)
			return RECV_CLOSED;
		a->len += (size_t)n;
		w = scan(a);
		if (w < 0) {
			msg("bad answer: not a JSON object: %.*s",
			    (int)(a->len < 200 ? a->len : 200), a->data);
			return RECV_FAILED;
		}
		if (w > 0)
			return RECV_DONE;
	}
}

static json_t *answer_parse(const struct answer *a)
{
	json_error_t err;
	json_t *v;

	v = json_loadb(a->data, a->end, 0, &err);
	if (!v)
		msg("bad answer: %s (line %d, column %d)", err.text, err.line, err.column);
	return v;
}

/* A JSON-RPC 2.0 response to our request: "jsonrpc", the id, one of result/error. */
static int answer_check(json_t *resp)
{
	json_t *id = json_object_get(resp, "id");
	json_t *ver = json_object_get(resp, "jsonrpc");
	bool has_err = json_object_get(resp, "error") != NULL;
	bool has_res = json_object_get(resp, "result") != NULL;

	if (!json_is_string(ver) || strcmp(json_string_value(ver), "2.0")) {
		msg("bad answer: \"jsonrpc\" is not \"2.0\"");
		return -1;
	}
	if (has_err == has_res) {
		msg("bad answer: it must have either \"result\" or \"error\"");
		return -1;
	}
	/* null: the server could not read our id (JSON-RPC 2.0, section 5) */
	if (json_is_null(id) && has_err)
		return 0;
	if (!json_is_integer(id) || json_integer_value(id) != REQUEST_ID) {
		msg("bad answer: its id is not our request's (%d)", REQUEST_ID);
		return -1;
	}
	return 0;
}

static int print_error(const char *method, json_t *error)
{
	json_t *code = json_object_get(error, "code");
	json_t *text = json_object_get(error, "message");
	json_t *data = json_object_get(error, "data");
	char *s;

	if (!json_is_integer(code) || !json_is_string(text)) {
		msg("bad answer: an error needs an integer \"code\" and a string \"message\"");
		return EXIT_COMM;
	}
	msg("%s: error %" JSON_INTEGER_FORMAT ": %s", method, json_integer_value(code),
	    json_string_value(text));
	if (data) {
		s = json_dumps(data, JSON_COMPACT | JSON_ENCODE_ANY);
		if (s)
			msg("%s: error data: %s", method, s);
		free(s);
	}
	return EXIT_RPC_ERROR;
}

static int print_result(json_t *result)
{
	char *s = json_dumps(result, JSON_INDENT(2) | JSON_ENCODE_ANY);
	int rc = EXIT_RESULT;

	if (!s) {
		msg("cannot print the result");
		return EXIT_COMM;
	}
	if (puts(s) == EOF || fflush(stdout)) {
		msg("cannot write the result: %s", strerror(errno));
		rc = EXIT_COMM;
	}
	free(s);
	return rc;
}

static int answer_report(const struct opts *o, const struct answer *a)
{
	json_t *resp = answer_parse(a);
	int rc = EXIT_COMM;

	if (!resp || answer_check(resp))
		goto out;
	if (json_object_get(resp, "error"))
		rc = print_error(o->method, json_object_get(resp, "error"));
	else
		rc = print_result(json_object_get(resp, "result"));
out:
	json_decref(resp);
	return rc;
}

/* The server closed the connection before a complete answer. */
static int answer_closed(const struct opts *o, const struct answer *a)
{
	if (!strcmp(o->method, KILL_METHOD)) {
		msg("%s: connection closed by the server (it is stopping)", o->method);
		return EXIT_RESULT;
	}
	if (a->len == 0)
		msg("%s: connection closed by the server without an answer", o->method);
	else
		msg("%s: connection closed by the server after %zu bytes of an incomplete answer",
		    o->method, a->len);
	return EXIT_COMM;
}

static int rpc_call(const struct opts *o)
{
	struct answer a = { 0 };
	double deadline;
	char *req = NULL;
	int fd, rc = EXIT_COMM;

	fd = rpc_connect(o->sock, o->retries);
	if (fd < 0)
		return EXIT_COMM;
	req = request_text(o);
	if (!req)
		goto out;
	deadline = now_s() + o->timeout_s;
	if (send_all(fd, req, strlen(req), deadline))
		goto out;
	switch (recv_value(fd, &a, o->timeout_s, deadline)) {
	case RECV_DONE:
		rc = answer_report(o, &a);
		break;
	case RECV_CLOSED:
		rc = answer_closed(o, &a);
		break;
	case RECV_FAILED:
		break;
	}
out:
	free(a.data);
	free(req);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = { 0 };
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	rc = rpc_call(&o);
	json_decref(o.params);
	return rc;
}
