package edrpolicy

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/signers"
)

// copyTree copies the committed sample tree src into a temporary folder, so a test can
// tamper with it.
func copyTree(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	require.NoError(t, filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	}))
	return dst
}

// The Mac sample (a sealed CrashPlan.app with a Developer-ID-style signed Mach-O) through every
// level, then with a sealed resource modified and with a byte of code flipped: the exact rules.
func TestGenerateMacSampleEveryLevel(t *testing.T) {
	sample := filepath.Join("..", "examples", "sample")
	pem, err := os.ReadFile(filepath.Join(sample, "ca.pem"))
	require.NoError(t, err)
	roots, _, err := signers.ParseRoots(pem)
	require.NoError(t, err)
	prof, err := profile.Resolve("code42")
	require.NoError(t, err)
	genVersion := func(root string, level Criterion, version string) (*Policy, error) {
		return Generate(context.Background(), GenerateOptions{
			Roots: []string{root}, AppVersion: version,
			Inspect: InspectOptions{Verify: signers.Options{Roots: roots}},
			Decide:  DecideOptions{Profile: prof, OS: "mac", Level: level},
		})
	}
	gen := func(root string, level Criterion) *Policy {
		t.Helper()
		pol, err := genVersion(root, level, VersionAuto)
		require.NoError(t, err)
		return pol
	}
	// A broken bundle: --app-version auto refuses to take the version from its Info.plist
	// (naming the bundle and the flag); with the version given, the policy is decided.
	genBroken := func(root string, level Criterion) *Policy {
		t.Helper()
		_, err := genVersion(root, level, VersionAuto)
		require.ErrorIs(t, err, ErrUnverifiedVersion)
		assert.Contains(t, err.Error(), "the Info.plist of bundle "+filepath.Join(root, "CrashPlan.app")+", whose signature or seal does not verify")
		assert.Contains(t, err.Error(), "give the version explicitly")
		pol, err := genVersion(root, level, "11.1.0")
		require.NoError(t, err)
		return pol
	}
	const (
		exe       = "/Applications/CrashPlan.app/Contents/MacOS/CrashPlan"
		exeSHA256 = "7253b620926d59d13bf29f8e8bc848380dedbe7f1c17a39b0cda39ea509d0f2b"
		caches    = "/Library/Caches/CrashPlan"
	)
	scan := []string{"path " + caches + " subfolders"} // archives are opt-in (IncludeArchives)
	rules := func(p *Policy) []string {
		var out []string
		for _, r := range p.Rules {
			s := string(r.Criterion) + " " + r.Value
			if r.Match != "" {
				s += " " + string(r.Match)
			}
			if r.SigningID != "" {
				s += " signing_id=" + r.SigningID
			}
			out = append(out, s)
		}
		return out
	}
	root := copyTree(t, filepath.Join(sample, "mac"))

	hash := gen(root, CriterionHash)
	assert.Equal(t, "11.1.0", hash.AppVersion)
	assert.Equal(t, append([]string{"hash " + exeSHA256}, scan...), rules(hash))
	assert.Equal(t, []string{exe}, hash.Rules[0].Files)

	// The sample leaf claims Team ID EDRSAMPLE1 (OU, Developer ID extension, CodeDirectory)
	// but chains to the sample CA, not to Apple's root: its Team ID is only a string. The
	// signer rule names the leaf certificate, narrowed to the signing identifier (the signer
	// is neither pinned nor expected), and a warning says the Team ID is not proven. At level
	// path the exact path the level allows wins over that narrowed rule (no console can
	// express a signer narrowed to one file).
	const leafSHA1 = "a794a1eddcd5e3daa02b6db858a6f4bc9aede95f"
	p := gen(root, CriterionSigner)
	assert.Equal(t, append([]string{"signer " + leafSHA1 + " signing_id=com.example.edrpolicy-sample.crashplan"}, scan...), rules(p))
	assert.Empty(t, p.Rules[0].TeamID)
	assert.Equal(t, []FileDigest{{Path: exe, SHA256: exeSHA256, Chain: "trusted", Anchor: "roots"}}, p.Rules[0].FileDigests)
	assert.Contains(t, p.Rules[0].Reason, "the rule names the leaf certificate, not a Team ID: the leaf certificate does not chain to Apple's root CA; chain trusted to a root supplied as trusted for this run")
	assert.Contains(t, warningCodes(p), WarnTeamIDUnproven)
	assert.NotContains(t, warningCodes(p), WarnUnexpectedSigner, "an unproven Team ID is not compared with the expected one")
	p = gen(root, CriterionPath)
	assert.Equal(t, append([]string{"path " + exe + " file"}, scan...), rules(p), "sorted by first file: /Applications before /Library")
	assert.Equal(t, []FileDigest{{Path: exe, SHA256: exeSHA256}}, p.Rules[0].FileDigests)
	assert.Contains(t, warningCodes(p), WarnTeamIDUnproven)

	// A sealed resource changed: the bundle seal is broken, so its executable is tampered
	// evidence and gets a hash rule at every level, never a signer or path rule.
	notice := filepath.Join(root, "CrashPlan.app", "Contents", "Resources", "NOTICE.txt")
	f, err := os.OpenFile(notice, os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString("tampered\n")
	require.NoError(t, err)
	require.NoError(t, f.Close())
	for _, level := range []Criterion{CriterionHash, CriterionSigner, CriterionPath} {
		p := genBroken(root, level)
		assert.Equal(t, append([]string{"hash " + exeSHA256}, scan...), rules(p), level)
		if level != CriterionHash {
			assert.Contains(t, p.Rules[0].Reason, "the enclosing bundle's seal is broken", level)
			assert.Contains(t, warningCodes(p), WarnTampered, level)
		}
	}

	// A byte of code flipped in a fresh copy: the page hash fails, the file is invalid.
	root2 := copyTree(t, filepath.Join(sample, "mac"))
	bin := filepath.Join(root2, "CrashPlan.app", "Contents", "MacOS", "CrashPlan")
	data, err := os.ReadFile(bin)
	require.NoError(t, err)
	data[0x1010] ^= 0x01
	require.NoError(t, os.WriteFile(bin, data, 0o755))
	for _, level := range []Criterion{CriterionSigner, CriterionPath} {
		p := genBroken(root2, level)
		require.Equal(t, CriterionHash, p.Rules[0].Criterion, level)
		assert.NotEqual(t, exeSHA256, p.Rules[0].Value)
		assert.Contains(t, warningCodes(p), WarnTampered, level)
		for _, r := range p.Rules[1:] {
			assert.Equal(t, CriterionPath, r.Criterion, level)
			assert.NotContains(t, r.Files, exe, "no path rule may cover a tampered executable")
		}
	}
}
