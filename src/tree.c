/* The namespace under the mountpoint (see tree.h).
 *
 * Nodes are created on first lookup and live as long as the mount, so an
 * inode number always means the same file.  Every file node keeps a snapshot
 * of its bytes; the snapshot is replaced only while answering lookup or
 * getattr, so the size the kernel holds and the bytes a read returns come
 * from the same rendering. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include "gpufs/account.h"
#include "gpufs/blocking.h"
#include "gpufs/events.h"
#include "gpufs/log.h"
#include "gpufs/util.h"
#include "gpufs/tree.h"
#include "gpufs/writers.h"

#define ROOT_INO	      1
#define STABLE_NAME_TIMEOUT_S 3600.0

enum node_kind {
	NODE_ROOT,
	NODE_README,
	NODE_EVENTS,	 /* /events: the change stream */
	NODE_COST,	 /* /cost_per_hour: all running instances */
	NODE_ALL_OFFERS, /* /offers: every account's offers */
	NODE_ACCOUNT,
	NODE_INSTANCES, /* <account>/instances/ */
	NODE_INSTANCE,	/* <account>/instances/<id>/ */
	NODE_FIELD,	/* a common value file; index = enum gpufs_field */
	NODE_EXTRA,	/* a provider-only value file; index into extra_files */
	NODE_LIVE,	/* a provider-only file asked for when read (Vast.ai logs) */
	NODE_JSON,
	NODE_CTL,
	NODE_BY_NAME, /* <account>/by-name/ */
	NODE_LINK,    /* <account>/by-name/<name> */
	NODE_OFFERS,
	NODE_BALANCE,
	NODE_NEW,  /* <account>/new/ */
	NODE_SPEC, /* <account>/new/<file> */
};

/* A spec file's life: written, closed, then applied once. */
struct spec_file {
	GMutex lock; /* serialises applying one file */
	struct gpufs_spec_builder *builder;
	GString *text;		       /* what was written, shown until applied */
	gint closed;		       /* atomic: closed since its last write: apply it */
	gboolean applied;	       /* a result exists; no second spec */
	gboolean sent;		       /* the provider was asked: never again */
	char *result;		       /* new id, or "error: ..." */
	struct gpufs_writers *writers; /* who wrote it since its last close */
	gint killed_by;		       /* atomic: a signal killed a writer before that close */
};

struct node {
	uint64_t ino;
	enum node_kind kind;
	struct node *parent;
	char *name;
	struct gpufs_account *account; /* the account this node is under */
	const char *instance_id;       /* instance dirs and their files */
	int index;
	GBytes *content; /* files: the snapshot; links: the target */
	struct timespec mtime;
	struct spec_file *spec;
	GPtrArray *specs;     /* NODE_NEW: its spec nodes */
	gint unlinked;	      /* atomic: a spec rm removed (read under its spec lock) */
	guint64 nlookup;      /* references the kernel holds */
	guint64 generation;   /* bumped when the snapshot changes */
	guint64 notified;     /* the generation the notifier last told */
	gint64 fresh_until;   /* monotonic time until which the value is the provider's latest */
	char *rendered_state; /* detail files: the provider status they were rendered at */
	char *tried_state;    /* ... and the listed one the poll last fetched them for */
};

struct dir_entry {
	char *name;
	uint64_t ino;
	mode_t mode;
};

struct gpufs_dir {
	GArray *entries; /* struct dir_entry */
};

struct gpufs_tree {
	struct gpufs_tree_options options;
	GPtrArray *accounts;
	GMutex lock;	   /* nodes, names, snapshots, spec lists */
	GPtrArray *nodes;  /* index ino - 1 */
	GHashTable *names; /* "<parent ino>/<name>" -> struct node * */
	struct timespec mount_time;
	GBytes *readme;
	struct gpufs_tree_notifier notifier;
	GHashTable *in_use;	  /* account -> count of its nodes with nlookup > 0 */
	GHashTable *self_absent;  /* "<parent ino>/<name>" the notifier is about to mkdir */
	GHashTable *self_present; /* ... and to rmdir */
	/* Open directory handles: the kernel sends RELEASEDIR asynchronously,
	 * and one still on its way at unmount never arrives; the tree frees
	 * what is left. */
	GHashTable *dirs;
	guint64 events_told;   /* the /events size the kernel was last told */
	gint64 events_read_us; /* when /events was last asked about */
	void (*drain_closes)(void *ctx);
	void *drain_ctx;
};

static const char readme_text[] =
    "gpufs: your rented GPU machines as files.  See gpufs(1).\n"
    "\n"
    "<account>/instances/<id>/     one directory per instance, one value per file:\n"
    "    id name status provider_status ip ssh gpu_type gpu_count cpu_cores\n"
    "    memory_gb disk_gb region image cost_per_hour created_at error json\n"
    "    status is one of: pending running stopping stopped terminating terminated error\n"
    "<account>/instances/<id>/ctl  write a verb (echo terminate > ctl); cat it for the verbs\n"
    "<account>/by-name/<name>      a link to the instance of that name\n"
    "<account>/offers              what can be rented, cheapest first, tab-separated\n"
    "<account>/new/<file>          write key=value lines (offer=, gpu_type=, image=, ...)\n"
    "                              and close: one instance is created, and the file then\n"
    "                              reads back its id, or \"error: <reason>\"\n"
    "<account>/balance             credit left, where the provider reports it\n"
    "events                        one line per change: TIME ACCOUNT ID FIELD OLD NEW\n"
    "cost_per_hour                 USD per hour of every running instance\n"
    "offers                        every account's offers, cheapest first\n";

/* ---- nodes ---- */

