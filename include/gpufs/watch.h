/* The pollers: one thread per account refreshes its instance list every
 * interval (faster while an instance is changing state), writes what changed
 * to the events stream and asks the tree to notify the kernel.  One list
 * request per account per interval, however many files are open or watched;
 * none while nobody uses the account. */
#ifndef GPUFS_WATCH_H
#define GPUFS_WATCH_H

#include <glib.h>
#include "gpufs/model.h"

struct gpufs_tree;
struct gpufs_events;

struct gpufs_watch_options {
	double poll_s;	    /* steady interval */
	double fast_poll_s; /* while an instance is pending, stopping or terminating */
};

struct gpufs_watch;

/* @accounts: struct gpufs_account *, owned by the tree. */
struct gpufs_watch *gpufs_watch_start(struct gpufs_tree *tree, GPtrArray *accounts,
				      struct gpufs_events *events,
				      const struct gpufs_watch_options *options);
void gpufs_watch_stop(struct gpufs_watch *watch);

/* Compares two listings: one events line per changed common value, and
 * "instance created" / "instance gone" lines; fills @created and @gone with
 * ids (borrowed from the lists).  Exposed for tests. */
void gpufs_watch_diff(struct gpufs_events *events, const char *account,
		      struct gpufs_instance_list *old_list, struct gpufs_instance_list *new_list,
		      GPtrArray *created, GPtrArray *gone);

#endif
