# berth - one command: daemon, agent, shim, runtime and CLI.
#
#   make            build $(BUILD)/berth (optimised)
#   make asan       build $(BUILD)/asan/berth (AddressSanitizer + UBSan)
#
# $(BUILD)/berth is the lean front door (cli/lean.h): the container start
# path (container run, shim, logs, volume, version) linked with libseccomp,
# libcap and libcjson only; it execs $(BUILD)/libexec/berth-full (every
# command, every library) for the rest.  Same pair under $(BUILD)/asan/.
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
# files only the lean berth links (see LEAN_SRCS)
LEAN_ONLY := cli/lean_image.c
SRCS     := $(filter-out $(LEAN_ONLY),$(foreach d,$(SRCDIRS),$(wildcard $(d)/*.c)))
MAIN     := cli/main.c
LIBSRCS  := $(filter-out $(MAIN),$(SRCS))
OBJS     := $(SRCS:%.c=$(BUILD)/obj/%.o)
ASAN_OBJS := $(SRCS:%.c=$(BUILD)/asan/obj/%.o)
ASAN_LIBOBJS := $(LIBSRCS:%.c=$(BUILD)/asan/obj/%.o)
# The lean berth: no HTTP, SQLite, TLS, netlink or image libraries, so a
# container starts (and each task's shim lives) without loading them.
# cli/main.c is built again with -DBERTH_LEAN (main-lean.o); LEAN_ONLY
# files stand in for what needs the full binary.
LEAN_SRCS := $(foreach d,lib cgroup policy runtime volumes,$(wildcard $(d)/*.c)) $(LEAN_ONLY)
LEAN_SRCS := $(filter-out runtime/cmd_run_image.c,$(LEAN_SRCS))
LEAN_OBJS := $(LEAN_SRCS:%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/cli/main-lean.o
LEAN_ASAN_OBJS := $(LEAN_SRCS:%.c=$(BUILD)/asan/obj/%.o) $(BUILD)/asan/obj/cli/main-lean.o
# libseccomp and libcap linked in statically: two libraries fewer to map
# and relocate at every start, and no private pages of theirs in each shim.
LEAN_LIBS := -Wl,--as-needed -Wl,-Bstatic $(shell pkg-config --libs libseccomp libcap 2>/dev/null) \
             -Wl,-Bdynamic $(shell pkg-config --libs libcjson 2>/dev/null)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/asan/tests/%)

.PHONY: all asan unit test demo bench deps clean format
all: $(BUILD)/berth $(BUILD)/libexec/berth-full

$(BUILD)/libexec/berth-full: $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/berth: $(LEAN_OBJS)
	$(CC) $(CFLAGS) -o $@ $^ $(LEAN_LIBS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/obj/cli/main-lean.o: cli/main.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -DBERTH_LEAN -c -o $@ $<

asan: $(BUILD)/asan/berth $(BUILD)/asan/libexec/berth-full
$(BUILD)/asan/libexec/berth-full: $(ASAN_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LDLIBS)

$(BUILD)/asan/berth: $(LEAN_ASAN_OBJS)
	$(CC) $(CFLAGS) $(SAN) -o $@ $^ $(LEAN_LIBS)

$(BUILD)/asan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -c -o $@ $<

$(BUILD)/asan/obj/cli/main-lean.o: cli/main.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(SAN) -DBERTH_LEAN -c -o $@ $<

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
	clang-format -i $(SRCS) $(LEAN_ONLY) $(wildcard */*.h) $(UNIT_SRCS)

clean:
	rm -rf $(BUILD)

-include $(OBJS:.o=.d) $(ASAN_OBJS:.o=.d) $(LEAN_OBJS:.o=.d) $(LEAN_ASAN_OBJS:.o=.d)
