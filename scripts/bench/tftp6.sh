#!/usr/bin/env bash
# `make bench` (TFTP over IPv6): one client, one 32 MiB file, over IPv6 and IPv4 taken in turn
# in the same lab, from xpxe and from tftpd-hpa (the peer, one instance per family): tftp-hpa
# lockstep (512-byte blocks: xpxe's XDP or tc path) and atftp windowsize 16 (xpxe's AF_XDP path,
# over both families). Seconds per transfer, the median and range of RUNS runs (default 3);
# every download checked byte for byte (a failed one is counted and fails the script).
# Results: a Markdown table on stdout and in build/bench/tftp6.md, and its section of
# BENCHMARKS.md (scripts/bench/section.sh). XPXE_LAB=NAME: another lab name; QUIET_WAIT=0: no
# waiting for a quiet machine.
# Usage: bash scripts/bench/tftp6.sh [TREE] (TREE: the built checkout to measure, by default
# this one; a copy of another commit built elsewhere gives the A/B).
ROOT_ARG=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LAB=t6bench
source "$ROOT_ARG/tests/integration/lib.sh"
. "$ROOT_ARG/scripts/bench/lib.sh" # bench_wait_quiet, bench_section (its in_srv/in_cli: the same)
RUNS=${RUNS:-3}
SRV6=fd00:198:18:6::1
CLI6=fd00:198:18:6::2
out=$ROOT_ARG/build/bench/tftp6.md
bench_wait_quiet
lab up || exit 1
in_srv ip -6 addr add "$SRV6/64" dev "$IF_SRV" nodad
in_cli ip -6 addr add "$CLI6/64" dev "$IF_BR" nodad
v6_ready() { in_cli ping -6 -c1 -W1 "$SRV6" >/dev/null 2>&1; }
wait_until v6_ready || { echo "no IPv6"; exit 1; }
chmod 755 "$WORK" # tftpd-hpa reads the file as its own user
mkdir -m 755 "$WORK/root"
head -c $((32 * 1024 * 1024)) /dev/urandom >"$WORK/root/big"
chmod 644 "$WORK/root/big"

declare -A T       # [SERVER|LABEL] -> the seconds of each run, space-separated
failed=0
run() { # SERVER LABEL COMMAND...
	local server=$1 label=$2 t0 t1
	shift 2
	rm -f "$WORK/out"
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s.%N)
	if [ -f "$WORK/out" ] && [ "$(sha "$WORK/out")" = "$(sha "$WORK/root/big")" ]; then
		T["$server|$label"]+="$(echo "$t1 - $t0" | bc) "
		printf '%-10s %-28s %.2f s\n' "$server" "$label" "$(echo "$t1 - $t0" | bc)" >&2
	else
		failed=$((failed + 1))
		printf '%-10s %-28s FAILED (sha differs)\n' "$server" "$label" >&2
	fi
}
LABELS=("tftp-hpa lockstep IPv6" "tftp-hpa lockstep IPv4" "atftp windowsize 16 IPv6" "atftp windowsize 16 IPv4")
round() { # SERVER: one run of each client, IPv6 and IPv4 in turn
	run "$1" "${LABELS[0]}" in_cli tftp -6 "$SRV6" -m binary -c get big "$WORK/out"
	run "$1" "${LABELS[1]}" in_cli tftp "$SRV_IP" -m binary -c get big "$WORK/out"
	run "$1" "${LABELS[2]}" in_cli atftp --option "windowsize 16" --get -r big -l "$WORK/out" "$SRV6"
	run "$1" "${LABELS[3]}" in_cli atftp --option "windowsize 16" --get -r big -l "$WORK/out" "$SRV_IP"
}
udp6_bound() { in_srv ss -Hlun6 "sport = :69" | grep -q .; }
udp4_bound() { in_srv ss -Hlun4 "sport = :69" | grep -q .; }

# --- xpxe -------------------------------------------------------------------------------------
start_daemon -i "$IF_SRV" --asset "big=$WORK/root/big" || { tail "$WORK/daemon.log"; exit 1; }
wait_until udp6_bound || { echo "xpxe: no IPv6 TFTP socket"; exit 1; }
c0_6x=$(counter tftp6_data_xdp) c0_6tc=$(counter tftp6_data_tc) c0_6=$(counter tftp6_data) c0_4tc=$(counter tftp_data_tc)
c0_6xsk=$(counter tftp6_data_xsk)
for _ in $(seq "$RUNS"); do round xpxe; done
c1_6x=$(counter tftp6_data_xdp) c1_6tc=$(counter tftp6_data_tc) c1_6=$(counter tftp6_data) c1_4tc=$(counter tftp_data_tc)
c1_6xsk=$(counter tftp6_data_xsk)
kill "$DAEMON_PID"
wait_daemon
wait_until bash -c "! ip netns exec $NS_SRV ss -Hlun 'sport = :69' | grep -q ." ||
	{ echo "port 69 still taken after xpxe"; exit 1; }

