/* Novita AI (novita.ai): the GPU instance API v1, JSON <-> model.
 *
 * Reads are GETs with a query string, every mutation a POST with a JSON body;
 * failures are {"code","reason","message","metadata"} and nearly all of them
 * are HTTP 400, "not found" included.  A list item lacks network and the
 * connectComponent* objects: it is partial, and the files built from those
 * are detail files.  The instance object carries no price: cost_per_hour
 * comes from the product's price, remembered per account for a while. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "gpufs/log.h"
#include "gpufs/provider.h"
#include "gpufs/util.h"
#include "novita.h"

/* Instances asked for per page.  No maximum is documented. */
#define PAGE_SIZE 100
/* Bounds one listing, so a server that never ends cannot keep us looping. */
#define MAX_PAGES 10000
/* Characters of a non-JSON error body quoted in a message. */
/* Product prices change rarely; asking once in a while is enough. */
#define PRICE_TTL_US (300 * G_USEC_PER_SEC)

/* Documented limits of the create call. */
#define GPU_NUM_MIN	1
#define GPU_NUM_MAX	8
#define ROOTFS_MIN_GB	10
#define ROOTFS_MAX_GB	6144
#define NAME_MAX_LEN	255
#define IMAGE_MAX_LEN	500
#define COMMAND_MAX_LEN 2047
#define ENVS_MAX	100
#define PORTS_MAX	15

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

/* --- status --- */

/* The 18 documented words (the man page lists the same table):
 *   toCreate creating pulling                        -> pending
 *   running                                          -> running
 *   toStop stopping                                  -> stopping
 *   exited                                           -> stopped
 *   toStart starting toRestart restarting
 *   toReset resetting migrating freezing             -> pending
 *   toRemove removing                                -> terminating
 *   removed                                          -> terminated
 * and a non-empty statusError                        -> error (its message
 * goes to `error`), except once removed: terminated is final. */
static const struct {
	const char *word;
	enum gpufs_status status;
} status_words[] = {
    {"toCreate", GPUFS_STATUS_PENDING},	    {"creating", GPUFS_STATUS_PENDING},
    {"pulling", GPUFS_STATUS_PENDING},	    {"running", GPUFS_STATUS_RUNNING},
    {"toStop", GPUFS_STATUS_STOPPING},	    {"stopping", GPUFS_STATUS_STOPPING},
    {"exited", GPUFS_STATUS_STOPPED},	    {"toStart", GPUFS_STATUS_PENDING},
    {"starting", GPUFS_STATUS_PENDING},	    {"toRestart", GPUFS_STATUS_PENDING},
    {"restarting", GPUFS_STATUS_PENDING},   {"toReset", GPUFS_STATUS_PENDING},
    {"resetting", GPUFS_STATUS_PENDING},    {"migrating", GPUFS_STATUS_PENDING},
    {"freezing", GPUFS_STATUS_PENDING},	    {"toRemove", GPUFS_STATUS_TERMINATING},
    {"removing", GPUFS_STATUS_TERMINATING}, {"removed", GPUFS_STATUS_TERMINATED},
};

enum gpufs_status novita_map_status(const char *word, gboolean has_status_error)
{
	enum gpufs_status status = GPUFS_STATUS_UNKNOWN;

	/* camelCase words: compared without case, as a proxy may fold it. */
	for (gsize i = 0; word && i < G_N_ELEMENTS(status_words); i++) {
		if (g_ascii_strcasecmp(word, status_words[i].word) == 0) {
			status = status_words[i].status;
			break;
		}
	}
	if (has_status_error && status != GPUFS_STATUS_TERMINATED)
		return GPUFS_STATUS_ERROR;
	return status;
}

/* --- money --- */

/* Novita prices are in 1/100000 USD per hour (35000 = $0.35/h): the docs,
 * the python SDK and a live fixture agree.  Uncertain: whether a product's
 * price is per GPU or per instance.  Product ids like "4090.16c62g" name
 * one GPU's share (cpuPerGpu, memoryPerGpu), so this takes it per GPU and
 * multiplies by the GPU count; a CPU instance (no GPU) counts as one unit. */
double novita_cost_per_hour(double price_units, double gpu_num)
{
	return price_units / 100000.0 * (gpu_num >= 1 ? gpu_num : 1);
}

gboolean novita_price_from_json(json_object *obj, struct novita_price *out)
{
	gboolean have_on_demand, have_spot;

	out->on_demand = out->spot = NAN;
	have_on_demand = gpufs_json_number(obj, "price", &out->on_demand);
	have_spot = gpufs_json_number(obj, "spotPrice", &out->spot);
	if (!have_on_demand)
		out->on_demand = NAN;
	if (!have_spot)
		out->spot = NAN;
	return have_on_demand || have_spot;
}

/* --- instance --- */

/* Only what an ssh command line is made of, so the ssh file never carries
 * anything a shell would act on besides running ssh. */
static gboolean is_plain_ssh_command(const char *text)
{
	if (!g_str_has_prefix(text, "ssh "))
		return FALSE;
	for (const char *p = text; *p; p++)
		if (!g_ascii_isalnum(*p) && !strchr(" .:-@_[]/=,+", *p))
			return FALSE;
	return TRUE;
}

