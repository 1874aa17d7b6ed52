/*
 * Operational logging for every agentgate program: tagged lines on stderr
 * (or syslog). This is not telemetry; egress events go through telemetry.h.
 */
#ifndef AG_LOG_H
#define AG_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

enum log_level { LOG_LEVEL_WARN = 0, LOG_LEVEL_INFO = 1, LOG_LEVEL_DEBUG = 2 };

/* Set the process tag (e.g. "agentgate-proxy"), verbosity and destination.
 * Call once from main() before any other log_* call. */
void log_init(const char *tag, enum log_level level, int use_syslog);
void log_set_level(enum log_level level);

/* log_warn appends ": strerror(errno)"; log_warnx does not. */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Log and exit(1). fatal appends strerror(errno), fatalx does not. */
noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
