#!/usr/bin/env bash
# `make install` / `make uninstall` into a DESTDIR: the tree, the modes, PREFIX in
# the units, an operator's config never overwritten nor removed, nothing left
# behind; the units pass `systemd-analyze verify` and keep their hardening; the
# shipped example config is valid and names no interface; bash completion works.
# Needs no lab (nothing is attached): the example is served in test_service.sh.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/xpxe-test-install.XXXXXX)
source "$ROOT/tests/integration/tap.sh"
finish() {
	local rc=$?
	rm -rf "$WORK"
	tap_end "$rc"
}
trap finish EXIT

# Files (not folders) under a tree, as "MODE PATH", sorted.
tree() { (cd "$1" && find . \( -type f -o -type l \) -printf '%m %P\n' | sort); }
# Not the make that may run this test (make check): its jobserver and flags are not ours.
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$ROOT" "$@"; }

# --- make install, PREFIX=/usr/local ---------------------------------------------------------
D=$WORK/local
if mk install DESTDIR="$D" >"$WORK/install.log" 2>&1; then ok "make install DESTDIR=... succeeds"; else
	not_ok "make install DESTDIR=..." "$(tail -5 "$WORK/install.log")"
	exit 1
fi
want="644 etc/xpxe/xpxe.yaml
644 usr/local/lib/systemd/system/xpxe.service
644 usr/local/lib/systemd/system/xpxe@.service
644 usr/local/share/bash-completion/completions/xpxe
644 usr/local/share/man/man5/xpxe.yaml.5
644 usr/local/share/man/man8/xpxe.8
644 usr/local/share/xpxe/grafana-dashboard.json
755 usr/local/sbin/xpxe"
got=$(tree "$D")
if [ "$got" = "$want" ]; then ok "the tree: binary (0755), units, man pages, completion, dashboard, example config (0644)"; else
	not_ok "the installed tree" "got: ${got//$'\n'/ | }" "want: ${want//$'\n'/ | }"
fi
check "the installed binary runs" "$D/usr/local/sbin/xpxe" version
check "the example config is the repository's etc/xpxe.yaml" cmp "$ROOT/etc/xpxe.yaml" "$D/etc/xpxe/xpxe.yaml"
for u in xpxe.service xpxe@.service; do
	check "$u runs the binary where PREFIX put it" grep -q '^ExecStart=/usr/local/sbin/xpxe serve -c /etc/xpxe/xpxe.yaml' "$D/usr/local/lib/systemd/system/$u"
done
check "make install enables nothing (no .wants links)" \
	bash -c "! find '$D' -path '*.wants*' | grep -q ."

# --- an operator's config survives install and uninstall --------------------------------------
echo "interfaces: [prov0]" >>"$D/etc/xpxe/xpxe.yaml"
cp "$D/etc/xpxe/xpxe.yaml" "$WORK/edited.yaml"
mk install DESTDIR="$D" >"$WORK/install2.log" 2>&1
check "a second install keeps the operator's config as it is" cmp "$WORK/edited.yaml" "$D/etc/xpxe/xpxe.yaml"
check "... and says so" grep -q "kept .*/etc/xpxe/xpxe.yaml" "$WORK/install2.log"
mk uninstall DESTDIR="$D" >"$WORK/uninstall.log" 2>&1
got=$(tree "$D")
if [ "$got" = "644 etc/xpxe/xpxe.yaml" ] && cmp -s "$WORK/edited.yaml" "$D/etc/xpxe/xpxe.yaml"; then
	ok "uninstall removes everything but an edited config"
else
	not_ok "uninstall with an edited config" "left: ${got//$'\n'/ | }"
fi
check "... and says it kept it" grep -q "kept .*differs from the example" "$WORK/uninstall.log"
rm "$D/etc/xpxe/xpxe.yaml"
mk install DESTDIR="$D" >/dev/null 2>&1
mk uninstall DESTDIR="$D" >/dev/null 2>&1
got=$(tree "$D")
if [ -z "$got" ] && [ ! -e "$D/etc/xpxe" ]; then ok "install then uninstall leaves no file (and no /etc/xpxe)"; else
	not_ok "uninstall leaves nothing" "left: ${got//$'\n'/ | }"
