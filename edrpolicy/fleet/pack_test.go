package fleet

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

var update = flag.Bool("update", false, "rewrite examples/osquery from the packs BuildPack writes")

func queriesOf(t *testing.T, p *Pack) []PackQuery {
	var out []PackQuery
	names := make([]string, 0, len(p.Queries))
	for n := range p.Queries {
		names = append(names, n)
	}
	for _, n := range sortedNames(names) {
		out = append(out, p.Queries[n])
	}
	return out
}

// The pack collects each version's executable folders with osquery's glob semantics: a
// trailing %% for a folder, % for the user of a per-user row, the OS's own tables.
func TestBuildPack(t *testing.T) {
	for _, tc := range []struct {
		name     string
		opts     PackOptions
		wheres   []string
		has, not []string
	}{
		{
			name:   "Windows, two eras, SentinelOne",
			opts:   PackOptions{OS: profile.OSWindows, Versions: []string{"10.4.0", "11.2.0"}, SHA1: true},
			wheres: []string{`f.path LIKE 'C:\Program Files\Code42\%%'`, `f.path LIKE 'C:\Users\%\AppData\Local\Programs\Code42\%%'`, `f.path LIKE 'C:\Users\%\AppData\Roaming\Programs\Code42\%%'`, `f.path LIKE 'C:\Program Files\CrashPlan\%%'`},
			has:    []string{"h.sha256, h.sha1", "f.file_version, f.product_version, f.original_filename", "LEFT JOIN authenticode AS a ON a.path = f.path", "a.result AS authenticode_result", "AND f.symlink = 0;"},
			not:    []string{"signature", "apps", "f.type"},
		},
		{
			name:   "Windows 11.2.0 only",
			opts:   PackOptions{OS: profile.OSWindows, Versions: []string{"11.2.0"}},
			wheres: []string{`f.path LIKE 'C:\Program Files\CrashPlan\%%'`},
			has:    []string{"h.sha256,", "authenticode"},
			not:    []string{"sha1"},
		},
		{
			name:   "macOS: the bundle, its signature and its version",
			opts:   PackOptions{OS: profile.OSMac, Versions: []string{"11.2.0"}},
			wheres: []string{`f.path LIKE '/Applications/CrashPlan.app/%%'`, `path = '/Applications/CrashPlan.app'`},
			has:    []string{"s.signed, s.identifier, s.cdhash, s.team_identifier, s.authority, s.arch", "LEFT JOIN signature AS s", "SELECT path, bundle_short_version, bundle_version, bundle_identifier, (SELECT hostname FROM system_info) AS hostname FROM apps"},
			not:    []string{"authenticode", "file_version"},
		},
		{
			name:   "Linux",
			opts:   PackOptions{OS: profile.OSLinux, Versions: []string{"11.2.0"}},
			wheres: []string{`f.path LIKE '/usr/local/crashplan/%%'`},
			has:    []string{"f.mode, h.sha256", "AND f.symlink = 0 AND f.type = 'regular';"},
			not:    []string{"authenticode", "signature", "apps"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Profile = code42(t)
			p, err := BuildPack(tc.opts)
			require.NoError(t, err)
			qs := queriesOf(t, p)
			require.Len(t, qs, len(tc.wheres))
			all := ""
			for _, q := range qs {
				all += q.Query + "\n"
				assert.Equal(t, DefaultPackInterval, q.Interval)
				assert.True(t, q.Snapshot)
				assert.Equal(t, p.Platform, q.Platform)
				assert.Contains(t, q.Description, "edrpolicy code42 "+tc.opts.OS)
				assert.True(t, strings.HasSuffix(q.Query, ";"))
			}
			for _, w := range tc.wheres {
				assert.Contains(t, all, "WHERE "+w)
			}
			for _, s := range tc.has {
				assert.Contains(t, all, s)
			}
			for _, s := range tc.not {
				assert.NotContains(t, all, s)
			}
		})
	}
}

