/* Telling the FUSE loop that this thread is about to wait.
 *
 * The loop answers most requests on the thread that read them (see
 * src/loop.h).  Code that is about to wait for a provider, for another
 * thread's fetch or for the daemon's own requests on the mount calls
 * gpufs_blocking() first, so that another thread reads requests meanwhile.
 * Outside the loop's threads, and with no loop, it does nothing. */
#ifndef GPUFS_BLOCKING_H
#define GPUFS_BLOCKING_H

#include <glib.h>

void gpufs_blocking(void);

/* g_mutex_lock() of a lock that may be held across a provider request
 * (a spec's while it is created): gpufs_blocking() first if it is taken. */
void gpufs_blocking_lock(GMutex *mutex);

/* Set by the loop when it starts and cleared when it ends; threads that
 * call gpufs_blocking() meanwhile and are not the loop's find nothing to
 * do. */
void gpufs_blocking_set_hook(void (*hook)(void));

#endif
