// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The Runcrate infrastructure API (v1), after /work/shared/providers/runcrate.md.  It refuses
 * what the real API refuses: a sim that accepts more than the real API hides client bugs.
 *
 * Instances move through their states by the clock, not by timers: each keeps the times at
 * which it enters deploying, running, error and terminated, and its status is whatever those
 * say about "now".  The list is newest first; a page cursor names the last instance shown,
 * so creating or deleting instances while a client pages neither repeats nor skips any.
 */
#include <ctype.h>
#include <string.h>

#include "sim.h"

#define RC_NAME_MAX	 64
#define RC_DEFAULT_IMAGE "ubuntu-22.04"
#define RC_CREDITS	 42.5
#define RC_CURSOR_PREFIX "rc1:"
#define RC_INT_FIELD_MAX 1000000
/* Terminated instances stay in the list this many steps, then are gone (404). */
#define RC_TERMINATED_STEPS 2

struct rc_type {
	const char *id;
	const char *gpu_type;
	int gpu_count;
	int cpu_cores;
	int memory_gb;
	int storage_gb;
	const char *region;
	const char *deployment_type;
	double hourly_rate;
	bool in_stock; /* listed either way: the notes say types may list out-of-stock SKUs */
};

/* Sorted by hourly_rate: GET /instances/types answers cheapest first. */
static const struct rc_type rc_types[] = {
    {"sleepy-archimedes-cpu_small-de28", "CPU", 0, 4, 16, 50, "us-east", NULL, 0.08, true},
    {"focused-neumann-rtx4090-3615", "rtx4090", 1, 16, 64, 200, "eu-west", NULL, 0.39, true},
    {"keen-hopper-rtx4090-9b21", "rtx4090", 1, 12, 48, 150, "us-east", NULL, 0.44, true},
    {"bold-tesla-a6000-fa6f", "a6000", 1, 8, 48, 100, "us-east", NULL, 0.49, true},
    {"quirky-lovelace-a100-7c3e", "a100", 1, 16, 128, 300, "us-west", NULL, 1.29, true},
    {"gentle-noether-a100-51d2", "a100", 1, 24, 160, 400, "eu-west", "vm", 1.39, true},
    {"brave-curie-h100-2e90", "h100-sxm", 1, 16, 128, 200, "us-east", NULL, 2.49, true},
    {"stoic-tharp-h100x2-4d7a", "h100-sxm", 2, 32, 256, 400, "us-east", NULL, 4.98, true},
    {"eager-turing-h100x8-a1c5", "h100-sxm", 8, 128, 1024, 2000, "eu-west", "vm", 19.92, false},
};

enum rc_status {
	RC_STARTING,
	RC_DEPLOYING,
	RC_RUNNING,
	RC_ERROR,
	RC_TERMINATED,
};

static const char *const rc_status_names[] = {
    [RC_STARTING] = "starting", [RC_DEPLOYING] = "deploying",	[RC_RUNNING] = "running",
    [RC_ERROR] = "error",	[RC_TERMINATED] = "terminated",
};

struct rc_instance {
	guint64 seq; /* creation order; the list and its cursors follow it */
	char id[37];
	char *name;
	const struct rc_type *type;
	int storage_gb;
	char *os_image;
	guint32 ip; /* shown only while running */
	/* When each state begins, in sim microseconds; 0 = never. */
	gint64 created_us;
	gint64 deploying_us;
	gint64 running_us;
	gint64 error_us;
	gint64 terminated_us;
};

struct rc_state {
	struct sim *sim;
	const char *key;
	int page_size;
	GPtrArray *instances; /* struct rc_instance *, by seq ascending; owns them */
	GHashTable *by_id;    /* id -> struct rc_instance * */
	GQueue terminated;    /* in termination order, so expiry is first in, first out */
	guint64 next_seq;
};

/* ---- instances and their states ---- */

static gint64 rc_step_us(const struct rc_state *rc)
{
	return (gint64)(sim_step_s(rc->sim) * G_USEC_PER_SEC);
}

static enum rc_status rc_status_at(const struct rc_instance *in, gint64 now)
{
	if (in->terminated_us && now >= in->terminated_us)
		return RC_TERMINATED;
	if (in->error_us && now >= in->error_us)
		return RC_ERROR;
	if (now >= in->running_us)
		return RC_RUNNING;
	if (now >= in->deploying_us)
		return RC_DEPLOYING;
	return RC_STARTING;
}

/* When the instance entered the status it has now. */
static gint64 rc_updated_us(const struct rc_instance *in, enum rc_status status)
{
	switch (status) {
	case RC_TERMINATED:
		return in->terminated_us;
	case RC_ERROR:
		return in->error_us;
	case RC_RUNNING:
		return in->running_us;
	case RC_DEPLOYING:
		return in->deploying_us;
	default:
		return in->created_us;
	}
}

