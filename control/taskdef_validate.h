/* control/taskdef_validate.h - RegisterTaskDefinition request -> stored
 * document, with ECS's validation rules (ECS-REFERENCE §1.1-1.4).  Pure: no
 * store, no clock, no globals; unit-testable on a cJSON document alone.
 */
#pragma once

#include <stdint.h>
#include <cjson/cJSON.h>

#include "lib/err.h"

#define TASKDEF_MAX_CONTAINERS 10
#define TASKDEF_MAX_DOC_BYTES (64 * 1024)

/* Checks REQ (the whole request body) and builds the normalized task
 * definition document: the request without "tags", task cpu/memory as
 * integer strings ("1 vCPU" -> "1024", "1GB" -> "1024"), and ECS's defaults
 * filled in (essential true, protocol tcp, hostPort per network mode, empty
 * lists).  Every other member is kept verbatim.  On failure returns -EINVAL
 * with e->type "ClientException" and ECS's message for the first rule
 * broken; *ret_doc is untouched. */
int taskdef_build(const cJSON *req, cJSON **ret_doc, struct err *e);

/* Parses task-level cpu: an integer number of units, or "<n> vCPU"
 * (case-insensitive, fractions allowed when they give whole units).  A JSON
 * number or string.  -EINVAL if malformed. */
int taskdef_parse_cpu(const cJSON *v, int64_t *ret);
/* Parses task-level memory: integer MiB, or "<n> GB" / "<n>GB".  -EINVAL. */
int taskdef_parse_memory(const cJSON *v, int64_t *ret);
