#!/usr/bin/env bash
# The Debian package: `make deb` builds it with dpkg-buildpackage outside the source
# tree; its file list is what it should be and nothing else; then it is installed,
# used and removed for real with dpkg, in a throwaway copy of this machine (an
# overlay of / in private mount, network and PID namespaces, so the host's dpkg
# database, files and interfaces are never touched): installing starts and enables
# nothing, and removing it detaches what a --keep-attached daemon left.
set -uo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d /tmp/xpxe-test-deb.XXXXXX)
source "$ROOT/tests/integration/tap.sh"
finish() {
	local rc=$?
	rm -rf "$WORK"
	tap_end "$rc"
}
trap finish EXIT
if [ "$(id -u)" -ne 0 ]; then
	not_ok "the package test needs root (namespaces, dpkg in an overlay)"
	exit 1
fi

# --- build ------------------------------------------------------------------------------------
before=$(git -C "$ROOT" status --porcelain --ignored 2>/dev/null | grep -v '^!! build/$')
start=$(date +%s)
# The package is what ships: never the sanitized build a `make SANITIZE=1 check` exports.
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL -u SANITIZE make -s -C "$ROOT" deb BUILD="$WORK/build" >"$WORK/build.log" 2>&1; then
	ok "make deb: dpkg-buildpackage -us -uc -b succeeds ($(($(date +%s) - start)) s)"
else
	not_ok "make deb" "$(tail -15 "$WORK/build.log")"
	exit 1
fi
after=$(git -C "$ROOT" status --porcelain --ignored 2>/dev/null | grep -v '^!! build/$')
if [ "$before" = "$after" ]; then ok "the build wrote nothing into the source tree"; else
	not_ok "the build wrote nothing into the source tree" "$(diff <(echo "$before") <(echo "$after") | tr '\n' '|')"
fi
version=$(sed -n 's/^#define XPXE_VERSION "\(.*\)"/\1/p' "$ROOT/include/xpxe.h")
DEB=$WORK/build/deb/xpxe_${version}_$(dpkg --print-architecture).deb
check "the package is named for the binary's version ($version, from debian/changelog)" test -f "$DEB"

# --- contents -----------------------------------------------------------------------------------
files=$(dpkg-deb -c "$DEB" | awk '$1 !~ /^d/ { sub(/^\.\//, "", $6); print $6 }' | sort)
want="etc/xpxe/xpxe.yaml
lib/systemd/system/xpxe.service
lib/systemd/system/xpxe@.service
usr/sbin/xpxe
usr/share/bash-completion/completions/xpxe
usr/share/doc/xpxe/README.md.gz
usr/share/doc/xpxe/changelog.gz
usr/share/doc/xpxe/copyright
usr/share/man/man5/xpxe.yaml.5.gz
usr/share/man/man8/xpxe.8.gz
usr/share/xpxe/grafana-dashboard.json"
if [ "$files" = "$want" ]; then
	ok "its files: binary, units, man pages, completion, dashboard, example config, docs, and nothing else"
else
	not_ok "the package's file list" "extra: $(comm -23 <(echo "$files") <(echo "$want") | tr '\n' ' ')" \
		"missing: $(comm -13 <(echo "$files") <(echo "$want") | tr '\n' ' ')"
fi
check "/etc/xpxe/xpxe.yaml is a conffile (dpkg keeps an operator's edits)" \
	test "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles)" = /etc/xpxe/xpxe.yaml
X=$WORK/x
dpkg-deb -x "$DEB" "$X"
check "the packaged binary runs and says $version" test "$("$X/usr/sbin/xpxe" version)" = "xpxe $version"
check "the packaged units run /usr/sbin/xpxe" grep -q '^ExecStart=/usr/sbin/xpxe serve ' "$X/lib/systemd/system/xpxe.service"
check "the example config is the repository's" cmp "$ROOT/etc/xpxe.yaml" "$X/etc/xpxe/xpxe.yaml"
check "the binary is built hardened (full RELRO: GNU_RELRO and BIND_NOW)" \
	bash -c "readelf -lW '$X/usr/sbin/xpxe' | grep -q GNU_RELRO && readelf -dW '$X/usr/sbin/xpxe' | grep -q 'BIND_NOW\|FLAGS.*NOW'"
