// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Sockets and threads for gpufs-sim.  One thread per connection keeps the code linear: a
 * connection reads a request, lets sim_dispatch answer it, writes the reply, and loops while
 * keep-alive holds.  A few hundred concurrent clients is the scale of the tests; a thread each
 * is cheap at that size.
 */
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <gio/gio.h>

#include "http.h"
#include "server.h"

#define SERVER_MAX_CONNS       1024
#define SERVER_BACKLOG	       1024
#define SERVER_IDLE_TIMEOUT_S  120
#define SERVER_SEND_TIMEOUT_S  30
#define SERVER_DRAIN_TIMEOUT_S 5
#define CONN_INITIAL_BUF       (16 * 1024)
#define CONN_LINGER_MS	       2000
#define CONN_LINGER_MAX	       (4 * 1024 * 1024)

struct sim_server {
	struct sim *sim;
	int listen_fd;
	int port;
	char *url;
	GThread *acceptor;

	GMutex lock; /* guards conns and stopping */
	GCond drained;
	GHashTable *conns; /* struct conn * set */
	bool stopping;
};

struct conn {
	struct sim_server *srv;
	int fd;
	char *buf;
	size_t len;
	size_t cap;
	bool peer_closed;
};

/* Why a read stopped: the peer closed, the idle timer fired, or the socket failed. */
enum read_result {
	READ_OK,
	READ_EOF,
	READ_TIMEOUT,
	READ_FAILED,
};

static bool send_all(int fd, const char *head, size_t head_len, const char *body, size_t body_len)
{
	struct iovec iov[2] = {
	    {.iov_base = (void *)head, .iov_len = head_len},
	    {.iov_base = (void *)body, .iov_len = body_len},
	};
	struct msghdr msg = {.msg_iov = iov, .msg_iovlen = body_len ? 2 : 1};

	while (msg.msg_iovlen) {
		ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		while (msg.msg_iovlen && (size_t)n >= msg.msg_iov->iov_len) {
			n -= (ssize_t)msg.msg_iov->iov_len;
			msg.msg_iov++;
			msg.msg_iovlen--;
		}
		if (msg.msg_iovlen) {
			msg.msg_iov->iov_base = (char *)msg.msg_iov->iov_base + n;
			msg.msg_iov->iov_len -= (size_t)n;
		}
	}
	return true;
}

static bool send_response(int fd, const struct sim_response *resp, bool keep_alive)
{
	GString *head = http_format_head(resp, keep_alive);
	bool ok = send_all(fd, head->str, head->len, resp->body, resp->body_len);

	g_string_free(head, TRUE);
	return ok;
}

/* Fault injection: a reply cut short or dripped slowly; the connection then closes. */
static bool send_faulty(int fd, const struct sim_response *resp)
{
	GString *head = http_format_head(resp, false);
	size_t len = resp->truncate ? resp->body_len / 2 : resp->body_len;
	size_t pieces = resp->drip_ms > 0 ? 20 : 1;
	size_t step = len / pieces + 1;
	bool ok = send_all(fd, head->str, head->len, NULL, 0);

	for (size_t off = 0; ok && off < len; off += step) {
		if (resp->drip_ms > 0)
			g_usleep((gulong)resp->drip_ms * 1000 / pieces);
		ok = send_all(fd, resp->body + off, MIN(step, len - off), NULL, 0);
	}
	g_string_free(head, TRUE);
	return false;
}

static const char *error_code_for(int status)
{
	switch (status) {
	case 408:
		return "request_timeout";
	case 413:
		return "payload_too_large";
	case 417:
		return "expectation_failed";
	case 431:
		return "headers_too_large";
	case 501:
		return "not_implemented";
	case 503:
		return "overloaded";
	case 505:
		return "http_version_not_supported";
	default:
		return "bad_request";
	}
}

/* Refuse at the HTTP level, before any provider sees the request, and close. */
static void send_http_error(int fd, int status, const char *why)
{
	struct sim_response resp;
	json_object *err = json_object_new_object();
	json_object *obj = json_object_new_object();

	json_object_object_add(err, "code", json_object_new_string(error_code_for(status)));
	json_object_object_add(err, "message", json_object_new_string(why));
	json_object_object_add(obj, "error", err);
	sim_response_init(&resp);
	sim_response_json(&resp, status, obj);
	send_response(fd, &resp, false);
	sim_response_clear(&resp);
}

