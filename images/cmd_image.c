/* images/cmd_image.c - `berth image load|pull|ls|inspect|rm|prune|mount|umount`. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "images/config.h"
#include "images/image.h"
#include "images/load.h"
#include "images/pull.h"
#include "images/rootfs.h"
#include "lib/cleanup.h"
#include "lib/cmd.h"
#include "lib/err.h"
#include "lib/json.h"
#include "lib/log.h"

static void storep(struct img_store **s) { img_store_free(*s); }
#define _cleanup_store_ _cleanup_(storep)

static struct img_store *open_store(void)
{
	struct err e = ERR_INIT;
	struct img_store *s = img_store_open(NULL, &e);

	if (!s)
		log_error("%s", e.msg);
	return s;
}

static int fail(const struct err *e)
{
	log_error("%s", e->msg);
	return 1;
}

static void print_loaded(const char *digest, char *const *names, void *data)
{
	(void)data;
	if (!names || !names[0])
		printf("Loaded image: %s\n", digest);
	for (size_t i = 0; names && names[i]; i++)
		printf("Loaded image: %s (%s)\n", names[i], digest);
}

static int cmd_load(int argc, char **argv)
{
	static const struct option opts[] = { { "name", required_argument, NULL, 'n' }, { 0 } };
	_cleanup_store_ struct img_store *s = NULL;
	struct err e = ERR_INIT;
	const char *name = NULL;
	int c;

	while ((c = getopt_long(argc, argv, "n:", opts, NULL)) != -1) {
		if (c != 'n')
			return 2;
		name = optarg;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: berth image load [--name REF] FILE|DIR\n");
		return 2;
	}
	s = open_store();
	if (!s)
		return 1;
	if (img_load(s, argv[optind], name, print_loaded, NULL, &e) < 0)
		return fail(&e);
	return 0;
}

static void show_progress(const char *digest, uint64_t done, uint64_t total, void *data)
{
	(void)data;
	if (total)
		fprintf(stderr, "\r%.19s  %7.1f / %7.1f MB", digest, (double)done / 1e6, (double)total / 1e6);
	else
		fprintf(stderr, "\r%.19s  %7.1f MB", digest, (double)done / 1e6);
	if (total && done == total)
		fputc('\n', stderr);
}

static const char PULL_USAGE[] =
	"usage: berth image pull [-q] REF\n"
	"Environment:\n"
	"  BERTH_DEFAULT_REGISTRY     registry for bare names (default docker.io)\n"
	"  BERTH_REGISTRY_AUTH        credentials: \"host=user:pass\" entries, separated by\n"
	"                             spaces or commas; a bare \"user:pass\" entry is for\n"
	"                             BERTH_DEFAULT_REGISTRY only (and only when it is set).\n"
	"                             Else the docker config's \"auths\". Sent only when the\n"
	"                             registry asks (401 Basic, or to its Bearer token realm)\n"
	"  BERTH_INSECURE_REGISTRIES  hosts spoken to over plain HTTP; for all others token\n"
	"                             realms and redirects must be HTTPS too\n"
	"  BERTH_IMAGE_MAX_UNPACKED   cap on a layer's unpacked file data (default 16G;\n"
	"                             never past the free space less a margin)\n"
	"  BERTH_IMAGE_MAX_ENTRIES    cap on a layer's entries (default 1000000)\n";

static int cmd_pull(int argc, char **argv)
{
	_cleanup_store_ struct img_store *s = NULL;
	struct img_pull_opts o = { 0 };
	struct err e = ERR_INIT;
	char digest[IMG_DIGEST_MAX];
	int c;
	bool quiet = false;

	while ((c = getopt(argc, argv, "qh")) != -1) {
		if (c == 'h') {
			fputs(PULL_USAGE, stdout);
			return 0;
		}
		if (c != 'q')
			return 2;
		quiet = true;
	}
	if (optind != argc - 1) {
		fputs(PULL_USAGE, stderr);
		return 2;
	}
	if (!quiet && isatty(STDERR_FILENO))
		o.progress = show_progress;
	s = open_store();
	if (!s)
		return 1;
	if (img_pull(s, argv[optind], &o, digest, &e) < 0)
		return fail(&e);
	printf("%s\n", digest);
	return 0;
}

/* What a task does before it starts: BERTH_IMAGE_PULL_BEHAVIOR decides
 * whether the network is touched at all. */
