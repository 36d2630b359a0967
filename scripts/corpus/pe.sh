#!/usr/bin/env bash
# Fetch real signed PE files into the corpus cache (outside the repository) for the
# signers/authenticode tests:
#   ${EDRPOLICY_CORPUS:-$HOME/.cache/edrpolicy-corpus}/pe/
# Sources: Debian packages (Microsoft-signed shim, Debian-signed GRUB, the EFI-stub kernel whose
# optional header has only 6 data directories) and npm packages that ship Microsoft-signed
# Windows executables (x64 and arm64).
#
# The cache is keyed by package version: pe/debian/<package>_<version>/<file> and
# pe/npm/<package>@<version>/<file>. Debian's mirror serves only current versions, and what they
# contain moves (shim's signature count, the signer names of new Secure Boot keys), so this script
# asks apt for the current version first: a machine with an old cached copy fetches the new one,
# and tests everywhere see the same files. npm versions are pinned here and immutable.
#
# pe/index.tsv lists what the tests use, one file a line:
#   name <TAB> source (debian|npm) <TAB> package <TAB> version <TAB> path relative to pe/
# Tests take expectations for Debian files from independent tools at test time (sbverify,
# pesign, osslsigncode, openssl); only the pinned npm files have hard-coded expectations.
#
# Any file that cannot be fetched fails this script, naming the file and the package.
set -euo pipefail

root="${EDRPOLICY_CORPUS:-$HOME/.cache/edrpolicy-corpus}"
dest="$root/pe"
mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

log() { echo "corpus/pe.sh: $*" >&2; }
fail() { log "FAILED: $*"; exit 1; }

index="$tmp/index.tsv"
: >"$index"

# apt_fresh makes sure the package lists are at most a day old, so that "current version" means
# what the mirror serves today.
apt_fresh() {
	command -v apt-get >/dev/null 2>&1 || fail "apt-get is not available: the Debian files cannot be fetched (needs a Debian-based machine)"
	local newest
	newest=$(find /var/lib/apt/lists -maxdepth 1 -name '*InRelease' -mmin -1440 2>/dev/null | head -n1)
	if [ -z "$newest" ]; then
		log "apt package lists older than a day: apt-get update"
		apt-get update -qq >/dev/null 2>&1 || fail "apt-get update failed: cannot learn the current Debian package versions"
	fi
}

# candidate PACKAGE prints the version apt would fetch today.
candidate() {
	local v
	v=$(apt-cache policy "$1" 2>/dev/null | awk '/Candidate:/{print $2; exit}')
	[ -n "$v" ] && [ "$v" != "(none)" ] || fail "$1: apt knows no candidate version"
	echo "$v"
}

# apt_extract NAME PACKAGE PATH-GLOB-IN-PACKAGE
apt_extract() {
	local name="$1" pkg="$2" pattern="$3" ver dir rel
	ver=$(candidate "$pkg")
	rel="debian/${pkg}_${ver}/$name"
	if [ ! -s "$dest/$rel" ]; then
		dir="$tmp/$pkg"
		mkdir -p "$dir"
		(cd "$dir" && apt-get download -qq "$pkg=$ver" >/dev/null 2>&1) ||
			fail "$name: apt-get download $pkg=$ver failed"
		dpkg-deb -x "$dir"/*.deb "$dir/root" || fail "$name: cannot unpack $pkg $ver"
		local f
		f="$(find "$dir/root" -path "$dir/root/$pattern" -type f | sort | head -n1)"
		[ -n "$f" ] || fail "$name: $pkg $ver has no file matching $pattern"
		mkdir -p "$(dirname "$dest/$rel")"
		cp "$f" "$dest/$rel.tmp" && mv "$dest/$rel.tmp" "$dest/$rel"
		log "fetched $name from $pkg $ver"
	fi
	printf '%s\tdebian\t%s\t%s\t%s\n' "$name" "$pkg" "$ver" "$rel" >>"$index"
}

# npm_extract NAME PACKAGE VERSION PATH-IN-TARBALL
npm_extract() {
	local name="$1" pkg="$2" ver="$3" path="$4" rel dir tgz
	rel="npm/${pkg//\//+}@${ver}/$name"
	if [ ! -s "$dest/$rel" ]; then
		command -v npm >/dev/null 2>&1 || fail "$name: npm is not available"
		dir="$tmp/npm-$name"
		mkdir -p "$dir"
		tgz="$(cd "$dir" && npm pack --silent "$pkg@$ver" 2>"$dir/npm.err" | tail -n1)" && [ -n "$tgz" ] ||
			fail "$name: npm pack $pkg@$ver failed: $(cat "$dir/npm.err")"
		tar -xzf "$dir/$tgz" -C "$dir" "package/$path" || fail "$name: $path not in $pkg@$ver"
		mkdir -p "$(dirname "$dest/$rel")"
		cp "$dir/package/$path" "$dest/$rel.tmp" && mv "$dest/$rel.tmp" "$dest/$rel"
		log "fetched $name from $pkg@$ver"
	fi
	printf '%s\tnpm\t%s\t%s\t%s\n' "$name" "$pkg" "$ver" "$rel" >>"$index"
}

apt_fresh
apt_extract shimx64.efi.signed shim-signed 'usr/lib/shim/shimx64.efi.signed*'
apt_extract grubx64.efi.signed grub-efi-amd64-signed 'usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed'
kpkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')"
[ -n "$kpkg" ] || fail "vmlinuz.efi: linux-image-amd64 depends on no linux-image-N package"
apt_extract vmlinuz.efi "$kpkg" 'boot/vmlinuz-*'
npm_extract conpty-x64.dll node-pty 1.1.0 prebuilds/win32-x64/conpty/conpty.dll
npm_extract conpty-arm64.dll node-pty 1.1.0 prebuilds/win32-arm64/conpty/conpty.dll
npm_extract OpenConsole-x64.exe node-pty 1.1.0 prebuilds/win32-x64/conpty/OpenConsole.exe
npm_extract vsce-sign-x64.exe @vscode/vsce-sign-win32-x64 2.0.6 bin/vsce-sign.exe

mv "$index" "$dest/index.tsv.tmp" && mv "$dest/index.tsv.tmp" "$dest/index.tsv"
# Versions no longer current go. Files of the flat layout earlier versions of this script wrote
# are not in the index, so no test reads them.
keep=$(cut -f5 "$dest/index.tsv" | xargs -n1 dirname | sort -u)
for d in "$dest"/debian/* "$dest"/npm/*; do
	[ -d "$d" ] || continue
	grep -qxF "${d#"$dest"/}" <<<"$keep" || { log "removing stale $d"; rm -rf "$d"; }
done
log "$(wc -l <"$dest/index.tsv") files; Debian versions: $(awk -F'\t' '$2=="debian"{printf "%s %s; ", $3, $4}' "$dest/index.tsv")"
