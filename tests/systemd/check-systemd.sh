#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-2-Clause
#
# check-systemd.sh - pagepool's units under a real systemd (make check-systemd).
#
# Boots a minimal Debian 12 root with systemd as PID 1 in systemd-nspawn and
# checks, inside it, what the units promise: sysusers.d and tmpfiles.d make
# the user and /run/pagepool; the first client starts pagepoold through its
# socket and the service becomes active by READY=1; pagepoolctl answers root
# and is refused to others; `systemctl reload` applies a new pcp_high; a
# worker held by the test hook stops the watchdog pings and systemd restarts
# the service; `systemctl stop` ends it with status 0 and every client sees
# its connection close; the journal carries the right priorities; the
# hardened unit lets the whole client, admin and offline/trim flow through;
# the metrics timer feeds a real node_exporter.  It does this twice, each in
# a fresh boot: once with `make install` into the container's /usr, once
# with the Debian packages (make deb) installed by dpkg.
#
#   usage: check-systemd.sh STAGE DEBDIR SD_CLIENT [install|deb|both]
#	STAGE	   a `make install DESTDIR=STAGE PREFIX=/usr` tree
#	DEBDIR	   where make deb left pagepoold_*.deb, pagepool-tools_*.deb and
#		   libpagepool2_*.deb
#	SD_CLIENT  tests/systemd/sd_client built against libpagepool.so.2
#
# Isolation.  nspawn runs with --register=no --keep-unit in a cgroup of its
# own (made here, under every hierarchy the host mounts, removed at the
# end), in a private mount namespace with a tmpfs on /run/systemd so that
# nspawn's state stays off the host, with --private-network and
# --volatile=overlay: the cached root is the read-only lower layer and
# every write of a run goes to a tmpfs that dies with the container.  The
# container is driven with nsenter -t <its PID 1> -a.  systemd is never
# started as PID 1 of a plain unshare: without a cgroup namespace of its own
# it would take over the host's cgroup tree.
#
# The root is made once by mmdebstrap (minbase, systemd, systemd-sysv, dbus,
# pagepool's runtime libraries, prometheus-node-exporter) from the apt
# sources this machine already uses, and cached in $PP_ROOT_CACHE
# (default /var/cache/pagepool-check) under a key made of its package list.
#
# Waits.  Nothing sleeps for a fixed time and assumes: boot readiness comes
# from nspawn's own sd_notify (--notify-ready=yes, received here), clients
# report "held" on a pipe and are waited for, and the few states that only
# systemd knows (a restart after the watchdog, a reload applied) are polled
# with a deadline, so a slow machine takes longer, never a different path.
#
# Runs as root on a Debian 12 host; anything else fails, saying why.  Where
# the kernel refuses containers (no mount or PID namespaces, no cgroup to
# make) every case is skipped with that reason.
# The summary is the last line: "systemd: N passed, N failed, N skipped".

set -uo pipefail

STAGE=${1:?usage: check-systemd.sh STAGE DEBDIR SD_CLIENT [install|deb|both]}
DEBDIR=${2:?}
SD_CLIENT=${3:?}
FROM=${4:-both}

PASS=0 FAIL=0 SKIP=0
T0=$(date +%s)
TMP=
NSPAWN=
CT=
CGS=()
LABEL=
NOTIFY_PID=
declare -A HOLD_PID=()

say() { printf '%s\n' "$*"; }
summary() {
	say "check-systemd: $(($(date +%s) - T0)) s in all"
	say "systemd: $PASS passed, $FAIL failed, $SKIP skipped"
}
ok() { PASS=$((PASS + 1)); say "ok   - [$LABEL] $*"; }
nok() { FAIL=$((FAIL + 1)); say "FAIL - [$LABEL] $*"; }
# check DESCRIPTION COMMAND...: one assertion; the command's output is shown
# when it fails.
check() {
	local desc=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$desc"
	else
		nok "$desc"
		printf '%s\n' "$out" | tail -n 30 | sed 's/^/       | /'
	fi
}
skip_all() {
	say "check-systemd: SKIPPED: $*"
	SKIP=$((SKIP + 1))
	summary
	exit 0
}
die() {
	nok "$*"
	summary
	exit 1
}

# ---- the container -----------------------------------------------------------

# Every command in the container is bounded (CT_TIMEOUT seconds, 120 by
# default): a daemon that stops answering fails a check, never hangs the run.
# The host's environment stays out (env -i): nothing of it may steer what
# runs inside.
ct() {
	timeout -k 5 "${CT_TIMEOUT:-120}" nsenter -t "$CT" -a -- \
		env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"
}
# ct_sh SCRIPT: a shell script inside the container.
ct_sh() { ct /bin/sh -c "$1"; }
# unit_prop UNIT PROP: one property's value.
unit_prop() { ct systemctl show -p "$2" --value "$1"; }

