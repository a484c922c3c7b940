/* Formatting and lenient parsing shared by the provider modules, so that every
 * provider renders numbers, money and times the same way. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "gpufs/util.h"

/* Beyond this decimal exponent a plain decimal is no longer readable, so the
 * exponent form stays (the same bound JavaScript uses). */
#define PLAIN_EXPONENT_MAX 21
#define PLAIN_EXPONENT_MIN -21

/* "%.<precision-1>e" of @value, always with '.', into @buf. */
static void format_exponent(char *buf, gsize size, int precision, double value)
{
	char format[16];

	g_snprintf(format, sizeof(format), "%%.%de", precision - 1);
	g_ascii_formatd(buf, size, format, value);
}

/* Writes the digits and exponent of an "d.ddde+XX" text as a plain decimal. */
static char *plain_from_exponent(const char *text)
{
	GString *digits = g_string_new(NULL);
	GString *out = g_string_new(NULL);
	const char *p = text;
	long exponent;

	if (*p == '-') {
		g_string_append_c(out, '-');
		p++;
	}
	for (; *p && *p != 'e'; p++)
		if (g_ascii_isdigit(*p))
			g_string_append_c(digits, *p);
	exponent = *p == 'e' ? strtol(p + 1, NULL, 10) : 0;

	/* The point goes after digit number exponent+1. */
	long point = exponent + 1;

	if (point <= 0) {
		g_string_append(out, "0.");
		for (long i = point; i < 0; i++)
			g_string_append_c(out, '0');
		g_string_append(out, digits->str);
	} else if ((gsize)point >= digits->len) {
		g_string_append(out, digits->str);
		for (long i = (long)digits->len; i < point; i++)
			g_string_append_c(out, '0');
	} else {
		g_string_append_len(out, digits->str, point);
		g_string_append_c(out, '.');
		g_string_append(out, digits->str + point);
	}
	g_string_free(digits, TRUE);
	return g_string_free(out, FALSE);
}

char *gpufs_format_number(double value)
{
	char buf[G_ASCII_DTOSTR_BUF_SIZE + 32];
	int precision;

	if (!isfinite(value))
		return NULL;
	if (value == 0)
		return g_strdup("0"); /* also for -0 */
	for (precision = 1; precision < 17; precision++) {
		format_exponent(buf, sizeof(buf), precision, value);
		if (g_ascii_strtod(buf, NULL) == value)
			break;
	}
	if (precision == 17)
		format_exponent(buf, sizeof(buf), precision, value);

	const char *e = strchr(buf, 'e');
	long exponent = e ? strtol(e + 1, NULL, 10) : 0;

	if (exponent > PLAIN_EXPONENT_MAX || exponent < PLAIN_EXPONENT_MIN) {
		char format[16];

		g_snprintf(format, sizeof(format), "%%.%dg", precision);
		return g_strdup(g_ascii_formatd(buf, sizeof(buf), format, value));
	}
	return plain_from_exponent(buf);
}

char *gpufs_format_integer(double value)
{
	/* 2^63: the first double that no longer fits a gint64. */
	if (!isfinite(value) || value >= 9223372036854775808.0 || value < -9223372036854775808.0)
		return NULL;
	if (value != (double)(gint64)value)
		return NULL;
	if (value == 0)
		return g_strdup("0");
	return g_strdup_printf("%" G_GINT64_FORMAT, (gint64)value);
}

char *gpufs_format_epoch(double seconds)
{
	GDateTime *time;
	char *text;

	/* g_date_time_new_from_unix_utc() takes years 1..9999 only. */
	if (!isfinite(seconds) || seconds < -62135596800.0 || seconds > 253402300799.0)
		return NULL;
	gint64 whole = (gint64)seconds;

	/* Drop the fraction towards the past, also before 1970 (floor()
	 * without libm). */
	if ((double)whole > seconds)
		whole--;
	time = g_date_time_new_from_unix_utc(whole);
	if (!time)
		return NULL;
	text = g_date_time_format(time, "%Y-%m-%dT%H:%M:%SZ");
	g_date_time_unref(time);
	return text;
}

/* "2026-05-01" alone: a date means its midnight, in UTC. */
static gboolean is_bare_date(const char *text)
{
	static const char shape[] = "dddd-dd-dd";

	if (strlen(text) != sizeof(shape) - 1)
		return FALSE;
	for (gsize i = 0; shape[i]; i++)
		if (shape[i] == 'd' ? !g_ascii_isdigit(text[i]) : text[i] != shape[i])
			return FALSE;
	return TRUE;
}

