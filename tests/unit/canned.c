/* The canned HTTP server on 127.0.0.1 and the fixture helpers: see canned.h. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "gpufs/log.h"
#include "canned.h"

struct canned_reply {
	int status;
	char *body;
};

struct canned_server {
	int listen_fd;
	int port;
	GThread *thread;
	GMutex lock;
	GQueue replies;	 /* struct canned_reply *, served in order */
	GPtrArray *seen; /* struct canned_request * */
};

static struct canned_server server;

static void canned_reply_free(struct canned_reply *reply)
{
	g_free(reply->body);
	g_free(reply);
}

static void canned_request_free(gpointer data)
{
	struct canned_request *r = data;

	g_free(r->method);
	g_free(r->path);
	g_free(r->body);
	g_free(r->auth);
	g_free(r);
}

/* Reads one request: headers, then Content-Length bytes of body. */
static struct canned_request *read_request(int fd)
{
	static const char auth_header[] = "\r\nauthorization: ";
	GString *in = g_string_new(NULL);
	char buf[4096];
	const char *end = NULL;
	gsize want = 0;
	ssize_t n;

	while (!end && (n = read(fd, buf, sizeof(buf))) > 0) {
		g_string_append_len(in, buf, n);
		end = strstr(in->str, "\r\n\r\n");
	}
	if (!end) {
		g_string_free(in, TRUE);
		return NULL;
	}
	gsize header_len = end + 4 - in->str;
	char *lower = g_ascii_strdown(in->str, header_len);
	const char *length = strstr(lower, "content-length:");
	const char *auth = strstr(lower, auth_header);
	char *auth_value = NULL;

	if (length)
		want = strtoul(length + strlen("content-length:"), NULL, 10);
	if (auth) {
		const char *from = in->str + (auth - lower) + strlen(auth_header);

		auth_value = g_strndup(from, strcspn(from, "\r\n"));
	}
	g_free(lower);
	while (in->len < header_len + want && (n = read(fd, buf, sizeof(buf))) > 0)
		g_string_append_len(in, buf, n);

	struct canned_request *r = g_new0(struct canned_request, 1);
	char **words = g_strsplit(in->str, " ", 3);

	r->method = g_strdup(words[0]);
	r->path = g_strdup(words[1]);
	r->body = g_strndup(in->str + header_len, in->len - header_len);
	r->auth = auth_value;
	g_strfreev(words);
	g_string_free(in, TRUE);
	return r;
}

static gpointer serve(gpointer data)
{
	for (;;) {
		int fd = accept(server.listen_fd, NULL, NULL);
		struct canned_request *r;
		struct canned_reply *reply;
		char *head;

		if (fd < 0)
			return NULL; /* shut down */
		r = read_request(fd);
		g_mutex_lock(&server.lock);
		reply = g_queue_pop_head(&server.replies);
		if (r)
			g_ptr_array_add(server.seen, r);
		g_mutex_unlock(&server.lock);
		if (!reply) {
			reply = g_new0(struct canned_reply, 1);
			reply->status = 599;
			reply->body = g_strdup("no reply queued");
		}
		head = g_strdup_printf("HTTP/1.1 %d Canned\r\nContent-Type: application/json\r\n"
				       "Content-Length: %zu\r\nConnection: close\r\n\r\n",
				       reply->status, strlen(reply->body));
		if (write(fd, head, strlen(head)) < 0 ||
		    write(fd, reply->body, strlen(reply->body)) < 0)
			g_printerr("canned server: write failed\n");
		g_free(head);
		canned_reply_free(reply);
		close(fd);
	}
}

int canned_start(void)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);

	server.listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (server.listen_fd < 0 || bind(server.listen_fd, (struct sockaddr *)&addr, len) < 0 ||
	    listen(server.listen_fd, 16) < 0 ||
	    getsockname(server.listen_fd, (struct sockaddr *)&addr, &len) < 0)
		return -1;
	server.port = ntohs(addr.sin_port);
	g_mutex_init(&server.lock);
	g_queue_init(&server.replies);
	server.seen = g_ptr_array_new_with_free_func(canned_request_free);
	server.thread = g_thread_new("canned-server", serve, NULL);
	return 0;
}

void canned_stop(void)
{
	shutdown(server.listen_fd, SHUT_RDWR);
	g_thread_join(server.thread);
	close(server.listen_fd);
	canned_reset();
	g_ptr_array_unref(server.seen);
	g_mutex_clear(&server.lock);
}

int canned_group_setup(void **state)
{
	(void)state;
	if (canned_start() < 0)
		return -1;
	gpufs_http_global_init();
	gpufs_log_set_level(GPUFS_LOG_ERR);
	return 0;
}

int canned_group_teardown(void **state)
{
	(void)state;
	canned_stop();
	gpufs_http_global_cleanup();
	return 0;
}

int canned_port(void)
{
	return server.port;
}

struct gpufs_api *canned_api_new(const char *prefix, const char *bearer)
{
	g_autofree char *url = g_strdup_printf("http://127.0.0.1:%d%s", server.port, prefix);
	struct gpufs_http_options options = {
	    .base_url = url,
	    .bearer = bearer,
	    .account = "test",
	    .timeout_ms = 5000,
	    .max_retries = -1, /* canned replies are served once */
	};
	struct gpufs_api *api = g_new0(struct gpufs_api, 1);

	api->http = gpufs_http_new(&options);
	api->account = "test";
	canned_reset();
	return api;
}

void canned_api_free(struct gpufs_api *api)
{
	gpufs_http_free(api->http);
	if (api->options)
		g_hash_table_unref(api->options);
	g_free(api);
	canned_reset();
}

void canned_reply(int status, const char *body)
{
	struct canned_reply *reply = g_new0(struct canned_reply, 1);

	reply->status = status;
	reply->body = g_strdup(body);
	g_mutex_lock(&server.lock);
	g_queue_push_tail(&server.replies, reply);
	g_mutex_unlock(&server.lock);
}

void canned_reply_fixture(int status, const char *fixture)
{
	char *text = fixture_text(fixture);

	canned_reply(status, text);
	g_free(text);
}

const struct canned_request *canned_seen(guint i)
{
	const struct canned_request *r = NULL;

	g_mutex_lock(&server.lock);
	if (i < server.seen->len)
		r = server.seen->pdata[i];
	g_mutex_unlock(&server.lock);
	if (!r)
		fail_msg("request %u was never seen (%u were)", i, canned_seen_count());
	return r;
}

guint canned_seen_count(void)
{
	guint count;

	g_mutex_lock(&server.lock);
	count = server.seen->len;
	g_mutex_unlock(&server.lock);
	return count;
}

void canned_forget_seen(void)
{
	g_mutex_lock(&server.lock);
	g_ptr_array_set_size(server.seen, 0);
	g_mutex_unlock(&server.lock);
}

void canned_reset(void)
{
	struct canned_reply *left;

	g_mutex_lock(&server.lock);
	while ((left = g_queue_pop_head(&server.replies)))
		canned_reply_free(left);
	g_ptr_array_set_size(server.seen, 0);
	g_mutex_unlock(&server.lock);
}

char *fixture_text(const char *name)
{
	char *path = g_build_filename(FIXTURES_DIR, name, NULL);
	char *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		fail_msg("cannot read fixture %s", path);
	g_free(path);
	return text;
}

json_object *fixture_json(const char *name)
{
	char *text = fixture_text(name);
	json_object *obj = json_tokener_parse(text);

	if (!obj)
		fail_msg("fixture %s is not JSON", name);
	g_free(text);
	return obj;
}
