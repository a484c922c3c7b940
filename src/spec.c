/* The new/ spec parser: "key=value" lines, or one JSON object sent as is.
 *
 * Lines are parsed as soon as they are complete, so the write(2) that carried
 * a bad line is the one that fails.  Once anything fails the builder keeps
 * that failure forever: nothing is ever created from a spec that had a bad
 * line, whatever is written after it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gpufs/provider.h"
#include "gpufs/spec.h"
#include "gpufs/util.h"

/* Largest onstart=@file read, so a mistaken path to a big file fails early. */
#define ONSTART_MAX_BYTES (64 * 1024)
/* Characters of a line or value quoted in an error message. */
#define EXCERPT_MAX_CHARS 40

struct gpufs_spec_builder {
	const struct gpufs_provider *provider;
	char *default_name;
	struct gpufs_spec *spec; /* being built; NULL once handed out */
	GString *partial_line;	 /* bytes after the last '\n' */
	gsize total_bytes;
	guint line_number;   /* of the last complete line parsed */
	gboolean form_known; /* a non-blank byte was seen */
	gboolean json_form;
	GString *json_text;
	gboolean has_content;  /* a line that is neither blank nor a comment */
	GHashTable *seen_keys; /* key -> first line number */
	gboolean finished;
	gboolean no_file_refs; /* onstart=@path refused: see forbid_file_refs */
	int error;	       /* 0, or the failure every later call repeats */
	char *error_message;
};

static const char *const common_keys[] = {
    "name", "offer", "gpu_type", "gpu_count", "region", "image", "disk_gb", "ssh_key", "onstart",
};

static void spec_kv_free(gpointer data)
{
	struct gpufs_spec_kv *kv = data;

	g_free(kv->key);
	g_free(kv->value);
	g_free(kv);
}

static struct gpufs_spec *spec_new(void)
{
	struct gpufs_spec *spec = g_new0(struct gpufs_spec, 1);

	spec->gpu_count = -1;
	spec->disk_gb = -1;
	spec->env = g_ptr_array_new_with_free_func(spec_kv_free);
	spec->passthrough = g_ptr_array_new_with_free_func(spec_kv_free);
	return spec;
}

void gpufs_spec_free(struct gpufs_spec *spec)
{
	if (!spec)
		return;
	g_free(spec->name);
	g_free(spec->offer);
	g_free(spec->gpu_type);
	g_free(spec->region);
	g_free(spec->image);
	g_free(spec->ssh_key);
	g_free(spec->onstart);
	if (spec->env)
		g_ptr_array_unref(spec->env);
	if (spec->passthrough)
		g_ptr_array_unref(spec->passthrough);
	if (spec->raw_json)
		json_object_put(spec->raw_json);
	g_free(spec);
}

const char *gpufs_spec_kv_find(GPtrArray *kvs, const char *key)
{
	for (guint i = 0; kvs && key && i < kvs->len; i++) {
		const struct gpufs_spec_kv *kv = kvs->pdata[i];

		if (strcmp(kv->key, key) == 0)
			return kv->value;
	}
	return NULL;
}

static void kv_append(GPtrArray *kvs, const char *key, const char *value)
{
	struct gpufs_spec_kv *kv = g_new0(struct gpufs_spec_kv, 1);

	kv->key = g_strdup(key);
	kv->value = g_strdup(value);
	g_ptr_array_add(kvs, kv);
}

/* @text quoted for a message: at most EXCERPT_MAX_CHARS characters, quotes,
 * backslashes and anything unprintable escaped, so a binary line cannot mess
 * up a terminal or a log. */
