package edrpolicy

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/signers"
)

func mustParse(t *testing.T, s string) profile.Version {
	t.Helper()
	if s == "" {
		return profile.Version{}
	}
	v, err := profile.ParseVersion(s)
	require.NoError(t, err)
	return v
}

// InstallPaths maps the inventory's roots to the profile's main folder for exactly the
// version asked; a version it cannot place is an error, never every era's folders.
func TestInstallPaths(t *testing.T) {
	gen, err := profile.BuiltIn("generic")
	require.NoError(t, err)
	win := &Inventory{Files: []FileEvidence{peFile("/img/inst", "CrashPlanService.exe", h('a'), signers.StatusUnsigned)}}
	holdsApp := &Inventory{Files: []FileEvidence{machoFile("/img/apps", "CrashPlan.app/Contents/MacOS/CrashPlan", h('a'), signers.StatusUnsigned)}}
	isApp := &Inventory{Files: []FileEvidence{machoFile("/img/CrashPlan.app", "Contents/MacOS/CrashPlan", h('a'), signers.StatusUnsigned)}}
	for _, tc := range []struct {
		name      string
		q         InstallQuery
		want      map[string][]string
		field     string // an *OptionError's field
		unknown   bool   // a *profile.UnknownError
		noInstall bool   // ErrNoInstallFolder
	}{
		{name: "11.x", q: InstallQuery{Profile: code42(t), OS: "windows", Version: mustParse(t, "11.2.1"), Inventory: win},
			want: map[string][]string{"/img/inst": {`C:\Program Files\CrashPlan`}}},
		{name: "8.x era", q: InstallQuery{Profile: code42(t), OS: "windows", Version: mustParse(t, "8.6"), Inventory: win},
			want: map[string][]string{"/img/inst": {`C:\Program Files\Code42`}}},
		{name: "per-user 8.x", q: InstallQuery{Profile: code42(t), OS: "windows", Version: mustParse(t, "8.6"), Install: profile.InstallPerUser, Inventory: win},
			want: map[string][]string{"/img/inst": {`C:\Users\<user>\AppData\Local\Programs\Code42`, `C:\Users\<user>\AppData\Roaming\Programs\Code42`}}},
		{name: "assumed 8.2 table for 8.1", q: InstallQuery{Profile: code42(t), OS: "windows", Version: mustParse(t, "8.1"), AssumePaths: mustParse(t, "8.2"), Inventory: win},
			want: map[string][]string{"/img/inst": {`C:\Program Files\Code42`}}},
		{name: "root holds the bundle", q: InstallQuery{Profile: code42(t), OS: "mac", Version: mustParse(t, "11.2"), Inventory: holdsApp},
			want: map[string][]string{"/img/apps": {"/Applications"}}},
		{name: "root is the bundle", q: InstallQuery{Profile: code42(t), OS: "mac", Version: mustParse(t, "11.2"), Inventory: isApp},
			want: map[string][]string{"/img/CrashPlan.app": {"/Applications/CrashPlan.app"}}},
		{name: "linux: one folder for every version", q: InstallQuery{Profile: code42(t), OS: "linux", Version: mustParse(t, "6.0"), Inventory: win},
			want: map[string][]string{"/img/inst": {"/usr/local/crashplan"}}},
		{name: "generic: no install folder, no default", q: InstallQuery{Profile: gen, OS: "windows", Inventory: win},
			want: map[string][]string{}},
		{name: "no version: not every era", q: InstallQuery{Profile: code42(t), OS: "windows", Inventory: win}, field: "Version"},
		{name: "a version in a gap", q: InstallQuery{Profile: code42(t), OS: "windows", Version: mustParse(t, "8.1"), Inventory: win}, unknown: true},
		{name: "assumed for a documented version", q: InstallQuery{Profile: code42(t), OS: "windows", Version: mustParse(t, "11.2"), AssumePaths: mustParse(t, "8.2"), Inventory: win}, field: "AssumePaths"},
		{name: "no install folder for per-user 11.x", q: InstallQuery{Profile: code42(t), OS: "windows", Version: mustParse(t, "11.2"), Install: profile.InstallPerUser, Inventory: win}, noInstall: true},
		{name: "no profile", q: InstallQuery{OS: "windows", Inventory: win}, field: "Profile"},
		{name: "no inventory", q: InstallQuery{Profile: code42(t), OS: "windows", Version: mustParse(t, "11.2")}, field: "Inventory"},
		{name: "bad OS", q: InstallQuery{Profile: code42(t), OS: "Windows", Version: mustParse(t, "11.2"), Inventory: win}, field: "OS"},
		{name: "bad install", q: InstallQuery{Profile: code42(t), OS: "windows", Version: mustParse(t, "11.2"), Install: "All-Users", Inventory: win}, field: "Install"},
		{name: "bad product", q: InstallQuery{Profile: code42(t), OS: "windows", Version: mustParse(t, "11.2"), Product: "nope", Inventory: win}, field: "Product"},
	} {
		got, err := InstallPaths(tc.q)
		var oe *OptionError
		var ue *profile.UnknownError
		switch {
		case tc.field != "":
			require.ErrorAs(t, err, &oe, tc.name)
			assert.Equal(t, tc.field, oe.Field, tc.name)
		case tc.unknown:
			assert.ErrorAs(t, err, &ue, tc.name)
		case tc.noInstall:
			assert.ErrorIs(t, err, ErrNoInstallFolder, tc.name)
		default:
			require.NoError(t, err, tc.name)
			assert.Equal(t, tc.want, got, tc.name)
		}
		if tc.want == nil {
			assert.Nil(t, got, tc.name)
		}
	}
}

