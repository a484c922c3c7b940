/* The Novita provider: JSON -> model against fixtures (the seed's get-instance
 * fields), status words, the price unit, spec mapping, the error envelope,
 * and the HTTP calls against a canned server on loopback (through the real
 * http.c). */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "gpufs/log.h"
#include "gpufs/provider.h"
#include "gpufs/util.h"
#include "canned.h"
#include "../../src/providers/novita.h"

#define assert_value(inst, field, expected)                                                        \
	do {                                                                                       \
		const char *value_ = (inst)->values[field];                                        \
		if (expected)                                                                      \
			assert_string_equal(value_ ? value_ : "(null)", (expected));               \
		else                                                                               \
			assert_null(value_);                                                       \
	} while (0)

#define assert_extra(inst, index, expected)                                                        \
	do {                                                                                       \
		const char *value_ = (inst)->extra[index];                                         \
		if (expected)                                                                      \
			assert_string_equal(value_ ? value_ : "(null)", (expected));               \
		else                                                                               \
			assert_null(value_);                                                       \
	} while (0)

static GHashTable *sample_prices(void)
{
	GHashTable *prices = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	struct novita_price *price = g_new(struct novita_price, 1);

	price->on_demand = 35000;
	price->spot = 17500;
	g_hash_table_insert(prices, g_strdup("4090.16c62g"), price);
	return prices;
}

static void test_provider_table(void **state)
{
	const struct gpufs_provider *p = gpufs_provider_find("novita");

	assert_ptr_equal(p, &gpufs_provider_novita);
	assert_string_equal(p->default_url, "https://api.novita.ai/gpu-instance/openapi/v1");
	assert_string_equal(p->key_env, "NOVITA_API_KEY");
	assert_true(gpufs_provider_has_verb(p, "start"));
	assert_true(gpufs_provider_has_verb(p, "stop"));
	assert_true(gpufs_provider_has_verb(p, "restart"));
	assert_true(gpufs_provider_has_verb(p, "terminate"));
	assert_false(gpufs_provider_has_verb(p, "delete"));
	assert_int_equal(gpufs_provider_extra_index(p, "ports"), NOVITA_X_PORTS);
	assert_int_equal(gpufs_provider_extra_index(p, "web_terminal"), NOVITA_X_WEB_TERMINAL);
	assert_int_equal(gpufs_provider_extra_index(p, "jupyter"), NOVITA_X_JUPYTER);
	assert_true(gpufs_provider_is_detail_file(p, "ip"));
	assert_true(gpufs_provider_is_detail_file(p, "ssh"));
	assert_true(gpufs_provider_is_detail_file(p, "json"));
	assert_false(gpufs_provider_is_detail_file(p, "status"));
	assert_non_null(p->check_spec_key);
	assert_non_null(p->check_spec);
	assert_null(p->balance);
}

/* The seed's get-instance object, every field. */
static void test_instance_full(void **state)
{
	json_object *obj = fixture_json("novita_instance.json");
	GHashTable *prices = sample_prices();
	char *errmsg = NULL;
	struct gpufs_instance *inst = novita_instance_from_json(obj, FALSE, prices, &errmsg);

	assert_non_null(inst);
	assert_null(errmsg);
	assert_false(inst->partial);
	assert_value(inst, GPUFS_F_ID, "e3c1a9f07b2d4c11");
	assert_value(inst, GPUFS_F_NAME, "train-1");
	assert_value(inst, GPUFS_F_STATUS, "running");
	assert_value(inst, GPUFS_F_PROVIDER_STATUS, "running");
	assert_value(inst, GPUFS_F_IP, "10.8.0.12");
	assert_value(inst, GPUFS_F_SSH, "ssh root@host.example -p 30022");
	assert_value(inst, GPUFS_F_GPU_TYPE, "RTX 4090 24GB");
	assert_value(inst, GPUFS_F_GPU_COUNT, "1");
	assert_value(inst, GPUFS_F_CPU_CORES, "16");
	assert_value(inst, GPUFS_F_MEMORY_GB, "62");
	assert_value(inst, GPUFS_F_DISK_GB, "60");
	assert_value(inst, GPUFS_F_REGION, "as-sgp-2");
	assert_value(inst, GPUFS_F_IMAGE, "ubuntu:22.04");
	assert_value(inst, GPUFS_F_COST_PER_HOUR, "0.35");
	assert_value(inst, GPUFS_F_CREATED_AT, "2026-05-01T10:00:03Z");
	assert_value(inst, GPUFS_F_ERROR, NULL);
	assert_int_equal(inst->n_extra, NOVITA_EXTRA_COUNT);
	assert_extra(inst, NOVITA_X_PORTS,
		     "8888/http host.example:31888\n22/tcp host.example:30022");
	assert_extra(inst, NOVITA_X_WEB_TERMINAL, "https://host.example/webterminal");
	assert_extra(inst, NOVITA_X_JUPYTER, "https://host.example:31888/lab");

	/* json is the object without its secrets. */
	assert_true(g_str_has_suffix(inst->json, "}\n"));
	assert_null(strstr(inst->json, "password"));
	assert_null(strstr(inst->json, "secret"));
	assert_non_null(strstr(inst->json, "sshCommand"));
	assert_non_null(json_object_object_get(json_object_object_get(obj, "connectComponentSSH"),
					       "password")); /* untouched */
	gpufs_instance_unref(inst);
	g_hash_table_unref(prices);
	json_object_put(obj);
}

