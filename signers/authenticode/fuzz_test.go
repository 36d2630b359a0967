package authenticode

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
)

// fuzzSeed keeps the headers and the certificate table of a fixture and drops most section
// data, so that mutations hit the parsed structures rather than code bytes.
func fuzzSeed(t testing.TB, path string) []byte {
	b := readFile(t, path)
	p, err := parsePE(headerReader{head: b, size: int64(len(b))})
	if err != nil {
		t.Fatal(err)
	}
	hdr := append([]byte(nil), b[:p.sizeOfHeaders]...)
	// Keep the section table but make every section empty, then put the certificate table
	// (if any) right after the headers.
	peOff := int(le.Uint32(hdr[0x3c:]))
	optSize := int(le.Uint16(hdr[peOff+20:]))
	for i := range p.sections {
		off := peOff + 24 + optSize + i*sectionHeaderSize
		copy(hdr[off+16:off+24], make([]byte, 8))
	}
	if p.certSize > 0 {
		le.PutUint32(hdr[p.certDirOff:], uint32(len(hdr)))
		hdr = append(hdr, b[p.certStart:p.certStart+p.certSize]...)
	}
	return hdr
}

func FuzzVerify(f *testing.F) {
	if fx.buildErr == nil {
		for _, p := range []string{fx.rsa64, fx.ecTS64, fx.rsaTSPH32, fx.unsigned32} {
			f.Add(fuzzSeed(f, p))
		}
		if fx.dualErr == nil {
			f.Add(fuzzSeed(f, fx.dual))
		}
	}
	f.Add([]byte("MZ"))
	f.Add(append([]byte("MZ"), make([]byte, 0x100)...))
	v := NewWithoutSystemRoots()
	f.Fuzz(func(t *testing.T, b []byte) {
		in := signers.Input{Path: "fuzz.exe", R: bytes.NewReader(b), Size: int64(len(b)), Format: hashing.FormatPE}
		res, err := v.Verify(context.Background(), in, signers.Options{})
		if err == nil && res == nil {
			t.Fatal("nil result without error")
		}
		// The streaming path must agree with the random-access path.
		head := b[:min(len(b), hashing.SniffLen)]
		if tap := v.StreamTap(hashing.FormatPE, head, int64(len(b))); tap != nil {
			_, _ = tap.Write(b)
			in.Tap = tap
			res2, err2 := v.Verify(context.Background(), in, signers.Options{})
			if (err == nil) != (err2 == nil) {
				t.Fatalf("tap and no-tap disagree: %v vs %v", err, err2)
			}
			if err == nil && (res.Status != res2.Status || res.PE.AuthenticodeSHA256 != res2.PE.AuthenticodeSHA256) {
				t.Fatalf("tap and no-tap disagree: %s/%s vs %s/%s", res.Status, res.PE.AuthenticodeSHA256, res2.Status, res2.PE.AuthenticodeSHA256)
			}
		}
	})
}

// FuzzPEHeaders parses arbitrary PE headers and certificate tables. Every offset parsePE
// keeps must lie inside the file, the digest plan must read only the file's bytes, the
// certificate table must be split into entries that lie inside it, and the version resource
// reader must stay inside the file too.
func FuzzPEHeaders(f *testing.F) {
	if fx.buildErr == nil {
		for _, p := range []string{fx.rsa64, fx.rsaTSPH32, fx.unsigned32} {
			f.Add(fuzzSeed(f, p))
		}
	}
	f.Add(testfixtures.PETiny([]byte{0x30, 0x03, 0x02, 0x01, 0x05}))
	f.Fuzz(func(t *testing.T, b []byte) {
		size := int64(len(b))
		p, err := parsePE(headerReader{head: b, size: size})
		if err != nil {
			return
		}
		if p.sizeOfHeaders > size || p.certDirOff+8 > p.sizeOfHeaders || p.checksumOff+4 > p.sizeOfHeaders {
			t.Fatalf("header fields outside the headers: %+v", p)
		}
		for _, s := range p.sections {
			if s.SizeOfRawData != 0 && int64(s.PointerToRaw)+int64(s.SizeOfRawData) > size {
				t.Fatalf("section %q outside the file", s.Name)
			}
		}
		var table []byte
		if p.certSize > 0 {
			if p.certStart < p.sizeOfHeaders || p.certStart+p.certSize > size {
				t.Fatalf("certificate table %d+%d outside the file (%d)", p.certStart, p.certSize, size)
			}
			table = b[p.certStart : p.certStart+p.certSize]
		}
		if plan, _, err := p.digestPlan(); err == nil {
			for _, r := range plan {
				if r.off < 0 || r.n <= 0 || r.off+r.n > size {
					t.Fatalf("digest region %+v outside the file (%d)", r, size)
				}
			}
		}
		entries, err := splitCertTable(table)
		if err == nil {
			total := 0
			for _, e := range entries {
				if len(e.data) == 0 || len(e.data) > len(table) {
					t.Fatalf("entry of %d bytes from a %d-byte table", len(e.data), len(table))
				}
				total += 8 + len(e.data)
			}
			if total > len(table) {
				t.Fatalf("entries (%d bytes) larger than the table (%d)", total, len(table))
			}
		}
		_, _ = readVersion(bytes.NewReader(b), p)
	})
}

