package check_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/check"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/signers"
)

// sampleDir is the sample install shipped in examples/sample (signed by a throwaway sample
// CA, ca.pem).
const sampleDir = "../../examples/sample"

// samplePin is the sample signer's SHA-1 thumbprint, the README's --pin-signer.
const samplePin = "ea85936ab6f5ee86cd20bb9323ef87bd4220a617"

// sampleInspect trusts the sample CA (--roots ca.pem); trust=false trusts nothing extra.
func sampleInspect(trust bool) (edrpolicy.InspectOptions, error) {
	if !trust {
		return edrpolicy.InspectOptions{}, nil
	}
	pem, err := os.ReadFile(filepath.Join(sampleDir, "ca.pem"))
	if err != nil {
		return edrpolicy.InspectOptions{}, err
	}
	roots, _, err := signers.ParseRoots(pem)
	if err != nil {
		return edrpolicy.InspectOptions{}, err
	}
	return edrpolicy.InspectOptions{Verify: signers.Options{Roots: roots}}, nil
}

// samplePolicy generates the policy of a sample tree as `edrpolicy generate --root TREE
// [--roots ca.pem] --level LEVEL [--pin-signer PIN]...` does.
func samplePolicy(root string, osName profile.OS, level edrpolicy.Criterion, trust bool, pins ...string) (*edrpolicy.Policy, error) {
	prof, err := profile.BuiltIn("code42")
	if err != nil {
		return nil, err
	}
	insp, err := sampleInspect(trust)
	if err != nil {
		return nil, err
	}
	return edrpolicy.Generate(context.Background(), edrpolicy.GenerateOptions{
		Roots: []string{root}, AppVersion: edrpolicy.VersionAuto, Inspect: insp,
		Decide: edrpolicy.DecideOptions{Profile: prof, OS: osName, Level: level, PinSigners: pins},
	})
}

func checkSample(t *testing.T, pol *edrpolicy.Policy, root string) *check.Report {
	t.Helper()
	insp, err := sampleInspect(true)
	require.NoError(t, err)
	rep, err := check.Run(context.Background(), pol, check.Options{Roots: []string{root}, Inspect: insp})
	require.NoError(t, err)
	require.NotNil(t, rep.Simulation)
	return rep
}

// finding is a finding reduced to what the sample tests compare.
type finding struct{ ID, Severity, Rule, File string }

func reduce(rep *check.Report) []finding {
	out := []finding{}
	for _, f := range rep.Findings {
		out = append(out, finding{f.ID, string(f.Severity), f.RuleRef(), f.File})
	}
	return out
}

const (
	svc     = `C:\Program Files\CrashPlan\CrashPlanService.exe`
	desktop = `C:\Program Files\CrashPlan\electron\CrashPlanDesktop.exe`
)

