/* The configuration file: one GKeyFile section per account.  Every failure is
 * one line naming the account and the fix, because it stops the mount. */
#include <errno.h>
#include <math.h>
#include <fcntl.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "gpufs/config.h"
#include "gpufs/provider.h"

/* Far beyond any sane config or key file; stops a mistaken path (a device,
 * a huge log) from being slurped. */
#define CONFIG_MAX_BYTES (1 << 20)
#define KEY_MAX_BYTES	 (64 << 10)

struct loader {
	const char *path;
	char *dir; /* where relative api_key_file paths start */
	GKeyFile *file;
	mode_t mode;
};

static const char *const reserved_names[] = {"README", "events", "cost_per_hour", "offers", NULL};

/* Keys the loader consumes itself; everything else goes to options. */
static const char *const own_keys[] = {"provider", "api_key", "api_key_file", "url", NULL};

static int fail(char **errmsg, int err, const char *fmt, ...) G_GNUC_PRINTF(3, 4);

static int fail(char **errmsg, int err, const char *fmt, ...)
{
	va_list ap;

	if (errmsg) {
		va_start(ap, fmt);
		*errmsg = g_strdup_vprintf(fmt, ap);
		va_end(ap);
	}
	return err;
}

static gboolean in_list(const char *const *list, const char *word)
{
	for (int i = 0; list[i]; i++)
		if (strcmp(list[i], word) == 0)
			return TRUE;
	return FALSE;
}

char *gpufs_config_default_path(void)
{
	return g_build_filename(g_get_user_config_dir(), "gpufs", "config", NULL);
}

gboolean gpufs_config_reserved_name(const char *name)
{
	return name && in_list(reserved_names, name);
}

/* Frees a secret after overwriting it, so it does not linger in freed heap. */
static void free_secret(char *secret)
{
	if (!secret)
		return;
	explicit_bzero(secret, strlen(secret));
	g_free(secret);
}

static void account_free(gpointer data)
{
	struct gpufs_account_config *account = data;

	g_free(account->name);
	free_secret(account->api_key);
	g_free(account->url);
	if (account->options)
		g_hash_table_unref(account->options);
	g_free(account);
}

void gpufs_config_free(struct gpufs_config *config)
{
	if (!config)
		return;
	g_free(config->path);
	if (config->accounts)
		g_ptr_array_free(config->accounts, TRUE);
	if (config->global)
		g_hash_table_unref(config->global);
	g_free(config);
}

/* Reads a whole regular file and its mode.  The mode comes from the open
 * descriptor, so it describes the bytes we read. */
static int read_file(const char *path, gsize max, GString **text, mode_t *mode)
{
	GString *buf;
	struct stat st;
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
	}
	buf = g_string_new(NULL);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf->len + n > max) {
			int err = n < 0 ? -errno : -EFBIG;

			close(fd);
			explicit_bzero(buf->str, buf->len);
			g_string_free(buf, TRUE);
			return err;
		}
		g_string_append_len(buf, chunk, n);
	}
	close(fd);
	*mode = st.st_mode;
	*text = buf;
	return 0;
}

static const char *read_error_words(int err)
{
	switch (err) {
	case -EINVAL:
		return "not a regular file";
	case -EFBIG:
		return "file too large";
	default:
		return g_strerror(-err);
	}
}

/* "runcrate, vastai, novita", skipping @skip (may be NULL). */
static char *provider_names(const char *skip)
{
	const struct gpufs_provider *const *list = gpufs_providers();
	GString *out = g_string_new(NULL);

	for (int i = 0; list && list[i]; i++) {
		if (skip && strcmp(list[i]->name, skip) == 0)
			continue;
		if (out->len)
			g_string_append(out, ", ");
		g_string_append(out, list[i]->name);
	}
	return g_string_free(out, FALSE);
}

static const char *first_provider_name(void)
{
	const struct gpufs_provider *const *list = gpufs_providers();

	return list && list[0] ? list[0]->name : "runcrate";
}

/* A section name becomes a directory under the mountpoint. */
static int check_section_name(const char *name, char **errmsg)
{
	const char *why = NULL;

	if (!*name)
		why = "an empty name";
	else if (strchr(name, '/'))
		why = "a '/'";
	else if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		why = "a name that is not a directory";
	else if (strlen(name) > 255)
		why = "a name longer than 255 bytes";
	else if (gpufs_config_reserved_name(name))
		why = "the name of a file at the mount's root";
	if (!why)
		return 0;
	return fail(errmsg, -EINVAL,
		    "account [%s]: the section name is %s and cannot be a directory: rename the "
		    "section",
		    name, why);
}

