#!/usr/bin/env bats
# Tasks on the daemon's own host (issue 5, control + agent side): RunTask of
# a real task definition over a busybox image loaded into the store ->
# RUNNING -> STOPPED with exit codes and stop codes, StopTask, DescribeTasks
# failures, ListTasks filters and pagination, the container instance, bad
# input refused with nothing created, and live restore across kill -9.
# Limits are not enforced here (BERTH_CGROUP_ENFORCE=off; the VM suite
# proves them).  Every test has its own daemon, state and namespace.

bats_require_minimum_version 1.5.0
load lib/daemon
load lib/tasks

ARN=arn:aws:ecs:local:000000000000

setup_file() { tasks_setup_file; }
setup() { tasks_setup; }
teardown() { tasks_teardown; }

# register FAMILY COMMAND [NETWORK_MODE]: a one-container task definition.
register() {
	local cmd
	cmd=$(jq -cn --arg c "$2" '[$c]')
	aws_ecs register-task-definition --family "$1" --network-mode "${3:-none}" \
		--container-definitions "[{\"name\":\"app\",\"image\":\"localhost/app:v1\",\"memory\":32,\"command\":$cmd}]" \
		>/dev/null
}

@test "tasks: the host is a container instance with its resources, and stays the same one across restarts" {
	out=$(aws_ecs list-container-instances)
	[ "$(jq '.containerInstanceArns | length' <<<"$out")" -eq 1 ]
	ci=$(jq -r '.containerInstanceArns[0]' <<<"$out")
	[[ $ci == "$ARN:container-instance/default/"* ]]
	out=$(aws_ecs describe-container-instances --container-instances "$ci")
	cpus=$(nproc)
	memtotal=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
	[ "$(jq '.containerInstances[0].registeredResources[] | select(.name == "CPU") | .integerValue' <<<"$out")" -eq $((cpus * 1024)) ]
	[ "$(jq '.containerInstances[0].registeredResources[] | select(.name == "MEMORY") | .integerValue' <<<"$out")" -eq "$memtotal" ]
	[ "$(jq -c '.containerInstances[0].registeredResources[] | select(.name == "PORTS") | .stringSetValue' <<<"$out")" = '["22","2375","2376","51678","51679"]' ]
	[ "$(jq -r '.containerInstances[0].status' <<<"$out")" = ACTIVE ]
	[ "$(jq -r '.containerInstances[0].agentConnected' <<<"$out")" = true ]
	jq -e '.containerInstances[0].attributes[] | select(.name == "ecs.os-type" and .value == "linux")' <<<"$out" >/dev/null
	v1=$(jq '.containerInstances[0].version' <<<"$out")

	out=$(aws_ecs describe-container-instances --container-instances 0123456789abcdef0123456789abcdef)
	[ "$(jq -r '.failures[0].reason' <<<"$out")" = MISSING ]

	daemon_stop
	tasks_daemon_start
	out=$(aws_ecs list-container-instances)
	[ "$(jq -r '.containerInstanceArns[0]' <<<"$out")" = "$ci" ]
	[ "$(jq '.containerInstanceArns | length' <<<"$out")" -eq 1 ]
	out=$(aws_ecs describe-container-instances --container-instances "$ci")
	[ "$(jq '.containerInstances[0].version' <<<"$out")" -gt "$v1" ]
	# the cluster now holds an instance
	run aws_ecs delete-cluster --cluster default
	[ "$status" -ne 0 ]
	[[ $output == *ClusterContainsContainerInstancesException* ]]
}

@test "tasks: run-task -> RUNNING -> the essential container exits -> STOPPED with its exit code" {
	register once 'echo hello; sleep 1; exit 3'
	out=$(aws_ecs run-task --task-definition once --started-by me)
	[ "$(jq '.tasks | length' <<<"$out")" -eq 1 ]
	[ "$(jq '.failures | length' <<<"$out")" -eq 0 ]
	t=$(jq -r '.tasks[0].taskArn' <<<"$out")
	[[ $t == "$ARN:task/default/"* ]]
	[ "$(jq -r '.tasks[0].lastStatus' <<<"$out")" = PROVISIONING ]
	[ "$(jq -r '.tasks[0].desiredStatus' <<<"$out")" = RUNNING ]
	[ "$(jq -r '.tasks[0].taskDefinitionArn' <<<"$out")" = "$ARN:task-definition/once:1" ]
	[ "$(jq -r '.tasks[0].group' <<<"$out")" = family:once ]
	wait_status "$t" STOPPED
	d=$(describe "$t")
	[ "$(jq -r .stopCode <<<"$d")" = EssentialContainerExited ]
	[ "$(jq -r .desiredStatus <<<"$d")" = STOPPED ]
	[ "$(jq -r '.containers[0].lastStatus' <<<"$d")" = STOPPED ]
	[ "$(jq -r '.containers[0].exitCode' <<<"$d")" = 3 ]
	# every timestamp is there and they come in lifecycle order
	jq -e '[.createdAt, .pullStartedAt, .pullStoppedAt, .startedAt, .stoppingAt, .executionStoppedAt, .stoppedAt]
		| all(. != null) and (. == sort)' <<<"$d" >/dev/null
	[ "$(jq .version <<<"$d")" -gt 4 ]
	# and it is listed as stopped, not running
	[ "$(aws_ecs list-tasks --desired-status STOPPED | jq -r '.taskArns[0]')" = "$t" ]
	[ "$(aws_ecs list-tasks | jq '.taskArns | length')" -eq 0 ]
}

