package macho_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/macho"
)

func TestVerifyFixtures(t *testing.T) {
	f := getFixtures(t)
	withRoots := signers.Options{Roots: f.chain.RootPool()}
	type slice struct {
		arch, id, team string
		class          signers.SignerClass
		flags          []string
	}
	tests := []struct {
		name      string
		path      string
		opts      signers.Options
		status    signers.Status
		slices    []slice
		chain     signers.Chain
		timestamp bool
	}{
		{"linker-signed arm64", f.linkerArm, signers.Options{}, signers.StatusAdhoc,
			[]slice{{"arm64", "a.out", "", signers.SignerAdhoc, []string{"adhoc", "linker-signed"}}}, "", false},
		{"unsigned amd64", f.unsignedAmd, signers.Options{}, signers.StatusUnsigned,
			[]slice{{"x86_64", "", "", signers.SignerUnsigned, nil}}, "", false},
		{"developer id arm64, fixture root trusted", f.signedArm, withRoots, signers.StatusValid,
			[]slice{{"arm64", "com.fixture.hello", "FIXTURE123", signers.SignerDeveloperID, []string{"runtime"}}}, signers.ChainTrusted, true},
		{"developer id arm64, no roots", f.signedArm, signers.Options{}, signers.StatusValid,
			[]slice{{"arm64", "com.fixture.hello", "FIXTURE123", signers.SignerDeveloperID, []string{"runtime"}}}, signers.ChainUnknownRoot, true},
		{"developer id amd64", f.signedAmd, withRoots, signers.StatusValid,
			[]slice{{"x86_64", "com.fixture.hello", "FIXTURE123", signers.SignerDeveloperID, []string{"runtime"}}}, signers.ChainTrusted, false},
		{"universal", f.fat, withRoots, signers.StatusValid, []slice{
			{"x86_64", "com.fixture.hello", "FIXTURE123", signers.SignerDeveloperID, []string{"runtime"}},
			{"arm64", "com.fixture.hello", "FIXTURE123", signers.SignerDeveloperID, []string{"runtime"}},
		}, signers.ChainTrusted, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := verifyPath(t, tc.path, tc.opts)
			require.NoError(t, err)
			assert.Equal(t, tc.status, res.Status, describe(res))
			require.NotNil(t, res.MachO)
			require.Len(t, res.MachO.Slices, len(tc.slices))
			for i, want := range tc.slices {
				got := res.MachO.Slices[i]
				assert.Equal(t, want.arch, got.Arch)
				assert.Equal(t, want.id, got.SigningID)
				assert.Equal(t, want.team, got.TeamID)
				assert.Equal(t, want.class, got.SignerClass)
				assert.Equal(t, want.flags, got.Flags)
				if want.class != signers.SignerUnsigned {
					assert.Len(t, got.CDHash, 40)
					assert.Equal(t, "sha256", got.HashType)
				}
			}
			if tc.status == signers.StatusUnsigned {
				assert.Empty(t, res.Signatures)
				return
			}
			require.Len(t, res.Signatures, len(tc.slices))
			for i, s := range res.Signatures {
				assert.Equal(t, signers.KindApple, s.Kind)
				assert.Equal(t, res.MachO.Slices[i].CDHash, s.CDHash)
				assert.Equal(t, res.MachO.Slices[i].Arch, s.Arch)
				assert.Equal(t, tc.chain, s.Chain, s.ChainError)
				assert.Equal(t, tc.timestamp && i == len(res.Signatures)-1, s.Timestamp != nil, "timestamp")
				if tc.status == signers.StatusValid {
					require.NotNil(t, s.Signer)
					assert.Equal(t, "Developer ID Application: Fixture Corp (FIXTURE123)", s.Signer.CommonName)
					assert.Equal(t, "sha256", s.DigestAlgorithm)
					assert.Len(t, s.SignedDigest, 64)
					assert.Equal(t, s.CDHash, s.SignedDigest[:40], "CDHash is the truncated CD digest the CMS signs")
				} else {
					assert.Nil(t, s.Signer)
				}
			}
		})
	}
}

