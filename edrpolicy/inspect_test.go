package edrpolicy

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

func sha(b string) string {
	s := sha256.Sum256([]byte(b))
	return hex.EncodeToString(s[:])
}

// fakePE is enough of a PE for Sniff.
func fakePE(tag string) string {
	b := make([]byte, 256)
	copy(b, "MZ")
	b[0x3c] = 0x80
	copy(b[0x80:], "PE\x00\x00")
	return string(b) + tag
}

// recordingVerifier is a Verifier for PE files that records what it was given.
type recordingVerifier struct {
	tapped  bool
	panicOn string
	errOn   string
}

type countTap struct{ n int64 }

func (c *countTap) Write(p []byte) (int, error) { c.n += int64(len(p)); return len(p), nil }

func (r *recordingVerifier) Name() string                  { return "fake" }
func (r *recordingVerifier) Accepts(f hashing.Format) bool { return f == hashing.FormatPE }
func (r *recordingVerifier) StreamTap(_ hashing.Format, head []byte, size int64) signers.Tap {
	if !r.tapped {
		return nil
	}
	return &countTap{}
}
func (r *recordingVerifier) Verify(_ context.Context, in signers.Input, _ signers.Options) (*signers.Result, error) {
	if in.Name == r.panicOn {
		panic("boom")
	}
	if in.Name == r.errOn {
		return nil, fmt.Errorf("garbage certificate table")
	}
	// Prove random access works and the tap saw the whole file.
	b := make([]byte, 2)
	if _, err := in.R.ReadAt(b, 0); err != nil {
		return nil, err
	}
	sig := signers.Signature{Kind: signers.KindAuthenticode, Status: signers.StatusValid, SignedDigest: string(b)}
	if t, ok := in.Tap.(*countTap); ok {
		sig.DigestAlgorithm = fmt.Sprint(t.n)
	}
	return &signers.Result{Signatures: []signers.Signature{sig}, PE: &signers.PEInfo{Machine: "amd64"}}, nil
}

func TestInspectFS(t *testing.T) {
	fsys := fstest.MapFS{
		"app/b.exe":        {Data: []byte(fakePE("b")), Mode: 0o755},
		"app/a.txt":        {Data: []byte("hello\n"), Mode: 0o644},
		"app/sub/c.exe":    {Data: []byte(fakePE("c")), Mode: 0o755},
		"app/sub/bad.exe":  {Data: []byte(fakePE("bad")), Mode: 0o755},
		"app/sub/boom.exe": {Data: []byte(fakePE("boom")), Mode: 0o755},
		"app/link":         {Data: []byte("a.txt"), Mode: fs.ModeSymlink},
		"app/empty":        {Data: nil, Mode: 0o600},
	}
	v := &recordingVerifier{tapped: true, panicOn: "sub/boom.exe", errOn: "sub/bad.exe"}
	inv, err := InspectFS(context.Background(), fsys, "app", InspectOptions{Verifiers: []signers.Verifier{v}, Digests: hashing.Algorithms{MD5: true}})
	require.NoError(t, err)
	var paths []string
	for _, f := range inv.Files {
		paths = append(paths, f.Path)
	}
	assert.Equal(t, []string{"a.txt", "b.exe", "empty", "link", "sub/bad.exe", "sub/boom.exe", "sub/c.exe"}, paths)
	byPath := map[string]FileEvidence{}
	for _, f := range inv.Files {
		byPath[f.Path] = f
	}
	a := byPath["a.txt"]
	assert.Equal(t, sha("hello\n"), a.SHA256)
	assert.Equal(t, "b1946ac92492d2347c6235b4d2611184", a.MD5)
	assert.Equal(t, hashing.FormatOther, a.Format)
	assert.Empty(t, a.SignatureStatus)
	assert.Equal(t, "0644", a.Mode)

	b := byPath["b.exe"]
	assert.Equal(t, hashing.FormatPE, b.Format)
	assert.Equal(t, signers.StatusValid, b.SignatureStatus)
	require.Len(t, b.Signatures, 1)
	assert.Equal(t, "MZ", b.Signatures[0].SignedDigest)
	assert.Equal(t, fmt.Sprint(len(fakePE("b"))), b.Signatures[0].DigestAlgorithm, "the tap sees every byte")
	assert.Equal(t, "amd64", b.PE.Machine)

	assert.Equal(t, sha(""), byPath["empty"].SHA256)
	assert.Equal(t, int64(0), byPath["empty"].Size)
	assert.Equal(t, "a.txt", byPath["link"].Symlink)
	assert.Empty(t, byPath["link"].SHA256, "links are reported, not followed")

	bad := byPath["sub/bad.exe"]
	assert.Equal(t, "fake: garbage certificate table", bad.Error)
	assert.Equal(t, signers.StatusInvalid, bad.SignatureStatus, "unparseable signature data is never trusted")
	assert.Equal(t, sha(fakePE("bad")), bad.SHA256, "digests are still reported")

	boom := byPath["sub/boom.exe"]
	assert.Contains(t, boom.Error, "internal error while inspecting this file")
	assert.Equal(t, 2, inv.Failed())
}

