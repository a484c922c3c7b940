/* The Vast.ai provider: JSON -> model on the seed's instance and other
 * fixtures, status combinations, both shapes of `ports`, the offers query,
 * the create body, the error replies, and the HTTP calls against a canned
 * server on loopback (through the real http.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "gpufs/log.h"
#include "gpufs/provider.h"
#include "gpufs/util.h"
#include "canned.h"
#include "../../src/providers/vastai.h"

static const struct gpufs_provider *const vast = &gpufs_provider_vastai;

#define assert_value(inst, field, expected)                                                        \
	do {                                                                                       \
		const char *value_ = (inst)->values[field];                                        \
		const char *expected_ = (expected);                                                \
		if (expected_)                                                                     \
			assert_string_equal(value_ ? value_ : "(null)", expected_);                \
		else if (value_)                                                                   \
			fail_msg("%s is \"%s\", expected absent", gpufs_field_names[field],        \
				 value_);                                                          \
	} while (0)

#define assert_extra(inst, index, expected)                                                        \
	do {                                                                                       \
		const char *value_ = (inst)->extra[index];                                         \
		const char *expected_ = (expected);                                                \
		if (expected_)                                                                     \
			assert_string_equal(value_ ? value_ : "(null)", expected_);                \
		else                                                                               \
			assert_null(value_);                                                       \
	} while (0)

static void assert_contains(const char *text, const char *part)
{
	if (!text || !strstr(text, part))
		fail_msg("\"%s\" lacks \"%s\"", text ? text : "(null)", part);
}

static void test_provider_table(void **state)
{
	const struct gpufs_provider *p = gpufs_provider_find("vastai");
	static const char *const verbs[] = {"start", "stop", "restart", "reboot", "terminate"};

	assert_ptr_equal(p, vast);
	assert_string_equal(p->default_url, "https://console.vast.ai/api/v0");
	assert_string_equal(p->key_env, "VAST_API_KEY");
	for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++)
		assert_true(gpufs_provider_has_verb(p, verbs[i]));
	assert_false(gpufs_provider_has_verb(p, "recycle"));
	assert_int_equal(gpufs_provider_extra_index(p, "gpu_util"), VASTAI_X_GPU_UTIL);
	assert_int_equal(gpufs_provider_extra_index(p, "gpu_temp"), VASTAI_X_GPU_TEMP);
	assert_int_equal(gpufs_provider_extra_index(p, "reliability"), VASTAI_X_RELIABILITY);
	assert_null(p->extra_files[VASTAI_EXTRA_COUNT]);
	assert_true(gpufs_provider_is_live_file(p, "logs"));
	assert_true(gpufs_provider_is_writable(p, "name"));
	assert_false(gpufs_provider_is_writable(p, "status"));
	assert_null(p->detail_files);
	assert_non_null(p->balance);
	assert_non_null(p->read_live_file);
	assert_non_null(p->write_file);
}

/* The seed's instance, verbatim: every common file. */
static void test_seed_instance(void **state)
{
	json_object *root = fixture_json("vastai_instance.json");
	json_object *obj = json_object_object_get(root, "instances");
	char *errmsg = NULL;
	struct gpufs_instance *inst = vastai_instance_from_json(obj, &errmsg);

	assert_non_null(inst);
	assert_null(errmsg);
	assert_value(inst, GPUFS_F_ID, "883");
	assert_value(inst, GPUFS_F_NAME, NULL); /* label null */
	assert_value(inst, GPUFS_F_STATUS, "running");
	assert_int_equal(inst->status, GPUFS_STATUS_RUNNING);
	assert_value(inst, GPUFS_F_PROVIDER_STATUS, "running");
	assert_value(inst, GPUFS_F_IP, "63.135.50.11");
	/* ports is the bare list [8080, 8081]: no 22/tcp, so the proxy. */
	assert_value(inst, GPUFS_F_SSH, "ssh -p 10882 root@ssh2281.vast.ai");
	assert_value(inst, GPUFS_F_GPU_TYPE, "RTX A5000");
	assert_value(inst, GPUFS_F_GPU_COUNT, "1");
	assert_value(inst, GPUFS_F_CPU_CORES, "4");
	assert_value(inst, GPUFS_F_MEMORY_GB, "126"); /* 128576 MiB */
	assert_value(inst, GPUFS_F_DISK_GB, "10");
	assert_value(inst, GPUFS_F_REGION, "Washington, US");
	assert_value(inst, GPUFS_F_IMAGE, "tensorflow/tensorflow:latest-gpu");
	assert_value(inst, GPUFS_F_COST_PER_HOUR, "1.0020740740740741");
	assert_value(inst, GPUFS_F_CREATED_AT, "2025-10-21T01:03:38Z");
	assert_value(inst, GPUFS_F_ERROR, NULL);
	assert_int_equal(inst->n_extra, VASTAI_EXTRA_COUNT);
	assert_extra(inst, VASTAI_X_GPU_UTIL, NULL);
	assert_extra(inst, VASTAI_X_GPU_TEMP, NULL);
	assert_extra(inst, VASTAI_X_RELIABILITY, "0.9993661");
	assert_false(inst->partial);

	json_object *again = json_tokener_parse(inst->json);

	/* The provider's object, but for its access token. */
	assert_true(g_str_has_suffix(inst->json, "}\n"));
	assert_null(strstr(inst->json, "jupyter_token"));
	assert_null(strstr(inst->json, "53fc448d6644aa75"));
	assert_non_null(json_object_object_get(obj, "jupyter_token"));
	json_object_object_del(obj, "jupyter_token");
	assert_true(json_object_equal(again, obj));
	json_object_put(again);
	gpufs_instance_unref(inst);
	json_object_put(root);
}

