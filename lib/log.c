/*
 * Operational log. The tag and level are process-wide by nature (one process,
 * one name), so they are the one piece of file-level state the library keeps;
 * they are set once from main() through log_init().
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "log.h"

static const char *log_tag = "agentgate";
static enum log_level log_level = LOG_LEVEL_INFO;
static int log_syslog;

void
log_init(const char *tag, enum log_level level, int use_syslog)
{
	log_tag = tag;
	log_level = level;
	log_syslog = use_syslog;
	if (use_syslog)
		openlog(tag, LOG_PID | LOG_NDELAY, LOG_DAEMON);
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

static void log_vwrite(int, const char *, va_list, int, int)
    __attribute__((format(printf, 2, 0)));

static void
log_vwrite(int prio, const char *fmt, va_list ap, int with_errno, int saved_errno)
{
	char msg[2048];
	int n;

	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (n < 0)
		return;
	if (with_errno && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(saved_errno));
	if (log_syslog)
		syslog(prio, "%s", msg);
	else
		fprintf(stderr, "%s: %s\n", log_tag, msg);
}

#define LOG_BODY(prio, with_errno) do {			\
	int saved_errno = errno;			\
	va_list ap;					\
	va_start(ap, fmt);				\
	log_vwrite(prio, fmt, ap, with_errno, saved_errno); \
	va_end(ap);					\
	errno = saved_errno;				\
} while (0)

void
log_warn(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 1);
}

void
log_warnx(const char *fmt, ...)
{
	LOG_BODY(LOG_WARNING, 0);
}

void
log_info(const char *fmt, ...)
{
	if (log_level < LOG_LEVEL_INFO)
		return;
	LOG_BODY(LOG_INFO, 0);
}

void
log_debug(const char *fmt, ...)
{
	if (log_level < LOG_LEVEL_DEBUG)
		return;
	LOG_BODY(LOG_DEBUG, 0);
}

void
fatal(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 1);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	LOG_BODY(LOG_CRIT, 0);
	exit(1);
}
