/* The events stream behind /events: one line per observed change, kept in a
 * bounded ring of bytes addressed by absolute offset, so a file position is
 * a place in the stream.  Readers that fall behind the ring are told so; the
 * writer never waits for a reader. */
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

/* Copies up to @size bytes from stream offset *@pos and advances it.  When
 * *@pos is older than the ring, returns a line saying how much was lost
 * instead, and moves *@pos to the oldest byte kept.  Returns NULL when
 * nothing is there yet. */
GBytes *gpufs_events_read(struct gpufs_events *events, guint64 *pos, gsize size);

/* Waits until the stream is longer than @pos, or @timeout_us passes, or
 * gpufs_events_wake is called.  TRUE when there is more to read. */
gboolean gpufs_events_wait(struct gpufs_events *events, guint64 pos, gint64 timeout_us);
void gpufs_events_wake(struct gpufs_events *events);

/* Readers with the file open: polling goes on while there are any. */
void gpufs_events_reader_add(struct gpufs_events *events, int delta);
gboolean gpufs_events_has_readers(struct gpufs_events *events);

#endif