static char *quote_excerpt(const char *text, gsize len)
{
	GString *out = g_string_new("\"");
	const char *p = text, *end = text + len;
	guint chars = 0;

	while (p < end && chars < EXCERPT_MAX_CHARS) {
		gunichar c = g_utf8_get_char_validated(p, end - p);

		if (c == (gunichar)-1 || c == (gunichar)-2 || c == 0) {
			g_string_append_printf(out, "\\x%02x", (guchar)*p++);
		} else if (c == '"' || c == '\\') {
			g_string_append_printf(out, "\\%c", (char)c);
			p++;
		} else if (!g_unichar_isprint(c)) {
			g_string_append_printf(out, c < 0x100 ? "\\x%02x" : "\\u%04x", c);
			p = g_utf8_next_char(p);
		} else {
			g_string_append_len(out, p, g_utf8_next_char(p) - p);
			p = g_utf8_next_char(p);
		}
		chars++;
	}
	g_string_append_c(out, '"');
	if (p < end)
		g_string_append(out, "...");
	return g_string_free(out, FALSE);
}

static char *quote(const char *text)
{
	return quote_excerpt(text, strlen(text));
}

/* Poisons the builder: this failure is what every later call returns. */
G_GNUC_PRINTF(3, 4)
static int fail(struct gpufs_spec_builder *builder, int error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	builder->error_message = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	builder->error = error;
	return error;
}

static int repeat_failure(const struct gpufs_spec_builder *builder, char **errmsg)
{
	if (errmsg)
		*errmsg = g_strdup(builder->error_message);
	return builder->error;
}

static guint edit_distance(const char *a, const char *b)
{
	gsize la = strlen(a), lb = strlen(b);
	guint *row = g_new(guint, lb + 1);
	guint result;

	for (gsize j = 0; j <= lb; j++)
		row[j] = j;
	for (gsize i = 1; i <= la; i++) {
		guint diagonal = row[0];

		row[0] = i;
		for (gsize j = 1; j <= lb; j++) {
			guint above = row[j];
			guint best = MIN(row[j] + 1, row[j - 1] + 1);

			row[j] = MIN(best, diagonal + (a[i - 1] != b[j - 1]));
			diagonal = above;
		}
	}
	result = row[lb];
	g_free(row);
	return result;
}

/* The closest common key within two edits, for "did you mean". */
static const char *closest_key(const char *key)
{
	const char *best = NULL;
	guint best_distance = 3;

	/* Long keys cannot be within two edits; skip the work. */
	if (strlen(key) > 64)
		return NULL;
	for (gsize i = 0; i < G_N_ELEMENTS(common_keys); i++) {
		guint distance = edit_distance(key, common_keys[i]);

		if (distance < best_distance) {
			best = common_keys[i];
			best_distance = distance;
		}
	}
	return best;
}

static int fail_unknown_key(struct gpufs_spec_builder *builder, const char *key)
{
	const struct gpufs_provider *provider = builder->provider;
	const char *suggestion = closest_key(key);
	g_autofree char *quoted = quote(key);
	g_autofree char *own_keys = NULL;

	if (suggestion)
		return fail(builder, -EINVAL, "line %u: unknown key %s (did you mean %s?)",
			    builder->line_number, quoted, suggestion);
	if (provider && provider->check_spec_key)
		own_keys = g_strdup_printf(", %s.FIELD", provider->name);
	return fail(builder, -EINVAL,
		    "line %u: unknown key %s (valid: name, offer, gpu_type, gpu_count, region, "
		    "image, disk_gb, ssh_key, onstart, env.NAME%s)",
		    builder->line_number, quoted, own_keys ? own_keys : "");
}

static gboolean is_env_name(const char *name)
{
	if (!g_ascii_isalpha(*name) && *name != '_')
		return FALSE;
	for (name++; *name; name++)
		if (!g_ascii_isalnum(*name) && *name != '_')
			return FALSE;
	return TRUE;
}

static int set_number(struct gpufs_spec_builder *builder, const char *key, const char *value,
		      long max, long *out)
{
	g_autofree char *quoted = NULL;

	if (gpufs_parse_long(value, 1, max, out))
		return 0;
	quoted = quote(value);
	return fail(builder, -EINVAL, "line %u: %s must be a whole number from 1 to %ld, not %s",
		    builder->line_number, key, max, quoted);
}

