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
