/* Shared by the provider mapper targets: the input as JSON, the way
 * http.c parses a reply, then every object in it handed to @map. */
#ifndef GPUFS_FUZZ_JSON_H
#define GPUFS_FUZZ_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include "gpufs/http.h"

typedef void (*fuzz_map_fn)(json_object *obj);

/* The root, and each member and element one and two levels down: mappers
 * get list items and envelopes ({"data": [...]}) alike. */
static void fuzz_walk(json_object *obj, int depth, fuzz_map_fn map)
{
	map(obj);
	if (depth >= 2)
		return;
	if (json_object_is_type(obj, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(obj) && i < 64; i++)
			fuzz_walk(json_object_array_get_idx(obj, i), depth + 1, map);
	} else if (json_object_is_type(obj, json_type_object)) {
		json_object_object_foreach(obj, key, value)
		{
			(void)key;
			fuzz_walk(value, depth + 1, map);
		}
	}
}

/* Runs the provider's error words too: they read any body, JSON or not. */
static void fuzz_json(const uint8_t *data, size_t size, fuzz_map_fn map,
		      char *(*error_words)(const struct gpufs_http_reply *reply))
{
	struct gpufs_http_reply reply = {.status = 500};
	json_object *root;

	reply.body = g_string_new_len((const char *)data, (gssize)size);
	g_free(error_words(&reply));
	root = gpufs_http_reply_json(&reply, NULL);
	if (root)
		fuzz_walk(root, 0, map);
	json_object_put(root);
	gpufs_http_reply_clear(&reply);
}

#endif
