// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * gpufs-sim: a fake of the cloud GPU providers' HTTP APIs that gpufs talks to.
 *
 * Start-up order matters to the harness: bind, start accepting, write --port-file, then print
 * the one "listening" line.  Whoever reads either can connect at once.
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>

#include "server.h"
#include "sim.h"

#define EXIT_USAGE 2

static const char summary[] =
    "Serves the Runcrate API at /runcrate/api/v1 (bearer key: --runcrate-key),\n"
    "and the Novita API at /novita/gpu-instance/openapi/v1 (bearer key: --novita-key),\n"
    "and the Vast.ai API at /vastai/api/v0 (key: --vastai-key; 429 gaps: --vastai-gap-ms).\n"
    "Side endpoints, no auth: GET /_sim/health, GET /_sim/counts, POST /_sim/reset,\n"
    "POST/GET/DELETE /_sim/fault (fault injection: see fault.c).\n"
    "\n"
    "Instances are 'starting' for one --step, 'deploying' for one more, then 'running';\n"
    "after DELETE they are 'terminated' and leave the list two steps later.";

static bool parse_options(int argc, char **argv, struct sim_options *opts)
{
	GOptionEntry entries[] = {
	    {"listen", 0, 0, G_OPTION_ARG_STRING, &opts->listen,
	     "Address to listen on (default 127.0.0.1)", "ADDR"},
	    {"port", 0, 0, G_OPTION_ARG_INT, &opts->port,
	     "TCP port; 0 picks a free one (default 0)", "N"},
	    {"port-file", 0, 0, G_OPTION_ARG_FILENAME, &opts->port_file,
	     "Write the bound port to PATH (atomically)", "PATH"},
	    {"seed", 0, 0, G_OPTION_ARG_INT64, &opts->seed,
	     "Seed for ids and generated data (default 1)", "N"},
	    {"demo", 0, 0, G_OPTION_ARG_NONE, &opts->demo,
	     "Start with a few instances in assorted states", NULL},
	    {"instances", 0, 0, G_OPTION_ARG_INT, &opts->instances,
	     "Start with N more running instances (benchmarks)", "N"},
	    {"step", 0, 0, G_OPTION_ARG_DOUBLE, &opts->step_s,
	     "Seconds each transitional state lasts (default 2.0)", "SECONDS"},
	    {"latency-ms", 0, 0, G_OPTION_ARG_INT, &opts->latency_ms,
	     "Delay every provider request by N ms", "N"},
	    {"page-size", 0, 0, G_OPTION_ARG_INT, &opts->page_size,
	     "Instances per list page (default 100)", "N"},
	    {"runcrate-key", 0, 0, G_OPTION_ARG_STRING, &opts->runcrate_key,
	     "Bearer key the Runcrate API accepts (default rc_live_sim)", "KEY"},
	    {"novita-key", 0, 0, G_OPTION_ARG_STRING, &opts->novita_key,
	     "Bearer key the Novita API accepts (default nv_sim)", "KEY"},
	    {"vastai-key", 0, 0, G_OPTION_ARG_STRING, &opts->vastai_key,
	     "Key the Vast.ai API accepts (default vast_sim)", "KEY"},
	    {"vastai-gap-ms", 0, 0, G_OPTION_ARG_INT, &opts->vastai_gap_ms,
	     "Vast.ai: least ms between calls to one endpoint, times its documented threshold; "
	     "closer calls get 429 (default 50, 0 = off)",
	     "N"},
	    {NULL},
	};
	GOptionContext *ctx = g_option_context_new("- fake cloud GPU provider APIs");
	GError *error = NULL;
	bool ok;

	g_option_context_set_summary(ctx, summary);
	g_option_context_add_main_entries(ctx, entries, NULL);
	ok = g_option_context_parse(ctx, &argc, &argv, &error);
	g_option_context_free(ctx);
	if (!ok) {
		fprintf(stderr, "gpufs-sim: %s\n", error->message);
		g_error_free(error);
		return false;
	}
	if (argc > 1) {
		fprintf(stderr, "gpufs-sim: unexpected argument '%s'\n", argv[1]);
		return false;
	}
	return true;
}

/* GOption fills what it parsed; everything it left alone keeps these defaults. */
static void default_options(struct sim_options *opts)
{
	*opts = (struct sim_options){
	    .seed = 1,
	    .step_s = 2.0,
	    .page_size = 100,
	    .vastai_gap_ms = 50,
	};
}

