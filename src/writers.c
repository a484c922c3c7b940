/* The processes that wrote a spec file (writers.h). */
#include <errno.h>
#include <fcntl.h>
#include <linux/types.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "gpufs/log.h"
#include "gpufs/writers.h"

/* Live writers followed at once; a spec has one, as a rule. */
#define WRITERS_MAX 16

/* include/linux/sched.h, documented in proc(5) for /proc/PID/stat: set
 * once the process is in exit(2), by a signal or not. */
#define PF_EXITING 0x00000004UL

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

/* How a writer stands, as far as can be told. */
enum writer_state {
	WRITER_LIVE,	 /* running (or unknown: counts as finishing) */
	WRITER_FINISHED, /* ended without a signal */
	WRITER_KILLED,
};

struct gpufs_writers {
	GMutex lock;
	struct writer writer[WRITERS_MAX];
	guint count;
	int killed; /* the signal of a dropped writer that was killed, or 0 */
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

static enum writer_state state_of_status(int status, int *signo)
{
	if (!WIFSIGNALED(status))
		return WRITER_FINISHED;
	*signo = WTERMSIG(status);
	return WRITER_KILLED;
}

/* Read while the process is not reaped.  Only its exit status (field 52,
 * set as exit(2) begins) tells: PF_SIGNALED is set too when another
 * thread of the process calls exit(2).  Field 52 reads 0 for a process we
 * may not trace, and is a stop signal while traced: hence PF_EXITING. */
static enum writer_state state_of_stat(gchar **fields, int *signo)
{
	const char *flags = field(fields, 9);
	const char *exit_code = field(fields, 52);

	if (!flags || !exit_code || !(strtoul(flags, NULL, 10) & PF_EXITING))
		return WRITER_LIVE;
	return state_of_status(atoi(exit_code), signo);
}

/* Read once it is reaped, from what pidfs kept. */
static enum writer_state state_of_reaped(int pidfd, int *signo)
{
	struct pidfd_info_v0 info = {.mask = PIDFD_INFO_V0_EXIT};

	if (ioctl(pidfd, PIDFD_GET_INFO_V0, &info) < 0 || !(info.mask & PIDFD_INFO_V0_EXIT))
		return WRITER_FINISHED; /* before Linux 6.15: not known */
	return state_of_status(info.exit_code, signo);
}

static enum writer_state state_of(const struct writer *writer, int *signo)
{
	g_auto(GStrv) fields = proc_stat_fields(writer->pid);

	/* Read before it was reaped, the stat was this process's own. */
	if (fields && unreaped(writer->pidfd))
		return state_of_stat(fields, signo);
	return state_of_reaped(writer->pidfd, signo);
}

/* Drops the writers that ended, remembering a kill; lock held. */
static void drop_ended(struct gpufs_writers *writers)
{
	guint kept = 0;

	for (guint i = 0; i < writers->count; i++) {
		struct writer *writer = &writers->writer[i];
		int signo = 0;
		enum writer_state state = state_of(writer, &signo);

		if (state == WRITER_LIVE) {
			writers->writer[kept++] = *writer;
			continue;
		}
		if (state == WRITER_KILLED && !writers->killed)
			writers->killed = signo;
		close(writer->pidfd);
	}
	writers->count = kept;
}

/* Whether /proc shows us how @pid ends: its exit status (stat field 52)
 * passes the same ptrace check as its environ (proc(5)).  Another user's
 * process does not (unless gpufs runs as root), and following it would
 * tell a kill only once it is reaped: it is not followed at all. */
static gboolean exit_visible(pid_t pid)
{
	char path[32];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return FALSE;
	close(fd);
	return TRUE;
}

/* TRUE when @pid is followed already: an entry of that pid whose process
 * is not reaped (a reaped one's pid may be @pid's now). */
static gboolean following(const struct gpufs_writers *writers, pid_t pid)
{
	for (guint i = 0; i < writers->count; i++) {
		const struct writer *writer = &writers->writer[i];

		if ((writer->seen == pid || writer->pid == pid) && unreaped(writer->pidfd))
			return TRUE;
	}
	return FALSE;
}

/* A pidfd for @pid's process: @pid may be a thread's (then pidfd_open
 * fails, with EINVAL before Linux 6.9 and ENOENT since). */
static int pin(pid_t pid, pid_t *process)
{
	int pidfd = pidfd_open(pid);

	*process = pid;
	if (pidfd >= 0 || (errno != EINVAL && errno != ENOENT))
		return pidfd;
	*process = process_of_thread(pid);
	return *process > 0 && *process != pid ? pidfd_open(*process) : -1;
}

struct gpufs_writers *gpufs_writers_new(void)
{
	struct gpufs_writers *writers = g_new0(struct gpufs_writers, 1);

	g_mutex_init(&writers->lock);
	return writers;
}

static void forget_all(struct gpufs_writers *writers)
{
	for (guint i = 0; i < writers->count; i++)
		close(writers->writer[i].pidfd);
	writers->count = 0;
	writers->killed = 0;
}

void gpufs_writers_free(struct gpufs_writers *writers)
{
	if (!writers)
		return;
	forget_all(writers);
	g_mutex_clear(&writers->lock);
	g_free(writers);
}

void gpufs_writers_add(struct gpufs_writers *writers, pid_t pid)
{
	pid_t process;
	int pidfd;

	if (pid <= 0)
		return;
	g_mutex_lock(&writers->lock);
	/* Every write of a spec comes here: its writer costs one syscall. */
	if (following(writers, pid)) {
		g_mutex_unlock(&writers->lock);
		return;
	}
	drop_ended(writers); /* room, and a reused pid's old entry gone */
	if (writers->count == WRITERS_MAX) {
		g_mutex_unlock(&writers->lock);
		return;
	}
	pidfd = exit_visible(pid) ? pin(pid, &process) : -1;
	if (pidfd >= 0)
		writers->writer[writers->count++] = (struct writer){pid, process, pidfd};
	else if (errno == EMFILE || errno == ENFILE)
		gpufs_warn("spec writer %d cannot be followed: %s", (int)pid, g_strerror(errno));
	g_mutex_unlock(&writers->lock);
}

int gpufs_writers_end(struct gpufs_writers *writers)
{
	int killed;

	g_mutex_lock(&writers->lock);
	drop_ended(writers);
	killed = writers->killed;
	forget_all(writers);
	g_mutex_unlock(&writers->lock);
	return killed;
}

void gpufs_writers_forget(struct gpufs_writers *writers)
{
	g_mutex_lock(&writers->lock);
	forget_all(writers);
	g_mutex_unlock(&writers->lock);
}
