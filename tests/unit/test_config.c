/* Unit tests for config.c (accounts, keys, permissions, URLs) and the pure
 * helpers of http.c. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <curl/curl.h>
#include "gpufs/config.h"
#include "gpufs/http.h"
#include "gpufs/provider.h"
#include "../../src/http-internal.h"

struct fixture {
	char *dir;
	char *path; /* dir/config */
	const struct gpufs_provider *runcrate;
	struct gpufs_config *config;
	char *errmsg;
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);

	f->dir = g_dir_make_tmp("gpufs-test-config-XXXXXX", NULL);
	assert_non_null(f->dir);
	f->path = g_build_filename(f->dir, "config", NULL);
	f->runcrate = gpufs_provider_find("runcrate");
	assert_non_null(f->runcrate);
	assert_non_null(f->runcrate->key_env);
	/* The environment of whoever runs the tests must not leak in. */
	g_unsetenv(f->runcrate->key_env);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	GDir *dir = g_dir_open(f->dir, 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		char *file = g_build_filename(f->dir, name, NULL);

		g_unlink(file);
		g_free(file);
	}
	if (dir)
		g_dir_close(dir);
	g_rmdir(f->dir);
	g_unsetenv(f->runcrate->key_env);
	gpufs_config_free(f->config);
	g_free(f->errmsg);
	g_free(f->path);
	g_free(f->dir);
	g_free(f);
	return 0;
}

/* Writes @name in the fixture's directory with @mode; returns its path. */
static char *write_file(struct fixture *f, const char *name, const char *text, mode_t mode)
{
	char *path = g_build_filename(f->dir, name, NULL);

	assert_true(g_file_set_contents(path, text, -1, NULL));
	assert_int_equal(chmod(path, mode), 0);
	return path;
}

static int load(struct fixture *f, const char *text, mode_t mode)
{
	g_free(write_file(f, "config", text, mode));
	gpufs_config_free(f->config);
	f->config = NULL;
	g_clear_pointer(&f->errmsg, g_free);
	return gpufs_config_load(f->path, &f->config, &f->errmsg);
}

static void assert_loaded(struct fixture *f, int ret)
{
	if (ret != 0)
		fail_msg("load failed (%d): %s", ret, f->errmsg ? f->errmsg : "(no message)");
	assert_non_null(f->config);
	assert_null(f->errmsg);
}

static struct gpufs_account_config *account(struct fixture *f, guint i)
{
	assert_true(i < f->config->accounts->len);
	return g_ptr_array_index(f->config->accounts, i);
}

/* The provider's default URL as the config stores it: no trailing slash. */
static char *default_url(const struct gpufs_provider *provider)
{
	char *url = g_strdup(provider->default_url);
	gsize len = strlen(url);

	while (len > 0 && url[len - 1] == '/')
		url[--len] = '\0';
	return url;
}

static void test_default_path(void **state)
{
	char *path = gpufs_config_default_path();

	/* main() sets XDG_CONFIG_HOME before GLib caches it. */
	assert_string_equal(path, "/nonexistent-xdg/gpufs/config");
	g_free(path);
}

static void test_minimal(void **state)
{
	struct fixture *f = *state;
	struct gpufs_account_config *a;
	char *url = default_url(f->runcrate);

	assert_loaded(f, load(f, "[runcrate]\napi_key = rc_live_abc\n", 0600));
	assert_string_equal(f->config->path, f->path);
	assert_int_equal(f->config->accounts->len, 1);
	a = account(f, 0);
	assert_string_equal(a->name, "runcrate");
	assert_ptr_equal(a->provider, f->runcrate);
	assert_string_equal(a->api_key, "rc_live_abc");
	assert_string_equal(a->url, url);
	assert_int_equal(g_hash_table_size(a->options), 0);
	assert_int_equal(g_hash_table_size(f->config->global), 0);
	g_free(url);
}

static void test_explicit_provider(void **state)
{
	struct fixture *f = *state;

	assert_loaded(f, load(f, "[gpu2]\nprovider = runcrate\napi_key = rc_live_2\n", 0600));
	assert_int_equal(f->config->accounts->len, 1);
	assert_string_equal(account(f, 0)->name, "gpu2");
	assert_ptr_equal(account(f, 0)->provider, f->runcrate);
	assert_string_equal(account(f, 0)->api_key, "rc_live_2");
}