static void finish_defaults(struct sim_options *opts)
{
	if (!opts->listen)
		opts->listen = g_strdup("127.0.0.1");
	if (!opts->runcrate_key)
		opts->runcrate_key = g_strdup("rc_live_sim");
	if (!opts->novita_key)
		opts->novita_key = g_strdup("nv_sim");
	if (!opts->vastai_key)
		opts->vastai_key = g_strdup("vast_sim");
}

static bool check_options(const struct sim_options *opts)
{
	const char *bad = NULL;

	if (opts->port < 0 || opts->port > 65535)
		bad = "--port must be 0..65535";
	else if (opts->instances < 0 || opts->instances > 1000000)
		bad = "--instances must be 0..1000000";
	else if (!isfinite(opts->step_s) || opts->step_s < 0 || opts->step_s > 1e6)
		bad = "--step must be 0..1000000 seconds";
	else if (opts->latency_ms < 0 || opts->latency_ms > 600000)
		bad = "--latency-ms must be 0..600000";
	else if (opts->page_size < 1 || opts->page_size > 10000)
		bad = "--page-size must be 1..10000";
	else if (!*opts->runcrate_key)
		bad = "--runcrate-key must not be empty";
	else if (!*opts->novita_key)
		bad = "--novita-key must not be empty";
	else if (!*opts->vastai_key)
		bad = "--vastai-key must not be empty";
	else if (opts->vastai_gap_ms < 0 || opts->vastai_gap_ms > 600000)
		bad = "--vastai-gap-ms must be 0..600000";
	if (bad)
		fprintf(stderr, "gpufs-sim: %s\n", bad);
	return !bad;
}

static bool write_port_file(const char *path, int port)
{
	GError *error = NULL;
	char text[16];

	g_snprintf(text, sizeof(text), "%d\n", port);
	/* A temporary file renamed into place: a reader sees no file or a whole one. */
	if (g_file_set_contents(path, text, -1, &error))
		return true;
	fprintf(stderr, "gpufs-sim: %s\n", error->message);
	g_error_free(error);
	return false;
}

/*
 * SIGINT and SIGTERM are blocked in every thread (threads inherit the mask) and taken here
 * with sigwait, so shutdown runs as ordinary code, not in a handler.
 */
static void block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, set, NULL);
	/* A client that hangs up mid-reply must not kill the server. */
	signal(SIGPIPE, SIG_IGN);
}

static void free_options(struct sim_options *opts)
{
	g_free((char *)opts->listen);
	g_free((char *)opts->port_file);
	g_free((char *)opts->runcrate_key);
	g_free((char *)opts->novita_key);
	g_free((char *)opts->vastai_key);
}

static int serve(struct sim_options *opts, const sigset_t *signals)
{
	struct sim *sim = sim_new(opts);
	GError *error = NULL;
	struct sim_server *srv;
	int sig;

	srv = sim_server_new(sim, opts->listen, opts->port, &error);
	if (!srv) {
		fprintf(stderr, "gpufs-sim: cannot listen on %s port %d: %s\n", opts->listen,
			opts->port, error->message);
		g_error_free(error);
		sim_free(sim);
		return EXIT_FAILURE;
	}
	if (!sim_server_start(srv, &error)) {
		fprintf(stderr, "gpufs-sim: %s\n", error->message);
		g_error_free(error);
		goto fail;
	}
	if (opts->port_file && !write_port_file(opts->port_file, sim_server_port(srv)))
		goto fail;
	printf("gpufs-sim listening on %s\n", sim_server_url(srv));
	fflush(stdout);

	while (sigwait(signals, &sig) != 0)
		;
	if (sim_server_stop(srv))
		sim_free(sim);
	return EXIT_SUCCESS;
fail:
	if (sim_server_stop(srv))
		sim_free(sim);
	return EXIT_FAILURE;
}

int main(int argc, char **argv)
{
	struct sim_options opts;
	sigset_t signals;
	int rc;

	block_signals(&signals);
	default_options(&opts);
	if (!parse_options(argc, argv, &opts)) {
		free_options(&opts);
		return EXIT_USAGE;
	}
	finish_defaults(&opts);
	if (!check_options(&opts)) {
		free_options(&opts);
		return EXIT_USAGE;
	}
	rc = serve(&opts, &signals);
	free_options(&opts);
	return rc;
}
