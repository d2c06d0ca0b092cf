# tests/integration/lib/daemon.bash - a berth daemon of the test's own.
#
#   load lib/daemon
#   setup()    { daemon_setup; daemon_start; }
#   teardown() { daemon_teardown; }
#
# daemon_setup makes a temp dir (state, run dir, config, a 0600 access-key
# file with one random key) and a network namespace "berth-test-<pid>-<n>"
# with lo up.  daemon_start runs `$BERTH daemon --config ...` inside that
# namespace, listening on the unix socket $SOCK and on TCP 127.0.0.1:$PORT
# there, and waits until it answers.  daemon_kill9 / daemon_stop end it by
# pid; daemon_teardown stops it, deletes the namespace and the temp dir.
#
# In tests: `aws_ecs <verb> ...` runs Debian's /usr/bin/aws inside the
# namespace against the daemon; `berth_cli <verb> ...` runs $BERTH over the
# unix socket; `sigv4 ...` runs lib/sigv4.py inside the namespace.

DAEMON_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
AWS=/usr/bin/aws
PY=/usr/bin/python3

daemon_setup() {
	: "${BERTH:?BERTH must name the berth binary}"
	DTMP=$(mktemp -d /tmp/berth-test-XXXXXX)
	NS="berth-test-$$-${BATS_TEST_NUMBER:-0}"
	PORT=8765
	STATE_DIR=$DTMP/state
	RUN_DIR=$DTMP/run
	SOCK=$RUN_DIR/api.sock
	KEYFILE=$DTMP/keys.json
	CONF=$DTMP/berth.conf
	DAEMON_LOG=$DTMP/daemon.log
	DAEMON_PID=
	AKID=AKIDBERTH$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n' | tr a-f A-F)
	SECRET=$(od -An -N20 -tx1 /dev/urandom | tr -d ' \n')
	mkdir -p "$STATE_DIR" "$RUN_DIR"
	[ -n "${BATS_FILE_TMPDIR:-}" ] && echo "$DTMP $NS" >> "$BATS_FILE_TMPDIR/daemon-resources"
	(umask 077 && printf '{"accessKeys": [{"accessKeyId": "%s", "secretAccessKey": "%s", "principal": "admin"}]}\n' \
		"$AKID" "$SECRET" > "$KEYFILE")
	cat > "$CONF" <<-EOF
		BERTH_STATE_DIR=$STATE_DIR
		BERTH_RUN_DIR=$RUN_DIR
		BERTH_API_SOCKET=$SOCK
		BERTH_API_LISTEN=127.0.0.1:$PORT
		BERTH_ACCESS_KEYS=$KEYFILE
		BERTH_REGION=local
		BERTH_LOGLEVEL=debug
	EOF
	ip netns add "$NS"
	ip -n "$NS" link set lo up
}

# The daemon's environment: nothing BERTH_* from outside, the config file decides.
_daemon_env() {
	local v
	printf '%s\n' "PATH=$PATH"
	for v in ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS BERTH_CGROUP_PARENT; do
		[ -n "${!v:-}" ] && printf '%s\n' "$v=${!v}"
	done
	return 0
}

# daemon_start [extra KEY=VALUE env...]: starts the daemon and waits until it
# answers ListClusters on the unix socket and on TCP.
daemon_start() {
	local -a envs
	mapfile -t envs < <(_daemon_env)
	ip netns exec "$NS" env -i "${envs[@]}" "$@" "$BERTH" daemon --config "$CONF" \
		>> "$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	_daemon_record_pid
	daemon_wait_ready
}

daemon_alive() {
	[ -n "$DAEMON_PID" ] && kill -0 "$DAEMON_PID" 2>/dev/null
}

daemon_wait_ready() {
	local i
	for i in $(seq 1 200); do
		if ! daemon_alive; then
			echo "# daemon exited early; log:" >&2
			sed 's/^/#   /' "$DAEMON_LOG" >&2
			return 1
		fi
		if [ -S "$SOCK" ] && _raw_unix ListClusters '{}' 2>/dev/null | grep -q '^200$' &&
			sigv4 --action ListClusters 2>/dev/null | head -1 | grep -q '^200$'; then
			return 0
		fi
		sleep 0.05
	done
	echo "# daemon not ready after 10 s; log:" >&2
	sed 's/^/#   /' "$DAEMON_LOG" >&2
	return 1
}

