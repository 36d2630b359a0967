package macho_test

import (
	"crypto/sha256"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/signers"
)

// Offsets inside tinyMachO's output.
const (
	tinyPage  = 4096
	tinySBOff = tinyPage       // SuperBlob
	tinyCDOff = tinySBOff + 20 // CodeDirectory (one index entry)
	tinyCode  = 200            // code bytes, after the load commands
)

// tinyMachO builds a minimal thin arm64 Mach-O with one 4 KiB page of code, a __LINKEDIT
// segment that ends at the end of the file, and an ad-hoc signature (a SuperBlob holding one
// version 0x20400 SHA-256 CodeDirectory), written by hand so that tests and the fuzzer can
// aim at every field.
func tinyMachO() []byte {
	le, be := binary.LittleEndian, binary.BigEndian
	const cdLen = 128
	sbLen := 20 + cdLen
	b := make([]byte, tinyPage+sbLen)
	le.PutUint32(b[0:], 0xfeedfacf)
	le.PutUint32(b[4:], 0x0100000c) // arm64
	le.PutUint32(b[12:], 2)         // MH_EXECUTE
	le.PutUint32(b[16:], 2)         // ncmds
	le.PutUint32(b[20:], 16+72)     // sizeofcmds
	le.PutUint32(b[32:], 0x1d)      // LC_CODE_SIGNATURE
	le.PutUint32(b[36:], 16)
	le.PutUint32(b[40:], tinySBOff)
	le.PutUint32(b[44:], uint32(sbLen))
	le.PutUint32(b[48:], 0x19) // LC_SEGMENT_64 __LINKEDIT: the signature, to the end of the file
	le.PutUint32(b[52:], 72)
	copy(b[56:], "__LINKEDIT")
	le.PutUint64(b[88:], tinySBOff)
	le.PutUint64(b[96:], uint64(sbLen))
	copy(b[tinyCode:], "some code bytes")

	sb := b[tinySBOff:]
	be.PutUint32(sb[0:], 0xfade0cc0)
	be.PutUint32(sb[4:], uint32(sbLen))
	be.PutUint32(sb[8:], 1)
	be.PutUint32(sb[12:], 0) // slot 0
	be.PutUint32(sb[16:], 20)
	cd := sb[20:]
	be.PutUint32(cd[0:], 0xfade0c02)
	be.PutUint32(cd[4:], cdLen)
	be.PutUint32(cd[8:], 0x20400)
	be.PutUint32(cd[12:], 0x2) // adhoc
	be.PutUint32(cd[16:], 96)  // hashOffset
	be.PutUint32(cd[20:], 88)  // identOffset
	be.PutUint32(cd[28:], 1)   // nCodeSlots
	be.PutUint32(cd[32:], tinyPage)
	cd[36], cd[37], cd[39] = 32, 2, 12
	copy(cd[88:], "tiny\x00")
	h := sha256.Sum256(b[:tinyPage])
	copy(cd[96:], h[:])
	return b
}

func put32be(b []byte, off int, v uint32) []byte {
	c := append([]byte(nil), b...)
	binary.BigEndian.PutUint32(c[off:], v)
	return c
}

func put32le(b []byte, off int, v uint32) []byte {
	c := append([]byte(nil), b...)
	binary.LittleEndian.PutUint32(c[off:], v)
	return c
}

func fatHeader(entries ...[4]uint32) []byte {
	b := make([]byte, 8+20*len(entries))
	binary.BigEndian.PutUint32(b, 0xcafebabe)
	binary.BigEndian.PutUint32(b[4:], uint32(len(entries)))
	for i, e := range entries {
		binary.BigEndian.PutUint32(b[8+20*i:], e[0])
		binary.BigEndian.PutUint32(b[12+20*i:], 0)
		binary.BigEndian.PutUint32(b[16+20*i:], e[1])
		binary.BigEndian.PutUint32(b[20+20*i:], e[2])
		binary.BigEndian.PutUint32(b[24+20*i:], e[3])
	}
	return b
}

func TestTinyAdhoc(t *testing.T) {
	res, err := verifyBytes(t, tinyMachO(), signers.Options{})
	require.NoError(t, err)
	assert.Equal(t, signers.StatusAdhoc, res.Status, describe(res))
	assert.Equal(t, "tiny", res.MachO.Slices[0].SigningID)
	assert.Equal(t, []string{"adhoc"}, res.MachO.Slices[0].Flags)
}

