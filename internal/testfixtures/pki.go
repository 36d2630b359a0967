package testfixtures

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"github.com/sassoftware/relic/v7/lib/pkcs9"
	"github.com/sassoftware/relic/v7/lib/x509tools"
)

// KeyType selects the key algorithm of a generated certificate.
type KeyType string

// Key types for NewCA and NewLeaf.
const (
	KeyRSA   KeyType = "rsa"   // RSA-2048
	KeyECDSA KeyType = "ecdsa" // ECDSA P-256
)

// KeyPair is a certificate with its private key.
type KeyPair struct {
	Cert *x509.Certificate
	Key  crypto.Signer
}

// CertPEM returns the certificate in PEM form.
func (k *KeyPair) CertPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.Cert.Raw})
}

// KeyPEM returns the private key in PKCS#8 PEM form.
func (k *KeyPair) KeyPEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.Key)
	if err != nil {
		return nil, fmt.Errorf("marshal key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// WriteFiles writes the certificate and key as PEM files certPath and keyPath (for tools such
// as osslsigncode and sbverify).
func (k *KeyPair) WriteFiles(certPath, keyPath string) error {
	if err := os.WriteFile(certPath, k.CertPEM(), 0o600); err != nil {
		return err
	}
	if keyPath == "" {
		return nil
	}
	kp, err := k.KeyPEM()
	if err != nil {
		return err
	}
	return os.WriteFile(keyPath, kp, 0o600)
}

// Pool returns a pool holding only this certificate (for a CA: the trusted roots of a test).
func (k *KeyPair) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(k.Cert)
	return p
}

func pkiKey(t KeyType) (crypto.Signer, error) {
	switch t {
	case KeyECDSA:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case KeyRSA, "":
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("unknown key type %q", t)
}

func pkiSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
}

func pkiIssue(tmpl *x509.Certificate, parent *KeyPair, key crypto.Signer) (*KeyPair, error) {
	serial, err := pkiSerial()
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	signer, parentCert := key, tmpl
	if parent != nil {
		signer, parentCert = parent.Key, parent.Cert
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parentCert, key.Public(), signer)
	if err != nil {
		return nil, fmt.Errorf("create certificate %q: %w", tmpl.Subject.CommonName, err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &KeyPair{Cert: c, Key: key}, nil
}

// NewCA makes a self-signed RSA root CA named cn, valid from an hour ago for ten years.
func NewCA(cn string) (*KeyPair, error) {
	key, err := pkiKey(KeyRSA)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return pkiIssue(&x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Fixture Trust"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, key)
}

// LeafOptions shape a code-signing leaf made by NewLeaf.
type LeafOptions struct {
	CommonName   string  // default "Fixture Code Signer"
	Organization string  // default "Fixture Corp"
	Key          KeyType // default RSA
	// NotBefore and NotAfter default to an hour ago and one year from now.
	NotBefore, NotAfter time.Time
	// EKU replaces the extended key usages (default code signing); NoEKU leaves the
	// extension out.
	EKU   []x509.ExtKeyUsage
	NoEKU bool
	// KeyUsage replaces the key usage (default digital signature); NoKeyUsage leaves the
	// extension out.
	KeyUsage   x509.KeyUsage
	NoKeyUsage bool
	// SignatureAlgorithm is the algorithm the issuer signs the leaf with (default: Go's
	// choice for the issuer's key), e.g. x509.SHA1WithRSA.
	SignatureAlgorithm x509.SignatureAlgorithm
}

// NewLeaf issues a code-signing leaf certificate (EKU codeSigning) under ca.
func NewLeaf(ca *KeyPair, o LeafOptions) (*KeyPair, error) {
	if o.CommonName == "" {
		o.CommonName = "Fixture Code Signer"
	}
	if o.Organization == "" {
		o.Organization = "Fixture Corp"
	}
	now := time.Now()
	if o.NotBefore.IsZero() {
		o.NotBefore = now.Add(-time.Hour)
	}
	if o.NotAfter.IsZero() {
		o.NotAfter = now.AddDate(1, 0, 0)
	}
	key, err := pkiKey(o.Key)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		Subject:            pkix.Name{CommonName: o.CommonName, Organization: []string{o.Organization}},
		NotBefore:          o.NotBefore,
		NotAfter:           o.NotAfter,
		KeyUsage:           x509.KeyUsageDigitalSignature,
		ExtKeyUsage:        []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		SignatureAlgorithm: o.SignatureAlgorithm,
	}
	switch {
	case o.NoEKU:
		tmpl.ExtKeyUsage = nil
	case o.EKU != nil:
		tmpl.ExtKeyUsage = o.EKU
	}
	switch {
	case o.NoKeyUsage:
		tmpl.KeyUsage = 0
	case o.KeyUsage != 0:
		tmpl.KeyUsage = o.KeyUsage
	}
	return pkiIssue(tmpl, ca, key)
}

// NewImpostorCA makes a self-signed CA with exactly the subject of ca but a key of its own:
// what an attacker who knows a trusted CA's name, and not its key, can make. Leaves it issues
// name ca as their issuer; their signatures do not verify under ca's key.
func NewImpostorCA(ca *KeyPair) (*KeyPair, error) {
	key, err := pkiKey(KeyRSA)
	if err != nil {
		return nil, err
	}
	return pkiIssue(&x509.Certificate{
		RawSubject:            ca.Cert.RawSubject,
		NotBefore:             ca.Cert.NotBefore,
		NotAfter:              ca.Cert.NotAfter,
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}, nil, key)
}

// NewIntermediate issues an RSA intermediate CA named cn under parent, signed with sigAlg
// (zero: Go's choice; x509.SHA1WithRSA makes the SHA-1 CA that Go refuses to chain through).
func NewIntermediate(parent *KeyPair, cn string, sigAlg x509.SignatureAlgorithm) (*KeyPair, error) {
	key, err := pkiKey(KeyRSA)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	return pkiIssue(&x509.Certificate{
		Subject:               pkix.Name{CommonName: cn, Organization: []string{"Fixture Trust"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(5, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
		SignatureAlgorithm:    sigAlg,
	}, parent, key)
}

// NewTSA issues an RSA time-stamping certificate (critical EKU timeStamping) under ca.
func NewTSA(ca *KeyPair, cn string) (*KeyPair, error) {
	key, err := pkiKey(KeyRSA)
	if err != nil {
		return nil, err
	}
	now := time.Now()
	eku, err := asn1.Marshal([]asn1.ObjectIdentifier{{1, 3, 6, 1, 5, 5, 7, 3, 8}})
	if err != nil {
		return nil, err
	}
	return pkiIssue(&x509.Certificate{
		Subject:         pkix.Name{CommonName: cn, Organization: []string{"Fixture Trust"}},
		NotBefore:       now.Add(-time.Hour),
		NotAfter:        now.AddDate(5, 0, 0),
		KeyUsage:        x509.KeyUsageDigitalSignature,
		ExtraExtensions: []pkix.Extension{{Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true, Value: eku}},
	}, ca, key)
}

// LocalTSA is an in-process RFC 3161 time-stamping authority (a relic pkcs9.Timestamper), so
// that timestamped fixtures need no network.
type LocalTSA struct {
	TSA *KeyPair
	// Chain are extra certificates to embed in each token (usually none).
	Chain []*x509.Certificate
	// Time is the time to stamp; zero means now.
	Time time.Time
}

var _ pkcs9.Timestamper = (*LocalTSA)(nil)

// Timestamp implements pkcs9.Timestamper.
func (t *LocalTSA) Timestamp(_ context.Context, req *pkcs9.Request) (*pkcs7.ContentInfoSignedData, error) {
	hash := req.Hash
	if hash == 0 {
		hash = crypto.SHA256
	}
	h := hash.New()
	h.Write(req.EncryptedDigest)
	alg, ok := x509tools.PkixDigestAlgorithm(hash)
	if !ok {
		return nil, fmt.Errorf("tsa: unsupported hash %v", hash)
	}
	now := t.Time
	if now.IsZero() {
		now = time.Now()
	}
	now = now.UTC().Truncate(time.Millisecond)
	gt, err := asn1.MarshalWithParams(now, "generalized")
	if err != nil {
		return nil, err
	}
	serial, err := pkiSerial()
	if err != nil {
		return nil, err
	}
	info := pkcs9.TSTInfo{
		Version:        1,
		Policy:         asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1},
		MessageImprint: pkcs9.MessageImprint{HashAlgorithm: alg, HashedMessage: h.Sum(nil)},
		SerialNumber:   serial,
		GenTime:        asn1.RawValue{FullBytes: gt},
	}
	der, err := asn1.Marshal(info) // DER bytes, so that eContent is an OCTET STRING
	if err != nil {
		return nil, err
	}
	b := pkcs7.NewBuilder(t.TSA.Key, append([]*x509.Certificate{t.TSA.Cert}, t.Chain...), crypto.SHA256)
	if err := b.SetContent(pkcs9.OidTSTInfo, der); err != nil {
		return nil, err
	}
	if err := b.AddAuthenticatedAttribute(pkcs7.OidAttributeSigningTime, now); err != nil {
		return nil, err
	}
	return b.Sign()
}

// Thumbprint256 is the hex SHA-256 of a certificate's DER (for assertions).
func Thumbprint256(c *x509.Certificate) string {
	s := sha256.Sum256(c.Raw)
	return fmt.Sprintf("%x", s)
}
