// Package ber checks and converts the BER/DER encoding of CMS (PKCS#7) signature blobs before
// any ASN.1 parser sees them.
//
// The parsers edrpolicy relies on recurse once per nesting level: fullsailor/pkcs7's ber2der
// has no depth limit at all, so a blob of millions of nested indefinite-length headers
// ("30 80 30 80 ...") makes it recurse until the Go runtime aborts the whole process with
// "fatal error: stack overflow", which no recover() can catch. Check walks the element tree
// iteratively with a fixed-size stack, in one pass over the bytes (time linear in the input,
// no allocation), and refuses a blob that nests deeper than Limits.MaxDepth, holds more than
// Limits.MaxElements elements, or declares a length that does not fit in its container. Every
// CMS path of the signers (Authenticode WIN_CERTIFICATE entries with their nested signatures
// and timestamp tokens, the Mach-O CMS wrapper) runs Check first.
//
// Check looks into constructed elements only. The content of a primitive element (an OCTET
// STRING holding an encapsulated TSTInfo, a certificate's extension value) is parsed later by
// encoding/asn1 into fixed Go types, whose recursion is bounded by the types, not by the data.
package ber

import (
	"errors"
	"fmt"
)

// Limits bound what Check accepts.
type Limits struct {
	// MaxDepth is the deepest nesting of constructed elements; the outermost element is at
	// depth 1.
	MaxDepth int
	// MaxElements is the most elements (primitive and constructed, end-of-contents markers
	// not counted) the blob may hold.
	MaxElements int
}

// DefaultLimits are the limits the signers use.
//
// Depth: the deepest element of a real signature sits inside a certificate of the timestamp
// token of a nested Authenticode signature (ContentInfo, SignedData, SignerInfos, SignerInfo,
// unauthenticated attributes, attribute, SET, then the same again for the nested signature
// and its token, then Certificate, TBSCertificate, extensions, Extension, value). Measured by
// TestCorpusCMSDepth in signers/authenticode and signers/macho: an osslsigncode dual
// signature with a timestamp nests 27 deep, Microsoft and Debian Secure Boot signatures 25,
// Apple codesign signatures (Bun, Sentry; BER with indefinite lengths) 19, relic ones 17.
// 64 leaves more than twice that, and is trivially small for the recursive parsers behind
// Check.
//
// Elements: the largest measured blob holds 654 elements (a Microsoft signature with its
// timestamp chain); 1<<18 is 400 times that, and bounds fullsailor's parse tree and
// ToDER's records (16 bytes each) to a few MiB.
var DefaultLimits = Limits{MaxDepth: 64, MaxElements: 1 << 18}

// Errors returned (wrapped) by Check and ToDER.
var (
	// ErrTooDeep reports nesting deeper than Limits.MaxDepth.
	ErrTooDeep = errors.New("nesting limit exceeded")
	// ErrTooManyElements reports more than Limits.MaxElements elements.
	ErrTooManyElements = errors.New("element limit exceeded")
	// ErrMalformed reports an encoding error: a truncated header, a length that runs past its
	// container, a missing end-of-contents, trailing data.
	ErrMalformed = errors.New("malformed CMS encoding")
)

// frame is one open constructed element during the walk.
type frame struct {
	end   int  // offset just past the element's content (definite), or its container's bound
	indef bool // indefinite length: ends with an end-of-contents marker before end
}

// header is a decoded tag and length.
type header struct {
	hdrLen      int // bytes of tag and length
	n           int // content length (definite only)
	constructed bool
	indef       bool
	eoc         bool // the end-of-contents marker 00 00
}

// Check validates that b holds exactly one BER element, followed by nothing but zero bytes
// (the padding that Authenticode certificate entries and Mach-O signature blobs carry), with
// DefaultLimits.
func Check(b []byte) error { return DefaultLimits.Check(b) }

// Check validates b against l; see the package function Check.
func (l Limits) Check(b []byte) error {
	_, err := l.walk(b, nil)
	return err
}

// walk is the iterative walker behind Check and ToDER. It visits every element once, in
// order; visit (when not nil) is called for each element and each end of a constructed
// element. It returns the offset just past the top-level element.
func (l Limits) walk(b []byte, visit func(ev event) error) (int, error) {
	if l.MaxDepth <= 0 || l.MaxElements <= 0 {
		return 0, errors.New("ber: limits must be positive")
	}
	stack := make([]frame, 0, min(l.MaxDepth, 64))
	pos, count := 0, 0
	for {
		bound := len(b)
		if n := len(stack); n > 0 {
			top := stack[n-1]
			bound = top.end
			if top.indef && pos >= top.end {
				return 0, fmt.Errorf("%w: missing end-of-contents for the indefinite-length element that is open at offset %d", ErrMalformed, pos)
			}
			if !top.indef && pos == top.end {
				stack = stack[:n-1]
				if err := emit(visit, event{kind: evEnd, pos: pos}); err != nil {
					return 0, err
				}
				if len(stack) == 0 {
					return pos, checkTrailing(b, pos)
				}
				continue
			}
		}
		h, err := readHeader(b, pos, bound)
		if err != nil {
			return 0, err
		}
		if h.eoc {
			n := len(stack)
			if n == 0 || !stack[n-1].indef {
				return 0, fmt.Errorf("%w: end-of-contents marker outside an indefinite-length element at offset %d", ErrMalformed, pos)
			}
			pos += 2
			stack = stack[:n-1]
			if err := emit(visit, event{kind: evEnd, pos: pos}); err != nil {
				return 0, err
			}
			if len(stack) == 0 {
				return pos, checkTrailing(b, pos)
			}
			continue
		}
		if count++; count > l.MaxElements {
			return 0, fmt.Errorf("CMS holds more than %d elements: %w", l.MaxElements, ErrTooManyElements)
		}
		if err := emit(visit, event{kind: evStart, pos: pos, h: h}); err != nil {
			return 0, err
		}
		start := pos
		pos += h.hdrLen
		if !h.constructed {
			pos += h.n
			if len(stack) == 0 {
				return pos, checkTrailing(b, pos)
			}
			continue
		}
		if len(stack) >= l.MaxDepth {
			return 0, fmt.Errorf("CMS nesting deeper than %d at offset %d: %w", l.MaxDepth, start, ErrTooDeep)
		}
		if h.indef {
			stack = append(stack, frame{end: bound, indef: true})
		} else {
			stack = append(stack, frame{end: pos + h.n})
		}
	}
}

