/*
 * Replays a fuzz target's committed corpus as an ordinary test, so that
 * `make check` exercises every seed even where clang's libFuzzer is absent.
 * Built once per target with -DFUZZ_CORPUS="name"; reads
 * $top_srcdir/fuzz/corpus/<name>/ and prints one TAP line per file.
 * A crash or sanitizer report fails the test through the exit status.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_FILE	(1u << 20)

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
replay_file(const char *path)
{
	FILE *f;
	uint8_t *buf;
	size_t n;

	if ((f = fopen(path, "rb")) == NULL)
		return -1;
	if ((buf = malloc(REPLAY_MAX_FILE)) == NULL) {
		fclose(f);
		return -1;
	}
	n = fread(buf, 1, REPLAY_MAX_FILE, f);
	fclose(f);
	/* A copy of exactly n bytes, so ASan sees reads past the input's end. */
	uint8_t *exact = malloc(n ? n : 1);
	if (exact == NULL) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, n);
	free(buf);
	LLVMFuzzerTestOneInput(exact, n);
	free(exact);
	return 0;
}

int
main(void)
{
	const char *top = getenv("top_srcdir");
	char dir[4096], path[4096 + 256];
	struct dirent *de;
	char **names = NULL;
	size_t count = 0, cap = 0, i;
	int failed = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/%s", top ? top : ".", FUZZ_CORPUS);
	if ((d = opendir(dir)) == NULL) {
		printf("Bail out! cannot open corpus %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (count == cap) {
			cap = cap ? cap * 2 : 64;
			char **grown = realloc(names, cap * sizeof(*names));
			if (grown == NULL) {
				printf("Bail out! out of memory\n");
				return 1;
			}
			names = grown;
		}
		if ((names[count] = strdup(de->d_name)) == NULL) {
			printf("Bail out! out of memory\n");
			return 1;
		}
		count++;
	}
	closedir(d);
	if (count == 0) {
		printf("Bail out! corpus %s is empty\n", dir);
		return 1;
	}
	qsort(names, count, sizeof(*names), name_cmp);
	printf("1..%zu\n", count);
	for (i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (replay_file(path) == 0) {
			printf("ok %zu - %s %s\n", i + 1, FUZZ_CORPUS, names[i]);
		} else {
			printf("not ok %zu - %s %s: %s\n", i + 1, FUZZ_CORPUS, names[i], strerror(errno));
			failed = 1;
		}
		fflush(stdout);
		free(names[i]);
	}
	free(names);
	return failed;
}
