package main

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The scheduled job on the sample install: first run (nothing deployed) → 1, the same
// install again → 0, the upgrade with renewed certificates → 1 naming the renewals.
func TestRefreshJob(t *testing.T) {
	sample := filepath.Join("..", "sample")
	dir := t.TempDir()
	job := func(root, current, out string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run([]string{"-os", "windows", "-root", filepath.Join(sample, root), "-roots", filepath.Join(sample, "ca.pem"),
			"-vendor", "defender", "-current", current, "-out", out}, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	v1 := filepath.Join(dir, "v1")
	code, out, errs := job("windows", filepath.Join(dir, "none", "policy.json"), v1)
	require.Equal(t, 1, code, "first run: everything is new\n%s\n%s", out, errs)
	assert.Contains(t, out, "re-import the exceptions from "+v1)
	assert.FileExists(t, filepath.Join(v1, "MANIFEST.sha256"))

	again := filepath.Join(dir, "again")
	code, out, errs = job("windows", filepath.Join(v1, "policy.json"), again)
	require.Equal(t, 0, code, "%s\n%s", out, errs)
	assert.Contains(t, out, "unchanged (version 11.1.0): nothing to re-import")

	v2 := filepath.Join(dir, "v2")
	code, out, errs = job(filepath.Join("v2", "windows"), filepath.Join(v1, "policy.json"), v2)
	require.Equal(t, 1, code, "%s\n%s", out, errs)
	assert.Contains(t, out, "app_version: 11.1.0 → 11.2.0")
	assert.Contains(t, out, "signer certificate renewed")
	assert.Contains(t, errs, "SIGNER CERTIFICATE RENEWED")

	code, _, errs = job("windows", filepath.Join(dir, "policy-that-is-a-dir"), "")
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "-os, -root and -out are required")
}
