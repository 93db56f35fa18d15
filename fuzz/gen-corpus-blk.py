#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz/fuzz-blk-req.c (its input format is documented there).

usage: fuzz/gen-corpus-blk.py [OUTDIR]   (default: fuzz/corpus/blk-req next to this script)

Each seed is a small driver scenario: a header, a list of chains (guest offset, length,
device-writable) and a guest image holding the request headers, segments and data.
"""
import os
import struct
import sys

IN, OUT, FLUSH, GET_ID, LIFETIME, DISCARD, WZ, SECURE_ERASE = 0, 1, 4, 8, 10, 11, 13, 14
RO, ASYNC, INDIRECT, EVIDX, DWZ, WTHROUGH, RESET, FAIL = (1 << i for i in range(8))


class Seed:
    def __init__(self, flags=0, layout=0, seg_max=15, ro=0, wo=0, order=0, dseg=3):
        self.flags, self.layout, self.seg_max = flags, layout, seg_max
        self.ro, self.wo, self.order, self.dseg = ro, wo, order, dseg
        self.chains = []
        self.image = bytearray(12288)

    def put(self, off, data):
        self.image[off:off + len(data)] = data

    def hdr(self, off, type_, sector=0):
        self.put(off, struct.pack('<IIQ', type_, 0, sector))

    def seg(self, off, sector, num, flags=0):
        self.put(off, struct.pack('<QII', sector, num, flags))

    def chain(self, *bufs):
        """bufs: (offset, length, writable)"""
        self.chains.append(bufs)

    def bytes(self):
        out = struct.pack('<BBBBIIBBH', self.flags, self.layout, self.seg_max,
                          len(self.chains), self.ro, self.wo, self.order, self.dseg, 0)
        for c in self.chains:
            out += struct.pack('<B', len(c) - 1)
            for off, ln, w in c:
                out += struct.pack('<HH', off, ln | (0x8000 if w else 0))
        # Trailing zeroes of the image add nothing: the guest starts zeroed.
        return out + bytes(self.image).rstrip(b'\0')


def basic(flags=0, layout=0):
    s = Seed(flags=flags, layout=layout)
    s.hdr(0, IN, 2)
    s.chain((0, 16, False), (512, 1024, True), (2048, 1, True))
    s.hdr(16, OUT, 4)
    s.put(3072, bytes(range(256)) * 2)
    s.chain((16, 16, False), (3072, 512, False), (2049, 1, True))
    s.hdr(32, FLUSH)
    s.chain((32, 16, False), (2050, 1, True))
    s.hdr(48, GET_ID)
    s.chain((48, 16, False), (4096, 20, True), (2051, 1, True))
    # A read split over three buffers, status sharing the last one.
    s.hdr(64, IN, 10)
    s.chain((64, 16, False), (5000, 300, True), (5400, 700, True), (6200, 25, True))
    return s


def dwz(flags=DWZ):
    s = Seed(flags=flags)
    s.hdr(0, DISCARD)
    s.seg(128, 8, 4)
    s.seg(144, 20, 2)
    s.chain((0, 16, False), (128, 32, False), (2048, 1, True))
    s.hdr(16, WZ)
    s.seg(160, 30, 3, 1)
    s.chain((16, 16, False), (160, 16, False), (2049, 1, True))
    s.hdr(32, WZ)
    s.seg(176, 56, 8, 0)
    s.chain((32, 16, False), (176, 16, False), (2050, 1, True))
    return s


def hostile():
    s = Seed(flags=DWZ, dseg=0)
    s.hdr(0, OUT, 0)
    s.chain((0, 8, False), (2048, 1, True))                    # short header
    s.hdr(16, OUT, 1)
    s.chain((16, 16, False), (3072, 512, False), (2049, 1, False))  # no writable byte
    s.hdr(32, IN, 63)
    s.chain((32, 16, False), (4096, 1024, True), (2050, 1, True))   # past the end
    s.hdr(48, IN, 0xffffffffffffffff)
    s.chain((48, 16, False), (4096, 512, True), (2051, 1, True))    # wrapping sector
    s.hdr(64, IN, 0)
    s.chain((64, 16, False), (4096, 100, True), (2052, 1, True))    # not whole sectors
    s.hdr(80, 0x12345678)
    s.chain((80, 16, False), (2053, 1, True))                  # unknown type
    s.hdr(96, DISCARD)
    for i in range(8):
        s.seg(256 + 16 * i, i, 1)
    s.chain((96, 16, False), (256, 128, False), (2054, 1, True))    # too many segments
    s.hdr(112, WZ)
    s.seg(400, 0, 1, 6)
    s.chain((112, 16, False), (400, 16, False), (2055, 1, True))    # unknown flag
    s.hdr(128, DISCARD)
    s.seg(416, 0, 1, 1)
    s.chain((128, 16, False), (416, 16, False), (2056, 1, True))    # unmap on discard
    s.hdr(144, LIFETIME)
    s.chain((144, 16, False), (4096, 6, True), (2057, 1, True))
    return s


def many_iovecs():
    # 256-byte regions (layout 6) and seg_max 1: 9 data iovecs per request, and a 4 KiB
    # buffer crosses 16 regions.
    s = Seed(layout=6, seg_max=0)
    s.hdr(0, IN, 0)
    s.chain((0, 16, False), (1024, 4096, True), (8192, 1, True))
    s.hdr(16, OUT, 0)
    s.chain((16, 16, False), (1024, 4096, False), (8193, 1, True))
    s.hdr(32, IN, 0)
    s.chain((32, 16, False), (1024, 1024, True), (8194, 1, True))
    return s


def hostile2():
    s = Seed(flags=DWZ)
    s.chain((2058, 1, True),)                                  # writable only
    s.hdr(160, IN, 1)
    s.chain((2059, 1, True), (160, 16, False))                 # readable after writable
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'blk-req')
    os.makedirs(out, exist_ok=True)
    seeds = {
        'blk-basic-sync': basic(),
        'blk-basic-async': basic(ASYNC),
        'blk-basic-async-order': (lambda s: (setattr(s, 'order', 0x5b), s)[1])(basic(ASYNC)),
        'blk-basic-indirect-evidx': basic(INDIRECT | EVIDX),
        'blk-basic-small-regions': basic(0, layout=5),
        'blk-basic-read-only': basic(RO),
        'blk-basic-writethrough': basic(WTHROUGH),
        'blk-basic-backend-fails': basic(FAIL | ASYNC),
        'blk-reset-in-flight': basic(ASYNC | RESET),
        'blk-dwz-sync': dwz(),
        'blk-dwz-async': dwz(DWZ | ASYNC),
        'blk-dwz-read-only': dwz(DWZ | RO),
        'blk-dwz-not-offered': dwz(0),
        'blk-hostile': hostile(),
        'blk-hostile-async': (lambda s: (setattr(s, 'flags', s.flags | ASYNC), s)[1])(hostile()),
        'blk-hostile-order': hostile2(),
        'blk-many-iovecs': many_iovecs(),
    }
    for name, s in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(s.bytes())
    print(f'{len(seeds)} seeds in {out}')


if __name__ == '__main__':
    main()
