# The benchmark: `make bench` prints one table (see tests/bench/bench.sh).
# Measure a build without sanitizers: contrib/dev.sh bench does that.
check_PROGRAMS += tests/bench/constfs tests/bench/hotread
tests_bench_constfs_SOURCES = tests/bench/constfs.c
tests_bench_constfs_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS)
tests_bench_constfs_LDADD = $(FUSE_LIBS)
tests_bench_hotread_SOURCES = tests/bench/hotread.c
CLEANFILES += tests/bench/constfs tests/bench/hotread
EXTRA_DIST += tests/bench/bench.sh

bench: gpufs gpufs-sim tests/bench/constfs tests/bench/hotread
	GPUFS=$(abs_top_builddir)/gpufs GPUFS_SIM=$(abs_top_builddir)/gpufs-sim \
	BENCH_BIN=$(abs_top_builddir)/tests/bench GPUFS_SRCDIR=$(abs_top_srcdir) \
	SANITIZED="$(SAN_CFLAGS)" timeout 600 bash $(abs_top_srcdir)/tests/bench/bench.sh

.PHONY: bench
