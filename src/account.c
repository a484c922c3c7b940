/* An account: caches in front of a provider module (see account.h). */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "gpufs/account.h"
#include "gpufs/blocking.h"
#include "gpufs/log.h"
#include "gpufs/util.h"

#define LIST_KEY    "instances"
#define OFFERS_KEY  "offers"
#define BALANCE_KEY "balance"

static gpointer instance_ref(gpointer v)
{
	return gpufs_instance_ref(v);
}

static void instance_unref(gpointer v)
{
	gpufs_instance_unref(v);
}

static gpointer list_ref(gpointer v)
{
	return gpufs_instance_list_ref(v);
}

static void list_unref(gpointer v)
{
	gpufs_instance_list_unref(v);
}

static gpointer bytes_ref(gpointer v)
{
	return g_bytes_ref(v);
}

static void bytes_unref(gpointer v)
{
	g_bytes_unref(v);
}

static const struct gpufs_cache_ops instance_ops = {instance_ref, instance_unref};
static const struct gpufs_cache_ops list_ops = {list_ref, list_unref};
static const struct gpufs_cache_ops bytes_ops = {bytes_ref, bytes_unref};

/* Every live account of the process, for the mount-wide spending cap.  The
 * same lock serialises capped creates, so two specs cannot both pass the
 * check against a total that counts neither. */
static GMutex budget_lock;
static GPtrArray *all_accounts;

static void budget_register(struct gpufs_account *account)
{
	g_mutex_lock(&budget_lock);
	if (!all_accounts)
		all_accounts = g_ptr_array_new();
	g_ptr_array_add(all_accounts, account);
	g_mutex_unlock(&budget_lock);
}

static void budget_unregister(struct gpufs_account *account)
{
	g_mutex_lock(&budget_lock);
	g_ptr_array_remove(all_accounts, account);
	if (all_accounts->len == 0)
		g_clear_pointer(&all_accounts, g_ptr_array_unref);
	g_mutex_unlock(&budget_lock);
}

/* A cap from the config: unset, or a number >= 0.  Returns FALSE (and the
 * words) when the text is not one. */
static gboolean parse_cap(const char *text, double *cap, char **why)
{
	char *end = NULL;

	*cap = -1;
	if (!text)
		return TRUE;
	*cap = g_ascii_strtod(text, &end);
	if (end != text && !*g_strstrip(end) && isfinite(*cap) && *cap >= 0)
		return TRUE;
	*why = g_strdup_printf("max_cost_per_hour = \"%s\" is not a number of USD per hour", text);
	*cap = -1;
	return FALSE;
}

struct gpufs_account *gpufs_account_new(const struct gpufs_account_config *config,
					const struct gpufs_mount_options *options)
{
	struct gpufs_account *account = g_new0(struct gpufs_account, 1);
	struct gpufs_http_options http = {
	    .base_url = config->url,
	    .bearer = config->api_key,
	    .account = config->name,
	    .connect_timeout_ms = options->connect_timeout_ms,
	    .timeout_ms = options->timeout_ms,
	    .read_only = options->read_only,
	};

	g_autofree char *why = NULL;

	account->name = g_strdup(config->name);
	account->provider = config->provider;
	account->read_only = options->read_only;
	/* A bad cap refuses every create rather than silently spending. */
	if (!parse_cap(options->max_total_cost_per_hour, &account->max_total_cost_per_hour, &why) ||
	    !parse_cap(g_hash_table_lookup(config->options, "max_cost_per_hour"),
		       &account->max_cost_per_hour, &why)) {
		account->bad_cap = g_steal_pointer(&why);
		gpufs_warn("%s: %s: every create will be refused", config->name, account->bad_cap);
	}
	account->api.http = gpufs_http_new(&http);
	account->api.account = account->name;
	account->api.options = g_hash_table_ref(config->options);
	account->lists = gpufs_cache_new(&list_ops, options->ttl_us, options->clock);
	account->instances = gpufs_cache_new(&instance_ops, options->ttl_us, options->clock);
	account->details = gpufs_cache_new(&instance_ops, options->ttl_us, options->clock);
	account->texts = gpufs_cache_new(&bytes_ops, options->ttl_us, options->clock);
	g_mutex_init(&account->lock);
	account->errors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	budget_register(account);
	return account;
}