static int cmd_ensure(int argc, char **argv)
{
	_cleanup_store_ struct img_store *s = NULL;
	struct err e = ERR_INIT;
	enum img_pull_behavior b;
	const char *env = getenv("BERTH_IMAGE_PULL_BEHAVIOR");
	char digest[IMG_DIGEST_MAX];
	bool stale = false;

	if (argc != 2) {
		fprintf(stderr, "usage: berth image ensure REF\n");
		return 2;
	}
	if (img_pull_behavior_parse(env, &b) < 0) {
		log_error("BERTH_IMAGE_PULL_BEHAVIOR='%s': expected default, always, once or prefer-cached", env);
		return 2;
	}
	s = open_store();
	if (!s)
		return 1;
	if (img_ensure_with(s, argv[1], b, NULL, &stale, &e) < 0 || img_resolve(s, argv[1], digest, &e) < 0)
		return fail(&e);
	if (stale)
		log_warn("pull '%s' failed, using the stored copy", argv[1]);
	printf("%s\n", digest);
	return 0;
}

struct ls_ctx {
	struct img_store *s;
	bool quiet;
};

static int64_t image_size(struct img_store *s, const char *digest)
{
	struct img_manifest m;
	struct err e = ERR_INIT;
	int64_t sum = 0;

	if (img_manifest_load(s, digest, &m, &e) < 0)
		return -1;
	for (size_t i = 0; i < m.nlayers; i++)
		sum += m.layers[i].size > 0 ? m.layers[i].size : 0;
	img_manifest_release(&m);
	return sum;
}

static int ls_one(const char *name, const char *digest, void *data)
{
	struct ls_ctx *c = data;

	if (c->quiet)
		printf("%s\n", name);
	else
		printf("%-60s %.12s  %8.1f MB  %d\n", name, digest + 7,
		       (double)image_size(c->s, digest) / 1e6, img_user_count(c->s, digest));
	return 0;
}

static int cmd_ls(int argc, char **argv)
{
	_cleanup_store_ struct img_store *s = NULL;
	struct ls_ctx c = { 0 };
	int r;

	c.quiet = argc > 1 && strcmp(argv[1], "-q") == 0;
	s = open_store();
	if (!s)
		return 1;
	c.s = s;
	if (!c.quiet)
		printf("%-60s %-12s  %11s  %s\n", "NAME", "ID", "SIZE", "CONTAINERS");
	r = img_tag_foreach(s, ls_one, &c);
	if (r < 0) {
		log_error_errno(r, "list images");
		return 1;
	}
	return 0;
}

struct names_ctx {
	const char *digest;
	cJSON *arr;
};

static int add_name(const char *name, const char *digest, void *data)
{
	struct names_ctx *c = data;

	if (strcmp(digest, c->digest) == 0)
		cJSON_AddItemToArray(c->arr, cJSON_CreateString(name));
	return 0;
}

static int cmd_inspect(int argc, char **argv)
{
	_cleanup_store_ struct img_store *s = NULL;
	_cleanup_(cJSON_Deletep) cJSON *out = cJSON_CreateObject();
	_cleanup_free_ char *manifest = NULL, *config = NULL, *text = NULL;
	struct err e = ERR_INIT;
	char digest[IMG_DIGEST_MAX];
	struct img_manifest m;
	struct names_ctx nc;
	size_t len;

	if (argc != 2) {
		fprintf(stderr, "usage: berth image inspect REF\n");
		return 2;
	}
	s = open_store();
	if (!s)
		return 1;
	if (img_resolve(s, argv[1], digest, &e) < 0 || img_manifest_load(s, digest, &m, &e) < 0)
		return fail(&e);
	nc = (struct names_ctx){ .digest = digest, .arr = cJSON_AddArrayToObject(out, "Names") };
	cJSON_AddStringToObject(out, "Id", digest);
	(void)img_tag_foreach(s, add_name, &nc);   /* names are decoration here */
	cJSON_AddNumberToObject(out, "Containers", img_user_count(s, digest));
	{
		cJSON *layers = cJSON_AddArrayToObject(out, "Layers");

		for (size_t i = 0; i < m.nlayers; i++)
			cJSON_AddItemToArray(layers, cJSON_CreateString(m.layers[i].digest));
	}
	cJSON_AddStringToObject(out, "ConfigDigest", m.config.digest);
	if (img_blob_read(s, m.config.digest, 8 << 20, &config, &len) == 0)
		cJSON_AddItemToObject(out, "Config", cJSON_ParseWithLength(config, len));
	img_manifest_release(&m);
	text = cJSON_Print(out);
	if (!text)
		return 1;
	printf("%s\n", text);
	return 0;
}

