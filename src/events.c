/* The events ring (see events.h). */
#include <string.h>
#include "gpufs/events.h"

struct gpufs_events {
	GMutex lock;
	GCond grown;
	char *ring;
	gsize capacity;
	guint64 end;   /* total bytes ever appended */
	guint64 start; /* oldest byte still in the ring: always a line's start */
	GQueue lines;  /* offsets (guint64 *) where the lines in the ring start */
	guint64 wakes; /* gpufs_events_wake calls: end every wait */
	gint readers;
};

static void ring_put(struct gpufs_events *events, const char *data, gsize len);

/* The stream is never empty: coreutils tail reads an empty regular file to
 * its end like a pipe, and the end of this one never comes.  Lines that
 * start with '#' are comments. */
static void add_header(struct gpufs_events *events)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *when = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	g_autofree char *header = g_strdup_printf(
	    "# gpufs events since %s: TIME ACCOUNT ID FIELD OLD NEW, tab-separated\n", when);

	ring_put(events, header, strlen(header));
}

struct gpufs_events *gpufs_events_new(gsize capacity)
{
	struct gpufs_events *events = g_new0(struct gpufs_events, 1);

	g_mutex_init(&events->lock);
	g_cond_init(&events->grown);
	g_queue_init(&events->lines);
	events->capacity = MAX(capacity, 4096);
	events->ring = g_malloc(events->capacity);
	add_header(events);
	return events;
}

void gpufs_events_free(struct gpufs_events *events)
{
	if (!events)
		return;
	g_free(events->ring);
	g_queue_clear_full(&events->lines, g_free);
	g_cond_clear(&events->grown);
	g_mutex_clear(&events->lock);
	g_free(events);
}

static void append_clean(GString *line, const char *value)
{
	for (const char *p = value ? value : ""; *p; p++)
		g_string_append_c(line, (*p == '\t' || *p == '\n' || *p == '\r') ? ' ' : *p);
}

/* Writes one line at the ring's end; the oldest lines give way whole, so a
 * reader that fell behind resumes at the start of a line. */
static void ring_put(struct gpufs_events *events, const char *data, gsize len)
{
	g_queue_push_tail(&events->lines, g_memdup2(&events->end, sizeof(events->end)));
	for (gsize i = 0; i < len; i++)
		events->ring[(events->end + i) % events->capacity] = data[i];
	events->end += len;
	while (events->end - events->start > events->capacity) {
		g_free(g_queue_pop_head(&events->lines));
		events->start = g_queue_is_empty(&events->lines)
				    ? events->end
				    : *(guint64 *)g_queue_peek_head(&events->lines);
	}
}

void gpufs_events_add(struct gpufs_events *events, const char *account, const char *id,
		      const char *field, const char *old_value, const char *new_value)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_utc();
	g_autofree char *when = g_date_time_format(now, "%Y-%m-%dT%H:%M:%SZ");
	GString *line = g_string_new(when);
	const char *values[] = {account, id, field, old_value, new_value};

	for (guint i = 0; i < G_N_ELEMENTS(values); i++) {
		g_string_append_c(line, '\t');
		append_clean(line, values[i]);
	}
	g_string_append_c(line, '\n');
	g_mutex_lock(&events->lock);
	ring_put(events, line->str, MIN(line->len, events->capacity));
	g_cond_broadcast(&events->grown);
	g_mutex_unlock(&events->lock);
	g_string_free(line, TRUE);
}

guint64 gpufs_events_size(struct gpufs_events *events)
{
	guint64 end;

	g_mutex_lock(&events->lock);
	end = events->end;
	g_mutex_unlock(&events->lock);
	return end;
}

GBytes *gpufs_events_read(struct gpufs_events *events, guint64 *pos, gsize size)
{
	GBytes *bytes = NULL;
	gsize count;
	char *buf;

	g_mutex_lock(&events->lock);
	if (*pos < events->start) {
		guint64 resume = events->start;
		char *lost = g_strdup_printf("# gpufs: %" G_GUINT64_FORMAT
					     " bytes of events lost: this reader fell behind\n",
					     resume - *pos);

		*pos = resume;
		g_mutex_unlock(&events->lock);
		return g_bytes_new_take(lost, strlen(lost));
	}
	if (*pos < events->end && size > 0) {
		count = MIN(size, events->end - *pos);
		buf = g_malloc(count);
		for (gsize i = 0; i < count; i++)
			buf[i] = events->ring[(*pos + i) % events->capacity];
		*pos += count;
		bytes = g_bytes_new_take(buf, count);
	}
	g_mutex_unlock(&events->lock);
	return bytes;
}

gboolean gpufs_events_wait(struct gpufs_events *events, guint64 pos, gint64 timeout_us)
{
	gint64 deadline = g_get_monotonic_time() + timeout_us;
	guint64 wakes;
	gboolean more;

	g_mutex_lock(&events->lock);
	wakes = events->wakes;
	while (events->end <= pos && events->wakes == wakes &&
	       g_cond_wait_until(&events->grown, &events->lock, deadline))
		;
	more = events->end > pos;
	g_mutex_unlock(&events->lock);
	return more;
}

void gpufs_events_wake(struct gpufs_events *events)
{
	g_mutex_lock(&events->lock);
	events->wakes++;
	g_cond_broadcast(&events->grown);
	g_mutex_unlock(&events->lock);
}

void gpufs_events_reader_add(struct gpufs_events *events, int delta)
{
	g_atomic_int_add(&events->readers, delta);
}

gboolean gpufs_events_has_readers(struct gpufs_events *events)
{
	return g_atomic_int_get(&events->readers) > 0;
}

guint64 gpufs_events_oldest(struct gpufs_events *events)
{
	guint64 start;

	g_mutex_lock(&events->lock);
	start = events->start;
	g_mutex_unlock(&events->lock);
	return start;
}
