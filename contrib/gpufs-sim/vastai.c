// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The Vast.ai API (v0), after /work/shared/providers/vastai.md, mounted at /vastai/api/v0.
 * Paths end in '/', as the real ones do; the key comes as a bearer header or ?api_key=.
 *
 * Instances move by the clock, like the Runcrate fake: each remembers its last command
 * (create, start, stop, reboot, destroy) and when it came, and its state words are whatever
 * that says about "now":
 *   create   actual null for one --step, "loading" for one more, then "running"
 *   start    "stopped" for one step, "loading" for one more, then "running"
 *   stop     intended "stopped" while actual is still "running" for one step, then "stopped"
 *   reboot   "rebooting" for one step, "loading" for one more, then "running"
 *   destroy  cur_state "unloaded" for two steps, then gone ({"instances": null})
 * The notes say a destroyed instance leaves the list; keeping it two steps as "unloaded" (a
 * documented cur_state) lets a script see it terminated, as with the other providers.
 *
 * Rate limits: a minimum gap per endpoint and key, the documented thresholds (list 1.0,
 * show 2.0, manage 1.0, destroy 3.0, create 4.5) times --vastai-gap-ms.  A refused call
 * gets 429 without Retry-After and does not restart the gap.
 */
#include <math.h>
#include <string.h>

#include "sim.h"

#define VS_CREDIT	    25.0
#define VS_FIRST_ID	    4300
#define VS_LABEL_MAX	    1024
#define VS_CREATE_LABEL_MAX 256
#define VS_LIMIT_MAX	    1000
#define VS_LOGS_MAX	    64
/* Logs are uploaded this long after they are asked for: the client must poll. */
#define VS_LOGS_DELAY_US   (200 * G_TIME_SPAN_MILLISECOND)
#define VS_DESTROYED_STEPS 2

/* The seed instance (/work/shared/seeds/004_3d9f299b58681818.txt), verbatim. */
static const char vs_seed_json[] =
    "{\"id\":883,\"actual_status\":\"running\",\"intended_status\":\"running\","
    "\"cur_state\":\"running\",\"next_state\":\"running\",\"label\":null,\"template_id\":null,"
    "\"template_hash_id\":null,\"template_name\":null,"
    "\"image_uuid\":\"tensorflow/tensorflow:latest-gpu\",\"image_args\":[],"
    "\"image_runtype\":\"ssh\",\"extra_env\":[],\"onstart\":null,"
    "\"jupyter_token\":\"53fc448d6644aa7535c6fa5498cdbedc782753e88d81b44090e54dcf1332ed30\","
    "\"status_msg\":null,\"local_ipaddrs\":\"10.2.202.31 172.17.0.1 \\n\","
    "\"ssh_host\":\"ssh2281.vast.ai\",\"ssh_idx\":\"2281\",\"ssh_port\":10882,"
    "\"machine_dir_ssh_port\":5300,\"machine_id\":178,\"bundle_id\":617,"
    "\"start_date\":1761008618.225083,\"end_date\":2034617753,\"uptime_mins\":null,"
    "\"duration\":273608757.18784523,\"cpu_arch\":\"amd64\",\"cpu_cores\":32,"
    "\"cpu_cores_effective\":4,\"cpu_name\":\"Xeon® Silver 4110\",\"cpu_ram\":128576,"
    "\"cpu_util\":0,\"mem_limit\":null,\"mem_usage\":null,\"vmem_usage\":null,"
    "\"gpu_name\":\"RTX A5000\",\"gpu_arch\":\"nvidia\",\"gpu_totalram\":24564,\"gpu_ram\":24564,"
    "\"gpu_util\":null,\"gpu_temp\":null,\"gpu_frac\":0.125,\"gpu_lanes\":16,"
    "\"gpu_mem_bw\":628.8,\"bw_nvlink\":0,\"disk_name\":\"Samsung SSD 860\",\"disk_space\":10,"
    "\"disk_bw\":500.55,\"disk_util\":-1,\"disk_usage\":-1,\"direct_port_count\":12,"
    "\"direct_port_start\":-1,\"direct_port_end\":-1,\"ports\":[8080,8081],"
    "\"static_ip\":true,\"public_ipaddr\":\"63.135.50.11\",\"geolocation\":\"Washington, US\","
    "\"verification\":\"verified\",\"rentable\":true,\"host_id\":2,\"hosting_type\":1,"
    "\"min_bid\":0.02,\"is_bid\":false,\"dph_base\":1,\"dph_total\":1.0020740740740741,"
    "\"dlperf\":22.229415,\"dlperf_per_dphtotal\":22.183404974866942,"
    "\"flops_per_dphtotal\":27.46814902424601,\"total_flops\":27.52512,"
    "\"score\":22.043656178546772,\"reliability2\":0.9993661,\"os_version\":18.04,"
    "\"mobo_name\":\"S7109GM2NR\",\"pci_gen\":3,\"pcie_bw\":11.7,\"num_gpus\":1,"
    "\"logo\":\"/static/logos/vastai_small2.png\",\"webpage\":null,"
    "\"search\":{\"gpuCostPerHour\":1,\"diskHour\":0.002074074074074074,\"totalHour\":1."
    "0020740740740741,\"discountTotalHour\":0,\"discountedTotalPerHour\":1.0020740740740741},"
    "\"instance\":{\"gpuCostPerHour\":0,\"diskHour\":0.002074074074074074,\"totalHour\":0."
    "002074074074074074,\"discountTotalHour\":0,\"discountedTotalPerHour\":0.002074074074074074},"
    "\"storage_cost\":0.14933333333333335,\"storage_total_cost\":0.002074074074074074,"
    "\"vram_costperhour\":4.079441760601181e-05,\"credit_balance\":null,"
    "\"credit_discount\":null,\"credit_discount_max\":0.4,\"client_run_time\":1.1,"
    "\"host_run_time\":2592000,\"external\":false,\"time_remaining\":\"\","
    "\"time_remaining_isbid\":\"\"}";

struct vs_offer {
	gint64 id;
	int machine_id;
	int host_id;
	const char *gpu_name;
	int num_gpus;
	int gpu_ram; /* MB */
	double cpu_cores_effective;
	int cpu_ram; /* MB */
	double disk_space;
	double dph_total;
	double min_bid;
	double reliability;
	const char *geolocation;
	const char *verification;
	bool rentable;
	bool rented;
	int direct_port_count;
	double dlperf;
	double inet_down;
	const char *public_ipaddr;
};

