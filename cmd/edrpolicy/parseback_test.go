package main

import (
	"bytes"
	"crypto/sha1"
	"crypto/x509"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/output"
)

// This file is the scenario tests' own reading of an output set, independent of the
// exporters' code: it parses every vendor file back (every file kind), simulates each
// vendor's matching in the simple form the policy needs (the hash it matches, the
// certificate thumbprint or publisher name, the exact path or the '*' glob, case-insensitive
// on Windows, Falcon's drive-less Windows paths), and checks that every executable of
// policy.json is covered for every vendor that wrote files, and that coverage.json agrees
// with the files (its covered_by entry is in the file it names).

// parsed is one entry read back from a vendor file.
type parsed struct {
	vendor, file, typ, value, platform, match string
}

// executable is one file of an executable rule, with what a vendor can match it by.
type executable struct {
	path, sha256, sha1, thumb, cn, platform string
	rule                                    int
}

// checkOutputSet returns one line per vendor and the problems found.
func checkOutputSet(dir string) ([]string, []string, error) {
	pol, err := edrpolicy.ReadPolicy(filepath.Join(dir, output.PolicyFileName))
	if err != nil {
		return nil, nil, err
	}
	entries, err := parseDir(dir)
	if err != nil {
		return nil, nil, err
	}
	cov, err := readCoverage(filepath.Join(dir, exporters.CoverageFileName))
	if err != nil {
		return nil, nil, err
	}
	execs := executables(pol)
	byVendor := map[string][]parsed{}
	for _, e := range entries {
		byVendor[e.vendor] = append(byVendor[e.vendor], e)
	}
	var lines, problems []string
	for _, v := range sortedVendors(byVendor) {
		covered := 0
		for _, x := range execs {
			if coveredBy(x, byVendor[v]) {
				covered++
			} else {
				problems = append(problems, fmt.Sprintf("%s: %s (rules[%d]) is covered by no entry of its files", v, x.path, x.rule))
			}
		}
		lines = append(lines, fmt.Sprintf("%s: %d of %d executables covered by the files", v, covered, len(execs)))
		problems = append(problems, checkCoverageJSON(cov, v, execs, byVendor[v])...)
	}
	return lines, problems, nil
}

func sortedVendors(m map[string][]parsed) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// executables lists every file of every executable rule with the digests and signer the
// policy records for it.
func executables(p *edrpolicy.Policy) []executable {
	var out []executable
	for i, r := range p.Rules {
		if r.Role != "executable" {
			continue
		}
		for _, f := range r.Files {
			x := executable{path: f, platform: string(r.Platform), rule: i}
			if r.Criterion == edrpolicy.CriterionHash {
				x.sha256, x.sha1 = r.Value, r.SHA1
			}
			for _, fd := range r.FileDigests {
				if fd.Path == f {
					x.sha256, x.sha1 = fd.SHA256, fd.SHA1
				}
			}
			if r.Criterion == edrpolicy.CriterionSigner && r.Signer != nil {
				x.thumb, x.cn = strings.ToLower(r.Signer.ThumbprintSHA1), r.Signer.CommonName
			}
			out = append(out, x)
		}
	}
	return out
}

// coveredBy simulates a vendor's matching of x against its entries.
func coveredBy(x executable, es []parsed) bool {
	for _, e := range es {
		if matches(x, e) {
			return true
		}
	}
	return false
}

func matches(x executable, e parsed) bool {
	if e.platform != "" && e.platform != x.platform {
		return false
	}
	v := strings.ToLower(e.value)
	switch e.typ {
	case "sha256", "FileSha256":
		return x.sha256 != "" && v == x.sha256
	case "FileSha1":
		return x.sha1 != "" && v == x.sha1
	case "white_hash":
		return v == x.sha1 && x.sha1 != "" || v == x.sha256 && x.sha256 != ""
	case "cert-exclusion", "CertificateThumbprint":
		return x.thumb != "" && v == x.thumb
	case "certificate":
		return x.cn != "" && e.value == x.cn
	case "ml-exclusion":
		p := x.path
		if x.platform == "windows" && len(p) > 3 && p[1] == ':' {
			p = p[3:] // Falcon patterns start below the volume
		}
		return globMatch(e.value, p, x.platform == "windows")
	case "ExclusionPath": // a file, or a folder and everything below it
		return globMatch(e.value, x.path, true) || underFolder(x.path, e.value, true)
	case "excludedPath", "path":
		if e.match == "folder" || e.match == "subfolders" {
			return underFolder(x.path, e.value, x.platform == "windows")
		}
		return globMatch(e.value, x.path, x.platform == "windows")
	}
	return false
}

