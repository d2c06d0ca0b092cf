# tests/integration/lib/tasks.bash - a daemon that runs real tasks, for the
# task suites (load after lib/daemon).
#
#   setup_file() { tasks_setup_file; }
#   setup()      { tasks_setup; }        # CLEANUP_WAIT=1s before it to shorten
#   teardown()   { tasks_teardown; }
#
# The daemon runs with limits off (the VM suite proves them), the busybox
# test image loaded as localhost/app:v1, stop timeout 2 s.  Helpers:
#   reg FAMILY CONTAINERS-JSON [TOP-LEVEL-JSON]  register over the socket
#   run_one FAMILY [RUNTASK-JSON]                RunTask over the socket -> ARN
#   describe ARN                                 the task object
#   wait_task ARN JQ-EXPR [TENTHS]               until the task satisfies it
#   task_id ARN, spec_of ARN, status_of ARN      its id, spec.json, status.json

tasks_setup_file() {
	: "${BERTH:?set BERTH to the berth binary (tests/run does)}"
	export IMGFIX=$BATS_FILE_TMPDIR/images
	"$BATS_TEST_DIRNAME/../fixtures/images/mkimages" "$IMGFIX" >/dev/null
}

tasks_setup() {
	daemon_setup
	cat >> "$CONF" <<-EOF
		BERTH_CGROUP_ENFORCE=off
		BERTH_IMAGE_PULL_BEHAVIOR=prefer-cached
		BERTH_CONTAINER_STOP_TIMEOUT=2s
		BERTH_TASK_CLEANUP_WAIT=${CLEANUP_WAIT:-1h}
	EOF
	BERTH_STATE_DIR=$STATE_DIR "$BERTH" image load --name localhost/app:v1 "$IMGFIX/oci" >/dev/null
	tasks_daemon_start
}

# As daemon_start, with the host's cgroup hierarchies visible: `ip netns
# exec` mounts a fresh /sys for the namespace, without /sys/fs/cgroup, and
# the shims join cgroups there; nsenter switches the network namespace only.
tasks_daemon_start() {
	local -a envs
	mapfile -t envs < <(_daemon_env)
	nsenter --net="/run/netns/$NS" env -i "${envs[@]}" "$BERTH" daemon --config "$CONF" \
		>> "$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	_daemon_record_pid
	daemon_wait_ready
}

tasks_teardown() {
	local m
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -f "${DAEMON_LOG:-}" ]; then
		echo "# daemon log (tail):" >&3
		tail -n 30 "$DAEMON_LOG" | sed 's/^/#   /' >&3
	fi
	# Shims and containers outlive the daemon by design: end them (they
	# live in the test's namespace), then unmount the rootfs the agent made.
	daemon_stop || true
	if [ -n "${NS:-}" ]; then
		ip netns pids "$NS" 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done
	fi
	sleep 0.2
	grep -o " ${DTMP:-/nonexistent}[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do
		umount -l "$m"
	done
	tasks_remove_cgroups
	daemon_teardown
}

# The shims killed above cannot remove their tasks' cgroups: remove the
# (now empty) cgroups of this test's tasks, deepest first.
tasks_remove_cgroups() {
	local cg2 id
	cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	[ -n "$cg2" ] && [ -d "${RUN_DIR:-/nonexistent}/tasks" ] || return 0
	for id in $(ls "$RUN_DIR/tasks"); do
		[ -d "$cg2/${BERTH_CGROUP_PARENT:-berth}/tasks/$id" ] || continue
		find "$cg2/${BERTH_CGROUP_PARENT:-berth}/tasks/$id" -depth -type d -exec rmdir {} + 2>/dev/null || true
	done
}

# api ACTION BODY: the answer's body; fails unless the status is 200.
api() {
	local out
	out=$(_raw_unix "$1" "$2") || return 1
	if [ "$(head -1 <<<"$out")" != 200 ]; then
		echo "$1: $out" >&2
		return 1
	fi
	tail -n +2 <<<"$out"
}

# reg FAMILY CONTAINERS-JSON [TOP-LEVEL-JSON]: network mode none unless the
# top-level JSON says otherwise.
reg() {
	api RegisterTaskDefinition "$(jq -nc --arg f "$1" --argjson c "$2" --argjson x "${3:-"{}"}" \
		'{family: $f, networkMode: "none", containerDefinitions: $c} + $x')" >/dev/null
}

# cdef NAME SHELL-COMMAND [EXTRA-JSON]: a container definition of the test image.
cdef() {
	jq -nc --arg n "$1" --arg c "$2" --argjson x "${3:-"{}"}" \
		'{name: $n, image: "localhost/app:v1", memory: 32, command: [$c]} + $x'
}

run_one() {
	api RunTask "$(jq -nc --arg f "$1" --argjson x "${2:-"{}"}" '{taskDefinition: $f} + $x')" |
		jq -er '.tasks[0].taskArn'
}

describe() {
	api DescribeTasks "{\"tasks\":[\"$1\"]}" | jq -c '.tasks[0]'
}

# wait_task ARN JQ-EXPR [TENTHS]: bounded (not a timing check), default 40 s.
wait_task() {
	local i d
	for ((i = 0; i < ${3:-400}; i++)); do
		d=$(describe "$1")
		jq -e "$2" <<<"$d" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "task $1 never satisfied $2: $d" >&2
	return 1
}

wait_status() {
	wait_task "$1" ".lastStatus == \"$2\"" "${3:-400}"
}

task_id() {
	echo "${1##*/}"
}

spec_of() {
	cat "$RUN_DIR/tasks/$(task_id "$1")/spec.json"
}

status_of() {
	cat "$RUN_DIR/tasks/$(task_id "$1")/status.json"
}

# rootfs_of ARN CONTAINER: the container's merged rootfs as the host sees it.
rootfs_of() {
	spec_of "$1" | jq -er --arg n "$2" '.containers[] | select(.name == $n) | .rootfs'
}

# shims_running: the pids of the shims of this test's run dir (a container
# init forked by a shim keeps its command line: not counted).
shims_running() {
	local all p
	all=" $(pgrep -d ' ' -f -- "--task-dir $RUN_DIR/tasks/") "
	for p in $all; do
		[[ $all == *" $(ps -o ppid= -p "$p" | tr -d ' ') "* ]] || echo "$p"
	done
}

# shims_of ARN: how many shims run for the task.
shims_of() {
	local p n=0
	for p in $(shims_running); do
		grep -qz -- "^$RUN_DIR/tasks/$(task_id "$1")\$" "/proc/$p/cmdline" 2>/dev/null && n=$((n + 1))
	done
	echo "$n"
}
