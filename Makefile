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
LDFLAGS  := -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack $(SANITIZE) $(EXTRA_LDFLAGS)
LDLIBS   := -ldl -pthread

# The pure modules build and test without any interposition.
CORE_SRC := shim/portmap.c shim/parse.c shim/policy.c shim/config.c \
            shim/kernel_ports.c shim/runtime.c shim/candidates.c \
            shim/jsonline.c shim/eventlog.c shim/rules.c shim/configfile.c \
            shim/emulate.c shim/errnames.c shim/filecheck.c
SHIM_SRC := $(CORE_SRC) shim/autobind.c shim/sockstate.c shim/autoconnect.c shim/early.c \
            shim/userptr.c \
            shim/real.c shim/init.c \
            $(wildcard shim/hooks/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)

# `make V=1` shows the compiler command lines.
V        ?= 0
Q        := $(if $(filter 0,$(V)),@,)
say       = $(if $(filter 0,$(V)),@printf '  %-7s %s\n' $(1) $(2),@:)

OBJ      = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
LIBNAME  ?= libportshim.so
LIB      := $(BUILD)/$(LIBNAME)
UNITS    := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRC))
HELPERS  := $(patsubst tests/helpers/%.c,$(BUILD)/helpers/%,$(wildcard tests/helpers/*.c))

# The portshim command (shim/cli/): linked with the core modules, so that it
# checks settings with the library's own parser.
CLI_SRC  := $(wildcard shim/cli/*.c)
CLI      := $(BUILD)/portshim
BINDIR   ?= $(PREFIX)/bin
MANDIR   ?= $(PREFIX)/share/man

# The musl build (for programs whose dynamic linker is musl's, as in Alpine
# images): the same sources compiled with musl-gcc in a tree of their own,
# the library named for its libc, with the test programs the musl tests
# run.  Skipped when musl-gcc is missing (make test then fails under
# PORTSHIM_TEST_STRICT=1) and in the sanitizer trees.
MUSL_CC      ?= musl-gcc
MUSL_BUILD   := $(BUILD)/musl
MUSL_LIBNAME := libportshim-musl.so
MUSL_LIB     := $(MUSL_BUILD)/$(MUSL_LIBNAME)
MUSL_HELPERS := portprobe nbconnect prefork hostile
HAVE_MUSL    := $(if $(SANITIZE),,$(shell command -v $(MUSL_CC) >/dev/null 2>&1 && echo yes))

.PHONY: all test unit asan tsan install uninstall clean check-exports demo bench fuzz musl musl-tree
all: $(LIB) $(CLI) $(UNITS) $(HELPERS) $(if $(HAVE_MUSL),musl)

musl:
	@$(MAKE) --no-print-directory BUILD=$(MUSL_BUILD) CC=$(MUSL_CC) LIBNAME=$(MUSL_LIBNAME) \
		musl-tree check-exports
musl-tree: $(LIB) $(addprefix $(BUILD)/helpers/,$(MUSL_HELPERS))

# Everything is rebuilt when the flags change (a sanitizer tree, CC=clang).
FLAGS_STAMP := $(BUILD)/.flags
$(shell mkdir -p $(BUILD) && echo '$(CC) $(CFLAGS) $(LDFLAGS)' | cmp -s - $(FLAGS_STAMP) || \
	echo '$(CC) $(CFLAGS) $(LDFLAGS)' > $(FLAGS_STAMP))

$(BUILD)/obj/%.o: %.c $(wildcard shim/*.h shim/hooks/*.h) $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

# The interposed calls: the only symbols the library exports.  The version
# script also hides what the C library's start files define (musl's crti.o
# makes _init and _fini global).
EXPORTS := bind close close_range connect dup dup2 dup3 fcntl fcntl64 getsockopt sendmmsg sendmsg \
           sendto setsockopt socket
$(BUILD)/exports.map: Makefile
	@mkdir -p $(dir $@)
	$(Q){ echo '{ global:'; printf '  %s;\n' $(EXPORTS); echo '  local: *;'; echo '};'; } >$@

$(LIB): $(call OBJ,$(SHIM_SRC)) $(BUILD)/exports.map
	$(call say,LD,$@)
	$(Q)$(CC) -shared $(LDFLAGS) -Wl,--version-script=$(BUILD)/exports.map -o $@ \
		$(call OBJ,$(SHIM_SRC)) $(LDLIBS)

$(call OBJ,$(CLI_SRC)): $(wildcard shim/cli/*.h)

$(CLI): $(call OBJ,$(CLI_SRC)) $(call OBJ,$(CORE_SRC))
	$(call say,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) -o $@ $^ $(LDFLAGS) $(LDLIBS)

$(BUILD)/unit/%: tests/unit/%.c tests/unit/check.h $(call OBJ,$(CORE_SRC))
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) -Ishim -o $@ $< $(call OBJ,$(CORE_SRC)) $(LDFLAGS) $(LDLIBS)

# The test programs name errno values with the library's own table.
$(BUILD)/helpers/%: tests/helpers/%.c $(wildcard tests/helpers/*.h) $(call OBJ,shim/errnames.c) \
		$(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) -Ishim -o $@ $< $(call OBJ,shim/errnames.c) $(LDFLAGS) $(LDLIBS)

# hostile is one program in several files: tests/helpers/hostile.c and the
# parts in tests/helpers/hostile/.
HOSTILE_SRC := tests/helpers/hostile.c $(wildcard tests/helpers/hostile/*.c)
$(BUILD)/helpers/hostile: $(HOSTILE_SRC) $(wildcard tests/helpers/*.h tests/helpers/hostile/*.h) \
			  $(call OBJ,shim/errnames.c) \
			  $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(CFLAGS) -Ishim -o $@ $(HOSTILE_SRC) $(call OBJ,shim/errnames.c) $(LDFLAGS) $(LDLIBS)

# Only the interposed calls may be exported (EXPORTS, with the version
# script made from it).
check-exports: $(LIB)
	@got=$$(nm -D --defined-only $(LIB) | awk '$$2 ~ /^[TtWw]$$/ {print $$3}' | sort | tr '\n' ' '); \
	want=$$(echo $(EXPORTS) | tr ' ' '\n' | sort | tr '\n' ' '); \
	if [ "$$got" != "$$want" ]; then echo "exports: got [$$got] want [$$want]"; exit 1; fi

test: all check-exports
	@BUILD=$(BUILD) PORTSHIM_LIB=$(abspath $(LIB)) tests/run

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
asan: $(LIB) $(if $(HAVE_MUSL),musl)
	$(MAKE) BUILD=build/asan CC=clang OPT="-O1 -g -fno-omit-frame-pointer" \
		SANITIZE="-fsanitize=address,undefined -fno-sanitize-recover=all -shared-libasan" \
		EXTRA_LDFLAGS="-Wl,-rpath,$(dir $(ASAN_RT))" all
	BUILD=build/asan PORTSHIM_SANITIZER=asan PORTSHIM_MUSL_LIB=$(abspath $(MUSL_LIB)) \
		PORTSHIM_MUSL_HELPERS=$(abspath $(MUSL_BUILD)/helpers) PORTSHIM_LIB=$(abspath build/asan/libportshim.so) \
		PORTSHIM_PRELOAD="$(ASAN_RT) $(abspath build/asan/libportshim.so)" \
		PORTSHIM_PLAIN_LIB=$(abspath $(LIB)) tests/run
tsan:
	$(MAKE) BUILD=build/tsan CC=clang OPT="-O1 -g" SANITIZE="-fsanitize=thread" all
	BUILD=build/tsan PORTSHIM_SANITIZER=tsan PORTSHIM_LIB=$(abspath build/tsan/libportshim.so) \
		tests/run

# The load-balancer skew demo (examples/lb-demo): the README's first command.
demo: $(LIB) $(CLI)
	@PORTSHIM=$(abspath $(CLI)) examples/lb-demo/run.sh

# libFuzzer targets (tests/fuzz): each parser fuzzed for FUZZ_SECONDS, from
# the seed corpus; a crash fails the run and leaves its input in build/fuzz.
FUZZ_SECONDS ?= 30
FUZZ_TARGETS := config_env config_file rules logline
FUZZ_CFLAGS  := -std=gnu11 -g -O1 -D_GNU_SOURCE -Ishim -fsanitize=fuzzer,address,undefined
fuzz:
	@mkdir -p build/fuzz
	@set -e; for t in $(FUZZ_TARGETS); do \
		clang $(FUZZ_CFLAGS) -o build/fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c $(CORE_SRC) \
			$$( [ $$t = logline ] && echo shim/cli/jsonl.c ) -ldl -pthread; \
		mkdir -p build/fuzz/corpus-$$t; \
		echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
		(cd build/fuzz && ./fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			corpus-$$t ../../tests/fuzz/corpus/$$t >fuzz_$$t.log 2>&1) || \
			{ tail -n 40 build/fuzz/fuzz_$$t.log; exit 1; }; \
		grep -E '^stat::number_of_executed_units' build/fuzz/fuzz_$$t.log; \
	done

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

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libportshim.so $(DESTDIR)$(LIBDIR)/$(MUSL_LIBNAME)
	rm -f $(DESTDIR)$(BINDIR)/portshim $(DESTDIR)$(MANDIR)/man1/portshim.1

clean:
	rm -rf build