/* deployed_at: set once the instance reached running, and kept after it is terminated. */
static gint64 rc_deployed_us(const struct rc_instance *in, gint64 now)
{
	if (now < in->running_us)
		return 0;
	if (in->error_us && in->error_us <= in->running_us)
		return 0;
	if (in->terminated_us && in->terminated_us <= in->running_us)
		return 0;
	return in->running_us;
}

/*
 * Addresses from 198.18.0.0/15, the block reserved for benchmarks (RFC 2544): never a real
 * host, and unique for the first 128,000 instances.
 */
static guint32 rc_ip_for_seq(guint64 seq)
{
	guint32 index = (guint32)(seq % 128000);

	return (198u << 24) | ((18u + index / 250 / 256) << 16) | ((index / 250 % 256) << 8) |
	       (index % 250 + 2);
}

static json_object *rc_ip_json(const struct rc_instance *in, enum rc_status status)
{
	char text[16];

	if (status != RC_RUNNING)
		return NULL;
	g_snprintf(text, sizeof(text), "%u.%u.%u.%u", in->ip >> 24, (in->ip >> 16) & 0xff,
		   (in->ip >> 8) & 0xff, in->ip & 0xff);
	return json_object_new_string(text);
}

static json_object *rc_instance_json(const struct rc_instance *in, gint64 now)
{
	enum rc_status status = rc_status_at(in, now);
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "id", json_object_new_string(in->id));
	json_object_object_add(obj, "name", json_object_new_string(in->name));
	json_object_object_add(obj, "status", json_object_new_string(rc_status_names[status]));
	json_object_object_add(obj, "gpu_type", json_object_new_string(in->type->gpu_type));
	json_object_object_add(obj, "gpu_count", json_object_new_int(in->type->gpu_count));
	json_object_object_add(obj, "cpu_cores", json_object_new_int(in->type->cpu_cores));
	json_object_object_add(obj, "memory", json_object_new_int(in->type->memory_gb));
	json_object_object_add(obj, "storage", json_object_new_int(in->storage_gb));
	json_object_object_add(obj, "region", json_object_new_string(in->type->region));
	json_object_object_add(obj, "ip", rc_ip_json(in, status));
	json_object_object_add(obj, "os_image", json_object_new_string(in->os_image));
	json_object_object_add(obj, "cost_per_hour", sim_json_usd(in->type->hourly_rate));
	json_object_object_add(obj, "deployed_at", sim_json_time(rc_deployed_us(in, now)));
	json_object_object_add(obj, "created_at", sim_json_time(in->created_us));
	json_object_object_add(obj, "updated_at", sim_json_time(rc_updated_us(in, status)));
	return obj;
}

/* A new instance, starting at created_us and running two steps later. */
static struct rc_instance *rc_instance_add(struct rc_state *rc, const char *name,
					   const struct rc_type *type, gint64 created_us)
{
	struct rc_instance *in = g_new0(struct rc_instance, 1);
	gint64 step = rc_step_us(rc);

	in->seq = ++rc->next_seq;
	sim_uuid(rc->sim, in->id);
	in->name = g_strdup(name);
	in->type = type;
	in->storage_gb = type->storage_gb;
	in->os_image = g_strdup(RC_DEFAULT_IMAGE);
	in->ip = rc_ip_for_seq(in->seq);
	in->created_us = created_us;
	in->deploying_us = created_us + step;
	in->running_us = created_us + 2 * step;
	g_ptr_array_add(rc->instances, in);
	g_hash_table_insert(rc->by_id, in->id, in);
	return in;
}

/* The template the instance boots from is what it reports as os_image. */
static void rc_set_image(struct rc_instance *in, const char *image)
{
	g_free(in->os_image);
	in->os_image = g_strdup(image);
}

static void rc_instance_free(gpointer data)
{
	struct rc_instance *in = data;

	g_free(in->name);
	g_free(in->os_image);
	g_free(in);
}

static void rc_terminate(struct rc_state *rc, struct rc_instance *in, gint64 now)
{
	in->terminated_us = now;
	g_queue_push_tail(&rc->terminated, in);
}

