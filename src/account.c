/* An account: caches in front of a provider module (see account.h). */
#include <errno.h>
#include <string.h>
#include "gpufs/account.h"
#include "gpufs/log.h"

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

	account->name = g_strdup(config->name);
	account->provider = config->provider;
	account->read_only = options->read_only;
	account->api.http = gpufs_http_new(&http);
	account->api.account = account->name;
	account->api.options = g_hash_table_ref(config->options);
	account->lists = gpufs_cache_new(&list_ops, options->ttl_us, options->clock);
	account->instances = gpufs_cache_new(&instance_ops, options->ttl_us, options->clock);
	account->details = gpufs_cache_new(&instance_ops, options->ttl_us, options->clock);
	account->texts = gpufs_cache_new(&bytes_ops, options->ttl_us, options->clock);
	g_mutex_init(&account->lock);
	account->errors = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	return account;
}

void gpufs_account_free(struct gpufs_account *account)
{
	if (!account)
		return;
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

int gpufs_account_create(struct gpufs_account *account, const struct gpufs_spec *spec,
			 char **new_id, char **errmsg)
{
	int rc;

	if (account->read_only) {
		*errmsg = g_strdup("mounted read-only: nothing is created");
		return -EROFS;
	}
	gpufs_info("%s: creating instance \"%s\"", account->name, spec->name ? spec->name : "");
	rc = account->provider->create(&account->api, spec, new_id, errmsg);
	expire_after_change(account, NULL);
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
