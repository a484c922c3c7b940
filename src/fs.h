/* The FUSE front: lowlevel operations that translate to the tree. */
#ifndef GPUFS_FS_H
#define GPUFS_FS_H

#include <fuse_lowlevel.h>

struct gpufs_notifier;

extern const struct fuse_lowlevel_ops gpufs_fs_ops;

/* Before the session loop: the session (to notice its end) and the notifier
 * (to recognise its requests). */
void gpufs_fs_setup(struct fuse_session *session, struct gpufs_notifier *notifier);

#endif