/* Trimmed strings, numbers as strings, direct ssh, and the failure text. */
static void test_list_items(void **state)
{
	json_object *root = fixture_json("vastai_instances.json");
	json_object *items = json_object_object_get(root, "instances");
	struct gpufs_instance *inst;
	char *errmsg = NULL;

	inst = vastai_instance_from_json(json_object_array_get_idx(items, 0), NULL);
	assert_value(inst, GPUFS_F_ID, "4242");
	assert_value(inst, GPUFS_F_NAME, "job1");
	assert_value(inst, GPUFS_F_IP, "203.0.113.9");
	assert_value(inst, GPUFS_F_SSH, "ssh -p 41022 root@203.0.113.9");
	assert_value(inst, GPUFS_F_GPU_COUNT, "2");
	assert_value(inst, GPUFS_F_CPU_CORES, "16");
	assert_value(inst, GPUFS_F_MEMORY_GB, "63"); /* 64318 MiB = 62.8 GiB */
	assert_value(inst, GPUFS_F_DISK_GB, "20.5");
	assert_value(inst, GPUFS_F_REGION, "Texas, US");
	assert_value(inst, GPUFS_F_COST_PER_HOUR, "0.402");
	assert_value(inst, GPUFS_F_CREATED_AT, "2026-05-01T10:00:03Z");
	/* status_msg of a healthy instance is no error. */
	assert_value(inst, GPUFS_F_ERROR, NULL);
	assert_extra(inst, VASTAI_X_GPU_UTIL, "0.37");
	assert_extra(inst, VASTAI_X_GPU_TEMP, "61");
	assert_extra(inst, VASTAI_X_RELIABILITY, "0.995");
	gpufs_instance_unref(inst);

	inst = vastai_instance_from_json(json_object_array_get_idx(items, 1), NULL);
	assert_value(inst, GPUFS_F_STATUS, "error");
	assert_value(inst, GPUFS_F_PROVIDER_STATUS, "exited");
	assert_value(inst, GPUFS_F_ERROR, "Error response from daemon: OCI runtime create failed");
	assert_value(inst, GPUFS_F_NAME, NULL);
	assert_value(inst, GPUFS_F_SSH, "ssh -p 12043 root@ssh6.vast.ai");
	for (int f = GPUFS_F_GPU_TYPE; f < GPUFS_F_ERROR; f++)
		assert_value(inst, f, NULL);
	gpufs_instance_unref(inst);

	assert_null(vastai_instance_from_json(json_object_array_get_idx(items, 2), &errmsg));
	assert_contains(errmsg, "has no id");
	g_free(errmsg);

	inst = vastai_instance_from_json(json_object_array_get_idx(items, 3), NULL);
	assert_value(inst, GPUFS_F_STATUS, "pending");
	assert_value(inst, GPUFS_F_PROVIDER_STATUS, NULL);
	gpufs_instance_unref(inst);
	json_object_put(root);

	json_object *bad = json_tokener_parse("[1]");

	assert_null(vastai_instance_from_json(bad, &errmsg));
	assert_contains(errmsg, "not a JSON object");
	g_free(errmsg);
	json_object_put(bad);
}

static void test_status_combinations(void **state)
{
	static const struct {
		const char *actual, *intended, *cur_state;
		enum gpufs_status status;
	} cases[] = {
	    {NULL, "running", "running", GPUFS_STATUS_PENDING},
	    {"created", "running", "running", GPUFS_STATUS_PENDING},
	    {"loading", "running", "running", GPUFS_STATUS_PENDING},
	    {"rebooting", "running", "running", GPUFS_STATUS_PENDING},
	    {"running", "running", "running", GPUFS_STATUS_RUNNING},
	    {"running", NULL, NULL, GPUFS_STATUS_RUNNING},
	    {"running", "stopped", "stopped", GPUFS_STATUS_STOPPING},
	    {"stopped", "stopped", "stopped", GPUFS_STATUS_STOPPED},
	    {"stopped", "running", "running", GPUFS_STATUS_STOPPED},
	    {"frozen", "frozen", "running", GPUFS_STATUS_STOPPED},
	    {"exited", "stopped", "stopped", GPUFS_STATUS_STOPPED},
	    {"exited", "running", "running", GPUFS_STATUS_ERROR},
	    {"unknown", "running", "running", GPUFS_STATUS_ERROR},
	    {"offline", "running", "running", GPUFS_STATUS_ERROR},
	    {"running", "stopped", "unloaded", GPUFS_STATUS_TERMINATED},
	    {"exited", "stopped", "unloaded", GPUFS_STATUS_TERMINATED},
	    {NULL, NULL, "unloaded", GPUFS_STATUS_TERMINATED},
	    {"RUNNING", "Running", "running", GPUFS_STATUS_RUNNING},
	    {"hibernating", "running", "running", GPUFS_STATUS_UNKNOWN},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		enum gpufs_status got =
		    vastai_map_status(cases[i].actual, cases[i].intended, cases[i].cur_state);

		if (got != cases[i].status)
			fail_msg("%s/%s/%s: %s, expected %s", cases[i].actual, cases[i].intended,
				 cases[i].cur_state, gpufs_status_name(got),
				 gpufs_status_name(cases[i].status));
	}

	/* Through the mapper: the raw word and the error text. */
	json_object *obj = json_tokener_parse(
	    "{\"id\":1,\"actual_status\":\"offline\",\"intended_status\":\"running\","
	    "\"cur_state\":\"running\",\"status_msg\":\" host lost \"}");
	struct gpufs_instance *inst = vastai_instance_from_json(obj, NULL);

	assert_value(inst, GPUFS_F_STATUS, "error");
	assert_value(inst, GPUFS_F_PROVIDER_STATUS, "offline");
	assert_value(inst, GPUFS_F_ERROR, "host lost");
	gpufs_instance_unref(inst);
	json_object_put(obj);

	obj = json_tokener_parse("{\"id\":1,\"actual_status\":\"exited\",\"intended_status\":"
				 "\"stopped\",\"cur_state\":\"unloaded\",\"status_msg\":\"x\"}");
	inst = vastai_instance_from_json(obj, NULL);
	assert_value(inst, GPUFS_F_STATUS, "terminated");
	assert_value(inst, GPUFS_F_PROVIDER_STATUS, "unloaded");
	assert_value(inst, GPUFS_F_ERROR, NULL);
	gpufs_instance_unref(inst);
	json_object_put(obj);
}

