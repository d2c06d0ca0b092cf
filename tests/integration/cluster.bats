#!/usr/bin/env bats
# Many hosts, one control plane (issue 8): four hosts = four network
# namespaces, each running `berth agent` with its own state and run dirs and
# attributes (zones az-a/az-b, instance types large/small), and the control
# plane (`berth daemon`, BERTH_EMBEDDED_AGENT=false) in a fifth; a bridge in
# a sixth namespace joins them (this machine's own namespace is never
# touched).  Each host registers 1024 MiB (BERTH_RESERVED_MEMORY takes the
# rest off).  One topology for the whole file; every test stops the tasks it
# started.
#
#   host  zone  type    address
#   h1    az-a  large   10.251.0.11
#   h2    az-a  small   10.251.0.12
#   h3    az-b  large   10.251.0.13
#   h4    az-b  small   10.251.0.14
#   cp                  10.251.0.1:8765

bats_require_minimum_version 1.5.0
load lib/daemon   # _daemon_env; aws_ecs is this file's own (below)

CP_ADDR=10.251.0.1
CP_PORT=8765
HOST_MIB=1024
ZONE=(x az-a az-a az-b az-b)
TYPE=(x large small large small)

# ---- topology ----

_ns() { echo "berth-cl-$CL_ID-$1"; }

_link() { # NAME ADDR: a veth from the bridge namespace into namespace NAME
	local ns
	ns=$(_ns "$1")
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	ip -n "$(_ns br)" link add "v-$1" type veth peer name eth0 netns "$ns"
	ip -n "$(_ns br)" link set "v-$1" master br0 up
	ip -n "$ns" addr add "$2/24" dev eth0
	ip -n "$ns" link set eth0 up
}

# _bg NAME CMD...: CMD in the background in namespace NAME's network only
# (`ip netns exec` would mount a /sys without the cgroup hierarchies the
# shims join), logging to $CL/NAME/log; its pid in $CL/NAME/pid and $CL/pids.
_bg() {
	local name=$1
	local -a envs
	shift
	mapfile -t envs < <(_daemon_env)
	(nsenter --net="/run/netns/$(_ns "$name")" env -i "${envs[@]}" "$@" >> "$CL/$name/log" 2>&1 &
	 echo $! > "$CL/$name/pid")
	cat "$CL/$name/pid" >> "$CL/pids"
}

cp_start() {
	_bg cp "$BERTH" daemon --config "$CL/cp/berth.conf"
	local i
	for i in $(seq 1 200); do
		aws_ecs list-clusters >/dev/null 2>&1 && return 0
		kill -0 "$(cat "$CL/cp/pid")" 2>/dev/null || break
		sleep 0.1
	done
	echo "# control plane not ready; log:" >&2
	sed 's/^/#   /' "$CL/cp/log" >&2
	return 1
}

agent_start() { # N
	_bg "h$1" "$BERTH" agent --config "$CL/h$1/berth.conf" --controller "http://$CP_ADDR:$CP_PORT"
}

agent_kill() { # N
	local pid
	pid=$(cat "$CL/h$1/pid")
	kill -KILL "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
}

host_conf() { # N
	local d=$CL/h$1 memtotal
	memtotal=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
	mkdir -p "$d/state" "$d/run"
	cat > "$d/berth.conf" <<-EOF
		BERTH_STATE_DIR=$d/state
		BERTH_RUN_DIR=$d/run
		BERTH_AGENT_ACCESS_KEY_ID=$AGENT_AKID
		BERTH_AGENT_SECRET_ACCESS_KEY=$AGENT_SECRET
		BERTH_REGION=local
		BERTH_LOGLEVEL=debug
		BERTH_AVAILABILITY_ZONE=${ZONE[$1]}
		BERTH_INSTANCE_TYPE=${TYPE[$1]}
		BERTH_INSTANCE_ATTRIBUTES={"rack":"r$1"}
		BERTH_RESERVED_MEMORY=$((memtotal - HOST_MIB))
		BERTH_AGENT_HEARTBEAT_TIMEOUT=3
		BERTH_CGROUP_ENFORCE=off
		BERTH_IMAGE_PULL_BEHAVIOR=prefer-cached
		BERTH_CONTAINER_STOP_TIMEOUT=2s
	EOF
	BERTH_STATE_DIR=$d/state "$BERTH" image load --name localhost/app:v1 "$CL/images/oci" >/dev/null
}

