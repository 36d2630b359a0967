package exporters_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
)

var allVendors = []string{"crowdstrike", "defender", "sentinelone"}

// s1Site is the built-in exporters with SentinelOne scoped to one site.
func s1Site(t testing.TB) *exporters.Registry {
	t.Helper()
	reg, err := exporters.Configured(exporters.Vendors{SentinelOne: sentinelone.Options{SiteIDs: []string{"225494730938493804"}}})
	require.NoError(t, err)
	return reg
}

// byFile indexes a vendor's coverage records by file and rule.
func byFile(t *testing.T, c *exporters.Coverage, vendor string) map[string]exporters.ExecutableCoverage {
	t.Helper()
	out := map[string]exporters.ExecutableCoverage{}
	for _, v := range c.Vendors {
		if v.Vendor != vendor {
			continue
		}
		for _, x := range v.Executables {
			out[fmt.Sprintf("%s#%d", x.File, x.Rule)] = x
		}
		return out
	}
	t.Fatalf("no coverage for %s", vendor)
	return nil
}

// Every executable of the Windows policy, for every vendor: the entry that covers it, which
// is one the vendor really wrote into the named file, and the summary counts.
func TestCoverageWindows(t *testing.T) {
	o := exporters.Options{Digests: tp.Digests(tp.Sum("CrashPlanService.exe"))}
	res, err := exporters.Collect(s1Site(t), tp.Windows(t), allVendors, o)
	require.NoError(t, err)
	const (
		svc    = `C:\Program Files\CrashPlan\CrashPlanService.exe`
		desk   = `C:\Program Files\CrashPlan\CrashPlanDesktop.exe`
		helper = `C:\Program Files\CrashPlan\helper.exe`
	)
	p := tp.Windows(t)
	thumb := p.Rules[1].Signer.ThumbprintSHA1
	want := map[string]map[string]string{ // vendor → file#rule → "kind type value-prefix file fallback?"
		"crowdstrike": {
			svc + "#0":    "hash sha256 " + tp.Sum("CrashPlanService.exe") + " crowdstrike-ioc.json",
			desk + "#1":   "certificate cert-exclusion " + thumb + " crowdstrike-cert-exclusions.json",
			svc + "#1":    "certificate cert-exclusion " + thumb + " crowdstrike-cert-exclusions.json",
			helper + "#2": "hash sha256 " + tp.Sum("helper.exe") + " crowdstrike-ioc.json fallback",
			svc + "#3":    `path ml-exclusion Program Files\CrashPlan\CrashPlanService.exe crowdstrike-ml-exclusions.json`,
		},
		"defender": {
			svc + "#0":    "hash FileSha256 " + tp.Sum("CrashPlanService.exe") + " defender-indicators-001.csv",
			desk + "#1":   "certificate CertificateThumbprint " + thumb + " defender-indicators.json",
			svc + "#1":    "certificate CertificateThumbprint " + thumb + " defender-indicators.json",
			helper + "#2": "hash FileSha256 " + tp.Sum("helper.exe") + " defender-indicators-001.csv fallback",
			svc + "#3":    "path ExclusionPath " + svc + " defender-av-exclusions.ps1",
		},
		"sentinelone": {
			svc + "#0": "hash white_hash " + o.Digests[tp.Sum("CrashPlanService.exe")].SHA1 + " sentinelone-exclusions.json",
			// No publisher-name exclusion without --force (it covers everything signed under
			// the name): the signer rule's files by hash.
			desk + "#1":   "hash white_hash " + tp.FileDigests("CrashPlanDesktop.exe")[0].SHA1 + " sentinelone-exclusions.json fallback",
			svc + "#1":    "hash white_hash " + tp.FileDigests("CrashPlanService.exe")[0].SHA1 + " sentinelone-exclusions.json fallback",
			helper + "#2": "hash white_hash " + tp.FileDigests("helper.exe")[0].SHA1 + " sentinelone-exclusions.json fallback",
			svc + "#3":    "path path " + svc + " sentinelone-exclusions.json",
		},
	}
	written := map[string]bool{}
	for _, e := range res.Entries {
		written[e.Vendor+"|"+e.File+"|"+e.Type+"|"+e.Value] = true
	}
	for vendor, files := range want {
		got := byFile(t, res.Coverage, vendor)
		assert.Len(t, got, len(files), vendor)
		for key, w := range files {
			x, ok := got[key]
			require.True(t, ok, "%s %s", vendor, key)
			require.NotNil(t, x.CoveredBy, "%s %s: %s", vendor, key, x.NotCovered)
			s := fmt.Sprintf("%s %s %s %s", x.CoveredBy.Kind, x.CoveredBy.Type, x.CoveredBy.Value, x.CoveredBy.File)
			if x.Fallback != "" {
				s += " fallback"
			}
			assert.Equal(t, w, s, "%s %s", vendor, key)
			assert.True(t, written[vendor+"|"+x.CoveredBy.File+"|"+x.CoveredBy.Type+"|"+x.CoveredBy.Value], "the covering entry is one the vendor wrote")
			assert.Contains(t, filesOf(res), x.CoveredBy.File)
			assert.Len(t, x.SHA256, 64, "%s %s", vendor, key)
		}
	}
	for _, v := range res.Coverage.Vendors {
		want := exporters.CoverageSummary{Executables: 5, Hash: 2, Certificate: 2, Path: 1, Fallback: 1}
		if v.Vendor == "sentinelone" {
			want = exporters.CoverageSummary{Executables: 5, Hash: 4, Certificate: 0, Path: 1, Fallback: 3}
		}
		assert.Equal(t, want, v.Summary, v.Vendor)
	}
	assert.Equal(t, "defender: 5 executables: 2 by hash, 2 by certificate, 1 by path, 1 fallback, 0 NOT COVERED", res.Coverage.Vendors[1].Line())
	assert.Equal(t, 0, res.Coverage.NotCovered())

	// coverage.json is the last file, decodes strictly, and is the same bytes on a re-run.
	last := res.Files[len(res.Files)-1]
	require.Equal(t, exporters.CoverageFileName, last.Name)
	var c exporters.Coverage
	dec := json.NewDecoder(bytes.NewReader(last.Data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&c))
	assert.Equal(t, *res.Coverage, c)
	again, err := exporters.Collect(s1Site(t), tp.Windows(t), allVendors, o)
	require.NoError(t, err)
	assert.Equal(t, last.Data, again.Files[len(again.Files)-1].Data)
}

