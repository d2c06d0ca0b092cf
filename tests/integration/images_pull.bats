#!/usr/bin/env bats
# `berth image pull` against Debian's docker-registry, run on 127.0.0.1
# inside a private network namespace (nothing leaves it): anonymous, basic
# auth (env and docker config), bearer tokens, an index with two
# architectures, tag updates, hostile registries, kill -9 mid-pull,
# concurrent pulls sharing the work, and the pull behaviours.

bats_require_minimum_version 1.5.0

setup_file() {
	: "${BERTH:?set BERTH to the berth binary (tests/run does)}"
	export FIXDIR=$BATS_TEST_DIRNAME/../fixtures/images
	export FIX=$BATS_FILE_TMPDIR/images
	"$FIXDIR/mkimages" "$FIX" >/dev/null
	export NS=berth-test-img-$$
	export REG=$BATS_FILE_TMPDIR/registry
	mkdir -p "$REG"
	ip netns add "$NS"
	ip netns exec "$NS" ip link set lo up
	htpasswd -Bbc "$REG/htpasswd" alice s3cret 2>/dev/null
	start_registry open 5000 ""
	start_registry auth 5002 "auth: {htpasswd: {realm: berth-test, path: $REG/htpasswd}}"
	start_proxy bearer 5001 bearer
	inns skopeo copy -q --dest-tls-verify=false "oci:$FIX/oci:v1" docker://127.0.0.1:5000/app:v1
	inns skopeo copy -q --dest-tls-verify=false --dest-creds alice:s3cret \
		"oci:$FIX/oci:v1" docker://127.0.0.1:5002/app:v1
}

