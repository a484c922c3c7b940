/* The pure parts of the Vast.ai provider (JSON <-> model, request bodies),
 * exposed for the unit tests.  Everything else goes through
 * gpufs_provider_vastai. */
#ifndef GPUFS_PROVIDERS_VASTAI_H
#define GPUFS_PROVIDERS_VASTAI_H

#include <json-c/json.h>
#include "gpufs/http.h"
#include "gpufs/model.h"
#include "gpufs/spec.h"

/* Positions in gpufs_provider_vastai.extra_files. */
enum vastai_extra {
	VASTAI_X_GPU_UTIL,
	VASTAI_X_GPU_TEMP,
	VASTAI_X_RELIABILITY,
	VASTAI_EXTRA_COUNT
};

/* The common status from the three state words (any may be NULL). */
enum gpufs_status vastai_map_status(const char *actual, const char *intended,
				    const char *cur_state);
/* "ssh -p PORT root@HOST" for an instance object; NULL when it has no way in. */
char *vastai_ssh_command(json_object *obj);
/* An instance object I; NULL and *errmsg when it is no object or has no id. */
struct gpufs_instance *vastai_instance_from_json(json_object *obj, char **errmsg);
/* An offer object O; NULL and *errmsg when it has no id. */
struct gpufs_offer *vastai_offer_from_json(json_object *obj, char **errmsg);
/* MB (as Vast.ai reports RAM) to the text of whole GB. */
char *vastai_memory_gb(json_object *obj, const char *key);

/* The POST /bundles/ query: the defaults with @filter_json (the account's
 * offers_filter, a JSON object; NULL for none) merged over them.  NULL and
 * *errmsg when the filter is not a JSON object. */
json_object *vastai_offers_query(const char *filter_json, char **errmsg);
/* The PUT /asks/{id}/ body for a checked spec; NULL and *errmsg when a
 * passthrough field is refused. */
json_object *vastai_create_body(const struct gpufs_spec *spec, char **errmsg);

enum vastai_call {
	VASTAI_READ,
	VASTAI_CREATE,
	VASTAI_CONTROL,
};

/* Words for a failed reply: msg, error or detail of the body, else
 * "HTTP <status>" and a cleaned excerpt.  Never NULL. */
char *vastai_error_message(const struct gpufs_http_reply *reply);
/* The -errno for a non-2xx reply, with *errmsg in words; @offer names the
 * ask of a create (for no_such_ask), else NULL. */
int vastai_reply_error(const struct gpufs_http_reply *reply, enum vastai_call call,
		       const char *offer, char **errmsg);

#endif
