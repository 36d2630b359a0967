// Package crowdstrike exports a policy for CrowdStrike Falcon.
//
// Files (names per the edrpolicy contract):
//
//   - crowdstrike-ioc.json: the body of POST /iocs/entities/indicators/v1, {"comment",
//     "indicators"}, one sha256 indicator per hash rule (md5 too when asked; Falcon has no
//     sha1 type), action allow or no_action, applied_globally or host_groups. More than
//     2,000 indicators are split into crowdstrike-ioc-001.json, -002.json, ... (psfalcon sends
//     at most 2,000 per request; the API maximum itself is UNCONFIRMED).
//   - crowdstrike-ioc.csv: the same indicators for the console's bulk upload. The console's
//     CSV column headers are UNCONFIRMED (Falcon documents them only behind a login): the
//     columns are the API field names, and every export that writes this file says so in an
//     export-unconfirmed warning. Check the header against your console's template.
//   - crowdstrike-ml-exclusions.json: a JSON array of bodies for POST
//     /policy/entities/ml-exclusions/v1 (one request per element), one per path rule.
//   - crowdstrike-cert-exclusions.json: the body of POST
//     /exclusions/entities/cert-based-exclusions/v1, one exclusion per signer rule.
//
// Path globs: Windows values lose their drive letter (Falcon patterns start below the
// volume, as psfalcon's ConvertTo-FalconMlExclusion builds them); a folder rule becomes
// "folder\*" and a subfolders rule "folder\**". Falcon's glob semantics ('*' within a
// segment, '**' across segments, case, escaping) are UNCONFIRMED; so is the treatment of
// '?', '[', ']', '{', '}' and (macOS, Linux) '\', and no escape is documented: a path
// holding one of them, '**', '%' or a control character gets no ML exclusion.
//
// What Falcon cannot express falls back (see core.MakePlan): a signer rule narrowed to its
// files (a certificate exclusion covers everything the certificate signs) and an executable's
// path Falcon cannot write become sha256 IOCs of the files (policy.json's file_digests), with
// an export-fallback warning and the reason in each IOC's description. The string formats
// Falcon stores for a certificate's serial and issuer are UNCONFIRMED: the warning says how to
// check them with Falcon's own certificate lookup, and each certificate exclusion's
// description holds the certificate's SHA-256.
package crowdstrike

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/hashing"
)

// Name is the vendor name.
const Name = "crowdstrike"

// MaxIndicatorsPerBody is the largest number of indicators written to one IOC body (the
// batch size psfalcon uses; the API's own maximum is UNCONFIRMED).
const MaxIndicatorsPerBody = 2000

// glob is Falcon's path pattern syntax as far as edrpolicy relies on it: '*' and '**', and
// (UNCONFIRMED) '?', '[', ']', '{', '}' and on macOS/Linux '\'. No escape character is
// documented (UNCONFIRMED), so a path holding one of them gets no ML exclusion: an
// executable's file falls back to its hash.
var glob = core.GlobSyntax{Vendor: "CrowdStrike Falcon (glob semantics UNCONFIRMED)", Meta: "?[]{}"}

// Options configure the Falcon exporter. The zero value writes allow IOCs applied globally
// with source "edrpolicy", sha256 only, and ML exclusions excluded from blocking.
type Options struct {
	// HostGroups are the Falcon host group IDs (32 hex, any case) the IOCs and exclusions
	// apply to. Empty means applied globally.
	HostGroups []string
	// Action is the IOC action: "allow" (the default when empty) or "no_action".
	Action string
	// MD5 adds an md5 IOC next to each sha256 one. The MD5 comes from the policy's hash
	// rules (an inspection that computed it, see Exporter.Digests) or from the shared
	// options' Digests; a file whose MD5 is unknown gets its sha256 IOC only, with a note.
	MD5 bool
	// Source is the IOC source field, 1 to 256 characters; "edrpolicy" when empty.
	Source string
	// ExcludedFrom is the ML exclusions' excluded_from: "blocking", "extraction" or both;
	// [blocking] when empty.
	ExcludedFrom []string
}

