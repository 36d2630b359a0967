package authenticode

import (
	"bytes"
	"context"
	"crypto"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sassoftware/relic/v7/lib/authenticode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
)

// relicImprint computes the image digest with relic, an independent implementation.
func relicImprint(t *testing.T, path string, h crypto.Hash) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	d, err := authenticode.DigestPE(f, h, false)
	require.NoError(t, err)
	return hex.EncodeToString(d.Imprint)
}

func TestVerifyFixtures(t *testing.T) {
	needFixtures(t)
	v := NewWithoutSystemRoots()
	unsignedDigest := relicImprint(t, fx.unsigned64, crypto.SHA256)
	type want struct {
		alg    string
		cn     string
		ts     bool
		nested bool
	}
	cases := []struct {
		name    string
		path    func() string
		machine string
		sigs    []want
	}{
		{"unsigned amd64", func() string { return fx.unsigned64 }, "amd64", nil},
		{"unsigned 386", func() string { return fx.unsigned32 }, "i386", nil},
		{"rsa sha256", func() string { return fx.rsa64 }, "amd64", []want{{alg: "sha256", cn: "Fixture RSA Signer"}}},
		{"ecdsa sha256 rfc3161", func() string { return fx.ecTS64 }, "amd64", []want{{alg: "sha256", cn: "Fixture ECDSA Signer", ts: true}}},
		{"pe32 rsa rfc3161 page hashes", func() string { return fx.rsaTSPH32 }, "i386", []want{{alg: "sha256", cn: "Fixture RSA Signer", ts: true}}},
		{"sha1 page hashes v1", func() string { return fx.sha1PH64 }, "amd64", []want{{alg: "sha1", cn: "Fixture RSA Signer"}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, useTap := range []bool{false, true} {
				res, _ := verifyFile(t, v, tc.path(), signers.Options{Roots: fx.ca.Pool()}, useTap)
				require.NotNil(t, res.PE)
				assert.Equal(t, tc.machine, res.PE.Machine)
				assert.Equal(t, relicImprint(t, tc.path(), crypto.SHA256), res.PE.AuthenticodeSHA256)
				if tc.machine == "amd64" {
					// Signing never changes the image digest.
					assert.Equal(t, unsignedDigest, res.PE.AuthenticodeSHA256)
				}
				require.NotNil(t, res.PE.Version)
				assert.Equal(t, signers.PEVersion{FileVersion: "1.2.3.4", ProductVersion: "1.2.0", CompanyName: "Fixture Corp", ProductName: "Fixture Hello", OriginalFilename: "hello.exe"}, *res.PE.Version)
				if len(tc.sigs) == 0 {
					assert.Equal(t, signers.StatusUnsigned, res.Status)
					assert.Empty(t, res.Signatures)
					continue
				}
				assert.Equal(t, signers.StatusValid, res.Status)
				require.Len(t, res.Signatures, len(tc.sigs))
				for i, w := range tc.sigs {
					s := res.Signatures[i]
					assert.Equal(t, signers.StatusValid, s.Status, s.Error)
					assert.Empty(t, s.Error)
					assert.Equal(t, signers.KindAuthenticode, s.Kind)
					assert.Equal(t, w.alg, s.DigestAlgorithm)
					assert.Equal(t, w.nested, s.Nested)
					h := crypto.SHA256
					if w.alg == "sha1" {
						h = crypto.SHA1
					}
					assert.Equal(t, relicImprint(t, tc.path(), h), s.SignedDigest)
					assert.Equal(t, signers.ChainTrusted, s.Chain, s.ChainError)
					require.NotNil(t, s.Signer)
					assert.Equal(t, w.cn, s.Signer.CommonName)
					assert.Equal(t, "Fixture Corp", s.Signer.Organization)
					assert.Equal(t, "CN=Fixture Root CA,O=Fixture Trust", s.Signer.Issuer)
					if w.ts {
						require.NotNil(t, s.Timestamp)
						assert.WithinDuration(t, time.Now(), *s.Timestamp, 10*time.Minute)
					} else {
						assert.Nil(t, s.Timestamp)
					}
				}
			}
		})
	}
}

