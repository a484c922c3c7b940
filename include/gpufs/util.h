/* Small formatting and parsing helpers shared by the provider modules, so that
 * every provider renders numbers, money and times the same way. */
#ifndef GPUFS_UTIL_H
#define GPUFS_UTIL_H

#include <glib.h>
#include <json-c/json.h>

/* Shortest decimal text that reads back as @value ("2.49", "0.402", "16"). */
char *gpufs_format_number(double value);
/* Whole numbers only, for counts and sizes; NULL when not integral. */
char *gpufs_format_integer(double value);
/* RFC 3339 UTC with a Z, whole seconds: "2026-05-01T10:00:03Z". */
char *gpufs_format_epoch(double seconds);
/* Normalises an ISO 8601 / RFC 3339 time to gpufs_format_epoch's form;
 * NULL when it cannot be parsed. */
char *gpufs_normalize_time(const char *text);

/* JSON accessors that accept what real APIs send: a number as a number or a
 * numeric string ("16", "35000"), strings trimmed.  All return FALSE/NULL for
 * absent, null or mistyped members and never abort. */
gboolean gpufs_json_number(json_object *obj, const char *key, double *out);
char *gpufs_json_string(json_object *obj, const char *key); /* trimmed, NULL if empty */
gboolean gpufs_json_bool(json_object *obj, const char *key, gboolean *out);
json_object *gpufs_json_member(json_object *obj, const char *key, json_type type);
/* Text forms, ready for a value file; NULL when absent. */
char *gpufs_json_number_text(json_object *obj, const char *key);
char *gpufs_json_integer_text(json_object *obj, const char *key);
/* The object pretty-printed with a trailing newline. */
char *gpufs_json_pretty(json_object *obj);
/* The same without secrets: members named in @secrets (NULL-terminated,
 * case-insensitive) are left out at any depth.  @obj is not changed. */
char *gpufs_json_pretty_redacted(json_object *obj, const char *const *secrets);

/* Words for a reply whose body says nothing we can read: "HTTP 502: <the
 * body as one short printable line>", or "HTTP 502" for an empty body. */
char *gpufs_reply_status_words(long status, const GString *body);

/* Parses a decimal integer that must consume all of @text; FALSE otherwise. */
gboolean gpufs_parse_long(const char *text, long min, long max, long *out);

#endif
