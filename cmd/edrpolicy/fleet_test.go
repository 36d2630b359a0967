package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFleetScripts runs testdata/fleet/*.txtar: generate --evidence (files, stdin, gzip, bad
// lines), inspect --host and osquery-pack, with the sample install ($SAMPLE) and the example
// packs ($EXAMPLES).
func TestFleetScripts(t *testing.T) {
	sample, err := filepath.Abs(filepath.Join("..", "..", "examples", "sample"))
	require.NoError(t, err)
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples", "osquery"))
	require.NoError(t, err)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/fleet",
		Setup: func(e *testscript.Env) error {
			e.Setenv("SAMPLE", sample)
			e.Setenv("EXAMPLES", examples)
			return nil
		},
	})
}

// The exit codes of generate --evidence: 0 without findings, 1 with a finding or unreadable
// evidence (the policy is still written), 2 for usage errors and evidence that names no host.
func TestFleetExitCodes(t *testing.T) {
	dir := t.TempDir()
	line := func(host, sum string) string {
		return `{"name":"q","hostIdentifier":"` + host + `","action":"added","columns":{"path":"C:\\Program Files\\CrashPlan\\CrashPlanService.exe","sha256":"` + sum + `","product_version":"11.1.0"}}` + "\n"
	}
	a, b := strings.Repeat("a", 64), strings.Repeat("b", 64)
	clean := filepath.Join(dir, "clean.log")
	require.NoError(t, os.WriteFile(clean, []byte(line("h1", a)+line("h2", a)+line("h3", a)), 0o644))
	odd := filepath.Join(dir, "odd.log")
	require.NoError(t, os.WriteFile(odd, []byte(line("h1", a)+line("h2", a)+line("h3", b)), 0o644))
	bad := filepath.Join(dir, "bad.log")
	require.NoError(t, os.WriteFile(bad, []byte(line("h1", a)+"{oops\n"+line("h2", a)), 0o644))
	gen := []string{"generate", "--profile", "code42", "--os", "windows"}
	for _, tc := range []struct {
		name   string
		args   []string
		stdin  string
		code   int
		stderr string
	}{
		{"clean", []string{"--evidence", clean}, "", 0, ""},
		{"an outlier", []string{"--evidence", odd}, "", 1, "edrpolicy: 1 fleet finding(s)"},
		{"a bad line", []string{"--evidence", bad}, "", 1, "bad.log:2: "},
		{"stdin", []string{"--evidence", "-"}, line("h1", a) + line("h2", a), 0, ""},
		{"stdin twice", []string{"--evidence", "-", "--evidence", "-"}, "", 2, "standard input can be given once"},
		{"a share over 100%", []string{"--evidence", clean, "--min-share", "150%"}, "", 2, "--min-share"},
		{"min-hosts 0", []string{"--evidence", clean, "--min-hosts", "0"}, "", 2, "--min-hosts 0"},
		{"no host", []string{"--evidence", filepath.Join(dir, "missing.log")}, "", 2, "no evidence"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(context.Background(), append(append([]string{}, gen...), tc.args...), strings.NewReader(tc.stdin), &out, &errb)
			assert.Equal(t, tc.code, code, errb.String())
			assert.Contains(t, errb.String(), tc.stderr)
			if tc.code < 2 {
				assert.Contains(t, out.String(), `"fleet": {`)
			}
		})
	}
}