char *gpufs_normalize_time(const char *text)
{
	GTimeZone *utc;
	GDateTime *time;
	char *upper, *result;

	if (!text)
		return NULL;
	/* RFC 3339 allows a lower-case 't' and 'z'; GLib takes upper case only. */
	upper = g_strstrip(g_ascii_strup(text, -1));
	if (is_bare_date(upper)) {
		char *midnight = g_strconcat(upper, "T00:00:00Z", NULL);

		g_free(upper);
		upper = midnight;
	}
	/* A time without an offset is taken as UTC, which is what APIs mean. */
	utc = g_time_zone_new_utc();
	time = *upper ? g_date_time_new_from_iso8601(upper, utc) : NULL;
	g_time_zone_unref(utc);
	g_free(upper);
	if (!time)
		return NULL;
	/* Whole seconds: the fraction is dropped, not rounded. */
	result = gpufs_format_epoch((double)g_date_time_to_unix(time));
	g_date_time_unref(time);
	return result;
}

json_object *gpufs_json_member(json_object *obj, const char *key, json_type type)
{
	json_object *member = NULL;

	if (!obj || !key || !json_object_is_type(obj, json_type_object))
		return NULL;
	if (!json_object_object_get_ex(obj, key, &member) || !member)
		return NULL;
	return json_object_is_type(member, type) ? member : NULL;
}

/* A plain decimal number: [-+]digits[.digits][e[-+]digits], nothing else.
 * g_ascii_strtod alone would also take "0x10", "inf" and "nan". */
static gboolean is_decimal_number(const char *text)
{
	const char *p = text;
	gboolean digits = FALSE;

	if (*p == '-' || *p == '+')
		p++;
	for (; g_ascii_isdigit(*p); p++)
		digits = TRUE;
	if (*p == '.')
		for (p++; g_ascii_isdigit(*p); p++)
			digits = TRUE;
	if (!digits)
		return FALSE;
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '-' || *p == '+')
			p++;
		if (!g_ascii_isdigit(*p))
			return FALSE;
		while (g_ascii_isdigit(*p))
			p++;
	}
	return *p == '\0';
}

static gboolean number_from_string(const char *string, double *out)
{
	char *text = g_strstrip(g_strdup(string));
	gboolean ok = is_decimal_number(text);
	double value = ok ? g_ascii_strtod(text, NULL) : 0;

	g_free(text);
	if (!ok || !isfinite(value))
		return FALSE;
	*out = value;
	return TRUE;
}

gboolean gpufs_json_number(json_object *obj, const char *key, double *out)
{
	json_object *member;
	double value;

	if (!obj || !key || !json_object_is_type(obj, json_type_object))
		return FALSE;
	if (!json_object_object_get_ex(obj, key, &member) || !member)
		return FALSE;
	switch (json_object_get_type(member)) {
	case json_type_int:
	case json_type_double:
		value = json_object_get_double(member);
		if (!isfinite(value))
			return FALSE;
		break;
	case json_type_string:
		if (!number_from_string(json_object_get_string(member), &value))
			return FALSE;
		break;
	default:
		return FALSE;
	}
	if (out)
		*out = value;
	return TRUE;
}

char *gpufs_json_string(json_object *obj, const char *key)
{
	json_object *member = gpufs_json_member(obj, key, json_type_string);
	char *text;

	if (!member)
		return NULL;
	text = g_strstrip(g_strdup(json_object_get_string(member)));
	if (*text)
		return text;
	g_free(text);
	return NULL;
}

/* Booleans as JSON booleans, and as "true"/"false" or 0/1 for APIs that send
 * them so. */
gboolean gpufs_json_bool(json_object *obj, const char *key, gboolean *out)
{
	json_object *member;
	gboolean value;

	if (!obj || !key || !json_object_is_type(obj, json_type_object))
		return FALSE;
	if (!json_object_object_get_ex(obj, key, &member) || !member)
		return FALSE;
	switch (json_object_get_type(member)) {
	case json_type_boolean:
		value = json_object_get_boolean(member);
		break;
	case json_type_int: {
		gint64 number = json_object_get_int64(member);

		if (number != 0 && number != 1)
			return FALSE;
		value = number == 1;
		break;
	}
	case json_type_string: {
		char *text = g_strstrip(g_strdup(json_object_get_string(member)));
		gboolean known = TRUE;

		if (g_ascii_strcasecmp(text, "true") == 0)
			value = TRUE;
		else if (g_ascii_strcasecmp(text, "false") == 0)
			value = FALSE;
		else
			known = FALSE;
		g_free(text);
		if (!known)
			return FALSE;
		break;
	}
	default:
		return FALSE;
	}
	if (out)
		*out = value;
	return TRUE;
}

