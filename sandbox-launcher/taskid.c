/*
 * Generated task ids: random rather than sequential, so launchers need no
 * shared counter; the registry still refuses a duplicate (EEXIST).
 */
#include <errno.h>
#include <sys/random.h>

#include "taskid.h"

void
taskid_format(const uint8_t rnd[TASKID_RANDOM], char *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	buf[0] = 'r';
	buf[1] = 'u';
	buf[2] = 'n';
	buf[3] = '-';
	for (i = 0; i < TASKID_RANDOM; i++) {
		buf[4 + 2 * i] = hex[rnd[i] >> 4];
		buf[5 + 2 * i] = hex[rnd[i] & 15];
	}
	buf[TASKID_LEN] = '\0';
}

int
taskid_generate(char *buf, size_t size)
{
	uint8_t rnd[TASKID_RANDOM];

	if (size < TASKID_LEN + 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		return -1;
	taskid_format(rnd, buf);
	return 0;
}