/* The example in the documentation, comments after values and all. */
static void test_documented_example(void **state)
{
	struct fixture *f = *state;

	assert_loaded(f, load(f,
			      "[runcrate]                    # section = account\n"
			      "provider = runcrate           # may be left out\n"
			      "api_key = rc_live_x           # or api_key_file = PATH\n"
			      "url = http://127.0.0.1:8080/api/v1   # optional base URL\n",
			      0600));
	assert_string_equal(account(f, 0)->name, "runcrate");
	assert_string_equal(account(f, 0)->api_key, "rc_live_x");
	assert_string_equal(account(f, 0)->url, "http://127.0.0.1:8080/api/v1");
}

static void test_two_accounts_same_provider(void **state)
{
	struct fixture *f = *state;

	assert_loaded(f, load(f,
			      "[work]\nprovider = runcrate\napi_key = rc_live_work\n\n"
			      "[runcrate]\napi_key = rc_live_home\n",
			      0600));
	assert_int_equal(f->config->accounts->len, 2);
	/* File order, not alphabetical. */
	assert_string_equal(account(f, 0)->name, "work");
	assert_string_equal(account(f, 0)->api_key, "rc_live_work");
	assert_string_equal(account(f, 1)->name, "runcrate");
	assert_string_equal(account(f, 1)->api_key, "rc_live_home");
	assert_ptr_equal(account(f, 0)->provider, account(f, 1)->provider);
}

static void test_key_file(void **state)
{
	struct fixture *f = *state;
	char *key = write_file(f, "key", "  rc_live_fromfile \n\n", 0600);
	char *text = g_strdup_printf("[runcrate]\napi_key_file = %s\n\n"
				     "[rel]\nprovider = runcrate\napi_key_file = key\n",
				     key);

	/* The config itself holds no key, so its mode does not matter. */
	assert_loaded(f, load(f, text, 0644));
	assert_string_equal(account(f, 0)->api_key, "rc_live_fromfile");
	/* A relative path starts at the config's directory. */
	assert_string_equal(account(f, 1)->api_key, "rc_live_fromfile");
	assert_null(g_hash_table_lookup(account(f, 0)->options, "api_key_file"));
	g_free(text);
	g_free(key);
}

static void test_key_file_missing(void **state)
{
	struct fixture *f = *state;
	char *missing = g_build_filename(f->dir, "nokey", NULL);
	char *text = g_strdup_printf("[runcrate]\napi_key_file = %s\n", missing);

	assert_int_equal(load(f, text, 0600), -ENOENT);
	assert_non_null(strstr(f->errmsg, "account [runcrate]"));
	assert_non_null(strstr(f->errmsg, missing));
	g_free(text);
	g_free(missing);
}

static void test_key_file_empty(void **state)
{
	struct fixture *f = *state;
	char *key = write_file(f, "key", " \n", 0600);
	char *text = g_strdup_printf("[runcrate]\napi_key_file = %s\n", key);

	assert_int_equal(load(f, text, 0600), -EINVAL);
	assert_non_null(strstr(f->errmsg, "empty"));
	assert_non_null(strstr(f->errmsg, key));
	g_free(text);
	g_free(key);
}

static void test_key_file_mode(void **state)
{
	struct fixture *f = *state;
	char *key = write_file(f, "key", "rc_live_x\n", 0644);
	char *text = g_strdup_printf("[runcrate]\napi_key_file = %s\n", key);
	char *expected = g_strdup_printf("%s holds an API key and is readable by others (mode "
					 "0644): run chmod 600 %s",
					 key, key);

	assert_int_equal(load(f, text, 0600), -EACCES);
	assert_string_equal(f->errmsg, expected);
	assert_null(f->config);
	g_free(expected);
	g_free(text);
	g_free(key);
}

