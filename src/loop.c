/* The session loop (see loop.h).
 *
 * One worker at a time is the reader: it alone reads /dev/fuse, first
 * without blocking for spin_us, then in poll(2), and it answers what it
 * read itself.  When that request is about to wait, has taken HANDOFF_US,
 * or another request waits behind it, the reading goes to another worker:
 * one that waits its turn,
 * or a new one while there are fewer than max_threads.  The worker that
 * gave it up finishes its request and then waits its turn.  As in
 * libfuse's loop, no worker ends before the loop does. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>
#include <glib.h>
#include "gpufs/blocking.h"
#include "gpufs/log.h"
#include "loop.h"

/* A request the reader still answers after this long gives up the
 * reading, whatever it waits for: a lock, say. */
#define HANDOFF_US 2000
/* The same for a page-cache store, which waits when a READ of the same
 * file holds the page, and only another reader can answer that READ; a
 * store takes 5 us. */
#define STORE_HANDOFF_US 200

struct loop {
	struct fuse_session *session;
	int fuse_fd;
	int end_fd;   /* an eventfd: readable once the loop ends */
	int timer_fd; /* the watchdog's: expires at timer_at */
	gint ending;  /* atomic */
	gint64 spin_us;
	guint max_threads;
	sem_t ended; /* posted by the worker that ends the loop */
	GThread *watchdog;
	GMutex lock;
	/* Under lock: */
	GCond turn;		   /* the reading is free, or the loop ends */
	gboolean reading_taken;	   /* a worker is the reader */
	gboolean reader_answering; /* ... and answers a request */
	gint64 handoff_at;	   /* when the answer gives up the reading */
	gint64 timer_at;	   /* when the watchdog looks; 0: it does not */
	guint64 reader_turn;	   /* counts readers: which one the reader is */
	guint idle;		   /* workers waiting for their turn */
	GPtrArray *workers;	   /* GThread */
	gboolean start_failed;	   /* the last start of a worker failed */
	int error;
};

/* The request the reader of this thread answers, if it does. */
static __thread struct loop *answering_loop;
static __thread guint64 answering_turn;

static gboolean ending(struct loop *loop)
{
	return g_atomic_int_get(&loop->ending) || fuse_session_exited(loop->session);
}

static gpointer work(gpointer data);

/* Lock held: the watchdog looks at @at (monotonic time, as
 * g_get_monotonic_time()), or earlier if it would anyway. */
static void arm_locked(struct loop *loop, gint64 at)
{
	const struct itimerspec when = {
	    .it_value = {.tv_sec = at / G_USEC_PER_SEC, .tv_nsec = at % G_USEC_PER_SEC * 1000}};

	if (loop->timer_at != 0 && loop->timer_at <= at)
		return;
	loop->timer_at = at;
	timerfd_settime(loop->timer_fd, TFD_TIMER_ABSTIME, &when, NULL);
}

/* Lock held. */
static void start_worker_locked(struct loop *loop)
{
	g_autoptr(GError) error = NULL;
	GThread *thread;

	if (ending(loop)) /* the workers are being joined */
		return;
	thread = g_thread_try_new("gpufs-fuse", work, loop, &error);
	if (!thread) {
		/* The answer in flight may wait for a request only another
		 * reader can read: the watchdog tries again. */
		if (!loop->start_failed)
			gpufs_warn("cannot start a FUSE worker: %s", error->message);
		loop->start_failed = TRUE;
		arm_locked(loop, g_get_monotonic_time() + HANDOFF_US);
		return;
	}
	loop->start_failed = FALSE;
	g_ptr_array_add(loop->workers, thread);
	loop->idle++;
}

/* Lock held, nobody reads: a waiting worker, or a new one, reads next. */
static void find_reader_locked(struct loop *loop)
{
	if (loop->idle > 0)
		g_cond_signal(&loop->turn);
	else if (loop->workers->len < loop->max_threads)
		start_worker_locked(loop);
}