func TestInspectOrderIsStable(t *testing.T) {
	dir := t.TempDir()
	for i := 0; i < 300; i++ {
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i%17), fmt.Sprintf("f%03d", i))
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, bytes.Repeat([]byte{byte(i)}, i*37), 0o644))
	}
	var want []byte
	for _, jobs := range []int{1, 2, 3, 16} {
		inv, err := Inspect(context.Background(), []string{dir}, InspectOptions{Jobs: jobs})
		require.NoError(t, err)
		got, err := json.Marshal(inv)
		require.NoError(t, err)
		if want == nil {
			want = got
			continue
		}
		assert.Equal(t, string(want), string(got), "jobs=%d", jobs)
	}
}

func TestInspectBadPaths(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tool.bin")
	require.NoError(t, os.WriteFile(file, []byte("abc"), 0o644))
	inv, err := Inspect(context.Background(), []string{filepath.Join(dir, "missing"), file}, InspectOptions{})
	require.NoError(t, err)
	require.Len(t, inv.Files, 2)
	assert.Equal(t, filepath.Join(dir, "missing"), inv.Files[0].Path)
	assert.Contains(t, inv.Files[0].Error, "no such file or directory")
	assert.Equal(t, file, inv.Files[1].Path, "a file argument keeps its path as given")
	assert.Empty(t, inv.Files[1].Root)
	assert.Equal(t, sha("abc"), inv.Files[1].SHA256)
	assert.Equal(t, 1, inv.Failed())
}

func TestInspectUnreadableFile(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads files whatever their mode; the error path is covered by TestInspectOpenError")
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "secret")
	require.NoError(t, os.WriteFile(p, []byte("x"), 0o000))
	inv, err := Inspect(context.Background(), []string{dir}, InspectOptions{})
	require.NoError(t, err)
	require.Len(t, inv.Files, 1)
	assert.Contains(t, inv.Files[0].Error, "permission denied")
}

// openErrFS refuses to open one file, as a permission-denied file does for non-root users.
type openErrFS struct{ fstest.MapFS }