teardown_file() {
	local p
	for p in "$REG"/*.pid; do
		[ -f "$p" ] && stop "$(basename "$p" .pid)"
	done
	ip netns del "$NS" 2>/dev/null
	return 0
}

inns() {
	ip netns exec "$NS" "$@"
}

# start_registry NAME PORT AUTH-YAML
start_registry() {
	local name=$1 port=$2 auth=$3 i
	cat > "$REG/$name.yml" <<-YML
	version: 0.1
	log: {level: error}
	storage: {filesystem: {rootdirectory: $REG/$name-data}, delete: {enabled: true}}
	http: {addr: "127.0.0.1:$port", secret: berth-test}
	$auth
	YML
	# Not through inns(): $! must be the process itself (ip netns exec execs).
	ip netns exec "$NS" docker-registry serve "$REG/$name.yml" >"$REG/$name.log" 2>&1 &
	echo $! > "$REG/$name.pid"
	wait_port "$port"
}

# start_proxy NAME PORT MODE...: regproxy in front of the open registry.
start_proxy() {
	local name=$1 port=$2
	shift 2
	: > "$REG/$name.requests"
	ip netns exec "$NS" "$FIXDIR/regproxy" "127.0.0.1:$port" 127.0.0.1:5000 "$REG/$name.requests" "$@" \
		>"$REG/$name.log" 2>&1 &
	echo $! > "$REG/$name.pid"
	wait_port "$port"
}

stop() {
	local pid
	pid=$(cat "$REG/$1.pid")
	kill "$pid" 2>/dev/null
	for _ in $(seq 250); do kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
	rm -f "$REG/$1.pid"
}

wait_port() {
	local i
	for i in $(seq 100); do
		inns bash -c "echo > /dev/tcp/127.0.0.1/$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

setup() {
	export BERTH_STATE_DIR=$BATS_TEST_TMPDIR/state
	export STORE=$BERTH_STATE_DIR/images
	export BERTH_INSECURE_REGISTRIES="127.0.0.1:5000 127.0.0.1:5001 127.0.0.1:5002 127.0.0.1:5003"
	export DOCKER_CONFIG=$BATS_TEST_TMPDIR/docker
	unset BERTH_REGISTRY_AUTH BERTH_IMAGE_PULL_BEHAVIOR
	CTR=$BATS_TEST_TMPDIR/ctr
	mkdir -p "$CTR"
}

teardown() {
	[ -f "$REG/extra.pid" ] && stop extra
	grep -o " $BATS_TEST_TMPDIR[^ ]*" /proc/self/mountinfo | while read -r m; do umount -l "$m"; done
	return 0
}

pull() {
	run inns "$BERTH" image pull "$@"
}

check_rootfs() {
	local r=$1
	[ -x "$r/bin/busybox" ]
	[ "$(cat "$r/etc/hostname")" = two ]
	[ ! -e "$r/etc/deleteme" ]
	[ "$(ls -A "$r/data")" = c ]
}

manifest_digest() {   # the digest of a layout's only manifest
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["manifests"][0]["digest"])' "$1/index.json"
}

@test "anonymous pull over plain HTTP (listed insecure): verified, unpacked, mountable" {
	pull 127.0.0.1:5000/app:v1
	[ "$status" -eq 0 ]
	[ "$output" = "$(manifest_digest "$FIX/oci")" ]
	"$BERTH" image mount 127.0.0.1:5000/app:v1 "$CTR"
	check_rootfs "$CTR/rootfs"
	"$BERTH" image umount "$CTR"
	# Quiet when not on a terminal: only the digest on stdout.
	[ "${#lines[@]}" -eq 1 ]
}

@test "progress per layer on a terminal" {
	run inns script -qec "$BERTH image pull 127.0.0.1:5000/app:v1" /dev/null
	[ "$status" -eq 0 ]
	# One progress line per blob (config + 3 layers), "done / total MB".
	[ "$(grep -c 'sha256:[0-9a-f]\{12\} .* / .* MB' <<<"$output")" -ge 4 ]
	run inns "$BERTH" image pull -q 127.0.0.1:5000/app:v1
	[ "${#lines[@]}" -eq 1 ]
}

@test "plain HTTP is refused unless the registry is listed as insecure" {
	BERTH_INSECURE_REGISTRIES=127.0.0.1:5001 pull 127.0.0.1:5000/app:v1
	[ "$status" -eq 1 ]
	[[ "$output" == *"pull '127.0.0.1:5000/app:v1'"*"https://127.0.0.1:5000/v2/"* ]]
	[ -z "$("$BERTH" image ls -q)" ]
}

@test "basic auth: refused without credentials, then BERTH_REGISTRY_AUTH, wrong password, docker config" {
	pull 127.0.0.1:5002/app:v1
	[ "$status" -eq 1 ]
	[[ "$output" == *"registry '127.0.0.1:5002' requires credentials"* ]]
	BERTH_REGISTRY_AUTH="127.0.0.1:5002=alice:wrong" pull 127.0.0.1:5002/app:v1
	[ "$status" -eq 1 ]
	[[ "$output" == *"access denied (HTTP 401)"* ]]
	BERTH_REGISTRY_AUTH="other.io=bob:x 127.0.0.1:5002=alice:s3cret" pull 127.0.0.1:5002/app:v1
	[ "$status" -eq 0 ]
	rm -rf "$BERTH_STATE_DIR"
	mkdir -p "$DOCKER_CONFIG"
	printf '{"auths":{"http://127.0.0.1:5002":{"auth":"%s"}}}' "$(printf alice:s3cret | base64)" \
		> "$DOCKER_CONFIG/config.json"
	pull 127.0.0.1:5002/app:v1
	[ "$status" -eq 0 ]
	[ "$output" = "$(manifest_digest "$FIX/oci")" ]
}

@test "bearer token flow: challenge -> realm with service and scope -> token" {
	pull 127.0.0.1:5001/app:v1
	[ "$status" -eq 1 ]
	[[ "$output" == *"token request refused (HTTP 401); no credentials configured"* ]]
	# A bare user:pass is only for BERTH_DEFAULT_REGISTRY.
	BERTH_REGISTRY_AUTH=alice:s3cret pull 127.0.0.1:5001/app:v1
	[ "$status" -eq 1 ]
	[[ "$output" == *"no credentials configured"* ]]
	BERTH_REGISTRY_AUTH=127.0.0.1:5001=alice:s3cret pull 127.0.0.1:5001/app:v1
	[ "$status" -eq 0 ]
	grep -q '^GET /token?service=berth-test&scope=repository%3Aapp%3Apull 200' "$REG/bearer.requests"
	grep -q '^GET /v2/app/blobs/sha256:.* 200' "$REG/bearer.requests"
	"$BERTH" image mount 127.0.0.1:5001/app:v1 "$CTR"
	check_rootfs "$CTR/rootfs"
	"$BERTH" image umount "$CTR"
}

@test "credentials go to no registry that did not ask, and never to another registry" {
	local v1
	v1=$(manifest_digest "$FIX/oci")
	mkdir -p "$DOCKER_CONFIG"
	printf '{"auths":{"127.0.0.1:5003":{"auth":"%s"}}}' "$(printf alice:s3cret | base64)" \
		> "$DOCKER_CONFIG/config.json"
	# A registry that never challenges gets no Authorization at all.
	start_proxy extra 5003
	BERTH_REGISTRY_AUTH="127.0.0.1:5003=alice:s3cret" pull 127.0.0.1:5003/app:v1
	[ "$status" -eq 0 ]
	[ "$(grep -c '^GET /v2/' "$REG/extra.requests")" -ge 5 ]
	! grep -v ' -$' "$REG/extra.requests"
	stop extra
	# Registry B (5003) asks for basic auth; there are credentials only for
	# A (5002), by host and bare with A the default registry: B gets none.
	rm -rf "$BERTH_STATE_DIR" "$DOCKER_CONFIG"
	start_proxy extra 5003 basic
	BERTH_DEFAULT_REGISTRY=127.0.0.1:5002 BERTH_REGISTRY_AUTH="alice:s3cret 127.0.0.1:5002=alice:s3cret" \
		pull 127.0.0.1:5003/app:v1
	[ "$status" -eq 1 ]
	[[ "$output" == *"registry '127.0.0.1:5003' requires credentials"* ]]
	grep -q '^GET /v2/app/manifests/v1 401 -$' "$REG/extra.requests"
	! grep -v ' -$' "$REG/extra.requests"
	# The bare form does serve the default registry, for a bare name.
	BERTH_DEFAULT_REGISTRY=127.0.0.1:5002 BERTH_REGISTRY_AUTH=alice:s3cret pull app:v1
	[ "$status" -eq 0 ]
	[ "$output" = "$v1" ]
	# B's own credentials: the first request goes without, the retry after
	# the Basic challenge with them, and later ones keep them.
	: > "$REG/extra.requests"
	rm -rf "$BERTH_STATE_DIR"
	BERTH_REGISTRY_AUTH="127.0.0.1:5003=alice:s3cret" pull 127.0.0.1:5003/app:v1
	[ "$status" -eq 0 ]
	[ "$(head -n1 "$REG/extra.requests")" = "GET /v2/app/manifests/v1 401 -" ]
	[ "$(sed -n 2p "$REG/extra.requests")" = "GET /v2/app/manifests/v1 200 Basic" ]
	[ "$(grep -c ' 200 Basic$' "$REG/extra.requests")" -eq 5 ]   # manifest, config, 3 layers
}

@test "an image index with two architectures resolves to linux/$(dpkg --print-architecture)" {
	local arch other v1 v2
	arch=$(dpkg --print-architecture)
	other=arm64; [ "$arch" = arm64 ] && other=amd64
	inns skopeo copy -q --dest-tls-verify=false "oci:$FIX/oci-v2:v1" docker://127.0.0.1:5000/app:v2
	v1=$(manifest_digest "$FIX/oci")
	v2=$(manifest_digest "$FIX/oci-v2")
	# The foreign architecture comes first: taking the first entry is wrong.
	python3 - "$v1" "$v2" "$arch" "$other" > "$BATS_TEST_TMPDIR/index.json" <<-'PY'
	import json, os, sys
	v1, v2, arch, other = sys.argv[1:]
	def size(d):   # manifests are small; the registry checks sizes
	    return len(open(os.environ["FIX"] + ("/oci" if d == v1 else "/oci-v2") + "/blobs/sha256/" + d[7:], "rb").read())
	m = lambda d, a: {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d,
	                  "size": size(d), "platform": {"os": "linux", "architecture": a}}
	print(json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
	                  "manifests": [m(v2, other), m(v1, arch)]}))
	PY
	inns curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
		--data-binary "@$BATS_TEST_TMPDIR/index.json" http://127.0.0.1:5000/v2/app/manifests/multi
	pull 127.0.0.1:5000/app:multi
	[ "$status" -eq 0 ]
	[ "$output" = "$v1" ]
	run "$BERTH" image inspect 127.0.0.1:5000/app:multi
	[[ "$output" == *"\"Id\":	\"$v1\""* ]]
	# An index without this architecture is a clear error.
	python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); j["manifests"]=j["manifests"][:1]; print(json.dumps(j))' \
		"$BATS_TEST_TMPDIR/index.json" > "$BATS_TEST_TMPDIR/index1.json"
	inns curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
		--data-binary "@$BATS_TEST_TMPDIR/index1.json" http://127.0.0.1:5000/v2/app/manifests/foreign
	pull 127.0.0.1:5000/app:foreign
	[ "$status" -eq 1 ]
	[[ "$output" == *"image index has no linux/$arch image"* ]]
}

@test "a tag update: pulling again gets the new digest, the old image is prunable" {
	local v1 v2
	v1=$(manifest_digest "$FIX/oci")
	v2=$(manifest_digest "$FIX/oci-v2")
	inns skopeo copy -q --dest-tls-verify=false "oci:$FIX/oci:v1" docker://127.0.0.1:5000/app:moving
	pull 127.0.0.1:5000/app:moving
	[ "$output" = "$v1" ]
	inns skopeo copy -q --dest-tls-verify=false "oci:$FIX/oci-v2:v1" docker://127.0.0.1:5000/app:moving
	pull 127.0.0.1:5000/app:moving
	[ "$status" -eq 0 ]
	[ "$output" = "$v2" ]
	run "$BERTH" image inspect 127.0.0.1:5000/app:moving
	[[ "$output" == *'"echo v2"'* ]]
	run "$BERTH" image prune
	# v1's manifest and config go; the layers are shared and stay.
	[ "$output" = "Removed 2 blobs and 0 layers" ]
	# By digest: pinned to the old image even though the tag moved.
	pull "127.0.0.1:5000/app@$v1"
	[ "$status" -eq 0 ]
	[ "$output" = "$v1" ]
}

@test "hostile registry: corrupt blob, truncated blob -> clear error, nothing stored" {
	start_proxy extra 5003 corrupt
	pull 127.0.0.1:5003/app:v1
	[ "$status" -eq 1 ]
	[[ "$output" == *"digest mismatch: expected sha256:"* ]]
	stop extra
	start_proxy extra 5003 truncate
	pull 127.0.0.1:5003/app:v1
	[ "$status" -eq 1 ]
	[[ "$output" == *"truncated or corrupt"* ]]
	[ -z "$(ls -A "$STORE/tags")" ]
	[ -z "$(ls -A "$STORE/layers")" ]
	[ -z "$(ls -A "$STORE/tmp")" ]
	# A manifest naming a blob the registry does not have.
	pull 127.0.0.1:5000/app@sha256:0000000000000000000000000000000000000000000000000000000000000000
	[ "$status" -eq 1 ]
	[[ "$output" == *"not found"* ]]
}

@test "hostile registry: a blob longer than its descriptor is cut off at the declared size" {
	local mode sent
	for mode in oversize oversize-stream; do
		start_proxy extra 5003 "$mode"
		pull 127.0.0.1:5003/app:v1
		[ "$status" -eq 1 ]
		[[ "$output" == *"/v2/app/blobs/sha256:"*"is longer than the "*" bytes its descriptor declares"* ]]
		# The client hung up at once: far less than the 64 MiB extra went
		# out (what did is in socket buffers, never in the store).
		# (The proxy logs once its writes fail, which may be after we exit.)
		for _ in $(seq 500); do
			grep -q '^SENT /v2/app/blobs/' "$REG/extra.requests" && break
			sleep 0.02
		done
		grep -q '^SENT /v2/app/blobs/' "$REG/extra.requests"
		sent=$(awk '$1 == "SENT" { if ($3 > m) m = $3 } END { print m + 0 }' "$REG/extra.requests")
		[ "$sent" -lt $((16 << 20)) ]
		[ -z "$(ls -A "$STORE/tmp")" ]
		[ -z "$(ls -A "$STORE/tags")" ]
		[ -z "$(ls -A "$STORE/blobs/sha256")" ]
		stop extra
	done
}

@test "kill -9 mid-pull leaves nothing usable; the next pull completes" {
	start_proxy extra 5003 slow
	ip netns exec "$NS" "$BERTH" image pull 127.0.0.1:5003/app:v1 >/dev/null 2>&1 &
	pid=$!
	for i in $(seq 200); do
		[ -n "$(find "$STORE/tmp" -name 'blob-*' -size +16k 2>/dev/null)" ] && break
		sleep 0.02
	done
	kill -9 "$pid"
	wait "$pid" || true
	[ -n "$(ls -A "$STORE/tmp")" ]           # the partial download is there ...
	[ -z "$(ls -A "$STORE/tags")" ]          # ... but no image
	run "$BERTH" image mount 127.0.0.1:5003/app:v1 "$CTR"
	[ "$status" -eq 1 ]
	pull 127.0.0.1:5003/app:v1
	[ "$status" -eq 0 ]
	"$BERTH" image mount 127.0.0.1:5003/app:v1 "$CTR"
	check_rootfs "$CTR/rootfs"
	"$BERTH" image umount "$CTR"
	"$BERTH" image prune
	[ -z "$(ls -A "$STORE/tmp")" ]
}

@test "two pulls of one image at once share the work: each blob fetched once" {
	start_proxy extra 5003 slow
	ip netns exec "$NS" "$BERTH" image pull 127.0.0.1:5003/app:v1 > "$BATS_TEST_TMPDIR/a" 2>&1 &
	a=$!
	ip netns exec "$NS" "$BERTH" image pull 127.0.0.1:5003/app:v1 > "$BATS_TEST_TMPDIR/b" 2>&1 &
	b=$!
	wait "$a"
	wait "$b"
	[ "$(cat "$BATS_TEST_TMPDIR/a")" = "$(cat "$BATS_TEST_TMPDIR/b")" ]
	blobs=$(grep -c '^GET /v2/app/blobs/' "$REG/extra.requests")
	distinct=$(grep '^GET /v2/app/blobs/' "$REG/extra.requests" | sort -u | wc -l)
	[ "$blobs" -eq "$distinct" ]
	[ "$blobs" -eq 4 ]   # config + 3 layers
}

@test "pull behaviours: prefer-cached and once never touch the network when cached" {
	start_proxy extra 5003
	run inns env BERTH_IMAGE_PULL_BEHAVIOR=prefer-cached "$BERTH" image ensure 127.0.0.1:5003/app:v1
	[ "$status" -eq 0 ]                        # not cached: pulled
	n=$(wc -l < "$REG/extra.requests")
	[ "$n" -gt 0 ]
	for b in prefer-cached once; do
		run inns env BERTH_IMAGE_PULL_BEHAVIOR=$b "$BERTH" image ensure 127.0.0.1:5003/app:v1
		[ "$status" -eq 0 ]
		[ "$(wc -l < "$REG/extra.requests")" -eq "$n" ]
	done
	run inns env BERTH_IMAGE_PULL_BEHAVIOR=always "$BERTH" image ensure 127.0.0.1:5003/app:v1
	[ "$status" -eq 0 ]
	[ "$(wc -l < "$REG/extra.requests")" -gt "$n" ]
	# Registry gone: default falls back to the stored copy, always fails.
	stop extra
	run inns env BERTH_IMAGE_PULL_BEHAVIOR=default "$BERTH" image ensure 127.0.0.1:5003/app:v1
	[ "$status" -eq 0 ]
	[[ "$output" == *"using the stored copy"* ]]
	run inns env BERTH_IMAGE_PULL_BEHAVIOR=always "$BERTH" image ensure 127.0.0.1:5003/app:v1
	[ "$status" -eq 1 ]
	run inns env BERTH_IMAGE_PULL_BEHAVIOR=sometimes "$BERTH" image ensure 127.0.0.1:5003/app:v1
	[ "$status" -eq 2 ]
	[[ "$output" == *"expected default, always, once or prefer-cached"* ]]
}
