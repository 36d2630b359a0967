package testfixtures

import (
	"bytes"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"howett.net/plist"
)

// This file builds the hostile inputs of issue #12 (items 3 and 6) for the tests and for
// scripts/hostile/signers.sh: signature blobs that nest BER headers millions of levels deep
// and bundles whose seal has tens of thousands of rules. Everything is written by hand, so
// that no parser under test is involved in making them.

// CPU types for MachOTiny.
const (
	CPUArm64  = 0x0100000c
	CPUX86_64 = 0x01000007
)

// BERBomb returns n nested indefinite-length SEQUENCE headers, "30 80 30 80 ...", with no
// end-of-contents markers: the shape that made fullsailor/pkcs7 overflow the stack.
func BERBomb(n int) []byte { return bytes.Repeat([]byte{0x30, 0x80}, n) }

// MachOTiny returns a minimal thin 64-bit little-endian Mach-O for cpu with one 4 KiB page of
// code, a __LINKEDIT segment that ends at the end of the file, and an embedded signature: one
// version 0x20400 SHA-256 CodeDirectory (identifier ident) and, when cms is not nil, a CMS
// wrapper blob holding cms. Without cms the CodeDirectory is marked ad-hoc, and the file
// verifies as an ad-hoc signature.
func MachOTiny(cpu uint32, ident string, cms []byte) []byte {
	le, be := binary.LittleEndian, binary.BigEndian
	const page = 4096
	const identOff = 88 // right after the version 0x20400 header
	hashOff := identOff + max(8, (len(ident)+1+7)&^7)
	cdLen := hashOff + 32
	nItems := 1
	if cms != nil {
		nItems = 2
	}
	sbHdr := 12 + 8*nItems
	sbLen := sbHdr + cdLen
	if cms != nil {
		sbLen += 8 + len(cms)
	}
	b := make([]byte, page+sbLen)
	le.PutUint32(b[0:], 0xfeedfacf)
	le.PutUint32(b[4:], cpu)
	le.PutUint32(b[12:], 2)     // MH_EXECUTE
	le.PutUint32(b[16:], 2)     // ncmds
	le.PutUint32(b[20:], 72+16) // sizeofcmds
	seg := b[32:]
	le.PutUint32(seg[0:], 0x19) // LC_SEGMENT_64
	le.PutUint32(seg[4:], 72)
	copy(seg[8:24], "__LINKEDIT")
	le.PutUint64(seg[24:], 0x100000000) // vmaddr
	le.PutUint64(seg[32:], uint64((sbLen+page-1)&^(page-1)))
	le.PutUint64(seg[40:], page)          // fileoff
	le.PutUint64(seg[48:], uint64(sbLen)) // filesize: to the end of the file
	le.PutUint32(seg[56:], 1)             // maxprot
	le.PutUint32(seg[60:], 1)             // initprot
	cs := b[32+72:]
	le.PutUint32(cs[0:], 0x1d) // LC_CODE_SIGNATURE
	le.PutUint32(cs[4:], 16)
	le.PutUint32(cs[8:], page)
	le.PutUint32(cs[12:], uint32(sbLen))
	copy(b[1024:], "some code bytes")

	sb := b[page:]
	be.PutUint32(sb[0:], 0xfade0cc0)
	be.PutUint32(sb[4:], uint32(sbLen))
	be.PutUint32(sb[8:], uint32(nItems))
	be.PutUint32(sb[12:], 0) // slot 0: CodeDirectory
	be.PutUint32(sb[16:], uint32(sbHdr))
	cd := sb[sbHdr : sbHdr+cdLen]
	be.PutUint32(cd[0:], 0xfade0c02)
	be.PutUint32(cd[4:], uint32(cdLen))
	be.PutUint32(cd[8:], 0x20400)
	if cms == nil {
		be.PutUint32(cd[12:], 0x2) // adhoc
	}
	be.PutUint32(cd[16:], uint32(hashOff))
	be.PutUint32(cd[20:], uint32(identOff))
	be.PutUint32(cd[28:], 1) // nCodeSlots
	be.PutUint32(cd[32:], page)
	cd[36], cd[37], cd[39] = 32, 2, 12
	copy(cd[identOff:], ident+"\x00")
	if cms != nil {
		w := sb[sbHdr+cdLen:]
		be.PutUint32(sb[20:], 0x10000) // slot: CMS signature
		be.PutUint32(sb[24:], uint32(sbHdr+cdLen))
		be.PutUint32(w[0:], 0xfade0b01)
		be.PutUint32(w[4:], uint32(8+len(cms)))
		copy(w[8:], cms)
	}
	h := sha256.Sum256(b[:page])
	copy(cd[hashOff:], h[:])
	return b
}

