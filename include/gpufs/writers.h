/* The processes that wrote a spec file, so that its close can tell a
 * writer that finished from one a signal killed.  A Ctrl-C'd
 * `cat > new/job`, or a `timeout` that fired, closes the file just as an
 * ended `cat` does, and what it wrote so far may well be a complete spec:
 * that must not rent a machine.
 *
 * Each writer is held by a pidfd from its first write on, so its pid can
 * be reused without fooling the check.  Whether a signal killed it is read
 * from /proc/PID/stat (PF_SIGNALED) while it is not yet reaped, and after
 * that from the exit status pidfs keeps for a pidfd (Linux 6.15 and later;
 * before, a writer already reaped counts as one that finished).  Anything
 * that cannot be known (no pidfd, no /proc, another pid namespace) counts
 * as finished too: then a close creates, as it always did. */
#ifndef GPUFS_WRITERS_H
#define GPUFS_WRITERS_H

#include <glib.h>
#include <sys/types.h>

struct gpufs_writers;

struct gpufs_writers *gpufs_writers_new(void);
void gpufs_writers_free(struct gpufs_writers *writers);
/* Forgets every writer (a spec restarted by O_TRUNC, or applied). */
void gpufs_writers_clear(struct gpufs_writers *writers);
/* Notes that process or thread @pid wrote; call while it waits for the
 * write's answer, so it is alive.  0 or less: not known. */
void gpufs_writers_add(struct gpufs_writers *writers, pid_t pid);
/* TRUE when a signal killed one of them; *signo is that signal, or 0 when
 * it cannot be told which. */
gboolean gpufs_writers_killed(const struct gpufs_writers *writers, int *signo);

#endif