/* A list item: numbers as strings, no network or connect fields. */
static void test_instance_list_item(void **state)
{
	json_object *root = fixture_json("novita_instances_page1.json");
	json_object *items = json_object_object_get(root, "instances");
	GHashTable *prices = sample_prices();
	struct gpufs_instance *inst;

	inst = novita_instance_from_json(json_object_array_get_idx(items, 0), TRUE, prices, NULL);
	assert_non_null(inst);
	assert_true(inst->partial);
	assert_value(inst, GPUFS_F_GPU_COUNT, "1");
	assert_value(inst, GPUFS_F_CPU_CORES, "16");
	assert_value(inst, GPUFS_F_MEMORY_GB, "62");
	assert_value(inst, GPUFS_F_IP, NULL);
	assert_value(inst, GPUFS_F_SSH, NULL);
	assert_value(inst, GPUFS_F_CREATED_AT, NULL);
	assert_extra(inst, NOVITA_X_PORTS, "22/tcp");
	assert_extra(inst, NOVITA_X_JUPYTER, NULL);
	gpufs_instance_unref(inst);

	/* Spot billing takes the spot price; a number gpuNum counts the same. */
	inst = novita_instance_from_json(json_object_array_get_idx(items, 1), TRUE, prices, NULL);
	assert_value(inst, GPUFS_F_STATUS, "stopped");
	assert_value(inst, GPUFS_F_PROVIDER_STATUS, "exited");
	assert_value(inst, GPUFS_F_GPU_COUNT, "2");
	assert_value(inst, GPUFS_F_COST_PER_HOUR, "0.35");
	gpufs_instance_unref(inst);

	/* Without prices, cost_per_hour is empty, nothing worse. */
	inst = novita_instance_from_json(json_object_array_get_idx(items, 0), TRUE, NULL, NULL);
	assert_value(inst, GPUFS_F_COST_PER_HOUR, NULL);
	gpufs_instance_unref(inst);
	g_hash_table_unref(prices);
	json_object_put(root);
}

