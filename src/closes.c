/* The spec close watcher (see closes.h). */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>
#include "gpufs/blocking.h"
#include "gpufs/log.h"
#include "closes.h"

struct gpufs_closes {
	struct gpufs_tree *tree;
	char *mountpoint;
	int inotify_fd;
	int stop_fd; /* an eventfd: written once to end the thread */
	GThread *thread;
	/* Applies what the thread read, one spec at a time, so that a slow
	 * create never holds up reading the next close: how a spec's writers
	 * stand is taken as its close is read (tree.c, mark_closed). */
	GThreadPool *appliers;
	gint ready;	   /* atomic: 1 once every new/ is watched */
	GMutex state_lock; /* with @settled: the watcher's start is over */
	GCond settled;
	gboolean done_starting;
	GMutex drain_lock; /* one reader of the queue at a time; and: */
	gboolean frozen;   /* the session loop ended: later closes are not applied */
	GArray *last;	   /* struct closed: what was queued when it ended */
	GHashTable *dirs;  /* watch descriptor -> "account/new" */
};

struct closed {
	char *dir;
	char *name;
};

/* Reads what the queue holds without waiting, and marks each spec closed;
 * lock held, so a drain that finds the queue empty knows every close before
 * it is marked.  Applying one may create an instance: that waits until the
 * lock is let go. */
static void read_queue(struct gpufs_closes *closes, GArray *out)
{
	char buf[16 * (sizeof(struct inotify_event) + NAME_MAX + 1)]
	    __attribute__((aligned(__alignof__(struct inotify_event))));
	ssize_t len;

	while ((len = read(closes->inotify_fd, buf, sizeof(buf))) > 0) {
		for (char *p = buf; p < buf + len;) {
			const struct inotify_event *ev = (const struct inotify_event *)p;
			const char *dir =
			    g_hash_table_lookup(closes->dirs, GINT_TO_POINTER(ev->wd));

			p += sizeof(*ev) + ev->len;
			if (ev->mask & IN_Q_OVERFLOW)
				gpufs_err("spec watcher: inotify queue overflowed: a spec closed "
					  "just now may not be created; `: >> new/NAME` closes it "
					  "again");
			if (!(ev->mask & IN_CLOSE_WRITE) || !dir || ev->len == 0)
				continue;
			if (closes->frozen) {
				gpufs_warn("%s/%s: closed while gpufs stopped: not created", dir,
					   ev->name);
				continue;
			}
			gpufs_tree_spec_closed(closes->tree, dir, ev->name);
			g_array_append_val(out,
					   ((struct closed){g_strdup(dir), g_strdup(ev->name)}));
		}
	}
}

static void apply_all(struct gpufs_closes *closes, GArray *found, gboolean stopping)
{
	for (guint i = 0; i < found->len; i++) {
		struct closed *c = &g_array_index(found, struct closed, i);

		if (stopping) /* the journal keeps warnings of a daemon, not info */
			gpufs_warn("%s/%s: closed before gpufs stopped: creating it", c->dir,
				   c->name);
		gpufs_tree_spec_apply(closes->tree, c->dir, c->name);
		g_free(c->dir);
		g_free(c->name);
	}
	g_array_set_size(found, 0);
}

/* The closes queued so far, each marked; applying them is the caller's. */
static GArray *take_queue(struct gpufs_closes *closes)
{
	GArray *found = g_array_new(FALSE, FALSE, sizeof(struct closed));

	g_mutex_lock(&closes->drain_lock);
	read_queue(closes, found);
	g_mutex_unlock(&closes->drain_lock);
	return found;
}

void gpufs_closes_drain(void *data)
{
	struct gpufs_closes *closes = data;
	g_autoptr(GArray) found = NULL;

	if (!g_atomic_int_get(&closes->ready))
		return;
	found = take_queue(closes);
	apply_all(closes, found, FALSE);
}

static void apply_found(gpointer data, gpointer user_data)
{
	GArray *found = data;

	apply_all(user_data, found, FALSE);
	g_array_unref(found);
}

/* The thread's drain: read now, apply in turn. */
static void read_and_hand_on(struct gpufs_closes *closes)
{
	GArray *found = take_queue(closes);

	if (found->len == 0) {
		g_array_unref(found);
		return;
	}
	g_thread_pool_push(closes->appliers, found, NULL);
}

void gpufs_closes_freeze(struct gpufs_closes *closes)
{
	if (!gpufs_closes_ready(closes))
		return;
	g_mutex_lock(&closes->drain_lock);
	read_queue(closes, closes->last);
	closes->frozen = TRUE;
	g_mutex_unlock(&closes->drain_lock);
}

