#!/usr/bin/env bash
# Sourced by the benchmarks: each one owns one "## " section of BENCHMARKS.md and replaces
# only that section, so running one benchmark never drops another's figures.

# bench_section HEADING FILE: FILE's text (which starts with "## HEADING...") replaces the
# section whose heading line is FILE's first line, else the first whose heading starts with
# "## HEADING" (its title changed), up to the next "## ", or is appended. Only that one: a
# hand-written section whose heading starts the same ("## Boot storm A/B", after "## Boot
# storm: ...") stays.
bench_section() {
	local heading=$1 file=$2 doc tmp first exact=0
	doc="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/BENCHMARKS.md"
	[ -f "$doc" ] || printf '# Benchmarks\n' >"$doc"
	first=$(head -n1 "$file")
	grep -qxF -- "$first" "$doc" && exact=1
	tmp=$(mktemp "$doc.XXXXXX")
	awk -v h="## $heading" -v first="$first" -v exact="$exact" -v f="$file" '
		!printed && (exact ? $0 == first : index($0, h) == 1) {
			skip = 1; while ((getline l < f) > 0) print l; printed = 1; next
		}
		skip && /^## / { skip = 0; print "" }
		!skip { print }
		END { if (!printed) { print ""; while ((getline l < f) > 0) print l } }
	' "$doc" >"$tmp" && chmod 644 "$tmp" && mv "$tmp" "$doc"
}
