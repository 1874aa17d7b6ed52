/*
 * The sandbox's init (pid 1 of its pid namespace) and the clone that makes
 * it. The init runs no untrusted code: it only mounts, forks the command,
 * forwards signals and reaps.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdnoreturn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sandbox.h"
#include "seccomp.h"

/* What the command's child reports through its close-on-exec pipe when it
 * does not reach execvp's success. */
enum {
	STAGE_CWD,		/* --cwd: 125 */
	STAGE_PRIVS,		/* dropping privileges: 125 */
	STAGE_EXEC,		/* execvp: 126 or 127 */
};

struct exec_report {
	int	stage;		/* STAGE_*: where it failed */
	int	err;
};

static void
child_fail(int fd, int stage, int err)
{
	struct exec_report r = { stage, err };

	(void)!write(fd, &r, sizeof(r));
	_exit(SANDBOX_EXIT_ERROR);
}

static void
noop_handler(int sig)
{
	(void)sig;
}

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* In the command's process: drop everything and exec. Never returns. */
static void
command_exec(const struct sandbox *sb, int report)
{
	sigset_t none;
	size_t i;

	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		signal(forwarded[i], SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	if (sb->cwd != NULL && chdir(sb->cwd) == -1)
		child_fail(report, STAGE_CWD, errno);
	if (caps_drop(sb->user) == -1)
		child_fail(report, STAGE_PRIVS, errno);
	if (seccomp_install() == -1)
		child_fail(report, STAGE_PRIVS, errno);
	/* PATH for the lookup is the launcher's, as with env(1). */
	execvpe(sb->argv[0], sb->argv, sb->envp);
	child_fail(report, STAGE_EXEC, errno);
}

/* Mounts, hostname: the sandbox's view before the command starts. */
static int
sandbox_setup(const struct sandbox *sb, const char **what)
{
	*what = "make mounts private";
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return -1;
	*what = "bind resolv.conf over /etc/resolv.conf";
	if (mount(sb->resolv_conf, "/etc/resolv.conf", NULL, MS_BIND, NULL) == -1 ||
	    mount(NULL, "/etc/resolv.conf", NULL,
	    MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) == -1)
		return -1;
	*what = "bind hosts over /etc/hosts";
	if (mount(sb->hosts, "/etc/hosts", NULL, MS_BIND, NULL) == -1 ||
	    mount(NULL, "/etc/hosts", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY,
	    NULL) == -1)
		return -1;
	/* The sandbox's own processes in /proc, not the host's. */
	*what = "mount /proc";
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	    NULL) == -1)
		return -1;
	*what = "set the hostname";
	if (sethostname(sb->id, strlen(sb->id)) == -1)
		return -1;
	return 0;
}

/* Status of a finished command as a shell reports it. */
static int
status_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return SANDBOX_EXIT_ERROR;
}