static gboolean has_status_error(json_object *obj, char **message)
{
	json_object *error = gpufs_json_member(obj, "statusError", json_type_object);
	char *text = gpufs_json_string(error, "message");

	if (!text)
		text = gpufs_json_string(error, "state");
	*message = text;
	return text != NULL;
}

/* Unix seconds (the notes' guess, as a number or a string), milliseconds,
 * or an RFC 3339 text. */
static char *created_at(json_object *obj)
{
	g_autofree char *text = NULL;
	double seconds;

	if (gpufs_json_number(obj, "createdAt", &seconds)) {
		if (seconds <= 0)
			return NULL;
		return gpufs_format_epoch(seconds > 1e11 ? seconds / 1000 : seconds);
	}
	text = gpufs_json_string(obj, "createdAt");
	return text ? gpufs_normalize_time(text) : NULL;
}

/* "PORT/TYPE ENDPOINT" per mapping, one per line; no endpoint in list items. */
static char *ports_text(json_object *obj)
{
	json_object *ports = gpufs_json_member(obj, "portMappings", json_type_array);
	GString *out = g_string_new(NULL);

	for (size_t i = 0; ports && i < json_object_array_length(ports); i++) {
		json_object *item = json_object_array_get_idx(ports, i);
		g_autofree char *port = gpufs_json_integer_text(item, "port");
		g_autofree char *type = gpufs_json_string(item, "type");
		g_autofree char *endpoint = gpufs_json_string(item, "endpoint");

		if (!port)
			continue;
		if (out->len)
			g_string_append_c(out, '\n');
		g_string_append_printf(out, "%s/%s", port, type ? type : "tcp");
		if (endpoint)
			g_string_append_printf(out, " %s", endpoint);
	}
	if (!out->len) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

static char *component_text(json_object *obj, const char *component, const char *key)
{
	return gpufs_json_string(gpufs_json_member(obj, component, json_type_object), key);
}

/* Secrets never reach a file: every "password" member and imageAuth
 * ("user:pass"), at any depth. */
static const char *const novita_secrets[] = {"password", "imageAuth", NULL};

static char *public_json(json_object *obj)
{
	return gpufs_json_pretty_redacted(obj, novita_secrets);
}

static char *instance_cost(json_object *obj, GHashTable *prices)
{
	g_autofree char *product = gpufs_json_string(obj, "productId");
	g_autofree char *billing = gpufs_json_string(obj, "billingMode");
	const struct novita_price *price;
	double units, gpu_num = 1;

	if (!prices || !product)
		return NULL;
	price = g_hash_table_lookup(prices, product);
	if (!price)
		return NULL;
	units = g_strcmp0(billing, "spot") == 0 ? price->spot : price->on_demand;
	if (isnan(units))
		return NULL;
	gpufs_json_number(obj, "gpuNum", &gpu_num);
	return gpufs_format_number(novita_cost_per_hour(units, gpu_num));
}

static void fill_access(struct gpufs_instance *inst, json_object *obj)
{
	char *ssh = component_text(obj, "connectComponentSSH", "sshCommand");

	if (ssh && !is_plain_ssh_command(ssh))
		g_clear_pointer(&ssh, g_free);
	gpufs_instance_take(inst, GPUFS_F_SSH, ssh);
	/* network.ip may be a VPC address: the notes cannot say. */
	gpufs_instance_take(inst, GPUFS_F_IP, component_text(obj, "network", "ip"));
	inst->extra[NOVITA_X_PORTS] = ports_text(obj);
	inst->extra[NOVITA_X_WEB_TERMINAL] =
	    component_text(obj, "connectComponentWebTerminal", "address");
	inst->extra[NOVITA_X_JUPYTER] = component_text(obj, "connectComponentJupyter", "address");
}

struct gpufs_instance *novita_instance_from_json(json_object *obj, gboolean partial,
						 GHashTable *prices, char **errmsg)
{
	struct gpufs_instance *inst;
	g_autofree char *status_word = NULL;
	char *id, *failure = NULL;
	gboolean failed;

	if (!json_object_is_type(obj, json_type_object)) {
		set_message(errmsg, "a novita instance is not a JSON object");
		return NULL;
	}
	id = gpufs_json_string(obj, "id");
	if (!id) {
		set_message(errmsg, "a novita instance has no id");
		return NULL;
	}
	status_word = gpufs_json_string(obj, "status");
	if (!status_word) {
		g_autofree char *shown = printable(id);

		set_message(errmsg, "novita instance %s has no status", shown);
		g_free(id);
		return NULL;
	}

	inst = gpufs_instance_new(NOVITA_EXTRA_COUNT);
	inst->partial = partial;
	gpufs_instance_take(inst, GPUFS_F_ID, id);
	gpufs_instance_take(inst, GPUFS_F_NAME, gpufs_json_string(obj, "name"));
	failed = has_status_error(obj, &failure);
	gpufs_instance_set_status(inst, novita_map_status(status_word, failed), status_word);
	gpufs_instance_take(inst, GPUFS_F_ERROR, failure);
	fill_access(inst, obj);
	gpufs_instance_take(inst, GPUFS_F_GPU_TYPE, gpufs_json_string(obj, "productName"));
	gpufs_instance_take(inst, GPUFS_F_GPU_COUNT, gpufs_json_integer_text(obj, "gpuNum"));
	gpufs_instance_take(inst, GPUFS_F_CPU_CORES, gpufs_json_integer_text(obj, "cpuNum"));
	gpufs_instance_take(inst, GPUFS_F_MEMORY_GB, gpufs_json_number_text(obj, "memory"));
	gpufs_instance_take(inst, GPUFS_F_DISK_GB, gpufs_json_integer_text(obj, "rootfsSize"));
	/* The cluster id, as region= takes it in new/. */
	gpufs_instance_take(inst, GPUFS_F_REGION, gpufs_json_string(obj, "clusterId"));
	gpufs_instance_take(inst, GPUFS_F_IMAGE, gpufs_json_string(obj, "imageUrl"));
	gpufs_instance_take(inst, GPUFS_F_COST_PER_HOUR, instance_cost(obj, prices));
	gpufs_instance_take(inst, GPUFS_F_CREATED_AT, created_at(obj));
	inst->json = public_json(obj);
	return inst;
}

/* --- offers --- */

static char *regions_text(json_object *obj)
{
	json_object *regions = gpufs_json_member(obj, "regions", json_type_array);
	GString *out = g_string_new(NULL);

	for (size_t i = 0; regions && i < json_object_array_length(regions); i++) {
		json_object *item = json_object_array_get_idx(regions, i);
		g_autofree char *name = NULL;

		if (!json_object_is_type(item, json_type_string))
			continue;
		name = g_strstrip(g_strdup(json_object_get_string(item)));
		if (!*name || strchr(name, '\t') || strchr(name, '\n'))
			continue;
		g_string_append_printf(out, "%s%s", out->len ? "," : "", name);
	}
	if (!out->len) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

struct gpufs_offer *novita_offer_from_json(json_object *obj, char **errmsg)
{
	struct gpufs_offer *offer;
	struct novita_price price;
	gboolean available;
	char *id = gpufs_json_string(obj, "id");

	if (!id) {
		set_message(errmsg, "a novita product has no id");
		return NULL;
	}
	offer = gpufs_offer_new();
	offer->values[GPUFS_O_ID] = id;
	offer->values[GPUFS_O_GPU_TYPE] = gpufs_json_string(obj, "name");
	/* A product is one GPU's share; gpu_count= multiplies it. */
	offer->values[GPUFS_O_GPU_COUNT] = g_strdup("1");
	offer->values[GPUFS_O_CPU_CORES] = gpufs_json_integer_text(obj, "cpuPerGpu");
	offer->values[GPUFS_O_MEMORY_GB] = gpufs_json_number_text(obj, "memoryPerGpu");
	offer->values[GPUFS_O_DISK_GB] = gpufs_json_integer_text(obj, "maxRootFS");
	offer->values[GPUFS_O_REGION] = regions_text(obj);
	if (gpufs_json_bool(obj, "availableDeploy", &available))
		offer->values[GPUFS_O_AVAILABLE] = g_strdup(gpufs_offer_available(available));
	offer->cost_per_hour = INFINITY; /* unpriced offers sort last */
	if (novita_price_from_json(obj, &price) && !isnan(price.on_demand)) {
		offer->cost_per_hour = novita_cost_per_hour(price.on_demand, 1);
		offer->values[GPUFS_O_COST_PER_HOUR] = gpufs_format_number(offer->cost_per_hour);
	}
	return offer;
}

/* --- new/ specs --- */

/* Create fields that have a common spec key. */
static const struct {
	const char *field;
	const char *common_key;
} fields_with_common_key[] = {
    {"name", "name="},		{"productId", "offer="},  {"gpuNum", "gpu_count="},
    {"rootfsSize", "disk_gb="}, {"imageUrl", "image="},	  {"envs", "env.NAME="},
    {"command", "onstart="},	{"clusterId", "region="},
};

/* Documented create fields a key=value line cannot express. */
static const char *const json_only_fields[] = {"tools", "networkStorages"};

enum field_type {
	FIELD_TEXT,
	FIELD_LONG_TEXT,
	FIELD_KIND,
	FIELD_BILLING,
	FIELD_PORTS,
	FIELD_BOOL,
	FIELD_MONTH,
	FIELD_RENEW_MONTHS,
};

/* The novita.* keys: documented create fields without a common key. */
static const struct {
	const char *field;
	enum field_type type;
} passthrough_fields[] = {
    {"kind", FIELD_KIND},
    {"ports", FIELD_PORTS},
    {"entrypoint", FIELD_LONG_TEXT},
    {"imageAuth", FIELD_TEXT},
    {"imageAuthId", FIELD_TEXT},
    {"networkId", FIELD_TEXT},
    {"billingMode", FIELD_BILLING},
    {"month", FIELD_MONTH},
    {"autoRenew", FIELD_BOOL},
    {"autoRenewMonth", FIELD_RENEW_MONTHS},
    {"minCudaVersion", FIELD_TEXT},
};

static gboolean is_one_of(const char *value, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(value, *words) == 0)
			return TRUE;
	return FALSE;
}

/* "8888/http,22/tcp": tcp or http, not the reserved 2222-2224. */
static gboolean check_ports(const char *value, char **errmsg)
{
	g_auto(GStrv) items = g_strsplit(value, ",", -1);
	guint n = g_strv_length(items);

	if (n == 0 || n > PORTS_MAX) {
		set_message(errmsg, "novita.ports takes 1 to %d ports", PORTS_MAX);
		return FALSE;
	}
	for (guint i = 0; i < n; i++) {
		g_auto(GStrv) parts = g_strsplit(g_strstrip(items[i]), "/", 2);
		long port;

		if (!parts[0] || !parts[1] || !gpufs_parse_long(parts[0], 1, 65535, &port) ||
		    (strcmp(parts[1], "tcp") != 0 && strcmp(parts[1], "http") != 0)) {
			set_message(errmsg, "novita.ports: \"%s\" is not PORT/tcp or PORT/http",
				    items[i]);
			return FALSE;
		}
		if (port >= 2222 && port <= 2224) {
			set_message(errmsg, "novita.ports: %ld is reserved (2222-2224)", port);
			return FALSE;
		}
	}
	return TRUE;
}

static int check_field_value(const char *field, enum field_type type, const char *value,
			     char **errmsg)
{
	static const char *const kinds[] = {"gpu", "cpu", NULL};
	static const char *const billing[] = {"onDemand", "monthly", "spot", NULL};
	static const char *const bools[] = {"true", "false", NULL};

	switch (type) {
	case FIELD_TEXT:
		return 0;
	case FIELD_LONG_TEXT:
		if (strlen(value) <= COMMAND_MAX_LEN)
			return 0;
		set_message(errmsg, "novita.%s is longer than %d bytes", field, COMMAND_MAX_LEN);
		return -EINVAL;
	case FIELD_KIND:
		if (is_one_of(value, kinds))
			return 0;
		set_message(errmsg, "novita.kind must be gpu or cpu");
		return -EINVAL;
	case FIELD_BILLING:
		if (is_one_of(value, billing))
			return 0;
		set_message(errmsg, "novita.billingMode must be onDemand, monthly or spot");
		return -EINVAL;
	case FIELD_PORTS:
		return check_ports(value, errmsg) ? 0 : -EINVAL;
	case FIELD_BOOL:
		if (is_one_of(value, bools))
			return 0;
		set_message(errmsg, "novita.%s must be true or false", field);
		return -EINVAL;
	case FIELD_MONTH:
		if (gpufs_parse_long(value, 0, 120, NULL))
			return 0;
		set_message(errmsg, "novita.month must be a whole number (0 = pay as you go)");
		return -EINVAL;
	case FIELD_RENEW_MONTHS:
		if (gpufs_parse_long(value, 1, 12, NULL))
			return 0;
		set_message(errmsg, "novita.autoRenewMonth must be 1 to 12");
		return -EINVAL;
	}
	return -EINVAL;
}

static int novita_check_spec_key(const char *field, const char *value, char **errmsg)
{
	g_autofree char *shown = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(passthrough_fields); i++)
		if (strcmp(field, passthrough_fields[i].field) == 0)
			return check_field_value(field, passthrough_fields[i].type, value, errmsg);
	for (gsize i = 0; i < G_N_ELEMENTS(fields_with_common_key); i++) {
		if (strcmp(field, fields_with_common_key[i].field) == 0) {
			set_message(errmsg, "novita.%s: use %s instead", field,
				    fields_with_common_key[i].common_key);
			return -EINVAL;
		}
	}
	for (gsize i = 0; i < G_N_ELEMENTS(json_only_fields); i++) {
		if (strcmp(field, json_only_fields[i]) == 0) {
			set_message(errmsg, "novita.%s takes a list: write a JSON spec", field);
			return -EINVAL;
		}
	}
	shown = printable(field);
	set_message(errmsg, "novita has no create field \"%s\"", shown);
	return -EINVAL;
}