func TestSliceDetails(t *testing.T) {
	f := getFixtures(t)
	res, err := verifyPath(t, f.signedArm, signers.Options{Roots: f.chain.RootPool()})
	require.NoError(t, err)
	sl := res.MachO.Slices[0]
	assert.Equal(t, []string{"com.apple.security.cs.allow-jit", "com.apple.security.network.client"}, sl.Entitlements)
	assert.Contains(t, sl.DesignatedRequirement, `identifier "com.fixture.hello"`)
	assert.Contains(t, sl.DesignatedRequirement, "FIXTURE123")
	assert.Equal(t, "0x20400", sl.CDVersion)
	assert.Empty(t, sl.AltCDHashes)
	assert.NotEmpty(t, res.Signatures[0].Timestamp)
	assert.Empty(t, res.Signatures[0].Notes)
}

func TestAcceptsAndName(t *testing.T) {
	v := macho.New()
	assert.Equal(t, "macho", v.Name())
	assert.True(t, v.Accepts(hashing.FormatMachO))
	assert.True(t, v.Accepts(hashing.FormatMachOUniversal))
	assert.False(t, v.Accepts(hashing.FormatPE))
	var _ signers.Verifier = v
	var _ signers.BundleVerifier = v
}

func TestTamper(t *testing.T) {
	f := getFixtures(t)
	roots := signers.Options{Roots: f.chain.RootPool()}
	signed := readFile(t, f.signedAmd)
	linker := readFile(t, f.linkerArm)
	cdStart, cdEnd := blobInSig(t, signed, 0xfade0c02)
	cmsStart, cmsEnd := blobInSig(t, signed, 0xfade0b01)
	lcdStart, _ := blobInSig(t, linker, 0xfade0c02)
	sigOff, _ := sigLocation(t, signed)
	fat := readFile(t, f.fat)

	tests := []struct {
		name    string
		data    []byte
		wantErr string // substring of Signature.Error (or of the returned error)
	}{
		{"__TEXT byte, CMS signed", flip(signed, 0x2000+17), "page hash mismatch: page 2"},
		{"__TEXT byte, linker-signed", flip(linker, 0x3000+5), "page hash mismatch: page 3"},
		{"CodeDirectory identifier", flip(signed, cdStart+0x60), "CMS signature"},
		{"CodeDirectory hash slot", flip(signed, cdEnd-3), "page hash mismatch"},
		{"linker CodeDirectory page slot", flip(linker, lcdStart+0x100), "page hash mismatch"},
		{"CMS signature value", flip(signed, cmsEnd-5), "CMS signature"},
		{"CMS certificate bytes", flip(signed, cmsStart+400), "CMS signature"},
		{"truncated inside the signature", signed[:sigOff+200], "outside the file"},
		{"truncated inside the code", signed[:sigOff-5000], "outside the file"},
		{"header LC_CODE_SIGNATURE size grown", growSig(t, signed), "outside the file"},
		{"universal with flipped arm64 page", flip(fat, len(fat)-len(readFile(t, f.signedArm))+0x4000+1), "page hash mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := verifyBytes(t, tc.data, roots)
			if err != nil {
				assert.Contains(t, err.Error(), tc.wantErr)
				return
			}
			require.NotEqual(t, signers.StatusValid, res.Status, describe(res))
			require.NotEqual(t, signers.StatusAdhoc, res.Status, describe(res))
			assert.Equal(t, signers.StatusInvalid, res.Status)
			found := false
			for _, s := range res.Signatures {
				if s.Status == signers.StatusInvalid && hasPrefixAny(s.Error, tc.wantErr) {
					found = true
				}
			}
			assert.True(t, found, "want an invalid signature mentioning %q: %s", tc.wantErr, describe(res))
			if tc.name == "CodeDirectory identifier" || tc.name == "CMS signature value" {
				// fullsailor still extracts the claimed signer from a CMS that does not verify.
				require.NotNil(t, res.Signatures[0].Signer)
				assert.Equal(t, "Developer ID Application: Fixture Corp (FIXTURE123)", res.Signatures[0].Signer.CommonName)
				assert.Equal(t, signers.SignerDeveloperID, res.Signatures[0].SignerClass)
				assert.Empty(t, res.Signatures[0].Chain, "no chain verdict for a signature that does not verify")
			}
		})
	}
}

