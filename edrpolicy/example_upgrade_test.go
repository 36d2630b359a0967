package edrpolicy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/signers"
)

// sampleDir is the sample install shipped in examples/sample (signed by a throwaway sample
// CA: NOT real CrashPlan software).
const sampleDir = "../examples/sample"

// generateSample runs Generate on a tree of the sample install, trusting the sample CA, at
// --level signer; previous, when set, is the policy it replaces.
func generateSample(tree string, previous *edrpolicy.Policy, keep bool) (*edrpolicy.Policy, error) {
	prof, err := profile.BuiltIn("code42")
	if err != nil {
		return nil, err
	}
	pem, err := os.ReadFile(filepath.Join(sampleDir, "ca.pem"))
	if err != nil {
		return nil, err
	}
	roots, _, err := signers.ParseRoots(pem)
	if err != nil {
		return nil, err
	}
	return edrpolicy.Generate(context.Background(), edrpolicy.GenerateOptions{
		Roots:      []string{filepath.Join(sampleDir, tree)},
		AppVersion: edrpolicy.VersionAuto,
		Inspect:    edrpolicy.InspectOptions{Verify: signers.Options{Roots: roots}},
		Decide: edrpolicy.DecideOptions{
			Profile: prof, OS: "windows", Level: edrpolicy.CriterionSigner,
			Previous: previous, KeepPrevious: keep,
		},
	})
}

// Generate inspects an install (here the sample CrashPlan 11.1.0 Windows tree), reads its
// version, and decides one rule per file: signer rules for the validly signed files (the
// sample signer is neither pinned nor known to the profile, so each rule is narrowed to its
// file), a hash rule for the unsigned uninstaller, and the profile's scan exclusions.
func ExampleGenerate_sampleInstall() {
	pol, err := generateSample("windows", nil, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pol.AppVersion, "from", pol.AppVersionSource)
	fmt.Println(pol.Summary.Text)
	for _, r := range pol.Rules {
		fmt.Println(r.Criterion, r.Files[0], "file_name="+r.FileName)
	}
	// Output:
	// 11.1.0 from pe product_version of CrashPlanService.exe
	// 4 files → 5 rules: 1 hash, 3 signer, 1 path
	// signer C:\Program Files\CrashPlan\CrashPlanNative.dll file_name=CrashPlanNative.dll
	// signer C:\Program Files\CrashPlan\CrashPlanService.exe file_name=CrashPlanService.exe
	// hash C:\Program Files\CrashPlan\Uninstall.exe file_name=
	// signer C:\Program Files\CrashPlan\electron\CrashPlanDesktop.exe file_name=CrashPlanDesktop.exe
	// path C:\ProgramData\CrashPlan\cache file_name=
}

// Diff compares the policy of the sample install with the one of its upgrade (v2: new builds
// of both executables, signed with a renewed certificate; the DLL and the uninstaller are
// unchanged): exactly the two renewed signer rules change.
func ExampleDiff() {
	v1, err := generateSample("windows", nil, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	v2, err := generateSample("v2/windows", nil, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	d := edrpolicy.Diff(v1, v2)
	for _, f := range d.Fields {
		fmt.Printf("%s: %s → %s\n", f.Field, f.Old, f.New)
	}
	for _, c := range d.Changes {
		fmt.Println(c.Change, c.Criterion, c.Files[0], "renewed:", c.Renewed)
	}
	fmt.Println("equal:", d.Equal())
	// Output:
	// app_version: 11.1.0 → 11.2.0
	// changed signer C:\Program Files\CrashPlan\CrashPlanService.exe renewed: true
	// changed signer C:\Program Files\CrashPlan\electron\CrashPlanDesktop.exe renewed: true
	// equal: false
}

// DecideOptions.Previous with KeepPrevious: during a staged rollout (the seeds' delayed
// client upgrade) both versions run, so the rules of the old version that the new install no
// longer matches are kept, labelled with their version, and listed as superseded.
func ExampleDecideOptions_keepPrevious() {
	v1, err := generateSample("windows", nil, false)
	if err != nil {
		fmt.Println(err)
		return
	}
	union, err := generateSample("v2/windows", v1, true)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(union.Summary.Text)
	for _, r := range union.Rules {
		if r.Criterion == edrpolicy.CriterionSigner {
			fmt.Printf("%s %s app_version=%q\n", r.Value[:8], r.FileName, r.AppVersion)
		}
	}
	for _, s := range union.Superseded {
		fmt.Println("superseded:", s.Value[:8], "by", s.By[:8], "kept:", s.Kept)
	}
	// Output:
	// 4 files → 7 rules: 1 hash, 5 signer, 1 path (2 kept from 11.1.0)
	// ea85936a CrashPlanNative.dll app_version=""
	// 48b9e39a CrashPlanService.exe app_version=""
	// ea85936a CrashPlanService.exe app_version="11.1.0"
	// 48b9e39a CrashPlanDesktop.exe app_version=""
	// ea85936a CrashPlanDesktop.exe app_version="11.1.0"
	// superseded: ea85936a by 48b9e39a kept: true
	// superseded: ea85936a by 48b9e39a kept: true
}
