#!/usr/bin/env bash
# The cost of a VLAN tag (README "VLAN trunks", issue 22): the same DHCP replies and TFTP
# DATA blocks untagged, with one 802.1Q tag of a configured VLAN (10) and with an 802.1ad outer
# tag over an 802.1Q one (VLAN 100.20), in the programs themselves, timed by the kernel
# (bpf_prog_test_run_opts, one run per call):
#   - build/bench/xdp_ns: each untagged reply beside its two tagged ones (the maps filled as
#     the daemon fills them for --vlan 10=198.18.10.1/24 --vlan 100.20=198.18.20.1/24, the MAC
#     reserved in its network's subnet);
#   - build/bench/tftp_prog_ns ... tags: every block of an asset from an ACK on each network,
#     xdp_pxe (XDP_TX) and tc_tftp + tc_vlan_out (the fallback and the trunk's egress).
# Then through the lab (LOAD_RUNS rounds, default 5; 0: none): build/bench/dhcp_load -P in a
# client host, full DORA as fast as it goes for 120 machines reserved on the untagged network
# and 120 on VLAN 10 (its requests tagged, -V 10, as an access port tags them), the two in turn
# against one xpxe serving both, PERIOD (5) s each: exchanges per second, and xdp_pxe's ns
# per frame under that traffic (kernel.bpf_stats_enabled, put back as it was after).
# Taken in turn: RUNS rounds (default 9), each running both binaries, the cases in alternate
# order from one round to the next; a figure is the median of the rounds' medians. Needs no
# lab (the programs run on test frames), so it runs in seconds. Writes its section of
# BENCHMARKS.md. N=runs per DHCP case and round (20000); PASSES, SIZE: the TFTP asset's
# passes and size per round (10, 2 MiB: it stays in cache, so the blocks' own cost shows).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
RUNS=${RUNS:-9}
N=${N:-20000}
PASSES=${PASSES:-10}
SIZE=${SIZE:-$((2 << 20))}
LOAD_RUNS=${LOAD_RUNS:-5}
PERIOD=${PERIOD:-5}
XPXE=${XPXE_BIN:-$root/xpxe}
LOAD=$root/build/bench/dhcp_load
XDPNS=$root/build/bench/xdp_ns
PROGNS=$root/build/bench/tftp_prog_ns
CASES="full OFFER to iPXE DISCOVER|full ACK to OVMF REQUEST|proxy ACK to OVMF 4011 REQUEST|VLAN 11"
work=$(mktemp -d /tmp/xpxe-bench-vlan.XXXXXX)
stats_was=$(sysctl -n kernel.bpf_stats_enabled)
lab_used=
cleanup() {
	if [ -n "$lab_used" ]; then
		bench_stop_servers || true
		sysctl -qw kernel.bpf_stats_enabled="$stats_was"
		"$root/scripts/lab.sh" down >/dev/null 2>&1 || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT

export LAB=${XPXE_LAB:-vlanbn}
eval "$("$root/scripts/lab.sh" env)"
. "$root/scripts/bench/lib.sh"

for b in "$XDPNS" "$PROGNS" $([ "$LOAD_RUNS" = 0 ] || echo "$LOAD $XPXE"); do
	[ -x "$b" ] || {
		echo "$b is missing: make $(realpath --relative-to="$root" "$b")" >&2
		exit 1
	}
done
cd "$root" # xdp_ns reads tests/fixtures/
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
load_max=${load_before%% *}
for r in $(seq "$RUNS"); do
	rev=$((r % 2 == 0 ? 1 : 0))
	say "round $r/$RUNS (load $(cut -d' ' -f1-3 /proc/loadavg))"
	XDP_NS_REVERSE=$rev "$XDPNS" "$N" "$CASES" >"$work/xdp.$r"
	"$PROGNS" "$PASSES" "$SIZE" tags >"$work/tftp.$r"
	load_max=$(awk -v m="$load_max" '{ print ($1 > m ? $1 : m) }' /proc/loadavg)
done

# xdp_pxe's run time and runs so far: "NS CNT".
prog_stats() {
	local id
	id=$(in_srv ip -j link show dev "$IF_SRV" | jq -r '.[0].xdp.prog.id // empty')
	bpftool -j prog show id "$id" | jq -r '"\(.run_time_ns // 0) \(.run_cnt // 0)"'
}
: >"$work/load.txt"
if [ "$LOAD_RUNS" != 0 ]; then
	lab_used=1
	export XPXE_SOCKET=$work/xpxe.sock
	RELAY=198.18.64.1
	bench_lab_up >/dev/null
	"$root/scripts/lab.sh" host 2 >/dev/null
	# On veth a tag the stack put on travels beside the frame (tx-vlan-offload), where XDP
	# on the peer does not see it: in the frame, as on a wire (tests/integration/test_vlan.sh).
	in_cli ethtool -K "$IF_CLI" txvlan off >/dev/null
	in_srv ethtool -K "$IF_SRV" txvlan off >/dev/null
	in_srv ip route replace 198.18.64.0/18 dev "$IF_SRV"
	in_srv ip neigh replace "$RELAY" lladdr "$(ip netns exec "$LAB-h2" cat /sys/class/net/eth0/address)" \
		dev "$IF_SRV" nud permanent
	srv_mac=$(in_srv cat "/sys/class/net/$IF_SRV/address")
	# 120 machines on each network (the daemon takes 256 reservations), as dhcp_load names them.
	reserve=()
	for i in $(seq 0 119); do
		reserve+=(--reserve "$(printf '52:54:05:00:00:%02x' "$i")=198.18.0.$((i + 20))"
			--reserve "$(printf '52:54:06:00:00:%02x' "$i")=198.18.10.$((i + 20))")
	done
	nsenter --net="/run/netns/$NS_SRV" "$XPXE" serve -i "$IF_SRV" --state-dir "$work/state" \
		--mode full --dhcp-mac-rate 0 --dhcp-global-rate 0 --vlan 10=198.18.10.1/24 \
		"${reserve[@]}" >"$work/xpxe.log" 2>&1 &
	for _ in $(seq 50); do "$XPXE" status >/dev/null 2>&1 && break; sleep 0.1; done
	"$XPXE" status >/dev/null 2>&1 || {
		say "xpxe did not start: $(tail -3 "$work/xpxe.log")"
		exit 1
	}
	sysctl -qw kernel.bpf_stats_enabled=1
	for r in $(seq "$LOAD_RUNS"); do
		for side in untagged q10; do
			if [ "$side" = untagged ]; then
				args=(-M 52:54:05:00:00:00 -s "$SRV_IP")
			else
				args=(-V 10 -M 52:54:06:00:00:00 -s 198.18.10.1)
			fi
			read -r ns0 cnt0 < <(prog_stats)
			line=$(ip netns exec "$LAB-h2" "$LOAD" -P -i eth0 -d "$srv_mac" -g "$RELAY" \
				-m full -n 120 -t "$PERIOD" -c bios,uefi64,ipxe,http64 "${args[@]}")
			read -r ns1 cnt1 < <(prog_stats)
			say "lab round $r, $side: $line"
			echo "$side $r $line xdp_ns_total=$((ns1 - ns0)) xdp_runs=$((cnt1 - cnt0))" \
				>>"$work/load.txt"
		done
		load_max=$(awk -v m="$load_max" '{ print ($1 > m ? $1 : m) }' /proc/loadavg)
	done
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# The tables and the verdict from the rounds' medians. The tag's cost is taken per round
# (tagged minus untagged in the same round, so the load of the moment falls on both); it is
# "within noise" when it is no larger than the untagged figure's own spread between rounds.
python3 - "$work" "$RUNS" "$PERIOD" >"$work/tables.md" <<'EOF'
import re, statistics as st, sys
work, runs, period = sys.argv[1], int(sys.argv[2]), sys.argv[3]
line = re.compile(r"^(.*?)\s+(limits off|limits on)\s+\d+\s+(\d+)\s+(\d+)$")
dhcp = {}  # (name, limits) -> [median per round]
tftp = {}  # key -> [value per round]
for r in range(1, runs + 1):
    for l in open(f"{work}/xdp.{r}"):
        m = line.match(l.rstrip())
        if m:
            dhcp.setdefault((m[1], m[2]), []).append(int(m[4]))
    for l in open(f"{work}/tftp.{r}"):
        if "=" in l and " " not in l.strip():
            k, v = l.strip().split("=")
            tftp.setdefault(k, []).append(float(v))

def med(xs): return st.median(xs)
def spread(xs): return f"{min(xs):.0f}–{max(xs):.0f}"
def cell(xs): return f"{med(xs):.0f} ({spread(xs)})"
def cost(tag, base):
    d = [t - b for t, b in zip(tag, base)]
    return d, f"{med(d):+.0f} ({min(d):+.0f} to {max(d):+.0f})"
verdicts = []
def judge(what, d, base):
    # The noise: the interquartile range of the untagged figure over the rounds (one round
    # preempted by other work moves min-max, not this); and how many rounds the tag lost.
    q = st.quantiles(base, n=4) if len(base) > 1 else [base[0]] * 3
    noise = q[2] - q[0]
    slower = sum(1 for x in d if x > 0)
    pct = 100 * med(d) / med(base)
    # A cost the tag pays in (nearly) every round is the tag's, whatever the rounds' spread.
    within = slower < 0.8 * len(d) or med(d) <= 0
    verdicts.append(f"{what}: {med(d):+.0f} ns ({pct:+.0f} %), tagged slower in {slower} of {len(d)} rounds; "
                    f"the untagged figure's interquartile range over the rounds {noise:.0f} ns: "
                    + ("within noise" if within else "**not within noise**"))

print("| reply (xdp_pxe, limits off / on) | untagged | 802.1Q VLAN 10 | 802.1ad+802.1Q VLAN 100.20 | the tag's cost: 802.1Q | 802.1ad+802.1Q |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for base in ("full OFFER to iPXE DISCOVER (known MAC)", "full ACK to OVMF REQUEST (known MAC)",
             "proxy ACK to OVMF 4011 REQUEST"):
    for lim in ("limits off", "limits on"):
        u = dhcp[(base, lim)]
        q = dhcp[("802.1Q 10: " + base, lim)]
        a = dhcp[("802.1ad 100.20: " + base, lim)]
        dq, cq = cost(q, u)
        da, ca = cost(a, u)
        print(f"| {base}, {lim} | {cell(u)} | {cell(q)} | {cell(a)} | {cq} | {ca} |")
        if lim == "limits off":
            judge(f"{base}, 802.1Q", dq, u)
            judge(f"{base}, 802.1ad+802.1Q", da, u)
p = dhcp[("VLAN 11 (not served): pass", "limits off")]
print(f"| a frame of VLAN 11, not served: passed untouched | | {cell(p)} | | | |")
print()
print("| TFTP DATA block (one run per ACK) | untagged | 802.1Q VLAN 10 | 802.1ad+802.1Q VLAN 100.20 | the tag's cost: 802.1Q | 802.1ad+802.1Q |")
print("| --- | ---: | ---: | ---: | ---: | ---: |")
for key, what in (("xdp", "xdp_pxe: ACK grown into DATA, tags back on, XDP_TX"),
                  ("tc", "tc_tftp: ACK grown into DATA behind its tags, redirect"),
                  ("tc_vlan_out", "tc_vlan_out on the DATA (egress: tagged already, left)"),
                  ("tc_both", "the fallback's two runs, per block")):
    u = tftp[f"{key}_untagged_median_ns"]
    q = tftp[f"{key}_q10_median_ns"]
    a = tftp[f"{key}_qinq100_20_median_ns"]
    dq, cq = cost(q, u)
    da, ca = cost(a, u)
    print(f"| {what} | {cell(u)} | {cell(q)} | {cell(a)} | {cq} | {ca} |")
    if key in ("xdp", "tc_both"):
        judge(f"TFTP block, {key}, 802.1Q", dq, u)
        judge(f"TFTP block, {key}, 802.1ad+802.1Q", da, u)
print()
print("Per CPU, the programs alone (10^9 / the medians above): "
      + ", ".join(f"{name} {1e9 / med(dhcp[(pfx + 'full OFFER to iPXE DISCOVER (known MAC)', 'limits off')]) / 1e6:.2f} M"
                  for name, pfx in (("untagged", ""), ("802.1Q", "802.1Q 10: "), ("802.1ad+802.1Q", "802.1ad 100.20: ")))
      + " full OFFERs/s; "
      + ", ".join(f"{name} {1e9 / med(tftp[f'xdp_{k}_median_ns']) / 1e6:.2f} M"
                  for name, k in (("untagged", "untagged"), ("802.1Q", "q10"), ("802.1ad+802.1Q", "qinq100_20")))
      + " DATA blocks/s on XDP.")
lab = {}
for l in open(f"{work}/load.txt"):
    side, r, *kv = l.split()
    d = dict(x.split("=", 1) for x in kv if "=" in x)
    lab.setdefault(side, []).append(d)
if lab:
    print()
    print(f"Through the lab: full DORA, 120 reserved machines a side, {period} s a round, "
          f"{len(lab['untagged'])} rounds taken in turn (median, min–max over the rounds):")
    print()
    print("| side | exchanges answered/s | loss | malformed / wrong | p50 / p99 µs | xdp_pxe ns per frame under traffic |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    per = {}
    for side, what in (("untagged", "untagged"), ("q10", "802.1Q VLAN 10 (tagged by the generator, -V 10)")):
        rows = lab[side]
        ans = [float(d["answered_per_s"]) for d in rows]
        per[side] = [int(d["xdp_ns_total"]) / max(1, int(d["xdp_runs"])) for d in rows]
        bad = sum(int(d["malformed"]) for d in rows), sum(int(d["wrong"]) for d in rows)
        print(f"| {what} | {med(ans):.0f} ({min(ans):.0f}–{max(ans):.0f}) | "
              f"{max(float(d['loss'].rstrip('%')) for d in rows):.2f} % at most | {bad[0]} / {bad[1]} | "
              f"{med([float(d['p50_us']) for d in rows]):.0f} / {med([float(d['p99_us']) for d in rows]):.0f} | "
              f"{med(per[side]):.0f} ({min(per[side]):.0f}–{max(per[side]):.0f}) |")
    d = [t - u for t, u in zip(per["q10"], per["untagged"])]
    a = [float(t["answered_per_s"]) / float(u["answered_per_s"]) for t, u in zip(lab["q10"], lab["untagged"])]
    print()
    print(f"Tagged / untagged exchanges per second, round by round: median {med(a):.2f} "
          f"({min(a):.2f}–{max(a):.2f}); xdp_pxe per frame, tagged minus untagged: {med(d):+.0f} ns "
          f"({min(d):+.0f} to {max(d):+.0f}). Every frame xdp_pxe ran on counts (the requests, "
          f"and the client host's ARP and IPv6 chatter).")
    # Under traffic, the same rule as the programs' own figures below: the tag's cost is
    # out of noise only if tagged lost (fewer exchanges/s, more ns per frame) in 80 % of rounds.
    n = len(a)
    fewer = sum(1 for x in a if x < 1)
    dearer = sum(1 for x in d if x > 0)
    lab_within = (fewer < 0.8 * n or med(a) >= 1) and (dearer < 0.8 * n or med(d) <= 0)
    lab_verdict = (f"tagged answered fewer exchanges/s in {fewer} of {n} rounds and cost xdp_pxe "
                   f"more ns per frame in {dearer} of {n}")
print()
print("Verdict of this run, limits off (the tag's cost: the median of the per-round differences; "
      "within noise unless tagged was slower in at least 80 % of the rounds; the untagged figure's "
      "interquartile range over the rounds beside it, for scale):")
print()
for v in verdicts:
    print(f"- {v}")
n_not = sum("not within noise" in v for v in verdicts)
print()
print(f"**Is the tag's cost within noise in the programs alone? {'No' if n_not else 'Yes'}**: {n_not} of {len(verdicts)} "
      "comparisons above show a cost the tag paid in (nearly) every round.")
if lab:
    print()
    print(f"**Is it within noise under traffic, through the lab? {'Yes' if lab_within else 'No'}**: "
          f"{lab_verdict}.")
EOF

kernel=$(uname -r)
cpus=$(nproc)
out=$work/section.md
cat >"$out" <<EOF
## VLAN tags: tagged against untagged DHCP replies and TFTP blocks

Written by \`scripts/bench/vlan.sh\` (part of \`make bench\`) on $(date -u +%F) — $cpus CPUs,
Linux $kernel. The same frames untagged, with one 802.1Q tag of a configured VLAN (10) and with
an 802.1ad outer tag over an 802.1Q one (VLAN 100.20), run through the programs by
\`bpf_prog_test_run_opts\` (the kernel's timing, one run per call: ~45 ns of each figure is
the timing's own share). The maps are filled as the daemon fills them for \`--vlan
10=198.18.10.1/24 --vlan 100.20=198.18.20.1/24\` (\`xpxe_vlan_load_maps\`: each VLAN's
\`dhcp_config\` entry and its own templates); the machine's MAC is reserved in its network's
subnet and a REQUEST's options 50 and 54 name that network's addresses. The first reply of
each case is checked: the request's tags on it, option 54 the network's server, not a NAK.

$RUNS rounds taken in turn, each running \`build/bench/xdp_ns $N "…"\` (every case $N runs,
each untagged case beside its tagged ones, the order reversed every other round) and
\`build/bench/tftp_prog_ns $PASSES $SIZE tags\` (every block of a $((SIZE >> 20)) MiB asset,
$PASSES passes, the three networks in turn pass by pass). Each figure: the median of the
rounds' medians (min–max of the rounds' medians), ns. The tag's cost is taken round by round
(tagged minus untagged, same round): its median (min to max).

Load average before: $load_before; after: $load_after; highest between rounds: $load_max (the
machine is shared: other work runs beside these figures).

EOF
cat "$work/tables.md" >>"$out"
cat >>"$out" <<'EOF'

Where the tag's time goes (bpf/vlan.h, bpf/xpxe.bpf.c; read from the code beside the figures,
not from a profile):

- xdp_pxe, a DHCP reply or a TFTP block on a VLAN: the tags read and the VLAN looked up
  (one 802.1Q tag: an index into the array `vlan_vids`, which the verifier inlines; an
  802.1ad outer tag: two, into `vlan_qinq` by outer VID and its array by VID, since issue
  22's second cost round, where it was the hash `vlans`); the tags kept as words and the 12
  bytes of MACs moved over them inside the frame (three words), the head left where it is:
  the untagged frame is parsed 4 or 8 bytes after it (issue 22's third cost round; before
  it a `bpf_xdp_adjust_head` moved the head past the tags: a helper call, 3-5 ns here);
  the reply (a DHCP reply, a TFTP block, an RA) is built after that same room, by the
  builder's own one resize (`bpf_xdp_adjust_head` or `_tail`), the one an untagged reply
  makes too, so that after it only the MACs move back and the tags go in as one or two
  words (issue 22's cost round; before it a second `bpf_xdp_adjust_head` moved the head
  back and the tags were written field by field); the `vlan_rx` tally. A
  DHCP reply also takes its template from its VLAN's own array in `vlan_templates` (an array
  of arrays: two inlined lookups; one array per VLAN served, so unused VLANs cost no memory,
  but a served one's takes every slot, 525 KiB, where the hash held only the filled ones),
  where the untagged network's come from the array `dhcp_templates`; before issue 22's second
  cost round, a hash by (net, index): most of what a reply paid beyond a TFTP block. The
  untagged columns already pay `vlan_frames`' lookup and clearing, done for every frame. Before issue 22's
  cost round the single tag's VLAN came from the hash too, the two lookups were compiled into
  one call of two maps (which the verifier cannot inline: a real call through the map's ops),
  and the MACs went to the stack and back byte by byte.
- The tc fallback: `tc_tftp` reads the tags and the destination address in the packet (a
  frame whose linear part is too short is pulled first; no `bpf_skb_load_bytes`), looks the
  VLAN up (`vlan_vids`, or `vlan_qinq`'s two arrays), moves the MACs over the tags in the
  frame (three words, as xdp_pxe does) and builds the DATA behind them; the MACs then come
  back and the tags go in again as words, priority bits and all: no `bpf_skb_vlan_pop` or
  `_push` and no `vlan_prios` on a block (issue 22's fifth cost round; before it a block
  paid two to four of those helper calls, three `bpf_skb_load_bytes` and the note of its
  priority bits, ~14-16 ns of it). A tag the stack moved into the skb's metadata before tc
  (the outer, or only, one on a live trunk) stays there, and the DATA leaves with it. Only
  what goes up to the stack (an RRQ, a window's ACK for the daemon's socket, HTTP, ARP) has
  its tags popped and its priority bits noted for the stack's replies to that peer
  (`vlan_tc_up`: `vlan_prios`, a lookup, a write only when they changed). `tc_vlan_out` on
  the trunk's egress leaves the tagged DATA alone (its tagged columns: it stops on the
  ethertype); its untagged column is the lookup of the source address in `vlan_by_addr` that
  every untagged frame leaving a trunk with VLANs pays (its ethertype and address read in the
  packet, not by `bpf_skb_load_bytes`, since issue 22's cost round: 66 → 54 ns), and what
  the kernel itself sends from a VLAN's address pays that, the `vlan_prios` lookup and the
  push. In a test run every tag arrives in the frame, so all of them are moved out and back;
  on a live trunk the outer (or only) one is in the skb's metadata and left there: the
  tagged tc figures are if anything above the live cost.
- Not in these figures: what the device does with a tag left in the skb's metadata (veth
  hands it on as it is; a NIC inserts it in hardware, or the kernel in software).
- Through the lab, the exchanges per second are the generator's and the veth pair's to give
  (a DORA takes the machine tens of µs, of which xdp_pxe's two runs are about 1), so they move
  with the machine's other work from round to round more than with the tag; the ns per frame
  under traffic (bpf_stats) show the tag's cost as the test runs do.

Issue 22's cost round, before/after (2026-12-07, the bench binaries of both builds run in
turn, round by round, on a machine at load 12-26 on 2 CPUs: the absolute figures move with
it, the per-round differences less). The tag's cost, median of the per-round differences:
`xdp_ns 20000` (5 rounds): full OFFER, 802.1Q +19 → +19 ns, 802.1ad+802.1Q +27 → +26; full
ACK +21 → +18, +29 → +26. `taskset -c 1 tftp_prog_ns 10 2097152 tags` (13 rounds): the
XDP block +6 → +4 ns (802.1Q), +6 → +10 (802.1ad+802.1Q), both within this machine's noise
(the untagged block's medians spread 170-270 ns over rounds); tc_tftp +65 → +54 ns and
+99 → +86; `tc_vlan_out` 66 → 54 ns untagged, 52 → 47 tagged. The XDP change (one resize
for the whole size change, the tags as words) costs xdp_pxe's verification 479k → 487k
instructions; tc_tftp stays at 195k. What a DHCP reply on a VLAN pays beyond a TFTP block
was then most likely `vlan_templates`' hash lookup (above; read from the code: `perf` on the
JITed programs here drowned in the verifier's and the test runs' own samples), not the
head's moves, whose removal saved 0 to 3 ns; the second round, below, bears it out.

Issue 22's second cost round (2026-12-07, 7 rounds in turn of both builds' `xdp_ns 20000`
and `taskset -c 1 tftp_prog_ns 10 2097152 tags`, load 2.5-10 on 2 CPUs): `vlan_templates` an
array of per-VLAN arrays and the double-tagged VLANs in `vlan_qinq` (arrays), where both were
hashes. The tag's cost, limits off: full OFFER 802.1Q +18 → +10 ns, 802.1ad+802.1Q +25 → +12;
full ACK +16 → +11, +25 → +12; proxy ACK +19 → +11, +27 → +12; tc_tftp+tc_vlan_out's
802.1ad+802.1Q block +77 → +70 (802.1Q unchanged, +44 → +42: its pops and pushes). What a
reply on a VLAN pays now is about what a TFTP block does (the tags off and back on, ~10 ns).
xdp_pxe's verification 476k → 480k instructions; tc_tftp 191k → 190k.

Issue 22's third cost round (2026-12-07, 6 rounds in turn of both builds' `xdp_ns 20000` and
`tftp_prog_ns 3 2097152 tags`, before and after in alternate order round by round, load
16-18 on 2 CPUs): the tags taken out with no head moved (the untagged frame parsed 4 or 8
bytes on, every reply built after that room), so a tagged reply makes one size change, as an
untagged one does. The tag's cost, limits off, median of the per-round differences: full
OFFER 802.1Q +14 → +10 ns, 802.1ad+802.1Q +16 → +12; full ACK +12 → +10, +15 → +10; proxy
ACK +13 → +12, +16 → +12. The XDP block's moved in this load's noise (the untagged block's
medians spread over 60 ns); tc_tftp, unchanged, moved by as much (+82 → +70 ns 802.1Q). The
helper call saved was 3-5 ns here, not the 10-20 expected: what a tagged reply still pays
(~8-12 ns) is the sum of small steps (the tag read and `vlan_vids`' lookup, the tags kept in
`vlan_frames`, the MACs moved out and back, `vlan_rx`, the template's two lookups), none
of them a helper call. xdp_pxe's verification 535k → 530k instructions here (6.18);
`make check-kernels` accepts every object on 6.1, 6.12 and 6.1-arm64.

Issue 22's fourth cost round (2026-12-07, 8 rounds in turn of both builds' `xdp_ns 20000`
and `tftp_prog_ns 3 2097152 tags`, in alternate order round by round, load 6-7 on 2 CPUs),
with a profile by ablation first (builds of xdp_pxe that each skip one step, the frames'
bytes aside, 4 rounds in turn each; `perf` on the JITed program still drowned in the
verifier's samples): of the ~10 ns an 802.1Q reply paid, the tag's checks, `vlan_vids`'
lookup and the bookkeeping of `vlan_frames` took ~4-5 ns, the restore ~2-3, the template's
second lookup ~1.5-2, the MACs' two moves ~1.5, `vlan_rx` ~1: no one step, ~60 inlined
instructions in all. Writing a reply's MACs and tags in place from the builder instead of
the restore cost 2-3 ns more (a lookup of `vlan_frames` and the MACs byte by byte), and
was left. `vlan_xdp_strip` now takes one tag straight through with its constants (the tag
read once as a word, no tag count stored then read back, the PCP bits tested on the word in
hand) and `vlan_xdp_restore` has a branch per tag count. The tag's cost, limits off: full
OFFER 802.1Q +10 → +6 ns, 802.1ad+802.1Q +12 → +10; full ACK +12 → +6, +13 → +10; proxy
ACK +11 → +6, +12 → +10 (tagged still slower in 7-8 of 8 rounds: not within noise); the
XDP block +8 → +6, +10 → +8 (within noise); tc_tftp+tc_vlan_out unchanged (+60 → +58,
+92 → +87). xdp_pxe's verification 589k → 406k instructions here (6.18); tc_tftp 195k;
`make check-kernels` accepts every object on 6.1, 6.12 and 6.1-arm64 (717 passed, 0 failed).

Issue 22's fifth cost round (2026-12-08, 8 rounds in turn of both builds' `xdp_ns 20000` and
`taskset -c 1 tftp_prog_ns 3 2097152 tags`, in alternate order round by round, beside a third
build, the fourth round's without the note in `vlan_prios`; load 9-13 on 2 CPUs): tc_tftp
builds a VLAN's DATA behind the ACK's tags (above). The tag's cost on tc_tftp per block,
median of the per-round differences (min to max): 802.1Q +72 (+68 to +87) → +14 (+10 to +36)
ns, 802.1ad+802.1Q +100 (+93 to +108) → +20 (+11 to +28); tc_tftp+tc_vlan_out +63 → +5
(+0 to +27), +90 → +11 (+1 to +19). The note in `vlan_prios` alone was 14 ns of the 802.1Q
block's 72 and 16 of the double-tagged one's 100 (without it: +58, +84); the rest, the pops,
the pushes and the reads by helper. tc_tftp alone is still slower tagged in 8 of 8 rounds:
the classification (a call), the lookups and the MACs moved out and back, about what the XDP
block pays (+12 to +16 in these rounds). xdp_pxe is unchanged: its DHCP replies cost the tag
+6 to +9 ns (802.1Q) and +10 to +12 (802.1ad+802.1Q), limits off and on, tagged slower in
7-8 of 8 rounds, not within noise; the candidates left there (one lookup for a VLAN's
template, `vlan_rx` folded into a counter the frame already touches, the MACs read where
they arrived) are not tried yet. tc_tftp's verification 209k → 204k instructions here
(6.18; the classification and `vlan_tc_up` functions of their own, verified once). On a
live trunk (veth: `test_vlan.sh`'s download on VLAN 10, all 205 blocks by tc_tftp, and
`test_vlan_window.sh`'s lockstep one on 100.20, 2044 blocks) the tags came off 2 frames, the
ARP and the RRQ, where before they came off every ACK too (+2046 `vlan_tc_popped`).
`make check-kernels` accepts every object on 6.1, 6.12 and 6.1-arm64 (719 passed, 0 failed).

Command: `make bench` (or `bash scripts/bench/vlan.sh`; `RUNS=`, `N=`, `PASSES=`, `SIZE=`;
`LOAD_RUNS=` (0: no lab), `PERIOD=`, `XPXE_LAB=`).
EOF
bench_section "VLAN tags" "$out"
say "wrote the VLAN tags section of BENCHMARKS.md"
