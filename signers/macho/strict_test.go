package macho_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"math/rand"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/signers"
)

func payload(n int, zero bool) []byte {
	b := make([]byte, n)
	if !zero {
		rand.New(rand.NewSource(int64(n))).Read(b)
		b[0] = 0xcf // never all zero
	}
	return b
}

// TestAppendedAfterSignature appends bytes (zeros or a payload, 1 byte to MiBs) after the
// signature of thin Mach-O files. Apple's strict validation (MachO::validateStructure) wants
// __LINKEDIT to end at the end of the file, so every variant is invalid; the untouched file
// stays valid.
func TestAppendedAfterSignature(t *testing.T) {
	f := getFixtures(t)
	roots := signers.Options{Roots: f.chain.RootPool()}
	for _, base := range []struct {
		name string
		b    []byte
		want signers.Status
	}{
		{"relic Developer ID arm64", readFile(t, f.signedArm), signers.StatusValid},
		{"relic Developer ID amd64", readFile(t, f.signedAmd), signers.StatusValid},
		{"Go linker ad-hoc", readFile(t, f.linkerArm), signers.StatusAdhoc},
		{"tiny ad-hoc", tinyMachO(), signers.StatusAdhoc},
	} {
		t.Run(base.name, func(t *testing.T) {
			res, err := verifyBytes(t, base.b, roots)
			require.NoError(t, err)
			require.Equal(t, base.want, res.Status, describe(res))
			for _, n := range []int{1, 7, 16, 4096, 1 << 20, 3 << 20} {
				for _, zero := range []bool{true, false} {
					b := append(append([]byte(nil), base.b...), payload(n, zero)...)
					res, err := verifyBytes(t, b, roots)
					require.NoError(t, err)
					assert.Equal(t, signers.StatusInvalid, res.Status, "%d bytes (zero=%v): %s", n, zero, describe(res))
					assert.Contains(t, res.Signatures[0].Error, "bytes after the end of __LINKEDIT", "%d bytes", n)
				}
			}
		})
	}
	// Growing __LINKEDIT in the header to cover the appended bytes changes the first page,
	// which the signature covers.
	b := append(readFile(t, f.signedArm), payload(100, false)...)
	le := binary.LittleEndian
	ncmds, p := int(le.Uint32(b[16:])), 32
	for i := 0; i < ncmds; i++ {
		if le.Uint32(b[p:]) == 0x19 && string(bytes.TrimRight(b[p+8:p+24], "\x00")) == "__LINKEDIT" {
			le.PutUint64(b[p+48:], le.Uint64(b[p+48:])+100)
		}
		p += int(le.Uint32(b[p+4:]))
	}
	res, err := verifyBytes(t, b, roots)
	require.NoError(t, err)
	assert.Equal(t, signers.StatusInvalid, res.Status)
	assert.Contains(t, res.Signatures[0].Error, "page hash mismatch: page 0")
}

// fatEntries returns the (offset, size) of each slice of a 32-bit universal header.
func fatEntries(b []byte) [][2]int {
	be := binary.BigEndian
	n := int(be.Uint32(b[4:]))
	out := make([][2]int, n)
	for i := range out {
		out[i] = [2]int{int(be.Uint32(b[16+20*i:])), int(be.Uint32(b[20+20*i:]))}
	}
	return out
}

// TestFatGaps puts data between and after the slices of a universal file. Apple's Universal
// constructor accepts zero padding (what lipo writes) and rejects a non-zero byte in any gap,
// a gap between slices as large as the next slice's alignment, and anything after the last
// slice.
func TestFatGaps(t *testing.T) {
	f := getFixtures(t)
	roots := signers.Options{Roots: f.chain.RootPool()}
	fat := readFile(t, f.fat)
	sl := fatEntries(fat)
	require.Len(t, sl, 2)
	firstEnd := sl[0][0] + sl[0][1]
	require.Greater(t, sl[1][0]-firstEnd, 64, "the fixture has padding between its slices")
	hdrEnd := 8 + 20*2
	put := func(at int, data []byte) []byte {
		c := append([]byte(nil), fat...)
		copy(c[at:], data)
		return c
	}
	// moveSecond inserts extra bytes before the second slice and fixes its offset.
	moveSecond := func(extra []byte) []byte {
		c := append(append(append([]byte(nil), fat[:sl[1][0]]...), extra...), fat[sl[1][0]:]...)
		binary.BigEndian.PutUint32(c[8+20+8:], uint32(sl[1][0]+len(extra)))
		return c
	}
	tests := []struct {
		name string
		b    []byte
		want string // "" means valid
	}{
		{"untouched (zero padding)", fat, ""},
		{"zeros rewritten in the gap between slices", put(firstEnd, payload(64, true)), ""},
		{"zeros rewritten after the header", put(hdrEnd+20, payload(64, true)), ""},
		{"payload in the gap between slices", put(firstEnd, payload(64, false)), "non-zero byte at offset"},
		{"one byte in the gap between slices", put(sl[1][0]-1, []byte{1}), "non-zero byte at offset"},
		{"payload between the header and the first slice", put(sl[0][0]-100, payload(100, false)), "non-zero byte at offset"},
		{"gap as large as the alignment, zero", moveSecond(payload(1<<14, true)), "exceed its alignment (2^14)"},
		{"1 zero byte after the last slice", append(append([]byte(nil), fat...), 0), "1 bytes after the last slice"},
		{"payload after the last slice", append(append([]byte(nil), fat...), payload(4096, false)...), "4096 bytes after the last slice"},
		{"1 MiB of zeros after the last slice", append(append([]byte(nil), fat...), payload(1<<20, true)...), "1048576 bytes after the last slice"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := verifyBytes(t, tc.b, roots)
			require.NoError(t, err)
			require.Len(t, res.Signatures, 2, describe(res))
			if tc.want == "" {
				assert.Equal(t, signers.StatusValid, res.Status, describe(res))
				return
			}
			assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
			for _, s := range res.Signatures {
				assert.Equal(t, signers.StatusInvalid, s.Status)
				assert.Contains(t, s.Error, tc.want)
			}
		})
	}
}

