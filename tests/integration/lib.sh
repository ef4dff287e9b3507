# Shared by the lab tests: TAP reporting, the lab, the daemon, cleanup.
# A test script sets LAB (unique per script) before sourcing this file.
# XPXE_LAB=NAME overrides it, so two checkouts can run the same test at once.
# shellcheck shell=bash
set -uo pipefail
LAB=${XPXE_LAB:-$LAB}

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
XPXE=${XPXE_BIN:-$ROOT/xpxe}
# The BPF objects of the build under test (build/, or build-asan/ with make SANITIZE=1).
BUILD=${XPXE_BUILD:-$ROOT/build}
WORK=$(mktemp -d "/tmp/xpxe-test-$LAB.XXXXXX")
SOCK=$WORK/xpxe.sock
export XPXE_SOCKET=$SOCK
DAEMON_PID=
CAPTURE_PID=

source "$ROOT/tests/integration/tap.sh"

# One run per lab name on a machine at a time. Two runs of one test would share its namespaces,
# interfaces and pins, and each would read the other's daemon and files: a CI run once failed
# so, its checksums and counters another run's. The lock stays held while this run or anything
# it started (a daemon, a guest) lives; this is before the cleanup trap, so a refused run
# leaves the other's lab alone. Namespaces found with the lock taken are a dead run's
# leftovers, and go before this run builds its own. (The braces keep 2>/dev/null to the open:
# on a bare exec it would silence this shell's stderr for the rest of the test.)
if { exec {LAB_LOCK_FD}>"/run/xpxe-lab-$LAB.lock"; } 2>/dev/null; then
	if ! flock -n "$LAB_LOCK_FD"; then
		not_ok "lab $LAB is in use by another run on this machine (XPXE_LAB=NAME runs this test beside it)"
		rm -rf "$WORK"
		exit 1
	fi
	if ip netns list 2>/dev/null | grep -q "^$LAB-" || [ -e "/sys/fs/bpf/xpxe/$LAB-s0" ]; then
		echo "# lab $LAB: removing a dead run's namespaces and pins first"
		LAB=$LAB "$ROOT/scripts/lab.sh" down >/dev/null 2>&1
	fi
fi

require_root() {
	if [ "$(id -u)" -ne 0 ]; then
		not_ok "lab tests need root (namespaces, XDP): run make check as root"
		exit 1
	fi
}

lab() { LAB=$LAB "$ROOT/scripts/lab.sh" "$@"; }
eval "$(lab env)"

in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }

# wait_until COMMAND...: runs COMMAND every 0.1 s until it succeeds (status 0), or returns 1
# once WAIT_S seconds (default 120) have passed. Tests wait for the condition they need, never
# for a duration: the deadline only bounds a hang, so a slow or busy machine just waits longer.
# Giving up is said on stderr (the suite's log): a condition that can never hold (a pattern
# that matches no line) otherwise costs WAIT_S seconds of every run and shows nowhere.
WAIT_S=${WAIT_S:-120}
wait_until() {
	local end=$((SECONDS + WAIT_S))
	until "$@"; do
		if [ "$SECONDS" -ge "$end" ]; then
			echo "# wait_until gave up after $WAIT_S s: $*" >&2
			return 1
		fi
		sleep 0.1
	done
}

# For wait_until, a background helper's sign of life, or its end (then there is no point in
# waiting on): there_or_dead FILE PID: FILE exists; grown_or_dead FILE PID: FILE is not
# empty; said FILE PATTERN PID: a line of FILE matches PATTERN (grep).
there_or_dead() { [ -e "$1" ] || ! kill -0 "$2" 2>/dev/null; }
grown_or_dead() { [ -s "$1" ] || ! kill -0 "$2" 2>/dev/null; }
said() { grep -q -- "$2" "$1" 2>/dev/null || ! kill -0 "$3" 2>/dev/null; }

# daemon_answers: the daemon's control socket answers. started_or_dead PID: that, or PID ended
# (wait_until stops at once on a daemon that died).
daemon_answers() { [ -S "$SOCK" ] && "$XPXE" status >/dev/null 2>&1; }
started_or_dead() { daemon_answers || ! kill -0 "$1" 2>/dev/null; }
# wait_started PID: waits until the daemon answers; returns 1 if it died first (or hung).
wait_started() {
	wait_until started_or_dead "$1" && daemon_answers
}

