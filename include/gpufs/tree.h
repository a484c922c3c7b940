/* The namespace: which names exist under the mountpoint and what each file
 * holds.  It speaks inode numbers and struct stat so the FUSE front (fs.c)
 * only translates; it reaches providers only through accounts.
 *
 * Consistency rule: each file keeps a snapshot of its bytes, and the snapshot
 * changes only where the kernel learns about it (a lookup or getattr reply,
 * or an invalidation sent by the notifier).  Reads serve the current
 * snapshot, so st_size, wc -c, tail and the bytes read always agree even with
 * the page cache on. */
#ifndef GPUFS_TREE_H
#define GPUFS_TREE_H

#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <glib.h>

struct gpufs_account;
struct gpufs_events;

struct gpufs_tree_options {
	uid_t uid;
	gid_t gid;
	gboolean read_only;
	struct gpufs_events *events; /* the /events stream; owned by the caller */
	gboolean shared;	     /* allow_other: other users write specs too */
	double attr_timeout;	     /* for value files; 0 for files that change under writes */
	double entry_timeout;
};

struct gpufs_entry {
	uint64_t ino;
	struct stat attr;
	double attr_timeout;
	double entry_timeout;
};

/* How the front must open a file. */
struct gpufs_open_flags {
	gboolean direct_io;  /* reads and writes always reach the daemon */
	gboolean keep_cache; /* the page cache may be kept */
	gboolean nonseekable;
	gboolean noflush; /* close need not reach the daemon */
};

struct gpufs_tree;
struct gpufs_handle;
struct gpufs_dir;

/* Takes ownership of @accounts (struct gpufs_account *, freed with the tree). */
struct gpufs_tree *gpufs_tree_new(GPtrArray *accounts, const struct gpufs_tree_options *options);
void gpufs_tree_free(struct gpufs_tree *tree);

/* @self: the request comes from the daemon's own notifier thread. */
int gpufs_tree_lookup(struct gpufs_tree *tree, uint64_t parent, const char *name, gboolean self,
		      struct gpufs_entry *entry);
/* The kernel dropped @count references taken by lookup and create replies. */
void gpufs_tree_forget(struct gpufs_tree *tree, uint64_t ino, uint64_t count);
int gpufs_tree_getattr(struct gpufs_tree *tree, uint64_t ino, struct stat *attr, double *timeout);
int gpufs_tree_readlink(struct gpufs_tree *tree, uint64_t ino, char **target);

/* Directories: opendir takes a snapshot of the names, readdir walks it. */
int gpufs_tree_opendir(struct gpufs_tree *tree, uint64_t ino, struct gpufs_dir **dir);
/* Calls @fill for entries from @offset on until it returns FALSE (buffer
 * full); the offset passed to @fill is the one to resume after that entry. */
typedef gboolean (*gpufs_dir_fill_fn)(void *ctx, const char *name, const struct stat *attr,
				      off_t next_offset);
void gpufs_tree_readdir(struct gpufs_dir *dir, off_t offset, gpufs_dir_fill_fn fill, void *ctx);
void gpufs_tree_releasedir(struct gpufs_tree *tree, struct gpufs_dir *dir);

int gpufs_tree_open(struct gpufs_tree *tree, uint64_t ino, int flags, struct gpufs_handle **handle,
		    struct gpufs_open_flags *open_flags);
/* Creates a spec file in a new/ directory. */
int gpufs_tree_create(struct gpufs_tree *tree, uint64_t parent, const char *name, mode_t mode,
		      int flags, struct gpufs_entry *entry, struct gpufs_handle **handle,
		      struct gpufs_open_flags *open_flags);
/* Returns a reference to the bytes for [offset, offset+size). */
int gpufs_tree_read(struct gpufs_tree *tree, uint64_t ino, struct gpufs_handle *handle,
		    off_t offset, size_t size, GBytes **data);
/* Returns the count written or -errno. */
ssize_t gpufs_tree_write(struct gpufs_tree *tree, uint64_t ino, struct gpufs_handle *handle,
			 const char *buf, size_t size, off_t offset);
int gpufs_tree_flush(struct gpufs_tree *tree, uint64_t ino, struct gpufs_handle *handle);
void gpufs_tree_release(struct gpufs_tree *tree, uint64_t ino, struct gpufs_handle *handle);
/* Truncation (O_TRUNC, `>`): only spec and ctl files accept it. */
int gpufs_tree_truncate(struct gpufs_tree *tree, uint64_t ino, off_t size, struct stat *attr);
int gpufs_tree_unlink(struct gpufs_tree *tree, uint64_t parent, const char *name);

/* Stream files (/events) answer -EAGAIN from read when there is nothing new;
 * this waits for more, at most @timeout_us. */
void gpufs_tree_wait(struct gpufs_tree *tree, struct gpufs_handle *handle, gint64 timeout_us);
/* Ends every wait (unmount). */
void gpufs_tree_wake_all(struct gpufs_tree *tree);

/* poll(2): TRUE when the file changed since this handle last read it. */
gboolean gpufs_tree_poll_ready(struct gpufs_tree *tree, struct gpufs_handle *handle);

/* ---- the live tree ---- */

/* How changes reach the kernel and inotify watchers; implemented by the FUSE
 * side, called from the poller threads, never from a request handler. */
struct gpufs_tree_notifier {
	void *ctx;
	/* A file's bytes changed: invalidate, wake pollers, raise IN_MODIFY. */
	void (*changed)(void *ctx, uint64_t ino, const char *path, const struct timespec *mtime);
	/* A directory appeared or went (an instance): raise IN_CREATE/IN_DELETE. */
	void (*created)(void *ctx, const char *path);
	void (*removed)(void *ctx, const char *path);
	/* Returns once everything passed so far has been told to the kernel,
	 * so a ctl write returns with no stale value left behind it. */
	void (*settle)(void *ctx);
};

void gpufs_tree_set_notifier(struct gpufs_tree *tree, const struct gpufs_tree_notifier *notifier);

/* TRUE while the kernel holds any node of @account (open files, watched or
 * cached entries): the poller's reason to go on. */
gboolean gpufs_tree_account_in_use(struct gpufs_tree *tree, struct gpufs_account *account);

/* After a fresh listing of @account: re-renders the files the kernel holds
 * and notifies every change not yet notified, and the instances in
 * @created and @gone (ids). */
void gpufs_tree_sync(struct gpufs_tree *tree, struct gpufs_account *account, GPtrArray *created,
		     GPtrArray *gone);

/* Requests the notifier makes on the mount to raise inotify events. */
int gpufs_tree_self_mkdir(struct gpufs_tree *tree, uint64_t parent, const char *name,
			  struct gpufs_entry *entry);
int gpufs_tree_self_rmdir(struct gpufs_tree *tree, uint64_t parent, const char *name);

#endif
