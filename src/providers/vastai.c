/* Vast.ai (console.vast.ai): the v0 REST API, JSON <-> model.
 *
 * Every path ends in '/', as the CLI sends them.  The key goes only in the
 * bearer header (http.c), never in a query string.  Replies are bare
 * objects; failures are {"success":false,"error":"<code>","msg":"..."},
 * sometimes {"detail":...} or plain text.  Ids are integers. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "gpufs/log.h"
#include "gpufs/provider.h"
#include "gpufs/util.h"
#include "vastai.h"

/* Characters of a non-JSON error body quoted in a message. */
/* Rows of the offers table when offers_filter does not say otherwise. */
#define OFFERS_LIMIT 64
/* Offers looked at when picking one for gpu_type=. */
#define PICK_LIMIT 16
/* The CLI's default disk when the spec gives none (GB). */
#define DEFAULT_DISK_GB 10
#define LABEL_MAX	1024
/* A 429 comes from a limiter in front of the API: nothing was done, so even a
 * create may be sent again.  http.c pauses the account after a 429 and
 * retries only safe requests; a change waits that pause plus ours, doubling
 * (Vast.ai's gaps are per endpoint, up to 4.5 s for a create). */
#define RATE_LIMIT_TRIES   4
#define RATE_LIMIT_WAIT_US (500 * G_TIME_SPAN_MILLISECOND)
/* Logs: Vast.ai uploads them to result_url some time after the request; the
 * CLI polls 30 x 0.3 s.  We wait at most LOGS_DEADLINE_US in all and read
 * the last LOGS_TAIL lines, at most LOGS_MAX_BYTES. */
#define LOGS_TAIL	 "1000"
#define LOGS_POLL_US	 (300 * G_TIME_SPAN_MILLISECOND)
#define LOGS_DEADLINE_US (10 * G_TIME_SPAN_SECOND)
#define LOGS_TIMEOUT_MS	 5000
#define LOGS_MAX_BYTES	 (4 * 1024 * 1024)

