#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz/fuzz-console-ctrl.c (its input format is documented there).

usage: fuzz/gen-corpus-console.py [OUTDIR]   (default: fuzz/corpus/console-ctrl next to this)

Each seed is a driver scenario: Linux's multiport handshake, then data, hostile control
messages, hot plug, resize and resets.
"""
import os
import struct
import sys

CTRL, RAWCTRL, CBUF, CONN, PRESENT, TX, RX, MISC = range(8)
DEVICE_READY, ADD, REMOVE, READY, CONSOLE, RESIZE, OPEN, NAME = range(8)
BAD_ID = 0xffffffff


def op(code, a=0, b=0, c=0):
    return struct.pack('<BBHI', code, a, b, c)


def ctrl(pid, event, value=1):
    return op(CTRL, event, value, pid)


def handshake():
    s = b''.join(op(CBUF, 0, 4096) for _ in range(6))
    s += ctrl(BAD_ID, DEVICE_READY)
    s += op(RX, 0, 100) + ctrl(0, READY) + ctrl(0, OPEN)
    s += op(RX, 1, 100) + ctrl(1, READY) + op(CBUF, 0, 4096) * 3
    return s


def seeds():
    yield 'handshake', bytes([0, 0x7]) + handshake()
    yield 'data', bytes([0, 0x3]) + handshake() + op(TX, 0, 40) + op(RX, 0, 64, 30 << 8) + \
        ctrl(1, OPEN) + op(TX, 1, 20, 1) + op(RX, 1, 64, 50 << 8)
    yield 'short-writes', bytes([0, 0x21]) + handshake() + op(TX, 0, 63) + op(TX, 0, 10)
    yield 'hostile', bytes([0, 0]) + handshake() + ctrl(7, READY) + ctrl(1, READY) + \
        ctrl(0, DEVICE_READY) + ctrl(2, OPEN) + ctrl(0, 0xff, 0xffff) + \
        op(RAWCTRL, 7, 0, 0x41424344) + op(RAWCTRL, 8, 1, 0) + ctrl(0, OPEN, 7)
    yield 'hotplug', bytes([0, 0x4]) + handshake() + op(PRESENT, 2, 0, 1) + op(CBUF, 0, 8) + \
        ctrl(2, READY) + op(CBUF, 0, 8) + op(PRESENT, 2, 0, 0) + op(CBUF, 0, 4096)
    yield 'flap', bytes([0, 0]) + handshake() + b''.join(op(CONN, 1, 0, i & 1)
                                                         for i in range(40)) + op(CBUF, 0, 64)
    yield 'resize-emerg', bytes([0, 1]) + handshake() + op(MISC, 0, 132, 43) + \
        op(MISC, 1, 0, ord('!'))
    yield 'single-port', bytes([1, 1]) + op(TX, 0, 12) + op(RX, 0, 50, 20 << 8) + \
        op(MISC, 0, 100, 30) + ctrl(0, OPEN)
    yield 'reset', bytes([0, 1]) + handshake() + op(MISC, 2) + handshake() + op(MISC, 3, 1)


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'corpus', 'console-ctrl')
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, name), 'wb') as fp:
            fp.write(data)


if __name__ == '__main__':
    main()