static struct timespec now_realtime(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

static char *name_key(uint64_t parent, const char *name)
{
	return g_strdup_printf("%" G_GUINT64_FORMAT "/%s", parent, name);
}

/* Finds or makes the child @name of @parent.  Called with the lock held. */
static struct node *child_locked(struct gpufs_tree *tree, struct node *parent, const char *name,
				 enum node_kind kind, int index)
{
	char *key = name_key(parent ? parent->ino : 0, name);
	struct node *node = g_hash_table_lookup(tree->names, key);

	if (node) {
		g_free(key);
		return node;
	}
	node = g_new0(struct node, 1);
	node->kind = kind;
	node->parent = parent;
	node->name = g_strdup(name);
	node->index = index;
	node->mtime = tree->mount_time;
	if (parent) {
		node->account = parent->account;
		node->instance_id =
		    parent->kind == NODE_INSTANCE ? parent->name : parent->instance_id;
	}
	if (kind == NODE_INSTANCE)
		node->instance_id = node->name;
	g_ptr_array_add(tree->nodes, node);
	node->ino = tree->nodes->len;
	g_hash_table_insert(tree->names, key, node);
	return node;
}

static struct node *child(struct gpufs_tree *tree, struct node *parent, const char *name,
			  enum node_kind kind, int index)
{
	struct node *node;

	g_mutex_lock(&tree->lock);
	node = child_locked(tree, parent, name, kind, index);
	g_mutex_unlock(&tree->lock);
	return node;
}

static struct node *node_get(struct gpufs_tree *tree, uint64_t ino)
{
	struct node *node = NULL;

	g_mutex_lock(&tree->lock);
	if (ino >= 1 && ino <= tree->nodes->len)
		node = tree->nodes->pdata[ino - 1];
	g_mutex_unlock(&tree->lock);
	return node;
}

static struct gpufs_spec_builder *
new_builder(struct gpufs_tree *tree, const struct gpufs_provider *provider, const char *name)
{
	struct gpufs_spec_builder *builder = gpufs_spec_builder_new(provider, name);

	if (tree->options.shared)
		gpufs_spec_builder_forbid_file_refs(builder);
	return builder;
}

static void spec_file_free(struct spec_file *spec)
{
	if (!spec)
		return;
	gpufs_spec_builder_free(spec->builder);
	g_string_free(spec->text, TRUE);
	g_free(spec->result);
	gpufs_writers_free(spec->writers);
	g_mutex_clear(&spec->lock);
	g_free(spec);
}

static void node_free(struct node *node)
{
	g_free(node->name);
	g_free(node->rendered_state);
	g_free(node->tried_state);
	if (node->content)
		g_bytes_unref(node->content);
	spec_file_free(node->spec);
	if (node->specs)
		g_ptr_array_unref(node->specs);
	g_free(node);
}

static void dir_free(struct gpufs_dir *dir);

struct gpufs_tree *gpufs_tree_new(GPtrArray *accounts, const struct gpufs_tree_options *options)
{
	struct gpufs_tree *tree = g_new0(struct gpufs_tree, 1);
	struct node *root;

	tree->options = *options;
	tree->accounts = accounts;
	g_mutex_init(&tree->lock);
	tree->nodes = g_ptr_array_new_with_free_func((GDestroyNotify)node_free);
	tree->names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	tree->mount_time = now_realtime();
	tree->readme = g_bytes_new_static(readme_text, sizeof(readme_text) - 1);
	tree->in_use = g_hash_table_new(NULL, NULL);
	tree->dirs = g_hash_table_new_full(NULL, NULL, (GDestroyNotify)dir_free, NULL);
	tree->self_absent = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	tree->self_present = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	if (options->events)
		tree->events_told = gpufs_events_size(options->events);
	root = child(tree, NULL, "/", NODE_ROOT, 0);
	g_assert(root->ino == ROOT_INO);
	return tree;
}

void gpufs_tree_free(struct gpufs_tree *tree)
{
	if (!tree)
		return;
	g_hash_table_destroy(tree->names);
	g_ptr_array_unref(tree->nodes);
	g_ptr_array_unref(tree->accounts);
	g_bytes_unref(tree->readme);
	g_hash_table_destroy(tree->in_use);
	g_hash_table_destroy(tree->dirs);
	g_hash_table_destroy(tree->self_absent);
	g_hash_table_destroy(tree->self_present);
	g_mutex_clear(&tree->lock);
	g_free(tree);
}

static struct gpufs_account *account_named(struct gpufs_tree *tree, const char *name)
{
	for (guint i = 0; i < tree->accounts->len; i++) {
		struct gpufs_account *account = tree->accounts->pdata[i];

		if (strcmp(account->name, name) == 0)
			return account;
	}
	return NULL;
}

static gboolean is_dir(const struct node *node)
{
	switch (node->kind) {
	case NODE_ROOT:
	case NODE_ACCOUNT:
	case NODE_INSTANCES:
	case NODE_INSTANCE:
	case NODE_BY_NAME:
	case NODE_NEW:
		return TRUE;
	default:
		return FALSE;
	}
}

/* A provider's writable value file (Vast.ai's name sets the label). */
static gboolean is_writable_value(const struct node *node)
{
	return (node->kind == NODE_FIELD || node->kind == NODE_EXTRA) &&
	       gpufs_provider_is_writable(node->account->provider, node->name);
}

/* Files whose bytes change under the user's own writes, or that grow: the
 * kernel asks for their attributes at every read (and drops its pages when
 * the size or mtime moved), so the notifier never has to invalidate them
 * while a writer may hold them.  Value files keep their attributes for the
 * attr timeout and are invalidated by the notifier. */
static gboolean is_uncached(const struct node *node)
{
	return node->kind == NODE_SPEC || node->kind == NODE_CTL || node->kind == NODE_LIVE ||
	       node->kind == NODE_EVENTS || is_writable_value(node);
}

/* ---- rendering ---- */

static GBytes *line_bytes(const char *value)
{
	if (!value || !*value)
		return g_bytes_new_static("", 0);
	return g_bytes_new_take(g_strdup_printf("%s\n", value), strlen(value) + 1);
}

static char *stale_note(const struct gpufs_cache_result *result)
{
	gint64 age_s = (g_get_monotonic_time() - result->stale_since) / G_USEC_PER_SEC;
	g_autoptr(GDateTime) since = g_date_time_new_now_utc();
	g_autoptr(GDateTime) then = g_date_time_add_seconds(since, -(gdouble)age_s);
	g_autofree char *when = g_date_time_format(then, "%Y-%m-%dT%H:%M:%SZ");

	return g_strdup_printf("stale since %s: %s", when,
			       result->error ? result->error : "provider unreachable");
}

/* `error`: our own last failure first, then staleness, then the provider's. */
static GBytes *render_error(struct node *node, struct gpufs_instance *inst,
			    const struct gpufs_cache_result *result)
{
	g_autofree char *local = gpufs_account_last_error(node->account, node->instance_id);
	g_autofree char *stale = NULL;

	if (local)
		return line_bytes(local);
	if (result->stale) {
		stale = stale_note(result);
		return line_bytes(stale);
	}
	return line_bytes(inst->values[GPUFS_F_ERROR]);
}

static gboolean needs_detail(struct node *node)
{
	const char *file = node->kind == NODE_JSON ? "json" : node->name;

	return gpufs_provider_is_detail_file(node->account->provider, file);
}

/* A detail file also returns in *state the provider status of the object
 * it was rendered from: a listing that shows another one makes the poll
 * fetch it again. */
static int render_instance_file(struct node *node, GBytes **out, gint64 *fresh_for, char **state)
{
	struct gpufs_cache_result result = {0};
	struct gpufs_instance *inst;
	int rc;

	rc = gpufs_account_instance(node->account, node->instance_id, needs_detail(node), &result);
	if (rc < 0) {
		gpufs_debug("%s: %s/%s: %s", node->account->name, node->instance_id, node->name,
			    result.error ? result.error : g_strerror(-rc));
		gpufs_cache_result_clear(node->account->instances, &result);
		return rc;
	}
	inst = result.value;
	*fresh_for = result.fresh_for;
	if (needs_detail(node))
		*state = g_strdup(inst->values[GPUFS_F_PROVIDER_STATUS]);
	switch (node->kind) {
	case NODE_FIELD:
		*out = node->index == GPUFS_F_ERROR ? render_error(node, inst, &result)
						    : line_bytes(inst->values[node->index]);
		break;
	case NODE_EXTRA:
		*out = line_bytes((guint)node->index < inst->n_extra ? inst->extra[node->index]
								     : NULL);
		break;
	default: /* NODE_JSON */
		*out = inst->json ? g_bytes_new(inst->json, strlen(inst->json))
				  : g_bytes_new_static("", 0);
		break;
	}
	/* Both caches share the instance ops, so either clears the result. */
	gpufs_cache_result_clear(node->account->instances, &result);
	return 0;
}

/* Asked of the provider when read, never cached: bounded by the provider
 * module (Vast.ai logs). */
static int render_live(struct node *node, GBytes **out)
{
	GString *text = g_string_new(NULL);
	g_autofree char *errmsg = NULL;
	int rc;

	rc = gpufs_account_read_live_file(node->account, node->instance_id, node->name, text,
					  &errmsg);
	if (rc < 0) {
		gpufs_account_set_error(node->account, node->instance_id, errmsg);
		g_string_free(text, TRUE);
		return rc;
	}
	*out = g_string_free_to_bytes(text);
	return 0;
}

static GBytes *render_ctl(struct node *node)
{
	GString *text = g_string_new(NULL);
	const char *const *verbs = node->account->provider->ctl_verbs;

	for (int i = 0; verbs && verbs[i]; i++)
		g_string_append_printf(text, "%s\n", verbs[i]);
	return g_string_free_to_bytes(text);
}

static int render_text(struct node *node, GBytes **out)
{
	struct gpufs_cache_result result = {0};
	int rc;

	if (node->kind == NODE_OFFERS)
		rc = gpufs_account_offers(node->account, &result);
	else
		rc = gpufs_account_balance(node->account, &result);
	if (rc < 0) {
		gpufs_warn("%s: %s: %s", node->account->name, node->name,
			   result.error ? result.error : g_strerror(-rc));
		g_free(result.error);
		return rc == -ENOSYS ? -ENOENT : rc;
	}
	*out = result.value; /* the reference moves to the caller */
	g_free(result.error);
	return 0;
}

static double running_cost(struct gpufs_account *account)
{
	struct gpufs_cache_result result = {0};
	struct gpufs_instance_list *list;
	double sum = 0;

	if (gpufs_account_list(account, &result) < 0) {
		g_free(result.error);
		return 0;
	}
	list = result.value;
	for (guint i = 0; i < list->items->len; i++) {
		struct gpufs_instance *inst = list->items->pdata[i];
		const char *cost = inst->values[GPUFS_F_COST_PER_HOUR];

		if (inst->status == GPUFS_STATUS_RUNNING && cost)
			sum += g_ascii_strtod(cost, NULL);
	}
	gpufs_cache_result_clear(account->lists, &result);
	return sum;
}

static GBytes *render_cost(struct gpufs_tree *tree)
{
	g_autofree char *text = NULL;
	double sum = 0;

	for (guint i = 0; i < tree->accounts->len; i++)
		sum += running_cost(tree->accounts->pdata[i]);
	/* A float sum grows tails like 0.30000000000000004: six decimals is
	 * finer than any provider's price. */
	text = gpufs_format_number(((gint64)(sum * 1e6 + 0.5)) / 1e6);
	return line_bytes(text);
}

struct offer_row {
	double cost;
	char *line;
};

static gint compare_rows(gconstpointer a, gconstpointer b)
{
	const struct offer_row *x = a, *y = b;

	if (x->cost != y->cost)
		return x->cost < y->cost ? -1 : 1;
	return g_strcmp0(x->line, y->line);
}

/* Adds @account's table rows (not its header) to @rows, account first. */
static void add_offer_rows(struct gpufs_account *account, GArray *rows)
{
	struct gpufs_cache_result result = {0};
	g_auto(GStrv) lines = NULL;
	g_autofree char *text = NULL;
	const char *data;
	gsize size;

	if (gpufs_account_offers(account, &result) < 0) {
		g_free(result.error);
		return;
	}
	data = g_bytes_get_data(result.value, &size);
	text = g_strndup(data, size);
	gpufs_cache_result_clear(account->texts, &result);
	lines = g_strsplit(text, "\n", -1);
	for (int i = 1; lines[i]; i++) {
		g_auto(GStrv) cells = g_strsplit(lines[i], "\t", -1);
		struct offer_row row;

		if (g_strv_length(cells) < GPUFS_OFFER_COLUMN_COUNT)
			continue;
		row.cost = g_ascii_strtod(cells[GPUFS_O_COST_PER_HOUR], NULL);
		row.line = g_strdup_printf("%s\t%s\n", account->name, lines[i]);
		g_array_append_val(rows, row);
	}
}

static GBytes *render_all_offers(struct gpufs_tree *tree)
{
	GArray *rows = g_array_new(FALSE, FALSE, sizeof(struct offer_row));
	GString *out = g_string_new("account");

	for (int c = 0; c < GPUFS_OFFER_COLUMN_COUNT; c++)
		g_string_append_printf(out, "\t%s", gpufs_offer_column_names[c]);
	g_string_append_c(out, '\n');
	for (guint i = 0; i < tree->accounts->len; i++)
		add_offer_rows(tree->accounts->pdata[i], rows);
	g_array_sort(rows, compare_rows);
	for (guint i = 0; i < rows->len; i++) {
		struct offer_row *row = &g_array_index(rows, struct offer_row, i);

		g_string_append(out, row->line);
		g_free(row->line);
	}
	g_array_free(rows, TRUE);
	return g_string_free_to_bytes(out);
}

static GBytes *render_spec(struct node *node)
{
	struct spec_file *spec = node->spec;
	GBytes *bytes;

	gpufs_blocking_lock(&spec->lock);
	if (spec->applied)
		bytes = line_bytes(spec->result);
	else
		bytes = g_bytes_new(spec->text->str, spec->text->len);
	g_mutex_unlock(&spec->lock);
	return bytes;
}

/* A cat asks for a file's attributes twice (fstat, then read): one
 * question to the provider serves both. */
#define LIVE_REUSE_US G_USEC_PER_SEC

/* @fresh_for: how much longer the bytes stay the provider's latest, where
 * that is known (instance files), or may be served again (live files); 0
 * otherwise. */
static int render(struct gpufs_tree *tree, struct node *node, GBytes **out, gint64 *fresh_for,
		  char **state)
{
	*fresh_for = 0;
	*state = NULL;
	switch (node->kind) {
	case NODE_README:
		*out = g_bytes_ref(tree->readme);
		return 0;
	case NODE_COST:
		*out = render_cost(tree);
		return 0;
	case NODE_ALL_OFFERS:
		*out = render_all_offers(tree);
		return 0;
	case NODE_FIELD:
	case NODE_EXTRA:
	case NODE_JSON:
		return render_instance_file(node, out, fresh_for, state);
	case NODE_LIVE:
		*fresh_for = LIVE_REUSE_US;
		return render_live(node, out);
	case NODE_CTL:
		*out = render_ctl(node);
		return 0;
	case NODE_OFFERS:
	case NODE_BALANCE:
		return render_text(node, out);
	case NODE_SPEC:
		*out = render_spec(node);
		return 0;
	default:
		return -EISDIR;
	}
}

/* Renders again and, when the bytes differ, makes them the snapshot with a
 * newer mtime: the kernel drops its cached pages when it sees that mtime. */
static int refresh(struct gpufs_tree *tree, struct node *node)
{
	GBytes *fresh = NULL;
	gint64 fresh_for;
	char *state;
	int rc = render(tree, node, &fresh, &fresh_for, &state);

	if (rc < 0)
		return rc;
	g_mutex_lock(&tree->lock);
	node->fresh_until = g_get_monotonic_time() + fresh_for;
	if (state) { /* with the bytes it goes with */
		if (g_strcmp0(state, node->rendered_state) != 0)
			g_clear_pointer(&node->tried_state, g_free); /* a new state, a new try */
		g_free(node->rendered_state);
		node->rendered_state = state;
	}
	if (!node->content || !g_bytes_equal(node->content, fresh)) {
		struct timespec now = now_realtime();

		if (node->content && now.tv_sec == node->mtime.tv_sec &&
		    now.tv_nsec <= node->mtime.tv_nsec)
			now.tv_nsec = node->mtime.tv_nsec + 1; /* strictly newer */
		node->mtime = node->content ? now : node->mtime;
		if (node->content)
			g_bytes_unref(node->content);
		else
			node->notified = node->generation + 1; /* a first look is no change */
		node->content = fresh;
		node->generation++;
	} else {
		g_bytes_unref(fresh);
	}
	g_mutex_unlock(&tree->lock);
	return 0;
}

/* ---- attributes ---- */

static mode_t file_mode(struct gpufs_tree *tree, const struct node *node)
{
	gboolean writable = !tree->options.read_only;

	if (is_writable_value(node))
		return S_IFREG | (writable ? 0644 : 0444);
	switch (node->kind) {
	case NODE_CTL:
	case NODE_SPEC:
		return S_IFREG | (writable ? 0644 : 0444);
	case NODE_NEW:
		return S_IFDIR | (writable ? 0755 : 0555);
	case NODE_LINK:
		return S_IFLNK | 0777;
	default:
		return is_dir(node) ? S_IFDIR | 0555 : S_IFREG | 0444;
	}
}

static void fill_attr(struct gpufs_tree *tree, struct node *node, struct stat *attr)
{
	memset(attr, 0, sizeof(*attr));
	attr->st_ino = node->ino;
	attr->st_mode = file_mode(tree, node);
	attr->st_nlink = is_dir(node) ? 2 : 1;
	attr->st_uid = tree->options.uid;
	attr->st_gid = tree->options.gid;
	attr->st_blksize = 4096;
	g_mutex_lock(&tree->lock);
	attr->st_size = node->content ? (off_t)g_bytes_get_size(node->content) : 0;
	attr->st_mtim = node->mtime;
	g_mutex_unlock(&tree->lock);
	if (node->kind == NODE_EVENTS) /* the stream's bytes never change: its size is live */
		attr->st_size = (off_t)gpufs_events_size(tree->options.events);
	attr->st_ctim = attr->st_mtim;
	attr->st_atim = attr->st_mtim;
	attr->st_blocks = (attr->st_size + 511) / 512;
}

/* How long the kernel may serve a file without asking again.  A
 * directory's attributes never change (its mtime is the mount's), and the
 * kernel checks them at every path walk under default_permissions: they
 * are trusted as long as the names are.  A value file is trusted while its
 * value is fresh, and at least the re-check interval (so a value is at
 * most that much older than the TTL); a change the poller sees is told at
 * once either way. */
static double attr_timeout(struct gpufs_tree *tree, struct node *node)
{
	gint64 fresh_for;

	if (is_dir(node))
		return STABLE_NAME_TIMEOUT_S;
	if (is_uncached(node))
		return 0;
	g_mutex_lock(&tree->lock);
	fresh_for = node->fresh_until - g_get_monotonic_time();
	g_mutex_unlock(&tree->lock);
	return MAX(tree->options.attr_timeout, (double)fresh_for / G_USEC_PER_SEC);
}

/* Whether answering for @node renders it again.  A live file is asked for
 * only by a reader of an open file: `ls -l` shows the last one. */
static gboolean wants_render(const struct node *node, gboolean of_open_file)
{
	if (is_dir(node) || node->kind == NODE_LINK || node->kind == NODE_EVENTS)
		return FALSE;
	if (node->kind != NODE_LIVE)
		return TRUE;
	return of_open_file && g_get_monotonic_time() >= node->fresh_until;
}

static int stat_node(struct gpufs_tree *tree, struct node *node, gboolean of_open_file,
		     struct stat *attr)
{
	if (wants_render(node, of_open_file)) {
		int rc = refresh(tree, node);

		if (rc < 0)
			return rc;
	}
	fill_attr(tree, node, attr);
	return 0;
}

/* ---- lookup ---- */

/* Spec closes reach the tree asynchronously (see the spec section below);
 * these make them count before an answer that depends on them. */
static void settle_spec(struct gpufs_tree *tree, struct node *node);
static void settle_specs(struct gpufs_tree *tree, struct gpufs_account *account);

static const struct {
	const char *name;
	enum node_kind kind;
} root_files[] = {
    {"README", NODE_README},
    {"events", NODE_EVENTS},
    {"cost_per_hour", NODE_COST},
    {"offers", NODE_ALL_OFFERS},
};

static struct node *lookup_root(struct gpufs_tree *tree, struct node *root, const char *name)
{
	struct gpufs_account *account;
	struct node *node;
	for (guint i = 0; i < G_N_ELEMENTS(root_files); i++)
		if (strcmp(name, root_files[i].name) == 0)
			return child(tree, root, name, root_files[i].kind, 0);
	account = account_named(tree, name);
	if (!account)
		return NULL;
	node = child(tree, root, name, NODE_ACCOUNT, 0);
	node->account = account;
	return node;
}

static const struct {
	const char *name;
	enum node_kind kind;
} account_entries[] = {
    {"instances", NODE_INSTANCES}, {"by-name", NODE_BY_NAME},
    {"offers", NODE_OFFERS},	   {"new", NODE_NEW},
    {"balance", NODE_BALANCE},
};

static gboolean account_has(struct gpufs_account *account, enum node_kind kind)
{
	return kind != NODE_BALANCE || account->provider->balance;
}

static struct node *lookup_account(struct gpufs_tree *tree, struct node *dir, const char *name)
{
	for (guint i = 0; i < G_N_ELEMENTS(account_entries); i++) {
		if (strcmp(account_entries[i].name, name) != 0 ||
		    !account_has(dir->account, account_entries[i].kind))
			continue;
		return child(tree, dir, name, account_entries[i].kind, 0);
	}
	return NULL;
}

/* TRUE when @set holds "<dir ino>/<name>". */
static gboolean self_expects(struct gpufs_tree *tree, GHashTable *set, struct node *dir,
			     const char *name)
{
	g_autofree char *key = name_key(dir->ino, name);
	gboolean found;

	g_mutex_lock(&tree->lock);
	found = g_hash_table_contains(set, key);
	g_mutex_unlock(&tree->lock);
	return found;
}

static int lookup_instance(struct gpufs_tree *tree, struct node *dir, const char *name,
			   gboolean self, struct node **out)
{
	struct gpufs_cache_result result = {0};
	int rc;

	/* The notifier's own mkdir and rmdir must find the name absent and
	 * present, whatever the provider says by now. */
	if (self && self_expects(tree, tree->self_absent, dir, name))
		return -ENOENT;
	if (self && self_expects(tree, tree->self_present, dir, name)) {
		*out = child(tree, dir, name, NODE_INSTANCE, 0);
		return 0;
	}
	if (!gpufs_account_knows(dir->account, name)) {
		if (!self)
			settle_specs(tree, dir->account); /* it may be one just created */
		rc = gpufs_account_instance(dir->account, name, FALSE, &result);
		gpufs_cache_result_clear(dir->account->instances, &result);
		if (rc < 0)
			return rc;
	}
	*out = child(tree, dir, name, NODE_INSTANCE, 0);
	return 0;
}

static struct node *lookup_instance_file(struct gpufs_tree *tree, struct node *dir,
					 const char *name)
{
	const struct gpufs_provider *provider = dir->account->provider;
	int index = gpufs_field_from_name(name);

	if (index >= 0)
		return child(tree, dir, name, NODE_FIELD, index);
	index = gpufs_provider_extra_index(provider, name);
	if (index >= 0)
		return child(tree, dir, name, NODE_EXTRA, index);
	if (gpufs_provider_is_live_file(provider, name))
		return child(tree, dir, name, NODE_LIVE, 0);
	if (strcmp(name, "json") == 0)
		return child(tree, dir, name, NODE_JSON, 0);
	if (strcmp(name, "ctl") == 0)
		return child(tree, dir, name, NODE_CTL, 0);
	return NULL;
}

/* by-name/<name> points at the live instance of that name: of several, one
 * that is not terminated, then the newest. */
static gboolean better_for_name(struct gpufs_instance *candidate, struct gpufs_instance *best)
{
	gboolean cand_dead = candidate->status == GPUFS_STATUS_TERMINATED;
	gboolean best_dead = best->status == GPUFS_STATUS_TERMINATED;

	if (cand_dead != best_dead)
		return !cand_dead;
	return g_strcmp0(candidate->values[GPUFS_F_CREATED_AT], best->values[GPUFS_F_CREATED_AT]) >
	       0;
}

static gboolean usable_name(const char *name)
{
	return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 &&
	       strcmp(name, "..") != 0 && strlen(name) <= 255;
}

/* Fills @names (name -> instance) from the current list. */
static int names_of(struct gpufs_account *account, struct gpufs_cache_result *result,
		    GHashTable *names)
{
	struct gpufs_instance_list *list;
	int rc = gpufs_account_list(account, result);

	if (rc < 0)
		return rc;
	list = result->value;
	for (guint i = 0; i < list->items->len; i++) {
		struct gpufs_instance *inst = list->items->pdata[i];
		const char *name = inst->values[GPUFS_F_NAME];
		struct gpufs_instance *best;

		if (!usable_name(name))
			continue;
		best = g_hash_table_lookup(names, name);
		if (!best || better_for_name(inst, best))
			g_hash_table_insert(names, (gpointer)name, inst);
	}
	return 0;
}

/* The link node for @name, pointing at @inst now.  Lock held. */
static struct node *link_locked(struct gpufs_tree *tree, struct node *dir, const char *name,
				struct gpufs_instance *inst)
{
	struct node *node = child_locked(tree, dir, name, NODE_LINK, 0);
	char *target = g_strdup_printf("../instances/%s", gpufs_instance_id(inst));

	if (node->content)
		g_bytes_unref(node->content);
	node->content = g_bytes_new_take(target, strlen(target));
	return node;
}

static int lookup_link(struct gpufs_tree *tree, struct node *dir, const char *name,
		       struct node **out)
{
	struct gpufs_cache_result result = {0};
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	struct gpufs_instance *inst;
	struct node *node;
	int rc;

	settle_specs(tree, dir->account);
	rc = names_of(dir->account, &result, names);
	if (rc < 0) {
		g_free(result.error);
		return rc;
	}
	inst = g_hash_table_lookup(names, name);
	if (!inst) {
		gpufs_cache_result_clear(dir->account->lists, &result);
		return -ENOENT;
	}
	g_mutex_lock(&tree->lock);
	node = link_locked(tree, dir, name, inst);
	g_mutex_unlock(&tree->lock);
	gpufs_cache_result_clear(dir->account->lists, &result);
	*out = node;
	return 0;
}

static struct node *lookup_spec(struct gpufs_tree *tree, struct node *dir, const char *name)
{
	char *key = name_key(dir->ino, name);
	struct node *node;

	g_mutex_lock(&tree->lock);
	node = g_hash_table_lookup(tree->names, key);
	g_mutex_unlock(&tree->lock);
	g_free(key);
	return node;
}

static int lookup_node(struct gpufs_tree *tree, struct node *dir, const char *name, gboolean self,
		       struct node **out)
{
	*out = NULL;
	switch (dir->kind) {
	case NODE_ROOT:
		*out = lookup_root(tree, dir, name);
		break;
	case NODE_ACCOUNT:
		*out = lookup_account(tree, dir, name);
		break;
	case NODE_INSTANCES:
		return lookup_instance(tree, dir, name, self, out);
	case NODE_INSTANCE:
		*out = lookup_instance_file(tree, dir, name);
		break;
	case NODE_BY_NAME:
		return lookup_link(tree, dir, name, out);
	case NODE_NEW:
		*out = lookup_spec(tree, dir, name);
		break;
	default:
		return -ENOTDIR;
	}
	return *out ? 0 : -ENOENT;
}

/* How long the kernel may trust a name.  Most names never change meaning:
 * an instance's files, the fixed files, and an instance directory, whose
 * end the poller reports with a real rmdir.  Freshness of the bytes is the
 * attr timeout's job.  A by-name link can point elsewhere tomorrow, and a
 * spec file can be removed and made again. */
static double entry_timeout(struct gpufs_tree *tree, const struct node *node)
{
	switch (node->kind) {
	case NODE_SPEC:
		return 0;
	case NODE_LINK:
		return tree->options.entry_timeout;
	default:
		return STABLE_NAME_TIMEOUT_S;
	}
}

static void fill_entry(struct gpufs_tree *tree, struct node *node, struct gpufs_entry *entry)
{
	entry->ino = node->ino;
	entry->attr_timeout = attr_timeout(tree, node);
	entry->entry_timeout = entry_timeout(tree, node);
}

/* A node the kernel holds keeps its account polled; not the account's own
 * directory or new/, which the spec watcher holds all along. */
static gboolean counts_as_use(const struct node *node)
{
	return node->account && node->kind != NODE_ACCOUNT && node->kind != NODE_NEW;
}

/* The kernel took a reference. */
static void hold(struct gpufs_tree *tree, struct node *node)
{
	g_mutex_lock(&tree->lock);
	if (node->nlookup++ == 0 && counts_as_use(node)) {
		guint count = GPOINTER_TO_UINT(g_hash_table_lookup(tree->in_use, node->account));

		g_hash_table_insert(tree->in_use, node->account, GUINT_TO_POINTER(count + 1));
	}
	g_mutex_unlock(&tree->lock);
}

void gpufs_tree_forget(struct gpufs_tree *tree, uint64_t ino, uint64_t count)
{
	struct node *node = node_get(tree, ino);

	if (!node)
		return;
	g_mutex_lock(&tree->lock);
	if (node->nlookup > 0 && count >= node->nlookup && counts_as_use(node)) {
		guint used = GPOINTER_TO_UINT(g_hash_table_lookup(tree->in_use, node->account));

		g_hash_table_insert(tree->in_use, node->account, GUINT_TO_POINTER(used - 1));
	}
	node->nlookup = count >= node->nlookup ? 0 : node->nlookup - count;
	g_mutex_unlock(&tree->lock);
}

/* A reader of /events asks about it at least every second (tail -f stats
 * it so); one that did within this long keeps every account polled. */
#define EVENTS_READER_US (60 * G_USEC_PER_SEC)

static void note_events_reader(struct gpufs_tree *tree, const struct node *node)
{
	if (node->kind != NODE_EVENTS)
		return;
	g_mutex_lock(&tree->lock);
	tree->events_read_us = g_get_monotonic_time();
	g_mutex_unlock(&tree->lock);
}

void gpufs_tree_note_reader(struct gpufs_tree *tree, uint64_t ino)
{
	struct node *node = node_get(tree, ino);

	if (node)
		note_events_reader(tree, node);
}

gboolean gpufs_tree_events_in_use(struct gpufs_tree *tree)
{
	gint64 last;

	g_mutex_lock(&tree->lock);
	last = tree->events_read_us;
	g_mutex_unlock(&tree->lock);
	return last && g_get_monotonic_time() - last < EVENTS_READER_US;
}

gboolean gpufs_tree_account_in_use(struct gpufs_tree *tree, struct gpufs_account *account)
{
	gboolean used;

	g_mutex_lock(&tree->lock);
	used = GPOINTER_TO_UINT(g_hash_table_lookup(tree->in_use, account)) > 0;
	g_mutex_unlock(&tree->lock);
	return used;
}

/* An absent name in new/ is answered as a negative entry the kernel may
 * keep: only this mount makes and removes specs, and the kernel sees both.
 * A name the kernel must ask about again opens a race in its create path:
 * between the create's own lookup, which leaves the new dentry negative,
 * and the CREATE reply, a concurrent lookup of the name (a reader polling
 * for the spec) finds it negative, has it revalidated, and drops it.  The
 * writer's file is then unlinked as far as the VFS is concerned, and
 * inotify's IN_EXCL_UNLINK hides its close (closes.c): the spec would
 * never be created.  A kept negative entry is valid, and nothing drops it. */
int gpufs_tree_lookup(struct gpufs_tree *tree, uint64_t parent, const char *name, gboolean self,
		      struct gpufs_entry *entry)
{
	struct node *dir = node_get(tree, parent);
	struct node *node;
	int rc;

	*entry = (struct gpufs_entry){0};
	if (!dir)
		return -ENOENT;
	if (!is_dir(dir))
		return -ENOTDIR;
	rc = lookup_node(tree, dir, name, self, &node);
	if (rc == -ENOENT && dir->kind == NODE_NEW)
		entry->entry_timeout = STABLE_NAME_TIMEOUT_S; /* a negative entry: above */
	if (rc < 0)
		return rc;
	/* A spec's lookup answers what the kernel last saw, without waiting
	 * for a create in flight: the kernel holds new/ locked meanwhile, and
	 * every other spec's creation would wait too.  Its attributes time out
	 * at once, and the getattr before any read waits instead. */
	if (node->kind == NODE_SPEC)
		fill_attr(tree, node, &entry->attr);
	else
		rc = stat_node(tree, node, FALSE, &entry->attr);
	if (rc < 0)
		return rc;
	if (!self)
		note_events_reader(tree, node);
	fill_entry(tree, node, entry);
	hold(tree, node);
	return 0;
}

int gpufs_tree_getattr(struct gpufs_tree *tree, uint64_t ino, gboolean of_open_file,
		       struct stat *attr, double *timeout)
{
	struct node *node = node_get(tree, ino);
	int rc;

	if (!node)
		return -ENOENT;
	if (node->kind == NODE_SPEC)
		settle_spec(tree, node);
	rc = stat_node(tree, node, of_open_file, attr);
	*timeout = attr_timeout(tree, node);
	return rc;
}

int gpufs_tree_readlink(struct gpufs_tree *tree, uint64_t ino, char **target)
{
	struct node *node = node_get(tree, ino);

	if (!node || node->kind != NODE_LINK)
		return -EINVAL;
	g_mutex_lock(&tree->lock);
	*target = g_strndup(g_bytes_get_data(node->content, NULL), g_bytes_get_size(node->content));
	g_mutex_unlock(&tree->lock);
	return 0;
}

/* ---- directories ---- */

static void dir_add(struct gpufs_dir *dir, struct node *node)
{
	struct dir_entry entry = {
	    .name = g_strdup(node->name),
	    .ino = node->ino,
	    .mode = node->kind == NODE_LINK ? S_IFLNK
		    : is_dir(node)	    ? S_IFDIR
					    : S_IFREG,
	};

	g_array_append_val(dir->entries, entry);
}

static void dir_entry_clear(gpointer data)
{
	g_free(((struct dir_entry *)data)->name);
}

static void list_root(struct gpufs_tree *tree, struct node *root, struct gpufs_dir *dir)
{
	for (guint i = 0; i < G_N_ELEMENTS(root_files); i++)
		dir_add(dir, child(tree, root, root_files[i].name, root_files[i].kind, 0));
	for (guint i = 0; i < tree->accounts->len; i++) {
		struct gpufs_account *account = tree->accounts->pdata[i];

		dir_add(dir, lookup_root(tree, root, account->name));
	}
}

static void list_account(struct gpufs_tree *tree, struct node *node, struct gpufs_dir *dir)
{
	for (guint i = 0; i < G_N_ELEMENTS(account_entries); i++)
		if (account_has(node->account, account_entries[i].kind))
			dir_add(dir, child(tree, node, account_entries[i].name,
					   account_entries[i].kind, 0));
}

static int list_instances(struct gpufs_tree *tree, struct node *node, struct gpufs_dir *dir)
{
	struct gpufs_cache_result result = {0};
	struct gpufs_instance_list *list;
	int rc = gpufs_account_list(node->account, &result);

	if (rc < 0) {
		g_free(result.error);
		return rc;
	}
	list = result.value;
	g_mutex_lock(&tree->lock);
	for (guint i = 0; i < list->items->len; i++) {
		const char *id = gpufs_instance_id((struct gpufs_instance *)list->items->pdata[i]);

		dir_add(dir, child_locked(tree, node, id, NODE_INSTANCE, 0));
	}
	g_mutex_unlock(&tree->lock);
	gpufs_cache_result_clear(node->account->lists, &result);
	return 0;
}

static void list_instance(struct gpufs_tree *tree, struct node *node, struct gpufs_dir *dir)
{
	const char *const *extra = node->account->provider->extra_files;
	const char *const *live = node->account->provider->live_files;

	for (int i = 0; i < GPUFS_FIELD_COUNT; i++)
		dir_add(dir, child(tree, node, gpufs_field_names[i], NODE_FIELD, i));
	for (int i = 0; extra && extra[i]; i++)
		dir_add(dir, child(tree, node, extra[i], NODE_EXTRA, i));
	for (int i = 0; live && live[i]; i++)
		dir_add(dir, child(tree, node, live[i], NODE_LIVE, 0));
	dir_add(dir, child(tree, node, "json", NODE_JSON, 0));
	dir_add(dir, child(tree, node, "ctl", NODE_CTL, 0));
}

static int list_by_name(struct gpufs_tree *tree, struct node *node, struct gpufs_dir *dir)
{
	struct gpufs_cache_result result = {0};
	g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
	GHashTableIter iter;
	gpointer name, inst;
	int rc;

	rc = names_of(node->account, &result, names);
	if (rc < 0) {
		g_free(result.error);
		return rc;
	}
	g_mutex_lock(&tree->lock);
	g_hash_table_iter_init(&iter, names);
	while (g_hash_table_iter_next(&iter, &name, &inst))
		dir_add(dir, link_locked(tree, node, name, inst));
	g_mutex_unlock(&tree->lock);
	gpufs_cache_result_clear(node->account->lists, &result);
	return 0;
}

static void list_new(struct gpufs_tree *tree, struct node *node, struct gpufs_dir *dir)
{
	g_mutex_lock(&tree->lock);
	for (guint i = 0; node->specs && i < node->specs->len; i++)
		dir_add(dir, node->specs->pdata[i]);
	g_mutex_unlock(&tree->lock);
}

int gpufs_tree_opendir(struct gpufs_tree *tree, uint64_t ino, struct gpufs_dir **out)
{
	struct node *node = node_get(tree, ino);
	struct gpufs_dir *dir;
	int rc = 0;

	if (!node)
		return -ENOENT;
	if (!is_dir(node))
		return -ENOTDIR;
	dir = g_new0(struct gpufs_dir, 1);
	dir->entries = g_array_new(FALSE, TRUE, sizeof(struct dir_entry));
	g_array_set_clear_func(dir->entries, dir_entry_clear);
	if (node->kind == NODE_INSTANCES || node->kind == NODE_BY_NAME || node->kind == NODE_NEW)
		settle_specs(tree, node->account);
	switch (node->kind) {
	case NODE_ROOT:
		list_root(tree, node, dir);
		break;
	case NODE_ACCOUNT:
		list_account(tree, node, dir);
		break;
	case NODE_INSTANCES:
		rc = list_instances(tree, node, dir);
		break;
	case NODE_INSTANCE:
		list_instance(tree, node, dir);
		break;
	case NODE_BY_NAME:
		rc = list_by_name(tree, node, dir);
		break;
	default: /* NODE_NEW */
		list_new(tree, node, dir);
		break;
	}
	if (rc < 0) {
		dir_free(dir);
		return rc;
	}
	g_mutex_lock(&tree->lock);
	g_hash_table_add(tree->dirs, dir);
	g_mutex_unlock(&tree->lock);
	*out = dir;
	return 0;
}

void gpufs_tree_readdir(struct gpufs_tree *tree, struct gpufs_dir *dir, off_t offset, gboolean plus,
			gpufs_dir_fill_fn fill, void *ctx)
{
	for (guint i = (guint)offset; i < dir->entries->len; i++) {
		const struct dir_entry *entry = &g_array_index(dir->entries, struct dir_entry, i);
		struct stat attr = {.st_ino = entry->ino, .st_mode = entry->mode};
		struct node *node =
		    plus && S_ISDIR(entry->mode) ? node_get(tree, entry->ino) : NULL;
		struct gpufs_entry full;

		if (node) {
			fill_attr(tree, node, &full.attr);
			fill_entry(tree, node, &full);
		}
		if (!fill(ctx, entry->name, &attr, node ? &full : NULL, (off_t)i + 1))
			return;
		if (node)
			hold(tree, node);
	}
}

static void dir_free(struct gpufs_dir *dir)
{
	g_array_unref(dir->entries);
	g_free(dir);
}

void gpufs_tree_releasedir(struct gpufs_tree *tree, struct gpufs_dir *dir)
{
	if (!dir)
		return;
	g_mutex_lock(&tree->lock);
	g_hash_table_remove(tree->dirs, dir); /* frees it */
	g_mutex_unlock(&tree->lock);
}

/* ---- files ---- */

static gboolean is_writable(const struct node *node)
{
	return node->kind == NODE_CTL || node->kind == NODE_SPEC || is_writable_value(node);
}

int gpufs_tree_open(struct gpufs_tree *tree, uint64_t ino, int flags,
		    struct gpufs_open_flags *open_flags)
{
	struct node *node = node_get(tree, ino);
	gboolean writing = (flags & O_ACCMODE) != O_RDONLY;

	if (!node)
		return -ENOENT;
	if (is_dir(node))
		return -EISDIR;
	if (writing && !is_writable(node))
		return -EACCES;
	if (writing && tree->options.read_only)
		return -EROFS;
	*open_flags = (struct gpufs_open_flags){
	    .keep_cache = TRUE,
	    .spec_writer = writing && node->kind == NODE_SPEC,
	    /* Only a spec file acts on close. */
	    .noflush = !(writing && node->kind == NODE_SPEC),
	};
	return 0;
}

static gboolean usable_spec_name(const char *name)
{
	return usable_name(name) && name[0] != '.';
}

int gpufs_tree_create(struct gpufs_tree *tree, uint64_t parent, const char *name, mode_t mode,
		      int flags, struct gpufs_entry *entry, struct gpufs_open_flags *open_flags)
{
	struct node *dir = node_get(tree, parent);
	struct node *node;
	struct spec_file *spec;
	char *key;

	if (!dir)
		return -ENOENT;
	if (dir->kind != NODE_NEW)
		return -EACCES; /* only new/ takes files */
	if (tree->options.read_only)
		return -EROFS;
	if (!usable_spec_name(name))
		return -EINVAL;
	spec = g_new0(struct spec_file, 1);
	g_mutex_init(&spec->lock);
	spec->builder = new_builder(tree, dir->account->provider, name);
	spec->text = g_string_new(NULL);
	spec->writers = gpufs_writers_new();

	key = name_key(dir->ino, name);
	g_mutex_lock(&tree->lock);
	node = g_hash_table_lookup(tree->names, key);
	if (node) {
		g_mutex_unlock(&tree->lock);
		g_free(key);
		spec_file_free(spec);
		return -EEXIST;
	}
	g_free(key);
	node = child_locked(tree, dir, name, NODE_SPEC, 0);
	node->spec = spec;
	node->content = g_bytes_new_static("", 0);
	node->mtime = now_realtime();
	if (!dir->specs)
		dir->specs = g_ptr_array_new();
	g_ptr_array_add(dir->specs, node);
	g_mutex_unlock(&tree->lock);
	fill_attr(tree, node, &entry->attr);
	fill_entry(tree, node, entry);
	hold(tree, node);
	*open_flags = (struct gpufs_open_flags){
	    .keep_cache = TRUE,
	    .spec_writer = TRUE,
	};
	return 0;
}

int gpufs_tree_read(struct gpufs_tree *tree, uint64_t ino, off_t offset, size_t size, GBytes **data)
{
	struct node *node = node_get(tree, ino);
	gsize length;
	int rc;

	if (!node)
		return -ENOENT;
	if (is_dir(node))
		return -EISDIR;
	if (node->kind == NODE_EVENTS) {
		note_events_reader(tree, node);
		*data = gpufs_events_read(tree->options.events, (guint64)offset, size);
		if (!*data)
			*data = g_bytes_new_static("", 0);
		return 0;
	}
	/* The kernel reads what its last lookup or getattr told it about;
	 * only a file it never asked about is rendered here. */
	if (!node->content) {
		rc = refresh(tree, node);
		if (rc < 0)
			return rc;
	}
	g_mutex_lock(&tree->lock);
	length = g_bytes_get_size(node->content);
	if ((gsize)offset >= length)
		*data = g_bytes_new_static("", 0);
	else
		*data = g_bytes_new_from_bytes(node->content, offset,
					       MIN(size, length - (gsize)offset));
	g_mutex_unlock(&tree->lock);
	return 0;
}

GBytes *gpufs_tree_cacheable(struct gpufs_tree *tree, uint64_t ino, guint64 *generation)
{
	struct node *node = node_get(tree, ino);
	GBytes *bytes = NULL;

	if (!node || is_dir(node) || node->kind == NODE_LINK || is_uncached(node))
		return NULL;
	g_mutex_lock(&tree->lock);
	if (node->content) {
		bytes = g_bytes_ref(node->content);
		*generation = node->generation;
	}
	g_mutex_unlock(&tree->lock);
	return bytes;
}

gboolean gpufs_tree_unchanged(struct gpufs_tree *tree, uint64_t ino, guint64 generation)
{
	struct node *node = node_get(tree, ino);
	gboolean same;

	if (!node)
		return FALSE;
	g_mutex_lock(&tree->lock);
	same = node->generation == generation;
	g_mutex_unlock(&tree->lock);
	return same;
}

/* One verb per write(2): "terminate", "terminate\n"; nothing else. */
static int parse_verb(const char *buf, size_t size, char **verb, char **errmsg)
{
	g_autofree char *text = g_strndup(buf, size);

	if (memchr(buf, '\0', size) || !g_utf8_validate(text, -1, NULL)) {
		*errmsg = g_strdup("ctl takes one verb per write, as text");
		return -EINVAL;
	}
	g_strstrip(text);
	if (!*text) {
		*errmsg = g_strdup("empty command: write a verb, e.g. echo terminate > ctl");
		return -EINVAL;
	}
	if (strpbrk(text, " \t\r\n")) {
		*errmsg = g_strdup_printf("one verb per write, not \"%.40s\"", text);
		return -EINVAL;
	}
	*verb = g_steal_pointer(&text);
	return 0;
}

static void settle_instance(struct gpufs_tree *tree, struct gpufs_account *account, const char *id);

static ssize_t write_ctl(struct gpufs_tree *tree, struct node *node, const char *buf, size_t size)
{
	g_autofree char *verb = NULL;
	g_autofree char *errmsg = NULL;
	int rc;

	rc = parse_verb(buf, size, &verb, &errmsg);
	if (rc < 0)
		gpufs_account_set_error(node->account, node->instance_id, errmsg);
	else
		rc = gpufs_account_control(node->account, node->instance_id, verb, &errmsg);
	/* Either way the instance reads differently now: its error file after
	 * a refusal, its values after a verb. */
	settle_instance(tree, node->account, node->instance_id);
	return rc < 0 ? rc : (ssize_t)size;
}

/* One value per write(2), like ctl: "echo job2 > name". */
static ssize_t write_value(struct gpufs_tree *tree, struct node *node, const char *buf, size_t size)
{
	g_autofree char *value = g_strndup(buf, size);
	g_autofree char *errmsg = NULL;
	int rc;

	if (memchr(buf, '\0', size) || !g_utf8_validate(value, -1, NULL)) {
		gpufs_account_set_error(node->account, node->instance_id,
					"a value is written as text");
		return -EINVAL;
	}
	g_strstrip(value);
	rc = gpufs_account_write_file(node->account, node->instance_id, node->name, value, &errmsg);
	settle_instance(tree, node->account, node->instance_id);
	return rc < 0 ? rc : (ssize_t)size;
}

static void spec_restart(struct gpufs_tree *tree, struct spec_file *spec, const struct node *node)
{
	gpufs_spec_builder_free(spec->builder);
	spec->builder = new_builder(tree, node->account->provider, node->name);
	g_string_truncate(spec->text, 0);
	gpufs_writers_forget(spec->writers);
	g_atomic_int_set(&spec->killed_by, 0);
	g_atomic_int_set(&spec->closed, 0);
	spec->applied = FALSE;
	g_clear_pointer(&spec->result, g_free);
}

static ssize_t write_spec(struct node *node, const char *buf, size_t size, off_t offset,
			  pid_t writer)
{
	struct spec_file *spec = node->spec;
	g_autofree char *errmsg = NULL;
	ssize_t rc;

	gpufs_blocking_lock(&spec->lock);
	/* Its writer holds it: a close before this write (an empty `: > x`
	 * before `>> x`) does not apply what comes now. */
	g_atomic_int_set(&spec->closed, 0);
	if (spec->applied) {
		rc = -EEXIST; /* one file, one create */
	} else if ((gsize)offset != spec->text->len) {
		rc = -EINVAL; /* a spec is written from start to end */
	} else if (spec->text->len + size > GPUFS_SPEC_MAX_BYTES) {
		rc = -EFBIG;
		gpufs_spec_builder_feed(spec->builder, buf, size, &errmsg); /* poisons it */
	} else {
		if (!g_atomic_int_get(&node->unlinked)) /* its close is never seen */
			gpufs_writers_add(spec->writers, writer);
		g_string_append_len(spec->text, buf, size);
		rc = gpufs_spec_builder_feed(spec->builder, buf, size, &errmsg);
		if (rc == 0)
			rc = (ssize_t)size;
	}
	g_mutex_unlock(&spec->lock);
	if (rc < 0 && errmsg)
		gpufs_info("%s: new/%s: %s", node->account->name, node->name, errmsg);
	return rc;
}

ssize_t gpufs_tree_write(struct gpufs_tree *tree, uint64_t ino, const char *buf, size_t size,
			 off_t offset, pid_t writer)
{
	struct node *node = node_get(tree, ino);

	if (!node)
		return -ENOENT;
	if (tree->options.read_only)
		return -EROFS;
	if (node->kind == NODE_CTL)
		return write_ctl(tree, node, buf, size);
	if (is_writable_value(node))
		return write_value(tree, node, buf, size);
	if (node->kind == NODE_SPEC) {
		settle_spec(tree, node); /* a close before this write counts first */
		return write_spec(node, buf, size, offset, writer);
	}
	return -EACCES;
}

/* A writer a signal killed (Ctrl-C, kill, timeout) before the file's close
 * may have stopped in the middle of its spec, as far as anyone can tell. */
static int refuse_if_writer_killed(const struct node *node, struct spec_file *spec)
{
	int signo = g_atomic_int_get(&spec->killed_by);

	if (!signo)
		return 0;
	spec->result = g_strdup_printf("error: its writer was killed by signal %d (%s) before "
				       "it ended: nothing sent",
				       signo, strsignal(signo));
	gpufs_warn("%s: new/%s: writer killed by signal %d (%s): nothing sent", node->account->name,
		   node->name, signo, strsignal(signo));
	return -ECANCELED;
}

/* Applies a spec: parse what is left, check it whole, create.  Called with
 * the spec's lock held, so two flushes of one file never create twice. */
static int apply_spec(struct node *node, struct spec_file *spec)
{
	g_autoptr(gpufs_spec) parsed = NULL;
	g_autofree char *errmsg = NULL;
	char *new_id = NULL;
	int rc;

	spec->applied = TRUE;
	rc = refuse_if_writer_killed(node, spec);
	if (rc < 0)
		return rc;
	rc = gpufs_spec_builder_finish(spec->builder, &parsed, &errmsg);
	if (rc < 0) {
		spec->result = g_strdup_printf("error: %s", errmsg ? errmsg : g_strerror(-rc));
		gpufs_info("%s: new/%s refused, nothing sent: %s", node->account->name, node->name,
			   errmsg ? errmsg : g_strerror(-rc));
		return rc;
	}
	spec->sent = TRUE;
	rc = gpufs_account_create(node->account, parsed, &new_id, &errmsg);
	if (rc < 0) {
		spec->result = g_strdup_printf("error: %s", errmsg ? errmsg : g_strerror(-rc));
		return rc;
	}
	/* The id stays the first line; a note (which offer was picked) the
	 * second, as a comment. */
	spec->result = errmsg ? g_strdup_printf("%s\n# %s", new_id, errmsg) : g_strdup(new_id);
	g_free(new_id);
	return 0;
}

/* ---- spec files closed ---- */

/* Applies @node's spec unless it is applied, empty or removed, and with
 * @need_closed only once its writer closed it; waits while another thread
 * applies it, so whoever asks next sees the result. */
static int apply_if_due(struct node *node, gboolean need_closed)
{
	struct spec_file *spec = node->spec;
	int rc = 0;

	gpufs_blocking_lock(&spec->lock);
	/* rm before the close cancelled it */
	if ((!need_closed || g_atomic_int_get(&spec->closed)) && !spec->applied &&
	    !g_atomic_int_get(&node->unlinked)) {
		if (!gpufs_spec_builder_empty(spec->builder))
			rc = apply_spec(node, spec);
		else /* a killed writer of nothing spoils no later spec */
			g_atomic_int_set(&spec->killed_by, 0);
	}
	g_mutex_unlock(&spec->lock);
	return rc;
}

static void apply_if_closed(struct node *node)
{
	apply_if_due(node, TRUE);
}

static void drain_closes(struct gpufs_tree *tree)
{
	if (tree->drain_closes)
		tree->drain_closes(tree->drain_ctx);
}

static void settle_spec(struct gpufs_tree *tree, struct node *node)
{
	drain_closes(tree);
	apply_if_closed(node);
}

/* The account's new/ directory node, when it was ever looked up. */
static struct node *new_dir_of(struct gpufs_tree *tree, struct gpufs_account *account)
{
	g_autofree char *account_key = name_key(ROOT_INO, account->name);
	struct node *node;
	struct node *dir = NULL;

	g_mutex_lock(&tree->lock);
	node = g_hash_table_lookup(tree->names, account_key);
	if (node) {
		g_autofree char *key = name_key(node->ino, "new");

		dir = g_hash_table_lookup(tree->names, key);
	}
	g_mutex_unlock(&tree->lock);
	return dir;
}

/* Every closed spec of @account is applied: what a script closed before
 * it lists its instances is among them. */
static void settle_specs(struct gpufs_tree *tree, struct gpufs_account *account)
{
	struct node *dir = new_dir_of(tree, account);
	g_autoptr(GPtrArray) specs = g_ptr_array_new();

	if (!dir)
		return;
	drain_closes(tree);
	g_mutex_lock(&tree->lock);
	for (guint i = 0; dir->specs && i < dir->specs->len; i++)
		g_ptr_array_add(specs, dir->specs->pdata[i]);
	g_mutex_unlock(&tree->lock);
	for (guint i = 0; i < specs->len; i++)
		apply_if_closed(specs->pdata[i]);
}

/* How its writers stand is taken at each close: one killed after it had
 * closed a whole spec (a script stopped while waiting for the create)
 * finished that spec.  A close only adds a kill, never clears one: the
 * close of another open of the file (a holder that never wrote) comes
 * after the killed writer's. */
static void note_writers_end(struct spec_file *spec)
{
	int signo = gpufs_writers_end(spec->writers);

	if (signo)
		g_atomic_int_set(&spec->killed_by, signo);
}

/* Never waits: the spec watcher marks under its queue's lock, while the
 * spec's own lock may be held through a create. */
static void mark_closed(struct node *node)
{
	note_writers_end(node->spec);
	g_atomic_int_set(&node->spec->closed, 1);
}

int gpufs_tree_flush(struct gpufs_tree *tree, uint64_t ino)
{
	struct node *node = node_get(tree, ino);

	if (!node || node->kind != NODE_SPEC)
		return 0;
	note_writers_end(node->spec); /* a writer's flush is its close */
	return apply_if_due(node, FALSE);
}

GPtrArray *gpufs_tree_spec_dirs(struct gpufs_tree *tree)
{
	GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);

	for (guint i = 0; !tree->options.read_only && i < tree->accounts->len; i++) {
		struct gpufs_account *account = tree->accounts->pdata[i];

		g_ptr_array_add(dirs, g_strdup_printf("%s/new", account->name));
	}
	return dirs;
}

