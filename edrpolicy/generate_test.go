package edrpolicy

import (
	"context"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
)

// synthetic is a Code42-like Windows install built once per test binary: a fixture-signed PE
// with a version resource, an unsigned copy and a tampered copy.
type synthetic struct {
	root     string
	pool     *x509.CertPool
	leafSHA1 string
	signed   string // sha256 of each file
	unsigned string
	tampered string
}

var (
	synthOnce sync.Once
	synth     *synthetic
	synthErr  error
)

func buildSynthetic(t *testing.T) *synthetic {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and signs a PE (go build for windows)")
	}
	synthOnce.Do(func() { synth, synthErr = makeSynthetic() })
	require.NoError(t, synthErr)
	return synth
}

func makeSynthetic() (*synthetic, error) {
	dir, err := os.MkdirTemp("", "edrpolicy-synth-")
	if err != nil {
		return nil, err
	}
	exe, err := testfixtures.PEBuildHello(dir, "amd64", testfixtures.PEBuildOptions{Version: &testfixtures.PEVersionInfo{
		FileVersion: "11.2.1.27", ProductVersion: "11.2.1", CompanyName: "CrashPlan Group LLC", ProductName: "CrashPlan", OriginalFilename: "CrashPlanService.exe",
	}})
	if err != nil {
		return nil, err
	}
	ca, err := testfixtures.NewCA("Synthetic Root")
	if err != nil {
		return nil, err
	}
	leaf, err := testfixtures.NewLeaf(ca, testfixtures.LeafOptions{CommonName: "CrashPlan Group LLC", Organization: "CrashPlan Group LLC"})
	if err != nil {
		return nil, err
	}
	root := filepath.Join(dir, "CrashPlan")
	if err := os.MkdirAll(filepath.Join(root, "electron"), 0o755); err != nil {
		return nil, err
	}
	signedPath := filepath.Join(root, "CrashPlanService.exe")
	if err := testfixtures.PESign(leaf, nil, exe, signedPath, testfixtures.PESignOptions{}); err != nil {
		return nil, err
	}
	signed, err := os.ReadFile(signedPath)
	if err != nil {
		return nil, err
	}
	// The same signed file again under another name: one signer rule or one hash rule covers both.
	if err := os.WriteFile(filepath.Join(root, "electron", "CrashPlanDesktop.exe"), signed, 0o755); err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(exe)
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, "unsigned.exe"), raw, 0o755); err != nil {
		return nil, err
	}
	bad := append([]byte(nil), signed...)
	bad[len(bad)/3] ^= 0xff
	if err := os.WriteFile(filepath.Join(root, "tampered.exe"), bad, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(root, "readme.txt"), []byte("not code"), 0o644); err != nil {
		return nil, err
	}
	s := &synthetic{root: root, pool: x509.NewCertPool(), leafSHA1: signers.NewCertificate(leaf.Cert).ThumbprintSHA1}
	s.pool.AddCert(ca.Cert)
	s.signed, s.unsigned, s.tampered = sum(signed), sum(raw), sum(bad)
	return s, nil
}

func sum(b []byte) string { return sha(string(b)) }

// genOpts gives the version: the synthetic install holds a tampered copy of the vendor's
// executable, from which --app-version auto refuses to take it (see the "auto" subtests).
func genOpts(t *testing.T, s *synthetic, level Criterion, trust bool, pins ...string) GenerateOptions {
	o := GenerateOptions{
		Roots:      []string{s.root},
		AppVersion: "11.2.1",
		// The fixture certificates are issued now: the leaf's validity is judged at the time
		// of the run, as the chain is.
		Decide: DecideOptions{Profile: code42(t), OS: "windows", Product: "crashplan", NoScanExclusions: true, Level: level, PinSigners: pins, Now: time.Now()},
	}
	if trust {
		o.Inspect.Verify.Roots = s.pool
	}
	return o
}

