/* The new/ spec language (spec.c): good specs, every refusal, the builder's
 * incremental and poisoned behaviour. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include "gpufs/provider.h"
#include "gpufs/spec.h"

/* A provider of our own, so the spec tests do not depend on Runcrate's keys:
 * it takes "test.flavor" (any value) and "test.size" (digits only). */
static int test_check_spec_key(const char *field, const char *value, char **errmsg)
{
	if (strcmp(field, "flavor") == 0)
		return 0;
	if (strcmp(field, "size") == 0 && strspn(value, "0123456789") == strlen(value))
		return 0;
	*errmsg = g_strdup_printf("test refuses %s", field);
	return -EINVAL;
}

static const struct gpufs_provider test_provider = {
    .name = "test",
    .check_spec_key = test_check_spec_key,
};

static struct gpufs_spec *parse_ok(const struct gpufs_provider *provider, const char *text)
{
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;
	int rc = gpufs_spec_parse(provider, "default-name", text, strlen(text), &spec, &errmsg);

	if (rc != 0)
		fail_msg("spec refused: %s", errmsg);
	assert_non_null(spec);
	assert_null(errmsg);
	return spec;
}

/* Parses @text (with @len bytes), expects @rc and a message containing
 * @message. */
static void parse_fails_len(const struct gpufs_provider *provider, const char *text, gsize len,
			    int rc, const char *message)
{
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;

	assert_int_equal(gpufs_spec_parse(provider, "default-name", text, len, &spec, &errmsg), rc);
	assert_null(spec);
	assert_non_null(errmsg);
	if (!strstr(errmsg, message))
		fail_msg("message \"%s\" lacks \"%s\"", errmsg, message);
	g_free(errmsg);
}

static void parse_fails(const struct gpufs_provider *provider, const char *text,
			const char *message)
{
	parse_fails_len(provider, text, strlen(text), -EINVAL, message);
}

static void test_full_spec(void **state)
{
	struct gpufs_spec *spec =
	    parse_ok(&gpufs_provider_runcrate, "# a training box\r\n"
					       "\r\n"
					       "  name = train-1  \r\n"
					       "offer=bold-tesla-a6000-fa6f\n"
					       "gpu_type=a6000\n"
					       "\t# indented comment\n"
					       "gpu_count=2\n"
					       "region=us-east\n"
					       "image=ubuntu-cuda-devel\n"
					       "disk_gb=200\n"
					       "ssh_key=bb4e76ea-5051\n"
					       "onstart=echo a=b && nvidia-smi\n"
					       "env.HF_HOME=/workspace/hf\n"
					       "env.TOKEN=abc=def==\n"
					       "env._X1=1\n"
					       "runcrate.cpu_cores=8\n"
					       "runcrate.storage_id=v-1\n");

	assert_string_equal(spec->name, "train-1");
	assert_string_equal(spec->offer, "bold-tesla-a6000-fa6f");
	assert_string_equal(spec->gpu_type, "a6000");
	assert_int_equal(spec->gpu_count, 2);
	assert_string_equal(spec->region, "us-east");
	assert_string_equal(spec->image, "ubuntu-cuda-devel");
	assert_int_equal(spec->disk_gb, 200);
	assert_string_equal(spec->ssh_key, "bb4e76ea-5051");
	assert_string_equal(spec->onstart, "echo a=b && nvidia-smi");
	assert_int_equal(spec->env->len, 3);
	assert_string_equal(gpufs_spec_kv_find(spec->env, "HF_HOME"), "/workspace/hf");
	assert_string_equal(gpufs_spec_kv_find(spec->env, "TOKEN"), "abc=def==");
	assert_string_equal(((struct gpufs_spec_kv *)spec->env->pdata[2])->key, "_X1");
	assert_int_equal(spec->passthrough->len, 2);
	assert_string_equal(gpufs_spec_kv_find(spec->passthrough, "cpu_cores"), "8");
	assert_string_equal(gpufs_spec_kv_find(spec->passthrough, "storage_id"), "v-1");
	assert_null(gpufs_spec_kv_find(spec->passthrough, "memory"));
	assert_null(gpufs_spec_kv_find(NULL, "memory"));
	assert_null(spec->raw_json);
	gpufs_spec_free(spec);
}