void gpufs_account_free(struct gpufs_account *account)
{
	if (!account)
		return;
	budget_unregister(account);
	g_free(account->bad_cap);
	gpufs_cache_free(account->lists);
	gpufs_cache_free(account->instances);
	gpufs_cache_free(account->details);
	gpufs_cache_free(account->texts);
	gpufs_http_free(account->api.http);
	g_hash_table_unref(account->api.options);
	g_hash_table_destroy(account->errors);
	g_mutex_clear(&account->lock);
	g_free(account->name);
	g_free(account);
}

/* Instances that left the listing are gone: forget them so their directory
 * disappears and a read asks the provider (which says 404). */
static void forget_vanished(struct gpufs_account *account, struct gpufs_instance_list *old,
			    GHashTable *present)
{
	for (guint i = 0; old && i < old->items->len; i++) {
		const char *id = gpufs_instance_id((struct gpufs_instance *)old->items->pdata[i]);

		if (g_hash_table_contains(present, id))
			continue;
		gpufs_cache_remove(account->instances, id);
		gpufs_cache_remove(account->details, id);
	}
}

static int fetch_list(void *ctx, const char *key, gpointer *value, char **errmsg)
{
	struct gpufs_account *account = ctx;
	struct gpufs_instance_list *list = gpufs_instance_list_new();
	struct gpufs_instance_list *old;
	GHashTable *present;
	int rc;

	rc = account->provider->list_instances(&account->api, list->items, errmsg);
	if (rc < 0) {
		gpufs_warn("%s: listing instances failed: %s", account->name,
			   *errmsg ? *errmsg : g_strerror(-rc));
		gpufs_instance_list_unref(list);
		return rc;
	}
	present = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < list->items->len; i++) {
		struct gpufs_instance *inst = list->items->pdata[i];

		g_hash_table_add(present, gpufs_instance_id(inst));
		gpufs_cache_put(account->instances, gpufs_instance_id(inst), inst);
	}
	old = gpufs_cache_peek(account->lists, LIST_KEY, NULL);
	forget_vanished(account, old, present);
	gpufs_instance_list_unref(old);
	g_hash_table_destroy(present);
	*value = list;
	return 0;
}

int gpufs_account_list(struct gpufs_account *account, struct gpufs_cache_result *result)
{
	return gpufs_cache_get(account->lists, LIST_KEY, fetch_list, account, result);
}

int gpufs_account_refresh(struct gpufs_account *account, struct gpufs_cache_result *result)
{
	return gpufs_cache_get_max_age(account->lists, LIST_KEY, 0, fetch_list, account, result);
}

static int fetch_instance(void *ctx, const char *id, gpointer *value, char **errmsg)
{
	struct gpufs_account *account = ctx;
	struct gpufs_instance *inst = NULL;
	int rc;

	rc = account->provider->get_instance(&account->api, id, &inst, errmsg);
	if (rc < 0)
		return rc;
	if (!inst->partial)
		gpufs_cache_put(account->details, id, inst);
	*value = inst;
	return 0;
}

static int fetch_detail(void *ctx, const char *id, gpointer *value, char **errmsg)
{
	struct gpufs_account *account = ctx;
	int rc = account->provider->get_instance(&account->api, id, (struct gpufs_instance **)value,
						 errmsg);

	/* The full object is the freshest view of everything. */
	if (rc == 0)
		gpufs_cache_put(account->instances, id, *value);
	return rc;
}

int gpufs_account_instance(struct gpufs_account *account, const char *id, gboolean need_detail,
			   struct gpufs_cache_result *result)
{
	struct gpufs_instance *inst;
	int rc;

