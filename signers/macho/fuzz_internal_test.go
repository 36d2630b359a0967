package macho

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/internal/ber"
	"github.com/edrpolicy/edrpolicy/signers/safeplist"
)

// fuzzTiny is a tiny ad-hoc Mach-O and a universal file of two of them.
func fuzzTiny(f *testing.F) (thin, fat []byte) {
	thin = testfixtures.MachOTiny(testfixtures.CPUArm64, "com.fixture.fuzz", nil)
	fat, err := testfixtures.MachOFat(testfixtures.MachOTiny(testfixtures.CPUX86_64, "x", nil), thin)
	if err != nil {
		f.Fatal(err)
	}
	return thin, fat
}

// FuzzFat parses arbitrary universal headers. Accepted slices must lie after the header,
// inside the file, without overlapping; when the strict layout check passes, every byte
// outside the slices after the header is zero and the last slice ends the file, which is
// checked here independently.
func FuzzFat(f *testing.F) {
	thin, fat := fuzzTiny(f)
	f.Add(fat)
	f.Add(append(append([]byte(nil), fat...), 0))
	hidden := append([]byte(nil), fat...)
	binary.BigEndian.PutUint32(hidden[4:], 1)
	f.Add(hidden)
	f.Add(thin[:64])
	f.Fuzz(func(t *testing.T, b []byte) {
		size := int64(len(b))
		refs, hdrEnd, err := parseFat(bytes.NewReader(b), size)
		if err != nil {
			return
		}
		covered := make([]bool, len(b))
		for _, r := range refs {
			if r.offset < hdrEnd || r.size <= 0 || r.offset+r.size > size {
				t.Fatalf("slice %+v outside the file (%d) or inside the header (%d)", r, size, hdrEnd)
			}
			for i := r.offset; i < r.offset+r.size; i++ {
				if covered[i] {
					t.Fatalf("slices overlap at %d", i)
				}
				covered[i] = true
			}
		}
		if checkFatLayout(bytes.NewReader(b), size, hdrEnd, refs) != nil {
			return
		}
		last := int64(0)
		for _, r := range refs {
			last = max(last, r.offset+r.size)
		}
		if last != size {
			t.Fatalf("layout accepted with %d bytes after the last slice", size-last)
		}
		for i := hdrEnd; i < size; i++ {
			if !covered[i] && b[i] != 0 {
				t.Fatalf("layout accepted with a non-zero byte at %d outside every slice", i)
			}
		}
	})
}

// FuzzSuperBlob parses arbitrary thin Mach-O load commands and embedded signatures. Every
// accepted CodeDirectory must allow all its slot accesses, its strings and blobs must lie
// inside the signature, and the derived data (requirements text, entitlement keys) must be
// computable without a crash.
func FuzzSuperBlob(f *testing.F) {
	thin, _ := fuzzTiny(f)
	f.Add(thin)
	f.Add(testfixtures.MachOTiny(testfixtures.CPUArm64, "cms", []byte{0x30, 0x03, 0x02, 0x01, 0x05}))
	f.Fuzz(func(t *testing.T, b []byte) {
		size := int64(len(b))
		tf, err := parseThin(bytes.NewReader(b), size)
		if err != nil {
			return
		}
		_ = checkLayout(tf, size)
		if tf.sigOff < 0 || tf.sigSize < 12 || tf.sigSize > maxSigBlob || tf.sigOff > size || tf.sigSize > size-tf.sigOff {
			return
		}
		blob := b[tf.sigOff : tf.sigOff+tf.sigSize]
		sb, err := parseSuperBlob(blob)
		if err != nil {
			return
		}
		for _, cd := range sb.cds {
			if !bytes.Contains(blob, cd.raw) {
				t.Fatal("CodeDirectory outside the signature")
			}
			for i := uint32(1); i <= cd.nSpecial; i++ {
				_ = cd.specialSlot(i)
			}
			for i := uint32(0); i < cd.nCode; i++ {
				if len(cd.codeSlot(i)) != cd.hashSize {
					t.Fatal("short code slot")
				}
			}
			_ = cd.cdhash()
		}
		if sb.cms != nil && !bytes.Contains(blob, sb.cms) {
			t.Fatal("CMS outside the signature")
		}
		_ = designatedRequirement(sb.requirements)
		_ = entitlementKeys(sb.entXML)
	})
}

