/* The pure parts of the Runcrate provider (JSON <-> model), exposed for the
 * unit tests.  Everything else goes through gpufs_provider_runcrate. */
#ifndef GPUFS_PROVIDERS_RUNCRATE_H
#define GPUFS_PROVIDERS_RUNCRATE_H

#include <json-c/json.h>
#include "gpufs/http.h"
#include "gpufs/model.h"
#include "gpufs/spec.h"

/* An Instance object; NULL and *errmsg when id, name or status is missing or
 * not a string. */
struct gpufs_instance *runcrate_instance_from_json(json_object *obj, char **errmsg);
/* An InstanceType object; NULL and *errmsg when it has no id. */
struct gpufs_offer *runcrate_offer_from_json(json_object *obj, char **errmsg);
/* Case-insensitive; GPUFS_STATUS_UNKNOWN for a word no mapping knows. */
enum gpufs_status runcrate_map_status(const char *word);
/* The POST /instances body for a checked spec (a new reference to raw_json
 * for a JSON spec); NULL and *errmsg when a passthrough field is unknown. */
json_object *runcrate_create_body(const struct gpufs_spec *spec, char **errmsg);
/* Words for a failed reply: the error envelope's message, else "HTTP <status>"
 * and a cleaned excerpt of the body.  Never NULL. */
char *runcrate_error_message(const struct gpufs_http_reply *reply);

/* What a call was, for the errno and words of a non-2xx reply. */
enum runcrate_call {
	RUNCRATE_READ,
	RUNCRATE_CREATE,
	RUNCRATE_CONTROL,
};

/* The -errno for a non-2xx reply, with *errmsg in words. */
int runcrate_reply_error(const struct gpufs_http_reply *reply, enum runcrate_call call,
			 char **errmsg);

#endif
