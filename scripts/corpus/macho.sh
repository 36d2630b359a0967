#!/usr/bin/env bash
# Fetch real signed macOS Mach-O executables from npm packages into the test corpus:
#   ${EDRPOLICY_CORPUS:-$HOME/.cache/edrpolicy-corpus}/macho/
# Versions are pinned so that tests can assert on Team IDs and signing identifiers.
# Idempotent and quiet: a file already present is not fetched again. Needs npm and tar.
set -euo pipefail

dest="${EDRPOLICY_CORPUS:-$HOME/.cache/edrpolicy-corpus}/macho"
mkdir -p "$dest"

# name-in-corpus  npm-package@version  path-inside-tarball
entries=(
	"sentry-cli-universal   @sentry/cli-darwin@3.8.0              package/bin/sentry-cli"
	"bun-darwin-arm64       @oven/bun-darwin-aarch64@1.4.5        package/bin/bun"
	"vsce-sign-darwin-arm64 @vscode/vsce-sign-darwin-arm64@2.0.6  package/bin/vsce-sign"
)

fetch() {
	local name=$1 spec=$2 inner=$3
	[ -s "$dest/$name" ] && return 0
	local tmp
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' RETURN
	if ! (cd "$tmp" && npm pack --silent "$spec" >/dev/null 2>"$tmp/npm.err"); then
		echo "corpus/macho: npm pack $spec failed:" >&2
		cat "$tmp/npm.err" >&2
		return 1
	fi
	local tgz
	tgz=$(ls "$tmp"/*.tgz)
	if ! tar -xzf "$tgz" -C "$tmp" "$inner" 2>/dev/null; then
		echo "corpus/macho: $inner not found in $spec; contents:" >&2
		tar -tzf "$tgz" | head -20 >&2
		return 1
	fi
	mv "$tmp/$inner" "$dest/$name.part"
	mv "$dest/$name.part" "$dest/$name"
}

rc=0
for e in "${entries[@]}"; do
	# shellcheck disable=SC2086
	set -- $e
	fetch "$1" "$2" "$3" || rc=1
done
exit $rc