type ruleLine struct {
	Criterion Criterion
	Value     string
	Files     []string
	Reason    string
}

func lines(p *Policy) []ruleLine {
	var out []ruleLine
	for _, r := range p.Rules {
		out = append(out, ruleLine{r.Criterion, r.Value, r.Files, r.Reason})
	}
	return out
}

const cp = `C:\Program Files\CrashPlan\`

func TestGenerateSyntheticInstall(t *testing.T) {
	s := buildSynthetic(t)
	ctx := context.Background()
	tamperedReason := "signature does not verify (tampered or malformed)"

	t.Run("auto refuses a tampered version source", func(t *testing.T) {
		for _, level := range []Criterion{CriterionHash, CriterionSigner, CriterionPath} {
			o := genOpts(t, s, level, true)
			o.AppVersion = VersionAuto
			_, err := Generate(ctx, o)
			require.ErrorIs(t, err, ErrUnverifiedVersion, level)
			assert.Contains(t, err.Error(), "the PE version resource of "+filepath.Join(s.root, "tampered.exe")+", whose Authenticode signature does not verify (image digest mismatch", level)
			assert.Contains(t, err.Error(), "give the version explicitly", level)
			assert.NotContains(t, err.Error(), "unsigned.exe", "an unsigned file vouches for nothing and is not refused")
		}
	})

	t.Run("auto without the tampered file", func(t *testing.T) {
		root := filepath.Join(t.TempDir(), "CrashPlan")
		require.NoError(t, os.MkdirAll(filepath.Join(root, "electron"), 0o755))
		for _, n := range []string{"CrashPlanService.exe", "unsigned.exe", "readme.txt", filepath.Join("electron", "CrashPlanDesktop.exe")} {
			b, err := os.ReadFile(filepath.Join(s.root, n))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(root, n), b, 0o755))
		}
		o := genOpts(t, s, CriterionHash, true)
		o.Roots, o.AppVersion = []string{root}, VersionAuto
		pol, err := Generate(ctx, o)
		require.NoError(t, err)
		assert.Equal(t, "11.2.1", pol.AppVersion)
		assert.Equal(t, "pe product_version of CrashPlanService.exe", pol.AppVersionSource[:len("pe product_version of CrashPlanService.exe")])
		assert.Equal(t, "crashplan", pol.Era)
	})

	t.Run("hash", func(t *testing.T) {
		pol, err := Generate(ctx, genOpts(t, s, CriterionHash, true))
		require.NoError(t, err)
		assert.Equal(t, "11.2.1", pol.AppVersion)
		assert.Equal(t, VersionGiven, pol.AppVersionSource)
		assert.Equal(t, "crashplan", pol.Era)
		r := "hash level: the exact SHA-256 of this build"
		assert.ElementsMatch(t, []ruleLine{
			{CriterionHash, s.signed, []string{cp + "CrashPlanService.exe", cp + `electron\CrashPlanDesktop.exe`}, r},
			{CriterionHash, s.unsigned, []string{cp + "unsigned.exe"}, r},
			{CriterionHash, s.tampered, []string{cp + "tampered.exe"}, r},
		}, lines(pol))
		assert.Equal(t, "4 files → 3 rules: 3 hash, 0 signer, 0 path", pol.Summary.Text)
	})

	t.Run("signer trusted root", func(t *testing.T) {
		pol, err := Generate(ctx, genOpts(t, s, CriterionSigner, true))
		require.NoError(t, err)
		ls := lines(pol)
		require.Len(t, ls, 3)
		// Rules sort by first file: the signer rule's CrashPlanService.exe, then tampered.exe
		// and unsigned.exe (the signed bytes differ per run: RSA signatures).
		hashes := map[string]ruleLine{ls[1].Value: ls[1], ls[2].Value: ls[2]}
		assert.Equal(t, ruleLine{CriterionHash, s.unsigned, []string{cp + "unsigned.exe"}, "unsigned: no signature to trust"}, hashes[s.unsigned])
		assert.Equal(t, []string{cp + "tampered.exe"}, hashes[s.tampered].Files)
		assert.True(t, strings.HasPrefix(hashes[s.tampered].Reason, tamperedReason+": image digest mismatch"), hashes[s.tampered].Reason)
		// Not pinned and no expected Windows signer is known: narrowed to the file name
		// (OriginalFilename, the same for both copies).
		assert.Equal(t, ruleLine{CriterionSigner, s.leafSHA1, []string{cp + "CrashPlanService.exe", cp + `electron\CrashPlanDesktop.exe`},
			"valid signature, chain trusted to a root supplied as trusted for this run; the signer is neither pinned nor the profile's expected signer, so the rule is narrowed to this file"}, ls[0])
		assert.Equal(t, "CrashPlanService.exe", pol.Rules[0].FileName)
		assert.Contains(t, warningCodes(pol), WarnUnknownSigner)
		assert.Contains(t, warningCodes(pol), WarnTampered)
	})

	t.Run("signer unknown root not pinned", func(t *testing.T) {
		pol, err := Generate(ctx, genOpts(t, s, CriterionSigner, false))
		require.NoError(t, err)
		for _, r := range pol.Rules {
			assert.Equal(t, CriterionHash, r.Criterion)
			if r.Value == s.signed {
				assert.True(t, strings.HasPrefix(r.Reason, "signer chain unknown-root"), r.Reason)
				assert.True(t, strings.HasSuffix(r.Reason, ", and the leaf certificate (SHA-1 thumbprint "+s.leafSHA1+") is not pinned"), r.Reason)
			}
		}
	})

	t.Run("signer pinned", func(t *testing.T) {
		pol, err := Generate(ctx, genOpts(t, s, CriterionSigner, false, strings.ToUpper(s.leafSHA1)))
		require.NoError(t, err)
		ls := lines(pol)
		require.Len(t, ls, 3)
		assert.Equal(t, ruleLine{CriterionSigner, s.leafSHA1, []string{cp + "CrashPlanService.exe", cp + `electron\CrashPlanDesktop.exe`},
			"valid signature, leaf certificate pinned by its thumbprint; one rule per signer survives upgrades until the certificate is renewed"}, ls[0])
		assert.Empty(t, pol.Rules[0].FileName, "a pinned signer is not narrowed")
		require.NotNil(t, pol.Rules[0].Signer)
		assert.Equal(t, "CrashPlan Group LLC", pol.Rules[0].Signer.CommonName)
		assert.NotEmpty(t, pol.Rules[0].Certificate)
		for _, r := range pol.Rules {
			if r.Criterion == CriterionSigner {
				assert.NotContains(t, r.Files, cp+"tampered.exe")
			}
		}
	})

	t.Run("path", func(t *testing.T) {
		pol, err := Generate(ctx, genOpts(t, s, CriterionPath, true, s.leafSHA1))
		require.NoError(t, err)
		var got []string
		for _, r := range pol.Rules {
			got = append(got, string(r.Criterion)+" "+r.Value+" "+string(r.Match))
		}
		assert.Equal(t, []string{
			"signer " + s.leafSHA1 + " ",
			"hash " + s.tampered + " ",
			`path C:\Program Files\CrashPlan\unsigned.exe file`,
		}, got)
	})

	t.Run("deterministic", func(t *testing.T) {
		a, err := Generate(ctx, genOpts(t, s, CriterionSigner, true))
		require.NoError(t, err)
		b, err := Generate(ctx, genOpts(t, s, CriterionSigner, true))
		require.NoError(t, err)
		ja, _ := a.JSON()
		jb, _ := b.JSON()
		assert.Equal(t, string(ja), string(jb))
	})

	t.Run("version overrides", func(t *testing.T) {
		o := genOpts(t, s, CriterionHash, true)
		o.AppVersion = "8.1"
		_, err := Generate(ctx, o)
		var ue *profile.UnknownError
		assert.ErrorAs(t, err, &ue)
		o.AppVersion, o.Decide.AssumePaths = "8.1", "8.0"
		pol, err := Generate(ctx, o)
		require.NoError(t, err)
		assert.Contains(t, pol.Rules[0].Files[0], `C:\Program Files\CrashPlan\`)
		o.AppVersion, o.Decide.AssumePaths = "10.2", ""
		pol, err = Generate(ctx, o)
		require.NoError(t, err)
		assert.Contains(t, pol.Rules[0].Files[0], `C:\Program Files\Code42\`)
		assert.Equal(t, VersionGiven, pol.AppVersionSource)
	})
}

func TestGenerateUserProfile(t *testing.T) {
	prof, err := profile.Load("testdata/myapp.json")
	require.NoError(t, err)
	root := filepath.Join(t.TempDir(), "myapp")
	require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "VERSION"), []byte("myapp 2.3.1\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "start.sh"), []byte("#!/bin/sh\nexec myapp\n"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "notes.txt"), []byte("x"), 0o644))
	pol, err := Generate(context.Background(), GenerateOptions{
		Roots: []string{root}, AppVersion: VersionAuto,
		Decide: DecideOptions{Profile: prof, OS: "linux", Level: CriterionPath, IncludeLogs: true, Now: testNow},
	})
	require.NoError(t, err)
	assert.Equal(t, "myapp", pol.Profile)
	assert.Equal(t, "2.3.1", pol.AppVersion)
	assert.Equal(t, "version file VERSION", pol.AppVersionSource)
	assert.Equal(t, []ruleLine{
		{CriterionPath, "/opt/myapp/bin/start.sh", []string{"/opt/myapp/bin/start.sh"}, "no signer rule possible (no signature information for this file (no verifier for its format)); the path level accepts an exact file path"},
		{CriterionPath, "/var/cache/myapp", []string{"/var/cache/myapp"}, "scan exclusion the source recommends: cache files are benign records of the app's own operations"},
		{CriterionPath, "/var/log/myapp", []string{"/var/log/myapp"}, "log folder, included on request"},
	}, lines(pol))
	assert.Equal(t, "https://example.com/myapp/kb/42", pol.Rules[1].Source)
}

func TestGenerateGuardrail(t *testing.T) {
	prof, err := profile.Parse([]byte(`{"schema_version":1,"name":"wide","title":"Too wide","sources":[{"id":"s","title":"t","ref":"r","confidence":"3rd-party"}],
	"paths":[{"os":"windows","use":"everything","role":"cache","path":"C:\\Program Files","kind":"folder","rule":"scan-exclusion","source":"s","confidence":"3rd-party"},
	         {"os":"windows","use":"temp","role":"cache","path":"C:\\Windows\\Temp\\wide","kind":"folder","rule":"scan-exclusion","source":"s","confidence":"3rd-party"}]}`))
	require.NoError(t, err)
	_, err = Generate(context.Background(), GenerateOptions{Decide: DecideOptions{Profile: prof, OS: "windows", Now: testNow}})
	var ge *GuardrailError
	require.ErrorAs(t, err, &ge)
	assert.Equal(t, []Refusal{
		{ID: FindingGuardrail, Path: `C:\Program Files`, Reason: "the whole of Program Files"},
		{ID: FindingGuardrail, Path: `C:\Windows\Temp\wide`, Reason: "a temp folder"},
	}, ge.Refusals)
	assert.Contains(t, err.Error(), "force it to be kept")
	pol, err := Generate(context.Background(), GenerateOptions{Decide: DecideOptions{Profile: prof, OS: "windows", Force: true, Now: testNow}})
	require.NoError(t, err)
	assert.Len(t, pol.Rules, 2)
	assert.Equal(t, []WarningCode{WarnGuardrailForced, WarnGuardrailForced, WarnNoExecutables}, warningCodes(pol))
}
