/* The Runcrate provider: JSON -> model against fixtures, the create body, the
 * error envelope, and the HTTP calls against a canned server on loopback
 * (through the real http.c). */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>
#include "gpufs/log.h"
#include "gpufs/provider.h"
#include "gpufs/util.h"
#include "canned.h"
#include "../../src/providers/runcrate.h"

/* The "data" object of a fixture reply; put @root when done. */
static json_object *fixture_data(const char *name, json_object **root)
{
	*root = fixture_json(name);
	return json_object_object_get(*root, "data");
}

#define assert_value(inst, field, expected)                                                        \
	do {                                                                                       \
		const char *value_ = (inst)->values[field];                                        \
		if (expected)                                                                      \
			assert_string_equal(value_ ? value_ : "(null)", (expected));               \
		else                                                                               \
			assert_null(value_);                                                       \
	} while (0)

static void test_provider_table(void **state)
{
	const struct gpufs_provider *p = gpufs_provider_find("runcrate");

	assert_ptr_equal(p, &gpufs_provider_runcrate);
	assert_string_equal(p->name, "runcrate");
	assert_string_equal(p->default_url, "https://www.runcrate.ai/api/v1");
	assert_string_equal(p->key_env, "RUNCRATE_API_KEY");
	assert_true(gpufs_provider_has_verb(p, "terminate"));
	assert_false(gpufs_provider_has_verb(p, "stop"));
	assert_false(gpufs_provider_has_verb(p, "start"));
	assert_null(p->ctl_verbs[1]);
	assert_null(p->extra_files);
	assert_null(p->detail_files);
	assert_non_null(p->list_instances);
	assert_non_null(p->get_instance);
	assert_non_null(p->list_offers);
	assert_non_null(p->create);
	assert_non_null(p->control);
	assert_non_null(p->balance);
	assert_null(p->read_live_file);
	assert_null(p->write_file);
}

static void test_instance_full(void **state)
{
	json_object *root;
	json_object *data = fixture_data("runcrate_instance.json", &root);
	char *errmsg = NULL;
	struct gpufs_instance *inst = runcrate_instance_from_json(data, &errmsg);

	assert_non_null(inst);
	assert_null(errmsg);
	assert_value(inst, GPUFS_F_ID, "5f0c1a2e-7b1d-4c7e-9a51-0d7c3b2e9f10");
	assert_value(inst, GPUFS_F_NAME, "train-1");
	assert_value(inst, GPUFS_F_STATUS, "running");
	assert_int_equal(inst->status, GPUFS_STATUS_RUNNING);
	assert_value(inst, GPUFS_F_PROVIDER_STATUS, "running");
	assert_value(inst, GPUFS_F_IP, "203.0.113.7");
	assert_value(inst, GPUFS_F_SSH, "ssh root@203.0.113.7");
	assert_value(inst, GPUFS_F_GPU_TYPE, "h100-sxm");
	assert_value(inst, GPUFS_F_GPU_COUNT, "1");
	assert_value(inst, GPUFS_F_CPU_CORES, "16");
	assert_value(inst, GPUFS_F_MEMORY_GB, "128");
	assert_value(inst, GPUFS_F_DISK_GB, "200");
	assert_value(inst, GPUFS_F_REGION, "us-east");
	assert_value(inst, GPUFS_F_IMAGE, "ubuntu-22.04");
	assert_value(inst, GPUFS_F_COST_PER_HOUR, "2.49");
	assert_value(inst, GPUFS_F_CREATED_AT, "2026-05-01T10:00:03Z");
	assert_value(inst, GPUFS_F_ERROR, NULL);
	assert_int_equal(inst->n_extra, 0);
	assert_false(inst->partial);

	/* json is the object itself, pretty-printed, ending in a newline. */
	json_object *again = json_tokener_parse(inst->json);

	assert_true(g_str_has_suffix(inst->json, "}\n"));
	assert_non_null(strchr(inst->json, '\n'));
	assert_true(json_object_equal(again, data));
	json_object_put(again);
	gpufs_instance_unref(inst);
	json_object_put(root);
}

static void test_instance_nulls(void **state)
{
	json_object *root;
	json_object *data = fixture_data("runcrate_instance_nulls.json", &root);
	struct gpufs_instance *inst = runcrate_instance_from_json(data, NULL);

	assert_non_null(inst);
	assert_value(inst, GPUFS_F_ID, "9b2d6c1e-0000-4000-8000-000000000001");
	assert_value(inst, GPUFS_F_NAME, "bare");
	assert_value(inst, GPUFS_F_STATUS, "pending");
	assert_value(inst, GPUFS_F_PROVIDER_STATUS, "starting");
	for (int f = GPUFS_F_IP; f < GPUFS_FIELD_COUNT; f++)
		if (inst->values[f])
			fail_msg("%s is \"%s\", expected absent", gpufs_field_names[f],
				 inst->values[f]);
	assert_non_null(inst->json);
	gpufs_instance_unref(inst);
	json_object_put(root);
}

