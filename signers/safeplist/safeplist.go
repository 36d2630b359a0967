// Package safeplist decodes property lists (Info.plist, CodeResources, entitlements, the
// CDHash list of a code signature) from untrusted files without letting the decoder take the
// process down.
//
// howett.net/plist recurses once per nesting level in all three formats: 1,000,000 nested
// <array> elements (7 MB of XML) overflow the Go stack ("fatal error: stack overflow", which
// no recover() catches), and a deep chain of binary-plist containers also costs it quadratic
// time. Objects shared in a binary plist are expanded on decoding into Go values, so a few
// KiB of doubling references decode into billions of values. Check measures the document
// first, iteratively and in linear time, in the same format the decoder will pick, and
// refuses nesting deeper than MaxDepth and binary documents that expand to more values than
// their size can justify. Unmarshal checks, then decodes, and turns the decoder's runtime
// panics (which it re-raises rather than reporting) into errors.
package safeplist

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"

	"howett.net/plist"
)

// MaxDepth is the deepest nesting of arrays and dictionaries accepted. Real Info.plist,
// CodeResources and entitlements files nest fewer than 10 levels.
const MaxDepth = 128

// Errors returned (wrapped) by Check.
var (
	ErrTooDeep     = errors.New("property list nesting limit exceeded")
	ErrTooLarge    = errors.New("property list expands beyond its size")
	ErrMalformed   = errors.New("malformed binary property list")
	errNotXMLPlist = errors.New("not an XML property list")
)

// Unmarshal is plist.Unmarshal behind Check; a panic of the decoder is returned as an error.
func Unmarshal(data []byte, v any) (format int, err error) {
	if err := Check(data); err != nil {
		return plist.InvalidFormat, err
	}
	defer func() {
		if r := recover(); r != nil {
			format, err = plist.InvalidFormat, fmt.Errorf("property list: decoder failure: %v", r)
		}
	}()
	return plist.Unmarshal(data, v)
}

// Check measures a property list the way howett.net/plist will read it: a binary plist
// ("bplist" header); else an XML plist, when its first element is a plist element; else the
// OpenStep/GNUstep text format. It returns an error when the document nests deeper than
// MaxDepth or, for binary, expands to too many values. A document Check accepts may still
// be invalid: the decoder reports that.
func Check(data []byte) error {
	if bytes.HasPrefix(data, []byte("bplist")) {
		return checkBinary(data)
	}
	switch err := checkXML(data); {
	case errors.Is(err, errNotXMLPlist):
		return checkText(data)
	default:
		return err
	}
}

// xmlElements are the elements of the XML plist format: the decoder takes the XML path only
// when the first element is one of them.
var xmlElements = map[string]bool{"plist": true, "array": true, "dict": true, "string": true,
	"integer": true, "real": true, "true": true, "false": true, "data": true, "date": true}

// checkXML walks the XML tokens (encoding/xml keeps its own element stack: no recursion)
// and bounds the element depth. It returns errNotXMLPlist when the decoder would fall back
// to the text format, and nil when the XML breaks off (the decoder then fails at the same
// token, having recursed no deeper than what was checked).
func checkXML(data []byte) error {
	d := xml.NewDecoder(bytes.NewReader(data))
	depth, started := 0, false
	for {
		tok, err := d.Token()
		if err != nil {
			if !started {
				return errNotXMLPlist
			}
			return nil
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !started && !xmlElements[t.Name.Local] {
				return errNotXMLPlist
			}
			started = true
			if depth++; depth > MaxDepth {
				return fmt.Errorf("XML %w: deeper than %d elements", ErrTooDeep, MaxDepth)
			}
		case xml.EndElement:
			depth--
			if started && depth == 0 {
				return nil // the decoder stops after the first top-level element
			}
		}
	}
}

// MaxTextBrackets bounds the opening brackets of a text (OpenStep/GNUstep) property list.
// The decoder recurses at most once per '(' or '{' it reads, so this bounds its depth
// whatever the lexical context of each bracket (quoted strings, comments and unquoted words
// are told apart by the decoder's grammar, which a scanner cannot follow without parsing).
// Info.plist, CodeResources and entitlements are XML or binary in practice; a text plist of
// a few dozen containers passes.
const MaxTextBrackets = 1 << 14

// checkText bounds the recursion of the text-format decoder by the count of opening
// brackets.
func checkText(data []byte) error {
	if n := bytes.Count(data, []byte("(")) + bytes.Count(data, []byte("{")); n > MaxTextBrackets {
		return fmt.Errorf("text %w: %d opening brackets, at most %d are accepted", ErrTooDeep, n, MaxTextBrackets)
	}
	return nil
}

// binaryReader reads the object table of a binary plist (CFBinaryPList.c's format): a
// trailer of 32 bytes with the sizes of offsets and object references, the object count,
// the top object and the offset table's position.
type binaryReader struct {
	data             []byte
	offsets          []byte
	offSize, refSize int
	n                uint64
}

