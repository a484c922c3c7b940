/* The configuration file (GLib key file).  Each section is an account and a
 * directory under the mountpoint; the section [gpufs] is reserved for options
 * that apply to the whole mount. */
#ifndef GPUFS_CONFIG_H
#define GPUFS_CONFIG_H

#include <glib.h>

struct gpufs_provider;

#define GPUFS_CONFIG_GLOBAL_SECTION "gpufs"

struct gpufs_account_config {
	char *name; /* the section name */
	const struct gpufs_provider *provider;
	char *api_key;	     /* secret: never log or render */
	char *url;	     /* base URL, no trailing slash */
	GHashTable *options; /* every other key of the section */
};

struct gpufs_config {
	char *path;
	GPtrArray *accounts; /* struct gpufs_account_config * in file order */
	GHashTable *global;  /* keys of [gpufs], may be empty */
};

/* $XDG_CONFIG_HOME/gpufs/config (or ~/.config/gpufs/config). */
char *gpufs_config_default_path(void);

/* Loads and checks @path.  On failure returns -errno and one line in
 * *errmsg that names the account (when one is at fault) and the fix. */
int gpufs_config_load(const char *path, struct gpufs_config **out, char **errmsg);
void gpufs_config_free(struct gpufs_config *config);

/* Names a section may not take: they are files of the mount's root. */
gboolean gpufs_config_reserved_name(const char *name);

#endif
