#!/usr/bin/env bats
# Container definition fields the agent and shim act on (issue 5): hostname,
# dnsServers, dnsSearchDomains and extraHosts in the container's own
# /etc/resolv.conf and /etc/hosts; systemControls set in the container's
# namespaces; linuxParameters.devices, sharedMemorySize; dockerLabels kept;
# and the registration refusals for bad values.  Each test reads back, from
# inside a running task, what the field asked for.

bats_require_minimum_version 1.5.0
load lib/daemon
load lib/tasks

setup_file() { tasks_setup_file; }
setup() {
	[[ $BATS_TEST_DESCRIPTION == *"cleaned up"* ]] && CLEANUP_WAIT=1s
	tasks_setup
}
teardown() { tasks_teardown; }

# js JQ-EXPR: the JSON it builds (jq's relaxed object syntax).
js() {
	jq -nc "$1"
}

tlogs() {
	BERTH_RUN_DIR=$RUN_DIR BERTH_STATE_DIR=$STATE_DIR "$BERTH" logs "$@"
}

# run_and_log FAMILY: runs the task, waits for it to stop, prints its app log.
run_and_log() {
	local t
	t=$(run_one "$1") || return 1
	wait_status "$t" STOPPED >&2 || return 1
	describe "$t" | jq -c '.containers[0] | {exitCode, reason}' >&2
	tlogs "$t" --container app
}

# reg_err FAMILY CONTAINERS-JSON [TOP-LEVEL-JSON]: the refusal's body.
reg_err() {
	_raw_unix RegisterTaskDefinition "$(jq -nc --arg f "$1" --argjson c "$2" --argjson x "${3:-"{}"}" \
		'{family: $f, networkMode: "none", containerDefinitions: $c} + $x')"
}

@test "fields: none mode gets its own resolv.conf and hosts with dnsServers, dnsSearchDomains, extraHosts and hostname" {
	reg dns "[$(cdef app 'cat /etc/resolv.conf; echo ---; cat /etc/hosts; echo ---; hostname' \
		"$(js '{hostname: "web-1", dnsServers: ["10.9.8.7", "fd00::53"], dnsSearchDomains: ["corp.example", "example.org"],
		  extraHosts: [{hostname: "db.internal", ipAddress: "10.1.2.3"}, {hostname: "v6.internal", ipAddress: "fd00::1"}]}')")]"
	out=$(run_and_log dns)
	echo "$out"
	resolv=$(awk '/^---$/ { exit } { print }' <<<"$out")
	hosts=$(awk '/^---$/ { n++; next } n == 1' <<<"$out")
	# exactly the task's servers and search domains: nothing of the host's
	[ "$(grep '^nameserver' <<<"$resolv")" = $'nameserver 10.9.8.7\nnameserver fd00::53' ]
	[ "$(grep '^search' <<<"$resolv")" = "search corp.example example.org" ]
	[ "$(grep -c '^nameserver\|^search\|^domain' <<<"$resolv")" -eq 3 ]
	grep -qP '^127\.0\.0\.1\tlocalhost$' <<<"$hosts"
	grep -qP '^::1\tlocalhost' <<<"$hosts"
	grep -qP '^10\.1\.2\.3\tdb\.internal$' <<<"$hosts"
	grep -qP '^fd00::1\tv6\.internal$' <<<"$hosts"
	[ "$(tail -1 <<<"$out")" = web-1 ]
	# written into the task's run dir, not into the image
	t=$(api ListTasks '{"family":"dns","desiredStatus":"STOPPED"}' | jq -r '.taskArns[0]')
	grep -q 10.9.8.7 "$RUN_DIR/tasks/$(task_id "$t")/app.resolv.conf"
	run ! grep -q 10.9.8.7 "$(rootfs_of "$t" app)/etc/resolv.conf"
}