static gboolean add_watches(struct gpufs_closes *closes)
{
	g_autoptr(GPtrArray) dirs = gpufs_tree_spec_dirs(closes->tree);

	for (guint i = 0; i < dirs->len; i++) {
		g_autofree char *path = g_build_filename(closes->mountpoint, dirs->pdata[i], NULL);
		/* IN_EXCL_UNLINK: the close of a removed spec is no close of
		 * the file that has its name now. */
		int wd = inotify_add_watch(closes->inotify_fd, path,
					   IN_CLOSE_WRITE | IN_ONLYDIR | IN_EXCL_UNLINK);

		if (wd < 0) {
			gpufs_warn("spec watcher: %s: %s; closes are told by flush instead", path,
				   g_strerror(errno));
			return FALSE;
		}
		g_hash_table_insert(closes->dirs, GINT_TO_POINTER(wd), g_strdup(dirs->pdata[i]));
	}
	return TRUE;
}

static void finish_start(struct gpufs_closes *closes, gboolean ready)
{
	g_mutex_lock(&closes->state_lock);
	g_atomic_int_set(&closes->ready, ready);
	closes->done_starting = TRUE;
	g_cond_broadcast(&closes->settled);
	g_mutex_unlock(&closes->state_lock);
}

static gpointer run(gpointer data)
{
	struct gpufs_closes *closes = data;
	struct pollfd fds[2] = {{.fd = closes->inotify_fd, .events = POLLIN},
				{.fd = closes->stop_fd, .events = POLLIN}};
	gboolean ready = add_watches(closes);

	finish_start(closes, ready);
	if (!ready)
		return NULL;
	while (poll(fds, 2, -1) >= 0 || errno == EINTR) {
		if (fds[1].revents)
			break;
		if (fds[0].revents & POLLIN)
			read_and_hand_on(closes);
	}
	return NULL;
}

struct gpufs_closes *gpufs_closes_start(struct gpufs_tree *tree, const char *mountpoint)
{
	struct gpufs_closes *closes = g_new0(struct gpufs_closes, 1);

	closes->tree = tree;
	closes->mountpoint = g_strdup(mountpoint);
	closes->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	closes->stop_fd = eventfd(0, EFD_CLOEXEC);
	closes->dirs = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	g_mutex_init(&closes->drain_lock);
	closes->last = g_array_new(FALSE, FALSE, sizeof(struct closed));
	g_mutex_init(&closes->state_lock);
	g_cond_init(&closes->settled);
	if (closes->inotify_fd < 0 || closes->stop_fd < 0) {
		gpufs_warn("spec watcher: %s; closes are told by flush instead", g_strerror(errno));
		finish_start(closes, FALSE);
		return closes;
	}
	closes->appliers = g_thread_pool_new(apply_found, closes, 1, FALSE, NULL);
	closes->thread = g_thread_new("gpufs-closes", run, closes);
	return closes;
}

gboolean gpufs_closes_ready(struct gpufs_closes *closes)
{
	return closes && g_atomic_int_get(&closes->ready);
}

gboolean gpufs_closes_wait_ready(struct gpufs_closes *closes, gint64 timeout_us)
{
	gint64 deadline = g_get_monotonic_time() + timeout_us;

	if (!closes)
		return FALSE;
	g_mutex_lock(&closes->state_lock);
	if (!closes->done_starting) {
		/* Setting up the watches looks up on the mount. */
		g_mutex_unlock(&closes->state_lock);
		gpufs_blocking();
		g_mutex_lock(&closes->state_lock);
	}
	while (!closes->done_starting &&
	       g_cond_wait_until(&closes->settled, &closes->state_lock, deadline))
		;
	g_mutex_unlock(&closes->state_lock);
	return gpufs_closes_ready(closes);
}

void gpufs_closes_stop(struct gpufs_closes *closes)
{
	const guint64 one = 1;

	if (!closes)
		return;
	if (closes->thread) {
		if (write(closes->stop_fd, &one, sizeof(one)) < 0)
			gpufs_warn("spec watcher: %s", g_strerror(errno));
		g_thread_join(closes->thread);
		g_thread_pool_free(closes->appliers, FALSE, TRUE); /* applies what it holds */
	}
	apply_all(closes, closes->last, TRUE);
	g_array_unref(closes->last);
	if (closes->inotify_fd >= 0)
		close(closes->inotify_fd);
	if (closes->stop_fd >= 0)
		close(closes->stop_fd);
	g_hash_table_destroy(closes->dirs);
	g_mutex_clear(&closes->drain_lock);
	g_mutex_clear(&closes->state_lock);
	g_cond_clear(&closes->settled);
	g_free(closes->mountpoint);
	g_free(closes);
}
