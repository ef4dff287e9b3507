# xpxe: `make` builds ./xpxe, `make check` runs every test, `make demo` the lab demo.
# Set-up on a fresh Debian machine is part of both: scripts/deps.sh installs what is missing.

BUILD    := build
CC       ?= gcc
CLANG    ?= clang
BPFTOOL  ?= bpftool
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

PKGS     := libbpf libxdp libfyaml libmicrohttpd libcrypto
CFLAGS   ?= -O2 -g
CFLAGS   += -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -Iinclude -Iuserspace -I$(BUILD) \
	    $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lelf -lz -lpthread
BPF_CFLAGS := -O2 -g -target bpf -Wall -Wextra -Werror -Iinclude -I/usr/include/$(MULTIARCH)

BPF_SRCS  := $(wildcard bpf/*.bpf.c)
BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(BPF_SRCS))
# Programs embedded in the binary; the others (xdp_pass) are loaded by the lab scripts.
SKELS     := $(BUILD)/xpxe.skel.h
USER_SRCS := $(wildcard userspace/*.c)
USER_OBJS := $(patsubst userspace/%.c,$(BUILD)/%.o,$(USER_SRCS))
LIB_OBJS  := $(filter-out $(BUILD)/main.o,$(USER_OBJS))

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRCS))
BPFT_SRCS := $(wildcard tests/bpf/test_*.c)
BPFT_BINS := $(patsubst tests/bpf/%.c,$(BUILD)/tests/%,$(BPFT_SRCS))
BENCH_SRCS := $(wildcard scripts/bench/*.c)
BENCH_BINS := $(patsubst scripts/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))

.PHONY: all deps check demo bench format format-check clean
.DEFAULT_GOAL := all
# Keep the BPF objects and skeletons: they are intermediates, but the lab and tests use them.
.SECONDARY:

all: xpxe $(BPF_OBJS)

deps:
	@scripts/deps.sh

# Order-only: checking the packages never forces a rebuild.
$(BUILD)/.dir: | deps
	@mkdir -p $(BUILD)/tests
	@touch $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) $(wildcard include/*.h) | $(BUILD)/.dir
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/%.o: userspace/%.c $(wildcard userspace/*.h) $(wildcard include/*.h) $(SKELS) | $(BUILD)/.dir
	$(CC) $(CFLAGS) -c $< -o $@

xpxe: $(USER_OBJS)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/test_%: tests/unit/test_%.c $(LIB_OBJS) | $(BUILD)/.dir
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) -lcmocka

$(BUILD)/tests/test_%: tests/bpf/test_%.c $(wildcard tests/bpf/*.h) $(LIB_OBJS) $(SKELS) | $(BUILD)/.dir
	$(CC) $(CFLAGS) -Itests/bpf $(filter %.c %.o,$^) -o $@ $(LDLIBS) -lcmocka

$(BUILD)/bench/%: scripts/bench/%.c $(wildcard tests/bpf/*.h) $(LIB_OBJS) $(SKELS) | $(BUILD)/.dir
	@mkdir -p $(BUILD)/bench
	$(CC) $(CFLAGS) -Itests/bpf $(filter %.c %.o,$^) -o $@ $(LDLIBS) -lpthread

check: all $(UNIT_BINS) $(BPFT_BINS)
	@tests/run.sh $(UNIT_BINS) $(BPFT_BINS)

demo: all
	@scripts/demo.sh

# Never part of check: minutes of load, and figures, not verdicts (see BENCHMARKS.md).
bench: all $(BENCH_BINS)
	@scripts/bench/dhcp.sh
	@scripts/bench/tftp.sh

format:
	clang-format -i bpf/*.c bpf/*.h include/*.h userspace/*.c userspace/*.h tests/*/*.c tests/*/*.h \
		scripts/bench/*.c

format-check:
	@clang-format --dry-run --Werror bpf/*.c bpf/*.h include/*.h userspace/*.c userspace/*.h \
		tests/*/*.c tests/*/*.h scripts/bench/*.c

clean:
	rm -rf $(BUILD) xpxe

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

$(BUILD)/fuzz/obj/%.o: userspace/%.c $(wildcard userspace/*.h) $(wildcard include/*.h) $(SKELS) | $(BUILD)/.dir
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(BUILD)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(FUZZ_OBJS)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer $(filter %.c %.o,$^) -o $@ $(LDLIBS)

fuzz-build: $(FUZZ_BINS) $(BUILD)/tests/test_fuzz_xdp

fuzz: all fuzz-build
	@FUZZ_TIME=$(FUZZ_TIME) scripts/fuzz.sh $(FUZZ_BINS)
