#!/usr/bin/env bash
# `make bench` (fleet page): a storm of MACHINES (default 1000) machines booting through xpxe
# (scripts/bench/storm.c: DHCP -> TFTP -> HTTP script, initramfs, kernel -> config, every
# byte checked), run three ways against a fresh daemon each time:
#   alone     no page open;
#   pollers   CLIENTS (default 16) page clients polling /api/fleet as the page does
#             (scripts/bench/ui_poll.py: keep-alive, "since" their last version, once a second);
#   browser   the page itself in a headless Chromium (tests/integration/cdp.py), which
#             records how long after the daemon saw each machine done the page showed it.
# "pollers" against "alone" is what page clients cost the machines' HTTP (the storm's
# times, its script and config fetches, the daemon's CPU); "browser" says whether the page
# keeps up with a thousand machines. RUNS (default 3) rounds of the three; medians.
#   IPXE_KIB=256 KERNEL_MIB=1 INITRD_MIB=4: small files, so that the storm's time is
#   requests and state changes (what the page shows) more than bytes.
# Writes its section of BENCHMARKS.md and docs/bench/ui-page.png (the page at the end of
# the last browser run).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
export LAB=${XPXE_LAB:-benchui}
eval "$("$root/scripts/lab.sh" env)"
MACHINES=${MACHINES:-1000}
RUNS=${RUNS:-3}
CLIENTS=${CLIENTS:-16}
MODES=${MODES:-"alone pollers browser"} # for trials: some of them only
WARMUP=${WARMUP:-32}
DEADLINE=${DEADLINE:-300}
IPXE_KIB=${IPXE_KIB:-256}
KERNEL_MIB=${KERNEL_MIB:-1}
INITRD_MIB=${INITRD_MIB:-4}
STORM=$root/build/bench/storm
XPXE=${XPXE:-$root/xpxe}
HTTP=$SRV_IP:8080
UI=127.0.0.1:9090 # in the server's namespace: the page's clients run there, on loopback
POOL=198.18.8.16-198.18.15.250
work=$(mktemp -d /tmp/xpxe-bench-ui.XXXXXX)
mkdir -p "$work/root" "$work/talos"
export XPXE_SOCKET=$work/xpxe.sock
ulimit -n "$(ulimit -Hn)"
xpxe_pid=
poll_pid=

. "$root/scripts/bench/lib.sh"

finish() {
	[ -n "$poll_pid" ] && kill "$poll_pid" 2>/dev/null
	cdp_quit
	bench_stop_servers || true
	"$root/scripts/lab.sh" down
	rm -rf "$work"
}
trap finish EXIT

# --- the page in a browser (tests/integration/cdp.sh: chromium as a co-process) -------------
. "$root/tests/integration/cdp.sh"
page_start() {
	rm -rf "$work/browser"
	cdp_start "$NS_SRV" "http://$UI/" "$work/browser" ||
		{ say "chromium did not start: $(tail -3 "$work/browser/cdp.err")"; exit 1; }
	# The page has drawn the daemon's answer once.
	for _ in $(seq 300); do
		[ "$(cdp_value 'window.xpxeStats ? window.xpxeStats.polls : 0')" -ge 1 ] 2>/dev/null && return 0
		sleep 0.1
	done
	say "the page never polled: $(tail -3 "$work/browser/chromium.log")"
	exit 1
}

# --- the files and the server ---------------------------------------------------------------
head -c $((IPXE_KIB << 10)) /dev/urandom >"$work/root/snponly.efi"
head -c $((KERNEL_MIB << 20)) /dev/urandom >"$work/root/vmlinuz"
head -c $((INITRD_MIB << 20)) /dev/urandom >"$work/root/initramfs"
printf 'version: v1alpha1\nmachine:\n  type: worker\n  network:\n    hostname: "{{mac}}"\n' \
	>"$work/talos/default.yaml"

start_xpxe() {
	bench_storm_xpxe --ui "$UI"
	xpxe_pid=$bench_xpxe_pid
}

