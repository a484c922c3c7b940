/* The live tree's pure parts: the events ring and the diff of two listings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "gpufs/events.h"
#include "gpufs/watch.h"

static char *read_all(struct gpufs_events *events, guint64 *pos)
{
	GString *text = g_string_new(NULL);
	GBytes *bytes;

	while ((bytes = gpufs_events_read(events, *pos, 7))) { /* odd sizes on purpose */
		gsize len;
		const char *data = g_bytes_get_data(bytes, &len);

		g_string_append_len(text, data, len);
		*pos += len;
		g_bytes_unref(bytes);
	}
	return g_string_free(text, FALSE);
}

/* Drops the leading '#' header line and the times: what the tests compare. */
static char *fields_of(const char *text)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	GString *out = g_string_new(NULL);

	for (int i = 0; lines[i]; i++) {
		const char *tab = strchr(lines[i], '\t');

		if (lines[i][0] == '#' || !tab)
			continue;
		g_string_append_printf(out, "%s\n", tab + 1);
	}
	return g_string_free(out, FALSE);
}

static void test_stream(void **state)
{
	struct gpufs_events *events = gpufs_events_new(4096);
	guint64 pos = 0;
	g_autofree char *first = NULL;
	g_autofree char *fields = NULL;
	guint64 header;

	first = read_all(events, &pos);
	assert_true(g_str_has_prefix(first, "# gpufs events since "));
	header = gpufs_events_size(events);
	assert_true(header > 0); /* never empty: tail reads an empty file like a pipe */
	assert_int_equal(pos, header);
	assert_null(gpufs_events_read(events, pos, 100)); /* nothing more yet */

	gpufs_events_add(events, "rc", "i1", "status", "pending", "running");
	gpufs_events_add(events, "rc", "i1", "ip", NULL, "1.2.3.4");
	gpufs_events_add(events, "rc", "i\t2", "name", "a\nb", "c");
	g_free(first);
	first = read_all(events, &pos);
	fields = fields_of(first);
	assert_string_equal(fields, "rc\ti1\tstatus\tpending\trunning\n"
				    "rc\ti1\tip\t\t1.2.3.4\n"
				    "rc\ti 2\tname\ta b\tc\n");
	assert_true(g_regex_match_simple("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\trc\\t",
					 first, G_REGEX_MULTILINE, 0));
	assert_int_equal(pos, gpufs_events_size(events));
	gpufs_events_free(events);
}

/* Bytes the ring dropped read as comment lines, so offsets stay the same for
 * every reader and a late one resumes at the start of a kept line. */
static void test_slow_reader_reads_filler(void **state)
{
	struct gpufs_events *events = gpufs_events_new(4096);
	guint64 pos = 0;
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	guint64 oldest;
	guint filler = 0, kept = 0;

	for (int i = 0; i < 200; i++) /* about 10 KiB: more than the ring holds */
		gpufs_events_add(events, "rc", "instance-id", "status", "pending", "running");
	oldest = gpufs_events_oldest(events);
	assert_true(oldest > 0);
	text = read_all(events, &pos);
	assert_int_equal(pos, gpufs_events_size(events));
	assert_int_equal(strlen(text), pos);
	assert_int_equal(text[oldest - 1], '\n');
	lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i + 1]; i++) {
		if (g_regex_match_simple("\\A# *\\z", lines[i], 0, 0)) {
			assert_int_equal(kept, 0); /* filler only before the kept lines */
			filler++;
			continue;
		}
		assert_true(g_regex_match_simple("\\A\\d{4}-.*\\trc\\tinstance-id\\tstatus\\t"
						 "pending\\trunning\\z",
						 lines[i], 0, 0));
		kept++;
	}
	assert_true(filler > 0 && kept > 0);
	/* Any offset reads the same bytes as a whole read did. */
	for (guint64 at = 0; at + 100 < pos; at += 61) {
		GBytes *piece = gpufs_events_read(events, at, 100);

		assert_memory_equal(g_bytes_get_data(piece, NULL), text + at, 100);
		g_bytes_unref(piece);
	}
	assert_null(gpufs_events_read(events, pos, 100));
	gpufs_events_free(events);
}

static struct gpufs_instance *instance(const char *id, const char *status, const char *ip)
{
	struct gpufs_instance *inst = gpufs_instance_new(0);

	gpufs_instance_set(inst, GPUFS_F_ID, id);
	gpufs_instance_set(inst, GPUFS_F_STATUS, status);
	gpufs_instance_set(inst, GPUFS_F_IP, ip);
	return inst;
}

static void test_diff(void **state)
{
	struct gpufs_events *events = gpufs_events_new(65536);
	struct gpufs_instance_list *before = gpufs_instance_list_new();
	struct gpufs_instance_list *after = gpufs_instance_list_new();
	g_autoptr(GPtrArray) created = g_ptr_array_new();
	g_autoptr(GPtrArray) gone = g_ptr_array_new();
	g_autofree char *text = NULL;
	g_autofree char *fields = NULL;
	guint64 pos = 0;

	g_ptr_array_add(before->items, instance("a", "pending", NULL));
	g_ptr_array_add(before->items, instance("b", "running", "10.0.0.2"));
	g_ptr_array_add(before->items, instance("c", "running", "10.0.0.3"));
	g_ptr_array_add(after->items, instance("a", "running", "10.0.0.1"));
	g_ptr_array_add(after->items, instance("b", "running", "10.0.0.2"));
	g_ptr_array_add(after->items, instance("d", "pending", NULL));

	gpufs_watch_diff(events, "rc", before, after, created, gone);
	text = read_all(events, &pos);
	fields = fields_of(text);
	assert_string_equal(fields, "rc\ta\tstatus\tpending\trunning\n"
				    "rc\ta\tip\t\t10.0.0.1\n"
				    "rc\td\tinstance\t\tcreated\n"
				    "rc\tc\tinstance\t\tgone\n");
	assert_int_equal(created->len, 1);
	assert_string_equal(created->pdata[0], "d");
	assert_int_equal(gone->len, 1);
	assert_string_equal(gone->pdata[0], "c");
	gpufs_instance_list_unref(before);
	gpufs_instance_list_unref(after);
	gpufs_events_free(events);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_slow_reader_reads_filler),
	    cmocka_unit_test(test_diff),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
