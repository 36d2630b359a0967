//go:build unix

package atomicfile

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSetLocked: while another writer holds the directory, a Write fails at once, naming the
// directory, and changes nothing (not even recovery of a stage the other writer owns).
func TestSetLocked(t *testing.T) {
	dir := fresh(t)
	stage := filepath.Join(dir, StagePrefix+"busy")
	require.NoError(t, os.Mkdir(stage, 0o700))
	unlock, err := lockDir(dir)
	require.NoError(t, err)
	err = setOf(dir, nextFiles, nil).Write()
	require.Error(t, err)
	assert.Contains(t, err.Error(), dir+": another edrpolicy is writing to this directory")
	assert.DirExists(t, stage, "another writer's stage is not touched")
	unlock()
	require.NoError(t, setOf(dir, nextFiles, nil).Write())
	got, stages := state(t, dir)
	assert.Equal(t, want(nextFiles), got)
	assert.Zero(t, stages)
}
