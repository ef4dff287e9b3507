#!/usr/bin/env python3
"""DORA times from a pcap taken at the client (perfdhcp): for each ACK, the time since that
MAC's last DISCOVER before it. Prints 'acks=N macs=M p50_ms=X p99_ms=Y max_ms=Z'.
Usage: dora_times.py FILE.pcap"""
import struct
import sys


def frames(path):
    with open(path, 'rb') as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack('<I', head[:4])[0]
        endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
        scale = 1e-9 if magic in (0xa1b23c4d, 0x4d3cb2a1) else 1e-6
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            sec, frac, incl, _ = struct.unpack(endian + 'IIII', rec)
            data = f.read(incl)
            if len(data) < incl:
                return
            yield sec + frac * scale, data


def dhcp(data):
    if len(data) < 14 + 20 + 8 + 240 or data[12:14] != b'\x08\x00' or data[23] != 17:
        return None
    bootp = 14 + (data[14] & 15) * 4 + 8
    chaddr = data[bootp + 28:bootp + 34]
    opts = bootp + 240
    while opts + 1 < len(data):
        code = data[opts]
        if code == 255:
            break
        if code == 0:
            opts += 1
            continue
        if code == 53:
            return chaddr, data[opts + 2]
        opts += 2 + data[opts + 1]
    return None


def main():
    last_discover = {}
    times = []
    macs = set()
    for t, data in frames(sys.argv[1]):
        d = dhcp(data)
        if not d:
            continue
        mac, msg = d
        if msg == 1:
            last_discover[mac] = t
        elif msg == 5 and mac in last_discover:
            times.append(t - last_discover.pop(mac))
            macs.add(mac)
    times.sort()
    n = len(times)

    def pct(p):
        return times[min(n - 1, int(n * p))] * 1000 if n else 0

    print('acks=%d macs=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f' %
          (n, len(macs), pct(0.50), pct(0.99), times[-1] * 1000 if n else 0))


if __name__ == '__main__':
    main()
