/* What a provider module is: a table of functions that turn requests into the
 * provider's HTTP calls and its JSON into the model.  A provider knows nothing
 * of FUSE, of the cache or of files; it is called by account.c. */
#ifndef GPUFS_PROVIDER_H
#define GPUFS_PROVIDER_H

#include <glib.h>
#include "gpufs/http.h"
#include "gpufs/model.h"
#include "gpufs/spec.h"

/* What a provider call may use: the account's HTTP client and its config
 * section (every key of the section, e.g. offers_filter, as strings). */
struct gpufs_api {
	struct gpufs_http *http;
	const char *account;
	GHashTable *options;
};

struct gpufs_provider {
	const char *name;		/* "runcrate": provider = ..., default section name */
	const char *default_url;	/* base URL of the real API */
	const char *key_env;		/* environment variable holding the key */
	const char *const *ctl_verbs;	/* NULL-terminated verbs `ctl` accepts */
	const char *const *extra_files; /* NULL-terminated provider-only files */
	/* Files whose values a list item lacks (instance->partial): reading one
	 * fetches the full object.  NULL-terminated, may be NULL. */
	const char *const *detail_files;
	/* Provider-only files computed at each open by read_live_file (Vast.ai
	 * logs): never cached.  NULL-terminated, may be NULL. */
	const char *const *live_files;
	/* Common or extra files a user may write; write_file gets the value.
	 * NULL-terminated, may be NULL. */
	const char *const *writable_files;
	/* The field of a JSON spec (sent as is) that names the instance: a
	 * create whose reply is lost is looked for by it. */
	const char *json_name_field;

	/* Every instance of the account, across pages.  Appends struct
	 * gpufs_instance * to @out.  Returns 0 or -errno with *errmsg. */
	int (*list_instances)(struct gpufs_api *api, GPtrArray *out, char **errmsg);
	/* One full instance; -ENOENT when the provider does not know it. */
	int (*get_instance)(struct gpufs_api *api, const char *id, struct gpufs_instance **out,
			    char **errmsg);
	/* Offers (struct gpufs_offer *), any order: the caller sorts. */
	int (*list_offers)(struct gpufs_api *api, GPtrArray *out, char **errmsg);

	/* Validates a "<provider>.field" spec key (without the prefix) when
	 * its line is parsed.  0 or -EINVAL with *errmsg. */
	int (*check_spec_key)(const char *field, const char *value, char **errmsg);
	/* Validates a spec as a whole before anything is sent. */
	int (*check_spec)(const struct gpufs_spec *spec, char **errmsg);
	/* Creates one instance.  Never retries: a create is not idempotent.
	 * Returns 0 and *new_id, -EINVAL for what the provider refused in the
	 * spec, or -errno; *errmsg says what happened in words.  On success
	 * *errmsg may hold a note for the spec file's second line (which offer
	 * was picked for a gpu_type); the first line stays the id. */
	int (*create)(struct gpufs_api *api, const struct gpufs_spec *spec, char **new_id,
		      char **errmsg);
	/* Runs a ctl verb (already checked against ctl_verbs). */
	int (*control)(struct gpufs_api *api, const char *id, const char *verb, char **errmsg);

	/* Optional: credit left, as the text of the `balance` file. */
	int (*balance)(struct gpufs_api *api, char **text, char **errmsg);
	/* Optional: a provider-only file computed on read (Vast.ai logs). */
	int (*read_live_file)(struct gpufs_api *api, const char *id, const char *file, GString *out,
			      char **errmsg);
	/* Optional: a writable common or extra file (Vast.ai `name` sets the
	 * label).  -EPERM when @file is not writable. */
	int (*write_file)(struct gpufs_api *api, const char *id, const char *file,
			  const char *value, char **errmsg);
};

/* Registration: the providers compiled in.  NULL when unknown. */
const struct gpufs_provider *gpufs_provider_find(const char *name);
const struct gpufs_provider *const *gpufs_providers(void);

/* Index of @file in provider->extra_files, or -1. */
int gpufs_provider_extra_index(const struct gpufs_provider *provider, const char *file);
gboolean gpufs_provider_is_live_file(const struct gpufs_provider *provider, const char *file);
gboolean gpufs_provider_is_writable(const struct gpufs_provider *provider, const char *file);
gboolean gpufs_provider_has_verb(const struct gpufs_provider *provider, const char *verb);
gboolean gpufs_provider_is_detail_file(const struct gpufs_provider *provider, const char *file);

extern const struct gpufs_provider gpufs_provider_runcrate;
extern const struct gpufs_provider gpufs_provider_vastai;
extern const struct gpufs_provider gpufs_provider_novita;

#endif