/* Numbers as strings, padded strings, odd case, offsets: what real APIs do. */
static void test_instance_lenient(void **state)
{
	json_object *root;
	json_object *data = fixture_data("runcrate_instance_lenient.json", &root);
	struct gpufs_instance *inst = runcrate_instance_from_json(data, NULL);

	assert_non_null(inst);
	assert_value(inst, GPUFS_F_ID, "7a1e0d9c-3c2b-4f5e-8d6a-1b2c3d4e5f60");
	assert_value(inst, GPUFS_F_NAME, "infer-2");
	assert_value(inst, GPUFS_F_STATUS, "pending");
	assert_value(inst, GPUFS_F_PROVIDER_STATUS, "Deploying");
	assert_value(inst, GPUFS_F_GPU_TYPE, "A100");
	assert_value(inst, GPUFS_F_GPU_COUNT, "8");
	assert_value(inst, GPUFS_F_CPU_CORES, "96");
	assert_value(inst, GPUFS_F_MEMORY_GB, "1024");
	assert_value(inst, GPUFS_F_DISK_GB, NULL);
	assert_value(inst, GPUFS_F_REGION, NULL);
	assert_value(inst, GPUFS_F_IMAGE, NULL);
	assert_value(inst, GPUFS_F_COST_PER_HOUR, "14.32");
	assert_value(inst, GPUFS_F_CREATED_AT, "2026-05-01T08:00:03Z");
	/* An ip that is no host name never reaches the ssh line. */
	assert_value(inst, GPUFS_F_IP, "198.51.100.20; rm -rf ~");
	assert_value(inst, GPUFS_F_SSH, NULL);
	gpufs_instance_unref(inst);
	json_object_put(root);
}

