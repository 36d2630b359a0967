package macho

import (
	"bytes"
	"context"
	"crypto"
	"crypto/hmac"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"github.com/sassoftware/relic/v7/lib/x509tools"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/fullsailor/pkcs7"
	"github.com/sassoftware/relic/v7/lib/pkcs9"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/safeplist"
)

// Verifier inspects and verifies Apple code signatures of thin and universal Mach-O files and
// of .app bundles. It holds no mutable state and is safe for concurrent use.
type Verifier struct {
	appleRoots *x509.CertPool
	// appleRootCerts are the certificates of appleRoots: a chain that ends at one of them is
	// anchored at Apple (signers.AnchorApple), whichever pool it was found in.
	appleRootCerts []*x509.Certificate
}

// New returns a Verifier for hashing.FormatMachO and hashing.FormatMachOUniversal that also
// implements signers.BundleVerifier for .app (and .xpc, .appex, .framework) bundles. Apple's
// root CA (appleRootCA) is always trusted; Options.Roots adds more.
func New() *Verifier {
	block, _ := pem.Decode([]byte(appleRootCA))
	root, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		panic("macho: the built-in Apple Root CA does not parse: " + err.Error()) // a constant: cannot happen
	}
	return newWithAppleRoots(root)
}

// newWithAppleRoots returns a Verifier that treats roots as Apple's root CA (tests use a
// fixture root in its place).
func newWithAppleRoots(roots ...*x509.Certificate) *Verifier {
	pool := x509.NewCertPool()
	for _, r := range roots {
		pool.AddCert(r)
	}
	return &Verifier{appleRoots: pool, appleRootCerts: roots}
}

// Name implements signers.Verifier.
func (v *Verifier) Name() string { return "macho" }

// Accepts implements signers.Verifier.
func (v *Verifier) Accepts(f hashing.Format) bool {
	return f == hashing.FormatMachO || f == hashing.FormatMachOUniversal
}

// Verify implements signers.Verifier: every slice of a thin or universal file is parsed, and
// each signed slice yields one Signature (Arch set). A file that is not Mach-O, or whose
// headers are malformed, gives an error; a signature that does not verify gives a Signature
// with StatusInvalid and the reason in Error.
func (v *Verifier) Verify(ctx context.Context, in signers.Input, opts signers.Options) (*signers.Result, error) {
	if in.R == nil {
		return nil, fmt.Errorf("%s: macho: no reader", in.Path)
	}
	var bctx *bundleCtx
	if in.FS != nil && in.Name != "" {
		bctx = findBundleCtx(in.FS, in.Name)
	}
	res, err := v.verifyReader(ctx, in.R, in.Size, bctx, opts)
	if err != nil {
		return nil, fmt.Errorf("%s: macho: %w", in.Path, err)
	}
	return res, nil
}

// verifyReader verifies a thin or universal Mach-O held by r.
func (v *Verifier) verifyReader(ctx context.Context, r io.ReaderAt, size int64, bctx *bundleCtx, opts signers.Options) (*signers.Result, error) {
	var magic [4]byte
	if err := readAt(r, magic[:], 0, size); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	refs := []sliceRef{{offset: 0, size: size}}
	var layoutErr error // bytes of a universal file outside every slice
	if m := binary.BigEndian.Uint32(magic[:]); m == 0xcafebabe || m == 0xcafebabf {
		var err error
		var headerEnd int64
		if refs, headerEnd, err = parseFat(r, size); err != nil {
			return nil, err
		}
		layoutErr = checkFatLayout(r, size, headerEnd, refs)
	}
	res := &signers.Result{MachO: &signers.MachOInfo{Slices: []signers.MachOSlice{}}}
	signed := 0
	for _, ref := range refs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		sr := io.NewSectionReader(r, ref.offset, ref.size)
		sl, sig, err := v.verifySlice(ctx, sr, ref.size, bctx, opts)
		if err != nil {
			if ref.arch != "" {
				return nil, fmt.Errorf("slice %s: %w", ref.arch, err)
			}
			return nil, err
		}
		res.MachO.Slices = append(res.MachO.Slices, sl)
		if sig != nil {
			res.Signatures = append(res.Signatures, *sig)
			signed++
		}
	}
	if signed > 0 && signed < len(refs) {
		// A universal file must be signed in every slice; a stripped slice is a modification.
		for _, sl := range res.MachO.Slices {
			if sl.SignerClass == signers.SignerUnsigned {
				res.Signatures = append(res.Signatures, signers.Signature{
					Kind: signers.KindApple, Status: signers.StatusInvalid, Arch: sl.Arch,
					SignerClass: signers.SignerUnsigned,
					Error:       "slice carries no code signature while other slices are signed",
				})
			}
		}
	}
	if layoutErr != nil {
		for i := range res.Signatures {
			invalidate(&res.Signatures[i], layoutErr.Error())
		}
	}
	res.Status = signers.Aggregate(res.Signatures)
	return res, nil
}

