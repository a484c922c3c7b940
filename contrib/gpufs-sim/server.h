/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The gpufs-sim HTTP server: a listening socket and one thread per connection. */
#ifndef GPUFS_SIM_SERVER_H
#define GPUFS_SIM_SERVER_H

#include <glib.h>

#include "sim.h"

struct sim_server;

/* Bind and listen (port 0 picks a free one); nothing is accepted before sim_server_start. */
struct sim_server *sim_server_new(struct sim *sim, const char *address, int port, GError **error);
int sim_server_port(const struct sim_server *srv);
/* "http://127.0.0.1:PORT" (IPv6 addresses in brackets). */
const char *sim_server_url(const struct sim_server *srv);
bool sim_server_start(struct sim_server *srv, GError **error);
/*
 * Stop accepting, end every connection, wait for their threads, free.  Returns false if some
 * connection would not finish in time; srv and the sim are then left allocated on purpose.
 */
bool sim_server_stop(struct sim_server *srv);

#endif
