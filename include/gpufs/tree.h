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
	double attr_timeout;	     /* value files: the least the kernel may trust them */
	double entry_timeout;
};

struct gpufs_entry {
	uint64_t ino;
	struct stat attr;
	double attr_timeout;
	double entry_timeout;
};

/* How the front answers an OPEN, when the kernel sends one at all (see
 * fs.c: normally it does not).  No file keeps per-open state. */
struct gpufs_open_flags {
	gboolean keep_cache;  /* the page cache may be kept */
	gboolean noflush;     /* close need not reach the daemon */
	gboolean spec_writer; /* a spec opened for writing: its flush applies it */
};

struct gpufs_tree;
struct gpufs_dir;

/* Takes ownership of @accounts (struct gpufs_account *, freed with the tree). */
struct gpufs_tree *gpufs_tree_new(GPtrArray *accounts, const struct gpufs_tree_options *options);
void gpufs_tree_free(struct gpufs_tree *tree);

/* @self: the request comes from the daemon's own notifier thread.  On
 * -ENOENT, entry->entry_timeout > 0 says how long the kernel may keep the
 * name as absent. */
int gpufs_tree_lookup(struct gpufs_tree *tree, uint64_t parent, const char *name, gboolean self,
		      struct gpufs_entry *entry);
/* The kernel dropped @count references taken by lookup and create replies. */
void gpufs_tree_forget(struct gpufs_tree *tree, uint64_t ino, uint64_t count);
/* @of_open_file: asked for by the kernel before a read of an open file,
 * not by stat or fstat (`ls -l`); only such a reader makes a live file ask
 * its provider. */
int gpufs_tree_getattr(struct gpufs_tree *tree, uint64_t ino, gboolean of_open_file,
		       struct stat *attr, double *timeout);
int gpufs_tree_readlink(struct gpufs_tree *tree, uint64_t ino, char **target);

/* Directories: opendir takes a snapshot of the names, readdir walks it. */
int gpufs_tree_opendir(struct gpufs_tree *tree, uint64_t ino, struct gpufs_dir **dir);
/* Calls @fill for entries from @offset on until it returns FALSE (buffer
 * full); the offset passed to @fill is the one to resume after that entry.
 * With @plus (READDIRPLUS), a subdirectory comes with its whole entry, as a
 * lookup would answer it, and the reference the kernel then holds is taken
 * when @fill accepts it; other entries come with @entry NULL (a file's
 * bytes are rendered only when it is looked up). */
typedef gboolean (*gpufs_dir_fill_fn)(void *ctx, const char *name, const struct stat *attr,
				      const struct gpufs_entry *entry, off_t next_offset);
void gpufs_tree_readdir(struct gpufs_tree *tree, struct gpufs_dir *dir, off_t offset, gboolean plus,
			gpufs_dir_fill_fn fill, void *ctx);
void gpufs_tree_releasedir(struct gpufs_tree *tree, struct gpufs_dir *dir);

/* Checks an open (access, read-only mount) and says how to answer it. */
int gpufs_tree_open(struct gpufs_tree *tree, uint64_t ino, int flags,
		    struct gpufs_open_flags *open_flags);
/* Creates a spec file in a new/ directory. */
int gpufs_tree_create(struct gpufs_tree *tree, uint64_t parent, const char *name, mode_t mode,
		      int flags, struct gpufs_entry *entry, struct gpufs_open_flags *open_flags);
/* Returns a reference to the bytes for [offset, offset+size) of the
 * snapshot the kernel was last told about. */
int gpufs_tree_read(struct gpufs_tree *tree, uint64_t ino, off_t offset, size_t size,
		    GBytes **data);
/* Returns the count written or -errno.  @writer is the writing process
 * (or thread; 0 when unknown): a spec whose writer a signal kills is not
 * created (writers.h). */
ssize_t gpufs_tree_write(struct gpufs_tree *tree, uint64_t ino, const char *buf, size_t size,
			 off_t offset, pid_t writer);
/* A spec writer's flush: applies the spec (only when the kernel sends
 * opens and flushes; otherwise gpufs_tree_spec_closed does). */
