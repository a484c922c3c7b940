/* The cache: TTL, single flight, stale serving, expiry, with a fake clock. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "gpufs/cache.h"

static gint64 fake_now;

static gint64 fake_clock(void)
{
	return fake_now;
}

/* Values are refcounted GBytes. */
static gpointer bytes_ref(gpointer v)
{
	return g_bytes_ref(v);
}

static void bytes_unref(gpointer v)
{
	g_bytes_unref(v);
}

static const struct gpufs_cache_ops bytes_ops = {.ref = bytes_ref, .unref = bytes_unref};

struct fetcher {
	gint calls;
	int fail_rc;	  /* 0: succeed */
	const char *text; /* value to return */
	GMutex gate;	  /* held by the test to keep a fetch in flight */
};

static int fetch(void *ctx, const char *key, gpointer *value, char **errmsg)
{
	struct fetcher *f = ctx;

	g_atomic_int_inc(&f->calls);
	g_mutex_lock(&f->gate);
	g_mutex_unlock(&f->gate);
	if (f->fail_rc) {
		*errmsg = g_strdup("provider unreachable");
		return f->fail_rc;
	}
	*value = g_bytes_new(f->text, strlen(f->text) + 1); /* with the NUL */
	return 0;
}

static const char *text_of(struct gpufs_cache_result *r)
{
	return g_bytes_get_data(r->value, NULL);
}

static struct gpufs_cache *new_cache(void)
{
	fake_now = 1000000;
	return gpufs_cache_new(&bytes_ops, 5 * G_USEC_PER_SEC, fake_clock);
}

/* How much longer a value is fresh: what the kernel may trust it for. */
static void test_fresh_for(void **state)
{
	struct gpufs_cache *cache = new_cache();
	struct fetcher f = {.text = "one"};
	struct gpufs_cache_result r = {0};

	g_mutex_init(&f.gate);
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), 0);
	assert_int_equal(r.fresh_for, 5 * G_USEC_PER_SEC);
	gpufs_cache_result_clear(cache, &r);
	fake_now += 3 * G_USEC_PER_SEC;
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), 0);
	assert_int_equal(r.fresh_for, 2 * G_USEC_PER_SEC);
	gpufs_cache_result_clear(cache, &r);

	/* Stale: never to be trusted longer. */
	fake_now += 3 * G_USEC_PER_SEC;
	f.fail_rc = -EIO;
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), 0);
	assert_true(r.stale);
	assert_int_equal(r.fresh_for, 0);
	gpufs_cache_result_clear(cache, &r);
	assert_int_equal(f.calls, 2);
	g_mutex_clear(&f.gate);
	gpufs_cache_free(cache);
}

static void test_ttl(void **state)
{
	struct gpufs_cache *cache = new_cache();
	struct fetcher f = {.text = "one"};
	struct gpufs_cache_result r = {0};

	g_mutex_init(&f.gate);
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), 0);
	assert_string_equal(text_of(&r), "one");
	gpufs_cache_result_clear(cache, &r);

	f.text = "two";
	fake_now += 4 * G_USEC_PER_SEC; /* inside the TTL: no fetch */
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), 0);
	assert_string_equal(text_of(&r), "one");
	assert_int_equal(f.calls, 1);
	gpufs_cache_result_clear(cache, &r);

	fake_now += 2 * G_USEC_PER_SEC; /* past it: one fetch */
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), 0);
	assert_string_equal(text_of(&r), "two");
	assert_false(r.stale);
	assert_int_equal(f.calls, 2);
	gpufs_cache_result_clear(cache, &r);
	gpufs_cache_free(cache);
}

static void test_stale_then_recovery(void **state)
{
	struct gpufs_cache *cache = new_cache();
	struct fetcher f = {.text = "old"};
	struct gpufs_cache_result r = {0};

	g_mutex_init(&f.gate);
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), 0);
	gpufs_cache_result_clear(cache, &r);

	fake_now += 6 * G_USEC_PER_SEC;
	f.fail_rc = -EIO;
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), 0);
	assert_string_equal(text_of(&r), "old");
	assert_true(r.stale);
	assert_int_equal(r.stale_since, fake_now);
	assert_string_equal(r.error, "provider unreachable");
	gpufs_cache_result_clear(cache, &r);

	/* While stale, every get retries: the daemon recovers by itself. */
	f.fail_rc = 0;
	f.text = "new";
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), 0);
	assert_string_equal(text_of(&r), "new");
	assert_false(r.stale);
	assert_null(r.error);
	gpufs_cache_result_clear(cache, &r);
	gpufs_cache_free(cache);
}

static void test_never_fetched_fails(void **state)
{
	struct gpufs_cache *cache = new_cache();
	struct fetcher f = {.fail_rc = -ETIMEDOUT};
	struct gpufs_cache_result r = {0};

	g_mutex_init(&f.gate);
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), -ETIMEDOUT);
	assert_null(r.value);
	assert_string_equal(r.error, "provider unreachable");
	gpufs_cache_result_clear(cache, &r);
	gpufs_cache_free(cache);
}

