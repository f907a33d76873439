# SPDX-License-Identifier: BSD-2-Clause
# callgrind.sh - sourced by bench-core.sh and bench-peers.sh: instruction
# counts from callgrind for binaries that speak bench_core's interface
# (`BIN --callgrind CASE N` runs exactly N operations between
# CALLGRIND_ZERO_STATS and CALLGRIND_DUMP_STATS_AT and prints "ops COUNT").
#
# Every case is run twice, with N1 and N2 = 2*N1 iterations, so that
# whatever is left of set-up and warm-up cancels:
#
#   instructions/op = (Ir(N2) - Ir(N1)) / (ops(N2) - ops(N1))
#
# The functions keep to their positional parameters and cg_-prefixed names,
# so they leave the sourcing script's variables alone.

# cg_valgrind OUT BIN CASE N: run `BIN --callgrind CASE N` under callgrind,
# prefixed by $CG_PREFIX (e.g. "taskset -c 0"; empty by default).  The dump
# is OUT.1, the binary's stdout and stderr OUT.stdout and OUT.stderr.  The
# exit status is valgrind's.
cg_valgrind() {
	# shellcheck disable=SC2086
	${CG_PREFIX:-} valgrind --tool=callgrind --dump-instr=no --collect-jumps=no \
		--callgrind-out-file="$1" "$2" --callgrind "$3" "$4" \
		>"$1.stdout" 2>"$1.stderr"
}

# cg_costs DUMP "F1 F2 ..." [HOW [CLONES]]: sum the cost of the named
# functions in one callgrind dump.  Prints "total f1=cost f2=cost ...".
# HOW = inclusive (the default): the inclusive cost of every call to f;
# HOW = callees: the inclusive cost of every call made from inside f, named
# "callees(f)".  CLONES = merge: GCC's clone suffixes (peer_get.isra.0) are
# dropped, so a clone counts as its function; CLONES = keep (the default):
# names are taken as they are.
# The format: fn= and cfn= lines name functions, "(id) name" the first time
# and "(id)" after; a calls= line is followed by one cost line whose 2nd
# field is the inclusive Ir of that call (positions: line, events: Ir).
cg_costs() {
	awk -v want="$2" -v how="${3:-inclusive}" -v clones="${4:-keep}" '
	function fname(s,   id, rest) {
		if (match(s, /^\([0-9]+\)/)) {
			id = substr(s, 2, RLENGTH - 2)
			rest = substr(s, RLENGTH + 1)
			sub(/^ /, "", rest)
			if (rest != "")
				names[id] = rest
			s = names[id]
		}
		if (clones == "merge")
			sub(/\..*$/, "", s)
		return s
	}
	/^fn=/ { cur = fname(substr($0, 4)); next }
	/^cfn=/ { callee = fname(substr($0, 5)); next }
	/^calls=/ { pending = 1; next }
	pending { incl[callee] += $2; from[cur] += $2; pending = 0; next }
	/^totals:/ { total = $2 }
	END {
		n = split(want, w, " ")
		line = total + 0
		for (i = 1; i <= n; i++)
			if (how == "callees")
				line = line " callees(" w[i] ")=" (from[w[i]] + 0)
			else
				line = line " " w[i] "=" (incl[w[i]] + 0)
		print line
	}' "$1"
}

# cg_record FILE CASE R1 R2 [FMT]: the two runs of CASE, each as
# "ops total f1=cost ..." (the ops line, then cg_costs), into one line
# appended to FILE, "CASE<TAB>instructions/op<TAB>f1 X + f2 Y; whole loop
# iteration Z", also shown on stdout.  Instructions/op are the functions'
# sum, printed with FMT (default %.1f; auto: %.1f below 100, %.0f above);
# "whole loop iteration" is the dump's total per op, left out for drain_*
# cases (a drain iteration also refills the pcps: its total means nothing).
cg_record() {
	echo "$3" "|" "$4" | awk -v name="$2" -v fmt="${5:-%.1f}" '
	{
		sep = 0
		for (i = 1; i <= NF; i++) if ($i == "|") sep = i
		ops = $(sep + 1) - $1
		loop = ($(sep + 2) - $2) / ops
		api = 0; parts = ""
		for (i = 3; i < sep; i++) {
			split($i, a, "="); split($(sep + i), b, "=")
			d = (b[2] - a[2]) / ops
			api += d
			parts = parts (parts == "" ? "" : " + ") sprintf("%s %.1f", a[1], d)
		}
		if (fmt == "auto")
			fmt = api < 100 ? "%.1f" : "%.0f"
		if (name ~ /^drain_/)
			printf "%s\t" fmt "\t%s\n", name, api, parts
		else
			printf "%s\t" fmt "\t%s; whole loop iteration %.1f\n", name, api, parts, loop
	}' >>"$1"
	printf '  %-16s %s\n' "$2" "$(tail -n 1 "$1" | cut -f2-)"
}
