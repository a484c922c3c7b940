// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * HTTP/1.1 request heads (RFC 9112) for gpufs-sim.  Strict where a lax parser would hide a
 * client bug (bad Content-Length, missing Host, folded headers), lenient only where the RFC
 * allows it (bare LF line ends, empty lines before the request line).
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

#define HTTP_MAX_QUERY_PARAMS 100

size_t http_head_length(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* RFC 9110 tchar: what a method or header name may be made of. */
static bool is_tchar(unsigned char c)
{
	return isalnum(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool is_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!is_tchar((unsigned char)*s))
			return false;
	}
	return true;
}

/* Cut the line at its end, dropping a CR; return where the next line starts. */
static char *split_line(char *line)
{
	char *nl = strchr(line, '\n');

	if (!nl)
		return line + strlen(line);
	*nl = '\0';
	if (nl > line && nl[-1] == '\r')
		nl[-1] = '\0';
	return nl + 1;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * Percent-decode len bytes of s.  A decoded NUL would cut C strings short, and a decoded '/'
 * in a path would let "a%2Fb" pass for two segments: both are refused (NULL).
 */
static char *percent_decode(const char *s, size_t len, bool plus_is_space, bool allow_slash)
{
	GString *out = g_string_sized_new(len);

	for (size_t i = 0; i < len; i++) {
		int hi, lo;
		char c;

		if (s[i] == '+' && plus_is_space) {
			g_string_append_c(out, ' ');
			continue;
		}
		if (s[i] != '%') {
			g_string_append_c(out, s[i]);
			continue;
		}
		if (i + 2 >= len)
			goto bad;
		hi = hex_value(s[i + 1]);
		lo = hex_value(s[i + 2]);
		if (hi < 0 || lo < 0)
			goto bad;
		c = (char)(hi << 4 | lo);
		if (c == '\0' || (c == '/' && !allow_slash))
			goto bad;
		g_string_append_c(out, c);
		i += 2;
	}
	return g_string_free(out, FALSE);
bad:
	g_string_free(out, TRUE);
	return NULL;
}

static bool parse_query(const char *query, struct sim_request *req)
{
	GArray *params = g_array_new(FALSE, TRUE, sizeof(struct sim_query_param));
	char **pieces = g_strsplit(query, "&", -1);
	bool ok = true;

	for (char **p = pieces; *p && ok; p++) {
		const char *eq = strchr(*p, '=');
		struct sim_query_param param;
		size_t key_len = eq ? (size_t)(eq - *p) : strlen(*p);

		if (!**p)
			continue;
		if (params->len >= HTTP_MAX_QUERY_PARAMS) {
			ok = false;
			break;
		}
		param.key = percent_decode(*p, key_len, true, true);
		param.value =
		    eq ? percent_decode(eq + 1, strlen(eq + 1), true, true) : g_strdup("");
		g_array_append_val(params, param);
		ok = param.key && param.value;
	}
	g_strfreev(pieces);
	req->n_query = params->len;
	req->query = (struct sim_query_param *)(void *)g_array_free(params, FALSE);
	return ok;
}

static int parse_target(const char *target, struct sim_request *req, const char **why)
{
	const char *q = strchr(target, '?');
	size_t path_len = q ? (size_t)(q - target) : strlen(target);

	/* Only origin-form: a client talking to a server (not a proxy) sends nothing else. */
	if (target[0] != '/') {
		*why = "request target must start with /";
		return 400;
	}
	for (const char *c = target; *c; c++) {
		if ((unsigned char)*c <= 0x20 || *c == 0x7f) {
			*why = "control character in request target";
			return 400;
		}
	}
	req->path = percent_decode(target, path_len, false, false);
	if (!req->path) {
		*why = "bad percent-encoding in path";
		return 400;
	}
	if (q && !parse_query(q + 1, req)) {
		*why = "bad query string";
		return 400;
	}
	return 0;
}

/* "GET /x HTTP/1.1": exactly three parts, single spaces. */
static int parse_request_line(char *line, struct sim_request *req, int *minor, const char **why)
{
	char *target, *version;

	target = strchr(line, ' ');
	if (!target)
		goto bad;
	*target++ = '\0';
	version = strchr(target, ' ');
	if (!version)
		goto bad;
	*version++ = '\0';
	if (!is_token(line) || !*target || strchr(version, ' '))
		goto bad;
	if (strncmp(version, "HTTP/", 5) != 0 || !isdigit((unsigned char)version[5]) ||
	    version[6] != '.' || !isdigit((unsigned char)version[7]) || version[8])
		goto bad;
	if (version[5] != '1') {
		*why = "only HTTP/1.x is spoken here";
		return 505;
	}
	*minor = version[7] - '0';
	req->method = line;
	req->target = target;
	return 0;
bad:
	*why = "malformed request line";
	return 400;
}

static char *trim_ows(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		*--end = '\0';
	return s;
}

static int parse_header_line(char *line, struct sim_request *req, const char **why)
{
	char *colon = strchr(line, ':');
	struct sim_header *h;

	/* obs-fold (a continuation line) must be refused or unfolded; refusing is simpler. */
	if (*line == ' ' || *line == '\t') {
		*why = "folded header lines are not accepted";
		return 400;
	}
	if (!colon) {
		*why = "header line without a colon";
		return 400;
	}
	*colon = '\0';
	if (!is_token(line)) {
		*why = "bad header name";
		return 400;
	}
	if (req->n_headers >= SIM_MAX_HEADERS) {
		*why = "too many header fields";
		return 431;
	}
	h = &req->headers[req->n_headers++];
	h->name = line;
	h->value = trim_ows(colon + 1);
	for (const char *c = h->value; *c; c++) {
		if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f) {
			*why = "control character in header value";
			return 400;
		}
	}
	return 0;
}

