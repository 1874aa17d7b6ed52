/*
 * agentgatectl: the admin's and incident responder's tool. This file resolves
 * the global options into a ctl_env and dispatches to one cmd_* per command.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "conf.h"
#include "ctl.h"
#include "log.h"

struct ctl_command {
	const char	*name;
	int		(*run)(int, char **, const struct ctl_env *);
	const char	*summary;
};

/* Sorted by name; looked up exactly, never by prefix. */
static const struct ctl_command commands[] = {
	{ "approvals",	cmd_approvals,	"list, watch, approve and deny the proxy's approval requests" },
	{ "gateway",	cmd_gateway,	"install, remove and show the gateway's firewall rules" },
	{ "log",	cmd_log,	"query, follow and verify the egress telemetry" },
	{ "policy",	cmd_policy,	"check policy files and explain verdicts" },
	{ "report",	cmd_report,	"one task's compliance summary (Markdown or HTML)" },
	{ "task",	cmd_task,	"register, list and prune sandbox tasks (source address -> policy)" },
};

static void
usage(FILE *out)
{
	size_t i;

	fprintf(out,
	    "usage: agentgatectl [options] COMMAND [ARGS...]\n"
	    "\n"
	    "options:\n"
	    "  --config FILE      settings file (default %s; a missing default is fine)\n"
	    "  --log-dir DIR      telemetry folder (default %s)\n"
	    "  --policy-dir DIR   named policies, NAME.rules (default %s)\n"
	    "  --run-dir DIR      runtime state (default %s)\n"
	    "  --state-dir DIR    approvals and other lasting state (default %s)\n"
	    "  -h, --help         this help; `agentgatectl COMMAND --help` for a command\n"
	    "\n"
	    "commands:\n",
	    AG_SYSCONFDIR "/agentgate.conf", AG_LOCALSTATEDIR "/log/agentgate", AG_SYSCONFDIR "/policies",
	    AG_RUNSTATEDIR, AG_LOCALSTATEDIR "/lib/agentgate");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
	    "\n"
	    "Folders come from the flags, else the settings file, else the defaults.\n"
	    "\n"
	    "exit status: 0 success, 1 findings (invalid policy, broken log chain),\n"
	    "2 usage error.\n");
}

int
main(int argc, char **argv)
{
	enum { OPT_LOG_DIR = 256, OPT_POLICY_DIR, OPT_RUN_DIR, OPT_STATE_DIR, OPT_CONFIG };
	static const struct option opts[] = {
		{ "config",	required_argument, NULL, OPT_CONFIG },
		{ "log-dir",	required_argument, NULL, OPT_LOG_DIR },
		{ "policy-dir",	required_argument, NULL, OPT_POLICY_DIR },
		{ "run-dir",	required_argument, NULL, OPT_RUN_DIR },
		{ "state-dir",	required_argument, NULL, OPT_STATE_DIR },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *flag_log = NULL, *flag_policy = NULL, *flag_run = NULL, *flag_state = NULL;
	const char *config = AG_SYSCONFDIR "/agentgate.conf";
	int config_given = 0, status = CTL_EXIT_USAGE;
	struct ctl_env env;
	struct ag_conf conf;
	size_t i;
	int c;

	log_init("agentgatectl", LOG_LEVEL_INFO, 0);
	/* '+': options after the command belong to the command. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:	config = optarg; config_given = 1; break;
		case OPT_LOG_DIR:	flag_log = optarg; break;
		case OPT_POLICY_DIR:	flag_policy = optarg; break;
		case OPT_RUN_DIR:	flag_run = optarg; break;
		case OPT_STATE_DIR:	flag_state = optarg; break;
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
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			break;
	if (i == sizeof(commands) / sizeof(commands[0])) {
		fprintf(stderr, "agentgatectl: unknown command '%s'\n", argv[0]);
		usage(stderr);
		return CTL_EXIT_USAGE;
	}

	if (conf_init(&conf) == -1)
		fatal("settings");
	if (conf_read(&conf, config, config_given) == -1) {
		status = CTL_EXIT_FAIL;
		goto out;
	}
	env.config = config;
	env.log_dir = flag_log ? flag_log : conf.log_dir;
	env.policy_dir = flag_policy ? flag_policy : conf.policy_dir;
	env.run_dir = flag_run ? flag_run : conf.run_dir;
	env.state_dir = flag_state ? flag_state : conf.state_dir;
	env.conf = &conf;
	optind = 0;	/* each command parses its own options afresh */
	status = commands[i].run(argc, argv, &env);
out:
	conf_free(&conf);
	return status;
}
