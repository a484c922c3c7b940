// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The Novita GPU instance API (v1), after /work/shared/providers/novita.md, mounted at
 * /novita/gpu-instance/openapi/v1.  It refuses what the notes say the real API refuses
 * (required fields, documented ranges, Content-Type on every request) and, stricter than
 * the notes, unknown create fields: a sim that accepts more than the real API hides client
 * bugs.
 *
 * An instance's status is a chain of words started at a time (create: toCreate, creating,
 * pulling, running), each word lasting one --step, the last one held; every action starts a
 * new chain.  The chains are the notes' inferred ones.  Numbers arrive as live data has
 * them: cpuNum, memory, gpuNum and endTime as strings, a product's price as a string.
 */
#include <ctype.h>
#include <string.h>

#include "sim.h"

#define NV_PREFIX	 "/novita/gpu-instance/openapi/v1"
#define NV_REMOVED_STEPS 2 /* removed instances stay listed this many steps, then are gone */
#define NV_NAME_MAX	 255
#define NV_IMAGE_MAX	 500
#define NV_COMMAND_MAX	 2047
#define NV_ENVS_MAX	 100
#define NV_PORTS_MAX	 15
#define NV_STORAGES_MAX	 30
#define NV_GPU_NUM_MAX	 8
#define NV_ROOTFS_MIN	 10
#define NV_ROOTFS_MAX	 6144
#define NV_DEFAULT_IMAGE "ubuntu:22.04"
#define NV_SSH_PORT_BASE 30000

struct nv_cluster {
	const char *id;
	const char *name;
};

static const struct nv_cluster nv_clusters[] = {
    {"as-sgp-2", "AS-SGP-02 (Singapore)"},
    {"us-ca-6", "US-CA-06 (California)"},
    {"eu-de-1", "EU-DE-01 (Germany)"},
};

struct nv_product {
	const char *id;
	const char *name;
	int cpu_per_gpu;
	int memory_per_gpu;
	int max_rootfs;
	bool available;
	int price; /* 1/100000 USD per hour, per GPU */
	int spot_price;
	const char *inventory;
	const char *clusters[3]; /* cluster ids, NULL-terminated when short */
};

static const struct nv_product nv_products[] = {
    {"3090.16c62g",
     "RTX 3090 24GB",
     16,
     62,
     1024,
     true,
     21000,
     10500,
     "high",
     {"as-sgp-2", "us-ca-6", NULL}},
    {"4090.16c62g",
     "RTX 4090 24GB",
     16,
     62,
     6144,
     true,
     35000,
     17500,
     "normal",
     {"as-sgp-2", "us-ca-6", "eu-de-1"}},
    {"l40s.16c62g", "L40S 48GB", 16, 62, 2048, true, 69000, 34500, "low", {"eu-de-1", NULL}},
    {"a100.32c120g", "A100 80GB", 32, 120, 2048, true, 149000, 74500, "normal", {"us-ca-6", NULL}},
    {"h100.32c240g",
     "H100 80GB SXM",
     32,
     240,
     6144,
     false,
     259000,
     129500,
     "none",
     {"us-ca-6", NULL}},
};

/* The status chains; each ends in the word it holds. */
static const char *const nv_chain_create[] = {"toCreate", "creating", "pulling", "running", NULL};
static const char *const nv_chain_stop[] = {"toStop", "stopping", "exited", NULL};
static const char *const nv_chain_start[] = {"toStart", "starting", "running", NULL};
static const char *const nv_chain_restart[] = {"toRestart", "restarting", "running", NULL};
static const char *const nv_chain_remove[] = {"toRemove", "removing", "removed", NULL};
static const char *const nv_chain_running[] = {"running", NULL};
static const char *const nv_chain_exited[] = {"exited", NULL};
static const char *const nv_chain_pulling[] = {"pulling", NULL};

struct nv_instance {
	guint64 seq;
	char id[17];
	char *name;
	const struct nv_product *product;
	const struct nv_cluster *cluster;
	int gpu_num;
	int rootfs;
	char *image;
	char *command;
	char *kind;
	char *billing;
	char *ports; /* "8888/http,22/tcp" as created */
	json_object *envs;
	char *status_error; /* statusError.message; NULL when none */
	gint64 created_us;
	const char *const *chain;
	gint64 chain_us;
};

struct nv_state {
	struct sim *sim;
	const char *key;
	int max_page_size;
	GPtrArray *instances; /* struct nv_instance *, by seq ascending; owns them */
	guint64 next_seq;
};

/* ---- instances and their states ---- */

static gint64 nv_step_us(const struct nv_state *nv)
{
	return (gint64)(sim_step_s(nv->sim) * G_USEC_PER_SEC);
}

static size_t chain_length(const char *const *chain)
{
	size_t n = 0;

	while (chain[n])
		n++;
	return n;
}

static size_t nv_chain_index(const struct nv_state *nv, const struct nv_instance *in, gint64 now)
{
	size_t last = chain_length(in->chain) - 1;
	gint64 step = nv_step_us(nv);
	gint64 index;

	if (step <= 0)
		return last;
	index = now < in->chain_us ? 0 : (now - in->chain_us) / step;
	return (size_t)MIN(index, (gint64)last);
}

static const char *nv_status_at(const struct nv_state *nv, const struct nv_instance *in, gint64 now)
{
	return in->chain[nv_chain_index(nv, in, now)];
}