/* Reads onstart=@/path now, so a bad path fails the write that named it.
 * Only regular files: a FIFO or a device could block the daemon. */
static int read_onstart_file(struct gpufs_spec_builder *builder, const char *path)
{
	g_autofree char *quoted = quote(path);
	GString *text;
	struct stat st;
	char buf[8192];
	ssize_t n;
	int fd, read_errno;

	if (builder->no_file_refs)
		return fail(builder, -EINVAL,
			    "line %u: onstart=@file is refused on a mount shared with other "
			    "users (allow_other): write the script itself",
			    builder->line_number);
	if (path[0] != '/')
		return fail(builder, -EINVAL, "line %u: onstart=@ needs an absolute path, not %s",
			    builder->line_number, quoted);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return fail(builder, -EINVAL, "line %u: cannot read onstart file %s: %s",
			    builder->line_number, quoted, g_strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return fail(builder, -EINVAL, "line %u: onstart file %s is not a regular file",
			    builder->line_number, quoted);
	}
	text = g_string_new(NULL);
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		g_string_append_len(text, buf, n);
		if (text->len > ONSTART_MAX_BYTES)
			break;
	}
	read_errno = n < 0 ? errno : 0;
	close(fd);
	if (read_errno) {
		g_string_free(text, TRUE);
		return fail(builder, -EINVAL, "line %u: cannot read onstart file %s: %s",
			    builder->line_number, quoted, g_strerror(read_errno));
	}
	if (text->len > ONSTART_MAX_BYTES) {
		g_string_free(text, TRUE);
		return fail(builder, -EINVAL, "line %u: onstart file %s is larger than %d KiB",
			    builder->line_number, quoted, ONSTART_MAX_BYTES / 1024);
	}
	if (memchr(text->str, '\0', text->len) || !g_utf8_validate(text->str, text->len, NULL)) {
		g_string_free(text, TRUE);
		return fail(builder, -EINVAL,
			    "line %u: onstart file %s is not text (NUL byte or invalid UTF-8)",
			    builder->line_number, quoted);
	}
	builder->spec->onstart = g_string_free(text, FALSE);
	return 0;
}

static int set_common(struct gpufs_spec_builder *builder, const char *key, const char *value)
{
	struct gpufs_spec *spec = builder->spec;

	if (strcmp(key, "gpu_count") == 0)
		return set_number(builder, key, value, 64, &spec->gpu_count);
	if (strcmp(key, "disk_gb") == 0)
		return set_number(builder, key, value, 1048576, &spec->disk_gb);
	if (strcmp(key, "onstart") == 0 && value[0] == '@')
		return read_onstart_file(builder, value + 1);

	char **slot = strcmp(key, "name") == 0	     ? &spec->name
		      : strcmp(key, "offer") == 0    ? &spec->offer
		      : strcmp(key, "gpu_type") == 0 ? &spec->gpu_type
		      : strcmp(key, "region") == 0   ? &spec->region
		      : strcmp(key, "image") == 0    ? &spec->image
		      : strcmp(key, "ssh_key") == 0  ? &spec->ssh_key
						     : &spec->onstart;

	*slot = g_strdup(value);
	return 0;
}

static int set_env(struct gpufs_spec_builder *builder, const char *key, const char *value)
{
	const char *name = key + strlen("env.");

	if (!is_env_name(name)) {
		g_autofree char *quoted = quote(name);

		return fail(builder, -EINVAL,
			    "line %u: %s is not a valid environment variable name "
			    "(letters, digits, '_', not starting with a digit)",
			    builder->line_number, quoted);
	}
	kv_append(builder->spec->env, name, value);
	return 0;
}

static int set_passthrough(struct gpufs_spec_builder *builder, const char *key, const char *value)
{
	const struct gpufs_provider *provider = builder->provider;
	const char *field = strchr(key, '.') + 1;
	g_autofree char *message = NULL;
	int rc;

	if (!*field)
		return fail_unknown_key(builder, key);
	rc = provider->check_spec_key(field, value, &message);
	if (rc < 0)
		return fail(builder, -EINVAL, "line %u: %s", builder->line_number,
			    message ? message : "refused by the provider");
	kv_append(builder->spec->passthrough, field, value);
	return 0;
}

