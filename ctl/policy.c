/*
 * `agentgatectl policy`: check policy files and explain the verdict a policy
 * gives a name or address, naming the rule (file:line and text) that decided.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "canon.h"
#include "ctl.h"
#include "policy.h"

/* Port explain uses when TARGET names none: the usual TLS port. */
#define EXPLAIN_DEFAULT_PORT	443

static void
policy_usage(FILE *out)
{
	fprintf(out,
	    "usage: agentgatectl policy check FILE|NAME...\n"
	    "       agentgatectl policy explain FILE|NAME TARGET[:PORT] [--proto tcp|udp|icmp]\n"
	    "\n"
	    "check    validate policy files; every error is printed as file:line:col: message.\n"
	    "         Exit 0 when all are valid, 1 otherwise.\n"
	    "explain  print the verdict the policy gives TARGET (a name or an IP address in\n"
	    "         any spelling; IPv6 with a port as [addr]:port) and the rule that\n"
	    "         decided it, or \"no rule matched: deny\". PORT defaults to %d, the\n"
	    "         protocol to tcp. For an ask verdict, a forever decision in\n"
	    "         STATE_DIR/approvals/POLICY.rules (--state-dir) is shown with who\n"
	    "         made it and when. Exit 0 after a verdict, 1 when the policy is invalid.\n"
	    "\n"
	    "A NAME without '/' or \".rules\" is looked up as NAME.rules in the policy folder\n"
	    "(--policy-dir). The language is described in docs/policy.md.\n",
	    EXPLAIN_DEFAULT_PORT);
}

static void
print_error(void *arg, const char *file, unsigned line, unsigned col, const char *msg)
{
	unsigned *count = arg;

	(*count)++;
	if (col > 0)
		fprintf(stderr, "%s:%u:%u: %s\n", file, line, col, msg);
	else
		fprintf(stderr, "%s:%u: %s\n", file, line, msg);
}

/* A policy argument is a file when it looks like a path or exists as one;
 * otherwise it names a policy in the policy folder. */
static struct policy *
load_policy_arg(const char *arg, const struct ctl_env *env, unsigned *errors)
{
	char path[PATH_MAX];
	struct policy *p;
	struct stat st;
	size_t len = strlen(arg);

	if (strchr(arg, '/') != NULL || (len > 6 && strcmp(arg + len - 6, ".rules") == 0) ||
	    stat(arg, &st) == 0) {
		p = policy_load_file(arg, NULL, print_error, errors);
	} else {
		if (policy_path(env->policy_dir, arg, path, sizeof(path)) == -1) {
			fprintf(stderr, "agentgatectl: '%s' is neither a file nor a valid policy name\n", arg);
			(*errors)++;
			return NULL;
		}
		p = policy_load_file(path, arg, print_error, errors);
	}
	if (p == NULL && *errors == 0) {
		/* The loader reports I/O errors through the callback too; this
		 * covers anything it could not attribute to a line. */
		fprintf(stderr, "agentgatectl: %s: %s\n", arg, strerror(errno));
		(*errors)++;
	}
	return p;
}

