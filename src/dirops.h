/* Parallel lookups and readdirs in one directory.
 *
 * Unless the INIT reply carries FUSE_PARALLEL_DIROPS, the kernel lets one
 * LOOKUP or READDIR of a directory reach the daemon at a time: while one
 * instance is fetched from a slow provider, every other new name in that
 * instances/ waits behind it, and an `ls` of it too.  gpufs's handlers
 * take their own locks, so they may run side by side. */
#ifndef GPUFS_DIROPS_H
#define GPUFS_DIROPS_H

#include <fuse_lowlevel.h>

/* From the init handler: asks for parallel directory operations. */
void gpufs_dirops_want(struct fuse_conn_info *conn);
/* After the mount, before the loop: makes sure the kernel hears of it. */
void gpufs_dirops_enable(struct fuse_session *session);

#endif
