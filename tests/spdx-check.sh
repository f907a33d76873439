#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
#
# spdx-check.sh - every tracked source file names its licence.
#
#   tests/spdx-check.sh [DIR]     (DIR: the source tree, default: this script's ../)
#
# Prints each tracked *.c, *.h, *.sh, *.mk, *.proto file and Makefile that
# has no "SPDX-License-Identifier:" line, then a count; exits 1 if there is
# any, 0 if there is none.  Outside a git checkout (an unpacked tarball) it
# looks at the same kinds of files on disk, build/ and run/ aside.
set -u
dir=${1:-$(dirname "$0")/..}
cd "$dir" || exit 2

list() {
	if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
		git ls-files -z -- '*.c' '*.h' '*.sh' '*.mk' '*.proto' 'Makefile' '*/Makefile' |
			tr '\0' '\n'
	else
		find . \( -path ./build -o -path ./run -o -path ./.git \) -prune -o -type f \
			\( -name '*.c' -o -name '*.h' -o -name '*.sh' -o -name '*.mk' \
			-o -name '*.proto' -o -name Makefile \) -print | sed 's|^\./||' | sort
	fi
}

missing=0
total=0
# No file name in this tree has blanks in it.  A tracked file deleted from
# the work tree is not there to check.
for f in $(list); do
	[ -f "$f" ] || continue
	total=$((total + 1))
	if ! grep -q 'SPDX-License-Identifier:' "$f"; then
		echo "$f"
		missing=$((missing + 1))
	fi
done
echo "spdx-check: $missing of $total files lack an SPDX-License-Identifier: line"
[ "$missing" -eq 0 ]
