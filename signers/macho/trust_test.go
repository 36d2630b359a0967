package macho_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/macho"
)

// teamVariant is a Mach-O signed under a chain whose leaf is shaped to test where the Team ID
// comes from (item 9) and what the leaf allows (items 10, 11).
type teamVariant struct {
	name   string
	chain  testfixtures.AppleChainOptions
	sign   testfixtures.MachOSignOptions
	status signers.Status
	// team is the signature's team_id; certTeam what the certificate proves (AppleTeamID),
	// certWhy a part of the reason it proves none.
	team, certTeam, certWhy string
	chainVerdict            signers.Chain // under the fixture root as Apple's root
	errHas                  string        // part of Error (invalid) or ChainError
}

var teamVariants = []teamVariant{
	{name: "Developer ID leaf", team: "CRASHPLAN1", certTeam: "CRASHPLAN1", chainVerdict: signers.ChainTrusted},
	{name: "no OU, CD claims a team", chain: testfixtures.AppleChainOptions{NoOU: true}, sign: testfixtures.MachOSignOptions{TeamID: "CRASHPLAN1"},
		team: "CRASHPLAN1", certWhy: "no subject OU", chainVerdict: signers.ChainTrusted},
	{name: "no OU, Team ID in the UID attribute", chain: testfixtures.AppleChainOptions{NoOU: true, UID: "CRASHPLAN1"}, sign: testfixtures.MachOSignOptions{TeamID: "CRASHPLAN1"},
		team: "CRASHPLAN1", certWhy: `UID attribute "CRASHPLAN1"`, chainVerdict: signers.ChainTrusted},
	{name: "two OUs", chain: testfixtures.AppleChainOptions{OUs: []string{"CRASHPLAN1", "EVILTEAM01"}}, sign: testfixtures.MachOSignOptions{TeamID: "CRASHPLAN1"},
		team: "CRASHPLAN1", certWhy: "2 subject OUs", chainVerdict: signers.ChainTrusted},
	{name: "OU without the Apple extension", chain: testfixtures.AppleChainOptions{NoAppleExtension: true}, sign: testfixtures.MachOSignOptions{TeamID: "CRASHPLAN1"},
		team: "CRASHPLAN1", certWhy: "not backed by an Apple code-signing extension", chainVerdict: signers.ChainTrusted},
	{name: "OU without the extension, differs from the CD", chain: testfixtures.AppleChainOptions{TeamID: "EVILTEAM01", NoAppleExtension: true}, sign: testfixtures.MachOSignOptions{TeamID: "CRASHPLAN1"},
		team: "CRASHPLAN1", certWhy: "not backed by an Apple code-signing extension", chainVerdict: signers.ChainTrusted},
	{name: "OU differs from the CD team", chain: testfixtures.AppleChainOptions{TeamID: "EVILTEAM01"}, sign: testfixtures.MachOSignOptions{TeamID: "CRASHPLAN1"},
		status: signers.StatusInvalid, team: "CRASHPLAN1", certTeam: "EVILTEAM01", errHas: `Team ID "CRASHPLAN1" in the CodeDirectory differs from "EVILTEAM01" in the signing certificate`},
	{name: "expired leaf, no timestamp", chain: testfixtures.AppleChainOptions{LeafNotBefore: time.Now().AddDate(-2, 0, 0), LeafNotAfter: time.Now().AddDate(-1, 0, 0)},
		team: "CRASHPLAN1", certTeam: "CRASHPLAN1", chainVerdict: signers.ChainUntrusted, errHas: "expired or is not yet valid"},
	{name: "expired leaf, timestamped after expiry", chain: testfixtures.AppleChainOptions{LeafNotBefore: time.Now().AddDate(-2, 0, 0), LeafNotAfter: time.Now().AddDate(-1, 0, 0)}, sign: testfixtures.MachOSignOptions{Timestamp: true},
		team: "CRASHPLAN1", certTeam: "CRASHPLAN1", chainVerdict: signers.ChainUntrusted, errHas: "expired or is not yet valid"},
	{name: "leaf with a TLS EKU", chain: testfixtures.AppleChainOptions{LeafEKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}},
		team: "CRASHPLAN1", certTeam: "CRASHPLAN1", chainVerdict: signers.ChainUntrusted, errHas: "incompatible key usage"},
}

type teamFixture struct {
	path  string
	chain *testfixtures.AppleChain
}

var (
	teamOnce sync.Once
	teamFx   map[string]teamFixture
	teamErr  error
)

func getTeamFixtures(t *testing.T) map[string]teamFixture {
	t.Helper()
	f := getFixtures(t)
	teamOnce.Do(func() {
		dir := filepath.Join(f.dir, "team") // removed with f.dir by TestMain
		if teamErr = os.MkdirAll(dir, 0o755); teamErr != nil {
			return
		}
		teamFx = map[string]teamFixture{}
		for i, v := range teamVariants {
			o := v.chain
			if o.TeamID == "" {
				o.TeamID = "CRASHPLAN1"
			}
			c, err := testfixtures.NewAppleChain(o)
			if err != nil {
				teamErr = err
				return
			}
			p := filepath.Join(dir, "v"+string(rune('a'+i)))
			if err := testfixtures.MachOSign(c, f.linkerArm, p, v.sign); err != nil {
				teamErr = err
				return
			}
			teamFx[v.name] = teamFixture{path: p, chain: c}
		}
	})
	require.NoError(t, teamErr, "building Team ID fixtures")
	return teamFx
}

