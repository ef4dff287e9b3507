#!/usr/bin/env python3
# Hostile clients for tests/integration/test_abuse.sh (lab only: every address
# given here is a lab address in 198.18.0.0/15).
#
#   abuse_clients.py rrq SERVER NAME SOURCES PER_SOURCE [GATE]
#       From each source address in turn (comma-separated), PER_SOURCE sockets on
#       their own ports each send one read request for NAME, at most 45 of them
#       unanswered at a time (a socket buffer of Linux's default size takes them,
#       however slow the server). Every request's first answer is awaited (120 s
#       bound a hang). With GATE (a path): once the first source's requests are
#       all answered, it creates GATE.waiting and sends no more until GATE exists,
#       so a test can look at the server in the middle of the flood. The first answer
#       of each transfer the server grants is acknowledged at once (as every client
#       does: the server holds a transfer whose first answer is never acknowledged
#       only until it needs the room), the next blocks slowly (one block each every
#       0.5 s) until the flood ends, then never again: none expires while the flood
#       is still counted, all go silent after it. Prints "sent N data D busy B mine M
#       other O": the first answers (DATA/OACK, ERROR 0 "busy", ERROR 0 "from your
#       address", anything else).
#   abuse_clients.py forge SERVER NAME FIRST_IP COUNT [OPTION=VALUE...]
#       COUNT read requests for NAME (with the TFTP options given) from COUNT forged
#       source addresses, FIRST_IP and the ones after it, each from port 20000 + its
#       index, sent through a raw socket: their answers go to machines that never
#       asked (none is there), as a forging neighbour's would. Prints "forged N".
#   abuse_clients.py request SERVER MAC IP
#       One DHCPREQUEST from client MAC for IP, naming SERVER as the server (the
#       SELECTING state of a client that was never offered IP), to SERVER:67.
#       Prints what came back within 2 s: "reply N" (N bytes) or "silence".
#   abuse_clients.py slowloris SERVER PORT SOURCES PER_SOURCE TIMEOUT [READY]
#       From each source address, PER_SOURCE connections that send half a
#       request (no blank line) and then nothing; READY (a path) is created once
#       all are open. Then it waits until the server has closed every one (a
#       bound of 60 s past TIMEOUT only ends a hang) and prints "opened N
#       refused R closed_by_server C". TIMEOUT is the server's idle timeout
#       (--http-timeout): a connection it closed within half of it after our half
#       request was refused at once (the server cannot time one out that soon,
#       even counting whole seconds), one closed later timed out (C).
#   abuse_clients.py slowloris-tls SERVER PORT SOURCES PER_SOURCE TIMEOUT [READY]
#       The same against HTTPS: each connection sends the first 5 bytes of a TLS
#       record (a handshake header announcing 512 bytes) and then nothing, so the
#       server waits inside its handshake.
import os
import select
import socket
import struct
import sys
import time