static struct node *spec_named(struct gpufs_tree *tree, const char *dir_path, const char *name)
{
	g_autofree char *account_name = g_path_get_dirname(dir_path);
	struct gpufs_account *account = account_named(tree, account_name);
	struct node *dir = account ? new_dir_of(tree, account) : NULL;
	g_autofree char *key = NULL;
	struct node *node;

	if (!dir)
		return NULL;
	key = name_key(dir->ino, name);
	g_mutex_lock(&tree->lock);
	node = g_hash_table_lookup(tree->names, key);
	g_mutex_unlock(&tree->lock);
	return node && node->kind == NODE_SPEC ? node : NULL;
}

void gpufs_tree_spec_closed(struct gpufs_tree *tree, const char *dir_path, const char *name)
{
	struct node *node = spec_named(tree, dir_path, name);

	if (node)
		mark_closed(node);
}

void gpufs_tree_spec_apply(struct gpufs_tree *tree, const char *dir_path, const char *name)
{
	struct node *node = spec_named(tree, dir_path, name);

	if (node)
		apply_if_closed(node);
}

void gpufs_tree_set_close_source(struct gpufs_tree *tree, void (*drain)(void *ctx), void *ctx)
{
	tree->drain_closes = drain;
	tree->drain_ctx = ctx;
}

