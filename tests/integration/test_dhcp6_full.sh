#!/usr/bin/env bash
# Full mode's DHCPv6 (--pool6, --reserve6) with ISC dhclient -6 in the lab, ULA addresses only:
# xdp_pxe passes the clients' messages up (pass_dhcp6_to_daemon) and the daemon's server binds
# an address from the pool (Solicit/Advertise/Request/Reply), written to IFACE's leases6 file;
# after a restart the machine keeps it (a new Solicit, a crafted Renew); a Release frees it for
# the next machine, which was refused (NoAddrsAvail) while the one-address pool was taken; an
# Information-request gets a Reply; messages to its own address are dropped or get UseMulticast
# (RFC 8415 16, 18.4); a reserved MAC gets its address; NoBinding, NotOnLink and
# malformed messages and frames get counted outcomes; the RA says M=1 O=1 with the pool's /64 (L=1, A=0).
# The config file's spelling (dhcp.pool6, a machine's ip6) does the same. A bound machine's
# renewals are answered in XDP (xdp_dhcp6_bound); with its tail-call slot emptied they go to the
# daemon, counted in dhcp6_tail_call_failed, and `xpxe status` says so.
LAB=td6full
source "$(dirname "$0")/lib.sh"
require_root

SRV6=fd00:198:18::1
POOL6=fd00:198:18::100
RES6=fd00:198:18::50
PROBE=$ROOT/tests/integration/dhcp6_probe.py
RS_PROBE=$ROOT/tests/integration/rs_probe.py
lab_up_dhcp6 52:54:00:d7:00 4 || exit 1
LEASES=$WORK/bindings
SERVE=(-i "$IF_SRV" --mode full --pool6 "$POOL6-$POOL6" --reserve6 "52:54:00:d7:00:03=$RES6"
	--leases "$LEASES")

# dhcp6 N NAME [ARGS...]: dhclient -6 on host N with lease file NAME.leases (kept between
# runs: the client's DUID and lease); what it got lands in $WORK/NAME.result. dhclient goes to
# the background once bound: stopped at once (-x, no Release), its address stays on eth0.
dhcp6() {
	local n=$1 name=$2
	shift 2
	: >>"$WORK/$name.conf"
	cat >"$WORK/$name.sh" <<SCRIPT
#!/bin/sh
case "\$reason" in BOUND6|RENEW6|REBIND6|REBOOT6)
	ip -6 addr replace "\$new_ip6_address/128" dev "\$interface" nodad
	echo "ip6=\$new_ip6_address sid=\$new_dhcp6_server_id" >"$WORK/$name.result" ;;
esac
[ -n "\$new_dhcp6_server_id" ] && [ -z "\$new_ip6_address" ] &&
	echo "sid=\$new_dhcp6_server_id" >"$WORK/$name.result"
exit 0
SCRIPT
	chmod +x "$WORK/$name.sh"
	rm -f "$WORK/$name.result"
	timeout 60 ip netns exec "$LAB-h$n" dhclient -6 -1 -v "$@" -cf "$WORK/$name.conf" \
		-sf "$WORK/$name.sh" -lf "$WORK/$name.leases" -pf "$WORK/$name.pid" eth0 \
		>>"$WORK/$name.log" 2>&1
	local rc=$?
	stop_dhclients "$n"
	return $rc
}
# stop_dhclients N: the dhclients this test started in host N's namespace (by pid), gone.
stop_dhclients() {
	local pid
	for pid in $(ip netns pids "$LAB-h$1"); do
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = dhclient ] && kill "$pid"
	done
	gone() { ! ip netns pids "$LAB-h$1" | while read -r p; do cat "/proc/$p/comm"; done 2>/dev/null | grep -qx dhclient; }
	wait_until gone "$1"
}
field() { sed -n "s/.*\b$2=\([^ ]*\).*/\1/p" "$WORK/$1.result" 2>/dev/null; }
srv6() { "$XPXE" status --json | jq -r ".interfaces[0].dhcp6.server.$1"; }
# probe N NAME TYPE [OPTIONS...]: one crafted message from host N; the answers in $WORK/NAME.out
probe() {
	local n=$1 name=$2
	shift 2
	ip netns exec "$LAB-h$n" python3 "$PROBE" eth0 3 "$@" >"$WORK/$name.out" 2>&1
}