static enum read_result conn_read_more(struct conn *c)
{
	ssize_t n;

	if (c->len == c->cap) {
		c->cap *= 2;
		c->buf = g_realloc(c->buf, c->cap);
	}
	do {
		n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
	} while (n < 0 && errno == EINTR);
	if (n > 0) {
		c->len += (size_t)n;
		return READ_OK;
	}
	if (n == 0) {
		c->peer_closed = true;
		return READ_EOF;
	}
	return errno == EAGAIN || errno == EWOULDBLOCK ? READ_TIMEOUT : READ_FAILED;
}

/* Fill the buffer up to a complete head; 0 when the connection should just end. */
static size_t conn_read_head(struct conn *c)
{
	for (;;) {
		size_t head_len = http_head_length(c->buf, c->len);
		enum read_result r;

		if (head_len)
			return head_len;
		if (c->len >= HTTP_MAX_HEAD) {
			send_http_error(c->fd, 431, "request head too large");
			return 0;
		}
		r = conn_read_more(c);
		if (r == READ_OK)
			continue;
		/* A timeout between requests is the normal end of an idle keep-alive. */
		if (r == READ_TIMEOUT && c->len)
			send_http_error(c->fd, 408, "timed out reading the request");
		return 0;
	}
}

static bool conn_read_body(struct conn *c, size_t want)
{
	while (c->len < want) {
		enum read_result r = conn_read_more(c);

		if (r == READ_OK)
			continue;
		if (r == READ_TIMEOUT)
			send_http_error(c->fd, 408, "timed out reading the body");
		return false;
	}
	return true;
}

static bool server_stopping(struct sim_server *srv)
{
	bool stopping;

	g_mutex_lock(&srv->lock);
	stopping = srv->stopping;
	g_mutex_unlock(&srv->lock);
	return stopping;
}

/* Read, answer and consume one request; true if the connection stays open for another. */
static bool conn_serve_one(struct conn *c)
{
	struct sim_request req = {0};
	struct sim_response resp;
	struct http_head info;
	const char *why = NULL;
	size_t head_len, total;
	char *head;
	bool keep_alive;
	int rc;

	head_len = conn_read_head(c);
	if (!head_len)
		return false;
	if (memchr(c->buf, '\0', head_len)) {
		send_http_error(c->fd, 400, "NUL byte in request head");
		return false;
	}
	head = g_strndup(c->buf, head_len);
	rc = http_parse_head(head, &req, &info, &why);
	if (rc) {
		send_http_error(c->fd, rc, why);
		http_request_clear(&req);
		g_free(head);
		return false;
	}
	total = head_len + info.content_length;
	/* libcurl waits (up to a second) for this before sending a large body. */
	if (info.expect_continue && c->len < total)
		send_all(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25, NULL, 0);
	if (!conn_read_body(c, total)) {
		http_request_clear(&req);
		g_free(head);
		return false;
	}
	req.body = c->buf + head_len;
	req.body_len = info.content_length;

	sim_response_init(&resp);
	sim_dispatch(c->srv->sim, &req, &resp);
	keep_alive = info.keep_alive && !resp.close && !server_stopping(c->srv);
	if (resp.drop || resp.truncate || resp.drip_ms > 0)
		keep_alive = resp.drop ? false : send_faulty(c->fd, &resp);
	else if (!send_response(c->fd, &resp, keep_alive))
		keep_alive = false;
	g_debug("%s %s -> %d", req.method, req.target, resp.status);
	sim_response_clear(&resp);
	http_request_clear(&req);
	g_free(head);

	/* Keep what a pipelining client already sent after this request. */
	memmove(c->buf, c->buf + total, c->len - total);
	c->len -= total;
	return keep_alive;
}