static void test_env_fallback(void **state)
{
	struct fixture *f = *state;

	g_setenv(f->runcrate->key_env, "rc_live_env\n", TRUE);
	assert_loaded(f, load(f, "[runcrate]\n", 0644));
	assert_string_equal(account(f, 0)->api_key, "rc_live_env");
	/* An explicit key wins over the environment. */
	assert_loaded(f, load(f, "[runcrate]\napi_key = rc_live_file\n", 0600));
	assert_string_equal(account(f, 0)->api_key, "rc_live_file");
}

static void test_missing_key(void **state)
{
	struct fixture *f = *state;
	char *expected = g_strdup_printf("account [gpu2]: no API key: set api_key or api_key_file "
					 "in %s, or export %s",
					 f->path, f->runcrate->key_env);

	assert_int_equal(load(f, "[gpu2]\nprovider = runcrate\n", 0600), -EINVAL);
	assert_string_equal(f->errmsg, expected);
	assert_null(f->config);
	g_free(expected);
}

static void test_both_keys(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "[runcrate]\napi_key = a\napi_key_file = /x\n", 0600), -EINVAL);
	assert_non_null(strstr(f->errmsg, "account [runcrate]"));
	assert_non_null(strstr(f->errmsg, "both"));
}

static void test_key_with_space(void **state)
{
	struct fixture *f = *state;

	/* A key goes into a header line: no spaces, no control characters. */
	assert_int_equal(load(f, "[runcrate]\napi_key = rc live\n", 0600), -EINVAL);
	assert_non_null(strstr(f->errmsg, "account [runcrate]"));
	assert_null(strstr(f->errmsg, "rc live"));
}

/* "runcrate, vastai, ..." from the registry, so the test follows it. */
static char *all_provider_names(void)
{
	const struct gpufs_provider *const *list = gpufs_providers();
	GString *out = g_string_new(NULL);

	for (int i = 0; list[i]; i++)
		g_string_append_printf(out, "%s%s", i ? ", " : "", list[i]->name);
	return g_string_free(out, FALSE);
}

static void test_unknown_provider(void **state)
{
	struct fixture *f = *state;
	char *names = all_provider_names();
	char *expected =
	    g_strdup_printf("account [gpu2]: unknown provider \"runcrat\": use one of %s", names);

	assert_int_equal(load(f, "[gpu2]\nprovider = runcrat\napi_key = k\n", 0600), -EINVAL);
	assert_string_equal(f->errmsg, expected);
	g_free(expected);
	g_free(names);
}

static void test_no_provider(void **state)
{
	struct fixture *f = *state;
	const char *first = gpufs_providers()[0]->name;
	char *prefix = g_strdup_printf("account [gpu2]: no provider: add \"provider = %s\"", first);

	assert_int_equal(load(f, "[gpu2]\napi_key = k\n", 0600), -EINVAL);
	assert_true(g_str_has_prefix(f->errmsg, prefix));
	g_free(prefix);
}

static void test_bad_section_names(void **state)
{
	static const char *const names[] = {"README", "events", "cost_per_hour", "offers", "a/b",
					    ".",      ".."};
	struct fixture *f = *state;

	for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
		char *text = g_strdup_printf("[%s]\nprovider = runcrate\napi_key = k\n", names[i]);
		char *who = g_strdup_printf("account [%s]", names[i]);

		assert_int_equal(load(f, text, 0600), -EINVAL);
		assert_non_null(strstr(f->errmsg, who));
		assert_null(f->config);
		g_free(who);
		g_free(text);
	}
}

static void test_reserved_name(void **state)
{
	assert_true(gpufs_config_reserved_name("README"));
	assert_true(gpufs_config_reserved_name("events"));
	assert_true(gpufs_config_reserved_name("cost_per_hour"));
	assert_true(gpufs_config_reserved_name("offers"));
	assert_false(gpufs_config_reserved_name("runcrate"));
	assert_false(gpufs_config_reserved_name("readme"));
	assert_false(gpufs_config_reserved_name(NULL));
}

static void test_global_section(void **state)
{
	struct fixture *f = *state;

	assert_loaded(f, load(f, "[gpufs]\nttl = 5\n\n[runcrate]\napi_key = k\n", 0600));
	assert_int_equal(f->config->accounts->len, 1);
	assert_string_equal(account(f, 0)->name, "runcrate");
	assert_string_equal(g_hash_table_lookup(f->config->global, "ttl"), "5");
}

