#!/usr/bin/env bash
# xpxe as systemd runs it, short of systemd itself (no systemd runs as PID 1 here):
# the shipped example config served in the lab; sd_notify READY=1 only once the
# program is attached and HTTP answers, STOPPING=1 at the end; --keep-attached
# (the units' default) leaves the data plane serving and the next serve adopts it;
# the units' capability set is enough and each capability in it is needed; every
# system call and socket family the daemon uses is allowed by the units' filters.
LAB=pkgsv
source "$(dirname "$0")/lib.sh"
require_root

UNIT=$ROOT/etc/systemd/xpxe.service.in
lab up >"$WORK/lab.log" 2>&1 || {
	not_ok "lab up"
	exit 1
}
lab host 1 52:54:00:5e:00:01 >>"$WORK/lab.log" 2>&1

# start_cmd PREFIX... -- SERVE_ARGS...: like start_daemon, with a wrapper (setpriv, strace)
# between nsenter and xpxe.
start_cmd() {
	local pre=()
	while [ "$1" != -- ]; do
		pre+=("$1")
		shift
	done
	shift
	rm -f "$SOCK"
	nsenter --net="/run/netns/$NS_SRV" "${pre[@]}" "$XPXE" serve "$@" >>"$WORK/daemon.log" 2>&1 &
	DAEMON_PID=$!
	wait_started "$DAEMON_PID"
}
# The xpxe process itself (under strace it is the wrapper's child).
xpxe_pid() { pgrep -x -P "$DAEMON_PID" xpxe || echo "$DAEMON_PID"; }
pinned_rx() {
	bpftool -j map dump pinned "/sys/fs/bpf/xpxe/$IF_SRV/counters" 2>/dev/null |
		jq '[.[].formatted | select(.key == 0) | .values[].value] | add'
}
nothing_left() { [ -z "$(xdp_prog_on "$NS_SRV" "$IF_SRV")" ] && [ ! -e "/sys/fs/bpf/xpxe/$IF_SRV" ]; }
at_exit "nsenter --net=/run/netns/$NS_SRV $XPXE detach -i $IF_SRV"

# --- the example config, with systemd's readiness protocol --------------------------------------
# A stand-in for systemd's end of $NOTIFY_SOCKET: on READY=1 it looks at once whether the
# program is attached and HTTP answers, as systemd would let dependent units start then.
cat >"$WORK/notify.py" <<'PY'
import os, socket, subprocess, sys
path, log, ifname = sys.argv[1:4]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
open(path + ".bound", "w").close()
with open(log, "w", buffering=1) as out:
    while True:
        msg = s.recv(4096).decode()
        line = msg.replace("\n", "|")
        if "READY=1" in msg.split("\n"):
            link = subprocess.run(["ip", "-d", "link", "show", "dev", ifname],
                                  capture_output=True, text=True).stdout
            try:
                socket.create_connection(("198.18.0.1", 8080), timeout=1).close()
                http = "ok"
            except OSError as e:
                http = "refused"
            line += " xdp=%s http=%s" % ("ok" if "prog/xdp" in link else "none", http)
        out.write(line + "\n")
        if "STOPPING=1" in msg.split("\n"):
            break
PY
nsenter --net="/run/netns/$NS_SRV" python3 "$WORK/notify.py" "$WORK/notify.sock" "$WORK/notify.log" "$IF_SRV" &
NOTIFY_PID=$!
at_exit "kill $NOTIFY_PID"
wait_until there_or_dead "$WORK/notify.sock.bound" "$NOTIFY_PID"

if NOTIFY_SOCKET=$WORK/notify.sock start_daemon -c "$ROOT/etc/xpxe.yaml" -i "$IF_SRV" \
	--state-dir "$WORK/state" --keep-attached; then
	ok "the shipped example config serves, with -i naming the interface"
else
	not_ok "serve -c etc/xpxe.yaml -i $IF_SRV starts"
	exit 1
fi
check "... in proxy mode, as the example says" jq -e '.interfaces[0].dhcp.mode == "proxy"' <<<"$("$XPXE" status --json)"
check "... HTTP answers /boot.ipxe in the lab" \
	test "$(in_cli curl -s -o /dev/null -w '%{http_code}' http://198.18.0.1:8080/boot.ipxe)" = 200
wait_until said "$WORK/notify.log" '^READY=1' "$NOTIFY_PID" # sent as it attached, maybe after status answers
check "sd_notify: READY=1 came once the program was attached and HTTP listened" \
	grep -q "^READY=1|STATUS=.* xdp=ok http=ok$" "$WORK/notify.log"
prog_id=$(xdp_prog_on "$NS_SRV" "$IF_SRV")

