/* The notifier thread (see notify.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gpufs/blocking.h"
#include "gpufs/log.h"
#include "notify.h"

enum note_kind {
	NOTE_CHANGED,
	NOTE_CREATED,
	NOTE_REMOVED,
	NOTE_BARRIER, /* everything before it has been told */
};

/* Shared by the waiter and the note: whoever lets go last frees it, so a
 * waiter that gave up does not leave the notifier with freed memory. */
struct barrier {
	gint refs;
	GMutex lock;
	GCond passed;
	gboolean done;
};

static void barrier_unref(struct barrier *barrier)
{
	if (!g_atomic_int_dec_and_test(&barrier->refs))
		return;
	g_cond_clear(&barrier->passed);
	g_mutex_clear(&barrier->lock);
	g_free(barrier);
}

struct note {
	enum note_kind kind;
	uint64_t ino;
	char *path; /* under the mountpoint */
	struct timespec mtime;
	struct barrier *barrier;
};

struct gpufs_notifier {
	struct fuse_session *session;
	char *mountpoint;
	GAsyncQueue *notes;
	GThread *thread;
	gint tid;
	gint stop;
	GMutex poll_lock;
	GHashTable *polls; /* ino -> GPtrArray of struct poller * */
	GHashTable *woken; /* "ino:pid" -> monotonic time of the wake */
};

/* A poll(2) waiting on a file.  Files have no per-open state, so a waiter
 * is known by the thread the kernel names in its POLL request: the kernel
 * polls again after our wake, and that poll must say ready. */
struct poller {
	struct fuse_pollhandle *handle;
	pid_t pid;
};

/* A wake not polled for within this long is forgotten. */
#define WOKEN_KEEP_US (60 * G_USEC_PER_SEC)

static void note_free(struct note *note)
{
	g_free(note->path);
	g_free(note);
}

static void push(struct gpufs_notifier *notifier, enum note_kind kind, uint64_t ino,
		 const char *path, const struct timespec *mtime)
{
	struct note *note = g_new0(struct note, 1);

	note->kind = kind;
	note->ino = ino;
	note->path = g_strdup(path);
	if (mtime)
		note->mtime = *mtime;
	g_async_queue_push(notifier->notes, note);
}

static void on_changed(void *ctx, uint64_t ino, const char *path, const struct timespec *mtime)
{
	push(ctx, NOTE_CHANGED, ino, path, mtime);
}

static void on_created(void *ctx, const char *path)
{
	push(ctx, NOTE_CREATED, 0, path, NULL);
}

static void on_removed(void *ctx, const char *path)
{
	push(ctx, NOTE_REMOVED, 0, path, NULL);
}

/* A write handler waits here while other daemon threads serve the
 * notifier's own requests; the bound keeps a wedged mount from holding the
 * writer forever. */
#define SETTLE_TIMEOUT_US (2 * G_USEC_PER_SEC)

static void on_settle(void *ctx)
{
	struct gpufs_notifier *notifier = ctx;
	struct barrier *barrier = g_new0(struct barrier, 1);
	struct note *note = g_new0(struct note, 1);
	gint64 deadline = g_get_monotonic_time() + SETTLE_TIMEOUT_US;

	barrier->refs = 2;
	g_mutex_init(&barrier->lock);
	g_cond_init(&barrier->passed);
	note->kind = NOTE_BARRIER;
	note->barrier = barrier;
	g_async_queue_push(notifier->notes, note);
	gpufs_blocking(); /* the notifier's requests need another reader */
	g_mutex_lock(&barrier->lock);
	while (!barrier->done && g_cond_wait_until(&barrier->passed, &barrier->lock, deadline))
		;
	if (!barrier->done)
		gpufs_warn("notifier: changes not told within %d s", SETTLE_TIMEOUT_US / 1000000);
	g_mutex_unlock(&barrier->lock);
	barrier_unref(barrier);
}

struct gpufs_tree_notifier gpufs_notifier_callbacks(struct gpufs_notifier *notifier)
{
	return (struct gpufs_tree_notifier){
	    .ctx = notifier,
	    .changed = on_changed,
	    .created = on_created,
	    .removed = on_removed,
	    .settle = on_settle,
	};
}

gboolean gpufs_notifier_is_self(struct gpufs_notifier *notifier, pid_t pid)
{
	return notifier && pid == (pid_t)g_atomic_int_get(&notifier->tid);
}

static char *woken_key(uint64_t ino, pid_t pid)
{
	return g_strdup_printf("%" G_GUINT64_FORMAT ":%d", ino, (int)pid);
}

/* Lock held. */
static void prune_woken(struct gpufs_notifier *notifier, gint64 now)
{
	GHashTableIter iter;
	gpointer when;

	g_hash_table_iter_init(&iter, notifier->woken);
	while (g_hash_table_iter_next(&iter, NULL, &when))
		if (now - *(gint64 *)when > WOKEN_KEEP_US)
			g_hash_table_iter_remove(&iter);
}