int gpufs_tree_truncate(struct gpufs_tree *tree, uint64_t ino, off_t size, struct stat *attr)
{
	struct node *node = node_get(tree, ino);
	int rc = 0;

	if (!node)
		return -ENOENT;
	if (tree->options.read_only)
		return -EROFS;
	if (node->kind == NODE_SPEC) {
		struct spec_file *spec = node->spec;

		settle_spec(tree, node);
		gpufs_blocking_lock(&spec->lock);
		if (spec->sent)
			rc = -EEXIST; /* its create ran: this file is spent */
		else if (size != 0)
			rc = -EINVAL;
		else
			spec_restart(tree, spec, node);
		g_mutex_unlock(&spec->lock);
	} else if (node->kind != NODE_CTL && !is_writable_value(node)) {
		rc = is_dir(node) ? -EISDIR : -EACCES;
	}
	if (rc < 0)
		return rc;
	return stat_node(tree, node, FALSE, attr);
}

/* rm never reaches a provider: only local spec files can go. */
int gpufs_tree_unlink(struct gpufs_tree *tree, uint64_t parent, const char *name)
{
	struct node *dir = node_get(tree, parent);
	struct node *node;
	gboolean removed = FALSE;
	char *key;

	if (!dir)
		return -ENOENT;
	if (dir->kind != NODE_NEW)
		return -EPERM;
	/* A spec closed before rm was meant: it is applied first. */
	node = lookup_spec(tree, dir, name);
	if (node)
		settle_spec(tree, node);
	key = name_key(dir->ino, name);
	g_mutex_lock(&tree->lock);
	if (node && g_hash_table_lookup(tree->names, key) == node) {
		g_hash_table_remove(tree->names, key);
		g_ptr_array_remove(dir->specs, node);
		g_atomic_int_set(&node->unlinked, 1);
		removed = TRUE;
	}
	g_mutex_unlock(&tree->lock);
	g_free(key);
	if (!removed)
		return -ENOENT;
	/* Its close will not be seen (IN_EXCL_UNLINK), nor its writers
	 * asked about; under the spec's lock, no write adds one after. */
	gpufs_blocking_lock(&node->spec->lock);
	gpufs_writers_forget(node->spec->writers);
	g_mutex_unlock(&node->spec->lock);
	return 0;
}

