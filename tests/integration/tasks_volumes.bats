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

@test "volumes: a volume driver this host lacks fails the task before its shim starts, and nothing is left" {
	reg rex "[$(cdef app 'echo ran' '{"mountPoints":[{"sourceVolume":"r","containerPath":"/r"}]}')]" \
		'{"volumes":[{"name":"r","dockerVolumeConfiguration":{"scope":"task","driver":"rexray"}}]}'
	t=$(run_one rex)
	wait_status "$t" STOPPED
	d=$(describe "$t")
	[ "$(jq -r .stopCode <<<"$d")" = TaskFailedToStart ]
	[[ "$(jq -r .stoppedReason <<<"$d")" == "ResourceInitializationError: "*"volume driver 'rexray' is not available (only 'local')"* ]]
	# fail_start cleans up at once: no task dirs, no volume, no mount.
	[ ! -e "$RUN_DIR/tasks/$(task_id "$t")" ]
	[ ! -e "$STATE_DIR/tasks/$(task_id "$t")" ]
	[ -z "$(ls "$STATE_DIR/volumes" 2>/dev/null)" ]
	[ -z "$(mounts_below "$DTMP")" ]
}

@test "volumes: task-scoped volumes go (named at stop, host {} at cleanup); a host sourcePath survives" {
	restart_with BERTH_TASK_CLEANUP_WAIT=1s
	host=$DTMP/hostdata
	reg three "[$(cdef app 'echo s > /s/f && echo h > /h/f && echo n > /n/f && ls /data > /h/seeded' \
		'{"mountPoints":[{"sourceVolume":"scratch","containerPath":"/s"},
			{"sourceVolume":"hostvol","containerPath":"/h"},
			{"sourceVolume":"named","containerPath":"/n"},
			{"sourceVolume":"seeded","containerPath":"/data"}]}')]" \
		"{\"volumes\":[{\"name\":\"scratch\",\"host\":{}},{\"name\":\"hostvol\",\"host\":{\"sourcePath\":\"$host\"}},
			{\"name\":\"named\",\"dockerVolumeConfiguration\":{\"scope\":\"task\",\"driver\":\"local\"}},
			{\"name\":\"seeded\"}]}"
	t=$(run_one three)
	wait_status "$t" STOPPED
	d=$(describe "$t")
	[ "$(jq -r '.containers[0].exitCode' <<<"$d")" = 0 ]
	# A new task volume over the image's /data was seeded with its content
	# (kept on the host volume: the logs go with the 1 s cleanup).
	[ "$(cat "$host/seeded")" = c ]
	# The scope=task named volume went with the stop.
	[ -z "$(ls "$STATE_DIR/volumes" 2>/dev/null | grep '^ecs-three-1-named-')" ]
	wait_gone "$STATE_DIR/tasks/$(task_id "$t")"
	[ ! -e "$STATE_DIR/tasks/$(task_id "$t")" ]
	# The host path outlives the task, with its data.
	[ "$(cat "$host/f")" = h ]
	[ -z "$(mounts_below "$DTMP")" ]
}

@test "volumes: kill -9 of the daemon, then of the shim: nothing prepared twice, nothing leaks" {
	restart_with BERTH_TASK_CLEANUP_WAIT=1s
	reg held "[$(cdef app 'date +%s%N > /l/started; sleep 600' \
		'{"mountPoints":[{"sourceVolume":"shared","containerPath":"/sh"},
			{"sourceVolume":"mine","containerPath":"/m"},{"sourceVolume":"local","containerPath":"/l"}]}')]" \
		'{"volumes":[{"name":"shared","dockerVolumeConfiguration":{"scope":"shared","autoprovision":true}},
			{"name":"mine","dockerVolumeConfiguration":{"scope":"task"}},{"name":"local"}]}'
	t=$(run_one held)
	wait_status "$t" RUNNING
	id=$(task_id "$t")
	vinspect() { BERTH_STATE_DIR=$STATE_DIR "$BERTH" volume inspect "$1"; }
	[ "$(vinspect shared | jq -c '.[0].UsedBy')" = "[\"$id\"]" ]
	mine=$(ls "$STATE_DIR/volumes" | grep '^ecs-held-1-mine-')
	[ "$(vinspect "$mine" | jq -c '.[0].UsedBy')" = "[\"$id\"]" ]
	first=$(cat "$STATE_DIR/tasks/$id/volumes/local/started")
	daemon_kill9
	tasks_daemon_start
	wait_status "$t" RUNNING
	# Re-adopted, not prepared again: same volume, same content, one use.
	[ "$(cat "$STATE_DIR/tasks/$id/volumes/local/started")" = "$first" ]
	[ "$(vinspect shared | jq -c '.[0].UsedBy')" = "[\"$id\"]" ]
	kill -KILL "$(cat "$RUN_DIR/tasks/$id/shim.pid")"
	wait_status "$t" STOPPED
	wait_gone "$STATE_DIR/tasks/$id"
	[ ! -e "$STATE_DIR/tasks/$id" ]
	# the killed shim could not remove the task's cgroups: cleanup did
	cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	[ ! -e "$cg2/${BERTH_CGROUP_PARENT:-berth}/tasks/$id" ]
	[ "$(vinspect shared | jq -c '.[0].UsedBy')" = '[]' ]
	run vinspect "$mine"
	[ "$status" -ne 0 ]
	[ -z "$(mounts_below "$STATE_DIR/volumes")" ]
	[ -z "$(mounts_below "$STATE_DIR/tasks")" ]
}

