#!/usr/bin/env bats
# Task networks: bridge and awsvpc tasks run by the daemon (agent/net.c),
# their host ports in table inet berth, DescribeTasks' networkBindings and
# attachments, reconciling after kill -9, repair after `nft flush ruleset`.
#
# Never touches this machine's own namespace or firewall: the daemon runs in
# a "host" namespace ($NS, lib/daemon) where the bridge and the table live; a
# "client" namespace ($C) is joined to it by a veth pair (192.0.2.1 <->
# 192.0.2.2, TEST-NET-1, only inside these namespaces).  Traffic goes only to
# those addresses, the tasks' addresses and loopback inside them.
#
# CHURN (default 40) sets the start/stop cycles of the churn test; the
# issue's 500 is a bench-style run: CHURN=500 tests/run integration.

bats_require_minimum_version 1.5.0

load lib/daemon
load lib/tasks

RANGE_FIRST=40000
RANGE_LAST=40999

setup_file() { tasks_setup_file; }

setup() {
	daemon_setup
	C="$NS-c"
	cat >> "$CONF" <<-EOF
		BERTH_CGROUP_ENFORCE=off
		BERTH_IMAGE_PULL_BEHAVIOR=prefer-cached
		BERTH_CONTAINER_STOP_TIMEOUT=2s
		BERTH_TASK_CLEANUP_WAIT=1h
		BERTH_DYNAMIC_HOST_PORT_RANGE=$RANGE_FIRST-$RANGE_LAST
	EOF
	ip netns add "$C"
	ip link add vh netns "$NS" type veth peer name vc netns "$C"
	ip -n "$NS" addr add 192.0.2.1/24 dev vh
	ip -n "$C" addr add 192.0.2.2/24 dev vc
	ip -n "$C" link set lo up
	ip -n "$NS" link set vh up
	ip -n "$C" link set vc up
	BERTH_STATE_DIR=$STATE_DIR "$BERTH" image load --name localhost/app:v1 "$IMGFIX/oci" >/dev/null
	tasks_daemon_start
	PIDS=()
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	tasks_teardown
	ip netns del "$C" 2>/dev/null || true
}

in_host() { ip netns exec "$NS" "$@"; }
in_client() { ip netns exec "$C" "$@"; }
# berth net in the host namespace, on the daemon's state (nsenter keeps our
# mount namespace: the namespace files stay visible).
hnet() {
	nsenter --net="/run/netns/$NS" env BERTH_STATE_DIR="$STATE_DIR" BERTH_RUN_DIR="$RUN_DIR" \
		BERTH_DYNAMIC_HOST_PORT_RANGE=$RANGE_FIRST-$RANGE_LAST "$BERTH" "$@"
}
# cget URL: from the client, waiting (bounded) until the server answers.
cget() { in_client curl -sS -m 3 --retry 30 --retry-delay 1 --retry-all-errors "$@"; }

# The table's elements ("tcp 40000 10.213.0.2 80"), sorted.
elements() { hnet net ls | awk '$1 == "element" { print $2, $3, $4, $5 }' | sort; }
leases() { hnet net ls | awk '$1 == "lease" { print $2 }' | sort; }

# A container serving /index.html and /cgi-bin/peer (the client's address as
# the container sees it) on PORT.
httpd_cmd() {
	printf '%s' "mkdir -p /tmp/w/cgi-bin && echo hello-berth > /tmp/w/index.html && \
printf '#!/bin/sh\necho Content-Type: text/plain\necho\necho peer=\$REMOTE_ADDR\n' > /tmp/w/cgi-bin/peer && \
chmod +x /tmp/w/cgi-bin/peer && exec /bin/busybox httpd -f -p ${1:-80} -h /tmp/w"
}

# reg_web FAMILY MODE PORTMAPPINGS-JSON
reg_web() {
	reg "$1" "[$(cdef web "$(httpd_cmd)" "{\"portMappings\": $3}")]" "{\"networkMode\": \"$2\"}"
}

# run_running FAMILY: RunTask, wait RUNNING, print the ARN.
run_running() {
	local arn
	arn=$(run_one "$1") || return 1
	wait_status "$arn" RUNNING >&2 || return 1
	echo "$arn"
}

