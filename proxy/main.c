/*
 * agentgate-proxy: the transparent and explicit TLS-SNI/HTTP proxy and DNS
 * forwarder of the gateway. main() reads the settings, binds, drops
 * privileges and runs the loop; signals arrive through a signalfd on the
 * same loop.
 */
#include "config.h"

#include <endian.h>
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <limits.h>
#include <linux/posix_acl.h>
#include <linux/posix_acl_xattr.h>
#include <pwd.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "approval.h"
#include "conf.h"
#include "conn.h"
#include "control.h"
#include "geoip.h"
#include "hook.h"
#include "log.h"
#include "loop.h"
#include "proxy.h"
#include "resolve.h"
#include "telemetry.h"

#include "dnsfwd.h"

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: agentgate-proxy [-fnv] [--config FILE]\n"
	    "\n"
	    "  --config FILE  settings (default " AG_SYSCONFDIR "/agentgate.conf)\n"
	    "  -f             stay in the foreground (the only mode)\n"
	    "  -n             check the settings and the policy of every\n"
	    "                 registered task, then exit\n"
	    "  -v             debug log (every connection's state changes)\n"
	    "  --help         this text\n"
	    "\n"
	    "Signals: HUP reloads the task registry and policies and reopens the\n"
	    "telemetry file; TERM and INT stop. See docs/proxy.md.\n");
}

static void
print_policy_error(void *arg, const char *file, unsigned line, unsigned col,
    const char *msg)
{
	int *bad = arg;

	fprintf(stderr, "%s:%u:%u: %s\n", file, line, col, msg);
	(*bad)++;
}

static void
print_registry_error(void *arg, const char *file, const char *reason)
{
	int *bad = arg;

	fprintf(stderr, "registry: %s: %s\n", file, reason);
	(*bad)++;
}

/* -n: the settings loaded; now every policy a registered task names. */
static int
check_only(const struct ag_conf *c)
{
	struct registry *reg;
	const struct reg_task *t;
	struct policy *pol;
	char dir[4096], path[4096];
	size_t i;
	int bad = 0;

	if (c->dns_upstream_count == 0) {
		fprintf(stderr, "agentgate-proxy: no dns-upstream: every name "
		    "would fail to resolve\n");
		bad++;
	}
	snprintf(dir, sizeof(dir), "%s/tasks", c->run_dir);
	if ((reg = registry_load(dir, print_registry_error, &bad)) == NULL) {
		fprintf(stderr, "agentgate-proxy: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	for (i = 0; i < registry_count(reg); i++) {
		t = registry_task_at(reg, i);
		if (t->policy_file != NULL)
			snprintf(path, sizeof(path), "%s", t->policy_file);
		else if (policy_path(c->policy_dir, t->policy, path,
		    sizeof(path)) == -1) {
			fprintf(stderr, "task %s: policy %s: %s\n", t->id,
			    t->policy, strerror(errno));
			bad++;
			continue;
		}
		pol = policy_load_file(path, t->policy, print_policy_error, &bad);
		if (pol == NULL) {
			fprintf(stderr, "task %s: policy %s: not usable\n", t->id,
			    path);
			if (errno != EINVAL)
				bad++;
			continue;
		}
		policy_unref(pol);
	}
	registry_unref(reg);
	if (bad == 0)
		printf("agentgate-proxy: settings and %zu task policies ok\n", i);
	return bad == 0 ? 0 : 1;
}

/*
 * A relayed connection holds six descriptors (two sockets, two pipes), so
 * the usual soft limit of 1024 would cap the proxy near 170 connections.
 * Raise the soft limit to the hard one (systemd's LimitNOFILE= sets that).
 */
static void
raise_nofile(const struct ag_conf *c)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)c->proxy_max_conns * 6 + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1)
			log_warn("setrlimit NOFILE");
	}
	if (rl.rlim_cur < want)
		log_warnx("open files limit %llu is below what proxy-max-conns "
		    "%u needs (%llu)", (unsigned long long)rl.rlim_cur,
		    c->proxy_max_conns, (unsigned long long)want);
}

/* Give uid rwx on the folder PATH (made when missing) with a POSIX ACL
 * entry, written as the raw xattr NAME (access or default ACL) so that no
 * libacl is needed. Replaces the ACL of that kind the folder had; the
 * owner, group and other entries follow the folder's mode. */
