/* runtime/cmd_run.c - `berth container run`: the front-end of runtime/.
 * Exit status: the container's; 128+N for signal N (137 when the OOM killer
 * took pid 1); 125 (one line on stderr) when berth itself fails.  Any OOM
 * kill in the container is reported on stderr as OutOfMemoryError. */
#include <stdio.h>
#include <stdlib.h>

#include "lib/cmd.h"
#include "lib/err.h"
#include "lib/log.h"
#include "runtime/runtime.h"

#define EXIT_RUNTIME_FAILURE 125

static void warn_unenforced(const struct rt_plan *p)
{
	const struct cg_host *h = &p->host;

	log_warn("cgroup v2 at '%s' lacks%s%s: running UNENFORCED (cgroup-enforce=off), "
		 "those limits are not applied",
		 h->mount, h->has_cpu ? "" : " cpu", h->has_memory ? "" : " memory");
}

static int cmd_container_run(int argc, char **argv)
{
	struct err e = ERR_INIT;
	struct rt_spec spec;
	struct rt_plan plan;
	struct rt_result res;
	int r;

	r = rt_spec_parse(argc, argv, getenv("BERTH_CGROUP_ENFORCE"),
			  getenv("BERTH_CGROUP_PARENT"), &spec, &e);
	if (r < 0) {
		log_error("%s", e.msg);
		return EXIT_RUNTIME_FAILURE;
	}
	if (spec.help) {
		fputs(rt_spec_usage, stdout);
		rt_spec_release(&spec);
		return 0;
	}
	r = rt_plan(&spec, &plan, &e);
	if (r < 0) {
		log_error("%s", e.msg);
		rt_spec_release(&spec);
		return EXIT_RUNTIME_FAILURE;
	}
	/* Test seam: exercise the path for kernels without CLONE_INTO_CGROUP. */
	plan.force_clone_fallback = getenv("BERTH_TEST_CLONE_FALLBACK") != NULL;
	if (plan.unenforced)
		warn_unenforced(&plan);
	fflush(NULL); /* nothing buffered may be written twice by the child */
	r = rt_container_run(&plan, &res, &e);
	rt_plan_release(&plan);
	rt_spec_release(&spec);
	if (r < 0) {
		log_error("%s", e.msg);
		return EXIT_RUNTIME_FAILURE;
	}
	if (res.oom_killed)
		fprintf(stderr, "OutOfMemoryError: Container killed due to memory usage\n");
	return res.exit_code;
}

BERTH_COMMAND(container_run, "container run", cmd_container_run,
	      "run one container (low-level, like `crun run`)");
