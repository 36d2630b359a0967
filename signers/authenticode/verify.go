// Package authenticode inspects and verifies Authenticode signatures of PE/COFF files
// (Windows executables and DLLs, EFI images): every WIN_CERTIFICATE entry of the certificate
// table and every nested signature (unauthenticated attribute 1.3.6.1.4.1.311.2.4.1), each
// checked against its own image digest, page hashes and timestamp, with the signer's chain
// judged separately from the signature's validity. It also reports the PE machine, the
// Authenticode SHA-256 image digest (as `pesign -h` prints it) and the VS_VERSIONINFO strings.
//
// PE headers are parsed here rather than by relic, so that files whose optional header holds
// fewer than 16 data directories (EFI-stub Linux kernels) work, and so that the image digest
// can be computed during the single streaming read of the file (see Verifier.StreamTap).
// relic (github.com/sassoftware/relic/v7) parses and verifies the PKCS#7 structures.
package authenticode

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"github.com/sassoftware/relic/v7/lib/pkcs9"
	"github.com/sassoftware/relic/v7/lib/x509tools"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/internal/ber"
)

// OIDNestedSignature is the unauthenticated attribute that carries nested (dual) signatures.
var OIDNestedSignature = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 4, 1}

// WIN_CERTIFICATE types.
const (
	certTypePKCSSignedData = 2
	maxNestingDepth        = 4
	readBufferSize         = 256 << 10
)

// Verifier implements signers.Verifier and signers.StreamVerifier for PE files. The zero
// value is not ready; use New. A Verifier is safe for concurrent use.
type Verifier struct {
	once      sync.Once
	system    *x509.CertPool
	bufs      sync.Pool
	noSysPool bool
}

// New returns a Verifier that trusts the system certificate pool plus Options.Roots.
func New() *Verifier {
	return &Verifier{bufs: sync.Pool{New: func() any { b := make([]byte, readBufferSize); return &b }}}
}

// NewWithoutSystemRoots returns a Verifier that trusts only Options.Roots, for reproducible
// tests and for machines whose system pool should not count.
func NewWithoutSystemRoots() *Verifier {
	v := New()
	v.noSysPool = true
	return v
}

var (
	_ signers.Verifier       = (*Verifier)(nil)
	_ signers.StreamVerifier = (*Verifier)(nil)
)

// Name implements signers.Verifier.
func (v *Verifier) Name() string { return "authenticode" }

// Accepts implements signers.Verifier: PE files only.
func (v *Verifier) Accepts(f hashing.Format) bool { return f == hashing.FormatPE }

func (v *Verifier) systemPool() *x509.CertPool {
	v.once.Do(func() {
		if v.noSysPool {
			return
		}
		if p, err := x509.SystemCertPool(); err == nil {
			v.system = p
		}
	})
	return v.system
}

// Verify implements signers.Verifier. When in.Tap is a complete Tap from StreamTap, the image
// digest and certificate table come from the streaming read and Verify itself reads only the
// version resource; otherwise it reads the headers, the certificate table and the hashed
// ranges of the file once.
func (v *Verifier) Verify(ctx context.Context, in signers.Input, opts signers.Options) (res *signers.Result, err error) {
	// The ASN.1 and PKCS#7 code underneath (relic) has panicked on crafted input (an empty
	// TSTInfo field in a timestamp token, found by TestTamperSweep): a panic on a hostile file
	// is a malformed file, never a crash and never a valid signature.
	defer func() {
		if r := recover(); r != nil {
			res, err = nil, fmt.Errorf("%s: authenticode: %w: parser failure: %v", in.Path, ErrMalformed, r)
		}
	}()
	res, err = v.verify(ctx, in, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: authenticode: %w", in.Path, err)
	}
	return res, nil
}

