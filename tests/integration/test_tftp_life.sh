#!/usr/bin/env bash
# The life of TFTP transfers in the lab: a lost DATA block recovered by the
# client's retry, a stranger on a transfer's port (ERROR 5), a new RRQ from a
# running transfer's port (another file, or the same after a stall: it replaces
# the transfer; a copy while it runs does not), an asset replaced
# while a transfer of the old content runs, a silent client expired, a daemon
# killed and restarted mid-transfer (the data plane carries on), a 100 MB
# asset, and what serve refuses. Each step checks the sha256 of what arrived.
LAB=tftp2
source "$(dirname "$0")/lib.sh"
require_root

PROBE=$ROOT/tests/integration/tftp_probe.pl
probe() { in_cli perl "$PROBE" "$SRV_IP" "$@"; }
hex() { printf "$@" | od -An -v -tx1 | tr -d ' \n'; }
pins=/sys/fs/bpf/xpxe/$IF_SRV

lab up || { not_ok "lab up"; exit 1; }
ok "lab up"

FILES=$WORK/files
OUT=$WORK/out
mkdir -p "$FILES" "$OUT"
head -c 300000 /dev/urandom >"$FILES/f300k"
head -c 1000000 /dev/urandom >"$FILES/f1m"
head -c 1000000 /dev/urandom >"$FILES/f1m.new"
head -c $((100 * 1000 * 1000)) /dev/urandom >"$FILES/f100m"
cp "$FILES/f1m" "$FILES/f1m.old"
ASSETS=(--no-default-assets --asset "f300k=$FILES/f300k" --asset "f1m=$FILES/f1m"
	--asset "f100m=$FILES/f100m")