/* ---- the live tree ---- */

gboolean gpufs_tree_poll_ready(struct gpufs_tree *tree, uint64_t ino)
{
	struct node *node = node_get(tree, ino);
	gboolean ready;

	if (!node)
		return FALSE;
	g_mutex_lock(&tree->lock);
	ready = node->content && node->generation != node->notified;
	g_mutex_unlock(&tree->lock);
	return ready;
}

void gpufs_tree_set_notifier(struct gpufs_tree *tree, const struct gpufs_tree_notifier *notifier)
{
	tree->notifier = *notifier;
}

/* "account/instances/<id>/status": the path under the mountpoint. */
static char *node_path_locked(struct node *node)
{
	GPtrArray *names = g_ptr_array_new();
	GString *path = g_string_new(NULL);

	for (; node && node->ino != ROOT_INO; node = node->parent)
		g_ptr_array_add(names, node->name);
	for (guint i = names->len; i > 0; i--)
		g_string_append_printf(path, "%s%s", i == names->len ? "" : "/",
				       (char *)names->pdata[i - 1]);
	g_ptr_array_unref(names);
	return g_string_free(path, FALSE);
}

static gboolean follows_list(const struct node *node)
{
	switch (node->kind) {
	case NODE_FIELD:
	case NODE_EXTRA:
	case NODE_JSON:
		/* Detail files need a GET each: they refresh on their own
		 * getattr instead, so a poll stays one list request. */
		return !gpufs_provider_is_detail_file(
		    node->account->provider, node->kind == NODE_JSON ? "json" : node->name);
	default:
		return FALSE;
	}
}

