// Package defender exports a policy for Microsoft Defender for Endpoint.
//
// Files (names per the edrpolicy contract; a file that would be empty is not written):
//
//   - defender-indicators-001.csv, -002.csv, ...: file indicators for the portal's CSV import
//     (Settings › Endpoints › Indicators › Import), at most 500 rows each (the portal's
//     batch limit), with the exact header of Microsoft's sample file (known from consistent
//     third-party copies; the Microsoft file itself is UNCONFIRMED). Rows are FileSha256
//     (and FileSha1 when asked), action Allowed. CSV import takes no certificate rows.
//   - defender-indicators.json: the body of POST /api/indicators/import, {"Indicators": [...]}
//     with the file indicators and, for signer rules, CertificateThumbprint indicators of the
//     leaf certificate. More than 500 indicators (the API's batch limit) are split into
//     defender-indicators-001.json, -002.json, ....
//   - defender-cert-001.cer, ...: each signer rule's leaf certificate (DER), for the portal's
//     certificate upload.
//   - defender-av-exclusions.ps1: Windows Defender Antivirus exclusions for the Windows path
//     rules (Add-MpPreference -ExclusionPath; -ExclusionProcess for executables only when
//     DefenderOptions.ProcessExclusions asks for it, because it excludes every file the process
//     opens), every value single-quoted; run it with -WhatIf first.
//   - mdatp_managed.json: Linux antivirus exclusions (exclusionSettings, scope epp).
//   - com.microsoft.wdav.plist: macOS antivirus exclusions (antivirusEngine), written with
//     howett.net/plist.
//
// Which hash algorithm CertificateThumbprint takes is not stated by Microsoft (UNCONFIRMED);
// edrpolicy writes the SHA-1 of the leaf certificate, the Windows meaning of "thumbprint".
// Microsoft documents no length limits for title and description (UNCONFIRMED); the
// documented limits enforced are 15,000 active indicators per tenant and 500 per batch.
package defender

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"regexp"
	"strings"
	"time"

	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
)

// Name is the vendor name.
const Name = "defender"

// Limits Microsoft documents.
const (
	MaxTenantIndicators = 15000 // active indicators per tenant
	MaxCSVRows          = 500   // indicators per portal CSV import
	MaxAPIBatch         = 500   // indicators per POST /api/indicators/import
	MaxWildcards        = 6     // wildcards per antivirus exclusion entry
)

// CSVHeader is the exact header row of Microsoft's sample indicators CSV.
var CSVHeader = []string{"IndicatorType", "IndicatorValue", "ExpirationTime", "Action", "Severity", "Title", "Description", "RecommendedActions", "RbacGroups", "Category", "MitreTechniques", "GenerateAlert"}

// CSVTimeFormat is the CSV ExpirationTime format (YYYY-MM-DDTHH:MM:SS.0Z).
const CSVTimeFormat = "2006-01-02T15:04:05.0Z"

// glob is Defender's antivirus exclusion wildcard syntax beyond '*': '?' matches one
// character and there is no escape.
var glob = core.GlobSyntax{Vendor: "Microsoft Defender", Meta: "?"}

// Exporter is the Defender exporter.
type Exporter struct{}

// New returns the Defender exporter.
func New() Exporter { return Exporter{} }

// Name returns "defender".
func (Exporter) Name() string { return Name }

// Formats returns csv, json, cer, ps1 and plist.
func (Exporter) Formats() []string { return []string{"csv", "json", "cer", "ps1", "plist"} }

// ImportBody is the body of POST /api/indicators/import.
type ImportBody struct {
	Indicators []Indicator `json:"Indicators"`
}

// Indicator is one indicator as the API takes it.
type Indicator struct {
	IndicatorValue string   `json:"indicatorValue"`
	IndicatorType  string   `json:"indicatorType"`
	Action         string   `json:"action"`
	Title          string   `json:"title"`
	Description    string   `json:"description"`
	Application    string   `json:"application,omitempty"`
	ExpirationTime string   `json:"expirationTime,omitempty"`
	Severity       string   `json:"severity"`
	RbacGroupNames []string `json:"rbacGroupNames"`
	GenerateAlert  bool     `json:"generateAlert"`

	expires time.Time
}

