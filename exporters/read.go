package exporters

import (
	"fmt"
	"regexp"
	"time"

	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/output"
)

// Subject is what a simulation asks a vendor's entries about: one executable (or a probe path)
// on an endpoint; see core.Subject. SubjectSigner is the leaf of one of its valid signatures.
type (
	Subject       = core.Subject
	SubjectSigner = core.SubjectSigner
)

// SubjectFor builds the Subject of an inspected file at an endpoint path.
var SubjectFor = core.SubjectFor

// Concrete returns a path rule value with each policy wildcard '*' replaced by a name: one
// real path the rule covers.
func Concrete(value string) string { return core.Concrete(value) }

// Reader is implemented by exporters whose files can be read back (`check OUT_DIR`, `diff
// --vendor`). The built-in exporters implement it.
type Reader interface {
	Exporter
	// Owns reports whether a file name is one the exporter writes.
	Owns(name string) bool
	// Parse reads a file back into entries. Anything the exporter never writes (an unknown
	// type, a digest of the wrong length, a control character in a value) is an error, so
	// that no entry is broader than the file's text.
	Parse(name string, data []byte) ([]Entry, error)
	// Channel names the import route of a file when the vendor has alternatives holding the
	// same entries (Defender's portal CSV and API JSON, Falcon's console CSV and API JSON);
	// "" for a file every route uses.
	Channel(name string) string
	// Allows reports whether the vendor, as edrpolicy simulates its matching, lets target t
	// run by entry e at time now (expired entries allow nothing).
	Allows(e Entry, t Subject, now time.Time) bool
}

// Reader returns the registered exporter of vendor name if it can read its files back.
func (r *Registry) Reader(name string) (Reader, bool) {
	e, ok := r.byName[name]
	if !ok {
		return nil, false
	}
	rd, ok := e.(Reader)
	return rd, ok
}

// Owner returns the vendor whose exporter writes file name, or "".
func (r *Registry) Owner(name string) string {
	for _, v := range r.Names() {
		if rd, ok := r.Reader(v); ok && rd.Owns(name) {
			return v
		}
	}
	return ""
}

// ParseFile reads one vendor file back into entries: the vendor is the exporter that owns
// the file name. A name no registered reader owns is an error.
func ParseFile(reg *Registry, name string, data []byte) (string, []Entry, error) {
	v := reg.Owner(name)
	if v == "" {
		return "", nil, fmt.Errorf("%s: no vendor writes a file of this name", name)
	}
	rd, _ := reg.Reader(v)
	es, err := rd.Parse(name, data)
	if err != nil {
		return v, nil, fmt.Errorf("%s: %s: %w", v, name, err)
	}
	return v, es, nil
}

// ParseFiles reads every vendor file among files back into entries, in file order; files no
// vendor owns (policy.json, MANIFEST.sha256, coverage.json, removal files) are skipped.
func ParseFiles(reg *Registry, files []output.File) ([]Entry, error) {
	var out []Entry
	for _, f := range files {
		if reg.Owner(f.Name) == "" {
			continue
		}
		_, es, err := ParseFile(reg, f.Name, f.Data)
		if err != nil {
			return nil, err
		}
		out = append(out, es...)
	}
	return out, nil
}

// reRemoval matches the removal files `diff --vendor --out` and `generate --previous` write
// (crowdstrike-remove.json, defender-remove-av-exclusions.ps1, ...): upgrade instructions,
// not entries to import.
var reRemoval = regexp.MustCompile(`^(crowdstrike|sentinelone|defender)-remove([-.][A-Za-z0-9.-]*)?$`)

// IsRemovalFile reports whether name is a removal file of an upgrade plan.
func IsRemovalFile(name string) bool { return reRemoval.MatchString(name) }

// EntryKey identifies an entry as the vendor's console holds it, for comparing two sets: the
// vendor, its console object type (a Defender .cer upload and a CertificateThumbprint
// indicator are the same certificate indicator), platform, and value (lower case for hex
// digests and thumbprints).
func EntryKey(e Entry) string {
	typ := e.Type
	if e.Vendor == "defender" && typ == "cer" {
		typ = "CertificateThumbprint"
	}
	plat := e.Platform
	if e.Kind == EntryHash && e.Vendor != "sentinelone" || e.Vendor == "defender" && e.Kind == EntryCertificate {
		// One Defender indicator applies to every platform; one Falcon IOC lists its
		// platforms. A SentinelOne exclusion is per osType.
		plat = ""
	}
	return e.Vendor + "\x00" + string(e.Kind) + "\x00" + typ + "\x00" + string(plat) + "\x00" + e.Value
}