static void test_instance_refused(void **state)
{
	static const struct {
		const char *text, *message;
	} cases[] = {
	    {"{\"status\":\"running\"}", "has no id"},
	    {"{\"id\":\" \",\"status\":\"running\"}", "has no id"},
	    {"{\"id\":\"i-1\"}", "i-1 has no status"},
	    {"{\"id\":\"i-1\",\"status\":3}", "has no status"},
	    {"[1]", "not a JSON object"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		json_object *obj = json_tokener_parse(cases[i].text);
		char *errmsg = NULL;

		assert_null(novita_instance_from_json(obj, FALSE, NULL, &errmsg));
		if (!strstr(errmsg, cases[i].message))
			fail_msg("\"%s\" lacks \"%s\"", errmsg, cases[i].message);
		g_free(errmsg);
		json_object_put(obj);
	}
	assert_null(novita_instance_from_json(NULL, FALSE, NULL, NULL));
}

/* Hostile or odd values stay out of the ssh file; odd types leave files empty. */
static void test_instance_odd_values(void **state)
{
	json_object *obj = json_tokener_parse(
	    "{\"id\":\"i\",\"status\":\"running\",\"gpuNum\":\"x\",\"cpuNum\":[1],"
	    "\"memory\":{},\"rootfsSize\":true,\"clusterId\":7,\"createdAt\":\"soon\","
	    "\"connectComponentSSH\":{\"sshCommand\":\"ssh root@h; rm -rf ~\"},"
	    "\"network\":\"10.0.0.1\",\"portMappings\":{}}");
	struct gpufs_instance *inst = novita_instance_from_json(obj, FALSE, NULL, NULL);

	assert_non_null(inst);
	assert_value(inst, GPUFS_F_NAME, NULL);
	for (int f = GPUFS_F_IP; f < GPUFS_FIELD_COUNT; f++)
		if (inst->values[f])
			fail_msg("%s is \"%s\"", gpufs_field_names[f], inst->values[f]);
	assert_extra(inst, NOVITA_X_PORTS, NULL);
	gpufs_instance_unref(inst);
	json_object_put(obj);

	/* Milliseconds and RFC 3339 both give the same time. */
	obj =
	    json_tokener_parse("{\"id\":\"i\",\"status\":\"running\",\"createdAt\":1777629603000}");
	inst = novita_instance_from_json(obj, FALSE, NULL, NULL);
	assert_value(inst, GPUFS_F_CREATED_AT, "2026-05-01T10:00:03Z");
	gpufs_instance_unref(inst);
	json_object_put(obj);
	obj = json_tokener_parse(
	    "{\"id\":\"i\",\"status\":\"running\",\"createdAt\":\"2026-05-01T10:00:03Z\"}");
	inst = novita_instance_from_json(obj, FALSE, NULL, NULL);
	assert_value(inst, GPUFS_F_CREATED_AT, "2026-05-01T10:00:03Z");
	gpufs_instance_unref(inst);
	json_object_put(obj);
}

static void test_status_words(void **state)
{
	static const struct {
		const char *word;
		const char *file;
	} cases[] = {
	    {"toCreate", "pending"},	 {"creating", "pending"},     {"pulling", "pending"},
	    {"running", "running"},	 {"toStop", "stopping"},      {"stopping", "stopping"},
	    {"exited", "stopped"},	 {"toStart", "pending"},      {"starting", "pending"},
	    {"toRestart", "pending"},	 {"restarting", "pending"},   {"toReset", "pending"},
	    {"resetting", "pending"},	 {"migrating", "pending"},    {"freezing", "pending"},
	    {"toRemove", "terminating"}, {"removing", "terminating"}, {"removed", "terminated"},
	    {"RUNNING", "running"},	 {"hibernating", "error"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		json_object *obj = json_object_new_object();
		struct gpufs_instance *inst;

		json_object_object_add(obj, "id", json_object_new_string("i"));
		json_object_object_add(obj, "status", json_object_new_string(cases[i].word));
		inst = novita_instance_from_json(obj, TRUE, NULL, NULL);
		assert_value(inst, GPUFS_F_STATUS, cases[i].file);
		assert_value(inst, GPUFS_F_PROVIDER_STATUS, cases[i].word);
		assert_value(inst, GPUFS_F_ERROR, NULL);
		gpufs_instance_unref(inst);
		json_object_put(obj);
	}
	assert_int_equal(novita_map_status(NULL, FALSE), GPUFS_STATUS_UNKNOWN);
	assert_int_equal(novita_map_status("pulling", TRUE), GPUFS_STATUS_ERROR);
	assert_int_equal(novita_map_status("running", TRUE), GPUFS_STATUS_ERROR);
	assert_int_equal(novita_map_status("removed", TRUE), GPUFS_STATUS_TERMINATED);

	/* statusError: error, its message in `error`, the raw word kept. */
	json_object *root = fixture_json("novita_instances_page2.json");
	json_object *item = json_object_array_get_idx(json_object_object_get(root, "instances"), 0);
	struct gpufs_instance *inst = novita_instance_from_json(item, TRUE, NULL, NULL);

	assert_value(inst, GPUFS_F_STATUS, "error");
	assert_value(inst, GPUFS_F_PROVIDER_STATUS, "pulling");
	assert_value(inst, GPUFS_F_ERROR, "pull image failed");
	gpufs_instance_unref(inst);
	json_object_put(root);

	/* An empty statusError is no error. */
	json_object *obj = json_tokener_parse("{\"id\":\"i\",\"status\":\"running\","
					      "\"statusError\":{\"state\":\"\",\"message\":\"\"}}");

	inst = novita_instance_from_json(obj, TRUE, NULL, NULL);
	assert_value(inst, GPUFS_F_STATUS, "running");
	assert_value(inst, GPUFS_F_ERROR, NULL);
	gpufs_instance_unref(inst);
	json_object_put(obj);
}

static void test_price_unit(void **state)
{
	struct novita_price price;
	json_object *obj;

	assert_true(fabs(novita_cost_per_hour(35000, 1) - 0.35) < 1e-12);
	assert_true(fabs(novita_cost_per_hour(35000, 2) - 0.70) < 1e-12);
	assert_true(fabs(novita_cost_per_hour(35000, 0) - 0.35) < 1e-12);
	assert_true(fabs(novita_cost_per_hour(1, 1) - 0.00001) < 1e-15);

	/* A string price reads the same as a number. */
	obj = json_tokener_parse("{\"price\":\"35000\",\"spotPrice\":17500}");
	assert_true(novita_price_from_json(obj, &price));
	assert_true(price.on_demand == 35000 && price.spot == 17500);
	json_object_put(obj);
	obj = json_tokener_parse("{\"price\":\"cheap\"}");
	assert_false(novita_price_from_json(obj, &price));
	assert_true(isnan(price.on_demand) && isnan(price.spot));
	json_object_put(obj);
}

static void test_offers(void **state)
{
	json_object *root = fixture_json("novita_products.json");
	json_object *data = json_object_object_get(root, "data");
	struct gpufs_offer *offer;
	char *errmsg = NULL;

	offer = novita_offer_from_json(json_object_array_get_idx(data, 0), &errmsg);
	assert_string_equal(offer->values[GPUFS_O_ID], "4090.16c62g");
	assert_string_equal(offer->values[GPUFS_O_GPU_TYPE], "RTX 4090 24GB");
	assert_string_equal(offer->values[GPUFS_O_GPU_COUNT], "1");
	assert_string_equal(offer->values[GPUFS_O_CPU_CORES], "16");
	assert_string_equal(offer->values[GPUFS_O_MEMORY_GB], "62");
	assert_string_equal(offer->values[GPUFS_O_DISK_GB], "6144");
	assert_string_equal(offer->values[GPUFS_O_REGION],
			    "AS-SGP-02 (Singapore),US-CA-06 (California)");
	assert_string_equal(offer->values[GPUFS_O_COST_PER_HOUR], "0.35");
	assert_true(fabs(offer->cost_per_hour - 0.35) < 1e-12);
	gpufs_offer_free(offer);

	offer = novita_offer_from_json(json_object_array_get_idx(data, 1), &errmsg);
	assert_string_equal(offer->values[GPUFS_O_CPU_CORES], "32");
	assert_string_equal(offer->values[GPUFS_O_COST_PER_HOUR], "2.59");
	gpufs_offer_free(offer);

	assert_null(novita_offer_from_json(json_object_array_get_idx(data, 3), &errmsg));
	assert_non_null(strstr(errmsg, "has no id"));
	g_free(errmsg);
	json_object_put(root);
}

static int parse_spec(const char *text, struct gpufs_spec **spec, char **errmsg)
{
	return gpufs_spec_parse(&gpufs_provider_novita, "file-name", text, strlen(text), spec,
				errmsg);
}

static struct gpufs_spec *spec_from(const char *text)
{
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;

	if (parse_spec(text, &spec, &errmsg))
		fail_msg("spec refused: %s", errmsg);
	return spec;
}

static char *body_text(json_object *body)
{
	return g_strdup(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN |
								 JSON_C_TO_STRING_NOSLASHESCAPE));
}

static void test_create_body(void **state)
{
	struct gpufs_spec *spec = spec_from("name=train-1\n"
					    "offer=4090.16c62g\n"
					    "gpu_count=2\n"
					    "disk_gb=60\n"
					    "image=ubuntu:22.04\n"
					    "region=as-sgp-2\n"
					    "env.K=V\n"
					    "env.B=x=y\n"
					    "onstart=sleep infinity\n"
					    "novita.ports=8888/http,22/tcp\n"
					    "novita.billingMode=spot\n"
					    "novita.autoRenew=false\n"
					    "novita.autoRenewMonth=3\n"
					    "novita.minCudaVersion=12.4\n");
	char *errmsg = NULL;
	json_object *body = novita_create_body(spec, &errmsg);
	g_autofree char *text = body_text(body);

	assert_null(errmsg);
	assert_string_equal(text,
			    "{\"name\":\"train-1\",\"productId\":\"4090.16c62g\",\"gpuNum\":2,"
			    "\"rootfsSize\":60,\"imageUrl\":\"ubuntu:22.04\",\"kind\":\"gpu\","
			    "\"clusterId\":\"as-sgp-2\",\"envs\":[{\"key\":\"K\",\"value\":"
			    "\"V\"},{\"key\":\"B\",\"value\":\"x=y\"}],\"command\":\"sleep "
			    "infinity\",\"ports\":\"8888/http,22/tcp\",\"billingMode\":"
			    "\"spot\",\"autoRenew\":false,\"autoRenewMonth\":3,"
			    "\"minCudaVersion\":\"12.4\"}");
	json_object_put(body);
	gpufs_spec_free(spec);

	/* The least a spec needs: one GPU and kind gpu by default. */
	spec = spec_from("offer=4090.16c62g\nimage=ubuntu\ndisk_gb=10\n");
	body = novita_create_body(spec, NULL);
	g_free(text);
	text = body_text(body);
	assert_string_equal(text, "{\"name\":\"file-name\",\"productId\":\"4090.16c62g\","
				  "\"gpuNum\":1,\"rootfsSize\":10,\"imageUrl\":\"ubuntu\","
				  "\"kind\":\"gpu\"}");
	json_object_put(body);
	gpufs_spec_free(spec);

	spec = spec_from("offer=4090.16c62g\nimage=ubuntu\ndisk_gb=10\nnovita.kind=cpu\n");
	body = novita_create_body(spec, NULL);
	assert_string_equal(json_object_get_string(json_object_object_get(body, "kind")), "cpu");
	json_object_put(body);
	gpufs_spec_free(spec);
	assert_null(novita_create_body(NULL, NULL));
}

static void test_create_body_raw_json(void **state)
{
	const char *text = "{\"productId\":\"p\",\"gpuNum\":1,\"rootfsSize\":10,\"imageUrl\":"
			   "\"u\",\"kind\":\"gpu\",\"networkStorages\":[{\"Id\":\"ns\"}]}";
	struct gpufs_spec *spec = spec_from(text);
	json_object *body = novita_create_body(spec, NULL);
	char *errmsg = NULL;

	assert_ptr_equal(body, spec->raw_json);
	json_object_put(body);
	gpufs_spec_free(spec);

	assert_int_equal(parse_spec("{\"productId\":\"p\",\"gpuNum\":1}", &spec, &errmsg), -EINVAL);
	assert_non_null(strstr(errmsg, "needs \"rootfsSize\" \"imageUrl\" \"kind\""));
	g_free(errmsg);
}

/* Missing fields fail the close, naming every one of them. */
static void test_check_spec(void **state)
{
	static const struct {
		const char *text, *message;
	} refused[] = {
	    {"name=x\n", "novita needs offer= image= disk_gb="},
	    {"offer=p\nimage=u\n", "novita needs disk_gb="},
	    {"offer=p\ndisk_gb=20\n", "novita needs image="},
	    {"gpu_type=RTX 4090\nimage=u\ndisk_gb=20\n", "use offer="},
	    {"offer=p\nimage=u\ndisk_gb=20\nssh_key=k\n", "takes no ssh key"},
	    {"offer=p\nimage=u\ndisk_gb=20\ngpu_count=9\n", "gpu_count= 1 to 8"},
	    {"offer=p\nimage=u\ndisk_gb=9\n", "disk_gb= 10 to 6144"},
	    {"offer=p\nimage=u\ndisk_gb=6145\n", "disk_gb= 10 to 6144"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
		struct gpufs_spec *spec = NULL;
		char *errmsg = NULL;

		assert_int_equal(parse_spec(refused[i].text, &spec, &errmsg), -EINVAL);
		assert_null(spec);
		if (!errmsg || !strstr(errmsg, refused[i].message))
			fail_msg("\"%s\" lacks \"%s\"", errmsg, refused[i].message);
		g_free(errmsg);
	}
}

/* Bad novita.* lines fail when parsed (the write that carried them). */
static void test_check_spec_key(void **state)
{
	const struct gpufs_provider *p = &gpufs_provider_novita;
	static const struct {
		const char *field, *value;
	} accepted[] = {
	    {"kind", "gpu"},
	    {"kind", "cpu"},
	    {"ports", "8888/http,22/tcp"},
	    {"entrypoint", "/bin/sh"},
	    {"imageAuth", "u:p"},
	    {"imageAuthId", "a"},
	    {"networkId", "n"},
	    {"billingMode", "monthly"},
	    {"month", "0"},
	    {"autoRenew", "true"},
	    {"autoRenewMonth", "12"},
	    {"minCudaVersion", "12.4"},
	};
	static const struct {
		const char *field, *value, *message;
	} refused[] = {
	    {"kind", "tpu", "gpu or cpu"},
	    {"ports", "2222/tcp", "reserved"},
	    {"ports", "80/udp", "not PORT/tcp"},
	    {"ports",
	     "1/tcp,2/tcp,3/tcp,4/tcp,5/tcp,6/tcp,7/tcp,8/tcp,9/tcp,10/tcp,11/tcp,12/tcp,"
	     "13/tcp,14/tcp,15/tcp,16/tcp",
	     "1 to 15"},
	    {"billingMode", "hourly", "onDemand, monthly or spot"},
	    {"autoRenew", "yes", "true or false"},
	    {"autoRenewMonth", "13", "1 to 12"},
	    {"month", "-1", "whole number"},
	    {"productId", "p", "use offer="},
	    {"imageUrl", "u", "use image="},
	    {"command", "c", "use onstart="},
	    {"clusterId", "c", "use region="},
	    {"envs", "x", "use env.NAME="},
	    {"networkStorages", "x", "JSON spec"},
	    {"gpu", "x", "novita has no create field \"gpu\""},
	};
	char *errmsg = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(accepted); i++)
		assert_int_equal(p->check_spec_key(accepted[i].field, accepted[i].value, &errmsg),
				 0);
	assert_null(errmsg);
	for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
		assert_int_equal(p->check_spec_key(refused[i].field, refused[i].value, &errmsg),
				 -EINVAL);
		if (!strstr(errmsg, refused[i].message))
			fail_msg("\"%s\" lacks \"%s\"", errmsg, refused[i].message);
		g_free(errmsg);
		errmsg = NULL;
	}

	/* Through the spec parser: the line is refused. */
	struct gpufs_spec *spec = NULL;

	assert_int_equal(parse_spec("offer=p\nnovita.kind=tpu\n", &spec, &errmsg), -EINVAL);
	assert_non_null(strstr(errmsg, "gpu or cpu"));
	g_free(errmsg);
}

