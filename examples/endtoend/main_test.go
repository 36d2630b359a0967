package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/output"
)

const (
	sampleRoot  = "../sample/windows"
	sampleRoots = "../sample/ca.pem"
)

// The whole job on the sample install: three rules, every executable covered by Defender.
func Example() {
	if err := run(context.Background(), os.Stdout, sampleRoot, sampleRoots, ""); err != nil {
		fmt.Println(err)
	}
	// Output:
	// code42 windows 11.1.0: 3 rules
	//   signer executable: C:\Program Files\CrashPlan\CrashPlanNative.dll, C:\Program Files\CrashPlan\CrashPlanService.exe, C:\Program Files\CrashPlan\electron\CrashPlanDesktop.exe
	//   hash executable: C:\Program Files\CrashPlan\Uninstall.exe
	//   path cache: C:\ProgramData\CrashPlan\cache
	// defender: 4 executables: 1 by hash, 3 by certificate, 0 by path, 0 fallback, 0 NOT COVERED
	//   defender-indicators-001.csv
	//   defender-indicators.json
	//   defender-cert-001.cer
	//   defender-av-exclusions.ps1
	//   coverage.json
	//   policy.json
}

// The output set it writes reads back whole: every file in the manifest, the hash rule's
// SHA-1 asked for by the Defender exporter on the policy and among the indicators.
func TestWritesAReadableOutputSet(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	require.NoError(t, run(context.Background(), io.Discard, sampleRoot, sampleRoots, dir))
	s, err := exporters.ReadSet(exporters.Default(), dir)
	require.NoError(t, err)
	assert.Empty(t, s.Problems)
	pol, err := edrpolicy.ReadPolicy(filepath.Join(dir, output.PolicyFileName))
	require.NoError(t, err)
	var sha1 string
	for _, r := range pol.Rules {
		if r.Criterion == edrpolicy.CriterionHash {
			sha1 = r.SHA1
		}
	}
	require.Len(t, sha1, 40, "the inspection computed the SHA-1 the Defender exporter asked for")
	found := false
	for _, e := range s.Entries("defender") {
		found = found || (e.Type == "FileSha1" && e.Value == sha1)
	}
	assert.True(t, found, "a FileSha1 indicator for the hash rule")
}

func TestRunErrors(t *testing.T) {
	for name, c := range map[string]struct{ root, roots string }{
		"no roots file": {sampleRoot, "missing.pem"},
		"not pem":       {sampleRoot, sampleRoot + "/CrashPlanService.exe"},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Error(t, run(context.Background(), io.Discard, c.root, c.roots, ""))
		})
	}
}

// README's library section shows this example's code: each line of its Go block is a line of
// main.go, in the same order, so that the README compiles as the example does.
func TestREADMEShowsThisExample(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	_, lib, ok := strings.Cut(string(readme), "\n## Library\n")
	require.True(t, ok, "README has a Library section")
	_, block, ok := strings.Cut(lib, "```go\n")
	require.True(t, ok, "the Library section has a Go block")
	block, _, ok = strings.Cut(block, "```")
	require.True(t, ok)
	var lines []string
	for _, l := range strings.Split(string(src), "\n") {
		lines = append(lines, strings.TrimSpace(l))
	}
	at := 0
	for _, want := range strings.Split(block, "\n") {
		want = strings.TrimSpace(want)
		if want == "" {
			continue
		}
		for at < len(lines) && lines[at] != want {
			at++
		}
		require.Less(t, at, len(lines), "README line not in main.go (or out of order): %s", want)
	}
}
