package macho_test

import (
	"bytes"
	"context"
	"encoding/asn1"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
	edrmacho "github.com/edrpolicy/edrpolicy/signers/macho"
)

// definiteNest nests a NULL in n definite-length SEQUENCEs.
func definiteNest(n int) []byte {
	b := []byte{0x05, 0x00}
	for i := 0; i < n; i++ {
		l, _ := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: b})
		b = l
	}
	return b
}

// boundedVerify verifies b in-process and fails when the verification takes more than a few
// seconds or allocates more than the input plus 64 MiB. A stack overflow would kill the test
// binary itself.
func boundedVerify(t *testing.T, b []byte) (*signers.Result, error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	res, err := verifyBytes(t, b, signers.Options{})
	elapsed := time.Since(start)
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("%d bytes: %v, %d MiB allocated", len(b), elapsed.Round(time.Millisecond), alloc>>20)
	assert.Less(t, elapsed, 5*time.Second)
	assert.Less(t, alloc, uint64(len(b))+64<<20)
	return res, err
}

// TestBERBomb puts hostile CMS blobs in Mach-O files (thin and universal) and checks that
// each one gives a file error that names the limit, within bounded time and memory, instead
// of recursing until the process dies.
func TestBERBomb(t *testing.T) {
	f := getFixtures(t)
	realCMS, err := testfixtures.MachOCMS(readFile(t, f.signedArm)) // relic DER, with a timestamp token
	require.NoError(t, err)
	require.NotEmpty(t, realCMS)
	inAttr := func(oid asn1.ObjectIdentifier, value []byte) []byte {
		b, err := testfixtures.SetUnauthAttr(realCMS, oid, value)
		require.NoError(t, err)
		return b
	}
	zeroChain := append(append([]byte{0x30, 0x80}, bytes.Repeat([]byte{0x04, 0x00}, 2<<20)...), 0, 0)
	tests := []struct {
		name, want string
		cms        []byte
	}{
		{"issue shape: 8 MiB of 30 80", "CMS nesting deeper than 64", testfixtures.BERBomb(4 << 20)},
		{"closed indefinite nesting", "CMS nesting deeper than 64", append(testfixtures.BERBomb(100_000), make([]byte, 200_000)...)},
		{"definite-length deep nesting", "CMS nesting deeper than 64", definiteNest(5000)},
		{"constructed OCTET STRING nesting", "CMS nesting deeper than 64", bytes.Repeat([]byte{0x24, 0x80}, 1<<20)},
		{"huge declared length", "truncated", []byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0x30, 0x80}},
		{"long chain of zero-length elements", "more than 262144 elements", zeroChain},
		{"bomb in the timestamp token", "CMS nesting deeper than 64", inAttr(testfixtures.OIDTimeStampToken, testfixtures.BERBomb(1<<20))},
		{"bomb in a countersignature", "CMS nesting deeper than 64", inAttr(testfixtures.OIDCounterSig, testfixtures.BERBomb(1<<20))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			good := testfixtures.MachOTiny(testfixtures.CPUX86_64, "good", nil)
			bad := testfixtures.MachOTiny(testfixtures.CPUArm64, "bomb", tc.cms)
			fat, err := testfixtures.MachOFat(good, bad)
			require.NoError(t, err)
			for name, b := range map[string][]byte{"thin": bad, "fat": fat} {
				res, err := boundedVerify(t, b)
				require.Error(t, err, "%s: %v", name, res)
				assert.Contains(t, err.Error(), tc.want, name)
				assert.Contains(t, err.Error(), "mem: macho:", "the error names the file")
			}
		})
	}
	// The untouched real CMS in the same tiny file is parsed (and fails only on the
	// CodeDirectory it does not sign), so the bombs above are refused for their shape.
	res, err := verifyBytes(t, testfixtures.MachOTiny(testfixtures.CPUArm64, "real", realCMS), signers.Options{})
	require.NoError(t, err)
	assert.Equal(t, signers.StatusInvalid, res.Status)
	assert.Contains(t, res.Signatures[0].Error, "CMS signature:")
}

// TestCorpusCMSDepth measures the CMS blobs of real and fixture signatures against the BER
// limits: the deepest must stay far below the nesting cap.
func TestCorpusCMSDepth(t *testing.T) {
	f := getFixtures(t)
	paths := []string{f.signedArm, f.signedAmd, f.fat}
	paths = append(paths, walkCorpus("macho")...)
	maxDepth, maxElems, n := 0, 0, 0
	for _, p := range paths {
		b, err := os.ReadFile(p) // #nosec G304
		require.NoError(t, err)
		if len(b) < 4 {
			continue
		}
		stats, err := edrmacho.CMSStats(b)
		if err != nil {
			continue // not Mach-O
		}
		for _, st := range stats {
			t.Logf("%s: depth %d, %d elements", filepath.Base(p), st.Depth, st.Elements)
			maxDepth, maxElems, n = max(maxDepth, st.Depth), max(maxElems, st.Elements), n+1
		}
	}
	require.NotZero(t, n)
	t.Logf("%d CMS blobs: deepest %d, most elements %d", n, maxDepth, maxElems)
	assert.LessOrEqual(t, maxDepth, 32, "a real signature nests more than half the cap")
	assert.LessOrEqual(t, maxElems, 2600, "a real signature holds more than 1% of the element cap")
}