fi

# --- PREFIX=/usr and Debian's unit folder -------------------------------------------------------
D2=$WORK/usr
mk install DESTDIR="$D2" PREFIX=/usr UNITDIR=/lib/systemd/system >/dev/null 2>&1
check "PREFIX=/usr: /usr/sbin/xpxe, /usr/share/man, units in UNITDIR" \
	test -x "$D2/usr/sbin/xpxe" -a -f "$D2/usr/share/man/man8/xpxe.8" -a -f "$D2/lib/systemd/system/xpxe.service"
check "... and the units run /usr/sbin/xpxe" grep -q '^ExecStart=/usr/sbin/xpxe ' "$D2/lib/systemd/system/xpxe.service"

# --- the units ----------------------------------------------------------------------------------
# systemd-analyze verify needs the command to exist: point the units at the binary just installed
# (the real path is checked above), and at the man pages just installed.
mk install DESTDIR="$D" >/dev/null 2>&1
U=$WORK/units
mkdir -p "$U"
sed "s|/usr/local/sbin/xpxe|$D/usr/local/sbin/xpxe|" "$D/usr/local/lib/systemd/system/xpxe.service" >"$U/xpxe.service"
sed "s|/usr/local/sbin/xpxe|$D/usr/local/sbin/xpxe|" "$D/usr/local/lib/systemd/system/xpxe@.service" >"$U/xpxe@pkgt0.service"
out=$(cd "$U" && MANPATH=$D/usr/local/share/man systemd-analyze verify ./xpxe.service ./xpxe@pkgt0.service 2>&1)
rc=$?
if [ $rc -eq 0 ] && [ -z "$out" ]; then ok "systemd-analyze verify: both units, no warning (man pages found)"; else
	not_ok "systemd-analyze verify" "exit $rc: ${out//$'\n'/ | }"
fi
show() { sed -n "s/^$2=//p" "$U/$1"; } # UNIT KEY -> its value in the file
check "Type=notify (the daemon sends READY=1 itself)" test "$(show xpxe.service Type)" = notify
check "the service stops with --keep-attached (detaches nothing)" \
	bash -c "grep -qx 'Environment=XPXE_SERVE_OPTS=--keep-attached' '$U/xpxe.service' && grep -q '^ExecStart=.* \$XPXE_SERVE_OPTS$' '$U/xpxe.service'"
for u in xpxe.service xpxe@pkgt0.service; do
	check "$u: ExecReload runs 'xpxe reload' (it waits for the daemon's verdict)" \
		test "$(show "$u" ExecReload)" = "$D/usr/local/sbin/xpxe reload"
done
check "the template serves its instance's interface" grep -q '^ExecStart=.* -i %i ' "$U/xpxe@pkgt0.service"
check "capabilities: exactly BPF, NET_ADMIN, SYS_ADMIN, NET_RAW, NET_BIND_SERVICE" \
	test "$(show xpxe.service CapabilityBoundingSet | tr ' ' '\n' | sort | tr '\n' ' ')" = \
	"CAP_BPF CAP_NET_ADMIN CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SYS_ADMIN "
check "RuntimeDirectory=xpxe and StateDirectory=xpxe" \
	test "$(show xpxe.service RuntimeDirectory) $(show xpxe.service StateDirectory)" = "xpxe xpxe"
check "/sys/fs/bpf stays writable (pins) and ProtectKernelTunables is not set" \
	bash -c "grep -qx 'ReadWritePaths=/sys/fs/bpf' '$U/xpxe.service' && ! grep -q '^ProtectKernelTunables' '$U/xpxe.service'"
for u in xpxe.service xpxe@pkgt0.service; do
	out=$(cd "$U" && systemd-analyze security --offline=yes --threshold=40 "./$u" 2>&1)
	rc=$?
	level=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$out")
	if [ $rc -eq 0 ] && [ -n "$level" ]; then ok "systemd-analyze security: $u exposure $level (at most 4.0)"; else
		not_ok "systemd-analyze security $u at most 4.0" "exit $rc, level '$level'"
	fi
