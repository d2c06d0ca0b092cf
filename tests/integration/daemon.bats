#!/usr/bin/env bats
# tests/integration/daemon.bats - `berth daemon` itself: start and clean stop
# (socket removed, lock released), the state-dir lock, the root-only unix
# socket, configuration errors, HTTP limits, idleness.  Unix socket only, so
# no network namespace is needed; the ECS API over TCP is ecs_api.bats.

T=AmazonEC2ContainerServiceV20141113

setup() {
	: "${BERTH:?BERTH must name the berth binary}"
	DTMP=$(mktemp -d /tmp/berth-daemon-test-XXXXXX)
	chmod 755 "$DTMP"       # the uid-65534 tests must reach the socket's directory
	STATE_DIR=$DTMP/state
	RUN_DIR=$DTMP/run
	SOCK=$RUN_DIR/api.sock
	CONF=$DTMP/berth.conf
	LOG=$DTMP/daemon.log
	PID=
	printf 'BERTH_STATE_DIR=%s\nBERTH_RUN_DIR=%s\nBERTH_LOGLEVEL=debug\n' "$STATE_DIR" "$RUN_DIR" > "$CONF"
}

teardown() {
	if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
		kill -KILL "$PID"
		wait "$PID" 2>/dev/null || true
	fi
	rm -rf "$DTMP"
}

# start_daemon [ENV=VALUE...]: runs the daemon with a clean environment and
# waits until the socket answers.
start_daemon() {
	env -i PATH="$PATH" ${ASAN_OPTIONS:+ASAN_OPTIONS=$ASAN_OPTIONS} "$@" \
		"$BERTH" daemon --config "$CONF" >> "$LOG" 2>&1 &
	PID=$!
	for _ in $(seq 1 200); do
		kill -0 "$PID" 2>/dev/null || { cat "$LOG" >&2; return 1; }
		[ -S "$SOCK" ] && call ListClusters '{}' >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	cat "$LOG" >&2
	return 1
}

# stop_daemon SIGNAL: sends it, waits, and returns the daemon's exit status.
stop_daemon() {
	local rc=0
	kill "-$1" "$PID"
	wait "$PID" || rc=$?
	PID=
	return "$rc"
}

# call ACTION BODY [curl args...]: prints the body, then the status on its own line.
call() {
	local action=$1 body=$2
	shift 2
	curl -sS --max-time 20 --unix-socket "$SOCK" -w '\n%{http_code}\n' \
		-H 'Content-Type: application/x-amz-json-1.1' -H "X-Amz-Target: $T.$action" \
		--data-binary "$body" "$@" http://localhost/
}

lock_is_free() {
	flock -n "$STATE_DIR/berth.lock" true
}

@test "daemon: serves on a 0600 root socket, SIGTERM stops it cleanly (socket removed, lock released)" {
	start_daemon
	[ "$(stat -c '%a %u %F' "$SOCK")" = "600 0 socket" ]
	[ "$(stat -c '%a' "$STATE_DIR")" = "700" ]
	run call ListClusters '{}'
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "200" ]
	[[ "${lines[0]}" == *'"arn:aws:ecs:local:000000000000:cluster/default"'* ]]
	# x-amzn-RequestId and the JSON 1.1 content type on every answer.
	run curl -sS -D - -o /dev/null --unix-socket "$SOCK" -H "X-Amz-Target: $T.ListClusters" \
		-H 'Content-Type: application/x-amz-json-1.1' -d '{}' http://localhost/
	[[ "$output" == *"Content-Type: application/x-amz-json-1.1"* ]]
	[[ "$output" =~ x-amzn-RequestId:\ [0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12} ]]
	! lock_is_free
	[ "$(cat "$STATE_DIR/berth.lock")" = "$PID" ]
	stop_daemon TERM
	[ ! -e "$SOCK" ]
	lock_is_free
	grep -q 'berth daemon stopped' "$LOG"
}

