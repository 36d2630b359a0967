package testfixtures

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/sassoftware/relic/v7/lib/authenticode"
	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"github.com/sassoftware/relic/v7/lib/pkcs9"
	"github.com/sassoftware/relic/v7/lib/x509tools"
)

// LegacyTSA is an in-process time-stamping authority of the legacy Authenticode kind: it
// countersigns a primary signature with a PKCS#9 counterSignature (unauthenticated attribute
// 1.2.840.113549.1.9.6), a SignerInfo of the TSA over the primary SignerInfo's encryptedDigest
// with the signed attributes contentType (id-data), signingTime and messageDigest, the way
// pre-RFC 3161 Windows timestamps look. It can add such a countersignature to a signed PE
// (PEAddLegacyTimestamp) and serve the legacy Authenticode timestamp protocol over HTTP
// (ServeHTTP, for `osslsigncode sign|add -t URL`).
type LegacyTSA struct {
	TSA *KeyPair
	// Chain are extra certificates to add (usually none; the CA stays out, like the signer's).
	Chain []*x509.Certificate
	// Time is the signingTime to stamp (UTCTime, whole seconds); zero means now.
	Time time.Time
	// Hash is the countersignature's digest algorithm; zero means the primary's (PEAdd...)
	// or SHA-256 (ServeHTTP).
	Hash crypto.Hash
}

// StampTime is the signingTime the TSA writes: Time (or now) in UTC truncated to the second.
func (t *LegacyTSA) StampTime() time.Time {
	now := t.Time
	if now.IsZero() {
		now = time.Now()
	}
	return now.UTC().Truncate(time.Second)
}

// CounterSign returns the TSA's SignerInfo over encryptedDigest (the countersigned
// signature's value): messageDigest = hash(encryptedDigest), and the signed attributes in the
// order DER requires of a SET OF (by encoding). Verifiers hash the attributes as encoded
// (relic from the original bytes; OpenSSL keeps their order when it re-encodes a SignerInfo,
// as `osslsigncode add` does), so any order would verify; DER is the canonical one.
func (t *LegacyTSA) CounterSign(encryptedDigest []byte, hash crypto.Hash) (*pkcs7.SignerInfo, error) {
	if t.TSA == nil {
		return nil, errors.New("legacy tsa: no TSA key pair")
	}
	if hash == 0 {
		hash = crypto.SHA256
	}
	h := hash.New()
	h.Write(encryptedDigest)
	digestAlg, sigAlg, err := x509tools.PkixAlgorithms(t.TSA.Key.Public(), hash)
	if err != nil {
		return nil, fmt.Errorf("legacy tsa: %w", err)
	}
	var attrs pkcs7.AttributeList
	for _, a := range []struct {
		oid asn1.ObjectIdentifier
		v   any
	}{
		{pkcs7.OidAttributeContentType, pkcs7.OidData},
		{pkcs7.OidAttributeSigningTime, t.StampTime()}, // UTCTime for 1950-2049
		{pkcs7.OidAttributeMessageDigest, h.Sum(nil)},
	} {
		if err := attrs.Add(a.oid, a.v); err != nil {
			return nil, err
		}
	}
	// DER orders a SET OF by the encodings of its elements.
	enc := make(map[int][]byte, len(attrs))
	for i := range attrs {
		if enc[i], err = asn1.Marshal(attrs[i]); err != nil {
			return nil, err
		}
	}
	idx := []int{0, 1, 2}
	sort.Slice(idx, func(a, b int) bool { return bytes.Compare(enc[idx[a]], enc[idx[b]]) < 0 })
	sorted := make(pkcs7.AttributeList, len(attrs))
	for i, j := range idx {
		sorted[i] = attrs[j]
	}
	signed, err := sorted.Bytes()
	if err != nil {
		return nil, err
	}
	d := hash.New()
	d.Write(signed)
	sig, err := t.TSA.Key.Sign(rand.Reader, d.Sum(nil), hash)
	if err != nil {
		return nil, fmt.Errorf("legacy tsa: sign: %w", err)
	}
	return &pkcs7.SignerInfo{
		Version: 1,
		IssuerAndSerialNumber: pkcs7.IssuerAndSerial{
			IssuerName:   asn1.RawValue{FullBytes: t.TSA.Cert.RawIssuer},
			SerialNumber: t.TSA.Cert.SerialNumber,
		},
		DigestAlgorithm:           digestAlg,
		AuthenticatedAttributes:   sorted,
		DigestEncryptionAlgorithm: sigAlg,
		EncryptedDigest:           sig,
	}, nil
}

