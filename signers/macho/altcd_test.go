package macho_test

// Two-CodeDirectory signatures, as codesign writes them for binaries that support macOS
// releases older than 10.11.4: a SHA-1 CodeDirectory in slot 0, a SHA-256 one in slot 0x1000,
// and a CMS (digest SHA-256) over the slot-0 CodeDirectory whose hash-agility attributes
// (1.2.840.113635.100.9.1 plist, 1.2.840.113635.100.9.2 digests) bind both. The fixtures come
// from testfixtures.MachOSignAltCD; the CDHashes are checked against go-macho, the stdlib
// python script and openssl, and relic's own verifier is run on every variant for comparison.

import (
	"bytes"
	"crypto/sha1" // #nosec G505 -- the slot-0 CodeDirectory of these fixtures is SHA-1
	"crypto/sha256"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"

	gomacho "github.com/blacktop/go-macho"
	cstypes "github.com/blacktop/go-macho/pkg/codesign/types"
	"github.com/fullsailor/pkcs7"
	"github.com/sassoftware/relic/v7/lib/fruit/machos"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"howett.net/plist"

	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
)

// altVariant is one two-CD fixture.
type altVariant struct {
	name string
	opts testfixtures.MachOAltCDOptions
	// want is "" for a valid signature, else a substring of Signature.Error.
	want string
	// relicOK is whether relic's machos.Verify accepts the file (for the record: relic does
	// not require alternate CodeDirectories to be bound, and checks pages of the SHA-256 CD only).
	relicOK bool
}

var altVariants = []altVariant{
	{name: "good", opts: testfixtures.MachOAltCDOptions{Timestamp: true}, relicOK: true},
	{name: "plist-only", opts: testfixtures.MachOAltCDOptions{Hashes: testfixtures.AgilityOmit}, relicOK: true},
	{name: "hashes-only", opts: testfixtures.MachOAltCDOptions{Plist: testfixtures.AgilityOmit}, relicOK: true},
	{
		name: "alt-left-out-of-plist",
		opts: testfixtures.MachOAltCDOptions{Plist: testfixtures.AgilityPrimaryOnly},
		want: "plist lists 1 CDHashes but the signature has 2 CodeDirectories",
	},
	{
		name:    "alt-unbound-no-plist-hashes-primary-only",
		opts:    testfixtures.MachOAltCDOptions{Plist: testfixtures.AgilityOmit, Hashes: testfixtures.AgilityPrimaryOnly},
		want:    "alternate CodeDirectory (slot 0x1000) is not bound by the signature",
		relicOK: true,
	},
	{
		name:    "alt-unbound-no-agility-attributes",
		opts:    testfixtures.MachOAltCDOptions{Plist: testfixtures.AgilityOmit, Hashes: testfixtures.AgilityOmit},
		want:    "alternate CodeDirectory (slot 0x1000) is not bound by the signature",
		relicOK: true,
	},
	{
		name: "hashes-alt-mismatch",
		opts: testfixtures.MachOAltCDOptions{Hashes: testfixtures.AgilityAltMismatch},
		want: "verifying CodeDirectory hashes: signed SHA-256 digest",
	},
	{
		name: "plist-alt-mismatch",
		opts: testfixtures.MachOAltCDOptions{Plist: testfixtures.AgilityAltMismatch},
		want: "verifying CodeDirectory hashes (plist attribute): CodeDirectory slot 0x1000: CDHash",
	},
	{
		name: "alt-page-hash-flipped",
		opts: testfixtures.MachOAltCDOptions{FlipAltPageHash: true, FlipPage: 1},
		want: "page hash mismatch: page 1 (offset 4096) of the sha256 CodeDirectory",
	},
}

type altFixtureSet struct {
	paths map[string]string // variant name → two-CD file built from the unsigned amd64 hello
	infos map[string]*testfixtures.MachOAltCDInfo
	arm   string // good two-CD file built from the linker-signed arm64 hello
	armI  *testfixtures.MachOAltCDInfo
}

var (
	altOnce sync.Once
	altFx   *altFixtureSet
	altErr  error
)

