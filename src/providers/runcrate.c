/* Runcrate (runcrate.ai): the infrastructure REST API v1, JSON <-> model.
 *
 * Replies are {"data": ...} with an optional "meta"; failures are
 * {"error":{"code","message"}}.  Runcrate has no start or stop call: an
 * instance is created, then terminated. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "gpufs/log.h"
#include "gpufs/provider.h"
#include "gpufs/util.h"
#include "runcrate.h"

/* Bounds the pages of one listing, so a server that always says hasMore
 * cannot keep us looping. */
#define MAX_PAGES 10000
/* Characters of a non-JSON error body quoted in a message. */

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

static const struct {
	const char *word;
	enum gpufs_status status;
} status_words[] = {
    /* The documented words. */
    {"starting", GPUFS_STATUS_PENDING},
    {"deploying", GPUFS_STATUS_PENDING},
    {"running", GPUFS_STATUS_RUNNING},
    {"error", GPUFS_STATUS_ERROR},
    {"terminated", GPUFS_STATUS_TERMINATED},
    /* Words the SDKs' fixtures also use. */
    {"pending", GPUFS_STATUS_PENDING},
    {"provisioning", GPUFS_STATUS_PENDING},
    {"creating", GPUFS_STATUS_PENDING},
    {"failed", GPUFS_STATUS_ERROR},
};

enum gpufs_status runcrate_map_status(const char *word)
{
	for (gsize i = 0; word && i < G_N_ELEMENTS(status_words); i++)
		if (g_ascii_strcasecmp(word, status_words[i].word) == 0)
			return status_words[i].status;
	return GPUFS_STATUS_UNKNOWN;
}

/* Only what an ssh host can be (a name, IPv4 or IPv6), so the ssh file never
 * carries anything a shell would act on. */
static gboolean is_host(const char *text)
{
	for (const char *p = text; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr(".:-[]", *p))
			return FALSE;
	return *text != '\0';
}

/* An id made safe for a message: control bytes escaped. */
static char *printable(const char *text)
{
	return g_strescape(text ? text : "", NULL);
}

struct gpufs_instance *runcrate_instance_from_json(json_object *obj, char **errmsg)
{
	struct gpufs_instance *inst;
	char *id, *status_word, *ip;

	if (!json_object_is_type(obj, json_type_object)) {
		set_message(errmsg, "a runcrate instance is not a JSON object");
		return NULL;
	}
	id = gpufs_json_string(obj, "id");
	if (!id) {
		set_message(errmsg, "a runcrate instance has no id");
		return NULL;
	}
	if (!gpufs_json_member(obj, "name", json_type_string) ||
	    !gpufs_json_member(obj, "status", json_type_string)) {
		g_autofree char *shown = printable(id);

		set_message(errmsg, "runcrate instance %s has no name or status", shown);
		g_free(id);
		return NULL;
	}

	inst = gpufs_instance_new(0);
	gpufs_instance_take(inst, GPUFS_F_ID, id);
	gpufs_instance_take(inst, GPUFS_F_NAME, gpufs_json_string(obj, "name"));
	status_word = gpufs_json_string(obj, "status");
	gpufs_instance_set_status(inst, runcrate_map_status(status_word), status_word);
	g_free(status_word);

	ip = gpufs_json_string(obj, "ip");
	/* The notes do not say which user Runcrate images log in as; root is
	 * a guess that matches the usual GPU images. */
	if (ip && is_host(ip))
		gpufs_instance_take(inst, GPUFS_F_SSH, g_strdup_printf("ssh root@%s", ip));
	gpufs_instance_take(inst, GPUFS_F_IP, ip);

	gpufs_instance_take(inst, GPUFS_F_GPU_TYPE, gpufs_json_string(obj, "gpu_type"));
	gpufs_instance_take(inst, GPUFS_F_GPU_COUNT, gpufs_json_integer_text(obj, "gpu_count"));
	gpufs_instance_take(inst, GPUFS_F_CPU_CORES, gpufs_json_integer_text(obj, "cpu_cores"));
	gpufs_instance_take(inst, GPUFS_F_MEMORY_GB, gpufs_json_integer_text(obj, "memory"));
	gpufs_instance_take(inst, GPUFS_F_DISK_GB, gpufs_json_integer_text(obj, "storage"));
	gpufs_instance_take(inst, GPUFS_F_REGION, gpufs_json_string(obj, "region"));
	gpufs_instance_take(inst, GPUFS_F_IMAGE, gpufs_json_string(obj, "os_image"));
	gpufs_instance_take(inst, GPUFS_F_COST_PER_HOUR,
			    gpufs_json_number_text(obj, "cost_per_hour"));

