/*
 * A small JSON writer into a growable buffer the caller owns. It only
 * writes; parsing is json-c's job. Strings are escaped so that no input
 * (quotes, control bytes, invalid UTF-8) can end a line or forge a field.
 */
#ifndef AG_JSON_H
#define AG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_buf {
	char	*data;		/* not NUL-terminated; see json_cstr() */
	size_t	 len;
	size_t	 cap;
	int	 err;		/* first errno seen (ENOMEM); sticky */
	bool	 heap;		/* data was malloc'ed by us */
};

/* Start empty. With a non-NULL stack buffer the writer uses it until it
 * needs more room, then moves to the heap. */
void	json_init(struct json_buf *j, char *stack, size_t size);
/* Forget the content, keep the memory and clear the error. */
void	json_reset(struct json_buf *j);
void	json_free(struct json_buf *j);

/*
 * Every writer call below returns 0, or -1 with errno ENOMEM. An error is
 * sticky: later calls do nothing and json_error() reports it, so a caller
 * may write a whole object and check once at the end. Commas are placed
 * automatically between members and elements.
 */
int	json_obj_begin(struct json_buf *j);
int	json_obj_end(struct json_buf *j);
int	json_arr_begin(struct json_buf *j);
int	json_arr_end(struct json_buf *j);
/* An object key (escaped like a string) followed by ':'. */
int	json_key(struct json_buf *j, const char *key);
/* A string value from bytes that need not be NUL-terminated nor valid
 * UTF-8: '"' and '\\' are escaped, bytes < 0x20, 0x7f, the C1 controls
 * and U+2028/U+2029 become \u escapes, invalid UTF-8 becomes U+FFFD. */
int	json_str(struct json_buf *j, const char *s, size_t len);
int	json_cstr(struct json_buf *j, const char *s);
int	json_int(struct json_buf *j, int64_t v);
int	json_uint(struct json_buf *j, uint64_t v);
int	json_boolean(struct json_buf *j, bool v);
/* Bytes copied as they are, with no comma logic: for splicing. */
int	json_raw(struct json_buf *j, const char *s, size_t len);

/* 0, or -1 with errno set to the sticky error. */
int	json_error(const struct json_buf *j);

#endif
