#!/usr/bin/env bash
# Benchmark: edrpolicy inspect against coreutils sha256sum on the same ~1 GiB tree, in the
# same run, and peak RSS while inspecting one 2 GiB file. Prints ratios, not absolute claims.
#
#   scripts/bench.sh            # tree in ${BENCH_DIR:-/tmp/edrpolicy-bench}, kept for reruns
#   BENCH_RUNS=5 scripts/bench.sh
#
# Needs: go, sha256sum, /usr/bin/time (GNU time), about 3.2 GiB of free disk.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-/tmp/edrpolicy-bench}
runs=${BENCH_RUNS:-3}
tree=$dir/tree
big=$dir/big.bin
bin=$dir/edrpolicy

command -v sha256sum >/dev/null || { echo "bench: sha256sum (coreutils) is required" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench: GNU time is required (apt-get install time)" >&2; exit 2; }
mkdir -p "$dir"
CGO_ENABLED=0 go build -o "$bin" ./cmd/edrpolicy

if [ ! -f "$tree/.complete" ]; then
  echo "bench: creating ~1 GiB tree in $tree (4,000 small files + 4 large files)" >&2
  rm -rf "$tree"; mkdir -p "$tree"
  # 4,000 small files of 4-124 KiB (about 250 MiB) in 40 folders, then 4 files of 200 MiB.
  python3 - "$tree" <<'PY'
import os, sys, random
root = sys.argv[1]; rnd = random.Random(42)
for i in range(4000):
    d = os.path.join(root, "d%02d" % (i % 40)); os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%04d.bin" % i), "wb") as f:
        f.write(os.urandom(4096 * rnd.randint(1, 31)))
PY
  for i in 1 2 3 4; do head -c $((200 << 20)) /dev/urandom > "$tree/large$i.bin"; done
  touch "$tree/.complete"
fi
many=$dir/many
if [ ! -f "$many/.complete" ]; then
  echo "bench: creating 100,000 empty files in $many" >&2
  rm -rf "$many"; mkdir -p "$many"
  python3 - "$many" <<'PY'
import os, sys
for d in range(100):
    sub = os.path.join(sys.argv[1], "d%03d" % d); os.makedirs(sub)
    for i in range(1000):
        open(os.path.join(sub, "f%04d" % i), "w").close()
PY
  touch "$many/.complete"
fi
if [ ! -f "$big" ]; then
  echo "bench: creating 2 GiB file $big" >&2
  head -c $((2 << 30)) /dev/urandom > "$big"
fi

files=$(find "$tree" -type f ! -name .complete | wc -l)
bytes=$(find "$tree" -type f ! -name .complete -printf '%s\n' | awk '{s+=$1} END {print s}')
# Warm the page cache so that both tools read from memory, not from disk.
find "$tree" -type f -exec cat {} + > /dev/null

# best-of-N wall time, in seconds
best() {
  local best_t=""
  for _ in $(seq "$runs"); do
    local t
    /usr/bin/time -o "$dir/time.out" -f '%e' "$@" > /dev/null 2>&1
    t=$(tail -1 "$dir/time.out")
    if [ -z "$best_t" ] || awk -v a="$t" -v b="$best_t" 'BEGIN{exit !(a<b)}'; then best_t=$t; fi
  done
  echo "$best_t"
}

t_edr=$(best "$bin" inspect --format json "$tree")
t_edr1=$(best "$bin" inspect --format json --jobs 1 "$tree")
t_sum=$(best sh -c "cd '$tree' && find . -type f ! -name .complete -print0 | xargs -0 sha256sum")
t_sump=$(best sh -c "cd '$tree' && find . -type f ! -name .complete -print0 | xargs -0 -P $(nproc) -n 100 sha256sum")

# Cross-check: both tools must agree on every digest.
"$bin" inspect --format json "$tree" | python3 -c '
import json, sys
inv = json.load(sys.stdin)
for f in inv["files"]:
    if f["path"] != ".complete": print(f["sha256"] + "  ./" + f["path"])
' | sort > "$dir/edr.sums"
(cd "$tree" && find . -type f ! -name .complete -print0 | xargs -0 sha256sum) | sort > "$dir/coreutils.sums"
if cmp -s "$dir/edr.sums" "$dir/coreutils.sums"; then agree=yes; else agree=NO; fi

t_many=$(best "$bin" inspect --format json "$many")
t_manysum=$(best sh -c "cd '$many' && find . -type f ! -name .complete -print0 | xargs -0 sha256sum")
many_n=$("$bin" inspect --format json "$many" | grep -c '"path"')

cat "$big" > /dev/null
/usr/bin/time -o "$dir/time.out" -f '%M' "$bin" inspect --format json "$big" > /dev/null
rss=$(tail -1 "$dir/time.out")
t_big=$(best "$bin" inspect --format json "$big")
t_bigsum=$(best sha256sum "$big")

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a > 0) printf "%.2f", b / a; else print "inf" }'; }
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.0f", b / 1048576 }')
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), sha_ni: $(grep -qm1 sha_ni /proc/cpuinfo && echo yes || echo no)"
echo "tree: $files files, $mib MiB (page cache warm), best of $runs runs"
printf '%-52s %8ss\n' "edrpolicy inspect --format json (jobs=$(nproc))" "$t_edr"
printf '%-52s %8ss\n' "edrpolicy inspect --format json --jobs 1" "$t_edr1"
printf '%-52s %8ss\n' "find | xargs sha256sum" "$t_sum"
printf '%-52s %8ss\n' "find | xargs -P$(nproc) sha256sum" "$t_sump"
echo "speed-up vs sha256sum: $(ratio "$t_edr" "$t_sum")x (vs parallel sha256sum: $(ratio "$t_edr" "$t_sump")x; one worker vs sha256sum: $(ratio "$t_edr1" "$t_sum")x)"
echo "digests agree with sha256sum on all $files files: $agree"
echo "100,000 empty files ($many_n records incl. .complete): edrpolicy ${t_many}s vs sha256sum ${t_manysum}s"
echo "single 2 GiB file: edrpolicy ${t_big}s vs sha256sum ${t_bigsum}s ($(ratio "$t_big" "$t_bigsum")x), peak RSS $((rss / 1024)) MiB ($rss KiB)"
[ "$agree" = yes ]
