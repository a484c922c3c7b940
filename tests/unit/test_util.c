/* Number, time and lenient JSON helpers (util.c). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>
#include "gpufs/util.h"

static void assert_text(char *text, const char *expected)
{
	if (!expected) {
		assert_null(text);
		return;
	}
	assert_non_null(text);
	assert_string_equal(text, expected);
	g_free(text);
}

static void test_format_number(void **state)
{
	assert_text(gpufs_format_number(2.49), "2.49");
	assert_text(gpufs_format_number(0.402), "0.402");
	assert_text(gpufs_format_number(1.0020740740740741), "1.0020740740740741");
	assert_text(gpufs_format_number(16), "16");
	assert_text(gpufs_format_number(0.00002), "0.00002");
	assert_text(gpufs_format_number(0.000123), "0.000123");
	assert_text(gpufs_format_number(-3.5), "-3.5");
	assert_text(gpufs_format_number(0), "0");
	assert_text(gpufs_format_number(-0.0), "0");
	assert_text(gpufs_format_number(100), "100");
	assert_text(gpufs_format_number(35000), "35000");
	assert_text(gpufs_format_number(1e20), "100000000000000000000");
	assert_text(gpufs_format_number(0.1 + 0.2), "0.30000000000000004");
	assert_text(gpufs_format_number(1e300), "1e+300");
	assert_text(gpufs_format_number(NAN), NULL);
	assert_text(gpufs_format_number(INFINITY), NULL);
}

/* Whatever the value, the text reads back as exactly that value. */
static void test_format_number_round_trips(void **state)
{
	const double values[] = {
	    1.0 / 3, 2.0 / 3, 123456.789, 9007199254740993.0, 5e-324, 1.7976931348623157e308,
	    0.1,     42.5,    1e-7};

	for (gsize i = 0; i < G_N_ELEMENTS(values); i++) {
		char *text = gpufs_format_number(values[i]);

		assert_non_null(text);
		assert_true(g_ascii_strtod(text, NULL) == values[i]);
		assert_null(strchr(text, ','));
		g_free(text);
	}
}

static void test_format_integer(void **state)
{
	assert_text(gpufs_format_integer(16), "16");
	assert_text(gpufs_format_integer(16.0), "16");
	assert_text(gpufs_format_integer(-4), "-4");
	assert_text(gpufs_format_integer(0), "0");
	assert_text(gpufs_format_integer(1048576), "1048576");
	assert_text(gpufs_format_integer(2.5), NULL);
	assert_text(gpufs_format_integer(NAN), NULL);
	assert_text(gpufs_format_integer(-INFINITY), NULL);
	assert_text(gpufs_format_integer(1e30), NULL);
}

static void test_format_epoch(void **state)
{
	assert_text(gpufs_format_epoch(0), "1970-01-01T00:00:00Z");
	assert_text(gpufs_format_epoch(1777629603), "2026-05-01T10:00:03Z");
	assert_text(gpufs_format_epoch(1777629603.999), "2026-05-01T10:00:03Z");
	assert_text(gpufs_format_epoch(-1), "1969-12-31T23:59:59Z");
	assert_text(gpufs_format_epoch(NAN), NULL);
	assert_text(gpufs_format_epoch(1e300), NULL);
}

static void test_normalize_time(void **state)
{
	assert_text(gpufs_normalize_time("2026-05-01T10:00:03Z"), "2026-05-01T10:00:03Z");
	assert_text(gpufs_normalize_time("2026-05-01T10:00:03.123+02:00"), "2026-05-01T08:00:03Z");
	assert_text(gpufs_normalize_time("2026-05-01T10:00:03.999999Z"), "2026-05-01T10:00:03Z");
	assert_text(gpufs_normalize_time("2026-05-01T10:00:03+00:00"), "2026-05-01T10:00:03Z");
	assert_text(gpufs_normalize_time("2026-05-01T01:30:00-05:30"), "2026-05-01T07:00:00Z");
	assert_text(gpufs_normalize_time("2026-05-01 10:00:03Z"), "2026-05-01T10:00:03Z");
	assert_text(gpufs_normalize_time("2026-05-01t10:00:03z"), "2026-05-01T10:00:03Z");
	assert_text(gpufs_normalize_time("  2026-05-01T10:00:03Z\n"), "2026-05-01T10:00:03Z");
	/* No offset: the APIs mean UTC. */
	assert_text(gpufs_normalize_time("2026-05-01T10:00:03"), "2026-05-01T10:00:03Z");
	assert_text(gpufs_normalize_time("2026-05-01"), "2026-05-01T00:00:00Z");
	assert_text(gpufs_normalize_time(""), NULL);
	assert_text(gpufs_normalize_time("yesterday"), NULL);
	assert_text(gpufs_normalize_time("2026-13-45T99:00:00Z"), NULL);
	assert_text(gpufs_normalize_time(NULL), NULL);
}

