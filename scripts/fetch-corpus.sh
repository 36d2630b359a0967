#!/usr/bin/env bash
# Fetches the real signed binaries that the signer tests use when present (Debian signed EFI
# packages, npm packages that ship signed Windows and macOS executables) into a cache outside
# the repository: ${EDRPOLICY_CORPUS:-$HOME/.cache/edrpolicy-corpus}. Nothing is committed.
# Each scripts/corpus/*.sh fetches one kind; each is idempotent and quick when cached.
# A script that fails is retried once; a second failure fails this script (so CI notices).
set -euo pipefail
cd "$(dirname "$0")"
export EDRPOLICY_CORPUS=${EDRPOLICY_CORPUS:-$HOME/.cache/edrpolicy-corpus}
mkdir -p "$EDRPOLICY_CORPUS"
status=0
for s in corpus/*.sh; do
  [ -e "$s" ] || continue
  if ! bash "$s"; then
    echo "fetch-corpus: $s failed; retrying once" >&2
    sleep 5
    bash "$s" || { echo "fetch-corpus: $s failed twice" >&2; status=1; }
  fi
done
exit $status
