#!/usr/bin/env python3
"""Sends one marker frame out of IFACE, for a capture to sync on (lib.sh's capture_sync):
once tcpdump has written the marker, it has written every frame IFACE saw before it.

    mark.py IFACE

The frame: ethertype 0x88b5 (IEEE 802 local experimental), from and to IFACE's own MAC.
A bridge never sends a frame back out of the port it came in on, nor forwards one to
its own address, so the marker reaches no other host and no XDP program of the lab.
"""
import socket
import sys


def main():
    iface = sys.argv[1]
    with open("/sys/class/net/%s/address" % iface) as f:
        mac = bytes.fromhex(f.read().strip().replace(":", ""))
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    s.bind((iface, 0))
    s.send(mac + mac + b"\x88\xb5" + b"xpxe capture marker".ljust(46, b"\0"))


if __name__ == "__main__":
    main()