// Managed is mdatp_managed.json.
type Managed struct {
	ExclusionSettings ExclusionSettings `json:"exclusionSettings"`
}

// ExclusionSettings is the Linux exclusions block.
type ExclusionSettings struct {
	Exclusions  []LinuxExclusion `json:"exclusions"`
	MergePolicy string           `json:"mergePolicy"`
}

// LinuxExclusion is one Linux exclusion: excludedPath (path, isDirectory) or
// excludedFileName (name).
type LinuxExclusion struct {
	Type        string   `json:"$type"`
	IsDirectory *bool    `json:"isDirectory,omitempty"`
	Path        string   `json:"path,omitempty"`
	Name        string   `json:"name,omitempty"`
	Scopes      []string `json:"scopes"`
}

// WDAV is the com.microsoft.wdav preference domain (the part edrpolicy writes).
type WDAV struct {
	AntivirusEngine AntivirusEngine `plist:"antivirusEngine"`
}

// AntivirusEngine holds the macOS antivirus exclusions.
type AntivirusEngine struct {
	Exclusions  []MacExclusion `plist:"exclusions"`
	MergePolicy string         `plist:"exclusionsMergePolicy"`
}

// MacExclusion is one macOS exclusion.
type MacExclusion struct {
	Type        string `plist:"$type"`
	IsDirectory *bool  `plist:"isDirectory,omitempty"`
	Path        string `plist:"path,omitempty"`
	Name        string `plist:"name,omitempty"`
}

var reDrive = regexp.MustCompile(`^[A-Za-z]:\\`)

type psLine struct {
	comment string
	param   string
	value   string
}