	g_autofree char *created = gpufs_json_string(obj, "created_at");

	gpufs_instance_take(inst, GPUFS_F_CREATED_AT, gpufs_normalize_time(created));
	/* GPUFS_F_ERROR stays empty: an Instance carries no failure text. */
	inst->json = gpufs_json_pretty(obj);
	return inst;
}

struct gpufs_offer *runcrate_offer_from_json(json_object *obj, char **errmsg)
{
	struct gpufs_offer *offer;
	char *id = gpufs_json_string(obj, "id");
	double rate;

	if (!id) {
		set_message(errmsg, "a runcrate instance type has no id");
		return NULL;
	}
	offer = gpufs_offer_new();
	offer->values[GPUFS_O_ID] = id;
	offer->values[GPUFS_O_GPU_TYPE] = gpufs_json_string(obj, "gpu_type");
	offer->values[GPUFS_O_GPU_COUNT] = gpufs_json_integer_text(obj, "gpu_count");
	offer->values[GPUFS_O_CPU_CORES] = gpufs_json_integer_text(obj, "cpu_cores");
	offer->values[GPUFS_O_MEMORY_GB] = gpufs_json_integer_text(obj, "memory_gb");
	offer->values[GPUFS_O_DISK_GB] = gpufs_json_integer_text(obj, "storage_gb");
	offer->values[GPUFS_O_REGION] = gpufs_json_string(obj, "region");
	/* The API lists "combinations currently available" (seed 001). */
	offer->values[GPUFS_O_AVAILABLE] = g_strdup(gpufs_offer_available(TRUE));
	if (gpufs_json_number(obj, "hourly_rate", &rate)) {
		offer->values[GPUFS_O_COST_PER_HOUR] = gpufs_format_number(rate);
		offer->cost_per_hour = rate;
	} else {
		offer->cost_per_hour = INFINITY; /* unpriced offers sort last */
	}
	return offer;
}

/* Create fields that have a common spec key: runcrate.<field> would only
 * duplicate it, so the message points to the common key. */
static const struct {
	const char *field;
	const char *common_key;
} fields_with_common_key[] = {
    {"name", "name="},
    {"instance_type_id", "offer="},
    {"gpu_type", "gpu_type="},
    {"gpu_count", "gpu_count="},
    {"region", "region="},
    {"template", "image="},
    {"storage", "disk_gb="},
    {"ssh_key_id", "ssh_key="},
    {"env_vars", "env.NAME="},
    {"launch_script_base64", "onstart="},
    /* Runcrate takes one launch script; onstart= is sent as
     * launch_script_base64, so a raw launch_script would be a second. */
    {"launch_script", "onstart="},
};

static gboolean is_count_field(const char *field)
{
	return strcmp(field, "cpu_cores") == 0 || strcmp(field, "memory") == 0;
}

/* startup_commands takes one command per spec: the value is sent as a
 * one-element array (a spec key cannot be given twice). */
static gboolean is_text_field(const char *field)
{
	return strcmp(field, "storage_id") == 0 || strcmp(field, "startup_commands") == 0;
}

static int runcrate_check_spec_key(const char *field, const char *value, char **errmsg)
{
	if (is_count_field(field)) {
		if (gpufs_parse_long(value, 1, G_MAXINT32, NULL))
			return 0;
		set_message(errmsg, "runcrate.%s must be a whole number of at least 1", field);
		return -EINVAL;
	}
	if (is_text_field(field))
		return 0;
	for (gsize i = 0; i < G_N_ELEMENTS(fields_with_common_key); i++) {
		if (strcmp(field, fields_with_common_key[i].field) == 0) {
			set_message(errmsg, "runcrate.%s: use %s instead", field,
				    fields_with_common_key[i].common_key);
			return -EINVAL;
		}
	}
	g_autofree char *shown = printable(field);

	set_message(errmsg, "runcrate has no create field \"%s\"", shown);
	return -EINVAL;
}

