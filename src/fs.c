/* FUSE lowlevel operations.  Each one asks the tree (passed as the session's
 * userdata) and turns the answer into a reply; nothing here knows what a
 * provider, an instance or a spec is.
 *
 * The fast path: no file keeps per-open state, so OPEN is answered ENOSYS
 * and FLUSH too (FUSE's no-open mode; both are per connection).  Then a hot
 * `cat` never leaves the kernel: lookup, open, stat, read and close are all
 * answered from its caches, kept fresh by attribute timeouts and by the
 * notifier.  The one thing that needs a close, a spec file's, is learnt
 * from inotify instead (closes.h).  On kernels without no-open, opens are
 * answered normally (with no state either); only when the spec watcher
 * could not be set up does a spec writer's flush apply it. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include "gpufs/log.h"
#include "gpufs/tree.h"
#include "closes.h"
#include "dirops.h"
#include "fs.h"
#include "notify.h"
#include "prefill.h"

/* Set once before the session loop starts. */
static struct gpufs_notifier *notifier;
static struct gpufs_closes *closes;
static struct gpufs_prefill *prefill;
static gboolean kernel_has_no_open; /* set by init */

/* The fh of a spec opened for writing in open mode: its flush applies it. */
#define SPEC_WRITER_FH 1

void gpufs_fs_setup(struct gpufs_notifier *n, struct gpufs_closes *c, struct gpufs_prefill *p)
{
	notifier = n;
	closes = c;
	prefill = p;
}

/* The first requests can come while the spec watcher still sets up its
 * watches (through other threads of this daemon): they wait for it, so a
 * mount behaves the same from its first request on. */
#define CLOSES_START_US (3 * G_USEC_PER_SEC)

/* TRUE when no spec close can go unseen without flush. */
static gboolean closes_watched(void)
{
	return gpufs_closes_wait_ready(closes, CLOSES_START_US);
}

/* Then opens can stop. */
static gboolean no_open_mode(void)
{
	return kernel_has_no_open && closes_watched();
}

static struct gpufs_tree *tree_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

/* The daemon's own notifier, acting on the mount to raise inotify events. */
static gboolean is_self(fuse_req_t req)
{
	return gpufs_notifier_is_self(notifier, fuse_req_ctx(req)->pid);
}

static struct fuse_entry_param entry_param(const struct gpufs_entry *entry)
{
	return (struct fuse_entry_param){
	    .ino = entry->ino,
	    .attr = entry->attr,
	    .attr_timeout = entry->attr_timeout,
	    .entry_timeout = entry->entry_timeout,
	};
}

static void reply_entry(fuse_req_t req, const struct gpufs_entry *entry)
{
	struct fuse_entry_param param = entry_param(entry);

	fuse_reply_entry(req, &param);
}

/* A spec writer's close must reach flush only while closes are not watched. */
static void apply_open_flags(struct fuse_file_info *fi, const struct gpufs_open_flags *flags)
{
	fi->keep_cache = flags->keep_cache;
	fi->noflush = flags->noflush || closes_watched();
	fi->fh = flags->spec_writer ? SPEC_WRITER_FH : 0;
}

static void fs_init(void *userdata, struct fuse_conn_info *conn)
{
	/* Writes must reach us as the user makes them: a bad spec line has to
	 * fail the write(2) that carried it. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	/* A changed mtime drops the page cache: that is how value files stay
	 * fresh while hot reads never leave the kernel. */
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	/* O_TRUNC must reach setattr: it restarts a spec, and fails on one
	 * already sent. */
	conn->want &= ~FUSE_CAP_ATOMIC_O_TRUNC;
	kernel_has_no_open = (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) != 0;
	/* ls -l and a glob of instances/ take every subdirectory's entry with
	 * the listing, not one lookup each; always, not as the kernel guesses. */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	conn->want &= ~FUSE_CAP_READDIRPLUS_AUTO;
	/* One slow lookup must not hold up the directory's others. */
	gpufs_dirops_want(conn);
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct gpufs_entry entry;
	gboolean self = is_self(req);
	int rc = gpufs_tree_lookup(tree_of(req), parent, name, self, &entry);

	if (rc == -ENOENT && entry.entry_timeout > 0) {
		reply_entry(req, &entry); /* ino 0: a negative entry, kept that long */
		return;
	}
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	reply_entry(req, &entry);
	if (S_ISREG(entry.attr.st_mode) && !self)
		gpufs_prefill_looked_up(prefill, entry.ino);
}

