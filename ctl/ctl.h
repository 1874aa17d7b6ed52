/*
 * agentgatectl: shared context of its subcommands. main.c resolves the paths
 * (flags, then configuration, then built-in defaults) and passes them down;
 * each subcommand is one cmd_* entry point returning the exit status.
 */
#ifndef AG_CTL_H
#define AG_CTL_H

struct ag_conf;

/* Exit statuses every subcommand uses. */
#define CTL_EXIT_OK	 0
#define CTL_EXIT_FAIL	 1	/* findings: invalid policy, broken chain, denied */
#define CTL_EXIT_USAGE	 2	/* bad command line */

struct ctl_env {
	const char	*config;	/* agentgate.conf */
	const char	*log_dir;	/* telemetry folder */
	const char	*policy_dir;	/* named policies: NAME.rules */
	const char	*run_dir;	/* runtime state: tasks/, control socket */
	const char	*state_dir;	/* approvals and other state that outlives restarts */
	const struct ag_conf *conf;	/* every setting of agentgate.conf, flags applied */
};

int cmd_approvals(int argc, char **argv, const struct ctl_env *env);
int cmd_policy(int argc, char **argv, const struct ctl_env *env);
int cmd_log(int argc, char **argv, const struct ctl_env *env);
int cmd_report(int argc, char **argv, const struct ctl_env *env);
int cmd_task(int argc, char **argv, const struct ctl_env *env);
int cmd_gateway(int argc, char **argv, const struct ctl_env *env);

#endif
