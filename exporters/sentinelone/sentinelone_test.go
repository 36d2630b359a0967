package sentinelone_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
	"github.com/edrpolicy/edrpolicy/output"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var site = sentinelone.Options{SiteIDs: []string{"225494730938493804"}}

func TestGolden(t *testing.T) {
	cases := []struct {
		name string
		p    *edrpolicy.Policy
		o    core.Options
		so   sentinelone.Options
	}{
		// Force: the publisher-name certificate exclusion is written (TestPublisherRefused
		// covers the default).
		{"windows", tp.Windows(t), core.Options{Digests: tp.Digests(tp.Sum("CrashPlanService.exe")), Force: true}, site},
		{"windows-nosha1", tp.Windows(t), core.Options{}, sentinelone.Options{GroupIDs: []string{"225494730938493915"}, Mode: "disable_in_process_monitor"}},
		{"mac-sha256", tp.Mac(t), core.Options{Force: true}, sentinelone.Options{Tenant: true, SHA256: true}},
		{"linux", tp.Linux(), core.Options{Force: true, Digests: tp.Digests(tp.Sum("CrashPlanService-linux"))}, sentinelone.Options{AccountIDs: []string{"1"}, SiteIDs: []string{"2"}}},
		{"tricky", tp.TrickyNames(), core.Options{Force: true}, site},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp.Export(t, sentinelone.New(c.so), c.p, c.o) // same bytes twice
			files, _, err := tp.Run(sentinelone.New(c.so), c.p, c.o)
			require.NoError(t, err)
			tp.Golden(t, c.name, files, *update)
		})
	}
}

func bodies(t *testing.T, files []output.File) []sentinelone.Body {
	t.Helper()
	require.Len(t, files, 1)
	require.Equal(t, sentinelone.FileName, files[0].Name)
	var out []sentinelone.Body
	dec := json.NewDecoder(bytes.NewReader(files[0].Data))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&out))
	return out
}