/* Realistic machines; one unverified, one rented (gone: 410), for the filters. */
static const struct vs_offer vs_offers[] = {
    {123456, 88,    41,		 "RTX 4090", 1,	   24564, 8,  64318, 120.5, 0.402,
     0.25,   0.995, "Texas, US", "verified", true, false, 12, 82.1,  845.3, "203.0.113.9"},
    {123457, 88,    41,		 "RTX 4090", 2,	   24564, 16, 128576, 240,   0.79,
     0.5,    0.995, "Texas, US", "verified", true, false, 12, 164.2,  845.3, "203.0.113.9"},
    {223344, 102,   57,		  "RTX 3090", 1,    24576, 6, 32154, 80,    0.221,
     0.12,   0.982, "Quebec, CA", "verified", true, false, 8, 38.4,  512.0, "198.51.100.23"},
    {334455, 131,	    12,	    "RTX A5000",      1,	  24564, 4,	128576, 200,
     0.31,   0.2,	    0.9993, "Washington, US", "verified", true,	 false, 12,	22.2,
     910.7,  "63.135.50.11"},
    {445566, 207,   73,		"A100 SXM4", 1,	   81920, 16, 257700, 500,    1.12,
     0.8,    0.991, "Oslo, NO", "verified",  true, false, 20, 185.0,  2400.0, "192.0.2.44"},
    {556677, 215,   73,		"H100 SXM", 8,	  81559, 128, 2063601, 2000,   19.6,
     14.0,   0.998, "Oslo, NO", "verified", true, false, 40,  1650.3,  9800.0, "192.0.2.45"},
    {667788, 301,   90,	  "RTX 4090", 1,     24564,	     12,
     96480,  300,   0.35, 0.2,	      0.93,  "Bavaria, DE",  "unverified",
     true,   false, 6,	  80.0,	      300.0, "198.51.100.77"},
    {778899, 320,  91,	 "RTX 3090", 1,	    24576,	    8,
     64318,  100,  0.19, 0.1,	     0.97,  "Ontario, CA",  "verified",
     true,   true, 8,	 37.9,	     200.0, "198.51.100.90"},
};

enum vs_phase {
	VS_CREATING,
	VS_STARTING,
	VS_STOPPING,
	VS_REBOOTING,
	VS_DESTROYED,
	VS_FIXED, /* a demo instance stuck in one actual_status */
};

struct vs_instance {
	gint64 id;
	json_object *obj; /* the fields the state does not decide */
	enum vs_phase phase;
	gint64 phase_us;
	const char *fixed_actual; /* VS_FIXED */
	int direct_ssh_port;	  /* ports {"22/tcp": ...} while running; 0: none */
};

struct vs_log {
	char token[33];
	gint64 ready_us;
	char *text;
};

struct vs_state {
	struct sim *sim;
	const char *key;
	gint64 gap_us;
	GPtrArray *instances;  /* struct vs_instance *, by id ascending */
	GQueue logs;	       /* struct vs_log *, oldest first */
	GHashTable *last_call; /* "METHOD pattern" -> gint64 *: the last accepted call */
	gint64 next_id;
};

/* ---- responses ---- */

static void vs_error(struct sim_response *resp, int status, const char *code, const char *message)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "success", json_object_new_boolean(0));
	json_object_object_add(obj, "error", json_object_new_string(code));
	json_object_object_add(obj, "msg", json_object_new_string(message));
	sim_response_json(resp, status, obj);
}

G_GNUC_PRINTF(3, 4)
static void vs_invalid(struct sim_response *resp, const char *code, const char *fmt, ...)
{
	va_list ap;
	char *message;

	va_start(ap, fmt);
	message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	vs_error(resp, 400, code, message);
	g_free(message);
}

static void vs_success(struct sim_response *resp, json_object *extra)
{
	json_object *obj = extra ? extra : json_object_new_object();

	json_object_object_add(obj, "success", json_object_new_boolean(1));
	sim_response_json(resp, 200, obj);
}

static bool vs_authorize(void *state, const struct sim_request *req, struct sim_response *resp)
{
	const struct vs_state *vs = state;
	const char *auth = sim_request_header(req, "Authorization");
	const char *query_key = sim_request_query(req, "api_key");
	const char *key = NULL;

	/* The real API takes either; gpufs sends only the header. */
	if (auth && !g_ascii_strncasecmp(auth, "Bearer ", 7))
		key = auth + 7;
	else if (query_key)
		key = query_key;
	if (key && !strcmp(key, vs->key))
		return true;
	vs_error(resp, 401, "auth_error", "Invalid user key");
	return false;
}

/* ---- rate limits ---- */

/* The documented threshold of an endpoint, in units of --vastai-gap-ms. */
static double vs_threshold(const char *method, const char *pattern)
{
	if (!strcmp(pattern, "instances/"))
		return 1.0;
	if (!strcmp(pattern, "instances/{id}/") && !strcmp(method, "GET"))
		return 2.0;
	if (!strcmp(method, "DELETE"))
		return 3.0;
	if (!strcmp(pattern, "asks/{id}/"))
		return 4.5;
	return 1.0;
}

static bool vs_throttled(struct vs_state *vs, const struct sim_request *req, const char *pattern,
			 struct sim_response *resp)
{
	char *key = g_strdup_printf("%s %s", req->method, pattern);
	gint64 now = g_get_monotonic_time();
	gint64 gap = (gint64)(vs_threshold(req->method, pattern) * (double)vs->gap_us);
	gint64 *last = g_hash_table_lookup(vs->last_call, key);

	if (last && now - *last < gap) {
		g_printerr("gpufs-sim: vastai: 429 for %s (gap %.0f ms)\n", key, gap / 1e3);
		g_free(key);
		/* Both shapes the notes show: JSON for reads, plain text for the rest. */
		if (!strcmp(req->method, "GET") || !strcmp(req->method, "POST")) {
			json_object *obj = json_object_new_object();
			char detail[80];

			g_snprintf(detail, sizeof(detail),
				   "API requests too frequent endpoint threshold=%.1f",
				   vs_threshold(req->method, pattern));
			json_object_object_add(obj, "detail", json_object_new_string(detail));
			sim_response_json(resp, 429, obj);
		} else {
			resp->status = 429;
			resp->body = g_strdup("API requests too frequent");
			resp->body_len = strlen(resp->body);
			resp->content_type = "text/plain";
		}
		return true;
	}
	if (!last) {
		last = g_new(gint64, 1);
		g_hash_table_insert(vs->last_call, key, last);
	} else {
		g_free(key);
	}
	*last = now;
	return false;
}

