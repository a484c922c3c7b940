/* The provider-neutral model: what every provider module produces and what the
 * tree renders.  Values are kept as the exact text of the file (without the
 * trailing newline), so rendering is a copy and providers decide formatting
 * once, through the helpers in util.h. */
#ifndef GPUFS_MODEL_H
#define GPUFS_MODEL_H

#include <glib.h>

/* One status vocabulary for every provider (DESIGN.md). */
enum gpufs_status {
	GPUFS_STATUS_UNKNOWN = 0, /* a word no mapping knows: rendered as "error" */
	GPUFS_STATUS_PENDING,
	GPUFS_STATUS_RUNNING,
	GPUFS_STATUS_STOPPING,
	GPUFS_STATUS_STOPPED,
	GPUFS_STATUS_TERMINATING,
	GPUFS_STATUS_TERMINATED,
	GPUFS_STATUS_ERROR,
};

const char *gpufs_status_name(enum gpufs_status status);
/* Transitional states are polled faster by the live tree. */
gboolean gpufs_status_is_transitional(enum gpufs_status status);

/* The common per-instance value files, same names under every provider.
 * Order is the listing order of an instance directory. */
enum gpufs_field {
	GPUFS_F_ID,
	GPUFS_F_NAME,
	GPUFS_F_STATUS,
	GPUFS_F_PROVIDER_STATUS,
	GPUFS_F_IP,
	GPUFS_F_SSH,
	GPUFS_F_GPU_TYPE,
	GPUFS_F_GPU_COUNT,
	GPUFS_F_CPU_CORES,
	GPUFS_F_MEMORY_GB,
	GPUFS_F_DISK_GB,
	GPUFS_F_REGION,
	GPUFS_F_IMAGE,
	GPUFS_F_COST_PER_HOUR,
	GPUFS_F_CREATED_AT,
	GPUFS_F_ERROR, /* the provider's own failure text (status_msg, statusError) */
	GPUFS_FIELD_COUNT
};

extern const char *const gpufs_field_names[GPUFS_FIELD_COUNT];
/* -1 when @name is not a common field. */
int gpufs_field_from_name(const char *name);

/* One instance as last seen.  Immutable once published (shared by reference
 * between the cache and open file handles); build a new one to change it. */
struct gpufs_instance {
	gint refcount;
	enum gpufs_status status;
	char *values[GPUFS_FIELD_COUNT]; /* NULL: absent, rendered as an empty file */
	/* Values of the provider-only files, in the order of the provider's
	 * extra_files list; NULL entries are absent.  May be NULL altogether. */
	char **extra;
	guint n_extra;
	char *json;	  /* the provider's object, pretty-printed, ends in "\n" */
	gboolean partial; /* built from a list item lacking detail_files */
};

struct gpufs_instance *gpufs_instance_new(guint n_extra);
struct gpufs_instance *gpufs_instance_ref(struct gpufs_instance *inst);
void gpufs_instance_unref(struct gpufs_instance *inst);
/* Takes ownership of @value (may be NULL). */
void gpufs_instance_take(struct gpufs_instance *inst, enum gpufs_field field, char *value);
void gpufs_instance_set(struct gpufs_instance *inst, enum gpufs_field field, const char *value);
void gpufs_instance_set_extra(struct gpufs_instance *inst, guint index, const char *value);
/* Sets status and provider_status from a raw word and its mapping. */
void gpufs_instance_set_status(struct gpufs_instance *inst, enum gpufs_status status,
			       const char *provider_word);
#define gpufs_instance_id(inst) ((inst)->values[GPUFS_F_ID])
typedef struct gpufs_instance gpufs_instance; /* for g_autoptr */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(gpufs_instance, gpufs_instance_unref)

/* Columns of every `offers` table, in order. */
enum gpufs_offer_column {
	GPUFS_O_ID,
	GPUFS_O_GPU_TYPE,
	GPUFS_O_GPU_COUNT,
	GPUFS_O_CPU_CORES,
	GPUFS_O_MEMORY_GB,
	GPUFS_O_DISK_GB,
	GPUFS_O_REGION,
	GPUFS_O_COST_PER_HOUR,
	GPUFS_O_AVAILABLE, /* "yes" or "no" where the provider says, else empty */
	GPUFS_OFFER_COLUMN_COUNT
};

extern const char *const gpufs_offer_column_names[GPUFS_OFFER_COLUMN_COUNT];

struct gpufs_offer {
	char *values[GPUFS_OFFER_COLUMN_COUNT];
	double cost_per_hour; /* for sorting; values[COST] is its text */
};

/* The text of the available column. */
const char *gpufs_offer_available(gboolean available);

struct gpufs_offer *gpufs_offer_new(void);
void gpufs_offer_free(struct gpufs_offer *offer);
/* Sorts cheapest first, ties by id, so the table is stable. */
void gpufs_offers_sort(GPtrArray *offers);
/* The tab-separated table with its header line. */
char *gpufs_offers_render(GPtrArray *offers);

/* A refcounted list of instances (struct gpufs_instance *), as one listing
 * returned them. */
struct gpufs_instance_list {
	gint refcount;
	GPtrArray *items;
};

struct gpufs_instance_list *gpufs_instance_list_new(void);
struct gpufs_instance_list *gpufs_instance_list_ref(struct gpufs_instance_list *list);
void gpufs_instance_list_unref(struct gpufs_instance_list *list);

#endif
