package authenticode

import (
	"bytes"
	"context"
	"testing"

	"github.com/edrpolicy/edrpolicy/hashing"
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