if start_daemon "${SERVE[@]}"; then ok "xpxe serves $IF_SRV in full mode with --pool6"; else
	not_ok "xpxe serves $IF_SRV in full mode with --pool6" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
check "status: DHCPv6 full mode" test "$("$XPXE" status --json | jq -r '.interfaces[0].dhcp6.mode')" = full
DUID=$("$XPXE" status --json | jq -r '.interfaces[0].dhcp6.server_duid' | tr -d :)

# --- the RA of full mode: M=1 O=1, the pool's /64 on-link, not for SLAAC, lifetime 0 -------------
ip netns exec "$LAB-h4" python3 "$RS_PROBE" eth0 3 >"$WORK/h4.ra" 2>&1
ra() { sed -n "1s/.*\b$1=\([^ ]*\).*/\1/p" "$WORK/h4.ra"; }
check "an RS gets an RA with M and O (flags $(ra flags) = 192)" test "$(ra flags)" = 192
check "... the pool's prefix fd00:198:18::/64 ($(ra prefix))" test "$(ra prefix)" = fd00:198:18::/64
check "... L=1, A=0 (prefix flags $(ra pflags) = 128)" test "$(ra pflags)" = 128
check "... router lifetime 0" test "$(ra lifetime)" = 0

# --- a new machine: an address from the pool, on disk ---------------------------------------
to_daemon0=$(counter pass_dhcp6_to_daemon)
dhcp6 1 h1
if [ "$(field h1 ip6)" = "$POOL6" ]; then ok "dhclient -6 gets $POOL6 from the pool"; else
	not_ok "dhclient -6 gets $POOL6 from the pool" "$(cat "$WORK/h1.result" 2>&1)" "$(tail -5 "$WORK/h1.log")"
fi
check "ip -6 addr shows it on the client" bash -c "ip -n '$LAB-h1' -6 addr show dev eth0 | grep -q '$POOL6/128'"
check "dhclient's lease file has it" grep -q "iaaddr $POOL6" "$WORK/h1.leases"
check "the binding is on disk (leases6)" grep -q "^52:54:00:d7:00:01 $POOL6 " "$LEASES"6
check "a lease_bound event names the machine, its IPv6 address and DHCPv6" grep -q \
	"event=lease_bound mac=52:54:00:d7:00:01 ip=$POOL6 iface=$IF_SRV .*DHCPv6" "$WORK/daemon.log"
check "... from xpxe's server id" test "$(field h1 sid | tr -d :)" != ""
check "the messages went to the daemon (pass_dhcp6_to_daemon $to_daemon0 -> $(counter pass_dhcp6_to_daemon))" \
	test "$(counter pass_dhcp6_to_daemon)" -ge $((to_daemon0 + 2))
check "xpxe leases --json lists it with its DUID" \
	jq -e ".leases | map(select(.family == \"ipv6\" and .ip == \"$POOL6\" and (.duid | length) > 0)) | length == 1" \
	<<<"$("$XPXE" leases --json)"
check "xpxe leases shows it" bash -c "'$XPXE' leases | grep -q '52:54:00:d7:00:01 *$POOL6'"

# --- the pool is taken: the next machine is refused -------------------------------------------
noaddr0=$(srv6 no_addrs_avail)
probe 2 full 1 "cid=00030001525400d70002" "ia=7:"
check "a second machine gets NoAddrsAvail while the one address is bound" \
	grep -q 'type=2 status=2 ' "$WORK/full.out"
check "... counted (no_addrs_avail $noaddr0 -> $(srv6 no_addrs_avail))" test "$(srv6 no_addrs_avail)" -gt "$noaddr0"

