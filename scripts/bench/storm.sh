#!/usr/bin/env bash
# `make bench` (boot storm): M machines power on at once; each does DHCP (DORA, PXE options)
# -> TFTP of the boot file (IPXE_KIB, default 1 MiB) -> HTTP: the iPXE script, the initramfs
# (INITRD_MIB, default 16) and the kernel (KERNEL_MIB, default 4) it names -> GET
# /talos/config?mac=... A Talos-sized boot is KERNEL_MIB=16 INITRD_MIB=64: four times the
# bytes and the time (256 machines: ~80 s a run here), hence the smaller defaults.
# (scripts/bench/storm.c; every download compared byte for byte, every config with the
# machine's own). Time until the last machine has its config, and p50/p99 of one machine's
# time, xpxe (full mode: DHCP, TFTP and HTTP) against dnsmasq (DHCP and TFTP) with nginx (HTTP:
# the same files, the same script, a config file per MAC), on the same lab, same run.
#   MACHINES="256 1024"  sizes of the storm     RUNS=3   runs per server and size
#   SERVERS="xpxe xpxe_nocap peer peer_xdp"  (a trial may run some; xpxe_nocap: xpxe with
#                        --max-downloads 0 --max-tftp-downloads 0, every download and
#                        every TFTP transfer at once as before issue 23;
#                        peer_xdp: dnsmasq + nginx with an XDP_PASS program on the server's
#                        veth, as xpxe has its own there)
#   MAX_DOWNLOADS=N      xpxe's --max-downloads (default: the daemon's own, 32)
#   MAX_TFTP=N           xpxe's --max-tftp-downloads (default: the daemon's own, 128)
#   MAX_WAIT=S           xpxe's --download-max-wait (default 0: never)
#   TFTP_WAIT=S          xpxe's --tftp-max-wait (default: the daemon's own, 2)
#   CONTROLPLANES="100 170 250"  the machines (by index) whose config says type: controlplane;
#                        xpxe lets their downloads go first; the table says when the last of
#                        them had its config (cp s) and what share of the storm had by then
#   QUIET_WAIT=N: wait up to N x 10 s (default 30) for a load average under 0.5 first
#   TITLE="Boot storm" STEM=storm: its section of BENCHMARKS.md, build/bench/STEM.md and
#                        docs/bench/STEM.png
# Each run starts its server afresh (no leases, no boot-once marks: a rack from cold), after
# a discarded warm-up storm of WARMUP machines. Writes its section of BENCHMARKS.md
# (scripts/bench/section.sh), build/bench/STEM.md and the figure docs/bench/STEM.png.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export LAB=${XPXE_LAB:-storm}
eval "$("$root/scripts/lab.sh" env)"
MACHINES=${MACHINES:-"256 1024"}
RUNS=${RUNS:-3}
SERVERS=${SERVERS:-"xpxe xpxe_nocap peer peer_xdp"} # for trials: some of them only
MAX_DOWNLOADS=${MAX_DOWNLOADS:-}
MAX_TFTP=${MAX_TFTP:-}
TFTP_WAIT=${TFTP_WAIT:-}
MAX_WAIT=${MAX_WAIT:-0}
CONTROLPLANES=${CONTROLPLANES:-"100 170 250"}
WARMUP=${WARMUP:-32}
# The section of BENCHMARKS.md it writes, and the name of its table and figure: another pair
# (the Talos-sized storm of `make bench`) keeps this one's figures.
TITLE=${TITLE:-Boot storm}
STEM=${STEM:-storm}
DEADLINE=${DEADLINE:-600} # seconds a storm may take before its unfinished machines count as failed
IPXE_KIB=${IPXE_KIB:-1024}
KERNEL_MIB=${KERNEL_MIB:-4}
INITRD_MIB=${INITRD_MIB:-16}
STORM=$root/build/bench/storm
XPXE=${XPXE:-$root/xpxe} # another build of it (a sanitized one, say)
# The daemon's defaults (downloads.max, downloads.tftp_max) for the text, as its --help says.
DEFAULT_DOWNLOADS=$("$XPXE" serve --help | sed -n 's/.* at once (default \([0-9]*\); 0: no cap); the others$/\1/p')
DEFAULT_TFTP=$("$XPXE" serve --help | sed -n '/--max-tftp-downloads/{n;s/^ *\([0-9]*\); 0: no cap.*/\1/p}')
[ -n "$DEFAULT_DOWNLOADS" ] && [ -n "$DEFAULT_TFTP" ] || { echo "storm.sh: no defaults in $XPXE serve --help" >&2; exit 1; }
HTTP=$SRV_IP:8080
# The machines' network (bench_storm_net: 198.18.8.0/21): their relays (198.18.8.1, .2, ...:
# one a thread) and 2021 addresses.
POOL=198.18.8.16-198.18.15.250
work=$(mktemp -d /tmp/xpxe-bench-storm.XXXXXX)
chmod 755 "$work" # nginx's workers and dnsmasq's TFTP read the files as other users
mkdir -m 755 "$work/root" "$work/www" "$work/www/cfg" "$work/talos"
export XPXE_SOCKET=$work/xpxe.sock
pids=()
out=$root/build/bench/$STEM.md
ulimit -n "$(ulimit -Hn)" # a socket per machine in storm, per transfer in dnsmasq