static void set_socket_options(int fd)
{
	struct timeval idle = {.tv_sec = SERVER_IDLE_TIMEOUT_S};
	struct timeval send_timeout = {.tv_sec = SERVER_SEND_TIMEOUT_S};
	int one = 1;

	/* Replies are written in one sendmsg; Nagle would only add delay. */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &idle, sizeof(idle));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &send_timeout, sizeof(send_timeout));
}

static void conn_free(struct conn *c)
{
	g_free(c->buf);
	g_free(c);
}

/*
 * Close without losing the last reply.  If the client is still sending (a refused large body,
 * a head we gave up on), close() with unread input makes the kernel send RST, which can destroy
 * the reply before the client reads it.  So: half-close, drain what arrives for a moment, then
 * close, as web servers do ("lingering close").
 */
static void conn_close(struct conn *c)
{
	gint64 deadline = g_get_monotonic_time() + CONN_LINGER_MS * 1000;
	struct timeval tick = {.tv_usec = 100 * 1000};
	size_t drained = 0;

	if (!c->peer_closed && shutdown(c->fd, SHUT_WR) == 0) {
		setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tick, sizeof(tick));
		while (drained < CONN_LINGER_MAX && g_get_monotonic_time() < deadline) {
			ssize_t n = recv(c->fd, c->buf, c->cap, 0);

			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
				break;
			if (n > 0)
				drained += (size_t)n;
		}
	}
	close(c->fd);
}

static gpointer conn_main(gpointer data)
{
	struct conn *c = data;
	struct sim_server *srv = c->srv;

	set_socket_options(c->fd);
	while (conn_serve_one(c))
		;
	/*
	 * Unregister before close, so sim_server_stop never shuts down a reused descriptor.
	 * After the unlock srv may be freed: touch nothing of it.
	 */
	g_mutex_lock(&srv->lock);
	g_hash_table_remove(srv->conns, c);
	if (!g_hash_table_size(srv->conns))
		g_cond_broadcast(&srv->drained);
	g_mutex_unlock(&srv->lock);
	conn_close(c);
	conn_free(c);
	return NULL;
}

/* Register and start a connection; false if the server is stopping or full. */
static bool server_adopt(struct sim_server *srv, int fd)
{
	struct conn *c = g_new0(struct conn, 1);
	GError *error = NULL;
	GThread *thread;

	c->srv = srv;
	c->fd = fd;
	c->cap = CONN_INITIAL_BUF;
	c->buf = g_malloc(c->cap);

	g_mutex_lock(&srv->lock);
	if (srv->stopping || g_hash_table_size(srv->conns) >= SERVER_MAX_CONNS) {
		g_mutex_unlock(&srv->lock);
		conn_free(c);
		return false;
	}
	g_hash_table_add(srv->conns, c);
	g_mutex_unlock(&srv->lock);

	thread = g_thread_try_new("gpufs-sim-conn", conn_main, c, &error);
	if (thread) {
		g_thread_unref(thread);
		return true;
	}
	g_warning("cannot start a connection thread: %s", error->message);
	g_error_free(error);
	g_mutex_lock(&srv->lock);
	g_hash_table_remove(srv->conns, c);
	g_mutex_unlock(&srv->lock);
	conn_free(c);
	return false;
}

static gpointer acceptor_main(gpointer data)
{
	struct sim_server *srv = data;

	for (;;) {
		int fd = accept4(srv->listen_fd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0) {
			if (server_stopping(srv))
				break;
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM)
				g_usleep(10 * 1000); /* let connections end, then retry */
			continue;
		}
		if (!server_adopt(srv, fd)) {
			if (!server_stopping(srv))
				send_http_error(fd, 503, "too many connections");
			close(fd);
		}
	}
	return NULL;
}

static int bind_first(struct addrinfo *list, GError **error)
{
	int last_errno = EADDRNOTAVAIL;

	for (struct addrinfo *ai = list; ai; ai = ai->ai_next) {
		int one = 1;
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);

		if (fd < 0) {
			last_errno = errno;
			continue;
		}
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, SERVER_BACKLOG) == 0)
			return fd;
		last_errno = errno;
		close(fd);
	}
	g_set_error(error, G_IO_ERROR, g_io_error_from_errno(last_errno), "%s",
		    g_strerror(last_errno));
	return -1;
}