static struct gpufs_http_reply make_reply(long status, const char *body)
{
	struct gpufs_http_reply reply = {.status = status, .body = g_string_new(body)};

	return reply;
}

static void expect_error(long status, const char *body, enum novita_call call, int rc,
			 const char *expected)
{
	struct gpufs_http_reply reply = make_reply(status, body);
	char *errmsg = NULL;

	assert_int_equal(novita_reply_error(&reply, call, &errmsg), rc);
	assert_string_equal(errmsg, expected);
	g_free(errmsg);
	gpufs_http_reply_clear(&reply);
}

#define ENVELOPE(code, reason, message)                                                            \
	"{\"code\":" #code ",\"reason\":\"" reason "\",\"message\":\"" message "\",\"metadata\":{" \
	"}}"

static void test_reply_errors(void **state)
{
	char *not_found = fixture_text("novita_error_not_found.json");

	expect_error(400, not_found, NOVITA_READ, -ENOENT,
		     "not found at novita: instance not found");
	expect_error(400, not_found, NOVITA_CONTROL, -ENOENT,
		     "not found at novita: instance not found");
	g_free(not_found);
	expect_error(404, "", NOVITA_READ, -ENOENT, "not found at novita: HTTP 404");
	expect_error(400, ENVELOPE(400, "VALIDATOR_PARAM", "gpuNum must be 1 to 8"), NOVITA_CREATE,
		     -EINVAL, "novita refused the spec: gpuNum must be 1 to 8");
	expect_error(400, ENVELOPE(400, "IMAGE_NOT_FOUND", "no such image"), NOVITA_CREATE, -EINVAL,
		     "novita refused the spec: no such image");
	expect_error(400, ENVELOPE(400, "BALANCE_NOT_ENOUGH", "top up"), NOVITA_CREATE, -EIO,
		     "novita answered HTTP 400 BALANCE_NOT_ENOUGH: top up");
	expect_error(400, ENVELOPE(400, "INSUFFICIENT_RESOURCE", "sold out"), NOVITA_CREATE, -EIO,
		     "novita answered HTTP 400 INSUFFICIENT_RESOURCE: sold out");
	expect_error(400, ENVELOPE(400, "OPERATION_LIMIT", "cannot stop"), NOVITA_CONTROL, -EIO,
		     "novita answered HTTP 400 OPERATION_LIMIT: cannot stop");
	expect_error(400, "{\"code\":400,\"reason\":\"CONFLICT\"}", NOVITA_CONTROL, -EIO,
		     "novita answered HTTP 400: CONFLICT");
	expect_error(401, ENVELOPE(401, "UNAUTHORIZED", "bad key"), NOVITA_READ, -EACCES,
		     "novita refused the API key: bad key");
	expect_error(403, ENVELOPE(403, "FORBIDDEN", "no"), NOVITA_CONTROL, -EACCES,
		     "novita denied access: no");
	expect_error(429, ENVELOPE(429, "RATE_LIMIT_EXCEEDED", "slow"), NOVITA_READ, -EAGAIN,
		     "rate limited by novita: slow");
	expect_error(500, ENVELOPE(500, "UNKNOWN", "boom"), NOVITA_CREATE, -EIO,
		     "novita answered HTTP 500 UNKNOWN: boom");
	expect_error(502, "<html>Bad gateway</html>", NOVITA_READ, -EIO,
		     "novita answered HTTP 502: <html>Bad gateway</html>");
	expect_error(500, "{\"error\":\"proxy\"}", NOVITA_READ, -EIO,
		     "novita answered HTTP 500: proxy");
}

