/* cli/lean_image.c - `container run --image` in the lean binary
 * (runtime/run_image.h): images need libarchive, libcurl and libcrypto,
 * which the lean `berth` does not load, so the whole command goes to the
 * full binary before anything is made. */
#include "runtime/run_image.h"

#include "cli/lean.h"

int run_image_prepare(struct rt_spec *s, struct run_image **ret, struct err *e)
{
	(void)s;
	*ret = NULL;
	berth_exec_full(e);   /* returns only on failure */
	return err_wrap(e, "--image");
}

int run_image_release(struct rt_spec *s, struct run_image *ir, struct err *e)
{
	(void)s;
	(void)ir;
	(void)e;
	return 0;
}