	rc = gpufs_cache_get(account->instances, id, fetch_instance, account, result);
	if (rc < 0 || !need_detail)
		return rc;
	inst = result->value;
	if (!inst->partial)
		return rc;
	gpufs_cache_result_clear(account->instances, result);
	return gpufs_cache_get(account->details, id, fetch_detail, account, result);
}

char *gpufs_account_listed_state(struct gpufs_account *account, const char *id)
{
	struct gpufs_instance *now = gpufs_cache_peek(account->instances, id, NULL);
	char *state;

	if (!now)
		return NULL;
	state = g_strdup(now->values[GPUFS_F_PROVIDER_STATUS]);
	gpufs_instance_unref(now);
	return state;
}

void gpufs_account_expire_outdated_detail(struct gpufs_account *account, const char *id)
{
	struct gpufs_instance *full = gpufs_cache_peek(account->details, id, NULL);
	struct gpufs_instance *now = gpufs_cache_peek(account->instances, id, NULL);

	if (full && now && now->partial &&
	    g_strcmp0(full->values[GPUFS_F_PROVIDER_STATUS],
		      now->values[GPUFS_F_PROVIDER_STATUS]) != 0)
		gpufs_cache_expire(account->details, id);
	if (full)
		gpufs_instance_unref(full);
	if (now)
		gpufs_instance_unref(now);
}

gboolean gpufs_account_knows(struct gpufs_account *account, const char *id)
{
	struct gpufs_instance *inst = gpufs_cache_peek(account->instances, id, NULL);

	if (!inst)
		return FALSE;
	gpufs_instance_unref(inst);
	return TRUE;
}

static int fetch_offers(void *ctx, const char *key, gpointer *value, char **errmsg)
{
	struct gpufs_account *account = ctx;
	g_autoptr(GPtrArray) offers =
	    g_ptr_array_new_with_free_func((GDestroyNotify)gpufs_offer_free);
	char *table;
	int rc;

	rc = account->provider->list_offers(&account->api, offers, errmsg);
	if (rc < 0)
		return rc;
	gpufs_offers_sort(offers);
	table = gpufs_offers_render(offers);
	*value = g_bytes_new_take(table, strlen(table));
	return 0;
}

int gpufs_account_offers(struct gpufs_account *account, struct gpufs_cache_result *result)
{
	return gpufs_cache_get(account->texts, OFFERS_KEY, fetch_offers, account, result);
}

static int fetch_balance(void *ctx, const char *key, gpointer *value, char **errmsg)
{
	struct gpufs_account *account = ctx;
	char *text = NULL;
	char *line;
	int rc;

	rc = account->provider->balance(&account->api, &text, errmsg);
	if (rc < 0)
		return rc;
	line = g_strdup_printf("%s\n", text ? text : "");
	g_free(text);
	*value = g_bytes_new_take(line, strlen(line));
	return 0;
}

int gpufs_account_balance(struct gpufs_account *account, struct gpufs_cache_result *result)
{
	if (!account->provider->balance)
		return -ENOSYS;
	return gpufs_cache_get(account->texts, BALANCE_KEY, fetch_balance, account, result);
}

/* After a mutation the next read must ask the provider, not the cache. */
static void expire_after_change(struct gpufs_account *account, const char *id)
{
	gpufs_cache_expire(account->lists, LIST_KEY);
	if (!id)
		return;
	gpufs_cache_expire(account->instances, id);
	gpufs_cache_expire(account->details, id);
}

/* ---- spending cap ---- */

/* The offers table's rows as cells; the header names the columns. */
static int column_index(char **header, const char *name)
{
	for (int i = 0; header[i]; i++)
		if (strcmp(header[i], name) == 0)
			return i;
	return -1;
}

struct offer_match {
	const char *offer;    /* by id, or */
	const char *gpu_type; /* cheapest of this type (and count, when >= 1) */
	long gpu_count;
	double price;
	gboolean found;
};

