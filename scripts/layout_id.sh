#!/usr/bin/env bash
# scripts/layout_id.sh [--files]: the BPF layout ID (XPXE_LAYOUT_ID, 16 hex digits) the build
# compiles into the daemon; --files lists what it hashes instead. A daemon reuses the maps a
# previous one pinned (and the programs it left attached, --keep-attached) only when they
# carry its own ID (userspace/dataplane.c): another build's maps may hold other structs or
# count other things under the same index. So the ID hashes every input of xpxe.bpf.o that
# can define what a map holds: the structs and counter indexes the daemon and the programs
# share (include/*.h), and bpf/xpxe.bpf.c with every local header it includes (bpf/*.h: the
# map definitions and the value structs only the programs know), as the compiler lists them
# (clang -MM). A header only the lab's or the benchmarks' programs include changes nothing.
# Fails (no output) when the compiler cannot list them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
clang=${CLANG:-clang}
multiarch=${MULTIARCH-$(gcc -print-multiarch 2>/dev/null || true)}
deps=$("$clang" -target bpf -Iinclude ${multiarch:+"-I/usr/include/$multiarch"} -MM bpf/xpxe.bpf.c)
files=$({
	printf '%s\n' include/*.h
	grep -oE '(bpf|include)/[^ ]+' <<<"$deps"
} | LC_ALL=C sort -u)
if [ "${1:-}" = --files ]; then
	printf '%s\n' "$files"
	exit 0
fi
# Each file's hash with its name, so moving a struct to another file changes the ID too.
# shellcheck disable=SC2086 # one name a line, none with spaces
sha256sum $files | sha256sum | cut -c1-16