// verifySlice parses one thin Mach-O and checks its signature. The error is for headers that
// cannot be parsed; signature problems are reported in the returned Signature.
func (v *Verifier) verifySlice(ctx context.Context, r io.ReaderAt, size int64, bctx *bundleCtx, opts signers.Options) (signers.MachOSlice, *signers.Signature, error) {
	tf, err := parseThin(r, size)
	if err != nil {
		return signers.MachOSlice{}, nil, err
	}
	sl := signers.MachOSlice{Arch: tf.arch, SignerClass: signers.SignerUnsigned}
	if tf.sigOff < 0 {
		return sl, nil, nil
	}
	sig := &signers.Signature{Kind: signers.KindApple, Arch: tf.arch, Status: signers.StatusInvalid}
	fail := func(problem string) (signers.MachOSlice, *signers.Signature, error) {
		sig.Status = signers.StatusInvalid
		sig.Error = problem
		if sl.SignerClass == signers.SignerUnsigned {
			sl.SignerClass = ""
		}
		return sl, sig, nil
	}
	sb, problem := readSuperBlob(r, size, tf)
	if problem != "" {
		return fail(problem)
	}
	cd := sb.cds[0]
	describeSlice(&sl, sig, sb)
	weak := weakCodeDirectories(sb.cds)

	// Before any ASN.1 parser sees the CMS blob (fullsailor's below, relic's and
	// encoding/asn1 in verifyCMS), bound its nesting, element count and lengths: a blob of
	// nested indefinite-length headers otherwise recurses until the runtime aborts the whole
	// process (issue #12). Such a file is an error, not a signature.
	if err := checkCMSShape(sb); err != nil {
		return sl, nil, err
	}
	// Identity and chain first, so that an invalid signature still names who claims it.
	claimSigner(&sl, sig, sb)

	problem, err = checkCode(ctx, r, size, tf, sb, bctx, sig)
	if err != nil {
		return sl, nil, err
	}
	if problem != "" {
		return fail(problem)
	}
	if len(sb.cms) == 0 {
		if cd.flags&0x2 == 0 {
			return fail("CodeDirectory is not marked ad-hoc but carries no CMS signature")
		}
		sig.Status = signers.StatusAdhoc
		return sl, sig, nil
	}
	ts, err := verifyCMS(sb)
	if err != nil {
		return fail(fmt.Sprintf("CMS signature: %v", err))
	}
	if problem := v.applyCMS(ts, cd, weak, opts, &sl, sig); problem != "" {
		return fail(problem)
	}
	sig.Status = signers.StatusValid
	return sl, sig, nil
}

// readSuperBlob reads and parses the code signature SuperBlob of tf. A problem (a
// signature outside the file, unreadable or malformed) makes the signature invalid.
func readSuperBlob(r io.ReaderAt, size int64, tf *thinFile) (sb *superBlob, problem string) {
	if tf.sigSize < 12 || tf.sigSize > maxSigBlob || tf.sigOff > size || tf.sigSize > size-tf.sigOff {
		return nil, fmt.Sprintf("code signature at offset %d (%d bytes) lies outside the file (%d bytes): truncated or malformed", tf.sigOff, tf.sigSize, size)
	}
	blob := make([]byte, tf.sigSize)
	if err := readAt(r, blob, tf.sigOff, size); err != nil {
		return nil, fmt.Sprintf("reading code signature: %v", err)
	}
	sb, err := parseSuperBlob(blob)
	if err != nil {
		return nil, fmt.Sprintf("code signature: %v", err)
	}
	return sb, ""
}

