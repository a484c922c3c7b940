/* The registry of provider modules compiled into gpufs.  Adding a provider is
 * one module plus one line here. */
#include <string.h>
#include "gpufs/provider.h"

static const struct gpufs_provider *const providers[] = {
    &gpufs_provider_runcrate,
    &gpufs_provider_novita,
    &gpufs_provider_vastai,
    NULL,
};

const struct gpufs_provider *const *gpufs_providers(void)
{
	return providers;
}

const struct gpufs_provider *gpufs_provider_find(const char *name)
{
	for (int i = 0; name && providers[i]; i++)
		if (strcmp(providers[i]->name, name) == 0)
			return providers[i];
	return NULL;
}

static int index_in(const char *const *list, const char *word)
{
	for (int i = 0; list && list[i]; i++)
		if (strcmp(list[i], word) == 0)
			return i;
	return -1;
}

int gpufs_provider_extra_index(const struct gpufs_provider *provider, const char *file)
{
	return index_in(provider->extra_files, file);
}

gboolean gpufs_provider_has_verb(const struct gpufs_provider *provider, const char *verb)
{
	return index_in(provider->ctl_verbs, verb) >= 0;
}

gboolean gpufs_provider_is_detail_file(const struct gpufs_provider *provider, const char *file)
{
	return index_in(provider->detail_files, file) >= 0;
}

gboolean gpufs_provider_is_live_file(const struct gpufs_provider *provider, const char *file)
{
	return index_in(provider->live_files, file) >= 0;
}

gboolean gpufs_provider_is_writable(const struct gpufs_provider *provider, const char *file)
{
	return index_in(provider->writable_files, file) >= 0;
}
