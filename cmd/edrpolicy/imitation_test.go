package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
)

// selfSigned makes a self-signed code-signing certificate with the given subject: what anyone
// can make, naming any company.
func selfSigned(t *testing.T, cn, org string) *testfixtures.KeyPair {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: cn, Organization: []string{org}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return &testfixtures.KeyPair{Cert: c, Key: key}
}

// TestInspectFlagsImitation: a certificate that claims Microsoft while nothing verifies it is
// flagged in the inspect table (NOTE column): self-signed is an imitation; under an unknown
// root it is unverified (a genuine Microsoft leaf on Linux looks the same); trusted through
// --roots it is not flagged, and the table has no NOTE column.
func TestInspectFlagsImitation(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a PE")
	}
	dir := t.TempDir()
	hello, err := testfixtures.PEBuildHello(dir, "amd64", testfixtures.PEBuildOptions{})
	require.NoError(t, err)
	ca, err := testfixtures.NewCA("Fixture Root (not Microsoft)")
	require.NoError(t, err)
	leaf, err := testfixtures.NewLeaf(ca, testfixtures.LeafOptions{CommonName: "Microsoft Corporation", Organization: "Microsoft Corporation"})
	require.NoError(t, err)
	fake := selfSigned(t, "Microsoft Corporation", "Microsoft Corporation")
	self := filepath.Join(dir, "self.exe")
	under := filepath.Join(dir, "under.exe")
	require.NoError(t, testfixtures.PESign(fake, nil, hello, self, testfixtures.PESignOptions{}))
	require.NoError(t, testfixtures.PESign(leaf, nil, hello, under, testfixtures.PESignOptions{}))
	rootsPEM := filepath.Join(dir, "roots.pem")
	require.NoError(t, os.WriteFile(rootsPEM, ca.CertPEM(), 0o644))

	code, out, errOut := runCLI("inspect", self, under)
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	assert.True(t, strings.HasSuffix(strings.TrimSpace(lines[0]), "NOTE"), lines[0])
	assert.Contains(t, lines[1], "IMITATION: self-signed, claims Microsoft Corporation product signing")
	assert.Contains(t, lines[2], "UNVERIFIED claim: Microsoft Corporation product signing (Microsoft Code Signing PCA) (chain unknown-root")

	code, out, errOut = runCLI("inspect", "--roots", rootsPEM, under)
	require.Equal(t, 0, code, errOut)
	assert.NotContains(t, out, "NOTE", "a trusted chain is not flagged")
	assert.Contains(t, out, "trusted")
}