# wait_until SECONDS DESCRIPTION COMMAND...: poll COMMAND until it succeeds,
# for at most SECONDS; the deadline is a bound, not a synchronisation.
wait_until() {
	local limit=$1 desc=$2 end
	shift 2
	end=$(($(date +%s%N) + limit * 1000000000))
	until "$@" >/dev/null 2>&1; do
		if [ "$(date +%s%N)" -gt "$end" ]; then
			say "       | gave up after ${limit} s waiting for: $desc"
			return 1
		fi
		sleep 0.05
	done
}

cgroup_hierarchies() {
	if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
		echo /sys/fs/cgroup
		return
	fi
	local h
	for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified; do
		[ -f "$h/cgroup.procs" ] && echo "$h"
	done
}

cgroup_procs() { find "$1" -name cgroup.procs -exec cat {} + 2>/dev/null; }
cgroup_empty() { [ -z "$(cgroup_procs "$1")" ]; }
cgroup_remove() {
	local cg pid
	for cg in "${CGS[@]}"; do
		[ -d "$cg" ] || continue
		# Whatever is still in there (nothing, after a clean shutdown),
		# killed and waited for: a cgroup with a process cannot go.
		if ! cgroup_empty "$cg"; then
			cgroup_procs "$cg" | while read -r pid; do kill -KILL "$pid" 2>/dev/null; done
			wait_until 10 "the processes of $cg gone" cgroup_empty "$cg"
		fi
		find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null ||
			say "check-systemd: could not remove the cgroup $cg"
	done
	CGS=()
}

# A child that has exited (a zombie until waited for) or is gone.
proc_gone() { [ ! -e "/proc/$1" ] || [ "$(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# Stop the container: SIGTERM makes nspawn ask the container's systemd to
# power off (SIGRTMIN+3); a container that does not finish in 60 s is
# killed.
ct_stop() {
	local pid
	if [ -n "$NSPAWN" ] && kill -0 "$NSPAWN" 2>/dev/null; then
		kill -TERM "$NSPAWN" 2>/dev/null
		wait_until 60 "the container powered off" proc_gone "$NSPAWN" ||
			kill -KILL "$NSPAWN" 2>/dev/null
		wait "$NSPAWN" 2>/dev/null
	fi
	[ -n "$NOTIFY_PID" ] && { kill "$NOTIFY_PID" 2>/dev/null; wait "$NOTIFY_PID" 2>/dev/null; }
	for pid in "${HOLD_PID[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
	HOLD_PID=()
	NSPAWN= CT= NOTIFY_PID=
	cgroup_remove
}

cleanup() {
	trap '' INT TERM HUP	# a second Ctrl-C must not cut the cleanup short
	exec 7<&- 8<&-
	ct_stop
	[ -n "$TMP" ] && rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The listener of nspawn's sd_notify: prints every message, ends on READY=1.
NOTIFY_PY='
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(float(sys.argv[2]))
print("bound", flush=True)
while True:
    try:
        m = s.recv(4096).decode(errors="replace")
    except socket.timeout:
        print("timeout", flush=True)
        sys.exit(1)
    for line in m.splitlines():
        print(line, flush=True)
    if "READY=1" in m.splitlines():
        sys.exit(0)
'

# ct_boot ROOT: boot it; sets NSPAWN (nspawn's PID) and CT (the container's
# PID 1, as seen here).
ct_boot() {
	local root=$1 n=$((${N_BOOTS:-0} + 1)) cg h line
	N_BOOTS=$n
	local sock=$TMP/notify-$n.sock fifo=$TMP/notify-$n.fifo
	CGS=()
	for h in $(cgroup_hierarchies); do
		cg=$h/pagepool-check-$$-$n
		mkdir "$cg" || return 1
		CGS+=("$cg")
	done
	mkfifo "$fifo"
	python3 -c "$NOTIFY_PY" "$sock" 180 >"$fifo" &
	NOTIFY_PID=$!
	exec 7<"$fifo"
	if ! read -r -t 30 -u 7 line || [ "$line" != bound ]; then
		say "the notify listener did not start"
		exec 7<&-
		return 1
	fi
	(
		for cg in "${CGS[@]}"; do echo "$BASHPID" >"$cg/cgroup.procs" || exit 1; done
		export NOTIFY_SOCKET=$sock
		exec unshare --mount --propagation private -- /bin/sh -c '
			mkdir -p /run/systemd && mount -t tmpfs -o mode=0755 tmpfs /run/systemd &&
			exec systemd-nspawn --quiet -D "$0" --boot --register=no --keep-unit \
				--volatile=overlay --private-network --notify-ready=yes \
				--console=read-only --machine=pagepool-check' "$root"
	) </dev/null >"$TMP/console-$n.log" 2>&1 &
	NSPAWN=$!
	CT=
	# Up to 180 s for READY=1, and no longer than nspawn lives.
	local end=$(($(date +%s) + 180)) rc
	line=
	while [ "$(date +%s)" -lt "$end" ]; do
		read -r -t 5 -u 7 line
		rc=$?
		case $rc:$line in
		0:X_NSPAWN_LEADER_PID=*) CT=${line#X_NSPAWN_LEADER_PID=} ;;
		0:READY=1 | 0:timeout) break ;;
		0:*) ;;
		*) [ $rc -gt 128 ] && kill -0 "$NSPAWN" 2>/dev/null && continue
		   line=; break ;;	# EOF, or nspawn died
		esac
	done
	exec 7<&-
	if [ -z "$CT" ] || [ "$line" != READY=1 ]; then
		say "the container did not boot; its console:"
		tail -n 40 "$TMP/console-$n.log" | sed 's/^/       | /'
		return 1
	fi
	return 0
}