@test "volumes: an EFS-like filesystem (host path; a tmpfs mounted once per host) is seen by two tasks at once" {
	mkdir -p "$DTMP/efs/sub"
	restart_with "BERTH_SHARED_FILESYSTEMS={\"fs-path\":\"$DTMP/efs\",\"fs-mnt\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"options\":\"size=1m\"}}"
	# Each writes its mark into both, then waits for the other's in both.
	for me in a b; do
		other=$([ $me = a ] && echo b || echo a)
		reg "efs-$me" "[$(cdef app "echo $me > /p/$me; echo $me > /m/$me; while [ ! -f /p/$other ] || [ ! -f /m/$other ]; do sleep 0.2; done; cat /p/$other /m/$other; sleep 600" \
			'{"mountPoints":[{"sourceVolume":"p","containerPath":"/p"},{"sourceVolume":"m","containerPath":"/m"}]}')]" \
			'{"volumes":[{"name":"p","efsVolumeConfiguration":{"fileSystemId":"fs-path","rootDirectory":"/sub"}},
				{"name":"m","efsVolumeConfiguration":{"fileSystemId":"fs-mnt"}}]}'
	done
	ta=$(run_one efs-a)
	tb=$(run_one efs-b)
	wait_status "$ta" RUNNING
	wait_status "$tb" RUNNING
	for ((i = 0; i < 100; i++)); do
		[ "$(tlogs "$ta" --container app | wc -l)" -ge 2 ] && [ "$(tlogs "$tb" --container app | wc -l)" -ge 2 ] && break
		sleep 0.1
	done
	[ "$(tlogs "$ta" --container app)" = $'b\nb' ]
	[ "$(tlogs "$tb" --container app)" = $'a\na' ]
	[ "$(cat "$DTMP/efs/sub/a" "$DTMP/efs/sub/b")" = $'a\nb' ]
	# Mounted once on the host for both tasks, gone once neither uses it.
	[ "$(mounts_below "$STATE_DIR/efs" | wc -l)" = 1 ]
	api StopTask "{\"task\":\"$ta\"}" >/dev/null
	wait_status "$ta" STOPPED
	[ "$(mounts_below "$STATE_DIR/efs" | wc -l)" = 1 ]
	api StopTask "{\"task\":\"$tb\"}" >/dev/null
	wait_status "$tb" STOPPED
	[ -z "$(mounts_below "$STATE_DIR/efs")" ]
	# (A loopback NFS export is not tried: nfs-kernel-server is not installed here.)
}

@test "volumes: escapes refused: '..' at registration, paths outside BERTH_HOST_VOLUME_ROOTS or leading out by a symlink at start" {
	mkdir -p "$DTMP/allowed/ok"
	ln -s /etc "$DTMP/allowed/link"
	restart_with "BERTH_HOST_VOLUME_ROOTS=$DTMP/allowed"
	mp='{"mountPoints":[{"sourceVolume":"h","containerPath":"/h"}]}'
	run api RegisterTaskDefinition "$(jq -nc --argjson c "[$(cdef app 'true' "$mp")]" --arg p "$DTMP/allowed/../../etc" \
		'{family: "dots", containerDefinitions: $c, volumes: [{name: "h", host: {sourcePath: $p}}]}')"
	[ "$status" -ne 0 ]
	[[ "$output" == *"ClientException"* ]]
	[[ "$output" == *"'host.sourcePath' must not contain '..' components"* ]]
	declare -A why=([/etc]="is outside BERTH_HOST_VOLUME_ROOTS"
		[$DTMP/allowed/link]="leads outside '$DTMP/allowed' through a symlink")
	for src in /etc "$DTMP/allowed/link"; do
		reg out "[$(cdef app 'echo ran' "$mp")]" "{\"volumes\":[{\"name\":\"h\",\"host\":{\"sourcePath\":\"$src\"}}]}"
		t=$(run_one out)
		wait_status "$t" STOPPED
		d=$(describe "$t")
		[ "$(jq -r .stopCode <<<"$d")" = TaskFailedToStart ]
		reason=$(jq -r .stoppedReason <<<"$d")
		[ "$reason" = "ResourceInitializationError: volume 'h': sourcePath '$src' ${why[$src]}" ]
		[ -z "$(tlogs "$t" --container app 2>/dev/null)" ]
	done
	# Inside the allow-list it runs.
	reg in "[$(cdef app 'echo ran > /h/f' "$mp")]" "{\"volumes\":[{\"name\":\"h\",\"host\":{\"sourcePath\":\"$DTMP/allowed/ok\"}}]}"
	t=$(run_one in)
	wait_status "$t" STOPPED
	[ "$(cat "$DTMP/allowed/ok/f")" = ran ]
	[ -z "$(mounts_below "$DTMP")" ]
}

