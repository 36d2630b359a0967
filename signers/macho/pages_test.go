package macho

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// zeros is a file of n zero bytes that takes no memory.
type zeros int64

func (z zeros) ReadAt(p []byte, off int64) (int, error) {
	clear(p)
	return len(p), nil
}

// singlePageCD builds a CodeDirectory with page size 0 ("one page": the whole codeLimit) whose
// only code slot is want.
func singlePageCD(t *testing.T, codeLimit uint32, want [32]byte) *codeDir {
	be := binary.BigEndian
	b := make([]byte, 48)
	be.PutUint32(b[0:], 0xfade0c02)
	be.PutUint32(b[8:], 0x20100) // version
	be.PutUint32(b[16:], 56)     // hashOffset
	be.PutUint32(b[20:], 48)     // identOffset
	be.PutUint32(b[28:], 1)      // nCodeSlots
	be.PutUint32(b[32:], codeLimit)
	b[36], b[37], b[39] = 32, 2, 0 // SHA-256, page size 0
	b = append(b, "big\x00\x00\x00\x00\x00"...)
	b = append(b, want[:]...)
	be.PutUint32(b[4:], uint32(len(b)))
	cd, err := parseCodeDirectory(b, 0)
	require.NoError(t, err)
	return cd
}

// A single-page CodeDirectory over a 256 MiB code range is checked in bounded memory: the
// page is streamed through the hash, not read into a buffer of the page's size.
func TestCheckPagesSinglePageBoundedMemory(t *testing.T) {
	const limit = 256 << 20
	h := sha256.New()
	chunk := make([]byte, 1<<20)
	for i := 0; i < limit/len(chunk); i++ {
		h.Write(chunk)
	}
	var want [32]byte
	copy(want[:], h.Sum(nil))
	cd := singlePageCD(t, limit, want)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	err := checkPages(context.Background(), zeros(limit), limit, cd)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated to check a 256 MiB page")

	want[0] ^= 1
	err = checkPages(context.Background(), zeros(limit), limit, singlePageCD(t, limit, want))
	assert.ErrorContains(t, err, "page hash mismatch: page 0")
}
