/* images/config.h - an image's run configuration and how a task overrides it.
 *
 * img_config_parse reads the OCI/Docker image config JSON ("config": {
 * Entrypoint, Cmd, Env, WorkingDir, User, ExposedPorts }, "os",
 * "architecture").  img_exec_merge applies a task container's overrides the
 * way Docker and the ECS agent do:
 *   - entryPoint given  -> replaces the image Entrypoint AND drops the image
 *     Cmd (unless command is also given);
 *   - command given     -> replaces the image Cmd;
 *   - argv = entrypoint + cmd; empty -> -ENOEXEC;
 *   - environment       -> merged over the image Env by name (task wins, the
 *     image's order kept, new names appended); PATH gets Docker's default
 *     when neither sets it;
 *   - workingDirectory / user -> replace the image's; workdir default "/".
 * A NULL override means "not given"; an empty array given means "empty".
 * Both are pure (no I/O); all strings in the results are owned copies.
 */
#pragma once

#include <stddef.h>

#define IMG_DEFAULT_PATH "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

struct img_config {
	char **entrypoint;     /* NULL-terminated, NULL when unset */
	char **cmd;
	char **env;            /* "NAME=value" */
	char **exposed_ports;  /* "80/tcp", informational */
	char *workdir;         /* NULL when unset */
	char *user;
	char *os;
	char *arch;
};

struct img_overrides {
	char *const *entrypoint;   /* NULL-terminated, or NULL = not given */
	char *const *command;
	char *const *environment;  /* "NAME=value" */
	const char *workdir;
	const char *user;
};

struct img_exec {
	char **argv;     /* never empty on success */
	char **env;
	char *workdir;
	char *user;      /* "" when neither sets one (run as root) */
};

/* -EBADMSG when JSON is not an image config; -ENOMEM. */
int img_config_parse(const char *json, size_t len, struct img_config *ret);
void img_config_release(struct img_config *c);
/* -ENOEXEC when the result has no command; -ENOMEM. */
int img_exec_merge(const struct img_config *c, const struct img_overrides *o, struct img_exec *ret);
void img_exec_release(struct img_exec *x);

/* NULL-terminated string vectors. */
size_t img_strv_length(char *const *v);
char **img_strv_free(char **v);   /* accepts NULL, returns NULL */