check "Depends lists the libraries it links (libbpf, libxdp, libfyaml, libmicrohttpd)" \
	bash -c "dpkg-deb -f '$DEB' Depends | grep -q libbpf1 && dpkg-deb -f '$DEB' Depends | grep -q libxdp1 && dpkg-deb -f '$DEB' Depends | grep -q libfyaml && dpkg-deb -f '$DEB' Depends | grep -q libmicrohttpd"
dpkg-deb -e "$DEB" "$WORK/ctl"
# Starts: none (try-restart restarts only what runs). Enables: only debhelper's re-enable of
# a unit the operator had enabled before (just after its was-enabled test).
starts=$(cat "$WORK"/ctl/p* | grep -nE 'deb-systemd-invoke +(start|restart)|systemctl +(--[a-z]+ +)*(start|restart|enable)')
enables=$(cat "$WORK"/ctl/p* | awk '/was-enabled/ { w = NR } /deb-systemd-helper +enable/ && NR - w > 3 { print NR": "$0 }')
if [ -z "$starts$enables" ]; then ok "no maintainer script starts a unit, or enables one the operator had not"; else
	not_ok "no maintainer script starts or enables a unit" "$starts" "$enables"
fi

# --- install, use, remove, purge: dpkg in an overlay of this machine ----------------------------
cat >"$WORK/inner.sh" <<'INNER'
# Runs in new mount, network and PID namespaces: an overlay of / whose changes go to a
# tmpfs, a fresh sysfs and bpffs for this network namespace, then dpkg in a chroot.
set -u
W=$1 DEB=$2
say() { echo "$1 $2"; } # PASS|FAIL description
t() { local d=$1; shift; if "$@" >/dev/null 2>&1; then say PASS "$d"; else say FAIL "$d"; fi; }
mkdir -p "$W/ovl"
mount -t tmpfs tmpfs "$W/ovl"
mkdir -p "$W/ovl/up" "$W/ovl/work" "$W/ovl/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$W/ovl/up,workdir=$W/ovl/work" "$W/ovl/root" || {
	say FAIL "overlay of / (the kernel needs overlayfs)"
	exit 1
}
R=$W/ovl/root
mount -t proc proc "$R/proc"
mount --rbind /dev "$R/dev"
mount -t sysfs sysfs "$R/sys"
mount -t bpf bpf "$R/sys/fs/bpf"
mount -t tmpfs tmpfs "$R/run"
mount -t tmpfs tmpfs "$R/tmp"
cp "$DEB" "$R/tmp/xpxe.deb"
in_root() { chroot "$R" "$@"; }
# The provisioning network of this test: a veth pair that exists only in this namespace.
ip link set lo up
ip link add pkd0 type veth peer name pkd1
ip addr add 198.18.0.1/24 dev pkd0
ip link set pkd0 up
ip link set pkd1 up
attached() { ip -d link show dev pkd0 | grep -q 'prog/xdp'; }

in_root dpkg -i /tmp/xpxe.deb >"$W/dpkg-i.log" 2>&1
t "dpkg -i installs it" test $? -eq 0
t "installing started no xpxe process" bash -c "! chroot '$R' pgrep -x xpxe"
t "installing attached nothing to any interface" bash -c "! attached && [ ! -e '$R/sys/fs/bpf/xpxe' ]"
t "installing enabled no unit (no link in /etc/systemd/system)" \
	bash -c "! find '$R/etc/systemd/system' -name 'xpxe*' | grep -q ."
t "deb-systemd-helper: xpxe.service is not enabled" bash -c "! chroot '$R' deb-systemd-helper is-enabled xpxe.service"
t "man xpxe finds the installed page" in_root man -w xpxe
t "man xpxe.yaml finds the installed page" in_root man -w 5 xpxe.yaml

