#!/usr/bin/env bats
# Named volumes through the real binary: berth volume create|ls|inspect|rm|
# prune|acquire|release.  Every test has its own BERTH_STATE_DIR; driver
# mounts are made inside a private mount namespace (unshare -m), so nothing
# reaches the host's mount table.

bats_require_minimum_version 1.5.0

setup() {
	: "${BERTH:?set BERTH to the berth binary (tests/run does)}"
	export BERTH_STATE_DIR=$BATS_TEST_TMPDIR/state
	VOLS=$BERTH_STATE_DIR/volumes
}

teardown() {
	grep -o " $BATS_TEST_TMPDIR[^ ]*" /proc/self/mountinfo | while read -r m; do umount -l "$m"; done
	return 0
}

@test "create, ls, inspect: the metadata a user sees" {
	run "$BERTH" volume create --label team=a --opt type=tmpfs --opt device=tmpfs --opt o=size=1m data
	[ "$status" -eq 0 ]
	[ "$output" = data ]
	run "$BERTH" volume create plain
	[ "$status" -eq 0 ]
	run "$BERTH" volume ls
	[ "$status" -eq 0 ]
	[[ "${lines[0]}" == DRIVER* ]]
	[[ "${lines[1]}" =~ ^local\ +data\ +0$ ]]
	[[ "${lines[2]}" =~ ^local\ +plain\ +0$ ]]
	run "$BERTH" volume ls -q
	[ "$output" = "data
plain" ]
	run "$BERTH" volume inspect data
	[ "$status" -eq 0 ]
	[ "$(jq -r '.[0].Name' <<<"$output")" = data ]
	[ "$(jq -r '.[0].Driver' <<<"$output")" = local ]
	[ "$(jq -r '.[0].Labels.team' <<<"$output")" = a ]
	[ "$(jq -r '.[0].Options.o' <<<"$output")" = size=1m ]
	[ "$(jq -r '.[0].Mountpoint' <<<"$output")" = "$VOLS/data/_data" ]
	[ "$(jq -r '.[0].UsedBy | length' <<<"$output")" = 0 ]
	[ -d "$VOLS/data/_data" ]
	[ "$(stat -c %a "$VOLS/data/_data")" = 755 ]
	# Written atomically: no temporary file left beside meta.json.
	[ -z "$(find "$VOLS" -name '.*.tmp')" ]
}

@test "bad input: names, options, drivers, duplicates, unknown volumes" {
	run "$BERTH" volume create ../evil
	[ "$status" -eq 1 ]
	[[ "$output" == *"volume name '../evil' is invalid"* ]]
	run "$BERTH" volume create .hidden
	[ "$status" -eq 1 ]
	run "$BERTH" volume create "$(printf 'x%.0s' {1..256})"
	[ "$status" -eq 1 ]
	run "$BERTH" volume create --opt mountpoint=/etc v
	[ "$status" -eq 1 ]
	[[ "$output" == *"takes only the options type, device and o"* ]]
	run "$BERTH" volume create --opt novalue v
	[ "$status" -eq 1 ]
	[[ "$output" == *"expected KEY=VALUE"* ]]
	run "$BERTH" volume create --driver rexray v
	[ "$status" -eq 1 ]
	[[ "$output" == *"only driver 'local'"* ]]
	run "$BERTH" volume create v
	[ "$status" -eq 0 ]
	run "$BERTH" volume create v
	[ "$status" -eq 1 ]
	[[ "$output" == *"exists"* ]]
	run "$BERTH" volume inspect nope
	[ "$status" -eq 1 ]
	[[ "$output" == *"no such volume: nope"* ]]
	run "$BERTH" volume rm nope ../x
	[ "$status" -eq 1 ]
	[[ "$output" == *"no such volume: nope"* ]]
	run "$BERTH" volume acquire v "bad
id"
	[ "$status" -eq 1 ]
	# Nothing but v was created by all of that.
	[ "$(ls "$VOLS")" = v ]
}

@test "rm refuses a volume in use; release, then rm" {
	"$BERTH" volume create db
	run "$BERTH" volume acquire db task-1
	[ "$status" -eq 0 ]
	[ "$output" = "$VOLS/db/_data" ]
	run "$BERTH" volume inspect db
	[ "$(jq -r '.[0].UsedBy[0]' <<<"$output")" = task-1 ]
	run "$BERTH" volume rm db
	[ "$status" -eq 1 ]
	[[ "$output" == *"volume 'db' is in use"* ]]
	[ -d "$VOLS/db/_data" ]
	"$BERTH" volume release db task-1
	run "$BERTH" volume rm db
	[ "$status" -eq 0 ]
	[ ! -e "$VOLS/db" ]
}

@test "data persists across uses; prune removes only unused volumes" {
	"$BERTH" volume create keep
	"$BERTH" volume create drop
	dir=$("$BERTH" volume acquire keep task-1)
	echo row > "$dir/table"
	"$BERTH" volume release keep task-1
	dir=$("$BERTH" volume acquire keep task-2)
	[ "$(cat "$dir/table")" = row ]
	run "$BERTH" volume prune
	[ "$status" -eq 0 ]
	[ "$output" = "Deleted: drop" ]
	[ "$("$BERTH" volume ls -q)" = keep ]
	"$BERTH" volume release keep task-2
	run "$BERTH" volume prune
	[ "$output" = "Deleted: keep" ]
	[ -z "$("$BERTH" volume ls -q)" ]
}

@test "driver local: type/device/o mounted on first use, unmounted when unused (private mount ns)" {
	"$BERTH" volume create --opt type=tmpfs --opt device=tmpfs --opt o=size=1m,nosuid fast
	run unshare -m --propagation private bash -c '
		set -e
		d=$("$BERTH" volume acquire fast t1)
		"$BERTH" volume acquire fast t2 >/dev/null
		grep " $d " /proc/self/mountinfo | grep -q "tmpfs tmpfs rw,size=1024k"
		grep " $d " /proc/self/mountinfo | grep -q nosuid
		! dd if=/dev/zero of="$d/big" bs=1M count=2 2>/dev/null
		"$BERTH" volume release fast t1
		grep -q " $d " /proc/self/mountinfo
		! "$BERTH" volume rm fast 2>/dev/null
		"$BERTH" volume release fast t2
		! grep -q " $d " /proc/self/mountinfo
		echo done'
	[ "$status" -eq 0 ]
	[ "${lines[-1]}" = done ]
	run "$BERTH" volume rm fast
	[ "$status" -eq 0 ]
}

@test "a failing driver mount leaves no use recorded" {
	"$BERTH" volume create --opt type=tmpfs --opt device=tmpfs --opt o=nosuchoption=1 broken
	run unshare -m --propagation private "$BERTH" volume acquire broken t1
	[ "$status" -eq 1 ]
	[[ "$output" == *"acquire volume 'broken' for 't1'"* ]]
	run "$BERTH" volume inspect broken
	[ "$(jq -r '.[0].UsedBy | length' <<<"$output")" = 0 ]
	run "$BERTH" volume rm broken
	[ "$status" -eq 0 ]
}

@test "driver options obey BERTH_HOST_VOLUME_ROOTS: create refuses, acquire checks again" {
	mkdir -p "$BATS_TEST_TMPDIR/allowed/data"
	echo mine > "$BATS_TEST_TMPDIR/allowed/data/f"
	export BERTH_HOST_VOLUME_ROOTS=$BATS_TEST_TMPDIR/allowed
	run "$BERTH" volume create --opt type=none --opt device=/etc --opt o=bind etc
	[ "$status" -eq 1 ]
	[[ "$output" == *"volume 'etc': device '/etc' is outside BERTH_HOST_VOLUME_ROOTS"* ]]
	run "$BERTH" volume create --opt type=overlay --opt device=overlay --opt o=lowerdir=/etc ov
	[ "$status" -eq 1 ]
	[[ "$output" == *"type 'overlay' is not allowed"* ]]
	run "$BERTH" volume create --opt type=tmpfs --opt device=tmpfs --opt o=suid s
	[ "$status" -eq 1 ]
	[[ "$output" == *"always nosuid,nodev"* ]]
	[ -z "$("$BERTH" volume ls -q)" ]
	# Made while no list was set: refused when mounted under the list.
	BERTH_HOST_VOLUME_ROOTS= "$BERTH" volume create --opt type=none --opt device=/etc --opt o=bind etc
	run unshare -m --propagation private "$BERTH" volume acquire etc t1
	[ "$status" -eq 1 ]
	[[ "$output" == *"acquire volume 'etc' for 't1'"* ]]
	[ "$(jq -r '.[0].UsedBy | length' <<<"$("$BERTH" volume inspect etc)")" = 0 ]
	# An allowed bind mounts, read-only as asked, and nosuid,nodev always.
	"$BERTH" volume create --opt type=none --opt device="$BATS_TEST_TMPDIR/allowed/data" --opt o=bind,ro mine
	run unshare -m --propagation private bash -c '
		set -e
		d=$("$BERTH" volume acquire mine t1)
		cat "$d/f"
		grep " $d " /proc/self/mountinfo | grep -q " ro,nosuid,nodev"
		echo done'
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = mine ]
	[ "${lines[-1]}" = done ]
}

@test "concurrent creates and uses keep the store consistent (flock)" {
	for i in $(seq 1 20); do "$BERTH" volume create "v$i" >/dev/null & done
	wait
	[ "$("$BERTH" volume ls -q | wc -l)" -eq 20 ]
	"$BERTH" volume create shared
	for i in $(seq 1 20); do "$BERTH" volume acquire shared "t$i" >/dev/null & done
	wait
	run "$BERTH" volume inspect shared
	[ "$(jq -r '.[0].UsedBy | length' <<<"$output")" = 20 ]
	for i in $(seq 1 20); do "$BERTH" volume release shared "t$i" & done
	wait
	run "$BERTH" volume inspect shared
	[ "$(jq -r '.[0].UsedBy | length' <<<"$output")" = 0 ]
	run "$BERTH" volume prune
	[ "$(echo "$output" | wc -l)" -eq 21 ]
}
