/*
 * The telemetry writer. One mutex orders everything that touches the chain
 * (seq, prev_hash), the file and the backlog, so several threads can emit;
 * a background thread does the interval fdatasync and retries a failing
 * disk. Bodies wait in the backlog unchained: the chain fields are added
 * only when a line really reaches the file, so a failure never breaks it.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "telemetry.h"
#include "telemetry_tail.h"

/* A body waiting for the disk, and how many events were lost just before
 * it (its line will carry agentgate.log.lost). */
struct backlog_entry {
	char		*body;
	size_t		 len;
	uint64_t	 lost_before;
	struct timespec	 ts;		/* the body's @timestamp */
};

struct telemetry {
	pthread_mutex_t		 mu;
	pthread_cond_t		 wake;		/* stops the sync thread */
	pthread_t		 syncer;
	bool			 has_syncer;
	bool			 stopping;

	struct telemetry_config	 cfg;		/* strings below are owned copies */
	char			*dir;
	char			*service;
	char			*hostname;
	char			 stream[33];
	char			 active[64];	/* "egress-S.jsonl" */
	char			*active_path;

	int			 fd;		/* -1: no file open (must open) */
	int			 retired_fd;	/* rotated away, for the syncer to sync and close */
	bool			 opened_logged;	/* log-opened is in this file */
	bool			 has_events;	/* something besides log-opened */
	uint64_t		 size;
	int64_t			 born_ms;	/* realtime, for rotation by age */
	bool			 dirty;		/* written since the last fdatasync */
	enum event_log_reason	 open_reason;	/* for the next log-opened */
	char			 prev_file[256];
	bool			 repaired;
	bool			 rename_failed;	/* logged once */
	char			 rot_stamp[20];
	unsigned int		 rot_n;

	/* Time order in a stream is line order: events are stamped under the
	 * lock, never before the previous stamp, and log-opened takes the time
	 * of the line written before it. */
	struct timespec		 stamped_ts;	/* last @timestamp given to an event */
	struct timespec		 written_ts;	/* @timestamp of the last line written */
	uint64_t		 seq;		/* last seq written */
	char			 prev_hash[TELEMETRY_HASH_HEX];

	atomic_bool		 healthy;
	bool			 failing;	/* writes fail now */
	struct backlog_entry	*q;		/* ring of cfg.backlog entries */
	size_t			 q_head, q_count;
	uint64_t		 lost_pending;	/* lost since the last queued/written line */

	struct telemetry_stats	 st;
	struct json_buf		 body, aux, line;
	EVP_MD			*sha256;	/* fetched once: see tail_hash() */
	EVP_MD_CTX		*md_ctx;
};

static int	tm_write_body(struct telemetry *, const char *, size_t, uint64_t,
		    const struct timespec *, bool);

void
telemetry_config_init(struct telemetry_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->rotate_size = TELEMETRY_ROTATE_SIZE;
	cfg->rotate_age_ms = TELEMETRY_ROTATE_AGE_MS;
	cfg->fsync = TELEMETRY_FSYNC_INTERVAL;
	cfg->fsync_interval_ms = TELEMETRY_FSYNC_MS;
	cfg->failure = TELEMETRY_FAIL_CLOSED;
	cfg->backlog = TELEMETRY_BACKLOG;
}

