package crowdstrike_test

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/crowdstrike"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func export(t *testing.T, p *edrpolicy.Policy, o core.Options) (map[string][]byte, []edrpolicy.Warning) {
	t.Helper()
	return exportWith(t, crowdstrike.Options{}, p, o)
}

// exportWith is export with the exporter configured by cs.
func exportWith(t *testing.T, cs crowdstrike.Options, p *edrpolicy.Policy, o core.Options) (map[string][]byte, []edrpolicy.Warning) {
	t.Helper()
	return tp.Export(t, crowdstrike.New(cs), p, o)
}

func TestGolden(t *testing.T) {
	group := "0123456789abcdef0123456789abcdef"
	cases := []struct {
		name string
		p    *edrpolicy.Policy
		o    core.Options
		cs   crowdstrike.Options
	}{
		{"windows", tp.Windows(t), core.Options{}, crowdstrike.Options{}},
		{"windows-groups-md5-expiry", tp.Windows(t), core.Options{Expiration: "rule", Digests: tp.Digests(tp.Sum("CrashPlanService.exe"))},
			crowdstrike.Options{HostGroups: []string{strings.ToUpper(group)}, Action: "no_action", MD5: true, ExcludedFrom: []string{"blocking", "extraction"}}},
		{"mac", tp.Mac(t), core.Options{Expiration: "2026-06-30"}, crowdstrike.Options{}},
		{"linux", tp.Linux(), core.Options{Force: true}, crowdstrike.Options{}},
		{"tricky", tp.TrickyNames(), core.Options{Force: true}, crowdstrike.Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files, _, err := tp.Run(crowdstrike.New(c.cs), c.p, c.o)
			require.NoError(t, err)
			tp.Golden(t, c.name, files, *update)
		})
	}
}

// TestParseBack decodes every JSON file into the documented field set, rejecting unknown
// fields, and checks the CSV header.
func TestParseBack(t *testing.T) {
	files, warns := export(t, tp.Windows(t), core.Options{Expiration: "rule"})
	require.Contains(t, files, "crowdstrike-ioc.json")
	require.Contains(t, files, "crowdstrike-ioc.csv")
	require.Contains(t, files, "crowdstrike-ml-exclusions.json")
	require.Contains(t, files, "crowdstrike-cert-exclusions.json")

	var body crowdstrike.IOCBody
	strict(t, files["crowdstrike-ioc.json"], &body)
	require.Len(t, body.Indicators, 2, "the hash rule, and the narrowed signer rule's file by hash")
	ind := body.Indicators[0]
	assert.Equal(t, "sha256", ind.Type)
	assert.Equal(t, tp.Sum("CrashPlanService.exe"), ind.Value)
	assert.Equal(t, "allow", ind.Action)
	assert.Equal(t, []string{"windows"}, ind.Platforms)
	assert.True(t, ind.AppliedGlobally)
	assert.Empty(t, ind.Severity, "allow takes no severity")
	assert.Empty(t, ind.Expiration, "hash rule without governance expiry")
	for _, want := range []string{"edrpolicy: code42 crashplan;", `C:\Program Files\CrashPlan\CrashPlanService.exe`, "reason: hash level"} {
		assert.Contains(t, ind.Description, want)
	}
	assert.NotContains(t, ind.Description, "11.4.1", "no per-run fact in an entry")
	assert.NotContains(t, body.Comment, "11.4.1")
	assert.Equal(t, "edrpolicy", ind.Source)
	assert.Equal(t, "CrashPlanService.exe", ind.Metadata.Filename)
	fb := body.Indicators[1]
	assert.Equal(t, tp.Sum("helper.exe"), fb.Value, "the narrowed signer rule's file, by its SHA-256")
	assert.Equal(t, "helper.exe", fb.Metadata.Filename)
	assert.Contains(t, fb.Description, "fallback: the rule is narrowed to its files, and a Falcon certificate exclusion covers everything the certificate signs")

	var mls []crowdstrike.MLExclusion
	strict(t, files["crowdstrike-ml-exclusions.json"], &mls)
	var values []string
	for _, m := range mls {
		values = append(values, m.Value)
		assert.Equal(t, []string{"all"}, m.Groups)
		assert.Equal(t, []string{"blocking"}, m.ExcludedFrom)
		assert.Contains(t, m.Comment, "edrpolicy: code42 crashplan;")
	}
	assert.Equal(t, []string{`Program Files\CrashPlan\CrashPlanService.exe`, `ProgramData\CrashPlan\cache\**`, `Users\*\AppData\Local\CrashPlan\log\*`}, values)

	var certs crowdstrike.CertExclusions
	strict(t, files["crowdstrike-cert-exclusions.json"], &certs)
	require.Len(t, certs.Exclusions, 1, "the narrowed signer rule is not a certificate exclusion")
	c := certs.Exclusions[0]
	assert.Contains(t, c.Description, "certificate SHA-256: "+tp.Windows(t).Rules[1].Signer.ThumbprintSHA256)
	assert.NotContains(t, c.Comment, "rule 2", "no rule position in an entry: it moves when rules are added")
	assert.Equal(t, "enabled", c.Status)
	assert.True(t, c.AppliedGlobally)
	assert.Len(t, c.Certificate.Thumbprint, 40)
	assert.Equal(t, "2024-01-01T00:00:00Z", c.Certificate.ValidFrom)
	assert.Equal(t, "2027-01-01T00:00:00Z", c.Certificate.ValidTo)
	for _, f := range []string{c.Certificate.Issuer, c.Certificate.Subject, c.Certificate.Serial} {
		assert.NotEmpty(t, f)
	}

	rows, err := csv.NewReader(bytes.NewReader(files["crowdstrike-ioc.csv"])).ReadAll()
	require.NoError(t, err)
	assert.Equal(t, crowdstrike.CSVHeader, rows[0])
	assert.Len(t, rows, 3)

	assert.False(t, hasWarning(warns, core.WarnSkipped, ""), "nothing skipped")
	assert.True(t, hasWarning(warns, core.WarnFallback, `rules[2] (signer "`+c.Certificate.Thumbprint+`"): the rule is narrowed to its files`), "narrowed signer rule")
	assert.True(t, hasWarning(warns, core.WarnUnconfirmed, "GET /exclusions/entities/certificates/v1?ids="+tp.Sum("CrashPlanDesktop.exe")), "how to check the certificate fields")
	assert.True(t, hasWarning(warns, core.WarnUnconfirmed, "column headers are UNCONFIRMED"))
	assert.True(t, hasWarning(warns, core.WarnUnconfirmed, "glob semantics are UNCONFIRMED"))
}

