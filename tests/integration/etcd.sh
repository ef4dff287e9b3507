# etcd in the lab, for the store tests (source after lib.sh): a namespace NAME-etcd with a
# bridge NAME-eb (198.18.200.0/24) where the members listen, one address each, and veths
# from the responders' namespaces into that bridge. Data folders under $WORK/etcd; every
# member is killed at cleanup (lab down empties NAME-* namespaces), even when a test fails.
# shellcheck shell=bash

ETCD_NS=$LAB-etcd
ETCD_BR=$LAB-eb
ETCD_NET=198.18.200
ETCD_SIZE=1
declare -A ETCD_PID=()

if ! command -v etcd >/dev/null || ! command -v etcdctl >/dev/null; then
	not_ok "etcd and etcdctl are installed (Debian: etcd-server etcd-client, scripts/deps.sh)"
	exit 1
fi

etcd_ip() { echo "$ETCD_NET.$((10 + $1))"; }

# etcd_net_up: the namespace and its bridge.
etcd_net_up() {
	ip netns add "$ETCD_NS" || return 1
	at_exit "ip netns pids $ETCD_NS | xargs -r kill -9; ip netns del $ETCD_NS"
	ip -n "$ETCD_NS" link set lo up
	ip -n "$ETCD_NS" link add "$ETCD_BR" type bridge stp_state 0 forward_delay 0
	ip -n "$ETCD_NS" link set "$ETCD_BR" up
}

# etcd_attach NS IP: a veth from namespace NS (its end "etcd0", address IP/24) into the bridge.
etcd_attach() {
	local ns=$1 addr=$2 port
	port=$LAB-e${addr##*.}
	ip link add etcd0 netns "$ns" type veth peer name "$port" netns "$ETCD_NS" || return 1
	ip -n "$ETCD_NS" link set "$port" master "$ETCD_BR"
	ip -n "$ETCD_NS" link set "$port" up
	ip -n "$ns" addr add "$addr/24" dev etcd0
	ip -n "$ns" link set etcd0 up
}

# etcd_cluster N: the members' addresses on the bridge, the cluster's size.
etcd_cluster() {
	local i
	ETCD_SIZE=$1
	for i in $(seq "$ETCD_SIZE"); do
		ip -n "$ETCD_NS" addr add "$(etcd_ip "$i")/24" dev "$ETCD_BR"
	done
}

etcd_initial_cluster() {
	local i out=
	for i in $(seq "$ETCD_SIZE"); do out+="${out:+,}m$i=http://$(etcd_ip "$i"):2380"; done
	echo "$out"
}

# etcd_start I: member I, in the background, with its data folder (a restart keeps it).
etcd_start() {
	local i=$1 ip
	ip=$(etcd_ip "$i")
	mkdir -p "$WORK/etcd"
	ip netns exec "$ETCD_NS" etcd --name "m$i" --data-dir "$WORK/etcd/m$i" \
		--listen-client-urls "http://$ip:2379" --advertise-client-urls "http://$ip:2379" \
		--listen-peer-urls "http://$ip:2380" --initial-advertise-peer-urls "http://$ip:2380" \
		--initial-cluster "$(etcd_initial_cluster)" --initial-cluster-state new \
		--initial-cluster-token "xpxe-$LAB" >>"$WORK/etcd/m$i.log" 2>&1 &
	ETCD_PID[$i]=$!
}

# etcd_kill I [SIGNAL]: member I goes (SIGKILL by default).
etcd_kill() {
	local pid=${ETCD_PID[$1]:-}
	[ -n "$pid" ] || return 0
	kill "-${2:-KILL}" "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	ETCD_PID[$1]=
}

# etcdctl against the cluster, from its namespace.
ectl() {
	local eps= i
	for i in $(seq "$ETCD_SIZE"); do eps+="${eps:+,}http://$(etcd_ip "$i"):2379"; done
	ETCDCTL_API=3 ip netns exec "$ETCD_NS" etcdctl --endpoints "$eps" --dial-timeout 2s \
		--command-timeout 5s "$@"
}

# etcd_wait_healthy: every member started answers and the cluster has a leader.
etcd_wait_healthy() {
	local _
	for _ in $(seq 100); do
		ectl endpoint health >/dev/null 2>&1 && ectl put /xpxe-probe ok >/dev/null 2>&1 &&
			ectl del /xpxe-probe >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# The --store URL of the cluster.
etcd_url() {
	local out= i
	for i in $(seq "$ETCD_SIZE"); do out+="${out:+,}$(etcd_ip "$i"):2379"; done
	echo "etcd://$out"
}

# wait_for SECONDS 'CONDITION': until the shell text CONDITION succeeds (evaluated anew each
# time: quote it, so that $(...) in it is not expanded once before), at most SECONDS.
wait_for() {
	local limit=$1 t0
	shift
	t0=$(date +%s)
	until eval "$*" >/dev/null 2>&1; do
		[ $(($(date +%s) - t0)) -ge "$limit" ] && return 1
		sleep 0.1
	done
}

# second_responder NS IFACE PEER IP/PREFIX: another server namespace NS on the lab's segment:
# its veth IFACE (address IP/PREFIX) and the peer PEER on the client bridge (with XDP_PASS,
# tx offload off, as lab.sh does for the first).
second_responder() {
	local ns=$1 dev=$2 peer=$3 addr=$4
	ip netns add "$ns" || return 1
	at_exit "ip netns pids $ns | xargs -r kill -9; ip netns del $ns"
	ip -n "$ns" link set lo up
	ip link add "$dev" netns "$ns" type veth peer name "$peer" netns "$NS_CLI" || return 1
	ip netns exec "$ns" ethtool -K "$dev" tx off >/dev/null
	in_cli ethtool -K "$peer" tx off >/dev/null
	ip -n "$ns" addr add "$addr" dev "$dev"
	ip -n "$ns" link set "$dev" up
	in_cli ip link set "$peer" master "$IF_BR"
	in_cli ip link set "$peer" up
	in_cli ip link set dev "$peer" xdpdrv obj "$BUILD/xdp_pass.bpf.o" sec xdp
	at_exit "rm -rf /sys/fs/bpf/xpxe/$dev /run/xpxe/lock/$dev"
}

# start_responder NS SOCKET LOG ARGS...: another `xpxe serve` (its pid in RESPONDER_PID), its
# control socket SOCKET; waits until it answers there.
start_responder() {
	local ns=$1 sock=$2 log=$3 _
	shift 3
	nsenter --net="/run/netns/$ns" "$XPXE" --socket "$sock" serve "$@" >>"$log" 2>&1 &
	RESPONDER_PID=$!
	at_exit "kill -9 $RESPONDER_PID"
	for _ in $(seq 100); do
		[ -S "$sock" ] && "$XPXE" --socket "$sock" status >/dev/null 2>&1 && return 0
		kill -0 "$RESPONDER_PID" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}
