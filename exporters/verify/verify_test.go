package verify_test

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	pcheck "github.com/edrpolicy/edrpolicy/edrpolicy/check"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
	"github.com/edrpolicy/edrpolicy/exporters/verify"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/output"
	"github.com/edrpolicy/edrpolicy/signers"
)

var (
	sampleDir = filepath.Join("..", "..", "examples", "sample")
	vendors   = []string{"crowdstrike", "defender", "sentinelone"}
)

const (
	samplePin = "ea85936ab6f5ee86cd20bb9323ef87bd4220a617"
	svc       = `C:\Program Files\CrashPlan\CrashPlanService.exe`
	desktop   = `C:\Program Files\CrashPlan\electron\CrashPlanDesktop.exe`
	native    = `C:\Program Files\CrashPlan\CrashPlanNative.dll`
	uninstall = `C:\Program Files\CrashPlan\Uninstall.exe`
)

func sampleInspect(t *testing.T) edrpolicy.InspectOptions {
	t.Helper()
	return inspectTrusting(t, true)
}

// inspectTrusting trusts the sample CA (--roots ca.pem) when trust is set.
func inspectTrusting(t *testing.T, trust bool) edrpolicy.InspectOptions {
	t.Helper()
	if !trust {
		return edrpolicy.InspectOptions{}
	}
	pem, err := os.ReadFile(filepath.Join(sampleDir, "ca.pem"))
	require.NoError(t, err)
	roots, _, err := signers.ParseRoots(pem)
	require.NoError(t, err)
	return edrpolicy.InspectOptions{Verify: signers.Options{Roots: roots}}
}

// writeSample writes what `generate --os OS --root sample/TREE --roots ca.pem --level LEVEL
// [--pin-signer PIN] --vendor ... --s1-tenant --out DIR` writes, and returns DIR.
func writeSample(t *testing.T, tree string, osName profile.OS, level edrpolicy.Criterion, pins ...string) string {
	t.Helper()
	return writeSampleTrusting(t, true, tree, osName, level, pins...)
}

// writeSampleTrusting is writeSample with or without --roots ca.pem.
func writeSampleTrusting(t *testing.T, trust bool, tree string, osName profile.OS, level edrpolicy.Criterion, pins ...string) string {
	t.Helper()
	prof, err := profile.BuiltIn("code42")
	require.NoError(t, err)
	in := inspectTrusting(t, trust)
	in.Digests = hashing.Algorithms{SHA1: true}
	pol, err := edrpolicy.Generate(context.Background(), edrpolicy.GenerateOptions{
		Roots: []string{filepath.Join(sampleDir, tree)}, AppVersion: edrpolicy.VersionAuto, Inspect: in,
		Decide: edrpolicy.DecideOptions{Profile: prof, OS: osName, Level: level, PinSigners: pins},
	})
	require.NoError(t, err)
	reg, err := exporters.Configured(exporters.Vendors{SentinelOne: sentinelone.Options{Tenant: true}})
	require.NoError(t, err)
	files, _, err := exporters.Export(reg, pol, vendors, exporters.Options{})
	require.NoError(t, err)
	data, err := pol.JSON()
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, output.WriteSet(dir, append(files, output.File{Name: output.PolicyFileName, Data: data})))
	return dir
}

func check(t *testing.T, dir, tree string, o verify.Options) *verify.Report {
	t.Helper()
	o.Check.Roots = []string{filepath.Join(sampleDir, tree)}
	o.Check.Inspect = sampleInspect(t)
	rep, err := verify.Check(context.Background(), dir, o)
	require.NoError(t, err)
	return rep
}

type finding struct{ ID, Severity, Vendor, File string }

func reduce(rep *verify.Report) []finding {
	out := []finding{}
	for _, f := range rep.Findings {
		out = append(out, finding{f.ID, string(f.Severity), f.Vendor, f.File})
	}
	return out
}

// rewrite changes a file of the folder and, with fix, updates the manifest to match.
func rewrite(t *testing.T, dir, name string, fix bool, edit func(string) string) {
	t.Helper()
	p := filepath.Join(dir, name)
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	changed := edit(string(b))
	require.NotEqual(t, string(b), changed, "the edit changed nothing")
	require.NoError(t, os.WriteFile(p, []byte(changed), 0o644))
	if !fix {
		return
	}
	mp := filepath.Join(dir, output.ManifestName)
	m, err := os.ReadFile(mp)
	require.NoError(t, err)
	sum := sha256.Sum256([]byte(changed))
	re := regexp.MustCompile(`(?m)^[0-9a-f]{64}  ` + regexp.QuoteMeta(name) + `$`)
	require.True(t, re.Match(m))
	require.NoError(t, os.WriteFile(mp, re.ReplaceAll(m, []byte(hex.EncodeToString(sum[:])+"  "+name)), 0o644))
}

