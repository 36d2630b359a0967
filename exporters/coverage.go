package exporters

import (
	"fmt"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
)

// CoverageFileName is the coverage report written into the output set (and listed in
// MANIFEST.sha256) by every export.
const CoverageFileName = "coverage.json"

// CoverageSchemaVersion is the schema_version of coverage.json.
const CoverageSchemaVersion = 1

// Coverage is coverage.json: for each vendor exported, each executable of the policy (every
// file of every rule with role executable) and the vendor entry that covers it, or why none
// does.
type Coverage struct {
	SchemaVersion int              `json:"schema_version"`
	Vendors       []VendorCoverage `json:"vendors"`
}

// VendorCoverage is one vendor's coverage, executables sorted by file, then rule.
type VendorCoverage struct {
	Vendor      string               `json:"vendor"`
	Summary     CoverageSummary      `json:"summary"`
	Executables []ExecutableCoverage `json:"executables"`
}

// CoverageSummary counts a vendor's executables by the kind of entry that covers them.
// Executables = Hash + Certificate + Path + NotCovered; Fallback counts the covered ones
// whose entry is a fallback (another form than the rule's criterion).
type CoverageSummary struct {
	Executables int `json:"executables"`
	Hash        int `json:"hash"`
	Certificate int `json:"certificate"`
	Path        int `json:"path"`
	Fallback    int `json:"fallback"`
	NotCovered  int `json:"not_covered"`
}

// ExecutableCoverage is one executable (a file of an executable rule) for one vendor.
type ExecutableCoverage struct {
	// File is the endpoint path, as in the rule's files.
	File string `json:"file"`
	// SHA256 is the file's content digest, when the policy records it (the hash rule's
	// value, or file_digests).
	SHA256 string `json:"sha256,omitempty"`
	// Rule is the index of the policy rule: 0-based into policy.json's "rules", as check's
	// rules[N] names it. Criterion is the rule's criterion.
	Rule      int                 `json:"rule"`
	Criterion edrpolicy.Criterion `json:"criterion"`
	// CoveredBy is the vendor entry that covers the file (its Files and Fallback left out:
	// the record names the file, and Fallback says why).
	CoveredBy *Entry `json:"covered_by,omitempty"`
	// Fallback says why the covering entry is in another form than the rule's criterion.
	Fallback string `json:"fallback,omitempty"`
	// NotCovered says why no entry of the vendor covers the file.
	NotCovered string `json:"not_covered,omitempty"`
}

// Line is the one-line summary the CLI prints per vendor.
func (v *VendorCoverage) Line() string {
	s := v.Summary
	return fmt.Sprintf("%s: %d executables: %d by hash, %d by certificate, %d by path, %d fallback, %d NOT COVERED",
		v.Vendor, s.Executables, s.Hash, s.Certificate, s.Path, s.Fallback, s.NotCovered)
}

// NotCovered is the number of executables, over all vendors, that no entry covers.
func (c *Coverage) NotCovered() int {
	n := 0
	for _, v := range c.Vendors {
		n += v.Summary.NotCovered
	}
	return n
}

// JSON is coverage.json: indented, HTML characters unescaped, a final newline.
func (c *Coverage) JSON() ([]byte, error) { return core.JSON(c) }

// vendorCoverage builds one vendor's coverage of p from its export.
func vendorCoverage(p *edrpolicy.Policy, vr *core.VendorResult) VendorCoverage {
	vc := VendorCoverage{Vendor: vr.Vendor, Executables: []ExecutableCoverage{}}
	for i := range p.Rules {
		r := &p.Rules[i]
		if r.Role != profile.RoleExecutable {
			continue
		}
		for _, f := range r.Files {
			ec := ExecutableCoverage{File: f, SHA256: fileSHA256(r, f), Rule: i, Criterion: r.Criterion}
			if e := coveringEntry(vr.Entries, i, f); e != nil {
				by := *e
				by.Files, by.Fallback = nil, ""
				ec.CoveredBy, ec.Fallback = &by, e.Fallback
			} else {
				ec.NotCovered = uncoveredReason(vr.Uncovered, i, f)
			}
			vc.Executables = append(vc.Executables, ec)
			vc.Summary.count(ec)
		}
	}
	sort.SliceStable(vc.Executables, func(a, b int) bool {
		x, y := vc.Executables[a], vc.Executables[b]
		if x.File != y.File {
			return x.File < y.File
		}
		return x.Rule < y.Rule
	})
	return vc
}

func (s *CoverageSummary) count(ec ExecutableCoverage) {
	s.Executables++
	if ec.CoveredBy == nil {
		s.NotCovered++
		return
	}
	switch ec.CoveredBy.Kind {
	case EntryHash:
		s.Hash++
	case EntryCertificate:
		s.Certificate++
	case EntryPath:
		s.Path++
	}
	if ec.Fallback != "" {
		s.Fallback++
	}
}

// fileSHA256 is the SHA-256 the policy records for file f of rule r, or "".
func fileSHA256(r *edrpolicy.Rule, f string) string {
	if r.Criterion == edrpolicy.CriterionHash {
		return strings.ToLower(r.Value)
	}
	for _, fd := range r.FileDigests {
		if fd.Path == f {
			return strings.ToLower(fd.SHA256)
		}
	}
	return ""
}

// coveringEntry is the first entry, in the order the vendor wrote them, that was written for
// rule (0-based index into the policy's rules) and covers file f.
func coveringEntry(entries []Entry, rule int, f string) *Entry {
	for i := range entries {
		e := &entries[i]
		if e.Rule == nil || *e.Rule != rule {
			continue
		}
		for _, ef := range e.Files {
			if ef == f {
				return e
			}
		}
	}
	return nil
}

func uncoveredReason(unc []core.Uncovered, rule int, f string) string {
	for _, u := range unc {
		if u.Rule != rule {
			continue
		}
		for _, uf := range u.Files {
			if uf == f {
				return u.Reason
			}
		}
	}
	return "no entry for it was written: the kind of file that would hold it was not asked for (formats)"
}
