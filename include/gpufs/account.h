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
};

struct gpufs_account {
	char *name;
	const struct gpufs_provider *provider;
	struct gpufs_api api;
	gboolean read_only;
	struct gpufs_cache *lists;     /* "instances": struct gpufs_instance_list */
	struct gpufs_cache *instances; /* id -> struct gpufs_instance (list item or full) */
	struct gpufs_cache *details;   /* id -> struct gpufs_instance, always full */
	struct gpufs_cache *texts;     /* "offers", "balance": GBytes */
	GMutex lock;		       /* guards errors */
	GHashTable *errors;	       /* id -> our last failure for it (ctl), words */
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

/* TRUE when the instance is known from a listing or a fetch, without asking
 * the provider. */
gboolean gpufs_account_knows(struct gpufs_account *account, const char *id);

/* The rendered offers table (result->value: GBytes *). */
int gpufs_account_offers(struct gpufs_account *account, struct gpufs_cache_result *result);
/* The balance file's text (result->value: GBytes *); -ENOSYS if the provider
 * does not report one. */
int gpufs_account_balance(struct gpufs_account *account, struct gpufs_cache_result *result);

/* Creates an instance from a checked spec.  0 and *new_id (and maybe a note
 * in *errmsg), or -errno and *errmsg. */
int gpufs_account_create(struct gpufs_account *account, const struct gpufs_spec *spec,
			 char **new_id, char **errmsg);
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