/* @fi is set only for the kernel's check before a read of an open file;
 * stat(2) and fstat(2) come without it. */
static void fs_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat attr;
	double timeout = 0;
	int rc;

	if (!is_self(req))
		gpufs_tree_note_reader(tree_of(req), ino);
	rc = gpufs_tree_getattr(tree_of(req), ino, fi != NULL, &attr, &timeout);

	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &attr, timeout);
}

/* Only truncation is meaningful (O_TRUNC on ctl and spec files); the mode,
 * owner and times of a provider's values are not the user's to set. */
static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		       struct fuse_file_info *fi)
{
	struct stat now;
	double timeout = 0;
	int rc;

	if (to_set & ~(FUSE_SET_ATTR_SIZE | FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
		       FUSE_SET_ATTR_ATIME_NOW | FUSE_SET_ATTR_MTIME_NOW | FUSE_SET_ATTR_CTIME)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	if (to_set & FUSE_SET_ATTR_SIZE)
		rc = gpufs_tree_truncate(tree_of(req), ino, attr->st_size, &now);
	else if ((to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
			    FUSE_SET_ATTR_MTIME_NOW)) &&
		 !is_self(req))
		rc = -EPERM; /* only the notifier touches timestamps */
	else
		rc = gpufs_tree_getattr(tree_of(req), ino, FALSE, &now, &timeout);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_attr(req, &now, 0);
}

static void fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	char *target = NULL;
	int rc = gpufs_tree_readlink(tree_of(req), ino, &target);

	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		fuse_reply_readlink(req, target);
	g_free(target);
}

static void fs_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct gpufs_dir *dir = NULL;
	int rc = gpufs_tree_opendir(tree_of(req), ino, &dir);

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	fi->fh = (uintptr_t)dir;
	if (fuse_reply_open(req, fi) == -ENOENT)
		gpufs_tree_releasedir(tree_of(req), dir); /* the opener was interrupted */
}

struct dir_buffer {
	fuse_req_t req;
	char *buf;
	size_t size;
	size_t used;
};

static gboolean fill_dir(void *ctx, const char *name, const struct stat *attr,
			 const struct gpufs_entry *entry, off_t next)
{
	struct dir_buffer *b = ctx;
	size_t need = fuse_add_direntry(b->req, NULL, 0, name, NULL, 0);

	if (b->used + need > b->size)
		return FALSE;
	fuse_add_direntry(b->req, b->buf + b->used, b->size - b->used, name, attr, next);
	b->used += need;
	return TRUE;
}

/* READDIRPLUS: an entry without a lookup's answer goes with inode 0, which
 * the kernel takes as a plain name. */
static gboolean fill_dir_plus(void *ctx, const char *name, const struct stat *attr,
			      const struct gpufs_entry *entry, off_t next)
{
	struct dir_buffer *b = ctx;
	struct fuse_entry_param param = {.attr = *attr};
	size_t need;

	if (entry)
		param = entry_param(entry);
	need = fuse_add_direntry_plus(b->req, NULL, 0, name, &param, 0);
	if (b->used + need > b->size)
		return FALSE;
	fuse_add_direntry_plus(b->req, b->buf + b->used, b->size - b->used, name, &param, next);
	b->used += need;
	return TRUE;
}

static void reply_dir(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi,
		      gboolean plus)
{
	struct dir_buffer b = {.req = req, .buf = g_malloc(size), .size = size};

	gpufs_tree_readdir(tree_of(req), (struct gpufs_dir *)(uintptr_t)fi->fh, off, plus,
			   plus ? fill_dir_plus : fill_dir, &b);
	fuse_reply_buf(req, b.buf, b.used);
	g_free(b.buf);
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	reply_dir(req, size, off, fi, FALSE);
}