/* ---- instances and their states ---- */

static gint64 vs_step_us(const struct vs_state *vs)
{
	return (gint64)(sim_step_s(vs->sim) * G_USEC_PER_SEC);
}

struct vs_words {
	const char *actual;   /* NULL: null */
	const char *intended; /* running | stopped */
	const char *cur_state;
};

static struct vs_words vs_words_at(const struct vs_state *vs, const struct vs_instance *in,
				   gint64 now)
{
	gint64 step = vs_step_us(vs), t = now - in->phase_us;
	struct vs_words w = {"running", "running", "running"};

	switch (in->phase) {
	case VS_CREATING:
		w.actual = t < step ? NULL : t < 2 * step ? "loading" : "running";
		break;
	case VS_STARTING:
		w.actual = t < step ? "stopped" : t < 2 * step ? "loading" : "running";
		break;
	case VS_REBOOTING:
		w.actual = t < step ? "rebooting" : t < 2 * step ? "loading" : "running";
		break;
	case VS_STOPPING:
		w.actual = t < step ? "running" : "stopped";
		w.intended = "stopped";
		w.cur_state = "stopped";
		break;
	case VS_DESTROYED:
		w.actual = "exited";
		w.intended = "stopped";
		w.cur_state = "unloaded";
		break;
	case VS_FIXED:
		w.actual = in->fixed_actual;
		break;
	}
	return w;
}

static json_object *vs_ports_json(const struct vs_instance *in)
{
	json_object *ports = json_object_new_object();
	json_object *bindings = json_object_new_array();
	json_object *binding = json_object_new_object();
	char port[8];

	g_snprintf(port, sizeof(port), "%d", in->direct_ssh_port);
	json_object_object_add(binding, "HostIp", json_object_new_string("0.0.0.0"));
	json_object_object_add(binding, "HostPort", json_object_new_string(port));
	json_object_array_add(bindings, binding);
	json_object_object_add(ports, "22/tcp", bindings);
	return ports;
}

static json_object *vs_instance_json(const struct vs_state *vs, const struct vs_instance *in,
				     gint64 now)
{
	struct vs_words w = vs_words_at(vs, in, now);
	json_object *obj = NULL;
	bool running = w.actual && !strcmp(w.actual, "running");

	json_object_deep_copy(in->obj, &obj, NULL);
	json_object_object_add(obj, "actual_status", sim_json_string_or_null(w.actual));
	json_object_object_add(obj, "intended_status", json_object_new_string(w.intended));
	json_object_object_add(obj, "cur_state", json_object_new_string(w.cur_state));
	json_object_object_add(obj, "next_state", json_object_new_string(w.cur_state));
	if (in->direct_ssh_port)
		json_object_object_add(obj, "ports", running ? vs_ports_json(in) : NULL);
	if (in->phase != VS_FIXED) {
		json_object_object_add(obj, "gpu_util",
				       running ? json_object_new_double(0.37) : NULL);
		json_object_object_add(obj, "gpu_temp", running ? json_object_new_int(61) : NULL);
		json_object_object_add(
		    obj, "status_msg",
		    json_object_new_string(running ? "success, running" : "Loading image"));
	}
	return obj;
}

static struct vs_instance *vs_instance_add(struct vs_state *vs, gint64 id, json_object *obj)
{
	struct vs_instance *in = g_new0(struct vs_instance, 1);

	in->id = id;
	in->obj = obj;
	json_object_object_add(obj, "id", json_object_new_int64(id));
	g_ptr_array_add(vs->instances, in);
	return in;
}

static void vs_instance_free(gpointer data)
{
	struct vs_instance *in = data;

	json_object_put(in->obj);
	g_free(in);
}

/* Destroyed instances whose time as "unloaded" is over are gone. */
static void vs_expire(struct vs_state *vs, gint64 now)
{
	gint64 keep = VS_DESTROYED_STEPS * vs_step_us(vs);

	for (guint i = vs->instances->len; i-- > 0;) {
		const struct vs_instance *in = vs->instances->pdata[i];

		if (in->phase == VS_DESTROYED && now - in->phase_us >= keep)
			g_ptr_array_remove_index(vs->instances, i);
	}
}

static struct vs_instance *vs_lookup(struct vs_state *vs, const char *id_text, gint64 now)
{
	char *end = NULL;
	gint64 id = g_ascii_strtoll(id_text, &end, 10);

	if (!*id_text || *end)
		return NULL;
	vs_expire(vs, now);
	for (guint i = 0; i < vs->instances->len; i++) {
		struct vs_instance *in = vs->instances->pdata[i];

		if (in->id == id)
			return in;
	}
	return NULL;
}

/* A live (not destroyed) instance, or NULL after answering 404 with @code. */
static struct vs_instance *vs_live(struct vs_state *vs, const char *id, gint64 now,
				   const char *code, struct sim_response *resp)
{
	struct vs_instance *in = vs_lookup(vs, id, now);

	if (in && in->phase != VS_DESTROYED)
		return in;
	vs_error(resp, 404, code, "Instance not found");
	return NULL;
}

/* ---- bodies ---- */