static void test_defaults(void **state)
{
	/* No name=: the file's name; no last newline: parsed at finish. */
	struct gpufs_spec *spec = parse_ok(NULL, "gpu_type=h100");

	assert_string_equal(spec->name, "default-name");
	assert_string_equal(spec->gpu_type, "h100");
	assert_int_equal(spec->gpu_count, -1);
	assert_int_equal(spec->disk_gb, -1);
	assert_null(spec->offer);
	assert_null(spec->region);
	assert_null(spec->image);
	assert_null(spec->ssh_key);
	assert_null(spec->onstart);
	assert_int_equal(spec->env->len, 0);
	assert_int_equal(spec->passthrough->len, 0);
	gpufs_spec_free(spec);

	spec = parse_ok(&test_provider, "test.flavor=x\ntest.size=10\n");
	assert_string_equal(gpufs_spec_kv_find(spec->passthrough, "flavor"), "x");
	assert_string_equal(gpufs_spec_kv_find(spec->passthrough, "size"), "10");
	gpufs_spec_free(spec);
	gpufs_spec_free(NULL);
}

static char *temp_file(const char *content, gsize len)
{
	char *path = NULL;
	int fd = g_file_open_tmp("gpufs-spec-XXXXXX", &path, NULL);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, len), (ssize_t)len);
	close(fd);
	return path;
}

static void test_onstart_file(void **state)
{
	const char *script = "#!/bin/sh\necho hi\nnvidia-smi\n";
	char *path = temp_file(script, strlen(script));
	char *text = g_strdup_printf("name=a\nonstart=@%s\n", path);
	struct gpufs_spec *spec = parse_ok(NULL, text);

	assert_string_equal(spec->onstart, script);
	gpufs_spec_free(spec);
	g_free(text);
	unlink(path);

	text = g_strdup_printf("onstart=@%s\n", path);
	parse_fails(NULL, text, "line 1: cannot read onstart file");
	g_free(text);
	g_free(path);

	parse_fails(NULL, "onstart=@relative/path\n", "needs an absolute path");
	parse_fails(NULL, "onstart=@/\n", "not a regular file");
	parse_fails(NULL, "onstart=@/dev/zero\n", "not a regular file");

	char *big = g_malloc(64 * 1024 + 1);

	memset(big, 'x', 64 * 1024 + 1);
	path = temp_file(big, 64 * 1024 + 1);
	text = g_strdup_printf("onstart=@%s\n", path);
	parse_fails(NULL, text, "larger than 64 KiB");
	unlink(path);
	g_free(path);
	g_free(text);

	/* Exactly 64 KiB is fine. */
	path = temp_file(big, 64 * 1024);
	text = g_strdup_printf("onstart=@%s\n", path);
	spec = parse_ok(NULL, text);
	assert_int_equal(strlen(spec->onstart), 64 * 1024);
	gpufs_spec_free(spec);
	unlink(path);
	g_free(path);
	g_free(text);
	g_free(big);

	path = temp_file("a\0b", 3);
	text = g_strdup_printf("onstart=@%s\n", path);
	parse_fails(NULL, text, "is not text");
	unlink(path);
	g_free(path);
	g_free(text);
}

static void test_json_form(void **state)
{
	struct gpufs_spec *spec =
	    parse_ok(NULL, "\n  \r\n\t{\"name\": \"x\", \"gpu_type\": \"a6000\",\n"
			   " \"env_vars\": [{\"key\": \"A\", \"value\": \"b=c\"}]}\n\n");

	assert_non_null(spec->raw_json);
	assert_true(json_object_is_type(spec->raw_json, json_type_object));
	assert_string_equal(
	    json_object_get_string(json_object_object_get(spec->raw_json, "gpu_type")), "a6000");
	/* Nothing else is set from a JSON body. */
	assert_null(spec->name);
	assert_null(spec->gpu_type);
	assert_int_equal(spec->gpu_count, -1);
	gpufs_spec_free(spec);

	parse_fails(NULL, "{\"name\": ", "JSON spec ends too early");
	parse_fails(NULL, "{\"name\": x}", "not valid JSON");
	parse_fails(NULL, "{} {}", "text after");
	parse_fails(NULL, "{\"a\":\"\xff\"}", "not valid JSON");
	parse_fails_len(NULL, "{\"a\":\0}", 7, -EINVAL, "NUL");
	/* A '[' does not start the JSON form: it is a line without '='. */
	parse_fails(NULL, "[1, 2]", "line 1: no \"=\" in \"[1, 2]\"");
	/* The provider checks JSON specs as a whole. */
	parse_fails(&gpufs_provider_runcrate, "{\"gpu_type\":\"a\"}", "needs a \"name\" string");
}