# --- what serve refuses -------------------------------------------------------------
out=$(timeout 120 nsenter --net="/run/netns/$NS_SRV" "$XPXE" serve -i "$IF_SRV" --asset "x=$FILES/nosuch" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "asset x: cannot read" <<<"$out"; then
	ok "an asset that cannot be read is refused (exit 1)"
else
	not_ok "an asset that cannot be read is refused" "exit $rc: $out"
fi
out=$(timeout 120 nsenter --net="/run/netns/$NS_SRV" "$XPXE" serve -i "$IF_SRV" --asset "../x=$FILES/f1m" 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "asset name '../x' is not valid" <<<"$out"; then
	ok "an asset name with '..' is refused (exit 1)"
else
	not_ok "an asset name with '..' is refused" "exit $rc: $out"
fi
check "... and the refusals left no program and no tc filter behind" \
	bash -c "[ -z \"\$(ip netns exec $NS_SRV ip -d link show dev $IF_SRV | grep prog/xdp)\" ] &&
		[ -z \"\$(ip netns exec $NS_SRV tc filter show dev $IF_SRV ingress)\" ]"
ip netns exec "$NS_SRV" perl -MIO::Socket::INET -e \
	'my $s = IO::Socket::INET->new(LocalPort => 69, Proto => "udp") or die; sleep 30' &
squatter=$!
at_exit "kill $squatter"
squatting() { udp_bound "$NS_SRV" 69 || ! kill -0 $squatter 2>/dev/null; }
wait_until squatting
out=$(timeout 120 nsenter --net="/run/netns/$NS_SRV" "$XPXE" serve -i "$IF_SRV" --no-default-assets 2>&1)
rc=$?
if [ $rc -eq 1 ] && grep -q "cannot bind UDP port 69 for TFTP: Address already in use.*another TFTP server" <<<"$out"; then
	ok "port 69 taken by another server: refused, and said so"
else
	not_ok "port 69 taken by another server: refused" "exit $rc: $out"
fi
kill "$squatter"
wait "$squatter" 2>/dev/null

# --- a 100 MB asset -------------------------------------------------------------------
start_daemon -i "$IF_SRV" "${ASSETS[@]}" || { not_ok "serve starts"; exit 1; }
ok "serve starts with a 100 MB asset"
line=$(grep "asset f100m:" "$WORK/daemon.log")
check "its load time is logged ($(sed 's/.*loaded in/loaded in/' <<<"$line"))" grep -q "loaded in [0-9.]* ms" <<<"$line"
check "xpxe assets: its sha256 is the file's" \
	jq -e --arg s "$(sha "$FILES/f100m")" '.assets[] | select(.name == "f100m") | .sha256 == $s' \
	<<<"$("$XPXE" assets --json)"

# --- a lost DATA block --------------------------------------------------------------
in_cli tc qdisc add dev "$IF_CLI" clsact
drop_once() {
	in_cli tc filter del dev "$IF_CLI" ingress 2>/dev/null
	in_cli tc filter add dev "$IF_CLI" ingress bpf da obj "$BUILD/lab_drop.bpf.o" sec tc
}
for client in atftp tftp-hpa; do
	drop_once || not_ok "the drop filter loads on $IF_CLI"
	re0=$(counter tftp_retransmits)
	rm -f "$OUT/drop"
	if [ $client = atftp ]; then
		in_cli atftp --tftp-timeout 1 --get -r f300k -l "$OUT/drop" "$SRV_IP" >/dev/null 2>&1
	else
		printf 'binary\nrexmt 1\nget f300k %s\n' "$OUT/drop" | in_cli tftp "$SRV_IP" >/dev/null 2>&1
	fi
	re1=$(counter tftp_retransmits)
	if [ -f "$OUT/drop" ] && [ "$(sha "$OUT/drop")" = "$(sha "$FILES/f300k")" ] && [ "$re1" -gt "$re0" ]; then
		ok "$client: DATA 5 dropped once on the way; the retry got it again ($re0 -> $re1 retransmits)"
	else
		not_ok "$client: a dropped DATA recovers" "retransmits $re0 -> $re1, file: $(ls -l "$OUT/drop" 2>&1)"
	fi
done
in_cli tc filter del dev "$IF_CLI" ingress

# --- a stranger on a transfer's port ---------------------------------------------------
# The transfer is held open by its client (a block every 0.5 s) while the stranger tries it.
probe rrq=f300k,blksize=512 blocks=2 hold="$WORK/patient.go" rest save="$OUT/patient" \
	>"$WORK/patient.out" 2>&1 &
patient=$!
wait_until said "$WORK/patient.out" '^holding' "$patient"
port=$(awk '/^OACK/ { print $2 }' "$WORK/patient.out")
out=$(probe send="$port:$(hex '\0\4\0\3')" recv)
touch "$WORK/patient.go"
if [[ $out == "$port 00050005"* ]]; then
	ok "an ACK from another port to a transfer's port gets ERROR 5"
else
	not_ok "an ACK from a stranger gets ERROR 5" "port '$port', got: $out"
fi
if wait "$patient" && [ "$(sha "$OUT/patient")" = "$(sha "$FILES/f300k")" ]; then
	ok "... and the transfer it aimed at completes undisturbed"
else
	not_ok "... and the transfer completes undisturbed" "$(cat "$WORK/patient.out")"
fi

# --- an RRQ again from the same port ----------------------------------------------------
rep0=$(counter tftp_rrq_repeated)
rrq=$(hex '\0\1f300k\0octet\0blksize\0001468\0')
out=$(probe send=69:"$rrq" recv send=69:"$rrq" recv)
first=$(head -1 <<<"$out")
second=$(tail -1 <<<"$out")
if [ "$first" = "$second" ] && [[ $first == *" 0006"* ]] && [ "$(counter tftp_rrq_repeated)" -gt "$rep0" ]; then
	ok "an RRQ repeated before the OACK is acknowledged gets the same OACK from the same port"
else
	not_ok "a repeated RRQ gets the same OACK" "$out"
fi
out=$(probe rrq=f300k,blksize=1468 rest rrq=f300k,blksize=1468 rest save="$OUT/twice")
ports=$(awk '/^OACK/ { print $2 }' <<<"$out" | sort -u | wc -l)
if [ "$ports" -eq 2 ] && [ "$(sha "$OUT/twice")" = "$(sha "$FILES/f300k")" ]; then
	ok "a new RRQ from the port of a finished transfer starts a new one"
else
	not_ok "a new RRQ from the port of a finished transfer starts a new one" "$out"
fi

# --- a new RRQ from the port of a running transfer ----------------------------------------
# Another file: the client started over from that port (a firmware that rebooted) and waits
# for nothing more of the old transfer. Answered at once, from a new port; the old ended.
rp0=$(counter tftp_sessions_replaced)
rep0=$(counter tftp_rrq_repeated)
out=$(probe rrq=f1m,blksize=512 blocks=5 drain rrq=f300k,blksize=1468 rest save="$OUT/other" 2>&1)
ports=$(awk '/^OACK/ { print $2 }' <<<"$out" | sort -u | wc -l)
if [ "$ports" -eq 2 ] && [ "$(sha "$OUT/other" 2>/dev/null)" = "$(sha "$FILES/f300k")" ] &&
	[ "$(counter tftp_sessions_replaced)" = $((rp0 + 1)) ]; then
	ok "an RRQ for another file from the port of a running transfer replaces it at once (tftp_sessions_replaced)"
else
	not_ok "an RRQ for another file from a running transfer's port replaces it" \
		"replaced $rp0 -> $(counter tftp_sessions_replaced): $out"
fi
# The same file again, as a firmware that rebooted asks: the transfer had stalled (no ACK for
# a while). Its first RRQ comes within the second after the last block went out and passes for
# a late copy; its retry 1.5 s later (firmware retries) replaces the transfer.
rp0=$(counter tftp_sessions_replaced)
out=$(probe rrq=f1m,blksize=512 blocks=5 drain retry=1500 rrq=f1m,blksize=512 rest \
	save="$OUT/again" 2>&1)
ports=$(awk '/^OACK/ { print $2 }' <<<"$out" | sort -u | wc -l)
if [ "$ports" -eq 2 ] && grep -q '^RRQ sent 2 times' <<<"$out" &&
	[ "$(sha "$OUT/again" 2>/dev/null)" = "$(sha "$FILES/f1m")" ] &&
	[ "$(counter tftp_sessions_replaced)" = $((rp0 + 1)) ]; then
	ok "the same RRQ again once the transfer stalled (a reboot reusing the port) starts it over"
else
	not_ok "the same RRQ once the transfer stalled starts it over" \
		"replaced $rp0 -> $(counter tftp_sessions_replaced): $out"
fi
# A copy of the RRQ while the transfer runs (a late duplicate): ignored, the transfer goes on
# from where it is (the next block, not a new OACK from a new port).
rp0=$(counter tftp_sessions_replaced)
rep0=$(counter tftp_rrq_repeated)
out=$(probe rrq=f1m,blksize=512 blocks=5 send=69:"$(hex '\0\1f1m\0octet\0blksize\000512\0')" \
	rest save="$OUT/copy" 2>&1)
if [ "$(sha "$OUT/copy" 2>/dev/null)" = "$(sha "$FILES/f1m")" ] &&
	[ "$(awk '/^OACK/' <<<"$out" | wc -l)" = 1 ] &&
	[ "$(counter tftp_sessions_replaced)" = "$rp0" ] && [ "$(counter tftp_rrq_repeated)" -gt "$rep0" ]; then
	ok "a copy of the RRQ while its transfer progresses changes nothing (tftp_rrq_repeated)"
else
	not_ok "a copy of the RRQ while its transfer progresses changes nothing" \
		"replaced $rp0 -> $(counter tftp_sessions_replaced): $out"
fi
# A size probe (OVMF: RRQ with tsize, the OACK, ERROR 8 to end it), then the download from
# the same port: the probe had ended, nothing is replaced.
rp0=$(counter tftp_sessions_replaced)
ab0=$(counter tftp_sessions_aborted)
out=$(probe send=69:"$(hex '\0\1f300k\0octet\0tsize\0000\0blksize\0001468\0')" recv \
	send=last:"$(hex '\0\5\0\10size probe\0')" rrq=f300k,blksize=1468 rest save="$OUT/probed" 2>&1)
if [ "$(sha "$OUT/probed" 2>/dev/null)" = "$(sha "$FILES/f300k")" ] &&
	[ "$(counter tftp_sessions_aborted)" = $((ab0 + 1)) ] &&
	[ "$(counter tftp_sessions_replaced)" = "$rp0" ]; then
	ok "after a size probe from the same port (aborted), the download starts; nothing counted as replaced"
else
	not_ok "after a size probe from the same port, the download starts" \
		"replaced $rp0 -> $(counter tftp_sessions_replaced), aborted $ab0 -> $(counter tftp_sessions_aborted): $out"
fi
# Ended transfers are kept 2 s (late ACKs); the next step counts the transfers of f1m.
no_transfers() { "$XPXE" status --json | jq -e '.interfaces[0].tftp.transfers == 0' >/dev/null; }
wait_until no_transfers

# --- an asset replaced while a transfer of it runs -------------------------------------
probe rrq=f1m,blksize=512 blocks=10 hold="$WORK/old.go" rest save="$OUT/old" >"$WORK/old.out" 2>&1 &
slow=$!
wait_until said "$WORK/old.out" '^holding' "$slow" # running until the new content is in place
cp "$FILES/f1m.new" "$FILES/f1m"
out=$("$XPXE" assets --reload)
check "xpxe assets --reload loads the changed file again" grep -q "reloaded 1 changed asset" <<<"$out"
listing=$("$XPXE" assets --json)
check "... the old content stays, for the transfer still reading it" \
	jq -e '[.assets[] | select(.name == "f1m")] | length == 2 and
		(map(select(.current == false))[0].transfers == 1)' <<<"$listing"
in_cli curl -sS --tftp-blksize 1468 -o "$OUT/new" "tftp://$SRV_IP/f1m"
check "a new transfer gets the new content" test "$(sha "$OUT/new")" = "$(sha "$FILES/f1m.new")"
touch "$WORK/old.go"
if wait "$slow" && [ "$(sha "$OUT/old")" = "$(sha "$FILES/f1m.old")" ]; then
	ok "the transfer that started before the reload finishes with the old content"
else
	not_ok "the running transfer finishes with the old content" "$(cat "$WORK/old.out")"
fi
gone() { "$XPXE" assets --json | jq -e '[.assets[] | select(.name == "f1m")] | length == 1' >/dev/null; }
wait_until gone
check "... and then the old content is freed" gone
check "... which the log says" grep -q "asset f1m: the last transfer of the replaced content ended" "$WORK/daemon.log"

# --- SIGKILL mid-transfer: the data plane goes on --------------------------------------------
# Held open (a block every 0.5 s, answered by tc alone once the daemon is gone) until the
# daemon was killed.
probe rrq=f1m,blksize=512 blocks=100 hold="$WORK/survivor.go" rest save="$OUT/survivor" \
	>"$WORK/survivor.out" 2>&1 &
survivor=$!
wait_until said "$WORK/survivor.out" '^holding' "$survivor"
kill -KILL "$DAEMON_PID"
wait_daemon
touch "$WORK/survivor.go"
if wait "$survivor" && [ "$(sha "$OUT/survivor")" = "$(sha "$FILES/f1m.new")" ]; then
	ok "a transfer completes after its daemon was killed (XDP and tc still serve it)"
else
	not_ok "a transfer completes after SIGKILL" "$(cat "$WORK/survivor.out")"
fi
start_daemon -i "$IF_SRV" "${ASSETS[@]}" || not_ok "serve starts over a killed daemon's data plane"
probe rrq=f1m,blksize=1468 rest save="$OUT/again" >/dev/null
check "the new daemon answers RRQs again" test "$(sha "$OUT/again")" = "$(sha "$FILES/f1m.new")"

# Held open until the new daemon has taken it over; then a copy of its RRQ, right after a
# block (a late duplicate): the new daemon knows no RRQ bytes of it, yet must take the copy
# for one (the same file and options), not for a new request that replaces the transfer.
probe rrq=f1m,blksize=512 blocks=50 hold="$WORK/adopted2.go" blocks=1 \
	send=69:"$(hex '\0\1f1m\0octet\0blksize\000512\0')" rest save="$OUT/adopted2" \
	>"$WORK/adopted2.out" 2>&1 &
adoptee=$!
wait_until said "$WORK/adopted2.out" '^holding' "$adoptee"
kill -KILL "$DAEMON_PID"
wait_daemon
start_daemon -i "$IF_SRV" "${ASSETS[@]}" || not_ok "serve starts over a killed daemon's data plane"
check "the restarted daemon takes over the transfers still running" \
	grep -Eq "took over [1-9][0-9]* TFTP transfer" "$WORK/daemon.log"
rp0=$(counter tftp_sessions_replaced)
rep0=$(counter tftp_rrq_repeated)
touch "$WORK/adopted2.go"
if wait "$adoptee" && [ "$(sha "$OUT/adopted2")" = "$(sha "$FILES/f1m.new")" ]; then
	ok "... the one in flight completes with the right content"
else
	not_ok "... the one in flight completes" "$(cat "$WORK/adopted2.out")"
fi
rp1=$(counter tftp_sessions_replaced)
rep1=$(counter tftp_rrq_repeated)
oacks=$(grep -c '^OACK' "$WORK/adopted2.out")
check "... and the copy of its RRQ changed nothing (replaced $rp0 -> $rp1, repeated $rep0 -> $rep1, $oacks OACK)" \
	test "$rp1" = "$rp0" -a "$rep1" -gt "$rep0" -a "$oacks" = 1
seen() { grep -q "event=tftp_done .*(slot [0-9]*, from a previous daemon)" "$WORK/daemon.log"; }
wait_until seen
check "... and the new daemon saw it end (it tracks what it took over)" seen
freed() { grep -q "the last transfer a previous daemon started from slot [0-9]* ended; freed it" "$WORK/daemon.log"; }
wait_until freed
check "... and the new daemon frees the old asset slot it read from" freed

# --- a silent client expires --------------------------------------------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
start_daemon -i "$IF_SRV" "${ASSETS[@]}" --tftp-idle-timeout 2 || not_ok "serve --tftp-idle-timeout 2"
exp0=$(counter tftp_sessions_expired)
# The client keeps the transfer going (a block every 0.5 s) until its session was seen in the
# map, then goes silent: the 2 s count from its last ACK, not from a guess.
probe rrq=f1m,blksize=512 blocks=3 hold="$WORK/silent.go" >"$WORK/silent.out" 2>&1 &
silent=$!
wait_until said "$WORK/silent.out" '^holding' "$silent"
sessions() { bpftool -j map dump pinned "$pins/tftp_sessions" | jq '[.[] | select(.formatted.value.key.client_ip != 0)] | length'; }
check "the silent client's session is in the map" test "$(sessions)" -eq 1
touch "$WORK/silent.go"
wait "$silent"
last=$(awk '/^held/ { print $2 }' "$WORK/silent.out")
expired() { [ "$(counter tftp_sessions_expired)" -gt "$exp0" ]; }
wait_until expired
check "after 2 s without an ACK the transfer expires (tftp_sessions_expired)" expired
check "... its session is gone from the map" test "$(sessions)" -eq 0
# The last DATA went out after the client's last ACK, of block $last.
check "... and the log says why" grep -q "event=tftp_expired .*no ACK for 2 s after block $((last + 1)) of 1954" "$WORK/daemon.log"

# --- SIGTERM and detach leave nothing ----------------------------------------------------------
kill -TERM "$DAEMON_PID"
wait_daemon
check "SIGTERM leaves no tc filter on $IF_SRV" \
	test -z "$(ip netns exec "$NS_SRV" tc filter show dev "$IF_SRV" ingress)"
start_daemon -i "$IF_SRV" "${ASSETS[@]}" || not_ok "serve starts again"
kill -KILL "$DAEMON_PID"
wait_daemon
check "after SIGKILL the tc program stays" \
	bash -c "ip netns exec $NS_SRV tc filter show dev $IF_SRV ingress | grep -q tc_tftp"
check "xpxe detach with no daemon removes the XDP program, the tc filter and the pins" \
	bash -c "nsenter --net=/run/netns/$NS_SRV '$XPXE' detach -i $IF_SRV >/dev/null &&
		[ -z \"\$(ip netns exec $NS_SRV tc filter show dev $IF_SRV ingress)\" ] &&
		[ -z \"\$(ip netns exec $NS_SRV ip -d link show dev $IF_SRV | grep prog/xdp)\" ] &&
		[ ! -e $pins ]"
