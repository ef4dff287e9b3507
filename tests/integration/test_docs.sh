#!/usr/bin/env bash
# The man pages against the code, so they cannot drift: every long flag of every
# command's --help is in xpxe(8) and every flag there exists; every key config.c
# accepts is a tag of its section in xpxe.yaml(5) and every tag there is accepted;
# both pages render without a warning. Needs no lab and no root.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XPXE=${XPXE_BIN:-$ROOT/xpxe}
MAN8=$ROOT/man/xpxe.8
MAN5=$ROOT/man/xpxe.yaml.5
source "$ROOT/tests/integration/tap.sh"
trap 'tap_end $?' EXIT

# A man page's source as text: font escapes and \& gone, \- and \e made plain.
plain() { sed -e 's/\\f[BIRP]//g' -e 's/\\&//g' -e 's/\\-/-/g' -e 's/\\e/\\/g' "$1"; }
flags_in() { grep -o -- '--[a-z][a-z0-9-]*' | sort -u; }

# --- xpxe(8) against --help ----------------------------------------------------------------
commands=$("$XPXE" --help | sed -n '/^commands:/,/^$/p' | awk 'NR > 1 && NF { print $1 }')
if [ -n "$commands" ]; then ok "xpxe --help lists the commands: ${commands//$'\n'/ }"; else not_ok "xpxe --help lists commands"; fi
man8=$(plain "$MAN8")
# Not the systemctl lines of the examples: those flags are systemctl's.
man8_flags=$(grep -v systemctl <<<"$man8" | flags_in)
help_flags=$("$XPXE" --help | flags_in)
missing=$(comm -23 <(echo "$help_flags") <(echo "$man8_flags") | tr '\n' ' ')
if [ -z "$missing" ]; then ok "xpxe(8) documents the global flags of xpxe --help"; else
	not_ok "xpxe(8) documents every flag of 'xpxe --help'" "missing: $missing"
fi
for cmd in $commands; do
	if ! grep -qx "\.B $cmd\( .*\)\?" <<<"$man8" && ! grep -qx "\.B $cmd\b.*" <<<"$man8"; then
		not_ok "xpxe(8) has an entry for the command '$cmd'"
		continue
	fi
	if ! "$XPXE" help "$cmd" >/dev/null 2>&1; then
		not_ok "'xpxe help $cmd' prints its usage (exit 0)" "exit $?"
		continue
	fi
	flags=$("$XPXE" "$cmd" --help | flags_in)
	if [ -z "$flags" ]; then
		ok "xpxe(8) has an entry for '$cmd' (no flags)"
		continue
	fi
	help_flags=$(printf '%s\n%s\n' "$help_flags" "$flags" | sort -u)
	missing=$(comm -23 <(echo "$flags") <(echo "$man8_flags") | tr '\n' ' ')
	if [ -z "$missing" ]; then
		ok "xpxe(8) documents '$cmd' and its $(echo "$flags" | grep -c .) flags"
	else
		not_ok "xpxe(8) documents every flag of 'xpxe $cmd --help'" "missing: $missing"
	fi
done
# The other way: a flag the man page names must exist (--help and --version are main's own).
stale=$(comm -13 <(printf '%s\n--help\n--version\n' "$help_flags" | sort -u) <(echo "$man8_flags") | tr '\n' ' ')
if [ -z "$stale" ]; then ok "every flag xpxe(8) names is in some --help"; else not_ok "every flag xpxe(8) names exists" "unknown to --help: $stale"; fi
version=$(sed -n 's/^#define XPXE_VERSION "\(.*\)"/\1/p' "$ROOT/include/xpxe.h")
if grep -q "^\.TH XPXE 8 .*\"xpxe $version\"" "$MAN8" && grep -q "^\.TH XPXE.YAML 5 .*\"xpxe $version\"" "$MAN5"; then
	ok "both pages carry the version $version"
else
	not_ok "both pages carry the version $version (.TH lines)"
fi

# The flags serve takes beside -c: its refusal lists them (main.c), and so must xpxe(8).
with_c=$("$XPXE" serve -c /dev/null --kernel /dev/null 2>&1 | sed -n 's/.*(only \(.*\)): put them in the file.*/\1/p' |
	tr ',' '\n' | sed 's/^ *//' | sort)
man_with_c=$(awk '/^\.BI \\-c " FILE/ { on = 1; next } on && /are accepted/ { exit } on' "$MAN8" | plain /dev/stdin |
	grep -oE -- '(^|[ ])(-i|--[a-z-]+)' | sed 's/^ //' | sort -u)
if [ "$(grep -c . <<<"$with_c")" -ge 10 ] && [ "$with_c" = "$man_with_c" ]; then
	ok "xpxe(8) lists the $(grep -c . <<<"$with_c") flags serve takes beside -c, as its refusal does"
