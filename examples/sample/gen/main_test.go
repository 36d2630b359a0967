package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The committed sample install is exactly what the generator writes: regenerating into a
// temporary directory gives the same file list and the same bytes (fixed keys, fixed
// certificate fields and signing times, deterministic RSA PKCS#1 v1.5, no timestamp).
func TestGenerateMatchesCommittedFiles(t *testing.T) {
	out := t.TempDir()
	require.NoError(t, Generate(out, filepath.Join("sample-keys.pem")))
	got, err := Files(out)
	require.NoError(t, err)
	var want []string
	all, err := Files("..")
	require.NoError(t, err)
	for _, f := range all {
		if f == "ca.pem" || strings.HasPrefix(f, "windows/") || strings.HasPrefix(f, "mac/") || strings.HasPrefix(f, "v2/") {
			want = append(want, f)
		}
	}
	require.Equal(t, want, got)
	assert.Equal(t, []string{
		"ca.pem",
		"mac/CrashPlan.app/Contents/Info.plist",
		"mac/CrashPlan.app/Contents/MacOS/CrashPlan",
		"mac/CrashPlan.app/Contents/Resources/NOTICE.txt",
		"mac/CrashPlan.app/Contents/_CodeSignature/CodeResources",
		"v2/mac/CrashPlan.app/Contents/Info.plist",
		"v2/mac/CrashPlan.app/Contents/MacOS/CrashPlan",
		"v2/mac/CrashPlan.app/Contents/Resources/NOTICE.txt",
		"v2/mac/CrashPlan.app/Contents/_CodeSignature/CodeResources",
		"v2/windows/CrashPlanNative.dll",
		"v2/windows/CrashPlanService.exe",
		"v2/windows/Uninstall.exe",
		"v2/windows/electron/CrashPlanDesktop.exe",
		"windows/CrashPlanNative.dll",
		"windows/CrashPlanService.exe",
		"windows/Uninstall.exe",
		"windows/electron/CrashPlanDesktop.exe",
	}, got)
	total := 0
	for _, f := range got {
		a, err := os.ReadFile(filepath.Join(out, f))
		require.NoError(t, err)
		b, err := os.ReadFile(filepath.Join("..", f))
		require.NoError(t, err)
		assert.True(t, string(a) == string(b), "%s differs from the committed file: run go generate ./examples/sample", f)
		total += len(a)
	}
	assert.Less(t, total, 200*1024, "the sample stays small")
	// The upgrade keeps the DLL and the uninstaller byte for byte.
	for _, f := range []string{"CrashPlanNative.dll", "Uninstall.exe"} {
		a, _ := os.ReadFile(filepath.Join(out, "windows", f))
		b, _ := os.ReadFile(filepath.Join(out, "v2", "windows", f))
		assert.Equal(t, a, b, f)
	}
}
