package signers_test

import (
	"crypto/x509"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
)

// The certificate facts a signer rule depends on (EKU, key usage, OU, UID, Apple extensions),
// for several leaf shapes, and the same facts as openssl prints them.
func TestNewCertificateFacts(t *testing.T) {
	ca, err := testfixtures.NewCA("Facts Root")
	require.NoError(t, err)
	leaf := func(o testfixtures.LeafOptions) *x509.Certificate {
		k, err := testfixtures.NewLeaf(ca, o)
		require.NoError(t, err)
		return k.Cert
	}
	apple := func(o testfixtures.AppleChainOptions) *x509.Certificate {
		c, err := testfixtures.NewAppleChain(o)
		require.NoError(t, err)
		return c.Leaf
	}
	cases := []struct {
		name      string
		cert      *x509.Certificate
		eku, ku   []string
		ous       []string
		uid       string
		appleExts []string
	}{
		{"code signing leaf", leaf(testfixtures.LeafOptions{}), []string{"code-signing"}, []string{"digital-signature"}, nil, "", nil},
		{"no EKU extension", leaf(testfixtures.LeafOptions{NoEKU: true}), nil, []string{"digital-signature"}, nil, "", nil},
		{"TLS EKUs", leaf(testfixtures.LeafOptions{EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth}}), []string{"server-auth", "client-auth"}, []string{"digital-signature"}, nil, "", nil},
		{"time stamping EKU", leaf(testfixtures.LeafOptions{EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping}}), []string{"time-stamping"}, []string{"digital-signature"}, nil, "", nil},
		{"key encipherment only", leaf(testfixtures.LeafOptions{KeyUsage: x509.KeyUsageKeyEncipherment}), []string{"code-signing"}, []string{"key-encipherment"}, nil, "", nil},
		{"no key usage extension", leaf(testfixtures.LeafOptions{NoKeyUsage: true}), []string{"code-signing"}, nil, nil, "", nil},
		{"Developer ID leaf", apple(testfixtures.AppleChainOptions{TeamID: "TEAMAAAAA1"}), []string{"code-signing"}, []string{"digital-signature"}, []string{"TEAMAAAAA1"}, "", []string{"1.2.840.113635.100.6.1.13"}},
		{"Mac App Store leaf with UID", apple(testfixtures.AppleChainOptions{TeamID: "TEAMAAAAA2", UID: "TEAMAAAAA2", LeafOID: testfixtures.AppleOIDMacAppStore}), []string{"code-signing"}, []string{"digital-signature"}, []string{"TEAMAAAAA2"}, "TEAMAAAAA2", []string{"1.2.840.113635.100.6.1.9"}},
		{"two OUs, no Apple extension", apple(testfixtures.AppleChainOptions{OUs: []string{"TEAMAAAAA3", "OTHER"}, NoAppleExtension: true}), []string{"code-signing"}, []string{"digital-signature"}, []string{"TEAMAAAAA3", "OTHER"}, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := signers.NewCertificate(tc.cert)
			assert.Equal(t, tc.eku, c.ExtKeyUsage)
			assert.Equal(t, tc.ku, c.KeyUsage)
			assert.ElementsMatch(t, tc.ous, c.OrganizationalUnits) // several OUs in one RDN are DER-sorted
			assert.Equal(t, tc.uid, c.UID)
			assert.Equal(t, tc.appleExts, c.AppleExtensions)
			opensslFacts(t, tc.cert, c)
		})
	}
}

