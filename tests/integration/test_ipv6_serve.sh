#!/usr/bin/env bash
# TFTP and HTTP over IPv6 in the lab, with real clients, on ULA addresses that exist only in the
# lab's namespaces. TFTP: tftp-hpa (-6), atftp and curl fetch files of awkward sizes from the
# server's IPv6 address, with and without options (blksize, tsize, windowsize, timeout), and one
# past the 65535-block rollover; every download's sha256 equals the source's. Hostile names and
# modes get the same ERROR over IPv6 as over IPv4, and the counters move (tftp6_*, tftp_err_*,
# the XDP program's pass of the frames). HTTP: curl fetches the iPXE script over IPv6, whose
# kernel, initrd and talos.config= URLs name the server's IPv6 address in brackets; an asset
# (sha256 equal); a machine's Talos config only from the address it booted from.
LAB=ipv6srv
source "$(dirname "$0")/lib.sh"
require_root

SRV6=fd00:198:18:6::1
CLI6=fd00:198:18:6::2
OTHER6=fd00:198:18:6::3

lab_up_v6 "$OTHER6" || exit 1

# --- the files --------------------------------------------------------------------
FILES=$WORK/files
OUT=$WORK/out
mkdir -p "$FILES" "$OUT" "$WORK/talos"
declare -A SIZE=([f0]=0 [f1]=1 [f511]=511 [f512]=512 [f513]=513 [f1468x100]=146800
	[big]=$((32 * 1024 * 1024 + 1000)))
for f in "${!SIZE[@]}"; do
	head -c "${SIZE[$f]}" /dev/urandom >"$FILES/$f"
done
assets=()
for f in "${!SIZE[@]}"; do assets+=(--asset "$f=$FILES/$f"); done
head -c 300000 /dev/urandom >"$FILES/kernel"
head -c 200000 /dev/urandom >"$FILES/initrd"
printf 'machine:\n  type: worker # {{mac}}\n' >"$WORK/talos/default.yaml"
printf 'machine:\n  type: controlplane # aa ip6=[{{ip6}}]\n' >"$WORK/talos/52-54-00-aa-00-01.yaml"
printf 'machine:\n  type: worker # bb ip6=[{{ip6}}]\n' >"$WORK/talos/52-54-00-bb-00-02.yaml"

if start_daemon -i "$IF_SRV" --state-dir "$WORK/state" --tftp-max-per-ip 64 "${assets[@]}" --kernel "$FILES/kernel" \
	--initrd "$FILES/initrd" --talos-config "$WORK/talos"; then
	ok "xpxe serves $IF_SRV with $SRV6"
else
	not_ok "xpxe serves $IF_SRV" "$(tail -5 "$WORK/daemon.log")"
	exit 1
fi
udp6_bound() { in_srv ss -Hlun6 "sport = :69" | grep -q .; }
check "TFTP listens on UDP [::]:69 (IPv6)" wait_until udp6_bound

# --- TFTP: every client, every size -------------------------------------------------
rrq0=$(counter tftp6_rrq)
xsk0=$(counter tftp6_data_xsk)
tc0=$(counter tftp6_data_tc)
for f in f0 f1 f511 f512 f513 f1468x100; do
	fetched "tftp-hpa -6, no options: $f (${SIZE[$f]} bytes)" "$OUT/t.$f" "$FILES/$f" \
		in_cli tftp -6 -m binary "$SRV6" -c get "$f" "$OUT/t.$f"
	fetched "tftp-hpa [addr] (no -6): $f" "$OUT/tb.$f" "$FILES/$f" \
		in_cli tftp -m binary "[$SRV6]" -c get "$f" "$OUT/tb.$f"
	fetched "atftp over IPv6: $f" "$OUT/a.$f" "$FILES/$f" \
		in_cli atftp --get -r "$f" -l "$OUT/a.$f" "$SRV6"
	fetched "atftp blksize 1000, tsize, timeout 2: $f" "$OUT/a1000.$f" "$FILES/$f" \
		in_cli atftp --option "blksize 1000" --option "tsize 0" --option "timeout 2" \
		--get -r "$f" -l "$OUT/a1000.$f" "$SRV6"
	fetched "curl tftp://[$SRV6]/$f, blksize 1428" "$OUT/c.$f" "$FILES/$f" \
		in_cli curl -sS -g --tftp-blksize 1428 -o "$OUT/c.$f" "tftp://[$SRV6]/$f"
