package core

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"
)

// MaxParseSize is the largest vendor file the parsers read (64 MiB): Defender's tenant limit
// of 15,000 indicators with long descriptions stays far below it.
const MaxParseSize = 64 << 20

// utf8BOM is the byte order mark some writers put before UTF-8 text.
var utf8BOM = []byte{0xef, 0xbb, 0xbf}

// StripBOM returns data without a leading UTF-8 byte order mark.
func StripBOM(data []byte) []byte { return bytes.TrimPrefix(data, utf8BOM) }

// CheckText refuses data a parser should not read: over MaxParseSize, or not UTF-8.
func CheckText(data []byte) error {
	if len(data) > MaxParseSize {
		return fmt.Errorf("%d bytes: larger than the %d a vendor file may have", len(data), MaxParseSize)
	}
	if !utf8.Valid(data) {
		return errors.New("not UTF-8 text")
	}
	return nil
}

// DecodeJSON decodes one JSON value from data (a leading BOM allowed) into v and refuses
// trailing data, oversized and non-UTF-8 input. Unknown keys are ignored: a newer writer may
// add fields.
func DecodeJSON(data []byte, v any) error {
	data = StripBOM(data)
	if err := CheckText(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("not the expected JSON: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("data after the JSON value")
	}
	return nil
}

// ReadCSV parses RFC 4180 CSV whose first row must be header (compared exactly, a leading BOM
// allowed) and whose rows all have the header's number of cells. Cells come back with
// CSVCell's formula guard removed (UncellCSV).
func ReadCSV(data []byte, header []string) ([][]string, error) {
	data = StripBOM(data)
	if err := CheckText(data); err != nil {
		return nil, err
	}
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = len(header)
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("not CSV with %d columns: %w", len(header), err)
	}
	if len(rows) == 0 {
		return nil, errors.New("empty: no header row")
	}
	if strings.Join(rows[0], ",") != strings.Join(header, ",") {
		return nil, fmt.Errorf("header %q: want %q", strings.Join(rows[0], ","), strings.Join(header, ","))
	}
	out := rows[1:]
	for _, row := range out {
		for i := range row {
			row[i] = UncellCSV(row[i])
		}
	}
	return out, nil
}

// UncellCSV undoes CSVCell: a cell that CSVCell guarded (an apostrophe before = + - @, tab or
// carriage return) gets its text back.
func UncellCSV(s string) string {
	if len(s) >= 2 && s[0] == '\'' {
		switch s[1] {
		case '=', '+', '-', '@', '\t', '\r':
			return s[1:]
		}
	}
	return s
}

// ParseHexValue checks that s is a hex digest of n characters and returns it in lower case;
// the error says what is wrong, without echoing more than a short prefix of s.
func ParseHexValue(s string, n int) (string, error) {
	v, err := HexDigest(s, n)
	if err != nil {
		return "", fmt.Errorf("value %s is not %d hex digits", Quote(s), n)
	}
	return v, nil
}

// Quote quotes s for an error message, cut to 80 characters.
func Quote(s string) string {
	const max = 80
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return fmt.Sprintf("%q…", s[:cut])
	}
	return fmt.Sprintf("%q", s)
}

// ParseTime parses an entry's expiration: RFC 3339, or Defender's CSV form
// (YYYY-MM-DDTHH:MM:SS.0Z, which RFC 3339 with fractional seconds also reads), or
// YYYY-MM-DD. An empty string is the zero time.
func ParseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse("2006-01-02", s); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("expiration %s is not a date", Quote(s))
}

// Expired reports whether an entry with expiration s (as ParseTime reads it) has expired at
// now. An unreadable expiration counts as expired: a vendor would refuse or misread it.
func Expired(s string, now time.Time) bool {
	t, err := ParseTime(s)
	if err != nil {
		return true
	}
	return !t.IsZero() && !now.Before(t)
}

// PlainEntryValue refuses entry values no writer of edrpolicy produces and no console should
// take: empty, control characters (a line break or NUL can end a value early in the
// console), or longer than 32 KiB.
func PlainEntryValue(v string) error {
	if v == "" {
		return errors.New("empty value")
	}
	if len(v) > 32<<10 {
		return fmt.Errorf("value of %d bytes", len(v))
	}
	for _, c := range v {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0) || c == 0x2028 || c == 0x2029 || c == utf8.RuneError {
			return fmt.Errorf("value %s holds the control character %U", Quote(v), c)
		}
	}
	return nil
}
