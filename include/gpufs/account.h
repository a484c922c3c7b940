/* An account: one configured section, its provider, its HTTP client and its
 * caches.  This is the only way the tree reaches a provider: it adds caching,
 * single flight, stale serving and invalidation after mutations, so provider
 * modules stay pure request/mapping code. */
#ifndef GPUFS_ACCOUNT_H
#define GPUFS_ACCOUNT_H

#include <glib.h>
#include "gpufs/cache.h"
#include "gpufs/config.h"
#include "gpufs/model.h"
#include "gpufs/provider.h"
#include "gpufs/spec.h"

struct gpufs_mount_options {
	gint64 ttl_us;	    /* cache time-to-live */
	gboolean read_only; /* -o ro: nothing mutating reaches the provider */
	long connect_timeout_ms;
	long timeout_ms;
	gpufs_clock_fn clock; /* NULL: g_get_monotonic_time */
	/* [gpufs] max_cost_per_hour as written in the config (USD/h), the cap
	 * on the sum over every account; NULL when unset. */
	const char *max_total_cost_per_hour;
};

struct gpufs_account {
	char *name;
	const struct gpufs_provider *provider;
	struct gpufs_api api;
	gboolean read_only;
	struct gpufs_cache *lists;	/* "instances": struct gpufs_instance_list */
	struct gpufs_cache *instances;	/* id -> struct gpufs_instance (list item or full) */
	struct gpufs_cache *details;	/* id -> struct gpufs_instance, always full */
	struct gpufs_cache *texts;	/* "offers", "balance": GBytes */
	double max_cost_per_hour;	/* this account's cap, USD/h; < 0: none */
	double max_total_cost_per_hour; /* the mount's cap; < 0: none */
	char *bad_cap;			/* words when the configured cap is not a number */
	GMutex lock;			/* guards errors */
	GHashTable *errors;		/* id -> our last failure for it (ctl), words */
};

struct gpufs_account *gpufs_account_new(const struct gpufs_account_config *config,
					const struct gpufs_mount_options *options);
void gpufs_account_free(struct gpufs_account *account);

/* The account's instances, fetched at most once per TTL; fills the instance
 * cache with every item.  result->value is a struct gpufs_instance_list *. */
int gpufs_account_list(struct gpufs_account *account, struct gpufs_cache_result *result);

/* The same, fetched now whatever its age (shared with concurrent callers):
 * the poller's one request per interval. */
int gpufs_account_refresh(struct gpufs_account *account, struct gpufs_cache_result *result);

/* One instance (result->value: struct gpufs_instance *).  With @need_detail
 * a partial list item is completed by a GET of the full object. */
int gpufs_account_instance(struct gpufs_account *account, const char *id, gboolean need_detail,
			   struct gpufs_cache_result *result);

/* The provider status @id had when last seen (listed or fetched), without
 * asking; NULL if unknown.  g_free it. */
char *gpufs_account_listed_state(struct gpufs_account *account, const char *id);
/* Expires the cached full object of @id when it was fetched while the
 * instance was in another state than its last listing shows: the next
 * gpufs_account_instance with @need_detail then asks the provider. */
void gpufs_account_expire_outdated_detail(struct gpufs_account *account, const char *id);

/* TRUE when the instance is known from a listing or a fetch, without asking
 * the provider. */
gboolean gpufs_account_knows(struct gpufs_account *account, const char *id);

/* The rendered offers table (result->value: GBytes *). */
int gpufs_account_offers(struct gpufs_account *account, struct gpufs_cache_result *result);
/* The balance file's text (result->value: GBytes *); -ENOSYS if the provider
 * does not report one. */
int gpufs_account_balance(struct gpufs_account *account, struct gpufs_cache_result *result);

/* Creates an instance from a checked spec.  0 and *new_id (and maybe a note
 * in *errmsg), or -errno and *errmsg.
 *
 * Never creates twice: a create is sent once, and when it fails without a
 * clear refusal (timeout, dropped connection, 5xx) the account is listed
 * again and a new instance with spec->name that was not there before counts
 * as created (with a note saying so).
 *
 * Spending caps (max_cost_per_hour in the account's section, and in [gpufs]
 * for all accounts together) are checked first: when the offer's price plus
 * the cost of the pending and running instances would exceed a cap, nothing
 * is sent and -EDQUOT names the figures.  With a cap set, a spec whose price
 * cannot be found in the offers is refused (-EINVAL). */
int gpufs_account_create(struct gpufs_account *account, const struct gpufs_spec *spec,
			 char **new_id, char **errmsg);
/* The price (USD/h) of the offer a spec would rent: spec->offer by id, or
 * the cheapest offer of spec->gpu_type (and gpu_count when given). */
int gpufs_account_offer_price(struct gpufs_account *account, const struct gpufs_spec *spec,
			      double *price, char **errmsg);
/* Sum of cost_per_hour over the account's pending and running instances. */
int gpufs_account_running_cost(struct gpufs_account *account, double *total, char **errmsg);

/* Runs a ctl verb.  -EINVAL for a verb the provider does not take, -EROFS
 * when read-only.  The failure's words are kept for the `error` file. */
int gpufs_account_control(struct gpufs_account *account, const char *id, const char *verb,
			  char **errmsg);
/* Writes a writable instance file (provider write_file). */
int gpufs_account_write_file(struct gpufs_account *account, const char *id, const char *file,
			     const char *value, char **errmsg);
/* A provider-only file computed on read. */
int gpufs_account_read_live_file(struct gpufs_account *account, const char *id, const char *file,
				 GString *out, char **errmsg);

/* Our last failure for @id (a ctl that failed), NULL if none; g_free it. */
char *gpufs_account_last_error(struct gpufs_account *account, const char *id);
void gpufs_account_set_error(struct gpufs_account *account, const char *id, const char *text);

#endif