/* pid 1 of the sandbox. Never returns. */
static noreturn void
sandbox_init(const struct sandbox *sb)
{
	struct exec_report r;
	struct sigaction sa;
	siginfo_t si;
	sigset_t set;
	const char *what;
	char go;
	int fds[2], status, sig, code = SANDBOX_EXIT_ERROR;
	pid_t cmd, pid;
	size_t i;
	ssize_t n;

	/* The launcher dying takes the sandbox with it. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	close(sb->go_w);

	/* The mounts need nothing from the launcher: they are made while it
	 * builds the link, and the command waits for the go. */
	if (sandbox_setup(sb, &what) == -1) {
		fprintf(stderr, "agentgate-run: sandbox: cannot %s: %s\n", what,
		    strerror(errno));
		_exit(SANDBOX_EXIT_ERROR);
	}
	if (read(sb->go, &go, 1) != 1 || go != 'g')
		_exit(SANDBOX_EXIT_ERROR);
	close(sb->go);

	/* Signals wait in the queue for sigwaitinfo; a handler (not SIG_DFL)
	 * makes sure the kernel delivers them to a namespace's init. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = noop_handler;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaction(SIGCHLD, &sa, NULL);
	for (i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++) {
		sigaddset(&set, forwarded[i]);
		sigaction(forwarded[i], &sa, NULL);
	}
	sigprocmask(SIG_BLOCK, &set, NULL);

	if (pipe2(fds, O_CLOEXEC) == -1) {
		fprintf(stderr, "agentgate-run: sandbox: pipe: %s\n", strerror(errno));
		_exit(SANDBOX_EXIT_ERROR);
	}
	cmd = fork();
	if (cmd == -1) {
		fprintf(stderr, "agentgate-run: sandbox: fork: %s\n", strerror(errno));
		_exit(SANDBOX_EXIT_ERROR);
	}
	if (cmd == 0) {
		close(fds[0]);
		command_exec(sb, fds[1]);
	}
	close(fds[1]);
	do
		n = read(fds[0], &r, sizeof(r));
	while (n == -1 && errno == EINTR);
	close(fds[0]);
	if (n == (ssize_t)sizeof(r)) {
		if (r.stage == STAGE_CWD) {
			fprintf(stderr, "agentgate-run: --cwd %s: %s\n",
			    sb->cwd, strerror(r.err));
			code = SANDBOX_EXIT_ERROR;
		} else if (r.stage == STAGE_PRIVS) {
			fprintf(stderr, "agentgate-run: sandbox: cannot drop "
			    "privileges: %s\n", strerror(r.err));
			code = SANDBOX_EXIT_ERROR;
		} else {
			fprintf(stderr, "agentgate-run: %s: %s\n", sb->argv[0],
			    strerror(r.err));
			code = r.err == ENOENT ? SANDBOX_EXIT_NOTFOUND :
			    SANDBOX_EXIT_NOEXEC;
		}
		waitpid(cmd, NULL, 0);
		_exit(code);
	}

	for (;;) {
		sig = sigwaitinfo(&set, &si);
		if (sig == -1)
			continue;
		if (sig != SIGCHLD) {
			/* From a terminal (the kernel) it reached the command
			 * already; from the launcher (a process) it did not. */
			if (si.si_code != SI_KERNEL)
				kill(cmd, sig);
			continue;
		}
		while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
			if (pid == cmd)
				goto done;
	}
done:
	code = status_code(status);
	/* Nothing the command left behind outlives it. */
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0 || errno == EINTR)
		;
	_exit(code);
}

int
sandbox_start(struct sandbox *sb)
{
	char path[64];
	int fds[2], saved;

	sb->pid = -1;
	sb->netns = -1;
	sb->go = -1;
	if (pipe2(fds, O_CLOEXEC) == -1)
		return -1;
	/* The child reads fds[0] and closes its copy of fds[1]. */
	sb->go = fds[0];
	sb->go_w = fds[1];
	/*
	 * The clone system call without a new stack works like fork: the
	 * child goes on from here on a copy of our stack. (glibc's clone()
	 * wants a separate stack, which sanitizers take for stack
	 * corruption.)
	 */
	sb->pid = (pid_t)syscall(SYS_clone, CLONE_NEWNET | CLONE_NEWNS |
	    CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWCGROUP |
	    SIGCHLD, NULL, NULL, NULL, NULL);
	if (sb->pid == 0)
		sandbox_init(sb);
	saved = errno;
	sb->go = -1;
	sb->go_w = -1;
	if (sb->pid == -1)
		goto fail;
	close(fds[0]);
	sb->go = fds[1];
	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)sb->pid);
	sb->netns = open(path, O_RDONLY | O_CLOEXEC);
	if (sb->netns == -1) {
		saved = errno;
		sandbox_close(sb);
		kill(sb->pid, SIGKILL);
		waitpid(sb->pid, NULL, 0);
		sb->pid = -1;
		errno = saved;
		return -1;
	}
	return 0;
fail:
	close(fds[0]);
	close(fds[1]);
	errno = saved;
	return -1;
}

int
sandbox_go(struct sandbox *sb)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t pipe, old;
	char go = 'g';
	ssize_t n;
	int saved;

	/* An init that failed its mounts has exited: EPIPE, not a SIGPIPE
	 * that would kill the launcher before its teardown. */
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe, &old);
	n = write(sb->go, &go, 1);
	saved = errno;
	if (n == -1 && saved == EPIPE)
		sigtimedwait(&pipe, NULL, &zero);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (n != 1) {
		errno = n == -1 ? saved : EIO;
		return -1;
	}
	close(sb->go);
	sb->go = -1;
	return 0;
}

void
sandbox_close(struct sandbox *sb)
{
	if (sb->go != -1)
		close(sb->go);
	sb->go = -1;
	if (sb->netns != -1)
		close(sb->netns);
	sb->netns = -1;
}
