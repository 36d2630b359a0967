package plan_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/defender"
	"github.com/edrpolicy/edrpolicy/exporters/plan"
	"github.com/edrpolicy/edrpolicy/output"
)

const (
	a64 = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	b64 = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	c64 = "cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc"
	t40 = "1111111111111111111111111111111111111111"
)

func e(vendor, kind, typ, value string, platform profile.OS, file string) exporters.Entry {
	return exporters.Entry{Vendor: vendor, Kind: exporters.EntryKind(kind), Type: typ, Value: value, Platform: platform, File: file}
}

type row struct{ Change, Type, Value, Platforms, Files string }

func rows(p *plan.Plan, vendor string) []row {
	var out []row
	for _, vp := range p.Vendors {
		if vp.Vendor != vendor {
			continue
		}
		add := func(change string, it plan.Item) {
			out = append(out, row{change, it.Type, it.Value, strings.Join(it.Platforms, ","), strings.Join(it.Files, ",")})
		}
		for _, it := range vp.Add {
			add("add", it)
		}
		for _, it := range vp.Delete {
			add("delete", it)
		}
		for _, u := range vp.Update {
			add("update "+strings.Join(u.Changed, ","), u.New)
		}
		for _, it := range vp.Unchanged {
			add("keep", it)
		}
	}
	return out
}

