/* libFuzzer target: the vastai JSON mappers (instances, offers, error words)
 * on any reply.  They must refuse what they cannot map, never crash. */
#include "providers/vastai.h"
#include "fuzz-json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void map(json_object *obj)
{
	char *errmsg = NULL;
	struct gpufs_instance *inst = vastai_instance_from_json(obj, &errmsg);
	struct gpufs_offer *offer;

	gpufs_instance_unref(inst);
	g_clear_pointer(&errmsg, g_free);
	offer = vastai_offer_from_json(obj, &errmsg);
	gpufs_offer_free(offer);
	g_free(errmsg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_json(data, size, map, vastai_error_message);
	return 0;
}
