// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fault injection for gpufs-sim.  Tests add rules with POST /_sim/fault and clear them with
 * DELETE /_sim/fault; GET /_sim/fault lists them.  A rule is a JSON object:
 *
 *   {"kind": "5xx", "route": "GET /runcrate/api/v1/instances", "rate": 0.5, "count": 3}
 *
 *   kind     latency    sleep "ms" before the provider answers
 *            5xx        answer "status" (default 500) in the provider's error envelope
 *            429        answer 429, with "retry_after" (text: seconds or an HTTP date) if given
 *            body       answer "status" (default 200) with the exact text "body" (malformed or
 *                       unexpected JSON)
 *            truncated  let the provider answer, then send only half the body and close
 *            drop       let the provider act (a create is applied), then close without a reply
 *            drip       let the provider answer, spreading the body over "ms"
 *            oversize   answer 200 with a JSON body of "bytes" bytes (default 17 MiB)
 *   route    "METHOD /prefix/pattern" as in /_sim/counts; a trailing '*' matches a prefix;
 *            absent: every provider request
 *   rate     share of matching requests hit, 0..1 (default 1), drawn from the seeded generator
 *   count    hits before the rule is spent (default: unlimited)
 *
 * Rules apply in the order added: every latency of matching rules adds up, the first rule that
 * answers wins, and the connection flags (drop, truncated, drip) combine with the answer.
 */
#include <string.h>

#include "sim.h"

#define OVERSIZE_DEFAULT (17u << 20)
#define OVERSIZE_MAX	 (256u << 20)
#define LATENCY_MAX_MS	 600000

enum fault_kind {
	FAULT_LATENCY,
	FAULT_5XX,
	FAULT_429,
	FAULT_BODY,
	FAULT_TRUNCATED,
	FAULT_DROP,
	FAULT_DRIP,
	FAULT_OVERSIZE,
};

static const char *const kind_names[] = {
    [FAULT_LATENCY] = "latency",
    [FAULT_5XX] = "5xx",
    [FAULT_429] = "429",
    [FAULT_BODY] = "body",
    [FAULT_TRUNCATED] = "truncated",
    [FAULT_DROP] = "drop",
    [FAULT_DRIP] = "drip",
    [FAULT_OVERSIZE] = "oversize",
};

struct fault_rule {
	enum fault_kind kind;
	char *route; /* NULL: every request */
	double rate;
	gint64 count; /* < 0: unlimited */
	int ms;
	int status;
	char *retry_after;
	char *body;
	size_t bytes;
	gint64 hits;
};

struct sim_faults {
	GPtrArray *rules; /* struct fault_rule *, in the order added */
};

/* What the matching rules ask of one request, gathered under the lock. */
struct fault_action {
	int latency_ms;
	struct fault_rule answer; /* copied strings; kind < 0 when none */
	bool answers;
	bool drop, truncate;
	int drip_ms;
};

static void rule_free(gpointer data)
{
	struct fault_rule *rule = data;

	g_free(rule->route);
	g_free(rule->retry_after);
	g_free(rule->body);
	g_free(rule);
}

struct sim_faults *sim_faults_new(void)
{
	struct sim_faults *faults = g_new0(struct sim_faults, 1);

	faults->rules = g_ptr_array_new_with_free_func(rule_free);
	return faults;
}

void sim_faults_free(struct sim_faults *faults)
{
	if (!faults)
		return;
	g_ptr_array_unref(faults->rules);
	g_free(faults);
}

static bool route_matches(const char *pattern, const char *key)
{
	size_t n;

	if (!pattern)
		return true;
	n = strlen(pattern);
	if (n && pattern[n - 1] == '*')
		return strncmp(pattern, key, n - 1) == 0;
	return strcmp(pattern, key) == 0;
}

/* Under the lock: does @rule hit this request?  Spends one of its count. */
static bool rule_fires(struct sim *sim, struct fault_rule *rule, const char *key)
{
	if (rule->count == 0 || !route_matches(rule->route, key))
		return false;
	if (rule->rate < 1 && g_rand_double(sim_rand(sim)) >= rule->rate)
		return false;
	if (rule->count > 0)
		rule->count--;
	rule->hits++;
	return true;
}

