package authenticode

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// ErrNotPE is returned (wrapped) for input that is not a PE/COFF image at all.
var ErrNotPE = errors.New("not a PE file")

// ErrMalformed is returned (wrapped) for a PE file whose headers or certificate table are
// inconsistent: truncated headers, a section or certificate table outside the file, a
// certificate entry with a bogus length, a signature blob that is not PKCS#7.
var ErrMalformed = errors.New("malformed PE file")

// PE/COFF constants (Microsoft PE format specification).
const (
	dosHeaderSize     = 64
	coffHeaderSize    = 20
	sectionHeaderSize = 40
	optMagicPE32      = 0x10b
	optMagicPE32Plus  = 0x20b
	dirResource       = 2
	dirSecurity       = 4
	maxDataDirs       = 16
	// maxCertTable bounds the certificate table we are willing to hold in memory. Real tables
	// are a few KiB to a few hundred KiB; the bound is also capped by the file size.
	maxCertTable = 32 << 20
)

// section is one entry of the section table.
type section struct {
	Name           string
	VirtualSize    uint32
	VirtualAddress uint32
	SizeOfRawData  uint32
	PointerToRaw   uint32
}

// peFile is what the verifier needs from a PE file's headers. Every offset in it has been
// checked against the file size.
type peFile struct {
	size          int64
	machine       uint16
	pe32plus      bool
	sizeOfHeaders int64
	numDirs       uint32 // data directories present (capped by the optional header size and 16)
	checksumOff   int64  // file offset of the CheckSum field
	certDirOff    int64  // file offset of data directory 4 (certificate table), present or not
	certStart     int64  // certificate table file offset; 0 when unsigned
	certSize      int64  // certificate table size; 0 when unsigned
	rsrcRVA       uint32
	rsrcSize      uint32
	pageSize      int64
	sections      []section
}

// headerReader gives bounds-checked access to the first bytes of a file: from head when the
// range lies inside it, else from r (when not nil). It never reads past size.
type headerReader struct {
	head []byte
	r    io.ReaderAt
	size int64
}

func (h headerReader) at(off, n int64) ([]byte, error) {
	if off < 0 || n < 0 || off > h.size || n > h.size-off {
		return nil, fmt.Errorf("%w: %d bytes at offset %d lie past the end of the %d-byte file", ErrMalformed, n, off, h.size)
	}
	if off+n <= int64(len(h.head)) {
		return h.head[off : off+n], nil
	}
	if h.r == nil {
		return nil, errNeedMore
	}
	b := make([]byte, n) // n <= size, checked above
	if _, err := h.r.ReadAt(b, off); err != nil && !(errors.Is(err, io.EOF) && int64(len(b)) == n) {
		return nil, fmt.Errorf("read %d bytes at offset %d: %w", n, off, err)
	}
	return b, nil
}

// errNeedMore reports that the headers do not fit in the bytes given (stream tap only).
var errNeedMore = errors.New("headers extend past the bytes available")

var le = binary.LittleEndian

// parsePE reads and checks the DOS, COFF and optional headers and the section table. It
// handles optional headers with fewer than 16 data directories (EFI-stub kernels have 6),
// which relic's parser rejects.
func parsePE(hr headerReader) (*peFile, error) {
	peOff, coff, err := readCOFFHeader(hr)
	if err != nil {
		return nil, err
	}
	p := &peFile{size: hr.size, machine: le.Uint16(coff[0:]), pageSize: 4096}
	switch p.machine {
	case 0x200, 0x184, 0x284: // IA64, Alpha, Alpha64 use 8 KiB pages
		p.pageSize = 8192
	}
	nsec := int64(le.Uint16(coff[2:]))
	optSize := int64(le.Uint16(coff[16:]))
	optOff := peOff + 4 + coffHeaderSize
	if err := p.readOptionalHeader(hr, optOff, optSize); err != nil {
		return nil, err
	}
	if err := p.readSections(hr, optOff+optSize, nsec); err != nil {
		return nil, err
	}
	if err := p.checkCertTable(); err != nil {
		return nil, err
	}
	return p, nil
}

// readCOFFHeader checks the DOS header's MZ signature and the PE signature it points to, and
// returns the PE signature's offset and the COFF file header that follows it.
func readCOFFHeader(hr headerReader) (peOff int64, coff []byte, err error) {
	if hr.size < dosHeaderSize {
		return 0, nil, fmt.Errorf("%w: %d bytes is too small for a DOS header", ErrNotPE, hr.size)
	}
	dos, err := hr.at(0, dosHeaderSize)
	if err != nil {
		return 0, nil, err
	}
	if dos[0] != 'M' || dos[1] != 'Z' {
		return 0, nil, fmt.Errorf("%w: no MZ signature", ErrNotPE)
	}
	peOff = int64(le.Uint32(dos[0x3c:]))
	sig, err := hr.at(peOff, 4+coffHeaderSize)
	if err != nil {
		if errors.Is(err, errNeedMore) {
			return 0, nil, err
		}
		return 0, nil, fmt.Errorf("%w: PE header offset %#x is past the end of the file", ErrNotPE, peOff)
	}
	if string(sig[:4]) != "PE\x00\x00" {
		return 0, nil, fmt.Errorf("%w: no PE signature at offset %#x", ErrNotPE, peOff)
	}
	return peOff, sig[4:], nil
}

