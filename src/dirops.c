/* Parallel directory operations (see dirops.h).
 *
 * libfuse before 3.17 never puts FUSE_PARALLEL_DIROPS into its INIT reply,
 * whatever conn->want says (libfuse#861; 3.17 sends it when asked,
 * libfuse#880).  There the reply is amended on its way to the kernel,
 * through libfuse's custom I/O hooks: the read hook notes the INIT
 * request's id if the kernel offers the flag, and the writev hook sets it
 * in that request's reply.  Every other message passes untouched. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/fuse.h>
#include <glib.h>
#include "gpufs/log.h"
#include "dirops.h"

/* 0 until the first request, INIT, is read; then its id while its reply
 * is still to be amended (a request's id is never 0: that marks a
 * notification); DONE after, and at once if the kernel does not offer the
 * flag. */
#define DONE UINT64_MAX
static uint64_t init_unique;

void gpufs_dirops_want(struct fuse_conn_info *conn)
{
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
}

static void note_init(const void *buf, ssize_t len)
{
	const struct fuse_in_header *in = buf;
	const struct fuse_init_in *init = (const void *)(in + 1);
	size_t needed = sizeof(*in) + offsetof(struct fuse_init_in, flags) + sizeof(init->flags);
	gboolean offered = (size_t)len >= needed && in->opcode == FUSE_INIT && init->major == 7 &&
			   (init->flags & FUSE_PARALLEL_DIROPS);

	__atomic_store_n(&init_unique, offered ? in->unique : DONE, __ATOMIC_RELEASE);
}

static ssize_t dirops_read(int fd, void *buf, size_t len, void *userdata)
{
	ssize_t res = read(fd, buf, len);

	(void)userdata;
	if (res > 0 && __atomic_load_n(&init_unique, __ATOMIC_ACQUIRE) == 0)
		note_init(buf, res);
	return res;
}

static void amend_init_reply(struct iovec *iov, int count)
{
	struct fuse_out_header *out = iov[0].iov_base;
	struct fuse_init_out *init;
	uint64_t unique = __atomic_load_n(&init_unique, __ATOMIC_ACQUIRE);

	if (unique == 0 || iov[0].iov_len != sizeof(*out) || out->unique != unique)
		return;
	__atomic_store_n(&init_unique, DONE, __ATOMIC_RELEASE);
	init = count >= 2 ? iov[1].iov_base : NULL;
	if (!init || out->error != 0 ||
	    iov[1].iov_len < offsetof(struct fuse_init_out, flags) + sizeof(init->flags) ||
	    init->major != 7)
		return;
	init->flags |= FUSE_PARALLEL_DIROPS;
	gpufs_debug("INIT: parallel lookups and readdirs (FUSE_PARALLEL_DIROPS)");
}

static ssize_t dirops_writev(int fd, struct iovec *iov, int count, void *userdata)
{
	(void)userdata;
	if (count > 0 && __atomic_load_n(&init_unique, __ATOMIC_ACQUIRE) != DONE)
		amend_init_reply(iov, count);
	return writev(fd, iov, count);
}

void gpufs_dirops_enable(struct fuse_session *session)
{
	static const struct fuse_custom_io io = {.read = dirops_read, .writev = dirops_writev};
	int rc;

	if (fuse_version() >= 317)
		return;
	/* The same descriptor: libfuse only reads and writes through us. */
	rc = fuse_session_custom_io(session, &io, fuse_session_fd(session));
	if (rc < 0)
		gpufs_warn("no parallel lookups in one directory: %s", g_strerror(-rc));
}