static void expect_ssh(const char *json, const char *expected)
{
	json_object *obj = json_tokener_parse(json);
	char *ssh;

	assert_non_null(obj);
	ssh = vastai_ssh_command(obj);
	if (expected)
		assert_string_equal(ssh ? ssh : "(null)", expected);
	else
		assert_null(ssh);
	g_free(ssh);
	json_object_put(obj);
}

#define PROXY "\"ssh_host\":\"ssh5.vast.ai\",\"ssh_port\":12042"

static void test_ports_shapes(void **state)
{
	/* The Docker map: 22/tcp's host port on the public address. */
	expect_ssh("{\"public_ipaddr\":\"203.0.113.9\"," PROXY ",\"ports\":{\"22/tcp\":"
		   "[{\"HostIp\":\"0.0.0.0\",\"HostPort\":\"41022\"}]}}",
		   "ssh -p 41022 root@203.0.113.9");
	/* HostPort as a number; a first binding without a port is skipped. */
	expect_ssh("{\"public_ipaddr\":\"203.0.113.9\",\"ports\":{\"22/tcp\":"
		   "[{\"HostIp\":\"::\"},{\"HostPort\":41023}]}}",
		   "ssh -p 41023 root@203.0.113.9");
	/* The bare list: no host port, so the proxy. */
	expect_ssh("{\"public_ipaddr\":\"203.0.113.9\"," PROXY ",\"ports\":[8080,8081]}",
		   "ssh -p 12042 root@ssh5.vast.ai");
	/* A map without 22/tcp, an empty map, null. */
	expect_ssh("{\"public_ipaddr\":\"203.0.113.9\"," PROXY ",\"ports\":{\"8080/tcp\":"
		   "[{\"HostPort\":\"41080\"}]}}",
		   "ssh -p 12042 root@ssh5.vast.ai");
	expect_ssh("{" PROXY ",\"ports\":{}}", "ssh -p 12042 root@ssh5.vast.ai");
	expect_ssh("{" PROXY ",\"ports\":null}", "ssh -p 12042 root@ssh5.vast.ai");
	/* Jupyter runtypes take the proxy port: ssh is one up. */
	expect_ssh("{" PROXY ",\"image_runtype\":\"jupyter_proxy ssh_proxy\"}",
		   "ssh -p 12043 root@ssh5.vast.ai");
	/* Direct wins over the proxy, even for jupyter. */
	expect_ssh("{\"public_ipaddr\":\"1.2.3.4\"," PROXY ",\"image_runtype\":\"jupyter\","
		   "\"ports\":{\"22/tcp\":[{\"HostPort\":\"40000\"}]}}",
		   "ssh -p 40000 root@1.2.3.4");
	/* Nothing a shell would act on, nothing out of range. */
	expect_ssh("{\"ssh_host\":\"a; rm -rf ~\",\"ssh_port\":1}", NULL);
	expect_ssh(
	    "{\"public_ipaddr\":\"1.2.3.4;x\",\"ports\":{\"22/tcp\":[{\"HostPort\":\"1\"}]}}",
	    NULL);
	expect_ssh("{\"ssh_host\":\"ssh5.vast.ai\",\"ssh_port\":70000}", NULL);
	expect_ssh("{\"ssh_host\":\"ssh5.vast.ai\",\"ssh_port\":\"12042\"}",
		   "ssh -p 12042 root@ssh5.vast.ai");
	expect_ssh("{}", NULL);
}

