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
//     with the file indicators and, for Windows signer rules, CertificateThumbprint indicators
//     of the leaf certificate (certificate indicators are Windows-only, indicator-certificates;
//     a macOS or Linux signer rule, and a signer rule narrowed to its files, become
//     FileSha256 indicators of its files from policy.json's file_digests, with an
//     export-fallback warning). More than 500 indicators (the API's batch limit) are split into
//     defender-indicators-001.json, -002.json, ....
//   - defender-cert-001.cer, ...: each Windows signer rule's leaf certificate (DER), for the
//     portal's certificate upload.
//   - defender-av-exclusions.ps1: Windows Defender Antivirus exclusions for the Windows path
//     rules (Add-MpPreference -ExclusionPath; -ExclusionProcess for executables only when
//     Options.ProcessExclusions asks for it, because it excludes every file the process
//     opens), every value single-quoted, UTF-8 with a byte order mark. Add-MpPreference has no
//     -WhatIf, so the script has its own dry run (-WhatIf or -DryRun prints each command);
//     without it, it adds the exclusions, then compares Get-MpPreference with what was meant
//     and exits 1 naming what is missing.
//   - mdatp_managed.json: Linux antivirus exclusions (exclusionSettings, scope epp), with
//     mdatp_managed.README.txt saying it must be merged into the device's configuration.
//   - com.microsoft.wdav.plist: macOS antivirus exclusions (antivirusEngine), written with
//     howett.net/plist; its header comment says it must be merged.
//   - With Options.MergeWith (the CLI's --defender-merge FILE), mdatp_managed.json,
//     com.microsoft.wdav.plist or com.microsoft.wdav.mobileconfig is the given existing file
//     with the exclusions merged in (see merge.go): a device takes one managed
//     configuration. The files stay valid against the schema Microsoft publishes for these
//     settings (mdatp-xplat macos/schema/schema.json).
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
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/hashing"
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
// character and there is no escape. On Windows '%VAR%' is also expanded: an executable's
// exact path holding '%' gets no exclusion (its file falls back to its hash).
var glob = core.GlobSyntax{Vendor: "Microsoft Defender", Meta: "?"}

// Options configure the Defender exporter. The zero value writes FileSha256 and certificate
// indicators for all devices, no process exclusions, and stand-alone macOS and Linux
// exclusion files with merge policy "merge".
type Options struct {
	// RbacGroups are the device group names the indicators apply to; empty means all devices.
	RbacGroups []string
	// SHA1 adds a FileSha1 indicator next to each FileSha256 one. The SHA-1 comes from the
	// policy's hash rules (an inspection that computed it, see Exporter.Digests) or from the
	// shared options' Digests; a file whose SHA-1 is unknown gets its FileSha256 indicator
	// only, with a note.
	SHA1 bool
	// MergePolicy is the macOS/Linux exclusions merge policy: "merge" (the default when
	// empty) or "admin_only".
	MergePolicy string
	// ProcessExclusions adds process exclusions for executable file rules (Windows
	// -ExclusionProcess, macOS/Linux excludedFileName). Off by default: a process exclusion
	// stops Defender scanning every file the process opens (for a backup agent, every file
	// on the disk), far more than a rule over one executable asks for. Turn it on only to
	// fix measured contention, knowing the hole.
	ProcessExclusions bool
	// MergeWith is the device's existing managed configuration, to merge the macOS or Linux
	// exclusions into (a device takes one; a second one replaces or conflicts with it): an
	// mdatp_managed.json (Linux), a com.microsoft.wdav plist or a .mobileconfig holding a
	// com.microsoft.wdav payload (macOS). The output is that file with the exclusions added:
	// every other setting and exclusion kept, no duplicates, its merge policy kept. A file
	// that cannot be merged into is an *edrpolicy.OptionError for "Defender.MergeWith".
	MergeWith []byte
	// MergeName names MergeWith in messages (its file name, say).
	MergeName string
}

// Validate checks every option on its own; each fault is an *edrpolicy.OptionError, its
// Field prefixed with the vendor type ("Defender.MergePolicy"). The merge base (MergeWith)
// is read when exporting. Export validates too.
func (o Options) Validate() error {
	if m := o.MergePolicy; m != "" && m != "merge" && m != "admin_only" {
		return &edrpolicy.OptionError{Field: "Defender.MergePolicy", Value: m, Reason: "want merge or admin_only"}
	}
	return nil
}

