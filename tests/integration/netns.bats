#!/usr/bin/env bats
# netns/: task networks and host port mappings, driven through `berth net`.
#
# Never touches this machine's own namespace or firewall: the bridge and
# table inet berth live in a "host" namespace ($H) made here; a "client"
# namespace ($C) is joined to it by a veth pair (192.0.2.1 <-> 192.0.2.2,
# TEST-NET-1, only inside these namespaces).  Traffic goes only to those
# addresses and to loopback inside them.

bats_require_minimum_version 1.5.0

setup_file() {
	: "${BERTH:?set BERTH to the berth binary (tests/run does)}"
	export H=berth-test-net-$$-h C=berth-test-net-$$-c
	export BERTH_RUN_DIR=$BATS_FILE_TMPDIR/run BERTH_STATE_DIR=$BATS_FILE_TMPDIR/state
	export BERTH_DYNAMIC_HOST_PORT_RANGE=40000-40999
	unset ECS_DYNAMIC_HOST_PORT_RANGE BERTH_RESERVED_PORTS ECS_RESERVED_PORTS BERTH_BRIDGE BERTH_BRIDGE_SUBNET
	ip netns add "$H"
	ip netns add "$C"
	ip link add vh netns "$H" type veth peer name vc netns "$C"
	ip -n "$H" addr add 192.0.2.1/24 dev vh
	ip -n "$C" addr add 192.0.2.2/24 dev vc
	for ns in "$H" "$C"; do ip -n "$ns" link set lo up; done
	ip -n "$H" link set vh up
	ip -n "$C" link set vc up
	mkdir -p "$BATS_FILE_TMPDIR/www"
	echo "hello from berth" > "$BATS_FILE_TMPDIR/www/index.html"
	hnet net up
}

teardown_file() {
	local f
	for f in "$BERTH_RUN_DIR"/netns/*; do
		[ -e "$f" ] && hnet net release "${f##*/}"
	done
	umount "$BERTH_RUN_DIR/netns" 2>/dev/null || true
	ip netns del "$C" 2>/dev/null || true
	ip netns del "$H" 2>/dev/null || true
}

teardown() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	PIDS=()
}

# berth inside the host namespace (nsenter keeps our mount namespace, so the
# nsfs bind mounts stay visible to the next command).
hnet() { nsenter --net="/run/netns/$H" "$BERTH" "$@"; }
in_task() { local id=$1; shift; nsenter --net="$BERTH_RUN_DIR/netns/$id" "$@"; }
in_host() { ip netns exec "$H" "$@"; }
in_client() { ip netns exec "$C" "$@"; }
get() { curl -sS -m 3 "$@"; }

# Background processes are started directly (not through a function, so $!
# is the process itself) with fd 3 closed (bats waits for it).

# Starts busybox httpd on port 80 in task $1, logging requests to $BATS_TEST_TMPDIR/$1.log.
httpd_in() {
	nsenter --net="$BERTH_RUN_DIR/netns/$1" busybox httpd -f -vv -p 80 -h "$BATS_FILE_TMPDIR/www" \
		2> "$BATS_TEST_TMPDIR/$1.log" 3>&- &
	PIDS+=($!)
	for _ in $(seq 50); do in_task "$1" curl -s -m 1 -o /dev/null http://127.0.0.1/ && return 0; sleep 0.05; done
	return 1
}

# The host port of "$proto $cport" in `berth net map` output.
host_port() { awk -v p="$1" -v c="$2" '$1 == p && $2 == c { print $3 }' <<< "$3"; }

elements() { hnet net ls | awk '$1 == "element" { print $2, $3, $4, $5 }' | sort; }
records() { hnet net ls | awk '$1 == "map" { print }'; }

@test "net create: namespace file, eth0 with a lease, default route via the bridge, lo up" {
	run -0 hnet net create web1
	[[ $output == *"netns=$BERTH_RUN_DIR/netns/web1"* ]]
	addr=$(awk -F= '$1 == "address" { print $2 }' <<< "$output")
	veth=$(awk -F= '$1 == "veth" { print $2 }' <<< "$output")
	[[ $addr == 10.213.* ]]
	run -0 in_task web1 ip -4 -o addr show dev eth0
	[[ $output == *"inet $addr"* ]]
	run -0 in_task web1 ip route show default
	[[ $output == "default via 10.213.0.1 dev eth0"* ]]
	run -0 in_task web1 ip -o link show lo
	[[ $output == *"UP"* ]]
	run -0 ip -n "$H" -o link show "$veth"
	[[ $output == *"master berth0"* ]]
	# the namespace outlives every process: it is pinned by the mount
	grep -q " $BERTH_RUN_DIR/netns/web1 " /proc/self/mountinfo
	# a second create for the same id is refused
	run -1 hnet net create web1
	[[ $output == *"already has a network"* ]]
	hnet net release web1
	[ ! -e "$BERTH_RUN_DIR/netns/web1" ]
	run ip -n "$H" link show "$veth"
	[ "$status" -ne 0 ]
	run -0 hnet net ls
	[[ $output != *"lease web1 "* ]]
	# release again is a no-op
	hnet net release web1
}