done
fetched "atftp windowsize 8 (RFC 7440), blksize 1428: f1468x100" "$OUT/aw.f" "$FILES/f1468x100" \
	in_cli atftp --option "blksize 1428" --option "windowsize 8" --get -r f1468x100 \
	-l "$OUT/aw.f" "$SRV6"
fetched "tftp-hpa -6 past the 65535-block rollover (32 MiB, 512-byte blocks)" "$OUT/t.big" \
	"$FILES/big" in_cli tftp -6 -m binary "$SRV6" -c get big "$OUT/t.big"
fetched "atftp windowsize 16 past the rollover" "$OUT/aw.big" "$FILES/big" \
	in_cli atftp --option "windowsize 16" --get -r big -l "$OUT/aw.big" "$SRV6"
check "tftp6_rrq counts the IPv6 RRQs ($rrq0 -> $(counter tftp6_rrq))" \
	test "$(counter tftp6_rrq)" -ge $((rrq0 + 30))
# Windows go through the daemon's AF_XDP socket; lockstep blocks come from tc_tftp.
check "tftp6_data_xsk counts the blocks of windows sent through AF_XDP ($(counter tftp6_data_xsk))" \
	test "$(counter tftp6_data_xsk)" -gt $((xsk0 + 65536))
check "tftp6_data_tc counts the lockstep blocks tc_tftp sent ($(counter tftp6_data_tc))" \
	test "$(counter tftp6_data_tc)" -gt $((tc0 + 65538))
completed30() { test "$(counter tftp6_completed)" -ge 30; }
check "tftp6_completed counts finished transfers ($(counter tftp6_completed))" wait_until completed30
# Both end in the data plane: the sweep (once a second) notices and logs them, maybe after
# completed30 held already (the other transfers count too), so the events are waited for.
check "the 32 MiB lockstep transfer's end event says path=tc" wait_until grep -Eq \
	"event=tftp_done mac=- ip=fd00:198:18:6::[23] .*detail=\"big blocks=65538 path=tc " "$WORK/daemon.log"
check "the 32 MiB windowed transfer's end event says path=af_xdp" wait_until grep -Eq \
	"event=tftp_done mac=- ip=fd00:198:18:6::[23] .*detail=\"big blocks=65538 path=af_xdp " "$WORK/daemon.log"
check "every tftp_done says seconds above 0 ($(done_lines))" every_done_timed
check "xpxe status says IPv6 lockstep blocks come from tc, windows from AF_XDP, first blocks from the daemon" \
	bash -c "'$XPXE' status | grep -qE 'IPv6: [0-9]+ RRQs; blocks: xdp [0-9]+, tc [1-9][0-9]* \(lockstep\), af_xdp [1-9][0-9]* \(windows\), daemon [1-9]'"
check "xpxe status --json: tftp.ipv6.blocks_tc = tftp6_data_tc" \
	test "$("$XPXE" status --json | jq '.interfaces[0].tftp.ipv6.blocks_tc')" = "$(counter tftp6_data_tc)"
check "xpxe status --json: tftp.ipv6.blocks = tftp6_data" \
	test "$("$XPXE" status --json | jq '.interfaces[0].tftp.ipv6.blocks')" = "$(counter tftp6_data)"
check "no IPv4 fast path sent IPv6 blocks (tftp_data_xdp $(counter tftp_data_xdp))" \
	test "$(counter tftp_data_xdp)" -eq 0
check "the XDP program passed the IPv6 TFTP frames (pass_tftp6 $(counter pass_tftp6))" \
	test "$(counter pass_tftp6)" -gt 0

# A lockstep transfer's ACKs with a wrong or no UDP checksum: dropped by tc_tftp, counted; the
# good ACK that follows gets DATA 2.
bad0=$(counter tftp6_drop_bad_csum)
got=$(in_cli python3 "$ROOT/tests/integration/tftp6_badack.py" "$SRV6" f1468x100)
check "after two bad ACKs 1 over IPv6, the good one gets DATA 2 ($got)" test "$got" = "data2 512"
bad2() { test "$(counter tftp6_drop_bad_csum)" -eq $((bad0 + 2)); }
check "tc_tftp dropped both, counted (tftp6_drop_bad_csum $bad0 -> $(counter tftp6_drop_bad_csum))" \
	wait_until bad2

