package defender_test

import (
	"bytes"
	"crypto/x509"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/defender"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func export(t *testing.T, p *edrpolicy.Policy, o core.Options) (map[string][]byte, []edrpolicy.Warning) {
	t.Helper()
	return exportWith(t, defender.Options{}, p, o)
}

// exportWith is export with the exporter configured by do.
func exportWith(t *testing.T, do defender.Options, p *edrpolicy.Policy, o core.Options) (map[string][]byte, []edrpolicy.Warning) {
	t.Helper()
	return tp.Export(t, defender.New(do), p, o)
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		p    *edrpolicy.Policy
		o    core.Options
		do   defender.Options
	}{
		{"windows", tp.Windows(t), core.Options{Expiration: "rule"}, defender.Options{}},
		{"windows-sha1-groups", tp.Windows(t), core.Options{Expiration: "2026-06-30", Digests: tp.Digests(tp.Sum("CrashPlanService.exe"))},
			defender.Options{SHA1: true, RbacGroups: []string{"Servers"}}},
		{"mac", tp.Mac(t), core.Options{}, defender.Options{}},
		{"linux", tp.Linux(), core.Options{Force: true}, defender.Options{MergePolicy: "admin_only"}},
		{"tricky", tp.TrickyNames(), core.Options{Force: true}, defender.Options{}},
		{"windows-process-exclusions", tp.Windows(t), core.Options{}, defender.Options{ProcessExclusions: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files, _, err := tp.Run(defender.New(c.do), c.p, c.o)
			require.NoError(t, err)
			tp.Golden(t, c.name, files, *update)
		})
	}
}

func TestParseBackWindows(t *testing.T) {
	p := tp.Windows(t)
	files, warns := export(t, p, core.Options{Expiration: "rule"})
	assert.ElementsMatch(t, []string{"defender-indicators-001.csv", "defender-indicators.json", "defender-cert-001.cer", "defender-av-exclusions.ps1"}, keysOf(files))

	rows := readCSV(t, files["defender-indicators-001.csv"])
	assert.Equal(t, "IndicatorType,IndicatorValue,ExpirationTime,Action,Severity,Title,Description,RecommendedActions,RbacGroups,Category,MitreTechniques,GenerateAlert", strings.Join(rows[0], ","))
	require.Len(t, rows, 3, "the hash rule and the narrowed signer rule's file by hash; no certificate rows in CSV")
	assert.Equal(t, []string{"FileSha256", tp.Sum("CrashPlanService.exe"), "", "Allowed", "Informational"}, rows[1][:5])
	assert.Contains(t, rows[1][6], "CrashPlanService.exe")
	assert.NotContains(t, rows[1][5]+rows[1][6], "11.4.1", "no per-run fact in an entry")
	assert.Equal(t, []string{"FileSha256", tp.Sum("helper.exe")}, rows[2][:2])
	assert.Contains(t, rows[2][6], "fallback: the rule is narrowed to its files, and a Defender certificate indicator covers everything the leaf certificate signs")

	body := decodeIndicators(t, files["defender-indicators.json"])
	require.Len(t, body.Indicators, 3)
	cert := body.Indicators[2]
	assert.Equal(t, "CertificateThumbprint", cert.IndicatorType)
	assert.Equal(t, p.Rules[1].Signer.ThumbprintSHA1, cert.IndicatorValue)
	assert.Equal(t, "2027-01-01T00:00:00Z", cert.ExpirationTime, "--expiration rule takes the governance expiry")
	assert.Equal(t, "Allowed", cert.Action)
	assert.False(t, cert.GenerateAlert)
	assert.NotNil(t, cert.RbacGroupNames)

	c, err := x509.ParseCertificate(files["defender-cert-001.cer"])
	require.NoError(t, err)
	assert.Equal(t, "Code42 Software, Inc.", c.Subject.CommonName)

	ps := string(files["defender-av-exclusions.ps1"])
	stmts := checkScript(t, ps)
	assert.Equal(t, []string{
		`-ExclusionPath C:\Program Files\CrashPlan\CrashPlanService.exe`,
		`-ExclusionPath C:\ProgramData\CrashPlan\cache`,
		`-ExclusionPath C:\Users\*\AppData\Local\CrashPlan\log`,
	}, stmts)
	assert.False(t, hasWarning(warns, core.WarnSkipped, ""))
	assert.True(t, hasWarning(warns, core.WarnFallback, "the rule is narrowed to its files"))
	assert.True(t, hasWarning(warns, core.WarnFallback, "always cover subfolders"))
	assert.True(t, hasWarning(warns, core.WarnUnconfirmed, "CertificateThumbprint"))
}