else
	not_ok "xpxe(8)'s flags beside -c are serve's" "serve: ${with_c//$'\n'/ }" "xpxe(8): ${man_with_c//$'\n'/ }"
fi

# Every counter of `xpxe status` (counters.c's names, in the map's order) has its entry in
# xpxe(8)'s COUNTERS, and every entry there is a counter.
counters=$(sed -n 's/^\t\[XPXE_CNT_[A-Z0-9_]*\] *= *"\([a-z0-9_]*\)",.*/\1/p' "$ROOT/userspace/counters.c" | sort)
n_enum=$(awk '/^enum xpxe_counter \{/ { on = 1; next } on && /XPXE_CNT_MAX/ { exit } on' "$ROOT/include/xpxe.h" |
	grep -c '^[[:space:]]*XPXE_CNT_[A-Z0-9_]*')
man_counters=$(awk '/^\.SH COUNTERS/ { on = 1; next } /^\.SH/ { on = 0 } on && prev ~ /^\.TP/ { print $2 } { prev = $0 }' "$MAN8" | sort)
missing=$(comm -23 <(echo "$counters") <(echo "$man_counters") | tr '\n' ' ')
extra=$(comm -13 <(echo "$counters") <(echo "$man_counters") | tr '\n' ' ')
if [ "$(grep -c . <<<"$counters")" = "$n_enum" ] && [ "$n_enum" -ge 100 ] && [ -z "$missing$extra" ]; then
	ok "xpxe(8)'s COUNTERS describes each of the $n_enum counters of xpxe status, and no other"
else
	not_ok "xpxe(8)'s COUNTERS describes every counter" "counters.c: $(grep -c . <<<"$counters") of $n_enum" \
		"missing: $missing" "not a counter: $extra"
fi

# The exit codes: xpxe --help, xpxe(8) and the README list the same ones.
codes_help=$("$XPXE" --help | sed -n '/^exit codes:/,$p' | grep -oE '(^|[ ,:])[0-9] ' | tr -dc '0-9\n' | sort -u | tr -d '\n')
codes_man=$(awk '/^\.SH EXIT STATUS/ { on = 1; next } /^\.SH/ { on = 0 } on && prev ~ /^\.TP/ { print $2 } { prev = $0 }' "$MAN8" | sort -u | tr -d '\n')
codes_readme=$(grep -m1 '^- Exit codes:' -A2 "$ROOT/README.md" | grep -oE '(^|[ ,:])[0-9] ' | tr -dc '0-9\n' | sort -u | tr -d '\n')
if [ "$codes_help" = 012345 ] && [ "$codes_man" = "$codes_help" ] && [ "$codes_readme" = "$codes_help" ]; then
	ok "exit codes 0-5 in xpxe --help, xpxe(8) and the README alike"
else
	not_ok "the same exit codes everywhere" "help: $codes_help" "xpxe(8): $codes_man" "README: $codes_readme"
fi

# help watch names every stage of the fleet view, help trace every event (events.c's tables).
names_of() { # TABLE -> the strings of events.c's table TABLE
	awk -v t="$1" '$0 ~ t"\\[" { on = 1; next } on && /^};/ { exit } on' "$ROOT/userspace/events.c" |
		grep -o '"[^"]*"' | tr -d '"' | grep -vx -- '-'
}
watch_help=$("$XPXE" help watch | tr '\n' ' ' | tr -s ' ')
missing=$(while read -r st; do grep -qF "$st" <<<"$watch_help" || echo "$st"; done < <(names_of xpxe_stage_names) | tr '\n' ',')
if [ -z "$missing" ] && [ "$(names_of xpxe_stage_names | grep -c .)" -ge 9 ]; then ok "help watch names every stage ($(names_of xpxe_stage_names | tr '\n' ',' | sed 's/,$//'))"; else
	not_ok "help watch names every stage" "missing: $missing"; fi
trace_help=$("$XPXE" help trace | tr '\n' ' ')
missing=$(while read -r ev; do grep -qw -- "$ev" <<<"$trace_help" || echo "$ev"; done < <(names_of xpxe_event_names) | tr '\n' ' ')
if [ -z "$missing" ] && [ "$(names_of xpxe_event_names | grep -c .)" -ge 18 ]; then ok "help trace names every event, the TFTP ones too"; else
	not_ok "help trace names every event" "missing: $missing"; fi

# The README's chain script is render.c's, character for character.
chain=$(perl -0777 -ne 'print $1 if /xpxe_script_chain.*?"(chain [^;]*?)\\n",/s' "$ROOT/userspace/http/render.c" |
	perl -0777 -pe 's/"\s*"//g; s/%s/http:\/\/SERVER/')
if [ -n "$chain" ] && grep -qF "\`$chain\`" "$ROOT/README.md"; then ok "the README quotes /boot.ipxe's chain line as render.c writes it"; else
	not_ok "the README quotes the chain line" "render.c: $chain"; fi