static int check_json_spec(json_object *body, char **errmsg)
{
	static const char *const required[] = {"productId", "gpuNum", "rootfsSize", "imageUrl",
					       "kind"};
	GString *missing = g_string_new(NULL);

	for (gsize i = 0; i < G_N_ELEMENTS(required); i++)
		if (!json_object_object_get_ex(body, required[i], NULL))
			g_string_append_printf(missing, " \"%s\"", required[i]);
	if (!missing->len) {
		g_string_free(missing, TRUE);
		return 0;
	}
	set_message(errmsg, "a JSON spec for novita needs%s", missing->str);
	g_string_free(missing, TRUE);
	return -EINVAL;
}

static int check_sizes(const struct gpufs_spec *spec, char **errmsg)
{
	if (spec->gpu_count >= 0 &&
	    (spec->gpu_count < GPU_NUM_MIN || spec->gpu_count > GPU_NUM_MAX)) {
		set_message(errmsg, "novita takes gpu_count= %d to %d", GPU_NUM_MIN, GPU_NUM_MAX);
		return -EINVAL;
	}
	if (spec->disk_gb >= 0 &&
	    (spec->disk_gb < ROOTFS_MIN_GB || spec->disk_gb > ROOTFS_MAX_GB)) {
		set_message(errmsg, "novita takes disk_gb= %d to %d", ROOTFS_MIN_GB, ROOTFS_MAX_GB);
		return -EINVAL;
	}
	if (spec->name && strlen(spec->name) > NAME_MAX_LEN) {
		set_message(errmsg, "novita takes a name= of at most %d bytes", NAME_MAX_LEN);
		return -EINVAL;
	}
	if (spec->image && strlen(spec->image) > IMAGE_MAX_LEN) {
		set_message(errmsg, "novita takes an image= of at most %d bytes", IMAGE_MAX_LEN);
		return -EINVAL;
	}
	if (spec->onstart && strlen(spec->onstart) > COMMAND_MAX_LEN) {
		set_message(errmsg, "novita takes an onstart= of at most %d bytes",
			    COMMAND_MAX_LEN);
		return -EINVAL;
	}
	if (spec->env && spec->env->len > ENVS_MAX) {
		set_message(errmsg, "novita takes at most %d env. keys", ENVS_MAX);
		return -EINVAL;
	}
	return 0;
}

