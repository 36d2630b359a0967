package exporters_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
	"github.com/edrpolicy/edrpolicy/hashing"
)

// tenantRegistry is the built-in exporters with SentinelOne given tenant-wide scope, as a
// library user configures them.
func tenantRegistry(t testing.TB) *exporters.Registry {
	t.Helper()
	reg, err := exporters.Configured(exporters.Vendors{SentinelOne: sentinelone.Options{Tenant: true}})
	require.NoError(t, err)
	return reg
}

func TestDefaultIsFresh(t *testing.T) {
	a, b := exporters.Default(), exporters.Default()
	require.NoError(t, a.Register(lineCount{}))
	assert.Equal(t, []string{"crowdstrike", "defender", "sentinelone"}, b.Names(), "registering on one registry does not change another")
	assert.Error(t, a.Register(lineCount{}), "duplicate")
	assert.Error(t, a.Register(nil))
	_, ok := a.Lookup("lines")
	assert.True(t, ok)
}

type badName struct{ lineCount }

func (badName) Name() string { return "Bad Name" }

func TestRegisterName(t *testing.T) {
	assert.ErrorContains(t, exporters.NewRegistry().Register(badName{}), `name "Bad Name"`)
}

func TestExportErrors(t *testing.T) {
	reg := exporters.Default()
	p := examplePolicy()
	_, _, err := exporters.Export(reg, p, []string{"carbonblack"}, exporters.Options{})
	assert.ErrorContains(t, err, `vendor "carbonblack": unknown; known vendors: crowdstrike, defender, sentinelone`)
	_, _, err = exporters.Export(reg, p, nil, exporters.Options{})
	assert.ErrorContains(t, err, "no vendor")
	_, _, err = exporters.Export(reg, p, []string{"sentinelone"}, exporters.Options{Formats: []string{"csv"}})
	assert.ErrorContains(t, err, `format "csv": not written by sentinelone`)
	_, _, err = exporters.Export(reg, p, []string{"sentinelone"}, exporters.Options{})
	assert.ErrorContains(t, err, "sentinelone: no scope")
	_, _, err = exporters.Export(nil, p, []string{"defender"}, exporters.Options{})
	assert.Error(t, err)
}

type clash struct{ lineCount }

func (clash) Name() string { return "clash" }

func TestExportNameClash(t *testing.T) {
	reg := exporters.NewRegistry()
	require.NoError(t, reg.Register(lineCount{}))
	require.NoError(t, reg.Register(clash{}))
	_, _, err := exporters.Export(reg, examplePolicy(), []string{"lines", "clash"}, exporters.Options{})
	assert.ErrorContains(t, err, "lines and clash both write lines.txt")
}

func TestFormatsFilter(t *testing.T) {
	files, _, err := exporters.Export(exporters.Default(), examplePolicy(), []string{"defender", "crowdstrike"}, exporters.Options{Formats: []string{"csv"}})
	require.NoError(t, err)
	var names []string
	for _, f := range files {
		names = append(names, f.Name)
	}
	assert.Equal(t, []string{"defender-indicators-001.csv", "crowdstrike-ioc.csv", "coverage.json"}, names)
}

func TestDigestsFromInventory(t *testing.T) {
	inv := &edrpolicy.Inventory{Files: []edrpolicy.FileEvidence{
		{Path: "a", Digests: hashing.Digests{SHA256: "AB", SHA1: "cd"}},
		{Path: "b"},
	}}
	got := exporters.DigestsFromInventory(inv)
	assert.Equal(t, map[string]hashing.Digests{"ab": {SHA256: "AB", SHA1: "cd"}}, got)
	assert.Empty(t, exporters.DigestsFromInventory(nil))
}

// A hand-edited policy cannot carry a path rule the guardrails refuse into a vendor file: it is
// refused unless the export itself is forced. A guardrail-forced warning written into the
// policy (by generate --force, or by hand) does not count.
func TestExportGuardrails(t *testing.T) {
	reg := exporters.Default()
	p := &edrpolicy.Policy{SchemaVersion: edrpolicy.SchemaVersion, Profile: "code42", OS: "windows", Level: edrpolicy.CriterionPath,
		Rules: []edrpolicy.Rule{
			{Criterion: edrpolicy.CriterionPath, Value: `C:\`, Match: edrpolicy.MatchSubfolders, Platform: "windows", Role: "cache", Files: []string{`C:\`}},
			{Criterion: edrpolicy.CriterionPath, Value: `C:\Windows\Temp\x`, Match: edrpolicy.MatchFolder, Platform: "windows", Role: "cache", Files: []string{`C:\Windows\Temp\x`}},
			{Criterion: edrpolicy.CriterionPath, Value: `C:\ProgramData\CrashPlan\cache`, Match: edrpolicy.MatchSubfolders, Platform: "windows", Role: "cache", Files: []string{`C:\ProgramData\CrashPlan\cache`}},
		}}
	_, _, err := exporters.Export(reg, p, []string{"defender"}, exporters.Options{})
	require.Error(t, err)
	assert.ErrorContains(t, err, "refused 2 path rule(s)")
	assert.ErrorContains(t, err, `C:\`)
	assert.ErrorContains(t, err, `C:\Windows\Temp\x`)
	assert.ErrorContains(t, err, "force it")

	files, warns, err := exporters.Export(reg, p, []string{"defender"}, exporters.Options{Force: true})
	require.NoError(t, err)
	assert.NotEmpty(t, files)
	var forced []string
	for _, w := range warns {
		if w.Code == edrpolicy.WarnGuardrailForced {
			forced = append(forced, w.Files...)
		}
	}
	assert.Equal(t, []string{`C:\`, `C:\Windows\Temp\x`}, forced)

	// The policy's own guardrail-forced warnings are not trusted: still refused.
	p.Warnings = []edrpolicy.Warning{{Code: edrpolicy.WarnGuardrailForced, Files: []string{`C:\`}}, {Code: edrpolicy.WarnGuardrailForced, Files: []string{`C:\Windows\Temp\x`}}}
	_, _, err = exporters.Export(reg, p, []string{"defender"}, exporters.Options{})
	var ge *edrpolicy.GuardrailError
	require.ErrorAs(t, err, &ge)
	assert.Len(t, ge.Refusals, 2)
}