static void test_offers(void **state)
{
	json_object *root = fixture_json("vastai_offers.json");
	json_object *offers = json_object_object_get(root, "offers");
	struct gpufs_offer *offer;
	char *errmsg = NULL;

	offer = vastai_offer_from_json(json_object_array_get_idx(offers, 0), NULL);
	assert_string_equal(offer->values[GPUFS_O_ID], "123456");
	assert_string_equal(offer->values[GPUFS_O_GPU_TYPE], "RTX 4090");
	assert_string_equal(offer->values[GPUFS_O_GPU_COUNT], "1");
	assert_string_equal(offer->values[GPUFS_O_CPU_CORES], "8");
	assert_string_equal(offer->values[GPUFS_O_MEMORY_GB], "63");
	assert_string_equal(offer->values[GPUFS_O_DISK_GB], "120.5");
	assert_string_equal(offer->values[GPUFS_O_REGION], "Texas, US");
	assert_string_equal(offer->values[GPUFS_O_COST_PER_HOUR], "0.402");
	assert_true(offer->cost_per_hour == 0.402);
	gpufs_offer_free(offer);

	offer = vastai_offer_from_json(json_object_array_get_idx(offers, 1), NULL);
	assert_string_equal(offer->values[GPUFS_O_GPU_COUNT], "1");
	assert_string_equal(offer->values[GPUFS_O_CPU_CORES], "6.5");
	assert_string_equal(offer->values[GPUFS_O_MEMORY_GB], "31");
	assert_string_equal(offer->values[GPUFS_O_COST_PER_HOUR], "0.221");
	gpufs_offer_free(offer);

	assert_null(vastai_offer_from_json(json_object_array_get_idx(offers, 2), &errmsg));
	assert_contains(errmsg, "has no id");
	g_free(errmsg);
	json_object_put(root);
}

static void expect_query(const char *filter, const char *expected)
{
	char *errmsg = NULL;
	json_object *q = vastai_offers_query(filter, &errmsg);

	assert_non_null(q);
	assert_string_equal(json_object_to_json_string_ext(q, JSON_C_TO_STRING_PLAIN), expected);
	json_object_put(q);
}

#define DEFAULTS_HEAD                                                                              \
	"{\"verified\":{\"eq\":true},\"rentable\":{\"eq\":true},\"rented\":{\"eq\":false},"        \
	"\"external\":{\"eq\":false},\"order\":[[\"dph_total\",\"asc\"]],\"type\":\"on-demand\","  \
	"\"allocated_storage\":10"

static void test_offers_query(void **state)
{
	char *errmsg = NULL;

	expect_query(NULL, DEFAULTS_HEAD ",\"limit\":64}");
	expect_query("", DEFAULTS_HEAD ",\"limit\":64}");
	/* Replaces a default, removes one with null, adds a filter. */
	expect_query("{\"limit\":5,\"external\":null,\"num_gpus\":{\"gte\":2}}",
		     "{\"verified\":{\"eq\":true},\"rentable\":{\"eq\":true},\"rented\":{\"eq\":"
		     "false},\"order\":[[\"dph_total\",\"asc\"]],\"type\":\"on-demand\","
		     "\"allocated_storage\":10,\"limit\":5,\"num_gpus\":{\"gte\":2}}");
	assert_null(vastai_offers_query("[1]", &errmsg));
	assert_contains(errmsg, "offers_filter must be a JSON object");
	g_free(errmsg);
	errmsg = NULL;
	assert_null(vastai_offers_query("{bad", &errmsg));
	assert_non_null(errmsg);
	g_free(errmsg);
}

static struct gpufs_spec *spec_from(const char *text)
{
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;

	if (gpufs_spec_parse(vast, "file-name", text, strlen(text), &spec, &errmsg))
		fail_msg("spec refused: %s", errmsg);
	return spec;
}

static void expect_spec_refused(const char *text, const char *message)
{
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;

	assert_int_equal(gpufs_spec_parse(vast, "file-name", text, strlen(text), &spec, &errmsg),
			 -EINVAL);
	assert_null(spec);
	assert_contains(errmsg, message);
	g_free(errmsg);
}

static const char *plain(json_object *obj)
{
	return json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);
}

static void test_create_body(void **state)
{
	struct gpufs_spec *spec = spec_from("name=job1\n"
					    "offer=123456\n"
					    "image=pytorch/pytorch:latest\n"
					    "disk_gb=20\n"
					    "onstart=nvidia-smi\n"
					    "env.HF_TOKEN=x\n"
					    "vastai.ports=8000 9000/udp\n"
					    "vastai.runtype=ssh_direct\n"
					    "vastai.price=0.5\n"
					    "vastai.args=[\"--port\",\"8000\"]\n"
					    "vastai.cancel_unavail=true\n"
					    "vastai.target_state=stopped\n");
	char *errmsg = NULL;
	json_object *body = vastai_create_body(spec, &errmsg);

	assert_non_null(body);
	assert_null(errmsg);
	assert_string_equal(plain(body),
			    "{\"client_id\":\"me\",\"image\":\"pytorch/pytorch:latest\","
			    "\"disk\":20,\"label\":\"job1\",\"onstart\":\"nvidia-smi\","
			    "\"env\":{\"HF_TOKEN\":\"x\",\"-p 8000:8000\":\"1\","
			    "\"-p 9000:9000/udp\":\"1\"},\"runtype\":\"ssh_direct\",\"price\":0.5,"
			    "\"target_state\":\"stopped\",\"cancel_unavail\":true,"
			    "\"args\":[\"--port\",\"8000\"]}");
	json_object_put(body);
	gpufs_spec_free(spec);

	/* The defaults: the file name as label, the CLI's 10 GB, ssh. */
	spec = spec_from("gpu_type=RTX_4090\nimage=ubuntu\n");
	body = vastai_create_body(spec, NULL);
	assert_string_equal(plain(body), "{\"client_id\":\"me\",\"image\":\"ubuntu\",\"disk\":10,"
					 "\"label\":\"file-name\",\"env\":{},\"runtype\":\"ssh\"}");
	json_object_put(body);
	gpufs_spec_free(spec);

	/* A JSON spec is sent as is, but for ask_id. */
	spec = spec_from("{\"ask_id\":123456,\"image\":\"x\",\"vm\":true}");
	assert_int_equal(vast->check_spec(spec, NULL), 0);
	body = vastai_create_body(spec, NULL);
	assert_string_equal(plain(body), "{\"image\":\"x\",\"vm\":true}");
	json_object_put(body);
	gpufs_spec_free(spec);
	assert_null(vastai_create_body(NULL, NULL));
}

