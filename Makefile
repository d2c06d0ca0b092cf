# berth - one binary: daemon, agent, shim, runtime and CLI.
#
#   make            build $(BUILD)/berth (optimised)
#   make asan       build $(BUILD)/asan/berth (AddressSanitizer + UBSan)
#   make unit       build the cmocka unit tests (sanitized)
#   make test       install missing packages, then run every suite (tests/run)
#   make demo       install missing packages, build, run the demo
#   make bench      every benchmark (bench/*)
#   make deps       install missing Debian packages (idempotent)
#
# BUILD=dir lets several builds of one tree run side by side.

BUILD    ?= build
CC       ?= gcc
PKGS     := libseccomp libcap libnl-3.0 libnl-route-3.0 libmnl libnftnl \
            libcjson libmicrohttpd sqlite3 libcrypto libcurl libarchive
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CFLAGS   ?= -O2 -g
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE -I. $(WARN) $(CFLAGS) $(PKG_CFLAGS) -MMD -MP
SAN      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDLIBS   := -Wl,--as-needed $(PKG_LIBS)

SRCDIRS  := lib images runtime cgroup policy kconfig netns volumes scheduler control api store agent cli
SRCS     := $(foreach d,$(SRCDIRS),$(wildcard $(d)/*.c))
MAIN     := cli/main.c
LIBSRCS  := $(filter-out $(MAIN),$(SRCS))
OBJS     := $(SRCS:%.c=$(BUILD)/obj/%.o)
ASAN_OBJS := $(SRCS:%.c=$(BUILD)/asan/obj/%.o)
ASAN_LIBOBJS := $(LIBSRCS:%.c=$(BUILD)/asan/obj/%.o)
# berth-shim: the per-task shim alone, linked lean (no HTTP, SQLite, TLS
# or image libraries) so each running task costs little memory (PSS).
SHIM_SRCS := $(foreach d,lib cgroup policy,$(wildcard $(d)/*.c)) \
             $(filter-out runtime/cmd_%.c volumes/cmd_%.c,$(wildcard runtime/*.c volumes/*.c)) $(MAIN)
SHIM_OBJS := $(SHIM_SRCS:%.c=$(BUILD)/obj/%.o)
SHIM_ASAN_OBJS := $(SHIM_SRCS:%.c=$(BUILD)/asan/obj/%.o)
SHIM_LIBS := -Wl,--as-needed $(shell pkg-config --libs libseccomp libcap libcjson 2>/dev/null)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/asan/tests/%)

.PHONY: all asan unit test demo bench deps clean format
all: $(BUILD)/berth $(BUILD)/berth-shim

$(BUILD)/berth: $(OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/berth-shim: $(SHIM_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(SHIM_LIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

asan: $(BUILD)/asan/berth $(BUILD)/asan/berth-shim
$(BUILD)/asan/berth: $(ASAN_OBJS)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LDLIBS)

$(BUILD)/asan/berth-shim: $(SHIM_ASAN_OBJS)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(SHIM_LIBS)

$(BUILD)/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -c -o $@ $<

unit: $(UNIT_BINS)
$(BUILD)/asan/tests/%: tests/unit/%.c $(ASAN_LIBOBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -o $@ $^ $(LDLIBS) -lcmocka

deps:
	@scripts/deps

test: deps
	@tests/run

demo: deps
	@scripts/demo

# Every benchmark in turn: containers vs crun, the API, tasks, images,
# networking, the scheduler.  Never part of the tests.
bench: deps all
	@for b in run api tasks images netns sched/run; do \
		echo "== bench/$$b"; BUILD=$(BUILD) bench/$$b || exit 1; \
	done

format:
	clang-format -i $(SRCS) $(wildcard */*.h) $(UNIT_SRCS)

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d)
