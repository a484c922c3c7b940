# cmocka unit tests: parsers, mappers, cache.  Fixtures live in tests/unit/fixtures.
UNIT_LDADD = $(GPUFS_LIBS) $(CMOCKA_LIBS)
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) -DFIXTURES_DIR='"$(abs_top_srcdir)/tests/unit/fixtures"'

unit_tests = \
	tests/unit/test_util \
	tests/unit/test_spec \
	tests/unit/test_runcrate \
	tests/unit/test_vastai \
	tests/unit/test_novita \
	tests/unit/test_cache \
	tests/unit/test_watch \
	tests/unit/test_config \
	tests/unit/test_writers

check_PROGRAMS += $(unit_tests)
TESTS += $(unit_tests)

tests_unit_test_util_SOURCES = tests/unit/test_util.c
tests_unit_test_util_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_util_LDADD = $(UNIT_LDADD)
tests_unit_test_spec_SOURCES = tests/unit/test_spec.c
tests_unit_test_spec_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_spec_LDADD = $(UNIT_LDADD)
tests_unit_test_runcrate_SOURCES = tests/unit/test_runcrate.c tests/unit/canned.c tests/unit/canned.h
tests_unit_test_runcrate_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_runcrate_LDADD = $(UNIT_LDADD)
tests_unit_test_vastai_SOURCES = tests/unit/test_vastai.c tests/unit/canned.c tests/unit/canned.h
tests_unit_test_vastai_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_vastai_LDADD = $(UNIT_LDADD)
tests_unit_test_novita_SOURCES = tests/unit/test_novita.c tests/unit/canned.c tests/unit/canned.h
tests_unit_test_novita_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_novita_LDADD = $(UNIT_LDADD)
tests_unit_test_watch_SOURCES = tests/unit/test_watch.c
tests_unit_test_watch_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_watch_LDADD = $(UNIT_LDADD)
tests_unit_test_cache_SOURCES = tests/unit/test_cache.c
tests_unit_test_cache_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_cache_LDADD = $(UNIT_LDADD)
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LDADD)
tests_unit_test_writers_SOURCES = tests/unit/test_writers.c
tests_unit_test_writers_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_writers_LDADD = $(UNIT_LDADD) -lpthread

EXTRA_DIST += tests/unit/fixtures
