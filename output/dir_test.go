package output

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// CheckDir's refusals are *RefusedError values that wrap ErrRefused, and name no flag.
func TestCheckDirRefusals(t *testing.T) {
	dir := t.TempDir()
	assert.NoError(t, CheckDir(filepath.Join(dir, "missing"), ""), "a missing folder is safe")
	assert.NoError(t, CheckDir(dir, ""), "an empty folder is safe")

	prev := filepath.Join(dir, PolicyFileName)
	err := CheckDir(dir, prev)
	var re *RefusedError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, dir, re.Dir)
	assert.True(t, errors.Is(err, ErrRefused))
	assert.Contains(t, err.Error(), "is the folder of the previous policy")
	assert.NotContains(t, err.Error(), "--")

	require.NoError(t, os.WriteFile(prev, []byte("{}"), 0o644))
	err = CheckDir(dir, "")
	require.ErrorAs(t, err, &re)
	assert.True(t, errors.Is(err, ErrRefused))
	assert.Contains(t, err.Error(), "holds a policy.json that no MANIFEST.sha256 there lists")

	require.NoError(t, os.WriteFile(filepath.Join(dir, ManifestName), []byte("0000000000000000000000000000000000000000000000000000000000000000  policy.json\n"), 0o644))
	assert.NoError(t, CheckDir(dir, ""), "a policy.json the manifest lists is an earlier output set")
}
