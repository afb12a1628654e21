/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The RPC socket: a Unix stream socket, a nested epoll of its clients as
 * one poller of the event loop, and the framing of JSON-RPC 2.0 requests
 * as SPDK's rpc.py sends them (pretty-printed objects back to back). A
 * bad request is answered and the client goes on; bytes that are not JSON
 * get -32700 and the connection is closed. Nothing here blocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "memmap/log.h"
#include "target/config_int.h"
#include "target/core.h"
#include "target/rpc.h"

#define RPC_POLL_US	1000	/* while the loop is busy: look once per ms */
#define RPC_READ_CHUNK	65536
#define RPC_EVENTS	64

struct rpc_client {
	struct rpc_client *next;
	int fd;
	char *in;
	size_t inlen, incap;
	struct nvmf_rpc_buf out;
	size_t outoff;
	bool closing;		/* close once out is written */
	bool stalled;		/* waits for the target to initialize */
	bool want_out;		/* EPOLLOUT registered */
};

struct nvmf_rpc_server {
	struct nvmf_tgt *tgt;
	int lfd, epfd, lockfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char lockpath[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
	struct nvmf_poller *poller;
	struct rpc_client *clients;
	int nclients;
	uint64_t polled_us;
	int pending_sig;
};

/* ---- Framing and dispatch (no sockets: the unit tests drive this) ---- */

static int buf_add(struct nvmf_rpc_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		char *d;

		while (cap < b->len + n + 1)
			cap *= 2;
		d = realloc(b->data, cap);
		if (!d)
			return -ENOMEM;
		b->data = d;
		b->cap = cap;
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static void respond(struct nvmf_rpc_buf *out, json_t *id, json_t *result,
		    int code, const char *msg)
{
	json_t *r = json_pack("{s:s, s:O}", "jsonrpc", "2.0", "id", id ? id : json_null());
	char *text;

	if (!r)
		return;
	if (result)
		json_object_set(r, "result", result);
	else
		json_object_set_new(r, "error", json_pack("{s:i, s:s}", "code", code,
							  "message", msg));
	text = json_dumps(r, JSON_INDENT(2));
	if (text) {
		buf_add(out, text, strlen(text));
		buf_add(out, "\n", 1);
	}
	free(text);
	json_decref(r);
}

static bool id_valid(json_t *id)
{
	return !id || json_is_string(id) || json_is_integer(id) || json_is_null(id) ||
	       json_is_real(id);
}

/* One request object: answer it (unless it is a notification). */
static void handle(struct nvmf_tgt *tgt, json_t *req, struct nvmf_rpc_buf *out)
{
	json_t *id = json_object_get(req, "id"), *params = json_object_get(req, "params");
	const char *version = json_string_value(json_object_get(req, "jsonrpc"));
	const char *method = json_string_value(json_object_get(req, "method"));
	struct cfg_ctx c = { .tgt = tgt };
	json_t *t;

	if (!version || strcmp(version, "2.0") || !method || !id_valid(id)) {
		log_info("rpc: invalid request (jsonrpc 2.0, method and id needed)");
		respond(out, id_valid(id) ? id : NULL, NULL, RPC_INVALID_REQUEST,
			"Invalid request");
		return;
	}
	log_debug("rpc: %s", method);
	if (cfg_call(&c, method, params) == 0) {
		if (id && !json_is_null(id)) {
			t = c.result ? c.result : json_true();
			respond(out, id, t, 0, NULL);
			if (!c.result)
				json_decref(t);
		}
	} else {
		/* As SPDK: a notification's error is still answered (id null). */
		respond(out, id, NULL, c.code, c.msg);
	}
	json_decref(c.result);
}

static bool waits_for_init(struct nvmf_tgt *tgt, json_t *req)
{
	const char *m = json_string_value(json_object_get(req, "method"));

	return tgt->state == NVMF_TGT_STARTUP && m && !strcmp(m, "framework_wait_init");
}

static bool json_space(char ch)
{
	return ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n';
}

/*
 * Where the object or array starting at in[0] ends: its length, 0 if the
 * bytes so far are only its beginning, -1 if in[0] cannot start one. A
 * read may end anywhere (in a literal, an escape, a UTF-8 character), so
 * the parser only ever sees whole values.
 */
static long value_end(const char *in, size_t len)
{
	bool str = false, esc = false;
	size_t depth = 0;

	if (in[0] != '{' && in[0] != '[')
		return -1;
	for (size_t i = 0; i < len; i++) {
		char ch = in[i];

		if (str) {
			if (esc)
				esc = false;
			else if (ch == '\\')
				esc = true;
			else if (ch == '"')
				str = false;
		} else if (ch == '"') {
			str = true;
		} else if (ch == '{' || ch == '[') {
			depth++;
		} else if ((ch == '}' || ch == ']') && --depth == 0) {
			return (long)(i + 1);
		}
	}
	return 0;
}

static long parse_error(struct nvmf_rpc_buf *out, const char *why)
{
	log_info("rpc: %s: closing the connection", why);
	respond(out, NULL, NULL, RPC_PARSE_ERROR, "Parse error");
	return -1;
}

static long process(struct nvmf_tgt *tgt, const char *in, size_t len, bool eof,
		    struct nvmf_rpc_buf *out, bool *stalled)
{
	size_t off = 0;

	*stalled = false;
	for (;;) {
		json_error_t err;
		json_t *req;
		long n;

		while (off < len && json_space(in[off]))
			off++;
		if (off == len)
			return (long)off;
		n = value_end(in + off, len - off);
		if (n < 0)
			return parse_error(out, "not JSON");
		if (n == 0 && len - off > NVMF_RPC_MAX_REQUEST)
			return parse_error(out, "request over 1 MiB");
		if (n == 0)
			return eof ? parse_error(out, "truncated request") : (long)off;
		if ((size_t)n > NVMF_RPC_MAX_REQUEST)
			return parse_error(out, "request over 1 MiB");
		req = json_loadb(in + off, (size_t)n, 0, &err);
		if (!req)
			return parse_error(out, "not JSON");
		if (json_is_object(req) && waits_for_init(tgt, req)) {
			json_decref(req);
			*stalled = true;
			return (long)off;
		}
		off += (size_t)n;
		if (json_is_object(req))
			handle(tgt, req, out);
		else
			respond(out, NULL, NULL, RPC_INVALID_REQUEST, "Invalid request");
		json_decref(req);
	}
}

long nvmf_rpc_process(struct nvmf_tgt *tgt, const char *in, size_t len, bool eof,
		      struct nvmf_rpc_buf *out)
{
	bool stalled;

	return process(tgt, in, len, eof, out, &stalled);
}

void nvmf_rpc_after_answer(struct nvmf_tgt *tgt, int sig)
{
	if (tgt->rpc)
		tgt->rpc->pending_sig = sig;
	else
		raise(sig);
}

/* ---- Clients ---- */

static void client_close(struct nvmf_rpc_server *srv, struct rpc_client *c)
{
	struct rpc_client **pp = &srv->clients;

	while (*pp && *pp != c)
		pp = &(*pp)->next;
	if (*pp)
		*pp = c->next;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	free(c->in);
	free(c->out.data);
	free(c);
	srv->nclients--;
}

static void client_events(struct nvmf_rpc_server *srv, struct rpc_client *c, bool out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0), .data.ptr = c };

