/*
 * The sandbox's seccomp filter, installed for real in a forked child (an
 * unprivileged process may install one after no_new_privs): each refused
 * call fails with the expected errno, ordinary calls still work.
 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/filter.h>
#include <linux/netlink.h>

#include <cmocka.h>

#include "seccomp.h"

/* Each check: the call's result (-1 or a descriptor) and errno, in the child. */
enum check {
	C_SOCKET_PACKET, C_SOCKET_RAW4, C_SOCKET_RAW6, C_SOCKET_PACKET4,
	C_SOCKET_NETLINK_AUDIT, C_SOCKET_NETLINK_ROUTE, C_SOCKET_TCP,
	C_SOCKET_UDP6, C_SOCKET_UNIX, C_UNSHARE, C_SETNS, C_MOUNT, C_PTRACE,
	C_KEYCTL, C_BPF, C_PERF, C_USERFAULTFD, C_CLONE3, C_CLONE_NEWNET,
	C_FORK, C_PERSONALITY_LINUX, C_PERSONALITY_QUERY, C_PERSONALITY_RANDOM,
	C_COUNT
};

static const struct {
	const char	*name;
	int		 err;	/* 0: must succeed */
} want[C_COUNT] = {
	[C_SOCKET_PACKET] = { "socket(AF_PACKET)", EPERM },
	[C_SOCKET_RAW4] = { "socket(AF_INET, SOCK_RAW)", EPERM },
	[C_SOCKET_RAW6] = { "socket(AF_INET6, SOCK_RAW|SOCK_CLOEXEC)", EPERM },
	[C_SOCKET_PACKET4] = { "socket(AF_INET, SOCK_PACKET)", EPERM },
	[C_SOCKET_NETLINK_AUDIT] = { "socket(AF_NETLINK, NETLINK_AUDIT)", EPERM },
	[C_SOCKET_NETLINK_ROUTE] = { "socket(AF_NETLINK, NETLINK_ROUTE)", 0 },
	[C_SOCKET_TCP] = { "socket(AF_INET, SOCK_STREAM)", 0 },
	[C_SOCKET_UDP6] = { "socket(AF_INET6, SOCK_DGRAM|SOCK_NONBLOCK)", 0 },
	[C_SOCKET_UNIX] = { "socket(AF_UNIX)", 0 },
	[C_UNSHARE] = { "unshare(CLONE_NEWUSER)", EPERM },
	[C_SETNS] = { "setns", EPERM },
	[C_MOUNT] = { "mount", EPERM },
	[C_PTRACE] = { "ptrace", EPERM },
	[C_KEYCTL] = { "keyctl", EPERM },
	[C_BPF] = { "bpf", EPERM },
	[C_PERF] = { "perf_event_open", EPERM },
	[C_USERFAULTFD] = { "userfaultfd", EPERM },
	[C_CLONE3] = { "clone3", ENOSYS },
	[C_CLONE_NEWNET] = { "clone(CLONE_NEWNET)", EPERM },
	[C_FORK] = { "fork", 0 },
	[C_PERSONALITY_LINUX] = { "personality(PER_LINUX)", 0 },
	[C_PERSONALITY_QUERY] = { "personality(0xffffffff)", 0 },
	[C_PERSONALITY_RANDOM] = { "personality(ADDR_NO_RANDOMIZE)", EPERM },
};

static long
run_check(enum check c)
{
	long r = -1;
	pid_t pid;

	switch (c) {
	case C_SOCKET_PACKET: r = socket(AF_PACKET, SOCK_RAW, 0); break;
	case C_SOCKET_RAW4: r = socket(AF_INET, SOCK_RAW, 1); break;
	case C_SOCKET_RAW6: r = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, 58); break;
	case C_SOCKET_PACKET4: r = socket(AF_INET, SOCK_PACKET, 0); break;
	case C_SOCKET_NETLINK_AUDIT: r = socket(AF_NETLINK, SOCK_RAW, NETLINK_AUDIT); break;
	case C_SOCKET_NETLINK_ROUTE: r = socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE); break;
	case C_SOCKET_TCP: r = socket(AF_INET, SOCK_STREAM, 0); break;
	case C_SOCKET_UDP6: r = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK, 0); break;
	case C_SOCKET_UNIX: r = socket(AF_UNIX, SOCK_STREAM, 0); break;
	case C_UNSHARE: r = unshare(CLONE_NEWUSER); break;
	case C_SETNS: r = setns(0, 0); break;
	case C_MOUNT: r = syscall(SYS_mount, "none", "/", "tmpfs", 0, NULL); break;
	case C_PTRACE: r = syscall(SYS_ptrace, 0, 0, 0, 0); break;
	case C_KEYCTL: r = syscall(SYS_keyctl, 0, 0, 0, 0, 0); break;
	case C_BPF: r = syscall(SYS_bpf, 0, NULL, 0); break;
	case C_PERF: r = syscall(SYS_perf_event_open, NULL, 0, -1, -1, 0); break;
	case C_USERFAULTFD: r = syscall(SYS_userfaultfd, 0); break;
	case C_CLONE3: r = syscall(SYS_clone3, NULL, 0); break;
	case C_CLONE_NEWNET:
		r = syscall(SYS_clone, CLONE_NEWNET | SIGCHLD, NULL, NULL, NULL, 0);
		if (r == 0)
			_exit(0);
		break;
	case C_FORK:
		pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid > 0)
			waitpid(pid, NULL, 0);
		r = pid;
		break;
	case C_PERSONALITY_LINUX: r = personality(PER_LINUX); break;
	case C_PERSONALITY_QUERY: r = personality(0xffffffff); break;
	case C_PERSONALITY_RANDOM: r = personality(ADDR_NO_RANDOMIZE); break;
	case C_COUNT: break;
	}
	return r;
}

static void
test_filter(void **state)
{
	int fds[2], got[C_COUNT], status;
	pid_t pid;
	size_t i;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1 ||
		    seccomp_install() == -1)
			_exit(2);
		for (i = 0; i < C_COUNT; i++) {
			errno = 0;
			got[i] = run_check((enum check)i) == -1 ? errno : 0;
		}
		(void)!write(fds[1], got, sizeof(got));
		_exit(0);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], got, sizeof(got)), (ssize_t)sizeof(got));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	for (i = 0; i < C_COUNT; i++) {
		if (got[i] != want[i].err)
			print_error("%s: errno %d, want %d\n", want[i].name,
			    got[i], want[i].err);
		assert_int_equal(got[i], want[i].err);
	}
}

static void
test_build_bounds(void **state)
{
	struct sock_filter prog[SECCOMP_PROG_MAX];
	int n;

	(void)state;
	n = seccomp_build(prog, SECCOMP_PROG_MAX);
	assert_true(n > 10 && n < SECCOMP_PROG_MAX);
	/* Too small a buffer is refused, never overrun. */
	assert_int_equal(seccomp_build(prog, (size_t)n - 1), -1);
	assert_int_equal(errno, ENOSPC);
	/* The last instruction allows: the default for everything not listed. */
	assert_int_equal(prog[n - 1].code, BPF_RET | BPF_K);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_filter),
		cmocka_unit_test(test_build_bounds),
	};

	return cmocka_run_group_tests_name("seccomp", tests, NULL, NULL);
}