// readOptionalHeader reads the optional header of optSize bytes at optOff: PE32 or PE32+,
// SizeOfHeaders, the CheckSum and certificate-directory offsets, and the resource and
// certificate data directories when present. It checks that SizeOfHeaders lies inside the
// file and covers the certificate directory.
func (p *peFile) readOptionalHeader(hr headerReader, optOff, optSize int64) error {
	if optSize < 2 {
		return fmt.Errorf("%w: no optional header (SizeOfOptionalHeader %d)", ErrMalformed, optSize)
	}
	opt, err := hr.at(optOff, optSize)
	if err != nil {
		return fmt.Errorf("optional header: %w", err)
	}
	var dirBase int64
	switch le.Uint16(opt) {
	case optMagicPE32:
		dirBase = 96
	case optMagicPE32Plus:
		dirBase = 112
		p.pe32plus = true
	default:
		return fmt.Errorf("%w: unknown optional header magic %#x", ErrMalformed, le.Uint16(opt))
	}
	if optSize < dirBase {
		return fmt.Errorf("%w: optional header is %d bytes, want at least %d", ErrMalformed, optSize, dirBase)
	}
	p.sizeOfHeaders = int64(le.Uint32(opt[60:]))
	p.checksumOff = optOff + 64
	p.certDirOff = optOff + dirBase + dirSecurity*8
	p.readDataDirs(opt, dirBase)
	if p.sizeOfHeaders > hr.size {
		return fmt.Errorf("%w: SizeOfHeaders %#x is past the end of the %d-byte file", ErrMalformed, p.sizeOfHeaders, hr.size)
	}
	if p.certDirOff+8 > p.sizeOfHeaders {
		return fmt.Errorf("%w: SizeOfHeaders %#x does not cover the optional header", ErrMalformed, p.sizeOfHeaders)
	}
	return nil
}

// readDataDirs reads the data directories of the optional header opt, which start at
// dirBase: their number (NumberOfRvaAndSizes, capped by the header's size and by 16), the
// resource directory and the certificate table.
func (p *peFile) readDataDirs(opt []byte, dirBase int64) {
	nd := le.Uint32(opt[dirBase-4:])
	if avail := uint32((int64(len(opt)) - dirBase) / 8); nd > avail {
		nd = avail
	}
	if nd > maxDataDirs {
		nd = maxDataDirs
	}
	p.numDirs = nd
	dir := func(i int64) (uint32, uint32) {
		o := dirBase + i*8
		return le.Uint32(opt[o:]), le.Uint32(opt[o+4:])
	}
	if nd > dirResource {
		p.rsrcRVA, p.rsrcSize = dir(dirResource)
	}
	if nd > dirSecurity {
		start, sz := dir(dirSecurity)
		if sz != 0 {
			p.certStart, p.certSize = int64(start), int64(sz)
		}
	}
}

// readSections reads the section table of nsec entries at secOff, which must end within
// SizeOfHeaders, and checks that every section's raw data lies inside the file.
func (p *peFile) readSections(hr headerReader, secOff, nsec int64) error {
	if secOff+nsec*sectionHeaderSize > p.sizeOfHeaders {
		return fmt.Errorf("%w: section table (%d sections at %#x) extends past SizeOfHeaders %#x", ErrMalformed, nsec, secOff, p.sizeOfHeaders)
	}
	tbl, err := hr.at(secOff, nsec*sectionHeaderSize)
	if err != nil {
		return fmt.Errorf("section table: %w", err)
	}
	p.sections = make([]section, nsec) // nsec*40 bytes were read from the file above
	for i := range p.sections {
		e := tbl[i*sectionHeaderSize:]
		name := e[:8]
		for j, c := range name {
			if c == 0 {
				name = name[:j]
				break
			}
		}
		s := section{
			Name:           string(name),
			VirtualSize:    le.Uint32(e[8:]),
			VirtualAddress: le.Uint32(e[12:]),
			SizeOfRawData:  le.Uint32(e[16:]),
			PointerToRaw:   le.Uint32(e[20:]),
		}
		if s.SizeOfRawData != 0 && int64(s.PointerToRaw)+int64(s.SizeOfRawData) > p.size {
			return fmt.Errorf("%w: section %d (%q) at %#x+%#x lies past the end of the %d-byte file", ErrMalformed, i, s.Name, s.PointerToRaw, s.SizeOfRawData, p.size)
		}
		p.sections[i] = s
	}
	return nil
}