static void test_no_accounts(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "[gpufs]\nttl = 5\n", 0600), -EINVAL);
	assert_non_null(strstr(f->errmsg, "no account"));
	assert_int_equal(load(f, "# nothing\n", 0600), -EINVAL);
}

static void test_inline_key_mode(void **state)
{
	struct fixture *f = *state;
	char *expected = g_strdup_printf("%s holds an API key and is readable by others (mode "
					 "0644): run chmod 600 %s",
					 f->path, f->path);

	assert_int_equal(load(f, "[runcrate]\napi_key = k\n", 0644), -EACCES);
	assert_string_equal(f->errmsg, expected);
	assert_null(f->config);
	assert_int_equal(load(f, "[runcrate]\napi_key = k\n", 0640), -EACCES);
	assert_loaded(f, load(f, "[runcrate]\napi_key = k\n", 0600));
	assert_loaded(f, load(f, "[runcrate]\napi_key = k\n", 0400));
	g_free(expected);
}

static void test_url(void **state)
{
	struct fixture *f = *state;
	char *url = default_url(f->runcrate);

	assert_loaded(f, load(f,
			      "[runcrate]\napi_key = k\nurl = http://127.0.0.1:8080/api/v1/\n\n"
			      "[other]\nprovider = runcrate\napi_key = k\n",
			      0600));
	assert_string_equal(account(f, 0)->url, "http://127.0.0.1:8080/api/v1");
	assert_string_equal(account(f, 1)->url, url);
	assert_null(g_hash_table_lookup(account(f, 0)->options, "url"));
	g_free(url);
}

static void test_bad_url(void **state)
{
	static const char *const urls[] = {"ftp://example.com", "127.0.0.1:8080", "http://",
					   "https:/x"};
	struct fixture *f = *state;

	for (size_t i = 0; i < G_N_ELEMENTS(urls); i++) {
		char *text = g_strdup_printf("[runcrate]\napi_key = k\nurl = %s\n", urls[i]);

		assert_int_equal(load(f, text, 0600), -EINVAL);
		assert_true(g_str_has_prefix(f->errmsg, "account [runcrate]: url"));
		g_free(text);
	}
}

static void test_options(void **state)
{
	struct fixture *f = *state;
	GHashTable *options;

	assert_loaded(f, load(f,
			      "[work]\nprovider = runcrate\napi_key = rc_live_secret\n"
			      "url = https://example.test/api\noffers_filter = gpu_count>=2\n"
			      "environment = main \n",
			      0600));
	options = account(f, 0)->options;
	assert_int_equal(g_hash_table_size(options), 2);
	assert_string_equal(g_hash_table_lookup(options, "offers_filter"), "gpu_count>=2");
	assert_string_equal(g_hash_table_lookup(options, "environment"), "main");
	assert_false(g_hash_table_contains(options, "api_key"));
	assert_false(g_hash_table_contains(options, "provider"));
	assert_false(g_hash_table_contains(options, "url"));
}

static void test_missing_file(void **state)
{
	struct fixture *f = *state;
	char *path = g_build_filename(f->dir, "absent", NULL);
	char *expected = g_strdup_printf("no config file %s: create it (see gpufs.conf(5))", path);

	assert_int_equal(gpufs_config_load(path, &f->config, &f->errmsg), -ENOENT);
	assert_string_equal(f->errmsg, expected);
	assert_null(f->config);
	g_free(expected);
	g_free(path);
}

static void test_parse_error(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(load(f, "[runcrate\napi_key = k\n", 0600), -EINVAL);
	assert_true(g_str_has_prefix(f->errmsg, f->path));
	assert_int_equal(load(f, "just words\n", 0600), -EINVAL);
	assert_true(g_str_has_prefix(f->errmsg, f->path));
}

/* http.c's pure helpers. */