static bool nv_is(const struct nv_state *nv, const struct nv_instance *in, gint64 now,
		  const char *word)
{
	return strcmp(nv_status_at(nv, in, now), word) == 0;
}

/* When the instance reached "removed", or 0 if it has not. */
static gint64 nv_removed_us(const struct nv_state *nv, const struct nv_instance *in, gint64 now)
{
	if (in->chain != nv_chain_remove || !nv_is(nv, in, now, "removed"))
		return 0;
	return in->chain_us + (gint64)(chain_length(in->chain) - 1) * nv_step_us(nv);
}

static void nv_start_chain(struct nv_instance *in, const char *const *chain, gint64 now)
{
	in->chain = chain;
	in->chain_us = now;
}

static void nv_instance_free(gpointer data)
{
	struct nv_instance *in = data;

	g_free(in->name);
	g_free(in->image);
	g_free(in->command);
	g_free(in->kind);
	g_free(in->billing);
	g_free(in->ports);
	g_free(in->status_error);
	json_object_put(in->envs);
	g_free(in);
}

static struct nv_instance *nv_instance_add(struct nv_state *nv, const char *name,
					   const struct nv_product *product,
					   const struct nv_cluster *cluster, gint64 created_us)
{
	struct nv_instance *in = g_new0(struct nv_instance, 1);
	GRand *rand = sim_rand(nv->sim);

	in->seq = ++nv->next_seq;
	/* 16 hex digits, as the notes' examples have them. */
	g_snprintf(in->id, sizeof(in->id), "%08x%08x", g_rand_int(rand), g_rand_int(rand));
	in->name = g_strdup(name);
	in->product = product;
	in->cluster = cluster;
	in->gpu_num = 1;
	in->rootfs = 60;
	in->image = g_strdup(NV_DEFAULT_IMAGE);
	in->kind = g_strdup("gpu");
	in->billing = g_strdup("onDemand");
	in->ports = g_strdup("22/tcp");
	in->envs = json_object_new_array();
	in->created_us = created_us;
	nv_start_chain(in, nv_chain_create, created_us);
	g_ptr_array_add(nv->instances, in);
	return in;
}

/* Forget instances removed long enough ago: from now on they are not found. */
static void nv_expire(struct nv_state *nv, gint64 now)
{
	gint64 keep = NV_REMOVED_STEPS * nv_step_us(nv);

	for (guint i = nv->instances->len; i-- > 0;) {
		const struct nv_instance *in = nv->instances->pdata[i];
		gint64 removed = nv_removed_us(nv, in, now);

		if (removed && now >= removed + keep)
			g_ptr_array_remove_index(nv->instances, i); /* frees it */
	}
}

static struct nv_instance *nv_lookup(struct nv_state *nv, const char *id, gint64 now)
{
	nv_expire(nv, now);
	for (guint i = 0; id && i < nv->instances->len; i++) {
		struct nv_instance *in = nv->instances->pdata[i];

		if (!strcmp(in->id, id))
			return in;
	}
	return NULL;
}

static const struct nv_product *nv_product_by_id(const char *id)
{
	for (size_t i = 0; i < G_N_ELEMENTS(nv_products); i++) {
		if (!strcmp(nv_products[i].id, id))
			return &nv_products[i];
	}
	return NULL;
}

static const struct nv_cluster *nv_cluster_by_id(const char *id)
{
	for (size_t i = 0; i < G_N_ELEMENTS(nv_clusters); i++) {
		if (!strcmp(nv_clusters[i].id, id))
			return &nv_clusters[i];
	}
	return NULL;
}

static bool nv_product_in(const struct nv_product *p, const struct nv_cluster *c)
{
	for (size_t i = 0; i < G_N_ELEMENTS(p->clusters) && p->clusters[i]; i++) {
		if (!strcmp(p->clusters[i], c->id))
			return true;
	}
	return false;
}

/* ---- JSON ---- */

static json_object *nv_int_string(gint64 value)
{
	char text[24];

	g_snprintf(text, sizeof(text), "%" G_GINT64_FORMAT, value);
	return json_object_new_string(text);
}

static json_object *nv_seconds_string(gint64 us)
{
	return nv_int_string(us / G_USEC_PER_SEC);
}

static char *nv_host(const struct nv_instance *in)
{
	return g_strdup_printf("nv%" G_GUINT64_FORMAT ".gpu.sim.invalid", in->seq);
}

/* portMappings from the ports string; endpoints only in the full object. */
static json_object *nv_port_mappings(const struct nv_instance *in, bool full)
{
	json_object *array = json_object_new_array();
	char **items = g_strsplit(in->ports, ",", -1);
	char *host = nv_host(in);

	for (size_t i = 0; items[i]; i++) {
		char **parts = g_strsplit(items[i], "/", 2);
		int port = atoi(parts[0]);
		json_object *item = json_object_new_object();

		json_object_object_add(item, "port", json_object_new_int(port));
		if (full) {
			char *endpoint = g_strdup_printf("%s:%d", host, 31000 + port % 1000);

			json_object_object_add(item, "endpoint", json_object_new_string(endpoint));
			g_free(endpoint);
		}
		json_object_object_add(item, "type",
				       json_object_new_string(parts[1] ? parts[1] : "tcp"));
		json_object_array_add(array, item);
		g_strfreev(parts);
	}
	g_strfreev(items);
	g_free(host);
	return array;
}