// describeSlice fills sl with what the CodeDirectories of sb say (CDHash, identifier, Team
// ID, flags, version, hash type, alternate CDHashes, entitlement keys, designated
// requirement) and copies the identity and the signed digest into sig.
func describeSlice(sl *signers.MachOSlice, sig *signers.Signature, sb *superBlob) {
	cd := sb.cds[0]
	sl.CDHash = hex.EncodeToString(cd.cdhash())
	sl.SigningID, sl.TeamID = cd.ident, cd.team
	sl.Flags = flagNames(cd.flags)
	sl.CDVersion = fmt.Sprintf("%#x", cd.version)
	sl.HashType = hashTypeName(cd.hashType)
	for _, alt := range sb.cds[1:] {
		sl.AltCDHashes = append(sl.AltCDHashes, hex.EncodeToString(alt.cdhash()))
	}
	sl.Entitlements = entitlementKeys(sb.entXML)
	sl.DesignatedRequirement = designatedRequirement(sb.requirements)

	sig.CDHash, sig.SigningID, sig.TeamID = sl.CDHash, sl.SigningID, sl.TeamID
	sig.DigestAlgorithm = hashTypeName(cd.hashType)
	sig.SignedDigest = hex.EncodeToString(cd.fullHash())
}

// claimSigner records who the signature claims to be signed by, before anything is
// verified: the CMS leaf and its class, or ad-hoc when there is no CMS blob.
func claimSigner(sl *signers.MachOSlice, sig *signers.Signature, sb *superBlob) {
	if len(sb.cms) > 0 {
		sl.SignerClass = signers.SignerOther
		if leaf := extractLeaf(sb.cms); leaf != nil {
			sig.Signer = signers.NewCertificate(leaf)
			sl.SignerClass = classify(leaf)
		}
	} else {
		sl.SignerClass = signers.SignerAdhoc
	}
	sig.SignerClass = sl.SignerClass
}

// checkCode checks what the CodeDirectories of sb cover: the slice's layout (nothing after
// __LINKEDIT), the page hashes of every CodeDirectory and the special slots (against what is
// embedded or, with bctx, on disk; their notes go to sig). A problem makes the signature
// invalid; err is only for a cancelled ctx.
func checkCode(ctx context.Context, r io.ReaderAt, size int64, tf *thinFile, sb *superBlob, bctx *bundleCtx, sig *signers.Signature) (problem string, err error) {
	// Strict validation of the slice's layout: nothing after the end of __LINKEDIT.
	if err := checkLayout(tf, size); err != nil {
		return err.Error(), nil
	}
	// Page hashes of every CodeDirectory, whatever the signature kind.
	for _, d := range sb.cds {
		if d.codeLimit > tf.sigOff && tf.sigOff > 0 {
			return fmt.Sprintf("CodeDirectory (slot %#x) codeLimit %d covers the signature itself at %d", d.slot, d.codeLimit, tf.sigOff), nil
		}
		if err := checkPages(ctx, r, size, d); err != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return err.Error(), nil
		}
	}
	// Special slots against what is embedded or on disk.
	notes, err := checkSpecialSlots(sb, tf, bctx)
	sig.Notes = append(sig.Notes, notes...)
	if err != nil {
		return err.Error(), nil
	}
	return "", nil
}

