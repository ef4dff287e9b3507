#!/usr/bin/env python3
"""A lockstep TFTP download over IPv6 whose every frame carries an extension header.

  tftp6_exthdr.py hop|dst ADDR FILE OUT [BLKSIZE]
                                          RRQ FILE (no options: 512-byte blocks; BLKSIZE:
                                          asked for, the OACK acknowledged) from a UDP
                                          socket whose frames all carry a hop-by-hop (hop) or
                                          destination options (dst) header (a sticky option:
                                          the RRQ and every ACK); writes the file to OUT and
                                          prints "ok BYTES BLOCKS", or "stalled at block N"
                                          (no new block for 8 s: the last ACK sent again
                                          each second meanwhile), or "error ...".
"""
import socket
import struct
import sys
import time


def main():
    kind, addr, name, out = sys.argv[1:5]
    blksize = int(sys.argv[5]) if len(sys.argv) > 5 else 512
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    # One 8-byte header: next header and length (the kernel fills the former; 0: 8 bytes),
    # then a PadN option of 4 bytes of zeros. Sticky: every frame of the socket carries it.
    opt = bytes([0, 0, 1, 4, 0, 0, 0, 0])
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_HOPOPTS if kind == "hop" else socket.IPV6_DSTOPTS,
                 opt)
    s.settimeout(1)
    rrq = struct.pack("!H", 1) + name.encode() + b"\0octet\0"
    if len(sys.argv) > 5:
        rrq += b"blksize\0%d\0" % blksize
    s.sendto(rrq, (addr, 69))
    last, peer, data, blocks = 0, None, b"", 0
    progress = time.monotonic()  # when the last new block came
    pending = rrq  # what to send again on a timeout: the RRQ, then the last ACK
    while True:
        try:
            pkt, frm = s.recvfrom(2048)
        except socket.timeout:
            pkt = None
        # Copies of an old block (a server resending it) do not count as progress.
        if time.monotonic() - progress >= 8:
            print("stalled at block %d" % last)
            return 1
        if pkt is None:
            s.sendto(pending, peer or (addr, 69))
            continue
        if peer is None:
            peer = frm[:2]
        if frm[:2] != peer or len(pkt) < 4:
            continue
        op, block = struct.unpack("!HH", pkt[:4])
        if op == 5:
            print("error %d %s" % (block, pkt[4:].split(b"\0")[0].decode(errors="replace")))
            return 1
        if op == 6 and last == 0:  # the OACK: acknowledged with ACK 0
            pending = struct.pack("!HH", 4, 0)
            s.sendto(pending, peer)
            continue
        if op != 3:
            continue
        if block == (last + 1) & 0xFFFF:
            data += pkt[4:]
            last += 1
            blocks += 1
            progress = time.monotonic()
        pending = struct.pack("!HH", 4, block)
        s.sendto(pending, peer)
        if block == last & 0xFFFF and len(pkt) - 4 < blksize:
            break
    with open(out, "wb") as f:
        f.write(data)
    print("ok %d %d" % (len(data), blocks))
    return 0


sys.exit(main())
