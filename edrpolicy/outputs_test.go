package edrpolicy

import (
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/atomicfile"
)

// fullFS is the OS file system that runs out of space after budget bytes.
type fullFS struct {
	atomicfile.FS
	budget int64
}

type fullFile struct {
	atomicfile.WFile
	fs *fullFS
}

func (f *fullFS) Create(name string) (atomicfile.WFile, error) {
	w, err := f.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return &fullFile{w, f}, nil
}

func (w *fullFile) Write(p []byte) (int, error) {
	if int64(len(p)) > w.fs.budget {
		n, _ := w.WFile.Write(p[:w.fs.budget])
		w.fs.budget = 0
		return n, &fs.PathError{Op: "write", Path: "x", Err: syscall.ENOSPC}
	}
	w.fs.budget -= int64(len(p))
	return w.WFile.Write(p)
}

func outputSet(version int, n int) []OutputFile {
	files := []OutputFile{{Name: PolicyFileName, Data: fmt.Appendf(nil, "{\"v\": %d}\n", version)}}
	for i := 1; i <= n; i++ {
		files = append(files, OutputFile{Name: fmt.Sprintf("defender-indicators-%03d.csv", i), Data: []byte(strings.Repeat(fmt.Sprintf("v%d row %d\n", version, i), 50))})
	}
	return files
}

// listing returns every name in dir with its content.
func listing(t *testing.T, dir string) map[string]string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	out := map[string]string{}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if e.IsDir() {
			b, err = []byte("<dir>"), nil
		}
		require.NoError(t, err)
		out[e.Name()] = string(b)
	}
	return out
}

// sha256sumCheck runs the real sha256sum -c on dir's manifest (an independent check that the
// set verifies), when the tool is installed.
func sha256sumCheck(t *testing.T, dir string) {
	t.Helper()
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Log("sha256sum not installed: manifest checked in Go only")
		return
	}
	cmd := exec.Command("sha256sum", "--strict", "-c", ManifestName)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "sha256sum -c in %s:\n%s", dir, out)
}

// TestWriteOutputsDiskFull: an export that runs out of space at any byte leaves the previous
// set exactly as it was (sha256sum -c passes) and nothing of the new one, stale files
// included; the same export with room replaces the set.
func TestWriteOutputsDiskFull(t *testing.T) {
	prev, next := outputSet(1, 3), outputSet(2, 2) // next has one CSV fewer: 003 is stale
	total := 0
	for _, f := range next {
		total += len(f.Data)
	}
	for budget := int64(0); budget < int64(total)+400; budget += 97 {
		dir := filepath.Join(t.TempDir(), "out")
		require.NoError(t, WriteOutputs(dir, prev))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644))
		before := listing(t, dir)
		err := writeOutputs(dir, next, &fullFS{FS: atomicfile.OS(), budget: budget})
		if err == nil {
			sha256sumCheck(t, dir)
			after := listing(t, dir)
			assert.NotContains(t, after, "defender-indicators-003.csv")
			assert.Equal(t, "mine", after["notes.txt"])
			continue
		}
		assert.ErrorIs(t, err, syscall.ENOSPC)
		assert.Equal(t, before, listing(t, dir), "budget %d: the previous set, untouched", budget)
		sha256sumCheck(t, dir)
	}
}

func TestParseManifest(t *testing.T) {
	h1, h2 := strings.Repeat("a", 64), strings.Repeat("B", 64)
	entries, err := ParseManifest([]byte(h1 + "  policy.json\n" + h2 + " *defender.csv\r\n"))
	require.NoError(t, err)
	assert.Equal(t, []ManifestEntry{{h1, "policy.json"}, {strings.ToLower(h2), "defender.csv"}}, entries)
	assert.Equal(t, h1+"  policy.json\n"+strings.ToLower(h2)+"  defender.csv\n", string(FormatManifest(entries)))

	for _, tc := range []struct{ doc, want string }{
		{h1 + "  ../etc/passwd\n", `line 1: file name "../etc/passwd" is not a plain file name`},
		{"x\n" + h1 + "  /abs\n", "line 1: want \"<sha256 hex>  <file name>\"\nline 2: file name \"/abs\" is not"},
		{h1 + "  a\n" + h1 + "  a\n", `line 2: "a" is listed twice (first on line 1)`},
		{h1 + "  " + ManifestName + "\n", "line 1: the manifest lists itself"},
		{strings.Repeat("g", 64) + "  a\n", `line 1: digest "gggg`},
		{h1 + "  a\n\n", "line 2: empty line"},
		{h1 + "  a\\b\n", `line 1: file name "a\\b" is not a plain file name`},
		{h1 + "  \n", `line 1: file name "" is not a plain file name`},
	} {
		_, err := ParseManifest([]byte(tc.doc))
		require.Error(t, err, tc.doc)
		assert.Contains(t, err.Error(), tc.want, tc.doc)
	}
}
