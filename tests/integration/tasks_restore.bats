#!/usr/bin/env bats
# Tasks on the daemon's own host at scale (issue 5, Tests): live restore of
# 20 running tasks across kill -9 of the daemon, kill -9 mid-RunTask,
# churn of run/stop cycles that must leave nothing behind, and bad input
# that must create nothing.  Every test has its own daemon, state and
# namespace.

bats_require_minimum_version 1.5.0
load lib/daemon
load lib/tasks

setup_file() { tasks_setup_file; }

setup() {
	[[ $BATS_TEST_DESCRIPTION == *churn* ]] && CLEANUP_WAIT=1s
	tasks_setup
}

teardown() { tasks_teardown; }

# pid_start PID: the process's start time (field 22 of stat): a pid and its
# start time name one process, whatever pids were reused.
pid_start() {
	awk '{ sub(/.*\) /, ""); print $20 }' "/proc/$1/stat"
}

# pids_of ARN: "shim-pid:start container-pid:start..." of a task, from the
# shim's pid file and its status.json.
pids_of() {
	local id p out
	id=$(task_id "$1")
	p=$(cat "$RUN_DIR/tasks/$id/shim.pid")
	out="$p:$(pid_start "$p")"
	for p in $(jq -r '.containers[].pid' "$RUN_DIR/tasks/$id/status.json"); do
		[[ $p =~ ^[0-9]+$ ]] || return 1
		out="$out $p:$(pid_start "$p")"
	done
	echo "$out"
}

# arns_where JQ-FILTER ARN...: the ARNs among those whose task satisfies it.
arns_where() {
	local f=$1
	shift
	api DescribeTasks "$(printf '%s\n' "$@" | jq -Rsc '{tasks: split("\n") | map(select(. != ""))}')" |
		jq -r ".tasks[] | select($f) | .taskArn"
}