func TestMalformed(t *testing.T) {
	tiny := tinyMachO()
	java := append([]byte{0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x34}, make([]byte, 200)...)
	withSlice := func(hdr []byte, total int) []byte {
		b := make([]byte, total)
		copy(b, hdr)
		copy(b[tinyPage:], tiny)
		return b
	}
	tests := []struct {
		name    string
		data    []byte
		wantErr string // a file-level error containing this; empty: an invalid signature instead
		sigErr  string
	}{
		{"empty", nil, "beyond end", ""},
		{"three bytes", []byte{0xcf, 0xfa, 0xed}, "beyond end", ""},
		{"java class file", java, "Java class", ""},
		{"ELF", append([]byte("\x7fELF"), make([]byte, 64)...), "not a Mach-O", ""},
		{"sizeofcmds past EOF", put32le(tiny, 20, 1<<30), "extend past end", ""},
		{"ncmds huge", put32le(tiny, 16, 0xffffffff), "cannot fit", ""},
		{"load command size zero", put32le(tiny, 36, 0), "out of range", ""},
		{"load command size past table", put32le(tiny, 36, 4096), "out of range", ""},
		{"signature offset past EOF", put32le(tiny, 40, 0xfffffff0), "", "outside the file"},
		{"signature size huge", put32le(tiny, 44, 0xfffffff0), "", "outside the file"},
		{"superblob bad magic", put32be(tiny, tinySBOff, 0x12345678), "", "magic"},
		{"superblob length past blob", put32be(tiny, tinySBOff+4, 0x7fffffff), "", "exceeds"},
		{"superblob count huge", put32be(tiny, tinySBOff+8, 0x7fffffff), "", "index entries"},
		{"superblob entry offset past EOF", put32be(tiny, tinySBOff+16, 0xffffff00), "", "out of range"},
		{"superblob entry offset inside index", put32be(tiny, tinySBOff+16, 4), "", "out of range"},
		{"CD length past blob", put32be(tiny, tinyCDOff+4, 0x00ffffff), "", "runs past"},
		{"CD code slots huge", put32be(tiny, tinyCDOff+28, 0x7fffffff), "", "hash slots"},
		{"CD special slots huge", put32be(tiny, tinyCDOff+24, 0x7fffffff), "", "hash slots"},
		{"CD hash offset huge", put32be(tiny, tinyCDOff+16, 0xfffffff0), "", "hash slots"},
		{"CD ident offset past blob", put32be(tiny, tinyCDOff+20, 0xffff), "", "identifier"},
		{"CD code limit past EOF", put32be(put32be(tiny, tinyCDOff+32, 0x7ffff000), tinyCDOff+28, 0x7ffff), "", "hash slots"},
		{"CD unknown hash type", func() []byte { c := append([]byte(nil), tiny...); c[tinyCDOff+37] = 9; return c }(), "", "hash type"},
		{"CD not ad-hoc without CMS", put32be(tiny, tinyCDOff+12, 0), "", "not marked ad-hoc"},
		{"code byte flipped", flip(tiny, tinyCode), "", "page hash mismatch: page 0"},
		{"fat count huge", put32be(fatHeader([4]uint32{0x0100000c, tinyPage, 10, 12}), 4, 0x00010000), "Java class", ""},
		{"fat overlapping slices", withSlice(fatHeader(
			[4]uint32{0x0100000c, tinyPage, uint32(len(tiny)), 12},
			[4]uint32{0x01000007, tinyPage + 100, uint32(len(tiny)), 12}), tinyPage+len(tiny)+200), "overlap", ""},
		{"fat slice past EOF", withSlice(fatHeader([4]uint32{0x0100000c, tinyPage, 1 << 30, 12}), tinyPage+len(tiny)), "outside the file", ""},
		{"fat slice inside header", withSlice(fatHeader([4]uint32{0x0100000c, 4, uint32(len(tiny)), 12}), tinyPage+len(tiny)), "outside the file", ""},
		{"fat table past EOF", put32be(fatHeader([4]uint32{0x0100000c, tinyPage, 10, 12}), 4, 40), "arch table", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := verifyBytes(t, tc.data, signers.Options{})
			if tc.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
			require.Len(t, res.Signatures, 1)
			assert.Contains(t, res.Signatures[0].Error, tc.sigErr)
		})
	}
}

// FuzzParse feeds arbitrary bytes to the verifier: it must never panic, and it may only call
// a file valid when a CMS signature verified (the fuzzer cannot forge one).
func FuzzParse(f *testing.F) {
	tiny := tinyMachO()
	f.Add(tiny)
	if fat, err := fatOf(tiny, tiny); err == nil {
		f.Add(fat)
	}
	f.Add(flip(tiny, tinyCDOff+30))
	f.Add([]byte{0xca, 0xfe, 0xba, 0xbe, 0x00, 0x00, 0x00, 0x34, 0, 0, 0, 0})
	f.Add(put32be(tiny, tinySBOff+8, 3))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := verifyBytes(t, data, signers.Options{})
		if err != nil {
			return
		}
		switch res.Status {
		case signers.StatusUnsigned, signers.StatusInvalid, signers.StatusAdhoc:
		default:
			t.Fatalf("status %q from fuzzed input", res.Status)
		}
		for _, s := range res.Signatures {
			if s.Status == signers.StatusInvalid && s.Error == "" {
				t.Fatal("invalid signature without a reason")
			}
		}
	})
}