# ---- preflight ---------------------------------------------------------------

[ "$(id -u)" = 0 ] || die "needs root: it boots a container with systemd-nspawn (run: sudo make check-systemd)"
# The root is Debian 12 made from this host's apt sources, and the binaries
# under test are built here: the host must be Debian 12 as well.
. /etc/os-release
[ "${VERSION_CODENAME:-}" = bookworm ] ||
	die "the host is ${PRETTY_NAME:-unknown}, not Debian 12 (bookworm): the root is made from its apt sources"

need=()
command -v mmdebstrap >/dev/null || need+=(mmdebstrap)
command -v systemd-nspawn >/dev/null || need+=(systemd-container)
command -v nsenter >/dev/null || need+=(util-linux)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
	say "check-systemd: installing ${need[*]}"
	{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}"; } \
		>/dev/null || die "cannot install ${need[*]}"
fi

if ! why=$(unshare --mount --pid --uts --ipc --fork --mount-proc true 2>&1); then
	skip_all "the kernel refuses containers here (unshare of mount/PID/UTS/IPC namespaces: $why)"
fi
[ -n "$(cgroup_hierarchies)" ] || skip_all "the kernel refuses containers here (no cgroup hierarchy mounted)"
probe=$(cgroup_hierarchies | head -n 1)/pagepool-check-probe-$$
if ! why=$(mkdir "$probe" 2>&1); then
	skip_all "the kernel refuses containers here (cannot make a cgroup: $why)"
fi
rmdir "$probe"

TMP=$(mktemp -d /tmp/pagepool-check-systemd.XXXXXX)
chmod 0755 "$TMP"

# ---- the root ------------------------------------------------------------------

PKGS="systemd systemd-sysv dbus libsystemd0 liburcu8 libevent-2.1-7 libevent-pthreads-2.1-7
      libprotobuf-c1 libinih1 libjson-c5 prometheus-node-exporter"
CACHE=${PP_ROOT_CACHE:-/var/cache/pagepool-check}
KEY=$(printf 'bookworm minbase %s v1\n' "$(echo $PKGS | tr ' ' '\n' | sort | tr '\n' ' ')" |
	sha256sum | cut -c1-16)
ROOT=$CACHE/root-$KEY
LABEL=setup
if [ -f "$ROOT/.pagepool-check-complete" ]; then
	say "check-systemd: cached root $ROOT"
else
	say "check-systemd: making the root $ROOT (mmdebstrap, about 40 s)"
	mkdir -p "$CACHE"
	rm -rf "$CACHE"/root-*.new
	src=/etc/apt/sources.list.d/debian.sources
	[ -f "$src" ] || src=/etc/apt/sources.list
	t=$(date +%s)
	if ! mmdebstrap --quiet --variant=minbase --include="$(echo $PKGS | tr ' ' ',')" \
		bookworm "$ROOT.new" "$src" >"$TMP/mmdebstrap.log" 2>&1; then
		tail -n 30 "$TMP/mmdebstrap.log"
		die "mmdebstrap failed"
	fi
	touch "$ROOT.new/.pagepool-check-complete"
	# Older roots (another package list) go.
	for old in "$CACHE"/root-*; do
		[ "$old" = "$ROOT" ] || [ "$old" = "$ROOT.new" ] || rm -rf "$old"
	done
	mv "$ROOT.new" "$ROOT"
	say "check-systemd: root made in $(($(date +%s) - t)) s"
fi

# ---- the cases -----------------------------------------------------------------

