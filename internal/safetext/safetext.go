// Package safetext makes untrusted text safe to show on a terminal.
//
// File names, profile paths and policy values come from the files edrpolicy reads: a name can
// hold ESC (terminal control sequences that recolour, move the cursor or rewrite earlier
// lines), CR and LF (fake lines), other C0 and C1 controls, DEL, and the Unicode bidirectional
// overrides that reorder what the eye reads (the "Trojan Source" characters). Escape turns
// each of them into a visible Go-style escape (\x1b, \n, \u202e) so that what a table or an
// error message shows is what the bytes are. JSON output does not use it: JSON keeps the exact
// value (its encoder escapes controls itself).
package safetext

import (
	"strings"
	"unicode/utf8"
)

// Escape returns s with every character a terminal would interpret, or that would make text
// read differently from its bytes, written as a Go escape: \a \b \t \n \v \f \r for those C0
// controls, \xHH for the other C0 controls, DEL and bytes that are not UTF-8, and \uHHHH for
// C1 controls (U+0080–U+009F), the bidirectional marks, embeddings, overrides and isolates
// (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069) and the line and paragraph
// separators U+2028, U+2029. Everything else, backslashes included (Windows paths stay
// readable), is kept as it is. Escape is idempotent: its output holds no character it escapes.
func Escape(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 {
			writeHex(&b, `\x`, uint32(s[i]), 2)
			i++
			continue
		}
		i += n
		if !Unsafe(r) {
			b.WriteRune(r)
			continue
		}
		switch r {
		case '\a':
			b.WriteString(`\a`)
		case '\b':
			b.WriteString(`\b`)
		case '\t':
			b.WriteString(`\t`)
		case '\n':
			b.WriteString(`\n`)
		case '\v':
			b.WriteString(`\v`)
		case '\f':
			b.WriteString(`\f`)
		case '\r':
			b.WriteString(`\r`)
		default:
			if r < 0x80 {
				writeHex(&b, `\x`, uint32(r), 2)
			} else {
				writeHex(&b, `\u`, uint32(r), 4)
			}
		}
	}
	return b.String()
}

// Unsafe reports whether Escape escapes the rune r.
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r == 0x7f:
		return true
	case r >= 0x80 && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// clean reports whether s needs no escaping (the common case, without allocating).
func clean(s string) bool {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && n <= 1 || Unsafe(r) {
			return false
		}
		i += n
	}
	return true
}

func writeHex(b *strings.Builder, prefix string, v uint32, digits int) {
	const hex = "0123456789abcdef"
	b.WriteString(prefix)
	for d := digits - 1; d >= 0; d-- {
		b.WriteByte(hex[(v>>(4*uint(d)))&0xf])
	}
}
