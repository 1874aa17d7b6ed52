/*
 * What the registry's source files share and nothing else uses: the task
 * file naming rule and the folder maker.
 */
#ifndef AG_REGISTRY_INT_H
#define AG_REGISTRY_INT_H

#include <stdbool.h>

#include "registry.h"

#define REG_SUFFIX	".json"

/* "ID.json" with a valid ID, never a temp file: copies ID out. */
bool registry_file_name(const char *name, char id[REG_ID_MAX + 1]);

/* mkdir -p: parents 0755, DIR itself 0775 minus the umask (docs/registry.md).
 * Returns 0, or -1 with errno. */
int registry_mkdir_p(const char *dir);

#endif