func (r *binaryReader) uint(b []byte) uint64 {
	var v uint64
	for _, c := range b {
		v = v<<8 | uint64(c)
	}
	return v
}

// children returns the object references held by object i (none for a scalar).
func (r *binaryReader) children(i uint64) ([]uint64, error) {
	off := r.uint(r.offsets[i*uint64(r.offSize) : (i+1)*uint64(r.offSize)])
	if off < 8 || off >= uint64(len(r.data)) {
		return nil, fmt.Errorf("%w: object %d at offset %d", ErrMalformed, i, off)
	}
	marker := r.data[off]
	var perEntry uint64
	switch marker >> 4 {
	case 0xA, 0xC: // array, set
		perEntry = 1
	case 0xD: // dictionary: keys, then values
		perEntry = 2
	default:
		return nil, nil
	}
	count, pos := uint64(marker&0x0f), off+1
	if count == 0x0f { // the count follows as an integer object 0x1n of 2^n bytes
		if pos >= uint64(len(r.data)) || r.data[pos]>>4 != 0x1 || r.data[pos]&0x0f > 3 {
			return nil, fmt.Errorf("%w: object %d has a bad count", ErrMalformed, i)
		}
		w := uint64(1) << (r.data[pos] & 0x0f)
		if pos+1+w > uint64(len(r.data)) {
			return nil, fmt.Errorf("%w: object %d count runs past the data", ErrMalformed, i)
		}
		count, pos = r.uint(r.data[pos+1:pos+1+w]), pos+1+w
	}
	avail := (uint64(len(r.data)) - pos) / uint64(r.refSize)
	if count > avail || count*perEntry > avail {
		return nil, fmt.Errorf("%w: object %d holds %d entries, more than the data", ErrMalformed, i, count)
	}
	refs := make([]uint64, count*perEntry)
	for k := range refs {
		p := pos + uint64(k)*uint64(r.refSize)
		if refs[k] = r.uint(r.data[p : p+uint64(r.refSize)]); refs[k] >= r.n {
			return nil, fmt.Errorf("%w: object %d refers to object %d of %d", ErrMalformed, i, refs[k], r.n)
		}
	}
	return refs, nil
}

// checkBinary computes, over the object graph reachable from the top object, the longest
// path (the decoder's recursion depth) and the number of values the graph expands to when
// shared objects are copied (what unmarshaling into Go values allocates), iteratively in
// time linear in the references. A cycle is refused, as the decoder refuses it.
func checkBinary(data []byte) error {
	if len(data) < 8+32 {
		return fmt.Errorf("%w: %d bytes", ErrMalformed, len(data))
	}
	t := data[len(data)-32:]
	r := &binaryReader{data: data, offSize: int(t[6]), refSize: int(t[7])}
	r.n = r.uint(t[8:16])
	top, tableOff := r.uint(t[16:24]), r.uint(t[24:32])
	end := uint64(len(data) - 32)
	if r.offSize < 1 || r.offSize > 8 || r.refSize < 1 || r.refSize > 8 || r.n == 0 || top >= r.n ||
		tableOff < 8 || tableOff > end || r.n > (end-tableOff)/uint64(r.offSize) {
		return fmt.Errorf("%w: inconsistent trailer", ErrMalformed)
	}
	r.offsets = data[tableOff : tableOff+r.n*uint64(r.offSize)]
	maxValues := uint64(len(data)/2 + 4096)
	const (
		unseen = iota
		open
		done
	)
	state := make([]uint8, r.n)
	height := make([]uint32, r.n)
	values := make([]uint64, r.n) // saturating at maxValues+1
	type frame struct {
		obj  uint64
		refs []uint64
		next int
	}
	enter := func(obj uint64) (frame, error) {
		refs, err := r.children(obj)
		state[obj] = open
		return frame{obj: obj, refs: refs}, err
	}
	f0, err := enter(top)
	if err != nil {
		return err
	}
	stack := []frame{f0}
	for len(stack) > 0 {
		f := &stack[len(stack)-1]
		if f.next < len(f.refs) {
			c := f.refs[f.next]
			f.next++
			switch state[c] {
			case open:
				return fmt.Errorf("%w: object %d contains itself", ErrMalformed, c)
			case unseen:
				if len(stack) >= MaxDepth {
					return fmt.Errorf("binary %w: deeper than %d levels", ErrTooDeep, MaxDepth)
				}
				fc, err := enter(c)
				if err != nil {
					return err
				}
				stack = append(stack, fc)
			}
			continue
		}
		h, v := uint32(0), uint64(1)
		for _, c := range f.refs {
			h = max(h, height[c])
			v = min(v+values[c], maxValues+1)
		}
		height[f.obj], values[f.obj], state[f.obj] = h+1, v, done
		stack = stack[:len(stack)-1]
	}
	if int(height[top]) > MaxDepth {
		return fmt.Errorf("binary %w: deeper than %d levels", ErrTooDeep, MaxDepth)
	}
	if values[top] > maxValues {
		return fmt.Errorf("binary %w: shared objects expand to more than %d values", ErrTooLarge, maxValues)
	}
	return nil
}
