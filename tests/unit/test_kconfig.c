/* The kernel config parser (hostile input included), the option table
 * against kconfig/berth.config, and the probes that need no root. */
#include <errno.h>
#include <net/if.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "kconfig/kconfig.h"
#include "lib/cleanup.h"
#include "lib/fileio.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void test_lookup_values(void **state)
{
	static const char cfg[] =
		"#\n# Automatically generated file; DO NOT EDIT.\n#\n"
		"CONFIG_A=y\n"
		"CONFIG_B=m\n"
		"# CONFIG_C is not set\n"
		"CONFIG_D=n\n"
		"CONFIG_E=\"string value\"\n"
		"CONFIG_F=0x10\n"
		"CONFIG_G=y\r\n"
		"CONFIG_LAST=y"; /* no final newline */

	(void)state;
	assert_int_equal(kconfig_lookup(S(cfg), "CONFIG_A"), KC_BUILTIN);
	assert_int_equal(kconfig_lookup(S(cfg), "CONFIG_B"), KC_MODULE);
	assert_int_equal(kconfig_lookup(S(cfg), "CONFIG_C"), KC_NO);
	assert_int_equal(kconfig_lookup(S(cfg), "CONFIG_D"), KC_NO);
	assert_int_equal(kconfig_lookup(S(cfg), "CONFIG_E"), KC_OTHER);
	assert_int_equal(kconfig_lookup(S(cfg), "CONFIG_F"), KC_OTHER);
	assert_int_equal(kconfig_lookup(S(cfg), "CONFIG_G"), KC_BUILTIN);
	assert_int_equal(kconfig_lookup(S(cfg), "CONFIG_LAST"), KC_BUILTIN);
	assert_int_equal(kconfig_lookup(S(cfg), "CONFIG_MISSING"), KC_ABSENT);
	/* a prefix of a name is not the name */
	assert_int_equal(kconfig_lookup(S(cfg), "CONFIG_"), KC_ABSENT);
	assert_int_equal(kconfig_lookup(S("CONFIG_AB=y\n"), "CONFIG_A"), KC_ABSENT);
}

static void test_last_wins(void **state)
{
	(void)state;
	assert_int_equal(kconfig_lookup(S("CONFIG_X=y\n# CONFIG_X is not set\n"), "CONFIG_X"), KC_NO);
	assert_int_equal(kconfig_lookup(S("# CONFIG_X is not set\nCONFIG_X=m\n"), "CONFIG_X"),
			 KC_MODULE);
}

static void test_hostile_lines(void **state)
{
	static const char *const bad[] = {
		"CONFIG_=y",           /* no name after the prefix */
		"CONFIG_X",            /* no '=' */
		"CONFIG_X=",           /* no value */
		"=y",                  /* no name */
		"CONFIG X=y",          /* space in the name */
		"CONFIG_X-Y=y",        /* '-' in the name */
		" CONFIG_X=y",         /* leading space */
		"config_x=y",          /* not the prefix */
		"FOO=y",               /* not a CONFIG_ option */
		"CONFIG_\xff=y",       /* non-ASCII */
	};
	size_t bad_n;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		size_t seen = kconfig_parse(bad[i], strlen(bad[i]), NULL, NULL, &bad_n);

		if (seen != 0 || bad_n != 1)
			fail_msg("'%s': seen %zu bad %zu", bad[i], seen, bad_n);
	}
	/* comments that only look like "is not set" are comments, not options */
	assert_int_equal(kconfig_parse(S("# CONFIG_ is not set\n# CONFIG_X is not\n#CONFIG_X is not set\n"),
				       NULL, NULL, &bad_n), 0);
	assert_int_equal(bad_n, 0);
	assert_int_equal(kconfig_lookup(S("#CONFIG_X is not set"), "CONFIG_X"), KC_ABSENT);
}

static void test_hostile_buffers(void **state)
{
	static const char nul[] = "CONFIG_A=y\nCONFIG_B\0=y\nCONFIG_C=y\n";
	size_t bad_n, big = 1 << 20;
	_cleanup_free_ char *buf = malloc(big);
	char one = 'C';

	(void)state;
	/* an embedded NUL spoils only its own line */
	assert_int_equal(kconfig_parse(nul, sizeof(nul) - 1, NULL, NULL, &bad_n), 2);
	assert_int_equal(bad_n, 1);
	assert_int_equal(kconfig_lookup(nul, sizeof(nul) - 1, "CONFIG_B"), KC_ABSENT);
	assert_int_equal(kconfig_lookup(nul, sizeof(nul) - 1, "CONFIG_C"), KC_BUILTIN);

	/* empty input, a single byte, LEN cutting a line short */
	assert_int_equal(kconfig_parse("", 0, NULL, NULL, &bad_n), 0);
	assert_int_equal(kconfig_parse(&one, 1, NULL, NULL, &bad_n), 0);
	assert_int_equal(bad_n, 1);
	assert_int_equal(kconfig_lookup("CONFIG_A=y", 9, "CONFIG_A"), KC_ABSENT);

	/* one megabyte line without a newline: rejected, no overrun (ASan) */
	assert_non_null(buf);
	memset(buf, 'A', big);
	memcpy(buf, "CONFIG_", 7);
	assert_int_equal(kconfig_parse(buf, big, NULL, NULL, &bad_n), 0);
	assert_int_equal(bad_n, 1);
	/* a megabyte of newlines */
	memset(buf, '\n', big);
	assert_int_equal(kconfig_parse(buf, big, NULL, NULL, &bad_n), 0);
	assert_int_equal(bad_n, 0);
	/* a name longer than any real one */
	memset(buf, 'B', 300);
	memcpy(buf, "CONFIG_", 7);
	memcpy(buf + 300, "=y\n", 3);
	assert_int_equal(kconfig_parse(buf, 303, NULL, NULL, &bad_n), 0);
	assert_int_equal(bad_n, 1);
}

