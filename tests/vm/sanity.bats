#!/usr/bin/env bats
# The VM itself: what the limit tests stand on.  Run by tests/vm/run inside
# the qemu VM (BERTH_VM=1); never on the host.

load helpers

setup() {
	require_vm
}

@test "vm: /sys/fs/cgroup is a pure cgroup2 with cpu, memory, pids and io" {
	run stat -f -c %T /sys/fs/cgroup
	[ "$output" = cgroup2fs ]
	# No v1 hierarchy anywhere.
	run grep -c ' cgroup ' /proc/mounts
	[ "$output" = 0 ]
	for c in cpu memory pids io; do
		grep -qw "$c" /sys/fs/cgroup/cgroup.controllers
		grep -qw "$c" /sys/fs/cgroup/cgroup.subtree_control
	done
}

@test "vm: a child cgroup takes limits and is removed" {
	local cg=/sys/fs/cgroup/berth-vm-sanity.$$
	mkdir "$cg"
	echo "25000 100000" > "$cg/cpu.max"
	echo $((32 * 1024 * 1024)) > "$cg/memory.max"
	echo 64 > "$cg/pids.max"
	[ "$(cat "$cg/cpu.max")" = "25000 100000" ]
	[ "$(cat "$cg/memory.max")" = 33554432 ]
	[ "$(cat "$cg/pids.max")" = 64 ]
	rmdir "$cg"
	[ ! -e "$cg" ]
}

@test "vm: the root is the host's, writable through a tmpfs overlay" {
	[ -x "$BERTH_ROOT/tests/vm/run" ]
	run stat -f -c %T /
	[ "$output" = overlayfs ]
	local probe=/etc/berth-vm-probe.$$
	echo hello > "$probe"
	[ "$(cat "$probe")" = hello ]
	rm "$probe"
}

@test "vm: veth, bridge and nf_tables work in a network namespace" {
	local ns=berth-vm-sanity-$$
	ip netns add "$ns"
	ip -n "$ns" link add br0 type bridge
	ip -n "$ns" link add v0 type veth peer name v1
	ip -n "$ns" link set v0 master br0
	ip -n "$ns" link add d0 type dummy
	ip netns exec "$ns" nft add table inet berth
	ip netns exec "$ns" nft add chain inet berth post '{ type nat hook postrouting priority 100; }'
	ip netns exec "$ns" nft add rule inet berth post oifname d0 ct state new masquerade
	run ip netns exec "$ns" nft list ruleset
	ip netns del "$ns"
	[[ "$output" == *masquerade* ]]
}

@test "vm: overlayfs mounts inside the VM" {
	local d=$BATS_TEST_TMPDIR/ovl
	mkdir -p "$d/lower" "$d/upper" "$d/work" "$d/merged"
	echo low > "$d/lower/f"
	mount -t overlay overlay -o "lowerdir=$d/lower,upperdir=$d/upper,workdir=$d/work" "$d/merged"
	echo up > "$d/merged/f"
	run cat "$d/lower/f"
	umount "$d/merged"
	[ "$output" = low ]
	[ "$(cat "$d/upper/f")" = up ]
}

@test "vm: the berth binary under test runs in the VM" {
	run "$BERTH" version
	[ "$status" -eq 0 ]
	[ -n "$output" ]
}
