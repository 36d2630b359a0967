package macho_test

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/corpus"
	"github.com/edrpolicy/edrpolicy/signers"
	edrmacho "github.com/edrpolicy/edrpolicy/signers/macho"
)

// embeddedSig returns the SuperBlob of a thin Mach-O and the [start, end) of the CMS inside
// it (after the 8-byte wrapper header).
func embeddedSig(t *testing.T, thin []byte) (sig []byte, cmsStart, cmsEnd int) {
	t.Helper()
	off, size := sigLocation(t, thin)
	sig = append([]byte(nil), thin[off:off+size]...)
	be := binary.BigEndian
	for i := 0; i < int(be.Uint32(sig[8:])); i++ {
		o := int(be.Uint32(sig[16+8*i:]))
		if be.Uint32(sig[12+8*i:]) == 0x10000 {
			return sig, o + 8, o + int(be.Uint32(sig[o+4:]))
		}
	}
	t.Fatal("no CMS")
	return nil, 0, 0
}

// certRegions finds every DER certificate inside a CMS blob (the SignedData's bag and the
// bag of a timestamp token) by trying to parse one at each SEQUENCE tag.
func certRegions(cms []byte) []certRegion {
	var out []certRegion
	for i := 0; i+4 < len(cms); i++ {
		var n int
		switch {
		case cms[i] != 0x30:
			continue
		case cms[i+1] == 0x81:
			n = 3 + int(cms[i+2])
		case cms[i+1] == 0x82:
			n = 4 + (int(cms[i+2])<<8 | int(cms[i+3]))
		default:
			continue
		}
		if i+n > len(cms) {
			continue
		}
		if c, err := x509.ParseCertificate(cms[i : i+n]); err == nil {
			out = append(out, certRegion{i, i + n, c})
			i += n - 1
		}
	}
	return out
}

type certRegion struct {
	start, end int
	cert       *x509.Certificate
}

// TestCMSEveryByte flips every byte of the CMS of a signed slice, one at a time and with
// three masks. Each change must be caught by the CMS check or, for bytes that no signature
// covers (certificates, which the signer cannot sign), by the chain. The only exceptions are
// bytes of certificates that the verdict does not rest on, and each is accounted for: a
// spare copy of a self-signed root (chain building uses the trusted root instead) or a
// certificate of the timestamp token, whose broken chain is reported in the notes.
func TestCMSEveryByte(t *testing.T) {
	f := getFixtures(t)
	type target struct {
		name  string
		thin  []byte
		opts  signers.Options
		masks []byte
	}
	targets := []target{
		{"relic DER with timestamp", readFile(t, f.signedArm), signers.Options{Roots: f.chain.RootPool()}, []byte{0x5a, 0x01, 0x80}},
		{"relic DER", readFile(t, f.signedAmd), signers.Options{Roots: f.chain.RootPool()}, []byte{0x5a, 0x01, 0x80}},
	}
	// The real 9 KB CMS (with a timestamp token) costs a few seconds: one mask, not in -short.
	if !testing.Short() {
		b := readFile(t, corpus.NeedFile(t, "macho", "bun-darwin-arm64").Path)
		targets = append(targets, target{"Apple codesign BER (bun)", b, signers.Options{}, []byte{0x01}})
	}
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			sig, start, end := embeddedSig(t, tg.thin)
			chain, notes, stamped, err := edrmacho.VerifyEmbeddedCMS(sig, tg.opts)
			require.NoError(t, err)
			require.Equal(t, signers.ChainTrusted, chain)
			require.Empty(t, notes)
			regions := certRegions(sig[start:end])
			require.GreaterOrEqual(t, len(regions), 2)
			inCert := func(off int) *x509.Certificate {
				for _, r := range regions {
					if off >= r.start && off < r.end {
						return r.cert
					}
				}
				return nil
			}
			failed, untrusted, spareRoot, tsNoted, tsDropped := 0, 0, 0, 0, 0
			for i := start; i < end; i++ {
				for _, mask := range tg.masks {
					sig[i] ^= mask
					chain, notes, ts, err := edrmacho.VerifyEmbeddedCMS(sig, tg.opts)
					sig[i] ^= mask
					if err != nil {
						failed++
						continue
					}
					if chain != signers.ChainTrusted {
						untrusted++
						continue
					}
					c := inCert(i - start)
					switch {
					case stamped && !ts:
						tsDropped++ // the unsigned timestamp attribute was damaged: no timestamp is reported
					case c == nil:
						t.Errorf("byte %d of the CMS xor %#02x (outside any certificate) still verifies and is trusted", i-start, mask)
					case bytes.Equal(c.RawIssuer, c.RawSubject):
						spareRoot++
					case len(notes) > 0 && strings.Contains(notes[0], "timestamp chain not trusted"):
						tsNoted++
					default:
						t.Errorf("byte %d of the CMS xor %#02x (certificate %q) still verifies and is trusted, notes %q", i-start, mask, c.Subject.CommonName, notes)
					}
				}
			}
			t.Logf("%d CMS bytes x %d masks: %d rejected by the CMS check, %d by the chain; accepted with an effect: %d timestamp dropped, %d timestamp chain noted; %d in a spare root copy",
				end-start, len(tg.masks), failed, untrusted, tsDropped, tsNoted, spareRoot)
		})
	}
}