/* Index of seq in the instance array (sorted by seq), or -1. */
static gint64 rc_index_of(const struct rc_state *rc, guint64 seq)
{
	guint lo = 0, hi = rc->instances->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;
		const struct rc_instance *in = rc->instances->pdata[mid];

		if (in->seq == seq)
			return mid;
		if (in->seq < seq)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Forget terminated instances whose time in the list is over: from now on they are 404. */
static void rc_expire(struct rc_state *rc, gint64 now)
{
	gint64 keep = RC_TERMINATED_STEPS * rc_step_us(rc);
	struct rc_instance *in;

	while ((in = g_queue_peek_head(&rc->terminated)) && now >= in->terminated_us + keep) {
		gint64 index = rc_index_of(rc, in->seq);

		g_queue_pop_head(&rc->terminated);
		g_hash_table_remove(rc->by_id, in->id);
		if (index >= 0)
			g_ptr_array_remove_index(rc->instances, (guint)index); /* frees it */
	}
}

static const struct rc_type *rc_type_by_id(const char *id)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rc_types); i++) {
		if (!strcmp(rc_types[i].id, id))
			return &rc_types[i];
	}
	return NULL;
}

/* ---- responses ---- */

static json_object *rc_error_json(const char *code, const char *message)
{
	json_object *err = json_object_new_object();
	json_object *obj = json_object_new_object();

	json_object_object_add(err, "code", json_object_new_string(code));
	json_object_object_add(err, "message", json_object_new_string(message));
	json_object_object_add(obj, "error", err);
	return obj;
}

static void rc_error(struct sim_response *resp, int status, const char *code, const char *message)
{
	sim_response_json(resp, status, rc_error_json(code, message));
}

/* 400 validation_error with details.field, as the SDKs' exception tables expect. */
G_GNUC_PRINTF(3, 4)
static void rc_invalid(struct sim_response *resp, const char *field, const char *fmt, ...)
{
	json_object *obj, *details = json_object_new_object();
	va_list ap;
	char *message;

	va_start(ap, fmt);
	message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	obj = rc_error_json("validation_error", message);
	g_free(message);
	json_object_object_add(details, "field", json_object_new_string(field));
	json_object_object_add(json_object_object_get(obj, "error"), "details", details);
	sim_response_json(resp, 400, obj);
}

static void rc_not_found(struct sim_response *resp)
{
	rc_error(resp, 404, "not_found", "Instance not found");
}

static void rc_data(struct sim_response *resp, int status, json_object *data)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "data", data);
	sim_response_json(resp, status, obj);
}

static json_object *rc_meta(gint64 total, bool has_more, const char *cursor)
{
	json_object *meta = json_object_new_object();

	json_object_object_add(meta, "total", json_object_new_int64(total));
	json_object_object_add(meta, "hasMore", json_object_new_boolean(has_more));
	json_object_object_add(meta, "cursor", sim_json_string_or_null(cursor));
	return meta;
}

static void rc_list(struct sim_response *resp, json_object *data, json_object *meta)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "data", data);
	json_object_object_add(obj, "meta", meta);
	sim_response_json(resp, 200, obj);
}

static bool rc_authorize(void *state, const struct sim_request *req, struct sim_response *resp)
{
	const struct rc_state *rc = state;
	const char *auth = sim_request_header(req, "Authorization");

	if (!auth || !*auth) {
		rc_error(resp, 401, "unauthorized", "Missing API key: send Authorization: Bearer");
		return false;
	}
	if (g_ascii_strncasecmp(auth, "Bearer ", 7) != 0) {
		rc_error(resp, 401, "unauthorized", "Authorization must use the Bearer scheme");
		return false;
	}
	if (strcmp(auth + 7, rc->key) != 0) {
		rc_error(resp, 401, "unauthorized", "Invalid API key");
		return false;
	}
	return true;
}

/* ---- GET /instances ---- */

/* The cursor is opaque to clients: base64 of "rc1:<seq of the last instance shown>". */
static char *rc_cursor_encode(guint64 seq)
{
	char *plain = g_strdup_printf(RC_CURSOR_PREFIX "%" G_GUINT64_FORMAT, seq);
	char *cursor = g_base64_encode((const guchar *)plain, strlen(plain));

	g_free(plain);
	return cursor;
}

static bool rc_cursor_decode(const char *cursor, guint64 *seq)
{
	gsize len = 0;
	char *plain;
	const char *digits;
	bool ok;

	/* g_base64_decode skips junk silently; insist on the alphabet first. */
	for (const char *c = cursor; *c; c++) {
		if (!isalnum((unsigned char)*c) && !strchr("+/=", *c))
			return false;
	}
	plain = (char *)g_base64_decode(cursor, &len);
	plain = g_realloc(plain, len + 1);
	plain[len] = '\0';
	digits = plain + strlen(RC_CURSOR_PREFIX);
	ok = len > strlen(RC_CURSOR_PREFIX) && g_str_has_prefix(plain, RC_CURSOR_PREFIX) &&
	     strspn(digits, "0123456789") == strlen(digits) && strlen(digits) <= 19;
	if (ok)
		*seq = g_ascii_strtoull(digits, NULL, 10);
	g_free(plain);
	return ok;
}

