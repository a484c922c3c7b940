/* Prefill (see prefill.h). */
#include <errno.h>
#include "gpufs/log.h"
#include "loop.h"
#include "prefill.h"

/* Enough for a burst of concurrent lookups; a file that does not fit is
 * simply not stored. */
#define QUEUE_MAX 256
/* A lookup from another process may come before the kernel made the inode
 * of the one queued: it is tried again by the next few. */
#define TRIES_MAX 3
/* Value files are a line; a big file is read as it is asked for. */
#define STORE_MAX (64 * 1024)

struct pending {
	uint64_t ino;
	int tries;
};

struct gpufs_prefill {
	struct fuse_session *session;
	struct gpufs_tree *tree;
	gboolean enabled;
	gint stopping; /* atomic: the session loop is about to end */
	GMutex queue_lock;
	GArray *queue;	/* struct pending */
	GMutex storing; /* held by the one thread storing */
	GArray *taken;	/* what that thread stores; under storing */
};

struct gpufs_prefill *gpufs_prefill_new(struct fuse_session *session, struct gpufs_tree *tree,
					gboolean enabled)
{
	struct gpufs_prefill *prefill = g_new0(struct gpufs_prefill, 1);

	prefill->session = session;
	prefill->tree = tree;
	prefill->enabled = enabled;
	g_mutex_init(&prefill->queue_lock);
	g_mutex_init(&prefill->storing);
	prefill->queue = g_array_new(FALSE, FALSE, sizeof(struct pending));
	prefill->taken = g_array_new(FALSE, FALSE, sizeof(struct pending));
	return prefill;
}

void gpufs_prefill_free(struct gpufs_prefill *prefill)
{
	if (!prefill)
		return;
	g_array_unref(prefill->queue);
	g_array_unref(prefill->taken);
	g_mutex_clear(&prefill->queue_lock);
	g_mutex_clear(&prefill->storing);
	g_free(prefill);
}

/* Queue lock held. */
static void enqueue_locked(struct gpufs_prefill *prefill, uint64_t ino, int tries)
{
	struct pending entry = {ino, tries};

	if (prefill->queue->len < QUEUE_MAX)
		g_array_append_val(prefill->queue, entry);
}

/* Returns -ENOENT while the kernel has no inode for @ino yet. */
static int store(struct gpufs_prefill *prefill, uint64_t ino)
{
	guint64 generation;
	g_autoptr(GBytes) bytes = gpufs_tree_cacheable(prefill->tree, ino, &generation);
	struct fuse_bufvec buf;
	const void *data;
	gsize size;
	int rc;

	if (!bytes)
		return 0;
	data = g_bytes_get_data(bytes, &size);
	if (size == 0 || size > STORE_MAX)
		return 0;
	buf = (struct fuse_bufvec)FUSE_BUFVEC_INIT(size);
	buf.buf[0].mem = (void *)data;
	/* A READ of this file may wait unread, holding the page we store. */
	gpufs_loop_make_way();
	rc = fuse_lowlevel_notify_store(prefill->session, ino, 0, &buf, 0);
	if (rc < 0)
		return rc;
	/* Changed on the way: what we stored may have landed after the
	 * change was told, and after a watcher it woke read the file. */
	if (!gpufs_tree_unchanged(prefill->tree, ino, generation))
		gpufs_tree_retell(prefill->tree, ino);
	return 0;
}

static void store_taken(struct gpufs_prefill *prefill)
{
	for (guint i = 0; i < prefill->taken->len; i++) {
		struct pending *entry = &g_array_index(prefill->taken, struct pending, i);
		int rc;

		if (g_atomic_int_get(&prefill->stopping))
			break;
		rc = store(prefill, entry->ino);

		if (rc == -ENOENT && entry->tries + 1 < TRIES_MAX) {
			g_mutex_lock(&prefill->queue_lock);
			enqueue_locked(prefill, entry->ino, entry->tries + 1);
			g_mutex_unlock(&prefill->queue_lock);
		} else if (rc < 0 && rc != -ENOENT) {
			gpufs_debug("prefill: inode %" G_GUINT64_FORMAT ": %s", entry->ino,
				    g_strerror(-rc));
		}
	}
	g_array_set_size(prefill->taken, 0);
}

void gpufs_prefill_looked_up(struct gpufs_prefill *prefill, uint64_t ino)
{
	GArray *swap;

	if (!prefill || !prefill->enabled)
		return;
	if (!g_mutex_trylock(&prefill->storing)) {
		g_mutex_lock(&prefill->queue_lock);
		enqueue_locked(prefill, ino, 0);
		g_mutex_unlock(&prefill->queue_lock);
		return;
	}
	if (g_atomic_int_get(&prefill->stopping)) {
		g_mutex_unlock(&prefill->storing);
		return;
	}
	g_mutex_lock(&prefill->queue_lock);
	swap = prefill->taken;
	prefill->taken = prefill->queue;
	prefill->queue = swap;
	enqueue_locked(prefill, ino, 0);
	g_mutex_unlock(&prefill->queue_lock);
	store_taken(prefill);
	g_mutex_unlock(&prefill->storing);
}

void gpufs_prefill_read(struct gpufs_prefill *prefill, uint64_t ino)
{
	if (!prefill || !prefill->enabled)
		return;
	g_mutex_lock(&prefill->queue_lock);
	for (guint i = prefill->queue->len; i-- > 0;)
		if (g_array_index(prefill->queue, struct pending, i).ino == ino)
			g_array_remove_index(prefill->queue, i);
	g_mutex_unlock(&prefill->queue_lock);
}

void gpufs_prefill_stop(void *data)
{
	struct gpufs_prefill *prefill = data;

	if (!prefill)
		return;
	g_atomic_int_set(&prefill->stopping, 1);
	/* The store in flight, if any, ends: the loop still answers reads. */
	g_mutex_lock(&prefill->storing);
	g_mutex_unlock(&prefill->storing);
}