CONF=/etc/pagepool/pagepoold.conf
SVC=pagepoold.service
PROM=/var/lib/prometheus/node-exporter/pagepool.prom
CLIENT=/usr/local/libexec/sd_client
# Clients run as ppclient, a member of the group pagepool: the default
# pool's `groups`, and the client socket's group.
client() { ct env PAGEPOOL_TIMEOUT_MS=30000 setpriv --reuid=ppclient --regid=ppclient --init-groups $CLIENT "$@"; }

# Properties of the service as one line, values only, in the order asked
# (systemctl show prints them in its own order).
props() {
	local all p
	all=$(ct systemctl show "${@/#/-p}" $SVC)
	for p in "$@"; do
		printf '%s ' "$(printf '%s\n' "$all" | sed -n "s/^$p=//p")"
	done
}
prop() { ct systemctl show -p "$1" --value $SVC; }
props_are() {
	local want=$1 got
	shift
	got=$(props "$@")
	[ "$got" = "$want" ] || { echo "$*: '$got', expected '$want'"; return 1; }
}
triggered_by_both() {
	local t
	t=$(props TriggeredBy)
	echo "TriggeredBy: $t"
	[[ " $t" == *" pagepoold.socket "* && " $t" == *" pagepoold-admin.socket "* ]]
}
# The service's journal (this boot only: the container's journal is volatile).
jrnl() { ct journalctl --no-pager -q -o cat -u $SVC "$@"; }
# The journal is read whole first: a failing journalctl fails the check
# (never an empty "no match"), and no grep -q after a pipe, which with
# pipefail would turn a match into journalctl's SIGPIPE.
jrnl_has() {
	local re=$1 out
	shift
	out=$(jrnl "$@") || { echo "journalctl failed"; return 1; }
	printf '%s\n' "$out" | grep -E -- "$re" >/dev/null
}
jrnl_lacks() {
	local re=$1 out hits
	shift
	out=$(jrnl "$@") || { echo "journalctl failed"; return 1; }
	hits=$(printf '%s\n' "$out" | grep -E -- "$re")
	[ -z "$hits" ] || { printf '%s\n' "$hits" | head -n 5; return 1; }
}
# The journal's cursor now: what comes after it is what a step logged.
jcursor() { ct journalctl -n 1 --show-cursor -o cat | sed -n 's/^-- cursor: //p'; }

# READY=1's STATUS= says "serving on SOCKET: ..."; the tick, every half
# watchdog interval, "serving N clients ...".
status_text_serving() { props StatusText | grep -E '^serving (on /run/pagepool/pagepool.sock|[0-9]+ client)' >/dev/null; }
# The container's whole journal (systemd's own lines included).
syslog_has() { ct journalctl --no-pager -q -o cat | grep -E -- "$1" >/dev/null; }
pid_changed() { [ "$(prop MainPID)" != "$1" ]; }

# hold_start NAME: a client holding pages in the background; it writes
# "held ID" into a pipe, which is read here, then waits for its connection
# to close.  Its rest goes to $HOLDDIR/NAME.out, its exit status to NAME.rc.
hold_start() {
	local name=$1 line
	mkfifo "$HOLDDIR/$name.fifo"
	(CT_TIMEOUT=180 client hold "" 16 >"$HOLDDIR/$name.fifo" 2>"$HOLDDIR/$name.err"
	 echo "exit $?" >"$HOLDDIR/$name.rc") &
	HOLD_PID[$name]=$!
	exec 8<"$HOLDDIR/$name.fifo"
	if read -r -t 30 -u 8 line && [ "${line%% *}" = held ]; then
		(cat <&8 >"$HOLDDIR/$name.out") &
		HOLD_PID[$name.out]=$!
		exec 8<&-
		return 0
	fi
	exec 8<&-
	return 1
}
# Still connected: their processes have not ended.
holders_connected() {
	local n
	for n in "$@"; do
		[ ! -e "$HOLDDIR/$n.rc" ] || { echo "$n ended:"; cat "$HOLDDIR/$n.err" "$HOLDDIR/$n.rc"; return 1; }
	done
}
# Wait for the holder (bounded by its own 120 s poll and ct's timeout), then
# it must have seen its connection close, and a call fail after it.
holder_saw_close() {
	local p
	for p in "$1" "$1.out"; do
		[ -n "${HOLD_PID[$p]:-}" ] && wait "${HOLD_PID[$p]}" 2>/dev/null
		unset "HOLD_PID[$p]"
	done
	grep -qx 'exit 0' "$HOLDDIR/$1.rc" && grep -q '^closed: ' "$HOLDDIR/$1.out" ||
		{ cat "$HOLDDIR/$1.err" "$HOLDDIR/$1.rc" "$HOLDDIR/$1.out"; return 1; }
}

