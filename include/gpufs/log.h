/* Logging: stderr in the foreground, syslog once daemonized.  Never pass an
 * API key to these. */
#ifndef GPUFS_LOG_H
#define GPUFS_LOG_H

#include <glib.h>

enum gpufs_log_level {
	GPUFS_LOG_ERR,
	GPUFS_LOG_WARNING,
	GPUFS_LOG_INFO,
	GPUFS_LOG_DEBUG,
};

void gpufs_log_set_level(enum gpufs_log_level level);
gboolean gpufs_log_enabled(enum gpufs_log_level level);
void gpufs_log_use_syslog(gboolean on);
void gpufs_log(enum gpufs_log_level level, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

#define gpufs_err(...)	gpufs_log(GPUFS_LOG_ERR, __VA_ARGS__)
#define gpufs_warn(...) gpufs_log(GPUFS_LOG_WARNING, __VA_ARGS__)
#define gpufs_info(...) gpufs_log(GPUFS_LOG_INFO, __VA_ARGS__)
#define gpufs_debug(...)                                                                           \
	do {                                                                                       \
		if (gpufs_log_enabled(GPUFS_LOG_DEBUG))                                            \
			gpufs_log(GPUFS_LOG_DEBUG, __VA_ARGS__);                                   \
	} while (0)

#endif