static int novita_check_spec(const struct gpufs_spec *spec, char **errmsg)
{
	GString *missing;

	if (spec->raw_json)
		return check_json_spec(spec->raw_json, errmsg);
	if (spec->gpu_type) {
		set_message(errmsg, "novita creates by product: use offer= (an id from offers) "
				    "instead of gpu_type=");
		return -EINVAL;
	}
	if (spec->ssh_key) {
		set_message(errmsg, "novita's create call takes no ssh key: drop ssh_key=");
		return -EINVAL;
	}
	missing = g_string_new(NULL);
	if (!spec->offer)
		g_string_append(missing, " offer=");
	if (!spec->image)
		g_string_append(missing, " image=");
	if (spec->disk_gb < 0)
		g_string_append(missing, " disk_gb=");
	if (missing->len) {
		set_message(errmsg, "novita needs%s", missing->str);
		g_string_free(missing, TRUE);
		return -EINVAL;
	}
	g_string_free(missing, TRUE);
	return check_sizes(spec, errmsg);
}

static void add_string(json_object *body, const char *key, const char *value)
{
	if (value)
		json_object_object_add(body, key, json_object_new_string(value));
}

static json_object *envs_array(GPtrArray *env)
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

/* A checked passthrough value in the JSON type the API takes. */
static json_object *passthrough_value(enum field_type type, const char *value)
{
	long number = 0;

	switch (type) {
	case FIELD_BOOL:
		return json_object_new_boolean(strcmp(value, "true") == 0);
	case FIELD_MONTH:
	case FIELD_RENEW_MONTHS:
		gpufs_parse_long(value, 0, G_MAXINT32, &number);
		return json_object_new_int64(number);
	default:
		return json_object_new_string(value);
	}
}