# -- A. installed; the user and the runtime directory made by sysusers/tmpfiles
copy_stage() { tar -C "$STAGE" -cf - . | ct tar -C / --no-overwrite-dir -xf -; }
copy_debs() {
	tar -C "$DEBDIR" -cf - $(cd "$DEBDIR" && ls pagepoold_*.deb pagepool-tools_*.deb libpagepool2_*.deb) |
		ct sh -c 'mkdir -p /tmp/debs && tar -C /tmp/debs -xf - &&
			  DEBIAN_FRONTEND=noninteractive dpkg -i /tmp/debs/*.deb'
}
copy_client() { ct sh -c "mkdir -p ${CLIENT%/*} && cat > $CLIENT && chmod 0755 $CLIENT" <"$SD_CLIENT"; }
case_install() {
	if [ "$1" = install ]; then
		check "make install into the container's /usr" copy_stage
		check "ldconfig finds libpagepool.so.2" \
			ct_sh 'ldconfig && ldconfig -p | grep -q "libpagepool.so.2 "'
		check "systemd-sysusers and systemd-tmpfiles --create run clean" \
			ct_sh 'systemctl daemon-reload && systemd-sysusers && systemd-tmpfiles --create'
		check "the sockets are enabled and started" \
			ct systemctl enable --now pagepoold.socket pagepoold-admin.socket
	else
		check "dpkg -i pagepoold, pagepool-tools, libpagepool2" copy_debs
		check "the packages' sockets are enabled and listening" \
			ct_sh 'systemctl is-enabled pagepoold.socket pagepoold-admin.socket &&
			       systemctl is-active pagepoold.socket pagepoold-admin.socket'
	fi
	check "the pagepool system user exists (sysusers.d): no login shell, home /" \
		ct_sh 'getent passwd pagepool | grep -E "^pagepool:x:[0-9]+:[0-9]+:[^:]*:/:(/usr)?/sbin/nologin$" &&
		       getent group pagepool'
	check "/run/pagepool is 0755 pagepool:pagepool (tmpfiles.d)" \
		ct_sh '[ "$(stat -c "%a %U:%G" /run/pagepool)" = "755 pagepool:pagepool" ]'
	check "the client socket is 0660 pagepool:pagepool, the admin socket 0600" \
		ct_sh '[ "$(stat -c "%a %U:%G %F" /run/pagepool/pagepool.sock)" = "660 pagepool:pagepool socket" ] &&
		       [ "$(stat -c "%a %U:%G %F" /run/pagepool/pagepool-admin.sock)" = "600 pagepool:pagepool socket" ]'
	check "the test client goes in" copy_client
	check "a client user in the group pagepool" \
		ct useradd --no-create-home --shell /usr/sbin/nologin --groups pagepool ppclient
}

# -- B. the first client starts the service through the socket; READY=1
case_activation() {
	if [ "$1" = deb ]; then
		# dh_installsystemd starts a package's service at install, as
		# Debian does for every daemon; stopped, the sockets stay.
		check "the package started the service (dh_installsystemd)" \
			ct systemctl is-active $SVC
		check "systemctl stop pagepoold.service: the sockets stay listening" \
			ct_sh "systemctl stop $SVC && systemctl is-active pagepoold.socket pagepoold-admin.socket"
	fi
	check "pagepoold.service is not running before the first client" \
		ct_sh '! systemctl is-active --quiet pagepoold.service'
	check "the first client's connection starts pagepoold and is served (sd_client flow)" \
		client flow
	check "pagepoold.service is active (running), Type=notify, NRestarts=0" \
		props_are "notify active running 0 " Type ActiveState SubState NRestarts
	check "READY=1 came with the daemon's STATUS= line ('serving on ...')" status_text_serving
	check "socket-activated: TriggeredBy pagepoold.socket, both passed sockets in use" \
		triggered_by_both
	check "the start line names both sockets" \
		jrnl_has 'listening on /run/pagepool/pagepool.sock, admin /run/pagepool/pagepool-admin.sock'
	check "the daemon adopted both passed sockets (socket activation: fd N is ...)" \
		sockets_adopted
	check "drain, then trim gives the client's written pages back: resident bytes fall" \
		trim_returns
}

sockets_adopted() {
	jrnl_has '^socket activation: fd [0-9]+ is /run/pagepool/pagepool.sock$' &&
		jrnl_has '^socket activation: fd [0-9]+ is /run/pagepool/pagepool-admin.sock$'
}

# -- C. pagepoolctl: root yes, anyone else no
case_admin_access() {
	check "pagepoolctl status works as root" ct_sh 'pagepoolctl status | grep -q "^default "'
	check "pagepoolctl is refused to an unprivileged user (the admin socket is 0600)" \
		ct_sh 'out=$(setpriv --reuid=nobody --regid=nogroup --clear-groups pagepoolctl status 2>&1); rc=$?
		       echo "$out"; [ $rc -ne 0 ] && echo "$out" | grep -qi "permission denied"'
	check "a client connection is refused to a user outside the group pagepool" \
		ct_sh "out=\$(setpriv --reuid=nobody --regid=nogroup --clear-groups $CLIENT flow 2>&1); rc=\$?
		       echo \"\$out\"; [ \$rc -ne 0 ] && echo \"\$out\" | grep -qi 'permission denied'"
}

# -- D. the hardened unit lets everything the daemon does through
sandboxed() {
	local pid
	pid=$(prop MainPID)
	ct_sh "grep -q \"^Uid:[[:space:]]*\$(id -u pagepool)[[:space:]]\" /proc/$pid/status &&
	       grep -q '^CapEff:[[:space:]]*0000000000000000' /proc/$pid/status &&
	       grep -q '^NoNewPrivs:[[:space:]]*1' /proc/$pid/status &&
	       grep -q '^Seccomp:[[:space:]]*2' /proc/$pid/status"
}
resident() { ct pagepoolctl --json status | sed -n 's/.*"resident_bytes": \([0-9]*\).*/\1/p' | head -n 1; }
trim_returns() {
	local before after
	ct pagepoolctl drain >/dev/null || return 1
	before=$(resident)
	ct pagepoolctl trim || return 1
	after=$(resident)
	echo "resident bytes before trim $before, after $after"
	[ "$before" -gt 0 ] && [ "$after" -lt "$before" ]
}
# Nothing at warning or worse from the unit yet (a call the filter refused
# would show as a warning: "cannot pin", "trim: ..."), and no trace of the
# filter or a sandbox refusal anywhere.
no_filter_trouble() {
	jrnl_lacks . -p warning && jrnl_lacks '[Oo]peration not permitted|[Pp]ermission denied|[Bb]ad system call|SIGSYS|seccomp'
}
# Every worker thread pinned to one CPU (sched_setaffinity got through).
workers_pinned() {
	local pid n workers
	pid=$(prop MainPID)
	workers=$(ct pagepoolctl --json status | sed -n 's/.*"workers": \([0-9]*\).*/\1/p')
	n=$(ct_sh "grep -h '^Cpus_allowed_list:' /proc/$pid/task/*/status" | awk '$2 ~ /^[0-9]+$/' | wc -l)
	echo "$n threads pinned to one CPU, $workers workers"
	[ -n "$workers" ] && [ "$n" -ge "$workers" ]
}
case_hardened_flow() {
	# From here on a call outside the filter kills the daemon (SIGSYS)
	# instead of failing with EPERM, which the daemon might shrug off.
	check "a drop-in: SystemCallErrorNumber= empty, so the filter kills; restarted" \
		ct_sh "mkdir -p /run/systemd/system/$SVC.d &&
		       printf '[Service]\nSystemCallErrorNumber=\n' >/run/systemd/system/$SVC.d/40-sigsys.conf &&
		       systemctl daemon-reload && systemctl restart $SVC && systemctl is-active --quiet $SVC &&
		       [ \"\$(systemctl show -p SystemCallErrorNumber --value $SVC)\" != 1 ]"
	check "the daemon runs as pagepool, no capabilities, no_new_privs, seccomp filter" sandboxed
	hold_start flowhold && ok "a client holds pages" || nok "a client holds pages"
	check "the client flow again, beside a holding client" client flow
	local cmd
	for cmd in "status" "stats" "buddyinfo" "pcp" "clients" "drain" "drain --mode workqueue" \
		"drain --clients" "set-pcp --pool default --high 64 --batch 8" \
		"offline default 4096 1024 --timeout 10" "online default 4096 1024" \
		"verify" "metrics" "--json status"; do
		check "pagepoolctl $cmd" ct_sh "pagepoolctl $cmd >/dev/null"
	done
	check "the offline range came back: nothing offline, verify ok" \
		ct_sh 'pagepoolctl --json status | grep -q "\"offline\": 0," && pagepoolctl verify | grep -q "pool default: ok"'
	check "every worker pinned to its CPU (sched_setaffinity passes the filter)" workers_pinned
	check "no warning or error in the journal, no EPERM or SIGSYS from the sandbox" no_filter_trouble
	check "still active, no restart (no SIGSYS)" props_are "active 0 success " ActiveState NRestarts Result
}

# -- E. systemctl reload applies a new pcp_high; a broken file changes nothing
pcp_high_is() {
	local highs
	highs=$(ct pagepoolctl --json pcp | sed -n 's/.*"high": \([0-9]*\).*/\1/p' | sort -u)
	echo "pcp high: $highs"
	[ "$highs" = "$1" ]
}
case_reload() {
	local pid
	pid=$(prop MainPID)
	check "pcp_high = 200 in the config file" \
		ct_sh "sed -i 's/^pcp_high *=.*/pcp_high = 200/' $CONF && grep -q '^pcp_high = 200' $CONF"
	check "systemctl reload pagepoold" ct systemctl reload $SVC
	check "it returned with every worker's pcp high at 200" pcp_high_is 200
	check "the same process: reloaded, not restarted" props_are "$pid " MainPID
	check "the audit line names the change, and ExecReload's uid (pagepool's)" \
		jrnl_has "^admin uid $(ct id -u pagepool) pid [0-9]+: reload: 1 change: pool default: pcp high 200"
	check "a broken config file: systemctl reload fails" \
		ct_sh "cp $CONF /tmp/good.conf && echo 'this is not a key' >> $CONF && ! systemctl reload $SVC"
	check "the refusal is logged at warning priority with FILE:LINE" \
		jrnl_has 'reload: refused, running configuration kept: /etc/pagepool/pagepoold.conf:[0-9]+: syntax error' -p warning..warning
	check "still running: the same process, still pcp high 200" \
		props_are "$pid active running " MainPID ActiveState SubState
	check "pcp high is still 200" pcp_high_is 200
	local cur
	check "the holding client is still connected: a reload closes nothing" holders_connected flowhold
	cur=$(jcursor)
	check "a restart with the broken file fails in ExecStartPre (Result=exit-code)" \
		ct_sh "! systemctl restart $SVC && [ \"\$(systemctl show -p Result --value $SVC)\" = exit-code ]"
	check "ExecStartPre's --check-config named FILE:LINE in the journal, at error priority" \
		jrnl_has 'pagepoold.conf:[0-9]+: syntax error' -p err..err --after-cursor "$cur"
	check "the holding client saw its connection close when the daemon stopped" \
		holder_saw_close flowhold
	check "the good file back: the service starts again" \
		ct_sh "cp /tmp/good.conf $CONF && systemctl reset-failed $SVC && systemctl start $SVC && systemctl is-active --quiet $SVC"
}

# -- F. the metrics timer feeds node_exporter
scrape() {
	ct /bin/bash -c 'exec 3<>/dev/tcp/127.0.0.1/9100 &&
		printf "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && cat <&3' >"$TMP/scrape" &&
		grep -q '^pagepool_pages{pool="default",state="free"} [0-9]' "$TMP/scrape" &&
		grep -q '^node_textfile_scrape_error 0' "$TMP/scrape"
}
case_metrics() {
	check "node_exporter is running in the container" \
		wait_until 30 "prometheus-node-exporter active" ct systemctl is-active prometheus-node-exporter.service
	check "pagepool-metrics.service runs (its ExecCondition asks systemctl) and succeeds" \
		ct_sh "systemctl start pagepool-metrics.service && [ \"\$(systemctl show -p Result --value pagepool-metrics.service)\" = success ]"
	check "the textfile is there, 0644 and whole, no temporary left" \
		ct_sh "[ \"\$(stat -c %a $PROM)\" = 644 ] && grep -q '^# TYPE pagepool_allocations_total counter' $PROM &&
		       grep -q '^pagepool_build_info' $PROM && [ \"\$(ls -A ${PROM%/*})\" = pagepool.prom ]"
	check "the timer is enabled and active" \
		ct_sh 'systemctl enable --now pagepool-metrics.timer && systemctl is-active --quiet pagepool-metrics.timer'
	check "node_exporter serves pagepool_ metrics over HTTP on 127.0.0.1:9100" \
		wait_until 30 "pagepool_ samples from node_exporter" scrape
	say "       | $(grep -c '^pagepool_' "$TMP/scrape") pagepool_ samples served"
	# Off again: a run that passed its ExecCondition just before a later
	# `systemctl stop` would start the daemon again through its socket.
	check "the timer stops" ct systemctl stop pagepool-metrics.timer
}

# -- G. the watchdog: a worker held in a callback, systemd restarts the service
restarted() { props_are "$(($1 + 1)) active running " NRestarts ActiveState SubState; }
case_watchdog() {
	local pid restarts
	check "a drop-in: test hooks on, WatchdogSec=3s, no core file" \
		ct_sh "mkdir -p /run/systemd/system/$SVC.d &&
		       printf '[Service]\nEnvironment=PAGEPOOLD_TEST_HOOKS=1\nWatchdogSec=3s\nLimitCORE=0\n' >/run/systemd/system/$SVC.d/50-check.conf &&
		       systemctl daemon-reload && systemctl restart $SVC && systemctl is-active --quiet $SVC"
	pid=$(prop MainPID)
	restarts=$(prop NRestarts)
	check "SIGUSR1 holds worker 0 inside a callback (test hook)" \
		ct systemctl kill --kill-whom=main --signal=SIGUSR1 $SVC
	check "the watchdog fires and systemd restarts the service" \
		wait_until 40 "NRestarts > $restarts, active" restarted "$restarts"
	check "the journal says why: systemd's watchdog timeout" \
		syslog_has 'pagepoold.service: Watchdog timeout \(limit 3s\)!'
	check "a new process" pid_changed "$pid"
	check "the restarted daemon serves clients" client flow
	ct_sh "rm -f /run/systemd/system/$SVC.d/50-check.conf && systemctl daemon-reload && systemctl restart $SVC"
}
# -- H. the journal's priorities, and no timestamps of the daemon's own in it
case_journal() {
	check "info: the start line" jrnl_has '^pagepoold [0-9.]+: listening on' -p info..info
	check "info: the audit line of an admin action, with uid and pid" \
		jrnl_has '^admin uid 0 pid [0-9]+: set-pcp' -p info..info
	check "warning: the test hook's line" \
		jrnl_has '^test hook: worker 0 held online' -p warning..warning
	check "error: the broken file, from ExecStartPre's --check-config" \
		jrnl_has 'pagepoold.conf:[0-9]+: syntax error' -p err..err
	check "nothing at debug (log_level = info)" jrnl_lacks . -p debug..debug
	check "no line carries an ISO 8601 stamp of the daemon's own" \
		jrnl_lacks '^[0-9]{4}-[0-9]{2}-[0-9]{2}T'
}

client_starts_it() { client flow && ct systemctl is-active --quiet $SVC; }

# -- I. systemctl stop: exit status 0, every client sees its connection close
case_stop() {
	local i all=1 cur
	for i in 1 2 3; do
		hold_start "stop$i" || all=0
	done
	[ $all = 1 ] && ok "three clients hold pages" || nok "three clients hold pages"
	check "all three still connected before the stop" holders_connected stop1 stop2 stop3
	cur=$(jcursor)
	check "systemctl stop pagepoold" ct systemctl stop $SVC
	check "it exited with status 0 (Result=success)" \
		props_are "1 0 success inactive " ExecMainCode ExecMainStatus Result ActiveState
	for i in stop1 stop2 stop3; do
		check "client $i saw its connection close" holder_saw_close $i
	done
	check "the journal says: SIGTERM, shutting down, then stopped" \
		jrnl_has '^Terminated: shutting down$' --after-cursor "$cur"
	check "... and its last word is stopped" stopped_last "$cur"
	check "with the daemon stopped, the metrics run is skipped and starts nothing" \
		ct_sh "systemctl start pagepool-metrics.service; ! systemctl is-active --quiet $SVC &&
		       [ \"\$(systemctl show -p Result --value pagepool-metrics.service)\" = exec-condition ]"
	check "the sockets stay: the next client starts it again" client_starts_it
}
stopped_last() {
	local last
	last=$(ct journalctl -q -o cat _SYSTEMD_UNIT=$SVC --after-cursor "$1" | tail -n 1)
	echo "last line: $last"
	[ "$last" = stopped ]
}

run_cases() {
	local how=$1
	LABEL=$how
	say "== $how: booting a fresh container"
	local t=$(date +%s)
	if ! ct_boot "$ROOT"; then
		nok "the container boots"
		ct_stop
		return
	fi
	check "systemd in the container is up: is-system-running" \
		ct systemctl is-system-running --wait
	say "   booted in $(($(date +%s) - t)) s (container PID 1 is $CT here)"
	local fails=$FAIL
	HOLDDIR=$TMP/$how	# each run's holders' files apart
	mkdir -p "$HOLDDIR"
	case_install "$how"
	case_activation "$how"
	case_admin_access
	case_hardened_flow
	case_reload
	case_metrics
	case_watchdog
	case_journal
	case_stop
	if [ "$FAIL" != "$fails" ]; then
		say "   the container's journal, last 60 lines:"
		ct journalctl --no-pager -q -n 60 | sed 's/^/       | /'
	fi
	ct_stop
	say "   $how: $(($(date +%s) - t)) s"
}

case $FROM in
install) run_cases install ;;
deb) run_cases deb ;;
both) run_cases install; run_cases deb ;;
*) die "unknown mode $FROM (install, deb or both)" ;;
esac

summary
[ "$FAIL" = 0 ]