func filesOf(res *exporters.Result) []string {
	var out []string
	for _, f := range res.Files {
		out = append(out, f.Name)
	}
	return out
}

// A file no entry covers: not_covered with the reason, counted, and an export-skipped warning
// naming the vendor and the file.
func TestCoverageNotCovered(t *testing.T) {
	p := tp.Windows(t)
	p.Rules[2].FileDigests = nil // the narrowed signer rule: nothing to fall back to
	res, err := exporters.Collect(s1Site(t), p, []string{"sentinelone"}, exporters.Options{})
	require.NoError(t, err)
	got := byFile(t, res.Coverage, "sentinelone")
	svc := got[`C:\Program Files\CrashPlan\CrashPlanService.exe#0`]
	assert.Nil(t, svc.CoveredBy)
	assert.Contains(t, svc.NotCovered, "S1 hash exclusions take SHA-1")
	helper := got[`C:\Program Files\CrashPlan\helper.exe#2`]
	assert.Contains(t, helper.NotCovered, "the policy holds no digests of the rule's files")
	assert.Equal(t, 2, res.Coverage.Vendors[0].Summary.NotCovered)
	var skipped []string
	for _, w := range res.Warnings {
		if w.Code == exporters.WarnSkipped {
			assert.True(t, strings.HasPrefix(w.Message, "sentinelone: "), w.Message)
			assert.Contains(t, w.Message, "NOT COVERED")
			skipped = append(skipped, w.Files...)
		}
	}
	assert.Equal(t, []string{`C:\Program Files\CrashPlan\CrashPlanService.exe`, `C:\Program Files\CrashPlan\helper.exe`}, skipped)

	// --format csv: Defender writes no certificate entry anywhere, so the signer rule's
	// files are not covered, and the reason says so.
	res, err = exporters.Collect(exporters.Default(), tp.Windows(t), []string{"defender"}, exporters.Options{Formats: []string{"csv"}})
	require.NoError(t, err)
	desk := byFile(t, res.Coverage, "defender")[`C:\Program Files\CrashPlan\CrashPlanDesktop.exe#1`]
	assert.Contains(t, desk.NotCovered, "(formats)")
}