# --- restart: the machine keeps its address ------------------------------------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
start_daemon "${SERVE[@]}" || { not_ok "serve starts again" "$(tail -5 "$WORK/daemon.log")"; exit 1; }
check "the binding came back from disk" test "$(srv6 bindings)" = 1
# dhclient with its lease file: Confirm, or a Solicit for its address.
dhcp6 1 h1
check "after a restart dhclient -6 with its lease file keeps $POOL6 ($(field h1 ip6))" test "$(field h1 ip6)" = "$POOL6"
# A Renew (to xpxe's server id) of the address: extended, the same address.
probe 1 renew 5 "cid=00030001525400d70001" "sid=$DUID" "ia=1:$POOL6"
check "a Renew of the machine's IA gets a Reply with $POOL6" grep -q "type=7 .*addrs=$POOL6/" "$WORK/renew.out"
# --- messages to xpxe's own address, not to ff02::1:2 (RFC 8415 16, 18.4) -------------------------
# xpxe sends no Server Unicast option: a Solicit, Confirm, Rebind or Information-request sent so
# is dropped (unicast_dropped); a Request, Renew, Release or Decline naming it gets a Reply of
# UseMulticast (status 5) only, counted in use_multicast and not in reply. The bound machine's
# Renew and Rebind (which xdp_dhcp6_bound answers when they go to ff02::1:2) too: XDP sends them
# up whole, and the daemon neither extends nor frees the binding.
SRV_LL=$(in_srv ip -6 -o addr show dev "$IF_SRV" scope link | awk '{ sub("/.*", "", $4); print $4; exit }')
# uprobe N NAME TO TYPE [OPTIONS...]: probe's message to TO; TIMEOUT 2 s
uprobe() {
	local n=$1 name=$2 to=$3
	shift 3
	ip netns exec "$LAB-h$n" python3 "$PROBE" --to="$to" eth0 2 "$@" >"$WORK/$name.out" 2>&1
}
reply0=$(srv6 reply) usemc0=$(srv6 use_multicast) drop0=$(srv6 unicast_dropped)
xdpbound0=$(counter dhcp6_reply_bound) bound0=$(srv6 bound) expires0=$(grep "^52:54:00:d7:00:01 " "$LEASES"6)
uprobe 1 u-renew "$SRV_LL" 5 "cid=00030001525400d70001" "sid=$DUID" "ia=1:$POOL6"
check "the bound machine's Renew to $SRV_LL gets a Reply of UseMulticast, no address" \
	grep -qi "^reply type=7 status=5 ia_status=-1 addrs=none sid=$DUID\$" "$WORK/u-renew.out"
uprobe 1 u-rebind "$SRV_LL" 6 "cid=00030001525400d70001" "ia=1:$POOL6"
check "the bound machine's Rebind to $SRV_LL gets no answer" test ! -s "$WORK/u-rebind.out"
check "... neither answered in XDP (dhcp6_reply_bound $xdpbound0 -> $(counter dhcp6_reply_bound))" \
	test "$(counter dhcp6_reply_bound)" = "$xdpbound0"
check "... nor extended by the daemon (bound $bound0 -> $(srv6 bound), leases6 line unchanged)" \
	sh -c "[ '$(srv6 bound)' = '$bound0' ] && grep -qx '$expires0' '${LEASES}6'"
n=0
for type in 3 5 8 9; do # Request, Renew, Release, Decline of a machine without a binding
	uprobe 4 "u-$type" "$SRV_LL" "$type" "cid=00030001525400d70004" "sid=$DUID" "ia=9:fd00:198:18::77"
	grep -qi "^reply type=7 status=5 ia_status=-1 addrs=none sid=$DUID\$" "$WORK/u-$type.out" && n=$((n + 1))
