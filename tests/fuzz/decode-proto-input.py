#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""Print a fuzz_proto input (tests/fuzz/fuzz_proto.c) chunk by chunk.

    decode-proto-input.py FILE
"""
import sys

STREAMS = ["A", "B", "admin"]
CONTROL = {0: "half-close A", 1: "half-close B", 2: "toggle reading A",
           3: "toggle reading B", 4: "admin_decay", 5: "reconnect A",
           6: "reconnect B", 7: "reconnect admin"}
ADMIN = ["offline block", "online block", "offline pool", "online pool",
         "drain rcu", "drain workqueue", "verify", "reload"]
FREE = ["all", "first", "dup first", "first+1", "reversed", "+out of range"]


def control(op):
    if op in CONTROL:
        return CONTROL[op]
    if op < 32:
        v = op - 8
        s = "B" if v & 1 else "A"
        src = ("A" if v & 1 else "B") if (v >> 1) & 1 else s
        return "free via %s of %s's last pfns: %s" % (s, src, FREE[(v >> 2) % 6])
    if op < 48:
        v = op - 32
        return "admin %s (pfns of %s)" % (ADMIN[v >> 1], "B" if v & 1 else "A")
    if op < 56:
        return "hello %s pool %s" % ("B" if op & 4 else "A",
                                     ["''", "default", "small", "locked"][op & 3])
    return "malformed runs from %s, kind %d" % ("B" if op & 4 else "A", op & 3)


TOKENS = ["newest", "newest but %d", "newest, byte flipped (%d)", "wrong length (%d)",
          "random (%d)", "the last one again", "another connection's newest",
          "another connection's newest open"]
LOAN_HOW = ["hand-off"] * 4 + ["1 taker"] * 2 + ["2 takers"] * 2 + [
    "2 takers, keep", "1 taker, keep", "64 takers", "65 takers", "keep on a hand-off",
    "no count", "max_count + 1", "count beside a pfn"]


def token(y):
    how, arg = y & 7, y >> 3
    text = TOKENS[how]
    if how == 1:
        return text % arg
    if how in (2, 3, 4):
        return text % arg
    return text


def share(x, y):
    op = x & 7
    shares = [0, 1, 2, 65][x >> 3 & 3]
    if op == 0:
        return "offer %s of the last given, %d takers%s, form %d" % (
            ["all", "the first", "the first twice", "plus the other's first"][y & 3],
            shares, ", keep" if x & 32 else "", x >> 6)
    if op == 1:
        return "loan of %d order-%d blocks, %s" % (1 + (y & 15), x >> 3 & 7, LOAN_HOW[y >> 4])
    if op == 2:
        return "take: " + token(y)
    if op == 3:
        return "cancel: " + token(y)
    if op == 4:
        return "stat"
    if op == 5:
        return "dies (the connection closes)"
    if op == 6:
        return "offer all its own blocks of one order, %d takers%s" % (
            shares, ", keep" if x & 32 else "")
    return "free all it holds"


def main():
    data = open(sys.argv[1], "rb").read()
    if not data:
        return
    print("setup: reload config %d%s" % (data[0] & 7, ", B at once" if data[0] & 8 else ""))
    i = 1
    while i < len(data):
        h = data[i]
        i += 1
        kind = h >> 6
        if kind == 3:
            print("  ctl %2d: %s" % (h & 0x3f, control(h & 0x3f)))
            continue
        if kind < 2 and h & 0x3f == 0:
            x = data[i] if i < len(data) else 0
            y = data[i + 1] if i + 1 < len(data) else 0
            i += 2
            print("  share %s: %s" % (STREAMS[kind], share(x, y)))
            continue
        n = h & 0x1f
        if h & 0x20:
            n = n << 8 | (data[i] if i < len(data) else 0)
            i += 1
        chunk = data[i:i + n]
        i += n
        print("  %-5s %4d bytes: %s" % (STREAMS[kind], len(chunk), chunk.hex(" ")))


main()