G_GNUC_PRINTF(2, 3)
static void set_message(char **errmsg, const char *fmt, ...)
{
	va_list ap;

	if (!errmsg)
		return;
	va_start(ap, fmt);
	*errmsg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

static char *printable(const char *text)
{
	return g_strescape(text ? text : "", NULL);
}

static const char *plain_json(json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* ---- status ---- */

static gboolean word_is(const char *word, const char *expected)
{
	return word && g_ascii_strcasecmp(word, expected) == 0;
}

/* The one place the three state words become a status.  Guesses, from the
 * notes: cur_state "unloaded" means destroyed whatever else is said; a stop
 * shows intended "stopped" while the container still runs (stopping), and
 * may end as "exited" rather than "stopped" (then it is stopped, not
 * failed); "frozen" keeps the GPUs but runs nothing (stopped); a start waits
 * in "stopped" until the machine has room (still stopped, as the notes'
 * fake shows it). */
enum gpufs_status vastai_map_status(const char *actual, const char *intended, const char *cur_state)
{
	gboolean stopping = word_is(intended, "stopped");

	if (word_is(cur_state, "unloaded"))
		return GPUFS_STATUS_TERMINATED;
	if (!actual || word_is(actual, "created") || word_is(actual, "loading") ||
	    word_is(actual, "rebooting") || word_is(actual, "scheduling"))
		return GPUFS_STATUS_PENDING;
	if (word_is(actual, "running"))
		return stopping ? GPUFS_STATUS_STOPPING : GPUFS_STATUS_RUNNING;
	if (word_is(actual, "stopped") || word_is(actual, "frozen"))
		return GPUFS_STATUS_STOPPED;
	if (word_is(actual, "exited"))
		return stopping ? GPUFS_STATUS_STOPPED : GPUFS_STATUS_ERROR;
	if (word_is(actual, "unknown") || word_is(actual, "offline"))
		return GPUFS_STATUS_ERROR;
	return GPUFS_STATUS_UNKNOWN;
}

/* ---- instances ---- */

/* Only what an ssh host can be, so the ssh file never carries anything a
 * shell would act on. */
static gboolean is_host(const char *text)
{
	for (const char *p = text; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr(".:-[]", *p))
			return FALSE;
	return *text != '\0';
}

/* A port as a number or a numeric string; 0 when it is neither. */
static long port_of(json_object *value)
{
	long port = 0;

	if (json_object_is_type(value, json_type_int))
		port = (long)json_object_get_int64(value);
	else if (json_object_is_type(value, json_type_string)) {
		g_autofree char *text = g_strstrip(g_strdup(json_object_get_string(value)));

		if (!gpufs_parse_long(text, 1, 65535, &port))
			port = 0;
	}
	return port >= 1 && port <= 65535 ? port : 0;
}

/* The host port mapped to the container's 22/tcp.  `ports` comes in two
 * shapes: the Docker map {"22/tcp":[{"HostIp":..,"HostPort":"41022"}]}
 * (the CLI, v1), or a bare list of container ports [8080, 8081] (the
 * show-instance doc), which names no host port: 0 then. */
static long direct_ssh_port(json_object *obj)
{
	json_object *ports = gpufs_json_member(obj, "ports", json_type_object);
	json_object *bindings = gpufs_json_member(ports, "22/tcp", json_type_array);

	for (size_t i = 0; bindings && i < json_object_array_length(bindings); i++) {
		json_object *binding = json_object_array_get_idx(bindings, i);
		json_object *host_port = NULL;

		if (json_object_object_get_ex(binding, "HostPort", &host_port) &&
		    port_of(host_port))
			return port_of(host_port);
	}
	return 0;
}

static gboolean is_jupyter(json_object *obj)
{
	g_autofree char *runtype = gpufs_json_string(obj, "image_runtype");

	return runtype && strstr(runtype, "jupyter");
}

/* The CLI's ssh-url: direct to public_ipaddr when 22/tcp is mapped, else
 * through the proxy ssh_host:ssh_port (one port up for jupyter runtypes,
 * whose proxy port is taken by jupyter). */
char *vastai_ssh_command(json_object *obj)
{
	g_autofree char *ip = gpufs_json_string(obj, "public_ipaddr");
	g_autofree char *host = gpufs_json_string(obj, "ssh_host");
	long port = direct_ssh_port(obj);
	json_object *proxy_port = NULL;

	if (port && ip && is_host(ip))
		return g_strdup_printf("ssh -p %ld root@%s", port, ip);
	if (!host || !is_host(host) || !json_object_object_get_ex(obj, "ssh_port", &proxy_port))
		return NULL;
	port = port_of(proxy_port);
	if (!port)
		return NULL;
	if (is_jupyter(obj) && port < 65535)
		port++;
	return g_strdup_printf("ssh -p %ld root@%s", port, host);
}

/* Vast.ai's RAM is in MB, really MiB (what the host's kernel reports as
 * MemTotal).  We show GiB rounded to the nearest whole number, like every
 * other provider's whole-GB memory: 128576 MB -> 126. */
char *vastai_memory_gb(json_object *obj, const char *key)
{
	double mb;

	if (!gpufs_json_number(obj, key, &mb) || mb < 0)
		return NULL;
	return gpufs_format_integer(round(mb / 1024.0));
}

static char *time_text(json_object *obj, const char *key)
{
	double seconds;

	if (!gpufs_json_number(obj, key, &seconds) || seconds <= 0)
		return NULL;
	return gpufs_format_epoch(seconds);
}

static void set_extras(struct gpufs_instance *inst, json_object *obj)
{
	g_autofree char *util = gpufs_json_number_text(obj, "gpu_util");
	g_autofree char *temp = gpufs_json_number_text(obj, "gpu_temp");
	g_autofree char *reliability = gpufs_json_number_text(obj, "reliability2");

	if (!reliability)
		reliability = gpufs_json_number_text(obj, "reliability");
	gpufs_instance_set_extra(inst, VASTAI_X_GPU_UTIL, util);
	gpufs_instance_set_extra(inst, VASTAI_X_GPU_TEMP, temp);
	gpufs_instance_set_extra(inst, VASTAI_X_RELIABILITY, reliability);
}

static void set_status(struct gpufs_instance *inst, json_object *obj)
{
	g_autofree char *actual = gpufs_json_string(obj, "actual_status");
	g_autofree char *intended = gpufs_json_string(obj, "intended_status");
	g_autofree char *cur_state = gpufs_json_string(obj, "cur_state");
	enum gpufs_status status = vastai_map_status(actual, intended, cur_state);
	/* provider_status: the word that decided; "unloaded" says more than
	 * whatever actual_status is left at after a destroy. */
	const char *word = status == GPUFS_STATUS_TERMINATED ? cur_state : actual;

	gpufs_instance_set_status(inst, status, word);
	/* status_msg is chatter while things go well ("success, running
	 * ..."); it is the failure text only when the instance failed. */
	if (status == GPUFS_STATUS_ERROR || status == GPUFS_STATUS_UNKNOWN)
		gpufs_instance_take(inst, GPUFS_F_ERROR, gpufs_json_string(obj, "status_msg"));
}

/* Members that grant access: kept out of the json file (the seed carries a
 * jupyter_token; a create reply carries instance_api_key). */
static const char *const vastai_secrets[] = {"jupyter_token", "instance_api_key", "api_key",
					     "password", NULL};

struct gpufs_instance *vastai_instance_from_json(json_object *obj, char **errmsg)
{
	struct gpufs_instance *inst;
	char *id;

	if (!json_object_is_type(obj, json_type_object)) {
		set_message(errmsg, "a vastai instance is not a JSON object");
		return NULL;
	}
	id = gpufs_json_integer_text(obj, "id");
	if (!id || id[0] == '-') {
		g_free(id);
		set_message(errmsg, "a vastai instance has no id");
		return NULL;
	}
	inst = gpufs_instance_new(VASTAI_EXTRA_COUNT);
	gpufs_instance_take(inst, GPUFS_F_ID, id);
	gpufs_instance_take(inst, GPUFS_F_NAME, gpufs_json_string(obj, "label"));
	set_status(inst, obj);
	gpufs_instance_take(inst, GPUFS_F_IP, gpufs_json_string(obj, "public_ipaddr"));
	gpufs_instance_take(inst, GPUFS_F_SSH, vastai_ssh_command(obj));
	gpufs_instance_take(inst, GPUFS_F_GPU_TYPE, gpufs_json_string(obj, "gpu_name"));
	gpufs_instance_take(inst, GPUFS_F_GPU_COUNT, gpufs_json_integer_text(obj, "num_gpus"));
	/* The instance's share of the machine, not the machine (cpu_cores). */
	gpufs_instance_take(inst, GPUFS_F_CPU_CORES,
			    gpufs_json_number_text(obj, "cpu_cores_effective"));
	gpufs_instance_take(inst, GPUFS_F_MEMORY_GB, vastai_memory_gb(obj, "cpu_ram"));
	gpufs_instance_take(inst, GPUFS_F_DISK_GB, gpufs_json_number_text(obj, "disk_space"));
	gpufs_instance_take(inst, GPUFS_F_REGION, gpufs_json_string(obj, "geolocation"));
	gpufs_instance_take(inst, GPUFS_F_IMAGE, gpufs_json_string(obj, "image_uuid"));
	gpufs_instance_take(inst, GPUFS_F_COST_PER_HOUR, gpufs_json_number_text(obj, "dph_total"));
	gpufs_instance_take(inst, GPUFS_F_CREATED_AT, time_text(obj, "start_date"));
	set_extras(inst, obj);
	inst->json = gpufs_json_pretty_redacted(obj, vastai_secrets);
	return inst;
}

struct gpufs_offer *vastai_offer_from_json(json_object *obj, char **errmsg)
{
	gboolean rentable;
	struct gpufs_offer *offer;
	char *id = gpufs_json_integer_text(obj, "id");
	double rate;

	if (!id) {
		set_message(errmsg, "a vastai offer has no id");
		return NULL;
	}
	offer = gpufs_offer_new();
	offer->values[GPUFS_O_ID] = id;
	offer->values[GPUFS_O_GPU_TYPE] = gpufs_json_string(obj, "gpu_name");
	offer->values[GPUFS_O_GPU_COUNT] = gpufs_json_integer_text(obj, "num_gpus");
	offer->values[GPUFS_O_CPU_CORES] = gpufs_json_number_text(obj, "cpu_cores_effective");
	offer->values[GPUFS_O_MEMORY_GB] = vastai_memory_gb(obj, "cpu_ram");
	offer->values[GPUFS_O_DISK_GB] = gpufs_json_number_text(obj, "disk_space");
	offer->values[GPUFS_O_REGION] = gpufs_json_string(obj, "geolocation");
	if (gpufs_json_bool(obj, "rentable", &rentable))
		offer->values[GPUFS_O_AVAILABLE] = g_strdup(gpufs_offer_available(rentable));
	if (gpufs_json_number(obj, "dph_total", &rate)) {
		offer->values[GPUFS_O_COST_PER_HOUR] = gpufs_format_number(rate);
		offer->cost_per_hour = rate;
	} else {
		offer->cost_per_hour = INFINITY; /* unpriced offers sort last */
	}
	return offer;
}

/* ---- the offers query ---- */

static json_object *op(const char *name, json_object *value)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, name, value);
	return obj;
}

