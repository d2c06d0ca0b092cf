#!/usr/bin/env bats
# Container instances through the API: agents (an agent-role key) register
# fake instances and poll for work (AGENT-PROTOCOL.md), users drain,
# deregister, put attributes and filter with CQL, and placement avoids what
# it must.  No task really runs: the instances are fake, and the daemon's
# own (embedded) instance is drained first so it never gets a task.

bats_require_minimum_version 1.5.0
load lib/daemon

ARN=arn:aws:ecs:local:000000000000
IA=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa1
IB=bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb2

setup() {
	daemon_setup
	AGENT_AKID=AKIDAGENT$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
	AGENT_SECRET=$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
	(umask 077 && printf '{"accessKeys": [{"accessKeyId": "%s", "secretAccessKey": "%s", "principal": "admin"}, {"accessKeyId": "%s", "secretAccessKey": "%s", "principal": "edge-agent", "role": "agent"}]}\n' \
		"$AKID" "$SECRET" "$AGENT_AKID" "$AGENT_SECRET" > "$KEYFILE")
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -f "${DAEMON_LOG:-}" ]; then
		echo "# daemon log (tail):" >&3
		tail -n 30 "$DAEMON_LOG" | sed 's/^/#   /' >&3
	fi
	daemon_teardown
}

# start [KEY=VALUE...]: the daemon, its own instance drained, a task definition.
start() {
	local own
	daemon_start "$@"
	own=$(aws_ecs list-container-instances | jq -r '.containerInstanceArns[0]')
	aws_ecs update-container-instances-state --container-instances "$own" --status DRAINING >/dev/null
	aws_ecs register-task-definition --family web --network-mode host \
		--container-definitions '[{"name":"web","image":"busybox","memory":64,"cpu":128}]' >/dev/null
}

# agent ACTION BODY: signed with the agent-role key; prints status, then body.
agent() {
	sigv4 --key-id "$AGENT_AKID" --secret "$AGENT_SECRET" --action "$1" --body "$2"
}

body() { tail -n +2 <<<"$1"; }
status() { head -1 <<<"$1"; }

# register ID ZONE [ATTRIBUTES_JSON]
register() {
	local attrs=${3:-[]}
	agent RegisterContainerInstance "$(jq -nc --arg id "$1" --arg z "$2" --argjson a "$attrs" '{
		containerInstanceArn: $id, berthHostname: ("host-" + $id[0:4]),
		totalResources: [{name: "CPU", type: "INTEGER", integerValue: 2048},
				 {name: "MEMORY", type: "INTEGER", integerValue: 1024},
				 {name: "PORTS", type: "STRINGSET", stringSetValue: ["22"]},
				 {name: "PORTS_UDP", type: "STRINGSET", stringSetValue: []}],
		attributes: ([{name: "ecs.availability-zone", value: $z}] + $a),
		versionInfo: {agentVersion: "1.2.3"}}')"
}

poll() { # poll ID GENERATION WAIT
	agent BerthPollWork "{\"containerInstance\":\"$1\",\"generation\":$2,\"waitSeconds\":$3}"
}

describe() { # describe ID -> the instance object
	aws_ecs describe-container-instances --container-instances "$1" | jq -c '.containerInstances[0]'
}

# expect_error "STATUS\nBODY" TYPE [MESSAGE_REGEX]
expect_error() {
	local type
	type=$(body "$1" | jq -r '.__type // empty')
	if [ "$type" != "$2" ] || { [ -n "${3:-}" ] && ! body "$1" | jq -r .message | grep -Eq "$3"; }; then
		echo "want $2 ${3:-}, got: $1"
		return 1
	fi
}

