#!/usr/bin/env bash
# Builds hostile inputs (CMS bombs, huge or endless "files", FIFOs, deep trees, crafted
# bundles...) and runs the CLI on each under /usr/bin/time -v: each must finish in seconds with a
# peak RSS under 128 MiB and the expected exit code and message. One script per family in
# scripts/hostile/*.sh; each prints its table and fails on a breach.
set -euo pipefail
cd "$(dirname "$0")"
status=0
for s in hostile/*.sh; do
	[ -e "$s" ] || continue
	echo "== $s"
	bash "$s" || { echo "hostile: $s failed" >&2; status=1; }
done
exit $status
