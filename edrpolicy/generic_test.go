package edrpolicy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/signers"
)

// The generic profile: no path table, no scan exclusions, no expected signer, no version;
// files under --install-path, or relative to the root with a warning and never a path rule.
func TestGenerateGenericProfile(t *testing.T) {
	gen, err := profile.BuiltIn("generic")
	require.NoError(t, err)
	sample := filepath.Join("..", "examples", "sample")
	pem, err := os.ReadFile(filepath.Join(sample, "ca.pem"))
	require.NoError(t, err)
	roots, _, err := signers.ParseRoots(pem)
	require.NoError(t, err)
	win := filepath.Join(sample, "windows")
	run := func(level Criterion, install []string, pins ...string) *Policy {
		t.Helper()
		d := DecideOptions{Profile: gen, OS: "windows", Level: level, PinSigners: pins, Now: testNow}
		if install != nil {
			d.InstallPaths = map[string][]string{win: install}
		}
		pol, err := Generate(context.Background(), GenerateOptions{Roots: []string{win}, AppVersion: VersionAuto,
			Inspect: InspectOptions{Verify: signers.Options{Roots: roots}}, Decide: d})
		require.NoError(t, err)
		return pol
	}
	lines := func(p *Policy) []string {
		var out []string
		for _, r := range p.Rules {
			out = append(out, string(r.Criterion)+" "+r.FileName+" "+strings.Join(r.Files, ","))
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		level   Criterion
		install []string
		pins    []string
		want    []string
		warn    WarningCode
	}{
		{"hash, install path", CriterionHash, []string{`D:\Apps\Tool`}, nil, []string{
			`hash  D:\Apps\Tool\CrashPlanNative.dll`, `hash  D:\Apps\Tool\CrashPlanService.exe`, `hash  D:\Apps\Tool\Uninstall.exe`, `hash  D:\Apps\Tool\electron\CrashPlanDesktop.exe`}, "hash-upgrade"},
		{"signer, no expected signer: narrowed", CriterionSigner, []string{`D:\Apps\Tool`}, nil, []string{
			`signer CrashPlanNative.dll D:\Apps\Tool\CrashPlanNative.dll`,
			`signer CrashPlanService.exe D:\Apps\Tool\CrashPlanService.exe`,
			`hash  D:\Apps\Tool\Uninstall.exe`,
			`signer CrashPlanDesktop.exe D:\Apps\Tool\electron\CrashPlanDesktop.exe`}, "hash-upgrade"},
		{"signer, pinned: one rule", CriterionSigner, []string{`D:\Apps\Tool`}, []string{"ea85936ab6f5ee86cd20bb9323ef87bd4220a617"}, []string{
			`signer  D:\Apps\Tool\CrashPlanNative.dll,D:\Apps\Tool\CrashPlanService.exe,D:\Apps\Tool\electron\CrashPlanDesktop.exe`,
			`hash  D:\Apps\Tool\Uninstall.exe`}, "hash-upgrade"},
		// A signer the generic profile does not expect would be narrowed to each file, which
		// no console can express: the path level's exact paths instead.
		{"path level, install path", CriterionPath, []string{`D:\Apps\Tool`}, nil, []string{
			`path  D:\Apps\Tool\CrashPlanNative.dll`,
			`path  D:\Apps\Tool\CrashPlanService.exe`,
			`path  D:\Apps\Tool\Uninstall.exe`,
			`path  D:\Apps\Tool\electron\CrashPlanDesktop.exe`}, ""},
		{"no install path: relative", CriterionHash, nil, nil, []string{
			`hash  CrashPlanNative.dll`, `hash  CrashPlanService.exe`, `hash  Uninstall.exe`, `hash  electron\CrashPlanDesktop.exe`}, "relative-paths"},
		// Relative paths can never be path rules: the narrowed signer rules stay.
		{"no install path: never a path rule", CriterionPath, nil, nil, []string{
			`signer CrashPlanNative.dll CrashPlanNative.dll`,
			`signer CrashPlanService.exe CrashPlanService.exe`,
			`hash  Uninstall.exe`,
			`signer CrashPlanDesktop.exe electron\CrashPlanDesktop.exe`}, "relative-paths"},
	} {
		pol := run(tc.level, tc.install, tc.pins...)
		assert.Equal(t, tc.want, lines(pol), tc.name)
		assert.Equal(t, "generic", pol.Profile)
		assert.Empty(t, pol.AppVersion, "%s: generic reads no version", tc.name)
		assert.Empty(t, pol.Era)
		if tc.warn != "" {
			assert.Contains(t, warningCodes(pol), tc.warn, tc.name)
		}
		for _, r := range pol.Rules {
			assert.Equal(t, profile.RoleExecutable, r.Role, "%s: no scan exclusions", tc.name)
		}
		if tc.install == nil && tc.level == CriterionPath {
			assert.Contains(t, ruleOf(pol, "Uninstall.exe").Reason, "no install path for its root", tc.name)
		}
	}
}

// ruleOf returns the rule whose first file ends with name.
func ruleOf(pol *Policy, name string) Rule {
	for _, r := range pol.Rules {
		if len(r.Files) > 0 && strings.HasSuffix(r.Files[0], name) {
			return r
		}
	}
	return Rule{}
}
