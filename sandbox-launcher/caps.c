/*
 * Capabilities and user: bounding set first (needs CAP_SETPCAP, so before
 * anything else goes), then the user switch, then capset with empty sets,
 * last no_new_privs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/capability.h>

#include "caps.h"

int
caps_user_lookup(const char *spec, struct caps_user *u)
{
	struct passwd *pw;
	char *end;
	unsigned long v;

	memset(u, 0, sizeof(*u));
	errno = 0;
	pw = getpwnam(spec);
	if (pw == NULL && spec[0] >= '0' && spec[0] <= '9') {
		errno = 0;
		v = strtoul(spec, &end, 10);
		if (*end != '\0' || errno != 0 || v > 0xfffffffeUL) {
			errno = ENOENT;
			return -1;
		}
		pw = getpwuid((uid_t)v);
		if (pw == NULL) {
			/* A numeric uid without a passwd entry: group = uid. */
			u->set = true;
			u->uid = (uid_t)v;
			u->gid = (gid_t)v;
			return 0;
		}
	}
	if (pw == NULL) {
		if (errno == 0)
			errno = ENOENT;
		return -1;
	}
	u->set = true;
	u->uid = pw->pw_uid;
	u->gid = pw->pw_gid;
	if (strlen(pw->pw_name) < sizeof(u->name))
		memcpy(u->name, pw->pw_name, strlen(pw->pw_name) + 1);
	return 0;
}

static int
last_cap(void)
{
	FILE *f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	int last = CAP_LAST_CAP;

	if (f != NULL) {
		if (fscanf(f, "%d", &last) != 1)
			last = CAP_LAST_CAP;
		fclose(f);
	}
	/* Never fewer than this build knows of. */
	return last < CAP_LAST_CAP ? CAP_LAST_CAP : last;
}

int
caps_drop(const struct caps_user *u)
{
	struct __user_cap_header_struct hdr;
	struct __user_cap_data_struct data[2];
	int cap, last = last_cap();

	for (cap = 0; cap <= last; cap++)
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) == -1 && errno != EINVAL)
			return -1;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) == -1)
		return -1;
	if (u->set) {
		if (u->name[0] != '\0') {
			if (initgroups(u->name, u->gid) == -1)
				return -1;
		} else if (setgroups(0, NULL) == -1)
			return -1;
		if (setresgid(u->gid, u->gid, u->gid) == -1 ||
		    setresuid(u->uid, u->uid, u->uid) == -1)
			return -1;
	}
	memset(&hdr, 0, sizeof(hdr));
	memset(data, 0, sizeof(data));
	hdr.version = _LINUX_CAPABILITY_VERSION_3;
	if (syscall(SYS_capset, &hdr, data) == -1)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		return -1;
	return 0;
}