static bool nv_has_port(const struct nv_instance *in, const char *port)
{
	char **items = g_strsplit(in->ports, ",", -1);
	bool found = false;

	for (size_t i = 0; items[i] && !found; i++)
		found = !strcmp(items[i], port);
	g_strfreev(items);
	return found;
}

static json_object *nv_component(const char *key1, json_object *value1, const char *key2,
				 json_object *value2, bool running)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, key1, value1);
	if (key2)
		json_object_object_add(obj, key2, value2);
	json_object_object_add(obj, "isRunning", json_object_new_boolean(running));
	return obj;
}

/* What only GET /gpu/instance has: network and the connectComponent* objects. */
static void nv_add_detail(json_object *obj, const struct nv_instance *in, bool running)
{
	json_object *network = json_object_new_object();
	char *host = nv_host(in);
	char *text;

	json_object_object_add(network, "id", json_object_new_string(""));
	text = g_strdup_printf("10.8.%u.%u", (unsigned)(in->seq / 250 % 256),
			       (unsigned)(in->seq % 250 + 2));
	json_object_object_add(network, "ip", json_object_new_string(text));
	g_free(text);
	json_object_object_add(obj, "network", network);

	text = g_strdup_printf("ssh root@%s -p %u", host,
			       (unsigned)(NV_SSH_PORT_BASE + in->seq % 30000));
	json_object_object_add(obj, "connectComponentSSH",
			       nv_component("sshCommand", json_object_new_string(text), "password",
					    json_object_new_string("sim-secret-ssh"), running));
	g_free(text);

	text = g_strdup_printf("https://%s-webterminal.sim.invalid", in->id);
	json_object *web = nv_component("address", json_object_new_string(text), "username",
					json_object_new_string("root"), running);
	json_object_object_add(web, "password", json_object_new_string("sim-secret-web"));
	json_object_object_add(obj, "connectComponentWebTerminal", web);
	g_free(text);

	if (nv_has_port(in, "8888/http")) {
		text = g_strdup_printf("https://%s-8888.sim.invalid", in->id);
		json_object *jupyter = nv_component("port", json_object_new_int(8888), "address",
						    json_object_new_string(text), running);
		json_object_object_add(obj, "connectComponentJupyter", jupyter);
		g_free(text);
	}
	json_object_object_add(obj, "node", json_object_new_array());
	json_object_object_add(obj, "jobs", json_object_new_array());
	json_object_object_add(obj, "freeStorageSize", json_object_new_int(in->rootfs));
	json_object_object_add(obj, "keepDataDay", json_object_new_int(0));
	g_free(host);
}

static json_object *nv_instance_json(const struct nv_state *nv, const struct nv_instance *in,
				     gint64 now, bool full)
{
	const char *status = nv_status_at(nv, in, now);
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "id", json_object_new_string(in->id));
	json_object_object_add(obj, "name", json_object_new_string(in->name));
	json_object_object_add(obj, "clusterId", json_object_new_string(in->cluster->id));
	json_object_object_add(obj, "clusterName", json_object_new_string(in->cluster->name));
	json_object_object_add(obj, "status", json_object_new_string(status));
	if (in->status_error) {
		json_object *error = json_object_new_object();

		json_object_object_add(error, "state", json_object_new_string(status));
		json_object_object_add(error, "message", json_object_new_string(in->status_error));
		json_object_object_add(obj, "statusError", error);
	}
	json_object_object_add(obj, "imageUrl", json_object_new_string(in->image));
	json_object_object_add(obj, "imageAuthId", json_object_new_string(""));
	json_object_object_add(obj, "command",
			       json_object_new_string(in->command ? in->command : ""));
	json_object_object_add(obj, "entrypoint", json_object_new_string(""));
	json_object_object_add(obj, "cpuNum",
			       nv_int_string((gint64)in->product->cpu_per_gpu * in->gpu_num));
	json_object_object_add(obj, "memory",
			       nv_int_string((gint64)in->product->memory_per_gpu * in->gpu_num));
	json_object_object_add(obj, "gpuNum", nv_int_string(in->gpu_num));
	json_object_object_add(obj, "productId", json_object_new_string(in->product->id));
	json_object_object_add(obj, "productName", json_object_new_string(in->product->name));
	json_object_object_add(obj, "rootfsSize", json_object_new_int(in->rootfs));
	json_object_object_add(obj, "portMappings", nv_port_mappings(in, full));
	json_object_object_add(obj, "envs", json_object_get(in->envs));
	json_object_object_add(obj, "kind", json_object_new_string(in->kind));
	json_object_object_add(obj, "billingMode", json_object_new_string(in->billing));
	json_object_object_add(obj, "endTime", json_object_new_string("-1"));
	json_object_object_add(obj, "createdAt", nv_seconds_string(in->created_us));
	if (full)
		nv_add_detail(obj, in, !strcmp(status, "running"));
	return obj;
}

/* ---- responses ---- */

static void nv_error(struct sim_response *resp, int status, const char *code, const char *message)
{
	static const struct {
		const char *slug;
		const char *reason;
	} reasons[] = {
	    {"not_found", "NOT_FOUND"},	   {"unauthorized", "UNAUTHORIZED"},
	    {"forbidden", "FORBIDDEN"},	   {"rate_limited", "RATE_LIMIT_EXCEEDED"},
	    {"internal_error", "UNKNOWN"},
	};
	json_object *obj = json_object_new_object();
	char *reason = NULL;

	for (size_t i = 0; i < G_N_ELEMENTS(reasons) && !reason; i++) {
		if (!strcmp(code, reasons[i].slug))
			reason = g_strdup(reasons[i].reason);
	}
	if (!reason)
		reason = g_ascii_strup(code, -1); /* already UPPER_SNAKE, or a slug */
	json_object_object_add(obj, "code", json_object_new_int(status));
	json_object_object_add(obj, "reason", json_object_new_string(reason));
	json_object_object_add(obj, "message", json_object_new_string(message));
	json_object_object_add(obj, "metadata", json_object_new_object());
	sim_response_json(resp, status, obj);
	g_free(reason);
}

