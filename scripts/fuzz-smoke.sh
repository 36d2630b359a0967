#!/usr/bin/env bash
# Runs every native Go fuzz target of the module for a short fixed time (default 8 s each):
# the smoke test .ci/run uses. A crasher fails the run; Go writes it under the package's
# testdata/fuzz/<Target>/, where it becomes a regression test once committed (and fixed).
#   scripts/fuzz-smoke.sh [SECONDS]
#   scripts/fuzz-smoke.sh --self-test     checks the log classifier below on sample logs
#
# One failure is not ours: with a duration -fuzztime, Go's fuzzing coordinator (internal/fuzz,
# CoordinateFuzzing, still in go1.26) can report the end of its own time budget as
# "context deadline exceeded" when the deadline wins a race against the cancellation of its
# workers (golang/go#51484, #75804). Such a run found nothing: no input written, no test
# failure, no panic. When a run fails with that line and nothing else, the target is run once
# more with a COUNT budget (-fuzztime Nx, N = the executions the first run reached), which has
# no deadline and so cannot meet the race; the retry's result is the target's result. Any
# other failure, and any failure of the retry, fails the smoke test.
set -euo pipefail
cd "$(dirname "$0")/.."

# deadline_only LOG: true when LOG failed only because the fuzz time budget ran out.
deadline_only() {
	grep -q '^    context deadline exceeded$' "$1" &&
		! grep -qiE 'failing input written|^panic:|_test\.go:[0-9]+:|found a crash|fuzz: minimizing' "$1" &&
		[ "$(grep -c -- '^--- FAIL' "$1")" -eq 1 ]
}

# execs_reached LOG: the last execution count the coordinator printed.
execs_reached() {
	sed -n 's/.*execs: \([0-9][0-9]*\) .*/\1/p' "$1" | tail -1
}

if [ "${1:-}" = --self-test ]; then
	t=$(mktemp -d)
	trap 'rm -rf "$t"' EXIT
	printf '%s\n' 'fuzz: elapsed: 6s, execs: 157499 (33018/sec), new interesting: 37 (total: 106)' \
		'fuzz: elapsed: 6s, execs: 157499 (0/sec), new interesting: 37 (total: 106)' \
		'--- FAIL: FuzzParseManifest (6.46s)' '    context deadline exceeded' 'FAIL' >"$t/race"
	printf '%s\n' 'fuzz: elapsed: 2s, execs: 9000 (4500/sec), new interesting: 3 (total: 9)' \
		'--- FAIL: FuzzParse (2.01s)' '    --- FAIL: FuzzParse (0.00s)' \
		'        parse_test.go:41: bad entry' \
		'    Failing input written to testdata/fuzz/FuzzParse/0123abcd' 'FAIL' >"$t/crash"
	printf '%s\n' 'fuzz: elapsed: 3s, execs: 100 (33/sec)' '--- FAIL: FuzzX (3.00s)' \
		'    context deadline exceeded' '    fuzzing process hung or terminated unexpectedly: exit status 2' \
		'    Failing input written to testdata/fuzz/FuzzX/77' >"$t/hang"
	printf '%s\n' 'panic: runtime error: index out of range' '--- FAIL: FuzzY (1.00s)' \
		'    context deadline exceeded' >"$t/panic"
	ok=true
	deadline_only "$t/race" || { echo "self-test: the coordinator race was not recognised" >&2; ok=false; }
	[ "$(execs_reached "$t/race")" = 157499 ] || { echo "self-test: execs not read" >&2; ok=false; }
	for f in crash hang panic; do
		if deadline_only "$t/$f"; then echo "self-test: a real failure ($f) was taken for the race" >&2; ok=false; fi
	done
	$ok && echo "fuzz-smoke self-test: ok"
	$ok
	exit
fi

secs=${1:-8}
n=0
retried=0
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Targets are found by name in the test files (go test -list would run each package's TestMain,
# which builds signed fixtures, once more per package).
for dir in $(go list -f '{{.Dir}}' ./...); do
	pkg=./${dir#"$PWD"/}
	targets=$({ grep -h '^func Fuzz' "$dir"/*_test.go 2>/dev/null || true; } | sed -n 's/^func \(Fuzz[A-Za-z0-9_]*\)(.*testing\.F).*/\1/p' | sort -u)
	for f in $targets; do
		echo "fuzz $pkg $f (${secs}s)"
		if ! go test -run '^$' -fuzz "^${f}\$" -fuzztime "${secs}s" -fuzzminimizetime 5s "$pkg" >"$log" 2>&1; then
			count=$(execs_reached "$log")
			if deadline_only "$log" && [ -n "$count" ] && [ "$count" -gt 0 ]; then
				echo "fuzz-smoke: $f ended with the coordinator's deadline race (nothing found); running it again for ${count} executions"
				retried=$((retried + 1))
				if ! go test -run '^$' -fuzz "^${f}\$" -fuzztime "${count}x" -fuzzminimizetime 5s "$pkg" >"$log" 2>&1; then
					cat "$log"
					echo "fuzz-smoke: $f in $pkg failed (on the count-budget retry)" >&2
					exit 1
				fi
			else
				cat "$log"
				echo "fuzz-smoke: $f in $pkg failed" >&2
				exit 1
			fi
		fi
		grep -E '^(ok|PASS)|elapsed' "$log" | tail -1
		n=$((n + 1))
	done
done
echo "fuzz-smoke: $n targets, ${secs}s each, no crasher ($retried retried after the coordinator's deadline race)"
