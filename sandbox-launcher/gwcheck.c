/*
 * The gateway-up check. First without forking: an nf_tables rule dump of
 * the two base chains over netlink, looking for an unconditional jump into
 * our chains; when that does not find them (the legacy iptables backend, or
 * really missing) `iptables -C`, the test agentgatectl gateway up makes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>

#include "gwcheck.h"

/* Exit status of iptables when it could not be executed at all. */
#define NOEXEC_STATUS	127

static const struct gw_jump {
	const char	*prog, *table, *chain, *target, *name;
	uint8_t		 family;
} jumps[] = {
	{ "iptables", "nat", "PREROUTING", "AGENTGATE-PRE", "IPv4 nat AGENTGATE-PRE", NFPROTO_IPV4 },
	{ "iptables", "filter", "FORWARD", "AGENTGATE-FWD", "IPv4 filter AGENTGATE-FWD", NFPROTO_IPV4 },
	{ "ip6tables", "nat", "PREROUTING", "AGENTGATE-PRE", "IPv6 nat AGENTGATE-PRE", NFPROTO_IPV6 },
	{ "ip6tables", "filter", "FORWARD", "AGENTGATE-FWD", "IPv6 filter AGENTGATE-FWD", NFPROTO_IPV6 },
};
#define NJUMPS	(sizeof(jumps) / sizeof(jumps[0]))

/* What one expression of a rule is, for gwcheck_rule_jumps. */
struct expr_scan {
	const char	*target;
	bool		 jump;		/* an immediate jump to target */
	bool		 other;		/* anything that is not counter/comment */
};

