/* The provider-neutral model: instances, offers, and their rendering rules. */
#include <string.h>
#include "gpufs/model.h"

const char *const gpufs_field_names[GPUFS_FIELD_COUNT] = {
    [GPUFS_F_ID] = "id",
    [GPUFS_F_NAME] = "name",
    [GPUFS_F_STATUS] = "status",
    [GPUFS_F_PROVIDER_STATUS] = "provider_status",
    [GPUFS_F_IP] = "ip",
    [GPUFS_F_SSH] = "ssh",
    [GPUFS_F_GPU_TYPE] = "gpu_type",
    [GPUFS_F_GPU_COUNT] = "gpu_count",
    [GPUFS_F_CPU_CORES] = "cpu_cores",
    [GPUFS_F_MEMORY_GB] = "memory_gb",
    [GPUFS_F_DISK_GB] = "disk_gb",
    [GPUFS_F_REGION] = "region",
    [GPUFS_F_IMAGE] = "image",
    [GPUFS_F_COST_PER_HOUR] = "cost_per_hour",
    [GPUFS_F_CREATED_AT] = "created_at",
    [GPUFS_F_ERROR] = "error",
};

const char *const gpufs_offer_column_names[GPUFS_OFFER_COLUMN_COUNT] = {
    [GPUFS_O_ID] = "offer",
    [GPUFS_O_GPU_TYPE] = "gpu_type",
    [GPUFS_O_GPU_COUNT] = "gpu_count",
    [GPUFS_O_CPU_CORES] = "cpu_cores",
    [GPUFS_O_MEMORY_GB] = "memory_gb",
    [GPUFS_O_DISK_GB] = "disk_gb",
    [GPUFS_O_REGION] = "region",
    [GPUFS_O_COST_PER_HOUR] = "cost_per_hour",
    [GPUFS_O_AVAILABLE] = "available",
};

static const char *const status_names[] = {
    [GPUFS_STATUS_UNKNOWN] = "error",	      [GPUFS_STATUS_PENDING] = "pending",
    [GPUFS_STATUS_RUNNING] = "running",	      [GPUFS_STATUS_STOPPING] = "stopping",
    [GPUFS_STATUS_STOPPED] = "stopped",	      [GPUFS_STATUS_TERMINATING] = "terminating",
    [GPUFS_STATUS_TERMINATED] = "terminated", [GPUFS_STATUS_ERROR] = "error",
};

const char *gpufs_offer_available(gboolean available)
{
	return available ? "yes" : "no";
}

const char *gpufs_status_name(enum gpufs_status status)
{
	if ((guint)status >= G_N_ELEMENTS(status_names))
		return "error";
	return status_names[status];
}

gboolean gpufs_status_is_transitional(enum gpufs_status status)
{
	return status == GPUFS_STATUS_PENDING || status == GPUFS_STATUS_STOPPING ||
	       status == GPUFS_STATUS_TERMINATING;
}

int gpufs_field_from_name(const char *name)
{
	for (int i = 0; i < GPUFS_FIELD_COUNT; i++)
		if (strcmp(gpufs_field_names[i], name) == 0)
			return i;
	return -1;
}

struct gpufs_instance *gpufs_instance_new(guint n_extra)
{
	struct gpufs_instance *inst = g_new0(struct gpufs_instance, 1);

	inst->refcount = 1;
	inst->n_extra = n_extra;
	if (n_extra)
		inst->extra = g_new0(char *, n_extra);
	return inst;
}

struct gpufs_instance *gpufs_instance_ref(struct gpufs_instance *inst)
{
	g_atomic_int_inc(&inst->refcount);
	return inst;
}

void gpufs_instance_unref(struct gpufs_instance *inst)
{
	if (!inst || !g_atomic_int_dec_and_test(&inst->refcount))
		return;
	for (int i = 0; i < GPUFS_FIELD_COUNT; i++)
		g_free(inst->values[i]);
	for (guint i = 0; i < inst->n_extra; i++)
		g_free(inst->extra[i]);
	g_free(inst->extra);
	g_free(inst->json);
	g_free(inst);
}

