/* lib/fileio.h - small file helpers; all return 0 or a negative errno. */
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Writes LEN bytes to DIRFD/NAME (O_WRONLY|O_TRUNC, no create) in one write(2):
 * cgroup and proc files need the whole value in a single call. */
int write_file_at(int dirfd, const char *name, const char *buf, size_t len);
/* Like write_file_at, creating the file with MODE if needed. */
int write_file_create_at(int dirfd, const char *name, const char *buf, size_t len, mode_t mode);
/* Reads up to SIZE-1 bytes of DIRFD/NAME into BUF, NUL-terminated; *ret_len
 * (may be NULL) gets the length.  -EFBIG if the file is larger. */
int read_file_at(int dirfd, const char *name, char *buf, size_t size, size_t *ret_len);
/* Reads a whole file into a new malloc'd, NUL-terminated buffer (max MAX bytes). */
int read_file_alloc(const char *path, size_t max, char **ret, size_t *ret_len);
/* Parses a decimal unsigned 64-bit number, whole string, surrounding
 * whitespace allowed.  -EINVAL or -ERANGE. */
int parse_u64(const char *s, uint64_t *ret);