static int
dir_grant(const char *path, const char *name, uid_t uid)
{
	static const uint16_t tags[5] = { ACL_USER_OBJ, ACL_USER,
	    ACL_GROUP_OBJ, ACL_MASK, ACL_OTHER };
	static const int shift[5] = { 6, 0, 3, 0, 0 };
	struct {
		struct posix_acl_xattr_header	h;
		struct posix_acl_xattr_entry	e[5];
	} acl;
	struct stat st;
	size_t k;

	if ((mkdir(path, 0755) == -1 && errno != EEXIST) ||
	    stat(path, &st) == -1)
		return -1;
	acl.h.a_version = htole32(POSIX_ACL_XATTR_VERSION);
	for (k = 0; k < 5; k++) {
		bool full = tags[k] == ACL_USER || tags[k] == ACL_MASK;

		acl.e[k].e_tag = htole16(tags[k]);
		acl.e[k].e_perm = htole16(full ? 7 :
		    (st.st_mode >> shift[k]) & 7);
		acl.e[k].e_id = htole32(tags[k] == ACL_USER ? (uint32_t)uid :
		    (uint32_t)ACL_UNDEFINED_ID);
	}
	return setxattr(path, name, &acl, sizeof(acl), 0);
}

/*
 * Pruning dead launchers' tasks (and their inline policies) as proxy-user
 * means unlinking in RUN_DIR/tasks and RUN_DIR/policies: that user gets
 * rwx on both through an ACL entry of its own, never through a group that
 * other processes share. RUN_DIR's default ACL carries the entry to a
 * tasks folder made again later (the registry makes it 0775, which the
 * mask then allows). See docs/registry.md.
 */
static void
run_dir_grant(const struct ag_conf *c)
{
	static const char *const sub[] = { "tasks", "policies" };
	char path[PATH_MAX];
	struct passwd *pw;
	size_t i;

	if (geteuid() != 0 || c->proxy_user == NULL ||
	    (pw = getpwnam(c->proxy_user)) == NULL || pw->pw_uid == 0)
		return;
	for (i = 0; i < sizeof(sub) / sizeof(sub[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", c->run_dir, sub[i]);
		if (dir_grant(path, "system.posix_acl_access", pw->pw_uid) == -1)
			log_warn("%s: %s cannot prune dead launchers' tasks "
			    "there (agentgatectl task prune can)", path,
			    c->proxy_user);
	}
	if (dir_grant(c->run_dir, "system.posix_acl_default", pw->pw_uid) == -1)
		log_warn("%s: no default ACL: a tasks folder made again will "
		    "not be prunable by %s", c->run_dir, c->proxy_user);
}

static void
drop_privileges(const char *user)
{
	struct passwd *pw;

	if (geteuid() == 0 && user != NULL) {
		if ((pw = getpwnam(user)) == NULL)
			fatalx("proxy-user %s: no such user", user);
		if (setgroups(1, &pw->pw_gid) == -1 ||
		    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) == -1 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) == -1)
			fatal("cannot become %s", user);
		if (setuid(0) != -1)
			fatalx("privileges could be regained after dropping them");
		log_info("running as %s (uid %u)", user, (unsigned)pw->pw_uid);
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == -1)
		fatal("no_new_privs");
}

/*
 * Forever approvals are written after privileges are dropped, so
 * STATE_DIR/approvals belongs to proxy-user (made here while root).
 */
static void
approvals_dir_prepare(const struct ag_conf *c)
{
	char path[PATH_MAX];
	struct passwd *pw;

	snprintf(path, sizeof(path), "%s/approvals", c->state_dir);
	if ((mkdir(c->state_dir, 0755) == -1 && errno != EEXIST) ||
	    (mkdir(path, 0755) == -1 && errno != EEXIST)) {
		log_warn("%s: forever approvals cannot be written", path);
		return;
	}
	if (geteuid() != 0 || c->proxy_user == NULL ||
	    (pw = getpwnam(c->proxy_user)) == NULL)
		return;
	if (chown(path, pw->pw_uid, pw->pw_gid) == -1)
		log_warn("%s: forever approvals cannot be written as %s", path,
		    c->proxy_user);
}

/* What the signalfd callback works on. */
struct proxy_main {
	struct proxy	*p;
	struct conn_set	*tcp;
	int		 sigfd;
	int		 stop_signal;
};

static void
signal_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct proxy_main *m = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGHUP:
			log_info("SIGHUP: reloading");
			proxy_reload(m->p);
			approvals_reload(m->p->approvals);
			if (telemetry_reopen(m->p->telemetry) == -1)
				log_warn("telemetry reopen");
			break;
		case SIGTERM:
		case SIGINT:
			log_info("%s: stopping", strsignal((int)si.ssi_signo));
			m->stop_signal = (int)si.ssi_signo;
			m->p->stopping = true;
			loop_stop(l);
			break;
		}
	}
}