@test "an agent registers an instance, re-registers it as the same one, and describe shows it" {
	start
	out=$(register $IA zone-a)
	[ "$(status "$out")" = 200 ]
	ci=$(body "$out" | jq -c .containerInstance)
	[ "$(jq -r .containerInstanceArn <<<"$ci")" = "$ARN:container-instance/default/$IA" ]
	[ "$(jq -r .ec2InstanceId <<<"$ci")" = host-aaaa ]
	[ "$(jq -r .agentConnected <<<"$ci")" = true ]
	[ "$(jq -r .status <<<"$ci")" = ACTIVE ]
	at=$(describe $IA | jq -r .registeredAt)
	# again, with other resources and another attribute: same instance, resources move, attributes stay
	out=$(agent RegisterContainerInstance "{\"containerInstanceArn\":\"$IA\",\"totalResources\":[{\"name\":\"CPU\",\"integerValue\":4096},{\"name\":\"MEMORY\",\"integerValue\":2048}],\"attributes\":[{\"name\":\"other\",\"value\":\"x\"}]}")
	[ "$(status "$out")" = 200 ]
	d=$(describe $IA)
	[ "$(jq -r .registeredAt <<<"$d")" = "$at" ]
	[ "$(jq -r '.registeredResources[] | select(.name == "CPU") | .integerValue' <<<"$d")" = 4096 ]
	[ "$(jq -r '.remainingResources[] | select(.name == "MEMORY") | .integerValue' <<<"$d")" = 2048 ]
	[ "$(jq -r '[.attributes[].name] | index("other")' <<<"$d")" = null ]
	[ "$(jq -r '.runningTasksCount, .pendingTasksCount' <<<"$d" | tr '\n' ' ')" = "0 0 " ]
	# a fresh id when the agent has none
	out=$(agent RegisterContainerInstance '{"totalResources":[{"name":"CPU","integerValue":1024},{"name":"MEMORY","integerValue":512}]}')
	[ "$(status "$out")" = 200 ]
	[[ $(body "$out" | jq -r .containerInstance.containerInstanceArn) =~ container-instance/default/[0-9a-f]{32}$ ]]
	# bad registrations
	expect_error "$(agent RegisterContainerInstance '{"totalResources":[{"name":"CPU","integerValue":1024}]}')" \
		InvalidParameterException "CPU and MEMORY"
	expect_error "$(agent RegisterContainerInstance '{"containerInstanceArn":"nothex","totalResources":[]}')" \
		InvalidParameterException "containerInstanceArn"
	expect_error "$(agent RegisterContainerInstance '{"totalResources":[{"name":"CPU","integerValue":1},{"name":"MEMORY","integerValue":1},{"name":"PORTS","stringSetValue":["70000"]}]}')" \
		InvalidParameterException "port"
}

@test "agent-role keys call only agent actions; user keys no agent actions" {
	start
	out=$(agent ListClusters '{}')
	expect_error "$out" AccessDeniedException "User: edge-agent is not authorized to perform: ecs:ListClusters"
	[ "$(status "$out")" = 400 ] || [ "$(status "$out")" = 403 ]
	out=$(sigv4 --action RegisterContainerInstance --body '{"totalResources":[{"name":"CPU","integerValue":1},{"name":"MEMORY","integerValue":1}]}')
	expect_error "$out" AccessDeniedException "User: admin is not authorized to perform: ecs:RegisterContainerInstance"
	expect_error "$(sigv4 --action BerthPollWork --body "{\"containerInstance\":\"$IA\"}")" AccessDeniedException
	expect_error "$(sigv4 --action SubmitTaskStateChange --body '{}')" AccessDeniedException
	# nothing was registered by the refused call
	[ "$(aws_ecs list-container-instances | jq '.containerInstanceArns | length')" = 1 ]
	# root over the unix socket may do both
	out=$(unix_call RegisterContainerInstance "{\"containerInstanceArn\":\"$IB\",\"totalResources\":[{\"name\":\"CPU\",\"integerValue\":1},{\"name\":\"MEMORY\",\"integerValue\":1}]}")
	[ "$(status "$out")" = 200 ]
}

