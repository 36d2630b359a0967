package ber

import "fmt"

// ToDER checks b with DefaultLimits (see Check) and re-encodes its element with definite,
// minimal lengths, which is what Go's encoding/asn1 (and so relic's lib/pkcs7) requires.
// Apple's codesign writes the CMS of a code signature with indefinite lengths
// ("30 80 ... 00 00"). Tags and primitive contents are copied unchanged. The conversion takes
// two linear passes: the first records every element and computes the DER length of each
// constructed one bottom-up, the second writes the elements in order.
func ToDER(b []byte) ([]byte, error) { return DefaultLimits.ToDER(b) }

// ToDER converts b under l; see the package function ToDER.
func (l Limits) ToDER(b []byte) ([]byte, error) {
	// A first walk validates and counts, so that the records below are allocated once.
	st, err := l.measure(b)
	if err != nil {
		return nil, err
	}
	type rec struct {
		tagStart, contentStart, n int32 // n: DER content length
		tagLen                    uint8
		constructed               bool
	}
	recs := make([]rec, 0, st.Elements)
	open := make([]int32, 0, st.Depth) // indices of the open constructed elements
	if len(b) > 1<<31-1 {
		return nil, fmt.Errorf("%w: %d bytes is too large", ErrMalformed, len(b))
	}
	_, err = l.walk(b, func(ev event) error {
		switch ev.kind {
		case evStart:
			r := rec{tagStart: int32(ev.pos), tagLen: uint8(tagLength(b, ev.pos)), constructed: ev.h.constructed,
				contentStart: int32(ev.pos + ev.h.hdrLen)}
			if !ev.h.constructed {
				r.n = int32(ev.h.n)
			}
			recs = append(recs, r)
			if ev.h.constructed {
				open = append(open, int32(len(recs)-1))
			} else if len(open) > 0 {
				recs[open[len(open)-1]].n += int32(derSize(int(r.tagLen), int(r.n)))
			}
		case evEnd:
			i := open[len(open)-1]
			open = open[:len(open)-1]
			if len(open) > 0 {
				recs[open[len(open)-1]].n += int32(derSize(int(recs[i].tagLen), int(recs[i].n)))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// The output can be a few bytes longer than the input (an indefinite length with more
	// than 64 KiB of content becomes a 4-byte definite one), never more than 3 bytes per
	// element, so the int32 sums above cannot overflow for inputs under 1 GiB.
	out := make([]byte, 0, derSize(int(recs[0].tagLen), int(recs[0].n)))
	for _, r := range recs {
		out = append(out, b[r.tagStart:r.tagStart+int32(r.tagLen)]...)
		out = appendLength(out, int(r.n))
		if !r.constructed {
			out = append(out, b[r.contentStart:r.contentStart+r.n]...)
		}
	}
	return out, nil
}

// tagLength is the number of tag octets at pos (already validated by readHeader).
func tagLength(b []byte, pos int) int {
	if b[pos]&0x1f != 0x1f {
		return 1
	}
	i := pos + 1
	for b[i]&0x80 != 0 {
		i++
	}
	return i + 1 - pos
}

// derSize is the size of a DER element with tagLen tag octets and n content octets.
func derSize(tagLen, n int) int {
	return tagLen + lengthSize(n) + n
}

func lengthSize(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n <= 0xff:
		return 2
	case n <= 0xffff:
		return 3
	case n <= 0xffffff:
		return 4
	}
	return 5
}

// appendLength appends the minimal definite length encoding of n.
func appendLength(dst []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n <= 0xff:
		return append(dst, 0x81, byte(n))
	case n <= 0xffff:
		return append(dst, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}
