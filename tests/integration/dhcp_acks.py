#!/usr/bin/env python3
"""Reads a pcap of DHCP traffic and prints, per address given in an ACK, the MACs it was
given to: 'IP MAC[,MAC...]' one a line. Exit 1 when an address went to two MACs (printed
first, prefixed 'TWICE'), 0 otherwise. Usage: dhcp_acks.py FILE.pcap"""
import struct
import sys


def frames(path):
    with open(path, 'rb') as f:
        head = f.read(24)
        if len(head) < 24:
            return
        magic = struct.unpack('<I', head[:4])[0]
        endian = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
        while True:
            rec = f.read(16)
            if len(rec) < 16:
                return
            _, _, incl, _ = struct.unpack(endian + 'IIII', rec)
            data = f.read(incl)
            if len(data) < incl:
                return
            yield data


def acks(path):
    for data in frames(path):
        if len(data) < 14 + 20 + 8 + 240 or data[12:14] != b'\x08\x00':
            continue
        ihl = (data[14] & 15) * 4
        if data[14 + 9] != 17:
            continue
        udp = 14 + ihl
        sport, dport = struct.unpack('>HH', data[udp:udp + 4])
        if sport != 67:
            continue
        bootp = udp + 8
        if data[bootp] != 2:  # BOOTREPLY
            continue
        yiaddr = '.'.join(str(b) for b in data[bootp + 16:bootp + 20])
        chaddr = ':'.join('%02x' % b for b in data[bootp + 28:bootp + 34])
        opts = bootp + 240
        msg = None
        while opts < len(data):
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
        if msg == 5:
            yield yiaddr, chaddr


def main():
    given = {}
    for ip, mac in acks(sys.argv[1]):
        given.setdefault(ip, set()).add(mac)
    twice = {ip: macs for ip, macs in given.items() if len(macs) > 1}
    for ip, macs in sorted(twice.items()):
        print('TWICE %s %s' % (ip, ','.join(sorted(macs))))
    for ip, macs in sorted(given.items()):
        print('%s %s' % (ip, ','.join(sorted(macs))))
    return 1 if twice else 0


if __name__ == '__main__':
    sys.exit(main())
