/* gpufs: options, configuration and start-up.
 *
 * Start-up follows sshfs: everything that can fail for a reason the user can
 * fix (options, the config file, keys, the mount itself) fails on the
 * terminal before the daemon forks.  Nothing made before the fork starts a
 * thread: libcurl connects lazily, on the first request. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fuse_lowlevel.h>
#include "gpufs/account.h"
#include "gpufs/config.h"
#include "gpufs/events.h"
#include "gpufs/http.h"
#include "gpufs/log.h"
#include "gpufs/tree.h"
#include "gpufs/watch.h"
#include "closes.h"
#include "dirops.h"
#include "fs.h"
#include "loop.h"
#include "notify.h"
#include "prefill.h"
#include "stop.h"

#define DEFAULT_TTL_S  5.0
#define DEFAULT_POLL_S 10.0
/* While an instance is changing state a script is usually waiting on it. */
#define FAST_POLL_S 2.0
/* About ten thousand lines of changes: enough for a slow reader's minute. */
#define EVENTS_BYTES (1024 * 1024)
/* The kernel trusts a value file while its value is fresh (the TTL), and
 * at least this long: then it asks again, and gpufs asks the provider once
 * the TTL is over. */
#define MAX_ATTR_TIMEOUT_S 1.0
/* Handlers block on HTTP: more waiting threads than libfuse's default of
 * 10.  Fewer than 2 would leave no thread to hand the reading to. */
#define DEFAULT_MAX_THREADS 32
#define MIN_MAX_THREADS	    2
#define MAX_MAX_THREADS	    1000
/* See loop.h; a spin of milliseconds would only burn CPU. */
#define DEFAULT_SPIN_US 50
#define MAX_SPIN_US	10000

struct options {
	char *config;
	char *ttl;
	char *poll;
	char *timeout;
	char *connect_timeout;
	char *loglevel;
	char *spin;
	char *max_threads;
	int read_only;
	/* Words that are not options: [SOURCE] MOUNTPOINT, as mount.fuse3
	 * passes them. */
	GPtrArray *words;
};

#define GPUFS_OPT(t, p)                                                                            \
	{                                                                                          \
		t, offsetof(struct options, p), 1                                                  \
	}