static void test_check_spec(void **state)
{
	char *errmsg = NULL;

	assert_int_equal(vast->check_spec_key("runtype", "ssh_direc ssh_proxy", &errmsg), 0);
	assert_int_equal(vast->check_spec_key("args_str", "--x", &errmsg), 0);
	assert_int_equal(vast->check_spec_key("use_jupyter_lab", "false", &errmsg), 0);
	assert_int_equal(vast->check_spec_key("template_hash_id", "abc", &errmsg), 0);
	assert_null(errmsg);

	static const struct {
		const char *field, *value, *message;
	} refused[] = {
	    {"runtype", "magic", "vastai.runtype must be"},
	    {"price", "200", "vastai.price is a bid"},
	    {"price", "cheap", "vastai.price is a bid"},
	    {"args", "--port 80", "vastai.args must be a JSON list"},
	    {"args", "[1]", "vastai.args must be a JSON list"},
	    {"cancel_unavail", "yes", "must be true or false"},
	    {"target_state", "paused", "running or stopped"},
	    {"ports", "http", "vastai.ports takes"},
	    {"ports", "80/sctp", "vastai.ports takes"},
	    {"image", "x", "vastai.image: use image= instead"},
	    {"disk", "10", "use disk_gb= instead"},
	    {"label", "x", "use name= instead"},
	    {"env", "{}", "use env.NAME= instead"},
	    {"gpu", "x", "vastai has no create field \"gpu\""},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(refused); i++) {
		assert_int_equal(vast->check_spec_key(refused[i].field, refused[i].value, &errmsg),
				 -EINVAL);
		assert_contains(errmsg, refused[i].message);
		g_free(errmsg);
		errmsg = NULL;
	}

	expect_spec_refused("image=x\n", "needs offer=");
	expect_spec_refused("offer=abc\nimage=x\n", "is not an offer id");
	expect_spec_refused("offer=123\n", "needs image=");
	expect_spec_refused("offer=123\nimage=x\nssh_key=k\n", "no ssh_key=");
	expect_spec_refused("{\"image\":\"x\"}", "needs \"ask_id\"");
	expect_spec_refused("vastai.foo=1\n", "no create field");
}

static struct gpufs_http_reply make_reply(long status, const char *body)
{
	struct gpufs_http_reply reply = {.status = status, .body = g_string_new(body)};

	return reply;
}

static void expect_error(long status, const char *body, enum vastai_call call, const char *offer,
			 int rc, const char *expected)
{
	struct gpufs_http_reply reply = make_reply(status, body);
	char *errmsg = NULL;

	assert_int_equal(vastai_reply_error(&reply, call, offer, &errmsg), rc);
	assert_string_equal(errmsg, expected);
	g_free(errmsg);
	gpufs_http_reply_clear(&reply);
}

#define VAST_ERROR(code, msg) "{\"success\":false,\"error\":\"" code "\",\"msg\":\"" msg "\"}"

static void test_reply_errors(void **state)
{
	expect_error(401, VAST_ERROR("auth_error", "Invalid user key"), VASTAI_READ, NULL, -EACCES,
		     "vastai refused the API key: Invalid user key");
	expect_error(401, "<html>Unauthorized</html>", VASTAI_READ, NULL, -EACCES,
		     "vastai refused the API key: HTTP 401: <html>Unauthorized</html>");
	expect_error(404,
		     "{\"success\":false,\"error\":\"no_such_ask\",\"msg\":\"error 404/3603: "
		     "no_such_ask Instance type by id 7 is not available.\",\"ask_id\":7}",
		     VASTAI_CREATE, "7", -EINVAL,
		     "vastai has no offer 7 (gone or never listed): error 404/3603: no_such_ask "
		     "Instance type by id 7 is not available.");
	expect_error(410, VAST_ERROR("no_such_ask", "gone"), VASTAI_CREATE, "8", -EINVAL,
		     "vastai has no offer 8 (gone or never listed): gone");
	expect_error(400, VAST_ERROR("invalid_args", "image is required"), VASTAI_CREATE, "8",
		     -EINVAL, "vastai refused the spec: image is required");
	expect_error(400, VAST_ERROR("invalid_price", "bad price"), VASTAI_CONTROL, NULL, -EINVAL,
		     "vastai refused the request: bad price");
	expect_error(403, "{\"detail\":\"not yours\"}", VASTAI_CONTROL, NULL, -EACCES,
		     "vastai denied access: not yours");
	expect_error(404, VAST_ERROR("no_such_instance", "Instance not found"), VASTAI_CONTROL,
		     NULL, -ENOENT, "not found at vastai: Instance not found");
	expect_error(429, "API requests too frequent", VASTAI_READ, NULL, -EAGAIN,
		     "rate limited by vastai: HTTP 429: API requests too frequent");
	expect_error(429, "{\"detail\":\"API requests too frequent endpoint threshold=1.0\"}",
		     VASTAI_READ, NULL, -EAGAIN,
		     "rate limited by vastai: API requests too frequent endpoint threshold=1.0");
	expect_error(502, "<html>Bad\r\n gateway</html>", VASTAI_READ, NULL, -EIO,
		     "vastai answered HTTP 502: <html>Bad gateway</html>");
	expect_error(500, "", VASTAI_READ, NULL, -EIO, "vastai answered HTTP 500");
	expect_error(500, "{\"error\":\"boom\"}", VASTAI_READ, NULL, -EIO,
		     "vastai answered HTTP 500: boom");
}