// opensslFacts checks the EKU, key usage and OU facts against `openssl x509 -text`.
func opensslFacts(t *testing.T, cert *x509.Certificate, c *signers.Certificate) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is required in CI")
		}
		return
	}
	file := filepath.Join(t.TempDir(), "c.pem")
	require.NoError(t, os.WriteFile(file, (&testfixtures.KeyPair{Cert: cert}).CertPEM(), 0o644))
	out, err := exec.Command("openssl", "x509", "-in", file, "-noout", "-text", "-nameopt", "multiline").Output()
	require.NoError(t, err)
	text := string(out)
	names := map[string]string{
		"code-signing": "Code Signing", "server-auth": "TLS Web Server Authentication", "client-auth": "TLS Web Client Authentication",
		"time-stamping": "Time Stamping", "digital-signature": "Digital Signature", "key-encipherment": "Key Encipherment",
	}
	assert.Equal(t, c.ExtKeyUsage != nil, strings.Contains(text, "X509v3 Extended Key Usage"), "EKU extension presence")
	assert.Equal(t, c.KeyUsage != nil, strings.Contains(text, "X509v3 Key Usage"), "key usage extension presence")
	for _, n := range append(append([]string(nil), c.ExtKeyUsage...), c.KeyUsage...) {
		assert.Contains(t, text, names[n], n)
	}
	assert.Equal(t, len(c.OrganizationalUnits), strings.Count(text, "organizationalUnitName")-issuerOUs(cert), "OU count")
	for _, ou := range c.OrganizationalUnits {
		assert.Contains(t, text, "organizationalUnitName    = "+ou)
	}
	for _, ext := range c.AppleExtensions {
		assert.Contains(t, text, ext+": critical")
	}
}

func issuerOUs(c *x509.Certificate) int { return len(c.Issuer.OrganizationalUnit) }

// AppleTeamID: the Team ID a certificate states is its single OU, and only when an Apple
// code-signing extension backs it; every other shape says what was found.
func TestAppleTeamID(t *testing.T) {
	ext := []string{"1.2.840.113635.100.6.1.13"}
	cases := []struct {
		name     string
		c        *signers.Certificate
		team     string
		whyParts []string
	}{
		{"single OU with Developer ID extension", &signers.Certificate{OrganizationalUnits: []string{"9YV9435DHD"}, AppleExtensions: ext}, "9YV9435DHD", nil},
		{"single OU with Mac App Store extension", &signers.Certificate{OrganizationalUnits: []string{"UGHXR79U6M"}, AppleExtensions: []string{"1.2.840.113635.100.6.1.9"}}, "UGHXR79U6M", nil},
		{"no OU", &signers.Certificate{AppleExtensions: ext}, "", []string{"no subject OU"}},
		{"no OU, Team ID in UID only", &signers.Certificate{UID: "9YV9435DHD", AppleExtensions: ext}, "", []string{"no subject OU", `UID attribute "9YV9435DHD"`}},
		{"two OUs", &signers.Certificate{OrganizationalUnits: []string{"9YV9435DHD", "EVILTEAM01"}, AppleExtensions: ext}, "", []string{"2 subject OUs (9YV9435DHD, EVILTEAM01)"}},
		{"OU without the Apple extension", &signers.Certificate{OrganizationalUnits: []string{"9YV9435DHD"}}, "", []string{`OU "9YV9435DHD" is not backed by an Apple code-signing extension`}},
		{"UID and OU differ: the OU counts", &signers.Certificate{OrganizationalUnits: []string{"9YV9435DHD"}, UID: "EVILTEAM01", AppleExtensions: ext}, "9YV9435DHD", nil},
		{"no certificate", nil, "", []string{"no signer certificate"}},
	}
	for _, tc := range cases {
		team, why := tc.c.AppleTeamID()
		assert.Equal(t, tc.team, team, tc.name)
		if tc.whyParts == nil {
			assert.Empty(t, why, tc.name)
		}
		for _, p := range tc.whyParts {
			assert.Contains(t, why, p, tc.name)
		}
	}
}

// pki is a throwaway hierarchy for chain tests: a root ca and an unrelated root other (the
// "system pool" of the tests), an impostor with ca's name, an intermediate and a SHA-1
// signed intermediate.
type pki struct {
	ca, other, unknown, impostor, inter, sha1Inter, forgedInter *testfixtures.KeyPair
}

