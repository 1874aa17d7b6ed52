/*
 * The sandbox's seccomp filter: a hand-built classic BPF program (no
 * libseccomp) that refuses raw and packet sockets, namespace and mount
 * changes, ptrace, bpf, kexec, modules, keyrings, perf, userfaultfd and
 * personality changes. Rules and reasons: docs/launcher.md.
 */
#ifndef AG_SECCOMP_H
#define AG_SECCOMP_H

#include <stddef.h>

struct sock_filter;

#define SECCOMP_PROG_MAX	256	/* instructions seccomp_build may write */

/* Build the filter into prog (SECCOMP_PROG_MAX entries). Returns the
 * number of instructions, or -1 with errno ENOTSUP on an architecture the
 * filter does not know (the launcher then refuses to run: no silent
 * missing confinement). */
int seccomp_build(struct sock_filter *prog, size_t max);

/* Install the filter on the calling thread; no_new_privs must be set (or
 * the caller hold CAP_SYS_ADMIN). Returns 0, or -1 with errno. */
int seccomp_install(void);

#endif