struct change {
	uint64_t ino;
	char *path;
	struct timespec mtime;
};

/* Hands @change, if any, to the notifier and frees its path. */
static void tell(struct gpufs_tree *tree, struct change *change)
{
	if (change->path && tree->notifier.changed)
		tree->notifier.changed(tree->notifier.ctx, change->ino, change->path,
				       &change->mtime);
	g_free(change->path);
}

/* Hands @node's snapshot to the notifier unless it was already: a change
 * found by a read is told too (the kernel knows it, inotify does not). */
static void tell_if_untold(struct gpufs_tree *tree, struct node *node)
{
	struct change change = {.path = NULL};

	g_mutex_lock(&tree->lock);
	if (node->generation != node->notified) {
		change = (struct change){node->ino, node_path_locked(node), node->mtime};
		node->notified = node->generation;
	}
	g_mutex_unlock(&tree->lock);
	tell(tree, &change);
}

/* Which held nodes to re-render; called with the tree lock held. */
typedef gboolean (*node_filter_fn)(const struct node *node, const void *ctx);

/* Re-renders the nodes the kernel holds that @keep picks, and hands every
 * change not yet notified to the notifier. */
static void refresh_held(struct gpufs_tree *tree, node_filter_fn keep, const void *ctx)
{
	g_autoptr(GPtrArray) held = g_ptr_array_new();

	g_mutex_lock(&tree->lock);
	for (guint i = 0; i < tree->nodes->len; i++) {
		struct node *node = tree->nodes->pdata[i];

		if (node->nlookup > 0 && node->content && keep(node, ctx))
			g_ptr_array_add(held, node);
	}
	g_mutex_unlock(&tree->lock);
	for (guint i = 0; i < held->len; i++) {
		struct node *node = held->pdata[i];

		if (refresh(tree, node) == 0)
			tell_if_untold(tree, node);
	}
}

