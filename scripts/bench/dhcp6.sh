#!/usr/bin/env bash
# DHCPv6 benchmark: xpxe's full mode (--pool6) vs dnsmasq (--dhcp-range of an IPv6 prefix),
# and IPv4 in the same run, all under perfdhcp on the same lab:
#   SARR/s (Solicit, Advertise, Request, Reply) for CLIENTS returning clients (-R, bound in a
#   warm-up pass), against DORA/s of as many IPv4 clients (a relay, as scripts/bench/dhcp.sh);
#   xpxe's proxy-like mode: Solicit -> Advertise/s of PXE clients (vendor class PXEClient);
#   per reply: ns inside xdp_pxe for DHCPv6 and IPv4 (build/bench/xdp_ns, test_run).
# A rate's figure counts only if its answers were valid: IPv6, the first 400 answers captured
# and decoded (dhcp6_check.py); IPv4, every client holds one binding afterwards (xpxe's status,
# dnsmasq's lease file), no more.
# Results: a Markdown table on stdout and in build/bench/dhcp6.md, and its section of
# BENCHMARKS.md (scripts/bench/section.sh). Runs a few minutes.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
. scripts/bench/lib.sh
bench_begin dhcp6 bdhcp6
PERIOD=${PERIOD:-8}
CLIENTS=${CLIENTS:-1000}
CLIENTS6=${CLIENTS6:-1} # xpxe binds one address per MAC, and perfdhcp -6 sends every DUID from one MAC
RATES=${RATES:-"2000 5000 10000"}
SRV6=fd00:198:18::1
POOL6=fd00:198:18::1000-fd00:198:18::1fff # 4096: room for CLIENTS up to 4000