static void test_gone_is_not_served_stale(void **state)
{
	struct gpufs_cache *cache = new_cache();
	struct fetcher f = {.text = "x"};
	struct gpufs_cache_result r = {0};

	g_mutex_init(&f.gate);
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), 0);
	gpufs_cache_result_clear(cache, &r);
	fake_now += 6 * G_USEC_PER_SEC;
	f.fail_rc = -ENOENT;
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), -ENOENT);
	assert_null(r.value);
	gpufs_cache_result_clear(cache, &r);
	gpufs_cache_free(cache);
}

static void test_put_expire_peek(void **state)
{
	struct gpufs_cache *cache = new_cache();
	struct fetcher f = {.text = "fetched"};
	struct gpufs_cache_result r = {0};
	GBytes *listed = g_bytes_new_static("listed", 7);
	gint64 at = 0;
	GBytes *peeked;

	g_mutex_init(&f.gate);
	assert_null(gpufs_cache_peek(cache, "k", NULL));
	gpufs_cache_put(cache, "k", listed);
	g_bytes_unref(listed);
	peeked = gpufs_cache_peek(cache, "k", &at);
	assert_non_null(peeked);
	assert_int_equal(at, fake_now);
	g_bytes_unref(peeked);

	/* A listing filled it: no fetch. */
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), 0);
	assert_string_equal(text_of(&r), "listed");
	assert_int_equal(f.calls, 0);
	gpufs_cache_result_clear(cache, &r);

	/* After a ctl the next read asks again, even inside the TTL. */
	gpufs_cache_expire(cache, "k");
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), 0);
	assert_string_equal(text_of(&r), "fetched");
	assert_int_equal(f.calls, 1);
	gpufs_cache_result_clear(cache, &r);

	gpufs_cache_remove(cache, "k");
	assert_null(gpufs_cache_peek(cache, "k", NULL));
	gpufs_cache_free(cache);
}

struct reader {
	struct gpufs_cache *cache;
	struct fetcher *fetcher;
	int rc;
	char text[16];
};

static gpointer read_once(gpointer data)
{
	struct reader *rd = data;
	struct gpufs_cache_result r = {0};

	rd->rc = gpufs_cache_get(rd->cache, "k", fetch, rd->fetcher, &r);
	if (rd->rc == 0)
		g_strlcpy(rd->text, text_of(&r), sizeof(rd->text));
	gpufs_cache_result_clear(rd->cache, &r);
	return NULL;
}

static void test_single_flight(void **state)
{
	struct gpufs_cache *cache = new_cache();
	struct fetcher f = {.text = "shared"};
	struct reader readers[32];
	GThread *threads[32];

	g_mutex_init(&f.gate);
	g_mutex_lock(&f.gate); /* hold the first fetch in flight */
	for (int i = 0; i < 32; i++) {
		readers[i] = (struct reader){.cache = cache, .fetcher = &f};
		threads[i] = g_thread_new("reader", read_once, &readers[i]);
	}
	while (g_atomic_int_get(&f.calls) < 1)
		g_usleep(1000);
	g_usleep(50000); /* let the others queue up behind it */
	g_mutex_unlock(&f.gate);
	for (int i = 0; i < 32; i++) {
		g_thread_join(threads[i]);
		assert_int_equal(readers[i].rc, 0);
		assert_string_equal(readers[i].text, "shared");
	}
	assert_int_equal(f.calls, 1);
	gpufs_cache_free(cache);
}

static void test_flight_racing_expire_stays_expired(void **state)
{
	struct gpufs_cache *cache = new_cache();
	struct fetcher f = {.text = "before-ctl"};
	struct reader rd = {.cache = cache, .fetcher = &f};
	struct gpufs_cache_result r = {0};
	GThread *thread;

	g_mutex_init(&f.gate);
	g_mutex_lock(&f.gate);
	thread = g_thread_new("reader", read_once, &rd);
	while (g_atomic_int_get(&f.calls) < 1)
		g_usleep(1000);
	gpufs_cache_expire(cache, "k"); /* a ctl lands while the GET runs */
	g_mutex_unlock(&f.gate);
	g_thread_join(thread);
	assert_string_equal(rd.text, "before-ctl");

	f.text = "after-ctl";
	assert_int_equal(gpufs_cache_get(cache, "k", fetch, &f, &r), 0);
	assert_string_equal(text_of(&r), "after-ctl");
	assert_int_equal(f.calls, 2);
	gpufs_cache_result_clear(cache, &r);
	gpufs_cache_free(cache);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ttl),
	    cmocka_unit_test(test_fresh_for),
	    cmocka_unit_test(test_stale_then_recovery),
	    cmocka_unit_test(test_never_fetched_fails),
	    cmocka_unit_test(test_gone_is_not_served_stale),
	    cmocka_unit_test(test_put_expire_peek),
	    cmocka_unit_test(test_single_flight),
	    cmocka_unit_test(test_flight_racing_expire_stays_expired),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
