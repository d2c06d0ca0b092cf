/* api/daemon.c - `berth daemon`: configuration, the state-dir lock, the
 * control plane, the API listeners, one event loop, clean shutdown. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "api/keys.h"
#include "api/server.h"
#include "control/control.h"
#include "lib/cleanup.h"
#include "lib/cmd.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/mkdir.h"
#include "lib/loop.h"

#define DEFAULT_CONFIG "/etc/berth/berth.conf"

extern char **environ;

struct daemon {
	struct config cfg;
	int lock_fd;
	struct api_keys *keys;
	struct control *control;
	struct loop *loop;
	struct agent *agent;
	struct loop_timer *expire;   /* retention, when no embedded agent does it */
	struct api_server *api;
};

static int parent_dir_p(const char *path)
{
	_cleanup_free_ char *p = strdup(path);
	char *slash;

	if (!p)
		return -ENOMEM;
	slash = strrchr(p, '/');
	if (!slash || slash == p)
		return 0;
	*slash = '\0';
	return mkdir_parents(p, 0755);
}

/* flock on <state_dir>/berth.lock; the file holds the owner's pid. */
static int take_lock(const char *state_dir, int *ret_fd, struct err *e)
{
	_cleanup_free_ char *path = NULL;
	_cleanup_close_ int fd = -1;
	char buf[32];
	ssize_t n;

	if (asprintf(&path, "%s/berth.lock", state_dir) < 0)
		return err_set(e, -ENOMEM, "lock path");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_set(e, -errno, "open lock file '%s'", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK)
			return err_set(e, -errno, "lock '%s'", path);
		n = pread(fd, buf, sizeof(buf) - 1, 0);
		buf[n > 0 ? n : 0] = '\0';
		buf[strcspn(buf, "\n")] = '\0';
		return err_setx(e, -EBUSY, "another berth daemon%s%s%s is running on state dir '%s' (lock '%s')",
				*buf ? " (pid " : "", buf, *buf ? ")" : "", state_dir, path);
	}
	n = snprintf(buf, sizeof(buf), "%d\n", (int)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		return err_set(e, -errno, "write lock file '%s'", path);
	*ret_fd = take_fd(&fd);
	return 0;
}

static int call_control(void *data, const char *action, const cJSON *req, const char *principal,
			struct api_hold *hold, cJSON **ret_resp, struct err *e)
{
	struct control_hold ch = { 0 };
	int r;

	r = control_call_hold(data, action, req, principal, hold ? &ch : NULL, ret_resp, e);
	if (r == CONTROL_HOLD) {
		snprintf(hold->key, sizeof(hold->key), "%s", ch.key);
		hold->wait_sec = ch.wait_sec;
		return API_HOLD;
	}
	return r;
}

/* An instance got work: answer its agent's held poll. */
static void on_generation(void *data, const char *key)
{
	struct daemon *d = data;

	api_server_wake(d->api, key);
}

static void on_stop_signal(struct loop *l, const struct signalfd_siginfo *si, void *data)
{
	(void)data;
	log_info("received %s, shutting down", strsignal((int)si->ssi_signo));
	loop_quit(l, 0);
}

static int setup_dirs(const struct config *cfg, struct err *e)
{
	const char *state = config_get(cfg, CFG_STATE_DIR), *run = config_get(cfg, CFG_RUN_DIR);
	const char *sock = config_get(cfg, CFG_API_SOCKET);
	int r;

	r = mkdir_parents(state, 0700);
	if (r < 0)
		return err_set(e, r, "create state dir '%s'", state);
	r = mkdir_parents(run, 0755);
	if (r < 0)
		return err_set(e, r, "create run dir '%s'", run);
	r = parent_dir_p(sock);
	if (r < 0)
		return err_set(e, r, "create the directory of '%s'", sock);
	return 0;
}

static int start_api(struct daemon *d, struct err *e)
{
	const struct config *cfg = &d->cfg;
	struct api_server_opts o = {
		.loop = d->loop,
		.unix_path = config_get(cfg, CFG_API_SOCKET),
		.tcp_listen = config_get(cfg, CFG_API_LISTEN),
		.keys = d->keys,
		.region = config_get(cfg, CFG_REGION),
		.max_connections = (unsigned)config_get_u64(cfg, CFG_API_MAX_CONNECTIONS),
		.connection_timeout_sec = (unsigned)(config_get_usec(cfg, CFG_API_CONNECTION_TIMEOUT) / 1000000),
		.handler = call_control,
		.handler_data = d->control,
	};

	return api_server_start(&o, &d->api, e);
}

static void on_expire(struct loop *l, struct loop_timer *tm, void *data)
{
	struct daemon *d = data;
	struct err e = ERR_INIT;
	unsigned n;

	(void)l;
	(void)tm;
	if (control_expire_tasks(d->control, (double)time(NULL) -
				 (double)config_get_usec(&d->cfg, CFG_TASK_RETENTION) / 1e6, &n, &e) < 0)
		log_warn("task retention: %s", e.msg);
	else if (n)
		log_info("%u stopped tasks expired", n);
}

/* Control plane only: hosts join with `berth agent`; stopped tasks still
 * expire (the embedded agent's sweep does it otherwise). */
