#!/usr/bin/env python3
"""The DHCPv6 answers of a capture (pcap, Ethernet), judged: prints "VALID TOTAL".

scripts/bench/dhcp6.sh captures what the client host receives on port 546 during a rate's run.
KIND "bind": each Reply must carry an IA_NA (3) with an address (5) of a non-zero valid
lifetime and no failure status (13) in it or at the top; each Advertise an IA_NA with an
address. KIND "boot": each Advertise must carry a boot file URL (59) and no IA_NA (proxy-like).
"""
import struct
import sys


def options(buf):
    """(code, data) of each option of BUF; stops at a cut one."""
    off = 0
    while off + 4 <= len(buf):
        code, ln = struct.unpack_from("!HH", buf, off)
        if off + 4 + ln > len(buf):
            return
        yield code, buf[off + 4 : off + 4 + ln]
        off += 4 + ln


def failed(opts):
    """Whether OPTS hold a status code (13) other than Success."""
    return any(c == 13 and (len(d) < 2 or struct.unpack_from("!H", d)[0]) for c, d in opts)


def bound(msg_opts):
    """Whether the message's options give an address: IA_NA > IAADDR, lifetime > 0."""
    if failed(msg_opts):
        return False
    for code, data in msg_opts:
        if code != 3 or len(data) < 12:
            continue
        sub = list(options(data[12:]))
        if failed(sub):
            return False
        for c, d in sub:
            if c == 5 and len(d) >= 24 and struct.unpack_from("!I", d, 20)[0] > 0:
                return True
    return False


def judge(kind, msg):
    typ, opts = msg[0], list(options(msg[4:]))
    if kind == "boot":
        return typ == 2 and any(c == 59 for c, _ in opts) and not any(c == 3 for c, _ in opts)
    return typ in (2, 7) and bound(opts)


def main():
    kind, path = sys.argv[1], sys.argv[2]
    valid = total = 0
    with open(path, "rb") as f:
        data = f.read()
    off = 24  # the pcap file header
    while off + 16 <= len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        frame = data[off + 16 : off + 16 + incl]
        off += 16 + incl
        # Ethernet, IPv6 (no extension headers), UDP to 546
        if len(frame) < 14 + 40 + 8 + 4 or frame[12:14] != b"\x86\xdd" or frame[20] != 17:
            continue
        if struct.unpack_from("!H", frame, 56)[0] != 546:
            continue
        total += 1
        valid += judge(kind, frame[62:])
    print(valid, total)


if __name__ == "__main__":
    main()
