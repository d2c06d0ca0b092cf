#!/usr/bin/env bats
# `berth shim` driven directly with hand-written spec.json files (the
# contract: runtime/shim.h): dependsOn order, essential exits, stop
# timeouts, health checks, logs and rotation, `berth logs`, the socket,
# detaching, and that nothing is left once a task stopped.  Limits are the
# VM's (tests/vm); here cgroupEnforce is false.

bats_require_minimum_version 1.5.0

setup_file() {
	: "${BERTH:?set BERTH to the berth binary (tests/run does)}"
	export ROOTFS=${BERTH_TEST_ROOTFS:-$(dirname "$(dirname "$BERTH")")/rootfs}
	"$BATS_TEST_DIRNAME/../fixtures/mkrootfs" "$ROOTFS"
	CGMOUNT=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -1 | cut -d' ' -f5)
	export CGMOUNT
	export CGPARENT=berth-bats-shim-$$
	export BERTH_SECCOMP_CACHE=${BATS_FILE_TMPDIR}/seccomp
}

teardown_file() {
	local d
	for d in "$CGMOUNT/$CGPARENT"/tasks/*/ "$CGMOUNT/$CGPARENT"/tasks "$CGMOUNT/$CGPARENT"/shims \
		"$CGMOUNT/$CGPARENT"; do
		[ -d "$d" ] && rmdir "$d" 2>/dev/null
	done
	return 0
}

setup() {
	RUN=$BATS_TEST_TMPDIR/run
	STATE=$BATS_TEST_TMPDIR/state
	mkdir -p "$RUN" "$STATE"
	export BERTH_RUN_DIR=$RUN BERTH_STATE_DIR=$STATE
	TAG=$(printf '%s' "$BATS_TEST_NAME" | md5sum | cut -c1-8)
}

# A failed test may leave a shim: stop it by pid, it removes its task.
teardown() {
	local f p
	for f in "$RUN"/tasks/*/shim.pid; do
		[ -e "$f" ] || continue
		[ -e "$(dirname "$f")/exited" ] && continue
		p=$(cat "$f")
		kill -TERM "$p" 2>/dev/null
		for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
		kill -KILL "$p" 2>/dev/null
	done
	return 0
}

# task ID CONTAINERS-JSON [EXTRA-TOP-LEVEL-JSON]: writes the task dir.
task() {
	local id=$1 ctrs=$2 extra=${3:-"{}"}
	mkdir -p "$RUN/tasks/$id"
	jq -n --arg id "$id" --arg state "$STATE/tasks/$id" --arg cg "$CGPARENT" \
		--argjson ctrs "$ctrs" --argjson extra "$extra" \
		'{taskArn: ("arn:aws:ecs:local:0:task/default/" + $id), taskId: $id, stateDir: $state,
		  cgroupParent: ($cg + "/tasks"), shimCgroup: ($cg + "/shims"), cgroupEnforce: false,
		  networkMode: "none", stopTimeoutDefault: 10, containers: $ctrs} + $extra' \
		> "$RUN/tasks/$id/spec.json"
}

# ctr NAME ARGV-JSON [EXTRA-JSON]: one container object.
ctr() {
	jq -nc --arg n "$1" --arg r "$ROOTFS" --argjson argv "$2" --argjson extra "${3:-"{}"}" \
		'{name: $n, rootfs: $r, argv: $argv} + $extra'
}

sh_argv() { jq -nc --arg s "$1" '["/bin/sh", "-c", $s]'; }

start() { "$BERTH" shim --task-dir "$RUN/tasks/$1"; }

status() { cat "$RUN/tasks/$1/status.json"; }

# wait_for ID JQ-EXPR [TENTHS]: until status.json satisfies the expression.
wait_for() {
	local i
	for i in $(seq "${3:-300}"); do
		if [ -e "$RUN/tasks/$1/status.json" ] &&
		   jq -e "$2" "$RUN/tasks/$1/status.json" >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "timed out waiting for $2 in:" >&2
	cat "$RUN/tasks/$1/status.json" >&2
	return 1
}

