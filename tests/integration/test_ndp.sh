#!/usr/bin/env bash
# IPv6 Router Solicitations in the lab (bpf/ndp.h): a reserved machine's RS gets
# xpxe's empty Router Advertisement from the server's link-local address, a
# stranger's gets none, and dhcp.router_advert: off turns it off. The client is a
# raw ICMPv6 socket in a lab host (rs_probe.py); the kernel checks the RA's checksum.
# In proxy mode, with router_advert: on, the inventory's machines get it.
LAB=tndp
source "$(dirname "$0")/lib.sh"
require_root

PROBE=$ROOT/tests/integration/rs_probe.py
KNOWN=52:54:00:f6:00:01
lab up || { not_ok "lab up"; exit 1; }
lab host 1 "$KNOWN"
lab host 2 52:54:00:f6:00:02

# probe N TIMEOUT: rs_probe.py in host N; its RAs in $WORK/hN.ra
probe() { ip netns exec "$LAB-h$1" python3 "$PROBE" eth0 "$2" >"$WORK/h$1.ra" 2>&1; }

srv_ll() { in_srv ip -6 -o addr show dev "$IF_SRV" scope link | awk '{ sub("/.*", "", $4); print $4 }'; }
srv_ll_known() { [ -n "$(srv_ll)" ]; }
wait_until srv_ll_known # the kernel adds it once the link is up, a moment after
SRV_LL=$(srv_ll)
SRV_MAC=$(in_srv cat "/sys/class/net/$IF_SRV/address")
if [ -n "$SRV_LL" ]; then ok "the server's interface has a link-local address ($SRV_LL)"; else
	not_ok "the server's interface has a link-local address"; exit 1; fi

if start_daemon -i "$IF_SRV" --mode full --reserve "$KNOWN=198.18.0.60"; then
	ok "xpxe serves $IF_SRV in full mode"
else
	not_ok "xpxe serves $IF_SRV in full mode"; exit 1
fi
check "xpxe status says it answers Router Solicitations" \
	bash -c "'$XPXE' status | grep -q 'empty IPv6 router advertisements'"

sent0=$(counter ndp_ra_sent)
probe 1 2
want="ra src=$SRV_LL code=0 hlim=255 cur_hop_limit=0 flags=0 lifetime=0 reachable=0 retrans=0 slla=$SRV_MAC opts=1"
if grep -qxF "$want" "$WORK/h1.ra"; then
	ok "a reserved machine's RS gets an empty RA from $SRV_LL (lifetime 0, hop limit 255, our MAC)"
else
	not_ok "a reserved machine's RS gets an empty RA" "want: $want" "got: $(tr '\n' '|' <"$WORK/h1.ra")"
fi
check "... counted (ndp_ra_sent $sent0 -> $(counter ndp_ra_sent))" test "$(counter ndp_ra_sent)" -gt "$sent0"

ignored0=$(counter pass_ndp_rs_ignored)
if probe 2 1.5; then
	not_ok "a stranger's RS gets no RA" "$(cat "$WORK/h2.ra")"
else
	ok "a stranger's RS gets no RA"
fi
check "... it went to the kernel, counted (pass_ndp_rs_ignored $ignored0 -> $(counter pass_ndp_rs_ignored))" \
	test "$(counter pass_ndp_rs_ignored)" -gt "$ignored0"

# --- proxy mode, dhcp.router_advert: on: the inventory's machines -----------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
cat >"$WORK/xpxe.yaml" <<YAML
interfaces: [$IF_SRV]
mode: proxy
state_dir: $WORK/state
dhcp:
  router_advert: on
machines:
  - {mac: $KNOWN, hostname: known-1}
YAML
if start_daemon -c "$WORK/xpxe.yaml"; then ok "xpxe serves $IF_SRV in proxy mode, router_advert: on"; else
	not_ok "xpxe serves $IF_SRV in proxy mode, router_advert: on" "$(tail -5 "$WORK/daemon.log")"; exit 1; fi
probe 1 2
if grep -qxF "$want" "$WORK/h1.ra"; then ok "... the inventory machine's RS gets the empty RA"; else
	not_ok "... the inventory machine's RS gets the empty RA" "got: $(tr '\n' '|' <"$WORK/h1.ra")"; fi
if probe 2 1.5; then not_ok "... a stranger's RS gets none" "$(cat "$WORK/h2.ra")"; else
	ok "... a stranger's RS gets none"; fi

# --- --router-advert off, full mode -----------------------------------------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
if start_daemon -i "$IF_SRV" --mode full --reserve "$KNOWN=198.18.0.60" --router-advert off; then
	ok "xpxe serves $IF_SRV in full mode with --router-advert off"
else
	not_ok "xpxe serves $IF_SRV with --router-advert off" "$(tail -5 "$WORK/daemon.log")"; exit 1
fi
ignored0=$(counter pass_ndp_rs_ignored)
if probe 1 1.5; then
	not_ok "router_advert off: the reserved machine's RS gets no RA" "$(cat "$WORK/h1.ra")"
else
	ok "router_advert off: the reserved machine's RS gets no RA"
fi
check "... passed to the kernel, counted" test "$(counter pass_ndp_rs_ignored)" -gt "$ignored0"
check "... and xpxe status does not claim it" \
	bash -c "! '$XPXE' status | grep -q 'router advertisements'"
