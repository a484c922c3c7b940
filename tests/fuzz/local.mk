# libFuzzer targets (clang): the spec parser and each provider's JSON
# mappers.  `make check` runs each for a few seconds over the checked-in
# corpus (tests/fuzz/run.sh, which skips when clang cannot build them);
# `make fuzz FUZZ_TIME=600` runs longer.  Built outside automake's compile
# rules: libFuzzer needs clang, whatever CC is.
FUZZ_CC = clang
FUZZ_TIME = 60
FUZZ_CFLAGS = -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-DHAVE_CONFIG_H -I$(top_builddir) $(AM_CPPFLAGS) -I$(top_srcdir)/src \
	$(GLIB_CFLAGS) $(JSONC_CFLAGS) $(CURL_CFLAGS)
FUZZ_LIBS = $(CURL_LIBS) $(JSONC_LIBS) $(GLIB_LIBS) -lm
FUZZ_SRCS = \
	$(top_srcdir)/src/spec.c \
	$(top_srcdir)/src/util.c \
	$(top_srcdir)/src/model.c \
	$(top_srcdir)/src/provider.c \
	$(top_srcdir)/src/log.c \
	$(top_srcdir)/src/http.c \
	$(top_srcdir)/src/blocking.c \
	$(top_srcdir)/src/providers/runcrate.c \
	$(top_srcdir)/src/providers/vastai.c \
	$(top_srcdir)/src/providers/novita.c
FUZZ_NAMES = spec runcrate vastai novita
FUZZ_TARGETS = tests/fuzz/fuzz_spec tests/fuzz/fuzz_runcrate tests/fuzz/fuzz_vastai \
	tests/fuzz/fuzz_novita

# "yes" when $(FUZZ_CC) can build a libFuzzer program; else the targets are
# empty stand-ins and run.sh skips.
tests/fuzz/have-libfuzzer:
	@mkdir -p tests/fuzz
	@printf 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n);\nint LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }\n' \
		>tests/fuzz/probe.c
	@if $(FUZZ_CC) -fsanitize=fuzzer,address tests/fuzz/probe.c -o tests/fuzz/probe \
		>/dev/null 2>&1; then echo yes; else echo no; fi >$@
	@rm -f tests/fuzz/probe tests/fuzz/probe.c

# Builds TARGET from SOURCE, or an exit-77 stand-in without libFuzzer.
FUZZ_BUILD = FUZZ_CC='$(FUZZ_CC)' FUZZ_CFLAGS='$(FUZZ_CFLAGS)' FUZZ_LIBS='$(FUZZ_LIBS)' \
	FUZZ_SRCS='$(FUZZ_SRCS)' $(SHELL) $(top_srcdir)/tests/fuzz/build.sh

FUZZ_DEPS = tests/fuzz/have-libfuzzer $(FUZZ_SRCS) $(top_srcdir)/tests/fuzz/fuzz-json.h \
	$(top_srcdir)/tests/fuzz/build.sh

tests/fuzz/fuzz_spec: $(top_srcdir)/tests/fuzz/fuzz_spec.c $(FUZZ_DEPS)
	@$(FUZZ_BUILD) $@ $(top_srcdir)/tests/fuzz/fuzz_spec.c
tests/fuzz/fuzz_runcrate: $(top_srcdir)/tests/fuzz/fuzz_runcrate.c $(FUZZ_DEPS)
	@$(FUZZ_BUILD) $@ $(top_srcdir)/tests/fuzz/fuzz_runcrate.c
tests/fuzz/fuzz_vastai: $(top_srcdir)/tests/fuzz/fuzz_vastai.c $(FUZZ_DEPS)
	@$(FUZZ_BUILD) $@ $(top_srcdir)/tests/fuzz/fuzz_vastai.c
tests/fuzz/fuzz_novita: $(top_srcdir)/tests/fuzz/fuzz_novita.c $(FUZZ_DEPS)
	@$(FUZZ_BUILD) $@ $(top_srcdir)/tests/fuzz/fuzz_novita.c

check_SCRIPTS = $(FUZZ_TARGETS)
TESTS += tests/fuzz/run.sh
CLEANFILES += $(FUZZ_TARGETS) tests/fuzz/have-libfuzzer
EXTRA_DIST += tests/fuzz/run.sh tests/fuzz/build.sh tests/fuzz/fuzz-json.h tests/fuzz/fuzz_spec.c \
	tests/fuzz/fuzz_runcrate.c tests/fuzz/fuzz_vastai.c tests/fuzz/fuzz_novita.c \
	tests/fuzz/corpus

# Longer runs by hand: make fuzz [FUZZ_TIME=seconds per target].
fuzz: $(FUZZ_TARGETS)
	FUZZ_BUILDDIR=$(abs_top_builddir) GPUFS_SRCDIR=$(abs_top_srcdir) \
		FUZZ_TIME=$(FUZZ_TIME) $(SHELL) $(top_srcdir)/tests/fuzz/run.sh
.PHONY: fuzz