// fuzzSignedTiny signs a tiny Mach-O in-process with relic under a throwaway Apple-like
// chain (with a timestamp) and returns its parsed signature.
func fuzzSignedTiny(f *testing.F) *superBlob {
	dir := f.TempDir()
	chain, err := testfixtures.NewAppleChain(testfixtures.AppleChainOptions{})
	if err != nil {
		f.Fatal(err)
	}
	in, out := filepath.Join(dir, "tiny"), filepath.Join(dir, "tiny-signed")
	if err := os.WriteFile(in, testfixtures.MachOTiny(testfixtures.CPUArm64, "com.fixture.fuzz", nil), 0o600); err != nil {
		f.Fatal(err)
	}
	if err := testfixtures.MachOSign(chain, in, out, testfixtures.MachOSignOptions{Timestamp: true}); err != nil {
		f.Fatal(err)
	}
	b, err := os.ReadFile(out) // #nosec G304 -- our temp file
	if err != nil {
		f.Fatal(err)
	}
	res, err := New().verifyReader(context.Background(), bytes.NewReader(b), int64(len(b)), nil, signers.Options{Roots: chain.RootPool()})
	if err != nil || res.Status != signers.StatusValid {
		f.Fatalf("signed tiny Mach-O does not verify: %v %+v", err, res)
	}
	tf, err := parseThin(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		f.Fatal(err)
	}
	sb, err := parseSuperBlob(b[tf.sigOff : tf.sigOff+tf.sigSize])
	if err != nil {
		f.Fatal(err)
	}
	return sb
}

// FuzzCMS runs arbitrary CMS blobs, in the place of a real signature's, through both CMS
// parsers the Mach-O verifier uses: fullsailor/pkcs7 (to name the claimed signer) and relic
// (to verify), behind the bounded BER walk. When relic verifies a blob and fullsailor names
// a signer, it must be the same certificate: the two parsers may not disagree on who
// signed. (fullsailor may name nobody: it refuses the whole blob when any bundled
// certificate fails Go's parser, which relic only notes; testdata/fuzz/FuzzCMS/aded3931...
// is such a blob. Verify then takes relic's signer.)
func FuzzCMS(f *testing.F) {
	sb := fuzzSignedTiny(f)
	f.Add(sb.cms)
	f.Add(testfixtures.BERBomb(70))
	for _, p := range corpusMachO() {
		if b, err := os.ReadFile(p); err == nil { // #nosec G304 -- corpus files
			if cms, err := firstCMS(b); err == nil && cms != nil {
				f.Add(cms) // Apple codesign BER
			}
		}
	}
	f.Fuzz(func(t *testing.T, cms []byte) {
		if ber.Check(cms) != nil {
			return // verifySlice stops here: no parser sees the blob
		}
		claimed := extractLeaf(cms)
		sb2 := *sb
		sb2.cms = cms
		ts, err := verifyCMS(&sb2)
		if err != nil {
			return
		}
		if claimed != nil && !bytes.Equal(claimed.Raw, ts.Certificate.Raw) {
			t.Fatalf("relic verified a signature by %q, fullsailor names %v", ts.Certificate.Subject, claimed)
		}
	})
}

// corpusMachO lists the real Mach-O files of the corpus, if it is there.
func corpusMachO() []string {
	base := os.Getenv("EDRPOLICY_CORPUS")
	if base == "" {
		home, _ := os.UserHomeDir()
		base = filepath.Join(home, ".cache", "edrpolicy-corpus")
	}
	var out []string
	_ = filepath.WalkDir(filepath.Join(base, "macho"), func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			out = append(out, p)
		}
		return nil
	})
	return out
}

