#!/usr/bin/env bash
# userspace/'s layout as the README describes it: folders by job, each used from outside
# through its one interface header, and no circle among folders and top-level files
# (scripts/include_graph.py). Also shows the checker sees what it must refuse: a circle and
# an internal header used from outside, planted in a copy. Needs no lab and no root.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
source "$ROOT/tests/integration/tap.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"; tap_end $?' EXIT

out=$(python3 "$ROOT/scripts/include_graph.py" 2>&1)
rc=$?
if [ $rc -eq 0 ] && grep -q ' 0 circles, 0 internal' <<<"$out"; then
	ok "userspace/ has no include circle and no folder-internal header used from outside (${out##*$'\n'})"
else
	not_ok "userspace/'s include graph is free of circles" "$out"
fi

cp -r "$ROOT/userspace" "$tmp/u"
echo '#include "serve/serve.h"' >>"$tmp/u/dhcp/dhcp.c"
out=$(python3 "$ROOT/scripts/include_graph.py" "$tmp/u" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q '^circle: .*dhcp/.*serve/' <<<"$out"; then
	ok "a planted circle (dhcp/ -> serve/ -> dhcp/) is found"
else
	not_ok "the checker finds a planted circle" "rc=$rc: $out"
fi

cp -r "$ROOT/userspace" "$tmp/v"
echo '#include "tftp/internal.h"' >>"$tmp/v/http/http.c"
out=$(python3 "$ROOT/scripts/include_graph.py" "$tmp/v" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q '^http/http.c includes tftp/internal.h, internal to tftp/' <<<"$out"; then
	ok "a planted include of another folder's internal header is found"
else
	not_ok "the checker finds an internal header used from outside" "rc=$rc: $out"
fi
