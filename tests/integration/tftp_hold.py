#!/usr/bin/env python3
"""A PXE ROM's TFTP read of NAME from SERVER, from address BIND on device DEV.

Usage: tftp_hold.py SERVER BIND DEV NAME OUT [--stall|--mute] [--late] [--new-port]
SERVER and BIND are IPv4 or IPv6 addresses (both of one family).
Sends its RRQ (octet, no options: lockstep, 512-byte blocks) every 0.5 s until an answer comes,
as a ROM repeats its request while the server is silent, then writes "answered" to OUT.state.
Without --stall: reads the file into OUT, ACKing each block, and writes "done" to OUT.state.
With --stall: ACKs block 1 and then nothing (its transfer holds its place at the server) until
OUT.release exists, then ends the transfer with ERROR 0 and writes "released" to OUT.state.
With --mute: ACKs nothing and leaves (as a machine that gave up, or a forged RRQ's address).
With --late: acknowledges the first answer only once OUT.ack exists (a client slow to answer),
then goes on as without it.
With --new-port: each repeat of the RRQ leaves from a new port (the previous one closed), as some
firmware retries.
Exits 1 when no answer came in 300 s or a block went unanswered for 30 s.
"""
import os
import socket
import struct
import sys
import time

BLOCK = 512


def state(out, word):
    with open(out + ".state", "a") as f:
        f.write(word + "\n")


def main():
    server, bind, dev, name, out = sys.argv[1:6]
    stall = "--stall" in sys.argv[6:]
    mute = "--mute" in sys.argv[6:]
    late = "--late" in sys.argv[6:]
    new_port = "--new-port" in sys.argv[6:]
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET

    def new_socket():
        s = socket.socket(family, socket.SOCK_DGRAM)
        # Its own device: the answer must come back to this machine's MAC, not another port's.
        s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, dev.encode())
        s.bind((bind, 0))
        s.settimeout(0.5)
        return s

    s = new_socket()
    rrq = struct.pack("!H", 1) + name.encode() + b"\0octet\0"
    end = time.monotonic() + 300
    first = True
    while True:
        if time.monotonic() > end:
            print("no answer to the RRQ", file=sys.stderr)
            sys.exit(1)
        if new_port and not first:
            s.close()
            s = new_socket()
        first = False
        s.sendto(rrq, (server, 69))
        try:
            data, peer = s.recvfrom(2048)
        except socket.timeout:
            continue
        break
    state(out, "answered")
    op = struct.unpack("!H", data[:2])[0]
    if op != 3:
        print(f"the answer is opcode {op}, not DATA", file=sys.stderr)
        sys.exit(1)
    if mute:
        return
    while late and not os.path.exists(out + ".ack"):
        time.sleep(0.1)
    if stall:
        s.sendto(struct.pack("!HH", 4, 1), peer)  # acknowledged: a client that is there
        while not os.path.exists(out + ".release"):
            time.sleep(0.1)
        s.sendto(struct.pack("!HH", 5, 0) + b"released\0", peer)
        state(out, "released")
        return
    got = bytearray()
    want = 1
    s.settimeout(1)
    silent = 0
    while True:
        op, block = struct.unpack("!HH", data[:4])
        if op == 3 and block == want:
            got += data[4:]
            s.sendto(struct.pack("!HH", 4, block), peer)
            if len(data) - 4 < BLOCK:
                break
            want = (want + 1) & 0xFFFF
        elif op == 3:
            s.sendto(struct.pack("!HH", 4, block), peer)  # a copy: ACK it again
        else:
            print(f"opcode {op} in the transfer", file=sys.stderr)
            sys.exit(1)
        while True:
            try:
                data, frm = s.recvfrom(2048)
            except socket.timeout:
                silent += 1
                if silent > 30:
                    print(f"block {want} never came", file=sys.stderr)
                    sys.exit(1)
                s.sendto(struct.pack("!HH", 4, (want - 1) & 0xFFFF), peer)
                continue
            silent = 0
            if frm == peer:
                break
    with open(out, "wb") as f:
        f.write(got)
    state(out, "done")


main()
