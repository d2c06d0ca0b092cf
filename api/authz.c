/* api/authz.c - the authorization rule for agent and user principals. */
#include "api/authz.h"

#include <errno.h>
#include <string.h>

#include "lib/cleanup.h"

static const char *const agent_actions[] = {
	"RegisterContainerInstance", "BerthPollWork", "SubmitTaskStateChange",
	"SubmitContainerStateChange",
};

int api_role_parse(const char *s, enum api_role *ret)
{
	if (strcmp(s, "user") == 0)
		*ret = API_ROLE_USER;
	else if (strcmp(s, "agent") == 0)
		*ret = API_ROLE_AGENT;
	else
		return -EINVAL;
	return 0;
}

bool api_action_is_agent(const char *action)
{
	for (size_t i = 0; i < ARRAY_SIZE(agent_actions); i++)
		if (strcmp(action, agent_actions[i]) == 0)
			return true;
	return false;
}

int api_authorize(enum api_role role, const char *principal, const char *action, struct err *e)
{
	if (role == API_ROLE_ROOT || (role == API_ROLE_AGENT) == api_action_is_agent(action))
		return 0;
	err_api(e, "AccessDeniedException", "User: %.256s is not authorized to perform: ecs:%.64s",
		principal, action);
	return -EACCES;
}
