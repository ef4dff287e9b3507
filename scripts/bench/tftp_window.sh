#!/usr/bin/env bash
# `make bench` (TFTP windows, run by scripts/bench/tftp.sh): windowed TFTP (RFC 7440),
# xpxe vs dnsmasq in the same run, on the same lab (LAB=winbn), one 32 MiB file,
# blksize 1468, scripts/bench/tftp_load.c asking windowsize W (every download checked
# byte for byte):
#   - one client's MB/s at windowsize 1, 4, 16 and 64, on the bare lab and with a round trip
#     of 100 us more (tftp_load -D: the client holds each ACK; the lab's veth has ~10 us and
#     this kernel no qdisc to add delay); 64 clients' aggregate at 1 and 16; the median of
#     RUNS runs; CPU seconds per GB for the whole machine (/proc/stat);
#   - xpxe: the daemon's own CPU per GB (it sends the windows), and the windows it sent;
#   - dnsmasq: whether its OACK grants windowsize at all.
# Writes its section of BENCHMARKS.md (replacing the previous one) and build/bench/tftp_window.md.
# RUNS=N (default 3).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export LAB=${XPXE_LAB:-winbn}
eval "$("$root/scripts/lab.sh" env)"
RUNS=${RUNS:-3}
LOAD=$root/build/bench/tftp_load
PROBE=$root/tests/integration/tftp_probe.pl
work=$(mktemp -d /tmp/xpxe-bench-win.XXXXXX)
chmod 755 "$work"
mkdir -m 755 "$work/root"
export XPXE_SOCKET=$work/xpxe.sock
server_pid=

. "$root/scripts/bench/lib.sh"

finish() {
	bench_stop_servers
	"$root/scripts/lab.sh" down
	rm -rf "$work"
}
trap finish EXIT

bench_wait_quiet
bench_lab_up
file=$work/root/big32m
head -c $((32 << 20)) /dev/urandom >"$file"
chmod 644 "$file"
sha=$(sha256sum "$file" | cut -d' ' -f1)
hz=$(getconf CLK_TCK)

ticks_of() { awk '{ print $14 + $15 }' "/proc/$1/stat"; } # utime + stime of PID

# One load run: prints "MBPS CPU_S_PER_GB DAEMON_CPU_S_PER_GB GRANTED", or fails when a
# download did not match.
load() { # CLIENTS WINDOWSIZE DELAY_US
	local b0 b1 d0=0 d1=0 out bytes mbps
	[ -n "$daemon_pid" ] && d0=$(ticks_of "$daemon_pid")
	b0=$(busy)
	out=$(in_cli "$LOAD" -s "$SRV_IP" -f big32m -r "$file" -S "$sha" -n "$1" -b 1468 -W "$2" -D "$3")
	b1=$(busy)
	[ -n "$daemon_pid" ] && d1=$(ticks_of "$daemon_pid")
	bytes=$(sed 's/.*bytes=\([0-9]*\).*/\1/' <<<"$out")
	mbps=$(sed 's/.*mbps=\([0-9.]*\).*/\1/' <<<"$out")
	awk -v m="$mbps" -v c=$((b1 - b0)) -v d=$((d1 - d0)) -v hz="$hz" -v b="$bytes" \
		-v w="$(sed 's/.*windowsize=\([0-9]*\).*/\1/' <<<"$out")" \
		'BEGIN { printf "%.1f %.2f %.2f %d\n", m, c / hz / (b / 1e9), d / hz / (b / 1e9), w }'
}

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# clients, windowsize asked, delay (us) added to each round trip
CASES=("1 1 0" "1 4 0" "1 16 0" "1 64 0" "1 1 100" "1 4 100" "1 16 100" "1 64 100"
	"64 1 0" "64 16 0" "64 64 0")
declare -A MBPS CPU DCPU GRANTED
measure() { # SERVER
	local c lines k
	for c in "${CASES[@]}"; do
		k="$1,${c// /,}"
		lines=$(for _ in $(seq "$RUNS"); do load $c; done)
		MBPS[$k]=$(awk '{ print $1 }' <<<"$lines" | median)
		CPU[$k]=$(awk '{ print $2 }' <<<"$lines" | median)
		DCPU[$k]=$(awk '{ print $3 }' <<<"$lines" | median)
		GRANTED[$k]=$(awk '{ print $4 }' <<<"$lines" | head -1)
		say "$1, clients/windowsize/delay $c (granted ${GRANTED[$k]}): ${MBPS[$k]} MB/s, ${CPU[$k]} CPU-s/GB"
	done
}

oack() { # -> the options of the OACK the server running now sends for windowsize 16
	in_cli perl "$PROBE" "$SRV_IP" rrq=big32m,blksize=1468,windowsize=16 2>/dev/null |
		awk '/^OACK/ { print substr($3, 5) }' | xxd -r -p | tr '\0' ' ' | sed 's/ $//'
}

# --- xpxe ---------------------------------------------------------------------------------
say "xpxe"
nsenter --net="/run/netns/$NS_SRV" "$root/xpxe" serve -i "$IF_SRV" --no-default-assets \
	--asset "big32m=$file" --tftp-windowsize-max 64 --tftp-max-per-ip 4096 2>"$work/xpxe.log" &
