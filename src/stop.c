/* Stopping on a signal (see stop.h). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#include <glib.h>
#include "gpufs/log.h"
#include "stop.h"

static const int stop_signals[] = {SIGHUP, SIGINT, SIGTERM, SIGPIPE};

struct gpufs_stop {
	struct fuse_session *session;
	gboolean installed[G_N_ELEMENTS(stop_signals)];
	struct sigaction wake_before; /* WAKE_SIGNAL's disposition before us */
	pthread_t loop_thread;
	GThread *thread;
	gint loop_ended; /* atomic */
	void (*before)(void *ctx);
	void *ctx;
};

/* A signal handler can only write to a pipe; one daemon, one pipe.  A
 * signal writes its number; a 0 byte says the loop has ended. */
static int stop_pipe[2] = {-1, -1};
#define QUIT_BYTE 0

/* fuse_session_exit only sets a flag, which the loop thread checks when
 * its wait is interrupted: this signal does that, and nothing else. */
#define WAKE_SIGNAL SIGUSR1
/* The loop thread is woken again this often until the loop has ended: the
 * wake can come just before it starts waiting. */
#define REWAKE_MS 100

static void on_signal(int sig)
{
	int saved = errno;
	char byte = (char)sig;

	if (write(stop_pipe[1], &byte, 1) < 0) {
		/* The pipe is full: a stop is under way already. */
	}
	errno = saved;
}

static void on_wake(int sig)
{
	(void)sig;
}

static void set_handler(int sig, void (*handler)(int))
{
	struct sigaction action = {.sa_handler = handler};

	sigemptyset(&action.sa_mask);
	if (sigaction(sig, &action, NULL) < 0)
		gpufs_warn("cannot set the handler of signal %d: %s", sig, g_strerror(errno));
}

/* A signal ignored by whoever started us stays ignored (nohup, a
 * script's background job), as libfuse does it. */
static gboolean is_default(int sig)
{
	struct sigaction old;

	return sigaction(sig, NULL, &old) == 0 && old.sa_handler == SIG_DFL;
}

struct gpufs_stop *gpufs_stop_new(struct fuse_session *session)
{
	struct gpufs_stop *stop;

	struct sigaction wake = {.sa_handler = on_wake};

	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		gpufs_err("cannot make a pipe: %s", g_strerror(errno));
		return NULL;
	}
	stop = g_new0(struct gpufs_stop, 1);
	stop->session = session;
	/* No SA_RESTART: the wait must end. */
	sigemptyset(&wake.sa_mask);
	sigaction(WAKE_SIGNAL, &wake, &stop->wake_before);
	for (gsize i = 0; i < G_N_ELEMENTS(stop_signals); i++) {
		int sig = stop_signals[i];

		stop->installed[i] = is_default(sig);
		if (stop->installed[i])
			set_handler(sig, sig == SIGPIPE ? SIG_IGN : on_signal);
	}
	return stop;
}

/* The next byte, or -1 when none came within @timeout_ms (-1: no limit). */
static int next_byte(int timeout_ms)
{
	struct pollfd readable = {.fd = stop_pipe[0], .events = POLLIN};
	char byte;
	ssize_t n;

	for (;;) {
		n = read(stop_pipe[0], &byte, 1);
		if (n == 1)
			return byte;
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			return QUIT_BYTE; /* no pipe any more: nothing to wait for */
		if (poll(&readable, 1, timeout_ms) == 0)
			return -1;
	}
}

static gboolean loop_ended(struct gpufs_stop *stop)
{
	return g_atomic_int_get(&stop->loop_ended);
}

/* Wakes the loop thread every REWAKE_MS until the loop has ended; later
 * signals only end the waits early. */
static void wake_until_ended(struct gpufs_stop *stop)
{
	while (!loop_ended(stop)) {
		gint64 until = g_get_monotonic_time() + REWAKE_MS * 1000;
		gint64 left;

		pthread_kill(stop->loop_thread, WAKE_SIGNAL);
		while (!loop_ended(stop) && (left = until - g_get_monotonic_time()) > 0)
			if (next_byte((int)(left / 1000) + 1) == QUIT_BYTE)
				break;
	}
}

static gpointer run(gpointer data)
{
	struct gpufs_stop *stop = data;
	int byte = next_byte(-1);

	if (byte == QUIT_BYTE || loop_ended(stop))
		return NULL;
	gpufs_info("signal %d: unmounting", byte);
	if (stop->before)
		stop->before(stop->ctx);
	fuse_session_exit(stop->session);
	wake_until_ended(stop);
	return NULL;
}

void gpufs_stop_start(struct gpufs_stop *stop, void (*before)(void *ctx), void *ctx)
{
	if (!stop)
		return;
	stop->before = before;
	stop->ctx = ctx;
	sigset_t wake;

	sigemptyset(&wake);
	sigaddset(&wake, WAKE_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &wake, NULL);
	stop->loop_thread = pthread_self();
	stop->thread = g_thread_new("gpufs-stop", run, stop);
}

void gpufs_stop_loop_ended(struct gpufs_stop *stop)
{
	char quit = QUIT_BYTE;

	if (!stop || !stop->thread)
		return;
	g_atomic_int_set(&stop->loop_ended, 1);
	/* Full (EAGAIN): the thread has bytes to read, and sees the flag. */
	while (write(stop_pipe[1], &quit, 1) < 0 && errno == EINTR)
		;
	g_thread_join(stop->thread);
	stop->thread = NULL;
}

void gpufs_stop_free(struct gpufs_stop *stop)
{
	if (!stop)
		return;
	gpufs_stop_loop_ended(stop);
	for (gsize i = 0; i < G_N_ELEMENTS(stop_signals); i++)
		if (stop->installed[i])
			set_handler(stop_signals[i], SIG_DFL);
	sigaction(WAKE_SIGNAL, &stop->wake_before, NULL);
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	stop_pipe[0] = stop_pipe[1] = -1;
	g_free(stop);
}
