#!/usr/bin/env python3
"""Sends one IPv6 Router Solicitation on IFACE (to ff02::2, from its link-local
address, hop limit 255, with a source link-layer option) and prints the Router
Advertisements that answer it within TIMEOUT seconds, one line each:

  ra src=ADDR hlim=N cur_hop_limit=N flags=N lifetime=N reachable=N retrans=N slla=MAC opts=N
     [prefix=ADDR/LEN pflags=N] (when it carries a Prefix Information option)

Exits 0 if at least one came, 1 if none, 2 on a setup error. The kernel fills in
the ICMPv6 checksum (raw ICMPv6 sockets) and checks the RA's.
usage: rs_probe.py IFACE TIMEOUT
"""
import socket
import struct
import sys
import time


def link_local_ready(iface):
    """The interface's link-local address once DAD is done (a tentative one cannot send)."""
    with open("/proc/net/if_inet6") as f:
        for line in f:
            addr, _idx, _plen, scope, flags, name = line.split()
            if name == iface and scope == "20" and not int(flags, 16) & 0x40:
                return addr
    return None


def main():
    iface, timeout = sys.argv[1], float(sys.argv[2])
    deadline = time.time() + 120  # DAD takes a second or so; this only ends a hang
    while not link_local_ready(iface):
        if time.time() > deadline:
            print("no usable link-local address on " + iface, file=sys.stderr)
            return 2
        time.sleep(0.1)
    with open("/sys/class/net/%s/address" % iface) as f:
        mac = bytes.fromhex(f.read().strip().replace(":", ""))
    ifindex = socket.if_nametoindex(iface)

    s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS, 255)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_RECVHOPLIMIT, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, iface.encode())
    # RS: type 133, code 0, checksum (kernel), reserved; option 1, length 1, our MAC.
    rs = struct.pack("!BBHI", 133, 0, 0, 0) + bytes([1, 1]) + mac
    s.sendto(rs, ("ff02::2", 0, 0, ifindex))

    got = 0
    end = time.time() + timeout
    while True:
        left = end - time.time()
        if left <= 0:
            break
        s.settimeout(left)
        try:
            data, anc, _flags, src = s.recvmsg(1500, socket.CMSG_SPACE(4))
        except socket.timeout:
            break
        if len(data) < 16 or data[0] != 134:
            continue
        hlim = -1
        for level, kind, value in anc:
            if level == socket.IPPROTO_IPV6 and kind == socket.IPV6_HOPLIMIT:
                hlim = struct.unpack("i", value[:4])[0]
        _t, code, _c, cur, flags, life, reach, retrans = struct.unpack("!BBHBBHII", data[:16])
        slla, opts, off, prefix, pflags = "none", 0, 16, "none", -1
        while off + 2 <= len(data) and data[off + 1]:
            if data[off] == 1:
                slla = ":".join("%02x" % b for b in data[off + 2:off + 8])
            if data[off] == 3 and off + 32 <= len(data):  # Prefix Information
                prefix = "%s/%d" % (socket.inet_ntop(socket.AF_INET6, data[off + 16:off + 32]),
                                    data[off + 2])
                pflags = data[off + 3]
            opts += 1
            off += data[off + 1] * 8
        pio = "" if pflags < 0 else " prefix=%s pflags=%d" % (prefix, pflags)
        print("ra src=%s code=%d hlim=%d cur_hop_limit=%d flags=%d lifetime=%d reachable=%d "
              "retrans=%d slla=%s opts=%d%s" % (src[0].split("%")[0], code, hlim, cur, flags,
                                                life, reach, retrans, slla, opts, pio))
        got += 1
    return 0 if got else 1


if __name__ == "__main__":
    sys.exit(main())
