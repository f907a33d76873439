# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=sh
# daemon.sh - sourced by the bench scripts that run their client against one
# pagepoold at a time (ccache-bench.sh, pipe-bench.sh): their arguments
# checked, QUICK read, a private mktemp dir, and the daemon started on it,
# waited for through --ready-fd and stopped whatever happens.
#
#   bench_init NAME PAGEPOOLD CLIENT
#       NAME prefixes every message.  Exits 1 unless both binaries are
#       executable and CPUs 0 and 1 are online.  Sets daemon and bin (the
#       binaries), quick (1 when QUICK is set and not 0 or no, else empty)
#       and tmp (a new directory under $TMPDIR, removed on exit), and traps
#       EXIT (daemon_stop, then the removal) and INT and TERM (exit 1).
#   daemon_start DIR [STRACE_OUT [STRACE_OPTION...]]
#       Start pagepoold -f -c DIR/pagepoold.conf (the caller wrote it), its
#       stderr in DIR/daemon.log, and wait for the READY it writes to
#       --ready-fd (through the FIFO DIR/ready); exits 1, the log on stderr,
#       if it dies first.  With STRACE_OUT: under `strace -f -qq -o
#       STRACE_OUT STRACE_OPTION...`.  The daemon's pid in dpid (under
#       strace: strace's in spid).
#   daemon_stop
#       SIGTERM to the daemon started last, and wait for it (under strace,
#       for strace, which ends with its tracee).  Nothing running: nothing.

bench_init() {
	me=$1
	daemon=$2
	bin=$3
	for f in "$daemon" "$bin"; do
		[ -x "$f" ] || { echo "$me: $f is not executable" >&2; exit 1; }
	done
	[ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ] ||
		{ echo "$me: needs CPUs 0 and 1" >&2; exit 1; }
	# shellcheck disable=SC2034 # quick is the sourcing script's
	case ${QUICK:-} in
	'' | 0 | no) quick= ;;
	*) quick=1 ;;
	esac
	dpid=
	spid=
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/$me.XXXXXX")
	trap 'daemon_stop; rm -rf "$tmp"' EXIT
	trap 'exit 1' INT TERM
}

daemon_start() {
	ds_dir=$1
	shift
	mkfifo "$ds_dir/ready"
	if [ $# -gt 0 ]; then
		ds_out=$1
		shift
		strace -f -qq -o "$ds_out" "$@" \
			"$daemon" -f -c "$ds_dir/pagepoold.conf" --ready-fd 3 3>"$ds_dir/ready" \
			2>"$ds_dir/daemon.log" &
		spid=$!
	else
		"$daemon" -f -c "$ds_dir/pagepoold.conf" --ready-fd 3 3>"$ds_dir/ready" \
			2>"$ds_dir/daemon.log" &
		dpid=$!
	fi
	read -r ds_line <"$ds_dir/ready" || ds_line=
	[ "$ds_line" = READY ] ||
		{ echo "$me: pagepoold did not start:" >&2; cat "$ds_dir/daemon.log" >&2; exit 1; }
	if [ -n "$spid" ]; then
		dpid=$(awk '{ print $1 }' "/proc/$spid/task/$spid/children" 2>/dev/null)
		[ -n "$dpid" ] || { echo "$me: no pagepoold under strace" >&2; exit 1; }
	fi
}

daemon_stop() {
	if [ -n "$dpid" ] && kill "$dpid" 2>/dev/null; then
		wait "${spid:-$dpid}" 2>/dev/null || :
	fi
	dpid=
	spid=
}