# Records a started daemon's pid for daemon_leftovers.
_daemon_record_pid() {
	[ -n "${BATS_FILE_TMPDIR:-}" ] && echo "$DAEMON_PID" >> "$BATS_FILE_TMPDIR/daemon-pids"
	return 0
}

# daemon_leftovers: prints every temp dir, namespace or daemon process that an
# earlier test of this file left behind (the current test's own excluded).
daemon_leftovers() {
	local dir ns pid
	while read -r dir ns; do
		[ "$dir" = "$DTMP" ] && continue
		[ -e "$dir" ] && echo "temp dir $dir"
		[ -e "/run/netns/$ns" ] && echo "netns $ns"
	done < "$BATS_FILE_TMPDIR/daemon-resources"
	while read -r pid; do
		[ "$pid" = "$DAEMON_PID" ] && continue
		[ -d "/proc/$pid" ] && grep -q berth "/proc/$pid/cmdline" 2>/dev/null && echo "daemon pid $pid"
	done < "$BATS_FILE_TMPDIR/daemon-pids"
	return 0
}

# daemon_stop: SIGTERM and wait (SIGKILL after 10 s); fails if it had to kill
# or the daemon did not exit 0.
daemon_stop() {
	local i rc=0
	daemon_alive || { DAEMON_PID=; return 0; }
	kill -TERM "$DAEMON_PID"
	for i in $(seq 1 200); do
		kill -0 "$DAEMON_PID" 2>/dev/null || break
		sleep 0.05
	done
	if kill -0 "$DAEMON_PID" 2>/dev/null; then
		kill -KILL "$DAEMON_PID"
		rc=1
	fi
	wait "$DAEMON_PID" 2>/dev/null || rc=$?
	DAEMON_PID=
	return "$rc"
}

daemon_kill9() {
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || true
	DAEMON_PID=
}

daemon_teardown() {
	daemon_stop || true
	if [ -n "${NS:-}" ]; then
		ip netns pids "$NS" 2>/dev/null | while read -r p; do kill -KILL "$p" 2>/dev/null; done
		ip netns del "$NS" 2>/dev/null || true
	fi
	if [ -n "${DTMP:-}" ] && [ -d "$DTMP" ]; then
		if [ -n "${BATS_TEST_COMPLETED:-}" ] || [ -z "${KEEP_FAILED:-}" ]; then
			rm -rf "$DTMP"
		fi
	fi
}

# aws_ecs VERB ARGS...: Debian's aws CLI inside the namespace, with the test's key.
aws_ecs() {
	ip netns exec "$NS" env AWS_ACCESS_KEY_ID="$AKID" AWS_SECRET_ACCESS_KEY="$SECRET" \
		AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER="" \
		AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard \
		"$AWS" ecs "$@" --endpoint-url "http://127.0.0.1:$PORT" --region local
}

# berth_cli VERB ARGS...: the berth CLI over the unix socket.
berth_cli() {
	"$BERTH" "$@" --endpoint "unix://$SOCK"
}

# sigv4 ARGS...: lib/sigv4.py inside the namespace; signed with the test's key
# unless the caller passes its own --key-id/--secret or --no-auth.
sigv4() {
	ip netns exec "$NS" "$PY" "$DAEMON_LIB_DIR/sigv4.py" --endpoint "http://127.0.0.1:$PORT" \
		--key-id "$AKID" --secret "$SECRET" "$@"
}

# _raw_unix ACTION BODY: curl over the unix socket; prints status then body.
_raw_unix() {
	local out
	out=$(curl -s --max-time 30 --unix-socket "$SOCK" -w '\n%{http_code}' \
		-H 'Content-Type: application/x-amz-json-1.1' \
		-H "X-Amz-Target: AmazonEC2ContainerServiceV20141113.$1" \
		--data-binary "$2" http://localhost/) || return 1
	printf '%s\n%s\n' "${out##*$'\n'}" "${out%$'\n'*}"
}

unix_call() {
	_raw_unix "$@"
}
