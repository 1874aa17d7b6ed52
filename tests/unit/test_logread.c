/*
 * Unit tests for reading a telemetry folder: which files count, their order
 * by first seq (not by name), the k-way merge by (@timestamp, stream, seq)
 * with malformed lines skipped; and the escapers for hostile strings.
 */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "logfmt.h"
#include "logread.h"

static void
put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
}

#define EV(ts, st, seq, id) \
	"{\"@timestamp\":\"2026-11-27T10:00:0" ts "Z\",\"event\":{\"action\":" \
	"\"egress\"},\"agentgate\":{\"stream\":\"" st "\",\"seq\":" seq \
	",\"task\":{\"id\":\"" id "\"}}}\n"

static void
test_merge(void **state)
{
	char tmpl[] = "/tmp/test_logread.XXXXXX", path[600];
	const char *dir = mkdtemp(tmpl);
	const struct lr_head *h;
	struct log_filter f;
	struct lr_merge m;
	struct lr_dir d;
	char got[64] = "";
	size_t i;

	assert_non_null(dir);
	/* Stream a: the rotated file sorts after the active one by name but
	 * holds the earlier seqs. */
	put(dir, "egress-a.jsonl.zzz", EV("1", "a", "1", "a1") EV("3", "a",
	    "2", "a2"));
	put(dir, "egress-a.jsonl", EV("5", "a", "3", "a3"));
	put(dir, "egress-b.jsonl", EV("2", "b", "7", "b7") "not json\n"
	    EV("3", "b", "8", "b8") EV("4", "b", "9", "b9")
	    "{\"@timestamp\":\"2026-11-27T10:00:06Z\"");
	/* Not telemetry files. */
	put(dir, "egress-b.jsonl.1.gz", EV("0", "b", "1", "gz"));
	put(dir, "notes.txt", EV("0", "x", "1", "txt"));
	put(dir, "egress-.jsonl", EV("0", "x", "1", "nostream"));
	put(dir, "ingress-a.jsonl", EV("0", "a", "1", "ingress"));
	snprintf(path, sizeof(path), "%s/egress-d.jsonl", dir);
	assert_int_equal(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/egress-c.jsonl", dir);
	assert_int_equal(symlink("egress-a.jsonl", path), 0);

	assert_int_equal(lr_dir_scan(dir, &d), 0);
	assert_int_equal(d.nstreams, 2);
	assert_string_equal(d.streams[0].name, "a");
	assert_int_equal(d.streams[0].nfiles, 2);
	assert_string_equal(d.streams[0].files[0].name, "egress-a.jsonl.zzz");
	assert_int_equal(d.streams[0].files[0].first_seq, 1);
	assert_string_equal(d.streams[0].files[1].name, "egress-a.jsonl");
	assert_string_equal(d.streams[1].name, "b");
	assert_int_equal(d.streams[1].nfiles, 1);

	filter_init(&f);
	assert_int_equal(lr_merge_init(&m, &d, &f, false), 0);
	while ((h = lr_merge_next(&m)) != NULL) {
		strcat(got, h->rec.task);
		strcat(got, " ");
	}
	/* a2 and b8 share a time: stream name decides. */
	assert_string_equal(got, "a1 b7 a2 b8 b9 a3 ");
	assert_int_equal(m.malformed, 2);	/* "not json", the torn tail */
	lr_merge_free(&m);

	/* With a filter the same order holds for what is left. */
	filter_init(&f);
	assert_int_equal(filter_set_task(&f, "b8"), 0);
	assert_int_equal(lr_merge_init(&m, &d, &f, false), 0);
	assert_non_null(h = lr_merge_next(&m));
	assert_string_equal(h->rec.task, "b8");
	assert_int_equal(h->line.lineno, 3);
	assert_int_equal(h->line.len, strlen(EV("3", "b", "8", "b8")) - 1);
	assert_null(lr_merge_next(&m));
	assert_null(lr_merge_next(&m));
	lr_merge_free(&m);
	lr_dir_free(&d);

	/* Clean up the folder. */
	static const char *const names[] = { "egress-a.jsonl.zzz",
	    "egress-a.jsonl", "egress-b.jsonl", "egress-b.jsonl.1.gz",
	    "notes.txt", "egress-.jsonl", "ingress-a.jsonl", "egress-c.jsonl" };
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/egress-d.jsonl", dir);
	rmdir(path);
	rmdir(dir);
}

static void
test_follow(void **state)
{
	char tmpl[] = "/tmp/test_logread.XXXXXX", a[600], b[600];
	const char *dir = mkdtemp(tmpl);
	const struct lr_head *h;
	struct log_filter f;
	struct lr_merge m;
	struct lr_dir d;
	FILE *fp;

	assert_non_null(dir);
	snprintf(a, sizeof(a), "%s/egress-a.jsonl", dir);
	snprintf(b, sizeof(b), "%s/egress-a.jsonl.1", dir);
	put(dir, "egress-a.jsonl", EV("1", "a", "1", "x1"));
	assert_int_equal(lr_dir_scan(dir, &d), 0);
	filter_init(&f);
	assert_int_equal(lr_merge_init(&m, &d, &f, true), 0);
	assert_non_null(h = lr_merge_next(&m));
	assert_string_equal(h->rec.task, "x1");
	assert_null(lr_merge_next(&m));
	/* Half a line is held back until its newline arrives. */
	assert_non_null(fp = fopen(a, "a"));
	fputs("{\"@timestamp\":\"2026-11-27T10:00:02Z\",\"agentgate\":{"
	    "\"task\":{\"id\":\"x2\"}}}", fp);
	fflush(fp);
	assert_int_equal(lr_merge_refill(&m), 0);
	assert_null(lr_merge_next(&m));
	fputs("\n", fp);
	fclose(fp);
	/* Rotation: renamed, a new active file, more lines in both. */
	assert_int_equal(rename(a, b), 0);
	put(dir, "egress-a.jsonl", EV("3", "a", "3", "x3"));
	assert_int_equal(lr_merge_refill(&m), 0);
	assert_non_null(h = lr_merge_next(&m));
	assert_string_equal(h->rec.task, "x2");
	assert_non_null(h = lr_merge_next(&m));
	assert_string_equal(h->rec.task, "x3");
	assert_null(lr_merge_next(&m));
	/* A new stream appears. */
	put(dir, "egress-z.jsonl", EV("4", "z", "1", "z1"));
	assert_int_equal(lr_merge_refill(&m), 0);
	assert_non_null(h = lr_merge_next(&m));
	assert_string_equal(h->rec.task, "z1");
	assert_null(lr_merge_next(&m));
	lr_merge_free(&m);
	lr_dir_free(&d);
	unlink(a);
	unlink(b);
	snprintf(a, sizeof(a), "%s/egress-z.jsonl", dir);
	unlink(a);
	rmdir(dir);
}

static void
test_escape(void **state)
{
	static const struct {
		const char	*in;
		const char	*text, *csv, *html, *md;
	} cases[] = {
		{ "plain.example", "plain.example", "plain.example",
		  "plain.example", "plain.example" },
		{ "\x1b[31mred", "\\x1b[31mred", "\\x1b[31mred", "\\x1b[31mred",
		  "\\\\x1b\\[31mred" },
		{ "a\nb\r\tc\x7f", "a\\nb\\r\\tc\\x7f", "a\\nb\\r\\tc\\x7f",
		  "a\\nb\\r\\tc\\x7f", "a\\\\nb\\\\r\\\\tc\\\\x7f" },
		{ "back\\slash", "back\\\\slash", "back\\\\slash",
		  "back\\\\slash", "back\\\\\\\\slash" },
		{ "C1 \xc2\x9b" "31m", "C1 \\u009b31m", "C1 \\u009b31m",
		  "C1 \\u009b31m", "C1 \\\\u009b31m" },
		{ "rtl \xe2\x80\xae" "txt.exe", "rtl \\u202etxt.exe",
		  "rtl \\u202etxt.exe", "rtl \\u202etxt.exe",
		  "rtl \\\\u202etxt.exe" },
		{ "b\xc3\xbc" "cher", "b\xc3\xbc" "cher", "b\xc3\xbc" "cher",
		  "b\xc3\xbc" "cher", "b\xc3\xbc" "cher" },
		{ "a,b", "a,b", "\"a,b\"", "a,b", "a,b" },
		{ "say \"hi\"", "say \"hi\"", "\"say \"\"hi\"\"\"",
		  "say &quot;hi&quot;", "say &quot;hi&quot;" },
		{ "<img src=x onerror='y'>&", "<img src=x onerror='y'>&",
		  "<img src=x onerror='y'>&",
		  "&lt;img src=x onerror=&#39;y&#39;&gt;&amp;",
		  "&lt;img src=x onerror=&#39;y&#39;&gt;&amp;" },
		{ "| *x* _y_ `z` #", "| *x* _y_ `z` #", "| *x* _y_ `z` #",
		  "| *x* _y_ `z` #", "\\| \\*x\\* \\_y\\_ \\`z\\` \\#" },
		{ " lead", " lead", "\" lead\"", " lead", " lead" },
		/* Not UTF-8: each stray byte shown as a byte. */
		{ "\xff\x9b" "1", "\\xff\\x9b1", "\\xff\\x9b1", "\\xff\\x9b1",
		  "\\\\xff\\\\x9b1" },
		{ "\xc0\xaf|\xe2\x80", "\\xc0\\xaf|\\xe2\\x80",
		  "\\xc0\\xaf|\\xe2\\x80", "\\xc0\\xaf|\\xe2\\x80",
		  "\\\\xc0\\\\xaf\\|\\\\xe2\\\\x80" },
		{ "\xed\xa0\x80\xf4\x90\x80\x80", "\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80",
		  "\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80",
		  "\\xed\\xa0\\x80\\xf4\\x90\\x80\\x80",
		  "\\\\xed\\\\xa0\\\\x80\\\\xf4\\\\x90\\\\x80\\\\x80" },
		{ "emoji \xf0\x9f\x98\x80", "emoji \xf0\x9f\x98\x80",
		  "emoji \xf0\x9f\x98\x80", "emoji \xf0\x9f\x98\x80",
		  "emoji \xf0\x9f\x98\x80" },
	};
	struct sbuf b = { NULL, 0, 0 };
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *in = cases[i].in;

		sbuf_reset(&b);
		fmt_text(&b, in, strlen(in));
		assert_string_equal(sbuf_str(&b), cases[i].text);
		sbuf_reset(&b);
		fmt_csv(&b, in, strlen(in));
		assert_string_equal(sbuf_str(&b), cases[i].csv);
		sbuf_reset(&b);
		fmt_html(&b, in, strlen(in));
		assert_string_equal(sbuf_str(&b), cases[i].html);
		sbuf_reset(&b);
		fmt_md(&b, in, strlen(in));
		assert_string_equal(sbuf_str(&b), cases[i].md);
	}
	/* A NUL inside a string is shown, not a place to stop. */
	sbuf_reset(&b);
	fmt_text(&b, "a\0b", 3);
	assert_string_equal(sbuf_str(&b), "a\\x00b");
	sbuf_reset(&b);
	fmt_addr_port(&b, "fd00::1", 443);
	assert_string_equal(sbuf_str(&b), "[fd00::1]:443");
	sbuf_reset(&b);
	fmt_addr_port(&b, "198.18.0.1", 80);
	assert_string_equal(sbuf_str(&b), "198.18.0.1:80");
	sbuf_reset(&b);
	fmt_addr_port(&b, NULL, -1);
	assert_string_equal(sbuf_str(&b), "-");
	sbuf_free(&b);
}

static void
test_tally(void **state)
{
	struct tally t;
	char k[16];
	int i;

	tally_init(&t);
	/* Enough keys to rehash several times. */
	for (i = 0; i < 1000; i++) {
		snprintf(k, sizeof(k), "n%d", i % 300);
		tally_get(&t, k, i / 300 % 2 ? "denied" : "allowed")->count++;
	}
	tally_get(&t, "top", "allowed")->count += 50;
	assert_int_equal(t.n, 601);
	tally_sort(&t);
	assert_string_equal(t.ents[0].k1, "top");
	assert_int_equal(t.ents[0].count, 50);
	/* n0..n99 were seen 4 times (2 per outcome): ties by k1, then k2. */
	assert_string_equal(t.ents[1].k1, "n0");
	assert_string_equal(t.ents[1].k2, "allowed");
	assert_int_equal(t.ents[1].count, 2);
	assert_string_equal(t.ents[2].k1, "n0");
	assert_string_equal(t.ents[2].k2, "denied");
	assert_int_equal(t.ents[t.n - 1].count, 1);
	tally_free(&t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_follow),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_tally),
	};

	return cmocka_run_group_tests_name("logread", tests, NULL, NULL);
}
