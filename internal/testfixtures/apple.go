package testfixtures

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"

	"github.com/sassoftware/relic/v7/lib/certloader"
	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"github.com/sassoftware/relic/v7/lib/pkcs9"
	"github.com/sassoftware/relic/v7/lib/x509tools"
)

// Apple certificate extension OIDs used by the fixture chain.
var (
	// AppleOIDDeveloperIDApplication marks a "Developer ID Application" leaf.
	AppleOIDDeveloperIDApplication = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 13}
	// AppleOIDMacAppStore marks a "Mac App Store" (Apple Distribution) leaf.
	AppleOIDMacAppStore = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 9}
	// AppleOIDDeveloperIDCA marks the Developer ID intermediate CA.
	AppleOIDDeveloperIDCA = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 2, 6}
)

// AppleChain is a throwaway Apple-style PKI: a self-signed root, a "Developer ID Certification
// Authority" intermediate and a "Developer ID Application" RSA leaf (RSA so that
// github.com/fullsailor/pkcs7 can read it), plus a time-stamping certificate under the root.
type AppleChain struct {
	Root, Intermediate, Leaf *x509.Certificate
	LeafKey                  *rsa.PrivateKey
	TSA                      *x509.Certificate
	TSAKey                   crypto.Signer
	TeamID                   string
}

// AppleChainOptions shape NewAppleChain's leaf.
type AppleChainOptions struct {
	// TeamID goes into the leaf's Subject OU and common name. Default "FIXTURE123".
	TeamID string
	// Organization is the leaf's O. Default "Fixture Corp".
	Organization string
	// LeafOID is the Apple code-signing extension of the leaf. Default Developer ID Application.
	LeafOID asn1.ObjectIdentifier
	// CommonName overrides the leaf's CN.
	CommonName string
	// OUs replaces the leaf's subject OUs (default [TeamID]); NoOU leaves the OU out.
	OUs  []string
	NoOU bool
	// UID sets the leaf's subject UID attribute (0.9.2342.19200300.100.1.1), where Apple's
	// Developer ID certificates also write the Team ID.
	UID string
	// NoAppleExtension leaves out the leaf's Apple code-signing extension (LeafOID).
	NoAppleExtension bool
	// LeafNotBefore and LeafNotAfter replace the leaf's validity (default: from an hour ago,
	// two years).
	LeafNotBefore, LeafNotAfter time.Time
	// LeafEKU replaces the leaf's extended key usages (default code signing); LeafNoEKU
	// leaves the extension out. LeafKeyUsage replaces its key usage (default digital
	// signature).
	LeafEKU      []x509.ExtKeyUsage
	LeafNoEKU    bool
	LeafKeyUsage x509.KeyUsage
}

// NewAppleChain creates a fresh Apple-style chain. Keys are generated each call; callers build
// it once per test binary.
func NewAppleChain(o AppleChainOptions) (*AppleChain, error) {
	o = appleChainDefaults(o)
	now := time.Now().Add(-time.Hour).UTC()
	root, rootKey, err := newAppleRoot(now)
	if err != nil {
		return nil, err
	}
	inter, interKey, err := newAppleIntermediate(now, root, rootKey)
	if err != nil {
		return nil, err
	}
	leafKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, fmt.Errorf("apple chain: leaf key: %w", err)
	}
	leafTmpl := appleLeafTemplate(o, now)
	leaf, err := createCert(leafTmpl, inter, &leafKey.PublicKey, interKey)
	if err != nil {
		return nil, fmt.Errorf("apple chain: leaf: %w", err)
	}
	tsa, tsaKey, err := newAppleTSA(now, root, rootKey)
	if err != nil {
		return nil, err
	}
	return &AppleChain{Root: root, Intermediate: inter, Leaf: leaf, LeafKey: leafKey, TSA: tsa, TSAKey: tsaKey, TeamID: o.TeamID}, nil
}

// appleChainDefaults fills the Team ID, organization, leaf OID and common name o leaves
// empty.
func appleChainDefaults(o AppleChainOptions) AppleChainOptions {
	if o.TeamID == "" {
		o.TeamID = "FIXTURE123"
	}
	if o.Organization == "" {
		o.Organization = "Fixture Corp"
	}
	if o.LeafOID == nil {
		o.LeafOID = AppleOIDDeveloperIDApplication
	}
	if o.CommonName == "" {
		o.CommonName = fmt.Sprintf("Developer ID Application: %s (%s)", o.Organization, o.TeamID)
	}
	return o
}

// newAppleRoot creates the self-signed fixture Apple root, valid from now for ten years.
func newAppleRoot(now time.Time) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	rootKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("apple chain: root key: %w", err)
	}
	rootTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "Fixture Apple Root CA", Organization: []string{"Fixture Apple"}, OrganizationalUnit: []string{"Fixture Certification Authority"}},
		NotBefore:             now,
		NotAfter:              now.Add(10 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	root, err := createCert(rootTmpl, rootTmpl, &rootKey.PublicKey, rootKey)
	if err != nil {
		return nil, nil, fmt.Errorf("apple chain: root: %w", err)
	}
	return root, rootKey, nil
}

