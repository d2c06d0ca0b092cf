/* control/schema.h - request shapes of the ECS model, and the checker.
 *
 * The shapes (member names, JSON types, required flags, enum values) are
 * generated from botocore's ECS model into schema_gen.c.  schema_check() is
 * pure: it walks a parsed request and rejects unknown members, wrong JSON
 * types, missing required members and values outside an enum, naming the
 * member by its path ("containerDefinitions[0].portMappings[1].hostPort").
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#include "lib/cleanup.h"
#include "lib/err.h"

enum jtype {
	JT_NONE,
	JT_STRING,
	JT_INT,     /* 32-bit integer */
	JT_LONG,    /* integer exactly representable in a double */
	JT_NUMBER,
	JT_BOOL,
	JT_OBJECT,
	JT_LIST,
	JT_MAP,     /* object of ELEM values */
	JT_STRNUM,  /* string or integer (task-level cpu/memory) */
};

struct jshape;

struct jfield {
	const char *name;
	enum jtype type;
	enum jtype elem;             /* JT_LIST / JT_MAP element type */
	bool required;
	const struct jshape *shape;  /* JT_OBJECT, or a JT_LIST of objects */
	const char *const *enums;    /* NULL-terminated allowed values, or NULL */
};

struct jshape {
	const char *name;
	const struct jfield *fields;
	size_t n_fields;
};

extern const struct jshape shape_CreateClusterRequest;
extern const struct jshape shape_DescribeClustersRequest;
extern const struct jshape shape_ListClustersRequest;
extern const struct jshape shape_DeleteClusterRequest;
extern const struct jshape shape_RegisterTaskDefinitionRequest;
extern const struct jshape shape_DescribeTaskDefinitionRequest;
extern const struct jshape shape_ListTaskDefinitionsRequest;
extern const struct jshape shape_ListTaskDefinitionFamiliesRequest;
extern const struct jshape shape_DeregisterTaskDefinitionRequest;
extern const struct jshape shape_DeleteTaskDefinitionsRequest;
extern const struct jshape shape_TagResourceRequest;
extern const struct jshape shape_UntagResourceRequest;
extern const struct jshape shape_ListTagsForResourceRequest;
extern const struct jshape shape_RunTaskRequest;
extern const struct jshape shape_StartTaskRequest;
extern const struct jshape shape_StopTaskRequest;
extern const struct jshape shape_DescribeTasksRequest;
extern const struct jshape shape_ListTasksRequest;
extern const struct jshape shape_DescribeContainerInstancesRequest;
extern const struct jshape shape_ListContainerInstancesRequest;
extern const struct jshape shape_UpdateContainerInstancesStateRequest;
extern const struct jshape shape_DeregisterContainerInstanceRequest;
extern const struct jshape shape_PutAttributesRequest;
extern const struct jshape shape_DeleteAttributesRequest;
extern const struct jshape shape_ListAttributesRequest;
/* The agent protocol's shapes (ECS's, extended; schema_berth.c). */
extern const struct jshape shape_BerthRegisterContainerInstanceRequest;
extern const struct jshape shape_BerthSubmitTaskStateChangeRequest;
extern const struct jshape shape_BerthSubmitContainerStateChangeRequest;
extern const struct jshape shape_BerthTaskReport;
extern const struct jshape shape_BerthPollWorkRequest;

/* Checks OBJ (must be a JSON object) against SHAPE.  On a violation returns
 * -EINVAL with e->type = EXC and a message naming the member. */
int schema_check(const cJSON *obj, const struct jshape *shape, const char *exc,
		 struct err *e);

/* True if D is a finite integral number in [MIN, MAX]. */
bool json_number_is_int(double d, double min, double max);
