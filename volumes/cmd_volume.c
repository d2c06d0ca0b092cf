/* volumes/cmd_volume.c - `berth volume create|ls|inspect|rm|prune` for named
 * volumes, and `acquire|release` to mark or clear a task's use by hand
 * (the agent does it for tasks; release also clears a use a crashed task left). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/cleanup.h"
#include "lib/cmd.h"
#include "lib/log.h"
#include "volumes/internal.h"

static void storep(struct vol_store *s) { vol_store_close(s); }
#define _cleanup_vstore_ _cleanup_(storep)
static void strvp(char ***v) { vol_strv_free(*v); }
static void cJSON_Deletep(cJSON **j) { cJSON_Delete(*j); }

static int open_store(struct vol_store *s)
{
	int r = vol_store_open(NULL, s);

	if (r < 0)
		log_error_errno(r, "open volume store");
	return r;
}

/* BERTH_HOST_VOLUME_ROOTS and friends, as the daemon reads them. */
static int load_cfg(struct vol_cfg *c)
{
	struct err e = ERR_INIT;
	int r = vol_cfg_from_env(c, &e);

	if (r < 0)
		log_error("%s", e.msg);
	return r;
}

static void cfgp(struct vol_cfg *c) { vol_cfg_free(c); }

static int kv_cmp(const void *a, const void *b)
{
	return strcmp(((const struct vol_kv *)a)->key, ((const struct vol_kv *)b)->key);
}

/* Adds "K=V" (pointing into ARG, which outlives the map) to M. */
static int map_add(struct vol_map *m, char *arg)
{
	char *eq = strchr(arg, '=');
	struct vol_kv *n;

	if (!eq || eq == arg)
		return -EINVAL;
	for (size_t i = 0; i < m->n; i++)
		if (strncmp(m->kv[i].key, arg, (size_t)(eq - arg)) == 0 &&
		    m->kv[i].key[eq - arg] == '\0')
			return -EEXIST;
	n = realloc(m->kv, (m->n + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	m->kv = n;
	*eq = '\0';
	m->kv[m->n++] = (struct vol_kv){ arg, eq + 1 };
	qsort(m->kv, m->n, sizeof(*m->kv), kv_cmp);
	return 0;
}

static int cmd_create(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "opt", required_argument, NULL, 'o' },
		{ "label", required_argument, NULL, 'l' },
		{ "driver", required_argument, NULL, 'd' },
		{ 0 },
	};
	_cleanup_vstore_ struct vol_store s = VOL_STORE_INIT;
	_cleanup_(cfgp) struct vol_cfg cfg = { 0 };
	struct vol_map o = { 0 }, l = { 0 };
	struct err e = ERR_INIT;
	int c, r = 0;

	while (r == 0 && (c = getopt_long(argc, argv, "o:l:d:", opts, NULL)) != -1) {
		if (c == 'o' || c == 'l')
			r = map_add(c == 'o' ? &o : &l, optarg);
		else if (c == 'd' && strcmp(optarg, "local") != 0)
			r = -ENOTSUP;
		else if (c != 'd')
			r = -EINVAL;
		if (r < 0)
			log_error("bad option '%s': %s", optarg ? optarg : "?",
				  r == -ENOTSUP ? "only driver 'local' exists" :
				  r == -EEXIST ? "given twice" : "expected KEY=VALUE");
	}
	if (r == 0 && optind != argc - 1) {
		fprintf(stderr, "usage: berth volume create [--opt type|device|o=V]... [--label K=V]... NAME\n");
		r = -EINVAL;
	}
	if (r == 0 && !vol_name_valid(argv[optind])) {
		log_error("volume name '%s' is invalid (1-255 of [A-Za-z0-9_.-], not starting with '.' or '-')",
			  argv[optind]);
		r = -EINVAL;
	}
	/* The rules a task's driverOpts obey (volumes/driver.c), so that a
	 * volume made here cannot bind what the allow-list keeps out. */
	if (r == 0 && (r = load_cfg(&cfg)) == 0 && (r = vol_driver_check(&cfg, &o, &e)) < 0)
		log_error("volume '%s': %s", argv[optind], e.msg);
	if (r == 0 && (r = open_store(&s)) == 0) {
		r = vol_store_create(&s, argv[optind], &o, &l, NULL);
		if (r == -EINVAL)
			log_error("volume '%s': driver 'local' takes only the options type, device and o",
				  argv[optind]);
		else if (r < 0)
			log_error_errno(r, "create volume '%s'", argv[optind]);
		else
			printf("%s\n", argv[optind]);
	}
	free(o.kv);
	free(l.kv);
	return r < 0 ? 1 : 0;
}

