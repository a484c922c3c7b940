/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * gpufs-sim: a fake of the providers' HTTP APIs, for tests, the demo and dry runs.
 *
 * The pieces:
 *   server.c    sockets, one thread per connection, keep-alive
 *   http.c      HTTP/1.1 request parsing and response formatting
 *   sim.c       dispatch: /_sim endpoints, provider mounts, routing, latency, auth
 *   counts.c    per-route request counters behind GET /_sim/counts
 *   fault.c     the fault-injection hook (a no-op for now)
 *   runcrate.c  the Runcrate API, mounted at /runcrate/api/v1
 *   novita.c    the Novita API, mounted at /novita/gpu-instance/openapi/v1
 *   vastai.c    the Vast.ai API, mounted at /vastai/api/v0
 *
 * A provider is a struct sim_provider: a mount prefix, a route table, and callbacks for its
 * state, its authentication and its error envelope.  Adding one means a new .c file and one
 * line in sim.c's provider table; nothing else changes.
 */
#ifndef GPUFS_SIM_H
#define GPUFS_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>
#include <json-c/json.h>

#define SIM_MAX_BODY	  (1024 * 1024)
#define SIM_MAX_HEADERS	  100
#define SIM_MAX_PARAMS	  4
#define SIM_MAX_SEGMENTS  16
#define SIM_MAX_PROVIDERS 8

struct sim;

/* Everything the command line decides; read-only once the server runs. */
struct sim_options {
	const char *listen;
	int port;
	const char *port_file;
	gint64 seed;
	gboolean demo; /* GOption writes a gboolean */
	int instances;
	double step_s;
	int latency_ms;
	int page_size;
	const char *runcrate_key;
	const char *novita_key;
	const char *vastai_key;
	int vastai_gap_ms; /* Vast.ai's minimum gap per endpoint, per threshold unit */
};

struct sim_header {
	char *name;
	char *value;
};

struct sim_query_param {
	char *key;
	char *value;
};

/*
 * One parsed request.  Strings point into storage owned by the HTTP layer and live until the
 * response is sent.  path is percent-decoded segment by segment, without the query string.
 */
struct sim_request {
	const char *method;
	const char *target; /* as sent: path and query, still encoded */
	char *path;
	struct sim_header headers[SIM_MAX_HEADERS];
	unsigned n_headers;
	struct sim_query_param *query;
	unsigned n_query;
	const char *body;
	size_t body_len;

	/* Filled by the router: the values of {placeholders}, in pattern order. */
	const char *params[SIM_MAX_PARAMS];
	unsigned n_params;
};

const char *sim_request_header(const struct sim_request *req, const char *name);
const char *sim_request_query(const struct sim_request *req, const char *key);

struct sim_response {
	int status;
	char *body; /* g_malloc'd; NULL for no body */
	size_t body_len;
	const char *content_type; /* NULL means application/json when there is a body */
	GString *extra_headers;	  /* "Name: value\r\n" lines, or NULL */
	bool close;		  /* close the connection after answering */
	/* Set by fault injection (fault.c); the server misbehaves as asked. */
	bool drop;     /* close the connection without answering at all */
	bool truncate; /* send the head and half the body, then close */
	int drip_ms;   /* spread the body over this many ms, then close */
};

void sim_response_init(struct sim_response *resp);
void sim_response_clear(struct sim_response *resp);
/* Serialize obj as the body and drop the reference. */
void sim_response_json(struct sim_response *resp, int status, json_object *obj);
void sim_response_empty(struct sim_response *resp, int status);
void sim_response_add_header(struct sim_response *resp, const char *name, const char *value);

/*
 * A provider route.  pattern is relative to the provider's prefix, without a leading slash,
 * and "{name}" matches one path segment: "instances/{id}/status".  A trailing slash is part
 * of the pattern ("instances/{id}/" for Vast.ai), so the sim is as picky as the real API.
 */