# Run it as xpxe@pkd0.service would: that unit's command line, its environment.
cmd=$(sed -n 's/^ExecStart=//p' "$R/lib/systemd/system/xpxe@.service")
cmd=${cmd//%i/pkd0}
cmd=${cmd//\$XPXE_SERVE_OPTS/--keep-attached}
# shellcheck disable=SC2086 # the unit's words
chroot "$R" $cmd >"$W/daemon.log" 2>&1 & # chroot execs it: $! is the daemon
pid=$!
# Until it answers (or died); 120 s only end a hang.
for _ in $(seq 1200); do in_root xpxe status >/dev/null 2>&1 && break; kill -0 $pid 2>/dev/null || break; sleep 0.1; done
t "the unit's command serves pkd0 with the installed config ($cmd)" in_root xpxe status
kill -TERM $pid
wait $pid
t "SIGTERM (the service's stop) ends the daemon with status 0" test $? -eq 0
t "... no xpxe process is left" bash -c "! chroot '$R' pgrep -x xpxe"
t "... the program stays attached (--keep-attached)" attached
t "... and its pins stay" test -e "$R/sys/fs/bpf/xpxe/pkd0/xdp_pxe"
# Pins of an interface in another network namespace: removal cannot detach it from here.
mkdir "$R/sys/fs/bpf/xpxe/ghost0"
mkdir -p "$R/var/lib/xpxe" && touch "$R/var/lib/xpxe/installed"

in_root dpkg -r xpxe >"$W/dpkg-r.log" 2>&1
t "dpkg -r removes it" test $? -eq 0
t "removing detached xpxe from pkd0" bash -c "! attached && [ ! -e '$R/sys/fs/bpf/xpxe/pkd0' ]"
t "... and said so" grep -q "detached from pkd0" "$W/dpkg-r.log"
t "an interface in another namespace is named, with what to run there" \
	grep -q "ghost0 is not in this network namespace.*xpxe detach -i ghost0" "$W/dpkg-r.log"
t "removed: binary, units, man pages" \
	bash -c "[ ! -e '$R/usr/sbin/xpxe' ] && [ ! -e '$R/lib/systemd/system/xpxe.service' ] && [ ! -e '$R/usr/share/man/man8/xpxe.8.gz' ]"
t "kept until purge: the config (a conffile) and the state" test -e "$R/etc/xpxe/xpxe.yaml" -a -e "$R/var/lib/xpxe/installed"
in_root dpkg -P xpxe >"$W/dpkg-p.log" 2>&1
t "dpkg -P purges it: /etc/xpxe and /var/lib/xpxe are gone" \
	bash -c "[ ! -e '$R/etc/xpxe' ] && [ ! -e '$R/var/lib/xpxe' ]"
for f in dpkg-i dpkg-r dpkg-p daemon; do sed "s/^/# $f: /" "$W/$f.log"; done
INNER
host_status=$(dpkg-query -W -f='${Status} ${Version}' xpxe 2>&1)
unshare --mount --net --pid --fork --propagation private bash "$WORK/inner.sh" "$WORK" "$DEB" >"$WORK/inner.out" 2>&1
while read -r verdict desc; do
	case $verdict in
	PASS) ok "$desc" ;;
	FAIL) not_ok "$desc" "$(grep '^# ' "$WORK/inner.out" | tail -20)" ;;
	esac
done < <(grep -E '^(PASS|FAIL) ' "$WORK/inner.out")
check "dpkg in the overlay left the host's dpkg database alone" \
	test "$(dpkg-query -W -f='${Status} ${Version}' xpxe 2>&1)" = "$host_status"
steps=$(grep -c '^t "' "$WORK/inner.sh")
[ "$(grep -cE '^(PASS|FAIL) ' "$WORK/inner.out")" -eq "$steps" ] ||
	not_ok "all $steps install/remove steps ran" "$(tail -20 "$WORK/inner.out")"
