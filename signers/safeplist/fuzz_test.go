package safeplist

import (
	"errors"
	"reflect"
	"testing"

	"howett.net/plist"
)

// FuzzPlist decodes arbitrary bytes as a property list. Whatever Check accepts must decode
// without crashing and exactly as the plain decoder decodes it (Check never changes a
// result, it only refuses); what it refuses carries one of its errors.
func FuzzPlist(f *testing.F) {
	for _, s := range [][]byte{
		[]byte(`<?xml version="1.0"?><plist version="1.0"><dict><key>CFBundleExecutable</key><string>A</string><key>l</key><array><integer>1</integer><true/></array></dict></plist>`),
		[]byte(`{ a = ( b, "c(", <0fbd>, { d = e; } ); }`),
		bplist(chain(5)),
		bplist([][]uint32{{1, 1, 2}, {2, 2}, nil}),
		xmlNest(130),
		[]byte("bplist00"),
	} {
		f.Add(s)
	}
	if b, err := plist.Marshal(map[string]any{"files2": map[string]any{"a": map[string]any{"hash2": []byte{1, 2}, "optional": true}}, "rules2": map[string]any{"^.*": true}}, plist.BinaryFormat); err == nil {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if err := Check(b); err != nil {
			if !errors.Is(err, ErrTooDeep) && !errors.Is(err, ErrTooLarge) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		var got, want any
		fg, errG := Unmarshal(b, &got)
		var fw int
		var errW error
		func() {
			defer func() {
				if r := recover(); r != nil {
					errW = errors.New("panic") // the plain decoder panicked; Unmarshal must have failed too
				}
			}()
			fw, errW = plist.Unmarshal(b, &want)
		}()
		if (errG == nil) != (errW == nil) {
			t.Fatalf("Unmarshal %v, plain decoder %v", errG, errW)
		}
		if errG == nil && (fg != fw || !reflect.DeepEqual(got, want)) {
			t.Fatalf("Unmarshal decodes %v (format %d), the plain decoder %v (format %d)", got, fg, want, fw)
		}
	})
}