static int
verdict_cb(const struct nlattr *a, void *arg)
{
	const struct nlattr **tb = arg;
	int type = mnl_attr_get_type(a);

	if (type == NFTA_VERDICT_CODE && mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return MNL_CB_ERROR;
	if (type == NFTA_VERDICT_CHAIN &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
		return MNL_CB_ERROR;
	if (type == NFTA_VERDICT_CODE || type == NFTA_VERDICT_CHAIN)
		tb[type] = a;
	return MNL_CB_OK;
}

/* NFTA_EXPR_DATA of an "immediate": a jump to s->target? */
static void
immediate_scan(const struct nlattr *data, struct expr_scan *s)
{
	const struct nlattr *a, *d, *tb[NFTA_VERDICT_CHAIN + 1] = { NULL };
	bool verdict_reg = false;

	mnl_attr_for_each_nested(a, data) {
		if (mnl_attr_get_type(a) == NFTA_IMMEDIATE_DREG &&
		    mnl_attr_validate(a, MNL_TYPE_U32) == 0 &&
		    ntohl(mnl_attr_get_u32(a)) == NFT_REG_VERDICT)
			verdict_reg = true;
		if (mnl_attr_get_type(a) != NFTA_IMMEDIATE_DATA ||
		    mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			continue;
		mnl_attr_for_each_nested(d, a)
			if (mnl_attr_get_type(d) == NFTA_DATA_VERDICT &&
			    mnl_attr_validate(d, MNL_TYPE_NESTED) == 0 &&
			    mnl_attr_parse_nested(d, verdict_cb, tb) < 0)
				return;
	}
	if (verdict_reg && tb[NFTA_VERDICT_CODE] != NULL &&
	    tb[NFTA_VERDICT_CHAIN] != NULL &&
	    (int32_t)ntohl(mnl_attr_get_u32(tb[NFTA_VERDICT_CODE])) == NFT_JUMP &&
	    strcmp(mnl_attr_get_str(tb[NFTA_VERDICT_CHAIN]), s->target) == 0)
		s->jump = true;
	else
		s->other = true;
}

/* One NFTA_LIST_ELEM of NFTA_RULE_EXPRESSIONS. */
static void
expr_scan(const struct nlattr *elem, struct expr_scan *s)
{
	const struct nlattr *a, *m, *name = NULL, *data = NULL;
	const char *n;

	mnl_attr_for_each_nested(a, elem) {
		if (mnl_attr_get_type(a) == NFTA_EXPR_NAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			name = a;
		else if (mnl_attr_get_type(a) == NFTA_EXPR_DATA &&
		    mnl_attr_validate(a, MNL_TYPE_NESTED) == 0)
			data = a;
	}
	if (name == NULL) {
		s->other = true;
		return;
	}
	n = mnl_attr_get_str(name);
	/* A counter and a comment match never narrow a rule. */
	if (strcmp(n, "counter") == 0)
		return;
	if (strcmp(n, "immediate") == 0 && data != NULL) {
		immediate_scan(data, s);
		return;
	}
	if (strcmp(n, "match") == 0 && data != NULL) {
		mnl_attr_for_each_nested(m, data)
			if (mnl_attr_get_type(m) == NFTA_MATCH_NAME &&
			    mnl_attr_validate(m, MNL_TYPE_NUL_STRING) == 0 &&
			    strcmp(mnl_attr_get_str(m), "comment") == 0)
				return;
	}
	s->other = true;
}

int
gwcheck_rule_jumps(const struct nlmsghdr *nlh, const char *target)
{
	const struct nlattr *a, *e;
	struct expr_scan s = { target, false, false };

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(struct nfgenmsg)))
		return 0;
	mnl_attr_for_each(a, nlh, sizeof(struct nfgenmsg)) {
		if (mnl_attr_get_type(a) != NFTA_RULE_EXPRESSIONS ||
		    mnl_attr_validate(a, MNL_TYPE_NESTED) < 0)
			continue;
		mnl_attr_for_each_nested(e, a) {
			if (mnl_attr_get_type(e) != NFTA_LIST_ELEM ||
			    mnl_attr_validate(e, MNL_TYPE_NESTED) < 0) {
				s.other = true;
				continue;
			}
			expr_scan(e, &s);
		}
	}
	return s.jump && !s.other;
}

struct dump_state {
	const char	*target;
	bool		 found;
};

static int
rule_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct dump_state *d = arg;

	if (gwcheck_rule_jumps(nlh, d->target))
		d->found = true;
	return MNL_CB_OK;
}

/* Dump the rules of one base chain: 1 when the jump is there, 0 when not
 * (or the table or chain does not exist), -1 with errno. */
static int
nft_has_jump(struct mnl_socket *nl, unsigned portid, unsigned seq,
    const struct gw_jump *j)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;
	struct dump_state d = { j->target, false };
	ssize_t n;
	int ret;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_GETRULE;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = j->family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	/* The kernel dumps only the rules of this table and chain. */
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, j->table);
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, j->chain);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) == -1)
		return -1;
	for (;;) {
		n = mnl_socket_recvfrom(nl, buf, sizeof(buf));
		if (n == -1)
			return -1;
		ret = mnl_cb_run(buf, (size_t)n, seq, portid, rule_cb, &d);
		if (ret == MNL_CB_ERROR)
			return errno == ENOENT ? 0 : -1;
		if (ret == MNL_CB_STOP)
			return d.found;
	}
}

/* 0 when every jump is in nf_tables, -1 otherwise (missing or unknown:
 * the caller asks iptables). */
static int
nft_check(void)
{
	struct mnl_socket *nl;
	unsigned portid, seq = (unsigned)time(NULL);
	size_t i;
	int ret = 0;

	nl = mnl_socket_open2(NETLINK_NETFILTER, SOCK_CLOEXEC);
	if (nl == NULL)
		return -1;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		mnl_socket_close(nl);
		return -1;
	}
	portid = mnl_socket_get_portid(nl);
	for (i = 0; i < NJUMPS && ret == 0; i++)
		if (nft_has_jump(nl, portid, seq + (unsigned)i, &jumps[i]) != 1)
			ret = -1;
	mnl_socket_close(nl);
	return ret;
}

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
	size_t i;
	int st;

	*what = "nf_tables";
	if (nft_check() == 0)
		return 0;
	for (i = 0; i < NJUMPS; i++) {
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
