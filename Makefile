# xpxe: `make` builds ./xpxe, `make check` runs every test, `make demo` the lab demo.
# Set-up on a fresh Debian machine is part of both: scripts/deps.sh installs what is missing.

BUILD    := build
CC       ?= gcc
# `make SANITIZE=1 [check]`: the daemon, CLI and test binaries built with ASan+UBSan into
# their own folder (build-asan/, the binary build-asan/xpxe), so both builds live side by side.
# The BPF programs are not instrumented (clang's BPF target has no sanitizers).
SANITIZE ?=
ifeq ($(SANITIZE),1)
BUILD    := build-asan
# clang: its one runtime writes ASan, LSan and UBSan reports alike to log_path (gcc's
# separate libubsan ignores it and prints to stderr, where a daemon's report goes unseen).
CC       := clang
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
endif
CLANG    ?= clang
BPFTOOL  ?= bpftool
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

PKGS     := libbpf libxdp libfyaml libmicrohttpd libcrypto libcurl gnutls
CFLAGS   ?= -O2 -g
# As Debian's package build compiles (dpkg-buildflags): a result ignored there (asprintf,
# write) fails here first, not only in test_deb. Not with the sanitizers, which replace it.
ifneq ($(SANITIZE),1)
CFLAGS   += -D_FORTIFY_SOURCE=2
endif
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -Iuserspace -I$(BUILD) \
	    $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# A daemon reuses pinned maps only when the pins were made by a build of the same layout
# (see dataplane.c): the ID hashes include/*.h, bpf/xpxe.bpf.c and the bpf/*.h it includes
# (scripts/layout_id.sh; `make layout-id` prints it). Worked out once, when first needed:
# on a fresh machine clang comes with deps, after this file is read.
LAYOUT_ID = $(eval LAYOUT_ID := $$(shell CLANG=$(CLANG) MULTIARCH=$(MULTIARCH) scripts/layout_id.sh))$(or \
	    $(LAYOUT_ID),$(error scripts/layout_id.sh found no layout ID))
