/*
 * agentgate.conf: the settings every agentgate program shares (folders,
 * telemetry), one `key value...` per line. Loading is all or nothing: a file
 * with any error leaves the caller's settings as they were.
 * The file is documented in docs/configuration.md.
 */
#ifndef AG_CONF_H
#define AG_CONF_H

#include <stdbool.h>
#include <stdint.h>

#include "addr.h"
#include "telemetry.h"

/* Gateway defaults (docs/configuration.md). */
#define CONF_DEFAULT_POOL4			"198.18.0.0/16"
#define CONF_DEFAULT_POOL6			"fd00:a6e0::/48"
#define CONF_DEFAULT_PROXY_PORT			3129
#define CONF_DEFAULT_PROXY_EXPLICIT_PORT	3128
#define CONF_DEFAULT_DNS_PORT			5353
#define CONF_DEFAULT_HANDSHAKE_MS		10000
#define CONF_DEFAULT_IDLE_MS			300000
#define CONF_DEFAULT_DNS_TIMEOUT_MS		3000
#define CONF_DEFAULT_MAX_CONNS			10000
#define CONF_DEFAULT_MAX_CONNS_TASK		1000
#define CONF_DNS_UPSTREAM_MAX			4
#define CONF_DEFAULT_APPROVAL_POOL4		"198.19.254.0/24"
#define CONF_DEFAULT_APPROVAL_POOL6		"fd00:a6e1::/112"
#define CONF_DEFAULT_APPROVAL_TTL_MS		5000
#define CONF_DEFAULT_APPROVAL_TIMEOUT_MS	120000
#define CONF_DEFAULT_APPROVAL_MAX_PENDING	32
#define CONF_DEFAULT_APPROVAL_HOOK_TIMEOUT_MS	10000
#define CONF_DEFAULT_CONTROL_GROUP		"agentgate"

/* A DNS server the gateway asks (dns-upstream). */
struct conf_upstream {
	struct ag_addr	addr;
	uint16_t	port;		/* 53 unless given */
};

struct ag_conf {
	char			*log_dir;	/* telemetry folder */
	char			*policy_dir;	/* NAME.rules */
	char			*run_dir;	/* task registry, control socket */
	char			*state_dir;	/* approvals that outlive restarts */
	char			*geoip_country;	/* MaxMind country database, or NULL */
	char			*geoip_asn;	/* MaxMind ASN database, or NULL */
	/* Writer settings; .dir points at log_dir, .geoip is left to the caller. */
	struct telemetry_config	 telemetry;

	/* Gateway (agentgatectl gateway, docs/gateway.md). Everything from a
	 * pool is sandbox traffic; prefixes of length 0 are refused. */
	struct ag_cidr		 sandbox_pool4;	/* AF_INET */
	struct ag_cidr		 sandbox_pool6;	/* AF_INET6 */
	uint16_t		 proxy_port;	/* transparent listener (REDIRECT) */
	uint16_t		 proxy_explicit_port; /* HTTP CONNECT, absolute-URI */
	uint16_t		 dns_port;	/* the DNS forwarder */
	uint16_t		 nfq_queue_first; /* NFQUEUE numbers, first..last */
	uint16_t		 nfq_queue_last;
	bool			 nfq_enable;	/* false: other traffic is dropped */
	/* nfq-mode packet-only: sandbox TCP goes to the queue, not to the
	 * proxy (docs/nfq.md); false: the proxy mode. */
	bool			 nfq_packet_only;

	/* Proxy and DNS forwarder (agentgate-proxy). */
	struct conf_upstream	 dns_upstream[CONF_DNS_UPSTREAM_MAX];
	size_t			 dns_upstream_count;	/* 0: none configured */
	uint64_t		 dns_timeout_ms;	/* one upstream query */
	uint64_t		 proxy_handshake_ms;	/* first bytes must arrive */
	uint64_t		 proxy_idle_ms;		/* no byte either way */
	uint32_t		 proxy_max_conns;	/* whole proxy */
	uint32_t		 proxy_max_conns_task;	/* per task */
	char			*proxy_user;		/* run as, after binding */

	/* Approvals (docs/approvals.md). The pools hold the synthetic
	 * addresses `ask` names are answered with; they never overlap the
	 * sandbox pools (conf_load refuses it). */
	struct ag_cidr		 approval_pool4;	/* AF_INET */
	struct ag_cidr		 approval_pool6;	/* AF_INET6 */
	uint64_t		 approval_ttl_ms;	/* TTL of synthetic answers */
	uint64_t		 approval_timeout_ms;	/* pending -> expired */
	uint32_t		 approval_max_pending;	/* pending requests per task */
	char			*approval_hook;		/* executable, or NULL */
	uint64_t		 approval_hook_timeout_ms;
	char			*control_socket;	/* see conf_settle() */
	bool			 control_socket_derived; /* not given: from run_dir */
	char			*control_group;		/* may use the control socket */
};

/* Called once per problem, in file order; loading goes on to report all. */
typedef void (*conf_error_fn)(void *arg, const char *file, unsigned line,
    const char *msg);

/* Built-in defaults (the compile-time folders). Returns 0, or -1 ENOMEM. */
int conf_init(struct ag_conf *c);

/*
 * Read `path` over the settings in `c`. Returns 0; or -1 with errno ENOENT
 * when the file does not exist (nothing reported: callers decide whether a
 * missing default file is fine), EINVAL after reporting every error through
 * `err`, or another errno from reading. On -1, `c` is unchanged.
 */
int conf_load(struct ag_conf *c, const char *path, conf_error_fn err, void *arg);

/*
 * What every program does at start: conf_load() with each problem logged as
 * "file:line: message" (log_warnx, so under the program's tag). A missing
 * file is fine unless `required` (the user named it with --config). Returns
 * 0, or -1 after logging why (nothing of a broken file is applied).
 */
int conf_read(struct ag_conf *c, const char *path, bool required);

/*
 * Fill the settings derived from others: control-socket, when the file
 * did not name it, becomes RUN_DIR/control.sock. conf_read() calls it;
 * a program that changes run_dir afterwards (a --run-dir flag) calls it
 * again. Returns 0, or -1 ENOMEM.
 */
int conf_settle(struct ag_conf *c);

/* Replace one folder setting (command-line flags win over the file). */
int conf_set_path(char **slot, const char *value);

void conf_free(struct ag_conf *c);

#endif