// dropLine removes the first line containing s.
func dropLine(s string) func(string) string {
	return func(text string) string {
		lines := strings.Split(text, "\n")
		for i, l := range lines {
			if strings.Contains(l, s) {
				return strings.Join(append(lines[:i:i], lines[i+1:]...), "\n")
			}
		}
		return text
	}
}

// dropJSONObject removes the JSON object (one array element) that contains s, with its
// comma, from an indented JSON array of objects as the exporters write them.
func dropJSONObject(s string) func(string) string {
	return func(text string) string {
		i := strings.Index(text, s)
		if i < 0 {
			return text
		}
		start := strings.LastIndex(text[:i], "\n  {\n")
		if start < 0 {
			start = strings.LastIndex(text[:i], "\n    {\n")
		}
		depth, end := 0, -1
		for j := start + 1; j < len(text); j++ {
			switch text[j] {
			case '{':
				depth++
			case '}':
				depth--
			}
			if depth == 0 && text[j] == '}' {
				end = j + 1
				break
			}
		}
		out := text[:start] + text[end:]
		out = strings.Replace(out, "[,", "[", 1)
		out = regexp.MustCompile(`\},(\s*),`).ReplaceAllString(out, "},$1") // an object from the middle
		return regexp.MustCompile(`,(\s*)\]`).ReplaceAllString(regexp.MustCompile(`\[(\s*),`).ReplaceAllString(out, "[$1"), "$1]")
	}
}

// candidate is an executable under a rule some vendor cannot express as decided (a signer
// rule narrowed to one file): the vendor covers it only if its files hold a fallback hash
// entry for it, which exporters that fall back write (issue 11 item 1) and others do not.
type candidate struct{ vendor, endpoint, local string }

// expectGaps is what check OUT_DIR must report for the candidates: EDR210 for each one whose
// vendor's files hold no hash entry with the file's SHA-256 or SHA-1 (computed here).
func expectGaps(t *testing.T, dir string, cs []candidate) []finding {
	t.Helper()
	set, err := exporters.ReadSet(exporters.Default(), dir)
	require.NoError(t, err)
	out := []finding{}
	for _, c := range cs {
		data, err := os.ReadFile(filepath.Join(sampleDir, c.local))
		require.NoError(t, err)
		s256, s1 := sha256.Sum256(data), sha1.Sum(data)
		covered := false
		for _, e := range set.Entries(c.vendor) {
			if e.Kind == exporters.EntryHash && (e.Value == hex.EncodeToString(s256[:]) || e.Value == hex.EncodeToString(s1[:])) {
				covered = true
			}
		}
		if !covered {
			out = append(out, finding{"EDR210", "error", c.vendor, c.endpoint})
		}
	}
	return out
}

// narrowedWindows are the sample's three signed executables for every vendor.
func narrowedWindows(tree string, vendors ...string) []candidate {
	var out []candidate
	for _, v := range vendors {
		out = append(out, candidate{v, native, tree + "/CrashPlanNative.dll"}, candidate{v, svc, tree + "/CrashPlanService.exe"}, candidate{v, desktop, tree + "/electron/CrashPlanDesktop.exe"})
	}
	return out
}