G_GNUC_PRINTF(3, 4)
static void nv_refuse(struct sim_response *resp, const char *reason, const char *fmt, ...)
{
	va_list ap;
	char *message;

	va_start(ap, fmt);
	message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	nv_error(resp, 400, reason, message);
	g_free(message);
}

static void nv_not_found(struct sim_response *resp)
{
	nv_refuse(resp, "RESOURCE_NOT_FOUND", "instance not found");
}

static bool nv_authorize(void *state, const struct sim_request *req, struct sim_response *resp)
{
	const struct nv_state *nv = state;
	const char *auth = sim_request_header(req, "Authorization");
	const char *type = sim_request_header(req, "Content-Type");

	if (!auth || g_ascii_strncasecmp(auth, "Bearer ", 7) != 0 || strcmp(auth + 7, nv->key)) {
		nv_error(resp, 401, "UNAUTHORIZED", "invalid or missing API key");
		return false;
	}
	/* Required even on GET, say the docs. */
	if (!type || g_ascii_strncasecmp(type, "application/json", 16) != 0) {
		nv_refuse(resp, "VALIDATOR_PARAM", "Content-Type must be application/json");
		return false;
	}
	return true;
}

/* A whole non-negative decimal integer, or false. */
static bool parse_count(const char *text, gint64 max, gint64 *out)
{
	char *end;
	gint64 value;

	if (!text || !isdigit((unsigned char)*text))
		return false;
	value = g_ascii_strtoll(text, &end, 10);
	if (*end || value < 0 || value > max)
		return false;
	*out = value;
	return true;
}

/* ---- GET /gpu/instances ---- */

static bool nv_matches(const struct nv_state *nv, const struct nv_instance *in, gint64 now,
		       const struct sim_request *req)
{
	const char *name = sim_request_query(req, "name");
	const char *product = sim_request_query(req, "productName");
	const char *status = sim_request_query(req, "status");

	if (name && *name && !strcasestr(in->name, name))
		return false;
	if (product && *product && !strcasestr(in->product->name, product))
		return false;
	return !status || !*status || nv_is(nv, in, now, status);
}

static void nv_get_instances(struct sim *sim, void *state, const struct sim_request *req,
			     struct sim_response *resp)
{
	struct nv_state *nv = state;
	gint64 now = sim_now_us(sim), size, page, total = 0, first;
	json_object *list, *obj;

	if (!parse_count(sim_request_query(req, "pageSize"), G_MAXINT32, &size) ||
	    !parse_count(sim_request_query(req, "pageNum"), G_MAXINT32, &page)) {
		nv_refuse(resp, "VALIDATOR_PARAM", "pageSize and pageNum are required, >= 0");
		return;
	}
	size = MIN(size, (gint64)nv->max_page_size);
	first = (MAX(page, 1) - 1) * size; /* 1-based; 0 is taken as the first page */
	nv_expire(nv, now);
	list = json_object_new_array();
	/* Newest first. */
	for (guint i = nv->instances->len; i-- > 0;) {
		const struct nv_instance *in = nv->instances->pdata[i];

		if (!nv_matches(nv, in, now, req))
			continue;
		if (total >= first && total < first + size)
			json_object_array_add(list, nv_instance_json(nv, in, now, false));
		total++;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "instances", list);
	json_object_object_add(obj, "total", json_object_new_int64(total));
	json_object_object_add(obj, "pageSize", json_object_new_int64(size));
	json_object_object_add(obj, "pageNum", json_object_new_int64(page));
	sim_response_json(resp, 200, obj);
}

/* ---- GET /gpu/instance ---- */

static void nv_get_instance(struct sim *sim, void *state, const struct sim_request *req,
			    struct sim_response *resp)
{
	struct nv_state *nv = state;
	const char *id = sim_request_query(req, "instanceId");
	gint64 now = sim_now_us(sim);
	const struct nv_instance *in;

	if (!id || !*id) {
		nv_refuse(resp, "VALIDATOR_PARAM", "instanceId is required");
		return;
	}
	in = nv_lookup(nv, id, now);
	if (!in) {
		nv_not_found(resp);
		return;
	}
	sim_response_json(resp, 200, nv_instance_json(nv, in, now, true));
}

/* ---- bodies ---- */

static json_object *nv_parse_body(const struct sim_request *req)
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

/* ---- POST /gpu/instance/{start,stop,restart,delete} ---- */

enum nv_action { NV_START, NV_STOP, NV_RESTART, NV_DELETE };

static const char *const nv_action_words[] = {"start", "stop", "restart", "delete"};

static bool nv_action_allowed(const struct nv_state *nv, const struct nv_instance *in, gint64 now,
			      enum nv_action action)
{
	const char *status = nv_status_at(nv, in, now);

