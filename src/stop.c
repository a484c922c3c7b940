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
	pthread_t loop_thread;
	GThread *thread;
	void (*before)(void *ctx);
	void *ctx;
};

/* A signal handler can only write to a pipe; one daemon, one pipe.  A
 * signal writes its number, and a 0 byte ends the thread. */
static int stop_pipe[2] = {-1, -1};
#define QUIT_BYTE 0

/* While the loop thread has not seen the end, it is signalled this often:
 * a signal can come just before it starts waiting. */
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

	if (pipe2(stop_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		gpufs_err("cannot make a pipe: %s", g_strerror(errno));
		return NULL;
	}
	stop = g_new0(struct gpufs_stop, 1);
	stop->session = session;
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

	for (;;) {
		if (read(stop_pipe[0], &byte, 1) == 1)
			return byte;
		if (errno != EAGAIN && errno != EINTR)
			return QUIT_BYTE;
		if (poll(&readable, 1, timeout_ms) == 0)
			return -1;
	}
}

static gpointer run(gpointer data)
{
	struct gpufs_stop *stop = data;
	int byte = next_byte(-1);

	if (byte == QUIT_BYTE)
		return NULL;
	gpufs_info("signal %d: unmounting", byte);
	if (stop->before)
		stop->before(stop->ctx);
	/* fuse_session_exit only sets a flag; the loop thread sees it when a
	 * signal interrupts its wait.  That signal comes back here as a
	 * byte, and is ignored like any later one. */
	fuse_session_exit(stop->session);
	do
		pthread_kill(stop->loop_thread, SIGTERM);
	while (next_byte(REWAKE_MS) != QUIT_BYTE);
	return NULL;
}

void gpufs_stop_start(struct gpufs_stop *stop, void (*before)(void *ctx), void *ctx)
{
	if (!stop)
		return;
	stop->before = before;
	stop->ctx = ctx;
	stop->loop_thread = pthread_self();
	stop->thread = g_thread_new("gpufs-stop", run, stop);
}

void gpufs_stop_loop_ended(struct gpufs_stop *stop)
{
	char quit = QUIT_BYTE;

	if (!stop || !stop->thread)
		return;
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
	close(stop_pipe[0]);
	close(stop_pipe[1]);
	stop_pipe[0] = stop_pipe[1] = -1;
	g_free(stop);
}
