/* TTL cache with single flight and stale serving (see cache.h).  One mutex
 * guards the table; fetches run without it, and callers that find a fetch in
 * flight wait on a condition for its outcome instead of starting their own. */
#include <errno.h>
#include "gpufs/blocking.h"
#include "gpufs/cache.h"

struct cache_entry {
	gpointer value; /* NULL until the first successful fetch */
	gint64 fetched_at;
	gboolean expired; /* gpufs_cache_expire: refetch on next get */
	guint64 expiries; /* bumped by expire, like sshfs's write_ctr: a flight
			   * that raced an expire must not look fresh */
	gboolean in_flight;
	guint64 flights;    /* completed fetches, so waiters know theirs ended */
	int last_rc;	    /* outcome of the last flight */
	char *error;	    /* words of the last failure, kept while stale */
	gint64 stale_since; /* 0 while fresh */
};

struct gpufs_cache {
	struct gpufs_cache_ops ops;
	gint64 ttl_us;
	gpufs_clock_fn clock;
	GMutex lock;
	GCond landed;
	GHashTable *entries; /* key -> struct cache_entry * */
};

static gint64 default_clock(void)
{
	return g_get_monotonic_time();
}

static void entry_free(struct gpufs_cache *cache, struct cache_entry *entry)
{
	if (entry->value)
		cache->ops.unref(entry->value);
	g_free(entry->error);
	g_free(entry);
}

struct gpufs_cache *gpufs_cache_new(const struct gpufs_cache_ops *ops, gint64 ttl_us,
				    gpufs_clock_fn clock)
{
	struct gpufs_cache *cache = g_new0(struct gpufs_cache, 1);

	cache->ops = *ops;
	cache->ttl_us = ttl_us;
	cache->clock = clock ? clock : default_clock;
	g_mutex_init(&cache->lock);
	g_cond_init(&cache->landed);
	cache->entries = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return cache;
}

void gpufs_cache_free(struct gpufs_cache *cache)
{
	GHashTableIter iter;
	gpointer value;

	if (!cache)
		return;
	g_hash_table_iter_init(&iter, cache->entries);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		entry_free(cache, value);
	g_hash_table_destroy(cache->entries);
	g_cond_clear(&cache->landed);
	g_mutex_clear(&cache->lock);
	g_free(cache);
}

gint64 gpufs_cache_ttl(const struct gpufs_cache *cache)
{
	return cache->ttl_us;
}

gint64 gpufs_cache_now(const struct gpufs_cache *cache)
{
	return cache->clock();
}

void gpufs_cache_result_clear(struct gpufs_cache *cache, struct gpufs_cache_result *result)
{
	if (result->value)
		cache->ops.unref(result->value);
	g_free(result->error);
	*result = (struct gpufs_cache_result){0};
}

static struct cache_entry *entry_get(struct gpufs_cache *cache, const char *key)
{
	struct cache_entry *entry = g_hash_table_lookup(cache->entries, key);

	if (!entry) {
		entry = g_new0(struct cache_entry, 1);
		g_hash_table_insert(cache->entries, g_strdup(key), entry);
	}
	return entry;
}

static gboolean entry_fresh(struct gpufs_cache *cache, struct cache_entry *entry, gint64 max_age)
{
	return entry->value && !entry->expired && !entry->stale_since &&
	       cache->clock() - entry->fetched_at < max_age;
}

/* Fills @result from the entry after a flight (ours or one we waited for). */
static int entry_result(struct gpufs_cache *cache, struct cache_entry *entry,
			struct gpufs_cache_result *result)
{
	*result = (struct gpufs_cache_result){0};
	if (entry->value) {
		result->value = cache->ops.ref(entry->value);
		result->stale = entry->stale_since != 0;
		result->stale_since = entry->stale_since;
		result->error = g_strdup(entry->error);
		if (!entry->expired && !entry->stale_since)
			result->fresh_for =
			    MAX(0, entry->fetched_at + cache->ttl_us - cache->clock());
		return 0;
	}
	result->error = g_strdup(entry->error ? entry->error : "not found");
	return entry->last_rc < 0 ? entry->last_rc : -EIO;
}