func TestHostGroupsAndMD5(t *testing.T) {
	sum := tp.Sum("CrashPlanService.exe")
	files, _ := tp.Export(t, crowdstrike.New(crowdstrike.Options{HostGroups: []string{"0123456789ABCDEF0123456789ABCDEF"}, MD5: true}),
		tp.Windows(t), core.Options{Digests: tp.Digests(sum)})
	var body crowdstrike.IOCBody
	strict(t, files["crowdstrike-ioc.json"], &body)
	require.Len(t, body.Indicators, 4, "sha256 and md5 of the hash rule, and of the narrowed signer rule's file (its md5 from file_digests)")
	assert.Equal(t, "md5", body.Indicators[1].Type)
	assert.Len(t, body.Indicators[1].Value, 32)
	assert.Equal(t, tp.FileDigests("helper.exe")[0].MD5, body.Indicators[3].Value)
	for _, ind := range body.Indicators {
		assert.False(t, ind.AppliedGlobally)
		assert.Equal(t, []string{"0123456789abcdef0123456789abcdef"}, ind.HostGroups)
		assert.NotEqual(t, "sha1", ind.Type, "Falcon has no sha1 IOC type")
	}
	var mls []crowdstrike.MLExclusion
	strict(t, files["crowdstrike-ml-exclusions.json"], &mls)
	assert.Equal(t, []string{"0123456789abcdef0123456789abcdef"}, mls[0].Groups)
}

func TestMacTeamIDFallback(t *testing.T) {
	files, warns := export(t, tp.Mac(t), core.Options{})
	var certs crowdstrike.CertExclusions
	strict(t, files["crowdstrike-cert-exclusions.json"], &certs)
	require.Len(t, certs.Exclusions, 1)
	assert.True(t, hasWarning(warns, core.WarnFallback, "not an Apple Team ID"))
	var mls []crowdstrike.MLExclusion
	strict(t, files["crowdstrike-ml-exclusions.json"], &mls)
	assert.Equal(t, "/Library/Caches/CrashPlan/**", mls[0].Value)
}

func TestSplitAt2000(t *testing.T) {
	files, _ := export(t, tp.Hashes(4100), core.Options{Formats: []string{"json"}})
	require.NotContains(t, files, "crowdstrike-ioc.json")
	for name, n := range map[string]int{"crowdstrike-ioc-001.json": 2000, "crowdstrike-ioc-002.json": 2000, "crowdstrike-ioc-003.json": 100} {
		var body crowdstrike.IOCBody
		strict(t, files[name], &body)
		assert.Len(t, body.Indicators, n, name)
	}
	assert.Len(t, files, 3, "json only: no CSV")
}