func getAltFixtures(t *testing.T) (*fixtures, *altFixtureSet) {
	t.Helper()
	f := getFixtures(t)
	altOnce.Do(func() {
		dir := filepath.Join(f.dir, "altcd") // removed with f.dir by TestMain
		if altErr = os.MkdirAll(dir, 0o755); altErr != nil {
			return
		}
		s := &altFixtureSet{paths: map[string]string{}, infos: map[string]*testfixtures.MachOAltCDInfo{}}
		for _, v := range altVariants {
			p := filepath.Join(dir, v.name)
			info, err := testfixtures.MachOSignAltCD(f.chain, f.unsignedAmd, p, v.opts)
			if err != nil {
				altErr = err
				return
			}
			s.paths[v.name], s.infos[v.name] = p, info
		}
		s.arm = filepath.Join(dir, "good-arm64")
		s.armI, altErr = testfixtures.MachOSignAltCD(f.chain, f.linkerArm, s.arm, testfixtures.MachOAltCDOptions{})
		altFx = s
	})
	require.NoError(t, altErr, "building two-CodeDirectory fixtures")
	return f, altFx
}

// rawCDs returns the slot-0 and slot-0x1000 CodeDirectory blobs, read with a parser of this
// test's own (not the verifier's, not the fixture's).
func rawCDs(t *testing.T, b []byte) (cd0, alt []byte) {
	t.Helper()
	off, size := sigLocation(t, b)
	sig := b[off : off+size]
	be := binary.BigEndian
	for i := 0; i < int(be.Uint32(sig[8:])); i++ {
		slot, o := be.Uint32(sig[12+8*i:]), int(be.Uint32(sig[16+8*i:]))
		blob := sig[o : o+int(be.Uint32(sig[o+4:]))]
		switch slot {
		case 0:
			cd0 = blob
		case 0x1000:
			alt = blob
		}
	}
	require.NotNil(t, cd0)
	require.NotNil(t, alt)
	return cd0, alt
}

