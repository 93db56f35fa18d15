#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Write the seed corpus of fuzz/fuzz-vu-msg.c (input format documented there).

usage: fuzz/gen-vu-msg-corpus.py [OUTDIR]     (default: fuzz/corpus/vu-msg next to this file)

Seeds: well-formed sessions a front-end like QEMU sends (with and without protocol
features, memory by table and by slots, status, config, stop and restart) whose guest memory
holds a valid split ring with one echo request, a packed-ring reconnection with a packed
inflight record and a dirty log, and hostile ones (bad sizes, fd counts and
kinds, overlapping regions, out-of-range indices, broken framing).
"""
import os
import struct
import sys

GET_FEATURES, SET_FEATURES, SET_OWNER, RESET_OWNER, SET_MEM_TABLE = 1, 2, 3, 4, 5
SET_LOG_BASE, SET_LOG_FD = 6, 7
SET_VRING_NUM, SET_VRING_ADDR, SET_VRING_BASE, GET_VRING_BASE = 8, 9, 10, 11
SET_VRING_KICK, SET_VRING_CALL, SET_VRING_ERR = 12, 13, 14
GET_PROTOCOL_FEATURES, SET_PROTOCOL_FEATURES, GET_QUEUE_NUM, SET_VRING_ENABLE = 15, 16, 17, 18
GET_CONFIG, SET_CONFIG, GET_INFLIGHT_FD, SET_INFLIGHT_FD, RESET_DEVICE = 24, 25, 31, 32, 34
GET_MAX_MEM_SLOTS, ADD_MEM_REG, REM_MEM_REG, SET_STATUS, GET_STATUS = 36, 37, 38, 39, 40

V1, NEED_REPLY = 0x1, 0x8
FD_MEM, FD_EVENT, FD_PIPE, FD_SMALLMEM = 0x00, 0x10, 0x20, 0x30
UVA = 0x1000000
PAGES = 3                     # guest memfd: 4 pages
F_VERSION_1, F_INDIRECT, F_EVENT_IDX, F_PROTOCOL = 1 << 32, 1 << 28, 1 << 29, 1 << 30
F_PACKED, F_LOG_ALL = 1 << 34, 1 << 26
P_LOG_SHMFD, P_INFLIGHT = 1 << 1, 1 << 12
PROTOCOL_ALL = (1 << 0) | (1 << 3) | (1 << 9) | (1 << 13) | (1 << 15) | (1 << 16)


def rec(request, payload=b'', fds=0, flags=V1 | NEED_REPLY, size=None):
    size = len(payload) if size is None else size
    return bytes([fds]) + struct.pack('<III', request, flags, size) + payload


def u64(v):
    return struct.pack('<Q', v)


def state(index, num):
    return struct.pack('<II', index, num)


def region(gpa, size, uva, off):
    return struct.pack('<QQQQ', gpa, size, uva, off)


def vring_addr(index, desc, used, avail, flags=0):
    return struct.pack('<IIQQQQ', index, flags, desc, used, avail, 0)


def config(offset, size, flags=0, data=b''):
    return struct.pack('<III', offset, size, flags) + data


def ring_blob(base):
    """A split ring of 8 at input offset base (guest address = offset): one chain, a
    16-byte request then a 32-byte device-writable response."""
    desc = struct.pack('<QIHH', base + 256, 16, 1, 1) + struct.pack('<QIHH', base + 288, 32, 2, 0)
    desc += bytes(16 * 6)
    avail = struct.pack('<HH', 0, 1) + struct.pack('<8H', 0, 0, 0, 0, 0, 0, 0, 0) + u64(0)[:2]
    used = bytes(6 + 8 * 8)
    blob = desc + avail.ljust(32, b'\0') + used.ljust(96, b'\0')
    blob += b'hello, vhost-usr'.ljust(32, b'\0') + bytes(32)
    return blob


def build(opts, records, with_ring=True):
    head = bytes([opts, PAGES, 0, 0])
    body = head + b''.join(records)
    if not with_ring:
        return body
    # A last record whose payload swallows the ring blob (a framing error ends the run
    # after the ring was served); the blob sits 16-aligned at its input offset.
    pad = (-(len(body) + 13)) % 16
    closer = rec(SET_CONFIG, b'\0' * pad, flags=V1, size=4000)
    ring_at = len(body) + len(closer)
    return body + closer + ring_blob(ring_at), ring_at


def qemu_like(ring_at, with_protocol=True, features=F_VERSION_1 | F_INDIRECT, slots=False):
    r = [rec(GET_FEATURES, flags=V1)]
    if with_protocol:
        r += [rec(GET_PROTOCOL_FEATURES, flags=V1),
              rec(SET_PROTOCOL_FEATURES, u64(PROTOCOL_ALL)),
              rec(GET_QUEUE_NUM, flags=V1)]
    r += [rec(SET_OWNER, flags=V1),
          rec(SET_FEATURES, u64(features | (F_PROTOCOL if with_protocol else 0)))]
    if slots:
        r += [rec(GET_MAX_MEM_SLOTS, flags=V1),
              rec(ADD_MEM_REG, u64(0) + region(0, 0x2000, UVA, 0), fds=FD_MEM | 1),
              rec(ADD_MEM_REG, u64(0) + region(0x2000, 0x2000, UVA + 0x2000, 0x2000),
                  fds=FD_MEM | 1)]
    else:
        r += [rec(SET_MEM_TABLE, struct.pack('<II', 1, 0) + region(0, 0x4000, UVA, 0),
                  fds=FD_MEM | 1)]
    r += [rec(SET_VRING_NUM, state(0, 8)),
          rec(SET_VRING_BASE, state(0, 0)),
          rec(SET_VRING_ADDR, vring_addr(0, UVA + ring_at, UVA + ring_at + 160,
                                         UVA + ring_at + 128)),
          rec(SET_VRING_CALL, u64(0), fds=FD_EVENT | 1),
          rec(SET_VRING_ERR, u64(0), fds=FD_EVENT | 1),
          rec(SET_VRING_KICK, u64(0), fds=FD_EVENT | 1)]
    if with_protocol:
        r += [rec(SET_VRING_ENABLE, state(0, 1))]
    return r


def packed_record():
    """QueueRegionPacked of 8 entries as a back-end killed mid-push leaves it: the chain in
    entries 0-1 (a 16-byte request, a 32-byte response, buffer id 0) is inflight, the push
    of it had moved used_idx (not old_used_idx) past its 2 slots; the free list is 2..7."""
    rec_hdr = struct.pack('<QHHHHHHBB', 0, 1, 8, 0, 2, 2, 0, 1, 1).ljust(32, b'\0')
    ents = b''
    for e in range(8):
        inflight, last, num, counter = (1, 1, 2, 5) if e == 0 else (0, 0, 0, 0)
        nxt = 1 if e == 0 else e + 1
        did, flags, dlen, addr = 0, 0, 0, 0
        if e == 0:
            did, flags, dlen, addr = 0, 1, 16, PACKED_REQ
        elif e == 1:
            did, flags, dlen, addr = 0, 2, 32, PACKED_REQ + 32
        ents += struct.pack('<BBHHHQHHIQ', inflight, 0, nxt, last, num, counter, did, flags,
                            dlen, addr)
    return (rec_hdr + ents).ljust(512, b'\0')


PACKED_REC = 0x1000           # the record: a page-aligned input (guest memfd) offset
PACKED_RING = PACKED_REC + 512
PACKED_REQ = PACKED_RING + 256


def packed_ring():
    """A packed ring of 8: slots 0-1 once held the chain of the record; slots 2-3 hold a new
    available chain (driver wrap counter 1: AVAIL set, USED clear), buffer id 1."""
    avail, nxt, write = 1 << 7, 1, 2
    desc = bytes(32)
    desc += struct.pack('<QIHH', PACKED_REQ + 64, 16, 1, avail | nxt)
    desc += struct.pack('<QIHH', PACKED_REQ + 96, 32, 1, avail | write)
    blob = desc.ljust(128, b'\0') + bytes(16) + bytes(16)   # driver, device event areas
    blob = blob.ljust(256, b'\0')
    blob += b'hello, resubmit!'.ljust(32, b'\0') + bytes(32)
    blob += b'hello, packed...'.ljust(32, b'\0') + bytes(32)
    return blob


def packed_session(opts):
    """QEMU after a back-end crash, packed ring: inflight memory given back (a record of the
    input's bytes in the guest memfd), a dirty log, the stale ring base; the back-end settles
    the record, serves the chain again and the new one, logging what it writes."""
    r = [rec(GET_FEATURES, flags=V1), rec(GET_PROTOCOL_FEATURES, flags=V1),
         rec(SET_PROTOCOL_FEATURES, u64(PROTOCOL_ALL | P_LOG_SHMFD | P_INFLIGHT)),
         rec(SET_OWNER, flags=V1),
         rec(GET_INFLIGHT_FD, struct.pack('<QQHHI', 0, 0, 1, 8, 0), flags=V1),
         rec(SET_INFLIGHT_FD, struct.pack('<QQHHI', 512, PACKED_REC, 1, 8, 0), fds=FD_MEM | 1),
         rec(SET_FEATURES, u64(F_VERSION_1 | F_INDIRECT | F_PACKED | F_PROTOCOL)),
         rec(SET_MEM_TABLE, struct.pack('<II', 1, 0) + region(0, 0x4000, UVA, 0),
             fds=FD_MEM | 1),
         rec(SET_LOG_BASE, struct.pack('<QQ', 4096, 0), fds=FD_SMALLMEM | 1),
         rec(SET_FEATURES, u64(F_VERSION_1 | F_INDIRECT | F_PACKED | F_PROTOCOL | F_LOG_ALL)),
         rec(SET_VRING_NUM, state(0, 8)),
         rec(SET_VRING_BASE, state(0, 1 << 15)),
         rec(SET_VRING_ADDR, vring_addr(0, UVA + PACKED_RING, UVA + PACKED_RING + 144,
                                        UVA + PACKED_RING + 128)),
         rec(SET_VRING_CALL, u64(0), fds=FD_EVENT | 1),
         rec(SET_VRING_KICK, u64(0), fds=FD_EVENT | 1),
         rec(SET_VRING_ENABLE, state(0, 1)),
         rec(GET_VRING_BASE, state(0, 0), flags=V1),
         rec(SET_VRING_KICK, u64(0), fds=FD_EVENT | 1)]
    body = bytes([opts, PAGES, 0, 0]) + b''.join(r)
    pad = PACKED_REC - len(body) - 13
    assert pad >= 0
    closer = rec(SET_CONFIG, b'\0' * pad, flags=V1, size=4000)
    data = body + closer + packed_record() + packed_ring()
    assert len(data) <= 4096 * (PAGES + 1)
    return data


def two_pass(opts, make):
    """Records depend on where the ring lands, which depends on the records' length."""
    _, ring_at = build(opts, make(0))
    data, ring_at2 = build(opts, make(ring_at))
    assert ring_at == ring_at2
    return data


def main(argv):
    out = argv[1] if len(argv) > 1 else os.path.join(os.path.dirname(__file__), 'corpus',
                                                     'vu-msg')
    os.makedirs(out, exist_ok=True)
    seeds = {}
    seeds['vu-session-split'] = two_pass(2, lambda at: qemu_like(at) + [
        rec(GET_VRING_BASE, state(0, 0), flags=V1),
        rec(GET_CONFIG, config(0, 8, 0, bytes(8)), flags=V1),
        rec(SET_CONFIG, config(0, 4, 0, u64(1)[:4])),
        rec(SET_VRING_BASE, state(0, 1)),
        rec(SET_VRING_KICK, u64(0), fds=FD_EVENT | 1),
        rec(RESET_DEVICE)])
    seeds['vu-session-evidx'] = two_pass(2, lambda at: qemu_like(
        at, features=F_VERSION_1 | F_INDIRECT | F_EVENT_IDX))
    seeds['vu-session-no-protocol'] = two_pass(2 | 4, lambda at: qemu_like(
        at, with_protocol=False) + [rec(SET_VRING_ENABLE, state(0, 0))])
    seeds['vu-session-slots'] = two_pass(2 | 1, lambda at: qemu_like(at, slots=True) + [
        rec(REM_MEM_REG, u64(0) + region(0x2000, 0x2000, UVA + 0x2000, 0)),
        rec(REM_MEM_REG, u64(0) + region(0, 0x2000, UVA, 0)),
        rec(GET_STATUS, flags=V1)])
    seeds['vu-session-status'] = two_pass(2, lambda at: [
        rec(GET_FEATURES, flags=V1), rec(SET_PROTOCOL_FEATURES, u64(PROTOCOL_ALL)),
        rec(SET_OWNER, flags=V1), rec(SET_STATUS, u64(3))] + qemu_like(at)[1:] + [
        rec(SET_STATUS, u64(0xf)), rec(GET_STATUS, flags=V1), rec(SET_STATUS, u64(0)),
        rec(GET_VRING_BASE, state(0, 0), flags=V1)])
    seeds['vu-session-packed-inflight'] = packed_session(2 | 8)
    hostile = [rec(GET_FEATURES, flags=V1), rec(SET_PROTOCOL_FEATURES, u64(PROTOCOL_ALL)),
               rec(SET_OWNER, flags=V1)]
    seeds['vu-hostile-sizes'] = build(0, hostile + [
        rec(SET_FEATURES, u64(F_VERSION_1)[:4]),
        rec(SET_VRING_NUM, state(0, 8) + b'\0'),
        rec(SET_VRING_NUM, state(7, 8)),
        rec(SET_VRING_NUM, state(0, 0)),
        rec(SET_VRING_NUM, state(0, 60000)),
        rec(SET_VRING_ENABLE, state(0, 2)),
        rec(SET_VRING_ADDR, vring_addr(0, 1, 2, 3, flags=6)),
        rec(GET_CONFIG, config(0, 300), flags=V1),
        rec(SET_CONFIG, config(0xfffffffc, 8, 0, bytes(8))),
        rec(SET_STATUS, u64(0x1ff)),
        rec(SET_LOG_FD, fds=FD_EVENT | 1),
        rec(0xffff, u64(1)),
        rec(GET_VRING_BASE, state(200, 0), flags=V1)], with_ring=False)
    seeds['vu-hostile-memory'] = build(0, hostile + [
        rec(SET_FEATURES, u64(F_VERSION_1)),
        rec(SET_MEM_TABLE, struct.pack('<II', 1, 0) + region(0, 0x4000, UVA, 0)),
        rec(SET_MEM_TABLE, struct.pack('<II', 2, 0) + region(0, 0x4000, UVA, 0) +
            region(0x1000, 0x1000, UVA + 0x8000, 0), fds=FD_MEM | 2),
        rec(SET_MEM_TABLE, struct.pack('<II', 1, 0) + region(0, 0x8000, UVA, 0),
            fds=FD_MEM | 1),
        rec(SET_MEM_TABLE, struct.pack('<II', 1, 0) + region(0, 0x1000, UVA, 0x3800),
            fds=FD_MEM | 1),
        rec(SET_MEM_TABLE, struct.pack('<II', 1, 0) + region(0, 0x1000, UVA, 0),
            fds=FD_PIPE | 1),
        rec(SET_MEM_TABLE, struct.pack('<II', 1, 0) +
            region(0xfffffffffffff000, 0x2000, UVA, 0), fds=FD_MEM | 1),
        rec(SET_MEM_TABLE, struct.pack('<II', 9, 0) + bytes(9 * 32), fds=FD_MEM | 8),
        rec(ADD_MEM_REG, u64(0) + region(0, 0x1000, UVA, 0), fds=FD_SMALLMEM | 1),
        rec(ADD_MEM_REG, u64(0) + region(0, 0x1000, UVA, 0), fds=FD_SMALLMEM | 1),
        rec(REM_MEM_REG, u64(0) + region(0, 0x1000, UVA, 0), fds=FD_MEM | 2),
        rec(SET_VRING_CALL, u64(0), fds=FD_EVENT | 2),
        rec(SET_VRING_KICK, u64(0x100), fds=FD_EVENT | 1),
        rec(SET_VRING_KICK, u64(0x200), fds=FD_EVENT | 1)], with_ring=False)
    seeds['vu-hostile-too-many-fds'] = build(0, hostile + [
        rec(SET_OWNER, fds=FD_EVENT | 12, flags=V1)], with_ring=False)
    seeds['vu-hostile-framing'] = build(0, hostile + [
        rec(SET_OWNER, flags=0x6)], with_ring=False)
    seeds['vu-hostile-early'] = build(0, [
        rec(SET_MEM_TABLE, struct.pack('<II', 1, 0) + region(0, 0x4000, UVA, 0),
            fds=FD_MEM | 1),
        rec(SET_VRING_KICK, u64(0), fds=FD_EVENT | 1),
        rec(SET_PROTOCOL_FEATURES, u64(1 << 40)),
        rec(SET_STATUS, u64(0xf)),
        rec(GET_STATUS, flags=V1)], with_ring=False)
    for name, data in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
    print(f'{len(seeds)} seeds in {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