# wait_all JQ-FILTER ARN...: until every task satisfies it (bounded).
wait_all() {
	local f=$1 n i
	shift
	for ((i = 0; i < 600; i++)); do
		n=$(arns_where "$f" "$@" | wc -l)
		[ "$n" -eq $# ] && return 0
		sleep 0.1
	done
	echo "only $n of $# tasks satisfy $f" >&2
	return 1
}

@test "restore: 20 running tasks survive kill -9 of the daemon with the same pids; an exit during the outage keeps its code" {
	reg keep "[$(cdef app 'exec sleep 600' '{"linuxParameters":{"initProcessEnabled":true}}')]"
	reg ends "[$(cdef app 'while [ ! -e /tmp/die ]; do sleep 0.1; done; exit 7')]"
	mapfile -t keep < <(api RunTask '{"taskDefinition":"keep","count":10}' | jq -r '.tasks[].taskArn')
	mapfile -t -O 10 keep < <(api RunTask '{"taskDefinition":"keep","count":10}' | jq -r '.tasks[].taskArn')
	[ "${#keep[@]}" -eq 20 ]
	e=$(run_one ends)
	wait_all '.lastStatus == "RUNNING"' "${keep[@]}" "$e"
	declare -A before
	for t in "${keep[@]}"; do
		before[$t]=$(pids_of "$t")
		[[ ${before[$t]} == *" "* ]]   # the shim and a container
	done

	daemon_kill9
	# the ending task's container exits while nobody listens
	touch "$(rootfs_of "$e" app)/tmp/die"
	for ((i = 0; i < 200; i++)); do [ -e "$RUN_DIR/tasks/$(task_id "$e")/exited" ] && break; sleep 0.1; done
	[ -e "$RUN_DIR/tasks/$(task_id "$e")/exited" ]
	tasks_daemon_start

	wait_status "$e" STOPPED
	d=$(describe "$e")
	[ "$(jq -r '.stopCode, .containers[0].exitCode' <<<"$d")" = $'EssentialContainerExited\n7' ]
	[ "$(arns_where '.lastStatus == "RUNNING" and .desiredStatus == "RUNNING"' "${keep[@]}" | wc -l)" -eq 20 ]
	for t in "${keep[@]}"; do
		[ "$(pids_of "$t")" = "${before[$t]}" ]
	done
	# never started twice: one shim per running task, 21 task dirs
	[ "$(shims_running | wc -l)" -eq 20 ]
	[ "$(ls "$RUN_DIR/tasks" | wc -l)" -eq 21 ]
	[ "$(api ListTasks '{}' | jq '.taskArns | length')" -eq 20 ]
}

@test "restore: kill -9 mid-RunTask of 10 and restart at once: no duplicate, no half-started task" {
	reg keep "[$(cdef app 'exec sleep 600' '{"linuxParameters":{"initProcessEnabled":true}}')]"
	k=$(run_one keep)
	wait_status "$k" RUNNING
	before=$(pids_of "$k")
	for round in 1 2; do
		mapfile -t mid < <(api RunTask '{"taskDefinition":"keep","count":10}' | jq -r '.tasks[].taskArn')
		[ "${#mid[@]}" -eq 10 ]
		# as a supervisor would: the new daemon at once (start helpers of the
		# killed one may still be at work: they must not hold its lock)
		daemon_kill9
		tasks_daemon_start
		wait_all '.lastStatus == "RUNNING" or .lastStatus == "STOPPED"' "${mid[@]}"
		for t in "${mid[@]}"; do
			d=$(describe "$t")
			if [ "$(jq -r .lastStatus <<<"$d")" = RUNNING ]; then
				[ "$(shims_of "$t")" -eq 1 ]
			else
				# half-started is settled as a failed start: no shim, no mount
				[ "$(jq -r .stopCode <<<"$d")" = TaskFailedToStart ]
				[ "$(shims_of "$t")" -eq 0 ]
				run ! grep -q "/tasks/$(task_id "$t")/" /proc/self/mountinfo
			fi
		done
	done
	running=$(api ListTasks '{}' | jq '.taskArns | length')
	[ "$running" -ge 1 ]
	[ "$(shims_running | wc -l)" -eq "$running" ]
	[ "$(pids_of "$k")" = "$before" ]
	[ "$(describe "$k" | jq -r .lastStatus)" = RUNNING ]
}

@test "restore: after a host restart (the run dir and every process gone) a task that ran is STOPPED, never started again" {
	reg keep "[$(cdef app 'exec sleep 600')]"
	t=$(run_one keep)
	wait_status "$t" RUNNING
	id=$(task_id "$t")
	daemon_kill9
	# what a reboot does: every process ends, /run (a tmpfs) is empty again,
	# and nothing is mounted
	kill -KILL "$(cat "$RUN_DIR/tasks/$id/shim.pid")" $(jq -r '.containers[].pid' "$RUN_DIR/tasks/$id/status.json")
	for ((i = 0; i < 100; i++)); do [ "$(shims_of "$t")" -eq 0 ] && break; sleep 0.1; done
	umount "$(rootfs_of "$t" app)"
	rm -rf "${RUN_DIR:?}/tasks/$id"
	tasks_daemon_start
	wait_status "$t" STOPPED
	d=$(describe "$t")
	[ "$(jq -r .stopCode <<<"$d")" = TaskFailedToStart ]
	[[ "$(jq -r .stoppedReason <<<"$d")" == *"the host restarted"* ]]
	# not started again: no shim, no task dir, no mount
	[ "$(shims_of "$t")" -eq 0 ]
	[ ! -e "$RUN_DIR/tasks/$id" ] && [ ! -e "$STATE_DIR/tasks/$id" ]
	run ! grep -q "/tasks/$id/" /proc/self/mountinfo
	# a task that had not been started yet still starts
	u=$(run_one keep)
	wait_status "$u" RUNNING
}

# task_cgroups: the names of every cgroup named like a task id, in every
# hierarchy mounted.
task_cgroups() {
	find $(awk '{ for (i = 7; i < NF; i++) if ($i == "-") { if ($(i + 1) ~ /^cgroup2?$/) print $5; break } }' \
		/proc/self/mountinfo | sort -u) -type d -regextype egrep -regex '.*/[0-9a-f]{32}' 2>/dev/null |
		awk -F/ '{ print $NF }' | sort -u
}

# cycle WORKER N: N run/stop cycles of the churn task, one after the other;
# the task ids go to ids.WORKER, a failure to failed.WORKER.
cycle() {
	local w=$1 n=$2 i t
	for ((i = 0; i < n; i++)); do
		t=$(run_one churn) || { echo "cycle $i: RunTask failed" > "$BATS_TEST_TMPDIR/failed.$w"; return 1; }
		task_id "$t" >> "$BATS_TEST_TMPDIR/ids.$w"
		wait_status "$t" RUNNING 600 > "$BATS_TEST_TMPDIR/failed.$w" 2>&1 || return 1
		api StopTask "{\"task\":\"$t\"}" >/dev/null || { echo "cycle $i: StopTask failed" > "$BATS_TEST_TMPDIR/failed.$w"; return 1; }
		wait_status "$t" STOPPED 600 > "$BATS_TEST_TMPDIR/failed.$w" 2>&1 || return 1
		rm -f "$BATS_TEST_TMPDIR/failed.$w"
	done
}

@test "churn: ${CHURN:=200} run/stop cycles leave no cgroup, mount, shim, process or file behind" {
	reg churn "[$(cdef app 'exec sleep 600' '{"linuxParameters":{"initProcessEnabled":true}}')]"
	# the daemon's descriptors once it has run a task (its lazily opened
	# ones open then)
	t=$(run_one churn)
	wait_status "$t" RUNNING
	# (a running task has a cgroup the check below would see)
	task_cgroups | grep -qx "$(task_id "$t")"
	api StopTask "{\"task\":\"$t\"}" >/dev/null
	wait_status "$t" STOPPED
	fds=$(ls "/proc/$DAEMON_PID/fd" | wc -l)

	# two clients at once, as many cycles in all
	cycle 1 $((CHURN / 2)) &
	w1=$!
	cycle 2 $((CHURN - CHURN / 2)) &
	w2=$!
	wait "$w1" || true
	wait "$w2" || true
	cat "$BATS_TEST_TMPDIR"/failed.* 2>/dev/null && false
	cat "$BATS_TEST_TMPDIR"/ids.* > "$BATS_TEST_TMPDIR/ids"
	[ "$(sort -u "$BATS_TEST_TMPDIR/ids" | wc -l)" -eq "$CHURN" ]
	[ "$(api ListTasks '{"desiredStatus":"STOPPED","maxResults":100}' | jq '.taskArns | length')" -eq \
		$((CHURN + 1 < 100 ? CHURN + 1 : 100)) ]
	[ "$(api ListTasks '{}' | jq '.taskArns | length')" -eq 0 ]

	# files: the task dirs go once stopped; host resources after the
	# cleanup wait (1 s here)
	for ((i = 0; i < 300; i++)); do
		[ -z "$(ls "$RUN_DIR/tasks")" ] && [ -z "$(ls "$STATE_DIR/tasks")" ] && break
		sleep 0.1
	done
	[ -z "$(ls "$RUN_DIR/tasks")" ]
	[ -z "$(ls "$STATE_DIR/tasks")" ]
	# shims and processes: only the daemon is left in its namespace, and no
	# process anywhere has its root in this test's directories
	[ -z "$(shims_running)" ]
	[ "$(ip netns pids "$NS")" = "$DAEMON_PID" ]
	for p in /proc/[0-9]*; do
		[[ $(readlink "$p/root" 2>/dev/null) != "$DTMP"* ]] || { echo "process ${p#/proc/} left"; false; }
	done
	# mounts
	run ! grep -F " $DTMP" /proc/self/mountinfo
	# cgroups: none named after one of the tasks, in any hierarchy
	task_cgroups > "$BATS_TEST_TMPDIR/cgroups"
	[ -z "$(sort -u "$BATS_TEST_TMPDIR/ids" | comm -12 - "$BATS_TEST_TMPDIR/cgroups")" ]
	# and the daemon holds no more descriptors than after the first task
	[ "$(ls "/proc/$DAEMON_PID/fd" | wc -l)" -le "$fds" ]
}

# instance_usage: "runningTasksCount pendingTasksCount used-MEMORY used-CPU".
instance_usage() {
	local ci
	ci=$(api ListContainerInstances '{}' | jq -r '.containerInstanceArns[0]')
	api DescribeContainerInstances "{\"containerInstances\":[\"$ci\"]}" | jq -r '.containerInstances[0] |
		def val($r; $n): $r[] | select(.name == $n) | .integerValue;
		"\(.runningTasksCount) \(.pendingTasksCount) \(val(.registeredResources; "MEMORY") - val(.remainingResources; "MEMORY")) \(val(.registeredResources; "CPU") - val(.remainingResources; "CPU"))"'
}

# nothing_created: no task listed, no task dir, no shim, no mount.
nothing_created() {
	[ "$(api ListTasks '{}' | jq '.taskArns | length')" -eq 0 ]
	[ "$(api ListTasks '{"desiredStatus":"STOPPED"}' | jq '.taskArns | length')" -eq 0 ]
	[ -z "$(ls "$RUN_DIR/tasks")" ]
	[ -z "$(shims_running)" ]
	run ! grep -F " $DTMP" /proc/self/mountinfo
	[ "$(instance_usage)" = "0 0 0 0" ]
}

@test "bad input: count out of 1-10, INACTIVE or unknown definitions, unknown override containers: an ECS error and nothing created" {
	reg two "[$(cdef a 'sleep 600'), $(cdef b 'sleep 600')]"
	reg old "[$(cdef a 'sleep 600')]"
	api DeregisterTaskDefinition '{"taskDefinition":"old:1"}' >/dev/null
	for body in '{"taskDefinition":"two","count":11}' '{"taskDefinition":"two","count":0}' \
		'{"taskDefinition":"two","count":-1}'; do
		run _raw_unix RunTask "$body"
		[ "${lines[0]}" = 400 ]
		[ "$(jq -r .__type <<<"${lines[1]}")" = InvalidParameterException ]
	done
	run aws_ecs run-task --task-definition two --count 11
	[ "$status" -ne 0 ]; [[ $output == *InvalidParameterException* ]]
	run aws_ecs run-task --task-definition old:1 --count 3
	[ "$status" -ne 0 ]; [[ $output == *ClientException* ]]
	run aws_ecs run-task --task-definition two:7
	[ "$status" -ne 0 ]; [[ $output == *ClientException* ]]
	# one good override and one naming a container the definition lacks:
	# refused whole, for all 3 tasks
	run aws_ecs run-task --task-definition two --count 3 --overrides \
		'{"containerOverrides":[{"name":"a","command":["exit 0"]},{"name":"c","command":["exit 0"]}]}'
	[ "$status" -ne 0 ]; [[ $output == *InvalidParameterException* ]]
	nothing_created
}

@test "bad input: an image that cannot be had fails the start of every task; nothing of the other container is left" {
	reg half "[$(cdef good 'sleep 600' '{"essential":false}'),
		{\"name\":\"bad\",\"image\":\"localhost/absent:v9\",\"memory\":32}]"
	mapfile -t ts < <(aws_ecs run-task --task-definition half --count 2 | jq -r '.tasks[].taskArn')
	[ "${#ts[@]}" -eq 2 ]
	for t in "${ts[@]}"; do
		wait_status "$t" STOPPED
		d=$(describe "$t")
		[ "$(jq -r .stopCode <<<"$d")" = TaskFailedToStart ]
		[[ $(jq -r '.containers[] | select(.name == "bad") | .reason' <<<"$d") == CannotPullContainerError* ]]
		# the container whose image was there never ran
		[ "$(jq -c '.containers[] | select(.name == "good") | [.lastStatus, .exitCode]' <<<"$d")" = '["STOPPED",null]' ]
	done
	# no task dir, shim or mount; the host's resources are all free again
	[ -z "$(ls "$RUN_DIR/tasks")" ]
	[ -z "$(shims_running)" ]
	run ! grep -F " $DTMP" /proc/self/mountinfo
	[ "$(instance_usage)" = "0 0 0 0" ]
	[ "$(api ListTasks '{}' | jq '.taskArns | length')" -eq 0 ]
}
