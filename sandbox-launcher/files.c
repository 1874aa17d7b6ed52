/*
 * The launcher's small file-system steps: folders made as needed, paths
 * joined with a length check, and a small file written whole, never over
 * one that exists.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "files.h"

/* mkdir -p with mode 0755 for each missing part. */
int
files_mkdirs(const char *path)
{
	char buf[PATH_MAX];
	char *p;
	size_t len = strlen(path);

	if (len == 0 || len >= sizeof(buf)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(buf, path, len + 1);
	for (p = buf + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) == -1 && errno != EEXIST)
			return -1;
		*p = '/';
	}
	if (mkdir(buf, 0755) == -1 && errno != EEXIST)
		return -1;
	return 0;
}

int
files_join(char *buf, size_t size, const char *a, const char *b, const char *c)
{
	int n = snprintf(buf, size, "%s/%s%s", a, b, c);

	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

/* Write a small file whole (O_EXCL: never over something that exists). */
int
files_write(const char *path, const char *text)
{
	size_t len = strlen(text);
	int fd, saved, ret = -1;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd == -1)
		return -1;
	if (write(fd, text, len) == (ssize_t)len)
		ret = 0;
	else if (errno == 0)
		errno = EIO;
	saved = errno;
	if (close(fd) == -1 && ret == 0)
		return -1;
	errno = saved;
	return ret;
}
