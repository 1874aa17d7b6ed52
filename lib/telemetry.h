/*
 * The telemetry writer: one process owns one stream ("proxy", "nfq", ...)
 * and appends hash-chained JSON lines to DIR/egress-STREAM.jsonl, rotating
 * by size and age, with a bounded backlog when the disk fails. The line
 * format is docs/telemetry.md; events are built with event.h.
 */
#ifndef AG_TELEMETRY_H
#define AG_TELEMETRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "geoip.h"

enum telemetry_fsync {
	TELEMETRY_FSYNC_INTERVAL = 0,	/* a thread fdatasyncs every interval when dirty */
	TELEMETRY_FSYNC_ALWAYS,		/* fdatasync after every line */
	TELEMETRY_FSYNC_NEVER,		/* leave it to the kernel */
};

enum telemetry_failure {
	TELEMETRY_FAIL_CLOSED = 0,	/* telemetry_ok() false while writes fail */
	TELEMETRY_FAIL_OPEN,		/* telemetry_ok() stays true (labs) */
};

#define TELEMETRY_ROTATE_SIZE	(100ULL * 1024 * 1024)
#define TELEMETRY_ROTATE_AGE_MS	(24ULL * 3600 * 1000)
#define TELEMETRY_FSYNC_MS	1000
#define TELEMETRY_BACKLOG	10000

struct telemetry_config {
	const char		*dir;		/* folder of the stream's files */
	const char		*service;	/* service.name, e.g. "agentgate-proxy" */
	const char		*hostname;	/* host.hostname; NULL = gethostname() */
	uint64_t		 rotate_size;	/* bytes; 0 = never by size */
	uint64_t		 rotate_age_ms;	/* 0 = never by age */
	enum telemetry_fsync	 fsync;
	uint32_t		 fsync_interval_ms;	/* also the retry period when failing */
	enum telemetry_failure	 failure;
	size_t			 backlog;	/* events kept while failing; 0 = none */
	const struct geoip	*geoip;		/* optional enrichment; borrowed */
};

/* Counters for status output, tests and the benchmark. */
struct telemetry_stats {
	uint64_t	lines;		/* lines written, log-opened included */
	uint64_t	events;		/* caller events written */
	uint64_t	lost;		/* events dropped (backlog full), total */
	uint64_t	rotations;
	uint64_t	fsyncs;
	uint64_t	write_errors;
	size_t		backlog;	/* events waiting now */
	uint64_t	seq;		/* last seq written */
};

/* What telemetry_emit() did with the event. */
enum telemetry_result {
	TELEMETRY_WRITTEN = 0,		/* the line is in the file */
	TELEMETRY_QUEUED = 1,		/* kept in memory; written in order when writes work */
	TELEMETRY_LOST = -1,		/* not recorded (errno: ENOBUFS backlog full, counted
					 * in the next line's agentgate.log.lost; EINVAL bad
					 * event; ENOMEM) */
};

/* Defaults: 100 MiB, 24 h, fsync every 1000 ms, fail closed, 10,000 events. */
void	telemetry_config_init(struct telemetry_config *cfg);

/*
 * Open (create) DIR/egress-STREAM.jsonl, continue the chain from the last
 * complete line of the stream's files (a torn last line is completed with
 * '\n' and reported), and write log-opened (reason "start"). STREAM is
 * [A-Za-z0-9_-]{1,32}. Returns a handle, or NULL with errno: EINVAL (bad
 * config or stream), EBUSY (another writer holds the file), or the errno of
 * open(2)/write(2). The handle is safe to use from several threads.
 */
struct telemetry *telemetry_open(const struct telemetry_config *cfg,
	    const char *stream);

/* Serialise, chain and append one event (one write(2)). Geo/AS fields are
 * filled from cfg->geoip when ev has a destination.ip and none of them. */
enum telemetry_result telemetry_emit(struct telemetry *t, const struct ag_event *ev);

/* false while writes fail in fail-closed mode: the caller must then refuse
 * new egress. Cheap (one atomic load): call it per connection. */
bool	telemetry_ok(struct telemetry *t);

/* After logrotate renamed the active file (SIGHUP, control command): open a
 * new active file starting with log-opened (reason "reopen"). When the file
 * was not renamed this only refreshes the size. Returns 0, or -1 with errno
 * when the new file cannot be opened (the handle is then unhealthy). */
int	telemetry_reopen(struct telemetry *t);

void	telemetry_stats(struct telemetry *t, struct telemetry_stats *st);

/* Write what can be written, fdatasync (unless never) and free. Events
 * still in the backlog are reported with log_warnx and lost. */
void	telemetry_close(struct telemetry *t);

#endif