/* The CLI's defaults (verified, rentable, not rented, not external), priced
 * on demand, cheapest first, a bounded number.  allocated_storage prices the
 * offers for the disk a create sends by default. */
static json_object *default_query(void)
{
	json_object *q = json_object_new_object();
	json_object *order = json_object_new_array();
	json_object *by_price = json_object_new_array();

	json_object_object_add(q, "verified", op("eq", json_object_new_boolean(1)));
	json_object_object_add(q, "rentable", op("eq", json_object_new_boolean(1)));
	json_object_object_add(q, "rented", op("eq", json_object_new_boolean(0)));
	json_object_object_add(q, "external", op("eq", json_object_new_boolean(0)));
	json_object_array_add(by_price, json_object_new_string("dph_total"));
	json_object_array_add(by_price, json_object_new_string("asc"));
	json_object_array_add(order, by_price);
	json_object_object_add(q, "order", order);
	json_object_object_add(q, "type", json_object_new_string("on-demand"));
	json_object_object_add(q, "allocated_storage", json_object_new_int(DEFAULT_DISK_GB));
	json_object_object_add(q, "limit", json_object_new_int(OFFERS_LIMIT));
	return q;
}

/* offers_filter (the account's config key) is a JSON object merged over the
 * defaults one top-level key at a time: a key replaces the default of the
 * same name, a null removes it.  E.g.
 *   offers_filter = {"verified": null, "num_gpus": {"gte": 2}, "limit": 20}
 * drops the verified filter, asks for 2+ GPUs and shows 20 rows. */
json_object *vastai_offers_query(const char *filter_json, char **errmsg)
{
	json_object *q = default_query();
	json_object *filter;

	if (!filter_json || !*filter_json)
		return q;
	filter = json_tokener_parse(filter_json);
	if (!json_object_is_type(filter, json_type_object)) {
		json_object_put(filter);
		json_object_put(q);
		set_message(errmsg, "offers_filter must be a JSON object, like "
				    "{\"num_gpus\": {\"gte\": 2}}");
		return NULL;
	}
	json_object_object_foreach(filter, key, value)
	{
		if (value)
			json_object_object_add(q, key, json_object_get(value));
		else
			json_object_object_del(q, key);
	}
	json_object_put(filter);
	return q;
}

static const char *offers_filter(struct gpufs_api *api)
{
	return api->options ? g_hash_table_lookup(api->options, "offers_filter") : NULL;
}

/* ---- spec checks and the create body ---- */

static const char *const runtypes[] = {
    /* The documented words, then the CLI's tokens. */
    "ssh",
    "ssh_direct",
    "ssh_proxy",
    "jupyter",
    "jupyter_direct",
    "args",
    "ssh_direc ssh_proxy",
    "jupyter_proxy ssh_proxy",
};

/* Sent when the spec names none: the ssh file then has a proxy way in on
 * every machine (ssh_direct needs direct ports). */
#define DEFAULT_RUNTYPE "ssh"

enum field_kind {
	FIELD_TEXT,
	FIELD_BOOL,
	FIELD_PRICE,
	FIELD_RUNTYPE,
	FIELD_STATE,
	FIELD_ARGS,
	FIELD_PORTS,
};

/* The documented create fields a spec may pass as vastai.<field>; `ports`
 * is ours: "8000 8080/udp" becomes env entries "-p 8000:8000":"1". */
static const struct {
	const char *field;
	enum field_kind kind;
} passthrough_fields[] = {
    {"runtype", FIELD_RUNTYPE},
    {"price", FIELD_PRICE},
    {"target_state", FIELD_STATE},
    {"cancel_unavail", FIELD_BOOL},
    {"args", FIELD_ARGS},
    {"args_str", FIELD_TEXT},
    {"image_login", FIELD_TEXT},
    {"template_hash_id", FIELD_TEXT},
    {"use_jupyter_lab", FIELD_BOOL},
    {"jupyter_dir", FIELD_TEXT},
    {"python_utf8", FIELD_BOOL},
    {"lang_utf8", FIELD_BOOL},
    {"ports", FIELD_PORTS},
};

static const struct {
	const char *field;
	const char *common_key;
} fields_with_common_key[] = {
    {"image", "image="},     {"disk", "disk_gb="}, {"label", "name="},
    {"onstart", "onstart="}, {"env", "env.NAME="}, {"client_id", "nothing: gpufs sends it"},
    {"ask_id", "offer="},    {"id", "offer="},
};

static gboolean parse_bool(const char *text, gboolean *out)
{
	if (g_strcmp0(text, "true") == 0 || g_strcmp0(text, "1") == 0) {
		*out = TRUE;
		return TRUE;
	}
	if (g_strcmp0(text, "false") == 0 || g_strcmp0(text, "0") == 0) {
		*out = FALSE;
		return TRUE;
	}
	return FALSE;
}

static gboolean parse_price(const char *text, double *out)
{
	char *end = NULL;
	double value;

	if (!text || !*text)
		return FALSE;
	value = g_ascii_strtod(text, &end);
	if (*end || !isfinite(value) || value < 0.001 || value > 128)
		return FALSE;
	*out = value;
	return TRUE;
}

