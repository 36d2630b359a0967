package macho

import (
	"bytes"
	"crypto"
	"crypto/sha1" // #nosec G505 -- SHA-1 CodeDirectories exist and must be checked
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"sort"
)

// Limits that keep allocations proportional to real files rather than to size fields.
const (
	maxFatArchs   = 44       // real universal files have a handful of slices; a Java class file has >= 45 here
	maxSigBlob    = 64 << 20 // a code signature of 64 MiB would cover a ~8 GiB binary
	maxLoadCmds   = 16 << 20 // sizeofcmds cap
	maxSuperItems = 64       // real SuperBlobs hold fewer than 12 entries
)

// Mach-O constants.
const (
	lcSegment       = 0x1
	lcSegment64     = 0x19
	lcCodeSignature = 0x1d
	lcSymtab        = 0x2

	cpuArch64   = 0x01000000
	cpuArch6432 = 0x02000000
	cpuX86      = 7
	cpuARM      = 12
	cpuPPC      = 18
)

// Code signing blob magics and SuperBlob slots.
const (
	magicEmbeddedSignature = 0xfade0cc0
	magicCodeDirectory     = 0xfade0c02
	magicRequirements      = 0xfade0c01
	magicRequirement       = 0xfade0c00
	magicEntitlements      = 0xfade7171
	magicEntitlementsDER   = 0xfade7172
	magicBlobWrapper       = 0xfade0b01

	slotCodeDirectory   = 0
	slotInfoPlist       = 1
	slotRequirements    = 2
	slotResources       = 3
	slotEntitlements    = 5
	slotEntitlementsDER = 7
	slotAltCDFirst      = 0x1000
	slotAltCDLast       = 0x1004
	slotCMS             = 0x10000

	reqTypeDesignated = 3 // designated requirement in a requirements SuperBlob (CSCommon.h)
)

// ErrNotMachO is returned for input that is neither a thin nor a universal Mach-O file.
var ErrNotMachO = errors.New("not a Mach-O file")

// sliceRef is one architecture of a (possibly universal) file.
type sliceRef struct {
	arch   string
	offset int64 // of the slice in the file
	size   int64
	align  uint32 // log2 of the slice's alignment (universal files)
}

// parseFat reads a universal header and returns its slices and the end of the header (the
// arch table). Every slice must lie inside the file, after the header, and slices must not
// overlap.
//
// Like Apple's Universal constructor (OSX/libsecurity_utilities/lib/macho++.cpp), it reads
// one entry past nfat_arch: when that entry is an arm64 slice, it counts (a "hidden" arm64
// slice, which old toolchains wrote for iOS 7 devices; 15001604 in Apple's source).
func parseFat(r io.ReaderAt, size int64) ([]sliceRef, int64, error) {
	var hdr [8]byte
	if err := readAt(r, hdr[:], 0, size); err != nil {
		return nil, 0, fmt.Errorf("universal header: %w", err)
	}
	magic := binary.BigEndian.Uint32(hdr[:])
	if magic != 0xcafebabe && magic != 0xcafebabf {
		return nil, 0, fmt.Errorf("universal header: bad magic %#08x: %w", magic, ErrNotMachO)
	}
	n := binary.BigEndian.Uint32(hdr[4:])
	if n == 0 || n > maxFatArchs {
		// A Java class file shares the magic; its next word is >= 45.
		return nil, 0, fmt.Errorf("universal header: %d architectures (a Java class file?): %w", n, ErrNotMachO)
	}
	entry := int64(20)
	if magic == 0xcafebabf {
		entry = 32
	}
	tbl := make([]byte, int64(n+1)*entry)
	if err := readAt(r, tbl[:int64(n)*entry], 8, size); err != nil {
		return nil, 0, fmt.Errorf("universal header: arch table: %w", err)
	}
	be := binary.BigEndian
	if readAt(r, tbl[int64(n)*entry:], 8+int64(n)*entry, size) == nil && be.Uint32(tbl[int64(n)*entry:]) == cpuARM|cpuArch64 {
		n++ // the hidden arm64 slice
	}
	end := 8 + int64(n)*entry
	out := make([]sliceRef, 0, n)
	for i := int64(0); i < int64(n); i++ {
		e := tbl[i*entry:]
		cpu, sub := be.Uint32(e), be.Uint32(e[4:])
		var off, sz uint64
		var align uint32
		if entry == 32 {
			off, sz, align = be.Uint64(e[8:]), be.Uint64(e[16:]), be.Uint32(e[24:])
		} else {
			off, sz, align = uint64(be.Uint32(e[8:])), uint64(be.Uint32(e[12:])), be.Uint32(e[16:])
		}
		name := archName(cpu, sub)
		if off < uint64(end) || off > uint64(size) || sz > uint64(size)-off || sz == 0 {
			return nil, 0, fmt.Errorf("universal header: slice %d (%s) at offset %d size %d lies outside the file (size %d)", i, name, off, sz, size)
		}
		out = append(out, sliceRef{arch: name, offset: int64(off), size: int64(sz), align: align})
	}
	sorted := append([]sliceRef(nil), out...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].offset < sorted[j].offset })
	for i := 1; i < len(sorted); i++ {
		if sorted[i].offset < sorted[i-1].offset+sorted[i-1].size {
			return nil, 0, fmt.Errorf("universal header: slices %s and %s overlap", sorted[i-1].arch, sorted[i].arch)
		}
	}
	return out, end, nil
}

