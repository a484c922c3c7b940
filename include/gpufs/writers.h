/* The processes that wrote a spec file, so that its close can tell a
 * writer that finished from one a signal killed.  A Ctrl-C'd
 * `cat > new/job`, or a `timeout` that fired, closes the file just as an
 * ended `cat` does, and what it wrote so far may well be a complete spec:
 * that must not rent a machine.
 *
 * Each writer is held by a pidfd from its first write on, so its pid can
 * be reused without fooling the check.  How it ended is read from
 * /proc/PID/stat (exiting, and the wait status of a signal) while it is
 * not yet reaped, and after that from the exit status pidfs keeps for a
 * pidfd (Linux 6.15 and later; before, a writer already reaped counts as
 * one that finished).  Writers that ended are dropped as new ones come,
 * remembering whether one was killed; at most 16 live ones are
 * followed.  A writer that cannot be followed (no pidfd or no descriptor
 * left, no /proc, another user's process, another pid namespace, more
 * live writers than that) counts as finished: then a close creates, as it
 * always did.
 *
 * Thread-safe: a close is told without the spec's lock. */
#ifndef GPUFS_WRITERS_H
#define GPUFS_WRITERS_H

#include <glib.h>
#include <sys/types.h>

struct gpufs_writers;

struct gpufs_writers *gpufs_writers_new(void);
void gpufs_writers_free(struct gpufs_writers *writers);
/* Notes that process or thread @pid wrote; call while it waits for the
 * write's answer, so it is alive.  0 or less: not known. */
void gpufs_writers_add(struct gpufs_writers *writers, pid_t pid);
/* The file was closed by its last holder: returns the signal that killed
 * one of its writers, or 0; and forgets them all, so the next writer
 * starts afresh. */
int gpufs_writers_end(struct gpufs_writers *writers);
/* Forgets them all (a spec restarted by O_TRUNC, or removed). */
void gpufs_writers_forget(struct gpufs_writers *writers);

#endif