static int64_t
now_ms(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Health changes are logged once per change, with the reason. */
static void
tm_set_failing(struct telemetry *t, bool failing, int err)
{
	if (failing == t->failing)
		return;
	t->failing = failing;
	if (failing) {
		errno = err;
		log_warn("telemetry: %s: cannot write, events are queued "
		    "(at most %zu); %s", t->active_path, t->cfg.backlog,
		    t->cfg.failure == TELEMETRY_FAIL_CLOSED ?
		    "failing closed: new egress is refused" :
		    "failing open: egress continues");
	} else
		log_warnx("telemetry: %s: writing again (%llu events lost in all)",
		    t->active_path, (unsigned long long)t->st.lost);
	atomic_store(&t->healthy, !failing || t->cfg.failure == TELEMETRY_FAIL_OPEN);
}

/* One write(2) of the whole line. A short write would leave a torn line,
 * so it is cut off again; if even that fails the file is dropped and the
 * next open completes the torn line and reports it. */
static int
tm_write_line(struct telemetry *t, const char *buf, size_t len)
{
	ssize_t n;

	do
		n = write(t->fd, buf, len);
	while (n == -1 && errno == EINTR);
	if (n == (ssize_t)len)
		return 0;
	t->st.write_errors++;
	if (n == -1)
		return -1;
	if (ftruncate(t->fd, (off_t)t->size) == -1) {
		log_warn("telemetry: %s: cannot cut a short write", t->active_path);
		close(t->fd);
		t->fd = -1;
		t->opened_logged = false;
		t->open_reason = LOG_REASON_REOPEN;
		t->prev_file[0] = '\0';
	}
	/* The kernel took part of the line: the file or the disk is full. */
	errno = ENOSPC;
	return -1;
}

static void
tm_sync(struct telemetry *t)
{
	if (fdatasync(t->fd) == -1) {
		tm_set_failing(t, true, errno);
		return;
	}
	t->dirty = false;
	t->st.fsyncs++;
}

/* Open and lock the active file, completing a torn last line. The lock
 * comes before the chain is recovered from the files, so that a second
 * writer can never continue a chain it read before the first one wrote. */
static int
tm_open_active(struct telemetry *t)
{
	struct stat st;
	char last;

	t->fd = open(t->active_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (t->fd == -1)
		return -1;
	if (flock(t->fd, LOCK_EX | LOCK_NB) == -1) {
		if (errno == EWOULDBLOCK)
			errno = EBUSY;
		goto fail;
	}
	if (fstat(t->fd, &st) == -1)
		goto fail;
	t->size = (uint64_t)st.st_size;
	t->has_events = st.st_size > 0;
	t->born_ms = now_ms(CLOCK_REALTIME);
	t->opened_logged = false;
	t->dirty = false;
	if (st.st_size > 0) {
		int rfd = open(t->active_path, O_RDONLY | O_CLOEXEC);

		if (rfd == -1)
			goto fail;
		if (pread(rfd, &last, 1, st.st_size - 1) != 1)
			last = '\n';
		close(rfd);
		if (last != '\n') {
			if (write(t->fd, "\n", 1) != 1)
				goto fail;
			t->size++;
			t->repaired = true;
		}
	}
	return 0;
fail:
	{
		int saved = errno;

		close(t->fd);
		t->fd = -1;
		errno = saved;
	}
	return -1;
}

/* Open the active file if none is open and start it with log-opened. */
static int
tm_ensure_file(struct telemetry *t)
{
	struct ag_event ev;
	struct event_stamp stamp = { t->service, t->hostname, NULL, 0, NULL, 0 };

	if (t->fd == -1 && tm_open_active(t) == -1)
		return -1;
	if (t->opened_logged)
		return 0;
	event_init(&ev, EVENT_LOG_OPENED);
	if (t->written_ts.tv_sec != 0 || t->written_ts.tv_nsec != 0)
		ev.ts = t->written_ts;
	else
		clock_gettime(CLOCK_REALTIME, &ev.ts);
	ev.log_reason = t->open_reason;
	ev.log_previous_file = t->prev_file[0] != '\0' ? t->prev_file : NULL;
	ev.log_repaired = t->repaired;
	json_reset(&t->aux);
	if (event_serialize(&ev, &stamp, &t->aux) == -1)
		return -1;
	if (tm_write_body(t, t->aux.data, t->aux.len, 0, &ev.ts, false) == -1)
		return -1;
	t->opened_logged = true;
	t->repaired = false;
	t->has_events = false;
	return 0;
}

/* Done with the current file (rotation, reopen). Its last interval of
 * lines still needs fdatasync: the sync thread does it, so emitters do not
 * wait for the disk under the lock. */
static void
tm_retire_fd(struct telemetry *t)
{
	if (t->dirty && t->cfg.fsync == TELEMETRY_FSYNC_INTERVAL && t->has_syncer) {
		if (t->retired_fd != -1) {
			/* Two rotations in one interval: rare, sync here. */
			fdatasync(t->retired_fd);
			close(t->retired_fd);
		}
		t->retired_fd = t->fd;
		pthread_cond_signal(&t->wake);
	} else {
		if (t->dirty && t->cfg.fsync != TELEMETRY_FSYNC_NEVER)
			tm_sync(t);
		close(t->fd);
	}
	t->fd = -1;
	t->dirty = false;
}

/* The suffix of a rotated file: .YYYYMMDDTHHMMSSZ, -N when taken. */
static int
tm_rotate(struct telemetry *t)
{
	char stamp[20], name[sizeof(t->active) + 32], *path = NULL;
	struct timespec now;
	struct tm tm;
	int rc = -1;

	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
	if (strcmp(stamp, t->rot_stamp) != 0) {
		memcpy(t->rot_stamp, stamp, sizeof(stamp));
		t->rot_n = 0;
	}
	for (;;) {
		if (t->rot_n == 0)
			snprintf(name, sizeof(name), "%s.%s", t->active, stamp);
		else
			snprintf(name, sizeof(name), "%s.%s-%u", t->active, stamp,
			    t->rot_n);
		free(path);
		if (asprintf(&path, "%s/%s", t->dir, name) == -1) {
			path = NULL;
			goto out;
		}
		if (renameat2(AT_FDCWD, t->active_path, AT_FDCWD, path,
		    RENAME_NOREPLACE) == 0)
			break;
		if (errno != EEXIST) {
			if (!t->rename_failed)
				log_warn("telemetry: rotate %s", t->active_path);
			t->rename_failed = true;
			goto out;	/* keep writing to the current file */
		}
		t->rot_n++;
	}
	t->rot_n++;
	t->rename_failed = false;
	tm_retire_fd(t);
	t->opened_logged = false;
	t->open_reason = LOG_REASON_ROTATE;
	snprintf(t->prev_file, sizeof(t->prev_file), "%s", name);
	t->st.rotations++;
	rc = 0;
out:
	free(path);
	return rc;
}

static bool
tm_rotation_due(struct telemetry *t, size_t len)
{
	if (!t->has_events)
		return false;	/* every file gets at least one event */
	if (t->cfg.rotate_size > 0 && t->size + len > t->cfg.rotate_size)
		return true;
	return t->cfg.rotate_age_ms > 0 &&
	    now_ms(CLOCK_REALTIME) - t->born_ms >= (int64_t)t->cfg.rotate_age_ms;
}

/* Chain a body and append it. is_event: a caller's event (counts, may
 * trigger rotation) rather than log-opened. */
static int
tm_write_body(struct telemetry *t, const char *body, size_t len,
    uint64_t lost, const struct timespec *ts, bool is_event)
{
	struct event_stamp stamp = { NULL, NULL, t->stream, t->seq + 1,
	    t->prev_hash, lost };
	char hash[TELEMETRY_HASH_HEX];

	if (is_event) {
		/* Chain fields add ~130 bytes to the body. */
		if (t->fd != -1 && tm_rotation_due(t, len + 130) &&
		    tm_rotate(t) == -1 && t->fd == -1)
			return -1;
		if (tm_ensure_file(t) == -1)
			return -1;
		stamp.seq = t->seq + 1;
	}
	json_reset(&t->line);
	json_raw(&t->line, body, len);
	if (event_finish(&stamp, &t->line) == -1 ||
	    json_raw(&t->line, "\n", 1) == -1)
		return -1;
	if (tail_hash(t->md_ctx, t->sha256, t->line.data, t->line.len - 1,
	    hash) == -1)
		return -1;
	if (tm_write_line(t, t->line.data, t->line.len) == -1)
		return -1;
	t->seq++;
	t->written_ts = *ts;
	memcpy(t->prev_hash, hash, sizeof(hash));
	t->size += t->line.len;
	t->dirty = true;
	t->st.lines++;
	if (is_event) {
		t->st.events++;
		t->has_events = true;
	}
	if (t->cfg.fsync == TELEMETRY_FSYNC_ALWAYS)
		tm_sync(t);
	return 0;
}

/* Write the backlog, oldest first. 0 when it is empty. */
static int
tm_flush(struct telemetry *t)
{
	struct backlog_entry *e;

	while (t->q_count > 0) {
		e = &t->q[t->q_head];
		if (tm_write_body(t, e->body, e->len, e->lost_before, &e->ts, true) == -1)
			return -1;
		free(e->body);
		e->body = NULL;
		t->q_head = (t->q_head + 1) % t->cfg.backlog;
		t->q_count--;
	}
	return 0;
}

static enum telemetry_result
tm_enqueue(struct telemetry *t, const char *body, size_t len,
    const struct timespec *ts)
{
	struct backlog_entry *e;

	if (t->q_count >= t->cfg.backlog) {
		t->lost_pending++;
		t->st.lost++;
		errno = ENOBUFS;
		return TELEMETRY_LOST;
	}
	e = &t->q[(t->q_head + t->q_count) % t->cfg.backlog];
	if ((e->body = malloc(len)) == NULL) {
		t->lost_pending++;
		t->st.lost++;
		return TELEMETRY_LOST;
	}
	memcpy(e->body, body, len);
	e->len = len;
	e->ts = *ts;
	e->lost_before = t->lost_pending;
	t->lost_pending = 0;
	t->q_count++;
	return TELEMETRY_QUEUED;
}

enum telemetry_result
telemetry_emit(struct telemetry *t, const struct ag_event *ev)
{
	struct event_stamp stamp = { t->service, t->hostname, NULL, 0, NULL, 0 };
	struct geoip_result geo;
	struct ag_event copy;
	enum telemetry_result res;
	const struct ag_event *e = ev;

	if (ev->kind == EVENT_LOG_OPENED || event_kind_name(ev->kind) == NULL ||
	    ev->log_reason != LOG_REASON_NONE || ev->log_lost != 0 ||
	    ev->log_repaired || ev->log_previous_file != NULL) {
		errno = EINVAL;	/* agentgate.log belongs to the writer */
		return TELEMETRY_LOST;
	}
	if (t->cfg.geoip != NULL && ev->dst_ip.family != 0 &&
	    ev->dst_country == NULL && ev->dst_as_number == EVENT_ABSENT &&
	    ev->dst_as_org == NULL &&
	    geoip_lookup(t->cfg.geoip, &ev->dst_ip, &geo) == 1) {
		copy = *ev;
		if (geo.country[0] != '\0')
			copy.dst_country = geo.country;
		copy.dst_as_number = geo.as_number;
		if (geo.as_org[0] != '\0')
			copy.dst_as_org = geo.as_org;
		e = &copy;
	}

	pthread_mutex_lock(&t->mu);
	if (e->ts.tv_sec == 0 && e->ts.tv_nsec == 0) {
		/* "When emitted", but never before the previous event of this
		 * stream, even if the clock steps back. */
		if (e != &copy) {
			copy = *ev;
			e = &copy;
		}
		clock_gettime(CLOCK_REALTIME, &copy.ts);
		if (copy.ts.tv_sec < t->stamped_ts.tv_sec ||
		    (copy.ts.tv_sec == t->stamped_ts.tv_sec &&
		    copy.ts.tv_nsec < t->stamped_ts.tv_nsec))
			copy.ts = t->stamped_ts;
		t->stamped_ts = copy.ts;
	}
	json_reset(&t->body);
	if (event_serialize(e, &stamp, &t->body) == -1) {
		t->lost_pending++;
		t->st.lost++;
		res = TELEMETRY_LOST;
		goto out;
	}
	if (tm_flush(t) == 0 &&
	    tm_write_body(t, t->body.data, t->body.len, t->lost_pending, &e->ts,
	    true) == 0) {
		t->lost_pending = 0;
		tm_set_failing(t, false, 0);
		res = TELEMETRY_WRITTEN;
		goto out;
	}
	tm_set_failing(t, true, errno);
	res = tm_enqueue(t, t->body.data, t->body.len, &e->ts);
out:
	pthread_mutex_unlock(&t->mu);
	return res;
}

bool
telemetry_ok(struct telemetry *t)
{
	return atomic_load(&t->healthy);
}

/* The name logrotate gave our old file: same inode, stream's prefix. */
static void
tm_find_renamed(struct telemetry *t, const struct stat *old)
{
	struct dirent *de;
	struct stat st;
	DIR *d;

	t->prev_file[0] = '\0';
	if ((d = opendir(t->dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, t->active, strlen(t->active)) != 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_dev == old->st_dev && st.st_ino == old->st_ino) {
			snprintf(t->prev_file, sizeof(t->prev_file), "%s", de->d_name);
			break;
		}
	}
	closedir(d);
}

int
telemetry_reopen(struct telemetry *t)
{
	struct stat cur, now;
	int rc = 0;

	pthread_mutex_lock(&t->mu);
	if (t->fd != -1 && fstat(t->fd, &cur) == 0) {
		if (stat(t->active_path, &now) == 0 && now.st_dev == cur.st_dev &&
		    now.st_ino == cur.st_ino) {
			/* Not renamed; copytruncate may have emptied it. */
			t->size = (uint64_t)now.st_size;
			if (now.st_size == 0) {
				t->opened_logged = false;
				t->open_reason = LOG_REASON_REOPEN;
				t->prev_file[0] = '\0';
			}
		} else {
			tm_find_renamed(t, &cur);
			tm_retire_fd(t);
			t->opened_logged = false;
			t->open_reason = LOG_REASON_REOPEN;
		}
	}
	if (tm_ensure_file(t) == -1 || tm_flush(t) == -1) {
		tm_set_failing(t, true, errno);
		rc = -1;
	} else
		tm_set_failing(t, false, 0);
	pthread_mutex_unlock(&t->mu);
	return rc;
}

void
telemetry_stats(struct telemetry *t, struct telemetry_stats *st)
{
	pthread_mutex_lock(&t->mu);
	*st = t->st;
	st->backlog = t->q_count;
	st->seq = t->seq;
	pthread_mutex_unlock(&t->mu);
}

/* Interval fdatasync, and retries of a failing disk so that the backlog
 * drains even when no new event comes. fdatasync runs on a dup of the fd
 * outside the lock so that emitters never wait for the disk. */
static void *
tm_syncer(void *arg)
{
	struct telemetry *t = arg;
	struct timespec deadline;
	int fd;

	pthread_mutex_lock(&t->mu);
	while (!t->stopping) {
		clock_gettime(CLOCK_MONOTONIC, &deadline);
		deadline.tv_sec += t->cfg.fsync_interval_ms / 1000;
		deadline.tv_nsec += (long)(t->cfg.fsync_interval_ms % 1000) * 1000000;
		if (deadline.tv_nsec >= 1000000000) {
			deadline.tv_sec++;
			deadline.tv_nsec -= 1000000000;
		}
		while (!t->stopping && t->retired_fd == -1 &&
		    pthread_cond_timedwait(&t->wake, &t->mu, &deadline) != ETIMEDOUT)
			;
		if (t->stopping)
			break;
		if (t->retired_fd != -1) {
			fd = t->retired_fd;
			t->retired_fd = -1;
			pthread_mutex_unlock(&t->mu);
			if (fdatasync(fd) == -1)
				log_warn("telemetry: fdatasync of a rotated file");
			close(fd);
			pthread_mutex_lock(&t->mu);
			t->st.fsyncs++;
			continue;
		}
		if (t->failing || t->q_count > 0 || t->fd == -1) {
			if (tm_ensure_file(t) == 0 && tm_flush(t) == 0)
				tm_set_failing(t, false, 0);
		}
		if (!t->dirty || t->fd == -1 ||
		    t->cfg.fsync != TELEMETRY_FSYNC_INTERVAL)
			continue;
		if ((fd = dup(t->fd)) == -1)
			continue;
		t->dirty = false;
		pthread_mutex_unlock(&t->mu);
		if (fdatasync(fd) == -1)
			log_warn("telemetry: fdatasync %s", t->active_path);
		close(fd);
		pthread_mutex_lock(&t->mu);
		t->st.fsyncs++;
	}
	pthread_mutex_unlock(&t->mu);
	return NULL;
}

static bool
tm_valid_stream(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 32)
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-") == n;
}

/* The last chained line of one file: 1 found, 0 none or unreadable. */
static int
tm_recover_file(struct telemetry *t, int dfd, const char *name)
{
	char hash[TELEMETRY_HASH_HEX];
	uint64_t seq;
	bool torn;
	int fd, rc;

	fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd == -1)
		return 0;
	rc = tail_last_line(fd, t->stream, &seq, hash, &torn);
	close(fd);
	if (rc != 1)
		return 0;
	if (seq > t->seq) {
		t->seq = seq;
		memcpy(t->prev_hash, hash, sizeof(hash));
	}
	return 1;
}

