package exporters_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

const sampleDir = "../examples/sample"

// generateSample runs Generate over a tree of the sample install (signed by the throwaway
// sample CA, trusted here), computing the SHA-1 SentinelOne takes.
func generateSample(t *testing.T, tree string, osName profile.OS, level edrpolicy.Criterion, pins []string) *edrpolicy.Policy {
	t.Helper()
	prof, err := profile.BuiltIn("code42")
	require.NoError(t, err)
	pem, err := os.ReadFile(filepath.Join(sampleDir, "ca.pem"))
	require.NoError(t, err)
	roots, _, err := signers.ParseRoots(pem)
	require.NoError(t, err)
	pol, err := edrpolicy.Generate(context.Background(), edrpolicy.GenerateOptions{
		Roots:      []string{filepath.Join(sampleDir, tree)},
		AppVersion: edrpolicy.VersionAuto,
		Inspect:    edrpolicy.InspectOptions{Verify: signers.Options{Roots: roots}, Digests: hashing.Algorithms{SHA1: true}},
		Decide:     edrpolicy.DecideOptions{Profile: prof, OS: osName, Level: level, PinSigners: pins},
	})
	require.NoError(t, err)
	return pol
}

// entryRecords returns, per rule (0-based), the bytes each of its entries has in the file
// that holds it, as "file: record". It also checks that each file holds exactly the entries
// the export reports for it, in order.
func entryRecords(t *testing.T, res *exporters.Result) map[int][]string {
	t.Helper()
	byFile := map[string][]exporters.Entry{}
	for _, e := range res.Entries {
		byFile[e.File] = append(byFile[e.File], e)
	}
	out := map[int][]string{}
	for _, f := range res.Files {
		if f.Name == exporters.CoverageFileName || strings.HasSuffix(f.Name, ".txt") {
			continue
		}
		recs := fileRecords(t, f.Name, f.Data)
		entries := byFile[f.Name]
		require.Len(t, recs, len(entries), "%s: one record per entry", f.Name)
		for i, e := range entries {
			out[*e.Rule] = append(out[*e.Rule], f.Name+": "+recs[i])
		}
	}
	return out
}

// fileRecords splits a vendor file into its entries' records, as written.
func fileRecords(t *testing.T, name string, data []byte) []string {
	t.Helper()
	var raws []json.RawMessage
	switch {
	case strings.HasSuffix(name, ".cer"):
		return []string{fmt.Sprintf("%x", data)}
	case strings.HasSuffix(name, ".csv"):
		rows, err := csv.NewReader(bytes.NewReader(data)).ReadAll()
		require.NoError(t, err)
		var out []string
		for _, r := range rows[1:] {
			out = append(out, strings.Join(r, "\x00"))
		}
		return out
	case strings.HasSuffix(name, ".ps1"):
		var out []string
		lines := strings.Split(string(data), "\n")
		for i, l := range lines {
			if strings.HasPrefix(l, "Add-Exclusion ") {
				out = append(out, lines[i-1]+"\n"+l)
			}
		}
		return out
	case strings.HasSuffix(name, ".plist"), strings.HasSuffix(name, ".mobileconfig"):
		var w struct {
			AntivirusEngine struct {
				Exclusions []map[string]any `plist:"exclusions"`
			} `plist:"antivirusEngine"`
		}
		_, err := plist.Unmarshal(data, &w)
		require.NoError(t, err)
		var out []string
		for _, e := range w.AntivirusEngine.Exclusions {
			out = append(out, fmt.Sprint(e))
		}
		return out
	case name == "crowdstrike-ml-exclusions.json", name == "sentinelone-exclusions.json":
		require.NoError(t, json.Unmarshal(data, &raws))
	case name == "mdatp_managed.json":
		var m struct {
			ExclusionSettings struct {
				Exclusions []json.RawMessage `json:"exclusions"`
			} `json:"exclusionSettings"`
		}
		require.NoError(t, json.Unmarshal(data, &m))
		raws = m.ExclusionSettings.Exclusions
	default: // IOC bodies, cert exclusions, Defender API bodies
		var top map[string]json.RawMessage
		require.NoError(t, json.Unmarshal(data, &top))
		m := map[string][]json.RawMessage{}
		for _, k := range []string{"indicators", "exclusions", "Indicators"} {
			if v, ok := top[k]; ok {
				var xs []json.RawMessage
				require.NoError(t, json.Unmarshal(v, &xs))
				m[k] = xs
			}
		}
		require.Len(t, m, 1, "%s: one list of entries", name)
		for _, xs := range m {
			raws = xs
		}
	}
	out := make([]string, len(raws))
	for i, r := range raws {
		out[i] = string(r)
	}
	return out
}

// A rule that did not change between two runs gives the same entries, byte for byte, in every
// vendor file: the sample install v1 (11.1.0) and v2 (11.2.0, two files re-signed with a
// renewed certificate, two files unchanged), at each level, pinned and not, Windows and Mac.
// Before, every entry carried the application version and changed at every upgrade.
func TestStableEntriesAcrossUpgrade(t *testing.T) {
	o, reg := exporters.Options{}, s1Site(t)
	for _, c := range []struct {
		os    profile.OS
		tree  string
		level edrpolicy.Criterion
		pins  []string
	}{
		{"windows", "windows", edrpolicy.CriterionHash, nil},
		{"windows", "windows", edrpolicy.CriterionSigner, nil},
		{"windows", "windows", edrpolicy.CriterionSigner, []string{"ea85936ab6f5ee86cd20bb9323ef87bd4220a617"}},
		{"windows", "windows", edrpolicy.CriterionPath, nil},
		{"mac", "mac", edrpolicy.CriterionHash, nil},
		{"mac", "mac", edrpolicy.CriterionSigner, nil},
		{"mac", "mac", edrpolicy.CriterionPath, nil},
	} {
		t.Run(fmt.Sprintf("%s/%s/pins=%d", c.os, c.level, len(c.pins)), func(t *testing.T) {
			p1 := generateSample(t, c.tree, c.os, c.level, c.pins)
			p2 := generateSample(t, filepath.Join("v2", c.tree), c.os, c.level, c.pins)
			require.NotEqual(t, p1.AppVersion, p2.AppVersion)
			r1, err := exporters.Collect(reg, p1, allVendors, o)
			require.NoError(t, err)
			r2, err := exporters.Collect(reg, p2, allVendors, o)
			require.NoError(t, err)
			rec1, rec2 := entryRecords(t, r1), entryRecords(t, r2)
			unchanged, changed := 0, 0
			vendors := map[string]bool{}
			for j := range p2.Rules {
				i := sameRule(p1.Rules, &p2.Rules[j])
				if i < 0 {
					changed++
					continue
				}
				unchanged++
				assert.Equal(t, rec1[i], rec2[j], "rules[%d] (%s %s) did not change: its entries must not", j, p2.Rules[j].Criterion, p2.Rules[j].Value)
				for _, e := range r2.Entries {
					if e.Rule != nil && *e.Rule == j {
						vendors[e.Vendor] = true
					}
				}
			}
			assert.Positive(t, unchanged, "the upgrade keeps some rules")
			assert.Equal(t, map[string]bool{"crowdstrike": true, "defender": true, "sentinelone": true}, vendors, "unchanged rules reach every vendor")
			assert.Positive(t, changed, "the upgrade changes some rules")
		})
	}
}

// sameRule returns the index of a rule of rules equal to r in every field, or -1.
func sameRule(rules []edrpolicy.Rule, r *edrpolicy.Rule) int {
	for i := range rules {
		if reflect.DeepEqual(rules[i], *r) {
			return i
		}
	}
	return -1
}
