/*
 * The gateway-up check: `iptables -C` for the jumps into our chains, the
 * same test agentgatectl gateway up makes before inserting them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gwcheck.h"

/* Exit status of iptables when it could not be executed at all. */
#define NOEXEC_STATUS	127

static int
run_quiet(char *const argv[])
{
	int status, fd;
	pid_t pid;

	pid = fork();
	if (pid == -1)
		return -1;
	if (pid == 0) {
		fd = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (fd != -1) {
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execvp(argv[0], argv);
		_exit(NOEXEC_STATUS);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (!WIFEXITED(status))
		return NOEXEC_STATUS;
	return WEXITSTATUS(status);
}

int
gwcheck_rules(const char **what)
{
	static const struct {
		const char	*prog, *table, *chain, *target, *name;
	} jumps[] = {
		{ "iptables", "nat", "PREROUTING", "AGENTGATE-PRE", "IPv4 nat AGENTGATE-PRE" },
		{ "iptables", "filter", "FORWARD", "AGENTGATE-FWD", "IPv4 filter AGENTGATE-FWD" },
		{ "ip6tables", "nat", "PREROUTING", "AGENTGATE-PRE", "IPv6 nat AGENTGATE-PRE" },
		{ "ip6tables", "filter", "FORWARD", "AGENTGATE-FWD", "IPv6 filter AGENTGATE-FWD" },
	};
	size_t i;
	int st;

	for (i = 0; i < sizeof(jumps) / sizeof(jumps[0]); i++) {
		/* The comment is GATEWAY_JUMP_COMMENT of ctl/gateway_rules.h. */
		char *const argv[] = {
			(char *)jumps[i].prog, (char *)"-w", (char *)"-t",
			(char *)jumps[i].table, (char *)"-C", (char *)jumps[i].chain,
			(char *)"-m", (char *)"comment", (char *)"--comment",
			(char *)"agentgate: sandbox traffic", (char *)"-j",
			(char *)jumps[i].target, NULL
		};

		*what = jumps[i].prog;
		st = run_quiet(argv);
		if (st == -1)
			return -1;
		if (st == NOEXEC_STATUS) {
			errno = ENOEXEC;
			return -1;
		}
		if (st != 0) {
			*what = jumps[i].name;
			errno = ENOENT;
			return -1;
		}
	}
	return 0;
}