/* The chain continues from the active file's last chained line; only when
 * it has none (new or emptied by logrotate, or we died between rotation's
 * rename and open) from the highest seq among the rotated files.
 * Compressed files are not read. */
static int
tm_recover(struct telemetry *t)
{
	struct dirent *de;
	size_t n;
	DIR *d;

	t->seq = 0;
	memset(t->prev_hash, '0', 64);
	t->prev_hash[64] = '\0';
	if ((d = opendir(t->dir)) == NULL)
		return -1;
	if (tm_recover_file(t, dirfd(d), t->active) == 1)
		goto out;
	while ((de = readdir(d)) != NULL) {
		n = strlen(de->d_name);
		if (strncmp(de->d_name, t->active, strlen(t->active)) != 0 ||
		    (n > 3 && strcmp(de->d_name + n - 3, ".gz") == 0))
			continue;
		tm_recover_file(t, dirfd(d), de->d_name);
	}
out:
	closedir(d);
	return 0;
}

struct telemetry *
telemetry_open(const struct telemetry_config *cfg, const char *stream)
{
	struct telemetry *t;
	pthread_condattr_t ca;
	char host[256];
	int saved;

	if (cfg->dir == NULL || cfg->service == NULL || stream == NULL ||
	    !tm_valid_stream(stream) || cfg->fsync_interval_ms == 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->fd = -1;
	t->retired_fd = -1;
	t->cfg = *cfg;
	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(t->stream, sizeof(t->stream), "%s", stream);
	snprintf(t->active, sizeof(t->active), "egress-%s.jsonl", stream);
	json_init(&t->body, NULL, 0);
	json_init(&t->aux, NULL, 0);
	json_init(&t->line, NULL, 0);
	pthread_mutex_init(&t->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&t->wake, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&t->healthy, true);
	t->dir = strdup(cfg->dir);
	t->service = strdup(cfg->service);
	t->hostname = strdup(cfg->hostname != NULL ? cfg->hostname : host);
	if (t->dir == NULL || t->service == NULL || t->hostname == NULL ||
	    asprintf(&t->active_path, "%s/%s", cfg->dir, t->active) == -1) {
		t->active_path = NULL;
		goto fail;
	}
	if (cfg->backlog > 0 &&
	    (t->q = calloc(cfg->backlog, sizeof(*t->q))) == NULL)
		goto fail;
	if ((t->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) == NULL ||
	    (t->md_ctx = EVP_MD_CTX_new()) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	if (mkdir(cfg->dir, 0750) == -1 && errno != EEXIST)
		goto fail;
	if (tm_open_active(t) == -1 || tm_recover(t) == -1)
		goto fail;
	t->open_reason = LOG_REASON_START;
	if (tm_ensure_file(t) == -1)
		goto fail;
	if (pthread_create(&t->syncer, NULL, tm_syncer, t) != 0) {
		errno = EAGAIN;
		goto fail;
	}
	t->has_syncer = true;
	return t;
fail:
	saved = errno;
	telemetry_close(t);
	errno = saved;
	return NULL;
}

void
telemetry_close(struct telemetry *t)
{
	size_t i;

	if (t == NULL)
		return;
	if (t->has_syncer) {
		pthread_mutex_lock(&t->mu);
		t->stopping = true;
		pthread_cond_signal(&t->wake);
		pthread_mutex_unlock(&t->mu);
		pthread_join(t->syncer, NULL);
		/* A last chance for a backlog: the disk may be back. */
		if (t->q_count > 0 && (tm_ensure_file(t) == -1 || tm_flush(t) == -1))
			log_warnx("telemetry: %s: %zu queued events lost at close",
			    t->active_path, t->q_count);
	}
	if (t->retired_fd != -1) {
		fdatasync(t->retired_fd);
		close(t->retired_fd);
	}
	if (t->fd != -1) {
		if (t->dirty && t->cfg.fsync != TELEMETRY_FSYNC_NEVER)
			fdatasync(t->fd);
		close(t->fd);
	}
	for (i = 0; t->q != NULL && i < t->cfg.backlog; i++)
		free(t->q[i].body);
	free(t->q);
	json_free(&t->body);
	json_free(&t->aux);
	json_free(&t->line);
	EVP_MD_CTX_free(t->md_ctx);
	EVP_MD_free(t->sha256);
	pthread_cond_destroy(&t->wake);
	pthread_mutex_destroy(&t->mu);
	free(t->active_path);
	free(t->dir);
	free(t->service);
	free(t->hostname);
	free(t);
}