int gpufs_tree_flush(struct gpufs_tree *tree, uint64_t ino);
/* Truncation (O_TRUNC, `>`): only spec and ctl files accept it. */
int gpufs_tree_truncate(struct gpufs_tree *tree, uint64_t ino, off_t size, struct stat *attr);
int gpufs_tree_unlink(struct gpufs_tree *tree, uint64_t parent, const char *name);

/* The snapshot of a value file that the kernel may cache before anyone
 * reads it (a reference), with its generation; NULL for every other file:
 * directories, files never rendered, and those whose attributes are asked
 * for at each read (specs, ctl, live and writable files, /events). */
GBytes *gpufs_tree_cacheable(struct gpufs_tree *tree, uint64_t ino, guint64 *generation);
/* TRUE while @ino's snapshot is still the one of @generation. */
gboolean gpufs_tree_unchanged(struct gpufs_tree *tree, uint64_t ino, guint64 generation);
/* The kernel may hold bytes older than @ino's snapshot, and a watcher may
 * have read them since its last wake: tells the change again. */
void gpufs_tree_retell(struct gpufs_tree *tree, uint64_t ino);

/* poll(2): TRUE when the file changed and the kernel has not been told yet;
 * otherwise the notifier wakes the poll handle at the change. */
gboolean gpufs_tree_poll_ready(struct gpufs_tree *tree, uint64_t ino);

/* ---- spec files closed ---- */

/* The new/ directories to watch for closes, as paths under the mountpoint
 * ("runcrate/new"); none on a read-only mount. */
GPtrArray *gpufs_tree_spec_dirs(struct gpufs_tree *tree);
/* A writer closed the spec @name in @dir (one of the paths above): marks it,
 * without waiting for anything.  A write after the close clears the mark. */
void gpufs_tree_spec_closed(struct gpufs_tree *tree, const char *dir, const char *name);
/* Then applies it, once, if it is still marked, not empty, and not applied
 * or removed; waits while another thread applies it. */
void gpufs_tree_spec_apply(struct gpufs_tree *tree, const char *dir, const char *name);
/* Closes are learnt asynchronously; before the tree answers about a spec,
 * or about an account's instances, it calls @drain, which must report
 * every close that happened before that request (gpufs_tree_spec_closed). */
void gpufs_tree_set_close_source(struct gpufs_tree *tree, void (*drain)(void *ctx), void *ctx);

/* ---- the live tree ---- */

/* How changes reach the kernel and inotify watchers; implemented by the FUSE
 * side, called from the poller threads (and settle from ctl writes, changed
 * from gpufs_tree_retell).  Only settle waits. */
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

/* TRUE while the kernel holds any node below @account's directory (open
 * files, watched or cached entries): the poller's reason to go on.  The
 * account and new/ directories themselves do not count: the spec watcher
 * holds those for good. */
gboolean gpufs_tree_account_in_use(struct gpufs_tree *tree, struct gpufs_account *account);
/* TRUE while /events has a reader (it was looked up, read, stat'ed or
 * polled within the last minute, by anyone but the notifier): every account
 * is polled then. */
gboolean gpufs_tree_events_in_use(struct gpufs_tree *tree);
/* Somebody other than the notifier stat'ed or polled @ino. */
void gpufs_tree_note_reader(struct gpufs_tree *tree, uint64_t ino);

/* After a fresh listing of @account: re-renders the files the kernel holds
 * and notifies every change not yet notified, the instances in @created
 * and @gone (ids), and lines added to /events.  The held files a listing
 * lacks are fetched again for an instance whose listed state moved on
 * since they were. */
void gpufs_tree_sync(struct gpufs_tree *tree, struct gpufs_account *account, GPtrArray *created,
		     GPtrArray *gone);

/* Requests the notifier makes on the mount to raise inotify events. */
int gpufs_tree_self_mkdir(struct gpufs_tree *tree, uint64_t parent, const char *name,
			  struct gpufs_entry *entry);
int gpufs_tree_self_rmdir(struct gpufs_tree *tree, uint64_t parent, const char *name);

#endif