	if (c->want_out == out)
		return;
	c->want_out = out;
	epoll_ctl(srv->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Write what waits; false when the client is gone. */
static bool client_flush(struct nvmf_rpc_server *srv, struct rpc_client *c)
{
	while (c->outoff < c->out.len) {
		ssize_t n = send(c->fd, c->out.data + c->outoff, c->out.len - c->outoff,
				 MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			client_events(srv, c, true);
			return true;
		}
		if (n <= 0) {
			log_info("rpc: client went away before its answer: %s",
				 n < 0 ? strerror(errno) : "closed");
			client_close(srv, c);
			return false;
		}
		c->outoff += (size_t)n;
	}
	c->out.len = c->outoff = 0;
	client_events(srv, c, false);
	if (srv->pending_sig) {
		int sig = srv->pending_sig;

		srv->pending_sig = 0;
		log_notice("rpc: spdk_kill_instance: %s", strsignal(sig));
		raise(sig);
	}
	if (c->closing) {
		client_close(srv, c);
		return false;
	}
	return true;
}

static void client_process(struct nvmf_rpc_server *srv, struct rpc_client *c, bool eof)
{
	long n = process(srv->tgt, c->in, c->inlen, eof, &c->out, &c->stalled);

	if (n < 0) {
		c->inlen = 0;
		c->closing = true;
	} else {
		memmove(c->in, c->in + n, c->inlen - (size_t)n);
		c->inlen -= (size_t)n;
		if (eof && !c->stalled)
			c->closing = true;
	}
	client_flush(srv, c);
}

static void client_read(struct nvmf_rpc_server *srv, struct rpc_client *c)
{
	bool eof = false;

	for (;;) {
		ssize_t n;

		if (c->incap - c->inlen < RPC_READ_CHUNK) {
			char *p = realloc(c->in, c->incap + RPC_READ_CHUNK);

			if (!p) {
				log_err("rpc: out of memory for a request");
				client_close(srv, c);
				return;
			}
			c->in = p;
			c->incap += RPC_READ_CHUNK;
		}
		n = recv(c->fd, c->in + c->inlen, c->incap - c->inlen, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			eof = true;
			break;
		}
		c->inlen += (size_t)n;
		if (c->inlen > NVMF_RPC_MAX_REQUEST + RPC_READ_CHUNK)
			break;	/* process() refuses it */
	}
	client_process(srv, c, eof);
}

static void accept_all(struct nvmf_rpc_server *srv)
{
	for (;;) {
		int fd = accept4(srv->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct epoll_event ev = { .events = EPOLLIN };
		struct rpc_client *c;

		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
				log_warn("rpc: accept: %s", strerror(errno));
			return;
		}
		if (srv->nclients >= NVMF_RPC_MAX_CLIENTS) {
			log_warn("rpc: %d clients already: connection refused", srv->nclients);
			close(fd);
			continue;
		}
		c = calloc(1, sizeof(*c));
		ev.data.ptr = c;
		if (!c || epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ev)) {
			log_warn("rpc: cannot take a client: %s", c ? strerror(errno) :
				 "out of memory");
			free(c);
			close(fd);
			continue;
		}
		c->fd = fd;
		c->next = srv->clients;
		srv->clients = c;
		srv->nclients++;
	}
}

static int rpc_poll(void *arg)
{
	struct nvmf_rpc_server *srv = arg;
	struct epoll_event ev[RPC_EVENTS];
	uint64_t now = nvmf_now_us();
	int n, work = 0;

	/*
	 * Requests are rare: while I/O keeps the loop busy, one look per ms.
	 * A waiting request keeps the epoll fd readable, so the loop does
	 * not sleep on it.
	 */
	if (now - srv->polled_us < RPC_POLL_US)
		return 0;
	srv->polled_us = now;
	if (srv->tgt->state != NVMF_TGT_STARTUP) {
		for (struct rpc_client *c = srv->clients, *next; c; c = next) {
			next = c->next;
			if (c->stalled) {
				client_process(srv, c, false);
				work++;
			}
		}
	}
	n = epoll_wait(srv->epfd, ev, RPC_EVENTS, 0);
	for (int i = 0; i < n; i++) {
		struct rpc_client *c = ev[i].data.ptr;

		if (!c) {
			accept_all(srv);
		} else if (ev[i].events & EPOLLOUT) {
			if (client_flush(srv, c) && (ev[i].events & (EPOLLIN | EPOLLHUP)))
				client_read(srv, c);
		} else {
			client_read(srv, c);
		}
		work++;
	}
	return work;
}

/* ---- The socket ---- */

static int lock_path(struct nvmf_rpc_server *srv)
{
	srv->lockfd = open(srv->lockpath, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (srv->lockfd < 0) {
		log_err("rpc: cannot open %s: %s", srv->lockpath, strerror(errno));
		return -errno;
	}
	if (flock(srv->lockfd, LOCK_EX | LOCK_NB)) {
		int err = errno;

		close(srv->lockfd);
		srv->lockfd = -1;
		if (err == EWOULDBLOCK) {
			log_err("rpc: %s is in use by another running process (its lock %s "
				"is held): stop it, or give this one another socket with -r",
				srv->path, srv->lockpath);
			return -EADDRINUSE;
		}
		log_err("rpc: flock %s: %s", srv->lockpath, strerror(err));
		return -err;
	}
	return 0;
}

static int socket_open(struct nvmf_rpc_server *srv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct stat st;
	mode_t old;
	int rc;

	if (!lstat(srv->path, &st)) {
		if (!S_ISSOCK(st.st_mode)) {
			log_err("rpc: %s exists and is not a socket: not replacing it",
				srv->path);
			return -EEXIST;
		}
		log_info("rpc: replacing the stale socket %s", srv->path);
		unlink(srv->path);
	}
	srv->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (srv->lfd < 0)
		return -errno;
	strcpy(sa.sun_path, srv->path);
	old = umask(0177);	/* created owner-only: rw------- */
	rc = bind(srv->lfd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc || listen(srv->lfd, 128)) {
		rc = -errno;
		log_err("rpc: cannot listen on %s: %s", srv->path, strerror(errno));
		return rc;
	}
	return 0;
}

static void server_free(struct nvmf_rpc_server *srv)
{
	while (srv->clients)
		client_close(srv, srv->clients);
	if (srv->poller)
		nvmf_poller_del(srv->tgt, srv->poller);
	if (srv->lfd >= 0) {
		close(srv->lfd);
		unlink(srv->path);
	}
	if (srv->epfd >= 0)
		close(srv->epfd);
	if (srv->lockfd >= 0) {
		unlink(srv->lockpath);
		close(srv->lockfd);
	}
	free(srv);
}

int nvmf_rpc_listen(struct nvmf_tgt *tgt, const char *path)
{
	struct nvmf_rpc_server *srv;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	int rc;

	if (!*path || strlen(path) >= sizeof(srv->path)) {
		log_err("rpc: socket path '%s' is empty or longer than %zu bytes", path,
			sizeof(srv->path) - 1);
		return -ENAMETOOLONG;
	}
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->tgt = tgt;
	srv->lfd = srv->lockfd = -1;
	strcpy(srv->path, path);
	snprintf(srv->lockpath, sizeof(srv->lockpath), "%s.lock", path);
	srv->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (srv->epfd < 0) {
		rc = -errno;
		goto err;
	}
	rc = lock_path(srv);
	if (rc)
		goto err;
	rc = socket_open(srv);
	if (rc)
		goto err;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, srv->lfd, &ev)) {
		rc = -errno;
		goto err;
	}
	srv->poller = nvmf_poller_add(tgt, "rpc", rpc_poll, NULL, srv->epfd, srv);
	if (!srv->poller) {
		rc = -ENOMEM;
		goto err;
	}
	tgt->rpc = srv;
	log_notice("rpc: listening on %s", path);
	return 0;
err:
	if (rc == -EADDRINUSE)
		srv->lockfd = -1;
	server_free(srv);
	return rc;
}

void nvmf_rpc_close(struct nvmf_tgt *tgt)
{
	if (!tgt->rpc)
		return;
	server_free(tgt->rpc);
	tgt->rpc = NULL;
}