done
check "a Request, Renew, Release and Decline to $SRV_LL get UseMulticast ($n of 4)" test "$n" = 4
n=0
for type in 1 4 6 11; do # Solicit, Confirm, Rebind, Information-request
	case $type in
	11) uprobe 4 "u-$type" "$SRV_LL" "$type" "cid=00030001525400d70004" ;;
	*) uprobe 4 "u-$type" "$SRV_LL" "$type" "cid=00030001525400d70004" "ia=9:fd00:198:18::77" ;;
	esac
	[ -s "$WORK/u-$type.out" ] || n=$((n + 1))
done
check "a Solicit, Confirm, Rebind and Information-request to $SRV_LL get no answer ($n of 4)" test "$n" = 4
unicast_counted() {
	[ "$(srv6 use_multicast)" -eq $((usemc0 + 5)) ] && [ "$(srv6 unicast_dropped)" -eq $((drop0 + 5)) ]
}
if wait_until unicast_counted; then ok "5 UseMulticast and 5 unicast_dropped counted"; else
	not_ok "UseMulticast and unicast_dropped counted" "use_multicast $usemc0 -> $(srv6 use_multicast) (want +5)" \
		"unicast_dropped $drop0 -> $(srv6 unicast_dropped) (want +5)"; fi
check "... the UseMulticast Replies not counted in reply ($reply0 -> $(srv6 reply))" test "$(srv6 reply)" = "$reply0"
check "the binding is still there (a unicast Release frees nothing)" grep -q "^52:54:00:d7:00:01 $POOL6 " "$LEASES"6

# Renew from a machine without a binding: NoBinding
nob0=$(srv6 no_binding)
probe 4 nobinding 5 "cid=00030001525400d70004" "sid=$DUID" "ia=9:fd00:198:18::77"
check "a Renew without a binding gets NoBinding in its IA" grep -q 'type=7 .*ia_status=3 ' "$WORK/nobinding.out"
check "... counted (no_binding $nob0 -> $(srv6 no_binding))" test "$(srv6 no_binding)" -gt "$nob0"
# Confirm of an address of another link: NotOnLink
probe 4 confirm 4 "cid=00030001525400d70004" "ia=9:fd00:9999::1"
check "a Confirm of another link's address gets NotOnLink" grep -q 'type=7 status=4 ' "$WORK/confirm.out"

# --- release: freed, and the next machine gets it ---------------------------------------------
timeout 60 ip netns exec "$LAB-h1" dhclient -6 -r -v -cf "$WORK/h1.conf" -sf "$WORK/h1.sh" \
	-lf "$WORK/h1.leases" -pf "$WORK/h1.pid" eth0 >>"$WORK/h1.log" 2>&1
released() { ! grep -q "^52:54:00:d7:00:01 " "$LEASES"6; }
if wait_until released; then ok "dhclient -6 -r releases the binding (gone from leases6)"; else
	not_ok "dhclient -6 -r releases the binding" "$(tail -5 "$WORK/h1.log")"; fi
check "... counted (released $(srv6 released))" test "$(srv6 released)" -ge 1
dhcp6 2 h2
check "the next machine gets the freed $POOL6 ($(field h2 ip6))" test "$(field h2 ip6)" = "$POOL6"

# --- Information-request: a Reply, no address ------------------------------------------------------
replies0=$(srv6 reply)
dhcp6 4 info -S
check "dhclient -6 -S gets a Reply (server id $(field info sid))" test -n "$(field info sid)"
check "... from the daemon (reply $replies0 -> $(srv6 reply))" test "$(srv6 reply)" -gt "$replies0"

# --- a reservation ----------------------------------------------------------------------------------
dhcp6 3 h3
check "the reserved MAC gets $RES6 ($(field h3 ip6))" test "$(field h3 ip6)" = "$RES6"
check "... on disk" grep -q "^52:54:00:d7:00:03 $RES6 " "$LEASES"6

