#!/usr/bin/env python3
"""Reads a pcap of DHCP traffic taken at the clients.
  dhcp_acks.py FILE.pcap          per address given in an ACK, the MACs it was given to:
                                  'IP MAC[,MAC...]' one a line; exit 1 when an address went
                                  to two MACs (those printed first, prefixed 'TWICE')
  dhcp_acks.py --times FILE.pcap  DORA times: for each ACK, the time since that MAC's last
                                  DISCOVER: 'acks=N macs=M p50_ms=X p99_ms=Y max_ms=Z'
                                  (scripts/bench/store.sh)"""
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


def messages(path):
    """(time, op, yiaddr, chaddr, DHCP message type) of each DHCP frame."""
    for t, data in frames(path):
        if len(data) < 14 + 20 + 8 + 240 or data[12:14] != b'\x08\x00':
            continue
        ihl = (data[14] & 15) * 4
        if data[14 + 9] != 17:
            continue
        udp = 14 + ihl
        sport, dport = struct.unpack('>HH', data[udp:udp + 4])
        if 67 not in (sport, dport):
            continue
        bootp = udp + 8
        yiaddr = '.'.join(str(b) for b in data[bootp + 16:bootp + 20])
        chaddr = ':'.join('%02x' % b for b in data[bootp + 28:bootp + 34])
        opts = bootp + 240
        msg = None
        while opts + 1 < len(data):
            code = data[opts]
            if code == 255:
                break
            if code == 0:
                opts += 1
                continue
            length = data[opts + 1]
            if code == 53 and length == 1:
                msg = data[opts + 2]
            opts += 2 + length
        yield t, data[bootp], yiaddr, chaddr, msg


def times(path):
    last_discover = {}
    took = []
    macs = set()
    for t, op, _, mac, msg in messages(path):
        if op == 1 and msg == 1:
            last_discover[mac] = t
        elif op == 2 and msg == 5 and mac in last_discover:
            took.append(t - last_discover.pop(mac))
            macs.add(mac)
    took.sort()
    n = len(took)

    def pct(p):
        return took[min(n - 1, int(n * p))] * 1000 if n else 0

    print('acks=%d macs=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f' %
          (n, len(macs), pct(0.50), pct(0.99), took[-1] * 1000 if n else 0))
    return 0


def main():
    if sys.argv[1] == '--times':
        return times(sys.argv[2])
    given = {}
    for _, op, ip, mac, msg in messages(sys.argv[1]):
        if op == 2 and msg == 5:  # a BOOTREPLY that is an ACK
            given.setdefault(ip, set()).add(mac)
    twice = {ip: macs for ip, macs in given.items() if len(macs) > 1}
    for ip, macs in sorted(twice.items()):
        print('TWICE %s %s' % (ip, ','.join(sorted(macs))))
    for ip, macs in sorted(given.items()):
        print('%s %s' % (ip, ','.join(sorted(macs))))
    return 1 if twice else 0


if __name__ == '__main__':
    sys.exit(main())