wait_exited() {
	local i
	for i in $(seq "${2:-300}"); do
		[ -e "$RUN/tasks/$1/exited" ] && return 0
		sleep 0.1
	done
	echo "task $1 did not exit" >&2
	return 1
}

# ctl ID JSON-LINE: one request over shim.sock, prints the answer line.
ctl() {
	python3 - "$RUN/tasks/$1/shim.sock" "$2" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
buf = b""
try:
    s.sendall(sys.argv[2].encode() + b"\n")
    while not buf.endswith(b"\n"):
        d = s.recv(65536)
        if not d:
            break
        buf += d
except (BrokenPipeError, ConnectionResetError):
    pass  # the shim closed on us: no answer
sys.stdout.write(buf.decode())
PY
}

# Nothing of task ID left: no shim, no container process, no task cgroup,
# no mount of the rootfs.
nothing_left() {
	local id=$1 pid
	pid=$(cat "$RUN/tasks/$id/shim.pid")
	for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	! kill -0 "$pid" 2>/dev/null || { echo "shim $pid still runs" >&2; return 1; }
	[ ! -e "$CGMOUNT/$CGPARENT/tasks/$id" ] || { echo "task cgroup left" >&2; return 1; }
	[ ! -e "$RUN/tasks/$id/shim.sock" ] || { echo "socket left" >&2; return 1; }
	! grep -q "$ROOTFS" /proc/self/mountinfo || { echo "mount left" >&2; return 1; }
	! grep -qs "$CGPARENT/tasks/$id" /proc/[0-9]*/cgroup || { echo "process left" >&2; return 1; }
}

logtext() { jq -j '.log' "$STATE/tasks/$1/logs/$2.log" 2>/dev/null; }

@test "init (essential false) then app dependsOn init SUCCESS: order from the logs" {
	task t1 "[$(ctr init "$(sh_argv "echo init-done > /tmp/bats-$TAG; echo init-ran")" '{"essential":false}'),
		  $(ctr app "$(sh_argv "cat /tmp/bats-$TAG; echo app-ran")" \
			'{"dependsOn":[{"containerName":"init","condition":"SUCCESS"}]}')]"
	start t1
	wait_exited t1
	run logtext t1 app
	[ "$output" = $'init-done\napp-ran' ]
	[ "$(logtext t1 init)" = init-ran ]
	# init's last line comes before app's first one
	a=$(jq -r .time "$STATE/tasks/t1/logs/init.log" | tail -1)
	b=$(jq -r .time "$STATE/tasks/t1/logs/app.log" | head -1)
	[[ "$a" < "$b" ]]
	run status t1
	[ "$(jq -r '.lastStatus, .stopCode, .stoppedReason' <<<"$output")" = \
		$'STOPPED\nEssentialContainerExited\nEssential container in task exited' ]
	[ "$(jq -c '[.containers[] | [.name, .lastStatus, .exitCode]]' <<<"$output")" = \
		'[["init","STOPPED",0],["app","STOPPED",0]]' ]
	rm -f "$ROOTFS/tmp/bats-$TAG"
	nothing_left t1
}

@test "an init that fails keeps app from starting; the task stops TaskFailedToStart" {
	task t2 "[$(ctr init "$(sh_argv 'exit 3')" '{"essential":false}'),
		  $(ctr app "$(sh_argv 'echo must-not-run')" \
			'{"dependsOn":[{"containerName":"init","condition":"SUCCESS"}]}')]"
	start t2
	wait_exited t2
	run status t2
	[ "$(jq -r .stopCode <<<"$output")" = TaskFailedToStart ]
	[ "$(jq -c '.containers[0] | [.lastStatus, .exitCode]' <<<"$output")" = '["STOPPED",3]' ]
	[ "$(jq -c '.containers[1] | [.lastStatus, .exitCode, .startedAt]' <<<"$output")" = '["STOPPED",null,null]' ]
	[[ "$(jq -r '.containers[1].reason' <<<"$output")" == *"dependency [init] for target [app] as dependency did not exit successfully."* ]]
	[ "$(jq -r .stoppedReason <<<"$output")" = "$(jq -r '.containers[1].reason' <<<"$output")" ]
	[ -z "$(logtext t2 app)" ]
	nothing_left t2
}