@test "BerthPollWork hands out the placed tasks, is woken by a placement, and reports are applied" {
	start
	register $IA zone-a >/dev/null
	out=$(poll $IA 0 0)
	[ "$(status "$out")" = 200 ]
	[ "$(body "$out" | jq '.tasks | length')" = 0 ]
	gen=$(body "$out" | jq .generation)
	# same generation, no wait: answered at once with the same state
	[ "$(body "$(poll $IA "$gen" 0)" | jq .generation)" = "$gen" ]
	# same generation and nothing happens: held, then answered with the same state
	out=$(poll $IA "$gen" 2)
	[ "$(status "$out")" = 200 ]
	[ "$(body "$out" | jq -c '[.generation, .tasks]')" = "[$gen,[]]" ]
	# a held poll (20 s) is answered by the placement, well before its wait ends
	held=$BATS_TEST_TMPDIR/held
	( timeout 15 ip netns exec "$NS" "$PY" "$DAEMON_LIB_DIR/sigv4.py" --endpoint "http://127.0.0.1:$PORT" \
		--key-id "$AGENT_AKID" --secret "$AGENT_SECRET" --action BerthPollWork \
		--body "{\"containerInstance\":\"$IA\",\"generation\":$gen,\"waitSeconds\":20}" > "$held" ) &
	waiter=$!
	sleep 1
	task=$(aws_ecs run-task --task-definition web | jq -r '.tasks[0].taskArn')
	[ "$task" != null ]
	wait "$waiter"
	[ "$(head -1 "$held")" = 200 ]
	[ "$(tail -n +2 "$held" | jq .generation)" -gt "$gen" ]
	[ "$(tail -n +2 "$held" | jq -r '.tasks[0].task.taskArn')" = "$task" ]
	[ "$(tail -n +2 "$held" | jq -r '.tasks[0].taskDefinition.containerDefinitions[0].name')" = web ]
	# the agent reports in ECS's shape and in berth's batch shape
	out=$(agent SubmitTaskStateChange "{\"task\":\"$task\",\"containerInstance\":\"$IA\",\"status\":\"PENDING\",\"containers\":[{\"containerName\":\"web\",\"status\":\"PENDING\"}]}")
	[ "$(status "$out")" = 200 ]
	[ "$(body "$out" | jq -r .acknowledgment)" = ACK ]
	out=$(agent SubmitTaskStateChange "{\"task\":\"$task\",\"reports\":[{\"lastStatus\":\"ACTIVATING\"},{\"lastStatus\":\"RUNNING\",\"containers\":[{\"name\":\"web\",\"lastStatus\":\"RUNNING\",\"runtimeId\":\"r1\"}]}]}")
	[ "$(status "$out")" = 200 ]
	d=$(aws_ecs describe-tasks --tasks "$task" | jq -c '.tasks[0]')
	[ "$(jq -r .lastStatus <<<"$d")" = RUNNING ]
	[ "$(jq -r '.containers[0].runtimeId' <<<"$d")" = r1 ]
	out=$(agent SubmitContainerStateChange "{\"task\":\"$task\",\"containerName\":\"web\",\"status\":\"STOPPED\",\"exitCode\":3}")
	[ "$(status "$out")" = 200 ]
	[ "$(aws_ecs describe-tasks --tasks "$task" | jq -r '.tasks[0].containers[0].exitCode')" = 3 ]
	# only the task's own instance may report it
	register $IB zone-b >/dev/null
	expect_error "$(agent SubmitTaskStateChange "{\"task\":\"$task\",\"containerInstance\":\"$IB\",\"status\":\"STOPPED\"}")" \
		InvalidParameterException "not on this container instance"
	# StopTask moves the generation and the next poll still lists the task (desired STOPPED)
	gen2=$(tail -n +2 "$held" | jq .generation)
	aws_ecs stop-task --task "$task" >/dev/null
	out=$(poll $IA "$gen2" 0)
	[ "$(body "$out" | jq .generation)" -gt "$gen2" ]
	[ "$(body "$out" | jq -r '.tasks[0].task.desiredStatus')" = STOPPED ]
	# once the agent reports it STOPPED it is off the list
	out=$(agent SubmitTaskStateChange "{\"task\":\"$task\",\"status\":\"STOPPED\",\"reason\":\"gone\"}")
	[ "$(status "$out")" = 200 ]
	[ "$(aws_ecs describe-tasks --tasks "$task" | jq -r '.tasks[0].lastStatus')" = STOPPED ]
	[ "$(body "$(poll $IA 0 0)" | jq '.tasks | length')" = 0 ]
}

@test "the daemon stops cleanly while a poll is held" {
	start
	register $IA zone-a >/dev/null
	gen=$(body "$(poll $IA 0 0)" | jq .generation)
	( poll $IA "$gen" 20 > "$BATS_TEST_TMPDIR/held" ) &
	sleep 1
	daemon_stop
	wait || true
	! grep -q "ERROR: AddressSanitizer\|LeakSanitizer" "$DAEMON_LOG"
}