func TestAltCDGood(t *testing.T) {
	f, s := getAltFixtures(t)
	for _, tc := range []struct {
		name, path, arch, version string
		info                      *testfixtures.MachOAltCDInfo
		timestamp                 bool
	}{
		{"amd64 from unsigned", s.paths["good"], "x86_64", "0x20300", s.infos["good"], true},
		{"arm64 from linker-signed", s.arm, "arm64", "0x20400", s.armI, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := readFile(t, tc.path)
			cd0, alt := rawCDs(t, b)
			require.Equal(t, byte(1), cd0[37], "slot 0 is the SHA-1 CodeDirectory")
			require.Equal(t, byte(2), alt[37], "slot 0x1000 is the SHA-256 CodeDirectory")
			h1 := sha1.Sum(cd0) // #nosec G401
			h256 := sha256.Sum256(alt)
			wantCD, wantAlt := hex.EncodeToString(h1[:]), hex.EncodeToString(h256[:20])
			require.Equal(t, tc.info.CDHash, wantCD)
			require.Equal(t, tc.info.AltCDHash, wantAlt)

			res, err := verifyBytes(t, b, signers.Options{Roots: f.chain.RootPool()})
			require.NoError(t, err)
			require.Equal(t, signers.StatusValid, res.Status, describe(res))
			require.Len(t, res.MachO.Slices, 1)
			sl := res.MachO.Slices[0]
			assert.Equal(t, tc.arch, sl.Arch)
			assert.Len(t, sl.CDHash, 40)
			assert.Equal(t, wantCD, sl.CDHash, "CDHash is sha1 of the slot-0 CodeDirectory")
			assert.Equal(t, []string{wantAlt}, sl.AltCDHashes, "sha256 of the alternate, truncated to 20 bytes")
			assert.Equal(t, "sha1", sl.HashType)
			assert.Equal(t, tc.version, sl.CDVersion)
			assert.Equal(t, "com.fixture.hello", sl.SigningID)
			assert.Equal(t, "FIXTURE123", sl.TeamID)
			assert.Equal(t, []string{"runtime"}, sl.Flags)
			assert.Equal(t, signers.SignerDeveloperID, sl.SignerClass)
			assert.Contains(t, sl.DesignatedRequirement, `identifier "com.fixture.hello"`)

			require.Len(t, res.Signatures, 1)
			sig := res.Signatures[0]
			assert.Equal(t, signers.StatusValid, sig.Status)
			assert.Empty(t, sig.Error)
			assert.Equal(t, wantCD, sig.CDHash)
			assert.Equal(t, signers.ChainTrusted, sig.Chain, sig.ChainError)
			assert.Equal(t, tc.timestamp, sig.Timestamp != nil, "timestamp")
			require.NotNil(t, sig.Signer)
			assert.Equal(t, "Developer ID Application: Fixture Corp (FIXTURE123)", sig.Signer.CommonName)
			// The signed digest is what the CMS signature covers: the slot-0 CodeDirectory
			// under the signer's digest algorithm (SHA-256), i.e. its messageDigest — not
			// CD0's own SHA-1, which is the CDHash (the slice reports that).
			md := sha256.Sum256(cd0)
			assert.Equal(t, md[:], tc.info.MessageDigest)
			assert.Equal(t, "sha256", sig.DigestAlgorithm)
			assert.Equal(t, hex.EncodeToString(md[:]), sig.SignedDigest)
			assert.True(t, strings.HasPrefix(wantCD, sig.CDHash), "the CDHash stays sha1(CD0)")

			// Without trusted roots the signature stays valid with an unknown chain.
			res2, err := verifyBytes(t, b, signers.Options{})
			require.NoError(t, err)
			assert.Equal(t, signers.StatusValid, res2.Status, describe(res2))
			assert.Equal(t, signers.ChainUnknownRoot, res2.Signatures[0].Chain)

			// go-macho sees both CodeDirectories with the same CDHashes.
			gf, err := gomacho.NewFile(bytes.NewReader(b))
			require.NoError(t, err)
			cs := gf.CodeSignature()
			require.NotNil(t, cs)
			require.Len(t, cs.CodeDirectories, 2)
			assert.Equal(t, cstypes.HASHTYPE_SHA1, cs.CodeDirectories[0].Header.HashType)
			assert.Equal(t, cstypes.HASHTYPE_SHA256, cs.CodeDirectories[1].Header.HashType)
			assert.Equal(t, sl.CDHash, strings.ToLower(cs.CodeDirectories[0].CDHash), "go-macho slot-0 CDHash")
			assert.Equal(t, sl.AltCDHashes[0], strings.ToLower(cs.CodeDirectories[1].CDHash)[:40], "go-macho alternate CDHash")
			for _, cd := range cs.CodeDirectories {
				assert.Equal(t, "com.fixture.hello", cd.ID)
				assert.Equal(t, "FIXTURE123", cd.TeamID)
			}

			// relic's verifier (CMS over CD0, 9.1/9.2, pages of the SHA-256 CD) agrees.
			_, err = machos.Verify(bytes.NewReader(b), nil, nil, false)
			assert.NoError(t, err, "relic machos.Verify")

			// fullsailor/pkcs7 verifies the CMS over CD0 (signed attributes are in DER order, as
			// codesign writes them) and reads the plist attribute: both CDHashes, slot order.
			p7, err := pkcs7.Parse(tc.info.CMS)
			require.NoError(t, err)
			p7.Content = cd0
			assert.NoError(t, p7.Verify(), "fullsailor Verify over CD0")
			var pl []byte
			require.NoError(t, p7.UnmarshalSignedAttribute(asn1.ObjectIdentifier{1, 2, 840, 113635, 100, 9, 1}, &pl))
			var cdh struct {
				CDHashes [][]byte `plist:"cdhashes"`
			}
			_, err = plist.Unmarshal(pl, &cdh)
			require.NoError(t, err)
			assert.Equal(t, [][]byte{h1[:], h256[:20]}, cdh.CDHashes)
		})
	}
}

var pyAnyCD = regexp.MustCompile(`CD slot (0x[0-9a-f]+) ver=\S+ flags=\S+ ident=(\S+) team=(\S+) cdhash=([0-9a-f]{40})`)