static int runcrate_check_spec(const struct gpufs_spec *spec, char **errmsg)
{
	if (spec->raw_json) {
		g_autofree char *name = gpufs_json_string(spec->raw_json, "name");
		g_autofree char *type_id = gpufs_json_string(spec->raw_json, "instance_type_id");
		g_autofree char *gpu_type = gpufs_json_string(spec->raw_json, "gpu_type");

		if (!name) {
			set_message(errmsg, "a JSON spec for runcrate needs a \"name\" string");
			return -EINVAL;
		}
		if (!type_id && !gpu_type) {
			set_message(errmsg, "a JSON spec for runcrate needs \"instance_type_id\" "
					    "or \"gpu_type\"");
			return -EINVAL;
		}
		return 0;
	}
	if (!spec->name) {
		set_message(errmsg, "runcrate needs name=");
		return -EINVAL;
	}
	if (!spec->offer && !spec->gpu_type) {
		set_message(errmsg, "runcrate needs offer= (an id from offers) or gpu_type=");
		return -EINVAL;
	}
	return 0;
}

static void add_string(json_object *body, const char *key, const char *value)
{
	if (value)
		json_object_object_add(body, key, json_object_new_string(value));
}

static void add_count(json_object *body, const char *key, long value)
{
	if (value > 0)
		json_object_object_add(body, key, json_object_new_int64(value));
}

static json_object *env_vars_array(GPtrArray *env)
{
	json_object *array = json_object_new_array();

	for (guint i = 0; i < env->len; i++) {
		const struct gpufs_spec_kv *kv = env->pdata[i];
		json_object *item = json_object_new_object();

		add_string(item, "key", kv->key);
		add_string(item, "value", kv->value);
		json_object_array_add(array, item);
	}
	return array;
}

/* The passthrough fields, checked again: a spec may come from anywhere. */
static gboolean check_passthrough(GPtrArray *passthrough, char **errmsg)
{
	for (guint i = 0; passthrough && i < passthrough->len; i++) {
		const struct gpufs_spec_kv *kv = passthrough->pdata[i];

		if (runcrate_check_spec_key(kv->key, kv->value, errmsg) < 0)
			return FALSE;
	}
	return TRUE;
}

static void add_passthrough_count(json_object *body, GPtrArray *passthrough, const char *field)
{
	long value;

	if (gpufs_parse_long(gpufs_spec_kv_find(passthrough, field), 1, G_MAXINT32, &value))
		add_count(body, field, value);
}

json_object *runcrate_create_body(const struct gpufs_spec *spec, char **errmsg)
{
	json_object *body;
	const char *command;

	if (!spec) {
		set_message(errmsg, "no spec");
		return NULL;
	}
	if (spec->raw_json)
		return json_object_get(spec->raw_json);
	if (!check_passthrough(spec->passthrough, errmsg))
		return NULL;

	/* Only documented fields, in the documented order. */
	body = json_object_new_object();
	add_string(body, "name", spec->name);
	add_string(body, "gpu_type", spec->gpu_type);
	add_string(body, "instance_type_id", spec->offer);
	add_string(body, "region", spec->region);
	add_count(body, "gpu_count", spec->gpu_count);
	add_passthrough_count(body, spec->passthrough, "cpu_cores");
	add_passthrough_count(body, spec->passthrough, "memory");
	add_count(body, "storage", spec->disk_gb);
	add_string(body, "template", spec->image);
	add_string(body, "ssh_key_id", spec->ssh_key);
	if (spec->env && spec->env->len)
		json_object_object_add(body, "env_vars", env_vars_array(spec->env));
	command = gpufs_spec_kv_find(spec->passthrough, "startup_commands");
	if (command) {
		json_object *commands = json_object_new_array();

		json_object_array_add(commands, json_object_new_string(command));
		json_object_object_add(body, "startup_commands", commands);
	}
	add_string(body, "storage_id", gpufs_spec_kv_find(spec->passthrough, "storage_id"));
	if (spec->onstart) {
		g_autofree char *encoded =
		    g_base64_encode((const guchar *)spec->onstart, strlen(spec->onstart));

		add_string(body, "launch_script_base64", encoded);
	}
	return body;
}

static json_object *parse_body(const struct gpufs_http_reply *reply)
{
	if (!reply || !reply->body || !reply->body->len)
		return NULL;
	return json_tokener_parse(reply->body->str);
}

/* The envelope's member @key ("message", "code"), trimmed; NULL if absent. */
static char *envelope_text(json_object *root, const char *key)
{
	json_object *error = gpufs_json_member(root, "error", json_type_object);

	if (error)
		return gpufs_json_string(error, key);
	/* Not the documented envelope: take {"error":"..."} or
	 * {"message":"..."}, which proxies and frameworks send. */
	if (strcmp(key, "message") != 0)
		return NULL;
	char *text = gpufs_json_string(root, "error");

	return text ? text : gpufs_json_string(root, "message");
}