/* The JSON form split anywhere across feeds. */
static void test_json_form_in_pieces(void **state)
{
	const char *text = "  {\"name\":\"x\",\"gpu_type\":\"h100\"}";
	struct gpufs_spec_builder *builder = gpufs_spec_builder_new(&gpufs_provider_runcrate, "f");
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;

	for (const char *p = text; *p; p++)
		assert_int_equal(gpufs_spec_builder_feed(builder, p, 1, &errmsg), 0);
	assert_false(gpufs_spec_builder_empty(builder));
	assert_int_equal(gpufs_spec_builder_finish(builder, &spec, &errmsg), 0);
	assert_non_null(spec->raw_json);
	gpufs_spec_free(spec);
	gpufs_spec_builder_free(builder);
}

static void test_unknown_keys(void **state)
{
	parse_fails(NULL, "name=a\n# c\ngpu_typ=h100\n",
		    "line 3: unknown key \"gpu_typ\" (did you mean gpu_type?)");
	parse_fails(NULL, "Name=a\n", "unknown key \"Name\" (did you mean name?)");
	parse_fails(NULL, "flavour=big\n", "line 1: unknown key \"flavour\" (valid: name, offer");
	parse_fails(&gpufs_provider_runcrate, "zzz=1\n", "env.NAME, runcrate.FIELD)");
	/* Provider keys: only with a provider, only its own prefix. */
	parse_fails(NULL, "runcrate.cpu_cores=4\n", "unknown key \"runcrate.cpu_cores\"");
	parse_fails(&test_provider, "runcrate.cpu_cores=4\n", "unknown key");
	parse_fails(&test_provider, "test.=4\n", "unknown key \"test.\"");
	parse_fails(&test_provider, "test.size=4x\n", "line 1: test refuses size");
	parse_fails(&gpufs_provider_runcrate, "runcrate.flavor=4\n",
		    "line 1: runcrate has no create field \"flavor\"");
	parse_fails(&gpufs_provider_runcrate, "runcrate.launch_script=echo\n", "use onstart=");
	parse_fails(&gpufs_provider_runcrate, "runcrate.memory=0\n", "at least 1");
	parse_fails(NULL, "=value\n", "line 1: no key before");
}

static void test_duplicates(void **state)
{
	parse_fails(NULL, "name=a\nregion=x\nname=b\n",
		    "line 3: \"name\" given twice (first on line 1)");
	parse_fails(NULL, "env.A=1\nenv.B=2\nenv.A=1\n", "line 3: \"env.A\" given twice");
	parse_fails(&test_provider, "test.flavor=a\ntest.flavor=b\n", "given twice");
}

static void test_bad_values(void **state)
{
	parse_fails(NULL, "gpu_count=abc\n",
		    "line 1: gpu_count must be a whole number from 1 to 64, not \"abc\"");
	parse_fails(NULL, "gpu_count=-1\n", "not \"-1\"");
	parse_fails(NULL, "gpu_count=0\n", "not \"0\"");
	parse_fails(NULL, "gpu_count=65\n", "not \"65\"");
	parse_fails(NULL, "gpu_count=2.5\n", "not \"2.5\"");
	parse_fails(NULL, "gpu_count=+2\n", "not \"+2\"");
	parse_fails(NULL, "disk_gb=99999999999999999999999\n", "disk_gb must be a whole number");
	parse_fails(NULL, "disk_gb=1048577\n", "from 1 to 1048576");
	parse_fails(NULL, "name=\n", "line 1: name= is empty");
	parse_fails(NULL, "region =   \n", "line 1: region= is empty");
	parse_fails(NULL, "env.A=\n", "env.A= is empty");
	parse_fails(NULL, "env.1X=a\n", "\"1X\" is not a valid environment variable name");
	parse_fails(NULL, "env.A-B=a\n", "\"A-B\" is not a valid");
	parse_fails(NULL, "env.=a\n", "\"\" is not a valid");
}

