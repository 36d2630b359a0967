// Package jsonerr places encoding/json errors in the document: a syntax or type error gets
// the line and column it happened at, so that a user editing a large file finds the spot.
package jsonerr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Locate returns err prefixed with "line L, column C: " when err is a *json.SyntaxError or a
// *json.UnmarshalTypeError (whose offsets point into data), or when offset >= 0 (a
// json.Decoder's InputOffset for errors that carry none, such as an unknown field). Other
// errors are returned unchanged. The result wraps err.
func Locate(data []byte, err error, offset int64) error {
	if err == nil {
		return nil
	}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	// Their offsets count the bytes read when the error happened, the offending one
	// included: step back onto it.
	switch {
	case errors.As(err, &se):
		offset = max(se.Offset-1, 0)
	case errors.As(err, &te):
		offset = max(te.Offset-1, 0)
	}
	if offset < 0 {
		return err
	}
	line, col := Position(data, offset)
	return fmt.Errorf("line %d, column %d: %w", line, col, err)
}

// Position returns the 1-based line and column (in bytes) of offset in data; an offset past
// the end is placed after the last byte.
func Position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 0 {
		offset = 0
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}

// FindValue walks the JSON document data and returns where the first value for which match
// returns true begins, and its path ("rules[3].signer.not_before"). match sees the path (keys
// as written in the document, indexes as "[3]"), the value's first token (a string,
// json.Number, bool, nil, or a json.Delim for an object or array, whose contents are then
// walked too) and that token's bytes as written. It serves errors encoding/json reports without an offset: a value that an
// UnmarshalJSON method or base64 refused.
func FindValue(data []byte, match func(path []string, tok json.Token, raw []byte) bool) (offset int64, path string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var stack []container
	for {
		start := valueStart(data, dec.InputOffset())
		tok, err := dec.Token()
		if err != nil {
			return 0, "", false
		}
		top := len(stack) - 1
		if top >= 0 && stack[top].object && stack[top].wantKey {
			if tok == json.Delim('}') {
				stack = closeContainer(stack)
				continue
			}
			stack[top].key, stack[top].wantKey = fmt.Sprint(tok), false
			continue
		}
		if tok == json.Delim(']') {
			stack = closeContainer(stack)
			continue
		}
		if top >= 0 && match(pathOf(stack), tok, data[start:dec.InputOffset()]) {
			return start, strings.Join(pathOf(stack), "."), true
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, container{object: true, wantKey: true})
		case json.Delim('['):
			stack = append(stack, container{})
		default:
			next(stack)
		}
	}
}

// container is an object or array being walked by FindValue.
type container struct {
	object  bool
	wantKey bool
	key     string
	index   int
}

func closeContainer(stack []container) []container {
	stack = stack[:len(stack)-1]
	next(stack)
	return stack
}

// next moves the innermost container past one value.
func next(stack []container) {
	if len(stack) == 0 {
		return
	}
	c := &stack[len(stack)-1]
	if c.object {
		c.wantKey = true
	} else {
		c.index++
	}
}

func pathOf(stack []container) []string {
	out := make([]string, 0, len(stack))
	for _, c := range stack {
		if c.object {
			out = append(out, c.key)
		} else if len(out) > 0 {
			out[len(out)-1] += fmt.Sprintf("[%d]", c.index)
		} else {
			out = append(out, fmt.Sprintf("[%d]", c.index))
		}
	}
	return out
}

// valueStart skips the separators and white space after offset: where the next token begins.
func valueStart(data []byte, offset int64) int64 {
	for offset < int64(len(data)) {
		switch data[offset] {
		case ' ', '\t', '\r', '\n', ':', ',':
			offset++
			continue
		}
		break
	}
	return offset
}