static json_object *vs_parse_body(const struct sim_request *req)
{
	struct json_tokener *tok = json_tokener_new();
	json_object *obj;

	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, req->body ? req->body : "", (int)req->body_len);
	if (json_tokener_get_error(tok) != json_tokener_success ||
	    json_tokener_get_parse_end(tok) != req->body_len ||
	    !json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* ---- GET /instances/, GET /instances/{id}/ ---- */

static void vs_get_instances(struct sim *sim, void *state, const struct sim_request *req,
			     struct sim_response *resp)
{
	struct vs_state *vs = state;
	gint64 now = sim_now_us(sim);
	json_object *list, *obj;

	if (vs_throttled(vs, req, "instances/", resp))
		return;
	vs_expire(vs, now);
	obj = json_object_new_object();
	json_object_object_add(obj, "instances_found", json_object_new_int(vs->instances->len));
	/* An empty account is null, as the notes warn. */
	list = vs->instances->len ? json_object_new_array() : NULL;
	for (guint i = 0; i < vs->instances->len; i++)
		json_object_array_add(list, vs_instance_json(vs, vs->instances->pdata[i], now));
	json_object_object_add(obj, "instances", list);
	sim_response_json(resp, 200, obj);
}

static void vs_get_instance(struct sim *sim, void *state, const struct sim_request *req,
			    struct sim_response *resp)
{
	struct vs_state *vs = state;
	gint64 now = sim_now_us(sim);
	struct vs_instance *in;
	json_object *obj;

	if (vs_throttled(vs, req, "instances/{id}/", resp))
		return;
	in = vs_lookup(vs, req->params[0], now);
	obj = json_object_new_object();
	json_object_object_add(obj, "instances", in ? vs_instance_json(vs, in, now) : NULL);
	sim_response_json(resp, 200, obj);
}

/* ---- PUT /instances/{id}/: state and label ---- */

static bool vs_apply_state(struct vs_instance *in, const char *state, gint64 now)
{
	bool stopped = in->phase == VS_STOPPING;

	if (!strcmp(state, "stopped")) {
		if (!stopped) {
			in->phase = VS_STOPPING;
			in->phase_us = now;
		}
		return true;
	}
	if (!strcmp(state, "running")) {
		if (stopped || in->phase == VS_FIXED) {
			in->phase = VS_STARTING;
			in->phase_us = now;
		}
		return true;
	}
	return false;
}

static void vs_put_instance(struct sim *sim, void *state, const struct sim_request *req,
			    struct sim_response *resp)
{
	struct vs_state *vs = state;
	gint64 now = sim_now_us(sim);
	json_object *body, *state_word = NULL, *label = NULL;
	struct vs_instance *in;

	if (vs_throttled(vs, req, "instances/{id}/", resp))
		return;
	in = vs_live(vs, req->params[0], now, "no_such_instance", resp);
	if (!in)
		return;
	body = vs_parse_body(req);
	if (!body) {
		vs_invalid(resp, "invalid_args", "Request body must be a JSON object");
		return;
	}
	json_object_object_foreach(body, key, value)
	{
		(void)value;
		if (strcmp(key, "state") && strcmp(key, "label")) {
			vs_invalid(resp, "invalid_args", "Unknown field: %s", key);
			goto out;
		}
	}
	json_object_object_get_ex(body, "state", &state_word);
	json_object_object_get_ex(body, "label", &label);
	if (!state_word && !label) {
		vs_invalid(resp, "invalid_args", "Nothing to change: send state or label");
		goto out;
	}
	if (label && (!json_object_is_type(label, json_type_string) ||
		      json_object_get_string_len(label) > VS_LABEL_MAX)) {
		vs_invalid(resp, "invalid_args", "label must be a string of at most %d characters",
			   VS_LABEL_MAX);
		goto out;
	}
	if (state_word && (!json_object_is_type(state_word, json_type_string) ||
			   !vs_apply_state(in, json_object_get_string(state_word), now))) {
		vs_invalid(resp, "invalid_args", "state must be running or stopped");
		goto out;
	}
	if (label) {
		char *msg = g_strdup_printf("label for %" G_GINT64_FORMAT " set to '%s'", in->id,
					    json_object_get_string(label));
		json_object *extra = json_object_new_object();

		json_object_object_add(in->obj, "label", json_object_get(label));
		json_object_object_add(extra, "msg", json_object_new_string(msg));
		g_free(msg);
		vs_success(resp, extra);
		goto out;
	}
	vs_success(resp, NULL);
out:
	json_object_put(body);
}

static void vs_delete_instance(struct sim *sim, void *state, const struct sim_request *req,
			       struct sim_response *resp)
{
	struct vs_state *vs = state;
	gint64 now = sim_now_us(sim);
	struct vs_instance *in;

	if (vs_throttled(vs, req, "instances/{id}/", resp))
		return;
	in = vs_live(vs, req->params[0], now, "not_found", resp);
	if (!in)
		return;
	in->phase = VS_DESTROYED;
	in->phase_us = now;
	vs_success(resp, NULL);
}

static void vs_reboot(struct sim *sim, void *state, const struct sim_request *req,
		      struct sim_response *resp)
{
	struct vs_state *vs = state;
	gint64 now = sim_now_us(sim);
	struct vs_instance *in;

	if (vs_throttled(vs, req, "instances/reboot/{id}/", resp))
		return;
	in = vs_live(vs, req->params[0], now, "no_such_instance", resp);
	if (!in)
		return;
	in->phase = VS_REBOOTING;
	in->phase_us = now;
	vs_success(resp, NULL);
}

/* ---- logs ---- */

static void vs_log_free(gpointer data)
{
	struct vs_log *log = data;

	g_free(log->text);
	g_free(log);
}

static char *vs_log_text(const struct vs_instance *in, gint64 now)
{
	json_object *label = json_object_object_get(in->obj, "label");
	json_object *image = json_object_object_get(in->obj, "image_uuid");
	json_object *onstart = json_object_object_get(in->obj, "onstart");
	json_object *when = sim_json_time(now);
	char *text = g_strdup_printf(
	    "%s instance %" G_GINT64_FORMAT " (%s): pulling %s\n"
	    "%s instance %" G_GINT64_FORMAT ": onstart: %s\n"
	    "%s instance %" G_GINT64_FORMAT ": ready\n",
	    json_object_get_string(when), in->id, label ? json_object_get_string(label) : "",
	    image ? json_object_get_string(image) : "", json_object_get_string(when), in->id,
	    onstart ? json_object_get_string(onstart) : "", json_object_get_string(when), in->id);

	json_object_put(when);
	return text;
}

static void vs_request_logs(struct sim *sim, void *state, const struct sim_request *req,
			    struct sim_response *resp)
{
	struct vs_state *vs = state;
	gint64 now = sim_now_us(sim);
	const char *host = sim_request_header(req, "Host");
	struct vs_instance *in;
	struct vs_log *log;
	json_object *body, *extra;
	char *url;

	if (vs_throttled(vs, req, "instances/request_logs/{id}/", resp))
		return;
	in = vs_live(vs, req->params[0], now, "no_such_instance", resp);
	if (!in)
		return;
	body = vs_parse_body(req);
	if (!body) {
		vs_invalid(resp, "invalid_args", "Request body must be a JSON object");
		return;
	}
	json_object_put(body);
	log = g_new0(struct vs_log, 1);
	for (int i = 0; i < 32; i += 8)
		g_snprintf(log->token + i, 9, "%08x", g_rand_int(sim_rand(sim)));
	log->ready_us = g_get_monotonic_time() + VS_LOGS_DELAY_US;
	log->text = vs_log_text(in, now);
	g_queue_push_tail(&vs->logs, log);
	if (g_queue_get_length(&vs->logs) > VS_LOGS_MAX)
		vs_log_free(g_queue_pop_head(&vs->logs));
	/* Pre-signed, on "another host" in real life: here, the sim itself. */
	url = g_strdup_printf("http://%s/vastai/api/v0/_logs/%s", host ? host : "127.0.0.1",
			      log->token);
	extra = json_object_new_object();
	json_object_object_add(extra, "result_url", json_object_new_string(url));
	json_object_object_add(extra, "msg", json_object_new_string("Logs requested"));
	g_free(url);
	vs_success(resp, extra);
}

static void vs_get_log(struct sim *sim, void *state, const struct sim_request *req,
		       struct sim_response *resp)
{
	struct vs_state *vs = state;

	for (GList *l = vs->logs.head; l; l = l->next) {
		struct vs_log *log = l->data;

		if (strcmp(log->token, req->params[0]) != 0)
			continue;
		if (g_get_monotonic_time() < log->ready_us)
			break;
		resp->status = 200;
		resp->body = g_strdup(log->text);
		resp->body_len = strlen(resp->body);
		resp->content_type = "text/plain";
		return;
	}
	/* As S3 says it for an object not uploaded yet. */
	resp->status = 404;
	resp->body = g_strdup("<Error><Code>NoSuchKey</Code></Error>");
	resp->body_len = strlen(resp->body);
	resp->content_type = "application/xml";
}

/* ---- POST /bundles/ ---- */

static json_object *vs_offer_json(const struct vs_offer *o)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "id", json_object_new_int64(o->id));
	json_object_object_add(obj, "ask_contract_id", json_object_new_int64(o->id));
	json_object_object_add(obj, "machine_id", json_object_new_int(o->machine_id));
	json_object_object_add(obj, "host_id", json_object_new_int(o->host_id));
	json_object_object_add(obj, "gpu_name", json_object_new_string(o->gpu_name));
	json_object_object_add(obj, "num_gpus", json_object_new_int(o->num_gpus));
	json_object_object_add(obj, "gpu_ram", json_object_new_int(o->gpu_ram));
	json_object_object_add(obj, "gpu_total_ram", json_object_new_int(o->gpu_ram * o->num_gpus));
	json_object_object_add(obj, "cpu_cores_effective",
			       json_object_new_double(o->cpu_cores_effective));
	json_object_object_add(obj, "cpu_ram", json_object_new_int(o->cpu_ram));
	json_object_object_add(obj, "disk_space", json_object_new_double(o->disk_space));
	json_object_object_add(obj, "dph_total", sim_json_usd(o->dph_total));
	json_object_object_add(obj, "min_bid", sim_json_usd(o->min_bid));
	json_object_object_add(obj, "reliability", json_object_new_double(o->reliability));
	json_object_object_add(obj, "geolocation", json_object_new_string(o->geolocation));
	json_object_object_add(obj, "verification", json_object_new_string(o->verification));
	json_object_object_add(obj, "verified",
			       json_object_new_boolean(!strcmp(o->verification, "verified")));
	json_object_object_add(obj, "rentable", json_object_new_boolean(o->rentable));
	json_object_object_add(obj, "rented", json_object_new_boolean(o->rented));
	json_object_object_add(obj, "external", json_object_new_boolean(0));
	json_object_object_add(obj, "direct_port_count", json_object_new_int(o->direct_port_count));
	json_object_object_add(obj, "dlperf", json_object_new_double(o->dlperf));
	json_object_object_add(obj, "inet_down", json_object_new_double(o->inet_down));
	json_object_object_add(obj, "duration", json_object_new_double(2592000));
	json_object_object_add(obj, "score", json_object_new_double(o->dlperf / o->dph_total));
	json_object_object_add(obj, "public_ipaddr", json_object_new_string(o->public_ipaddr));
	return obj;
}