# --- malformed messages: counted, never answered, the daemon keeps serving -----------------------------
bad0=$(srv6 malformed)
# an option claiming 200 bytes in a 12-byte message; an IA_NA of 4 bytes; a Solicit with no client id
probe 4 bad1 raw=01aabbcc000100c80003
probe 4 bad2 raw=01aabbcc0001000a00030001525400d700040003000400000001
probe 4 bad3 raw=01aabbcc00060002003b
check "three malformed messages are counted (malformed $bad0 -> $(srv6 malformed))" \
	test "$(srv6 malformed)" -eq $((bad0 + 3))
check "... by kind (truncated, bad_option, missing_ids)" \
	jq -e '.interfaces[0].dhcp6.server.malformed_by_kind | .truncated >= 1 and .bad_option >= 1 and .missing_ids >= 1' \
	<<<"$("$XPXE" status --json)"
check "... and none answered" bash -c "! grep -q reply '$WORK'/bad*.out"
# whole frames: a wrong UDP checksum (XDP passes it, counted; the server refuses it too), and a
# hop-by-hop header (XDP does not walk extension headers: counted, passed)
badsum0=$(counter pass_bad_udp_csum) badframe0=$(srv6 bad_frame) ext0=$(counter pass_ipv6_ext_header)
ip netns exec "$LAB-h4" python3 "$PROBE" --frame=badsum eth0 0 1 "cid=00030001525400d70004" "ia=9:"
ip netns exec "$LAB-h4" python3 "$PROBE" --frame=hopbyhop eth0 0 1 "cid=00030001525400d70004" "ia=9:"
frames_counted() {
	[ "$(counter pass_bad_udp_csum)" -gt "$badsum0" ] && [ "$(srv6 bad_frame)" -gt "$badframe0" ] &&
		[ "$(counter pass_ipv6_ext_header)" -gt "$ext0" ]
}
if wait_until frames_counted; then
	ok "a frame with a wrong UDP checksum and one with a hop-by-hop header: counted (pass_bad_udp_csum, bad_frame, pass_ipv6_ext_header)"
else
	not_ok "bad frames counted" "pass_bad_udp_csum $badsum0 -> $(counter pass_bad_udp_csum)" \
		"bad_frame $badframe0 -> $(srv6 bad_frame)" "pass_ipv6_ext_header $ext0 -> $(counter pass_ipv6_ext_header)"
fi
check "the daemon still answers" daemon_answers

# --- the config file: dhcp.pool6 and a machine's ip6 ----------------------------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
head -c 1000 /dev/urandom >"$WORK/kernel"
cat >"$WORK/xpxe.yaml" <<YAML
interfaces: [$IF_SRV]
mode: full
dhcp: {pool6: fd00:198:18::200-fd00:198:18::2ff, leases: $WORK/cfg-leases}
state_dir: $WORK/state
assets: {vmlinuz: $WORK/kernel, initramfs: $WORK/kernel}
profiles:
  default: {kernel: vmlinuz, initrd: initramfs, talos_config: $WORK/talos}
machines:
  - {mac: 52:54:00:d7:00:04, hostname: w-4, ip6: fd00:198:18::44}
  - {mac: 52:54:00:d7:00:02, hostname: w-2, ip: 198.18.0.52}
YAML
mkdir -p "$WORK/talos"
echo "machine: {type: worker} # d7" >"$WORK/talos/default.yaml"
if start_daemon -c "$WORK/xpxe.yaml"; then ok "serve -c with dhcp.pool6 and a machine's ip6"; else
	not_ok "serve -c with dhcp.pool6 and a machine's ip6" "$(tail -5 "$WORK/daemon.log")"; exit 1; fi
rm -f "$WORK/h4.leases"
dhcp6 4 h4
check "the machine with ip6 gets fd00:198:18::44 ($(field h4 ip6))" test "$(field h4 ip6)" = fd00:198:18::44
dhcp6 1 h1cfg
check "another machine gets the config's pool6 fd00:198:18::200 ($(field h1cfg ip6))" \
	test "$(field h1cfg ip6)" = fd00:198:18::200
