package macho_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/macho"
)

// Verify the Apple code signature of one Mach-O file and read its Team ID, signing
// identifier, CDHash and signer.
//
// The file is the main executable of the repository's sample app bundle
// (examples/sample/mac/CrashPlan.app), signed under a throwaway "Developer ID" CA that chains
// to examples/sample/ca.pem. Apple's root CA is always trusted; the sample CA is added with
// Options.Roots. Options.Now fixes the time the chain is judged at, because the signature
// carries no timestamp. Passing the file system (FS, Name) lets the verifier compare the
// signature's bound Info.plist and CodeResources with the bundle's files on disk.
//
// The values printed can be checked with other tools (machocheck.py is in this package's
// testdata; the leaf certificate carries Apple's critical Developer ID extension, which
// openssl does not know, hence -ignore_critical):
//
//	python3 signers/macho/testdata/machocheck.py examples/sample/mac/CrashPlan.app/Contents/MacOS/CrashPlan /tmp/cp
//	openssl cms -verify -noverify -inform DER -in /tmp/cp.cms.der -content /tmp/cp.cd0.bin -binary -out /dev/null
//	openssl pkcs7 -inform DER -in /tmp/cp.cms.der -print_certs > /tmp/cp.pem
//	openssl x509 -in /tmp/cp.pem -noout -fingerprint -sha1
//	openssl verify -CAfile examples/sample/ca.pem -untrusted /tmp/cp.pem -ignore_critical -purpose any /tmp/cp.pem
func Example() {
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

	fsys := os.DirFS("../../examples/sample")
	const name = "mac/CrashPlan.app/Contents/MacOS/CrashPlan"
	f, err := fsys.Open(name)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	r, ok := f.(io.ReaderAt) // the verifier needs random access; os.DirFS files have it
	if !ok {
		fmt.Println(name, "does not support ReadAt")
		return
	}
	fi, err := f.Stat()
	if err != nil {
		fmt.Println(err)
		return
	}

	// Sniff tells a thin Mach-O from a universal one (and from anything else).
	head := make([]byte, hashing.SniffLen)
	n, _ := r.ReadAt(head, 0)
	format := hashing.Sniff(head[:n], r, fi.Size())

	res, err := macho.New().Verify(context.Background(), signers.Input{
		Path: name, FS: fsys, Name: name, R: r, Size: fi.Size(), Format: format,
	}, opts)
	if err != nil { // not a Mach-O file, or load commands too broken to read
		fmt.Println(err)
		return
	}

	// One signature per slice: its own status (do the bytes match the signature?) and chain
	// verdict (does the signer chain to a trusted root?).
	fmt.Println("format:", format, "file:", res.Status)
	for _, sig := range res.Signatures {
		fmt.Println("slice:", sig.Arch, sig.Status, sig.SignerClass)
		fmt.Println("team ID:", sig.TeamID)
		fmt.Println("identifier:", sig.SigningID)
		fmt.Println("CDHash:", sig.CDHash)
		fmt.Println("chain:", sig.Chain, "anchor:", sig.Anchor)
		fmt.Println("signer CN:", sig.Signer.CommonName)
		fmt.Println("signer SHA-1 thumbprint:", sig.Signer.ThumbprintSHA1)
		fmt.Println("notes:", len(sig.Notes))
	}
	for _, sl := range res.MachO.Slices {
		fmt.Println("flags:", sl.Flags, "CodeDirectory:", sl.CDVersion, sl.HashType)
	}
	// Output:
	// format: macho file: valid
	// slice: arm64 valid developer-id
	// team ID: EDRSAMPLE1
	// identifier: com.example.edrpolicy-sample.crashplan
	// CDHash: 6efdb6755f55f645205bc38e0f4301c72487e065
	// chain: trusted anchor: roots
	// signer CN: Developer ID Application: edrpolicy sample, NOT CrashPlan (EDRSAMPLE1)
	// signer SHA-1 thumbprint: a794a1eddcd5e3daa02b6db858a6f4bc9aede95f
	// notes: 0
	// flags: [runtime] CodeDirectory: 0x20300 sha256
}

// Verify a whole .app bundle: Info.plist, the main executable's signature, nested code and
// the sealed resources listed in _CodeSignature/CodeResources.
func ExampleVerifier_VerifyBundle() {
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

	v := macho.New()
	fsys := os.DirFS("../../examples/sample/mac")
	const dir = "CrashPlan.app"
	if !v.IsBundle(fsys, dir) {
		fmt.Println(dir, "is not a bundle")
		return
	}
	res, err := v.VerifyBundle(context.Background(), fsys, dir, opts)
	if err != nil {
		fmt.Println(err)
		return
	}
	b := res.Bundle
	fmt.Println("bundle:", res.Status)
	fmt.Println("identifier:", b.Identifier, "version:", b.ShortVersion, "executable:", b.Executable)
	fmt.Println("modified, missing, added:", len(b.Modified), len(b.Missing), len(b.Added))
	for _, sig := range res.Signatures {
		fmt.Printf("%q %s %s %s\n", sig.Path, sig.Status, sig.TeamID, sig.Chain)
	}
	// Output:
	// bundle: valid
	// identifier: com.example.edrpolicy-sample.crashplan version: 11.1.0 executable: CrashPlan
	// modified, missing, added: 0 0 0
	// "" valid EDRSAMPLE1 trusted
}
