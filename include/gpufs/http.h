/* The one place gpufs talks HTTP: libcurl with keep-alive, timeouts, bounded
 * retries of safe requests, and an account-wide 429 back-off.  Provider modules
 * build paths and bodies; they never touch libcurl. */
#ifndef GPUFS_HTTP_H
#define GPUFS_HTTP_H

#include <glib.h>
#include <json-c/json.h>

struct gpufs_http_options {
	const char *base_url;	 /* "https://www.runcrate.ai/api/v1", no trailing slash */
	const char *bearer;	 /* sent as "Authorization: Bearer ..."; never logged */
	const char *account;	 /* for log lines */
	long connect_timeout_ms; /* default 5000 */
	long timeout_ms;	 /* whole request, default 20000 */
	int max_retries;	 /* safe requests only, default 3 */
	gsize max_body;		 /* replies larger than this fail with EIO; default 16 MiB */
	gboolean read_only;	 /* refuse every mutating request with EROFS */
};

enum gpufs_http_method {
	GPUFS_HTTP_GET,
	GPUFS_HTTP_POST,
	GPUFS_HTTP_PUT,
	GPUFS_HTTP_DELETE,
};

/* A request that changes nothing at the provider (a GET, or a search that
 * happens to be a POST, like Vast.ai's /bundles/): allowed with -o ro and
 * retried on transport errors and 5xx.  Everything else is never retried. */
#define GPUFS_HTTP_SAFE (1u << 0)

struct gpufs_http_reply {
	long status;	    /* HTTP status; 0 when no reply arrived */
	GString *body;	    /* always NUL-terminated; may be empty */
	double retry_after; /* seconds from Retry-After, 0 if absent */
};

struct gpufs_http;

struct gpufs_http *gpufs_http_new(const struct gpufs_http_options *options);
void gpufs_http_free(struct gpufs_http *http);

/* Sends METHOD base_url+path (path starts with '/', may carry a query) with an
 * optional JSON body.  Returns 0 when a reply arrived, whatever its status,
 * and fills @reply (free with gpufs_http_reply_clear); on a transport failure
 * returns -ETIMEDOUT or -EIO (or -EROFS for a refused mutation) and sets
 * *errmsg to words for the user (never containing the key). */
int gpufs_http_request(struct gpufs_http *http, enum gpufs_http_method method, const char *path,
		       const char *json_body, unsigned flags, struct gpufs_http_reply *reply,
		       char **errmsg);
void gpufs_http_reply_clear(struct gpufs_http_reply *reply);

/* Parses a reply body as JSON; NULL (and *errmsg) when it is not JSON. */
json_object *gpufs_http_reply_json(const struct gpufs_http_reply *reply, char **errmsg);

/* The errno a shell should see for an HTTP status that is not 2xx:
 * 401/403 EACCES, 404/410 ENOENT, 400/409/422 EINVAL, 429 EAGAIN, else EIO. */
int gpufs_http_status_errno(long status);

/* URL-escapes one path segment or query value; free with g_free. */
char *gpufs_http_escape(const char *text);

/* Process-wide libcurl set-up; call once before threads start. */
void gpufs_http_global_init(void);
void gpufs_http_global_cleanup(void);

#endif