char *runcrate_error_message(const struct gpufs_http_reply *reply)
{
	json_object *root = parse_body(reply);
	char *message = envelope_text(root, "message");
	long status = reply ? reply->status : 0;

	if (!message)
		message = envelope_text(root, "code");
	json_object_put(root);
	if (message)
		return message;

	return gpufs_reply_status_words(status, reply ? reply->body : NULL);
}

enum failure {
	FAILURE_OTHER,
	FAILURE_INVALID,
	FAILURE_KEY,
	FAILURE_FORBIDDEN,
	FAILURE_CREDITS,
	FAILURE_NOT_FOUND,
	FAILURE_RATE_LIMITED,
};

static enum failure failure_from_status(long status)
{
	switch (status) {
	case 400:
	case 422:
		return FAILURE_INVALID;
	case 401:
		return FAILURE_KEY;
	case 402:
		return FAILURE_CREDITS;
	case 403:
		return FAILURE_FORBIDDEN;
	case 404:
	case 410:
		return FAILURE_NOT_FOUND;
	case 429:
		return FAILURE_RATE_LIMITED;
	default:
		return FAILURE_OTHER;
	}
}

/* Only for a status that says nothing by itself (the status decides first);
 * the codes come from the SDKs, so compare them case-insensitively. */
static enum failure failure_from_code(const char *code)
{
	static const struct {
		const char *code;
		enum failure failure;
	} codes[] = {
	    {"validation_error", FAILURE_INVALID},     {"unauthorized", FAILURE_KEY},
	    {"insufficient_credits", FAILURE_CREDITS}, {"not_found", FAILURE_NOT_FOUND},
	    {"rate_limited", FAILURE_RATE_LIMITED},
	};

	for (gsize i = 0; code && i < G_N_ELEMENTS(codes); i++)
		if (g_ascii_strcasecmp(code, codes[i].code) == 0)
			return codes[i].failure;
	return FAILURE_OTHER;
}

static gboolean contains_words(const char *text, const char *lower_words)
{
	g_autofree char *lower = g_ascii_strdown(text, -1);

	return strstr(lower, lower_words) != NULL;
}

int runcrate_reply_error(const struct gpufs_http_reply *reply, enum runcrate_call call,
			 char **errmsg)
{
	g_autofree char *words = runcrate_error_message(reply);
	long status = reply ? reply->status : 0;
	enum failure failure = failure_from_status(status);

	if (failure == FAILURE_OTHER) {
		json_object *root = parse_body(reply);
		g_autofree char *code = envelope_text(root, "code");

		json_object_put(root);
		failure = failure_from_code(code);
	}
	switch (failure) {
	case FAILURE_INVALID:
		set_message(errmsg, "runcrate refused the %s: %s",
			    call == RUNCRATE_CREATE ? "spec" : "request", words);
		return -EINVAL;
	case FAILURE_KEY:
		set_message(errmsg, "runcrate refused the API key: %s", words);
		return -EACCES;
	case FAILURE_FORBIDDEN:
		set_message(errmsg, "runcrate denied access: %s", words);
		return -EACCES;
	case FAILURE_CREDITS:
		set_message(errmsg, "insufficient credits: %s", words);
		return -EIO;
	case FAILURE_NOT_FOUND:
		set_message(errmsg, "not found at runcrate: %s", words);
		return -ENOENT;
	case FAILURE_RATE_LIMITED:
		set_message(errmsg, "rate limited by runcrate: %s", words);
		return -EAGAIN;
	case FAILURE_OTHER:
		break;
	}
	/* Out of stock is a plain 500; nothing was created. */
	if (call == RUNCRATE_CREATE && contains_words(words, "no longer available")) {
		set_message(errmsg, "runcrate: %s", words);
		return -EIO;
	}
	if (g_str_has_prefix(words, "HTTP "))
		set_message(errmsg, "runcrate answered %s", words);
	else
		set_message(errmsg, "runcrate answered HTTP %ld: %s", status, words);
	return status >= 200 && status < 300 ? -EIO : -gpufs_http_status_errno(status);
}

static gboolean is_success(long status)
{
	return status >= 200 && status < 300;
}

/* One request whose reply must be a 2xx; its JSON in *root when @root is
 * not NULL.  -errno and *errmsg otherwise. */
