/* A canned HTTP server on 127.0.0.1 and the fixture helpers, shared by the
 * provider tests (test_runcrate, test_vastai, test_novita) so each of them
 * keeps only what is its own.
 *
 * A test points a real http.c client at the server (canned_api_new), queues
 * the replies the call should get, in order (canned_reply), makes the call,
 * then looks at the requests that reached the server (canned_seen).  One
 * server per test program: start it in the group setup, reset it around
 * every test.  Include after <cmocka.h>; failures are cmocka failures. */
#ifndef GPUFS_TESTS_CANNED_H
#define GPUFS_TESTS_CANNED_H

#include <glib.h>
#include <json-c/json.h>
#include "gpufs/provider.h"

/* One request as the server read it. */
struct canned_request {
	char *method;
	char *path; /* with its query string */
	char *body;
	char *auth; /* the Authorization header's value, or NULL */
};

/* Listens on a free loopback port and serves from a thread: 0, or -1. */
int canned_start(void);
/* Stops the server; replies still queued are dropped. */
void canned_stop(void);
/* cmocka group fixtures: the server, plus http.c's global state, plus the
 * log level at errors (skipped list items are warned about; tests expect
 * them). */
int canned_group_setup(void **state);
int canned_group_teardown(void **state);

int canned_port(void);
/* A fresh handle for a provider call: its client talks to
 * http://127.0.0.1:PORT@prefix sending "Bearer @bearer", with no retries
 * (each canned reply is served once); account "test", no options.  Resets the
 * server: no replies pending, no requests seen. */
struct gpufs_api *canned_api_new(const char *prefix, const char *bearer);
/* Frees @api with its client (and its options, if set); resets the server. */
void canned_api_free(struct gpufs_api *api);

/* Queues the reply to the next request not yet answered.  A request with
 * no reply queued gets HTTP 599 "no reply queued". */
void canned_reply(int status, const char *body);
void canned_reply_fixture(int status, const char *fixture);

/* The @i-th request seen since the last reset; fails the test if none. */
const struct canned_request *canned_seen(guint i);
guint canned_seen_count(void);
/* Forgets the requests seen; queued replies stay. */
void canned_forget_seen(void);
/* Drops queued replies and forgets the requests seen: between tests. */
void canned_reset(void);

/* A fixture from FIXTURES_DIR, parsed; put it when done.  Fails the test if
 * it cannot be read or is not JSON. */
json_object *fixture_json(const char *name);
/* A fixture's text; g_free it. */
char *fixture_text(const char *name);

#endif
