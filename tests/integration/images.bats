#!/usr/bin/env bats
# Images: load (OCI layout, docker-archive, oci-archive), the overlay rootfs
# file by file, rm/prune with users, hostile images, crash leftovers, and
# pulls from a local docker-registry inside a private network namespace.
# Every test uses its own BERTH_STATE_DIR.

bats_require_minimum_version 1.5.0

setup_file() {
	: "${BERTH:?set BERTH to the berth binary (tests/run does)}"
	export FIX=$BATS_FILE_TMPDIR/images
	"$BATS_TEST_DIRNAME/../fixtures/images/mkimages" "$FIX" >/dev/null
	export CANARY=$BATS_FILE_TMPDIR/canary
	mkdir -p "$CANARY"
	"$BATS_TEST_DIRNAME/../fixtures/images/mkhostile" "$BATS_FILE_TMPDIR/hostile" "$CANARY"
}

setup() {
	export BERTH_STATE_DIR=$BATS_TEST_TMPDIR/state
	export STORE=$BERTH_STATE_DIR/images
	unset BERTH_IMAGE_PULL_BEHAVIOR BERTH_REGISTRY_AUTH BERTH_INSECURE_REGISTRIES
	export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker   # never the host's credentials
	CTR=$BATS_TEST_TMPDIR/ctr
	mkdir -p "$CTR"
}

teardown() {
	# Whatever a failed test left mounted, and crun_img's cgroup parent.
	grep -o " $BATS_TEST_TMPDIR[^ ]*" /proc/self/mountinfo | while read -r m; do umount -l "$m"; done
	local cg
	cg=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -1 | cut -d' ' -f5)
	rmdir "$cg/berth-bats-img-$$" 2>/dev/null
	return 0
}

# check_rootfs DIR: the three-layer test image, file by file.
check_rootfs() {
	local r=$1
	[ -x "$r/bin/busybox" ]
	[ "$(readlink "$r/bin/sh")" = busybox ]
	[ "$(cat "$r/etc/hostname")" = two ]              # changed by layer 3
	[ ! -e "$r/etc/deleteme" ]                        # whiteout in layer 2
	[ "$(ls -A "$r/data")" = c ]                      # opaque dir in layer 3: a, b gone
	[ "$(cat "$r/data/c")" = c ]
	[ -d "$r/tmp" ]
}

# empty DIR...: every DIR exists and is empty.
empty() {
	local d
	for d; do
		[ -d "$d" ] && [ -z "$(ls -A "$d")" ] || { echo "not empty: $d: $(ls -A "$d")"; return 1; }
	done
}

mounted() {
	grep -q " $1 " /proc/self/mountinfo
}

@test "load an OCI layout: named, layers unpacked once, rootfs correct file by file" {
	run "$BERTH" image load --name localhost/app:v1 "$FIX/oci"
	[ "$status" -eq 0 ]
	[[ "$output" == "Loaded image: localhost/app:v1 (sha256:"* ]]
	[ "$(ls "$STORE/layers" | wc -l)" -eq 3 ]
	run "$BERTH" image mount localhost/app:v1 "$CTR"
	[ "$status" -eq 0 ]
	[ "$output" = "$CTR/rootfs" ]
	mounted "$CTR/rootfs"
	check_rootfs "$CTR/rootfs"
	# Writes go to the container's upper dir, never to a shared layer.
	echo x > "$CTR/rootfs/data/new"
	[ -f "$CTR/upper/data/new" ]
	[ -z "$(find "$STORE/layers" -name new)" ]
	run "$BERTH" image umount "$CTR"
	[ "$status" -eq 0 ]
	! mounted "$CTR/rootfs"
	[ -z "$(ls -A "$CTR")" ]
	[ -z "$(ls -A "$STORE/users")" ]
}

