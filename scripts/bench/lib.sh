#!/usr/bin/env bash
# Sourced by the benchmarks that run in a lab (after `eval "$(scripts/lab.sh env)"`): what each
# of them does the same way. Also brings in bench_section (section.sh).
. "$(dirname "${BASH_SOURCE[0]}")/section.sh"

say() { printf '== %s\n' "$*" >&2; }
in_srv() { ip netns exec "$NS_SRV" "$@"; }
in_cli() { ip netns exec "$NS_CLI" "$@"; }
# Stops every process in the server's namespace and waits until none is left, so that the next
# server has the namespace, its ports and its interface to itself. Not `kill $!`: a server
# started in the background through a shell function (in_srv CMD &) is a child of the subshell
# $! names, and outlives it (an earlier dhcp.sh measured "dnsmasq" while xpxe, left running,
# answered from XDP). Fails loudly when something had to be killed with SIGKILL.
bench_stop_servers() {
	local pids
	pids=$(ip netns pids "$NS_SRV" 2>/dev/null || true)
	[ -n "$pids" ] && kill $pids 2>/dev/null
	for _ in $(seq 50); do
		pids=$(ip netns pids "$NS_SRV" 2>/dev/null || true)
		if [ -z "$pids" ]; then
			wait 2>/dev/null || true # reap them
			return 0
		fi
		sleep 0.1
	done
	say "still running in $NS_SRV 5 s after SIGTERM, killed: $(ps -o comm= -p "${pids//$'\n'/,}" | paste -sd' ')"
	kill -9 $pids 2>/dev/null
	wait 2>/dev/null || true
	return 1
}

# Busy CPU ticks of the whole machine (user, nice, system, irq, softirq, steal).
busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# Other work on the machine skews every figure: waits (up to 5 minutes; QUIET_WAIT=N: N x 10 s,
# 0 for short trial runs on a busy machine) for a load average under 0.5; sets load_before.
bench_wait_quiet() {
	for _ in $(seq "${QUIET_WAIT:-30}"); do
		awk '{ exit !($1 < 0.5) }' /proc/loadavg && break
		say "load average $(cut -d' ' -f1-3 /proc/loadavg): waiting for a quiet machine"
		sleep 10
	done
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
}

# The lab up. The client side's bridge need not run iptables on every frame (br_netfilter is
# loaded on this host): a cost of the client, the same for every server.
bench_lab_up() {
	"$(dirname "${BASH_SOURCE[0]}")/../lab.sh" up
	in_cli sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 \
		2>/dev/null || true
}

# bench_plot PNG: gnuplot's commands from stdin drawn into PNG (800x480, a grid), or a word
# on why not (gnuplot-nox comes with make bench-deps).
bench_plot() {
	if ! command -v gnuplot >/dev/null; then
		say "gnuplot missing (make bench-deps): no $1"
		cat >/dev/null
		return 0
	fi
	mkdir -p "$(dirname "$1")"
	{
		# noenhanced: a title's "_" (XDP_PASS) is text, not a subscript
		printf 'set terminal pngcairo size 800,480 font ",10" noenhanced\nset output "%s"\nset grid\n' "$1"
		cat
	} | gnuplot || say "gnuplot failed: $1 not drawn"
}
