#!/usr/bin/env bash
# DHCP at the fast path's ceiling: xpxe vs dnsmasq vs the lab's no-work reflector, under
# build/bench/dhcp_load (scripts/bench/dhcp_load.c), a generator that can send more than
# perfdhcp and checks every reply. Also checks the generator against perfdhcp on dnsmasq, at
# rates both reach (the two must agree within noise).
#   full mode:  first contact (every MAC new, one DORA each) and returning machines (the same
#               MACs, bound: DORA as fast as the generator goes), 1000 and 10,000 of them;
#               returning with renewals (30 % of exchanges a relayed REBINDING REQUEST)
#   proxy mode: DISCOVER -> OFFER, as fast as it goes
# The generator runs in client host h2 as a relay (giaddr 198.18.64.1, an address it does not
# hold: the server has its MAC as a static neighbour) and plays PXE clients of four firmware
# classes (BIOS ROM, OVMF, iPXE, UEFI HTTP; proxy mode: the first three, which dnsmasq's
# pxe-service answers). perfdhcp runs in h1 (198.18.64.2) for the cross-check.
# Results: a Markdown table on stdout and in build/bench/dhcp_load.md, and its section of
# BENCHMARKS.md. Runs about five minutes.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
export LAB=${LAB:-bdload}
eval "$(scripts/lab.sh env)"
# On tmpfs: both servers write their leases there (dnsmasq rewrites its file after every ACK),
# and this machine's disk is shared with other work: on it, dnsmasq's replies took 2-3 times
# as long (p50) and it NAKed 60 times as many first contacts in a trial, the disk's doing.
work=$(mktemp -d /dev/shm/xpxe-bench-dhcpload.XXXXXX 2>/dev/null || mktemp -d /tmp/xpxe-bench-dhcpload.XXXXXX)
export XPXE_SOCKET=$work/xpxe.sock
out=build/bench/dhcp_load.md
PERIOD=${PERIOD:-5}
RATE_COLD=${RATE_COLD:-2000}	     # first contact: new machines per second
COLD_DEADLINE=${COLD_DEADLINE:-60}   # seconds a first-contact run may take
# The cross-check with perfdhcp: rates both tools reach, dnsmasq's (full, proxy) and xpxe's.
# dnsmasq rewrites its lease file after each ACK (~1 ms of CPU for 1000 leases here): in full
# mode it keeps up with a few hundred per second on a loaded machine, no more.
RATES_CHECK=${RATES_CHECK:-"100 200 500"}
RATES_CHECK_PROXY=${RATES_CHECK_PROXY:-"2000 5000 10000"}
RATES_CHECK_XPXE=${RATES_CHECK_XPXE:-"5000 20000"}
AB_RUNS=${AB_RUNS:-3} # alternated runs: the generator's back ends; xpxe against the reflector
# ONLY=proxy: proxy mode's rows and alternated rounds only (a minute or two), no cross-check,
# BENCHMARKS.md untouched: for A/B runs of one change (XPXE_BIN=another build's binary).
ONLY=${ONLY:-}
CLASSES=bios,uefi64,ipxe,http64
CLASSES_PROXY=bios,uefi64,ipxe
POOL=198.18.64.10-198.18.127.250
RELAY=198.18.64.1
PERF_IP=198.18.64.2
XPXE=${XPXE_BIN:-./xpxe}
LOAD=build/bench/dhcp_load

. scripts/bench/lib.sh

cleanup() {
	bench_stop_servers
	sysctl -q kernel.bpf_stats_enabled=0
	scripts/lab.sh down
	rm -rf "$work"
}
trap cleanup EXIT

for f in "$LOAD" build/bench_dhcp_reflect.bpf.o build/bench_dhcp_reflect_proxy.bpf.o "$XPXE"; do
	[ -e "$f" ] || {
		say "$f is missing: run make (and make $LOAD)"
		exit 1
	}
done
command -v perfdhcp >/dev/null || say "perfdhcp missing (make bench-deps): no cross-check"

bench_wait_quiet
bench_lab_up
scripts/lab.sh host 1
scripts/lab.sh host 2
ip -n "$LAB-h1" addr add "$PERF_IP/18" dev eth0
in_srv ip route replace 198.18.64.0/18 dev "$IF_SRV"
in_srv ip neigh replace "$RELAY" lladdr "$(ip netns exec "$LAB-h2" cat /sys/class/net/eth0/address)" \
	dev "$IF_SRV" nud permanent
