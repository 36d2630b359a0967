package safeopen

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// within fails the test when fn does not return in a few seconds (a hang on a FIFO or an
// endless read of /dev/zero would otherwise block the whole test binary).
func within(t *testing.T, fn func()) {
	t.Helper()
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); fn() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("did not finish in 10 s")
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v", d)
	}
}

func symlink(t *testing.T, target, link string) {
	t.Helper()
	if err := os.Symlink(target, link); err != nil {
		if runtime.GOOS == "windows" {
			t.Skipf("symlink: %v", err)
		}
		t.Fatal(err)
	}
}

// hostileCase is one file that ReadFile must refuse quickly with an error naming it.
type hostileCase struct {
	name    string
	setup   func(t *testing.T, root string) (file string) // returns the name under root
	max     int64
	wantErr error  // sentinel, or nil for an OS error
	reason  string // substring of the message
}

func portableCases() []hostileCase {
	return []hostileCase{
		{"directory", func(t *testing.T, root string) string {
			require.NoError(t, os.Mkdir(filepath.Join(root, "Info.plist"), 0o755))
			return "Info.plist"
		}, MaxInfoPlist, ErrNotRegular, "refused: a directory, not a regular file"},
		{"sparse 3 GiB", func(t *testing.T, root string) string {
			f, err := os.Create(filepath.Join(root, "Info.plist"))
			require.NoError(t, err)
			require.NoError(t, f.Truncate(3<<30)) // sparse: no block is written
			require.NoError(t, f.Close())
			return "Info.plist"
		}, MaxInfoPlist, ErrTooLarge, "refused: is 3 GiB, more than the 4 MiB allowed"},
		{"one byte over", func(t *testing.T, root string) string {
			require.NoError(t, os.WriteFile(filepath.Join(root, "policy.json"), make([]byte, 1025), 0o644))
			return "policy.json"
		}, 1024, ErrTooLarge, "refused: is 1025 bytes, more than the 1024 bytes allowed"},
		{"symlink out of the root (relative)", func(t *testing.T, root string) string {
			outside := filepath.Join(filepath.Dir(root), filepath.Base(root)+"-outside.plist")
			require.NoError(t, os.WriteFile(outside, []byte("secret"), 0o644))
			t.Cleanup(func() { os.Remove(outside) })
			symlink(t, filepath.Join("..", filepath.Base(outside)), filepath.Join(root, "Info.plist"))
			return "Info.plist"
		}, MaxInfoPlist, ErrOutsideRoot, "leads outside"},
		{"symlink out of the root (absolute)", func(t *testing.T, root string) string {
			outside := filepath.Join(t.TempDir(), "x.plist")
			require.NoError(t, os.WriteFile(outside, []byte("secret"), 0o644))
			require.NoError(t, os.MkdirAll(filepath.Join(root, "A.app", "Contents"), 0o755))
			symlink(t, outside, filepath.Join(root, "A.app", "Contents", "Info.plist"))
			return "A.app/Contents/Info.plist"
		}, MaxInfoPlist, ErrOutsideRoot, "leads outside"},
		{"directory symlink out of the root on the way", func(t *testing.T, root string) string {
			outside := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(outside, "Info.plist"), []byte("x"), 0o644))
			symlink(t, outside, filepath.Join(root, "Contents"))
			return "Contents/Info.plist"
		}, MaxInfoPlist, ErrOutsideRoot, "leads outside"},
		{"dot-dot in the name", func(t *testing.T, root string) string {
			return "../../etc/passwd"
		}, MaxInfoPlist, ErrOutsideRoot, "leads outside"},
		{"symlink loop", func(t *testing.T, root string) string {
			symlink(t, "b", filepath.Join(root, "a"))
			symlink(t, "a", filepath.Join(root, "b"))
			return "a"
		}, MaxInfoPlist, nil, "too many levels of symbolic links"},
		{"self loop", func(t *testing.T, root string) string {
			symlink(t, "Info.plist", filepath.Join(root, "Info.plist"))
			return "Info.plist"
		}, MaxInfoPlist, nil, "too many levels of symbolic links"},
		{"missing", func(t *testing.T, root string) string { return "nope.plist" }, MaxInfoPlist, os.ErrNotExist, "nope.plist"},
	}
}

func runHostile(t *testing.T, cases []hostileCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			name := tc.setup(t, root)
			within(t, func() {
				_, err := ReadFile(root, name, tc.max)
				require.Error(t, err)
				assert.True(t, strings.HasPrefix(err.Error(), filepath.Join(root, filepath.FromSlash(name))+": "), "error names the file: %v", err)
				assert.Contains(t, err.Error(), tc.reason)
				if tc.wantErr != nil {
					assert.ErrorIs(t, err, tc.wantErr)
				}
			})
			within(t, func() {
				f, err := Open(root, name, tc.max)
				if err == nil {
					f.Close()
				}
				require.Error(t, err)
			})
		})
	}
}

func TestReadFileRefuses(t *testing.T) { runHostile(t, portableCases()) }

