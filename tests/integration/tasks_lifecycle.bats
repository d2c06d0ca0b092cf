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

@test "lifecycle: stop-task: a container trapping SIGTERM is killed after its stopTimeout, one that exits on it stops at once" {
	# stubborn notes the SIGTERM and goes on; polite (sleep under the init)
	# ends on it.  The daemon's default and polite's stopTimeout are far
	# beyond the wait below: were stubborn's own stopTimeout not honoured,
	# or polite not stopped at once by SIGTERM, the task could not be
	# STOPPED in time.
	daemon_stop
	sed -i 's/^BERTH_CONTAINER_STOP_TIMEOUT=.*/BERTH_CONTAINER_STOP_TIMEOUT=300s/' "$CONF"
	tasks_daemon_start
	reg stops "[$(cdef stubborn 'trap "echo got-term" TERM; echo ready; while :; do sleep 0.1; done' \
			'{"stopTimeout":2,"linuxParameters":{"initProcessEnabled":true}}'),
		$(cdef polite 'sleep 600' '{"stopTimeout":120,"linuxParameters":{"initProcessEnabled":true}}')]"
	t=$(aws_ecs run-task --task-definition stops | jq -r '.tasks[0].taskArn')
	wait_status "$t" RUNNING
	for ((i = 0; i < 100; i++)); do [ "$(tlogs "$t" --container stubborn)" = ready ] && break; sleep 0.1; done
	aws_ecs stop-task --task "$t" --reason "bats: stop" >/dev/null
	wait_status "$t" STOPPED 300
	d=$(describe "$t")
	[ "$(jq -r '.stopCode, .stoppedReason' <<<"$d")" = $'UserInitiated\nbats: stop' ]
	[ "$(jq -c '[.containers[] | [.name, .exitCode]] | sort' <<<"$d")" = '[["polite",143],["stubborn",137]]' ]
	# stubborn had the SIGTERM first, and the SIGKILL only later
	[ "$(tlogs "$t" --container stubborn)" = $'ready\ngot-term' ]
}

@test "lifecycle: a health check that starts failing turns the container and the task UNHEALTHY" {
	# healthy while /tmp/ok exists in the container's rootfs; the test
	# removes it from the host side
	reg health "[$(cdef app 'touch /tmp/ok; exec sleep 600' \
		'{"linuxParameters":{"initProcessEnabled":true},"healthCheck":{"command":["CMD-SHELL","test -e /tmp/ok"],"interval":5,"timeout":2,"retries":1}}'),
		$(cdef side 'sleep 600' '{"essential":false,"linuxParameters":{"initProcessEnabled":true}}')]"
	t=$(aws_ecs run-task --task-definition health | jq -r '.tasks[0].taskArn')
	wait_task "$t" '.healthStatus == "HEALTHY" and (.containers[] | select(.name == "app") | .healthStatus == "HEALTHY")'
	# the container without a check stays UNKNOWN and does not count
	[ "$(describe "$t" | jq -r '.containers[] | select(.name == "side") | .healthStatus')" = UNKNOWN ]
	rm "$(rootfs_of "$t" app)/tmp/ok"
	wait_task "$t" '.healthStatus == "UNHEALTHY" and (.containers[] | select(.name == "app") | .healthStatus == "UNHEALTHY")'
	[ "$(aws_ecs describe-tasks --tasks "$t" | jq -r '.tasks[0].healthStatus')" = UNHEALTHY ]
	# unhealthy is reported, not acted on: the task still runs
	[ "$(describe "$t" | jq -r .lastStatus)" = RUNNING ]
}

@test "lifecycle: json-file logs rotate at max-size and keep max-file files" {
	reg rot "[$(cdef app 'i=0; while [ $i -lt 300 ]; do echo "line $i ----------------------------------------"; i=$((i+1)); done' \
		'{"logConfiguration":{"logDriver":"json-file","options":{"max-size":"2k","max-file":"3"}}}')]"
	t=$(aws_ecs run-task --task-definition rot | jq -r '.tasks[0].taskArn')
	wait_status "$t" STOPPED
	f=$(logfile "$t" app)
	[ -e "$f" ]
	[ -e "$f.1" ]
	[ -e "$f.2" ]
	[ ! -e "$f.3" ]
	for g in "$f" "$f.1" "$f.2"; do
		[ "$(stat -c %s "$g")" -le 2048 ]
		jq -e '.stream == "stdout"' "$g" >/dev/null
	done
	run tlogs "$t"
	[ "$status" -eq 0 ]
	[ "$(tail -1 <<<"$output")" = "line 299 ----------------------------------------" ]
	# the three files hold the last lines, contiguous, far fewer than 300
	first=$(head -1 <<<"$output" | cut -d' ' -f2)
	[ "$first" -gt 200 ]
	[ "$(wc -l <<<"$output")" -eq $((300 - first)) ]
}

@test "lifecycle: berth logs --follow streams a running task's lines and ends with the task" {
	# the container prints a line, waits for the test, prints another,
	# waits again: the second line must reach the follower while it runs
	reg follow "[$(cdef app 'echo first; while [ ! -e /tmp/go ]; do sleep 0.1; done; echo second; echo err-line >&2; while [ ! -e /tmp/end ]; do sleep 0.1; done; echo last')]"
	t=$(aws_ecs run-task --task-definition follow | jq -r '.tasks[0].taskArn')
	wait_status "$t" RUNNING
	out=$BATS_TEST_TMPDIR/follow.out
	tlogs "$t" --follow > "$out" 2>&1 &
	follower=$!
	for ((i = 0; i < 200; i++)); do grep -qx first "$out" && break; sleep 0.1; done
	grep -qx first "$out"
	root=$(rootfs_of "$t" app)
	touch "$root/tmp/go"
	for ((i = 0; i < 200; i++)); do grep -qx second "$out" && break; sleep 0.1; done
	[ "$(cat "$out")" = $'first\nsecond\nerr-line' ] || [ "$(cat "$out")" = $'first\nerr-line\nsecond' ]
	kill -0 "$follower"
	touch "$root/tmp/end"
	rc=0
	for ((i = 0; i < 300; i++)); do kill -0 "$follower" 2>/dev/null || break; sleep 0.1; done
	wait "$follower" || rc=$?
	[ "$rc" -eq 0 ]
	[ "$(tail -1 "$out")" = last ]
	[ "$(describe "$t" | jq -r .lastStatus)" = STOPPED ]
}