static int cmd_rm(int argc, char **argv)
{
	_cleanup_store_ struct img_store *s = NULL;
	int rc = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: berth image rm REF...\n");
		return 2;
	}
	s = open_store();
	if (!s)
		return 1;
	for (int i = 1; i < argc; i++) {
		struct err e = ERR_INIT;

		if (img_remove(s, argv[i], &e) < 0)
			rc = fail(&e);
		else
			printf("Untagged: %s\n", argv[i]);
	}
	return rc;
}

static int cmd_prune(int argc, char **argv)
{
	_cleanup_store_ struct img_store *s = NULL;
	struct err e = ERR_INIT;
	unsigned blobs, layers;

	(void)argv;
	if (argc != 1) {
		fprintf(stderr, "usage: berth image prune\n");
		return 2;
	}
	s = open_store();
	if (!s)
		return 1;
	if (img_prune(s, &blobs, &layers, &e) < 0)
		return fail(&e);
	printf("Removed %u blobs and %u layers\n", blobs, layers);
	return 0;
}

static int cmd_mount(int argc, char **argv)
{
	_cleanup_store_ struct img_store *s = NULL;
	struct err e = ERR_INIT;
	char mp[PATH_MAX], dir[PATH_MAX];

	if (argc != 3) {
		fprintf(stderr, "usage: berth image mount REF CONTAINER_DIR\n");
		return 2;
	}
	if (!realpath(argv[2], dir)) {
		log_error_errno(-errno, "container directory '%s'", argv[2]);
		return 1;
	}
	s = open_store();
	if (!s)
		return 1;
	if (img_rootfs_mount(s, argv[1], dir, mp, &e) < 0)
		return fail(&e);
	printf("%s\n", mp);
	return 0;
}

static int cmd_umount(int argc, char **argv)
{
	_cleanup_store_ struct img_store *s = NULL;
	struct err e = ERR_INIT;
	char dir[PATH_MAX];

	if (argc != 2) {
		fprintf(stderr, "usage: berth image umount CONTAINER_DIR\n");
		return 2;
	}
	if (!realpath(argv[1], dir)) {
		log_error_errno(-errno, "container directory '%s'", argv[1]);
		return 1;
	}
	s = open_store();
	if (!s)
		return 1;
	if (img_rootfs_umount(s, dir, &e) < 0)
		return fail(&e);
	return 0;
}

BERTH_COMMAND(image_load, "image load", cmd_load, "load docker-archive/oci-archive/OCI layout");
BERTH_COMMAND(image_pull, "image pull", cmd_pull, "pull an image from a registry");
BERTH_COMMAND(image_ensure, "image ensure", cmd_ensure, "make an image present per BERTH_IMAGE_PULL_BEHAVIOR");
BERTH_COMMAND(image_ls, "image ls", cmd_ls, "list stored images");
BERTH_COMMAND(image_inspect, "image inspect", cmd_inspect, "show an image's manifest and config");
BERTH_COMMAND(image_rm, "image rm", cmd_rm, "remove image names (refused while in use)");
BERTH_COMMAND(image_prune, "image prune", cmd_prune, "delete unused blobs and layers");
BERTH_COMMAND(image_mount, "image mount", cmd_mount, "mount an image's rootfs at DIR/rootfs");
BERTH_COMMAND(image_umount, "image umount", cmd_umount, "unmount DIR/rootfs, remove upper/work");