# --- TFTP: refusals, as over IPv4 ---------------------------------------------------------
PROBE6=$ROOT/tests/integration/tftp6_probe.py
ask_both() { # DESCRIPTION CODE OPCODE NAME MODE [OPT VALUE]...: the same answer over v4 and v6
	local desc=$1 want=$2 got4 got6
	shift 2
	got4=$(in_cli python3 "$PROBE6" "$SRV_IP" "$@")
	got6=$(in_cli python3 "$PROBE6" "$SRV6" "$@")
	if [ "${got6%% *}" = "$want" ] && [ "$got4" = "$got6" ]; then
		ok "$desc: '$got6' over IPv6, as over IPv4"
	else
		not_ok "$desc" "IPv6: '$got6', IPv4: '$got4', wanted code $want"
	fi
}
err1=$(counter tftp_err1_not_found)
err2=$(counter tftp_err2_access)
ask_both "a name that climbs out" 2 1 "../../etc/passwd" octet
ask_both "a name that climbs out, in the middle" 2 1 "a/../../etc/passwd" octet
ask_both "a missing file" 1 1 nosuchfile octet
ask_both "an absolute path outside" 1 1 /etc/passwd octet
ask_both "a name with a control byte" 1 1 $'f1\x01' octet
ask_both "netascii" 0 1 f1 netascii
ask_both "an unknown mode" 4 1 f1 bogus
ask_both "a WRQ" 4 2 f1 octet
ask_both "an unknown opcode" 4 9 f1 octet
ask_both "a bad blksize" 8 1 f1 octet blksize 7
ask_both "windowsize 0" 8 1 f1 octet windowsize 0
ask_both "an option given twice" 8 1 f1 octet blksize 512 blksize 1024
check "tftp_err1_not_found counts the IPv6 refusals too" test "$(counter tftp_err1_not_found)" -ge $((err1 + 6))
check "tftp_err2_access counts the IPv6 refusals too" test "$(counter tftp_err2_access)" -ge $((err2 + 4))
ABUSE=$ROOT/tests/integration/tftp6_abuse.py
got=$(in_cli python3 "$ABUSE" stranger "$SRV6" f1468x100)
check "an ACK from a stranger to an IPv6 transfer's port: ERROR 5 ($got)" grep -q "^5 " <<<"$got"
repeated0=$(counter tftp_rrq_repeated)
got=$(in_cli python3 "$ABUSE" repeat "$SRV6" f1468x100)
check "a repeated RRQ over IPv6 is answered again from the same port ($got)" test "$got" = same
check "... and counted (tftp_rrq_repeated)" test "$(counter tftp_rrq_repeated)" -gt "$repeated0"
per_ip0=$(counter tftp_sessions_refused_per_ip)
got=$(in_cli python3 "$ABUSE" hold "$SRV6" f1468x100 66)
check "--tftp-max-per-ip 64 holds for one IPv6 address ($got)" \
	grep -q "^started 64 refused 2: too many transfers from your address" <<<"$got"
check "... counted (tftp_sessions_refused_per_ip)" \
	test "$(counter tftp_sessions_refused_per_ip)" -ge $((per_ip0 + 2))
check "the refusal over IPv6 is logged with the client's IPv6 address" \
	grep -qE "event=tftp_error mac=- ip=fd00:198:18:6::[23] .*ERROR 2 .*from port 69 to \[fd00" "$WORK/daemon.log"

# --- HTTP over IPv6 -------------------------------------------------------------------------
HTTP6="http://[$SRV6]:8080"
check "HTTP listens on [$SRV6]:8080" grep -qF "serving HTTP on [$SRV6]:8080" "$WORK/daemon.log"
# get6 FROM URL [CURL ARGS...]: the body from source address FROM; the status in $WORK/status.
get6() {
	local from=$1 url=$2
	shift 2
	in_cli curl -sS -g --interface "$from" -o "$WORK/body" -w '%{http_code}' "$@" "$url" \
		>"$WORK/status" 2>"$WORK/curl.err"
	cat "$WORK/body" 2>/dev/null
}
status() { cat "$WORK/status"; }
metric() { in_cli curl -sS "http://$SRV_IP:8080/metrics" | sed -n "s/^xpxe_http_requests_total{kind=\"$1\"} //p"; }

