#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz/fuzz-rng-req.c (its input format is documented there).

usage: fuzz/gen-corpus-rng.py [OUTDIR]   (default: fuzz/corpus/rng-req next to this script)

Each seed is a small driver scenario: a header and a list of chains (guest offset, length,
device-writable); the guest image is left zeroed (the model reads nothing from the guest).
"""
import os
import struct
import sys

INDIRECT, EVIDX, FAIL, SHORT, CAP, RESET, LIE, RATE = (1 << i for i in range(8))


class Seed:
    def __init__(self, flags=0, layout=0, cap=0, ro=0, wo=0):
        self.flags, self.layout, self.cap, self.ro, self.wo = flags, layout, cap, ro, wo
        self.chains = []

    def chain(self, *bufs):
        """bufs: (offset, length, writable)"""
        self.chains.append(bufs)

    def bytes(self):
        out = struct.pack('<BBBBII', self.flags, self.layout, len(self.chains), self.cap,
                          self.ro, self.wo)
        for c in self.chains:
            out += struct.pack('<B', len(c) - 1)
            for off, ln, w in c:
                out += struct.pack('<HH', off, ln | (0x8000 if w else 0))
        return out


def basic(flags=0, layout=0, cap=0):
    s = Seed(flags=flags, layout=layout, cap=cap)
    s.chain((0, 64, True))                                   # what Linux posts
    s.chain((64, 4096, True))
    s.chain((4200, 100, True), (4400, 300, True), (5000, 7, True))
    s.chain((6000, 1, True))
    return s


def hostile():
    s = Seed()
    s.chain((0, 16, False), (64, 64, True))                 # readable, then writable
    s.chain((128, 32, False))                                # readable only
    s.chain((256, 64, True), (512, 16, False))              # readable after writable
    s.chain((1024, 64, True))                                # a good one after them
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus', 'rng-req')
    os.makedirs(out, exist_ok=True)
    seeds = {
        'rng-basic': basic(),
        'rng-basic-indirect-evidx': basic(INDIRECT | EVIDX),
        'rng-basic-small-regions': basic(0, layout=5),
        'rng-basic-tiny-regions': basic(0, layout=6),
        'rng-backend-fails': basic(FAIL),
        'rng-backend-short': basic(SHORT),
        'rng-backend-lies': basic(LIE),
        'rng-capped': basic(CAP, cap=2),
        'rng-reset': basic(RESET),
        'rng-rate': basic(RATE),
        'rng-hostile': hostile(),
        'rng-hostile-indirect': (lambda s: (setattr(s, 'flags', INDIRECT), s)[1])(hostile()),
    }
    for name, s in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(s.bytes())
    print(f'{len(seeds)} seeds in {out}')


if __name__ == '__main__':
    main()
