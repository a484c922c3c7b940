/* Logging to stderr in the foreground and to syslog once daemonized. */
#include <stdarg.h>
#include <stdio.h>
#include <syslog.h>
#include "gpufs/log.h"

static gint log_level = GPUFS_LOG_WARNING;
static gboolean log_syslog;

void gpufs_log_set_level(enum gpufs_log_level level)
{
	g_atomic_int_set(&log_level, level);
}

gboolean gpufs_log_enabled(enum gpufs_log_level level)
{
	return (gint)level <= g_atomic_int_get(&log_level);
}

void gpufs_log_use_syslog(gboolean on)
{
	if (on && !log_syslog)
		openlog("gpufs", LOG_PID, LOG_DAEMON);
	log_syslog = on;
}

static const int syslog_priority[] = {
    [GPUFS_LOG_ERR] = LOG_ERR,
    [GPUFS_LOG_WARNING] = LOG_WARNING,
    [GPUFS_LOG_INFO] = LOG_INFO,
    [GPUFS_LOG_DEBUG] = LOG_DEBUG,
};

void gpufs_log(enum gpufs_log_level level, const char *fmt, ...)
{
	va_list ap;

	if (!gpufs_log_enabled(level))
		return;
	va_start(ap, fmt);
	if (log_syslog) {
		vsyslog(syslog_priority[level], fmt, ap);
	} else {
		/* One fprintf per line so threads do not interleave. */
		char *line = g_strdup_vprintf(fmt, ap);

		fprintf(stderr, "gpufs: %s\n", line);
		g_free(line);
	}
	va_end(ap);
}