func TestCheckSampleWindows(t *testing.T) {
	win, v2 := filepath.Join(sampleDir, "windows"), filepath.Join(sampleDir, "v2", "windows")
	pinned, err := samplePolicy(win, "windows", edrpolicy.CriterionSigner, true, samplePin)
	require.NoError(t, err)
	unpinned, err := samplePolicy(win, "windows", edrpolicy.CriterionSigner, true)
	require.NoError(t, err)
	hashes, err := samplePolicy(win, "windows", edrpolicy.CriterionHash, false)
	require.NoError(t, err)

	t.Run("pinned policy, same install", func(t *testing.T) {
		rep := checkSample(t, pinned, win)
		assert.Equal(t, []finding{}, reduce(rep))
		assert.False(t, rep.Failed())
		assert.Equal(t, "4 executables: 1 covered by hash, 3 by signer, 0 by path, 0 not covered", rep.Simulation.Text)
		assert.Equal(t, []check.SimulatedRoot{{Root: win, InstallPaths: []string{`C:\Program Files\CrashPlan`}, From: "profile"}}, rep.Simulation.Roots)
		assert.Equal(t, "0 errors, 0 warnings, 0 notes", rep.Summary.Text)
	})
	t.Run("pinned policy, upgrade with a renewed certificate", func(t *testing.T) {
		rep := checkSample(t, pinned, v2)
		// The signer rule still allows the unchanged DLL, so it is not stale; the two new
		// builds carry the renewed certificate, which no rule names.
		assert.Equal(t, []finding{
			{"EDR101", "error", "", svc},
			{"EDR101", "error", "", desktop},
		}, reduce(rep))
		assert.Contains(t, rep.Findings[0].Message, "would not be allowed: no hash, signer or path rule covers it (valid signature by edrpolicy sample signer (NOT CrashPlan), thumbprint 48b9e39aa20a1776e0a15a2eb8df92317cf7199b)")
		assert.True(t, rep.Failed())
		assert.Equal(t, "4 executables: 1 covered by hash, 1 by signer, 0 by path, 2 not covered", rep.Simulation.Text)
	})
	t.Run("unpinned policy (narrowed signer rules), upgrade", func(t *testing.T) {
		rep := checkSample(t, unpinned, v2)
		assert.Equal(t, []finding{
			{"EDR101", "error", "", svc},
			{"EDR101", "error", "", desktop},
			{"EDR104", "warning", "rules[1]", svc},
			{"EDR104", "warning", "rules[3]", desktop},
		}, reduce(rep))
		assert.Equal(t, "4 executables: 1 covered by hash, 1 by signer, 0 by path, 2 not covered", rep.Simulation.Text)
	})
	t.Run("hash policy, upgrade: stale hashes", func(t *testing.T) {
		rep := checkSample(t, hashes, v2)
		assert.Equal(t, []finding{
			{"EDR101", "error", "", svc},
			{"EDR101", "error", "", desktop},
			{"EDR103", "warning", "rules[1]", svc},
			{"EDR103", "warning", "rules[3]", desktop},
		}, reduce(rep))
		assert.Equal(t, "hash rule matches no inspected file: stale (a new build replaced the file, or it is gone)", rep.Findings[2].Message)
		assert.Equal(t, "4 executables: 2 covered by hash, 0 by signer, 0 by path, 2 not covered", rep.Simulation.Text)
	})
	t.Run("the same report twice", func(t *testing.T) {
		a, b := checkSample(t, unpinned, v2), checkSample(t, unpinned, v2)
		assert.Equal(t, a, b)
	})
}

// copyTree copies a sample tree into a temporary folder of the same base name.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	require.NoError(t, os.CopyFS(dst, os.DirFS(src)))
	return dst
}

func flip(t *testing.T, file string, off int) {
	t.Helper()
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	b[off] ^= 1
	require.NoError(t, os.WriteFile(file, b, 0o644))
}

// TestCheckSampleTamperedPathRule: a path rule trusts whatever has the path. A tampered copy
// of a sample file covered only by a path rule is an error.
func TestCheckSampleTamperedPathRule(t *testing.T) {
	win := filepath.Join(sampleDir, "windows")
	// At --level path with neither --roots nor a pin no signer rule is possible: exact file
	// path rules for all four files.
	pol, err := samplePolicy(win, "windows", edrpolicy.CriterionPath, false)
	require.NoError(t, err)
	require.Equal(t, "4 files → 5 rules: 0 hash, 0 signer, 5 path", pol.Summary.Text)

	rep := checkSample(t, pol, win)
	assert.Equal(t, []finding{}, reduce(rep))
	assert.Equal(t, "4 executables: 0 covered by hash, 0 by signer, 4 by path, 0 not covered", rep.Simulation.Text)

	tampered := copyTree(t, win)
	flip(t, filepath.Join(tampered, "CrashPlanService.exe"), 1500)
	rep = checkSample(t, pol, tampered)
	require.Len(t, rep.Findings, 1)
	f := rep.Findings[0]
	assert.Equal(t, finding{"EDR102", "error", f.RuleRef(), svc}, reduce(rep)[0])
	assert.Equal(t, edrpolicy.CriterionPath, f.Criterion)
	assert.Equal(t, svc, f.Value)
	assert.Equal(t, "path rule covers a file whose signature does not verify (tampered, truncated or a broken bundle seal): the exception would allow modified code; remove the path rule, or confirm the install is genuine and use a hash rule", f.Message)
	assert.True(t, rep.Failed())
	assert.Equal(t, "4 executables: 0 covered by hash, 0 by signer, 4 by path, 0 not covered", rep.Simulation.Text)
	for _, sf := range rep.Simulation.Files {
		assert.Equal(t, filepath.Base(sf.Path) == "CrashPlanService.exe", sf.Tampered, sf.Path)
	}
}

