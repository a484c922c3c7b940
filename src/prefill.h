/* Prefill: a value file's bytes go into the kernel's page cache right
 * after its lookup, with FUSE's notify_store, so the read that usually
 * follows (cat of each instance's status after a glob looked it up) is
 * answered by the kernel alone: one request per file instead of two.
 *
 * The kernel makes the inode only once the looking-up process runs again,
 * after our reply, so a store right behind the reply would usually find no
 * inode.  A looked-up file is queued instead and stored by the lookup that
 * comes next; what is never stored costs nothing but its READ.
 *
 * Stores never race a change into the cache: the bytes are the tree's
 * current snapshot, and a snapshot that changed while they were on their
 * way is invalidated again (every change is told to the kernel only after
 * the tree counted it, so a change counted later drops our pages itself). */
#ifndef GPUFS_PREFILL_H
#define GPUFS_PREFILL_H

#include <stdint.h>
#include <fuse_lowlevel.h>
#include "gpufs/tree.h"

struct gpufs_prefill;

/* A store waits for a read already in flight on the same file, which
 * another session thread must answer: with a single-threaded loop pass
 * @enabled FALSE, and nothing is stored. */
struct gpufs_prefill *gpufs_prefill_new(struct fuse_session *session, struct gpufs_tree *tree,
					gboolean enabled);
void gpufs_prefill_free(struct gpufs_prefill *prefill);

/* After a lookup reply: stores the files queued before, then queues @ino.
 * Only one thread stores at a time; another one passing by only queues. */
void gpufs_prefill_looked_up(struct gpufs_prefill *prefill, uint64_t ino);

#endif