/* --- the HTTP calls, against the canned server (canned.c) --- */

/* Each test: a fresh client, no replies pending, no requests seen. */
static int setup_call(void **state)
{
	struct gpufs_api *api = canned_api_new("/api/v0", "vast_test");

	api->options = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
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

static const char *const no_instances = "{\"instances_found\":0,\"instances\":null}";

static void test_list_instances(void **state)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gpufs_instance_unref);
	char *errmsg = NULL;

	canned_reply(200, no_instances);
	assert_int_equal(vast->list_instances(api_of(state), out, &errmsg), 0);
	assert_int_equal(out->len, 0);
	assert_string_equal(canned_seen(0)->method, "GET");
	assert_string_equal(canned_seen(0)->path, "/api/v0/instances/?owner=me");
	/* The key only in the bearer header, never in the URL. */
	assert_string_equal(canned_seen(0)->auth, "Bearer vast_test");
	assert_null(strstr(canned_seen(0)->path, "api_key"));

	canned_reply_fixture(200, "vastai_instances.json");
	assert_int_equal(vast->list_instances(api_of(state), out, &errmsg), 0);
	assert_int_equal(out->len, 3); /* the item without an id is skipped */
	assert_string_equal(gpufs_instance_id((struct gpufs_instance *)out->pdata[2]), "4244");

	canned_reply(200, "{\"instances_found\":0}");
	assert_int_equal(vast->list_instances(api_of(state), out, &errmsg), -EIO);
	assert_contains(errmsg, "no \"instances\"");
	g_free(errmsg);
	errmsg = NULL;

	canned_reply(200, "<html>maintenance</html>");
	assert_int_equal(vast->list_instances(api_of(state), out, &errmsg), -EIO);
	assert_contains(errmsg, "unreadable reply");
	g_free(errmsg);
	errmsg = NULL;

	canned_reply(401, VAST_ERROR("auth_error", "Invalid user key"));
	assert_int_equal(vast->list_instances(api_of(state), out, &errmsg), -EACCES);
	g_free(errmsg);
	assert_int_equal(out->len, 3);
	g_ptr_array_unref(out);
}

static void test_get_instance(void **state)
{
	struct gpufs_instance *inst = NULL;
	char *errmsg = NULL;

	canned_reply_fixture(200, "vastai_instance.json");
	assert_int_equal(vast->get_instance(api_of(state), "883", &inst, &errmsg), 0);
	assert_string_equal(canned_seen(0)->path, "/api/v0/instances/883/?owner=me");
	assert_string_equal(inst->values[GPUFS_F_SSH], "ssh -p 10882 root@ssh2281.vast.ai");
	gpufs_instance_unref(inst);
	inst = NULL;

	canned_reply(200, "{\"instances\":null}");
	assert_int_equal(vast->get_instance(api_of(state), "884", &inst, &errmsg), -ENOENT);
	assert_null(inst);
	g_free(errmsg);
	errmsg = NULL;

	/* Not an id: no request at all. */
	assert_int_equal(vast->get_instance(api_of(state), "../x", &inst, &errmsg), -ENOENT);
	g_free(errmsg);
	assert_int_equal(canned_seen_count(), 2);
}

static void test_list_offers(void **state)
{
	GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)gpufs_offer_free);
	char *errmsg = NULL;
	struct gpufs_api *api = api_of(state);

	canned_reply_fixture(200, "vastai_offers.json");
	assert_int_equal(vast->list_offers(api_of(state), out, &errmsg), 0);
	assert_string_equal(canned_seen(0)->method, "POST");
	assert_string_equal(canned_seen(0)->path, "/api/v0/bundles/");
	assert_string_equal(canned_seen(0)->body, DEFAULTS_HEAD ",\"limit\":64}");
	assert_int_equal(out->len, 2);
	gpufs_offers_sort(out);
	assert_string_equal(((struct gpufs_offer *)out->pdata[0])->values[GPUFS_O_ID], "223344");

	/* offers_filter from the account's section. */
	g_hash_table_insert(api->options, g_strdup("offers_filter"), g_strdup("{\"limit\":3}"));
	canned_reply_fixture(200, "vastai_offers.json");
	assert_int_equal(vast->list_offers(api_of(state), out, &errmsg), 0);
	assert_string_equal(canned_seen(1)->body, DEFAULTS_HEAD ",\"limit\":3}");

	g_hash_table_insert(api->options, g_strdup("offers_filter"), g_strdup("nope"));
	assert_int_equal(vast->list_offers(api_of(state), out, &errmsg), -EINVAL);
	assert_contains(errmsg, "offers_filter");
	g_free(errmsg);
	assert_int_equal(canned_seen_count(), 2);
	g_ptr_array_unref(out);
}

