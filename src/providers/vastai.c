/* vastai: placeholder until the provider module lands; every call fails. */
#include <errno.h>
#include "gpufs/provider.h"

static int not_yet(char **errmsg)
{
	*errmsg = g_strdup("the vastai provider is not implemented yet");
	return -ENOSYS;
}

static int list_instances(struct gpufs_api *api, GPtrArray *out, char **errmsg)
{
	return not_yet(errmsg);
}

static int get_instance(struct gpufs_api *api, const char *id, struct gpufs_instance **out,
			char **errmsg)
{
	return not_yet(errmsg);
}

static int list_offers(struct gpufs_api *api, GPtrArray *out, char **errmsg)
{
	return not_yet(errmsg);
}

static int create(struct gpufs_api *api, const struct gpufs_spec *spec, char **new_id,
		  char **errmsg)
{
	return not_yet(errmsg);
}

static int control(struct gpufs_api *api, const char *id, const char *verb, char **errmsg)
{
	return not_yet(errmsg);
}

static const char *const ctl_verbs[] = {NULL};

const struct gpufs_provider gpufs_provider_vastai = {
    .name = "vastai",
    .default_url = "https://console.vast.ai/api/v0",
    .key_env = "VAST_API_KEY",
    .ctl_verbs = ctl_verbs,
    .list_instances = list_instances,
    .get_instance = get_instance,
    .list_offers = list_offers,
    .create = create,
    .control = control,
};
