package report_test

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/internal/corpus"
	"github.com/edrpolicy/edrpolicy/report"
)

// corpusInstall copies corpus files of a kind into an install folder and generates its
// policy at level signer (generic profile) with every vendor exported.
func corpusInstall(t *testing.T, kind string, osName profile.OS, installPath string, pins func(*edrpolicy.Inventory) []string) ([]corpus.File, *edrpolicy.Inventory, string, *edrpolicy.Policy, *exporters.Result) {
	t.Helper()
	files := corpus.Need(t, kind, corpus.SourceNPM)
	root := filepath.Join(t.TempDir(), "tool")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	for _, f := range files {
		data, err := os.ReadFile(f.Path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(root, "bin", f.Name), data, 0o755))
	}
	inv, err := edrpolicy.Inspect(context.Background(), []string{root}, edrpolicy.InspectOptions{})
	require.NoError(t, err)
	prof, err := profile.BuiltIn("generic")
	require.NoError(t, err)
	pol, err := edrpolicy.Generate(context.Background(), edrpolicy.GenerateOptions{
		Roots: []string{root}, AppVersion: edrpolicy.VersionAuto, Inspect: edrpolicy.InspectOptions{Digests: hashing.Algorithms{SHA1: true}},
		Decide: edrpolicy.DecideOptions{Profile: prof, OS: osName, Level: edrpolicy.CriterionSigner, PinSigners: pins(inv),
			InstallPaths: map[string][]string{root: {installPath}}},
	})
	require.NoError(t, err)
	dir, pol, res := writeSet(t, pol)
	return files, inv, dir, pol, res
}

// TestReportCorpus makes the report of installs of real signed files from the corpus, read
// back from the output folder: every file with its full SHA-256 and a coverage row for every
// vendor, the reasons as decided, and the real signers.
//
//   - Microsoft-signed PE files (node-pty's conpty.dll and OpenConsole.exe, vsce-sign): their
//     leaf expired and the timestamp's chain is unknown here, so each gets a hash rule whose
//     reason, in the report, says so.
//   - Developer-ID-signed Mach-O files (sentry-cli, bun, vsce-sign), Team IDs pinned: a
//     signer rule with the real Apple certificate (subject, issuer, both thumbprints, which
//     the test recomputes from the certificate's DER, the chain to Apple's root); bun, a
//     JavaScript runtime, gets no rule and the report shows the interpreter warning.
func TestReportCorpus(t *testing.T) {
	t.Run("pe", func(t *testing.T) {
		files, inv, dir, pol, res := corpusInstall(t, "pe", "windows", `C:\Program Files\Tool`, func(*edrpolicy.Inventory) []string { return nil })
		p, body := corpusReport(t, dir, len(files), res)
		for _, f := range files {
			assert.Contains(t, body, `C:\Program Files\Tool\bin\`+f.Name, f.Name)
		}
		for _, f := range inv.Files {
			assert.Contains(t, body, f.SHA256, "the full hash of %s", f.Path)
		}
		for _, r := range pol.Rules {
			assert.Contains(t, body, r.Reason)
		}
		assert.Len(t, p.elems("div", "rule"), len(pol.Rules))
	})
	t.Run("macho", func(t *testing.T) {
		_, inv, dir, pol, res := corpusInstall(t, "macho", "mac", "/usr/local/tool", func(inv *edrpolicy.Inventory) []string {
			var teams []string
			for _, f := range inv.Files {
				for _, s := range f.Signatures {
					if s.TeamID != "" {
						teams = append(teams, s.TeamID)
					}
				}
			}
			return teams
		})
		nExe := 0
		for _, f := range inv.Files {
			if f.IsExecutable() && edrpolicy.DefaultInterpreters().Match(&f) == nil {
				nExe++
			}
		}
		_, body := corpusReport(t, dir, nExe, res)
		nSigner := 0
		for _, r := range pol.Rules {
			if r.Criterion != edrpolicy.CriterionSigner {
				continue
			}
			nSigner++
			require.NotNil(t, r.Signer)
			s1, s256 := sha1.Sum(r.Certificate), sha256.Sum256(r.Certificate)
			assert.Equal(t, hex.EncodeToString(s1[:]), r.Signer.ThumbprintSHA1, "the policy's thumbprint is the DER's")
			assert.Contains(t, body, hex.EncodeToString(s256[:]))
			assert.Contains(t, body, r.Signer.Subject)
			assert.Contains(t, body, r.Signer.Issuer)
			assert.Contains(t, r.Signer.Issuer, "Developer ID Certification Authority")
			assert.Contains(t, body, "chain trusted to the apple root")
		}
		require.Positive(t, nSigner, "a Developer ID signer rule")
		assert.Contains(t, body, "bun (signing identifier bun)", "the interpreter warning")
	})
}

// corpusReport loads and renders the output folder's report and checks what every report
// must hold: self-contained, a matrix row per covered executable with a cell per vendor.
func corpusReport(t *testing.T, dir string, nExe int, res *exporters.Result) (parsed, string) {
	t.Helper()
	in, err := report.Load(dir)
	require.NoError(t, err)
	require.Empty(t, in.Problems)
	out, err := report.Render(in, report.HTML)
	require.NoError(t, err)
	p := parseHTML(t, out)
	selfContained(t, p)
	rows := p.elems("tr", "exe")
	assert.Len(t, rows, nExe)
	for _, r := range rows {
		cells := p.cells(r)
		require.Len(t, cells, 2+len(res.Coverage.Vendors))
		for _, c := range cells[2:] {
			assert.False(t, strings.HasPrefix(c, "-"), "every vendor has a cell: %s", c)
		}
	}
	md, err := report.Render(in, report.Markdown)
	require.NoError(t, err)
	checkTables(t, string(md))
	return p, text(p.root)
}
