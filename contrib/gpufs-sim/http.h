/* SPDX-License-Identifier: GPL-2.0-or-later */
/* HTTP/1.1 message syntax for gpufs-sim: no sockets here, so it stays easy to reason about. */
#ifndef GPUFS_SIM_HTTP_H
#define GPUFS_SIM_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include <glib.h>

#include "sim.h"

#define HTTP_MAX_HEAD (64 * 1024)

/* What the connection needs from the head to read the body and decide about keep-alive. */
struct http_head {
	size_t content_length;
	bool keep_alive;
	bool expect_continue;
};

/*
 * Length of the head including its blank line, if buf holds a complete one; 0 if not yet.
 * Lines may end in CRLF or a bare LF (RFC 9112 lets a server accept the latter).
 */
size_t http_head_length(const char *buf, size_t len);

/*
 * Parse a NUL-terminated head in place (head is modified and must outlive req).  Returns 0, or
 * the status to refuse with (400, 413, 431, 501, 505), with *why set to a short reason.
 */
int http_parse_head(char *head, struct sim_request *req, struct http_head *info, const char **why);

/* Free what http_parse_head allocated in req (path and query). */
void http_request_clear(struct sim_request *req);

/* The status line and headers for resp, ending with the blank line. */
GString *http_format_head(const struct sim_response *resp, bool keep_alive);

const char *http_reason(int status);

#endif