func TestSignerFields(t *testing.T) {
	needFixtures(t)
	res, _ := verifyFile(t, NewWithoutSystemRoots(), fx.ecTS64, signers.Options{Roots: fx.ca.Pool()}, false)
	require.Len(t, res.Signatures, 1)
	s := res.Signatures[0].Signer
	leaf := fx.ecLeaf.Cert
	assert.Equal(t, testfixtures.Thumbprint256(leaf), s.ThumbprintSHA256)
	assert.Equal(t, leaf.SerialNumber.Text(16), s.Serial)
	assert.Equal(t, "CN=Fixture ECDSA Signer,O=Fixture Corp", s.Subject)
	assert.Equal(t, leaf.NotBefore.UTC(), s.NotBefore)
	assert.Equal(t, leaf.NotAfter.UTC(), s.NotAfter)
	assert.Equal(t, leaf.Raw, s.Raw)
}

func TestDualSignature(t *testing.T) {
	needDual(t)
	for _, useTap := range []bool{false, true} {
		res, _ := verifyFile(t, NewWithoutSystemRoots(), fx.dual, signers.Options{Roots: fx.ca.Pool()}, useTap)
		require.Len(t, res.Signatures, 2)
		assert.Equal(t, signers.StatusValid, res.Status)
		p, n := res.Signatures[0], res.Signatures[1]
		assert.False(t, p.Nested)
		assert.True(t, n.Nested)
		assert.Equal(t, "sha1", p.DigestAlgorithm)
		assert.Equal(t, "sha256", n.DigestAlgorithm)
		assert.Equal(t, relicImprint(t, fx.dual, crypto.SHA1), p.SignedDigest)
		assert.Equal(t, relicImprint(t, fx.dual, crypto.SHA256), n.SignedDigest)
		assert.Equal(t, "Fixture RSA Signer", p.Signer.CommonName)
		assert.Equal(t, "Fixture ECDSA Signer", n.Signer.CommonName)
		assert.Nil(t, p.Timestamp)
		require.NotNil(t, n.Timestamp)
		assert.Equal(t, fx.tsa.Cert.NotBefore.Unix()+7200, n.Timestamp.Unix())
		for _, s := range res.Signatures {
			assert.Equal(t, signers.StatusValid, s.Status, s.Error)
			assert.Equal(t, signers.ChainTrusted, s.Chain, s.ChainError)
		}
	}
}

func TestChainStatus(t *testing.T) {
	needFixtures(t)
	v := NewWithoutSystemRoots()
	later := time.Now().AddDate(3, 0, 0) // after the leaves expire, before the CA does
	cases := []struct {
		name  string
		path  func() string
		opts  signers.Options
		chain signers.Chain
	}{
		{"no roots", func() string { return fx.rsa64 }, signers.Options{}, signers.ChainUnknownRoot},
		{"fixture root", func() string { return fx.rsa64 }, signers.Options{Roots: fx.ca.Pool()}, signers.ChainTrusted},
		{"expired leaf, no timestamp", func() string { return fx.rsa64 }, signers.Options{Roots: fx.ca.Pool(), Now: later}, signers.ChainUntrusted},
		// With a valid timestamp the chain is judged at the timestamp time.
		{"expired leaf, timestamped", func() string { return fx.ecTS64 }, signers.Options{Roots: fx.ca.Pool(), Now: later}, signers.ChainTrusted},
		{"wrong root", func() string { return fx.ecTS64 }, signers.Options{Roots: fx.tsa.Pool()}, signers.ChainUnknownRoot},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := verifyFile(t, v, tc.path(), tc.opts, false)
			require.Len(t, res.Signatures, 1)
			s := res.Signatures[0]
			assert.Equal(t, tc.chain, s.Chain, s.ChainError)
			// Chain status never changes signature validity.
			assert.Equal(t, signers.StatusValid, s.Status)
			if tc.chain == signers.ChainTrusted {
				assert.Empty(t, s.ChainError)
			} else {
				assert.NotEmpty(t, s.ChainError)
			}
		})
	}
}