scripts0=$(metric script)
chain=$(get6 "$CLI6" "$HTTP6/boot.ipxe")
check "the chain script over IPv6 points back at [$SRV6]" \
	grep -qF "chain $HTTP6/boot.ipxe?mac=" <<<"$chain"
A=52:54:00:aa:00:01
script=$(get6 "$CLI6" "$HTTP6/boot.ipxe?mac=$A&arch=x86_64")
check "machine A's script over IPv6 (HTTP $(status))" test "$(status)" = 200
kernel_url=$(sed -n 's/^kernel \([^ ]*\) .*/\1/p' <<<"$script")
initrd_url=$(sed -n 's/^initrd --name initrd \([^ ]*\) .*/\1/p' <<<"$script")
config_url=$(grep -o 'talos.config=[^ ]*' <<<"$script" | cut -d= -f2-)
starts() { [[ $1 == "$2"* ]]; }
check "its kernel URL names [$SRV6] ($kernel_url)" starts "$kernel_url" "$HTTP6/assets/"
check "its initrd URL names [$SRV6] ($initrd_url)" starts "$initrd_url" "$HTTP6/assets/"
check "its talos.config= URL names [$SRV6] ($config_url)" starts "$config_url" "$HTTP6/talos/config?"
check "no IPv4 address in the script over IPv6" bash -c "! grep -qF '$SRV_IP' <<<'$script'"
# Another machine's (A's config must stay bound to where A booted).
D=52:54:00:dd:00:04
check "a script over IPv4 names $SRV_IP" bash -c \
	"ip netns exec '$NS_CLI' curl -sS 'http://$SRV_IP:8080/boot.ipxe?mac=$D&arch=x86_64' | grep -q '^kernel http://$SRV_IP:8080/assets/'"
check "xpxe_http_requests_total{kind=script} counts them ($scripts0 -> $(metric script))" \
	test "$(metric script)" -ge $((scripts0 + 2))
get6 "$CLI6" "$kernel_url" >/dev/null
check "the kernel over IPv6: sha256 equal (HTTP $(status))" test "$(sha "$WORK/body")" = "$(sha "$FILES/kernel")"
get6 "$CLI6" "$initrd_url" -r 1000-149999 >/dev/null
check "a range of the initrd over IPv6 (HTTP $(status))" \
	cmp -s "$WORK/body" <(tail -c +1001 "$FILES/initrd" | head -c 149000)

# Configs go to the address a machine fetched its script from, over IPv6 as over IPv4.
config_of() { # FROM MAC (IPv6 source when FROM has a colon)
	local url="$HTTP6/talos/config?mac=$2"
	[[ $1 == *:* ]] || url="http://$SRV_IP:8080/talos/config?mac=$2"
	get6 "$1" "$url"
}
seen=$("$XPXE" machines show "$A" --json | jq -r '.machine.seen_at.ip + " " + .machine.config_to')
check "xpxe machines show: A seen at $CLI6, its config goes there ($seen)" test "$seen" = "$CLI6 $CLI6"
refused0=$(metric refused)
config_of "$OTHER6" "$A" >/dev/null
check "A's config refused to another IPv6 address, $OTHER6 (HTTP $(status))" test "$(status)" = 403
config_of "$CLI_IP" "$A" >/dev/null
check "A's config refused over IPv4 (HTTP $(status)): it booted over IPv6" test "$(status)" = 403
check "the refusals are counted ($refused0 -> $(metric refused))" test "$(metric refused)" -ge $((refused0 + 2))
check "and logged with the machine's IPv6 address" \
	grep -qF "the machine is at $CLI6 (the address it fetched its script from, over IPv6)" "$WORK/daemon.log"
doc=$(config_of "$CLI6" "$A")
got() { [ "$(status)" = 200 ] && grep -q "$1" <<<"$doc"; }
check "A's config over IPv6 from $CLI6 (HTTP $(status)): its own document" got 'controlplane # aa'
check "... {{ip6}} is the address it fetched from, $CLI6" got "aa ip6=\\[$CLI6\\]"
installed() { "$XPXE" machines show "$1" --json | jq -e '.machine.installed == true' >/dev/null; }
check "A is marked installed (boot-once) after its config went out whole" wait_until installed "$A"
local_script=$(get6 "$CLI6" "$HTTP6/boot.ipxe?mac=$A&arch=x86_64")
check "A's next script over IPv6 boots its disk" grep -qiE 'exit|sanboot' <<<"$local_script"

