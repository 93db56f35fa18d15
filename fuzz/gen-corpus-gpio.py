#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz/fuzz-gpio-req.c (its input format is documented there).

usage: fuzz/gen-corpus-gpio.py [OUTDIR]   (default: fuzz/corpus/gpio-req next to this script)

Each seed is a small driver session as Linux's gpio-virtio driver runs it: requestq messages,
eventq buffers per line and levels the host drives, over a guest image holding the requests.
"""
import os
import struct
import sys

GET_NAMES, GET_DIR, SET_DIR, GET_VAL, SET_VAL, SET_IRQ = 1, 2, 3, 4, 5, 6
NONE, OUT, IN = 0, 1, 2
RISING, FALLING, BOTH, HIGH, LOW = 1, 2, 3, 4, 8
IRQ, INDIRECT, EVIDX, NAMES, RESET, QRESET = (1 << i for i in range(6))
NAMES_SIZE = 16


class Seed:
    def __init__(self, flags=IRQ | NAMES, layout=0, ro=0, wo=0):
        self.flags, self.layout, self.ro, self.wo = flags, layout, ro, wo
        self.ops = []
        self.image = bytearray(8192)
        self.next = 0

    def alloc(self, data=b'', size=None):
        off = self.next
        size = size if size is not None else len(data)
        self.image[off:off + len(data)] = data
        self.next += (size + 15) & ~15
        return off

    def req(self, type_, gpio=0, value=0, rlen=8, wlen=2):
        r = self.alloc(struct.pack('<HHI', type_, gpio, value)[:rlen], max(rlen, 8))
        w = self.alloc(size=max(wlen, 1))
        bufs = [(r, rlen, False)] if rlen else []
        if wlen:
            bufs.append((w, wlen, True))
        self.ops.append((0, bufs))

    def chain(self, q, *bufs):
        self.ops.append((q, list(bufs)))

    def unmask(self, line, rlen=2, wlen=1):
        r = self.alloc(struct.pack('<H', line), 2)
        w = self.alloc(size=1)
        self.ops.append((1, [(r, rlen, False), (w, wlen, True)]))

    def level(self, line, v):
        self.ops.append((2, line, v))

    def kick(self):
        self.ops.append((3,))

    def bytes(self):
        out = struct.pack('<BBBBII', self.flags, self.layout, len(self.ops), 0, self.ro,
                          self.wo)
        for op in self.ops:
            out += bytes([op[0]])
            if op[0] == 2:
                out += bytes([op[1], op[2]])
            elif op[0] < 2:
                bufs = op[1]
                out += bytes([len(bufs) - 1])
                for off, ln, wr in bufs:
                    out += struct.pack('<HH', off, ln | (0x8000 if wr else 0))
        return out + bytes(self.image[:self.next])


def seeds():
    s = Seed()
    s.req(GET_NAMES, wlen=1 + NAMES_SIZE)
    for line in range(3):
        s.req(GET_DIR, line)
    s.req(SET_VAL, 0, 1)
    s.req(SET_DIR, 0, OUT)
    s.req(SET_VAL, 0, 0)
    s.req(SET_DIR, 1, IN)
    s.req(GET_VAL, 1)
    s.req(SET_DIR, 0, NONE)
    yield 'linux-values', s

    for name, typ in (('rising', RISING), ('falling', FALLING), ('both', BOTH),
                      ('high', HIGH), ('low', LOW)):
        s = Seed()
        s.req(SET_DIR, 2, IN)
        s.req(SET_IRQ, 2, typ)
        s.unmask(2)
        s.level(2, 1)
        s.unmask(2)
        s.level(2, 0)
        s.level(2, 1)
        s.unmask(2)
        s.req(SET_IRQ, 2, NONE)
        s.req(SET_DIR, 2, NONE)
        yield 'irq-' + name, s

    s = Seed(flags=IRQ | INDIRECT | EVIDX | RESET)
    s.req(SET_DIR, 3, IN)
    s.req(SET_IRQ, 3, BOTH)
    s.unmask(3)
    s.unmask(3)          # duplicate
    s.unmask(9)          # out of range
    s.unmask(4)          # not enabled
    s.level(3, 1)
    s.kick()
    yield 'irq-hostile-reset', s

    s = Seed(flags=0)
    s.req(SET_IRQ, 1, RISING)
    s.unmask(1)
    s.req(GET_NAMES, wlen=1 + NAMES_SIZE)
    yield 'no-irq-no-names', s

    s = Seed(flags=IRQ | NAMES | QRESET)
    s.req(GET_VAL, 0, rlen=7)
    s.req(GET_VAL, 0, rlen=9)
    s.req(GET_VAL, 0, wlen=1)
    s.req(GET_VAL, 0, wlen=0)
    s.req(GET_VAL, 0, wlen=3)
    s.req(GET_VAL, 8)
    s.req(SET_VAL, 0, 2)
    s.req(SET_DIR, 0, 3)
    s.req(SET_IRQ, 0, 5)
    s.req(0x7777)
    s.req(GET_NAMES, 1, wlen=1 + NAMES_SIZE)
    s.req(GET_NAMES, wlen=NAMES_SIZE)
    s.req(SET_DIR, 5, IN)
    s.req(SET_IRQ, 5, LOW)
    s.unmask(5, rlen=3)
    s.unmask(5, wlen=2)
    s.unmask(5)
    yield 'hostile-sizes', s

    s = Seed(layout=0x05, ro=0x0000000f, wo=0x000000f0)
    s.req(SET_DIR, 1, OUT)
    s.req(GET_NAMES, wlen=1 + NAMES_SIZE)
    s.req(SET_DIR, 6, IN)
    s.req(SET_IRQ, 6, RISING)
    s.unmask(6)
    s.level(6, 1)
    yield 'regions', s


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, 'corpus', 'gpio-req')
    os.makedirs(out, exist_ok=True)
    for name, s in seeds():
        with open(os.path.join(out, 'gpio-' + name), 'wb') as f:
            f.write(s.bytes())


if __name__ == '__main__':
    main()
