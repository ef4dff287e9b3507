#!/usr/bin/env python3
"""TFTP requests that test a server's limits and checks, over IPv4 or IPv6.

  tftp6_abuse.py stranger ADDR FILE  an ACK from another port to a transfer's port:
                                     prints the answer ("5 MESSAGE", or "none")
  tftp6_abuse.py repeat ADDR FILE    the same RRQ twice from one port before any ACK:
                                     prints "same" when both answers came from one port
  tftp6_abuse.py hold ADDR FILE N    N transfers at once from one address, none acknowledged:
                                     prints "started S refused R: MESSAGE"
  tftp6_abuse.py crowd ADDR FILE N   N transfers held unacknowledged (a server at
                                     --tftp-max-sessions N), then a newcomer's RRQ, repeated
                                     until answered (held ones make way only once old enough;
                                     gives up after 20 s): prints "held H newcomer served"
Every transfer started is ended with an ERROR, so none waits out its timeout.
"""
import socket
import struct
import sys
import time


def sock(addr):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    return s


def rrq(name, *opts):
    b = struct.pack("!H", 1) + name.encode() + b"\0octet\0"
    for o in opts:
        b += o.encode() + b"\0"
    return b


def answer(s):
    try:
        data, peer = s.recvfrom(2048)
    except socket.timeout:
        return None, None, None
    return struct.unpack("!H", data[:2])[0], data, peer


def end(s, peer):
    s.sendto(struct.pack("!HH", 5, 0) + b"done\0", peer)


def main():
    mode, addr, name = sys.argv[1:4]
    if mode == "stranger":
        a, b = sock(addr), sock(addr)
        a.sendto(rrq(name), (addr, 69))
        op, data, peer = answer(a)
        if op != 3:
            print("no transfer")
            return
        b.sendto(struct.pack("!HH", 4, 1), peer)
        op, data, _ = answer(b)
        if op == 5:
            print(struct.unpack("!H", data[2:4])[0], data[4:].split(b"\0")[0].decode())
        else:
            print("none" if op is None else f"opcode {op}")
        end(a, peer)
    elif mode == "repeat":
        a = sock(addr)
        a.sendto(rrq(name, "tsize", "0"), (addr, 69))
        op1, _, peer1 = answer(a)
        a.sendto(rrq(name, "tsize", "0"), (addr, 69))
        op2, _, peer2 = answer(a)
        print("same" if op1 == op2 == 6 and peer1 == peer2 else f"{op1} {peer1} {op2} {peer2}")
        if peer1:
            end(a, peer1)
    elif mode == "hold":
        n, started, refused, message = int(sys.argv[4]), [], 0, ""
        socks = [sock(addr) for _ in range(n)]
        for s in socks:
            s.sendto(rrq(name, "tsize", "0"), (addr, 69))
            op, data, peer = answer(s)
            if op == 6 or op == 3:
                started.append((s, peer))
            elif op == 5:
                refused += 1
                message = data[4:].split(b"\0")[0].decode()
        print(f"started {len(started)} refused {refused}: {message}")
        for s, peer in started:
            end(s, peer)
    elif mode == "crowd":
        n, held = int(sys.argv[4]), []
        for _ in range(n):
            s = sock(addr)
            s.sendto(rrq(name, "tsize", "0"), (addr, 69))
            op, _, peer = answer(s)
            if op in (3, 6):
                held.append((s, peer))  # never acknowledged
        verdict, deadline = "refused", time.monotonic() + 20
        while time.monotonic() < deadline:
            s = sock(addr)
            s.sendto(rrq(name, "tsize", "0"), (addr, 69))
            op, _, peer = answer(s)
            if op in (3, 6):
                verdict = "served"
                end(s, peer)
                break
            s.close()
        print(f"held {len(held)} newcomer {verdict}")
        for s, peer in held:
            end(s, peer)


main()
