/* The new/ spec language: "key=value" lines, '#' comments and blank lines
 * ignored, or a whole file starting with '{' sent as the provider's own JSON.
 *
 * Parsing is incremental because the user must learn about a bad line from
 * the write(2) that carried it: gpufs_spec_builder_feed() parses every
 * complete line at once, and once a line is refused the builder is poisoned,
 * so nothing is ever sent for that file, whatever comes after. */
#ifndef GPUFS_SPEC_H
#define GPUFS_SPEC_H

#include <glib.h>
#include <json-c/json.h>

struct gpufs_provider;

struct gpufs_spec_kv {
	char *key;
	char *value;
};

struct gpufs_spec {
	char *name;  /* from name=, else the spec file's name */
	char *offer; /* provider's offer / instance type / product id */
	char *gpu_type;
	long gpu_count; /* -1 when absent */
	char *region;
	char *image;
	long disk_gb; /* -1 when absent */
	char *ssh_key;
	char *onstart;		/* script text; "@/path" is read when the line is parsed */
	GPtrArray *env;		/* struct gpufs_spec_kv *, env.NAME=value, in order */
	GPtrArray *passthrough; /* struct gpufs_spec_kv *, "<provider>.field" without the prefix */
	json_object *raw_json;	/* set when the file was a JSON body; all else unset */
};

void gpufs_spec_free(struct gpufs_spec *spec);
typedef struct gpufs_spec gpufs_spec; /* for g_autoptr */
G_DEFINE_AUTOPTR_CLEANUP_FUNC(gpufs_spec, gpufs_spec_free)

/* Largest spec accepted, so a runaway writer cannot eat the daemon's memory. */
#define GPUFS_SPEC_MAX_BYTES (256 * 1024)

struct gpufs_spec_builder;

/* @provider decides which "<provider>.field" keys exist (may be NULL in
 * tests: then every passthrough key is refused); @default_name is the spec
 * file's name. */
struct gpufs_spec_builder *gpufs_spec_builder_new(const struct gpufs_provider *provider,
						  const char *default_name);
void gpufs_spec_builder_free(struct gpufs_spec_builder *builder);

/* Refuses onstart=@path.  The daemon reads such a file with its own rights,
 * so on a mount other users can write to (allow_other) one of them could
 * make it read a file they cannot and send it to their instance. */
void gpufs_spec_builder_forbid_file_refs(struct gpufs_spec_builder *builder);

/* Feeds bytes in file order.  Returns 0, or -EINVAL (-EFBIG past the size
 * limit) with *errmsg naming the line and the reason; after a failure every
 * later call fails the same way. */
int gpufs_spec_builder_feed(struct gpufs_spec_builder *builder, const char *data, gsize len,
			    char **errmsg);

/* Ends the input: parses a last unterminated line, then checks the spec as a
 * whole (the provider's check_spec).  Returns 0 and the spec, or -EINVAL and
 * *errmsg. */
int gpufs_spec_builder_finish(struct gpufs_spec_builder *builder, struct gpufs_spec **spec_out,
			      char **errmsg);

gboolean gpufs_spec_builder_failed(const struct gpufs_spec_builder *builder);
/* TRUE when nothing but blanks and comments was fed. */
gboolean gpufs_spec_builder_empty(const struct gpufs_spec_builder *builder);

/* Parses a whole spec at once (tests, fuzzers). */
int gpufs_spec_parse(const struct gpufs_provider *provider, const char *default_name,
		     const char *text, gsize len, struct gpufs_spec **spec_out, char **errmsg);

/* Finds a passthrough or env value by key, NULL when absent. */
const char *gpufs_spec_kv_find(GPtrArray *kvs, const char *key);

#endif