static void rc_get_instances(struct sim *sim, void *state, const struct sim_request *req,
			     struct sim_response *resp)
{
	struct rc_state *rc = state;
	const char *search = sim_request_query(req, "search");
	const char *cursor = sim_request_query(req, "cursor");
	guint64 before = G_MAXUINT64, last_seq = 0;
	json_object *data = json_object_new_array();
	gint64 now = sim_now_us(sim), total = 0;
	bool has_more = false;
	char *next = NULL;

	if (cursor && *cursor && !rc_cursor_decode(cursor, &before)) {
		json_object_put(data);
		rc_invalid(resp, "cursor", "Invalid cursor");
		return;
	}
	if (search && !*search)
		search = NULL;
	rc_expire(rc, now);
	for (guint i = rc->instances->len; i-- > 0;) {
		const struct rc_instance *in = rc->instances->pdata[i];

		if (search && !strcasestr(in->name, search))
			continue;
		total++;
		if (in->seq >= before)
			continue;
		if (json_object_array_length(data) < (size_t)rc->page_size) {
			json_object_array_add(data, rc_instance_json(in, now));
			last_seq = in->seq;
		} else {
			has_more = true;
		}
	}
	if (has_more)
		next = rc_cursor_encode(last_seq);
	rc_list(resp, data, rc_meta(total, has_more, next));
	g_free(next);
}

/* ---- GET /instances/{id}, /instances/{id}/status, DELETE /instances/{id} ---- */

static struct rc_instance *rc_lookup(struct rc_state *rc, const char *id, gint64 now)
{
	rc_expire(rc, now);
	return g_hash_table_lookup(rc->by_id, id);
}

static void rc_get_instance(struct sim *sim, void *state, const struct sim_request *req,
			    struct sim_response *resp)
{
	gint64 now = sim_now_us(sim);
	const struct rc_instance *in = rc_lookup(state, req->params[0], now);

	if (!in) {
		rc_not_found(resp);
		return;
	}
	rc_data(resp, 200, rc_instance_json(in, now));
}

static void rc_get_status(struct sim *sim, void *state, const struct sim_request *req,
			  struct sim_response *resp)
{
	gint64 now = sim_now_us(sim);
	const struct rc_instance *in = rc_lookup(state, req->params[0], now);
	enum rc_status status;
	json_object *data;

	if (!in) {
		rc_not_found(resp);
		return;
	}
	status = rc_status_at(in, now);
	data = json_object_new_object();
	json_object_object_add(data, "id", json_object_new_string(in->id));
	json_object_object_add(data, "status", json_object_new_string(rc_status_names[status]));
	json_object_object_add(data, "ip", rc_ip_json(in, status));
	rc_data(resp, 200, data);
}

/*
 * The notes leave a second DELETE open.  An already-terminated instance answers 404 here: the
 * stricter choice, so a client that retries a terminate must treat 404 as done.
 */
static void rc_delete_instance(struct sim *sim, void *state, const struct sim_request *req,
			       struct sim_response *resp)
{
	struct rc_state *rc = state;
	gint64 now = sim_now_us(sim);
	struct rc_instance *in = rc_lookup(rc, req->params[0], now);

	if (!in || rc_status_at(in, now) == RC_TERMINATED) {
		rc_not_found(resp);
		return;
	}
	rc_terminate(rc, in, now);
	sim_response_empty(resp, 204);
}

/* ---- GET /instances/types ---- */

/* A positive integer query value; false for anything else. */
static bool parse_positive_int(const char *text, int *out)
{
	char *end;
	gint64 value;

	if (!text || !isdigit((unsigned char)*text))
		return false;
	value = g_ascii_strtoll(text, &end, 10);
	if (*end || value < 1 || value > RC_INT_FIELD_MAX)
		return false;
	*out = (int)value;
	return true;
}

static json_object *rc_type_json(const struct rc_type *t)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "id", json_object_new_string(t->id));
	json_object_object_add(obj, "gpu_type", json_object_new_string(t->gpu_type));
	json_object_object_add(obj, "gpu_count", json_object_new_int(t->gpu_count));
	json_object_object_add(obj, "cpu_cores", json_object_new_int(t->cpu_cores));
	json_object_object_add(obj, "memory_gb", json_object_new_int(t->memory_gb));
	json_object_object_add(obj, "storage_gb", json_object_new_int(t->storage_gb));
	json_object_object_add(obj, "region", json_object_new_string(t->region));
	json_object_object_add(obj, "deployment_type", sim_json_string_or_null(t->deployment_type));
	json_object_object_add(obj, "hourly_rate", sim_json_usd(t->hourly_rate));
	return obj;
}