// Validate checks every option on its own; each fault is one *edrpolicy.OptionError of the
// join, its Field prefixed with the vendor type ("CrowdStrike.HostGroups",
// "CrowdStrike.Action", "CrowdStrike.Source", "CrowdStrike.ExcludedFrom"). Export validates
// too.
func (o Options) Validate() error {
	_, err := newSettings(o)
	return err
}

// Exporter is the Falcon exporter. The zero value is the exporter with default Options.
type Exporter struct {
	o Options
}

// New returns the Falcon exporter configured with o. Export refuses invalid options (see
// Options.Validate).
func New(o Options) *Exporter { return &Exporter{o: o} }

// Name returns "crowdstrike".
func (Exporter) Name() string { return Name }

// Formats returns json and csv.
func (Exporter) Formats() []string { return []string{"json", "csv"} }

// Digests returns MD5 when Options.MD5 asks for md5 IOCs: Falcon has no sha1 type, and
// SHA-256 is always computed.
func (e Exporter) Digests() hashing.Algorithms { return hashing.Algorithms{MD5: e.o.MD5} }

// IOCBody is the request body of POST /iocs/entities/indicators/v1.
type IOCBody struct {
	Comment    string      `json:"comment"`
	Indicators []Indicator `json:"indicators"`
}

// Indicator is one custom IOC (gofalcon APIIndicatorCreateReqV1, the fields edrpolicy sets).
type Indicator struct {
	Type            string    `json:"type"`
	Value           string    `json:"value"`
	Action          string    `json:"action"`
	Platforms       []string  `json:"platforms"`
	AppliedGlobally bool      `json:"applied_globally"`
	HostGroups      []string  `json:"host_groups,omitempty"`
	Severity        string    `json:"severity,omitempty"`
	Description     string    `json:"description"`
	Source          string    `json:"source"`
	Expiration      string    `json:"expiration,omitempty"`
	Metadata        *Metadata `json:"metadata,omitempty"`
}

// Metadata is an indicator's metadata: the file name, used with hash values.
type Metadata struct {
	Filename string `json:"filename"`
}

// MLExclusion is the body of POST /policy/entities/ml-exclusions/v1.
type MLExclusion struct {
	Value        string   `json:"value"`
	ExcludedFrom []string `json:"excluded_from"`
	Groups       []string `json:"groups"`
	Comment      string   `json:"comment"`
}

// CertExclusions is the body of POST /exclusions/entities/cert-based-exclusions/v1.
type CertExclusions struct {
	Exclusions []CertExclusion `json:"exclusions"`
}

// CertExclusion is one certificate-based exclusion.
type CertExclusion struct {
	Name            string      `json:"name"`
	Description     string      `json:"description"`
	Comment         string      `json:"comment"`
	Status          string      `json:"status"`
	AppliedGlobally bool        `json:"applied_globally"`
	HostGroups      []string    `json:"host_groups,omitempty"`
	Certificate     Certificate `json:"certificate"`
}

// Certificate holds the six certificate fields Falcon requires. Their string formats
// (thumbprint, serial, subject) are UNCONFIRMED; edrpolicy writes the forms Falcon's own
// Terraform acceptance tests use: RFC 4514-style names, hex serial, 40-hex SHA-1 thumbprint.
type Certificate struct {
	Issuer     string `json:"issuer"`
	Subject    string `json:"subject"`
	Serial     string `json:"serial"`
	Thumbprint string `json:"thumbprint"`
	ValidFrom  string `json:"valid_from"`
	ValidTo    string `json:"valid_to"`
}

// CSVHeader is the header of crowdstrike-ioc.csv. UNCONFIRMED: these are the API field
// names, not a copy of Falcon's console template.
var CSVHeader = []string{"type", "value", "action", "platforms", "severity", "applied_globally", "host_groups", "expiration", "source", "description", "filename"}

var platforms = map[profile.OS]string{profile.OSWindows: "windows", profile.OSMac: "mac", profile.OSLinux: "linux"}

var reDrive = regexp.MustCompile(`^[A-Za-z]:\\`)

// settings are the validated options.
type settings struct {
	action, source           string
	hostGroups, groups, excl []string
}

