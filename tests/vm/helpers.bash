# shellcheck shell=bash disable=SC2034  # variables the .bats files read
# Shared by tests/vm/*.bats.  These run only inside the VM that tests/vm/run
# boots: there the machine has a pure cgroup v2 and nothing of the host's
# state survives the boot.

# require_vm: refuses to run on the host (whose cgroups are hybrid).
require_vm() {
	if [ "${BERTH_VM:-}" != 1 ]; then
		echo "this test runs inside the VM only: tests/vm/run" >&2
		return 1
	fi
}

# The cgroup berth puts containers under (cgroup/cgroup.h CG_DEFAULT_PARENT).
CG_PARENT=/sys/fs/cgroup/${BERTH_CGROUP_PARENT:-berth}

# make_rootfs: the busybox-static rootfs every container here runs in, one
# copy per file in ROOTFS (tmpfs).  tests/vm/run builds it on the host:
# mkrootfs forks once per applet, which is slow under TCG.
make_rootfs() {
	ROOTFS=$BATS_FILE_TMPDIR/rootfs
	if [ -n "${BERTH_VM_ROOTFS:-}" ]; then
		cp -a "$BERTH_VM_ROOTFS" "$ROOTFS"
	else
		"$BERTH_ROOT/tests/fixtures/mkrootfs" "$ROOTFS"
	fi
	export ROOTFS
}

# start_container NAME [OPTIONS...] -- CMD...: runs berth in the background
# with the container named NAME; its output goes to $BATS_TEST_TMPDIR/NAME.out
# and its pid to CONTAINER_PID.  The command should end by itself or wait for
# stop_container (see STOP_WAIT).
start_container() {
	local name=$1
	shift
	"$BERTH" container run --rootfs "$ROOTFS" --name "$name" "$@" \
		> "$BATS_TEST_TMPDIR/$name.out" 2>&1 &
	CONTAINER_PID=$!
	CONTAINER_NAME=$name
}

# A shell fragment for the container: waits (with builtins only, so it works
# even when no process can be forked) until stop_container creates /.stop.
STOP_WAIT='while [ ! -e /.stop ]; do :; done'

# stop_container: lets a STOP_WAIT container end, waits for berth, and leaves
# berth's exit status in CONTAINER_STATUS and its output in CONTAINER_OUTPUT.
stop_container() {
	touch "$ROOTFS/.stop"
	CONTAINER_STATUS=0
	wait "$CONTAINER_PID" || CONTAINER_STATUS=$?
	CONTAINER_PID=
	rm -f "$ROOTFS/.stop"
	CONTAINER_OUTPUT=$(cat "$BATS_TEST_TMPDIR/$CONTAINER_NAME.out")
}

# wait_populated NAME: waits (bounded: berth may be slow under TCG and ASan)
# until the container's cgroup holds a process.  Fails if berth exits first.
wait_populated() {
	local cg=$CG_PARENT/$1 i
	for ((i = 0; i < 600; i++)); do
		if grep -qx 'populated 1' "$cg/cgroup.events" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$CONTAINER_PID" 2>/dev/null; then
			echo "berth exited before the container ran:" >&2
			cat "$BATS_TEST_TMPDIR/$1.out" >&2
			return 1
		fi
		sleep 0.1
	done
	echo "the cgroup $cg never got a process" >&2
	return 1
}

# cg_stat FILE KEY: the value of KEY in a flat-keyed cgroup file.
cg_stat() {
	awk -v k="$2" '$1 == k { print $2; found = 1 } END { exit !found }' "$1"
}

# teardown_container: for teardown(); ends a container a failed test left.
teardown_container() {
	if [ -n "${CONTAINER_PID:-}" ]; then
		touch "$ROOTFS/.stop"
		kill "$CONTAINER_PID" 2>/dev/null
		wait "$CONTAINER_PID" 2>/dev/null
		rm -f "$ROOTFS/.stop"
		CONTAINER_PID=
	fi
}

# cgroups_snapshot: every cgroup directory, to prove none leaks.
cgroups_snapshot() {
	# berth's own long-lived cgroups: the parent, and the device-program
	# keeper (runtime/devfilter_keep.c), created once, never per container
	find /sys/fs/cgroup -mindepth 1 -type d | grep -v "^$CG_PARENT\$" |
		grep -v '^/sys/fs/cgroup/berth\.devfilter$' | sort
}