static const struct fuse_opt option_spec[] = {
    GPUFS_OPT("config=%s", config),
    GPUFS_OPT("ttl=%s", ttl),
    GPUFS_OPT("poll=%s", poll),
    GPUFS_OPT("timeout=%s", timeout),
    GPUFS_OPT("connect_timeout=%s", connect_timeout),
    GPUFS_OPT("loglevel=%s", loglevel),
    GPUFS_OPT("spin=%s", spin),
    /* Ours, not fuse_parse_cmdline's: its default of 10 cannot be told from
     * a 10 given, and ours is 32. */
    GPUFS_OPT("max_threads=%s", max_threads),
    GPUFS_OPT("ro", read_only),
    FUSE_OPT_KEY("ro", FUSE_OPT_KEY_KEEP), /* the kernel should know too */
    /* What mount(8) and fstab may hand on that means nothing to a FUSE
     * filesystem: accept and drop it, so an fstab line works. */
    FUSE_OPT_KEY("auto", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("noauto", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("user", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nouser", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("users", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("defaults", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("nofail", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("_netdev", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_KEY("comment=", FUSE_OPT_KEY_DISCARD),
    FUSE_OPT_END,
};

static int keep_words(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct options *opts = data;

	/* x-systemd.automount and friends are for systemd, not for us. */
	if (key == FUSE_OPT_KEY_OPT && g_str_has_prefix(arg, "x-"))
		return 0;
	if (key != FUSE_OPT_KEY_NONOPT)
		return 1;
	g_ptr_array_add(opts->words, g_strdup(arg));
	return 0;
}

static void usage(const char *progname)
{
	printf("usage: %s [options] [SOURCE] MOUNTPOINT\n"
	       "\n"
	       "Shows the GPU machines you rent from cloud providers as files.\n"
	       "SOURCE is \"none\" or \"gpufs\" for every account of the configuration\n"
	       "(the default), or one account's name to show only that account.\n"
	       "\n"
	       "gpufs options:\n"
	       "    -o config=PATH         configuration file\n"
	       "                           (default $XDG_CONFIG_HOME/gpufs/config)\n"
	       "    -o ro                  read-only: nothing is created, changed or deleted\n"
	       "    -o ttl=SECONDS         how long fetched values are reused (default %g)\n"
	       "    -o poll=SECONDS        how often a watched account is listed (default %g,\n"
	       "                           %g while an instance changes state)\n"
	       "    -o timeout=SECONDS     longest a provider request may take (default 20)\n"
	       "    -o connect_timeout=SECONDS  longest a connection may take (default 5)\n"
	       "    -o loglevel=LEVEL      err, warning, info or debug (default warning;\n"
	       "                           info with -f, debug with -d)\n"
	       "    -o spin=MICROSECONDS   how long gpufs looks for the next FUSE request\n"
	       "                           before it sleeps (default %u; 0: never)\n"
	       "    -o max_threads=COUNT   most threads answering FUSE requests at once\n"
	       "                           (default %u, %u to %u)\n"
	       "    -f                     stay in the foreground\n"
	       "    -d                     debug: log every request (never keys) and FUSE traffic\n"
	       "    -h, --help             print this help\n"
	       "    -V, --version          print the version\n"
	       "\n"
	       "FUSE options:\n",
	       progname, DEFAULT_TTL_S, DEFAULT_POLL_S, FAST_POLL_S, DEFAULT_SPIN_US,
	       DEFAULT_MAX_THREADS, MIN_MAX_THREADS, MAX_MAX_THREADS);
	fuse_lowlevel_help();
}

static gboolean parse_seconds(const char *name, const char *text, double fallback, double *out)
{
	char *end = NULL;
	double value;

	if (!text) {
		*out = fallback;
		return TRUE;
	}
	value = g_ascii_strtod(text, &end);
	if (!*text || *end || value < 0 || value > 86400) {
		fprintf(stderr, "gpufs: -o %s=%s: expected seconds, e.g. %s=%g\n", name, text, name,
			fallback);
		return FALSE;
	}
	*out = value;
	return TRUE;
}

/* A whole number from @min to @max for -o @name=, or @fallback if not given. */
static gboolean parse_count(const char *name, const char *unit, const char *text, unsigned fallback,
			    unsigned min, unsigned max, unsigned *out)
{
	char *end = NULL;
	guint64 value;

	if (!text) {
		*out = fallback;
		return TRUE;
	}
	value = g_ascii_strtoull(text, &end, 10);
	if (!g_ascii_isdigit(*text) || *end || value < min || value > max) {
		fprintf(stderr, "gpufs: -o %s=%s: expected %s from %u to %u, e.g. %s=%u\n", name,
			text, unit, min, max, name, fallback);
		return FALSE;
	}
	*out = (unsigned)value;
	return TRUE;
}

struct settings {
	struct gpufs_mount_options mount;
	struct gpufs_tree_options tree;
	struct gpufs_watch_options watch;
	unsigned spin_us;
	unsigned max_threads;
};

static gboolean settings_from(const struct options *opts, struct settings *s)
{
	double ttl, timeout, connect_timeout, poll;

	if (!parse_seconds("ttl", opts->ttl, DEFAULT_TTL_S, &ttl) ||
	    !parse_seconds("poll", opts->poll, DEFAULT_POLL_S, &poll) ||
	    !parse_seconds("timeout", opts->timeout, 20, &timeout) ||
	    !parse_seconds("connect_timeout", opts->connect_timeout, 5, &connect_timeout) ||
	    !parse_count("spin", "microseconds", opts->spin, DEFAULT_SPIN_US, 0, MAX_SPIN_US,
			 &s->spin_us) ||
	    !parse_count("max_threads", "a thread count", opts->max_threads, DEFAULT_MAX_THREADS,
			 MIN_MAX_THREADS, MAX_MAX_THREADS, &s->max_threads))
		return FALSE;
	s->mount = (struct gpufs_mount_options){
	    .ttl_us = (gint64)(ttl * G_USEC_PER_SEC),
	    .read_only = opts->read_only,
	    .timeout_ms = (long)(timeout * 1000),
	    .connect_timeout_ms = (long)(connect_timeout * 1000),
	};
	s->tree = (struct gpufs_tree_options){
	    .uid = getuid(),
	    .gid = getgid(),
	    .read_only = opts->read_only,
	    .attr_timeout = MIN(ttl, MAX_ATTR_TIMEOUT_S),
	    .entry_timeout = MIN(ttl, MAX_ATTR_TIMEOUT_S),
	};
	s->watch = (struct gpufs_watch_options){
	    .poll_s = MAX(poll, 0.1),
	    .fast_poll_s = MAX(MIN(poll, FAST_POLL_S), 0.1),
	};
	return TRUE;
}

static GPtrArray *make_accounts(const struct gpufs_config *config,
				const struct gpufs_mount_options *mount)
{
	GPtrArray *accounts = g_ptr_array_new_with_free_func((GDestroyNotify)gpufs_account_free);
	struct gpufs_mount_options options = *mount;

	/* [gpufs] max_cost_per_hour caps all accounts together (config.c checked it). */
	options.max_total_cost_per_hour = g_hash_table_lookup(config->global, "max_cost_per_hour");
	for (guint i = 0; i < config->accounts->len; i++)
		g_ptr_array_add(accounts, gpufs_account_new(config->accounts->pdata[i], &options));
	return accounts;
}

/* Runs the session loop until the session ends. */
static int serve(struct fuse_session *session, const struct fuse_cmdline_opts *cmd,
		 const struct settings *s)
{
	struct fuse_loop_config *loop;
	int rc;

	if (cmd->singlethread)
		return fuse_session_loop(session);
	/* Ours has neither libfuse's clone_fd nor its idle thread limit. */
	if (s->spin_us > 0 && !cmd->clone_fd && cmd->max_idle_threads == UINT_MAX) {
		struct gpufs_loop_options options = {.max_threads = s->max_threads,
						     .spin_us = s->spin_us};

		return gpufs_loop_run(session, &options);
	}
	loop = fuse_loop_cfg_create();
	fuse_loop_cfg_set_clone_fd(loop, cmd->clone_fd);
	fuse_loop_cfg_set_max_threads(loop, s->max_threads);
	if (cmd->max_idle_threads != UINT_MAX) /* UINT_MAX: not given */
		fuse_loop_cfg_set_idle_threads(loop, cmd->max_idle_threads);
	rc = fuse_session_loop_mt(session, loop);
	fuse_loop_cfg_destroy(loop);
	return rc;
}

static int run(struct fuse_args *args, const struct fuse_cmdline_opts *cmd,
	       struct gpufs_config *config, const struct settings *s)
{
	struct gpufs_events *events = gpufs_events_new(EVENTS_BYTES);
	struct gpufs_tree_options tree_options = s->tree;
	struct gpufs_notifier *notifier = NULL;
	struct gpufs_closes *closes = NULL;
	struct gpufs_prefill *prefill = NULL;
	struct gpufs_watch *watch = NULL;
	struct gpufs_stop *stop = NULL;
	struct gpufs_tree_notifier callbacks;
	struct fuse_session *session;
	GPtrArray *accounts;
	struct gpufs_tree *tree;
	int rc = 1;

	gpufs_http_global_init();
	accounts = make_accounts(config, &s->mount);
	tree_options.events = events;
	tree = gpufs_tree_new(g_ptr_array_ref(accounts), &tree_options);
	session = fuse_session_new(args, &gpufs_fs_ops, sizeof(gpufs_fs_ops), tree);
	if (!session)
		goto out_tree;
	stop = gpufs_stop_new(session);
	if (!stop)
		goto out_session;
	if (fuse_session_mount(session, cmd->mountpoint) != 0)
		goto out_signals;
	gpufs_dirops_enable(session);
	if (fuse_daemonize(cmd->foreground) != 0)
		goto out_unmount;
	if (!cmd->foreground)
		gpufs_log_use_syslog(TRUE);

	/* Threads only after the fork. */
	notifier = gpufs_notifier_start(session, cmd->mountpoint);
	callbacks = gpufs_notifier_callbacks(notifier);
	gpufs_tree_set_notifier(tree, &callbacks);
	closes = gpufs_closes_start(tree, cmd->mountpoint);
	gpufs_tree_set_close_source(tree, gpufs_closes_drain, closes);
	prefill = gpufs_prefill_new(session, tree, !cmd->singlethread);
	gpufs_fs_setup(notifier, closes, prefill);
	gpufs_stop_start(stop, gpufs_prefill_stop, prefill);
	watch = gpufs_watch_start(tree, accounts, events, &s->watch);
	gpufs_info("mounted %u account(s) at %s", config->accounts->len, cmd->mountpoint);

	rc = serve(session, cmd, s);
	gpufs_stop_loop_ended(stop);
	gpufs_closes_freeze(closes);
	gpufs_watch_stop(watch);
out_unmount:
	/* Unmount before stopping the notifier and the spec watcher: a syscall
	 * of theirs on the mount then fails instead of waiting for a loop that
	 * has ended. */
	fuse_session_unmount(session);
	gpufs_closes_stop(closes);
	gpufs_notifier_stop(notifier);
	gpufs_prefill_free(prefill);
out_signals:
	gpufs_stop_free(stop);
out_session:
	fuse_session_destroy(session);
out_tree:
	gpufs_tree_free(tree);
	g_ptr_array_unref(accounts);
	gpufs_events_free(events);
	gpufs_http_global_cleanup();
	return rc ? 1 : 0;
}

/* TRUE when -o allow_other or allow_root lets other users into the mount:
 * then they write specs too, and the daemon must not read files for them. */
static gboolean mount_is_shared(const struct fuse_args *args)
{
	for (int i = 1; i < args->argc; i++) {
		const char *opts = args->argv[i];
		g_auto(GStrv) words = NULL;

		if (strcmp(opts, "-o") == 0 && i + 1 < args->argc)
			opts = args->argv[++i];
		else if (g_str_has_prefix(opts, "-o"))
			opts += 2;
		else
			continue;
		words = g_strsplit(opts, ",", -1);
		for (int w = 0; words[w]; w++)
			if (strcmp(words[w], "allow_other") == 0 ||
			    strcmp(words[w], "allow_root") == 0)
				return TRUE;
	}
	return FALSE;
}

static void add_default_mount_options(struct fuse_args *args, const char *account)
{
	g_autofree char *opt =
	    g_strdup_printf("-odefault_permissions,fsname=gpufs%s%s,subtype=gpufs",
			    account ? ":" : "", account ? account : "");

	/* Private by default: the kernel checks the modes, and no allow_other. */
	fuse_opt_add_arg(args, opt);
}

static gboolean parse_level(const char *text, enum gpufs_log_level *out)
{
	static const char *const names[] = {
	    [GPUFS_LOG_ERR] = "err",
	    [GPUFS_LOG_WARNING] = "warning",
	    [GPUFS_LOG_INFO] = "info",
	    [GPUFS_LOG_DEBUG] = "debug",
	};

	for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
		if (strcmp(text, names[i]) == 0) {
			*out = i;
			return TRUE;
		}
	}
	fprintf(stderr, "gpufs: -o loglevel=%s: use err, warning, info or debug\n", text);
	return FALSE;
}

/* The account SOURCE names, or NULL for "none" and "gpufs": every account. */
static const char *source_account(const char *source)
{
	if (!source || strcmp(source, "none") == 0 || strcmp(source, "gpufs") == 0)
		return NULL;
	return source;
}

/* Keeps only the account @name (NULL: keep all).  FALSE, having said why on
 * stderr, when the configuration has no such account. */
static gboolean select_account(struct gpufs_config *config, const char *name)
{
	g_autoptr(GString) names = g_string_new(NULL);
	GPtrArray *accounts = config->accounts;
	gboolean found = FALSE;

	if (!name)
		return TRUE;
	for (guint i = 0; i < accounts->len; i++) {
		struct gpufs_account_config *account = accounts->pdata[i];

		found = found || strcmp(account->name, name) == 0;
		g_string_append_printf(names, "%s%s", names->len ? ", " : "", account->name);
	}
	if (!found) {
		fprintf(stderr,
			"gpufs: no account [%s] in %s: give one of %s, or \"none\" for all\n", name,
			config->path, names->str);
		return FALSE;
	}
	for (guint i = accounts->len; i-- > 0;) {
		struct gpufs_account_config *account = accounts->pdata[i];

		if (strcmp(account->name, name) != 0)
			g_ptr_array_remove_index(accounts, i);
	}
	return TRUE;
}

/* Descriptors 0-2 must be open before gpufs opens anything, or a pipe or a
 * socket of ours becomes stdout or stderr (libfuse does this too, but only
 * at the mount, after the stop pipe and the config file). */
static void keep_stdio_open(void)
{
	int fd;

	do
		fd = open("/dev/null", O_RDWR);
	while (fd >= 0 && fd <= 2);
	if (fd > 2)
		close(fd);
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct fuse_cmdline_opts cmd = {0};
	struct options opts = {.words = g_ptr_array_new_with_free_func(g_free)};
	struct gpufs_config *config = NULL;
	g_autofree char *errmsg = NULL;
	g_autofree char *config_path = NULL;
	struct settings settings;
	enum gpufs_log_level level;
	const char *source = NULL;
	int rc = 1;

	keep_stdio_open();
	if (fuse_opt_parse(&args, &opts, option_spec, keep_words) != 0)
		goto out;
	/* mount.fuse3 runs "gpufs SOURCE MOUNTPOINT -o ...". */
	if (opts.words->len > 2) {
		fprintf(stderr, "gpufs: too many arguments: %s (try %s --help)\n",
			(char *)opts.words->pdata[2], argv[0]);
		goto out;
	}
	if (opts.words->len == 2)
		source = opts.words->pdata[0];
	if (opts.words->len > 0)
		fuse_opt_add_arg(&args, opts.words->pdata[opts.words->len - 1]);
	if (fuse_parse_cmdline(&args, &cmd) != 0)
		goto out;
	if (cmd.show_help) {
		usage(argv[0]);
		rc = 0;
		goto out;
	}
	if (cmd.show_version) {
		printf("gpufs %s\nFUSE library version %s\n", PACKAGE_VERSION, fuse_pkgversion());
		rc = 0;
		goto out;
	}
	if (!cmd.mountpoint) {
		fprintf(stderr, "gpufs: no mountpoint given (try %s --help)\n", argv[0]);
		goto out;
	}
	level = cmd.debug ? GPUFS_LOG_DEBUG : cmd.foreground ? GPUFS_LOG_INFO : GPUFS_LOG_WARNING;
	if (opts.loglevel && !parse_level(opts.loglevel, &level))
		goto out;
	gpufs_log_set_level(level);
	if (!settings_from(&opts, &settings))
		goto out;
	settings.tree.shared = mount_is_shared(&args);
	config_path = opts.config ? g_strdup(opts.config) : gpufs_config_default_path();
	if (gpufs_config_load(config_path, &config, &errmsg) < 0) {
		fprintf(stderr, "gpufs: %s\n", errmsg);
		goto out;
	}
	if (!select_account(config, source_account(source)))
		goto out;
	add_default_mount_options(&args, source_account(source));
	rc = run(&args, &cmd, config, &settings);
out:
	gpufs_config_free(config);
	free(cmd.mountpoint);
	fuse_opt_free_args(&args);
	g_free(opts.config);
	g_free(opts.ttl);
	g_free(opts.poll);
	g_free(opts.timeout);
	g_free(opts.connect_timeout);
	g_free(opts.loglevel);
	g_free(opts.spin);
	g_free(opts.max_threads);
	g_ptr_array_unref(opts.words);
	return rc;
}