/* The CLI may send numbers as strings: coerce. */
static bool vs_number(json_object *value, double *out)
{
	char *end = NULL;

	if (json_object_is_type(value, json_type_int) ||
	    json_object_is_type(value, json_type_double)) {
		*out = json_object_get_double(value);
		return true;
	}
	if (json_object_is_type(value, json_type_string)) {
		*out = g_ascii_strtod(json_object_get_string(value), &end);
		return *json_object_get_string(value) && !*end;
	}
	if (json_object_is_type(value, json_type_boolean)) {
		*out = json_object_get_boolean(value);
		return true;
	}
	return false;
}

/* -1, 0, 1 like strcmp; 2 when the two cannot be compared. */
static int vs_compare(const char *field, json_object *have, json_object *want)
{
	double a, b;

	if (json_object_is_type(have, json_type_string)) {
		const char *h = json_object_get_string(have);
		const char *w = json_object_get_string(want);
		const char *comma = strrchr(h, ',');

		if (!json_object_is_type(want, json_type_string))
			return 2;
		/* geolocation filters take a country code; the field reads "Texas, US". */
		if (!strcmp(field, "geolocation") && comma && !strcmp(comma + 2, w))
			return 0;
		return strcmp(h, w) < 0 ? -1 : strcmp(h, w) > 0;
	}
	if (json_object_is_type(want, json_type_string) &&
	    json_object_is_type(have, json_type_boolean)) {
		const char *w = json_object_get_string(want);

		b = !strcmp(w, "true") ? 1 : !strcmp(w, "false") ? 0 : NAN;
		a = json_object_get_boolean(have);
		return isnan(b) ? 2 : (a > b) - (a < b);
	}
	if (!vs_number(have, &a) || !vs_number(want, &b))
		return 2;
	return (a > b) - (a < b);
}

static bool vs_in(const char *field, json_object *have, json_object *list)
{
	for (size_t i = 0; i < json_object_array_length(list); i++)
		if (vs_compare(field, have, json_object_array_get_idx(list, i)) == 0)
			return true;
	return false;
}