func TestParseBackMacLinux(t *testing.T) {
	files, warns := export(t, tp.Mac(t), core.Options{})
	var w defender.WDAV
	_, err := plist.Unmarshal(files["com.microsoft.wdav.plist"], &w)
	require.NoError(t, err)
	assert.Equal(t, "merge", w.AntivirusEngine.MergePolicy)
	require.Len(t, w.AntivirusEngine.Exclusions, 3, "no process exclusion unless asked")
	assert.Equal(t, "/Library/Caches/CrashPlan", w.AntivirusEngine.Exclusions[0].Path)
	assert.True(t, *w.AntivirusEngine.Exclusions[0].IsDirectory)
	assert.Equal(t, "excludedPath", w.AntivirusEngine.Exclusions[2].Type)
	assert.False(t, *w.AntivirusEngine.Exclusions[2].IsDirectory)

	files, _ = exportWith(t, defender.Options{ProcessExclusions: true}, tp.Mac(t), core.Options{})
	w = defender.WDAV{}
	_, err = plist.Unmarshal(files["com.microsoft.wdav.plist"], &w)
	require.NoError(t, err)
	require.Len(t, w.AntivirusEngine.Exclusions, 4)
	assert.Equal(t, "excludedFileName", w.AntivirusEngine.Exclusions[3].Type)
	assert.True(t, hasWarning(warns, core.WarnFallback, "Defender certificate indicators apply on Windows only"))
	assert.True(t, hasWarning(warns, core.WarnNote, "enableFileHashComputation"))
	body := decodeIndicators(t, files["defender-indicators.json"])
	for _, ind := range body.Indicators {
		assert.NotEqual(t, "CertificateThumbprint", ind.IndicatorType, "no certificate indicators on macOS")
	}
	assert.Equal(t, "FileSha256", body.Indicators[1].IndicatorType)
	assert.Equal(t, tp.Sum("CrashPlan"), body.Indicators[1].IndicatorValue, "the Team ID rule's file by its SHA-256")
	for name := range files {
		assert.False(t, strings.HasSuffix(name, ".cer"), "no .cer on macOS: %s", name)
	}

	files, warns = export(t, tp.Linux(), core.Options{Force: true})
	var m defender.Managed
	strict(t, files["mdatp_managed.json"], &m)
	assert.Equal(t, "merge", m.ExclusionSettings.MergePolicy)
	var paths []string
	for _, e := range m.ExclusionSettings.Exclusions {
		paths = append(paths, e.Type+" "+e.Path+e.Name)
		assert.Equal(t, []string{"epp"}, e.Scopes)
	}
	assert.Equal(t, []string{"excludedPath /usr/local/crashplan/cache", "excludedPath /usr/local/crashplan/bin/CrashPlanService"}, paths)
	assert.True(t, hasWarning(warns, core.WarnFallback, `"/opt/what?.bin"): the path holds '?'`), "a literal ? would be a wildcard")
	linuxInds := decodeIndicators(t, files["defender-indicators.json"])
	assert.Equal(t, tp.Sum("what?.bin"), linuxInds.Indicators[1].IndicatorValue, "the file by hash instead")
	assert.NotContains(t, files, "defender-av-exclusions.ps1")
	assert.NotContains(t, files, "com.microsoft.wdav.plist")
}

func TestCSVSplit1200(t *testing.T) {
	files, _ := export(t, tp.Hashes(1200), core.Options{})
	for name, n := range map[string]int{"defender-indicators-001.csv": 500, "defender-indicators-002.csv": 500, "defender-indicators-003.csv": 200} {
		rows := readCSV(t, files[name])
		assert.Equal(t, defender.CSVHeader, rows[0], name)
		assert.Len(t, rows, n+1, name)
	}
	assert.NotContains(t, files, "defender-indicators-004.csv")
	for name, n := range map[string]int{"defender-indicators-001.json": 500, "defender-indicators-002.json": 500, "defender-indicators-003.json": 200} {
		assert.Len(t, decodeIndicators(t, files[name]).Indicators, n, name)
	}
	assert.NotContains(t, files, "defender-indicators.json")
}

