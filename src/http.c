/* The one place gpufs talks HTTP.  Each account owns a struct gpufs_http: a
 * pool of libcurl easy handles (each keeps its own connection cache, so
 * requests reuse warm connections), bounded retries for safe requests, and an
 * account-wide pause after a 429 so concurrent threads stop hammering. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <errno.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include "gpufs/blocking.h"
#include "gpufs/http.h"
#include "gpufs/log.h"
#include "http-internal.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#define DEFAULT_CONNECT_TIMEOUT_MS 5000
#define DEFAULT_TIMEOUT_MS	   20000
#define DEFAULT_MAX_RETRIES	   3
#define DEFAULT_MAX_BODY	   ((gsize)16 << 20)
#define BACKOFF_BASE_US		   (250 * G_TIME_SPAN_MILLISECOND)
#define BACKOFF_CAP_US		   (8 * G_TIME_SPAN_SECOND)
/* Idle handles kept per account; more threads than this still get a handle,
 * it is just closed when they give it back. */
#define POOL_IDLE_MAX  8
#define JSON_MAX_DEPTH 64

struct gpufs_http {
	char *base_url;
	char *origin; /* scheme://host[:port], for messages: no path, no userinfo */
	char *account;
	long connect_timeout_ms;
	long timeout_ms;
	int max_retries;
	gsize max_body;
	gboolean read_only;
	struct curl_slist *headers; /* read-only once built, shared by every handle */
	GMutex lock;		    /* guards idle and not_before */
	GPtrArray *idle;	    /* CURL * waiting for a request */
	gint64 not_before;	    /* monotonic us: no request before (429) */
};

/* What one attempt collects from libcurl's callbacks. */
struct transfer {
	GString *body;
	gsize max_body;
	gboolean too_large;
	gboolean have_retry_after;
	double retry_after;
};

static const char *const method_names[] = {
    [GPUFS_HTTP_GET] = "GET",
    [GPUFS_HTTP_POST] = "POST",
    [GPUFS_HTTP_PUT] = "PUT",
    [GPUFS_HTTP_DELETE] = "DELETE",
};

void gpufs_http_global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void gpufs_http_global_cleanup(void)
{
	curl_global_cleanup();
}

double gpufs_http_parse_retry_after(const char *value, time_t now)
{
	const char *end;
	double seconds;
	time_t when;

	if (!value)
		return -1;
	while (g_ascii_isspace(*value))
		value++;
	if (g_ascii_isdigit(*value)) {
		seconds = g_ascii_strtod(value, (char **)&end);
		while (g_ascii_isspace(*end))
			end++;
		if (*end)
			return -1;
		return MIN(seconds, GPUFS_HTTP_RETRY_AFTER_MAX);
	}
	when = curl_getdate(value, NULL);
	if (when == -1)
		return -1;
	if (when <= now)
		return 0;
	return MIN((double)(when - now), GPUFS_HTTP_RETRY_AFTER_MAX);
}

gint64 gpufs_http_backoff_us(int attempt, double jitter)
{
	double delay = (double)BACKOFF_BASE_US * ldexp(1.0, CLAMP(attempt, 0, 16)) * jitter;

	return (gint64)MIN(delay, (double)BACKOFF_CAP_US);
}

static gint64 backoff_us(int attempt)
{
	return gpufs_http_backoff_us(attempt, g_random_double_range(0.75, 1.25));
}

int gpufs_http_status_errno(long status)
{
	if (status >= 200 && status <= 299)
		return 0;
	switch (status) {
	case 401:
	case 403:
		return EACCES;
	case 404:
	case 410:
		return ENOENT;
	case 400:
	case 409:
	case 422:
		return EINVAL;
	case 429:
		return EAGAIN;
	default:
		return EIO;
	}
}

char *gpufs_http_escape(const char *text)
{
	/* No reserved characters allowed: '/', '?', '&' in an id or a value
	 * must not change the URL's structure. */
	return g_uri_escape_string(text ? text : "", NULL, FALSE);
}

/* scheme://host[:port] of @url, so messages name the server without the
 * path or any userinfo. */
static char *url_origin(const char *url)
{
	CURLU *u = curl_url();
	char *scheme = NULL, *host = NULL, *port = NULL;
	char *origin = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK) {
		if (curl_url_get(u, CURLUPART_PORT, &port, 0) == CURLUE_OK)
			origin = g_strdup_printf("%s://%s:%s", scheme, host, port);
		else
			origin = g_strdup_printf("%s://%s", scheme, host);
	}
	curl_free(scheme);
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
	return origin ? origin : g_strdup(url);
}

