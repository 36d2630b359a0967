package edrpolicy

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/internal/corpus"
	"github.com/edrpolicy/edrpolicy/signers"
)

// starterRoundTrip makes a starter profile of root, writes it as a file, loads it back and
// runs Generate with it on the same install: the profile is accepted unchanged.
func starterRoundTrip(t *testing.T, root string, osName profile.OS, installPath string, level Criterion, verify signers.Options) (*profile.Profile, *Policy) {
	t.Helper()
	p, err := StarterProfile(context.Background(), StarterOptions{Root: root, OS: osName, Name: "myapp", InstallPath: installPath, Inspect: InspectOptions{Verify: verify}})
	require.NoError(t, err)
	data, err := p.JSON()
	require.NoError(t, err)
	file := filepath.Join(t.TempDir(), "myapp.json")
	require.NoError(t, os.WriteFile(file, data, 0o644))
	loaded, err := profile.Load(file)
	require.NoError(t, err)
	again, err := loaded.JSON()
	require.NoError(t, err)
	assert.Equal(t, string(data), string(again), "Load(JSON()) gives the same profile")
	pol, err := Generate(context.Background(), GenerateOptions{
		Roots: []string{root}, AppVersion: VersionAuto, Inspect: InspectOptions{Verify: verify},
		Decide: DecideOptions{Profile: loaded, OS: osName, Level: level, Now: testNow},
	})
	require.NoError(t, err)
	return p, pol
}

// The Windows sample install (PE files signed by the sample CA, one unsigned uninstaller):
// its starter profile pins the leaf by thumbprint, reads the version from the PE resources,
// and generate with it gives one signer rule for the three signed files under the install
// path, and a hash rule for the unsigned one.
func TestStarterSampleWindowsRoundTrip(t *testing.T) {
	sample := filepath.Join("..", "examples", "sample")
	pem, err := os.ReadFile(filepath.Join(sample, "ca.pem"))
	require.NoError(t, err)
	roots, _, err := signers.ParseRoots(pem)
	require.NoError(t, err)
	verify := signers.Options{Roots: roots}
	root := copyTree(t, filepath.Join(sample, "windows"))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "Cache"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "Cache", "index.db"), []byte("x"), 0o644))
	require.NoError(t, os.MkdirAll(filepath.Join(root, "logs"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(root, "logs", "app.log"), []byte("x"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "logs", "rotate.ps1"), []byte("Get-Date"), 0o644))

	p, pol := starterRoundTrip(t, root, "windows", `C:\Program Files\MyApp`, CriterionSigner, verify)
	require.Len(t, p.Signers, 1)
	assert.Equal(t, []string{"3f086f54899489e60eff31fc305a3b5953452765a06111cffd8451c98ef7562c"}, p.Signers[0].Thumbprints)
	assert.Equal(t, profile.ConfidenceObserved, p.Signers[0].Confidence)
	assert.Contains(t, p.Signers[0].Note, "SHA-1 ea85936ab6f5ee86cd20bb9323ef87bd4220a617")
	var facts, suggested []string
	for _, f := range p.Facts {
		facts = append(facts, f.Kind+" "+f.Value)
	}
	assert.Equal(t, []string{"executable CrashPlanNative.dll", "executable CrashPlanService.exe", "executable Uninstall.exe", "executable electron/CrashPlanDesktop.exe", "script logs/rotate.ps1"}, facts)
	for _, r := range p.Paths {
		suggested = append(suggested, string(r.Role)+" "+r.Rule+" "+r.Path)
	}
	assert.Equal(t, []string{`executable never C:\Program Files\MyApp`, `cache never C:\Program Files\MyApp\Cache`, `logs never C:\Program Files\MyApp\logs`}, suggested)
	assert.Contains(t, p.Paths[2].Note, "it holds code: never exclude it from scans")

	assert.Equal(t, "11.1.0", pol.AppVersion)
	var got []string
	for _, r := range pol.Rules {
		got = append(got, string(r.Criterion)+" "+r.FileName+" "+strings.Join(r.Files, ","))
	}
	assert.Equal(t, []string{
		`signer  C:\Program Files\MyApp\CrashPlanNative.dll,C:\Program Files\MyApp\CrashPlanService.exe,C:\Program Files\MyApp\electron\CrashPlanDesktop.exe`,
		`hash  C:\Program Files\MyApp\Uninstall.exe`,
		`hash  C:\Program Files\MyApp\logs\rotate.ps1`,
	}, got, "the observed thumbprint is the expected signer: one rule, not narrowed; suggestions make no rule")

	// A tampered copy: the flipped file's signature does not verify, so it gives no signer.
	bad := copyTree(t, filepath.Join(sample, "windows"))
	b, err := os.ReadFile(filepath.Join(bad, "CrashPlanService.exe"))
	require.NoError(t, err)
	b[1500] ^= 1
	require.NoError(t, os.WriteFile(filepath.Join(bad, "CrashPlanService.exe"), b, 0o644))
	p, err = StarterProfile(context.Background(), StarterOptions{Root: bad, OS: "windows", Name: "bad", Inspect: InspectOptions{Verify: verify}})
	require.NoError(t, err)
	require.Len(t, p.Signers, 1)
	assert.Contains(t, p.Signers[0].Note, "seen on 2 file(s)")
	assert.NotContains(t, p.Signers[0].Note, "CrashPlanService.exe")
	// Without --install-path: no main row, TODOs name it, and the same starter twice is the
	// same bytes.
	var whats []string
	for _, u := range p.Unknowns {
		whats = append(whats, u.What)
	}
	assert.Contains(t, whats, "main-app")
	d1, _ := p.JSON()
	p2, err := StarterProfile(context.Background(), StarterOptions{Root: bad, OS: "windows", Name: "bad", Inspect: InspectOptions{Verify: verify, Jobs: 1}})
	require.NoError(t, err)
	d2, _ := p2.JSON()
	assert.Equal(t, string(d1), string(d2))
}

