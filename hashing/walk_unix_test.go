//go:build unix

package hashing

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWalkOSSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a.txt"), []byte("a"), 0o644))
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644))
	l, err := net.Listen("unix", filepath.Join(dir, "sock"))
	require.NoError(t, err)
	defer l.Close()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "d"), 0o755))
	require.NoError(t, os.Symlink("..", filepath.Join(dir, "d", "loop")))
	require.NoError(t, os.Symlink(filepath.Join(dir, "d"), filepath.Join(dir, "abs")))

	for _, follow := range []bool{false, true} {
		done := make(chan []Entry)
		go func() {
			es, err := Walk(context.Background(), DirFS(dir), ".", WalkOptions{FollowSymlinks: follow})
			assert.NoError(t, err)
			done <- es
		}()
		var es []Entry
		select {
		case es = <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("walk hangs on special files")
		}
		byName := map[string]walked{}
		for _, w := range summarize(es) {
			byName[w.Name] = w
		}
		assert.Equal(t, KindOther, byName["fifo"].Kind)
		assert.Contains(t, byName["fifo"].Err, "named pipe")
		assert.Equal(t, KindOther, byName["sock"].Kind)
		assert.Contains(t, byName["sock"].Err, "socket")
		if follow {
			assert.Contains(t, byName["d/loop"].Err, "symbolic link loop")
			// an absolute link to a sibling directory is followed once, and its loop caught
			assert.Equal(t, KindDir, byName["abs"].Kind)
			assert.Contains(t, byName["abs/loop"].Err, "symbolic link loop")
		} else {
			assert.Equal(t, KindSymlink, byName["d/loop"].Kind)
			assert.Empty(t, byName["d/loop"].Err)
		}
	}
	// Opening a FIFO through DirFS never blocks and is refused.
	_, err = DirFS(dir).Open("fifo")
	assert.ErrorIs(t, err, ErrNotRegular)
}
