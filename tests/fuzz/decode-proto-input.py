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
    return "nop"


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
        n = h & 0x1f
        if h & 0x20:
            n = n << 8 | (data[i] if i < len(data) else 0)
            i += 1
        chunk = data[i:i + n]
        i += n
        print("  %-5s %4d bytes: %s" % (STREAMS[kind], len(chunk), chunk.hex(" ")))


main()
