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

/* A child that waits to be killed, or exits with @status when @status >= 0. */
static pid_t start_child(int status)
{
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		if (status >= 0)
			_exit(status);
		for (;;)
			pause();
	}
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

/* pidfs keeps the exit status of a reaped process from Linux 6.15 on. */
static gboolean kernel_keeps_exit_status(void)
{
	struct {
		guint64 mask, cgroupid;
		guint32 ids[11];
		gint32 exit_code;
	} info = {.mask = 1ULL << 3};
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	gboolean keeps = pidfd >= 0 && ioctl(pidfd, _IOWR(0xFF, 11, info), &info) == 0;

	if (pidfd >= 0)
		close(pidfd);
	return keeps;
}

static gboolean killed(struct gpufs_writers *writers, int *signo)
{
	*signo = -1;
	return gpufs_writers_killed(writers, signo);
}

static void test_alive_is_not_killed(void **state)
{
	struct gpufs_writers *writers = gpufs_writers_new();
	pid_t child = start_child(-1);
	int signo;

	(void)state;
	gpufs_writers_add(writers, child);
	assert_false(killed(writers, &signo));
	assert_int_equal(signo, 0);
	kill(child, SIGKILL);
	reap(child);
	gpufs_writers_free(writers);
}

static void test_killed_before_reap(void **state)
{
	struct gpufs_writers *writers = gpufs_writers_new();
	pid_t child = start_child(-1);
	int signo;

	(void)state;
	gpufs_writers_add(writers, child);
	kill(child, SIGINT);
	wait_dead(child);
	assert_true(killed(writers, &signo));
	assert_int_equal(signo, SIGINT);
	reap(child);
	gpufs_writers_free(writers);
}

static void test_killed_after_reap(void **state)
{
	struct gpufs_writers *writers = gpufs_writers_new();
	pid_t child = start_child(-1);
	int signo;

	(void)state;
	gpufs_writers_add(writers, child);
	kill(child, SIGKILL);
	reap(child);
	if (!kernel_keeps_exit_status()) {
		assert_false(killed(writers, &signo)); /* unknowable: it counts as finished */
		gpufs_writers_free(writers);
		skip();
	}
	assert_true(killed(writers, &signo));
	assert_int_equal(signo, SIGKILL);
	gpufs_writers_free(writers);
}

static void test_exit_is_not_killed(void **state)
{
	struct gpufs_writers *writers = gpufs_writers_new();
	pid_t ok = start_child(0);
	pid_t failed = start_child(3);
	int signo;

	(void)state;
	gpufs_writers_add(writers, ok);
	gpufs_writers_add(writers, failed);
	wait_dead(ok);
	wait_dead(failed);
	assert_false(killed(writers, &signo)); /* zombies */
	reap(ok);
	reap(failed);
	assert_false(killed(writers, &signo)); /* reaped */
	gpufs_writers_free(writers);
}

/* One killed writer among finished ones is enough; a restart forgets it. */
static void test_any_and_clear(void **state)
{
	struct gpufs_writers *writers = gpufs_writers_new();
	pid_t ok = start_child(0);
	pid_t doomed = start_child(-1);
	int signo;

	(void)state;
	gpufs_writers_add(writers, ok);
	gpufs_writers_add(writers, doomed);
	gpufs_writers_add(writers, doomed); /* the same writer twice counts once */
	kill(doomed, SIGTERM);
	wait_dead(ok);
	wait_dead(doomed);
	assert_true(killed(writers, &signo));
	assert_int_equal(signo, SIGTERM);
	gpufs_writers_clear(writers);
	assert_false(killed(writers, &signo));
	reap(ok);
	reap(doomed);
	gpufs_writers_free(writers);
}

static void *sleep_forever(void *tid_pipe)
{
	pid_t tid = (pid_t)syscall(SYS_gettid);

	if (write(*(int *)tid_pipe, &tid, sizeof(tid)) != sizeof(tid))
		_exit(1);
	for (;;)
		pause();
	return NULL;
}

/* A child whose second thread waits to be killed; *tid is that thread's. */
static pid_t start_child_thread(pid_t *tid)
{
	int fds[2];
	pid_t pid;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		pthread_t thread;

		close(fds[0]);
		if (pthread_create(&thread, NULL, sleep_forever, &fds[1]) != 0)
			_exit(1);
		for (;;)
			pause();
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], tid, sizeof(*tid)), sizeof(*tid));
	close(fds[0]);
	return pid;
}

/* A write from a thread other than the main one follows its process. */
static void test_thread_is_its_process(void **state)
{
	struct gpufs_writers *writers = gpufs_writers_new();
	pid_t tid;
	pid_t child = start_child_thread(&tid);
	int signo;

	(void)state;
	assert_int_not_equal(tid, child);
	gpufs_writers_add(writers, 0); /* not known: ignored */
	gpufs_writers_add(writers, tid);
	assert_false(killed(writers, &signo));
	kill(child, SIGHUP);
	wait_dead(child);
	assert_true(killed(writers, &signo));
	assert_int_equal(signo, SIGHUP);
	reap(child);
	gpufs_writers_free(writers);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_alive_is_not_killed),
	    cmocka_unit_test(test_killed_before_reap),
	    cmocka_unit_test(test_killed_after_reap),
	    cmocka_unit_test(test_exit_is_not_killed),
	    cmocka_unit_test(test_any_and_clear),
	    cmocka_unit_test(test_thread_is_its_process),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