static struct curl_slist *build_headers(const char *bearer)
{
	struct curl_slist *list = NULL;

	if (bearer && *bearer) {
		char *auth = g_strdup_printf("Authorization: Bearer %s", bearer);

		list = curl_slist_append(list, auth);
		explicit_bzero(auth, strlen(auth));
		g_free(auth);
	}
	list = curl_slist_append(list, "Accept: application/json");
	/* Novita wants it on every request, GET included. */
	list = curl_slist_append(list, "Content-Type: application/json");
	/* No 100-continue round trip for larger bodies. */
	list = curl_slist_append(list, "Expect:");
	list = curl_slist_append(list, "User-Agent: gpufs/" PACKAGE_VERSION);
	return list;
}

/* Wipes the key before the memory goes back to the allocator. */
static void free_headers(struct curl_slist *list)
{
	for (struct curl_slist *item = list; item; item = item->next)
		explicit_bzero(item->data, strlen(item->data));
	curl_slist_free_all(list);
}

/* 0 means "default"; a negative count disables retries. */
static int retries_option(int value)
{
	if (value == 0)
		return DEFAULT_MAX_RETRIES;
	return MAX(value, 0);
}

struct gpufs_http *gpufs_http_new(const struct gpufs_http_options *options)
{
	struct gpufs_http *http = g_new0(struct gpufs_http, 1);
	gsize len;

	http->base_url = g_strdup(options->base_url ? options->base_url : "");
	len = strlen(http->base_url);
	while (len > 0 && http->base_url[len - 1] == '/')
		http->base_url[--len] = '\0';
	http->origin = url_origin(http->base_url);
	http->account = g_strdup(options->account ? options->account : "?");
	http->connect_timeout_ms = options->connect_timeout_ms > 0 ? options->connect_timeout_ms
								   : DEFAULT_CONNECT_TIMEOUT_MS;
	http->timeout_ms = options->timeout_ms > 0 ? options->timeout_ms : DEFAULT_TIMEOUT_MS;
	http->max_retries = retries_option(options->max_retries);
	http->max_body = options->max_body > 0 ? options->max_body : DEFAULT_MAX_BODY;
	http->read_only = options->read_only;
	http->headers = build_headers(options->bearer);
	g_mutex_init(&http->lock);
	http->idle = g_ptr_array_new();
	return http;
}

void gpufs_http_free(struct gpufs_http *http)
{
	if (!http)
		return;
	for (guint i = 0; i < http->idle->len; i++)
		curl_easy_cleanup(g_ptr_array_index(http->idle, i));
	g_ptr_array_free(http->idle, TRUE);
	g_mutex_clear(&http->lock);
	free_headers(http->headers);
	g_free(http->base_url);
	g_free(http->origin);
	g_free(http->account);
	g_free(http);
}

/* The most recently used handle first: its connection is the likeliest to
 * still be open. */
static CURL *pool_take(struct gpufs_http *http)
{
	CURL *handle = NULL;

	g_mutex_lock(&http->lock);
	if (http->idle->len > 0)
		handle = g_ptr_array_remove_index_fast(http->idle, http->idle->len - 1);
	g_mutex_unlock(&http->lock);
	return handle ? handle : curl_easy_init();
}

static void pool_give(struct gpufs_http *http, CURL *handle)
{
	g_mutex_lock(&http->lock);
	if (http->idle->len < POOL_IDLE_MAX) {
		g_ptr_array_add(http->idle, handle);
		handle = NULL;
	}
	g_mutex_unlock(&http->lock);
	if (handle)
		curl_easy_cleanup(handle);
}

static size_t on_body(char *data, size_t size, size_t count, void *opaque)
{
	struct transfer *t = opaque;
	size_t n = size * count;

	if (n > t->max_body - t->body->len) {
		t->too_large = TRUE;
		return 0; /* libcurl aborts with CURLE_WRITE_ERROR */
	}
	g_string_append_len(t->body, data, n);
	return n;
}

static size_t on_header(char *data, size_t size, size_t count, void *opaque)
{
	static const char name[] = "retry-after:";
	struct transfer *t = opaque;
	size_t n = size * count;
	char *value;

	/* A new status line (after a 1xx): forget the previous reply's headers. */
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		t->have_retry_after = FALSE;
		return n;
	}
	if (n < sizeof(name) - 1 || g_ascii_strncasecmp(data, name, sizeof(name) - 1) != 0)
		return n;
	value = g_strndup(data + sizeof(name) - 1, n - (sizeof(name) - 1));
	t->retry_after = gpufs_http_parse_retry_after(g_strstrip(value), time(NULL));
	t->have_retry_after = t->retry_after >= 0;
	g_free(value);
	return n;
}

