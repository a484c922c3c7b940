/* Telling the FUSE loop that this thread is about to wait.
 *
 * The loop answers most requests on the thread that read them (see
 * src/loop.h).  Code that is about to wait for a provider, for another
 * thread's fetch or for the daemon's own requests on the mount calls
 * gpufs_blocking() first, so that another thread reads requests meanwhile.
 * Outside the loop's threads, and with no loop, it does nothing. */
#ifndef GPUFS_BLOCKING_H
#define GPUFS_BLOCKING_H

void gpufs_blocking(void);

/* Set once, before the threads that may call gpufs_blocking() start. */
void gpufs_blocking_set_hook(void (*hook)(void));

#endif
