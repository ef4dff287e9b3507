#!/usr/bin/env python3
"""One TFTP request to ADDR:69 (IPv4 or IPv6), the first answer as "CODE MESSAGE".

Usage: tftp6_probe.py ADDR OPCODE NAME MODE [OPTION VALUE]...
Prints "CODE MESSAGE" for an ERROR, "oack" or "data BLOCK" for a transfer's start
(its port is then sent ERROR 0, so the transfer ends), "none" after 5 s of silence.
"""
import socket
import struct
import sys


def main():
    addr, opcode, name, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    opts = sys.argv[5:]
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(5)
    req = struct.pack("!H", opcode) + name.encode() + b"\0" + mode.encode() + b"\0"
    for o in opts:
        req += o.encode() + b"\0"
    s.sendto(req, (addr, 69))
    try:
        data, peer = s.recvfrom(2048)
    except socket.timeout:
        print("none")
        return
    op = struct.unpack("!H", data[:2])[0]
    if op == 5:
        code = struct.unpack("!H", data[2:4])[0]
        message = data[4:].split(b"\0")[0].decode(errors="replace")
        print(f"{code} {message}")
        return
    # A transfer started: end it, so it does not wait out its timeout.
    s.sendto(struct.pack("!HH", 5, 0) + b"probe done\0", peer)
    print("oack" if op == 6 else f"data {struct.unpack('!H', data[2:4])[0]}")


main()