static void fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	reply_dir(req, size, off, fi, TRUE);
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	gpufs_tree_releasedir(tree_of(req), (struct gpufs_dir *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct gpufs_open_flags flags;
	int rc;

	if (no_open_mode()) {
		fuse_reply_err(req, ENOSYS); /* the kernel sends no open again */
		return;
	}
	rc = gpufs_tree_open(tree_of(req), ino, fi->flags, &flags);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	apply_open_flags(fi, &flags);
	fuse_reply_open(req, fi);
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct gpufs_open_flags flags;
	struct gpufs_entry entry;
	int rc = gpufs_tree_create(tree_of(req), parent, name, mode, fi->flags, &entry, &flags);
	struct fuse_entry_param param;

	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	param = entry_param(&entry);
	apply_open_flags(fi, &flags);
	fuse_reply_create(req, &param, fi);
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	GBytes *data = NULL;
	const void *bytes;
	gsize length;
	int rc;

	gpufs_prefill_read(prefill, ino);
	rc = gpufs_tree_read(tree_of(req), ino, off, size, &data);
	if (rc < 0) {
		fuse_reply_err(req, -rc);
		return;
	}
	bytes = g_bytes_get_data(data, &length);
	fuse_reply_buf(req, bytes, length);
	g_bytes_unref(data);
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
		     struct fuse_file_info *fi)
{
	ssize_t rc = gpufs_tree_write(tree_of(req), ino, buf, size, off, fuse_req_ctx(req)->pid);

	if (rc < 0)
		fuse_reply_err(req, (int)-rc);
	else
		fuse_reply_write(req, (size_t)rc);
}

/* Only a spec writer's close means anything.  Any other flush comes from a
 * file opened without an open (no-open mode): ENOSYS ends them all. */
static void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (fi->fh != SPEC_WRITER_FH) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fuse_reply_err(req, -gpufs_tree_flush(tree_of(req), ino));
}

static void fs_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	fuse_reply_err(req, 0);
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	fuse_reply_err(req, -gpufs_tree_unlink(tree_of(req), parent, name));
}

/* Nothing remote is ever renamed, made or removed through the namespace;
 * only the notifier's own mkdir and rmdir succeed, to raise IN_CREATE and
 * IN_DELETE for instances that came and went. */
static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (!is_self(req)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	fuse_reply_err(req, -gpufs_tree_self_rmdir(tree_of(req), parent, name));
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct gpufs_entry entry;
	int rc;

	if (!is_self(req)) {
		fuse_reply_err(req, EPERM);
		return;
	}
	rc = gpufs_tree_self_mkdir(tree_of(req), parent, name, &entry);
	if (rc < 0)
		fuse_reply_err(req, -rc);
	else
		reply_entry(req, &entry);
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	gpufs_tree_forget(tree_of(req), ino, nlookup);
	fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		gpufs_tree_forget(tree_of(req), forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

struct poll_ctx {
	struct gpufs_tree *tree;
	fuse_ino_t ino;
};

static gboolean poll_ready(void *data)
{
	struct poll_ctx *ctx = data;

	return gpufs_tree_poll_ready(ctx->tree, ctx->ino);
}

/* poll(2) wakes at the file's next change, like a sysfs attribute:
 * POLLIN|POLLPRI then.  Files have no per-open state, so "next" counts from
 * the poll call, not from the caller's last read. */
static void fs_poll(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		    struct fuse_pollhandle *ph)
{
	struct poll_ctx ctx = {tree_of(req), ino};
	gboolean ready;

	gpufs_tree_note_reader(tree_of(req), ino);
	ready = gpufs_notifier_poll(notifier, ino, fuse_req_ctx(req)->pid, ph, poll_ready, &ctx);

	if (ready && ph)
		fuse_pollhandle_destroy(ph);
	fuse_reply_poll(req, ready ? POLLIN | POLLRDNORM | POLLPRI : 0);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		      const char *newname, unsigned int flags)
{
	fuse_reply_err(req, EPERM);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st = {.f_bsize = 4096, .f_frsize = 4096, .f_namemax = 255};

	fuse_reply_statfs(req, &st);
}

const struct fuse_lowlevel_ops gpufs_fs_ops = {
    .init = fs_init,
    .lookup = fs_lookup,
    .forget = fs_forget,
    .forget_multi = fs_forget_multi,
    .poll = fs_poll,
    .getattr = fs_getattr,
    .setattr = fs_setattr,
    .readlink = fs_readlink,
    .mkdir = fs_mkdir,
    .unlink = fs_unlink,
    .rmdir = fs_rmdir,
    .rename = fs_rename,
    .open = fs_open,
    .read = fs_read,
    .write = fs_write,
    .flush = fs_flush,
    .release = fs_release,
    .opendir = fs_opendir,
    .readdir = fs_readdir,
    .readdirplus = fs_readdirplus,
    .releasedir = fs_releasedir,
    .statfs = fs_statfs,
    .create = fs_create,
};