static json_object *parse_args(const char *text)
{
	json_object *args = json_tokener_parse(text);

	if (!json_object_is_type(args, json_type_array))
		goto bad;
	for (size_t i = 0; i < json_object_array_length(args); i++)
		if (!json_object_is_type(json_object_array_get_idx(args, i), json_type_string))
			goto bad;
	return args;
bad:
	json_object_put(args);
	return NULL;
}

/* "8000 8080/udp,22": each becomes "-p P:P[/proto]"; NULL when one is bad. */
static char **parse_ports(const char *text)
{
	g_auto(GStrv) words = g_strsplit_set(text, " ,", -1);
	GPtrArray *out = g_ptr_array_new_with_free_func(g_free); /* a bad word frees the rest */

	for (int i = 0; words[i]; i++) {
		char *proto = strchr(words[i], '/');
		long port;

		if (!*words[i])
			continue;
		if (proto)
			*proto++ = '\0';
		if (!gpufs_parse_long(words[i], 1, 65535, &port) ||
		    (proto && strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0)) {
			g_ptr_array_free(out, TRUE);
			return NULL;
		}
		g_ptr_array_add(out, proto ? g_strdup_printf("-p %ld:%ld/%s", port, port, proto)
					   : g_strdup_printf("-p %ld:%ld", port, port));
	}
	if (!out->len) {
		g_ptr_array_free(out, TRUE);
		return NULL;
	}
	g_ptr_array_add(out, NULL);
	return (char **)g_ptr_array_free(out, FALSE);
}

static gboolean is_runtype(const char *text)
{
	for (gsize i = 0; i < G_N_ELEMENTS(runtypes); i++)
		if (g_strcmp0(text, runtypes[i]) == 0)
			return TRUE;
	return FALSE;
}

static int check_value(const char *field, enum field_kind kind, const char *value, char **errmsg)
{
	gboolean flag;
	double price;
	json_object *args;
	char **ports;

	switch (kind) {
	case FIELD_TEXT:
		if (value && *value)
			return 0;
		set_message(errmsg, "vastai.%s must not be empty", field);
		return -EINVAL;
	case FIELD_BOOL:
		if (parse_bool(value, &flag))
			return 0;
		set_message(errmsg, "vastai.%s must be true or false", field);
		return -EINVAL;
	case FIELD_PRICE:
		if (parse_price(value, &price))
			return 0;
		set_message(errmsg, "vastai.price is a bid in $/h from 0.001 to 128");
		return -EINVAL;
	case FIELD_RUNTYPE:
		if (is_runtype(value))
			return 0;
		set_message(errmsg, "vastai.runtype must be ssh, ssh_direct, ssh_proxy, jupyter, "
				    "jupyter_direct or args");
		return -EINVAL;
	case FIELD_STATE:
		if (g_strcmp0(value, "running") == 0 || g_strcmp0(value, "stopped") == 0)
			return 0;
		set_message(errmsg, "vastai.target_state must be running or stopped");
		return -EINVAL;
	case FIELD_ARGS:
		args = parse_args(value);
		if (args) {
			json_object_put(args);
			return 0;
		}
		set_message(errmsg, "vastai.args must be a JSON list of strings, like "
				    "[\"--port\", \"8000\"] (or use vastai.args_str)");
		return -EINVAL;
	case FIELD_PORTS:
		ports = parse_ports(value);
		if (ports) {
			g_strfreev(ports);
			return 0;
		}
		set_message(errmsg, "vastai.ports takes ports like \"8000 8080/udp\"");
		return -EINVAL;
	}
	return -EINVAL;
}

static int vastai_check_spec_key(const char *field, const char *value, char **errmsg)
{
	for (gsize i = 0; i < G_N_ELEMENTS(passthrough_fields); i++)
		if (strcmp(field, passthrough_fields[i].field) == 0)
			return check_value(field, passthrough_fields[i].kind, value, errmsg);
	for (gsize i = 0; i < G_N_ELEMENTS(fields_with_common_key); i++) {
		if (strcmp(field, fields_with_common_key[i].field) == 0) {
			set_message(errmsg, "vastai.%s: use %s instead", field,
				    fields_with_common_key[i].common_key);
			return -EINVAL;
		}
	}
	g_autofree char *shown = printable(field);

	set_message(errmsg, "vastai has no create field \"%s\"", shown);
	return -EINVAL;
}

/* Offer (ask) ids are positive integers. */
static gboolean is_number_id(const char *text)
{
	return gpufs_parse_long(text, 1, G_MAXLONG, NULL);
}

/* A JSON spec names its offer in "ask_id" (which is taken out of the body:
 * the API refuses fields it does not know); the rest is sent as is. */
static char *raw_ask_id(json_object *raw)
{
	char *id = gpufs_json_integer_text(raw, "ask_id");

	if (!id)
		id = gpufs_json_string(raw, "ask_id");
	if (id && !is_number_id(id))
		g_clear_pointer(&id, g_free);
	return id;
}

static int vastai_check_spec(const struct gpufs_spec *spec, char **errmsg)
{
	if (spec->raw_json) {
		g_autofree char *ask = raw_ask_id(spec->raw_json);

		if (!ask) {
			set_message(errmsg, "a JSON spec for vastai needs \"ask_id\": the offer "
					    "to rent (an id from offers)");
			return -EINVAL;
		}
		return 0;
	}
	if (spec->offer && !is_number_id(spec->offer)) {
		g_autofree char *shown = printable(spec->offer);

		set_message(errmsg, "vastai offer \"%s\" is not an offer id (a number from offers)",
			    shown);
		return -EINVAL;
	}
	if (!spec->offer && !spec->gpu_type) {
		set_message(errmsg, "vastai needs offer= (an id from offers) or gpu_type=");
		return -EINVAL;
	}
	if (!spec->image && !gpufs_spec_kv_find(spec->passthrough, "template_hash_id")) {
		set_message(errmsg, "vastai needs image= (a docker image, like "
				    "pytorch/pytorch:latest) or vastai.template_hash_id=");
		return -EINVAL;
	}
	if (spec->ssh_key) {
		set_message(errmsg, "vastai takes no ssh_key=: Vast.ai installs the account's "
				    "ssh keys on every instance");
		return -EINVAL;
	}
	return 0;
}

static void add_string(json_object *body, const char *key, const char *value)
{
	if (value)
		json_object_object_add(body, key, json_object_new_string(value));
}