// Exporter is the Defender exporter. The zero value is the exporter with default Options.
type Exporter struct {
	o Options
}

// New returns the Defender exporter configured with o. Export refuses invalid options (see
// Options.Validate).
func New(o Options) *Exporter { return &Exporter{o: o} }

// Name returns "defender".
func (Exporter) Name() string { return Name }

// Formats returns csv, json, cer, ps1 and plist.
func (Exporter) Formats() []string { return []string{"csv", "json", "cer", "ps1", "plist"} }

// Digests returns SHA-1 when Options.SHA1 asks for FileSha1 indicators (SHA-256 is always
// computed).
func (e Exporter) Digests() hashing.Algorithms { return hashing.Algorithms{SHA1: e.o.SHA1} }

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

// item is one planned Defender entry: a file or certificate indicator, or an antivirus
// exclusion for Windows (a script line), Linux or macOS.
type item struct {
	entry core.Entry
	ind   *Indicator // file indicator (CSV and API) or certificate indicator (API)
	der   []byte     // a certificate indicator's leaf, for the .cer upload
	ps    *psLine
	linux *LinuxExclusion
	mac   *MacExclusion
}

// plan holds one export's settings and the warnings raised while planning.
type plan struct {
	p        *edrpolicy.Policy
	o        core.Options
	do       Options
	merge    string
	platNote map[profile.OS]bool
	procs    int
	warns    []edrpolicy.Warning
}

// Export renders an admitted policy (exporters.Admit) and returns the files, the entries
// written into them, the policy files no entry covers and the warnings. See the package documentation.
func (e Exporter) Export(r *core.Request) (*core.VendorResult, error) {
	if !r.Admitted() {
		return nil, core.ErrNotAdmitted
	}
	if err := e.o.Validate(); err != nil {
		return nil, err
	}
	merge := e.o.MergePolicy
	if merge == "" {
		merge = "merge"
	}
	pl := &plan{p: r.Policy(), o: r.Options(), do: e.o, merge: merge, platNote: map[profile.OS]bool{}}
	planned, err := core.MakePlan(pl.p, core.Vendor[item]{Name: Name, Hash: pl.hash, Signer: pl.signer, Path: pl.path})
	if err != nil {
		return nil, err
	}
	res := &core.VendorResult{Vendor: Name, Uncovered: planned.Uncovered, Warnings: append(pl.warns, planned.Warnings...)}
	if err := pl.render(res, planned.Items); err != nil {
		return nil, err
	}
	return res, nil
}

// indicator is the common part of an indicator for target t.
func (pl *plan) indicator(t core.Target) (Indicator, error) {
	exp, err := pl.o.Expiry(t.Rule)
	if err != nil {
		return Indicator{}, fmt.Errorf("%s: %v", core.RuleRef(t.Index, t.Rule), err)
	}
	ind := Indicator{Action: "Allowed", Title: core.Title(pl.p, t), Description: core.DescribeTarget(pl.p, t), Application: core.AppName(pl.p),
		Severity: "Informational", RbacGroupNames: append([]string{}, pl.do.RbacGroups...), expires: exp}
	if !exp.IsZero() {
		ind.ExpirationTime = exp.Format(time.RFC3339)
	}
	return ind, nil
}

// hash writes a FileSha256 indicator (and a FileSha1 one when asked).
func (pl *plan) hash(t core.Target) ([]item, string, error) {
	ref := core.RuleRef(t.Index, t.Rule)
	sum, err := core.HexDigest(t.Digest.SHA256, 64)
	if err != nil {
		return nil, "", fmt.Errorf("%s: sha256 %v", ref, err)
	}
	if err := knownPlatform(t); err != nil {
		return nil, "", err
	}
	pl.noteFileIndicators(t.Rule.Platform)
	ind, err := pl.indicator(t)
	if err != nil {
		return nil, "", err
	}
	ind.IndicatorType, ind.IndicatorValue = "FileSha256", sum
	out := []item{{entry: t.Entry(Name, core.EntryHash, "FileSha256", sum), ind: &ind}}
	if !pl.do.SHA1 {
		return out, "", nil
	}
	s1 := core.Extra(&pl.o, t.Digest).SHA1
	if s1 == "" {
		pl.warns = append(pl.warns, edrpolicy.Warning{Code: core.WarnNote, Message: fmt.Sprintf("%s: %s: no SHA-1 known for %s (give the inspection's digests); only the FileSha256 indicator was written", Name, ref, core.FileList(t.Files)), Files: t.Files})
		return out, "", nil
	}
	v, err := core.HexDigest(s1, 40)
	if err != nil {
		return nil, "", fmt.Errorf("%s: sha1 %v", ref, err)
	}
	ind1 := ind
	ind1.IndicatorType, ind1.IndicatorValue = "FileSha1", v
	return append(out, item{entry: t.Entry(Name, core.EntryHash, "FileSha1", v), ind: &ind1}), "", nil
}