static void test_bad_lines(void **state)
{
	parse_fails(NULL, "name=a\njust some words\n",
		    "line 2: no \"=\" in \"just some words\" (lines are key=value)");
	parse_fails(NULL, "this line is far too long to be quoted whole in a message\n",
		    "\"this line is far too long to be quoted w\"...");
	parse_fails(NULL, "bell\x07 \"q\" \\\n", "\"bell\\x07 \\\"q\\\" \\\\\"");
	parse_fails_len(NULL, "name=a\nna\0me=b\n", 15, -EINVAL, "line 2: contains a NUL byte");
	parse_fails(NULL, "name=\xff\xfe\n", "line 1: not valid UTF-8");
	parse_fails(NULL, "\x80\x81\x82", "line 1: not valid UTF-8");
	/* Non-ASCII text is fine where it is valid UTF-8. */
	struct gpufs_spec *spec = parse_ok(NULL, "name=tr\xc3\xa4ning\n");

	assert_string_equal(spec->name, "tr\xc3\xa4ning");
	gpufs_spec_free(spec);
}

static void test_empty(void **state)
{
	struct gpufs_spec_builder *builder = gpufs_spec_builder_new(NULL, "f");
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;

	assert_true(gpufs_spec_builder_empty(builder));
	const char *comments = "# only a comment\n\n  \n# x";

	assert_int_equal(gpufs_spec_builder_feed(builder, comments, strlen(comments), &errmsg), 0);
	assert_true(gpufs_spec_builder_empty(builder));
	assert_int_equal(gpufs_spec_builder_feed(builder, "\nna", 3, &errmsg), 0);
	assert_false(gpufs_spec_builder_empty(builder));
	gpufs_spec_builder_free(builder);

	/* A failed builder is never empty, even when no key was seen. */
	builder = gpufs_spec_builder_new(NULL, "f");
	assert_int_equal(gpufs_spec_builder_feed(builder, "\0\n", 2, &errmsg), -EINVAL);
	assert_false(gpufs_spec_builder_empty(builder));
	g_free(errmsg);
	errmsg = NULL;
	gpufs_spec_builder_free(builder);

	parse_fails(NULL, "", "empty spec");
	parse_fails(NULL, "# nothing\n\n", "empty spec");
	parse_fails(NULL, "  \n\t\n", "empty spec");
	assert_int_equal(gpufs_spec_parse(NULL, "f", NULL, 0, &spec, &errmsg), -EINVAL);
	assert_string_equal(errmsg, "empty spec");
	g_free(errmsg);
}

static void test_too_large(void **state)
{
	struct gpufs_spec_builder *builder = gpufs_spec_builder_new(NULL, "f");
	char *chunk = g_malloc(64 * 1024);
	char *errmsg = NULL;
	struct gpufs_spec *spec = NULL;

	/* Comment lines: 4 x 64 KiB is exactly the limit. */
	memset(chunk, '#', 64 * 1024);
	chunk[64 * 1024 - 1] = '\n';
	for (int i = 0; i < 4; i++)
		assert_int_equal(gpufs_spec_builder_feed(builder, chunk, 64 * 1024, &errmsg), 0);
	assert_int_equal(gpufs_spec_builder_feed(builder, "n", 1, &errmsg), -EFBIG);
	assert_non_null(strstr(errmsg, "larger than 256 KiB"));
	g_free(errmsg);
	errmsg = NULL;
	assert_true(gpufs_spec_builder_failed(builder));
	assert_int_equal(gpufs_spec_builder_feed(builder, "", 0, &errmsg), -EFBIG);
	g_free(errmsg);
	errmsg = NULL;
	assert_int_equal(gpufs_spec_builder_finish(builder, &spec, &errmsg), -EFBIG);
	assert_null(spec);
	assert_non_null(strstr(errmsg, "larger than 256 KiB"));
	g_free(errmsg);
	gpufs_spec_builder_free(builder);
	g_free(chunk);

	/* One write far past the limit, JSON form too. */
	chunk = g_malloc0(GPUFS_SPEC_MAX_BYTES + 1);
	memset(chunk, ' ', GPUFS_SPEC_MAX_BYTES + 1);
	chunk[0] = '{';
	parse_fails_len(NULL, chunk, GPUFS_SPEC_MAX_BYTES + 1, -EFBIG, "larger than");
	g_free(chunk);
}