// applyCMS records in sig and sl what the verified CMS signature ts says: the digest it
// covers (adding a weak signer digest to weak), the signer and its class, the Team ID, the
// timestamp and the chain verdict. A Team ID that differs from the CodeDirectory's (cd) is a
// problem that makes the signature invalid.
func (v *Verifier) applyCMS(ts *pkcs9.TimestampedSignature, cd *codeDir, weak []string, opts signers.Options, sl *signers.MachOSlice, sig *signers.Signature) (problem string) {
	// What the CMS signature covers is the slot-0 CodeDirectory under the signer's digest
	// algorithm (its messageDigest): report that, not CD0's own hash type, which is SHA-1 for
	// a codesign signature with a SHA-1 primary and a SHA-256 alternate CodeDirectory.
	if h, err := x509tools.PkixDigestToHashE(ts.SignerInfo.DigestAlgorithm); err == nil && h.Available() {
		d := h.New()
		d.Write(cd.raw)
		sig.DigestAlgorithm = strings.ReplaceAll(strings.ToLower(h.String()), "-", "")
		sig.SignedDigest = hex.EncodeToString(d.Sum(nil))
		if h == crypto.SHA1 || h == crypto.MD5 {
			weak = append(weak, sig.DigestAlgorithm+" signer digest")
		}
	}
	sig.WeakDigest = strings.Join(weak, ", ")
	leaf := ts.Certificate
	sig.Signer = signers.NewCertificate(leaf)
	sl.SignerClass = classify(leaf)
	sig.SignerClass = sl.SignerClass
	// The certificate's Team ID (single OU of a leaf with an Apple code-signing extension)
	// must be the CodeDirectory's: Apple's SecStaticCode::verifySignature fails such a
	// signature with errSecCSBadTeamIdentifier ("Team identifier in the signing certificate
	// ... does not match the team identifier ... in the code directory"; Security framework,
	// libsecurity_codesigning/lib/StaticCode.cpp).
	certTeam, _ := sig.Signer.AppleTeamID()
	if cd.team != "" && certTeam != "" && cd.team != certTeam {
		return fmt.Sprintf("Team ID %q in the CodeDirectory differs from %q in the signing certificate", cd.team, certTeam)
	}
	if sig.TeamID == "" {
		sig.TeamID = certTeam
	}
	if ts.CounterSignature != nil {
		t := ts.CounterSignature.SigningTime.UTC()
		sig.Timestamp = &t
	}
	if ts.CertError != nil {
		sig.Notes = append(sig.Notes, "bundled certificate did not parse: "+ts.CertError.Error())
	}
	cv := v.chain(ts, opts, &sig.Notes)
	sig.Chain, sig.ChainError, sig.Anchor, sig.TimestampChain = cv.chain, cv.err, cv.anchor, cv.tsChain
	return ""
}

// chainVerdict is the judgement on a signature's certificate chain.
type chainVerdict struct {
	chain   signers.Chain
	err     string
	anchor  signers.Anchor
	tsChain signers.Chain // set when the signature carries a timestamp
}

// chain verifies the signer chain against Apple's root, then against Options.Roots. A valid
// timestamp whose own chain verifies in the same pool moves the check to the time of
// signing. When every pool fails, the most specific failure is reported (a forged
// certificate before an expired one before an unknown root: signers.MostSpecificChainError).
// A trusted chain ending at Apple's root is anchored at Apple, whichever pool held the root.
func (v *Verifier) chain(ts *pkcs9.TimestampedSignature, opts signers.Options, notes *[]string) chainVerdict {
	pools := []signers.TrustPool{{Roots: v.appleRoots, Anchor: signers.AnchorApple}}
	if opts.Roots != nil {
		pools = append(pools, signers.TrustPool{Roots: opts.Roots, Anchor: signers.AnchorRoots})
	}
	var out chainVerdict
	var errs, tsErrs []error
	tsTrusted := false
	for _, pool := range pools {
		at := opts.Now
		if cs := ts.CounterSignature; cs != nil {
			_, _, err := signers.VerifyChain(cs.Certificate, cs.Intermediates, cs.CertError, []signers.TrustPool{pool}, x509.ExtKeyUsageTimeStamping, cs.SigningTime)
			if err == nil {
				at, tsTrusted = cs.SigningTime, true
			} else {
				tsErrs = append(tsErrs, err)
			}
		}
		if at.IsZero() {
			at = time.Now()
		}
		_, root, err := signers.VerifyChain(ts.Certificate, ts.Intermediates, ts.CertError, []signers.TrustPool{pool}, x509.ExtKeyUsageCodeSigning, at)
		if err == nil {
			out.chain, out.anchor = signers.ChainTrusted, signers.AnchorRoots
			if v.isAppleRoot(root) {
				out.anchor = signers.AnchorApple
			}
			break
		}
		errs = append(errs, err)
	}
	if ts.CounterSignature != nil {
		out.tsChain = signers.ChainTrusted
		if !tsTrusted {
			out.tsChain, _ = signers.DescribeChainError(signers.MostSpecificChainError(tsErrs...))
			if out.chain == signers.ChainTrusted {
				*notes = append(*notes, "timestamp chain not trusted: "+signers.MostSpecificChainError(tsErrs...).Error())
			}
		}
	}
	if out.chain != signers.ChainTrusted {
		out.chain, out.err = signers.DescribeChainError(signers.MostSpecificChainError(errs...))
	}
	return out
}