// PETiny returns a minimal PE32+ (amd64) image with no sections whose certificate table holds
// one WIN_CERTIFICATE (revision 2.0, PKCS#7 signed data) carrying blob, padded to 8 bytes.
func PETiny(blob []byte) []byte {
	const hdrSize = 0x200
	b := make([]byte, hdrSize)
	copy(b, "MZ")
	le := binary.LittleEndian
	le.PutUint32(b[0x3c:], 0x40)
	copy(b[0x40:], "PE\x00\x00")
	coff := b[0x44:]
	le.PutUint16(coff[0:], 0x8664)
	le.PutUint16(coff[16:], 240) // SizeOfOptionalHeader: PE32+ with 16 data directories
	le.PutUint16(coff[18:], 0x22)
	opt := b[0x58:]
	le.PutUint16(opt[0:], 0x20b)
	le.PutUint32(opt[60:], hdrSize) // SizeOfHeaders
	le.PutUint32(opt[108:], 16)     // NumberOfRvaAndSizes
	if blob == nil {
		return b
	}
	n := 8 + len(blob)
	padded := (n + 7) &^ 7
	le.PutUint32(opt[112+4*8:], hdrSize)          // certificate table offset
	le.PutUint32(opt[112+4*8+4:], uint32(padded)) // and size
	entry := make([]byte, padded)
	le.PutUint32(entry[0:], uint32(n))
	le.PutUint16(entry[4:], 0x0200)
	le.PutUint16(entry[6:], 2)
	copy(entry[8:], blob)
	return append(b, entry...)
}

// SealBundleSpec describes a bundle for SealBundle.
type SealBundleSpec struct {
	Name  string // bundle name without .app; default "Seal"
	Rules int    // rules2 entries besides the default ones
	// ExactRules makes every extra rule an exact path ("^Resources/f00001\.txt$", which an
	// index answers); otherwise each is a regular expression no index can answer
	// ("^Resources/.*x00001").
	ExactRules bool
	Files      int // files under Contents/Resources, none of them sealed in files2
	Executable []byte
	// CodeResources, when set, is written as _CodeSignature/CodeResources instead of the
	// generated one (a hostile property list).
	CodeResources []byte
}

// SealBundle writes Name.app under dir: Info.plist, the executable as Contents/MacOS/Name, a
// CodeResources whose rules2 holds Apple's default rules plus spec.Rules extra rules, and
// spec.Files unsealed resource files, which the seal check must try against every rule.
// It returns the bundle's path. The bundle is not validly signed: it measures how long the
// seal check takes on a hostile CodeResources.
func SealBundle(dir string, spec SealBundleSpec) (string, error) {
	if spec.Name == "" {
		spec.Name = "Seal"
	}
	app := filepath.Join(dir, spec.Name+".app")
	res := filepath.Join(app, "Contents", "Resources")
	for _, d := range []string{res, filepath.Join(app, "Contents", "MacOS"), filepath.Join(app, "Contents", "_CodeSignature")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return "", fmt.Errorf("seal bundle: %w", err)
		}
	}
	info, err := plist.MarshalIndent(map[string]any{
		"CFBundleIdentifier": "com.fixture.seal", "CFBundleExecutable": spec.Name,
		"CFBundleShortVersionString": "1.0", "CFBundleVersion": "1", "CFBundlePackageType": "APPL",
	}, plist.XMLFormat, "\t")
	if err != nil {
		return "", fmt.Errorf("seal bundle: %w", err)
	}
	if err := os.WriteFile(filepath.Join(app, "Contents", "Info.plist"), info, 0o644); err != nil {
		return "", fmt.Errorf("seal bundle: %w", err)
	}
	if err := os.WriteFile(filepath.Join(app, "Contents", "MacOS", spec.Name), spec.Executable, 0o755); err != nil { // #nosec G306 -- an executable fixture
		return "", fmt.Errorf("seal bundle: %w", err)
	}
	rules := AppleDefaultRules2()
	for i := 0; i < spec.Rules; i++ {
		if spec.ExactRules {
			rules[fmt.Sprintf(`^Resources/f%06d\.txt$`, i)] = map[string]any{"weight": 30.0}
		} else {
			rules[fmt.Sprintf(`^Resources/.*x%06d`, i)] = map[string]any{"weight": 30.0}
		}
	}
	cr := spec.CodeResources
	if cr == nil {
		if cr, err = plist.Marshal(map[string]any{"files": map[string]any{}, "files2": map[string]any{}, "rules2": rules}, plist.BinaryFormat); err != nil {
			return "", fmt.Errorf("seal bundle: %w", err)
		}
	}
	if err := os.WriteFile(filepath.Join(app, "Contents", "_CodeSignature", "CodeResources"), cr, 0o644); err != nil {
		return "", fmt.Errorf("seal bundle: %w", err)
	}
	var name strings.Builder
	for i := 0; i < spec.Files; i++ {
		name.Reset()
		fmt.Fprintf(&name, "f%06d.txt", i)
		if err := os.WriteFile(filepath.Join(res, name.String()), nil, 0o644); err != nil {
			return "", fmt.Errorf("seal bundle: %w", err)
		}
	}
	return app, nil
}

