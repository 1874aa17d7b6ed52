/*
 * The launcher's small file-system steps (files.c): its folders under
 * RUN_DIR, the paths in them, and the sandbox's and inline policy's files.
 */
#ifndef AG_FILES_H
#define AG_FILES_H

#include <stddef.h>

/* mkdir -p, mode 0755 for each missing part. Returns 0, or -1 with errno. */
int	files_mkdirs(const char *path);

/* buf = "a/bc". Returns 0, or -1 with errno ENAMETOOLONG. */
int	files_join(char *buf, size_t size, const char *a, const char *b,
	    const char *c);

/* Write text to a new file path (O_EXCL, O_NOFOLLOW, 0644) whole.
 * Returns 0, or -1 with errno (EEXIST: it exists). */
int	files_write(const char *path, const char *text);

#endif