# --- --keep-attached: SIGTERM leaves the data plane serving -------------------------------------
kill -TERM "$DAEMON_PID"
if wait_daemon; then ok "--keep-attached: SIGTERM exits 0"; else not_ok "--keep-attached: SIGTERM exits 0"; fi
wait_until said "$WORK/notify.log" STOPPING "$NOTIFY_PID"
check "sd_notify: STOPPING=1 on the way out" grep -qx "STOPPING=1" "$WORK/notify.log"
check "the program stays attached (same id $prog_id)" test "$(xdp_prog_on "$NS_SRV" "$IF_SRV")" = "$prog_id"
check "... with its tc fallback" bash -c "ip netns exec $NS_SRV tc filter show dev $IF_SRV ingress | grep -q tc_tftp"
check "... and its pins" test -e "/sys/fs/bpf/xpxe/$IF_SRV/counters" -a -e "/sys/fs/bpf/xpxe/$IF_SRV/xdp_pxe"
check "the interface's lock and the control socket are released" test ! -e "/run/xpxe/lock/$IF_SRV" -a ! -e "$SOCK"
check "the log says the data plane was left attached" grep -q "left attached (prog id $prog_id" "$WORK/daemon.log"
rx0=$(pinned_rx)
in_cli ping -c 3 -i 0.2 -W 2 198.18.0.1 >/dev/null 2>&1
rx1=$(pinned_rx)
if [[ $rx0 =~ ^[0-9]+$ && $rx1 =~ ^[0-9]+$ ]] && [ $((rx1 - rx0)) -ge 3 ]; then
	ok "with no daemon the program keeps counting frames ($rx0 -> $rx1)"
else
	not_ok "with no daemon the program keeps counting" "'$rx0' -> '$rx1'"
fi
if start_daemon -i "$IF_SRV" --state-dir "$WORK/state"; then ok "the next serve starts over it"; else not_ok "the next serve starts over it"; fi
check "... and adopts the pins" jq -e '.interfaces[0].adopted == true' <<<"$("$XPXE" status --json)"
check "xpxe detach removes program and pins" "$XPXE" detach -i "$IF_SRV"
wait_daemon
check "... nothing is left on $IF_SRV" nothing_left

# A failed start undoes what it attached, --keep-attached or not: only a signal keeps it.
out=$(nsenter --net="/run/netns/$NS_SRV" "$XPXE" serve -i "$IF_SRV" --keep-attached --state-dir "$WORK/state" \
	--asset x="$WORK/no-such-file" 2>&1)
if [ $? -eq 1 ] && nothing_left; then ok "--keep-attached: a start that fails leaves nothing attached"; else
	not_ok "--keep-attached: a failed start leaves nothing" "${out//$'\n'/ | }"
fi

# --- capabilities: the units' set is enough, and each one in it is needed ------------------------
CAPS=$(sed -n 's/^CapabilityBoundingSet=//p' "$UNIT")
caps_arg() { # CAP_X CAP_Y ... -> +x,+y for setpriv
	local c out=-all
	for c in "$@"; do
		c=${c#CAP_}
		out+=",+${c,,}"
	done
	echo "$out"
}
# Full mode needs them all (the packet socket for new machines' replies).
FULL=(--mode full --pool 198.18.0.100-198.18.0.109 --leases "$WORK/leases" --state-dir "$WORK/state")
# shellcheck disable=SC2086
if start_cmd setpriv --inh-caps=-all --bounding-set="$(caps_arg $CAPS)" -- -i "$IF_SRV" "${FULL[@]}"; then
	ok "serve starts in full mode with only the units' capabilities ($CAPS)"
else
	not_ok "serve starts with only the units' capabilities ($CAPS)"
fi
udhcpc_run "$LAB-h1" h1
check "... a new machine gets an address (the daemon's slow path)" test -n "$(result_field h1 ip)"
in_cli curl -s -o "$WORK/undionly.kpxe" tftp://198.18.0.1/undionly.kpxe
check "... TFTP serves undionly.kpxe" cmp -s "$WORK/undionly.kpxe" /usr/lib/ipxe/undionly.kpxe
kill -TERM "$DAEMON_PID"
wait_daemon
for cap in $CAPS; do
	drop=$cap
	# The kernel counts CAP_SYS_ADMIN as CAP_BPF too: CAP_BPF alone is needed once
	# CAP_SYS_ADMIN no longer is (the unit keeps it for that day).
	[ "$cap" = CAP_BPF ] && drop="CAP_BPF CAP_SYS_ADMIN"
	rest=$(tr ' ' '\n' <<<"$CAPS" | grep -vxF -f <(tr ' ' '\n' <<<"$drop") | tr '\n' ' ')
	# shellcheck disable=SC2086
	if start_cmd setpriv --inh-caps=-all --bounding-set="$(caps_arg $rest)" -- -i "$IF_SRV" "${FULL[@]}"; then
		not_ok "without $drop serve does not start" "it started: $cap would not be needed"
		kill -TERM "$DAEMON_PID"
		wait_daemon
	else
		wait_daemon
		if nothing_left; then ok "without $drop serve refuses to start (and leaves nothing)"; else
			not_ok "without $drop: nothing left behind"
		fi
	fi
done

# --- system calls and socket families against the units' filters --------------------------------
# Everything a daemon does in a session: full mode's slow path, TFTP, HTTP, the control
# socket, an asset reload, a --keep-attached stop, then an adoption and a detach.
expand_set() { # @set or call -> the calls it holds
	local x
	case $1 in
	@*) systemd-analyze syscall-filter "$1" | awk 'NR > 1 && /^    [@a-z0-9_]/ { print $1 }' |
		while read -r x; do expand_set "$x"; done ;;
	*) echo "$1" ;;
	esac
}
# shellcheck disable=SC2013 # words of one line
allowed=$(for s in $(sed -n 's/^SystemCallFilter=//p' "$UNIT"); do expand_set "$s"; done | sort -u)
families=$(sed -n 's/^RestrictAddressFamilies=//p' "$UNIT")
traced=()
# LeakSanitizer cannot run under ptrace (make SANITIZE=1 check): leaks off under strace only.
untraced_lsan=(env "ASAN_OPTIONS=${ASAN_OPTIONS:-}:detect_leaks=0")
start_cmd "${untraced_lsan[@]}" strace -f -qq -o "$WORK/strace1" -- -i "$IF_SRV" "${FULL[@]}" --keep-attached &&
	traced+=(1)