@test "daemon: SIGINT stops it too, and state survives a restart" {
	start_daemon
	run call CreateCluster '{"clusterName": "kept"}'
	[ "${lines[1]}" = "200" ]
	stop_daemon INT
	[ ! -e "$SOCK" ]
	start_daemon
	run call DescribeClusters '{"clusters": ["kept"]}'
	[ "${lines[1]}" = "200" ]
	[ "$(jq -r '.clusters[0].status' <<<"${lines[0]}")" = "ACTIVE" ]
	stop_daemon TERM
}

@test "daemon: a second daemon on the same state dir is refused, naming the first one's pid" {
	start_daemon
	run env -i PATH="$PATH" BERTH_RUN_DIR="$DTMP/run2" "$BERTH" daemon --config "$CONF"
	[ "$status" -eq 1 ]
	[[ "$output" == *"another berth daemon (pid $PID) is running on state dir '$STATE_DIR'"* ]]
	[ ! -e "$DTMP/run2/api.sock" ]
	# The first one is untouched.
	run call ListClusters '{}'
	[ "${lines[1]}" = "200" ]
	stop_daemon TERM
}

@test "daemon: a stale socket left by a killed daemon is replaced; a live one is not stolen" {
	start_daemon
	kill -KILL "$PID"
	wait "$PID" || true
	PID=
	[ -S "$SOCK" ]
	lock_is_free
	start_daemon
	run call ListClusters '{}'
	[ "${lines[1]}" = "200" ]
	# Another state dir, same socket: the live daemon keeps it.
	run env -i PATH="$PATH" BERTH_STATE_DIR="$DTMP/state2" "$BERTH" daemon --config "$CONF"
	[ "$status" -eq 1 ]
	[[ "$output" == *"API socket '$SOCK' is in use"* ]]
	run call ListClusters '{}'
	[ "${lines[1]}" = "200" ]
	stop_daemon TERM
}

@test "daemon: a file that is not a socket at the socket path is never removed (refused at start, kept at stop)" {
	mkdir -p "$RUN_DIR"
	echo precious > "$SOCK"
	# (timeout: a daemon that wrongly took the path would serve forever)
	run timeout 20 env -i PATH="$PATH" "$BERTH" daemon --config "$CONF"
	[ "$status" -eq 1 ]
	[[ "$output" == *"'$SOCK' exists and is not a socket"* ]]
	[ "$(cat "$SOCK")" = precious ]
	lock_is_free
	# The daemon removes at stop only the socket it bound, not what replaced it.
	rm "$SOCK"
	start_daemon
	rm "$SOCK"
	echo precious > "$SOCK"
	stop_daemon TERM
	[ "$(cat "$SOCK")" = precious ]
}

@test "daemon: a non-root peer cannot connect (0600), and is refused with 403 when the mode is opened" {
	start_daemon
	run setpriv --reuid 65534 --regid 65534 --clear-groups \
		curl -sS --unix-socket "$SOCK" -H "X-Amz-Target: $T.ListClusters" -d '{}' http://localhost/
	[ "$status" -ne 0 ]
	[[ "$output" == *"Permission denied"* || "$output" == *"Couldn't connect"* ]]
	chmod 666 "$SOCK"
	run setpriv --reuid 65534 --regid 65534 --clear-groups \
		curl -sS -w '\n%{http_code}\n' --unix-socket "$SOCK" -H "X-Amz-Target: $T.CreateCluster" \
		-d '{"clusterName": "by-nobody"}' http://localhost/
	[ "$status" -eq 0 ]
	[ "${lines[1]}" = "403" ]
	[ "$(jq -r .__type <<<"${lines[0]}")" = "AccessDeniedException" ]
	[[ "$(jq -r .message <<<"${lines[0]}")" == *"uid 65534"* ]]
	# Nothing was created.
	run call DescribeClusters '{"clusters": ["by-nobody"]}'
	[ "$(jq -r '.failures[0].reason' <<<"${lines[0]}")" = "MISSING" ]
	stop_daemon TERM
}

