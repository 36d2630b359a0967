package authenticode

import (
	"bytes"
	"context"
	"encoding/asn1"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/internal/ber"
)

// TestBERBomb puts hostile blobs in the certificate table of a PE file, as a whole entry and
// inside the unauthenticated attributes of a real signature (nested signature, RFC 3161
// token, Microsoft timestamp, countersignature). Each must give one error naming the file
// and the limit, in bounded time and memory, with and without the streaming tap.
func TestBERBomb(t *testing.T) {
	needDual(t)
	entries, err := testfixtures.PECertEntries(readFile(t, fx.dual)) // osslsigncode: nested signature and timestamp
	require.NoError(t, err)
	require.Len(t, entries, 1)
	real := entries[0]
	inAttr := func(oid asn1.ObjectIdentifier, value []byte) []byte {
		b, err := testfixtures.SetUnauthAttr(real, oid, value)
		require.NoError(t, err)
		return b
	}
	bomb := testfixtures.BERBomb(1 << 20)
	zeroChain := append(append([]byte{0x30, 0x80}, bytes.Repeat([]byte{0x04, 0x00}, 2<<20)...), 0, 0)
	deep := []byte{0x05, 0x00}
	for i := 0; i < 5000; i++ {
		deep, _ = asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: deep})
	}
	tests := []struct {
		name, want string
		blob       []byte
		wantErr    error
	}{
		{"issue shape: 8 MiB of 30 80", "CMS nesting deeper than 64", testfixtures.BERBomb(4 << 20), ber.ErrTooDeep},
		{"definite-length deep nesting", "CMS nesting deeper than 64", deep, ber.ErrTooDeep},
		{"constructed OCTET STRING nesting", "CMS nesting deeper than 64", bytes.Repeat([]byte{0x24, 0x80}, 1<<20), ber.ErrTooDeep},
		{"huge declared length", "truncated", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x80}, ber.ErrMalformed},
		{"long chain of zero-length elements", "more than 262144 elements", zeroChain, ber.ErrTooManyElements},
		{"bomb in the nested signature", "CMS nesting deeper than 64", inAttr(OIDNestedSignature, bomb), ber.ErrTooDeep},
		{"bomb in the RFC 3161 timestamp token", "CMS nesting deeper than 64", inAttr(testfixtures.OIDTimeStampToken, bomb), ber.ErrTooDeep},
		{"bomb in the Microsoft timestamp", "CMS nesting deeper than 64", inAttr(testfixtures.OIDMSTimestamp, bomb), ber.ErrTooDeep},
		{"bomb in a countersignature", "CMS nesting deeper than 64", inAttr(testfixtures.OIDCounterSig, bomb), ber.ErrTooDeep},
	}
	v := NewWithoutSystemRoots()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := testfixtures.PETiny(tc.blob)
			for _, useTap := range []bool{false, true} {
				in := signers.Input{Path: "bomb.exe", R: bytes.NewReader(b), Size: int64(len(b)), Format: hashing.FormatPE}
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				start := time.Now()
				if useTap {
					tap := v.StreamTap(hashing.FormatPE, b[:min(len(b), hashing.SniffLen)], int64(len(b)))
					require.NotNil(t, tap)
					_, _ = tap.Write(b)
					in.Tap = tap
				}
				res, err := v.Verify(context.Background(), in, signers.Options{})
				elapsed := time.Since(start)
				runtime.ReadMemStats(&after)
				alloc := after.TotalAlloc - before.TotalAlloc
				t.Logf("tap=%v %d bytes: %v, %d MiB allocated", useTap, len(b), elapsed.Round(time.Millisecond), alloc>>20)
				require.Error(t, err, "%v", res)
				assert.True(t, errors.Is(err, ErrMalformed))
				assert.Contains(t, err.Error(), "bomb.exe: authenticode:")
				assert.Contains(t, err.Error(), tc.want)
				assert.Less(t, elapsed, 5*time.Second)
				assert.Less(t, alloc, uint64(2*len(b))+64<<20)
			}
		})
	}
	// The untouched entry in the same tiny PE parses (and fails on the image digest only).
	b := testfixtures.PETiny(real)
	res, err := v.Verify(context.Background(), signers.Input{Path: "real.exe", R: bytes.NewReader(b), Size: int64(len(b)), Format: hashing.FormatPE}, signers.Options{})
	require.NoError(t, err)
	require.Len(t, res.Signatures, 2)
	assert.Contains(t, res.Signatures[0].Error, "image digest mismatch")
}

// TestCorpusCMSDepth measures every certificate entry of the fixtures and of the real PE
// corpus against the BER limits: the deepest must stay far below the nesting cap.
func TestCorpusCMSDepth(t *testing.T) {
	needDual(t)
	paths := []string{fx.rsa64, fx.ecTS64, fx.rsaTSPH32, fx.sha1PH64, fx.dual}
	root := os.Getenv("EDRPOLICY_CORPUS")
	if root == "" {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, ".cache", "edrpolicy-corpus")
	}
	_ = filepath.WalkDir(filepath.Join(root, "pe"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return nil
	})
	maxDepth, maxElems, n := 0, 0, 0
	for _, p := range paths {
		entries, err := testfixtures.PECertEntries(readFile(t, p))
		if err != nil {
			continue
		}
		for _, e := range entries {
			st, err := ber.Measure(e)
			require.NoError(t, err, p)
			t.Logf("%s: depth %d, %d elements", filepath.Base(p), st.Depth, st.Elements)
			maxDepth, maxElems, n = max(maxDepth, st.Depth), max(maxElems, st.Elements), n+1
		}
	}
	require.NotZero(t, n)
	t.Logf("%d certificate entries: deepest %d, most elements %d", n, maxDepth, maxElems)
	assert.LessOrEqual(t, maxDepth, 32, "a real signature nests more than half the cap")
	assert.LessOrEqual(t, maxElems, 2600, "a real signature holds more than 1% of the element cap")
}
