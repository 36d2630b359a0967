package edrpolicy_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

// Decide works on evidence alone, so a program (or a test) can hand it an inventory it built
// itself. Here one unsigned and one validly signed, trusted executable of a Code42 11.x Linux
// install, at --level signer, for a product with backup.
func ExampleDecide() {
	prof, err := profile.BuiltIn("code42")
	if err != nil {
		fmt.Println(err)
		return
	}
	// The leaf's facts matter even for a pinned signer: it must be allowed to sign code and be
	// valid when it signed.
	cert := &signers.Certificate{CommonName: "Example Signer", ThumbprintSHA1: "ab12", ExtKeyUsage: []string{signers.EKUCodeSigning},
		NotBefore: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), NotAfter: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}
	inv := &edrpolicy.Inventory{Files: []edrpolicy.FileEvidence{
		{Path: "bin/CrashPlanService", Root: "/mnt/image/crashplan", Format: hashing.FormatPE,
			Digests: hashing.Digests{SHA256: "aa"}, SignatureStatus: signers.StatusValid,
			Signatures: []signers.Signature{{Kind: signers.KindAuthenticode, Status: signers.StatusValid, Chain: signers.ChainTrusted, Signer: cert}}},
		{Path: "bin/helper", Root: "/mnt/image/crashplan", Format: hashing.FormatPE,
			Digests: hashing.Digests{SHA256: "bb"}, SignatureStatus: signers.StatusUnsigned},
	}}
	pol, err := edrpolicy.Decide(inv, edrpolicy.DecideOptions{
		Profile: prof, OS: "linux", Version: "11.0", Product: "crashplan", Level: edrpolicy.CriterionSigner,
		PinSigners:   []string{"AB12"},
		InstallPaths: map[string][]string{"/mnt/image/crashplan": {"/usr/local/crashplan"}},
		Now:          time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pol.Summary.Text)
	for _, r := range pol.Rules {
		fmt.Printf("%s %s %s (%s)\n", r.Criterion, r.Role, r.Value, r.Reason)
	}
	// Output:
	// 2 files → 3 rules: 1 hash, 1 signer, 1 path
	// signer executable ab12 (valid signature, leaf certificate pinned by its thumbprint; one rule per signer survives upgrades until the certificate is renewed)
	// hash executable bb (unsigned: no signature to trust)
	// path cache /usr/local/crashplan/cache (scan exclusion the source recommends: cache files are benign records of the app's own operations)
}

// Generate inspects install folders and decides in one call; the returned policy is what
// `edrpolicy generate` writes. A version no source covers is an error naming the gap.
func ExampleGenerate() {
	dir, err := os.MkdirTemp("", "example-")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	root := filepath.Join(dir, "crashplan")
	_ = os.MkdirAll(filepath.Join(root, "bin"), 0o755)
	_ = os.WriteFile(filepath.Join(root, "bin", "run.conf"), []byte("SRV_JAVA_OPTS=\n"), 0o644)

	prof, _ := profile.BuiltIn("code42")
	opts := edrpolicy.GenerateOptions{
		Roots:      []string{root},
		AppVersion: "8.1",
		Decide:     edrpolicy.DecideOptions{Profile: prof, OS: "mac", Product: "crashplan", NoScanExclusions: true},
	}
	if _, err := edrpolicy.Generate(context.Background(), opts); err != nil {
		fmt.Println("refused: version 8.1 is a documented gap")
	}
	opts.Decide.AssumePaths = "8.2"
	pol, err := edrpolicy.Generate(context.Background(), opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(pol.AppVersion, pol.AssumedPaths, pol.Summary.Text)
	// Output:
	// refused: version 8.1 is a documented gap
	// 8.1 8.2 0 files → 0 rules: 0 hash, 0 signer, 0 path
}
