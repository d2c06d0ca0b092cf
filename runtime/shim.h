/* runtime/shim.h - the per-task shim: the contract between the agent and
 * `berth shim`.  (Implementation: runtime/shim*.c; the agent side: agent/.)
 *
 * One shim per task.  The agent prepares a task directory and starts
 * `berth shim --task-dir DIR`; the shim detaches (double fork + setsid),
 * moves itself into a berth-owned cgroup (never the task's, so it is not
 * charged to the task's memory), and from then on is the parent of the
 * task's containers: it starts them in dependsOn order, runs health checks,
 * reaps them, records exit codes and OOM kills, stops them (stopTimeout,
 * reverse order) and writes their stdout/stderr to the log driver itself.
 * It outlives agent and daemon restarts; the agent re-adopts it by
 * reconnecting to its socket.
 *
 * Task directory: $BERTH_RUN_DIR/tasks/<taskId>/  (tmpfs: gone at reboot)
 *   spec.json     written by the agent before starting the shim; read-only after.
 *   shim.pid      the shim's pid, written by the shim once it detached.
 *   status.json   the shim's view of the task, replaced atomically (write to a
 *                 temp name + rename) on every change: the agent can read it
 *                 at any time, also while the shim is gone.
 *   shim.sock     unix socket (0600) the agent talks to (below).
 *   exited        created by the shim when every container is stopped and the
 *                 shim is about to exit; status.json is final then.
 *   shim-error    why `berth shim` exited 1 without starting (one line).
 * Host resources (upper dirs, task-scoped volumes, json-file logs) live in
 * $BERTH_STATE_DIR/tasks/<taskId>/ and are removed by the agent after
 * BERTH_TASK_CLEANUP_WAIT, not by the shim.
 *
 * spec.json (the agent resolves everything ECS-level; the shim only runs it):
 * {
 *   "taskArn": "arn:...:task/<cluster>/<id>", "taskId": "<32 hex>",
 *   "stateDir": "/var/lib/berth/tasks/<id>", "cgroupParent": "berth/tasks",
 *   "shimCgroup": "berth/shims",                         (optional; the shim's own cgroup)
 *   "cgroupEnforce": true,
 *   "cpu": 512, "memory": 1024, "pidsLimit": 4096,      (task level; absent = none)
 *   "networkMode": "host" | "none" | "bridge" | "awsvpc",
 *   "netnsPath": "/run/berth/netns/<id>",              (bridge/awsvpc only, required there:
 *                                                         the namespace the agent made; the
 *                                                         containers join it)
 *   "pidMode": "task" | "host" | null, "ipcMode": "task" | "host" | "none" | null,
 *   "stopTimeoutDefault": 30,                            (seconds)
 *   "containers": [{
 *     "name": "app", "rootfs": "/abs/path",                (required: the agent prepares
 *                                                         the image's rootfs; name <= 128)
 *     "argv": ["/bin/sh", "-c", "..."],                  (entryPoint+command already merged)
 *     "env": ["K=V", ...], "user": "uid[:gid]" | null, "workingDirectory": null,
 *     "readonlyRootFilesystem": false, "privileged": false,
 *     "capAdd": [], "capDrop": [], "ulimits": [{"name","softLimit","hardLimit"}],
 *     "cpu": 0, "memory": null, "memoryReservation": null,
 *     "essential": true, "dependsOn": [{"containerName","condition"}],
 *     "startTimeout": null, "stopTimeout": null,
 *     "healthCheck": {"command": ["CMD-SHELL","..."], "interval":30,"timeout":5,"retries":3,"startPeriod":0} | null,
 *     "logConfiguration": {"logDriver": "json-file"|"none"|"syslog", "options": {...}},
 *     "hostname": null, "initProcessEnabled": false, "labels": {...}
 *   }]
 * }
 *
 * status.json:
 * {
 *   "taskId": "...", "shimPid": 123, "updatedAt": <epoch s, fractional>,
 *   "desiredStatus": "RUNNING" | "STOPPED",
 *   "lastStatus": "PENDING" | "RUNNING" | "STOPPING" | "STOPPED",
 *   "stopCode": "EssentialContainerExited" | "TaskFailedToStart" | "UserInitiated" | null,
 *   "stoppedReason": "..." | null,
 *   "startedAt": t | null, "stoppingAt": t | null, "stoppedAt": t | null,
 *   "healthStatus": "HEALTHY" | "UNHEALTHY" | "UNKNOWN",
 *   "containers": [{ "name": "app", "lastStatus": "PENDING"|"RUNNING"|"STOPPED",
 *       "pid": 456 | null, "exitCode": 0 | null, "reason": "..." | null,
 *       "healthStatus": "HEALTHY"|"UNHEALTHY"|"UNKNOWN",
 *       "startedAt": t | null, "finishedAt": t | null, "oomKilled": false }]
 * }
 *
 * shim.sock protocol: newline-delimited JSON, one request object per line,
 * one response object per line.
 *   {"op":"status"}                      -> the status.json object
 *   {"op":"stop","reason":"..."}         -> {"ok":true}; the shim stops the task
 *                                           (reverse dependsOn order, SIGTERM,
 *                                           stopTimeout, SIGKILL); stopCode
 *                                           UserInitiated unless already stopping
 *   {"op":"watch"}                       -> the status object now, then one more
 *                                           line each time it changes, until the
 *                                           client closes or the task is STOPPED
 * Unknown ops -> {"ok":false,"error":"..."}.  A malformed line closes the
 * connection; the shim never crashes on client input.
 *
 * Also: SIGTERM to the shim is a stop (UserInitiated).  A task the shim
 * cannot prepare (task cgroup, namespaces) still gets a shim: status.json
 * says STOPPED, TaskFailedToStart, and `exited` follows.  `berth shim` exits 0
 * once shim.pid and the first status.json are written; 1 (one line on
 * stderr and in shim-error, nothing else created) for a spec.json it
 * cannot run.  A container that
 * never started has exitCode null; its reason says why (a dependency that
 * can never be met uses the ECS agent's dependencygraph wording).
 */
#pragma once

#define SHIM_START_ERROR "shim-error"

/* Replaces the calling process with `berth shim --task-dir TASK_DIR` (the
 * lean binary when there is one), stdin on /dev/null, no signal blocked:
 * it exits 0 once the shim detached and wrote shim.pid, else non-zero with
 * the reason in TASK_DIR/shim-error.  Returns only when the exec failed
 * (-errno). */
int shim_exec(const char *berth_path, const char *task_dir);
