#!/usr/bin/env bats
# cgroup v2 limits really enforced: `berth container run` inside the VM's
# pure cgroup v2 (never BERTH_CGROUP_ENFORCE=off).  Each test also proves the
# container's cgroup is gone afterwards.

load helpers

setup_file() {
	require_vm
	unset BERTH_CGROUP_ENFORCE
	make_rootfs
}

setup() {
	require_vm
	unset BERTH_CGROUP_ENFORCE
	ROOTFS=$BATS_FILE_TMPDIR/rootfs
	BEFORE=$(cgroups_snapshot)
}

teardown() {
	teardown_container
}

# no_cgroup_left NAME
no_cgroup_left() {
	[ ! -e "$CG_PARENT/$1" ] || { echo "cgroup $CG_PARENT/$1 left behind" >&2; return 1; }
	[ "$(cgroups_snapshot)" = "$BEFORE" ] || {
		echo "cgroups before and after differ:" >&2
		diff <(echo "$BEFORE") <(cgroups_snapshot) >&2
		return 1
	}
}

@test "vm limits: a memory hog in a 32 MiB container is OOM-killed and reported" {
	# dd's 64 MiB buffer cannot fit in 32 MiB (and swap is off).
	run "$BERTH" container run --rootfs "$ROOTFS" --name vm-oom --memory 32 \
		-- dd if=/dev/zero of=/dev/null bs=64M count=4
	echo "$output"
	[ "$status" -eq 137 ]
	[[ "$output" == *"OutOfMemoryError: Container killed due to memory usage"* ]]
	no_cgroup_left vm-oom
}

@test "vm limits: an OOM kill of a child is reported, pid 1 keeps its own exit code" {
	run "$BERTH" container run --rootfs "$ROOTFS" --name vm-oom-child --memory 32 \
		-- sh -c 'dd if=/dev/zero of=/dev/null bs=64M count=4; echo dd=$?; exit 3'
	echo "$output"
	[ "$status" -eq 3 ]
	[[ "$output" == *"dd=137"* ]]
	[[ "$output" == *"OutOfMemoryError: Container killed due to memory usage"* ]]
	no_cgroup_left vm-oom-child
}

@test "vm limits: exit status 137 without an OOM kill is not reported as OutOfMemoryError" {
	run "$BERTH" container run --rootfs "$ROOTFS" --name vm-kill --memory 32 \
		-- sh -c 'exit 137'
	echo "$output"
	[ "$status" -eq 137 ]
	[[ "$output" != *OutOfMemoryError* ]]
	no_cgroup_left vm-kill
}

@test "vm limits: a busy loop under --cpu-limit 256 is throttled to 0.25 CPU" {
	start_container vm-cpu --cpu-limit 256 -- \
		sh -c "sh -c 'while :; do :; done' & $STOP_WAIT; kill \$!"
	wait_populated vm-cpu
	local cg=$CG_PARENT/vm-cpu u0 u1 t0 t1 thr
	[ "$(cat "$cg/cpu.max")" = "25000 100000" ]
	sleep 0.5
	read -r t0 _ < /proc/uptime
	u0=$(cg_stat "$cg/cpu.stat" usage_usec)
	sleep 2
	read -r t1 _ < /proc/uptime
	u1=$(cg_stat "$cg/cpu.stat" usage_usec)
	thr=$(cg_stat "$cg/cpu.stat" nr_throttled)
	stop_container
	echo "$CONTAINER_OUTPUT"
	# CPU used per wall second; the quota is 0.25, the tolerance +-30%.
	local ratio
	ratio=$(awk -v u0="$u0" -v u1="$u1" -v t0="$t0" -v t1="$t1" \
		'BEGIN { printf "%.3f", (u1 - u0) / 1e6 / (t1 - t0) }')
	echo "# cpu: used $((u1 - u0)) us over $t0..$t1 s: $ratio CPU, nr_throttled $thr" >&3
	[ "$thr" -gt 0 ]
	awk -v r="$ratio" 'BEGIN { exit !(r >= 0.175 && r <= 0.325) }'
	[ "$CONTAINER_STATUS" -eq 0 ]
	no_cgroup_left vm-cpu
}

