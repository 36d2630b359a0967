package signers_test

import (
	"crypto/x509"
	"errors"
	"fmt"
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

func TestAggregate(t *testing.T) {
	v := signers.Signature{Status: signers.StatusValid}
	inv := signers.Signature{Status: signers.StatusInvalid}
	ad := signers.Signature{Status: signers.StatusAdhoc}
	odd := signers.Signature{Status: "weird"}
	for _, tt := range []struct {
		name string
		sigs []signers.Signature
		want signers.Status
	}{
		{"none", nil, signers.StatusUnsigned},
		{"valid", []signers.Signature{v}, signers.StatusValid},
		{"valid and nested valid", []signers.Signature{v, v}, signers.StatusValid},
		{"one invalid among valid makes the file invalid", []signers.Signature{v, inv}, signers.StatusInvalid},
		{"invalid first", []signers.Signature{inv, v}, signers.StatusInvalid},
		{"adhoc", []signers.Signature{ad}, signers.StatusAdhoc},
		{"adhoc slice and valid slice", []signers.Signature{v, ad}, signers.StatusAdhoc},
		{"adhoc and invalid", []signers.Signature{ad, inv}, signers.StatusInvalid},
		{"unknown status is never trusted", []signers.Signature{v, odd}, signers.StatusInvalid},
	} {
		assert.Equal(t, tt.want, signers.Aggregate(tt.sigs), tt.name)
	}
}

// Thumbprints, serial and names agree with openssl's view of the same certificate.
func TestNewCertificateMatchesOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("openssl is required in CI")
		}
		t.Skip("openssl not installed")
	}
	ca, err := testfixtures.NewCA("Cross Check Root")
	require.NoError(t, err)
	leaf, err := testfixtures.NewLeaf(ca, testfixtures.LeafOptions{CommonName: "Cross Check Signer", Organization: "Cross Check Org"})
	require.NoError(t, err)
	pemFile := filepath.Join(t.TempDir(), "leaf.pem")
	require.NoError(t, os.WriteFile(pemFile, leaf.CertPEM(), 0o644))

	c := signers.NewCertificate(leaf.Cert)
	openssl := func(args ...string) string {
		out, err := exec.Command("openssl", append([]string{"x509", "-in", pemFile, "-noout"}, args...)...).Output()
		require.NoError(t, err)
		return strings.TrimSpace(string(out))
	}
	fp := func(s string) string { // "SHA1 Fingerprint=AB:CD:..." -> "abcd..."
		return strings.ToLower(strings.ReplaceAll(s[strings.Index(s, "=")+1:], ":", ""))
	}
	assert.Equal(t, fp(openssl("-fingerprint", "-sha1")), c.ThumbprintSHA1)
	assert.Equal(t, fp(openssl("-fingerprint", "-sha256")), c.ThumbprintSHA256)
	serial := strings.ToLower(strings.TrimPrefix(openssl("-serial"), "serial="))
	assert.Equal(t, strings.TrimLeft(serial, "0"), c.Serial)
	assert.Equal(t, "Cross Check Signer", c.CommonName)
	assert.Equal(t, "Cross Check Org", c.Organization)
	assert.Equal(t, "CN=Cross Check Signer,O=Cross Check Org", c.Subject)
	assert.Contains(t, c.Issuer, "CN=Cross Check Root")
	assert.Equal(t, leaf.Cert.Raw, c.Raw)
	assert.Equal(t, time.UTC, c.NotAfter.Location())
	assert.Nil(t, signers.NewCertificate(nil))
}

func TestClassifyChainError(t *testing.T) {
	ca, err := testfixtures.NewCA("Classify Root")
	require.NoError(t, err)
	other, err := testfixtures.NewCA("Other Root")
	require.NoError(t, err)
	leaf, err := testfixtures.NewLeaf(ca, testfixtures.LeafOptions{})
	require.NoError(t, err)
	expired, err := testfixtures.NewLeaf(ca, testfixtures.LeafOptions{NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	require.NoError(t, err)
	verify := func(c *x509.Certificate, roots *x509.CertPool) error {
		_, err := c.Verify(x509.VerifyOptions{Roots: roots, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}})
		return err
	}
	assert.Equal(t, signers.ChainTrusted, signers.ClassifyChainError(verify(leaf.Cert, ca.Pool())))
	assert.Equal(t, signers.ChainUnknownRoot, signers.ClassifyChainError(verify(leaf.Cert, other.Pool())))
	assert.Equal(t, signers.ChainUntrusted, signers.ClassifyChainError(verify(expired.Cert, ca.Pool())))
	assert.Equal(t, signers.ChainInsecureAlgorithm, signers.ClassifyChainError(fmt.Errorf("chain: %w", x509.InsecureAlgorithmError(x509.SHA1WithRSA))))
	assert.Equal(t, signers.ChainUntrusted, signers.ClassifyChainError(errors.New("something else")))
}

func TestParseRoots(t *testing.T) {
	a, err := testfixtures.NewCA("Root A")
	require.NoError(t, err)
	b, err := testfixtures.NewCA("Root B")
	require.NoError(t, err)
	key, err := a.KeyPEM()
	require.NoError(t, err)
	data := append(append(append([]byte("comment\n"), a.CertPEM()...), key...), b.CertPEM()...)
	pool, certs, err := signers.ParseRoots(data)
	require.NoError(t, err)
	require.Len(t, certs, 2, "private keys and text are skipped")
	assert.Equal(t, "Root A", certs[0].Subject.CommonName)
	assert.Equal(t, "Root B", certs[1].Subject.CommonName)
	leaf, err := testfixtures.NewLeaf(b, testfixtures.LeafOptions{})
	require.NoError(t, err)
	_, err = leaf.Cert.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}})
	assert.NoError(t, err)

	_, _, err = signers.ParseRoots([]byte("not pem"))
	assert.EqualError(t, err, "no PEM CERTIFICATE block found")
	_, _, err = signers.ParseRoots([]byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
	assert.ErrorContains(t, err, "PEM block 1:")
}