@test "an essential exit stops the task with exit codes per container" {
	# side runs under init: SIGTERM reaches sh (not pid 1) and ends it: 143
	task t3 "[$(ctr side '["/bin/sleep","300"]' '{"initProcessEnabled":true}'),
		  $(ctr main "$(sh_argv 'sleep 0.5; exit 5')")]"
	start t3
	wait_exited t3
	run status t3
	[ "$(jq -r '.stopCode, .stoppedReason' <<<"$output")" = \
		$'EssentialContainerExited\nEssential container in task exited' ]
	[ "$(jq -c '[.containers[] | [.name, .exitCode]]' <<<"$output")" = '[["side",143],["main",5]]' ]
	nothing_left t3
}

@test "a non-essential exit does not stop the task; stop over the socket does" {
	task t4 "[$(ctr helper "$(sh_argv 'exit 1')" '{"essential":false}'),
		  $(ctr main '["/bin/sleep","300"]' '{"initProcessEnabled":true}')]"
	start t4
	wait_for t4 '.containers[0].lastStatus == "STOPPED"'
	wait_for t4 '.lastStatus == "RUNNING" and .containers[1].lastStatus == "RUNNING"'
	[ "$(jq -r .desiredStatus "$RUN/tasks/t4/status.json")" = RUNNING ]
	run ctl t4 '{"op":"stop","reason":"bats says stop"}'
	[ "$output" = '{"ok":true}' ]
	wait_exited t4
	run status t4
	[ "$(jq -r '.stopCode, .stoppedReason, .containers[0].exitCode, .containers[1].exitCode' <<<"$output")" = \
		$'UserInitiated\nbats says stop\n1\n143' ]
	nothing_left t4
}

@test "stopTimeout: a container trapping SIGTERM is killed (137), one that exits on it is not" {
	task t5 "[$(ctr stubborn "$(sh_argv 'trap "" TERM; while :; do sleep 0.1; done')" \
			'{"initProcessEnabled":true,"stopTimeout":1}'),
		  $(ctr polite '["/bin/sleep","300"]' '{"initProcessEnabled":true,"stopTimeout":30}')]"
	start t5
	wait_for t5 '.lastStatus == "RUNNING"'
	ctl t5 '{"op":"stop"}'
	wait_exited t5
	run status t5
	[ "$(jq -c '[.containers[] | [.name, .exitCode]]' <<<"$output")" = '[["stubborn",137],["polite",143]]' ]
	[ "$(jq -r .stoppedReason <<<"$output")" = "Task stopped by user" ]
	nothing_left t5
}

@test "dependents stop before what they depend on (reverse dependsOn order)" {
	task t6 "[$(ctr db "$(sh_argv 'trap "echo db-stop; exit 0" TERM; while :; do sleep 0.1; done')" \
			'{"initProcessEnabled":true}'),
		  $(ctr web "$(sh_argv 'trap "echo web-stop; sleep 0.5; exit 0" TERM; while :; do sleep 0.1; done')" \
			'{"initProcessEnabled":true,"dependsOn":[{"containerName":"db","condition":"START"}]}')]"
	start t6
	wait_for t6 '.lastStatus == "RUNNING"'
	ctl t6 '{"op":"stop"}'
	wait_exited t6
	w=$(jq -r .time "$STATE/tasks/t6/logs/web.log")
	d=$(jq -r .time "$STATE/tasks/t6/logs/db.log")
	[[ "$w" < "$d" ]]
	nothing_left t6
}

