/*
 * Fuzz target for agentgate-run's two parsers: a telemetry line judged for
 * a task's attempt counts (taskcount_line) and an nf_tables rule message
 * judged for the gateway's jump (gwcheck_rule_jumps). The first input byte
 * picks the parser. abort() marks a violation: a count that is not exactly
 * one increment, or a result other than 0 or 1.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>

#include "gwcheck.h"
#include "logread.h"
#include "taskcount.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
fuzz_line(const uint8_t *data, size_t size)
{
	static struct json_tokener *tok;
	struct taskcount_counts c = { 0, 0, 0 };
	int r;

	if (tok == NULL && (tok = lr_tokener_new()) == NULL)
		abort();
	r = taskcount_line(tok, (const char *)data, size, "t-42", &c);
	if (r != 0 && r != 1)
		abort();
	if (c.allowed < 0 || c.denied < 0 || c.pending < 0 ||
	    c.allowed + c.denied + c.pending != r)
		abort();
}

/* The input as the attributes of an NFT_MSG_NEWRULE message, in a buffer
 * of exactly the message's size so that a read past it is seen. */
static void
fuzz_rule(const uint8_t *data, size_t size)
{
	size_t hdr = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(struct nfgenmsg));
	struct nlmsghdr *nlh;
	uint8_t *buf;
	int r;

	if (size > 65536)
		return;
	if ((buf = calloc(1, hdr + size)) == NULL)
		abort();
	nlh = (struct nlmsghdr *)buf;
	nlh->nlmsg_len = (uint32_t)(hdr + size);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8);
	memcpy(buf + hdr, data, size);
	r = gwcheck_rule_jumps(nlh, "AGENTGATE-PRE");
	if (r != 0 && r != 1)
		abort();
	free(buf);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	if (data[0] == 'R')
		fuzz_rule(data + 1, size - 1);
	else
		fuzz_line(data + 1, size - 1);
	return 0;
}
