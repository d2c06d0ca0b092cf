#!/usr/bin/env bats
# Tasks on the daemon's own host, the lifecycle seen through the API (issue
# 5, Tests): dependsOn order, essential and non-essential exits, stopTimeout,
# health checks, json-file rotation and `berth logs --follow` of a task the
# daemon runs.  (The shim alone, from hand-written spec.json files:
# shim.bats; the control side: tasks.bats; live restore at scale and churn:
# tasks_restore.bats.)  Every test has its own daemon, state and namespace.

bats_require_minimum_version 1.5.0
load lib/daemon
load lib/tasks

setup_file() { tasks_setup_file; }
setup() { tasks_setup; }
teardown() { tasks_teardown; }

# logfile ARN CONTAINER: the container's current json-file log.
logfile() {
	echo "$STATE_DIR/tasks/$(task_id "$1")/logs/$2.log"
}

# tlogs ARGS...: `berth logs` against this daemon's run and state dirs.
tlogs() {
	BERTH_RUN_DIR=$RUN_DIR BERTH_STATE_DIR=$STATE_DIR "$BERTH" logs "$@"
}

@test "lifecycle: init (essential false) then app dependsOn init SUCCESS, order from their logs" {
	reg ordered "[$(cdef init 'echo init-begin; sleep 1; echo init-end' '{"essential":false}'),
		$(cdef app 'echo app-begin' '{"dependsOn":[{"containerName":"init","condition":"SUCCESS"}]}')]"
	out=$(aws_ecs run-task --task-definition ordered)
	t=$(jq -r '.tasks[0].taskArn' <<<"$out")
	wait_status "$t" STOPPED
	d=$(describe "$t")
	[ "$(jq -r '.stopCode, .stoppedReason' <<<"$d")" = \
		$'EssentialContainerExited\nEssential container in task exited' ]
	[ "$(jq -c '[.containers[] | [.name, .lastStatus, .exitCode]] | sort' <<<"$d")" = \
		'[["app","STOPPED",0],["init","STOPPED",0]]' ]
	run tlogs "$t" --container init
	[ "$output" = $'init-begin\ninit-end' ]
	run tlogs "$t" --container app
	[ "$output" = app-begin ]
	# the app's first line comes after init's last one (init sleeps between
	# its two: started together, the app would print in between)
	a=$(jq -r .time "$(logfile "$t" init)" | tail -1)
	b=$(jq -r .time "$(logfile "$t" app)" | head -1)
	[[ "$a" < "$b" ]]
}

@test "lifecycle: an init that fails keeps the app from starting; the task stops with the reasons" {
	reg badinit "[$(cdef init 'echo init-fails; exit 3' '{"essential":false}'),
		$(cdef app 'echo must-not-run' '{"dependsOn":[{"containerName":"init","condition":"SUCCESS"}]}')]"
	t=$(aws_ecs run-task --task-definition badinit | jq -r '.tasks[0].taskArn')
	wait_status "$t" STOPPED
	d=$(describe "$t")
	[ "$(jq -r .stopCode <<<"$d")" = TaskFailedToStart ]
	[ "$(jq -c '.containers[] | select(.name == "init") | [.lastStatus, .exitCode]' <<<"$d")" = '["STOPPED",3]' ]
	app=$(jq -c '.containers[] | select(.name == "app")' <<<"$d")
	[ "$(jq -c '[.lastStatus, .exitCode]' <<<"$app")" = '["STOPPED",null]' ]
	[[ "$(jq -r .reason <<<"$app")" == *"dependency [init] for target [app] as dependency did not exit successfully."* ]]
	[ "$(jq -r .stoppedReason <<<"$d")" = "$(jq -r .reason <<<"$app")" ]
	[ "$(tlogs "$t" --container init)" = init-fails ]
	[ ! -s "$(logfile "$t" app)" ]
}

@test "lifecycle: an essential exit stops the task with exit codes per container" {
	reg ess "[$(cdef side 'sleep 600' '{"linuxParameters":{"initProcessEnabled":true}}'),
		$(cdef main 'sleep 1; exit 5')]"
	t=$(aws_ecs run-task --task-definition ess | jq -r '.tasks[0].taskArn')
	wait_status "$t" STOPPED
	d=$(describe "$t")
	[ "$(jq -r '.stopCode, .stoppedReason' <<<"$d")" = \
		$'EssentialContainerExited\nEssential container in task exited' ]
	# side was stopped by the task (SIGTERM through its init: 143)
	[ "$(jq -c '[.containers[] | [.name, .lastStatus, .exitCode]] | sort' <<<"$d")" = \
		'[["main","STOPPED",5],["side","STOPPED",143]]' ]
}

@test "lifecycle: a non-essential exit does not stop the task" {
	reg noness "[$(cdef helper 'exit 1' '{"essential":false}'),
		$(cdef main 'sleep 600' '{"linuxParameters":{"initProcessEnabled":true}}')]"
	t=$(aws_ecs run-task --task-definition noness | jq -r '.tasks[0].taskArn')
	wait_task "$t" '.containers[] | select(.name == "helper") | .lastStatus == "STOPPED"'
	wait_status "$t" RUNNING
	# give a wrongly stopping task the time to show it (not a timing check:
	# the assertion holds at any moment)
	sleep 1
	d=$(describe "$t")
	[ "$(jq -r '.lastStatus, .desiredStatus' <<<"$d")" = $'RUNNING\nRUNNING' ]
	[ "$(jq -c '[.containers[] | [.name, .lastStatus, .exitCode]] | sort' <<<"$d")" = \
		'[["helper","STOPPED",1],["main","RUNNING",null]]' ]
	[ "$(jq -r '.stopCode // "none"' <<<"$d")" = none ]
	aws_ecs stop-task --task "$t" >/dev/null
	wait_status "$t" STOPPED
	[ "$(describe "$t" | jq -r .stopCode)" = UserInitiated ]
}
