// Package sentinelone exports a policy for SentinelOne (Management API 2.1).
//
// It writes sentinelone-exclusions.json: a JSON array of request bodies for
// POST /web/api/v2.1/exclusions, one per exclusion, each {"filter": scope, "data": item}.
// The scope comes from the options (tenant, account, site or group IDs; one is required, the
// API asks for the smallest scope that works).
//
//   - Hash rules become type white_hash with the file's SHA-1, which is what the API spec
//     documents. policy.json carries SHA-256 only, so the SHA-1 comes from Options.Digests
//     (an inspection of the same install); a hash rule without a known SHA-1 is skipped with
//     a warning. SentinelOneOptions.SHA256 also writes a white_hash with the SHA-256 value:
//     whether S1 accepts SHA-256 there is UNCONFIRMED (only third-party pages say so).
//   - Signer rules become type certificate with the signer's publisher name, which edrpolicy
//     takes to be the leaf certificate's common name: S1 shows Windows signers that way in a
//     recorded API response, but the exact string on Windows and on macOS (common name, Team
//     ID or "Developer ID Application: … (TEAMID)") is UNCONFIRMED, and every export that
//     writes such an exclusion says so in a warning. Rules narrowed to one file are skipped:
//     an S1 certificate exclusion covers everything the publisher signs.
//   - Path rules become type path with pathExclusionType file, folder or subfolders (folders
//     end in a separator, as S1 writes them) and the mode from the options (default
//     suppress). S1 documents '*' as its only wildcard, which is also the policy's.
package sentinelone

import (
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
)

// Name is the vendor name.
const Name = "sentinelone"

// FileName is the file the exporter writes.
const FileName = "sentinelone-exclusions.json"

// Modes are the documented path exclusion modes.
var Modes = []string{"suppress", "suppress_dynamic_only", "suppress_dfi_only", "disable_in_process_monitor",
	"disable_in_process_monitor_deep", "disable_all_monitors", "disable_all_monitors_deep", "suppress_app_control"}

// Exporter is the SentinelOne exporter.
type Exporter struct{}

// New returns the SentinelOne exporter.
func New() Exporter { return Exporter{} }

// Name returns "sentinelone".
func (Exporter) Name() string { return Name }

// Formats returns json.
func (Exporter) Formats() []string { return []string{"json"} }

// Body is one POST /web/api/v2.1/exclusions request body.
type Body struct {
	Filter Filter `json:"filter"`
	Data   Data   `json:"data"`
}

// Filter is the exclusion's scope.
type Filter struct {
	Tenant     bool     `json:"tenant,omitempty"`
	AccountIDs []string `json:"accountIds,omitempty"`
	SiteIDs    []string `json:"siteIds,omitempty"`
	GroupIDs   []string `json:"groupIds,omitempty"`
}

// Data is the exclusion item (ExclusionsSchemasPostExclusionSchemaData, the fields edrpolicy
// sets).
type Data struct {
	Type              string `json:"type"`
	OSType            string `json:"osType"`
	Value             string `json:"value"`
	PathExclusionType string `json:"pathExclusionType,omitempty"`
	Mode              string `json:"mode,omitempty"`
	Description       string `json:"description"`
}

var osTypes = map[string]string{"windows": "windows", "mac": "macos", "linux": "linux"}