// TestAltCDCrossCheckTools runs machocheck.py and openssl on the good two-CD files: python
// must list both CodeDirectories with the verifier's CDHashes; openssl must verify the CMS
// over the slot-0 CodeDirectory (and not over the alternate), and its ASN.1 dump must show
// messageDigest = sha256(CD0) and the 9.2 digests sha1(CD0), sha256(alternate).
func TestAltCDCrossCheckTools(t *testing.T) {
	f, s := getAltFixtures(t)
	python := needTool(t, "python3")
	openssl := needTool(t, "openssl")
	for _, p := range []string{s.paths["good"], s.arm} {
		t.Run(filepath.Base(p), func(t *testing.T) {
			b := readFile(t, p)
			res, err := verifyBytes(t, b, signers.Options{Roots: f.chain.RootPool()})
			require.NoError(t, err)
			require.Equal(t, 1, crossCheck(t, b, res, python, openssl), "shared cross-check (slot 0, openssl over cd0)")
			sl := res.MachO.Slices[0]

			prefix := filepath.Join(t.TempDir(), "x")
			out, err := exec.Command(python, "testdata/machocheck.py", p, prefix).CombinedOutput()
			require.NoError(t, err, string(out))
			got := map[string]string{}
			for _, m := range pyAnyCD.FindAllStringSubmatch(string(out), -1) {
				got[m[1]] = m[4]
				assert.Equal(t, "com.fixture.hello", m[2])
				assert.Equal(t, "FIXTURE123", m[3])
			}
			assert.Equal(t, map[string]string{"0x0": sl.CDHash, "0x1000": sl.AltCDHashes[0]}, got, "python: %s", out)

			// machocheck.py numbers the files by SuperBlob index: CD0 is 0, the alternate 2.
			cd0, err := os.ReadFile(prefix + ".cd0.bin")
			require.NoError(t, err)
			alt, err := os.ReadFile(prefix + ".cd2.bin")
			require.NoError(t, err)
			verify := func(content string) ([]byte, error) {
				return exec.Command(openssl, "cms", "-verify", "-noverify", "-inform", "DER", "-in", prefix+".cms.der",
					"-content", content, "-binary", "-out", os.DevNull).CombinedOutput()
			}
			out, err = verify(prefix + ".cd0.bin")
			assert.NoError(t, err, "openssl cms -verify over cd0: %s", out)
			assert.Contains(t, string(out), "Verification successful")
			out, err = verify(prefix + ".cd2.bin")
			assert.Error(t, err, "openssl must reject the alternate CD as content: %s", out)

			dump, err := exec.Command(openssl, "asn1parse", "-inform", "DER", "-in", prefix+".cms.der").CombinedOutput()
			require.NoError(t, err, string(dump))
			octets := map[string]bool{}
			for _, m := range regexp.MustCompile(`OCTET STRING\s+\[HEX DUMP\]:([0-9A-F]+)`).FindAllStringSubmatch(string(dump), -1) {
				octets[strings.ToLower(m[1])] = true
			}
			md := sha256.Sum256(cd0)
			d1 := sha1.Sum(cd0) // #nosec G401
			d2 := sha256.Sum256(alt)
			assert.True(t, octets[hex.EncodeToString(md[:])], "messageDigest = sha256(CD0)")
			assert.True(t, octets[hex.EncodeToString(d1[:])], "9.2 SHA-1 entry = sha1(CD0)")
			assert.True(t, octets[hex.EncodeToString(d2[:])], "9.2 SHA-256 entry = sha256(alternate CD)")
			assert.Equal(t, sl.CDHash, hex.EncodeToString(d1[:]))
			assert.Equal(t, sl.AltCDHashes[0], hex.EncodeToString(d2[:20]))
		})
	}
}

