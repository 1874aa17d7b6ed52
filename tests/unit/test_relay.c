/*
 * proxy/relay.c over real TCP sockets on 127.0.0.1: the first bytes go
 * first, both directions move and are counted, a half-close is passed on
 * while the other way keeps working, idle relays end, and 4 MiB pass
 * intact through the pipes with back-pressure (the pipe grown for bulk).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "loop.h"
#include "relay.h"

struct fixture {
	struct loop		*loop;
	int			 a;	/* the client's end */
	int			 cfd;	/* the proxy's end towards the client */
	int			 sfd;	/* the proxy's end towards the server */
	int			 srv;	/* the server's end */
	struct relay		*relay;
	int			 done;
	struct relay_stats	 st;
};

static void
tcp_pair(int lfd, const struct sockaddr_in *sin, int *one, int *two)
{
	*one = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*one >= 0);
	assert_int_equal(connect(*one, (const struct sockaddr *)sin,
	    sizeof(*sin)), 0);
	*two = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
	assert_true(*two >= 0);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct sockaddr_in sin;
	socklen_t sl = sizeof(sin);
	int lfd;

	assert_non_null(f);
	assert_non_null(f->loop = loop_new());
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(lfd, 4), 0);
	assert_int_equal(getsockname(lfd, (struct sockaddr *)&sin, &sl), 0);
	tcp_pair(lfd, &sin, &f->a, &f->cfd);
	/* The proxy dials: sfd is the connecting end, srv the accepted one. */
	tcp_pair(lfd, &sin, &f->sfd, &f->srv);
	assert_int_equal(fcntl(f->sfd, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(f->srv, F_SETFL, 0), 0);
	close(lfd);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	if (f->relay != NULL)
		relay_free(f->relay);
	close(f->a);
	close(f->cfd);
	close(f->sfd);
	close(f->srv);
	loop_free(f->loop);
	free(f);
	return 0;
}

static void
done_cb(void *arg, const struct relay_stats *st)
{
	struct fixture *f = arg;

	f->done++;
	f->st = *st;
	relay_free(f->relay);
	f->relay = NULL;
	loop_stop(f->loop);
}

static void
stop_cb(struct loop *l, void *arg)
{
	(void)arg;
	loop_stop(l);
}

/* Run the loop for ms (or until the relay ends). */
static void
run_for(struct fixture *f, uint64_t ms)
{
	struct loop_timer *t = loop_timer_add(f->loop, ms, stop_cb, NULL);
	int done = f->done;

	assert_int_equal(loop_run(f->loop), 0);
	if (f->done != done)
		loop_timer_cancel(f->loop, t);
}

static void
read_exact(int fd, const char *want)
{
	char buf[64];
	size_t n = strlen(want), got = 0;
	ssize_t r;

	while (got < n) {
		r = read(fd, buf + got, n - got);
		assert_true(r > 0);
		got += (size_t)r;
	}
	assert_memory_equal(buf, want, n);
}

static void
test_both_ways_and_half_close(void **state)
{
	struct fixture *f = *state;
	char c;

	f->relay = relay_new(f->loop, f->cfd, f->sfd, (const uint8_t *)"FIRST",
	    5, 10000, done_cb, f);
	assert_non_null(f->relay);
	assert_int_equal(write(f->a, "hello", 5), 5);
	run_for(f, 100);
	read_exact(f->srv, "FIRSThello");

	assert_int_equal(write(f->srv, "reply", 5), 5);
	run_for(f, 100);
	read_exact(f->a, "reply");

	/* The client is done sending: the server sees EOF ... */
	assert_int_equal(shutdown(f->a, SHUT_WR), 0);
	run_for(f, 100);
	assert_int_equal(read(f->srv, &c, 1), 0);
	assert_int_equal(f->done, 0);
	/* ... and may still answer. */
	assert_int_equal(write(f->srv, "late", 4), 4);
	run_for(f, 100);
	read_exact(f->a, "late");

	assert_int_equal(shutdown(f->srv, SHUT_WR), 0);
	run_for(f, 1000);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->st.end, RELAY_END_EOF);
	assert_int_equal(f->st.up, 10);
	assert_int_equal(f->st.down, 9);
	assert_int_equal(read(f->a, &c, 1), 0);
}

