package edrpolicy

import (
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
)

// AttentionCodes are the warning codes that make generate exit 1: the policy is written but
// someone must look at it before it is deployed (interpreters left without a rule, files of
// another OS, rules already expired, a partial read).
var attentionCodes = []WarningCode{WarnInterpreter, WarnOSMismatch, WarnExpired, WarnUnreadable}

// Attention returns the policy's warnings that need someone to act before the policy is
// deployed (generate exits 1 for them): interpreter, os-mismatch, expired, unreadable.
func (p *Policy) Attention() []Warning {
	var out []Warning
	for _, w := range p.Warnings {
		for _, c := range attentionCodes {
			if w.Code == c {
				out = append(out, w)
			}
		}
	}
	return out
}

// formatOS is the OS whose executables a format is: PE for windows, Mach-O for mac, ELF for
// linux (a PE may also be an EFI image, a Mach-O an iOS binary: still not what --os says).
func formatOS(f hashing.Format) profile.OS {
	switch f {
	case hashing.FormatPE:
		return profile.OSWindows
	case hashing.FormatMachO, hashing.FormatMachOUniversal:
		return profile.OSMac
	case hashing.FormatELF:
		return profile.OSLinux
	}
	return ""
}

// osMismatch warns when executables are of another OS than the policy's (PE files at --os
// mac became /Applications/…/x.exe): the endpoint paths and the vendors' platform fields are
// then wrong for them.
func (d *decider) osMismatch(execs []*verdict) {
	byOS := map[profile.OS][]string{}
	for _, v := range execs {
		if o := formatOS(v.file.Format); o != "" && o != d.opts.OS {
			byOS[o] = append(byOS[o], v.endpoints...)
		}
	}
	if len(byOS) == 0 {
		return
	}
	var parts, files []string
	for o, fs := range byOS {
		parts = append(parts, fmt.Sprintf("%d %s executable(s)", len(fs), o))
		files = append(files, fs...)
	}
	sort.Strings(parts)
	d.warn = append(d.warn, Warning{Code: WarnOSMismatch, Message: fmt.Sprintf("the policy is for %s, but the install holds %s: their rules name paths and a platform for %s; check the OS (or the roots)", d.opts.OS, strings.Join(parts, ", "), d.opts.OS), Files: dedupe(files)})
}

// UnsealedNote is the note signers/macho gives a bundle whose main executable is signed but
// whose resources have no _CodeSignature/CodeResources.
const UnsealedNote = "resources are not sealed"

// unsealedBundles returns the bundle directories (root + "\x00" + path) whose signature notes
// say the resources are not sealed.
func unsealedBundles(inv *Inventory) map[string]bool {
	out := map[string]bool{}
	for _, f := range inv.Files {
		if f.Format != hashing.FormatAppBundle {
			continue
		}
		for _, s := range f.Signatures {
			for _, n := range s.Notes {
				if strings.Contains(n, UnsealedNote) {
					out[f.Root+"\x00"+f.Path] = true
				}
			}
		}
	}
	return out
}

// inUnsealed reports whether f lies in a bundle of unsealed, and which.
func inUnsealed(unsealed map[string]bool, f *FileEvidence) (string, bool) {
	for dir := path.Dir(f.Path); dir != "." && dir != "/" && dir != ""; dir = path.Dir(dir) {
		if unsealed[f.Root+"\x00"+dir] {
			return dir, true
		}
	}
	return "", false
}

// unsealedText is what a rule's reason and check say about such a file.
const unsealedText = "the app bundle's resources are not sealed (no _CodeSignature/CodeResources): the signature vouches for the executable only, not for the bundle's other files"

// unsealed warns about executables of bundles whose resources are not sealed and says so in
// the reason of the rules that cover them.
func (d *decider) unsealed(inv *Inventory, execs []*verdict) {
	bundles := unsealedBundles(inv)
	if len(bundles) == 0 {
		return
	}
	var files, names []string
	for _, v := range execs {
		b, ok := inUnsealed(bundles, v.file)
		if !ok {
			continue
		}
		files = append(files, v.endpoints...)
		names = appendUnique(names, b)
		for i := range d.pol.Rules {
			r := &d.pol.Rules[i]
			if sharesFile(r.Files, v.endpoints) && !strings.Contains(r.Reason, unsealedText) {
				r.Reason += "; " + unsealedText
			}
		}
	}
	if len(files) > 0 {
		d.warn = append(d.warn, Warning{Code: WarnUnsealedBundle, Message: fmt.Sprintf("%s: %s", strings.Join(names, ", "), unsealedText), Files: dedupe(files)})
	}
}
