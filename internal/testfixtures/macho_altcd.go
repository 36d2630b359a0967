package testfixtures

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1" // #nosec G505 -- the primary CodeDirectory of a two-CD signature is SHA-1, as codesign writes it
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"sort"
	"time"

	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"github.com/sassoftware/relic/v7/lib/pkcs9"
	"github.com/sassoftware/relic/v7/lib/x509tools"
)

// This file builds Mach-O fixtures signed the way Apple's codesign signs binaries that still
// run on macOS releases older than 10.11.4: two CodeDirectories, a SHA-1 one in slot 0 and a
// SHA-256 one in the first alternate slot (0x1000), a requirements blob, and a CMS signature
// (digest SHA-256) over the bytes of the slot-0 CodeDirectory whose signed attributes bind
// both CodeDirectories through the hash-agility attributes 1.2.840.113635.100.9.1 (plist of
// 20-byte CDHashes, slot order) and 1.2.840.113635.100.9.2 (SEQUENCE {digest OID, full CD
// digest} per CodeDirectory). Signed attributes are written in DER SET OF order, as in real
// codesign output (contentType, signingTime, messageDigest, 9.2, 9.1).

// Apple hash-agility signed attributes.
var (
	oidAppleCDHashPlist = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 1}
	oidAppleCDHashes    = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 2}
)

// MachOHashAgility says how one hash-agility attribute treats the CodeDirectories.
type MachOHashAgility int

const (
	// AgilityAll lists every CodeDirectory (what codesign writes).
	AgilityAll MachOHashAgility = iota
	// AgilityPrimaryOnly lists only the slot-0 CodeDirectory: the alternate is left out.
	AgilityPrimaryOnly
	// AgilityOmit leaves the attribute out of the signature.
	AgilityOmit
	// AgilityAltMismatch lists every CodeDirectory but the alternate's value has one byte
	// flipped, so it matches no CodeDirectory.
	AgilityAltMismatch
)

// MachOAltCDOptions control MachOSignAltCD. The zero value gives a good signature.
type MachOAltCDOptions struct {
	Identifier string // signing identifier; default "com.fixture.hello"
	Timestamp  bool   // add an RFC 3161 timestamp from the chain's TSA

	// Plist is how the 1.2.840.113635.100.9.1 attribute (plist of CDHashes) is written.
	Plist MachOHashAgility
	// Hashes is how the 1.2.840.113635.100.9.2 attribute (digest per CD) is written.
	Hashes MachOHashAgility
	// FlipAltPageHash flips a bit of the hash of code page FlipPage in the alternate (SHA-256)
	// CodeDirectory only, before signing: the CMS and both attributes then bind the altered
	// CodeDirectory, and only a page check of the alternate can see the mismatch.
	FlipAltPageHash bool
	FlipPage        int
}

// MachOAltCDInfo describes what MachOSignAltCD wrote.
type MachOAltCDInfo struct {
	CD0, AltCD []byte // the SHA-1 (slot 0) and SHA-256 (slot 0x1000) CodeDirectory blobs
	CMS        []byte // DER CMS SignedData (detached) from the 0xfade0b01 wrapper
	// CDHash and AltCDHash are sha1(CD0) and sha256(AltCD)[:20], 40 hex each.
	CDHash, AltCDHash string
	// MessageDigest is the signed messageDigest attribute: SHA-256 over the CD0 bytes.
	MessageDigest []byte
	SigOffset     int // LC_CODE_SIGNATURE dataoff (= codeLimit of both CDs)
}