@test "daemon: envelope errors (unknown action, bad target, malformed JSON, oversized body)" {
	start_daemon
	run call NoSuchAction '{}'
	[ "${lines[1]}" = "400" ]
	[ "$(jq -r .__type <<<"${lines[0]}")" = "UnknownOperationException" ]
	run curl -sS -w '\n%{http_code}\n' --unix-socket "$SOCK" -H "X-Amz-Target: Bogus.ListClusters" \
		-H 'Content-Type: application/x-amz-json-1.1' -d '{}' http://localhost/
	[ "${lines[1]}" = "400" ]
	[ "$(jq -r .__type <<<"${lines[0]}")" = "UnknownOperationException" ]
	run call CreateCluster '{"clusterName": "x"'
	[ "${lines[1]}" = "400" ]
	[ "$(jq -r .__type <<<"${lines[0]}")" = "SerializationException" ]
	run call CreateCluster '["clusterName"]'
	[ "$(jq -r .__type <<<"${lines[0]}")" = "SerializationException" ]
	run call CreateCluster '{"clusterName": "trailing"} {}'
	[ "${lines[1]}" = "400" ]
	[ "$(jq -r .__type <<<"${lines[0]}")" = "SerializationException" ]
	head -c 1048577 /dev/zero | tr '\0' ' ' > "$DTMP/big"
	run call CreateCluster "@$DTMP/big"
	[ "${lines[1]}" = "413" ]
	# The same without a Content-Length (chunked): read, dropped, still 413.
	run curl -sS -w '\n%{http_code}\n' --unix-socket "$SOCK" -H "X-Amz-Target: $T.CreateCluster" \
		-H 'Content-Type: application/x-amz-json-1.1' -H 'Transfer-Encoding: chunked' \
		--data-binary "@$DTMP/big" http://localhost/
	[ "${lines[1]}" = "413" ]
	[ "$(jq -r .__type <<<"${lines[0]}")" = "RequestEntityTooLargeException" ]
	# Exactly 1 MiB of whitespace around {} is within the limit.
	{ head -c 1048574 /dev/zero | tr '\0' ' '; printf '{}'; } > "$DTMP/max"
	run call ListClusters "@$DTMP/max"
	[ "${lines[1]}" = "200" ]
	# Still alive and serving after all that.
	run call ListClusters '{}'
	[ "${lines[1]}" = "200" ]
	stop_daemon TERM
}

@test "daemon: the request must be Content-Type application/x-amz-json-1.1 (parameters and case aside)" {
	start_daemon
	# curl -d sends application/x-www-form-urlencoded; -H 'Content-Type:' sends none
	for ct in 'Content-Type:' 'Content-Type: application/json' 'Content-Type: application/x-amz-json-1.0' \
		'Content-Type: application/x-amz-json-1.10' 'Content-Type: text/plain; x=application/x-amz-json-1.1'; do
		run curl -sS -w '\n%{http_code}\n' --unix-socket "$SOCK" -H "X-Amz-Target: $T.CreateCluster" \
			-H "$ct" -d '{"clusterName": "wrong-type"}' http://localhost/
		[ "${lines[1]}" = "400" ]
		[ "$(jq -r .__type <<<"${lines[0]}")" = "UnknownOperationException" ]
		[[ "$(jq -r .message <<<"${lines[0]}")" == *"application/x-amz-json-1.1"* ]]
	done
	run curl -sS -w '\n%{http_code}\n' --unix-socket "$SOCK" -H "X-Amz-Target: $T.CreateCluster" \
		-d '{"clusterName": "wrong-type"}' http://localhost/
	[ "${lines[1]}" = "400" ]
	run call DescribeClusters '{"clusters": ["wrong-type"]}'
	[ "$(jq -r '.failures[0].reason' <<<"${lines[0]}")" = "MISSING" ]
	for ct in 'Content-Type: application/x-amz-json-1.1; charset=utf-8' 'Content-Type: Application/X-Amz-JSON-1.1'; do
		run curl -sS -w '\n%{http_code}\n' --unix-socket "$SOCK" -H "X-Amz-Target: $T.ListClusters" \
			-H "$ct" -d '{}' http://localhost/
		[ "${lines[1]}" = "200" ]
	done
	stop_daemon TERM
}