static void test_status_errno(void **state)
{
	assert_int_equal(gpufs_http_status_errno(200), 0);
	assert_int_equal(gpufs_http_status_errno(204), 0);
	assert_int_equal(gpufs_http_status_errno(401), EACCES);
	assert_int_equal(gpufs_http_status_errno(403), EACCES);
	assert_int_equal(gpufs_http_status_errno(404), ENOENT);
	assert_int_equal(gpufs_http_status_errno(410), ENOENT);
	assert_int_equal(gpufs_http_status_errno(400), EINVAL);
	assert_int_equal(gpufs_http_status_errno(409), EINVAL);
	assert_int_equal(gpufs_http_status_errno(422), EINVAL);
	assert_int_equal(gpufs_http_status_errno(429), EAGAIN);
	assert_int_equal(gpufs_http_status_errno(402), EIO);
	assert_int_equal(gpufs_http_status_errno(500), EIO);
	assert_int_equal(gpufs_http_status_errno(301), EIO);
	assert_int_equal(gpufs_http_status_errno(0), EIO);
}

static void test_escape(void **state)
{
	char *s;

	s = gpufs_http_escape("a b/c?d&e=f#g%h");
	assert_string_equal(s, "a%20b%2Fc%3Fd%26e%3Df%23g%25h");
	g_free(s);
	s = gpufs_http_escape("AZaz09-._~");
	assert_string_equal(s, "AZaz09-._~");
	g_free(s);
	s = gpufs_http_escape("\xc3\xa9");
	assert_string_equal(s, "%C3%A9");
	g_free(s);
	s = gpufs_http_escape("");
	assert_string_equal(s, "");
	g_free(s);
}

