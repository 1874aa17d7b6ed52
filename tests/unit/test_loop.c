/*
 * proxy/loop.c: fd callbacks, timers in deadline order, cancellation, and
 * an fd deleted (or handed to another owner) by an earlier callback of the
 * same round never firing for it, and the pool of empty pipes (reuse, capacity kept, bound, closed at free).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
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

struct owners {
	int	 fds[2][2];
	int	 first;		/* calls of the first owner */
	int	 second;	/* calls of the new owner */
	int	 second_round;	/* rounds ended before the new owner ran */
	int	 round;
};

/* Timers run after a round's fd callbacks: this marks the round's end. */
static void
on_round_end(struct loop *l, void *arg)
{
	(void)l;
	((struct owners *)arg)->round++;
}

static void
on_second(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct owners *o = arg;
	char c;

	assert_true(events & EPOLLIN);
	assert_int_equal(read(fd, &c, 1), 1);
	if (o->second++ == 0)
		o->second_round = o->round;
	loop_stop(l);
}

/* The first owner hands the OTHER pipe to the second owner, while that
 * pipe's event of this round is already collected. */
static void
on_first(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct owners *o = arg;
	int other = fd == o->fds[0][0] ? o->fds[1][0] : o->fds[0][0];
	char c;

	(void)events;
	o->first++;
	assert_non_null(loop_timer_add(l, 0, on_round_end, o));
	assert_int_equal(read(fd, &c, 1), 1);
	assert_int_equal(loop_set(l, other, EPOLLIN, on_second, o), 0);
	assert_int_equal(loop_del(l, fd), 0);
}

/* loop_set: adds an unwatched fd, re-owns a watched one, and an event of
 * the round collected for the old owner runs neither owner. */
static void
test_set_reowns(void **state)
{
	struct owners o;
	struct loop *l = loop_new();

	(void)state;
	memset(&o, 0, sizeof(o));
	assert_non_null(l);
	assert_int_equal(pipe(o.fds[0]), 0);
	assert_int_equal(pipe(o.fds[1]), 0);
	assert_int_equal(loop_set(l, o.fds[0][0], EPOLLIN, on_first, &o), 0);
	assert_int_equal(loop_set(l, o.fds[1][0], EPOLLIN, on_first, &o), 0);
	assert_int_equal(write(o.fds[0][1], "1", 1), 1);
	assert_int_equal(write(o.fds[1][1], "2", 1), 1);
	assert_non_null(loop_timer_add(l, 1000, on_stop, NULL));
	assert_int_equal(loop_run(l), 0);
	/* One first-owner call; the new owner ran in a later round (its byte
	 * was still there: level-triggered) and read it. */
	assert_int_equal(o.first, 1);
	assert_int_equal(o.second, 1);
	assert_int_equal(o.second_round, 1);
	/* The fd stays watched by the new owner: a mask change works. */
	assert_int_equal(loop_mod(l, o.fds[0][0], EPOLLIN) == 0 ||
	    loop_mod(l, o.fds[1][0], EPOLLIN) == 0, 1);
	errno = 0;
	assert_int_equal(loop_set(l, -1, EPOLLIN, on_first, &o), -1);
	assert_int_equal(errno, EINVAL);
	loop_free(l);
	close(o.fds[0][0]); close(o.fds[0][1]);
	close(o.fds[1][0]); close(o.fds[1][1]);
}

static bool
fd_open(int fd)
{
	return fcntl(fd, F_GETFD) != -1;
}