static void test_status_words(void **state)
{
	static const struct {
		const char *word;
		enum gpufs_status status;
		const char *file;
	} cases[] = {
	    {"starting", GPUFS_STATUS_PENDING, "pending"},
	    {"deploying", GPUFS_STATUS_PENDING, "pending"},
	    {"pending", GPUFS_STATUS_PENDING, "pending"},
	    {"provisioning", GPUFS_STATUS_PENDING, "pending"},
	    {"creating", GPUFS_STATUS_PENDING, "pending"},
	    {"running", GPUFS_STATUS_RUNNING, "running"},
	    {"RUNNING", GPUFS_STATUS_RUNNING, "running"},
	    {"error", GPUFS_STATUS_ERROR, "error"},
	    {"failed", GPUFS_STATUS_ERROR, "error"},
	    {"terminated", GPUFS_STATUS_TERMINATED, "terminated"},
	    {"Terminated", GPUFS_STATUS_TERMINATED, "terminated"},
	    {"hibernating", GPUFS_STATUS_UNKNOWN, "error"},
	    {"", GPUFS_STATUS_UNKNOWN, "error"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		json_object *obj = json_object_new_object();
		struct gpufs_instance *inst;

		assert_int_equal(runcrate_map_status(cases[i].word), cases[i].status);
		json_object_object_add(obj, "id", json_object_new_string("i"));
		json_object_object_add(obj, "name", json_object_new_string("n"));
		json_object_object_add(obj, "status", json_object_new_string(cases[i].word));
		inst = runcrate_instance_from_json(obj, NULL);
		assert_non_null(inst);
		assert_int_equal(inst->status, cases[i].status);
		assert_value(inst, GPUFS_F_STATUS, cases[i].file);
		assert_value(inst, GPUFS_F_PROVIDER_STATUS, *cases[i].word ? cases[i].word : NULL);
		gpufs_instance_unref(inst);
		json_object_put(obj);
	}
	assert_int_equal(runcrate_map_status(NULL), GPUFS_STATUS_UNKNOWN);
}

static void expect_no_instance(const char *text, const char *message)
{
	json_object *obj = json_tokener_parse(text);
	char *errmsg = NULL;

	assert_null(runcrate_instance_from_json(obj, &errmsg));
	assert_non_null(errmsg);
	if (!strstr(errmsg, message))
		fail_msg("message \"%s\" lacks \"%s\"", errmsg, message);
	g_free(errmsg);
	json_object_put(obj);
}

static void test_instance_refused(void **state)
{
	expect_no_instance("{\"name\":\"a\",\"status\":\"running\"}", "has no id");
	expect_no_instance("{\"id\":\"  \",\"name\":\"a\",\"status\":\"running\"}", "has no id");
	expect_no_instance("{\"id\":7,\"name\":\"a\",\"status\":\"running\"}", "has no id");
	expect_no_instance("{\"id\":\"i-1\",\"status\":\"running\"}", "i-1 has no name");
	expect_no_instance("{\"id\":\"i-1\",\"name\":\"a\"}", "has no name or status");
	expect_no_instance("{\"id\":\"i-1\",\"name\":\"a\",\"status\":5}", "has no name or status");
	expect_no_instance("{\"id\":\"i-1\",\"name\":null,\"status\":\"running\"}", "no name");
	expect_no_instance("[1,2,3]", "not a JSON object");
	expect_no_instance("\"running\"", "not a JSON object");
	assert_null(runcrate_instance_from_json(NULL, NULL));
}

/* Wrong types in optional fields leave those files empty, nothing worse. */
static void test_instance_wrong_types(void **state)
{
	json_object *obj = json_tokener_parse(
	    "{\"id\":\"i\",\"name\":\"n\",\"status\":\"running\",\"gpu_count\":\"x\","
	    "\"cpu_cores\":[1],\"memory\":{},\"storage\":true,\"region\":7,\"ip\":3,"
	    "\"cost_per_hour\":\"cheap\",\"created_at\":\"soon\",\"gpu_type\":[\"a\"],"
	    "\"os_image\":null}");
	struct gpufs_instance *inst = runcrate_instance_from_json(obj, NULL);

	assert_non_null(inst);
	for (int f = GPUFS_F_IP; f < GPUFS_FIELD_COUNT; f++)
		assert_null(inst->values[f]);
	gpufs_instance_unref(inst);
	json_object_put(obj);
}

static void test_offers(void **state)
{
	json_object *root = fixture_json("runcrate_instance_types.json");
	json_object *data = json_object_object_get(root, "data");
	struct gpufs_offer *offer;
	char *errmsg = NULL;

	offer = runcrate_offer_from_json(json_object_array_get_idx(data, 0), &errmsg);
	assert_non_null(offer);
	assert_string_equal(offer->values[GPUFS_O_ID], "bold-tesla-a6000-fa6f");
	assert_string_equal(offer->values[GPUFS_O_GPU_TYPE], "a6000");
	assert_string_equal(offer->values[GPUFS_O_GPU_COUNT], "1");
	assert_string_equal(offer->values[GPUFS_O_CPU_CORES], "8");
	assert_string_equal(offer->values[GPUFS_O_MEMORY_GB], "48");
	assert_string_equal(offer->values[GPUFS_O_DISK_GB], "100");
	assert_string_equal(offer->values[GPUFS_O_REGION], "us-east");
	assert_string_equal(offer->values[GPUFS_O_COST_PER_HOUR], "0.49");
	assert_true(offer->cost_per_hour == 0.49);
	gpufs_offer_free(offer);

	offer = runcrate_offer_from_json(json_object_array_get_idx(data, 1), &errmsg);
	assert_non_null(offer);
	assert_string_equal(offer->values[GPUFS_O_GPU_TYPE], "CPU");
	assert_string_equal(offer->values[GPUFS_O_GPU_COUNT], "0");
	assert_string_equal(offer->values[GPUFS_O_DISK_GB], "20");
	assert_string_equal(offer->values[GPUFS_O_COST_PER_HOUR], "0.00002");
	gpufs_offer_free(offer);

	offer = runcrate_offer_from_json(json_object_array_get_idx(data, 2), &errmsg);
	assert_null(offer);
	assert_non_null(strstr(errmsg, "has no id"));
	g_free(errmsg);
	assert_null(runcrate_offer_from_json(NULL, NULL));
	json_object_put(root);

	/* An offer without a price sorts after every priced one. */
	json_object *unpriced = json_tokener_parse("{\"id\":\"a\"}");

	offer = runcrate_offer_from_json(unpriced, NULL);
	assert_null(offer->values[GPUFS_O_COST_PER_HOUR]);
	assert_true(offer->cost_per_hour > 1e300);
	gpufs_offer_free(offer);
	json_object_put(unpriced);
}

static struct gpufs_spec *spec_from(const char *text)
{
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;

	if (gpufs_spec_parse(&gpufs_provider_runcrate, "file-name", text, strlen(text), &spec,
			     &errmsg))
		fail_msg("spec refused: %s", errmsg);
	return spec;
}

static const char *const documented_create_fields[] = {
    "name",	 "gpu_type",	     "instance_type_id", "region",	  "gpu_count",
    "cpu_cores", "memory",	     "storage",		 "template",	  "ssh_key_id",
    "env_vars",	 "startup_commands", "storage_id",	 "launch_script", "launch_script_base64",
};

static gboolean is_documented(const char *field)
{
	for (gsize i = 0; i < G_N_ELEMENTS(documented_create_fields); i++)
		if (strcmp(field, documented_create_fields[i]) == 0)
			return TRUE;
	return FALSE;
}

static void test_create_body(void **state)
{
	struct gpufs_spec *spec = spec_from("name=train-1\n"
					    "offer=bold-tesla-a6000-fa6f\n"
					    "gpu_type=a6000\n"
					    "gpu_count=2\n"
					    "region=us-east\n"
					    "image=ubuntu-cuda-devel\n"
					    "disk_gb=200\n"
					    "ssh_key=bb4e76ea-5051-4933-ace6-98b7923509ce\n"
					    "onstart=echo hi\n"
					    "env.HF_HOME=/workspace/hf\n"
					    "env.B=x=y\n"
					    "runcrate.cpu_cores=16\n"
					    "runcrate.memory=128\n"
					    "runcrate.storage_id=v-1\n"
					    "runcrate.startup_commands=pip install torch\n");
	char *errmsg = NULL;
	json_object *body = runcrate_create_body(spec, &errmsg);

	assert_non_null(body);
	assert_null(errmsg);
	assert_string_equal(json_object_to_json_string_ext(
				body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE),
			    "{\"name\":\"train-1\",\"gpu_type\":\"a6000\","
			    "\"instance_type_id\":\"bold-tesla-a6000-fa6f\",\"region\":\"us-east\","
			    "\"gpu_count\":2,\"cpu_cores\":16,\"memory\":128,\"storage\":200,"
			    "\"template\":\"ubuntu-cuda-devel\","
			    "\"ssh_key_id\":\"bb4e76ea-5051-4933-ace6-98b7923509ce\","
			    "\"env_vars\":[{\"key\":\"HF_HOME\",\"value\":\"/workspace/hf\"},"
			    "{\"key\":\"B\",\"value\":\"x=y\"}],"
			    "\"startup_commands\":[\"pip install torch\"],\"storage_id\":\"v-1\","
			    "\"launch_script_base64\":\"ZWNobyBoaQ==\"}");
	json_object_object_foreach(body, key, value)
	{
		(void)value;
		assert_true(is_documented(key));
	}
	/* Only one launch script: the base64 one. */
	assert_null(json_object_object_get(body, "launch_script"));
	json_object_put(body);
	gpufs_spec_free(spec);
}

static void test_create_body_minimal(void **state)
{
	struct gpufs_spec *spec = spec_from("gpu_type=h100-sxm\n");
	json_object *body = runcrate_create_body(spec, NULL);

	/* The file name is the instance name; nothing absent is sent. */
	assert_string_equal(json_object_to_json_string_ext(body, JSON_C_TO_STRING_PLAIN),
			    "{\"name\":\"file-name\",\"gpu_type\":\"h100-sxm\"}");
	json_object_put(body);
	gpufs_spec_free(spec);

	/* A multi-line script survives base64 byte for byte. */
	char *script = g_strdup_printf("#!/bin/sh\necho 'a b' \"$HOME\"\n\xc3\xa4\n");
	char *path = NULL;
	int fd = g_file_open_tmp("gpufs-onstart-XXXXXX", &path, NULL);

	assert_int_equal(write(fd, script, strlen(script)), (ssize_t)strlen(script));
	close(fd);
	char *text = g_strdup_printf("offer=x\nonstart=@%s\n", path);

	spec = spec_from(text);
	body = runcrate_create_body(spec, NULL);

	const char *encoded =
	    json_object_get_string(json_object_object_get(body, "launch_script_base64"));
	gsize len = 0;
	guchar *decoded = g_base64_decode(encoded, &len);

	assert_int_equal(len, strlen(script));
	assert_memory_equal(decoded, script, len);
	g_free(decoded);
	json_object_put(body);
	gpufs_spec_free(spec);
	unlink(path);
	g_free(path);
	g_free(text);
	g_free(script);
}

static void test_create_body_raw_json(void **state)
{
	const char *text = "{\"name\":\"x\",\"gpu_type\":\"a\",\"launch_script\":\"echo\","
			   "\"custom\":[1]}";
	struct gpufs_spec *spec = spec_from(text);
	json_object *body = runcrate_create_body(spec, NULL);

	/* Sent as is, even fields gpufs does not know. */
	assert_ptr_equal(body, spec->raw_json);
	json_object_put(body);
	gpufs_spec_free(spec);

	/* A spec built by hand with a field the key check would refuse. */
	spec = spec_from("gpu_type=a\n");
	struct gpufs_spec_kv *kv = g_new0(struct gpufs_spec_kv, 1);
	char *errmsg = NULL;

	kv->key = g_strdup("launch_script");
	kv->value = g_strdup("echo");
	g_ptr_array_add(spec->passthrough, kv);
	assert_null(runcrate_create_body(spec, &errmsg));
	assert_non_null(strstr(errmsg, "use onstart="));
	g_free(errmsg);
	gpufs_spec_free(spec);
	assert_null(runcrate_create_body(NULL, NULL));
}

static void test_check_spec(void **state)
{
	const struct gpufs_provider *p = &gpufs_provider_runcrate;
	char *errmsg = NULL;

	assert_int_equal(p->check_spec_key("cpu_cores", "4", &errmsg), 0);
	assert_int_equal(p->check_spec_key("memory", "256", &errmsg), 0);
	assert_int_equal(p->check_spec_key("storage_id", "v-1", &errmsg), 0);
	assert_int_equal(p->check_spec_key("startup_commands", "nvidia-smi", &errmsg), 0);
	assert_null(errmsg);

	static const struct {
		const char *field, *value, *message;
	} refused[] = {
	    {"cpu_cores", "0", "runcrate.cpu_cores must be a whole number of at least 1"},
	    {"memory", "lots", "runcrate.memory must be a whole number"},
	    {"launch_script", "echo", "runcrate.launch_script: use onstart= instead"},
	    {"template", "t", "runcrate.template: use image= instead"},
	    {"instance_type_id", "t", "use offer= instead"},
	    {"storage", "10", "use disk_gb= instead"},
	    {"env_vars", "x", "use env.NAME= instead"},
	    {"gpu", "x", "runcrate has no create field \"gpu\""},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
		assert_int_equal(p->check_spec_key(refused[i].field, refused[i].value, &errmsg),
				 -EINVAL);
		if (!strstr(errmsg, refused[i].message))
			fail_msg("\"%s\" lacks \"%s\"", errmsg, refused[i].message);
		g_free(errmsg);
		errmsg = NULL;
	}
}

static struct gpufs_http_reply make_reply(long status, const char *body)
{
	struct gpufs_http_reply reply = {.status = status, .body = g_string_new(body)};

	return reply;
}

static void expect_message(long status, const char *body, const char *expected)
{
	struct gpufs_http_reply reply = make_reply(status, body);
	char *message = runcrate_error_message(&reply);

	assert_string_equal(message, expected);
	g_free(message);
	gpufs_http_reply_clear(&reply);
}

static void test_error_message(void **state)
{
	char *envelope = fixture_text("runcrate_error_not_found.json");

	expect_message(404, envelope, "Instance not found");
	g_free(envelope);
	expect_message(400,
		       "{\"error\":{\"code\":\"validation_error\",\"message\":\"  name is "
		       "required \",\"details\":{\"field\":\"name\"}}}",
		       "name is required");
	expect_message(402, "{\"error\":{\"code\":\"insufficient_credits\"}}",
		       "insufficient_credits");
	expect_message(500, "{\"error\":\"boom\"}", "boom");
	expect_message(503, "{\"message\":\"maintenance\"}", "maintenance");
	expect_message(502, "<html>\r\n<h1>502\tBad   Gateway</h1>\x01\x7f</html>\n",
		       "HTTP 502: <html> <h1>502 Bad Gateway</h1></html>");
	expect_message(500, "", "HTTP 500");
	expect_message(500, "{\"data\":{}}", "HTTP 500: {\"data\":{}}");
	expect_message(0, "\x01\x02", "HTTP 0");

	/* Long bodies are cut to 80 characters. */
	char *long_body = g_strnfill(500, 'x');
	struct gpufs_http_reply reply = make_reply(500, long_body);
	char *message = runcrate_error_message(&reply);

	assert_true(g_str_has_prefix(message, "HTTP 500: xxx"));
	assert_true(g_str_has_suffix(message, "..."));
	assert_int_equal(strlen(message) - strlen("HTTP 500: "), 80);
	g_free(message);
	gpufs_http_reply_clear(&reply);
	g_free(long_body);

	/* A reply without a body at all. */
	struct gpufs_http_reply empty = {.status = 204};

	message = runcrate_error_message(&empty);
	assert_string_equal(message, "HTTP 204");
	g_free(message);
}

static void expect_error(long status, const char *body, enum runcrate_call call, int rc,
			 const char *expected)
{
	struct gpufs_http_reply reply = make_reply(status, body);
	char *errmsg = NULL;

	assert_int_equal(runcrate_reply_error(&reply, call, &errmsg), rc);
	assert_string_equal(errmsg, expected);
	g_free(errmsg);
	gpufs_http_reply_clear(&reply);
}

#define ENVELOPE(code, message) "{\"error\":{\"code\":\"" code "\",\"message\":\"" message "\"}}"

static void test_reply_errors(void **state)
{
	expect_error(400, ENVELOPE("validation_error", "name is required"), RUNCRATE_CREATE,
		     -EINVAL, "runcrate refused the spec: name is required");
	expect_error(422, ENVELOPE("validation_error", "bad region"), RUNCRATE_CREATE, -EINVAL,
		     "runcrate refused the spec: bad region");
	expect_error(400, ENVELOPE("validation_error", "bad"), RUNCRATE_READ, -EINVAL,
		     "runcrate refused the request: bad");
	expect_error(401, ENVELOPE("unauthorized", "Invalid API key"), RUNCRATE_READ, -EACCES,
		     "runcrate refused the API key: Invalid API key");
	expect_error(403, "", RUNCRATE_CONTROL, -EACCES, "runcrate denied access: HTTP 403");
	expect_error(402, ENVELOPE("insufficient_credits", "Balance too low"), RUNCRATE_CREATE,
		     -EIO, "insufficient credits: Balance too low");
	expect_error(404, ENVELOPE("not_found", "Instance not found"), RUNCRATE_CONTROL, -ENOENT,
		     "not found at runcrate: Instance not found");
	expect_error(429, ENVELOPE("rate_limited", "slow down"), RUNCRATE_READ, -EAGAIN,
		     "rate limited by runcrate: slow down");
	expect_error(500, ENVELOPE("internal_error", "GPU is no longer available"), RUNCRATE_CREATE,
		     -EIO, "runcrate: GPU is no longer available");
	expect_error(500, ENVELOPE("internal_error", "database down"), RUNCRATE_CREATE, -EIO,
		     "runcrate answered HTTP 500: database down");
	expect_error(503, "Service Unavailable", RUNCRATE_READ, -EIO,
		     "runcrate answered HTTP 503: Service Unavailable");
	expect_error(409, ENVELOPE("conflict", "exists"), RUNCRATE_CREATE, -EINVAL,
		     "runcrate answered HTTP 409: exists");
	/* The status decides first; a code only speaks when the status says
	 * nothing by itself, compared case-insensitively. */
	expect_error(400, ENVELOPE("insufficient_credits", "x"), RUNCRATE_CREATE, -EINVAL,
		     "runcrate refused the spec: x");
	expect_error(418, ENVELOPE("Insufficient_Credits", "top up"), RUNCRATE_CREATE, -EIO,
		     "insufficient credits: top up");
	expect_error(418, ENVELOPE("NOT_FOUND", "gone"), RUNCRATE_READ, -ENOENT,
		     "not found at runcrate: gone");
}

/* --- the HTTP calls, against the canned server (canned.c) --- */

/* Each test: a fresh client, no replies pending, no requests seen. */
static int setup_call(void **state)
{
	struct gpufs_api *api = canned_api_new("/api/v1", "rc_live_test");

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

static void test_list_pages(void **state)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gpufs_instance_unref);
	char *errmsg = NULL;

	canned_reply_fixture(200, "runcrate_instances_page1.json");
	canned_reply_fixture(200, "runcrate_instances_page2.json");
	assert_int_equal(gpufs_provider_runcrate.list_instances(api_of(state), out, &errmsg), 0);
	assert_int_equal(canned_seen_count(), 2);
	assert_string_equal(canned_seen(0)->method, "GET");
	assert_string_equal(canned_seen(0)->path, "/api/v1/instances");
	assert_string_equal(canned_seen(1)->path, "/api/v1/instances?cursor=c%2F1%2Bx");
	/* The item without an id is skipped; the rest come in order. */
	assert_int_equal(out->len, 3);
	assert_string_equal(gpufs_instance_id((struct gpufs_instance *)out->pdata[0]), "i-1");
	assert_string_equal(((struct gpufs_instance *)out->pdata[0])->values[GPUFS_F_COST_PER_HOUR],
			    "1.5");
	assert_string_equal(gpufs_instance_id((struct gpufs_instance *)out->pdata[1]), "i-2");
	assert_string_equal(gpufs_instance_id((struct gpufs_instance *)out->pdata[2]), "i-3");
	assert_int_equal(((struct gpufs_instance *)out->pdata[2])->status, GPUFS_STATUS_TERMINATED);
	g_ptr_array_unref(out);
}