static void match_row(char **cells, guint n, const int col[4], struct offer_match *m)
{
	double price;
	char *end;

	for (int c = 0; c < 4; c++)
		if (col[c] < 0 || (guint)col[c] >= n)
			return;
	price = g_ascii_strtod(cells[col[3]], &end);
	if (end == cells[col[3]] || !isfinite(price))
		return;
	if (m->offer && strcmp(cells[col[0]], m->offer) != 0)
		return;
	if (!m->offer && g_ascii_strcasecmp(cells[col[1]], m->gpu_type) != 0)
		return;
	if (!m->offer && m->gpu_count > 0 &&
	    g_ascii_strtoll(cells[col[2]], NULL, 10) != m->gpu_count)
		return;
	if (m->found && price >= m->price)
		return;
	m->price = price;
	m->found = TRUE;
}

static void match_offers(const char *table, struct offer_match *m)
{
	g_auto(GStrv) lines = g_strsplit(table, "\n", -1);
	g_auto(GStrv) header = lines[0] ? g_strsplit(lines[0], "\t", -1) : NULL;
	int col[4];

	if (!header)
		return;
	col[0] = column_index(header, gpufs_offer_column_names[GPUFS_O_ID]);
	col[1] = column_index(header, gpufs_offer_column_names[GPUFS_O_GPU_TYPE]);
	col[2] = column_index(header, gpufs_offer_column_names[GPUFS_O_GPU_COUNT]);
	col[3] = column_index(header, gpufs_offer_column_names[GPUFS_O_COST_PER_HOUR]);
	for (guint i = 1; lines[i]; i++) {
		g_auto(GStrv) cells = g_strsplit(lines[i], "\t", -1);

		match_row(cells, g_strv_length(cells), col, m);
	}
}

int gpufs_account_offer_price(struct gpufs_account *account, const struct gpufs_spec *spec,
			      double *price, char **errmsg)
{
	struct gpufs_cache_result result = {0};
	struct offer_match m = {
	    .offer = spec->offer, .gpu_type = spec->gpu_type, .gpu_count = spec->gpu_count};
	int rc;

	if (spec->raw_json || (!spec->offer && !spec->gpu_type)) {
		*errmsg = g_strdup("the spec names no offer or gpu_type, so its price is unknown");
		return -EINVAL;
	}
	rc = gpufs_account_offers(account, &result);
	if (rc < 0) {
		*errmsg = g_strdup_printf("cannot read the offers to learn the price: %s",
					  result.error ? result.error : g_strerror(-rc));
		gpufs_cache_result_clear(account->texts, &result);
		return rc;
	}
	match_offers(g_bytes_get_data(result.value, NULL), &m);
	gpufs_cache_result_clear(account->texts, &result);
	if (!m.found) {
		*errmsg =
		    g_strdup_printf("%s \"%s\" is not in %s/offers, so its price is unknown",
				    spec->offer ? "offer" : "gpu_type",
				    spec->offer ? spec->offer : spec->gpu_type, account->name);
		return -EINVAL;
	}
	*price = m.price;
	return 0;
}

static gboolean costs_money(const struct gpufs_instance *inst)
{
	return inst->status == GPUFS_STATUS_PENDING || inst->status == GPUFS_STATUS_RUNNING;
}

int gpufs_account_running_cost(struct gpufs_account *account, double *total, char **errmsg)
{
	struct gpufs_cache_result result = {0};
	struct gpufs_instance_list *list;
	int rc;

	*total = 0;
	rc = gpufs_account_list(account, &result);
	if (rc < 0) {
		*errmsg =
		    g_strdup_printf("cannot list %s's instances to add up their cost: %s",
				    account->name, result.error ? result.error : g_strerror(-rc));
		gpufs_cache_result_clear(account->lists, &result);
		return rc;
	}
	list = result.value;
	for (guint i = 0; i < list->items->len; i++) {
		const struct gpufs_instance *inst = list->items->pdata[i];
		const char *cost = inst->values[GPUFS_F_COST_PER_HOUR];

		if (costs_money(inst) && cost)
			*total += g_ascii_strtod(cost, NULL);
	}
	gpufs_cache_result_clear(account->lists, &result);
	return 0;
}