/* One "op": value of a field filter; -1 when the op is unknown. */
static int vs_op_matches(const char *field, json_object *have, const char *op, json_object *want)
{
	int c;

	if (!strcmp(op, "in") || !strcmp(op, "notin")) {
		if (!json_object_is_type(want, json_type_array))
			return -1;
		return vs_in(field, have, want) == !strcmp(op, "in");
	}
	c = vs_compare(field, have, want);
	if (!strcmp(op, "eq"))
		return c == 0;
	if (!strcmp(op, "neq"))
		return c != 0;
	if (c == 2)
		return !strcmp(op, "gt") || !strcmp(op, "gte") || !strcmp(op, "lt") ||
			       !strcmp(op, "lte")
			   ? 0
			   : -1;
	if (!strcmp(op, "gt"))
		return c > 0;
	if (!strcmp(op, "gte"))
		return c >= 0;
	if (!strcmp(op, "lt"))
		return c < 0;
	if (!strcmp(op, "lte"))
		return c <= 0;
	return -1;
}

static bool vs_is_query_key(const char *key)
{
	static const char *const keys[] = {"order", "type", "limit", "allocated_storage"};

	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++)
		if (!strcmp(key, keys[i]))
			return true;
	return false;
}

/* Checks the query against one offer's fields; false after answering 400. */
static bool vs_check_query(json_object *query, json_object *sample, struct sim_response *resp)
{
	json_object_object_foreach(query, key, value)
	{
		if (vs_is_query_key(key))
			continue;
		if (!json_object_object_get_ex(sample, key, NULL)) {
			vs_invalid(resp, "invalid_args", "Unknown search field: %s", key);
			return false;
		}
		if (!json_object_is_type(value, json_type_object)) {
			vs_invalid(resp, "invalid_args", "%s: expected {op: value}", key);
			return false;
		}
		json_object_object_foreach(value, op, want)
		{
			if (vs_op_matches(key, json_object_object_get(sample, key), op, want) < 0) {
				vs_invalid(resp, "invalid_args", "%s: bad operator %s", key, op);
				return false;
			}
		}
	}
	return true;
}

static bool vs_offer_matches(json_object *offer, json_object *query)
{
	json_object_object_foreach(query, key, value)
	{
		if (vs_is_query_key(key))
			continue;
		json_object_object_foreach(value, op, want)
		{
			if (vs_op_matches(key, json_object_object_get(offer, key), op, want) != 1)
				return false;
		}
	}
	return true;
}

static json_object *vs_order; /* only during a sort, under the state lock */

static int vs_order_compare(const void *a, const void *b)
{
	json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;

	for (size_t i = 0; i < json_object_array_length(vs_order); i++) {
		json_object *pair = json_object_array_get_idx(vs_order, i);
		const char *field = json_object_get_string(json_object_array_get_idx(pair, 0));
		const char *dir = json_object_get_string(json_object_array_get_idx(pair, 1));
		int c = vs_compare(field, json_object_object_get(x, field),
				   json_object_object_get(y, field));

		if (c == 2 || c == 0)
			continue;
		return dir && !strcmp(dir, "desc") ? -c : c;
	}
	return 0;
}

static bool vs_check_order(json_object *order, struct sim_response *resp)
{
	if (!json_object_is_type(order, json_type_array))
		goto bad;
	for (size_t i = 0; i < json_object_array_length(order); i++) {
		json_object *pair = json_object_array_get_idx(order, i);

		if (!json_object_is_type(pair, json_type_array) ||
		    json_object_array_length(pair) < 1 ||
		    !json_object_is_type(json_object_array_get_idx(pair, 0), json_type_string))
			goto bad;
	}
	return true;
bad:
	vs_invalid(resp, "invalid_args", "order must be [[field, \"asc\"|\"desc\"], ...]");
	return false;
}

static void vs_post_bundles(struct sim *sim, void *state, const struct sim_request *req,
			    struct sim_response *resp)
{
	struct vs_state *vs = state;
	json_object *query, *order = NULL, *type = NULL, *limit = NULL, *sample, *found, *obj;
	double max = 64;

	if (vs_throttled(vs, req, "bundles/", resp))
		return;
	query = vs_parse_body(req);
	if (!query) {
		vs_invalid(resp, "invalid_args", "Request body must be a JSON object");
		return;
	}
	sample = vs_offer_json(&vs_offers[0]);
	if (!vs_check_query(query, sample, resp))
		goto out;
	json_object_object_get_ex(query, "order", &order);
	json_object_object_get_ex(query, "type", &type);
	json_object_object_get_ex(query, "limit", &limit);
	if (order && !vs_check_order(order, resp))
		goto out;
	if (type && (!json_object_is_type(type, json_type_string) ||
		     (strcmp(json_object_get_string(type), "on-demand") &&
		      strcmp(json_object_get_string(type), "bid") &&
		      strcmp(json_object_get_string(type), "reserved")))) {
		vs_invalid(resp, "invalid_args", "type must be on-demand, bid or reserved");
		goto out;
	}
	if (limit && (!vs_number(limit, &max) || max < 1 || max > VS_LIMIT_MAX)) {
		vs_invalid(resp, "invalid_args", "limit must be 1..%d", VS_LIMIT_MAX);
		goto out;
	}
	found = json_object_new_array();
	for (size_t i = 0; i < G_N_ELEMENTS(vs_offers); i++) {
		json_object *offer = vs_offer_json(&vs_offers[i]);

		if (vs_offer_matches(offer, query))
			json_object_array_add(found, offer);
		else
			json_object_put(offer);
	}
	if (order) {
		vs_order = order;
		json_object_array_sort(found, vs_order_compare);
		vs_order = NULL;
	}
	while (json_object_array_length(found) > (size_t)max)
		json_object_array_del_idx(found, json_object_array_length(found) - 1, 1);
	obj = json_object_new_object();
	json_object_object_add(obj, "offers", found);
	sim_response_json(resp, 200, obj);
out:
	json_object_put(sample);
	json_object_put(query);
}

/* ---- PUT /asks/{id}/ ---- */

static const char *const vs_create_fields[] = {
    "client_id",
    "image",
    "disk",
    "label",
    "onstart",
    "env",
    "runtype",
    "price",
    "target_state",
    "cancel_unavail",
    "args",
    "args_str",
    "image_login",
    "template_hash_id",
    "use_jupyter_lab",
    "jupyter_dir",
    "python_utf8",
    "lang_utf8",
    "vm",
    "volume_info",
};

