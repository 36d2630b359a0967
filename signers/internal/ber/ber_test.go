package ber

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bomb is the hostile shape of issue #12: n nested indefinite-length headers (tag t), with
// the end-of-contents markers when closed is set.
func bomb(t byte, n int, closed bool) []byte {
	b := bytes.Repeat([]byte{t, 0x80}, n)
	if closed {
		b = append(b, make([]byte, 2*n)...)
	}
	return b
}

// definiteNest nests a NULL in n definite-length SEQUENCEs, built in linear time.
func definiteNest(n int) []byte {
	lens := make([]int, n+1) // lens[i]: size of the element at nesting level n-i
	lens[0] = 2
	for i := 1; i <= n; i++ {
		lens[i] = derSize(1, lens[i-1])
	}
	b := make([]byte, 0, lens[n])
	for i := n; i >= 1; i-- {
		b = appendLength(append(b, 0x30), lens[i-1])
	}
	return append(b, 0x05, 0x00)
}

// zeroChain is an indefinite SEQUENCE holding n empty OCTET STRINGs.
func zeroChain(n int) []byte {
	b := append([]byte{0x30, 0x80}, bytes.Repeat([]byte{0x04, 0x00}, n)...)
	return append(b, 0, 0)
}

func TestCheck(t *testing.T) {
	maxD := DefaultLimits.MaxDepth
	tests := []struct {
		name string
		in   []byte
		want error // nil: accepted
		msg  string
	}{
		{"DER", []byte{0x30, 0x03, 0x02, 0x01, 0x05}, nil, ""},
		{"indefinite", []byte{0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00}, nil, ""},
		{"zero padding", []byte{0x05, 0x00, 0x00, 0x00}, nil, ""},
		{"high tag number", []byte{0x9f, 0x81, 0x01, 0x01, 0x07}, nil, ""},
		{"empty constructed", []byte{0x30, 0x00}, nil, ""},
		{"depth exactly at the limit (definite)", definiteNest(maxD), nil, ""},
		{"depth exactly at the limit (indefinite)", bomb(0x30, maxD, true), nil, ""},
		{"issue shape: 8 MiB of 30 80", bomb(0x30, 4<<20, false), ErrTooDeep, "CMS nesting deeper than 64"},
		{"issue shape, closed", bomb(0x30, 100_000, true), ErrTooDeep, "deeper than 64"},
		{"one past the limit (indefinite)", bomb(0x30, maxD+1, true), ErrTooDeep, "deeper than 64"},
		{"one past the limit (definite)", definiteNest(maxD + 1), ErrTooDeep, "deeper than 64"},
		{"definite-length deep nesting", definiteNest(20_000), ErrTooDeep, "deeper than 64"},
		{"constructed OCTET STRING nesting", bomb(0x24, 1_000_000, false), ErrTooDeep, "deeper than 64"},
		{"context-specific [0] nesting", bomb(0xa0, 1_000_000, false), ErrTooDeep, "deeper than 64"},
		{"SET nesting", bomb(0x31, 1_000_000, false), ErrTooDeep, "deeper than 64"},
		{"high-tag constructed nesting", bytes.Repeat([]byte{0xbf, 0x81, 0x00, 0x80}, 500_000), ErrTooDeep, "deeper than 64"},
		{"long chain of zero-length elements", zeroChain(4 << 20), ErrTooManyElements, "CMS holds more than 262144 elements"},
		{"zero-length chain at the limit", zeroChain(DefaultLimits.MaxElements - 1), nil, ""},
		{"zero-length chain one past the limit", zeroChain(DefaultLimits.MaxElements), ErrTooManyElements, ""},
		{"huge declared length (4 octets)", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x05, 0x00}, ErrMalformed, "truncated"},
		{"huge declared length on a primitive", []byte{0x04, 0x84, 0xff, 0xff, 0xff, 0xff}, ErrMalformed, "truncated"},
		{"length of 8 octets", []byte{0x04, 0x88, 0, 0, 0, 0, 0, 0, 0, 1, 0}, ErrMalformed, "bad length"},
		{"reserved length octet", []byte{0x04, 0xff, 0x00}, ErrMalformed, "reserved"},
		{"child longer than its parent", []byte{0x30, 0x03, 0x04, 0x05, 0, 0, 0, 0, 0}, ErrMalformed, "truncated"},
		{"indefinite child overruns its definite parent", []byte{0x30, 0x04, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00}, ErrMalformed, "end-of-contents"},
		{"missing end-of-contents", []byte{0x30, 0x80, 0x05, 0x00}, ErrMalformed, "end-of-contents"},
		{"end-of-contents at top level", []byte{0x00, 0x00}, ErrMalformed, "end-of-contents"},
		{"end-of-contents inside a definite element", []byte{0x30, 0x02, 0x00, 0x00}, ErrMalformed, "end-of-contents"},
		{"indefinite primitive", []byte{0x04, 0x80, 0x00, 0x00}, ErrMalformed, "primitive"},
		{"trailing garbage", []byte{0x05, 0x00, 0x01}, ErrMalformed, "trailing data"},
		{"unterminated high tag", []byte{0x1f, 0x81, 0x81}, ErrMalformed, "tag"},
		{"high tag of 5 octets", []byte{0x1f, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00}, ErrMalformed, "bad tag"},
		{"tag 0 with a long-form length (fuzz)", []byte{0x00, 0x81, 0x00}, ErrMalformed, "reserved for end-of-contents"},
		{"constructed tag 0", []byte{0x20, 0x00}, ErrMalformed, "reserved for end-of-contents"},
		{"low tag number in the high form", []byte{0x1f, 0x05, 0x00}, ErrMalformed, "high-tag-number form"},
		{"high tag with a leading 0x80", []byte{0x1f, 0x80, 0x1f, 0x00}, ErrMalformed, "bad tag"},
		{"empty", nil, ErrMalformed, "truncated"},
		{"one byte", []byte{0x30}, ErrMalformed, "truncated"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Check(tc.in)
			if tc.want == nil {
				require.NoError(t, err)
				_, err := ToDER(tc.in)
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, tc.want), "%v is not %v", err, tc.want)
			assert.Contains(t, err.Error(), tc.msg)
			_, err2 := ToDER(tc.in)
			assert.Equal(t, err.Error(), err2.Error(), "ToDER and Check disagree")
		})
	}
}