func TestCheckSampleAsGenerated(t *testing.T) {
	cases := []struct {
		name, tree string
		os         profile.OS
		trust      bool
		level      edrpolicy.Criterion
		pins       []string
		want       []finding
		narrowed   []candidate
	}{
		{"windows pinned signer", "windows", "windows", true, edrpolicy.CriterionSigner, []string{samplePin}, []finding{}, nil},
		{"windows hash", "windows", "windows", true, edrpolicy.CriterionHash, nil, []finding{}, nil},
		{"windows path, nothing trusted", "windows", "windows", false, edrpolicy.CriterionPath, nil, []finding{}, nil},
		// Only the renewed certificate pinned: the unchanged DLL, signed with the old one, gets
		// a narrowed signer rule that Falcon and Defender skip; SentinelOne's publisher-name
		// exclusion for the new certificate covers it, since both certificates have the same
		// common name.
		{"v2 windows pinned renewed signer", "v2/windows", "windows", true, edrpolicy.CriterionSigner, []string{"48b9e39aa20a1776e0a15a2eb8df92317cf7199b"}, nil,
			[]candidate{{"crowdstrike", native, "v2/windows/CrashPlanNative.dll"}, {"defender", native, "v2/windows/CrashPlanNative.dll"}}},
		// Unpinned: the narrowed signer rules are skipped by every vendor (generate exits 1),
		// unless the exporters fall back to the files' hashes.
		{"windows unpinned signer", "windows", "windows", true, edrpolicy.CriterionSigner, nil, nil, narrowedWindows("windows", "crowdstrike", "defender", "sentinelone")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeSampleTrusting(t, c.trust, c.tree, c.os, c.level, c.pins...)
			o := verify.Options{Check: pcheck.Options{Roots: []string{filepath.Join(sampleDir, c.tree)}, Inspect: inspectTrusting(t, c.trust)}}
			rep, err := verify.Check(context.Background(), dir, o)
			require.NoError(t, err)
			want := append(append([]finding{}, c.want...), expectGaps(t, dir, c.narrowed)...)
			assert.ElementsMatch(t, want, reduce(rep), "%+v", rep.Findings)
			require.Len(t, rep.Vendors, 3)
			gaps := map[string]int{}
			for _, f := range want {
				gaps[f.Vendor]++
			}
			for _, v := range rep.Vendors {
				assert.Equal(t, 4, v.Executables, v.Vendor)
				assert.Equal(t, 4-gaps[v.Vendor], v.Covered, v.Vendor)
			}
		})
	}
}

// TestCheckSampleEdited: an entry removed from a vendor file (manifest fixed) is exactly one
// finding naming the executable and the vendor; an edit without the manifest fixed is caught
// by the manifest; an entry added by hand is traced.
func TestCheckSampleEdited(t *testing.T) {
	hashOf := func(t *testing.T, dir, file string) string {
		pol, err := edrpolicy.ReadPolicy(filepath.Join(dir, output.PolicyFileName))
		require.NoError(t, err)
		for _, r := range pol.Rules {
			if r.Criterion == edrpolicy.CriterionHash && r.Files[0] == file {
				return r.Value
			}
		}
		t.Fatalf("no hash rule for %s", file)
		return ""
	}
	sha1Of := func(t *testing.T, dir, file string) string {
		pol, err := edrpolicy.ReadPolicy(filepath.Join(dir, output.PolicyFileName))
		require.NoError(t, err)
		for _, r := range pol.Rules {
			if r.Criterion == edrpolicy.CriterionHash && r.Files[0] == file {
				return r.SHA1
			}
		}
		return ""
	}
	cases := []struct {
		name string
		edit func(t *testing.T, dir string)
		want []finding
	}{
		{"defender CSV row removed, manifest fixed", func(t *testing.T, dir string) {
			rewrite(t, dir, "defender-indicators-001.csv", true, dropLine(hashOf(t, dir, uninstall)))
		}, []finding{{"EDR210", "error", "defender", uninstall}}},
		{"defender CSV row removed, manifest not fixed", func(t *testing.T, dir string) {
			rewrite(t, dir, "defender-indicators-001.csv", false, dropLine(hashOf(t, dir, uninstall)))
		}, []finding{{"EDR202", "error", "defender", "defender-indicators-001.csv"}, {"EDR210", "error", "defender", uninstall}}},
		{"falcon IOC removed from the API body", func(t *testing.T, dir string) {
			rewrite(t, dir, "crowdstrike-ioc.json", true, dropJSONObject(hashOf(t, dir, uninstall)))
		}, []finding{{"EDR210", "error", "crowdstrike", uninstall}}},
		{"sentinelone white_hash removed", func(t *testing.T, dir string) {
			rewrite(t, dir, "sentinelone-exclusions.json", true, dropJSONObject(sha1Of(t, dir, uninstall)))
		}, []finding{{"EDR210", "error", "sentinelone", uninstall}}},
		{"defender certificate indicator removed from the API body", func(t *testing.T, dir string) {
			rewrite(t, dir, "defender-indicators.json", true, dropJSONObject(`"CertificateThumbprint"`))
		}, []finding{{"EDR210", "error", "defender", native}, {"EDR210", "error", "defender", svc}, {"EDR210", "error", "defender", desktop}}},
		{"falcon cert exclusion disabled", func(t *testing.T, dir string) {
			rewrite(t, dir, "crowdstrike-cert-exclusions.json", true, func(s string) string { return strings.Replace(s, `"enabled"`, `"disabled"`, 1) })
		}, []finding{{"EDR210", "error", "crowdstrike", native}, {"EDR210", "error", "crowdstrike", svc}, {"EDR210", "error", "crowdstrike", desktop}}},
		{"cache exclusion removed from the script", func(t *testing.T, dir string) {
			rewrite(t, dir, "defender-av-exclusions.ps1", true, dropLine(`'C:\ProgramData\CrashPlan\cache'`))
		}, []finding{{"EDR211", "error", "defender", `C:\ProgramData\CrashPlan\cache\edrpolicy-probe`}}},
		{"broad exclusion added by hand", func(t *testing.T, dir string) {
			rewrite(t, dir, "defender-av-exclusions.ps1", true, func(s string) string { return s + "Add-MpPreference -ExclusionPath '%SystemDrive%\\'\n" })
		}, []finding{{"EDR212", "error", "defender", "defender-av-exclusions.ps1"}}},
		{"foreign IOC added by hand", func(t *testing.T, dir string) {
			rewrite(t, dir, "crowdstrike-ioc.csv", true, func(s string) string {
				return s + "sha256," + strings.Repeat("ab", 32) + ",allow,windows,,true,,,edrpolicy,x,x.exe\n"
			})
		}, []finding{{"EDR212", "error", "crowdstrike", "crowdstrike-ioc.csv"}}},
		{"policy.json removed", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, output.PolicyFileName)))
		}, []finding{{"EDR203", "error", "", output.PolicyFileName}, {"EDR207", "error", "", output.PolicyFileName}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeSample(t, "windows", "windows", edrpolicy.CriterionSigner, samplePin)
			c.edit(t, dir)
			rep := check(t, dir, "windows", verify.Options{})
			assert.ElementsMatch(t, c.want, reduce(rep), "%+v", rep.Findings)
			assert.True(t, rep.Failed())
		})
	}
}