static gboolean is_common_key(const char *key)
{
	for (gsize i = 0; i < G_N_ELEMENTS(common_keys); i++)
		if (strcmp(key, common_keys[i]) == 0)
			return TRUE;
	return FALSE;
}

static gboolean is_own_passthrough(const struct gpufs_provider *provider, const char *key)
{
	gsize prefix;

	if (!provider || !provider->check_spec_key || !provider->name)
		return FALSE;
	prefix = strlen(provider->name);
	return strncmp(key, provider->name, prefix) == 0 && key[prefix] == '.';
}

static int check_duplicate(struct gpufs_spec_builder *builder, const char *key)
{
	gpointer first_line;

	if (g_hash_table_lookup_extended(builder->seen_keys, key, NULL, &first_line)) {
		g_autofree char *quoted = quote(key);

		return fail(builder, -EINVAL, "line %u: %s given twice (first on line %u)",
			    builder->line_number, quoted, GPOINTER_TO_UINT(first_line));
	}
	g_hash_table_insert(builder->seen_keys, g_strdup(key),
			    GUINT_TO_POINTER(builder->line_number));
	return 0;
}

static int parse_assignment(struct gpufs_spec_builder *builder, const char *key, const char *value)
{
	gboolean common = is_common_key(key);
	gboolean env = g_str_has_prefix(key, "env.");
	gboolean own = is_own_passthrough(builder->provider, key);
	int rc;

	if (!*key)
		return fail(builder, -EINVAL, "line %u: no key before \"=\"", builder->line_number);
	if (!common && !env && !own)
		return fail_unknown_key(builder, key);
	rc = check_duplicate(builder, key);
	if (rc < 0)
		return rc;
	if (!*value)
		return fail(builder, -EINVAL, "line %u: %s= is empty", builder->line_number, key);
	if (common)
		return set_common(builder, key, value);
	if (env)
		return set_env(builder, key, value);
	return set_passthrough(builder, key, value);
}

/* One complete line, without its '\n'. */
static int parse_line(struct gpufs_spec_builder *builder, const char *line, gsize len)
{
	g_autofree char *text = NULL;
	char *equals, *key, *value;

	builder->line_number++;
	if (len && line[len - 1] == '\r')
		len--;
	if (memchr(line, '\0', len))
		return fail(builder, -EINVAL, "line %u: contains a NUL byte", builder->line_number);
	if (!g_utf8_validate(line, len, NULL))
		return fail(builder, -EINVAL, "line %u: not valid UTF-8", builder->line_number);

	text = g_strstrip(g_strndup(line, len));
	if (!*text || *text == '#')
		return 0;
	builder->has_content = TRUE;
	equals = strchr(text, '=');
	if (!equals) {
		g_autofree char *quoted = quote(text);

		return fail(builder, -EINVAL, "line %u: no \"=\" in %s (lines are key=value)",
			    builder->line_number, quoted);
	}
	*equals = '\0';
	key = g_strstrip(text);
	value = g_strstrip(equals + 1);
	return parse_assignment(builder, key, value);
}

/* A line still open can already be hopeless: its write(2) fails then, not
 * only the close that ends it.  A character split between two writes is
 * not a fault. */
static int check_partial_line(struct gpufs_spec_builder *builder)
{
	const GString *line = builder->partial_line;
	const char *end = NULL;
	guint number = builder->line_number + 1;

	if (memchr(line->str, '\0', line->len))
		return fail(builder, -EINVAL, "line %u: contains a NUL byte", number);
	if (g_utf8_validate(line->str, line->len, &end) ||
	    g_utf8_get_char_validated(end, line->str + line->len - end) == (gunichar)-2)
		return 0;
	return fail(builder, -EINVAL, "line %u: not valid UTF-8", number);
}