static int start_without_agent(struct daemon *d, struct err *e)
{
	uint64_t every = config_get_usec(&d->cfg, CFG_TASK_RETENTION) / 2;

	every = every > 60000000ull ? 60000000ull : every < 1000000ull ? 1000000ull : every;
	if (loop_timer_new(d->loop, on_expire, d, &d->expire) < 0 ||
	    loop_timer_arm(d->expire, every, every) < 0)
		return err_set(e, -ENOMEM, "retention timer");
	log_info("no embedded agent (BERTH_EMBEDDED_AGENT=false): hosts join with `berth agent`");
	return 0;
}

/* The embedded agent: this host as a container instance of BERTH_CLUSTER. */
static int start_agent(struct daemon *d, struct err *e)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	struct agent_opts o = { .loop = d->loop, .control = d->control, .cfg = &d->cfg,
				.berth_path = self };

	if (!config_get_bool(&d->cfg, CFG_EMBEDDED_AGENT))
		return start_without_agent(d, e);
	if (n < 0)
		return err_set(e, -errno, "readlink /proc/self/exe");
	self[n] = '\0';
	return agent_start(&o, &d->agent, e);
}

static int daemon_start(struct daemon *d, struct err *e)
{
	const struct config *cfg = &d->cfg;
	const char *keys = config_get(cfg, CFG_ACCESS_KEYS);
	struct control_opts co = {
		.state_dir = config_get(cfg, CFG_STATE_DIR),
		.region = config_get(cfg, CFG_REGION),
		.account_id = config_get(cfg, CFG_ACCOUNT_ID),
		.default_cluster = config_get(cfg, CFG_CLUSTER),
		.heartbeat_timeout_sec = (unsigned)config_get_u64(cfg, CFG_AGENT_HEARTBEAT_TIMEOUT),
	};
	int r;

	if (config_get(cfg, CFG_API_LISTEN) && !keys)
		return err_setx(e, -EINVAL, "BERTH_API_LISTEN is set but BERTH_ACCESS_KEYS is not: TCP requests need access keys");
	r = setup_dirs(cfg, e);
	if (r < 0)
		return r;
	r = take_lock(co.state_dir, &d->lock_fd, e);
	if (r < 0)
		return r;
	if (keys) {
		r = api_keys_load(keys, &d->keys, e);
		if (r < 0)
			return r;
	}
	r = control_open(&co, &d->control, e);
	if (r < 0)
		return err_wrap(e, "open the control plane in '%s'", co.state_dir);
	r = loop_new(&d->loop);
	if (r < 0)
		return err_set(e, r, "event loop");
	r = loop_add_signal(d->loop, SIGTERM, on_stop_signal, d);
	if (r >= 0)
		r = loop_add_signal(d->loop, SIGINT, on_stop_signal, d);
	if (r < 0)
		return err_set(e, r, "signals");
	r = start_agent(d, e);
	if (r < 0)
		return r;
	r = start_api(d, e);
	if (r < 0)
		return r;
	control_set_generation_listener(d->control, on_generation, d);
	return 0;
}

static void daemon_stop(struct daemon *d)
{
	/* Listeners first (no new work), then the store, then the lock. */
	if (d->control)
		control_set_generation_listener(d->control, NULL, NULL);
	d->api = api_server_free(d->api);
	d->agent = agent_free(d->agent);   /* tasks keep running (live restore) */
	d->expire = loop_timer_free(d->expire);
	d->control = control_free(d->control);
	d->loop = loop_free(d->loop);
	d->keys = api_keys_free(d->keys);
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	d->lock_fd = -1;
	config_release(&d->cfg);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: berth daemon [--config FILE] [--print-config-keys]\n\n"
		     "Runs the control plane and the ECS API (default config %s;\n"
		     "BERTH_* / ECS_* environment variables override it).\n", DEFAULT_CONFIG);
}

static int daemon_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "print-config-keys", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct daemon d = { .lock_fd = -1 };
	const char *config_path = DEFAULT_CONFIG;
	bool explicit_config = false;
	struct err e = ERR_INIT;
	int c, r;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config_path = optarg;
			explicit_config = true;
			break;
		case 'k':
			config_print_keys(stdout);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	if (config_load_process(&d.cfg, config_path, explicit_config) < 0)
		return 1;
	/* A client that hangs up must not kill the daemon mid-write. */
	signal(SIGPIPE, SIG_IGN);
	r = daemon_start(&d, &e);
	if (r < 0) {
		log_error("%s", e.msg);
		daemon_stop(&d);
		return 1;
	}
	log_info("berth daemon ready: socket '%s'%s%s, state '%s', cluster '%s'",
		 config_get(&d.cfg, CFG_API_SOCKET), config_get(&d.cfg, CFG_API_LISTEN) ? ", tcp " : "",
		 config_get(&d.cfg, CFG_API_LISTEN) ? config_get(&d.cfg, CFG_API_LISTEN) : "",
		 config_get(&d.cfg, CFG_STATE_DIR), config_get(&d.cfg, CFG_CLUSTER));
	r = loop_run(d.loop);
	if (r < 0)
		log_error_errno(r, "event loop failed");
	daemon_stop(&d);
	log_info("berth daemon stopped");
	return r < 0 ? 1 : 0;
}

BERTH_COMMAND(daemon, "daemon", daemon_main, "run the control plane and the ECS API");
