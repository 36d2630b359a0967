#!/usr/bin/env bash
# Fleet-scale benchmark of `edrpolicy generate --evidence` (issue 16): scripts/fleetgen writes
# osqueryd event lines (one JSON line per row, as osqueryd logs differential results) for
# HOSTS hosts × FILES files × REPEAT runs; generate reads them and writes the policy. Prints
# rows, file size, wall time, rows/s and peak RSS (GNU time -v) per configuration. Peak RSS
# must not grow with the row count.
#
#   scripts/bench-fleet.sh                      # 1M rows (100 hosts), 10M rows (1,000 hosts),
#                                               # 10M rows (100 hosts, 10 runs each)
#   scripts/bench-fleet.sh 100:1 1000:1         # HOSTS:REPEAT configurations
#   BENCH_FILES=10000 BENCH_DIR=/big/tmp scripts/bench-fleet.sh
#
# Needs: go, GNU time (/usr/bin/time). Each configuration's log (about 350 bytes a row: 3.5 GB
# for 10M rows) is written to the work dir and removed after its run.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x /usr/bin/time ] || { echo "bench-fleet: GNU time is required (apt-get install time)" >&2; exit 2; }
files=${BENCH_FILES:-10000}
work=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/edrpolicy-bench-fleet.XXXXXX")}
mkdir -p "$work"
if [ -z "${BENCH_DIR:-}" ]; then trap 'rm -rf "$work"' EXIT; fi
CGO_ENABLED=0 go build -o "$work/edrpolicy" ./cmd/edrpolicy
CGO_ENABLED=0 go build -o "$work/fleetgen" ./scripts/fleetgen
configs=("$@")
[ ${#configs[@]} -gt 0 ] || configs=(100:1 1000:1 100:10)

printf '%-12s %-8s %-7s %-10s %-9s %-9s %-12s %-10s\n' ROWS HOSTS REPEAT FILES LOG_MIB WALL_S ROWS_PER_S PEAK_RSS_MIB
for c in "${configs[@]}"; do
	hosts=${c%%:*} repeat=${c##*:}
	rows=$((hosts * files * repeat))
	"$work/fleetgen" -hosts "$hosts" -files "$files" -repeat "$repeat" >"$work/day.log"
	mib=$(($(stat -c %s "$work/day.log") / 1048576))
	code=0
	/usr/bin/time -v "$work/edrpolicy" generate --profile code42 --os windows --level hash \
		--evidence "$work/day.log" --out "$work/out" >"$work/stdout" 2>"$work/time.txt" || code=$?
	if [ "$code" -gt 1 ]; then
		cat "$work/time.txt" >&2
		echo "bench-fleet: generate exited $code for $c" >&2
		exit 1
	fi
	wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt" | awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
	rps=$(awk -v r="$rows" -v w="$wall" 'BEGIN { printf "%.0f", r / w }')
	printf '%-12s %-8s %-7s %-10s %-9s %-9s %-12s %-10s\n' "$rows" "$hosts" "$repeat" "$files" "$mib" "$wall" "$rps" $((rss / 1024))
	grep -q '"rows": '"$rows"',' "$work/out/policy.json" || { echo "bench-fleet: policy.json does not count $rows rows" >&2; exit 1; }
	rm -f "$work/day.log"
done