// checkCertTable checks that a certificate table, when the file has one, lies inside the
// file after the headers and is of a plausible size.
func (p *peFile) checkCertTable() error {
	if p.certSize == 0 {
		return nil
	}
	if p.certStart == 0 || p.certStart > p.size || p.certSize > p.size-p.certStart {
		return fmt.Errorf("%w: certificate table %#x+%#x lies outside the %d-byte file", ErrMalformed, p.certStart, p.certSize, p.size)
	}
	if p.certSize > maxCertTable {
		return fmt.Errorf("%w: certificate table of %d bytes is implausibly large", ErrMalformed, p.certSize)
	}
	if p.certStart < p.sizeOfHeaders {
		return fmt.Errorf("%w: certificate table at %#x overlaps the headers", ErrMalformed, p.certStart)
	}
	return nil
}

// region is a byte range [off, off+n) of the file that goes into the image digest.
type region struct{ off, n int64 }

// digestPlan lists the file ranges of the Authenticode image digest in hashing order, as the
// Authenticode specification and pesign define it: the headers without the CheckSum field and
// the certificate-table directory entry; each section's raw data in file order; then the data
// from SUM_OF_BYTES_HASHED up to the certificate table. pad is the count of zero bytes that
// follow (an unsigned file is hashed as if padded to 8 bytes, as signers do).
func (p *peFile) digestPlan() (plan []region, pad int64, err error) {
	plan = append(plan,
		region{0, p.checksumOff},
		region{p.checksumOff + 4, p.certDirOff - p.checksumOff - 4},
		region{p.certDirOff + 8, p.sizeOfHeaders - p.certDirOff - 8},
	)
	secs := make([]section, 0, len(p.sections))
	for _, s := range p.sections {
		if s.SizeOfRawData != 0 {
			secs = append(secs, s)
		}
	}
	sort.SliceStable(secs, func(i, j int) bool { return secs[i].PointerToRaw < secs[j].PointerToRaw })
	sum := p.sizeOfHeaders
	for _, s := range secs {
		plan = append(plan, region{int64(s.PointerToRaw), int64(s.SizeOfRawData)})
		sum += int64(s.SizeOfRawData)
	}
	if p.size > sum {
		n := p.size - p.certSize - sum
		if n < 0 {
			return nil, 0, fmt.Errorf("%w: certificate table overlaps the sections", ErrMalformed)
		}
		plan = append(plan, region{sum, n})
		if p.certSize == 0 && n%8 != 0 {
			pad = 8 - n%8
		}
	}
	out := plan[:0]
	for _, r := range plan {
		if r.n < 0 {
			return nil, 0, fmt.Errorf("%w: inconsistent header layout", ErrMalformed)
		}
		if r.n > 0 {
			out = append(out, r)
		}
	}
	return out, pad, nil
}

// monotonic reports whether the plan visits the file strictly front to back, so that a
// single streaming read can compute the digest.
func monotonic(plan []region) bool {
	var end int64
	for _, r := range plan {
		if r.off < end {
			return false
		}
		end = r.off + r.n
	}
	return true
}

// rvaToOffset maps a relative virtual address to a file offset through the section table.
func (p *peFile) rvaToOffset(rva uint32, n uint32) (int64, bool) {
	for _, s := range p.sections {
		if rva >= s.VirtualAddress && uint64(rva)+uint64(n) <= uint64(s.VirtualAddress)+uint64(s.SizeOfRawData) {
			off := int64(s.PointerToRaw) + int64(rva-s.VirtualAddress)
			if off+int64(n) <= p.size {
				return off, true
			}
			return 0, false
		}
	}
	if int64(rva)+int64(n) <= p.sizeOfHeaders { // inside the headers, mapped 1:1
		return int64(rva), true
	}
	return 0, false
}

// machineName names the COFF machine type the way Go does (amd64, 386 → i386, arm64, ...).
func machineName(m uint16) string {
	switch m {
	case 0x14c:
		return "i386"
	case 0x8664:
		return "amd64"
	case 0xaa64:
		return "arm64"
	case 0xa641:
		return "arm64ec"
	case 0xa64e:
		return "arm64x"
	case 0x1c0, 0x1c2:
		return "arm"
	case 0x1c4:
		return "armnt"
	case 0x200:
		return "ia64"
	case 0xebc:
		return "ebc"
	case 0x5032:
		return "riscv32"
	case 0x5064:
		return "riscv64"
	case 0x6264:
		return "loongarch64"
	case 0x166:
		return "mips"
	case 0x1f0:
		return "powerpc"
	case 0:
		return "unknown"
	}
	return fmt.Sprintf("0x%04x", m)
}