static void
test_idle(void **state)
{
	struct fixture *f = *state;

	f->relay = relay_new(f->loop, f->cfd, f->sfd, NULL, 0, 150, done_cb, f);
	assert_non_null(f->relay);
	run_for(f, 100);
	/* Traffic restarts the idle period. */
	assert_int_equal(write(f->a, "x", 1), 1);
	run_for(f, 100);
	assert_int_equal(f->done, 0);
	run_for(f, 2000);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->st.end, RELAY_END_IDLE);
	assert_int_equal(f->st.up, 1);
}

static void
test_reset(void **state)
{
	struct fixture *f = *state;
	struct linger lg = { 1, 0 };

	f->relay = relay_new(f->loop, f->cfd, f->sfd, NULL, 0, 10000, done_cb, f);
	assert_non_null(f->relay);
	/* An RST from the server ends the relay as an error. */
	assert_int_equal(setsockopt(f->srv, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	close(f->srv);
	f->srv = socket(AF_INET, SOCK_STREAM, 0);
	run_for(f, 1000);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->st.end, RELAY_END_ERROR);
	assert_int_equal(f->st.error, ECONNRESET);
}

/* Bulk: the client's end writes a pattern, the server's end checks it. */
struct bulk {
	struct fixture	*f;
	size_t		 total, sent, got;
	int		 bad;
};

static uint8_t
pattern(size_t i)
{
	return (uint8_t)(i * 7 + (i >> 12));
}

static void
bulk_write(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct bulk *b = arg;
	uint8_t buf[16384];
	size_t i, n;
	ssize_t w;

	(void)events;
	while (b->sent < b->total) {
		n = b->total - b->sent < sizeof(buf) ? b->total - b->sent :
		    sizeof(buf);
		for (i = 0; i < n; i++)
			buf[i] = pattern(b->sent + i);
		if ((w = write(fd, buf, n)) <= 0)
			return;
		b->sent += (size_t)w;
	}
	(void)loop_del(l, fd);
	(void)shutdown(fd, SHUT_WR);
}

static void
bulk_read(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct bulk *b = arg;
	uint8_t buf[16384];
	ssize_t r, i;

	(void)events;
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		for (i = 0; i < r; i++)
			if (buf[i] != pattern(b->got + (size_t)i))
				b->bad++;
		b->got += (size_t)r;
	}
	if (r == 0) {
		(void)loop_del(l, fd);
		(void)shutdown(fd, SHUT_WR);
	}
}

static void
test_bulk(void **state)
{
	struct fixture *f = *state;
	struct bulk b = { f, 4u << 20, 0, 0, 0 };
	int pfd[2];
	size_t cap;

	assert_int_equal(fcntl(f->a, F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(f->srv, F_SETFL, O_NONBLOCK), 0);
	f->relay = relay_new(f->loop, f->cfd, f->sfd, NULL, 0, 10000, done_cb, f);
	assert_non_null(f->relay);
	assert_int_equal(loop_add(f->loop, f->a, EPOLLOUT, bulk_write, &b), 0);
	assert_int_equal(loop_add(f->loop, f->srv, EPOLLIN, bulk_read, &b), 0);
	run_for(f, 10000);
	assert_int_equal(f->done, 1);
	assert_int_equal(f->st.end, RELAY_END_EOF);
	assert_int_equal(b.got, b.total);
	assert_int_equal(b.bad, 0);
	assert_int_equal(f->st.up, b.total);
	assert_int_equal(f->st.down, 0);
	(void)loop_del(f->loop, f->a);
	(void)loop_del(f->loop, f->srv);
	/* 4 MiB over loopback fills a 64 KiB pipe: it was grown, and went
	 * back to the pool grown (the last one given back is the next). */
	assert_int_equal(loop_pipe_get(f->loop, pfd, &cap), 0);
	assert_int_equal(cap, RELAY_PIPE_BULK);
	assert_int_equal(fcntl(pfd[0], F_GETPIPE_SZ), RELAY_PIPE_BULK);
	loop_pipe_put(f->loop, pfd, cap);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_both_ways_and_half_close,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bulk, setup, teardown),
	};

	return cmocka_run_group_tests_name("relay", tests, NULL, NULL);
}
