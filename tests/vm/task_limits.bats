#!/usr/bin/env bats
# A task's limits under a pure cgroup v2 (`berth shim`, cgroupEnforce on):
# the task cgroup holds its containers' cgroups with the task's cpu.max,
# memory.max and pids.max, the containers' own limits below it; a container
# over the task's memory is OOM-killed and reported as ECS does; the shim is
# never charged to the task; nothing is left afterwards.

load helpers

setup_file() {
	require_vm
	make_rootfs
}

setup() {
	require_vm
	RUN=$BATS_TEST_TMPDIR/run
	CGP=berth-vm-tasks
	mkdir -p "$RUN"
}

teardown() {
	local f
	for f in "$RUN"/*/shim.pid; do
		[ -e "$f" ] && [ ! -e "$(dirname "$f")/exited" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	return 0
}

# task ID CONTAINERS-JSON TASK-LEVEL-JSON
task() {
	mkdir -p "$RUN/$1"
	jq -n --arg id "$1" --arg st "$BATS_TEST_TMPDIR/state/$1" --argjson c "$2" --argjson x "$3" \
		'{taskId: $id, stateDir: $st, cgroupParent: "berth-vm-tasks", shimCgroup: "berth-vm-shims",
		  networkMode: "none", stopTimeoutDefault: 2, containers: $c} + $x' > "$RUN/$1/spec.json"
	"$BERTH" shim --task-dir "$RUN/$1"
}

ctr() {
	jq -nc --arg n "$1" --arg r "$ROOTFS" --arg s "$2" --argjson x "$3" \
		'{name: $n, rootfs: $r, argv: ["/bin/sh", "-c", $s]} + $x'
}

wait_for() {
	local i
	for ((i = 0; i < 600; i++)); do
		jq -e "$2" "$RUN/$1/status.json" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	cat "$RUN/$1/status.json" >&2
	return 1
}

stop_task() {
	python3 -c "
import socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b'{\"op\":\"stop\"}\n'); s.recv(100)" \
		"$RUN/$1/shim.sock"
	wait_for "$1" '.lastStatus == "STOPPED"'
	for ((i = 0; i < 100; i++)); do [ -e "$RUN/$1/exited" ] && break; sleep 0.1; done
	[ ! -e "/sys/fs/cgroup/$CGP/$1" ]
}

@test "vm task: limits land in the task and container cgroups; the shim is not charged to the task" {
	task l1 "[$(ctr app "$STOP_WAIT" '{"cpu":512,"memory":32,"memoryReservation":16}')]" \
		'{"cpu":512,"memory":64,"pidsLimit":50}'
	wait_for l1 '.lastStatus == "RUNNING"'
	t=/sys/fs/cgroup/$CGP/l1
	[ "$(cat "$t/cpu.max")" = "50000 100000" ]
	[ "$(cat "$t/memory.max")" = $((64 << 20)) ]
	[ "$(cat "$t/pids.max")" = 50 ]
	[ "$(cat "$t/app/memory.max")" = $((32 << 20)) ]
	[ "$(cat "$t/app/memory.low")" = $((16 << 20)) ]
	[ "$(cat "$t/app/cpu.weight")" -gt 1 ]
	pid=$(cat "$RUN/l1/shim.pid")
	[ "$(cut -d: -f3 "/proc/$pid/cgroup")" = /berth-vm-shims ]
	touch "$ROOTFS/.stop"
	wait_for l1 '.lastStatus == "STOPPED"'
	rm -f "$ROOTFS/.stop"
	[ "$(jq -r '.containers[0].exitCode' "$RUN/l1/status.json")" = 0 ]
	for ((i = 0; i < 100; i++)); do [ -e "$RUN/l1/exited" ] && break; sleep 0.1; done
	[ ! -e "$t" ]
}

@test "vm task: a container over the task's memory is OOM-killed: reason and 137" {
	task l2 "[$(ctr hog 'dd if=/dev/zero of=/dev/null bs=64M count=4' '{}')]" '{"memory":32}'
	wait_for l2 '.lastStatus == "STOPPED"'
	run jq -r '.containers[0].exitCode, .containers[0].reason, .containers[0].oomKilled, .stopCode' \
		"$RUN/l2/status.json"
	[ "$output" = $'137\nOutOfMemoryError: Container killed due to memory usage\ntrue\nEssentialContainerExited' ]
	for ((i = 0; i < 100; i++)); do [ -e "$RUN/l2/exited" ] && break; sleep 0.1; done
	[ ! -e "/sys/fs/cgroup/$CGP/l2" ]
}

@test "vm task: an OOM-killed child is reported; the container keeps pid 1's exit code" {
	task l5 "[$(ctr hog 'dd if=/dev/zero of=/dev/null bs=64M count=4; exit 3' '{}')]" '{"memory":32}'
	wait_for l5 '.lastStatus == "STOPPED"'
	run jq -r '.containers[0].exitCode, .containers[0].reason, .containers[0].oomKilled' \
		"$RUN/l5/status.json"
	[ "$output" = $'3\nOutOfMemoryError: Container killed due to memory usage\ntrue' ]
	for ((i = 0; i < 100; i++)); do [ -e "$RUN/l5/exited" ] && break; sleep 0.1; done
	[ ! -e "/sys/fs/cgroup/$CGP/l5" ]
}

@test "vm task: pidsLimit caps the whole task; stop leaves nothing" {
	# in a subshell: ash gives up at the first fork that fails, pid 1 stays
	task l3 "[$(ctr a "(i=0; while [ \$i -lt 40 ]; do sleep 60 & i=\$((i+1)); done); $STOP_WAIT" '{}')]" \
		'{"pidsLimit":20}'
	wait_for l3 '.lastStatus == "RUNNING"'
	t=/sys/fs/cgroup/$CGP/l3
	# the container's own cgroup has no pids limit: the task's refused the
	# forks (6.1 counts the event where the fork was tried)
	[ "$(cat "$t/a/pids.max")" = max ]
	for ((i = 0; i < 100; i++)); do
		[ "$(cg_stat "$t/a/pids.events" max)" -gt 0 ] && break
		sleep 0.1
	done
	[ "$(cg_stat "$t/a/pids.events" max)" -gt 0 ]
	[ "$(cat "$t/pids.current")" -le 20 ]
	stop_task l3
	[ "$(jq -r '.containers[0].exitCode, .stopCode' "$RUN/l3/status.json")" = $'137\nUserInitiated' ]
}