// readAt reads exactly len(b) bytes at off, failing cleanly when that range is not inside size.
func readAt(r io.ReaderAt, b []byte, off, size int64) error {
	if off < 0 || off > size || int64(len(b)) > size-off {
		return fmt.Errorf("range [%d, %d) beyond end of data (%d bytes)", off, off+int64(len(b)), size)
	}
	n, err := r.ReadAt(b, off)
	if n == len(b) {
		return nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// archName names a CPU type/subtype pair as Apple tools do.
func archName(cpu, sub uint32) string {
	switch cpu {
	case cpuX86:
		return "i386"
	case cpuX86 | cpuArch64:
		if sub&0xff == 8 {
			return "x86_64h"
		}
		return "x86_64"
	case cpuARM | cpuArch64:
		if sub&0xff == 2 {
			return "arm64e"
		}
		return "arm64"
	case cpuARM | cpuArch6432:
		return "arm64_32"
	case cpuARM:
		switch sub & 0xff {
		case 9:
			return "armv7"
		case 11:
			return "armv7s"
		case 12:
			return "armv7k"
		}
		return "arm"
	case cpuPPC:
		return "ppc"
	case cpuPPC | cpuArch64:
		return "ppc64"
	}
	return fmt.Sprintf("cpu%#x", cpu)
}

// thinFile is what edrpolicy needs from one Mach-O header.
type thinFile struct {
	arch      string
	sigOff    int64 // LC_CODE_SIGNATURE dataoff, -1 when absent
	sigSize   int64
	infoPlist []byte // embedded __TEXT,__info_plist, if any
	// layoutEnd is where the file's last signed structure ends (see linkeditEnd), -1 when
	// there is none; layoutFrom names it, layoutErr is a malformed one.
	layoutEnd  int64
	layoutFrom string
	layoutErr  error
}

// parseThin reads a thin Mach-O header and its load commands from r (size bytes).
func parseThin(r io.ReaderAt, size int64) (*thinFile, error) {
	var hdr [32]byte
	if err := readAt(r, hdr[:28], 0, size); err != nil {
		return nil, fmt.Errorf("mach-o header: %w", err)
	}
	var bo binary.ByteOrder
	is64 := false
	switch binary.BigEndian.Uint32(hdr[:]) {
	case 0xcefaedfe:
		bo = binary.LittleEndian
	case 0xcffaedfe:
		bo, is64 = binary.LittleEndian, true
	case 0xfeedface:
		bo = binary.BigEndian
	case 0xfeedfacf:
		bo, is64 = binary.BigEndian, true
	default:
		return nil, fmt.Errorf("mach-o header: bad magic %#08x: %w", binary.BigEndian.Uint32(hdr[:]), ErrNotMachO)
	}
	hlen := int64(28)
	if is64 {
		hlen = 32
	}
	f := &thinFile{arch: archName(bo.Uint32(hdr[4:]), bo.Uint32(hdr[8:])), sigOff: -1}
	ncmds, sizeofcmds := bo.Uint32(hdr[16:]), int64(bo.Uint32(hdr[20:]))
	if sizeofcmds > size-hlen || sizeofcmds > maxLoadCmds {
		return nil, fmt.Errorf("mach-o header: load commands (%d bytes) extend past end of file (%d bytes)", sizeofcmds, size)
	}
	if int64(ncmds) > sizeofcmds/8 {
		return nil, fmt.Errorf("mach-o header: %d load commands cannot fit in %d bytes", ncmds, sizeofcmds)
	}
	cmds := make([]byte, sizeofcmds)
	if err := readAt(r, cmds, hlen, size); err != nil {
		return nil, fmt.Errorf("mach-o load commands: %w", err)
	}
	f.layoutEnd, f.layoutFrom, f.layoutErr = linkeditEnd(cmds, bo, ncmds)
	var plistOff, plistSize int64 = -1, 0
	off := int64(0)
	for i := uint32(0); i < ncmds; i++ {
		if off+8 > sizeofcmds {
			return nil, fmt.Errorf("mach-o load command %d: truncated at offset %d", i, off+hlen)
		}
		cmd, csize := bo.Uint32(cmds[off:]), int64(bo.Uint32(cmds[off+4:]))
		if csize < 8 || csize > sizeofcmds-off {
			return nil, fmt.Errorf("mach-o load command %d (%#x): size %d out of range", i, cmd, csize)
		}
		c := cmds[off : off+csize]
		switch cmd {
		case lcCodeSignature:
			if csize != 16 {
				return nil, fmt.Errorf("LC_CODE_SIGNATURE: size %d, want 16", csize)
			}
			if f.sigOff >= 0 {
				return nil, errors.New("LC_CODE_SIGNATURE: more than one")
			}
			f.sigOff, f.sigSize = int64(bo.Uint32(c[8:])), int64(bo.Uint32(c[12:]))
		case lcSegment, lcSegment64:
			if o, s, ok := findInfoPlist(c, bo, cmd == lcSegment64); ok {
				plistOff, plistSize = o, s
			}
		}
		off += csize
	}
	if plistOff >= 0 && plistSize > 0 && plistSize <= 1<<20 && plistOff <= size && plistSize <= size-plistOff {
		f.infoPlist = make([]byte, plistSize)
		if err := readAt(r, f.infoPlist, plistOff, size); err != nil {
			f.infoPlist = nil
		}
	}
	return f, nil
}

// findInfoPlist looks for the __TEXT,__info_plist section in a segment command.
func findInfoPlist(c []byte, bo binary.ByteOrder, is64 bool) (off, size int64, ok bool) {
	segHdr, secLen := 56, 68
	if is64 {
		segHdr, secLen = 72, 80
	}
	if len(c) < segHdr || cstr(c[8:24]) != "__TEXT" {
		return 0, 0, false
	}
	nsects := int(bo.Uint32(c[segHdr-8:]))
	for i := 0; i < nsects; i++ {
		s := c[segHdr+i*secLen:]
		if len(s) < secLen {
			return 0, 0, false
		}
		if cstr(s[0:16]) != "__info_plist" {
			continue
		}
		if is64 {
			return int64(bo.Uint32(s[48:])), int64(bo.Uint64(s[40:])), true
		}
		return int64(bo.Uint32(s[40:])), int64(bo.Uint32(s[36:])), true
	}
	return 0, 0, false
}

func cstr(b []byte) string {
	if i := bytes.IndexByte(b, 0); i >= 0 {
		b = b[:i]
	}
	return string(b)
}

// superBlob is a parsed embedded signature.
type superBlob struct {
	raw          []byte
	cds          []*codeDir // slot 0 first, then alternates in slot order
	requirements []byte     // whole blob, header included
	entXML       []byte
	entDER       []byte
	cms          []byte // CMS DER/BER (wrapper payload); nil when absent or empty
	hasWrapper   bool
}

// blobAt returns the slot's blob (header included) from a SuperBlob.
type superItem struct {
	slot uint32
	data []byte
}

// parseSuperItems validates a SuperBlob's header and index and returns its items. Every
// offset and length is checked against the blob; nothing is allocated from a count field.
func parseSuperItems(b []byte, wantMagic uint32) ([]superItem, error) {
	be := binary.BigEndian
	if len(b) < 12 {
		return nil, fmt.Errorf("superblob: %d bytes, too short", len(b))
	}
	if m := be.Uint32(b); m != wantMagic {
		return nil, fmt.Errorf("superblob: magic %#08x, want %#08x", m, wantMagic)
	}
	length := be.Uint32(b[4:])
	if length < 12 || uint64(length) > uint64(len(b)) {
		return nil, fmt.Errorf("superblob: length %d exceeds the %d bytes available", length, len(b))
	}
	b = b[:length]
	count := be.Uint32(b[8:])
	if count > maxSuperItems || uint64(12)+8*uint64(count) > uint64(length) {
		return nil, fmt.Errorf("superblob: %d index entries do not fit in %d bytes", count, length)
	}
	dataStart := 12 + 8*count
	items := make([]superItem, 0, count)
	for i := uint32(0); i < count; i++ {
		slot, off := be.Uint32(b[12+8*i:]), be.Uint32(b[16+8*i:])
		if off < dataStart || uint64(off)+8 > uint64(length) {
			return nil, fmt.Errorf("superblob: entry %d (slot %#x) offset %d out of range", i, slot, off)
		}
		blen := be.Uint32(b[off+4:])
		if blen < 8 || uint64(off)+uint64(blen) > uint64(length) {
			return nil, fmt.Errorf("superblob: entry %d (slot %#x) length %d at offset %d runs past the blob (%d bytes)", i, slot, blen, off, length)
		}
		items = append(items, superItem{slot: slot, data: b[off : off+blen]})
	}
	return items, nil
}

// parseSuperBlob parses an embedded signature.
func parseSuperBlob(b []byte) (*superBlob, error) {
	items, err := parseSuperItems(b, magicEmbeddedSignature)
	if err != nil {
		return nil, err
	}
	sb := &superBlob{raw: b}
	be := binary.BigEndian
	for _, it := range items {
		magic := be.Uint32(it.data)
		switch {
		case it.slot == slotCodeDirectory || (it.slot >= slotAltCDFirst && it.slot <= slotAltCDLast):
			if magic != magicCodeDirectory {
				return nil, fmt.Errorf("superblob: slot %#x holds magic %#08x, not a CodeDirectory", it.slot, magic)
			}
			cd, err := parseCodeDirectory(it.data, it.slot)
			if err != nil {
				return nil, fmt.Errorf("code directory (slot %#x): %w", it.slot, err)
			}
			sb.cds = append(sb.cds, cd)
		case it.slot == slotRequirements:
			if magic != magicRequirements {
				return nil, fmt.Errorf("superblob: requirements slot holds magic %#08x", magic)
			}
			sb.requirements = it.data
		case it.slot == slotEntitlements:
			sb.entXML = it.data
		case it.slot == slotEntitlementsDER:
			sb.entDER = it.data
		case it.slot == slotCMS:
			if magic != magicBlobWrapper {
				return nil, fmt.Errorf("superblob: signature slot holds magic %#08x", magic)
			}
			sb.hasWrapper = true
			if len(it.data) > 8 {
				sb.cms = it.data[8:]
			}
		}
	}
	if len(sb.cds) == 0 {
		return nil, errors.New("superblob: no CodeDirectory")
	}
	sort.SliceStable(sb.cds, func(i, j int) bool { return sb.cds[i].slot < sb.cds[j].slot })
	if sb.cds[0].slot != slotCodeDirectory {
		return nil, errors.New("superblob: no primary CodeDirectory in slot 0")
	}
	for i := 1; i < len(sb.cds); i++ {
		if sb.cds[i].slot == sb.cds[i-1].slot {
			return nil, fmt.Errorf("superblob: CodeDirectory slot %#x appears twice", sb.cds[i].slot)
		}
	}
	return sb, nil
}

// codeDir is a parsed and bounds-checked CodeDirectory.
type codeDir struct {
	slot        uint32
	raw         []byte
	version     uint32
	flags       uint32
	hashOff     uint32
	nSpecial    uint32
	nCode       uint32
	codeLimit   int64
	hashSize    int
	hashType    uint8
	pageLog2    uint8
	ident, team string
}

// CodeDirectory hash types (cs_blobs.h).
const (
	hashSHA1            = 1
	hashSHA256          = 2
	hashSHA256Truncated = 3
	hashSHA384          = 4
)

// hashTypeName names a CodeDirectory hash type.
func hashTypeName(t uint8) string {
	switch t {
	case hashSHA1:
		return "sha1"
	case hashSHA256:
		return "sha256"
	case hashSHA256Truncated:
		return "sha256-truncated"
	case hashSHA384:
		return "sha384"
	}
	return fmt.Sprintf("unknown-%d", t)
}

// newHash returns the hash function of a CodeDirectory hash type and the size of its slots.
func newHash(t uint8) (func() hash.Hash, int, crypto.Hash, error) {
	switch t {
	case hashSHA1:
		return sha1.New, 20, crypto.SHA1, nil
	case hashSHA256:
		return sha256.New, 32, crypto.SHA256, nil
	case hashSHA256Truncated:
		return sha256.New, 20, crypto.SHA256, nil
	case hashSHA384:
		return sha512.New384, 48, crypto.SHA384, nil
	}
	return nil, 0, 0, fmt.Errorf("unsupported hash type %d", t)
}

// parseCodeDirectory checks a CodeDirectory blob (header included) so that every later access
// (slots, strings) stays in bounds.
func parseCodeDirectory(b []byte, slot uint32) (*codeDir, error) {
	be := binary.BigEndian
	if len(b) < 44 {
		return nil, fmt.Errorf("%d bytes, too short for a header", len(b))
	}
	cd := &codeDir{
		slot:      slot,
		raw:       b,
		version:   be.Uint32(b[8:]),
		flags:     be.Uint32(b[12:]),
		hashOff:   be.Uint32(b[16:]),
		nSpecial:  be.Uint32(b[24:]),
		nCode:     be.Uint32(b[28:]),
		codeLimit: int64(be.Uint32(b[32:])),
		hashSize:  int(b[36]),
		hashType:  b[37],
		pageLog2:  b[39],
	}
	identOff := be.Uint32(b[20:])
	need := 44
	switch {
	case cd.version >= 0x20300:
		need = 64
	case cd.version >= 0x20200:
		need = 52
	case cd.version >= 0x20100:
		need = 48
	}
	if len(b) < need {
		return nil, fmt.Errorf("version %#x header needs %d bytes, blob has %d", cd.version, need, len(b))
	}
	if cd.version >= 0x20100 && be.Uint32(b[44:]) != 0 {
		return nil, errors.New("scatter CodeDirectories are not supported")
	}
	if cd.version >= 0x20300 {
		if cl := be.Uint64(b[56:]); cl != 0 {
			if cl > 1<<62 {
				return nil, fmt.Errorf("codeLimit64 %d out of range", cl)
			}
			cd.codeLimit = int64(cl)
		}
	}
	_, size, _, err := newHash(cd.hashType)
	if err != nil {
		return nil, err
	}
	if cd.hashSize != size {
		return nil, fmt.Errorf("hash size %d does not match hash type %s", cd.hashSize, hashTypeName(cd.hashType))
	}
	if cd.pageLog2 != 0 && (cd.pageLog2 < 9 || cd.pageLog2 > 24) {
		return nil, fmt.Errorf("page size 2^%d out of range", cd.pageLog2)
	}
	n := uint64(len(b))
	hs := uint64(cd.hashSize)
	if uint64(cd.hashOff) < uint64(need) || uint64(cd.nSpecial)*hs > uint64(cd.hashOff) ||
		uint64(cd.hashOff)+uint64(cd.nCode)*hs > n {
		return nil, fmt.Errorf("hash slots (offset %d, %d special, %d code, %d bytes each) outside the %d-byte blob", cd.hashOff, cd.nSpecial, cd.nCode, cd.hashSize, len(b))
	}
	if cd.pageLog2 == 0 {
		if cd.nCode > 1 {
			return nil, fmt.Errorf("single-page CodeDirectory with %d code slots", cd.nCode)
		}
	} else if want := (uint64(cd.codeLimit) + (1 << cd.pageLog2) - 1) >> cd.pageLog2; want != uint64(cd.nCode) {
		return nil, fmt.Errorf("%d code slots do not cover codeLimit %d with %d-byte pages (need %d)", cd.nCode, cd.codeLimit, 1<<cd.pageLog2, want)
	}
	if cd.ident, err = cdString(b, identOff); err != nil {
		return nil, fmt.Errorf("identifier: %w", err)
	}
	if cd.version >= 0x20200 {
		if t := be.Uint32(b[48:]); t != 0 {
			if cd.team, err = cdString(b, t); err != nil {
				return nil, fmt.Errorf("team identifier: %w", err)
			}
		}
	}
	return cd, nil
}

func cdString(b []byte, off uint32) (string, error) {
	if off == 0 {
		return "", nil
	}
	if uint64(off) >= uint64(len(b)) {
		return "", fmt.Errorf("offset %d past the %d-byte blob", off, len(b))
	}
	i := bytes.IndexByte(b[off:], 0)
	if i < 0 {
		return "", errors.New("not NUL-terminated")
	}
	return string(b[off : int(off)+i]), nil
}

// specialSlot returns the hash stored in special slot n (1-based), or nil when the slot is
// absent or all zero.
func (cd *codeDir) specialSlot(n uint32) []byte {
	if n == 0 || n > cd.nSpecial {
		return nil
	}
	start := int(cd.hashOff) - int(n)*cd.hashSize
	h := cd.raw[start : start+cd.hashSize]
	for _, c := range h {
		if c != 0 {
			return h
		}
	}
	return nil
}

// codeSlot returns the hash of code page i.
func (cd *codeDir) codeSlot(i uint32) []byte {
	start := int(cd.hashOff) + int(i)*cd.hashSize
	return cd.raw[start : start+cd.hashSize]
}

// digest hashes b with the CodeDirectory's hash type, truncated to the slot size.
func (cd *codeDir) digest(b []byte) []byte {
	nh, _, _, _ := newHash(cd.hashType) // validated in parseCodeDirectory
	h := nh()
	h.Write(b)
	return h.Sum(nil)[:cd.hashSize]
}

// fullHash is the untruncated hash of the whole CodeDirectory blob (what the CMS signs).
func (cd *codeDir) fullHash() []byte {
	nh, _, _, _ := newHash(cd.hashType)
	h := nh()
	h.Write(cd.raw)
	return h.Sum(nil)
}

// cdhash is Apple's CDHash: the full hash truncated to 20 bytes.
func (cd *codeDir) cdhash() []byte { return cd.fullHash()[:20] }

// flagNames names the CodeDirectory flags as codesign -dv does; unknown bits appear in hex.
func flagNames(f uint32) []string {
	known := []struct {
		bit  uint32
		name string
	}{
		{0x1, "host"}, {0x2, "adhoc"}, {0x4, "get-task-allow"}, {0x8, "installer"},
		{0x10, "forced-library-validation"}, {0x20, "invalid-allowed"},
		{0x100, "hard"}, {0x200, "kill"}, {0x400, "expires"}, {0x800, "restrict"},
		{0x1000, "enforcement"}, {0x2000, "library-validation"},
		{0x10000, "runtime"}, {0x20000, "linker-signed"},
	}
	var out []string
	for _, k := range known {
		if f&k.bit != 0 {
			out = append(out, k.name)
			f &^= k.bit
		}
	}
	if f != 0 {
		out = append(out, fmt.Sprintf("%#x", f))
	}
	return out
}
