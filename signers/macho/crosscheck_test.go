package macho_test

import (
	"bytes"
	"debug/macho"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	gomacho "github.com/blacktop/go-macho"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/corpus"
	"github.com/edrpolicy/edrpolicy/signers"
)

// corpusFile is the path of a real signed binary that scripts/corpus/macho.sh fetched (npm
// packages pinned by version), or "" when the corpus does not hold it.
func corpusFile(name string) string {
	f, ok := corpus.Lookup("macho", name)
	if !ok {
		return ""
	}
	return f.Path
}

// needTool skips when an external tool is missing, except in CI where it must be present.
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI for the Mach-O cross-check", name)
		}
		t.Skipf("%s not installed; skipping the cross-check", name)
	}
	return p
}

// independent is what blacktop/go-macho says about each slice.
type independent struct{ cdhash, id, team string }

func goMachoSlices(t *testing.T, b []byte) []independent {
	t.Helper()
	one := func(f *gomacho.File) independent {
		cs := f.CodeSignature()
		if cs == nil || len(cs.CodeDirectories) == 0 {
			return independent{}
		}
		cd := cs.CodeDirectories[0]
		return independent{cdhash: strings.ToLower(cd.CDHash)[:40], id: cd.ID, team: cd.TeamID}
	}
	if ff, err := gomacho.NewFatFile(bytes.NewReader(b)); err == nil {
		var out []independent
		for _, a := range ff.Arches {
			out = append(out, one(a.File))
		}
		return out
	}
	f, err := gomacho.NewFile(bytes.NewReader(b))
	require.NoError(t, err)
	return []independent{one(f)}
}

// thinSlices splits a file into thin slices with the standard library's parser.
func thinSlices(t *testing.T, b []byte) [][]byte {
	t.Helper()
	ff, err := macho.NewFatFile(bytes.NewReader(b))
	if err != nil {
		return [][]byte{b}
	}
	var out [][]byte
	for _, a := range ff.Arches {
		out = append(out, b[a.Offset:a.Offset+a.Size])
	}
	return out
}

var pyLine = regexp.MustCompile(`CD slot 0x0 ver=\S+ flags=\S+ ident=(\S+) team=(\S+) cdhash=([0-9a-f]{40})`)

// crossCheck compares our slices with go-macho, the stdlib Python script and, for CMS
// signatures, openssl cms -verify -noverify over the slot-0 CodeDirectory.
func crossCheck(t *testing.T, b []byte, res *signers.Result, python, openssl string) int {
	t.Helper()
	gm := goMachoSlices(t, b)
	require.Len(t, gm, len(res.MachO.Slices))
	checked := 0
	for i, sl := range res.MachO.Slices {
		assert.Equal(t, gm[i].cdhash, sl.CDHash, "go-macho CDHash, slice %s", sl.Arch)
		assert.Equal(t, gm[i].id, sl.SigningID, "go-macho identifier")
		assert.Equal(t, gm[i].team, sl.TeamID, "go-macho team")
		if sl.CDHash != "" {
			checked++
		}
	}
	if python == "" {
		return checked
	}
	dir := t.TempDir()
	for i, s := range thinSlices(t, b) {
		sl := res.MachO.Slices[i]
		if sl.CDHash == "" {
			continue
		}
		p := filepath.Join(dir, sl.Arch)
		require.NoError(t, os.WriteFile(p, s, 0o600))
		out, err := exec.Command(python, "testdata/machocheck.py", p, p).CombinedOutput()
		require.NoError(t, err, string(out))
		m := pyLine.FindStringSubmatch(string(out))
		require.NotNil(t, m, string(out))
		team := m[2]
		if team == "-" {
			team = ""
		}
		assert.Equal(t, []string{sl.SigningID, sl.TeamID, sl.CDHash}, []string{m[1], team, m[3]}, "python, slice %s", sl.Arch)
		if _, err := os.Stat(p + ".cms.der"); err == nil && openssl != "" {
			out, err := exec.Command(openssl, "cms", "-verify", "-noverify", "-inform", "DER", "-in", p+".cms.der",
				"-content", p+".cd0.bin", "-binary", "-out", os.DevNull).CombinedOutput()
			assert.NoError(t, err, "openssl cms -verify, slice %s: %s", sl.Arch, out)
		}
	}
	return checked
}