	switch (action) {
	case NV_START:
		return !strcmp(status, "exited");
	case NV_STOP:
	case NV_RESTART:
		return !strcmp(status, "running");
	case NV_DELETE:
		return strcmp(status, "toRemove") && strcmp(status, "removing") &&
		       strcmp(status, "removed");
	}
	return false;
}

static void nv_action(struct sim *sim, struct nv_state *nv, const struct sim_request *req,
		      struct sim_response *resp, enum nv_action action)
{
	static const char *const *const chains[] = {nv_chain_start, nv_chain_stop, nv_chain_restart,
						    nv_chain_remove};
	json_object *body = nv_parse_body(req), *id;
	gint64 now = sim_now_us(sim);
	struct nv_instance *in;

	if (!body || !json_object_object_get_ex(body, "instanceId", &id) ||
	    !json_object_is_type(id, json_type_string) || !json_object_get_string_len(id)) {
		nv_refuse(resp, "VALIDATOR_PARAM", "instanceId is required");
		goto out;
	}
	in = nv_lookup(nv, json_object_get_string(id), now);
	if (!in) {
		nv_not_found(resp);
		goto out;
	}
	if (!nv_action_allowed(nv, in, now, action)) {
		nv_refuse(resp, "OPERATION_LIMIT", "cannot %s an instance that is %s",
			  nv_action_words[action], nv_status_at(nv, in, now));
		goto out;
	}
	nv_start_chain(in, chains[action], now);
	sim_response_json(resp, 200, json_object_new_object());
out:
	json_object_put(body);
}

static void nv_post_start(struct sim *sim, void *state, const struct sim_request *req,
			  struct sim_response *resp)
{
	nv_action(sim, state, req, resp, NV_START);
}

static void nv_post_stop(struct sim *sim, void *state, const struct sim_request *req,
			 struct sim_response *resp)
{
	nv_action(sim, state, req, resp, NV_STOP);
}

static void nv_post_restart(struct sim *sim, void *state, const struct sim_request *req,
			    struct sim_response *resp)
{
	nv_action(sim, state, req, resp, NV_RESTART);
}

static void nv_post_delete(struct sim *sim, void *state, const struct sim_request *req,
			   struct sim_response *resp)
{
	nv_action(sim, state, req, resp, NV_DELETE);
}

/* ---- POST /gpu/instance/create ---- */

enum nv_field_type { NV_STRING, NV_INT, NV_BOOL, NV_ARRAY };

static const struct {
	const char *name;
	enum nv_field_type type;
	bool required;
	gint64 min, max; /* ints: the range; strings: the length */
} nv_create_fields[] = {
    {"productId", NV_STRING, true, 1, 255},
    {"gpuNum", NV_INT, true, 1, NV_GPU_NUM_MAX},
    {"rootfsSize", NV_INT, true, NV_ROOTFS_MIN, NV_ROOTFS_MAX},
    {"imageUrl", NV_STRING, true, 1, NV_IMAGE_MAX},
    {"kind", NV_STRING, true, 1, 3},
    {"name", NV_STRING, false, 0, NV_NAME_MAX},
    {"imageAuth", NV_STRING, false, 0, 1024},
    {"imageAuthId", NV_STRING, false, 0, 255},
    {"ports", NV_STRING, false, 0, 1024},
    {"envs", NV_ARRAY, false, 0, NV_ENVS_MAX},
    {"tools", NV_ARRAY, false, 0, NV_PORTS_MAX},
    {"command", NV_STRING, false, 0, NV_COMMAND_MAX},
    {"entrypoint", NV_STRING, false, 0, NV_COMMAND_MAX},
    {"clusterId", NV_STRING, false, 0, 255},
    {"networkStorages", NV_ARRAY, false, 0, NV_STORAGES_MAX},
    {"networkId", NV_STRING, false, 0, 255},
    {"month", NV_INT, false, 0, 120},
    {"billingMode", NV_STRING, false, 1, 16},
    {"autoRenew", NV_BOOL, false, 0, 0},
    {"autoRenewMonth", NV_INT, false, 1, 12},
    {"minCudaVersion", NV_STRING, false, 0, 16},
};

static bool nv_check_field(json_object *value, size_t i, struct sim_response *resp)
{
	const char *name = nv_create_fields[i].name;
	gint64 min = nv_create_fields[i].min, max = nv_create_fields[i].max, n;

	switch (nv_create_fields[i].type) {
	case NV_STRING:
		if (!json_object_is_type(value, json_type_string))
			break;
		n = json_object_get_string_len(value);
		if (n < min || n > max) {
			nv_refuse(resp, "VALIDATOR_PARAM",
				  "%s must be %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT
				  " characters",
				  name, min, max);
			return false;
		}
		return true;
	case NV_INT:
		if (!json_object_is_type(value, json_type_int))
			break;
		n = json_object_get_int64(value);
		if (n < min || n > max) {
			nv_refuse(resp, "VALIDATOR_PARAM",
				  "%s must be %" G_GINT64_FORMAT " to %" G_GINT64_FORMAT, name, min,
				  max);
			return false;
		}
		return true;
	case NV_BOOL:
		if (json_object_is_type(value, json_type_boolean))
			return true;
		break;
	case NV_ARRAY:
		if (!json_object_is_type(value, json_type_array))
			break;
		if ((gint64)json_object_array_length(value) > max) {
			nv_refuse(resp, "VALIDATOR_PARAM", "%s takes at most %" G_GINT64_FORMAT,
				  name, max);
			return false;
		}
		return true;
	}
	nv_refuse(resp, "VALIDATOR_PARAM", "%s has the wrong type", name);
	return false;
}

