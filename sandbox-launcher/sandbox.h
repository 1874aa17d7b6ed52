/*
 * The sandbox process: a child in new net, mount, pid, uts, ipc and cgroup
 * namespaces whose pid 1 is a small init. It waits until the launcher has
 * built its network, makes its mounts private, puts the task's resolv.conf
 * and hosts in place, names itself after the task, then forks the command
 * with every privilege dropped, reaps everything and exits with the
 * command's status.
 */
#ifndef AG_SANDBOX_H
#define AG_SANDBOX_H

#include <sys/types.h>

#include "caps.h"

/* Exit statuses of the launcher and of the sandbox's init (docs/launcher.md). */
#define SANDBOX_EXIT_TIMEOUT	124	/* --timeout passed; the sandbox was killed */
#define SANDBOX_EXIT_ERROR	125	/* the launcher or the sandbox setup failed */
#define SANDBOX_EXIT_NOEXEC	126	/* the command cannot be run */
#define SANDBOX_EXIT_NOTFOUND	127	/* the command was not found */

struct sandbox {
	/* Set by the caller before sandbox_start. */
	const char		*id;		/* also the hostname */
	char *const		*argv;		/* the command, argv[0] looked up in PATH */
	char *const		*envp;		/* its environment */
	const char		*cwd;		/* or NULL */
	const char		*resolv_conf;	/* file bound over /etc/resolv.conf */
	const char		*hosts;		/* file bound over /etc/hosts */
	const struct caps_user	*user;

	/* Set by sandbox_start. */
	pid_t			 pid;		/* the init, in our pid namespace */
	int			 netns;		/* its network namespace (O_CLOEXEC) */
	int			 go;		/* write end of the start pipe */
	int			 go_w;		/* (the child's copy, during clone) */
};

/* Clone the sandbox. Its init makes the sandbox's mounts, then waits until
 * sandbox_go() before it starts the command. Returns 0, or -1 with errno
 * (the clone or opening the namespace failed; nothing is left). */
int sandbox_start(struct sandbox *sb);

/* Let the sandbox go on (its network is ready). Returns 0, or -1 with errno
 * (EPIPE: the init has exited, its mounts failed and it said why). */
int sandbox_go(struct sandbox *sb);

/* Close what sandbox_start opened (the init exits by itself when it has not
 * been let go: it reads end of file). Does not wait for it. */
void sandbox_close(struct sandbox *sb);

#endif