@test "tasks: stop-task stops a running task with UserInitiated and the caller's reason" {
	register long 'sleep 600'
	t=$(aws_ecs run-task --task-definition long | jq -r '.tasks[0].taskArn')
	wait_status "$t" RUNNING
	d=$(describe "$t")
	[ "$(jq -r '.containers[0].lastStatus' <<<"$d")" = RUNNING ]
	[ "$(jq -r .connectivity <<<"$d")" = CONNECTED ]
	ci=$(jq -r .containerInstanceArn <<<"$d")
	rem=$(aws_ecs describe-container-instances --container-instances "$ci" |
		jq '.containerInstances[0] | [.runningTasksCount, (.remainingResources[] | select(.name == "MEMORY") | .integerValue), (.registeredResources[] | select(.name == "MEMORY") | .integerValue)]')
	[ "$(jq '.[0]' <<<"$rem")" -eq 1 ]
	[ "$(jq '.[2] - .[1]' <<<"$rem")" -eq 32 ]   # the task's memory is reserved

	out=$(aws_ecs stop-task --task "$t" --reason "maintenance window")
	[ "$(jq -r .task.desiredStatus <<<"$out")" = STOPPED ]
	wait_status "$t" STOPPED
	d=$(describe "$t")
	[ "$(jq -r .stopCode <<<"$d")" = UserInitiated ]
	[ "$(jq -r .stoppedReason <<<"$d")" = "maintenance window" ]
	[ "$(jq -r '.containers[0].exitCode' <<<"$d")" != null ]
	rem=$(aws_ecs describe-container-instances --container-instances "$ci" |
		jq '.containerInstances[0] | [.runningTasksCount, (.remainingResources[] | select(.name == "MEMORY") | .integerValue), (.registeredResources[] | select(.name == "MEMORY") | .integerValue)]')
	[ "$(jq '.[0]' <<<"$rem")" -eq 0 ]
	[ "$(jq '.[2] - .[1]' <<<"$rem")" -eq 0 ]
	# stopping again changes nothing
	out=$(aws_ecs stop-task --task "$(task_id "$t")" --reason other)
	[ "$(jq -r .task.stoppedReason <<<"$out")" = "maintenance window" ]
}

@test "tasks: describe-tasks reports unknown tasks as MISSING and shows tags on request" {
	register tagged 'sleep 600'
	t=$(aws_ecs run-task --task-definition tagged --tags key=team,value=edge | jq -r '.tasks[0].taskArn')
	out=$(aws_ecs describe-tasks --tasks "$t" 0123456789abcdef0123456789abcdef "not-a-task" --include TAGS)
	[ "$(jq '.tasks | length' <<<"$out")" -eq 1 ]
	[ "$(jq -c '.tasks[0].tags' <<<"$out")" = '[{"key":"team","value":"edge"}]' ]
	[ "$(jq -c '[.failures[].reason]' <<<"$out")" = '["MISSING","MISSING"]' ]
	[ "$(jq -r '.failures[0].arn' <<<"$out")" = "$ARN:task/default/0123456789abcdef0123456789abcdef" ]
	out=$(aws_ecs describe-tasks --tasks "$t")
	[ "$(jq -c '.tasks[0].tags // []' <<<"$out")" = '[]' ]
	run aws_ecs describe-tasks --tasks "$t" --cluster nowhere
	[ "$status" -ne 0 ]
	[[ $output == *ClusterNotFoundException* ]]
}