static json_object *parse(const char *text)
{
	json_object *obj = json_tokener_parse(text);

	assert_non_null(obj);
	return obj;
}

static void test_json_numbers(void **state)
{
	json_object *obj =
	    parse("{\"int\":16,\"dbl\":2.49,\"str\":\"35000\",\"pad\":\" 2.5 \","
		  "\"neg\":\"-1e-5\",\"hex\":\"0x10\",\"inf\":\"inf\",\"nan\":\"nan\","
		  "\"word\":\"sixteen\",\"empty\":\"\",\"null\":null,\"bool\":true,"
		  "\"arr\":[1],\"obj\":{},\"big\":1e400}");
	double value = 0;

	assert_true(gpufs_json_number(obj, "int", &value));
	assert_true(value == 16);
	assert_true(gpufs_json_number(obj, "dbl", &value));
	assert_true(value == 2.49);
	assert_true(gpufs_json_number(obj, "str", &value));
	assert_true(value == 35000);
	assert_true(gpufs_json_number(obj, "pad", &value));
	assert_true(value == 2.5);
	assert_true(gpufs_json_number(obj, "neg", &value));
	assert_true(value == -1e-5);
	assert_true(gpufs_json_number(obj, "int", NULL));

	const char *absent[] = {"hex",	"inf", "nan", "word",	 "empty", "null",
				"bool", "arr", "obj", "missing", "big"};

	for (gsize i = 0; i < G_N_ELEMENTS(absent); i++) {
		value = 7;
		assert_false(gpufs_json_number(obj, absent[i], &value));
		assert_true(value == 7);
	}

	assert_text(gpufs_json_number_text(obj, "dbl"), "2.49");
	assert_text(gpufs_json_number_text(obj, "str"), "35000");
	assert_text(gpufs_json_number_text(obj, "neg"), "-0.00001");
	assert_text(gpufs_json_number_text(obj, "word"), NULL);
	assert_text(gpufs_json_integer_text(obj, "int"), "16");
	assert_text(gpufs_json_integer_text(obj, "str"), "35000");
	assert_text(gpufs_json_integer_text(obj, "pad"), NULL);
	assert_text(gpufs_json_integer_text(obj, "null"), NULL);
	json_object_put(obj);
}

static void test_json_strings_and_bools(void **state)
{
	json_object *obj = parse("{\"s\":\"  h100  \",\"blank\":\" \\t\",\"n\":5,\"null\":null,"
				 "\"t\":true,\"f\":false,\"ts\":\"TRUE\",\"fs\":\" false \","
				 "\"one\":1,\"two\":2,\"junk\":\"yes\",\"o\":{\"x\":1}}");
	gboolean flag = FALSE;

	assert_text(gpufs_json_string(obj, "s"), "h100");
	assert_text(gpufs_json_string(obj, "blank"), NULL);
	assert_text(gpufs_json_string(obj, "n"), NULL);
	assert_text(gpufs_json_string(obj, "null"), NULL);
	assert_text(gpufs_json_string(obj, "missing"), NULL);

	assert_true(gpufs_json_bool(obj, "t", &flag) && flag);
	assert_true(gpufs_json_bool(obj, "f", &flag) && !flag);
	assert_true(gpufs_json_bool(obj, "ts", &flag) && flag);
	assert_true(gpufs_json_bool(obj, "fs", &flag) && !flag);
	assert_true(gpufs_json_bool(obj, "one", &flag) && flag);
	assert_false(gpufs_json_bool(obj, "two", &flag));
	assert_false(gpufs_json_bool(obj, "junk", &flag));
	assert_false(gpufs_json_bool(obj, "null", &flag));
	assert_false(gpufs_json_bool(obj, "missing", &flag));

	assert_non_null(gpufs_json_member(obj, "o", json_type_object));
	assert_null(gpufs_json_member(obj, "o", json_type_array));
	assert_null(gpufs_json_member(obj, "null", json_type_null));
	json_object_put(obj);
}