key() { od -An -N"$1" -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F; }

setup_file() {
	: "${BERTH:?set BERTH to the berth binary (tests/run does)}"
	export CL_ID="$$-$RANDOM"
	export CL
	CL=$(mktemp -d /tmp/berth-cl-XXXXXX)
	export AKID=AKIDUSER$(key 6) SECRET=$(key 20)
	export AGENT_AKID=AKIDAGENT$(key 6) AGENT_SECRET=$(key 20)
	"$BATS_TEST_DIRNAME/../fixtures/images/mkimages" "$CL/images" >/dev/null
	ip netns add "$(_ns br)"
	ip -n "$(_ns br)" link add br0 type bridge
	ip -n "$(_ns br)" link set br0 up
	_link cp "$CP_ADDR"
	mkdir -p "$CL/cp/state" "$CL/cp/run"
	(umask 077 && jq -n --arg a "$AKID" --arg s "$SECRET" --arg ga "$AGENT_AKID" --arg gs "$AGENT_SECRET" \
		'{accessKeys: [{accessKeyId: $a, secretAccessKey: $s, principal: "admin"},
			       {accessKeyId: $ga, secretAccessKey: $gs, principal: "agents", role: "agent"}]}' \
		> "$CL/cp/keys.json")
	cat > "$CL/cp/berth.conf" <<-EOF
		BERTH_STATE_DIR=$CL/cp/state
		BERTH_RUN_DIR=$CL/cp/run
		BERTH_API_LISTEN=$CP_ADDR:$CP_PORT
		BERTH_ACCESS_KEYS=$CL/cp/keys.json
		BERTH_REGION=local
		BERTH_LOGLEVEL=debug
		BERTH_EMBEDDED_AGENT=false
		BERTH_AGENT_HEARTBEAT_TIMEOUT=3
	EOF
	cp_start
	for n in 1 2 3 4; do
		_link "h$n" "10.251.0.1$n"
		host_conf "$n"
		agent_start "$n"
	done
	wait_instances 4
}

teardown_file() {
	local p n m id cg2
	[ -n "${CL:-}" ] || return 0
	while read -r p; do kill -TERM "$p" 2>/dev/null; done < "$CL/pids"
	sleep 0.5
	for n in br cp h1 h2 h3 h4; do
		ip netns pids "$(_ns "$n")" 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done
	done
	while read -r p; do kill -KILL "$p" 2>/dev/null; done < "$CL/pids"
	sleep 0.2
	grep -o " $CL/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
	# The killed shims cannot remove their tasks' cgroups: this run's only.
	cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	for n in 1 2 3 4; do
		[ -n "$cg2" ] && [ -d "$CL/h$n/run/tasks" ] || continue
		for id in $(ls "$CL/h$n/run/tasks"); do
			[ -d "$cg2/berth/tasks/$id" ] &&
				find "$cg2/berth/tasks/$id" -depth -type d -exec rmdir {} + 2>/dev/null
		done
	done
	for n in cp h1 h2 h3 h4 br; do ip netns del "$(_ns "$n")" 2>/dev/null; done
	rm -rf "$CL"
	true
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ]; then
		for n in cp h1 h2 h3 h4; do
			echo "# $n log (tail):" >&3
			tail -n 15 "$CL/$n/log" | sed 's/^/#   /' >&3
		done
	fi
	stop_all
}

# ---- helpers ----

aws_ecs() {
	ip netns exec "$(_ns cp)" env AWS_ACCESS_KEY_ID="$AKID" AWS_SECRET_ACCESS_KEY="$SECRET" \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER="" \
		AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard \
		"$AWS" ecs "$@" --endpoint-url "http://$CP_ADDR:$CP_PORT" --region local
}

id_of() { cat "$CL/h$1/state/agent/instance-id"; }

# host_of INSTANCE-ARN-OR-ID: which host (1-4) it is.
host_of() {
	local n
	for n in 1 2 3 4; do
		[ "${1##*/}" = "$(id_of "$n")" ] && { echo "$n"; return 0; }
	done
	echo "?"
}