// verify does the work of Verify: read the headers and certificate table, parse every
// signature, compute the digests they need and judge each signature.
func (v *Verifier) verify(ctx context.Context, in signers.Input, opts signers.Options) (*signers.Result, error) {
	if in.R == nil {
		return nil, errors.New("no reader")
	}
	bp := v.bufs.Get().(*[]byte)
	defer v.bufs.Put(bp)
	buf := *bp

	p, certTable, sums, err := readHeaders(in, buf)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sigs, err := parseCertTable(certTable)
	if err != nil {
		return nil, err
	}
	if sums, err = imageDigests(in.R, p, sigs, sums, buf); err != nil {
		return nil, err
	}
	pages, err := signedPageHashes(in.R, p, sigs, buf)
	if err != nil {
		return nil, err
	}

	res := &signers.Result{PE: &signers.PEInfo{
		Machine:            machineName(p.machine),
		AuthenticodeSHA256: hex.EncodeToString(sums[crypto.SHA256]),
	}}
	if ver, err := readVersion(in.R, p); err == nil {
		res.PE.Version = ver
	}
	trailing := p.certSize > 0 && p.certStart+p.certSize != p.size
	for _, s := range sigs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if trailing {
			s.problem("%d bytes after the certificate table are not covered by the signature", p.size-p.certStart-p.certSize)
		}
		res.Signatures = append(res.Signatures, v.finish(s, sums, pages, opts))
	}
	res.Status = signers.Aggregate(res.Signatures)
	return res, nil
}

// readHeaders returns the parsed headers, the certificate table and the image digests
// already computed: from the input's Tap when it saw the whole file, else by reading the
// headers and the certificate table from in.R (sums is then nil). buf is scratch space.
func readHeaders(in signers.Input, buf []byte) (p *peFile, certTable []byte, sums map[crypto.Hash][]byte, err error) {
	if t, ok := in.Tap.(*Tap); ok && t.complete(in.Size) {
		return t.pe, t.certTable, t.sums(), nil
	}
	n := min(int64(len(buf)), in.Size, 4096)
	head := buf[:n]
	if m, err := in.R.ReadAt(head, 0); int64(m) < n {
		return nil, nil, nil, fmt.Errorf("read headers: %w", err)
	}
	p, err = parsePE(headerReader{head: append([]byte(nil), head...), r: in.R, size: in.Size})
	if err != nil {
		return nil, nil, nil, err
	}
	if p.certSize > 0 {
		certTable = make([]byte, p.certSize) // bounded by the file size and maxCertTable
		if m, err := in.R.ReadAt(certTable, p.certStart); int64(m) < p.certSize {
			return nil, nil, nil, fmt.Errorf("read certificate table: %w", err)
		}
	}
	return p, certTable, nil, nil
}

// parseCertTable parses every signature of the certificate table: each WIN_CERTIFICATE
// entry and the signatures nested in it.
func parseCertTable(certTable []byte) ([]*parsedSig, error) {
	entries, err := splitCertTable(certTable)
	if err != nil {
		return nil, err
	}
	var sigs []*parsedSig
	for i, e := range entries {
		s, err := parseEntry(e, i)
		if err != nil {
			return nil, err
		}
		sigs = append(sigs, s...)
	}
	return sigs, nil
}

// imageDigests completes sums, the Authenticode image digests already computed (may be
// nil), with SHA-256 and every algorithm a signature of sigs uses, reading the image from r.
func imageDigests(r io.ReaderAt, p *peFile, sigs []*parsedSig, sums map[crypto.Hash][]byte, buf []byte) (map[crypto.Hash][]byte, error) {
	need := map[crypto.Hash]bool{crypto.SHA256: true}
	for _, s := range sigs {
		if s.imageHash != 0 && s.imageHash.Available() {
			need[s.imageHash] = true
		}
	}
	var missing []crypto.Hash
	for a := range need {
		if _, ok := sums[a]; !ok {
			missing = append(missing, a)
		}
	}
	if len(missing) == 0 {
		return sums, nil
	}
	plan, pad, err := p.digestPlan()
	if err != nil {
		return nil, err
	}
	extra, err := digestAt(r, plan, pad, missing, buf)
	if err != nil {
		return nil, fmt.Errorf("image digest: %w", err)
	}
	if sums == nil {
		return extra, nil
	}
	for a, d := range extra {
		sums[a] = d
	}
	return sums, nil
}

