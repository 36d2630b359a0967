// Command endtoend is the whole job through the library, step by step: ask the vendors which
// digests they write, inspect an install, decide the policy, export it for Microsoft Defender
// and write the output set. It uses only the public API, on the bundled sample install (tiny
// files signed by a throwaway sample CA, NOT real CrashPlan):
//
//	go run ./examples/endtoend -out out-lib
//
// writes the policy, the Defender files, coverage.json and MANIFEST.sha256 into out-lib, as
// `edrpolicy generate --profile code42 --os windows --root examples/sample/windows --roots
// examples/sample/ca.pem --level signer --pin-signer ea85936ab6f5ee86cd20bb9323ef87bd4220a617
// --vendor defender --defender-sha1 --out out-lib` does. Without -out it prints what it would
// write.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/defender"
	"github.com/edrpolicy/edrpolicy/output"
	"github.com/edrpolicy/edrpolicy/signers"
)

// samplePin is the sample signer's leaf thumbprint: the code42 profile expects no Windows
// signer, so without a pin each signer rule would be narrowed to its file.
const samplePin = "ea85936ab6f5ee86cd20bb9323ef87bd4220a617"

func main() {
	root := flag.String("root", "examples/sample/windows", "the install folder to inspect")
	roots := flag.String("roots", "examples/sample/ca.pem", "extra trusted root certificates (PEM)")
	out := flag.String("out", "", "output directory (empty: print only)")
	flag.Parse()
	if err := run(context.Background(), os.Stdout, *root, *roots, *out); err != nil {
		fmt.Fprintln(os.Stderr, "endtoend:", err)
		os.Exit(2)
	}
}

// run inspects root (trusting the roots in rootsFile), decides a signer-level Windows policy
// with the code42 profile, exports it for Defender, prints a summary to w and, when out is
// not empty, writes the output set there.
func run(ctx context.Context, w io.Writer, root, rootsFile, out string) error {
	// 1. The vendors, each configured with its own options: ask them which digests they
	// write besides SHA-256, so that the inspection computes those too.
	vendors := []string{defender.Name}
	reg, err := exporters.Configured(exporters.Vendors{Defender: defender.Options{SHA1: true}})
	if err != nil {
		return err
	}
	digests, err := exporters.DigestsFor(reg, vendors)
	if err != nil {
		return err
	}

	// 2. Inspect the install, trusting the sample CA for the signatures' chains.
	pem, err := os.ReadFile(rootsFile)
	if err != nil {
		return err
	}
	trusted, _, err := signers.ParseRoots(pem)
	if err != nil {
		return fmt.Errorf("%s: %w", rootsFile, err)
	}
	inv, err := edrpolicy.Inspect(ctx, []string{root}, edrpolicy.InspectOptions{
		Digests: digests,
		Verify:  signers.Options{Roots: trusted},
	})
	if err != nil {
		return err
	}

	// 3. Decide: the version is read from the install; the profile's path table for that
	// version says where the application lives on endpoints (Decide maps each root to it),
	// so the files' rules name their endpoint paths.
	prof, err := profile.BuiltIn("code42")
	if err != nil {
		return err
	}
	ver, err := edrpolicy.DetectVersion(inv, prof, "windows")
	if err != nil {
		return err
	}
	pol, err := edrpolicy.Decide(inv, edrpolicy.DecideOptions{
		Profile: prof, OS: "windows", Version: ver.Version, VersionSource: ver.Source,
		Level:      edrpolicy.CriterionSigner,
		PinSigners: []string{samplePin},
		Roots:      []string{root},
	})
	if err != nil {
		return err
	}

	// 4. Export: Collect admits the policy (the guardrail refusals) and runs the chosen
	// exporters with the options they share.
	res, err := exporters.Collect(reg, pol, vendors, exporters.Options{})
	if err != nil {
		return err
	}

	// 5. Report, and write the output set (atomically, with MANIFEST.sha256).
	fmt.Fprintf(w, "%s %s %s: %d rules\n", pol.Profile, pol.OS, pol.AppVersion, len(pol.Rules))
	for _, r := range pol.Rules {
		fmt.Fprintf(w, "  %s %s: %s\n", r.Criterion, r.Role, strings.Join(r.Files, ", "))
	}
	for _, v := range res.Coverage.Vendors {
		fmt.Fprintln(w, v.Line())
	}
	data, err := pol.JSON()
	if err != nil {
		return err
	}
	files := append(res.Files, output.File{Name: output.PolicyFileName, Data: data})
	for _, f := range files {
		fmt.Fprintln(w, "  "+f.Name)
	}
	if out == "" {
		return nil
	}
	return output.WriteSet(out, files)
}
