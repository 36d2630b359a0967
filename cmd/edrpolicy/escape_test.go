package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/internal/safetext"
	"github.com/edrpolicy/edrpolicy/output"
)

// hostileNames are file names with each kind of character a terminal interprets or that
// reorders text, and what the human output must show instead.
var hostileNames = []struct{ name, shown string }{
	{"esc\x1b[2J\x1b[31mred", `esc\x1b[2J\x1b[31mred`},
	{"cr\rOK", `cr\rOK`},
	{"lf\nedrpolicy: all good", `lf\nedrpolicy: all good`},
	{"tab\tcol", `tab\tcol`},
	{"bel\a", `bel\a`},
	{"del\x7f", `del\x7f`},
	{"c1\u009b31m", `c1\u009b31m`},
	{"nel\u0085x", `nel\u0085x`},
	{"rlo\u202eexe.txt", `rlo\u202eexe.txt`},
	{"lri\u2066x\u2069", `lri\u2066x\u2069`},
	{"ls\u2028x", `ls\u2028x`},
	{"bad\xffutf8", `bad\xffutf8`},
}

// assertPrintable fails if s holds a character the escaping must have removed. Line breaks
// are allowed only as the ends of lines; want is the number of lines.
func assertPrintable(t *testing.T, s string, lines int, what string) {
	t.Helper()
	assert.True(t, utf8.ValidString(s), "%s: not UTF-8: %q", what, s)
	for _, r := range s {
		if r != '\n' && safetext.Unsafe(r) {
			assert.Failf(t, "raw control or bidi character", "%s: %U in %q", what, r, s)
			return
		}
	}
	if lines >= 0 {
		assert.Equal(t, lines, strings.Count(s, "\n"), "%s: %q", what, s)
	}
}

func TestInspectEscapesNames(t *testing.T) {
	dir := t.TempDir()
	for _, h := range hostileNames {
		require.NoError(t, os.WriteFile(filepath.Join(dir, h.name), []byte(h.name), 0o644))
	}
	code, out, errs := runCLI("inspect", dir)
	// A name that is not UTF-8 may be a read error of its own (exit 1): not what this tests.
	require.NotEqual(t, exitError, code, errs)
	assertPrintable(t, out, len(hostileNames)+1, "inspect table")
	assertPrintable(t, errs, -1, "inspect stderr")
	for _, h := range hostileNames {
		assert.Contains(t, out, dir+"/"+h.shown, h.name)
	}

	// JSON keeps the exact names.
	code, out, _ = runCLI("inspect", "--format", "json", dir)
	require.NotEqual(t, exitError, code)
	var doc struct{ Files []struct{ Path string } }
	require.NoError(t, json.Unmarshal([]byte(out), &doc))
	var got, want []string
	for _, f := range doc.Files {
		got = append(got, f.Path)
	}
	for _, h := range hostileNames {
		want = append(want, strings.ToValidUTF8(h.name, "\uFFFD")) // JSON is UTF-8: an invalid byte is U+FFFD
	}
	sort.Strings(want)
	sort.Strings(got)
	assert.Equal(t, want, got)

	// A file that cannot be read: its stderr line is escaped, one line per file.
	missing := filepath.Join(dir, "gone\x1b]0;title\a\nedrpolicy: fake")
	code, out, errs = runCLI("inspect", missing)
	assert.Equal(t, exitAttention, code)
	assertPrintable(t, out, 2, "inspect table")
	assertPrintable(t, errs, 2, "inspect stderr")
	assert.Contains(t, errs, `gone\x1b]0;title\a\nedrpolicy: fake`)
}