static void set_method(CURL *handle, enum gpufs_http_method method, const char *json_body)
{
	if (method == GPUFS_HTTP_GET) {
		curl_easy_setopt(handle, CURLOPT_HTTPGET, 1L);
		return;
	}
	if (method != GPUFS_HTTP_POST)
		curl_easy_setopt(handle, CURLOPT_CUSTOMREQUEST, method_names[method]);
	/* A DELETE without a body stays a bodiless request. */
	if (method == GPUFS_HTTP_DELETE && !json_body)
		return;
	curl_easy_setopt(handle, CURLOPT_POSTFIELDS, json_body ? json_body : "");
	curl_easy_setopt(handle, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)(json_body ? strlen(json_body) : 0));
}

static void set_options(struct gpufs_http *http, CURL *handle, const char *url, struct transfer *t,
			long budget_ms, char *errbuf)
{
	/* Reset keeps the connection cache; it clears the last request's
	 * method and body. */
	curl_easy_reset(handle);
	curl_easy_setopt(handle, CURLOPT_URL, url);
	curl_easy_setopt(handle, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(handle, CURLOPT_CONNECTTIMEOUT_MS,
			 MIN(http->connect_timeout_ms, budget_ms));
	/* Covers a slow drip too: libcurl counts the whole transfer. */
	curl_easy_setopt(handle, CURLOPT_TIMEOUT_MS, budget_ms);
	/* A redirect is reported, never followed with the key. */
	curl_easy_setopt(handle, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(handle, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(handle, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(handle, CURLOPT_HTTPHEADER, http->headers);
	curl_easy_setopt(handle, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(handle, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(handle, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(handle, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(handle, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(handle, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(handle, CURLOPT_ERRORBUFFER, errbuf);
}

static gboolean transient(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return TRUE;
	default:
		return FALSE;
	}
}

/* Words for a failed transfer; never the URL's path or any header. */
static int transport_error(struct gpufs_http *http, CURL *handle, CURLcode code,
			   const struct transfer *t, const char *errbuf, char **why)
{
	const char *detail = *errbuf ? errbuf : curl_easy_strerror(code);
	long os_errno = 0;
	char *size;

	switch (code) {
	case CURLE_WRITE_ERROR:
		if (!t->too_large)
			break;
		size = g_format_size_full(http->max_body, G_FORMAT_SIZE_IEC_UNITS);
		*why = g_strdup_printf("reply too large: more than %s from %s", size, http->origin);
		g_free(size);
		return -EIO;
	case CURLE_OPERATION_TIMEDOUT:
		*why = g_strdup_printf("provider timed out: %s (%s)", detail, http->origin);
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(handle, CURLINFO_OS_ERRNO, &os_errno);
		if (os_errno)
			detail = g_strerror((int)os_errno);
		*why = g_strdup_printf("provider unreachable: %s (%s)", detail, http->origin);
		return -EIO;
	case CURLE_COULDNT_RESOLVE_HOST:
		*why = g_strdup_printf("provider unreachable: %s (%s)", detail, http->origin);
		return -EIO;
	default:
		break;
	}
	*why = g_strdup_printf("provider request failed: %s (%s)", detail, http->origin);
	return -EIO;
}

/* 3xx: the base URL is probably wrong; say where the server points. */
static int redirect_error(struct gpufs_http *http, CURL *handle, long status, char **why)
{
	char *location = NULL;

	curl_easy_getinfo(handle, CURLINFO_REDIRECT_URL, &location);
	if (location)
		*why = g_strdup_printf("provider redirected to %s (HTTP %ld): set url in the "
				       "config to the new address",
				       location, status);
	else
		*why = g_strdup_printf("provider answered HTTP %ld without a Location (%s)", status,
				       http->origin);
	return -EIO;
}

/* One attempt.  0 with reply filled when a reply arrived; -errno with *why
 * otherwise.  *code says which transport error it was. */
static int send_once(struct gpufs_http *http, enum gpufs_http_method method, const char *url,
		     const char *path, const char *json_body, gboolean safe, long budget_ms,
		     struct gpufs_http_reply *reply, CURLcode *code, char **why)
{
	struct transfer t = {.body = g_string_new(NULL), .max_body = http->max_body};
	char errbuf[CURL_ERROR_SIZE] = "";
	gint64 start = g_get_monotonic_time();
	int path_len = (int)strcspn(path, "?");
	CURL *handle = pool_take(http);
	int ret = 0;

	if (!handle) {
		g_string_free(t.body, TRUE);
		*code = CURLE_OUT_OF_MEMORY;
		*why = g_strdup("out of memory starting an HTTP request");
		return -ENOMEM;
	}
	set_options(http, handle, url, &t, budget_ms, errbuf);
	set_method(handle, method, json_body);
	/* libcurl silently resends a request whose reused connection died
	 * before a reply: for a create the provider may already have acted,
	 * so a mutation always gets a connection of its own. */
	if (!safe)
		curl_easy_setopt(handle, CURLOPT_FRESH_CONNECT, 1L);
	*code = curl_easy_perform(handle);
	if (*code != CURLE_OK) {
		gpufs_debug("%s: %s %.*s failed after %" G_GINT64_FORMAT " ms: %s", http->account,
			    method_names[method], path_len, path,
			    (g_get_monotonic_time() - start) / 1000, curl_easy_strerror(*code));
		ret = transport_error(http, handle, *code, &t, errbuf, why);
		g_string_free(t.body, TRUE);
		pool_give(http, handle);
		return ret;
	}
	curl_easy_getinfo(handle, CURLINFO_RESPONSE_CODE, &reply->status);
	gpufs_debug("%s: %s %.*s %ld %" G_GSIZE_FORMAT " bytes %" G_GINT64_FORMAT " ms",
		    http->account, method_names[method], path_len, path, reply->status, t.body->len,
		    (g_get_monotonic_time() - start) / 1000);
	reply->body = t.body;
	reply->retry_after = t.have_retry_after ? t.retry_after : 0;
	if (reply->status >= 300 && reply->status <= 399)
		ret = redirect_error(http, handle, reply->status, why);
	/* Retry-After presence matters beyond the public 0-if-absent field. */
	if (reply->status == 429 && !t.have_retry_after)
		reply->retry_after = -1;
	pool_give(http, handle);
	return ret;
}

/* Makes every request of the account wait: the provider asked for a pause
 * (Retry-After) or we pick one (back-off).  Returns the pause, us. */
static gint64 pause_account(struct gpufs_http *http, double retry_after, int attempt)
{
	gint64 pause =
	    retry_after >= 0 ? (gint64)(retry_after * G_USEC_PER_SEC) : backoff_us(attempt);
	gint64 until = g_get_monotonic_time() + pause;

	g_mutex_lock(&http->lock);
	if (until > http->not_before)
		http->not_before = until;
	g_mutex_unlock(&http->lock);
	gpufs_info("%s: rate limited by the provider (HTTP 429): pausing requests for %.1f s",
		   http->account, pause / 1e6);
	return pause;
}

/* Sleeps until the account's pause is over, unless it ends after this
 * request's deadline: then failing now beats hanging a reader. */
static int wait_for_pause(struct gpufs_http *http, gint64 deadline, char **why)
{
	gint64 now = g_get_monotonic_time();
	gint64 until;

	g_mutex_lock(&http->lock);
	until = http->not_before;
	g_mutex_unlock(&http->lock);
	if (until <= now)
		return 0;
	if (until >= deadline) {
		*why = g_strdup_printf("rate limited by the provider: try again in %.0f s (%s)",
				       ceil((until - now) / 1e6), http->origin);
		return -EAGAIN;
	}
	g_usleep(until - now);
	return 0;
}

static void reply_reset(struct gpufs_http_reply *reply)
{
	gpufs_http_reply_clear(reply);
	memset(reply, 0, sizeof(*reply));
}

/* After an attempt: the wait before the next one (us), or -1 to stop. */
static gint64 next_delay(struct gpufs_http *http, gboolean safe, int attempt, int ret,
			 CURLcode code, struct gpufs_http_reply *reply)
{
	gint64 pause;

	if (ret == 0 && reply->status == 429) {
		pause = pause_account(http, reply->retry_after, attempt);
		if (reply->retry_after < 0)
			reply->retry_after = 0;
		if (!safe || attempt >= http->max_retries)
			return -1;
		return pause;
	}
	if (!safe || attempt >= http->max_retries)
		return -1;
	if (ret < 0 && transient(code))
		return backoff_us(attempt);
	if (ret == 0 && reply->status >= 500 && reply->status <= 599)
		return backoff_us(attempt);
	return -1;
}

/* What is left of the request's budget, in whole ms (0 when spent). */
static long budget_left_ms(gint64 deadline)
{
	gint64 left = deadline - g_get_monotonic_time();

	return left >= 1000 ? (long)(left / 1000) : 0;
}

/* The reply of a request that ran out of time between attempts: the last
 * attempt's outcome stands, but a caller must not wait past the deadline. */
static void note_deadline(struct gpufs_http *http, enum gpufs_http_method method, const char *path,
			  int attempt)
{
	gpufs_debug("%s: %s %.*s: no retry after attempt %d: the request's %ld ms are spent",
		    http->account, method_names[method], (int)strcspn(path, "?"), path, attempt + 1,
		    http->timeout_ms);
}

/*
 * One deadline bounds the whole request: every attempt, every back-off and
 * every 429 pause must end within timeout_ms of the call, so a hung or
 * rate-limiting provider blocks a reader at most -o timeout= (not once per
 * retry).  Each attempt gets only what is left of that budget.
 */
int gpufs_http_request(struct gpufs_http *http, enum gpufs_http_method method, const char *path,
		       const char *json_body, unsigned flags, struct gpufs_http_reply *reply,
		       char **errmsg)
{
	gboolean safe = (flags & GPUFS_HTTP_SAFE) != 0;
	gint64 deadline = g_get_monotonic_time() + (gint64)http->timeout_ms * 1000;
	char *url, *why = NULL;
	CURLcode code = CURLE_OK;
	gint64 delay;
	long budget;
	int ret;

	memset(reply, 0, sizeof(*reply));
	if (!safe && http->read_only) {
		if (errmsg)
			*errmsg =
			    g_strdup_printf("mounted read-only: %s %.*s not sent to the provider",
					    method_names[method], (int)strcspn(path, "?"), path);
		return -EROFS;
	}
	gpufs_blocking(); /* the network is slow: other requests go on */
	url = g_strconcat(http->base_url, path, NULL);
	for (int attempt = 0;; attempt++) {
		ret = wait_for_pause(http, deadline, &why);
		if (ret < 0)
			break;
		budget = budget_left_ms(deadline);
		if (budget == 0) {
			why = g_strdup_printf("provider timed out: no reply within %.1f s (%s)",
					      http->timeout_ms / 1000.0, http->origin);
			ret = -ETIMEDOUT;
			break;
		}
		ret =
		    send_once(http, method, url, path, json_body, safe, budget, reply, &code, &why);
		delay = next_delay(http, safe, attempt, ret, code, reply);
		if (delay < 0)
			break;
		if (g_get_monotonic_time() + delay >= deadline) {
			note_deadline(http, method, path, attempt);
			break;
		}
		gpufs_debug("%s: %s %.*s: retry %d of %d in %.2f s", http->account,
			    method_names[method], (int)strcspn(path, "?"), path, attempt + 1,
			    http->max_retries, delay / 1e6);
		reply_reset(reply);
		g_clear_pointer(&why, g_free);
		if (delay > 0)
			g_usleep(delay);
	}
	g_free(url);
	if (ret < 0)
		reply_reset(reply);
	if (errmsg)
		*errmsg = why;
	else
		g_free(why);
	return ret;
}

void gpufs_http_reply_clear(struct gpufs_http_reply *reply)
{
	if (!reply)
		return;
	if (reply->body)
		g_string_free(reply->body, TRUE);
	reply->body = NULL;
}

/* Whitespace up to @len, where the GString's terminating NUL ends it. */
static gboolean only_space(const char *text, gsize from, gsize len)
{
	while (from < len && g_ascii_isspace(text[from]))
		from++;
	return from >= len;
}

json_object *gpufs_http_reply_json(const struct gpufs_http_reply *reply, char **errmsg)
{
	const char *text = reply && reply->body ? reply->body->str : "";
	gsize len = reply && reply->body ? reply->body->len : 0;
	json_tokener *tok = json_tokener_new_ex(JSON_MAX_DEPTH);
	json_object *obj = NULL;

	if (tok && len > 0 && len < G_MAXINT) {
		/* Counting the NUL tells json-c the input ends there, so a bare
		 * number at the end is complete. */
		obj = json_tokener_parse_ex(tok, text, (int)len + 1);
		/* Trailing garbage after a complete value is not JSON either. */
		if (obj && (json_tokener_get_error(tok) != json_tokener_success ||
			    !only_space(text, json_tokener_get_parse_end(tok), len)))
			g_clear_pointer(&obj, json_object_put);
	}
	if (tok)
		json_tokener_free(tok);
	if (!obj && errmsg)
		*errmsg = g_strdup_printf(
		    "provider sent a reply that is not JSON (HTTP %ld, %" G_GSIZE_FORMAT " bytes)",
		    reply ? reply->status : 0L, len);
	return obj;
}