@test "health check: HEALTHY, then UNHEALTHY after retries, task health from essential containers" {
	task t7 "[$(ctr app '["/bin/sleep","300"]' \
		"{\"initProcessEnabled\":true,\"healthCheck\":{\"command\":[\"CMD-SHELL\",\"test -e /tmp/bats-$TAG && hostname | grep -qx app\"],\"interval\":1,\"timeout\":2,\"retries\":2}}"),
		  $(ctr side '["/bin/sleep","300"]' \
		'{"essential":false,"initProcessEnabled":true,"healthCheck":{"command":["CMD","false"],"interval":1,"retries":1}}')]" \
		'{"pidMode":"task"}'
	start t7
	wait_for t7 '.containers[0].healthStatus == "UNHEALTHY" and .healthStatus == "UNHEALTHY"'
	touch "$ROOTFS/tmp/bats-$TAG"
	wait_for t7 '.containers[0].healthStatus == "HEALTHY" and .healthStatus == "HEALTHY"'
	# a non-essential UNHEALTHY container does not make the task unhealthy
	[ "$(jq -r '.containers[1].healthStatus' "$RUN/tasks/t7/status.json")" = UNHEALTHY ]
	rm -f "$ROOTFS/tmp/bats-$TAG"
	wait_for t7 '.containers[0].healthStatus == "UNHEALTHY" and .healthStatus == "UNHEALTHY"'
	ctl t7 '{"op":"stop"}'
	wait_exited t7
	nothing_left t7
}

@test "HEALTHY dependency: the dependent starts once the check passes" {
	task t8 "[$(ctr db '["/bin/sleep","300"]' \
		'{"initProcessEnabled":true,"healthCheck":{"command":["CMD-SHELL","true"],"interval":1}}'),
		  $(ctr app "$(sh_argv 'echo app-started')" \
			'{"dependsOn":[{"containerName":"db","condition":"HEALTHY"}]}')]"
	start t8
	wait_exited t8
	run status t8
	[ "$(jq -c '[.containers[] | .exitCode]' <<<"$output")" = '[143,0]' ]
	[ "$(logtext t8 app)" = app-started ]
	nothing_left t8
}

@test "json-file rotates at max-size and keeps max-file files" {
	task t9 "[$(ctr app "$(sh_argv 'i=0; while [ $i -lt 300 ]; do echo "line $i ----------------------------------------"; i=$((i+1)); done')" \
		'{"logConfiguration":{"logDriver":"json-file","options":{"max-size":"2k","max-file":"3"}}}')]"
	start t9
	wait_exited t9
	d=$STATE/tasks/t9/logs
	[ -e "$d/app.log" ] && [ -e "$d/app.log.1" ] && [ -e "$d/app.log.2" ]
	[ ! -e "$d/app.log.3" ]
	for f in "$d"/app.log*; do
		[ "$(stat -c %s "$f")" -le 2048 ]
		jq -e '.stream == "stdout" and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))' "$f" >/dev/null
	done
	[ "$(jq -j .log "$d/app.log" | tail -1)" = "line 299 ----------------------------------------" ]
	# berth logs reads the rotated files oldest first: contiguous numbers
	run --separate-stderr "$BERTH" logs t9
	[ "$status" -eq 0 ]
	first=$(head -1 <<<"$output" | cut -d' ' -f2)
	[ "$(tail -1 <<<"$output")" = "line 299 ----------------------------------------" ]
	[ "$(wc -l <<<"$output")" -eq $((300 - first)) ]
	nothing_left t9
}

@test "berth logs: --tail, --since, stderr, --container, and --follow until the task ends" {
	task t10 "[$(ctr a "$(sh_argv 'echo one; echo two >&2; echo three; sleep 2; echo four; sleep 1; echo five')"),
		   $(ctr b "$(sh_argv 'echo bee')" '{"essential":false}')]"
	start t10
	wait_for t10 '.containers[1].lastStatus == "STOPPED"'
	run -1 "$BERTH" logs t10
	[[ "$output" == *"several containers"* ]]
	run "$BERTH" logs "arn:aws:ecs:local:0:task/default/t10" --container b
	[ "$output" = bee ]
	wait_for t10 '.lastStatus == "RUNNING"'
	sleep 0.5
	run --separate-stderr "$BERTH" logs t10 --container a --tail 2
	[ "$output" = three ] && [ "$stderr" = two ]
	run --separate-stderr "$BERTH" logs t10 --container a --since "$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)"
	[ -z "$output" ]
	run --separate-stderr "$BERTH" logs t10 --container a --since 1h
	[ "$output" = $'one\nthree' ]
	run --separate-stderr timeout 30 "$BERTH" logs t10 --container a --follow --tail 0
	[ "$status" -eq 0 ]
	[ "$output" = $'four\nfive' ]
	run -2 "$BERTH" logs .. --container a
	run -2 "$BERTH" logs t10 --container ../x
	nothing_left t10
}