void gpufs_instance_take(struct gpufs_instance *inst, enum gpufs_field field, char *value)
{
	g_free(inst->values[field]);
	inst->values[field] = value;
}

void gpufs_instance_set(struct gpufs_instance *inst, enum gpufs_field field, const char *value)
{
	gpufs_instance_take(inst, field, g_strdup(value));
}

void gpufs_instance_set_extra(struct gpufs_instance *inst, guint index, const char *value)
{
	g_return_if_fail(index < inst->n_extra);
	g_free(inst->extra[index]);
	inst->extra[index] = g_strdup(value);
}

void gpufs_instance_set_status(struct gpufs_instance *inst, enum gpufs_status status,
			       const char *provider_word)
{
	inst->status = status;
	gpufs_instance_set(inst, GPUFS_F_STATUS, gpufs_status_name(status));
	gpufs_instance_set(inst, GPUFS_F_PROVIDER_STATUS, provider_word);
}

struct gpufs_offer *gpufs_offer_new(void)
{
	return g_new0(struct gpufs_offer, 1);
}

void gpufs_offer_free(struct gpufs_offer *offer)
{
	if (!offer)
		return;
	for (int i = 0; i < GPUFS_OFFER_COLUMN_COUNT; i++)
		g_free(offer->values[i]);
	g_free(offer);
}

static gint compare_offers(gconstpointer a, gconstpointer b)
{
	const struct gpufs_offer *x = *(struct gpufs_offer *const *)a;
	const struct gpufs_offer *y = *(struct gpufs_offer *const *)b;

	if (x->cost_per_hour != y->cost_per_hour)
		return x->cost_per_hour < y->cost_per_hour ? -1 : 1;
	return g_strcmp0(x->values[GPUFS_O_ID], y->values[GPUFS_O_ID]);
}

void gpufs_offers_sort(GPtrArray *offers)
{
	g_ptr_array_sort(offers, compare_offers);
}

/* A tab or newline inside a value would break the table's columns. */
static void append_cell(GString *out, const char *value)
{
	for (const char *p = value ? value : ""; *p; p++)
		g_string_append_c(out, (*p == '\t' || *p == '\n') ? ' ' : *p);
}

char *gpufs_offers_render(GPtrArray *offers)
{
	GString *out = g_string_new(NULL);

	for (int c = 0; c < GPUFS_OFFER_COLUMN_COUNT; c++)
		g_string_append_printf(out, "%s%s", c ? "\t" : "", gpufs_offer_column_names[c]);
	g_string_append_c(out, '\n');
	for (guint i = 0; i < offers->len; i++) {
		const struct gpufs_offer *offer = offers->pdata[i];

		for (int c = 0; c < GPUFS_OFFER_COLUMN_COUNT; c++) {
			if (c)
				g_string_append_c(out, '\t');
			append_cell(out, offer->values[c]);
		}
		g_string_append_c(out, '\n');
	}
	return g_string_free(out, FALSE);
}

struct gpufs_instance_list *gpufs_instance_list_new(void)
{
	struct gpufs_instance_list *list = g_new0(struct gpufs_instance_list, 1);

	list->refcount = 1;
	list->items = g_ptr_array_new_with_free_func((GDestroyNotify)gpufs_instance_unref);
	return list;
}

struct gpufs_instance_list *gpufs_instance_list_ref(struct gpufs_instance_list *list)
{
	g_atomic_int_inc(&list->refcount);
	return list;
}

void gpufs_instance_list_unref(struct gpufs_instance_list *list)
{
	if (!list || !g_atomic_int_dec_and_test(&list->refcount))
		return;
	g_ptr_array_unref(list->items);
	g_free(list);
}