check "... bound in the config's leases6" grep -q "^52:54:00:d7:00:01 fd00:198:18::200 " "$WORK/cfg-leases6"

# --- configs over IPv6 in full mode: an address xpxe gave out outranks a script fetch ----------
# Anyone may fetch a script naming another machine's MAC: over IPv6 that must not win the
# machine's config when xpxe holds its IPv6 reservation or an IPv4 reservation or lease.
http6() { # HOST-N SOURCE PATH -> the HTTP status, and curl's error after it when it has one
	ip netns exec "$LAB-h$1" curl -sS -g --interface "$2" -o "$WORK/body" -w '%{http_code}' \
		"http://[$SRV6]:8080$3" 2>"$WORK/curl.err"
	[ -s "$WORK/curl.err" ] && printf ' (%s)' "$(head -c 200 "$WORK/curl.err" | tr '\n' ' ')"
}
STRANGER=$(field h1cfg ip6)
http6 1 "$STRANGER" "/boot.ipxe?mac=52:54:00:d7:00:04" >/dev/null
st=$(http6 1 "$STRANGER" "/talos/config?mac=52:54:00:d7:00:04")
check "w-4's config (ip6 reserved) refused to $STRANGER after its script fetch (HTTP $st)" \
	test "$st" = 403
st=$(http6 4 fd00:198:18::44 "/talos/config?mac=52:54:00:d7:00:04")
check "w-4's config served to its reserved fd00:198:18::44 (HTTP $st)" test "$st" = 200
http6 1 "$STRANGER" "/boot.ipxe?mac=52:54:00:d7:00:02" >/dev/null
st=$(http6 1 "$STRANGER" "/talos/config?mac=52:54:00:d7:00:02")
check "w-2's config (IPv4 reservation) refused over IPv6 after a stranger's script fetch (HTTP $st)" \
	test "$st" = 403
check "... and logged as its reservation's" \
	grep -q "config of .*w-2.* refused to $STRANGER: the machine is at 198.18.0.52 (its reservation)" \
	"$WORK/daemon.log"

# A reload cannot move a DHCPv6 reservation: the server takes them at start only.
sed -i 's/ip6: fd00:198:18::44}/ip6: fd00:198:18::45}/' "$WORK/xpxe.yaml"
out=$("$XPXE" reload 2>&1)
rc=$?
check "a reload that moves w-4's ip6 is refused (exit $rc), the reason given" \
	sh -c "[ $rc -ne 0 ] && printf '%s' \"\$1\" | grep -q 'DHCPv6 reservations'" _ "$out"
st=$(http6 4 fd00:198:18::44 "/talos/config?mac=52:54:00:d7:00:04")
check "... the running config kept: w-4's config still goes to fd00:198:18::44 (HTTP $st)" \
	test "$st" = 200

# --- a bound machine's renewals: answered in XDP from dhcp6_bindings, not by the daemon ---------
# lease_time 60: dhclient -6 renews at T1 = 30 s (to ff02::1:2, naming xpxe's server id). The
# binding enters the map once on disk; dhclient takes XDP's Reply (its RENEW6); the daemon never
# sees the Renew (its bound counter stays); the Release goes up and takes it out of the map.
kill -TERM "$DAEMON_PID"
wait_daemon
cat >"$WORK/renew.yaml" <<YAML
interfaces: [$IF_SRV]
mode: full
dhcp: {pool6: fd00:198:18::300-fd00:198:18::3ff, leases: $WORK/renew-leases, lease_time: 60}
state_dir: $WORK/state
assets: {vmlinuz: $WORK/kernel, initramfs: $WORK/kernel}
profiles:
  default: {kernel: vmlinuz, initrd: initramfs, talos_config: $WORK/talos}