// Countersign adds a legacy countersignature to the (first) SignerInfo of psd and the TSA's
// certificates to its certificates. A timestamp already there is an error.
func (t *LegacyTSA) Countersign(psd *pkcs7.ContentInfoSignedData) error {
	if len(psd.Content.SignerInfos) != 1 {
		return fmt.Errorf("legacy tsa: %d SignerInfos, want 1", len(psd.Content.SignerInfos))
	}
	si := &psd.Content.SignerInfos[0]
	for _, oid := range []asn1.ObjectIdentifier{pkcs9.OidAttributeCounterSign, pkcs9.OidAttributeTimeStampToken, pkcs9.OidSpcTimeStampToken} {
		if si.UnauthenticatedAttributes.Exists(oid) {
			return fmt.Errorf("legacy tsa: the signature already carries a timestamp (%v)", oid)
		}
	}
	hash := t.Hash
	if hash == 0 {
		h, err := x509tools.PkixDigestToHashE(si.DigestAlgorithm)
		if err != nil {
			return fmt.Errorf("legacy tsa: primary digest algorithm: %w", err)
		}
		hash = h
	}
	cs, err := t.CounterSign(si.EncryptedDigest, hash)
	if err != nil {
		return err
	}
	if err := si.UnauthenticatedAttributes.Add(pkcs9.OidAttributeCounterSign, *cs); err != nil {
		return err
	}
	// encoding/asn1 re-emits a struct's RawContent verbatim: drop it so that the SignerInfo is
	// encoded from its fields, new unauthenticated attribute included. The authenticated
	// attributes keep their original bytes (each Attribute's value is a RawValue).
	si.RawContent = nil
	for _, c := range append([]*x509.Certificate{t.TSA.Cert}, t.Chain...) {
		psd.Content.Certificates = append(psd.Content.Certificates, asn1.RawValue{FullBytes: c.Raw})
	}
	return nil
}

// PEAddLegacyTimestamp reads the PE at in, signed with a single signature and no timestamp
// (PESign without a TSA, or osslsigncode), adds a legacy countersignature by t to that
// signature and writes out (a new file; in is left alone), replacing the certificate table
// (new WIN_CERTIFICATE, 8-byte aligned, certificate directory size updated) and fixing the PE
// checksum. The image digest does not change: the certificate table is not hashed.
func PEAddLegacyTimestamp(in, out string, t *LegacyTSA) error {
	stamp := *t
	stamp.Time = t.StampTime()
	b, err := os.ReadFile(in)
	if err != nil {
		return err
	}
	// relic reports where the image ends (OrigSize: the existing table's start, the file
	// holding nothing after the table) and where a new table goes (CertStart, 8-aligned).
	d, err := authenticode.DigestPE(bytes.NewReader(b), crypto.SHA256, false)
	if err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	tbl := b[d.OrigSize:]
	if len(tbl) < 8 || d.CertStart != d.OrigSize {
		return fmt.Errorf("%s: no 8-aligned certificate table (%d bytes at %#x)", in, len(tbl), d.OrigSize)
	}
	l := int(binary.LittleEndian.Uint32(tbl))
	if l <= 8 || l > len(tbl) || len(bytes.Trim(tbl[min((l+7)&^7, len(tbl)):], "\x00")) != 0 {
		return fmt.Errorf("%s: want exactly one WIN_CERTIFICATE entry (first is %d of %d bytes)", in, l, len(tbl))
	}
	psd, err := pkcs7.Unmarshal(tbl[8:l])
	if err != nil {
		return fmt.Errorf("%s: PKCS#7: %w", in, err)
	}
	if err := stamp.Countersign(psd); err != nil {
		return fmt.Errorf("%s: %w", in, err)
	}
	der, err := psd.Marshal()
	if err != nil {
		return fmt.Errorf("%s: marshal PKCS#7: %w", in, err)
	}
	// Self-check through relic, the code the verifier relies on.
	again, err := pkcs7.Unmarshal(der)
	if err != nil {
		return fmt.Errorf("self-check: %w", err)
	}
	sig, err := again.Content.Verify(nil, false)
	if err != nil {
		return fmt.Errorf("self-check: primary signature: %w", err)
	}
	if cs, err := pkcs9.VerifyPkcs7(sig); err != nil || cs == nil || !cs.SigningTime.Equal(stamp.Time) {
		return fmt.Errorf("self-check: countersignature: %w (found: %v)", err, cs != nil)
	}
	patch, err := d.MakePatch(der)
	if err != nil {
		return err
	}
	f, err := os.Open(in)
	if err != nil {
		return err
	}
	defer f.Close()
	return applyAndFixChecksum(patch, f, in, out)
}