func (o openErrFS) Open(name string) (fs.File, error) {
	if name == "secret" {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return o.MapFS.Open(name)
}

func TestInspectOpenError(t *testing.T) {
	fsys := openErrFS{fstest.MapFS{"secret": {Data: []byte("x")}, "ok": {Data: []byte("y")}}}
	inv, err := InspectFS(context.Background(), fsys, ".", InspectOptions{})
	require.NoError(t, err)
	require.Len(t, inv.Files, 2)
	assert.Empty(t, inv.Files[0].Error)
	assert.Equal(t, "open secret: permission denied", inv.Files[1].Error)
}

// growFS serves a file whose Stat size is smaller than its content: it grew while being read.
type growFS struct{ fstest.MapFS }

type growFile struct {
	fs.File
	info fs.FileInfo
}

type smallInfo struct{ fs.FileInfo }

func (s smallInfo) Size() int64 { return s.FileInfo.Size() - 100 }

func (g growFile) Stat() (fs.FileInfo, error) { return smallInfo{g.info}, nil }
func (g growFile) ReadAt(p []byte, off int64) (int, error) {
	return g.File.(io.ReaderAt).ReadAt(p, off)
}

func (g growFS) Open(name string) (fs.File, error) {
	f, err := g.MapFS.Open(name)
	if err != nil || name != "log" {
		return f, err
	}
	fi, _ := f.Stat()
	return growFile{File: f, info: fi}, nil
}

func TestInspectFileChangedWhileRead(t *testing.T) {
	fsys := growFS{fstest.MapFS{"log": {Data: bytes.Repeat([]byte("l"), 5000)}}}
	inv, err := InspectFS(context.Background(), fsys, ".", InspectOptions{})
	require.NoError(t, err)
	require.Len(t, inv.Files, 1)
	assert.Equal(t, "read: file changed size while being read: expected 4900 bytes, read 5000", inv.Files[0].Error)
	assert.Empty(t, inv.Files[0].SHA256, "no digest for a file that was not read whole")
}

func TestInspectCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Inspect(ctx, []string{t.TempDir()}, InspectOptions{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestInspectProgress(t *testing.T) {
	fsys := fstest.MapFS{"a": {Data: []byte("12345")}, "b": {Data: []byte("678")}}
	var last Progress
	calls := 0
	_, err := InspectFS(context.Background(), fsys, ".", InspectOptions{Jobs: 2, Progress: func(p Progress) { calls++; last = p }})
	require.NoError(t, err)
	assert.Equal(t, 2, calls)
	assert.Equal(t, Progress{Files: 2, TotalFiles: 2, Bytes: 8, TotalBytes: 8}, last)
}

// 100,000 empty files: every one reported, in order, with the SHA-256 of nothing. The tree is
// in memory (creating 100,000 files on this CI's disk takes from 2 s to a minute, depending on
// the host); scripts/bench.sh runs the CLI on the same tree on disk.
func TestInspectManyEmptyFiles(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("100,000 files (skipped with -short and -race)")
	}
	const n = 100_000
	fsys := make(fstest.MapFS, n)
	for i := 0; i < n; i++ {
		fsys[fmt.Sprintf("d%03d/f%04d", i/1000, i%1000)] = &fstest.MapFile{Mode: 0o644}
	}
	inv, err := InspectFS(context.Background(), fsys, ".", InspectOptions{})
	require.NoError(t, err)
	require.Len(t, inv.Files, n)
	assert.Equal(t, 0, inv.Failed())
	empty := sha("")
	for i, f := range inv.Files {
		if f.SHA256 != empty || f.Size != 0 || f.Path != fmt.Sprintf("d%03d/f%04d", i/1000, i%1000) {
			t.Fatalf("file %d: %+v", i, f)
		}
	}
}

// The same on disk, smaller: 5,000 empty files in 50 folders through the OS walker.
func TestInspectManyEmptyFilesOnDisk(t *testing.T) {
	dir := t.TempDir()
	const n = 5000
	for d := 0; d < 50; d++ {
		sub := filepath.Join(dir, fmt.Sprintf("d%02d", d))
		require.NoError(t, os.Mkdir(sub, 0o755))
		for i := 0; i < n/50; i++ {
			f, err := os.Create(filepath.Join(sub, fmt.Sprintf("f%03d", i)))
			require.NoError(t, err)
			require.NoError(t, f.Close())
		}
	}
	inv, err := Inspect(context.Background(), []string{dir}, InspectOptions{})
	require.NoError(t, err)
	require.Len(t, inv.Files, n)
	assert.Equal(t, 0, inv.Failed())
	assert.Equal(t, "d00/f000", inv.Files[0].Path)
	assert.Equal(t, "d49/f099", inv.Files[n-1].Path)
	for _, f := range inv.Files {
		require.Equal(t, sha(""), f.SHA256, f.Path)
		require.Equal(t, dir, f.Root)
	}
}