func newPKI(t *testing.T) *pki {
	t.Helper()
	var p pki
	var err error
	p.ca, err = testfixtures.NewCA("Chain Root")
	require.NoError(t, err)
	p.other, err = testfixtures.NewCA("Other Root")
	require.NoError(t, err)
	p.unknown, err = testfixtures.NewCA("Unknown Root")
	require.NoError(t, err)
	p.impostor, err = testfixtures.NewImpostorCA(p.ca)
	require.NoError(t, err)
	p.inter, err = testfixtures.NewIntermediate(p.ca, "Chain Intermediate", 0)
	require.NoError(t, err)
	p.sha1Inter, err = testfixtures.NewIntermediate(p.ca, "SHA-1 Intermediate", x509.SHA1WithRSA)
	require.NoError(t, err)
	// An intermediate that names ca as its issuer but was signed by the impostor.
	p.forgedInter, err = testfixtures.NewIntermediate(p.impostor, "Chain Intermediate", 0)
	require.NoError(t, err)
	return &p
}

// Item 11: when every pool fails, the most specific failure is the verdict, whatever the
// order of the pools: a forged certificate is untrusted, never an unknown root to be pinned.
func TestVerifyChainMostSpecific(t *testing.T) {
	p := newPKI(t)
	leaf := func(issuer *testfixtures.KeyPair, o testfixtures.LeafOptions) *x509.Certificate {
		k, err := testfixtures.NewLeaf(issuer, o)
		require.NoError(t, err)
		return k.Cert
	}
	now := time.Now()
	system := signers.TrustPool{Roots: p.other.Pool(), Anchor: signers.AnchorSystem}
	roots := signers.TrustPool{Roots: p.ca.Pool(), Anchor: signers.AnchorRoots}
	cases := []struct {
		name   string
		leaf   *x509.Certificate
		inter  []*x509.Certificate
		chain  signers.Chain
		anchor signers.Anchor
		errHas string
	}{
		{"trusted under roots", leaf(p.ca, testfixtures.LeafOptions{}), nil, signers.ChainTrusted, signers.AnchorRoots, ""},
		{"trusted through an intermediate", leaf(p.inter, testfixtures.LeafOptions{}), []*x509.Certificate{p.inter.Cert}, signers.ChainTrusted, signers.AnchorRoots, ""},
		{"forged leaf under the roots CA's name", leaf(p.impostor, testfixtures.LeafOptions{}), nil, signers.ChainUntrusted, "", `the issuer's signature on certificate "Fixture Code Signer" does not verify`},
		{"forged intermediate", leaf(p.forgedInter, testfixtures.LeafOptions{}), []*x509.Certificate{p.forgedInter.Cert}, signers.ChainUntrusted, "", `the issuer's signature on certificate "Chain Intermediate" does not verify`},
		{"expired leaf", leaf(p.ca, testfixtures.LeafOptions{NotBefore: now.AddDate(-2, 0, 0), NotAfter: now.AddDate(-1, 0, 0)}), nil, signers.ChainUntrusted, "", "expired or is not yet valid"},
		{"leaf not yet valid", leaf(p.ca, testfixtures.LeafOptions{NotBefore: now.AddDate(1, 0, 0), NotAfter: now.AddDate(2, 0, 0)}), nil, signers.ChainUntrusted, "", "expired or is not yet valid"},
		{"leaf with TLS EKU", leaf(p.ca, testfixtures.LeafOptions{EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}), nil, signers.ChainUntrusted, "", "incompatible key usage"},
		{"trusted under the system pool", leaf(p.other, testfixtures.LeafOptions{}), nil, signers.ChainTrusted, signers.AnchorSystem, ""},
		{"unknown root", leaf(p.unknown, testfixtures.LeafOptions{}), nil, signers.ChainUnknownRoot, "", "certificate signed by unknown authority"},
		{"expired leaf under an unknown root", leaf(p.unknown, testfixtures.LeafOptions{NotBefore: now.AddDate(-2, 0, 0), NotAfter: now.AddDate(-1, 0, 0)}), nil, signers.ChainUntrusted, "", "expired"},
		{"SHA-1 CA", leaf(p.sha1Inter, testfixtures.LeafOptions{}), []*x509.Certificate{p.sha1Inter.Cert}, signers.ChainInsecureAlgorithm, "", "insecure algorithm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			for _, pools := range [][]signers.TrustPool{{system, roots}, {roots, system}} {
				a, root, err := signers.VerifyChain(tc.leaf, tc.inter, nil, pools, x509.ExtKeyUsageCodeSigning, now)
				chain, msg := signers.DescribeChainError(err)
				assert.Equal(t, tc.chain, chain, msg)
				assert.Equal(t, tc.anchor, a)
				if tc.chain == signers.ChainTrusted {
					require.NotNil(t, root)
					assert.True(t, root.IsCA)
					continue
				}
				assert.Contains(t, msg, tc.errHas)
				assert.Nil(t, root)
			}
		})
	}

	// With neither pool holding the issuer, a forged name is just an unknown root.
	_, _, err := signers.VerifyChain(leaf(p.impostor, testfixtures.LeafOptions{}), nil, nil, []signers.TrustPool{system}, x509.ExtKeyUsageCodeSigning, now)
	chain, _ := signers.DescribeChainError(err)
	assert.Equal(t, signers.ChainUnknownRoot, chain)
	// No pool at all: unknown root.
	_, _, err = signers.VerifyChain(leaf(p.ca, testfixtures.LeafOptions{}), nil, nil, nil, x509.ExtKeyUsageCodeSigning, now)
	assert.Equal(t, signers.ChainUnknownRoot, signers.ClassifyChainError(err))
}

