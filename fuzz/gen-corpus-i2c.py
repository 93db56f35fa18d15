#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz/fuzz-i2c-req.c (its input format is documented there).

usage: fuzz/gen-corpus-i2c.py [OUTDIR]   (default: fuzz/corpus/i2c-req next to this script)

Each seed is a small driver scenario: a header, a list of chains (guest offset, length,
device-writable) and a guest image holding the request headers and data, laid out as Linux's
i2c-virtio driver lays out its requests.
"""
import os
import struct
import sys

NO_ZL, INDIRECT, EVIDX, TWO_KICKS, RESET, EIO = (1 << i for i in range(6))
FAIL_NEXT, M_RD = 1, 2
NO_NACK = 7


class Seed:
    def __init__(self, flags=0, layout=0, nack=NO_NACK, ro=0, wo=0):
        self.flags, self.layout, self.nack, self.ro, self.wo = flags, layout, nack, ro, wo
        self.chains = []
        self.image = bytearray(12288)

    def put(self, off, data):
        self.image[off:off + len(data)] = data

    def hdr(self, off, addr, flags):
        self.put(off, struct.pack('<HHI', addr << 1, 0, flags))

    def chain(self, *bufs):
        """bufs: (offset, length, writable)"""
        self.chains.append(bufs)

    def bytes(self):
        out = struct.pack('<BBBBII', self.flags, self.layout, len(self.chains), self.nack,
                          self.ro, self.wo)
        for c in self.chains:
            out += struct.pack('<B', len(c) - 1)
            for off, ln, w in c:
                out += struct.pack('<HH', off, ln | (0x8000 if w else 0))
        return out + bytes(self.image).rstrip(b'\0')


def write_read(flags=0, layout=0, nack=NO_NACK):
    """i2cget: a 1-byte write of the register, then a 1-byte read, as one group; then
    i2cset: one 2-byte write; then a 16-byte read split over two buffers."""
    s = Seed(flags=flags, layout=layout, nack=nack)
    s.hdr(0, 0x50, FAIL_NEXT)
    s.put(1024, b'\x10')
    s.chain((0, 8, False), (1024, 1, False), (2048, 1, True))
    s.hdr(16, 0x50, M_RD)
    s.chain((16, 8, False), (3000, 1, True), (2049, 1, True))
    s.hdr(32, 0x50, 0)
    s.put(1040, b'\x20\xab')
    s.chain((32, 8, False), (1040, 2, False), (2050, 1, True))
    s.hdr(48, 0x50, M_RD)
    s.chain((48, 8, False), (4000, 10, True), (4100, 6, True), (2051, 1, True))
    return s


def zero_length(flags=0):
    """i2cdetect: quick writes and reads, no buffer."""
    s = Seed(flags=flags)
    for i, a in enumerate((0x50, 0x51, 0x08)):
        s.hdr(64 * i, a, M_RD if i % 2 else 0)
        s.chain((64 * i, 8, False), (2048 + i, 1, True))
    return s


def long_group():
    """i2ctransfer with several messages: a group of five."""
    s = Seed(flags=TWO_KICKS, nack=2)
    for i in range(5):
        s.hdr(16 * i, 0x50, (FAIL_NEXT if i < 4 else 0) | (M_RD if i % 2 else 0))
        if i % 2:
            s.chain((16 * i, 8, False), (5000 + 64 * i, 4, True), (2048 + i, 1, True))
        else:
            s.put(1024 + 16 * i, bytes([i, i + 1]))
            s.chain((16 * i, 8, False), (1024 + 16 * i, 2, False), (2048 + i, 1, True))
    return s


def malformed():
    s = Seed()
    s.put(0, struct.pack('<HHI', 0x50 << 1, 0, 0))
    s.chain((0, 4, False), (2048, 1, True))				# short header
    s.put(16, struct.pack('<HHI', 0x50 << 1, 0, 0x80))
    s.chain((16, 8, False), (1024, 1, False), (2049, 1, True))		# reserved flag
    s.put(32, struct.pack('<HHI', 0x7f1, 0, 0))
    s.chain((32, 8, False), (1024, 1, False), (2050, 1, True))		# 10-bit form
    s.hdr(48, 0x50, M_RD)
    s.chain((48, 8, False), (1024, 1, False), (2051, 1, True))		# read with out data
    s.hdr(64, 0x50, FAIL_NEXT)
    s.chain((64, 8, False), (1024, 1, False), (4000, 3, True), (2052, 1, True))  # both
    s.hdr(80, 0x50, 0)
    s.chain((80, 8, False), (1024, 1, False))				# no status byte
    s.hdr(96, 0x50, FAIL_NEXT)
    s.chain((96, 8, False), (1024, 1, False), (2053, 1, True))		# open group
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(
        os.path.abspath(__file__)), 'corpus', 'i2c-req')
    os.makedirs(out, exist_ok=True)
    seeds = {
        'i2c-write-read': write_read(),
        'i2c-write-read-indirect-evidx': write_read(INDIRECT | EVIDX),
        'i2c-write-read-regions': write_read(layout=1),
        'i2c-write-read-nack': write_read(nack=1),
        'i2c-write-read-eio': write_read(EIO),
        'i2c-write-read-legacy': write_read(NO_ZL),
        'i2c-zero-length': zero_length(),
        'i2c-zero-length-legacy': zero_length(NO_ZL),
        'i2c-long-group': long_group(),
        'i2c-malformed': malformed(),
        'i2c-reset-open-group': write_read(TWO_KICKS | RESET),
    }
    for name, s in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(s.bytes())


if __name__ == '__main__':
    main()