/*
 * What a type must match.  GPU names are compared without case: the sources disagree
 * ("h100-sxm" in the docs, "A100" in SDK fixtures, "CPU" live).
 */
struct rc_type_filter {
	const char *gpu_type;
	const char *region; /* NULL or "auto": anywhere */
	int gpu_count;	    /* 0: any */
	int min_cpu_cores;
	int min_memory_gb;
};

static bool rc_type_matches(const struct rc_type *t, const struct rc_type_filter *f)
{
	if (f->gpu_type && g_ascii_strcasecmp(t->gpu_type, f->gpu_type) != 0)
		return false;
	if (f->region && g_ascii_strcasecmp(f->region, "auto") != 0 &&
	    g_ascii_strcasecmp(t->region, f->region) != 0)
		return false;
	if (f->gpu_count && t->gpu_count != f->gpu_count)
		return false;
	return t->cpu_cores >= f->min_cpu_cores && t->memory_gb >= f->min_memory_gb;
}

/* An empty query value ("?gpu_type=") filters nothing, as if it were absent. */
static const char *query_or_null(const struct sim_request *req, const char *key)
{
	const char *value = sim_request_query(req, key);

	return value && *value ? value : NULL;
}

static void rc_get_types(struct sim *sim, void *state, const struct sim_request *req,
			 struct sim_response *resp)
{
	struct rc_type_filter filter = {
	    .gpu_type = query_or_null(req, "gpu_type"),
	    .region = query_or_null(req, "region"),
	};
	const char *gpu_count = query_or_null(req, "gpu_count");
	json_object *data;

	if (gpu_count && !parse_positive_int(gpu_count, &filter.gpu_count)) {
		rc_invalid(resp, "gpu_count", "gpu_count must be an integer >= 1");
		return;
	}
	data = json_object_new_array();
	for (size_t i = 0; i < G_N_ELEMENTS(rc_types); i++) {
		if (rc_type_matches(&rc_types[i], &filter))
			json_object_array_add(data, rc_type_json(&rc_types[i]));
	}
	rc_list(resp, data, rc_meta((gint64)json_object_array_length(data), false, NULL));
}

/* ---- POST /instances ---- */

static const char *const rc_create_fields[] = {
    "name",	 "gpu_type",	     "instance_type_id", "region",	  "gpu_count",
    "cpu_cores", "memory",	     "storage",		 "template",	  "ssh_key_id",
    "env_vars",	 "startup_commands", "storage_id",	 "launch_script", "launch_script_base64",
};

static const char *const rc_string_fields[] = {
    "gpu_type",	  "instance_type_id", "region",	       "template",
    "ssh_key_id", "storage_id",	      "launch_script", "launch_script_base64",
};

static const char *const rc_int_fields[] = {"gpu_count", "cpu_cores", "memory", "storage"};

/* The validated create body: borrowed from the parsed JSON. */
struct rc_create {
	const char *name;
	const char *gpu_type;
	const char *instance_type_id;
	const char *region;
	const char *template;
	int gpu_count, cpu_cores, memory, storage; /* 0: not given */
};

static bool is_known_field(const char *key)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rc_create_fields); i++) {
		if (!strcmp(rc_create_fields[i], key))
			return true;
	}
	return false;
}

static json_object *rc_parse_body(const struct sim_request *req)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *obj;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, req->body, (int)req->body_len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != req->body_len) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	if (obj && !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
	}
	return obj;
}

static bool rc_check_fields(json_object *body, struct sim_response *resp)
{
	json_object_object_foreach(body, key, value)
	{
		(void)value;
		if (!is_known_field(key)) {
			rc_invalid(resp, key, "Unrecognized field: %s", key);
			return false;
		}
	}
	return true;
}

static bool is_blank(const char *s)
{
	for (; *s; s++) {
		if (!g_ascii_isspace(*s))
			return false;
	}
	return true;
}

static bool rc_check_name(json_object *body, struct rc_create *c, struct sim_response *resp)
{
	json_object *name;
	const char *text;

	if (!json_object_object_get_ex(body, "name", &name)) {
		rc_invalid(resp, "name", "name is required");
		return false;
	}
	if (!json_object_is_type(name, json_type_string)) {
		rc_invalid(resp, "name", "name must be a string");
		return false;
	}
	text = json_object_get_string(name);
	if (is_blank(text)) {
		rc_invalid(resp, "name", "name must not be empty");
		return false;
	}
	if (g_utf8_strlen(text, -1) > RC_NAME_MAX) {
		rc_invalid(resp, "name", "name must be at most %d characters", RC_NAME_MAX);
		return false;
	}
	c->name = text;
	return true;
}