// TestCheckSampleVendorAsked: a vendor asked for that has no files in the folder covers
// nothing; an unknown vendor is an error.
func TestCheckSampleVendorAsked(t *testing.T) {
	dir := writeSample(t, "windows", "windows", edrpolicy.CriterionHash)
	require.NoError(t, os.Remove(filepath.Join(dir, "sentinelone-exclusions.json")))
	rewrite(t, dir, output.ManifestName, false, dropLine("  sentinelone-exclusions.json"))
	rep := check(t, dir, "windows", verify.Options{Vendors: []string{"SentinelOne"}})
	var s1 int
	for _, f := range rep.Findings {
		if f.Vendor == "sentinelone" && f.ID == pcheck.FindingVendorNotCovered {
			s1++
			assert.Contains(t, f.Message, "the folder has no file of this vendor")
		}
	}
	assert.Equal(t, 4, s1)
	_, err := verify.Check(context.Background(), dir, verify.Options{Vendors: []string{"carbonblack"}})
	assert.ErrorContains(t, err, `vendor "carbonblack"`)
}

// TestCheckSampleUpgrade: the 11.1.0 folder checked against the 11.2.0 install: the two new
// builds, signed with a renewed certificate, are not allowed by the policy (EDR101) and so not
// reported again per vendor.
func TestCheckSampleUpgrade(t *testing.T) {
	dir := writeSample(t, "windows", "windows", edrpolicy.CriterionSigner, samplePin)
	rep := check(t, dir, "v2/windows", verify.Options{})
	assert.ElementsMatch(t, []finding{{"EDR101", "error", "", svc}, {"EDR101", "error", "", desktop}}, reduce(rep))
}

// TestCheckSampleMac: unpinned, the Apple signer rule is narrowed to its signing ID, which no
// vendor can express (the macOS scenario); with the Team ID pinned, Falcon (leaf
// certificate) and SentinelOne (publisher name) cover the executable, and a Defender
// certificate indicator would not: Defender applies them on Windows only. Each gap is filled
// only by a fallback hash entry.
func TestCheckSampleMac(t *testing.T) {
	app, local := "/Applications/CrashPlan.app/Contents/MacOS/CrashPlan", "mac/CrashPlan.app/Contents/MacOS/CrashPlan"
	cases := []struct {
		name     string
		pins     []string
		narrowed []candidate
	}{
		{"unpinned", nil, []candidate{{"crowdstrike", app, local}, {"defender", app, local}, {"sentinelone", app, local}}},
		{"team id pinned", []string{"EDRSAMPLE1"}, []candidate{{"defender", app, local}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeSample(t, "mac", "mac", edrpolicy.CriterionSigner, c.pins...)
			rep := check(t, dir, "mac", verify.Options{})
			assert.ElementsMatch(t, expectGaps(t, dir, c.narrowed), reduce(rep), "%+v", rep.Findings)
		})
	}
}
