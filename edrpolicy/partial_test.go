package edrpolicy

import (
	"context"
	"io"
	"io/fs"
	"strconv"
	"syscall"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// faultFS injects errors into an fs.FS: Open fails for openErr names, ReadDir fails for
// dirErr names, and reading a readErr file fails after its first byte.
type faultFS struct {
	fstest.MapFS
	openErr, dirErr, readErr map[string]error
}

func (f faultFS) Open(name string) (fs.File, error) {
	if err := f.openErr[name]; err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	file, err := f.MapFS.Open(name)
	if err != nil {
		return nil, err
	}
	if err := f.readErr[name]; err != nil {
		return &failingFile{File: file, err: err}, nil
	}
	return file, nil
}

func (f faultFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := f.dirErr[name]; err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	return f.MapFS.ReadDir(name)
}

func (f faultFS) Sub(dir string) (fs.FS, error) { return subFS{f, dir}, nil }

// subFS keeps the fault injection under fs.Sub (fstest.MapFS's own Sub would drop it).
type subFS struct {
	f   faultFS
	dir string
}

func (s subFS) full(name string) string {
	if name == "." {
		return s.dir
	}
	return s.dir + "/" + name
}
func (s subFS) Open(name string) (fs.File, error)          { return s.f.Open(s.full(name)) }
func (s subFS) ReadDir(name string) ([]fs.DirEntry, error) { return s.f.ReadDir(s.full(name)) }

type failingFile struct {
	fs.File
	err  error
	read bool
}

func (f *failingFile) Read(p []byte) (int, error) {
	if f.read {
		return 0, f.err
	}
	f.read = true
	n, _ := f.File.Read(p[:1])
	return n, nil
}

func elfBytes(note string) []byte {
	return append(append([]byte("\x7fELF\x02\x01\x01"), make([]byte, 57)...), note...)
}

func myappProfile(t *testing.T) *profile.Profile {
	t.Helper()
	p, err := profile.Load("testdata/myapp.json")
	require.NoError(t, err)
	return p
}

// TestPartialReadInjected: files that cannot be opened, a folder that cannot be listed and a
// file whose read fails half-way each become an "unreadable" warning naming it; the policy is
// marked partial. Root reads everything whatever its mode, so the errors are injected.
func TestPartialReadInjected(t *testing.T) {
	fsys := faultFS{
		MapFS: fstest.MapFS{
			"app/bin/good":       {Data: elfBytes("good"), Mode: 0o755},
			"app/bin/locked":     {Data: elfBytes("locked"), Mode: 0o755},
			"app/bin/flaky":      {Data: elfBytes("flaky"), Mode: 0o755},
			"app/bin/run.sh":     {Data: []byte("#!/bin/sh\n"), Mode: 0o755},
			"app/private/secret": {Data: elfBytes("secret"), Mode: 0o755},
			"app/VERSION":        {Data: []byte("2.3.1\n")},
		},
		openErr: map[string]error{"app/bin/locked": fs.ErrPermission},
		dirErr:  map[string]error{"app/private": fs.ErrPermission},
		readErr: map[string]error{"app/bin/flaky": syscall.EIO},
	}
	inv, err := InspectFS(context.Background(), fsys, "app", InspectOptions{})
	require.NoError(t, err)
	pol, err := Decide(inv, DecideOptions{Profile: myappProfile(t), OS: "linux", Version: "2.3.1", Level: CriterionHash, Now: testNow})
	require.NoError(t, err)
	assert.True(t, pol.Partial)
	got := map[string]string{}
	for _, w := range pol.Warnings {
		if w.Code == WarnUnreadable {
			require.Len(t, w.Files, 1)
			got[w.Files[0]] = w.Message
		}
	}
	assert.Len(t, got, 3)
	assert.Contains(t, got["bin/locked"], "bin/locked could not be read (open app/bin/locked: permission denied)")
	assert.Contains(t, got["bin/flaky"], "bin/flaky could not be read (read: input/output error)")
	assert.Contains(t, got["private"], "private could not be read (readdir app/private: permission denied)")
	for _, m := range got {
		assert.Contains(t, m, "this policy was built from a partial read")
	}
	// What was read still gets its rules.
	var files []string
	for _, r := range pol.Rules {
		if r.Role == profile.RoleExecutable {
			files = append(files, r.Files...)
		}
	}
	assert.ElementsMatch(t, []string{"bin/good", "bin/run.sh"}, files) // no install path mapping given
	data, err := pol.JSON()
	require.NoError(t, err)
	assert.Contains(t, string(data), "\n  \"partial\": true\n")
}

func TestPartialReadNone(t *testing.T) {
	fsys := fstest.MapFS{"app/bin/good": {Data: elfBytes("good"), Mode: 0o755}}
	inv, err := InspectFS(context.Background(), fsys, "app", InspectOptions{})
	require.NoError(t, err)
	pol, err := Decide(inv, DecideOptions{Profile: myappProfile(t), OS: "linux", Version: "2.3.1", Level: CriterionHash, Now: testNow})
	require.NoError(t, err)
	assert.False(t, pol.Partial)
	assert.NotContains(t, warningCodes(pol), WarnUnreadable)
	data, err := pol.JSON()
	require.NoError(t, err)
	assert.NotContains(t, string(data), "partial")
	// A policy without the warnings lints clean of EDR105.
	rep := runCheck(t, context.Background(), pol, CheckArgs{Now: testNow})
	for _, f := range rep.Findings {
		assert.NotEqual(t, findingUnreadable, f.ID)
	}
}

func TestQuotePath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"bin/app", "bin/app"},
		{`C:\Program Files\App\app.exe`, `C:\Program Files\App\app.exe`},
		{"caf\u00e9/\u65e5\u672c.exe", "caf\u00e9/\u65e5\u672c.exe"},
		{"bad\xffname.exe", `"bad\xffname.exe"`},
		{"dir\xc3/x", `"dir\xc3/x"`},         // a truncated UTF-8 sequence
		{"\xed\xa0\x80", `"\xed\xa0\x80"`},   // an encoded surrogate is not valid UTF-8
		{`"quoted".exe`, `"\"quoted\".exe"`}, // would read as a quoted form: quoted itself
		{"", ""},
	} {
		got := QuotePath(tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
		back := got
		if got != tc.in {
			var err error
			back, err = strconv.Unquote(got)
			require.NoError(t, err)
		}
		assert.Equal(t, tc.in, back, "reversible: %q", tc.in)
	}
}

var _ io.Reader = (*failingFile)(nil)
