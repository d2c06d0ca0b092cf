#!/usr/bin/env bats
# A task run by `berth daemon` under a pure cgroup v2 (issue 5, Tests: OOM):
# the daemon with a state of its own, an image loaded with `berth image
# load`, the API over its unix socket through the berth CLI.  A container
# over its `memory` is OOM-killed and DescribeTasks says so as ECS does.

load helpers

setup_file() {
	require_vm
	# a one-layer OCI layout of the VM's busybox rootfs, made here by hand
	# (tar and sha256sum: cheap under TCG, unlike umoci)
	local oci=$BATS_FILE_TMPDIR/oci b=$BATS_FILE_TMPDIR/oci/blobs/sha256 layer config manifest
	mkdir -p "$b"
	tar -C "${BERTH_VM_ROOTFS:?}" --owner=0 --group=0 -cf "$BATS_FILE_TMPDIR/layer.tar" .
	layer=$(sha256sum "$BATS_FILE_TMPDIR/layer.tar" | cut -d' ' -f1)
	mv "$BATS_FILE_TMPDIR/layer.tar" "$b/$layer"
	jq -nc --arg l "sha256:$layer" '{architecture: "amd64", os: "linux",
		config: {Entrypoint: ["/bin/sh", "-c"], Cmd: ["true"]},
		rootfs: {type: "layers", diff_ids: [$l]}}' > "$BATS_FILE_TMPDIR/config"
	config=$(sha256sum "$BATS_FILE_TMPDIR/config" | cut -d' ' -f1)
	jq -nc --arg c "sha256:$config" --argjson cs "$(stat -c %s "$BATS_FILE_TMPDIR/config")" \
		--arg l "sha256:$layer" --argjson ls "$(stat -c %s "$b/$layer")" \
		'{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
		  config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
		  layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' \
		> "$BATS_FILE_TMPDIR/manifest"
	mv "$BATS_FILE_TMPDIR/config" "$b/$config"
	manifest=$(sha256sum "$BATS_FILE_TMPDIR/manifest" | cut -d' ' -f1)
	jq -nc --arg m "sha256:$manifest" --argjson ms "$(stat -c %s "$BATS_FILE_TMPDIR/manifest")" \
		'{schemaVersion: 2, manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json",
		  digest: $m, size: $ms, annotations: {"org.opencontainers.image.ref.name": "v1"}}]}' \
		> "$oci/index.json"
	mv "$BATS_FILE_TMPDIR/manifest" "$b/$manifest"
	echo '{"imageLayoutVersion":"1.0.0"}' > "$oci/oci-layout"
	export OCI=$oci
}

setup() {
	require_vm
	D=$BATS_TEST_TMPDIR
	SOCK=$D/run/api.sock
	mkdir -p "$D/state" "$D/run"
	cat > "$D/berth.conf" <<-EOF
		BERTH_STATE_DIR=$D/state
		BERTH_RUN_DIR=$D/run
		BERTH_API_SOCKET=$SOCK
		BERTH_IMAGE_PULL_BEHAVIOR=prefer-cached
		BERTH_CONTAINER_STOP_TIMEOUT=2s
		BERTH_TASK_CLEANUP_WAIT=1s
	EOF
	BERTH_STATE_DIR=$D/state "$BERTH" image load --name localhost/app:v1 "$OCI" >/dev/null
	env -i PATH="$PATH" "$BERTH" daemon --config "$D/berth.conf" > "$D/daemon.log" 2>&1 &
	DAEMON=$!
	for ((i = 0; i < 600; i++)); do
		[ -S "$SOCK" ] && b list-clusters >/dev/null 2>&1 && return 0
		kill -0 "$DAEMON" || break
		sleep 0.1
	done
	cat "$D/daemon.log" >&2
	return 1
}

teardown() {
	local f
	for f in "$D"/run/tasks/*/shim.pid; do
		[ -e "$f" ] && [ ! -e "$(dirname "$f")/exited" ] && kill -TERM "$(cat "$f")" 2>/dev/null
	done
	if [ -n "${DAEMON:-}" ]; then
		kill -TERM "$DAEMON" 2>/dev/null
		wait "$DAEMON" 2>/dev/null
	fi
	[ -n "${BATS_TEST_COMPLETED:-}" ] || tail -n 20 "$D/daemon.log" | sed 's/^/# daemon: /' >&3
	grep -o " $D/[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
	return 0
}

b() {
	"$BERTH" "$@" --endpoint "unix://$SOCK"
}

describe() {
	b describe-tasks --tasks "$1" | jq -c '.tasks[0]'
}

@test "vm daemon: a container over its memory is OOM-killed: DescribeTasks shows OutOfMemoryError and 137" {
	b register-task-definition --family oom --network-mode none --container-definitions \
		'[{"name":"hog","image":"localhost/app:v1","memory":32,"command":["dd if=/dev/zero of=/dev/null bs=64M count=4"]},
		  {"name":"side","image":"localhost/app:v1","memory":16,"essential":false,"command":["exec sleep 600"],
		   "linuxParameters":{"initProcessEnabled":true}}]' >/dev/null
	t=$(b run-task --task-definition oom | jq -er '.tasks[0].taskArn')
	for ((i = 0; i < 600; i++)); do
		[ "$(describe "$t" | jq -r .lastStatus)" = STOPPED ] && break
		sleep 0.1
	done
	d=$(describe "$t")
	run jq -r '.lastStatus, .stopCode, (.containers[] | select(.name == "hog") | .exitCode, .reason)' <<<"$d"
	[ "$output" = $'STOPPED\nEssentialContainerExited\n137\nOutOfMemoryError: Container killed due to memory usage' ]
	# the other container was stopped by the task, not by the OOM killer
	run jq -r '.containers[] | select(.name == "side") | .exitCode, .reason' <<<"$d"
	[ "$output" = $'143\nnull' ]
	# and its cgroups are gone
	id=${t##*/}
	for ((i = 0; i < 100; i++)); do [ -e "$D/run/tasks/$id/exited" ] && break; sleep 0.1; done
	[ ! -e "/sys/fs/cgroup/berth/tasks/$id" ]
}