static void test_list_stops(void **state)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gpufs_instance_unref);
	const char *loop = "{\"data\":[{\"id\":\"a\",\"name\":\"a\",\"status\":\"running\"}],"
			   "\"meta\":{\"hasMore\":true,\"cursor\":\"same\"}}";
	char *errmsg = NULL;

	/* A cursor seen before ends the listing. */
	canned_reply(200, loop);
	canned_reply(200, loop);
	assert_int_equal(gpufs_provider_runcrate.list_instances(api_of(state), out, &errmsg), 0);
	assert_int_equal(canned_seen_count(), 2);
	assert_int_equal(out->len, 2);

	/* hasMore without a cursor is the last page too. */
	canned_forget_seen();
	canned_reply(200, "{\"data\":[],\"meta\":{\"hasMore\":true,\"cursor\":\"\"}}");
	assert_int_equal(gpufs_provider_runcrate.list_instances(api_of(state), out, &errmsg), 0);
	assert_int_equal(canned_seen_count(), 1);
	g_ptr_array_unref(out);
}

/* A failed page leaves @out as it was. */
static void test_list_fails(void **state)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gpufs_instance_unref);
	char *errmsg = NULL;

	canned_reply_fixture(200, "runcrate_instances_page1.json");
	canned_reply(401, ENVELOPE("unauthorized", "Invalid API key"));
	assert_int_equal(gpufs_provider_runcrate.list_instances(api_of(state), out, &errmsg),
			 -EACCES);
	assert_string_equal(errmsg, "runcrate refused the API key: Invalid API key");
	assert_int_equal(out->len, 0);
	g_free(errmsg);
	errmsg = NULL;

	canned_reply(200, "{\"data\":{\"id\":\"x\"}}");
	assert_int_equal(gpufs_provider_runcrate.list_instances(api_of(state), out, &errmsg), -EIO);
	assert_non_null(strstr(errmsg, "no \"data\" list"));
	g_free(errmsg);
	errmsg = NULL;

	canned_reply(200, "<html>not json</html>");
	assert_int_equal(gpufs_provider_runcrate.list_instances(api_of(state), out, &errmsg), -EIO);
	assert_non_null(strstr(errmsg, "unreadable reply"));
	g_free(errmsg);
	errmsg = NULL;

	canned_reply(502, "<html>Bad gateway</html>");
	assert_int_equal(gpufs_provider_runcrate.list_instances(api_of(state), out, &errmsg), -EIO);
	assert_string_equal(errmsg, "runcrate answered HTTP 502: <html>Bad gateway</html>");
	g_free(errmsg);
	assert_int_equal(out->len, 0);
	g_ptr_array_unref(out);
}

