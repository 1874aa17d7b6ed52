/*
 * Classic BPF for seccomp, written out by hand: an architecture check, a
 * list of system calls refused with EPERM, and argument checks for socket,
 * clone and personality. Only x86_64 is known; other builds refuse to run.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/netlink.h>
#include <linux/sched.h>
#include <linux/seccomp.h>

#include "seccomp.h"

#if defined(__x86_64__)

#define RET_ERRNO(e)	(SECCOMP_RET_ERRNO | ((e) & SECCOMP_RET_DATA))
/* Offset of the low 32 bits of argument i (little-endian). */
#define ARG_LO(i)	(offsetof(struct seccomp_data, args) + 8 * (i))
#define X32_SYSCALL_BIT	0x40000000

/* Refused outright with EPERM. */
static const int refused[] = {
	__NR_unshare, __NR_setns, __NR_mount, __NR_umount2, __NR_pivot_root,
	__NR_chroot, __NR_ptrace, __NR_process_vm_readv, __NR_process_vm_writev,
	__NR_bpf, __NR_kexec_load, __NR_kexec_file_load, __NR_init_module,
	__NR_finit_module, __NR_delete_module, __NR_keyctl, __NR_add_key,
	__NR_request_key, __NR_perf_event_open, __NR_userfaultfd,
	__NR_open_by_handle_at, __NR_name_to_handle_at,
	/* the new mount API, which mount(2) alone would not cover */
	__NR_open_tree, __NR_move_mount, __NR_fsopen, __NR_fsconfig,
	__NR_fsmount, __NR_fspick, __NR_mount_setattr,
};

#define NS_FLAGS (CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | \
	CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP)

struct emit {
	struct sock_filter	*prog;
	size_t			 max;
	size_t			 n;
};

static void
put(struct emit *e, uint16_t code, uint32_t k, uint8_t jt, uint8_t jf)
{
	if (e->n < e->max) {
		e->prog[e->n].code = code;
		e->prog[e->n].jt = jt;
		e->prog[e->n].jf = jf;
		e->prog[e->n].k = k;
	}
	e->n++;
}

#define LD(e, off)		put(e, BPF_LD | BPF_W | BPF_ABS, (off), 0, 0)
#define JEQ(e, k, t, f)		put(e, BPF_JMP | BPF_JEQ | BPF_K, (k), (t), (f))
#define JSET(e, k, t, f)	put(e, BPF_JMP | BPF_JSET | BPF_K, (k), (t), (f))
#define JGE(e, k, t, f)		put(e, BPF_JMP | BPF_JGE | BPF_K, (k), (t), (f))
#define AND(e, k)		put(e, BPF_ALU | BPF_AND | BPF_K, (k), 0, 0)
#define RET(e, k)		put(e, BPF_RET | BPF_K, (k), 0, 0)

int
seccomp_build(struct sock_filter *prog, size_t max)
{
	struct emit e = { prog, max, 0 };
	size_t i;

	/* Another ABI (i386 through int 0x80, x32) would name other calls
	 * with the same numbers: kill rather than judge them. */
	LD(&e, offsetof(struct seccomp_data, arch));
	JEQ(&e, AUDIT_ARCH_X86_64, 1, 0);
	RET(&e, SECCOMP_RET_KILL_PROCESS);
	LD(&e, offsetof(struct seccomp_data, nr));
	JGE(&e, X32_SYSCALL_BIT, 0, 1);
	RET(&e, SECCOMP_RET_KILL_PROCESS);

	for (i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		JEQ(&e, (uint32_t)refused[i], 0, 1);
		RET(&e, RET_ERRNO(EPERM));
	}
	/* clone3 passes its flags in memory a filter cannot read: ENOSYS
	 * makes glibc fall back to clone, whose flags we can check. */
	JEQ(&e, __NR_clone3, 0, 1);
	RET(&e, RET_ERRNO(ENOSYS));

	JEQ(&e, __NR_clone, 0, 3);
	LD(&e, ARG_LO(0));
	JSET(&e, NS_FLAGS, 0, 1);
	RET(&e, RET_ERRNO(EPERM));

	/* personality: PER_LINUX and the query 0xffffffff only. */
	JEQ(&e, __NR_personality, 0, 4);
	LD(&e, ARG_LO(0));
	JEQ(&e, 0, 2, 0);
	JEQ(&e, 0xffffffffU, 1, 0);
	RET(&e, RET_ERRNO(EPERM));

	/*
	 * socket: no AF_PACKET; AF_INET/AF_INET6 only without SOCK_RAW and
	 * SOCK_PACKET; AF_NETLINK only NETLINK_ROUTE (ip(8) reads links and
	 * addresses with it; changing them needs CAP_NET_ADMIN, which the
	 * command does not have).
	 */
	/* Offsets count from the next instruction; targets in comments. */
	JEQ(&e, __NR_socket, 0, 12);	/* else -> allow */
	LD(&e, ARG_LO(0));
	JEQ(&e, AF_PACKET, 9, 0);	/* -> deny */
	JEQ(&e, AF_NETLINK, 6, 0);	/* -> netlink */
	JEQ(&e, AF_INET, 1, 0);	/* -> inet */
	JEQ(&e, AF_INET6, 0, 7);	/* else -> allow */
	LD(&e, ARG_LO(1));		/* inet: */
	AND(&e, 0xf);			/* the type without SOCK_NONBLOCK/CLOEXEC */
	JEQ(&e, SOCK_RAW, 3, 0);	/* -> deny */
	JEQ(&e, SOCK_PACKET, 2, 3);	/* -> deny, else -> allow */
	LD(&e, ARG_LO(2));		/* netlink: */
	JEQ(&e, NETLINK_ROUTE, 1, 0);	/* -> allow, else deny */
	RET(&e, RET_ERRNO(EPERM));	/* deny: */
	RET(&e, SECCOMP_RET_ALLOW);	/* allow: */

	if (e.n > max) {
		errno = ENOSPC;
		return -1;
	}
	return (int)e.n;
}

#else

int
seccomp_build(struct sock_filter *prog, size_t max)
{
	(void)prog;
	(void)max;
	errno = ENOTSUP;
	return -1;
}

#endif

int
seccomp_install(void)
{
	struct sock_filter prog[SECCOMP_PROG_MAX];
	struct sock_fprog fprog;
	int n;

	n = seccomp_build(prog, SECCOMP_PROG_MAX);
	if (n == -1)
		return -1;
	fprog.len = (unsigned short)n;
	fprog.filter = prog;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog, 0, 0);
}