static json_object *env_object(const struct gpufs_spec *spec)
{
	json_object *env = json_object_new_object();
	const char *ports_text = gpufs_spec_kv_find(spec->passthrough, "ports");

	for (guint i = 0; spec->env && i < spec->env->len; i++) {
		const struct gpufs_spec_kv *kv = spec->env->pdata[i];

		json_object_object_add(env, kv->key, json_object_new_string(kv->value));
	}
	if (ports_text) {
		g_auto(GStrv) ports = parse_ports(ports_text);

		for (int i = 0; ports && ports[i]; i++)
			json_object_object_add(env, ports[i], json_object_new_string("1"));
	}
	return env;
}

static json_object *passthrough_value(enum field_kind kind, const char *value)
{
	gboolean flag = FALSE;
	double price = 0;

	switch (kind) {
	case FIELD_BOOL:
		parse_bool(value, &flag);
		return json_object_new_boolean(flag);
	case FIELD_PRICE:
		parse_price(value, &price);
		return json_object_new_double(price);
	case FIELD_ARGS:
		return parse_args(value);
	default:
		return json_object_new_string(value);
	}
}

static int add_passthrough(json_object *body, GPtrArray *passthrough, char **errmsg)
{
	for (guint i = 0; passthrough && i < passthrough->len; i++) {
		const struct gpufs_spec_kv *kv = passthrough->pdata[i];

		/* Checked again: a spec may come from anywhere. */
		if (vastai_check_spec_key(kv->key, kv->value, errmsg) < 0)
			return -EINVAL;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(passthrough_fields); i++) {
		const char *field = passthrough_fields[i].field;
		const char *value = gpufs_spec_kv_find(passthrough, field);

		if (!value || passthrough_fields[i].kind == FIELD_PORTS)
			continue;
		json_object_object_add(body, field,
				       passthrough_value(passthrough_fields[i].kind, value));
	}
	return 0;
}

json_object *vastai_create_body(const struct gpufs_spec *spec, char **errmsg)
{
	json_object *body;

	if (!spec) {
		set_message(errmsg, "no spec");
		return NULL;
	}
	if (spec->raw_json) {
		body = json_object_new_object();
		json_object_object_foreach(spec->raw_json, key, value)
		{
			if (strcmp(key, "ask_id") != 0)
				json_object_object_add(body, key, json_object_get(value));
		}
		return body;
	}
	body = json_object_new_object();
	/* The CLI sends client_id "me" with every create. */
	add_string(body, "client_id", "me");
	add_string(body, "image", spec->image);
	json_object_object_add(
	    body, "disk",
	    json_object_new_int64(spec->disk_gb > 0 ? spec->disk_gb : DEFAULT_DISK_GB));
	add_string(body, "label", spec->name);
	add_string(body, "onstart", spec->onstart);
	json_object_object_add(body, "env", env_object(spec));
	add_string(body, "runtype", DEFAULT_RUNTYPE);
	if (add_passthrough(body, spec->passthrough, errmsg) < 0) {
		json_object_put(body);
		return NULL;
	}
	return body;
}

/* ---- replies and errors ---- */

static json_object *parse_body(const struct gpufs_http_reply *reply)
{
	if (!reply || !reply->body || !reply->body->len)
		return NULL;
	return gpufs_http_reply_json(reply, NULL);
}

char *vastai_error_message(const struct gpufs_http_reply *reply)
{
	json_object *root = parse_body(reply);
	/* The CLI shows msg; some replies carry only error or detail. */
	char *message = gpufs_json_string(root, "msg");
	long status = reply ? reply->status : 0;

	if (!message)
		message = gpufs_json_string(root, "detail");
	if (!message)
		message = gpufs_json_string(root, "error");
	json_object_put(root);
	if (message)
		return message;

	return gpufs_reply_status_words(status, reply ? reply->body : NULL);
}

static char *error_code(const struct gpufs_http_reply *reply)
{
	json_object *root = parse_body(reply);
	char *code = gpufs_json_string(root, "error");

	json_object_put(root);
	return code;
}

int vastai_reply_error(const struct gpufs_http_reply *reply, enum vastai_call call,
		       const char *offer, char **errmsg)
{
	g_autofree char *words = vastai_error_message(reply);
	g_autofree char *code = error_code(reply);
	long status = reply ? reply->status : 0;

	if (status == 401 || g_strcmp0(code, "auth_error") == 0) {
		set_message(errmsg, "vastai refused the API key: %s", words);
		return -EACCES;
	}
	if (call == VASTAI_CREATE && offer &&
	    (status == 404 || status == 410 || g_strcmp0(code, "no_such_ask") == 0)) {
		set_message(errmsg, "vastai has no offer %s (gone or never listed): %s", offer,
			    words);
		return -EINVAL;
	}
	switch (status) {
	case 400:
	case 422:
		set_message(errmsg, "vastai refused the %s: %s",
			    call == VASTAI_CREATE ? "spec" : "request", words);
		return -EINVAL;
	case 403:
		set_message(errmsg, "vastai denied access: %s", words);
		return -EACCES;
	case 404:
	case 410:
		set_message(errmsg, "not found at vastai: %s", words);
		return -ENOENT;
	case 429:
		set_message(errmsg, "rate limited by vastai: %s", words);
		return -EAGAIN;
	default:
		break;
	}
	if (g_str_has_prefix(words, "HTTP "))
		set_message(errmsg, "vastai answered %s", words);
	else
		set_message(errmsg, "vastai answered HTTP %ld: %s", status, words);
	return status >= 200 && status < 300 ? -EIO : -gpufs_http_status_errno(status);
}

static gboolean is_success(long status)
{
	return status >= 200 && status < 300;
}

/* {"success": false} in a 200 is a refusal too. */
static gboolean says_failure(json_object *root)
{
	gboolean success = TRUE;

	return gpufs_json_bool(root, "success", &success) && !success;
}

/* One request whose reply must be a 2xx JSON object (its JSON in *root when
 * @root is not NULL).  -errno and *errmsg otherwise. */