/* --- the HTTP calls, against the canned server (canned.c) --- */

/* Each test: a fresh client, no replies pending, no requests seen. */
static int setup_call(void **state)
{
	struct gpufs_api *api = canned_api_new("/v1", "nv_test");

	novita_prices_forget();
	*state = api;
	return 0;
}

static int teardown_call(void **state)
{
	canned_api_free(*state);
	return 0;
}

static struct gpufs_api *api_of(void **state)
{
	return *state;
}

#define INSTANCE_AT(out, i) ((struct gpufs_instance *)(out)->pdata[i])

static void test_list_pages(void **state)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gpufs_instance_unref);
	char *errmsg = NULL;

	canned_reply_fixture(200, "novita_instances_page1.json");
	canned_reply_fixture(200, "novita_instances_page2.json");
	canned_reply_fixture(200, "novita_products.json");
	assert_int_equal(gpufs_provider_novita.list_instances(api_of(state), out, &errmsg), 0);
	assert_int_equal(canned_seen_count(), 3);
	assert_string_equal(canned_seen(0)->method, "GET");
	assert_string_equal(canned_seen(0)->path, "/v1/gpu/instances?pageSize=100&pageNum=1");
	assert_string_equal(canned_seen(1)->path, "/v1/gpu/instances?pageSize=100&pageNum=2");
	assert_string_equal(canned_seen(2)->path, "/v1/products");
	/* The item without an id is skipped; the rest come in order. */
	assert_int_equal(out->len, 3);
	assert_string_equal(gpufs_instance_id(INSTANCE_AT(out, 0)), "e3c1a9f07b2d4c11");
	assert_true(INSTANCE_AT(out, 0)->partial);
	assert_value(INSTANCE_AT(out, 0), GPUFS_F_COST_PER_HOUR, "0.35");
	assert_value(INSTANCE_AT(out, 1), GPUFS_F_COST_PER_HOUR, "0.35");
	assert_string_equal(gpufs_instance_id(INSTANCE_AT(out, 2)), "beef");
	assert_value(INSTANCE_AT(out, 2), GPUFS_F_COST_PER_HOUR, NULL);

	/* Prices are remembered: the next listing asks for instances only. */
	g_ptr_array_set_size(out, 0);
	canned_forget_seen();
	canned_reply(200, "{\"instances\":[{\"id\":\"a\",\"status\":\"running\","
			  "\"productId\":\"4090.16c62g\",\"gpuNum\":\"4\"}],\"total\":1}");
	assert_int_equal(gpufs_provider_novita.list_instances(api_of(state), out, &errmsg), 0);
	assert_int_equal(canned_seen_count(), 1);
	assert_value(INSTANCE_AT(out, 0), GPUFS_F_COST_PER_HOUR, "1.4");
	g_ptr_array_unref(out);
}