// noteFileIndicators says once per platform what Microsoft documents about file indicators
// outside Windows.
func (pl *plan) noteFileIndicators(platform profile.OS) {
	if platform == profile.OSWindows || pl.platNote[platform] {
		return
	}
	pl.platNote[platform] = true
	msg := map[profile.OS]string{
		profile.OSMac:   "on macOS, Defender matches file indicators only when enableFileHashComputation is on (mac-preferences)",
		profile.OSLinux: "on Linux, Microsoft does not state which file types file indicators match",
	}[platform]
	pl.warns = append(pl.warns, edrpolicy.Warning{Code: core.WarnNote, Message: Name + ": " + msg})
}

// knownPlatform refuses a rule for a platform Defender does not run on.
func knownPlatform(t core.Target) error {
	_, err := core.PlatformName(t, platformNames)
	return err
}

// platformNames are the platforms Defender exports for (by the policy's names).
var platformNames = map[profile.OS]string{profile.OSWindows: "windows", profile.OSMac: "mac", profile.OSLinux: "linux"}

// signer writes a CertificateThumbprint indicator and the leaf certificate for a Windows
// signer rule that is not narrowed.
func (pl *plan) signer(t core.Target) ([]item, string, error) {
	r := t.Rule
	if err := knownPlatform(t); err != nil {
		return nil, "", err
	}
	switch {
	case r.Platform != "windows":
		return nil, "Defender certificate indicators apply on Windows only (indicator-certificates: Windows 10 1703 or later, Windows Server 2012 R2 or later)", nil
	case r.FileName != "" || r.SigningID != "":
		return nil, "the rule is narrowed to its files, and a Defender certificate indicator covers everything the leaf certificate signs", nil
	case r.Signer == nil || r.Signer.ThumbprintSHA1 == "":
		return nil, "the rule carries no leaf certificate thumbprint", nil
	}
	ref := core.RuleRef(t.Index, r)
	tp, err := core.HexDigest(r.Signer.ThumbprintSHA1, 40)
	if err != nil {
		return nil, "", fmt.Errorf("%s: thumbprint %v", ref, err)
	}
	ind, err := pl.indicator(t)
	if err != nil {
		return nil, "", err
	}
	ind.IndicatorType, ind.IndicatorValue = "CertificateThumbprint", tp
	it := item{entry: t.Entry(Name, core.EntryCertificate, "CertificateThumbprint", tp), ind: &ind}
	der := r.Certificate
	if len(der) == 0 {
		der = r.Signer.Raw
	}
	if len(der) == 0 {
		pl.warns = append(pl.warns, edrpolicy.Warning{Code: core.WarnNote, Message: fmt.Sprintf("%s: %s: the policy holds no leaf certificate, so no .cer file for the portal was written (the API indicator was)", Name, ref), Files: r.Files})
		return []item{it}, "", nil
	}
	if got := sha1.Sum(der); hex.EncodeToString(got[:]) != tp {
		return nil, "", fmt.Errorf("%s: the certificate's SHA-1 %x does not match the rule's thumbprint %s", ref, got, tp)
	}
	it.der = der
	return []item{it}, "", nil
}