// TestStreamTapReadsLittle checks that with the tap, Verify reads only the version resource
// (the digest and certificate table came from the hasher's single read).
func TestStreamTapReadsLittle(t *testing.T) {
	needFixtures(t)
	v := NewWithoutSystemRoots()
	size := int64(len(readFile(t, fx.ecTS64)))
	resTap, crTap := verifyFile(t, v, fx.ecTS64, signers.Options{Roots: fx.ca.Pool()}, true)
	resNo, crNo := verifyFile(t, v, fx.ecTS64, signers.Options{Roots: fx.ca.Pool()}, false)
	assert.Equal(t, resNo, resTap)
	assert.Less(t, crTap.n.Load(), int64(8<<10), "bytes read by Verify after the streaming read")
	assert.LessOrEqual(t, crNo.n.Load(), size+16<<10, "without the tap Verify reads the file about once")
	t.Logf("file %d bytes; Verify read %d bytes in %d calls with the tap, %d bytes in %d calls without",
		size, crTap.n.Load(), crTap.calls.Load(), crNo.n.Load(), crNo.calls.Load())
}

// TestTapMismatchFallsBack: a tap that saw a different byte count is ignored.
func TestTapMismatchFallsBack(t *testing.T) {
	needFixtures(t)
	v := NewWithoutSystemRoots()
	b := readFile(t, fx.rsa64)
	tap := v.StreamTap(hashing.FormatPE, b[:4096], int64(len(b)))
	require.NotNil(t, tap)
	_, _ = tap.Write(b[:len(b)/2]) // short read: the file "shrank"
	res, err := v.Verify(context.Background(), signers.Input{R: bytes.NewReader(b), Size: int64(len(b)), Tap: tap}, signers.Options{Roots: fx.ca.Pool()})
	require.NoError(t, err)
	assert.Equal(t, signers.StatusValid, res.Status)
	assert.Nil(t, v.StreamTap(hashing.FormatOther, b[:4096], int64(len(b))))
	assert.Nil(t, v.StreamTap(hashing.FormatPE, []byte("MZ"), int64(len(b))))
}

// certDir returns the certificate table's offset and size and the offset of its directory entry.
func certDir(t *testing.T, b []byte) (start, size, dirOff int) {
	t.Helper()
	p, err := parsePE(headerReader{head: b, size: int64(len(b))})
	require.NoError(t, err)
	return int(p.certStart), int(p.certSize), int(p.certDirOff)
}

