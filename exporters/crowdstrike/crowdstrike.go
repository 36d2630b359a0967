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
// '?', '[', ']', '{' and '}', so a path containing them is refused with a warning.
package crowdstrike

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
)

// Name is the vendor name.
const Name = "crowdstrike"

// MaxIndicatorsPerBody is the largest number of indicators written to one IOC body (the
// batch size psfalcon uses; the API's own maximum is UNCONFIRMED).
const MaxIndicatorsPerBody = 2000

// Glob is Falcon's path pattern syntax as far as edrpolicy relies on it. No escape character
// is documented (UNCONFIRMED), so literal metacharacters make the rule be refused.
var glob = core.GlobSyntax{Vendor: "CrowdStrike Falcon", Meta: "?[]{}"}

// Exporter is the Falcon exporter.
type Exporter struct{}

// New returns the Falcon exporter.
func New() Exporter { return Exporter{} }

// Name returns "crowdstrike".
func (Exporter) Name() string { return Name }

// Formats returns json and csv.
func (Exporter) Formats() []string { return []string{"json", "csv"} }

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

var platforms = map[string]string{"windows": "windows", "mac": "mac", "linux": "linux"}

var reDrive = regexp.MustCompile(`^[A-Za-z]:\\`)

// Export renders p. See the package documentation for the files.
func (Exporter) Export(p *edrpolicy.Policy, o core.Options) ([]edrpolicy.OutputFile, []edrpolicy.Warning, error) {
	cs := o.CrowdStrike
	action := cs.Action
	if action == "" {
		action = "allow"
	}
	if action != "allow" && action != "no_action" {
		return nil, nil, fmt.Errorf("action %q: an exception takes allow or no_action", action)
	}
	for _, g := range cs.HostGroups {
		if !core.IsHex32(g) {
			return nil, nil, fmt.Errorf("host group %q: want a 32-hex Falcon host group ID", g)
		}
	}
	hostGroups := lower(cs.HostGroups)
	source := cs.Source
	if source == "" {
		source = "edrpolicy"
	}
	if n := len([]rune(source)); n > 256 {
		return nil, nil, fmt.Errorf("source: %d characters, Falcon takes 1 to 256", n)
	}
	excludedFrom := cs.ExcludedFrom
	if len(excludedFrom) == 0 {
		excludedFrom = []string{"blocking"}
	}
	for _, e := range excludedFrom {
		if e != "blocking" && e != "extraction" {
			return nil, nil, fmt.Errorf("excluded_from %q: want blocking or extraction", e)
		}
	}
	groups := hostGroups
	if len(groups) == 0 {
		groups = []string{"all"}
	}

	var (
		iocs  []Indicator
		names []string // metadata file name per indicator, for the CSV
		mls   []MLExclusion
		certs []CertExclusion
		warns []edrpolicy.Warning
	)
	for i := range p.Rules {
		r := &p.Rules[i]
		plat, ok := platforms[r.Platform]
		if !ok {
			return nil, nil, fmt.Errorf("%s: platform %q: want windows, mac or linux", core.RuleRef(i, r), r.Platform)
		}
		exp, err := o.Expiry(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", core.RuleRef(i, r), err)
		}
		desc := core.Describe(p, r)
		switch r.Criterion {
		case edrpolicy.CriterionHash:
			sum, err := core.HexDigest(r.Value, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: sha256 %v", core.RuleRef(i, r), err)
			}
			ind := Indicator{
				Type: "sha256", Value: sum, Action: action, Platforms: []string{plat},
				AppliedGlobally: len(hostGroups) == 0, HostGroups: hostGroups,
				Severity: severityFor(action), Description: desc, Source: source,
			}
			if !exp.IsZero() {
				ind.Expiration = exp.Format(time.RFC3339)
			}
			fname := ""
			if len(r.Files) > 0 {
				fname = core.BaseName(r.Files[0])
				ind.Metadata = &Metadata{Filename: fname}
			}
			iocs, names = append(iocs, ind), append(names, fname)
			if cs.MD5 {
				md5 := core.ExtraDigests(&o, r, sum).MD5
				if md5 == "" {
					warns = append(warns, edrpolicy.Warning{Code: core.WarnNote, Message: fmt.Sprintf("%s: %s: no MD5 known (give the inspection's digests); only the sha256 indicator was written", Name, core.RuleRef(i, r)), Files: r.Files})
					continue
				}
				m, err := core.HexDigest(md5, 32)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: md5 %v", core.RuleRef(i, r), err)
				}
				ind.Type, ind.Value = "md5", m
				iocs, names = append(iocs, ind), append(names, fname)
			}
		case edrpolicy.CriterionSigner:
			c, w, err := certExclusion(p, i, r, hostGroups, desc)
			if err != nil {
				return nil, nil, err
			}
			warns = append(warns, w...)
			if c != nil {
				certs = append(certs, *c)
			}
		case edrpolicy.CriterionPath:
			v, why := pathGlob(r)
			if why != "" {
				warns = append(warns, core.Skipped(Name, i, r, why+"; use a hash or signer rule for it"))
				continue
			}
			mls = append(mls, MLExclusion{Value: v, ExcludedFrom: excludedFrom, Groups: groups, Comment: desc})
		default:
			return nil, nil, fmt.Errorf("%s: unknown criterion", core.RuleRef(i, r))
		}
	}

	var files []edrpolicy.OutputFile
	add := func(name string, v any) error {
		data, err := core.JSON(v)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		files = append(files, edrpolicy.OutputFile{Name: name, Data: data})
		return nil
	}
	app := core.AppName(p) + " " + core.AppVersion(p)
	if o.Wants("json") && len(iocs) > 0 {
		parts := core.Chunk(iocs, MaxIndicatorsPerBody)
		for k, part := range parts {
			name := "crowdstrike-ioc.json"
			comment := fmt.Sprintf("edrpolicy: %s: %d indicator(s)", app, len(part))
			if len(parts) > 1 {
				name = core.Numbered("crowdstrike-ioc", "json", k)
				comment = fmt.Sprintf("edrpolicy: %s: part %d of %d, %d indicator(s)", app, k+1, len(parts), len(part))
			}
			if err := add(name, IOCBody{Comment: comment, Indicators: part}); err != nil {
				return nil, nil, err
			}
		}
	}
	if o.Wants("csv") && len(iocs) > 0 {
		rows := make([][]string, len(iocs))
		for k, ind := range iocs {
			rows[k] = []string{ind.Type, ind.Value, ind.Action, strings.Join(ind.Platforms, ","), ind.Severity,
				fmt.Sprint(ind.AppliedGlobally), strings.Join(ind.HostGroups, ","), ind.Expiration, ind.Source, ind.Description, names[k]}
		}
		data, err := core.CSV(CSVHeader, rows)
		if err != nil {
			return nil, nil, fmt.Errorf("crowdstrike-ioc.csv: %v", err)
		}
		files = append(files, edrpolicy.OutputFile{Name: "crowdstrike-ioc.csv", Data: data})
		warns = append(warns, edrpolicy.Warning{Code: core.WarnUnconfirmed, Message: Name + ": crowdstrike-ioc.csv: the Falcon console's IOC upload column headers are UNCONFIRMED; the file uses the API field names (" + strings.Join(CSVHeader, ",") + "): check them against your console's template, or use crowdstrike-ioc.json with the API"})
	}
	if o.Wants("json") && len(mls) > 0 {
		if err := add("crowdstrike-ml-exclusions.json", mls); err != nil {
			return nil, nil, err
		}
		warns = append(warns, edrpolicy.Warning{Code: core.WarnUnconfirmed, Message: Name + `: crowdstrike-ml-exclusions.json: Falcon's glob semantics are UNCONFIRMED: edrpolicy writes folder rules as "folder\*" (one level) and subfolders rules as "folder\**" (any depth), without drive letters; check the patterns in the console before relying on them`})
	}
	if o.Wants("json") && len(certs) > 0 {
		if err := add("crowdstrike-cert-exclusions.json", CertExclusions{Exclusions: certs}); err != nil {
			return nil, nil, err
		}
	}
	return files, warns, nil
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