@test "agentConnected turns false after the heartbeat timeout and RunTask avoids the instance" {
	start BERTH_AGENT_HEARTBEAT_TIMEOUT=2
	register $IA zone-a >/dev/null
	for _ in $(seq 1 50); do
		[ "$(describe $IA | jq -r .agentConnected)" = false ] && break
		sleep 0.2
	done
	[ "$(describe $IA | jq -r .agentConnected)" = false ]
	out=$(aws_ecs run-task --task-definition web)
	[ "$(jq '.tasks | length' <<<"$out")" = 0 ]
	[ "$(jq -r '.failures[0].reason' <<<"$out")" = AGENT ]
	# a poll is a heartbeat, and a held one keeps the instance connected
	# while it waits: placed on again
	gen=$(body "$(poll $IA 0 0)" | jq .generation)
	( poll $IA "$gen" 20 > "$BATS_TEST_TMPDIR/held" ) &
	waiter=$!
	[ "$(describe $IA | jq -r .agentConnected)" = true ]
	sleep 2.5
	# CQL sees it too
	out=$(aws_ecs list-container-instances --filter 'agentConnected == true and attribute:ecs.availability-zone == zone-a')
	[ "$(jq -r '.containerInstanceArns[]' <<<"$out")" = "$ARN:container-instance/default/$IA" ]
	out=$(aws_ecs run-task --task-definition web)
	[ "$(jq -r '.tasks[0].containerInstanceArn' <<<"$out")" = "$ARN:container-instance/default/$IA" ]
	wait "$waiter"
}

@test "DRAINING gets nothing new, standalone tasks keep running, ACTIVE again takes tasks" {
	start
	register $IA zone-a >/dev/null
	task=$(aws_ecs run-task --task-definition web | jq -r '.tasks[0].taskArn')
	out=$(aws_ecs update-container-instances-state --container-instances $IA "$ARN:container-instance/default/$IB" --status DRAINING)
	[ "$(jq -r '.containerInstances[0].status' <<<"$out")" = DRAINING ]
	[ "$(jq -r '.failures[0].arn, .failures[0].reason' <<<"$out" | tr '\n' ' ')" = "$ARN:container-instance/default/$IB MISSING " ]
	[ "$(aws_ecs describe-tasks --tasks "$task" | jq -r '.tasks[0].desiredStatus')" = RUNNING ]
	# nothing placed (ECS answers an all-DRAINING cluster with an error)
	aws_ecs run-task --task-definition web || true
	[ "$(aws_ecs list-tasks | jq '.taskArns | length')" = 1 ]
	[ "$(aws_ecs list-container-instances --status DRAINING | jq '.containerInstanceArns | length')" = 2 ]
	aws_ecs update-container-instances-state --container-instances $IA --status ACTIVE >/dev/null
	[ "$(aws_ecs run-task --task-definition web | jq -r '.tasks[0].containerInstanceArn')" = "$ARN:container-instance/default/$IA" ]
	run aws_ecs update-container-instances-state --container-instances $IA --status REGISTERING
	[ "$status" -ne 0 ]
	[[ $output == *InvalidParameterException* ]]
}

