/*
 * The command's environment: the launcher's or none (--clear-env), then
 * each --env K=V, the last of one K winning.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"

/*
 * The command's environment: the launcher's (none with --clear-env), each
 * --env K=V replacing K. `sets` holds the --env values, already checked to
 * have a non-empty K and a '='. Returns a NULL-terminated array of borrowed
 * strings, or NULL with errno ENOMEM.
 */
char **
env_build(char **sets, size_t nsets, bool clear)
{
	extern char **environ;
	char **env, **e;
	size_t n = 0, i, j, klen;

	for (e = environ; !clear && e != NULL && *e != NULL; e++)
		n++;
	env = calloc(n + nsets + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	n = 0;
	for (e = environ; !clear && e != NULL && *e != NULL; e++) {
		for (i = 0; i < nsets; i++) {
			klen = (size_t)(strchr(sets[i], '=') - sets[i]) + 1;
			if (strncmp(*e, sets[i], klen) == 0)
				break;
		}
		if (i == nsets)
			env[n++] = *e;
	}
	for (i = 0; i < nsets; i++) {
		/* A later --env of the same K wins. */
		klen = (size_t)(strchr(sets[i], '=') - sets[i]) + 1;
		for (j = i + 1; j < nsets; j++)
			if (strncmp(sets[j], sets[i], klen) == 0)
				break;
		if (j == nsets)
			env[n++] = sets[i];
	}
	env[n] = NULL;
	return env;
}
