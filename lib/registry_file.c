/*
 * The task registry folder: atomic registration under a lock, removal,
 * immutable address-indexed snapshots for daemons, and launcher liveness
 * from /proc with the pruning of tasks whose launcher is gone.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "registry.h"
#include "registry_int.h"

#define REG_LOCK	".lock"

struct registry {
	atomic_uint	 refs;
	struct reg_task	*tasks;		/* sorted by id */
	size_t		 ntasks;
	size_t		*slots;		/* task index, or SIZE_MAX when empty */
	size_t		 mask;		/* slots - 1; a power of two minus one */
};

bool
registry_file_name(const char *name, char id[REG_ID_MAX + 1])
{
	size_t len = strlen(name), slen = strlen(REG_SUFFIX);

	if (len <= slen || len - slen > REG_ID_MAX ||
	    strcmp(name + len - slen, REG_SUFFIX) != 0)
		return false;
	memcpy(id, name, len - slen);
	id[len - slen] = '\0';
	return registry_id_valid(id);
}

int
registry_mkdir_p(const char *dir)
{
	char path[PATH_MAX];
	size_t len = strlen(dir), i;

	if (len == 0 || len >= sizeof(path)) {
		errno = len ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	/* DIR itself 0775 minus the umask (0755 under the usual 022): where
	 * RUN_DIR has a default ACL, that mask lets its entries through. */
	if (mkdir(dir, 0775) == 0 || errno == EEXIST)
		return 0;
	if (errno != ENOENT)
		return -1;
	memcpy(path, dir, len + 1);
	for (i = 1; i < len; i++) {
		if (path[i] != '/')
			continue;
		path[i] = '\0';
		if (mkdir(path, 0755) == -1 && errno != EEXIST)
			return -1;
		path[i] = '/';
	}
	if (mkdir(path, 0775) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Read NAME under dirfd: a regular file (no symlink, FIFO or device can
 * stall or redirect a daemon) of at most REG_FILE_MAX bytes. */
static int
file_read_at(int dirfd, const char *name, char **out, size_t *outlen)
{
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	ssize_t n;
	int fd, rc = -1, saved;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd == -1)
		return -1;
	if (fstat(fd, &st) == -1)
		goto out;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto out;
	}
	if (st.st_size > REG_FILE_MAX) {
		errno = EFBIG;
		goto out;
	}
	if ((buf = malloc(REG_FILE_MAX + 1)) == NULL)
		goto out;
	/* Read one byte past the limit: the file may have grown since fstat. */
	while (len <= REG_FILE_MAX) {
		n = read(fd, buf + len, REG_FILE_MAX + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			goto out;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > REG_FILE_MAX) {
		errno = EFBIG;
		goto out;
	}
	*out = buf;
	*outlen = len;
	buf = NULL;
	rc = 0;
out:
	saved = errno;
	free(buf);
	close(fd);
	errno = saved;
	return rc;
}

/* Read and parse ID.json under dirfd; its id must be ID. */
static int
task_read_at(int dirfd, const char *id, struct reg_task *t, char *err,
    size_t errlen)
{
	char name[REG_ID_MAX + sizeof(REG_SUFFIX)];
	char *buf = NULL;
	size_t len;
	int rc;

	registry_task_init(t);
	snprintf(name, sizeof(name), "%s%s", id, REG_SUFFIX);
	if (file_read_at(dirfd, name, &buf, &len) == -1) {
		snprintf(err, errlen, "%s", errno == EFBIG ?
		    "over 64 KiB" : strerror(errno));
		return -1;
	}
	rc = registry_task_parse(buf, len, t, err, errlen);
	free(buf);
	if (rc == 0 && strcmp(t->id, id) != 0) {
		snprintf(err, errlen, "id '%s' does not match the file name", t->id);
		registry_task_free(t);
		errno = EINVAL;
		rc = -1;
	}
	return rc;
}

static int
lock_take(int dirfd)
{
	int fd;

	fd = openat(dirfd, REG_LOCK, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	/* flock needs no write access: a daemon that may unlink in DIR but
	 * not write root's lock file (docs/registry.md) still takes it. */
	if (fd == -1 && errno == EACCES)
		fd = openat(dirfd, REG_LOCK, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -1;
	while (flock(fd, LOCK_EX) == -1) {
		if (errno != EINTR) {
			int saved = errno;

			close(fd);
			errno = saved;
			return -1;
		}
	}
	return fd;
}

/* Whether any valid task file other than t's holds one of t's addresses. */
static int
addresses_taken(int dirfd, const struct reg_task *t, bool *taken)
{
	char id[REG_ID_MAX + 1], err[128];
	struct reg_task other;
	struct dirent *de;
	size_t i, j;
	DIR *d;
	int fd;

	*taken = false;
	if ((fd = dup(dirfd)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while (!*taken && (de = readdir(d)) != NULL) {
		if (!registry_file_name(de->d_name, id) || strcmp(id, t->id) == 0)
			continue;
		if (task_read_at(dirfd, id, &other, err, sizeof(err)) == -1)
			continue;	/* daemons skip it too: it holds nothing */
		for (i = 0; i < t->naddrs && !*taken; i++)
			for (j = 0; j < other.naddrs; j++)
				if (addr_equal(&t->addrs[i], &other.addrs[j]))
					*taken = true;
		registry_task_free(&other);
	}
	closedir(d);
	return 0;
}

int
registry_task_write(const char *dir, const struct reg_task *t)
{
	char name[REG_ID_MAX + sizeof(REG_SUFFIX)], tmp[REG_ID_MAX + 16];
	char err[128], stack[2048];
	struct json_buf j;
	struct stat st;
	int dirfd = -1, lockfd = -1, fd = -1, rc = -1, saved;
	bool taken, tmp_made = false;

	json_init(&j, stack, sizeof(stack));
	if (registry_task_check(t, err, sizeof(err)) == -1)
		goto out;
	snprintf(name, sizeof(name), "%s%s", t->id, REG_SUFFIX);
	snprintf(tmp, sizeof(tmp), ".%s%s.tmp", t->id, REG_SUFFIX);
	if (registry_task_format(t, &j) == -1 || json_raw(&j, "\n", 1) == -1)
		goto out;
	if (j.len > REG_FILE_MAX) {
		errno = EFBIG;
		goto out;
	}
	if (registry_mkdir_p(dir) == -1)
		goto out;
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		goto out;
	if ((lockfd = lock_take(dirfd)) == -1)
		goto out;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		errno = EEXIST;
		goto out;
	} else if (errno != ENOENT)
		goto out;
	if (addresses_taken(dirfd, t, &taken) == -1)
		goto out;
	if (taken) {
		errno = EADDRINUSE;
		goto out;
	}
	/* Under the lock a temp file left behind can only be a crash's. */
	if (unlinkat(dirfd, tmp, 0) == -1 && errno != ENOENT)
		goto out;
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1)
		goto out;
	tmp_made = true;
	if (fchmod(fd, 0644) == -1 || write_all(fd, j.data, j.len) == -1 ||
	    fsync(fd) == -1)
		goto out;
	if (close(fd) == -1) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (renameat(dirfd, tmp, dirfd, name) == -1)
		goto out;
	tmp_made = false;
	if (fsync(dirfd) == -1)
		goto out;
	rc = 0;
out:
	saved = errno;
	if (fd != -1)
		close(fd);
	if (tmp_made)
		unlinkat(dirfd, tmp, 0);
	if (lockfd != -1)
		close(lockfd);
	if (dirfd != -1)
		close(dirfd);
	json_free(&j);
	errno = saved;
	return rc;
}

int
registry_task_remove(const char *dir, const char *id)
{
	char name[REG_ID_MAX + sizeof(REG_SUFFIX)];
	int dirfd, rc = -1, saved;

	if (!registry_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	snprintf(name, sizeof(name), "%s%s", id, REG_SUFFIX);
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (unlinkat(dirfd, name, 0) == -1)
		goto out;
	if (fsync(dirfd) == -1)
		goto out;
	rc = 0;
out:
	saved = errno;
	close(dirfd);
	errno = saved;
	return rc;
}

int
registry_task_read(const char *dir, const char *id, struct reg_task *t,
    char *err, size_t errlen)
{
	int dirfd, rc, saved;

	registry_task_init(t);
	if (!registry_id_valid(id)) {
		snprintf(err, errlen, "invalid task id");
		errno = EINVAL;
		return -1;
	}
	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	rc = task_read_at(dirfd, id, t, err, errlen);
	saved = errno;
	close(dirfd);
	errno = saved;
	return rc;
}

/* Mix an address into a slot number; both families share one table. */
static size_t
addr_hash(const struct ag_addr *a)
{
	uint64_t hi = 0, lo = 0;

	if (a->family == AF_INET)
		memcpy(&lo, a->u.bytes, 4);
	else {
		memcpy(&hi, a->u.bytes, 8);
		memcpy(&lo, a->u.bytes + 8, 8);
	}
	lo ^= hi * 0x9e3779b97f4a7c15ULL ^ a->family;
	lo ^= lo >> 33;
	lo *= 0xff51afd7ed558ccdULL;
	lo ^= lo >> 33;
	lo *= 0xc4ceb9fe1a85ec53ULL;
	lo ^= lo >> 33;
	return (size_t)lo;
}

/* The slot that holds addr, or the empty slot where it would go. */
static size_t *
slot_find(const struct registry *reg, const struct ag_addr *a)
{
	size_t i = addr_hash(a) & reg->mask;

	for (;; i = (i + 1) & reg->mask) {
		size_t *s = &reg->slots[i];
		const struct reg_task *t;
		size_t k;

		if (*s == SIZE_MAX)
			return s;
		t = &reg->tasks[*s];
		for (k = 0; k < t->naddrs; k++)
			if (addr_equal(&t->addrs[k], a))
				return s;
	}
}

static int
task_cmp(const void *a, const void *b)
{
	return strcmp(((const struct reg_task *)a)->id, ((const struct reg_task *)b)->id);
}

/* Index every task; a task with an address already taken by one that sorts
 * before it is reported, freed, and dropped from the array. */
static void
registry_index(struct registry *reg, registry_error_fn errfn, void *arg)
{
	char text[AG_ADDR_STRLEN], reason[160], file[REG_ID_MAX + sizeof(REG_SUFFIX)];
	size_t i, k, kept = 0;

	for (i = 0; i <= reg->mask; i++)
		reg->slots[i] = SIZE_MAX;
	for (i = 0; i < reg->ntasks; i++) {
		struct reg_task *t = &reg->tasks[i];
		size_t *s = NULL;

		for (k = 0; k < t->naddrs; k++) {
			s = slot_find(reg, &t->addrs[k]);
			if (*s != SIZE_MAX)
				break;
		}
		if (k < t->naddrs) {
			snprintf(reason, sizeof(reason), "address %s already held by task %s",
			    addr_format(&t->addrs[k], text, sizeof(text)),
			    reg->tasks[*s].id);
			snprintf(file, sizeof(file), "%s%s", t->id, REG_SUFFIX);
			if (errfn != NULL)
				errfn(arg, file, reason);
			registry_task_free(t);
			continue;
		}
		if (kept != i) {
			reg->tasks[kept] = *t;
			registry_task_init(t);
		}
		for (k = 0; k < reg->tasks[kept].naddrs; k++)
			*slot_find(reg, &reg->tasks[kept].addrs[k]) = kept;
		kept++;
	}
	reg->ntasks = kept;
}

struct registry *
registry_load(const char *dir, registry_error_fn errfn, void *arg)
{
	char id[REG_ID_MAX + 1], err[160];
	struct registry *reg;
	struct dirent *de;
	DIR *d = NULL;
	size_t cap = 0, naddrs = 0, nslots = 8;
	int saved;

	if ((reg = calloc(1, sizeof(*reg))) == NULL)
		return NULL;
	atomic_init(&reg->refs, 1);
	if ((d = opendir(dir)) == NULL && errno != ENOENT)
		goto fail;
	while (d != NULL && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (!registry_file_name(de->d_name, id)) {
			if (errfn != NULL && strlen(de->d_name) > strlen(REG_SUFFIX) &&
			    strcmp(de->d_name + strlen(de->d_name) - strlen(REG_SUFFIX),
			    REG_SUFFIX) == 0)
				errfn(arg, de->d_name, "file name is not a valid task id");
			continue;
		}
		if (reg->ntasks == cap) {
			struct reg_task *grown;

			cap = cap ? cap * 2 : 16;
			if ((grown = realloc(reg->tasks, cap * sizeof(*grown))) == NULL)
				goto fail;
			reg->tasks = grown;
		}
		if (task_read_at(dirfd(d), id, &reg->tasks[reg->ntasks], err,
		    sizeof(err)) == -1) {
			if (errno == ENOMEM)
				goto fail;
			if (errno == ENOENT)
				continue;	/* removed while we read the folder */
			if (errfn != NULL)
				errfn(arg, de->d_name, err);
			continue;
		}
		naddrs += reg->tasks[reg->ntasks].naddrs;
		reg->ntasks++;
	}
	if (reg->ntasks > 0)
		qsort(reg->tasks, reg->ntasks, sizeof(*reg->tasks), task_cmp);
	/* At most half full, so probes stay short. */
	while (nslots < naddrs * 2)
		nslots *= 2;
	if ((reg->slots = malloc(nslots * sizeof(*reg->slots))) == NULL)
		goto fail;
	reg->mask = nslots - 1;
	registry_index(reg, errfn, arg);
	if (d != NULL)
		closedir(d);
	return reg;
fail:
	saved = errno;
	if (d != NULL)
		closedir(d);
	registry_unref(reg);
	errno = saved;
	return NULL;
}

struct registry *
registry_ref(struct registry *reg)
{
	if (reg != NULL)
		atomic_fetch_add_explicit(&reg->refs, 1, memory_order_relaxed);
	return reg;
}

void
registry_unref(struct registry *reg)
{
	size_t i;

	if (reg == NULL ||
	    atomic_fetch_sub_explicit(&reg->refs, 1, memory_order_acq_rel) != 1)
		return;
	for (i = 0; i < reg->ntasks; i++)
		registry_task_free(&reg->tasks[i]);
	free(reg->tasks);
	free(reg->slots);
	free(reg);
}

const struct reg_task *
registry_lookup(const struct registry *reg, const struct ag_addr *addr)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	struct ag_addr key = *addr;
	size_t *s;

	if (reg == NULL || reg->ntasks == 0 ||
	    (key.family != AF_INET && key.family != AF_INET6))
		return NULL;
	if (key.family == AF_INET6 && memcmp(key.u.bytes, mapped, 12) == 0)
		addr_from_v4(addr->u.v6.s6_addr32[3], &key);
	s = slot_find(reg, &key);
	return *s == SIZE_MAX ? NULL : &reg->tasks[*s];
}

size_t
registry_count(const struct registry *reg)
{
	return reg == NULL ? 0 : reg->ntasks;
}

const struct reg_task *
registry_task_at(const struct registry *reg, size_t i)
{
	return reg == NULL || i >= reg->ntasks ? NULL : &reg->tasks[i];
}

int
registry_proc_start_time(pid_t pid, uint64_t *start_time, char *state)
{
	char path[64], buf[4096];
	ssize_t n;
	int fd, saved;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n == -1 && errno == EINTR);
	saved = errno;
	close(fd);
	if (n == -1) {
		errno = saved;
		return -1;
	}
	return registry_stat_parse(buf, (size_t)n, start_time, state);
}

bool
registry_task_alive(const struct reg_task *t)
{
	uint64_t start;
	char state;

	if (!t->has_launcher)
		return true;
	if (registry_proc_start_time(t->launcher_pid, &start, &state) == -1) {
		/* No readable /proc entry for a pid that exists: hidden
		 * (hidepid), so its start time cannot be checked. */
		return kill(t->launcher_pid, 0) == 0 || errno == EPERM;
	}
	/* A zombie launcher has ended; only its parent has not reaped it. */
	return state != 'Z' && state != 'X' && start == t->launcher_start;
}

int
registry_prune(const char *dir, void (*cb)(void *arg, const struct reg_task *t),
    void *arg)
{
	char id[REG_ID_MAX + 1], name[REG_ID_MAX + sizeof(REG_SUFFIX)], err[160];
	struct reg_task t;
	struct dirent *de;
	DIR *d = NULL;
	int dirfd = -1, lockfd = -1, fd, count = 0, saved;

	if ((dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 0 : -1;
	if ((lockfd = lock_take(dirfd)) == -1)
		goto fail;
	if ((fd = dup(dirfd)) == -1)
		goto fail;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		goto fail;
	}
	while ((de = readdir(d)) != NULL) {
		if (!registry_file_name(de->d_name, id))
			continue;
		if (task_read_at(dirfd, id, &t, err, sizeof(err)) == -1)
			continue;
		if (!registry_task_alive(&t)) {
			snprintf(name, sizeof(name), "%s%s", id, REG_SUFFIX);
			if (unlinkat(dirfd, name, 0) == 0) {
				count++;
				if (cb != NULL)
					cb(arg, &t);
			} else if (errno != ENOENT) {
				registry_task_free(&t);
				goto fail;
			}
		}
		registry_task_free(&t);
	}
	if (count > 0 && fsync(dirfd) == -1)
		goto fail;
	closedir(d);
	close(lockfd);
	close(dirfd);
	return count;
fail:
	saved = errno;
	if (d != NULL)
		closedir(d);
	if (lockfd != -1)
		close(lockfd);
	close(dirfd);
	errno = saved;
	return -1;
}

int
registry_inline_policy_remove(const char *policies_dir,
    const struct reg_task *t)
{
	char name[REG_ID_MAX + sizeof(".rules")], dir[PATH_MAX];
	const char *slash;
	struct stat a, b;

	if (t->policy_file == NULL ||
	    (slash = strrchr(t->policy_file, '/')) == NULL)
		return 0;
	snprintf(name, sizeof(name), "%s.rules", t->id);
	if (strcmp(slash + 1, name) != 0 ||
	    (size_t)(slash - t->policy_file) >= sizeof(dir))
		return 0;
	snprintf(dir, sizeof(dir), "%.*s", (int)(slash - t->policy_file),
	    t->policy_file);
	/* The same folder, however the launcher spelled it ("a//b"). */
	if (stat(dir[0] != '\0' ? dir : "/", &a) == -1 ||
	    stat(policies_dir, &b) == -1)
		return errno == ENOENT ? 0 : -1;
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino)
		return 0;
	if (unlink(t->policy_file) == -1)
		return errno == ENOENT ? 0 : -1;
	return 1;
}