// readHeader decodes the tag and length at pos; the element must fit before bound.
func readHeader(b []byte, pos, bound int) (header, error) {
	var h header
	if bound-pos < 2 {
		return h, fmt.Errorf("%w: element header truncated at offset %d", ErrMalformed, pos)
	}
	if b[pos] == 0 && b[pos+1] == 0 {
		h.eoc = true
		return h, nil
	}
	if b[pos]&0xdf == 0 { // universal tag 0 is reserved for the end-of-contents marker
		return h, fmt.Errorf("%w: bad tag at offset %d: tag 0 is reserved for end-of-contents", ErrMalformed, pos)
	}
	h.constructed = b[pos]&0x20 != 0
	i := pos + 1
	if b[pos]&0x1f == 0x1f { // high tag number form: at most 4 more bytes (tags < 2^28), minimal
		num := 0
		for k := 0; ; k++ {
			if i >= bound || k >= 4 || (k == 0 && b[i] == 0x80) {
				return h, fmt.Errorf("%w: bad tag at offset %d", ErrMalformed, pos)
			}
			c := b[i]
			i++
			num = num<<7 | int(c&0x7f)
			if c&0x80 == 0 {
				break
			}
		}
		if num < 0x1f {
			return h, fmt.Errorf("%w: bad tag at offset %d: tag number %d in the high-tag-number form", ErrMalformed, pos, num)
		}
	}
	if i >= bound {
		return h, fmt.Errorf("%w: element header truncated at offset %d", ErrMalformed, pos)
	}
	lb := b[i]
	i++
	switch {
	case lb == 0x80:
		if !h.constructed {
			return h, fmt.Errorf("%w: indefinite length on a primitive element at offset %d", ErrMalformed, pos)
		}
		h.indef = true
	case lb < 0x80:
		h.n = int(lb)
	case lb == 0xff:
		return h, fmt.Errorf("%w: reserved length octet at offset %d", ErrMalformed, pos)
	default:
		k := int(lb & 0x7f)
		if k > 4 || k > bound-i {
			return h, fmt.Errorf("%w: bad length: %d length octets at offset %d", ErrMalformed, k, pos)
		}
		n := 0
		for _, c := range b[i : i+k] {
			n = n<<8 | int(c)
		}
		i += k
		h.n = n
	}
	h.hdrLen = i - pos
	if !h.indef && h.n > bound-i {
		return h, fmt.Errorf("%w: element at offset %d is truncated: it declares %d bytes of content but only %d remain in its container", ErrMalformed, pos, h.n, bound-i)
	}
	return h, nil
}

// checkTrailing accepts only zero padding after the top-level element.
func checkTrailing(b []byte, pos int) error {
	for i, c := range b[pos:] {
		if c != 0 {
			return fmt.Errorf("%w: %d bytes of trailing data after the CMS structure (non-zero at +%d)", ErrMalformed, len(b)-pos, i)
		}
	}
	return nil
}

// event is one step of the walk: the start of an element or the end of a constructed one.
type event struct {
	kind int
	pos  int
	h    header
}

const (
	evStart = iota
	evEnd
)

func emit(visit func(event) error, ev event) error {
	if visit == nil {
		return nil
	}
	return visit(ev)
}

// Stats describes a blob that passed Check.
type Stats struct {
	Depth    int // deepest nesting of constructed elements (the outermost is 1)
	Elements int // elements, end-of-contents markers not counted
}

// Measure checks b like Check and reports its depth and element count, to compare real
// signatures with DefaultLimits.
func Measure(b []byte) (Stats, error) { return DefaultLimits.measure(b) }

func (l Limits) measure(b []byte) (Stats, error) {
	var st Stats
	depth := 0
	_, err := l.walk(b, func(ev event) error {
		switch {
		case ev.kind == evEnd:
			depth--
		case ev.h.constructed:
			st.Elements++
			depth++
			st.Depth = max(st.Depth, depth)
		default:
			st.Elements++
		}
		return nil
	})
	return st, err
}