static void test_create_from_offer(void **state)
{
	struct gpufs_spec *spec = spec_from("offer=123456\nimage=pytorch/pytorch\nname=job1\n");
	char *new_id = NULL, *errmsg = NULL;

	canned_reply(200, "{\"success\":true,\"new_contract\":4242,\"instance_api_key\":\"k\"}");
	assert_int_equal(vast->create(api_of(state), spec, &new_id, &errmsg), 0);
	assert_string_equal(new_id, "4242");
	assert_null(errmsg);
	g_free(new_id);
	new_id = NULL;
	assert_string_equal(canned_seen(0)->method, "PUT");
	assert_string_equal(canned_seen(0)->path, "/api/v0/asks/123456/");
	assert_string_equal(canned_seen(0)->body,
			    "{\"client_id\":\"me\",\"image\":\"pytorch/pytorch\",\"disk\":10,"
			    "\"label\":\"job1\",\"env\":{},\"runtype\":\"ssh\"}");

	static const struct {
		int status;
		const char *body;
		int rc;
		const char *message;
	} failures[] = {
	    {404, VAST_ERROR("no_such_ask", "error 404/3603: no_such_ask"), -EINVAL,
	     "vastai has no offer 123456"},
	    {410, VAST_ERROR("no_such_ask", "gone"), -EINVAL, "no offer 123456"},
	    {401, VAST_ERROR("auth_error", "Invalid user key"), -EACCES, "API key"},
	    {400, VAST_ERROR("invalid_args", "disk too small"), -EINVAL, "disk too small"},
	    {200, "{\"success\":false,\"error\":\"invalid_args\",\"msg\":\"no\"}", -EINVAL,
	     "refused the spec: no"},
	    {200, "{\"success\":true}", -EIO, "names no new_contract"},
	    {200, "not json", -EIO, "unreadable reply"},
	};

	for (gsize i = 0; i < G_N_ELEMENTS(failures); i++) {
		canned_forget_seen();
		canned_reply(failures[i].status, failures[i].body);
		assert_int_equal(vast->create(api_of(state), spec, &new_id, &errmsg),
				 failures[i].rc);
		assert_null(new_id);
		assert_contains(errmsg, failures[i].message);
		g_free(errmsg);
		errmsg = NULL;
		assert_int_equal(canned_seen_count(), 1); /* never retried */
	}
	gpufs_spec_free(spec);
}

static void test_create_from_gpu_type(void **state)
{
	struct gpufs_spec *spec = spec_from("gpu_type=RTX_3090\ngpu_count=1\nregion=CA\n"
					    "image=ubuntu\n");
	char *new_id = NULL, *errmsg = NULL;

	/* Whatever order the offers come in, the cheapest is picked. */
	canned_reply(200, "{\"offers\":[{\"id\":9,\"gpu_name\":\"RTX 3090\",\"num_gpus\":1,"
			  "\"dph_total\":0.3,\"geolocation\":\"Ontario, CA\"},{\"id\":7,"
			  "\"gpu_name\":\"RTX 3090\",\"num_gpus\":1,\"dph_total\":0.221,"
			  "\"geolocation\":\"Quebec, CA\"}]}");
	canned_reply(200, "{\"success\":true,\"new_contract\":4300}");
	assert_int_equal(vast->create(api_of(state), spec, &new_id, &errmsg), 0);
	assert_string_equal(new_id, "4300");
	assert_string_equal(errmsg, "offer 7: 1 x RTX 3090, 0.221 $/h, Quebec, CA (the cheapest "
				    "for gpu_type)");
	g_free(new_id);
	g_free(errmsg);
	errmsg = NULL;
	assert_string_equal(canned_seen(0)->path, "/api/v0/bundles/");
	assert_string_equal(canned_seen(0)->body, DEFAULTS_HEAD
			    ",\"limit\":16,\"gpu_name\":{\"eq\":\"RTX 3090\"},"
			    "\"num_gpus\":{\"eq\":1},\"geolocation\":{\"eq\":\"CA\"}}");
	assert_string_equal(canned_seen(1)->path, "/api/v0/asks/7/");

	/* No offer: nothing is created. */
	canned_forget_seen();
	canned_reply(200, "{\"offers\":[]}");
	assert_int_equal(vast->create(api_of(state), spec, &new_id, &errmsg), -EINVAL);
	assert_contains(errmsg, "no vastai offer has 1 x RTX 3090 in CA");
	g_free(errmsg);
	assert_int_equal(canned_seen_count(), 1);
	gpufs_spec_free(spec);
}

static void test_control(void **state)
{
	static const struct {
		const char *verb, *method, *path, *body;
	} verbs[] = {
	    {"start", "PUT", "/api/v0/instances/4242/", "{\"state\":\"running\"}"},
	    {"stop", "PUT", "/api/v0/instances/4242/", "{\"state\":\"stopped\"}"},
	    {"reboot", "PUT", "/api/v0/instances/reboot/4242/", "{}"},
	    {"restart", "PUT", "/api/v0/instances/reboot/4242/", "{}"},
	    {"terminate", "DELETE", "/api/v0/instances/4242/", "{}"},
	};
	char *errmsg = NULL;

	for (gsize i = 0; i < G_N_ELEMENTS(verbs); i++) {
		canned_reply(200, "{\"success\":true}");
		assert_int_equal(vast->control(api_of(state), "4242", verbs[i].verb, &errmsg), 0);
		assert_string_equal(canned_seen(i)->method, verbs[i].method);
		assert_string_equal(canned_seen(i)->path, verbs[i].path);
		assert_string_equal(canned_seen(i)->body, verbs[i].body);
	}
	canned_reply(404, VAST_ERROR("no_such_instance", "Instance not found"));
	assert_int_equal(vast->control(api_of(state), "4242", "stop", &errmsg), -ENOENT);
	g_free(errmsg);
	errmsg = NULL;
	assert_int_equal(vast->control(api_of(state), "4242", "recycle", &errmsg), -EINVAL);
	g_free(errmsg);
	errmsg = NULL;

	/* A 429 did nothing: the change is sent again after the pause. */
	canned_forget_seen();
	canned_reply(429, "API requests too frequent");
	canned_reply(200, "{\"success\":true}");
	assert_int_equal(vast->control(api_of(state), "4242", "stop", &errmsg), 0);
	assert_int_equal(canned_seen_count(), 2);
}