// TestCompute: entries are compared as each console holds them.
func TestCompute(t *testing.T) {
	old := []exporters.Entry{
		// Defender: the same indicator in the CSV and the API body is one entry; a .cer upload
		// is its certificate indicator.
		e("defender", "hash", "FileSha256", a64, "", "defender-indicators-001.csv"),
		e("defender", "hash", "FileSha256", a64, "", "defender-indicators.json"),
		e("defender", "hash", "FileSha256", b64, "", "defender-indicators.json"),
		e("defender", "certificate", "cer", t40, "windows", "defender-cert-001.cer"),
		e("defender", "certificate", "CertificateThumbprint", t40, "", "defender-indicators.json"),
		// Falcon: one IOC lists its platforms.
		e("crowdstrike", "hash", "sha256", a64, "windows", "crowdstrike-ioc.json"),
		e("crowdstrike", "hash", "sha256", b64, "windows", "crowdstrike-ioc.json"),
		// SentinelOne: one exclusion per osType.
		e("sentinelone", "hash", "white_hash", t40, "windows", "sentinelone-exclusions.json"),
		e("sentinelone", "path", "path", `C:\A\`, "windows", "sentinelone-exclusions.json"),
	}
	old[8].Match = "folder"
	cur := []exporters.Entry{
		e("defender", "hash", "FileSha256", a64, "", "defender-indicators.json"),
		e("defender", "hash", "FileSha256", c64, "", "defender-indicators.json"),
		e("defender", "certificate", "CertificateThumbprint", t40, "", "defender-indicators.json"),
		e("crowdstrike", "hash", "sha256", a64, "windows", "crowdstrike-ioc.json"),
		e("crowdstrike", "hash", "sha256", a64, "mac", "crowdstrike-ioc.json"),
		e("sentinelone", "hash", "white_hash", t40, "windows", "sentinelone-exclusions.json"),
		e("sentinelone", "hash", "white_hash", t40, "mac", "sentinelone-exclusions.json"),
		e("sentinelone", "path", "path", `C:\A\`, "windows", "sentinelone-exclusions.json"),
		e("other", "hash", "x", a64, "", "other"),
	}
	cur[7].Match = "subfolders"
	p := plan.Compute("old", "new", old, cur, []string{"crowdstrike", "defender", "sentinelone"})
	assert.True(t, p.Changes)
	assert.Equal(t, []row{
		{"add", "FileSha256", c64, "", "defender-indicators.json"},
		{"delete", "FileSha256", b64, "", "defender-indicators.json"},
		{"keep", "CertificateThumbprint", t40, "", "defender-indicators.json"},
		{"keep", "FileSha256", a64, "", "defender-indicators.json"},
	}, rows(p, "defender"), "an entry kept is listed with the new side's files")
	assert.Equal(t, []row{
		{"delete", "sha256", b64, "windows", "crowdstrike-ioc.json"},
		{"update platforms", "sha256", a64, "mac,windows", "crowdstrike-ioc.json"},
	}, rows(p, "crowdstrike"))
	assert.Equal(t, []row{
		{"add", "white_hash", t40, "mac", "sentinelone-exclusions.json"},
		{"update match", "path", `C:\A\`, "windows", "sentinelone-exclusions.json"},
		{"keep", "white_hash", t40, "windows", "sentinelone-exclusions.json"},
	}, rows(p, "sentinelone"))
	assert.Equal(t, "defender: 1 to add, 1 to delete, 0 to update, 2 unchanged", p.Vendors[1].Text)

	same := plan.Compute("a", "b", old, old, []string{"crowdstrike", "defender", "sentinelone"})
	assert.False(t, same.Changes)
}

// TestRemovalFiles: each vendor's removal file names every entry to delete once, with a find
// request that names the value and a delete request by id; Defender's antivirus exclusions
// go to a BOM-prefixed script that removes and never adds.
func TestRemovalFiles(t *testing.T) {
	odd := `C:\O'Brien’s $(x)\app.exe`
	old := []exporters.Entry{
		e("defender", "hash", "FileSha256", b64, "", "defender-indicators-001.csv"),
		e("defender", "hash", "FileSha256", b64, "", "defender-indicators.json"),
		e("defender", "certificate", "cer", t40, "windows", "defender-cert-001.cer"),
		e("defender", "path", "ExclusionPath", odd, "windows", "defender-av-exclusions.ps1"),
		e("defender", "path", "excludedPath", "/opt/app", "linux", "mdatp_managed.json"),
		e("crowdstrike", "hash", "sha256", b64, "windows", "crowdstrike-ioc.json"),
		e("crowdstrike", "path", "ml-exclusion", `Program Files\O'Brien\**`, "windows", "crowdstrike-ml-exclusions.json"),
		e("crowdstrike", "certificate", "cert-exclusion", t40, "", "crowdstrike-cert-exclusions.json"),
		e("sentinelone", "hash", "white_hash", t40, "mac", "sentinelone-exclusions.json"),
	}
	p := plan.Compute("old", "new", old, nil, []string{"crowdstrike", "defender", "sentinelone"})
	files, err := p.RemovalFiles(exporters.Default())
	require.NoError(t, err)
	byName := map[string][]byte{}
	for _, f := range files {
		byName[f.Name] = f.Data
	}
	require.ElementsMatch(t, []string{"crowdstrike-remove.json", "defender-remove-indicators.json", "defender-remove-av-exclusions.ps1", "sentinelone-remove.json"}, keys(byName))

	type req struct {
		Method string
		Path   string
		Query  map[string]string
		Body   json.RawMessage
	}
	type step struct {
		Type, Value, Platform, Note string
		Find, Delete                *req
	}
	steps := func(name string) []step {
		var r struct{ Steps []step }
		require.NoError(t, json.Unmarshal(byName[name], &r), name)
		return r.Steps
	}
	cs := steps("crowdstrike-remove.json")
	require.Len(t, cs, 3)
	assert.Equal(t, "certificate.thumbprint:'"+t40+"'", cs[0].Find.Query["filter"])
	assert.Equal(t, "/exclusions/entities/cert-based-exclusions/v1", cs[0].Delete.Path)
	assert.Equal(t, `value:'Program Files\\O\'Brien\\**'`, cs[1].Find.Query["filter"])
	assert.Equal(t, "/policy/entities/ml-exclusions/v1", cs[1].Delete.Path)
	assert.Equal(t, "type:'sha256'+value:'"+b64+"'", cs[2].Find.Query["filter"])
	assert.Equal(t, "/iocs/entities/indicators/v1", cs[2].Delete.Path)
	for _, s := range cs {
		assert.Equal(t, "DELETE", s.Delete.Method)
		assert.Equal(t, "<id>", s.Delete.Query["ids"])
	}

	df := steps("defender-remove-indicators.json")
	require.Len(t, df, 3, "the CSV and JSON copies are one indicator; the .cer is the certificate indicator")
	assert.Equal(t, step{Type: "FileSha256", Value: b64, Find: df[0].Find, Delete: df[0].Delete}, df[0])
	assert.Equal(t, "indicatorValue eq '"+b64+"'", df[0].Find.Query["$filter"])
	assert.JSONEq(t, `{"IndicatorIds":["<id>"]}`, string(df[0].Delete.Body))
	assert.Equal(t, "CertificateThumbprint", df[1].Type)
	assert.Contains(t, df[2].Note, "mdatp_managed.json")
	assert.Nil(t, df[2].Find)

	ps := byName["defender-remove-av-exclusions.ps1"]
	assert.True(t, bytes.HasPrefix(ps, []byte("\ufeff")), "UTF-8 with BOM")
	assert.NotContains(t, string(ps), "Add-MpPreference")
	assert.Contains(t, string(ps), "if (-not $WhatIf) { Remove-MpPreference -ExclusionPath 'C:\\O''Brien’’s $(x)\\app.exe' }")
	es, err := defender.ParseScript("x.ps1", ps)
	require.NoError(t, err, "the removal script tokenizes")
	assert.Empty(t, es, "it adds nothing")

	s1 := steps("sentinelone-remove.json")
	require.Len(t, s1, 1)
	assert.Equal(t, map[string]string{"type": "white_hash", "value": t40, "osTypes": "macos"}, s1[0].Find.Query)
	assert.JSONEq(t, `{"data":{"type":"white_hash","ids":["<id>"]}}`, string(s1[0].Delete.Body))
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestFromDirParseError: a side whose vendor file does not parse is an error, not a plan
// that deletes everything the file held.
func TestFromDirParseError(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, output.WriteSet(dir, []output.File{{Name: "sentinelone-exclusions.json", Data: []byte("{")}}))
	_, _, err := plan.FromDir(exporters.Default(), dir)
	assert.ErrorContains(t, err, "sentinelone-exclusions.json")

	require.NoError(t, os.WriteFile(filepath.Join(dir, "sentinelone-exclusions.json"), []byte("[]"), 0o644))
	es, warns, err := plan.FromDir(exporters.Default(), dir)
	require.NoError(t, err)
	assert.Empty(t, es)
	require.Len(t, warns, 1)
	assert.Equal(t, exporters.ProblemMismatch, warns[0].Code)
}

func TestUpdateText(t *testing.T) {
	u := plan.Update{
		Old:     plan.Item{Platforms: []string{"windows"}, Match: edrpolicy.MatchFolder, Action: "allow"},
		New:     plan.Item{Platforms: []string{"windows", "mac"}, Match: edrpolicy.MatchSubfolders, Action: "no_action", Expires: "2027-03-01"},
		Changed: []string{"platforms", "match", "action", "expires"},
	}
	assert.Equal(t, "platforms windows → windows,mac; match folder → subfolders; action allow → no_action; expires - → 2027-03-01", u.Text())
	assert.Equal(t, "", plan.Update{}.Text())
}