func TestTenantLimit(t *testing.T) {
	_, _, err := tp.Run(defender.New(defender.Options{}), tp.Hashes(15001), core.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "15001 indicators exceed Defender's limit of 15000")
	_, _, err = tp.Run(defender.New(defender.Options{}), tp.Hashes(15000), core.Options{Formats: []string{"json"}})
	require.NoError(t, err)
}

func TestExpirationFormats(t *testing.T) {
	files, _ := export(t, tp.Windows(t), core.Options{Expiration: "2026-06-30T12:30:00+02:00"})
	rows := readCSV(t, files["defender-indicators-001.csv"])
	assert.Equal(t, "2026-06-30T10:30:00.0Z", rows[1][2])
	assert.Equal(t, "2026-06-30T10:30:00Z", decodeIndicators(t, files["defender-indicators.json"]).Indicators[0].ExpirationTime)
}

func TestTrickyNamesSurvive(t *testing.T) {
	files, _ := export(t, tp.TrickyNames(), core.Options{Force: true})
	rows := readCSV(t, files["defender-indicators-001.csv"])
	body := decodeIndicators(t, files["defender-indicators.json"])
	for i, n := range tp.Tricky {
		assert.Contains(t, rows[i+1][6], n, "CSV description")
		assert.Contains(t, body.Indicators[i].Description, n)
		for _, cell := range rows[i+1] {
			if cell != "" {
				assert.NotContains(t, "=+-@\t\r", cell[:1], "cell %q would run as a formula", cell)
			}
		}
	}
	stmts := checkScript(t, string(files["defender-av-exclusions.ps1"]))
	var wantPS, wantLinux []string
	for _, n := range tp.Tricky {
		if strings.ContainsAny(n, "\n\r") {
			continue // a control character: no path entry names it exactly (the file by hash)
		}
		wantPS = append(wantPS, `-ExclusionPath C:\Apps\`+n)
		wantLinux = append(wantLinux, "/opt/apps/"+n)
	}
	assert.Equal(t, wantPS, stmts, "every name round-trips through the script's quoting")
	var m defender.Managed
	strict(t, files["mdatp_managed.json"], &m)
	var gotLinux []string
	for _, e := range m.ExclusionSettings.Exclusions {
		gotLinux = append(gotLinux, e.Path)
	}
	assert.Equal(t, wantLinux, gotLinux)
	pwsh(t, files["defender-av-exclusions.ps1"])
}

func TestPSQuoteRoundTrip(t *testing.T) {
	for _, s := range append(tp.Tricky, "", "'", "''", "‘’‚‛", "a'b‘c’d", "$x `n \"q\"", "#>\n<#", "C:\\dir\\") {
		q := core.PSQuote(s)
		got, rest, err := unquotePS(q)
		require.NoError(t, err, q)
		assert.Equal(t, s, got, q)
		assert.Empty(t, rest, "the literal ends where PSQuote ends it: %s", q)
	}
}

// Paths Defender cannot take are skipped by the exporter itself. The guardrails refuse these
// values before any exporter sees them; with Force (the refusals overridden) the exporter is
// the second line of defence.
func TestWindowsPathLimits(t *testing.T) {
	p := &edrpolicy.Policy{SchemaVersion: 1, Profile: "x", OS: "windows"}
	for _, v := range []string{`C:\*\*\*\*\*\*\*\x`, `*:\x`, `relative\x`} {
		p.Rules = append(p.Rules, edrpolicy.Rule{Criterion: edrpolicy.CriterionPath, Value: v, Platform: "windows", Role: "cache", Match: edrpolicy.MatchFile})
	}
	_, err := core.Admit(p, core.Options{})
	var ge *edrpolicy.GuardrailError
	require.ErrorAs(t, err, &ge)
	assert.Len(t, ge.Refusals, 3)
	files, warns := export(t, p, core.Options{Force: true})
	assert.Empty(t, files)
	assert.True(t, hasWarning(warns, core.WarnSkipped, "at most 6"))
	assert.True(t, hasWarning(warns, core.WarnSkipped, "drive letter"))
	assert.True(t, hasWarning(warns, core.WarnSkipped, "not a full path"))
}

func TestErrors(t *testing.T) {
	bad := tp.Windows(t)
	bad.Rules[1].Certificate = []byte("not the certificate")
	_, _, err := tp.Run(defender.New(defender.Options{}), bad, core.Options{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "rules[1] (signer")
	do := defender.Options{MergePolicy: "replace"}
	_, _, err = tp.Run(defender.New(do), tp.Windows(t), core.Options{})
	assert.EqualError(t, err, `Defender.MergePolicy "replace": want merge or admin_only`)
	var oe *edrpolicy.OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "Defender.MergePolicy", oe.Field)
	assert.EqualError(t, do.Validate(), err.Error(), "Validate refuses what Export refuses, before any policy")
	assert.NoError(t, defender.Options{MergePolicy: "admin_only"}.Validate())
}

// checkScript checks the structure of the PowerShell file: the UTF-8 byte order mark, the
// comment header, the script's own dry-run switches, no Add-MpPreference that passes
// -WhatIf (it has none), and Add-Exclusion statements whose two arguments are single-quoted
// literals read as PowerShell's tokenizer reads them. It returns "-Param value" per statement.
func checkScript(t *testing.T, s string) []string {
	t.Helper()
	require.True(t, strings.HasPrefix(s, "\xef\xbb\xbf"), "UTF-8 with BOM")
	s = strings.TrimPrefix(s, "\xef\xbb\xbf")
	require.True(t, strings.Contains(s, "param(\n    [switch]$WhatIf,\n    [switch]$DryRun\n)\n"), "param block")
	before, _, _ := strings.Cut(s, "param(")
	for _, l := range strings.Split(strings.TrimSuffix(before, "\n"), "\n") {
		require.True(t, strings.HasPrefix(l, "#"), "only comments before param: %q", l)
	}
	var stmts []string
	const call = "Add-Exclusion "
	for _, line := range strings.Split(s, "\n") {
		code := strings.TrimSpace(line)
		if strings.HasPrefix(code, "#") {
			continue
		}
		if strings.Contains(code, "Add-MpPreference") {
			require.NotContains(t, code, "-WhatIf", "Add-MpPreference has no -WhatIf")
			require.NotContains(t, code, "-Confirm")
		}
		if !strings.HasPrefix(line, call) {
			continue
		}
		kind, rest, err := unquotePS(line[len(call):])
		require.NoError(t, err, line)
		require.Contains(t, []string{"ExclusionPath", "ExclusionProcess"}, kind)
		require.True(t, strings.HasPrefix(rest, " "), line)
		val, rest, err := unquotePS(rest[1:])
		require.NoError(t, err, line)
		require.Empty(t, rest, "the statement ends after the value: %q", line)
		stmts = append(stmts, "-"+kind+" "+val)
	}
	require.Contains(t, s, "            Add-MpPreference -ExclusionProcess $Value\n")
	require.Contains(t, s, "            Add-MpPreference -ExclusionPath $Value\n")
	require.Contains(t, s, "$pref = Get-MpPreference\n", "the run is checked against Get-MpPreference")
	return stmts
}

// unquotePS reads a PowerShell single-quoted string at the start of s as PowerShell's
// tokenizer does: any of ' ‘ ’ ‚ ‛ opens and closes it, and two quote characters in a row
// stand for the second one.
func unquotePS(s string) (string, string, error) {
	isQ := func(r rune) bool { return strings.ContainsRune("'\u2018\u2019\u201a\u201b", r) }
	rs := []rune(s)
	if len(rs) == 0 || !isQ(rs[0]) {
		return "", "", fmt.Errorf("no opening quote in %q", s)
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
	return "", "", fmt.Errorf("unterminated string %q", s)
}

// pwsh runs PowerShell's parser over the script when pwsh is installed.
func pwsh(t *testing.T, script []byte) {
	bin, err := exec.LookPath("pwsh")
	if err != nil {
		t.Log("pwsh not installed: PowerShell syntax check skipped (structure and quoting checked above)")
		return
	}
	f := filepath.Join(t.TempDir(), "x.ps1")
	require.NoError(t, os.WriteFile(f, script, 0o644))
	cmd := `$e=$null; [void][System.Management.Automation.Language.Parser]::ParseFile('` + strings.ReplaceAll(f, "'", "''") + `',[ref]$null,[ref]$e); if ($e.Count) { $e | Out-String | Write-Error; exit 1 }`
	out, err := exec.Command(bin, "-NoProfile", "-NonInteractive", "-Command", cmd).CombinedOutput()
	require.NoError(t, err, "pwsh parse: %s", out)
}

func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	require.NotEmpty(t, data)
	rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
	require.NoError(t, err)
	return rows
}

func decodeIndicators(t *testing.T, data []byte) defender.ImportBody {
	t.Helper()
	var b defender.ImportBody
	strict(t, data, &b)
	return b
}

func strict(t *testing.T, data []byte, v any) {
	t.Helper()
	require.NotEmpty(t, data)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(v))
}

