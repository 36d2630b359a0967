package atomicfile

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// faultFS is the OS file system with one injected failure: operation number failAt fails
// (1-based; 0: none). With crash, that operation and every later one fail, as if the process
// had died there. budget bounds the bytes written in total (ENOSPC past it; < 0: no bound).
// noLink makes hard links fail, as on file systems without them.
type faultFS struct {
	FS
	ops, failAt   int
	crash, noLink bool
	failRollback  bool // also fail the first Rename after failAt (a second error)
	budget        int64
	log           []string
	failedOp      string
}

var errInjected = errors.New("injected failure")

func newFault() *faultFS { return &faultFS{FS: OS(), budget: -1} }

func (f *faultFS) step(op string) error {
	f.ops++
	f.log = append(f.log, op)
	if f.failAt > 0 && (f.ops == f.failAt || (f.crash && f.ops > f.failAt)) {
		if f.ops == f.failAt {
			f.failedOp = op
		}
		return errInjected
	}
	if f.failRollback && f.failAt > 0 && f.ops > f.failAt && strings.HasPrefix(op, "rename") {
		f.failRollback = false
		return fmt.Errorf("second %w", errInjected)
	}
	return nil
}

func (f *faultFS) MkdirTemp(dir, pattern string) (string, error) {
	if err := f.step("mkdirtemp"); err != nil {
		return "", err
	}
	return f.FS.MkdirTemp(dir, pattern)
}
func (f *faultFS) Mkdir(name string, perm os.FileMode) error {
	if err := f.step("mkdir " + filepath.Base(name)); err != nil {
		return err
	}
	return f.FS.Mkdir(name, perm)
}
func (f *faultFS) Create(name string) (WFile, error) {
	if err := f.step("create " + filepath.Base(name)); err != nil {
		return nil, err
	}
	w, err := f.FS.Create(name)
	if err != nil {
		return nil, err
	}
	return &faultFile{WFile: w, fs: f, name: filepath.Base(name)}, nil
}
func (f *faultFS) ReadFile(name string) ([]byte, error) {
	if err := f.step("readfile " + filepath.Base(name)); err != nil {
		return nil, err
	}
	return f.FS.ReadFile(name)
}
func (f *faultFS) Rename(a, b string) error {
	if err := f.step("rename " + filepath.Base(a)); err != nil {
		return err
	}
	return f.FS.Rename(a, b)
}
func (f *faultFS) Link(a, b string) error {
	if err := f.step("link " + filepath.Base(a)); err != nil {
		return err
	}
	if f.noLink {
		return &os.LinkError{Op: "link", Old: a, New: b, Err: syscall.EPERM}
	}
	return f.FS.Link(a, b)
}
func (f *faultFS) Remove(name string) error {
	if err := f.step("remove " + filepath.Base(name)); err != nil {
		return err
	}
	return f.FS.Remove(name)
}
func (f *faultFS) RemoveAll(name string) error {
	if err := f.step("removeall"); err != nil {
		return err
	}
	return f.FS.RemoveAll(name)
}
func (f *faultFS) Lstat(name string) (fs.FileInfo, error) {
	if err := f.step("lstat " + filepath.Base(name)); err != nil {
		return nil, err
	}
	return f.FS.Lstat(name)
}
func (f *faultFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := f.step("readdir"); err != nil {
		return nil, err
	}
	return f.FS.ReadDir(name)
}

// SyncDir and Sync count and can fail, but do not reach the disk: durability is not what
// these tests observe, and thousands of fsyncs would make them slow.
func (f *faultFS) SyncDir(dir string) error {
	return f.step("syncdir")
}
func (f *faultFS) Lock(dir string) (func(), error) {
	if err := f.step("lock"); err != nil {
		return nil, err
	}
	return f.FS.Lock(dir)
}

type faultFile struct {
	WFile
	fs   *faultFS
	name string
}

