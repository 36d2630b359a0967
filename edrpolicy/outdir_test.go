package edrpolicy

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CheckOutputDir's refusals are option errors for Out that wrap ErrOutDir, and name no flag.
func TestCheckOutputDirRefusals(t *testing.T) {
	dir := t.TempDir()
	assert.NoError(t, CheckOutputDir(filepath.Join(dir, "missing"), ""), "a missing folder is safe")
	assert.NoError(t, CheckOutputDir(dir, ""), "an empty folder is safe")

	prev := filepath.Join(dir, PolicyFileName)
	err := CheckOutputDir(dir, prev)
	var oe *OptionError
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "Out", oe.Field)
	assert.Equal(t, dir, oe.Value)
	assert.True(t, errors.Is(err, ErrOutDir))
	assert.Contains(t, err.Error(), "is the folder of the previous policy")
	assert.NotContains(t, err.Error(), "--")

	require.NoError(t, os.WriteFile(prev, []byte("{}"), 0o644))
	err = CheckOutputDir(dir, "")
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, "Out", oe.Field)
	assert.True(t, errors.Is(err, ErrOutDir))
	assert.Contains(t, err.Error(), "holds a policy.json that no MANIFEST.sha256 there lists")

	require.NoError(t, os.WriteFile(filepath.Join(dir, ManifestName), []byte("0000000000000000000000000000000000000000000000000000000000000000  policy.json\n"), 0o644))
	assert.NoError(t, CheckOutputDir(dir, ""), "a policy.json the manifest lists is an earlier output set")
}