func TestParseBack(t *testing.T) {
	sum := tp.Sum("CrashPlanService.exe")
	dg := tp.Digests(sum)
	files, warns, err := tp.Run(sentinelone.New(site), tp.Windows(t), core.Options{Digests: dg, Force: true})
	require.NoError(t, err)
	bs := bodies(t, files)
	var types []string
	for _, b := range bs {
		types = append(types, b.Data.Type+"/"+b.Data.PathExclusionType)
		assert.Equal(t, []string{"225494730938493804"}, b.Filter.SiteIDs)
		assert.False(t, b.Filter.Tenant)
		assert.Equal(t, "windows", b.Data.OSType)
		assert.True(t, strings.HasPrefix(b.Data.Description, "edrpolicy: code42 crashplan;"), b.Data.Description)
		assert.NotContains(t, b.Data.Description, "11.4.1", "no per-run fact in an entry")
	}
	assert.Equal(t, []string{"white_hash/", "certificate/", "white_hash/", "path/file", "path/subfolders", "path/folder"}, types)
	assert.Equal(t, dg[sum].SHA1, bs[0].Data.Value, "white_hash takes the SHA-1")
	assert.Equal(t, "Code42 Software, Inc.", bs[1].Data.Value)
	assert.Equal(t, tp.FileDigests("helper.exe")[0].SHA1, bs[2].Data.Value, "the narrowed signer rule's file by its SHA-1 (file_digests)")
	assert.Contains(t, bs[2].Data.Description, "fallback: the rule is narrowed to its files, and an S1 certificate exclusion covers everything the publisher signs")
	assert.Equal(t, `C:\ProgramData\CrashPlan\cache\`, bs[4].Data.Value)
	assert.Equal(t, "suppress", bs[4].Data.Mode)
	assert.Empty(t, bs[1].Data.Mode, "mode is for path exclusions only")
	assert.False(t, hasWarning(warns, core.WarnSkipped, ""))
	assert.True(t, hasWarning(warns, core.WarnFallback, "the rule is narrowed to its files"))
	assert.True(t, hasWarning(warns, core.WarnUnconfirmed, "UNCONFIRMED"))
}

func TestHashWithoutSHA1(t *testing.T) {
	files, warns, err := tp.Run(sentinelone.New(site), tp.Windows(t), core.Options{})
	require.NoError(t, err)
	for _, b := range bodies(t, files) {
		if b.Data.Type == "white_hash" {
			assert.NotContains(t, b.Data.Description, "hash rule", "no SHA-1 known for the hash rule: no white_hash for it")
		}
	}
	assert.True(t, hasWarning(warns, core.WarnSkipped, `sentinelone: rules[0] (hash "`+tp.Sum("CrashPlanService.exe")+`") not exported, C:\Program Files\CrashPlan\CrashPlanService.exe NOT COVERED: S1 hash exclusions take SHA-1`))

	files, warns, err = tp.Run(sentinelone.New(sentinelone.Options{Tenant: true, SHA256: true}), tp.Windows(t), core.Options{})
	require.NoError(t, err)
	bs := bodies(t, files)
	assert.Equal(t, tp.Sum("CrashPlanService.exe"), bs[0].Data.Value)
	assert.True(t, bs[0].Filter.Tenant)
	assert.True(t, hasWarning(warns, core.WarnFallback, "UNCONFIRMED"))
}

func TestMacCertificate(t *testing.T) {
	files, warns, err := tp.Run(sentinelone.New(site), tp.Mac(t), core.Options{Force: true})
	require.NoError(t, err)
	bs := bodies(t, files)
	var found bool
	for _, b := range bs {
		assert.Equal(t, "macos", b.Data.OSType)
		if b.Data.Type == "certificate" {
			found = true
			assert.Equal(t, "Developer ID Application: Code42 Software, Inc (9YV9435DHD)", b.Data.Value)
		}
	}
	assert.True(t, found)
	assert.True(t, hasWarning(warns, core.WarnFallback, "macOS is UNCONFIRMED"))
}

// TestPublisherRefused: without Force, a signer rule is not written as a publisher-name
// certificate exclusion (it covers everything signed under that name): its files' hashes
// are, with a fallback warning; with Force the exclusion is written with a note.
func TestPublisherRefused(t *testing.T) {
	for _, p := range []*edrpolicy.Policy{tp.Windows(t), tp.Mac(t)} {
		files, warns, err := tp.Run(sentinelone.New(sentinelone.Options{Tenant: true, SHA256: true}), p, core.Options{})
		require.NoError(t, err)
		for _, b := range bodies(t, files) {
			assert.NotEqual(t, "certificate", b.Data.Type, b.Data.Value)
		}
		assert.True(t, hasWarning(warns, core.WarnFallback, "covers everything signed under that name"), p.OS)
		files, warns, err = tp.Run(sentinelone.New(sentinelone.Options{Tenant: true, SHA256: true}), p, core.Options{Force: true})
		require.NoError(t, err)
		n := 0
		for _, b := range bodies(t, files) {
			if b.Data.Type == "certificate" {
				n++
			}
		}
		assert.Equal(t, 1, n, p.OS)
		assert.True(t, hasWarning(warns, core.WarnNote, "written because the export was forced"), p.OS)
	}
}

func TestTrickyNamesSurvive(t *testing.T) {
	files, _, err := tp.Run(sentinelone.New(site), tp.TrickyNames(), core.Options{Force: true})
	require.NoError(t, err)
	bs := bodies(t, files)
	require.Len(t, bs, 2*len(tp.Tricky))
	values := map[string]sentinelone.Data{}
	for _, b := range bs {
		values[b.Data.Value] = b.Data
	}
	for _, n := range tp.Tricky {
		if strings.ContainsAny(n, "\n\r") {
			// A control character: no path exclusion names it exactly; the file by its SHA-1.
			d, ok := values[tp.FileDigests(n)[0].SHA1]
			require.True(t, ok, "%q by hash", n)
			assert.Contains(t, d.Description, "control character U+000A")
			continue
		}
		for _, v := range []string{`C:\Apps\` + n, "/opt/apps/" + n} {
			d, ok := values[v]
			require.True(t, ok, "%q", v)
			assert.Equal(t, "path", d.Type)
			assert.Contains(t, d.Description, n)
		}
	}
}

func TestErrors(t *testing.T) {
	for name, c := range map[string]struct {
		o     sentinelone.Options
		want  string
		field string // the *edrpolicy.OptionError's Field, for an option refused on its own
	}{
		"no scope": {sentinelone.Options{}, "no scope", ""},
		"both":     {sentinelone.Options{Tenant: true, SiteIDs: []string{"1"}}, "SentinelOne.Tenant: tenant-wide scope takes no account, site or group IDs", "SentinelOne.Tenant"},
		"bad id":   {sentinelone.Options{GroupIDs: []string{"abc"}}, `SentinelOne.GroupIDs "abc": SentinelOne IDs are decimal digits`, "SentinelOne.GroupIDs"},
		"bad mode": {sentinelone.Options{Tenant: true, Mode: "ignore"}, `SentinelOne.Mode "ignore": want one of suppress,`, "SentinelOne.Mode"},
		"empty id": {sentinelone.Options{SiteIDs: []string{""}}, `SentinelOne.SiteIDs: an empty ID`, "SentinelOne.SiteIDs"},
		"account":  {sentinelone.Options{AccountIDs: []string{"1", "x1"}}, `SentinelOne.AccountIDs "x1"`, "SentinelOne.AccountIDs"},
	} {
		t.Run(name, func(t *testing.T) {
			_, _, err := tp.Run(sentinelone.New(c.o), tp.Windows(t), core.Options{})
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
			if c.field == "" {
				assert.ErrorIs(t, err, sentinelone.ErrNoScope)
				assert.NoError(t, c.o.Validate(), "a missing scope is checked when exporting, not by Validate")
				return
			}
			var oe *edrpolicy.OptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, c.field, oe.Field)
			assert.EqualError(t, c.o.Validate(), err.Error(), "Validate refuses what Export refuses, before any policy")
		})
	}
}

func TestNothingToWrite(t *testing.T) {
	p := tp.Linux()
	p.Rules = p.Rules[:1] // one hash rule, no SHA-1 known
	files, warns, err := tp.Run(sentinelone.New(site), p, core.Options{})
	require.NoError(t, err)
	assert.Empty(t, files, "an empty file is not written")
	assert.Len(t, warns, 1)
}

func hasWarning(ws []edrpolicy.Warning, code edrpolicy.WarningCode, text string) bool {
	for _, w := range ws {
		if w.Code == code && strings.Contains(w.Message, text) {
			return true
		}
	}
	return false
}

// The Interoperability modes are for Windows agents: refused for macOS and Linux policies,
// with the modes that work named; the other modes pass.
func TestInteroperabilityModesWindowsOnly(t *testing.T) {
	for _, mode := range []string{"disable_in_process_monitor", "disable_in_process_monitor_deep"} {
		for name, p := range map[string]*edrpolicy.Policy{"mac": tp.Mac(t), "linux": tp.Linux()} {
			_, _, err := tp.Run(sentinelone.New(sentinelone.Options{Tenant: true, Mode: mode}), p, core.Options{Force: true})
			require.Error(t, err, "%s %s", mode, name)
			assert.Contains(t, err.Error(), `SentinelOne.Mode "`+mode+`": an Interoperability mode, for Windows agents only`)
			var oe *edrpolicy.OptionError
			require.ErrorAs(t, err, &oe)
			assert.Equal(t, "SentinelOne.Mode", oe.Field)
			assert.Contains(t, err.Error(), "use suppress, disable_all_monitors or disable_all_monitors_deep")
		}
		_, _, err := tp.Run(sentinelone.New(sentinelone.Options{Tenant: true, Mode: mode}), tp.Windows(t), core.Options{})
		assert.NoError(t, err, "Windows takes %s", mode)
	}
	for _, mode := range []string{"suppress", "disable_all_monitors", "disable_all_monitors_deep", "suppress_dfi_only"} {
		_, _, err := tp.Run(sentinelone.New(sentinelone.Options{Tenant: true, Mode: mode}), tp.Linux(), core.Options{Force: true})
		assert.NoError(t, err, mode)
	}
}

// A narrowed signer rule whose files have no SHA-1 known: at --level path the files' exact
// paths (the level allows them), at --level signer nothing within the level, so not covered.
func TestNarrowedSignerFallsBackToPathAtLevelPath(t *testing.T) {
	p := tp.Windows(t)
	p.Rules = p.Rules[2:3] // the narrowed signer rule
	p.Rules[0].FileDigests[0].SHA1 = ""
	p.Level = edrpolicy.CriterionPath
	files, warns, err := tp.Run(sentinelone.New(site), p, core.Options{})
	require.NoError(t, err)
	bs := bodies(t, files)
	require.Len(t, bs, 1)
	assert.Equal(t, "path", bs[0].Data.Type)
	assert.Equal(t, "file", bs[0].Data.PathExclusionType)
	assert.Equal(t, `C:\Program Files\CrashPlan\helper.exe`, bs[0].Data.Value)
	assert.Contains(t, bs[0].Data.Description, "exported as this file's exact path (the policy's level is path)")
	assert.True(t, hasWarning(warns, core.WarnFallback, "fallback used: the exact path of 1 file(s) (the policy's level is path)"))

	p.Level = edrpolicy.CriterionSigner
	files, warns, err = tp.Run(sentinelone.New(site), p, core.Options{})
	require.NoError(t, err)
	assert.Empty(t, files)
	assert.True(t, hasWarning(warns, core.WarnSkipped, `C:\Program Files\CrashPlan\helper.exe NOT COVERED: the rule is narrowed to its files, and an S1 certificate exclusion covers everything the publisher signs; no hash entry either: S1 hash exclusions take SHA-1`))
}
