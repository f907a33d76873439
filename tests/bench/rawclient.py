#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# rawclient.py SOCK POOL B N - N rounds of Alloc(order 0, B) + Free of the
# pfns answered, over the raw protocol (hand-encoded protobuf, no library):
# a client whose own cost stays out of the way of a profile of the daemon
# (tests/bench/callgrind-daemon.sh).  Prints "pages N" (allocated and freed).
import socket, struct, sys, array
sock, pool, B, N = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3]), int(sys.argv[4])
def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7f; v >>= 7
        if v: out.append(b | 0x80)
        else: out.append(b); return bytes(out)
def rdvar(b, i):
    r = s = 0
    while True:
        c = b[i]; i += 1; r |= (c & 0x7f) << s; s += 7
        if not c & 0x80: return r, i
def fld(n, wt): return varint(n << 3 | wt)
def ld(n, body): return fld(n, 2) + varint(len(body)) + body
s = socket.socket(socket.AF_UNIX); s.connect(sock)
buf = b''
def recvframe():
    global buf
    while True:
        if len(buf) >= 4:
            l = struct.unpack('>I', buf[:4])[0]
            if len(buf) >= 4 + l:
                f = buf[4:4+l]; buf = buf[4+l:]; return f
        m, anc, fl, a = s.recvmsg(1 << 20, 64)
        if not m: raise SystemExit('eof')
        buf += m
def call(body):
    s.sendall(struct.pack('>I', len(body)) + body); return recvframe()
def parse(msg):
    i = 0; f = {}
    while i < len(msg):
        k, i = rdvar(msg, i); n, wt = k >> 3, k & 7
        if wt == 0: v, i = rdvar(msg, i)
        elif wt == 2: l, i = rdvar(msg, i); v = msg[i:i+l]; i += l
        else: raise SystemExit('wt %d' % wt)
        f.setdefault(n, []).append(v)
    return f
call(fld(1,0)+varint(1)+ld(2, fld(1,0)+varint(1)+ld(2, pool)))
rid = 2
for r in range(N):
    resp = parse(call(fld(1,0)+varint(rid)+ld(3, fld(2,0)+varint(B)))); rid += 1
    if 2 in resp and resp[2][0]: raise SystemExit('alloc status %d' % resp[2][0])
    pages = parse(resp[6][0]); packed = pages[1][0]
    call(fld(1,0)+varint(rid)+ld(4, ld(1, packed))); rid += 1
print('pages', B * N)
