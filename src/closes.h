/* The spec close watcher.  Closing a spec file in new/ is what creates an
 * instance, but the kernel tells a FUSE daemon about close(2) only through
 * FLUSH and RELEASE, and gpufs turns both off: without them a hot `cat`
 * costs no request at all (fs.c).  The VFS still raises IN_CLOSE_WRITE for
 * every file, so this watches each new/ directory with inotify, on the
 * daemon's own mount, and reports closes to the tree.
 *
 * The event is queued before the writer's close(2) returns, so a request
 * that comes after it (`cat new/x`) finds it by draining the queue first:
 * the tree does that through gpufs_closes_drain. */
#ifndef GPUFS_CLOSES_H
#define GPUFS_CLOSES_H

#include <glib.h>
#include "gpufs/tree.h"

struct gpufs_closes;

/* Starts a thread that sets up the watches (its lookups are served by the
 * session loop, so this may run before the loop does) and then reports
 * closes as they come.  @mountpoint must be absolute. */
struct gpufs_closes *gpufs_closes_start(struct gpufs_tree *tree, const char *mountpoint);
/* Call after the session is unmounted. */
void gpufs_closes_stop(struct gpufs_closes *closes);

/* TRUE once every new/ directory is watched: from then on no spec close
 * can go unseen, and the kernel may stop sending opens and flushes. */
gboolean gpufs_closes_ready(struct gpufs_closes *closes);
/* The same, after waiting at most @timeout_us for the watches to be set
 * up (or to fail) while the daemon starts. */
gboolean gpufs_closes_wait_ready(struct gpufs_closes *closes, gint64 timeout_us);

/* Reports every close queued so far; for gpufs_tree_set_close_source. */
void gpufs_closes_drain(void *closes);

/* Call when the session loop has ended: the closes queued by then are of
 * specs whose every write was answered, and gpufs_closes_stop creates
 * them.  A close after it may end a write the unmount cut off: it is only
 * logged. */
void gpufs_closes_freeze(struct gpufs_closes *closes);

#endif
