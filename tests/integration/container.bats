#!/usr/bin/env bats
# `berth container run` on this host: namespaces, rootfs, mounts, security,
# exit codes, signals, bad input.  Limits are proven in the VM (tests/vm);
# here, on hybrid hosts, runs use BERTH_CGROUP_ENFORCE=off unless a test is
# about enforcement itself.

bats_require_minimum_version 1.5.0

setup_file() {
	: "${BERTH:?set BERTH to the berth binary (tests/run does)}"
	export ROOTFS=${BERTH_TEST_ROOTFS:-$(dirname "$(dirname "$BERTH")")/rootfs}
	"$BATS_TEST_DIRNAME/../fixtures/mkrootfs" "$ROOTFS"
	CGMOUNT=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -1 | cut -d' ' -f5)
	export CGMOUNT
	# Our own parent cgroup, so other suites running at the same time do not
	# disturb the "nothing left behind" checks.
	export BERTH_CGROUP_PARENT=berth-bats-$$
	export BERTH_SECCOMP_CACHE=${BATS_FILE_TMPDIR}/seccomp
}

teardown_file() {
	local i
	for i in $(seq 100); do
		rmdir "$CGMOUNT/$BERTH_CGROUP_PARENT" 2>/dev/null && break
		[ -e "$CGMOUNT/$BERTH_CGROUP_PARENT" ] || break
		sleep 0.05
	done
}

