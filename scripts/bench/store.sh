#!/usr/bin/env bash
# The store's benchmark: one responder in full mode, its bindings in files (the default) or in
# etcd (a single member in the lab, fsync on, as etcd ships).
#   first contact: 1000 new machines at once (perfdhcp's avalanche: each MAC once, retried with
#                  back-off): seconds until all are bound, DORA/s, p50/p99 of one machine's
#                  DORA (its DISCOVER to its ACK, at the client);
#   returning:     the same 1000 machines again at a steady rate: answered by XDP from the maps,
#                  they never reach the store: DORA/s and p50/p99 should not move.
# perfdhcp runs as a relay (giaddr 198.18.4.11) in a client host, so 1000 clients fit a /22.
# Results: build/bench/store.md and its section of BENCHMARKS.md. Runs a minute or two.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
. scripts/bench/lib.sh
bench_begin store bstore
N=${N:-1000}
RATE_BACK=${RATE_BACK:-5000}
PERIOD=${PERIOD:-5}
RUNS=${RUNS:-3}
ETCD_NS=$LAB-etcd

bench_cleanup_more() {
	ip netns pids "$ETCD_NS" 2>/dev/null | xargs -r kill -9
	ip netns del "$ETCD_NS" 2>/dev/null
}

bench_wait_quiet
bench_lab_up
bench_relay_host
# etcd: its own namespace, a veth to the server's (198.18.200.0/24).
ip netns add "$ETCD_NS"
ip -n "$ETCD_NS" link set lo up
ip link add etcd0 netns "$NS_SRV" type veth peer name etcd0 netns "$ETCD_NS"
ip -n "$NS_SRV" addr add 198.18.200.1/24 dev etcd0
ip -n "$ETCD_NS" addr add 198.18.200.11/24 dev etcd0
ip -n "$NS_SRV" link set etcd0 up
ip -n "$ETCD_NS" link set etcd0 up

start_etcd() { # a fresh member each run
	rm -rf "$work/etcd"
	ip netns exec "$ETCD_NS" etcd --name b1 --data-dir "$work/etcd" \
		--listen-client-urls http://198.18.200.11:2379 \
		--advertise-client-urls http://198.18.200.11:2379 \
		--listen-peer-urls http://198.18.200.11:2380 \
		--initial-advertise-peer-urls http://198.18.200.11:2380 \
		--initial-cluster b1=http://198.18.200.11:2380 >"$work/etcd.log" 2>&1 &
	for _ in $(seq 100); do
		ip netns exec "$ETCD_NS" etcdctl --endpoints http://198.18.200.11:2379 put /probe x \
			>/dev/null 2>&1 && return 0
		sleep 0.1
	done
	say "etcd did not start: $(tail -3 "$work/etcd.log")"
	exit 1
}

start_xpxe() { # STORE
	rm -rf "$work/state" "$work/leases"
	in_srv ./xpxe serve -i "$IF_SRV" --state-dir "$work/state" --mode full \
		--pool 198.18.4.10-198.18.7.250 --leases "$work/leases" --no-default-assets \
		--dhcp-mac-rate 0 --dhcp-global-rate 0 --store "$1" >>"$work/xpxe.log" 2>&1 &
	for _ in $(seq 100); do
		[ "$(./xpxe status --json 2>/dev/null | jq -r .store.up)" = true ] && return 0
		sleep 0.1
	done
	say "xpxe did not start: $(tail -3 "$work/xpxe.log")"
	exit 1
}

capture() { # NAME: tcpdump at the client, DHCP only
	ip netns exec "$LAB-h1" tcpdump -B 65536 -ni eth0 -U -w "$work/$1.pcap" 'udp port 67' \
		>/dev/null 2>"$work/$1.tcpdump" &
	cap_pid=$!
	for _ in $(seq 50); do grep -q "listening on" "$work/$1.tcpdump" && return; sleep 0.1; done
}
capture_end() {
	sleep 0.5 # the last frames reach the file (-U)
	kill -INT "$cap_pid"
	wait "$cap_pid" 2>/dev/null
}

