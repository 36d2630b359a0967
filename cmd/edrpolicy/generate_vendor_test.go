package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// generate --vendor asks the inspection for the digests the vendors take besides SHA-256
// and carries them on the hash rules: SentinelOne's white_hash gets the file's real SHA-1
// (checked against sha1sum), Falcon's md5 IOC its MD5, and the whole set is written with a
// manifest that sha256sum accepts.
func TestGenerateVendorDigests(t *testing.T) {
	elf, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip("needs a Linux ELF executable at /bin/true")
	}
	root := filepath.Join(t.TempDir(), "crashplan")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	exe := filepath.Join(root, "bin", "CrashPlanService")
	require.NoError(t, os.WriteFile(exe, elf, 0o755))
	out := filepath.Join(t.TempDir(), "out")

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"generate", "--profile", "code42", "--os", "linux", "--app-version", "11.0", "--product", "crashplan",
		"--root", root, "--vendor", "sentinelone", "--s1-tenant", "--vendor", "crowdstrike", "--md5", "--out", out}, nil, &stdout, &stderr)
	require.Equal(t, 0, code, "stderr: %s", stderr.String())

	want := map[string]string{}
	for _, tool := range []string{"sha256sum", "sha1sum", "md5sum"} {
		o, err := exec.Command(tool, exe).Output()
		require.NoError(t, err)
		want[tool] = strings.Fields(string(o))[0]
	}
	var pol struct {
		Rules []struct{ Criterion, Value, SHA1, MD5 string }
	}
	data, err := os.ReadFile(filepath.Join(out, "policy.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &pol))
	var hashRules int
	for _, r := range pol.Rules {
		if r.Criterion != "hash" {
			continue
		}
		hashRules++
		assert.Equal(t, want["sha256sum"], r.Value)
		assert.Equal(t, want["sha1sum"], r.SHA1)
		assert.Equal(t, want["md5sum"], r.MD5)
	}
	assert.Equal(t, 1, hashRules, "the ELF executable gets exactly one hash rule")

	s1, err := os.ReadFile(filepath.Join(out, "sentinelone-exclusions.json"))
	require.NoError(t, err)
	assert.Contains(t, string(s1), `"value": "`+want["sha1sum"]+`"`)
	cs, err := os.ReadFile(filepath.Join(out, "crowdstrike-ioc.json"))
	require.NoError(t, err)
	assert.Contains(t, string(cs), `"value": "`+want["md5sum"]+`"`)
	assert.Contains(t, string(cs), `"value": "`+want["sha256sum"]+`"`)

	cmd := exec.Command("sha256sum", "--quiet", "-c", "MANIFEST.sha256")
	cmd.Dir = out
	o, err := cmd.CombinedOutput()
	assert.NoError(t, err, "%s", o)
}