@test "vm limits: a fork bomb stops at --pids 64" {
	# The bomb's shell dies when fork fails; PID 1 then reports with builtins.
	start_container vm-pids --pids 64 -- sh -c '
		sh -c "i=0; while :; do sleep 1000 & i=\$((i + 1)); echo \$i > /.forks; done" 2> /.bomb.err
		while read -r l; do echo "bomb: $l"; done < /.bomb.err
		read -r n < /.forks; echo "forks: $n"
		'"$STOP_WAIT"
	wait_populated vm-pids
	local cg=$CG_PARENT/vm-pids cur max i
	# Wait for the bomb to hit the limit (bounded).
	for ((i = 0; i < 600; i++)); do
		max=$(cg_stat "$cg/pids.events" max)
		[ "$max" -gt 0 ] && break
		sleep 0.1
	done
	cur=$(cat "$cg/pids.current")
	[ "$(cat "$cg/pids.max")" = 64 ]
	stop_container
	echo "$CONTAINER_OUTPUT"
	echo "# pids: pids.current $cur, pids.events max $max" >&3
	[ "$max" -gt 0 ]
	[ "$cur" -le 64 ]
	[ "$cur" -ge 60 ]
	# fork(2) failed with EAGAIN.
	[[ "$CONTAINER_OUTPUT" == *"bomb: "*"Resource temporarily unavailable"* ]]
	local forks
	forks=$(echo "$CONTAINER_OUTPUT" | awk '$1 == "forks:" { print $2 }')
	[ "$forks" -le 62 ]
	[ "$CONTAINER_STATUS" -eq 0 ]
	no_cgroup_left vm-pids
}

@test "vm limits: --memory, --memory-reservation and --cpu land in memory.max, memory.low, cpu.weight" {
	start_container vm-values --memory 48 --memory-reservation 16 --cpu 512 -- \
		sh -c "$STOP_WAIT"
	wait_populated vm-values
	local cg=$CG_PARENT/vm-values
	local mmax mlow weight swap pids
	mmax=$(cat "$cg/memory.max")
	mlow=$(cat "$cg/memory.low")
	weight=$(cat "$cg/cpu.weight")
	swap=$(cat "$cg/memory.swap.max" 2>/dev/null || echo absent)
	pids=$(cat "$cg/pids.max")
	stop_container
	echo "memory.max $mmax memory.low $mlow cpu.weight $weight swap $swap pids $pids"
	[ "$mmax" = $((48 * 1024 * 1024)) ]
	[ "$mlow" = $((16 * 1024 * 1024)) ]
	# 1 + (512 - 2) * 9999 / 262142
	[ "$weight" = 20 ]
	[ "$swap" = 0 ] || [ "$swap" = absent ]
	[ "$pids" = 4096 ]
	[ "$CONTAINER_STATUS" -eq 0 ]
	# Enforced for real: no BERTH_CGROUP_ENFORCE=off, no warning.
	[[ "${CONTAINER_OUTPUT,,}" != *unenforced* ]]
	no_cgroup_left vm-values
}

@test "vm limits: in its cgroup namespace the container sees its own cgroup and limits as the root" {
	# Privileged (no seccomp filter) so it may mount cgroup2 itself: berth
	# does not mount one into containers.
	run "$BERTH" container run --rootfs "$ROOTFS" --name vm-inside --privileged \
		--memory 48 --memory-reservation 16 --cpu 512 --cpu-limit 512 --pids 100 -- sh -c '
		echo "self $(cat /proc/self/cgroup)"
		mount -t cgroup2 cgroup2 /sys/fs/cgroup || exit 1
		for f in memory.max memory.low cpu.weight cpu.max pids.max cgroup.procs; do
			echo "$f $(cat /sys/fs/cgroup/$f)"
		done'
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"self 0::/"* ]]
	[[ "$output" == *"memory.max $((48 * 1024 * 1024))"* ]]
	[[ "$output" == *"memory.low $((16 * 1024 * 1024))"* ]]
	[[ "$output" == *"cpu.weight 20"* ]]
	[[ "$output" == *"cpu.max 50000 100000"* ]]
	[[ "$output" == *"pids.max 100"* ]]
	# PID 1 of the container is in it.
	[[ "$output" == *"cgroup.procs 1"* ]]
	no_cgroup_left vm-inside
}