declare -A R # [STORE|what]
one_run() { # STORE URL RUN
	local store=$1 url=$2 run=$3 t0 t1 times acks bound req0
	[ "$store" = etcd ] && start_etcd
	start_xpxe "$url"
	# First contact: N new MACs at once, each until it is bound.
	capture first
	t0=$(date +%s.%N)
	ip netns exec "$LAB-h1" timeout 120 perfdhcp -4 -l 198.18.4.11 --scenario avalanche \
		-R "$N" 198.18.0.1 >"$work/avalanche.out" 2>&1
	t1=$(date +%s.%N)
	capture_end
	./xpxe leases --json | jq -r '.leases[].mac' >"$work/macs"
	bound=$(grep -c . "$work/macs")
	times=$(tests/integration/dhcp_acks.py --times "$work/first.pcap")
	R[$store|first|$run]="$(awk -v a="$t0" -v b="$t1" -v n="$bound" 'BEGIN { printf "%.2f %.0f", b - a, n / (b - a) }') $bound $times"
	# Returning: the bound MACs again, at a steady rate (XDP answers from the maps).
	req0=$(./xpxe status --json | jq -r '.store.requests // 0')
	capture back
	ip netns exec "$LAB-h1" timeout 60 perfdhcp -4 -l 198.18.4.11 -r "$RATE_BACK" -p "$PERIOD" \
		-M "$work/macs" 198.18.0.1 >"$work/back.out" 2>&1
	capture_end
	acks=$(awk '/REQUEST-ACK/ { f = 1 } f && /received packets/ { print $3; exit }' "$work/back.out")
	times=$(tests/integration/dhcp_acks.py --times "$work/back.pcap")
	R[$store|back|$run]="$((acks / PERIOD)) $times"
	R[$store|requests|$run]="$req0 $(($(./xpxe status --json | jq -r '.store.requests // 0') - req0))"
	# etcd first: bench_stop_servers waits for every background job of this shell.
	ip netns pids "$ETCD_NS" 2>/dev/null | xargs -r kill
	while [ -n "$(ip netns pids "$ETCD_NS" 2>/dev/null)" ]; do sleep 0.1; done
	bench_stop_servers
}

field() { sed -n "s/.*\b$1=\([0-9.]*\).*/\1/p" <<<"$2"; }

for run in $(seq "$RUNS"); do
	for store in files etcd; do
		url=files
		[ "$store" = etcd ] && url=etcd://198.18.200.11:2379
		say "run $run, store $store"
		one_run "$store" "$url" "$run"
	done
done

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
med() { # STORE PART INDEX-OR-FIELD
	local run v
	for run in $(seq "$RUNS"); do
		v=${R[$1|$2|$run]}
		case $3 in
		[0-9]) awk -v i="$3" '{ print $i }' <<<"$v" ;;
		*) field "$3" "$v" ;;
		esac
	done | median
}

mkdir -p build/bench
{
	echo "## The shared store: first contact and returning machines, files vs etcd"
	echo
	echo "$(date -u +%Y-%m-%d), $(nproc) cores (shared with other work: load average $load_before"
	echo "before the run), $(uname -r), etcd $(etcd --version | sed -n 's/etcd Version: //p') (one member,"
	echo "its own namespace, data on $(df -P "$work" | awk 'NR == 2 { print $1 }'), fsync on). One responder in full mode;"
	echo "perfdhcp as a relay. Medians of $RUNS runs (\`RUNS=$RUNS scripts/bench/store.sh\`, part of \`make bench\`)."
	echo
	echo "| store | first contact: $N new machines (s) | DORA/s | bound | p50 ms | p99 ms | store requests | returning: DORA/s at $RATE_BACK/s offered | p50 ms | p99 ms | store requests |"
	echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
	for store in files etcd; do
		echo "| $store | $(med "$store" first 1) | $(med "$store" first 2) | $(med "$store" first 3) | $(med "$store" first p50_ms) | $(med "$store" first p99_ms) | $(med "$store" requests 1) | $(med "$store" back 1) | $(med "$store" back p50_ms) | $(med "$store" back p99_ms) | $(med "$store" requests 2) |"
	done
	echo
	echo "First contact: perfdhcp's avalanche of $N MACs at once, each retried with back-off until"
	echo "bound; the time until the last is bound, $N over it, and one machine's DISCOVER-to-ACK at"
	echo "the client. With files, the daemon holds an offer in memory and writes the bindings file"
	echo "(fsync) once per batch of REQUESTs; with etcd, each new machine costs two transactions"
	echo "(the held offer, then the binding), made for a whole batch at once over kept-alive"
	echo "connections (store requests: etcd's, the liveness lease's included). Returning: the same"
	echo "machines again; XDP answers them from its maps and nothing reaches the store (its count"
	echo "moves only by the liveness keepalives), so the two rows match within the run's noise."
	echo "The avalanche's p50 is mostly perfdhcp's back-off: a DISCOVER that found the daemon's"
	echo "queue full (256 a round) is sent again a second later."
} | tee "$out"
bench_section "The shared store" "$out"