static bool nv_check_fields(json_object *body, struct sim_response *resp)
{
	json_object *value;

	json_object_object_foreach(body, key, unused)
	{
		bool known = false;

		(void)unused;
		for (size_t i = 0; i < G_N_ELEMENTS(nv_create_fields) && !known; i++)
			known = !strcmp(key, nv_create_fields[i].name);
		if (!known) {
			nv_refuse(resp, "VALIDATOR_PARAM", "unknown field: %s", key);
			return false;
		}
	}
	for (size_t i = 0; i < G_N_ELEMENTS(nv_create_fields); i++) {
		if (!json_object_object_get_ex(body, nv_create_fields[i].name, &value)) {
			if (nv_create_fields[i].required) {
				nv_refuse(resp, "VALIDATOR_PARAM", "%s is required",
					  nv_create_fields[i].name);
				return false;
			}
			continue;
		}
		if (!nv_check_field(value, i, resp))
			return false;
	}
	return true;
}

static const char *nv_string(json_object *body, const char *key)
{
	json_object *value;

	if (!json_object_object_get_ex(body, key, &value))
		return NULL;
	return json_object_get_string(value);
}

static bool nv_check_ports(const char *ports, struct sim_response *resp)
{
	char **items = g_strsplit(ports, ",", -1);
	bool ok = g_strv_length(items) <= NV_PORTS_MAX;

	for (size_t i = 0; items[i] && ok; i++) {
		char **parts = g_strsplit(items[i], "/", 2);
		gint64 port = 0;

		ok = parse_count(parts[0], 65535, &port) && port >= 1 && parts[1] &&
		     (!strcmp(parts[1], "tcp") || !strcmp(parts[1], "http")) &&
		     (port < 2222 || port > 2224);
		g_strfreev(parts);
	}
	g_strfreev(items);
	if (!ok)
		nv_refuse(resp, "VALIDATOR_PARAM",
			  "ports must be PORT/tcp or PORT/http, comma-separated, at most %d, "
			  "not 2222-2224",
			  NV_PORTS_MAX);
	return ok;
}

static bool nv_check_envs(json_object *envs, struct sim_response *resp)
{
	for (size_t i = 0; envs && i < json_object_array_length(envs); i++) {
		json_object *item = json_object_array_get_idx(envs, i), *key, *value;

		if (!json_object_object_get_ex(item, "key", &key) ||
		    !json_object_is_type(key, json_type_string) ||
		    !json_object_get_string_len(key) ||
		    !json_object_object_get_ex(item, "value", &value) ||
		    !json_object_is_type(value, json_type_string)) {
			nv_refuse(resp, "VALIDATOR_PARAM", "envs[%zu] must be {key, value} strings",
				  i);
			return false;
		}
	}
	return true;
}

static bool nv_check_words(json_object *body, struct sim_response *resp)
{
	const char *kind = nv_string(body, "kind");
	const char *billing = nv_string(body, "billingMode");
	const char *ports = nv_string(body, "ports");
	json_object *envs = NULL;

	if (strcmp(kind, "gpu") && strcmp(kind, "cpu")) {
		nv_refuse(resp, "VALIDATOR_PARAM", "kind must be gpu or cpu");
		return false;
	}
	if (billing && strcmp(billing, "onDemand") && strcmp(billing, "monthly") &&
	    strcmp(billing, "spot")) {
		nv_refuse(resp, "VALIDATOR_PARAM", "billingMode must be onDemand, monthly or spot");
		return false;
	}
	if (ports && *ports && !nv_check_ports(ports, resp))
		return false;
	json_object_object_get_ex(body, "envs", &envs);
	return nv_check_envs(envs, resp);
}

/* The product and cluster to deploy on; an empty clusterId picks one. */
static bool nv_place(json_object *body, const struct nv_product **product,
		     const struct nv_cluster **cluster, struct sim_response *resp)
{
	const char *cluster_id = nv_string(body, "clusterId");
	json_object *rootfs;

	*product = nv_product_by_id(nv_string(body, "productId"));
	if (!*product) {
		nv_refuse(resp, "VALIDATOR_PARAM", "unknown productId");
		return false;
	}
	json_object_object_get_ex(body, "rootfsSize", &rootfs);
	if (json_object_get_int64(rootfs) > (*product)->max_rootfs) {
		nv_refuse(resp, "VALIDATOR_PARAM", "rootfsSize exceeds this product's %d GB",
			  (*product)->max_rootfs);
		return false;
	}
	if (!(*product)->available) {
		nv_refuse(resp, "INSUFFICIENT_RESOURCE", "no %s available", (*product)->name);
		return false;
	}
	if (!cluster_id || !*cluster_id) {
		*cluster = nv_cluster_by_id((*product)->clusters[0]);
		return true;
	}
	*cluster = nv_cluster_by_id(cluster_id);
	if (!*cluster) {
		nv_refuse(resp, "VALIDATOR_PARAM", "unknown clusterId");
		return false;
	}
	if (!nv_product_in(*product, *cluster)) {
		nv_refuse(resp, "INSUFFICIENT_RESOURCE", "no %s available in %s", (*product)->name,
			  (*cluster)->name);
		return false;
	}
	return true;
}

static void nv_replace(char **slot, const char *value)
{
	if (!value)
		return;
	g_free(*slot);
	*slot = g_strdup(value);
}

