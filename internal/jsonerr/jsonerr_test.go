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
