package testpolicy

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
)

var reLowerHex = regexp.MustCompile(`^[0-9a-f]+$`)

// CheckParsed asserts what every parser promises of the entries it returns for file name:
// they name the vendor and the file, have a known kind, a value without control characters,
// digests and thumbprints in lower-case hex of their length, and a value that is one of the
// text values of the file (leaves): nothing is read out of a file that its text does not say.
func CheckParsed(t *testing.T, vendor, name string, es []core.Entry, leaves []string) {
	t.Helper()
	have := map[string]bool{}
	for _, l := range leaves {
		have[l] = true
		have[strings.ToLower(l)] = true
	}
	for _, e := range es {
		if e.Vendor != vendor || e.File != name {
			t.Fatalf("entry %+v: vendor or file is not %s, %s", e, vendor, name)
		}
		if err := core.PlainEntryValue(e.Value); err != nil {
			t.Fatalf("entry %+v: %v", e, err)
		}
		switch e.Kind {
		case core.EntryHash:
			if n := len(e.Value); (n != 32 && n != 40 && n != 64) || !reLowerHex.MatchString(e.Value) {
				t.Fatalf("hash entry %+v: not a lower-case digest", e)
			}
		case core.EntryCertificate, core.EntryPath:
		default:
			t.Fatalf("entry %+v: unknown kind", e)
		}
		if leaves != nil && !have[e.Value] {
			t.Fatalf("entry %+v: its value is none of the file's text values", e)
		}
	}
}

// JSONStrings returns every string of a JSON document (keys and values), nil when it does not
// decode.
func JSONStrings(data []byte) []string {
	var v any
	if json.Unmarshal(core.StripBOM(data), &v) != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, y := range x {
				walk(y)
			}
		case map[string]any:
			for k, y := range x {
				out = append(out, k)
				walk(y)
			}
		}
	}
	walk(v)
	return out
}

// PlistStrings returns every string of a property list, nil when it does not decode.
func PlistStrings(data []byte) []string {
	var v any
	if _, err := plist.Unmarshal(data, &v); err != nil {
		return nil
	}
	var out []string
	var walk func(any)
	walk = func(v any) {
		switch x := v.(type) {
		case string:
			out = append(out, x)
		case []any:
			for _, y := range x {
				walk(y)
			}
		case map[string]any:
			for k, y := range x {
				out = append(out, k)
				walk(y)
			}
		}
	}
	walk(v)
	return out
}

// CSVCells returns every cell of a CSV file (with CSVCell's guard removed, and split at commas
// too, for cells that list values), nil when it does not parse.
func CSVCells(data []byte) []string {
	r := csv.NewReader(bytes.NewReader(core.StripBOM(data)))
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil
	}
	var out []string
	for _, row := range rows {
		for _, c := range row {
			c = core.UncellCSV(c)
			out = append(out, c)
			out = append(out, strings.Split(c, ",")...)
		}
	}
	return out
}