// Export renders p. See the package documentation.
func (Exporter) Export(p *edrpolicy.Policy, o core.Options) ([]edrpolicy.OutputFile, []edrpolicy.Warning, error) {
	do := o.Defender
	merge := do.MergePolicy
	if merge == "" {
		merge = "merge"
	}
	if merge != "merge" && merge != "admin_only" {
		return nil, nil, fmt.Errorf("merge policy %q: want merge or admin_only", merge)
	}
	rbac := append([]string{}, do.RbacGroups...)
	app := core.AppName(p)

	var (
		files    []Indicator // file indicators (CSV and API)
		certInds []Indicator // certificate indicators (API only)
		cers     [][]byte
		ps       []psLine
		linux    []LinuxExclusion
		mac      []MacExclusion
		warns    []edrpolicy.Warning
		platNote = map[string]bool{}
		procs    int
	)
	yes, no := true, false
	for i := range p.Rules {
		r := &p.Rules[i]
		exp, err := o.Expiry(r)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %v", core.RuleRef(i, r), err)
		}
		ind := Indicator{Action: "Allowed", Title: core.Title(p, r), Description: core.Describe(p, r), Application: app,
			Severity: "Informational", RbacGroupNames: rbac, expires: exp}
		if !exp.IsZero() {
			ind.ExpirationTime = exp.Format(time.RFC3339)
		}
		switch r.Criterion {
		case edrpolicy.CriterionHash:
			sum, err := core.HexDigest(r.Value, 64)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: sha256 %v", core.RuleRef(i, r), err)
			}
			if r.Platform != "windows" && !platNote[r.Platform] {
				platNote[r.Platform] = true
				msg := map[string]string{
					"mac":   "on macOS, Defender matches file indicators only when enableFileHashComputation is on (mac-preferences)",
					"linux": "on Linux, Microsoft does not state which file types file indicators match",
				}[r.Platform]
				if msg == "" {
					msg = fmt.Sprintf("platform %q is not one Defender documents for file indicators", r.Platform)
				}
				warns = append(warns, edrpolicy.Warning{Code: core.WarnNote, Message: Name + ": " + msg})
			}
			ind.IndicatorType, ind.IndicatorValue = "FileSha256", sum
			files = append(files, ind)
			if do.SHA1 {
				s1 := core.ExtraDigests(&o, r, sum).SHA1
				if s1 == "" {
					warns = append(warns, edrpolicy.Warning{Code: core.WarnNote, Message: fmt.Sprintf("%s: %s: no SHA-1 known (give the inspection's digests); only the FileSha256 indicator was written", Name, core.RuleRef(i, r)), Files: r.Files})
					continue
				}
				v, err := core.HexDigest(s1, 40)
				if err != nil {
					return nil, nil, fmt.Errorf("%s: sha1 %v", core.RuleRef(i, r), err)
				}
				ind.IndicatorType, ind.IndicatorValue = "FileSha1", v
				files = append(files, ind)
			}
		case edrpolicy.CriterionSigner:
			if r.FileName != "" || r.SigningID != "" {
				warns = append(warns, core.Skipped(Name, i, r, "the rule is narrowed to one file, and a Defender certificate indicator covers everything the leaf certificate signs; pin the signer (--pin-signer) or use --level hash"))
				continue
			}
			if r.Signer == nil || r.Signer.ThumbprintSHA1 == "" {
				warns = append(warns, core.Skipped(Name, i, r, "the rule carries no leaf certificate thumbprint"))
				continue
			}
			tp, err := core.HexDigest(r.Signer.ThumbprintSHA1, 40)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: thumbprint %v", core.RuleRef(i, r), err)
			}
			if r.TeamID != "" {
				warns = append(warns, core.Fallback(Name, i, r, "Defender indicators take certificate thumbprints, not Apple Team IDs",
					"a CertificateThumbprint indicator for the leaf certificate "+tp+" (it stops matching when the certificate is renewed; whether Defender on macOS applies certificate indicators is UNCONFIRMED)"))
			}
			ind.IndicatorType, ind.IndicatorValue = "CertificateThumbprint", tp
			certInds = append(certInds, ind)
			der := r.Certificate
			if len(der) == 0 {
				der = r.Signer.Raw
			}
			if len(der) == 0 {
				warns = append(warns, edrpolicy.Warning{Code: core.WarnNote, Message: fmt.Sprintf("%s: %s: the policy holds no leaf certificate, so no .cer file for the portal was written (the API indicator was)", Name, core.RuleRef(i, r)), Files: r.Files})
				continue
			}
			if got := sha1.Sum(der); hex.EncodeToString(got[:]) != tp {
				return nil, nil, fmt.Errorf("%s: the certificate's SHA-1 %x does not match the rule's thumbprint %s", core.RuleRef(i, r), got, tp)
			}
			cers = append(cers, der)
		case edrpolicy.CriterionPath:
			if _, err := core.EscapeGlob(r.Value, glob); err != nil {
				warns = append(warns, core.Skipped(Name, i, r, err.Error()+"; use a hash or signer rule for it"))
				continue
			}
			dir := r.Match == edrpolicy.MatchFolder || r.Match == edrpolicy.MatchSubfolders
			if r.Match == edrpolicy.MatchFolder {
				warns = append(warns, core.Fallback(Name, i, r, "Defender antivirus folder exclusions always cover subfolders", "the folder with its subfolders"))
			}
			exe := r.Role == "executable" && !dir
			desc := core.Describe(p, r)
			switch r.Platform {
			case "windows":
				v := strings.TrimRight(r.Value, `\`)
				if why := windowsPathProblem(v); why != "" {
					warns = append(warns, core.Skipped(Name, i, r, why))
					continue
				}
				c := fmt.Sprintf("%s: %s", core.RuleRef(i, r), desc)
				ps = append(ps, psLine{comment: c, param: "ExclusionPath", value: v})
				if exe && do.ProcessExclusions {
					ps = append(ps, psLine{param: "ExclusionProcess", value: v})
					procs++
				}
			case "linux":
				if !strings.HasPrefix(r.Value, "/") {
					warns = append(warns, core.Skipped(Name, i, r, "not an absolute path"))
					continue
				}
				isDir := &no
				if dir {
					isDir = &yes
				}
				linux = append(linux, LinuxExclusion{Type: "excludedPath", IsDirectory: isDir, Path: r.Value, Scopes: []string{"epp"}})
				if exe && do.ProcessExclusions {
					// excludedFileName is mdatp's process exclusion: what the process opens.
					linux = append(linux, LinuxExclusion{Type: "excludedFileName", Name: r.Value, Scopes: []string{"epp"}})
					procs++
				}
			case "mac":
				if !strings.HasPrefix(r.Value, "/") {
					warns = append(warns, core.Skipped(Name, i, r, "not an absolute path"))
					continue
				}
				isDir := &no
				if dir {
					isDir = &yes
				}
				mac = append(mac, MacExclusion{Type: "excludedPath", IsDirectory: isDir, Path: r.Value})
				if exe && do.ProcessExclusions {
					mac = append(mac, MacExclusion{Type: "excludedFileName", Name: r.Value})
					procs++
				}
			default:
				return nil, nil, fmt.Errorf("%s: platform %q: want windows, mac or linux", core.RuleRef(i, r), r.Platform)
			}
		default:
			return nil, nil, fmt.Errorf("%s: unknown criterion", core.RuleRef(i, r))
		}
	}
	if n := len(files) + len(certInds); n > MaxTenantIndicators {
		return nil, nil, fmt.Errorf("%d indicators exceed Defender's limit of %d active indicators per tenant; narrow the policy (signer rules instead of hash rules) or split it across tenants", n, MaxTenantIndicators)
	}

	var out []edrpolicy.OutputFile
	if o.Wants("csv") && len(files) > 0 {
		for k, part := range core.Chunk(files, MaxCSVRows) {
			rows := make([][]string, len(part))
			for j, ind := range part {
				et := ""
				if !ind.expires.IsZero() {
					et = ind.expires.Format(CSVTimeFormat)
				}
				rows[j] = []string{ind.IndicatorType, ind.IndicatorValue, et, ind.Action, ind.Severity, ind.Title, ind.Description,
					"", strings.Join(ind.RbacGroupNames, ","), "", "", "False"}
			}
			name := core.Numbered("defender-indicators", "csv", k)
			data, err := core.CSV(CSVHeader, rows)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", name, err)
			}
			out = append(out, edrpolicy.OutputFile{Name: name, Data: data})
		}
		warns = append(warns, edrpolicy.Warning{Code: core.WarnUnconfirmed, Message: Name + ": defender-indicators-NNN.csv: the header follows consistent third-party copies of Microsoft's sample CSV; the Microsoft file itself is UNCONFIRMED"})
		if len(do.RbacGroups) > 1 {
			warns = append(warns, edrpolicy.Warning{Code: core.WarnUnconfirmed, Message: Name + ": defender-indicators-NNN.csv: several device groups are written comma-separated in RbacGroups; the separator the portal expects is UNCONFIRMED"})
		}
	}
	all := append(append([]Indicator{}, files...), certInds...)
	if o.Wants("json") && len(all) > 0 {
		parts := core.Chunk(all, MaxAPIBatch)
		for k, part := range parts {
			name := "defender-indicators.json"
			if len(parts) > 1 {
				name = core.Numbered("defender-indicators", "json", k)
			}
			data, err := core.JSON(ImportBody{Indicators: part})
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", name, err)
			}
			out = append(out, edrpolicy.OutputFile{Name: name, Data: data})
		}
		if len(certInds) > 0 {
			warns = append(warns, edrpolicy.Warning{Code: core.WarnUnconfirmed, Message: Name + ": defender-indicators.json: CertificateThumbprint values are the SHA-1 of the leaf certificate (the Windows meaning of thumbprint); the algorithm Defender expects is UNCONFIRMED"})
		}
	}
	if o.Wants("cer") {
		for k, der := range cers {
			out = append(out, edrpolicy.OutputFile{Name: core.Numbered("defender-cert", "cer", k), Data: append([]byte(nil), der...)})
		}
	}
	if o.Wants("ps1") && len(ps) > 0 {
		out = append(out, edrpolicy.OutputFile{Name: "defender-av-exclusions.ps1", Data: script(p, ps)})
	}
	if procs > 0 {
		warns = append(warns, edrpolicy.Warning{Code: core.WarnNote, Message: fmt.Sprintf("%s: %d process exclusion(s) as asked (-ExclusionProcess, excludedFileName): Defender will not scan any file those processes open, which is far broader than the executables' own rules", Name, procs)})
	}
	if o.Wants("json") && len(linux) > 0 {
		data, err := core.JSON(Managed{ExclusionSettings{Exclusions: linux, MergePolicy: merge}})
		if err != nil {
			return nil, nil, fmt.Errorf("mdatp_managed.json: %v", err)
		}
		out = append(out, edrpolicy.OutputFile{Name: "mdatp_managed.json", Data: data})
	}
	if o.Wants("plist") && len(mac) > 0 {
		var buf bytes.Buffer
		enc := plist.NewEncoderForFormat(&buf, plist.XMLFormat)
		enc.Indent("\t")
		if err := enc.Encode(WDAV{AntivirusEngine{Exclusions: mac, MergePolicy: merge}}); err != nil {
			return nil, nil, fmt.Errorf("com.microsoft.wdav.plist: %v", err)
		}
		buf.WriteByte('\n')
		out = append(out, edrpolicy.OutputFile{Name: "com.microsoft.wdav.plist", Data: buf.Bytes()})
	}
	if (o.Wants("json") && len(linux) > 0) || (o.Wants("plist") && len(mac) > 0) {
		warns = append(warns, edrpolicy.Warning{Code: core.WarnNote, Message: Name + ": mdatp_managed.json and com.microsoft.wdav.plist have no field for a description: each entry's description is in policy.json and the export's warnings; these antivirus exclusions do not stop EDR alerts"})
	}
	return out, warns, nil
}

// windowsPathProblem says why a Windows value cannot be an antivirus exclusion, or "".
func windowsPathProblem(v string) string {
	if v == "" {
		return "an empty path"
	}
	if n := strings.Count(v, "*") + strings.Count(v, "?"); n > MaxWildcards {
		return fmt.Sprintf("%d wildcards; Defender takes at most %d per exclusion", n, MaxWildcards)
	}
	if len(v) >= 2 && v[1] == ':' && (v[0] == '*' || v[0] == '?') {
		return "a wildcard in place of the drive letter, which Defender does not take"
	}
	if !reDrive.MatchString(v) && !strings.HasPrefix(v, "%") && !strings.HasPrefix(v, `\\`) {
		return "not a full path (drive letter, UNC path or system environment variable)"
	}
	return ""
}

// script renders the PowerShell file. Every value is a single-quoted literal (PSQuote) and
// every comment is one line (OneLine), so no file name can end a string or a comment early.
func script(p *edrpolicy.Policy, lines []psLine) []byte {
	var b strings.Builder
	b.WriteString("# defender-av-exclusions.ps1: Microsoft Defender Antivirus exclusions\n")
	fmt.Fprintf(&b, "# for %s, generated by edrpolicy from policy.json.\n", core.OneLine(core.AppName(p)+" "+core.AppVersion(p)))
	b.WriteString("#\n")
	b.WriteString("# Run in an elevated PowerShell, first with -WhatIf to see what would change:\n")
	b.WriteString("#   .\\defender-av-exclusions.ps1 -WhatIf\n")
	b.WriteString("# Add-MpPreference appends to the existing lists. These are antivirus exclusions only:\n")
	b.WriteString("# they do not stop EDR alerts (use the indicators for that). -ExclusionPath excludes a file\n")
	b.WriteString("# or folder; -ExclusionProcess excludes the files a process opens.\n")
	b.WriteString("param(\n    [switch]$WhatIf\n)\n\n")
	b.WriteString("Set-StrictMode -Version 2.0\n$ErrorActionPreference = 'Stop'\n")
	for _, l := range lines {
		if l.comment != "" {
			fmt.Fprintf(&b, "\n# %s\n", core.OneLine(l.comment))
		}
		fmt.Fprintf(&b, "Add-MpPreference -%s %s -WhatIf:$WhatIf\n", l.param, core.PSQuote(l.value))
	}
	return []byte(b.String())
}