@test "dynamic host port: client, 127.0.0.1, own address, another task and the task itself get the page" {
	hnet net create a1
	hnet net create a2
	run -0 hnet net map a1 80
	hp=$(host_port tcp 80 "$output")
	[ "$hp" -ge 40000 ] && [ "$hp" -le 40999 ]
	httpd_in a1
	run -0 in_client curl -sS -m 3 "http://192.0.2.1:$hp/"
	[ "$output" = "hello from berth" ]
	run -0 in_host curl -sS -m 3 "http://127.0.0.1:$hp/"
	[ "$output" = "hello from berth" ]
	run -0 in_host curl -sS -m 3 "http://192.0.2.1:$hp/"
	[ "$output" = "hello from berth" ]
	run -0 in_task a2 curl -sS -m 3 "http://192.0.2.1:$hp/"
	[ "$output" = "hello from berth" ]
	run -0 in_task a1 curl -sS -m 3 "http://10.213.0.1:$hp/"
	[ "$output" = "hello from berth" ]
	# the container saw the client's real address (DNAT only, no proxy)
	grep -q '192.0.2.2\]:[0-9]*: url:/' "$BATS_TEST_TMPDIR/a1.log"
	hnet net release a1
	hnet net release a2
	# unmapped: nothing answers any more
	run in_client curl -sS -m 2 "http://192.0.2.1:$hp/"
	[ "$status" -ne 0 ]
}

@test "two mappings of the same containerPort get different host ports; a range gets a contiguous block" {
	hnet net create b1
	hnet net create b2
	run -0 hnet net map b1 80
	p1=$(host_port tcp 80 "$output")
	run -0 hnet net map b2 80
	p2=$(host_port tcp 80 "$output")
	[ -n "$p1" ] && [ -n "$p2" ] && [ "$p1" != "$p2" ]
	run -0 hnet net map b2 9000-9004
	first=$(awk '{ split($3, r, "-"); print r[1] }' <<< "$output")
	[[ $output == "tcp 9000-9004 $first-$((first + 4))" ]]
	[ "$(elements | grep -c " 9[0-9][0-9][0-9]$")" -eq 5 ]
	hnet net release b1
	hnet net release b2
	[ -z "$(elements)" ]
}

@test "UDP mapping reaches a UDP server in the task" {
	hnet net create u1
	run -0 hnet net map u1 5353/udp
	hp=$(host_port udp 5353 "$output")
	nsenter --net="$BERTH_RUN_DIR/netns/u1" python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5353))
s.settimeout(10)
data, peer = s.recvfrom(100)
s.sendto(data.upper() + b" " + peer[0].encode(), peer)
' 3>&- &
	PIDS+=($!)
	sleep 0.3
	run -0 in_client python3 -c "
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b'ping', ('192.0.2.1', $hp))
print(s.recvfrom(100)[0].decode())
"
	[ "$output" = "PING 192.0.2.2" ]
	hnet net release u1
}

@test "a host process listening on a candidate port is skipped" {
	hnet net create s1
	# a fresh range puts the cursor outside it, so allocation starts at 41000
	ip netns exec "$H" python3 -c '
import socket, time
s = socket.socket(); s.bind(("0.0.0.0", 41000)); s.listen(1); time.sleep(30)' 3>&- &
	PIDS+=($!)
	for _ in $(seq 50); do in_host ss -Hltn 'sport = :41000' | grep -q . && break; sleep 0.05; done
	BERTH_DYNAMIC_HOST_PORT_RANGE=41000-41010 run -0 hnet net map s1 80
	[ "$(host_port tcp 80 "$output")" = 41001 ]
	# static: a port a host process listens on is refused
	run -1 hnet net map s1 41000:81
	[[ $output == *"host port 41000/tcp is already in use"* ]]
	hnet net release s1
}

@test "reserved and taken static host ports are refused with a clear reason" {
	hnet net create r1
	hnet net create r2
	run -1 hnet net map r1 22:80
	[[ $output == *"host port 22/tcp is reserved"* ]]
	run -1 hnet net map r1 51678:80
	[[ $output == *"reserved"* ]]
	BERTH_RESERVED_PORTS='[8088]' run -1 hnet net map r1 8088:80
	[[ $output == *"host port 8088/tcp is reserved"* ]]
	# setting the list replaces the default: 22 is no longer reserved
	BERTH_RESERVED_PORTS='[8088]' run -0 hnet net map r1 22:80
	run -0 hnet net map r1 8080:80
	run -1 hnet net map r2 8080:80
	[[ $output == *"host port 8080/tcp is already in use"* ]]
	# udp is separate
	run -0 hnet net map r2 8080:80/udp
	# a failing request adds nothing (all or nothing)
	run -1 hnet net map r2 81 8080:82
	[ -z "$(records | grep ' r2 tcp')" ]
	hnet net release r1
	hnet net release r2
	[ -z "$(elements)" ]
}