// firstCMS returns the CMS blob of the first signed slice of a Mach-O file.
func firstCMS(b []byte) ([]byte, error) {
	r, size := bytes.NewReader(b), int64(len(b))
	refs := []sliceRef{{size: size}}
	if m := binary.BigEndian.Uint32(b); m == 0xcafebabe || m == 0xcafebabf {
		var err error
		if refs, _, err = parseFat(r, size); err != nil {
			return nil, err
		}
	}
	for _, ref := range refs {
		sr := io.NewSectionReader(r, ref.offset, ref.size)
		tf, err := parseThin(sr, ref.size)
		if err != nil || tf.sigOff < 0 || tf.sigSize > maxSigBlob {
			continue
		}
		blob := make([]byte, tf.sigSize)
		if readAt(sr, blob, tf.sigOff, ref.size) != nil {
			continue
		}
		if sb, err := parseSuperBlob(blob); err == nil && len(sb.cms) > 0 {
			return sb.cms, nil
		}
	}
	return nil, nil
}

// fuzzPaths are the contents-relative paths of the bundle FuzzCodeResources checks.
var fuzzPaths = []string{"Info.plist", "PkgInfo", "MacOS/App", "Resources/a.txt", "Resources/en.lproj/b.txt",
	"Resources/.DS_Store", "Frameworks/F.framework/F", "Helpers/h", "_CodeSignature/CodeResources", "x"}

// FuzzCodeResources decodes arbitrary CodeResources documents. The indexed seal rules must
// give the verdict of the naive rule loop on every path, and the seal check of a small
// bundle must report only paths that exist (added) or that the seal lists (modified,
// missing).
func FuzzCodeResources(f *testing.F) {
	plistOf := func(v any, format int) []byte {
		b, err := plist.Marshal(v, format)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	cr := map[string]any{
		"files2": map[string]any{"Resources/a.txt": map[string]any{"hash2": make([]byte, 32)}, "Resources/gone": map[string]any{"hash": make([]byte, 20), "optional": true}},
		"rules2": testfixtures.AppleDefaultRules2(),
	}
	f.Add(plistOf(cr, plist.XMLFormat))
	f.Add(plistOf(cr, plist.BinaryFormat))
	f.Add([]byte(`{ files2 = { "x" = { symlink = "../../etc"; }; }; rules2 = { "^.*" = 1; "^x$" = { omit = 1; weight = 2; }; }; }`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var doc codeResources
		if _, err := safeplist.Unmarshal(b, &doc); err != nil {
			return
		}
		if doc.Rules2 != nil {
			rules, err := compileRules(doc.Rules2)
			if err == nil {
				ref := naiveCompile(doc.Rules2)
				for _, p := range append(fuzzPaths, keysOf(doc.Files2)...) {
					if got, want := rules.sealed(p), naiveSealed(ref, p); got != want {
						t.Fatalf("rules %v: %q sealed=%v, naive %v", doc.Rules2, p, got, want)
					}
				}
			}
		}
		fsys := fstest.MapFS{}
		for _, p := range fuzzPaths {
			fsys[path.Join("App.app/Contents", p)] = &fstest.MapFile{Data: []byte(p)}
		}
		d, _, err := New().checkResources(context.Background(), fsys, "App.app/Contents", "App.app/Contents/MacOS/App", b, signers.Options{}, nil)
		if err != nil {
			return
		}
		listed := func(k string) bool {
			_, ok1 := doc.Files2[k]
			_, ok2 := doc.Files[k]
			return ok1 || ok2
		}
		for _, k := range append(d.modified, d.missing...) {
			if !listed(k) {
				t.Fatalf("%q reported modified or missing but not in the seal", k)
			}
		}
		for _, k := range d.added {
			if _, err := fs.Stat(fsys, path.Join("App.app/Contents", k)); err != nil || strings.HasPrefix(k, "_CodeSignature/") {
				t.Fatalf("%q reported added but not on disk (or in _CodeSignature)", k)
			}
		}
	})
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}
