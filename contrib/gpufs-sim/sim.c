// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The core of gpufs-sim: which provider a path belongs to, which of its routes it names,
 * counting, latency, the fault hook, authentication, then the handler under the state lock.
 */
#include <string.h>
#include <time.h>

#include "sim.h"

/* Every provider the sim serves.  Adding one: its .c file, an extern in sim.h, a line here. */
static const struct sim_provider *const providers[] = {
    &runcrate_provider,
    &novita_provider,
    &vastai_provider,
};

#define N_PROVIDERS G_N_ELEMENTS(providers)
G_STATIC_ASSERT(G_N_ELEMENTS(providers) <= SIM_MAX_PROVIDERS);

struct sim {
	GMutex lock;
	GRand *rand;
	const struct sim_options *opts;
	gint64 epoch_real_us;
	gint64 epoch_mono_us;
	struct sim_counts *counts;
	struct sim_faults *faults;
	void *states[SIM_MAX_PROVIDERS];

	/* Separate from the state lock: sleepers wait on it, and stopping wakes them. */
	GMutex stop_lock;
	GCond stop_cond;
	bool stopping;
};

void sim_lock(struct sim *sim)
{
	g_mutex_lock(&sim->lock);
}

void sim_unlock(struct sim *sim)
{
	g_mutex_unlock(&sim->lock);
}

struct sim_faults *sim_faults(struct sim *sim)
{
	return sim->faults;
}

gint64 sim_now_us(const struct sim *sim)
{
	return sim->epoch_real_us + (g_get_monotonic_time() - sim->epoch_mono_us);
}

double sim_step_s(const struct sim *sim)
{
	return sim->opts->step_s;
}

GRand *sim_rand(struct sim *sim)
{
	return sim->rand;
}

const char *sim_request_header(const struct sim_request *req, const char *name)
{
	for (unsigned i = 0; i < req->n_headers; i++) {
		if (!g_ascii_strcasecmp(req->headers[i].name, name))
			return req->headers[i].value;
	}
	return NULL;
}

const char *sim_request_query(const struct sim_request *req, const char *key)
{
	for (unsigned i = 0; i < req->n_query; i++) {
		if (req->query[i].key && !strcmp(req->query[i].key, key))
			return req->query[i].value;
	}
	return NULL;
}

void sim_response_init(struct sim_response *resp)
{
	memset(resp, 0, sizeof(*resp));
	resp->status = 500;
}

void sim_response_clear(struct sim_response *resp)
{
	g_free(resp->body);
	if (resp->extra_headers)
		g_string_free(resp->extra_headers, TRUE);
	memset(resp, 0, sizeof(*resp));
}

void sim_response_json(struct sim_response *resp, int status, json_object *obj)
{
	size_t len;
	const char *text = json_object_to_json_string_length(
	    obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	g_free(resp->body);
	resp->status = status;
	resp->body = g_strndup(text, len);
	resp->body_len = len;
	json_object_put(obj);
}

void sim_response_empty(struct sim_response *resp, int status)
{
	g_free(resp->body);
	resp->status = status;
	resp->body = NULL;
	resp->body_len = 0;
}

void sim_response_add_header(struct sim_response *resp, const char *name, const char *value)
{
	if (!resp->extra_headers)
		resp->extra_headers = g_string_new(NULL);
	g_string_append_printf(resp->extra_headers, "%s: %s\r\n", name, value);
}

void sim_uuid(struct sim *sim, char out[37])
{
	guint8 b[16];

	for (unsigned i = 0; i < sizeof(b); i += 4) {
		guint32 r = g_rand_int(sim->rand);

		memcpy(b + i, &r, 4);
	}
	b[6] = (guint8)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (guint8)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	g_snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		   b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		   b[13], b[14], b[15]);
}

json_object *sim_json_time(gint64 us)
{
	time_t secs = (time_t)(us / G_USEC_PER_SEC);
	char text[32];
	struct tm tm;

	if (!us)
		return NULL;
	gmtime_r(&secs, &tm);
	strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_object_new_string(text);
}

json_object *sim_json_usd(double usd)
{
	char text[G_ASCII_DTOSTR_BUF_SIZE];
	char *end;

	/*
	 * json-c prints doubles with %.17g (0.08 becomes 0.080000000000000002); write the text
	 * ourselves, as a JavaScript server would: 4 decimals at most, no trailing zeros.
	 */
	g_ascii_formatd(text, sizeof(text), "%.4f", usd);
	end = text + strlen(text);
	while (end[-1] == '0')
		*--end = '\0';
	if (end[-1] == '.')
		*--end = '\0';
	if (!strcmp(text, "-0"))
		strcpy(text, "0");
	return json_object_new_double_s(g_ascii_strtod(text, NULL), text);
}