static int request_ex(struct gpufs_api *api, enum gpufs_http_method method, const char *path,
		      json_object *body, enum vastai_call call, unsigned flags, const char *offer,
		      json_object **root, char **errmsg)
{
	/* Vast.ai wants a JSON body, {} when empty, on every write. */
	const char *text = body ? plain_json(body) : (method == GPUFS_HTTP_GET ? NULL : "{}");
	struct gpufs_http_reply reply = {0};
	json_object *parsed = NULL;
	int rc;

	if (call == VASTAI_READ)
		flags |= GPUFS_HTTP_SAFE;
	for (int attempt = 0;; attempt++) {
		g_autofree char *transport_error = NULL;

		rc = gpufs_http_request(api->http, method, path, text, flags, &reply,
					&transport_error);
		if (rc < 0) {
			set_message(errmsg, "%s",
				    transport_error ? transport_error : g_strerror(-rc));
			gpufs_http_reply_clear(&reply);
			return rc;
		}
		/* A safe request was retried by http.c already. */
		if (reply.status != 429 || (flags & GPUFS_HTTP_SAFE) ||
		    attempt + 1 >= RATE_LIMIT_TRIES)
			break;
		gpufs_http_reply_clear(&reply);
		g_usleep(RATE_LIMIT_WAIT_US << attempt);
	}
	if (!is_success(reply.status)) {
		rc = vastai_reply_error(&reply, call, offer, errmsg);
		gpufs_http_reply_clear(&reply);
		return rc;
	}
	parsed = parse_body(&reply);
	if (parsed && says_failure(parsed)) {
		reply.status = 400;
		rc = vastai_reply_error(&reply, call, offer, errmsg);
	} else if (root && !json_object_is_type(parsed, json_type_object)) {
		set_message(errmsg, "vastai sent an unreadable reply to %.*s (HTTP %ld)",
			    (int)strcspn(path, "?"), path, reply.status);
		rc = -EIO;
	} else if (root) {
		*root = json_object_get(parsed);
	}
	json_object_put(parsed);
	gpufs_http_reply_clear(&reply);
	return rc;
}

static int request(struct gpufs_api *api, enum gpufs_http_method method, const char *path,
		   json_object *body, enum vastai_call call, json_object **root, char **errmsg)
{
	return request_ex(api, method, path, body, call, 0, NULL, root, errmsg);
}

/* ---- instances ---- */

static char *instance_path(const char *prefix, const char *id, const char *query)
{
	g_autofree char *escaped = gpufs_http_escape(id);

	return g_strdup_printf("%s%s/%s", prefix, escaped, query ? query : "");
}

static int vastai_list_instances(struct gpufs_api *api, GPtrArray *out, char **errmsg)
{
	json_object *root = NULL;
	json_object *items;
	int rc;

	rc = request(api, GPUFS_HTTP_GET, "/instances/?owner=me", NULL, VASTAI_READ, &root, errmsg);
	if (rc < 0)
		return rc;
	if (!json_object_object_get_ex(root, "instances", &items)) {
		json_object_put(root);
		set_message(errmsg, "vastai's instance list has no \"instances\"");
		return -EIO;
	}
	/* null is an empty account. */
	for (size_t i = 0; items && i < json_object_array_length(items); i++) {
		g_autofree char *message = NULL;
		struct gpufs_instance *inst =
		    vastai_instance_from_json(json_object_array_get_idx(items, i), &message);

		if (inst)
			g_ptr_array_add(out, inst);
		else
			gpufs_warn("%s: skipping a vastai list item: %s",
				   api->account ? api->account : "vastai", message);
	}
	json_object_put(root);
	return 0;
}

static int vastai_get_instance(struct gpufs_api *api, const char *id, struct gpufs_instance **out,
			       char **errmsg)
{
	g_autofree char *path = NULL;
	g_autofree char *message = NULL;
	json_object *root = NULL;
	json_object *item;
	int rc;

	if (!id || !is_number_id(id)) {
		set_message(errmsg, "no such vastai instance");
		return -ENOENT;
	}
	path = instance_path("/instances/", id, "?owner=me");
	rc = request(api, GPUFS_HTTP_GET, path, NULL, VASTAI_READ, &root, errmsg);
	if (rc < 0)
		return rc;
	/* A gone (or foreign) instance is {"instances": null}. */
	item = gpufs_json_member(root, "instances", json_type_object);
	if (!item) {
		json_object_put(root);
		set_message(errmsg, "vastai has no instance %s", id);
		return -ENOENT;
	}
	*out = vastai_instance_from_json(item, &message);
	json_object_put(root);
	if (!*out) {
		set_message(errmsg, "vastai's reply for instance %s: %s", id, message);
		return -EIO;
	}
	return 0;
}

/* ---- offers ---- */

static int search_offers(struct gpufs_api *api, json_object *query, json_object **offers,
			 char **errmsg)
{
	json_object *root = NULL;
	int rc;

	/* A search changes nothing: safe to retry, allowed with -o ro. */
	rc = request(api, GPUFS_HTTP_POST, "/bundles/", query, VASTAI_READ, &root, errmsg);
	if (rc < 0)
		return rc;
	*offers = json_object_get(gpufs_json_member(root, "offers", json_type_array));
	json_object_put(root);
	if (!*offers) {
		set_message(errmsg, "vastai's offer search reply has no \"offers\" list");
		return -EIO;
	}
	return 0;
}

static int vastai_list_offers(struct gpufs_api *api, GPtrArray *out, char **errmsg)
{
	json_object *query = vastai_offers_query(offers_filter(api), errmsg);
	json_object *offers = NULL;
	int rc;

	if (!query)
		return -EINVAL;
	rc = search_offers(api, query, &offers, errmsg);
	json_object_put(query);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < json_object_array_length(offers); i++) {
		struct gpufs_offer *offer =
		    vastai_offer_from_json(json_object_array_get_idx(offers, i), NULL);

		if (offer)
			g_ptr_array_add(out, offer);
	}
	json_object_put(offers);
	return 0;
}

/* ---- create ---- */

/* The CLI writes GPU names with '_' for ' ' (RTX_4090); Vast.ai's have
 * spaces. */
static char *gpu_name(const char *gpu_type)
{
	return g_strdelimit(g_strdup(gpu_type), "_", ' ');
}