/* Lock held: the answering reader gives up the reading. */
static void hand_on_locked(struct loop *loop)
{
	if (!loop->reading_taken || !loop->reader_answering)
		return;
	loop->reading_taken = FALSE;
	loop->reader_answering = FALSE;
	find_reader_locked(loop);
}

/* gpufs_blocking(): the request of this thread is about to wait. */
static void on_blocking(void)
{
	struct loop *loop = answering_loop;

	if (!loop)
		return;
	answering_loop = NULL;
	g_mutex_lock(&loop->lock);
	if (loop->reader_turn == answering_turn)
		hand_on_locked(loop);
	g_mutex_unlock(&loop->lock);
}

/* A request already waits in /dev/fuse to be read. */
static gboolean request_waiting(struct loop *loop)
{
	struct pollfd fuse = {.fd = loop->fuse_fd, .events = POLLIN};

	return poll(&fuse, 1, 0) > 0 && (fuse.revents & POLLIN);
}

void gpufs_loop_make_way(void)
{
	struct loop *loop = answering_loop;

	if (!loop)
		return;
	if (request_waiting(loop)) {
		on_blocking();
		return;
	}
	/* The READ's page may be locked before its request is queued. */
	g_mutex_lock(&loop->lock);
	if (loop->reader_turn == answering_turn && loop->reader_answering) {
		loop->handoff_at = MIN(loop->handoff_at, g_get_monotonic_time() + STORE_HANDOFF_US);
		arm_locked(loop, loop->handoff_at);
	}
	g_mutex_unlock(&loop->lock);
}

/* Lock held, the timer expired: hands the reading on from an answer past
 * its handoff_at, or to a worker that could not be started before; looks
 * again at the handoff_at of the answer in flight. */
static void on_timer_locked(struct loop *loop)
{
	loop->timer_at = 0;
	if (!loop->reading_taken && loop->idle == 0) { /* a start failed */
		find_reader_locked(loop);
		return;
	}
	if (!loop->reader_answering)
		return;
	if (g_get_monotonic_time() < loop->handoff_at) {
		arm_locked(loop, loop->handoff_at);
		return;
	}
	gpufs_debug("FUSE loop: an answer is taking long: another thread reads");
	hand_on_locked(loop);
}

/* The watchdog: the timer is set when an answer starts and none is set,
 * so a burst of quick answers sets it once. */
static gpointer watch_reader(gpointer data)
{
	struct loop *loop = data;
	struct pollfd ready[] = {{.fd = loop->timer_fd, .events = POLLIN},
				 {.fd = loop->end_fd, .events = POLLIN}};
	uint64_t expired;

	while (poll(ready, G_N_ELEMENTS(ready), -1) >= 0 || errno == EINTR) {
		if (ready[1].revents)
			break;
		if (!(ready[0].revents & POLLIN) ||
		    read(loop->timer_fd, &expired, sizeof(expired)) < 0)
			continue;
		g_mutex_lock(&loop->lock);
		on_timer_locked(loop);
		g_mutex_unlock(&loop->lock);
	}
	return NULL;
}

/* Waits until this worker is the reader; FALSE when the loop ends. */
static gboolean take_reading(struct loop *loop, guint64 *turn)
{
	gboolean taken;

	g_mutex_lock(&loop->lock);
	while (loop->reading_taken && !ending(loop))
		g_cond_wait(&loop->turn, &loop->lock);
	taken = !ending(loop);
	if (taken) {
		loop->reading_taken = TRUE;
		loop->idle--;
		*turn = ++loop->reader_turn;
	}
	g_mutex_unlock(&loop->lock);
	return taken;
}

/* The next request into @buf: its size, 0 when the loop ends, or -errno.
 * Right after an answer (@spin), the next request of a burst is near: it
 * is looked for without sleeping first.  A reader that took over from a
 * request that waits sleeps at once: the process behind that request
 * waits too, and a spin would only take a CPU from the provider's reply. */