lab host 2 52:54:00:5e:00:02 >>"$WORK/lab.log" 2>&1
udhcpc_run "$LAB-h2" h2
in_cli curl -s -o /dev/null tftp://198.18.0.1/snponly.efi
in_cli curl -s -o /dev/null http://198.18.0.1:8080/assets/undionly.kpxe
"$XPXE" leases >/dev/null
"$XPXE" machines >/dev/null
"$XPXE" assets --reload >/dev/null
"$XPXE" watch --once >/dev/null
# systemctl reload runs `xpxe reload` inside the unit's sandbox: the client is traced too.
"${untraced_lsan[@]}" strace -f -qq -o "$WORK/strace3" "$XPXE" reload >/dev/null
reload_rc=$?
reloads() { grep -c 'reloaded ' "$WORK/daemon.log"; }
reloads0=$(reloads)
kill -HUP "$(xpxe_pid)"
reloaded() { [ "$(reloads)" -gt "$reloads0" ]; }
wait_until reloaded # the SIGHUP's reload is done (and traced) before the stop
kill -TERM "$(xpxe_pid)"
wait_daemon
start_cmd "${untraced_lsan[@]}" strace -f -qq -o "$WORK/strace2" -- -i "$IF_SRV" "${FULL[@]}" && traced+=(2)
"$XPXE" detach -i "$IF_SRV" >/dev/null
wait_daemon
if [ ${#traced[@]} -eq 2 ] && [ -n "$(result_field h2 ip)" ] && [ "$reload_rc" -eq 0 ] &&
	[ "$(grep -c 'reloaded ' "$WORK/daemon.log")" -ge 2 ]; then
	ok "two traced sessions ran (DHCP, TFTP, HTTP, control socket, xpxe reload, SIGHUP, stop, adopt, detach)"
else
	not_ok "the traced sessions ran" "started: ${traced[*]}, h2 ip '$(result_field h2 ip)', reload exit $reload_rc"
fi
used=$(cat "$WORK"/strace[123] 2>/dev/null | sed -n 's/^[0-9]* *\([a-z0-9_]*\)(.*/\1/p' | sort -u)
outside=$(comm -23 <(echo "$used") <(echo "$allowed") | tr '\n' ' ')
if [ "$(grep -c . <<<"$used")" -gt 30 ] && [ -z "$outside" ]; then
	ok "all $(grep -c . <<<"$used") system calls it made are in SystemCallFilter=$(sed -n 's/^SystemCallFilter=//p' "$UNIT")"
else
	not_ok "every system call is in the units' SystemCallFilter" "outside: $outside"
fi
fams=$(cat "$WORK"/strace[123] 2>/dev/null | grep -o 'socket(AF_[A-Z0-9]*' | sed 's/socket(//' | sort -u)
outside=$(comm -23 <(echo "$fams") <(tr ' ' '\n' <<<"$families" | sort -u) | tr '\n' ' ')
if [ -n "$fams" ] && [ -z "$outside" ]; then
	ok "its socket families (${fams//$'\n'/ }) are in RestrictAddressFamilies"
else
	not_ok "socket families within RestrictAddressFamilies=$families" "outside: $outside"
fi
check "no memory both writable and executable (MemoryDenyWriteExecute=yes)" \
	bash -c "! grep -E 'PROT_WRITE\|PROT_EXEC|PROT_EXEC\|PROT_WRITE|PROT_READ\|PROT_WRITE\|PROT_EXEC' $WORK/strace1 $WORK/strace2 $WORK/strace3 | grep -q ."
check "nothing left on $IF_SRV" nothing_left
