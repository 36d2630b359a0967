package macho_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
	"github.com/edrpolicy/edrpolicy/signers/macho"
)

// fixtures are built once per test binary: two cross-builds, three relic signatures, a fat
// file and a bundle take a few seconds on two cores.
type fixtures struct {
	dir         string
	chain       *testfixtures.AppleChain
	linkerArm   string // GOOS=darwin GOARCH=arm64: linker-signed ad-hoc
	unsignedAmd string // GOARCH=amd64: no LC_CODE_SIGNATURE
	signedArm   string // relic, Developer ID chain, with a timestamp
	signedAmd   string // relic, Developer ID chain, no timestamp
	fat         string // signedAmd + signedArm
	app         string // Fixture.app with a nested helper
}

var (
	fxOnce sync.Once
	fx     *fixtures
	fxErr  error
)

func getFixtures(t testing.TB) *fixtures {
	t.Helper()
	fxOnce.Do(func() { fx, fxErr = buildFixtures() })
	require.NoError(t, fxErr, "building Mach-O fixtures")
	return fx
}

func buildFixtures() (*fixtures, error) {
	dir, err := os.MkdirTemp("", "edrpolicy-macho-")
	if err != nil {
		return nil, err
	}
	f := &fixtures{dir: dir}
	type built struct {
		path string
		err  error
	}
	var wg sync.WaitGroup
	var arm, amd built
	wg.Add(2)
	go func() { defer wg.Done(); arm.path, arm.err = testfixtures.MachOBuildHello(dir, "arm64") }()
	go func() { defer wg.Done(); amd.path, amd.err = testfixtures.MachOBuildHello(dir, "amd64") }()
	f.chain, err = testfixtures.NewAppleChain(testfixtures.AppleChainOptions{})
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if arm.err != nil {
		return nil, arm.err
	}
	if amd.err != nil {
		return nil, amd.err
	}
	f.linkerArm, f.unsignedAmd = arm.path, amd.path
	f.signedArm = filepath.Join(dir, "signed-arm64")
	f.signedAmd = filepath.Join(dir, "signed-amd64")
	if err := testfixtures.MachOSign(f.chain, f.linkerArm, f.signedArm, testfixtures.MachOSignOptions{
		Timestamp:    true,
		Entitlements: []byte(entitlementsXML),
	}); err != nil {
		return nil, err
	}
	if err := testfixtures.MachOSign(f.chain, f.unsignedAmd, f.signedAmd, testfixtures.MachOSignOptions{}); err != nil {
		return nil, err
	}
	a, err := os.ReadFile(f.signedAmd)
	if err != nil {
		return nil, err
	}
	b, err := os.ReadFile(f.signedArm)
	if err != nil {
		return nil, err
	}
	fat, err := testfixtures.MachOFat(a, b)
	if err != nil {
		return nil, err
	}
	f.fat = filepath.Join(dir, "universal")
	if err := os.WriteFile(f.fat, fat, 0o600); err != nil {
		return nil, err
	}
	f.app, err = testfixtures.MachOBundle(f.chain, dir, testfixtures.MachOBundleSpec{Executable: f.linkerArm, Helper: f.unsignedAmd, Timestamp: true})
	if err != nil {
		return nil, err
	}
	return f, nil
}

const entitlementsXML = `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0"><dict>
<key>com.apple.security.cs.allow-jit</key><true/>
<key>com.apple.security.network.client</key><true/>
</dict></plist>`

func TestMain(m *testing.M) {
	code := m.Run()
	if fx != nil {
		_ = os.RemoveAll(fx.dir)
	}
	os.Exit(code)
}

// verifyBytes runs the Verifier on in-memory bytes, sniffing the format as Inspect does.
func verifyBytes(t testing.TB, b []byte, opts signers.Options) (*signers.Result, error) {
	t.Helper()
	r := bytes.NewReader(b)
	format := hashing.Sniff(b, r, int64(len(b)))
	return macho.New().Verify(context.Background(), signers.Input{Path: "mem", R: r, Size: int64(len(b)), Format: format}, opts)
}

func verifyPath(t testing.TB, path string, opts signers.Options) (*signers.Result, error) {
	t.Helper()
	b, err := os.ReadFile(path) // #nosec G304
	require.NoError(t, err)
	return verifyBytes(t, b, opts)
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path) // #nosec G304
	require.NoError(t, err)
	return b
}

// sigLocation finds LC_CODE_SIGNATURE of a thin 64-bit little-endian Mach-O.
func sigLocation(t testing.TB, b []byte) (off, size int) {
	t.Helper()
	le := binary.LittleEndian
	ncmds, p := int(le.Uint32(b[16:])), 32
	for i := 0; i < ncmds; i++ {
		if le.Uint32(b[p:]) == 0x1d {
			return int(le.Uint32(b[p+8:])), int(le.Uint32(b[p+12:]))
		}
		p += int(le.Uint32(b[p+4:]))
	}
	t.Fatal("no LC_CODE_SIGNATURE")
	return 0, 0
}

// blobInSig returns the [start, end) of the first SuperBlob entry with the given magic.
func blobInSig(t testing.TB, b []byte, magic uint32) (int, int) {
	t.Helper()
	off, _ := sigLocation(t, b)
	be := binary.BigEndian
	sb := b[off:]
	for i := 0; i < int(be.Uint32(sb[8:])); i++ {
		o := int(be.Uint32(sb[16+8*i:]))
		if be.Uint32(sb[o:]) == magic {
			return off + o, off + o + int(be.Uint32(sb[o+4:]))
		}
	}
	t.Fatalf("no blob with magic %#x", magic)
	return 0, 0
}

func flip(b []byte, at int) []byte {
	c := append([]byte(nil), b...)
	c[at] ^= 0x5a
	return c
}

func hasPrefixAny(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if strings.Contains(s, p) {
			return true
		}
	}
	return false
}

func describe(r *signers.Result) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "status=%s", r.Status)
	for _, s := range r.Signatures {
		fmt.Fprintf(&sb, " [%s %s %s err=%q notes=%q]", s.Path, s.Arch, s.Status, s.Error, s.Notes)
	}
	return sb.String()
}

var fatOf = testfixtures.MachOFat
