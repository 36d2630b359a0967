#!/usr/bin/env bash
# Hostile signature inputs (issue #12, items 3 and 6): each must finish in seconds, under
# 128 MiB of peak RSS, and be reported for what it is while the rest of the run goes on.
#
#   bomb-thin   a thin Mach-O whose CMS is 8 MiB of "30 80" (nested BER headers), beside a
#               good Mach-O: the bomb is an error record, the good file is inspected, exit 1
#   bomb-fat    the same bomb in the arm64 slice of a universal file
#   bomb-pe     a PE whose certificate entry is the same bomb, beside a good PE
#   plist-bomb  an .app whose CodeResources nests 1,000,000 <array> elements: error record
#   seal-exact  an .app with 20,000 exact-path rules2 entries and 20,000 unsealed files:
#               invalid seal listing the 20,000 added files
#   seal-regex  the same with 20,000 regular-expression rules2 entries: invalid seal,
#               refused for exceeding the rules cap
#
#   scripts/hostile/signers.sh               # temp dir, removed afterwards
#   HOSTILE_KEEP=1 scripts/hostile/signers.sh
#   HOSTILE_MAX_SECONDS=30 scripts/hostile/signers.sh   # default 20 (the machine may be busy)
#
# Needs: go, python3, GNU time (/usr/bin/time -v).
set -euo pipefail
cd "$(dirname "$0")/../.."

max_seconds=${HOSTILE_MAX_SECONDS:-20}
max_rss_kib=$((128 * 1024))
[ -x /usr/bin/time ] || { echo "hostile/signers: GNU time is required (apt-get install time)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "hostile/signers: python3 is required" >&2; exit 2; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/edrpolicy-hostile-signers.XXXXXX")
if [ -z "${HOSTILE_KEEP:-}" ]; then
  trap 'rm -rf "$tmp"' EXIT
else
  echo "hostile/signers: keeping $tmp" >&2
fi

echo "hostile/signers: building the inputs in $tmp" >&2
go run ./scripts/hostile/mksigners "$tmp/in"
CGO_ENABLED=0 go build -o "$tmp/edrpolicy" ./cmd/edrpolicy

# check CASE OUT.json RC: the expectations of each case, in Python (JSON).
check() {
  python3 - "$@" <<'PY'
import json, sys
case, path, rc = sys.argv[1], sys.argv[2], int(sys.argv[3])
files = {f["path"]: f for f in json.load(open(path))["files"]}
def fail(msg):
    print(f"{case}: {msg}", file=sys.stderr)
    sys.exit(1)
def error_record(name, text):
    f = files.get(name)
    if f is None or text not in f.get("error", ""):
        fail(f"{name} is not an error record saying {text!r}: {f and f.get('error')}")
def good(name, status):
    f = files.get(name)
    if f is None or f.get("error") or f.get("signature_status") != status:
        fail(f"{name} missing or not {status}: {f}")
def invalid_bundle(name, text):
    f = files.get(name)
    errs = [s.get("error", "") for s in (f or {}).get("signatures") or []]
    if f is None or f.get("signature_status") != "invalid" or not any(text in e for e in errs):
        fail(f"{name} is not an invalid bundle saying {text!r}: {errs[:1]}")
if case in ("bomb-thin", "bomb-fat"):
    if rc != 1: fail(f"exit code {rc}, want 1")
    error_record("bomb", "CMS nesting deeper than 64")
    good("good", "adhoc")
elif case == "bomb-pe":
    if rc != 1: fail(f"exit code {rc}, want 1")
    error_record("bomb.exe", "CMS nesting deeper than 64")
    good("good.exe", "unsigned")
elif case == "plist-bomb":
    if rc != 1: fail(f"exit code {rc}, want 1")
    error_record("Seal.app", "nesting limit exceeded")
    good("Seal.app/Contents/MacOS/Seal", "adhoc")
elif case == "seal-exact":
    invalid_bundle("Seal.app", "20000 added")
    if len(files) < 20000: fail(f"only {len(files)} files reported")
elif case == "seal-regex":
    invalid_bundle("Seal.app", "at most 256 are supported")
    if len(files) < 20000: fail(f"only {len(files)} files reported")
PY
}

failed=0
printf '%-11s %8s %12s %5s  %s\n' case seconds "peak RSS" exit verdict
for case in bomb-thin bomb-fat bomb-pe plist-bomb seal-exact seal-regex; do
  set +e
  /usr/bin/time -v -o "$tmp/$case.time" "$tmp/edrpolicy" inspect --format json "$tmp/in/$case" \
    >"$tmp/$case.json" 2>"$tmp/$case.err"
  rc=$?
  set -e
  secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tmp/$case.time")
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/$case.time")
  verdict=ok
  if grep -q "fatal error" "$tmp/$case.err"; then
    verdict="crashed: $(grep -m1 'fatal error' "$tmp/$case.err")"
  elif [ "$rc" -gt 1 ]; then
    verdict="exit $rc: $(head -c 200 "$tmp/$case.err")"
  elif ! awk -v s="$secs" -v m="$max_seconds" 'BEGIN{exit !(s <= m)}'; then
    verdict="too slow (> ${max_seconds} s)"
  elif [ "$rss" -gt "$max_rss_kib" ]; then
    verdict="too much memory (> 128 MiB)"
  elif ! msg=$(check "$case" "$tmp/$case.json" "$rc" 2>&1); then
    verdict="wrong result: $msg"
  fi
  [ "$verdict" = ok ] || failed=1
  printf '%-11s %8.2f %8d MiB %5d  %s\n' "$case" "$secs" $((rss / 1024)) "$rc" "$verdict"
done
if [ "$failed" -ne 0 ]; then
  echo "hostile/signers: FAILED" >&2
  exit 1
fi
echo "hostile/signers: all cases bounded" >&2
