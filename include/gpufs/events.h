/* The events stream behind /events: one line per observed change, kept in a
 * bounded ring of bytes addressed by absolute offset, so a file position is
 * a place in the stream.  Readers that fall behind the ring read filler
 * comment lines; the writer never waits for a reader. */
#ifndef GPUFS_EVENTS_H
#define GPUFS_EVENTS_H

#include <glib.h>

struct gpufs_events;

/* @capacity: bytes kept (at least one line's worth). */
struct gpufs_events *gpufs_events_new(gsize capacity);
void gpufs_events_free(struct gpufs_events *events);

/* Appends "TIME\tACCOUNT\tID\tFIELD\tOLD\tNEW\n"; tabs and newlines inside
 * values become spaces. */
void gpufs_events_add(struct gpufs_events *events, const char *account, const char *id,
		      const char *field, const char *old_value, const char *new_value);

/* Total bytes ever appended: the file's size. */
guint64 gpufs_events_size(struct gpufs_events *events);
/* Offset of the oldest byte kept. */
guint64 gpufs_events_oldest(struct gpufs_events *events);

/* Up to @size bytes at stream offset @offset, or NULL when nothing is there
 * yet.  Offsets are absolute and the same for every reader, so the kernel's
 * page cache may hold them: bytes older than the ring read as comment lines
 * of '#' and spaces, ending where the oldest kept line starts. */
GBytes *gpufs_events_read(struct gpufs_events *events, guint64 offset, gsize size);

#endif