/* The passthrough fields, checked again (a spec may come from anywhere) and
 * added in the table's order. */
static gboolean add_passthrough(json_object *body, GPtrArray *passthrough, char **errmsg)
{
	for (guint i = 0; passthrough && i < passthrough->len; i++) {
		const struct gpufs_spec_kv *kv = passthrough->pdata[i];

		if (novita_check_spec_key(kv->key, kv->value, errmsg) < 0)
			return FALSE;
	}
	for (gsize i = 0; i < G_N_ELEMENTS(passthrough_fields); i++) {
		const char *field = passthrough_fields[i].field;
		const char *value = gpufs_spec_kv_find(passthrough, field);

		/* kind is required: added before the loop. */
		if (value && strcmp(field, "kind") != 0)
			json_object_object_add(
			    body, field, passthrough_value(passthrough_fields[i].type, value));
	}
	return TRUE;
}

json_object *novita_create_body(const struct gpufs_spec *spec, char **errmsg)
{
	json_object *body;
	const char *kind;

	if (!spec) {
		set_message(errmsg, "no spec");
		return NULL;
	}
	if (spec->raw_json)
		return json_object_get(spec->raw_json);
	if (novita_check_spec(spec, errmsg) < 0)
		return NULL;

	body = json_object_new_object();
	add_string(body, "name", spec->name);
	add_string(body, "productId", spec->offer);
	/* gpuNum is required; one GPU unless the spec says otherwise. */
	json_object_object_add(body, "gpuNum",
			       json_object_new_int64(spec->gpu_count > 0 ? spec->gpu_count : 1));
	json_object_object_add(body, "rootfsSize", json_object_new_int64(spec->disk_gb));
	add_string(body, "imageUrl", spec->image);
	kind = gpufs_spec_kv_find(spec->passthrough, "kind");
	add_string(body, "kind", kind ? kind : "gpu");
	add_string(body, "clusterId", spec->region);
	if (spec->env && spec->env->len)
		json_object_object_add(body, "envs", envs_array(spec->env));
	add_string(body, "command", spec->onstart);
	if (!add_passthrough(body, spec->passthrough, errmsg)) {
		json_object_put(body);
		return NULL;
	}
	return body;
}

/* --- errors --- */

static json_object *parse_body(const struct gpufs_http_reply *reply)
{
	if (!reply || !reply->body || !reply->body->len)
		return NULL;
	return json_tokener_parse(reply->body->str);
}