@test "volumes: a containerPath that is a symlink out of the image's rootfs is resolved inside it; nothing lands on the host" {
	# An image whose /escape points, taken on the host, at a host dir.
	mkdir -p "$DTMP/target" "$BATS_TEST_TMPDIR/l"
	cp -a "$IMGFIX/oci" "$BATS_TEST_TMPDIR/evil"
	ln -s "/../../../../../../..$DTMP/target" "$BATS_TEST_TMPDIR/l/escape"
	tar -C "$BATS_TEST_TMPDIR/l" --owner=0 --group=0 -cf "$BATS_TEST_TMPDIR/l.tar" escape
	umoci raw add-layer --image "$BATS_TEST_TMPDIR/evil:v1" "$BATS_TEST_TMPDIR/l.tar"
	BERTH_STATE_DIR=$STATE_DIR "$BERTH" image load --name localhost/evil:v1 "$BATS_TEST_TMPDIR/evil" >/dev/null
	reg evil "[$(cdef app 'echo inside > /escape/f; cat /escape/f' \
		'{"image":"localhost/evil:v1","mountPoints":[{"sourceVolume":"v","containerPath":"/escape"}]}')]" \
		'{"volumes":[{"name":"v"}]}'
	t=$(run_one evil)
	wait_status "$t" STOPPED
	[ "$(describe "$t" | jq -r '.containers[0].exitCode')" = 0 ]
	[ "$(tlogs "$t" --container app)" = inside ]
	# The write went to the task's volume, never to the host dir.
	[ "$(cat "$STATE_DIR/tasks/$(task_id "$t")/volumes/v/f")" = inside ]
	[ -z "$(ls -A "$DTMP/target")" ]
	[ -z "$(mounts_below "$DTMP/target")" ]
	[ -z "$(mounts_below "$STATE_DIR/tasks")" ]
}

@test "volumes: 200 tasks with volumes of every kind run and stop; no mount and no directory is left" {
	restart_with BERTH_TASK_CLEANUP_WAIT=1s \
		'BERTH_SHARED_FILESYSTEMS={"fs-mnt":{"type":"tmpfs","device":"tmpfs","options":"size=4m"}}'
	mkdir -p "$DTMP/hostdata"
	reg many "[$(cdef app 'echo x >> /sh/all && echo y > /l/f && echo z > /e/$HOSTNAME && echo w > /t/f && echo v >> /h/all' \
		'{"mountPoints":[{"sourceVolume":"sh","containerPath":"/sh"},{"sourceVolume":"l","containerPath":"/l"},
			{"sourceVolume":"e","containerPath":"/e"},{"sourceVolume":"t","containerPath":"/t"},
			{"sourceVolume":"h","containerPath":"/h"}]}')]" \
		"{\"volumes\":[{\"name\":\"sh\",\"dockerVolumeConfiguration\":{\"scope\":\"shared\",\"autoprovision\":true}},
			{\"name\":\"l\"},{\"name\":\"e\",\"efsVolumeConfiguration\":{\"fileSystemId\":\"fs-mnt\"}},
			{\"name\":\"t\",\"dockerVolumeConfiguration\":{\"scope\":\"task\"}},
			{\"name\":\"h\",\"host\":{\"sourcePath\":\"$DTMP/hostdata\"}}]}"
	local -a all
	for ((b = 0; b < 20; b++)); do
		mapfile -t arns < <(api RunTask '{"taskDefinition":"many","count":10}' | jq -r '.tasks[].taskArn')
		[ "${#arns[@]}" -eq 10 ]
		for t in "${arns[@]}"; do
			wait_status "$t" STOPPED 600
			[ "$(describe "$t" | jq -r '.containers[0].exitCode')" = 0 ]
		done
		all+=("${arns[@]}")
	done
	[ "${#all[@]}" -eq 200 ]
	[ "$(wc -l < "$DTMP/hostdata/all")" -eq 200 ]
	[ "$(wc -l < "$STATE_DIR/volumes/sh/_data/all")" -eq 200 ]
	for ((i = 0; i < 600; i++)); do
		[ -z "$(ls -A "$STATE_DIR/tasks")" ] && break
		sleep 0.1
	done
	[ -z "$(ls -A "$STATE_DIR/tasks")" ]
	[ -z "$(mounts_below "$STATE_DIR")" ]
	# Only the shared volume stays, unused; the filesystem has no users.
	[ "$(ls "$STATE_DIR/volumes")" = sh ]
	[ -z "$(cat "$STATE_DIR/volumes/sh/users" 2>/dev/null)" ]
	[ -z "$(cat "$STATE_DIR/efs/fs-mnt/users" 2>/dev/null)" ]
}