// OIDs of the unauthenticated attributes a hostile blob can hide in.
var (
	OIDTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14} // RFC 3161 token
	OIDNestedSig      = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 2, 4, 1}     // nested Authenticode signature
	OIDMSTimestamp    = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 311, 3, 3, 1}     // Microsoft legacy timestamp
	OIDCounterSig     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 6}         // PKCS#9 countersignature
	OIDCDHashesPlist  = asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 1}       // Apple CDHash plist
)

// SetUnauthAttr returns the DER CMS blob der with the unauthenticated attribute oid of its
// signer set to a SET holding value (raw bytes, not checked: a BER bomb fits); an existing
// attribute of that type is replaced, otherwise one is added. The signature is not touched,
// and unauthenticated attributes are not covered by it.
func SetUnauthAttr(der []byte, oid asn1.ObjectIdentifier, value []byte) ([]byte, error) {
	psd, err := pkcs7.Unmarshal(der)
	if err != nil {
		return nil, fmt.Errorf("set attribute: %w", err)
	}
	if len(psd.Content.SignerInfos) == 0 {
		return nil, errors.New("set attribute: no signer")
	}
	si := &psd.Content.SignerInfos[0]
	si.RawContent = nil // otherwise encoding/asn1 writes the original bytes back
	set := asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: value}
	found := false
	for i := range si.UnauthenticatedAttributes {
		if si.UnauthenticatedAttributes[i].Type.Equal(oid) {
			si.UnauthenticatedAttributes[i].Values = set
			found = true
		}
	}
	if !found {
		si.UnauthenticatedAttributes = append(si.UnauthenticatedAttributes, pkcs7.Attribute{Type: oid, Values: set})
	}
	out, err := psd.Marshal()
	if err != nil {
		return nil, fmt.Errorf("set attribute: %w", err)
	}
	return out, nil
}

// MachOCMS returns the CMS blob of a thin 64-bit Mach-O's embedded signature (nil when it
// has none).
func MachOCMS(b []byte) ([]byte, error) {
	lay, err := machOFindLayout(b)
	if err != nil {
		return nil, err
	}
	items, err := superBlobItems(b[lay.sigOff : lay.sigOff+lay.sigSize])
	if err != nil {
		return nil, err
	}
	w := items[0x10000]
	if len(w) <= 8 {
		return nil, nil
	}
	return w[8:], nil
}

// PECertEntries returns the bCertificate payloads of the WIN_CERTIFICATE entries of a PE file
// (PE32 or PE32+), with a deliberately small parser of its own.
func PECertEntries(b []byte) ([][]byte, error) {
	le := binary.LittleEndian
	if len(b) < 0x40 || string(b[:2]) != "MZ" {
		return nil, errors.New("cert entries: not a PE file")
	}
	pe := int(le.Uint32(b[0x3c:]))
	if pe+24+2 > len(b) {
		return nil, errors.New("cert entries: truncated")
	}
	opt := pe + 24
	dir := opt + 96 + 4*8
	if le.Uint16(b[opt:]) == 0x20b {
		dir = opt + 112 + 4*8
	}
	if dir+8 > len(b) {
		return nil, errors.New("cert entries: truncated")
	}
	off, size := int(le.Uint32(b[dir:])), int(le.Uint32(b[dir+4:]))
	if off <= 0 || off+size > len(b) {
		return nil, errors.New("cert entries: no certificate table")
	}
	var out [][]byte
	for tbl := b[off : off+size]; len(tbl) >= 8; {
		n := int(le.Uint32(tbl))
		if n <= 8 || n > len(tbl) {
			break
		}
		out = append(out, tbl[8:n])
		tbl = tbl[min(len(tbl), (n+7)&^7):]
	}
	return out, nil
}