@test "layers hold overlay whiteouts and opaque markers, not OCI .wh. files" {
	"$BERTH" image load --name localhost/app:v1 "$FIX/oci"
	[ -z "$(find "$STORE/layers" -name '.wh.*')" ]
	wh=$(find "$STORE/layers" -name deleteme -type c)
	[ -n "$wh" ]
	[ "$(stat -c %t:%T "$wh")" = 0:0 ]
	opq=$(python3 -c 'import os,sys,glob
for d in glob.glob(sys.argv[1] + "/*/data"):
    try: print(os.getxattr(d, "trusted.overlay.opaque").decode())
    except OSError: pass' "$STORE/layers")
	[ "$opq" = y ]
}

@test "load a docker-archive: RepoTags name it, rootfs correct" {
	run "$BERTH" image load "$FIX/app-docker.tar"
	[ "$status" -eq 0 ]
	[[ "$output" == "Loaded image: localhost/app:v1 "* ]]
	"$BERTH" image mount localhost/app:v1 "$CTR"
	check_rootfs "$CTR/rootfs"
	"$BERTH" image umount "$CTR"
	[ -z "$(ls -A "$STORE/tmp")" ]     # the unpacked archive is gone
}

@test "load an oci-archive: ref name names it, same digest as the layout" {
	run "$BERTH" image load "$FIX/app-oci.tar"
	[ "$status" -eq 0 ]
	[[ "$output" == "Loaded image: localhost/app:v1 "* ]]
	d1=$("$BERTH" image inspect localhost/app:v1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
	"$BERTH" image load --name localhost/other:1 "$FIX/oci"
	d2=$("$BERTH" image inspect localhost/other:1 | python3 -c 'import json,sys; print(json.load(sys.stdin)["Id"])')
	[ "$d1" = "$d2" ]
	"$BERTH" image mount "$d1" "$CTR"
	check_rootfs "$CTR/rootfs"
	"$BERTH" image umount "$CTR"
}

@test "inspect shows the image config; ls lists names" {
	"$BERTH" image load --name localhost/app:v1 "$FIX/oci"
	run "$BERTH" image inspect localhost/app:v1
	[ "$status" -eq 0 ]
	python3 -c 'import json,sys
j = json.load(sys.stdin)
c = j["Config"]["config"]
assert c["Entrypoint"] == ["/bin/sh", "-c"], c
assert c["Cmd"] == ["echo hello"], c
assert "FOO=bar" in c["Env"], c
assert c["WorkingDir"] == "/data", c
assert len(j["Layers"]) == 3 and j["Names"] == ["localhost/app:v1"], j' <<<"$output"
	run "$BERTH" image ls -q
	[ "$output" = localhost/app:v1 ]
	run "$BERTH" image inspect localhost/nope:v1
	[ "$status" -eq 1 ]
	[[ "$output" == *"image 'localhost/nope:v1' not found"* ]]
}

@test "rm refuses an image in use; after umount rm and prune remove everything" {
	"$BERTH" image load --name localhost/app:v1 "$FIX/oci"
	"$BERTH" image mount localhost/app:v1 "$CTR"
	run "$BERTH" image rm localhost/app:v1
	[ "$status" -eq 1 ]
	[[ "$output" == *"in use by 1 container"* ]]
	run "$BERTH" image prune
	[ "$status" -eq 0 ]
	[[ "$output" == "Removed 0 blobs and 0 layers" ]]
	check_rootfs "$CTR/rootfs"
	"$BERTH" image umount "$CTR"
	run "$BERTH" image rm localhost/app:v1
	[ "$status" -eq 0 ]
	run "$BERTH" image prune
	[ "$status" -eq 0 ]
	[ "$output" = "Removed 5 blobs and 3 layers" ]   # manifest, config, 3 layers
	empty "$STORE/blobs/sha256" "$STORE/layers" "$STORE/tags"
}

@test "a second name keeps the image: rm drops only that name" {
	"$BERTH" image load --name localhost/app:v1 "$FIX/oci"
	"$BERTH" image load --name localhost/app:v2 "$FIX/oci"
	"$BERTH" image mount localhost/app:v1 "$CTR"
	run "$BERTH" image rm localhost/app:v2
	[ "$status" -eq 0 ]
	run "$BERTH" image ls -q
	[ "$output" = localhost/app:v1 ]
	"$BERTH" image umount "$CTR"
}

@test "a container directory that vanished does not hold an image forever" {
	"$BERTH" image load --name localhost/app:v1 "$FIX/oci"
	"$BERTH" image mount localhost/app:v1 "$CTR"
	umount "$CTR/rootfs"
	rm -rf "$CTR"
	run "$BERTH" image rm localhost/app:v1
	[ "$status" -eq 0 ]
}

@test "hostile layers: clear error, nothing outside the store, nothing half-stored" {
	local c
	for c in dotdot absolute symlink hardlink digest truncated missing; do
		run "$BERTH" image load "$BATS_FILE_TMPDIR/hostile/$c"
		echo "$c: $output"
		[ "$status" -eq 1 ]
		case $c in
		dotdot | hardlink) [[ "$output" == *"refusing entry"*"'..' component"* ]] ;;
		absolute) [[ "$output" == *"refusing entry '$CANARY/abs': absolute name"* ]] ;;
		symlink) [[ "$output" == *"refusing entry 'evil/pwned': path goes through a symlink"* ]] ;;
		digest) [[ "$output" == *"digest mismatch"* ]] ;;
		truncated) [[ "$output" == *"truncated or corrupt"* ]] ;;
		missing) [[ "$output" == *"missing from the image"* ]] ;;
		esac
		[ -z "$(ls -A "$CANARY")" ]
		empty "$STORE/tags" "$STORE/tmp"
		[ -z "$(ls -A "$STORE/layers")" ]
	done
	run "$BERTH" image load "$BATS_FILE_TMPDIR/hostile/archive.tar"
	[ "$status" -eq 1 ]
	[[ "$output" == *"refusing entry '../escape'"* ]]
	[ ! -e "$STORE/escape" ] && [ ! -e "$BERTH_STATE_DIR/escape" ]
	# What did get stored is only verified blobs, and prune takes them.
	run "$BERTH" image prune
	[ "$status" -eq 0 ]
	[ -z "$(ls -A "$STORE/blobs/sha256")" ]
}

