package safeplist

import (
	"bytes"
	"encoding/binary"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"howett.net/plist"
)

// bplist assembles a binary plist by hand: each object is either nil (a true value) or the
// list of objects an array refers to; object 0 is the top. References and offsets are
// 4 bytes wide.
func bplist(objs [][]uint32) []byte {
	b := []byte("bplist00")
	offsets := make([]uint32, len(objs))
	for i, refs := range objs {
		offsets[i] = uint32(len(b))
		if refs == nil {
			b = append(b, 0x09)
			continue
		}
		if len(refs) < 15 {
			b = append(b, 0xa0|byte(len(refs)))
		} else {
			b = append(b, 0xaf, 0x12)
			b = binary.BigEndian.AppendUint32(b, uint32(len(refs)))
		}
		for _, r := range refs {
			b = binary.BigEndian.AppendUint32(b, r)
		}
	}
	table := len(b)
	for _, o := range offsets {
		b = binary.BigEndian.AppendUint32(b, o)
	}
	t := make([]byte, 32)
	t[6], t[7] = 4, 4
	binary.BigEndian.PutUint64(t[8:], uint64(len(objs)))
	binary.BigEndian.PutUint64(t[24:], uint64(table))
	return append(b, t...)
}

// chain is n arrays each holding the next, ending in true.
func chain(n int) [][]uint32 {
	objs := make([][]uint32, n+1)
	for i := 0; i < n; i++ {
		objs[i] = []uint32{uint32(i + 1)}
	}
	return objs
}

// doubling is n arrays each holding the next twice: 2^n values once expanded.
func doubling(n int) [][]uint32 {
	objs := make([][]uint32, n+1)
	for i := 0; i < n; i++ {
		objs[i] = []uint32{uint32(i + 1), uint32(i + 1)}
	}
	return objs
}

func xmlNest(n int) []byte {
	return []byte(`<?xml version="1.0" encoding="UTF-8"?><plist version="1.0">` +
		strings.Repeat("<array>", n) + "<true/>" + strings.Repeat("</array>", n) + "</plist>")
}

func TestCheck(t *testing.T) {
	infoXML := []byte(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict><key>CFBundleIdentifier</key><string>com.example</string>
<key>A</key><array><dict><key>b</key><array><string>(((((</string></array></dict></array></dict></plist>`)
	infoBin, err := plist.Marshal(map[string]any{"CFBundleIdentifier": "com.example", "list": []any{map[string]any{"a": []any{true, "x"}}}}, plist.BinaryFormat)
	require.NoError(t, err)
	shared := [][]uint32{{1, 1, 1, 1, 1, 1, 1, 1}, {2, 2}, nil} // a shared array, as CF writes uniqued objects
	tests := []struct {
		name string
		in   []byte
		want error
	}{
		{"XML Info.plist", infoXML, nil},
		{"binary Info.plist", infoBin, nil},
		{"text plist", []byte(`{ CFBundleIdentifier = "com.example"; A = ( ( 1, 2 ), "((" ); }`), nil},
		{"XML at the depth limit", xmlNest(MaxDepth - 2), nil}, // plist, 126 arrays, true
		{"XML one past the limit", xmlNest(MaxDepth - 1), ErrTooDeep},
		{"XML, 1,000,000 nested arrays (7 MB)", xmlNest(1_000_000), ErrTooDeep},
		{"XML nested dicts, unterminated", []byte("<plist>" + strings.Repeat("<dict><key>a</key>", 200_000)), ErrTooDeep},
		{"XML starting with <key> is read as text", []byte("<key>" + strings.Repeat("(", 100)), nil},
		{"text, 1,000,000 nested arrays", bytes.Repeat([]byte("("), 1_000_000), ErrTooDeep},
		{"text, nesting hidden after a comment with a quote", []byte(`/* " */` + strings.Repeat("(a//b,", 20_000)), ErrTooDeep},
		{"binary chain at the limit", bplist(chain(MaxDepth - 1)), nil},
		{"binary chain one past the limit", bplist(chain(MaxDepth)), ErrTooDeep},
		{"binary chain of 500,000", bplist(chain(500_000)), ErrTooDeep},
		{"binary shared objects", bplist(shared), nil},
		{"binary doubling (2^60 values)", bplist(doubling(60)), ErrTooLarge},
		{"binary cycle", bplist([][]uint32{{1}, {0}}), ErrMalformed},
		{"binary self-reference", bplist([][]uint32{{0}}), ErrMalformed},
		{"binary reference past the objects", bplist([][]uint32{{7}}), ErrMalformed},
		{"binary truncated", []byte("bplist00\x09"), ErrMalformed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			err := Check(tc.in)
			assert.Less(t, time.Since(start), 2*time.Second)
			if tc.want == nil {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, tc.want), "%v is not %v", err, tc.want)
		})
	}
}

// TestUnmarshalAgrees decodes accepted documents with Unmarshal and with the plain decoder:
// same value, same format.
func TestUnmarshalAgrees(t *testing.T) {
	for _, in := range [][]byte{
		xmlNest(20),
		bplist(chain(20)),
		bplist([][]uint32{{1, 1, 1}, {2, 2}, nil}),
		[]byte(`{ a = ( b, c, { d = e; } ); }`),
	} {
		var a, b any
		fa, errA := Unmarshal(in, &a)
		fb, errB := plist.Unmarshal(in, &b)
		require.NoError(t, errA)
		require.NoError(t, errB)
		assert.Equal(t, fb, fa)
		assert.Equal(t, b, a)
	}
}

// TestUnmarshalBounded runs the hostile documents through Unmarshal in-process: each returns
// an error in bounded time and memory instead of overflowing the stack (the XML case crashed
// the process before) or expanding without end.
func TestUnmarshalBounded(t *testing.T) {
	for name, in := range map[string][]byte{
		"XML 1,000,000 deep":   xmlNest(1_000_000),
		"text 1,000,000 deep":  bytes.Repeat([]byte("{a="), 1_000_000),
		"binary chain 500,000": bplist(chain(500_000)),
		"binary doubling":      bplist(doubling(40)),
	} {
		t.Run(name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			var v map[string]any
			_, err := Unmarshal(in, &v)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			require.Error(t, err)
			t.Logf("%v in %v, %d MiB allocated", err, elapsed, (after.TotalAlloc-before.TotalAlloc)>>20)
			assert.Less(t, elapsed, 5*time.Second)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(64<<20)+uint64(8*len(in)))
		})
	}
}

// TestUnmarshalPanic turns a decoder runtime panic into an error.
func TestUnmarshalPanic(t *testing.T) {
	// An XML <integer> that the decoder's strconv path accepts, into a mismatched target,
	// is an error either way; what matters is that no panic escapes for any input here.
	for _, in := range [][]byte{[]byte("bplist00"), []byte("bplist00\xd1\x01\x02"), {}, []byte("<plist><integer>9999999999999999999999</integer></plist>")} {
		var v struct{ A string }
		assert.NotPanics(t, func() { _, _ = Unmarshal(in, &v) })
	}
}
