package jsonerr

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestLocate(t *testing.T) {
	var v struct {
		Rules []struct {
			Criterion string `json:"criterion"`
		} `json:"rules"`
	}
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"syntax", "{\n  \"rules\": [\n    {\"criterion\": }\n  ]\n}", "line 3, column 19: invalid character '}' looking for beginning of value"},
		{"type", "{\n  \"rules\": [\n    {\"criterion\": 5}\n  ]\n}", "line 3, column 19: json: cannot unmarshal number into Go struct field .rules.criterion of type string"},
		{"truncated", "{\n  \"rules\": [", "line 2, column 12: unexpected end of JSON input"},
	} {
		err := json.Unmarshal([]byte(tc.doc), &v)
		require.Error(t, err, tc.name)
		got := Locate([]byte(tc.doc), err, -1)
		assert.Equal(t, tc.want, got.Error(), tc.name)
		assert.ErrorIs(t, got, err, tc.name)
	}
	plain := errors.New("x")
	assert.Equal(t, plain, Locate(nil, plain, -1))
	assert.Equal(t, "line 2, column 1: x", Locate([]byte("a\nb"), plain, 2).Error())
	assert.NoError(t, Locate(nil, nil, 3))
}

func TestPosition(t *testing.T) {
	data := []byte("ab\ncd\n")
	for _, tc := range []struct {
		off       int64
		line, col int
	}{{0, 1, 1}, {1, 1, 2}, {2, 1, 3}, {3, 2, 1}, {5, 2, 3}, {6, 3, 1}, {99, 3, 1}, {-1, 1, 1}} {
		l, c := Position(data, tc.off)
		assert.Equal(t, [2]int{tc.line, tc.col}, [2]int{l, c}, tc.off)
	}
}

func TestFindValue(t *testing.T) {
	doc := []byte("{\"rules\": [\n  {\"a\": 1},\n  {\"signer\": {\"not_before\": \"x\"}, \"b\": [true, \"bad\"]}\n]}")
	for _, tc := range []struct {
		name      string
		match     func([]string, json.Token, []byte) bool
		path      string
		line, col int
	}{
		{"time field", func(p []string, tok json.Token, _ []byte) bool { return p[len(p)-1] == "not_before" }, "rules[1].signer.not_before", 3, 29},
		{"array element", func(p []string, tok json.Token, _ []byte) bool { return tok == "bad" }, "rules[1].b[1]", 3, 47},
		{"number", func(p []string, tok json.Token, _ []byte) bool { return tok == json.Number("1") }, "rules[0].a", 2, 9},
		{"container", func(p []string, tok json.Token, _ []byte) bool { return tok == json.Delim('{') && len(p) == 1 }, "rules[0]", 2, 3},
	} {
		off, path, ok := FindValue(doc, tc.match)
		require.True(t, ok, tc.name)
		assert.Equal(t, tc.path, path, tc.name)
		l, c := Position(doc, off)
		assert.Equal(t, [2]int{tc.line, tc.col}, [2]int{l, c}, tc.name)
	}
	var raws []string
	FindValue(doc, func(_ []string, _ json.Token, raw []byte) bool { raws = append(raws, string(raw)); return false })
	assert.Equal(t, []string{"[", "{", "1", "{", "{", `"x"`, "[", "true", `"bad"`}, raws)
	_, _, ok := FindValue(doc, func([]string, json.Token, []byte) bool { return false })
	assert.False(t, ok)
	_, _, ok = FindValue([]byte("{\"a\": "), func([]string, json.Token, []byte) bool { return true })
	assert.False(t, ok, "a truncated document: nothing found")
}