static void nv_post_create(struct sim *sim, void *state, const struct sim_request *req,
			   struct sim_response *resp)
{
	struct nv_state *nv = state;
	json_object *body = nv_parse_body(req), *value;
	const struct nv_product *product;
	const struct nv_cluster *cluster;
	struct nv_instance *in;
	gint64 now = sim_now_us(sim);
	const char *name;

	if (!body) {
		nv_refuse(resp, "VALIDATOR_PARAM", "the body must be a JSON object");
		return;
	}
	if (!nv_check_fields(body, resp) || !nv_check_words(body, resp) ||
	    !nv_place(body, &product, &cluster, resp))
		goto out;
	nv_expire(nv, now);
	name = nv_string(body, "name");
	in = nv_instance_add(nv, name && *name ? name : "instance", product, cluster, now);
	json_object_object_get_ex(body, "gpuNum", &value);
	in->gpu_num = (int)json_object_get_int64(value);
	json_object_object_get_ex(body, "rootfsSize", &value);
	in->rootfs = (int)json_object_get_int64(value);
	nv_replace(&in->image, nv_string(body, "imageUrl"));
	nv_replace(&in->kind, nv_string(body, "kind"));
	nv_replace(&in->billing, nv_string(body, "billingMode"));
	nv_replace(&in->command, nv_string(body, "command"));
	if (nv_string(body, "ports") && *nv_string(body, "ports"))
		nv_replace(&in->ports, nv_string(body, "ports"));
	if (json_object_object_get_ex(body, "envs", &value)) {
		json_object_put(in->envs);
		in->envs = json_object_get(value);
	}
	value = json_object_new_object();
	json_object_object_add(value, "id", json_object_new_string(in->id));
	sim_response_json(resp, 200, value);
out:
	json_object_put(body);
}

/* ---- GET /products, GET /clusters ---- */

static json_object *nv_product_json(const struct nv_product *p)
{
	json_object *obj = json_object_new_object();
	json_object *regions = json_object_new_array();
	json_object *billing = json_object_new_array();
	json_object *monthly = json_object_new_array();
	json_object *month = json_object_new_object();

	for (size_t i = 0; i < G_N_ELEMENTS(p->clusters) && p->clusters[i]; i++)
		json_object_array_add(
		    regions, json_object_new_string(nv_cluster_by_id(p->clusters[i])->name));
	json_object_array_add(billing, json_object_new_string("onDemand"));
	json_object_array_add(billing, json_object_new_string("spot"));
	json_object_array_add(billing, json_object_new_string("monthly"));
	json_object_object_add(month, "price", nv_int_string((gint64)p->price * 24 * 30 * 8 / 10));
	json_object_object_add(month, "month", json_object_new_int(1));
	json_object_array_add(monthly, month);

	json_object_object_add(obj, "id", json_object_new_string(p->id));
	json_object_object_add(obj, "name", json_object_new_string(p->name));
	json_object_object_add(obj, "cpuPerGpu", json_object_new_int(p->cpu_per_gpu));
	json_object_object_add(obj, "memoryPerGpu", json_object_new_int(p->memory_per_gpu));
	json_object_object_add(obj, "diskPerGpu", json_object_new_int(p->max_rootfs));
	json_object_object_add(obj, "availableDeploy", json_object_new_boolean(p->available));
	json_object_object_add(obj, "minRootFS", json_object_new_int(NV_ROOTFS_MIN));
	json_object_object_add(obj, "maxRootFS", json_object_new_int(p->max_rootfs));
	json_object_object_add(obj, "minLocalStorage", json_object_new_int(0));
	json_object_object_add(obj, "maxLocalStorage", json_object_new_int(0));
	json_object_object_add(obj, "regions", regions);
	/* A string, as live data has it; spotPrice a number, as the docs show. */
	json_object_object_add(obj, "price", nv_int_string(p->price));
	json_object_object_add(obj, "spotPrice", json_object_new_int(p->spot_price));
	json_object_object_add(obj, "monthlyPrice", monthly);
	json_object_object_add(obj, "billingMethods", billing);
	json_object_object_add(obj, "inventoryState", json_object_new_string(p->inventory));
	return obj;
}

static void nv_get_products(struct sim *sim, void *state, const struct sim_request *req,
			    struct sim_response *resp)
{
	const char *cluster_id = sim_request_query(req, "clusterId");
	const char *name = sim_request_query(req, "productName");
	const char *gpu_num = sim_request_query(req, "gpuNum");
	const struct nv_cluster *cluster = NULL;
	json_object *data, *obj;
	gint64 n;

	if (gpu_num && !parse_count(gpu_num, NV_GPU_NUM_MAX, &n)) {
		nv_refuse(resp, "VALIDATOR_PARAM", "gpuNum must be 0 to %d", NV_GPU_NUM_MAX);
		return;
	}
	if (cluster_id && *cluster_id && !(cluster = nv_cluster_by_id(cluster_id))) {
		nv_refuse(resp, "VALIDATOR_PARAM", "unknown clusterId");
		return;
	}
	data = json_object_new_array();
	for (size_t i = 0; i < G_N_ELEMENTS(nv_products); i++) {
		const struct nv_product *p = &nv_products[i];

		if (cluster && !nv_product_in(p, cluster))
			continue;
		if (name && *name && !strcasestr(p->name, name))
			continue;
		json_object_array_add(data, nv_product_json(p));
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "data", data);
	sim_response_json(resp, 200, obj);
}