/* The envelope {"code","reason","message","metadata"} was seen only on
 * Novita's LLM API; "error" is read too, for proxies. */
char *novita_error_message(const struct gpufs_http_reply *reply)
{
	json_object *root = parse_body(reply);
	char *message = gpufs_json_string(root, "message");
	long status = reply ? reply->status : 0;

	if (!message)
		message = gpufs_json_string(root, "reason");
	if (!message)
		message = gpufs_json_string(root, "error");
	json_object_put(root);
	if (message)
		return message;

	return gpufs_reply_status_words(status, reply ? reply->body : NULL);
}

static char *reply_reason(const struct gpufs_http_reply *reply)
{
	json_object *root = parse_body(reply);
	char *reason = gpufs_json_string(root, "reason");

	json_object_put(root);
	return reason;
}

/* 400 reasons that are not the spec's fault: a retry later may work. */
static gboolean is_capacity_reason(const char *reason)
{
	static const char *const reasons[] = {"INSUFFICIENT_RESOURCE", "BALANCE_NOT_ENOUGH",
					      "CREATE_INSTANCE_LIMIT", "OPERATION_LIMIT", NULL};

	return reason && is_one_of(reason, reasons);
}

int novita_reply_error(const struct gpufs_http_reply *reply, enum novita_call call, char **errmsg)
{
	g_autofree char *words = novita_error_message(reply);
	g_autofree char *reason = reply_reason(reply);
	long status = reply ? reply->status : 0;

	if (status == 404 || (status == 400 && g_strcmp0(reason, "RESOURCE_NOT_FOUND") == 0)) {
		set_message(errmsg, "not found at novita: %s", words);
		return -ENOENT;
	}
	if (status == 401) {
		set_message(errmsg, "novita refused the API key: %s", words);
		return -EACCES;
	}
	if (status == 403) {
		set_message(errmsg, "novita denied access: %s", words);
		return -EACCES;
	}
	if (status == 429) {
		set_message(errmsg, "rate limited by novita: %s", words);
		return -EAGAIN;
	}
	if (status == 400 && call == NOVITA_CREATE && !is_capacity_reason(reason)) {
		set_message(errmsg, "novita refused the spec: %s", words);
		return -EINVAL;
	}
	if (reason && g_strcmp0(reason, words) != 0)
		set_message(errmsg, "novita answered HTTP %ld %s: %s", status, reason, words);
	else if (g_str_has_prefix(words, "HTTP "))
		set_message(errmsg, "novita answered %s", words);
	else
		set_message(errmsg, "novita answered HTTP %ld: %s", status, words);
	return -EIO;
}

/* --- HTTP calls --- */

static gboolean is_success(long status)
{
	return status >= 200 && status < 300;
}

/* One request whose reply must be a 2xx; its JSON object in *root when
 * @root is not NULL. */
static int request(struct gpufs_api *api, enum gpufs_http_method method, const char *path,
		   const char *body, enum novita_call call, json_object **root, char **errmsg)
{
	/* Only reads are safe to retry: a create or a delete is not. */
	unsigned flags = call == NOVITA_READ ? GPUFS_HTTP_SAFE : 0;
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
		rc = novita_reply_error(&reply, call, errmsg);
	} else if (root) {
		*root = gpufs_http_reply_json(&reply, &parse_error);
		if (*root && !json_object_is_type(*root, json_type_object)) {
			json_object_put(*root);
			*root = NULL;
		}
		if (!*root) {
			set_message(errmsg, "novita sent an unreadable reply to %s (HTTP %ld): %s",
				    path, reply.status,
				    parse_error ? parse_error : "not a JSON object");
			rc = -EIO;
		}
	}
	gpufs_http_reply_clear(&reply);
	return rc;
}

static const char *account_of(struct gpufs_api *api)
{
	return api->account ? api->account : "novita";
}

/* --- product prices, remembered per account --- */

struct price_memo {
	GHashTable *prices; /* product id -> struct novita_price * */
	gint64 fetched_us;
};

static GMutex memo_lock;
static GHashTable *memos; /* account name -> struct price_memo * */

static void price_memo_free(gpointer data)
{
	struct price_memo *memo = data;

	g_hash_table_unref(memo->prices);
	g_free(memo);
}

void novita_prices_forget(void)
{
	g_mutex_lock(&memo_lock);
	g_clear_pointer(&memos, g_hash_table_unref);
	g_mutex_unlock(&memo_lock);
}

static GHashTable *prices_from_products(json_object *products)
{
	GHashTable *prices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);

	for (size_t i = 0; i < json_object_array_length(products); i++) {
		json_object *product = json_object_array_get_idx(products, i);
		struct novita_price price;
		char *id = gpufs_json_string(product, "id");

		if (id && novita_price_from_json(product, &price))
			g_hash_table_replace(prices, id, g_memdup2(&price, sizeof(price)));
		else
			g_free(id);
	}
	return prices;
}

static void remember_prices(struct gpufs_api *api, json_object *products)
{
	struct price_memo *memo = g_new0(struct price_memo, 1);

	memo->prices = prices_from_products(products);
	memo->fetched_us = g_get_monotonic_time();
	g_mutex_lock(&memo_lock);
	if (!memos)
		memos = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, price_memo_free);
	g_hash_table_replace(memos, g_strdup(account_of(api)), memo);
	g_mutex_unlock(&memo_lock);
}

