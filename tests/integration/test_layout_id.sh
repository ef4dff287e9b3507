#!/usr/bin/env bash
# The BPF layout ID (scripts/layout_id.sh, XPXE_LAYOUT_ID): a daemon reuses pinned maps and
# attached programs only when they carry its own build's ID, so any change to what defines a
# map's contents must change it: a struct in include/*.h (shared with the daemon), in a
# bpf/*.h header xpxe.bpf.c includes, or in xpxe.bpf.c itself. Each is changed in a copy of
# the sources and the ID compared. Needs clang, no lab and no root.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/tests/integration/tap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; tap_end $?' EXIT

id=$("$ROOT/scripts/layout_id.sh")
if [[ $id =~ ^[0-9a-f]{16}$ ]]; then
	ok "scripts/layout_id.sh gives an ID of 16 hex digits ($id)"
else
	not_ok "scripts/layout_id.sh gives an ID" "got: '$id'"
	exit 1
fi
check "the build compiles that ID in (make layout-id)" \
	test "$(make -s -C "$ROOT" layout-id)" = "$id"

files=$("$ROOT/scripts/layout_id.sh" --files)
missing=()
for f in "$ROOT"/include/*.h "$ROOT/bpf/xpxe.bpf.c"; do
	grep -qx "${f#"$ROOT"/}" <<<"$files" || missing+=("${f#"$ROOT"/}")
done
check "it hashes every include/*.h and bpf/xpxe.bpf.c (missing: ${missing[*]})" test ${#missing[@]} = 0
nbpf=$(grep -c '^bpf/.*\.h$' <<<"$files")
check "it hashes the bpf/*.h headers xpxe.bpf.c includes ($nbpf of them)" test "$nbpf" -ge 5

# A copy of what the ID is made of; each change below is made to a fresh copy.
copy() {
	rm -rf "$tmp/src"
	mkdir -p "$tmp/src/scripts"
	cp -r "$ROOT/include" "$ROOT/bpf" "$tmp/src/"
	cp "$ROOT/scripts/layout_id.sh" "$tmp/src/scripts/"
}
copy
check "the copy has the same ID" test "$("$tmp/src/scripts/layout_id.sh")" = "$id"

# Every file it hashes: a field added to the first struct of a header (or a line appended to
# xpxe.bpf.c) gives another ID.
same=()
while read -r f; do
	copy
	if grep -q '^struct [a-z0-9_]* {$' "$tmp/src/$f"; then
		sed -i '0,/^struct [a-z0-9_]* {$/s//&\n\t__u32 layout_test;/' "$tmp/src/$f"
	else
		echo '/* changed */' >>"$tmp/src/$f"
	fi
	cmp -s "$ROOT/$f" "$tmp/src/$f" && same+=("$f (unchanged)")
	[ "$("$tmp/src/scripts/layout_id.sh")" = "$id" ] && same+=("$f")
done <<<"$files"
check "a change to any of the $(wc -l <<<"$files") files changes the ID (not: ${same[*]})" \
	test ${#same[@]} = 0

copy
sed -i 's/^struct tftp_block {$/&\n\t__u32 layout_test;/' "$tmp/src/bpf/tftp.h"
check "in particular a field added to struct tftp_block in bpf/tftp.h" \
	bash -c "! cmp -s '$ROOT/bpf/tftp.h' '$tmp/src/bpf/tftp.h' &&
		test \"\$('$tmp/src/scripts/layout_id.sh')\" != $id"

# A header only the lab's programs include is no input of xpxe.bpf.o.
copy
echo '/* changed */' >>"$tmp/src/bpf/lab_tftp.h"
check "a change to bpf/lab_tftp.h (not in xpxe.bpf.o) keeps the ID" \
	test "$("$tmp/src/scripts/layout_id.sh")" = "$id"