static void land(struct gpufs_cache *cache, struct cache_entry *entry, guint64 expiries, int rc,
		 gpointer value, char *error)
{
	entry->in_flight = FALSE;
	entry->flights++;
	entry->last_rc = rc;
	g_free(entry->error);
	entry->error = error;
	if (rc == 0) {
		if (entry->value)
			cache->ops.unref(entry->value);
		entry->value = value;
		entry->fetched_at = cache->clock();
		entry->expired = entry->expiries != expiries;
		entry->stale_since = 0;
	} else if (rc == -ENOENT) {
		/* The provider says it is gone: stale serving would lie. */
		if (entry->value)
			cache->ops.unref(entry->value);
		entry->value = NULL;
	} else if (!entry->stale_since) {
		entry->stale_since = cache->clock();
	}
	g_cond_broadcast(&cache->landed);
}

int gpufs_cache_get_max_age(struct gpufs_cache *cache, const char *key, gint64 max_age_us,
			    gpufs_fetch_fn fetch, void *ctx, struct gpufs_cache_result *result)
{
	struct cache_entry *entry;
	gpointer value = NULL;
	char *error = NULL;
	guint64 expiries;
	int rc;

	g_mutex_lock(&cache->lock);
	entry = entry_get(cache, key);
	if (entry_fresh(cache, entry, max_age_us)) {
		rc = entry_result(cache, entry, result);
		g_mutex_unlock(&cache->lock);
		return rc;
	}
	if (entry->in_flight) {
		guint64 flight = entry->flights;

		gpufs_blocking();
		while (entry->flights == flight)
			g_cond_wait(&cache->landed, &cache->lock);
		rc = entry_result(cache, entry, result);
		g_mutex_unlock(&cache->lock);
		return rc;
	}
	entry->in_flight = TRUE;
	expiries = entry->expiries;
	g_mutex_unlock(&cache->lock);

	rc = fetch(ctx, key, &value, &error);
	if (rc == 0 && !value)
		rc = -EIO;

	g_mutex_lock(&cache->lock);
	land(cache, entry, expiries, rc, rc == 0 ? value : NULL, error);
	if (rc != 0 && value)
		cache->ops.unref(value);
	rc = entry_result(cache, entry, result);
	g_mutex_unlock(&cache->lock);
	return rc;
}

int gpufs_cache_get(struct gpufs_cache *cache, const char *key, gpufs_fetch_fn fetch, void *ctx,
		    struct gpufs_cache_result *result)
{
	return gpufs_cache_get_max_age(cache, key, cache->ttl_us, fetch, ctx, result);
}

gpointer gpufs_cache_peek(struct gpufs_cache *cache, const char *key, gint64 *fetched_at)
{
	struct cache_entry *entry;
	gpointer value = NULL;

	g_mutex_lock(&cache->lock);
	entry = g_hash_table_lookup(cache->entries, key);
	if (entry && entry->value) {
		value = cache->ops.ref(entry->value);
		if (fetched_at)
			*fetched_at = entry->fetched_at;
	}
	g_mutex_unlock(&cache->lock);
	return value;
}

void gpufs_cache_put(struct gpufs_cache *cache, const char *key, gpointer value)
{
	struct cache_entry *entry;

	g_mutex_lock(&cache->lock);
	entry = entry_get(cache, key);
	if (entry->value)
		cache->ops.unref(entry->value);
	entry->value = cache->ops.ref(value);
	entry->fetched_at = cache->clock();
	entry->expired = FALSE;
	entry->stale_since = 0;
	g_clear_pointer(&entry->error, g_free);
	g_mutex_unlock(&cache->lock);
}

void gpufs_cache_expire(struct gpufs_cache *cache, const char *key)
{
	struct cache_entry *entry;

	g_mutex_lock(&cache->lock);
	entry = g_hash_table_lookup(cache->entries, key);
	if (entry) {
		entry->expired = TRUE;
		entry->expiries++;
	}
	g_mutex_unlock(&cache->lock);
}

void gpufs_cache_remove(struct gpufs_cache *cache, const char *key)
{
	struct cache_entry *entry;

	g_mutex_lock(&cache->lock);
	entry = g_hash_table_lookup(cache->entries, key);
	if (entry && entry->in_flight) {
		/* Waiters hold the entry until the flight lands: keep it, and
		 * let the flight's own answer decide. */
		entry->expired = TRUE;
		entry->expiries++;
	} else if (entry) {
		g_hash_table_remove(cache->entries, key);
		entry_free(cache, entry);
	}
	g_mutex_unlock(&cache->lock);
}