static int request(struct gpufs_api *api, enum gpufs_http_method method, const char *path,
		   const char *body, enum runcrate_call call, json_object **root, char **errmsg)
{
	/* Only reads are safe to retry: a create or a terminate is not. */
	unsigned flags = call == RUNCRATE_READ ? GPUFS_HTTP_SAFE : 0;
	struct gpufs_http_reply reply = {0};
	g_autofree char *transport_error = NULL;
	g_autofree char *parse_error = NULL;
	int rc;

	rc = gpufs_http_request(api->http, method, path, body, flags, &reply, &transport_error);
	if (rc < 0) {
		set_message(errmsg, "%s", transport_error ? transport_error : g_strerror(-rc));
		gpufs_http_reply_clear(&reply);
		return rc;
	}
	if (!is_success(reply.status)) {
		rc = runcrate_reply_error(&reply, call, errmsg);
	} else if (root) {
		*root = gpufs_http_reply_json(&reply, &parse_error);
		if (!*root) {
			set_message(errmsg,
				    "runcrate sent an unreadable reply to %s (HTTP %ld): %s", path,
				    reply.status, parse_error ? parse_error : "not JSON");
			rc = -EIO;
		}
	}
	gpufs_http_reply_clear(&reply);
	return rc;
}

typedef gpointer (*item_mapper)(json_object *item, char **errmsg);

/* One page's items; an item that does not map is skipped with a warning
 * rather than failing the whole listing. */
static void map_items(struct gpufs_api *api, json_object *items, item_mapper map, GPtrArray *out)
{
	for (size_t i = 0; i < json_object_array_length(items); i++) {
		g_autofree char *message = NULL;
		gpointer item = map(json_object_array_get_idx(items, i), &message);

		if (item)
			g_ptr_array_add(out, item);
		else
			gpufs_warn("%s: skipping a runcrate list item: %s",
				   api->account ? api->account : "runcrate", message);
	}
}

/* The next page's cursor, or NULL for the last page.  The notes call paging
 * of these lists undocumented: meta.hasMore with ?cursor=<meta.cursor> is a
 * guess from the ListMeta schema. */
static char *next_cursor(json_object *root)
{
	json_object *meta = gpufs_json_member(root, "meta", json_type_object);
	gboolean has_more = FALSE;

	if (!gpufs_json_bool(meta, "hasMore", &has_more) || !has_more)
		return NULL;
	return gpufs_json_string(meta, "cursor");
}

static char *page_path(const char *path, const char *cursor)
{
	g_autofree char *escaped = NULL;

	if (!cursor)
		return g_strdup(path);
	escaped = gpufs_http_escape(cursor);
	return g_strdup_printf("%s%scursor=%s", path, strchr(path, '?') ? "&" : "?", escaped);
}

/* Every page of a list call.  Appends to @out only when all pages came. */
static int list_pages(struct gpufs_api *api, const char *path, item_mapper map,
		      GDestroyNotify free_item, GPtrArray *out, char **errmsg)
{
	GPtrArray *items = g_ptr_array_new_with_free_func(free_item);
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	char *cursor = NULL;
	int rc = 0;

	for (int page = 0; page < MAX_PAGES; page++) {
		g_autofree char *page_url = page_path(path, cursor);
		json_object *root = NULL;
		json_object *data;

		rc = request(api, GPUFS_HTTP_GET, page_url, NULL, RUNCRATE_READ, &root, errmsg);
		if (rc < 0)
			break;
		data = gpufs_json_member(root, "data", json_type_array);
		if (!data) {
			set_message(errmsg, "runcrate's reply to %s has no \"data\" list", path);
			json_object_put(root);
			rc = -EIO;
			break;
		}
		map_items(api, data, map, items);
		cursor = next_cursor(root);
		json_object_put(root);
		/* @seen owns every cursor; one seen before would start the
		 * same pages again. */
		if (!cursor || !g_hash_table_add(seen, cursor))
			break;
	}
	g_hash_table_unref(seen);
	if (rc == 0) {
		for (guint i = 0; i < items->len; i++)
			g_ptr_array_add(out, items->pdata[i]);
		g_ptr_array_set_free_func(items, NULL);
	}
	g_ptr_array_unref(items);
	return rc;
}

static gpointer map_instance(json_object *item, char **errmsg)
{
	return runcrate_instance_from_json(item, errmsg);
}

static gpointer map_offer(json_object *item, char **errmsg)
{
	return runcrate_offer_from_json(item, errmsg);
}

static int runcrate_list_instances(struct gpufs_api *api, GPtrArray *out, char **errmsg)
{
	return list_pages(api, "/instances", map_instance, (GDestroyNotify)gpufs_instance_unref,
			  out, errmsg);
}