// TestSealBundle20k verifies bundles of 20,000 unsealed files whose CodeResources has 20,000
// extra rules2 entries: exact paths (indexed, every file reported as added) and regular
// expressions (beyond the cap: an invalid seal naming the bundle). Each finishes in seconds.
func TestSealBundle20k(t *testing.T) {
	if testing.Short() {
		t.Skip("writes 40,000 files")
	}
	exe := testfixtures.MachOTiny(testfixtures.CPUArm64, "com.fixture.seal", nil)
	for _, tc := range []struct {
		name    string
		exact   bool
		added   int
		wantErr string
	}{
		{"20,000 exact rules", true, 20_000, "sealed resources do not match _CodeSignature/CodeResources: 0 modified, 0 missing, 20000 added"},
		{"20,000 regex rules", false, 0, "sealed resources of Seal.app cannot be checked: Contents/_CodeSignature/CodeResources: resource rules beyond the supported limits: rules2 has 20007 regular-expression rules, at most 256 are supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			app, err := testfixtures.SealBundle(dir, testfixtures.SealBundleSpec{Rules: 20_000, ExactRules: tc.exact, Files: 20_000, Executable: exe})
			require.NoError(t, err)
			start := time.Now()
			res := verifyApp(t, app, signers.Options{})
			elapsed := time.Since(start)
			t.Logf("%v", elapsed)
			assert.Less(t, elapsed, 20*time.Second)
			assert.Equal(t, signers.StatusInvalid, res.Status)
			assert.Len(t, res.Bundle.Added, tc.added)
			require.NotEmpty(t, res.Signatures)
			// The tiny executable does not bind CodeResources, which strict validation
			// reports after the seal verdict.
			assert.True(t, strings.HasPrefix(res.Signatures[0].Error, tc.wantErr+"; "), res.Signatures[0].Error)
		})
	}
}

// TestPlistBombs replaces a signed app's Info.plist and CodeResources with property lists
// nested a million deep (XML and text) or expanding exponentially (binary), which overflowed
// the decoder's stack or memory. Each gives a bundle error or an invalid signature, in
// bounded time and memory.
func TestPlistBombs(t *testing.T) {
	f := getFixtures(t)
	xmlDeep := []byte(`<?xml version="1.0"?><plist version="1.0">` + strings.Repeat("<array>", 1_000_000))
	textDeep := bytes.Repeat([]byte("("), 1_000_000)
	// A binary plist of 60 arrays, each holding the next twice: 2^60 values once decoded.
	var bin []byte
	{
		b := []byte("bplist00")
		var offs []byte
		for i := 0; i < 60; i++ {
			offs = append(offs, byte(len(b)))
			b = append(b, 0xa2, byte(i+1), byte(i+1))
		}
		offs = append(offs, byte(len(b)))
		b = append(b, 0x09)
		table := len(b)
		b = append(b, offs...)
		tr := make([]byte, 32)
		tr[6], tr[7], tr[15], tr[31] = 1, 1, 61, byte(table)
		bin = append(b, tr...)
	}
	tests := []struct {
		name, file, want string
		data             []byte
	}{
		{"Info.plist, XML nested 1,000,000 deep", "Info.plist", "nesting limit exceeded", xmlDeep[:3<<20]},
		{"CodeResources, XML nested 1,000,000 deep", "_CodeSignature/CodeResources", "nesting limit exceeded", xmlDeep},
		{"CodeResources, text nested 1,000,000 deep", "_CodeSignature/CodeResources", "nesting limit exceeded", textDeep},
		{"CodeResources, binary expanding to 2^60 values", "_CodeSignature/CodeResources", "expands beyond its size", bin},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app := copyApp(t, f.app)
			require.NoError(t, os.WriteFile(filepath.Join(app, "Contents", filepath.FromSlash(tc.file)), tc.data, 0o644))
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			res, err := edrmacho.New().VerifyBundle(context.Background(), os.DirFS(filepath.Dir(app)), filepath.Base(app), signers.Options{Roots: f.chain.RootPool()})
			elapsed := time.Since(start)
			runtime.ReadMemStats(&after)
			t.Logf("%v, %d MiB allocated", elapsed, (after.TotalAlloc-before.TotalAlloc)>>20)
			assert.Less(t, elapsed, 5*time.Second)
			assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(128<<20))
			if err != nil {
				assert.Contains(t, err.Error(), tc.want)
				assert.Contains(t, err.Error(), "Fixture.app: macho bundle:")
				return
			}
			assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
		})
	}
}

// walkCorpus lists every regular file under the corpus cache's kind folder (any layout), or
// nothing when the corpus is not there.
func walkCorpus(kind string) []string {
	base := os.Getenv("EDRPOLICY_CORPUS")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache", "edrpolicy-corpus")
	}
	var out []string
	_ = filepath.WalkDir(filepath.Join(base, kind), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	return out
}
