#!/usr/bin/env bash
# HTTPS (http.tls_cert, tls_key): configs fetched over HTTPS by a client that checks the
# certificate against the test's CA (curl --cacert), refused by one that trusts another CA;
# http.config_over_http: refuse turns configs off on plain HTTP while assets stay there;
# the iPXE script's talos.config= points at HTTPS; `xpxe reload` swaps the certificate for
# new connections, and a reload with a key that does not match is refused, the old one kept.
LAB=tls
source "$(dirname "$0")/lib.sh"
require_root

lab up >"$WORK/lab.log" 2>&1 || { not_ok "lab up" "$(tail -3 "$WORK/lab.log")"; exit 1; }

# ca NAME: a CA; cert NAME CA: a certificate for the server's address signed by CA.
ca() {
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=$1" \
		-keyout "$WORK/$1.key" -out "$WORK/$1.pem" >/dev/null 2>&1
}
cert() {
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$SRV_IP" \
		-keyout "$WORK/$1.key" -out "$WORK/$1.csr" >/dev/null 2>&1 &&
		openssl x509 -req -in "$WORK/$1.csr" -CA "$WORK/$2.pem" -CAkey "$WORK/$2.key" \
			-CAcreateserial -days 2 -extfile <(echo "subjectAltName=IP:$SRV_IP") \
			-out "$WORK/$1.pem" >/dev/null 2>&1
}
ca ca1 && ca ca2 && cert srv1 ca1 && cert srv2 ca2 ||
	{ not_ok "openssl makes the test's CAs and certificates"; exit 1; }
mkdir -p "$WORK/talos" "$WORK/state"
printf 'version: v1alpha1\nmachine:\n  token: secret-of-{{hostname}}\n' >"$WORK/talos/default.yaml"
head -c 100000 /dev/urandom >"$WORK/kernel"
cp "$WORK/kernel" "$WORK/initrd"
cp "$WORK/srv1.pem" "$WORK/server.pem"
cp "$WORK/srv1.key" "$WORK/server.key"
cat >"$WORK/xpxe.yaml" <<YAML
interfaces: [$IF_SRV]
mode: full
dhcp:
  pool: 198.18.0.100-198.18.0.110
  leases: $WORK/leases
state_dir: $WORK/state
http:
  tls_cert: $WORK/server.pem
  tls_key: $WORK/server.key
  config_over_http: refuse
assets:
  vmlinuz: $WORK/kernel
  initramfs: $WORK/initrd
profiles:
  default:
    kernel: vmlinuz
    initrd: initramfs
    talos_config: $WORK/talos
machines:
  - {mac: 52:54:00:7c:00:01, hostname: tls-1, ip: 198.18.0.2}
YAML
if start_daemon -c "$WORK/xpxe.yaml"; then ok "xpxe serves HTTP and HTTPS"; else
	not_ok "xpxe serves HTTP and HTTPS"; exit 1; fi
check "... and says where HTTPS listens, with the certificate's fingerprint" \
	grep -q "http: serving HTTPS on https://$SRV_IP:8443 ($WORK/server.pem, certificate SHA256 " "$WORK/daemon.log"
check "xpxe status names both listeners, and that configs go over HTTPS only" \
	bash -c "'$XPXE' status | grep -qF 'serving http://$SRV_IP:8080 and https://$SRV_IP:8443 (configs over HTTPS only)'"

in_cli curl -s -m 10 -o "$WORK/script" "http://$SRV_IP:8080/boot.ipxe?mac=52-54-00-7c-00-01"
check "the iPXE script's talos.config= points at HTTPS" \
	grep -qF "talos.config=https://$SRV_IP:8443/talos/config?mac=\${mac}" "$WORK/script"
# (before the config is fetched: from then on, boot-once gives the local-disk script)

# The client namespace holds 198.18.0.2: the reserved address of tls-1.
URL="https://$SRV_IP:8443/talos/config?mac=52:54:00:7c:00:01"
want=$(printf 'version: v1alpha1\nmachine:\n  token: secret-of-tls-1\n' | sha256sum | cut -d' ' -f1)
in_cli curl -sS -m 10 --cacert "$WORK/ca1.pem" -o "$WORK/config" "$URL" 2>"$WORK/curl1.log"
check "a config over HTTPS, the certificate checked against the CA (curl --cacert)" \
	test "$(sha "$WORK/config" 2>/dev/null)" = "$want"