@test "fields: host mode keeps the host's resolvers and hosts, dnsServers replace the nameservers, extraHosts are added" {
	reg hostdns "[$(cdef app 'cat /etc/resolv.conf; echo ---; cat /etc/hosts')]" '{"networkMode":"host"}'
	out=$(run_and_log hostdns)
	resolv=$(awk '/^---$/ { exit } { print }' <<<"$out")
	[ "$(grep '^nameserver' <<<"$resolv")" = "$(grep '^nameserver' /etc/resolv.conf)" ]
	hosts=$(awk '/^---$/ { n++; next } n == 1' <<<"$out")
	diff <(grep -v '^#' /etc/hosts | grep .) <(grep -v '^#' <<<"$hosts" | grep .)

	reg hostdns2 "[$(cdef app 'cat /etc/resolv.conf; echo ---; cat /etc/hosts' \
		"$(js '{dnsServers: ["192.0.2.53"], extraHosts: [{hostname: "extra.example", ipAddress: "192.0.2.9"}]}')")]" \
		'{"networkMode":"host"}'
	out=$(run_and_log hostdns2)
	resolv=$(awk '/^---$/ { exit } { print }' <<<"$out")
	[ "$(grep '^nameserver' <<<"$resolv")" = "nameserver 192.0.2.53" ]
	grep -qP '^192\.0\.2\.9\textra\.example$' <<<"$out"
	grep -q localhost <<<"$out"
}

@test "fields: systemControls are set in the task's network and ipc namespaces, not the host's" {
	host_range=$(cat /proc/sys/net/ipv4/ip_local_port_range)
	host_shmmni=$(cat /proc/sys/kernel/shmmni)
	reg sysctl "[$(cdef app 'cat /proc/sys/net/ipv4/ip_local_port_range /proc/sys/net/core/somaxconn /proc/sys/kernel/shmmni /proc/sys/fs/mqueue/msg_max /proc/sys/net/ipv4/conf/lo/forwarding' \
		"$(js '{systemControls: [{namespace: "net.ipv4.ip_local_port_range", value: "40000 40100"},
		  {namespace: "net.core.somaxconn", value: "1234"}, {namespace: "kernel.shmmni", value: "1000"},
		  {namespace: "fs.mqueue.msg_max", value: "20"},
		  {namespace: "net/ipv4/conf/lo/forwarding", value: "1"}]}')")]"
	out=$(run_and_log sysctl)
	[ "$out" = $'40000\t40100\n1234\n1000\n20\n1' ]
	[ "$(cat /proc/sys/net/ipv4/ip_local_port_range)" = "$host_range" ]
	[ "$(cat /proc/sys/kernel/shmmni)" = "$host_shmmni" ]
}

@test "fields: a sysctl the kernel refuses stops the task with the reason" {
	reg badsysctl "[$(cdef app 'echo ran' "$(js '{systemControls: [{namespace: "net.ipv4.no_such_sysctl", value: "1"}]}')")]"
	t=$(run_one badsysctl)
	wait_status "$t" STOPPED
	d=$(describe "$t")
	jq -e '.stopCode == "TaskFailedToStart"' <<<"$d"
	jq -e '.containers[0].reason | test("set sysctl .net.ipv4.no_such_sysctl.")' <<<"$d"
}

@test "fields: a network sysctl in network mode host registers (as in ECS) but the task fails to start with the reason" {
	reg hostsysctl "[$(cdef app 'echo ran' "$(js '{systemControls: [{namespace: "net.core.somaxconn", value: "1"}]}')")]" \
		'{"networkMode":"host"}'
	t=$(run_one hostsysctl)
	wait_status "$t" STOPPED
	d=$(describe "$t")
	jq -e '.stopCode == "TaskFailedToStart"' <<<"$d"
	jq -e '.stoppedReason | test("net.core.somaxconn. would change the host.s network namespace")' <<<"$d"
}

@test "fields: linuxParameters.devices makes the host's device node in the container, with only the permissions asked" {
	reg dev "[$(cdef app 'busybox stat -c "%F %t,%T %a" /dev/myzero; busybox dd if=/dev/myzero bs=4 count=1 2>/dev/null | busybox wc -c; busybox stat -c "%a" /dev/null' \
		"$(js '{linuxParameters: {devices: [{hostPath: "/dev/zero", containerPath: "/dev/myzero", permissions: ["read"]}]}}')")]"
	out=$(run_and_log dev)
	[ "$out" = $'character special file 1,5 444\n4\n666' ]

	# containerPath defaults to hostPath; all permissions by default
	reg dev2 "[$(cdef app 'busybox stat -c "%F %t,%T %a" /dev/full' \
		"$(js '{linuxParameters: {devices: [{hostPath: "/dev/full"}]}}')")]"
	[ "$(run_and_log dev2)" = "character special file 1,7 $(stat -c %a /dev/full)" ]
}