SRV_MAC=$(in_srv cat "/sys/class/net/$IF_SRV/address")

NO_LIMITS=(--dhcp-mac-rate 0 --dhcp-global-rate 0)
server_desc=
start_xpxe() {
	rm -rf "$work/state" "$work/xpxe.leases"
	nsenter --net="/run/netns/$NS_SRV" "$XPXE" serve -i "$IF_SRV" --state-dir "$work/state" \
		"${NO_LIMITS[@]}" "$@" >>"$work/xpxe.log" 2>&1 &
	for _ in $(seq 50); do "$XPXE" status >/dev/null 2>&1 && return 0; sleep 0.1; done
	say "xpxe did not start: $(tail -3 "$work/xpxe.log")"
	exit 1
}
start_dnsmasq() {
	rm -f "$work/dnsmasq.leases"
	in_srv dnsmasq --keep-in-foreground --user=root --port=0 --interface="$IF_SRV" \
		--bind-interfaces --dhcp-leasefile="$work/dnsmasq.leases" --log-facility=/dev/null \
		--dhcp-lease-max=20000 "$@" &
	for _ in $(seq 50); do in_srv ss -lun | grep -q ':67 ' && return 0; sleep 0.1; done
	say "dnsmasq did not start"
	exit 1
}
start_reflector() { # OBJECT
	in_srv ip link set dev "$IF_SRV" xdpdrv obj "$1" sec xdp
}
stop_server() {
	bench_stop_servers
	in_srv ip link set dev "$IF_SRV" xdpdrv off 2>/dev/null || true
	rm -f "$work"/*.bind
}

kv() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print $2 }'; }
# The server's own CPU seconds: its processes' user+system time (dnsmasq, xpxe's daemon) plus
# the XDP program's run time (bpf_stats; xpxe's program, the reflector).
server_cpu() {
	local pids t=0 p prog
	pids=$(ip netns pids "$NS_SRV" 2>/dev/null || true)
	for p in $pids; do
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	prog=$(in_srv ip -j link show dev "$IF_SRV" | jq -r '.[0].xdp.prog.id // empty')
	[ -n "$prog" ] && prog=$(bpftool -j prog show id "$prog" | jq -r '.run_time_ns // 0')
	awk -v t="$t" -v hz="$(getconf CLK_TCK)" -v ns="${prog:-0}" \
		'BEGIN { printf "%.4f %.4f\n", ns / 1e9, t / hz }' # XDP, processes
}

row() { printf '| %s |\n' "$(paste -sd'|' - <<<"$(printf '%s\n' "$@")" | sed 's/|/ | /g')" | tee -a "$out"; }
mkdir -p build/bench
{
	echo "dhcp_load, $(date -u +%Y-%m-%d), $(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p')), $(uname -r), load average before: $load_before"
	echo
	echo "| server | mode | machines | exchanges/s offered | answered/s | loss | malformed / wrong | latency p50 / p99 µs | server CPU s: XDP + processes | replies per server CPU-s (M) | generator CPU | machine busy cores | load avg after |"
	echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
} | tee "$out"

declare -A ANSWERED
# run NAME MODE-LABEL DHCP_LOAD-ARGS...: one row
run() {
	local name=$1 label=$2 line x0 c0 x1 c1 b0 b1 t0 t1 secs replies cpu busy rc
	shift 2
	read -r x0 c0 < <(server_cpu)
	b0=$(busy)
	t0=$(date +%s.%N)
	line=$(ip netns exec "$LAB-h2" "$LOAD" -i eth0 -d "$SRV_MAC" -s "$SRV_IP" -g "$RELAY" "$@" \
		2>"$work/load.err")
	rc=$?
	t1=$(date +%s.%N)
	b1=$(busy)
	read -r x1 c1 < <(server_cpu)
	[ -s "$work/load.err" ] && say "$name $label: $(paste -sd';' "$work/load.err")"
	if [ -z "$line" ]; then
		say "$name $label: dhcp_load failed (exit $rc)"
		row "$name" "$label" - - - - - - - - - - -
		return
	fi
	secs=$(kv seconds "$line")
	replies=$(($(kv offers "$line") + $(kv acks "$line") + $(kv naks "$line")))
	cpu=$(awk -v a="$c0" -v b="$c1" -v x="$x0" -v y="$x1" 'BEGIN { printf "%.2f", b - a + y - x }')
	busy=$(awk -v a="$b0" -v b="$b1" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" \
		'BEGIN { printf "%.2f", (b - a) / hz / (t1 - t0) }')
	ANSWERED["$name|$label|$(kv clients "$line")"]=$(kv answered_per_s "$line")
	row "$name" "$label" "$(kv clients "$line")" "$(kv offered_per_s "$line")" \
		"$(kv answered_per_s "$line")" "$(kv loss "$line")" \
		"$(kv malformed "$line") / $(kv wrong "$line")" \
		"$(kv p50_us "$line") / $(kv p99_us "$line")" \
		"$(awk -v a="$c0" -v b="$c1" -v x="$x0" -v y="$x1" 'BEGIN { printf "%.2f + %.2f", y - x, b - a }')" \
		"$(awk -v r="$replies" -v c="$cpu" 'BEGIN { if (c > 0) printf "%.2f", r / c / 1e6; else print "-" }')" \
		"$(awk -v c="$(kv cpu_s "$line")" -v s="$secs" 'BEGIN { printf "%.0f%%", 100 * c / s }')" \
		"$busy" "$(cut -d' ' -f1-3 /proc/loadavg)"
	echo "$name $label: $line" >>"$work/lines"
}

# full_rows NAME START...: first contact and returning, 1000 and 10,000 machines
full_rows() {
	local name=$1
	shift
	"$@"
	run "$name" "full, first contact" -n 1000 -1 -r "$RATE_COLD" -t "$COLD_DEADLINE" \
		-c "$CLASSES" -b "$work/1k.bind"
	run "$name" "full, returning" -n 1000 -t "$PERIOD" -c "$CLASSES" -b "$work/1k.bind"
	run "$name" "full, returning, 30 % renewals" -n 1000 -t "$PERIOD" -R 30 -c "$CLASSES" \
		-b "$work/1k.bind"
	run "$name" "full, first contact" -n 10000 -M 52:54:04:00:00:00 -1 -r "$RATE_COLD" \
		-t "$COLD_DEADLINE" -c "$CLASSES" -b "$work/10k.bind"
	run "$name" "full, returning" -n 10000 -M 52:54:04:00:00:00 -t "$PERIOD" -c "$CLASSES" \
		-b "$work/10k.bind"
	stop_server
}

sysctl -q kernel.bpf_stats_enabled=1
if [ "$ONLY" != proxy ]; then
full_rows xpxe start_xpxe --mode full --pool "$POOL" --leases "$work/xpxe.leases"
# --no-ping: see the perfdhcp section (as shipped it pings each new address first).
full_rows dnsmasq start_dnsmasq --no-ping \
	--dhcp-range=198.18.64.10,198.18.127.250,255.255.192.0,12h --dhcp-boot=undionly.kpxe
full_rows reflector start_reflector build/bench_dhcp_reflect.bpf.o

# AF_XDP (the default) against the packet socket (-P), alternated, on the reflector: the
# measurement behind the generator's choice.
start_reflector build/bench_dhcp_reflect.bpf.o
ab=()
for _ in $(seq "$AB_RUNS"); do
	for b in AF_XDP -P; do
		line=$(ip netns exec "$LAB-h2" "$LOAD" -i eth0 -d "$SRV_MAC" -s "$SRV_IP" -g "$RELAY" \
			-n 1000 -t "$PERIOD" -c "$CLASSES" ${b/AF_XDP/} 2>/dev/null)
		ab+=("$b $(kv answered_per_s "$line") $(kv p50_us "$line")")
	done
done
stop_server
fi

# xpxe against the reflector, alternated: on a shared machine the load changes from one row
# to the next, so the ratio that says how close xpxe is to the lab's ceiling comes from runs
# taken in turn. xpxe's machines are bound first (first contact) each time.
alt=()
alt_run() { # NAME MODE LOAD-ARGS...
	local line
	line=$(ip netns exec "$LAB-h2" "$LOAD" -i eth0 -d "$SRV_MAC" -s "$SRV_IP" -g "$RELAY" \
		-n 1000 -t "$PERIOD" "${@:3}" 2>/dev/null)
	alt+=("$1|$2|$(kv answered_per_s "$line")|$(kv malformed "$line")/$(kv wrong "$line")")
}
for _ in $(seq "$AB_RUNS"); do
	if [ "$ONLY" != proxy ]; then
		start_reflector build/bench_dhcp_reflect.bpf.o
		alt_run reflector full -c "$CLASSES"
		stop_server
		start_xpxe --mode full --pool "$POOL" --leases "$work/xpxe.leases"
		ip netns exec "$LAB-h2" "$LOAD" -i eth0 -d "$SRV_MAC" -s "$SRV_IP" -g "$RELAY" \
			-n 1000 -1 -r "$RATE_COLD" -t "$COLD_DEADLINE" -c "$CLASSES" >/dev/null 2>&1
		alt_run xpxe full -c "$CLASSES"
		stop_server
	fi
	start_reflector build/bench_dhcp_reflect_proxy.bpf.o
	alt_run reflector proxy -m proxy -c "$CLASSES_PROXY"
	stop_server
	start_xpxe --mode proxy
	alt_run xpxe proxy -m proxy -c "$CLASSES_PROXY"
	stop_server
done

proxy_row() { # NAME START...
	local name=$1
	shift
	"$@"
	run "$name" "proxy, PXE DO" -m proxy -n 1000 -t "$PERIOD" -c "$CLASSES_PROXY"
	stop_server
}
proxy_row xpxe start_xpxe --mode proxy
proxy_row dnsmasq start_dnsmasq --dhcp-range=198.18.64.0,proxy,255.255.192.0 \
	--pxe-service=x86PC,"xpxe bench",undionly --pxe-service=x86-64_EFI,"xpxe bench",snponly
proxy_row reflector start_reflector build/bench_dhcp_reflect_proxy.bpf.o
sysctl -q kernel.bpf_stats_enabled=0

ratio() { awk -v x="${ANSWERED[$1]:-0}" -v d="${ANSWERED[$2]:-0}" 'BEGIN { if (d > 0) printf "%.1f×", x / d; else print "-" }'; }
{
	echo
	printf 'answered/s, xpxe / dnsmasq: full, 1000 returning %s; 10,000 returning %s; proxy %s. ' \
		"$(ratio "xpxe|full, returning|1000" "dnsmasq|full, returning|1000")" \
		"$(ratio "xpxe|full, returning|10000" "dnsmasq|full, returning|10000")" \
		"$(ratio "xpxe|proxy, PXE DO|1000" "dnsmasq|proxy, PXE DO|1000")"
	printf 'xpxe / reflector: full, 1000 returning %s; 10,000 returning %s; proxy %s.\n' \
		"$(ratio "xpxe|full, returning|1000" "reflector|full, returning|1000")" \
		"$(ratio "xpxe|full, returning|10000" "reflector|full, returning|10000")" \
		"$(ratio "xpxe|proxy, PXE DO|1000" "reflector|proxy, PXE DO|1000")"
	echo
	echo "xpxe against the reflector, 1000 returning machines, $AB_RUNS rounds taken in turn (answered/s per round; malformed/wrong):"
	echo
	echo "| mode | reflector | xpxe | xpxe / reflector, per round |"
	echo "| --- | ---: | ---: | ---: |"
	for m in full proxy; do
		printf '| %s | %s | %s | %s |\n' "$m" \
			"$(printf '%s\n' "${alt[@]}" | awk -F'|' -v m="$m" '$1 == "reflector" && $2 == m { printf "%s%s (%s)", s, $3, $4; s = ", " }')" \
			"$(printf '%s\n' "${alt[@]}" | awk -F'|' -v m="$m" '$1 == "xpxe" && $2 == m { printf "%s%s (%s)", s, $3, $4; s = ", " }')" \
			"$(printf '%s\n' "${alt[@]}" | awk -F'|' -v m="$m" '$2 == m { v[$1, ++n[$1]] = $3 }
				END { for (i = 1; i <= n["xpxe"]; i++) { printf "%s%s", s, (v["reflector", i] > 0 ? sprintf("%.2f", v["xpxe", i] / v["reflector", i]) : "-"); s = ", " } }')"
	done
	echo
	echo "The generator's back ends on the reflector, full mode, 1000 returning, $AB_RUNS runs each, alternated (answered/s, p50 µs):"
	echo
	echo "| back end | answered/s per run | p50 µs per run |"
	echo "| --- | ---: | ---: |"
	for b in AF_XDP -P; do
		printf '| %s | %s | %s |\n' "$([ "$b" = AF_XDP ] && echo "AF_XDP (default)" || echo "packet socket (-P: sendmmsg/recvmmsg)")" \
			"$(printf '%s\n' "${ab[@]}" | awk -v b="$b" '$1 == b { print $2 }' | paste -sd' ')" \
			"$(printf '%s\n' "${ab[@]}" | awk -v b="$b" '$1 == b { print $3 }' | paste -sd' ')"
	done
} | tee -a "$out"

if [ "$ONLY" = proxy ]; then
	# Proxy mode's two paths in one build, taken in turn with dnsmasq: a DHCP server on this
	# host (--dhcp-local-server yes: XDP passes each PXE DISCOVER, tc answers it after a copy
	# went up) or none (no: XDP answers it, XDP_TX). XPXE_BIN of a build without the flag: none.
	# The help read whole, not piped to grep -q: under pipefail, grep's early exit made xpxe's
	# write fail (SIGPIPE, status 141) and this table never ran.
	if [[ $("$XPXE" serve --help 2>&1) == *--dhcp-local-server* ]]; then
		paths=()
		for _ in $(seq "$AB_RUNS"); do
			for ls in yes no; do
				start_xpxe --mode proxy --dhcp-local-server "$ls"
				line=$(ip netns exec "$LAB-h2" "$LOAD" -i eth0 -d "$SRV_MAC" -s "$SRV_IP" \
					-g "$RELAY" -n 1000 -t "$PERIOD" -m proxy -c "$CLASSES_PROXY" 2>/dev/null)
				paths+=("$ls $(kv answered_per_s "$line") $(kv malformed "$line")/$(kv wrong "$line")")
				stop_server
			done
			start_dnsmasq --dhcp-range=198.18.64.0,proxy,255.255.192.0 \
				--pxe-service=x86PC,"xpxe bench",undionly \
				--pxe-service=x86-64_EFI,"xpxe bench",snponly
			line=$(ip netns exec "$LAB-h2" "$LOAD" -i eth0 -d "$SRV_MAC" -s "$SRV_IP" \
				-g "$RELAY" -n 1000 -t "$PERIOD" -m proxy -c "$CLASSES_PROXY" 2>/dev/null)
			paths+=("dnsmasq $(kv answered_per_s "$line") $(kv malformed "$line")/$(kv wrong "$line")")
			stop_server
		done
		{
			echo
			echo "Proxy mode's two paths, $AB_RUNS rounds taken in turn (answered/s per round; malformed/wrong), load $(cut -d' ' -f1-3 /proc/loadavg):"
			echo
			echo "| server | answered/s per round | / dnsmasq, per round |"
			echo "| --- | ---: | ---: |"
			for k in yes no dnsmasq; do
				printf '| %s | %s | %s |\n' \
					"$(case $k in yes) echo "xpxe, local server: tc answers" ;; no) echo "xpxe, none: XDP answers" ;; *) echo dnsmasq ;; esac)" \
					"$(printf '%s\n' "${paths[@]}" | awk -v k="$k" '$1 == k { printf "%s%s (%s)", s, $2, $3; s = ", " }')" \
					"$(printf '%s\n' "${paths[@]}" | awk -v k="$k" '{ v[$1, ++n[$1]] = $2 }
						END { for (i = 1; i <= n[k]; i++) { printf "%s%s", s, (v["dnsmasq", i] > 0 ? sprintf("%.1f×", v[k, i] / v["dnsmasq", i]) : "-"); s = ", " } }')"
			done
		} | tee -a "$out"
	fi
	say "ONLY=proxy: the proxy rows only (in $out), no cross-check; BENCHMARKS.md left as it is"
	exit 0
fi

# --- the cross-check: perfdhcp and dhcp_load on dnsmasq, same rates, BIOS clients -------------
perf() { # RATE ARGS... -> "answered/s DISCOVERs sent/s"
	local rate=$1 kind=REQUEST-ACK
	shift
	[[ " $* " == *" -i "* ]] && kind=DISCOVER-OFFER
	ip netns exec "$LAB-h1" timeout $((PERIOD + 20)) perfdhcp -4 -l "$PERF_IP" -r "$rate" \
		-p "$PERIOD" -M "$work/macs" "$@" "$SRV_IP" >"$work/perf.out" 2>&1
	awk -v k="$kind" -v p="$PERIOD" '
		/DISCOVER-OFFER/ { d = 1 } d && /sent packets/ { sent = $3; d = 0 }
		$0 ~ k { f = 1 } f && /received packets/ { recv = $3; f = 0 }
		END { printf "%d %d\n", recv / p, sent / p }' "$work/perf.out"
}
for i in $(seq 0 999); do printf '52:54:05:00:%02x:%02x\n' $((i / 256)) $((i % 256)); done >"$work/macs"
vci=$(printf 'PXEClient:Arch:00000:UNDI:002001' | od -An -tx1 | tr -d ' \n')
PXE=(-o "60,$vci" -o 93,0000)
if command -v perfdhcp >/dev/null; then
	{
		echo
		echo "Cross-check, BIOS PXE clients, $PERIOD s per rate, the two tools one after the other on the same server (answered/s; dhcp_load's loss and malformed/wrong in brackets):"
		echo
		echo "| server | mode | offered/s | perfdhcp: sent/s | answered/s | dhcp_load: sent/s | answered/s | difference |"
		echo "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	} | tee -a "$out"
	check_rows() { # SERVER LABEL RATES PERF-ARGS... -- LOAD-ARGS...
		local server=$1 label=$2 rates=$3 r p ps line pargs=() largs=()
		shift 3
		while [ "$1" != -- ]; do
			pargs+=("$1")
			shift
		done
		shift
		largs=("$@")
		for r in $rates; do
			read -r p ps < <(perf "$r" "${pargs[@]}")
			line=$(ip netns exec "$LAB-h2" "$LOAD" -i eth0 -d "$SRV_MAC" -s "$SRV_IP" -g "$RELAY" \
				-n 1000 -M 52:54:06:00:00:00 -c bios -r "$r" -t "$PERIOD" "${largs[@]}" 2>/dev/null)
			printf '| %s | %s | %s | %s | %s | %s | %s (%s, %s/%s) | %s |\n' "$server" "$label" \
				"$r" "${ps:-0}" "${p:-0}" "$(kv offered_per_s "$line")" \
				"$(kv answered_per_s "$line")" "$(kv loss "$line")" "$(kv malformed "$line")" \
				"$(kv wrong "$line")" \
				"$(awk -v a="${p:-0}" -v b="$(kv answered_per_s "$line")" 'BEGIN { if (a > 0) printf "%+.1f%%", 100 * (b - a) / a; else print "-" }')" |
				tee -a "$out"
		done
	}
	start_dnsmasq --no-ping --dhcp-range=198.18.64.10,198.18.127.250,255.255.192.0,12h \
		--dhcp-boot=undionly.kpxe
	perf 200 "${PXE[@]}" >/dev/null # binds perfdhcp's MACs (most: it does not retry a NAK)
	ip netns exec "$LAB-h2" "$LOAD" -i eth0 -d "$SRV_MAC" -s "$SRV_IP" -g "$RELAY" -n 1000 \
		-M 52:54:06:00:00:00 -c bios -1 -r 200 -t "$COLD_DEADLINE" >/dev/null 2>&1
	check_rows dnsmasq "full, 1000 returning" "$RATES_CHECK" "${PXE[@]}" --
	stop_server
	start_dnsmasq --dhcp-range=198.18.64.0,proxy,255.255.192.0 \
		--pxe-service=x86PC,"xpxe bench",undionly
	check_rows dnsmasq "proxy, PXE DO" "$RATES_CHECK_PROXY" -i "${PXE[@]}" -- -m proxy
	stop_server
	start_xpxe --mode full --pool "$POOL" --leases "$work/xpxe.leases"
	perf 500 "${PXE[@]}" >/dev/null
	ip netns exec "$LAB-h2" "$LOAD" -i eth0 -d "$SRV_MAC" -s "$SRV_IP" -g "$RELAY" -n 1000 \
		-M 52:54:06:00:00:00 -c bios -1 -r 500 -t "$COLD_DEADLINE" >/dev/null 2>&1
	check_rows xpxe "full, 1000 returning" "$RATES_CHECK_XPXE" "${PXE[@]}" --
	stop_server
fi

{
	cat <<'TEXT'
## DHCP at the fast path's ceiling: xpxe vs dnsmasq vs the reflector under dhcp_load

Written by `scripts/bench/dhcp_load.sh` (part of `make bench`), same lab, same run.
`build/bench/dhcp_load` (scripts/bench/dhcp_load.c) is a load generator on one thread: it plays
N PXE clients, each with its own state (DISCOVER → OFFER → REQUEST → ACK; renewals; proxy mode:
DISCOVER → OFFER), in firmware classes dealt in turn: a BIOS ROM (arch 0), OVMF's PXE (arch
7), iPXE (user class "iPXE") and UEFI HTTP boot (arch 16, HTTPClient; not in proxy mode, where
dnsmasq's pxe-service has none). It sends and receives through an AF_XDP socket (its own XDP
program on its interface hands it the replies; requests leave in batches from its UMEM; `-P`:
a packet socket with sendmmsg/recvmmsg instead, measured below) from client host h2 as a relay
(giaddr 198.18.64.1, the pool 198.18.64.10-127.250), as fast as it can unless told a rate, and
checks every reply: IP and UDP checksums, lengths,
BOOTP fields, options, then what that client expects: its xid and MAC, the message type, a
server identifier, the address (an ACK's the one offered; a returning machine's the one it had
before, kept between runs), a boot file (full mode) or the PXE vendor class and no address
(proxy mode). "Malformed / wrong" counts replies that failed (must be 0); loss, requests never
answered within 1 s. "First contact": every MAC new, one DORA each at 2000 new machines per
second (a rack powering on; xpxe's daemon binds each one), the time until the last had its
address giving answered/s. "Returning": the same machines again, bound, DORA after DORA as fast
as the generator goes. The reflector (bpf/bench_dhcp_reflect.bpf.c, proxy: ..._proxy.bpf.c) is
an XDP program that turns each request into a valid reply in place with no lookup and no state:
the lab's own ceiling (veth pair, bridge, generator) that every other figure is read against.

TEXT
	cat "$out"
	echo
	cat <<'TEXT'
How to read it. The whole path of a frame (the generator's send, the bridge, both veth pairs,
the server's XDP program or socket, the way back) runs in softirqs on this machine's two cores,
shared with the server, the generator and whatever else runs: "machine busy cores" is the
whole machine's busy CPU time over the run (2.00 is all of it), and the load averages say how
much else ran. Both servers keep their leases on tmpfs (the machine's disk is shared with other
work). "Server CPU s" is the server's own: its processes' user and system time (dnsmasq,
xpxe's daemon) and its XDP program's run time from bpf_stats (xpxe's xdp_pxe, the reflector);
"replies per server CPU-s" is what one core would answer if the server's own work were all it
did (Mpps per core; the driver and veth work that delivers a frame to it not counted, for any
server). "Generator CPU": the generator's user and system time over the run's length (the
softirqs that carry its frames through the lab, often run in its syscalls, are not counted, so
it is low even when the generator is what limits). The cross-check runs perfdhcp (Debian's
kea-admin, in h1 as relay 198.18.64.2) and dhcp_load against the same server at rates both
reach (dnsmasq's, and xpxe's below perfdhcp's ceiling): their answered/s agree within the
difference column.

Command: `make bench` (or `bash scripts/bench/dhcp_load.sh`; `PERIOD=`, `RATE_COLD=`,
`COLD_DEADLINE=`, `RATES_CHECK=`, `RATES_CHECK_PROXY=` to change the load). One run by hand:
`ip netns exec LAB-h2 build/bench/dhcp_load -i eth0 -d SERVER_MAC -s 198.18.0.1 -g 198.18.64.1
-n 1000 -t 5 -c bios,uefi64,ipxe,http64` (`dhcp_load -h`; the file's head comment says more).
TEXT
} >"$work/section.md"
bench_section "DHCP at the fast path's ceiling" "$work/section.md"
say "wrote its section of BENCHMARKS.md"