/* Sum over every account of the process; budget_lock held. */
static int running_cost_everywhere(double *total, char **errmsg)
{
	*total = 0;
	for (guint i = 0; all_accounts && i < all_accounts->len; i++) {
		double one;
		int rc = gpufs_account_running_cost(all_accounts->pdata[i], &one, errmsg);

		if (rc < 0)
			return rc;
		*total += one;
	}
	return 0;
}

static gboolean capped(const struct gpufs_account *account)
{
	return account->bad_cap || account->max_cost_per_hour >= 0 ||
	       account->max_total_cost_per_hour >= 0;
}

/* Refuses with the figures when @price would take a running total above a
 * cap.  Caller holds budget_lock. */
static int check_one_cap(double cap, double total, double price, const char *scope, char **errmsg)
{
	/* A cent's hundredth of slack: prices are decimal text. */
	if (cap < 0 || total + price <= cap + 1e-6)
		return 0;
	*errmsg = g_strdup_printf("refused before renting: this offer costs %.4g USD/h and %s "
				  "already runs %.4g USD/h; together %.4g exceeds "
				  "max_cost_per_hour = %.4g",
				  price, scope, total, total + price, cap);
	return -EDQUOT;
}

static int check_budget(struct gpufs_account *account, const struct gpufs_spec *spec, char **errmsg)
{
	g_autofree char *scope = NULL;
	double price, total;
	int rc;

	if (account->bad_cap) {
		*errmsg =
		    g_strdup_printf("%s: nothing is created until it is fixed", account->bad_cap);
		return -EINVAL;
	}
	rc = gpufs_account_offer_price(account, spec, &price, errmsg);
	if (rc == 0 && account->max_cost_per_hour >= 0)
		rc = gpufs_account_running_cost(account, &total, errmsg);
	if (rc == 0 && account->max_cost_per_hour >= 0) {
		scope = g_strdup_printf("account [%s]", account->name);
		rc = check_one_cap(account->max_cost_per_hour, total, price, scope, errmsg);
	}
	if (rc == 0 && account->max_total_cost_per_hour >= 0)
		rc = running_cost_everywhere(&total, errmsg);
	if (rc == 0 && account->max_total_cost_per_hour >= 0)
		rc = check_one_cap(account->max_total_cost_per_hour, total, price,
				   "the whole mount ([gpufs])", errmsg);
	if (rc < 0 && rc != -EDQUOT) {
		/* Without a price or a total the cap cannot be kept: refuse. */
		char *inner = *errmsg;

		*errmsg = g_strdup_printf("max_cost_per_hour is set but %s", inner);
		g_free(inner);
		rc = -EINVAL;
	}
	return rc;
}

/* ---- create, with recovery of a lost reply ---- */

/* A refusal the provider gave for sure: nothing was created. */
static gboolean definite_refusal(int rc)
{
	return rc == -EINVAL || rc == -EACCES || rc == -EROFS || rc == -ENOENT || rc == -EAGAIN;
}

/* Ids of the instances named @name in @list. */
static GHashTable *ids_named(struct gpufs_instance_list *list, const char *name)
{
	GHashTable *ids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

	for (guint i = 0; list && i < list->items->len; i++) {
		struct gpufs_instance *inst = list->items->pdata[i];

		if (g_strcmp0(inst->values[GPUFS_F_NAME], name) == 0)
			g_hash_table_add(ids, g_strdup(gpufs_instance_id(inst)));
	}
	return ids;
}

/* The ids named @name before the create is sent; NULL (and *errmsg) when
 * the account cannot be listed: then a lost reply could not be told from a
 * refusal, so nothing is sent. */