static bool rc_check_strings(json_object *body, struct sim_response *resp)
{
	for (size_t i = 0; i < G_N_ELEMENTS(rc_string_fields); i++) {
		const char *field = rc_string_fields[i];
		json_object *value;

		if (!json_object_object_get_ex(body, field, &value))
			continue;
		if (!json_object_is_type(value, json_type_string)) {
			rc_invalid(resp, field, "%s must be a string", field);
			return false;
		}
		if (!json_object_get_string_len(value)) {
			rc_invalid(resp, field, "%s must not be empty", field);
			return false;
		}
	}
	return true;
}

static bool rc_check_ints(json_object *body, struct rc_create *c, struct sim_response *resp)
{
	int *slots[] = {&c->gpu_count, &c->cpu_cores, &c->memory, &c->storage};

	G_STATIC_ASSERT(G_N_ELEMENTS(slots) == G_N_ELEMENTS(rc_int_fields));
	for (size_t i = 0; i < G_N_ELEMENTS(rc_int_fields); i++) {
		const char *field = rc_int_fields[i];
		json_object *value;
		gint64 n;

		if (!json_object_object_get_ex(body, field, &value))
			continue;
		if (!json_object_is_type(value, json_type_int)) {
			rc_invalid(resp, field, "%s must be an integer", field);
			return false;
		}
		n = json_object_get_int64(value);
		if (n < 1 || n > RC_INT_FIELD_MAX) {
			rc_invalid(resp, field, "%s must be an integer >= 1", field);
			return false;
		}
		*slots[i] = (int)n;
	}
	return true;
}

static bool rc_check_env_item(json_object *item, size_t index, struct sim_response *resp)
{
	const char *const keys[] = {"key", "value"};
	json_object *value;

	if (!json_object_is_type(item, json_type_object) || json_object_object_length(item) != 2) {
		rc_invalid(resp, "env_vars", "env_vars[%zu] must be {\"key\": ..., \"value\": ...}",
			   index);
		return false;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		if (!json_object_object_get_ex(item, keys[i], &value) ||
		    !json_object_is_type(value, json_type_string)) {
			rc_invalid(resp, "env_vars", "env_vars[%zu].%s must be a string", index,
				   keys[i]);
			return false;
		}
	}
	json_object_object_get_ex(item, "key", &value);
	if (!json_object_get_string_len(value)) {
		rc_invalid(resp, "env_vars", "env_vars[%zu].key must not be empty", index);
		return false;
	}
	return true;
}

static bool rc_check_arrays(json_object *body, struct sim_response *resp)
{
	json_object *value;

	if (json_object_object_get_ex(body, "env_vars", &value)) {
		if (!json_object_is_type(value, json_type_array)) {
			rc_invalid(resp, "env_vars", "env_vars must be an array of {key, value}");
			return false;
		}
		for (size_t i = 0; i < json_object_array_length(value); i++) {
			if (!rc_check_env_item(json_object_array_get_idx(value, i), i, resp))
				return false;
		}
	}
	if (json_object_object_get_ex(body, "startup_commands", &value)) {
		if (!json_object_is_type(value, json_type_array)) {
			rc_invalid(resp, "startup_commands",
				   "startup_commands must be an array of strings");
			return false;
		}
		for (size_t i = 0; i < json_object_array_length(value); i++) {
			if (!json_object_is_type(json_object_array_get_idx(value, i),
						 json_type_string)) {
				rc_invalid(resp, "startup_commands",
					   "startup_commands[%zu] must be a string", i);
				return false;
			}
		}
	}
	return true;
}

/* Strict RFC 4648 base64: the alphabet, padding only at the end, length a multiple of 4. */
static bool is_base64(const char *s)
{
	size_t len = strlen(s), pad = 0;

	if (!len || len % 4)
		return false;
	while (pad < 2 && pad < len && s[len - 1 - pad] == '=')
		pad++;
	for (size_t i = 0; i < len - pad; i++) {
		if (!isalnum((unsigned char)s[i]) && s[i] != '+' && s[i] != '/')
			return false;
	}
	return true;
}

static bool rc_check_launch_script(json_object *body, struct sim_response *resp)
{
	json_object *b64;
	bool raw = json_object_object_get_ex(body, "launch_script", NULL);

	if (!json_object_object_get_ex(body, "launch_script_base64", &b64))
		return true;
	if (raw) {
		rc_invalid(resp, "launch_script_base64",
			   "Provide either launch_script or launch_script_base64, not both");
		return false;
	}
	if (!is_base64(json_object_get_string(b64))) {
		rc_invalid(resp, "launch_script_base64",
			   "launch_script_base64 must be valid base64");
		return false;
	}
	return true;
}