static void test_get_instance(void **state)
{
	struct gpufs_instance *inst = NULL;
	char *errmsg = NULL;

	canned_reply_fixture(200, "runcrate_instance.json");
	assert_int_equal(gpufs_provider_runcrate.get_instance(
			     api_of(state), "5f0c1a2e-7b1d-4c7e-9a51-0d7c3b2e9f10", &inst, &errmsg),
			 0);
	assert_string_equal(canned_seen(0)->path,
			    "/api/v1/instances/5f0c1a2e-7b1d-4c7e-9a51-0d7c3b2e9f10");
	assert_string_equal(inst->values[GPUFS_F_SSH], "ssh root@203.0.113.7");
	gpufs_instance_unref(inst);
	inst = NULL;

	canned_reply_fixture(404, "runcrate_error_not_found.json");
	assert_int_equal(
	    gpufs_provider_runcrate.get_instance(api_of(state), "a/b?c", &inst, &errmsg), -ENOENT);
	assert_string_equal(canned_seen(1)->path, "/api/v1/instances/a%2Fb%3Fc");
	assert_string_equal(errmsg, "not found at runcrate: Instance not found");
	assert_null(inst);
	g_free(errmsg);
	errmsg = NULL;

	canned_reply(200, "{\"data\":{\"id\":\"x\"}}");
	assert_int_equal(gpufs_provider_runcrate.get_instance(api_of(state), "x", &inst, &errmsg),
			 -EIO);
	assert_non_null(strstr(errmsg, "has no name or status"));
	g_free(errmsg);
}

