/* The pollers (see watch.h). */
#include "gpufs/account.h"
#include "gpufs/events.h"
#include "gpufs/log.h"
#include "gpufs/tree.h"
#include "gpufs/watch.h"

struct poller {
	struct gpufs_watch *watch;
	struct gpufs_account *account;
	GThread *thread;
	struct gpufs_instance_list *last; /* what the previous poll saw */
};

struct gpufs_watch {
	struct gpufs_tree *tree;
	struct gpufs_events *events;
	struct gpufs_watch_options options;
	GMutex lock;
	GCond stopping;
	gboolean stop;
	GPtrArray *pollers;
};

static GHashTable *by_id(struct gpufs_instance_list *list)
{
	GHashTable *ids = g_hash_table_new(g_str_hash, g_str_equal);

	for (guint i = 0; list && i < list->items->len; i++) {
		struct gpufs_instance *inst = list->items->pdata[i];

		g_hash_table_insert(ids, gpufs_instance_id(inst), inst);
	}
	return ids;
}

void gpufs_watch_diff(struct gpufs_events *events, const char *account,
		      struct gpufs_instance_list *old_list, struct gpufs_instance_list *new_list,
		      GPtrArray *created, GPtrArray *gone)
{
	g_autoptr(GHashTable) old_ids = by_id(old_list);
	g_autoptr(GHashTable) new_ids = by_id(new_list);

	for (guint i = 0; i < new_list->items->len; i++) {
		struct gpufs_instance *now = new_list->items->pdata[i];
		const char *id = gpufs_instance_id(now);
		struct gpufs_instance *before = g_hash_table_lookup(old_ids, id);

		if (!before) {
			gpufs_events_add(events, account, id, "instance", "", "created");
			g_ptr_array_add(created, (gpointer)id);
			continue;
		}
		for (int f = 0; f < GPUFS_FIELD_COUNT; f++)
			if (g_strcmp0(before->values[f], now->values[f]) != 0)
				gpufs_events_add(events, account, id, gpufs_field_names[f],
						 before->values[f], now->values[f]);
	}
	for (guint i = 0; old_list && i < old_list->items->len; i++) {
		const char *id =
		    gpufs_instance_id((struct gpufs_instance *)old_list->items->pdata[i]);

		if (g_hash_table_contains(new_ids, id))
			continue;
		gpufs_events_add(events, account, id, "instance", "", "gone");
		g_ptr_array_add(gone, (gpointer)id);
	}
}

static gboolean any_transitional(struct gpufs_instance_list *list)
{
	for (guint i = 0; list && i < list->items->len; i++) {
		struct gpufs_instance *inst = list->items->pdata[i];

		if (gpufs_status_is_transitional(inst->status))
			return TRUE;
	}
	return FALSE;
}

/* Somebody looks: the kernel holds a node of the account or /events, or an
 * instance is changing state (a script waits for it). */
static gboolean needed(struct poller *poller)
{
	struct gpufs_watch *watch = poller->watch;

	return gpufs_tree_account_in_use(watch->tree, poller->account) ||
	       gpufs_tree_events_in_use(watch->tree) || any_transitional(poller->last);
}

static void poll_once(struct poller *poller)
{
	struct gpufs_watch *watch = poller->watch;
	struct gpufs_cache_result result = {0};
	g_autoptr(GPtrArray) created = g_ptr_array_new();
	g_autoptr(GPtrArray) gone = g_ptr_array_new();
	struct gpufs_instance_list *list;

	if (gpufs_account_refresh(poller->account, &result) < 0 || result.stale) {
		gpufs_debug("%s: poll: %s", poller->account->name,
			    result.error ? result.error : "failed");
		gpufs_cache_result_clear(poller->account->lists, &result);
		return;
	}
	list = result.value;
	/* The first poll only learns the baseline: nothing changed yet. */
	if (poller->last)
		gpufs_watch_diff(watch->events, poller->account->name, poller->last, list, created,
				 gone);
	gpufs_tree_sync(watch->tree, poller->account, created, gone);
	gpufs_instance_list_unref(poller->last);
	poller->last = gpufs_instance_list_ref(list);
	gpufs_cache_result_clear(poller->account->lists, &result);
}

static gint64 interval_us(struct poller *poller)
{
	const struct gpufs_watch_options *o = &poller->watch->options;
	double seconds = any_transitional(poller->last) ? o->fast_poll_s : o->poll_s;

	return (gint64)(seconds * G_USEC_PER_SEC);
}

static gpointer run(gpointer data)
{
	struct poller *poller = data;
	struct gpufs_watch *watch = poller->watch;

	g_mutex_lock(&watch->lock);
	while (!watch->stop) {
		gint64 deadline = g_get_monotonic_time() + interval_us(poller);

		while (!watch->stop && g_cond_wait_until(&watch->stopping, &watch->lock, deadline))
			;
		if (watch->stop)
			break;
		g_mutex_unlock(&watch->lock);
		if (needed(poller))
			poll_once(poller);
		g_mutex_lock(&watch->lock);
	}
	g_mutex_unlock(&watch->lock);
	return NULL;
}

struct gpufs_watch *gpufs_watch_start(struct gpufs_tree *tree, GPtrArray *accounts,
				      struct gpufs_events *events,
				      const struct gpufs_watch_options *options)
{
	struct gpufs_watch *watch = g_new0(struct gpufs_watch, 1);

	watch->tree = tree;
	watch->events = events;
	watch->options = *options;
	g_mutex_init(&watch->lock);
	g_cond_init(&watch->stopping);
	watch->pollers = g_ptr_array_new();
	for (guint i = 0; i < accounts->len; i++) {
		struct poller *poller = g_new0(struct poller, 1);

		poller->watch = watch;
		poller->account = accounts->pdata[i];
		poller->thread = g_thread_new("gpufs-poll", run, poller);
		g_ptr_array_add(watch->pollers, poller);
	}
	return watch;
}

void gpufs_watch_stop(struct gpufs_watch *watch)
{
	if (!watch)
		return;
	g_mutex_lock(&watch->lock);
	watch->stop = TRUE;
	g_cond_broadcast(&watch->stopping);
	g_mutex_unlock(&watch->lock);
	for (guint i = 0; i < watch->pollers->len; i++) {
		struct poller *poller = watch->pollers->pdata[i];

		g_thread_join(poller->thread);
		gpufs_instance_list_unref(poller->last);
		g_free(poller);
	}
	g_ptr_array_unref(watch->pollers);
	g_cond_clear(&watch->stopping);
	g_mutex_clear(&watch->lock);
	g_free(watch);
}