/* After one bad line nothing is accepted, however good what follows. */
static void test_poisoned(void **state)
{
	struct gpufs_spec_builder *builder = gpufs_spec_builder_new(NULL, "f");
	struct gpufs_spec *spec = NULL;
	char *first = NULL, *errmsg = NULL;

	assert_int_equal(gpufs_spec_builder_feed(builder, "name=a\n", 7, &errmsg), 0);
	assert_int_equal(gpufs_spec_builder_feed(builder, "gpu_count=x\nregion=b\n", 21, &first),
			 -EINVAL);
	assert_string_equal(first,
			    "line 2: gpu_count must be a whole number from 1 to 64, not \"x\"");
	assert_true(gpufs_spec_builder_failed(builder));
	assert_int_equal(gpufs_spec_builder_feed(builder, "gpu_type=h100\n", 14, &errmsg), -EINVAL);
	assert_string_equal(errmsg, first);
	g_free(errmsg);
	errmsg = NULL;
	assert_int_equal(gpufs_spec_builder_finish(builder, &spec, &errmsg), -EINVAL);
	assert_string_equal(errmsg, first);
	assert_null(spec);
	g_free(errmsg);
	errmsg = NULL;
	assert_int_equal(gpufs_spec_builder_finish(builder, &spec, &errmsg), -EINVAL);
	assert_string_equal(errmsg, first);
	g_free(errmsg);
	g_free(first);
	gpufs_spec_builder_free(builder);
}

/* A line that cannot become good is refused by the feed that carries its
 * fault, before its end: binary junk without a newline fails its write.
 * A character split between two feeds is fine. */
static void test_hopeless_partial_line(void **state)
{
	struct gpufs_spec_builder *builder = gpufs_spec_builder_new(NULL, "f");
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;

	assert_int_equal(gpufs_spec_builder_feed(builder, "name=\xff\xfe", 7, &errmsg), -EINVAL);
	assert_string_equal(errmsg, "line 1: not valid UTF-8");
	g_free(errmsg);
	gpufs_spec_builder_free(builder);

	builder = gpufs_spec_builder_new(NULL, "f");
	assert_int_equal(gpufs_spec_builder_feed(builder, "# x\nname=a\0b", 13, &errmsg), -EINVAL);
	assert_string_equal(errmsg, "line 2: contains a NUL byte");
	g_free(errmsg);
	gpufs_spec_builder_free(builder);

	builder = gpufs_spec_builder_new(NULL, "f");
	assert_int_equal(gpufs_spec_builder_feed(builder, "name=caf\xc3", 9, &errmsg), 0);
	assert_int_equal(gpufs_spec_builder_feed(builder, "\xa9\ngpu_type=x\n", 13, &errmsg), 0);
	assert_int_equal(gpufs_spec_builder_finish(builder, &spec, &errmsg), 0);
	assert_string_equal(spec->name, "caf\xc3\xa9");
	gpufs_spec_free(spec);
	gpufs_spec_builder_free(builder);
}

/* A bad line is refused by the feed that completes it, not before. */
static void test_bad_line_split(void **state)
{
	struct gpufs_spec_builder *builder = gpufs_spec_builder_new(NULL, "f");
	char *errmsg = NULL;

	assert_int_equal(gpufs_spec_builder_feed(builder, "# hi\ngpu_co", 11, &errmsg), 0);
	assert_false(gpufs_spec_builder_failed(builder));
	assert_int_equal(gpufs_spec_builder_feed(builder, "unt=abc\nname=x\n", 15, &errmsg),
			 -EINVAL);
	assert_string_equal(errmsg,
			    "line 2: gpu_count must be a whole number from 1 to 64, not \"abc\"");
	g_free(errmsg);
	gpufs_spec_builder_free(builder);

	/* Split inside the CRLF too. */
	struct gpufs_spec *spec = NULL;

	builder = gpufs_spec_builder_new(NULL, "f");
	assert_int_equal(gpufs_spec_builder_feed(builder, "name=abc\r", 9, &errmsg), 0);
	assert_int_equal(gpufs_spec_builder_feed(builder, "\ngpu_type=x\r\n", 13, &errmsg), 0);
	assert_int_equal(gpufs_spec_builder_finish(builder, &spec, &errmsg), 0);
	assert_string_equal(spec->name, "abc");
	assert_string_equal(spec->gpu_type, "x");
	gpufs_spec_free(spec);
	gpufs_spec_builder_free(builder);
}

