package safetext

import (
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
)

// Each character Escape must escape, in the spelling strconv.Quote (an independent
// implementation of Go escapes) gives it.
func TestEscapeEachKind(t *testing.T) {
	var unsafe []string
	for r := rune(0); r < 0x20; r++ {
		unsafe = append(unsafe, string(r))
	}
	unsafe = append(unsafe, "\x7f")
	for r := rune(0x80); r <= 0x9f; r++ {
		unsafe = append(unsafe, string(r))
	}
	for _, r := range []rune{0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069, 0x2028, 0x2029} {
		unsafe = append(unsafe, string(r))
	}
	unsafe = append(unsafe, "\xff", "\xc3", "\xed\xa0\x80") // not UTF-8: a lone byte, a cut sequence, a surrogate
	for _, s := range unsafe {
		q := strconv.Quote(s)
		want := q[1 : len(q)-1]
		assert.Equal(t, want, Escape(s), "%q", s)
		assert.Equal(t, want, Escape(want), "idempotent on %q", s)
		assert.Equal(t, "a"+want+"b", Escape("a"+s+"b"))
	}
}

func TestEscapeKeepsText(t *testing.T) {
	for _, s := range []string{"", `C:\Program Files\CrashPlan\x.exe`, "/Users/*/Library/Logs/CrashPlan", "Zürich – 東京 ✓", `back\slash "quoted" 'single'`, "\u200b zero width space stays"} {
		assert.Equal(t, s, Escape(s))
	}
	// Mixed: a file name that recolours the terminal, rewrites the line and reorders text.
	got := Escape("evil\x1b[31m\rOK\u202etxt.exe\n")
	assert.Equal(t, `evil\x1b[31m\rOK\u202etxt.exe\n`, got)
	for _, r := range got {
		assert.False(t, Unsafe(r))
	}
	assert.True(t, utf8.ValidString(Escape("a\xffb")))
	assert.Equal(t, 1, strings.Count(Escape("x\x00y"), `\x00`))
}
