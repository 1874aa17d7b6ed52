/*
 * proxy/approval*.c: the approval store (joining, the per-task cap, the
 * first decision winning, scopes, expiry on a fake clock), the synthetic
 * address map, the scope parser and the forever file.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "approval.h"
#include "approval_file.h"
#include "approval_pool.h"
#include "conf.h"
#include "dnsjudge.h"
#include "dnsmsg.h"
#include "log.h"
#include "policy.h"

/* ---- fixtures ---- */

struct fx {
	struct ag_conf		 conf;
	struct approvals	*a;
	uint64_t		 now;
	char			 dir[64];
	/* what observers and wake functions saw */
	int			 ev[3];
	char			 last_id[APPROVAL_ID_LEN + 1];
	unsigned		 last_nconns;
	enum approval_state	 last_state;
	int			 woken[3];
	char			 woken_reason[64];
};

static uint64_t
fake_now(void *arg)
{
	return ((struct fx *)arg)->now;
}

static void
observe(void *arg, enum approval_event ev, const struct approval_info *i)
{
	struct fx *f = arg;

	f->ev[ev]++;
	snprintf(f->last_id, sizeof(f->last_id), "%s", i->id);
	f->last_nconns = i->nconns;
	f->last_state = i->state;
}

static void
wake(void *arg, enum approval_outcome out, const char *id, const char *reason)
{
	struct fx *f = arg;

	f->woken[out]++;
	snprintf(f->woken_reason, sizeof(f->woken_reason), "%s", reason ? reason : "");
}

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	assert_int_equal(conf_init(&f->conf), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/agentgate-approval-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(conf_set_path(&f->conf.state_dir, f->dir), 0);
	f->conf.approval_timeout_ms = 120000;
	f->conf.approval_max_pending = 3;
	assert_non_null(f->a = approvals_new(NULL, &f->conf));
	f->now = 1000000;
	approvals_set_clock(f->a, fake_now, f);
	assert_int_equal(approvals_observe(f->a, observe, f), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];

	approvals_free(f->a);
	conf_free(&f->conf);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static struct approval_request_key
key(const char *task, const char *name, uint16_t port)
{
	return (struct approval_request_key){ .task_id = task, .policy = "dev",
	    .trace_id = "trace-1", .name = name, .proto = "tcp", .port = port };
}

static struct approval_hold *
hold(struct fx *f, const char *task, const char *name, uint16_t port, bool *created)
{
	struct approval_request_key k = key(task, name, port);

	return approvals_hold(f->a, &k, wake, f, created);
}

static struct approval_hold *
hold_any(struct fx *f, const char *task, const char *name, uint16_t port,
    approval_wake_fn fn, void *arg, bool *created)
{
	struct approval_request_key k = key(task, name, port);

	return approvals_hold(f->a, &k, fn, arg, created);
}

static enum approval_verdict
check(struct fx *f, const char *task, const char *policy, const char *name, uint16_t port)
{
	struct approval_check c;

	approvals_check(f->a, task, policy, name, port, "tcp", &c);
	return c.verdict;
}

static int
decide(struct fx *f, const char *id, bool allow, enum approval_scope scope,
    uint64_t ms, const char *reason)
{
	struct approval_decision d = { .allow = allow, .scope = scope,
	    .duration_ms = ms, .decider = "alice (uid 1000)", .reason = reason };

	return approvals_decide(f->a, id, &d);
}

/* ---- scope parser ---- */

static void
test_scope_parse(void **state)
{
	static const struct {
		const char		*in;
		int			 rc;
		enum approval_scope	 scope;
		uint64_t		 ms;
	} cases[] = {
		{ "once", 0, APPROVAL_ONCE, 0 },
		{ "task", 0, APPROVAL_TASK, 0 },
		{ "forever", 0, APPROVAL_FOREVER, 0 },
		{ "90s", 0, APPROVAL_DURATION, 90000 },
		{ "8h", 0, APPROVAL_DURATION, 28800000 },
		{ "1w", 0, APPROVAL_DURATION, 604800000 },
		{ "0s", -1, 0, 0 },	/* a scope that ends at once is no scope */
		{ "0", -1, 0, 0 },
		{ "", -1, 0, 0 },
		{ "Once", -1, 0, 0 },
		{ "onc", -1, 0, 0 },	/* never a prefix */
		{ "forever ", -1, 0, 0 },
		{ "8", -1, 0, 0 },
		{ "-1h", -1, 0, 0 },
		{ "duration", -1, 0, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum approval_scope s = APPROVAL_ONCE;
		uint64_t ms = 7;
		int rc = approval_scope_parse(cases[i].in, &s, &ms);

		if (rc != cases[i].rc)
			fail_msg("'%s': rc %d, want %d", cases[i].in, rc, cases[i].rc);
		if (rc == 0 && (s != cases[i].scope || ms != cases[i].ms))
			fail_msg("'%s': scope %d ms %llu", cases[i].in, (int)s,
			    (unsigned long long)ms);
		if (rc == -1)
			assert_int_equal(errno, EINVAL);
	}
	assert_string_equal(approval_scope_name(APPROVAL_DURATION), "duration");
	assert_string_equal(approval_scope_name(APPROVAL_FOREVER), "forever");
	assert_string_equal(approval_state_name(APPROVAL_PENDING), "pending");
	assert_string_equal(approval_state_name(APPROVAL_EXPIRED), "expired");
}

/* ---- the store ---- */

static void
test_join(void **state)
{
	struct fx *f = *state;
	struct approval_hold *h1, *h2, *h3, *h4;
	bool created;
	char id[APPROVAL_ID_LEN + 1];

	assert_non_null(h1 = hold(f, "t1", "example.test", 443, &created));
	assert_true(created);
	assert_int_equal(f->ev[APPROVAL_EV_REQUESTED], 1);
	assert_int_equal(f->last_nconns, 1);
	snprintf(id, sizeof(id), "%s", approval_hold_id(h1));
	assert_int_equal(strlen(id), APPROVAL_ID_LEN);
	assert_int_equal(strspn(id, "0123456789abcdef"), APPROVAL_ID_LEN);
	assert_string_equal(f->last_id, id);

	/* Same (task, name, port, proto): one request. */
	assert_non_null(h2 = hold(f, "t1", "example.test", 443, &created));
	assert_false(created);
	assert_string_equal(approval_hold_id(h2), id);
	assert_int_equal(f->ev[APPROVAL_EV_REQUESTED], 1);
	/* Another port, another task: requests of their own. */
	assert_non_null(h3 = hold(f, "t1", "example.test", 22, &created));
	assert_true(created);
	assert_string_not_equal(approval_hold_id(h3), id);
	assert_non_null(h4 = hold(f, "t2", "example.test", 443, &created));
	assert_true(created);
	assert_int_equal(f->ev[APPROVAL_EV_REQUESTED], 3);

	/* A connection that ends first leaves its request pending. */
	approvals_release(f->a, h2);
	assert_int_equal(decide(f, id, true, APPROVAL_ONCE, 0, NULL), 0);
	assert_int_equal(f->woken[APPROVAL_OUT_ALLOW], 1);	/* h1 only */
	assert_int_equal(f->last_state, APPROVAL_ALLOWED);
	approvals_release(f->a, h3);
	approvals_release(f->a, h4);
}

static void
test_cap(void **state)
{
	struct fx *f = *state;
	bool created;

	/* approval_max_pending is 3 in the fixture. */
	assert_non_null(hold(f, "t1", "a.test", 443, &created));
	assert_non_null(hold(f, "t1", "b.test", 443, &created));
	assert_non_null(hold(f, "t1", "c.test", 443, &created));
	errno = 0;
	assert_null(hold(f, "t1", "d.test", 443, &created));
	assert_int_equal(errno, EDQUOT);
	assert_false(created);
	/* Joining an existing request is not a new one; other tasks are free. */
	assert_non_null(hold(f, "t1", "b.test", 443, &created));
	assert_false(created);
	assert_non_null(hold(f, "t2", "d.test", 443, &created));
	assert_true(created);
	/* Bad keys. */
	assert_null(hold(f, "", "e.test", 443, &created));
	assert_int_equal(errno, EINVAL);
	assert_null(hold(f, "t3", "", 443, &created));
	assert_int_equal(errno, EINVAL);
}

struct list_ctx {
	char		 ids[8][APPROVAL_ID_LEN + 1];
	enum approval_state st[8];
	unsigned	 n;
};

static void
list_cb(void *arg, const struct approval_info *i)
{
	struct list_ctx *l = arg;

	if (l->n < 8) {
		snprintf(l->ids[l->n], sizeof(l->ids[0]), "%s", i->id);
		l->st[l->n] = i->state;
	}
	l->n++;
}

static void
test_first_decision_wins(void **state)
{
	struct fx *f = *state;
	struct approval_hold *h1, *h2;
	struct list_ctx l = { .n = 0 };
	char id1[APPROVAL_ID_LEN + 1], id2[APPROVAL_ID_LEN + 1];
	bool created;

	assert_non_null(h1 = hold(f, "t1", "one.test", 443, &created));
	assert_non_null(h2 = hold(f, "t1", "two.test", 443, &created));
	snprintf(id1, sizeof(id1), "%s", approval_hold_id(h1));
	snprintf(id2, sizeof(id2), "%s", approval_hold_id(h2));
	assert_int_equal(decide(f, id1, false, APPROVAL_ONCE, 0, "not today"), 0);
	assert_int_equal(f->woken[APPROVAL_OUT_DENY], 1);
	assert_string_equal(f->woken_reason, "not today");
	assert_int_equal(f->ev[APPROVAL_EV_DECIDED], 1);
	errno = 0;
	assert_int_equal(decide(f, id1, true, APPROVAL_ONCE, 0, NULL), -1);
	assert_int_equal(errno, EALREADY);
	assert_int_equal(f->ev[APPROVAL_EV_DECIDED], 1);
	assert_int_equal(f->woken[APPROVAL_OUT_ALLOW], 0);
	assert_int_equal(decide(f, "00000000", true, APPROVAL_ONCE, 0, NULL), -1);
	assert_int_equal(errno, ENOENT);
	/* A decision without a decider, or a 0 ms duration, is refused. */
	{
		struct approval_decision d = { .allow = true, .scope = APPROVAL_ONCE };

		assert_int_equal(approvals_decide(f->a, id2, &d), -1);
		assert_int_equal(errno, EINVAL);
	}
	assert_int_equal(decide(f, id2, true, APPROVAL_DURATION, 0, NULL), -1);
	assert_int_equal(errno, EINVAL);
	/* Listing: pending first, then decided. */
	approvals_foreach(f->a, list_cb, &l);
	assert_int_equal(l.n, 2);
	assert_string_equal(l.ids[0], id2);
	assert_int_equal(l.st[0], APPROVAL_PENDING);
	assert_string_equal(l.ids[1], id1);
	assert_int_equal(l.st[1], APPROVAL_DENIED);
}

static bool
only_t2_alive(void *arg, const char *task_id)
{
	return strcmp(task_id, "t2") == 0;
}

static void
test_scope_once_and_task(void **state)
{
	struct fx *f = *state;
	struct approval_hold *h;
	bool created;

	/* once: the held connections only; the next one asks again. */
	assert_non_null(h = hold(f, "t1", "once.test", 443, &created));
	assert_int_equal(decide(f, approval_hold_id(h), true, APPROVAL_ONCE, 0, NULL), 0);
	assert_int_equal(check(f, "t1", "dev", "once.test", 443), APPROVAL_ASK);
	assert_int_equal(approvals_check_name(f->a, "t1", "dev", "once.test"), APPROVAL_ASK);

	/* task: that task, that name, port and proto, until the task goes. */
	assert_non_null(h = hold(f, "t1", "task.test", 443, &created));
	{
		struct approval_check c;
		char id[APPROVAL_ID_LEN + 1];

		snprintf(id, sizeof(id), "%s", approval_hold_id(h));
		assert_int_equal(decide(f, id, true, APPROVAL_TASK, 0, NULL), 0);
		approvals_check(f->a, "t1", "dev", "task.test", 443, "tcp", &c);
		assert_int_equal(c.verdict, APPROVAL_GRANTED);
		assert_string_equal(c.id, id);
		assert_null(c.rule_file);
	}
	assert_int_equal(check(f, "t2", "dev", "task.test", 443), APPROVAL_ASK);
	assert_int_equal(check(f, "t1", "dev", "task.test", 80), APPROVAL_ASK);
	assert_int_equal(check(f, "t1", "dev", "other.test", 443), APPROVAL_ASK);

	/* A task-scoped denial: REFUSED, and DNS for the name is refused. */
	assert_non_null(h = hold(f, "t1", "bad.test", 22, &created));
	assert_int_equal(decide(f, approval_hold_id(h), false, APPROVAL_TASK, 0, NULL), 0);
	assert_int_equal(check(f, "t1", "dev", "bad.test", 22), APPROVAL_REFUSED);
	assert_int_equal(approvals_check_name(f->a, "t1", "dev", "bad.test"), APPROVAL_REFUSED);
	assert_int_equal(approvals_check_name(f->a, "t2", "dev", "bad.test"), APPROVAL_ASK);

	/* The task leaves the registry: its decisions end. */
	approvals_tasks_gone(f->a, only_t2_alive, NULL);
	assert_int_equal(check(f, "t1", "dev", "task.test", 443), APPROVAL_ASK);
	assert_int_equal(approvals_check_name(f->a, "t1", "dev", "bad.test"), APPROVAL_ASK);
}

static void
test_scope_duration(void **state)
{
	struct fx *f = *state;
	struct approval_hold *h;
	bool created;

	assert_non_null(h = hold(f, "t1", "dur.test", 443, &created));
	assert_int_equal(decide(f, approval_hold_id(h), true, APPROVAL_DURATION, 60000, NULL), 0);
	/* That policy, across tasks; not another policy. */
	assert_int_equal(check(f, "t1", "dev", "dur.test", 443), APPROVAL_GRANTED);
	assert_int_equal(check(f, "t9", "dev", "dur.test", 443), APPROVAL_GRANTED);
	assert_int_equal(check(f, "t9", "prod", "dur.test", 443), APPROVAL_ASK);
	f->now += 59999;
	assert_int_equal(check(f, "t9", "dev", "dur.test", 443), APPROVAL_GRANTED);
	f->now += 1;
	assert_int_equal(check(f, "t9", "dev", "dur.test", 443), APPROVAL_ASK);
	approvals_tick(f->a);	/* and it is dropped */
	assert_int_equal(check(f, "t9", "dev", "dur.test", 443), APPROVAL_ASK);

	/* The narrower scope wins: a task denial over a policy approval. */
	assert_non_null(h = hold(f, "t1", "mix.test", 443, &created));
	assert_int_equal(decide(f, approval_hold_id(h), true, APPROVAL_DURATION, 60000, NULL), 0);
	assert_non_null(h = hold(f, "t2", "mix.test", 443, &created));
	assert_true(created);
	assert_int_equal(decide(f, approval_hold_id(h), false, APPROVAL_TASK, 0, NULL), 0);
	assert_int_equal(check(f, "t2", "dev", "mix.test", 443), APPROVAL_REFUSED);
	assert_int_equal(check(f, "t1", "dev", "mix.test", 443), APPROVAL_GRANTED);
}

static void
test_expiry(void **state)
{
	struct fx *f = *state;
	struct approval_hold *h;
	char id[APPROVAL_ID_LEN + 1];
	bool created;

	assert_non_null(h = hold(f, "t1", "slow.test", 443, &created));
	assert_non_null(hold(f, "t1", "slow.test", 443, &created));
	snprintf(id, sizeof(id), "%s", approval_hold_id(h));
	f->now += 119999;
	approvals_tick(f->a);
	assert_int_equal(f->ev[APPROVAL_EV_EXPIRED], 0);
	f->now += 1;
	approvals_tick(f->a);
	assert_int_equal(f->ev[APPROVAL_EV_EXPIRED], 1);
	assert_int_equal(f->last_state, APPROVAL_EXPIRED);
	assert_int_equal(f->woken[APPROVAL_OUT_EXPIRED], 2);
	assert_int_equal(decide(f, id, true, APPROVAL_ONCE, 0, NULL), -1);
	assert_int_equal(errno, EALREADY);
	/* An expiry decides nothing: the next connection asks again. */
	assert_int_equal(check(f, "t1", "dev", "slow.test", 443), APPROVAL_ASK);

	/* Shutdown expires what is pending and wakes its connections. */
	assert_non_null(hold(f, "t1", "a.test", 443, &created));
	assert_non_null(hold(f, "t2", "b.test", 443, &created));
	approvals_shutdown(f->a);
	assert_int_equal(f->ev[APPROVAL_EV_EXPIRED], 3);
	assert_int_equal(f->woken[APPROVAL_OUT_EXPIRED], 4);
}

/* An observer that decides while being told: the store stays consistent. */
static void
observe_decide(void *arg, enum approval_event ev, const struct approval_info *i)
{
	struct fx *f = arg;
	struct approval_decision d = { .allow = true, .scope = APPROVAL_TASK,
	    .decider = "hook /bin/true" };

	if (ev == APPROVAL_EV_REQUESTED) {
		approvals_unobserve(f->a, observe_decide, f);
		assert_int_equal(approvals_decide(f->a, i->id, &d), 0);
	}
}

static void
test_observers(void **state)
{
	struct fx *f = *state;
	bool created;

	approvals_unobserve(f->a, observe, f);
	assert_int_equal(approvals_observe(f->a, observe_decide, f), 0);
	assert_int_equal(approvals_observe(f->a, observe, f), 0);
	/* Without a loop the store announces at once, so the hold is woken
	 * before approvals_hold() returns; a real loop defers it. */
	(void)hold(f, "t1", "auto.test", 443, &created);
	assert_true(created);
	assert_int_equal(f->woken[APPROVAL_OUT_ALLOW], 1);
	assert_int_equal(check(f, "t1", "dev", "auto.test", 443), APPROVAL_GRANTED);
	/* The other observer heard both; the deciding one is gone. */
	assert_int_equal(f->ev[APPROVAL_EV_REQUESTED], 1);
	assert_int_equal(f->ev[APPROVAL_EV_DECIDED], 1);
	(void)hold(f, "t1", "next.test", 443, &created);
	assert_int_equal(f->woken[APPROVAL_OUT_ALLOW], 1);
}

/* ---- synthetic pool ---- */

static struct approval_pool *
pool_aged(const char *p4, const char *p6, uint64_t min_age)
{
	struct ag_cidr c4, c6;

	assert_int_equal(cidr_parse(p4, &c4), 0);
	assert_int_equal(cidr_parse(p6, &c6), 0);
	return approval_pool_new(&c4, &c6, min_age);
}

static struct approval_pool *
pool(const char *p4, const char *p6)
{
	return pool_aged(p4, p6, 0);
}

static const char *
fmt(const struct ag_addr *a)
{
	static char buf[AG_ADDR_STRLEN];

	return addr_format(a, buf, sizeof(buf));
}

static void
test_pool_map(void **state)
{
	struct approval_pool *p;
	struct ag_addr a, b, x;

	assert_non_null(p = pool("198.19.254.0/24", "fd00:a6e1::/112"));
	/* Handed out from host 1; the same name keeps its address. */
	assert_int_equal(approval_pool_addr(p, "one.test", AF_INET, 1, &a), 0);
	assert_string_equal(fmt(&a), "198.19.254.1");
	assert_int_equal(approval_pool_addr(p, "two.test", AF_INET, 2, &b), 0);
	assert_string_equal(fmt(&b), "198.19.254.2");
	assert_int_equal(approval_pool_addr(p, "one.test", AF_INET, 3, &x), 0);
	assert_true(addr_equal(&a, &x));
	assert_int_equal(approval_pool_addr(p, "one.test", AF_INET6, 4, &x), 0);
	assert_string_equal(fmt(&x), "fd00:a6e1::1");
	/* And back. */
	assert_string_equal(approval_pool_name(p, &a, 5), "one.test");
	assert_string_equal(approval_pool_name(p, &b, 5), "two.test");
	assert_string_equal(approval_pool_name(p, &x, 5), "one.test");
	assert_int_equal(addr_parse("198.19.254.3", &x), 0);
	assert_null(approval_pool_name(p, &x, 5));	/* never given */
	assert_true(approval_pool_contains(p, &x));
	assert_int_equal(addr_parse("198.19.254.0", &x), 0);
	assert_null(approval_pool_name(p, &x, 5));
	assert_int_equal(addr_parse("198.19.255.1", &x), 0);
	assert_false(approval_pool_contains(p, &x));
	assert_null(approval_pool_name(p, &x, 5));
	assert_int_equal(addr_parse("fd00:a6e1::1:1", &x), 0);
	assert_false(approval_pool_contains(p, &x));
	assert_int_equal(approval_pool_addr(p, "x.test", AF_UNIX, 6, &x), -1);
	assert_int_equal(errno, EINVAL);
	approval_pool_free(p);
}

static void
test_pool_recycle(void **state)
{
	struct approval_pool *p;
	struct ag_addr a, b, c, x;

	/* A /30 has two usable IPv4 hosts (.1, .2); a /127 one IPv6 host. */
	assert_non_null(p = pool("198.19.254.0/30", "fd00:a6e1::/127"));
	assert_int_equal(approval_pool_addr(p, "a.test", AF_INET, 10, &a), 0);
	assert_int_equal(approval_pool_addr(p, "b.test", AF_INET, 20, &b), 0);
	assert_string_equal(fmt(&b), "198.19.254.2");
	/* a is used again later than b: b is the oldest unused. */
	assert_string_equal(approval_pool_name(p, &a, 30), "a.test");
	assert_int_equal(approval_pool_addr(p, "c.test", AF_INET, 40, &c), 0);
	assert_true(addr_equal(&c, &b));
	assert_string_equal(approval_pool_name(p, &b, 50), "c.test");
	assert_string_equal(approval_pool_name(p, &a, 50), "a.test");
	/* b.test lost its address; asking again recycles the oldest. */
	assert_int_equal(approval_pool_addr(p, "c.test", AF_INET, 60, &x), 0);
	assert_true(addr_equal(&x, &c));
	assert_int_equal(approval_pool_addr(p, "b.test", AF_INET, 70, &x), 0);
	assert_true(addr_equal(&x, &a));	/* a at 50 < c at 60 */
	assert_string_equal(approval_pool_name(p, &a, 80), "b.test");
	/* IPv6 with one slot. */
	assert_int_equal(approval_pool_addr(p, "a.test", AF_INET6, 1, &x), 0);
	assert_string_equal(fmt(&x), "fd00:a6e1::1");
	assert_int_equal(approval_pool_addr(p, "b.test", AF_INET6, 2, &x), 0);
	assert_string_equal(fmt(&x), "fd00:a6e1::1");
	assert_string_equal(approval_pool_name(p, &x, 3), "b.test");
	approval_pool_free(p);
	/* An address handed out recently is never recycled. */
	assert_non_null(p = pool_aged("198.19.254.0/30", "fd00:a6e1::/112", 10000));
	assert_int_equal(approval_pool_addr(p, "a.test", AF_INET, 1000, &a), 0);
	assert_int_equal(approval_pool_addr(p, "b.test", AF_INET, 2000, &b), 0);
	assert_int_equal(approval_pool_addr(p, "c.test", AF_INET, 10999, &c), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(approval_pool_addr(p, "c.test", AF_INET, 11000, &c), 0);
	assert_true(addr_equal(&a, &c));
	assert_string_equal(approval_pool_name(p, &a, 11000), "c.test");
	assert_string_equal(approval_pool_name(p, &b, 11000), "b.test");
	approval_pool_free(p);
	/* Pools without a usable host. */
	assert_null(pool("198.19.254.0/31", "fd00:a6e1::/112"));
	assert_int_equal(errno, EINVAL);
	assert_null(pool("198.19.254.0/24", "fd00:a6e1::1/128"));
	assert_int_equal(errno, EINVAL);
}

/* ---- forever file ---- */

static char *
slurp(const char *path)
{
	static char buf[8192];
	FILE *fp = fopen(path, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void
test_file_format(void **state)
{
	char buf[1024];
	struct approval_file_entry e = { .allow = true, .name = "example.test",
	    .proto = "tcp", .port = 443, .decider = "alice (uid 1000)",
	    .reason = "ticket \"OPS-1\"\nsecond line", .id = "a1b2c3d4",
	    .when_ms = 1795823401000LL };

	int n = approval_file_format(&e, buf, sizeof(buf));

	assert_int_equal(n, (int)strlen(buf));
	assert_string_equal(buf,
	    "# approved by alice (uid 1000) at 2026-11-27T23:50:01Z, request a1b2c3d4, "
	    "reason \"ticket \\\"OPS-1\\\"?second line\"\n"
	    "allow example.test port 443 proto tcp\n");
	e.allow = false;
	e.reason = NULL;
	e.port = 22;
	assert_true(approval_file_format(&e, buf, sizeof(buf)) > 0);
	assert_string_equal(buf,
	    "# denied by alice (uid 1000) at 2026-11-27T23:50:01Z, request a1b2c3d4\n"
	    "deny example.test port 22 proto tcp\n");
	/* A name that is no canonical name never reaches the file. */
	e.name = "evil.test\nallow *";
	assert_int_equal(approval_file_format(&e, buf, sizeof(buf)), -1);
	assert_int_equal(errno, EINVAL);
	e.name = "example.test";
	assert_int_equal(approval_file_format(&e, buf, 40), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	assert_int_equal(approval_file_path("/var/lib/agentgate", "../etc", buf, sizeof(buf)), -1);
	assert_int_equal(errno, EINVAL);
}

static void
test_forever(void **state)
{
	struct fx *f = *state;
	struct approval_hold *h;
	struct approval_check c;
	char path[256], id[APPROVAL_ID_LEN + 1], *text;
	struct stat st;
	bool created;

	assert_non_null(h = hold(f, "t1", "forever.test", 443, &created));
	snprintf(id, sizeof(id), "%s", approval_hold_id(h));
	assert_int_equal(decide(f, id, true, APPROVAL_FOREVER, 0, "release"), 0);
	snprintf(path, sizeof(path), "%s/approvals/dev.rules", f->dir);
	text = slurp(path);
	assert_non_null(strstr(text, "# approved by alice (uid 1000) at "));
	assert_non_null(strstr(text, id));
	assert_non_null(strstr(text, ", reason \"release\"\nallow forever.test port 443 proto tcp\n"));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	/* No temporary file left beside it. */
	{
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "test $(ls -A '%s/approvals' | wc -l) -eq 1", f->dir);
		assert_int_equal(system(cmd), 0);
	}
	/* Granted, with the rule's place and the request it came from; for
	 * every task of the policy, not for another policy. */
	approvals_check(f->a, "t7", "dev", "forever.test", 443, "tcp", &c);
	assert_int_equal(c.verdict, APPROVAL_GRANTED);
	assert_string_equal(c.rule_file, path);
	assert_int_equal(c.rule_line, 4);	/* two header lines, the comment */
	assert_string_equal(c.rule_text, "allow forever.test port 443 proto tcp");
	assert_string_equal(c.id, id);
	assert_int_equal(check(f, "t7", "prod", "forever.test", 443), APPROVAL_ASK);
	assert_int_equal(check(f, "t7", "dev", "forever.test", 80), APPROVAL_ASK);

	/* A forever denial is appended; DNS for that name is refused. */
	assert_non_null(h = hold(f, "t1", "never.test", 22, &created));
	assert_int_equal(decide(f, approval_hold_id(h), false, APPROVAL_FOREVER, 0, NULL), 0);
	assert_int_equal(check(f, "t2", "dev", "never.test", 22), APPROVAL_REFUSED);
	assert_int_equal(approvals_check_name(f->a, "t2", "dev", "never.test"), APPROVAL_REFUSED);
	assert_int_equal(approvals_check_name(f->a, "t2", "dev", "forever.test"), APPROVAL_ASK);

	/* A new store (a restart) reads the file back. */
	approvals_free(f->a);
	assert_non_null(f->a = approvals_new(NULL, &f->conf));
	approvals_set_clock(f->a, fake_now, f);
	approvals_check(f->a, "t9", "dev", "forever.test", 443, "tcp", &c);
	assert_int_equal(c.verdict, APPROVAL_GRANTED);
	assert_string_equal(c.id, id);
	assert_int_equal(check(f, "t9", "dev", "never.test", 22), APPROVAL_REFUSED);
	text = slurp(path);
	assert_non_null(strstr(text, "deny never.test port 22 proto tcp\n"));

	/* An admin revokes the approval by deleting its rule; SIGHUP. */
	{
		FILE *fp = fopen(path, "w");

		assert_non_null(fp);
		fputs("deny never.test port 22 proto tcp\n", fp);
		fclose(fp);
	}
	assert_int_equal(check(f, "t9", "dev", "forever.test", 443), APPROVAL_GRANTED);
	approvals_reload(f->a);
	assert_int_equal(check(f, "t9", "dev", "forever.test", 443), APPROVAL_ASK);
	approvals_check(f->a, "t9", "dev", "never.test", 22, "tcp", &c);
	assert_int_equal(c.verdict, APPROVAL_REFUSED);
	assert_int_equal(c.rule_line, 1);
	assert_string_equal(c.id, "");		/* no provenance comment */

	/* A file that cannot be written (state-dir is a regular file, so
	 * even root fails): the held connections still get the decision, the
	 * caller hears EIO, nothing is kept beyond them. */
	{
		char bad[128];
		FILE *fp;
		unsigned before = (unsigned)f->woken[APPROVAL_OUT_ALLOW];

		snprintf(bad, sizeof(bad), "%s/not-a-folder", f->dir);
		assert_non_null(fp = fopen(bad, "w"));
		fclose(fp);
		assert_int_equal(conf_set_path(&f->conf.state_dir, bad), 0);
		approvals_free(f->a);
		assert_non_null(f->a = approvals_new(NULL, &f->conf));
		approvals_set_clock(f->a, fake_now, f);
		assert_non_null(h = hold(f, "t1", "ro.test", 443, &created));
		errno = 0;
		assert_int_equal(decide(f, approval_hold_id(h), true, APPROVAL_FOREVER, 0, NULL), -1);
		assert_int_equal(errno, EIO);
		assert_int_equal(f->woken[APPROVAL_OUT_ALLOW], (int)before + 1);
		assert_int_equal(check(f, "t1", "dev", "ro.test", 443), APPROVAL_ASK);
	}
}

/* ---- random operations against a model of the holds ---- */

#define RND_SLOTS	64

struct rnd_slot {
	struct approval_hold	*h;	/* NULL: free */
	unsigned		*woken;
};

static void
rnd_wake(void *arg, enum approval_outcome out, const char *id, const char *reason)
{
	struct rnd_slot *sl = arg;

	assert_non_null(sl->h);		/* woken once, only while held */
	assert_int_equal(strlen(id), APPROVAL_ID_LEN);
	sl->h = NULL;
	(*sl->woken)++;
}

struct rnd_count {
	unsigned	pending, conns;
};

static void
rnd_count_cb(void *arg, const struct approval_info *i)
{
	struct rnd_count *c = arg;

	if (i->state == APPROVAL_PENDING) {
		c->pending++;
		c->conns += i->nconns;
	} else {
		assert_int_equal(i->nconns, 0);
	}
}

static unsigned
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return (unsigned)(*x >> 11);
}

/* Holds join, leave, are woken by decisions and expiry in any order: every
 * hold ends exactly once, and the store's count of held connections agrees
 * with the model after every step. */
static void
test_random_ops(void **state)
{
	static const char *const tasks[] = { "t1", "t2", "t3" };
	static const char *const names[] = { "a.test", "b.test", "c.test", "d.test", "e.test" };
	static const uint16_t ports[] = { 443, 22 };
	struct fx *f = *state;
	struct rnd_slot slots[RND_SLOTS];
	unsigned woken = 0, made = 0, released = 0, live, step, i;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	struct approval_check c;
	char ids[RND_SLOTS][APPROVAL_ID_LEN + 1];
	bool created;

	log_set_level(LOG_LEVEL_WARN);	/* thousands of expiries */
	memset(slots, 0, sizeof(slots));
	memset(ids, 0, sizeof(ids));
	for (i = 0; i < RND_SLOTS; i++)
		slots[i].woken = &woken;
	for (step = 0; step < 20000; step++) {
		struct rnd_slot *sl = &slots[rnd(&x) % RND_SLOTS];
		struct rnd_count cnt = { 0, 0 };
		struct approval_decision d = { .decider = "fuzz" };
		const char *id;

		switch (rnd(&x) % 6) {
		case 0:
		case 1:
			if (sl->h != NULL)
				break;
			sl->h = hold_any(f, tasks[rnd(&x) % 3], names[rnd(&x) % 5],
			    ports[rnd(&x) % 2], rnd_wake, sl, &created);
			if (sl->h != NULL) {
				made++;
				snprintf(ids[sl - slots], sizeof(ids[0]), "%s",
				    approval_hold_id(sl->h));
			} else {
				assert_int_equal(errno, EDQUOT);
			}
			break;
		case 2:
			if (sl->h == NULL)
				break;
			approvals_release(f->a, sl->h);
			sl->h = NULL;
			released++;
			break;
		case 3:
			id = ids[sl - slots];
			if (id[0] == '\0')
				break;
			d.allow = rnd(&x) & 1;
			d.scope = (enum approval_scope)(rnd(&x) % 3);	/* not forever */
			d.duration_ms = 1 + rnd(&x) % 100000;
			/* ENOENT: forgotten after APPROVAL_RECENT_MAX newer ones */
			if (approvals_decide(f->a, id, &d) == -1)
				assert_true(errno == EALREADY || errno == ENOENT);
			break;
		case 4:
			f->now += rnd(&x) % 30000;
			approvals_tick(f->a);
			break;
		case 5:
			approvals_check(f->a, tasks[rnd(&x) % 3], "dev",
			    names[rnd(&x) % 5], ports[rnd(&x) % 2], "tcp", &c);
			if (rnd(&x) % 50 == 0)
				approvals_tasks_gone(f->a, only_t2_alive, NULL);
			break;
		}
		for (live = 0, i = 0; i < RND_SLOTS; i++)
			live += slots[i].h != NULL;
		assert_int_equal(made, woken + released + live);
		approvals_foreach(f->a, rnd_count_cb, &cnt);
		assert_int_equal(cnt.conns, live);
		assert_true(cnt.pending <= 3 * f->conf.approval_max_pending);
	}
	assert_true(woken > 100 && released > 100);
	approvals_shutdown(f->a);
	for (i = 0; i < RND_SLOTS; i++)
		assert_null(slots[i].h);
	log_set_level(LOG_LEVEL_INFO);
}

/* ---- DNS answers for ask names ---- */

/* A query for name/type, id 0x1234, RD, no EDNS: built by hand here. */
static size_t
dns_query(uint8_t *q, const char *name, uint16_t type)
{
	size_t n = 0;
	const char *p = name, *dot;

	memcpy(q, "\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
	n = 12;
	while (*p != '\0') {
		size_t l = (dot = strchr(p, '.')) != NULL ? (size_t)(dot - p) : strlen(p);

		q[n++] = (uint8_t)l;
		memcpy(q + n, p, l);
		n += l;
		p += l + (dot != NULL);
	}
	q[n++] = 0;
	q[n++] = (uint8_t)(type >> 8);
	q[n++] = (uint8_t)type;
	q[n++] = 0;
	q[n++] = 1;
	return n;
}

static void
test_dns_ask(void **state)
{
	static const char rules[] = "ask *.ask.test\nallow ok.test\n";
	static struct dns_response r;
	struct policy *pol;
	struct dnsjudge j;
	struct ag_addr synth;
	uint8_t q[512], out[512];
	size_t qlen;

	assert_non_null(pol = policy_load_buffer("t", "t", rules, sizeof(rules) - 1,
	    NULL, NULL, NULL));
	assert_int_equal(addr_parse("198.19.254.9", &synth), 0);

	/* dnsjudge_query() alone refuses an ask name (nothing upstream). */
	qlen = dns_query(q, "x.ask.test", DNS_TYPE_A);
	dnsjudge_query(q, qlen, pol, true, &j, out, sizeof(out));
	assert_int_equal(j.action, DNSJUDGE_ANSWER);
	assert_int_equal(j.verdict.action, POLICY_ASK);
	assert_int_equal(j.rcode, DNS_RCODE_REFUSED);

	/* A: the synthetic address with the TTL given. */
	dnsjudge_ask(&j, q, qlen, false, &synth, 5, out, sizeof(out));
	assert_int_equal(j.action, DNSJUDGE_ANSWER);
	assert_int_equal(j.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(dns_parse_response(out, j.outlen, &r), DNS_OK);
	assert_int_equal(r.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(r.n_answers, 1);
	assert_int_equal(r.answers[0].type, DNS_TYPE_A);
	assert_true(addr_equal(&r.answers[0].addr, &synth));
	assert_int_equal(r.answers[0].ttl, 5);
	assert_int_equal(out[0], 0x12);
	assert_int_equal(out[1], 0x34);

	/* Another type: NODATA. */
	qlen = dns_query(q, "x.ask.test", DNS_TYPE_TXT);
	dnsjudge_query(q, qlen, pol, true, &j, out, sizeof(out));
	dnsjudge_ask(&j, q, qlen, false, NULL, 5, out, sizeof(out));
	assert_int_equal(j.rcode, DNS_RCODE_NOERROR);
	assert_int_equal(dns_parse_response(out, j.outlen, &r), DNS_OK);
	assert_int_equal(r.n_answers, 0);

	/* A denial in scope: REFUSED. */
	qlen = dns_query(q, "x.ask.test", DNS_TYPE_A);
	dnsjudge_query(q, qlen, pol, true, &j, out, sizeof(out));
	dnsjudge_ask(&j, q, qlen, true, &synth, 5, out, sizeof(out));
	assert_int_equal(j.rcode, DNS_RCODE_REFUSED);
	assert_string_equal(j.reason, "denied by approval");
	assert_int_equal(dns_parse_response(out, j.outlen, &r), DNS_OK);
	assert_int_equal(r.rcode, DNS_RCODE_REFUSED);
	assert_int_equal(r.n_answers, 0);
	policy_unref(pol);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scope_parse),
		cmocka_unit_test_setup_teardown(test_join, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_first_decision_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scope_once_and_task, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scope_duration, setup, teardown),
		cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_observers, setup, teardown),
		cmocka_unit_test(test_pool_map),
		cmocka_unit_test(test_pool_recycle),
		cmocka_unit_test(test_file_format),
		cmocka_unit_test_setup_teardown(test_forever, setup, teardown),
		cmocka_unit_test(test_dns_ask),
		cmocka_unit_test_setup_teardown(test_random_ops, setup, teardown),
	};

	return cmocka_run_group_tests_name("approval", tests, NULL, NULL);
}
