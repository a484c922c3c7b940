/* The FUSE front: lowlevel operations that translate to the tree. */
#ifndef GPUFS_FS_H
#define GPUFS_FS_H

#include <fuse_lowlevel.h>

extern const struct fuse_lowlevel_ops gpufs_fs_ops;

#endif