// TestCheckSampleMac: the Team ID rule survives the renewed certificate of the upgrade; a
// modified sealed resource breaks the bundle seal, which a path rule would not notice.
func TestCheckSampleMac(t *testing.T) {
	mac := filepath.Join(sampleDir, "mac")
	pol, err := samplePolicy(mac, "mac", edrpolicy.CriterionSigner, true)
	require.NoError(t, err)
	rep := checkSample(t, pol, mac)
	assert.Equal(t, []finding{}, reduce(rep))
	assert.Equal(t, "1 executable: 0 covered by hash, 1 by signer, 0 by path, 0 not covered", rep.Simulation.Text)
	assert.Equal(t, []string{"/Applications"}, rep.Simulation.Roots[0].InstallPaths)
	// The sample signer's Team ID is not proven (its CA is not Apple's), so the rule names the
	// leaf certificate: the 11.2.0 build, signed with a renewed certificate, is not covered.
	rep = checkSample(t, pol, filepath.Join(sampleDir, "v2", "mac"))
	exe := "/Applications/CrashPlan.app/Contents/MacOS/CrashPlan"
	assert.Equal(t, []finding{{"EDR101", "error", "", exe}, {"EDR104", "warning", "rules[0]", exe}}, reduce(rep))
	assert.Equal(t, "1 executable: 0 covered by hash, 0 by signer, 0 by path, 1 not covered", rep.Simulation.Text)

	paths, err := samplePolicy(mac, "mac", edrpolicy.CriterionPath, false)
	require.NoError(t, err)
	broken := copyTree(t, mac)
	notice := filepath.Join(broken, "CrashPlan.app", "Contents", "Resources", "NOTICE.txt")
	require.NoError(t, os.WriteFile(notice, []byte("modified\n"), 0o644))
	rep = checkSample(t, paths, broken)
	assert.Equal(t, []finding{{"EDR102", "error", rep.Findings[0].RuleRef(), "/Applications/CrashPlan.app/Contents/MacOS/CrashPlan"}}, reduce(rep))
}

// Check simulates a policy against an install. Here the policy of the sample CrashPlan 11.1.0
// Windows install (signer rule for the pinned sample signer) meets the 11.2.0 upgrade, whose
// two new builds are signed with a renewed certificate: the EDR would block them.
func ExampleRun() {
	win := filepath.Join(sampleDir, "windows")
	pol, err := samplePolicy(win, "windows", edrpolicy.CriterionSigner, true, samplePin)
	if err != nil {
		fmt.Println(err)
		return
	}
	insp, err := sampleInspect(true)
	if err != nil {
		fmt.Println(err)
		return
	}
	rep, err := check.Run(context.Background(), pol, check.Options{
		Roots:   []string{filepath.Join(sampleDir, "v2", "windows")},
		Inspect: insp,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, f := range rep.Findings {
		fmt.Println(f.Severity, f.ID, f.File)
	}
	fmt.Println(rep.Simulation.Text)
	fmt.Println(rep.Summary.Text, "failed:", rep.Failed())
	// Output:
	// error EDR101 C:\Program Files\CrashPlan\CrashPlanService.exe
	// error EDR101 C:\Program Files\CrashPlan\electron\CrashPlanDesktop.exe
	// 4 executables: 1 covered by hash, 1 by signer, 0 by path, 2 not covered
	// 2 errors, 0 warnings, 0 notes failed: true
}