in_cli curl -sS -m 10 --cacert "$WORK/ca2.pem" -o /dev/null "$URL" 2>"$WORK/curl2.log"
rc=$?
check "a client that trusts another CA refuses the server (curl exit $rc: $(head -c 120 "$WORK/curl2.log"))" \
	test "$rc" = 60
code=$(in_cli curl -s -m 10 -o "$WORK/plain" -w '%{http_code}' "http://$SRV_IP:8080/talos/config?mac=52:54:00:7c:00:01")
check "http.config_over_http: refuse: the same config over plain HTTP is refused ($code)" \
	bash -c "[ '$code' = 403 ] && grep -q 'served over HTTPS only' '$WORK/plain'"
check "... counted" bash -c "in_cli() { ip netns exec '$NS_CLI' \"\$@\"; }; in_cli curl -s http://$SRV_IP:8080/metrics | grep -q 'kind=\"refused_plain_http\"} 1'"
in_cli curl -s -m 10 -o "$WORK/k" "http://$SRV_IP:8080/assets/vmlinuz"
check "... while assets stay on plain HTTP (for firmware without TLS)" \
	test "$(sha "$WORK/k" 2>/dev/null)" = "$(sha "$WORK/kernel")"

# Reload: a key that is not the certificate's is refused, the running certificate kept.
cp "$WORK/srv2.key" "$WORK/server.key"
out=$("$XPXE" reload 2>&1)
check "a reload with a key that does not match the certificate is refused ($out)" \
	bash -c "! '$XPXE' reload >/dev/null 2>&1 && grep -q 'is not the key of the certificate' <<<'$out'"
in_cli curl -sS -m 10 --cacert "$WORK/ca1.pem" -o "$WORK/config2" "$URL" 2>/dev/null
check "... and HTTPS still serves the first certificate" \
	test "$(sha "$WORK/config2" 2>/dev/null)" = "$want"
# A renewed certificate (another CA here, so the client can tell them apart).
cp "$WORK/srv2.pem" "$WORK/server.pem"
check "a reload with the new certificate and its key succeeds" "$XPXE" reload
in_cli curl -sS -m 10 --cacert "$WORK/ca2.pem" -o "$WORK/config3" "$URL" 2>"$WORK/curl3.log"
check "... new connections get the new certificate" \
	test "$(sha "$WORK/config3" 2>/dev/null)" = "$want"
in_cli curl -sS -m 10 --cacert "$WORK/ca1.pem" -o /dev/null "$URL" 2>/dev/null
check "... a client of the old CA refuses it" test "$?" = 60

# Configs the daemon refuses at start: half a pair, or config_over_http: refuse without TLS.
cat >"$WORK/bad.yaml" <<YAML
interfaces: [$IF_SRV]
http:
  tls_cert: $WORK/server.pem
YAML
out=$("$XPXE" --socket "$WORK/other.sock" serve -c "$WORK/bad.yaml" 2>&1)
check "a config with tls_cert and no tls_key is refused, saying why" \
	grep -q "HTTPS needs both tls_cert and tls_key" <<<"$out"
# A pair that does not match is refused at start, before any interface is touched (the
# checks serve runs first: the daemon above keeps the interface, so a refusal that came
# from the attach would name the interface instead).
cat >"$WORK/bad2.yaml" <<YAML
interfaces: [$IF_SRV]
http:
  tls_cert: $WORK/srv1.pem
  tls_key: $WORK/srv2.key
YAML
out=$("$XPXE" --socket "$WORK/other.sock" serve -c "$WORK/bad2.yaml" 2>&1)
rc=$?
check "a certificate with another's key is refused at start ($rc), saying why" \
	bash -c "[ $rc -eq 1 ] && grep -q 'tls_key: .*is not the key of the certificate' <<<'$out' &&
		! grep -q 'already served' <<<'$out'"
out=$(nsenter --net="/run/netns/$NS_SRV" "$XPXE" check -c "$WORK/xpxe.yaml" 2>&1)
check "xpxe check names where HTTPS would listen" \
	grep -q "https *$SRV_IP:8443 ($WORK/server.pem)" <<<"$out"