func TestAltCDVariants(t *testing.T) {
	f, s := getAltFixtures(t)
	for _, v := range altVariants {
		t.Run(v.name, func(t *testing.T) {
			b := readFile(t, s.paths[v.name])
			res, err := verifyBytes(t, b, signers.Options{Roots: f.chain.RootPool()})
			require.NoError(t, err)
			require.Len(t, res.Signatures, 1)
			sig := res.Signatures[0]
			sl := res.MachO.Slices[0]
			// Identity is reported whatever the verdict.
			assert.Equal(t, s.infos[v.name].CDHash, sl.CDHash)
			assert.Equal(t, []string{s.infos[v.name].AltCDHash}, sl.AltCDHashes)
			require.NotNil(t, sig.Signer)
			assert.Equal(t, "Developer ID Application: Fixture Corp (FIXTURE123)", sig.Signer.CommonName)
			if v.want == "" {
				assert.Equal(t, signers.StatusValid, res.Status, describe(res))
				assert.Empty(t, sig.Error)
			} else {
				assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
				assert.Equal(t, signers.StatusInvalid, sig.Status)
				assert.Contains(t, sig.Error, v.want)
			}
			_, rerr := machos.Verify(bytes.NewReader(b), nil, nil, false)
			if v.relicOK {
				assert.NoError(t, rerr, "relic")
			} else {
				assert.Error(t, rerr, "relic")
			}
			t.Logf("ours: %q; relic: %v", sig.Error, rerr)
		})
	}
}

// superBlobIndex returns, for a thin file, the offset of the SuperBlob and of each index
// entry by slot.
func superBlobIndex(t *testing.T, b []byte) (sbOff int, entries map[uint32]int) {
	t.Helper()
	sbOff, _ = sigLocation(t, b)
	be := binary.BigEndian
	entries = map[uint32]int{}
	for i := 0; i < int(be.Uint32(b[sbOff+8:])); i++ {
		e := sbOff + 12 + 8*i
		entries[be.Uint32(b[e:])] = e
	}
	return sbOff, entries
}

// TestAltCDTamper changes a good two-CD file after signing.
func TestAltCDTamper(t *testing.T) {
	f, s := getAltFixtures(t)
	good := readFile(t, s.paths["good"])
	be := binary.BigEndian
	sbOff, idx := superBlobIndex(t, good)
	altOff := sbOff + int(be.Uint32(good[idx[0x1000]+4:]))
	cd0Off := sbOff + int(be.Uint32(good[idx[0]+4:]))

	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{
			// The CD that a SHA-256-capable kernel prefers loses its runtime flag; its pages
			// still match, so only the hash-agility binding catches it.
			name: "alternate CD flags changed",
			b: func() []byte {
				c := append([]byte(nil), good...)
				be.PutUint32(c[altOff+12:], be.Uint32(c[altOff+12:])&^0x10000)
				return c
			}(),
			want: "verifying CodeDirectory hashes (plist attribute): CodeDirectory slot 0x1000: CDHash",
		},
		{
			name: "slot-0 CD flags changed",
			b: func() []byte {
				c := append([]byte(nil), good...)
				be.PutUint32(c[cd0Off+12:], be.Uint32(c[cd0Off+12:])&^0x10000)
				return c
			}(),
			want: "CMS signature: pkcs7: content digest does not match",
		},
		{
			// Downgrade to SHA-1 only: the alternate's index entry is dropped (the CMS entry
			// takes its place, count 4 → 3). The plist still lists two CDHashes.
			name: "alternate CD stripped from the index",
			b: func() []byte {
				c := append([]byte(nil), good...)
				copy(c[idx[0x1000]:idx[0x1000]+8], c[idx[0x10000]:idx[0x10000]+8])
				be.PutUint32(c[sbOff+8:], be.Uint32(c[sbOff+8:])-1)
				return c
			}(),
			want: "plist lists 2 CDHashes but the signature has 1 CodeDirectories",
		},
		{
			// A code byte changed: both CDs disagree; slot 0 (SHA-1) is checked first.
			name: "code page modified",
			b:    flip(good, 5000),
			want: "page hash mismatch: page 1 (offset 4096) of the sha1 CodeDirectory",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := verifyBytes(t, tc.b, signers.Options{Roots: f.chain.RootPool()})
			require.NoError(t, err)
			assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
			require.Len(t, res.Signatures, 1)
			assert.Contains(t, res.Signatures[0].Error, tc.want)
			_, rerr := machos.Verify(bytes.NewReader(tc.b), nil, nil, false)
			assert.Error(t, rerr, "relic rejects it too")
		})
	}
}

