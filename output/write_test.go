package output

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

func outputSet(version int, n int) []File {
	files := []File{{Name: PolicyFileName, Data: fmt.Appendf(nil, "{\"v\": %d}\n", version)}}
	for i := 1; i <= n; i++ {
		files = append(files, File{Name: fmt.Sprintf("defender-indicators-%03d.csv", i), Data: []byte(strings.Repeat(fmt.Sprintf("v%d row %d\n", version, i), 50))})
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

// TestWriteSetDiskFull: an export that runs out of space at any byte leaves the previous
// set exactly as it was (sha256sum -c passes) and nothing of the new one, stale files
// included; the same export with room replaces the set.
func TestWriteSetDiskFull(t *testing.T) {
	prev, next := outputSet(1, 3), outputSet(2, 2) // next has one CSV fewer: 003 is stale
	total := 0
	for _, f := range next {
		total += len(f.Data)
	}
	for budget := int64(0); budget < int64(total)+400; budget += 97 {
		dir := filepath.Join(t.TempDir(), "out")
		require.NoError(t, WriteSet(dir, prev))
		require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644))
		before := listing(t, dir)
		err := writeSet(dir, next, &fullFS{FS: atomicfile.OS(), budget: budget})
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

func TestWriteSet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, WriteSet(dir, []File{{Name: "policy.json", Data: []byte("{}\n")}}))
	m, err := os.ReadFile(filepath.Join(dir, ManifestName))
	require.NoError(t, err)
	assert.Equal(t, "ca3d163bab055381827226140568f3bef7eaac187cebd76878e0b63e9e442356  policy.json\n", string(m))
	assert.Error(t, WriteSet(dir, []File{{Name: "../x", Data: nil}}))
}

// A second run into the same folder removes what the first run wrote and this one does not
// (a stale third CSV would otherwise be imported again), and nothing the manifest never listed.
func TestWriteSetRemovesStaleFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	csv := func(n int) File {
		return File{Name: fmt.Sprintf("defender-indicators-%03d.csv", n), Data: []byte(fmt.Sprint(n))}
	}
	require.NoError(t, WriteSet(dir, []File{{Name: "policy.json", Data: []byte("{}")}, csv(1), csv(2), csv(3)}))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("mine"), 0o644))
	require.NoError(t, WriteSet(dir, []File{{Name: "policy.json", Data: []byte("{ }")}, csv(1)}))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{ManifestName, "defender-indicators-001.csv", "notes.txt", "policy.json"}, names)
	m, err := os.ReadFile(filepath.Join(dir, ManifestName))
	require.NoError(t, err)
	assert.Equal(t, 2, strings.Count(string(m), "\n"))

	// Bad names are refused before anything is written.
	err = WriteSet(dir, []File{csv(7), {Name: "a/b"}})
	assert.ErrorContains(t, err, `"a/b" is not a plain file name`)
	assert.NoFileExists(t, filepath.Join(dir, "defender-indicators-007.csv"))
	assert.ErrorContains(t, WriteSet(dir, []File{csv(1), csv(1)}), "given twice")
	assert.Error(t, WriteSet(dir, []File{{Name: ManifestName}}))
	assert.Error(t, WriteSet(dir, []File{{Name: ".."}}))
}