func hasWarning(ws []edrpolicy.Warning, code edrpolicy.WarningCode, text string) bool {
	for _, w := range ws {
		if w.Code == code && strings.Contains(w.Message, text) {
			return true
		}
	}
	return false
}

func keysOf(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// -ExclusionProcess stops Defender scanning everything a process opens: never by default,
// and said out loud when asked for.
func TestProcessExclusionsOptIn(t *testing.T) {
	p := tp.Windows(t)
	files, warns := export(t, p, core.Options{})
	assert.NotContains(t, checkScript(t, string(files["defender-av-exclusions.ps1"])), `-ExclusionProcess C:\Program Files\CrashPlan\CrashPlanService.exe`)
	assert.NotContains(t, string(files["defender-av-exclusions.ps1"]), "Add-Exclusion 'ExclusionProcess'")
	assert.False(t, hasWarning(warns, core.WarnNote, "process exclusion"))

	files, warns = exportWith(t, defender.Options{ProcessExclusions: true}, p, core.Options{})
	stmts := checkScript(t, string(files["defender-av-exclusions.ps1"]))
	assert.Contains(t, stmts, `-ExclusionProcess C:\Program Files\CrashPlan\CrashPlanService.exe`)
	assert.NotContains(t, stmts, `-ExclusionProcess C:\ProgramData\CrashPlan\cache`, "folders never become process exclusions")
	assert.True(t, hasWarning(warns, core.WarnNote, "1 process exclusion(s) as asked"))
}

// Names with the typographic quotes PowerShell also reads as quotes (U+2018, U+2019, U+201A,
// U+201B) and other non-ASCII characters round-trip through the script's quoting, and the
// file is UTF-8 with a BOM, so Windows PowerShell 5.1 does not read them in the ANSI code
// page (where some of their bytes decode into a quote).
func TestScriptNonASCIINamesRoundTrip(t *testing.T) {
	names := []string{"O’Brien’s tool.exe", "‘single’.exe", "‚low‛.exe", "it'’s.exe", "café ünïcødé.exe", "Привет.exe", "工具.exe", "emoji 😀.exe",
		"combining é.exe", "nbsp\u00a0name.exe", "’; Start-Process calc; ’.exe", "€uro.exe"}
	p := &edrpolicy.Policy{SchemaVersion: 1, Profile: "x", OS: "windows", Level: edrpolicy.CriterionPath}
	for _, n := range names {
		v := `C:\Program Files\App\` + n
		p.Rules = append(p.Rules, edrpolicy.Rule{Criterion: edrpolicy.CriterionPath, Value: v, Platform: "windows", Role: "executable", Match: edrpolicy.MatchFile, Files: []string{v}})
	}
	files, _ := export(t, p, core.Options{})
	ps := files["defender-av-exclusions.ps1"]
	require.True(t, bytes.HasPrefix(ps, []byte{0xef, 0xbb, 0xbf}), "starts with EF BB BF")
	assert.Equal(t, 1, bytes.Count(ps, []byte{0xef, 0xbb, 0xbf}), "one BOM")
	stmts := checkScript(t, string(ps))
	require.Len(t, stmts, len(names))
	for i, n := range names {
		assert.Equal(t, `-ExclusionPath C:\Program Files\App\`+n, stmts[i])
	}
	pwsh(t, ps)
}
