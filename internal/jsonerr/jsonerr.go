// Package jsonerr places encoding/json errors in the document: a syntax or type error gets
// the line and column it happened at, so that a user editing a large file finds the spot.
package jsonerr

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
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