static const char *const vs_runtypes[] = {
    "ssh",
    "ssh_direct",
    "ssh_proxy",
    "jupyter",
    "jupyter_direct",
    "args",
    "ssh_direc ssh_proxy",
    "jupyter_proxy ssh_proxy",
};

static bool vs_listed(const char *const *list, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i], word))
			return true;
	return false;
}

static void vs_no_such_ask(struct sim_response *resp, int status, gint64 ask, const char *id)
{
	json_object *obj = json_object_new_object();
	char *msg = g_strdup_printf("error %d/3603: no_such_ask Instance type by id %s is not "
				    "available.",
				    status, id);

	json_object_object_add(obj, "success", json_object_new_boolean(0));
	json_object_object_add(obj, "error", json_object_new_string("no_such_ask"));
	json_object_object_add(obj, "msg", json_object_new_string(msg));
	json_object_object_add(obj, "ask_id", json_object_new_int64(ask));
	g_free(msg);
	sim_response_json(resp, status, obj);
}

static bool vs_check_create(json_object *body, struct sim_response *resp)
{
	json_object *v;

	json_object_object_foreach(body, key, value)
	{
		(void)value;
		if (!vs_listed(vs_create_fields, G_N_ELEMENTS(vs_create_fields), key)) {
			vs_invalid(resp, "invalid_args", "Unknown field: %s", key);
			return false;
		}
	}
	if (!json_object_object_get_ex(body, "template_hash_id", NULL) &&
	    (!json_object_object_get_ex(body, "image", &v) ||
	     !json_object_is_type(v, json_type_string) || !json_object_get_string_len(v))) {
		vs_invalid(resp, "invalid_args", "image is required");
		return false;
	}
	if (json_object_object_get_ex(body, "disk", &v) &&
	    (!(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) ||
	     json_object_get_double(v) < 1)) {
		vs_invalid(resp, "invalid_args", "disk must be a number of GB");
		return false;
	}
	if (json_object_object_get_ex(body, "label", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	     json_object_get_string_len(v) > VS_CREATE_LABEL_MAX)) {
		vs_invalid(resp, "invalid_args", "label must be at most %d characters",
			   VS_CREATE_LABEL_MAX);
		return false;
	}
	if (json_object_object_get_ex(body, "env", &v)) {
		if (!json_object_is_type(v, json_type_object)) {
			vs_invalid(resp, "invalid_args", "env must be an object");
			return false;
		}
		json_object_object_foreach(v, ek, ev)
		{
			if (!json_object_is_type(ev, json_type_string)) {
				vs_invalid(resp, "invalid_args", "env.%s must be a string", ek);
				return false;
			}
		}
	}
	if (json_object_object_get_ex(body, "runtype", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	     !vs_listed(vs_runtypes, G_N_ELEMENTS(vs_runtypes), json_object_get_string(v)))) {
		vs_invalid(resp, "invalid_args", "unknown runtype");
		return false;
	}
	if (json_object_object_get_ex(body, "price", &v) &&
	    (!(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) ||
	     json_object_get_double(v) < 0.001 || json_object_get_double(v) > 128)) {
		vs_error(resp, 400, "invalid_price", "price must be 0.001..128");
		return false;
	}
	return true;
}

