/* lib/mkdir.h - create a directory and its missing parents. */
#pragma once

#include <sys/types.h>

/* As `mkdir -p`: the missing parents get PARENTS_MODE, PATH itself MODE
 * (existing directories are kept as they are).  0 or -errno. */
int mkdir_all(const char *path, mode_t parents_mode, mode_t mode);
/* mkdir_all with parents 0755. */
int mkdir_parents(const char *path, mode_t mode);