func TestGlobMetacharactersFallBackToHash(t *testing.T) {
	files, warns := export(t, tp.Linux(), core.Options{Force: true})
	var mls []crowdstrike.MLExclusion
	strict(t, files["crowdstrike-ml-exclusions.json"], &mls)
	for _, m := range mls {
		assert.NotContains(t, m.Value, "?")
	}
	var body crowdstrike.IOCBody
	strict(t, files["crowdstrike-ioc.json"], &body)
	assert.Equal(t, tp.Sum("what?.bin"), body.Indicators[1].Value)
	assert.True(t, hasWarning(warns, core.WarnFallback, `"/opt/what?.bin"): the path holds '?'`))
}

func TestTrickyNamesSurvive(t *testing.T) {
	files, _ := export(t, tp.TrickyNames(), core.Options{Force: true})
	var body crowdstrike.IOCBody
	strict(t, files["crowdstrike-ioc.json"], &body)
	rows, err := csv.NewReader(bytes.NewReader(files["crowdstrike-ioc.csv"])).ReadAll()
	require.NoError(t, err)
	var mls []crowdstrike.MLExclusion
	strict(t, files["crowdstrike-ml-exclusions.json"], &mls)
	var values []string
	for _, m := range mls {
		values = append(values, m.Value)
	}
	for i, n := range tp.Tricky {
		assert.Equal(t, n, body.Indicators[i].Metadata.Filename)
		assert.Contains(t, body.Indicators[i].Description, `C:\Apps\`+n)
		assert.Equal(t, core.CSVCell(n), rows[i+1][10], "CSV file name cell")
		assert.Contains(t, rows[i+1][9], n)
		if strings.ContainsAny(n, "\n\r") {
			assert.NotContains(t, values, `Apps\`+n, "a control character: no ML exclusion")
			continue
		}
		assert.Contains(t, values, `Apps\`+n)
		assert.Contains(t, values, "/opt/apps/"+n)
	}
	for _, row := range rows[1:] {
		for _, cell := range row {
			if cell != "" {
				assert.NotContains(t, "=+-@\t\r", cell[:1], "cell %q would run as a formula", cell)
			}
		}
	}
}

func TestErrors(t *testing.T) {
	bad := tp.Windows(t)
	bad.Rules[0].Value = "ABC"
	for name, c := range map[string]struct {
		p     *edrpolicy.Policy
		o     core.Options
		cs    crowdstrike.Options
		want  string
		field string // the *edrpolicy.OptionError's Field, for an option refused
	}{
		"group":    {tp.Windows(t), core.Options{}, crowdstrike.Options{HostGroups: []string{"all"}}, `CrowdStrike.HostGroups "all": want a 32-hex Falcon host group ID`, "CrowdStrike.HostGroups"},
		"action":   {tp.Windows(t), core.Options{}, crowdstrike.Options{Action: "prevent"}, `CrowdStrike.Action "prevent": an exception takes allow or no_action`, "CrowdStrike.Action"},
		"excluded": {tp.Windows(t), core.Options{}, crowdstrike.Options{ExcludedFrom: []string{"blocking", "everything"}}, `CrowdStrike.ExcludedFrom "everything"`, "CrowdStrike.ExcludedFrom"},
		"hash":     {bad, core.Options{}, crowdstrike.Options{}, `rules[0] (hash "ABC"): sha256 "ABC" is 3 characters, want 64 hex digits`, ""},
		"expiry":   {tp.Windows(t), core.Options{Expiration: "soon"}, crowdstrike.Options{}, `expiration "soon"`, ""},
		"source":   {tp.Windows(t), core.Options{}, crowdstrike.Options{Source: strings.Repeat("x", 257)}, "CrowdStrike.Source: 257 characters, Falcon takes 1 to 256", "CrowdStrike.Source"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := tp.Run(crowdstrike.New(c.cs), c.p, c.o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			if c.field == "" {
				return
			}
			var oe *edrpolicy.OptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, c.field, oe.Field)
			assert.EqualError(t, c.cs.Validate(), err.Error(), "Validate refuses what Export refuses, before any policy")
		})
	}
}

func TestEmptyFilesNotWritten(t *testing.T) {
	p := tp.Linux()
	p.Rules = p.Rules[:1]
	files, _ := export(t, p, core.Options{})
	assert.Equal(t, []string{"crowdstrike-ioc.csv", "crowdstrike-ioc.json"}, keys(files))
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

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sortStrings(out)
	return out
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}
