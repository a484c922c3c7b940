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
 * A store never outlives a change: the bytes are the tree's current
 * snapshot, and every change is told to the kernel only after the tree
 * counted it, so a change counted after the store drops our pages itself;
 * one counted while the bytes were on their way is told again.
 *
 * A store waits for a read already in flight on the same file, which
 * another session thread must answer: the loop must not stop answering
 * while one waits (gpufs_prefill_stop), and with a single-threaded loop
 * nothing is stored. */
#ifndef GPUFS_PREFILL_H
#define GPUFS_PREFILL_H

#include <stdint.h>
#include <fuse_lowlevel.h>
#include "gpufs/tree.h"

struct gpufs_prefill;

/* @enabled FALSE (a single-threaded loop): nothing is stored. */
struct gpufs_prefill *gpufs_prefill_new(struct fuse_session *session, struct gpufs_tree *tree,
					gboolean enabled);
void gpufs_prefill_free(struct gpufs_prefill *prefill);

/* After a lookup reply: stores the files queued before, then queues @ino.
 * Only one thread stores at a time; another one passing by only queues. */
void gpufs_prefill_looked_up(struct gpufs_prefill *prefill, uint64_t ino);
/* A READ for @ino came: the kernel fills its cache itself. */
void gpufs_prefill_read(struct gpufs_prefill *prefill, uint64_t ino);
/* Before the session loop ends: no store starts any more, and the one in
 * flight has ended when this returns.  Takes the prefill as void *. */
void gpufs_prefill_stop(void *prefill);

#endif