// signedPageHashes computes the page hashes of the file, once per hash function that a
// signature of sigs carries page hashes for.
func signedPageHashes(r io.ReaderAt, p *peFile, sigs []*parsedSig, buf []byte) (map[crypto.Hash][]byte, error) {
	pages := map[crypto.Hash][]byte{}
	for _, s := range sigs {
		if len(s.pageHashes) == 0 {
			continue
		}
		if _, ok := pages[s.pageHashFunc]; !ok {
			ph, err := pageHashes(r, p, s.pageHashFunc, buf)
			if err != nil {
				return nil, fmt.Errorf("page hashes: %w", err)
			}
			pages[s.pageHashFunc] = ph
		}
	}
	return pages, nil
}

// splitCertTable splits the certificate table into its WIN_CERTIFICATE entries (each
// 8-byte aligned: dwLength, wRevision, wCertificateType, bCertificate).
func splitCertTable(tbl []byte) ([]winCert, error) {
	var out []winCert
	for off := 0; off < len(tbl); {
		rest := tbl[off:]
		if len(rest) < 8 {
			if len(bytes.Trim(rest, "\x00")) == 0 && len(out) > 0 {
				break // alignment padding
			}
			return nil, fmt.Errorf("%w: certificate table: %d stray bytes at entry offset %d", ErrMalformed, len(rest), off)
		}
		l := int(le.Uint32(rest))
		if l <= 8 || l > len(rest) {
			return nil, fmt.Errorf("%w: certificate table: entry at offset %d has length %d (%d bytes left)", ErrMalformed, off, l, len(rest))
		}
		out = append(out, winCert{revision: le.Uint16(rest[4:]), typ: le.Uint16(rest[6:]), data: rest[8:l]})
		off += (l + 7) &^ 7
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

type winCert struct {
	revision, typ uint16
	data          []byte
}

// parsedSig is one signature (an entry or a nested one) with what could be learned from it.
type parsedSig struct {
	nested       bool
	index        int
	problems     []string
	notes        []string
	imageHash    crypto.Hash
	signedDigest []byte
	pageHashes   []byte
	pageHashFunc crypto.Hash
	leaf         *x509.Certificate
	certs        []*x509.Certificate
	certErr      error
	signerHash   crypto.Hash      // the SignerInfo's digest algorithm
	sig          *pkcs7.Signature // nil when the CMS signature did not verify
	ts           *pkcs9.CounterSignature
}

func (s *parsedSig) problem(format string, args ...any) {
	s.problems = append(s.problems, fmt.Sprintf(format, args...))
}

// parseEntry parses one WIN_CERTIFICATE entry and its nested signatures. A blob that is not
// PKCS#7 at all is an error; a signature that parses but does not verify is reported.
func parseEntry(e winCert, index int) ([]*parsedSig, error) {
	if e.typ != certTypePKCSSignedData {
		s := &parsedSig{index: index}
		s.problem("certificate entry %d has unsupported type %d (want PKCS#7 signed data)", index, e.typ)
		return []*parsedSig{s}, nil
	}
	if e.revision != 0x0100 && e.revision != 0x0200 {
		s := &parsedSig{index: index}
		s.problem("certificate entry %d has unknown revision %#x", index, e.revision)
		return []*parsedSig{s}, nil
	}
	// Bound the nesting, element count and lengths of the whole entry (its nested
	// signatures and timestamp tokens included) before any ASN.1 parser sees it.
	if err := ber.Check(e.data); err != nil {
		return nil, fmt.Errorf("%w: certificate entry %d: %w", ErrMalformed, index, err)
	}
	psd, err := pkcs7.Unmarshal(e.data)
	if err != nil {
		return nil, fmt.Errorf("%w: certificate entry %d: PKCS#7: %w", ErrMalformed, index, err)
	}
	return parseSigned(psd, index, false, 0), nil
}

// parseSigned checks one SignedData and recurses into its nested signatures.
func parseSigned(psd *pkcs7.ContentInfoSignedData, index int, nested bool, depth int) []*parsedSig {
	s := &parsedSig{index: index, nested: nested}
	sd := &psd.Content
	readIndirectData(sd, s)
	checkStructure(&psd.ContentType, sd, s)
	certs, certErr := sd.Certificates.Parse()
	s.certs, s.certErr = certs, certErr
	if certErr != nil {
		s.notes = append(s.notes, "a bundled certificate could not be parsed: "+certErr.Error())
	}
	if len(sd.SignerInfos) != 1 {
		s.problem("%d SignerInfos, want exactly 1", len(sd.SignerInfos))
	}
	if len(sd.SignerInfos) == 0 {
		return []*parsedSig{s}
	}
	si := &sd.SignerInfos[0]
	verifySignerInfo(sd, si, certs, s)
	out := []*parsedSig{s}
	if depth < maxNestingDepth {
		out = append(out, parseNested(si, index, depth)...)
	}
	return out
}

// readIndirectData reads the SpcIndirectDataContent of sd into s: the signed image digest
// and its algorithm, and the page hashes. What is wrong with it becomes a problem of s.
func readIndirectData(sd *pkcs7.SignedData, s *parsedSig) {
	if !sd.ContentInfo.ContentType.Equal(oidSpcIndirectDataContent) {
		s.problem("content type %v is not SpcIndirectDataContent", sd.ContentInfo.ContentType)
	}
	var ind spcIndirectDataContentPe
	if err := sd.ContentInfo.Unmarshal(&ind); err != nil {
		s.problem("SpcIndirectDataContent: %v", err)
		return
	}
	s.signedDigest = ind.MessageDigest.Digest
	h, err := x509tools.PkixDigestToHashE(ind.MessageDigest.DigestAlgorithm)
	if err != nil || !h.Available() {
		s.problem("image digest algorithm %v is not supported", ind.MessageDigest.DigestAlgorithm.Algorithm)
	} else {
		s.imageHash = h
		if len(s.signedDigest) != h.Size() {
			s.problem("signed image digest is %d bytes, want %d for %s", len(s.signedDigest), h.Size(), hashName(h))
		}
	}
	if err := readPageHashes(&ind, s); err != nil {
		s.problem("page hashes: %v", err)
	}
}

// verifySignerInfo finds the signer's leaf among certs and, when s has no problem yet,
// verifies the signature of sd and its timestamp. It notes unauthenticated attributes it
// does not know.
func verifySignerInfo(sd *pkcs7.SignedData, si *pkcs7.SignerInfo, certs []*x509.Certificate, s *parsedSig) {
	if h, err := x509tools.PkixDigestToHashE(si.DigestAlgorithm); err == nil {
		s.signerHash = h
	}
	if c, err := si.FindCertificate(certs); err == nil {
		s.leaf = c
	}
	if len(s.problems) == 0 {
		sig, err := sd.Verify(nil, false)
		switch {
		case err != nil:
			s.problem("signature does not verify: %v", err)
		default:
			s.sig = &sig
			s.leaf = sig.Certificate
			cs, err := pkcs9.VerifyPkcs7(sig)
			if err != nil {
				s.problem("timestamp does not verify: %v", err)
			} else {
				s.ts = cs
			}
		}
	}
	for _, raw := range si.UnauthenticatedAttributes {
		if !knownUnauthAttr(raw.Type) {
			s.notes = append(s.notes, fmt.Sprintf("unknown unauthenticated attribute %v ignored", raw.Type))
		}
	}
}

// parseNested parses the nested signatures (OIDNestedSignature attributes) of si, a
// signature at nesting depth depth of certificate entry index.
func parseNested(si *pkcs7.SignerInfo, index, depth int) []*parsedSig {
	var out []*parsedSig
	for i, raw := range si.UnauthenticatedAttributes {
		if !raw.Type.Equal(OIDNestedSignature) {
			continue
		}
		var list []pkcs7.ContentInfoSignedData
		if _, err := asn1.UnmarshalWithParams(raw.Values.FullBytes, &list, "set"); err != nil {
			bad := &parsedSig{index: index, nested: true}
			bad.problem("nested signature attribute %d cannot be parsed: %v", i, err)
			out = append(out, bad)
			continue
		}
		for j := range list {
			out = append(out, parseSigned(&list[j], index, true, depth+1)...)
		}
	}
	return out
}

// Unauthenticated attributes this package understands.
var (
	oidSignedData           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidRFC3161Token         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}
	oidMSTimestampToken     = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 3, 3, 1}
	oidCounterSignature     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 6}
	oidMSSpcUnsignedSealing = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 6, 1}
)

