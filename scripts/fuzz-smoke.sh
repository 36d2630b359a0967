#!/usr/bin/env bash
# Runs every native Go fuzz target of the module for a short fixed time (default 8 s each):
# the smoke test .ci/run uses. A crasher fails the run; Go writes it under the package's
# testdata/fuzz/<Target>/, where it becomes a regression test once committed (and fixed).
#   scripts/fuzz-smoke.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
n=0
# Targets are found by name in the test files (go test -list would run each package's TestMain,
# which builds signed fixtures, once more per package).
for dir in $(go list -f '{{.Dir}}' ./...); do
	pkg=./${dir#"$PWD"/}
	targets=$({ grep -h '^func Fuzz' "$dir"/*_test.go 2>/dev/null || true; } | sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*testing\.F).*/\1/p' | sort -u)
	for f in $targets; do
		echo "fuzz $pkg $f (${secs}s)"
		go test -run '^$' -fuzz "^${f}\$" -fuzztime "${secs}s" -fuzzminimizetime 5s "$pkg" >/tmp/fuzz-smoke.$$.log 2>&1 || {
			cat /tmp/fuzz-smoke.$$.log
			echo "fuzz-smoke: $f in $pkg failed" >&2
			rm -f /tmp/fuzz-smoke.$$.log
			exit 1
		}
		grep -E '^(ok|PASS)|elapsed' /tmp/fuzz-smoke.$$.log | tail -1
		n=$((n + 1))
	done
done
rm -f /tmp/fuzz-smoke.$$.log
echo "fuzz-smoke: $n targets, ${secs}s each, no crasher"
