/* The FUSE session loop: libfuse's multi-threaded loop, but a request is
 * answered on the thread that read it, and that thread looks for the next
 * one a moment before it sleeps.
 *
 * libfuse's loop hands every request to another thread, which has to be
 * woken.  On a virtual machine whose idle CPUs halt, each wake-up costs
 * more than answering a cached lookup: measured here, 10,000 lookups took
 * 0.66-0.76 s that way and 0.32-0.44 s on one thread that spins 50 us.  So
 * a burst of requests (a glob, `ls -l`, `find`) meets a reader that is
 * awake; a lone request costs at most the spin in CPU time.
 *
 * A request that waits (for a provider, another thread's fetch, the
 * daemon's own requests) must not hold up the others: the code that waits
 * says so first (gpufs/blocking.h), and a request that is still not
 * answered after 2 ms is treated the same, whatever it waits for. */
#ifndef GPUFS_LOOP_H
#define GPUFS_LOOP_H

#include <fuse_lowlevel.h>

struct gpufs_loop_options {
	unsigned max_threads; /* as libfuse's: one more when none is left to read */
	unsigned spin_us;     /* how long the reader looks before it sleeps */
};

/* Serves @session until it exits or is unmounted, like
 * fuse_session_loop_mt; returns 0, or -errno when reading the device
 * failed.  The calling thread only waits: a signal that interrupts its
 * wait ends the loop once fuse_session_exit() was called (stop.h). */
int gpufs_loop_run(struct fuse_session *session, const struct gpufs_loop_options *options);

/* Before work that may wait for a request nobody has read yet, as a
 * page-cache store waits for a READ of the same file: if a request waits
 * in /dev/fuse, another thread reads it first.  On any thread but the
 * loop's reader it does nothing. */
void gpufs_loop_make_way(void);

#endif
