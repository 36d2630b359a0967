package macho_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/macho"
)

// copyApp copies the fixture bundle so that a test can tamper with it.
func copyApp(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	out, err := exec.Command("cp", "-a", src, dst).CombinedOutput()
	require.NoError(t, err, string(out))
	return dst
}

func verifyApp(t *testing.T, app string, opts signers.Options) *signers.Result {
	t.Helper()
	v := macho.New()
	fsys := os.DirFS(filepath.Dir(app))
	require.True(t, v.IsBundle(fsys, filepath.Base(app)))
	res, err := v.VerifyBundle(context.Background(), fsys, filepath.Base(app), opts)
	require.NoError(t, err)
	require.NotNil(t, res.Bundle)
	return res
}

func TestBundle(t *testing.T) {
	f := getFixtures(t)
	roots := signers.Options{Roots: f.chain.RootPool()}

	res := verifyApp(t, f.app, roots)
	assert.Equal(t, signers.StatusValid, res.Status, describe(res))
	assert.Equal(t, &signers.BundleInfo{Identifier: "com.fixture.app", ShortVersion: "1.2.3", BuildVersion: "123", Executable: "Fixture"}, res.Bundle)
	require.Len(t, res.Signatures, 2, describe(res))
	assert.Equal(t, "com.fixture.app", res.Signatures[0].SigningID)
	assert.Equal(t, signers.ChainTrusted, res.Signatures[0].Chain)
	assert.Equal(t, "Contents/Helpers/helper", res.Signatures[1].Path)
	assert.True(t, res.Signatures[1].Nested)
	assert.Equal(t, "com.fixture.app.helper", res.Signatures[1].SigningID)
	require.NotNil(t, res.MachO)
	assert.Equal(t, "arm64", res.MachO.Slices[0].Arch)

	tests := []struct {
		name   string
		tamper func(t *testing.T, contents string)
		want   signers.BundleInfo
	}{
		{"resource modified", func(t *testing.T, c string) {
			require.NoError(t, os.WriteFile(filepath.Join(c, "Resources", "greeting.txt"), []byte("HELLO\n"), 0o644))
		}, signers.BundleInfo{Modified: []string{"Resources/greeting.txt"}}},
		{"resource missing", func(t *testing.T, c string) {
			require.NoError(t, os.Remove(filepath.Join(c, "Resources", "sub", "config.json")))
		}, signers.BundleInfo{Missing: []string{"Resources/sub/config.json"}}},
		{"optional localized resource missing is fine", func(t *testing.T, c string) {
			require.NoError(t, os.Remove(filepath.Join(c, "Resources", "en.lproj", "a.txt")))
		}, signers.BundleInfo{}},
		{"resource added", func(t *testing.T, c string) {
			require.NoError(t, os.WriteFile(filepath.Join(c, "Resources", "extra.txt"), []byte("x"), 0o644))
		}, signers.BundleInfo{Added: []string{"Resources/extra.txt"}}},
		{".DS_Store is omitted by rules2", func(t *testing.T, c string) {
			require.NoError(t, os.WriteFile(filepath.Join(c, "Resources", ".DS_Store"), []byte("x"), 0o644))
		}, signers.BundleInfo{}},
		{"nested helper replaced by unsigned build", func(t *testing.T, c string) {
			b := readFile(t, f.unsignedAmd)
			require.NoError(t, os.WriteFile(filepath.Join(c, "Helpers", "helper"), b, 0o755))
		}, signers.BundleInfo{Modified: []string{"Helpers/helper"}}},
		{"Info.plist edited", func(t *testing.T, c string) {
			p := filepath.Join(c, "Info.plist")
			b := readFile(t, p)
			require.NoError(t, os.WriteFile(p, append(b, '\n'), 0o644))
		}, signers.BundleInfo{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := copyApp(t, f.app)
			tc.tamper(t, filepath.Join(app, "Contents"))
			res := verifyApp(t, app, roots)
			assert.Equal(t, tc.want.Modified, res.Bundle.Modified)
			assert.Equal(t, tc.want.Missing, res.Bundle.Missing)
			assert.Equal(t, tc.want.Added, res.Bundle.Added)
			if tc.name == "optional localized resource missing is fine" || tc.name == ".DS_Store is omitted by rules2" {
				assert.Equal(t, signers.StatusValid, res.Status, describe(res))
				return
			}
			assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
		})
	}
}

func TestIsBundle(t *testing.T) {
	f := getFixtures(t)
	v := macho.New()
	fsys := os.DirFS(f.dir)
	assert.True(t, v.IsBundle(fsys, "Fixture.app"))
	assert.False(t, v.IsBundle(fsys, "Fixture.app/Contents"))
	assert.False(t, v.IsBundle(fsys, "."))
}