// Real signed Mach-O files from the corpus: a Developer ID signature gives its Team ID as the
// expected signer, and generate with the starter profile writes one unnarrowed signer rule;
// an ad-hoc signed file gives no signer and a TODO.
func TestStarterCorpusMachORoundTrip(t *testing.T) {
	files := corpus.Need(t, "macho", corpus.SourceNPM)
	valid := 0
	for _, cf := range files {
		root := filepath.Join(t.TempDir(), "app")
		require.NoError(t, os.MkdirAll(filepath.Join(root, "bin"), 0o755))
		data, err := os.ReadFile(cf.Path)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(root, "bin", "tool"), data, 0o755))
		inv, err := Inspect(context.Background(), []string{root}, InspectOptions{})
		require.NoError(t, err)
		require.Len(t, inv.Files, 1)
		ev := inv.Files[0]

		p, pol := starterRoundTrip(t, root, "mac", "/opt/myapp", CriterionSigner, signers.Options{})
		if ev.SignatureStatus != signers.StatusValid || ev.Signatures[0].Chain != signers.ChainTrusted {
			assert.Empty(t, p.Signers, cf.Name)
			require.Len(t, pol.Rules, 1, cf.Name)
			assert.Equal(t, CriterionHash, pol.Rules[0].Criterion, cf.Name)
			assert.Contains(t, warningCodes(pol), WarnUnknownSigner, "%s: the starter's TODO about signers", cf.Name)
			continue
		}
		valid++
		team := ev.Signatures[0].TeamID
		require.NotEmpty(t, team, cf.Name)
		require.Len(t, p.Signers, 1, cf.Name)
		assert.Equal(t, team, p.Signers[0].TeamID, cf.Name)
		assert.Contains(t, p.Signers[0].Note, "signing identifiers "+ev.Signatures[0].SigningID, cf.Name)
		if m := DefaultInterpreters().Match(&ev); m != nil {
			// bun is a JavaScript runtime: recognised by its signing identifier although
			// the file is called "tool", it gets no rule (interpreter warning).
			assert.Equal(t, "signing identifier "+ev.Signatures[0].SigningID, m.By, cf.Name)
			assert.Empty(t, pol.Rules, cf.Name)
			assert.Contains(t, warningCodes(pol), WarnInterpreter, cf.Name)
			continue
		}
		require.Len(t, pol.Rules, 1, cf.Name)
		r := pol.Rules[0]
		assert.Equal(t, CriterionSigner, r.Criterion, cf.Name)
		assert.Equal(t, team, r.TeamID, cf.Name)
		assert.Empty(t, r.SigningID, "%s: the observed Team ID is expected, so the rule is not narrowed", cf.Name)
		assert.Equal(t, []string{"/opt/myapp/bin/tool"}, r.Files, cf.Name)
		assert.NotContains(t, warningCodes(pol), WarnUnexpectedSigner, cf.Name)
	}
	if valid == 0 {
		t.Fatalf("no corpus Mach-O with a valid trusted signature among %d", len(files))
	}
}