// MachOSignAltCD signs the thin 64-bit Mach-O at in (from MachOBuildHello: unsigned amd64 or
// linker-signed arm64) with a SHA-1 CodeDirectory in slot 0 and a SHA-256 alternate
// CodeDirectory in slot 0x1000, under chain, and writes out.
//
// relic's machos.Sign (SHA-256, one CD) is run first only to lay the file out: it adds or
// resizes LC_CODE_SIGNATURE and __LINKEDIT and yields the default designated requirement, the
// identifier, Team ID, flags and exec-segment fields. Everything of its signature except the
// requirements blob and those header fields is then discarded and rebuilt here.
func MachOSignAltCD(chain *AppleChain, in, out string, o MachOAltCDOptions) (*MachOAltCDInfo, error) {
	if o.Identifier == "" {
		o.Identifier = "com.fixture.hello"
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".altcd-prep-*")
	if err != nil {
		return nil, fmt.Errorf("altcd: %w", err)
	}
	prepPath := tmp.Name()
	_ = tmp.Close()
	defer os.Remove(prepPath)
	if err := MachOSign(chain, in, prepPath, MachOSignOptions{Identifier: o.Identifier}); err != nil {
		return nil, fmt.Errorf("altcd: layout: %w", err)
	}
	prep, err := os.ReadFile(prepPath) // #nosec G304 -- our temp file
	if err != nil {
		return nil, fmt.Errorf("altcd: %w", err)
	}
	b, info, err := machOAltCD(chain, prep, o)
	if err != nil {
		return nil, fmt.Errorf("altcd %s: %w", in, err)
	}
	if err := os.WriteFile(out, b, 0o755); err != nil { // #nosec G306 -- an executable fixture
		return nil, fmt.Errorf("altcd: %w", err)
	}
	return info, nil
}

// machOLayout locates the fields of a thin 64-bit little-endian Mach-O that a new signature
// changes.
type machOLayout struct {
	csCmd       int // offset of LC_CODE_SIGNATURE in the file
	sigOff      int
	sigSize     int
	linkeditCmd int // offset of the __LINKEDIT LC_SEGMENT_64
}

func machOFindLayout(b []byte) (machOLayout, error) {
	le := binary.LittleEndian
	l := machOLayout{csCmd: -1, linkeditCmd: -1}
	if len(b) < 32 || le.Uint32(b) != 0xfeedfacf {
		return l, errors.New("not a thin 64-bit little-endian Mach-O")
	}
	ncmds, off := int(le.Uint32(b[16:])), 32
	for i := 0; i < ncmds; i++ {
		if off+8 > len(b) {
			return l, errors.New("load commands truncated")
		}
		cmd, size := le.Uint32(b[off:]), int(le.Uint32(b[off+4:]))
		if size < 8 || off+size > len(b) {
			return l, fmt.Errorf("load command %d: bad size %d", i, size)
		}
		switch {
		case cmd == 0x1d:
			l.csCmd = off
			l.sigOff, l.sigSize = int(le.Uint32(b[off+8:])), int(le.Uint32(b[off+12:]))
		case cmd == 0x19 && size >= 72 && cstring16(b[off+8:off+24]) == "__LINKEDIT":
			l.linkeditCmd = off
		}
		off += size
	}
	if l.csCmd < 0 || l.linkeditCmd < 0 {
		return l, errors.New("no LC_CODE_SIGNATURE or __LINKEDIT")
	}
	if l.sigOff <= 0 || l.sigOff+l.sigSize > len(b) {
		return l, errors.New("code signature outside the file")
	}
	return l, nil
}