// Versions no source covers, paths osquery cannot name exactly, and missing flags are
// refused.
func TestBuildPackRefuses(t *testing.T) {
	p := code42(t)
	_, err := BuildPack(PackOptions{Profile: p, OS: profile.OSWindows, Versions: []string{"8.1"}})
	var ue *profile.UnknownError
	assert.ErrorAs(t, err, &ue, "8.1 is a gap: --assume-paths")
	_, err = BuildPack(PackOptions{Profile: p, OS: profile.OSWindows, Versions: []string{"8.1"}, AssumePaths: "8.2"})
	assert.NoError(t, err)
	_, err = BuildPack(PackOptions{Profile: p, OS: profile.OSWindows})
	assert.ErrorContains(t, err, "Versions: required")
	_, err = BuildPack(PackOptions{Profile: p, OS: "beos", Versions: []string{"1"}})
	assert.ErrorContains(t, err, "want windows, mac or linux")
	g, err := profile.BuiltIn("generic")
	require.NoError(t, err)
	_, err = BuildPack(PackOptions{Profile: g, OS: profile.OSWindows, Versions: []string{"1.0"}})
	assert.ErrorContains(t, err, "names no executable folder")

	for _, bad := range []string{`C:\Apps\100%\x`, `C:\Apps\[x]`, "/opt/a?b"} {
		_, err := likePath(profile.OSWindows, bad)
		assert.ErrorContains(t, err, "osquery's file glob", bad)
	}
	got, err := likePath(profile.OSMac, "~/Library/O'Brien")
	require.NoError(t, err)
	assert.Equal(t, "/Users/%/Library/O''Brien", got, "per-user and SQL quoting")
}

// What the pack collects is what generate --evidence reads: a row of each query's columns,
// as osqueryd logs it, merges with its digest, state and version.
func TestPackColumnsAreRead(t *testing.T) {
	for _, tc := range []struct {
		os                  profile.OS
		row, state, version string
	}{
		{profile.OSWindows, `{"path":"C:\\Program Files\\CrashPlan\\CrashPlanService.exe","size":"3760","file_version":"11.2.0.0","product_version":"11.2.0","original_filename":"CrashPlanService.exe","sha256":"` + sumA + `","sha1":"` + sumA[:40] + `","authenticode_result":"trusted","subject_name":"x","issuer_name":"y","serial_number":"01","original_program_name":"","hostname":"ws-1"}`, "authenticode:trusted", "11.2.0"},
		{profile.OSMac, `{"path":"/Applications/CrashPlan.app/Contents/MacOS/CrashPlan","size":"17048","mode":"0755","sha256":"` + sumA + `","signed":"1","identifier":"com.x","cdhash":"ab","team_identifier":"TEAM","authority":"Developer ID Application: x (TEAM)","arch":"arm64","hostname":"m-1"}`, "signed:TEAM", ""},
		{profile.OSMac, `{"path":"/Applications/CrashPlan.app","bundle_short_version":"11.2.0","bundle_version":"11.2.0.123","bundle_identifier":"com.x","hostname":"m-1"}`, "", "11.2.0"},
	} {
		var c Columns
		require.NoError(t, json.Unmarshal([]byte(tc.row), &c))
		m := NewMerger(code42(t), tc.os)
		require.NoError(t, m.Add(&Row{Host: "h", Cols: &c}))
		require.Len(t, m.paths, 1)
		if tc.state != "" {
			require.Len(t, m.paths[0].states, 1)
			assert.Equal(t, tc.state, m.stateList[m.paths[0].states[0].id])
		}
		if tc.version != "" {
			require.Len(t, m.versionList, 1)
			assert.Equal(t, tc.version, m.versionList[0])
		}
	}
}

// examplePacks are the packs in examples/osquery: the code42 profile at the versions of its
// two latest eras.
var examplePacks = map[string]PackOptions{
	"code42-windows.json":             {OS: profile.OSWindows, Versions: []string{"10.4.0", "11.2.0"}},
	"code42-windows-sentinelone.json": {OS: profile.OSWindows, Versions: []string{"10.4.0", "11.2.0"}, SHA1: true},
	"code42-mac.json":                 {OS: profile.OSMac, Versions: []string{"10.4.0", "11.2.0"}},
	"code42-linux.json":               {OS: profile.OSLinux, Versions: []string{"11.2.0"}},
}

// The packs in examples/osquery are what BuildPack writes today (go test -update rewrites
// them; go generate ./examples/osquery runs that).
func TestExamplePacksCurrent(t *testing.T) {
	dir := filepath.Join("..", "..", "examples", "osquery")
	for name, opts := range examplePacks {
		opts.Profile = code42(t)
		p, err := BuildPack(opts)
		require.NoError(t, err)
		data, err := p.JSON()
		require.NoError(t, err)
		file := filepath.Join(dir, name)
		if *update {
			require.NoError(t, os.WriteFile(file, data, 0o644))
			continue
		}
		have, err := os.ReadFile(file)
		require.NoError(t, err, "go generate ./examples/osquery")
		assert.Equal(t, string(data), string(have), "%s is stale: go generate ./examples/osquery", name)
	}
}