# Runs `xpxe serve` in the server namespace (network namespace only: pins stay visible).
start_daemon() {
	# shellcheck disable=SC2086 # DAEMON_GLOBAL_OPTS: options before the command, word-split
	nsenter --net="/run/netns/$NS_SRV" "$XPXE" ${DAEMON_GLOBAL_OPTS:-} serve "$@" \
		>>"$WORK/daemon.log" 2>&1 &
	DAEMON_PID=$!
	wait_started "$DAEMON_PID"
}

# link_up NS DEV: DEV of namespace NS is operationally up. The kernel's link watch sets that
# (and gives the device its queue) up to a second after `ip link set up`, later on a busy
# machine: frames sent before are dropped. Tests wait for it after taking a link down.
link_up() { [ "$(ip netns exec "$1" cat "/sys/class/net/$2/operstate" 2>/dev/null)" = up ]; }
link_down() { ! link_up "$@"; }

# udp_bound NS PORT: something in namespace NS listens on UDP port PORT (a server started
# in the background is ready).
udp_bound() { ip netns exec "$1" ss -Hlun "sport = :$2" 2>/dev/null | grep -q .; }

# Waits for the daemon to exit; returns its exit code.
wait_daemon() {
	local rc
	wait "$DAEMON_PID" 2>/dev/null
	rc=$?
	DAEMON_PID=
	return $rc
}