// legacyContentInfo is the content of a legacy Authenticode TimeStampRequest:
//
//	TimeStampRequest ::= SEQUENCE {
//	    countersignatureType OBJECT IDENTIFIER, -- 1.3.6.1.4.1.311.3.2.1
//	    attributes Attributes OPTIONAL,
//	    content ContentInfo }                   -- id-data, [0] OCTET STRING encryptedDigest
type legacyContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     []byte `asn1:"explicit,tag:0"`
}

// LegacyResponse answers a legacy Authenticode timestamp request (DER, already base64-decoded)
// with the DER of a PKCS#7 SignedData: content id-data holding the countersigned
// encryptedDigest, the TSA's certificates and its countersigning SignerInfo (the form a
// requester such as osslsigncode moves into the counterSignature attribute).
func (t *LegacyTSA) LegacyResponse(req []byte) ([]byte, error) {
	var seq []asn1.RawValue
	if rest, err := asn1.Unmarshal(req, &seq); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("legacy tsa: request: %w (%d trailing bytes)", err, len(rest))
	}
	if len(seq) < 2 {
		return nil, fmt.Errorf("legacy tsa: request has %d fields", len(seq))
	}
	var typ asn1.ObjectIdentifier
	if _, err := asn1.Unmarshal(seq[0].FullBytes, &typ); err != nil || !typ.Equal(pkcs9.OidSpcTimeStampRequest) {
		return nil, fmt.Errorf("legacy tsa: request type %v (%w), want %v", typ, err, pkcs9.OidSpcTimeStampRequest)
	}
	var ci legacyContentInfo
	if _, err := asn1.Unmarshal(seq[len(seq)-1].FullBytes, &ci); err != nil || !ci.ContentType.Equal(pkcs7.OidData) {
		return nil, fmt.Errorf("legacy tsa: request content %v (%w), want id-data", ci.ContentType, err)
	}
	hash := t.Hash
	if hash == 0 {
		hash = crypto.SHA256
	}
	si, err := t.CounterSign(ci.Content, hash)
	if err != nil {
		return nil, err
	}
	content, err := pkcs7.NewContentInfo(pkcs7.OidData, ci.Content)
	if err != nil {
		return nil, err
	}
	certs := pkcs7.RawCertificates{{FullBytes: t.TSA.Cert.Raw}}
	for _, c := range t.Chain {
		certs = append(certs, asn1.RawValue{FullBytes: c.Raw})
	}
	psd := pkcs7.ContentInfoSignedData{
		ContentType: pkcs7.OidSignedData,
		Content: pkcs7.SignedData{
			Version:                    1,
			DigestAlgorithmIdentifiers: []pkix.AlgorithmIdentifier{si.DigestAlgorithm},
			ContentInfo:                content,
			Certificates:               certs,
			SignerInfos:                []pkcs7.SignerInfo{*si},
		},
	}
	return psd.Marshal()
}

// ServeHTTP implements the legacy Authenticode timestamp protocol: a POST whose body is a
// base64 TimeStampRequest, answered with a base64 PKCS#7 SignedData (LegacyResponse) as
// application/octet-stream.
func (t *LegacyTSA) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "POST only", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	req, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(body)), ""))
	if err != nil {
		http.Error(w, "request is not base64: "+err.Error(), http.StatusBadRequest)
		return
	}
	resp, err := t.LegacyResponse(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	_, _ = io.WriteString(w, base64.StdEncoding.EncodeToString(resp))
}
