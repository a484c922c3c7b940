/* A keyed cache of refcounted values with a time-to-live, single flight and
 * stale serving:
 *  - a fresh entry is returned at once;
 *  - a missing or expired one is fetched by exactly one caller while the
 *    others wait for its result (single flight);
 *  - when a refetch fails, the last value is returned and the failure kept,
 *    so the caller can say the data is stale; only a never-fetched key fails.
 * It knows nothing of providers: keys are strings, values opaque. */
#ifndef GPUFS_CACHE_H
#define GPUFS_CACHE_H

#include <glib.h>

/* Monotonic microseconds; tests pass a fake clock. */
typedef gint64 (*gpufs_clock_fn)(void);

/* Returns 0 and a new reference in *value, or -errno and *errmsg. */
typedef int (*gpufs_fetch_fn)(void *ctx, const char *key, gpointer *value, char **errmsg);

struct gpufs_cache_ops {
	gpointer (*ref)(gpointer value);
	void (*unref)(gpointer value);
};

struct gpufs_cache;

struct gpufs_cache *gpufs_cache_new(const struct gpufs_cache_ops *ops, gint64 ttl_us,
				    gpufs_clock_fn clock);
void gpufs_cache_free(struct gpufs_cache *cache);

struct gpufs_cache_result {
	gpointer value;	    /* a reference for the caller, or NULL on failure */
	gboolean stale;	    /* the last refetch failed; value is older than the TTL */
	gint64 stale_since; /* clock time of the first failed refetch */
	char *error;	    /* the failure's words when stale or failed */
	gint64 fresh_for;   /* how much longer the value is fresh: 0 when expired or stale */
};

void gpufs_cache_result_clear(struct gpufs_cache *cache, struct gpufs_cache_result *result);

/* Gets @key, fetching it through @fetch when missing or expired.  Returns 0
 * (result->value set, possibly stale) or -errno (never fetched, or gone). */
int gpufs_cache_get(struct gpufs_cache *cache, const char *key, gpufs_fetch_fn fetch, void *ctx,
		    struct gpufs_cache_result *result);

/* Like get with max_age_us instead of the cache's TTL (0: always refetch,
 * still shared with concurrent callers). */
int gpufs_cache_get_max_age(struct gpufs_cache *cache, const char *key, gint64 max_age_us,
			    gpufs_fetch_fn fetch, void *ctx, struct gpufs_cache_result *result);

/* Returns a reference to the current value without fetching (NULL if none),
 * and its fetch time in *fetched_at when not NULL. */
gpointer gpufs_cache_peek(struct gpufs_cache *cache, const char *key, gint64 *fetched_at);

/* Stores @value (the cache takes a new reference) as fetched now: a listing
 * fills every instance it holds. */
void gpufs_cache_put(struct gpufs_cache *cache, const char *key, gpointer value);

/* Marks @key expired, keeping its value for stale serving: after a ctl, the
 * next read asks the provider. */
void gpufs_cache_expire(struct gpufs_cache *cache, const char *key);
/* Forgets @key entirely (the instance is gone). */
void gpufs_cache_remove(struct gpufs_cache *cache, const char *key);

gint64 gpufs_cache_ttl(const struct gpufs_cache *cache);
gint64 gpufs_cache_now(const struct gpufs_cache *cache);

#endif
