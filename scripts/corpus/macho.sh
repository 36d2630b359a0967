#!/usr/bin/env bash
# Fetch real signed macOS Mach-O executables from npm packages into the test corpus:
#   ${EDRPOLICY_CORPUS:-$HOME/.cache/edrpolicy-corpus}/macho/npm/<package>@<version>/<name>
# Versions are pinned here (npm versions are immutable), so tests can assert on Team IDs and
# signing identifiers. The cache is keyed by version: bumping a pin fetches the new file.
# macho/index.tsv lists them (name, source, package, version, path relative to macho/), as
# internal/corpus reads it. Any file that cannot be fetched fails this script, naming it.
set -euo pipefail

dest="${EDRPOLICY_CORPUS:-$HOME/.cache/edrpolicy-corpus}/macho"
mkdir -p "$dest"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# name-in-corpus  npm-package  version  path-inside-tarball
entries=(
	"sentry-cli-universal   @sentry/cli-darwin              3.8.0  package/bin/sentry-cli"
	"bun-darwin-arm64       @oven/bun-darwin-aarch64        1.4.5  package/bin/bun"
	"vsce-sign-darwin-arm64 @vscode/vsce-sign-darwin-arm64  2.0.6  package/bin/vsce-sign"
)

fail() { echo "corpus/macho.sh: FAILED: $*" >&2; exit 1; }

index="$tmp/index.tsv"
: >"$index"
for e in "${entries[@]}"; do
	# shellcheck disable=SC2086
	set -- $e
	name=$1 pkg=$2 ver=$3 inner=$4
	rel="npm/${pkg//\//+}@$ver/$name"
	if [ ! -s "$dest/$rel" ]; then
		command -v npm >/dev/null 2>&1 || fail "$name: npm is not available"
		work="$tmp/$name"
		mkdir -p "$work"
		(cd "$work" && npm pack --silent "$pkg@$ver" >/dev/null 2>"$work/npm.err") ||
			fail "$name: npm pack $pkg@$ver failed: $(cat "$work/npm.err")"
		tar -xzf "$work"/*.tgz -C "$work" "$inner" 2>/dev/null || fail "$name: $inner not in $pkg@$ver"
		mkdir -p "$(dirname "$dest/$rel")"
		mv "$work/$inner" "$dest/$rel.part" && mv "$dest/$rel.part" "$dest/$rel"
		echo "corpus/macho.sh: fetched $name from $pkg@$ver" >&2
	fi
	printf '%s\tnpm\t%s\t%s\t%s\n' "$name" "$pkg" "$ver" "$rel" >>"$index"
done
mv "$index" "$dest/index.tsv.tmp" && mv "$dest/index.tsv.tmp" "$dest/index.tsv"
keep=$(cut -f5 "$dest/index.tsv" | xargs -n1 dirname | sort -u)
for d in "$dest"/npm/*; do
	[ -d "$d" ] || continue
	grep -qxF "${d#"$dest"/}" <<<"$keep" || { echo "corpus/macho.sh: removing stale $d" >&2; rm -rf "$d"; }
done
