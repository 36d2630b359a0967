package edrpolicy

import "github.com/edrpolicy/edrpolicy/edrpolicy/profile"

// This file holds the types that evidence merged from many hosts (package edrpolicy/fleet,
// `generate --evidence`) adds to FileEvidence and Policy. The merging itself lives in
// edrpolicy/fleet; Decide treats merged evidence like any other: its trust judgement
// (trust.go) is the only place where a signature is judged worth a signer rule.

// FleetSeen is what the fleet says about one file content at one endpoint path.
type FleetSeen struct {
	// Hosts is how many hosts carry this content (SHA-256) at this path and version.
	Hosts int `json:"hosts"`
	// Of is how many hosts of that version report the path at all.
	Of int `json:"of"`
	// Note says, when the merged evidence carries no signature to judge, why: osquery reports
	// no certificate thumbprint, so a signer rule needs inspect evidence of a reference host
	// with the same SHA-256. Decide uses it as the reason of the file's hash rule.
	Note string `json:"note,omitempty"`
}

// FleetSummary is policy.json's "fleet": what the merged evidence held.
type FleetSummary struct {
	// Hosts is the number of distinct hosts named by the evidence.
	Hosts int `json:"hosts"`
	// Rows is the number of evidence rows read (osquery rows and inspect records); Ignored
	// counts those that concern no executable folder of the profile or carry nothing
	// edrpolicy reads (rows of other queries).
	Rows    int64 `json:"rows"`
	Ignored int64 `json:"ignored"`
	// MinHosts and MinShare are the thresholds below which a digest or version is an
	// outlier (generate --min-hosts, --min-share).
	MinHosts int     `json:"min_hosts"`
	MinShare float64 `json:"min_share"`
	// Versions lists each application version the hosts run, newest first.
	Versions []FleetVersion `json:"versions"`
	// Evidence lists the evidence files as given, with their format and row counts.
	Evidence []FleetSource `json:"evidence"`
	// Findings counts the warnings that make generate exit 1: outliers, evidence that could
	// not be read, hosts whose version is unknown, reference evidence that disagrees.
	Findings int `json:"findings"`
}

// FleetVersion is one application version seen in the fleet.
type FleetVersion struct {
	Version string `json:"version"`
	Hosts   int    `json:"hosts"`
	// Status is "current" (the policy's app_version), "covered" (its rules are kept,
	// labelled with the version, while hosts still run it) or "outlier" (too few hosts: no
	// rules, a fleet-outlier warning).
	Status string `json:"status"`
}

// FleetSource is one evidence file.
type FleetSource struct {
	File   string `json:"file"`
	Format string `json:"format,omitempty"`
	Rows   int64  `json:"rows"`
	Errors int    `json:"errors,omitempty"`
}

// SortPolicy puts a policy's rules and warnings in the order Decide writes them (rules by
// criterion, platform, role and value; warnings by code and message), for a policy assembled
// from several decisions.
func SortPolicy(p *Policy) {
	sortRules(p.Rules)
	sortWarnings(p.Warnings)
}

// FoldPath returns the form of an endpoint path that compares equal for every spelling the
// platform treats as the same file: separators unified ('\' on Windows, '/' elsewhere),
// case folded on Windows and macOS (as the path guardrails fold it), unchanged case on Linux.
// It does not resolve "." or ".."; callers clean the path first.
func FoldPath(platform profile.OS, p string) string {
	switch platform {
	case "windows":
		out := make([]byte, 0, len(p))
		for i := 0; i < len(p); i++ {
			if p[i] == '/' {
				out = append(out, '\\')
			} else {
				out = append(out, p[i])
			}
		}
		return foldString(string(out))
	case "mac":
		return foldString(p)
	}
	return p
}
