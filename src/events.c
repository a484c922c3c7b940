/* The events ring (see events.h). */
#include <string.h>
#include "gpufs/events.h"

struct gpufs_events {
	GMutex lock;
	char *ring;
	gsize capacity;
	guint64 end;   /* total bytes ever appended */
	guint64 start; /* oldest byte still in the ring: always a line's start */
	GQueue lines;  /* offsets (guint64 *) where the lines in the ring start */
};

/* Filler for bytes the ring no longer holds comes in lines this long. */
#define FILLER_LINE 64

static void ring_put(struct gpufs_events *events, const char *data, gsize len);

/* The stream is never empty, so `test -s events` and tools that treat an
 * empty file specially behave.  Lines that start with '#' are comments. */
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

/* The byte at @x < @start, where the ring begins: lines of FILLER_LINE
 * bytes, '#' first and '\n' last; the final line ends at @start - 1 and
 * takes in a lone '\n', so no line is empty. */
static char filler_byte(guint64 x, guint64 start)
{
	guint64 last = start - 1;
	guint64 final_line = last / FILLER_LINE;
	guint64 line;

	if (last % FILLER_LINE == 0 && final_line > 0)
		final_line--;
	line = MIN(x / FILLER_LINE, final_line);
	if (x == last || (line < final_line && x % FILLER_LINE == FILLER_LINE - 1))
		return '\n';
	return x == line * FILLER_LINE ? '#' : ' ';
}

GBytes *gpufs_events_read(struct gpufs_events *events, guint64 offset, gsize size)
{
	gsize count;
	char *buf;

	g_mutex_lock(&events->lock);
	if (offset >= events->end || size == 0) {
		g_mutex_unlock(&events->lock);
		return NULL;
	}
	count = MIN(size, events->end - offset);
	buf = g_malloc(count);
	for (gsize i = 0; i < count; i++) {
		guint64 x = offset + i;

		buf[i] = x < events->start ? filler_byte(x, events->start)
					   : events->ring[x % events->capacity];
	}
	g_mutex_unlock(&events->lock);
	return g_bytes_new_take(buf, count);
}

guint64 gpufs_events_oldest(struct gpufs_events *events)
{
	guint64 start;

	g_mutex_lock(&events->lock);
	start = events->start;
	g_mutex_unlock(&events->lock);
	return start;
}
