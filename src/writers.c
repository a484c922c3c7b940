/* The processes that wrote a spec file (writers.h). */
#include <errno.h>
#include <linux/types.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "gpufs/writers.h"

/* A spec has one writer, as a rule; a few more are followed, the rest not. */
#define WRITERS_MAX 8

/* include/linux/sched.h, documented in proc(5) for /proc/PID/stat: set
 * when a signal's default action ends the process. */
#define PF_SIGNALED 0x00000400UL

/* The first version of struct pidfd_info (Linux 6.15, <linux/pidfd.h>),
 * copied under its own name: the kernel takes any size from this one on,
 * and headers older than 6.15 have none. */
struct pidfd_info_v0 {
	__u64 mask;
	__u64 cgroupid;
	__u32 pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	__s32 exit_code;
};
#define PIDFD_INFO_V0_EXIT (1ULL << 3)
#define PIDFD_GET_INFO_V0  _IOWR(0xFF, 11, struct pidfd_info_v0)

struct writer {
	pid_t seen; /* the pid the write came from: a thread's, perhaps */
	pid_t pid;  /* its process */
	int pidfd;
};

struct gpufs_writers {
	struct writer writer[WRITERS_MAX];
	guint count;
};

static int pidfd_open(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* FALSE once the process is reaped: its pid may be another's then. */
static gboolean unreaped(int pidfd)
{
#ifdef SYS_pidfd_send_signal
	/* Signal 0 checks without sending; a zombie still takes it. */
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) == 0 || errno != ESRCH;
#else
	(void)pidfd;
	return FALSE;
#endif
}

/* /proc/PID/stat, split after the command name (which may hold spaces):
 * field N of proc(5) is fields[N - 3]. */
static gchar **proc_stat_fields(pid_t pid)
{
	char path[32];
	g_autofree char *text = NULL;
	const char *end;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	end = strrchr(text, ')');
	if (!end || end[1] != ' ')
		return NULL;
	return g_strsplit(end + 2, " ", -1);
}

static const char *field(gchar **fields, guint n)
{
	return n >= 3 && g_strv_length(fields) > n - 3 ? fields[n - 3] : NULL;
}

/* The Tgid of a thread, from /proc/TID/status; 0 when unknown. */
static pid_t process_of_thread(pid_t tid)
{
	char path[32];
	g_autofree char *text = NULL;
	const char *line;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	if (!g_file_get_contents(path, &text, NULL, NULL))
		return 0;
	line = strstr(text, "\nTgid:");
	return line ? (pid_t)strtol(line + 6, NULL, 10) : 0;
}

static gboolean known(const struct gpufs_writers *writers, pid_t pid)
{
	for (guint i = 0; i < writers->count; i++)
		if (writers->writer[i].seen == pid || writers->writer[i].pid == pid)
			return TRUE;
	return FALSE;
}

struct gpufs_writers *gpufs_writers_new(void)
{
	return g_new0(struct gpufs_writers, 1);
}

void gpufs_writers_clear(struct gpufs_writers *writers)
{
	for (guint i = 0; i < writers->count; i++)
		close(writers->writer[i].pidfd);
	writers->count = 0;
}

void gpufs_writers_free(struct gpufs_writers *writers)
{
	if (!writers)
		return;
	gpufs_writers_clear(writers);
	g_free(writers);
}

void gpufs_writers_add(struct gpufs_writers *writers, pid_t pid)
{
	pid_t process = pid;
	int pidfd;

	if (pid <= 0 || known(writers, pid) || writers->count == WRITERS_MAX)
		return;
	pidfd = pidfd_open(pid);
	if (pidfd < 0 && (errno == EINVAL || errno == ENOENT)) { /* a thread, not its process */
		process = process_of_thread(pid);
		pidfd = process > 0 && process != pid ? pidfd_open(process) : -1;
	}
	if (pidfd < 0)
		return; /* cannot be followed: it counts as finishing */
	writers->writer[writers->count++] = (struct writer){pid, process, pidfd};
}

/* Read while the process is not reaped: the flag its fatal signal set,
 * and the signal (field 52, when /proc shows it to us). */
static gboolean stat_says_killed(gchar **fields, int *signo)
{
	const char *flags = field(fields, 9);
	const char *exit_code = field(fields, 52);
	int status = exit_code ? atoi(exit_code) : 0;

	if (!flags || !(strtoul(flags, NULL, 10) & PF_SIGNALED))
		return FALSE;
	*signo = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	return TRUE;
}

/* Read once it is reaped, from what pidfs kept. */
static gboolean exit_says_killed(int pidfd, int *signo)
{
	struct pidfd_info_v0 info = {.mask = PIDFD_INFO_V0_EXIT};

	if (ioctl(pidfd, PIDFD_GET_INFO_V0, &info) < 0 || !(info.mask & PIDFD_INFO_V0_EXIT))
		return FALSE;
	if (!WIFSIGNALED(info.exit_code))
		return FALSE;
	*signo = WTERMSIG(info.exit_code);
	return TRUE;
}

static gboolean writer_killed(const struct writer *writer, int *signo)
{
	g_auto(GStrv) fields = proc_stat_fields(writer->pid);

	/* Read before it was reaped, the stat was this process's own. */
	if (fields && unreaped(writer->pidfd))
		return stat_says_killed(fields, signo);
	return exit_says_killed(writer->pidfd, signo);
}

gboolean gpufs_writers_killed(const struct gpufs_writers *writers, int *signo)
{
	for (guint i = 0; i < writers->count; i++)
		if (writer_killed(&writers->writer[i], signo))
			return TRUE;
	*signo = 0;
	return FALSE;
}
