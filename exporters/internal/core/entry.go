package core

import (
	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/output"
)

// EntryKind is what a vendor entry matches on, in the vendor's own terms.
type EntryKind string

// Entry kinds. A vendor entry either matches a file's content (hash), the certificate (or
// publisher) that signed it, or its path.
const (
	EntryHash        EntryKind = "hash"
	EntryCertificate EntryKind = "certificate"
	EntryPath        EntryKind = "path"
)

// Entry is one exception as a vendor console holds it: the unit that exporters write and
// that reading the written files back gives again. It is the shared vocabulary of the
// coverage report (which entry covers which executable), of `check OUT_DIR` (which parses
// the vendor files back into entries and simulates the vendor's matching), and of the
// per-console upgrade plan (entries to add, delete and keep).
//
// Only the fields a vendor file really holds are filled when an entry is parsed back from a
// file; Rule and Files come from the policy and are set only when the exporter writes it.
type Entry struct {
	// Vendor is the exporter name: crowdstrike, sentinelone, defender.
	Vendor string `json:"vendor"`
	// Kind is hash, certificate or path.
	Kind EntryKind `json:"kind"`
	// Type is the vendor's own name for the entry's type: FileSha256, FileSha1,
	// CertificateThumbprint, ExclusionPath, excludedPath (Defender); sha256, md5,
	// ml-exclusion, cert-exclusion (CrowdStrike); white_hash, certificate, path (SentinelOne).
	Type string `json:"type"`
	// Value is the entry's value exactly as the vendor file holds it (a lower-case hex digest,
	// a thumbprint, a path pattern in the vendor's syntax, a publisher name).
	Value string `json:"value"`
	// Platform is windows, mac or linux (the vendor's OS field mapped to the policy's names).
	Platform profile.OS `json:"platform,omitempty"`
	// Match is file, folder or subfolders for path entries that say so.
	Match edrpolicy.Match `json:"match,omitempty"`
	// File is the output file that holds the entry (defender-indicators-001.csv, ...).
	File string `json:"file"`
	// Action is the entry's action or state as the vendor file writes it, when it has one:
	// allow or no_action (Falcon IOC), the excluded_from list joined with "," (Falcon ML
	// exclusion), enabled or disabled (Falcon certificate exclusion), the path mode
	// (SentinelOne), Allowed, Audit, Block, ... (Defender indicators). Whether an entry
	// allows anything depends on it: a parsed entry is simulated with its action.
	Action string `json:"action,omitempty"`
	// Expires is the entry's expiration as written (RFC 3339 or Defender's CSV form), if any.
	Expires string `json:"expires,omitempty"`
	// Rule is the index of the policy rule the entry was written for: 0-based into
	// policy.json's "rules", as check's rules[N] names it. Nil (left out) when the entry was
	// parsed back from a vendor file.
	Rule *int `json:"rule,omitempty"`
	// Files are the endpoint paths the entry was written to cover: the rule's files, or for
	// a fallback the files it stands for (one content, or one path). Process exclusions
	// (Defender ExclusionProcess, excludedFileName) leave it empty: they exclude what a
	// process opens, not the executable itself.
	Files []string `json:"files,omitempty"`
	// Fallback says why the entry is in another form than the rule's criterion (a hash entry
	// for a signer rule the vendor cannot express, ...); empty when the vendor writes the
	// rule as decided. Set only by exporters.
	Fallback string `json:"fallback,omitempty"`
}

// VendorResult is one vendor's export: the files, the entries written into them (one per
// entry and file: an indicator in both the CSV and the API body is two entries), the policy
// files no entry covers, and the warnings.
type VendorResult struct {
	Vendor    string
	Files     []output.File
	Entries   []Entry
	Uncovered []Uncovered
	Warnings  []edrpolicy.Warning
}

// Add appends a rendered file and its entries (File set to the file's name).
func (vr *VendorResult) Add(name string, data []byte, entries ...Entry) {
	vr.Files = append(vr.Files, output.File{Name: name, Data: data})
	for _, e := range entries {
		e.File = name
		vr.Entries = append(vr.Entries, e)
	}
}