// TestFatHiddenArm64 checks the entry past nfat_arch that Apple's Universal constructor
// counts when it is an arm64 slice: it is verified like the listed ones.
func TestFatHiddenArm64(t *testing.T) {
	f := getFixtures(t)
	roots := signers.Options{Roots: f.chain.RootPool()}
	fat := append([]byte(nil), readFile(t, f.fat)...)
	binary.BigEndian.PutUint32(fat[4:], 1) // list only the x86_64 slice; arm64 becomes the hidden entry
	res, err := verifyBytes(t, fat, roots)
	require.NoError(t, err)
	assert.Equal(t, signers.StatusValid, res.Status, describe(res))
	require.Len(t, res.MachO.Slices, 2)
	assert.Equal(t, "arm64", res.MachO.Slices[1].Arch)
	// A hidden entry that is not arm64 is not a slice, and its bytes are then outside the
	// header and every slice.
	binary.BigEndian.PutUint32(fat[8+20:], 0x01000007)
	res, err = verifyBytes(t, fat, roots)
	require.NoError(t, err)
	assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
	assert.Contains(t, res.Signatures[0].Error, "non-zero byte")
}

// TestStructureCommands covers the load commands MachO::validateStructure reads.
func TestStructureCommands(t *testing.T) {
	tiny := tinyMachO()
	le := binary.LittleEndian
	withCmd := func(cmd, size uint32, name string, a, b uint64) []byte {
		c := append([]byte(nil), tiny...)
		le.PutUint32(c[48:], cmd)
		le.PutUint32(c[52:], size)
		copy(c[56:72], append([]byte(name), make([]byte, 16)...)[:16])
		le.PutUint64(c[88:], a)
		le.PutUint64(c[96:], b)
		return c
	}
	sbLen := uint64(len(tiny) - tinySBOff)
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"__LINKEDIT to the end", tiny, ""},
		{"__LINKEDIT short of the end", withCmd(0x19, 72, "__LINKEDIT", tinySBOff, sbLen-1), "1 bytes after the end of __LINKEDIT"},
		{"__LINKEDIT past the end", withCmd(0x19, 72, "__LINKEDIT", tinySBOff, sbLen+1), "past the end of the data"},
		{"no __LINKEDIT", withCmd(0x19, 72, "__DATA", tinySBOff, sbLen), "no __LINKEDIT segment or LC_SYMTAB"},
		{"LC_SEGMENT_64 too short", withCmd(0x19, 64, "__LINKEDIT", tinySBOff, sbLen), "LC_SEGMENT_64 of 64 bytes is too short"},
	}
	// LC_SYMTAB (PPC files) decides when it comes first: stroff+strsize at +16 and +20.
	symtab := append([]byte(nil), tiny...)
	le.PutUint32(symtab[48:], 0x2)
	le.PutUint32(symtab[48+16:], tinySBOff)
	le.PutUint32(symtab[48+20:], uint32(sbLen))
	h := sha256.Sum256(symtab[:tinyPage]) // the header changed: re-sign page 0 (ad-hoc)
	copy(symtab[tinyCDOff+96:], h[:])
	tests = append(tests, struct {
		name string
		b    []byte
		want string
	}{"LC_SYMTAB to the end", symtab, ""})
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := verifyBytes(t, tc.b, signers.Options{})
			require.NoError(t, err)
			if tc.want == "" {
				assert.Equal(t, signers.StatusAdhoc, res.Status, describe(res))
				return
			}
			assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
			assert.Contains(t, res.Signatures[0].Error, tc.want)
		})
	}
}