// newAppleIntermediate creates the Developer ID CA (with Apple's Developer ID CA extension)
// under root, valid from now for five years.
func newAppleIntermediate(now time.Time, root *x509.Certificate, rootKey crypto.Signer) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	null := []byte{0x05, 0x00}
	interKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("apple chain: intermediate key: %w", err)
	}
	interTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(2),
		Subject:               pkix.Name{CommonName: "Developer ID Certification Authority", Organization: []string{"Fixture Apple"}, OrganizationalUnit: []string{"G2"}},
		NotBefore:             now,
		NotAfter:              now.Add(5 * 365 * 24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		ExtraExtensions:       []pkix.Extension{{Id: AppleOIDDeveloperIDCA, Value: null}},
	}
	inter, err := createCert(interTmpl, root, &interKey.PublicKey, rootKey)
	if err != nil {
		return nil, nil, fmt.Errorf("apple chain: intermediate: %w", err)
	}
	return inter, interKey, nil
}

// newAppleTSA creates the fixture timestamp authority under root, valid from now for five
// years.
func newAppleTSA(now time.Time, root *x509.Certificate, rootKey crypto.Signer) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	tsaKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("apple chain: tsa key: %w", err)
	}
	tsaTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject:      pkix.Name{CommonName: "Fixture Timestamp Authority", Organization: []string{"Fixture Apple"}},
		NotBefore:    now,
		NotAfter:     now.Add(5 * 365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageTimeStamping},
	}
	tsa, err := createCert(tsaTmpl, root, &tsaKey.PublicKey, rootKey)
	if err != nil {
		return nil, nil, fmt.Errorf("apple chain: tsa: %w", err)
	}
	return tsa, tsaKey, nil
}

// appleLeafTemplate is the Developer-ID-style leaf NewAppleChain issues, shaped by o.
func appleLeafTemplate(o AppleChainOptions, now time.Time) *x509.Certificate {
	ous := []string{o.TeamID}
	switch {
	case o.NoOU:
		ous = nil
	case o.OUs != nil:
		ous = o.OUs
	}
	t := &x509.Certificate{
		SerialNumber: big.NewInt(0x5eed),
		Subject: pkix.Name{
			CommonName:         o.CommonName,
			Organization:       []string{o.Organization},
			OrganizationalUnit: ous,
			Country:            []string{"US"},
		},
		NotBefore:   now,
		NotAfter:    now.Add(2 * 365 * 24 * time.Hour),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	if o.UID != "" {
		t.Subject.ExtraNames = []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}, Value: o.UID}}
	}
	if !o.NoAppleExtension {
		t.ExtraExtensions = []pkix.Extension{{Id: o.LeafOID, Critical: true, Value: []byte{0x05, 0x00}}}
	}
	if !o.LeafNotBefore.IsZero() {
		t.NotBefore = o.LeafNotBefore
	}
	if !o.LeafNotAfter.IsZero() {
		t.NotAfter = o.LeafNotAfter
	}
	switch {
	case o.LeafNoEKU:
		t.ExtKeyUsage = nil
	case o.LeafEKU != nil:
		t.ExtKeyUsage = o.LeafEKU
	}
	if o.LeafKeyUsage != 0 {
		t.KeyUsage = o.LeafKeyUsage
	}
	return t
}

func createCert(tmpl, parent *x509.Certificate, pub crypto.PublicKey, key crypto.Signer) (*x509.Certificate, error) {
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, key)
	if err != nil {
		return nil, err
	}
	return x509.ParseCertificate(der)
}

// RootPool returns a pool holding only the fixture root.
func (c *AppleChain) RootPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(c.Root)
	return p
}

// RootPEM returns the fixture root as PEM (for --roots).
func (c *AppleChain) RootPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Root.Raw})
}

// Signer returns the relic signing material; with timestamp it carries an in-process
// RFC 3161 time-stamping authority.
func (c *AppleChain) Signer(timestamp bool) *certloader.Certificate {
	cert := &certloader.Certificate{
		Leaf:         c.Leaf,
		Certificates: []*x509.Certificate{c.Leaf, c.Intermediate, c.Root},
		PrivateKey:   c.LeafKey,
	}
	if timestamp {
		cert.Timestamper = &appleTSA{key: c.TSAKey, cert: c.TSA}
	}
	return cert
}

// appleTSA is an in-process RFC 3161 timestamper (no network).
type appleTSA struct {
	key  crypto.Signer
	cert *x509.Certificate
}

// Timestamp implements pkcs9.Timestamper.
func (t *appleTSA) Timestamp(_ context.Context, req *pkcs9.Request) (*pkcs7.ContentInfoSignedData, error) {
	h := req.Hash.New()
	h.Write(req.EncryptedDigest)
	alg, ok := x509tools.PkixDigestAlgorithm(req.Hash)
	if !ok {
		return nil, fmt.Errorf("tsa: unsupported hash %v", req.Hash)
	}
	now := time.Now().UTC().Truncate(time.Second)
	gt, err := asn1.MarshalWithParams(now, "generalized")
	if err != nil {
		return nil, err
	}
	info := pkcs9.TSTInfo{
		Version:        1,
		Policy:         asn1.ObjectIdentifier{1, 2, 3, 4},
		MessageImprint: pkcs9.MessageImprint{HashAlgorithm: alg, HashedMessage: h.Sum(nil)},
		SerialNumber:   big.NewInt(now.UnixNano()),
		GenTime:        asn1.RawValue{FullBytes: gt},
	}
	der, err := asn1.Marshal(info)
	if err != nil {
		return nil, err
	}
	b := pkcs7.NewBuilder(t.key, []*x509.Certificate{t.cert}, crypto.SHA256)
	if err := b.SetContent(pkcs9.OidTSTInfo, der); err != nil {
		return nil, err
	}
	if err := b.AddAuthenticatedAttribute(pkcs7.OidAttributeSigningTime, now); err != nil {
		return nil, err
	}
	return b.Sign()
}