static GHashTable *remembered_prices(struct gpufs_api *api)
{
	GHashTable *prices = NULL;
	struct price_memo *memo;

	g_mutex_lock(&memo_lock);
	memo = memos ? g_hash_table_lookup(memos, account_of(api)) : NULL;
	if (memo && g_get_monotonic_time() - memo->fetched_us < PRICE_TTL_US)
		prices = g_hash_table_ref(memo->prices);
	g_mutex_unlock(&memo_lock);
	return prices;
}

/* GET /products: the reply's "data" list, or NULL and *errmsg. */
static json_object *fetch_products(struct gpufs_api *api, json_object **root, char **errmsg)
{
	json_object *data;

	if (request(api, GPUFS_HTTP_GET, "/products", NULL, NOVITA_READ, root, errmsg) < 0)
		return NULL;
	data = gpufs_json_member(*root, "data", json_type_array);
	if (!data)
		set_message(errmsg, "novita's reply to /products has no \"data\" list");
	return data;
}

/* The product prices for cost_per_hour; NULL when they cannot be had, which
 * leaves cost_per_hour empty rather than failing the read. */
static GHashTable *product_prices(struct gpufs_api *api)
{
	GHashTable *prices = remembered_prices(api);
	g_autofree char *message = NULL;
	json_object *root = NULL;
	json_object *products;

	if (prices)
		return prices;
	products = fetch_products(api, &root, &message);
	if (products)
		remember_prices(api, products);
	else
		gpufs_warn("%s: no product prices, cost_per_hour stays empty: %s", account_of(api),
			   message);
	json_object_put(root);
	return remembered_prices(api);
}

/* --- instances --- */

/* The page's instance objects, appended (as new references) to @items when
 * their id was not seen yet.  Returns how many were new. */
static guint collect_page(json_object *list, GHashTable *seen, GPtrArray *items)
{
	guint added = 0;

	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *item = json_object_array_get_idx(list, i);
		char *id = gpufs_json_string(item, "id");

		if (id && !g_hash_table_add(seen, id))
			continue; /* a repeat: @seen keeps its own copy */
		g_ptr_array_add(items, json_object_get(item));
		added++;
	}
	return added;
}

/* Every page of GET /gpu/instances.  Paging is a guess (see the notes):
 * pageNum starts at 1 and the listing ends when `total` objects came, when
 * a page is short or empty, or when a page brings nothing new (a server
 * that ignores pageNum). */
static int fetch_instance_pages(struct gpufs_api *api, GPtrArray *items, char **errmsg)
{
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (int page = 1; page <= MAX_PAGES; page++) {
		g_autofree char *path =
		    g_strdup_printf("/gpu/instances?pageSize=%d&pageNum=%d", PAGE_SIZE, page);
		json_object *root = NULL;
		json_object *list;
		double total = -1;
		guint added;
		size_t len;
		int rc;

		rc = request(api, GPUFS_HTTP_GET, path, NULL, NOVITA_READ, &root, errmsg);
		if (rc < 0)
			return rc;
		list = gpufs_json_member(root, "instances", json_type_array);
		if (!list && !json_object_object_get_ex(root, "instances", NULL)) {
			set_message(errmsg, "novita's reply to /gpu/instances has no "
					    "\"instances\" list");
			json_object_put(root);
			return -EIO;
		}
		len = list ? json_object_array_length(list) : 0;
		added = collect_page(list, seen, items);
		gpufs_json_number(root, "total", &total);
		json_object_put(root);
		if (len < PAGE_SIZE && total < 0)
			break;
		if (added == 0 || (total >= 0 && items->len >= total))
			break;
	}
	return 0;
}

static void map_instances(struct gpufs_api *api, GPtrArray *items, GHashTable *prices,
			  GPtrArray *out)
{
	for (guint i = 0; i < items->len; i++) {
		g_autofree char *message = NULL;
		struct gpufs_instance *inst =
		    novita_instance_from_json(items->pdata[i], TRUE, prices, &message);

		if (inst)
			g_ptr_array_add(out, inst);
		else
			gpufs_warn("%s: skipping a novita list item: %s", account_of(api), message);
	}
}

static void json_unref(gpointer obj)
{
	json_object_put(obj);
}

static int novita_list_instances(struct gpufs_api *api, GPtrArray *out, char **errmsg)
{
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(json_unref);
	GHashTable *prices;
	int rc;

	rc = fetch_instance_pages(api, items, errmsg);
	if (rc < 0)
		return rc;
	prices = items->len ? product_prices(api) : NULL;
	map_instances(api, items, prices, out);
	if (prices)
		g_hash_table_unref(prices);
	return 0;
}

/* The documented reply is the object itself; a {"data": ...} or
 * {"instance": ...} wrapper is accepted too. */
static json_object *instance_object(json_object *root)
{
	json_object *inner;

	if (json_object_object_get_ex(root, "id", NULL))
		return root;
	inner = gpufs_json_member(root, "instance", json_type_object);
	if (inner)
		return inner;
	inner = gpufs_json_member(root, "data", json_type_object);
	return inner ? inner : root;
}