instances() {
	aws_ecs describe-container-instances --container-instances $(aws_ecs list-container-instances |
		jq -r '.containerInstanceArns[]')
}

# wait_instances N: until N instances are registered and connected (bounded).
wait_instances() {
	local i out
	for i in $(seq 1 300); do
		out=$(aws_ecs list-container-instances 2>/dev/null | jq '.containerInstanceArns | length') || out=0
		if [ "${out:-0}" -ge "$1" ] &&
			[ "$(instances | jq '[.containerInstances[] | select(.agentConnected)] | length')" -ge "$1" ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "# only $out instances registered" >&2
	return 1
}

# connected N: whether host N's instance is agentConnected.
connected() {
	aws_ecs describe-container-instances --container-instances "$(id_of "$1")" |
		jq -r '.containerInstances[0].agentConnected'
}

wait_connected() { # N true|false
	local i
	for i in $(seq 1 300); do
		[ "$(connected "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	echo "# host $1 never became agentConnected=$2" >&2
	return 1
}

# register FAMILY [EXTRA-TOP-LEVEL-JSON] [EXTRA-CONTAINER-JSON]: a 256 MiB task
# that stops at once on SIGTERM.
register() {
	local c
	c=$(jq -nc --argjson x "${3:-"{}"}" '[{name: "app", image: "localhost/app:v1", memory: 256,
		command: ["trap \"exit 0\" TERM; while :; do sleep 1; done"]} + $x]')
	aws_ecs register-task-definition --cli-input-json "$(jq -nc --arg f "$1" --argjson c "$c" \
		--argjson x "${2:-"{}"}" '{family: $f, networkMode: "none", containerDefinitions: $c} + $x')" >/dev/null
}

# placements RUN-TASK-OUTPUT: the host of each task, in order.
placements() {
	local ci
	for ci in $(jq -r '.tasks[].containerInstanceArn' <<<"$1"); do host_of "$ci"; done | tr '\n' ' '
}

# counts RUN-TASK-OUTPUT: tasks per host, highest first ("4 4 2").
counts() {
	placements "$1" | tr ' ' '\n' | grep . | sort | uniq -c | awk '{ print $1 }' | sort -rn | tr '\n' ' ' |
		sed 's/ $//'
}

wait_running() { # RUN-TASK-OUTPUT
	local i arns
	arns=$(jq -r '.tasks[].taskArn' <<<"$1")
	[ -n "$arns" ] || return 0
	for i in $(seq 1 600); do
		if aws_ecs describe-tasks --tasks $arns | jq -e '[.tasks[] | .lastStatus == "RUNNING"] | all' >/dev/null; then
			return 0
		fi
		sleep 0.1
	done
	aws_ecs describe-tasks --tasks $arns | jq -c '.tasks[] | [.taskArn, .lastStatus]' >&2
	return 1
}

# stop_all: every task of the cluster stopped (desired; what placement counts).
stop_all() {
	local t
	for t in $(aws_ecs list-tasks --desired-status RUNNING 2>/dev/null | jq -r '.taskArns[]'); do
		aws_ecs stop-task --task "$t" >/dev/null 2>&1 &
	done
	wait
}

# ---- tests ----

@test "cluster: four agents registered with their resources and attributes, each id kept in its state dir" {
	out=$(instances)
	[ "$(jq '.containerInstances | length' <<<"$out")" -eq 4 ]
	for n in 1 2 3 4; do
		ci=$(jq -c --arg id "$(id_of "$n")" '.containerInstances[] | select(.containerInstanceArn | endswith("/" + $id))' <<<"$out")
		[ -n "$ci" ]
		[ "$(jq '.registeredResources[] | select(.name == "MEMORY") | .integerValue' <<<"$ci")" -eq "$HOST_MIB" ]
		[ "$(jq '.registeredResources[] | select(.name == "CPU") | .integerValue' <<<"$ci")" -eq $(($(nproc) * 1024)) ]
		[ "$(jq -c '.registeredResources[] | select(.name == "PORTS") | .stringSetValue' <<<"$ci")" = '["22","2375","2376","51678","51679"]' ]
		[ "$(jq -r '.attributes[] | select(.name == "ecs.availability-zone") | .value' <<<"$ci")" = "${ZONE[$n]}" ]
		[ "$(jq -r '.attributes[] | select(.name == "ecs.instance-type") | .value' <<<"$ci")" = "${TYPE[$n]}" ]
		[ "$(jq -r '.attributes[] | select(.name == "rack") | .value' <<<"$ci")" = "r$n" ]
		[ "$(jq -r '.attributes[] | select(.name == "ecs.os-type") | .value' <<<"$ci")" = linux ]
		[ "$(jq -r '.agentConnected' <<<"$ci")" = true ]
		[ "$(jq -r '.status' <<<"$ci")" = ACTIVE ]
	done
}

@test "cluster: the agents' key may call only the agent actions" {
	run ip netns exec "$(_ns cp)" env AWS_ACCESS_KEY_ID="$AGENT_AKID" AWS_SECRET_ACCESS_KEY="$AGENT_SECRET" \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER="" AWS_MAX_ATTEMPTS=1 \
		"$AWS" ecs list-clusters --endpoint-url "http://$CP_ADDR:$CP_PORT" --region local
	[ "$status" -ne 0 ]
	[[ $output == *AccessDenied* ]]
}

@test "cluster: run-task --count 10 with binpack on memory fills one host before the next" {
	register bp
	out=$(aws_ecs run-task --task-definition bp --count 10 --placement-strategy type=binpack,field=memory)
	[ "$(jq '.tasks | length' <<<"$out")" -eq 10 ]
	[ "$(counts "$out")" = "4 4 2" ]
	wait_running "$out"
	# the tasks really run on the hosts the control plane chose
	for t in $(jq -r '.tasks[] | .taskArn + "," + .containerInstanceArn' <<<"$out"); do
		arn=${t%%,*}
		[ -d "$CL/h$(host_of "${t#*,}")/run/tasks/${arn##*/}" ]
	done
}

@test "cluster: spread on attribute:ecs.availability-zone alternates zones" {
	register sp
	out=$(aws_ecs run-task --task-definition sp --count 6 --group spread-az \
		--placement-strategy type=spread,field=attribute:ecs.availability-zone)
	[ "$(jq '.tasks | length' <<<"$out")" -eq 6 ]
	a=0 b=0
	for h in $(placements "$out"); do
		case ${ZONE[$h]} in az-a) a=$((a + 1)) ;; az-b) b=$((b + 1)) ;; esac
	done
	[ "$a" -eq 3 ] && [ "$b" -eq 3 ]
	wait_running "$out"
}

@test "cluster: memberOf(attribute:ecs.instance-type == large) uses only those" {
	register mo
	out=$(aws_ecs run-task --task-definition mo --count 6 \
		--placement-constraints 'type=memberOf,expression=attribute:ecs.instance-type == large')
	[ "$(jq '.tasks | length' <<<"$out")" -eq 6 ]
	for h in $(placements "$out"); do [ "${TYPE[$h]}" = large ]; done
	wait_running "$out"
}

@test "cluster: distinctInstance with count 5 on 4 hosts places 4 and reports 1 failure" {
	register di
	out=$(aws_ecs run-task --task-definition di --count 5 --group distinct \
		--placement-constraints type=distinctInstance)
	[ "$(jq '.tasks | length' <<<"$out")" -eq 4 ]
	[ "$(jq '.failures | length' <<<"$out")" -eq 1 ]
	[ "$(counts "$out")" = "1 1 1 1" ]
	wait_running "$out"
}

@test "cluster: a static hostPort never lands twice on a host" {
	register hp '{"networkMode": "host"}' '{"portMappings": [{"containerPort": 18080, "hostPort": 18080}]}'
	out=$(aws_ecs run-task --task-definition hp --count 6)
	[ "$(jq '.tasks | length' <<<"$out")" -eq 4 ]
	[ "$(counts "$out")" = "1 1 1 1" ]
	[ "$(jq '.failures | length' <<<"$out")" -eq 2 ]
	jq -e '[.failures[].reason] | all(. == "RESOURCE:PORTS")' <<<"$out" >/dev/null
	wait_running "$out"
	# one more finds every host's port taken
	out=$(aws_ecs run-task --task-definition hp)
	[ "$(jq '.tasks | length' <<<"$out")" -eq 0 ]
	[ "$(jq -r '.failures[0].reason' <<<"$out")" = RESOURCE:PORTS ]
}

@test "cluster: a killed agent goes agentConnected false and gets nothing; restarted, it is the same instance with its tasks still RUNNING" {
	register k
	before=$(id_of 4)
	out=$(aws_ecs run-task --task-definition k --count 2 \
		--placement-constraints 'type=memberOf,expression=attribute:ecs.availability-zone == az-b and attribute:ecs.instance-type == small')
	[ "$(placements "$out")" = "4 4 " ]
	wait_running "$out"
	mine=$(jq -r '.tasks[].taskArn' <<<"$out")

	agent_kill 4
	wait_connected 4 false
	out=$(aws_ecs run-task --task-definition k --count 6 --placement-strategy type=spread,field=instanceId)
	[ "$(jq '.tasks | length' <<<"$out")" -eq 6 ]
	for h in $(placements "$out"); do [ "$h" != 4 ]; done
	# on host 4 alone: AGENT
	out=$(aws_ecs run-task --task-definition k \
		--placement-constraints 'type=memberOf,expression=attribute:ecs.availability-zone == az-b and attribute:ecs.instance-type == small')
	[ "$(jq '.tasks | length' <<<"$out")" -eq 0 ]
	# (the scheduler names the closest instance; h4 is not even a candidate)
	[ "$(jq '.failures | length' <<<"$out")" -eq 1 ]
	# the tasks kept running without their agent
	aws_ecs describe-tasks --tasks $mine | jq -e '[.tasks[] | .lastStatus == "RUNNING"] | all' >/dev/null

	agent_start 4
	wait_connected 4 true
	[ "$(id_of 4)" = "$before" ]
	[ "$(aws_ecs list-container-instances | jq '.containerInstanceArns | length')" -eq 4 ]
	aws_ecs describe-tasks --tasks $mine | jq -e '[.tasks[] | .lastStatus == "RUNNING"] | all' >/dev/null
	# and the restarted agent still answers for them: a stop reaches the shim
	t=$(head -1 <<<"$mine")
	aws_ecs stop-task --task "$t" >/dev/null
	for i in $(seq 1 300); do
		[ "$(aws_ecs describe-tasks --tasks "$t" | jq -r '.tasks[0].lastStatus')" = STOPPED ] && break
		sleep 0.1
	done
	[ "$(aws_ecs describe-tasks --tasks "$t" | jq -r '.tasks[0].lastStatus')" = STOPPED ]
}

@test "cluster: a DRAINING instance gets nothing new; ACTIVE again, it does" {
	register dr
	aws_ecs update-container-instances-state --container-instances "$(id_of 1)" --status DRAINING >/dev/null
	out=$(aws_ecs run-task --task-definition dr --count 6 --placement-strategy type=spread,field=instanceId)
	[ "$(jq '.tasks | length' <<<"$out")" -eq 6 ]
	for h in $(placements "$out"); do [ "$h" != 1 ]; done
	stop_all
	aws_ecs update-container-instances-state --container-instances "$(id_of 1)" --status ACTIVE >/dev/null
	out=$(aws_ecs run-task --task-definition dr --count 4 --placement-strategy type=spread,field=instanceId)
	[ "$(counts "$out")" = "1 1 1 1" ]
}

@test "cluster: the control plane restarts; the agents poll again and their tasks stay RUNNING" {
	register cr
	out=$(aws_ecs run-task --task-definition cr --count 4 --placement-strategy type=spread,field=instanceId)
	[ "$(counts "$out")" = "1 1 1 1" ]
	wait_running "$out"
	arns=$(jq -r '.tasks[].taskArn' <<<"$out")
	pid=$(cat "$CL/cp/pid")
	kill -KILL "$pid"
	while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
	cp_start
	wait_instances 4
	aws_ecs describe-tasks --tasks $arns | jq -e '[.tasks[] | .lastStatus == "RUNNING"] | all' >/dev/null
	# work reaches the agents again: a stop on every host
	for t in $arns; do aws_ecs stop-task --task "$t" >/dev/null; done
	for i in $(seq 1 300); do
		aws_ecs describe-tasks --tasks $arns | jq -e '[.tasks[] | .lastStatus == "STOPPED"] | all' >/dev/null && break
		sleep 0.1
	done
	aws_ecs describe-tasks --tasks $arns | jq -e '[.tasks[] | .lastStatus == "STOPPED"] | all' >/dev/null
}

@test "cluster: an agent refuses to start without a controller, with a malformed BERTH_INSTANCE_ATTRIBUTES, or with a key the control plane refuses" {
	d=$CL/bad
	mkdir -p "$d/log"
	run -2 env -i PATH="$PATH" BERTH_STATE_DIR="$d/state" BERTH_RUN_DIR="$d/run" "$BERTH" agent --config /dev/null
	[[ $output == *"--controller URL or BERTH_CONTROLLER"* ]]
	run -1 env -i PATH="$PATH" BERTH_STATE_DIR="$d/state" BERTH_RUN_DIR="$d/run" \
		BERTH_INSTANCE_ATTRIBUTES='["not", "an object"]' "$BERTH" agent --config /dev/null --controller http://127.0.0.1:1
	[[ $output == *BERTH_INSTANCE_ATTRIBUTES* ]]
	run -1 nsenter --net="/run/netns/$(_ns h1)" env -i PATH="$PATH" BERTH_STATE_DIR="$d/state" BERTH_RUN_DIR="$d/run" \
		BERTH_AGENT_ACCESS_KEY_ID="$AGENT_AKID" BERTH_AGENT_SECRET_ACCESS_KEY=wrong BERTH_CGROUP_ENFORCE=off \
		"$BERTH" agent --config /dev/null --controller "http://$CP_ADDR:$CP_PORT"
	[[ $output == *RegisterContainerInstance*Signature* ]]
	# the user's key is not an agent's
	run -1 nsenter --net="/run/netns/$(_ns h1)" env -i PATH="$PATH" BERTH_STATE_DIR="$d/state" BERTH_RUN_DIR="$d/run" \
		BERTH_AGENT_ACCESS_KEY_ID="$AKID" BERTH_AGENT_SECRET_ACCESS_KEY="$SECRET" BERTH_CGROUP_ENFORCE=off \
		"$BERTH" agent --config /dev/null --controller "http://$CP_ADDR:$CP_PORT"
	[[ $output == *AccessDenied* ]]
	[ "$(aws_ecs list-container-instances | jq '.containerInstanceArns | length')" -eq 4 ]
}

@test "cluster: a force-deregistered instance's agent stops and says why; started again, it registers again" {
	id=$(id_of 4)
	pid=$(cat "$CL/h4/pid")
	aws_ecs deregister-container-instance --container-instance "$id" --force >/dev/null
	for i in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	run kill -0 "$pid"
	[ "$status" -ne 0 ]
	grep -q "BerthPollWork: .*$id is not registered.*: the agent stops" "$CL/h4/log"
	grep -q "berth agent stopped" "$CL/h4/log"
	[ "$(aws_ecs list-container-instances | jq '.containerInstanceArns | length')" -eq 3 ]
	agent_start 4
	wait_instances 4
	[ "$(id_of 4)" = "$id" ]
}

@test "cluster: every task stopped, no shim of this cluster is left" {
	stop_all
	for i in $(seq 1 300); do
		arns=$(aws_ecs list-tasks --desired-status STOPPED | jq -r '.taskArns[]')
		left=$(aws_ecs describe-tasks --tasks $arns | jq '[.tasks[] | select(.lastStatus != "STOPPED")] | length')
		[ "$left" -eq 0 ] && break
		sleep 0.1
	done
	[ -n "$arns" ] && [ "$left" -eq 0 ]
	[ -z "$(aws_ecs list-tasks | jq -r '.taskArns[]')" ]
	for i in $(seq 1 100); do
		pgrep -f -- "--task-dir $CL/" >/dev/null || break
		sleep 0.1
	done
	run pgrep -f -- "--task-dir $CL/"
	[ "$status" -ne 0 ]
	# the agents stop cleanly (and the sanitizers found nothing)
	for n in 1 2 3 4; do kill -TERM "$(cat "$CL/h$n/pid")"; done
	for n in 1 2 3 4; do
		for i in $(seq 1 100); do kill -0 "$(cat "$CL/h$n/pid")" 2>/dev/null || break; sleep 0.1; done
		grep -q "berth agent stopped" "$CL/h$n/log"
		run ! grep -E "Sanitizer|runtime error" "$CL/h$n/log"
	done
}
