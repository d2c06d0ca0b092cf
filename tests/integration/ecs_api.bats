#!/usr/bin/env bats
# The ECS API end to end: Debian's aws CLI over SigV4-signed TCP inside a
# network namespace, the berth CLI over the unix socket, hostile requests
# (each refused with the right error and nothing stored), and durability
# across kill -9.  Every test gets its own daemon, state and namespace
# (lib/daemon.bash).

bats_require_minimum_version 1.5.0
load lib/daemon

FIX=$BATS_TEST_DIRNAME/../fixtures/taskdefs
ARN=arn:aws:ecs:local:000000000000

setup() {
	daemon_setup
	daemon_start
}

teardown() {
	if [ -z "${BATS_TEST_COMPLETED:-}" ] && [ -f "${DAEMON_LOG:-}" ]; then
		echo "# daemon log (tail):" >&3
		tail -n 30 "$DAEMON_LOG" | sed 's/^/#   /' >&3
	fi
	daemon_teardown
}

# jq filter: is every member/element of . present and equal in $b?  Fields the
# server adds are allowed; fields it dropped or changed are not.
SUBSET='def sub($b): if type == "object" then
		. as $a | ($b | type) == "object" and
		all(keys[]; . as $k | ($b | has($k)) and ($a[$k] | sub($b[$k])))
	elif type == "array" then
		. as $a | ($b | type) == "array" and ($a | length) == ($b | length) and
		all(range(0; $a | length); . as $i | ($a[$i] | sub($b[$i])))
	else . == $b end;'

# assert_subset FIXTURE_JSON RESPONSE_JSON PATH: fixture's PATH ⊆ response's
# taskDefinition PATH.
assert_subset() {
	if ! jq -en --argjson a "$1" --argjson b "$2" "$SUBSET (\$a$3 | sub(\$b.taskDefinition$3))" >/dev/null; then
		echo "response lost or changed fields under $3:"
		jq -n --argjson a "$1" --argjson b "$2" "{sent: \$a$3, got: \$b.taskDefinition$3}"
		return 1
	fi
}