func cstring16(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// superBlobItems returns slot → blob (header included) of an embedded signature.
func superBlobItems(sig []byte) (map[uint32][]byte, error) {
	be := binary.BigEndian
	if len(sig) < 12 || be.Uint32(sig) != 0xfade0cc0 {
		return nil, errors.New("no embedded signature SuperBlob")
	}
	items := map[uint32][]byte{}
	for i := 0; i < int(be.Uint32(sig[8:])); i++ {
		if 20+8*i > len(sig) {
			return nil, errors.New("SuperBlob index truncated")
		}
		slot, off := be.Uint32(sig[12+8*i:]), int(be.Uint32(sig[16+8*i:]))
		if off+8 > len(sig) {
			return nil, errors.New("SuperBlob entry out of range")
		}
		n := int(be.Uint32(sig[off+4:]))
		if off+n > len(sig) {
			return nil, errors.New("SuperBlob entry out of range")
		}
		items[slot] = sig[off : off+n]
	}
	return items, nil
}

// machOAltCD replaces the signature of prep (laid out by relic) with the two-CodeDirectory
// signature, and returns the file and what it wrote.
func machOAltCD(chain *AppleChain, prep []byte, o MachOAltCDOptions) ([]byte, *MachOAltCDInfo, error) {
	lay, err := machOFindLayout(prep)
	if err != nil {
		return nil, nil, err
	}
	t, err := readCDTemplate(prep, lay)
	if err != nil {
		return nil, nil, err
	}
	// Signature layout: index of 4 entries, CD0, requirements, alternate CD, CMS wrapper. The
	// size is fixed before the pages are hashed because LC_CODE_SIGNATURE and __LINKEDIT are
	// in page 0; the CMS gets a 16 KiB reserve (as relic reserves), zero-padded like codesign.
	const cmsReserve = 16384
	fixed := 12 + 4*8 + t.cdLen(sha1.Size) + len(t.req) + t.cdLen(sha256.Size) + 8
	sigSize := (fixed + cmsReserve + 15) &^ 15
	data := resizeSignature(prep, lay, sigSize)
	cd0 := t.build(data, sha1.New, 1)
	alt := t.build(data, sha256.New, 2)
	if o.FlipAltPageHash {
		if o.FlipPage < 0 || o.FlipPage >= t.nCode {
			return nil, nil, fmt.Errorf("page %d out of range (%d pages)", o.FlipPage, t.nCode)
		}
		alt[int(binary.BigEndian.Uint32(alt[16:]))+o.FlipPage*sha256.Size] ^= 0x01
	}

	s1 := sha1.Sum(cd0) // #nosec G401
	s256 := sha256.Sum256(alt)
	info := &MachOAltCDInfo{
		CD0: cd0, AltCD: alt, SigOffset: lay.sigOff,
		CDHash: fmt.Sprintf("%x", s1[:20]), AltCDHash: fmt.Sprintf("%x", s256[:20]),
	}
	md := sha256.Sum256(cd0)
	info.MessageDigest = md[:]

	cms, err := altCDCMS(chain, cd0, [][]byte{s1[:], s256[:]}, o)
	if err != nil {
		return nil, nil, err
	}
	info.CMS = cms
	sb, err := superBlob([]superBlobEntry{{0, cd0}, {2, t.req}, {0x1000, alt}, {0x10000, cmsWrapper(cms)}}, sigSize)
	if err != nil {
		return nil, nil, err
	}
	return append(data, sb...), info, nil
}

// cdTemplate is what the new CodeDirectories take from relic's: its header (everything
// before the identifier: magic, version, flags, platform, exec segment, ...), identifier,
// Team ID and requirements blob, and the code they cover.
type cdTemplate struct {
	tmpl, req   []byte
	identOff    int
	ident, team string
	codeLimit   int
	nCode       int // code pages
}

// The new CodeDirectories' page size (log2) and special slots: -1 Info.plist (absent, zero),
// -2 requirements.
const (
	cdPageLog2 = 12
	cdNSpecial = 2
)

// readCDTemplate reads relic's CodeDirectory and requirements from the signature of prep.
func readCDTemplate(prep []byte, lay machOLayout) (*cdTemplate, error) {
	be := binary.BigEndian
	items, err := superBlobItems(prep[lay.sigOff : lay.sigOff+lay.sigSize])
	if err != nil {
		return nil, err
	}
	t := &cdTemplate{tmpl: items[0], req: items[2]}
	if t.tmpl == nil || t.req == nil {
		return nil, errors.New("relic's signature has no CodeDirectory or requirements")
	}
	// Sizes and offsets of the header are rewritten.
	t.identOff = int(be.Uint32(t.tmpl[20:]))
	if t.identOff < 88 || t.identOff > len(t.tmpl) {
		return nil, fmt.Errorf("unexpected CodeDirectory header size %d", t.identOff)
	}
	t.ident = cstring16(t.tmpl[t.identOff:])
	if off := int(be.Uint32(t.tmpl[48:])); off != 0 {
		t.team = cstring16(t.tmpl[off:])
	}
	if be.Uint64(t.tmpl[56:]) != 0 {
		return nil, errors.New("codeLimit64 fixtures are not supported")
	}
	t.codeLimit = lay.sigOff
	if int(be.Uint32(t.tmpl[32:])) != t.codeLimit {
		return nil, fmt.Errorf("relic codeLimit %d != signature offset %d", be.Uint32(t.tmpl[32:]), t.codeLimit)
	}
	t.nCode = (t.codeLimit + (1 << cdPageLog2) - 1) >> cdPageLog2
	return t, nil
}

// cdLen is the length of a CodeDirectory of hashSize-byte hashes.
func (t *cdTemplate) cdLen(hashSize int) int {
	n := t.identOff + len(t.ident) + 1
	if t.team != "" {
		n += len(t.team) + 1
	}
	return n + (cdNSpecial+t.nCode)*hashSize
}

// resizeSignature returns the code of prep (up to the signature) with LC_CODE_SIGNATURE and
// __LINKEDIT sized for a signature of sigSize bytes.
func resizeSignature(prep []byte, lay machOLayout, sigSize int) []byte {
	le := binary.LittleEndian
	data := append([]byte(nil), prep[:lay.sigOff]...)
	le.PutUint32(data[lay.csCmd+12:], uint32(sigSize))
	seg := data[lay.linkeditCmd:]
	fileoff := le.Uint64(seg[40:])
	filesize := uint64(lay.sigOff+sigSize) - fileoff
	le.PutUint64(seg[48:], filesize)
	if vmsize := le.Uint64(seg[32:]); vmsize < filesize {
		le.PutUint64(seg[32:], (filesize+0x3fff)&^0x3fff)
	}
	return data
}

// build returns a CodeDirectory of data (the code) with newHash's hashes (hashType in the
// header): the template's header, identifier and Team ID, the special slots and the pages.
func (t *cdTemplate) build(data []byte, newHash func() hash.Hash, hashType byte) []byte {
	be := binary.BigEndian
	hs := newHash().Size()
	cd := make([]byte, t.identOff, t.cdLen(hs))
	copy(cd, t.tmpl[:t.identOff])
	cd = append(cd, t.ident...)
	cd = append(cd, 0)
	teamOff := 0
	if t.team != "" {
		teamOff = len(cd)
		cd = append(cd, t.team...)
		cd = append(cd, 0)
	}
	cd = append(cd, make([]byte, hs)...) // slot -2 comes first in memory
	h := newHash()
	h.Write(t.req)
	copy(cd[len(cd)-hs:], h.Sum(nil))
	cd = append(cd, make([]byte, hs)...) // slot -1: no Info.plist
	hashOff := len(cd)
	for i := 0; i < t.nCode; i++ {
		end := min((i+1)<<cdPageLog2, t.codeLimit)
		h := newHash()
		h.Write(data[i<<cdPageLog2 : end])
		cd = h.Sum(cd)
	}
	be.PutUint32(cd[4:], uint32(len(cd)))
	be.PutUint32(cd[16:], uint32(hashOff))
	be.PutUint32(cd[20:], uint32(t.identOff))
	be.PutUint32(cd[24:], cdNSpecial)
	be.PutUint32(cd[28:], uint32(t.nCode))
	be.PutUint32(cd[32:], uint32(t.codeLimit))
	cd[36], cd[37], cd[39] = byte(hs), hashType, cdPageLog2
	be.PutUint32(cd[44:], 0) // no scatter
	be.PutUint32(cd[48:], uint32(teamOff))
	return cd
}

// cmsWrapper wraps a CMS signature in its 0xfade0b01 blob.
func cmsWrapper(cms []byte) []byte {
	be := binary.BigEndian
	wrapper := make([]byte, 8, 8+len(cms))
	be.PutUint32(wrapper, 0xfade0b01)
	be.PutUint32(wrapper[4:], uint32(8+len(cms)))
	return append(wrapper, cms...)
}

// superBlobEntry is one blob of an embedded signature and its slot.
type superBlobEntry struct {
	slot uint32
	blob []byte
}

// superBlob returns the embedded signature SuperBlob of entries, zero-padded to sigSize.
func superBlob(entries []superBlobEntry, sigSize int) ([]byte, error) {
	be := binary.BigEndian
	sb := make([]byte, 12+8*len(entries))
	be.PutUint32(sb, 0xfade0cc0)
	be.PutUint32(sb[8:], uint32(len(entries)))
	for i, e := range entries {
		be.PutUint32(sb[12+8*i:], e.slot)
		be.PutUint32(sb[16+8*i:], uint32(len(sb)))
		sb = append(sb, e.blob...)
	}
	be.PutUint32(sb[4:], uint32(len(sb)))
	if len(sb) > sigSize {
		return nil, fmt.Errorf("signature (%d bytes) overflows the reserved %d bytes", len(sb), sigSize)
	}
	return append(sb, make([]byte, sigSize-len(sb))...), nil
}

// altCDCMS builds the detached CMS SignedData over cd0 (digest SHA-256, RSA leaf of chain)
// with contentType, signingTime, messageDigest and the two hash-agility attributes, in DER
// SET OF order. fullDigests are the full digests of the CDs in slot order (SHA-1, SHA-256).
func altCDCMS(chain *AppleChain, cd0 []byte, fullDigests [][]byte, o MachOAltCDOptions) ([]byte, error) {
	var attrs pkcs7.AttributeList
	if err := attrs.Add(pkcs7.OidAttributeContentType, pkcs7.OidData); err != nil {
		return nil, err
	}
	if err := attrs.Add(pkcs7.OidAttributeSigningTime, time.Now().UTC().Truncate(time.Second)); err != nil {
		return nil, err
	}
	md := sha256.Sum256(cd0)
	if err := attrs.Add(pkcs7.OidAttributeMessageDigest, md[:]); err != nil {
		return nil, err
	}
	if err := addCDHashes(&attrs, fullDigests, o.Hashes); err != nil {
		return nil, err
	}
	if err := addCDHashPlist(&attrs, fullDigests, o.Plist); err != nil {
		return nil, err
	}
	sorted, err := derSetOrder(attrs)
	if err != nil {
		return nil, err
	}
	return signDetached(chain, cd0, sorted, o.Timestamp)
}

// agilityDigests returns the indexes (slot order) of the CodeDirectories a hash-agility
// attribute lists in mode, and whether the alternate's value is to be spoilt.
func agilityDigests(mode MachOHashAgility) (idx []int, badAlt bool) {
	switch mode {
	case AgilityPrimaryOnly:
		return []int{0}, false
	case AgilityOmit:
		return nil, false
	case AgilityAltMismatch:
		return []int{0, 1}, true
	}
	return []int{0, 1}, false
}

// addCDHashes adds the 1.2.840.113635.100.9.2 attributes (digest OID, full CD digest) as
// mode says.
func addCDHashes(attrs *pkcs7.AttributeList, fullDigests [][]byte, mode MachOHashAgility) error {
	hashFuncs := []crypto.Hash{crypto.SHA1, crypto.SHA256}
	idx, bad := agilityDigests(mode)
	for _, i := range idx {
		alg, ok := x509tools.PkixDigestAlgorithm(hashFuncs[i])
		if !ok {
			return fmt.Errorf("no OID for %v", hashFuncs[i])
		}
		d := append([]byte(nil), fullDigests[i]...)
		if bad && i == 1 {
			d[len(d)-1] ^= 0xff
		}
		if err := attrs.Add(oidAppleCDHashes, struct {
			Algorithm asn1.ObjectIdentifier
			Digest    []byte
		}{alg.Algorithm, d}); err != nil {
			return err
		}
	}
	return nil
}

// addCDHashPlist adds the 1.2.840.113635.100.9.1 attribute (plist of 20-byte CDHashes) as
// mode says.
func addCDHashPlist(attrs *pkcs7.AttributeList, fullDigests [][]byte, mode MachOHashAgility) error {
	idx, bad := agilityDigests(mode)
	if idx == nil {
		return nil
	}
	var pl bytes.Buffer
	pl.WriteString("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" \"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n<dict>\n\t<key>cdhashes</key>\n\t<array>\n")
	for _, i := range idx {
		h := append([]byte(nil), fullDigests[i][:20]...)
		if bad && i == 1 {
			h[0] ^= 0xff
		}
		fmt.Fprintf(&pl, "\t\t<data>\n\t\t%s\n\t\t</data>\n", base64.StdEncoding.EncodeToString(h))
	}
	pl.WriteString("\t</array>\n</dict>\n</plist>\n")
	return attrs.Add(oidAppleCDHashPlist, pl.Bytes())
}

// derSetOrder returns attrs in DER SET OF order: by the encoding of each attribute.
func derSetOrder(attrs pkcs7.AttributeList) (pkcs7.AttributeList, error) {
	enc := make([][]byte, len(attrs))
	for i := range attrs {
		b, err := asn1.Marshal(attrs[i])
		if err != nil {
			return nil, err
		}
		enc[i] = b
	}
	order := make([]int, len(attrs))
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return bytes.Compare(enc[order[a]], enc[order[b]]) < 0 })
	sorted := make(pkcs7.AttributeList, len(attrs))
	for i, j := range order {
		sorted[i] = attrs[j]
	}
	return sorted, nil
}