// TestAltCDUniversal puts two-CD slices next to a relic-signed single-CD slice.
func TestAltCDUniversal(t *testing.T) {
	f, s := getAltFixtures(t)
	python, _ := exec.LookPath("python3")
	openssl, _ := exec.LookPath("openssl")
	if os.Getenv("CI") == "true" {
		python, openssl = needTool(t, "python3"), needTool(t, "openssl")
	}
	single := readFile(t, f.signedArm) // one SHA-256 CD, timestamped
	singleRes, err := verifyBytes(t, single, signers.Options{Roots: f.chain.RootPool()})
	require.NoError(t, err)
	singleCD := singleRes.MachO.Slices[0].CDHash

	t.Run("good", func(t *testing.T) {
		alt := readFile(t, s.paths["good"])
		fat, err := fatOf(alt, single)
		require.NoError(t, err)
		res, err := verifyBytes(t, fat, signers.Options{Roots: f.chain.RootPool()})
		require.NoError(t, err)
		assert.Equal(t, signers.StatusValid, res.Status, describe(res))
		require.Len(t, res.MachO.Slices, 2)
		x, a := res.MachO.Slices[0], res.MachO.Slices[1]
		assert.Equal(t, "x86_64", x.Arch)
		assert.Equal(t, s.infos["good"].CDHash, x.CDHash)
		assert.Equal(t, "sha1", x.HashType)
		assert.Equal(t, []string{s.infos["good"].AltCDHash}, x.AltCDHashes)
		assert.Equal(t, "arm64", a.Arch)
		assert.Equal(t, singleCD, a.CDHash)
		assert.Equal(t, "sha256", a.HashType)
		assert.Empty(t, a.AltCDHashes)
		require.Len(t, res.Signatures, 2)
		for i, sig := range res.Signatures {
			assert.Equal(t, res.MachO.Slices[i].Arch, sig.Arch)
			assert.Equal(t, res.MachO.Slices[i].CDHash, sig.CDHash)
			assert.Equal(t, signers.StatusValid, sig.Status)
			assert.Equal(t, signers.ChainTrusted, sig.Chain, sig.ChainError)
		}
		assert.NotNil(t, res.Signatures[0].Timestamp, "two-CD slice timestamped")
		assert.NotNil(t, res.Signatures[1].Timestamp)
		assert.Equal(t, 2, crossCheck(t, fat, res, python, openssl), "go-macho/python/openssl per slice")
	})

	t.Run("bad two-CD slice", func(t *testing.T) {
		alt := readFile(t, s.paths["alt-page-hash-flipped"])
		fat, err := fatOf(alt, single)
		require.NoError(t, err)
		res, err := verifyBytes(t, fat, signers.Options{Roots: f.chain.RootPool()})
		require.NoError(t, err)
		assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
		require.Len(t, res.Signatures, 2)
		assert.Equal(t, "x86_64", res.Signatures[0].Arch)
		assert.Equal(t, signers.StatusInvalid, res.Signatures[0].Status)
		assert.Contains(t, res.Signatures[0].Error, "page hash mismatch: page 1 (offset 4096) of the sha256 CodeDirectory")
		assert.Equal(t, "arm64", res.Signatures[1].Arch)
		assert.Equal(t, signers.StatusValid, res.Signatures[1].Status, res.Signatures[1].Error)
		assert.Equal(t, singleCD, res.Signatures[1].CDHash)
	})

	t.Run("two two-CD slices", func(t *testing.T) {
		fat, err := fatOf(readFile(t, s.paths["good"]), readFile(t, s.arm))
		require.NoError(t, err)
		res, err := verifyBytes(t, fat, signers.Options{Roots: f.chain.RootPool()})
		require.NoError(t, err)
		assert.Equal(t, signers.StatusValid, res.Status, describe(res))
		require.Len(t, res.MachO.Slices, 2)
		assert.Equal(t, []string{s.infos["good"].CDHash, s.armI.CDHash},
			[]string{res.MachO.Slices[0].CDHash, res.MachO.Slices[1].CDHash})
		assert.Equal(t, []string{s.infos["good"].AltCDHash}, res.MachO.Slices[0].AltCDHashes)
		assert.Equal(t, []string{s.armI.AltCDHash}, res.MachO.Slices[1].AltCDHashes)
		assert.Equal(t, 2, crossCheck(t, fat, res, python, openssl))
	})
}