@test "leftovers of a crash are never used and prune sweeps them" {
	"$BERTH" image load --name localhost/app:v1 "$FIX/oci"
	layer=$(ls "$STORE/layers" | head -1)
	# A crashed unpack (temporary dir) and a crashed download (tmp blob).
	mkdir "$STORE/layers/.tmp-$layer" && echo junk > "$STORE/layers/.tmp-$layer/junk"
	echo junk > "$STORE/tmp/blob-0123456789abcdef"
	"$BERTH" image mount localhost/app:v1 "$CTR"
	check_rootfs "$CTR/rootfs"
	[ ! -e "$CTR/rootfs/junk" ]
	"$BERTH" image umount "$CTR"
	"$BERTH" image prune
	[ ! -e "$STORE/layers/.tmp-$layer" ]
	[ -z "$(ls -A "$STORE/tmp")" ]
	[ -d "$STORE/layers/$layer" ]
}

@test "a layer removed behind the store's back is unpacked again on mount" {
	"$BERTH" image load --name localhost/app:v1 "$FIX/oci"
	layer=$(ls "$STORE/layers" | head -1)
	rm -rf "${STORE:?}/layers/$layer"
	"$BERTH" image mount localhost/app:v1 "$CTR"
	check_rootfs "$CTR/rootfs"
	"$BERTH" image umount "$CTR"
	[ -d "$STORE/layers/$layer" ]
}

@test "bad input: unknown image, bad reference, relative container dir" {
	run "$BERTH" image mount localhost/none:v1 "$CTR"
	[ "$status" -eq 1 ]
	[[ "$output" == *"not found"* ]]
	run "$BERTH" image pull 'Bad/Name'
	[ "$status" -eq 1 ]
	[[ "$output" == *"invalid image reference 'Bad/Name'"* ]]
	run "$BERTH" image load "$BATS_TEST_TMPDIR/nonexistent"
	[ "$status" -eq 1 ]
	[ -z "$(ls -A "$CTR")" ]
}

@test "container run on an image rootfs: overlay root, writes in upper, nothing left after umount" {
	"$BERTH" container run --help >/dev/null 2>&1 || skip "berth container run not built"
	local cg parent=berth-bats-img-$$
	cg=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -1 | cut -d' ' -f5)
	"$BERTH" image load --name localhost/app:v1 "$FIX/oci"
	"$BERTH" image mount localhost/app:v1 "$CTR"
	run --separate-stderr env BERTH_CGROUP_ENFORCE=off BERTH_CGROUP_PARENT=$parent \
		"$BERTH" container run --rootfs "$CTR/rootfs" -- /bin/sh -c \
		'cat /etc/hostname; ls /data; test ! -e /etc/deleteme && echo gone; echo w > /data/w; grep " / / " /proc/self/mountinfo'
	rmdir "$cg/$parent" 2>/dev/null || true
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = two ]
	[ "${lines[1]}" = c ]
	[ "${lines[2]}" = gone ]
	[[ "${lines[3]}" == *" - overlay overlay "*"upperdir=$CTR/upper"* ]]
	[ "$(cat "$CTR/upper/data/w")" = w ]
	[ -z "$(find "$STORE/layers" -name w)" ]
	"$BERTH" image umount "$CTR"
	! mounted "$CTR/rootfs"
	empty "$CTR" "$STORE/users"
}

# crun_img ARGS...: `berth container run` unenforced, in our own cgroup parent.
crun_img() {
	run --separate-stderr env BERTH_CGROUP_ENFORCE=off BERTH_CGROUP_PARENT=berth-bats-img-$$ \
		"$BERTH" container run "$@"
}