// globMatch matches a path against a pattern where '*' is one path segment (or a part of
// one), '**' any number of segments; case-insensitive on Windows.
func globMatch(pattern, p string, windows bool) bool {
	if windows {
		pattern, p = strings.ToLower(strings.ReplaceAll(pattern, `\`, "/")), strings.ToLower(strings.ReplaceAll(p, `\`, "/"))
	}
	if strings.HasSuffix(pattern, "/**") {
		return strings.HasPrefix(p, strings.TrimSuffix(pattern, "**"))
	}
	ok, err := path.Match(escapeMeta(pattern), p)
	return err == nil && ok
}

// escapeMeta leaves '*' as a wildcard and makes every other character literal for path.Match.
func escapeMeta(s string) string {
	var b strings.Builder
	for _, c := range s {
		if strings.ContainsRune(`?[]\`, c) {
			b.WriteByte('\\')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func underFolder(p, dir string, windows bool) bool {
	sep := "/"
	if windows {
		sep = `\`
		p, dir = strings.ToLower(p), strings.ToLower(dir)
	}
	return strings.HasPrefix(p, strings.TrimRight(dir, sep)+sep)
}

// checkCoverageJSON checks coverage.json for vendor v: one record per executable, and each
// covered_by entry present in the file it names.
func checkCoverageJSON(cov *exporters.Coverage, v string, execs []executable, es []parsed) []string {
	var vc *exporters.VendorCoverage
	for i := range cov.Vendors {
		if cov.Vendors[i].Vendor == v {
			vc = &cov.Vendors[i]
		}
	}
	if vc == nil {
		return []string{v + ": not in coverage.json"}
	}
	var problems []string
	if len(vc.Executables) != len(execs) {
		problems = append(problems, fmt.Sprintf("%s: coverage.json lists %d executables, the policy has %d", v, len(vc.Executables), len(execs)))
	}
	for _, x := range vc.Executables {
		if x.CoveredBy == nil {
			problems = append(problems, fmt.Sprintf("%s: coverage.json: %s NOT COVERED: %s", v, x.File, x.NotCovered))
			continue
		}
		found := false
		for _, e := range es {
			if e.file == x.CoveredBy.File && e.typ == x.CoveredBy.Type && e.value == x.CoveredBy.Value {
				found = true
				break
			}
		}
		if !found {
			problems = append(problems, fmt.Sprintf("%s: coverage.json says %s is covered by %s %q in %s, which that file does not hold", v, x.File, x.CoveredBy.Type, x.CoveredBy.Value, x.CoveredBy.File))
		}
	}
	return problems
}

func readCoverage(file string) (*exporters.Coverage, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var c exporters.Coverage
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &c, nil
}

// parseDir parses every vendor file the manifest lists.
func parseDir(dir string) ([]parsed, error) {
	manifest, err := os.ReadFile(filepath.Join(dir, output.ManifestName))
	if err != nil {
		return nil, err
	}
	var out []parsed
	for _, line := range strings.Split(strings.TrimSpace(string(manifest)), "\n") {
		_, name, _ := strings.Cut(line, "  ")
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		es, err := parseFile(name, data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, es...)
	}
	return out, nil
}

// parseFile reads one file back by its kind.
func parseFile(name string, data []byte) ([]parsed, error) {
	switch {
	case strings.HasPrefix(name, "crowdstrike-ioc") && strings.HasSuffix(name, ".json"):
		return parseFalconIOC(name, data)
	case name == "crowdstrike-ioc.csv":
		return parseCSV(name, "crowdstrike", data, 0, 1, 3)
	case name == "crowdstrike-ml-exclusions.json":
		var ms []struct{ Value string }
		err := json.Unmarshal(data, &ms)
		var out []parsed
		for _, m := range ms {
			out = append(out, parsed{vendor: "crowdstrike", file: name, typ: "ml-exclusion", value: m.Value})
		}
		return out, err
	case name == "crowdstrike-cert-exclusions.json":
		var b struct {
			Exclusions []struct{ Certificate struct{ Thumbprint string } }
		}
		err := json.Unmarshal(data, &b)
		var out []parsed
		for _, e := range b.Exclusions {
			out = append(out, parsed{vendor: "crowdstrike", file: name, typ: "cert-exclusion", value: e.Certificate.Thumbprint})
		}
		return out, err
	case name == "sentinelone-exclusions.json":
		return parseS1(name, data)
	case strings.HasPrefix(name, "defender-indicators") && strings.HasSuffix(name, ".csv"):
		return parseCSV(name, "defender", data, 0, 1, -1)
	case strings.HasPrefix(name, "defender-indicators") && strings.HasSuffix(name, ".json"):
		var b struct {
			Indicators []struct{ IndicatorType, IndicatorValue string }
		}
		err := json.Unmarshal(data, &b)
		var out []parsed
		for _, i := range b.Indicators {
			out = append(out, parsed{vendor: "defender", file: name, typ: i.IndicatorType, value: i.IndicatorValue})
		}
		return out, err
	case strings.HasPrefix(name, "defender-cert-"):
		c, err := x509.ParseCertificate(data)
		if err != nil {
			return nil, err
		}
		sum := sha1.Sum(c.Raw)
		return []parsed{{vendor: "defender", file: name, typ: "CertificateThumbprint", value: hex.EncodeToString(sum[:]), platform: "windows"}}, nil
	case name == "defender-av-exclusions.ps1":
		return parsePS1(name, data)
	case name == "mdatp_managed.json":
		return parseManaged(name, data)
	case name == "com.microsoft.wdav.plist", name == "com.microsoft.wdav.mobileconfig":
		return parseWDAV(name, data)
	}
	return nil, nil // policy.json, coverage.json, README
}

func parseFalconIOC(name string, data []byte) ([]parsed, error) {
	var b struct {
		Indicators []struct {
			Type, Value string
			Platforms   []string
		}
	}
	err := json.Unmarshal(data, &b)
	var out []parsed
	for _, i := range b.Indicators {
		out = append(out, parsed{vendor: "crowdstrike", file: name, typ: i.Type, value: i.Value, platform: strings.Join(i.Platforms, ",")})
	}
	return out, err
}

// parseCSV reads type and value columns (and platforms when platCol >= 0).
func parseCSV(name, vendor string, data []byte, typCol, valCol, platCol int) ([]parsed, error) {
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	if err != nil || len(rows) == 0 {
		return nil, fmt.Errorf("csv: %v", err)
	}
	var out []parsed
	for _, r := range rows[1:] {
		e := parsed{vendor: vendor, file: name, typ: r[typCol], value: r[valCol]}
		if platCol >= 0 {
			e.platform = r[platCol]
		}
		out = append(out, e)
	}
	return out, nil
}

func parseS1(name string, data []byte) ([]parsed, error) {
	var bs []struct {
		Data struct{ Type, OSType, Value, PathExclusionType string }
	}
	err := json.Unmarshal(data, &bs)
	var out []parsed
	for _, b := range bs {
		plat := map[string]string{"windows": "windows", "macos": "mac", "linux": "linux"}[b.Data.OSType]
		out = append(out, parsed{vendor: "sentinelone", file: name, typ: b.Data.Type, value: b.Data.Value, platform: plat, match: b.Data.PathExclusionType})
	}
	return out, err
}

// parsePS1 reads the Add-Exclusion statements: two single-quoted PowerShell literals.
func parsePS1(name string, data []byte) ([]parsed, error) {
	if !bytes.HasPrefix(data, []byte{0xef, 0xbb, 0xbf}) {
		return nil, fmt.Errorf("no UTF-8 byte order mark")
	}
	var out []parsed
	for _, line := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(line, "Add-Exclusion ")
		if !ok {
			continue
		}
		kind, rest, err := psLiteral(rest)
		if err != nil {
			return nil, err
		}
		val, _, err := psLiteral(strings.TrimPrefix(rest, " "))
		if err != nil {
			return nil, err
		}
		if kind == "ExclusionPath" {
			out = append(out, parsed{vendor: "defender", file: name, typ: kind, value: val, platform: "windows"})
		}
	}
	return out, nil
}

func psLiteral(s string) (string, string, error) {
	isQ := func(r rune) bool { return strings.ContainsRune("'\u2018\u2019\u201a\u201b", r) }
	rs := []rune(s)
	if len(rs) == 0 || !isQ(rs[0]) {
		return "", "", fmt.Errorf("no quoted literal at %q", s)
	}
	var b strings.Builder
	for i := 1; i < len(rs); i++ {
		if isQ(rs[i]) {
			if i+1 < len(rs) && isQ(rs[i+1]) {
				b.WriteRune(rs[i+1])
				i++
				continue
			}
			return b.String(), string(rs[i+1:]), nil
		}
		b.WriteRune(rs[i])
	}
	return "", "", fmt.Errorf("unterminated literal %q", s)
}

type posixExclusion struct {
	Type        string `json:"$type" plist:"$type"`
	IsDirectory bool   `json:"isDirectory" plist:"isDirectory"`
	Path        string `json:"path" plist:"path"`
}

func posixEntries(name, plat string, xs []posixExclusion) []parsed {
	var out []parsed
	for _, x := range xs {
		if x.Type != "excludedPath" {
			continue
		}
		m := "file"
		if x.IsDirectory {
			m = "subfolders"
		}
		out = append(out, parsed{vendor: "defender", file: name, typ: x.Type, value: x.Path, platform: plat, match: m})
	}
	return out
}

func parseManaged(name string, data []byte) ([]parsed, error) {
	var m struct {
		ExclusionSettings struct{ Exclusions []posixExclusion } `json:"exclusionSettings"`
		AntivirusEngine   struct{ Exclusions []posixExclusion } `json:"antivirusEngine"`
	}
	err := json.Unmarshal(data, &m)
	return posixEntries(name, "linux", append(m.ExclusionSettings.Exclusions, m.AntivirusEngine.Exclusions...)), err
}

func parseWDAV(name string, data []byte) ([]parsed, error) {
	var top map[string]any
	if _, err := plist.Unmarshal(data, &top); err != nil {
		return nil, err
	}
	wdav := top
	if content, ok := top["PayloadContent"].([]any); ok {
		for _, c := range content {
			if d, ok := c.(map[string]any); ok && d["PayloadType"] == "com.microsoft.wdav" {
				wdav = d
			}
		}
	}
	raw, err := json.Marshal(wdav)
	if err != nil {
		return nil, err
	}
	var w struct {
		AntivirusEngine struct{ Exclusions []posixExclusion } `json:"antivirusEngine"`
	}
	err = json.Unmarshal(raw, &w)
	return posixEntries(name, "mac", w.AntivirusEngine.Exclusions), err
}

// coveredMain is the edrpolicy-covered command of the scripts: edrpolicy-covered DIR prints
// one line per vendor, and each problem on stderr, and exits 1 when there is one.
func coveredMain() int {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: edrpolicy-covered DIR")
		return 2
	}
	lines, problems, err := checkOutputSet(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "edrpolicy-covered:", err)
		return 2
	}
	for _, l := range lines {
		fmt.Println(l)
	}
	for _, p := range problems {
		fmt.Fprintln(os.Stderr, p)
	}
	if len(problems) > 0 {
		return 1
	}
	return 0
}
