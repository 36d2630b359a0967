// Package sentinelone exports a policy for SentinelOne (Management API 2.1).
//
// It writes sentinelone-exclusions.json: a JSON array of request bodies for
// POST /web/api/v2.1/exclusions, one per exclusion, each {"filter": scope, "data": item}.
// The scope comes from the options (tenant, account, site or group IDs; one is required, the
// API asks for the smallest scope that works).
//
//   - Hash rules become type white_hash with the file's SHA-1, which is what the API spec
//     documents. The SHA-1 comes from the policy's hash rules (an inspection that computed
//     it: Exporter.Digests asks for it) or from the shared options' Digests; a hash rule
//     without a known SHA-1 is skipped with a warning. Options.SHA256 also writes a
//     white_hash with the SHA-256 value: whether S1 accepts SHA-256 there is UNCONFIRMED
//     (only third-party pages say so).
//   - Signer rules become type certificate with the signer's publisher name, which edrpolicy
//     takes to be the leaf certificate's common name: S1 shows Windows signers that way in a
//     recorded API response, but the exact string on Windows and on macOS (common name, Team
//     ID or "Developer ID Application: … (TEAMID)") is UNCONFIRMED, and every export that
//     writes such an exclusion says so in a warning. A rule narrowed to its files is not a
//     certificate exclusion (one covers everything the publisher signs): each of its files
//     becomes a white_hash with its SHA-1 (policy.json's file_digests), or at --level path,
//     when no SHA-1 is known, a path exclusion for the file; an export-fallback warning and
//     each entry's description say so.
//   - Path rules become type path with pathExclusionType file, folder or subfolders (folders
//     end in a separator, as S1 writes them) and the mode from the options (default
//     suppress). S1 documents '*' as its only wildcard, which is also the policy's, and
//     environment variables (%VAR%) on Windows agents 4.6+: an executable's path holding '%'
//     or a control character falls back to its file's hash. The Interoperability modes
//     (disable_in_process_monitor, _deep) are for Windows agents: refused for macOS and
//     Linux policies.
package sentinelone

import (
	"errors"
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/hashing"
)

// Name is the vendor name.
const Name = "sentinelone"

// FileName is the file the exporter writes.
const FileName = "sentinelone-exclusions.json"

// Modes are the documented path exclusion modes.
var Modes = []string{"suppress", "suppress_dynamic_only", "suppress_dfi_only", "disable_in_process_monitor",
	"disable_in_process_monitor_deep", "disable_all_monitors", "disable_all_monitors_deep", "suppress_app_control"}

// Options configure the SentinelOne exporter. Exporting needs one scope: Tenant, or at least
// one account, site or group ID (the API asks for the smallest scope that works).
type Options struct {
	// Tenant is the tenant-wide (global) scope. It takes no IDs.
	Tenant bool
	// AccountIDs, SiteIDs and GroupIDs are the scope's SentinelOne IDs (decimal digits).
	AccountIDs []string
	SiteIDs    []string
	GroupIDs   []string
	// Mode is the path exclusion mode, one of Modes; "suppress" when empty. The
	// Interoperability modes (disable_in_process_monitor, _deep) are for Windows agents: a
	// policy with macOS or Linux rules is refused with them.
	Mode string
	// SHA256 also writes a white_hash exclusion with each SHA-256 value. Whether S1 accepts
	// SHA-256 there is UNCONFIRMED (the API spec says SHA-1).
	SHA256 bool
}

// Scoped reports whether o gives a scope (Tenant or some ID).
func (o Options) Scoped() bool {
	return o.Tenant || len(o.AccountIDs)+len(o.SiteIDs)+len(o.GroupIDs) > 0
}

