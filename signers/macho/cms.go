package macho

import (
	"bytes"
	"crypto"
	"crypto/hmac"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"

	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"github.com/sassoftware/relic/v7/lib/pkcs9"
	"github.com/sassoftware/relic/v7/lib/x509tools"

	"github.com/edrpolicy/edrpolicy/signers/internal/ber"
	"github.com/edrpolicy/edrpolicy/signers/safeplist"
)

// This file verifies the CMS blob of an embedded code signature. It deliberately uses only
// relic's lib/pkcs7, lib/pkcs9 and lib/x509tools: relic's lib/fruit/csblob pulls in
// lib/certloader and with it lib/passprompt, which does not build for windows/arm64.

// appleRootCA is Apple's "Apple Root CA" certificate (self-signed, RSA 2048, valid
// 2006-04-25 to 2035-02-09, SHA-256 fingerprint
// b0b1730ecbc7ff4505142c49f1295e6eda6bcaed7e2c68c5be91b5a11001f024). It is a public
// certificate, published at https://www.apple.com/certificateauthority/; this PEM was copied
// from the RootCA constant of github.com/sassoftware/relic/v7@v7.6.2/lib/fruit/csblob/asn1.go.
const appleRootCA = `-----BEGIN CERTIFICATE-----
MIIEuzCCA6OgAwIBAgIBAjANBgkqhkiG9w0BAQUFADBiMQswCQYDVQQGEwJVUzET
MBEGA1UEChMKQXBwbGUgSW5jLjEmMCQGA1UECxMdQXBwbGUgQ2VydGlmaWNhdGlv
biBBdXRob3JpdHkxFjAUBgNVBAMTDUFwcGxlIFJvb3QgQ0EwHhcNMDYwNDI1MjE0
MDM2WhcNMzUwMjA5MjE0MDM2WjBiMQswCQYDVQQGEwJVUzETMBEGA1UEChMKQXBw
bGUgSW5jLjEmMCQGA1UECxMdQXBwbGUgQ2VydGlmaWNhdGlvbiBBdXRob3JpdHkx
FjAUBgNVBAMTDUFwcGxlIFJvb3QgQ0EwggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAw
ggEKAoIBAQDkkakJH5HbHkdQ6wXtXnmELes2oldMVeyLGYne+Uts9QerIjAC6Bg+
+FAJ039BqJj50cpmnCRrEdCju+QbKsMflZ56DKRHi1vUFjczy8QPTc4UadHJGXL1
XQ7Vf1+b8iUDulWPTV0N8WQ1IxVLFVkds5T39pyez1C6wVhQZ48ItCD3y6wsIG9w
tj8BMIy3Q88PnT3zK0koGsj+zrW5DtleHNbLPbU6rfQPDgCSC7EhFi501TwN22IW
q6NxkkdTVcGvL0Gz+PvjcM3mo0xFfh9Ma1CWQYnEdGILEINBhzOKgbEwWOxaBDKM
aLOPHd5lc/9nXmW8Sdh2nzMUZaF3lMktAgMBAAGjggF6MIIBdjAOBgNVHQ8BAf8E
BAMCAQYwDwYDVR0TAQH/BAUwAwEB/zAdBgNVHQ4EFgQUK9BpR5R2Cf70a40uQKb3
R01/CF4wHwYDVR0jBBgwFoAUK9BpR5R2Cf70a40uQKb3R01/CF4wggERBgNVHSAE
ggEIMIIBBDCCAQAGCSqGSIb3Y2QFATCB8jAqBggrBgEFBQcCARYeaHR0cHM6Ly93
d3cuYXBwbGUuY29tL2FwcGxlY2EvMIHDBggrBgEFBQcCAjCBthqBs1JlbGlhbmNl
IG9uIHRoaXMgY2VydGlmaWNhdGUgYnkgYW55IHBhcnR5IGFzc3VtZXMgYWNjZXB0
YW5jZSBvZiB0aGUgdGhlbiBhcHBsaWNhYmxlIHN0YW5kYXJkIHRlcm1zIGFuZCBj
b25kaXRpb25zIG9mIHVzZSwgY2VydGlmaWNhdGUgcG9saWN5IGFuZCBjZXJ0aWZp
Y2F0aW9uIHByYWN0aWNlIHN0YXRlbWVudHMuMA0GCSqGSIb3DQEBBQUAA4IBAQBc
NplMLXi37Yyb3PN3m/J20ncwT8EfhYOFG5k9RzfyqZtAjizUsZAS2L70c5vu0mQP
y3lPNNiiPvl4/2vIB+x9OYOLUyDTOMSxv5pPCmv/K/xZpwUJfBdAVhEedNO3iyM7
R6PVbyTi69G3cN8PReEnyvFteO3ntRcXqNx+IjXKJdXZD9Zr1KIkIxH3oayPc4Fg
xhtbCS+SsvhESPBgOJ4V9T0mZyCKM2r3DYLP3uujL/lTaltkwGMzd/c6ByxW69oP
IQ7aunMZT7XZNn/Bh1XZp5m5MkL72NVxnn6hUrcbvZNCJBIqxw8dtk2cXmPIS4AX
UKqK1drk/NAJBzewdXUh
-----END CERTIFICATE-----
`

