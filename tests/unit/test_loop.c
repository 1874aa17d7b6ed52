/*
 * proxy/loop.c: fd callbacks, timers in deadline order, cancellation, and
 * an fd deleted by an earlier callback of the same round never firing.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop.h"

struct rec {
	char	 log[64];
	int	 fds[2][2];
	int	 reads;
};

static void
note(struct rec *r, char c)
{
	size_t n = strlen(r->log);

	if (n + 1 < sizeof(r->log)) {
		r->log[n] = c;
		r->log[n + 1] = '\0';
	}
}

/* A timer argument: the record and the letter to log. */
struct targ {
	struct rec	*r;
	char		 c;
};

static void
on_timer(struct loop *l, void *arg)
{
	struct targ *t = arg;

	note(t->r, t->c);
}

static void
on_last(struct loop *l, void *arg)
{
	on_timer(l, arg);
	loop_stop(l);
}

static void
test_timers_order(void **state)
{
	struct rec r = { .log = "" };
	struct targ a = { &r, 'a' }, b = { &r, 'b' }, c = { &r, 'c' }, d = { &r, 'd' }, x = { &r, 'x' };
	struct loop *l = loop_new();
	struct loop_timer *t;

	assert_non_null(l);
	assert_non_null(loop_timer_add(l, 30, on_timer, &c));
	assert_non_null(loop_timer_add(l, 10, on_timer, &a));
	assert_non_null(loop_timer_add(l, 10, on_timer, &b));	/* tie: after a */
	assert_non_null(t = loop_timer_add(l, 20, on_timer, &x));
	assert_non_null(loop_timer_add(l, 40, on_last, &d));
	loop_timer_cancel(l, t);
	assert_int_equal(loop_run(l), 0);
	assert_string_equal(r.log, "abcd");
	loop_free(l);
}

static void
on_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct rec *r = arg;
	char buf[8];

	assert_true(events & EPOLLIN);
	assert_int_equal(read(fd, buf, sizeof(buf)), 1);
	note(r, buf[0]);
	r->reads++;
	/* The first callback deletes the other pipe's read end: its event,
	 * collected in the same round, must not run. */
	if (fd == r->fds[0][0])
		assert_int_equal(loop_del(l, r->fds[1][0]), 0);
	else
		assert_int_equal(loop_del(l, r->fds[0][0]), 0);
}

static void
on_stop(struct loop *l, void *arg)
{
	loop_stop(l);
}

static void
test_fd_deleted_in_round(void **state)
{
	struct rec r = { .log = "" };
	struct loop *l = loop_new();

	assert_non_null(l);
	assert_int_equal(pipe(r.fds[0]), 0);
	assert_int_equal(pipe(r.fds[1]), 0);
	assert_int_equal(loop_add(l, r.fds[0][0], EPOLLIN, on_readable, &r), 0);
	assert_int_equal(loop_add(l, r.fds[1][0], EPOLLIN, on_readable, &r), 0);
	assert_int_equal(loop_add(l, r.fds[1][0], EPOLLIN, on_readable, &r), -1);
	assert_int_equal(write(r.fds[0][1], "1", 1), 1);
	assert_int_equal(write(r.fds[1][1], "2", 1), 1);
	assert_non_null(loop_timer_add(l, 50, on_stop, NULL));
	assert_int_equal(loop_run(l), 0);
	assert_int_equal(r.reads, 1);
	assert_int_equal(loop_mod(l, r.fds[0][0], EPOLLIN) == -1 ||
	    loop_mod(l, r.fds[1][0], EPOLLIN) == -1, 1);
	loop_free(l);
	close(r.fds[0][0]); close(r.fds[0][1]);
	close(r.fds[1][0]); close(r.fds[1][1]);
}

static void
test_now_advances(void **state)
{
	struct loop *l = loop_new();
	uint64_t t0;

	assert_non_null(l);
	t0 = loop_now_ms(l);
	assert_non_null(loop_timer_add(l, 25, on_stop, NULL));
	assert_int_equal(loop_run(l), 0);
	assert_true(loop_now_ms(l) >= t0 + 25);
	loop_free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_order),
		cmocka_unit_test(test_fd_deleted_in_round),
		cmocka_unit_test(test_now_advances),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