func knownUnauthAttr(oid asn1.ObjectIdentifier) bool {
	for _, k := range []asn1.ObjectIdentifier{OIDNestedSignature, oidRFC3161Token, oidMSTimestampToken, oidCounterSignature, oidMSSpcUnsignedSealing} {
		if oid.Equal(k) {
			return true
		}
	}
	return false
}

// checkStructure enforces the Authenticode profile of PKCS#7 that relic leaves unchecked: an
// outer signedData content type, SignedData and SignerInfo version 1, and exactly one digest
// algorithm, the SignerInfo's. Unchecked, these fields could be altered in a signed file
// without any effect on the verdict.
func checkStructure(ct *asn1.ObjectIdentifier, sd *pkcs7.SignedData, s *parsedSig) {
	if !ct.Equal(oidSignedData) {
		s.problem("content type %v is not signedData", *ct)
	}
	if sd.Version != 1 {
		s.problem("SignedData version %d, want 1", sd.Version)
	}
	if len(sd.SignerInfos) == 1 {
		si := &sd.SignerInfos[0]
		if si.Version != 1 {
			s.problem("SignerInfo version %d, want 1", si.Version)
		}
		if len(sd.DigestAlgorithmIdentifiers) != 1 || !sd.DigestAlgorithmIdentifiers[0].Algorithm.Equal(si.DigestAlgorithm.Algorithm) {
			s.problem("SignedData digest algorithms do not match the SignerInfo's %v", si.DigestAlgorithm.Algorithm)
		}
	}
}