func TestToDER(t *testing.T) {
	big := make([]byte, 70_000)
	big[0] = 0xaa
	bigDER := append([]byte{0x04, 0x83, 0x01, 0x11, 0x70}, big...)
	tests := []struct {
		name     string
		in, want []byte
	}{
		{"DER unchanged", []byte{0x30, 0x03, 0x02, 0x01, 0x05}, []byte{0x30, 0x03, 0x02, 0x01, 0x05}},
		{"indefinite", []byte{0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00}, []byte{0x30, 0x03, 0x02, 0x01, 0x05}},
		{"nested indefinite", []byte{0x30, 0x80, 0xa0, 0x80, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00}, []byte{0x30, 0x04, 0xa0, 0x02, 0x04, 0x00}},
		{"non-minimal length", []byte{0x04, 0x81, 0x01, 0xaa}, []byte{0x04, 0x01, 0xaa}},
		{"indefinite inside definite", []byte{0x30, 0x06, 0x30, 0x80, 0x05, 0x00, 0x00, 0x00}, []byte{0x30, 0x04, 0x30, 0x02, 0x05, 0x00}},
		{"high tag number", []byte{0x9f, 0x81, 0x01, 0x01, 0x07}, []byte{0x9f, 0x81, 0x01, 0x01, 0x07}},
		{"zero padding dropped", []byte{0x05, 0x00, 0x00, 0x00}, []byte{0x05, 0x00}},
		{"siblings", []byte{0x30, 0x80, 0x05, 0x00, 0x30, 0x80, 0x00, 0x00, 0x04, 0x01, 0x07, 0x00, 0x00}, []byte{0x30, 0x07, 0x05, 0x00, 0x30, 0x00, 0x04, 0x01, 0x07}},
		{"DER longer than BER", append(append([]byte{0x30, 0x80}, bigDER...), 0, 0), append([]byte{0x30, 0x83, 0x01, 0x11, 0x75}, bigDER...)},
		{"long definite length kept", append([]byte{0x04, 0x82, 0x01, 0x00}, make([]byte, 256)...), append([]byte{0x04, 0x82, 0x01, 0x00}, make([]byte, 256)...)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ToDER(tc.in)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got)
			// Independent check: Go's DER parser reads the output as one element.
			var rv asn1.RawValue
			rest, err := asn1.Unmarshal(got, &rv)
			require.NoError(t, err)
			assert.Empty(t, rest)
			assert.Equal(t, got, rv.FullBytes)
		})
	}
}