gboolean gpufs_notifier_poll(struct gpufs_notifier *notifier, uint64_t ino, pid_t pid,
			     struct fuse_pollhandle *handle, gboolean (*ready)(void *ctx),
			     void *ctx)
{
	g_autofree char *key = woken_key(ino, pid);
	GPtrArray *pollers;
	struct poller *poller;
	gboolean now;

	g_mutex_lock(&notifier->poll_lock);
	now = g_hash_table_remove(notifier->woken, key) || ready(ctx);
	if (!now && handle) {
		pollers = g_hash_table_lookup(notifier->polls, &ino);
		if (!pollers) {
			pollers = g_ptr_array_new();
			g_hash_table_insert(notifier->polls, g_memdup2(&ino, sizeof(ino)), pollers);
		}
		poller = g_new(struct poller, 1);
		*poller = (struct poller){handle, pid};
		g_ptr_array_add(pollers, poller);
	}
	g_mutex_unlock(&notifier->poll_lock);
	return now;
}

static void wake_polls(struct gpufs_notifier *notifier, uint64_t ino)
{
	GPtrArray *pollers = NULL;
	gpointer key = NULL;
	gint64 now = g_get_monotonic_time();

	g_mutex_lock(&notifier->poll_lock);
	g_hash_table_steal_extended(notifier->polls, &ino, &key, (gpointer *)&pollers);
	prune_woken(notifier, now);
	for (guint i = 0; pollers && i < pollers->len; i++) {
		struct poller *poller = pollers->pdata[i];

		g_hash_table_insert(notifier->woken, woken_key(ino, poller->pid),
				    g_memdup2(&now, sizeof(now)));
	}
	g_mutex_unlock(&notifier->poll_lock);
	g_free(key);
	for (guint i = 0; pollers && i < pollers->len; i++) {
		struct poller *poller = pollers->pdata[i];

		fuse_lowlevel_notify_poll(poller->handle);
		fuse_pollhandle_destroy(poller->handle);
		g_free(poller);
	}
	if (pollers)
		g_ptr_array_unref(pollers);
}

/* The order matters: the kernel forgets what it cached before a watcher
 * woken by IN_MODIFY reads again. */
static void tell(struct gpufs_notifier *notifier, struct note *note)
{
	g_autofree char *path = g_build_filename(notifier->mountpoint, note->path, NULL);
	struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, note->mtime};
	int rc = 0;

	switch (note->kind) {
	case NOTE_CHANGED:
		fuse_lowlevel_notify_inval_inode(notifier->session, note->ino, 0, 0);
		wake_polls(notifier, note->ino);
		rc = utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW);
		break;
	case NOTE_CREATED:
		rc = mkdir(path, 0555);
		break;
	case NOTE_REMOVED:
		rc = rmdir(path);
		break;
	case NOTE_BARRIER:
		break;
	}
	if (rc < 0)
		gpufs_debug("notifier: %s: %s", note->path, g_strerror(errno));
}

static void pass_barrier(struct note *note)
{
	if (!note->barrier)
		return;
	g_mutex_lock(&note->barrier->lock);
	note->barrier->done = TRUE;
	g_cond_broadcast(&note->barrier->passed);
	g_mutex_unlock(&note->barrier->lock);
	barrier_unref(note->barrier);
	note->barrier = NULL;
}

static gpointer run(gpointer data)
{
	struct gpufs_notifier *notifier = data;

	g_atomic_int_set(&notifier->tid, (gint)gettid());
	while (!g_atomic_int_get(&notifier->stop)) {
		struct note *note = g_async_queue_timeout_pop(notifier->notes, G_USEC_PER_SEC / 4);

		if (!note)
			continue;
		if (!g_atomic_int_get(&notifier->stop))
			tell(notifier, note);
		pass_barrier(note);
		note_free(note);
	}
	return NULL;
}

static void pollers_free(gpointer data)
{
	GPtrArray *pollers = data;

	for (guint i = 0; i < pollers->len; i++) {
		struct poller *poller = pollers->pdata[i];

		fuse_pollhandle_destroy(poller->handle);
		g_free(poller);
	}
	g_ptr_array_unref(pollers);
}

struct gpufs_notifier *gpufs_notifier_start(struct fuse_session *session, const char *mountpoint)
{
	struct gpufs_notifier *notifier = g_new0(struct gpufs_notifier, 1);

	notifier->session = session;
	notifier->mountpoint = g_strdup(mountpoint);
	notifier->notes = g_async_queue_new_full((GDestroyNotify)note_free);
	notifier->tid = -1;
	g_mutex_init(&notifier->poll_lock);
	notifier->polls = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, pollers_free);
	notifier->woken = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	notifier->thread = g_thread_new("gpufs-notify", run, notifier);
	return notifier;
}

void gpufs_notifier_stop(struct gpufs_notifier *notifier)
{
	if (!notifier)
		return;
	struct note *left;

	g_atomic_int_set(&notifier->stop, 1);
	g_thread_join(notifier->thread);
	while ((left = g_async_queue_try_pop(notifier->notes))) {
		pass_barrier(left); /* nobody may wait for a note never told */
		note_free(left);
	}
	g_async_queue_unref(notifier->notes);
	g_hash_table_destroy(notifier->polls);
	g_hash_table_destroy(notifier->woken);
	g_mutex_clear(&notifier->poll_lock);
	g_free(notifier->mountpoint);
	g_free(notifier);
}