@test "fields: a device path that is not a device stops the task with the reason" {
	reg notdev "[$(cdef app 'echo ran' "$(js '{linuxParameters: {devices: [{hostPath: "/etc/hostname", containerPath: "/dev/x"}]}}')")]"
	t=$(run_one notdev)
	wait_status "$t" STOPPED
	jq -e '.containers[0].reason | test("device ./etc/hostname.")' <<<"$(describe "$t")"
}

@test "fields: sharedMemorySize sizes /dev/shm" {
	reg shm "[$(cdef app 'busybox df -k /dev/shm | busybox tail -1' "$(js '{linuxParameters: {sharedMemorySize: 16}}')")]"
	out=$(run_and_log shm)
	[ "$(awk '{ print $2 }' <<<"$out")" -eq 16384 ]
}

@test "fields: dockerLabels are kept as the container's labels beside ECS's" {
	reg labels "[$(cdef app 'true' "$(js '{dockerLabels: {"com.example.team": "infra", tier: "web"}}')")]"
	t=$(run_one labels)
	wait_status "$t" STOPPED
	l=$(spec_of "$t" | jq -c '.containers[0].labels')
	jq -e '.["com.example.team"] == "infra" and .tier == "web"' <<<"$l"
	jq -e '.["com.amazonaws.ecs.container-name"] == "app" and .["com.amazonaws.ecs.task-definition-family"] == "labels"' <<<"$l"
}

@test "fields: registration refuses bad names, addresses, counts and sysctls with ECS-style messages" {
	local bad
	while IFS='|' read -r want extra top; do
		run reg_err bad "[$(cdef app true "$extra")]" "${top:-"{}"}"
		[ "${lines[0]}" = 400 ] || { echo "accepted: $extra $top"; false; }
		[[ ${lines[1]} == *ClientException* && ${lines[1]} == *"$want"* ]] || { echo "$extra: ${lines[1]}"; false; }
	done <<-'EOF2'
		dnsServers '10.0.0.1\nnameserver 6.6.6.6' is not a valid IP address|{"dnsServers":["10.0.0.1\nnameserver 6.6.6.6"]}
		dnsServers 'dns.example' is not a valid IP address|{"dnsServers":["dns.example"]}
		dnsSearchDomains 'a.example options ndots:15' is not a valid domain name|{"dnsSearchDomains":["a.example options ndots:15"]}
		extraHosts hostname|{"extraHosts":[{"hostname":"db\n6.6.6.6 bank.example","ipAddress":"10.1.2.3"}]}
		extraHosts ipAddress '10.1.2' is not a valid IP address|{"extraHosts":[{"hostname":"db","ipAddress":"10.1.2"}]}
		hostname 'web_1 x' is not a valid host name|{"hostname":"web_1 x"}
		At most 16 dnsServers are allowed|{"dnsServers":["1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1","1.1.1.1"]}
		'kernel.hostname' is not a namespaced kernel parameter|{"systemControls":[{"namespace":"kernel.hostname","value":"x"}]}
		'vm.swappiness' is not a namespaced kernel parameter|{"systemControls":[{"namespace":"vm.swappiness","value":"1"}]}
		on one line|{"systemControls":[{"namespace":"net.core.somaxconn","value":"1\n2"}]}
		'kernel.shmmax' is an IPC parameter, not supported with ipcMode host|{"systemControls":[{"namespace":"kernel.shmmax","value":"1"}]}|{"ipcMode":"host"}
		'hostname' is not supported in network mode awsvpc|{"hostname":"h"}|{"networkMode":"awsvpc"}
	EOF2
	# nothing was registered
	[ "$(api ListTaskDefinitions '{}' | jq '.taskDefinitionArns | length')" -eq 0 ]
	# the aws CLI gets the same refusal
	run aws_ecs register-task-definition --family bad --ipc-mode host --container-definitions \
		'[{"name":"app","image":"localhost/app:v1","memory":32,"systemControls":[{"namespace":"kernel.shmmax","value":"1"}]}]'
	[ "$status" -ne 0 ]
	[[ $output == *ClientException*"not supported with ipcMode host"* ]]
}