static int feed_lines(struct gpufs_spec_builder *builder, const char *data, gsize len)
{
	while (len) {
		const char *newline = memchr(data, '\n', len);
		gsize chunk = newline ? (gsize)(newline - data) : len;
		int rc;

		g_string_append_len(builder->partial_line, data, chunk);
		if (!newline)
			return check_partial_line(builder);
		rc = parse_line(builder, builder->partial_line->str, builder->partial_line->len);
		g_string_truncate(builder->partial_line, 0);
		if (rc < 0)
			return rc;
		data += chunk + 1;
		len -= chunk + 1;
	}
	return 0;
}

static gboolean is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

static int feed_json(struct gpufs_spec_builder *builder, const char *data, gsize len)
{
	if (memchr(data, '\0', len))
		return fail(builder, -EINVAL, "JSON spec contains a NUL byte");
	g_string_append_len(builder->json_text, data, len);
	return 0;
}

/* Until the first non-blank byte the input is blank lines; that byte decides
 * between the line form and the JSON form. */
static int feed_undecided(struct gpufs_spec_builder *builder, const char *data, gsize len)
{
	gsize i = 0;
	int rc;

	while (i < len && is_blank(data[i]))
		i++;
	if (i == len)
		return feed_lines(builder, data, len);
	builder->form_known = TRUE;
	if (data[i] != '{')
		return feed_lines(builder, data, len);
	builder->json_form = TRUE;
	rc = feed_lines(builder, data, i); /* the blank lines before '{' */
	if (rc < 0)
		return rc;
	g_string_truncate(builder->partial_line, 0);
	return feed_json(builder, data + i, len - i);
}

struct gpufs_spec_builder *gpufs_spec_builder_new(const struct gpufs_provider *provider,
						  const char *default_name)
{
	struct gpufs_spec_builder *builder = g_new0(struct gpufs_spec_builder, 1);

	builder->provider = provider;
	builder->default_name = g_strdup(default_name);
	builder->spec = spec_new();
	builder->partial_line = g_string_new(NULL);
	builder->json_text = g_string_new(NULL);
	builder->seen_keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	return builder;
}

void gpufs_spec_builder_free(struct gpufs_spec_builder *builder)
{
	if (!builder)
		return;
	g_free(builder->default_name);
	gpufs_spec_free(builder->spec);
	g_string_free(builder->partial_line, TRUE);
	g_string_free(builder->json_text, TRUE);
	g_hash_table_unref(builder->seen_keys);
	g_free(builder->error_message);
	g_free(builder);
}

int gpufs_spec_builder_feed(struct gpufs_spec_builder *builder, const char *data, gsize len,
			    char **errmsg)
{
	int rc;

	if (!builder || (!data && len)) {
		if (errmsg)
			*errmsg = g_strdup("no spec to feed");
		return -EINVAL;
	}
	if (builder->error)
		return repeat_failure(builder, errmsg);
	if (builder->finished) {
		if (errmsg)
			*errmsg = g_strdup("the spec was already complete");
		return -EINVAL;
	}
	if (len > GPUFS_SPEC_MAX_BYTES - builder->total_bytes) {
		fail(builder, -EFBIG, "spec larger than %d KiB", GPUFS_SPEC_MAX_BYTES / 1024);
		return repeat_failure(builder, errmsg);
	}
	builder->total_bytes += len;

	if (builder->json_form)
		rc = feed_json(builder, data, len);
	else if (!builder->form_known)
		rc = feed_undecided(builder, data, len);
	else
		rc = feed_lines(builder, data, len);
	return rc < 0 ? repeat_failure(builder, errmsg) : 0;
}

