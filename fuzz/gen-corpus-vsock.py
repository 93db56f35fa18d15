#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz/fuzz-vsock-pkt.c (its input format is documented there).

usage: fuzz/gen-corpus-vsock.py [OUTDIR]   (default: fuzz/corpus/vsock-pkt next to this script)

Each seed is a small scenario: rx buffers, tx packets and host-side socket events.
"""
import os
import struct
import sys

REQUEST, RESPONSE, RST, SHUTDOWN, RW, CREDIT_UPDATE, CREDIT_REQUEST = range(1, 8)
PKT, RX_POST, RX_KICK, ACCEPT, CLOSE, CONNECT, PROCESS, RESET, READ, EVENT = range(10)
SPOOF, NOTHOST, SEQPACKET, RANDTYPE, CUT, LIE = 1, 2, 4, 8, 0x40, 0x80


def pkt(op, sport=0, dport=1, length=0, flags=0, ctl=0, ndesc=1, buf_alloc=65536, fwd=0):
    ctl |= ((ndesc - 1) & 3) << 4
    return struct.pack('<BBBBBHBII', PKT, op, ctl, sport, dport, length, flags, buf_alloc,
                       fwd)


def hdr(flags=1, nrx=16, rxlen=4140):
    return struct.pack('<BBH', flags, nrx, rxlen)


def step(code, *args):
    return bytes([code]) + bytes(args)


SEEDS = {
    # guest connects to the listener on port 1, sends data, shuts down
    'guest-connect-data': hdr() + pkt(REQUEST) + step(ACCEPT, 3) + step(PROCESS)
    + pkt(RW, length=1000, ndesc=2) + pkt(RW, length=4000, ndesc=4) + step(READ)
    + step(PROCESS) + pkt(CREDIT_REQUEST) + pkt(SHUTDOWN, flags=2) + pkt(SHUTDOWN, flags=3),
    # host-side data to the guest with little credit, then a credit update
    'guest-connect-credit': hdr() + pkt(REQUEST, buf_alloc=100) + step(ACCEPT, 200)
    + step(PROCESS) + step(PROCESS) + pkt(CREDIT_UPDATE, buf_alloc=100, fwd=100)
    + step(PROCESS) + step(CLOSE, 0) + step(PROCESS),
    # nobody listens on port 2
    'guest-connect-refused': hdr() + pkt(REQUEST, dport=2) + step(PROCESS),
    # host client: CONNECT 1, the guest answers; data right after the line
    'host-connect': hdr() + step(CONNECT, 5) + step(PROCESS)
    + pkt(RESPONSE, sport=1, dport=0) + step(PROCESS) + step(READ),
    'host-connect-bad-lines': hdr() + step(CONNECT, 2) + step(CONNECT, 3)
    + step(CONNECT, 4) + step(PROCESS) + step(CLOSE, 1) + step(PROCESS),
    # every bad header kind
    'hostile-headers': hdr() + pkt(REQUEST, ctl=SPOOF) + pkt(REQUEST, ctl=NOTHOST)
    + pkt(REQUEST, ctl=SEQPACKET) + pkt(9, ctl=RANDTYPE) + pkt(RW, length=10, ctl=LIE)
    + pkt(RW, length=20, ctl=CUT) + pkt(0) + pkt(SHUTDOWN, flags=9) + pkt(RST)
    + pkt(RW, length=8000, ndesc=4),
    # credit violation on an open connection
    'credit-violation': hdr() + pkt(REQUEST) + step(PROCESS) + pkt(RW, length=8191, ndesc=3)
    + pkt(RW, length=8191) + step(PROCESS),
    # rx buffers too small for a header, none at all, then some
    'rx-starved': hdr(nrx=0) + pkt(RW, dport=3) * 6 + step(RX_POST, 7, 10, 0)
    + step(RX_POST, 7, 0x2c, 0x10) + step(RX_KICK) + step(PROCESS),
    'transport-reset': hdr(flags=3) + pkt(REQUEST) + step(ACCEPT, 1) + step(RESET, 1)
    + step(EVENT) + step(PROCESS) + step(EVENT),
    'dup-request': hdr() + pkt(REQUEST) + pkt(REQUEST) + step(PROCESS),
    # rx buffers with room for a header only while host data waits (must not stall)
    'rx-header-only': hdr(nrx=8, rxlen=44) + pkt(REQUEST) + step(ACCEPT, 50)
    + step(PROCESS) + step(RX_KICK) + step(RX_POST, 3, 0x2c, 0) + step(PROCESS),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), 'corpus', 'vsock-pkt')
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
