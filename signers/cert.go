package signers

import (
	"crypto/sha1" // #nosec G505 -- certificate thumbprints are SHA-1 by convention
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"strings"
)

// NewCertificate describes a leaf certificate. Thumbprints are over the DER encoding, so they
// equal `openssl x509 -fingerprint -sha1|-sha256` (without colons, lower case).
func NewCertificate(c *x509.Certificate) *Certificate {
	if c == nil {
		return nil
	}
	s1 := sha1.Sum(c.Raw) // #nosec G401
	s256 := sha256.Sum256(c.Raw)
	out := &Certificate{
		Subject:          c.Subject.String(),
		CommonName:       c.Subject.CommonName,
		Issuer:           c.Issuer.String(),
		ThumbprintSHA1:   hex.EncodeToString(s1[:]),
		ThumbprintSHA256: hex.EncodeToString(s256[:]),
		NotBefore:        c.NotBefore.UTC(),
		NotAfter:         c.NotAfter.UTC(),
		Raw:              c.Raw,
	}
	if len(c.Subject.Organization) > 0 {
		out.Organization = strings.Join(c.Subject.Organization, ", ")
	}
	if c.SerialNumber != nil {
		out.Serial = strings.ToLower(c.SerialNumber.Text(16))
	}
	return out
}

// ClassifyChainError maps the error of an x509 chain verification to a Chain verdict: nil is
// trusted; an unknown authority is unknown-root (Microsoft and UEFI roots are absent on Linux,
// Apple's on Windows); an algorithm Go refuses (SHA-1 CAs) is insecure-algorithm; anything
// else (expired, wrong key usage, bad signature in the chain) is untrusted.
func ClassifyChainError(err error) Chain {
	if err == nil {
		return ChainTrusted
	}
	var ia x509.InsecureAlgorithmError
	if errors.As(err, &ia) || strings.Contains(err.Error(), "insecure algorithm") {
		return ChainInsecureAlgorithm
	}
	var ua x509.UnknownAuthorityError
	if errors.As(err, &ua) {
		return ChainUnknownRoot
	}
	return ChainUntrusted
}
