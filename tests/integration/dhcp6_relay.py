#!/usr/bin/env python3
"""Plays a DHCPv6 relay agent (RFC 8415 19) for one made-up client: from ADDR port 547 it sends
the client's Solicit to SERVER port 547 inside a Relay-forward, and with the Advertise's server
id and address a Request, printing each answer that comes back to port 547 within TIMEOUT:

  relay-reply hop=N link=ADDR peer=ADDR ifid=HEX rport=N inner=TYPE addrs=ADDR,... url=URL sid=HEX
      vendor=CLASS from=PORT

(rport: the Relay Source Port option echoed in the outer Relay-reply, RFC 8357; vendor: the
class in the answer's Vendor Class option; none: none; from: the answer's source port)

Options: --link=ADDR (the client's link, default ::), --mac=MAC (a Client Link-Layer Address
option, RFC 6939; default none), --duid=HEX (the client's, default a DUID-UUID), --depth=N
(Relay-forwards around the message, default 1), --sport=N (send from port N and await the
answers there, not 547), --relay-port (a Relay Source Port option, RFC 8357, in the outermost
Relay-forward: the answers come to --sport), --solicit-only, --raw=HEX (send HEX as the whole
Relay-forward, await nothing), --flood=N (send N Solicits at once, await nothing),
--sources=N (with --flood=1: one Solicit from each of N addresses, ADDR's last group plus 1..N,
which must be on an interface).
Exits 0 when every message got its answer, 1 when one got none, 2 on a setup error.
usage: dhcp6_relay.py [OPTIONS] ADDR SERVER TIMEOUT
"""
import os
import socket
import struct
import sys
import time

PEER = socket.inet_pton(socket.AF_INET6, "fe80::5054:ff:fed7:99")
IFID = b"rack7/ge-0/0/3"


def opt(code, data):
    return struct.pack("!HH", code, len(data)) + data


def options(data):
    off = 0
    while off + 4 <= len(data):
        code, n = struct.unpack("!HH", data[off:off + 4])
        yield code, data[off + 4:off + 4 + n]
        off += 4 + n


def relay_forward(msg, link, mac, depth, relay_port):
    for hop in range(depth):
        body = opt(18, IFID)
        if mac and hop == 0:  # the relay next to the client saw its frame
            body += opt(79, struct.pack("!H", 1) + mac)
        if relay_port and hop == depth - 1:  # the relay that sends: no relay below on a port
            body += opt(135, struct.pack("!H", 0))
        msg = bytes([12, hop]) + link + PEER + body + opt(9, msg)
    return msg


def unwrap(data):
    """The Relay-reply's fields and the client's answer inside every layer."""
    hop, link, peer = data[1], data[2:18], data[18:34]
    ifid, inner, rport, outer = b"", b"", "none", True
    while data and data[0] == 13:
        inner = b""
        for code, val in options(data[34:]):
            if code == 18 and not ifid:
                ifid = val
            elif code == 135 and outer and len(val) == 2:
                rport = str(struct.unpack("!H", val)[0])
            elif code == 9:
                inner = val
        data, outer = inner, False
    return hop, link, peer, ifid, rport, data


def from_many(addr, server, n, link, mac):
    """One Solicit in a Relay-forward from each of N addresses after ADDR, awaiting nothing."""
    base = bytearray(socket.inet_pton(socket.AF_INET6, addr))
    duid = bytes([0, 4]) + bytes(range(0x40, 0x50))
    common = opt(1, duid) + opt(6, struct.pack("!H", 59)) + opt(61, struct.pack("!H", 7))
    last = struct.unpack("!H", bytes(base[14:16]))[0]
    for i in range(1, n + 1):
        base[14:16] = struct.pack("!H", (last + i) & 0xffff)
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((socket.inet_ntop(socket.AF_INET6, bytes(base)), 547))
        msg = bytes([1]) + os.urandom(3) + common + opt(3, struct.pack("!III", 7, 0, 0))
        s.sendto(relay_forward(msg, link, mac, 1, False), (server, 547))
        s.close()
    return 0