@test "tasks: run-task --count 3, list-tasks filters and pagination" {
	register batch 'sleep 600'
	register other 'sleep 600'
	out=$(aws_ecs run-task --task-definition batch --count 3 --started-by nightly)
	[ "$(jq '.tasks | length' <<<"$out")" -eq 3 ]
	[ "$(jq '[.tasks[].taskArn] | unique | length' <<<"$out")" -eq 3 ]
	o=$(aws_ecs run-task --task-definition other | jq -r '.tasks[0].taskArn')
	for t in $(jq -r '.tasks[].taskArn' <<<"$out") "$o"; do wait_status "$t" RUNNING; done

	[ "$(aws_ecs list-tasks | jq '.taskArns | length')" -eq 4 ]
	[ "$(aws_ecs list-tasks --family batch | jq '.taskArns | length')" -eq 3 ]
	[ "$(aws_ecs list-tasks --family other | jq -r '.taskArns[0]')" = "$o" ]
	[ "$(aws_ecs list-tasks --started-by nightly | jq '.taskArns | length')" -eq 3 ]
	[ "$(aws_ecs list-tasks --desired-status STOPPED | jq '.taskArns | length')" -eq 0 ]
	[ "$(aws_ecs list-tasks --service-name web | jq '.taskArns | length')" -eq 0 ]
	ci=$(aws_ecs list-container-instances | jq -r '.containerInstanceArns[0]')
	[ "$(aws_ecs list-tasks --container-instance "$ci" | jq '.taskArns | length')" -eq 4 ]
	run aws_ecs list-tasks --started-by nightly --family batch
	[ "$status" -ne 0 ]
	[[ $output == *InvalidParameterException* ]]

	# pages of 3 then 1; the token is bound to the filters
	page=$(_raw_unix ListTasks '{"maxResults":3}' | tail -n +2)
	[ "$(jq '.taskArns | length' <<<"$page")" -eq 3 ]
	tok=$(jq -r .nextToken <<<"$page")
	page2=$(_raw_unix ListTasks "{\"maxResults\":3,\"nextToken\":\"$tok\"}" | tail -n +2)
	[ "$(jq '.taskArns | length' <<<"$page2")" -eq 1 ]
	[ "$(jq -r '.nextToken // "none"' <<<"$page2")" = none ]
	[ "$(jq -n --argjson a "$page" --argjson b "$page2" '$a.taskArns + $b.taskArns | unique | length')" -eq 4 ]
	res=$(_raw_unix ListTasks "{\"family\":\"batch\",\"nextToken\":\"$tok\"}")
	[ "$(head -1 <<<"$res")" = 400 ]
	# the CLIs walk the pages themselves
	[ "$(aws_ecs list-tasks --page-size 1 | jq '.taskArns | length')" -eq 4 ]
	[ "$(berth_cli list-tasks --max-results 1 | jq '.taskArns | length')" -ge 1 ]

	run aws_ecs run-task --task-definition batch --count 11
	[ "$status" -ne 0 ]
	[[ $output == *InvalidParameterException* ]]
}

@test "tasks: overrides change the command and environment of a container" {
	register ov 'echo unused; exit 9'
	t=$(aws_ecs run-task --task-definition ov --overrides \
		'{"containerOverrides":[{"name":"app","command":["exit $CODE"],"environment":[{"name":"CODE","value":"4"}]}]}' |
		jq -r '.tasks[0].taskArn')
	wait_status "$t" STOPPED
	d=$(describe "$t")
	[ "$(jq -r '.containers[0].exitCode' <<<"$d")" = 4 ]
	[ "$(jq -r '.overrides.containerOverrides[0].name' <<<"$d")" = app ]
}

