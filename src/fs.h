/* The FUSE front: lowlevel operations that translate to the tree. */
#ifndef GPUFS_FS_H
#define GPUFS_FS_H

#include <fuse_lowlevel.h>

struct gpufs_notifier;
struct gpufs_closes;
struct gpufs_prefill;

extern const struct fuse_lowlevel_ops gpufs_fs_ops;

/* Before the session loop: the notifier (to recognise its requests), the
 * spec close watcher (whether opens and flushes can be turned off) and the
 * page cache prefill after lookups. */
void gpufs_fs_setup(struct gpufs_notifier *notifier, struct gpufs_closes *closes,
		    struct gpufs_prefill *prefill);

#endif