// readPageHashes extracts the SpcPageHashes (v1 SHA-1, v2 SHA-256) from the SpcPeImageData
// moniker, when present.
func readPageHashes(ind *spcIndirectDataContentPe, s *parsedSig) error {
	mon := ind.Data.Value.File.Moniker
	if !bytes.Equal(mon.ClassID, spcUUIDPageHashes) {
		return nil
	}
	var set asn1.RawValue
	if _, err := asn1.Unmarshal(mon.SerializedData, &set); err != nil {
		return err
	}
	var attr spcAttributePageHashes
	if _, err := asn1.Unmarshal(set.Bytes, &attr); err != nil {
		return err
	}
	switch {
	case attr.Type.Equal(oidSpcPageHashV1):
		s.pageHashFunc = crypto.SHA1
	case attr.Type.Equal(oidSpcPageHashV2):
		s.pageHashFunc = crypto.SHA256
	default:
		return fmt.Errorf("unknown page hash type %v", attr.Type)
	}
	if len(attr.Hashes) != 1 {
		return fmt.Errorf("%d page hash sets, want 1", len(attr.Hashes))
	}
	ph := attr.Hashes[0]
	if len(ph) == 0 || len(ph)%(4+s.pageHashFunc.Size()) != 0 {
		return errors.New("malformed page hash table")
	}
	s.pageHashes = ph
	return nil
}

