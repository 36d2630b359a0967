package macho

import (
	"errors"
	"fmt"
)

// maxBERDepth bounds the nesting of BER elements; a CMS signature nests about a dozen deep.
const maxBERDepth = 64

// berToDER re-encodes a BER element with definite, minimal lengths, which is what Go's
// encoding/asn1 (and so relic's lib/pkcs7) requires. Apple's codesign writes the CMS of a
// code signature with indefinite lengths ("30 80 ... 00 00"); contents are not otherwise
// changed (tags and primitive values are copied as they are). After the element, only zero
// padding may follow.
func berToDER(b []byte) ([]byte, error) {
	out, rest, err := berElement(nil, b, 0)
	if err != nil {
		return nil, err
	}
	for i, c := range rest {
		if c != 0 {
			return nil, fmt.Errorf("%d bytes of trailing data after the CMS structure (non-zero at +%d)", len(rest), i)
		}
	}
	return out, nil
}

var errBERTruncated = errors.New("BER: truncated element")

// berElement converts the element at the start of b, appends it to dst and returns the bytes
// that follow it.
func berElement(dst, b []byte, depth int) (out, rest []byte, err error) {
	if depth > maxBERDepth {
		return nil, nil, fmt.Errorf("BER: nesting deeper than %d", maxBERDepth)
	}
	if len(b) < 2 {
		return nil, nil, errBERTruncated
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
		return nil, nil, errBERTruncated
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
				return appendTLV(dst, tag, content), b[2:], nil
			}
			if content, b, err = berElement(content, b, depth+1); err != nil {
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
		return nil, nil, errBERTruncated
	}
	body, rest := b[:n], b[n:]
	if !constructed {
		return appendTLV(dst, tag, body), rest, nil
	}
	var content []byte
	for len(body) > 0 {
		if content, body, err = berElement(content, body, depth+1); err != nil {
			return nil, nil, err
		}
	}
	return appendTLV(dst, tag, content), rest, nil
}

// appendTLV appends tag, a minimal definite length and content to dst.
func appendTLV(dst, tag, content []byte) []byte {
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
