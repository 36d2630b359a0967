package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The exit codes are the contract scripts rely on: 0 success, 1 attention, 2 usage/fatal.
func TestExitCodes(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "a"), []byte("a"), 0o644))
	tests := []struct {
		name       string
		args       []string
		want       int
		wantStderr string
	}{
		{"inspect ok", []string{"inspect", dir}, 0, ""},
		{"inspect json ok", []string{"inspect", "--format", "json", dir}, 0, ""},
		{"inspect missing file", []string{"inspect", dir, filepath.Join(dir, "nope")}, 1, "1 of 2 files could not be read or parsed"},
		{"bad flag", []string{"inspect", "--bogus", dir}, 2, "unknown flag"},
		{"bad format", []string{"inspect", "--format", "yaml", dir}, 2, "--format"},
		{"no args", []string{"inspect"}, 2, "requires at least 1 arg"},
		{"unknown command", []string{"nope"}, 2, "unknown command"},
		{"check: missing policy", []string{"check", filepath.Join(dir, "nope.json")}, 2, "check: policy: " + filepath.Join(dir, "nope.json") + ": no such file or directory"},
		{"version", []string{"--version"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			got := run(context.Background(), tt.args, nil, &out, &errb)
			assert.Equal(t, tt.want, got, "stderr: %s", errb.String())
			if tt.wantStderr == "" {
				assert.Empty(t, errb.String(), "nothing on stderr on success (it is not a terminal)")
			} else {
				assert.Contains(t, errb.String(), tt.wantStderr)
			}
		})
	}
}
