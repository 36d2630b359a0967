package exporters_test

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/exporters"
	tp "github.com/edrpolicy/edrpolicy/exporters/internal/testpolicy"
	"github.com/edrpolicy/edrpolicy/output"
)

// writeSet exports the Windows test policy for every vendor into a new folder as generate
// --out does.
func writeSet(t *testing.T) string {
	t.Helper()
	p := tp.Windows(t)
	sum := tp.Sum("CrashPlanService.exe")
	files, _, err := exporters.Export(tenantRegistry(t), p, []string{"crowdstrike", "sentinelone", "defender"},
		exporters.Options{Digests: tp.Digests(sum)})
	require.NoError(t, err)
	data, err := p.JSON()
	require.NoError(t, err)
	files = append(files, output.File{Name: output.PolicyFileName, Data: data})
	dir := t.TempDir()
	require.NoError(t, output.WriteSet(dir, files))
	return dir
}

type problem struct{ Code, File string }

func problems(s *exporters.Set) []problem {
	out := []problem{}
	for _, p := range s.Problems {
		out = append(out, problem{p.Code, p.File})
	}
	return out
}

// TestReadSet: the manifest is verified before anything is trusted; each way a folder can
// differ from what generate wrote is one problem naming the file.
func TestReadSet(t *testing.T) {
	manifest := func(dir string) string {
		b, err := os.ReadFile(filepath.Join(dir, output.ManifestName))
		require.NoError(t, err)
		return string(b)
	}
	setManifest := func(t *testing.T, dir, m string) {
		require.NoError(t, os.WriteFile(filepath.Join(dir, output.ManifestName), []byte(m), 0o644))
	}
	cases := []struct {
		name   string
		change func(t *testing.T, dir string)
		want   []problem
	}{
		{"as written", func(*testing.T, string) {}, []problem{}},
		{"vendor file edited", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "sentinelone-exclusions.json")
			b, _ := os.ReadFile(p)
			require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(b), "suppress", "suppress_app_control", 1)), 0o644))
		}, []problem{{exporters.ProblemMismatch, "sentinelone-exclusions.json"}}},
		{"listed file missing", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, "defender-cert-001.cer")))
		}, []problem{{exporters.ProblemMissing, "defender-cert-001.cer"}}},
		{"vendor file not listed", func(t *testing.T, dir string) {
			b, _ := os.ReadFile(filepath.Join(dir, "defender-indicators-001.csv"))
			require.NoError(t, os.WriteFile(filepath.Join(dir, "defender-indicators-002.csv"), b, 0o644))
		}, []problem{{exporters.ProblemUnlisted, "defender-indicators-002.csv"}}},
		{"other files ignored", func(t *testing.T, dir string) {
			require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("x"), 0o644))
		}, []problem{}},
		{"manifest escapes", func(t *testing.T, dir string) {
			setManifest(t, dir, manifest(dir)+strings.Repeat("0", 64)+"  ../outside.json\n"+strings.Repeat("0", 64)+"  /etc/passwd\n"+strings.Repeat("0", 64)+`  sub\x.json`+"\n")
		}, []problem{{exporters.ProblemEscape, "../outside.json"}, {exporters.ProblemEscape, "/etc/passwd"}, {exporters.ProblemEscape, `sub\x.json`}}},
		{"manifest malformed and duplicate lines", func(t *testing.T, dir string) {
			m := manifest(dir)
			var first string
			for _, l := range strings.Split(m, "\n") {
				if strings.HasSuffix(l, "  sentinelone-exclusions.json") {
					first = l
				}
			}
			setManifest(t, dir, m+"not a line\n"+first+"\n")
		}, []problem{{exporters.ProblemManifestLine, output.ManifestName}, {exporters.ProblemManifestLine, "sentinelone-exclusions.json"}}},
		{"no manifest", func(t *testing.T, dir string) {
			require.NoError(t, os.Remove(filepath.Join(dir, output.ManifestName)))
		}, []problem{{exporters.ProblemNoManifest, output.ManifestName}}},
		{"listed, verified, but not its vendor's format", func(t *testing.T, dir string) {
			p := filepath.Join(dir, "crowdstrike-ml-exclusions.json")
			require.NoError(t, os.WriteFile(p, []byte(`{"not":"a list"}`), 0o644))
			lines := strings.Split(manifest(dir), "\n")
			for i, l := range lines {
				if strings.HasSuffix(l, "  crowdstrike-ml-exclusions.json") {
					lines[i] = sha256Hex([]byte(`{"not":"a list"}`)) + "  crowdstrike-ml-exclusions.json"
				}
			}
			setManifest(t, dir, strings.Join(lines, "\n"))
		}, []problem{{exporters.ProblemParse, "crowdstrike-ml-exclusions.json"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := writeSet(t)
			c.change(t, dir)
			s, err := exporters.ReadSet(exporters.Default(), dir)
			require.NoError(t, err)
			assert.Equal(t, c.want, problems(s))
			assert.NotNil(t, s.Policy)
			assert.Equal(t, []string{"crowdstrike", "defender", "sentinelone"}, s.Vendors())
		})
	}
}

// TestReadSetSymlink: a vendor file that is a symbolic link is not followed.
func TestReadSetSymlink(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symbolic links need privileges on Windows")
	}
	dir := writeSet(t)
	outside := filepath.Join(t.TempDir(), "secret.json")
	require.NoError(t, os.WriteFile(outside, []byte("[]"), 0o644))
	p := filepath.Join(dir, "sentinelone-exclusions.json")
	require.NoError(t, os.Remove(p))
	require.NoError(t, os.Symlink(outside, p))
	s, err := exporters.ReadSet(exporters.Default(), dir)
	require.NoError(t, err)
	require.Len(t, s.Problems, 1)
	assert.Equal(t, exporters.ProblemUnreadable, s.Problems[0].Code)
	assert.Contains(t, s.Problems[0].Message, "not a regular file")
	assert.Empty(t, s.Entries("sentinelone"))
}

func TestReadSetNotAFolder(t *testing.T) {
	_, err := exporters.ReadSet(exporters.Default(), filepath.Join(t.TempDir(), "nope"))
	assert.Error(t, err)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
