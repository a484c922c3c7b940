# libgpufs: everything but the FUSE front and main(), so unit tests link it.
noinst_LIBRARIES += libgpufs.a
libgpufs_a_SOURCES = \
	src/account.c \
	src/blocking.c \
	src/cache.c \
	src/config.c \
	src/events.c \
	src/http.c \
	src/http-internal.h \
	src/log.c \
	src/model.c \
	src/provider.c \
	src/spec.c \
	src/tree.c \
	src/util.c \
	src/watch.c \
	src/writers.c \
	src/providers/runcrate.c \
	src/providers/runcrate.h \
	src/providers/vastai.c \
	src/providers/vastai.h \
	src/providers/novita.c \
	src/providers/novita.h \
	include/gpufs/account.h \
	include/gpufs/blocking.h \
	include/gpufs/cache.h \
	include/gpufs/config.h \
	include/gpufs/events.h \
	include/gpufs/http.h \
	include/gpufs/log.h \
	include/gpufs/model.h \
	include/gpufs/provider.h \
	include/gpufs/spec.h \
	include/gpufs/tree.h \
	include/gpufs/util.h \
	include/gpufs/watch.h \
	include/gpufs/writers.h

GPUFS_LIBS = libgpufs.a $(CURL_LIBS) $(JSONC_LIBS) $(GLIB_LIBS) -lm

bin_PROGRAMS += gpufs
gpufs_SOURCES = src/main.c src/fs.c src/fs.h src/notify.c src/notify.h src/closes.c src/closes.h \
	src/prefill.c src/prefill.h src/stop.c src/stop.h src/loop.c src/loop.h \
	src/dirops.c src/dirops.h
gpufs_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS)
gpufs_LDADD = $(GPUFS_LIBS) $(FUSE_LIBS)