@test "tasks: bad requests are refused with ECS errors and create nothing" {
	register good 'sleep 1'
	aws_ecs register-task-definition --family bridged --container-definitions \
		'[{"name":"app","image":"localhost/app:v1","memory":32}]' >/dev/null
	aws_ecs register-task-definition --family gone --network-mode none --container-definitions \
		'[{"name":"app","image":"localhost/app:v1","memory":32}]' >/dev/null
	aws_ecs deregister-task-definition --task-definition gone:1 >/dev/null

	run aws_ecs run-task --task-definition never-registered
	[ "$status" -ne 0 ]; [[ $output == *ClientException* ]]
	run aws_ecs run-task --task-definition gone:1
	[ "$status" -ne 0 ]; [[ $output == *ClientException*inactive* ]]
	run aws_ecs run-task --task-definition good --overrides '{"containerOverrides":[{"name":"ghost","command":["x"]}]}'
	[ "$status" -ne 0 ]; [[ $output == *InvalidParameterException*ghost* ]]
	run aws_ecs run-task --task-definition good --launch-type FARGATE
	[ "$status" -ne 0 ]; [[ $output == *InvalidParameterException*FARGATE* ]]
	# networkConfiguration goes with awsvpc only (bridged: no networkMode = bridge)
	run aws_ecs run-task --task-definition bridged --network-configuration \
		'{"awsvpcConfiguration":{"subnets":["s-1"]}}'
	[ "$status" -ne 0 ]; [[ $output == *InvalidParameterException*Network\ Configuration* ]]
	run aws_ecs run-task --task-definition good --network-configuration \
		'{"awsvpcConfiguration":{"subnets":["s-1"]}}'
	[ "$status" -ne 0 ]; [[ $output == *InvalidParameterException* ]]
	run aws_ecs run-task --task-definition good --cluster nowhere
	[ "$status" -ne 0 ]; [[ $output == *ClusterNotFoundException* ]]
	run aws_ecs stop-task --task 0123456789abcdef0123456789abcdef
	[ "$status" -ne 0 ]; [[ $output == *InvalidParameterException* ]]

	[ "$(aws_ecs list-tasks | jq '.taskArns | length')" -eq 0 ]
	[ "$(aws_ecs list-tasks --desired-status STOPPED | jq '.taskArns | length')" -eq 0 ]
	[ -z "$(ls "$RUN_DIR/tasks")" ]

	# an image that cannot be had: TaskFailedToStart, nothing left behind
	aws_ecs register-task-definition --family noimage --network-mode none --container-definitions \
		'[{"name":"app","image":"localhost/absent:v9","memory":32}]' >/dev/null
	t=$(aws_ecs run-task --task-definition noimage | jq -r '.tasks[0].taskArn')
	wait_status "$t" STOPPED
	d=$(describe "$t")
	[ "$(jq -r .stopCode <<<"$d")" = TaskFailedToStart ]
	[[ $(jq -r '.containers[0].reason' <<<"$d") == CannotPullContainerError* ]]
	[ -z "$(ls "$RUN_DIR/tasks")" ]
	run ! grep -q " $DTMP" /proc/self/mountinfo
}

# A registry on 127.0.0.1:5999 of the test's namespace that takes every
# connection and says nothing for 3 s, then hangs up: a pull that lasts.
silent_registry() {
	nsenter --net="/run/netns/$NS" python3 -c '
import socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 5999))
s.listen(16)
open(sys.argv[1], "w").close()
s.settimeout(60)
while True:
    c, _ = s.accept()
    time.sleep(3)
    c.close()
' "$BATS_TEST_TMPDIR/registry.ready" &
	REGISTRY_PID=$!
	for ((i = 0; i < 100; i++)); do [ -e "$BATS_TEST_TMPDIR/registry.ready" ] && return 0; sleep 0.1; done
	return 1
}

@test "tasks: a start that lasts shows PENDING with pullStartedAt meanwhile, then its outcome" {
	silent_registry
	aws_ecs register-task-definition --family slow --network-mode none --container-definitions \
		'[{"name":"app","image":"127.0.0.1:5999/slow:v1","memory":32}]' >/dev/null
	t=$(aws_ecs run-task --task-definition slow | jq -r '.tasks[0].taskArn')
	# the agent holds PENDING briefly to send it with RUNNING; a start that
	# takes longer shows it on its own, with the time the pull began
	wait_status "$t" PENDING
	d=$(describe "$t")
	jq -e '.pullStartedAt != null and .pullStoppedAt == null and .startedAt == null' <<<"$d" >/dev/null
	wait_status "$t" STOPPED
	d=$(describe "$t")
	[ "$(jq -r .stopCode <<<"$d")" = TaskFailedToStart ]
	[[ $(jq -r '.containers[0].reason' <<<"$d") == CannotPullContainerError* ]]
	jq -e '.pullStartedAt <= .stoppedAt' <<<"$d" >/dev/null
	kill "$REGISTRY_PID"
	[ -z "$(ls "$RUN_DIR/tasks")" ]
}

@test "tasks: start-task on the named container instance" {
	register st 'sleep 600'
	ci=$(aws_ecs list-container-instances | jq -r '.containerInstanceArns[0]')
	out=$(aws_ecs start-task --task-definition st --container-instances "$ci" 0123456789abcdef0123456789abcdef)
	[ "$(jq '.tasks | length' <<<"$out")" -eq 1 ]
	[ "$(jq -r '.tasks[0].containerInstanceArn' <<<"$out")" = "$ci" ]
	[ "$(jq -r '.failures[0].reason' <<<"$out")" = MISSING ]
	wait_status "$(jq -r '.tasks[0].taskArn' <<<"$out")" RUNNING
}