@test "fields: linuxParameters.tmpfs mounts a sized tmpfs with its options; a write beyond the size fails" {
	reg tmpfs "[$(cdef app 'busybox df -k /scratch | busybox tail -1; busybox grep " /scratch " /proc/mounts;
		if busybox dd if=/dev/zero of=/scratch/big bs=1024 count=3072 2>/dev/null; then echo wrote-all; else echo full; fi' \
		"$(js '{linuxParameters: {tmpfs: [{containerPath: "/scratch", size: 2, mountOptions: ["noexec", "mode=1770"]}]}}')")]"
	out=$(run_and_log tmpfs)
	echo "$out"
	[ "$(head -1 <<<"$out" | awk '{ print $2 }')" -eq 2048 ]
	grep -q ' /scratch tmpfs [^ ]*noexec' <<<"$out"
	grep -q 'mode=1770' <<<"$out"
	[ "$(tail -1 <<<"$out")" = full ]
}

@test "fields: the cgroup device filter lets a task use only its devices, with the permissions given" {
	[ -b /dev/loop7 ] || skip "no /dev/loop7 on this host"
	# read only: opening for reading works, for writing is refused, even
	# to root (whom the node's mode does not stop)
	reg devro "[$(cdef app 'busybox stat -c "%F %t,%T" /dev/myloop; (true < /dev/myloop) && echo read-ok; if (true > /dev/myloop) 2>/dev/null; then echo wrote; else echo refused; fi' \
		"$(js '{linuxParameters: {devices: [{hostPath: "/dev/loop7", containerPath: "/dev/myloop", permissions: ["read"]}]}}')")]"
	out=$(run_and_log devro)
	echo "$out"
	[ "$out" = $'block special file 7,7\nread-ok\nrefused' ]
	# a node the container makes itself (it may mknod) cannot be opened;
	# the default nodes still can
	reg mknod "[$(cdef app 'busybox mknod /tmp/blk b 7 7 && echo made; if (true < /tmp/blk) 2>/dev/null; then echo opened; else echo refused; fi; echo x > /dev/null && echo null-ok')]"
	out=$(run_and_log mknod)
	echo "$out"
	[ "$out" = $'made\nrefused\nnull-ok' ]
}

@test "fields: the files, mounts and cgroup of a task with every field are cleaned up after it stops" {
	reg all "[$(cdef app 'busybox grep -q db /etc/hosts && busybox grep -q " /scratch " /proc/mounts && test -c /dev/z && echo done' \
		"$(js '{hostname: "h1", dnsServers: ["10.0.0.2"], extraHosts: [{hostname: "db", ipAddress: "10.1.2.3"}],
		  systemControls: [{namespace: "net.core.somaxconn", value: "512"}],
		  linuxParameters: {devices: [{hostPath: "/dev/zero", containerPath: "/dev/z"}], sharedMemorySize: 8,
		  tmpfs: [{containerPath: "/scratch", size: 1}]}}')")]"
	t=$(run_one all)
	id=$(task_id "$t")
	wait_status "$t" STOPPED
	[ "$(tlogs "$t" --container app)" = done ]
	cg2=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
	# the run dir (with the container's resolv.conf and hosts) goes at cleanup
	for ((i = 0; i < 300; i++)); do [ -d "$RUN_DIR/tasks/$id" ] || break; sleep 0.1; done
	[ ! -d "$RUN_DIR/tasks/$id" ]
	run ! grep -q "$id" /proc/self/mountinfo
	[ ! -d "$cg2/${BERTH_CGROUP_PARENT:-berth}/tasks/$id" ]
}
