# portguard - top-level Makefile.
#
# Packager-friendly: CC, CFLAGS, CPPFLAGS, LDFLAGS are honoured; project flags
# live in PG_CFLAGS. DESTDIR appears only in install/uninstall. Developer
# switches: WERROR=1 (warnings are errors), SANITIZE=1 (ASan + UBSan).
# `make check` builds a separate sanitized tree (build/san) with both on.

PREFIX     ?= /usr/local
SBINDIR    ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/portguard
CC         ?= cc
CFLAGS     ?= -O2 -g
PKG_CONFIG ?= pkg-config
INSTALL    ?= install

B        ?= build
WERROR   ?= 0
SANITIZE ?= 0

PG_CFLAGS = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -iquote core \
	-DPG_SYSCONFDIR='"$(SYSCONFDIR)"'
ifeq ($(WERROR),1)
PG_CFLAGS += -Werror
endif
ifeq ($(SANITIZE),1)
SAN_FLAGS = -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
endif

CORE_LIBS   = $(shell $(PKG_CONFIG) --libs libconfig libssl libcrypto 2>/dev/null) -lpthread
CORE_CFLAGS = $(shell $(PKG_CONFIG) --cflags libconfig libssl libcrypto 2>/dev/null)
CHECK_LIBS  = $(shell $(PKG_CONFIG) --libs check 2>/dev/null)
CHECK_CFLAGS= $(shell $(PKG_CONFIG) --cflags check 2>/dev/null)
MILTER_LIBS = $(shell $(PKG_CONFIG) --libs milter 2>/dev/null || echo -lmilter)