def rrq(server, name, sources, per_source, gate=None):
    packet = b"\x00\x01" + name.encode() + b"\x00octet\x00"
    socks = []
    for src in sources:
        for _ in range(per_source):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((src, 0))
            s.setblocking(False)
            socks.append(s)
    by_fd = {s.fileno(): s for s in socks}
    poller = select.poll()
    for s in socks:
        poller.register(s, select.POLLIN)
    answered = {}  # socket -> the kind of its first answer
    to_ack = {}  # socket of a granted transfer -> (server port, block) to acknowledge next
    acked_first = set()  # sockets whose first answer was acknowledged
    gate_at = per_source if gate else None  # stop sending there until GATE exists
    sent = 0
    last_ack = time.monotonic()
    deadline = time.monotonic() + 120
    while (sent < len(socks) or len(answered) < len(socks)) and time.monotonic() < deadline:
        if gate_at is not None and sent == gate_at and len(answered) == sent:
            if not os.path.exists(gate + ".waiting"):
                open(gate + ".waiting", "w").close()
            if os.path.exists(gate):
                gate_at = None
        while sent < len(socks) and sent != gate_at and sent - len(answered) < 45:
            socks[sent].sendto(packet, (server, 69))
            sent += 1
        for fd, _ in poller.poll(100):
            s = by_fd[fd]
            try:
                data, (_, port) = s.recvfrom(2048)
            except OSError:
                continue
            op = data[1] if len(data) > 1 else 0
            if s not in answered:
                if op in (3, 6):
                    answered[s] = "data"
                elif op == 5 and data[3] == 0 and b"busy" in data:
                    answered[s] = "busy"
                elif op == 5 and data[3] == 0 and b"from your address" in data:
                    answered[s] = "mine"
                else:
                    answered[s] = "other"
            if answered[s] == "data" and op in (3, 6) and len(data) >= 4:
                block = 0 if op == 6 else struct.unpack("!H", data[2:4])[0]
                if block <= 1 and s not in acked_first:
                    acked_first.add(s)
                    s.sendto(struct.pack("!HH", 4, block), (server, port))
                else:
                    to_ack[s] = (port, block)
        if time.monotonic() - last_ack >= 0.5:
            for s, (port, block) in to_ack.items():
                s.sendto(struct.pack("!HH", 4, block), (server, port))
            to_ack.clear()
            last_ack = time.monotonic()
    kinds = list(answered.values())
    print("sent %d data %d busy %d mine %d other %d" % (
        sent, kinds.count("data"), kinds.count("busy"), kinds.count("mine"),
        kinds.count("other")))


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def forge(server, name, first_ip, count, options):
    payload = b"\x00\x01" + name.encode() + b"\x00octet\x00"
    for opt in options:
        key, value = opt.split("=", 1)
        payload += key.encode() + b"\0" + value.encode() + b"\0"
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    dst = socket.inet_aton(server)
    first = struct.unpack("!I", socket.inet_aton(first_ip))[0]
    for i in range(count):
        src = struct.pack("!I", first + i)
        sport = 20000 + i
        udp_len = 8 + len(payload)
        pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_UDP, udp_len)
        udp = struct.pack("!HHHH", sport, 69, udp_len, 0) + payload
        csum = checksum(pseudo + udp) or 0xFFFF
        udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, i & 0xFFFF, 0x4000, 64,
                         socket.IPPROTO_UDP, 0, src, dst)
        ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
        raw.sendto(ip + udp, (server, 0))
    print("forged %d" % count)


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


def slowloris(server, port, sources, per_source, timeout, ready=None, half=HALF_HTTP):
    open_since = {}  # connection -> when its half request went out
    refused = 0
    closed_by_server = 0

    def closed(conn):
        """Whether the server closed CONN; a close is classed at once, by its time."""
        nonlocal refused, closed_by_server
        ready_, _, _ = select.select([conn], [], [], 0)
        if not ready_:
            return False
        try:
            eof = conn.recv(4096) == b""
        except OSError:
            eof = True
        if not eof:
            return False
        if time.monotonic() - open_since[conn] < timeout / 2:
            refused += 1
        else:
            closed_by_server += 1
        del open_since[conn]
        conn.close()
        return True

    for src in sources:
        for _ in range(per_source):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind((src, 0))
            s.settimeout(10)
            try:
                s.connect((server, port))
                # Timed before it is sent: the server's idle clock cannot start earlier.
                since = time.monotonic()
                s.sendall(half)
            except OSError:
                refused += 1
                s.close()
                continue
            open_since[s] = since
            # A refused connection is accepted by the kernel, then closed by the server at
            # once: looked for after each connection, so its close is timed from close by.
            for conn in list(open_since):
                closed(conn)
    if ready:
        open(ready, "w").close()
    deadline = time.monotonic() + timeout + 60
    while open_since and time.monotonic() < deadline:
        select.select(list(open_since), [], [], 0.2)
        for conn in list(open_since):
            closed(conn)
    print("opened %d refused %d closed_by_server %d" % (len(sources) * per_source, refused,
                                                          closed_by_server))
    for conn in open_since:
        conn.close()


def main():
    if len(sys.argv) in (6, 7) and sys.argv[1] == "rrq":
        rrq(sys.argv[2], sys.argv[3], sys.argv[4].split(","), int(sys.argv[5]),
            sys.argv[6] if len(sys.argv) == 7 else None)
    elif len(sys.argv) >= 6 and sys.argv[1] == "forge":
        forge(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]), sys.argv[6:])
    elif len(sys.argv) == 5 and sys.argv[1] == "request":
        request(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) in (7, 8) and sys.argv[1] in ("slowloris", "slowloris-tls"):
        slowloris(sys.argv[2], int(sys.argv[3]), sys.argv[4].split(","), int(sys.argv[5]),
                  float(sys.argv[6]), sys.argv[7] if len(sys.argv) == 8 else None,
                  HALF_TLS if sys.argv[1] == "slowloris-tls" else HALF_HTTP)
    else:
        sys.exit(__doc__ if __doc__ else "usage: see the header of this file")


if __name__ == "__main__":
    main()