static void test_write_name(void **state)
{
	char *errmsg = NULL;
	char *long_label = g_strnfill(1025, 'x');

	canned_reply(200, "{\"success\":true,\"msg\":\"label for 4242 set to 'job2'\"}");
	assert_int_equal(vast->write_file(api_of(state), "4242", "name", "job2", &errmsg), 0);
	assert_string_equal(canned_seen(0)->method, "PUT");
	assert_string_equal(canned_seen(0)->path, "/api/v0/instances/4242/");
	assert_string_equal(canned_seen(0)->body, "{\"label\":\"job2\"}");
	assert_int_equal(vast->write_file(api_of(state), "4242", "status", "x", &errmsg), -EPERM);
	g_free(errmsg);
	errmsg = NULL;
	assert_int_equal(vast->write_file(api_of(state), "4242", "name", long_label, &errmsg),
			 -EINVAL);
	g_free(errmsg);
	g_free(long_label);
	assert_int_equal(canned_seen_count(), 1);
}

static void test_balance(void **state)
{
	char *text = NULL, *errmsg = NULL;

	canned_reply(200, "{\"id\":1,\"email\":\"a@b.c\",\"credit\":25.5,\"balance\":0}");
	assert_int_equal(vast->balance(api_of(state), &text, &errmsg), 0);
	assert_string_equal(canned_seen(0)->path, "/api/v0/users/current/");
	assert_string_equal(text, "25.5");
	g_free(text);
	canned_reply(200, "{\"id\":1}");
	assert_int_equal(vast->balance(api_of(state), &text, &errmsg), -EIO);
	assert_contains(errmsg, "no credit");
	g_free(errmsg);
}

static void test_logs(void **state)
{
	char *body = g_strdup_printf("{\"success\":true,\"result_url\":\"http://127.0.0.1:%d/"
				     "logs/abc.txt\",\"msg\":\"ok\"}",
				     canned_port());
	GString *out = g_string_new(NULL);
	char *errmsg = NULL;

	/* Asked for, not uploaded yet (404), then there. */
	canned_reply(200, body);
	canned_reply(404, "<Error><Code>NoSuchKey</Code></Error>");
	canned_reply(200, "line 1\nline 2");
	assert_int_equal(vast->read_live_file(api_of(state), "4242", "logs", out, &errmsg), 0);
	assert_string_equal(out->str, "line 1\nline 2\n");
	assert_string_equal(canned_seen(0)->method, "PUT");
	assert_string_equal(canned_seen(0)->path, "/api/v0/instances/request_logs/4242/");
	assert_string_equal(canned_seen(0)->body, "{\"tail\":\"1000\"}");
	assert_string_equal(canned_seen(1)->path, "/logs/abc.txt");
	/* The pre-signed URL gets no key. */
	assert_null(canned_seen(2)->auth);
	g_free(body);

	g_string_truncate(out, 0);
	canned_reply(200, "{\"success\":true,\"result_url\":\"file:///etc/passwd\"}");
	assert_int_equal(vast->read_live_file(api_of(state), "4242", "logs", out, &errmsg), -EIO);
	assert_contains(errmsg, "not http(s)");
	g_free(errmsg);
	errmsg = NULL;

	canned_reply(404, VAST_ERROR("no_such_instance", "Instance not found"));
	assert_int_equal(vast->read_live_file(api_of(state), "4242", "logs", out, &errmsg),
			 -ENOENT);
	g_free(errmsg);
	errmsg = NULL;

	body = g_strdup_printf("{\"result_url\":\"http://127.0.0.1:%d/logs/x\"}", canned_port());
	canned_reply(200, body);
	canned_reply(500, "oops");
	assert_int_equal(vast->read_live_file(api_of(state), "4242", "logs", out, &errmsg), -EIO);
	assert_contains(errmsg, "HTTP 500");
	g_free(errmsg);
	g_free(body);
	assert_int_equal(out->len, 0);
	g_string_free(out, TRUE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_provider_table),
	    cmocka_unit_test(test_seed_instance),
	    cmocka_unit_test(test_list_items),
	    cmocka_unit_test(test_status_combinations),
	    cmocka_unit_test(test_ports_shapes),
	    cmocka_unit_test(test_offers),
	    cmocka_unit_test(test_offers_query),
	    cmocka_unit_test(test_create_body),
	    cmocka_unit_test(test_check_spec),
	    cmocka_unit_test(test_reply_errors),
	    cmocka_unit_test_setup_teardown(test_list_instances, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_get_instance, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_list_offers, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_create_from_offer, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_create_from_gpu_type, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_control, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_write_name, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_balance, setup_call, teardown_call),
	    cmocka_unit_test_setup_teardown(test_logs, setup_call, teardown_call),
	};

	return cmocka_run_group_tests(tests, canned_group_setup, canned_group_teardown);
}
