package defender

import (
	"regexp"
	"strings"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
)

// systemVars are the system environment variables Defender expands in antivirus exclusions
// (it takes system, not user, variables), with their default values on a Windows install
// whose system drive is C:. An endpoint with other values (another system drive, a moved
// Program Files) is not simulated; a variable not listed here matches nothing.
var systemVars = map[string]string{
	"programfiles":            `C:\Program Files`,
	"programw6432":            `C:\Program Files`,
	"programfiles(x86)":       `C:\Program Files (x86)`,
	"commonprogramfiles":      `C:\Program Files\Common Files`,
	"commonprogramw6432":      `C:\Program Files\Common Files`,
	"commonprogramfiles(x86)": `C:\Program Files (x86)\Common Files`,
	"programdata":             `C:\ProgramData`,
	"allusersprofile":         `C:\ProgramData`,
	"systemroot":              `C:\Windows`,
	"windir":                  `C:\Windows`,
	"systemdrive":             `C:`,
	"public":                  `C:\Users\Public`,
}

var reVar = regexp.MustCompile(`%([^%\\]*)%`)

// ExpandSystemVars expands the system environment variables of a Windows exclusion to their
// default values; ok is false when the value names a variable edrpolicy does not know (a
// user variable, which Defender does not expand) or an unclosed '%'.
func ExpandSystemVars(v string) (string, bool) {
	ok := true
	out := reVar.ReplaceAllStringFunc(v, func(m string) string {
		val, known := systemVars[strings.ToLower(m[1:len(m)-1])]
		if !known {
			ok = false
		}
		return val
	})
	if strings.Contains(out, "%") {
		return "", false
	}
	return out, ok
}

// Allows reports whether Defender for Endpoint, as edrpolicy simulates it, lets target t run
// by entry e:
//
//   - a file indicator (FileSha256, FileSha1, FileMd5: the whole-file digest, which
//     Microsoft does not state: UNCONFIRMED) with action Allowed, not expired; on Windows
//     only for a PE file (Microsoft: file indicators support PE files only; on macOS they
//     need enableFileHashComputation);
//   - a certificate indicator (CertificateThumbprint with action Allowed, or a .cer for the
//     portal's upload) on Windows only, whose value is the SHA-1 of the leaf certificate of
//     one of t's valid Authenticode signatures;
//   - a Windows antivirus exclusion (-ExclusionPath): the file itself or a folder above it,
//     case-insensitive, '*' within one folder and '?' one character, system environment
//     variables expanded to their defaults; -ExclusionExtension by the file's extension;
//   - a macOS or Linux excludedPath (the file, or with isDirectory a folder above it, case
//     sensitive) or excludedFileExtension.
//
// Process exclusions (-ExclusionProcess, excludedFileName) exclude what a process opens, not
// the process itself: they never allow the target.
func (Exporter) Allows(e core.Entry, t core.Subject, now time.Time) bool {
	switch e.Type {
	case "FileSha256", "FileSha1", "FileMd5":
		return e.Action == "Allowed" && !core.Expired(e.Expires, now) && (t.Platform != profile.OSWindows || t.PE) &&
			len(e.Value) == indicatorDigits[e.Type] && t.HasDigest(e.Value)
	case "CertificateThumbprint", TypeCertificateFile:
		if e.Type == "CertificateThumbprint" && (e.Action != "Allowed" || core.Expired(e.Expires, now)) {
			return false
		}
		return t.Platform == profile.OSWindows && authenticodeLeaf(e.Value, t)
	case TypeExclusionPath:
		v, ok := ExpandSystemVars(e.Value)
		return ok && t.Platform == profile.OSWindows && core.PathMatcher{Backslash: true, Fold: true}.MatchAncestor(v, t.Path)
	case TypeExclusionExtension:
		return t.Platform == profile.OSWindows && hasExtension(t.Path, e.Value, true)
	case TypeExcludedPath:
		if e.Platform != t.Platform || !strings.HasPrefix(e.Value, "/") {
			return false
		}
		m := core.PathMatcher{}
		if e.Match == edrpolicy.MatchSubfolders {
			return m.MatchAncestor(e.Value, t.Path)
		}
		return m.Match(e.Value, t.Path)
	case TypeExcludedExtension:
		return e.Platform == t.Platform && hasExtension(t.Path, e.Value, false)
	}
	return false
}

func authenticodeLeaf(tp string, t core.Subject) bool {
	for _, s := range t.Signers {
		if !s.Apple && s.ThumbprintSHA1 != "" && s.ThumbprintSHA1 == strings.ToLower(tp) {
			return true
		}
	}
	return false
}

// hasExtension reports whether the file's name ends with extension ext (with or without its
// leading dot).
func hasExtension(p, ext string, fold bool) bool {
	ext = strings.TrimPrefix(ext, ".")
	if ext == "" || strings.ContainsAny(ext, `*?/\`) {
		return false
	}
	base := core.BaseName(p)
	if fold {
		base, ext = strings.ToLower(base), strings.ToLower(ext)
	}
	return strings.HasSuffix(base, "."+ext)
}
