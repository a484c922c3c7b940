# What `make install` adds around the programs: a systemd user unit, bash,
# zsh and fish completion, and example scripts.  gpufs-sim has its own local.mk.

systemduserunit_DATA = contrib/systemd/gpufs@.service
CLEANFILES += contrib/systemd/gpufs@.service
EXTRA_DIST += contrib/systemd/gpufs@.service.in

# The unit names programs by their installed paths.
contrib/systemd/gpufs@.service: $(top_srcdir)/contrib/systemd/gpufs@.service.in Makefile
	$(AM_V_GEN)$(MKDIR_P) contrib/systemd && \
	sed -e 's|@bindir[@]|$(bindir)|g' -e 's|@FUSERMOUNT[@]|$(FUSERMOUNT)|g' \
		$(top_srcdir)/contrib/systemd/gpufs@.service.in >$@.tmp && mv $@.tmp $@

dist_bashcompletion_DATA = contrib/completion/gpufs
dist_zshcompletion_DATA = contrib/completion/_gpufs
dist_fishcompletion_DATA = contrib/completion/gpufs.fish

examplesdir = $(docdir)/examples
dist_examples_SCRIPTS = \
	contrib/examples/wait-running.sh \
	contrib/examples/create-cheapest.sh \
	contrib/examples/stop-idle.sh \
	contrib/examples/cost-summary.sh