static void test_check_required(void **state)
{
	enum kc_value v[64];
	size_t required = 0;
	char cfg[8192];
	size_t off = 0;

	(void)state;
	assert_true(kc_options_count <= ARRAY_SIZE(v));
	for (size_t i = 0; i < kc_options_count; i++)
		if (kc_options[i].level == KC_REQUIRED)
			required++;
	/* nothing set: every required option is missing */
	assert_int_equal(kconfig_check(S("\n"), v), required);
	for (size_t i = 0; i < kc_options_count; i++)
		assert_int_equal(v[i], KC_ABSENT);

	/* all required as modules, VETH "not set", BRIDGE as a string */
	for (size_t i = 0; i < kc_options_count; i++) {
		const char *n = kc_options[i].name;

		if (strcmp(n, "CONFIG_VETH") == 0)
			off += (size_t)snprintf(cfg + off, sizeof(cfg) - off, "# %s is not set\n", n);
		else if (strcmp(n, "CONFIG_BRIDGE") == 0)
			off += (size_t)snprintf(cfg + off, sizeof(cfg) - off, "%s=\"y\"\n", n);
		else
			off += (size_t)snprintf(cfg + off, sizeof(cfg) - off, "%s=m\n", n);
	}
	assert_true(off < sizeof(cfg));
	assert_int_equal(kconfig_check(cfg, off, v), 2);
	for (size_t i = 0; i < kc_options_count; i++) {
		if (strcmp(kc_options[i].name, "CONFIG_VETH") == 0)
			assert_int_equal(v[i], KC_NO);
		else if (strcmp(kc_options[i].name, "CONFIG_BRIDGE") == 0)
			assert_int_equal(v[i], KC_OTHER);
		else
			assert_int_equal(v[i], KC_MODULE);
	}
}

/* kc_options is the same list, in the same order and sections, as the
 * fragment the kernel builders merge. */
static void test_table_matches_fragment(void **state)
{
	_cleanup_free_ char *buf = NULL;
	size_t len, i = 0;
	enum kc_level level = KC_REQUIRED;
	const char *p;
	int r;

	(void)state;
	r = read_file_alloc("kconfig/berth.config", 1 << 20, &buf, &len);
	if (r == -ENOENT)
		r = read_file_alloc("../kconfig/berth.config", 1 << 20, &buf, &len);
	assert_int_equal(r, 0);
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		char name[128];

		if (strncmp(p, "# ---- RECOMMENDED", 18) == 0)
			level = KC_RECOMMENDED;
		else if (strncmp(p, "# ---- OPTIONAL", 15) == 0)
			level = KC_OPTIONAL;
		if (strncmp(p, "CONFIG_", 7) != 0)
			continue;
		assert_int_equal(sscanf(p, "%127[A-Z0-9_]=y", name), 1);
		assert_true(p[-2] != '\n'); /* preceded by its comment line, not a blank */
		assert_true(i < kc_options_count);
		assert_string_equal(kc_options[i].name, name);
		assert_int_equal(kc_options[i].level, level);
		i++;
	}
	assert_int_equal(i, kc_options_count);
	/* and the fragment parses cleanly as a .config */
	{
		enum kc_value v[64];
		size_t bad_n;

		assert_int_equal(kconfig_parse(buf, len, NULL, NULL, &bad_n), kc_options_count);
		assert_int_equal(bad_n, 0);
		assert_int_equal(kconfig_check(buf, len, v), 0);
	}
}

static void test_probe_filesystem(void **state)
{
	static const char fs[] = "nodev\tsysfs\nnodev\toverlayish\n\text4\nnodev\toverlay\n";
	char path[] = "/tmp/berth-test-fs-XXXXXX";
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, fs, sizeof(fs) - 1), sizeof(fs) - 1);
	close(fd);
	assert_int_equal(probe_filesystem(path, "overlay"), 0);
	assert_int_equal(probe_filesystem(path, "ext4"), 0);
	assert_int_equal(probe_filesystem(path, "ext"), -ENODEV);
	assert_int_equal(probe_filesystem(path, "sys"), -ENODEV);
	assert_int_equal(probe_filesystem(path, "btrfs"), -ENODEV);
	unlink(path);
	assert_int_equal(probe_filesystem(path, "overlay"), -ENOENT);
}

/* The link probes run in a throwaway netns: an unknown kind fails, a known
 * one succeeds, and nothing appears in ours. */
static void test_probe_links(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	assert_int_equal(probe_link_kind("veth"), 0);
	assert_int_equal(probe_link_kind("bridge"), 0);
	assert_true(probe_link_kind("berth-no-such-kind") < 0);
	assert_int_equal(if_nametoindex("berthprobe0"), 0);
	assert_int_equal(probe_net_ns(), 0);
	assert_int_equal(probe_nf_tables(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup_values),
		cmocka_unit_test(test_last_wins),
		cmocka_unit_test(test_hostile_lines),
		cmocka_unit_test(test_hostile_buffers),
		cmocka_unit_test(test_check_required),
		cmocka_unit_test(test_table_matches_fragment),
		cmocka_unit_test(test_probe_filesystem),
		cmocka_unit_test(test_probe_links),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