// Apple object identifiers used by code signatures.
var (
	// oidAppleCodeSigning prefixes the leaf extensions that endorse code signing
	// (1.2.840.113635.100.6.1.*: Developer ID, Mac App Store, Apple-internal, ...).
	oidAppleCodeSigning = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1}
	// oidAttrCDHashPlist is the signed attribute holding an XML plist {cdhashes: [data]} with
	// the 20-byte CDHash of every CodeDirectory, in slot order.
	oidAttrCDHashPlist = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 1}
	// oidAttrCDHashes is the signed attribute holding SEQUENCE {digest algorithm, full
	// digest} values, one per CodeDirectory.
	oidAttrCDHashes = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 2}
)

// markHandledExtensions removes Apple's code-signing extensions (1.2.840.113635.100.6.1.*,
// marked critical in Developer ID leaves) from cert.UnhandledCriticalExtensions, so that
// crypto/x509 chain building does not reject the certificate for them. Other unhandled
// critical extensions are left in place and still fail the chain.
func markHandledExtensions(cert *x509.Certificate) {
	if cert == nil {
		return
	}
	kept := cert.UnhandledCriticalExtensions[:0:0]
	for _, id := range cert.UnhandledCriticalExtensions {
		if !oidHasPrefix(id, oidAppleCodeSigning) {
			kept = append(kept, id)
		}
	}
	cert.UnhandledCriticalExtensions = kept
}

func oidHasPrefix(id, prefix asn1.ObjectIdentifier) bool {
	return len(id) >= len(prefix) && id[:len(prefix)].Equal(prefix)
}

// checkCMSShape runs the bounded BER walk (signers/internal/ber) over a signature's CMS
// blob, when it has one.
func checkCMSShape(sb *superBlob) error {
	if len(sb.cms) == 0 {
		return nil
	}
	if err := ber.Check(sb.cms); err != nil {
		return fmt.Errorf("CMS signature: %w", err)
	}
	return nil
}

// berToDER re-encodes the CMS with definite lengths (ber.ToDER, behind the same checks).
func berToDER(b []byte) ([]byte, error) { return ber.ToDER(b) }

// verifyCMS verifies the CMS signature of a parsed SuperBlob (sb.cms must be set):
//   - the SignedData has exactly one signer, whose signature is checked over the slot-0
//     CodeDirectory (detached content; messageDigest must equal its digest);
//   - the hash-agility attributes, when present, must match the CodeDirectories: the 9.1
//     plist must list the CDHash of every CodeDirectory in slot order, and every 9.2 entry
//     must equal the full digest of a CodeDirectory of that hash type;
//   - alternate CodeDirectories must be bound by one of those attributes, otherwise they
//     could be swapped without touching the signature;
//   - a timestamp (RFC 3161 token or PKCS#9 counter-signature) must verify when present.
//
// The certificate chain is not checked here. Panics inside the ASN.1 code on hostile input
// are turned into errors.
func verifyCMS(sb *superBlob) (ts *pkcs9.TimestampedSignature, err error) {
	defer func() {
		if r := recover(); r != nil {
			ts, err = nil, fmt.Errorf("malformed signature (%v)", r)
		}
	}()
	if len(sb.cms) == 0 {
		return nil, errors.New("signature wrapper is empty, possibly an ad-hoc signature")
	}
	der, err := berToDER(sb.cms)
	if err != nil {
		return nil, fmt.Errorf("CMS encoding: %w", err)
	}
	psd, err := pkcs7.Unmarshal(der)
	if err != nil {
		return nil, fmt.Errorf("CMS structure: %w", err)
	}
	if !psd.ContentType.Equal(pkcs7.OidSignedData) {
		return nil, fmt.Errorf("CMS content type %s is not signedData", psd.ContentType)
	}
	if err := checkSignedDataFields(&psd.Content, pkcs7.OidData); err != nil {
		return nil, err
	}
	sig, err := psd.Content.Verify(sb.cds[0].raw, false)
	if err != nil {
		return nil, err
	}
	if sig.SignerInfo == nil || sig.Certificate == nil {
		return nil, errors.New("CMS signer not found")
	}
	attrs := sig.SignerInfo.AuthenticatedAttributes
	if len(attrs) > 0 {
		// RFC 5652 5.3: with signed attributes, content-type must be present and name the
		// eContentType, which the signature does not otherwise cover.
		var ct asn1.ObjectIdentifier
		if err := attrs.GetOne(pkcs7.OidAttributeContentType, &ct); err != nil {
			return nil, fmt.Errorf("content-type attribute: %w", err)
		}
		if !ct.Equal(pkcs7.OidData) {
			return nil, fmt.Errorf("signed content type %s is not id-data", ct)
		}
	}
	bound := make([]bool, len(sb.cds)) // CodeDirectory i is bound by a hash-agility attribute
	bound[0] = true                    // the slot-0 CodeDirectory is the signed content itself
	if err := checkCDHashPlist(attrs, sb.cds, bound); err != nil {
		return nil, fmt.Errorf("verifying CodeDirectory hashes (plist attribute): %w", err)
	}
	if err := checkCDHashesAttr(attrs, sb.cds, bound); err != nil {
		return nil, fmt.Errorf("verifying CodeDirectory hashes: %w", err)
	}
	for i, ok := range bound {
		if !ok {
			return nil, fmt.Errorf("alternate CodeDirectory (slot %#x) is not bound by the signature (no matching hash-agility attribute)", sb.cds[i].slot)
		}
	}
	markHandledExtensions(sig.Certificate)
	for _, c := range sig.Intermediates {
		markHandledExtensions(c)
	}
	if err := checkTimestampToken(sig.SignerInfo.UnauthenticatedAttributes); err != nil {
		return nil, fmt.Errorf("timestamp token: %w", err)
	}
	t, err := pkcs9.VerifyOptionalTimestamp(sig)
	if err != nil {
		return nil, fmt.Errorf("timestamp: %w", err)
	}
	return &t, nil
}

