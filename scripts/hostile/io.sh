#!/usr/bin/env bash
# Hostile inputs for the files edrpolicy reads (issue 12, items 4 and 12): a FIFO, a /dev/zero
# link and 3 GiB sparse files as Info.plist or version file, 1 GiB and FIFO policies and
# profiles, a FIFO or a non-UTF-8 name among the executables, a tree deeper than PATH_MAX.
# Each case runs the CLI under GNU time with a timeout and must end with the expected exit
# code and message, within its time limit and under 128 MiB peak RSS. Prints a table.
#
#   scripts/hostile/io.sh                 # work dir ${HOSTILE_DIR:-a new temp dir}, removed after
#   HOSTILE_KEEP=1 scripts/hostile/io.sh  # keep the work dir
#
# Time limits: 10 s per case (HOSTILE_SECONDS), 60 s (HOSTILE_BIG_SECONDS) for the two
# installs holding a 3 GiB Info.plist: the inspection hashes every file of an install, and
# hashing 3 GiB (of zeros) is the same work as for any large data file; what is checked there
# is that the Info.plist is never loaded (RSS) and the version never taken from it.
# Needs: go, GNU time (/usr/bin/time), timeout (coreutils), mkfifo, truncate.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
max_rss_kib=$((128 * 1024))
limit=${HOSTILE_SECONDS:-10}
big_limit=${HOSTILE_BIG_SECONDS:-60}

[ -x /usr/bin/time ] || { echo "hostile/io: GNU time is required (apt-get install time)" >&2; exit 2; }
command -v timeout >/dev/null || { echo "hostile/io: timeout (coreutils) is required" >&2; exit 2; }

