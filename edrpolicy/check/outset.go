package check

import (
	"fmt"
	"sort"
)

// Output-set finding ids (EDR2xx): `check OUT_DIR` verifies a folder written by generate or
// export, reads its vendor files back and simulates each vendor. The policy-level ids
// (EDR0xx, EDR1xx) apply to the folder's policy.json as to a policy file.
const (
	// FindingManifest: MANIFEST.sha256 is missing or unreadable, or a line of it is not
	// "<sha256>  <name>" or repeats a name.
	FindingManifest = "EDR201"
	// FindingManifestMismatch: a file's SHA-256 is not the one the manifest lists (edited
	// after generation).
	FindingManifestMismatch = "EDR202"
	// FindingManifestMissing: a file the manifest lists is not in the folder.
	FindingManifestMissing = "EDR203"
	// FindingManifestUnlisted: a vendor file (or policy.json) is in the folder but not in
	// the manifest.
	FindingManifestUnlisted = "EDR204"
	// FindingManifestEscape: a manifest line names a path outside the folder.
	FindingManifestEscape = "EDR205"
	// FindingVendorFile: a vendor file cannot be read or parsed as its vendor's format.
	FindingVendorFile = "EDR206"
	// FindingNoPolicy: the folder has no readable policy.json.
	FindingNoPolicy = "EDR207"
	// FindingVendorNotCovered: an inspected executable no entry of a vendor's files allows,
	// with that vendor's matching (File is the executable's endpoint path).
	FindingVendorNotCovered = "EDR210"
	// FindingRuleNotExported: a hash or path rule of policy.json that a vendor's files do not
	// express.
	FindingRuleNotExported = "EDR211"
	// FindingEntryNotInPolicy: a vendor entry that exporting policy.json does not give (added
	// by hand, or broader than the policy); a warning for managed settings files, which may
	// hold exclusions merged from an existing configuration.
	FindingEntryNotInPolicy = "EDR212"
)

// outputSetRules are the catalogue entries of the EDR2xx findings.
func outputSetRules() []FindingRule {
	rules := []FindingRule{
		{FindingManifest, SeverityError, "MANIFEST.sha256 missing, unreadable or malformed"},
		{FindingManifestMismatch, SeverityError, "file changed since generation: its SHA-256 is not the manifest's"},
		{FindingManifestMissing, SeverityError, "file listed in the manifest is missing"},
		{FindingManifestUnlisted, SeverityError, "vendor file present but not listed in the manifest"},
		{FindingManifestEscape, SeverityError, "manifest line names a path outside the folder"},
		{FindingVendorFile, SeverityError, "vendor file cannot be read or parsed"},
		{FindingNoPolicy, SeverityError, "output folder without a readable policy.json"},
		{FindingVendorNotCovered, SeverityError, "executable no entry of a vendor's files allows"},
		{FindingRuleNotExported, SeverityError, "policy rule a vendor's files do not express"},
		{FindingEntryNotInPolicy, SeverityError, "vendor entry that exporting policy.json does not give"},
	}
	sort.Slice(rules, func(i, j int) bool { return rules[i].ID < rules[j].ID })
	return rules
}

// simulatedEvidence returns the executables of a simulation with their evidence, sorted by
// path (the order of Simulation.Files).
func simulatedEvidence(execs []*simExec) []Executable {
	out := make([]Executable, 0, len(execs))
	for _, e := range execs {
		out = append(out, Executable{File: e.file, Path: e.display, Endpoints: e.endpoints, Tampered: e.tampered})
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Summarize fills a report's summary from its findings (after a caller added findings of
// its own, as `check OUT_DIR` does) and sorts the findings as Run does.
func (r *Report) Summarize() {
	sortFindings(r.Findings)
	r.Summary = Summary{}
	for _, f := range r.Findings {
		switch f.Severity {
		case SeverityError:
			r.Summary.Errors++
		case SeverityWarning:
			r.Summary.Warnings++
		default:
			r.Summary.Notes++
		}
	}
	s := &r.Summary
	s.Text = fmt.Sprintf("%s, %s, %s", countNoun(s.Errors, "error"), countNoun(s.Warnings, "warning"), countNoun(s.Notes, "note"))
}
