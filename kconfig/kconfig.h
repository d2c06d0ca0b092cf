/* kconfig/kconfig.h - the kernel options berth needs, a pure parser for
 * kernel .config text, and live probes of the running system.
 *
 * The parser never allocates and never reads past LEN: the text may come
 * from any file.  The probes fork children that make throwaway namespaces;
 * nothing is created in the caller's own namespaces.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

enum kc_level {
	KC_REQUIRED,
	KC_RECOMMENDED,
	KC_OPTIONAL,
};

/* One option of kconfig/berth.config (the same list, in the same order). */
struct kc_option {
	const char *name;   /* "CONFIG_VETH" */
	enum kc_level level;
	const char *why;    /* the fragment's comment */
};

extern const struct kc_option kc_options[];
extern const size_t kc_options_count;

/* What a .config says about one option. */
enum kc_value {
	KC_ABSENT,  /* not mentioned (e.g. an option this kernel does not have) */
	KC_NO,      /* "# CONFIG_X is not set" or CONFIG_X=n */
	KC_BUILTIN, /* =y */
	KC_MODULE,  /* =m */
	KC_OTHER,   /* a number or a string */
};

/* Calls CB for every well-formed assignment or "is not set" line of BUF
 * (LEN bytes, need not be NUL-terminated); NAME and VALUE point into BUF and
 * are not NUL-terminated.  Malformed lines are skipped and counted in
 * *ret_bad (may be NULL).  Returns the number of options seen. */
typedef void kc_visit_cb(const char *name, size_t name_len, enum kc_value v, void *data);
size_t kconfig_parse(const char *buf, size_t len, kc_visit_cb *cb, void *data, size_t *ret_bad);

/* Looks up NAME ("CONFIG_X") in BUF; the last mention wins, as in kconfig. */
enum kc_value kconfig_lookup(const char *buf, size_t len, const char *name);

/* Fills RET[i] with the value of kc_options[i] in BUF (RET has
 * kc_options_count entries).  Returns how many REQUIRED options are neither
 * built in nor modules. */
size_t kconfig_check(const char *buf, size_t len, enum kc_value *ret);

/* Reads the running kernel's config: /proc/config.gz (decompressed with
 * gzip -dc), else /boot/config-$(uname -r).  *ret is malloc'd and
 * NUL-terminated; *ret_source names the file.  -ENOENT when neither exists. */
int kconfig_read_running(char **ret, size_t *ret_len, const char **ret_source);

/* ---- live probes: 0 = present, negative errno = absent or failed ---- */

int probe_clone3(void);
int probe_seccomp_filter(void);
int probe_user_ns(void);
int probe_net_ns(void);
/* "overlay" in /proc/filesystems (FILESYSTEMS when not NULL, for tests). */
int probe_filesystem(const char *filesystems, const char *fstype);
/* Creates a link of KIND ("veth", "bridge") in a throwaway netns. */
int probe_link_kind(const char *kind);
/* Creates and deletes an inet nf_tables table in a throwaway netns. */
int probe_nf_tables(void);