static void
emit_daemon(struct proxy *p, enum event_kind kind, const char *reason)
{
	struct ag_event ev;

	event_init(&ev, kind);
	ev.process_pid = getpid();
	ev.process_name = PROXY_SERVICE;
	ev.reason = reason;
	proxy_emit(p, &ev);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config",	required_argument, NULL, 'c' },
		{ "help",	no_argument,	   NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = AG_SYSCONFDIR "/agentgate.conf";
	int config_given = 0, check = 0, verbose = 0, ch;
	struct ag_conf conf;
	struct telemetry_config tcfg;
	struct proxy p;
	struct proxy_main m;
	struct loop *l;
	struct resolver *res;
	struct telemetry *tel;
	struct geoip *geo = NULL;
	sigset_t mask;
	char reason[64];
	struct dnsfwd *dns;
	struct control *ctl;
	struct hook *hook;

	while ((ch = getopt_long(argc, argv, "c:fnvh", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			config = optarg;
			config_given = 1;
			break;
		case 'f':
			break;
		case 'n':
			check = 1;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	log_init(PROXY_SERVICE, verbose > 0 ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO,
	    0);
	if (conf_init(&conf) == -1)
		fatal("settings");
	if (conf_read(&conf, config, config_given) == -1)
		exit(1);
	if (check) {
		ch = check_only(&conf);
		conf_free(&conf);
		return ch;
	}

	signal(SIGPIPE, SIG_IGN);
	raise_nofile(&conf);
	sigemptyset(&mask);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) == -1)
		fatal("sigprocmask");

	if ((l = loop_new()) == NULL)
		fatal("loop");
	if ((res = resolver_new(l, &conf)) == NULL) {
		if (errno == EINVAL)
			fatalx("no dns-upstream in %s: nothing could resolve",
			    config);
		fatal("resolver");
	}
	if (conf.geoip_country != NULL || conf.geoip_asn != NULL) {
		if ((geo = geoip_open(conf.geoip_country, conf.geoip_asn)) == NULL)
			log_warn("geoip: no enrichment");
	}
	tcfg = conf.telemetry;
	tcfg.dir = conf.log_dir;
	tcfg.service = PROXY_SERVICE;
	tcfg.geoip = geo;
	if ((tel = telemetry_open(&tcfg, PROXY_STREAM)) == NULL)
		fatal("telemetry %s", conf.log_dir);
	if (proxy_init(&p, &conf, l, res, tel) == -1)
		fatal("proxy");
	p.geoip = geo;
	if ((p.approvals = approvals_new(l, &conf)) == NULL ||
	    approvals_observe(p.approvals, conn_approval_observer, &p) == -1)
		fatal("approvals");
	approvals_dir_prepare(&conf);

	memset(&m, 0, sizeof(m));
	m.p = &p;
	if ((m.sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC)) == -1 ||
	    loop_add(l, m.sigfd, EPOLLIN, signal_cb, &m) == -1)
		fatal("signalfd");
	if ((m.tcp = conn_set_open(&p, conf.proxy_port,
	    conf.proxy_explicit_port)) == NULL)
		fatal("proxy listeners");
	p.tcp = m.tcp;
	if ((dns = dnsfwd_open(&p)) == NULL)
		fatal("DNS forwarder");
	p.dns = dns;
	/* The control socket is bound while still root; the hook runs as
	 * proxy-user. */
	if ((ctl = control_new(l, &conf, p.approvals)) == NULL)
		fatal("control socket %s", conf.control_socket);
	errno = 0;
	if ((hook = hook_new(l, &conf, p.approvals)) == NULL && errno != 0)
		fatal("approval hook %s", conf.approval_hook);
	run_dir_grant(&conf);
	drop_privileges(conf.proxy_user);

	emit_daemon(&p, EVENT_DAEMON_STARTED, NULL);
	log_info("listening on port %u (transparent) and %u (explicit)",
	    conf.proxy_port, conf.proxy_explicit_port);
	if (loop_run(l) == -1)
		log_warn("loop");

	/* Pending requests expire (events, watchers told) and close their
	 * held connections before the rest stops. */
	p.stopping = true;
	approvals_shutdown(p.approvals);
	conn_set_free(m.tcp);
	dnsfwd_close(dns);
	hook_free(hook);
	control_free(ctl);
	approvals_free(p.approvals);
	p.approvals = NULL;
	snprintf(reason, sizeof(reason), "%s", m.stop_signal != 0 ?
	    strsignal(m.stop_signal) : "loop failed");
	emit_daemon(&p, EVENT_DAEMON_STOPPED, reason);
	(void)loop_del(l, m.sigfd);
	close(m.sigfd);
	proxy_fini(&p);
	resolver_free(res);
	telemetry_close(tel);
	if (geo != NULL)
		geoip_close(geo);
	loop_free(l);
	conf_free(&conf);
	return m.stop_signal != 0 ? 0 : 1;
}