json_object *sim_json_string_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* Sleep, but wake early when the server stops so shutdown stays prompt. */
static void sim_sleep_ms(struct sim *sim, int ms)
{
	gint64 deadline = g_get_monotonic_time() + (gint64)ms * 1000;

	g_mutex_lock(&sim->stop_lock);
	while (!sim->stopping && g_cond_wait_until(&sim->stop_cond, &sim->stop_lock, deadline))
		;
	g_mutex_unlock(&sim->stop_lock);
}

void sim_stop(struct sim *sim)
{
	g_mutex_lock(&sim->stop_lock);
	sim->stopping = true;
	g_cond_broadcast(&sim->stop_cond);
	g_mutex_unlock(&sim->stop_lock);
}

/* "/a/b" is under "/a" and is "/a" itself; "/ab" is not. */
static const char *path_under(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);

	if (strncmp(path, prefix, n) != 0)
		return NULL;
	if (path[n] != '\0' && path[n] != '/')
		return NULL;
	return path + n;
}

static bool segment_is_param(const char *segment)
{
	size_t n = strlen(segment);

	return n > 2 && segment[0] == '{' && segment[n - 1] == '}';
}

/* Match rest ("instances/abc") against a pattern; fills req->params on success. */
static bool route_matches(const char *pattern, char **segments, struct sim_request *req)
{
	char **parts = g_strsplit(pattern, "/", SIM_MAX_SEGMENTS + 1);
	unsigned i, n_params = 0;
	bool ok = true;

	for (i = 0; parts[i] && segments[i] && ok; i++) {
		if (segment_is_param(parts[i])) {
			ok = segments[i][0] != '\0' && n_params < SIM_MAX_PARAMS;
			if (ok)
				req->params[n_params++] = segments[i];
		} else {
			ok = strcmp(parts[i], segments[i]) == 0;
		}
	}
	ok = ok && !parts[i] && !segments[i];
	g_strfreev(parts);
	if (ok)
		req->n_params = n_params;
	return ok;
}

static bool method_listed(const char *allow, const char *method)
{
	char **methods = g_strsplit(allow, ", ", -1);
	bool listed = g_strv_contains((const char *const *)methods, method);

	g_strfreev(methods);
	return listed;
}

/*
 * The first route whose pattern and method both match.  *path_route is set to the first route
 * whose pattern matches at all, so a wrong method is told apart (405) from an unknown path, and
 * allow collects the methods the path takes, for the Allow header.
 */
static const struct sim_route *find_route(const struct sim_provider *p, char **segments,
					  struct sim_request *req,
					  const struct sim_route **path_route, GString *allow)
{
	*path_route = NULL;
	for (size_t i = 0; i < p->n_routes; i++) {
		const struct sim_route *r = &p->routes[i];

		if (!route_matches(r->pattern, segments, req))
			continue;
		if (!*path_route)
			*path_route = r;
		if (!strcmp(r->method, req->method))
			return r;
		if (!method_listed(allow->str, r->method))
			g_string_append_printf(allow, "%s%s", allow->len ? ", " : "", r->method);
	}
	req->n_params = 0;
	return NULL;
}

static char *count_key(const struct sim_provider *p, const struct sim_route *route,
		       const struct sim_request *req)
{
	if (route)
		return g_strdup_printf("%s %s/%s", req->method, p->prefix, route->pattern);
	return g_strdup_printf("%s %s", req->method, req->path);
}

/* Reading methods change nothing at the provider; everything else counts as mutating. */
static bool method_mutates(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0;
}

static void answer_no_route(const struct sim_provider *p, const struct sim_route *path_route,
			    const char *allow, struct sim_response *resp)
{
	if (!path_route) {
		p->error(resp, 404, "not_found", "Not found");
		return;
	}
	p->error(resp, 405, "method_not_allowed", "Method not allowed");
	sim_response_add_header(resp, "Allow", allow);
}

static void provider_dispatch(struct sim *sim, size_t index, const struct sim_request *req,
			      struct sim_response *resp)
{
	const struct sim_provider *p = providers[index];
	const struct sim_route *route, *path_route;
	struct sim_request routed = *req;
	const char *rest = path_under(req->path, p->prefix);
	GString *allow = g_string_new(NULL);
	char **segments;
	char *key;

	/* "" and "/" under the prefix both split to segments that no pattern matches. */
	segments = g_strsplit(rest[0] == '/' ? rest + 1 : rest, "/", SIM_MAX_SEGMENTS + 1);
	route = find_route(p, segments, &routed, &path_route, allow);
	key = count_key(p, route ? route : path_route, req);

	sim_lock(sim);
	sim_counts_hit(sim->counts, key, method_mutates(req->method));
	sim_unlock(sim);
	g_free(key);

	if (sim->opts->latency_ms > 0)
		sim_sleep_ms(sim, sim->opts->latency_ms);