static json_object *pick_query(const struct gpufs_spec *spec, char **errmsg)
{
	json_object *q = vastai_offers_query(NULL, errmsg);
	g_autofree char *name = gpu_name(spec->gpu_type);

	json_object_object_add(q, "gpu_name", op("eq", json_object_new_string(name)));
	json_object_object_add(
	    q, "num_gpus",
	    op("eq", json_object_new_int64(spec->gpu_count > 0 ? spec->gpu_count : 1)));
	/* geolocation filters take country codes ("US"). */
	if (spec->region)
		json_object_object_add(q, "geolocation",
				       op("eq", json_object_new_string(spec->region)));
	json_object_object_add(q, "limit", json_object_new_int(PICK_LIMIT));
	if (spec->disk_gb > 0)
		json_object_object_add(q, "allocated_storage",
				       json_object_new_int64(spec->disk_gb));
	return q;
}

/* The cheapest offer for gpu_type (and gpu_count, region), whatever order the
 * reply comes in; *note says which was picked. */
static int pick_offer(struct gpufs_api *api, const struct gpufs_spec *spec, char **ask, char **note,
		      char **errmsg)
{
	json_object *query = pick_query(spec, errmsg);
	json_object *offers = NULL;
	struct gpufs_offer *best = NULL;
	int rc;

	rc = search_offers(api, query, &offers, errmsg);
	json_object_put(query);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < json_object_array_length(offers); i++) {
		struct gpufs_offer *offer =
		    vastai_offer_from_json(json_object_array_get_idx(offers, i), NULL);

		if (offer && (!best || offer->cost_per_hour < best->cost_per_hour)) {
			gpufs_offer_free(best);
			best = offer;
		} else {
			gpufs_offer_free(offer);
		}
	}
	json_object_put(offers);
	if (!best) {
		g_autofree char *name = gpu_name(spec->gpu_type);

		set_message(errmsg, "no vastai offer has %ld x %s%s%s: see offers",
			    spec->gpu_count > 0 ? spec->gpu_count : 1, name,
			    spec->region ? " in " : "", spec->region ? spec->region : "");
		return -EINVAL;
	}
	*ask = g_strdup(best->values[GPUFS_O_ID]);
	*note = g_strdup_printf(
	    "offer %s: %s x %s, %s $/h, %s (the cheapest for gpu_type)", best->values[GPUFS_O_ID],
	    best->values[GPUFS_O_GPU_COUNT] ?: "?", best->values[GPUFS_O_GPU_TYPE] ?: "?",
	    best->values[GPUFS_O_COST_PER_HOUR] ?: "?", best->values[GPUFS_O_REGION] ?: "?");
	gpufs_offer_free(best);
	return 0;
}

static int vastai_create(struct gpufs_api *api, const struct gpufs_spec *spec, char **new_id,
			 char **errmsg)
{
	g_autofree char *ask = NULL;
	g_autofree char *note = NULL;
	g_autofree char *path = NULL;
	json_object *body, *root = NULL;
	int rc;

	if (!spec || vastai_check_spec(spec, errmsg) < 0)
		return -EINVAL;
	body = vastai_create_body(spec, errmsg);
	if (!body)
		return -EINVAL;
	if (spec->raw_json)
		ask = raw_ask_id(spec->raw_json);
	else if (spec->offer)
		ask = g_strdup(spec->offer);
	else if ((rc = pick_offer(api, spec, &ask, &note, errmsg)) < 0)
		goto out;
	path = instance_path("/asks/", ask, NULL);
	rc = request_ex(api, GPUFS_HTTP_PUT, path, body, VASTAI_CREATE, 0, ask, &root, errmsg);
	if (rc < 0)
		goto out;
	*new_id = gpufs_json_integer_text(root, "new_contract");
	if (!*new_id) {
		/* The instance probably exists and costs money: say where to look. */
		set_message(errmsg, "vastai accepted the create but its reply names no "
				    "new_contract: look in instances/ before trying again");
		rc = -EIO;
		goto out;
	}
	if (note)
		*errmsg = g_steal_pointer(&note);
out:
	json_object_put(root);
	json_object_put(body);
	return rc;
}

/* ---- control, name, balance ---- */

static json_object *one_member(const char *key, json_object *value)
{
	return op(key, value);
}

static int vastai_control(struct gpufs_api *api, const char *id, const char *verb, char **errmsg)
{
	g_autofree char *path = NULL;
	json_object *body = NULL;
	enum gpufs_http_method method = GPUFS_HTTP_PUT;
	int rc;

	if (!id || !is_number_id(id)) {
		set_message(errmsg, "no such vastai instance");
		return -ENOENT;
	}
	if (g_strcmp0(verb, "start") == 0 || g_strcmp0(verb, "stop") == 0) {
		path = instance_path("/instances/", id, NULL);
		body = one_member("state",
				  json_object_new_string(verb[2] == 'a' ? "running" : "stopped"));
	} else if (g_strcmp0(verb, "reboot") == 0 || g_strcmp0(verb, "restart") == 0) {
		path = instance_path("/instances/reboot/", id, NULL);
	} else if (g_strcmp0(verb, "terminate") == 0) {
		path = instance_path("/instances/", id, NULL);
		method = GPUFS_HTTP_DELETE;
	} else {
		g_autofree char *shown = printable(verb);

		set_message(errmsg, "vastai has no verb \"%s\"", shown);
		return -EINVAL;
	}
	rc = request(api, method, path, body, VASTAI_CONTROL, NULL, errmsg);
	json_object_put(body);
	return rc;
}

static int vastai_write_file(struct gpufs_api *api, const char *id, const char *file,
			     const char *value, char **errmsg)
{
	g_autofree char *path = NULL;
	json_object *body;
	int rc;

	if (g_strcmp0(file, "name") != 0) {
		set_message(errmsg, "%s cannot be written", file ? file : "");
		return -EPERM;
	}
	if (!id || !is_number_id(id)) {
		set_message(errmsg, "no such vastai instance");
		return -ENOENT;
	}
	if (!value || strlen(value) > LABEL_MAX) {
		set_message(errmsg, "a vastai label has at most %d characters", LABEL_MAX);
		return -EINVAL;
	}
	path = instance_path("/instances/", id, NULL);
	body = one_member("label", json_object_new_string(value));
	rc = request(api, GPUFS_HTTP_PUT, path, body, VASTAI_CONTROL, NULL, errmsg);
	json_object_put(body);
	return rc;
}

