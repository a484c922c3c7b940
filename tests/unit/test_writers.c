/* Telling a killed writer from a finished one (writers.c), with real
 * child processes: alive, ended, killed, before and after they are reaped. */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include "gpufs/writers.h"

/* The runner may have been started with signals ignored or blocked (nohup,
 * a background job): a child must die of the ones it is sent, and of its
 * alarm if a test fails before killing it. */
static void child_signals(void)
{
	const int used[] = {SIGINT, SIGTERM, SIGHUP, SIGALRM};
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < G_N_ELEMENTS(used); i++) {
		signal(used[i], SIG_DFL);
		sigaddset(&set, used[i]);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	alarm(30);
}

/* A child that waits to be killed, or exits with @status when @status >= 0;
 * it returns once the child's signals are set up. */
static pid_t start_child(int status)
{
	int ready[2];
	pid_t pid;
	char byte;

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		child_signals();
		if (write(ready[1], "x", 1) != 1 || status >= 0)
			_exit(status >= 0 ? status : 1);
		for (;;)
			pause();
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	return pid;
}

/* Until the child is a zombie: dead, not reaped. */
static void wait_dead(pid_t pid)
{
	siginfo_t info;

	assert_int_equal(waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT), 0);
}

static void reap(pid_t pid)
{
	int status;

	assert_int_equal(waitpid(pid, &status, 0), pid);
}

/* pidfs keeps the exit status of a reaped process from Linux 6.15 on
 * (6.13 and 6.14 answer the ioctl, without it). */
static gboolean kernel_keeps_exit_status(void)
{
	struct {
		guint64 mask, cgroupid;
		guint32 ids[11];
		gint32 exit_code;
	} info = {.mask = 1ULL << 3};
	pid_t child = start_child(0);
	int pidfd = (int)syscall(SYS_pidfd_open, child, 0);
	gboolean keeps;

	reap(child);
	keeps = pidfd >= 0 && ioctl(pidfd, _IOWR(0xFF, 11, info), &info) == 0 &&
		(info.mask & (1ULL << 3));
	if (pidfd >= 0)
		close(pidfd);
	return keeps;
}

static void test_alive_is_not_killed(void **state)
{
	struct gpufs_writers *writers = gpufs_writers_new();
	pid_t child = start_child(-1);

	(void)state;
	gpufs_writers_add(writers, child);
	assert_int_equal(gpufs_writers_end(writers), 0);
	kill(child, SIGKILL);
	reap(child);
	/* Forgotten at the end: its death after the close is no concern. */
	assert_int_equal(gpufs_writers_end(writers), 0);
	gpufs_writers_free(writers);
}

static void test_killed_before_reap(void **state)
{
	struct gpufs_writers *writers = gpufs_writers_new();
	pid_t child = start_child(-1);

	(void)state;
	gpufs_writers_add(writers, child);
	kill(child, SIGINT);
	wait_dead(child);
	assert_int_equal(gpufs_writers_end(writers), SIGINT);
	reap(child);
	gpufs_writers_free(writers);
}

static void test_killed_after_reap(void **state)
{
	struct gpufs_writers *writers = gpufs_writers_new();
	pid_t child = start_child(-1);
	gboolean keeps = kernel_keeps_exit_status();

	(void)state;
	gpufs_writers_add(writers, child);
	kill(child, SIGKILL);
	reap(child);
	/* Before 6.15 it cannot be known: it counts as finished. */
	assert_int_equal(gpufs_writers_end(writers), keeps ? SIGKILL : 0);
	gpufs_writers_free(writers);
	if (!keeps)
		skip();
}

static void test_exit_is_not_killed(void **state)
{
	struct gpufs_writers *writers = gpufs_writers_new();
	pid_t ok = start_child(0);
	pid_t failed = start_child(3);

	(void)state;
	gpufs_writers_add(writers, ok);
	gpufs_writers_add(writers, failed);
	wait_dead(ok);
	wait_dead(failed);
	assert_int_equal(gpufs_writers_end(writers), 0); /* zombies */
	gpufs_writers_add(writers, ok);
	gpufs_writers_add(writers, failed);
	reap(ok);
	reap(failed);
	assert_int_equal(gpufs_writers_end(writers), 0); /* reaped */
	gpufs_writers_free(writers);
}

