// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Request counters for GET /_sim/counts.  Tests use them to prove what gpufs did not do (no
 * second POST, one GET per TTL), so every declared route is present even at zero.
 */
#include <stdlib.h>
#include <string.h>

#include "sim.h"

/*
 * Requests to unknown paths get a key of their own (the path as sent), but a client looping
 * over junk paths must not grow the table without bound.
 */
#define COUNTS_MAX_UNDECLARED 1000
#define COUNTS_OVERFLOW_KEY   "other"

struct count {
	guint64 n;
	bool declared;
};

struct sim_counts {
	GHashTable *by_key; /* char * -> struct count * */
	guint n_undeclared;
	guint64 total;
	guint64 mutating;
};

struct sim_counts *sim_counts_new(void)
{
	struct sim_counts *counts = g_new0(struct sim_counts, 1);

	counts->by_key = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return counts;
}

void sim_counts_free(struct sim_counts *counts)
{
	g_hash_table_destroy(counts->by_key);
	g_free(counts);
}

void sim_counts_declare(struct sim_counts *counts, const char *key)
{
	struct count *c = g_hash_table_lookup(counts->by_key, key);

	if (c) {
		c->declared = true;
		return;
	}
	c = g_new0(struct count, 1);
	c->declared = true;
	g_hash_table_insert(counts->by_key, g_strdup(key), c);
}

void sim_counts_hit(struct sim_counts *counts, const char *key, bool mutating)
{
	struct count *c = g_hash_table_lookup(counts->by_key, key);

	counts->total++;
	if (mutating)
		counts->mutating++;
	if (!c && counts->n_undeclared >= COUNTS_MAX_UNDECLARED)
		c = g_hash_table_lookup(counts->by_key, key = COUNTS_OVERFLOW_KEY);
	if (!c) {
		c = g_new0(struct count, 1);
		g_hash_table_insert(counts->by_key, g_strdup(key), c);
		counts->n_undeclared++;
	}
	c->n++;
}

static gboolean drop_undeclared(gpointer key, gpointer value, gpointer data)
{
	struct count *c = value;

	c->n = 0;
	return !c->declared;
}

/* Back to the state after start-up: declared routes at zero, nothing else. */
void sim_counts_reset(struct sim_counts *counts)
{
	g_hash_table_foreach_remove(counts->by_key, drop_undeclared, NULL);
	counts->n_undeclared = 0;
	counts->total = 0;
	counts->mutating = 0;
}

static int compare_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted keys, then "total" and "mutating", so the output reads the same every time. */
json_object *sim_counts_json(const struct sim_counts *counts)
{
	json_object *obj = json_object_new_object();
	guint n_keys;
	gpointer *keys = g_hash_table_get_keys_as_array(counts->by_key, &n_keys);

	qsort(keys, n_keys, sizeof(*keys), compare_keys);
	for (guint i = 0; i < n_keys; i++) {
		const struct count *c = g_hash_table_lookup(counts->by_key, keys[i]);

		json_object_object_add(obj, keys[i], json_object_new_int64((gint64)c->n));
	}
	g_free(keys);
	json_object_object_add(obj, "total", json_object_new_int64((gint64)counts->total));
	json_object_object_add(obj, "mutating", json_object_new_int64((gint64)counts->mutating));
	return obj;
}