static void test_retry_after(void **state)
{
	time_t date = curl_getdate("Wed, 21 Oct 2015 07:28:00 GMT", NULL);

	assert_true(date > 0);
	assert_true(gpufs_http_parse_retry_after("120", 0) == 120);
	assert_true(gpufs_http_parse_retry_after(" 5 ", 0) == 5);
	assert_true(gpufs_http_parse_retry_after("0", 0) == 0);
	assert_true(gpufs_http_parse_retry_after("99999999999", 0) == GPUFS_HTTP_RETRY_AFTER_MAX);
	assert_true(gpufs_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", date - 30) == 30);
	/* A date in the past: go now. */
	assert_true(gpufs_http_parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", date + 30) == 0);
	assert_true(gpufs_http_parse_retry_after("soon", 0) < 0);
	assert_true(gpufs_http_parse_retry_after("-3", 0) < 0);
	assert_true(gpufs_http_parse_retry_after("5s", 0) < 0);
	assert_true(gpufs_http_parse_retry_after("", 0) < 0);
	assert_true(gpufs_http_parse_retry_after(NULL, 0) < 0);
}

static void test_backoff(void **state)
{
	assert_int_equal(gpufs_http_backoff_us(0, 1.0), 250000);
	assert_int_equal(gpufs_http_backoff_us(1, 1.0), 500000);
	assert_int_equal(gpufs_http_backoff_us(2, 1.0), 1000000);
	assert_int_equal(gpufs_http_backoff_us(0, 0.75), 187500);
	assert_int_equal(gpufs_http_backoff_us(0, 1.25), 312500);
	assert_int_equal(gpufs_http_backoff_us(5, 1.25), 8000000);
	assert_int_equal(gpufs_http_backoff_us(1000, 1.0), 8000000);
}

static json_object *parse(const char *body, long status, char **errmsg)
{
	struct gpufs_http_reply reply = {.status = status, .body = g_string_new(body)};
	json_object *obj = gpufs_http_reply_json(&reply, errmsg);

	gpufs_http_reply_clear(&reply);
	return obj;
}

static void test_reply_json(void **state)
{
	char *errmsg = NULL;
	json_object *obj;

	obj = parse("{\"data\":[1,2]}\n", 200, &errmsg);
	assert_non_null(obj);
	assert_null(errmsg);
	json_object_put(obj);
	obj = parse("42", 200, &errmsg);
	assert_non_null(obj);
	assert_int_equal(json_object_get_int(obj), 42);
	json_object_put(obj);

	assert_null(parse("<html>bad gateway</html>", 502, &errmsg));
	assert_string_equal(errmsg, "provider sent a reply that is not JSON (HTTP 502, 24 bytes)");
	g_clear_pointer(&errmsg, g_free);
	assert_null(parse("", 200, &errmsg));
	assert_string_equal(errmsg, "provider sent a reply that is not JSON (HTTP 200, 0 bytes)");
	g_clear_pointer(&errmsg, g_free);
	assert_null(parse("{\"a\":1} trailing", 200, &errmsg));
	assert_non_null(errmsg);
	g_clear_pointer(&errmsg, g_free);
	assert_null(parse("{\"a\":", 200, &errmsg));
	assert_non_null(errmsg);
	g_clear_pointer(&errmsg, g_free);
}

static void test_reply_json_bounds(void **state)
{
	struct gpufs_http_reply reply = {.status = 200, .body = g_string_new_len("{}\0junk", 7)};
	GString *deep = g_string_new(NULL);
	char *errmsg = NULL;

	/* A NUL inside the body ends nothing: what follows is still garbage. */
	assert_null(gpufs_http_reply_json(&reply, &errmsg));
	assert_string_equal(errmsg, "provider sent a reply that is not JSON (HTTP 200, 7 bytes)");
	g_clear_pointer(&errmsg, g_free);
	gpufs_http_reply_clear(&reply);
	/* Nesting is bounded. */
	for (int i = 0; i < 10000; i++)
		g_string_append_c(deep, '[');
	assert_null(parse(deep->str, 200, &errmsg));
	assert_non_null(errmsg);
	g_clear_pointer(&errmsg, g_free);
	g_string_free(deep, TRUE);
	assert_null(gpufs_http_reply_json(NULL, &errmsg));
	g_free(errmsg);
}

static void test_read_only(void **state)
{
	struct gpufs_http_options options = {.base_url = "http://127.0.0.1:1/api",
					     .bearer = "rc_live_secret",
					     .account = "t",
					     .read_only = TRUE};
	struct gpufs_http *http = gpufs_http_new(&options);
	struct gpufs_http_reply reply;
	char *errmsg = NULL;

	/* Refused before anything is sent: port 1 is never contacted. */
	assert_int_equal(
	    gpufs_http_request(http, GPUFS_HTTP_POST, "/instances", "{}", 0, &reply, &errmsg),
	    -EROFS);
	assert_non_null(errmsg);
	assert_null(strstr(errmsg, "rc_live_secret"));
	assert_int_equal(reply.status, 0);
	gpufs_http_reply_clear(&reply);
	g_free(errmsg);
	gpufs_http_free(http);
}

#define CONFIG_TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	/* clang-format off */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_default_path),
		CONFIG_TEST(test_minimal),
		CONFIG_TEST(test_explicit_provider),
		CONFIG_TEST(test_documented_example),
		CONFIG_TEST(test_two_accounts_same_provider),
		CONFIG_TEST(test_key_file),
		CONFIG_TEST(test_key_file_missing),
		CONFIG_TEST(test_key_file_empty),
		CONFIG_TEST(test_key_file_mode),
		CONFIG_TEST(test_env_fallback),
		CONFIG_TEST(test_missing_key),
		CONFIG_TEST(test_both_keys),
		CONFIG_TEST(test_key_with_space),
		CONFIG_TEST(test_unknown_provider),
		CONFIG_TEST(test_no_provider),
		CONFIG_TEST(test_bad_section_names),
		cmocka_unit_test(test_reserved_name),
		CONFIG_TEST(test_global_section),
		CONFIG_TEST(test_no_accounts),
		CONFIG_TEST(test_inline_key_mode),
		CONFIG_TEST(test_url),
		CONFIG_TEST(test_bad_url),
		CONFIG_TEST(test_options),
		CONFIG_TEST(test_missing_file),
		CONFIG_TEST(test_parse_error),
		cmocka_unit_test(test_status_errno),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_backoff),
		cmocka_unit_test(test_reply_json),
		cmocka_unit_test(test_reply_json_bounds),
		cmocka_unit_test(test_read_only),
	};
	/* clang-format on */

	/* Before anything asks GLib, which caches it. */
	g_setenv("XDG_CONFIG_HOME", "/nonexistent-xdg", TRUE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