def main():
    args = sys.argv[1:]
    link, mac, depth, solicit_only, raw = "::", b"", 1, False, None
    sport, relay_port, flood, sources = 547, False, 0, 0
    duid = bytes([0, 4]) + bytes(range(0x40, 0x50))
    while args and args[0].startswith("--"):
        key, _, val = args.pop(0)[2:].partition("=")
        if key == "link":
            link = val
        elif key == "mac":
            mac = bytes.fromhex(val.replace(":", ""))
        elif key == "duid":
            duid = bytes.fromhex(val)
        elif key == "depth":
            depth = int(val)
        elif key == "sport":
            sport = int(val)
        elif key == "flood":
            flood = int(val)
        elif key == "sources":
            sources = int(val)
        elif key == "relay-port":
            relay_port = True
        elif key == "solicit-only":
            solicit_only = True
        elif key == "raw":
            raw = bytes.fromhex(val)
    addr, server, timeout = args[0], args[1], float(args[2])
    if sources:
        return from_many(addr, server, sources, socket.inet_pton(socket.AF_INET6, link), mac)
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    deadline = time.time() + 120  # the address may still be tentative
    while True:
        try:
            s.bind((addr, sport))
            break
        except OSError:
            if time.time() > deadline:
                print("cannot bind [%s]:%d" % (addr, sport), file=sys.stderr)
                return 2
            time.sleep(0.1)
    if raw is not None:
        s.sendto(raw, (server, 547))
        return 0
    link = socket.inet_pton(socket.AF_INET6, link)
    # A UEFI x64 PXE client asking for the boot file URL (ORO 59, architecture 7).
    common = opt(1, duid) + opt(6, struct.pack("!H", 59)) + opt(61, struct.pack("!H", 7))
    ia = struct.pack("!III", 7, 0, 0)
    todo = [bytes([1]) + os.urandom(3) + common + opt(3, ia)]
    if flood:
        for _ in range(flood):
            msg = bytes([1]) + os.urandom(3) + common + opt(3, ia)
            s.sendto(relay_forward(msg, link, mac, depth, relay_port), (server, 547))
        return 0
    answered = 0
    while todo:
        msg = todo.pop(0)
        s.sendto(relay_forward(msg, link, mac, depth, relay_port), (server, 547))
        end = time.time() + timeout
        got = None
        while got is None:
            left = end - time.time()
            if left <= 0:
                break
            s.settimeout(left)
            try:
                data, src = s.recvfrom(2048)
            except socket.timeout:
                break
            if len(data) < 34 or data[0] != 13:
                continue
            hop, rlink, peer, ifid, rport, inner = unwrap(data)
            from_port = src[1]
            if len(inner) < 4 or inner[1:4] != msg[1:4]:
                continue
            got = inner
        if got is None:
            return 1
        answered += 1
        addrs, url, sid, vendor = [], "", b"", "none"
        for code, val in options(got[4:]):
            if code == 2:
                sid = val
            elif code == 16 and len(val) >= 6:
                vendor = val[6:6 + struct.unpack("!H", val[4:6])[0]].decode(errors="replace")
            elif code == 59:
                url = val.decode(errors="replace")
            elif code == 3 and len(val) >= 12:
                for c, v in options(val[12:]):
                    if c == 5 and len(v) >= 24:
                        addrs.append(v[:16])
        print("relay-reply hop=%d link=%s peer=%s ifid=%s rport=%s inner=%d addrs=%s url=%s "
              "sid=%s vendor=%s from=%d" % (
            hop, socket.inet_ntop(socket.AF_INET6, rlink),
            socket.inet_ntop(socket.AF_INET6, peer), ifid.hex(), rport, got[0],
            ",".join(socket.inet_ntop(socket.AF_INET6, a) for a in addrs) or "none",
            url or "none", sid.hex(), vendor, from_port), flush=True)
        if got[0] == 2 and not solicit_only and addrs and sid:
            iaaddr = opt(5, addrs[0] + struct.pack("!II", 0, 0))
            todo.append(bytes([3]) + os.urandom(3) + common + opt(2, sid) +
                        opt(3, ia + iaaddr))
    return 0 if answered else 1


if __name__ == "__main__":
    sys.exit(main())