// tinySignedPE signs testfixtures.PETiny in-process (ECDSA leaf, RFC 3161 timestamp): a
// 1 KiB signed PE whose verification costs microseconds, for the fuzz target's base.
func tinySignedPE(t testing.TB) []byte {
	dir := t.TempDir()
	ca, err := testfixtures.NewCA("Fuzz Root CA")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := testfixtures.NewLeaf(ca, testfixtures.LeafOptions{CommonName: "Fuzz Signer", Key: testfixtures.KeyECDSA})
	if err != nil {
		t.Fatal(err)
	}
	tsa, err := testfixtures.NewTSA(ca, "Fuzz TSA")
	if err != nil {
		t.Fatal(err)
	}
	in, out := filepath.Join(dir, "tiny.exe"), filepath.Join(dir, "tiny-signed.exe")
	if err := os.WriteFile(in, testfixtures.PETiny(nil), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := testfixtures.PESign(leaf, nil, in, out, testfixtures.PESignOptions{TSA: &testfixtures.LocalTSA{TSA: tsa}}); err != nil {
		t.Fatal(err)
	}
	return readFile(t, out)
}

// FuzzCMSRelic puts arbitrary bytes in the certificate table of a signed PE in place of its
// signature and verifies the file, which runs the bounded BER walk and then relic's PKCS#7
// and PKCS#9 code on them (nested signatures and timestamp tokens included). A signature the
// fuzzer makes can only be valid if it signs the real image digest (the signer of a seed may
// be another fixture signer: signers are created per test process), and, with no root
// trusted, its chain is never trusted.
func FuzzCMSRelic(f *testing.F) {
	base := tinySignedPE(f)
	p, err := parsePE(headerReader{head: base, size: int64(len(base))})
	if err != nil || p.certSize == 0 {
		f.Fatalf("signed tiny PE: %v", err)
	}
	v := NewWithoutSystemRoots()
	verify := func(b []byte) (*signers.Result, error) {
		in := signers.Input{Path: "fuzz.exe", R: bytes.NewReader(b), Size: int64(len(b)), Format: hashing.FormatPE}
		return v.Verify(context.Background(), in, signers.Options{})
	}
	orig, err := verify(base)
	if err != nil || orig.Status != signers.StatusValid {
		f.Fatalf("signed tiny PE does not verify: %v", err)
	}
	image := orig.Signatures[0].SignedDigest
	withEntry := func(cms []byte) []byte {
		n := 8 + len(cms)
		padded := (n + 7) &^ 7
		b := append([]byte(nil), base[:p.certStart]...)
		le.PutUint32(b[p.certDirOff+4:], uint32(padded))
		entry := make([]byte, padded)
		le.PutUint32(entry, uint32(n))
		le.PutUint16(entry[4:], 0x0200)
		le.PutUint16(entry[6:], 2)
		copy(entry[8:], cms)
		return append(b, entry...)
	}
	seeds, _ := testfixtures.PECertEntries(base)
	if fx.buildErr == nil && fx.dualErr == nil {
		for _, path := range []string{fx.dual, fx.rsaTSPH32} { // nested signature; page hashes
			if entries, err := testfixtures.PECertEntries(readFile(f, path)); err == nil {
				seeds = append(seeds, entries...)
			}
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Add(testfixtures.BERBomb(100))
	f.Fuzz(func(t *testing.T, cms []byte) {
		res, err := verify(withEntry(cms))
		if err != nil {
			return
		}
		for _, s := range res.Signatures {
			if s.Status == signers.StatusInvalid && s.Error == "" {
				t.Fatal("invalid signature without a reason")
			}
			if s.Status != signers.StatusValid {
				continue
			}
			if s.Signer == nil || s.SignedDigest != image {
				t.Fatalf("valid signature over %s %s, not the image digest %s", s.DigestAlgorithm, s.SignedDigest, image)
			}
			if s.Chain == signers.ChainTrusted {
				t.Fatal("trusted chain with no root given")
			}
		}
	})
}