hz=$(getconf CLK_TCK)
cpu_of() { awk -v hz="$hz" '{ printf "%.1f", ($14 + $15) / hz }' "/proc/$1/stat"; }
# CPU seconds of the page's clients: every process in the server's namespace but xpxe.
clients_cpu() {
	local p t=0
	for p in $(ip netns pids "$NS_SRV"); do
		[ "$p" = "$xpxe_pid" ] && continue
		t=$((t + $(awk '{ print $14 + $15 }' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	awk -v t="$t" -v hz="$hz" 'BEGIN { printf "%.1f", t / hz }'
}
# The daemon's own account of the page's data: answers and the CPU time they took.
ui_metric() { in_srv curl -s "http://$HTTP/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

# run MODE M: one storm of M machines against a fresh xpxe, with MODE's page clients; prints
# storm's line, the daemon's CPU seconds and MODE's own figures (key=value).
run() {
	local mode=$1 m=$2 line extra= t_end done_at shown
	in_srv ip neigh flush all
	start_xpxe
	case $mode in
	pollers)
		ip netns exec "$NS_SRV" python3 "$root/scripts/bench/ui_poll.py" "http://$UI/" \
			"$CLIENTS" "$work/poll.out" &
		poll_pid=$!
		;;
	browser) page_start ;;
	esac
	line=$(in_cli "$STORM" -s "$SRV_IP" -g 198.18.8.1 -n "$m" -F snponly.efi \
		-T "$work/root/snponly.efi" -I "$work/root/initramfs" -K "$work/root/vmlinuz" \
		-C "$work/talos/default.yaml" -u "http://$HTTP/boot.ipxe?mac=\${mac:hexhyp}" \
		-W "$DEADLINE" 2>"$work/storm.err") || say "$mode: machines failed: $line $(head -3 "$work/storm.err")"
	t_end=$(date +%s%N)
	local clients
	clients=$(clients_cpu)
	case $mode in
	pollers)
		kill "$poll_pid"
		wait "$poll_pid" || true
		poll_pid=
		extra=$(cat "$work/poll.out")
		;;
	browser)
		# How long after the storm's end the page showed every machine done.
		done_at=
		for _ in $(seq 300); do
			shown=$(cdp_value "document.querySelectorAll('#rows tr.done').length")
			if [ "$shown" = "$m" ]; then done_at=$(date +%s%N); break; fi
			sleep 0.1
		done
		extra=$(cdp_value "(() => { const s = window.xpxeStats, l = s.lagMs.slice().sort((a, b) => a - b);
			const q = (p) => l.length ? l[Math.min(l.length - 1, Math.floor(p * l.length))] : -1;
			return 'page_polls=' + s.polls + ' page_errors=' + s.errors +
				' page_max_poll_ms=' + s.maxPollMs.toFixed(0) + ' page_max_draw_ms=' + s.maxApplyMs.toFixed(0) +
				' lag_n=' + l.length + ' lag_p50_ms=' + q(0.5) + ' lag_p99_ms=' + q(0.99) +
				' lag_max_ms=' + q(1); })()")
		extra+=" page_done=$shown page_all_done_s=$(if [ -n "$done_at" ]; then
			awk -v a="$t_end" -v b="$done_at" 'BEGIN { printf "%.2f", (b - a) / 1e9 }'; else echo never; fi)"
		[ -n "${SHOT:-}" ] && cdp "shot $SHOT" >/dev/null
		cdp_quit
		;;
	esac
	extra+=" xpxe_cpu_s=$(cpu_of "$xpxe_pid") clients_cpu_s=$clients"
	local answers cpu
	answers=$(ui_metric 'xpxe_ui_requests_total{kind="fleet"}')
	cpu=$(ui_metric xpxe_ui_fleet_cpu_seconds_total)
	extra+=" ui_answers=$answers ui_cpu_s=$(awk -v c="$cpu" 'BEGIN { printf "%.2f", c }')"
	extra+=" us_per_answer=$(awk -v c="$cpu" -v n="$answers" 'BEGIN { printf "%.0f", n ? 1e6 * c / n : 0 }')"
	bench_stop_servers
	xpxe_pid=
	echo "$line $extra"
}

bench_wait_quiet
bench_lab_up
bench_storm_net
mkdir -p "$root/build/bench" "$root/docs/bench"

say "warm-up: $WARMUP machines"
run alone "$WARMUP" >/dev/null
declare -A LINES
for r in $(seq "$RUNS"); do
	for mode in $MODES; do
		SHOT=
		[ "$r" = "$RUNS" ] && [ "$mode" = browser ] && SHOT=$root/docs/bench/ui-page.png
		l=$(SHOT=$SHOT run "$mode" "$MACHINES")
		say "$mode, run $r: $l"
		LINES[$mode]+=$l$'\n'
	done
done

val() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
# median and spread of KEY over the lines: "MEDIAN (MIN–MAX)"
stat() {
	local key=$1 lines=$2
	while read -r l; do [ -n "$l" ] && val "$key" "$l"; done <<<"$lines" | sort -n |
		awk '{ v[NR] = $1 }
		END {
			if (!NR) { printf "-"; exit }
			m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
			if (NR > 1) printf "%s (%s–%s)", m, v[1], v[NR]; else printf "%s", m
		}'
}
declare -A NAME=([alone]="no page open" [pollers]="$CLIENTS page clients polling"
	[browser]="the page open in Chromium")
