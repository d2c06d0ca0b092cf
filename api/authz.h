/* api/authz.h - who may call which action (AGENT-PROTOCOL.md).
 *
 * Root (the unix socket) may call everything.  An agent-role key (the
 * instance profile) may call only the agent's actions; a user key may call
 * everything but those.  Pure. */
#pragma once

#include <stdbool.h>

#include "lib/err.h"

enum api_role {
	API_ROLE_USER,
	API_ROLE_AGENT,
	API_ROLE_ROOT,
};

/* "user" / "agent" -> role; -EINVAL otherwise. */
int api_role_parse(const char *s, enum api_role *ret);
/* RegisterContainerInstance, BerthPollWork, SubmitTaskStateChange,
 * SubmitContainerStateChange. */
bool api_action_is_agent(const char *action);
/* 0, or -EACCES with AccessDeniedException "User: <principal> is not
 * authorized to perform: ecs:<Action>". */
int api_authorize(enum api_role role, const char *principal, const char *action, struct err *e);
