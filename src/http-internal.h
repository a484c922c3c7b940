/* Pure helpers of http.c, exposed only so unit tests can reach them. */
#ifndef GPUFS_HTTP_INTERNAL_H
#define GPUFS_HTTP_INTERNAL_H

#include <time.h>
#include <glib.h>

/* Longest Retry-After we take literally; anything longer is clamped.  The
 * pause holds the whole account, so a far-future date from a confused proxy
 * must not lock a user out for a day: five minutes is longer than any rate
 * limit the providers' notes describe (Vast.ai's gaps are seconds). */
#define GPUFS_HTTP_RETRY_AFTER_MAX (5.0 * 60)

/* Seconds to wait from a Retry-After value: delta seconds ("120") or an HTTP
 * date, relative to @now.  A date in the past gives 0; -1 when unparsable. */
double gpufs_http_parse_retry_after(const char *value, time_t now);

/* Back-off before retry number @attempt (0 = first retry): 250 ms doubling,
 * times @jitter (0.75..1.25 in use), never more than 8 s.  Microseconds. */
gint64 gpufs_http_backoff_us(int attempt, double jitter);

#endif