static GHashTable *snapshot_names(struct gpufs_account *account, const char *name, char **errmsg)
{
	struct gpufs_cache_result result = {0};
	GHashTable *ids;
	int rc = gpufs_account_list(account, &result);

	if (rc < 0) {
		*errmsg = g_strdup_printf("cannot list the instances before creating (needed to "
					  "recover a lost reply), nothing sent: %s",
					  result.error ? result.error : g_strerror(-rc));
		gpufs_cache_result_clear(account->lists, &result);
		return NULL;
	}
	ids = ids_named(result.value, name);
	gpufs_cache_result_clear(account->lists, &result);
	return ids;
}

/* The name a lost reply is looked for by: name=, or the provider's naming
 * field of a JSON spec; NULL when the spec gives none. */
static char *name_of(const struct gpufs_account *account, const struct gpufs_spec *spec)
{
	if (spec->name)
		return g_strdup(spec->name);
	if (spec->raw_json && account->provider->json_name_field)
		return gpufs_json_string(spec->raw_json, account->provider->json_name_field);
	return NULL;
}

/* After an ambiguous failure: is there a new instance named @name?  Its id,
 * or NULL; *count says how many new ones there are. */
static char *find_new_instance(struct gpufs_account *account, const char *name, GHashTable *before,
			       guint *count)
{
	struct gpufs_cache_result result = {0};
	g_autoptr(GHashTable) now = NULL;
	GHashTableIter iter;
	gpointer id;
	char *found = NULL;

	*count = 0;
	if (gpufs_account_refresh(account, &result) < 0 || result.stale) {
		gpufs_cache_result_clear(account->lists, &result);
		return NULL;
	}
	now = ids_named(result.value, name);
	gpufs_cache_result_clear(account->lists, &result);
	g_hash_table_iter_init(&iter, now);
	while (g_hash_table_iter_next(&iter, &id, NULL)) {
		if (g_hash_table_contains(before, id))
			continue;
		(*count)++;
		if (!found)
			found = g_strdup(id);
	}
	if (*count == 1)
		return found;
	g_free(found);
	return NULL;
}

/* The create failed without a clear refusal: the provider may have acted.
 * Look before reporting, so the user never rents twice from one spec. */
static int recover_lost_reply(struct gpufs_account *account, const char *name, GHashTable *before,
			      int rc, char **new_id, char **errmsg)
{
	g_autofree char *cause = *errmsg ? *errmsg : g_strdup(g_strerror(-rc));
	guint count;

	*errmsg = NULL;
	if (!name) {
		*errmsg = g_strdup_printf("%s; the provider may have acted, and a spec without "
					  "a name cannot be looked for: check instances/ before "
					  "retrying",
					  cause);
		return rc;
	}
	gpufs_info("%s: create \"%s\" failed without a clear answer (%s): looking for it",
		   account->name, name, cause);
	*new_id = find_new_instance(account, name, before, &count);
	if (*new_id) {
		*errmsg = g_strdup("the provider's reply was lost; found the new instance by "
				   "its name");
		gpufs_warn("%s: create \"%s\": reply lost (%s), but instance %s exists",
			   account->name, name, cause, *new_id);
		return 0;
	}
	if (count > 1)
		*errmsg = g_strdup_printf("%s; %u new instances named \"%s\" appeared: check "
					  "instances/ before retrying",
					  cause, count, name);
	else
		*errmsg = g_strdup_printf("%s; no new instance named \"%s\" was found, but the "
					  "provider may have acted and it may still appear: "
					  "check instances/ before retrying",
					  cause, name);
	return rc;
}

