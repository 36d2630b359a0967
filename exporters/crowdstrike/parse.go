package crowdstrike

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
)

// File names the Falcon exporter writes, for reading them back.
const (
	IOCJSONFile  = "crowdstrike-ioc.json"
	IOCCSVFile   = "crowdstrike-ioc.csv"
	MLFile       = "crowdstrike-ml-exclusions.json"
	CertFile     = "crowdstrike-cert-exclusions.json"
	entryML      = "ml-exclusion"
	entryCert    = "cert-exclusion"
	channelAPI   = "api"
	channelCSV   = "console-csv"
	actionAllow  = "allow"
	excludeBlock = "blocking"
)

var reIOCPart = regexp.MustCompile(`^crowdstrike-ioc-[0-9]{3}\.json$`)

// Owns reports whether name is a file the Falcon exporter writes.
func (Exporter) Owns(name string) bool {
	switch name {
	case IOCJSONFile, IOCCSVFile, MLFile, CertFile:
		return true
	}
	return reIOCPart.MatchString(name)
}

// Channel says which import route a file belongs to: the IOC API bodies ("api") and the
// console CSV ("console-csv") are alternatives holding the same indicators; the exclusion
// files ("") belong to both.
func (e Exporter) Channel(name string) string {
	switch {
	case name == IOCJSONFile || reIOCPart.MatchString(name):
		return channelAPI
	case name == IOCCSVFile:
		return channelCSV
	}
	return ""
}

// Parse reads a Falcon file back into entries: one hash entry per IOC and platform, one path
// entry per ML exclusion, one certificate entry per certificate-based exclusion. A value
// edrpolicy never writes (an IOC type other than sha256 or md5, a digest of the wrong
// length, an unknown platform, a control character) is an error, so that nothing broader
// than the file's text is ever read out of it.
func (e Exporter) Parse(name string, data []byte) ([]core.Entry, error) {
	switch {
	case name == IOCJSONFile || reIOCPart.MatchString(name):
		return parseIOCJSON(name, data)
	case name == IOCCSVFile:
		return parseIOCCSV(name, data)
	case name == MLFile:
		return parseML(name, data)
	case name == CertFile:
		return parseCerts(name, data)
	}
	return nil, fmt.Errorf("%s: not a file the %s exporter writes", name, Name)
}

func parseIOCJSON(name string, data []byte) ([]core.Entry, error) {
	var body IOCBody
	if err := core.DecodeJSON(data, &body); err != nil {
		return nil, err
	}
	if body.Indicators == nil {
		return nil, fmt.Errorf("no \"indicators\" list")
	}
	var out []core.Entry
	for i, ind := range body.Indicators {
		es, err := iocEntries(name, ind.Type, ind.Value, ind.Action, ind.Expiration, ind.Platforms)
		if err != nil {
			return nil, fmt.Errorf("indicator %d: %w", i+1, err)
		}
		out = append(out, es...)
	}
	return out, nil
}

func parseIOCCSV(name string, data []byte) ([]core.Entry, error) {
	rows, err := core.ReadCSV(data, CSVHeader)
	if err != nil {
		return nil, err
	}
	var out []core.Entry
	for i, row := range rows {
		// type, value, action, platforms, severity, applied_globally, host_groups, expiration, ...
		es, err := iocEntries(name, row[0], row[1], row[2], row[7], strings.Split(row[3], ","))
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", i+2, err)
		}
		out = append(out, es...)
	}
	return out, nil
}

// iocEntries checks one IOC and returns an entry per platform.
func iocEntries(file, typ, value, action, expiration string, plats []string) ([]core.Entry, error) {
	n := map[string]int{"sha256": 64, "md5": 32}[typ]
	if n == 0 {
		return nil, fmt.Errorf("type %s: edrpolicy writes only sha256 and md5 indicators", core.Quote(typ))
	}
	v, err := core.ParseHexValue(value, n)
	if err != nil {
		return nil, err
	}
	if _, err := core.ParseTime(expiration); err != nil {
		return nil, err
	}
	if len(plats) == 0 {
		return nil, fmt.Errorf("no platforms")
	}
	var out []core.Entry
	for _, p := range plats {
		o, ok := platformNamed(p)
		if !ok {
			return nil, fmt.Errorf("platform %s: want windows, mac or linux", core.Quote(p))
		}
		out = append(out, core.Entry{Vendor: Name, Kind: core.EntryHash, Type: typ, Value: v, Platform: o, File: file, Action: action, Expires: expiration})
	}
	return out, nil
}