server_pid=$!
daemon_pid=$server_pid
for _ in $(seq 50); do "$root/xpxe" status >/dev/null 2>&1 && break; sleep 0.1; done
xpxe_oack=$(oack)
w0=$("$root/xpxe" status --json | jq '.interfaces[0].tftp.window.windows')
measure xpxe
status=$("$root/xpxe" status --json)
windows=$(($(jq '.interfaces[0].tftp.window.windows' <<<"$status") - w0))
restarts=$(jq '.interfaces[0].tftp.window.restarts' <<<"$status")
not_sent=$(jq '.interfaces[0].tftp.window.blocks_not_sent' <<<"$status")
mode=$(jq -r '.interfaces[0].tftp.window.sockets[0].mode' <<<"$status")
bench_stop_servers
server_pid=
daemon_pid=

# --- dnsmasq ------------------------------------------------------------------------------
say "dnsmasq"
in_srv dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --enable-tftp \
	--tftp-root="$work/root" --tftp-max=1000 --interface="$IF_SRV" --bind-interfaces \
	--pid-file="$work/dnsmasq.pid" --log-facility="$work/dnsmasq.log" &
server_pid=$!
for _ in $(seq 50); do in_srv ss -Hlun 'sport = :69' | grep -q . && break; sleep 0.1; done
dnsmasq_oack=$(oack)
measure dnsmasq
bench_stop_servers
server_pid=

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
version=$(dnsmasq --version | head -1 | awk '{ print $3 }')
mkdir -p "$root/build/bench"
section=$root/build/bench/tftp_window.md
{
	echo "## TFTP windows (RFC 7440): one 32 MiB file, blksize 1468"
	echo
	echo "Written by \`scripts/bench/tftp_window.sh\` (run by \`make bench\`, RUNS=$RUNS) on"
	echo "$(date -u +%Y-%m-%d), $(nproc) CPUs, Linux $(uname -r), same lab (LAB=winbn: veth, tx offload"
	echo "off, XDP_PASS on the client's peer). Client: \`tftp_load -W W\` (asks windowsize W,"
	echo "acknowledges each window's last block, reads windows with recvmmsg, 1 MiB socket"
	echo "buffers; every block compared with the file). xpxe runs with \`--tftp-windowsize-max 64\`:"
	echo "windows of more than one block go through its AF_XDP socket ($mode mode on veth), windows"
	echo "of one block through tc_tftp. Medians of $RUNS runs; CPU is the whole machine's per GB"
	echo "delivered, \"daemon\" xpxe's own process (building and sending the windows)."
	echo
	echo "| clients | windowsize asked | round trip + | xpxe MB/s | dnsmasq $version MB/s | xpxe / dnsmasq | xpxe CPU-s/GB (daemon) | dnsmasq CPU-s/GB |"
	echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for c in "${CASES[@]}"; do
		read -r n w d <<<"$c"
		x="xpxe,$n,$w,$d"
		m="dnsmasq,$n,$w,$d"
		echo "| $n | $w | $d µs | ${MBPS[$x]} | ${MBPS[$m]} | $(ratio "${MBPS[$x]}" "${MBPS[$m]}")× |" \
			"${CPU[$x]} (${DCPU[$x]}) | ${CPU[$m]} |"
	done
	echo
	echo "Granted: xpxe answered windowsize 16 with the OACK \`$xpxe_oack\`; dnsmasq $version with"
	echo "\`${dnsmasq_oack:-no OACK}\`: this dnsmasq does not implement windowsize (its OACK leaves it"
	echo "out$(strings "$(command -v dnsmasq)" | grep -qi windowsize || echo ", and the word is nowhere in its binary")),"
	echo "so every dnsmasq row is lockstep whatever was asked. xpxe sent $windows windows in these"
	echo "runs ($restarts restarted, $not_sent blocks not sent for want of AF_XDP frames)."
	echo
	cat <<'TEXT'
What the figures say. A window costs one trip through the daemon (ACK redirected to AF_XDP,
the daemon woken, the blocks built into UMEM, sendto) where lockstep costs one run of tc_tftp
per block with no process woken: on this lab's bare veth pair (~10 µs a round trip) a window of
4 is slower than lockstep for one client, and windows of 16 and 64 are faster. Add 100 µs to
each round trip (tftp_load -D: about what a switched LAN adds, before a firmware's own network
stack adds more) and every lockstep server falls to one block per round trip, xpxe's too, while windows
keep most of their speed: that is what OVMF (windowsize 4) and atftp gain on a real network.
In copy mode each block is copied once more than on the tc path (into UMEM by the daemon, then
into an skb by the kernel's AF_XDP transmit; tc copies once, into the ACK's skb); a driver with
zero-copy AF_XDP saves the second copy. dnsmasq's figures are lockstep throughout.
TEXT
	echo
	echo "Load average before the run: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg)."
} >"$section"
bench_section "TFTP windows" "$section"
say "wrote its section of $root/BENCHMARKS.md"
cat "$section"