stop_wait() {
	api StopTask "{\"task\": \"$1\"}" >/dev/null
	wait_status "$1" STOPPED
}

# host_port ARN [CONTAINER-PORT]: the bound host port of the task's first container.
host_port() {
	describe "$1" | jq -er --argjson p "${2:-80}" \
		'.containers[0].networkBindings[] | select(.containerPort == $p) | .hostPort'
}

# The task's address (from its network namespace).
task_addr() {
	nsenter --net="$RUN_DIR/netns/$(task_id "$1")" ip -4 -o addr show dev eth0 |
		awk '{ split($4, a, "/"); print a[1] }'
}

# Nothing of task ID's network is left: no namespace file, lease, veth or element.
no_network_left() {
	local id=$1 veth
	[ ! -e "$RUN_DIR/netns/$id" ] || { echo "netns file of $id left" >&2; return 1; }
	! leases | grep -qx "$id" || { echo "lease of $id left" >&2; return 1; }
	veth=bv$(printf '%s' "$id" | python3 -c '
import sys
h = 0xcbf29ce484222325
for b in sys.stdin.buffer.read():
    h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
print("%012x" % (h & 0xffffffffffff))')
	! ip -n "$NS" link show "$veth" >/dev/null 2>&1 || { echo "veth $veth of $id left" >&2; return 1; }
}

@test "bridge: a dynamic host port reaches busybox httpd from the client, the host and another task; the container sees the client's address" {
	reg_web web bridge '[{"containerPort": 80}]'
	arn=$(run_running web)
	d=$(describe "$arn")
	jq -e '.containers[0].networkBindings | length == 1' <<<"$d"
	jq -e '.containers[0].networkBindings[0] | .bindIP == "0.0.0.0" and .protocol == "tcp" and .containerPort == 80' <<<"$d"
	hp=$(host_port "$arn")
	((hp >= RANGE_FIRST && hp <= RANGE_LAST))
	# the spec the shim got joins the agent's namespace
	spec_of "$arn" | jq -e --arg p "$RUN_DIR/netns/$(task_id "$arn")" '.networkMode == "bridge" and .netnsPath == $p'
	addr=$(task_addr "$arn")
	[[ $addr == 10.213.* ]]
	[ "$(elements)" = "tcp $hp $addr 80" ]

	run -0 cget "http://192.0.2.1:$hp/"
	[ "$output" = hello-berth ]
	# source address preserved: DNAT only
	run -0 in_client curl -sS -m 3 "http://192.0.2.1:$hp/cgi-bin/peer"
	[[ $output =~ ^peer=(\[::ffff:)?192\.0\.2\.2\]?$ ]]   # httpd listens dual-stack
	# from the host: loopback and its own address
	run -0 in_host curl -sS -m 3 "http://127.0.0.1:$hp/"
	[ "$output" = hello-berth ]
	run -0 in_host curl -sS -m 3 "http://192.0.2.1:$hp/"
	[ "$output" = hello-berth ]
	# hairpin: another task's container asks the host port (busybox nc; the
	# reply must come back through the same DNAT, so the bridge address
	# stands in for the asking task)
	reg client "[$(cdef c 'sleep 300')]" '{"networkMode": "bridge"}'
	cmd="printf 'GET /cgi-bin/peer HTTP/1.0\r\n\r\n' | nc 192.0.2.1 $hp > /tmp/out; sleep 300"
	other=$(api RunTask "$(jq -nc --arg c "$cmd" '{taskDefinition: "client", overrides: {containerOverrides: [{name: "c", command: [$c]}]}}')" |
		jq -er '.tasks[0].taskArn')
	wait_status "$other" RUNNING
	out=$(rootfs_of "$other" c)/tmp/out
	for _ in $(seq 100); do grep -q '^peer=' "$out" 2>/dev/null && break; sleep 0.1; done
	run -0 grep '^peer=' "$out"
	[[ $output =~ ^peer=(\[::ffff:)?10\.213\.0\.1\]?$ ]]
	# and task to task at the task's own address
	run -0 nsenter --net="$RUN_DIR/netns/$(task_id "$other")" curl -sS -m 3 "http://$addr/"
	[ "$output" = hello-berth ]

	stop_wait "$arn"
	stop_wait "$other"
	no_network_left "$(task_id "$arn")"
	no_network_left "$(task_id "$other")"
	[ -z "$(elements)" ]
	run ! in_client curl -sS -m 2 "http://192.0.2.1:$hp/"
}

@test "bridge is the default network mode" {
	api RegisterTaskDefinition "$(jq -nc --argjson c "[$(cdef web "$(httpd_cmd)" '{"portMappings": [{"containerPort": 80}]}')]" \
		'{family: "dflt", containerDefinitions: $c}')" >/dev/null
	api DescribeTaskDefinition '{"taskDefinition": "dflt"}' | jq -e '.taskDefinition.networkMode // "bridge" | . == "bridge"'
	arn=$(run_running dflt)
	hp=$(host_port "$arn")
	run -0 cget "http://192.0.2.1:$hp/"
	[ "$output" = hello-berth ]
	stop_wait "$arn"
	no_network_left "$(task_id "$arn")"
}

@test "two tasks with the same containerPort get different host ports" {
	reg_web web bridge '[{"containerPort": 80}]'
	a=$(run_running web)
	b=$(run_running web)
	ha=$(host_port "$a")
	hb=$(host_port "$b")
	[ "$ha" != "$hb" ]
	run -0 cget "http://192.0.2.1:$ha/"
	[ "$output" = hello-berth ]
	run -0 cget "http://192.0.2.1:$hb/"
	[ "$output" = hello-berth ]
	[ "$(elements | wc -l)" = 2 ]
	stop_wait "$a"
	stop_wait "$b"
	[ -z "$(elements)" ]
}

@test "a static hostPort: mapped as asked; taken by another task or a host process, the second task fails with a clear reason" {
	reg_web stat bridge '[{"containerPort": 80, "hostPort": 8080}]'
	a=$(run_running stat)
	[ "$(host_port "$a")" = 8080 ]
	run -0 cget "http://192.0.2.1:8080/"
	[ "$output" = hello-berth ]
	# another task: placement refuses it (ECS: RESOURCE:PORTS)
	out=$(api RunTask '{"taskDefinition": "stat"}')
	jq -e '.tasks == [] and .failures[0].reason == "RESOURCE:PORTS"' <<<"$out"
	stop_wait "$a"
	# a host process listening on the port: the task stops with the reason
	in_host python3 -c 'import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 8080)); s.listen(1); time.sleep(60)' 3>&- &
	PIDS+=($!)
	for _ in $(seq 50); do in_host ss -Hltn 'sport = :8080' | grep -q . && break; sleep 0.1; done
	b=$(run_one stat)
	wait_status "$b" STOPPED
	d=$(describe "$b")
	jq -e '.stopCode == "TaskFailedToStart"' <<<"$d"
	jq -e '.stoppedReason | test("host port 8080/tcp is already in use")' <<<"$d"
	no_network_left "$(task_id "$b")"
	[ -z "$(elements)" ]
}

@test "a reserved host port is refused at placement" {
	reg_web res bridge '[{"containerPort": 80, "hostPort": 22}]'
	out=$(api RunTask '{"taskDefinition": "res"}')
	jq -e '.tasks == [] and .failures[0].reason == "RESOURCE:PORTS"' <<<"$out"
	[ -z "$(elements)" ]
	[ -z "$(leases)" ]
}

@test "udp: a dynamic host port carries datagrams to the task" {
	reg udp "[$(cdef s 'sleep 300' '{"portMappings": [{"containerPort": 5353, "protocol": "udp"}]}')]" \
		'{"networkMode": "bridge"}'
	arn=$(run_running udp)
	d=$(describe "$arn")
	jq -e '.containers[0].networkBindings[0] | .protocol == "udp" and .containerPort == 5353' <<<"$d"
	hp=$(jq -r '.containers[0].networkBindings[0].hostPort' <<<"$d")
	addr=$(task_addr "$arn")
	[ "$(elements)" = "udp $hp $addr 5353" ]
	# a udp echo server in the task's namespace
	nsenter --net="$RUN_DIR/netns/$(task_id "$arn")" python3 -c 'import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("0.0.0.0", 5353))
while True:
    d, a = s.recvfrom(100); s.sendto(d + b" from " + a[0].encode(), a)' 3>&- &
	PIDS+=($!)
	run -0 in_client python3 -c 'import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(0.5)
for _ in range(40):
    s.sendto(b"ping", ("192.0.2.1", int(sys.argv[1])))
    try:
        print(s.recvfrom(100)[0].decode()); break
    except socket.timeout:
        pass' "$hp"
	[ "$output" = "ping from 192.0.2.2" ]
	stop_wait "$arn"
	[ -z "$(elements)" ]
}

@test "awsvpc: reachable at its own address, shown in DescribeTasks' attachments and networkInterfaces" {
	reg_web vpc awsvpc '[{"containerPort": 80}]'
	arn=$(api RunTask '{"taskDefinition": "vpc", "networkConfiguration": {"awsvpcConfiguration": {"subnets": ["subnet-1"]}}}' |
		jq -er '.tasks[0].taskArn')
	wait_status "$arn" RUNNING
	d=$(describe "$arn")
	addr=$(jq -er '.attachments[] | select(.type == "ElasticNetworkInterface") | .details[] | select(.name == "privateIPv4Address") | .value' <<<"$d")
	jq -e '.attachments[0].status == "ATTACHED"' <<<"$d"
	jq -e --arg a "$addr" '.containers[0].networkInterfaces[0].privateIpv4Address == $a' <<<"$d"
	jq -e '.containers[0].networkBindings == []' <<<"$d"
	[ "$addr" = "$(task_addr "$arn")" ]
	# no host port: nothing in the map, the port is the task's own
	[ -z "$(elements)" ]
	run -0 in_host curl -sS -m 3 --retry 30 --retry-delay 1 --retry-all-errors "http://$addr:80/"
	[ "$output" = hello-berth ]
	stop_wait "$arn"
	describe "$arn" | jq -e '.attachments[0].status == "DELETED"'
	no_network_left "$(task_id "$arn")"
}

@test "containerPortRange: a contiguous block of dynamic host ports, one element per port" {
	reg_web rng bridge '[{"containerPortRange": "7000-7004"}]'
	arn=$(run_running rng)
	d=$(describe "$arn")
	jq -e '.containers[0].networkBindings[0] | .containerPortRange == "7000-7004" and .protocol == "tcp"' <<<"$d"
	hr=$(jq -er '.containers[0].networkBindings[0].hostPortRange' <<<"$d")
	first=${hr%-*}
	[ "${hr#*-}" = $((first + 4)) ]
	addr=$(task_addr "$arn")
	[ "$(elements)" = "$(for i in 0 1 2 3 4; do echo "tcp $((first + i)) $addr $((7000 + i))"; done | sort)" ]
	stop_wait "$arn"
	[ -z "$(elements)" ]
}

@test "none has no route out; host shares the host's ports" {
	reg nonet "[$(cdef s 'sleep 300')]" '{"networkMode": "none"}'
	arn=$(run_running nonet)
	pid=$(status_of "$arn" | jq -er '.containers[0].pid')
	run -0 nsenter --net="/proc/$pid/ns/net" ip -4 route show
	[ -z "$output" ]
	run -0 nsenter --net="/proc/$pid/ns/net" ip -o link show
	[ "$(wc -l <<<"$output")" = 1 ]
	[[ $output == *" lo:"* ]]
	[ ! -e "$RUN_DIR/netns/$(task_id "$arn")" ]
	stop_wait "$arn"

	reg hostnet "[$(cdef web "$(httpd_cmd 18080)" '{"portMappings": [{"containerPort": 18080}]}')]" '{"networkMode": "host"}'
	arn=$(run_running hostnet)
	run -0 in_host curl -sS -m 3 --retry 30 --retry-delay 1 --retry-all-errors "http://127.0.0.1:18080/"
	[ "$output" = hello-berth ]
	describe "$arn" | jq -e '.containers[0].networkBindings == [{"bindIP": "0.0.0.0", "protocol": "tcp", "containerPort": 18080, "hostPort": 18080}]'
	run -0 in_client curl -sS -m 3 "http://192.0.2.1:18080/cgi-bin/peer"
	[[ $output =~ ^peer=(\[::ffff:)?192\.0\.2\.2\]?$ ]]   # httpd listens dual-stack
	[ -z "$(elements)" ]
	[ ! -e "$RUN_DIR/netns/$(task_id "$arn")" ]
	stop_wait "$arn"
}

@test "bad port mappings are refused at registration" {
	bad() {
		local out
		out=$(_raw_unix RegisterTaskDefinition "$(jq -nc --argjson c "$1" --arg m "$2" \
			'{family: "bad", networkMode: $m, containerDefinitions: $c}')")
		[ "$(head -1 <<<"$out")" = 400 ] || { echo "accepted: $1 ($2)" >&2; return 1; }
		tail -n +2 <<<"$out" | jq -er .message
	}
	c() { cdef web true "{\"portMappings\": $1}"; }
	run -0 bad "[$(c '[{"containerPort": 80}]')]" none
	[[ $output == *"not supported in network mode none"* ]]
	run -0 bad "[$(c '[{"containerPort": 80, "hostPort": 8080}]')]" awsvpc
	[[ $output == *"must either be undefined or equal to the container port"* ]]
	run -0 bad "[$(c '[{"containerPort": 80, "hostPort": 8080}]')]" host
	[[ $output == *"must either be undefined or equal to the container port"* ]]
	run -0 bad "[$(c '[{"containerPort": 80}, {"containerPort": 80}]')]" bridge
	[[ $output == *"mapped more than once"* ]]
	run -0 bad "[$(c '[{"containerPort": 0}]')]" bridge
	[[ $output == *"between 1 and 65535"* ]]
	run -0 bad "[$(c '[{"containerPort": 65536}]')]" bridge
	[[ $output == *"between 1 and 65535"* ]]
	run -0 bad "[$(c '[{"containerPort": 80, "hostPort": 70000}]')]" bridge
	[[ $output == *"hostPort"* ]]
	run -0 bad "[$(c '[{"containerPortRange": "8000-8010"}, {"containerPortRange": "8005-8020"}]')]" bridge
	[[ $output == *"mapped more than once"* ]]
	run -0 bad "[$(c '[{"containerPortRange": "9000-8000"}]')]" bridge
	[[ $output == *"first < last"* ]]
	# containers of one task share its namespace: one container port, one owner
	run -0 bad "[$(cdef a true '{"portMappings": [{"containerPort": 80}]}'), $(cdef b true '{"portMappings": [{"containerPort": 80}]}')]" bridge
	[[ $output == *"Container port 80/tcp is also exposed by another container"* ]]
}

@test "restart: with 50 tasks running, kill -9, elements removed and a bogus one added: the table matches the tasks exactly" {
	reg many "[$(cdef s 'sleep 600' '{"portMappings": [{"containerPort": 80}, {"containerPort": 53, "protocol": "udp"}]}')]" \
		'{"networkMode": "bridge"}'
	arns=()
	for i in $(seq 5); do
		out=$(api RunTask '{"taskDefinition": "many", "count": 10}')
		mapfile -t -O "${#arns[@]}" arns < <(jq -r '.tasks[].taskArn' <<<"$out")
	done
	[ "${#arns[@]}" = 50 ]
	for a in "${arns[@]}"; do wait_status "$a" RUNNING; done
	# what the tasks say they hold
	want=$(for a in "${arns[@]}"; do
		d=$(describe "$a"); id=$(task_id "$a"); addr=$(task_addr "$a")
		jq -r --arg a "$addr" '.containers[0].networkBindings[] | "\(.protocol) \(.hostPort) \($a) \(.containerPort)"' <<<"$d"
	done | sort)
	[ "$(wc -l <<<"$want")" = 100 ]
	[ "$(elements)" = "$want" ]

	daemon_kill9
	# damage: two elements gone, one bogus element for a task that does not exist
	in_host nft delete element inet berth ports "{ $(head -1 <<<"$want" | awk '{ print $1 " . " $2 }') }"
	in_host nft delete element inet berth ports "{ $(tail -1 <<<"$want" | awk '{ print $1 " . " $2 }') }"
	in_host nft add element inet berth ports '{ tcp . 40999 : 10.213.99.99 . 80 }'
	[ "$(elements | wc -l)" = 99 ]
	# and a task stopped while the daemon was down: its network goes at restart
	gone=${arns[0]}
	kill -KILL "$(cat "$RUN_DIR/tasks/$(task_id "$gone")/shim.pid")"
	tasks_daemon_start
	wait_status "$gone" STOPPED
	for a in "${arns[@]:1}"; do wait_status "$a" RUNNING 10; done
	want=$(for a in "${arns[@]:1}"; do
		d=$(describe "$a"); addr=$(task_addr "$a")
		jq -r --arg a "$addr" '.containers[0].networkBindings[] | "\(.protocol) \(.hostPort) \($a) \(.containerPort)"' <<<"$d"
	done | sort)
	[ "$(wc -l <<<"$want")" = 98 ]
	[ "$(elements)" = "$want" ]
	no_network_left "$(task_id "$gone")"
	[ "$(leases | wc -l)" = 49 ]
	[ "$(ls "$RUN_DIR/netns" | wc -l)" = 49 ]
}

@test "nft flush ruleset in the host namespace: the daemon restores the mappings" {
	reg_web web bridge '[{"containerPort": 80}]'
	arn=$(run_running web)
	hp=$(host_port "$arn")
	run -0 cget "http://192.0.2.1:$hp/"
	before=$(elements)
	[ -n "$before" ]
	in_host nft flush ruleset
	# bounded wait, no timing assertion
	for _ in $(seq 100); do [ "$(elements)" = "$before" ] && break; sleep 0.1; done
	[ "$(elements)" = "$before" ]
	run -0 cget "http://192.0.2.1:$hp/"
	[ "$output" = hello-berth ]
	grep -q "was changed by someone else: rebuilt" "$DAEMON_LOG"
	# deleting the table works the same way
	in_host nft delete table inet berth
	for _ in $(seq 100); do [ "$(elements)" = "$before" ] && break; sleep 0.1; done
	[ "$(elements)" = "$before" ]
}

@test "churn: start/stop cycles leave no veth, namespace, lease or map element" {
	n=${CHURN:-40}
	reg churn "[$(cdef s 'sleep 600' '{"portMappings": [{"containerPort": 80}]}')]" '{"networkMode": "bridge"}'
	for ((i = 0; i < n; i += 10)); do
		out=$(api RunTask '{"taskDefinition": "churn", "count": 10}')
		mapfile -t batch < <(jq -r '.tasks[].taskArn' <<<"$out")
		[ "${#batch[@]}" = 10 ]
		for a in "${batch[@]}"; do wait_status "$a" RUNNING; done
		for a in "${batch[@]}"; do api StopTask "{\"task\": \"$a\"}" >/dev/null; done
		for a in "${batch[@]}"; do wait_status "$a" STOPPED; done
	done
	[ -z "$(elements)" ]
	[ -z "$(leases)" ]
	[ -z "$(ls -A "$RUN_DIR/netns")" ]
	run -0 ip -n "$NS" -o link show type veth
	[ "$output" = "$(ip -n "$NS" -o link show type veth | grep -w vh)" ]
	[ "$(hnet net ls | awk '$1 == "map"' | wc -l)" = 0 ]
	# every release went cleanly
	run ! grep -E "removing its (network|host port mappings)|network bindings cannot be read|task networks:" "$DAEMON_LOG"
}

# A process of the task's containers: one in the task's network namespace
# (the shim stays in the host's).
ctr_pid() {
	local ino p
	ino=$(stat -L -c %i "$RUN_DIR/netns/$(task_id "$1")") || return 1
	for p in /proc/[0-9]*; do
		[ "$(readlink "$p/ns/net" 2>/dev/null)" = "net:[$ino]" ] && { echo "${p#/proc/}"; return 0; }
	done
	return 1
}

@test "bridge: the container sees its own address and hostname in /etc/hosts" {
	reg named "[$(cdef app 'sleep 600' '{"hostname": "web-b"}')]" '{"networkMode": "bridge"}'
	arn=$(run_running named)
	addr=$(task_addr "$arn")
	[ -n "$addr" ]
	pid=$(ctr_pid "$arn")
	hosts=$(cat "/proc/$pid/root/etc/hosts")
	echo "$hosts"
	grep -qP "^${addr//./\\.}\tweb-b$" <<<"$hosts"
	grep -qP '^127\.0\.0\.1\tlocalhost$' <<<"$hosts"
	[ "$(nsenter -t "$pid" -u hostname)" = web-b ]
	stop_wait "$arn"
	no_network_left "$(task_id "$arn")"
}

@test "burst: 20 bridge tasks started at once all run, each with its own address and host port" {
	reg burst "[$(cdef s 'sleep 600' '{"portMappings": [{"containerPort": 80}]}')]" '{"networkMode": "bridge"}'
	arns=()
	for _ in 1 2; do
		out=$(api RunTask '{"taskDefinition": "burst", "count": 10}')
		mapfile -t -O "${#arns[@]}" arns < <(jq -r '.tasks[].taskArn' <<<"$out")
	done
	[ "${#arns[@]}" = 20 ]
	for a in "${arns[@]}"; do wait_status "$a" RUNNING; done
	: > "$BATS_TEST_TMPDIR/want"
	for a in "${arns[@]}"; do
		addr=$(task_addr "$a")
		hp=$(host_port "$a")
		[ -n "$addr" ] && [ -n "$hp" ]
		echo "tcp $hp $addr 80" >> "$BATS_TEST_TMPDIR/want"
	done
	# distinct addresses and host ports, and each element points at the
	# address its task's namespace really has
	[ "$(awk '{ print $3 }' "$BATS_TEST_TMPDIR/want" | sort -u | wc -l)" = 20 ]
	[ "$(awk '{ print $2 }' "$BATS_TEST_TMPDIR/want" | sort -u | wc -l)" = 20 ]
	[ "$(elements)" = "$(sort "$BATS_TEST_TMPDIR/want")" ]
	[ "$(leases | wc -l)" = 20 ]
	for a in "${arns[@]}"; do api StopTask "{\"task\": \"$a\"}" >/dev/null; done
	for a in "${arns[@]}"; do wait_status "$a" STOPPED; done
	for a in "${arns[@]}"; do no_network_left "$(task_id "$a")"; done
	[ -z "$(elements)" ]
}

@test "the start helper killed (kill -9) after making the namespace: TaskFailedToStart, no veth, namespace, lease or element left" {
	# A registry that accepts the connection and never answers holds the
	# start helper in its image pull, after the network is made.
	in_host python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(4)
print(s.getsockname()[1], flush=True)
c, _ = s.accept()
open(sys.argv[1], "w").close()
time.sleep(300)' "$BATS_TEST_TMPDIR/accepted" > "$BATS_TEST_TMPDIR/port" &
	PIDS+=($!)
	for _ in $(seq 100); do [ -s "$BATS_TEST_TMPDIR/port" ] && break; sleep 0.1; done
	port=$(cat "$BATS_TEST_TMPDIR/port")
	reg stall "[$(jq -nc --arg i "127.0.0.1:$port/stall:v1" \
		'{name: "s", image: $i, memory: 32, command: ["sleep 600"], portMappings: [{containerPort: 80}]}')]" \
		'{"networkMode": "bridge"}'
	arn=$(run_one stall)
	id=$(task_id "$arn")
	for _ in $(seq 300); do [ -e "$BATS_TEST_TMPDIR/accepted" ] && break; sleep 0.1; done
	[ -e "$BATS_TEST_TMPDIR/accepted" ]
	# the helper made the network and holds it
	[ -e "$RUN_DIR/netns/$id" ]
	leases | grep -qx "$id"
	[ "$(elements | wc -l)" = 1 ]
	helper=$(cat "$RUN_DIR/tasks/$id/starter.pid")
	# the daemon's own binary (berth hands `daemon` to libexec/berth-full)
	[ "$(readlink "/proc/$helper/exe")" = "$(readlink -f "$(dirname "$BERTH")/libexec/berth-full")" ]
	kill -KILL "$helper"
	wait_status "$arn" STOPPED
	describe "$arn" | jq -e '.stopCode == "TaskFailedToStart" and (.stoppedReason | test("start helper was killed"))'
	no_network_left "$id"
	[ -z "$(elements)" ]
}