// Validate checks every option on its own; each fault is one *edrpolicy.OptionError of the
// join, its Field prefixed with the vendor type ("SentinelOne.Tenant",
// "SentinelOne.AccountIDs", "SentinelOne.SiteIDs", "SentinelOne.GroupIDs",
// "SentinelOne.Mode"). A missing scope is not a fault here: it is checked when exporting,
// where it is needed. Export validates too.
func (o Options) Validate() error {
	var errs []error
	if o.Tenant && len(o.AccountIDs)+len(o.SiteIDs)+len(o.GroupIDs) > 0 {
		errs = append(errs, optionf("Tenant", "", "tenant-wide scope takes no account, site or group IDs"))
	}
	for _, f := range []struct {
		field string
		ids   []string
	}{{"AccountIDs", o.AccountIDs}, {"SiteIDs", o.SiteIDs}, {"GroupIDs", o.GroupIDs}} {
		for _, id := range f.ids {
			switch {
			case id == "":
				errs = append(errs, optionf(f.field, id, "an empty ID; SentinelOne IDs are decimal digits"))
			case !core.IsDigits(id):
				errs = append(errs, optionf(f.field, id, "SentinelOne IDs are decimal digits"))
			}
		}
	}
	if o.Mode != "" && !contains(Modes, o.Mode) {
		errs = append(errs, optionf("Mode", o.Mode, "want one of %s", strings.Join(Modes, ", ")))
	}
	return errors.Join(errs...)
}