/* GKeyFile only knows whole-line comments, but the documented example puts
 * "# ..." after values, and people copy examples: a '#' after white space
 * ends the value.  No key, URL or path of ours needs " #". */
static void strip_trailing_comment(char *value)
{
	for (char *p = value; *p; p++) {
		if (*p == '#' && p > value && g_ascii_isspace(p[-1])) {
			*p = '\0';
			return;
		}
	}
}

/* A trimmed string value, NULL when the key is absent. */
static int get_value(struct loader *ld, const char *group, const char *key, char **out,
		     char **errmsg)
{
	GError *error = NULL;
	char *value;

	*out = NULL;
	if (!g_key_file_has_key(ld->file, group, key, NULL))
		return 0;
	value = g_key_file_get_string(ld->file, group, key, &error);
	if (!value) {
		int err = fail(errmsg, -EINVAL, "account [%s]: %s: %s in %s", group, key,
			       error->message, ld->path);

		g_error_free(error);
		return err;
	}
	strip_trailing_comment(value);
	*out = g_strstrip(value);
	return 0;
}

static int find_provider(struct loader *ld, const char *group,
			 const struct gpufs_provider **provider, char **errmsg)
{
	char *name, *names;
	int err;

	err = get_value(ld, group, "provider", &name, errmsg);
	if (err)
		return err;
	if (!name) {
		*provider = gpufs_provider_find(group);
		if (*provider)
			return 0;
		names = provider_names(first_provider_name());
		err = fail(errmsg, -EINVAL,
			   "account [%s]: no provider: add \"provider = %s\"%s%s%s", group,
			   first_provider_name(), *names ? " (or " : "", names, *names ? ")" : "");
		g_free(names);
		return err;
	}
	*provider = gpufs_provider_find(name);
	if (!*provider) {
		names = provider_names(NULL);
		err = fail(errmsg, -EINVAL, "account [%s]: unknown provider \"%s\": use one of %s",
			   group, name, names);
		g_free(names);
	}
	g_free(name);
	return err;
}