/* Without total, a short page is the last; a page with nothing new too. */
static void test_list_without_total(void **state)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gpufs_instance_unref);
	GString *full = g_string_new("{\"instances\":[");
	char *errmsg = NULL;

	canned_reply(200, "{\"instances\":[{\"id\":\"a\",\"status\":\"running\"}]}");
	canned_reply(500, "products are down");
	assert_int_equal(gpufs_provider_novita.list_instances(api_of(state), out, &errmsg), 0);
	assert_int_equal(out->len, 1);
	assert_int_equal(canned_seen_count(), 2);
	assert_value(INSTANCE_AT(out, 0), GPUFS_F_COST_PER_HOUR, NULL);

	/* A server that ignores pageNum sends the same full page again. */
	for (int i = 0; i < 100; i++)
		g_string_append_printf(full, "%s{\"id\":\"i%d\",\"status\":\"running\"}",
				       i ? "," : "", i);
	g_string_append(full, "]}");
	g_ptr_array_set_size(out, 0);
	canned_forget_seen();
	canned_reply(200, full->str);
	canned_reply(200, full->str);
	canned_reply(200, "{\"data\":[]}");
	assert_int_equal(gpufs_provider_novita.list_instances(api_of(state), out, &errmsg), 0);
	assert_int_equal(out->len, 100);
	assert_int_equal(canned_seen_count(), 3);

	/* An empty account: one request, nothing else. */
	g_ptr_array_set_size(out, 0);
	canned_forget_seen();
	canned_reply(200, "{\"instances\":[],\"total\":0}");
	assert_int_equal(gpufs_provider_novita.list_instances(api_of(state), out, &errmsg), 0);
	assert_int_equal(out->len, 0);
	assert_int_equal(canned_seen_count(), 1);
	g_string_free(full, TRUE);
	g_ptr_array_unref(out);
}