# expect_api_error "STATUS\nBODY" STATUS_REGEX TYPE
expect_api_error() {
	local code=${1%%$'\n'*} body=${1#*$'\n'} type
	if ! [[ $code =~ ^($2)$ ]]; then
		echo "HTTP status $code, want $2; body: $body"
		return 1
	fi
	type=$(jq -r '.__type // empty' <<<"$body" 2>/dev/null || true)
	if [ "$type" != "$3" ]; then
		echo "__type '$type', want '$3'; body: $body"
		return 1
	fi
}

body_of() { printf '%s\n' "${1#*$'\n'}"; }
code_of() { printf '%s\n' "${1%%$'\n'*}"; }

# Everything the store holds that these tests could change, as one line.
state_snapshot() {
	local q out
	for q in 'ListClusters {}' \
		'ListTaskDefinitions {"status":"ACTIVE"}' \
		'ListTaskDefinitions {"status":"INACTIVE"}' \
		'ListTaskDefinitionFamilies {"status":"ALL"}'; do
		out=$(unix_call ${q%% *} "${q#* }")
		[ "$(code_of "$out")" = 200 ] || { echo "snapshot ${q%% *}: $out" >&2; return 1; }
		body_of "$out" | jq -c .
	done
}

# --- aws CLI over TCP + SigV4 -------------------------------------------------

@test "aws: create, describe (MISSING for unknown), list and delete clusters" {
	out=$(aws_ecs create-cluster --cluster-name prod --tags key=env,value=prod)
	[ "$(jq -r .cluster.clusterArn <<<"$out")" = "$ARN:cluster/prod" ]
	[ "$(jq -r .cluster.clusterName <<<"$out")" = prod ]
	[ "$(jq -r .cluster.status <<<"$out")" = ACTIVE ]
	aws_ecs create-cluster --cluster-name staging >/dev/null

	out=$(aws_ecs describe-clusters --clusters prod staging nope --include TAGS)
	[ "$(jq -r '[.clusters[].clusterName] | sort | join(",")' <<<"$out")" = prod,staging ]
	[ "$(jq -r '.failures | length' <<<"$out")" = 1 ]
	[ "$(jq -r '.failures[0].reason' <<<"$out")" = MISSING ]
	[ "$(jq -r '.failures[0].arn' <<<"$out")" = "$ARN:cluster/nope" ]
	[ "$(jq -c '.clusters[] | select(.clusterName == "prod") | .tags' <<<"$out")" = '[{"key":"env","value":"prod"}]' ]

	out=$(aws_ecs list-clusters)
	[ "$(jq -r '.clusterArns | sort | join(" ")' <<<"$out")" = "$ARN:cluster/default $ARN:cluster/prod $ARN:cluster/staging" ]

	out=$(aws_ecs delete-cluster --cluster staging)
	[ "$(jq -r .cluster.status <<<"$out")" = INACTIVE ]
	out=$(aws_ecs list-clusters)
	[ "$(jq -r '.clusterArns | sort | join(" ")' <<<"$out")" = "$ARN:cluster/default $ARN:cluster/prod" ]
	# by ARN too
	aws_ecs delete-cluster --cluster "$ARN:cluster/prod" >/dev/null

	run aws_ecs delete-cluster --cluster never-was
	[ "$status" -eq 254 ]
	[[ $output == *"(ClusterNotFoundException) when calling the DeleteCluster operation"* ]]
}

@test "aws: realistic multi-container task definitions round-trip with every field" {
	local f fix out
	for f in web edge-gateway batch; do
		fix=$(cat "$FIX/$f.json")
		out=$(aws_ecs register-task-definition --cli-input-json "file://$FIX/$f.json")
		[ "$(jq -r .taskDefinition.revision <<<"$out")" = 1 ]
		[ "$(jq -r .taskDefinition.status <<<"$out")" = ACTIVE ]
		[ "$(jq -r .taskDefinition.family <<<"$out")" = "$(jq -r .family <<<"$fix")" ]
		[ "$(jq -r .taskDefinition.taskDefinitionArn <<<"$out")" = "$ARN:task-definition/$(jq -r .family <<<"$fix"):1" ]

		out=$(aws_ecs describe-task-definition --task-definition "$(jq -r .family <<<"$fix")" --include TAGS)
		assert_subset "$fix" "$out" .containerDefinitions
		assert_subset "$fix" "$out" .networkMode
		if jq -e .volumes <<<"$fix" >/dev/null; then assert_subset "$fix" "$out" .volumes; fi
		if jq -e .placementConstraints <<<"$fix" >/dev/null; then assert_subset "$fix" "$out" .placementConstraints; fi
		if jq -e .pidMode <<<"$fix" >/dev/null; then assert_subset "$fix" "$out" .pidMode; fi
		if jq -e .ipcMode <<<"$fix" >/dev/null; then assert_subset "$fix" "$out" .ipcMode; fi
		if jq -e .requiresCompatibilities <<<"$fix" >/dev/null; then assert_subset "$fix" "$out" .requiresCompatibilities; fi
		[ "$(jq -c '.tags // [] | sort_by(.key)' <<<"$out")" = "$(jq -c '.tags // [] | sort_by(.key)' <<<"$fix")" ]
	done
	# sizes given as "1 vCPU" / "1GB" come back as units and MiB
	out=$(aws_ecs describe-task-definition --task-definition nightly-report:1)
	[ "$(jq -r .taskDefinition.cpu <<<"$out")" = 1024 ]
	[ "$(jq -r .taskDefinition.memory <<<"$out")" = 1024 ]
	out=$(aws_ecs describe-task-definition --task-definition web)
	[ "$(jq -r .taskDefinition.cpu <<<"$out")" = 512 ]
	[ "$(jq -r '.taskDefinition.containerDefinitions[] | select(.name == "app") | .healthCheck.startPeriod' <<<"$out")" = 20 ]
}

@test "aws: revisions are never reused; family, family:rev and ARN references" {
	local i out
	for i in 1 2 3; do
		out=$(aws_ecs register-task-definition --cli-input-json "file://$FIX/web.json")
		[ "$(jq -r .taskDefinition.revision <<<"$out")" = "$i" ]
	done
	out=$(aws_ecs deregister-task-definition --task-definition web:3)
	[ "$(jq -r .taskDefinition.status <<<"$out")" = INACTIVE ]
	out=$(aws_ecs register-task-definition --cli-input-json "file://$FIX/web.json")
	[ "$(jq -r .taskDefinition.revision <<<"$out")" = 4 ]

	out=$(aws_ecs describe-task-definition --task-definition web)
	[ "$(jq -r .taskDefinition.revision <<<"$out")" = 4 ]
	out=$(aws_ecs describe-task-definition --task-definition web:3)
	[ "$(jq -r .taskDefinition.status <<<"$out")" = INACTIVE ]
	out=$(aws_ecs describe-task-definition --task-definition "$ARN:task-definition/web:2")
	[ "$(jq -r .taskDefinition.revision <<<"$out")" = 2 ]

	run aws_ecs describe-task-definition --task-definition web:99
	[ "$status" -eq 254 ]
	run aws_ecs deregister-task-definition --task-definition web
	[ "$status" -eq 254 ]
	[[ $output == *"when calling the DeregisterTaskDefinition operation"* ]]
}

@test "aws: pagination (--page-size, --max-items/--starting-token, raw --max-results/--next-token)" {
	local i out all tok got
	for i in 1 2 3 4 5; do aws_ecs register-task-definition --cli-input-json "file://$FIX/web.json" >/dev/null; done
	for i in 1 2; do aws_ecs register-task-definition --cli-input-json "file://$FIX/batch.json" >/dev/null; done
	want="nightly-report:1 nightly-report:2 web:1 web:2 web:3 web:4 web:5"

	all=$(aws_ecs list-task-definitions --page-size 2 | jq -r '[.taskDefinitionArns[] | sub(".*/"; "")] | join(" ")')
	[ "$all" = "$want" ]

	# --max-items: the aws CLI's own token
	out=$(aws_ecs list-task-definitions --max-items 3)
	[ "$(jq -r '.taskDefinitionArns | length' <<<"$out")" = 3 ]
	tok=$(jq -r .NextToken <<<"$out")
	[ -n "$tok" ] && [ "$tok" != null ]
	got=$(jq -r '[.taskDefinitionArns[] | sub(".*/"; "")] | join(" ")' <<<"$out")
	out=$(aws_ecs list-task-definitions --max-items 3 --starting-token "$tok")
	got="$got $(jq -r '[.taskDefinitionArns[] | sub(".*/"; "")] | join(" ")' <<<"$out")"
	tok=$(jq -r .NextToken <<<"$out")
	out=$(aws_ecs list-task-definitions --max-items 3 --starting-token "$tok")
	got="$got $(jq -r '[.taskDefinitionArns[] | sub(".*/"; "")] | join(" ")' <<<"$out")"
	[ "$(jq -r '.NextToken // "none"' <<<"$out")" = none ]
	[ "$got" = "$want" ]

	# raw: one page per call, the server's nextToken
	got= tok=
	for i in $(seq 1 10); do
		if [ -n "$tok" ]; then
			out=$(aws_ecs list-task-definitions --max-results 2 --next-token "$tok")
		else
			out=$(aws_ecs list-task-definitions --max-results 2)
		fi
		[ "$(jq -r '.taskDefinitionArns | length' <<<"$out")" -le 2 ]
		got="$got $(jq -r '[.taskDefinitionArns[] | sub(".*/"; "")] | join(" ")' <<<"$out")"
		tok=$(jq -r '.nextToken // empty' <<<"$out")
		[ -n "$tok" ] || break
	done
	[ "$(echo $got)" = "$want" ]

	out=$(aws_ecs list-task-definitions --family-prefix web --sort DESC)
	[ "$(jq -r '[.taskDefinitionArns[] | sub(".*/"; "")] | join(" ")' <<<"$out")" = "web:5 web:4 web:3 web:2 web:1" ]
	out=$(aws_ecs list-task-definition-families --page-size 1)
	[ "$(jq -r '.families | join(" ")' <<<"$out")" = "nightly-report web" ]
	out=$(aws_ecs list-task-definition-families --family-prefix w)
	[ "$(jq -r '.families | join(" ")' <<<"$out")" = web ]

	for i in a b c; do aws_ecs create-cluster --cluster-name "pg-$i" >/dev/null; done
	out=$(aws_ecs list-clusters --page-size 1)
	[ "$(jq -r '.clusterArns | length' <<<"$out")" = 4 ]
}

@test "aws: deregister, list by status, delete-task-definitions" {
	local out
	aws_ecs register-task-definition --cli-input-json "file://$FIX/web.json" >/dev/null
	aws_ecs register-task-definition --cli-input-json "file://$FIX/web.json" >/dev/null
	out=$(aws_ecs deregister-task-definition --task-definition web:1)
	[ "$(jq -r .taskDefinition.status <<<"$out")" = INACTIVE ]
	out=$(aws_ecs list-task-definitions --status INACTIVE)
	[ "$(jq -r '.taskDefinitionArns | join(" ")' <<<"$out")" = "$ARN:task-definition/web:1" ]
	out=$(aws_ecs list-task-definitions --status ACTIVE)
	[ "$(jq -r '.taskDefinitionArns | join(" ")' <<<"$out")" = "$ARN:task-definition/web:2" ]

	# Debian's aws CLI (2.9) predates DeleteTaskDefinitions: sign it ourselves.
	out=$(sigv4 --action DeleteTaskDefinitions --body '{"taskDefinitions":["web:1"]}')
	[ "$(code_of "$out")" = 200 ]
	[ "$(body_of "$out" | jq -r '.taskDefinitions[0].status')" = DELETE_IN_PROGRESS ]
	out=$(aws_ecs list-task-definitions --status INACTIVE)
	[ "$(jq -r '.taskDefinitionArns | length' <<<"$out")" = 0 ]
	# an ACTIVE revision cannot be deleted; it stays
	out=$(sigv4 --action DeleteTaskDefinitions --body '{"taskDefinitions":["web:2"]}')
	[[ $(code_of "$out") =~ ^(200|400)$ ]]
	[ "$(code_of "$out")" = 400 ] || [ "$(body_of "$out" | jq -r '.failures | length')" = 1 ]
	out=$(aws_ecs describe-task-definition --task-definition web:2)
	[ "$(jq -r .taskDefinition.status <<<"$out")" = ACTIVE ]
}

@test "aws: tag, list and untag clusters and task definitions" {
	local out arn
	aws_ecs create-cluster --cluster-name tagged >/dev/null
	aws_ecs tag-resource --resource-arn "$ARN:cluster/tagged" --tags key=a,value=1 key=b,value=2 >/dev/null
	out=$(aws_ecs list-tags-for-resource --resource-arn "$ARN:cluster/tagged")
	[ "$(jq -c '.tags | sort_by(.key)' <<<"$out")" = '[{"key":"a","value":"1"},{"key":"b","value":"2"}]' ]
	aws_ecs untag-resource --resource-arn "$ARN:cluster/tagged" --tag-keys a >/dev/null
	out=$(aws_ecs list-tags-for-resource --resource-arn "$ARN:cluster/tagged")
	[ "$(jq -c '.tags' <<<"$out")" = '[{"key":"b","value":"2"}]' ]

	arn=$(aws_ecs register-task-definition --cli-input-json "file://$FIX/web.json" | jq -r .taskDefinition.taskDefinitionArn)
	aws_ecs tag-resource --resource-arn "$arn" --tags key=owner,value=ops >/dev/null
	out=$(aws_ecs list-tags-for-resource --resource-arn "$arn")
	[ "$(jq -r '.tags[] | select(.key == "owner") | .value' <<<"$out")" = ops ]
	[ "$(jq -r '.tags[] | select(.key == "team") | .value' <<<"$out")" = shop ]

	run aws_ecs tag-resource --resource-arn "$ARN:cluster/none" --tags key=a,value=b
	[ "$status" -eq 254 ]
}

# --- berth CLI over the unix socket -------------------------------------------

@test "berth CLI: clusters over the unix socket, table output, aws error wording and exit codes" {
	local out
	out=$(berth_cli create-cluster --cluster-name edge --tags key=site,value=fra1)
	[ "$(jq -r .cluster.clusterArn <<<"$out")" = "$ARN:cluster/edge" ]
	out=$(berth_cli describe-clusters --clusters edge nope --include TAGS)
	[ "$(jq -r '.clusters[0].tags[0].value' <<<"$out")" = fra1 ]
	[ "$(jq -r '.failures[0].reason' <<<"$out")" = MISSING ]

	out=$(berth_cli list-clusters --max-items 1)
	[ "$(jq -r '.clusterArns | length' <<<"$out")" = 1 ]
	tok=$(jq -r .NextToken <<<"$out")
	out=$(berth_cli list-clusters --starting-token "$tok")
	[ "$(jq -r '.clusterArns | length' <<<"$out")" = 1 ]
	[ "$(berth_cli list-clusters --page-size 1 | jq -r '.clusterArns | sort | join(" ")')" = "$ARN:cluster/default $ARN:cluster/edge" ]

	run berth_cli describe-clusters --clusters edge --output table
	[ "$status" -eq 0 ]
	[[ $output == *"DescribeClusters.clusters"* ]]
	[[ $output == *"| clusterName "*"| edge "* ]]
	run berth_cli list-clusters --output text
	[[ $output == *"CLUSTERARNS	$ARN:cluster/edge"* ]]

	out=$(berth_cli delete-cluster --cluster edge)
	[ "$(jq -r .cluster.status <<<"$out")" = INACTIVE ]

	run --separate-stderr berth_cli delete-cluster --cluster edge
	[ "$status" -eq 254 ]
	[[ $stderr == *"An error occurred (ClusterNotFoundException) when calling the DeleteCluster operation: "* ]]
	run berth_cli delete-cluster
	[ "$status" -eq 252 ]
	[[ $output == *"required: --cluster"* ]]
	run berth_cli list-clusters --bogus
	[ "$status" -eq 252 ]
	run "$BERTH" list-clusters --endpoint "unix://$DTMP/no-such.sock"
	[ "$status" -eq 255 ]

	# help lists every verb; each verb lists its flags; the skeleton is a request
	run "$BERTH" --help
	for v in create-cluster describe-clusters list-clusters delete-cluster register-task-definition \
		describe-task-definition list-task-definitions list-task-definition-families \
		deregister-task-definition delete-task-definitions tag-resource untag-resource \
		list-tags-for-resource; do
		[[ $output == *"  $v "* ]] || { echo "berth --help lacks $v"; false; }
	done
	run "$BERTH" list-task-definitions --help
	[ "$status" -eq 0 ]
	[[ $output == *--family-prefix* && $output == *--max-items* ]]
	out=$("$BERTH" register-task-definition --generate-cli-skeleton)
	[ "$(jq -r '.containerDefinitions | type' <<<"$out")" = array ]
	# BERTH_API_SOCKET picks the socket when --endpoint is absent
	out=$(BERTH_API_SOCKET=$SOCK "$BERTH" list-clusters)
	[ "$(jq -r '.clusterArns | length' <<<"$out")" = 1 ]
}

@test "berth CLI: task definitions from files and flags, pagination, deregister, delete, tags" {
	local out i tok got
	for i in web edge-gateway batch; do
		out=$(berth_cli register-task-definition --cli-input-json "file://$FIX/$i.json")
		assert_subset "$(cat "$FIX/$i.json")" "$out" .containerDefinitions
	done
	# flags, with --container-definitions from a file, override the input document
	jq .containerDefinitions "$FIX/web.json" > "$DTMP/cdefs.json"
	mapfile -t vols < <(jq -c '.volumes[]' "$FIX/web.json")
	out=$(berth_cli register-task-definition --family web --network-mode bridge \
		--container-definitions "file://$DTMP/cdefs.json" --memory 2GB \
		--volumes "${vols[@]}" --tags key=via,value=flags)
	[ "$(jq -r .taskDefinition.revision <<<"$out")" = 2 ]
	[ "$(jq -r .taskDefinition.memory <<<"$out")" = 2048 ]
	out=$(berth_cli describe-task-definition --task-definition web:2 --include TAGS)
	[ "$(jq -c .tags <<<"$out")" = '[{"key":"via","value":"flags"}]' ]
	[ "$(jq -r '.taskDefinition.volumes | length' <<<"$out")" = 3 ]

	for i in 3 4 5; do berth_cli register-task-definition --cli-input-json "file://$FIX/web.json" >/dev/null; done
	out=$(berth_cli list-task-definitions --family-prefix web --page-size 2)
	[ "$(jq -r '[.taskDefinitionArns[] | sub(".*:"; "")] | join(" ")' <<<"$out")" = "1 2 3 4 5" ]
	out=$(berth_cli list-task-definitions --family-prefix web --max-results 2)
	[ "$(jq -r '.taskDefinitionArns | length' <<<"$out")" = 2 ]
	tok=$(jq -r .nextToken <<<"$out")
	out=$(berth_cli list-task-definitions --family-prefix web --max-results 2 --next-token "$tok")
	[ "$(jq -r '[.taskDefinitionArns[] | sub(".*:"; "")] | join(" ")' <<<"$out")" = "3 4" ]
	got=$(berth_cli list-task-definitions --max-items 4 | jq -r '.taskDefinitionArns | length')
	[ "$got" = 4 ]
	out=$(berth_cli list-task-definition-families)
	[ "$(jq -r '.families | join(" ")' <<<"$out")" = "edge-gateway nightly-report web" ]

	out=$(berth_cli deregister-task-definition --task-definition web:1)
	[ "$(jq -r .taskDefinition.status <<<"$out")" = INACTIVE ]
	out=$(berth_cli delete-task-definitions --task-definitions web:1)
	[ "$(jq -r '.taskDefinitions[0].status' <<<"$out")" = DELETE_IN_PROGRESS ]

	berth_cli tag-resource --resource-arn "$ARN:task-definition/web:5" --tags key=x,value=y >/dev/null
	out=$(berth_cli list-tags-for-resource --resource-arn "$ARN:task-definition/web:5")
	[ "$(jq -r '.tags[] | select(.key == "x") | .value' <<<"$out")" = y ]
	berth_cli untag-resource --resource-arn "$ARN:task-definition/web:5" --tag-keys x >/dev/null
	out=$(berth_cli list-tags-for-resource --resource-arn "$ARN:task-definition/web:5")
	[ "$(jq -r '[.tags[] | select(.key == "x")] | length' <<<"$out")" = 0 ]

	run berth_cli describe-task-definition --task-definition web --output table
	[ "$status" -eq 0 ]
	[[ $output == *"DescribeTaskDefinition.taskDefinition.containerDefinitions[0]"* ]]

	# a document the server refuses: the CLI passes the ECS message on, exit 254
	run --separate-stderr berth_cli register-task-definition --family bad \
		--container-definitions '[{"name":"a","image":"x","memory":64,"essential":false}]'
	[ "$status" -eq 254 ]
	[[ $stderr == *"when calling the RegisterTaskDefinition operation: "* ]]
}

@test "berth CLI: SigV4-signed http:// endpoint; wrong secret refused" {
	local out
	out=$(ip netns exec "$NS" env AWS_ACCESS_KEY_ID="$AKID" AWS_SECRET_ACCESS_KEY="$SECRET" \
		"$BERTH" create-cluster --cluster-name over-tcp --endpoint "http://127.0.0.1:$PORT")
	[ "$(jq -r .cluster.clusterName <<<"$out")" = over-tcp ]
	run --separate-stderr ip netns exec "$NS" env AWS_ACCESS_KEY_ID="$AKID" AWS_SECRET_ACCESS_KEY=wrong \
		"$BERTH" create-cluster --cluster-name not-stored --endpoint "http://127.0.0.1:$PORT"
	[ "$status" -eq 254 ]
	[[ $stderr == *"An error occurred (InvalidSignatureException) when calling the CreateCluster operation"* ]]
	run ip netns exec "$NS" env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
		"$BERTH" list-clusters --endpoint "http://127.0.0.1:$PORT"
	[ "$status" -eq 255 ]
	out=$(berth_cli list-clusters)
	[[ $out != *not-stored* ]]
}

# --- hostile requests: right error, nothing stored ----------------------------

@test "refused: no signature, wrong secret, unknown key id, 10-minute-old date, tampered body" {
	local before out
	before=$(state_snapshot)

	out=$(sigv4 --no-auth --action CreateCluster --body '{"clusterName":"neg-nosig"}')
	expect_api_error "$out" 403 MissingAuthenticationTokenException

	out=$(sigv4 --secret not-the-secret --action CreateCluster --body '{"clusterName":"neg-secret"}')
	expect_api_error "$out" '400|403' InvalidSignatureException

	out=$(sigv4 --key-id AKIDUNKNOWN0000000 --action CreateCluster --body '{"clusterName":"neg-key"}')
	expect_api_error "$out" '400|403' UnrecognizedClientException

	out=$(sigv4 --age 600 --action CreateCluster --body '{"clusterName":"neg-stale"}')
	expect_api_error "$out" '400|403' InvalidSignatureException
	[[ $out == *"Signature expired"* ]]

	out=$(sigv4 --action CreateCluster --body '{"clusterName":"neg-signed"}' \
		--send-body '{"clusterName":"neg-sent"}')
	expect_api_error "$out" '400|403' InvalidSignatureException

	out=$(sigv4 --action RegisterTaskDefinition --body-file "$FIX/batch.json" --secret wrong)
	expect_api_error "$out" '400|403' InvalidSignatureException

	# the control: the same requests signed properly are accepted
	out=$(sigv4 --action ListClusters)
	[ "$(code_of "$out")" = 200 ]
	[ "$(state_snapshot)" = "$before" ]
}

@test "refused: body over 1 MiB (413) on TCP and on the unix socket" {
	local before out big code
	before=$(state_snapshot)
	big=$DTMP/big.json
	head -c 1100000 /dev/zero | tr '\0' x > "$DTMP/pad"
	jq -c --rawfile pad "$DTMP/pad" \
		'.containerDefinitions[0].environment += [{"name":"PAD","value":$pad}]' "$FIX/batch.json" > "$big"
	[ "$(stat -c %s "$big")" -gt 1048576 ]

	out=$(sigv4 --action RegisterTaskDefinition --body-file "$big")
	expect_api_error "$out" 413 RequestEntityTooLargeException
	code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
		-H 'Content-Type: application/x-amz-json-1.1' \
		-H 'X-Amz-Target: AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition' \
		--data-binary "@$big" http://localhost/ || true)
	[ "$code" = 413 ]
	# chunked: no Content-Length to refuse up front, the limit holds while reading
	code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" \
		-H 'Transfer-Encoding: chunked' -H 'Content-Type: application/x-amz-json-1.1' \
		-H 'X-Amz-Target: AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition' \
		--data-binary "@$big" http://localhost/ || true)
	[ "$code" = 413 ]
	daemon_alive
	[ "$(state_snapshot)" = "$before" ]
}

@test "refused: malformed JSON, wrong types, unknown action — and the daemon survives" {
	local before out b
	before=$(state_snapshot)

	for b in '{' '{"clusterName":' '[]' '"x"' '42' 'null' \
		"$(printf '{"clusterName":"\xff\xfe"}')" \
		'{"clusterName":"db\u0000evil"}' \
		"$(printf '%.0s[' $(seq 1 5000))"; do
		out=$(unix_call CreateCluster "$b")
		[ "$(code_of "$out")" = 400 ] || { echo "body '$b' -> $out"; false; }
		[[ $(body_of "$out" | jq -r .__type) =~ ^(ClientException|InvalidParameterException|SerializationException)$ ]] ||
			{ echo "body '$b' -> $out"; false; }
	done
	out=$(sigv4 --action CreateCluster --body '{"clusterName":')
	[ "$(code_of "$out")" = 400 ]

	# wrong types: each message names the field
	out=$(unix_call CreateCluster '{"clusterName":["a"]}')
	[ "$(code_of "$out")" = 400 ]
	[[ $out == *clusterName* ]]
	out=$(unix_call RegisterTaskDefinition '{"family":123,"containerDefinitions":[{"name":"a","image":"b","memory":6}]}')
	[ "$(code_of "$out")" = 400 ]
	[[ $out == *family* ]]
	out=$(unix_call RegisterTaskDefinition '{"family":"wt","containerDefinitions":"app"}')
	[ "$(code_of "$out")" = 400 ]
	[[ $out == *containerDefinitions* ]]
	out=$(unix_call RegisterTaskDefinition '{"family":"wt","containerDefinitions":[{"name":"a","image":"b","memory":"lots"}]}')
	[ "$(code_of "$out")" = 400 ]
	[[ $out == *memory* ]]
	out=$(unix_call ListClusters '{"maxResults":"5"}')
	[ "$(code_of "$out")" = 400 ]
	[[ $out == *maxResults* ]]
	out=$(sigv4 --action ListTaskDefinitions --body '{"maxResults":true}')
	[ "$(code_of "$out")" = 400 ]
	[[ $out == *maxResults* ]]

	# out of range, unknown members, limits
	for b in 'ListClusters {"maxResults":0}' 'ListClusters {"maxResults":101}' \
		'ListClusters {"nextToken":"garbage"}' 'CreateCluster {"clusterName":"x","bogus":1}' \
		'CreateCluster {"clusterName":"a b"}' 'DescribeTaskDefinition {"taskDefinition":"web:0"}' \
		'TagResource {"resourceArn":"'"$ARN"':cluster/default","tags":[{"key":"aws:x","value":"v"}]}' \
		'TagResource {"resourceArn":"'"$ARN"':cluster/default","tags":'"$(jq -nc '[range(51) | {key: "k\(.)", value: "v"}]')"'}'; do
		out=$(unix_call "${b%% *}" "${b#* }")
		[ "$(code_of "$out")" = 400 ] || { echo "$b -> $out"; false; }
		[[ $(body_of "$out" | jq -r .__type) =~ ^(ClientException|InvalidParameterException)$ ]] ||
			{ echo "$b -> $out"; false; }
	done

	out=$(unix_call LaunchRockets '{}')
	expect_api_error "$out" 400 UnknownOperationException
	out=$(sigv4 --action DeleteEverything)
	expect_api_error "$out" 400 UnknownOperationException

	daemon_alive
	[ "$(state_snapshot)" = "$before" ]
}

@test "refused: a JSON object followed by trailing data" {
	local before out
	before=$(state_snapshot)
	for b in '{"clusterName":"trail1"} trailing' '{"clusterName":"trail2"}{}' '{"clusterName":"trail3"}]'; do
		out=$(unix_call CreateCluster "$b")
		[ "$(code_of "$out")" = 400 ] || { echo "body '$b' -> $out"; false; }
	done
	[ "$(state_snapshot)" = "$before" ]
}

@test "refused: a non-root peer on the unix socket" {
	local before out
	before=$(state_snapshot)
	# Without privileges the socket is out of reach...
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		curl -s --max-time 10 --unix-socket "$SOCK" -H 'Content-Type: application/x-amz-json-1.1' \
		-H 'X-Amz-Target: AmazonEC2ContainerServiceV20141113.CreateCluster' \
		--data-binary '{"clusterName":"neg-nobody"}' http://localhost/
	[ "$status" -ne 0 ]
	# ...and with CAP_DAC_OVERRIDE past the file modes, the daemon's peer-uid
	# check refuses it.
	run setpriv --reuid=65534 --regid=65534 --clear-groups \
		--inh-caps=+dac_override --ambient-caps=+dac_override \
		curl -s --max-time 10 -w '\n%{http_code}' --unix-socket "$SOCK" \
		-H 'Content-Type: application/x-amz-json-1.1' \
		-H 'X-Amz-Target: AmazonEC2ContainerServiceV20141113.CreateCluster' \
		--data-binary '{"clusterName":"neg-nobody"}' http://localhost/
	[ "$status" -eq 0 ]
	expect_api_error "${output##*$'\n'}"$'\n'"${output%$'\n'*}" 403 AccessDeniedException
	daemon_alive
	[ "$(state_snapshot)" = "$before" ]
}

# --- durability ---------------------------------------------------------------

@test "durability: kill -9 during 200 concurrent RegisterTaskDefinition calls loses nothing answered" {
	local dir=$DTMP/burst body w i n rc pids=() ok=0 prev rev max
	mkdir -p "$dir"
	body=$(jq -c '.family = "burst"' "$FIX/batch.json")
	for w in 1 2 3 4; do
		(
			for i in $(seq 1 50); do
				curl -s --max-time 20 --unix-socket "$SOCK" -o "$dir/$w.$i.body" -w '%{http_code}\n' \
					-H 'Content-Type: application/x-amz-json-1.1' \
					-H 'X-Amz-Target: AmazonEC2ContainerServiceV20141113.RegisterTaskDefinition' \
					--data-binary "$body" http://localhost/ > "$dir/$w.$i.code" 2>/dev/null &&
					rc=0 || rc=$?
				echo "$rc" > "$dir/$w.$i.rc"
			done
		) &
		pids+=($!)
	done
	# kill once a third of the calls have been answered
	for i in $(seq 1 3000); do
		n=$(cat "$dir"/*.code 2>/dev/null | grep -c '^200$' || true)
		[ "$n" -ge 66 ] && break
		sleep 0.01
	done
	daemon_kill9
	wait "${pids[@]}"

	# every call answered 200 with a whole body: its revision, per client increasing
	: > "$dir/ok.revs"
	for w in 1 2 3 4; do
		prev=0
		for i in $(seq 1 50); do
			[ "$(cat "$dir/$w.$i.rc")" = 0 ] && [ "$(cat "$dir/$w.$i.code")" = 200 ] || continue
			rev=$(jq -er .taskDefinition.revision "$dir/$w.$i.body")
			[ "$rev" -gt "$prev" ] || { echo "client $w: revision $rev after $prev"; false; }
			prev=$rev
			echo "$rev" >> "$dir/ok.revs"
			ok=$((ok + 1))
		done
	done
	echo "# $ok of 200 answered before the kill" >&3
	[ "$ok" -ge 66 ]
	[ -z "$(sort -n "$dir/ok.revs" | uniq -d)" ]

	daemon_start
	while read -r rev; do
		out=$(unix_call DescribeTaskDefinition "{\"taskDefinition\":\"burst:$rev\"}")
		[ "$(code_of "$out")" = 200 ] || { echo "burst:$rev lost: $out"; false; }
		[ "$(body_of "$out" | jq -r .taskDefinition.revision)" = "$rev" ]
		[ "$(body_of "$out" | jq -r '.taskDefinition.containerDefinitions | length')" = 2 ]
	done < "$dir/ok.revs"

	# the stored revisions are unique and increasing, and new ones continue above them
	out=$("$BERTH" list-task-definitions --family-prefix burst --endpoint "unix://$SOCK" |
		jq -r '.taskDefinitionArns[] | sub(".*:"; "")')
	[ "$out" = "$(sort -n -u <<<"$out")" ]
	max=$(tail -n 1 <<<"$out")
	out=$(unix_call RegisterTaskDefinition "$body")
	[ "$(body_of "$out" | jq -r .taskDefinition.revision)" -gt "$max" ]
}

@test "durability: a clean restart keeps clusters, revisions and tags" {
	local before
	berth_cli create-cluster --cluster-name keep --tags key=k,value=v >/dev/null
	berth_cli register-task-definition --cli-input-json "file://$FIX/web.json" >/dev/null
	berth_cli register-task-definition --cli-input-json "file://$FIX/web.json" >/dev/null
	berth_cli deregister-task-definition --task-definition web:1 >/dev/null
	before=$(state_snapshot)
	daemon_stop
	daemon_start
	[ "$(state_snapshot)" = "$before" ]
	out=$(berth_cli describe-clusters --clusters keep --include TAGS)
	[ "$(jq -c '.clusters[0].tags' <<<"$out")" = '[{"key":"k","value":"v"}]' ]
	out=$(berth_cli register-task-definition --cli-input-json "file://$FIX/web.json")
	[ "$(jq -r .taskDefinition.revision <<<"$out")" = 3 ]
}

@test "cleanup: earlier tests left no namespace, temp dir or daemon behind" {
	local left
	left=$(daemon_leftovers)
	[ -z "$left" ] || { echo "$left"; false; }
	# and the harness's own stop: SIGTERM ends the daemon cleanly (exit 0)
	daemon_stop
}