func verifyWith(t *testing.T, v *macho.Verifier, path string, opts signers.Options) *signers.Result {
	t.Helper()
	b := readFile(t, path)
	res, err := v.Verify(context.Background(), signers.Input{Path: path, R: bytes.NewReader(b), Size: int64(len(b)), Format: hashing.FormatMachO}, opts)
	require.NoError(t, err)
	return res
}

// Item 9: the signature reports the CodeDirectory's Team ID and the certificate's facts; the
// anchor says whether the chain ends at Apple's root (here a fixture root standing for it) or
// at a --roots certificate, which proves nothing about a Team ID.
func TestTeamIDSources(t *testing.T) {
	fxs := getTeamFixtures(t)
	for _, v := range teamVariants {
		t.Run(v.name, func(t *testing.T) {
			f := fxs[v.name]
			asApple := verifyWith(t, macho.NewWithAppleRoot(f.chain.Root), f.path, signers.Options{})
			underRoots := verifyWith(t, macho.New(), f.path, signers.Options{Roots: f.chain.RootPool()})
			for _, res := range []*signers.Result{asApple, underRoots} {
				require.Len(t, res.Signatures, 1)
				s := res.Signatures[0]
				want := v.status
				if want == "" {
					want = signers.StatusValid
				}
				assert.Equal(t, want, s.Status, s.Error)
				assert.Equal(t, v.team, s.TeamID)
				require.NotNil(t, s.Signer)
				team, why := s.Signer.AppleTeamID()
				assert.Equal(t, v.certTeam, team)
				assert.Contains(t, why, v.certWhy)
				if want == signers.StatusInvalid {
					assert.Contains(t, s.Error, v.errHas)
					continue
				}
				assert.Equal(t, v.chainVerdict, s.Chain, s.ChainError)
				if v.chainVerdict != signers.ChainTrusted {
					assert.Contains(t, s.ChainError, v.errHas)
					assert.Empty(t, s.Anchor)
				}
			}
			if v.chainVerdict == signers.ChainTrusted && v.status == "" {
				assert.Equal(t, signers.AnchorApple, asApple.Signatures[0].Anchor)
				assert.Equal(t, signers.AnchorRoots, underRoots.Signatures[0].Anchor, "a --roots certificate is not Apple's root")
			}
		})
	}
}

// The real Apple root, given again through --roots, still anchors at Apple; a fixture root
// given through --roots never does, whatever its name.
func TestAnchorIsTheRootNotThePool(t *testing.T) {
	fxs := getTeamFixtures(t)
	f := fxs["Developer ID leaf"]
	res := verifyWith(t, macho.NewWithAppleRoot(f.chain.Root), f.path, signers.Options{Roots: f.chain.RootPool()})
	assert.Equal(t, signers.AnchorApple, res.Signatures[0].Anchor)
	other, err := testfixtures.NewAppleChain(testfixtures.AppleChainOptions{})
	require.NoError(t, err)
	res = verifyWith(t, macho.NewWithAppleRoot(other.Root), f.path, signers.Options{Roots: f.chain.RootPool()})
	assert.Equal(t, signers.AnchorRoots, res.Signatures[0].Anchor)
	assert.Equal(t, signers.ChainTrusted, res.Signatures[0].Chain)
}

// Item 15 for Apple: a signature whose only CodeDirectory is SHA-1 (and whose CMS digest is
// SHA-1) is weak; SHA-256, and SHA-1 beside a bound SHA-256 alternate, are not.
func TestWeakDigestApple(t *testing.T) {
	f := getFixtures(t)
	_, alt := getAltFixtures(t)
	sha1File := filepath.Join(f.dir, "sha1-only")
	require.NoError(t, testfixtures.MachOSign(f.chain, f.linkerArm, sha1File, testfixtures.MachOSignOptions{HashFunc: crypto.SHA1}))
	cases := []struct {
		name, path, want, alg string
	}{
		{"sha256", f.signedArm, "", "sha256"},
		{"sha1 only", sha1File, "sha1 CodeDirectory (no SHA-256 CodeDirectory), sha1 signer digest", "sha1"},
		{"sha1 CD0 + sha256 alternate", alt.arm, "", "sha256"},
	}
	for _, tc := range cases {
		res, err := verifyPath(t, tc.path, signers.Options{Roots: f.chain.RootPool()})
		require.NoError(t, err)
		require.Len(t, res.Signatures, 1, tc.name)
		s := res.Signatures[0]
		assert.Equal(t, signers.StatusValid, s.Status, s.Error)
		assert.Equal(t, tc.want, s.WeakDigest, tc.name)
		assert.Equal(t, tc.alg, s.DigestAlgorithm, tc.name)
	}
	// Ad-hoc (linker) signatures carry no signer digest; their SHA-256 CD is not weak.
	res, err := verifyPath(t, f.linkerArm, signers.Options{})
	require.NoError(t, err)
	assert.Empty(t, res.Signatures[0].WeakDigest)
}
