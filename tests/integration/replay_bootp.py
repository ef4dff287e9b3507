#!/usr/bin/env python3
"""Replays the BOOTP payload of a captured firmware frame over a real UDP socket
and prints what the server answers, one `key=value` a line.

    replay_bootp.py PCAP INDEX SRC_IP SRC_PORT DST_IP DST_PORT

Used to drive the PXE 2.1 boot server exchange (port 4011), which no Linux
DHCP client speaks, with the very bytes OVMF sent in this lab.
"""
import socket
import struct
import sys


def frame(path, index):
    with open(path, "rb") as f:
        data = f.read()
    if struct.unpack("<I", data[:4])[0] != 0xA1B2C3D4:
        sys.exit(f"{path}: not a little-endian microsecond pcap")
    off = 24
    for i in range(index + 1):
        caplen = struct.unpack("<I", data[off + 8 : off + 12])[0]
        body = data[off + 16 : off + 16 + caplen]
        off += 16 + caplen
    return body


def options(msg):
    out, i = {}, 240
    while i < len(msg) and msg[i] != 255:
        if msg[i] == 0:
            i += 1
            continue
        out[msg[i]] = msg[i + 2 : i + 2 + msg[i + 1]]
        i += 2 + msg[i + 1]
    return out


def main():
    path, index, src_ip, src_port, dst_ip, dst_port = sys.argv[1:7]
    payload = frame(path, int(index))[42:]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src_ip, int(src_port)))
    s.settimeout(30)  # bounds a hang only: the answer comes at once
    s.sendto(payload, (dst_ip, int(dst_port)))
    reply, peer = s.recvfrom(2048)
    opts = options(reply)
    print(f"from={peer[0]}:{peer[1]}")
    print(f"op={reply[0]}")
    print(f"xid_matches={reply[4:8] == payload[4:8]}")
    print(f"chaddr={reply[28:34].hex(':')}")
    print(f"siaddr={socket.inet_ntoa(reply[20:24])}")
    print(f"file={reply[108:236].rstrip(bytes(1)).decode(errors='replace')}")
    print(f"msg_type={opts.get(53, b'?')[0]}")
    print(f"opt60={opts.get(60, b'').decode(errors='replace')}")
    print(f"opt67={opts.get(67, b'').decode(errors='replace')}")
    print(f"guid_echoed={opts.get(97) == options(payload).get(97)}")


if __name__ == "__main__":
    main()
