/* constfs: the smallest lowlevel FUSE filesystem that serves one constant
 * file, /value.  It is the benchmark's reference for what any FUSE read
 * costs on this kernel.
 *
 *   constfs [-o noopen] MOUNTPOINT    (always in the foreground)
 *
 * Default: every open, read and release reaches the daemon (direct_io).
 * -o noopen: open answers ENOSYS, so the kernel stops sending open and
 * release and serves reads from its page cache with long timeouts: the
 * floor a FUSE filesystem can reach. */
#define FUSE_USE_VERSION 314
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fuse_lowlevel.h>

static const char value[] = "running\n";
static int no_open;

static void value_attr(struct stat *st, fuse_ino_t ino)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	if (ino == FUSE_ROOT_ID) {
		st->st_mode = S_IFDIR | 0555;
		st->st_nlink = 2;
	} else {
		st->st_mode = S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = sizeof(value) - 1;
	}
}

static double timeout(void)
{
	return no_open ? 86400.0 : 1.0;
}

static void cf_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e = {.ino = 2, .attr_timeout = timeout(), .entry_timeout = timeout()};

	if (parent != FUSE_ROOT_ID || strcmp(name, "value") != 0) {
		fuse_reply_err(req, ENOENT);
		return;
	}
	value_attr(&e.attr, 2);
	fuse_reply_entry(req, &e);
}

static void cf_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct stat st;

	value_attr(&st, ino);
	fuse_reply_attr(req, &st, timeout());
}

static void cf_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (no_open) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	fi->direct_io = 1;
	fuse_reply_open(req, fi);
}

static void cf_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	size_t len = sizeof(value) - 1;

	if ((size_t)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, value + off, len - off < size ? len - off : size);
}

static const struct fuse_lowlevel_ops ops = {
	.lookup = cf_lookup,
	.getattr = cf_getattr,
	.open = cf_open,
	.read = cf_read,
};

static const struct fuse_opt opts[] = {
	FUSE_OPT_KEY("noopen", 0),
	FUSE_OPT_END,
};

static int keep(void *data, const char *arg, int key, struct fuse_args *args)
{
	if (key == 0) {
		no_open = 1;
		return 0;
	}
	return 1;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd;
	struct fuse_session *se;
	int rc = 1;

	if (fuse_opt_parse(&args, NULL, opts, keep) != 0 || fuse_parse_cmdline(&args, &cmd) != 0)
		return 1;
	if (!cmd.mountpoint) {
		fprintf(stderr, "usage: constfs [-o noopen] MOUNTPOINT\n");
		return 1;
	}
	se = fuse_session_new(&args, &ops, sizeof(ops), NULL);
	if (se && fuse_set_signal_handlers(se) == 0 && fuse_session_mount(se, cmd.mountpoint) == 0) {
		rc = fuse_session_loop(se);
		fuse_session_unmount(se);
	}
	if (se) {
		fuse_remove_signal_handlers(se);
		fuse_session_destroy(se);
	}
	free(cmd.mountpoint);
	fuse_opt_free_args(&args);
	return rc ? 1 : 0;
}