func sectionOf(t *testing.T, b []byte, name string) section {
	t.Helper()
	p, err := parsePE(headerReader{head: b, size: int64(len(b))})
	require.NoError(t, err)
	for _, s := range p.sections {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no section %s", name)
	return section{}
}

const blobMut = "signature blob"

func TestTamper(t *testing.T) {
	needFixtures(t)
	v := NewWithoutSystemRoots()
	paths := map[string]string{"rsa64": fx.rsa64, "ecTS64": fx.ecTS64, "rsaTSPH32": fx.rsaTSPH32, "sha1PH64": fx.sha1PH64}
	if fx.dualErr == nil {
		paths["dual"] = fx.dual
	}
	flip := func(off int) func(*testing.T, []byte) []byte {
		return func(t *testing.T, b []byte) []byte { b[off] ^= 0x40; return b }
	}
	type mut struct {
		name string
		fn   func(*testing.T, []byte) []byte
	}
	muts := []mut{
		{"code byte", func(t *testing.T, b []byte) []byte {
			s := sectionOf(t, b, ".text")
			return flip(int(s.PointerToRaw+s.SizeOfRawData/2))(t, b)
		}},
		{"section header name", func(t *testing.T, b []byte) []byte {
			p, _ := parsePE(headerReader{head: b, size: int64(len(b))})
			off := int(p.certDirOff) + 8 + (16-5)*8 // the section table follows 16 directories
			return flip(off+1)(t, b)
		}},
		{"section header size", func(t *testing.T, b []byte) []byte {
			p, _ := parsePE(headerReader{head: b, size: int64(len(b))})
			off := int(p.certDirOff) + 8 + (16-5)*8 + 40 + 8 // second section's VirtualSize
			return flip(off)(t, b)
		}},
		{"timestamp field in the COFF header", func(t *testing.T, b []byte) []byte {
			peOff := int(binary.LittleEndian.Uint32(b[0x3c:]))
			return flip(peOff+8)(t, b)
		}},
		{"last byte before the certificate table", func(t *testing.T, b []byte) []byte {
			start, _, _ := certDir(t, b)
			return flip(start-1)(t, b)
		}},
		{"truncated by 1 byte", func(t *testing.T, b []byte) []byte { return b[:len(b)-1] }},
		{"truncated to half", func(t *testing.T, b []byte) []byte { return b[:len(b)/2] }},
		{"truncated inside the certificate table", func(t *testing.T, b []byte) []byte {
			start, size, _ := certDir(t, b)
			return b[:start+size/2]
		}},
		{"data appended after the certificate table", func(t *testing.T, b []byte) []byte {
			return append(b, []byte("MALWARE PAYLOAD!")...)
		}},
		{"second certificate entry appended (garbage)", func(t *testing.T, b []byte) []byte {
			start, size, dirOff := certDir(t, b)
			entry := make([]byte, 16)
			binary.LittleEndian.PutUint32(entry, 16)
			binary.LittleEndian.PutUint16(entry[4:], 0x200)
			binary.LittleEndian.PutUint16(entry[6:], 2)
			copy(entry[8:], "garbage!")
			binary.LittleEndian.PutUint32(b[dirOff+4:], uint32(size+16))
			_ = start
			return append(b, entry...)
		}},
		{"second certificate entry appended, directory not updated", func(t *testing.T, b []byte) []byte {
			start, size, _ := certDir(t, b)
			return append(b, b[start:start+size]...)
		}},
		{"certificate directory points past EOF", func(t *testing.T, b []byte) []byte {
			_, size, dirOff := certDir(t, b)
			binary.LittleEndian.PutUint32(b[dirOff:], uint32(len(b)-size+8))
			return b
		}},
		{"certificate directory size enlarged", func(t *testing.T, b []byte) []byte {
			_, size, dirOff := certDir(t, b)
			binary.LittleEndian.PutUint32(b[dirOff+4:], uint32(size+1<<20))
			return b
		}},
		{"certificate directory cleared", func(t *testing.T, b []byte) []byte {
			_, _, dirOff := certDir(t, b)
			copy(b[dirOff:dirOff+8], make([]byte, 8))
			return b
		}},
	}
	// Flip bytes spread over the signature blob (the PKCS#7 after the 8-byte entry header).
	for _, frac := range []int{1, 5, 10, 20, 35, 50, 65, 80, 90, 99} {
		frac := frac
		muts = append(muts, mut{fmt.Sprintf("%s byte at %d%%", blobMut, frac), func(t *testing.T, b []byte) []byte {
			start, size, _ := certDir(t, b)
			return flip(start+8+(size-8-1)*frac/100)(t, b)
		}})
	}
	for name, path := range paths {
		orig := readFile(t, path)
		base, err := verifyBytes(t, v, orig, signers.Options{Roots: fx.ca.Pool()})
		require.NoError(t, err)
		for _, m := range muts {
			t.Run(name+"/"+m.name, func(t *testing.T) {
				b := m.fn(t, append([]byte(nil), orig...))
				res, err := verifyBytes(t, v, b, signers.Options{Roots: fx.ca.Pool()})
				if err != nil {
					assert.True(t, isMalformed(err), "error should be ErrMalformed/ErrNotPE: %v", err)
					return
				}
				if m.name == "certificate directory cleared" {
					assert.Equal(t, signers.StatusUnsigned, res.Status)
					return
				}
				if strings.HasPrefix(m.name, blobMut) && res.Status == signers.StatusValid {
					// Inside a timestamp token a flip may hit an unused certificate or an
					// envelope field; it must still change the report (see TestTamperSweep).
					assert.False(t, name == "rsa64", "rsa64 has no timestamp: every blob byte matters")
					if assert.ObjectsAreEqual(base, res) {
						t.Logf("known limit: the flip hit an unused certificate or envelope field of a timestamp token")
					}
					return
				}
				assert.Equal(t, signers.StatusInvalid, res.Status, "tampered file must not verify")
				for _, s := range res.Signatures {
					if s.Status == signers.StatusInvalid {
						assert.NotEmpty(t, s.Error)
					}
				}
			})
		}
	}
}

// The CheckSum field is excluded from the image digest: changing it keeps the signature valid.
func TestChecksumExcluded(t *testing.T) {
	needFixtures(t)
	b := readFile(t, fx.rsa64)
	p, err := parsePE(headerReader{head: b, size: int64(len(b))})
	require.NoError(t, err)
	b[p.checksumOff] ^= 0xff
	res, err := verifyBytes(t, NewWithoutSystemRoots(), b, signers.Options{Roots: fx.ca.Pool()})
	require.NoError(t, err)
	assert.Equal(t, signers.StatusValid, res.Status)
}

func TestMalformed(t *testing.T) {
	needFixtures(t)
	signed := readFile(t, fx.rsa64)
	start, _, dirOff := certDir(t, signed)
	cases := []struct {
		name string
		b    func() []byte
		is   error
	}{
		{"empty", func() []byte { return nil }, ErrNotPE},
		{"text", func() []byte { return []byte("hello, world\n") }, ErrNotPE},
		{"MZ only", func() []byte { return append([]byte("MZ"), make([]byte, 100)...) }, ErrNotPE},
		{"e_lfanew past EOF", func() []byte {
			b := append([]byte("MZ"), make([]byte, 200)...)
			binary.LittleEndian.PutUint32(b[0x3c:], 0xfffffff0)
			return b
		}, ErrNotPE},
		{"headers truncated", func() []byte { return append([]byte(nil), signed[:0x100]...) }, ErrMalformed},
		{"zero-length entry", func() []byte {
			b := append([]byte(nil), signed...)
			binary.LittleEndian.PutUint32(b[start:], 0)
			return b
		}, ErrMalformed},
		{"entry length past the table", func() []byte {
			b := append([]byte(nil), signed...)
			binary.LittleEndian.PutUint32(b[start:], 0x7fffffff)
			return b
		}, ErrMalformed},
		{"garbage PKCS#7", func() []byte {
			b := append([]byte(nil), signed...)
			for i := start + 8; i < len(b); i++ {
				b[i] = byte(i * 7)
			}
			return b
		}, ErrMalformed},
		{"bogus certificate table size", func() []byte {
			b := append([]byte(nil), signed...)
			binary.LittleEndian.PutUint32(b[dirOff+4:], 0xffffffff)
			return b
		}, ErrMalformed},
		{"certificate table offset zero", func() []byte {
			b := append([]byte(nil), signed...)
			binary.LittleEndian.PutUint32(b[dirOff:], 0)
			return b
		}, ErrMalformed},
		{"certificate table inside the headers", func() []byte {
			b := append([]byte(nil), signed...)
			binary.LittleEndian.PutUint32(b[dirOff:], 0x10)
			return b
		}, ErrMalformed},
		{"huge section count", func() []byte {
			b := append([]byte(nil), signed...)
			peOff := int(binary.LittleEndian.Uint32(b[0x3c:]))
			binary.LittleEndian.PutUint16(b[peOff+6:], 0xffff)
			return b
		}, ErrMalformed},
		{"SizeOfHeaders past EOF", func() []byte {
			b := append([]byte(nil), signed...)
			binary.LittleEndian.PutUint32(b[dirOff-144+60:], 0x7fffffff)
			return b
		}, ErrMalformed},
	}
	v := NewWithoutSystemRoots()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := verifyBytes(t, v, tc.b(), signers.Options{})
			require.Error(t, err)
			assert.Nil(t, res)
			assert.ErrorIs(t, err, tc.is)
			assert.Contains(t, err.Error(), "mem.exe: authenticode:")
		})
	}
}