YAML
start_daemon -c "$WORK/renew.yaml" || { not_ok "serve -c with lease_time 60" "$(tail -5 "$WORK/daemon.log")"; exit 1; }
BINDINGS6=/sys/fs/bpf/xpxe/$IF_SRV/dhcp6_bindings
nbindings6() { bpftool -j map dump pinned "$BINDINGS6" | jq length; }
cat >"$WORK/renew.sh" <<SCRIPT
#!/bin/sh
case "\$reason" in BOUND6|RENEW6|REBIND6)
	ip -6 addr replace "\$new_ip6_address/128" dev "\$interface" nodad
	echo "\$reason ip6=\$new_ip6_address" >>"$WORK/renew.result" ;;
esac
exit 0
SCRIPT
chmod +x "$WORK/renew.sh"
: >"$WORK/renew.conf"
rm -f "$WORK/renew.result" "$WORK/renew.leases"
xdp0=$(counter dhcp6_reply_bound)
# Not -1: once bound, dhclient stays in the background to renew.
timeout 60 ip netns exec "$LAB-h1" dhclient -6 -v -cf "$WORK/renew.conf" -sf "$WORK/renew.sh" \
	-lf "$WORK/renew.leases" -pf "$WORK/renew.pid" eth0 >>"$WORK/renew.log" 2>&1
bound_ip6() { sed -n 's/^BOUND6 ip6=//p' "$WORK/renew.result" 2>/dev/null | head -1; }
has_bound6() { [ -n "$(bound_ip6)" ]; }
if wait_until has_bound6; then ok "dhclient -6 (lease_time 60) gets $(bound_ip6)"; else
	not_ok "dhclient -6 (lease_time 60) gets an address" "$(tail -5 "$WORK/renew.log")"; exit 1; fi
RIP6=$(bound_ip6)
check "... its binding is in dhcp6_bindings ($(nbindings6) entry)" test "$(nbindings6)" = 1
srvbound0=$(srv6 bound)
renewed6() { grep -q "^RENEW6 ip6=$RIP6\$" "$WORK/renew.result" && [ "$(counter dhcp6_reply_bound)" -gt "$xdp0" ]; }
if WAIT_S=100 wait_until renewed6; then
	ok "dhclient -6 renews $RIP6 at T1 and takes XDP's Reply (dhcp6_reply_bound $xdp0 -> $(counter dhcp6_reply_bound))"
else
	not_ok "dhclient -6 renews in XDP" "dhcp6_reply_bound $xdp0 -> $(counter dhcp6_reply_bound)" \
		"$(cat "$WORK/renew.result")" "$(tail -5 "$WORK/renew.log")"
fi
check "... the daemon never saw it (bound $srvbound0 -> $(srv6 bound))" test "$(srv6 bound)" = "$srvbound0"
check "... the renewal noted for the daemon (last_seen_ns)" \
	jq -e '.[0].formatted.value.last_seen_ns > 0' <<<"$(bpftool -j map dump pinned "$BINDINGS6")"
stop_dhclients 1
# The daemon killed (its pins and xdp_pxe stay): the tail call's slot is pinned, so XDP still
# renews the bound machine, as IPv4's known machines are answered with no daemon. (dhclient
# stopped first: its socket on port 546 would take the probe's Reply.)
BOUND_IDX=$(counter_index dhcp6_reply_bound)
DUID=$("$XPXE" status --json | jq -r '.interfaces[0].dhcp6.server_duid' | tr -d :)
kill -KILL "$DAEMON_PID"; wait_daemon
check "with the daemon killed, xdp_dhcp6_bound and xdp_tftp6 stay in their pinned tail-call slots" \
	bash -c "bpftool -j map dump pinned /sys/fs/bpf/xpxe/$IF_SRV/tail_calls | jq -e 'length == 1' &&
		bpftool -j map dump pinned /sys/fs/bpf/xpxe/$IF_SRV/tail_calls_tftp6 | jq -e 'length == 1'"
