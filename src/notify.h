/* The notifier: the one thread that tells the kernel and inotify watchers
 * about changes the pollers found.  FUSE has no call that raises inotify
 * events, so it acts on its own mount (FUSE-NOTES.md section 1): a utimensat
 * raises IN_MODIFY, a mkdir IN_CREATE, a rmdir IN_DELETE.  Its requests are
 * told apart by its thread id. */
#ifndef GPUFS_NOTIFY_H
#define GPUFS_NOTIFY_H

#include <sys/types.h>
#include <fuse_lowlevel.h>
#include "gpufs/tree.h"

struct gpufs_notifier;

/* @mountpoint must be absolute. */
struct gpufs_notifier *gpufs_notifier_start(struct fuse_session *session, const char *mountpoint);
/* Call after the session is unmounted, so no syscall of ours can wait on it. */
void gpufs_notifier_stop(struct gpufs_notifier *notifier);

/* The callbacks the tree calls with changes. */
struct gpufs_tree_notifier gpufs_notifier_callbacks(struct gpufs_notifier *notifier);

/* TRUE for a request made by the notifier thread itself. */
gboolean gpufs_notifier_is_self(struct gpufs_notifier *notifier, pid_t pid);

/* poll(2) from thread @pid on @ino: TRUE when @ready says the file changed
 * already, or when a wake of ours went to this thread since its last poll
 * (the kernel polls again to learn what woke it).  Otherwise keeps @handle,
 * when there is one, to wake at @ino's next change; it checks and keeps
 * under the lock the wake takes. */
gboolean gpufs_notifier_poll(struct gpufs_notifier *notifier, uint64_t ino, pid_t pid,
			     struct fuse_pollhandle *handle, gboolean (*ready)(void *ctx),
			     void *ctx);

#endif
