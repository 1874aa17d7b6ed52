/*
 * units.c and conf.c: durations and sizes as people write them, and
 * agentgate.conf parsing with file:line errors and all-or-nothing loading.
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
#include <sys/socket.h>

#include <cmocka.h>

#include "conf.h"
#include "units.h"

static const struct {
	const char	*in;
	int		 ok;
	uint64_t	 ms;
} duration_cases[] = {
	{ "0", 1, 0 },
	{ "0s", 1, 0 },
	{ "500ms", 1, 500 },
	{ "45s", 1, 45000 },
	{ "90m", 1, 5400000 },
	{ "2h", 1, 7200000 },
	{ "3d", 1, 259200000 },
	{ "1w", 1, 604800000 },
	{ "", 0, 0 },
	{ "5", 0, 0 },		/* a unit is required unless the value is 0 */
	{ "s", 0, 0 },
	{ "-5s", 0, 0 },
	{ "+5s", 0, 0 },
	{ "5 s", 0, 0 },
	{ "5S", 0, 0 },
	{ "1.5h", 0, 0 },
	{ "5sec", 0, 0 },
	{ "5y", 0, 0 },
	{ "99999999999999999999s", 0, 0 },
	{ "18446744073709552w", 0, 0 },	/* overflows when scaled */
};

static void
test_duration(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(duration_cases) / sizeof(duration_cases[0]); i++) {
		uint64_t ms = 12345;
		int rc = units_duration_ms(duration_cases[i].in, &ms);

		if (duration_cases[i].ok) {
			if (rc != 0)
				fail_msg("'%s' refused", duration_cases[i].in);
			assert_int_equal(ms, duration_cases[i].ms);
		} else if (rc != -1) {
			fail_msg("'%s' accepted as %llu ms", duration_cases[i].in,
			    (unsigned long long)ms);
		}
	}
}

static const struct {
	const char	*in;
	int		 ok;
	uint64_t	 bytes;
} size_cases[] = {
	{ "0", 1, 0 },
	{ "4096", 1, 4096 },
	{ "64K", 1, 65536 },
	{ "100M", 1, 104857600 },
	{ "2G", 1, 2147483648ULL },
	{ "1T", 1, 1099511627776ULL },
	{ "", 0, 0 },
	{ "M", 0, 0 },
	{ "10MB", 0, 0 },
	{ "10m", 0, 0 },
	{ "-1", 0, 0 },
	{ "1.5M", 0, 0 },
	{ "16777216T", 0, 0 },	/* 2^24 TiB = 2^64 bytes: one past the top */
};

static void
test_size(void **state)
{
	size_t i;

	for (i = 0; i < sizeof(size_cases) / sizeof(size_cases[0]); i++) {
		uint64_t b = 777;
		int rc = units_size(size_cases[i].in, &b);

		if (size_cases[i].ok) {
			if (rc != 0)
				fail_msg("'%s' refused", size_cases[i].in);
			assert_int_equal(b, size_cases[i].bytes);
		} else if (rc != -1) {
			fail_msg("'%s' accepted as %llu", size_cases[i].in, (unsigned long long)b);
		}
	}
}

/* Collected errors, one "line: msg" string each. */
struct errs {
	char	 text[4096];
	unsigned count;
};

static void
collect(void *arg, const char *file, unsigned line, const char *msg)
{
	struct errs *e = arg;
	size_t len = strlen(e->text);

	e->count++;
	snprintf(e->text + len, sizeof(e->text) - len, "%u: %s\n", line, msg);
}

static char *
write_conf(const char *body, size_t len)
{
	char *path = strdup("/tmp/agentgate-conf-XXXXXX");
	int fd;

	assert_non_null(path);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, body, len), (ssize_t)len);
	close(fd);
	return path;
}

