package authenticode_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/authenticode"
)

// Verify the Authenticode signature of one PE file and read what it says about the signer.
//
// The file is CrashPlanService.exe from the repository's sample install (examples/sample),
// signed by a throwaway CA whose certificate is examples/sample/ca.pem. That CA is in no
// system store, so it is passed as Options.Roots; Options.Now fixes the time the chain is
// judged at, because the signature carries no timestamp. The values printed can be checked
// with other tools:
//
//	osslsigncode verify -CAfile examples/sample/ca.pem -in examples/sample/windows/CrashPlanService.exe
//	osslsigncode extract-signature -pem -in examples/sample/windows/CrashPlanService.exe -out sig.pem
//	openssl pkcs7 -in sig.pem -print_certs | openssl x509 -noout -fingerprint -sha1
func Example() {
	const file = "../../examples/sample/windows/CrashPlanService.exe"

	// Trust roots: PEM certificates, as a --roots file holds them.
	pemData, err := os.ReadFile("../../examples/sample/ca.pem")
	if err != nil {
		fmt.Println(err)
		return
	}
	roots, _, err := signers.ParseRoots(pemData)
	if err != nil {
		fmt.Println(err)
		return
	}
	opts := signers.Options{Roots: roots, Now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}

	// The Verifier reads the file through an io.ReaderAt and needs its size.
	f, err := os.Open(file)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		fmt.Println(err)
		return
	}

	// New trusts the system pool plus opts.Roots; NewWithoutSystemRoots only opts.Roots, so
	// the verdict does not depend on the machine.
	v := authenticode.NewWithoutSystemRoots()
	res, err := v.Verify(context.Background(), signers.Input{
		Path: file, R: f, Size: fi.Size(), Format: hashing.FormatPE,
	}, opts)
	if err != nil { // not a PE file, or headers too broken to read
		fmt.Println(err)
		return
	}

	// res.Status aggregates every signature; each signature has its own status (is it valid
	// for these bytes?) and chain verdict (does its signer chain to a trusted root?).
	fmt.Println("file:", res.Status)
	for _, sig := range res.Signatures {
		fmt.Println("signature:", sig.Status, sig.DigestAlgorithm, "nested:", sig.Nested)
		fmt.Println("chain:", sig.Chain, "anchor:", sig.Anchor)
		fmt.Println("signer CN:", sig.Signer.CommonName)
		fmt.Println("signer SHA-1 thumbprint:", sig.Signer.ThumbprintSHA1)
		fmt.Println("signer serial:", sig.Signer.Serial)
	}
	fmt.Println("machine:", res.PE.Machine)
	fmt.Println("Authenticode SHA-256:", res.PE.AuthenticodeSHA256)
	fmt.Println("file version:", res.PE.Version.FileVersion)
	// Output:
	// file: valid
	// signature: valid sha256 nested: false
	// chain: trusted anchor: roots
	// signer CN: edrpolicy sample signer (NOT CrashPlan)
	// signer SHA-1 thumbprint: ea85936ab6f5ee86cd20bb9323ef87bd4220a617
	// signer serial: 1001
	// machine: amd64
	// Authenticode SHA-256: d70e64c86bd60b341649996d6054572ac1bdb9b5d9155ef19ade45f4a84d7139
	// file version: 11.1.0.0
}

// Without the sample CA among the trusted roots the signature is still valid (the bytes are
// what the signer signed), but its chain ends at a root this machine does not hold. Trust is
// reported apart from validity; deciding what to do with an unknown root is the caller's job.
func ExampleVerifier_Verify_unknownRoot() {
	const file = "../../examples/sample/windows/CrashPlanService.exe"
	f, err := os.Open(file)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := authenticode.NewWithoutSystemRoots().Verify(context.Background(), signers.Input{
		Path: file, R: f, Size: fi.Size(), Format: hashing.FormatPE,
	}, signers.Options{Now: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		fmt.Println(err)
		return
	}
	sig := res.Signatures[0]
	fmt.Println(sig.Status, sig.Chain)
	// Output:
	// valid unknown-root
}
