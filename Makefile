# portshim - see README.md.  `make` builds build/libportshim.so; `make test`
# runs the whole suite; `make asan` / `make tsan` run it under sanitizers.

CC       ?= cc
PREFIX   ?= /usr/local
LIBDIR   ?= $(PREFIX)/lib
BUILD    ?= build
OPT      ?= -O2 -g
SANITIZE ?=

WARN     := -Wall -Wextra -Werror
CFLAGS   := -std=gnu11 $(OPT) $(WARN) -fPIC -fvisibility=hidden -D_GNU_SOURCE $(SANITIZE) $(EXTRA_CFLAGS)
# Each object lists the headers it read (-MMD -MP), included below.
DEPFLAGS := -MMD -MP
# A program made of several sources at once lists the headers of all of
# them: $(call deps,COMPILER FLAGS) after its link (-MMD would keep only
# the last source's).
deps = $(1) -MM -MP -MT $@ $< $(filter %.c,$(filter-out $<,$^)) > $@.d
LDFLAGS  := -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack $(SANITIZE) $(EXTRA_LDFLAGS)
LDLIBS   := -ldl -pthread
# The library loads on glibc 2.17 and later (shim/preload/symver.h binds the
# old versions of dlsym, dladdr and pthread_once): before glibc 2.34 those
# live in libdl.so.2 and libpthread.so.0, which it therefore names as needed.
# Empty in the musl build.
GLIBC_LIBS ?= -Wl,--push-state,--no-as-needed -l:libdl.so.2 -l:libpthread.so.0 -Wl,--pop-state