func (w *faultFile) Write(p []byte) (int, error) {
	if err := w.fs.step("write " + w.name); err != nil {
		return 0, err
	}
	if b := w.fs.budget; b >= 0 && int64(len(p)) > b {
		n, _ := w.WFile.Write(p[:b])
		w.fs.budget = 0
		return n, &fs.PathError{Op: "write", Path: w.name, Err: syscall.ENOSPC}
	}
	if w.fs.budget >= 0 {
		w.fs.budget -= int64(len(p))
	}
	return w.WFile.Write(p)
}
func (w *faultFile) Sync() error {
	return w.fs.step("sync " + w.name)
}
func (w *faultFile) Chmod(m os.FileMode) error {
	if err := w.fs.step("chmod " + w.name); err != nil {
		return err
	}
	return w.WFile.Chmod(m)
}
func (w *faultFile) Close() error {
	if err := w.fs.step("close " + w.name); err != nil {
		_ = w.WFile.Close()
		return err
	}
	return w.WFile.Close()
}

// manifestOf is a sha256sum-format manifest of files.
func manifestOf(files map[string]string) string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		sum := sha256.Sum256([]byte(files[n]))
		fmt.Fprintf(&b, "%s  %s\n", hex.EncodeToString(sum[:]), n)
	}
	return b.String()
}

func setOf(dir string, files map[string]string, fsys FS) Set {
	s := Set{Dir: dir, FS: fsys, Commit: File{Name: "MANIFEST.sha256", Data: []byte(manifestOf(files))}}
	for n, d := range files {
		s.Files = append(s.Files, File{Name: n, Data: []byte(d)})
	}
	sort.Slice(s.Files, func(i, j int) bool { return s.Files[i].Name < s.Files[j].Name })
	s.Stale = func(FS) []string {
		var stale []string
		for _, n := range []string{"a.csv", "b.csv", "policy.json", "stale.csv"} {
			if _, ok := files[n]; !ok {
				if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
					stale = append(stale, n)
				}
			}
		}
		return stale
	}
	return s
}

var (
	prevFiles = map[string]string{"policy.json": "{\"v\": 1}\n", "a.csv": "a,1\n", "stale.csv": "only in the previous set\n"}
	nextFiles = map[string]string{"policy.json": "{\"v\": 2, \"rules\": [1, 2, 3]}\n", "a.csv": "a,2\nmore\n", "b.csv": "new in this set\n"}
)

// state reads dir: every entry name and file content, the stage directories counted apart.
func state(t *testing.T, dir string) (map[string]string, int) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	got := map[string]string{}
	stages := 0
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), StagePrefix) {
			stages++
			continue
		}
		if e.IsDir() {
			got[e.Name()] = "<dir>"
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		require.NoError(t, err)
		got[e.Name()] = string(b)
	}
	return got, stages
}

// want is the expected content of dir for a set: its files, its manifest, the unlisted file.
func want(files map[string]string) map[string]string {
	w := map[string]string{"MANIFEST.sha256": manifestOf(files), "keep.txt": "not listed: left alone\n"}
	for n, d := range files {
		w[n] = d
	}
	return w
}

// fresh returns a directory holding the previous set and a file no manifest lists.
func fresh(t *testing.T) string {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "keep.txt"), []byte("not listed: left alone\n"), 0o644))
	require.NoError(t, setOf(dir, prevFiles, newFault()).Write())
	got, stages := state(t, dir)
	require.Equal(t, want(prevFiles), got)
	require.Zero(t, stages)
	return dir
}

func cleanOps(t *testing.T, noLink bool) int {
	f := newFault()
	f.noLink = noLink
	require.NoError(t, setOf(fresh(t), nextFiles, f).Write())
	return f.ops
}