static int finish_json(struct gpufs_spec_builder *builder)
{
	GString *text = builder->json_text;
	json_tokener *tokener = json_tokener_new();
	json_object *obj = json_tokener_parse_ex(tokener, text->str, (int)text->len);
	enum json_tokener_error error = json_tokener_get_error(tokener);
	size_t end = json_tokener_get_parse_end(tokener);

	json_tokener_free(tokener);
	if (error == json_tokener_success && !g_utf8_validate(text->str, text->len, NULL))
		error = json_tokener_error_parse_utf8_string;
	if (error != json_tokener_success) {
		json_object_put(obj);
		if (error == json_tokener_continue)
			return fail(builder, -EINVAL, "JSON spec ends too early");
		return fail(builder, -EINVAL, "JSON spec is not valid JSON: %s",
			    json_tokener_error_desc(error));
	}
	while (end < text->len && is_blank(text->str[end]))
		end++;
	if (end < text->len) {
		json_object_put(obj);
		return fail(builder, -EINVAL, "JSON spec has text after its closing \"}\"");
	}
	if (!json_object_is_type(obj, json_type_object)) {
		json_object_put(obj);
		return fail(builder, -EINVAL, "JSON spec must be one JSON object");
	}
	builder->spec->raw_json = obj;
	return 0;
}

static int finish_lines(struct gpufs_spec_builder *builder)
{
	if (builder->partial_line->len) {
		int rc =
		    parse_line(builder, builder->partial_line->str, builder->partial_line->len);

		g_string_truncate(builder->partial_line, 0);
		if (rc < 0)
			return rc;
	}
	if (!builder->has_content)
		return fail(builder, -EINVAL, "empty spec");
	if (!builder->spec->name)
		builder->spec->name = g_strdup(builder->default_name);
	return 0;
}

static int check_whole(struct gpufs_spec_builder *builder)
{
	const struct gpufs_provider *provider = builder->provider;
	g_autofree char *message = NULL;

	if (!provider || !provider->check_spec)
		return 0;
	if (provider->check_spec(builder->spec, &message) < 0)
		return fail(builder, -EINVAL, "%s",
			    message ? message : "the provider refused the spec");
	return 0;
}

int gpufs_spec_builder_finish(struct gpufs_spec_builder *builder, struct gpufs_spec **spec_out,
			      char **errmsg)
{
	int rc;

	if (!builder) {
		if (errmsg)
			*errmsg = g_strdup("no spec to finish");
		return -EINVAL;
	}
	if (builder->error)
		return repeat_failure(builder, errmsg);
	if (builder->finished) {
		if (errmsg)
			*errmsg = g_strdup("the spec was already complete");
		return -EINVAL;
	}
	rc = builder->json_form ? finish_json(builder) : finish_lines(builder);
	if (rc == 0)
		rc = check_whole(builder);
	if (rc < 0)
		return repeat_failure(builder, errmsg);
	builder->finished = TRUE;
	if (spec_out)
		*spec_out = builder->spec;
	else
		gpufs_spec_free(builder->spec);
	builder->spec = NULL;
	return 0;
}

gboolean gpufs_spec_builder_failed(const struct gpufs_spec_builder *builder)
{
	return !builder || builder->error != 0;
}

gboolean gpufs_spec_builder_empty(const struct gpufs_spec_builder *builder)
{
	const char *p;

	if (!builder)
		return TRUE;
	/* A refused line, even a blank-looking one with a NUL, is not
	 * "nothing": the caller must still report the failure. */
	if (builder->error || builder->json_form || builder->has_content)
		return FALSE;
	/* An unfinished last line counts unless it is blank or a comment. */
	for (p = builder->partial_line->str; is_blank(*p); p++)
		;
	return *p == '\0' || *p == '#';
}

int gpufs_spec_parse(const struct gpufs_provider *provider, const char *default_name,
		     const char *text, gsize len, struct gpufs_spec **spec_out, char **errmsg)
{
	struct gpufs_spec_builder *builder = gpufs_spec_builder_new(provider, default_name);
	int rc = gpufs_spec_builder_feed(builder, text, len, errmsg);

	if (rc == 0)
		rc = gpufs_spec_builder_finish(builder, spec_out, errmsg);
	gpufs_spec_builder_free(builder);
	return rc;
}

void gpufs_spec_builder_forbid_file_refs(struct gpufs_spec_builder *builder)
{
	builder->no_file_refs = TRUE;
}