# --- tftpd-hpa: one instance per family ---------------------------------------------------------
in_srv in.tftpd --listen --foreground --address "[$SRV6]:69" -6 --secure "$WORK/root" &
peer6=$!
in_srv in.tftpd --listen --foreground --address "$SRV_IP:69" -4 --secure "$WORK/root" &
peer4=$!
at_exit "kill $peer6 $peer4"
if ! wait_until udp6_bound || ! wait_until udp4_bound; then
	echo "in.tftpd did not start"
	exit 1
fi
for _ in $(seq "$RUNS"); do round tftpd; done
kill "$peer6" "$peer4"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

# median and range of the seconds given
stat_of() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END {
	if (!NR) { print "-"; exit }
	m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
	printf "%.2f (%.2f-%.2f)", m, v[1], v[NR] }'; }
med() { tr ' ' '\n' | grep . | sort -n | awk '{ v[NR] = $1 } END {
	if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0 && b > 0) printf "%.2f×", a / b; else print "-" }'; }
mkdir -p "$(dirname "$out")"
{
	echo "One 32 MiB file, $(date -u +%Y-%m-%d), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(uname -r), $RUNS runs; load average before: $load_before, after: $load_after"
	echo
	echo "| client | xpxe: s, median (min-max) | tftpd-hpa: s, median (min-max) | tftpd-hpa / xpxe |"
	echo "| --- | --- | --- | --- |"
	for l in "${LABELS[@]}"; do
		printf '| %s | %s | %s | %s |\n' "$l" "$(stat_of <<<"${T["xpxe|$l"]:-}")" \
			"$(stat_of <<<"${T["tftpd|$l"]:-}")" \
			"$(ratio "$(med <<<"${T["tftpd|$l"]:-}")" "$(med <<<"${T["xpxe|$l"]:-}")")"
	done
	echo
	for s in xpxe tftpd; do
		printf '%s IPv6/IPv4 (median seconds): lockstep %s, windowsize 16 %s.\n' \
			"$([ $s = xpxe ] && echo xpxe || echo tftpd-hpa)" \
			"$(ratio "$(med <<<"${T["$s|${LABELS[0]}"]:-}")" "$(med <<<"${T["$s|${LABELS[1]}"]:-}")")" \
			"$(ratio "$(med <<<"${T["$s|${LABELS[2]}"]:-}")" "$(med <<<"${T["$s|${LABELS[3]}"]:-}")")"
	done
	echo
	echo "xpxe's blocks in its runs: IPv6 from XDP $((c1_6x - c0_6x)) (\`tftp6_data_xdp\`), IPv6 from tc $((c1_6tc - c0_6tc)) (\`tftp6_data_tc\`), IPv6 through AF_XDP $((c1_6xsk - c0_6xsk)) (\`tftp6_data_xsk\`), IPv6 from the daemon's sockets $((c1_6 - c0_6)) (\`tftp6_data\`), IPv4 from tc $((c1_4tc - c0_4tc)) (\`tftp_data_tc\`). Downloads that failed their sha256: $failed."
} | tee "$out"

{
	cat <<'TEXT'
## TFTP over IPv6: one 32 MiB file, IPv6 against IPv4, xpxe and tftpd-hpa

Written by `scripts/bench/tftp6.sh` (part of `make bench`), one lab: one client namespace
fetching one 32 MiB file of random bytes, over IPv6 (ULA `fd00:198:18:6::1`) and IPv4
(`198.18.0.1`) taken in turn, each download checked byte for byte. Two clients: tftp-hpa
(`tftp -6 ADDR -m binary -c get`: lockstep, 512-byte blocks, no options) and atftp
(`--option "windowsize 16"`, RFC 7440, 512-byte blocks). xpxe serves the file as an asset
(`xpxe serve -i IF --asset big=FILE`, defaults otherwise); tftpd-hpa (`in.tftpd --listen
--secure`, one instance bound to each family's address) is the peer, in the same run after xpxe;
tftpd-hpa 5.2 has no windowsize option (it does not answer it in its OACK), so atftp runs
lockstep against it: its "windowsize 16" rows compare xpxe's windows with tftpd-hpa's lockstep.
Over IPv6 xpxe's lockstep blocks come from `xdp_tftp6` (tail-called by xdp_pxe) where XDP can
grow the ACK (on veth, about one 512-byte block in five) and from `tc_tftp` (`tftp_sessions6`)
where not, its windows from AF_XDP (`xdp_tftp6` redirects a window's ACK to the daemon's AF_XDP
socket, which builds the window's frames), as over IPv4, whose lockstep blocks come from tc where
XDP has no room (see the TFTP sections above).

TEXT
	cat "$out"
	echo
	cat <<'TEXT'
How to read it: one client's transfer is bound by round trips through the lab's veth and the
scheduler (the client and the server share the host's cores), so a busy machine moves every
figure; the ratios of one run are the figure to keep, not the seconds. The times include
starting the client process (a few ms).

Command: `make bench` (or `bash scripts/bench/tftp6.sh`; `RUNS=`, `XPXE_LAB=`, `QUIET_WAIT=0`
on a busy machine).
TEXT
} >"$WORK/section.md"
bench_section "TFTP over IPv6" "$WORK/section.md"
echo "wrote its section of BENCHMARKS.md" >&2
[ "$failed" = 0 ]