@test "attributes: put, list, filter, delete, and the limits" {
	start
	register $IA zone-a '[{"name":"stack","value":"prod"}]' >/dev/null
	register $IB zone-b >/dev/null
	out=$(aws_ecs put-attributes --attributes "name=tier,value=gold,targetType=container-instance,targetId=$IB" "name=gpu,targetType=container-instance,targetId=$IB")
	[ "$(jq '.attributes | length' <<<"$out")" = 2 ]
	out=$(aws_ecs list-attributes --target-type container-instance --attribute-name tier)
	[ "$(jq -r '.attributes[0].targetId, .attributes[0].value' <<<"$out" | tr '\n' ' ')" = "$ARN:container-instance/default/$IB gold " ]
	[ "$(aws_ecs list-attributes --target-type container-instance --attribute-name stack --attribute-value prod | jq -r '.attributes[0].targetId')" = "$ARN:container-instance/default/$IA" ]
	# paging through every attribute, one per page, gives what one page gives
	all=$(aws_ecs list-attributes --target-type container-instance | jq -c '[.attributes[] | [.targetId, .name]]')
	paged=$(aws_ecs list-attributes --target-type container-instance --page-size 1 | jq -c '[.attributes[] | [.targetId, .name]]')
	[ "$(jq length <<<"$all")" -ge 5 ]
	[ "$paged" = "$all" ]
	out=$(sigv4 --action ListAttributes --body '{"targetType":"container-instance","maxResults":1}')
	[ "$(body "$out" | jq -r .nextToken)" != null ]
	# CQL filter over attributes
	out=$(aws_ecs list-container-instances --filter 'attribute:tier == gold and attribute:gpu exists')
	[ "$(jq -r '.containerInstanceArns[]' <<<"$out")" = "$ARN:container-instance/default/$IB" ]
	out=$(aws_ecs list-container-instances --filter "attribute:ecs.availability-zone in [zone-a, zone-c]")
	[ "$(jq -r '.containerInstanceArns[]' <<<"$out")" = "$ARN:container-instance/default/$IA" ]
	# and placement honours them
	out=$(aws_ecs run-task --task-definition web --placement-constraints 'type=memberOf,expression=attribute:tier == gold')
	[ "$(jq -r '.tasks[0].containerInstanceArn' <<<"$out")" = "$ARN:container-instance/default/$IB" ]
	aws_ecs delete-attributes --attributes "name=tier,targetType=container-instance,targetId=$IB" >/dev/null
	[ "$(aws_ecs list-attributes --target-type container-instance --attribute-name tier | jq '.attributes | length')" = 0 ]
	# limits: 10 custom attributes per instance (ecs.* do not count)
	args=()
	for i in $(seq 1 10); do args+=("name=c$i,value=v,targetType=container-instance,targetId=$IA"); done
	run aws_ecs put-attributes --attributes "${args[@]}"
	[ "$status" -ne 0 ]
	[[ $output == *AttributeLimitExceededException* ]]
	[ "$(aws_ecs list-attributes --target-type container-instance --attribute-name c1 | jq '.attributes | length')" = 0 ]
	args=()
	for i in $(seq 1 11); do args+=("name=d$i,targetType=container-instance,targetId=$IB"); done
	run aws_ecs put-attributes --attributes "${args[@]}"
	[[ $output == *InvalidParameterException* ]]
	run aws_ecs put-attributes --attributes "name=bad!name,targetType=container-instance,targetId=$IB"
	[[ $output == *InvalidParameterException* ]]
	run aws_ecs put-attributes --attributes "name=ok,targetId=$IB"
	[[ $output == *"targetType is required"* ]]
	out=$(aws_ecs put-attributes --attributes "name=byarn,targetId=$ARN:container-instance/default/$IB")
	[ "$(jq -r '.attributes[0].name' <<<"$out")" = byarn ]
	run aws_ecs put-attributes --attributes "[{\"name\":\"ok\",\"value\":\" lead\",\"targetType\":\"container-instance\",\"targetId\":\"$IB\"}]"
	[[ $output == *InvalidParameterException* ]]
	run aws_ecs put-attributes --attributes "name=ok,targetType=container-instance,targetId=cccccccccccccccccccccccccccccccc"
	[[ $output == *TargetNotFoundException* ]]
}

@test "list-container-instances --filter: a CQL syntax error names the position" {
	start
	run aws_ecs list-container-instances --filter 'attribute:x == (a'
	[ "$status" -ne 0 ]
	[[ $output == *InvalidParameterException* ]]
	[[ $output == *position* ]]
	run aws_ecs list-container-instances --filter 'nosuchsubject == 1'
	[[ $output == *InvalidParameterException* ]]
}

@test "deregister: refused while tasks run, forced leaves them orphaned, INACTIVE gone from lists" {
	start
	register $IA zone-a >/dev/null
	register $IB zone-b >/dev/null
	aws_ecs run-task --task-definition web --placement-constraints "type=memberOf,expression=ec2InstanceId == host-aaaa" >/dev/null
	run aws_ecs deregister-container-instance --container-instance $IA
	[ "$status" -ne 0 ]
	[[ $output == *"Found running tasks on the instance."* ]]
	out=$(aws_ecs deregister-container-instance --container-instance $IB)
	[ "$(jq -r .containerInstance.status <<<"$out")" = INACTIVE ]
	out=$(aws_ecs deregister-container-instance --container-instance $IA --force)
	[ "$(jq -r .containerInstance.status <<<"$out")" = INACTIVE ]
	[ "$(aws_ecs list-container-instances | jq '.containerInstanceArns | length')" = 1 ]
	out=$(aws_ecs describe-container-instances --container-instances $IA)
	[ "$(jq -r '.failures[0].reason' <<<"$out")" = MISSING ]
	# StartTask names it INACTIVE, an unknown one MISSING
	out=$(aws_ecs start-task --task-definition web --container-instances $IA cccccccccccccccccccccccccccccccc)
	[ "$(jq -r '[.failures[].reason] | join(" ")' <<<"$out")" = "INACTIVE MISSING" ]
	# its agent's polls are refused now
	expect_error "$(poll $IA 0 0)" InvalidParameterException "not registered"
	run aws_ecs deregister-container-instance --container-instance $IA
	[ "$status" -ne 0 ]
}