// TestShortOptionalHeader rewrites a signed PE32+ fixture so that its optional header holds
// only 6 data directories (as EFI-stub kernels do): relic's VerifyPE fails on such files with
// "unexpected EOF"; this package must still compute the digest and find the signature.
func TestShortOptionalHeader(t *testing.T) {
	needFixtures(t)
	b := readFile(t, fx.unsigned64)
	p, err := parsePE(headerReader{head: b, size: int64(len(b))})
	require.NoError(t, err)
	peOff := int(binary.LittleEndian.Uint32(b[0x3c:]))
	optOff := peOff + 24
	nsec := int(binary.LittleEndian.Uint16(b[peOff+6:]))
	// Move the section table 80 bytes up (16 → 6 directories) and zero the gap.
	secOld := optOff + 240
	secNew := optOff + 160
	copy(b[secNew:], b[secOld:secOld+nsec*40])
	clear(b[secNew+nsec*40 : secOld+nsec*40])
	binary.LittleEndian.PutUint16(b[peOff+20:], 160)
	binary.LittleEndian.PutUint32(b[optOff+108:], 6)
	_ = p
	dir := t.TempDir()
	in := dir + "/short.exe"
	require.NoError(t, os.WriteFile(in, b, 0o600))
	out := dir + "/short-signed.exe"
	// relic cannot sign it either; sign with osslsigncode when available, else check the
	// unsigned digest only.
	res, _ := verifyFile(t, NewWithoutSystemRoots(), in, signers.Options{}, false)
	assert.Equal(t, signers.StatusUnsigned, res.Status)
	assert.Equal(t, "amd64", res.PE.Machine)
	if pesign := lookTool("pesign"); pesign != "" {
		assert.Equal(t, pesignHash(t, in), res.PE.AuthenticodeSHA256)
	}
	f, _ := os.Open(in)
	_, relicErr := authenticode.VerifyPE(f, false)
	f.Close()
	assert.Error(t, relicErr, "relic is expected to fail on a short optional header")
	if lookTool("osslsigncode") == "" {
		needTool(t, "osslsigncode")
	}
	require.NoError(t, testfixtures.PESignOsslsigncode(fx.rsaLeaf, in, out, testfixtures.OsslsigncodeOptions{}))
	for _, useTap := range []bool{false, true} {
		res, _ = verifyFile(t, NewWithoutSystemRoots(), out, signers.Options{Roots: fx.ca.Pool()}, useTap)
		assert.Equal(t, signers.StatusValid, res.Status)
		require.Len(t, res.Signatures, 1)
		assert.Equal(t, signers.ChainTrusted, res.Signatures[0].Chain)
		assert.Equal(t, osslDigests(t, out, ""), []string{res.Signatures[0].SignedDigest})
	}
}

