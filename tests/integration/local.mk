# Integration tests: mount the real daemon against gpufs-sim and use it as a
# user would.  Each runs under an outer timeout and always unmounts.
integration_tests = \
	tests/integration/startup.sh \
	tests/integration/read.sh \
	tests/integration/fastpath.sh \
	tests/integration/stop.sh \
	tests/integration/create.sh \
	tests/integration/killed-writer.sh \
	tests/integration/bad-input.sh \
	tests/integration/readonly.sh \
	tests/integration/single-flight.sh \
	tests/integration/faults.sh \
	tests/integration/budget.sh \
	tests/integration/secrets.sh \
	tests/integration/stress.sh \
	tests/integration/novita.sh \
	tests/integration/vastai.sh \
	tests/integration/live.sh \
	tests/integration/docs.sh \
	tests/integration/examples.sh \
	tests/integration/install.sh \
	tests/integration/bench-smoke.sh

TESTS += $(integration_tests)
check_PROGRAMS += tests/integration/pollwait
tests_integration_pollwait_SOURCES = tests/integration/pollwait.c
EXTRA_DIST += tests/integration/lib.sh $(integration_tests) tests/integration/bad-specs \
	tests/integration/zsh-complete.zsh
TEST_EXTENSIONS = .sh
SH_LOG_COMPILER = timeout
AM_SH_LOG_FLAGS = --kill-after=10 180 bash
AM_TESTS_ENVIRONMENT = \
	GPUFS=$(abs_top_builddir)/gpufs; export GPUFS; \
	GPUFS_SIM=$(abs_top_builddir)/gpufs-sim; export GPUFS_SIM; \
	GPUFS_SRCDIR=$(abs_top_srcdir); export GPUFS_SRCDIR; \
	POLLWAIT=$(abs_top_builddir)/tests/integration/pollwait; export POLLWAIT; \
	GPUFS_BUILDDIR=$(abs_top_builddir); export GPUFS_BUILDDIR; \
	GPUFS_BINDIR=$(bindir); export GPUFS_BINDIR;