// finish turns a parsed signature into the shared model: image digest and page-hash checks,
// timestamp, signer, chain.
func (v *Verifier) finish(s *parsedSig, sums, pages map[crypto.Hash][]byte, opts signers.Options) signers.Signature {
	out := signers.Signature{
		Kind:         signers.KindAuthenticode,
		Nested:       s.nested,
		SignedDigest: hex.EncodeToString(s.signedDigest),
		Signer:       signers.NewCertificate(s.leaf),
		Notes:        s.notes,
	}
	if s.imageHash != 0 {
		out.DigestAlgorithm = hashName(s.imageHash)
		if calc := sums[s.imageHash]; len(s.problems) == 0 && !equalDigest(calc, s.signedDigest) {
			s.problem("image digest mismatch: file has %x, signature covers %x", calc, s.signedDigest)
		}
	}
	if len(s.pageHashes) > 0 && !equalDigest(pages[s.pageHashFunc], s.pageHashes) {
		s.problem("page hashes do not match the file")
	}
	if s.ts != nil {
		t := s.ts.SigningTime.UTC()
		out.Timestamp = &t
	}
	if s.leaf == nil {
		s.problem("signer certificate not found in the signature")
	} else {
		s.checkCertSignatures()
	}
	var chainErrs []error
	if s.leaf != nil {
		cv := v.chain(s, opts)
		out.Chain, out.ChainError, out.Anchor, chainErrs = cv.chain, cv.err, cv.anchor, cv.errs
		if s.ts != nil {
			out.TimestampChain = cv.tsChain
		}
	}
	out.WeakDigest = weakDigests(s.imageHash, s.signerHash)
	for _, err := range chainErrs {
		if signers.BadCertificateSignature(err) {
			_, msg := signers.DescribeChainError(err)
			s.problem("%s", msg)
			break
		}
	}
	if len(s.problems) == 0 && s.sig != nil {
		out.Status = signers.StatusValid
	} else {
		out.Status = signers.StatusInvalid
		if len(s.problems) == 0 {
			s.problem("signature does not verify")
		}
		out.Error = strings.Join(s.problems, "; ")
	}
	out.Notes = s.notes
	return out
}

// checkCertSignatures checks that every certificate of the signature (the signer's and the
// timestamp's) whose issuer is bundled too is really signed by it, so that a certificate
// altered inside the signature blob (a forged subject on the same key) makes the signature
// invalid rather than merely untrusted. Algorithms Go refuses are not judged here.
func (s *parsedSig) checkCertSignatures() {
	all := append([]*x509.Certificate(nil), s.certs...)
	if s.ts != nil {
		all = append(all, s.ts.Intermediates...)
		if s.ts.Certificate != nil {
			all = append(all, s.ts.Certificate)
		}
	}
	seen := map[string]bool{}
	for _, c := range all {
		if seen[string(c.Raw)] || bytes.Equal(c.RawIssuer, c.RawSubject) {
			continue
		}
		seen[string(c.Raw)] = true
		var found, ok bool
		var lastErr error
		for _, p := range all {
			if p == c || !bytes.Equal(p.RawSubject, c.RawIssuer) {
				continue
			}
			found = true
			err := p.CheckSignature(c.SignatureAlgorithm, c.RawTBSCertificate, c.Signature)
			var ia x509.InsecureAlgorithmError
			if err == nil || errors.As(err, &ia) || errors.Is(err, x509.ErrUnsupportedAlgorithm) {
				ok = true
				break
			}
			lastErr = err
		}
		if found && !ok {
			s.problem("certificate %q is not signed by its bundled issuer: %v", c.Subject.CommonName, lastErr)
			return
		}
	}
}