LAYOUT_DEF = -DXPXE_LAYOUT_ID=0x$(LAYOUT_ID)ULL
CFLAGS   += $(LAYOUT_DEF)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -lpthread
CFLAGS   += $(SAN_FLAGS)
LDLIBS   += $(SAN_FLAGS)
# The binary the tests run: ./xpxe, or $(BUILD)/xpxe when sanitized.
XPXE_BIN := $(if $(SAN_FLAGS),$(BUILD)/xpxe,xpxe)
BPF_CFLAGS := -O2 -g -target bpf -Wall -Wextra -Werror -Iinclude -I/usr/include/$(MULTIARCH)

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
# Programs embedded in the binary; the others (xdp_pass) are loaded by the lab scripts.
SKELS     := $(BUILD)/xpxe.skel.h
# userspace/ has a folder per job (userspace/JOB/*.c, one header its interface): objects
# keep the folders (build/JOB/NAME.o).
USER_SRCS := $(wildcard userspace/*.c userspace/*/*.c)
USER_HDRS := $(wildcard userspace/*.h userspace/*/*.h)
USER_OBJS := $(patsubst userspace/%.c,$(BUILD)/%.o,$(USER_SRCS))
LIB_OBJS  := $(filter-out $(BUILD)/main.o,$(USER_OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/%,$(BPFT_SRCS))
BENCH_SRCS := $(wildcard scripts/bench/*.c)
BENCH_BINS := $(patsubst scripts/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: all deps bench-deps check check-kernels demo bench format format-check clean layout-id
.DEFAULT_GOAL := all
# Keep the BPF objects and skeletons: they are intermediates, but the lab and tests use them.
.SECONDARY:

all: $(XPXE_BIN) $(BPF_OBJS)

deps:
	@scripts/deps.sh

layout-id:
	@echo $(LAYOUT_ID)

# What only the benchmarks need (nginx, gnuplot): never a dependency of check.
bench-deps:
	@scripts/deps.sh --bench

# Order-only: checking the packages never forces a rebuild.
$(BUILD)/.dir: | deps
	@mkdir -p $(BUILD)/tests
	@touch $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(wildcard include/*.h) | $(BUILD)/.dir
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: userspace/%.c $(USER_HDRS) $(wildcard include/*.h) $(SKELS) | $(BUILD)/.dir
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c $< -o $@

$(XPXE_BIN): $(USER_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

# The fleet page's files (userspace/ui/page/: HTML, CSS, a script), built into the binary as
# byte arrays ui_page_NAME_EXT with xxd -i: nothing to install beside it, no build step but this.
UI_PAGE := $(sort $(wildcard userspace/ui/page/*))
$(BUILD)/ui_page.h: $(UI_PAGE) | $(BUILD)/.dir
	@for f in $(UI_PAGE); do \
		printf 'static const unsigned char ui_page_%s[] = {\n' \
			"$$(basename "$$f" | tr -c 'a-zA-Z0-9\n' _)" && xxd -i <"$$f" && \
		printf '};\n' || exit 1; \
	done >$@.tmp && mv $@.tmp $@
$(BUILD)/ui/page.o $(BUILD)/fuzz/obj/ui/page.o: $(BUILD)/ui_page.h

# Headers a test depends on (test_dhcp_load_check's) are prerequisites, not inputs: clang
# refuses a header among the files it links.
$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS) | $(BUILD)/.dir
	$(CC) $(CFLAGS) $(filter %.c %.o,$^) -o $@ $(LDLIBS) -lcmocka

# The daemon's TFTP code against a session map of the test's own (see the test's comment).
$(BUILD)/tests/test_tftp_session: LDLIBS += -Wl,--wrap=bpf_map_lookup_elem \
	-Wl,--wrap=bpf_map_update_elem -Wl,--wrap=xpxe_assets_chunks
# Paced transfers' promotion against a session map of the test's own.
$(BUILD)/tests/test_tftp_pace: LDLIBS += -Wl,--wrap=bpf_map_update_elem \
	-Wl,--wrap=xpxe_assets_chunks

$(BUILD)/tests/test_%: tests/bpf/test_%.c $(wildcard tests/bpf/*.h) $(LIB_OBJS) $(SKELS) | $(BUILD)/.dir
	$(CC) $(CFLAGS) -Itests/bpf $(filter %.c %.o,$^) -o $@ $(LDLIBS) -lcmocka

# The DHCP load generator's reply checker is a header of scripts/bench, tested on its own.
$(BUILD)/tests/test_dhcp_load_check: scripts/bench/dhcp_load.h

# The reflector's loader embeds its program (bpf/bench_reflect.bpf.c) as a skeleton.
$(BUILD)/bench/tftp_reflect: $(BUILD)/bench_reflect.skel.h
# tftp_prog_ns embeds its floors (bpf/bench_block.bpf.c: an empty program, a block's copy alone).
$(BUILD)/bench/tftp_prog_ns: $(BUILD)/bench_block.skel.h
# dhcp_load -X embeds its AF_XDP redirect (bpf/bench_xsk_dhcp.bpf.c) as one.
$(BUILD)/bench/dhcp_load: $(BUILD)/bench_xsk_dhcp.skel.h

$(BUILD)/bench/%: scripts/bench/%.c $(wildcard scripts/bench/*.h tests/bpf/*.h) $(LIB_OBJS) $(SKELS) | $(BUILD)/.dir
	@mkdir -p $(BUILD)/bench
	$(CC) $(CFLAGS) -Itests/bpf $(filter %.c %.o,$^) -o $@ $(LDLIBS) -lpthread

# The tests find the binary and the BPF objects through XPXE_BIN and XPXE_BUILD. Sanitized,
# every report goes to a file under $(BUILD)/sanitizer/ and tests/run.sh fails the suite
# during which it appeared (a daemon's report would otherwise hide in its log).
SAN_LOGS := $(abspath $(BUILD))/sanitizer
SAN_ENV  := XPXE_SANITIZER_LOGS=$(SAN_LOGS) XPXE_TEST_OUT=$(abspath $(BUILD))/test-out \
	ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:fast_unwind_on_malloc=0:log_path=$(SAN_LOGS)/report \
	UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:log_path=$(SAN_LOGS)/report \
	LSAN_OPTIONS=suppressions=$(abspath tests/sanitizer.supp):print_suppressions=0
check: all $(UNIT_BINS) $(BPFT_BINS) $(BUILD)/bench/storm
	@$(if $(SAN_FLAGS),rm -rf $(SAN_LOGS) && mkdir -p $(SAN_LOGS) &&) \
		XPXE_BIN=$(abspath $(XPXE_BIN)) XPXE_BUILD=$(abspath $(BUILD)) \
		$(if $(SAN_FLAGS),$(SAN_ENV)) tests/run.sh $(UNIT_BINS) $(BPFT_BINS)

# The kernel matrix: Debian 12's 6.1 and Debian's 6.12 (bookworm-backports) booted side by
# side under QEMU, each running the BPF program tests and a lab smoke test, and Debian 12's
# arm64 6.1 (its verifier and JIT: every object loads, xdp_pxe attaches) (scripts/kernels.sh).
# make check runs it too (tests/integration/test_kernels.sh); this runs it alone.
check-kernels: all $(BPFT_BINS)
	@XPXE_BIN=$(abspath $(XPXE_BIN)) XPXE_BUILD=$(abspath $(BUILD)) scripts/kernels.sh run 6.1 6.12 6.1-arm64

demo: all
	@scripts/demo.sh

# Never part of check: minutes of load, and figures, not verdicts (see BENCHMARKS.md).
bench: all $(BENCH_BINS) | bench-deps
	@scripts/bench/dhcp.sh
	@scripts/bench/dhcp6.sh
	@scripts/bench/dhcp_load.sh
	@scripts/bench/tftp.sh
	@scripts/bench/tftp6.sh
	@scripts/bench/storm.sh
	@scripts/bench/store.sh
	@TITLE="Talos-sized boot storm" STEM=storm-talos KERNEL_MIB=16 INITRD_MIB=64 MACHINES=1024 \
		RUNS=1 DEADLINE=900 scripts/bench/storm.sh
	@scripts/bench/ui.sh
	@scripts/bench/vlan.sh

FORMAT_SRCS = $(wildcard bpf/*.c bpf/*.h include/*.h tests/*/*.c tests/*/*.h \
	scripts/bench/*.c scripts/bench/*.h) $(USER_SRCS) $(USER_HDRS)
format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	@clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf build build-asan xpxe

# --- Installing it as a service ------------------------------------------------------------
# `make install` (PREFIX=/usr/local) or the Debian package (PREFIX=/usr, see debian/rules).
# Installs and enables nothing that runs: the units are neither enabled nor started, and
# the example config names no interface (a PXE responder on the wrong network is a rogue
# DHCP server). An operator's /etc/xpxe/xpxe.yaml is never overwritten or removed.
PREFIX      ?= /usr/local
SBINDIR     ?= $(PREFIX)/sbin
MANDIR      ?= $(PREFIX)/share/man
SYSCONFDIR  ?= /etc
UNITDIR     ?= $(PREFIX)/lib/systemd/system
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# The Grafana dashboard over /metrics, for operators to import.
DATADIR     ?= $(PREFIX)/share/xpxe
INSTALL     ?= install
UNITS       := xpxe.service xpxe@.service
CONF        := $(DESTDIR)$(SYSCONFDIR)/xpxe/xpxe.yaml
# Debian's linker hardening flags (relro, now) reach the link through LDLIBS.
$(XPXE_BIN): LDLIBS += $(LDFLAGS)

.PHONY: install uninstall deb

install: xpxe
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(UNITDIR) $(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(SYSCONFDIR)/xpxe \
		$(DESTDIR)$(DATADIR)
	$(INSTALL) -m 0755 xpxe $(DESTDIR)$(SBINDIR)/xpxe
	$(INSTALL) -m 0644 etc/grafana/xpxe.json $(DESTDIR)$(DATADIR)/grafana-dashboard.json
	$(INSTALL) -m 0644 man/xpxe.8 $(DESTDIR)$(MANDIR)/man8/xpxe.8
	$(INSTALL) -m 0644 man/xpxe.yaml.5 $(DESTDIR)$(MANDIR)/man5/xpxe.yaml.5
	@# The units name the binary where it was installed.
	for u in $(UNITS); do \
		sed 's|@sbindir@|$(SBINDIR)|g' etc/systemd/$$u.in >$(DESTDIR)$(UNITDIR)/$$u.tmp && \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$u.tmp && \
		mv $(DESTDIR)$(UNITDIR)/$$u.tmp $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	$(INSTALL) -m 0644 etc/bash-completion/xpxe $(DESTDIR)$(BASHCOMPDIR)/xpxe
	@if [ -e $(CONF) ]; then \
		echo "install: kept $(CONF) as it is (the example is etc/xpxe.yaml)"; \
	else \
		echo "$(INSTALL) -m 0644 etc/xpxe.yaml $(CONF)"; \
		$(INSTALL) -m 0644 etc/xpxe.yaml $(CONF); \
	fi
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		echo "install: nothing enabled or started; run 'systemctl daemon-reload', name an"; \
		echo "  interface in $(CONF), then 'systemctl enable --now xpxe' (see xpxe(8))"; \
	fi

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/xpxe $(DESTDIR)$(MANDIR)/man8/xpxe.8 \
		$(DESTDIR)$(MANDIR)/man5/xpxe.yaml.5 $(addprefix $(DESTDIR)$(UNITDIR)/,$(UNITS)) \
		$(DESTDIR)$(BASHCOMPDIR)/xpxe $(DESTDIR)$(DATADIR)/grafana-dashboard.json
	@rmdir $(DESTDIR)$(DATADIR) 2>/dev/null || true
	@# The config goes only when it is still the example: an edited one is the operator's.
	@if cmp -s etc/xpxe.yaml $(CONF); then \
		echo "rm -f $(CONF)"; rm -f $(CONF); \
	elif [ -e $(CONF) ]; then \
		echo "uninstall: kept $(CONF): it differs from the example"; \
	fi
	@rmdir $(DESTDIR)$(SYSCONFDIR)/xpxe 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ] && [ -d /sys/fs/bpf/xpxe ]; then \
		echo "uninstall: xpxe's programs are still attached to: $$(ls /sys/fs/bpf/xpxe);"; \
		echo "  they keep answering until removed (ip link set dev IFACE xdp off, and tc)"; \
	fi

# The Debian package, built from a copy of the tracked tree under build/deb/ (the .deb
# lands there too): nothing is written into the source tree.
DEB_VERSION = $(shell sed -n '1s/.*(\(.*\)).*/\1/p' debian/changelog)
deb:
	rm -rf $(BUILD)/deb
	mkdir -p $(BUILD)/deb/xpxe-$(DEB_VERSION)
	@# What git tracks or would (not build/, not tests/out/); a plain copy without git.
	if git rev-parse --git-dir >/dev/null 2>&1; then \
		git ls-files -z --cached --others --exclude-standard | \
			tar --null --ignore-failed-read -T - -cf -; \
	else \
		tar --exclude=./build --exclude=./xpxe --exclude=./tests/out -cf - .; \
	fi | tar -xf - -C $(BUILD)/deb/xpxe-$(DEB_VERSION)
	@# A clean environment: this make's variables (BUILD=... on its command line) must
	@# not reach the package's own make through MAKEFLAGS.
	cd $(BUILD)/deb/xpxe-$(DEB_VERSION) && \
		env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u MAKEOVERRIDES dpkg-buildpackage -us -uc -b
	@ls $(BUILD)/deb/*.deb

# --- fuzzing: `make fuzz`, never part of check (minutes; see SECURITY.md) -------------
# libFuzzer harnesses of the userspace parsers (tests/fuzz/fuzz_*.c), built with clang and
# ASan+UBSan over their own instrumented copy of the userspace objects, each run for
# FUZZ_TIME seconds from its seed corpus (tests/fuzz/corpus/NAME/); then the BPF program
# fuzzer (tests/bpf/test_fuzz_xdp.c) on XPXE_FUZZ_ITERATIONS frames.
FUZZ_CC     ?= clang
FUZZ_TIME   ?= 60
FUZZ_SAN    := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -O1 -g -fno-omit-frame-pointer -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE \
	       -Iinclude -Iuserspace -I$(BUILD) -Itests/fuzz \
	       $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_OBJS   := $(patsubst userspace/%.c,$(BUILD)/fuzz/obj/%.o,$(filter-out userspace/main.c,$(USER_SRCS)))

.PHONY: fuzz fuzz-build

$(BUILD)/fuzz/obj/%.o: userspace/%.c $(USER_HDRS) $(wildcard include/*.h) $(SKELS) | $(BUILD)/.dir
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(LAYOUT_DEF) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(LAYOUT_DEF) $(FUZZ_SAN) -fsanitize=fuzzer $(filter %.c %.o,$^) -o $@ $(LDLIBS)

fuzz-build: $(FUZZ_BINS) $(BUILD)/tests/test_fuzz_xdp

fuzz: all fuzz-build
	@FUZZ_TIME=$(FUZZ_TIME) scripts/fuzz.sh $(FUZZ_BINS)