static int create_once(struct gpufs_account *account, const struct gpufs_spec *spec, char **new_id,
		       char **errmsg)
{
	g_autoptr(GHashTable) before = NULL;
	g_autofree char *name = name_of(account, spec);
	int rc;

	if (name) {
		before = snapshot_names(account, name, errmsg);
		if (!before)
			return -EIO;
	}
	gpufs_info("%s: creating instance \"%s\"", account->name, name ? name : "");
	rc = account->provider->create(&account->api, spec, new_id, errmsg);
	expire_after_change(account, NULL);
	if (rc < 0 && !definite_refusal(rc))
		rc = recover_lost_reply(account, name, before, rc, new_id, errmsg);
	return rc;
}

int gpufs_account_create(struct gpufs_account *account, const struct gpufs_spec *spec,
			 char **new_id, char **errmsg)
{
	gboolean budget = capped(account);
	int rc = 0;

	if (account->read_only) {
		*errmsg = g_strdup("mounted read-only: nothing is created");
		return -EROFS;
	}
	if (budget) {
		gpufs_blocking_lock(&budget_lock); /* held across a create */
		rc = check_budget(account, spec, errmsg);
	}
	if (rc == 0)
		rc = create_once(account, spec, new_id, errmsg);
	if (budget)
		g_mutex_unlock(&budget_lock);
	if (rc < 0) {
		gpufs_warn("%s: create \"%s\" failed: %s", account->name,
			   spec->name ? spec->name : "", *errmsg ? *errmsg : g_strerror(-rc));
		return rc;
	}
	gpufs_info("%s: created instance %s", account->name, *new_id);
	return 0;
}

int gpufs_account_control(struct gpufs_account *account, const char *id, const char *verb,
			  char **errmsg)
{
	int rc;

	if (!gpufs_provider_has_verb(account->provider, verb)) {
		g_autofree char *verbs = g_strjoinv(", ", (char **)account->provider->ctl_verbs);

		*errmsg = g_strdup_printf("%s has no verb \"%s\": use %s", account->provider->name,
					  verb, verbs);
		gpufs_account_set_error(account, id, *errmsg);
		return -EINVAL;
	}
	if (account->read_only) {
		*errmsg = g_strdup("mounted read-only: nothing is changed");
		return -EROFS;
	}
	gpufs_info("%s: %s %s", account->name, verb, id);
	rc = account->provider->control(&account->api, id, verb, errmsg);
	expire_after_change(account, id);
	if (rc < 0) {
		if (!*errmsg)
			*errmsg = g_strdup(g_strerror(-rc));
		gpufs_warn("%s: %s %s failed: %s", account->name, verb, id, *errmsg);
		gpufs_account_set_error(account, id, *errmsg);
		return rc;
	}
	gpufs_account_set_error(account, id, NULL);
	return 0;
}

int gpufs_account_write_file(struct gpufs_account *account, const char *id, const char *file,
			     const char *value, char **errmsg)
{
	int rc;

	if (!account->provider->write_file)
		return -EPERM;
	if (account->read_only)
		return -EROFS;
	rc = account->provider->write_file(&account->api, id, file, value, errmsg);
	expire_after_change(account, id);
	gpufs_account_set_error(account, id, rc < 0 ? *errmsg : NULL);
	return rc;
}

int gpufs_account_read_live_file(struct gpufs_account *account, const char *id, const char *file,
				 GString *out, char **errmsg)
{
	if (!account->provider->read_live_file)
		return -ENOENT;
	return account->provider->read_live_file(&account->api, id, file, out, errmsg);
}

char *gpufs_account_last_error(struct gpufs_account *account, const char *id)
{
	char *text;

	g_mutex_lock(&account->lock);
	text = g_strdup(g_hash_table_lookup(account->errors, id));
	g_mutex_unlock(&account->lock);
	return text;
}

void gpufs_account_set_error(struct gpufs_account *account, const char *id, const char *text)
{
	g_mutex_lock(&account->lock);
	if (text)
		g_hash_table_replace(account->errors, g_strdup(id), g_strdup(text));
	else
		g_hash_table_remove(account->errors, id);
	g_mutex_unlock(&account->lock);
}
