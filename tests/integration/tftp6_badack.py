#!/usr/bin/env python3
"""ACKs with a bad UDP checksum to a running IPv6 transfer, then a good one.

  tftp6_badack.py ADDR FILE   RRQ FILE (no options) from a UDP socket; once DATA 1 came, ACK 1
                              twice from a raw socket with the same address and port, once with
                              a wrong checksum and once with none (0: forbidden over IPv6), then
                              the good ACK 1: prints "data2 N" (N: the bytes of DATA 2), or
                              "no data1" / "no data2". The transfer is then ended with an ERROR.
"""
import socket
import struct
import sys


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def main():
    addr, name = sys.argv[1:3]
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(struct.pack("!H", 1) + name.encode() + b"\0octet\0", (addr, 69))
    try:
        data, peer = s.recvfrom(2048)
    except socket.timeout:
        print("no data1")
        return
    if struct.unpack("!H", data[:2])[0] != 3:
        print("no data1")
        return
    src, sport = s.getsockname()[:2]
    ack = struct.pack("!HH", 4, 1)
    udp_len = 8 + len(ack)
    pseudo = (socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, peer[0])
              + struct.pack("!IxxxB", udp_len, socket.IPPROTO_UDP))
    good = csum(pseudo + struct.pack("!HHHH", sport, peer[1], udp_len, 0) + ack) or 0xFFFF
    raw = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_UDP)
    raw.bind((src, 0))
    for check in (good ^ 0x5555 or 1, 0):
        raw.sendto(struct.pack("!HHHH", sport, peer[1], udp_len, check) + ack, (peer[0], 0))
    s.sendto(ack, peer)
    try:
        while True:
            data, _ = s.recvfrom(2048)
            if struct.unpack("!HH", data[:4]) == (3, 2):
                print("data2", len(data) - 4)
                break
    except socket.timeout:
        print("no data2")
    s.sendto(struct.pack("!HH", 5, 0) + b"done\0", peer)


main()