@test "a container that cannot start: TaskFailedToStart with a clear reason" {
	task t11 "[$(ctr app '["/no/such/cmd"]')]"
	start t11
	wait_exited t11
	run status t11
	[ "$(jq -r .stopCode <<<"$output")" = TaskFailedToStart ]
	[[ "$(jq -r .stoppedReason <<<"$output")" == "CannotStartContainerError: command '/no/such/cmd' not found"* ]]
	[ "$(jq -r '.containers[0].reason' <<<"$output")" = "$(jq -r .stoppedReason <<<"$output")" ]
	nothing_left t11
}

@test "the shim detaches and survives the death of the process that started it" {
	task t12 "[$(ctr app '["/bin/sleep","300"]' '{"initProcessEnabled":true}')]"
	setsid bash -c "'$BERTH' shim --task-dir '$RUN/tasks/t12'; exec sleep 300" &
	parent=$!
	wait_for t12 '.lastStatus == "RUNNING"'
	kill -KILL "$parent"
	wait "$parent" || true
	pid=$(cat "$RUN/tasks/t12/shim.pid")
	kill -0 "$pid"
	# its own session, not a child of the killed process, in the shim cgroup
	[ "$(ps -o sid= -p "$pid" | tr -d ' ')" != "$(ps -o sid= -p $$ | tr -d ' ')" ]
	grep -q "$CGPARENT/shims" "/proc/$pid/cgroup"
	[ "$(readlink /proc/$pid/fd/0)" = /dev/null ]
	sleep 0.5
	wait_for t12 '.lastStatus == "RUNNING" and .containers[0].lastStatus == "RUNNING"'
	ctl t12 '{"op":"stop"}'
	wait_exited t12
	nothing_left t12
}

@test "the socket: status, watch, unknown ops, and garbage never hurt the shim" {
	task t13 "[$(ctr app '["/bin/sleep","300"]' '{"initProcessEnabled":true}')]"
	start t13
	wait_for t13 '.lastStatus == "RUNNING"'
	run ctl t13 '{"op":"status"}'
	[ "$(jq -r .taskId <<<"$output")" = t13 ]
	[ "$(stat -c %a "$RUN/tasks/t13/shim.sock")" = 600 ]
	run ctl t13 '{"op":"frobnicate"}'
	[ "$output" = "{\"ok\":false,\"error\":\"unknown op 'frobnicate'\"}" ]
	run ctl t13 'not json at all'
	[ -z "$output" ]
	run ctl t13 "$(head -c 10000 /dev/zero | tr '\0' 'x')"
	[ -z "$output" ]
	run ctl t13 '{"op":"stop","reason":42}'
	[ -z "$output" ]
	# watch: the current status, then a line per change until STOPPED
	python3 - "$RUN/tasks/t13/shim.sock" > "$BATS_TEST_TMPDIR/watch" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b'{"op":"watch"}\n')
while True:
    d = s.recv(65536)
    if not d:
        break
    sys.stdout.write(d.decode())
PY
	watcher=$!
	sleep 0.5
	run ctl t13 '{"op":"stop","reason":"done"}'
	[ "$output" = '{"ok":true}' ]
	wait "$watcher"
	[ "$(head -1 "$BATS_TEST_TMPDIR/watch" | jq -r .lastStatus)" = RUNNING ]
	[ "$(tail -1 "$BATS_TEST_TMPDIR/watch" | jq -r .lastStatus)" = STOPPED ]
	wait_exited t13
	nothing_left t13
}