static const char *vs_body_string(json_object *body, const char *key, const char *fallback)
{
	json_object *v;

	if (json_object_object_get_ex(body, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return fallback;
}

/* The instance object a create makes: the offer's machine, the body's choices. */
static json_object *vs_new_instance_obj(const struct vs_offer *o, json_object *body, gint64 id,
					gint64 now)
{
	json_object *obj = json_object_new_object();
	json_object *extra_env = json_object_new_array();
	json_object *env = json_object_object_get(body, "env");
	json_object *disk = json_object_object_get(body, "disk");
	const char *runtype = vs_body_string(body, "runtype", "ssh");
	char ip[64], host[32];

	if (json_object_is_type(env, json_type_object)) {
		json_object_object_foreach(env, key, value)
		{
			json_object *pair;

			if (g_str_has_prefix(key, "-p "))
				continue;
			pair = json_object_new_array();
			json_object_array_add(pair, json_object_new_string(key));
			json_object_array_add(pair, json_object_get(value));
			json_object_array_add(extra_env, pair);
		}
	}
	/* Real replies carry a trailing newline here: clients must trim. */
	g_snprintf(ip, sizeof(ip), "%s\n", o->public_ipaddr);
	g_snprintf(host, sizeof(host), "ssh%d.vast.ai", (int)(id % 9) + 1);
	json_object_object_add(obj, "label",
			       sim_json_string_or_null(vs_body_string(body, "label", NULL)));
	json_object_object_add(obj, "image_uuid",
			       json_object_new_string(vs_body_string(body, "image", "")));
	json_object_object_add(obj, "image_runtype", json_object_new_string(runtype));
	json_object_object_add(obj, "image_args", json_object_new_array());
	json_object_object_add(obj, "extra_env", extra_env);
	json_object_object_add(obj, "onstart",
			       sim_json_string_or_null(vs_body_string(body, "onstart", NULL)));
	json_object_object_add(obj, "machine_id", json_object_new_int(o->machine_id));
	json_object_object_add(obj, "host_id", json_object_new_int(o->host_id));
	json_object_object_add(obj, "num_gpus", json_object_new_int(o->num_gpus));
	json_object_object_add(obj, "gpu_name", json_object_new_string(o->gpu_name));
	json_object_object_add(obj, "gpu_ram", json_object_new_int(o->gpu_ram));
	json_object_object_add(obj, "cpu_cores_effective",
			       json_object_new_double(o->cpu_cores_effective));
	json_object_object_add(obj, "cpu_ram", json_object_new_int(o->cpu_ram));
	json_object_object_add(obj, "disk_space",
			       disk ? json_object_get(disk) : json_object_new_int(10));
	json_object_object_add(obj, "dph_total", sim_json_usd(o->dph_total));
	json_object_object_add(
	    obj, "is_bid", json_object_new_boolean(json_object_object_get_ex(body, "price", NULL)));
	json_object_object_add(obj, "min_bid", sim_json_usd(o->min_bid));
	json_object_object_add(obj, "public_ipaddr", json_object_new_string(ip));
	json_object_object_add(obj, "local_ipaddrs",
			       json_object_new_string("10.0.0.5 172.17.0.1 \n"));
	json_object_object_add(obj, "ssh_host", json_object_new_string(host));
	json_object_object_add(obj, "ssh_port", json_object_new_int(20000 + (int)(id % 10000)));
	json_object_object_add(obj, "geolocation", json_object_new_string(o->geolocation));
	json_object_object_add(obj, "start_date",
			       json_object_new_double((double)now / G_USEC_PER_SEC));
	json_object_object_add(obj, "reliability2", json_object_new_double(o->reliability));
	json_object_object_add(obj, "verification", json_object_new_string(o->verification));
	return obj;
}

static void vs_put_ask(struct sim *sim, void *state, const struct sim_request *req,
		       struct sim_response *resp)
{
	struct vs_state *vs = state;
	gint64 now = sim_now_us(sim);
	const struct vs_offer *offer = NULL;
	struct vs_instance *in;
	json_object *body, *extra;
	char *end = NULL;
	gint64 ask = g_ascii_strtoll(req->params[0], &end, 10);
	const char *runtype;

	if (vs_throttled(vs, req, "asks/{id}/", resp))
		return;
	for (size_t i = 0; *req->params[0] && !*end && i < G_N_ELEMENTS(vs_offers); i++)
		if (vs_offers[i].id == ask)
			offer = &vs_offers[i];
	if (!offer || offer->rented) {
		vs_no_such_ask(resp, offer ? 410 : 404, ask, req->params[0]);
		return;
	}
	body = vs_parse_body(req);
	if (!body) {
		vs_invalid(resp, "invalid_args", "Request body must be a JSON object");
		return;
	}
	if (!vs_check_create(body, resp))
		goto out;
	in = vs_instance_add(vs, vs->next_id, vs_new_instance_obj(offer, body, vs->next_id, now));
	vs->next_id++;
	in->phase = VS_CREATING;
	in->phase_us = now;
	runtype = vs_body_string(body, "runtype", "ssh");
	if (strstr(runtype, "direc"))
		in->direct_ssh_port = 40000 + (int)(in->id % 20000);
	extra = json_object_new_object();
	json_object_object_add(extra, "new_contract", json_object_new_int64(in->id));
	json_object_object_add(extra, "instance_api_key",
			       json_object_new_string("sim-instance-key"));
	vs_success(resp, extra);
out:
	json_object_put(body);
}

/* ---- GET /users/current/ ---- */

static void vs_get_user(struct sim *sim, void *state, const struct sim_request *req,
			struct sim_response *resp)
{
	json_object *obj;

	if (vs_throttled(state, req, "users/current/", resp))
		return;
	obj = json_object_new_object();
	json_object_object_add(obj, "id", json_object_new_int(1));
	json_object_object_add(obj, "email", json_object_new_string("sim@example.com"));
	json_object_object_add(obj, "username", json_object_new_string("sim"));
	json_object_object_add(obj, "credit", sim_json_usd(VS_CREDIT));
	json_object_object_add(obj, "balance", json_object_new_int(0));
	json_object_object_add(
	    obj, "ssh_key", json_object_new_string("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIsim sim"));
	sim_response_json(resp, 200, obj);
}

/* ---- start-up ---- */

static json_object *vs_seed_obj(void)
{
	return json_tokener_parse(vs_seed_json);
}

/*
 * The demo: the seed instance (running, proxy ssh, ports as a bare list), one whose
 * container exited with a message, one still loading.
 */
static void vs_add_demo(struct vs_state *vs, gint64 now)
{
	struct vs_instance *in;
	json_object *obj;

	in = vs_instance_add(vs, 883, vs_seed_obj());
	in->phase = VS_FIXED;
	in->fixed_actual = "running";

	obj = vs_seed_obj();
	json_object_object_add(obj, "label", json_object_new_string("broken-job"));
	json_object_object_add(
	    obj, "status_msg",
	    json_object_new_string("Error response from daemon: OCI runtime "
				   "create failed: exec: \"python\": not found"));
	json_object_object_add(obj, "ports", NULL);
	in = vs_instance_add(vs, 4101, obj);
	in->phase = VS_FIXED;
	in->fixed_actual = "exited";

	obj = vs_new_instance_obj(&vs_offers[0], NULL, 4102, now);
	json_object_object_add(obj, "label", json_object_new_string("warming-up"));
	json_object_object_add(obj, "image_uuid", json_object_new_string("vastai/pytorch:latest"));
	in = vs_instance_add(vs, 4102, obj);
	in->phase = VS_CREATING;
	in->phase_us = now - vs_step_us(vs);
}

static void *vs_init(struct sim *sim, const struct sim_options *opts)
{
	struct vs_state *vs = g_new0(struct vs_state, 1);

	vs->sim = sim;
	vs->key = opts->vastai_key;
	vs->gap_us = (gint64)opts->vastai_gap_ms * 1000;
	vs->instances = g_ptr_array_new_with_free_func(vs_instance_free);
	vs->last_call = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	vs->next_id = VS_FIRST_ID;
	g_queue_init(&vs->logs);
	if (opts->demo)
		vs_add_demo(vs, sim_now_us(sim));
	return vs;
}

static void vs_fini(void *state)
{
	struct vs_state *vs = state;

	g_queue_clear_full(&vs->logs, vs_log_free);
	g_hash_table_destroy(vs->last_call);
	g_ptr_array_free(vs->instances, TRUE);
	g_free(vs);
}

static const struct sim_route vs_routes[] = {
    {"GET", "instances/", vs_get_instances, 0},
    {"GET", "instances/{id}/", vs_get_instance, 0},
    {"PUT", "instances/{id}/", vs_put_instance, 0},
    {"DELETE", "instances/{id}/", vs_delete_instance, 0},
    {"PUT", "instances/reboot/{id}/", vs_reboot, 0},
    {"PUT", "instances/request_logs/{id}/", vs_request_logs, 0},
    {"POST", "bundles/", vs_post_bundles, 0},
    {"PUT", "asks/{id}/", vs_put_ask, 0},
    {"GET", "users/current/", vs_get_user, 0},
    /* The pre-signed URLs request_logs hands out: no key. */
    {"GET", "_logs/{token}", vs_get_log, SIM_ROUTE_NO_AUTH},
};

const struct sim_provider vastai_provider = {
    .name = "vastai",
    .prefix = "/vastai/api/v0",
    .routes = vs_routes,
    .n_routes = G_N_ELEMENTS(vs_routes),
    .init = vs_init,
    .fini = vs_fini,
    .authorize = vs_authorize,
    .error = vs_error,
};
