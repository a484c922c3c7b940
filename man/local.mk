# Manual pages: written by hand in man(7), checked by tests/integration/docs.sh.
dist_man_MANS = \
	man/gpufs.1 \
	man/gpufs.conf.5 \
	man/gpufs-sim.1
