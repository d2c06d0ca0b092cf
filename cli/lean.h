/* cli/lean.h - the two binaries behind the one `berth` command.
 *
 * $(BUILD)/berth is lean: the commands on a container's start path
 * (container run, shim, logs, volume, version), linked with libseccomp,
 * libcap and libcjson only, so it starts in about a millisecond.  Every
 * other command, and --help, runs in libexec/berth-full beside it (all
 * commands, all libraries: curl, archive, sqlite, microhttpd, nl, nftnl),
 * which the lean binary execs with the same argv.  The full binary starts
 * shims from ../berth, the lean one, when it is there.
 */
#pragma once

#define BERTH_FULL_PATH "libexec/berth-full"   /* relative to the lean binary's dir */

struct err;

/* Replaces this process with the full binary, same argv and environment.
 * Returns only on failure: -errno, E set. */
int berth_exec_full(struct err *e);