@test "containers of a task share the network namespace (none) and the pid namespace (task)" {
	task t14 "[$(ctr a '["/bin/sleep","300"]'),
		   $(ctr b "$(sh_argv 'ip addr add 10.213.7.9/32 dev lo && echo made')" \
			'{"essential":false,"capAdd":["NET_ADMIN"],"dependsOn":[{"containerName":"a","condition":"START"}]}'),
		   $(ctr c "$(sh_argv 'ip addr show lo | grep -q 10.213.7.9 && echo seen; ps -o comm | grep -c sleep')" \
			'{"essential":false,"dependsOn":[{"containerName":"b","condition":"SUCCESS"}]}')]" \
		'{"pidMode":"task"}'
	start t14
	wait_for t14 '.containers[2].lastStatus == "STOPPED"'
	[ "$(logtext t14 b)" = made ]
	[ "$(logtext t14 c)" = $'seen\n1' ]
	! ip addr show | grep -q 10.213.7.9
	ctl t14 '{"op":"stop"}'
	wait_exited t14
	nothing_left t14
}

@test "initProcessEnabled: the init (pid 1) and the command hold only stdio" {
	task t16 "[$(ctr a "$(sh_argv 'echo $(ls /proc/1/fd); echo $(ls /proc/self/fd)')" \
		'{"initProcessEnabled":true}')]"
	start t16 9</dev/null
	wait_exited t16
	[ "$(logtext t16 a)" = $'0 1 2\n0 1 2 3' ]
	nothing_left t16
}

@test "a bad spec.json fails the command with one line (also in shim-error) and creates nothing else" {
	mkdir -p "$RUN/tasks/bad"
	for spec in 'not json' '{}' '{"taskId":"../x","stateDir":"/tmp","containers":[]}' \
		"{\"taskId\":\"x\",\"stateDir\":\"/tmp/x\",\"containers\":[$(ctr a '["/bin/true"]' '{"dependsOn":[{"containerName":"a","condition":"START"}]}')]}"; do
		printf '%s' "$spec" > "$RUN/tasks/bad/spec.json"
		run --separate-stderr "$BERTH" shim --task-dir "$RUN/tasks/bad"
		[ "$status" -eq 1 ]
		[ "$(wc -l <<<"$stderr")" -eq 1 ]
		[ ! -e "$RUN/tasks/bad/shim.pid" ] && [ ! -e "$RUN/tasks/bad/status.json" ]
		# the same reason for the agent, in shim-error
		[ -s "$RUN/tasks/bad/shim-error" ]
		[[ $stderr == *"$(cat "$RUN/tasks/bad/shim-error")" ]]
		rm "$RUN/tasks/bad/shim-error"
	done
	[ ! -e "$CGMOUNT/$CGPARENT/tasks/x" ]
}

@test "syslog driver: rfc5424 lines with tag and severity to a unixgram socket; none writes nothing" {
	sock=$BATS_TEST_TMPDIR/log.sock
	python3 - "$sock" > "$BATS_TEST_TMPDIR/syslog" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(30)
for _ in range(2):
    print(s.recv(4096).decode(), flush=True)
PY
	listener=$!
	for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
	task t16 "[$(ctr app "$(sh_argv 'echo to-out; echo to-err >&2')" \
		"{\"logConfiguration\":{\"logDriver\":\"syslog\",\"options\":{\"syslog-address\":\"unixgram://$sock\",\"tag\":\"bats-app\",\"syslog-format\":\"rfc5424\",\"syslog-facility\":\"local1\"}}}"),
		  $(ctr quiet "$(sh_argv 'echo nothing')" '{"essential":false,"logConfiguration":{"logDriver":"none"}}')]"
	start t16
	wait_exited t16
	wait "$listener"
	grep -E '^<142>1 [0-9T:.-]+Z [^ ]+ bats-app [0-9]+ bats-app - to-out$' "$BATS_TEST_TMPDIR/syslog"
	grep -E '^<139>1 .* bats-app - to-err$' "$BATS_TEST_TMPDIR/syslog"
	[ ! -e "$STATE/tasks/t16/logs/quiet.log" ] && [ ! -e "$STATE/tasks/t16/logs/app.log" ]
	nothing_left t16
}