static void test_list_offers(void **state)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gpufs_offer_free);
	char *errmsg = NULL;

	canned_reply_fixture(200, "runcrate_instance_types.json");
	assert_int_equal(gpufs_provider_runcrate.list_offers(api_of(state), out, &errmsg), 0);
	assert_string_equal(canned_seen(0)->path, "/api/v1/instances/types");
	assert_int_equal(out->len, 2);
	gpufs_offers_sort(out);
	assert_string_equal(((struct gpufs_offer *)out->pdata[0])->values[GPUFS_O_ID],
			    "sleepy-archimedes-cpu_small-de28");
	g_ptr_array_unref(out);
}

static void test_create(void **state)
{
	struct gpufs_spec *spec = spec_from("name=train-1\noffer=bold-tesla-a6000-fa6f\n"
					    "env.HF_HOME=/workspace/hf\n");
	char *new_id = NULL, *errmsg = NULL;

	canned_reply(201, "{\"data\":{\"id\":\"new-1\",\"name\":\"train-1\","
			  "\"status\":\"starting\",\"ip\":null}}");
	assert_int_equal(gpufs_provider_runcrate.create(api_of(state), spec, &new_id, &errmsg), 0);
	assert_string_equal(new_id, "new-1");
	assert_null(errmsg);
	g_free(new_id);
	new_id = NULL;
	assert_string_equal(canned_seen(0)->method, "POST");
	assert_string_equal(canned_seen(0)->path, "/api/v1/instances");
	assert_string_equal(canned_seen(0)->body,
			    "{\"name\":\"train-1\",\"instance_type_id\":\"bold-tesla-a6000-fa6f\","
			    "\"env_vars\":[{\"key\":\"HF_HOME\",\"value\":\"/workspace/hf\"}]}");

	static const struct {
		int status;
		const char *body;
		int rc;
		const char *message;
	} failures[] = {
	    {400, ENVELOPE("validation_error", "name is required"), -EINVAL,
	     "runcrate refused the spec: name is required"},
	    {402, ENVELOPE("insufficient_credits", "Add credits"), -EIO,
	     "insufficient credits: Add credits"},
	    {500, ENVELOPE("internal_error", "This offer is no longer available"), -EIO,
	     "runcrate: This offer is no longer available"},
	    {403, ENVELOPE("forbidden", "no"), -EACCES, "runcrate denied access: no"},
	    {201, "{\"data\":{}}", -EIO, "reply names no instance id"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(failures); i++) {
		canned_forget_seen();
		canned_reply(failures[i].status, failures[i].body);
		assert_int_equal(
		    gpufs_provider_runcrate.create(api_of(state), spec, &new_id, &errmsg),
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
	char *errmsg = NULL;

	canned_reply(204, "");
	assert_int_equal(
	    gpufs_provider_runcrate.control(api_of(state), "i-1", "terminate", &errmsg), 0);
	assert_string_equal(canned_seen(0)->method, "DELETE");
	assert_string_equal(canned_seen(0)->path, "/api/v1/instances/i-1");

	canned_reply(200, "{\"data\":{\"id\":\"i-1\",\"status\":\"terminated\"}}");
	assert_int_equal(
	    gpufs_provider_runcrate.control(api_of(state), "i-1", "terminate", &errmsg), 0);

	canned_reply_fixture(404, "runcrate_error_not_found.json");
	assert_int_equal(
	    gpufs_provider_runcrate.control(api_of(state), "i-9", "terminate", &errmsg), -ENOENT);
	g_free(errmsg);
	errmsg = NULL;

	/* Verbs Runcrate has no call for never reach the network. */
	assert_int_equal(gpufs_provider_runcrate.control(api_of(state), "i-1", "stop", &errmsg),
			 -EINVAL);
	assert_non_null(strstr(errmsg, "only takes terminate"));
	g_free(errmsg);
	assert_int_equal(canned_seen_count(), 3);
}

static void test_balance(void **state)
{
	char *text = NULL, *errmsg = NULL;

	canned_reply_fixture(200, "runcrate_balance.json");
	assert_int_equal(gpufs_provider_runcrate.balance(api_of(state), &text, &errmsg), 0);
	assert_string_equal(canned_seen(0)->path, "/api/v1/billing/balance");
	assert_string_equal(text, "42.5");
	g_free(text);
	text = NULL;

	canned_reply(200, "{\"credits_balance\":\"7\"}");
	assert_int_equal(gpufs_provider_runcrate.balance(api_of(state), &text, &errmsg), 0);
	assert_string_equal(text, "7");
	g_free(text);
	text = NULL;

	canned_reply(200, "{\"data\":{\"activeUsageCost\":1}}");
	assert_int_equal(gpufs_provider_runcrate.balance(api_of(state), &text, &errmsg), -EIO);
	assert_null(text);
	assert_non_null(strstr(errmsg, "no creditsBalance"));
	g_free(errmsg);
}

/* A port of ours that is bound but never listens, so a connection to it is
 * refused whatever else runs on this machine. */
static int refusing_port(int *fd)
{
	struct sockaddr_in addr = {.sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*fd >= 0);
	assert_int_equal(bind(*fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&addr, &len), 0);
	return ntohs(addr.sin_port);
}

/* Nothing listens: the transport's own words come through. */
static void test_unreachable(void **state)
{
	int fd;
	g_autofree char *url = g_strdup_printf("http://127.0.0.1:%d/api/v1", refusing_port(&fd));
	struct gpufs_http_options options = {.base_url = url, .account = "test", .max_retries = -1};
	struct gpufs_api api = {.http = gpufs_http_new(&options), .account = "test"};
	GPtrArray *out = g_ptr_array_new();
	char *errmsg = NULL;

	assert_int_equal(gpufs_provider_runcrate.list_instances(&api, out, &errmsg), -EIO);
	assert_non_null(errmsg);
	assert_int_equal(out->len, 0);
	g_free(errmsg);
	g_ptr_array_unref(out);
	gpufs_http_free(api.http);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_provider_table),
	    cmocka_unit_test(test_instance_full),
	    cmocka_unit_test(test_instance_nulls),
	    cmocka_unit_test(test_instance_lenient),
	    cmocka_unit_test(test_status_words),
	    cmocka_unit_test(test_instance_refused),
	    cmocka_unit_test(test_instance_wrong_types),
	    cmocka_unit_test(test_offers),
	    cmocka_unit_test(test_create_body),
	    cmocka_unit_test(test_create_body_minimal),
	    cmocka_unit_test(test_create_body_raw_json),
	    cmocka_unit_test(test_check_spec),
	    cmocka_unit_test(test_error_message),
	    cmocka_unit_test(test_reply_errors),
	    cmocka_unit_test_setup_teardown(test_list_pages, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_list_stops, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_list_fails, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_get_instance, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_list_offers, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_create, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_control, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_balance, setup_call, teardown_call),
	    cmocka_unit_test(test_unreachable),
	};

	return cmocka_run_group_tests(tests, canned_group_setup, canned_group_teardown);
}