static void gather(struct sim *sim, const char *key, struct fault_action *act)
{
	GPtrArray *rules = sim_faults(sim)->rules;

	sim_lock(sim);
	for (guint i = 0; i < rules->len; i++) {
		struct fault_rule *rule = rules->pdata[i];

		if (!rule_fires(sim, rule, key))
			continue;
		switch (rule->kind) {
		case FAULT_LATENCY:
			act->latency_ms += rule->ms;
			break;
		case FAULT_TRUNCATED:
			act->truncate = true;
			break;
		case FAULT_DROP:
			act->drop = true;
			break;
		case FAULT_DRIP:
			act->drip_ms = MAX(act->drip_ms, rule->ms);
			break;
		default:
			if (act->answers)
				break;
			act->answers = true;
			act->answer = *rule;
			act->answer.route = NULL;
			act->answer.retry_after = g_strdup(rule->retry_after);
			act->answer.body = g_strdup(rule->body);
			break;
		}
	}
	sim_unlock(sim);
}

/* A JSON body of exactly @bytes bytes: {"data":[],"pad":"xxx..."}. */
static void answer_oversize(struct sim_response *resp, size_t bytes)
{
	static const char head[] = "{\"data\":[],\"pad\":\"";
	size_t fixed = sizeof(head) - 1 + 2;
	size_t len = MAX(bytes, fixed);

	g_free(resp->body);
	resp->status = 200;
	resp->body = g_malloc(len + 1);
	memcpy(resp->body, head, sizeof(head) - 1);
	memset(resp->body + sizeof(head) - 1, 'x', len - fixed);
	memcpy(resp->body + len - 2, "\"}", 3);
	resp->body_len = len;
}

static void answer(const struct sim_provider *provider, const struct fault_rule *rule,
		   struct sim_response *resp)
{
	switch (rule->kind) {
	case FAULT_5XX:
		provider->error(resp, rule->status ? rule->status : 500, "internal_error",
				"injected fault");
		break;
	case FAULT_429:
		provider->error(resp, 429, "rate_limited", "injected rate limit");
		if (rule->retry_after)
			sim_response_add_header(resp, "Retry-After", rule->retry_after);
		break;
	case FAULT_BODY:
		g_free(resp->body);
		resp->status = rule->status ? rule->status : 200;
		resp->body = g_strdup(rule->body ? rule->body : "");
		resp->body_len = strlen(resp->body);
		break;
	default: /* FAULT_OVERSIZE */
		answer_oversize(resp, rule->bytes ? rule->bytes : OVERSIZE_DEFAULT);
		break;
	}
}

bool sim_fault_intercept(struct sim *sim, const struct sim_provider *provider,
			 const struct sim_route *route, const struct sim_request *req,
			 struct sim_response *resp)
{
	struct fault_action act = {0};
	char *key = route
			? g_strdup_printf("%s %s/%s", req->method, provider->prefix, route->pattern)
			: g_strdup_printf("%s %s", req->method, req->path);

	gather(sim, key, &act);
	g_free(key);
	if (act.latency_ms > 0)
		g_usleep((gulong)MIN(act.latency_ms, LATENCY_MAX_MS) * 1000);
	resp->drop = act.drop;
	resp->truncate = act.truncate;
	resp->drip_ms = act.drip_ms;
	if (!act.answers)
		return false;
	answer(provider, &act.answer, resp);
	g_free(act.answer.retry_after);
	g_free(act.answer.body);
	return true;
}

/* ---- /_sim/fault ---- */

static void control_error(struct sim_response *resp, int status, const char *message)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "error", json_object_new_string(message));
	sim_response_json(resp, status, obj);
}

static bool kind_from_name(const char *name, enum fault_kind *kind)
{
	for (size_t i = 0; name && i < G_N_ELEMENTS(kind_names); i++) {
		if (strcmp(name, kind_names[i]) == 0) {
			*kind = (enum fault_kind)i;
			return true;
		}
	}
	return false;
}