// check, diff, generate (summary, warnings, refusals), paths, ports and error messages escape
// what they quote from policies, profiles and file names.
func TestHumanOutputEscapes(t *testing.T) {
	dir := t.TempDir()
	evil := "/tmp/x\x1b[2J\u202e\nedrpolicy: ok"
	shown := `/tmp/x\x1b[2J\u202e\nedrpolicy: ok`

	pol := filepath.Join(dir, "p.json")
	writePathPolicy(t, pol, "linux", evil, nil)
	code, out, errs := runCLI("check", pol)
	assert.Equal(t, exitAttention, code, errs)
	assertPrintable(t, out, 3, "check table")
	assert.Contains(t, out, "path rule "+shown+" is a temp and world-writable folder")

	code, _, errs = runCLI("export", "--vendor", "defender", "--out", filepath.Join(dir, "o"), pol)
	assert.Equal(t, exitError, code)
	assertPrintable(t, errs, 4, "export refusal")
	assert.Contains(t, errs, "\nedrpolicy: --force keeps the refused rules, each with a warning\n")
	assert.Contains(t, errs, "\n  "+shown+": a temp and world-writable folder\n")

	other := filepath.Join(dir, "q.json")
	writePathPolicy(t, other, "linux", "/opt/\u2066app\x1b[0m", nil)
	code, out, _ = runCLI("diff", pol, other)
	assert.Equal(t, exitAttention, code)
	assertPrintable(t, out, -1, "diff table")
	assert.Contains(t, out, shown)
	assert.Contains(t, out, `/opt/\u2066app\x1b[0m`)

	prof := filepath.Join(dir, "prof.json")
	writePathProfile(t, prof, "linux", evil)
	code, out, _ = runCLI("paths", "--profile", prof, "--os", "linux")
	assert.Equal(t, exitOK, code)
	assertPrintable(t, out, 2, "paths table")
	assert.Contains(t, out, shown)

	outDir := filepath.Join(dir, "out\x1b[1m")
	code, _, errs = runCLI("generate", "--profile", prof, "--os", "linux", "--out", outDir)
	assert.Equal(t, exitError, code)
	assertPrintable(t, errs, 5, "generate refusal")
	assert.Contains(t, errs, "edrpolicy: generate: refused 1 path rule(s):\n  "+shown+": a temp")
	assert.True(t, strings.HasSuffix(errs, "\nno files were written\n"), errs)
	code, out, errs = runCLI("generate", "--profile", prof, "--os", "linux", "--force", "--out", outDir)
	assert.Equal(t, exitOK, code, errs)
	assertPrintable(t, out, 1, "generate summary")
	assert.Contains(t, out, `out\x1b[1m/policy.json: `)
	assertPrintable(t, errs, -1, "generate warnings")
	assert.Contains(t, errs, "edrpolicy: warning: guardrail-forced: path rule "+shown+" kept although it is")
	p, err := edrpolicy.ReadPolicy(filepath.Join(outDir, output.PolicyFileName))
	require.NoError(t, err)
	assert.Equal(t, evil, p.Rules[0].Value, "policy.json keeps the exact value")

	// An error naming a file prints on one line, escaped.
	code, _, errs = runCLI("check", filepath.Join(dir, "no\x1b[31m\nedrpolicy: fine.json"))
	assert.Equal(t, exitError, code)
	assertPrintable(t, errs, 1, "check error")
	assert.Contains(t, errs, `no\x1b[31m\nedrpolicy: fine.json`)

	// A profile's validation errors (joined, one per line) are escaped line by line.
	bad := filepath.Join(dir, "bad.json")
	writePathProfile(t, bad, "linux", "/opt/../\x1b[31mx\u202e")
	code, _, errs = runCLI("paths", "--profile", bad, "--os", "linux")
	assert.Equal(t, exitError, code)
	assertPrintable(t, errs, -1, "profile errors")
	assert.Contains(t, errs, `paths[0].path: "/opt/../\x1b[31mx\u202e" is empty or contains ..`)
}

// Ports: a crafted profile's description is escaped too.
func TestPortsEscapes(t *testing.T) {
	dir := t.TempDir()
	prof := filepath.Join(dir, "ports.json")
	require.NoError(t, os.WriteFile(prof, []byte(`{"schema_version":1,"name":"t","title":"t","sources":[{"id":"s","title":"t","ref":"r","confidence":"3rd-party"}],
 "ports":[{"port":4242,"protocol":"tcp","component":"app","direction":"outbound","from":"client","to":"server","status":"required","description":"d\u202e\nfake\u001b[31m","source":"s","confidence":"3rd-party"}]}`), 0o644))
	code, out, errs := runCLI("ports", "--profile", prof)
	require.Equal(t, exitOK, code, errs)
	assertPrintable(t, out, 2, "ports table")
	assert.Contains(t, out, `d\u202e\nfake`)
}