bench_wait_quiet
bench_lab_up
bench_relay_host
in_srv ip -6 addr add "$SRV6/64" dev "$IF_SRV" nodad
ll_ready() {
	ip netns exec "$LAB-h1" ip -6 addr show dev eth0 scope link | grep -q inet6 &&
		! ip netns exec "$LAB-h1" ip -6 addr show dev eth0 tentative | grep -q inet6
}
for _ in $(seq 100); do ll_ready && break; sleep 0.1; done
ll_ready || {
	say "host 1 has no link-local address"
	exit 1
}
for i in $(seq 0 $((CLIENTS - 1))); do printf '52:54:01:00:%02x:%02x\n' $((i / 256)) $((i % 256)); done >"$work/macs"
vci=$(printf 'PXEClient:Arch:00000:UNDI:002001' | od -An -tx1 | tr -d ' \n')
PXE4=(-o "60,$vci" -o 93,0000)
# IPv6: vendor class (16), enterprise 343, one class string of EDK2's x64 PXE; architecture 7 (61).
cls6=PXEClient:Arch:00007:UNDI:003000
vc6=$(printf '00000157%04x' ${#cls6})$(printf '%s' "$cls6" | od -An -tx1 | tr -d ' \n')
PXE6=(-o "16,$vc6" -o 61,0007)

NO_LIMITS=(--dhcp-mac-rate 0 --dhcp-global-rate 0)
start_xpxe() {
	nsenter --net="/run/netns/$NS_SRV" ./xpxe serve -i "$IF_SRV" --state-dir "$work/state" \
		"${NO_LIMITS[@]}" "$@" >>"$work/xpxe.log" 2>&1 &
	for _ in $(seq 50); do ./xpxe status >/dev/null 2>&1 && return 0; sleep 0.1; done
	say "xpxe did not start: $(tail -3 "$work/xpxe.log")"
	exit 1
}
start_dnsmasq() {
	in_srv dnsmasq --keep-in-foreground --user=root --port=0 --interface="$IF_SRV" \
		--bind-interfaces --dhcp-leasefile="$work/dnsmasq.leases" --log-facility=/dev/null \
		--dhcp-lease-max=10000 "$@" &
	# Up once it listens on 547 (IPv6) or 67.
	for _ in $(seq 50); do
		in_srv ss -Hlun | grep -qE ':(547|67)\b' && return 0
		sleep 0.1
	done
	say "dnsmasq did not start"
	exit 1
}
stop_server() { bench_stop_servers; }

# perf FAMILY RATE EXTRA_ARGS... -> "sent received" of the last exchange (REQUEST-REPLY, -ACK,
# or SOLICIT-ADVERTISE with -i). IPv4 through the relay 198.18.4.11, IPv6 from eth0's
# link-local address to ff02::1:2.
perf() {
	local fam=$1 rate=$2 kind=REQUEST-
	shift 2
	[[ " $* " == *" -i "* ]] && kind=SOLICIT-ADVERTISE
	[[ " $* " == *" -i "* && $fam == 4 ]] && kind=DISCOVER-OFFER
	# IPv4: dhcp.sh's list of MACs (-M); IPv6: -R clients
	local where=(-l eth0) who=(-R "$CLIENTS6")
	[ "$fam" = 4 ] && where=(-l 198.18.4.11) who=(-M "$work/macs")
	ip netns exec "$LAB-h1" timeout $((PERIOD + 20)) perfdhcp -"$fam" "${where[@]}" -r "$rate" \
		-p "$PERIOD" "${who[@]}" "$@" "$([ "$fam" = 4 ] && echo 198.18.0.1 || echo all)" \
		>"$work/perf.out" 2>&1
	awk -v k="$kind" '$0 ~ k {f=1} f && /sent packets/ {s=$3} f && /received packets/ {print s, $3; exit}' \
		"$work/perf.out"
}

# capture_start: the first 400 DHCPv6 answers the client host receives, into $work/cap.pcap,
# for capture_check; returns once tcpdump listens.
capture_start() {
	rm -f "$work/cap.pcap" "$work/cap.err"
	ip netns exec "$LAB-h1" timeout $((PERIOD + 20)) tcpdump -Unpi eth0 -c 400 \
		-w "$work/cap.pcap" udp dst port 546 2>"$work/cap.err" &
	cap_pid=$!
	for _ in $(seq 100); do grep -qs listening "$work/cap.err" && return 0; sleep 0.05; done
	say "tcpdump did not start: $(cat "$work/cap.err")"
	exit 1
}
# capture_check KIND -> "VALID TOTAL" of the captured answers (scripts/bench/dhcp6_check.py).
capture_check() {
	kill "$cap_pid" 2>/dev/null
	wait "$cap_pid" 2>/dev/null
	python3 scripts/bench/dhcp6_check.py "$1" "$work/cap.pcap"
}

# The bindings a server holds now: xpxe's status (v4 or v6), dnsmasq's lease file.
bindings() { # SERVER FAMILY
	if [ "$1" = xpxe ] && [ "$2" = 6 ]; then
		./xpxe status --json | jq -r '.interfaces[0].dhcp6.server.bindings'
	elif [ "$1" = xpxe ]; then
		./xpxe status --json | jq -r '.interfaces[0].dhcp.bindings'
	elif [ "$2" = 6 ]; then
		# dnsmasq's IPv6 leases: after its "duid" line, "EXPIRY IAID ADDRESS ..."
		awk '/^duid/ { d = 1; next } d && $3 ~ /:/ { n++ } END { print n + 0 }' "$work/dnsmasq.leases"
	else
		awk '$3 ~ /^198\./ { n++ } END { print n + 0 }' "$work/dnsmasq.leases"
	fi
}

row() { printf '| %s | %s | %s | %s | %s | %s |\n' "$@" | tee -a "$out"; }

mkdir -p build/bench
{
	echo "DHCPv6, $(date -u +%Y-%m-%d), $(nproc) cores, $(uname -r), perfdhcp $PERIOD s per rate, $CLIENTS clients, load average before: $load_before"
	echo
	echo "| server | exchange | offered/s | answered/s | loss | bindings after (IPv4 of $CLIENTS, IPv6 of $CLIENTS6 client) |"
	echo "| --- | --- | --- | --- | --- | --- |"
} | tee "$out"

declare -A ANSWERED # [SERVER|FAMILY|RATE]
invalid=0 # xpxe's runs that failed a check: the script fails
short=0   # dnsmasq's: reported
# measure SERVER FAMILY LABEL PERF_ARGS...: warm-up (every client bound), then each rate.
measure() {
	local name=$1 fam=$2 label=$3 r sent recv b v=
	shift 3
	# Warm-up: every client bound before the rates (up to 3 passes at 2000/s: dnsmasq binds a
	# new IPv4 client only so fast).
	for _ in 1 2 3; do
		perf "$fam" 2000 "$@" >/dev/null
		[ "$fam" = 6 ] || [ "$(bindings "$name" "$fam")" = "$CLIENTS" ] && break
	done
	for r in $RATES; do
		[ "$fam" = 6 ] && capture_start
		read -r sent recv < <(perf "$fam" "$r" "$@")
		sent=${sent:-0} recv=${recv:-0}
		b=$(bindings "$name" "$fam")
		# IPv4: valid answers bind each client once, all of them after the warm-up.
		# (dnsmasq, which binds new clients only so fast, may still be short of them after its
		# warm-up on a busy machine: that row is then partly from cold, and said so.)
		if [ "$fam" = 4 ] && [[ -z $b || $b == null || $b -ne $CLIENTS ]]; then
			say "$name IPv4 at $r/s: $b bindings, not $CLIENTS"
			if [ "$name" = xpxe ]; then invalid=$((invalid + 1)); else short=$((short + 1)); fi
		fi
		# IPv6: each captured Advertise and Reply gives an address (dhcp6_check.py).
		if [ "$fam" = 6 ]; then
			read -r v t < <(capture_check bind)
			if [[ -z $v || $v != "$t" || $t == 0 ]]; then
				say "$name IPv6 at $r/s: $v of $t answers valid"
				if [ "$name" = xpxe ]; then invalid=$((invalid + 1)); else short=$((short + 1)); fi
			fi
			b="$b; $v of $t captured answers valid"
		fi
		if [[ $label == *tmpfs* ]]; then
			ANSWERED["$name-tmpfs|$fam|$r"]=$((recv / PERIOD))
		else
			ANSWERED["$name|$fam|$r"]=$((recv / PERIOD))
		fi
		row "$name" "$label" "$r" "$((recv / PERIOD))" \
			"$(awk -v s="$sent" -v r="$recv" 'BEGIN{ if (s) printf "%.1f%%", 100*(s-r)/s; else print "-" }')" "$b"
	done
}

# --- full mode: returning clients, IPv6 then IPv4, each server alone -----------------------
start_xpxe --mode full --pool6 "$POOL6" --pool 198.18.4.10-198.18.7.250 \
	--leases "$work/xpxe.leases"
d6_0=$(./xpxe status --json | jq -r '.interfaces[0].dhcp6.server.reply')
measure xpxe 6 "IPv6 SARR, returning" "${PXE6[@]}"
d6_1=$(./xpxe status --json | jq -r '.interfaces[0].dhcp6.server.reply')
measure xpxe 4 "IPv4 DORA, returning" "${PXE4[@]}"
stop_server
# The daemon writes its bindings file (atomically, synced) once per batch of messages, before
# their Replies: the same with the file on tmpfs shows what that write costs.
shm=$(mktemp -d /dev/shm/xpxe-bench-dhcp6.XXXXXX)
start_xpxe --mode full --pool6 "$POOL6" --leases "$shm/xpxe.leases"
measure xpxe 6 "IPv6 SARR, returning, bindings file on tmpfs" "${PXE6[@]}"
stop_server
rm -rf "$shm"

# dnsmasq once per family, each instance alone with its one range (one with both ranges
# answered IPv4 far slower in a trial run than dhcp.sh's does).
start_dnsmasq --dhcp-range="${POOL6%-*},${POOL6#*-},64,12h"
measure dnsmasq 6 "IPv6 SARR, returning" "${PXE6[@]}"
stop_server
rm -f "$work/dnsmasq.leases"
start_dnsmasq --no-ping --dhcp-range=198.18.4.10,198.18.7.250,255.255.252.0,12h \
	--dhcp-boot=undionly.kpxe
measure dnsmasq 4 "IPv4 DORA, returning" "${PXE4[@]}"
stop_server

# --- xpxe's proxy-like mode: Solicit -> Advertise in XDP (no address) ----------------------
start_xpxe --mode proxy
xdp_adv0=$(./xpxe status --json | jq -r '.interfaces[0].counters.dhcp6_advertise // 0')
for r in $RATES; do
	capture_start
	read -r sent recv < <(perf 6 "$r" -i "${PXE6[@]}")
	sent=${sent:-0} recv=${recv:-0}
	read -r v t < <(capture_check boot)
	if [[ -z $v || $v != "$t" || $t == 0 ]]; then
		say "xpxe proxy-like at $r/s: $v of $t Advertises valid"
		invalid=$((invalid + 1))
	fi
	ANSWERED["xpxe|6sa|$r"]=$((recv / PERIOD))
	row xpxe "IPv6 SA, proxy-like (PXE)" "$r" "$((recv / PERIOD))" \
		"$(awk -v s="$sent" -v r="$recv" 'BEGIN{ if (s) printf "%.1f%%", 100*(s-r)/s; else print "-" }')" \
		"none (boot options only); $v of $t captured Advertises valid"
done
xdp_adv1=$(./xpxe status --json | jq -r '.interfaces[0].counters.dhcp6_advertise // 0')
# IPv4's proxy DISCOVER -> OFFER beside it (xdp_pxe passes it, tc_tftp answers: dhcp.sh).
for r in $RATES; do
	read -r sent recv < <(perf 4 "$r" -i "${PXE4[@]}")
	sent=${sent:-0} recv=${recv:-0}
	ANSWERED["xpxe|4do|$r"]=$((recv / PERIOD))
	row xpxe "IPv4 DO, proxy (PXE)" "$r" "$((recv / PERIOD))" \
		"$(awk -v s="$sent" -v r="$recv" 'BEGIN{ if (s) printf "%.1f%%", 100*(s-r)/s; else print "-" }')" "none"
done
stop_server
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

ratio() { awk -v x="$1" -v d="$2" 'BEGIN { if (d > 0) printf "%.2f×", x / d; else print "-" }'; }
{
	echo
	for r in $RATES; do
		printf 'At %s/s: xpxe/dnsmasq IPv6 %s (bindings on tmpfs: %s), IPv4 %s; xpxe IPv6/IPv4 %s, dnsmasq IPv6/IPv4 %s.\n' "$r" \
			"$(ratio "${ANSWERED["xpxe|6|$r"]}" "${ANSWERED["dnsmasq|6|$r"]}")" \
			"$(ratio "${ANSWERED["xpxe-tmpfs|6|$r"]}" "${ANSWERED["dnsmasq|6|$r"]}")" \
			"$(ratio "${ANSWERED["xpxe|4|$r"]}" "${ANSWERED["dnsmasq|4|$r"]}")" \
			"$(ratio "${ANSWERED["xpxe|6|$r"]}" "${ANSWERED["xpxe|4|$r"]}")" \
			"$(ratio "${ANSWERED["dnsmasq|6|$r"]}" "${ANSWERED["dnsmasq|4|$r"]}")"
	done
	echo
	echo "xpxe's daemon sent $((d6_1 - d6_0)) DHCPv6 Replies in its IPv6 runs; xdp_pxe sent $((xdp_adv1 - xdp_adv0)) Advertises in the proxy-like runs (counter dhcp6_advertise). Load average after: $load_after. xpxe's runs that failed a check: $invalid; dnsmasq's (answers not all valid, or IPv4 clients not all bound after the warm-up): $short."
	echo
	echo '```'
	build/bench/xdp_ns 200000 "DHCPv6|full OFFER to iPXE DISCOVER (known|full ACK to OVMF REQUEST (known|proxy ACK to OVMF 4011 REQUEST"
	echo '```'
} | tee -a "$out"

{
	cat <<'TEXT'
## DHCPv6: xpxe vs dnsmasq, and against IPv4

Written by `scripts/bench/dhcp6.sh` (part of `make bench`), one lab, one run. perfdhcp (Debian's
kea-admin) in a client host of the lab: IPv6 from its link-local address to ff02::1:2, full
exchanges (Solicit, Advertise, Request, Reply) of one client (`-R 1`: xpxe binds one address
per MAC, the frame's source, and perfdhcp sends every DUID it makes up from the one MAC of its
interface, so more clients would only churn one binding); IPv4 as `scripts/bench/dhcp.sh` runs
it (a relay, DORA) with its list of 1000 MACs (`-M`). Each figure follows a warm-up (every client bound:
"returning"), and each rate's answers are checked: IPv6, the first 400 answers the client
received, captured and decoded (`scripts/bench/dhcp6_check.py`: every Advertise and Reply
gives an address in an IA_NA with a valid lifetime, no failure status; every proxy-like
Advertise a boot URL and no IA_NA); IPv4, the server holds one binding per MAC afterwards
(xpxe's status, dnsmasq's lease file). Runs that fail a check are counted under the table.
xpxe runs `--mode full --pool6 ... --pool ...` (its bindings file in /tmp, ext4, as a
/var/lib would be; once more on tmpfs); dnsmasq one instance per family, `--dhcp-range` of
the same IPv6 prefix (`...,64,12h`), and `--no-ping` with the IPv4 range. Every request carries a PXE client's vendor class (IPv6: option 16, enterprise 343,
`PXEClient:Arch:00007`, option 61 = 7; IPv4: options 60 and 93). "SA, proxy-like": xpxe
without a pool6 answers a PXE Solicit with the boot options in XDP (no address); dnsmasq has no
such mode.

TEXT
	cat "$out"
	echo
	cat <<'TEXT'
How to read it. xpxe's full-mode DHCPv6 is answered by its daemon today (xdp_pxe passes every
client message to port 547 up: "DHCPv6 full: pass ... to the daemon" above is XDP's share).
The daemon reads up to 64 messages, answers them in memory, writes its bindings file once for
the batch (a new file, synced, renamed: on disk before any of the batch's Replies leaves),
then sends them: on ext4 that write bounds the rate once batches fill (the ext4 rows against
the tmpfs ones; with one write per Reply, before this group commit, it was 170-210 exchanges
per second here); on tmpfs the daemon's loop is the bound; dnsmasq writes its lease file
without waiting for the disk. xpxe's IPv4
returning clients are answered in XDP, with no write (the binding was written once, at first
contact). The proxy-like Solicit → Advertise is XDP's (the ns per reply above, beside
IPv4's OFFER and ACK). perfdhcp is one process sharing a core with the veth softirq and the
server: where a server answers nearly all, the figure is perfdhcp's ceiling.

Where dnsmasq's IPv4 row shows fewer bindings than MACs, its warm-up did not bind them all
(it binds new clients far slower than it answers known ones, the more so on a busy machine)
and the row is partly from cold: the IPv4 ratios then flatter xpxe; `scripts/bench/dhcp.sh`'s
section has the calmer IPv4 comparison. The script fails when one of xpxe's checks does.

Command: `make bench` (or `bash scripts/bench/dhcp6.sh`; `PERIOD=`, `RATES=`, `CLIENTS=`,
`QUIET_WAIT=` to change it).
TEXT
} >"$work/section.md"
bench_section "DHCPv6: xpxe vs dnsmasq" "$work/section.md"
say "wrote its section of BENCHMARKS.md"
[ "$invalid" = 0 ]
