/* runtime/shim_spec_int.h - what the parts of spec.json parsing share
 * (runtime/shim_spec*.c only; the interface is shim_spec_parse in
 * shim_int.h):
 *
 *   shim_spec.c         the task and its containers, dependsOn order
 *   shim_spec_fields.c  dns, extraHosts, sysctls, devices, tmpfs
 *   shim_spec_get.c     typed getters, owned allocations, names and paths
 *
 * Getters: an absent or null member is "not given" (*RET = NULL, 0 or the
 * default); a member of the wrong type or out of range fails with E naming
 * WHAT (the part being parsed) and KEY.  Strings and arrays they return are
 * owned by the task and freed by shim_task_release. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/json.h"
#include "runtime/shim_int.h"

/* Records P (malloc'd) as the task's; on failure frees P.  P or NULL. */
void *shim_own(struct shim_task *t, void *p);
char *shim_own_str(struct shim_task *t, const char *s);

/* Member KEY of O; NULL when absent or null. */
const cJSON *shim_field(const cJSON *o, const char *key);
/* A string of at most 64 KiB. */
bool shim_str_ok(const char *s);

int shim_get_str(struct shim_task *t, const cJSON *o, const char *what, const char *key,
		 char **ret, struct err *e);
int shim_get_u64(const cJSON *o, const char *what, const char *key, uint64_t min, uint64_t max,
		 uint64_t dflt, uint64_t *ret, struct err *e);
int shim_get_bool(const cJSON *o, const char *what, const char *key, bool dflt, bool *ret,
		  struct err *e);
/* A NULL-terminated string array of at most 4096 (*RET = NULL when absent). */
int shim_get_strv(struct shim_task *t, const cJSON *o, const char *what, const char *key,
		  char ***ret, size_t *ret_n, struct err *e);
/* The index in NAMES[0..N) of the string KEY (NULL names never match). */
int shim_get_enum(const cJSON *o, const char *what, const char *key, const char *const *names,
		  size_t n, int dflt, int *ret, struct err *e);
/* A string list of at most MAX entries, each passing OK. */
int shim_get_checked_strv(struct shim_task *t, const cJSON *o, const char *what, const char *key,
			  size_t max, bool (*ok)(const char *), char ***ret, size_t *ret_n,
			  struct err *e);
/* A list of at most MAX objects: *RET = a zeroed array of *RET_N + 1 of SIZE. */
int shim_get_obj_list(struct shim_task *t, const cJSON *o, const char *what, const char *key,
		      size_t max, size_t size, void **ret, size_t *ret_n, struct err *e);

/* 1-MAX of [A-Za-z0-9_-] (and '.' with DOTS), not starting with '.'. */
bool shim_name_ok(const char *s, size_t max, bool dots);
/* Absolute, with no ".." component. */
bool shim_abs_path_ok(const char *p);

/* shim_spec_fields.c: container O's dns, sysctls, devices and tmpfs into C. */
int shim_parse_ctr_fields(struct shim_task *t, struct shim_ctr_spec *c, const cJSON *o,
			  const char *what, struct err *e);