static void nv_get_clusters(struct sim *sim, void *state, const struct sim_request *req,
			    struct sim_response *resp)
{
	json_object *data = json_object_new_array(), *obj;

	for (size_t i = 0; i < G_N_ELEMENTS(nv_clusters); i++) {
		json_object *c = json_object_new_object();
		json_object *gpus = json_object_new_array();

		for (size_t j = 0; j < G_N_ELEMENTS(nv_products); j++) {
			if (nv_product_in(&nv_products[j], &nv_clusters[i]))
				json_object_array_add(gpus,
						      json_object_new_string(nv_products[j].name));
		}
		json_object_object_add(c, "id", json_object_new_string(nv_clusters[i].id));
		json_object_object_add(c, "name", json_object_new_string(nv_clusters[i].name));
		json_object_object_add(c, "availableGpuType", gpus);
		json_object_object_add(c, "supportNetworkStorage", json_object_new_boolean(1));
		json_object_object_add(c, "supportInstanceNetwork", json_object_new_boolean(1));
		json_object_array_add(data, c);
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "data", data);
	sim_response_json(resp, 200, obj);
}

/* ---- start-up ---- */

/*
 * The demo: two running, one stopped, one whose image pull failed (statusError), one being
 * created, one just deleted.
 */
static void nv_add_demo(struct nv_state *nv, gint64 now)
{
	const gint64 hour = 3600 * (gint64)G_USEC_PER_SEC;
	const struct nv_cluster *sgp = &nv_clusters[0], *us = &nv_clusters[1];
	struct nv_instance *in;

	in = nv_instance_add(nv, "old-run", nv_product_by_id("3090.16c62g"), sgp, now - 30 * hour);
	nv_start_chain(in, nv_chain_remove, now);

	in = nv_instance_add(nv, "train-1", nv_product_by_id("4090.16c62g"), sgp, now - 26 * hour);
	nv_start_chain(in, nv_chain_running, in->created_us);
	nv_replace(&in->ports, "8888/http,22/tcp");

	in = nv_instance_add(nv, "infer-a", nv_product_by_id("a100.32c120g"), us, now - 5 * hour);
	in->gpu_num = 2;
	in->rootfs = 200;
	nv_start_chain(in, nv_chain_running, in->created_us);

	in = nv_instance_add(nv, "notebook", nv_product_by_id("4090.16c62g"), us, now - 3 * hour);
	nv_start_chain(in, nv_chain_exited, in->created_us);

	in = nv_instance_add(nv, "bad-image", nv_product_by_id("3090.16c62g"), sgp, now - hour);
	nv_replace(&in->image, "nosuch/image:latest");
	nv_start_chain(in, nv_chain_pulling, in->created_us);
	in->status_error = g_strdup("pull image failed: manifest unknown");

	nv_instance_add(nv, "fresh", nv_product_by_id("l40s.16c62g"), &nv_clusters[2], now);
}

/* --instances N: long-running instances over the past week, for benchmarks. */
static void nv_add_bulk(struct nv_state *nv, int count, gint64 now)
{
	const gint64 day = 24 * 3600 * (gint64)G_USEC_PER_SEC;
	gint64 spacing = count ? MAX(5 * day / count, 1) : 1;
	char name[32];

	for (int i = 0; i < count; i++) {
		const struct nv_product *p = &nv_products[g_rand_int_range(
		    sim_rand(nv->sim), 0, (gint32)G_N_ELEMENTS(nv_products) - 1)];
		struct nv_instance *in;

		g_snprintf(name, sizeof(name), "bench-%05d", i + 1);
		in = nv_instance_add(nv, name, p, nv_cluster_by_id(p->clusters[0]),
				     now - 7 * day + i * spacing);
		nv_start_chain(in, nv_chain_running, in->created_us);
	}
}

static void *nv_init(struct sim *sim, const struct sim_options *opts)
{
	struct nv_state *nv = g_new0(struct nv_state, 1);
	gint64 now = sim_now_us(sim);

	nv->sim = sim;
	nv->key = opts->novita_key;
	nv->max_page_size = opts->page_size;
	nv->instances = g_ptr_array_new_with_free_func(nv_instance_free);
	nv_add_bulk(nv, opts->instances, now);
	if (opts->demo)
		nv_add_demo(nv, now);
	return nv;
}

static void nv_fini(void *state)
{
	struct nv_state *nv = state;

	g_ptr_array_free(nv->instances, TRUE);
	g_free(nv);
}

static const struct sim_route nv_routes[] = {
    {"GET", "gpu/instances", nv_get_instances, 0},
    {"GET", "gpu/instance", nv_get_instance, 0},
    {"POST", "gpu/instance/create", nv_post_create, 0},
    {"POST", "gpu/instance/start", nv_post_start, 0},
    {"POST", "gpu/instance/stop", nv_post_stop, 0},
    {"POST", "gpu/instance/restart", nv_post_restart, 0},
    {"POST", "gpu/instance/delete", nv_post_delete, 0},
    {"GET", "products", nv_get_products, 0},
    {"GET", "clusters", nv_get_clusters, 0},
};

const struct sim_provider novita_provider = {
    .name = "novita",
    .prefix = NV_PREFIX,
    .routes = nv_routes,
    .n_routes = G_N_ELEMENTS(nv_routes),
    .init = nv_init,
    .fini = nv_fini,
    .authorize = nv_authorize,
    .error = nv_error,
};
