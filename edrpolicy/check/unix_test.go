//go:build unix

package check

import (
	"context"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCheckUnreadable: a file that cannot be read (here a FIFO) is reported, not simulated.
func TestCheckUnreadable(t *testing.T) {
	root := t.TempDir()
	elf(t, filepath.Join(root, "app"), "app")
	if err := syscall.Mkfifo(filepath.Join(root, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	rep, err := Run(context.Background(), checkBase(), Options{Roots: []string{root}, InstallPaths: map[string][]string{root: {`C:\App`}}, Now: testNow})
	require.NoError(t, err)
	var got []Finding
	for _, f := range rep.Findings {
		if f.ID == FindingUnreadable {
			got = append(got, f)
		}
	}
	require.Len(t, got, 1)
	assert.Equal(t, SeverityError, got[0].Severity, "an unread file fails the check, as it makes generate exit 1")
	assert.Equal(t, root+"/pipe", got[0].File)
	assert.Contains(t, got[0].Message, "file could not be read (")
	assert.Equal(t, "1 executable: 0 covered by hash, 0 by signer, 0 by path, 1 not covered", rep.Simulation.Text)
}