// growSig makes LC_CODE_SIGNATURE claim more bytes than the file has.
func growSig(t *testing.T, b []byte) []byte {
	c := append([]byte(nil), b...)
	_, size := sigLocation(t, c)
	le := func(p int) int { return int(c[p]) | int(c[p+1])<<8 | int(c[p+2])<<16 | int(c[p+3])<<24 }
	ncmds, p := le(16), 32
	for i := 0; i < ncmds; i++ {
		if le(p) == 0x1d {
			n := size + 1<<20
			c[p+12], c[p+13], c[p+14], c[p+15] = byte(n), byte(n>>8), byte(n>>16), byte(n>>24)
			return c
		}
		p += le(p + 4)
	}
	t.Fatal("no LC_CODE_SIGNATURE")
	return nil
}

// A universal file whose arm64 slice is cut short: the fat header is adjusted so that the
// file parses, and the slice's signature now lies past the slice's end.
func TestTruncatedSliceInUniversal(t *testing.T) {
	f := getFixtures(t)
	amd := readFile(t, f.signedAmd)
	arm := readFile(t, f.signedArm)
	off, _ := sigLocation(t, arm)
	fat, err := fatOf(amd, arm[:off+100])
	require.NoError(t, err)
	res, err := verifyBytes(t, fat, signers.Options{Roots: f.chain.RootPool()})
	require.NoError(t, err)
	assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
	require.Len(t, res.Signatures, 2)
	assert.Equal(t, signers.StatusValid, res.Signatures[0].Status)
	assert.Equal(t, signers.StatusInvalid, res.Signatures[1].Status)
	assert.Equal(t, "arm64", res.Signatures[1].Arch)

	// One slice signed, the other stripped: never valid.
	mixed, err := fatOf(readFile(t, f.unsignedAmd), arm)
	require.NoError(t, err)
	res, err = verifyBytes(t, mixed, signers.Options{Roots: f.chain.RootPool()})
	require.NoError(t, err)
	assert.Equal(t, signers.StatusInvalid, res.Status, describe(res))
}

func TestExecutableInBundleSpecialSlots(t *testing.T) {
	f := getFixtures(t)
	fsys := os.DirFS(filepath.Dir(f.app))
	name := filepath.Base(f.app) + "/Contents/MacOS/Fixture"
	file, err := os.Open(filepath.Join(f.app, "Contents", "MacOS", "Fixture"))
	require.NoError(t, err)
	defer file.Close()
	fi, err := file.Stat()
	require.NoError(t, err)
	in := signers.Input{Path: name, FS: fsys, Name: name, R: file, Size: fi.Size(), Format: hashing.FormatMachO}
	res, err := macho.New().Verify(context.Background(), in, signers.Options{Roots: f.chain.RootPool()})
	require.NoError(t, err)
	assert.Equal(t, signers.StatusValid, res.Status, describe(res))
	assert.Empty(t, res.Signatures[0].Notes, "Info.plist and CodeResources were found and checked")

	// Outside its bundle the same bytes verify, with a note that slots -1 and -3 were not checked.
	in.FS, in.Name = nil, ""
	res, err = macho.New().Verify(context.Background(), in, signers.Options{Roots: f.chain.RootPool()})
	require.NoError(t, err)
	assert.Equal(t, signers.StatusValid, res.Status)
	assert.Len(t, res.Signatures[0].Notes, 2)
}