# The MAC spellings the parser takes (dhcp.h's XPXE_MAC_SPELLINGS) are the ones the docs name.
spellings=$(sed -n 's/^#define XPXE_MAC_SPELLINGS "\(.*\)"/\1/p' "$ROOT/userspace/dhcp_settings.h" | grep -oE '[0-9a-f][0-9a-f:.-]{11,16}')
for doc in "$ROOT/README.md" "$MAN5"; do
	text=$(plain "$doc")
	missing=$(while read -r m; do grep -qF -- "$m" <<<"$text" || echo "$m"; done <<<"$spellings" | tr '\n' ' ')
	if [ "$(grep -c . <<<"$spellings")" = 4 ] && [ -z "$missing" ]; then ok "$(basename "$doc") names the 4 MAC spellings xpxe takes"; else
		not_ok "$(basename "$doc") names the MAC spellings" "missing: $missing"; fi
done
# (With -c the command line is refused after its flags are parsed: nothing runs.)
refused=$(for m in $spellings; do
	"$XPXE" serve -i lo --mode full --reserve "$m=10.0.0.1" -c /dev/null 2>&1 | grep -q 'not a MAC' && echo "$m"
done)
if [ -z "$refused" ]; then ok "serve --reserve takes each of them"; else not_ok "serve --reserve takes each spelling" "refused: $refused"; fi
# What http.allow guards, in the example config: Talos configs, not "anything".
check "etc/xpxe.yaml says http.allow guards Talos configs, as xpxe.yaml(5) and the code do" \
	bash -c "grep -q 'allow: .*# only these networks may fetch Talos configs' '$ROOT/etc/xpxe.yaml' && ! grep -q 'fetch anything' '$ROOT/etc/xpxe.yaml'"

# --- xpxe.yaml(5) against config.c ----------------------------------------------------------
# config.c's schema: unknown(w, key, "WHERE", "k1, k2, ...") per section, and the client
# classes of boot_files in its "(expected bios, ...)" message.
accepted=$(perl -0777 -ne '
	my %sec = ("the top level" => "Top level", "http" => "http", "ui" => "ui", "dhcp" => "dhcp",
		   "a profile" => "profiles", "a machine" => "machines", "store" => "store",
		   "downloads" => "downloads");
	while (/unknown\(w, key, "([^"]*)",\s*((?:"[^"]*"\s*)+)\)/g) {
		my ($where, $lits) = ($1, $2);
		my $keys = join "", $lits =~ /"([^"]*)"/g;
		print "$sec{$where}:$_\n" for split /,\s*/, $keys;
	}
	if (/unknown client class .*?\(expected ((?:[^)"]|"\s*")*)\)/s) {
		(my $l = $1) =~ s/"\s*"//g;
		print "boot_files:$_\n" for split /,\s*/, $l;
	}' "$ROOT/userspace/config.c" | sort -u)
# The page's tags: the word after each .TP, by .SS section.
documented=$(plain "$MAN5" | awk '
	/^\.SH/ { sec = "" }
	/^\.SS/ { sec = $0; sub(/^\.SS "?/, "", sec); sub(/"$/, "", sec); next }
	tp { tp = 0; if (sec != "" && $1 ~ /^\.B/) print sec ":" $2; next }
	/^\.TP/ { tp = 1 }' | sort -u)
n_sections=$(cut -d: -f1 <<<"$accepted" | sort -u | grep -c .)
if [ "$(grep -c . <<<"$accepted")" -ge 40 ] && [ "$n_sections" -eq 9 ]; then
	ok "config.c's schema read: $(grep -c . <<<"$accepted") keys in $n_sections sections"
else
	not_ok "config.c's schema read (keys in 9 sections)" "${accepted//$'\n'/ }"
fi
missing=$(comm -23 <(echo "$accepted") <(echo "$documented") | tr '\n' ' ')
if [ -z "$missing" ]; then ok "xpxe.yaml(5) documents every key in its section"; else not_ok "xpxe.yaml(5) documents every key" "missing: $missing"; fi
extra=$(comm -13 <(echo "$accepted") <(echo "$documented") | tr '\n' ' ')
if [ -z "$extra" ]; then ok "every key xpxe.yaml(5) documents is accepted"; else not_ok "every key xpxe.yaml(5) documents is accepted" "not in config.c: $extra"; fi

# --- rendering ------------------------------------------------------------------------------
for page in "$MAN8" "$MAN5"; do
	warn=$(groff -man -ww -z "$page" 2>&1)
	if [ -z "$warn" ]; then ok "groff -man -ww: no warning in $(basename "$page")"; else not_ok "groff -ww: $(basename "$page")" "$warn"; fi
	out=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	text=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" 2>/dev/null | grep -c .)
	if [ -z "$out" ] && [ "$text" -gt 50 ]; then
		ok "man -l renders $(basename "$page") ($text lines) without a warning"
	else
		not_ok "man -l renders $(basename "$page")" "$out"
	fi
done