/* A pipe from the pool: non-blocking, close-on-exec, its real capacity. */
static void
test_pipe_get(void **state)
{
	struct loop *l = loop_new();
	int fd[2], flags;
	size_t cap;
	char b[4];

	(void)state;
	assert_non_null(l);
	assert_int_equal(loop_pipe_get(l, fd, &cap), 0);
	assert_int_equal(cap, (size_t)fcntl(fd[0], F_GETPIPE_SZ));
	for (int i = 0; i < 2; i++) {
		flags = fcntl(fd[i], F_GETFL);
		assert_true(flags & O_NONBLOCK);
		assert_true(fcntl(fd[i], F_GETFD) & FD_CLOEXEC);
	}
	/* fd[1] writes, fd[0] reads; empty reads do not block. */
	assert_int_equal(write(fd[1], "abc", 3), 3);
	assert_int_equal(read(fd[0], b, sizeof(b)), 3);
	assert_memory_equal(b, "abc", 3);
	errno = 0;
	assert_int_equal(read(fd[0], b, sizeof(b)), -1);
	assert_int_equal(errno, EAGAIN);
	close(fd[0]);
	close(fd[1]);
	loop_free(l);
}

/* Given back, a pipe is the next one got, with the capacity it was given
 * back with (a relay grew it). */
static void
test_pipe_reuse(void **state)
{
	struct loop *l = loop_new();
	int a[2], b[2], c[2];
	size_t acap, bcap, ccap;
	int big;

	(void)state;
	assert_non_null(l);
	assert_int_equal(loop_pipe_get(l, a, &acap), 0);
	assert_int_equal(loop_pipe_get(l, b, &bcap), 0);
	assert_true(a[0] != b[0]);
	big = fcntl(b[1], F_SETPIPE_SZ, 128 * 1024);
	assert_true(big >= 128 * 1024);
	loop_pipe_put(l, a, acap);
	loop_pipe_put(l, b, (size_t)big);
	assert_true(fd_open(a[0]) && fd_open(b[0]));
	assert_int_equal(loop_pipe_get(l, c, &ccap), 0);
	assert_int_equal(c[0], b[0]);
	assert_int_equal(c[1], b[1]);
	assert_int_equal(ccap, (size_t)big);
	assert_int_equal(loop_pipe_get(l, c, &ccap), 0);
	assert_int_equal(c[0], a[0]);
	assert_int_equal(ccap, acap);
	loop_pipe_put(l, a, acap);
	loop_pipe_put(l, b, (size_t)big);
	/* The spares are closed with the loop. */
	loop_free(l);
	assert_false(fd_open(a[0]) || fd_open(a[1]));
	assert_false(fd_open(b[0]) || fd_open(b[1]));
}

/* At most LOOP_SPARE_PIPES are kept: one more given back is closed. */
static void
test_pipe_bound(void **state)
{
	struct loop *l = loop_new();
	int fds[LOOP_SPARE_PIPES + 1][2];
	size_t cap[LOOP_SPARE_PIPES + 1];
	size_t i;

	(void)state;
	assert_non_null(l);
	for (i = 0; i <= LOOP_SPARE_PIPES; i++)
		assert_int_equal(loop_pipe_get(l, fds[i], &cap[i]), 0);
	for (i = 0; i <= LOOP_SPARE_PIPES; i++)
		loop_pipe_put(l, fds[i], cap[i]);
	for (i = 0; i < LOOP_SPARE_PIPES; i++)
		assert_true(fd_open(fds[i][0]) && fd_open(fds[i][1]));
	assert_false(fd_open(fds[LOOP_SPARE_PIPES][0]));
	assert_false(fd_open(fds[LOOP_SPARE_PIPES][1]));
	loop_free(l);
	for (i = 0; i < LOOP_SPARE_PIPES; i++)
		assert_false(fd_open(fds[i][0]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timers_order),
		cmocka_unit_test(test_fd_deleted_in_round),
		cmocka_unit_test(test_now_advances),
		cmocka_unit_test(test_set_reowns),
		cmocka_unit_test(test_pipe_get),
		cmocka_unit_test(test_pipe_reuse),
		cmocka_unit_test(test_pipe_bound),
	};

	return cmocka_run_group_tests_name("loop", tests, NULL, NULL);
}