static int vastai_balance(struct gpufs_api *api, char **text, char **errmsg)
{
	json_object *root = NULL;
	double credit;
	int rc;

	rc = request(api, GPUFS_HTTP_GET, "/users/current/", NULL, VASTAI_READ, &root, errmsg);
	if (rc < 0)
		return rc;
	/* credit is what the CLI shows; what balance means is unclear. */
	if (!gpufs_json_number(root, "credit", &credit)) {
		json_object_put(root);
		set_message(errmsg, "vastai's user reply has no credit");
		return -EIO;
	}
	json_object_put(root);
	*text = gpufs_format_number(credit);
	return 0;
}

/* ---- logs ---- */

/* Splits an http(s) URL into its origin and the rest (path and query). */
static gboolean split_url(const char *url, char **origin, char **rest)
{
	const char *host, *slash;

	if (g_str_has_prefix(url, "https://"))
		host = url + strlen("https://");
	else if (g_str_has_prefix(url, "http://"))
		host = url + strlen("http://");
	else
		return FALSE;
	slash = strchr(host, '/');
	if (slash == host || !*host)
		return FALSE;
	for (const char *p = url; *p; p++)
		if (!g_ascii_isgraph(*p))
			return FALSE;
	*origin = slash ? g_strndup(url, slash - url) : g_strdup(url);
	*rest = g_strdup(slash ? slash : "/");
	return TRUE;
}

/* Fetches the uploaded logs: no key (the URL is pre-signed, and often on
 * another host), polling while it is not there yet. */
static int fetch_logs(const char *url, const char *id, GString *out, char **errmsg)
{
	g_autofree char *origin = NULL;
	g_autofree char *rest = NULL;
	struct gpufs_http_options options = {
	    .account = "vastai logs",
	    .timeout_ms = LOGS_TIMEOUT_MS,
	    .max_retries = -1, /* we poll ourselves */
	    .max_body = LOGS_MAX_BYTES,
	};
	gint64 deadline = g_get_monotonic_time() + LOGS_DEADLINE_US;
	struct gpufs_http *http;
	int rc = -EAGAIN;

	if (!split_url(url, &origin, &rest)) {
		set_message(errmsg, "vastai sent a logs URL that is not http(s)");
		return -EIO;
	}
	options.base_url = origin;
	http = gpufs_http_new(&options);
	for (;;) {
		struct gpufs_http_reply reply = {0};
		g_autofree char *transport_error = NULL;

		rc = gpufs_http_request(http, GPUFS_HTTP_GET, rest, NULL, GPUFS_HTTP_SAFE, &reply,
					&transport_error);
		if (rc < 0) {
			set_message(errmsg, "fetching the logs of instance %s: %s", id,
				    transport_error ? transport_error : g_strerror(-rc));
		} else if (is_success(reply.status)) {
			g_string_append_len(out, reply.body->str, reply.body->len);
			if (out->len && out->str[out->len - 1] != '\n')
				g_string_append_c(out, '\n');
		} else if (reply.status == 403 || reply.status == 404) {
			rc = -EAGAIN; /* not uploaded yet */
		} else {
			set_message(errmsg, "fetching the logs of instance %s: HTTP %ld", id,
				    reply.status);
			rc = -EIO;
		}
		gpufs_http_reply_clear(&reply);
		if (rc != -EAGAIN || g_get_monotonic_time() + LOGS_POLL_US > deadline)
			break;
		g_usleep(LOGS_POLL_US);
	}
	gpufs_http_free(http);
	if (rc == -EAGAIN)
		set_message(errmsg,
			    "the logs of instance %s are not ready yet: read logs again in "
			    "a few seconds",
			    id);
	return rc;
}

static int vastai_read_live_file(struct gpufs_api *api, const char *id, const char *file,
				 GString *out, char **errmsg)
{
	g_autofree char *path = NULL;
	g_autofree char *url = NULL;
	json_object *body, *root = NULL;
	int rc;

	if (g_strcmp0(file, "logs") != 0) {
		set_message(errmsg, "no live file %s", file ? file : "");
		return -ENOENT;
	}
	if (!id || !is_number_id(id)) {
		set_message(errmsg, "no such vastai instance");
		return -ENOENT;
	}
	path = instance_path("/instances/request_logs/", id, NULL);
	body = one_member("tail", json_object_new_string(LOGS_TAIL));
	/* Asking for logs changes nothing at the provider: allowed with -o ro
	 * and retried like a read. */
	rc = request_ex(api, GPUFS_HTTP_PUT, path, body, VASTAI_CONTROL, GPUFS_HTTP_SAFE, NULL,
			&root, errmsg);
	json_object_put(body);
	if (rc < 0)
		return rc;
	url = gpufs_json_string(root, "result_url");
	json_object_put(root);
	if (!url) {
		set_message(errmsg, "vastai's logs reply has no result_url");
		return -EIO;
	}
	return fetch_logs(url, id, out, errmsg);
}

static const char *const vastai_verbs[] = {"start", "stop", "restart", "reboot", "terminate", NULL};
static const char *const vastai_extra_files[] = {
    [VASTAI_X_GPU_UTIL] = "gpu_util",
    [VASTAI_X_GPU_TEMP] = "gpu_temp",
    [VASTAI_X_RELIABILITY] = "reliability",
    [VASTAI_EXTRA_COUNT] = NULL,
};
static const char *const vastai_live_files[] = {"logs", NULL};
static const char *const vastai_writable_files[] = {"name", NULL};

const struct gpufs_provider gpufs_provider_vastai = {
    .name = "vastai",
    .default_url = "https://console.vast.ai/api/v0",
    .key_env = "VAST_API_KEY",
    .json_name_field = "label",
    .ctl_verbs = vastai_verbs,
    .extra_files = vastai_extra_files,
    .detail_files = NULL, /* list items are whole instance objects */
    .live_files = vastai_live_files,
    .writable_files = vastai_writable_files,
    .list_instances = vastai_list_instances,
    .get_instance = vastai_get_instance,
    .list_offers = vastai_list_offers,
    .check_spec_key = vastai_check_spec_key,
    .check_spec = vastai_check_spec,
    .create = vastai_create,
    .control = vastai_control,
    .balance = vastai_balance,
    .read_live_file = vastai_read_live_file,
    .write_file = vastai_write_file,
};