typedef void sim_handler_fn(struct sim *sim, void *state, const struct sim_request *req,
			    struct sim_response *resp);

enum sim_route_flags {
	SIM_ROUTE_NO_AUTH = 1 << 0, /* e.g. Vast.ai's pre-signed log URLs */
};

struct sim_route {
	const char *method;
	const char *pattern;
	sim_handler_fn *handler;
	unsigned flags;
};

struct sim_provider {
	const char *name;
	const char *prefix; /* "/runcrate/api/v1": the mount point, no trailing slash */
	const struct sim_route *routes;
	size_t n_routes;

	/* Build the provider's state (demo and bulk instances too); called under the lock. */
	void *(*init)(struct sim *sim, const struct sim_options *opts);
	void (*fini)(void *state);

	/* Return false after filling resp with the provider's refusal. */
	bool (*authorize)(void *state, const struct sim_request *req, struct sim_response *resp);

	/*
	 * Fill resp with the provider's own error envelope.  code is a lower-case slug
	 * ("not_found", "rate_limited"); the provider maps it to its words.  Used by the router
	 * (404, 405) and by fault injection (429, 500, ...).
	 */
	void (*error)(struct sim_response *resp, int status, const char *code, const char *message);
};

extern const struct sim_provider runcrate_provider;
extern const struct sim_provider novita_provider;
extern const struct sim_provider vastai_provider;

/* sim.c */
struct sim *sim_new(const struct sim_options *opts);
void sim_free(struct sim *sim);
/* Answer one request; safe from any thread. */
void sim_dispatch(struct sim *sim, const struct sim_request *req, struct sim_response *resp);
/* Wake sleepers (latency) so the server can drain quickly. */
void sim_stop(struct sim *sim);

/* The one state mutex: counts, RNG, faults and every provider's state. */
void sim_lock(struct sim *sim);
void sim_unlock(struct sim *sim);
struct sim_faults *sim_faults(struct sim *sim);

/* Microseconds since the Unix epoch, but advancing with the monotonic clock. */
gint64 sim_now_us(const struct sim *sim);
double sim_step_s(const struct sim *sim);
/* The seeded generator; only under the state lock (handlers and init run under it). */
GRand *sim_rand(struct sim *sim);

/* Helpers shared by providers. */
void sim_uuid(struct sim *sim, char out[37]);
/* RFC 3339, UTC, seconds: "2026-05-01T10:00:03Z"; null for 0. */
json_object *sim_json_time(gint64 us);
/* A USD amount with at most 4 decimals, without binary noise. */
json_object *sim_json_usd(double usd);
json_object *sim_json_string_or_null(const char *s);

/* counts.c: "METHOD /template" -> requests; callers hold the state lock. */
struct sim_counts;
struct sim_counts *sim_counts_new(void);
void sim_counts_free(struct sim_counts *counts);
void sim_counts_declare(struct sim_counts *counts, const char *key);
void sim_counts_hit(struct sim_counts *counts, const char *key, bool mutating);
void sim_counts_reset(struct sim_counts *counts);
json_object *sim_counts_json(const struct sim_counts *counts);

/*
 * fault.c: sim_fault_intercept runs for every provider request after counting and latency,
 * before auth and the handler, without the state lock (a fault may sleep; take the lock with
 * sim_lock() to read settings).  Return true after filling resp (provider->error gives a
 * provider-shaped refusal) to answer instead of the provider.  sim_fault_control answers the
 * /_sim endpoints that set faults; it returns false for a path it does not own.
 */
struct sim_faults;
struct sim_faults *sim_faults_new(void);
void sim_faults_free(struct sim_faults *faults);
bool sim_fault_intercept(struct sim *sim, const struct sim_provider *provider,
			 const struct sim_route *route, const struct sim_request *req,
			 struct sim_response *resp);
bool sim_fault_control(struct sim *sim, const struct sim_request *req, struct sim_response *resp);

#endif