// TestTamperSweep flips bytes all over the certificate table: no flip goes unnoticed.
func TestTamperSweep(t *testing.T) {
	needFixtures(t)
	v := NewWithoutSystemRoots()
	files := []string{fx.rsa64, fx.ecTS64}
	if fx.dualErr == nil {
		files = append(files, fx.dual)
	}
	step := 11
	if testing.Short() {
		step = 97
	}
	for _, f := range files {
		orig := readFile(t, f)
		base, err := verifyBytes(t, v, orig, signers.Options{Roots: fx.ca.Pool()})
		require.NoError(t, err)
		start, size, _ := certDir(t, orig)
		valid := 0
		for off := start; off < start+size; off += step {
			b := append([]byte(nil), orig...)
			b[off] ^= 0x01
			res, err := verifyBytes(t, v, b, signers.Options{Roots: fx.ca.Pool()})
			if err != nil || signers.Aggregate(res.Signatures) == signers.StatusInvalid {
				continue // detected: the file is not trusted
			}
			// Still valid: the flip must not have changed what is trusted. Same signatures,
			// same signers, same signed digests; a timestamp may only disappear (which
			// weakens the evidence) and the chain may only become less trusted.
			if os.Getenv("DEBUG_SWEEP") != "" {
				j1, _ := json.Marshal(base.Signatures)
				j2, _ := json.Marshal(res.Signatures)
				t.Logf("byte %d\nBASE %s\nGOT  %s", off-start, j1, j2)
			}
			requireNoStrongerEvidence(t, base, res, fmt.Sprintf("%s byte %d", filepath.Base(f), off-start))
			if assert.ObjectsAreEqual(base, res) {
				valid++
				t.Logf("%s: flipping certificate-table byte %d (of %d) went unnoticed", filepath.Base(f), off-start, size)
			}
		}
		t.Logf("%s: %d of %d flips unnoticed", filepath.Base(f), valid, (size+step-1)/step)
		if f == fx.rsa64 {
			// Without a timestamp every byte of the signature is checked, except the length
			// octets of the outer ContentInfo (a longer length swallows a zero padding byte).
			assert.LessOrEqual(t, valid, 1)
		} else {
			// Known limit: unused certificates and envelope fields of timestamp tokens are
			// not integrity-checked (they do not change what is verified; osslsigncode
			// bundles the TSA certificate twice, so a flip in one copy is unused).
			assert.LessOrEqual(t, valid*4, (size+step-1)/step, "more than 25% of flips unnoticed")
		}
	}
}