# The layers (shim/README.md): the core decides and describes, and builds
# into one archive that the library, the command, the unit tests and the
# fuzzers link; the preload layer is the library's interposition.
CORE_SRC    := $(wildcard shim/core/*.c)
# The two with large zeroed tables (the pending connects, the descriptor
# table) link last: the small variables every process writes at start-up
# then share one page instead of one each between the tables
# (tests/bench/README.md, (d)).
PRELOAD_BIG := shim/preload/pending.c shim/preload/sockstate.c
PRELOAD_SRC := $(filter-out $(PRELOAD_BIG),$(wildcard shim/preload/*.c shim/preload/hooks/*.c)) \
	$(PRELOAD_BIG)
UNIT_SRC    := $(wildcard tests/unit/test_*.c)

# `make V=1` shows the compiler command lines.
V        ?= 0
Q        := $(if $(filter 0,$(V)),@,)
say       = $(if $(filter 0,$(V)),@printf '  %-7s %s\n' $(1) $(2),@:)

OBJ      = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
CORE     := $(BUILD)/libportshim-core.a
LIBNAME  ?= libportshim.so
LIB      := $(BUILD)/$(LIBNAME)
UNITS    := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
HELPERS  := $(patsubst tests/helpers/%.c,$(BUILD)/helpers/%,$(wildcard tests/helpers/*.c))

# The portshim command (shim/cli/): linked with the core modules, so that it
# checks settings with the library's own parser.
CLI_SRC  := $(wildcard shim/cli/*.c)
# The seccomp supervisor (shim/seccomp/): part of the command, on libseccomp.
SECCOMP_SRC := $(wildcard shim/seccomp/*.c)
CLI      := $(BUILD)/portshim
# The BPF backend (shim/bpf/): its program compiled for the BPF target by
# clang, made into a skeleton (the object inside the command) by bpftool,
# and loaded with libbpf.  Where one of them is missing the command is
# built with shim/bpf/absent.c, which says so, and make says it here.
BPF_CLANG ?= clang
BPFTOOL   ?= $(firstword $(shell command -v bpftool 2>/dev/null) /usr/sbin/bpftool)
HAVE_BPF  := $(shell command -v $(BPF_CLANG) >/dev/null 2>&1 && test -x $(BPFTOOL) && \
		test -f /usr/include/bpf/libbpf.h && echo yes)
BPF_PROG_SRC := shim/bpf/portshim.bpf.c
BPF_USER_SRC := $(filter-out shim/bpf/absent.c $(BPF_PROG_SRC),$(wildcard shim/bpf/*.c))
BPF_SRC      := $(if $(HAVE_BPF),$(BPF_USER_SRC),shim/bpf/absent.c shim/bpf/cgroup.c)
BPF_SKEL     := $(BUILD)/bpf/portshim.skel.h
BPF_LIBS     := $(if $(HAVE_BPF),-lbpf)
ifneq ($(HAVE_BPF),yes)
ifneq ($(MAKECMDGOALS),clean)
$(info portshim: building without the bpf backend: needs $(BPF_CLANG), $(BPFTOOL) and libbpf-dev)
endif
endif
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man

# The musl build (for programs whose dynamic linker is musl's, as in Alpine
# images): the same sources compiled with musl-gcc in a tree of their own,
# the library named for its libc, with the test programs the musl tests
# run.  Skipped when musl-gcc is missing (make test then fails under
# PSTEST_STRICT=1) and in the sanitizer trees.
MUSL_CC      ?= musl-gcc
MUSL_BUILD   := $(BUILD)/musl
MUSL_LIBNAME := libportshim-musl.so
MUSL_LIB     := $(MUSL_BUILD)/$(MUSL_LIBNAME)
MUSL_HELPERS := portprobe nbconnect prefork hostile
HAVE_MUSL    := $(if $(SANITIZE),,$(shell command -v $(MUSL_CC) >/dev/null 2>&1 && echo yes))

# Static test programs for the seccomp backend (seccomp*.bats): built
# with gcc -static and without sanitizers in every tree, since a static
# program is exactly what cannot take a preloaded runtime; and a Go program
# built with CGO_ENABLED=0, when Go is installed, its cache under the build
# tree and nothing fetched.
STATIC_CC      ?= gcc
STATIC_HELPERS := portprobe threadconn prefork sigconn connhold nbconnect hostile churn
STATIC         := $(BUILD)/static
HAVE_STATIC    := $(shell printf 'int main(void){return 0;}' | $(STATIC_CC) -static -x c -o /dev/null - \
			2>/dev/null && echo yes)
HAVE_GO        := $(shell command -v go >/dev/null 2>&1 && echo yes)
SECCOMP_TESTS  := $(if $(HAVE_STATIC),$(addprefix $(STATIC)/,$(STATIC_HELPERS))) \
		  $(if $(HAVE_GO),$(BUILD)/go/goconn)

.PHONY: all test unit asan tsan install uninstall clean check-exports check-layers demo bench \
	fuzz musl musl-tree dist
all: $(LIB) $(CLI) $(UNITS) $(HELPERS) $(SECCOMP_TESTS) check-layers $(if $(HAVE_MUSL),musl)

musl:
	@$(MAKE) --no-print-directory BUILD=$(MUSL_BUILD) CC=$(MUSL_CC) LIBNAME=$(MUSL_LIBNAME) \
		GLIBC_LIBS= musl-tree check-exports
musl-tree: $(LIB) $(addprefix $(BUILD)/helpers/,$(MUSL_HELPERS))

# Everything is rebuilt when the flags change (a sanitizer tree, CC=clang);
# `make clean` alone creates nothing.
FLAGS_STAMP := $(BUILD)/.flags
ifneq ($(MAKECMDGOALS),clean)
$(shell mkdir -p $(BUILD) && echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $(FLAGS_STAMP) || \
	echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $(FLAGS_STAMP))
endif

# Inside the library and the command, headers are named from shim/:
# "core/runtime.h".  Test programs name the core's headers alone.
$(BUILD)/obj/%.o: %.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -Ishim -c $< -o $@

$(CORE): $(call OBJ,$(CORE_SRC))
	$(call say,AR,$@)
	$(Q)rm -f $@ && $(AR) rcs $@ $^

# The layers refer only downwards (tests/check-layers): core/ to nothing of
# preload/, seccomp/ or cli/, nor to any function the library interposes;
# preload/ and seccomp/ to nothing of each other or of cli/.
check-layers: $(CORE) $(call OBJ,$(PRELOAD_SRC) $(SECCOMP_SRC) $(BPF_SRC) $(CLI_SRC))
	@tests/check-layers $(BUILD) $(EXPORTS)

# The interposed calls: the only symbols the library exports.  The version
# script also hides what the C library's start files define (musl's crti.o
# makes _init and _fini global).
EXPORTS := bind close close_range connect dup dup2 dup3 execl execle execlp execv execve execvp \
           execvpe fcntl fcntl64 fexecve getsockopt sendmmsg sendmsg \
           sendto setns setsockopt socket unshare
$(BUILD)/exports.map: Makefile
	@mkdir -p $(dir $@)
	$(Q){ echo '{ global:'; printf '  %s;\n' $(EXPORTS); echo '  local: *;'; echo '};'; } >$@

$(LIB): $(call OBJ,$(PRELOAD_SRC)) $(CORE) $(BUILD)/exports.map
	$(call say,LD,$@)
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,--version-script=$(BUILD)/exports.map -o $@ \
		$(call OBJ,$(PRELOAD_SRC)) $(CORE) $(LDLIBS) $(GLIBC_LIBS)

$(CLI): $(call OBJ,$(CLI_SRC) $(SECCOMP_SRC) $(BPF_SRC)) $(CORE)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS) -lseccomp $(BPF_LIBS)

# The program for the BPF target: the core's shared headers (mix.h,
# rulematch.h) compile there as they are; -mcpu=v3 for atomic adds that
# return the old value (Linux 5.12).
$(BUILD)/bpf/portshim.bpf.o: $(BPF_PROG_SRC) $(wildcard shim/bpf/prog/*.h) shim/bpf/bpfshared.h \
		shim/core/mix.h shim/core/rulematch.h
	@mkdir -p $(dir $@)
	$(call say,BPF,$<)
	$(Q)$(BPF_CLANG) -O2 -g -target bpf -mcpu=v3 $(WARN) \
		-I/usr/include/$(shell gcc -print-multiarch 2>/dev/null) -Ishim -c $< -o $@
$(BPF_SKEL): $(BUILD)/bpf/portshim.bpf.o
	$(call say,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name portshim_bpf > $@.tmp && mv $@.tmp $@
# Every source of the backend includes the skeleton but cgroup.c, which
# the command builds without the backend too.
$(call OBJ,$(filter-out shim/bpf/cgroup.c,$(BPF_USER_SRC))): $(BPF_SKEL)
$(call OBJ,$(BPF_USER_SRC)): CFLAGS += -I$(BUILD)/bpf

$(BUILD)/unit/%: tests/unit/%.c $(CORE) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) $(DEPFLAGS) -Ishim/core -o $@ $< $(CORE) $(LDFLAGS) $(LDLIBS)

# The test programs name errno values with the library's own table; hostile
# is one program in several files (tests/helpers/hostile/).
HOSTILE_SRC := $(wildcard tests/helpers/hostile/*.c)
$(BUILD)/helpers/hostile: $(HOSTILE_SRC)
$(BUILD)/helpers/%: tests/helpers/%.c $(CORE) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) -Ishim/core -o $@ $< $(filter %.c,$(filter-out $<,$^)) \
		$(CORE) $(LDFLAGS) $(LDLIBS)
	$(Q)$(call deps,$(CC) $(CFLAGS) -Ishim/core)

# denysys makes a system call fail the way a container profile would.
$(BUILD)/helpers/denysys: LDLIBS += -lseccomp

$(STATIC)/hostile: $(HOSTILE_SRC)
$(STATIC)/%: tests/helpers/%.c shim/core/errnames.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,STATIC,$@)
	$(Q)$(STATIC_CC) -std=gnu11 -O2 $(WARN) -D_GNU_SOURCE -Ishim/core -static -pthread -o $@ \
		$< $(filter %.c,$(filter-out $<,$^))
	$(Q)$(call deps,$(STATIC_CC) -std=gnu11 -D_GNU_SOURCE -Ishim/core)

$(BUILD)/go/goconn: tests/helpers/go/goconn.go
	@mkdir -p $(BUILD)/go
	$(call say,GO,$@)
	$(Q)CGO_ENABLED=0 GO111MODULE=off GOPROXY=off GOFLAGS= GOCACHE=$(abspath $(BUILD))/go/cache \
		GOPATH=$(abspath $(BUILD))/go/path go build -o $@ $<

# Only the interposed calls may be exported (EXPORTS, with the version
# script made from it).
check-exports: $(LIB)
	@got=$$(nm -D --defined-only $(LIB) | awk '$$2 ~ /^[TtWw]$$/ {print $$3}' | sort | tr '\n' ' '); \
	want=$$(echo $(EXPORTS) | tr ' ' '\n' | sort | tr '\n' ' '); \
	if [ "$$got" != "$$want" ]; then echo "exports: got [$$got] want [$$want]"; exit 1; fi

test: all check-exports
	@BUILD=$(BUILD) PSTEST_LIB=$(abspath $(LIB)) tests/run

unit: $(UNITS)
	@BUILD=$(BUILD) tests/run --unit-only

# Sanitizer builds: the library, unit tests and C test programs rebuilt
# with clang in their own tree.  AddressSanitizer's runtime is preloaded
# ahead of the shim into every program the suite runs; ThreadSanitizer's
# cannot be preloaded into programs built without it, so `make tsan` runs the
# unit tests and the bats files made of our own C programs (tagged
# "# sanitizers: tsan").
# The C test programs link the shared ASan runtime, the same one preloaded
# into the rest: a program with ASan linked in statically refuses to start
# next to a preloaded one.
ASAN_RT  = $(shell clang -print-file-name=libclang_rt.asan-x86_64.so)
# The suite under a sanitizer also runs the plain build's command, helpers
# and musl tree where an instrumented one cannot stand in: `all` first.
asan: all
	$(MAKE) BUILD=build/asan CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
		SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all -shared-libasan" \
		EXTRA_LDFLAGS="-Wl,-rpath,$(dir $(ASAN_RT))" all
	BUILD=build/asan PSTEST_SANITIZER=asan PSTEST_MUSL_LIB=$(abspath $(MUSL_LIB)) \
		PSTEST_MUSL_HELPERS=$(abspath $(MUSL_BUILD)/helpers) PSTEST_LIB=$(abspath build/asan/libportshim.so) \
		PSTEST_PRELOAD="$(ASAN_RT) $(abspath build/asan/libportshim.so)" \
		PSTEST_PLAIN_LIB=$(abspath $(LIB)) tests/run
tsan: all
	$(MAKE) BUILD=build/tsan CC=clang OPT="-O1 -g" SANITIZE="-fsanitize=thread" all
	BUILD=build/tsan PSTEST_SANITIZER=tsan PSTEST_LIB=$(abspath build/tsan/libportshim.so) \
		tests/run

# The load-balancer skew demo (examples/lb-demo): the README's first command.
demo: $(LIB) $(CLI)
	@PORTSHIM=$(abspath $(CLI)) examples/lb-demo/run.sh

# libFuzzer targets (tests/fuzz): each parser fuzzed for FUZZ_SECONDS, from
# the seed corpus; a crash fails the run and leaves its input in build/fuzz.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := config_env config_file rules logline
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -D_GNU_SOURCE -Ishim -Ishim/core \
		-fsanitize=fuzzer,address,undefined
FUZZ         := build/fuzz
# The log-line target round-trips through the command's own reader.
$(FUZZ)/fuzz_logline: shim/cli/jsonread.c
$(FUZZ)/fuzz_%: tests/fuzz/fuzz_%.c $(CORE_SRC)
	@mkdir -p $(dir $@)
	$(call say,FUZZCC,$@)
	$(Q)clang $(FUZZ_CFLAGS) -o $@ $< $(filter %.c,$(filter-out $<,$^)) -ldl -pthread
	$(Q)$(call deps,clang $(FUZZ_CFLAGS))
.PRECIOUS: $(FUZZ)/fuzz_%
fuzz-%: $(FUZZ)/fuzz_%
	@mkdir -p $(FUZZ)/corpus-$*
	@echo "fuzz_$*: $(FUZZ_SECONDS) s"
	@(cd $(FUZZ) && ./fuzz_$* -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
		corpus-$* ../../tests/fuzz/corpus/$* >fuzz_$*.log 2>&1) || \
		{ tail -n 40 $(FUZZ)/fuzz_$*.log; exit 1; }
	@grep -E '^stat::number_of_executed_units' $(FUZZ)/fuzz_$*.log
fuzz: $(addprefix fuzz-,$(FUZZ_TARGETS))

# Benchmarks (tests/bench/README.md): never part of `make test`.
bench: $(LIB)
	$(MAKE) -C tests/bench run BUILD=$(abspath $(BUILD))

install: $(LIB) $(CLI) $(if $(HAVE_MUSL),musl)
	install -d $(DESTDIR)$(LIBDIR)
	install -m 0755 $(LIB) $(DESTDIR)$(LIBDIR)/libportshim.so
	$(if $(HAVE_MUSL),install -m 0755 $(MUSL_LIB) $(DESTDIR)$(LIBDIR)/$(MUSL_LIBNAME))
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/portshim
	install -m 0644 shim/cli/portshim.1 $(DESTDIR)$(MANDIR)/man1/portshim.1
	install -d $(DESTDIR)$(MANDIR)/man7
	install -m 0644 shim/preload/portshim.7 $(DESTDIR)$(MANDIR)/man7/portshim.7

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libportshim.so $(DESTDIR)$(LIBDIR)/$(MUSL_LIBNAME)
	rm -f $(DESTDIR)$(BINDIR)/portshim $(DESTDIR)$(MANDIR)/man1/portshim.1
	rm -f $(DESTDIR)$(MANDIR)/man7/portshim.7

# A release tarball, build/portshim-VERSION.tar.gz (the command's
# PORTSHIM_VERSION), of the tracked files as they are in the work tree;
# outside a git tree (an unpacked tarball), of every file but build/.
VERSION := $(shell sed -n 's/^\#define PORTSHIM_VERSION "\(.*\)"/\1/p' shim/cli/cli.h)
DIST    := $(BUILD)/portshim-$(VERSION).tar.gz
dist:
	@mkdir -p $(BUILD)
	$(call say,DIST,$(DIST))
	$(Q)if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then git ls-files; \
	else find . -path ./build -prune -o -type f -print | sed 's|^\./||'; fi | LC_ALL=C sort | \
		tar -czf $(DIST) --transform 's|^|portshim-$(VERSION)/|' --owner=0 --group=0 \
			--mtime='@0' -T -

clean:
	rm -rf build

# The dependency files of this tree only: the sanitizer and musl trees
# under build/ are other makes' (BUILD=build/asan ...), with their own.
DEPFILES := $(patsubst %.o,%.d,$(call OBJ,$(CORE_SRC) $(PRELOAD_SRC) $(CLI_SRC) $(SECCOMP_SRC))) \
	    $(addsuffix .d,$(UNITS) $(HELPERS) $(SECCOMP_TESTS)) \
	    $(if $(filter build,$(BUILD)),$(addsuffix .d,$(addprefix $(FUZZ)/fuzz_,$(FUZZ_TARGETS))))
-include $(wildcard $(DEPFILES))