/* Keys go into an HTTP header: whitespace or control bytes would corrupt it. */
static int check_key_text(const char *group, const char *key, const char *source, char **errmsg)
{
	if (!*key)
		return fail(errmsg, -EINVAL, "account [%s]: the API key in %s is empty", group,
			    source);
	for (const char *p = key; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return fail(errmsg, -EINVAL,
				    "account [%s]: the API key in %s contains spaces or control "
				    "characters",
				    group, source);
	return 0;
}

/* Group or other access to a file holding a key is refused outright. */
static int check_private(const char *file, mode_t mode, char **errmsg)
{
	if (!(mode & 077))
		return 0;
	return fail(errmsg, -EACCES,
		    "%s holds an API key and is readable by others (mode %04o): run chmod 600 %s",
		    file, (unsigned)(mode & 07777), file);
}

/* "~/x" is the home directory; a relative path starts at the config's. */
static char *key_file_path(struct loader *ld, const char *name)
{
	if (g_str_has_prefix(name, "~/"))
		return g_build_filename(g_get_home_dir(), name + 2, NULL);
	if (g_path_is_absolute(name))
		return g_strdup(name);
	return g_build_filename(ld->dir, name, NULL);
}

static int key_from_file(struct loader *ld, const char *group, const char *name, char **key,
			 char **errmsg)
{
	char *path = key_file_path(ld, name);
	GString *buf = NULL;
	char *text;
	mode_t mode = 0;
	int err = read_file(path, KEY_MAX_BYTES, &buf, &mode);

	if (err) {
		err = fail(errmsg, err, "account [%s]: cannot read api_key_file %s: %s", group,
			   path, read_error_words(err));
		g_free(path);
		return err;
	}
	text = g_string_free(buf, FALSE);
	err = check_private(path, mode, errmsg);
	if (!err) {
		char *source = g_strdup_printf("api_key_file %s", path);

		err = check_key_text(group, g_strstrip(text), source, errmsg);
		g_free(source);
	}
	g_free(path);
	if (err) {
		free_secret(text);
		return err;
	}
	*key = text;
	return 0;
}

static int key_from_env(struct loader *ld, const char *group, const struct gpufs_provider *provider,
			char **key, char **errmsg)
{
	const char *value = provider->key_env ? g_getenv(provider->key_env) : NULL;
	char *source;
	int err;

	if (!value || !*value)
		return fail(errmsg, -EINVAL,
			    "account [%s]: no API key: set api_key or api_key_file in %s%s%s",
			    group, ld->path, provider->key_env ? ", or export " : "",
			    provider->key_env ? provider->key_env : "");
	*key = g_strstrip(g_strdup(value));
	source = g_strdup_printf("$%s", provider->key_env);
	err = check_key_text(group, *key, source, errmsg);
	g_free(source);
	if (err)
		g_clear_pointer(key, free_secret);
	return err;
}

/* api_key, else api_key_file, else the provider's environment variable. */
static int find_key(struct loader *ld, const char *group, const struct gpufs_provider *provider,
		    char **key, char **errmsg)
{
	char *inline_key = NULL, *file = NULL, *source;
	int err;

	err = get_value(ld, group, "api_key", &inline_key, errmsg);
	if (!err)
		err = get_value(ld, group, "api_key_file", &file, errmsg);
	if (!err && inline_key && file)
		err = fail(errmsg, -EINVAL,
			   "account [%s]: both api_key and api_key_file are set in %s: keep one",
			   group, ld->path);
	if (err)
		goto out;
	if (file) {
		err = key_from_file(ld, group, file, key, errmsg);
		goto out;
	}
	if (!inline_key) {
		err = key_from_env(ld, group, provider, key, errmsg);
		goto out;
	}
	source = g_strdup_printf("api_key of %s", ld->path);
	err = check_key_text(group, inline_key, source, errmsg);
	g_free(source);
	if (!err)
		err = check_private(ld->path, ld->mode, errmsg);
	if (!err)
		*key = g_steal_pointer(&inline_key);
out:
	free_secret(inline_key);
	g_free(file);
	return err;
}

static gboolean has_http_scheme(const char *url)
{
	return g_ascii_strncasecmp(url, "http://", 7) == 0 ||
	       g_ascii_strncasecmp(url, "https://", 8) == 0;
}

static void strip_slashes(char *url)
{
	gsize len = strlen(url);

	while (len > 0 && url[len - 1] == '/')
		url[--len] = '\0';
}

static int find_url(struct loader *ld, const char *group, const struct gpufs_provider *provider,
		    char **url, char **errmsg)
{
	const char *host;
	int err = get_value(ld, group, "url", url, errmsg);

	if (err)
		return err;
	if (!*url) {
		*url = g_strdup(provider->default_url ? provider->default_url : "");
		strip_slashes(*url);
		return 0;
	}
	strip_slashes(*url);
	host = has_http_scheme(*url) ? strstr(*url, "://") + 3 : NULL;
	if (!host || !*host || strpbrk(*url, " \t\r\n")) {
		err = fail(errmsg, -EINVAL,
			   "account [%s]: url \"%s\" is not an http:// or https:// address: fix "
			   "url in %s",
			   group, *url, ld->path);
		g_clear_pointer(url, g_free);
	}
	return err;
}

static GHashTable *new_table(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
}

/* Every key of @group except @skip (may be NULL), as trimmed strings. */
static int read_keys(struct loader *ld, const char *group, const char *const *skip,
		     GHashTable **out, char **errmsg)
{
	char **keys = g_key_file_get_keys(ld->file, group, NULL, NULL);
	GHashTable *table = new_table();
	char *value;
	int err = 0;

	for (int i = 0; keys && keys[i] && !err; i++) {
		if (skip && in_list(skip, keys[i]))
			continue;
		err = get_value(ld, group, keys[i], &value, errmsg);
		if (!err && value)
			g_hash_table_replace(table, g_strdup(keys[i]), value);
	}
	g_strfreev(keys);
	if (err) {
		g_hash_table_unref(table);
		return err;
	}
	*out = table;
	return 0;
}

static int load_account(struct loader *ld, const char *group, struct gpufs_account_config **out,
			char **errmsg)
{
	struct gpufs_account_config *account = g_new0(struct gpufs_account_config, 1);
	int err;

	account->name = g_strdup(group);
	err = check_section_name(group, errmsg);
	if (!err)
		err = find_provider(ld, group, &account->provider, errmsg);
	if (!err)
		err = find_key(ld, group, account->provider, &account->api_key, errmsg);
	if (!err)
		err = find_url(ld, group, account->provider, &account->url, errmsg);
	if (!err)
		err = read_keys(ld, group, own_keys, &account->options, errmsg);
	if (err) {
		account_free(account);
		return err;
	}
	*out = account;
	return 0;
}

/* "[runcrate]   # a comment" is how the documentation writes a section, but
 * GKeyFile refuses anything after the ']': blank such a comment out.  Other
 * text after the ']' stays, so GKeyFile still reports it. */
static void strip_header_comments(GString *text)
{
	char *line = text->str;

	while (line) {
		char *end = strchr(line, '\n');
		char *p = line[0] == '[' ? strchr(line, ']') : NULL;

		if (p && (!end || p < end)) {
			char *comment = p + 1;

			while (*comment == ' ' || *comment == '\t')
				comment++;
			if (*comment == '#' && comment > p + 1)
				memset(p + 1, ' ',
				       (end ? end : comment + strlen(comment)) - (p + 1));
		}
		line = end ? end + 1 : NULL;
	}
}

static int open_config(struct loader *ld, char **errmsg)
{
	GError *error = NULL;
	GString *text = NULL;
	int err = read_file(ld->path, CONFIG_MAX_BYTES, &text, &ld->mode);

	if (err == -ENOENT)
		return fail(errmsg, err, "no config file %s: create it (see gpufs.conf(5))",
			    ld->path);
	if (err)
		return fail(errmsg, err, "cannot read config file %s: %s", ld->path,
			    read_error_words(err));
	strip_header_comments(text);
	ld->file = g_key_file_new();
	if (!g_key_file_load_from_data(ld->file, text->str, text->len, G_KEY_FILE_NONE, &error)) {
		err = fail(errmsg, -EINVAL, "%s: %s", ld->path, error->message);
		g_error_free(error);
	}
	/* The text may hold keys. */
	explicit_bzero(text->str, text->len);
	g_string_free(text, TRUE);
	return err;
}

/* [gpufs] is not an account: its keys are options of the whole mount. */
static int load_global(struct loader *ld, struct gpufs_config *config, char **errmsg)
{
	GHashTable *global;
	int err = read_keys(ld, GPUFS_CONFIG_GLOBAL_SECTION, NULL, &global, errmsg);

	if (err)
		return err;
	g_hash_table_unref(config->global);
	config->global = global;
	return 0;
}

static int load_sections(struct loader *ld, struct gpufs_config *config, char **errmsg)
{
	char **groups = g_key_file_get_groups(ld->file, NULL);
	struct gpufs_account_config *account;
	int err = 0;

	for (int i = 0; groups[i] && !err; i++) {
		if (strcmp(groups[i], GPUFS_CONFIG_GLOBAL_SECTION) == 0) {
			err = load_global(ld, config, errmsg);
			continue;
		}
		err = load_account(ld, groups[i], &account, errmsg);
		if (!err)
			g_ptr_array_add(config->accounts, account);
	}
	g_strfreev(groups);
	if (!err && config->accounts->len == 0)
		err = fail(errmsg, -EINVAL,
			   "%s defines no account: add a section such as [%s] with an api_key",
			   ld->path, first_provider_name());
	return err;
}

/* max_cost_per_hour guards money: a typo must stop the mount, not turn the
 * cap off. */
static int check_cap(GHashTable *keys, const char *section, char **errmsg)
{
	const char *text = g_hash_table_lookup(keys, "max_cost_per_hour");
	char *end = NULL;
	double cap;

	if (!text)
		return 0;
	cap = g_ascii_strtod(text, &end);
	while (end != text && g_ascii_isspace(*end))
		end++;
	if (end != text && !*end && isfinite(cap) && cap >= 0)
		return 0;
	return fail(errmsg, -EINVAL,
		    "[%s] max_cost_per_hour = \"%s\": write a number of USD per hour, e.g. 5.50",
		    section, text);
}

static int check_caps(const struct gpufs_config *config, char **errmsg)
{
	int err = check_cap(config->global, GPUFS_CONFIG_GLOBAL_SECTION, errmsg);

	for (guint i = 0; !err && i < config->accounts->len; i++) {
		const struct gpufs_account_config *account = config->accounts->pdata[i];

		err = check_cap(account->options, account->name, errmsg);
	}
	return err;
}

int gpufs_config_load(const char *path, struct gpufs_config **out, char **errmsg)
{
	struct gpufs_config *config = g_new0(struct gpufs_config, 1);
	struct loader ld = {0};
	int err;

	config->path = path ? g_strdup(path) : gpufs_config_default_path();
	config->accounts = g_ptr_array_new_with_free_func(account_free);
	config->global = new_table();
	ld.path = config->path;
	ld.dir = g_path_get_dirname(config->path);
	err = open_config(&ld, errmsg);
	if (!err)
		err = load_sections(&ld, config, errmsg);
	if (!err)
		err = check_caps(config, errmsg);
	if (ld.file)
		g_key_file_free(ld.file);
	g_free(ld.dir);
	if (err) {
		gpufs_config_free(config);
		return err;
	}
	*out = config;
	return 0;
}