// An executable's exact path holding a character some vendor reads as pattern syntax (in the
// file name or a folder name, on every OS): each vendor writes a path entry only where the
// character is literal in its pattern language, and otherwise the file's hash, with the
// reason. The policy's own '*' stays a wildcard everywhere.
func TestPatternCharactersPerVendor(t *testing.T) {
	type want struct{ cs, def, s1 string } // "path" or "hash"; "refused": the guardrails refuse the rule
	refused := want{"refused", "refused", "refused"}
	cases := []struct {
		name string
		c    string
		win  want
		nix  want
	}{
		{"question mark", "?", want{"hash", "hash", "path"}, want{"hash", "hash", "path"}},
		{"open bracket", "[", want{"hash", "path", "path"}, want{"hash", "path", "path"}},
		{"close bracket", "]", want{"hash", "path", "path"}, want{"hash", "path", "path"}},
		{"braces", "{a,b}", want{"hash", "path", "path"}, want{"hash", "path", "path"}},
		{"percent pair", "%TEMP%", refused, want{"path", "path", "path"}}, // a temp folder on Windows
		{"single percent", "100%", want{"hash", "hash", "hash"}, want{"path", "path", "path"}},
		{"double star", "**", refused, refused},
		{"escape", "\x1b[2J", want{"hash", "hash", "hash"}, want{"hash", "hash", "hash"}},
		{"carriage return", "a\rb", want{"hash", "hash", "hash"}, want{"hash", "hash", "hash"}},
		{"line feed", "a\nb", want{"hash", "hash", "hash"}, want{"hash", "hash", "hash"}},
		{"delete", "a\x7fb", want{"hash", "hash", "hash"}, want{"hash", "hash", "hash"}},
		{"C1 NEL", "a\u0085b", want{"hash", "hash", "hash"}, want{"hash", "hash", "hash"}},
		{"C1 CSI", "a\u009bb", want{"hash", "hash", "hash"}, want{"hash", "hash", "hash"}},
		{"not UTF-8", "a\xffb", want{"hash", "hash", "hash"}, want{"hash", "hash", "hash"}},
		{"policy wildcard", "*", want{"path", "path", "path"}, want{"path", "path", "path"}},
		{"plain", "plain name (x86)", want{"path", "path", "path"}, want{"path", "path", "path"}},
	}
	for _, c := range cases {
		for _, plat := range []profile.OS{"windows", "linux", "mac"} {
			w := c.nix
			root, sep := "/opt/app", "/"
			if plat == "windows" {
				w, root, sep = c.win, `C:\Program Files\App`, `\`
			}
			for _, where := range []string{"file", "folder"} {
				file := root + sep + c.c + ".exe"
				if where == "folder" {
					file = root + sep + c.c + sep + "tool.exe"
				}
				t.Run(fmt.Sprintf("%s/%s/%s", c.name, plat, where), func(t *testing.T) {
					p := &edrpolicy.Policy{SchemaVersion: edrpolicy.SchemaVersion, Profile: "x", OS: plat, Level: edrpolicy.CriterionPath,
						Rules: []edrpolicy.Rule{{Criterion: edrpolicy.CriterionPath, Value: file, Platform: plat, Role: "executable", Match: edrpolicy.MatchFile,
							Files: []string{file}, FileDigests: tp.FileDigests(file), Reason: "test"}}}
					res, err := exporters.Collect(s1Site(t), p, allVendors, exporters.Options{})
					if w == refused {
						var ge *edrpolicy.GuardrailError
						require.ErrorAs(t, err, &ge, "the guardrails refuse %q", file)
						return
					}
					require.NoError(t, err)
					for vendor, kind := range map[string]string{"crowdstrike": w.cs, "defender": w.def, "sentinelone": w.s1} {
						x := byFile(t, res.Coverage, vendor)[file+"#0"]
						require.NotNil(t, x.CoveredBy, "%s: %s", vendor, x.NotCovered)
						assert.Equal(t, kind, string(x.CoveredBy.Kind), vendor)
						if kind == "hash" {
							assert.NotEmpty(t, x.Fallback, vendor)
							continue
						}
						assert.Empty(t, x.Fallback, vendor)
						assert.Contains(t, x.CoveredBy.Value, c.c, "%s: the name is written literally", vendor)
					}
					for _, e := range res.Entries {
						if e.Kind == exporters.EntryPath && strings.ContainsFunc(e.Value, isControl) {
							t.Errorf("%s %s: a control character in a path entry: %q", e.Vendor, e.File, e.Value)
						}
					}
				})
			}
		}
	}
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0 || r == 0xfffd }