static int novita_get_instance(struct gpufs_api *api, const char *id, struct gpufs_instance **out,
			       char **errmsg)
{
	g_autofree char *escaped = NULL;
	g_autofree char *path = NULL;
	g_autofree char *message = NULL;
	json_object *root = NULL;
	GHashTable *prices;
	int rc;

	if (!id || !*id) {
		set_message(errmsg, "no instance id");
		return -ENOENT;
	}
	escaped = gpufs_http_escape(id);
	path = g_strdup_printf("/gpu/instance?instanceId=%s", escaped);
	rc = request(api, GPUFS_HTTP_GET, path, NULL, NOVITA_READ, &root, errmsg);
	if (rc < 0)
		return rc;
	prices = product_prices(api);
	*out = novita_instance_from_json(instance_object(root), FALSE, prices, &message);
	if (prices)
		g_hash_table_unref(prices);
	json_object_put(root);
	if (!*out) {
		set_message(errmsg, "novita's reply to %s: %s", path, message);
		return -EIO;
	}
	return 0;
}

static int novita_list_offers(struct gpufs_api *api, GPtrArray *out, char **errmsg)
{
	json_object *root = NULL;
	json_object *products = fetch_products(api, &root, errmsg);

	if (!products) {
		json_object_put(root);
		return -EIO;
	}
	remember_prices(api, products);
	for (size_t i = 0; i < json_object_array_length(products); i++) {
		json_object *product = json_object_array_get_idx(products, i);
		g_autofree char *message = NULL;
		struct gpufs_offer *offer;

		offer = novita_offer_from_json(product, &message);
		if (offer)
			g_ptr_array_add(out, offer);
		else
			gpufs_warn("%s: skipping a novita product: %s", account_of(api), message);
	}
	json_object_put(root);
	return 0;
}

static int novita_create(struct gpufs_api *api, const struct gpufs_spec *spec, char **new_id,
			 char **errmsg)
{
	json_object *body = novita_create_body(spec, errmsg);
	json_object *root = NULL;
	int rc;

	if (!body)
		return -EINVAL;
	rc = request(api, GPUFS_HTTP_POST, "/gpu/instance/create",
		     json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE),
		     NOVITA_CREATE, &root, errmsg);
	json_object_put(body);
	if (rc < 0)
		return rc;
	*new_id = gpufs_json_string(root, "id");
	json_object_put(root);
	if (!*new_id) {
		/* The instance probably exists and costs money: say where to look. */
		set_message(errmsg, "novita accepted the create but its reply names no "
				    "instance id: look in instances/ before trying again");
		return -EIO;
	}
	return 0;
}

/* ctl verbs and the call each one is. */
static const struct {
	const char *verb;
	const char *path;
} control_calls[] = {
    {"start", "/gpu/instance/start"},
    {"stop", "/gpu/instance/stop"},
    {"restart", "/gpu/instance/restart"},
    {"terminate", "/gpu/instance/delete"},
};

static int novita_control(struct gpufs_api *api, const char *id, const char *verb, char **errmsg)
{
	const char *path = NULL;
	json_object *body;
	int rc;

	for (gsize i = 0; verb && i < G_N_ELEMENTS(control_calls); i++)
		if (strcmp(verb, control_calls[i].verb) == 0)
			path = control_calls[i].path;
	if (!path) {
		set_message(errmsg,
			    "novita has no \"%s\": it takes start, stop, restart, terminate",
			    verb ? verb : "");
		return -EINVAL;
	}
	if (!id || !*id) {
		set_message(errmsg, "no instance id");
		return -ENOENT;
	}
	body = json_object_new_object();
	json_object_object_add(body, "instanceId", json_object_new_string(id));
	/* The reply is {} or empty: nothing in it matters. */
	rc = request(api, GPUFS_HTTP_POST, path,
		     json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
							      JSON_C_TO_STRING_NOSLASHESCAPE),
		     NOVITA_CONTROL, NULL, errmsg);
	json_object_put(body);
	return rc;
}

static const char *const novita_verbs[] = {"start", "stop", "restart", "terminate", NULL};

/* In the order of enum novita_extra. */
static const char *const novita_extra_files[] = {"ports", "web_terminal", "jupyter", NULL};
G_STATIC_ASSERT(G_N_ELEMENTS(novita_extra_files) == NOVITA_EXTRA_COUNT + 1);

/* What a list item lacks: network, connectComponent*, port endpoints. */
static const char *const novita_detail_files[] = {"ip",	     "ssh",  "ports", "web_terminal",
						  "jupyter", "json", NULL};

const struct gpufs_provider gpufs_provider_novita = {
    .name = "novita",
    .default_url = "https://api.novita.ai/gpu-instance/openapi/v1",
    .key_env = "NOVITA_API_KEY",
    .json_name_field = "name",
    .ctl_verbs = novita_verbs,
    .extra_files = novita_extra_files,
    .detail_files = novita_detail_files,
    .list_instances = novita_list_instances,
    .get_instance = novita_get_instance,
    .list_offers = novita_list_offers,
    .check_spec_key = novita_check_spec_key,
    .check_spec = novita_check_spec,
    .create = novita_create,
    .control = novita_control,
};