func (v *Verifier) isAppleRoot(c *x509.Certificate) bool {
	for _, r := range v.appleRootCerts {
		if c != nil && bytes.Equal(c.Raw, r.Raw) {
			return true
		}
	}
	return false
}

// weakCodeDirectories returns "sha1 CodeDirectory" when every CodeDirectory hashes with
// SHA-1: the code pages, and the CDHash the signature covers, then rest on a broken digest.
// A SHA-1 CodeDirectory beside a SHA-256 one (a signature that also serves old macOS
// versions) is not weak: the SHA-256 CodeDirectory covers the same pages, and verifyCMS
// requires the signature to bind it.
func weakCodeDirectories(cds []*codeDir) []string {
	for _, cd := range cds {
		if cdCryptoHash(cd) != crypto.SHA1 {
			return nil
		}
	}
	return []string{"sha1 CodeDirectory (no SHA-256 CodeDirectory)"}
}

// extractLeaf reads the signer's certificate from a CMS blob with fullsailor/pkcs7 (parse
// only), so that a signature that fails to verify still names its claimed signer.
func extractLeaf(cms []byte) (leaf *x509.Certificate) {
	defer func() {
		if recover() != nil {
			leaf = nil
		}
	}()
	p7, err := pkcs7.Parse(cms)
	if err != nil {
		return nil
	}
	return p7.GetOnlySigner()
}

// Apple certificate extensions that classify a leaf.
var (
	oidAppleSoftwareSign  = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 22}
	oidDevIDApplication   = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 13}
	oidDevIDInstaller     = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 14}
	oidDevIDKernel        = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 18}
	oidMacAppSubmit       = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 7}
	oidMacInstallerSubmit = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 8}
	oidMacAppStore        = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 9}
	oidMacAppStoreInst    = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 10}
	oidAppleCodeSignApple = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 1}
	oidIphoneApple        = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 6, 1, 3}
)

// classify names the kind of identity behind a CMS signature from the leaf's Apple
// extensions. It says nothing about trust: a private CA can mint the same extensions, which is
// why Chain is reported separately.
func classify(leaf *x509.Certificate) signers.SignerClass {
	has := func(oid asn1.ObjectIdentifier) bool {
		for _, e := range leaf.Extensions {
			if e.Id.Equal(oid) {
				return true
			}
		}
		return false
	}
	switch {
	case has(oidDevIDApplication) || has(oidDevIDInstaller) || has(oidDevIDKernel):
		return signers.SignerDeveloperID
	case has(oidMacAppStore) || has(oidMacAppStoreInst) || has(oidMacAppSubmit) || has(oidMacInstallerSubmit):
		return signers.SignerMacAppStore
	case has(oidAppleSoftwareSign) || has(oidAppleCodeSignApple) || has(oidIphoneApple):
		return signers.SignerApplePlatform
	}
	if leaf.Subject.CommonName == "Software Signing" && strings.HasPrefix(leaf.Issuer.CommonName, "Apple Code Signing") {
		return signers.SignerApplePlatform
	}
	return signers.SignerOther
}