func TestReadFileReads(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "A.app", "Contents"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "real.plist"), []byte("<plist/>"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "empty"), nil, 0o644))
	exact := make([]byte, 4096)
	for i := range exact {
		exact[i] = byte(i)
	}
	require.NoError(t, os.WriteFile(filepath.Join(root, "exact"), exact, 0o644))
	symlink(t, filepath.Join("..", "..", "real.plist"), filepath.Join(root, "A.app", "Contents", "Info.plist"))
	for _, tc := range []struct {
		name string
		max  int64
		want []byte
	}{
		{"real.plist", 100, []byte("<plist/>")},
		{"A.app/Contents/Info.plist", 100, []byte("<plist/>")}, // a link that stays inside
		{"A.app/../real.plist", 100, []byte("<plist/>")},       // .. that stays inside
		{"empty", 100, []byte{}},
		{"exact", 4096, exact}, // exactly the cap
	} {
		got, err := ReadFile(root, tc.name, tc.max)
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
	// A path the user gave (no root) is opened as given.
	got, err := ReadFile("", filepath.Join(root, "real.plist"), 100)
	require.NoError(t, err)
	assert.Equal(t, "<plist/>", string(got))
}

// TestFileGrowsWhileRead: the fstat size is under the cap, then the file grows past it
// before it is read: the read stops at the cap with an error, it does not follow the growth.
func TestFileGrowsWhileRead(t *testing.T) {
	root := t.TempDir()
	p := filepath.Join(root, "v.txt")
	require.NoError(t, os.WriteFile(p, []byte("1.0\n"), 0o644))
	f, err := Open(root, "v.txt", 64)
	require.NoError(t, err)
	defer f.Close()
	w, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = w.Write(make([]byte, 1<<20))
	require.NoError(t, err)
	require.NoError(t, w.Close())
	within(t, func() {
		_, err = f.readAll()
		require.ErrorIs(t, err, ErrTooLarge)
		assert.Equal(t, p+": refused: grew while it was read, more than the 64 bytes allowed", err.Error())
	})
	// The streaming reader stops the same way.
	g, err := Open(root, "v.txt", 64)
	require.ErrorIs(t, err, ErrTooLarge) // now the fstat size is over
	assert.Nil(t, g)
}

// growFS is an fs.FS whose file says it has 1 byte and then yields endless data.
type growFS struct{}

type growFile struct{}

func (growFS) Open(string) (fs.File, error) { return growFile{}, nil }
func (growFile) Stat() (fs.FileInfo, error) { return fstest.MapFS{"f": {Data: []byte("x")}}.Stat("f") }
func (growFile) Read(p []byte) (int, error) { return len(p), nil }
func (growFile) Close() error               { return nil }

func TestReadFSGrowing(t *testing.T) {
	within(t, func() {
		_, err := ReadFS(growFS{}, "f", 1<<20)
		require.ErrorIs(t, err, ErrTooLarge)
		assert.Contains(t, err.Error(), "f: refused: grew while it was read")
	})
}

func TestReadFSMapFS(t *testing.T) {
	fsys := fstest.MapFS{
		"A.app/Contents/Info.plist": {Data: []byte("<plist/>")},
		"big":                       {Data: make([]byte, 10)},
		"dir/x":                     {Data: []byte("x")},
	}
	got, err := ReadFS(fsys, "A.app/Contents/Info.plist", 100)
	require.NoError(t, err)
	assert.Equal(t, "<plist/>", string(got))
	_, err = ReadFS(fsys, "big", 9)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Equal(t, "big: refused: is 10 bytes, more than the 9 bytes allowed", err.Error())
	_, err = ReadFS(fsys, "dir", 100)
	require.ErrorIs(t, err, ErrNotRegular)
	_, err = ReadFS(fsys, "nope", 100)
	require.ErrorIs(t, err, os.ErrNotExist)
}

// osFS is a minimal OSPather, as hashing.DirFS is.
type osFS string

func (d osFS) Open(name string) (fs.File, error) { return os.Open(filepath.Join(string(d), name)) }
func (d osFS) OSPath(name string) string         { return filepath.Join(string(d), filepath.FromSlash(name)) }

func TestReadFSOSPatherStaysInRoot(t *testing.T) {
	root := t.TempDir()
	outside := filepath.Join(t.TempDir(), "o")
	require.NoError(t, os.WriteFile(outside, []byte("o"), 0o644))
	symlink(t, outside, filepath.Join(root, "link"))
	_, err := ReadFS(osFS(root), "link", 100)
	require.ErrorIs(t, err, ErrOutsideRoot)
}

// TestEscapeMessage pins the text isEscape recognises: if a Go release rewords os.Root's
// error, this fails rather than the error losing its reason.
func TestEscapeMessage(t *testing.T) {
	r, err := os.OpenRoot(t.TempDir())
	require.NoError(t, err)
	defer r.Close()
	_, err = r.Open("../x")
	require.Error(t, err)
	assert.True(t, isEscape(err), err.Error())
	assert.False(t, isEscape(errors.New("no such file")))
}

var _ io.Reader = (*File)(nil)