static int runcrate_list_offers(struct gpufs_api *api, GPtrArray *out, char **errmsg)
{
	return list_pages(api, "/instances/types", map_offer, (GDestroyNotify)gpufs_offer_free, out,
			  errmsg);
}

static char *instance_path(const char *id)
{
	g_autofree char *escaped = gpufs_http_escape(id);

	return g_strdup_printf("/instances/%s", escaped);
}

static int runcrate_get_instance(struct gpufs_api *api, const char *id, struct gpufs_instance **out,
				 char **errmsg)
{
	g_autofree char *path = NULL;
	g_autofree char *message = NULL;
	json_object *root = NULL;
	int rc;

	if (!id || !*id) {
		set_message(errmsg, "no instance id");
		return -ENOENT;
	}
	path = instance_path(id);
	rc = request(api, GPUFS_HTTP_GET, path, NULL, RUNCRATE_READ, &root, errmsg);
	if (rc < 0)
		return rc;
	*out = runcrate_instance_from_json(gpufs_json_member(root, "data", json_type_object),
					   &message);
	json_object_put(root);
	if (!*out) {
		set_message(errmsg, "runcrate's reply to %s: %s", path, message);
		return -EIO;
	}
	return 0;
}

static int runcrate_create(struct gpufs_api *api, const struct gpufs_spec *spec, char **new_id,
			   char **errmsg)
{
	json_object *body = runcrate_create_body(spec, errmsg);
	json_object *root = NULL;
	int rc;

	if (!body)
		return -EINVAL;
	rc = request(api, GPUFS_HTTP_POST, "/instances",
		     json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE),
		     RUNCRATE_CREATE, &root, errmsg);
	json_object_put(body);
	if (rc < 0)
		return rc;
	*new_id = gpufs_json_string(gpufs_json_member(root, "data", json_type_object), "id");
	json_object_put(root);
	if (!*new_id) {
		/* The instance probably exists and costs money: say where to look. */
		set_message(errmsg, "runcrate accepted the create but its reply names no "
				    "instance id: look in instances/ before trying again");
		return -EIO;
	}
	return 0;
}

static int runcrate_control(struct gpufs_api *api, const char *id, const char *verb, char **errmsg)
{
	g_autofree char *path = NULL;

	if (g_strcmp0(verb, "terminate") != 0) {
		set_message(errmsg, "runcrate has no \"%s\": it only takes terminate",
			    verb ? verb : "");
		return -EINVAL;
	}
	if (!id || !*id) {
		set_message(errmsg, "no instance id");
		return -ENOENT;
	}
	path = instance_path(id);
	/* 204 with no body, or 200: either is done. */
	return request(api, GPUFS_HTTP_DELETE, path, NULL, RUNCRATE_CONTROL, NULL, errmsg);
}

static int runcrate_balance(struct gpufs_api *api, char **text, char **errmsg)
{
	json_object *root = NULL;
	json_object *data;
	double credits;
	int rc;

	rc = request(api, GPUFS_HTTP_GET, "/billing/balance", NULL, RUNCRATE_READ, &root, errmsg);
	if (rc < 0)
		return rc;
	/* The SDKs show the fields both inside "data" and at the top. */
	data = gpufs_json_member(root, "data", json_type_object);
	if (!data)
		data = root;
	if (!gpufs_json_number(data, "creditsBalance", &credits) &&
	    !gpufs_json_number(data, "credits_balance", &credits)) {
		json_object_put(root);
		set_message(errmsg, "runcrate's balance reply has no creditsBalance");
		return -EIO;
	}
	json_object_put(root);
	*text = gpufs_format_number(credits);
	return 0;
}

static const char *const runcrate_verbs[] = {"terminate", NULL};

const struct gpufs_provider gpufs_provider_runcrate = {
    .name = "runcrate",
    /* www: the apex may redirect there, and libcurl drops the
     * Authorization header on a cross-host redirect. */
    .default_url = "https://www.runcrate.ai/api/v1",
    .key_env = "RUNCRATE_API_KEY",
    .json_name_field = "name",
    .ctl_verbs = runcrate_verbs,
    .extra_files = NULL,
    .detail_files = NULL, /* list items are complete Instances */
    .list_instances = runcrate_list_instances,
    .get_instance = runcrate_get_instance,
    .list_offers = runcrate_list_offers,
    .check_spec_key = runcrate_check_spec_key,
    .check_spec = runcrate_check_spec,
    .create = runcrate_create,
    .control = runcrate_control,
    .balance = runcrate_balance,
};
