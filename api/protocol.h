/* api/protocol.h - the AWS JSON 1.1 envelope: X-Amz-Target, error bodies,
 * HTTP statuses, request ids.  Pure functions over strings (hostile-input
 * tested); no HTTP library here. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define API_ECS_TARGET_PREFIX "AmazonEC2ContainerServiceV20141113."
#define API_CONTENT_TYPE "application/x-amz-json-1.1"
#define API_MAX_BODY (1024 * 1024)
#define API_MAX_ACTION 64

/* Which service an X-Amz-Target names; only ECS in this issue. */
enum api_service { API_SVC_ECS };

/* Parses "AmazonEC2ContainerServiceV20141113.<Action>": *ret_service and
 * the action (1-64 ASCII letters) copied into ACTION.  -EINVAL if malformed,
 * -ENOENT for an unknown service prefix. */
int api_parse_target(const char *value, enum api_service *ret_service, char action[API_MAX_ACTION + 1]);

/* Whether a request's Content-Type value is the JSON 1.1 media type
 * (type/subtype compared without case, parameters such as
 * "; charset=utf-8" ignored).  NULL (no header) is not. */
bool api_content_type_ok(const char *value);

/* The HTTP status of an AWS exception name: 500 for ServerException, 403
 * for the authentication failures AWS answers 403, 413 for
 * RequestEntityTooLargeException, else 400. */
unsigned api_error_status(const char *type);

/* {"__type": TYPE, "message": MSG} as a malloc'd string (NULL on ENOMEM).
 * MSG need not be valid UTF-8 or free of quotes: it is escaped. */
char *api_error_body(const char *type, const char *msg);

/* A fresh random UUID (RFC 4122 v4, lower case) in OUT; 0 or -errno. */
int api_request_id(char out[37]);
