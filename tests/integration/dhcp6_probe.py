#!/usr/bin/env python3
"""Sends one DHCPv6 message from IFACE's link-local address (UDP 546 -> ff02::1:2 port 547)
and prints the answers that come within TIMEOUT seconds, one line each:

  reply type=N status=N ia_status=N addrs=ADDR,... sid=HEX

(status/ia_status -1: none). The message: TYPE (a number) and options given as
CODE=HEX, or the raw message as raw=HEX (for malformed ones). Options ia=IAID:ADDR and
cid=HEX, sid=HEX are shortcuts. The kernel computes and checks the UDP checksums.
Exits 0 if an answer came, 1 if none, 2 on a setup error.
With --frame=badsum or --frame=hopbyhop first, the message goes out as a whole Ethernet
frame through a packet socket instead: its UDP checksum wrong, or behind a hop-by-hop
options header; nothing is awaited.
With --to=ADDR first, the message goes to ADDR (a server's own address, link-local ones on
IFACE) instead of ff02::1:2: RFC 8415 16 and 18.4's unicast cases.
usage: dhcp6_probe.py [--frame=KIND | --to=ADDR] IFACE TIMEOUT TYPE|raw=HEX [OPTION...]
"""
import os
import socket
import struct
import sys
import time


def opt(code, data):
    return struct.pack("!HH", code, len(data)) + data


def build(args):
    if args[0].startswith("raw="):
        return bytes.fromhex(args[0][4:])
    msg = bytes([int(args[0])]) + os.urandom(3)
    for a in args[1:]:
        key, val = a.split("=", 1)
        if key == "cid":
            msg += opt(1, bytes.fromhex(val))
        elif key == "sid":
            msg += opt(2, bytes.fromhex(val))
        elif key == "ia":
            iaid, addr = val.split(":", 1)
            ia = struct.pack("!III", int(iaid), 0, 0)
            if addr:
                ia += opt(5, socket.inet_pton(socket.AF_INET6, addr) + struct.pack("!II", 0, 0))
            msg += opt(3, ia)
        else:
            msg += opt(int(key), bytes.fromhex(val))
    return msg


def options(data):
    off = 0
    while off + 4 <= len(data):
        code, n = struct.unpack("!HH", data[off:off + 4])
        yield code, data[off + 4:off + 4 + n]
        off += 4 + n


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def send_frame(kind, iface, msg):
    """MSG to ff02::1:2 port 547 in a frame of our own making, broken as KIND says."""
    with open("/sys/class/net/%s/address" % iface) as f:
        mac = bytes.fromhex(f.read().strip().replace(":", ""))
    src = bytes.fromhex("fe80000000000000") + bytes([mac[0] ^ 2, mac[1], mac[2], 0xff, 0xfe,
                                                       mac[3], mac[4], mac[5]])
    dst = socket.inet_pton(socket.AF_INET6, "ff02::1:2")
    udp = struct.pack("!HHHH", 546, 547, 8 + len(msg), 0) + msg
    pseudo = src + dst + struct.pack("!IxxxB", len(udp), 17)
    check = csum(pseudo + udp) or 0xffff
    if kind == "badsum":
        check ^= 0x5a5a
    udp = udp[:6] + struct.pack("!H", check) + udp[8:]
    nexthdr, payload = 17, udp
    if kind == "hopbyhop":  # next header UDP, length 0 (8 bytes), a PadN option
        nexthdr, payload = 0, bytes([17, 0, 1, 4, 0, 0, 0, 0]) + udp
    ip6 = struct.pack("!IHBB", 6 << 28, len(payload), nexthdr, 1) + src + dst
    eth = bytes.fromhex("333300010002") + mac + b"\x86\xdd"
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(eth + ip6 + payload)
    return 0


def main():
    if sys.argv[1].startswith("--frame="):
        kind = sys.argv.pop(1)[len("--frame="):]
        return send_frame(kind, sys.argv[1], build(sys.argv[3:]))
    to = "ff02::1:2"
    if sys.argv[1].startswith("--to="):
        to = sys.argv.pop(1)[len("--to="):]
    iface, timeout = sys.argv[1], float(sys.argv[2])
    ifindex = socket.if_nametoindex(iface)
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    deadline = time.time() + 120  # the link-local address may still be tentative
    while True:
        try:
            s.bind(("::", 546, 0, ifindex))
            break
        except OSError:
            if time.time() > deadline:
                print("cannot bind port 546 on " + iface, file=sys.stderr)
                return 2
            time.sleep(0.1)
    msg = build(sys.argv[3:])
    s.sendto(msg, (to, 547, 0, ifindex))
    got = 0
    end = time.time() + timeout
    while True:
        left = end - time.time()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, _src = s.recvfrom(2048)
        except socket.timeout:
            break
        if len(data) < 4 or data[1:4] != msg[1:4]:
            continue
        status, ia_status, addrs, sid = -1, -1, [], ""
        for code, val in options(data[4:]):
            if code == 13 and len(val) >= 2:
                status = struct.unpack("!H", val[:2])[0]
            elif code == 2:
                sid = val.hex()
            elif code == 3 and len(val) >= 12:
                for c, v in options(val[12:]):
                    if c == 5 and len(v) >= 24:
                        addrs.append(socket.inet_ntop(socket.AF_INET6, v[:16]) +
                                     "/%d" % struct.unpack("!I", v[20:24])[0])
                    elif c == 13 and len(v) >= 2:
                        ia_status = struct.unpack("!H", v[:2])[0]
        print("reply type=%d status=%d ia_status=%d addrs=%s sid=%s" % (
            data[0], status, ia_status, ",".join(addrs) or "none", sid))
        got += 1
    return 0 if got else 1


if __name__ == "__main__":
    sys.exit(main())