// path writes an antivirus exclusion: a script line on Windows, an mdatp_managed.json entry
// on Linux, a com.microsoft.wdav entry on macOS.
func (pl *plan) path(t core.Target) ([]item, string, error) {
	if err := knownPlatform(t); err != nil {
		return nil, "", err
	}
	g := glob
	if t.Exact() && t.Rule.Platform == "windows" {
		g.Meta += "%"
	}
	if why := core.LiteralProblem(t.Path, g); why != "" {
		return nil, why, nil
	}
	dir := t.Match == edrpolicy.MatchFolder || t.Match == edrpolicy.MatchSubfolders
	exe := t.Rule.Role == profile.RoleExecutable && !dir && pl.do.ProcessExclusions
	var out []item
	switch t.Rule.Platform {
	case "windows":
		v := strings.TrimRight(t.Path, `\`)
		if why := windowsPathProblem(v); why != "" {
			return nil, why, nil
		}
		c := fmt.Sprintf("%s rule %s: %s", t.Rule.Criterion, t.Rule.Value, core.DescribeTarget(pl.p, t))
		out = append(out, item{entry: t.Entry(Name, core.EntryPath, "ExclusionPath", v), ps: &psLine{comment: c, param: "ExclusionPath", value: v}})
		if exe {
			out = append(out, item{entry: processEntry(t, "ExclusionProcess", v), ps: &psLine{param: "ExclusionProcess", value: v}})
		}
	default:
		if !strings.HasPrefix(t.Path, "/") {
			return nil, "not an absolute path", nil
		}
		isDir := dir
		out = append(out, pl.posix(t, "excludedPath", &isDir, t.Path, ""))
		if exe {
			out = append(out, pl.posix(t, "excludedFileName", nil, "", t.Path))
		}
	}
	if t.Match == edrpolicy.MatchFolder {
		pl.warns = append(pl.warns, core.Fallback(Name, t.Index, t.Rule, "Defender antivirus folder exclusions always cover subfolders", "the folder with its subfolders"))
	}
	if exe {
		pl.procs++
	}
	return out, "", nil
}

// posix is a macOS or Linux exclusion item.
func (pl *plan) posix(t core.Target, typ string, isDir *bool, path, name string) item {
	e := t.Entry(Name, core.EntryPath, typ, path+name)
	if typ == "excludedFileName" {
		e = processEntry(t, typ, name)
	}
	if t.Rule.Platform == "linux" {
		return item{entry: e, linux: &LinuxExclusion{Type: typ, IsDirectory: isDir, Path: path, Name: name, Scopes: []string{"epp"}}}
	}
	return item{entry: e, mac: &MacExclusion{Type: typ, IsDirectory: isDir, Path: path, Name: name}}
}

// processEntry is the entry of a process exclusion: it excludes what the process opens, not
// the executable, so it lists no files as covered.
func processEntry(t core.Target, typ, value string) core.Entry {
	e := t.Entry(Name, core.EntryPath, typ, value)
	e.Files = nil
	return e
}

// render writes the files and their entries.
func (pl *plan) render(res *core.VendorResult, items []item) error {
	var files, certs, ps, linux, mac []item
	for _, it := range items {
		switch {
		case it.ind != nil && it.entry.Kind == core.EntryHash:
			files = append(files, it)
		case it.ind != nil:
			certs = append(certs, it)
		case it.ps != nil:
			ps = append(ps, it)
		case it.linux != nil:
			linux = append(linux, it)
		case it.mac != nil:
			mac = append(mac, it)
		}
	}
	if n := len(files) + len(certs); n > MaxTenantIndicators {
		return fmt.Errorf("%d indicators exceed Defender's limit of %d active indicators per tenant; narrow the policy (signer rules instead of hash rules) or split it across tenants", n, MaxTenantIndicators)
	}
	if pl.o.Wants("csv") && len(files) > 0 {
		if err := pl.renderCSV(res, files); err != nil {
			return err
		}
	}
	if pl.o.Wants("json") {
		if err := pl.renderAPI(res, files, certs); err != nil {
			return err
		}
	}
	if pl.o.Wants("cer") {
		k := 0
		for _, it := range certs {
			if it.der != nil {
				res.Add(core.Numbered("defender-cert", "cer", k), append([]byte(nil), it.der...), it.entry)
				k++
			}
		}
	}
	if pl.o.Wants("ps1") && len(ps) > 0 {
		pl.renderScript(res, ps)
	}
	if pl.procs > 0 {
		res.Warnings = append(res.Warnings, edrpolicy.Warning{Code: core.WarnNote, Message: fmt.Sprintf("%s: %d process exclusion(s) as asked (-ExclusionProcess, excludedFileName): Defender will not scan any file those processes open, which is far broader than the executables' own rules", Name, pl.procs)})
	}
	return pl.renderManaged(res, linux, mac)
}

func (pl *plan) renderCSV(res *core.VendorResult, files []item) error {
	for k, part := range core.Chunk(files, MaxCSVRows) {
		rows := make([][]string, len(part))
		entries := make([]core.Entry, len(part))
		for j, it := range part {
			ind := it.ind
			et := ""
			if !ind.expires.IsZero() {
				et = ind.expires.Format(CSVTimeFormat)
			}
			rows[j] = []string{ind.IndicatorType, ind.IndicatorValue, et, ind.Action, ind.Severity, ind.Title, ind.Description,
				"", strings.Join(ind.RbacGroupNames, ","), "", "", "False"}
			entries[j] = it.entry
		}
		name := core.Numbered("defender-indicators", "csv", k)
		data, err := core.CSV(CSVHeader, rows)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		res.Add(name, data, entries...)
	}
	res.Warnings = append(res.Warnings, edrpolicy.Warning{Code: core.WarnUnconfirmed, Message: Name + ": defender-indicators-NNN.csv: the header follows consistent third-party copies of Microsoft's sample CSV; the Microsoft file itself is UNCONFIRMED"})
	if len(pl.do.RbacGroups) > 1 {
		res.Warnings = append(res.Warnings, edrpolicy.Warning{Code: core.WarnUnconfirmed, Message: Name + ": defender-indicators-NNN.csv: several device groups are written comma-separated in RbacGroups; the separator the portal expects is UNCONFIRMED"})
	}
	return nil
}

func (pl *plan) renderAPI(res *core.VendorResult, files, certs []item) error {
	all := append(append([]item{}, files...), certs...)
	if len(all) == 0 {
		return nil
	}
	parts := core.Chunk(all, MaxAPIBatch)
	for k, part := range parts {
		name := "defender-indicators.json"
		if len(parts) > 1 {
			name = core.Numbered("defender-indicators", "json", k)
		}
		body := ImportBody{Indicators: make([]Indicator, len(part))}
		entries := make([]core.Entry, len(part))
		for j, it := range part {
			body.Indicators[j], entries[j] = *it.ind, it.entry
		}
		data, err := core.JSON(body)
		if err != nil {
			return fmt.Errorf("%s: %v", name, err)
		}
		res.Add(name, data, entries...)
	}
	if len(certs) > 0 {
		res.Warnings = append(res.Warnings, edrpolicy.Warning{Code: core.WarnUnconfirmed, Message: Name + ": defender-indicators.json: CertificateThumbprint values are the SHA-1 of the leaf certificate (the Windows meaning of thumbprint); the algorithm Defender expects is UNCONFIRMED"})
	}
	return nil
}

func (pl *plan) renderScript(res *core.VendorResult, ps []item) {
	lines := make([]psLine, len(ps))
	entries := make([]core.Entry, len(ps))
	for i, it := range ps {
		lines[i], entries[i] = *it.ps, it.entry
	}
	res.Add("defender-av-exclusions.ps1", script(pl.p, lines), entries...)
}

// renderManaged writes mdatp_managed.json (Linux) and com.microsoft.wdav.plist (macOS), each
// merged into the existing configuration Options.MergeWith when given.
func (pl *plan) renderManaged(res *core.VendorResult, linux, mac []item) error {
	do := pl.do
	var kind MergeKind
	if len(do.MergeWith) > 0 {
		var err error
		if kind, err = mergeKind(do.MergeName, do.MergeWith); err != nil {
			return err
		}
		if err := pl.checkMerge(kind, len(linux), len(mac)); err != nil {
			return err
		}
	}
	if pl.o.Wants("json") && (len(linux) > 0 || kind == MergeJSON) {
		if err := pl.renderLinux(res, linux, kind); err != nil {
			return err
		}
	}
	if pl.o.Wants("plist") && (len(mac) > 0 || kind == MergePlist || kind == MergeMobileconfig) {
		if err := pl.renderMac(res, mac, kind); err != nil {
			return err
		}
	}
	if (pl.o.Wants("json") && len(linux) > 0) || (pl.o.Wants("plist") && len(mac) > 0) {
		res.Warnings = append(res.Warnings, edrpolicy.Warning{Code: core.WarnNote, Message: Name + ": mdatp_managed.json and com.microsoft.wdav.plist have no field for a description: each entry's description is in policy.json and the export's warnings; these antivirus exclusions do not stop EDR alerts"})
	}
	return nil
}

// checkMerge refuses a merge base for the other OS than the policy's exclusions, or one
// whose kind of file was not asked for.
func (pl *plan) checkMerge(kind MergeKind, linux, mac int) error {
	name := pl.do.MergeName
	switch {
	case kind == MergeJSON && !pl.o.Wants("json"):
		return mergeErr(name, errors.New("an mdatp_managed.json, and the formats asked for leave out json"))
	case kind != MergeJSON && !pl.o.Wants("plist"):
		return mergeErr(name, errors.New("a macOS profile or plist, and the formats asked for leave out plist"))
	case kind == MergeJSON && linux == 0 && mac > 0:
		return mergeErr(name, errors.New("an mdatp_managed.json (Linux), but the policy's antivirus exclusions are for macOS: give the com.microsoft.wdav profile or plist"))
	case kind != MergeJSON && mac == 0 && linux > 0:
		return mergeErr(name, errors.New("a macOS profile or plist, but the policy's antivirus exclusions are for Linux: give the mdatp_managed.json"))
	}
	return nil
}

func (pl *plan) renderLinux(res *core.VendorResult, linux []item, kind MergeKind) error {
	ex := make([]LinuxExclusion, len(linux))
	entries := make([]core.Entry, len(linux))
	for i, it := range linux {
		ex[i], entries[i] = *it.linux, it.entry
	}
	if kind != MergeJSON {
		data, err := core.JSON(Managed{ExclusionSettings{Exclusions: ex, MergePolicy: pl.merge}})
		if err != nil {
			return fmt.Errorf("mdatp_managed.json: %v", err)
		}
		res.Add("mdatp_managed.json", data, entries...)
		res.Add(readmeName, []byte(readme))
		res.Warnings = append(res.Warnings, edrpolicy.Warning{Code: core.WarnNote, Message: Name + ": mdatp_managed.json replaces a device's existing managed configuration: merge it into the device's existing file (export with that file as the merge base) rather than deploying it as it is (" + readmeName + ")"})
		return nil
	}
	data, notes, err := mergeJSON(pl.do.MergeWith, ex, pl.merge)
	if err != nil {
		return mergeErr(pl.do.MergeName, err)
	}
	res.Add("mdatp_managed.json", data, entries...)
	pl.mergeNotes(res, notes)
	return nil
}

func (pl *plan) renderMac(res *core.VendorResult, mac []item, kind MergeKind) error {
	ex := make([]MacExclusion, len(mac))
	entries := make([]core.Entry, len(mac))
	for i, it := range mac {
		ex[i], entries[i] = *it.mac, it.entry
	}
	if kind != MergePlist && kind != MergeMobileconfig {
		var buf bytes.Buffer
		enc := plist.NewEncoderForFormat(&buf, plist.XMLFormat)
		enc.Indent("\t")
		if err := enc.Encode(WDAV{AntivirusEngine{Exclusions: ex, MergePolicy: pl.merge}}); err != nil {
			return fmt.Errorf("com.microsoft.wdav.plist: %v", err)
		}
		buf.WriteByte('\n')
		res.Add("com.microsoft.wdav.plist", withMergeNote(buf.Bytes()), entries...)
		return nil
	}
	data, notes, err := mergePlist(pl.do.MergeWith, kind, ex, pl.merge)
	if err != nil {
		return mergeErr(pl.do.MergeName, err)
	}
	name := "com.microsoft.wdav.plist"
	if kind == MergeMobileconfig {
		name = MobileconfigName
	}
	res.Add(name, data, entries...)
	pl.mergeNotes(res, notes)
	return nil
}

func (pl *plan) mergeNotes(res *core.VendorResult, notes []string) {
	for _, n := range notes {
		res.Warnings = append(res.Warnings, edrpolicy.Warning{Code: core.WarnNote, Message: fmt.Sprintf("%s: merged into %s: %s", Name, pl.do.MergeName, n)})
	}
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

// scriptHead is the fixed start of defender-av-exclusions.ps1 after its two header lines:
// the usage, the parameters and Add-Exclusion, which records each exclusion, prints it in a
// dry run and adds it otherwise. Add-MpPreference has no -WhatIf in Microsoft's documented
// syntax (vendor-formats §7), so the dry run is the script's own (-WhatIf or -DryRun).
const scriptHead = `#
# Run it in an elevated PowerShell. First see what it would add (nothing is changed):
#   .\defender-av-exclusions.ps1 -WhatIf      (or -DryRun)
# Then run it without the switch: it adds each exclusion (Add-MpPreference appends to the
# existing lists), reads Get-MpPreference back and names every exclusion that is not there;
# it exits 1 when one is missing or could not be added.
# These are antivirus exclusions only: they do not stop EDR alerts (the indicators do that).
# -ExclusionPath excludes a file or folder; -ExclusionProcess excludes the files a process
# opens. The file is UTF-8 with a byte order mark, which Windows PowerShell 5.1 needs to read
# non-ASCII file names as written.
param(
    [switch]$WhatIf,
    [switch]$DryRun
)

Set-StrictMode -Version 2.0
$ErrorActionPreference = 'Stop'
$dry = $WhatIf -or $DryRun
$failed = 0
$wanted = @()

function Add-Exclusion([string]$Kind, [string]$Value) {
    $script:wanted += ,@($Kind, $Value)
    if ($dry) {
        Write-Output ("What if: Add-MpPreference -{0} '{1}'" -f $Kind, $Value.Replace("'", "''"))
        return
    }
    try {
        if ($Kind -eq 'ExclusionProcess') {
            Add-MpPreference -ExclusionProcess $Value
        } else {
            Add-MpPreference -ExclusionPath $Value
        }
    } catch {
        Write-Warning ("Add-MpPreference -{0} '{1}' failed: {2}" -f $Kind, $Value, $_)
        $script:failed++
    }
}
`

// scriptTail ends the dry run, or compares Get-MpPreference with what was meant.
const scriptTail = `
if ($dry) {
    Write-Output ('What if: {0} exclusion(s) would be added; nothing was changed.' -f $wanted.Count)
    exit 0
}
$pref = Get-MpPreference
$missing = 0
foreach ($w in $wanted) {
    $have = @($pref.($w[0]))
    if (-not ($have -contains $w[1])) {
        Write-Warning ("missing from Get-MpPreference {0}: '{1}'" -f $w[0], $w[1])
        $missing++
    }
}
if ($missing -gt 0 -or $failed -gt 0) {
    Write-Output ('{0} of {1} exclusion(s) are not in place ({2} failed to add): see the warnings above.' -f $missing, $wanted.Count, $failed)
    exit 1
}
Write-Output ('All {0} exclusion(s) are in place (checked with Get-MpPreference).' -f $wanted.Count)
`

// utf8BOM starts the script: Windows PowerShell 5.1 reads a script without it in the ANSI
// code page, where the bytes of some non-ASCII characters decode into a quote character (a
// code-injection path through a file name).
const utf8BOM = "\uFEFF"

// script renders the PowerShell file. Every value is a single-quoted literal (PSQuote) and
// every comment is one line (OneLine), so no file name can end a string or a comment early.
func script(p *edrpolicy.Policy, lines []psLine) []byte {
	var b strings.Builder
	b.WriteString(utf8BOM)
	b.WriteString("# defender-av-exclusions.ps1: Microsoft Defender Antivirus exclusions\n")
	fmt.Fprintf(&b, "# for %s, generated by edrpolicy from policy.json.\n", core.OneLine(core.AppName(p)+" "+core.AppVersion(p)))
	b.WriteString(scriptHead)
	for _, l := range lines {
		if l.comment != "" {
			fmt.Fprintf(&b, "\n# %s\n", core.OneLine(l.comment))
		}
		fmt.Fprintf(&b, "Add-Exclusion %s %s\n", core.PSQuote(l.param), core.PSQuote(l.value))
	}
	b.WriteString(scriptTail)
	return []byte(b.String())
}