// The documented order: bad certificate signature > validity > usage > insecure algorithm >
// unknown root, whichever order the failures come in.
func TestMostSpecificChainErrorOrder(t *testing.T) {
	p := newPKI(t)
	now := time.Now()
	verify := func(c *x509.Certificate, inter []*x509.Certificate, roots *testfixtures.KeyPair) error {
		_, _, err := signers.VerifyChain(c, inter, nil, []signers.TrustPool{{Roots: roots.Pool(), Anchor: signers.AnchorRoots}}, x509.ExtKeyUsageCodeSigning, now)
		require.Error(t, err)
		return err
	}
	mk := func(issuer *testfixtures.KeyPair, o testfixtures.LeafOptions) *x509.Certificate {
		k, err := testfixtures.NewLeaf(issuer, o)
		require.NoError(t, err)
		return k.Cert
	}
	ordered := []error{
		verify(mk(p.impostor, testfixtures.LeafOptions{}), nil, p.ca),                                                            // bad signature
		verify(mk(p.ca, testfixtures.LeafOptions{NotBefore: now.AddDate(-2, 0, 0), NotAfter: now.AddDate(-1, 0, 0)}), nil, p.ca), // expired
		verify(mk(p.ca, testfixtures.LeafOptions{EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}), nil, p.ca),               // usage
		verify(mk(p.sha1Inter, testfixtures.LeafOptions{}), []*x509.Certificate{p.sha1Inter.Cert}, p.ca),                         // insecure
		verify(mk(p.ca, testfixtures.LeafOptions{}), nil, p.other),                                                               // unknown root
	}
	want := []signers.Chain{signers.ChainUntrusted, signers.ChainUntrusted, signers.ChainUntrusted, signers.ChainInsecureAlgorithm, signers.ChainUnknownRoot}
	for i, err := range ordered {
		assert.Equal(t, want[i], signers.ClassifyChainError(err), err.Error())
		// Against every less specific failure, in both orders, this one wins.
		for _, weaker := range ordered[i+1:] {
			assert.Equal(t, err.Error(), signers.MostSpecificChainError(weaker, err).Error())
			assert.Equal(t, err.Error(), signers.MostSpecificChainError(err, nil, weaker).Error())
		}
	}
	assert.True(t, signers.BadCertificateSignature(ordered[0]))
	for _, err := range ordered[1:] {
		assert.False(t, signers.BadCertificateSignature(err), err.Error())
	}
	assert.Nil(t, signers.MostSpecificChainError(nil, nil))
	assert.False(t, signers.BadCertificateSignature(errors.New("possibly because of verification error")), "only an x509 unknown-authority error")
}