@test "placement input errors: unknown strategy type or field, too many strategies or constraints" {
	start
	register $IA zone-a >/dev/null
	run aws_ecs run-task --task-definition web --placement-strategy type=pack,field=cpu
	[[ $output == *InvalidParameterException* ]]
	run aws_ecs run-task --task-definition web --placement-strategy type=binpack,field=disk
	[[ $output == *InvalidParameterException* ]]
	s=(); for i in 1 2 3 4 5 6; do s+=("type=random"); done
	run aws_ecs run-task --task-definition web --placement-strategy "${s[@]}"
	[[ $output == *InvalidParameterException* ]]
	c=(); for i in $(seq 1 11); do c+=("type=memberOf,expression=attribute:a$i exists"); done
	run aws_ecs run-task --task-definition web --placement-constraints "${c[@]}"
	[[ $output == *InvalidParameterException* ]]
	[ "$(aws_ecs list-tasks | jq '.taskArns | length')" = 0 ]
}

@test "the berth CLI's verbs for instances and attributes" {
	start
	register $IA zone-a >/dev/null
	out=$(berth_cli put-attributes --attributes "name=tier,value=gold,targetType=container-instance,targetId=$IA")
	[ "$(jq -r '.attributes[0].name' <<<"$out")" = tier ]
	out=$(berth_cli list-attributes --target-type container-instance --attribute-name tier --attribute-value gold)
	[ "$(jq -r '.attributes[0].targetId' <<<"$out")" = "$ARN:container-instance/default/$IA" ]
	out=$(berth_cli list-container-instances --filter 'attribute:tier == gold')
	[ "$(jq -r '.containerInstanceArns[]' <<<"$out")" = "$ARN:container-instance/default/$IA" ]
	berth_cli delete-attributes --attributes "name=tier,targetType=container-instance,targetId=$IA" >/dev/null
	[ "$(berth_cli list-attributes --target-type container-instance --attribute-name tier | jq '.attributes | length')" = 0 ]
	out=$(berth_cli update-container-instances-state --container-instances $IA --status DRAINING)
	[ "$(jq -r '.containerInstances[0].status' <<<"$out")" = DRAINING ]
	out=$(berth_cli deregister-container-instance --container-instance $IA --force)
	[ "$(jq -r '.containerInstance.status' <<<"$out")" = INACTIVE ]
	run berth_cli list-container-instances --filter 'attribute:tier =='
	[ "$status" -ne 0 ]
	[[ $output == *InvalidParameterException* ]]
}

@test "task groups already placed count: distinctInstance and task:group across RunTask calls" {
	start
	register $IA zone-a >/dev/null
	register $IB zone-b >/dev/null
	a=$(aws_ecs run-task --task-definition web --group g1 --placement-constraints type=distinctInstance | jq -r '.tasks[0].containerInstanceArn')
	b=$(aws_ecs run-task --task-definition web --group g1 --placement-constraints type=distinctInstance | jq -r '.tasks[0].containerInstanceArn')
	[ "$a" != null ] && [ "$b" != null ] && [ "$a" != "$b" ]
	out=$(aws_ecs run-task --task-definition web --group g1 --placement-constraints type=distinctInstance)
	[ "$(jq '.tasks | length' <<<"$out")" = 0 ]
	[ "$(jq '.failures | length' <<<"$out")" = 1 ]
	# affinity: only where g1 runs; the filter sees the groups too
	out=$(aws_ecs list-container-instances --filter 'task:group == g1')
	[ "$(jq '.containerInstanceArns | length' <<<"$out")" = 2 ]
	c=$(aws_ecs run-task --task-definition web --group g2 | jq -r '.tasks[0].containerInstanceArn')
	d=$(aws_ecs run-task --task-definition web --placement-constraints 'type=memberOf,expression=task:group == g2' | jq -r '.tasks[0].containerInstanceArn')
	[ "$c" = "$d" ]
	out=$(aws_ecs list-container-instances --filter 'not(task:group == g2)')
	[ "$(jq -r '.containerInstanceArns | index("'"$c"'")' <<<"$out")" = null ]
}
