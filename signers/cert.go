package signers

import (
	"crypto/sha1" // #nosec G505 -- certificate thumbprints are SHA-1 by convention
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"fmt"
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
	if len(c.Subject.OrganizationalUnit) > 0 {
		out.OrganizationalUnits = append([]string(nil), c.Subject.OrganizationalUnit...)
	}
	for _, atv := range c.Subject.Names {
		if s, ok := atv.Value.(string); ok && atv.Type.Equal(oidUID) && out.UID == "" {
			out.UID = s
		}
	}
	out.ExtKeyUsage = extKeyUsageNames(c)
	out.KeyUsage = keyUsageNames(c)
	for _, e := range c.Extensions {
		if hasOIDPrefix(e.Id, OIDAppleCodeSigningExt) {
			out.AppleExtensions = append(out.AppleExtensions, e.Id.String())
		}
	}
	return out
}

var (
	// OIDAppleCodeSigningExt prefixes the leaf extensions with which Apple endorses a
	// certificate for code signing (1.2.840.113635.100.6.1.*: Developer ID Application 13,
	// Mac App Store 9, Apple software signing 1, ...).
	OIDAppleCodeSigningExt = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1}
	oidUID                 = asn1.ObjectIdentifier{0, 9, 2342, 19200300, 100, 1, 1}
	oidExtKeyUsage         = asn1.ObjectIdentifier{2, 5, 29, 37}
	oidKeyUsage            = asn1.ObjectIdentifier{2, 5, 29, 15}
)

func hasOIDPrefix(id, prefix asn1.ObjectIdentifier) bool {
	return len(id) >= len(prefix) && id[:len(prefix)].Equal(prefix)
}

func hasExtension(c *x509.Certificate, id asn1.ObjectIdentifier) bool {
	for _, e := range c.Extensions {
		if e.Id.Equal(id) {
			return true
		}
	}
	return false
}

// Names of extended key usages, as Certificate.ExtKeyUsage lists them.
const (
	EKUCodeSigning = "code-signing"
	EKUAny         = "any"
)

var ekuNames = map[x509.ExtKeyUsage]string{
	x509.ExtKeyUsageAny:                            EKUAny,
	x509.ExtKeyUsageServerAuth:                     "server-auth",
	x509.ExtKeyUsageClientAuth:                     "client-auth",
	x509.ExtKeyUsageCodeSigning:                    EKUCodeSigning,
	x509.ExtKeyUsageEmailProtection:                "email-protection",
	x509.ExtKeyUsageIPSECEndSystem:                 "ipsec-end-system",
	x509.ExtKeyUsageIPSECTunnel:                    "ipsec-tunnel",
	x509.ExtKeyUsageIPSECUser:                      "ipsec-user",
	x509.ExtKeyUsageTimeStamping:                   "time-stamping",
	x509.ExtKeyUsageOCSPSigning:                    "ocsp-signing",
	x509.ExtKeyUsageMicrosoftServerGatedCrypto:     "ms-server-gated-crypto",
	x509.ExtKeyUsageNetscapeServerGatedCrypto:      "netscape-server-gated-crypto",
	x509.ExtKeyUsageMicrosoftCommercialCodeSigning: "ms-commercial-code-signing",
	x509.ExtKeyUsageMicrosoftKernelCodeSigning:     "ms-kernel-code-signing",
}

// extKeyUsageNames lists the certificate's extended key usages by name (unknown ones as
// dotted OIDs); nil when it has no extendedKeyUsage extension, ["none"] when the extension
// is present but lists nothing.
func extKeyUsageNames(c *x509.Certificate) []string {
	if !hasExtension(c, oidExtKeyUsage) {
		return nil
	}
	var out []string
	for _, u := range c.ExtKeyUsage {
		if n, ok := ekuNames[u]; ok {
			out = append(out, n)
		} else {
			out = append(out, fmt.Sprintf("eku-%d", int(u)))
		}
	}
	for _, id := range c.UnknownExtKeyUsage {
		out = append(out, id.String())
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// Names of key usage bits, as Certificate.KeyUsage lists them.
const KUDigitalSignature = "digital-signature"

var kuNames = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, KUDigitalSignature},
	{x509.KeyUsageContentCommitment, "content-commitment"},
	{x509.KeyUsageKeyEncipherment, "key-encipherment"},
	{x509.KeyUsageDataEncipherment, "data-encipherment"},
	{x509.KeyUsageKeyAgreement, "key-agreement"},
	{x509.KeyUsageCertSign, "cert-sign"},
	{x509.KeyUsageCRLSign, "crl-sign"},
	{x509.KeyUsageEncipherOnly, "encipher-only"},
	{x509.KeyUsageDecipherOnly, "decipher-only"},
}

// keyUsageNames lists the key usage bits set; nil when the certificate has no keyUsage
// extension, ["none"] when the extension sets no bit.
func keyUsageNames(c *x509.Certificate) []string {
	if !hasExtension(c, oidKeyUsage) {
		return nil
	}
	var out []string
	for _, k := range kuNames {
		if c.KeyUsage&k.bit != 0 {
			out = append(out, k.name)
		}
	}
	if len(out) == 0 {
		return []string{"none"}
	}
	return out
}

// AppleTeamID returns the Apple Team ID the certificate itself states: the single subject OU
// of a leaf that carries an Apple code-signing extension (1.2.840.113635.100.6.1.*). When it
// states none, why says what was found instead (no OU, several OUs, an OU without the Apple
// extension). The UID attribute, where Apple also writes the Team ID, is not read: Apple's
// own checks use the OU (the designated requirement `certificate leaf[subject.OU]`, and
// SecStaticCode::verifySignature comparing the CodeDirectory's Team ID with the leaf's OU in
// Apple's libsecurity_codesigning StaticCode.cpp).
//
// A Team ID stated by a certificate is worth no more than the root it chains to: anyone can
// mint a certificate with any OU and the Apple extensions. Callers must check that the chain
// is trusted and anchored at Apple's root (Signature.Anchor == AnchorApple).
func (c *Certificate) AppleTeamID() (team, why string) {
	if c == nil {
		return "", "no signer certificate"
	}
	switch n := len(c.OrganizationalUnits); {
	case n == 0:
		why = "the leaf certificate has no subject OU"
		if c.UID != "" {
			why += fmt.Sprintf(" (its UID attribute %q is not where Apple reads the Team ID)", c.UID)
		}
		return "", why
	case n > 1:
		return "", fmt.Sprintf("the leaf certificate has %d subject OUs (%s)", n, strings.Join(c.OrganizationalUnits, ", "))
	}
	if len(c.AppleExtensions) == 0 {
		return "", fmt.Sprintf("the leaf certificate's OU %q is not backed by an Apple code-signing extension (1.2.840.113635.100.6.1.*)", c.OrganizationalUnits[0])
	}
	return c.OrganizationalUnits[0], ""
}