# A failed test may leave a container running: kill it (berth then removes
# its cgroup) so the next test and the parent's removal are not disturbed.
teardown() {
	local d
	for d in "$CGMOUNT/$BERTH_CGROUP_PARENT"/*/; do
		[ -e "$d/cgroup.kill" ] && echo 1 > "$d/cgroup.kill"
	done
	return 0
}

setup() {
	export BERTH_CGROUP_ENFORCE=off
	rm -f "$ROOTFS"/tmp/bats-*
}

# run_c ARGS... : runs a container with the test rootfs; stderr is kept
# apart in $BATS_TEST_TMPDIR/err (the unenforced warning goes there).
run_c() {
	run --separate-stderr "$BERTH" container run --rootfs "$ROOTFS" "$@"
}

host_has_v2_cpu_memory() {
	local c
	c=$(cat "$CGMOUNT/cgroup.controllers")
	[[ " $c " == *" cpu "* && " $c " == *" memory "* ]]
}

# What a failed start could leave behind: cgroups below our parent and
# mounts of the rootfs in the host's mount namespace.
leftovers() {
	ls "$CGMOUNT/$BERTH_CGROUP_PARENT" 2>/dev/null | grep -v '^cgroup\.\|\.pressure$\|^cpu\.\|^memory\.\|^io\.\|^pids\.\|^hugetlb\.' || true
	grep -c -F "$ROOTFS" /proc/self/mountinfo || true
}

# expect_125 ARGS...: exit 125, exactly one line on stderr naming PATTERN
# ($want), nothing on stdout, nothing left behind.
expect_125() {
	local before after
	before=$(leftovers)
	run --separate-stderr "$BERTH" container run "$@"
	after=$(leftovers)
	echo "status=$status stdout=[$output] stderr=[$stderr]"
	[ "$status" -eq 125 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == "berth: error: "* ]]
	[[ "$stderr" == *"$want"* ]]
	[ "$before" = "$after" ]
	[ "$(echo "$after" | tail -1)" = 0 ]
}

@test "the command runs as pid 1 of its own pid namespace" {
	run_c -- /bin/sh -c 'echo $$; ps -o pid= | wc -l'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 1 ]
}

# Descriptors berth holds (the cgroup directory of CLONE_INTO_CGROUP, the
# exec-status pipe) and ones its caller leaked (fd 9 here) must never reach
# a container: with --init pid 1 never execs, so close-on-exec is not enough.
@test "only stdin, stdout and stderr reach the container, with or without --init" {
	run_c --init -- /bin/sh -c 'echo $(ls /proc/1/fd); echo $(ls /proc/self/fd)' 9</dev/null
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "0 1 2" ]
	[ "${lines[1]}" = "0 1 2 3" ]   # 3: ls's own directory
	run_c -- /bin/ls /proc/1/fd 9</dev/null
	[ "$status" -eq 0 ]
	[ "$(echo $output)" = "0 1 2 3" ]
	BERTH_TEST_CLONE_FALLBACK=1 run_c --init -- /bin/ls /proc/1/fd 9</dev/null
	[ "$status" -eq 0 ]
	[ "$(echo $output)" = "0 1 2" ]
}

@test "hostname: --hostname, else the container name" {
	run_c --hostname web-1 -- /bin/hostname
	[ "$status" -eq 0 ]
	[ "$output" = web-1 ]
	run_c --name bats-named -- /bin/hostname
	[ "$output" = bats-named ]
}

@test "env, workdir and default PATH/HOME" {
	run_c --env FOO=bar --env 'SP=a b' --workdir /etc -- /bin/sh -c 'echo "$FOO|$SP|$(pwd)|$PATH|$HOME"'
	[ "$status" -eq 0 ]
	[ "$output" = "bar|a b|/etc|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin|/root" ]
}

@test "mount table: proc, read-only sys, /dev tmpfs, pts, shm, mqueue" {
	run_c -- /bin/cat /proc/self/mounts
	[ "$status" -eq 0 ]
	echo "$output"
	echo "$output" | grep -q '^proc /proc proc rw,nosuid,nodev,noexec'
	echo "$output" | grep -q '^sysfs /sys sysfs ro,nosuid,nodev,noexec'
	echo "$output" | grep -q '^tmpfs /dev tmpfs rw,nosuid'
	echo "$output" | grep -q '^devpts /dev/pts devpts rw,nosuid,noexec.*ptmxmode=666'
	echo "$output" | grep -q '^shm /dev/shm tmpfs rw,nosuid,nodev,noexec'
	echo "$output" | grep -q '^mqueue /dev/mqueue mqueue rw'
	echo "$output" | grep -q '^proc /proc/sys proc ro,'
	# nothing from the host's mount table besides the root
	! echo "$output" | grep -q ' /work\| /sys/fs/cgroup'
}

@test "/dev holds only the standard nodes" {
	run_c -- /bin/sh -c 'echo $(ls /dev); ls -l /dev/ptmx'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero" ]
	[[ "${lines[1]}" == *"/dev/ptmx -> pts/ptmx" ]]
}

@test "masked paths are empty and read-only paths cannot be written" {
	run_c -- /bin/sh -c '
		for p in /proc/keys /proc/timer_list /proc/kcore /proc/sched_debug; do
			[ -e $p ] || continue
			[ -z "$(head -c1 $p)" ] || echo "readable: $p"
		done
		[ -z "$(ls -A /sys/firmware)" ] || echo "listable: /sys/firmware"
		touch /sys/firmware/x 2>/dev/null && echo "writable: /sys/firmware"
		echo 1 > /proc/sys/kernel/ns_last_pid 2>/dev/null && echo "writable: /proc/sys"
		echo h > /proc/sysrq-trigger 2>/dev/null && echo "writable: /proc/sysrq-trigger"
		echo done'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "$output" = done ]
}

@test "default security: CapEff is the 14 default capabilities, NoNewPrivs 1, Seccomp 2" {
	run_c -- /bin/sh -c 'grep -E "^(CapEff|CapBnd|CapPrm|NoNewPrivs|Seccomp):" /proc/self/status'
	[ "$status" -eq 0 ]
	echo "$output"
	# CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID SETUID SETPCAP
	# NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP
	[[ "$output" == *"CapEff:	00000000a80425fb"* ]]
	[[ "$output" == *"CapBnd:	00000000a80425fb"* ]]
	[[ "$output" == *"CapPrm:	00000000a80425fb"* ]]
	[[ "$output" == *"NoNewPrivs:	1"* ]]
	[[ "$output" == *"Seccomp:	2"* ]]
}

@test "--cap-drop and --cap-add change the set; --privileged gets them all, no filter" {
	run_c --cap-drop CHOWN --cap-drop cap_net_raw --cap-add SYS_PTRACE -- /bin/grep CapEff /proc/self/status
	[ "$output" = "CapEff:	00000000a80c05fa" ]
	run_c --privileged -- /bin/grep -E '^(CapEff|Seccomp):' /proc/self/status
	[[ "$output" == *"Seccomp:	0"* ]]
	[[ "$output" == *"CapEff:	$(grep CapBnd /proc/self/status | cut -f2)"* ]]
}

@test "blocked syscalls fail with EPERM: unshare -n, mount" {
	run_c -- /bin/sh -c 'unshare -n true; echo "unshare=$?"; mount -t tmpfs none /mnt; echo "mount=$?"'
	echo "$output $stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *"unshare=1"* ]]
	[[ "$output" == *"mount=1"* ]]
	[[ "$stderr" == *"unshare("*"Operation not permitted"* ]]
}

@test "--net none: only lo, up; --net host: the host's links" {
	run_c -- /bin/sh -c 'echo $(ls /sys/class/net); ip -o link show lo'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "lo" ]
	[[ "${lines[1]}" == *"<LOOPBACK,UP,LOWER_UP>"* ]]
	run_c --net host -- /bin/ls /sys/class/net
	[ "$status" -eq 0 ]
	[ "$(echo "$output" | sort)" = "$(ls /sys/class/net | sort)" ]
}

@test "--cap-add NET_ADMIN can add a link in its own netns; the default cannot" {
	run_c -- ip link add bv0 type veth peer name bv1
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Operation not permitted"* ]]
	run_c --cap-add NET_ADMIN -- /bin/sh -c 'ip link add bv0 type veth peer name bv1 && ip -o link show bv0'
	[ "$status" -eq 0 ]
	[[ "$output" == *"bv0@"* ]]
	! ip link show bv0 2>/dev/null   # it stayed in the container's netns
}

@test "--read-only: the root cannot be written, /dev/shm can" {
	run_c --read-only -- /bin/sh -c 'touch /tmp/bats-ro; echo "root=$?"; touch /dev/shm/x; echo "shm=$?"'
	[ "$status" -eq 0 ]
	[[ "$output" == *"root=1"* ]]
	[[ "$output" == *"shm=0"* ]]
	[ ! -e "$ROOTFS/tmp/bats-ro" ]
	run_c -- /bin/sh -c 'touch /tmp/bats-rw && echo ok'
	[ "$output" = ok ]
}

@test "--user: names and ids from the rootfs, supplementary groups cleared" {
	run_c --user test -- /bin/sh -c 'id; grep Groups /proc/self/status'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "uid=1000(test) gid=1000(test)" ]
	[ "$(echo "${lines[1]}" | tr -d ' \t')" = "Groups:" ]
	run_c --user nobody:staff -- id
	[ "$output" = "uid=65534(nobody) gid=50(staff)" ]
	run_c --user 1234:4321 -- id -u
	[ "$output" = 1234 ]
	run_c --user 1000 -- id -g
	[ "$output" = 1000 ]
	# without capabilities the user's own identity decides
	run_c --user test --cap-drop ALL -- /bin/sh -c 'touch /root/x'
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Permission denied"* ]]
}

@test "--ulimit sets the container's rlimits" {
	run_c --ulimit nofile=123:456 -- /bin/sh -c 'ulimit -n; ulimit -Hn'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = 123 ]
	[ "${lines[1]}" = 456 ]
}

# rlimits are set before the user switch (policy.h's order, as runc does), so
# the kernel checks the new user against RLIMIT_NPROC at the switch: a user
# already over the limit cannot start the container's command.
@test "--ulimit nproc counts the --user processes already running" {
	setpriv --reuid 4321 --regid 4321 --clear-groups sleep 100 3>&- &
	local p1=$!
	setpriv --reuid 4321 --regid 4321 --clear-groups sleep 100 3>&- &
	local p2=$!
	for _ in $(seq 100); do [ "$(pgrep -u 4321 -c sleep)" -ge 2 ] && break; sleep 0.05; done
	run_c --user 4321 --ulimit nproc=1 -- /bin/true
	local st1=$status err1=$stderr
	run_c --user 4321 --ulimit nproc=10 -- /bin/true
	local st2=$status
	kill "$p1" "$p2"
	wait "$p1" "$p2" || true
	echo "$st1 $err1"
	[ "$st1" -eq 125 ]
	[[ "$err1" == *"Resource temporarily unavailable"* ]]
	[ "$st2" -eq 0 ]
}

@test "exit status is the container's" {
	run_c -- /bin/sh -c 'exit 42'
	[ "$status" -eq 42 ]
	run_c -- /bin/false
	[ "$status" -eq 1 ]
	run_c -- /bin/true
	[ "$status" -eq 0 ]
}

@test "killed by signal N: exit 128+N, and no OOM is claimed" {
	"$BERTH" container run --rootfs "$ROOTFS" --name "bats-kill-$$" -- /bin/sleep 100 \
		>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	local pid=$! procs="$CGMOUNT/$BERTH_CGROUP_PARENT/bats-kill-$$/cgroup.procs" c=""
	for _ in $(seq 500); do
		c=$(head -1 "$procs" 2>/dev/null) && [ -n "$c" ] && break
		sleep 0.01
	done
	[ -n "$c" ]
	kill -KILL "$c"
	local st=0
	wait "$pid" || st=$?
	[ "$st" -eq 137 ]
	! grep -q OutOfMemoryError "$BATS_TEST_TMPDIR/out"
	[ ! -e "$CGMOUNT/$BERTH_CGROUP_PARENT/bats-kill-$$" ]
}

@test "signals the caller ignored, realtime ones included, are not ignored in the container" {
	run env --ignore-signal=USR1 --ignore-signal=RTMIN+3 --ignore-signal=RTMAX \
		"$BERTH" container run --rootfs "$ROOTFS" -- /bin/grep -E 'Sig(Ign|Blk|Cgt)' /proc/self/status
	echo "$output"
	grep SigIgn /proc/$$/status
	[ "$status" -eq 0 ]
	[[ "$output" == *$'SigIgn:\t0000000000000000'* ]]
}

@test "signals 32 and 33 (glibc's own) the caller ignored are not ignored in the container" {
	local ign=$BATS_TEST_TMPDIR/ignore_glibc_signals
	cc -o "$ign" "$BATS_TEST_DIRNAME/../fixtures/ignore_glibc_signals.c"
	run "$ign" grep SigIgn /proc/self/status
	[[ "$output" == *$'SigIgn:\t0000000180000000'* ]]
	run "$ign" "$BERTH" container run --rootfs "$ROOTFS" -- /bin/grep SigIgn /proc/self/status
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *$'SigIgn:\t0000000000000000'* ]]
}

@test "TERM sent to berth reaches the container's pid 1" {
	"$BERTH" container run --rootfs "$ROOTFS" -- /bin/sh -c \
		'trap "echo got-TERM; exit 3" TERM; touch /tmp/bats-ready; sleep 100 & wait' \
		>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	local pid=$!
	for _ in $(seq 500); do [ -e "$ROOTFS/tmp/bats-ready" ] && break; sleep 0.01; done
	[ -e "$ROOTFS/tmp/bats-ready" ]
	kill -TERM "$pid"
	local st=0
	wait "$pid" || st=$?
	cat "$BATS_TEST_TMPDIR/out"
	[ "$st" -eq 3 ]
	grep -q got-TERM "$BATS_TEST_TMPDIR/out"
}

@test "USR1 and HUP are forwarded too" {
	"$BERTH" container run --rootfs "$ROOTFS" -- /bin/sh -c \
		'trap "echo usr1" USR1; trap "echo hup; exit 5" HUP; touch /tmp/bats-ready; while :; do sleep 0.05; done' \
		>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- &
	local pid=$!
	for _ in $(seq 500); do [ -e "$ROOTFS/tmp/bats-ready" ] && break; sleep 0.01; done
	kill -USR1 "$pid"
	for _ in $(seq 500); do grep -q usr1 "$BATS_TEST_TMPDIR/out" && break; sleep 0.01; done
	kill -HUP "$pid"
	local st=0
	wait "$pid" || st=$?
	[ "$st" -eq 5 ]
	grep -q usr1 "$BATS_TEST_TMPDIR/out"
}

@test "the cgroup is gone after the run" {
	local before
	before=$(leftovers)
	run_c --name "bats-gone-$$" -- /bin/true
	[ "$status" -eq 0 ]
	[ ! -e "$CGMOUNT/$BERTH_CGROUP_PARENT/bats-gone-$$" ]
	[ "$(leftovers)" = "$before" ]
}

@test "the container runs in its own cgroup below berth's parent, in a cgroup namespace" {
	"$BERTH" container run --rootfs "$ROOTFS" --name "bats-cg-$$" -- /bin/sh -c \
		'cat /proc/self/cgroup > /tmp/bats-cg; touch /tmp/bats-ready; sleep 100' >/dev/null 2>&1 3>&- &
	local pid=$! dir="$CGMOUNT/$BERTH_CGROUP_PARENT/bats-cg-$$"
	for _ in $(seq 500); do [ -e "$ROOTFS/tmp/bats-ready" ] && break; sleep 0.01; done
	[ -n "$(cat "$dir/cgroup.procs")" ]
	grep -qx '0::/' "$ROOTFS/tmp/bats-cg"
	kill -KILL "$(head -1 "$dir/cgroup.procs")"
	local st=0
	wait "$pid" || st=$?
	[ "$st" -eq 137 ]
	[ ! -e "$dir" ]
}

@test "without CLONE_INTO_CGROUP (older kernels) the container still lands in its cgroup" {
	BERTH_TEST_CLONE_FALLBACK=1 "$BERTH" container run --rootfs "$ROOTFS" --name "bats-fb-$$" -- /bin/sh -c \
		'cat /proc/self/cgroup > /tmp/bats-cg; echo $$ > /tmp/bats-pid; touch /tmp/bats-ready; sleep 100' >/dev/null 2>&1 3>&- &
	local pid=$! dir="$CGMOUNT/$BERTH_CGROUP_PARENT/bats-fb-$$" st=0
	for _ in $(seq 500); do [ -e "$ROOTFS/tmp/bats-ready" ] && break; sleep 0.01; done
	[ -n "$(cat "$dir/cgroup.procs")" ]
	grep -qx '0::/' "$ROOTFS/tmp/bats-cg"
	[ "$(cat "$ROOTFS/tmp/bats-pid")" = 1 ]
	kill -KILL "$(head -1 "$dir/cgroup.procs")"
	wait "$pid" || st=$?
	[ "$st" -eq 137 ]
	[ ! -e "$dir" ]
}

# The fallback child waits on a pipe for berth to move it into its cgroup.
# berth killed right then (the preload kills it instead of the release
# write) must not leave the child blocked forever: it holds no write end of
# that pipe and has its parent-death signal set before it waits.
@test "clone fallback: berth killed before it releases the child leaves no process" {
	local so=$BATS_TEST_TMPDIR/die_on_release.so name=bats-fb-$$
	cc -shared -fPIC -o "$so" "$BATS_TEST_DIRNAME/../fixtures/die_on_release.c" -ldl
	local cg=$CGMOUNT/$BERTH_CGROUP_PARENT/$name
	local st=0   # output to a file: a hung child must not hang the test
	env BERTH_TEST_CLONE_FALLBACK=1 LD_PRELOAD="$so" ASAN_OPTIONS=verify_asan_link_order=0 \
		"$BERTH" container run --rootfs "$ROOTFS" --name "$name" -- /bin/touch /tmp/bats-ran \
		>"$BATS_TEST_TMPDIR/out" 2>&1 3>&- || st=$?
	[ "$st" -eq 137 ]          # berth itself was killed, at the release
	[ -d "$cg" ]               # ... after it had moved the child in
	local procs=x
	for _ in $(seq 100); do
		procs=$(cat "$cg/cgroup.procs")
		[ -z "$procs" ] && break
		sleep 0.05
	done
	echo "left in the cgroup: [$procs]"
	if [ -n "$procs" ]; then     # the bug: clean up, then fail
		echo 1 > "$cg/cgroup.kill"
		for _ in $(seq 100); do rmdir "$cg" 2>/dev/null && break; sleep 0.05; done
		return 1
	fi
	rmdir "$cg"
	[ ! -e "$ROOTFS/tmp/bats-ran" ]
}

@test "limits are written when the controllers exist" {
	host_has_v2_cpu_memory || skip "cgroup v2 here lacks cpu/memory (the VM suite covers this)"
	local dir="$CGMOUNT/$BERTH_CGROUP_PARENT/bats-lim-$$"
	"$BERTH" container run --rootfs "$ROOTFS" --name "bats-lim-$$" --cpu 1024 --cpu-limit 256 \
		--memory 64 --memory-reservation 32 --pids 100 -- /bin/sh -c 'touch /tmp/bats-ready; sleep 100' \
		>/dev/null 2>&1 3>&- &
	local pid=$!
	for _ in $(seq 500); do [ -e "$ROOTFS/tmp/bats-ready" ] && break; sleep 0.01; done
	[ "$(cat "$dir/cpu.weight")" = 39 ]
	[ "$(cat "$dir/cpu.max")" = "25000 100000" ]
	[ "$(cat "$dir/memory.max")" = 67108864 ]
	[ "$(cat "$dir/memory.low")" = 33554432 ]
	[ "$(cat "$dir/pids.max")" = 100 ]
	[ ! -e "$dir/memory.swap.max" ] || [ "$(cat "$dir/memory.swap.max")" = 0 ]
	kill -KILL "$(head -1 "$dir/cgroup.procs")"
	wait "$pid" || true
}

@test "without cpu+memory in cgroup v2 the run is refused with the fix named" {
	host_has_v2_cpu_memory && skip "this host has cpu and memory in cgroup v2"
	unset BERTH_CGROUP_ENFORCE
	want="lacks the" expect_125 --rootfs "$ROOTFS" -- /bin/true
	[[ "$stderr" == *"systemd.unified_cgroup_hierarchy=1"* ]]
	[[ "$stderr" == *'rc_cgroup_mode="unified"'* ]]
	[[ "$stderr" == *"cgroup_no_v1=all"* ]]
	[[ "$stderr" == *"--cgroup-enforce=off"* ]]
	grep -q ' - cgroup .*[,]memory' /proc/self/mountinfo && [[ "$stderr" == *"cgroup v1 holds them"* ]]
	want="lacks the" BERTH_CGROUP_ENFORCE=on expect_125 --rootfs "$ROOTFS" -- /bin/true
}

@test "unenforced runs warn on every start and still run" {
	host_has_v2_cpu_memory && skip "this host has cpu and memory in cgroup v2"
	run_c --memory 64 -- /bin/echo hi
	[ "$status" -eq 0 ]
	[ "$output" = hi ]
	[[ "$stderr" == *"warning:"*"UNENFORCED"* ]]
	unset BERTH_CGROUP_ENFORCE
	run_c --cgroup-enforce=off -- /bin/true
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"UNENFORCED"* ]]
}

@test "the compiled seccomp profile is cached in \$BERTH_RUN_DIR/seccomp" {
	local run=$BATS_TEST_TMPDIR/run
	BERTH_SECCOMP_CACHE= run_c -- /bin/true   # "": no cache at all
	[ "$status" -eq 0 ]
	( unset BERTH_SECCOMP_CACHE; BERTH_RUN_DIR=$run run_c -- /bin/true; [ "$status" -eq 0 ] )
	ls "$run/seccomp"
	[ "$(ls "$run/seccomp" | grep -c '\.bpf$')" -eq 1 ]
	[ "$(stat -c %a "$run/seccomp")" = 700 ]
	want="BERTH_RUN_DIR 'rel/dir': must be an absolute path"
	( unset BERTH_SECCOMP_CACHE; BERTH_RUN_DIR=rel/dir expect_125 --rootfs "$ROOTFS" -- /bin/true )
}

# host mounts below DIR in our (the host's) mount namespace
host_mounts_below() {
	grep -c " $1" /proc/self/mountinfo || true
}

@test "--volume SRC:DST binds a host path both ways; :ro is EROFS inside; nothing stays mounted" {
	export BERTH_STATE_DIR=$BATS_TEST_TMPDIR/state
	local h=$BATS_TEST_TMPDIR/host
	mkdir -p "$h"
	echo from-host > "$h/in"
	rmdir "$ROOTFS/data" "$ROOTFS/ro" "$ROOTFS/made" 2>/dev/null || true
	run_c --volume "$h:/data" --volume "$h:/ro:ro" --volume "$BATS_TEST_TMPDIR/new:/made" -- /bin/sh -c \
		'cat /data/in; echo from-ctr > /data/out; echo x > /ro/x 2>/dev/null || echo ro-refused;
		 touch /made/f && echo made; grep -E " /ro " /proc/self/mountinfo'
	echo "$output"
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = from-host ]
	[ "${lines[1]}" = ro-refused ]
	[ "${lines[2]}" = made ]
	[[ "${lines[3]}" == *" /ro ro,"* ]]
	[ "$(cat "$h/out")" = from-ctr ]
	[ ! -e "$h/x" ]
	[ -e "$BATS_TEST_TMPDIR/new/f" ]             # a missing SRC is created, as ECS/docker
	run_c --volume "$h:/ro:ro" -- /bin/touch /ro/y
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"Read-only file system"* ]]
	[ "$(host_mounts_below "$BATS_TEST_TMPDIR")" -eq 0 ]
	[ "$(host_mounts_below "$ROOTFS")" -eq 0 ]
	rmdir "$ROOTFS/data" "$ROOTFS/ro" "$ROOTFS/made"   # mount points the run created
}

@test "--volume: a DST that is a symlink out of the rootfs is resolved inside it" {
	export BERTH_STATE_DIR=$BATS_TEST_TMPDIR/state
	local h=$BATS_TEST_TMPDIR/host victim=$BATS_TEST_TMPDIR/victim
	mkdir -p "$h" "$victim"
	echo vol > "$h/v"
	echo keep > "$victim/keep"
	rm -rf "$ROOTFS/bats-evil" "$ROOTFS/bats-evil2" "$ROOTFS/tmp/bats-run-"*
	ln -s "$victim" "$ROOTFS/bats-evil"                    # absolute
	ln -s "../../../../../../../..$victim" "$ROOTFS/bats-evil2"   # climbing out
	run_c --volume "$h:/bats-evil" --volume "$h:/bats-evil2/sub" -- /bin/sh -c \
		'cat /bats-evil/v /bats-evil2/sub/v; echo w > /bats-evil/w'
	local st=$status out=$output
	rm -rf "$ROOTFS/bats-evil" "$ROOTFS/bats-evil2" "$ROOTFS/tmp/bats-run-"*
	echo "$out"
	[ "$st" -eq 0 ]
	[ "$out" = $'vol\nvol' ]
	[ "$(cat "$h/w")" = w ]
	[ "$(ls -A "$victim")" = keep ]                         # the host path untouched
	[ "$(host_mounts_below "$BATS_TEST_TMPDIR")" -eq 0 ]
}

@test "--shm-size sets the size of /dev/shm (default 64 MiB)" {
	run_c --shm-size 16 -- /bin/sh -c 'df -k /dev/shm | tail -1'
	[ "$status" -eq 0 ]
	[[ "$output" == "shm "*" 16384 "* ]]
	run_c -- /bin/sh -c 'df -k /dev/shm | tail -1'
	[[ "$output" == "shm "*" 65536 "* ]]
}

@test "--volume bad input: one line, exit 125, nothing mounted" {
	export BERTH_STATE_DIR=$BATS_TEST_TMPDIR/state
	local h=$BATS_TEST_TMPDIR/host
	mkdir -p "$h"
	want="SRC must be an absolute host path" expect_125 --rootfs "$ROOTFS" --volume rel:/d -- /bin/true
	want="must be SRC:DST[:ro]" expect_125 --rootfs "$ROOTFS" --volume "$h" -- /bin/true
	want="the mode must be 'ro' or 'rw'" expect_125 --rootfs "$ROOTFS" --volume "$h:/d:rx" -- /bin/true
	want="sourcePath '$h/../etc'" expect_125 --rootfs "$ROOTFS" --volume "$h/../etc:/d" -- /bin/true
	want="containerPath" expect_125 --rootfs "$ROOTFS" --volume "$h:rel" -- /bin/true
	want="sourcePath '/etc' is outside BERTH_HOST_VOLUME_ROOTS" BERTH_HOST_VOLUME_ROOTS=$h expect_125 --rootfs "$ROOTFS" --volume /etc:/d -- /bin/true
	want="--shm-size '0'" expect_125 --rootfs "$ROOTFS" --shm-size 0 -- /bin/true
	[ "$(host_mounts_below "$BATS_TEST_TMPDIR")" -eq 0 ]
	[ -z "$(ls -A "$h")" ]
}

@test "bad input: missing rootfs" {
	want="rootfs '/nonexistent-bats': No such file or directory" expect_125 --rootfs /nonexistent-bats -- /bin/true
}

@test "bad input: missing command" {
	want="command '/bin/nope' not found" expect_125 --rootfs "$ROOTFS" -- /bin/nope
	want="command 'nope' not found" expect_125 --rootfs "$ROOTFS" -- nope
}

@test "bad input: non-executable command" {
	want="command '/etc/passwd' is not executable" expect_125 --rootfs "$ROOTFS" -- /etc/passwd
	want="command '/etc' is not executable" expect_125 --rootfs "$ROOTFS" -- /etc
}

@test "bad input: unknown capability" {
	want="'NOT_A_CAP'" expect_125 --rootfs "$ROOTFS" --cap-add NOT_A_CAP -- /bin/true
	want="'CAP_BOGUS'" expect_125 --rootfs "$ROOTFS" --cap-drop CAP_BOGUS -- /bin/true
}

@test "bad input: memory below 6 MiB, reservation not below memory" {
	want="--memory '5'" expect_125 --rootfs "$ROOTFS" --memory 5 -- /bin/true
	want="--memory '0'" expect_125 --rootfs "$ROOTFS" --memory 0 -- /bin/true
	want="--memory-reservation" expect_125 --rootfs "$ROOTFS" --memory 64 --memory-reservation 64 -- /bin/true
}

@test "bad input: cpu out of range" {
	want="--cpu '10241'" expect_125 --rootfs "$ROOTFS" --cpu 10241 -- /bin/true
	want="--cpu '-1'" expect_125 --rootfs "$ROOTFS" --cpu -1 -- /bin/true
	want="--cpu '1.5'" expect_125 --rootfs "$ROOTFS" --cpu 1.5 -- /bin/true
	want="--cpu-limit '0'" expect_125 --rootfs "$ROOTFS" --cpu-limit 0 -- /bin/true
}

@test "bad input: user, workdir, ulimit, options" {
	want="user 'ghost' not found" expect_125 --rootfs "$ROOTFS" --user ghost -- /bin/true
	want="group 'ghosts' not found" expect_125 --rootfs "$ROOTFS" --user test:ghosts -- /bin/true
	want="workdir '/nope'" expect_125 --rootfs "$ROOTFS" --workdir /nope -- /bin/true
	want="ulimit" expect_125 --rootfs "$ROOTFS" --ulimit nofile=1:99999999999 -- /bin/true
	want="unknown option '--frobnicate'" expect_125 --rootfs "$ROOTFS" --frobnicate -- /bin/true
	want="give either --rootfs or --image" expect_125 -- /bin/true
	want="no command given" expect_125 --rootfs "$ROOTFS"
	want="--net 'bridge'" expect_125 --rootfs "$ROOTFS" --net bridge -- /bin/true
}

@test "a name in use is refused and the running container is untouched" {
	"$BERTH" container run --rootfs "$ROOTFS" --name "bats-dup-$$" -- /bin/sh -c \
		'touch /tmp/bats-ready; sleep 100' >/dev/null 2>&1 3>&- &
	local pid=$! dir="$CGMOUNT/$BERTH_CGROUP_PARENT/bats-dup-$$"
	for _ in $(seq 500); do [ -e "$ROOTFS/tmp/bats-ready" ] && break; sleep 0.01; done
	run --separate-stderr "$BERTH" container run --rootfs "$ROOTFS" --name "bats-dup-$$" -- /bin/true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"already exists"* ]]
	[ -n "$(cat "$dir/cgroup.procs")" ]
	kill -KILL "$(head -1 "$dir/cgroup.procs")"
	local st=0
	wait "$pid" || st=$?
	[ ! -e "$dir" ]
}