func parseML(name string, data []byte) ([]core.Entry, error) {
	var mls []MLExclusion
	if err := core.DecodeJSON(data, &mls); err != nil {
		return nil, err
	}
	out := make([]core.Entry, 0, len(mls))
	for i, m := range mls {
		if err := core.PlainEntryValue(m.Value); err != nil {
			return nil, fmt.Errorf("exclusion %d: %w", i+1, err)
		}
		for _, x := range m.ExcludedFrom {
			if x != excludeBlock && x != "extraction" {
				return nil, fmt.Errorf("exclusion %d: excluded_from %s: want blocking or extraction", i+1, core.Quote(x))
			}
		}
		out = append(out, core.Entry{Vendor: Name, Kind: core.EntryPath, Type: entryML, Value: m.Value, Platform: mlPlatform(m.Value), File: name, Action: strings.Join(m.ExcludedFrom, ",")})
	}
	return out, nil
}

// mlPlatform is the platform an ML exclusion pattern is written for: Windows patterns use
// '\'; a pattern starting with '/' is for macOS or Linux (Falcon's pattern carries no OS, so
// the entry's platform is left empty and it is matched against both).
func mlPlatform(v string) profile.OS {
	if strings.Contains(v, `\`) {
		return profile.OSWindows
	}
	return ""
}

// platformNamed is the OS of one of Falcon's platform names (the inverse of platforms).
func platformNamed(name string) (profile.OS, bool) {
	for o, n := range platforms {
		if n == name {
			return o, true
		}
	}
	return "", false
}

func parseCerts(name string, data []byte) ([]core.Entry, error) {
	var body CertExclusions
	if err := core.DecodeJSON(data, &body); err != nil {
		return nil, err
	}
	if body.Exclusions == nil {
		return nil, fmt.Errorf("no \"exclusions\" list")
	}
	out := make([]core.Entry, 0, len(body.Exclusions))
	for i, c := range body.Exclusions {
		tp, err := core.ParseHexValue(c.Certificate.Thumbprint, 40)
		if err != nil {
			return nil, fmt.Errorf("exclusion %d: thumbprint: %w", i+1, err)
		}
		out = append(out, core.Entry{Vendor: Name, Kind: core.EntryCertificate, Type: entryCert, Value: tp, File: name, Action: c.Status})
	}
	return out, nil
}

// Allows reports whether Falcon, as edrpolicy simulates it, lets target t run by entry e:
//
//   - an IOC (sha256 or md5, the whole-file digest: which digest Falcon matches is
//     UNCONFIRMED, and edrpolicy takes the flat file digest) with action allow, not expired,
//     whose platforms include t's;
//   - a certificate-based exclusion, status enabled, whose thumbprint is the SHA-1 of the
//     leaf certificate of one of t's valid signatures (the certificate's other five fields
//     are not compared: their string formats are UNCONFIRMED);
//   - an ML exclusion excluded from blocking whose pattern matches t's path. Falcon's glob
//     semantics are UNCONFIRMED, so the simulation is conservative: case-sensitive, '*'
//     within one folder, '?' literal, "**" any depth (the reading the exporter writes
//     subfolders rules in), and a Windows pattern without a drive letter matches the path
//     below any drive.
func (Exporter) Allows(e core.Entry, t core.Subject, now time.Time) bool {
	switch {
	case e.Kind == core.EntryHash:
		return e.Action == actionAllow && !core.Expired(e.Expires, now) && e.Platform == t.Platform && t.HasDigest(e.Value)
	case e.Kind == core.EntryCertificate && e.Type == entryCert:
		return e.Action == "enabled" && certMatches(e.Value, t)
	case e.Kind == core.EntryPath && e.Type == entryML:
		return hasWord(e.Action, excludeBlock) && mlMatches(e, t)
	}
	return false
}

func certMatches(tp string, t core.Subject) bool {
	for _, s := range t.Signers {
		if s.ThumbprintSHA1 != "" && s.ThumbprintSHA1 == tp {
			return true
		}
	}
	return false
}

func mlMatches(e core.Entry, t core.Subject) bool {
	if e.Platform != "" && e.Platform != t.Platform {
		return false
	}
	if t.Platform == profile.OSWindows {
		if e.Platform != profile.OSWindows {
			return false
		}
		m := core.PathMatcher{Backslash: true, DoubleStar: true, NoQuestion: true}
		p := t.Path
		if !reDrive.MatchString(e.Value) && reDrive.MatchString(p) {
			p = p[3:]
		}
		return m.Match(e.Value, p)
	}
	if !strings.HasPrefix(e.Value, "/") {
		return false
	}
	return core.PathMatcher{DoubleStar: true, NoQuestion: true}.Match(e.Value, t.Path)
}

func hasWord(list, w string) bool {
	for _, x := range strings.Split(list, ",") {
		if x == w {
			return true
		}
	}
	return false
}
