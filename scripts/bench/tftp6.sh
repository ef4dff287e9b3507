#!/usr/bin/env bash
# One client, one 32 MiB file, over IPv6 and IPv4 taken in turn in the same lab: tftp-hpa
# lockstep (512-byte blocks) and atftp windowsize 16. Prints seconds per transfer; every
# download checked byte for byte. RUNS=N (default 3). XPXE_LAB=NAME: another lab name.
# Usage: bash scripts/bench/tftp6.sh [TREE] (TREE: the built checkout to measure, by default
# this one; a copy of another commit built elsewhere gives the A/B).
ROOT_ARG=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LAB=t6bench
source "$ROOT_ARG/tests/integration/lib.sh"
RUNS=${RUNS:-3}
SRV6=fd00:198:18:6::1
CLI6=fd00:198:18:6::2
lab up || exit 1
in_srv ip -6 addr add "$SRV6/64" dev "$IF_SRV" nodad
in_cli ip -6 addr add "$CLI6/64" dev "$IF_BR" nodad
v6_ready() { in_cli ping -6 -c1 -W1 "$SRV6" >/dev/null 2>&1; }
wait_until v6_ready || { echo "no IPv6"; exit 1; }
head -c $((32 * 1024 * 1024)) /dev/urandom >"$WORK/big"
start_daemon -i "$IF_SRV" --asset "big=$WORK/big" || { tail "$WORK/daemon.log"; exit 1; }
udp6_bound() { in_srv ss -Hlun6 "sport = :69" | grep -q .; }
wait_until udp6_bound
run() { # LABEL COMMAND...
	local label=$1 t0 t1
	shift
	rm -f "$WORK/out"
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1
	t1=$(date +%s.%N)
	if [ "$(sha "$WORK/out")" = "$(sha "$WORK/big")" ]; then
		printf '%-28s %.2f s\n' "$label" "$(echo "$t1 - $t0" | bc)"
	else
		printf '%-28s FAILED (sha differs)\n' "$label"
	fi
}
echo "load: $(cat /proc/loadavg)"
for i in $(seq "$RUNS"); do
	run "tftp-hpa lockstep IPv6" in_cli tftp -6 "$SRV6" -m binary -c get big "$WORK/out"
	run "tftp-hpa lockstep IPv4" in_cli tftp "$SRV_IP" -m binary -c get big "$WORK/out"
	run "atftp windowsize 16 IPv6" in_cli atftp --option "windowsize 16" --get -r big -l "$WORK/out" "$SRV6"
	run "atftp windowsize 16 IPv4" in_cli atftp --option "windowsize 16" --get -r big -l "$WORK/out" "$SRV_IP"
done
echo "load: $(cat /proc/loadavg)"
echo "tftp6_data_tc $(counter tftp6_data_tc) tftp6_data $(counter tftp6_data) tftp_data_tc $(counter tftp_data_tc)"