// requireNoStrongerEvidence states the property that matters for exceptions: a tampered file
// that still verifies must not carry a signature a signer rule would accept in place of the
// original's. A signer rule needs a trusted chain or a pinned leaf thumbprint, so every
// still-valid signature must either be one of the original's (same signer thumbprint, signed
// digest and timestamp or none) or be untrusted under a thumbprint the original did not have
// (a certificate altered in the blob: indistinguishable from an attacker's own signature,
// which no rule trusts). Signatures may disappear (a flipped OID hides a nested signature in
// an unauthenticated attribute, which no signature protects; Windows reads it the same way).
func requireNoStrongerEvidence(t *testing.T, base, got *signers.Result, what string) {
	t.Helper()
	require.LessOrEqual(t, len(got.Signatures), len(base.Signatures), "%s: a signature appeared", what)
	known := map[string]*signers.Signature{}
	for i := range base.Signatures {
		if b := &base.Signatures[i]; b.Signer != nil {
			known[b.Signer.ThumbprintSHA256] = b
		}
	}
	for _, g := range got.Signatures {
		if g.Status != signers.StatusValid {
			continue
		}
		require.NotNil(t, g.Signer, what)
		b, same := known[g.Signer.ThumbprintSHA256]
		if !same {
			require.NotEqual(t, signers.ChainTrusted, g.Chain, "%s: an altered signer certificate is trusted", what)
			continue
		}
		require.Equal(t, b.SignedDigest, g.SignedDigest, "%s: signed digest changed under the original signer", what)
		require.Equal(t, b.DigestAlgorithm, g.DigestAlgorithm, what)
		if g.Timestamp != nil {
			require.NotNil(t, b.Timestamp, "%s: a timestamp appeared", what)
			require.True(t, b.Timestamp.Equal(*g.Timestamp), "%s: timestamp changed from %v to %v but still valid", what, b.Timestamp, g.Timestamp)
		}
		if g.Chain == signers.ChainTrusted {
			require.Equal(t, signers.ChainTrusted, b.Chain, "%s: chain became trusted", what)
		}
	}
	if got.PE != nil && base.PE != nil {
		require.Equal(t, base.PE.AuthenticodeSHA256, got.PE.AuthenticodeSHA256, what)
	}
}