	if (sim_fault_intercept(sim, p, route, &routed, resp))
		goto out;
	/* Auth before routing errors: the real APIs refuse a bad key whatever the path. */
	if (!(route && (route->flags & SIM_ROUTE_NO_AUTH)) &&
	    !p->authorize(sim->states[index], &routed, resp))
		goto out;
	if (!route) {
		answer_no_route(p, path_route, allow->str, resp);
		goto out;
	}
	sim_lock(sim);
	route->handler(sim, sim->states[index], &routed, resp);
	sim_unlock(sim);
out:
	g_string_free(allow, TRUE);
	g_strfreev(segments);
}

static void sim_error(struct sim_response *resp, int status, const char *message)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "error", json_object_new_string(message));
	sim_response_json(resp, status, obj);
}

static void sim_health(struct sim *sim, struct sim_response *resp)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "ok", json_object_new_boolean(1));
	sim_response_json(resp, 200, obj);
}

static void sim_counts_get(struct sim *sim, struct sim_response *resp)
{
	json_object *obj;

	sim_lock(sim);
	obj = sim_counts_json(sim->counts);
	sim_unlock(sim);
	sim_response_json(resp, 200, obj);
}

static void sim_reset(struct sim *sim, struct sim_response *resp)
{
	sim_lock(sim);
	sim_counts_reset(sim->counts);
	sim_unlock(sim);
	sim_response_json(resp, 200, json_object_new_object());
}

/* The harness's own endpoints: no auth, never counted, never delayed. */
static const struct {
	const char *method;
	const char *path;
	void (*handler)(struct sim *sim, struct sim_response *resp);
} control_routes[] = {
    {"GET", "/_sim/health", sim_health},
    {"GET", "/_sim/counts", sim_counts_get},
    {"POST", "/_sim/reset", sim_reset},
};

static void sim_control(struct sim *sim, const struct sim_request *req, struct sim_response *resp)
{
	for (size_t i = 0; i < G_N_ELEMENTS(control_routes); i++) {
		if (strcmp(req->path, control_routes[i].path) != 0)
			continue;
		if (strcmp(req->method, control_routes[i].method) != 0) {
			sim_error(resp, 405, "method not allowed");
			sim_response_add_header(resp, "Allow", control_routes[i].method);
			return;
		}
		control_routes[i].handler(sim, resp);
		return;
	}
	if (!sim_fault_control(sim, req, resp))
		sim_error(resp, 404, "no such /_sim endpoint");
}

void sim_dispatch(struct sim *sim, const struct sim_request *req, struct sim_response *resp)
{
	if (path_under(req->path, "/_sim")) {
		sim_control(sim, req, resp);
		return;
	}
	for (size_t i = 0; i < N_PROVIDERS; i++) {
		if (path_under(req->path, providers[i]->prefix)) {
			provider_dispatch(sim, i, req, resp);
			return;
		}
	}
	sim_error(resp, 404, "no provider is mounted at this path");
}

/* Every route starts at 0 in /_sim/counts, so a test can assert "never called". */
static void declare_routes(struct sim *sim, const struct sim_provider *p)
{
	for (size_t i = 0; i < p->n_routes; i++) {
		char *key = g_strdup_printf("%s %s/%s", p->routes[i].method, p->prefix,
					    p->routes[i].pattern);

		sim_counts_declare(sim->counts, key);
		g_free(key);
	}
}

struct sim *sim_new(const struct sim_options *opts)
{
	struct sim *sim = g_new0(struct sim, 1);
	/* GRand takes 32-bit words; use both halves so every 64-bit seed differs. */
	guint32 seed[2] = {(guint32)opts->seed, (guint32)((guint64)opts->seed >> 32)};

	g_mutex_init(&sim->lock);
	g_mutex_init(&sim->stop_lock);
	g_cond_init(&sim->stop_cond);
	sim->opts = opts;
	sim->rand = g_rand_new_with_seed_array(seed, G_N_ELEMENTS(seed));
	sim->epoch_real_us = g_get_real_time();
	sim->epoch_mono_us = g_get_monotonic_time();
	sim->counts = sim_counts_new();
	sim->faults = sim_faults_new();

	sim_lock(sim);
	for (size_t i = 0; i < N_PROVIDERS; i++) {
		declare_routes(sim, providers[i]);
		sim->states[i] = providers[i]->init(sim, opts);
	}
	sim_unlock(sim);
	return sim;
}

void sim_free(struct sim *sim)
{
	for (size_t i = 0; i < N_PROVIDERS; i++)
		providers[i]->fini(sim->states[i]);
	sim_faults_free(sim->faults);
	sim_counts_free(sim->counts);
	g_rand_free(sim->rand);
	g_cond_clear(&sim->stop_cond);
	g_mutex_clear(&sim->stop_lock);
	g_mutex_clear(&sim->lock);
	g_free(sim);
}
