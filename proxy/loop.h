/*
 * The proxy's event loop: epoll for descriptors, a heap of one-shot timers
 * on the monotonic clock. One loop per thread; nothing in it is shared, so
 * nothing in it locks. Callbacks run on the loop's thread.
 */
#ifndef AG_LOOP_H
#define AG_LOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct loop_timer;

/* `events` is the epoll mask that fired (EPOLLIN, EPOLLOUT, EPOLLERR...). */
typedef void (*loop_fd_fn)(struct loop *l, int fd, uint32_t events, void *arg);
typedef void (*loop_timer_fn)(struct loop *l, void *arg);

/* Returns a loop, or NULL with errno. */
struct loop *loop_new(void);
/* Frees the loop; descriptors stay open (their owners close them) and
 * pending timers are dropped without running. */
void loop_free(struct loop *l);

/* Watch fd for `events` (EPOLLIN | EPOLLOUT | EPOLLRDHUP ...; level
 * triggered unless EPOLLET is given). One registration per fd: adding an fd
 * twice is EEXIST. Returns 0, or -1 with errno. */
int loop_add(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *arg);
/* Change the mask of a watched fd. */
int loop_mod(struct loop *l, int fd, uint32_t events);
/* Watch fd for `events` with fn and arg, whoever watched it before: one
 * epoll_ctl where a loop_del and a loop_add take two (a socket handed from
 * one owner to the next). An event already collected in this round for
 * the previous owner is not run. Returns 0, or -1 with errno. */
int loop_set(struct loop *l, int fd, uint32_t events, loop_fd_fn fn, void *arg);
/* Stop watching fd (call before close). A callback for fd already collected
 * in this round is not run after loop_del. */
int loop_del(struct loop *l, int fd);

/* Run fn once, `ms` milliseconds from now. Returns a handle valid until the
 * timer runs or is cancelled, or NULL with errno ENOMEM. */
struct loop_timer *loop_timer_add(struct loop *l, uint64_t ms, loop_timer_fn fn, void *arg);
/* Cancel a pending timer; the handle is invalid afterwards. */
void loop_timer_cancel(struct loop *l, struct loop_timer *t);

/*
 * Empty pipes for splice(2), shared by everything on the loop: a relay
 * holds one only while bytes wait in it, so that an idle connection holds
 * no pipe (two descriptors instead of six, no pipe buffers charged to the
 * user). loop_pipe_get: fd[0] is the read end, fd[1] the write end (both
 * non-blocking, close-on-exec), *cap the capacity in bytes. Returns 0, or
 * -1 with errno (EMFILE, ENFILE). loop_pipe_put: give back a pipe that is
 * EMPTY, with its capacity now (a relay may have grown it); the last one
 * given back is the next one got; past LOOP_SPARE_PIPES it is closed, as
 * are the spares in loop_free.
 */
#define LOOP_SPARE_PIPES 64
int	loop_pipe_get(struct loop *l, int fd[2], size_t *cap);
void	loop_pipe_put(struct loop *l, const int fd[2], size_t cap);

/* Milliseconds on the monotonic clock, as of the current loop round. */
uint64_t loop_now_ms(const struct loop *l);

/* Dispatch until loop_stop(). Returns 0, or -1 with errno when epoll fails. */
int loop_run(struct loop *l);
/* Make loop_run() return after the current round (callable from callbacks). */
void loop_stop(struct loop *l);

#endif