var oidRSAPSS = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}

// checkSignedDataFields checks the parts of a SignedData that its signature does not cover
// but that must be consistent with it, so that as few bytes of a CMS blob as possible can be
// changed without effect: the versions, the single signer, the eContentType (id-data,
// detached), the signature algorithm's parameters and the digestAlgorithms set, which must
// list the signer's digest algorithm. Not covered by any signature, by design of CMS: the
// certificate bag (a changed certificate fails the signature or the chain, except a spare
// copy of a root) and the unsigned attributes (damaging the timestamp token drops or fails
// the timestamp).
func checkSignedDataFields(sd *pkcs7.SignedData, contentType asn1.ObjectIdentifier) error {
	if sd.Version != 1 && sd.Version != 3 {
		return fmt.Errorf("CMS SignedData version %d", sd.Version)
	}
	if n := len(sd.SignerInfos); n != 1 {
		return fmt.Errorf("CMS has %d signers, want exactly one", n)
	}
	if !sd.ContentInfo.ContentType.Equal(contentType) {
		return fmt.Errorf("CMS content type %s, want %s", sd.ContentInfo.ContentType, contentType)
	}
	si := &sd.SignerInfos[0]
	if si.Version != 1 {
		return fmt.Errorf("CMS SignerInfo version %d, want 1 (issuer and serial number)", si.Version)
	}
	// Parameters of the signature algorithm: absent or NULL, except for RSASSA-PSS.
	if p := si.DigestEncryptionAlgorithm.Parameters.FullBytes; len(p) != 0 && !bytes.Equal(p, []byte{0x05, 0x00}) &&
		!si.DigestEncryptionAlgorithm.Algorithm.Equal(oidRSAPSS) {
		return fmt.Errorf("unexpected parameters for signature algorithm %s", si.DigestEncryptionAlgorithm.Algorithm)
	}
	alg := si.DigestAlgorithm
	for _, a := range sd.DigestAlgorithmIdentifiers {
		if a.Algorithm.Equal(alg.Algorithm) && bytes.Equal(a.Parameters.FullBytes, alg.Parameters.FullBytes) {
			return nil
		}
	}
	return fmt.Errorf("signer digest algorithm %s is not listed in the SignedData", alg.Algorithm)
}