# Nothing of a --image run left: no mount below the state dir, no container
# directory, no user record, no cgroup.
no_run_left() {
	local cg
	cg=$(grep ' - cgroup2 ' /proc/self/mountinfo | head -1 | cut -d' ' -f5)
	! grep -q " $BERTH_STATE_DIR" /proc/self/mountinfo || { echo "mount left" >&2; return 1; }
	empty "$BERTH_STATE_DIR/containers" "$STORE/users"
	rmdir "$cg/berth-bats-img-$$" 2>/dev/null || true
	[ ! -e "$cg/berth-bats-img-$$" ]
}

@test "container run --image: the image's Entrypoint, Cmd, Env and WorkingDir; flags override them" {
	"$BERTH" image load --name localhost/app:v1 "$FIX/oci"
	export BERTH_IMAGE_PULL_BEHAVIOR=prefer-cached   # never the network here
	crun_img --image localhost/app:v1
	[ "$status" -eq 0 ]
	[ "$output" = hello ]                            # sh -c 'echo hello'
	crun_img --image localhost/app:v1 --env X=1 --env FOO=over -- 'echo $FOO $X $(pwd); cat /etc/hostname'
	[ "$status" -eq 0 ]
	[ "$output" = $'over 1 /data\ntwo' ]              # the command replaced Cmd only
	crun_img --image localhost/app:v1 --workdir /etc -- 'pwd; ls /data; echo $FOO'
	[ "$output" = $'/etc\nc\nbar' ]
	crun_img --image localhost/app:v1 --entrypoint /bin/echo -- a b
	[ "$output" = "a b" ]
	crun_img --image localhost/app:v1 --entrypoint /bin/ls   # no Cmd with a new entrypoint
	[ "$output" = c ]
	crun_img --image localhost/app:v1 --entrypoint "" -- /bin/sh -c 'exit 7'
	[ "$status" -eq 7 ]
	crun_img --image localhost/app:v1 --user 65534:65534 -- 'id -u; id -g'
	[ "$output" = $'65534\n65534' ]
	no_run_left
}

@test "container run --image: writes go to the container's upper dir and vanish with it" {
	"$BERTH" image load --name localhost/app:v1 "$FIX/oci"
	export BERTH_IMAGE_PULL_BEHAVIOR=prefer-cached
	crun_img --image localhost/app:v1 --name imgw -- \
		'echo w > /data/w; grep " / / " /proc/self/mountinfo'
	[ "$status" -eq 0 ]
	[[ "$output" == *" - overlay overlay "*"upperdir=$BERTH_STATE_DIR/containers/imgw/upper"* ]]
	[ -z "$(find "$STORE/layers" -name w)" ]
	no_run_left
	crun_img --image localhost/app:v1 --name imgw -- 'ls /data'
	[ "$output" = c ]
	no_run_left
}

@test "container run --image: every failure exits 125 with one line and leaves nothing" {
	"$BERTH" image load --name localhost/app:v1 "$FIX/oci"
	export BERTH_IMAGE_PULL_BEHAVIOR=prefer-cached
	crun_img --image localhost/nope:v1
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"localhost/nope:v1"* ]]
	no_run_left
	crun_img --image localhost/app:v1 --entrypoint /no/such/cmd
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"command '/no/such/cmd' not found"* ]]
	no_run_left
	crun_img --image localhost/app:v1 --user nosuchuser
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"user 'nosuchuser'"* ]]
	no_run_left
	crun_img --image localhost/app:v1 --rootfs /tmp -- true
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"either --rootfs or --image"* ]]
	# A name in use (its directory exists) is refused and left alone.
	mkdir -p "$BERTH_STATE_DIR/containers/busy"
	crun_img --image localhost/app:v1 --name busy
	[ "$status" -eq 125 ]
	[[ "$stderr" == *"container 'busy' already exists"* ]]
	[ -d "$BERTH_STATE_DIR/containers/busy" ]
	rmdir "$BERTH_STATE_DIR/containers/busy"
	no_run_left
	# always: the registry must answer; here none does.
	BERTH_IMAGE_PULL_BEHAVIOR=always crun_img --image localhost:1/app:v1 -- true
	[ "$status" -eq 125 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	no_run_left
}

@test "container run --image: default pull behaviour falls back to the stored image" {
	"$BERTH" image load --name localhost:1/app:v1 "$FIX/oci"
	unset BERTH_IMAGE_PULL_BEHAVIOR                  # default: pull, else the cache
	crun_img --image localhost:1/app:v1 -- 'echo cached'
	echo "$stderr"
	[ "$status" -eq 0 ]
	[[ "$output" == *cached* ]]
	no_run_left
}