func certExclusion(p *edrpolicy.Policy, i int, r *edrpolicy.Rule, hostGroups []string, desc string) (*CertExclusion, []edrpolicy.Warning, error) {
	if r.FileName != "" || r.SigningID != "" {
		return nil, []edrpolicy.Warning{core.Skipped(Name, i, r, "the rule is narrowed to one file, and a Falcon certificate exclusion covers everything the certificate signs; pin the signer (--pin-signer) or use --level hash")}, nil
	}
	s := r.Signer
	if s == nil || s.ThumbprintSHA1 == "" || s.Subject == "" || s.Issuer == "" || s.Serial == "" || s.NotBefore.IsZero() || s.NotAfter.IsZero() {
		return nil, []edrpolicy.Warning{core.Skipped(Name, i, r, "Falcon needs the leaf certificate's issuer, subject, serial, thumbprint and validity, and the rule does not carry them")}, nil
	}
	tp, err := core.HexDigest(s.ThumbprintSHA1, 40)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: thumbprint %v", core.RuleRef(i, r), err)
	}
	var warns []edrpolicy.Warning
	if r.TeamID != "" {
		warns = append(warns, core.Fallback(Name, i, r, "Falcon certificate exclusions take certificate fields, not an Apple Team ID",
			"the leaf certificate "+tp+" (it stops matching when the developer's certificate is renewed)"))
	}
	c := &CertExclusion{
		Name:            fmt.Sprintf("edrpolicy %s: %s", core.AppName(p), certName(s.CommonName, s.Subject)),
		Description:     desc,
		Comment:         "generated by edrpolicy from " + core.RuleRef(i, r),
		Status:          "enabled",
		AppliedGlobally: len(hostGroups) == 0,
		HostGroups:      hostGroups,
		Certificate: Certificate{
			Issuer: s.Issuer, Subject: s.Subject, Serial: strings.ToLower(s.Serial), Thumbprint: tp,
			ValidFrom: s.NotBefore.UTC().Format(time.RFC3339), ValidTo: s.NotAfter.UTC().Format(time.RFC3339),
		},
	}
	return c, warns, nil
}

func certName(cn, subject string) string {
	if cn != "" {
		return cn
	}
	return subject
}

// pathGlob converts a path rule's value to a Falcon pattern, or says why it cannot.
func pathGlob(r *edrpolicy.Rule) (string, string) {
	v := r.Value
	if _, err := core.EscapeGlob(v, glob); err != nil {
		return "", err.Error()
	}
	sep := "/"
	if r.Platform == "windows" {
		sep = `\`
		switch {
		case strings.HasPrefix(v, `\\`):
			return "", "a UNC or device path, which Falcon patterns do not take"
		case strings.Contains(v, "%"):
			return "", "an environment variable, which Falcon patterns are not documented to expand"
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
	switch r.Match {
	case edrpolicy.MatchFolder:
		v += sep + "*"
	case edrpolicy.MatchSubfolders:
		v += sep + "**"
	case edrpolicy.MatchFile, "":
	default:
		return "", fmt.Sprintf("match %q is not file, folder or subfolders", r.Match)
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