// checkTimestampToken applies checkSignedDataFields to an RFC 3161 timestamp token in the
// unsigned attributes, and checks the envelope that relic's lib/pkcs9 reads without looking
// at its tags: the attribute's SET, the token's content type and the [0] OCTET STRING that
// wraps the TSTInfo.
func checkTimestampToken(attrs pkcs7.AttributeList) error {
	for _, a := range attrs {
		if !a.Type.Equal(pkcs9.OidAttributeTimeStampToken) {
			continue
		}
		if a.Values.Class != asn1.ClassUniversal || a.Values.Tag != asn1.TagSet || !a.Values.IsCompound {
			return errors.New("attribute values are not a SET")
		}
		var token pkcs7.ContentInfoSignedData
		if err := attrs.GetOne(pkcs9.OidAttributeTimeStampToken, &token); err != nil {
			return err
		}
		if !token.ContentType.Equal(pkcs7.OidSignedData) {
			return fmt.Errorf("content type %s is not signedData", token.ContentType)
		}
		if err := checkSignedDataFields(&token.Content, pkcs9.OidTSTInfo); err != nil {
			return err
		}
		var ci struct {
			Type    asn1.ObjectIdentifier
			Wrapper asn1.RawValue
		}
		if _, err := asn1.Unmarshal(token.Content.ContentInfo.Raw, &ci); err != nil {
			return fmt.Errorf("encapsulated content: %w", err)
		}
		if ci.Wrapper.Class != asn1.ClassContextSpecific || ci.Wrapper.Tag != 0 || !ci.Wrapper.IsCompound {
			return errors.New("encapsulated content is not tagged [0]")
		}
		var inner asn1.RawValue
		if rest, err := asn1.Unmarshal(ci.Wrapper.Bytes, &inner); err != nil || len(rest) != 0 ||
			inner.Class != asn1.ClassUniversal || inner.Tag != asn1.TagOctetString || inner.IsCompound {
			return errors.New("encapsulated TSTInfo is not an OCTET STRING")
		}
		return nil
	}
	return nil
}

// checkCDHashPlist checks the 1.2.840.113635.100.9.1 attribute when present: an OCTET
// STRING holding a plist whose "cdhashes" array lists the 20-byte CDHash of each
// CodeDirectory in slot order, with exactly one entry per CodeDirectory.
func checkCDHashPlist(attrs pkcs7.AttributeList, cds []*codeDir, bound []bool) error {
	var text []byte
	if err := attrs.GetOne(oidAttrCDHashPlist, &text); err != nil {
		var none pkcs7.ErrNoAttribute
		if errors.As(err, &none) {
			return nil
		}
		return err
	}
	var pl struct {
		CDHashes [][]byte `plist:"cdhashes"`
	}
	if _, err := safeplist.Unmarshal(text, &pl); err != nil {
		return fmt.Errorf("parsing plist: %w", err)
	}
	if len(pl.CDHashes) != len(cds) {
		return fmt.Errorf("plist lists %d CDHashes but the signature has %d CodeDirectories", len(pl.CDHashes), len(cds))
	}
	for i, want := range pl.CDHashes {
		if got := cds[i].cdhash(); !hmac.Equal(want, got) {
			return fmt.Errorf("CodeDirectory slot %#x: CDHash %x, signed %x", cds[i].slot, got, want)
		}
		bound[i] = true
	}
	return nil
}

// cdHashEntry is one value of the 1.2.840.113635.100.9.2 attribute.
type cdHashEntry struct {
	Algorithm asn1.ObjectIdentifier
	Digest    []byte
}

// checkCDHashesAttr checks the 1.2.840.113635.100.9.2 attribute when present: every entry
// must equal the full digest of a CodeDirectory hashed with the entry's algorithm.
func checkCDHashesAttr(attrs pkcs7.AttributeList, cds []*codeDir, bound []bool) error {
	var entries []cdHashEntry
	if err := attrs.GetAll(oidAttrCDHashes, &entries); err != nil {
		var none pkcs7.ErrNoAttribute
		if errors.As(err, &none) {
			return nil
		}
		return err
	}
	if len(entries) == 0 {
		return errors.New("empty CodeDirectory hashes attribute")
	}
	for _, e := range entries {
		h, err := x509tools.PkixDigestToHashE(pkixAlg(e.Algorithm))
		if err != nil {
			return err
		}
		matched := false
		for i, cd := range cds {
			if cdCryptoHash(cd) != h {
				continue
			}
			if hmac.Equal(cd.fullHash(), e.Digest) {
				matched, bound[i] = true, true
				break
			}
		}
		if !matched {
			return fmt.Errorf("signed %s digest %x matches no CodeDirectory", h, e.Digest)
		}
	}
	return nil
}

// cdCryptoHash is the hash function of a CodeDirectory (validated by parseCodeDirectory).
func cdCryptoHash(cd *codeDir) crypto.Hash {
	_, _, h, _ := newHash(cd.hashType)
	return h
}

func pkixAlg(id asn1.ObjectIdentifier) pkix.AlgorithmIdentifier {
	return pkix.AlgorithmIdentifier{Algorithm: id}
}