static int read_request(struct loop *loop, struct fuse_buf *buf, gboolean spin)
{
	struct pollfd ready[] = {{.fd = loop->fuse_fd, .events = POLLIN},
				 {.fd = loop->end_fd, .events = POLLIN}};
	gint64 spin_until = g_get_monotonic_time() + (spin ? loop->spin_us : 0);

	for (;;) {
		int res = fuse_session_receive_buf(loop->session, buf);

		if (res != -EAGAIN && res != -EINTR)
			return res;
		if (ending(loop))
			return 0;
		if (g_get_monotonic_time() >= spin_until &&
		    poll(ready, G_N_ELEMENTS(ready), -1) < 0 && errno != EINTR)
			return -errno;
	}
}

/* The reader's last read (@res <= 0) ends the loop: no worker reads
 * after it, and the waiting thread learns it. */
static void end_loop(struct loop *loop, int res)
{
	fuse_session_exit(loop->session);
	g_mutex_lock(&loop->lock);
	if (res < 0 && loop->error == 0) {
		gpufs_err("reading /dev/fuse: %s", g_strerror(-res));
		loop->error = res;
	}
	g_mutex_unlock(&loop->lock);
	sem_post(&loop->ended);
}

/* Answers the request in @buf as the reader; FALSE when the reading went
 * to another worker meanwhile, and this one waits its turn again. */
static gboolean answer(struct loop *loop, guint64 turn, struct fuse_buf *buf)
{
	gboolean still_reader;

	g_mutex_lock(&loop->lock);
	loop->reader_answering = TRUE;
	loop->handoff_at = g_get_monotonic_time() + HANDOFF_US;
	/* Set once for a burst of quick answers: it then looks again. */
	arm_locked(loop, loop->handoff_at);
	g_mutex_unlock(&loop->lock);
	answering_loop = loop;
	answering_turn = turn;
	/* When processes ask side by side, their answers run side by side
	 * too: a request that already waits gets another reader. */
	if (request_waiting(loop))
		on_blocking();
	fuse_session_process_buf(loop->session, buf);
	answering_loop = NULL;

	g_mutex_lock(&loop->lock);
	still_reader = loop->reading_taken && loop->reader_turn == turn;
	if (still_reader)
		loop->reader_answering = FALSE;
	else
		loop->idle++;
	g_mutex_unlock(&loop->lock);
	return still_reader;
}

static gpointer work(gpointer data)
{
	struct loop *loop = data;
	struct fuse_buf buf = {.mem = NULL};
	guint64 turn;

	while (take_reading(loop, &turn)) {
		gboolean answered = FALSE;
		int res;

		while ((res = read_request(loop, &buf, answered)) > 0 && answer(loop, turn, &buf))
			answered = TRUE;
		if (res <= 0) {
			end_loop(loop, res);
			break;
		}
	}
	free(buf.mem);
	return NULL;
}

/* Wakes every worker that waits, in poll(2) or for its turn, to end. */
static void stop_workers(struct loop *loop)
{
	uint64_t one = 1;

	g_atomic_int_set(&loop->ending, 1);
	if (write(loop->end_fd, &one, sizeof(one)) < 0)
		gpufs_warn("ending the FUSE loop: %s", g_strerror(errno));
	g_mutex_lock(&loop->lock);
	g_cond_broadcast(&loop->turn);
	g_mutex_unlock(&loop->lock);
}

/* After stop_workers: no worker is started any more. */
static void join_workers(struct loop *loop)
{
	g_thread_join(loop->watchdog);
	for (guint i = 0; i < loop->workers->len; i++)
		g_thread_join(loop->workers->pdata[i]);
}

/* The CPU time a cgroup v2 quota (cpu.max: "QUOTA PERIOD" or "max
 * PERIOD") of @dir ("/a/b") or an ancestor grants, in CPUs; G_MAXDOUBLE
 * for none.  The top one counts too: in a container, it is the
 * container's. */
