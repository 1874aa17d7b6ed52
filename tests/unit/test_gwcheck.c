/*
 * The gateway check's parser of nf_tables rule messages
 * (gwcheck_rule_jumps, sandbox-launcher/gwcheck.c): rules built here with
 * libmnl the way the kernel dumps what iptables-nft inserted, and the ones
 * that must not pass for the gateway's jump.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nf_tables_compat.h>
#include <linux/netfilter/nfnetlink.h>

#include "gwcheck.h"

/* The expressions a test rule is made of. */
enum part {
	P_END = 0,
	P_COMMENT,		/* xt match "comment" */
	P_COUNTER,
	P_JUMP_PRE,		/* immediate jump AGENTGATE-PRE */
	P_JUMP_OTHER,		/* immediate jump to another chain */
	P_ACCEPT,		/* immediate accept */
	P_MATCH_OTHER,		/* xt match "conntrack": narrows the rule */
	P_CMP,			/* e.g. -s 198.18.0.1: narrows the rule */
	P_JUMP_DATA_REG,	/* jump data, but into a data register */
};

static void
expr_begin(struct nlmsghdr *nlh, struct nlattr **elem, struct nlattr **data,
    const char *name)
{
	*elem = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	mnl_attr_put_strz(nlh, NFTA_EXPR_NAME, name);
	*data = mnl_attr_nest_start(nlh, NFTA_EXPR_DATA);
}

static void
immediate(struct nlmsghdr *nlh, uint32_t dreg, int32_t code, const char *chain)
{
	struct nlattr *elem, *data, *idata, *verdict;

	expr_begin(nlh, &elem, &data, "immediate");
	mnl_attr_put_u32(nlh, NFTA_IMMEDIATE_DREG, htonl(dreg));
	idata = mnl_attr_nest_start(nlh, NFTA_IMMEDIATE_DATA);
	verdict = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
	mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE, htonl((uint32_t)code));
	if (chain != NULL)
		mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, chain);
	mnl_attr_nest_end(nlh, verdict);
	mnl_attr_nest_end(nlh, idata);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, elem);
}

static void
match(struct nlmsghdr *nlh, const char *name)
{
	struct nlattr *elem, *data;
	char info[256] = "agentgate: sandbox traffic";

	expr_begin(nlh, &elem, &data, "match");
	mnl_attr_put_strz(nlh, NFTA_MATCH_NAME, name);
	mnl_attr_put_u32(nlh, NFTA_MATCH_REV, htonl(0));
	mnl_attr_put(nlh, NFTA_MATCH_INFO, sizeof(info), info);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, elem);
}

static struct nlmsghdr *
rule(char *buf, const enum part *parts)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nfgenmsg *nfg;
	struct nlattr *exprs, *elem, *data;

	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = NFPROTO_IPV4;
	mnl_attr_put_strz(nlh, NFTA_RULE_TABLE, "nat");
	mnl_attr_put_strz(nlh, NFTA_RULE_CHAIN, "PREROUTING");
	exprs = mnl_attr_nest_start(nlh, NFTA_RULE_EXPRESSIONS);
	for (; *parts != P_END; parts++) {
		switch (*parts) {
		case P_COMMENT:
			match(nlh, "comment");
			break;
		case P_MATCH_OTHER:
			match(nlh, "conntrack");
			break;
		case P_COUNTER:
			expr_begin(nlh, &elem, &data, "counter");
			mnl_attr_put_u64(nlh, NFTA_COUNTER_BYTES, 0);
			mnl_attr_put_u64(nlh, NFTA_COUNTER_PACKETS, 0);
			mnl_attr_nest_end(nlh, data);
			mnl_attr_nest_end(nlh, elem);
			break;
		case P_CMP:
			expr_begin(nlh, &elem, &data, "cmp");
			mnl_attr_put_u32(nlh, NFTA_CMP_SREG, htonl(1));
			mnl_attr_nest_end(nlh, data);
			mnl_attr_nest_end(nlh, elem);
			break;
		case P_JUMP_PRE:
			immediate(nlh, NFT_REG_VERDICT, NFT_JUMP, "AGENTGATE-PRE");
			break;
		case P_JUMP_OTHER:
			immediate(nlh, NFT_REG_VERDICT, NFT_JUMP, "AGENTGATE-FWD");
			break;
		case P_ACCEPT:
			immediate(nlh, NFT_REG_VERDICT, NF_ACCEPT, NULL);
			break;
		case P_JUMP_DATA_REG:
			immediate(nlh, NFT_REG_1, NFT_JUMP, "AGENTGATE-PRE");
			break;
		case P_END:
			break;
		}
	}
	mnl_attr_nest_end(nlh, exprs);
	return nlh;
}

static void
test_rules(void **state)
{
	static const struct {
		enum part	 parts[5];
		int		 want;
		const char	*what;
	} cases[] = {
		{ { P_COMMENT, P_COUNTER, P_JUMP_PRE }, 1,
		    "iptables-nft's -m comment ... -j AGENTGATE-PRE" },
		{ { P_COUNTER, P_JUMP_PRE }, 1, "without the comment" },
		{ { P_JUMP_PRE }, 1, "the jump alone" },
		{ { P_COMMENT, P_COUNTER, P_JUMP_OTHER }, 0, "a jump to another chain" },
		{ { P_COMMENT, P_COUNTER, P_ACCEPT }, 0, "accept, no jump" },
		{ { P_CMP, P_COUNTER, P_JUMP_PRE }, 0, "a jump only for some packets (cmp)" },
		{ { P_MATCH_OTHER, P_COUNTER, P_JUMP_PRE }, 0, "a jump only for some packets (match)" },
		{ { P_COMMENT, P_COUNTER }, 0, "no jump at all" },
		{ { P_JUMP_DATA_REG }, 0, "jump data loaded into a data register" },
		{ { P_END }, 0, "no expressions" },
	};
	char buf[MNL_SOCKET_BUFFER_SIZE];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct nlmsghdr *nlh = rule(buf, cases[i].parts);

		if (gwcheck_rule_jumps(nlh, "AGENTGATE-PRE") != cases[i].want)
			fail_msg("%s: want %d", cases[i].what, cases[i].want);
	}
}

/* A message whose nested lengths lie is read no further than it is long. */
static void
test_truncated(void **state)
{
	static const enum part full[] = { P_COMMENT, P_COUNTER, P_JUMP_PRE, P_END };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	uint32_t len, cut;

	(void)state;
	nlh = rule(buf, full);
	len = nlh->nlmsg_len;
	for (cut = 0; cut < len; cut += 4) {
		nlh = rule(buf, full);
		nlh->nlmsg_len = cut;
		/* The jump is the last expression: any cut loses it. */
		assert_int_equal(gwcheck_rule_jumps(nlh, "AGENTGATE-PRE"), 0);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests_name("gwcheck", tests, NULL, NULL);
}
