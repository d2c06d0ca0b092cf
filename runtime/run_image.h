/* runtime/run_image.h - what `container run --image REF` adds to a run.
 *
 * The image's rootfs (an overlay in $BERTH_STATE_DIR/containers/<name>,
 * pulled per BERTH_IMAGE_PULL_BEHAVIOR), command, env, workdir and user go
 * into the spec, the flags overriding the image's config as `docker run`
 * does.  Two builds: runtime/cmd_run_image.c (images/) in the full binary,
 * cli/lean_image.c in the lean `berth`, which hands such a run to the full
 * binary before anything is made.
 */
#pragma once

#include "lib/err.h"
#include "runtime/spec.h"

struct run_image;

/* *RET is set (even on failure, to what must be released) unless -ENOMEM. */
int run_image_prepare(struct rt_spec *s, struct run_image **ret, struct err *e);
/* Unmounts and removes whatever prepare made, gives the spec its own
 * arrays back and frees IR (NULL is fine).  The first error wins. */
int run_image_release(struct rt_spec *s, struct run_image *ir, struct err *e);
