/* Stopping on SIGHUP, SIGINT and SIGTERM.  libfuse's own handlers end the
 * session loop from inside the signal handler, at once; gpufs has work
 * that needs the loop still answering while it finishes (a page cache
 * store waits for a read in flight, prefill.h).  So the handler only
 * wakes a thread, which lets that work finish and then ends the loop. */
#ifndef GPUFS_STOP_H
#define GPUFS_STOP_H

#include <fuse_lowlevel.h>

struct gpufs_stop;

/* Installs the handlers (and ignores SIGPIPE), starting no thread: call
 * before the mount, so that no signal from then on is lost.  SIGUSR1 is
 * taken: it wakes the loop thread. */
struct gpufs_stop *gpufs_stop_new(struct fuse_session *session);
/* Starts the thread; call from the thread that then runs the session
 * loop.  At a signal it calls @before(@ctx), then ends the loop.  A signal
 * that came before this is acted on now. */
void gpufs_stop_start(struct gpufs_stop *stop, void (*before)(void *ctx), void *ctx);
/* Right after the loop returned: ends the thread.  Signals from then on
 * change nothing: the daemon is stopping anyway. */
void gpufs_stop_loop_ended(struct gpufs_stop *stop);
/* Restores the default handlers. */
void gpufs_stop_free(struct gpufs_stop *stop);

#endif