static const char *get_string(json_object *body, const char *field)
{
	json_object *value;

	if (!json_object_object_get_ex(body, field, &value))
		return NULL;
	return json_object_get_string(value);
}

/* Every check the real API makes on the body alone; fills c on success. */
static bool rc_validate_create(json_object *body, struct rc_create *c, struct sim_response *resp)
{
	if (!rc_check_fields(body, resp) || !rc_check_name(body, c, resp) ||
	    !rc_check_strings(body, resp))
		return false;
	c->gpu_type = get_string(body, "gpu_type");
	c->instance_type_id = get_string(body, "instance_type_id");
	c->region = get_string(body, "region");
	c->template = get_string(body, "template");
	if (!c->gpu_type && !c->instance_type_id) {
		rc_invalid(resp, "gpu_type", "Either gpu_type or instance_type_id is required");
		return false;
	}
	return rc_check_ints(body, c, resp) && rc_check_arrays(body, resp) &&
	       rc_check_launch_script(body, resp);
}

static void rc_out_of_stock(struct sim_response *resp, const char *what)
{
	char *message = g_strdup_printf("%s is no longer available", what);

	/* A plain 500, as a user's script saw it: clients must not retry a create on it. */
	rc_error(resp, 500, "internal_error", message);
	g_free(message);
}

/*
 * The type to deploy.  instance_type_id names one exactly (other sizing fields are then
 * ignored); gpu_type auto-deploys the cheapest in-stock type that fits the rest.
 */
static const struct rc_type *rc_pick_type(const struct rc_create *c, struct sim_response *resp)
{
	struct rc_type_filter filter = {
	    .gpu_type = c->gpu_type,
	    .region = c->region,
	    .gpu_count = c->gpu_count,
	    .min_cpu_cores = c->cpu_cores,
	    .min_memory_gb = c->memory,
	};
	const struct rc_type *t;

	if (c->instance_type_id) {
		t = rc_type_by_id(c->instance_type_id);
		if (!t) {
			rc_invalid(resp, "instance_type_id", "Unknown instance type: %s",
				   c->instance_type_id);
			return NULL;
		}
		if (!t->in_stock) {
			rc_out_of_stock(resp, t->id);
			return NULL;
		}
		return t;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(rc_types); i++) {
		if (rc_types[i].in_stock && rc_type_matches(&rc_types[i], &filter))
			return &rc_types[i]; /* the table is cheapest first */
	}
	rc_out_of_stock(resp, c->gpu_type);
	return NULL;
}

static void rc_post_instances(struct sim *sim, void *state, const struct sim_request *req,
			      struct sim_response *resp)
{
	struct rc_state *rc = state;
	struct rc_create c = {0};
	const struct rc_type *type;
	struct rc_instance *in;
	json_object *body = rc_parse_body(req);
	gint64 now = sim_now_us(sim);

	if (!body) {
		rc_error(resp, 400, "validation_error", "Request body must be a JSON object");
		return;
	}
	if (!rc_validate_create(body, &c, resp))
		goto out;
	type = rc_pick_type(&c, resp);
	if (!type)
		goto out;

	rc_expire(rc, now);
	in = rc_instance_add(rc, c.name, type, now);
	if (c.storage)
		in->storage_gb = c.storage;
	if (c.template)
		rc_set_image(in, c.template);
	rc_data(resp, 201, rc_instance_json(in, now));
out:
	json_object_put(body);
}

/* ---- GET /billing/balance ---- */

static void rc_get_balance(struct sim *sim, void *state, const struct sim_request *req,
			   struct sim_response *resp)
{
	struct rc_state *rc = state;
	gint64 now = sim_now_us(sim);
	double usage = 0;
	json_object *data;

	rc_expire(rc, now);
	for (guint i = 0; i < rc->instances->len; i++) {
		const struct rc_instance *in = rc->instances->pdata[i];

		if (rc_status_at(in, now) == RC_RUNNING)
			usage += in->type->hourly_rate;
	}
	data = json_object_new_object();
	json_object_object_add(data, "creditsBalance", sim_json_usd(RC_CREDITS));
	json_object_object_add(data, "activeUsageCost", sim_json_usd(usage));
	rc_data(resp, 200, data);
}

/* ---- start-up: demo and bulk instances ---- */

/*
 * The demo: two running, one deploying, one starting, one failed, one just terminated.  Times
 * are set explicitly so the running ones were deployed long ago whatever --step is, while the
 * transitional ones move on live (with a large --step they hold still, for tests).
 */
