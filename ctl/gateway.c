/*
 * `agentgatectl gateway up|down|status`: installs, removes and shows the
 * gateway's firewall rules (ctl/gateway_rules.c renders them) by running
 * iptables-restore / iptables-save per family, never through a shell.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "ctl.h"
#include "gateway_rules.h"

/* Our rules are a few KB; a host's whole dump can be large but not this. */
#define GW_RULES_MAX	16384
#define GW_SAVE_MAX	(64u << 20)

struct gw_family {
	int		 family;
	const char	*name;		/* as status prints it */
	const char	*iptables;
	const char	*restore;
	const char	*save;
};

static const struct gw_family gw_families[] = {
	{ 4, "IPv4", "iptables", "iptables-restore", "iptables-save" },
	{ 6, "IPv6", "ip6tables", "ip6tables-restore", "ip6tables-save" },
};

#define GW_NFAMILIES	(sizeof(gw_families) / sizeof(gw_families[0]))

/* Growable output of a child. */
struct gw_buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

static void
gateway_usage(FILE *out)
{
	fprintf(out,
	    "usage: agentgatectl gateway up [--dry-run]\n"
	    "       agentgatectl gateway down\n"
	    "       agentgatectl gateway status\n"
	    "\n"
	    "up       install the rules (IPv4 and IPv6) in the AGENTGATE-* chains, one\n"
	    "         iptables-restore per family, and jump to them from PREROUTING, INPUT,\n"
	    "         FORWARD, OUTPUT and (mangle) POSTROUTING when no such jump exists.\n"
	    "         Run again after a settings change: it replaces the rules.\n"
	    "         --dry-run prints the restore input.\n"
	    "down     remove the jumps and the chains; harmless when nothing is installed.\n"
	    "status   per family: installed, not installed, partial, or installed but\n"
	    "         different from the settings; the rules with packet:byte counters.\n"
	    "         Exit 0 only when both families are installed as the settings say.\n"
	    "         With nfq enabled, also the kernel's counters of each queue.\n"
	    "\n"
	    "Settings (sandbox-pool4/6, proxy-port, proxy-explicit-port, dns-port, nfq,\n"
	    "nfq-queues, nfq-mode) come from agentgate.conf; docs/gateway.md describes\n"
	    "the rules of each mode.\n");
}

static bool
gw_buf_grow(struct gw_buf *b, size_t need)
{
	char *np;
	size_t ncap;

	if (b->len + need + 1 <= b->cap)
		return true;
	if (b->len + need + 1 > GW_SAVE_MAX)
		return false;
	ncap = b->cap ? b->cap : 8192;
	while (ncap < b->len + need + 1)
		ncap *= 2;
	if ((np = realloc(b->p, ncap)) == NULL)
		return false;
	b->p = np;
	b->cap = ncap;
	return true;
}

static bool
gw_buf_add(struct gw_buf *b, const char *s, size_t n)
{
	if (!gw_buf_grow(b, n))
		return false;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
	return true;
}

/* May this process change the firewall? Root without CAP_NET_ADMIN (a
 * container) cannot, and a non-root holder of it can. */
static bool
gw_capable(void)
{
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[2];

	memset(data, 0, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) == -1)
		return geteuid() == 0;
	return (data[CAP_NET_ADMIN / 32].effective & (1u << (CAP_NET_ADMIN % 32))) != 0;
}