static gboolean contains_id(GPtrArray *ids, const char *id)
{
	for (guint i = 0; ids && i < ids->len; i++)
		if (g_strcmp0(ids->pdata[i], id) == 0)
			return TRUE;
	return FALSE;
}

struct listing {
	struct gpufs_account *account;
	GPtrArray *gone;
};

/* After a listing: the account's list-backed files of instances still
 * there, and the mount-wide cost. */
static gboolean changed_by_listing(const struct node *node, const void *ctx)
{
	const struct listing *listing = ctx;

	if (node->kind == NODE_COST)
		return TRUE;
	return node->account == listing->account && follows_list(node) &&
	       !(node->instance_id && contains_id(listing->gone, node->instance_id));
}

static void notify_changes(struct gpufs_tree *tree, struct gpufs_account *account, GPtrArray *gone)
{
	struct listing listing = {account, gone};

	refresh_held(tree, changed_by_listing, &listing);
}

struct instance_ref {
	struct gpufs_account *account;
	const char *id;
};

/* An instance's value file whose attributes the kernel keeps.  Never an
 * uncached one: that includes the file being written, whose writer holds
 * it while the notifier's utimensat would wait for it. */
static gboolean is_cached_value(const struct node *node)
{
	return (node->kind == NODE_FIELD || node->kind == NODE_EXTRA || node->kind == NODE_JSON) &&
	       !is_uncached(node);
}