// Export renders p. See the package documentation.
func (Exporter) Export(p *edrpolicy.Policy, o core.Options) ([]edrpolicy.OutputFile, []edrpolicy.Warning, error) {
	so := o.SentinelOne
	filter := Filter{Tenant: so.Tenant, AccountIDs: so.AccountIDs, SiteIDs: so.SiteIDs, GroupIDs: so.GroupIDs}
	if !so.Tenant && len(so.AccountIDs)+len(so.SiteIDs)+len(so.GroupIDs) == 0 {
		return nil, nil, fmt.Errorf("no scope: give account, site or group IDs (the smallest scope that works), or tenant-wide scope explicitly")
	}
	if so.Tenant && len(so.AccountIDs)+len(so.SiteIDs)+len(so.GroupIDs) > 0 {
		return nil, nil, fmt.Errorf("scope: tenant-wide scope takes no account, site or group IDs")
	}
	for _, ids := range [][]string{so.AccountIDs, so.SiteIDs, so.GroupIDs} {
		for _, id := range ids {
			if !core.IsDigits(id) {
				return nil, nil, fmt.Errorf("scope ID %q: SentinelOne IDs are decimal digits", id)
			}
		}
	}
	mode := so.Mode
	if mode == "" {
		mode = "suppress"
	}
	if !contains(Modes, mode) {
		return nil, nil, fmt.Errorf("mode %q: want one of %s", mode, strings.Join(Modes, ", "))
	}

	var (
		bodies []Body
		warns  []edrpolicy.Warning
		certs  int
	)
	add := func(d Data) { bodies = append(bodies, Body{Filter: filter, Data: d}) }
	for i := range p.Rules {
		r := &p.Rules[i]
		osType, ok := osTypes[r.Platform]
		if !ok {
			return nil, nil, fmt.Errorf("%s: platform %q: want windows, mac or linux", core.RuleRef(i, r), r.Platform)
		}
		desc := core.Describe(p, r)
		switch r.Criterion {
		case edrpolicy.CriterionHash:
			sum, err := core.HexDigest(r.Value, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: sha256 %v", core.RuleRef(i, r), err)
			}
			sha1 := core.ExtraDigests(&o, r, sum).SHA1
			if sha1 != "" {
				v, err := core.HexDigest(sha1, 40)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: sha1 %v", core.RuleRef(i, r), err)
				}
				add(Data{Type: "white_hash", OSType: osType, Value: v, Description: desc})
			}
			if so.SHA256 {
				add(Data{Type: "white_hash", OSType: osType, Value: sum, Description: desc})
			}
			switch {
			case sha1 == "" && !so.SHA256:
				warns = append(warns, core.Skipped(Name, i, r, "S1 hash exclusions take SHA-1 and the policy has only the SHA-256; give the inspection's digests (export --inspection with inspect --digests sha1), or opt in to SHA-256 values (UNCONFIRMED)"))
			case sha1 == "":
				warns = append(warns, core.Fallback(Name, i, r, "no SHA-1 known for this file", "white_hash with the SHA-256 value, which S1 accepting is UNCONFIRMED"))
			}
		case edrpolicy.CriterionSigner:
			if r.FileName != "" || r.SigningID != "" {
				warns = append(warns, core.Skipped(Name, i, r, "the rule is narrowed to one file, and an S1 certificate exclusion covers everything the publisher signs; pin the signer (--pin-signer) or use --level hash"))
				continue
			}
			if r.Signer == nil || r.Signer.CommonName == "" {
				warns = append(warns, core.Skipped(Name, i, r, "the rule carries no signer common name for S1's publisher name"))
				continue
			}
			if r.TeamID != "" {
				warns = append(warns, core.Fallback(Name, i, r, "S1's certificate value for macOS is UNCONFIRMED (Team ID or certificate name)",
					fmt.Sprintf("the leaf certificate's common name %q", r.Signer.CommonName)))
			}
			add(Data{Type: "certificate", OSType: osType, Value: r.Signer.CommonName, Description: desc})
			certs++
		case edrpolicy.CriterionPath:
			v, typ, why := pathValue(r)
			if why != "" {
				warns = append(warns, core.Skipped(Name, i, r, why))
				continue
			}
			add(Data{Type: "path", OSType: osType, Value: v, PathExclusionType: typ, Mode: mode, Description: desc})
		default:
			return nil, nil, fmt.Errorf("%s: unknown criterion", core.RuleRef(i, r))
		}
	}
	if len(bodies) == 0 || !o.Wants("json") {
		return nil, warns, nil
	}
	if certs > 0 {
		warns = append(warns, edrpolicy.Warning{Code: core.WarnUnconfirmed, Message: fmt.Sprintf("%s: %s: %d certificate exclusion(s) use the signer's certificate common name as S1's publisher name; the exact string S1 expects is UNCONFIRMED: compare it with the publisher S1 shows for the file. A publisher-name exclusion is broader than the policy's signer rule, which names one certificate: it covers every certificate issued under that name, renewals included", Name, FileName, certs)})
	}
	data, err := core.JSON(bodies)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %v", FileName, err)
	}
	return []edrpolicy.OutputFile{{Name: FileName, Data: data}}, warns, nil
}

// pathValue returns an S1 path value and pathExclusionType for a path rule.
func pathValue(r *edrpolicy.Rule) (value, typ, why string) {
	sep := "/"
	if r.Platform == "windows" {
		sep = `\`
	}
	v := strings.TrimRight(r.Value, sep)
	if v == "" {
		return "", "", "the root of a volume"
	}
	switch r.Match {
	case edrpolicy.MatchFile, "":
		return v, "file", ""
	case edrpolicy.MatchFolder:
		return v + sep, "folder", ""
	case edrpolicy.MatchSubfolders:
		return v + sep, "subfolders", ""
	}
	return "", "", fmt.Sprintf("match %q is not file, folder or subfolders", r.Match)
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
