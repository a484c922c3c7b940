/* libFuzzer target: the new/ spec parser, for every provider's keys, fed
 * whole and fed in two pieces (the incremental builder). */
#include <stddef.h>
#include <stdint.h>
#include "gpufs/provider.h"
#include "gpufs/spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_whole(const struct gpufs_provider *provider, const uint8_t *data, size_t size)
{
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;

	gpufs_spec_parse(provider, "fuzz", (const char *)data, size, &spec, &errmsg);
	gpufs_spec_free(spec);
	g_free(errmsg);
}

static void parse_split(const struct gpufs_provider *provider, const uint8_t *data, size_t size)
{
	struct gpufs_spec_builder *builder = gpufs_spec_builder_new(provider, "fuzz");
	struct gpufs_spec *spec = NULL;
	char *errmsg = NULL;
	size_t half = size / 2;

	if (gpufs_spec_builder_feed(builder, (const char *)data, half, &errmsg) == 0)
		gpufs_spec_builder_feed(builder, (const char *)data + half, size - half, &errmsg);
	g_clear_pointer(&errmsg, g_free);
	gpufs_spec_builder_finish(builder, &spec, &errmsg);
	gpufs_spec_free(spec);
	g_free(errmsg);
	gpufs_spec_builder_free(builder);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct gpufs_provider *const *providers = gpufs_providers();

	for (int i = 0; providers[i]; i++) {
		parse_whole(providers[i], data, size);
		parse_split(providers[i], data, size);
	}
	parse_whole(NULL, data, size);
	return 0;
}