@test "daemon: connection cap: extra connections wait until one closes" {
	printf 'BERTH_API_MAX_CONNECTIONS=2\n' >> "$CONF"
	start_daemon
	run python3 - "$SOCK" <<-'EOF'
		import socket, sys
		def conn():
		    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); return s
		held = [conn(), conn()]
		third = conn()
		third.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}")
		third.settimeout(1)
		try:
		    print("third while capped:", repr(third.recv(20)))
		except socket.timeout:
		    print("third while capped: waiting")
		held[0].close()
		third.settimeout(20)
		print("third after a close:", third.recv(12).decode())
	EOF
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "third while capped: waiting" ]
	[ "${lines[1]}" = "third after a close: HTTP/1.1 400" ]
	stop_daemon TERM
}

@test "daemon: an idle connection is closed after BERTH_API_CONNECTION_TIMEOUT" {
	printf 'BERTH_API_CONNECTION_TIMEOUT=1s\n' >> "$CONF"
	start_daemon
	run python3 - "$SOCK" <<-'EOF'
		import socket, sys
		s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
		s.settimeout(20)
		print("idle:", repr(s.recv(100)))  # closed by the daemon: b''
	EOF
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "idle: b''" ]
	run call ListClusters '{}'
	[ "${lines[1]}" = "200" ]
	stop_daemon TERM
}

@test "daemon: idle, it writes nothing" {
	start_daemon
	call ListClusters '{}' >/dev/null
	sleep 1
	before=$(grep -E '^(wchar|syscw)' "/proc/$PID/io")
	sleep 3
	after=$(grep -E '^(wchar|syscw)' "/proc/$PID/io")
	[ "$before" = "$after" ]
	stop_daemon TERM
}

@test "daemon: configuration errors are clear and fatal" {
	run "$BERTH" daemon --config "$DTMP/missing.conf"
	[ "$status" -eq 1 ]
	[[ "$output" == *"$DTMP/missing.conf"* ]]

	printf 'BERTH_STATE_DIR=%s\nBERTH_CLUSTR=x\n' "$STATE_DIR" > "$DTMP/typo.conf"
	run env -i PATH="$PATH" "$BERTH" daemon --config "$DTMP/typo.conf"
	[ "$status" -eq 1 ]
	[[ "$output" == *"typo.conf:2: unknown key 'BERTH_CLUSTR'"* ]]

	printf 'ECS_CLUSTER=ok\nECS_ENABLE_TASK_IAM_ROLE=true\nBERTH_API_LISTEN=127.0.0.1:8080\n' >> "$CONF"
	run env -i PATH="$PATH" "$BERTH" daemon --config "$CONF"
	[ "$status" -eq 1 ]
	[[ "$output" == *"ECS_ENABLE_TASK_IAM_ROLE"*"ignoring"* ]]
	[[ "$output" == *"BERTH_ACCESS_KEYS is not"* ]]

	printf '{"accessKeys": [{"accessKeyId": "AKID", "secretAccessKey": "s", "principal": "admin"}]}' > "$DTMP/keys.json"
	chmod 644 "$DTMP/keys.json"
	run env -i PATH="$PATH" BERTH_ACCESS_KEYS="$DTMP/keys.json" "$BERTH" daemon --config "$CONF"
	[ "$status" -eq 1 ]
	[[ "$output" == *"chmod 600 $DTMP/keys.json"* ]]
	lock_is_free
	[ ! -e "$SOCK" ]

	run env -i PATH="$PATH" BERTH_REGION="Not A Region" "$BERTH" daemon --config "$CONF"
	[ "$status" -eq 1 ]
	[[ "$output" == *"environment: invalid BERTH_REGION='Not A Region'"* ]]
}

@test "daemon: --print-config-keys lists every key as a markdown table" {
	run "$BERTH" daemon --print-config-keys
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "| Key | ECS alias | Default | Meaning |" ]
	for k in BERTH_CLUSTER BERTH_STATE_DIR BERTH_RUN_DIR BERTH_API_SOCKET BERTH_API_LISTEN BERTH_ACCESS_KEYS \
		BERTH_REGION BERTH_ACCOUNT_ID BERTH_LOGLEVEL BERTH_CGROUP_ENFORCE ECS_RESERVED_PORTS \
		ECS_INSTANCE_ATTRIBUTES ECS_CONTAINER_STOP_TIMEOUT ECS_DYNAMIC_HOST_PORT_RANGE; do
		[[ "$output" == *"\`$k\`"* ]]
	done
}