/* Every cached value file of the instance. */
static gboolean of_instance(const struct node *node, const void *ctx)
{
	const struct instance_ref *ref = ctx;

	return node->account == ref->account && is_cached_value(node) &&
	       g_strcmp0(node->instance_id, ref->id) == 0;
}

/* After the user changed an instance (ctl, a writable file): re-render
 * every file of it the kernel holds, tell the kernel about those that
 * changed, and return only once it knows, so the next read is fresh. */
static void settle_instance(struct gpufs_tree *tree, struct gpufs_account *account, const char *id)
{
	struct instance_ref ref = {account, id};

	refresh_held(tree, of_instance, &ref);
	if (tree->notifier.settle)
		tree->notifier.settle(tree->notifier.ctx);
}

/* The account's instances/ node, when the kernel holds it. */
static struct node *held_instances_dir(struct gpufs_tree *tree, struct gpufs_account *account)
{
	g_autofree char *account_key = name_key(ROOT_INO, account->name);
	struct node *dir = NULL;
	struct node *node;

	g_mutex_lock(&tree->lock);
	node = g_hash_table_lookup(tree->names, account_key);
	if (node) {
		g_autofree char *key = name_key(node->ino, "instances");

		dir = g_hash_table_lookup(tree->names, key);
	}
	if (dir && dir->nlookup == 0)
		dir = NULL;
	g_mutex_unlock(&tree->lock);
	return dir;
}

/* Tells the notifier about instances that came or went, marking what its
 * own mkdir/rmdir must find. */
static void notify_entries(struct gpufs_tree *tree, struct node *dir, GPtrArray *ids,
			   gboolean created)
{
	for (guint i = 0; ids && i < ids->len; i++) {
		const char *id = ids->pdata[i];
		char *key = name_key(dir->ino, id);
		char *path;

		g_mutex_lock(&tree->lock);
		if (!created) {
			struct node *node = g_hash_table_lookup(tree->names, key);

			if (!node || node->nlookup == 0) {
				g_mutex_unlock(&tree->lock);
				g_free(key);
				continue; /* the kernel never saw it: nothing to tell */
			}
		}
		g_hash_table_add(created ? tree->self_absent : tree->self_present, key);
		{
			g_autofree char *dir_path = node_path_locked(dir);

			path = g_strdup_printf("%s/%s", dir_path, id);
		}
		g_mutex_unlock(&tree->lock);
		if (created && tree->notifier.created)
			tree->notifier.created(tree->notifier.ctx, path);
		else if (!created && tree->notifier.removed)
			tree->notifier.removed(tree->notifier.ctx, path);
		g_free(path);
	}
}

/* /events grew: its size moves (the kernel drops its pages then) and
 * watchers get IN_MODIFY.  The bytes already there never change. */
static void notify_events(struct gpufs_tree *tree)
{
	g_autofree char *key = name_key(ROOT_INO, "events");
	guint64 size = gpufs_events_size(tree->options.events);
	struct change change = {.path = NULL};
	struct node *node;

	g_mutex_lock(&tree->lock);
	node = g_hash_table_lookup(tree->names, key);
	if (node && node->nlookup > 0 && size != tree->events_told) {
		tree->events_told = size;
		node->mtime = now_realtime();
		change = (struct change){node->ino, g_strdup("events"), node->mtime};
	}
	g_mutex_unlock(&tree->lock);
	tell(tree, &change);
}

void gpufs_tree_retell(struct gpufs_tree *tree, uint64_t ino)
{
	struct node *node = node_get(tree, ino);
	struct change change;

	if (!node)
		return;
	g_mutex_lock(&tree->lock);
	change = (struct change){node->ino, node_path_locked(node), node->mtime};
	g_mutex_unlock(&tree->lock);
	tell(tree, &change);
}

struct outdated_ids {
	struct gpufs_account *account;
	GHashTable *ids;
};

/* A value file the listing lacks (it comes with the full object). */
static gboolean is_detail_of(const struct node *node, const struct gpufs_account *account)
{
	return node->account == account && node->instance_id && is_cached_value(node) &&
	       !follows_list(node);
}

static gboolean detail_of_outdated(const struct node *node, const void *ctx)
{
	const struct outdated_ids *outdated = ctx;

	return is_detail_of(node, outdated->account) &&
	       g_hash_table_contains(outdated->ids, node->instance_id);
}

/* A held detail file, and what refresh_details needs of it. */
struct held_detail {
	struct node *node;
	char *rendered; /* copies, taken under the lock */
	char *tried;
	gboolean untold;
};

static void held_detail_clear(gpointer data)
{
	struct held_detail *held = data;

	g_free(held->rendered);
	g_free(held->tried);
}

/* A listing cannot show that a detail file changed, but an instance listed
 * in another state than a detail file was rendered at (it started, say)
 * likely has new details: the held detail files of it are rendered again,
 * fetching the full object once when the cached one is of the older state
 * too, and told like any change.  Once per listed state: a fetch that fails
 * is not retried by the poll (a read still asks), so a failing provider, or
 * one whose listing and object named a state differently, costs a request
 * per change of state, not per poll.  A change a read found first is told
 * too. */
static void refresh_details(struct gpufs_tree *tree, struct gpufs_account *account)
{
	g_autoptr(GArray) held = g_array_new(FALSE, TRUE, sizeof(struct held_detail));
	g_autoptr(GHashTable) listed = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, g_free);
	struct outdated_ids outdated = {account, g_hash_table_new(g_str_hash, g_str_equal)};
	GHashTableIter iter;
	gpointer id;

	g_array_set_clear_func(held, held_detail_clear);
	g_mutex_lock(&tree->lock);
	for (guint i = 0; i < tree->nodes->len; i++) {
		struct node *node = tree->nodes->pdata[i];
		struct held_detail entry = {.node = node};

		if (node->nlookup == 0 || !node->content || !is_detail_of(node, account))
			continue;
		entry.rendered = g_strdup(node->rendered_state);
		entry.tried = g_strdup(node->tried_state);
		entry.untold = node->generation != node->notified;
		g_array_append_val(held, entry);
	}
	g_mutex_unlock(&tree->lock);
	for (guint i = 0; i < held->len; i++) {
		struct held_detail *entry = &g_array_index(held, struct held_detail, i);
		const char *instance = entry->node->instance_id;
		const char *state;

		if (!g_hash_table_contains(listed, instance))
			g_hash_table_insert(listed, (gpointer)instance,
					    gpufs_account_listed_state(account, instance));
		state = g_hash_table_lookup(listed, instance);
		if (!state || g_strcmp0(state, entry->rendered) == 0 ||
		    g_strcmp0(state, entry->tried) == 0)
			continue;
		g_mutex_lock(&tree->lock);
		g_free(entry->node->tried_state);
		entry->node->tried_state = g_strdup(state);
		g_mutex_unlock(&tree->lock);
		g_hash_table_add(outdated.ids, (gpointer)instance);
	}
	g_hash_table_iter_init(&iter, outdated.ids);
	while (g_hash_table_iter_next(&iter, &id, NULL))
		gpufs_account_expire_outdated_detail(account, id);
	if (g_hash_table_size(outdated.ids) > 0)
		refresh_held(tree, detail_of_outdated, &outdated);
	for (guint i = 0; i < held->len; i++) {
		struct held_detail *entry = &g_array_index(held, struct held_detail, i);

		if (entry->untold)
			tell_if_untold(tree, entry->node);
	}
	g_hash_table_destroy(outdated.ids);
}

void gpufs_tree_sync(struct gpufs_tree *tree, struct gpufs_account *account, GPtrArray *created,
		     GPtrArray *gone)
{
	struct node *dir = held_instances_dir(tree, account);

	notify_changes(tree, account, gone);
	refresh_details(tree, account);
	notify_events(tree);
	if (!dir)
		return;
	notify_entries(tree, dir, created, TRUE);
	notify_entries(tree, dir, gone, FALSE);
}

int gpufs_tree_self_mkdir(struct gpufs_tree *tree, uint64_t parent, const char *name,
			  struct gpufs_entry *entry)
{
	struct node *dir = node_get(tree, parent);
	g_autofree char *key = NULL;
	struct node *node;

	if (!dir || dir->kind != NODE_INSTANCES)
		return -EPERM;
	key = name_key(dir->ino, name);
	g_mutex_lock(&tree->lock);
	g_hash_table_remove(tree->self_absent, key);
	g_mutex_unlock(&tree->lock);
	node = child(tree, dir, name, NODE_INSTANCE, 0);
	fill_attr(tree, node, &entry->attr);
	fill_entry(tree, node, entry);
	hold(tree, node);
	return 0;
}

int gpufs_tree_self_rmdir(struct gpufs_tree *tree, uint64_t parent, const char *name)
{
	struct node *dir = node_get(tree, parent);
	g_autofree char *key = NULL;

	if (!dir || dir->kind != NODE_INSTANCES)
		return -EPERM;
	key = name_key(dir->ino, name);
	g_mutex_lock(&tree->lock);
	g_hash_table_remove(tree->self_present, key);
	g_mutex_unlock(&tree->lock);
	return 0;
}