xdp_prog_on() { # NS IFACE -> prints the attached XDP program id, or nothing
	ip netns exec "$1" ip -d link show dev "$2" 2>/dev/null |
		sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p' | head -1
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# every_done_timed: the daemon log has tftp_done lines, and none says seconds=0.000: a transfer
# takes one tick of the coarse clock at least (a small one read 0 on it: "MB/s=0.00").
every_done_timed() {
	grep -q 'event=tftp_done ' "$WORK/daemon.log" &&
		! grep -q 'event=tftp_done .*seconds=0\.000 ' "$WORK/daemon.log"
}
# done_lines: how many there are, and their seconds from least to most, for a check's text.
done_lines() {
	grep -o 'event=tftp_done .*seconds=[0-9.]*' "$WORK/daemon.log" | sed 's/.*seconds=//' |
		sort -n | sed -n '1h; ${x; G; s/\n/ to /; p}' | sed "s/^/$(grep -c 'event=tftp_done ' "$WORK/daemon.log") tftp_done, seconds /"
}

# wait_downloads REF OUT_PREFIX N PID...: waits for the clients' PIDs (so it runs in this shell,
# not a subshell), then sets FAILED (how many exited non-zero) and SAME (how many of
# OUT_PREFIX1 .. OUT_PREFIXN have REF's sha256).
wait_downloads() {
	local ref=$1 prefix=$2 n=$3 p i want
	shift 3
	FAILED=0
	SAME=0
	for p in "$@"; do wait "$p" || FAILED=$((FAILED + 1)); done
	want=$(sha "$ref")
	for i in $(seq "$n"); do
		[ -f "$prefix$i" ] && [ "$(sha "$prefix$i")" = "$want" ] && SAME=$((SAME + 1))
	done
}

counter() { # NAME -> the counter's value from `xpxe status --json`
	"$XPXE" status --json | jq -r ".interfaces[0].counters.$1"
}
# counter_index NAME: the counter's index in the programs' map (status lists them in that
# order); pinned_counter INDEX: its value read from the pinned map, with no daemon to ask.
counter_index() { "$XPXE" status --json | jq ".interfaces[0].counters | keys_unsorted | index(\"$1\")"; }
pinned_counter() {
	bpftool -j map dump pinned "/sys/fs/bpf/xpxe/$IF_SRV/counters" |
		jq "[.[].formatted | select(.key == $1) | .values[].value] | add"
}

# at_exit COMMAND...: run COMMAND during cleanup (e.g. remove an extra namespace).
AT_EXIT=()
# lab_up_v6 [EXTRA-CLIENT-ADDRESS...]: the lab, with $SRV6 on the server's side and $CLI6 (and
# any extra addresses) on the client's, each /64 without DAD; reports once the client reaches
# the server. Returns 1 (reported) when it does not.
lab_up_v6() {
	local a
	lab up || { not_ok "lab up"; return 1; }
	in_srv ip -6 addr add "$SRV6/64" dev "$IF_SRV" nodad
	for a in "$CLI6" "$@"; do in_cli ip -6 addr add "$a/64" dev "$IF_BR" nodad; done
	if wait_until in_cli ping -6 -c1 -W1 "$SRV6" >/dev/null 2>&1; then
		ok "lab up, $CLI6 reaches $SRV6"
	else
		not_ok "$CLI6 reaches $SRV6"
		return 1
	fi
}

# ll_ready N: host N's eth0 has a link-local address past duplicate address detection (a
# DHCPv6 client binds to it).
ll_ready() {
	ip netns exec "$LAB-h$1" ip -6 addr show dev eth0 scope link | grep -q inet6 &&
		! ip netns exec "$LAB-h$1" ip -6 addr show dev eth0 tentative | grep -q inet6
}
# lab_up_dhcp6 MAC_PREFIX COUNT: the lab with hosts 1..COUNT (host N's MAC MAC_PREFIX:0N),
# each with its link-local address ready, and $SRV6 on the server's side (/64, no DAD): where
# the DHCPv6 server tests start. Returns 1 (reported) when a step fails.
lab_up_dhcp6() {
	local prefix=$1 count=$2 n
	lab up || { not_ok "lab up"; return 1; }
	for ((n = 1; n <= count; n++)); do lab host $n "$prefix:0$n"; done
	for ((n = 1; n <= count; n++)); do
		wait_until ll_ready $n || { not_ok "host $n has a link-local address"; return 1; }
	done
	in_srv ip -6 addr add "$SRV6/64" dev "$IF_SRV" nodad
}

# Checks that COMMAND exits 0 and leaves OUTFILE with SOURCE's bytes (a fetch by any client).
fetched() { # DESCRIPTION OUTFILE SOURCE COMMAND...
	local desc=$1 out=$2 src=$3 output
	shift 3
	rm -f "$out"
	if ! output=$("$@" 2>&1); then
		not_ok "$desc" "command: $*" "${output//$'\n'/ | }"
	elif [ ! -f "$out" ] || [ "$(sha "$out")" != "$(sha "$src")" ]; then
		not_ok "$desc" "sha256 of $out differs from $src ($(stat -c %s "$out" 2>/dev/null) bytes)" \
			"${output//$'\n'/ | }"
	else
		ok "$desc"
	fi
}

# The guest's kernel and initramfs as assets, and the default profile that boots them to a
# config from $WORK/talos: the part of xpxe.yaml the end-to-end tests share.
guest_profile_yaml() {
	local guest=${GUEST:-$ROOT/build/guest}
	cat <<YAML
assets:
  vmlinuz: $guest/vmlinuz
  initramfs: $guest/initramfs.img
profiles:
  default:
    kernel: vmlinuz
    initrd: initramfs
    cmdline: console=ttyS0 no_timer_check panic=1
    talos_config: $WORK/talos
YAML
}
at_exit() { AT_EXIT+=("$*"); }

cleanup() {
	local rc=$? cmd
	for cmd in "${AT_EXIT[@]}"; do
		eval "$cmd" >/dev/null 2>&1
	done
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	[ -n "$CAPTURE_PID" ] && kill "$CAPTURE_PID" 2>/dev/null
	lab down >/dev/null 2>&1
	if [ "$TAP_FAILED" -gt 0 ] && [ -s "$WORK/daemon.log" ]; then
		echo "# daemon log:"
		sed 's/^/#   /' "$WORK/daemon.log"
	fi
	rm -rf "$WORK"
	tap_end "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- DHCP clients ---------------------------------------------------------------------------

# dhclient_run HOST_NS NAME [CONF_LINES...]: one DORA with ISC dhclient on eth0 of HOST_NS;
# the bound address, server and boot file land in $WORK/NAME.result. Returns dhclient's status.
dhclient_run() {
	local ns=$1 name=$2 line
	shift 2
	: >"$WORK/$name.conf"
	for line in "$@"; do echo "$line" >>"$WORK/$name.conf"; done
	# Our own script: it records what dhclient got and configures nothing outside the lab.
	cat >"$WORK/$name.sh" <<SCRIPT
#!/bin/sh
case "\$reason" in BOUND|RENEW|REBIND|REBOOT)
	echo "ip=\$new_ip_address server=\$new_dhcp_server_identifier file=\$new_filename" >"$WORK/$name.result"
	ip addr replace "\$new_ip_address/24" dev "\$interface" ;;
esac
exit 0
SCRIPT
	chmod +x "$WORK/$name.sh"
	rm -f "$WORK/$name.result"
	timeout 30 ip netns exec "$ns" dhclient -1 -v -cf "$WORK/$name.conf" -sf "$WORK/$name.sh" \
		-lf "$WORK/$name.leases" -pf "$WORK/$name.pid" eth0 >"$WORK/$name.log" 2>&1
}

# result_field NAME KEY: a value from $WORK/NAME.result
result_field() {
	sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" "$WORK/$1.result" 2>/dev/null
}

# capture_start NS NAME [DEV [FILTER]]: tcpdump on DEV (eth0) of namespace NS into
# $WORK/NAME.pcap, FILTER by default the DHCP ports; returns once tcpdump listens (what
# crosses DEV from then on is captured), 1 if it never does.
# capture_sync: everything DEV saw so far is in the file: a marker frame goes out on DEV
# and the call returns once tcpdump has written it (tcpdump takes frames from the kernel
# in batches: a frame seen is not yet a frame written).
# capture_stop: capture_sync, then tcpdump ends. One capture at a time.
# The marker: ethertype 0x88b5 (IEEE 802 local experimental), addressed to DEV's own MAC,
# so no bridge forwards it and no program of ours ever sees it (tests/integration/mark.py).
# Frames dropped by the kernel before tcpdump takes them are lost to any sync: snapshots of
# 2048 bytes (our frames are at most 1514) in a 32 MiB buffer hold thousands of them.
MARK_ETHERTYPE=0x88b5
capture_start() {
	CAPTURE_NS=$1 CAPTURE_NAME=$2 CAPTURE_DEV=${3:-eth0} CAPTURE_MARKS=0
	local filter=${4:-udp port 67 or udp port 68 or udp port 4011}
	ip netns exec "$CAPTURE_NS" tcpdump --immediate-mode -U -s 2048 -B 32768 -ni "$CAPTURE_DEV" \
		-w "$WORK/$CAPTURE_NAME.pcap" "($filter) or ether proto $MARK_ETHERTYPE" \
		>/dev/null 2>"$WORK/$CAPTURE_NAME.tcpdump" &
	CAPTURE_PID=$!
	wait_until capture_listening && kill -0 "$CAPTURE_PID" 2>/dev/null
}
capture_listening() {
	grep -q "listening on" "$WORK/$CAPTURE_NAME.tcpdump" 2>/dev/null || ! kill -0 "$CAPTURE_PID" 2>/dev/null
}
capture_marks() { # how many markers are in the file so far
	tcpdump -nr "$WORK/$CAPTURE_NAME.pcap" "ether proto $MARK_ETHERTYPE" 2>/dev/null | grep -c .
}
capture_has_marks() { [ "$(capture_marks)" -ge "$CAPTURE_MARKS" ]; }
capture_sync() {
	ip netns exec "$CAPTURE_NS" python3 "$ROOT/tests/integration/mark.py" "$CAPTURE_DEV" ||
		return 1
	CAPTURE_MARKS=$((CAPTURE_MARKS + 1))
	wait_until capture_has_marks
}
capture_stop() {
	capture_sync
	kill "$CAPTURE_PID" 2>/dev/null
	wait "$CAPTURE_PID" 2>/dev/null
	CAPTURE_PID=
}

# The decoded replies one server sent: capture_replies NAME SERVER_IP
capture_replies() {
	tcpdump -nr "$WORK/$1.pcap" -vv "src host $2 and src port 67" 2>/dev/null
}

# udhcpc_run HOST_NS NAME [UDHCPC_ARGS...]: busybox udhcpc on eth0 of HOST_NS, at most
# 3 DISCOVERs a second apart; what it bound lands in $WORK/NAME.result.
udhcpc_run() {
	local ns=$1 name=$2
	shift 2
	cat >"$WORK/$name.sh" <<SCRIPT
#!/bin/sh
[ "\$1" = bound ] && echo "ip=\$ip server=\$serverid file=\$boot_file siaddr=\$siaddr router=\$router" >"$WORK/$name.result"
exit 0
SCRIPT
	chmod +x "$WORK/$name.sh"
	rm -f "$WORK/$name.result"
	timeout 20 ip netns exec "$ns" busybox udhcpc -i eth0 -n -q -t 3 -T 1 -A 1 \
		-s "$WORK/$name.sh" "$@" >"$WORK/$name.log" 2>&1
}
