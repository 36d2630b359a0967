//go:build unix

package edrpolicy

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/internal/safeopen"
	"github.com/edrpolicy/edrpolicy/signers"
)

// hostileFile replaces the file at p with something hostile.
type hostileFile struct {
	name string
	make func(t *testing.T, p string)
}

// hostileFiles are the variants of a file read whole. The oversized ones are over the reader's
// cap by 1 MiB rather than 3 GiB: the inspection hashes every file of the install, and
// hashing gigabytes of zeros is the same work for any large data file (the 3 GiB refusal
// itself is tested in internal/safeopen and by scripts/hostile/io.sh).
func hostileFiles(limit int64) []hostileFile {
	return []hostileFile{
		{"FIFO", func(t *testing.T, p string) { require.NoError(t, syscall.Mkfifo(p, 0o644)) }},
		{"symlink to /dev/zero", func(t *testing.T, p string) { require.NoError(t, os.Symlink("/dev/zero", p)) }},
		{"sparse, over the cap", func(t *testing.T, p string) {
			f, err := os.Create(p)
			require.NoError(t, err)
			require.NoError(t, f.Truncate(limit+1<<20))
			require.NoError(t, f.Close())
		}},
		{"real file extended over the cap", nil}, // the original bytes, then a sparse tail
		{"symlink out of the root", func(t *testing.T, p string) {
			out := filepath.Join(t.TempDir(), "elsewhere")
			require.NoError(t, os.WriteFile(out, []byte("<plist><dict><key>CFBundleShortVersionString</key><string>9.9.9</string></dict></plist>\n9.9.9\n"), 0o644))
			require.NoError(t, os.Symlink(out, p))
		}},
		{"symlink loop", func(t *testing.T, p string) { require.NoError(t, os.Symlink(filepath.Base(p), p)) }},
		{"directory", func(t *testing.T, p string) { require.NoError(t, os.Mkdir(p, 0o755)) }},
		{"character device", func(t *testing.T, p string) {
			if err := syscall.Mknod(p, syscall.S_IFCHR|0o644, 1<<8|5); err != nil {
				t.Skipf("mknod: %v", err)
			}
		}},
	}
}

// apply swaps the file at p for the hostile variant h; "extended" keeps the real bytes.
func (h hostileFile) apply(t *testing.T, p string, limit int64) {
	t.Helper()
	if h.make == nil {
		require.NoError(t, os.Truncate(p, limit+1<<20))
		return
	}
	require.NoError(t, os.Remove(p))
	h.make(t, p)
}

// generateFast runs Generate with --app-version auto and fails the test if it takes more than
// a few seconds.
func generateFast(t *testing.T, o GenerateOptions) (*Policy, error) {
	t.Helper()
	var pol *Policy
	var err error
	done := make(chan struct{})
	start := time.Now()
	go func() { defer close(done); pol, err = Generate(context.Background(), o) }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("generate hangs")
	}
	t.Logf("generate took %v", time.Since(start))
	return pol, err
}

// TestVersionFromHostileInfoPlist: the Mac sample with each hostile Info.plist, with the
// bundle verifier on (the default) and off (then the version is read from disk). Every run
// ends in seconds with an error that names the Info.plist and says to give --app-version;
// none reads the file's content as a version.
func TestVersionFromHostileInfoPlist(t *testing.T) {
	prof, err := profile.Resolve("code42")
	require.NoError(t, err)
	for _, h := range hostileFiles(safeopen.MaxInfoPlist) {
		for _, verify := range []bool{true, false} {
			t.Run(h.name+map[bool]string{true: " verified", false: " unverified"}[verify], func(t *testing.T) {
				root := copyTree(t, filepath.Join("..", "examples", "sample", "mac"))
				info := filepath.Join(root, "CrashPlan.app", "Contents", "Info.plist")
				h.apply(t, info, safeopen.MaxInfoPlist)
				o := GenerateOptions{Roots: []string{root}, AppVersion: VersionAuto, Decide: DecideOptions{Profile: prof, OS: "mac", Level: CriterionHash}}
				if !verify {
					o.Inspect.Verifiers = []signers.Verifier{}
				}
				_, err := generateFast(t, o)
				require.Error(t, err)
				msg := err.Error()
				assert.Contains(t, msg, "give the version explicitly")
				assert.NotContains(t, msg, "9.9.9")
				switch {
				case errors.Is(err, ErrUnverifiedVersion):
					// The verifier refused the bundle: the version is not taken from it.
					assert.Contains(t, msg, "the Info.plist of bundle "+filepath.Join(root, "CrashPlan.app"))
				case h.name == "directory":
					// Not a bundle (no Info.plist file), and folders are not version files.
					assert.ErrorIs(t, err, ErrNoVersion)
				default:
					assert.ErrorIs(t, err, ErrNoVersion)
					assert.Contains(t, msg, "could not read "+info+": ")
				}
				// With the version given, the run completes (the hostile file is reported or
				// ignored, never read as a version).
				o.AppVersion = "11.1.0"
				pol, err := generateFast(t, o)
				require.NoError(t, err)
				assert.Equal(t, "11.1.0", pol.AppVersion)
			})
		}
	}
}

// TestVersionFromHostileVersionFile: a profile's "file" version source (myapp's VERSION) as
// each hostile variant.
func TestVersionFromHostileVersionFile(t *testing.T) {
	for _, h := range hostileFiles(safeopen.MaxVersionFile) {
		t.Run(h.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "myapp")
			require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "start.sh"), []byte("#!/bin/sh\n"), 0o755))
			version := filepath.Join(root, "VERSION")
			require.NoError(t, os.WriteFile(version, []byte("myapp 2.3.1\n"), 0o644))
			h.apply(t, version, safeopen.MaxVersionFile)
			o := GenerateOptions{Roots: []string{root}, AppVersion: VersionAuto, Decide: DecideOptions{Profile: myappProfile(t), OS: "linux", Level: CriterionHash, Now: testNow}}
			pol, err := generateFast(t, o)
			if h.make == nil {
				// The real bytes are there, then a sparse tail: refused for its size, not
				// read up to the version.
				require.Error(t, err)
				assert.Contains(t, err.Error(), "could not read "+version+": refused: is 2 MiB, more than the 1 MiB allowed")
				return
			}
			require.Error(t, err, "policy %v", pol)
			assert.ErrorIs(t, err, ErrNoVersion)
			assert.Contains(t, err.Error(), "give the version explicitly")
			assert.NotContains(t, err.Error(), "9.9.9")
			if h.name != "directory" {
				assert.Contains(t, err.Error(), "could not read "+version+": refused: ")
			}
		})
	}
}
