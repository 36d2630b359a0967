package hashing

import (
	"context"
	"errors"
	"io/fs"
	"sync/atomic"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type walked struct {
	Name   string
	Kind   EntryKind
	Target string
	Err    string
}

func summarize(es []Entry) []walked {
	var out []walked
	for _, e := range es {
		w := walked{Name: e.Name, Kind: e.Kind, Target: e.Target}
		if e.Err != nil {
			w.Err = e.Err.Error()
		}
		out = append(out, w)
	}
	return out
}

func mapFS() fstest.MapFS {
	return fstest.MapFS{
		"app/bin/tool.exe":   {Data: []byte("MZ")},
		"app/lib/a.dll":      {Data: []byte("x")},
		"app/lib/current":    {Data: []byte("a.dll"), Mode: fs.ModeSymlink},
		"app/loop":           {Data: []byte(".."), Mode: fs.ModeSymlink},
		"app/self":           {Data: []byte("."), Mode: fs.ModeSymlink},
		"app/binlink":        {Data: []byte("bin"), Mode: fs.ModeSymlink},
		"app/dangling":       {Data: []byte("nowhere"), Mode: fs.ModeSymlink},
		"app/z/deeper/file":  {Data: []byte("z")},
		"app/z/deeper/up":    {Data: []byte("../.."), Mode: fs.ModeSymlink},
		"app/README.txt":     {Data: []byte("r")},
		"app/bin/tool.cfg":   {Data: []byte("c")},
		"app/empty/.keep":    {Data: nil},
		"app/lib/b.dll":      {Data: []byte("y")},
		"app/lib/sub/c.dll":  {Data: []byte("z")},
		"app/lib/sub/d.conf": {Data: []byte("w")},
	}
}

func TestWalkReportsSymlinks(t *testing.T) {
	es, err := Walk(context.Background(), mapFS(), "app", WalkOptions{})
	require.NoError(t, err)
	got := summarize(es)
	assert.Equal(t, []walked{
		{Name: "app/README.txt", Kind: KindFile},
		{Name: "app/bin", Kind: KindDir},
		{Name: "app/bin/tool.cfg", Kind: KindFile},
		{Name: "app/bin/tool.exe", Kind: KindFile},
		{Name: "app/binlink", Kind: KindSymlink, Target: "bin"},
		{Name: "app/dangling", Kind: KindSymlink, Target: "nowhere"},
		{Name: "app/empty", Kind: KindDir},
		{Name: "app/empty/.keep", Kind: KindFile},
		{Name: "app/lib", Kind: KindDir},
		{Name: "app/lib/a.dll", Kind: KindFile},
		{Name: "app/lib/b.dll", Kind: KindFile},
		{Name: "app/lib/current", Kind: KindSymlink, Target: "a.dll"},
		{Name: "app/lib/sub", Kind: KindDir},
		{Name: "app/lib/sub/c.dll", Kind: KindFile},
		{Name: "app/lib/sub/d.conf", Kind: KindFile},
		{Name: "app/loop", Kind: KindSymlink, Target: ".."},
		{Name: "app/self", Kind: KindSymlink, Target: "."},
		{Name: "app/z", Kind: KindDir},
		{Name: "app/z/deeper", Kind: KindDir},
		{Name: "app/z/deeper/file", Kind: KindFile},
		{Name: "app/z/deeper/up", Kind: KindSymlink, Target: "../.."},
	}, got)
}

func TestWalkFollowsSymlinksAndStopsLoops(t *testing.T) {
	es, err := Walk(context.Background(), mapFS(), "app", WalkOptions{FollowSymlinks: true})
	require.NoError(t, err)
	byName := map[string]walked{}
	for _, w := range summarize(es) {
		byName[w.Name] = w
	}
	// A link to a directory is walked under the link's name.
	assert.Equal(t, KindDir, byName["app/binlink"].Kind)
	assert.Equal(t, KindFile, byName["app/binlink/tool.exe"].Kind)
	// A link to a file is a file.
	assert.Equal(t, KindFile, byName["app/lib/current"].Kind)
	assert.Equal(t, "a.dll", byName["app/lib/current"].Target)
	// Links to an ancestor (or to the directory itself) are loops, reported and not followed.
	for _, n := range []string{"app/loop", "app/self", "app/z/deeper/up"} {
		assert.Contains(t, byName[n].Err, "symbolic link loop", n)
		assert.Equal(t, KindSymlink, byName[n].Kind, n)
	}
	assert.NotContains(t, byName, "app/loop/app")
	// A dangling link is an error record, not a failure of the walk.
	assert.Contains(t, byName["app/dangling"].Err, "cannot follow link")
}

// errFS fails reading one directory and stat'ing one file.
type errFS struct{ fstest.MapFS }

func (e errFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if name == "a/locked" {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	return e.MapFS.ReadDir(name)
}

func TestWalkGoesOnAfterErrors(t *testing.T) {
	fsys := errFS{fstest.MapFS{
		"a/locked/x": {Data: []byte("x")},
		"a/ok/y":     {Data: []byte("y")},
	}}
	es, err := Walk(context.Background(), fsys, "a", WalkOptions{})
	require.NoError(t, err)
	got := summarize(es)
	assert.Equal(t, []walked{
		{Name: "a/locked", Kind: KindDir},
		{Name: "a/locked", Kind: KindError, Err: "open a/locked: permission denied"},
		{Name: "a/ok", Kind: KindDir},
		{Name: "a/ok/y", Kind: KindFile},
	}, got)
}

func TestWalkCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Walk(ctx, mapFS(), "app", WalkOptions{})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestWalkNotADirectory(t *testing.T) {
	_, err := Walk(context.Background(), mapFS(), "app/README.txt", WalkOptions{})
	assert.ErrorContains(t, err, "not a directory")
	_, err = Walk(context.Background(), mapFS(), "missing", WalkOptions{})
	assert.True(t, errors.Is(err, fs.ErrNotExist))
}

func TestParallelCoversEveryItemOnce(t *testing.T) {
	for _, jobs := range []int{0, 1, 2, 7, 100} {
		const n = 1000
		var seen [n]atomic.Int32
		var busy [128]atomic.Int32
		err := Parallel(context.Background(), n, jobs, func(worker, i int) {
			if busy[worker].Add(1) != 1 {
				t.Errorf("worker %d used by two goroutines at once", worker)
			}
			seen[i].Add(1)
			busy[worker].Add(-1)
		})
		require.NoError(t, err)
		for i := range seen {
			require.Equal(t, int32(1), seen[i].Load(), "item %d with jobs=%d", i, jobs)
		}
	}
}

func TestParallelStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	err := Parallel(ctx, 1000, 2, func(_, i int) {
		if ran.Add(1) == 10 {
			cancel()
		}
	})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Less(t, ran.Load(), int32(20))
}
