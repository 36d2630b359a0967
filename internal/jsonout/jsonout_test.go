package jsonout

import (
	"bytes"
	"encoding/json"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type doc struct {
	Path  string   `json:"path"`
	Names []string `json:"names"`
}

func TestEncodings(t *testing.T) {
	v := doc{Path: `C:\A&B\<x>.exe`, Names: []string{"a", "b"}}
	for _, tc := range []struct {
		name string
		got  func() ([]byte, error)
		want string
	}{
		{"Indent", func() ([]byte, error) { return Indent(v) }, "{\n  \"path\": \"C:\\\\A&B\\\\<x>.exe\",\n  \"names\": [\n    \"a\",\n    \"b\"\n  ]\n}\n"},
		{"Encoder", func() ([]byte, error) {
			var b bytes.Buffer
			err := Encoder(&b, "    ").Encode(v)
			return b.Bytes(), err
		}, "{\n      \"path\": \"C:\\\\A&B\\\\<x>.exe\",\n      \"names\": [\n        \"a\",\n        \"b\"\n      ]\n    }\n"},
		{"Write", func() ([]byte, error) { var b bytes.Buffer; err := Write(&b, v); return b.Bytes(), err }, "{\n  \"path\": \"C:\\\\A&B\\\\<x>.exe\",\n  \"names\": [\n    \"a\",\n    \"b\"\n  ]\n}\n"},
		{"Compact", func() ([]byte, error) { return Compact(v) }, `{"path":"C:\\A&B\\<x>.exe","names":["a","b"]}`},
	} {
		got, err := tc.got()
		require.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, string(got), tc.name)
		var back doc
		require.NoError(t, json.Unmarshal(got, &back), tc.name)
		assert.Equal(t, v, back, tc.name)
	}
}

func TestErrorsAreReturned(t *testing.T) {
	for _, f := range []func(any) ([]byte, error){Indent, Compact} {
		_, err := f(math.Inf(1))
		assert.Error(t, err)
	}
	assert.Error(t, Write(&bytes.Buffer{}, math.NaN()))
}