// TestCMSStructureChecks changes fields of the CMS that its signature does not cover.
func TestCMSStructureChecks(t *testing.T) {
	f := getFixtures(t)
	thin := readFile(t, f.signedAmd)
	sig, start, end := embeddedSig(t, thin)
	opts := signers.Options{Roots: f.chain.RootPool()}
	cms := sig[start:end]
	edit := func(fn func(c []byte) []byte) []byte {
		c := append([]byte(nil), sig...)
		out := fn(c[start:end:end])
		require.Len(t, out, end-start, "edits keep the size")
		copy(c[start:end], out)
		return c
	}
	replace := func(old, new []byte) func(c []byte) []byte {
		return func(c []byte) []byte {
			i := bytes.Index(c, old)
			require.GreaterOrEqual(t, i, 0)
			copy(c[i:], new)
			return c
		}
	}
	oidData := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01}
	oidSignedData := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02}
	oidOther := []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x05}
	sha256 := []byte{0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01}
	sha384 := []byte{0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02}
	require.True(t, bytes.HasPrefix(cms[4:], oidSignedData), "DER fixture expected")
	tests := []struct {
		name string
		sig  []byte
		want string
	}{
		{"eContentType not id-data", edit(replace(oidData, oidOther)), "want 1.2.840.113549.1.7.1"},
		{"SignedData version 2", edit(func(c []byte) []byte { c[25] = 2; return c }), "version 2"},
		{"digestAlgorithms without the signer's", edit(replace(sha256, sha384)), "not listed"},
		{"trailing garbage after the CMS", append(append([]byte(nil), sig...), 1, 2, 3, 4), ""},
	}
	// The last case: grow the wrapper blob and the SuperBlob by 4 non-zero bytes.
	last := tests[len(tests)-1].sig
	be := binary.BigEndian
	require.Equal(t, int(be.Uint32(sig[4:])), end, "the CMS is the last blob of the fixture")
	last = last[:len(sig)]
	copy(last[end:], []byte{1, 2, 3, 4})
	be.PutUint32(last[4:], be.Uint32(last[4:])+4)
	be.PutUint32(last[start-4:], be.Uint32(last[start-4:])+4)
	tests[len(tests)-1].want = "trailing data"
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, _, _, err := edrmacho.VerifyEmbeddedCMS(tc.sig, opts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	// Zero padding after the CMS is accepted.
	pad := append([]byte(nil), sig...)
	be.PutUint32(pad[4:], be.Uint32(pad[4:])+4)
	be.PutUint32(pad[start-4:], be.Uint32(pad[start-4:])+4)
	_, _, _, err := edrmacho.VerifyEmbeddedCMS(pad, opts)
	assert.NoError(t, err)
}

func TestBERToDER(t *testing.T) {
	tests := []struct {
		name     string
		in, want []byte
		err      string
	}{
		{"DER unchanged", []byte{0x30, 0x03, 0x02, 0x01, 0x05}, []byte{0x30, 0x03, 0x02, 0x01, 0x05}, ""},
		{"indefinite", []byte{0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00}, []byte{0x30, 0x03, 0x02, 0x01, 0x05}, ""},
		{"nested indefinite", []byte{0x30, 0x80, 0xa0, 0x80, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00}, []byte{0x30, 0x04, 0xa0, 0x02, 0x04, 0x00}, ""},
		{"non-minimal length", []byte{0x04, 0x81, 0x01, 0xaa}, []byte{0x04, 0x01, 0xaa}, ""},
		{"indefinite inside definite", []byte{0x30, 0x06, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00}, []byte{0x30, 0x04, 0x30, 0x02, 0x05, 0x00}, ""},
		{"high tag number", []byte{0x9f, 0x81, 0x01, 0x01, 0x07}, []byte{0x9f, 0x81, 0x01, 0x01, 0x07}, ""},
		{"zero padding", []byte{0x05, 0x00, 0x00, 0x00}, []byte{0x05, 0x00}, ""},
		{"trailing garbage", []byte{0x05, 0x00, 0x01}, nil, "trailing data"},
		{"missing end-of-contents", []byte{0x30, 0x80, 0x05, 0x00}, nil, "end-of-contents"},
		{"indefinite primitive", []byte{0x04, 0x80, 0x00, 0x00}, nil, "primitive"},
		{"length past end", []byte{0x04, 0x05, 0x00}, nil, "truncated"},
		{"5-byte length", []byte{0x04, 0x85, 0, 0, 0, 0, 1, 0}, nil, "bad length"},
		{"empty", nil, nil, "truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := edrmacho.BERToDER(tc.in)
			if tc.err != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
		})
	}
	deep := bytes.Repeat([]byte{0x30, 0x80}, 100)
	deep = append(deep, bytes.Repeat([]byte{0, 0}, 100)...)
	_, err := edrmacho.BERToDER(deep)
	assert.ErrorContains(t, err, "nesting")
	// A long definite length is re-encoded minimally.
	long := append([]byte{0x04, 0x82, 0x01, 0x00}, make([]byte, 256)...)
	got, err := edrmacho.BERToDER(long)
	require.NoError(t, err)
	assert.Equal(t, long, got)
}
