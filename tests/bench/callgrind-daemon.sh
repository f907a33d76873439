#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# callgrind-daemon.sh PAGEPOOLD [BATCH:ROUNDS ...] - where a worker's time
# goes per page: pagepoold runs under callgrind, collecting only inside the
# worker's read callback (conn_read_cb: decoding, the allocator, ownership,
# encoding, the recv and send calls' user side), and one connection does
# ROUNDS x (Alloc(order 0, BATCH) + Free) through tests/bench/rawclient.py.
# The dump is written when pagepoold exits (SIGTERM); the table shows
# instructions per page allocated and freed (the connection's hello and
# first refill included: a few thousand instructions, noise at these round
# counts) and the functions that take the most of them (self cost).
# Default cases: 1:4000 16:1000 1024:100.  Needs valgrind, python3.
set -eu

daemon=${1:?usage: callgrind-daemon.sh PAGEPOOLD [BATCH:ROUNDS ...]}
shift
[ $# -gt 0 ] || set -- 1:4000 16:1000 1024:100
here=$(dirname "$0")
for t in valgrind callgrind_annotate python3; do
	command -v "$t" >/dev/null 2>&1 || { echo "callgrind-daemon: $t is needed" >&2; exit 1; }
done
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cg-daemon.XXXXXX")
vpid=
trap '[ -n "$vpid" ] && kill "$vpid" 2>/dev/null; rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM

cat >"$tmp/pagepoold.conf" <<EOF
[daemon]
socket = $tmp/pp.sock
socket_mode = 0600
workers = 0
decay_interval = 0
log_level = err

[pool default]
size = 1G
groups =
client_cache_high = 0
EOF

echo "| batch | rounds | instructions per page | top functions, instructions per page (self) |"
echo "| ---: | ---: | ---: | --- |"
for c in "$@"; do
	b=${c%%:*} n=${c#*:}
	rm -f "$tmp/pp.sock" "$tmp"/cg.out*
	valgrind --tool=callgrind --toggle-collect=conn_read_cb \
		--callgrind-out-file="$tmp/cg.out" "$daemon" -f -c "$tmp/pagepoold.conf" \
		2>"$tmp/vg.log" &
	vpid=$!
	i=0
	while [ ! -S "$tmp/pp.sock" ]; do
		i=$((i + 1))
		if [ $i -gt 600 ] || ! kill -0 "$vpid" 2>/dev/null; then
			echo "callgrind-daemon: pagepoold did not start under valgrind:" >&2
			cat "$tmp/vg.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	pages=$(python3 "$here/rawclient.py" "$tmp/pp.sock" default "$b" "$n" | sed -n 's/^pages //p')
	kill "$vpid"
	wait "$vpid" 2>/dev/null || :
	vpid=
	dump=$tmp/cg.out
	if [ ! -s "$dump" ] || [ -z "$pages" ]; then
		echo "callgrind-daemon: no profile" >&2
		exit 1
	fi
	callgrind_annotate --inclusive=no "$dump" 2>/dev/null | awk -v pages="$pages" -v b="$b" -v n="$n" '
		/PROGRAM TOTALS/ { gsub(",", "", $1); total = $1; next }
		/file:function/ { infn = 1; next }
		infn && NF >= 3 && $1 ~ /^[0-9,]+$/ && k < 6 {
			v = $1; gsub(",", "", v)
			f = $0; sub(/^ *[0-9,]+ *\([^)]*\) */, "", f)
			sub(/ \[.*/, "", f); sub(/.*:/, "", f)
			top = top sprintf("%s%s %.0f", k ? ", " : "", f, v / pages)
			k++
		}
		END { printf "| %d | %d | **%.0f** | %s |\n", b, n, total / pages, top }'
done
echo
echo "pagepoold under valgrind --tool=callgrind --toggle-collect=conn_read_cb, one worker, a 1 GiB"
echo "pool (default pcp); one connection of tests/bench/rawclient.py; a page is one order-0 page"
echo "allocated and freed.  System calls count only their user-space side."
