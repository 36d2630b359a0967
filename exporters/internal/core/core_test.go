package core

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{"": "", "=1": "'=1", "+1": "'+1", "-1": "'-1", "@x": "'@x", "\tx": "'\tx", "\rx": "'\rx", "a=b": "a=b", "ü": "ü"} {
		assert.Equal(t, want, CSVCell(in), "%q", in)
	}
}

func TestOneLine(t *testing.T) {
	assert.Equal(t, `a\nb\rc\u0000d\u2028e`, OneLine("a\nb\rc\x00d\u2028e"))
}

func TestHexDigest(t *testing.T) {
	v, err := HexDigest("ABCDEF0123", 10)
	assert.NoError(t, err)
	assert.Equal(t, "abcdef0123", v)
	_, err = HexDigest("abc", 4)
	assert.ErrorContains(t, err, "want 4 hex digits")
	_, err = HexDigest("abcg", 4)
	assert.ErrorContains(t, err, "not hexadecimal")
}

func TestChunkAndNumbered(t *testing.T) {
	assert.Equal(t, [][]int{{1, 2}, {3, 4}, {5}}, Chunk([]int{1, 2, 3, 4, 5}, 2))
	assert.Nil(t, Chunk([]int{}, 2))
	assert.Equal(t, "x-001.csv", Numbered("x", "csv", 0))
}

func TestExpiration(t *testing.T) {
	tm, err := ParseExpiration("2026-06-30")
	assert.NoError(t, err)
	assert.Equal(t, "2026-06-30T00:00:00Z", tm.Format("2006-01-02T15:04:05Z07:00"))
	_, err = ParseExpiration("30/06/2026")
	assert.Error(t, err)
}

func TestEscapeGlob(t *testing.T) {
	v, err := EscapeGlob(`C:\Users\*\a[1].exe`, GlobSyntax{Vendor: "v", Meta: "[]", Escape: '\\'})
	assert.NoError(t, err)
	assert.Equal(t, `C:\Users\*\a\[1\].exe`, v, "the policy's * stays a wildcard")
	_, err = EscapeGlob("/a?b", GlobSyntax{Vendor: "v", Meta: "?"})
	assert.ErrorContains(t, err, "'?'")
}