static int
policy_check(int argc, char **argv, const struct ctl_env *env)
{
	int i, status = CTL_EXIT_OK;

	if (argc < 1) {
		policy_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	for (i = 0; i < argc; i++) {
		unsigned errors = 0;
		struct policy *p = load_policy_arg(argv[i], env, &errors);

		if (p == NULL) {
			fprintf(stderr, "%s: invalid (%u error%s)\n", argv[i], errors,
			    errors == 1 ? "" : "s");
			status = CTL_EXIT_FAIL;
			continue;
		}
		printf("%s: ok, policy '%s', %zu rule%s\n", argv[i], policy_name(p),
		    policy_rule_count(p), policy_rule_count(p) == 1 ? "" : "s");
		policy_unref(p);
	}
	return status;
}

/* Split TARGET[:PORT]. IPv6 needs brackets to carry a port; a bare string with
 * more than one ':' is an IPv6 address without a port. */
static int
split_target(const char *arg, char *host, size_t size, uint16_t *port)
{
	const char *colon, *end;
	size_t hlen;
	char *ep;
	long v;

	*port = EXPLAIN_DEFAULT_PORT;
	if (arg[0] == '[') {
		if ((end = strchr(arg, ']')) == NULL)
			return -1;
		hlen = (size_t)(end - arg) + 1;	/* keep brackets: canon_host takes them */
		colon = end[1] == ':' ? end + 1 : NULL;
		if (end[1] != '\0' && colon == NULL)
			return -1;
	} else {
		colon = strchr(arg, ':');
		if (colon != NULL && strchr(colon + 1, ':') != NULL)
			colon = NULL;	/* bare IPv6 */
		hlen = colon ? (size_t)(colon - arg) : strlen(arg);
	}
	if (hlen == 0 || hlen >= size)
		return -1;
	memcpy(host, arg, hlen);
	host[hlen] = '\0';
	if (colon != NULL) {
		errno = 0;
		v = strtol(colon + 1, &ep, 10);
		if (colon[1] < '0' || colon[1] > '9' || *ep != '\0' || errno != 0 ||
		    v < 1 || v > 65535)
			return -1;
		*port = (uint16_t)v;
	}
	return 0;
}

static int
parse_proto(const char *s, enum policy_proto *proto)
{
	if (strcmp(s, "tcp") == 0)
		*proto = POLICY_PROTO_TCP;
	else if (strcmp(s, "udp") == 0)
		*proto = POLICY_PROTO_UDP;
	else if (strcmp(s, "icmp") == 0)
		*proto = POLICY_PROTO_ICMP;
	else
		return -1;
	return 0;
}

/* The comment block right above line `line` of path (the provenance of a
 * forever approval: who, when, which request, why), each line indented. */
static void
print_comment_above(const char *path, unsigned line)
{
	char buf[8][512];
	char text[sizeof(buf[0])];
	unsigned n = 0, i;
	size_t len;
	FILE *f;

	if (line < 2 || (f = fopen(path, "r")) == NULL)
		return;
	for (i = 1; i < line && fgets(text, sizeof(text), f) != NULL; i++) {
		len = strcspn(text, "\r\n");
		text[len] = '\0';
		if (text[strspn(text, " \t")] != '#') {
			n = 0;	/* the block must touch the rule */
			continue;
		}
		if (n == sizeof(buf) / sizeof(buf[0])) {
			memmove(buf[0], buf[1], sizeof(buf) - sizeof(buf[0]));
			n--;
		}
		memcpy(buf[n++], text, sizeof(text));
	}
	fclose(f);
	for (i = 0; i < n; i++)
		printf("          %s\n", buf[i]);
}

/*
 * An ask verdict may have been decided forever: STATE_DIR/approvals/
 * POLICY.rules, consulted only when the policy says ask, so an approval
 * never overrides a deny rule (docs/approvals.md). Prints the verdict.
 */
static void
explain_ask(const struct ctl_env *env, const struct policy *p,
    const struct policy_rule *rule, enum canon_result cr,
    const struct canon_out *co, enum policy_proto proto, uint16_t port)
{
	char dir[PATH_MAX], path[PATH_MAX];
	struct policy_verdict v;
	struct policy *ap;
	unsigned errors = 0;
	int n;

	n = snprintf(dir, sizeof(dir), "%s/approvals", env->state_dir);
	if (n < 0 || (size_t)n >= sizeof(dir) ||
	    policy_path(dir, policy_name(p), path, sizeof(path)) == -1 ||
	    access(path, F_OK) == -1) {
		printf("verdict: ask\nrule:    %s:%u: %s\n", policy_rule_file(rule),
		    policy_rule_line(rule), policy_rule_text(rule));
		return;
	}
	if ((ap = policy_load_file(path, policy_name(p), print_error,
	    &errors)) == NULL) {
		printf("verdict: ask (the approvals file %s is invalid and "
		    "ignored)\nrule:    %s:%u: %s\n", path, policy_rule_file(rule),
		    policy_rule_line(rule), policy_rule_text(rule));
		return;
	}
	v = cr == CANON_NAME ? policy_match_name(ap, co->name, proto, port) :
	    policy_match_addr(ap, &co->addr, proto, port);
	if (v.rule == NULL) {
		printf("verdict: ask\nrule:    %s:%u: %s\n", policy_rule_file(rule),
		    policy_rule_line(rule), policy_rule_text(rule));
		policy_unref(ap);
		return;
	}
	printf("verdict: %s (the policy says ask; %s forever)\n",
	    policy_action_name(v.action), v.action == POLICY_ALLOW ?
	    "approved" : "denied");
	printf("rule:    %s:%u: %s\n", policy_rule_file(rule),
	    policy_rule_line(rule), policy_rule_text(rule));
	printf("approval: %s:%u: %s\n", policy_rule_file(v.rule),
	    policy_rule_line(v.rule), policy_rule_text(v.rule));
	print_comment_above(policy_rule_file(v.rule), policy_rule_line(v.rule));
	policy_unref(ap);
}

static int
policy_explain(int argc, char **argv, const struct ctl_env *env)
{
	static const struct option opts[] = {
		{ "proto", required_argument, NULL, 'p' },
		{ "help",  no_argument,	      NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	enum policy_proto proto = POLICY_PROTO_TCP;
	char host[CANON_NAME_MAX * 4 + 3], addrbuf[AG_ADDR_STRLEN];
	struct policy_verdict v;
	struct canon_out co;
	enum canon_result cr;
	struct policy *p;
	unsigned errors = 0;
	uint16_t port;
	int c;

	/* Options may follow the operands: `explain FILE TARGET --proto udp`. */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			if (parse_proto(optarg, &proto) == -1) {
				fprintf(stderr, "agentgatectl: unknown protocol '%s' (tcp, udp or icmp)\n", optarg);
				return CTL_EXIT_USAGE;
			}
			break;
		case 'h':
			policy_usage(stdout);
			return CTL_EXIT_OK;
		default:
			policy_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 2) {
		policy_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (split_target(argv[1], host, sizeof(host), &port) == -1) {
		fprintf(stderr, "agentgatectl: bad target '%s': expected NAME, ADDRESS, NAME:PORT or [IPv6]:PORT with PORT 1-65535\n", argv[1]);
		return CTL_EXIT_USAGE;
	}
	if ((p = load_policy_arg(argv[0], env, &errors)) == NULL)
		return CTL_EXIT_FAIL;

	cr = canon_host(host, strlen(host), &co);
	switch (cr) {
	case CANON_NAME:
		v = policy_match_name(p, co.name, proto, port);
		printf("target:  %s (name) %s/%u\n", co.name, policy_proto_name(proto), port);
		break;
	case CANON_ADDRESS:
		v = policy_match_addr(p, &co.addr, proto, port);
		printf("target:  %s (address) %s/%u\n", addr_format(&co.addr, addrbuf, sizeof(addrbuf)),
		    policy_proto_name(proto), port);
		break;
	default:
		printf("target:  invalid name: %s\n", canon_strerror(cr));
		printf("verdict: deny (invalid names are always denied)\n");
		policy_unref(p);
		return CTL_EXIT_OK;
	}
	printf("policy:  %s\n", policy_name(p));
	if (v.rule == NULL) {
		printf("verdict: deny\nrule:    no rule matched: deny\n");
	} else if (v.action == POLICY_ASK) {
		explain_ask(env, p, v.rule, cr, &co, proto, port);
	} else {
		printf("verdict: %s\nrule:    %s:%u: %s\n", policy_action_name(v.action),
		    policy_rule_file(v.rule), policy_rule_line(v.rule), policy_rule_text(v.rule));
	}
	policy_unref(p);
	return CTL_EXIT_OK;
}

int
cmd_policy(int argc, char **argv, const struct ctl_env *env)
{
	if (argc < 2) {
		policy_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		policy_usage(stdout);
		return CTL_EXIT_OK;
	}
	if (strcmp(argv[1], "check") == 0) {
		int i;

		for (i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
				policy_usage(stdout);
				return CTL_EXIT_OK;
			}
		}
		return policy_check(argc - 2, argv + 2, env);
	}
	if (strcmp(argv[1], "explain") == 0)
		return policy_explain(argc - 1, argv + 1, env);
	fprintf(stderr, "agentgatectl: unknown policy command '%s'\n", argv[1]);
	policy_usage(stderr);
	return CTL_EXIT_USAGE;
}
