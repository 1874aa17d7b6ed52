/*
 * agentgatectl: the admin's and incident responder's tool. This file resolves
 * the global options into a ctl_env and dispatches to one cmd_* per command.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "log.h"

struct ctl_command {
	const char	*name;
	int		(*run)(int, char **, const struct ctl_env *);
	const char	*summary;
};

/* Sorted by name; looked up exactly, never by prefix. */
static const struct ctl_command commands[] = {
	{ "log",	cmd_log,	"query, follow and verify the egress telemetry" },
	{ "policy",	cmd_policy,	"check policy files and explain verdicts" },
	{ "report",	cmd_report,	"one task's compliance summary (Markdown or HTML)" },
};

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out,
	    "usage: agentgatectl [options] COMMAND [ARGS...]\n"
	    "\n"
	    "options:\n"
	    "  --log-dir DIR      telemetry folder (default %s)\n"
	    "  --policy-dir DIR   named policies, NAME.rules (default %s)\n"
	    "  --run-dir DIR      runtime state (default %s)\n"
	    "  --state-dir DIR    approvals and other lasting state (default %s)\n"
	    "  -h, --help         this help; `agentgatectl COMMAND --help` for a command\n"
	    "\n"
	    "commands:\n",
	    AG_LOCALSTATEDIR "/log/agentgate", AG_SYSCONFDIR "/policies",
	    AG_RUNSTATEDIR, AG_LOCALSTATEDIR "/lib/agentgate");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
	    "\n"
	    "exit status: 0 success, 1 findings (invalid policy, broken log chain),\n"
	    "2 usage error.\n");
}

int
main(int argc, char **argv)
{
	enum { OPT_LOG_DIR = 256, OPT_POLICY_DIR, OPT_RUN_DIR, OPT_STATE_DIR };
	static const struct option opts[] = {
		{ "log-dir",	required_argument, NULL, OPT_LOG_DIR },
		{ "policy-dir",	required_argument, NULL, OPT_POLICY_DIR },
		{ "run-dir",	required_argument, NULL, OPT_RUN_DIR },
		{ "state-dir",	required_argument, NULL, OPT_STATE_DIR },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_env env = {
		.config = AG_SYSCONFDIR "/agentgate.conf",
		.log_dir = AG_LOCALSTATEDIR "/log/agentgate",
		.policy_dir = AG_SYSCONFDIR "/policies",
		.run_dir = AG_RUNSTATEDIR,
		.state_dir = AG_LOCALSTATEDIR "/lib/agentgate",
	};
	size_t i;
	int c;

	log_init("agentgatectl", LOG_LEVEL_INFO, 0);
	/* '+': options after the command belong to the command. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_LOG_DIR:	env.log_dir = optarg; break;
		case OPT_POLICY_DIR:	env.policy_dir = optarg; break;
		case OPT_RUN_DIR:	env.run_dir = optarg; break;
		case OPT_STATE_DIR:	env.state_dir = optarg; break;
		case 'h':
			usage(stdout);
			return CTL_EXIT_OK;
		default:
			usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0) {
		usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[0], "help") == 0) {
		usage(stdout);
		return CTL_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) == 0) {
			optind = 0;	/* each command parses its own options afresh */
			return commands[i].run(argc, argv, &env);
		}
	}
	fprintf(stderr, "agentgatectl: unknown command '%s'\n", argv[0]);
	usage(stderr);
	return CTL_EXIT_USAGE;
}