bind6=$(bpftool -j map dump pinned "$BINDINGS6" | jq -c '.[0].formatted.value')
# shellcheck disable=SC2046 # one byte a word
dead_cid=$(printf '%02x' $(jq -r '.duid[0:.duid_len][]' <<<"$bind6"))
dead_iaid=$(jq -r .iaid <<<"$bind6")
bound0=$(pinned_counter "$BOUND_IDX")
probe 1 deadrenew 5 "cid=$dead_cid" "sid=$DUID" "ia=$dead_iaid:$RIP6"
check "... and a Renew of its binding gets XDP's Reply with $RIP6 (dhcp6_reply_bound $bound0 -> $(pinned_counter "$BOUND_IDX")): $(head -c 300 "$WORK/deadrenew.out")" \
	bash -c "grep -q 'type=7 .*addrs=$RIP6/' '$WORK/deadrenew.out' && [ $(pinned_counter "$BOUND_IDX") -gt $bound0 ]"
start_daemon -c "$WORK/renew.yaml" || { not_ok "serve -c starts over the killed daemon's data plane" "$(tail -5 "$WORK/daemon.log")"; exit 1; }
timeout 60 ip netns exec "$LAB-h1" dhclient -6 -r -v -cf "$WORK/renew.conf" -sf "$WORK/renew.sh" \
	-lf "$WORK/renew.leases" -pf "$WORK/renew.pid" eth0 >>"$WORK/renew.log" 2>&1
unbound6() { [ "$(nbindings6)" = 0 ]; }
if wait_until unbound6; then ok "after dhclient -6 -r the binding is out of dhcp6_bindings"; else
	not_ok "after dhclient -6 -r the binding is out of dhcp6_bindings" "$(nbindings6) entries"; fi
check "... and out of the file" bash -c "! grep -q '^52:54:00:d7:00:01 ' '$WORK/renew-leases6'"

# --- the tail call unavailable: renewals go to the daemon, counted apart, and status says so ---------
check "status: renewals in XDP (renewals_in_xdp, dhcp6_tail_call_failed 0)" \
	jq -e '.interfaces[0] | .dhcp6.renewals_in_xdp == true and .counters.dhcp6_tail_call_failed == 0' \
	<<<"$("$XPXE" status --json)"
# Empty xdp_dhcp6_bound's slot by hand (as a kernel that refuses the tail call leaves it).
PROG_ID=$("$XPXE" status --json | jq -r '.interfaces[0].prog_id')
SLOT_MAP=$(for id in $(bpftool -j prog show id "$PROG_ID" | jq -r '.map_ids[]'); do
	bpftool -j map show id "$id" | jq -r 'select(.type == "prog_array" and (.name | startswith("dhcp6_bound"))) | .id'
done)
check "xdp_pxe's tail-call map found (id ${SLOT_MAP:-none})" test -n "$SLOT_MAP"
bpftool map delete id "$SLOT_MAP" key 0 0 0 0
failed0=$(counter dhcp6_tail_call_failed) todaemon0=$(counter pass_dhcp6_to_daemon)
DUID=$("$XPXE" status --json | jq -r '.interfaces[0].dhcp6.server_duid' | tr -d :)
probe 4 notail 5 "cid=00030001525400d70004" "sid=$DUID" "ia=9:fd00:198:18::377"
check "a Renew with the slot empty is answered by the daemon (NoBinding)" \
	grep -q 'type=7 .*ia_status=3 ' "$WORK/notail.out"
check "... counted in dhcp6_tail_call_failed ($failed0 -> $(counter dhcp6_tail_call_failed)), not pass_dhcp6_to_daemon" \
	test "$(counter dhcp6_tail_call_failed)" -gt "$failed0" -a "$(counter pass_dhcp6_to_daemon)" = "$todaemon0"
check "status --json: renewals_in_xdp false" \
	test "$("$XPXE" status --json | jq -r '.interfaces[0].dhcp6.renewals_in_xdp')" = false
check "xpxe status says the daemon answers the renewals" \
	bash -c "'$XPXE' status | grep -q '^  renewals  answered by the daemon'"