static void test_list_fails(void **state)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gpufs_instance_unref);
	char *errmsg = NULL;

	canned_reply_fixture(200, "novita_instances_page1.json");
	canned_reply(401, ENVELOPE(401, "UNAUTHORIZED", "invalid key"));
	assert_int_equal(gpufs_provider_novita.list_instances(api_of(state), out, &errmsg),
			 -EACCES);
	assert_string_equal(errmsg, "novita refused the API key: invalid key");
	assert_int_equal(out->len, 0);
	g_free(errmsg);
	errmsg = NULL;

	canned_reply(200, "{\"data\":[]}");
	assert_int_equal(gpufs_provider_novita.list_instances(api_of(state), out, &errmsg), -EIO);
	assert_non_null(strstr(errmsg, "no \"instances\" list"));
	g_free(errmsg);
	errmsg = NULL;

	canned_reply(200, "<html>not json</html>");
	assert_int_equal(gpufs_provider_novita.list_instances(api_of(state), out, &errmsg), -EIO);
	assert_non_null(strstr(errmsg, "unreadable reply"));
	g_free(errmsg);
	assert_int_equal(out->len, 0);
	g_ptr_array_unref(out);
}

static void test_get_instance(void **state)
{
	struct gpufs_instance *inst = NULL;
	char *errmsg = NULL;

	canned_reply_fixture(200, "novita_instance.json");
	canned_reply_fixture(200, "novita_products.json");
	assert_int_equal(
	    gpufs_provider_novita.get_instance(api_of(state), "e3c1a9f07b2d4c11", &inst, &errmsg),
	    0);
	assert_string_equal(canned_seen(0)->path, "/v1/gpu/instance?instanceId=e3c1a9f07b2d4c11");
	assert_false(inst->partial);
	assert_value(inst, GPUFS_F_SSH, "ssh root@host.example -p 30022");
	assert_value(inst, GPUFS_F_COST_PER_HOUR, "0.35");
	gpufs_instance_unref(inst);
	inst = NULL;

	canned_reply_fixture(400, "novita_error_not_found.json");
	assert_int_equal(gpufs_provider_novita.get_instance(api_of(state), "a&b c", &inst, &errmsg),
			 -ENOENT);
	assert_string_equal(canned_seen(2)->path, "/v1/gpu/instance?instanceId=a%26b%20c");
	assert_string_equal(errmsg, "not found at novita: instance not found");
	assert_null(inst);
	g_free(errmsg);
	errmsg = NULL;

	canned_reply(200, "{\"id\":\"x\"}");
	assert_int_equal(gpufs_provider_novita.get_instance(api_of(state), "x", &inst, &errmsg),
			 -EIO);
	assert_non_null(strstr(errmsg, "has no status"));
	g_free(errmsg);
}

static void test_list_offers(void **state)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gpufs_offer_free);
	char *errmsg = NULL;

	canned_reply_fixture(200, "novita_products.json");
	assert_int_equal(gpufs_provider_novita.list_offers(api_of(state), out, &errmsg), 0);
	assert_string_equal(canned_seen(0)->path, "/v1/products");
	/* Every product but the one without an id; availability is shown. */
	assert_int_equal(out->len, 3);
	gpufs_offers_sort(out);
	assert_string_equal(((struct gpufs_offer *)out->pdata[0])->values[GPUFS_O_ID],
			    "3090.16c62g");
	assert_string_equal(((struct gpufs_offer *)out->pdata[0])->values[GPUFS_O_COST_PER_HOUR],
			    "0.21");
	assert_string_equal(((struct gpufs_offer *)out->pdata[0])->values[GPUFS_O_AVAILABLE],
			    "yes");
	guint h100s = 0;

	for (guint i = 0; i < out->len; i++) {
		struct gpufs_offer *offer = out->pdata[i];

		if (!g_str_has_prefix(offer->values[GPUFS_O_ID], "h100"))
			continue;
		assert_string_equal(offer->values[GPUFS_O_AVAILABLE], "no");
		h100s++;
	}
	assert_int_equal(h100s, 1);
	g_ptr_array_unref(out);
}

