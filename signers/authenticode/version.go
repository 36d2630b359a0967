package authenticode

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf16"

	"github.com/edrpolicy/edrpolicy/signers"
)

const (
	rtVersion = 16
	// maxVersionResource bounds the VS_VERSIONINFO blob read; real ones are 1-4 KiB.
	maxVersionResource = 64 << 10
	// maxResourceEntries bounds the entries looked at in one resource directory.
	maxResourceEntries = 4096
)

// readVersion finds the RT_VERSION resource and reads its string table. A file without one
// gives (nil, nil).
func readVersion(r io.ReaderAt, p *peFile) (*signers.PEVersion, error) {
	if p.rsrcRVA == 0 || p.rsrcSize == 0 {
		return nil, nil
	}
	base, ok := p.rvaToOffset(p.rsrcRVA, 16)
	if !ok {
		return nil, errors.New("resource directory outside the file")
	}
	limit := p.size - base // resource offsets are relative to base
	readAt := func(off int64, n int64) ([]byte, error) {
		if off < 0 || n < 0 || off > limit || n > limit-off {
			return nil, fmt.Errorf("resource data %d+%d outside the file", off, n)
		}
		b := make([]byte, n) // n is bounded by the file size and by the callers' caps
		if m, err := r.ReadAt(b, base+off); int64(m) < n {
			return nil, err
		}
		return b, nil
	}
	// lookup returns the data of the entry with the given ID (or the first entry when id < 0)
	// in the directory at dirOff, and whether it is a subdirectory.
	lookup := func(dirOff int64, id int) (uint32, bool, error) {
		hdr, err := readAt(dirOff, 16)
		if err != nil {
			return 0, false, err
		}
		n := int64(le.Uint16(hdr[12:])) + int64(le.Uint16(hdr[14:]))
		if n == 0 {
			return 0, false, errors.New("empty resource directory")
		}
		n = min(n, maxResourceEntries)
		ents, err := readAt(dirOff+16, n*8)
		if err != nil {
			return 0, false, err
		}
		for i := int64(0); i < n; i++ {
			name, data := le.Uint32(ents[i*8:]), le.Uint32(ents[i*8+4:])
			if id < 0 || (name&0x80000000 == 0 && int(name) == id) {
				return data &^ 0x80000000, data&0x80000000 != 0, nil
			}
		}
		return 0, false, errors.New("no version resource")
	}
	off, sub, err := lookup(0, rtVersion)
	if err != nil || !sub {
		return nil, err
	}
	off, sub, err = lookup(int64(off), -1) // first name (usually ID 1)
	if err != nil || !sub {
		return nil, err
	}
	off, sub, err = lookup(int64(off), -1) // first language
	if err != nil || sub {
		return nil, err
	}
	ent, err := readAt(int64(off), 16)
	if err != nil {
		return nil, err
	}
	rva, size := le.Uint32(ent), le.Uint32(ent[4:])
	size = min(size, maxVersionResource)
	foff, ok := p.rvaToOffset(rva, size)
	if !ok {
		return nil, errors.New("version resource outside the file")
	}
	data := make([]byte, size) // size <= maxVersionResource and inside the file
	if m, err := r.ReadAt(data, foff); m < len(data) {
		return nil, fmt.Errorf("read version resource: %w", err)
	}
	return parseVersionInfo(data)
}

// verNode is one node of the VS_VERSIONINFO tree: wLength, wValueLength, wType, szKey,
// padding, Value, padding, Children.
type verNode struct {
	key      string
	value    []byte
	text     bool
	children []byte
	length   int
}

func parseVerNode(b []byte) (verNode, error) {
	if len(b) < 6 {
		return verNode{}, errors.New("version node too short")
	}
	n := verNode{length: int(le.Uint16(b))}
	if n.length < 6 || n.length > len(b) {
		return verNode{}, fmt.Errorf("version node length %d out of range (%d bytes)", n.length, len(b))
	}
	b = b[:n.length]
	vlen := int(le.Uint16(b[2:]))
	n.text = le.Uint16(b[4:]) == 1
	pos := 6
	var key []uint16
	for pos+2 <= len(b) {
		c := le.Uint16(b[pos:])
		pos += 2
		if c == 0 {
			break
		}
		key = append(key, c)
	}
	n.key = string(utf16.Decode(key))
	pos = align4(pos)
	if n.text {
		vlen *= 2 // text values are counted in WORDs
	}
	if pos > len(b) {
		return n, nil
	}
	end := min(pos+vlen, len(b))
	n.value = b[pos:end]
	pos = align4(end)
	if pos < len(b) {
		n.children = b[pos:]
	}
	return n, nil
}

func align4(n int) int { return (n + 3) &^ 3 }

// eachChild calls fn for each child node in b.
func eachChild(b []byte, fn func(verNode)) {
	for len(b) >= 6 {
		n, err := parseVerNode(b)
		if err != nil {
			return
		}
		fn(n)
		next := align4(n.length)
		if next >= len(b) {
			return
		}
		b = b[next:]
	}
}

func utf16String(b []byte) string {
	u := make([]uint16, 0, len(b)/2)
	for i := 0; i+1 < len(b); i += 2 {
		c := le.Uint16(b[i:])
		if c == 0 {
			break
		}
		u = append(u, c)
	}
	return strings.TrimSpace(string(utf16.Decode(u)))
}

// parseVersionInfo reads the StringFileInfo tables of a VS_VERSIONINFO blob, preferring U.S.
// English, and falls back to VS_FIXEDFILEINFO for the version numbers.
func parseVersionInfo(data []byte) (*signers.PEVersion, error) {
	root, err := parseVerNode(data)
	if err != nil {
		return nil, err
	}
	if root.key != "VS_VERSION_INFO" {
		return nil, fmt.Errorf("version resource key is %q", root.key)
	}
	tables := map[string]map[string]string{}
	var order []string
	eachChild(root.children, func(n verNode) {
		if n.key != "StringFileInfo" {
			return
		}
		eachChild(n.children, func(t verNode) {
			m := map[string]string{}
			eachChild(t.children, func(s verNode) {
				m[s.key] = utf16String(s.value)
			})
			k := strings.ToLower(t.key)
			if _, ok := tables[k]; !ok {
				order = append(order, k)
			}
			tables[k] = m
		})
	})
	var st map[string]string
	for _, k := range order {
		if strings.HasPrefix(k, "0409") {
			st = tables[k]
			break
		}
	}
	if st == nil && len(order) > 0 {
		st = tables[order[0]]
	}
	v := &signers.PEVersion{
		FileVersion:      st["FileVersion"],
		ProductVersion:   st["ProductVersion"],
		CompanyName:      st["CompanyName"],
		ProductName:      st["ProductName"],
		OriginalFilename: st["OriginalFilename"],
	}
	// VS_FIXEDFILEINFO: signature 0xFEEF04BD, then file and product versions (MS, LS).
	if f := root.value; len(f) >= 24 && le.Uint32(f) == 0xfeef04bd {
		ver := func(ms, ls uint32) string {
			return fmt.Sprintf("%d.%d.%d.%d", ms>>16, ms&0xffff, ls>>16, ls&0xffff)
		}
		if v.FileVersion == "" {
			v.FileVersion = ver(le.Uint32(f[8:]), le.Uint32(f[12:]))
		}
		if v.ProductVersion == "" {
			v.ProductVersion = ver(le.Uint32(f[16:]), le.Uint32(f[20:]))
		}
	}
	if *v == (signers.PEVersion{}) {
		return nil, nil
	}
	return v, nil
}