// newSettings validates o and fills in the defaults.
func newSettings(o Options) (*settings, error) {
	var errs []error
	s := &settings{action: o.Action, source: o.Source, excl: o.ExcludedFrom}
	if s.action == "" {
		s.action = "allow"
	}
	if s.action != "allow" && s.action != "no_action" {
		errs = append(errs, optionf("Action", s.action, "an exception takes allow or no_action"))
	}
	for _, g := range o.HostGroups {
		if !core.IsHex32(g) {
			errs = append(errs, optionf("HostGroups", g, "want a 32-hex Falcon host group ID"))
		}
	}
	s.hostGroups = lower(o.HostGroups)
	if s.source == "" {
		s.source = "edrpolicy"
	}
	if n := len([]rune(s.source)); n > 256 {
		errs = append(errs, optionf("Source", "", "%d characters, Falcon takes 1 to 256", n))
	}
	if len(s.excl) == 0 {
		s.excl = []string{"blocking"}
	}
	for _, e := range s.excl {
		if e != "blocking" && e != "extraction" {
			errs = append(errs, optionf("ExcludedFrom", e, "want blocking or extraction"))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	s.groups = s.hostGroups
	if len(s.groups) == 0 {
		s.groups = []string{"all"}
	}
	return s, nil
}

// optionf is an option error naming the field of Options, prefixed with the vendor type.
func optionf(field, value, format string, args ...any) *edrpolicy.OptionError {
	return &edrpolicy.OptionError{Field: "CrowdStrike." + field, Value: value, Reason: fmt.Sprintf(format, args...)}
}

// item is one planned Falcon entry: an IOC, an ML exclusion or a certificate exclusion.
type item struct {
	entry core.Entry
	ioc   *Indicator
	fname string // the IOC's metadata file name, for the CSV
	ml    *MLExclusion
	cert  *CertExclusion
	// lookup is, for a certificate exclusion, the SHA-256 of a file it signs (for Falcon's
	// own certificate lookup).
	lookup string
}

// falcon plans one export.
type falcon struct {
	p     *edrpolicy.Policy
	o     core.Options
	cs    Options
	s     *settings
	warns []edrpolicy.Warning
}

// Export renders an admitted policy (exporters.Admit) and returns the files, the entries
// written into them, the policy files no entry covers and the warnings. See the package documentation for the files.
func (e Exporter) Export(r *core.Request) (*core.VendorResult, error) {
	if !r.Admitted() {
		return nil, core.ErrNotAdmitted
	}
	p, o := r.Policy(), r.Options()
	s, err := newSettings(e.o)
	if err != nil {
		return nil, err
	}
	f := &falcon{p: p, o: o, cs: e.o, s: s}
	plan, err := core.MakePlan(p, core.Vendor[item]{Name: Name, Hash: f.hash, Signer: f.signer, Path: f.path})
	if err != nil {
		return nil, err
	}
	res := &core.VendorResult{Vendor: Name, Uncovered: plan.Uncovered, Warnings: append(f.warns, plan.Warnings...)}
	if err := f.render(res, plan.Items); err != nil {
		return nil, err
	}
	return res, nil
}

// platformOf is Falcon's platform name for t's rule.
func platformOf(t core.Target) (string, error) { return core.PlatformName(t, platforms) }

// hash writes a sha256 IOC (and an md5 one when asked) for the files of one content.
func (f *falcon) hash(t core.Target) ([]item, string, error) {
	plat, err := platformOf(t)
	if err != nil {
		return nil, "", err
	}
	ref := core.RuleRef(t.Index, t.Rule)
	sum, err := core.HexDigest(t.Digest.SHA256, 64)
	if err != nil {
		return nil, "", fmt.Errorf("%s: sha256 %v", ref, err)
	}
	exp, err := f.o.Expiry(t.Rule)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %v", ref, err)
	}
	ind := Indicator{
		Type: "sha256", Value: sum, Action: f.s.action, Platforms: []string{plat},
		AppliedGlobally: len(f.s.hostGroups) == 0, HostGroups: f.s.hostGroups,
		Severity: severityFor(f.s.action), Description: core.DescribeTarget(f.p, t), Source: f.s.source,
	}
	if !exp.IsZero() {
		ind.Expiration = exp.Format(time.RFC3339)
	}
	fname := ""
	if len(t.Files) > 0 {
		fname = core.BaseName(t.Files[0])
		ind.Metadata = &Metadata{Filename: fname}
	}
	out := []item{{entry: t.Entry(Name, core.EntryHash, "sha256", sum), ioc: &ind, fname: fname}}
	if !f.cs.MD5 {
		return out, "", nil
	}
	md5 := core.Extra(&f.o, t.Digest).MD5
	if md5 == "" {
		f.warns = append(f.warns, edrpolicy.Warning{Code: core.WarnNote, Message: fmt.Sprintf("%s: %s: no MD5 known for %s (give the inspection's digests); only the sha256 indicator was written", Name, ref, core.FileList(t.Files)), Files: t.Files})
		return out, "", nil
	}
	m, err := core.HexDigest(md5, 32)
	if err != nil {
		return nil, "", fmt.Errorf("%s: md5 %v", ref, err)
	}
	ind5 := ind
	ind5.Type, ind5.Value = "md5", m
	return append(out, item{entry: t.Entry(Name, core.EntryHash, "md5", m), ioc: &ind5, fname: fname}), "", nil
}

// signer writes a certificate-based exclusion for a signer rule that is not narrowed.
func (f *falcon) signer(t core.Target) ([]item, string, error) {
	r := t.Rule
	if _, err := platformOf(t); err != nil {
		return nil, "", err
	}
	if r.FileName != "" || r.SigningID != "" {
		return nil, "the rule is narrowed to its files, and a Falcon certificate exclusion covers everything the certificate signs", nil
	}
	s := r.Signer
	if s == nil || s.ThumbprintSHA1 == "" || s.Subject == "" || s.Issuer == "" || s.Serial == "" || s.NotBefore.IsZero() || s.NotAfter.IsZero() {
		return nil, "Falcon needs the leaf certificate's issuer, subject, serial, thumbprint and validity, and the rule does not carry them", nil
	}
	tp, err := core.HexDigest(s.ThumbprintSHA1, 40)
	if err != nil {
		return nil, "", fmt.Errorf("%s: thumbprint %v", core.RuleRef(t.Index, r), err)
	}
	if r.TeamID != "" {
		t.Fallback = "Falcon certificate exclusions take certificate fields, not an Apple Team ID: the leaf certificate " + tp + ", which stops matching when the developer's certificate is renewed"
		f.warns = append(f.warns, core.Fallback(Name, t.Index, r, "Falcon certificate exclusions take certificate fields, not an Apple Team ID",
			"the leaf certificate "+tp+" (it stops matching when the developer's certificate is renewed)"))
	}
	desc := core.DescribeTarget(f.p, t)
	if c256 := certSHA256(r); c256 != "" {
		desc += "; certificate SHA-256: " + c256
	}
	c := &CertExclusion{
		Name:            fmt.Sprintf("edrpolicy %s: %s", core.AppName(f.p), certName(s.CommonName, s.Subject)),
		Description:     desc,
		Comment:         fmt.Sprintf("generated by edrpolicy from the signer rule %s", r.Value),
		Status:          "enabled",
		AppliedGlobally: len(f.s.hostGroups) == 0,
		HostGroups:      f.s.hostGroups,
		Certificate: Certificate{
			Issuer: s.Issuer, Subject: s.Subject, Serial: strings.ToLower(s.Serial), Thumbprint: tp,
			ValidFrom: s.NotBefore.UTC().Format(time.RFC3339), ValidTo: s.NotAfter.UTC().Format(time.RFC3339),
		},
	}
	lookup := ""
	if len(r.FileDigests) > 0 {
		lookup = strings.ToLower(r.FileDigests[0].SHA256)
	}
	return []item{{entry: t.Entry(Name, core.EntryCertificate, "cert-exclusion", tp), cert: c, lookup: lookup}}, "", nil
}

// certSHA256 is the SHA-256 of the rule's leaf certificate: the signer's, else the hash of
// the DER the rule carries.
func certSHA256(r *edrpolicy.Rule) string {
	if r.Signer != nil && r.Signer.ThumbprintSHA256 != "" {
		return strings.ToLower(r.Signer.ThumbprintSHA256)
	}
	der := r.Certificate
	if len(der) == 0 && r.Signer != nil {
		der = r.Signer.Raw
	}
	if len(der) == 0 {
		return ""
	}
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

// path writes an ML exclusion.
func (f *falcon) path(t core.Target) ([]item, string, error) {
	if _, err := platformOf(t); err != nil {
		return nil, "", err
	}
	v, why := pathGlob(t)
	if why != "" {
		return nil, why, nil
	}
	ml := &MLExclusion{Value: v, ExcludedFrom: f.s.excl, Groups: f.s.groups, Comment: core.DescribeTarget(f.p, t)}
	return []item{{entry: t.Entry(Name, core.EntryPath, "ml-exclusion", v), ml: ml}}, "", nil
}

// render writes the files and their entries.
func (f *falcon) render(res *core.VendorResult, items []item) error {
	var iocs, mls, certs []item
	for _, it := range items {
		switch {
		case it.ioc != nil:
			iocs = append(iocs, it)
		case it.ml != nil:
			mls = append(mls, it)
		case it.cert != nil:
			certs = append(certs, it)
		}
	}
	if f.o.Wants("json") {
		if err := f.renderIOCs(res, iocs); err != nil {
			return err
		}
	}
	if f.o.Wants("csv") && len(iocs) > 0 {
		if err := f.renderCSV(res, iocs); err != nil {
			return err
		}
	}
	if f.o.Wants("json") && len(mls) > 0 {
		body := make([]MLExclusion, len(mls))
		for i, it := range mls {
			body[i] = *it.ml
		}
		if err := addJSON(res, "crowdstrike-ml-exclusions.json", body, mls); err != nil {
			return err
		}
		res.Warnings = append(res.Warnings, edrpolicy.Warning{Code: core.WarnUnconfirmed, Message: Name + `: crowdstrike-ml-exclusions.json: Falcon's glob semantics are UNCONFIRMED: edrpolicy writes folder rules as "folder\*" (one level) and subfolders rules as "folder\**" (any depth), without drive letters; check the patterns in the console before relying on them`})
	}
	if f.o.Wants("json") && len(certs) > 0 {
		body := CertExclusions{Exclusions: make([]CertExclusion, len(certs))}
		var lookups []string
		for i, it := range certs {
			body.Exclusions[i] = *it.cert
			if it.lookup != "" {
				lookups = append(lookups, it.lookup)
			}
		}
		if err := addJSON(res, "crowdstrike-cert-exclusions.json", body, certs); err != nil {
			return err
		}
		res.Warnings = append(res.Warnings, certWarning(lookups))
	}
	return nil
}

// certWarning says that the certificate string formats are UNCONFIRMED and how to check them
// with Falcon's own lookup.
func certWarning(lookups []string) edrpolicy.Warning {
	how := "GET /exclusions/entities/certificates/v1?ids=<SHA-256 of a file the certificate signs>"
	if len(lookups) > 0 {
		how = "GET /exclusions/entities/certificates/v1?ids=" + strings.Join(lookups, "&ids=")
	}
	return edrpolicy.Warning{Code: core.WarnUnconfirmed, Message: Name + ": crowdstrike-cert-exclusions.json: the string formats Falcon stores for a certificate's serial and issuer are UNCONFIRMED; before importing, ask Falcon for the certificate fields of a file each exclusion is for (" + how + ") and compare issuer, serial, subject and thumbprint; each exclusion's description holds the certificate's SHA-256"}
}

func (f *falcon) renderIOCs(res *core.VendorResult, iocs []item) error {
	if len(iocs) == 0 {
		return nil
	}
	app := core.AppName(f.p)
	parts := core.Chunk(iocs, MaxIndicatorsPerBody)
	for k, part := range parts {
		name := "crowdstrike-ioc.json"
		comment := fmt.Sprintf("edrpolicy: %s: %d indicator(s)", app, len(part))
		if len(parts) > 1 {
			name = core.Numbered("crowdstrike-ioc", "json", k)
			comment = fmt.Sprintf("edrpolicy: %s: part %d of %d, %d indicator(s)", app, k+1, len(parts), len(part))
		}
		body := IOCBody{Comment: comment, Indicators: make([]Indicator, len(part))}
		for i, it := range part {
			body.Indicators[i] = *it.ioc
		}
		if err := addJSON(res, name, body, part); err != nil {
			return err
		}
	}
	return nil
}

func (f *falcon) renderCSV(res *core.VendorResult, iocs []item) error {
	rows := make([][]string, len(iocs))
	entries := make([]core.Entry, len(iocs))
	for k, it := range iocs {
		ind := it.ioc
		rows[k] = []string{ind.Type, ind.Value, ind.Action, strings.Join(ind.Platforms, ","), ind.Severity,
			fmt.Sprint(ind.AppliedGlobally), strings.Join(ind.HostGroups, ","), ind.Expiration, ind.Source, ind.Description, it.fname}
		entries[k] = it.entry
	}
	data, err := core.CSV(CSVHeader, rows)
	if err != nil {
		return fmt.Errorf("crowdstrike-ioc.csv: %v", err)
	}
	res.Add("crowdstrike-ioc.csv", data, entries...)
	res.Warnings = append(res.Warnings, edrpolicy.Warning{Code: core.WarnUnconfirmed, Message: Name + ": crowdstrike-ioc.csv: the Falcon console's IOC upload column headers are UNCONFIRMED; the file uses the API field names (" + strings.Join(CSVHeader, ",") + "): check them against your console's template, or use crowdstrike-ioc.json with the API"})
	return nil
}

func addJSON(res *core.VendorResult, name string, v any, items []item) error {
	data, err := core.JSON(v)
	if err != nil {
		return fmt.Errorf("%s: %v", name, err)
	}
	entries := make([]core.Entry, len(items))
	for i, it := range items {
		entries[i] = it.entry
	}
	res.Add(name, data, entries...)
	return nil
}

// severityFor is the IOC severity an action needs: Falcon (per its Terraform provider)
// requires one for detect and prevent and rejects it otherwise, so an exception has none.
func severityFor(action string) string {
	switch action {
	case "detect", "prevent", "prevent_no_ui":
		return "informational"
	}
	return ""
}

func certName(cn, subject string) string {
	if cn != "" {
		return cn
	}
	return subject
}

// pathGlob converts a path target to a Falcon pattern, or says why it cannot.
func pathGlob(t core.Target) (string, string) {
	v := t.Path
	g := glob
	if t.Rule.Platform != profile.OSWindows {
		g.Meta += `\`
	}
	if why := core.LiteralProblem(v, g); why != "" {
		return "", why
	}
	if strings.Contains(v, "**") {
		return "", "the path holds '**', which Falcon reads as any number of folders while the policy's '*' is one folder"
	}
	sep := "/"
	if t.Rule.Platform == profile.OSWindows {
		sep = `\`
		switch {
		case strings.HasPrefix(v, `\\`):
			return "", "a UNC or device path, which Falcon patterns do not take"
		case strings.Contains(v, "%"):
			return "", "the path holds '%' (an environment variable), which Falcon patterns are not documented to expand"
		case reDrive.MatchString(v):
			v = v[3:]
		case len(v) >= 2 && v[1] == ':':
			return "", "a drive-relative path"
		}
	} else if !strings.HasPrefix(v, "/") {
		return "", "not an absolute path"
	}
	v = strings.TrimRight(v, sep)
	if v == "" {
		return "", "the root of a volume"
	}
	switch t.Match {
	case edrpolicy.MatchFolder:
		v += sep + "*"
	case edrpolicy.MatchSubfolders:
		v += sep + "**"
	case edrpolicy.MatchFile, "":
	default:
		return "", fmt.Sprintf("match %q is not file, folder or subfolders", t.Match)
	}
	return v, ""
}

func lower(xs []string) []string {
	if len(xs) == 0 {
		return nil
	}
	out := make([]string, len(xs))
	for i, x := range xs {
		out[i] = strings.ToLower(x)
	}
	return out
}