static void test_create(void **state)
{
	struct gpufs_spec *spec =
	    spec_from("name=train-1\noffer=4090.16c62g\nimage=ubuntu:22.04\ndisk_gb=60\n");
	char *new_id = NULL, *errmsg = NULL;

	canned_reply(200, "{\"id\":\"e3c1a9f07b2d4c11\"}");
	assert_int_equal(gpufs_provider_novita.create(api_of(state), spec, &new_id, &errmsg), 0);
	assert_string_equal(new_id, "e3c1a9f07b2d4c11");
	g_free(new_id);
	new_id = NULL;
	assert_string_equal(canned_seen(0)->method, "POST");
	assert_string_equal(canned_seen(0)->path, "/v1/gpu/instance/create");
	assert_string_equal(canned_seen(0)->body,
			    "{\"name\":\"train-1\",\"productId\":\"4090.16c62g\",\"gpuNum\":1,"
			    "\"rootfsSize\":60,\"imageUrl\":\"ubuntu:22.04\",\"kind\":\"gpu\"}");

	static const struct {
		int status;
		const char *body;
		int rc;
		const char *message;
	} failures[] = {
	    {400, ENVELOPE(400, "VALIDATOR_PARAM", "rootfsSize too large"), -EINVAL,
	     "novita refused the spec: rootfsSize too large"},
	    {400, ENVELOPE(400, "BALANCE_NOT_ENOUGH", "top up"), -EIO, "top up"},
	    {401, ENVELOPE(401, "UNAUTHORIZED", "no"), -EACCES, "refused the API key"},
	    {500, "", -EIO, "HTTP 500"},
	    {200, "{}", -EIO, "reply names no instance id"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(failures); i++) {
		canned_forget_seen();
		canned_reply(failures[i].status, failures[i].body);
		assert_int_equal(
		    gpufs_provider_novita.create(api_of(state), spec, &new_id, &errmsg),
		    failures[i].rc);
		assert_null(new_id);
		if (!strstr(errmsg, failures[i].message))
			fail_msg("\"%s\" lacks \"%s\"", errmsg, failures[i].message);
		g_free(errmsg);
		errmsg = NULL;
		/* A create is sent once, never retried. */
		assert_int_equal(canned_seen_count(), 1);
	}
	gpufs_spec_free(spec);
}

static void test_control(void **state)
{
	static const struct {
		const char *verb, *path;
	} verbs[] = {
	    {"start", "/v1/gpu/instance/start"},
	    {"stop", "/v1/gpu/instance/stop"},
	    {"restart", "/v1/gpu/instance/restart"},
	    {"terminate", "/v1/gpu/instance/delete"},
	};
	char *errmsg = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++) {
		canned_reply(200, i % 2 ? "" : "{}");
		assert_int_equal(
		    gpufs_provider_novita.control(api_of(state), "i-1", verbs[i].verb, &errmsg), 0);
		assert_string_equal(canned_seen(i)->method, "POST");
		assert_string_equal(canned_seen(i)->path, verbs[i].path);
		assert_string_equal(canned_seen(i)->body, "{\"instanceId\":\"i-1\"}");
	}
	assert_null(errmsg);

	canned_reply_fixture(400, "novita_error_not_found.json");
	assert_int_equal(gpufs_provider_novita.control(api_of(state), "i-9", "stop", &errmsg),
			 -ENOENT);
	g_free(errmsg);
	errmsg = NULL;

	canned_reply(400,
		     ENVELOPE(400, "OPERATION_LIMIT", "cannot start an instance that is running"));
	assert_int_equal(gpufs_provider_novita.control(api_of(state), "i-1", "start", &errmsg),
			 -EIO);
	assert_non_null(strstr(errmsg, "cannot start an instance that is running"));
	g_free(errmsg);
	errmsg = NULL;

	/* Verbs Novita has no call for never reach the network. */
	assert_int_equal(gpufs_provider_novita.control(api_of(state), "i-1", "delete", &errmsg),
			 -EINVAL);
	g_free(errmsg);
	assert_int_equal(canned_seen_count(), 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_provider_table),
	    cmocka_unit_test(test_instance_full),
	    cmocka_unit_test(test_instance_list_item),
	    cmocka_unit_test(test_instance_refused),
	    cmocka_unit_test(test_instance_odd_values),
	    cmocka_unit_test(test_status_words),
	    cmocka_unit_test(test_price_unit),
	    cmocka_unit_test(test_offers),
	    cmocka_unit_test(test_create_body),
	    cmocka_unit_test(test_create_body_raw_json),
	    cmocka_unit_test(test_check_spec),
	    cmocka_unit_test(test_check_spec_key),
	    cmocka_unit_test(test_reply_errors),
	    cmocka_unit_test_setup_teardown(test_list_pages, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_list_without_total, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_list_fails, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_get_instance, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_list_offers, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_create, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_control, setup_call, teardown_call),
	};
	int failed = cmocka_run_group_tests(tests, canned_group_setup, canned_group_teardown);

	novita_prices_forget();
	return failed;
}