// checkPages recomputes every code page hash of cd over r (the slice) and compares.
func checkPages(ctx context.Context, r io.ReaderAt, size int64, cd *codeDir) error {
	if cd.codeLimit > size {
		return fmt.Errorf("CodeDirectory (slot %#x) covers %d bytes but the file has %d: truncated", cd.slot, cd.codeLimit, size)
	}
	pageSize := cd.codeLimit
	if cd.pageLog2 != 0 {
		pageSize = 1 << cd.pageLog2
	}
	if cd.nCode == 0 {
		if cd.codeLimit != 0 {
			return fmt.Errorf("CodeDirectory (slot %#x) has no code slots for %d bytes", cd.slot, cd.codeLimit)
		}
		return nil
	}
	// Pages are streamed through the hash with a bounded buffer: a page is up to 16 MiB, and
	// with page size 0 ("one page") it is the whole codeLimit, which a crafted file makes as
	// large as itself.
	nh, _, _, _ := newHash(cd.hashType) // validated in parseCodeDirectory
	h := nh()
	buf := make([]byte, min(pageSize, 64<<10))
	var sum []byte
	for i := uint32(0); i < cd.nCode; i++ {
		if i%256 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		off := int64(i) * pageSize
		n := pageSize
		if off+n > cd.codeLimit {
			n = cd.codeLimit - off
		}
		h.Reset()
		for done := int64(0); done < n; {
			chunk := buf[:min(int64(len(buf)), n-done)]
			if err := readAt(r, chunk, off+done, size); err != nil {
				return fmt.Errorf("page %d: %w", i, err)
			}
			h.Write(chunk)
			done += int64(len(chunk))
		}
		sum = h.Sum(sum[:0])
		if !hmac.Equal(sum[:cd.hashSize], cd.codeSlot(i)) {
			return fmt.Errorf("page hash mismatch: page %d (offset %d) of the %s CodeDirectory: the code was modified after signing", i, off, hashTypeName(cd.hashType))
		}
	}
	return nil
}

// checkSpecialSlots compares the special slots of every CodeDirectory with the embedded blobs
// and, when the file sits in its bundle, with Info.plist and CodeResources on disk.
func checkSpecialSlots(sb *superBlob, tf *thinFile, bctx *bundleCtx) (notes []string, err error) {
	var infoPlist, resources []byte
	infoSrc := "embedded __info_plist"
	if tf.infoPlist != nil {
		infoPlist = tf.infoPlist
	}
	if bctx != nil {
		if bctx.infoPlist != nil {
			infoPlist, infoSrc = bctx.infoPlist, bctx.infoPath
		}
		resources = bctx.codeResources
	}
	type slotCheck struct {
		n    uint32
		name string
		data []byte
		have bool // data must be present when the slot is bound
	}
	checks := []slotCheck{
		{slotRequirements, "requirements", sb.requirements, true},
		{slotEntitlements, "entitlements", sb.entXML, true},
		{slotEntitlementsDER, "DER entitlements", sb.entDER, true},
		{slotInfoPlist, "Info.plist (" + infoSrc + ")", infoPlist, false},
		{slotResources, "CodeResources", resources, false},
	}
	seen := map[string]bool{}
	for _, cd := range sb.cds {
		if bctx != nil && cd.specialSlot(slotResources) != nil {
			bctx.resourcesBound = true
		}
		for _, c := range checks {
			want := cd.specialSlot(c.n)
			switch {
			case want == nil && c.data != nil && c.have:
				return notes, fmt.Errorf("%s blob is not bound by the CodeDirectory (slot %#x): added after signing", c.name, cd.slot)
			case want == nil:
			case c.data == nil && c.have:
				return notes, fmt.Errorf("special slot -%d (%s) is bound but the blob is missing", c.n, c.name)
			case c.data == nil:
				if !seen[c.name] {
					notes = append(notes, fmt.Sprintf("special slot -%d (%s) is bound but not checked: the file is not inside its bundle", c.n, c.name))
					seen[c.name] = true
				}
			case !hmac.Equal(cd.digest(c.data), want):
				return notes, fmt.Errorf("special slot -%d (%s) does not match: modified after signing", c.n, c.name)
			}
		}
	}
	return notes, nil
}

// entitlementKeys returns the sorted top-level keys of an entitlements blob (header included).
func entitlementKeys(blob []byte) []string {
	if len(blob) <= 8 {
		return nil
	}
	var m map[string]any
	if _, err := safeplist.Unmarshal(blob[8:], &m); err != nil {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// designatedRequirement renders the designated requirement (type 3) as text.
func designatedRequirement(blob []byte) (text string) {
	if blob == nil {
		return ""
	}
	items, err := parseSuperItems(blob, magicRequirements)
	if err != nil {
		return ""
	}
	for _, it := range items {
		if it.slot != reqTypeDesignated || len(it.data) <= 8 || binary.BigEndian.Uint32(it.data) != magicRequirement {
			continue
		}
		s, err := formatRequirement(it.data[8:])
		if err != nil {
			return ""
		}
		return s
	}
	return ""
}