static int cmd_ls(int argc, char **argv)
{
	_cleanup_vstore_ struct vol_store s = VOL_STORE_INIT;
	_cleanup_(strvp) char **names = NULL;
	bool quiet = argc > 1 && (strcmp(argv[1], "-q") == 0 || strcmp(argv[1], "--quiet") == 0);
	int r;

	if (open_store(&s) < 0)
		return 1;
	r = vol_store_list(&s, &names);
	if (r < 0) {
		log_error_errno(r, "list volumes");
		return 1;
	}
	if (!quiet)
		printf("%-8s %-40s %s\n", "DRIVER", "VOLUME NAME", "USED BY");
	for (size_t i = 0; names[i]; i++) {
		_cleanup_(cJSON_Deletep) cJSON *m = NULL;
		int used;

		if (quiet) {
			printf("%s\n", names[i]);
			continue;
		}
		if (vol_store_inspect(&s, names[i], &m) < 0)
			continue;   /* removed meanwhile */
		used = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(m, "UsedBy"));
		printf("%-8s %-40s %d\n", "local", names[i], used);
	}
	return 0;
}

static int cmd_inspect(int argc, char **argv)
{
	_cleanup_vstore_ struct vol_store s = VOL_STORE_INIT;
	_cleanup_(cJSON_Deletep) cJSON *out = cJSON_CreateArray();
	_cleanup_free_ char *text = NULL;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: berth volume inspect NAME...\n");
		return 2;
	}
	if (!out || open_store(&s) < 0)
		return 1;
	for (int i = 1; i < argc; i++) {
		cJSON *m = NULL;
		int r = vol_store_inspect(&s, argv[i], &m);

		if (r < 0) {
			log_error("no such volume: %s", argv[i]);
			rc = 1;
			continue;
		}
		cJSON_AddItemToArray(out, m);
	}
	text = cJSON_Print(out);
	if (text)
		printf("%s\n", text);
	return rc;
}

static int cmd_rm(int argc, char **argv)
{
	_cleanup_vstore_ struct vol_store s = VOL_STORE_INIT;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: berth volume rm NAME...\n");
		return 2;
	}
	if (open_store(&s) < 0)
		return 1;
	for (int i = 1; i < argc; i++) {
		int r = vol_store_remove(&s, argv[i]);

		if (r == -EBUSY)
			log_error("volume '%s' is in use (see 'berth volume inspect %s')", argv[i], argv[i]);
		else if (r == -ENOENT || r == -EINVAL)
			log_error("no such volume: %s", argv[i]);
		else if (r < 0)
			log_error_errno(r, "remove volume '%s'", argv[i]);
		else
			printf("%s\n", argv[i]);
		rc |= r < 0;
	}
	return rc;
}

static int cmd_prune(int argc, char **argv)
{
	_cleanup_vstore_ struct vol_store s = VOL_STORE_INIT;
	_cleanup_(strvp) char **gone = NULL;
	int r;

	(void)argc;
	(void)argv;
	if (open_store(&s) < 0)
		return 1;
	r = vol_store_prune(&s, &gone);
	for (size_t i = 0; gone && gone[i]; i++)
		printf("Deleted: %s\n", gone[i]);
	if (r < 0) {
		log_error_errno(r, "prune volumes");
		return 1;
	}
	return 0;
}

static int use(int argc, char **argv, bool acquire)
{
	_cleanup_vstore_ struct vol_store s = VOL_STORE_INIT;
	_cleanup_(cfgp) struct vol_cfg cfg = { 0 };
	char path[PATH_MAX];
	int r;

	if (argc != 3) {
		fprintf(stderr, "usage: berth volume %s NAME TASK-ID\n", acquire ? "acquire" : "release");
		return 2;
	}
	if (load_cfg(&cfg) < 0 || open_store(&s) < 0)
		return 1;
	r = acquire ? vol_store_acquire(&s, &cfg, argv[1], argv[2], path, sizeof(path))
		    : vol_store_release(&s, argv[1], argv[2]);
	if (r < 0) {
		log_error_errno(r, "%s volume '%s' for '%s'", acquire ? "acquire" : "release", argv[1],
				argv[2]);
		return 1;
	}
	if (acquire)
		printf("%s\n", path);
	return 0;
}

static int cmd_acquire(int argc, char **argv) { return use(argc, argv, true); }
static int cmd_release(int argc, char **argv) { return use(argc, argv, false); }

BERTH_COMMAND(volume_create, "volume create", cmd_create, "create a named volume (driver local)");
BERTH_COMMAND(volume_ls, "volume ls", cmd_ls, "list named volumes");
BERTH_COMMAND(volume_inspect, "volume inspect", cmd_inspect, "show named volumes as JSON");
BERTH_COMMAND(volume_rm, "volume rm", cmd_rm, "remove named volumes (refused while in use)");
BERTH_COMMAND(volume_prune, "volume prune", cmd_prune, "remove every unused named volume");
BERTH_COMMAND(volume_acquire, "volume acquire", cmd_acquire,
	      "mark a volume used by a task (mounts its driver); prints its data dir");
BERTH_COMMAND(volume_release, "volume release", cmd_release,
	      "drop a task's use of a volume (unmounts its driver when unused)");