/* Nothing but objects has members: arrays, scalars and NULL are absent. */
static void test_json_garbage(void **state)
{
	const char *inputs[] = {"[1,2]", "5", "\"text\"", "null", "{\"a\":{\"b\":[]}}"};
	double value;
	gboolean flag;

	for (gsize i = 0; i < G_N_ELEMENTS(inputs); i++) {
		json_object *obj = json_tokener_parse(inputs[i]);

		assert_false(gpufs_json_number(obj, "a", &value));
		assert_false(gpufs_json_bool(obj, "a", &flag));
		assert_null(gpufs_json_member(obj, "a", json_type_string));
		assert_text(gpufs_json_string(obj, "a"), NULL);
		assert_text(gpufs_json_number_text(obj, "a"), NULL);
		assert_text(gpufs_json_integer_text(obj, "a"), NULL);
		assert_false(gpufs_json_number(obj, NULL, &value));
		json_object_put(obj);
	}
	assert_false(gpufs_json_number(NULL, "a", &value));
	assert_text(gpufs_json_string(NULL, "a"), NULL);
}

static void test_json_pretty(void **state)
{
	json_object *obj = parse("{\"a\":1,\"path\":\"/x/y\",\"price\":2.49}");
	char *text = gpufs_json_pretty(obj);

	assert_true(g_str_has_suffix(text, "}\n"));
	assert_non_null(strstr(text, "\"/x/y\""));
	assert_non_null(strstr(text, "2.49"));
	assert_non_null(strchr(text, '\n'));
	g_free(text);
	json_object_put(obj);
	assert_text(gpufs_json_pretty(NULL), "null\n");
}

static void test_parse_long(void **state)
{
	long value = 0;

	assert_true(gpufs_parse_long("16", 1, 64, &value));
	assert_int_equal(value, 16);
	assert_true(gpufs_parse_long("-3", -5, 5, &value));
	assert_int_equal(value, -3);
	assert_true(gpufs_parse_long("007", 1, 64, &value));
	assert_int_equal(value, 7);
	assert_true(gpufs_parse_long("64", 1, 64, NULL));

	const char *bad[] = {"",    "+5",  " 5", "5 ", "5x", "0x10",
			     "1.5", "1e3", "-",	 "65", "0",  "99999999999999999999999"};

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		value = 42;
		assert_false(gpufs_parse_long(bad[i], 1, 64, &value));
		assert_int_equal(value, 42);
	}
	assert_false(gpufs_parse_long(NULL, 1, 64, &value));
}

/* Secrets go at any depth, case-insensitively; the object itself stays. */
static void test_json_redacted(void **state)
{
	json_object *obj = json_tokener_parse(
	    "{\"id\":1,\"Password\":\"p\",\"ssh\":{\"password\":\"q\",\"cmd\":\"ssh x\"},"
	    "\"list\":[{\"jupyter_token\":\"t\",\"k\":2}]}");
	static const char *const secrets[] = {"password", "jupyter_token", NULL};
	char *text = gpufs_json_pretty_redacted(obj, secrets);
	json_object *back = json_tokener_parse(text);
	json_object *expected =
	    json_tokener_parse("{\"id\":1,\"ssh\":{\"cmd\":\"ssh x\"},\"list\":[{\"k\":2}]}");

	assert_true(json_object_equal(back, expected));
	assert_non_null(json_object_object_get(obj, "Password"));
	json_object_put(obj);
	json_object_put(back);
	json_object_put(expected);
	g_free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_number),
	    cmocka_unit_test(test_format_number_round_trips),
	    cmocka_unit_test(test_format_integer),
	    cmocka_unit_test(test_format_epoch),
	    cmocka_unit_test(test_normalize_time),
	    cmocka_unit_test(test_json_numbers),
	    cmocka_unit_test(test_json_strings_and_bools),
	    cmocka_unit_test(test_json_garbage),
	    cmocka_unit_test(test_json_pretty),
	    cmocka_unit_test(test_parse_long),
	    cmocka_unit_test(test_json_redacted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
