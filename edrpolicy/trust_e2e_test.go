package edrpolicy

import (
	"context"
	"crypto"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
)

// trustInstall is a Windows install whose files are signed in every way items 9-11 and 15 are
// about, built once: real signatures, verified by Inspect, decided, then checked.
type trustInstall struct {
	root                 string
	pool                 *x509.CertPool
	good, noEKU, expired string // leaf SHA-1 thumbprints
	dual                 bool   // dual.exe was built (osslsigncode present)
}

var (
	trustOnce sync.Once
	trustFx   *trustInstall
	trustErr  error
)

func buildTrustInstall(t *testing.T) *trustInstall {
	t.Helper()
	s := buildSynthetic(t) // skips under -short
	trustOnce.Do(func() { trustFx, trustErr = makeTrustInstall(filepath.Join(s.root, "unsigned.exe")) })
	require.NoError(t, trustErr)
	return trustFx
}

func makeTrustInstall(unsigned string) (*trustInstall, error) {
	dir, err := os.MkdirTemp("", "edrpolicy-trust-")
	if err != nil {
		return nil, err
	}
	ti := &trustInstall{root: filepath.Join(dir, "CrashPlan"), pool: x509.NewCertPool()}
	if err := os.MkdirAll(ti.root, 0o755); err != nil {
		return nil, err
	}
	ca, err := testfixtures.NewCA("Trust Root")
	if err != nil {
		return nil, err
	}
	ti.pool.AddCert(ca.Cert)
	impostor, err := testfixtures.NewImpostorCA(ca)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	mk := func(issuer *testfixtures.KeyPair, o testfixtures.LeafOptions) (*testfixtures.KeyPair, error) {
		return testfixtures.NewLeaf(issuer, o)
	}
	good, err := mk(ca, testfixtures.LeafOptions{CommonName: "Good Signer"})
	if err != nil {
		return nil, err
	}
	noEKU, err := mk(ca, testfixtures.LeafOptions{CommonName: "No EKU Signer", NoEKU: true})
	if err != nil {
		return nil, err
	}
	expired, err := mk(ca, testfixtures.LeafOptions{CommonName: "Expired Signer", NotBefore: now.AddDate(-2, 0, 0), NotAfter: now.AddDate(-1, 0, 0)})
	if err != nil {
		return nil, err
	}
	forged, err := mk(impostor, testfixtures.LeafOptions{CommonName: "Forged Signer"})
	if err != nil {
		return nil, err
	}
	for _, s := range []struct {
		name string
		leaf *testfixtures.KeyPair
		o    testfixtures.PESignOptions
	}{
		{"good.exe", good, testfixtures.PESignOptions{}},
		{"noeku.exe", noEKU, testfixtures.PESignOptions{}},
		{"expired.exe", expired, testfixtures.PESignOptions{}},
		{"forged.exe", forged, testfixtures.PESignOptions{}},
		{"sha1.exe", good, testfixtures.PESignOptions{Hash: crypto.SHA1}},
	} {
		if err := testfixtures.PESign(s.leaf, nil, unsigned, filepath.Join(ti.root, s.name), s.o); err != nil {
			return nil, err
		}
	}
	// Dual-signed: SHA-1 primary by the expired leaf, SHA-256 nested by the good leaf.
	if _, err := exec.LookPath("osslsigncode"); err == nil {
		primary := filepath.Join(dir, "dual-primary.exe")
		if err := testfixtures.PESignOsslsigncode(expired, unsigned, primary, testfixtures.OsslsigncodeOptions{Hash: "sha1"}); err != nil {
			return nil, err
		}
		if err := testfixtures.PESignOsslsigncode(good, primary, filepath.Join(ti.root, "dual.exe"), testfixtures.OsslsigncodeOptions{Nest: true}); err != nil {
			return nil, err
		}
		ti.dual = true
	} else if os.Getenv("CI") == "true" {
		return nil, err
	}
	ti.good = signers.NewCertificate(good.Cert).ThumbprintSHA1
	ti.noEKU = signers.NewCertificate(noEKU.Cert).ThumbprintSHA1
	ti.expired = signers.NewCertificate(expired.Cert).ThumbprintSHA1
	return ti, nil
}