static void
test_defaults(void **state)
{
	struct ag_conf c;

	assert_int_equal(conf_init(&c), 0);
	assert_string_equal(c.log_dir, AG_LOCALSTATEDIR "/log/agentgate");
	assert_string_equal(c.policy_dir, AG_SYSCONFDIR "/policies");
	assert_ptr_equal(c.telemetry.dir, c.log_dir);
	assert_int_equal(c.telemetry.failure, TELEMETRY_FAIL_CLOSED);
	assert_int_equal(c.telemetry.fsync, TELEMETRY_FSYNC_INTERVAL);
	assert_true(c.telemetry.fsync_interval_ms <= 1000);
	assert_null(c.geoip_country);
	/* Gateway: 198.18.0.0/16 and fd00:a6e0::/48, ports 3129/3128/5353,
	 * queue 0, nfq off. */
	assert_int_equal(c.sandbox_pool4.addr.family, AF_INET);
	assert_memory_equal(c.sandbox_pool4.addr.u.bytes, "\xc6\x12\x00\x00", 4);
	assert_int_equal(c.sandbox_pool4.len, 16);
	assert_int_equal(c.sandbox_pool6.addr.family, AF_INET6);
	assert_memory_equal(c.sandbox_pool6.addr.u.bytes,
	    "\xfd\x00\xa6\xe0\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(c.sandbox_pool6.len, 48);
	assert_int_equal(c.proxy_port, 3129);
	assert_int_equal(c.proxy_explicit_port, 3128);
	assert_int_equal(c.dns_port, 5353);
	assert_int_equal(c.nfq_queue_first, 0);
	assert_int_equal(c.nfq_queue_last, 0);
	assert_false(c.nfq_enable);
	assert_false(c.nfq_packet_only);
	conf_free(&c);
}

static void
test_load_good(void **state)
{
	static const char body[] =
	    "# a comment\r\n"
	    "\n"
	    "log-dir /srv/log   # trailing comment\n"
	    "\tpolicy-dir\t/srv/policies\n"
	    "telemetry-rotate-size 64M\n"
	    "telemetry-rotate-age 1h\n"
	    "telemetry-fsync interval 250ms\n"
	    "telemetry-on-failure allow\n"
	    "telemetry-backlog 500\n"
	    "geoip-country /srv/geo/country.mmdb\n"
	    "sandbox-pool4 10.99.0.0/20\n"
	    "sandbox-pool6 fd00:1:2::/64\n"
	    "proxy-port 65535\n"
	    "proxy-explicit-port 8080\n"
	    "dns-port 1\n"
	    "nfq-queues 4-7\n"
	    "nfq enable\n"
	    "nfq-mode packet-only\n"
	    "geoip-asn /srv/geo/asn.mmdb";	/* no final newline */
	struct errs e = { .count = 0 };
	struct ag_conf c;
	char *path = write_conf(body, sizeof(body) - 1);

	assert_int_equal(conf_init(&c), 0);
	assert_int_equal(conf_load(&c, path, collect, &e), 0);
	assert_int_equal(e.count, 0);
	assert_string_equal(c.log_dir, "/srv/log");
	assert_ptr_equal(c.telemetry.dir, c.log_dir);
	assert_string_equal(c.policy_dir, "/srv/policies");
	assert_string_equal(c.run_dir, AG_RUNSTATEDIR);
	assert_int_equal(c.telemetry.rotate_size, 64ULL << 20);
	assert_int_equal(c.telemetry.rotate_age_ms, 3600000);
	assert_int_equal(c.telemetry.fsync, TELEMETRY_FSYNC_INTERVAL);
	assert_int_equal(c.telemetry.fsync_interval_ms, 250);
	assert_int_equal(c.telemetry.failure, TELEMETRY_FAIL_OPEN);
	assert_int_equal(c.telemetry.backlog, 500);
	assert_string_equal(c.geoip_country, "/srv/geo/country.mmdb");
	assert_string_equal(c.geoip_asn, "/srv/geo/asn.mmdb");
	assert_int_equal(c.sandbox_pool4.addr.family, AF_INET);
	assert_memory_equal(c.sandbox_pool4.addr.u.bytes, "\x0a\x63\x00\x00", 4);
	assert_int_equal(c.sandbox_pool4.len, 20);
	assert_int_equal(c.sandbox_pool6.addr.family, AF_INET6);
	assert_memory_equal(c.sandbox_pool6.addr.u.bytes,
	    "\xfd\x00\x00\x01\x00\x02\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(c.sandbox_pool6.len, 64);
	assert_int_equal(c.proxy_port, 65535);
	assert_int_equal(c.proxy_explicit_port, 8080);
	assert_int_equal(c.dns_port, 1);
	assert_int_equal(c.nfq_queue_first, 4);
	assert_int_equal(c.nfq_queue_last, 7);
	assert_true(c.nfq_enable);
	assert_true(c.nfq_packet_only);
	conf_free(&c);
	unlink(path);
	free(path);
}

/* One queue number alone means first == last. */
static void
test_load_one_queue(void **state)
{
	static const char body[] = "nfq-queues 12\nnfq disable\n"
	    "nfq-mode proxy\n";
	struct errs e = { .count = 0 };
	struct ag_conf c;
	char *path = write_conf(body, sizeof(body) - 1);

	assert_int_equal(conf_init(&c), 0);
	c.nfq_enable = true;
	c.nfq_packet_only = true;
	assert_int_equal(conf_load(&c, path, collect, &e), 0);
	assert_int_equal(c.nfq_queue_first, 12);
	assert_int_equal(c.nfq_queue_last, 12);
	assert_false(c.nfq_enable);
	assert_false(c.nfq_packet_only);
	conf_free(&c);
	unlink(path);
	free(path);
}

/* Gateway settings that would make wrong or surprising rules. */
static void
test_load_gateway_errors(void **state)
{
	static const char body[] =
	    "sandbox-pool4 fd00::/8\n"
	    "sandbox-pool6 10.0.0.0/8\n"
	    "sandbox-pool4 0.0.0.0/0\n"
	    "sandbox-pool4 198.18.0.1/16\n"
	    "sandbox-pool4 198.18.0.0/33\n"
	    "sandbox-pool6 ::/0\n"
	    "proxy-port 0\n"
	    "proxy-port 65536\n"
	    "dns-port +53\n"
	    "proxy-explicit-port 0x50\n"
	    "dns-port 123456\n"
	    "nfq-queues 3-1\n"
	    "nfq-queues 1-\n"
	    "nfq-queues -1\n"
	    "nfq-queues 65536\n"
	    "nfq-queues 1-2-3\n"
	    "nfq on\n"
	    "nfq\n"
	    "nfq-mode packet\n";
	static const char want[] =
	    "1: bad IPv4 prefix 'fd00::/8' (ADDRESS/LENGTH, length 1 to 32, no host bits)\n"
	    "2: bad IPv6 prefix '10.0.0.0/8' (ADDRESS/LENGTH, length 1 to 128, no host bits)\n"
	    "3: bad IPv4 prefix '0.0.0.0/0' (ADDRESS/LENGTH, length 1 to 32, no host bits)\n"
	    "4: bad IPv4 prefix '198.18.0.1/16' (ADDRESS/LENGTH, length 1 to 32, no host bits)\n"
	    "5: bad IPv4 prefix '198.18.0.0/33' (ADDRESS/LENGTH, length 1 to 32, no host bits)\n"
	    "6: bad IPv6 prefix '::/0' (ADDRESS/LENGTH, length 1 to 128, no host bits)\n"
	    "7: bad port '0' (1 to 65535)\n"
	    "8: bad port '65536' (1 to 65535)\n"
	    "9: bad port '+53' (1 to 65535)\n"
	    "10: bad port '0x50' (1 to 65535)\n"
	    "11: bad port '123456' (1 to 65535)\n"
	    "12: bad queues '3-1' (N or N-M, 0 to 65535, N <= M)\n"
	    "13: bad queues '1-' (N or N-M, 0 to 65535, N <= M)\n"
	    "14: bad queues '-1' (N or N-M, 0 to 65535, N <= M)\n"
	    "15: bad queues '65536' (N or N-M, 0 to 65535, N <= M)\n"
	    "16: bad queues '1-2-3' (N or N-M, 0 to 65535, N <= M)\n"
	    "17: nfq takes 'enable' or 'disable'\n"
	    "18: nfq takes 1 value\n"
	    "19: nfq-mode takes 'proxy' or 'packet-only'\n";
	struct errs e = { .count = 0 };
	struct ag_conf c;
	char *path = write_conf(body, sizeof(body) - 1);

	assert_int_equal(conf_init(&c), 0);
	assert_int_equal(conf_load(&c, path, collect, &e), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(e.text, want);
	assert_int_equal(c.sandbox_pool4.len, 16);
	assert_int_equal(c.proxy_port, 3129);
	conf_free(&c);
	unlink(path);
	free(path);
}

static void
test_load_errors(void **state)
{
	static const char body[] =
	    "log-dir /srv/log\n"
	    "log-dirs /x\n"
	    "log\n"
	    "log-dir relative/path\n"
	    "telemetry-fsync sometimes\n"
	    "telemetry-fsync interval 0ms\n"
	    "telemetry-rotate-size 10MB\n"
	    "telemetry-on-failure maybe\n"
	    "run-dir /a /b\n"
	    "state-dir\n"
	    "policy-dir /p\x01q\n"
	    "geoip-asn /a\0b\n";
	static const char want[] =
	    "2: unknown setting 'log-dirs'\n"
	    "3: unknown setting 'log'\n"
	    "4: 'relative/path' is not an absolute path\n"
	    "5: telemetry-fsync takes 'always', 'never' or 'interval DURATION'\n"
	    "6: bad fsync interval '0ms' (1ms to 1h)\n"
	    "7: bad size '10MB' (bytes with an optional K, M, G or T; 0 = never)\n"
	    "8: telemetry-on-failure takes 'deny' (fail closed) or 'allow' (labs only)\n"
	    "9: run-dir takes 1 value\n"
	    "10: state-dir takes 1 value\n"
	    "11: control character 0x01\n"
	    "12: NUL byte\n";
	struct errs e = { .count = 0 };
	struct ag_conf c;
	char *path = write_conf(body, sizeof(body) - 1);

	assert_int_equal(conf_init(&c), 0);
	errno = 0;
	assert_int_equal(conf_load(&c, path, collect, &e), -1);
	assert_int_equal(errno, EINVAL);
	assert_string_equal(e.text, want);
	/* Nothing of the broken file is applied, not even its valid line 1. */
	assert_string_equal(c.log_dir, AG_LOCALSTATEDIR "/log/agentgate");
	conf_free(&c);
	unlink(path);
	free(path);
}

static void
test_load_missing(void **state)
{
	struct errs e = { .count = 0 };
	struct ag_conf c;

	assert_int_equal(conf_init(&c), 0);
	assert_int_equal(conf_load(&c, "/nonexistent/agentgate.conf", collect, &e), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(e.count, 0);
	assert_string_equal(c.log_dir, AG_LOCALSTATEDIR "/log/agentgate");
	conf_free(&c);
}

static void
test_long_line(void **state)
{
	char body[5000 + 32];
	struct errs e = { .count = 0 };
	struct ag_conf c;
	char *path;

	memset(body, 'a', 5000);
	strcpy(body + 5000, "\nlog-dir /ok\n");
	path = write_conf(body, strlen(body));
	assert_int_equal(conf_init(&c), 0);
	assert_int_equal(conf_load(&c, path, collect, &e), -1);
	assert_string_equal(e.text, "1: line longer than 4096 bytes\n");
	conf_free(&c);
	unlink(path);
	free(path);
}

static void
test_proxy_settings(void **state)
{
	static const char body[] =
	    "dns-upstream 198.19.0.53 [fd00:a9:ff::53]:5300 198.19.0.54:54 fd00::1\n"
	    "dns-timeout 1500ms\n"
	    "proxy-handshake-timeout 5s\n"
	    "proxy-idle-timeout 2m\n"
	    "proxy-max-conns 500\n"
	    "proxy-max-conns-per-task 20\n"
	    "proxy-user agentgate\n";
	static const char bad[] =
	    "dns-upstream 198.19.0.53 a b c d\n"
	    "dns-upstream example.com\n"
	    "dns-upstream 198.19.0.53:0\n"
	    "dns-upstream [fd00::1\n"
	    "dns-timeout 10ms\n"
	    "proxy-idle-timeout forever\n"
	    "proxy-max-conns 0\n"
	    "proxy-max-conns-per-task 5K\n"
	    "proxy-user ro/ot\n";
	static const char want[] =
	    "1: dns-upstream takes 1 to 4 values\n"
	    "2: bad DNS server 'example.com' (ADDRESS, ADDRESS:PORT or [IPv6]:PORT)\n"
	    "3: bad DNS server '198.19.0.53:0' (ADDRESS, ADDRESS:PORT or [IPv6]:PORT)\n"
	    "4: bad DNS server '[fd00::1' (ADDRESS, ADDRESS:PORT or [IPv6]:PORT)\n"
	    "5: bad duration '10ms' (100ms to 60s, e.g. 500ms, 10s, 5m)\n"
	    "6: bad duration 'forever' (1000ms to 86400s, e.g. 500ms, 10s, 5m)\n"
	    "7: bad count '0' (1 to 1000000)\n"
	    "8: bad count '5K' (1 to 1000000)\n"
	    "9: bad user name 'ro/ot'\n";
	struct errs e = { .count = 0 };
	struct ag_conf c;
	char buf[AG_ADDR_STRLEN];
	char *path = write_conf(body, sizeof(body) - 1);

	assert_int_equal(conf_init(&c), 0);
	assert_int_equal(c.dns_upstream_count, 0);
	assert_int_equal(c.proxy_handshake_ms, CONF_DEFAULT_HANDSHAKE_MS);
	assert_string_equal(c.proxy_user, "nobody");
	assert_int_equal(conf_load(&c, path, collect, &e), 0);
	assert_int_equal(c.dns_upstream_count, 4);
	assert_string_equal(addr_format(&c.dns_upstream[0].addr, buf, sizeof(buf)), "198.19.0.53");
	assert_int_equal(c.dns_upstream[0].port, 53);
	assert_string_equal(addr_format(&c.dns_upstream[1].addr, buf, sizeof(buf)), "fd00:a9:ff::53");
	assert_int_equal(c.dns_upstream[1].port, 5300);
	assert_int_equal(c.dns_upstream[2].port, 54);
	assert_string_equal(addr_format(&c.dns_upstream[3].addr, buf, sizeof(buf)), "fd00::1");
	assert_int_equal(c.dns_upstream[3].port, 53);
	assert_int_equal(c.dns_timeout_ms, 1500);
	assert_int_equal(c.proxy_handshake_ms, 5000);
	assert_int_equal(c.proxy_idle_ms, 120000);
	assert_int_equal(c.proxy_max_conns, 500);
	assert_int_equal(c.proxy_max_conns_task, 20);
	assert_string_equal(c.proxy_user, "agentgate");
	unlink(path);
	free(path);

	path = write_conf(bad, sizeof(bad) - 1);
	assert_int_equal(conf_load(&c, path, collect, &e), -1);
	assert_string_equal(e.text, want);
	assert_string_equal(c.proxy_user, "agentgate");	/* unchanged */
	conf_free(&c);
	unlink(path);
	free(path);
}

static void
test_approval_settings(void **state)
{
	static const char body[] =
	    "approval-pool4 198.19.200.0/24\n"
	    "approval-pool6 fd00:a6e2::/120\n"
	    "approval-ttl 2s\n"
	    "approval-timeout 30s\n"
	    "approval-max-pending 4\n"
	    "approval-hook /usr/local/libexec/approve\n"
	    "approval-hook-timeout 500ms\n"
	    "control-group ops\n";
	static const char bad[] =
	    "approval-pool4 fd00::/64\n"
	    "approval-ttl 10ms\n"
	    "approval-timeout 2d\n"
	    "approval-max-pending 0\n"
	    "approval-hook relative/hook\n"
	    "control-socket sock\n"
	    "control-group a:b\n";
	static const char want_bad[] =
	    "1: bad IPv4 prefix 'fd00::/64' (ADDRESS/LENGTH, length 1 to 32, no host bits)\n"
	    "2: bad duration '10ms' (1000ms to 3600s, e.g. 500ms, 10s, 5m)\n"
	    "3: bad duration '2d' (1000ms to 86400s, e.g. 500ms, 10s, 5m)\n"
	    "4: bad count '0' (1 to 1000000)\n"
	    "5: 'relative/hook' is not an absolute path\n"
	    "6: 'sock' is not an absolute path\n"
	    "7: bad group name 'a:b'\n";
	/* The overlap is reported at the last line that set a pool. */
	static const char overlap[] =
	    "approval-pool4 198.18.7.0/24\n"
	    "approval-pool6 fd00:a6e1::/112\n"
	    "sandbox-pool6 fd00::/16\n"
	    "run-dir /tmp\n";
	static const char want_overlap[] =
	    "3: approval-pool4 overlaps sandbox-pool4\n"
	    "3: approval-pool6 overlaps sandbox-pool6\n";
	static const char named[] = "control-socket /tmp/ag.sock\napproval-hook none\n";
	struct errs e = { .count = 0 };
	struct ag_conf c;
	char *path;

	assert_int_equal(conf_init(&c), 0);
	/* Defaults: 198.19.254.0/24, fd00:a6e1::/112, 5s, 120s, 32, no
	 * hook, 10s, group agentgate, socket derived from run-dir. */
	assert_memory_equal(c.approval_pool4.addr.u.bytes, "\xc6\x13\xfe\x00", 4);
	assert_int_equal(c.approval_pool4.len, 24);
	assert_memory_equal(c.approval_pool6.addr.u.bytes,
	    "\xfd\x00\xa6\xe1\0\0\0\0\0\0\0\0\0\0\0\0", 16);
	assert_int_equal(c.approval_pool6.len, 112);
	assert_int_equal(c.approval_ttl_ms, 5000);
	assert_int_equal(c.approval_timeout_ms, 120000);
	assert_int_equal(c.approval_max_pending, 32);
	assert_null(c.approval_hook);
	assert_int_equal(c.approval_hook_timeout_ms, 10000);
	assert_string_equal(c.control_group, "agentgate");
	assert_int_equal(conf_settle(&c), 0);
	assert_string_equal(c.control_socket, AG_RUNSTATEDIR "/control.sock");
	assert_int_equal(conf_set_path(&c.run_dir, "/tmp/ag-run"), 0);
	assert_int_equal(conf_settle(&c), 0);
	assert_string_equal(c.control_socket, "/tmp/ag-run/control.sock");

	path = write_conf(body, sizeof(body) - 1);
	assert_int_equal(conf_load(&c, path, collect, &e), 0);
	assert_int_equal(e.count, 0);
	assert_memory_equal(c.approval_pool4.addr.u.bytes, "\xc6\x13\xc8\x00", 4);
	assert_int_equal(c.approval_pool6.len, 120);
	assert_int_equal(c.approval_ttl_ms, 2000);
	assert_int_equal(c.approval_timeout_ms, 30000);
	assert_int_equal(c.approval_max_pending, 4);
	assert_string_equal(c.approval_hook, "/usr/local/libexec/approve");
	assert_int_equal(c.approval_hook_timeout_ms, 500);
	assert_string_equal(c.control_group, "ops");
	unlink(path);
	free(path);

	path = write_conf(bad, sizeof(bad) - 1);
	assert_int_equal(conf_load(&c, path, collect, &e), -1);
	assert_string_equal(e.text, want_bad);
	assert_int_equal(c.approval_max_pending, 4);	/* unchanged */
	unlink(path);
	free(path);

	e.text[0] = '\0';
	e.count = 0;
	path = write_conf(overlap, sizeof(overlap) - 1);
	assert_int_equal(conf_load(&c, path, collect, &e), -1);
	assert_string_equal(e.text, want_overlap);
	unlink(path);
	free(path);

	/* A socket named in the file stays when run_dir changes. */
	path = write_conf(named, sizeof(named) - 1);
	assert_int_equal(conf_load(&c, path, collect, &e), 0);
	assert_null(c.approval_hook);
	assert_int_equal(conf_set_path(&c.run_dir, "/tmp/elsewhere"), 0);
	assert_int_equal(conf_settle(&c), 0);
	assert_string_equal(c.control_socket, "/tmp/ag.sock");
	unlink(path);
	free(path);
	conf_free(&c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_proxy_settings),
		cmocka_unit_test(test_approval_settings),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_one_queue),
		cmocka_unit_test(test_load_gateway_errors),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_long_line),
	};

	return cmocka_run_group_tests_name("conf", tests, NULL, NULL);
}