. "$root/scripts/bench/lib.sh"

finish() {
	stop_servers
	"$root/scripts/lab.sh" down
	# Each machine's phase times (storm's -o), its TFTP retries (-R) and the servers' logs,
	# for a closer look.
	mkdir -p "$root/build/bench/$STEM-runs"
	cp "$work"/*.csv "$work"/*.retries "$work"/*.log "$root/build/bench/$STEM-runs/" 2>/dev/null || true
	rm -rf "$work"
}
trap finish EXIT

stop_servers() {
	bench_stop_servers
	pids=()
}

bench_wait_quiet
bench_lab_up
bench_storm_net

# --- the files: the same bytes for every server --------------------------------------------
head -c $((IPXE_KIB << 10)) /dev/urandom >"$work/root/snponly.efi"
head -c $((KERNEL_MIB << 20)) /dev/urandom >"$work/root/vmlinuz"
head -c $((INITRD_MIB << 20)) /dev/urandom >"$work/root/initramfs"
cat >"$work/talos/default.yaml" <<'YAML'
version: v1alpha1
machine:
  type: worker
  token: storm.bench0000000000
  network:
    interfaces:
      - deviceSelector:
          hardwareAddr: "{{mac}}"
        dhcp: true
  install:
    disk: /dev/sda
cluster:
  controlPlane:
    endpoint: https://198.18.0.1:6443
YAML
# The control planes' config: the same with type: controlplane (xpxe reads it to put their
# downloads first; the storm checks each machine got its own).
sed 's/^  type: worker$/  type: controlplane/' "$work/talos/default.yaml" >"$work/controlplane.yaml"
for i in $CONTROLPLANES; do
	cp "$work/controlplane.yaml" "$work/talos/$(printf '02-53-00-00-%02x-%02x' $((i >> 8)) $((i & 255))).yaml"
done
chmod 644 "$work"/root/* "$work"/talos/*.yaml "$work/controlplane.yaml"
# nginx's copy of the script xpxe writes, with the same URLs; configs rendered per MAC below.
cat >"$work/www/boot.ipxe" <<EOF
#!ipxe
echo storm: booting
initrd --name initrd http://$HTTP/assets/initramfs || goto failed
kernel http://$HTTP/assets/vmlinuz initrd=initrd talos.platform=metal slab_nomerge pti=on talos.config=http://$HTTP/talos/config?mac=\${mac}&uuid=\${uuid}&serial=\${serial} || goto failed
boot || goto failed
:failed
echo storm: boot failed
EOF
max_m=$(tr ' ' '\n' <<<"$MACHINES $WARMUP" | sort -n | tail -1)
for i in $(seq 0 $((max_m - 1))); do
	mac=$(printf '02:53:00:00:%02x:%02x' $((i >> 8)) $((i & 255)))
	tpl=$work/talos/default.yaml
	for c in $CONTROLPLANES; do [ "$c" = "$i" ] && tpl=$work/controlplane.yaml; done
	sed "s/{{mac}}/$mac/g" "$tpl" >"$work/www/cfg/$mac.yaml"
done
chmod -R a+rX "$work/www"
cat >"$work/nginx.conf" <<EOF
worker_processes auto;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx.err warn;
events { worker_connections 8192; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_timeout 30;
	client_body_temp_path $work/nginx-tmp;
	proxy_temp_path $work/nginx-tmp;
	fastcgi_temp_path $work/nginx-tmp;
	uwsgi_temp_path $work/nginx-tmp;
	scgi_temp_path $work/nginx-tmp;
	server {
		listen $HTTP;
		default_type application/octet-stream;
		location = /boot.ipxe { root $work/www; }
		location /assets/ { alias $work/root/; }
		location = /talos/config { root $work/www/cfg; try_files /\$arg_mac.yaml =404; }
	}
}
EOF

hz=$(getconf CLK_TCK)
softirq() { awk '/^cpu / { print $8 }' /proc/stat; }

wait_for() { # CMD...: up to 5 s
	for _ in $(seq 50); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}

start_xpxe() {
	bench_storm_xpxe ${MAX_DOWNLOADS:+--max-downloads "$MAX_DOWNLOADS"} \
		${MAX_TFTP:+--max-tftp-downloads "$MAX_TFTP"} ${TFTP_WAIT:+--tftp-max-wait "$TFTP_WAIT"} \
		--download-max-wait "$MAX_WAIT"
	pids+=("$bench_xpxe_pid")
}

# xpxe as it was before admission (issue 23): every download at once, sharing the link.
start_xpxe_nocap() {
	bench_storm_xpxe --max-downloads 0 --max-tftp-downloads 0
	pids+=("$bench_xpxe_pid")
}

start_peer() {
	rm -f "$work/dnsmasq.leases"
	# Not through in_srv: $! must be the server itself (ip netns exec execs it), not a
	# subshell whose death would leave it running.
	ip netns exec "$NS_SRV" dnsmasq --keep-in-foreground --conf-file=/dev/null --port=0 --user=root \
		--interface="$IF_SRV" --bind-interfaces --log-facility="$work/dnsmasq.log" \
		--dhcp-leasefile="$work/dnsmasq.leases" --dhcp-lease-max=5000 \
		--dhcp-range="${POOL%-*},${POOL#*-},255.255.248.0,1h" --dhcp-boot=snponly.efi \
		--enable-tftp --tftp-root="$work/root" --tftp-max=5000 --no-ping &
	pids+=($!)
	mkdir -p "$work/nginx-tmp"
	ip netns exec "$NS_SRV" nginx -c "$work/nginx.conf" &
	pids+=($!)
	wait_for in_srv bash -c "ss -Hlun 'sport = :69' | grep -q . && ss -Hltn 'sport = :8080' | grep -q ." ||
		{ say "dnsmasq or nginx did not start"; exit 1; }
}

# The same peers with an XDP program that passes every frame on the server's end of the veth
# pair, as xpxe has xdp_pxe there: what a veth's XDP receive path costs the TCP of the storm,
# whatever the server (veth hands each frame to XDP in a page of its own, then builds the skb
# again: a copy and a NAPI round that a NIC's driver does not add).
start_peer_xdp() {
	start_peer
	in_srv ip link set dev "$IF_SRV" xdpdrv obj "$root/build/xdp_pass.bpf.o" sec xdp
}

# Frames the lab's veth pair dropped (both ends: a full XDP ring of the client's peer counts
# on the server's side).
drops() {
	echo $(($(in_srv cat "/sys/class/net/$IF_SRV/statistics/tx_dropped") +
		$(in_cli cat "/sys/class/net/$IF_CLI/statistics/tx_dropped") +
		$(in_srv cat "/sys/class/net/$IF_SRV/statistics/rx_dropped") +
		$(in_cli cat "/sys/class/net/$IF_CLI/statistics/rx_dropped")))
}

# CPU ticks (user + system) of every process in the server namespace: xpxe, or dnsmasq and
# nginx's master and workers. Softirq work (the veth, XDP, tc) is counted by no process.
server_ticks() {
	local p t=0
	for p in $(ip netns pids "$NS_SRV"); do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	echo "$t"
}

# storm_once SERVER M: one storm against a fresh server; prints storm's line and
# "cpu_s=" (the whole machine's busy CPU seconds during the storm).
storm_once() {
	local server=$1 m=$2 b0 b1 d0 d1 q0 q1 p line rc=0
	in_srv ip neigh flush all
	"start_$server"
	b0=$(busy)
	q0=$(softirq)
	d0=$(drops)
	line=$(in_cli "$STORM" -s "$SRV_IP" -g 198.18.8.1 -n "$m" -F snponly.efi \
		-T "$work/root/snponly.efi" -I "$work/root/initramfs" -K "$work/root/vmlinuz" \
		-C "$work/talos/default.yaml" -P "$work/controlplane.yaml" -p "${CONTROLPLANES// /,}" -u "http://$HTTP/boot.ipxe?mac=\${mac:hexhyp}" \
		-W "$DEADLINE" -o "$work/$server-$m.csv" -R "$work/$server-$m.retries" 2>"$work/storm.err") || rc=$?
	b1=$(busy)
	q1=$(softirq)
	d1=$(drops)
	srv=$(server_ticks)
	for p in "${pids[@]}"; do
		kill -0 "$p" 2>/dev/null || say "$server, $m machines: server process $p had exited"
	done
	stop_servers
	in_srv ip link set dev "$IF_SRV" xdpdrv off 2>/dev/null # start_peer_xdp's (xpxe detaches its own)
	if [ "$rc" -ne 0 ]; then
		# Counted, not hidden: the table has the failures; the reasons are kept.
		say "$server, $m machines: machines failed: $line"
		cp "$work/storm.err" "$root/build/bench/storm-$server-$m.err"
		cat "$work"/{xpxe.log,dnsmasq.log,nginx.err} >"$root/build/bench/storm-$server-$m.log" 2>/dev/null || true
		head -5 "$work/storm.err" >&2
	fi
	[ -n "$line" ] || { say "storm did not run: $(cat "$work/storm.err")"; exit 1; }
	echo "$line cpu_s=$(awk -v c=$((b1 - b0)) -v hz="$hz" 'BEGIN { printf "%.1f", c / hz }')" \
		"server_cpu_s=$(awk -v c="$srv" -v hz="$hz" 'BEGIN { printf "%.1f", c / hz }')" \
		"softirq_s=$(awk -v c=$((q1 - q0)) -v hz="$hz" 'BEGIN { printf "%.1f", c / hz }')" \
		"veth_drops=$((d1 - d0))"
}

val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
# median and spread of KEY over the lines of RUNS: "MEDIAN (MIN–MAX)"
stat() {
	local key=$1 lines=$2
	while read -r l; do val "$key" "$l"; done <<<"$lines" | sort -n |
		awk '{ v[NR] = $1 }
		END {
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			if (NR > 1) printf "%s (%s–%s)", m, v[1], v[NR]; else printf "%s", m
		}'
}

mkdir -p "$root/build/bench" "$root/docs/bench"
declare -A LINES
for m in $MACHINES; do
	for server in $SERVERS; do
		say "$server: warm-up, $WARMUP machines"
		storm_once "$server" "$WARMUP" >/dev/null
		lines=
		for r in $(seq "$RUNS"); do
			l=$(storm_once "$server" "$m")
			say "$server, $m machines, run $r: $l"
			lines+=$l$'\n'
		done
		LINES[$server,$m]=${lines%$'\n'}
		# The figure: the last run's machines, sorted by the time each had its config.
		awk '!/^#/ { print $10 - $3 }' "$work/$server-$m.csv" | sort -n >"$work/cdf-$server-$m"
	done
done

peer_name="dnsmasq $(dnsmasq --version | head -1 | awk '{ print $3 }') + nginx $(nginx -v 2>&1 | sed 's|.*/||')"
declare -A NAME=([xpxe]="xpxe (at most ${MAX_DOWNLOADS:-$DEFAULT_DOWNLOADS} downloads, ${MAX_TFTP:-$DEFAULT_TFTP} TFTP transfers at once)" [xpxe_nocap]="xpxe, no cap (every download at once)" [peer]="$peer_name" [peer_xdp]="$peer_name, XDP_PASS on the server's veth")

# --- the figure: share of the machines done against time, at the largest storm -------------
big=$(tr ' ' '\n' <<<"$MACHINES" | sort -n | tail -1)
bench_plot "$root/docs/bench/$STEM.png" <<EOF
set title "Boot storm: $big machines, DHCP + TFTP ${IPXE_KIB} KiB + HTTP $((KERNEL_MIB + INITRD_MIB)) MiB + config (last run)"
set xlabel "seconds from power-on until the machine has its config"
set ylabel "machines done"
set key bottom right
set yrange [0:$big]
plot $(for s in $SERVERS; do printf '"%s" using 1:0 with lines lw 2 title "%s", ' \
	"$work/cdf-$s-$big" "${NAME[$s]}"; done | sed 's/, $//')
EOF

{
	echo "| machines | server | failed | last config s | p50 s | p90 s | p99 s | control planes' configs s | machines done by then % | DHCP p50 s | TFTP p50 s | script p50 s | initrd p50 s | kernel p50 s | config p50 s | MB/s | CPU s: machine | storm | server | retries | veth drops |"
	echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for m in $MACHINES; do
		for server in $SERVERS; do
			l=${LINES[$server,$m]}
			printf '| %s | %s' "$m" "${NAME[$server]}"
			for k in failed seconds p50 p90 p99 cp_s cp_pct dhcp_p50 tftp_p50 script_p50 initrd_p50 kernel_p50 \
				config_p50 mbps cpu_s storm_cpu_s server_cpu_s retries veth_drops; do
				printf ' | %s' "$(stat "$k" "$l")"
			done
			printf ' |\n'
		done
	done
} >"$out"
cat "$out"

# Where the time went in the largest storm: shares of the machine's busy CPU time.
bottleneck() {
	local s l
	for s in $SERVERS; do
		l=${LINES[$s,$big]}
		awk -v n="$(nproc)" -v big="$big" \
			-v name="${NAME[$s]}" \
			-v secs="$(stat seconds "$l" | cut -d' ' -f1)" -v cpu="$(stat cpu_s "$l" | cut -d' ' -f1)" \
			-v st="$(stat storm_cpu_s "$l" | cut -d' ' -f1)" -v srv="$(stat server_cpu_s "$l" | cut -d' ' -f1)" \
			-v si="$(stat softirq_s "$l" | cut -d' ' -f1)" \
			'BEGIN { printf "%s, %d machines: %.0f%% of the %d CPUs busy over the storm; of that, storm (the machines, user + system) %.0f%%, the server processes %.0f%%, softirq (receiving TCP and UDP, the veth pair, for xpxe its XDP and tc programs; what the kernel runs inside a system call is counted in that process) %.0f%%, the rest (%.0f%%) other work on the machine.\n\n", name, big, 100 * cpu / (secs * n), n, 100 * st / cpu, 100 * srv / cpu, 100 * si / cpu, 100 * (cpu - st - srv - si) / cpu }'
	done
}

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cat >"$work/section.md" <<EOF
## $TITLE: M machines, DHCP → TFTP → HTTP → config

Written by \`scripts/bench/storm.sh\` (run by \`make bench\`; MACHINES="$MACHINES" RUNS=$RUNS
WARMUP=$WARMUP) on $(date -u +%Y-%m-%d) — $(nproc) CPUs ($cpu_model), Linux $(uname -r), lab
LAB=$LAB. Each machine (\`scripts/bench/storm.c\`, one epoll thread per CPU in the client
namespace) does what a UEFI PXE ROM, iPXE and a Talos kernel do: DHCP DORA with options 60
\`PXEClient:Arch:00007\`, 93, 94 and 97 (through a relay, giaddr 198.18.8.1+thread, as
\`dhcp.sh\` does), TFTP of the boot file the ACK names (${IPXE_KIB} KiB, blksize 1468, lockstep)
from its new address, then over HTTP the iPXE script, the initramfs (${INITRD_MIB} MiB) and
the kernel (${KERNEL_MIB} MiB) the script names, and the \`talos.config=\` URL of its kernel line.
Every download is compared byte for byte with the file, every config with the machine's own
(its MAC rendered in); a machine that fails (20 unanswered tries in a row) is counted under "failed".
All machines power on at once. Servers: xpxe \`--mode full\` (DHCP from XDP and its daemon,
TFTP from BPF, HTTP by its libmicrohttpd, config rendered per MAC) against dnsmasq (DHCP and
TFTP) with nginx (sendfile; the same script, a config file per MAC). xpxe lets at most
${MAX_DOWNLOADS:-$DEFAULT_DOWNLOADS} kernel and initramfs downloads run at once and holds the others (\`downloads.max\`,
\`--max-downloads\`) in the order machines asked (a machine keeps its place for its kernel
after its initramfs), while a machine whose config says \`type: controlplane\` goes at once,
over the cap; a held
download gets its header at once and its first bytes trickle (1 KiB every 5 s: storm's machines
give up on an HTTP download silent for 30 s) until its turn; and at most ${MAX_TFTP:-$DEFAULT_TFTP} TFTP
transfers (\`downloads.tftp_max\`, \`--max-tftp-downloads\`): a further read request is held
unanswered (storm's machines repeat it every second, as a ROM does) and answered when a
transfer ends, or over the cap after 2 s (\`downloads.tftp_max_wait\`), a control plane's never.
"xpxe, no cap" is the same xpxe with \`--max-downloads 0 --max-tftp-downloads 0\`:
every download and transfer at once, sharing the link, as before admission. Machines $CONTROLPLANES (by
index) are the storm's three control planes: their configs say \`type: controlplane\` for every
server, and "control planes' configs s" is when the last of them had its config, "machines done
by then %" the share of the storm that had its config by then. dnsmasq runs with
\`--no-ping\`: by default it pings each address before offering it and waits up to 3 s for
no answer, one machine after another (a trial of 8 machines with the check on waited 18 s for
their leases), which no one running a boot farm keeps. Each run starts the server afresh (no
bindings, no boot-once marks); a storm of $WARMUP machines before each server's runs is
discarded. The lab's veth pair gets a pfifo_fast queue on each end (a NIC's default; without
a queue, the flood of TCP overflowed the client side's XDP ring and dropped ~1.9 million
frames in a trial run, and with them whole TFTP transfers). Median of $RUNS runs (min–max in
brackets). "last config": seconds from power-on until the last machine had its config;
p50/p90/p99: one machine's time from its DISCOVER to its config; the phase columns: medians of
each phase's duration; MB/s: all downloads over the storm; CPU s: the whole machine's busy time during the storm
(softirq included), storm's own, and the server processes' (user + system; the veth's,
XDP's and tc's softirq work is counted by no process).

$(cat "$out")

![$TITLE](docs/bench/$STEM.png)

Where the time goes: DHCP and TFTP move a few hundred kilobytes per machine, HTTP
$((KERNEL_MIB + INITRD_MIB)) MiB; both servers send the big files with sendfile, over the same veth
pair, so once a server has handed out addresses and boot files the storm is bound by moving
M × $((KERNEL_MIB + INITRD_MIB)) MiB through the kernel's TCP on $(nproc) CPUs that the machines, the
server and the veth pair share (the MB/s column; the lab has no TSO or GRO: tx checksum
offload is off for XDP's replies, so every 1500-byte frame costs a trip through both stacks).
What differs between the servers is the phase columns and the shape of the figure: a DHCP
server that falls behind costs whole seconds, because a machine whose DISCOVER went unanswered
waits 4, 8, 16 s before it asks again, as PXE ROMs do; and a machine that is done with TFTP
sooner joins the HTTP crowd sooner, so a faster TFTP moves machines from the TFTP queue to the
HTTP one without making the last config come sooner. In CPU time:

$(bottleneck)

Admission (issue 23): read xpxe's row against "xpxe, no cap", the same server with every
download at once, over the same link. With the cap, machines finish in a stream from the first
HTTP downloads on instead of all near the end (p50 and p90 against the last config, and the
figure), and the three control planes finish among the first (their column, and the share of the
storm done by then); the last config depends on the cap keeping the link full (MB/s). No machine
finishes before its TFTP does: with every transfer at once, the boot file's lockstep transfers
share the link and the first ends late (1.5 s at 1024 machines on a quiet host), so no machine
reaches HTTP before; with TFTP's cap a batch of transfers runs at a time (a control plane's at
once) and the first machines reach HTTP sooner. A lockstep transfer waits a round trip per
block, so a batch is quick on a quiet host and slow on a busy one (the client's turn for each
ACK): the held ones then go in over the cap after 2 s (the retries column counts their repeated
RRQs). dnsmasq's slow DHCP spreads its machines out the same way from the start, which is why
its first machines are done sooner.

The rows "XDP_PASS on the server's veth" are dnsmasq + nginx again with an XDP program that
passes every frame attached where xpxe attaches xdp_pxe: a veth runs XDP on a copy of each
frame it receives, in a page of its own, and builds the skb again after it, a cost a NIC's
driver does not add (its XDP runs before any skb exists). Read xpxe's rows against those to
see xpxe's servers, and against the plain peer's to see what XDP on a veth costs the storm's
TCP in this lab.

When a machine failed, its reason is in build/bench/storm-SERVER-M.err and the server's log
beside it (.log).

Load average before the run: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg).
EOF
bench_section "$TITLE" "$work/section.md"
say "wrote its section of $root/BENCHMARKS.md"
