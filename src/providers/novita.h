/* The pure parts of the Novita provider (JSON <-> model), exposed for the
 * unit tests.  Everything else goes through gpufs_provider_novita. */
#ifndef GPUFS_PROVIDERS_NOVITA_H
#define GPUFS_PROVIDERS_NOVITA_H

#include <json-c/json.h>
#include "gpufs/http.h"
#include "gpufs/model.h"
#include "gpufs/spec.h"

/* The provider-only files, in the order of inst->extra. */
enum novita_extra {
	NOVITA_X_PORTS,	       /* "PORT/TYPE ENDPOINT" per line */
	NOVITA_X_WEB_TERMINAL, /* connectComponentWebTerminal.address */
	NOVITA_X_JUPYTER,      /* connectComponentJupyter.address */
	NOVITA_EXTRA_COUNT
};

/* A product's prices in Novita's unit (1/100000 USD per hour), by product
 * id, for an instance's cost_per_hour. */
struct novita_price {
	double on_demand; /* NAN when unknown */
	double spot;	  /* NAN when unknown */
};

/* Maps a status word; @has_status_error is TRUE when the object carries a
 * non-empty statusError.  GPUFS_STATUS_UNKNOWN for an unknown word. */
enum gpufs_status novita_map_status(const char *word, gboolean has_status_error);
/* USD per hour for @gpu_num GPUs of a product priced @price_units. */
double novita_cost_per_hour(double price_units, double gpu_num);

/* An instance object (list item when @partial).  @prices maps product id to
 * struct novita_price * and may be NULL (cost_per_hour stays empty).  NULL
 * and *errmsg when id or status is missing. */
struct gpufs_instance *novita_instance_from_json(json_object *obj, gboolean partial,
						 GHashTable *prices, char **errmsg);
/* A product object; NULL and *errmsg when it has no id. */
struct gpufs_offer *novita_offer_from_json(json_object *obj, char **errmsg);
/* A product's prices; FALSE when it has neither. */
gboolean novita_price_from_json(json_object *obj, struct novita_price *out);

/* The POST /gpu/instance/create body for a checked spec (a new reference to
 * raw_json for a JSON spec); NULL and *errmsg when a field is refused. */
json_object *novita_create_body(const struct gpufs_spec *spec, char **errmsg);

/* What a call was, for the errno and words of a non-2xx reply. */
enum novita_call {
	NOVITA_READ,
	NOVITA_CREATE,
	NOVITA_CONTROL,
};

/* Words for a failed reply: message, else reason, else error, else
 * "HTTP <status>" and an excerpt.  Never NULL. */
char *novita_error_message(const struct gpufs_http_reply *reply);
/* The -errno for a non-2xx reply, with *errmsg in words. */
int novita_reply_error(const struct gpufs_http_reply *reply, enum novita_call call, char **errmsg);

/* Forgets every remembered product price (tests). */
void novita_prices_forget(void);

#endif
