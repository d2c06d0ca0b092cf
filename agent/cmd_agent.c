/* agent/cmd_agent.c - `berth agent --controller URL`: this host as a
 * container instance of a control plane elsewhere.  Only the agent runs
 * here (its own loop, state and run dirs, no API socket); it reaches the
 * control plane over its outbound connection (agent/link_remote.c). */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/link.h"
#include "lib/cleanup.h"
#include "lib/cmd.h"
#include "lib/config.h"
#include "lib/log.h"
#include "lib/loop.h"
#include "lib/mkdir.h"

#define DEFAULT_CONFIG "/etc/berth/berth.conf"
#define POLL_WAIT_MAX_SEC 20

extern char **environ;

struct agent_cmd {
	struct config cfg;
	int lock_fd;
	struct loop *loop;
	struct agent *agent;
};

/* One agent (or daemon) per state dir: flock on its berth.lock. */
static int lock_state(const char *state, int *ret_fd, struct err *e)
{
	_cleanup_free_ char *path = NULL;
	int fd;

	if (asprintf(&path, "%s/berth.lock", state) < 0)
		return err_set(e, -ENOMEM, "lock path");
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return err_set(e, -errno, "open lock file '%s'", path);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return err_setx(e, -EBUSY, "another berth agent or daemon is running on state dir '%s'",
				state);
	}
	*ret_fd = fd;
	return 0;
}

static void on_stop_signal(struct loop *l, const struct signalfd_siginfo *si, void *data)
{
	(void)data;
	log_info("received %s, shutting down", strsignal((int)si->ssi_signo));
	loop_quit(l, 0);
}

/* Polls come at least three times per heartbeat timeout. */
static unsigned poll_wait_sec(const struct config *cfg)
{
	uint64_t t = config_get_u64(cfg, CFG_AGENT_HEARTBEAT_TIMEOUT) / 3;

	return t < 1 ? 1 : t > POLL_WAIT_MAX_SEC ? POLL_WAIT_MAX_SEC : (unsigned)t;
}

static int start(struct agent_cmd *c, const char *controller, struct err *e)
{
	const struct config *cfg = &c->cfg;
	const char *state = config_get(cfg, CFG_STATE_DIR), *run = config_get(cfg, CFG_RUN_DIR);
	struct link_remote_opts lo = {
		.url = controller,
		.access_key_id = config_get(cfg, CFG_AGENT_ACCESS_KEY_ID),
		.secret_access_key = config_get(cfg, CFG_AGENT_SECRET_ACCESS_KEY),
		.region = config_get(cfg, CFG_REGION),
		.wait_sec = poll_wait_sec(cfg),
	};
	struct agent_opts ao = { .cfg = cfg };
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int r;

	if (n < 0)
		return err_set(e, -errno, "readlink /proc/self/exe");
	self[n] = '\0';
	ao.berth_path = self;
	r = mkdir_parents(state, 0700);
	if (r < 0)
		return err_set(e, r, "create state dir '%s'", state);
	r = mkdir_parents(run, 0755);
	if (r < 0)
		return err_set(e, r, "create run dir '%s'", run);
	r = lock_state(state, &c->lock_fd, e);
	if (r < 0)
		return r;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return err_setx(e, -ENOMEM, "libcurl initialisation failed");
	r = loop_new(&c->loop);
	if (r < 0)
		return err_set(e, r, "event loop");
	lo.loop = ao.loop = c->loop;
	r = link_remote_new(&lo, &ao.link, e);
	if (r < 0)
		return r;
	/* Registration blocks (retrying) until the control plane answers;
	 * until then the default SIGTERM ends the agent. */
	r = agent_start(&ao, &c->agent, e);
	if (r < 0)
		return r;
	r = loop_add_signal(c->loop, SIGTERM, on_stop_signal, c);
	if (r >= 0)
		r = loop_add_signal(c->loop, SIGINT, on_stop_signal, c);
	return r < 0 ? err_set(e, r, "signals") : 0;
}

static void stop(struct agent_cmd *c)
{
	c->agent = agent_free(c->agent);   /* tasks keep running (live restore) */
	c->loop = loop_free(c->loop);
	if (c->lock_fd >= 0)
		close(c->lock_fd);
	c->lock_fd = -1;
	config_release(&c->cfg);
	curl_global_cleanup();
}

static void usage(FILE *out)
{
	fprintf(out, "usage: berth agent [--controller URL] [--config FILE] [--print-config-keys]\n\n"
		     "Runs this host's agent for the control plane at URL (http://HOST:PORT, else\n"
		     "BERTH_CONTROLLER), signing with BERTH_AGENT_ACCESS_KEY_ID and\n"
		     "BERTH_AGENT_SECRET_ACCESS_KEY (default config %s).\n", DEFAULT_CONFIG);
}

static int agent_main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "controller", required_argument, NULL, 'C' },
		{ "config", required_argument, NULL, 'c' },
		{ "print-config-keys", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	struct agent_cmd c = { .lock_fd = -1 };
	const char *config_path = DEFAULT_CONFIG, *controller = NULL;
	bool explicit_config = false;
	struct err e = ERR_INIT;
	int o, r;

	optind = 1;
	while ((o = getopt_long(argc, argv, "c:h", opts, NULL)) != -1) {
		switch (o) {
		case 'C':
			controller = optarg;
			break;
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
	if (config_load_process(&c.cfg, config_path, explicit_config) < 0)
		return 1;
	if (!controller)
		controller = config_get(&c.cfg, CFG_CONTROLLER);
	if (!controller) {
		log_error("berth agent needs the control plane's URL: --controller URL or BERTH_CONTROLLER");
		config_release(&c.cfg);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	r = start(&c, controller, &e);
	if (r < 0) {
		log_error("%s", e.msg);
		stop(&c);
		return 1;
	}
	log_info("berth agent ready: controller %s, state '%s', cluster '%s'", controller,
		 config_get(&c.cfg, CFG_STATE_DIR), config_get(&c.cfg, CFG_CLUSTER));
	r = loop_run(c.loop);
	if (r < 0)
		log_error_errno(r, "event loop failed");
	stop(&c);
	log_info("berth agent stopped");
	return r != 0 ? 1 : 0;   /* LINK_REFUSED: the reason is logged */
}

BERTH_COMMAND(agent, "agent", agent_main, "run this host's agent for a control plane elsewhere");