ALL_CFLAGS  = $(PG_CFLAGS) $(CORE_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(SAN_FLAGS)
ALL_LDFLAGS = $(LDFLAGS) $(SAN_FLAGS)

CORE_SRC    = $(wildcard core/*.c)
CORE_OBJ    = $(CORE_SRC:%.c=$(B)/%.o)
POLICYD_SRC = $(wildcard policyd/*.c)
POLICYD_OBJ = $(POLICYD_SRC:%.c=$(B)/%.o)
MILTER_SRC  = $(wildcard milter/*.c)
MILTER_OBJ  = $(MILTER_SRC:%.c=$(B)/%.o)
AUDIT_SRC   = $(wildcard audit/*.c)
AUDIT_OBJ   = $(AUDIT_SRC:%.c=$(B)/%.o)
UNIT_SRC    = $(wildcard tests/unit/check_*.c)
UNIT_BIN    = $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)
BENCH_SRC   = $(wildcard tests/bench/*.c)
BENCH_BIN   = $(BENCH_SRC:tests/bench/%.c=$(B)/bench/%)
REPORT_SRC  = $(wildcard report/*.c)
REPORT_OBJ  = $(REPORT_SRC:%.c=$(B)/%.o)
REPORT_LIBS = $(shell $(PKG_CONFIG) --libs zlib libsystemd 2>/dev/null || echo -lz -lsystemd)
MBENCH_SRC  = $(wildcard tests/bench/milter/*.c)
MBENCH_BIN  = $(MBENCH_SRC:tests/bench/milter/%.c=$(B)/bench/%)

PROGRAMS = $(B)/portguard-policyd
ifneq ($(MILTER_SRC),)
PROGRAMS += $(B)/portguard-milter
endif
PROGRAMS += $(B)/portguard-audit
PROGRAMS += $(B)/portguard-report

.PHONY: all check fresh-check unit-tests bench-tools bench demo install uninstall clean deps format fuzz fuzz-tools

all: $(PROGRAMS)

$(B)/%.o: %.c $(wildcard core/*.h) $(wildcard policyd/*.h) $(wildcard milter/*.h) $(wildcard audit/*.h) $(wildcard report/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/libportguard.a: $(CORE_OBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	$(AR) rcs $@ $^

$(B)/portguard-policyd: $(POLICYD_OBJ) $(B)/libportguard.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(POLICYD_OBJ) $(B)/libportguard.a $(CORE_LIBS)

$(B)/portguard-milter: $(MILTER_OBJ) $(B)/libportguard.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(MILTER_OBJ) $(B)/libportguard.a $(MILTER_LIBS) $(CORE_LIBS)

$(B)/portguard-audit: $(AUDIT_OBJ) $(B)/libportguard.a
	$(CC) $(ALL_LDFLAGS) -o $@ $(AUDIT_OBJ) $(B)/libportguard.a $(CORE_LIBS)
$(B)/portguard-report: $(REPORT_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $(REPORT_OBJ) $(REPORT_LIBS)

# A unit test may #include a front end's .c file (milter/session.c, ...): the
# compiler lists every file it read in $(B)/deps/, so editing one rebuilds the test.
$(B)/tests/%: tests/unit/%.c tests/unit/check_common.h $(B)/libportguard.a
	@mkdir -p $(dir $@) $(B)/deps
	$(CC) $(ALL_CFLAGS) $(CHECK_CFLAGS) -Itests/unit -MMD -MP -MF $(B)/deps/$*.d -MT $@ -o $@ $< \
		$(B)/libportguard.a $(ALL_LDFLAGS) $(CHECK_LIBS) $(CORE_LIBS)

-include $(UNIT_SRC:tests/unit/%.c=$(B)/deps/%.d)

$(B)/bench/%: tests/bench/%.c $(B)/libportguard.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(B)/libportguard.a $(ALL_LDFLAGS) $(CORE_LIBS) -lm

# Milter benchmark helpers (e.g. a minimal continue-only milter): libmilter only.
$(B)/bench/%: tests/bench/milter/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $< $(ALL_LDFLAGS) $(MILTER_LIBS) -lpthread

# libFuzzer targets (clang): the parsers that read peer bytes. `make fuzz`
# runs each for FUZZ_SECONDS; make check runs a bounded smoke pass
# (tests/fuzz/run.sh) over the seed corpus.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS    = -std=c11 -D_GNU_SOURCE -g -O1 -iquote core -iquote policyd \
	-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
FUZZ_BIN      = $(B)/fuzz/fuzz_proto $(B)/fuzz/fuzz_proto_portable $(B)/fuzz/fuzz_relay

$(B)/fuzz/fuzz_proto: tests/fuzz/fuzz_proto.c policyd/proto.c policyd/policyd.h core/config.h core/pg_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_proto.c policyd/proto.c

# The same, with the scanner's portable (non-SIMD) path.
$(B)/fuzz/fuzz_proto_portable: tests/fuzz/fuzz_proto.c policyd/proto.c policyd/policyd.h core/config.h core/pg_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -DPG_NO_SIMD -o $@ tests/fuzz/fuzz_proto.c policyd/proto.c

$(B)/fuzz/fuzz_relay: tests/fuzz/fuzz_relay.c core/relay.c core/strset.c core/nettable.c core/hugemem.c core/relay.h core/strset.h core/nettable.h core/hugemem.h core/why.h core/pg_limits.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) -o $@ tests/fuzz/fuzz_relay.c core/relay.c core/strset.c core/nettable.c core/hugemem.c

fuzz-tools: $(FUZZ_BIN)

fuzz:
	@sh tests/deps.sh
	$(MAKE) B=build fuzz-tools
	@for t in proto proto_portable relay; do \
		c=$${t%_portable}; \
		mkdir -p build/fuzz/corpus-$$c && cp -n tests/fuzz/corpus/$$c/* build/fuzz/corpus-$$c/ ; \
		build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=build/fuzz/$$t- \
			build/fuzz/corpus-$$c || exit 1; \
	done

unit-tests: $(UNIT_BIN)
bench-tools: $(BENCH_BIN) $(MBENCH_BIN)

# Install what is missing (Debian, as root), prove the tools can do what the
# layers ask (tests/caps.sh: one line per missing capability and the package
# that brings it), then build the sanitized tree with warnings as errors and
# run every test layer.
check:
	@sh tests/deps.sh
	@sh tests/caps.sh check
	$(MAKE) B=build/san WERROR=1 SANITIZE=1 all unit-tests fuzz-tools
	@sh tests/run.sh build/san

# The README's `make demo` and `make check`, as root, in a fresh Debian 12
# root made with debootstrap (tests/fresh/run.sh): proves the install step.
fresh-check:
	@sh tests/fresh/run.sh build/fresh

# Benchmarks run on an optimised, unsanitized build.
bench:
	@sh tests/deps.sh
	@sh tests/caps.sh demo
	$(MAKE) B=build all bench-tools
	@sh tests/bench/run.sh build
	@sh tests/bench/large.sh build
	@if [ -f tests/bench/milter/run.sh ]; then sh tests/bench/milter/run.sh build; fi
	@sh tests/bench/soak.sh build
	@sh tests/bench/report.sh build

demo:
	@sh tests/deps.sh
	@sh tests/caps.sh demo
	$(MAKE) B=build all
	@sh tests/e2e/demo.sh build

deps:
	@sh tests/deps.sh

install: all
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(SYSCONFDIR)/portguard $(DESTDIR)$(DOCDIR)/examples/postfix
	$(INSTALL) -m 0755 $(PROGRAMS) $(DESTDIR)$(SBINDIR)/
	$(INSTALL) -m 0644 man/portguard.conf.5 $(DESTDIR)$(MANDIR)/man5/
	$(INSTALL) -m 0644 $(wildcard man/*.8) $(DESTDIR)$(MANDIR)/man8/
	$(INSTALL) -m 0644 conf/portguard.conf $(DESTDIR)$(SYSCONFDIR)/portguard/portguard.conf
	$(INSTALL) -m 0644 $(wildcard conf/postfix/*) $(DESTDIR)$(DOCDIR)/examples/postfix/
	$(INSTALL) -m 0644 README.md $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/portguard-policyd $(DESTDIR)$(SBINDIR)/portguard-milter
	rm -f $(DESTDIR)$(SBINDIR)/portguard-audit $(DESTDIR)$(MANDIR)/man8/portguard-audit.8
	rm -f $(DESTDIR)$(SBINDIR)/portguard-report $(DESTDIR)$(MANDIR)/man8/portguard-report.8
	rm -f $(DESTDIR)$(MANDIR)/man5/portguard.conf.5 $(DESTDIR)$(MANDIR)/man8/portguard-policyd.8 \
		$(DESTDIR)$(MANDIR)/man8/portguard-milter.8
	rm -rf $(DESTDIR)$(DOCDIR)
	@echo "left in place: $(DESTDIR)$(SYSCONFDIR)/portguard/portguard.conf (your configuration)"

format:
	clang-format -i core/*.[ch] policyd/*.[ch] $(wildcard milter/*.[ch]) $(wildcard audit/*.[ch]) tests/unit/*.[ch] tests/bench/*.c

clean:
	rm -rf build

# Packaging: make deb, make rpm, make package-check (packaging/Makefile.inc).
-include packaging/Makefile.inc
