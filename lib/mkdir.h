/* lib/mkdir.h - create a directory and its missing parents. */
#pragma once

#include <sys/types.h>

/* As `mkdir -p`: the missing parents get 0755, PATH itself MODE (an
 * existing PATH is kept as it is).  0 or -errno. */
int mkdir_parents(const char *path, mode_t mode);
