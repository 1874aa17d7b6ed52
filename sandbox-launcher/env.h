/*
 * The command's environment (env.c), built from the launcher's and the
 * --env settings, as env(1) would.
 */
#ifndef AG_ENV_H
#define AG_ENV_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The launcher's environment (none when clear), each of sets[0..nsets)
 * ("K=V", checked by the caller to have a non-empty K and a '=')
 * replacing K; a later one of the same K wins. Returns a NULL-terminated
 * array of borrowed strings (free the array only), or NULL with errno
 * ENOMEM.
 */
char	**env_build(char **sets, size_t nsets, bool clear);

#endif
