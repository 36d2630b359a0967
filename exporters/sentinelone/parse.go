package sentinelone

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
)

// Owns reports whether name is the file the SentinelOne exporter writes.
func (Exporter) Owns(name string) bool { return name == FileName }

// Channel returns "": SentinelOne has one file, imported through the API.
func (Exporter) Channel(string) string { return "" }

// platformOf maps S1's osType to the policy's platform names.
var platformOf = map[string]profile.OS{"windows": profile.OSWindows, "windows_legacy": profile.OSWindows, "macos": profile.OSMac, "linux": profile.OSLinux}

// Parse reads sentinelone-exclusions.json back into entries: white_hash (a hash entry),
// certificate (a certificate entry whose value is the publisher name) and path (a path entry
// with pathExclusionType as its match). Other exclusion types (browser, file_type), unknown
// OS types, a white_hash that is not 40 (or 64) hex digits, a path type other than file,
// folder or subfolders, and control characters in a value are errors: nothing broader than
// the file's text is read out of it.
func (Exporter) Parse(name string, data []byte) ([]core.Entry, error) {
	if name != FileName {
		return nil, fmt.Errorf("%s: not a file the %s exporter writes", name, Name)
	}
	var bodies []Body
	if err := core.DecodeJSON(data, &bodies); err != nil {
		return nil, err
	}
	out := make([]core.Entry, 0, len(bodies))
	for i, b := range bodies {
		e, err := entryOf(name, b.Data)
		if err != nil {
			return nil, fmt.Errorf("exclusion %d: %w", i+1, err)
		}
		out = append(out, e)
	}
	return out, nil
}

func entryOf(file string, d Data) (core.Entry, error) {
	plat, ok := platformOf[d.OSType]
	if !ok {
		return core.Entry{}, fmt.Errorf("osType %s: want windows, windows_legacy, macos or linux", core.Quote(d.OSType))
	}
	e := core.Entry{Vendor: Name, Type: d.Type, Platform: plat, File: file}
	switch d.Type {
	case "white_hash":
		n := 40
		if len(d.Value) == 64 {
			n = 64 // the UNCONFIRMED SHA-256 option
		}
		v, err := core.ParseHexValue(d.Value, n)
		if err != nil {
			return e, fmt.Errorf("white_hash: %w", err)
		}
		e.Kind, e.Value = core.EntryHash, v
	case "certificate":
		if err := core.PlainEntryValue(d.Value); err != nil {
			return e, fmt.Errorf("certificate: %w", err)
		}
		e.Kind, e.Value = core.EntryCertificate, d.Value
	case "path":
		if err := core.PlainEntryValue(d.Value); err != nil {
			return e, fmt.Errorf("path: %w", err)
		}
		switch d.PathExclusionType {
		case "file", "folder", "subfolders":
		default:
			return e, fmt.Errorf("pathExclusionType %s: want file, folder or subfolders", core.Quote(d.PathExclusionType))
		}
		e.Kind, e.Value, e.Match, e.Action = core.EntryPath, d.Value, edrpolicy.Match(d.PathExclusionType), d.Mode
	default:
		return e, fmt.Errorf("type %s: edrpolicy writes only white_hash, certificate and path exclusions", core.Quote(d.Type))
	}
	return e, nil
}

// allowingModes are the path modes that stop S1 from acting on the file as a whole.
// suppress_dfi_only and suppress_dynamic_only suppress one engine each (mapping UNCONFIRMED)
// and suppress_app_control's semantics are UNCONFIRMED, so they do not count.
var allowingModes = map[string]bool{
	"suppress": true, "disable_in_process_monitor": true, "disable_in_process_monitor_deep": true,
	"disable_all_monitors": true, "disable_all_monitors_deep": true,
}

var reDrive = regexp.MustCompile(`^[A-Za-z]:`)

// Allows reports whether SentinelOne, as edrpolicy simulates it, lets target t run by entry
// e (its osType must be t's platform):
//
//   - white_hash: the file's SHA-1 (the API documents SHA-1; a 64-hex value is compared with
//     the SHA-256, which S1 accepting is UNCONFIRMED);
//   - certificate: the common name of the leaf of one of t's valid signatures equals the
//     publisher name. This is broad: it matches every file that publisher signs;
//   - path, in an allowing mode: file = the path itself, folder = files directly in it,
//     subfolders = files at any depth below it. On Windows case is ignored and a value
//     without a drive letter matches on every drive (third-party documentation: UNCONFIRMED
//     at primary level); '*' is a wildcard within one folder (its exact semantics are
//     UNCONFIRMED); '?' is literal.
func (Exporter) Allows(e core.Entry, t core.Subject, now time.Time) bool {
	if e.Platform != t.Platform {
		return false
	}
	switch e.Kind {
	case core.EntryHash:
		return t.HasDigest(e.Value)
	case core.EntryCertificate:
		for _, s := range t.Signers {
			if s.CommonName != "" && s.CommonName == e.Value {
				return true
			}
		}
		return false
	case core.EntryPath:
		return allowingModes[e.Action] && pathMatches(e, t)
	}
	return false
}

func pathMatches(e core.Entry, t core.Subject) bool {
	m := core.PathMatcher{NoQuestion: true}
	v, p := e.Value, t.Path
	if t.Platform == profile.OSWindows {
		m.Backslash, m.Fold = true, true
		if !reDrive.MatchString(v) && reDrive.MatchString(p) {
			p = p[2:]
		}
	} else if !strings.HasPrefix(v, "/") {
		return false
	}
	switch e.Match {
	case edrpolicy.MatchFile:
		return m.Match(v, p)
	case edrpolicy.MatchFolder:
		return m.MatchParent(v, p)
	case edrpolicy.MatchSubfolders:
		return m.MatchBelow(v, p)
	}
	return false
}
