package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/require"
)

// TestSampleScripts runs testdata/sample/*.txtar against the sample install committed in
// examples/sample ($SAMPLE): the README's quick start, determinism with vendor files, and the
// upgrade scenario (generate --previous, --keep-previous, diff).
func TestSampleScripts(t *testing.T) {
	sample, err := filepath.Abs(filepath.Join("..", "..", "examples", "sample"))
	require.NoError(t, err)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/sample",
		// UPDATE_SCRIPTS=1 go test -run TestSampleScripts rewrites the cmp golden files of the
		// scripts (review the diff before committing).
		UpdateScripts: os.Getenv("UPDATE_SCRIPTS") != "",
		Setup: func(e *testscript.Env) error {
			e.Setenv("SAMPLE", sample)
			return nil
		},
	})
}