/* One killed writer among finished ones is enough, also once it was
 * dropped to make room; a restart forgets it. */
static void test_killed_is_remembered(void **state)
{
	struct gpufs_writers *writers = gpufs_writers_new();
	pid_t doomed = start_child(-1);

	(void)state;
	gpufs_writers_add(writers, doomed);
	gpufs_writers_add(writers, doomed); /* the same writer twice counts once */
	kill(doomed, SIGTERM);
	reap(doomed);
	for (int i = 0; i < 100; i++) { /* more writers than are followed at once */
		pid_t ok = start_child(0);

		gpufs_writers_add(writers, ok);
		reap(ok);
	}
	assert_int_equal(gpufs_writers_end(writers), kernel_keeps_exit_status() ? SIGTERM : 0);

	doomed = start_child(-1);
	gpufs_writers_add(writers, doomed);
	kill(doomed, SIGTERM);
	wait_dead(doomed);
	gpufs_writers_forget(writers);
	assert_int_equal(gpufs_writers_end(writers), 0);
	reap(doomed);
	gpufs_writers_free(writers);
}

struct thread_pipes {
	int ids;   /* the thread writes its id here */
	int start; /* a byte read here: the thread calls exit(0) */
};

static void *second_thread(void *data)
{
	const struct thread_pipes *pipes = data;
	pid_t tid = (pid_t)syscall(SYS_gettid);
	char byte;

	if (write(pipes->ids, &tid, sizeof(tid)) != sizeof(tid))
		_exit(1);
	if (read(pipes->start, &byte, 1) == 1)
		exit(0);
	for (;;)
		pause();
	return NULL;
}

/* A child with a second thread; *tid is that thread's id, and a byte
 * written to *go makes that thread end the process with exit(0). */
static pid_t start_child_thread(pid_t *tid, int *go)
{
	int ids[2], start[2];
	pid_t pid;

	assert_int_equal(pipe(ids), 0);
	assert_int_equal(pipe(start), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct thread_pipes pipes = {ids[1], start[0]};
		pthread_t thread;

		child_signals();
		if (pthread_create(&thread, NULL, second_thread, &pipes) != 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(ids[1]);
	close(start[0]);
	assert_int_equal(read(ids[0], tid, sizeof(*tid)), sizeof(*tid));
	close(ids[0]);
	*go = start[1];
	return pid;
}

/* A write from a thread other than the main one follows its process. */
static void test_thread_is_its_process(void **state)
{
	struct gpufs_writers *writers = gpufs_writers_new();
	pid_t tid;
	int go;
	pid_t child = start_child_thread(&tid, &go);

	(void)state;
	assert_int_not_equal(tid, child);
	gpufs_writers_add(writers, 0); /* not known: ignored */
	gpufs_writers_add(writers, tid);
	kill(child, SIGHUP);
	wait_dead(child);
	assert_int_equal(gpufs_writers_end(writers), SIGHUP);
	reap(child);
	close(go);
	gpufs_writers_free(writers);
}

/* exit(2) in a thread other than the main one kills the main thread
 * through the signal path, which marks it PF_SIGNALED: still a writer
 * that finished. */
static void test_exit_from_thread_is_not_killed(void **state)
{
	struct gpufs_writers *writers = gpufs_writers_new();
	pid_t tid;
	int go;
	pid_t child = start_child_thread(&tid, &go);

	(void)state;
	gpufs_writers_add(writers, tid);
	assert_int_equal(write(go, "x", 1), 1);
	wait_dead(child);
	assert_int_equal(gpufs_writers_end(writers), 0);
	reap(child);
	close(go);
	gpufs_writers_free(writers);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alive_is_not_killed),
	    cmocka_unit_test(test_killed_before_reap),
	    cmocka_unit_test(test_killed_after_reap),
	    cmocka_unit_test(test_exit_is_not_killed),
	    cmocka_unit_test(test_killed_is_remembered),
	    cmocka_unit_test(test_thread_is_its_process),
	    cmocka_unit_test(test_exit_from_thread_is_not_killed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