/* A spec with no bad line can still be incomplete: only finish says so. */
static void test_whole_spec_error_at_finish(void **state)
{
	struct gpufs_spec_builder *builder = gpufs_spec_builder_new(&gpufs_provider_runcrate, "f");
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;

	assert_int_equal(gpufs_spec_builder_feed(builder, "name=x\nregion=us-east\n", 22, &errmsg),
			 0);
	assert_false(gpufs_spec_builder_failed(builder));
	assert_int_equal(gpufs_spec_builder_finish(builder, &spec, &errmsg), -EINVAL);
	assert_string_equal(errmsg, "runcrate needs offer= (an id from offers) or gpu_type=");
	assert_null(spec);
	assert_true(gpufs_spec_builder_failed(builder));
	g_free(errmsg);
	gpufs_spec_builder_free(builder);
}

static void test_call_order(void **state)
{
	struct gpufs_spec_builder *builder = gpufs_spec_builder_new(NULL, "f");
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;

	assert_int_equal(gpufs_spec_builder_feed(builder, "name=a", 6, &errmsg), 0);
	assert_int_equal(gpufs_spec_builder_feed(builder, NULL, 0, &errmsg), 0);
	assert_int_equal(gpufs_spec_builder_finish(builder, &spec, &errmsg), 0);
	assert_string_equal(spec->name, "a");
	gpufs_spec_free(spec);
	spec = NULL;
	/* The spec went out once; it never goes out twice. */
	assert_int_equal(gpufs_spec_builder_finish(builder, &spec, &errmsg), -EINVAL);
	assert_null(spec);
	g_free(errmsg);
	errmsg = NULL;
	assert_int_equal(gpufs_spec_builder_feed(builder, "x=1\n", 4, &errmsg), -EINVAL);
	g_free(errmsg);
	errmsg = NULL;
	gpufs_spec_builder_free(builder);

	/* A builder freed half-way, and one finished without taking the spec. */
	builder = gpufs_spec_builder_new(&gpufs_provider_runcrate, NULL);
	assert_int_equal(gpufs_spec_builder_feed(builder, "env.A=1\nonstart=x\nna", 20, NULL), 0);
	gpufs_spec_builder_free(builder);
	builder = gpufs_spec_builder_new(NULL, NULL);
	assert_int_equal(gpufs_spec_builder_feed(builder, "gpu_type=x\n", 11, NULL), 0);
	assert_int_equal(gpufs_spec_builder_finish(builder, NULL, NULL), 0);
	gpufs_spec_builder_free(builder);
	gpufs_spec_builder_free(NULL);

	/* Without a file name and a name= line, the provider says what is missing. */
	builder = gpufs_spec_builder_new(&gpufs_provider_runcrate, NULL);
	assert_int_equal(gpufs_spec_builder_feed(builder, "gpu_type=x\n", 11, NULL), 0);
	assert_int_equal(gpufs_spec_builder_finish(builder, &spec, &errmsg), -EINVAL);
	assert_string_equal(errmsg, "runcrate needs name=");
	g_free(errmsg);
	errmsg = NULL;
	gpufs_spec_builder_free(builder);
	assert_int_equal(gpufs_spec_builder_feed(NULL, "a", 1, &errmsg), -EINVAL);
	g_free(errmsg);
	errmsg = NULL;
	assert_int_equal(gpufs_spec_builder_finish(NULL, &spec, &errmsg), -EINVAL);
	g_free(errmsg);
	assert_true(gpufs_spec_builder_failed(NULL));
}