static const char *string_member(json_object *obj, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

static double number_member(json_object *obj, const char *key, double fallback)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !v)
		return fallback;
	return json_object_get_double(v);
}

/* A rule from its JSON, or NULL and *why. */
static struct fault_rule *rule_from_json(json_object *obj, const char **why)
{
	struct fault_rule rule = {0};
	double bytes;

	if (!json_object_is_type(obj, json_type_object) ||
	    !kind_from_name(string_member(obj, "kind"), &rule.kind)) {
		*why = "need a JSON object with kind: latency, 5xx, 429, body, truncated, drop, "
		       "drip or oversize";
		return NULL;
	}
	rule.rate = number_member(obj, "rate", 1);
	rule.count = (gint64)number_member(obj, "count", -1);
	rule.ms = (int)CLAMP(number_member(obj, "ms", 0), 0, LATENCY_MAX_MS);
	rule.status = (int)number_member(obj, "status", 0);
	bytes = number_member(obj, "bytes", 0);
	if (!(rule.rate >= 0 && rule.rate <= 1) || bytes < 0 || bytes > OVERSIZE_MAX ||
	    (rule.status && (rule.status < 100 || rule.status > 599))) {
		*why = "rate must be 0..1, bytes 0..256 MiB, status 100..599";
		return NULL;
	}
	rule.bytes = (size_t)bytes;
	if (rule.kind == FAULT_5XX && !rule.status)
		rule.status = 500;
	rule.route = g_strdup(string_member(obj, "route"));
	rule.retry_after = g_strdup(string_member(obj, "retry_after"));
	rule.body = g_strdup(string_member(obj, "body"));
	return g_memdup2(&rule, sizeof(rule));
}

static void fault_add(struct sim *sim, const struct sim_request *req, struct sim_response *resp)
{
	char *text = g_strndup(req->body ? req->body : "", req->body_len);
	json_object *obj = json_tokener_parse(text);
	const char *why = "the body is not JSON";
	struct fault_rule *rule = obj ? rule_from_json(obj, &why) : NULL;
	json_object *reply;
	guint index;

	json_object_put(obj);
	g_free(text);
	if (!rule) {
		control_error(resp, 400, why);
		return;
	}
	sim_lock(sim);
	g_ptr_array_add(sim_faults(sim)->rules, rule);
	index = sim_faults(sim)->rules->len - 1;
	sim_unlock(sim);
	reply = json_object_new_object();
	json_object_object_add(reply, "id", json_object_new_int((int)index));
	sim_response_json(resp, 200, reply);
}

static json_object *rule_json(const struct fault_rule *rule)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "kind", json_object_new_string(kind_names[rule->kind]));
	json_object_object_add(obj, "route", sim_json_string_or_null(rule->route));
	json_object_object_add(obj, "count", json_object_new_int64(rule->count));
	json_object_object_add(obj, "hits", json_object_new_int64(rule->hits));
	return obj;
}

static void fault_list(struct sim *sim, struct sim_response *resp)
{
	json_object *list = json_object_new_array();
	GPtrArray *rules = sim_faults(sim)->rules;

	sim_lock(sim);
	for (guint i = 0; i < rules->len; i++)
		json_object_array_add(list, rule_json(rules->pdata[i]));
	sim_unlock(sim);
	sim_response_json(resp, 200, list);
}

static void fault_clear(struct sim *sim, struct sim_response *resp)
{
	GPtrArray *rules = sim_faults(sim)->rules;

	sim_lock(sim);
	g_ptr_array_set_size(rules, 0);
	sim_unlock(sim);
	sim_response_json(resp, 200, json_object_new_object());
}

bool sim_fault_control(struct sim *sim, const struct sim_request *req, struct sim_response *resp)
{
	if (strcmp(req->path, "/_sim/fault") != 0)
		return false;
	if (strcmp(req->method, "POST") == 0)
		fault_add(sim, req, resp);
	else if (strcmp(req->method, "DELETE") == 0)
		fault_clear(sim, resp);
	else if (strcmp(req->method, "GET") == 0)
		fault_list(sim, resp);
	else
		control_error(resp, 405, "use POST, GET or DELETE");
	return true;
}
