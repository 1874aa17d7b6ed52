/*
 * Between lib/conf.c (reading the file) and lib/conf_keys.c (the keys and
 * their values): the state of one load and the calls each makes of the
 * other. Not for programs: they use conf.h.
 */
#ifndef AG_CONF_INT_H
#define AG_CONF_INT_H

#include "conf.h"

struct conf_ctx {
	const char	*file;
	unsigned	 line;
	unsigned	 errors;
	unsigned	 pool_line;	/* last line setting a pool (overlap check) */
	conf_error_fn	 err;
	void		*arg;
};

/* Report an error at the current file:line and count it. */
void conf_error(struct conf_ctx *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Apply one line's words (w[0] the key, n of them): 0, or -1 after
 * conf_error (unknown key, wrong count, bad value). */
int conf_key_apply(struct conf_ctx *x, struct ag_conf *c, char **w, int n);

/* After the whole file: the approval pools must not overlap the sandbox
 * pools (reported at the line that set the last pool). */
void conf_check_pools(struct conf_ctx *x, const struct ag_conf *c);

#endif
