package ber

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
)

// refToDER is the recursive converter signers/macho used before this package (depth-bounded
// at 64 by recursion): the reference ToDER must agree with wherever both accept the input.
var errRefTruncated = errors.New("BER: truncated element")

// refElement converts the element at the start of b, appends it to dst and returns the bytes
// that follow it.
func refElement(dst, b []byte, depth int) (out, rest []byte, err error) {
	if depth > refMaxDepth {
		return nil, nil, fmt.Errorf("BER: nesting deeper than %d", refMaxDepth)
	}
	if len(b) < 2 {
		return nil, nil, errRefTruncated
	}
	tagLen := 1
	if b[0]&0x1f == 0x1f { // high tag number form
		for {
			if tagLen >= len(b) || tagLen > 5 {
				return nil, nil, errors.New("BER: bad tag")
			}
			c := b[tagLen]
			tagLen++
			if c&0x80 == 0 {
				break
			}
		}
	}
	constructed := b[0]&0x20 != 0
	tag := b[:tagLen]
	b = b[tagLen:]
	if len(b) == 0 {
		return nil, nil, errRefTruncated
	}
	l := b[0]
	b = b[1:]
	if l == 0x80 { // indefinite length: children up to an end-of-contents marker
		if !constructed {
			return nil, nil, errors.New("BER: indefinite length on a primitive element")
		}
		var content []byte
		for {
			if len(b) < 2 {
				return nil, nil, errors.New("BER: missing end-of-contents")
			}
			if b[0] == 0 && b[1] == 0 {
				return refAppendTLV(dst, tag, content), b[2:], nil
			}
			if content, b, err = refElement(content, b, depth+1); err != nil {
				return nil, nil, err
			}
		}
	}
	var n uint64
	if l&0x80 == 0 {
		n = uint64(l)
	} else {
		k := int(l & 0x7f)
		if k > 4 || k > len(b) {
			return nil, nil, errors.New("BER: bad length")
		}
		for _, c := range b[:k] {
			n = n<<8 | uint64(c)
		}
		b = b[k:]
	}
	if n > uint64(len(b)) {
		return nil, nil, errRefTruncated
	}
	body, rest := b[:n], b[n:]
	if !constructed {
		return refAppendTLV(dst, tag, body), rest, nil
	}
	var content []byte
	for len(body) > 0 {
		if content, body, err = refElement(content, body, depth+1); err != nil {
			return nil, nil, err
		}
	}
	return refAppendTLV(dst, tag, content), rest, nil
}

// refAppendTLV appends tag, a minimal definite length and content to dst.
func refAppendTLV(dst, tag, content []byte) []byte {
	dst = append(dst, tag...)
	n := len(content)
	switch {
	case n < 0x80:
		dst = append(dst, byte(n))
	case n <= 0xff:
		dst = append(dst, 0x81, byte(n))
	case n <= 0xffff:
		dst = append(dst, 0x82, byte(n>>8), byte(n))
	case n <= 0xffffff:
		dst = append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		dst = append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, content...)
}

const refMaxDepth = 64

func refToDER(b []byte) ([]byte, error) {
	out, rest, err := refElement(nil, b, 0)
	if err != nil {
		return nil, err
	}
	if len(bytes.Trim(rest, "\x00")) != 0 {
		return nil, errors.New("trailing data")
	}
	return out, nil
}

// FuzzBER checks the walker's properties on arbitrary bytes: Check and ToDER agree; the DER
// output is accepted again, converts to itself, holds the same elements and is at most 3
// bytes per element longer; where the old recursive converter also accepts the input (it
// allows one more nesting level and longer tags), both produce the same bytes.
func FuzzBER(f *testing.F) {
	for _, s := range [][]byte{
		{0x30, 0x03, 0x02, 0x01, 0x05},
		{0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00},
		{0x30, 0x80, 0xa0, 0x80, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00},
		{0x30, 0x06, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00},
		{0x9f, 0x81, 0x01, 0x01, 0x07},
		{0x24, 0x80, 0x04, 0x01, 0xaa, 0x24, 0x80, 0x00, 0x00, 0x00, 0x00},
		bomb(0x30, 70, true),
		bomb(0x30, 1000, false),
		definiteNest(63),
		zeroChain(100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		errC := Check(b)
		out, errD := ToDER(b)
		if (errC == nil) != (errD == nil) {
			t.Fatalf("Check %v, ToDER %v", errC, errD)
		}
		if errC != nil {
			if !errors.Is(errC, ErrTooDeep) && !errors.Is(errC, ErrTooManyElements) && !errors.Is(errC, ErrMalformed) {
				t.Fatalf("untyped error %v", errC)
			}
			return
		}
		st, err := Measure(b)
		if err != nil || st.Depth > DefaultLimits.MaxDepth || st.Elements > DefaultLimits.MaxElements {
			t.Fatalf("Measure %+v, %v", st, err)
		}
		st2, err := Measure(out)
		if err != nil || st2 != st {
			t.Fatalf("DER %+v (%v) differs from BER %+v", st2, err, st)
		}
		again, err := ToDER(out)
		if err != nil || !bytes.Equal(again, out) {
			t.Fatalf("ToDER is not idempotent: %v", err)
		}
		if len(out) > len(b)+3*st.Elements {
			t.Fatalf("DER of %d bytes from %d bytes of BER", len(out), len(b))
		}
		if ref, err := refToDER(b); err == nil && !bytes.Equal(ref, out) {
			t.Fatalf("reference converter gives %x, ToDER %x", ref, out)
		}
	})
}