# B boots over IPv4: its config is not served over IPv6.
B=52:54:00:bb:00:02
in_cli curl -sS "http://$SRV_IP:8080/boot.ipxe?mac=$B&arch=x86_64" >/dev/null
config_of "$CLI6" "$B" >/dev/null
check "B (booted over IPv4) gets no config over IPv6 (HTTP $(status))" test "$(status)" = 403
doc=$(config_of "$CLI_IP" "$B")
check "B's config over IPv4 (HTTP $(status))" got 'worker # bb'
check "... {{ip6}} empty: over IPv4, no IPv6 reservation" got 'bb ip6=\[\]'

# The learned IPv6 address survives a restart (STATE_DIR/addresses).
C=52:54:00:cc:00:03
get6 "$OTHER6" "$HTTP6/boot.ipxe?mac=$C&arch=x86_64" >/dev/null
kill -TERM "$DAEMON_PID"
wait_daemon
if start_daemon -i "$IF_SRV" --state-dir "$WORK/state" "${assets[@]}" --kernel "$FILES/kernel" --initrd "$FILES/initrd" \
	--talos-config "$WORK/talos" --tftp-max-sessions 8; then ok "xpxe restarted"; else not_ok "xpxe restarted"; exit 1; fi
# IPv6 transfers nobody acknowledges make way for a newcomer at the cap, as IPv4's do.
unc0=$(counter tftp_sessions_unconfirmed)
got=$(in_cli python3 "$ABUSE" crowd "$SRV6" f1468x100 8)
check "at --tftp-max-sessions 8, 8 unacknowledged IPv6 transfers make way for a newcomer ($got)" \
	test "$got" = "held 8 newcomer served"
check "... counted (tftp_sessions_unconfirmed +$(($(counter tftp_sessions_unconfirmed) - unc0)))" \
	test "$(counter tftp_sessions_unconfirmed)" -gt "$unc0"
wait_listen6() { grep -c "serving HTTP on \[$SRV6\]:8080" "$WORK/daemon.log" | grep -q 2; }
wait_until wait_listen6
config_of "$CLI6" "$C" >/dev/null
check "after a restart, C's config is still refused to another IPv6 address (HTTP $(status))" test "$(status)" = 403
doc=$(config_of "$OTHER6" "$C")
check "and served to $OTHER6, where C booted (HTTP $(status))" got 'worker # 52:54:00:cc:00:03'

# --- HTTPS over IPv6: its own listener, and talos.config= URLs point there ----------------------
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$SRV6" \
	-addext "subjectAltName=IP:$SRV6" -keyout "$WORK/server.key" -out "$WORK/server.pem" \
	>/dev/null 2>&1 || { not_ok "openssl makes a certificate"; exit 1; }
E=52:54:00:ee:00:05
cat >"$WORK/tls.yaml" <<YAML
interfaces: [$IF_SRV]
mode: proxy
state_dir: $WORK/state
http:
  tls_cert: $WORK/server.pem
  tls_key: $WORK/server.key
assets:
  vmlinuz: $FILES/kernel
  initramfs: $FILES/initrd
profiles:
  default:
    kernel: vmlinuz
    initrd: initramfs
    talos_config: $WORK/talos
machines:
  - {mac: $E, hostname: tls-e}
YAML
kill -TERM "$DAEMON_PID"
wait_daemon
if start_daemon -c "$WORK/tls.yaml"; then ok "xpxe restarted with HTTPS"; else
	not_ok "xpxe restarted with HTTPS" "$(tail -5 "$WORK/daemon.log")"; exit 1; fi
check "HTTPS listens on [$SRV6]:8443 too" grep -qF "serving HTTPS on [$SRV6]:8443" "$WORK/daemon.log"
script=$(get6 "$CLI6" "$HTTP6/boot.ipxe?mac=$E&arch=x86_64")
config_url=$(grep -o 'talos.config=[^ ]*' <<<"$script" | cut -d= -f2-)
check "over IPv6, talos.config= names https://[$SRV6]:8443 ($config_url)" \
	starts "$config_url" "https://[$SRV6]:8443/talos/config?"
doc=$(get6 "$CLI6" "https://[$SRV6]:8443/talos/config?mac=$E" --cacert "$WORK/server.pem")
check "E's config over HTTPS on IPv6, the certificate checked (HTTP $(status))" got 'worker # 52:54:00:ee:00:05'