done
same=$(diff <(grep -v -e '^#' -e '^Description=' -e '^ExecStart=' -e '^Conflicts=' "$ROOT/etc/systemd/xpxe.service.in") \
	<(grep -v -e '^#' -e '^Description=' -e '^ExecStart=' -e '^Conflicts=' "$ROOT/etc/systemd/xpxe@.service.in"))
if [ -z "$same" ]; then ok "the two units differ only in description, command and conflict"; else
	not_ok "the two units keep the same settings" "${same//$'\n'/ | }"
fi

# --- the example config -------------------------------------------------------------------------
# Valid, and names no interface: serve reads it whole, then refuses for want of one.
out=$("${XPXE_BIN:-$ROOT/xpxe}" --socket "$WORK/none.sock" serve -c "$ROOT/etc/xpxe.yaml" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "etc/xpxe.yaml: no interface to serve: list them under 'interfaces' or pass -i" <<<"$out" &&
	[ "$(grep -c . <<<"$out")" -eq 1 ]; then
	ok "the example config is valid and names no interface: serve refuses it without -i"
else
	not_ok "the example config: only 'no interface' refused" "exit $rc: ${out//$'\n'/ | }"
fi
check "the example names no interface outside comments" bash -c "! grep -q '^interfaces' '$ROOT/etc/xpxe.yaml'"

# --- bash completion ----------------------------------------------------------------------------
complete_words() { # WORDS... -> what completing the last word offers (through the installed file)
	bash -c '
		source /usr/share/bash-completion/bash_completion
		source "$1"; shift
		PATH=$(dirname "$XPXE_BIN"):$PATH
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
		_xpxe xpxe "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' _ "$D/usr/local/share/bash-completion/completions/xpxe" "$@"
}
export XPXE_BIN=${XPXE_BIN:-$ROOT/xpxe}
check "completion: 'xpxe se' -> serve" test "$(complete_words xpxe se)" = serve
check "completion: 'xpxe tr' -> trace (commands from the binary's help)" test "$(complete_words xpxe tr)" = trace
check "completion: 'xpxe --log-format ' -> text json" \
	test "$(complete_words xpxe --log-format '' | tr '\n' ' ')" = "text json "
check "completion: 'xpxe serve --keep' -> --keep-attached (flags from the binary's help)" \
	test "$(complete_words xpxe serve --keep)" = --keep-attached
check "completion: 'xpxe check --ker' -> --kernel --kernel-arm64 (check takes serve's flags)" \
	test "$(complete_words xpxe check --ker | tr '\n' ' ')" = "--kernel --kernel-arm64 "
check "completion: 'xpxe status --so' -> --socket (global options go after the command too)" \
	test "$(complete_words xpxe status --so)" = --socket
check "completion: 'xpxe status --a' -> --all" test "$(complete_words xpxe status --a)" = --all
check "completion: 'xpxe serve --mode ' -> proxy full off" \
	test "$(complete_words xpxe serve --mode '' | tr '\n' ' ')" = "proxy full off "
check "completion: 'xpxe detach -i l' offers lo" grep -qx lo <<<"$(complete_words xpxe detach -i l)"
check "completion: 'xpxe machines ' -> list show add rm mark-installed rearm" \
	test "$(complete_words xpxe machines '' | tr '\n' ' ')" = "list show add rm mark-installed rearm "
check "completion: 'xpxe machines add --ro' -> --role" \
	test "$(complete_words xpxe machines add --ro)" = --role
check "completion: 'xpxe machines add --role ' -> controlplane init worker" \
	test "$(complete_words xpxe machines add --role '' | tr '\n' ' ')" = "controlplane init worker "
check "completion: 'xpxe store ' -> migrate; 'xpxe store migrate --fr' -> --from" \
	test "$(complete_words xpxe store '')/$(complete_words xpxe store migrate --fr)" = migrate/--from
check "completion: 'xpxe serve --store ' -> files etcd://" \
	test "$(complete_words xpxe serve --store '' | tr '\n' ' ')" = "files etcd:// "
mk uninstall DESTDIR="$D" >/dev/null 2>&1