// TestSetFailureAtEveryStep: one operation fails, for every operation of a run (with hard
// links and with the copy fallback). After a returned error the directory holds exactly the
// previous set (its manifest verifies) and nothing new, not even the stage; without an error
// it holds exactly the new set.
func TestSetFailureAtEveryStep(t *testing.T) {
	for _, noLink := range []bool{false, true} {
		n := cleanOps(t, noLink)
		require.Greater(t, n, 30)
		for k := 1; k <= n+1; k++ {
			dir := fresh(t)
			f := newFault()
			f.failAt, f.noLink = k, noLink
			err := setOf(dir, nextFiles, f).Write()
			got, stages := state(t, dir)
			switch {
			case err == nil:
				assert.Equal(t, want(nextFiles), got, "k=%d (%s) no error: the new set", k, f.failedOp)
				if stages > 0 {
					// Only the final cleanup failed: the next run recognises a committed stage.
					require.NoError(t, Recover(dir, nil))
					got, stages = state(t, dir)
					assert.Equal(t, want(nextFiles), got)
				}
			case strings.Contains(err.Error(), "written by an earlier run"):
				// The new set is committed; only a stale file could not be removed.
				w := want(nextFiles)
				w["stale.csv"] = prevFiles["stale.csv"]
				assert.Equal(t, w, got, "k=%d (%s)", k, f.failedOp)
			default:
				assert.ErrorIs(t, err, errInjected, "k=%d", k)
				assert.Equal(t, want(prevFiles), got, "k=%d (%s): %v", k, f.failedOp, err)
				assert.Zero(t, stages, "k=%d (%s): nothing left behind", k, f.failedOp)
			}
			assert.Zero(t, stages, "k=%d (%s)", k, f.failedOp)
		}
	}
}

// TestSetCrashAtEveryStep: the process dies at every operation (that one and all later ones
// fail, including any rollback). The next run's recovery leaves exactly the previous set
// when the crash came before the manifest's rename, exactly the new set after it.
func TestSetCrashAtEveryStep(t *testing.T) {
	n := cleanOps(t, false)
	sawPrev, sawNext := false, false
	for k := 1; k <= n; k++ {
		dir := fresh(t)
		f := newFault()
		f.failAt, f.crash = k, true
		_ = setOf(dir, nextFiles, f).Write()
		committed := false
		for _, op := range f.log[:k-1] {
			if op == "rename MANIFEST.sha256" {
				committed = true
			}
		}
		require.NoError(t, Recover(dir, nil), "k=%d", k)
		got, stages := state(t, dir)
		assert.Zero(t, stages)
		if committed {
			assert.Equal(t, want(nextFiles), got, "k=%d (%s): committed before the crash", k, f.failedOp)
			sawNext = true
		} else {
			assert.Equal(t, want(prevFiles), got, "k=%d (%s): crashed before the commit", k, f.failedOp)
			sawPrev = true
		}
		// And a later run writes its set normally.
		require.NoError(t, setOf(dir, nextFiles, newFault()).Write())
		got, _ = state(t, dir)
		assert.Equal(t, want(nextFiles), got)
	}
	assert.True(t, sawPrev && sawNext)
}

// TestSetDiskFull: the file system fills after N bytes, for every N up to the set's size.
func TestSetDiskFull(t *testing.T) {
	total := 0
	for _, d := range nextFiles {
		total += len(d)
	}
	total += len(manifestOf(nextFiles)) + 300 // journal
	for budget := 0; budget <= total; budget += 7 {
		dir := fresh(t)
		f := newFault()
		f.budget = int64(budget)
		err := setOf(dir, nextFiles, f).Write()
		got, stages := state(t, dir)
		if err == nil {
			assert.Equal(t, want(nextFiles), got, "budget %d", budget)
			continue
		}
		assert.ErrorIs(t, err, syscall.ENOSPC, "budget %d", budget)
		assert.Regexp(t, `: (staging|journal): `, err.Error())
		assert.Equal(t, want(prevFiles), got, "budget %d", budget)
		assert.Zero(t, stages, "budget %d", budget)
	}
}