@test "bad input: ids, mapping specs, mapping without a network" {
	run -2 hnet net create ../x
	run -2 hnet net create ''
	run -2 hnet net map x1 0
	run -2 hnet net map x1 70000
	run -2 hnet net map x1 80/sctp
	run -2 hnet net map x1 90-80
	run -2 hnet net map x1 1000-1002:80-90
	run -2 hnet net map x1 80x
	run -1 hnet net map nosuchtask 80
	[[ $output == *"has no address"* ]]
}

@test "mode none: loopback only, no route out" {
	run -0 hnet net create n1 --none
	run -0 in_task n1 ip -o link show
	[ "$(wc -l <<< "$output")" -eq 1 ]
	run -0 in_task n1 ip route show
	[ -z "$output" ]
	hnet net release n1
	[ ! -e "$BERTH_RUN_DIR/netns/n1" ]
}

@test "nft flush ruleset: the monitor notices and a rebuild restores the mappings" {
	hnet net create f1
	run -0 hnet net map f1 80
	hp=$(host_port tcp 80 "$output")
	httpd_in f1
	before=$(elements)
	nsenter --net="/run/netns/$H" "$BERTH" net watch --for 20 --rebuilds 1 > "$BATS_TEST_TMPDIR/watch.out" 3>&- &
	PIDS+=($!)
	for _ in $(seq 100); do grep -q watching "$BATS_TEST_TMPDIR/watch.out" && break; sleep 0.05; done
	in_host nft flush ruleset
	wait "${PIDS[-1]}"
	grep -q '^rebuilt mappings=1 ' "$BATS_TEST_TMPDIR/watch.out"
	echo "# $(cat "$BATS_TEST_TMPDIR/watch.out" | tail -1)" >&3
	[ "$(elements)" = "$before" ]
	run -0 in_client curl -sS -m 3 "http://192.0.2.1:$hp/"
	[ "$output" = "hello from berth" ]
	hnet net release f1
}

@test "watch ignores berth's own changes and other tables" {
	hnet net create w1
	nsenter --net="/run/netns/$H" "$BERTH" net watch --for 2 > "$BATS_TEST_TMPDIR/watch.out" 3>&- &
	PIDS+=($!)
	for _ in $(seq 100); do grep -q watching "$BATS_TEST_TMPDIR/watch.out" && break; sleep 0.05; done
	in_host nft add table inet other
	in_host nft delete table inet other
	wait "${PIDS[-1]}"
	! grep -q rebuilt "$BATS_TEST_TMPDIR/watch.out"
	hnet net release w1
}

@test "reconcile: after a bogus element is added and a real one deleted by hand, rebuild matches the record exactly" {
	for i in 1 2 3; do hnet net create c$i; hnet net map c$i 80 53/udp > /dev/null; done
	want=$(elements)
	[ "$(wc -l <<< "$want")" -eq 6 ]
	victim=$(head -1 <<< "$want")
	read -r proto hp _ _ <<< "$victim"
	in_host nft delete element inet berth ports "{ $proto . $hp }"
	in_host nft add element inet berth ports '{ tcp . 44444 : 10.213.9.9 . 80 }'
	[ "$(elements)" != "$want" ]
	run -0 hnet net rebuild
	echo "# $output" >&3
	[ "$(elements)" = "$want" ]
	# the rules are there exactly once
	[ "$(in_host nft list chain inet berth prerouting | grep -c dnat)" -eq 1 ]
	for i in 1 2 3; do hnet net release c$i; done
	[ -z "$(elements)" ]
}

@test "churn: 500 create/map/release cycles leave no veth, namespace file, mount, lease or element" {
	links_before=$(ip -n "$H" -o link | wc -l)
	for i in $(seq 500); do
		hnet net create churn > /dev/null
		hnet net map churn 80 > /dev/null
		hnet net release churn
	done
	[ "$(ip -n "$H" -o link | wc -l)" -eq "$links_before" ]
	[ -z "$(ip -n "$H" -o link | grep ' bv')" ]
	[ -z "$(ls -A "$BERTH_RUN_DIR/netns")" ]
	! grep -q " $BERTH_RUN_DIR/netns/" /proc/self/mountinfo
	run -0 hnet net ls
	[[ $output != *lease* ]]
	[[ $output != *element* ]]
	[[ $output != *"map "* ]]
}
