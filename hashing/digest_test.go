package hashing

import (
	"bytes"
	"crypto/rand"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// coreutils returns the first field of `tool file`, the independent reference digest. Outside
// CI a missing tool skips; in CI (CI=true) it fails, so the cross-check always runs there.
func coreutils(t *testing.T, tool, file string) string {
	t.Helper()
	if _, err := exec.LookPath(tool); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", tool, err)
		}
		t.Skipf("%s not installed", tool)
	}
	out, err := exec.Command(tool, file).Output()
	require.NoError(t, err)
	return strings.Fields(string(out))[0]
}

func randomFile(t *testing.T, dir string, size int) string {
	t.Helper()
	b := make([]byte, size)
	_, err := rand.Read(b)
	require.NoError(t, err)
	p := filepath.Join(dir, "f")
	require.NoError(t, os.WriteFile(p, b, 0o644))
	return p
}

func TestDigestsMatchCoreutils(t *testing.T) {
	sizes := []int{0, 1, 63, 64, 65, SniffLen - 1, SniffLen, SniffLen + 1, BufferSize - 1, BufferSize, BufferSize + 1, 3*BufferSize + 17}
	h := NewHasher(Algorithms{SHA1: true, MD5: true}) // one Hasher for all: reuse must not leak state
	for _, size := range sizes {
		dir := t.TempDir()
		p := randomFile(t, dir, size)
		f, err := os.Open(p)
		require.NoError(t, err)
		sum, err := h.SumFile(f, f, int64(size), nil)
		f.Close()
		require.NoError(t, err, "size %d", size)
		assert.Equal(t, int64(size), sum.Size)
		assert.Equal(t, coreutils(t, "sha256sum", p), sum.SHA256, "sha256 of %d bytes", size)
		assert.Equal(t, coreutils(t, "sha1sum", p), sum.SHA1, "sha1 of %d bytes", size)
		assert.Equal(t, coreutils(t, "md5sum", p), sum.MD5, "md5 of %d bytes", size)
	}
}

func TestOnlyAskedDigests(t *testing.T) {
	d, n, err := SumReader(strings.NewReader("abc"), Algorithms{})
	require.NoError(t, err)
	assert.Equal(t, int64(3), n)
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", d.SHA256)
	assert.Empty(t, d.SHA1)
	assert.Empty(t, d.MD5)
}

func TestParseAlgorithms(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    Algorithms
		wantErr string
	}{
		{"sha256", Algorithms{}, ""},
		{"", Algorithms{}, ""},
		{"sha1", Algorithms{SHA1: true}, ""},
		{"SHA256, md5", Algorithms{MD5: true}, ""},
		{"sha256,sha1,md5", Algorithms{SHA1: true, MD5: true}, ""},
		{"sha512", Algorithms{}, `unknown digest "sha512"`},
	} {
		got, err := ParseAlgorithms(tt.in)
		if tt.wantErr != "" {
			assert.ErrorContains(t, err, tt.wantErr)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, tt.want, got, tt.in)
	}
}

// A file that grows or shrinks between stat and read must not get digests as if it were whole.
func TestSizeChanged(t *testing.T) {
	h := NewHasher(Algorithms{})
	data := bytes.Repeat([]byte("x"), 10000)
	_, err := h.SumFile(bytes.NewReader(data), nil, 9000, nil)
	assert.ErrorIs(t, err, ErrSizeChanged)
	assert.ErrorContains(t, err, "expected 9000 bytes, read 10000")
	_, err = h.SumFile(bytes.NewReader(data), nil, 11000, nil)
	assert.ErrorIs(t, err, ErrSizeChanged)
}

type failingReader struct{ n int }

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("input/output error")
	}
	m := min(len(p), f.n)
	f.n -= m
	return m, nil
}

func TestReadErrorIsReturned(t *testing.T) {
	_, err := NewHasher(Algorithms{}).SumFile(&failingReader{n: SniffLen + 10}, nil, 1<<20, nil)
	assert.ErrorContains(t, err, "input/output error")
}

// Taps see exactly the bytes the digests see, once, in order, head included.
func TestTapsSeeWholeStream(t *testing.T) {
	data := make([]byte, 3*BufferSize+5)
	_, _ = rand.Read(data)
	var tap bytes.Buffer
	var gotHead []byte
	sum, err := NewHasher(Algorithms{}).SumFile(bytes.NewReader(data), nil, int64(len(data)), func(f Format, head []byte, size int64) []io.Writer {
		gotHead = append([]byte(nil), head...)
		assert.Equal(t, int64(len(data)), size)
		return []io.Writer{&tap}
	})
	require.NoError(t, err)
	assert.Equal(t, data, tap.Bytes())
	assert.Equal(t, data[:SniffLen], gotHead)
	assert.Equal(t, FormatOther, sum.Format)
}

// The Hasher allocates the same small amount per file whatever the file size: no buffer the
// size of the file, no per-file hash state.
func TestNoPerFileSizeAllocation(t *testing.T) {
	h := NewHasher(Algorithms{SHA1: true, MD5: true})
	small := bytes.Repeat([]byte("a"), 1024)
	big := bytes.Repeat([]byte("b"), 8<<20)
	allocs := func(data []byte) float64 {
		return testing.AllocsPerRun(5, func() {
			if _, err := h.SumFile(bytes.NewReader(data), nil, int64(len(data)), nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	a, b := allocs(small), allocs(big)
	assert.Equal(t, a, b, "allocations must not depend on file size")
	assert.LessOrEqual(t, b, 8.0, "only the hex strings should be allocated")
}