char *gpufs_json_number_text(json_object *obj, const char *key)
{
	double value;

	if (!gpufs_json_number(obj, key, &value))
		return NULL;
	return gpufs_format_number(value);
}

char *gpufs_json_integer_text(json_object *obj, const char *key)
{
	double value;

	if (!gpufs_json_number(obj, key, &value))
		return NULL;
	return gpufs_format_integer(value);
}

char *gpufs_json_pretty(json_object *obj)
{
	const char *text = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PRETTY |
								   JSON_C_TO_STRING_NOSLASHESCAPE);

	return g_strconcat(text ? text : "null", "\n", NULL);
}

/* Strict: an optional '-', decimal digits, nothing else: no sign '+', no
 * blanks, no "0x".  Leading zeros are allowed ("007" is 7). */
gboolean gpufs_parse_long(const char *text, long min, long max, long *out)
{
	const char *digits;
	char *end;
	long value;

	if (!text)
		return FALSE;
	digits = text[0] == '-' ? text + 1 : text;
	if (!g_ascii_isdigit(digits[0]))
		return FALSE;
	errno = 0;
	value = strtol(text, &end, 10);
	if (errno || *end != '\0' || value < min || value > max)
		return FALSE;
	if (out)
		*out = value;
	return TRUE;
}

static gboolean is_secret(const char *key, const char *const *secrets)
{
	for (int i = 0; secrets[i]; i++)
		if (g_ascii_strcasecmp(key, secrets[i]) == 0)
			return TRUE;
	return FALSE;
}

static void redact(json_object *obj, const char *const *secrets)
{
	if (json_object_is_type(obj, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(obj); i++)
			redact(json_object_array_get_idx(obj, i), secrets);
		return;
	}
	if (!json_object_is_type(obj, json_type_object))
		return;
	/* Collect first: deleting while iterating is not allowed. */
	g_autoptr(GPtrArray) doomed = g_ptr_array_new_with_free_func(g_free);
	json_object_object_foreach(obj, key, value)
	{
		if (is_secret(key, secrets))
			g_ptr_array_add(doomed, g_strdup(key));
		else
			redact(value, secrets);
	}
	for (guint i = 0; i < doomed->len; i++)
		json_object_object_del(obj, doomed->pdata[i]);
}

char *gpufs_json_pretty_redacted(json_object *obj, const char *const *secrets)
{
	json_object *copy = NULL;
	char *text;

	if (json_object_deep_copy(obj, &copy, NULL) != 0)
		return g_strdup("{}\n");
	redact(copy, secrets);
	text = gpufs_json_pretty(copy);
	json_object_put(copy);
	return text;
}

#define BODY_EXCERPT_MAX 80

/* The body as one short printable line: whitespace runs become one space,
 * anything else unprintable is dropped. */
static char *body_excerpt(const GString *body)
{
	GString *out = g_string_new(NULL);

	for (gsize i = 0; body && i < body->len && out->len < BODY_EXCERPT_MAX; i++) {
		char c = body->str[i];

		if (g_ascii_isspace(c)) {
			if (out->len && out->str[out->len - 1] != ' ')
				g_string_append_c(out, ' ');
		} else if (g_ascii_isprint(c)) {
			g_string_append_c(out, c);
		}
	}
	while (out->len && out->str[out->len - 1] == ' ')
		g_string_truncate(out, out->len - 1);
	if (out->len >= BODY_EXCERPT_MAX) {
		g_string_truncate(out, BODY_EXCERPT_MAX - 3);
		g_string_append(out, "...");
	}
	return g_string_free(out, FALSE);
}

char *gpufs_reply_status_words(long status, const GString *body)
{
	g_autofree char *excerpt = body_excerpt(body);

	if (*excerpt)
		return g_strdup_printf("HTTP %ld: %s", status, excerpt);
	return g_strdup_printf("HTTP %ld", status);
}