/* Learn the port the kernel chose and build the URL clients should use. */
static bool server_describe(struct sim_server *srv, GError **error)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	char host[NI_MAXHOST], serv[NI_MAXSERV];
	int rc;

	if (getsockname(srv->listen_fd, (struct sockaddr *)&ss, &len) < 0) {
		g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno), "getsockname: %s",
			    g_strerror(errno));
		return false;
	}
	rc = getnameinfo((struct sockaddr *)&ss, len, host, sizeof(host), serv, sizeof(serv),
			 NI_NUMERICHOST | NI_NUMERICSERV);
	if (rc) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "getnameinfo: %s",
			    gai_strerror(rc));
		return false;
	}
	srv->port = atoi(serv);
	srv->url = g_strdup_printf(ss.ss_family == AF_INET6 ? "http://[%s]:%s" : "http://%s:%s",
				   host, serv);
	return true;
}

struct sim_server *sim_server_new(struct sim *sim, const char *address, int port, GError **error)
{
	struct addrinfo hints = {
	    .ai_family = AF_UNSPEC,
	    .ai_socktype = SOCK_STREAM,
	    .ai_flags = AI_PASSIVE | AI_NUMERICSERV,
	};
	struct addrinfo *list = NULL;
	struct sim_server *srv;
	char port_str[16];
	int rc, fd;

	g_snprintf(port_str, sizeof(port_str), "%d", port);
	rc = getaddrinfo(address, port_str, &hints, &list);
	if (rc) {
		g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "%s: %s", address,
			    gai_strerror(rc));
		return NULL;
	}
	fd = bind_first(list, error);
	freeaddrinfo(list);
	if (fd < 0)
		return NULL;

	srv = g_new0(struct sim_server, 1);
	srv->sim = sim;
	srv->listen_fd = fd;
	g_mutex_init(&srv->lock);
	g_cond_init(&srv->drained);
	srv->conns = g_hash_table_new(NULL, NULL);
	if (!server_describe(srv, error)) {
		sim_server_stop(srv);
		return NULL;
	}
	return srv;
}

int sim_server_port(const struct sim_server *srv)
{
	return srv->port;
}

const char *sim_server_url(const struct sim_server *srv)
{
	return srv->url;
}

bool sim_server_start(struct sim_server *srv, GError **error)
{
	srv->acceptor = g_thread_try_new("gpufs-sim-accept", acceptor_main, srv, error);
	return srv->acceptor != NULL;
}

static void shutdown_conn(gpointer key, gpointer value, gpointer data)
{
	const struct conn *c = key;

	/* Wakes a recv() blocked on an idle keep-alive connection. */
	shutdown(c->fd, SHUT_RDWR);
}

/* End every connection and wait for their threads; false if they did not all finish. */
static bool server_drain(struct sim_server *srv)
{
	gint64 deadline = g_get_monotonic_time() + SERVER_DRAIN_TIMEOUT_S * G_TIME_SPAN_SECOND;
	bool drained = true;

	g_mutex_lock(&srv->lock);
	g_hash_table_foreach(srv->conns, shutdown_conn, NULL);
	while (g_hash_table_size(srv->conns)) {
		if (!g_cond_wait_until(&srv->drained, &srv->lock, deadline)) {
			drained = !g_hash_table_size(srv->conns);
			break;
		}
	}
	g_mutex_unlock(&srv->lock);
	return drained;
}

bool sim_server_stop(struct sim_server *srv)
{
	g_mutex_lock(&srv->lock);
	srv->stopping = true;
	g_mutex_unlock(&srv->lock);

	/* On Linux, shutdown() of a listening socket makes a blocked accept() return. */
	shutdown(srv->listen_fd, SHUT_RDWR);
	if (srv->acceptor)
		g_thread_join(srv->acceptor);
	close(srv->listen_fd);

	sim_stop(srv->sim);
	if (!server_drain(srv)) {
		g_warning("some connections did not finish; exiting without cleanup");
		return false;
	}
	g_hash_table_destroy(srv->conns);
	g_cond_clear(&srv->drained);
	g_mutex_clear(&srv->lock);
	g_free(srv->url);
	g_free(srv);
	return true;
}
