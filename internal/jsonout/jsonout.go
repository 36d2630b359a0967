// Package jsonout is the one JSON encoding every file and report of edrpolicy is written
// with: HTML characters left as they are (so paths and descriptions read as written: no
// \u0026 for &, no \u003c for <), and, for documents, two-space indentation and a final
// newline. Same value, same bytes.
package jsonout

import (
	"bytes"
	"encoding/json"
	"io"
)

// Indent returns v as an indented document with a final newline.
func Indent(v any) ([]byte, error) {
	var buf bytes.Buffer
	if err := Encoder(&buf, "").Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Write writes v to w as Indent does.
func Write(w io.Writer, v any) error {
	return Encoder(w, "").Encode(v)
}

// Compact returns v on one line, without a final newline (a value to splice into a document).
func Compact(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Encoder returns an encoder writing to w as Write does, every line after a value's first
// starting with prefix: for the records of a document written one at a time, with one
// buffer reused.
func Encoder(w io.Writer, prefix string) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	return enc
}