static void rc_add_demo(struct rc_state *rc, gint64 now)
{
	const gint64 minute = 60 * G_USEC_PER_SEC, hour = 60 * minute;
	gint64 step = rc_step_us(rc);
	struct rc_instance *in;

	in = rc_instance_add(rc, "old-sweep-3", rc_type_by_id("bold-tesla-a6000-fa6f"),
			     now - 50 * hour);
	in->deploying_us = in->created_us + minute;
	in->running_us = in->created_us + 3 * minute;
	rc_terminate(rc, in, now);

	in =
	    rc_instance_add(rc, "train-1", rc_type_by_id("brave-curie-h100-2e90"), now - 26 * hour);
	in->deploying_us = in->created_us + minute;
	in->running_us = in->created_us + 4 * minute;
	rc_set_image(in, "ubuntu-cuda-devel");

	in = rc_instance_add(rc, "infer-a", rc_type_by_id("focused-neumann-rtx4090-3615"),
			     now - 5 * hour);
	in->deploying_us = in->created_us + minute;
	in->running_us = in->created_us + 2 * minute;

	in = rc_instance_add(rc, "finetune-llama", rc_type_by_id("quirky-lovelace-a100-7c3e"),
			     now - 3 * hour);
	in->deploying_us = in->created_us + minute;
	in->running_us = in->created_us + 10 * minute;
	in->error_us = in->created_us + 6 * minute; /* failed while deploying */

	in = rc_instance_add(rc, "infer-b", rc_type_by_id("keen-hopper-rtx4090-9b21"),
			     now - 40 * G_USEC_PER_SEC);
	in->deploying_us = now;
	in->running_us = now + step;

	in = rc_instance_add(rc, "train-2", rc_type_by_id("stoic-tharp-h100x2-4d7a"),
			     now - 3 * G_USEC_PER_SEC);
	in->deploying_us = now + step;
	in->running_us = now + 2 * step;
}

/* --instances N: long-running instances spread over the past week, for benchmarks. */
static void rc_add_bulk(struct rc_state *rc, int count, gint64 now)
{
	const gint64 day = 24 * 3600 * (gint64)G_USEC_PER_SEC;
	gint64 spacing = count ? MAX(5 * day / count, 1) : 1;
	guint n_gpu_types = G_N_ELEMENTS(rc_types) - 1; /* not the CPU type at [0] */
	char name[32];

	for (int i = 0; i < count; i++) {
		const struct rc_type *type =
		    &rc_types[1 + g_rand_int_range(sim_rand(rc->sim), 0, (gint32)n_gpu_types)];
		struct rc_instance *in;

		g_snprintf(name, sizeof(name), "bench-%05d", i + 1);
		in = rc_instance_add(rc, name, type, now - 7 * day + i * spacing);
		in->deploying_us = in->created_us + 30 * G_USEC_PER_SEC;
		in->running_us = in->created_us + 150 * G_USEC_PER_SEC;
	}
}

static void *rc_init(struct sim *sim, const struct sim_options *opts)
{
	struct rc_state *rc = g_new0(struct rc_state, 1);
	gint64 now = sim_now_us(sim);

	rc->sim = sim;
	rc->key = opts->runcrate_key;
	rc->page_size = opts->page_size;
	rc->instances = g_ptr_array_new_with_free_func(rc_instance_free);
	rc->by_id = g_hash_table_new(g_str_hash, g_str_equal);
	g_queue_init(&rc->terminated);

	/* Bulk first: they are older, and the list's order is creation order. */
	rc_add_bulk(rc, opts->instances, now);
	if (opts->demo)
		rc_add_demo(rc, now);
	return rc;
}

static void rc_fini(void *state)
{
	struct rc_state *rc = state;

	g_queue_clear(&rc->terminated);
	g_hash_table_destroy(rc->by_id);
	g_ptr_array_free(rc->instances, TRUE);
	g_free(rc);
}

static const struct sim_route rc_routes[] = {
    {"GET", "instances", rc_get_instances, 0},
    {"POST", "instances", rc_post_instances, 0},
    /* Before instances/{id}, so "types" is not taken for an id. */
    {"GET", "instances/types", rc_get_types, 0},
    {"GET", "instances/{id}", rc_get_instance, 0},
    {"DELETE", "instances/{id}", rc_delete_instance, 0},
    {"GET", "instances/{id}/status", rc_get_status, 0},
    {"GET", "billing/balance", rc_get_balance, 0},
};

const struct sim_provider runcrate_provider = {
    .name = "runcrate",
    .prefix = "/runcrate/api/v1",
    .routes = rc_routes,
    .n_routes = G_N_ELEMENTS(rc_routes),
    .init = rc_init,
    .fini = rc_fini,
    .authorize = rc_authorize,
    .error = rc_error,
};
