/* `berth version` */
#include <stdio.h>

#include "lib/cmd.h"

#ifndef BERTH_VERSION
#define BERTH_VERSION "0.1.0"
#endif

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("berth %s\n", BERTH_VERSION);
	return 0;
}

BERTH_COMMAND(version, "version", cmd_version, "print the version");