// optionf is an option error naming the field of Options, prefixed with the vendor type.
func optionf(field, value, format string, args ...any) *edrpolicy.OptionError {
	return &edrpolicy.OptionError{Field: "SentinelOne." + field, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// ErrNoScope is returned by Export when the options give no scope.
var ErrNoScope = errors.New("no scope: give account, site or group IDs (the smallest scope that works), or tenant-wide scope explicitly")

// Exporter is the SentinelOne exporter. The zero value has no scope: it can read files back
// (Parse) but not export.
type Exporter struct {
	o Options
}

// New returns the SentinelOne exporter configured with o. Export refuses invalid options
// (see Options.Validate) and a missing scope (ErrNoScope).
func New(o Options) *Exporter { return &Exporter{o: o} }

// Options returns the options the exporter was made with.
func (e Exporter) Options() Options { return e.o }

// Name returns "sentinelone".
func (Exporter) Name() string { return Name }

// Formats returns json.
func (Exporter) Formats() []string { return []string{"json"} }

// Digests returns SHA-1: SentinelOne hash exclusions take the file's SHA-1 (SHA-256 is always
// computed).
func (Exporter) Digests() hashing.Algorithms { return hashing.Algorithms{SHA1: true} }

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

var osTypes = map[profile.OS]string{profile.OSWindows: "windows", profile.OSMac: "macos", profile.OSLinux: "linux"}

// interopModes are the "Interoperability" path exclusion modes, which public callers map
// for Windows agents only (svalabs sentinelone_path_exclusions; vendor-formats §2).
var interopModes = map[string]bool{"disable_in_process_monitor": true, "disable_in_process_monitor_deep": true}

// settings are the validated options.
type settings struct {
	filter Filter
	mode   string
}

// newSettings validates o for exporting p and fills in the defaults.
func newSettings(o Options, p *edrpolicy.Policy) (*settings, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if !o.Scoped() {
		return nil, ErrNoScope
	}
	mode := o.Mode
	if mode == "" {
		mode = "suppress"
	}
	if interopModes[mode] {
		if plat := nonWindows(p); plat != "" {
			return nil, optionf("Mode", mode, "an Interoperability mode, for Windows agents only, and the policy has %s rules: use suppress, disable_all_monitors or disable_all_monitors_deep, or export the Windows policy alone", plat)
		}
	}
	filter := Filter{Tenant: o.Tenant, AccountIDs: o.AccountIDs, SiteIDs: o.SiteIDs, GroupIDs: o.GroupIDs}
	return &settings{filter: filter, mode: mode}, nil
}

// nonWindows returns "macOS" or "Linux" when the policy targets that OS, else "".
func nonWindows(p *edrpolicy.Policy) string {
	plats := []profile.OS{p.OS}
	for _, r := range p.Rules {
		plats = append(plats, r.Platform)
	}
	for _, pl := range plats {
		switch pl {
		case profile.OSMac:
			return "macOS"
		case profile.OSLinux:
			return "Linux"
		}
	}
	return ""
}

// item is one planned exclusion.
type item struct {
	entry core.Entry
	data  Data
}

// plan holds one export's settings and the warnings raised while planning.
type plan struct {
	p     *edrpolicy.Policy
	o     core.Options
	so    Options
	s     *settings
	certs int
	warns []edrpolicy.Warning
}

// Export renders an admitted policy (exporters.Admit) and returns the files, the entries
// written into them, the policy files no entry covers and the warnings. See the package documentation.
func (e Exporter) Export(r *core.Request) (*core.VendorResult, error) {
	if !r.Admitted() {
		return nil, core.ErrNotAdmitted
	}
	p, o := r.Policy(), r.Options()
	s, err := newSettings(e.o, p)
	if err != nil {
		return nil, err
	}
	pl := &plan{p: p, o: o, so: e.o, s: s}
	planned, err := core.MakePlan(p, core.Vendor[item]{Name: Name, Hash: pl.hash, Signer: pl.signer, Path: pl.path})
	if err != nil {
		return nil, err
	}
	res := &core.VendorResult{Vendor: Name, Uncovered: planned.Uncovered, Warnings: append(pl.warns, planned.Warnings...)}
	if len(planned.Items) == 0 || !o.Wants("json") {
		return res, nil
	}
	if pl.certs > 0 {
		res.Warnings = append(res.Warnings, edrpolicy.Warning{Code: core.WarnUnconfirmed, Message: fmt.Sprintf("%s: %s: %d certificate exclusion(s) use the signer's certificate common name as S1's publisher name; the exact string S1 expects is UNCONFIRMED: compare it with the publisher S1 shows for the file. A publisher-name exclusion is broader than the policy's signer rule, which names one certificate: it covers every certificate issued under that name, renewals included", Name, FileName, pl.certs)})
	}
	bodies := make([]Body, len(planned.Items))
	entries := make([]core.Entry, len(planned.Items))
	for i, it := range planned.Items {
		bodies[i], entries[i] = Body{Filter: s.filter, Data: it.data}, it.entry
	}
	data, err := core.JSON(bodies)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", FileName, err)
	}
	res.Add(FileName, data, entries...)
	return res, nil
}

// osTypeOf is SentinelOne's osType for t's rule.
func osTypeOf(t core.Target) (string, error) { return core.PlatformName(t, osTypes) }

// hash writes a white_hash with the SHA-1 (and the SHA-256 when asked).
func (pl *plan) hash(t core.Target) ([]item, string, error) {
	osType, err := osTypeOf(t)
	if err != nil {
		return nil, "", err
	}
	ref := core.RuleRef(t.Index, t.Rule)
	sum, err := core.HexDigest(t.Digest.SHA256, 64)
	if err != nil {
		return nil, "", fmt.Errorf("%s: sha256 %v", ref, err)
	}
	desc := core.DescribeTarget(pl.p, t)
	var out []item
	sha1 := core.Extra(&pl.o, t.Digest).SHA1
	if sha1 != "" {
		v, err := core.HexDigest(sha1, 40)
		if err != nil {
			return nil, "", fmt.Errorf("%s: sha1 %v", ref, err)
		}
		out = append(out, item{entry: t.Entry(Name, core.EntryHash, "white_hash", v), data: Data{Type: "white_hash", OSType: osType, Value: v, Description: desc}})
	}
	if pl.so.SHA256 {
		out = append(out, item{entry: t.Entry(Name, core.EntryHash, "white_hash", sum), data: Data{Type: "white_hash", OSType: osType, Value: sum, Description: desc}})
	}
	switch {
	case sha1 == "" && !pl.so.SHA256:
		return nil, "S1 hash exclusions take SHA-1 and none is known for this file; give the digests of an inspection that computed SHA-1, or opt in to SHA-256 values (UNCONFIRMED)", nil
	case sha1 == "":
		pl.warns = append(pl.warns, core.Fallback(Name, t.Index, t.Rule, "no SHA-1 known for "+core.FileList(t.Files), "white_hash with the SHA-256 value, which S1 accepting is UNCONFIRMED"))
	}
	return out, "", nil
}

// signer writes a certificate (publisher name) exclusion for a signer rule that is not
// narrowed.
func (pl *plan) signer(t core.Target) ([]item, string, error) {
	r := t.Rule
	osType, err := osTypeOf(t)
	if err != nil {
		return nil, "", err
	}
	if r.FileName != "" || r.SigningID != "" {
		return nil, "the rule is narrowed to its files, and an S1 certificate exclusion covers everything the publisher signs", nil
	}
	if r.Signer == nil || r.Signer.CommonName == "" {
		return nil, "the rule carries no signer common name for S1's publisher name", nil
	}
	if !pl.o.Force {
		// A publisher-name exclusion covers every certificate issued under that name
		// (renewals, other products of the publisher, a look-alike certificate with the same
		// name from another CA): far broader than the rule, which names one certificate. The
		// files' hashes are written instead unless the export is forced.
		return nil, fmt.Sprintf("an S1 certificate exclusion names the publisher %q and covers everything signed under that name, not the one certificate the rule names (only a forced export writes it)", r.Signer.CommonName), nil
	}
	pl.warns = append(pl.warns, edrpolicy.Warning{Code: core.WarnNote, Message: fmt.Sprintf("%s: %s: certificate exclusion for the publisher %q written because the export was forced: it covers everything signed under that name", Name, core.RuleRef(t.Index, r), r.Signer.CommonName), Files: r.Files})
	if r.TeamID != "" {
		t.Fallback = fmt.Sprintf("S1's certificate value for macOS is UNCONFIRMED (Team ID or certificate name): the leaf certificate's common name %q", r.Signer.CommonName)
		pl.warns = append(pl.warns, core.Fallback(Name, t.Index, r, "S1's certificate value for macOS is UNCONFIRMED (Team ID or certificate name)",
			fmt.Sprintf("the leaf certificate's common name %q", r.Signer.CommonName)))
	}
	pl.certs++
	v := r.Signer.CommonName
	return []item{{entry: t.Entry(Name, core.EntryCertificate, "certificate", v), data: Data{Type: "certificate", OSType: osType, Value: v, Description: core.DescribeTarget(pl.p, t)}}}, "", nil
}

// path writes a path exclusion.
func (pl *plan) path(t core.Target) ([]item, string, error) {
	osType, err := osTypeOf(t)
	if err != nil {
		return nil, "", err
	}
	g := core.GlobSyntax{Vendor: "SentinelOne"}
	if t.Exact() && t.Rule.Platform == profile.OSWindows {
		g.Meta = "%" // environment variables, expanded by Windows agents 4.6+
	}
	if why := core.LiteralProblem(t.Path, g); why != "" {
		return nil, why, nil
	}
	v, typ, why := pathValue(t)
	if why != "" {
		return nil, why, nil
	}
	e := t.Entry(Name, core.EntryPath, "path", v)
	return []item{{entry: e, data: Data{Type: "path", OSType: osType, Value: v, PathExclusionType: typ, Mode: pl.s.mode, Description: core.DescribeTarget(pl.p, t)}}}, "", nil
}

// pathValue returns an S1 path value and pathExclusionType for a path target.
func pathValue(t core.Target) (value, typ, why string) {
	sep := "/"
	if t.Rule.Platform == profile.OSWindows {
		sep = `\`
	}
	v := strings.TrimRight(t.Path, sep)
	if v == "" {
		return "", "", "the root of a volume"
	}
	switch t.Match {
	case edrpolicy.MatchFile, "":
		return v, "file", ""
	case edrpolicy.MatchFolder:
		return v + sep, "folder", ""
	case edrpolicy.MatchSubfolders:
		return v + sep, "subfolders", ""
	}
	return "", "", fmt.Sprintf("match %q is not file, folder or subfolders", t.Match)
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}
