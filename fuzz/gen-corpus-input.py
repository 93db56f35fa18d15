#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz/fuzz-input.c (its input format is documented there).

usage: fuzz/gen-corpus-input.py [OUTDIR]   (default: fuzz/corpus/input next to this script)
"""
import os
import struct
import sys

CFG, EVBUF, SEND, STATUS, RESET, QRESET = range(6)
NAME, SERIAL, DEVIDS, PROP, EVBITS, ABS = 1, 2, 3, 0x10, 0x11, 0x12
LED, SND, REP, KEY = 0x11, 0x12, 0x14, 1


def op(code, a=0, b=0, c=0):
    return struct.pack('<BBHI', code, a, b, c)


def cfg(sel, sub):
    return op(CFG, sel, sub, 1)     # 2 bytes at offset 0


def linux_probe():
    s = cfg(NAME, 0) + cfg(SERIAL, 0) + cfg(DEVIDS, 0) + cfg(PROP, 0)
    s += b''.join(cfg(EVBITS, t) for t in (1, 2, 3, 4, 5, 0x11, 0x12, 0x14))
    s += b''.join(cfg(ABS, a) for a in range(3))
    return s


def seeds():
    for prof, name in enumerate(('keyboard', 'mouse', 'tablet')):
        yield 'probe-' + name, bytes([prof, 15]) + linux_probe()
    yield 'events', bytes([0, 31]) + b''.join(op(EVBUF, 0, 8) for _ in range(8)) + \
        op(SEND, 3, 30, 1 << 8) + op(SEND, 7, 31, 2 << 8)
    yield 'overflow', bytes([1, 3]) + op(SEND, 7, 1, 2 << 8) * 4 + \
        b''.join(op(EVBUF, 0, 8) for _ in range(10))
    yield 'short-bufs', bytes([0, 8]) + op(EVBUF, 0, 4) + op(EVBUF, 0, 8, 1) + \
        op(EVBUF, 0, 12) + op(SEND, 3, 30, 1 << 8)
    yield 'status', bytes([0, 8]) + op(STATUS, 8, LED, 1 | (1 << 16)) + \
        op(STATUS, 8, LED, 9) + op(STATUS, 8, KEY, 30) + op(STATUS, 7, LED, 1) + \
        op(STATUS, 8, REP, 0 | (250 << 16))
    yield 'config-odd', bytes([2, 0]) + op(CFG, NAME, 5, 0) + op(CFG, 0xff, 0xff, 2) + \
        op(CFG, EVBITS, 0, 0x100) + op(CFG, ABS, 0x40, 0x201)
    yield 'reset', bytes([0, 4]) + op(SEND, 2, 30, 1 << 8) + op(RESET) + \
        op(EVBUF, 0, 8) + op(SEND, 2, 30, 1 << 8) + op(QRESET, 0) + op(EVBUF, 0, 8)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'corpus', 'input')
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), 'wb') as fp:
            fp.write(data)


if __name__ == '__main__':
    main()
