#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Seed corpora of fuzz/fuzz-net-hdr.c and fuzz/fuzz-net-ctrl.c (input formats at the top of
each). Writes fuzz/corpus/net-hdr/ and fuzz/corpus/net-ctrl/; review and commit the result.

usage: fuzz/gen-corpus-net.py [CORPUS_DIR]
"""
import os
import struct
import sys

MAC = bytes([0x52, 0, 0, 0, 0, 1])
OTHER = bytes([0x52, 0, 0, 0, 0, 9])
BCAST = b"\xff" * 6
MCAST = bytes([1, 0, 0x5e, 0, 0, 1])


def frame(dst, n, seed=0):
    """An Ethernet/IPv4 frame of n bytes to dst."""
    body = bytes((i * 7 + seed) & 0xff for i in range(max(0, n - 14)))
    return (dst + OTHER + b"\x08\x00" + body)[:n]


def hdr(flags=0, gso=0, hdr_len=0, gso_size=0, csum_start=0, csum_offset=0):
    return struct.pack("<BBHHHHH", flags, gso, hdr_len, gso_size, csum_start, csum_offset, 0)


def buf(off, length, writable=False):
    return struct.pack("<HH", off, length | (0x8000 if writable else 0))


def net_hdr(flags, n_rx, rx_len, chains, image):
    """chains: list of lists of (off, len, writable)."""
    out = struct.pack("<BBHBB", flags, n_rx, (rx_len - 1) & 0xffff, len(chains), 0)
    for c in chains:
        out += bytes([len(c) - 1]) + b"".join(buf(*b) for b in c)
    return out + image


def image_of(pieces, size=16384):
    img = bytearray(size)
    for off, data in pieces:
        img[off:off + len(data)] = data
    return bytes(img).rstrip(b"\0") or b"\0"


def gen_hdr(d):
    seeds = {}
    # Plain frames, header and frame in two buffers each.
    pieces, chains = [], []
    for k in range(4):
        base = k * 2048
        pieces += [(base, hdr()), (base + 12, frame(MAC, 100 + 300 * k, k))]
        chains.append([(base, 12, False), (base + 12, 100 + 300 * k, False)])
    img = image_of(pieces)
    seeds["plain"] = net_hdr(0x10, 8, 2048, chains, img)
    seeds["plain-mrg-small-buffers"] = net_hdr(0, 16, 256, chains, img)
    seeds["plain-small-regions"] = net_hdr(0x80, 8, 1600, chains, img)
    # Header and frame in one buffer.
    one = [[(k * 2048, 12 + 100 + 300 * k, False)] for k in range(4)]
    seeds["one-buffer"] = net_hdr(0, 8, 2048, one, img)
    # Partial checksum, with and without CSUM / GUEST_CSUM.
    pieces = [(0, hdr(1, 0, 0, 0, 34, 16)), (12, frame(MAC, 200))]
    img = image_of(pieces)
    c = [[(0, 12, False), (12, 200, False)]]
    seeds["csum"] = net_hdr(0, 4, 2048, c, img)
    seeds["csum-not-negotiated"] = net_hdr(0x01, 4, 2048, c, img)
    seeds["csum-no-guest-csum"] = net_hdr(0x20, 4, 2048, c, img)
    seeds["csum-past-end"] = net_hdr(0, 4, 2048, c, image_of([(0, hdr(1, 0, 0, 0, 190, 16)),
                                                            (12, frame(MAC, 200))]))
    # Segmentation offload: TCPv4/TCPv6/UDP/ECN, a 6000-byte frame in 3 buffers.
    for name, gso, fl in [("tso4", 1, 0), ("tso6", 4, 0), ("ufo", 3, 0), ("tso4-ecn", 0x81, 0),
                          ("tso4-not-negotiated", 1, 0x02), ("tso4-no-guest-tso", 1, 0x40),
                          ("gso-unknown", 5, 0)]:
        pieces = [(0, hdr(1, gso, 54, 1448, 34, 16)), (12, frame(MAC, 6000))]
        c = [[(0, 12, False), (12, 3000, False), (3012, 3000, False)]]
        seeds[name] = net_hdr(fl, 16, 2048, c, image_of(pieces))
    # Hostile: writable buffers on transmit, runts, zero lengths, overlaps.
    pieces = [(0, hdr()), (12, frame(MAC, 64))]
    img = image_of(pieces)
    seeds["hostile-writable"] = net_hdr(0, 4, 2048, [[(0, 12, False), (12, 64, True)]], img)
    seeds["hostile-runt"] = net_hdr(0, 4, 2048, [[(0, 12, False), (12, 4, False)],
                                                 [(0, 8, False)], [(0, 0, False)]], img)
    seeds["hostile-overlap"] = net_hdr(0, 4, 64, [[(0, 76, False), (0, 76, False),
                                                  (6, 70, False)]], img)
    seeds["rx-too-small"] = net_hdr(0x10, 4, 40, [[(0, 76, False)]], img)
    seeds["rx-none"] = net_hdr(0, 0, 2048, [[(0, 76, False)]] * 4, img)
    big = [(0, hdr()), (12, frame(MAC, 9000))]
    seeds["jumbo-mrg"] = net_hdr(0, 16, 1024, [[(0, 12, False), (12, 8000, False),
                                                (8012, 1000, False)]], image_of(big))
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def net_ctrl(flags, cmds, frames, image):
    """cmds: list of lists of (off, len, writable); frames: 4 x (off, len)."""
    out = struct.pack("<BB", flags, len(cmds))
    for c in cmds:
        out += bytes([len(c) - 1]) + b"".join(buf(*b) for b in c)
    for off, n in frames:
        out += struct.pack("<HH", off, n)
    return out + image


def gen_ctrl(d):
    seeds = {}
    # Commands laid out at 256-byte slots: class/cmd at s, data at s+2, ack at s+200.
    cmds = [
        (0, 0, b"\x00"),                                    # RX PROMISC off
        (0, 1, b"\x01"),                                    # RX ALLMULTI on
        (0, 5, b"\x01"),                                    # RX NOBCAST on
        (1, 0, struct.pack("<I", 1) + OTHER + struct.pack("<I", 1) + MCAST),  # MAC TABLE
        (1, 1, MAC),                                        # MAC ADDR_SET
        (2, 0, struct.pack("<H", 5)),                       # VLAN ADD 5
        (3, 0, b""),                                        # ANNOUNCE ACK
        (4, 0, struct.pack("<H", 2)),                       # MQ VQ_PAIRS_SET 2
        (5, 0, struct.pack("<Q", 2)),                       # GUEST_OFFLOADS GUEST_CSUM
    ]
    pieces, chains = [], []
    for i, (cls, cmd, data) in enumerate(cmds):
        s = i * 256
        pieces.append((s, bytes([cls, cmd]) + data))
        c = [(s, 2, False)]
        if data:
            c.append((s + 2, len(data), False))
        c.append((s + 200, 1, True))
        chains.append(c)
    fr_off = 4096
    fr = [(fr_off, 12 + 64), (fr_off + 128, 12 + 64), (fr_off + 256, 12 + 64),
          (fr_off + 384, 12 + 64)]
    for k, dst in enumerate([MAC, OTHER, BCAST, MCAST]):
        pieces.append((fr_off + 128 * k, hdr() + frame(dst, 64)))
    vlan = bytearray(hdr() + frame(MAC, 64))
    vlan[12 + 12:12 + 16] = b"\x81\x00\x00\x05"
    pieces.append((fr_off + 512, bytes(vlan)))
    img = image_of(pieces, 8192)
    seeds["all-commands"] = net_ctrl(0x01, chains, fr, img)
    seeds["all-commands-one-pair"] = net_ctrl(0, chains, fr, img)
    seeds["all-commands-no-extra"] = net_ctrl(0x02 | 0x04, chains, fr, img)
    seeds["all-commands-small-regions"] = net_ctrl(0x09, chains, fr, img)
    seeds["vlan-frame"] = net_ctrl(0, chains[5:6], [(fr_off + 512, 12 + 64)] * 4, img)
    # Malformed: header only, no ack, data split across buffers, oversized tables.
    bad = [[(0, 1, False), (200, 1, True)], [(0, 2, False)],
           [(768, 2, False), (770, 4, False), (774, 10, False), (968, 1, True)],
           [(0, 2, False), (2, 7000, False), (200, 1, True)]]
    pieces2 = list(pieces) + [(768, bytes([1, 0]) + struct.pack("<I", 200) + OTHER * 2)]
    seeds["malformed"] = net_ctrl(0x01, bad, fr, image_of(pieces2, 8192))
    seeds["ack-in-data"] = net_ctrl(0, [[(0, 3, False), (2, 1, True)]], fr, img)
    os.makedirs(d, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "corpus")
    gen_hdr(os.path.join(root, "net-hdr"))
    gen_ctrl(os.path.join(root, "net-ctrl"))


if __name__ == "__main__":
    main()
