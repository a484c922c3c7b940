# gpufs-sim: the fake provider HTTP server used by the tests, the demo and dry runs.
# GLIB_CFLAGS/JSONC_CFLAGS come with AM_CFLAGS; GLIB_LIBS includes gio and gthread.
bin_PROGRAMS += gpufs-sim
gpufs_sim_SOURCES = \
	contrib/gpufs-sim/main.c \
	contrib/gpufs-sim/server.c \
	contrib/gpufs-sim/server.h \
	contrib/gpufs-sim/http.c \
	contrib/gpufs-sim/http.h \
	contrib/gpufs-sim/sim.c \
	contrib/gpufs-sim/sim.h \
	contrib/gpufs-sim/counts.c \
	contrib/gpufs-sim/fault.c \
	contrib/gpufs-sim/runcrate.c \
	contrib/gpufs-sim/novita.c \
	contrib/gpufs-sim/vastai.c
gpufs_sim_LDADD = $(JSONC_LIBS) $(GLIB_LIBS)