// chainVerdict is the judgement on a signature's certificate chains.
type chainVerdict struct {
	chain   signers.Chain
	err     string
	anchor  signers.Anchor
	tsChain signers.Chain // the timestamp's chain, when the signature has a timestamp
	errs    []error       // every failure met, for the forged-certificate check
}

// chain judges the signer's certificate chain, at the timestamp time when the signature
// carries a verified timestamp whose own chain is trusted, else at opts.Now (or now). Each
// check tries the system pool and opts.Roots and keeps the most specific failure of the two
// (signers.VerifyChain): a leaf forged under the name of a --roots CA is untrusted with that
// reason, not an unknown root because the system pool does not know the CA.
func (v *Verifier) chain(s *parsedSig, opts signers.Options) chainVerdict {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	pools := []signers.TrustPool{{Roots: v.systemPool(), Anchor: signers.AnchorSystem}, {Roots: opts.Roots, Anchor: signers.AnchorRoots}}
	check := func(leaf *x509.Certificate, extra []*x509.Certificate, usage x509.ExtKeyUsage, at time.Time) (signers.Anchor, error) {
		a, _, err := signers.VerifyChain(leaf, extra, s.certErr, pools, usage, at)
		return a, err
	}
	fail := func(err error, prefix string, out chainVerdict) chainVerdict {
		out.chain, out.err = signers.DescribeChainError(err)
		out.err = prefix + out.err
		return out
	}
	if s.ts == nil {
		a, err := check(s.leaf, s.certs, x509.ExtKeyUsageCodeSigning, now)
		if err != nil {
			return fail(err, "", chainVerdict{errs: []error{err}})
		}
		return chainVerdict{chain: signers.ChainTrusted, anchor: a}
	}
	at := s.ts.SigningTime
	leafAnchor, leafErr := check(s.leaf, s.certs, x509.ExtKeyUsageCodeSigning, at)
	tsaExtra := append(append([]*x509.Certificate(nil), s.ts.Intermediates...), s.certs...)
	_, tsaErr := check(s.ts.Certificate, tsaExtra, x509.ExtKeyUsageTimeStamping, at)
	out := chainVerdict{errs: []error{leafErr, tsaErr}}
	out.tsChain, _ = signers.DescribeChainError(tsaErr)
	switch {
	case leafErr != nil:
		return fail(leafErr, "", out)
	case tsaErr != nil:
		// The timestamp does not count: judge the leaf at the current time instead.
		if a, err := check(s.leaf, s.certs, x509.ExtKeyUsageCodeSigning, now); err == nil {
			s.notes = append(s.notes, "timestamp chain not trusted, chain checked at the current time: "+tsaErr.Error())
			out.chain, out.anchor = signers.ChainTrusted, a
			return out
		}
		return fail(tsaErr, "timestamp: ", out)
	}
	out.chain, out.anchor = signers.ChainTrusted, leafAnchor
	return out
}

// weakDigests names the broken digest algorithms a signature rests on: its image digest and
// the SignerInfo's digest (over the signed attributes, which hold the image digest).
func weakDigests(image, signer crypto.Hash) string {
	var weak []string
	if image == crypto.MD5 || image == crypto.SHA1 {
		weak = append(weak, hashName(image)+" image digest")
	}
	if signer == crypto.MD5 || signer == crypto.SHA1 {
		weak = append(weak, hashName(signer)+" signer digest")
	}
	return strings.Join(weak, ", ")
}

// hashName names a digest algorithm the way the JSON contract does (sha1, sha256, ...).
func hashName(h crypto.Hash) string {
	switch h {
	case crypto.MD5:
		return "md5"
	case crypto.SHA1:
		return "sha1"
	case crypto.SHA224:
		return "sha224"
	case crypto.SHA256:
		return "sha256"
	case crypto.SHA384:
		return "sha384"
	case crypto.SHA512:
		return "sha512"
	}
	return strings.ToLower(strings.ReplaceAll(h.String(), "-", ""))
}