static double cgroup_cpus(const char *dir)
{
	double cpus = G_MAXDOUBLE;
	g_autofree char *path = g_strdup(dir);

	for (;;) {
		g_autofree char *file = g_strdup_printf("/sys/fs/cgroup%s/cpu.max", path);
		g_autofree char *text = NULL;
		char *slash = strrchr(path, '/');
		double quota, period;

		if (g_file_get_contents(file, &text, NULL, NULL) &&
		    sscanf(text, "%lf %lf", &quota, &period) == 2 && period > 0)
			cpus = MIN(cpus, quota / period);
		if (!*path)
			return cpus;
		*(slash ? slash : path) = '\0'; /* "/a/b" -> "/a" -> "" */
	}
}

/* With one CPU to run on, a spinning reader only keeps the process that
 * sent the request from running, or spends a quota it is throttled for. */
static gint64 spin_for(unsigned spin_us)
{
	g_autofree char *cgroup = NULL;
	char *save = NULL;
	cpu_set_t cpus;

	if (sched_getaffinity(0, sizeof(cpus), &cpus) == 0 && CPU_COUNT(&cpus) < 2)
		return 0;
	if (!g_file_get_contents("/proc/self/cgroup", &cgroup, NULL, NULL))
		return spin_us;
	/* cgroup v2's line is "0::/PATH", alone or after v1's. */
	for (char *line = strtok_r(cgroup, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (g_str_has_prefix(line, "0::/") && cgroup_cpus(line + 3) < 2)
			return 0;
	return spin_us;
}

static int open_fds(struct loop *loop, int *fuse_flags)
{
	*fuse_flags = fcntl(loop->fuse_fd, F_GETFL);
	loop->end_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	loop->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (*fuse_flags >= 0 && loop->end_fd >= 0 && loop->timer_fd >= 0 &&
	    fcntl(loop->fuse_fd, F_SETFL, *fuse_flags | O_NONBLOCK) == 0)
		return 0;
	gpufs_err("cannot set up the FUSE loop: %s", g_strerror(errno));
	if (loop->end_fd >= 0)
		close(loop->end_fd);
	if (loop->timer_fd >= 0)
		close(loop->timer_fd);
	return -EIO;
}

int gpufs_loop_run(struct fuse_session *session, const struct gpufs_loop_options *options)
{
	struct loop loop = {
	    .session = session,
	    .fuse_fd = fuse_session_fd(session),
	    .spin_us = spin_for(options->spin_us),
	    /* An answer may wait for a request only another worker reads. */
	    .max_threads = MAX(options->max_threads, 2),
	};
	gboolean started;
	int fuse_flags;

	if (open_fds(&loop, &fuse_flags) < 0)
		return -EIO;
	loop.workers = g_ptr_array_new();
	sem_init(&loop.ended, 0, 0);
	g_mutex_init(&loop.lock);
	g_cond_init(&loop.turn);
	gpufs_blocking_set_hook(on_blocking);
	loop.watchdog = g_thread_new("gpufs-handoff", watch_reader, &loop);

	g_mutex_lock(&loop.lock);
	start_worker_locked(&loop);
	started = loop.workers->len > 0;
	if (!started && !ending(&loop)) /* else a stop signal came first */
		loop.error = -EAGAIN;
	g_mutex_unlock(&loop.lock);
	/* A stop signal interrupts the wait (stop.c): no SA_RESTART. */
	while (started && !fuse_session_exited(session))
		sem_wait(&loop.ended);
	stop_workers(&loop);
	join_workers(&loop);

	gpufs_blocking_set_hook(NULL);
	fcntl(loop.fuse_fd, F_SETFL, fuse_flags);
	close(loop.end_fd);
	close(loop.timer_fd);
	g_cond_clear(&loop.turn);
	g_mutex_clear(&loop.lock);
	sem_destroy(&loop.ended);
	g_ptr_array_unref(loop.workers);
	fuse_session_reset(session);
	return loop.error;
}
