#!/usr/bin/env bats
# Task volumes through the daemon (issue 7, Tests): the agent writes the task
# definition's volumes into spec.json, the shim prepares them before the
# first container, opens each container's mounts and attaches them inside
# its rootfs, and releases them when the task ends; the agent's host cleanup
# removes task-scoped volumes.  Every test has its own daemon, state and
# namespace; leak checks look only at this test's temp dir.
# (tmpfs size and sharedMemorySize belong to the linuxParameters work of
# spec.json's container fields, not tested here.)

bats_require_minimum_version 1.5.0
load lib/daemon
load lib/tasks

setup_file() { tasks_setup_file; }
setup() { tasks_setup; }
teardown() { tasks_teardown; }

tlogs() {
	BERTH_RUN_DIR=$RUN_DIR BERTH_STATE_DIR=$STATE_DIR "$BERTH" logs "$@"
}

# restart_with KEY=VALUE...: the daemon again with these settings added.
restart_with() {
	local kv
	daemon_stop
	for kv in "$@"; do
		sed -i "/^${kv%%=*}=/d" "$CONF"
		echo "$kv" >> "$CONF"
	done
	tasks_daemon_start
}

# mounts_below DIR: this test's mounts at or below DIR, as the host sees them.
mounts_below() {
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
}

# wait_gone PATH: bounded wait until PATH no longer exists.
wait_gone() {
	local i
	for ((i = 0; i < 200; i++)); do
		[ -e "$1" ] || return 0
		sleep 0.05
	done
	return 1
}

@test "volumes: sidecar tails what the app writes into a task-scoped volume" {
	reg sidecar "[$(cdef app 'i=0; while true; do echo app-line-$i >> /out/app.log; i=$((i+1)); sleep 1; done' \
			'{"mountPoints":[{"sourceVolume":"logs","containerPath":"/out"}]}'),
		$(cdef sidecar 'while [ ! -f /in/app.log ]; do sleep 0.2; done; exec tail -f /in/app.log' \
			'{"essential":false,"mountPoints":[{"sourceVolume":"logs","containerPath":"/in","readOnly":true}]}')]" \
		'{"volumes":[{"name":"logs"}]}'
	t=$(run_one sidecar)
	wait_status "$t" RUNNING
	id=$(task_id "$t")
	for ((i = 0; i < 100; i++)); do
		tlogs "$t" --container sidecar | grep -q app-line-2 && break
		sleep 0.1
	done
	run tlogs "$t" --container sidecar
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = app-line-0 ]
	[ "${lines[1]}" = app-line-1 ]
	[ "${lines[2]}" = app-line-2 ]
	# The data is the task's, on the host, under its state dir.
	grep -q app-line-0 "$STATE_DIR/tasks/$id/volumes/logs/app.log"
	jq -e '.volumes.taskDefinition.volumes[0].name == "logs"' <<<"$(spec_of "$t")" >/dev/null
	api StopTask "{\"task\":\"$t\"}" >/dev/null
	wait_status "$t" STOPPED
	[ -z "$(mounts_below "$STATE_DIR/tasks/$id/volumes")" ]
}

@test "volumes: volumesFrom readOnly sees the writer's files and cannot write (EROFS)" {
	reg vfrom "[$(cdef writer 'echo from-writer > /data/w; echo written; sleep 600' \
			'{"mountPoints":[{"sourceVolume":"d","containerPath":"/data"}]}'),
		$(cdef reader 'while [ ! -f /data/w ]; do sleep 0.2; done; cat /data/w; { echo x > /data/r && echo WROTE; } 2>&1; sleep 600' \
			'{"essential":false,"volumesFrom":[{"sourceContainer":"writer","readOnly":true}]}')]" \
		'{"volumes":[{"name":"d"}]}'
	t=$(run_one vfrom)
	wait_status "$t" RUNNING
	for ((i = 0; i < 100; i++)); do
		[ "$(tlogs "$t" --container reader | wc -l)" -ge 2 ] && break
		sleep 0.1
	done
	run tlogs "$t" --container reader
	[ "${lines[0]}" = from-writer ]
	[[ "${lines[1]}" == *"Read-only file system"* ]]
	[ ! -e "$STATE_DIR/tasks/$(task_id "$t")/volumes/d/r" ]
}

@test "volumes: a shared named volume written by one task is read by the next" {
	vols='{"volumes":[{"name":"keep","dockerVolumeConfiguration":{"scope":"shared","autoprovision":true}}]}'
	mp='{"mountPoints":[{"sourceVolume":"keep","containerPath":"/keep"}]}'
	reg wr "[$(cdef app 'echo kept-$(id -u) > /keep/f' "$mp")]" "$vols"
	reg rd "[$(cdef app 'cat /keep/f' "$mp")]" "$vols"
	t1=$(run_one wr)
	wait_status "$t1" STOPPED
	[ "$(describe "$t1" | jq -r '.containers[0].exitCode')" = 0 ]
	# Kept, and nobody uses it once the task stopped.
	run env BERTH_STATE_DIR="$STATE_DIR" "$BERTH" volume inspect keep
	[ "$status" -eq 0 ]
	[ "$(jq '.[0].UsedBy | length' <<<"$output")" = 0 ]
	t2=$(run_one rd)
	wait_status "$t2" STOPPED
	[ "$(describe "$t2" | jq -r '.containers[0].exitCode')" = 0 ]
	[ "$(tlogs "$t2" --container app)" = kept-0 ]
}

@test "volumes: a missing shared volume with autoprovision false fails the task with ECS's reason" {
	reg noauto "[$(cdef app 'echo ran' '{"mountPoints":[{"sourceVolume":"gone","containerPath":"/g"}]}')]" \
		'{"volumes":[{"name":"gone","dockerVolumeConfiguration":{"scope":"shared","autoprovision":false}}]}'
	t=$(run_one noauto)
	wait_status "$t" STOPPED
	d=$(describe "$t")
	[ "$(jq -r .stopCode <<<"$d")" = TaskFailedToStart ]
	[[ "$(jq -r .stoppedReason <<<"$d")" == *"volume 'gone' does not exist and autoprovision is set to false"* ]]
	[ "$(jq -r '.containers[0].exitCode' <<<"$d")" = null ]
	# Nothing created for it: no volume, no use, the container never ran.
	[ ! -e "$STATE_DIR/volumes/gone" ]
	[ -z "$(tlogs "$t" --container app 2>/dev/null)" ]
}
