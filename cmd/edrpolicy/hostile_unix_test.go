//go:build unix

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/safeopen"
)

// runFast runs the CLI in-process and fails when it does not return within a minute (a hang
// on a FIFO would otherwise block the test binary until its own timeout).
func runFast(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := -1
	done := make(chan struct{})
	go func() { defer close(done); code = run(context.Background(), args, nil, &out, &errb) }()
	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("edrpolicy %s hangs", strings.Join(args, " "))
	}
	return code, out.String(), errb.String()
}

// TestHostileConfigFiles: every configuration reader of the CLI, given a FIFO, a link to
// /dev/zero, a sparse file over its cap, or a directory, exits 2 at once with a message that
// names the file and says what was refused.
func TestHostileConfigFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	code, _, errs := runFast(t, "generate", "--profile", "code42", "--os", "windows", "--app-version", "11.1.0", "--out", filepath.Join(dir, "out"))
	require.Equal(t, 0, code, errs)
	data, err := os.ReadFile(filepath.Join(dir, "out", "policy.json"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(good, data, 0o644))

	kinds := []struct {
		name   string
		make   func(t *testing.T, p string, limit int64)
		reason string
	}{
		{"fifo", func(t *testing.T, p string, _ int64) { require.NoError(t, syscall.Mkfifo(p, 0o644)) }, "refused: a named pipe (FIFO), not a regular file"},
		{"devzero", func(t *testing.T, p string, _ int64) { require.NoError(t, os.Symlink("/dev/zero", p)) }, "refused: a character device, not a regular file"},
		{"sparse", func(t *testing.T, p string, limit int64) {
			require.NoError(t, os.WriteFile(p, nil, 0o644))
			require.NoError(t, os.Truncate(p, limit+1))
		}, "more than the"},
		{"dir", func(t *testing.T, p string, _ int64) { require.NoError(t, os.Mkdir(p, 0o755)) }, "refused: a directory, not a regular file"},
	}
	readers := []struct {
		name  string
		limit int64
		args  func(f string) []string
	}{
		{"generate --profile", safeopen.MaxProfile, func(f string) []string {
			return []string{"generate", "--profile", f, "--os", "windows", "--app-version", "11.1.0"}
		}},
		{"paths --profile", safeopen.MaxProfile, func(f string) []string {
			return []string{"paths", "--profile", f, "--os", "windows", "--app-version", "11.1.0"}
		}},
		{"generate --previous", safeopen.MaxPolicy, func(f string) []string {
			return []string{"generate", "--profile", "code42", "--os", "windows", "--app-version", "11.1.0", "--previous", f}
		}},
		{"generate --roots", safeopen.MaxPEM, func(f string) []string {
			return []string{"generate", "--profile", "code42", "--os", "windows", "--app-version", "11.1.0", "--roots", f}
		}},
		{"export", safeopen.MaxPolicy, func(f string) []string {
			return []string{"export", "--vendor", "defender", "--out", filepath.Join(dir, "x"), f}
		}},
		{"export --inspection", safeopen.MaxInventory, func(f string) []string {
			return []string{"export", "--vendor", "sentinelone", "--out", filepath.Join(dir, "x"), "--inspection", f, good}
		}},
		{"diff old", safeopen.MaxPolicy, func(f string) []string { return []string{"diff", f, good} }},
		{"diff new", safeopen.MaxPolicy, func(f string) []string { return []string{"diff", good, f} }},
		{"check", safeopen.MaxPolicy, func(f string) []string { return []string{"check", f} }},
		{"inspect --roots", safeopen.MaxPEM, func(f string) []string { return []string{"inspect", "--roots", f, dir} }},
	}
	for _, r := range readers {
		for _, k := range kinds {
			if r.name == "check" && k.name == "dir" {
				continue // a directory given to check is an output folder (check OUT_DIR)
			}
			t.Run(r.name+" "+k.name, func(t *testing.T) {
				f := filepath.Join(t.TempDir(), "hostile.json")
				k.make(t, f, r.limit)
				start := time.Now()
				code, _, errs := runFast(t, r.args(f)...)
				assert.Equal(t, 2, code, errs)
				assert.Contains(t, errs, f+": ", "names the file")
				assert.Contains(t, errs, k.reason)
				assert.Less(t, time.Since(start), 10*time.Second)
			})
		}
	}
}

// TestGenerateBrokenBundleVersion: item 14 through the CLI. The Mac sample with a sealed
// resource changed: --app-version auto exits 2 naming the bundle and the flag; with
// --app-version the policy is written (the executable gets a hash rule, tampered warning).
func TestGenerateBrokenBundleVersion(t *testing.T) {
	root := filepath.Join(t.TempDir(), "mac")
	copyDir(t, filepath.Join("..", "..", "examples", "sample", "mac"), root)
	notice := filepath.Join(root, "CrashPlan.app", "Contents", "Resources", "NOTICE.txt")
	require.NoError(t, os.WriteFile(notice, []byte("changed\n"), 0o644))
	ca := filepath.Join("..", "..", "examples", "sample", "ca.pem")
	code, _, errs := runFast(t, "generate", "--profile", "code42", "--os", "mac", "--root", root, "--roots", ca, "--level", "signer")
	assert.Equal(t, 2, code)
	assert.Contains(t, errs, "the Info.plist of bundle "+filepath.Join(root, "CrashPlan.app")+", whose signature or seal does not verify (CrashPlan.app: bundle signature does not verify, 1 sealed file(s) modified)")
	assert.Contains(t, errs, "give the version explicitly")
	code, out, errs := runFast(t, "generate", "--profile", "code42", "--os", "mac", "--root", root, "--roots", ca, "--level", "signer", "--app-version", "11.1.0")
	assert.Equal(t, 0, code, errs)
	assert.Contains(t, out, `"app_version_source": "given explicitly"`)
	assert.Contains(t, errs, "warning: tampered:")
}

func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if fi.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, fi.Mode().Perm())
	}))
}