out=$root/build/bench/ui.md
{
	echo "| page clients | failed | last config s | p50 s | p99 s | script p50 s | config p50 s | initrd p50 s | kernel p50 s | xpxe CPU s | of which the page's data s | page clients' CPU s |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	for mode in alone pollers browser; do
		printf '| %s' "${NAME[$mode]}"
		for k in failed seconds p50 p99 script_p50 config_p50 initrd_p50 kernel_p50 xpxe_cpu_s \
			ui_cpu_s clients_cpu_s; do
			printf ' | %s' "$(stat "$k" "${LINES[$mode]:-}")"
		done
		printf ' |\n'
	done
	echo
	echo "| $CLIENTS page clients: polls | errors | answer p50 ms | p99 ms | max ms | machines per answer | KiB per answer | xpxe's CPU per answer µs |"
	echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	printf '| %s |\n' "$(for k in polls errors p50_ms p99_ms max_ms rows_per_poll kb_per_poll us_per_answer; do
		stat "$k" "${LINES[pollers]:-}"; printf ' | '; done | sed 's/ | $//')"
	echo
	echo "| the page in Chromium: polls | errors | slowest poll ms (answer + drawing) | slowest drawing ms | machines seen turning done | shown done after the daemon saw it: p50 ms | p99 ms | max ms | all $MACHINES shown done, s after the storm's end |"
	echo "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
	printf '| %s |\n' "$(for k in page_polls page_errors page_max_poll_ms page_max_draw_ms lag_n lag_p50_ms lag_p99_ms lag_max_ms page_all_done_s; do
		stat "$k" "${LINES[browser]:-}"; printf ' | '; done | sed 's/ | $//')"
} >"$out"
cat "$out"

cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
cat >"$work/section.md" <<EOF
## Fleet page: $MACHINES machines booting, with and without the page open

Written by \`scripts/bench/ui.sh\` (run by \`make bench\`; MACHINES=$MACHINES RUNS=$RUNS
CLIENTS=$CLIENTS) on $(date -u +%Y-%m-%d) — $(nproc) CPUs ($cpu_model), Linux $(uname -r), lab
LAB=$LAB. A storm of $MACHINES machines (\`scripts/bench/storm.c\`, as in the boot storm above:
DHCP, TFTP of a ${IPXE_KIB} KiB boot file, over HTTP the script, a ${INITRD_MIB} MiB initramfs, a
${KERNEL_MIB} MiB kernel and the config; every byte checked) against xpxe \`--mode full --ui
$UI\`, started afresh for each storm, three ways: no page open; $CLIENTS page clients
(\`scripts/bench/ui_poll.py\`) that poll \`/api/fleet\` exactly as the page does (keep-alive,
only what changed since their last answer, one second after each answer), on loopback in
the server's namespace, so the daemon pays what $CLIENTS open pages cost it while the
client side costs little; and the page itself in a headless Chromium (also on loopback).
Median of $RUNS rounds (min–max in brackets); the rounds run the three ways in turn. Small
files on purpose: the storm's time is then mostly requests and stage changes, what the
page follows, rather than bytes. "script p50" and "config p50" are the median time a machine
waited for its iPXE script and its Talos config: the machines' HTTP requests the page must
not slow. "xpxe CPU s": the daemon's user + system time over the whole run.

$(cat "$out")

How to read it: the page's clients are served by a listener of their own (one thread, at
most ui.max_connections connections), apart from the machines' HTTP (its own thread pool and
limits); what they share is the fleet view's lock, held for a copy of the machines that
changed, and the CPUs. An answer carries only the machines that changed since the client's
last one, so its cost follows the storm's pace, not the fleet's size. The Chromium rows share
this machine's $(nproc) CPUs with the storm and the daemon, which a browser on an operator's
desk does not: read its storm columns with that in mind, and its own columns for whether the
page keeps up: "shown done after the daemon saw it" is, for each machine that reached its
config while the page was open, the time from the daemon's record of it to the page drawing
it (at most a poll's second plus the answer and the drawing when the page keeps up), and the
last column is how long after the storm's last config the page showed all $MACHINES done.
The page counts one machine more than the storm: the storm's machines all send TFTP
from the client namespace's bridge, whose MAC xpxe notes on each read request (one row at
"tftp"); real machines each send their own.

![the fleet page at the end of a $MACHINES-machine storm](docs/bench/ui-page.png)

Load average before the run: $load_before; after: $(cut -d' ' -f1-3 /proc/loadavg).
EOF
bench_section "Fleet page" "$work/section.md"
say "wrote its section of $root/BENCHMARKS.md"
