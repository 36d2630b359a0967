package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/internal/jsonerr"
)

// Parse decodes and validates a profile. Unknown keys, values of the wrong type and trailing
// data are errors; every error names the row and key at fault ("paths[3].versions: ...").
func Parse(data []byte) (*Profile, error) {
	var p Profile
	errs, err := decodeStrict(data, &p)
	if err != nil {
		return nil, err
	}
	// Report the consistency errors too: a misspelt key often leaves a required one empty.
	if err := errors.Join(append(errs, p.Validate())...); err != nil {
		return nil, err
	}
	return &p, nil
}

// decodeStrict decodes data into v (a pointer to a struct), walking the document so that each
// error carries its JSON path. It returns every key or type error it finds, or err when data
// is not one JSON value.
func decodeStrict(data []byte, v any) (errs []error, err error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("decode: %w", jsonerr.Locate(data, err, dec.InputOffset()))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		line, col := jsonerr.Position(data, dec.InputOffset())
		return nil, fmt.Errorf("decode: line %d, column %d: data after the profile object", line, col)
	}
	decodeValue(&errs, "", raw, reflect.ValueOf(v).Elem())
	return errs, nil
}

// decodeValue decodes raw into the addressable value dst; where is the JSON path so far.
func decodeValue(errs *[]error, where string, raw json.RawMessage, dst reflect.Value) {
	fail := func(format string, args ...any) {
		at := where
		if at == "" {
			at = "profile"
		}
		*errs = append(*errs, fmt.Errorf("%s: %s", at, fmt.Sprintf(format, args...)))
	}
	if bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		return // leaves the zero value, as encoding/json does
	}
	switch dst.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(raw, &obj); err != nil {
			fail("want an object, got %s", jsonKind(raw))
			return
		}
		fields := jsonFields(dst.Type())
		keys := make([]string, 0, len(obj))
		for k := range obj {
			keys = append(keys, k)
		}
		sort.Strings(keys) // errors in a stable order
		for _, k := range keys {
			idx, ok := fields[k]
			if !ok {
				fail("unknown key %q (known keys: %s)", k, strings.Join(knownKeys(fields), ", "))
				continue
			}
			decodeValue(errs, join(where, k), obj[k], dst.FieldByIndex(idx))
		}
	case reflect.Slice:
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			fail("want an array, got %s", jsonKind(raw))
			return
		}
		out := reflect.MakeSlice(dst.Type(), len(items), len(items))
		for i, it := range items {
			decodeValue(errs, fmt.Sprintf("%s[%d]", where, i), it, out.Index(i))
		}
		dst.Set(out)
	default:
		if err := json.Unmarshal(raw, dst.Addr().Interface()); err != nil {
			fail("want %s, got %s", goKind(dst.Kind()), jsonKind(raw))
		}
	}
}

func join(where, key string) string {
	if where == "" {
		return key
	}
	return where + "." + key
}

// jsonFields maps the JSON names of t's fields (embedded structs' fields included) to their
// index paths. Fields tagged "-" are left out.
func jsonFields(t reflect.Type) map[string][]int {
	out := map[string][]int{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			for k, idx := range jsonFields(f.Type) {
				out[k] = append([]int{i}, idx...)
			}
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = []int{i}
	}
	return out
}

func knownKeys(fields map[string][]int) []string {
	out := make([]string, 0, len(fields))
	for k := range fields {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func jsonKind(raw json.RawMessage) string {
	b := bytes.TrimSpace(raw)
	if len(b) == 0 {
		return "nothing"
	}
	switch b[0] {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number " + string(b)
}

func goKind(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "a boolean (true or false)"
	case reflect.Int, reflect.Int64, reflect.Int32:
		return "a whole number"
	}
	return k.String()
}