// signDetached signs the signed attributes with chain's leaf and returns the detached CMS
// SignedData over cd0 with the chain's certificates, timestamped when timestamp is set.
func signDetached(chain *AppleChain, cd0 []byte, signedAttrs pkcs7.AttributeList, timestamp bool) ([]byte, error) {
	signed, err := signedAttrs.Bytes()
	if err != nil {
		return nil, err
	}
	digest := sha256.Sum256(signed)
	sig, err := chain.LeafKey.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return nil, err
	}
	digestAlg, sigAlg, err := x509tools.PkixAlgorithms(chain.LeafKey.Public(), crypto.SHA256)
	if err != nil {
		return nil, err
	}
	content, err := pkcs7.NewContentInfo(pkcs7.OidData, cd0)
	if err != nil {
		return nil, err
	}
	psd := &pkcs7.ContentInfoSignedData{
		ContentType: pkcs7.OidSignedData,
		Content: pkcs7.SignedData{
			Version:                    1,
			DigestAlgorithmIdentifiers: []pkix.AlgorithmIdentifier{digestAlg},
			ContentInfo:                content,
			Certificates:               rawCerts(chain.Leaf.Raw, chain.Intermediate.Raw, chain.Root.Raw),
			SignerInfos: []pkcs7.SignerInfo{{
				Version: 1,
				IssuerAndSerialNumber: pkcs7.IssuerAndSerial{
					IssuerName:   asn1.RawValue{FullBytes: chain.Leaf.RawIssuer},
					SerialNumber: chain.Leaf.SerialNumber,
				},
				DigestAlgorithm:           digestAlg,
				AuthenticatedAttributes:   signedAttrs,
				DigestEncryptionAlgorithm: sigAlg,
				EncryptedDigest:           sig,
			}},
		},
	}
	var ts pkcs9.Timestamper
	if timestamp {
		ts = chain.Signer(true).Timestamper
	}
	// Timestamps (when asked) and self-checks the signature with the content attached.
	if _, err := pkcs9.TimestampAndMarshal(context.Background(), psd, ts, false); err != nil {
		return nil, err
	}
	if _, err := psd.Detach(); err != nil {
		return nil, err
	}
	return psd.Marshal()
}

func rawCerts(ders ...[]byte) pkcs7.RawCertificates {
	out := make(pkcs7.RawCertificates, len(ders))
	for i, d := range ders {
		out[i] = asn1.RawValue{FullBytes: d}
	}
	return out
}