// TestBombBounded runs the hostile shapes through Check and ToDER and checks that time and
// memory stay bounded: no allocation proportional to the nesting, a few milliseconds.
func TestBombBounded(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
	}{
		{"8 MiB of 30 80", bomb(0x30, 4<<20, false)},
		{"8 MiB of 24 80", bomb(0x24, 4<<20, false)},
		{"8 MiB of zero-length elements", zeroChain(4 << 20)},
		{"definite nesting", definiteNest(100_000)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			allocs := testing.AllocsPerRun(3, func() { _ = Check(tc.in) })
			assert.LessOrEqual(t, allocs, 10.0, "Check allocates per element")
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			_, err := ToDER(tc.in)
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			require.Error(t, err)
			alloc := after.TotalAlloc - before.TotalAlloc
			t.Logf("ToDER: %v, %d KiB allocated, %v", err, alloc>>10, elapsed)
			// ToDER keeps one small record per element up to the element limit (262144).
			assert.Less(t, alloc, uint64(64<<20))
			assert.Less(t, elapsed, 2*time.Second)
		})
	}
}

// TestWalkLinear checks that the walk is linear: 16 times the input takes well under 16²
// times as long (with a generous margin for a loaded machine).
// TestToDERAtLimits converts the largest blob the limits allow: allocation stays at one
// 16-byte record per element plus the output.
func TestToDERAtLimits(t *testing.T) {
	in := zeroChain(DefaultLimits.MaxElements - 1)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	out, err := ToDER(in)
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	assert.Equal(t, len(in)-4+5, len(out)) // 30 80 ... 00 00 becomes 30 83 xx xx xx ...
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d elements: %d KiB allocated", DefaultLimits.MaxElements, alloc>>10)
	assert.Less(t, alloc, uint64(16*DefaultLimits.MaxElements+len(out)+1<<20))
}

func TestWalkLinear(t *testing.T) {
	l := Limits{MaxDepth: 64, MaxElements: 1 << 30}
	small, large := zeroChain(1<<18), zeroChain(1<<22)
	timeIt := func(b []byte) time.Duration {
		best := time.Duration(1 << 62)
		for i := 0; i < 3; i++ {
			start := time.Now()
			require.NoError(t, l.Check(b))
			best = min(best, time.Since(start))
		}
		return best
	}
	ts, tl := timeIt(small), timeIt(large)
	t.Logf("%d bytes: %v; %d bytes: %v", len(small), ts, len(large), tl)
	assert.Less(t, tl, 64*ts+50*time.Millisecond, "walk is not linear")
}

func TestMeasure(t *testing.T) {
	st, err := Measure([]byte{0x30, 0x80, 0x31, 0x03, 0x04, 0x01, 0x00, 0x05, 0x00, 0x00, 0x00})
	require.NoError(t, err)
	assert.Equal(t, Stats{Depth: 2, Elements: 4}, st)
	st, err = Measure(definiteNest(64))
	require.NoError(t, err)
	assert.Equal(t, Stats{Depth: 64, Elements: 65}, st)
	_, err = Measure(bomb(0x30, 65, true))
	assert.ErrorIs(t, err, ErrTooDeep)
}

func TestLimits(t *testing.T) {
	l := Limits{MaxDepth: 2, MaxElements: 3}
	assert.NoError(t, l.Check([]byte{0x30, 0x04, 0x30, 0x02, 0x05, 0x00}))
	assert.ErrorIs(t, l.Check([]byte{0x30, 0x06, 0x30, 0x04, 0x30, 0x02, 0x05, 0x00}), ErrTooDeep)
	assert.ErrorIs(t, l.Check([]byte{0x30, 0x06, 0x05, 0x00, 0x05, 0x00, 0x05, 0x00}), ErrTooManyElements)
	assert.Error(t, Limits{}.Check([]byte{0x05, 0x00}))
}