static bool has_token(const char *list, const char *token)
{
	char **items = g_strsplit(list, ",", -1);
	bool found = false;

	for (char **i = items; *i && !found; i++)
		found = g_ascii_strcasecmp(g_strstrip(*i), token) == 0;
	g_strfreev(items);
	return found;
}

static int parse_content_length(const char *value, size_t *out, const char **why)
{
	size_t n = 0;

	if (!*value)
		goto bad;
	for (const char *c = value; *c; c++) {
		if (!isdigit((unsigned char)*c))
			goto bad;
		n = n * 10 + (size_t)(*c - '0');
		if (n > SIM_MAX_BODY) {
			*why = "request body too large";
			return 413;
		}
	}
	*out = n;
	return 0;
bad:
	*why = "bad Content-Length";
	return 400;
}

/* Apply the headers that change how the message is read or the connection is kept. */
static int apply_headers(const struct sim_request *req, int minor, struct http_head *info,
			 const char **why)
{
	bool have_length = false, have_host = false;

	info->keep_alive = minor >= 1;
	for (unsigned i = 0; i < req->n_headers; i++) {
		const char *name = req->headers[i].name, *value = req->headers[i].value;
		size_t length;
		int rc;

		if (!g_ascii_strcasecmp(name, "host")) {
			have_host = true;
		} else if (!g_ascii_strcasecmp(name, "content-length")) {
			rc = parse_content_length(value, &length, why);
			if (rc)
				return rc;
			if (have_length && length != info->content_length) {
				*why = "conflicting Content-Length headers";
				return 400;
			}
			info->content_length = length;
			have_length = true;
		} else if (!g_ascii_strcasecmp(name, "transfer-encoding")) {
			*why = "Transfer-Encoding is not supported; send Content-Length";
			return 501;
		} else if (!g_ascii_strcasecmp(name, "connection")) {
			if (has_token(value, "close"))
				info->keep_alive = false;
			else if (has_token(value, "keep-alive"))
				info->keep_alive = true;
		} else if (!g_ascii_strcasecmp(name, "expect")) {
			if (g_ascii_strcasecmp(value, "100-continue") != 0) {
				*why = "unsupported expectation";
				return 417;
			}
			info->expect_continue = true;
		}
	}
	if (minor >= 1 && !have_host) {
		*why = "HTTP/1.1 request without Host";
		return 400;
	}
	return 0;
}

int http_parse_head(char *head, struct sim_request *req, struct http_head *info, const char **why)
{
	char *line, *next;
	int minor = 0, rc;

	memset(info, 0, sizeof(*info));
	/* RFC 9112 2.2: ignore empty lines before the request line. */
	while (*head == '\r' || *head == '\n')
		head++;
	line = head;
	next = split_line(line);
	rc = parse_request_line(line, req, &minor, why);
	if (rc)
		return rc;
	for (line = next; *line; line = next) {
		next = split_line(line);
		if (!*line)
			break;
		rc = parse_header_line(line, req, why);
		if (rc)
			return rc;
	}
	rc = apply_headers(req, minor, info, why);
	if (rc)
		return rc;
	return parse_target(req->target, req, why);
}

void http_request_clear(struct sim_request *req)
{
	g_free(req->path);
	for (unsigned i = 0; i < req->n_query; i++) {
		g_free(req->query[i].key);
		g_free(req->query[i].value);
	}
	g_free(req->query);
	memset(req, 0, sizeof(*req));
}

static const struct {
	int status;
	const char *reason;
} http_reasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {204, "No Content"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {402, "Payment Required"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {413, "Content Too Large"},
    {417, "Expectation Failed"},
    {422, "Unprocessable Content"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

const char *http_reason(int status)
{
	for (size_t i = 0; i < G_N_ELEMENTS(http_reasons); i++) {
		if (http_reasons[i].status == status)
			return http_reasons[i].reason;
	}
	return "Unknown";
}

/* 1xx, 204 and 304 never carry a body, and RFC 9110 forbids Content-Length on 1xx/204. */
static bool status_has_body(int status)
{
	return status >= 200 && status != 204 && status != 304;
}

GString *http_format_head(const struct sim_response *resp, bool keep_alive)
{
	GString *head = g_string_sized_new(256);

	g_string_append_printf(head, "HTTP/1.1 %d %s\r\nServer: gpufs-sim\r\n", resp->status,
			       http_reason(resp->status));
	if (status_has_body(resp->status)) {
		if (resp->body_len)
			g_string_append_printf(head, "Content-Type: %s\r\n",
					       resp->content_type ? resp->content_type
								  : "application/json");
		g_string_append_printf(head, "Content-Length: %zu\r\n", resp->body_len);
	}
	if (resp->extra_headers)
		g_string_append_len(head, resp->extra_headers->str,
				    (gssize)resp->extra_headers->len);
	g_string_append_printf(head, "Connection: %s\r\n\r\n", keep_alive ? "keep-alive" : "close");
	return head;
}