/* Random bytes in random pieces: always a clean answer, never a crash. */
static void test_random_input(void **state)
{
	GRand *rand = g_rand_new_with_seed(20260501);
	const char alphabet[] = "name=gpu_count\n\r#{}\"=.env 0123456789\x00\xff\xc3\xa4"
				"runcrate.test.size";

	for (int round = 0; round < 2000; round++) {
		struct gpufs_spec_builder *builder =
		    gpufs_spec_builder_new(round % 2 ? &test_provider : NULL, "f");
		gsize len = g_rand_int_range(rand, 0, 200);
		char *text = g_malloc(len + 1);
		struct gpufs_spec *spec = NULL;
		char *errmsg = NULL;
		int rc = 0;

		for (gsize i = 0; i < len; i++)
			text[i] = alphabet[g_rand_int_range(rand, 0, sizeof(alphabet) - 1)];
		for (gsize done = 0; done < len && rc == 0;) {
			gsize piece = g_rand_int_range(rand, 1, 16);

			piece = MIN(piece, len - done);

			rc = gpufs_spec_builder_feed(builder, text + done, piece, &errmsg);
			done += piece;
		}
		if (rc == 0)
			rc = gpufs_spec_builder_finish(builder, &spec, &errmsg);
		assert_true(rc == 0 || rc == -EINVAL);
		assert_true(rc == 0 ? spec != NULL && errmsg == NULL : errmsg != NULL);
		assert_true(g_utf8_validate(errmsg ? errmsg : "", -1, NULL));
		gpufs_spec_free(spec);
		g_free(errmsg);
		g_free(text);
		gpufs_spec_builder_free(builder);
	}
	g_rand_free(rand);
}

/* On a shared mount the daemon reads no file for anyone: the line is
 * refused, the builder poisoned, a script written inline still works. */
static void test_onstart_file_refused_when_shared(void **state)
{
	const char *script = "echo hi\n";
	char *path = temp_file(script, strlen(script));
	char *line = g_strdup_printf("onstart=@%s\n", path);
	struct gpufs_spec_builder *builder = gpufs_spec_builder_new(NULL, "f");
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;

	gpufs_spec_builder_forbid_file_refs(builder);
	assert_int_equal(gpufs_spec_builder_feed(builder, "offer=x\n", 8, &errmsg), 0);
	assert_int_equal(gpufs_spec_builder_feed(builder, line, strlen(line), &errmsg), -EINVAL);
	assert_non_null(strstr(errmsg, "line 2: onstart=@file is refused on a mount shared"));
	assert_null(strstr(errmsg, path)); /* and says nothing of the file */
	g_free(errmsg);
	errmsg = NULL;
	assert_int_equal(gpufs_spec_builder_finish(builder, &spec, &errmsg), -EINVAL);
	assert_null(spec);
	g_free(errmsg);
	gpufs_spec_builder_free(builder);

	errmsg = NULL;
	builder = gpufs_spec_builder_new(NULL, "f");
	gpufs_spec_builder_forbid_file_refs(builder);
	assert_int_equal(gpufs_spec_builder_feed(builder, "onstart=echo hi\n", 16, &errmsg), 0);
	assert_int_equal(gpufs_spec_builder_finish(builder, &spec, &errmsg), 0);
	assert_string_equal(spec->onstart, "echo hi");
	gpufs_spec_free(spec);
	gpufs_spec_builder_free(builder);
	unlink(path);
	g_free(path);
	g_free(line);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_full_spec),
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_onstart_file),
	    cmocka_unit_test(test_onstart_file_refused_when_shared),
	    cmocka_unit_test(test_json_form),
	    cmocka_unit_test(test_json_form_in_pieces),
	    cmocka_unit_test(test_unknown_keys),
	    cmocka_unit_test(test_duplicates),
	    cmocka_unit_test(test_bad_values),
	    cmocka_unit_test(test_bad_lines),
	    cmocka_unit_test(test_empty),
	    cmocka_unit_test(test_too_large),
	    cmocka_unit_test(test_poisoned),
	    cmocka_unit_test(test_bad_line_split),
	    cmocka_unit_test(test_hopeless_partial_line),
	    cmocka_unit_test(test_whole_spec_error_at_finish),
	    cmocka_unit_test(test_call_order),
	    cmocka_unit_test(test_random_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