// TestSetRollbackFails: the commit fails, and so does putting a file back. The error says so
// and where the previous files are kept; the next run restores the previous set.
func TestSetRollbackFails(t *testing.T) {
	n := cleanOps(t, false)
	f0 := newFault()
	require.NoError(t, setOf(fresh(t), nextFiles, f0).Write())
	renames := 0
	for k, op := range f0.log {
		if !strings.HasPrefix(op, "rename") || op == "rename MANIFEST.sha256" {
			continue
		}
		renames++
		if renames < 2 {
			continue // the second file's rename fails: the first is already in place
		}
		dir := fresh(t)
		f := newFault()
		f.failAt, f.failRollback = k+1, true
		err := setOf(dir, nextFiles, f).Write()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "restoring the previous files failed too")
		assert.Contains(t, err.Error(), "the next run into "+dir+" restores them")
		_, stages := state(t, dir)
		assert.Equal(t, 1, stages, "the stage keeps the previous files")
		require.NoError(t, Recover(dir, nil))
		got, stages := state(t, dir)
		assert.Equal(t, want(prevFiles), got)
		assert.Zero(t, stages)
		break
	}
	assert.GreaterOrEqual(t, renames, 2, "ops %d", n)
}

func TestSetRefusesNonRegularTarget(t *testing.T) {
	dir := fresh(t)
	require.NoError(t, os.Remove(filepath.Join(dir, "a.csv")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "a.csv"), 0o755))
	err := setOf(dir, nextFiles, nil).Write()
	require.Error(t, err)
	assert.Contains(t, err.Error(), filepath.Join(dir, "a.csv")+": not a regular file")
	_, stages := state(t, dir)
	assert.Zero(t, stages)
	fi, err := os.Stat(filepath.Join(dir, "policy.json"))
	require.NoError(t, err)
	b, _ := os.ReadFile(filepath.Join(dir, "policy.json"))
	assert.Equal(t, prevFiles["policy.json"], string(b), "nothing replaced (%v)", fi.Mode())
}

func TestSetNames(t *testing.T) {
	dir := t.TempDir()
	for _, bad := range []string{"", ".", "..", "a/b", `a\b`, "a\nb", "x\x00", StagePrefix + "x", "tab\there"} {
		s := Set{Dir: dir, Files: []File{{Name: bad, Data: []byte("x")}}, Commit: File{Name: "M", Data: []byte("m")}}
		assert.Error(t, s.Write(), "%q", bad)
	}
	s := Set{Dir: dir, Files: []File{{Name: "a"}, {Name: "a"}}, Commit: File{Name: "M"}}
	assert.ErrorContains(t, s.Write(), "given twice")
	s = Set{Dir: dir, Files: []File{{Name: "a"}}, Commit: File{Name: "M"}, Stale: func(FS) []string { return []string{"../etc"} }}
	assert.ErrorContains(t, s.Write(), "not a plain file name")
	ents, _ := os.ReadDir(dir)
	assert.Empty(t, ents)
}

// TestRecoverTornJournal: a stage whose journal is missing or torn never touched the
// directory: recovery removes it and changes nothing else.
func TestRecoverTornJournal(t *testing.T) {
	for _, journal := range []string{"", "{\"names\": [", "garbage"} {
		dir := fresh(t)
		stage := filepath.Join(dir, StagePrefix+"123")
		require.NoError(t, os.MkdirAll(filepath.Join(stage, "new"), 0o700))
		require.NoError(t, os.WriteFile(filepath.Join(stage, "new", "policy.json"), []byte("half"), 0o644))
		if journal != "" {
			require.NoError(t, os.WriteFile(filepath.Join(stage, journalName), []byte(journal), 0o600))
		}
		require.NoError(t, Recover(dir, nil))
		got, stages := state(t, dir)
		assert.Equal(t, want(prevFiles), got)
		assert.Zero(t, stages)
	}
}