@test "tasks: kill -9 of the daemon never stops a task; an exit during the outage is recorded with its real code" {
	register keeps 'sleep 600'
	register ends 'sleep 3; exit 7'
	k=$(aws_ecs run-task --task-definition keeps | jq -r '.tasks[0].taskArn')
	e=$(aws_ecs run-task --task-definition ends | jq -r '.tasks[0].taskArn')
	wait_status "$k" RUNNING
	wait_status "$e" RUNNING
	kpid=$(cat "$RUN_DIR/tasks/$(task_id "$k")/shim.pid")
	daemon_kill9
	# the short one exits while nobody listens
	for i in $(seq 1 200); do
		[ -e "$RUN_DIR/tasks/$(task_id "$e")/exited" ] && break
		sleep 0.05
	done
	[ -e "$RUN_DIR/tasks/$(task_id "$e")/exited" ]
	kill -0 "$kpid"
	tasks_daemon_start
	wait_status "$e" STOPPED
	d=$(describe "$e")
	[ "$(jq -r '.containers[0].exitCode' <<<"$d")" = 7 ]
	[ "$(jq -r .stopCode <<<"$d")" = EssentialContainerExited ]
	[ "$(describe "$k" | jq -r .lastStatus)" = RUNNING ]
	[ "$(cat "$RUN_DIR/tasks/$(task_id "$k")/shim.pid")" = "$kpid" ]
	# never started twice: one task dir each, one shim for the running one
	[ "$(ls "$RUN_DIR/tasks" | wc -l)" -eq 2 ]
	[ "$(pgrep -f -c -- "--task-dir $RUN_DIR/tasks/$(task_id "$k")\$" || true)" -ge 1 ]
	[ "$(aws_ecs list-tasks | jq '.taskArns | length')" -eq 1 ]
	# and the adopted task still stops on request
	aws_ecs stop-task --task "$k" >/dev/null
	wait_status "$k" STOPPED
}

@test "tasks: host resources of a stopped task go after BERTH_TASK_CLEANUP_WAIT; the task stays describable" {
	daemon_stop
	sed -i 's/^BERTH_TASK_CLEANUP_WAIT=.*/BERTH_TASK_CLEANUP_WAIT=1s/' "$CONF"
	tasks_daemon_start
	register brief 'exit 0'
	t=$(aws_ecs run-task --task-definition brief | jq -r '.tasks[0].taskArn')
	wait_status "$t" STOPPED
	for i in $(seq 1 200); do
		[ -z "$(ls "$RUN_DIR/tasks")" ] && [ -z "$(ls "$STATE_DIR/tasks")" ] && break
		sleep 0.05
	done
	[ -z "$(ls "$RUN_DIR/tasks")" ]
	[ -z "$(ls "$STATE_DIR/tasks")" ]
	run ! grep -q " $DTMP" /proc/self/mountinfo
	[ "$(describe "$t" | jq -r '.containers[0].exitCode')" = 0 ]
}

@test "tasks: kill -9 mid-RunTask leaves no duplicate and no half-started task" {
	register mid 'sleep 600'
	for round in 1 2 3; do
		t=$(aws_ecs run-task --task-definition mid | jq -r '.tasks[0].taskArn')
		daemon_kill9
		tasks_daemon_start
		# whatever the moment of the kill: RUNNING once, or settled as STOPPED
		for i in $(seq 1 200); do
			s=$(describe "$t" | jq -r .lastStatus)
			[ "$s" = RUNNING ] || [ "$s" = STOPPED ] && break
			sleep 0.05
		done
		[ "$s" = RUNNING ] || [ "$(describe "$t" | jq -r .stopCode)" = TaskFailedToStart ]
		if [ "$s" = RUNNING ]; then
			[ "$(pgrep -c -f -- "--task-dir $RUN_DIR/tasks/$(task_id "$t")\$" || true)" -ge 1 ]
			# a PENDING the killed daemon still held is not lost: its
			# start helper's note has the time the pull began
			describe "$t" | jq -e '.pullStartedAt != null and .pullStoppedAt != null' >/dev/null
		fi
	done
	# every RUNNING task has its shim; a task dir without a task is none of them
	for t in $(aws_ecs list-tasks | jq -r '.taskArns[]'); do
		[ -e "$RUN_DIR/tasks/$(task_id "$t")/shim.pid" ]
	done
}