// Decide without InstallPaths maps the roots as InstallPaths does (the endpoint paths, not
// the inspecting machine's), and refuses an install the profile has no folder for.
func TestDecideDefaultsInstallPaths(t *testing.T) {
	inv := &Inventory{SchemaVersion: 1, Files: []FileEvidence{peFile("/img/inst", "bin/helper.exe", h('d'), signers.StatusUnsigned)}}
	for _, tc := range []struct {
		name    string
		install string
		paths   map[string][]string
		want    []string // the hash rule's files
		field   string
	}{
		{name: "default from the profile", want: []string{`C:\Program Files\CrashPlan\bin\helper.exe`}},
		{name: "given", paths: map[string][]string{"/img/inst": {`D:\Apps\CP`}}, want: []string{`D:\Apps\CP\bin\helper.exe`}},
		{name: "no folder for per-user 11.x", install: profile.InstallPerUser, field: "InstallPaths"},
		{name: "per-user 11.x, given", install: profile.InstallPerUser, paths: map[string][]string{"/img/inst": {`C:\Users\<user>\CP`}}, want: []string{`C:\Users\*\CP\bin\helper.exe`}},
	} {
		opts := winOpts(t, CriterionHash)
		opts.InstallPaths, opts.Install, opts.NoScanExclusions = tc.paths, tc.install, true
		pol, err := Decide(inv, opts)
		if tc.field != "" {
			var oe *OptionError
			require.ErrorAs(t, err, &oe, tc.name)
			assert.Equal(t, tc.field, oe.Field, tc.name)
			assert.ErrorIs(t, err, ErrNoInstallFolder, tc.name)
			assert.Contains(t, err.Error(), "give the folder each inspected root is installed as on endpoints", tc.name)
			continue
		}
		require.NoError(t, err, tc.name)
		require.Len(t, pol.Rules, 1, tc.name)
		assert.Equal(t, tc.want, pol.Rules[0].Files, tc.name)
		for _, w := range pol.Warnings {
			assert.NotEqual(t, "relative-paths", w.Code, tc.name)
		}
	}
}

// Generate and Decide map roots with one code path: Decide, given the inventory Generate
// inspects and no InstallPaths, names the same endpoint paths, the ones InstallPaths gives.
func TestDecideMapsRootsAsGenerate(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		os   profile.OS
		want []string
	}{
		{"windows", []string{`C:\Program Files\CrashPlan`}},
		{"mac", []string{"/Applications"}}, // the root holds CrashPlan.app
	} {
		root := filepath.Join("..", "examples", "sample", string(tc.os))
		opts := DecideOptions{Profile: code42(t), OS: tc.os, Level: CriterionHash, Now: testNow}
		gpol, err := Generate(ctx, GenerateOptions{Roots: []string{root}, AppVersion: VersionAuto, Decide: opts})
		require.NoError(t, err, tc.os)
		inv, err := Inspect(ctx, []string{root}, InspectOptions{})
		require.NoError(t, err, tc.os)

		paths, err := InstallPaths(InstallQuery{Profile: code42(t), OS: tc.os, Version: mustParse(t, gpol.AppVersion), Inventory: inv})
		require.NoError(t, err, tc.os)
		assert.Equal(t, map[string][]string{root: tc.want}, paths, tc.os)

		opts.Version, opts.VersionSource, opts.Roots = gpol.AppVersion, gpol.AppVersionSource, []string{root}
		dpol, err := Decide(inv, opts)
		require.NoError(t, err, tc.os)
		assert.Equal(t, gpol.Rules, dpol.Rules, tc.os)
		for _, r := range dpol.Rules {
			if r.Role == profile.RoleExecutable {
				for _, f := range r.Files {
					assert.True(t, strings.HasPrefix(f, tc.want[0]), "%s: %s", tc.os, f)
				}
			}
		}
	}
}