func ruleFor(p *Policy, file string) *Rule {
	for i := range p.Rules {
		for _, f := range p.Rules[i].Files {
			if strings.HasSuffix(f, `\`+file) {
				return &p.Rules[i]
			}
		}
	}
	return nil
}

// Real signed PE files through Generate and Check: pinned leaves without the code-signing EKU
// or expired without a timestamp, a SHA-1 signature, a forged leaf and a dual-signed file get
// exactly the rules the judgement says, and Check agrees, including on a hand-edited policy
// that names every leaf in a signer rule.
func TestTrustEndToEndWindows(t *testing.T) {
	ti := buildTrustInstall(t)
	ctx := context.Background()
	pol, err := Generate(ctx, GenerateOptions{
		Roots: []string{ti.root}, AppVersion: "11.2.1",
		Inspect: InspectOptions{Verify: signers.Options{Roots: ti.pool}},
		Decide:  DecideOptions{Profile: code42(t), OS: "windows", Product: "crashplan", NoScanExclusions: true, Level: CriterionSigner, PinSigners: []string{ti.noEKU, ti.expired}, Now: time.Now()},
	})
	require.NoError(t, err)
	type want struct {
		crit      Criterion
		value     string
		reasonHas string
	}
	wants := map[string]want{
		"good.exe":    {CriterionSigner, ti.good, "chain trusted to a root supplied as trusted for this run"},
		"noeku.exe":   {CriterionHash, "", "the leaf certificate has no extended key usage: nothing allows it to sign code (pinning replaces only the chain to a trusted root)"},
		"expired.exe": {CriterionHash, "", "and the signature carries no timestamp (pinning replaces only the chain to a trusted root)"},
		"forged.exe":  {CriterionHash, "", `the issuer's signature on certificate "Forged Signer" does not verify`},
		"sha1.exe":    {CriterionHash, "", "weak digest (sha1 image digest, sha1 signer digest)"},
	}
	if ti.dual {
		// The SHA-1 primary (expired leaf, pinned) does not count; the SHA-256 nested one does.
		wants["dual.exe"] = want{CriterionSigner, ti.good, "chain trusted"}
	}
	for file, w := range wants {
		r := ruleFor(pol, file)
		require.NotNil(t, r, file)
		assert.Equal(t, w.crit, r.Criterion, "%s: %s", file, r.Reason)
		if w.value != "" {
			assert.Equal(t, w.value, r.Value, file)
		}
		assert.Contains(t, r.Reason, w.reasonHas, file)
		assert.NotContains(t, r.Reason, "--", file)
	}
	codes := warningCodes(pol)
	assert.Contains(t, codes, WarnWeakDigest)
	assert.Contains(t, codes, WarnTampered, "the forged leaf makes its signature invalid")
	assert.Equal(t, sorted([]string{ti.expired, ti.noEKU}), pol.PinnedSigners)

	check := func(p *Policy) *checkReport {
		return runCheck(t, ctx, p, CheckArgs{Roots: []string{ti.root}, Inspect: InspectOptions{Verify: signers.Options{Roots: ti.pool}},
			InstallPaths: map[string][]string{ti.root: {`C:\Program Files\CrashPlan`}}})
	}
	// The generated policy covers everything, each file by the criterion Decide chose.
	rep := check(pol)
	assert.Zero(t, rep.Simulation.NotCovered, rep.Simulation.Text)
	for _, sf := range rep.Simulation.Files {
		base := filepath.Base(sf.Path)
		if w, ok := wants[base]; ok {
			assert.Equal(t, w.crit, sf.CoveredBy, base)
		}
	}

	// A hand-edited policy with a broad signer rule for every leaf (and the same pins) and no
	// hash rules: only the files Decide gave signer rules are covered.
	edited := *pol
	edited.Rules = nil
	for _, tp := range []string{ti.good, ti.noEKU, ti.expired} {
		edited.Rules = append(edited.Rules, Rule{Criterion: CriterionSigner, Value: tp, Platform: "windows", Role: "executable", Files: []string{"x"}, Reason: "hand-made", Source: "inspected"})
	}
	rep = check(&edited)
	notCovered := map[string]string{}
	for _, f := range rep.Findings {
		if f.ID == findingNotCovered {
			notCovered[f.File[strings.LastIndex(f.File, `\`)+1:]] = f.Message
		}
	}
	for file, w := range wants {
		msg, missed := notCovered[file]
		assert.Equal(t, w.crit != CriterionSigner, missed, "%s: %s", file, msg)
	}
	assert.Contains(t, notCovered["noeku.exe"], "not one a signer rule may trust: the leaf certificate has no extended key usage")
	assert.Contains(t, notCovered["sha1.exe"], "weak digest")
	assert.Contains(t, notCovered["forged.exe"], "signature does not verify")
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

// macTrust is a Mach-O signed by an impostor Developer ID chain (its own CA, given as --roots)
// whose leaf claims the Team ID the profile expects for CrashPlan 11.x.
type macTrust struct {
	root, exe  string
	chain      *testfixtures.AppleChain
	leafSHA1   string
	expectTeam string
}

var (
	macTrustOnce sync.Once
	macTrustFx   *macTrust
	macTrustErr  error
)

func buildMacTrust(t *testing.T) *macTrust {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and signs a Mach-O (go build for darwin)")
	}
	macTrustOnce.Do(func() {
		m := &macTrust{expectTeam: "UGHXR79U6M"}
		dir, err := os.MkdirTemp("", "edrpolicy-mactrust-")
		if err != nil {
			macTrustErr = err
			return
		}
		hello, err := testfixtures.MachOBuildHello(dir, "arm64")
		if err != nil {
			macTrustErr = err
			return
		}
		if m.chain, err = testfixtures.NewAppleChain(testfixtures.AppleChainOptions{TeamID: m.expectTeam, Organization: "CrashPlan Group LLC"}); err != nil {
			macTrustErr = err
			return
		}
		m.root = filepath.Join(dir, "install")
		m.exe = filepath.Join(m.root, "CrashPlan.app", "Contents", "MacOS", "CrashPlan")
		if err := os.MkdirAll(filepath.Dir(m.exe), 0o755); err != nil {
			macTrustErr = err
			return
		}
		macTrustErr = testfixtures.MachOSign(m.chain, hello, m.exe, testfixtures.MachOSignOptions{Identifier: "com.crashplan.app"})
		m.leafSHA1 = signers.NewCertificate(m.chain.Leaf).ThumbprintSHA1
		macTrustFx = m
	})
	require.NoError(t, macTrustErr)
	return macTrustFx
}

// Item 9 end to end: an impostor leaf under --roots claiming CrashPlan's Team ID gets a signer
// rule keyed to its own thumbprint and narrowed to its signing identifier, never a Team ID
// rule, even with that Team ID pinned; Check does not count a Team ID rule for it.
func TestTrustEndToEndMacImpostor(t *testing.T) {
	m := buildMacTrust(t)
	ctx := context.Background()
	insp := InspectOptions{Verify: signers.Options{Roots: m.chain.RootPool()}}
	for _, pins := range [][]string{nil, {m.expectTeam}} {
		pol, err := Generate(ctx, GenerateOptions{
			Roots: []string{m.root}, AppVersion: "11.2.1", Inspect: insp,
			Decide: DecideOptions{Profile: code42(t), OS: "mac", Product: "crashplan", Level: CriterionSigner, PinSigners: pins, Now: time.Now()},
		})
		require.NoError(t, err)
		var signer *Rule
		for i := range pol.Rules {
			if pol.Rules[i].Criterion == CriterionSigner {
				signer = &pol.Rules[i]
			}
		}
		require.NotNil(t, signer, "pins %v", pins)
		assert.Equal(t, m.leafSHA1, signer.Value)
		assert.Empty(t, signer.TeamID)
		assert.Equal(t, "com.crashplan.app", signer.SigningID, "narrowed: neither pinned nor expected")
		assert.Contains(t, signer.Reason, "the leaf certificate does not chain to Apple's root CA")
		assert.Contains(t, warningCodes(pol), WarnTeamIDUnproven)
		assert.NotContains(t, warningCodes(pol), WarnUnexpectedSigner)

		// The policy itself is consistent with the install.
		rep := runCheck(t, ctx, pol, CheckArgs{Roots: []string{m.root}, Inspect: insp})
		assert.Equal(t, "1 executable: 0 covered by hash, 1 by signer, 0 by path, 0 not covered", rep.Simulation.Text)

		// A Team ID rule for the claimed team (what the old code made) covers nothing.
		edited := *pol
		edited.Rules = []Rule{{Criterion: CriterionSigner, Value: m.expectTeam, TeamID: m.expectTeam, Platform: "mac", Role: "executable", Files: []string{"x"}, Reason: "hand-made", Source: "inspected"}}
		rep = runCheck(t, ctx, &edited, CheckArgs{Roots: []string{m.root}, Inspect: insp})
		assert.Equal(t, "1 executable: 0 covered by hash, 0 by signer, 0 by path, 1 not covered", rep.Simulation.Text)
		found := false
		for _, f := range rep.Findings {
			if f.ID == findingNotCovered {
				found = true
				assert.Contains(t, f.Message, "valid signature by Developer ID Application: CrashPlan Group LLC (UGHXR79U6M), thumbprint "+m.leafSHA1)
			}
		}
		assert.True(t, found)
	}
}