func TestCrossCheckFixtures(t *testing.T) {
	f := getFixtures(t)
	python := needTool(t, "python3")
	openssl := needTool(t, "openssl")
	total := 0
	for _, p := range []string{f.linkerArm, f.unsignedAmd, f.signedArm, f.signedAmd, f.fat, filepath.Join(f.app, "Contents", "MacOS", "Fixture")} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b := readFile(t, p)
			res, err := verifyBytes(t, b, signers.Options{Roots: f.chain.RootPool()})
			require.NoError(t, err)
			total += crossCheck(t, b, res, python, openssl)
		})
	}
	t.Logf("CDHash, identifier and Team ID agree with go-macho and python on %d signed slices", total)
}

// TestCorpus checks real Developer-ID-signed and ad-hoc binaries from npm packages (fetched
// by scripts/corpus/macho.sh). Versions are pinned there, so identities are stable.
func TestCorpus(t *testing.T) {
	tests := []struct {
		file   string
		status signers.Status
		arches []string
		id     string
		team   string
		class  signers.SignerClass
	}{
		{"sentry-cli-universal", signers.StatusValid, []string{"x86_64", "arm64"}, "sentry", "97JCY7859U", signers.SignerDeveloperID},
		{"bun-darwin-arm64", signers.StatusValid, []string{"arm64"}, "bun", "7FRXF46ZSN", signers.SignerDeveloperID},
		{"vsce-sign-darwin-arm64", signers.StatusAdhoc, []string{"arm64"}, "vsce-sign-", "", signers.SignerAdhoc},
	}
	python, _ := exec.LookPath("python3")
	openssl, _ := exec.LookPath("openssl")
	total := 0
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			b := readFile(t, corpus.NeedFile(t, "macho", tc.file).Path)
			res, err := verifyBytes(t, b, signers.Options{})
			require.NoError(t, err)
			assert.Equal(t, tc.status, res.Status, describe(res))
			require.Len(t, res.MachO.Slices, len(tc.arches))
			for i, sl := range res.MachO.Slices {
				assert.Equal(t, tc.arches[i], sl.Arch)
				assert.True(t, strings.HasPrefix(sl.SigningID, tc.id), sl.SigningID)
				assert.Equal(t, tc.team, sl.TeamID)
				assert.Equal(t, tc.class, sl.SignerClass)
			}
			for _, s := range res.Signatures {
				if tc.status != signers.StatusValid {
					continue
				}
				assert.Equal(t, signers.ChainTrusted, s.Chain, s.ChainError)
				assert.NotNil(t, s.Timestamp, "Apple secure timestamp")
				require.NotNil(t, s.Signer)
				assert.Contains(t, s.Signer.CommonName, "Developer ID Application:")
				assert.Contains(t, s.Signer.CommonName, tc.team)
				// A real Developer ID chain ends at Apple's root, and the certificate proves
				// the Team ID: single OU, Developer ID extension, code-signing EKU.
				assert.Equal(t, signers.AnchorApple, s.Anchor)
				assert.Equal(t, signers.ChainTrusted, s.TimestampChain)
				team, why := s.Signer.AppleTeamID()
				assert.Equal(t, tc.team, team, why)
				assert.Contains(t, s.Signer.AppleExtensions, "1.2.840.113635.100.6.1.13")
				assert.Equal(t, []string{"code-signing"}, s.Signer.ExtKeyUsage)
				assert.Equal(t, []string{"digital-signature"}, s.Signer.KeyUsage)
				assert.Empty(t, s.WeakDigest)
			}
			total += crossCheck(t, b, res, python, openssl)
		})
	}
	t.Logf("corpus: CDHash agrees with go-macho on %d real slices", total)
}