work=${HOSTILE_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/edrpolicy-hostile-io.XXXXXX")}
mkdir -p "$work"
if [ -z "${HOSTILE_KEEP:-}" ] && [ -z "${HOSTILE_DIR:-}" ]; then
  trap 'rm -rf "$work"' EXIT
fi
bin=$work/edrpolicy
CGO_ENABLED=0 go build -o "$bin" ./cmd/edrpolicy
sample=$repo/examples/sample

# mac_install NAME: a copy of the Mac sample whose Info.plist the caller replaces.
mac_install() {
  rm -rf "$work/$1"; mkdir -p "$work/$1"
  cp -R "$sample/mac/CrashPlan.app" "$work/$1/"
  echo "$work/$1/CrashPlan.app/Contents/Info.plist"
}

# --- the inputs -------------------------------------------------------------------------
p=$(mac_install info-fifo); rm "$p"; mkfifo "$p"
p=$(mac_install info-devzero); rm "$p"; ln -s /dev/zero "$p"
p=$(mac_install info-sparse); rm "$p"; truncate -s 3G "$p"
p=$(mac_install info-extended); truncate -s 3G "$p" # the real plist, then 3 GiB of zeros
p=$(mac_install info-outside); rm "$p"; ln -s "$sample/mac/CrashPlan.app/Contents/Info.plist" "$p"

mkdir -p "$work/myapp-fifo/bin"
printf '#!/bin/sh\n' > "$work/myapp-fifo/bin/start.sh"; chmod 755 "$work/myapp-fifo/bin/start.sh"
mkfifo "$work/myapp-fifo/VERSION"

truncate -s 1G "$work/policy-1g.json"
truncate -s 1G "$work/profile-1g.json"
mkfifo "$work/policy-fifo.json" "$work/profile-fifo.json"
ln -sf /dev/zero "$work/roots-devzero.pem"

# A Windows install with a FIFO named like an executable and a name that is not UTF-8.
rm -rf "$work/win-special"; cp -R "$sample/windows" "$work/win-special"
mkfifo "$work/win-special/Evil.exe"
cp "$sample/windows/Uninstall.exe" "$work/win-special/bad"$'\xff'"name.exe"

# A Windows install with a tree deeper than PATH_MAX (150 levels of 30-byte names).
rm -rf "$work/win-deep"; cp -R "$sample/windows" "$work/win-deep"
(
  cd "$work/win-deep"
  d=dddddddddddddddddddddddddddddd
  for _ in $(seq 150); do mkdir "$d"; cd "$d"; done
  cp "$sample/windows/Uninstall.exe" deep.exe
)

# --- the runs ---------------------------------------------------------------------------
# run NAME WANT_EXIT PATTERN SECONDS -- ARGS...: PATTERN is an extended regex that stderr (or,
# for check's findings, stdout) must match.
failures=0
rows=()
run() {
  local name=$1 want=$2 pattern=$3 secs=$4; shift 5
  local log=$work/$name.stderr tm=$work/$name.time rc=0
  /usr/bin/time -v -o "$tm" timeout --kill-after=5 "$secs" "$bin" "$@" >"$work/$name.stdout" 2>"$log" || rc=$?
  local wall rss
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tm" |
    awk -F: '{ if (NF == 3) print $1*3600 + $2*60 + $3; else print $1*60 + $2 }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tm")
  local verdict=ok why=()
  [ "$rc" = "$want" ] || why+=("exit $rc, want $want")
  [ "$rc" != 124 ] || why+=("timed out after ${secs}s")
  [ "${rss:-0}" -le "$max_rss_kib" ] || why+=("peak RSS ${rss} KiB over $max_rss_kib")
  cat "$work/$name.stdout" "$log" | grep -Eq -- "$pattern" || why+=("output does not match /$pattern/")
  if [ ${#why[@]} -gt 0 ]; then
    verdict="FAIL: $(IFS=';'; echo "${why[*]}")"
    failures=$((failures + 1))
    echo "--- $name stderr:" >&2; head -c 2000 "$log" >&2; echo >&2
  fi
  rows+=("$(printf '%-22s %8s %10s %5s  %s' "$name" "$wall" "$((${rss:-0} / 1024)) MiB" "$rc" "$verdict")")
}

gen_mac=(generate --profile code42 --os mac)
run info-fifo 2 '--app-version "auto": .*could not read .*/CrashPlan.app/Contents/Info.plist: refused: a named pipe \(FIFO\), not a regular file.*give the version explicitly' "$limit" -- \
  "${gen_mac[@]}" --root "$work/info-fifo" --out "$work/out-info-fifo"
run info-devzero 2 '--app-version "auto": .*could not read .*/Info.plist: refused: the name or a symbolic link on its way leads outside .*give the version explicitly' "$limit" -- \
  "${gen_mac[@]}" --root "$work/info-devzero" --out "$work/out-info-devzero"
run info-sparse-3g 2 '--app-version "auto": .*Info.plist of bundle .*CrashPlan.app, whose signature or seal does not verify .*refused: is 3 GiB, more than the 4 MiB allowed.*give the version explicitly' "$big_limit" -- \
  "${gen_mac[@]}" --root "$work/info-sparse" --out "$work/out-info-sparse"
run info-extended-3g 2 '--app-version "auto": .*Info.plist of bundle .*CrashPlan.app, whose signature or seal does not verify .*refused: is 3 GiB.*give the version explicitly' "$big_limit" -- \
  "${gen_mac[@]}" --root "$work/info-extended" --out "$work/out-info-extended"
run info-link-outside 2 'Info.plist of bundle .*CrashPlan.app, whose signature or seal does not verify .*leads outside' "$limit" -- \
  "${gen_mac[@]}" --root "$work/info-outside" --out "$work/out-info-outside"
run version-file-fifo 2 'could not read .*/VERSION: refused: a named pipe \(FIFO\)' "$limit" -- \
  generate --profile "$repo/edrpolicy/testdata/myapp.json" --os linux --root "$work/myapp-fifo"
run policy-1g-check 2 'policy-1g.json: refused: is 1 GiB, more than the 256 MiB allowed' "$limit" -- check "$work/policy-1g.json"
run policy-1g-export 2 'policy-1g.json: refused: is 1 GiB, more than the 256 MiB allowed' "$limit" -- \
  export --vendor defender --out "$work/out-export" "$work/policy-1g.json"
run policy-1g-diff 2 'policy-1g.json: refused: is 1 GiB' "$limit" -- diff "$work/policy-1g.json" "$work/policy-1g.json"
run policy-1g-previous 2 '--previous: policy: .*policy-1g.json: refused: is 1 GiB' "$limit" -- \
  generate --profile code42 --os windows --app-version 11.1.0 --previous "$work/policy-1g.json"
run policy-fifo-check 2 'policy-fifo.json: refused: a named pipe \(FIFO\)' "$limit" -- check "$work/policy-fifo.json"
run profile-1g 2 'profile-1g.json: refused: is 1 GiB, more than the 16 MiB allowed' "$limit" -- \
  generate --profile "$work/profile-1g.json" --os windows --app-version 11.1.0
run profile-fifo 2 'profile-fifo.json: refused: a named pipe \(FIFO\)' "$limit" -- \
  paths --profile "$work/profile-fifo.json" --os windows --app-version 11.1.0
run roots-devzero 2 '--roots: .*roots-devzero.pem: refused: a character device' "$limit" -- \
  generate --profile code42 --os windows --app-version 11.1.0 --roots "$work/roots-devzero.pem"
run fifo-and-bad-name 1 'unreadable: "[^"]*bad\\xffname.exe" could not be read .*unreadable: .*Evil.exe could not be read \(not a regular file \(named pipe\)|unreadable: .*Evil.exe could not be read .*partial read' "$limit" -- \
  generate --profile code42 --os windows --app-version 11.1.0 --root "$work/win-special" --out "$work/out-special"
run deep-tree 1 'unreadable: .*/ddd[d/]* could not be read .*file name too long.*partial read' "$limit" -- \
  generate --profile code42 --os windows --app-version 11.1.0 --root "$work/win-deep" --out "$work/out-deep"
run deep-tree-check 1 'EDR105 .*file name too long' "$limit" -- \
  check "$work/out-deep/policy.json" --root "$work/win-deep"

printf '%-22s %8s %10s %5s  %s\n' case seconds "peak RSS" exit result
printf '%s\n' "${rows[@]}"
if [ "$failures" -gt 0 ]; then
  echo "hostile/io: $failures case(s) failed" >&2
  exit 1
fi
echo "hostile/io: all ${#rows[@]} cases passed"
