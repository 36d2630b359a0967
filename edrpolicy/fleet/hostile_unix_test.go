//go:build unix

package fleet

import (
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/safeopen"
)

// readFast reads a source and fails when it does not return within a minute.
func readFast(t *testing.T, src Source, opts ReadOptions) (*ReadStats, int, error) {
	t.Helper()
	var st *ReadStats
	var err error
	rows := 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		st, err = Read(src, opts, func(*Row) error { rows++; return nil })
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("reading %s hangs", src.Name)
	}
	return st, rows, err
}

// Evidence files go through safeopen: a FIFO, a device, a directory or a file over the cap is
// refused at once, naming the file.
func TestHostileEvidenceFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "results.log")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	zero := filepath.Join(dir, "zero.log")
	require.NoError(t, os.Symlink("/dev/zero", zero))
	sparse := filepath.Join(dir, "huge.log")
	require.NoError(t, os.WriteFile(sparse, nil, 0o644))
	require.NoError(t, os.Truncate(sparse, 3<<30))
	for _, tc := range []struct {
		name, path string
		max        int64
		is         error
		msg        string
	}{
		{"FIFO with no writer", fifo, 0, safeopen.ErrNotRegular, fifo + ": refused: a named pipe (FIFO), not a regular file"},
		{"link to /dev/zero", zero, 0, safeopen.ErrNotRegular, "refused: a character device, not a regular file"},
		{"directory", dir, 0, safeopen.ErrNotRegular, "refused: a directory"},
		{"sparse file over the cap", sparse, 1 << 30, safeopen.ErrTooLarge, sparse + ": refused: is 3 GiB, more than the 1 GiB allowed"},
		// Under the cap, 3 GiB of zeros is none of the formats: refused at its first byte,
		// not read through.
		{"3 GiB of zeros", sparse, 0, ErrNotEvidence, sparse + ":1: not evidence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, rows, err := readFast(t, Source{Name: tc.path}, ReadOptions{MaxBytes: tc.max})
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.is)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Zero(t, rows)
			assert.Less(t, time.Since(start), 5*time.Second)
		})
	}
}

// genReader yields a JSON-lines stream without holding it: a line of n filler bytes inside a
// JSON string, then a good line.
type genReader struct {
	head, tail string
	n          int64
	pos        int64
}

func (g *genReader) Read(p []byte) (int, error) {
	total := int64(len(g.head)) + g.n + int64(len(g.tail))
	if g.pos >= total {
		return 0, io.EOF
	}
	i := 0
	for i < len(p) && g.pos < total {
		switch {
		case g.pos < int64(len(g.head)):
			p[i] = g.head[g.pos]
		case g.pos < int64(len(g.head))+g.n:
			p[i] = 'x'
		default:
			p[i] = g.tail[g.pos-int64(len(g.head))-g.n]
		}
		i++
		g.pos++
	}
	return i, nil
}

// A line longer than the limit is skipped without being held, named by its number, and the
// next line is read; in a document, a single value over the limit ends the document.
func TestHostileHugeLines(t *testing.T) {
	good := `{"name":"q","hostIdentifier":"h","columns":{"path":"/a","sha256":"` + sumA + `"},"action":"added"}` + "\n"
	src := &genReader{head: good + `{"name":"q","hostIdentifier":"h","columns":{"path":"/`, n: 200 << 20, tail: `"},"action":"added"}` + "\n" + good}
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	st, rows, err := readFast(t, Source{Name: "big.log", Reader: src}, ReadOptions{MaxLine: 1 << 20})
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.Equal(t, 2, rows)
	require.Len(t, st.Errors, 1)
	assert.Equal(t, "big.log:2: line longer than 1048576 bytes, skipped", st.Errors[0].Error())
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(32<<20), "a 200 MiB line costs what the 1 MiB limit allows, not its size")

	doc := &genReader{head: "[\n" + strings.TrimSuffix(strings.Replace(good, `{"name"`, `{"hostname":"h","name"`, 1), "\n") + ",\n" + `{"hostname":"h","path":"`, n: 200 << 20, tail: `"}]`}
	runtime.ReadMemStats(&before)
	_, rows, err = readFast(t, Source{Name: "big.json", Reader: doc}, ReadOptions{MaxLine: 1 << 20})
	runtime.ReadMemStats(&after)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "big.json:3: a single JSON value larger than the line limit")
	assert.Equal(t, 1, rows)
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20))
}