static int
gw_write_all(int fd, const char *s, size_t n)
{
	ssize_t w;

	while (n > 0) {
		if ((w = write(fd, s, n)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		s += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Run argv[0] (found on PATH) with `input` on its stdin when not NULL and
 * its stdout collected in `out` when not NULL (never both: neither side
 * could block the other), stderr silenced when `quiet`. Returns 0 with the
 * exit status in *status (-1 when killed by a signal); -1 with errno when it
 * could not run (ENOENT: not installed), or E2BIG when its output is too big.
 */
static int
gw_run(char *const argv[], const char *input, struct gw_buf *out, bool quiet, int *status)
{
	int in[2] = { -1, -1 }, op[2] = { -1, -1 }, ep[2] = { -1, -1 };
	struct sigaction ign, old;
	int rc = -1, saved = 0, st, child_errno = 0, devnull;
	char chunk[8192];
	ssize_t n;
	pid_t pid;

	if ((input != NULL && pipe2(in, O_CLOEXEC) == -1) ||
	    (out != NULL && pipe2(op, O_CLOEXEC) == -1) || pipe2(ep, O_CLOEXEC) == -1) {
		saved = errno;
		goto out;
	}
	if ((pid = fork()) == -1) {
		saved = errno;
		goto out;
	}
	if (pid == 0) {
		if ((input != NULL && dup2(in[0], STDIN_FILENO) == -1) ||
		    (out != NULL && dup2(op[1], STDOUT_FILENO) == -1))
			_exit(127);
		if (quiet && (devnull = open("/dev/null", O_WRONLY)) != -1)
			dup2(devnull, STDERR_FILENO);
		execvp(argv[0], argv);
		child_errno = errno;
		(void)!write(ep[1], &child_errno, sizeof(child_errno));
		_exit(127);
	}
	close(ep[1]);
	ep[1] = -1;
	if (input != NULL) {
		close(in[0]);
		in[0] = -1;
		/* A child that dies early must fail this call, not kill us. */
		memset(&ign, 0, sizeof(ign));
		ign.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &ign, &old);
		if (gw_write_all(in[1], input, strlen(input)) == -1 && errno != EPIPE)
			saved = errno;
		sigaction(SIGPIPE, &old, NULL);
		close(in[1]);
		in[1] = -1;
	}
	if (out != NULL) {
		close(op[1]);
		op[1] = -1;
		for (;;) {
			n = read(op[0], chunk, sizeof(chunk));
			if (n == -1 && errno == EINTR)
				continue;
			if (n <= 0)
				break;
			if (saved == 0 && !gw_buf_add(out, chunk, (size_t)n))
				saved = E2BIG;
		}
	}
	while ((n = read(ep[0], &child_errno, sizeof(child_errno))) == -1 && errno == EINTR)
		;
	while (waitpid(pid, &st, 0) == -1) {
		if (errno != EINTR) {
			saved = errno;
			goto out;
		}
	}
	if (n == (ssize_t)sizeof(child_errno)) {
		saved = child_errno;
		goto out;
	}
	if (saved != 0)
		goto out;
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	rc = 0;
out:
	if (in[0] != -1) close(in[0]);
	if (in[1] != -1) close(in[1]);
	if (op[0] != -1) close(op[0]);
	if (op[1] != -1) close(op[1]);
	if (ep[0] != -1) close(ep[0]);
	if (ep[1] != -1) close(ep[1]);
	if (rc == -1)
		errno = saved;
	return rc;
}

/* gw_run, and a message naming the program when it fails to run or exits
 * non-zero. Returns 0 only when it ran and exited 0. */
static int
gw_run_checked(char *const argv[], const char *input, struct gw_buf *out)
{
	int status;

	if (gw_run(argv, input, out, false, &status) == -1) {
		if (errno == ENOENT)
			fprintf(stderr, "agentgatectl: %s not found (install the iptables package)\n",
			    argv[0]);
		else
			fprintf(stderr, "agentgatectl: %s: %s\n", argv[0], strerror(errno));
		return -1;
	}
	if (status != 0) {
		fprintf(stderr, "agentgatectl: %s failed (exit status %d)\n", argv[0], status);
		return -1;
	}
	return 0;
}

/* Render one family's rules; prints why not when the settings cannot. */
static int
gw_render(const struct ag_conf *c, const struct gw_family *f, char *buf, size_t size)
{
	int n = gateway_rules_render(c, f->family, buf, size);

	if (n == -1) {
		fprintf(stderr, "agentgatectl: the settings make no sound %s rules: the sandbox "
		    "pool must be %s, proxy-port, proxy-explicit-port and dns-port must differ, "
		    "and nfq-mode packet-only needs nfq enable\n",
		    f->name, f->family == 4 ? "IPv4" : "IPv6");
		return -1;
	}
	if ((size_t)n >= size) {
		fprintf(stderr, "agentgatectl: %s rules too long\n", f->name);
		return -1;
	}
	return 0;
}

static bool
gw_need_root(const char *what)
{
	if (gw_capable())
		return true;
	fprintf(stderr, "agentgatectl: gateway %s needs root (CAP_NET_ADMIN)\n", what);
	return false;
}

/* Is the jump from hook `h` there? `iptables -C` exits 0 when it is. */
static int
gw_jump_present(const struct gw_family *f, const struct gateway_hook *h, bool *present)
{
	char *argv[] = { (char *)f->iptables, "-w", "-t", (char *)h->table, "-C",
	    (char *)h->builtin, "-m", "comment", "--comment", GATEWAY_JUMP_COMMENT,
	    "-j", (char *)h->chain, NULL };
	int status;

	if (gw_run(argv, NULL, NULL, true, &status) == -1) {
		fprintf(stderr, "agentgatectl: %s: %s\n", f->iptables,
		    errno == ENOENT ? "not found (install the iptables package)" : strerror(errno));
		return -1;
	}
	*present = status == 0;
	return 0;
}

/*
 * The restore input for one family: the rendered rules, and before each
 * table's COMMIT the jumps that are missing, so that chains and jumps land
 * in the same transaction.
 */
static int
gw_up_input(const struct gw_family *f, const char *rules, struct gw_buf *in)
{
	bool need[GATEWAY_HOOKS], present;
	const char *line, *nl, *table = "";
	char jump[256];
	size_t h, len, tlen = 0;
	int n;

	for (h = 0; h < GATEWAY_HOOKS; h++) {
		if (gw_jump_present(f, &gateway_hooks[h], &present) == -1)
			return -1;
		need[h] = !present;
	}
	for (line = rules; *line != '\0'; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line);
		len = (size_t)(nl - line);
		if (line[0] == '*') {
			table = line + 1;
			tlen = len - 1;
		} else if (len == 6 && memcmp(line, "COMMIT", 6) == 0) {
			for (h = 0; h < GATEWAY_HOOKS; h++) {
				if (!need[h] || strlen(gateway_hooks[h].table) != tlen ||
				    memcmp(gateway_hooks[h].table, table, tlen) != 0)
					continue;
				/* First in the built-in chain: no earlier ACCEPT lets
				 * sandbox traffic past us. */
				n = snprintf(jump, sizeof(jump), "-I %s 1 -m comment --comment \"%s\" -j %s\n",
				    gateway_hooks[h].builtin, GATEWAY_JUMP_COMMENT, gateway_hooks[h].chain);
				if (!gw_buf_add(in, jump, (size_t)n))
					goto nomem;
			}
		}
		if (!gw_buf_add(in, line, len) || !gw_buf_add(in, "\n", 1))
			goto nomem;
		if (*nl == '\0')
			break;
	}
	return 0;
nomem:
	fprintf(stderr, "agentgatectl: out of memory\n");
	return -1;
}

static int
gw_up(const struct ctl_env *env, bool dry_run)
{
	char rules[GW_RULES_MAX];
	struct gw_buf in = { NULL, 0, 0 };
	size_t i, h;
	int rc = CTL_EXIT_FAIL;

	if (!dry_run && !gw_need_root("up"))
		return CTL_EXIT_FAIL;
	for (i = 0; i < GW_NFAMILIES; i++) {
		const struct gw_family *f = &gw_families[i];
		char *argv[] = { (char *)f->restore, "--noflush", "-w", NULL };

		if (gw_render(env->conf, f, rules, sizeof(rules)) == -1)
			goto out;
		if (dry_run) {
			printf("# %s --noflush\n%s", f->restore, rules);
			for (h = 0; h < GATEWAY_HOOKS; h++)
				printf("# unless present: %s -t %s -I %s 1 -m comment --comment \"%s\" -j %s\n",
				    f->iptables, gateway_hooks[h].table, gateway_hooks[h].builtin,
				    GATEWAY_JUMP_COMMENT, gateway_hooks[h].chain);
			continue;
		}
		in.len = 0;
		if (gw_up_input(f, rules, &in) == -1 || gw_run_checked(argv, in.p, NULL) == -1) {
			fprintf(stderr, "agentgatectl: %s rules not installed%s\n", f->name,
			    i > 0 ? " (the others are: see gateway status)" : "");
			goto out;
		}
	}
	rc = CTL_EXIT_OK;
out:
	free(in.p);
	return rc;
}

/* Our tables of one family as iptables-save prints them. */
static int
gw_save(const struct gw_family *f, bool counters, struct gw_buf *out)
{
	size_t t;

	for (t = 0; t < GATEWAY_TABLES; t++) {
		char *argv[] = { (char *)f->save, "-t", (char *)gateway_tables[t],
		    counters ? "-c" : NULL, NULL };

		if (gw_run_checked(argv, NULL, out) == -1)
			return -1;
	}
	if (out->p == NULL && !gw_buf_add(out, "", 0))
		return -1;
	return 0;
}

/*
 * The restore input that removes everything of ours from one family's dump:
 * every rule that jumps to one of our chains (from any chain, every copy)
 * deleted by its own text, then our chains flushed and deleted.
 */
static int
gw_down_input(const char *saved, struct gw_buf *in)
{
	const char *line, *nl, *table = NULL, *sp;
	struct gw_buf tbl = { NULL, 0, 0 }, chains = { NULL, 0, 0 };
	size_t len, tlen = 0, h;
	bool ours_chain, ok = true;

	for (line = saved; *line != '\0' && ok; line = nl + 1) {
		if ((nl = strchr(line, '\n')) == NULL)
			nl = line + strlen(line);
		len = (size_t)(nl - line);
		if (line[0] == '*') {
			table = line + 1;
			tlen = len - 1;
			tbl.len = chains.len = 0;
		} else if (len == 6 && memcmp(line, "COMMIT", 6) == 0 && table != NULL) {
			if (tbl.len > 0 || chains.len > 0) {
				ok = gw_buf_add(in, "*", 1) && gw_buf_add(in, table, tlen) &&
				    gw_buf_add(in, "\n", 1) &&
				    (tbl.len == 0 || gw_buf_add(in, tbl.p, tbl.len)) &&
				    (chains.len == 0 || gw_buf_add(in, chains.p, chains.len)) &&
				    gw_buf_add(in, "COMMIT\n", 7);
			}
			table = NULL;
		} else if (table != NULL && gateway_rules_is_ours(line, len)) {
			if (line[0] == ':') {
				sp = memchr(line, ' ', len);
				len = sp ? (size_t)(sp - line - 1) : len - 1;
				ok = gw_buf_add(&chains, "-F ", 3) && gw_buf_add(&chains, line + 1, len) &&
				    gw_buf_add(&chains, "\n-X ", 4) && gw_buf_add(&chains, line + 1, len) &&
				    gw_buf_add(&chains, "\n", 1);
			} else if (strncmp(line, "-A ", 3) == 0) {
				/* Rules inside our chains go with -F; jumps from
				 * elsewhere are deleted one by one. */
				ours_chain = false;
				for (h = 0; h < GATEWAY_HOOKS; h++) {
					size_t cl = strlen(gateway_hooks[h].chain);

					if (len > cl + 3 && memcmp(line + 3, gateway_hooks[h].chain, cl) == 0 &&
					    line[3 + cl] == ' ')
						ours_chain = true;
				}
				if (!ours_chain)
					ok = gw_buf_add(&tbl, "-D", 2) && gw_buf_add(&tbl, line + 2, len - 2) &&
					    gw_buf_add(&tbl, "\n", 1);
			}
		}
		if (*nl == '\0')
			break;
	}
	free(tbl.p);
	free(chains.p);
	if (!ok) {
		fprintf(stderr, "agentgatectl: out of memory\n");
		return -1;
	}
	return 0;
}

static int
gw_down(void)
{
	struct gw_buf saved = { NULL, 0, 0 }, in = { NULL, 0, 0 };
	size_t i;
	int rc = CTL_EXIT_FAIL;

	if (!gw_need_root("down"))
		return CTL_EXIT_FAIL;
	for (i = 0; i < GW_NFAMILIES; i++) {
		const struct gw_family *f = &gw_families[i];
		char *argv[] = { (char *)f->restore, "--noflush", "-w", NULL };

		saved.len = in.len = 0;
		if (gw_save(f, false, &saved) == -1 || gw_down_input(saved.p, &in) == -1)
			goto out;
		if (in.len > 0 && gw_run_checked(argv, in.p, NULL) == -1) {
			fprintf(stderr, "agentgatectl: %s rules not removed\n", f->name);
			goto out;
		}
	}
	rc = CTL_EXIT_OK;
out:
	free(saved.p);
	free(in.p);
	return rc;
}

#define GW_NFQ_PROC	"/proc/net/netfilter/nfnetlink_queue"

/*
 * The kernel's counters of the queues the settings name, from GW_NFQ_PROC
 * (of this network namespace). A queue missing there has no program bound:
 * with no --queue-bypass, its traffic stops. Informational: no exit status.
 */
static void
gw_status_queues(const struct ag_conf *c)
{
	struct gateway_queue_stat qs;
	char line[256];
	unsigned q, bound = 0, want = c->nfq_queue_last - c->nfq_queue_first + 1;
	bool seen;
	FILE *fp;

	printf("NFQUEUE %u", c->nfq_queue_first);
	if (want > 1)
		printf("-%u", c->nfq_queue_last);
	printf(" (%s, mode %s):\n", GW_NFQ_PROC,
	    c->nfq_packet_only ? "packet-only" : "proxy");
	if ((fp = fopen(GW_NFQ_PROC, "re")) == NULL && errno != ENOENT) {
		printf("  cannot read: %s\n", strerror(errno));
		return;
	}
	for (q = c->nfq_queue_first; q <= c->nfq_queue_last; q++) {
		seen = false;
		if (fp != NULL) {
			rewind(fp);
			while (!seen && fgets(line, sizeof(line), fp) != NULL) {
				if (gateway_queue_parse(line, strcspn(line, "\n"), &qs) == 0 &&
				    qs.queue == q)
					seen = true;
			}
		}
		if (!seen) {
			/* A long range would print a line per idle queue. */
			if (want <= 8)
				printf("  queue %u: not bound (agentgate-nfq not running?)\n", q);
			continue;
		}
		bound++;
		printf("  queue %u: portid %u, queued %u, dropped (queue full) %u, "
		    "user drops %u, id sequence %u\n", q, qs.portid, qs.queued, qs.dropped,
		    qs.user_dropped, qs.id_sequence);
	}
	if (want > 8)
		printf("  %u of %u queues bound\n", bound, want);
	if (fp != NULL)
		fclose(fp);
}

static int
gw_status(const struct ctl_env *env)
{
	char rules[GW_RULES_MAX];
	struct gw_buf saved = { NULL, 0, 0 };
	struct gateway_state st;
	const char *line, *nl;
	size_t i, h, len;
	int s, rc = CTL_EXIT_OK;

	if (!gw_need_root("status"))
		return CTL_EXIT_FAIL;
	for (i = 0; i < GW_NFAMILIES; i++) {
		const struct gw_family *f = &gw_families[i];

		saved.len = 0;
		if (gw_render(env->conf, f, rules, sizeof(rules)) == -1 ||
		    gw_save(f, true, &saved) == -1) {
			rc = CTL_EXIT_FAIL;
			goto out;
		}
		if ((s = gateway_rules_compare(saved.p, rules, &st)) == -1) {
			fprintf(stderr, "agentgatectl: out of memory\n");
			rc = CTL_EXIT_FAIL;
			goto out;
		}
		if (s != GATEWAY_INSTALLED)
			rc = CTL_EXIT_FAIL;
		printf("%s: %s\n", f->name, gateway_status_name(s));
		if (s == GATEWAY_NOT_INSTALLED)
			continue;
		printf("  chains %u of %d, rules %s; jumps:", st.chains, GATEWAY_HOOKS,
		    st.rules_match ? "as the settings say" : "differ from the settings");
		for (h = 0; h < GATEWAY_HOOKS; h++)
			printf(" %s->%s x%u", gateway_hooks[h].builtin, gateway_hooks[h].chain,
			    st.jumps[h]);
		printf("\n");
		for (line = saved.p; *line != '\0'; line = nl + 1) {
			if ((nl = strchr(line, '\n')) == NULL)
				nl = line + strlen(line);
			len = (size_t)(nl - line);
			if (gateway_rules_is_ours(line, len))
				printf("  %.*s\n", (int)len, line);
			if (*nl == '\0')
				break;
		}
	}
	if (env->conf->nfq_enable)
		gw_status_queues(env->conf);
out:
	free(saved.p);
	return rc;
}

int
cmd_gateway(int argc, char **argv, const struct ctl_env *env)
{
	static const struct option opts[] = {
		{ "dry-run",	no_argument, NULL, 'n' },
		{ "help",	no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool dry_run = false;
	const char *verb;
	int c;

	if (argc < 2) {
		gateway_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	verb = argv[1];
	if (strcmp(verb, "-h") == 0 || strcmp(verb, "--help") == 0 || strcmp(verb, "help") == 0) {
		gateway_usage(stdout);
		return CTL_EXIT_OK;
	}
	argc--;
	argv++;
	optind = 0;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			dry_run = true;
			break;
		case 'h':
			gateway_usage(stdout);
			return CTL_EXIT_OK;
		default:
			gateway_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc || (dry_run && strcmp(verb, "up") != 0)) {
		gateway_usage(stderr);
		return CTL_EXIT_USAGE;
	}
	if (strcmp(verb, "up") == 0)
		return gw_up(env, dry_run);
	if (strcmp(verb, "down") == 0)
		return gw_down();
	if (strcmp(verb, "status") == 0)
		return gw_status(env);
	fprintf(stderr, "agentgatectl: unknown gateway command '%s'\n", verb);
	gateway_usage(stderr);
	return CTL_EXIT_USAGE;
}
