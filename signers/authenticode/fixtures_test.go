package authenticode

import (
	"bytes"
	"context"
	"crypto"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
)

// fixtureSet is built once per test binary (TestMain) and shared by all tests.
type fixtureSet struct {
	dir                      string
	ca, rsaLeaf, ecLeaf, tsa *testfixtures.KeyPair
	caPEM                    string
	unsigned64, unsigned32   string
	rsa64, ecTS64, rsaTSPH32 string
	sha1PH64, dual           string
	version                  testfixtures.PEVersionInfo
	buildErr                 error
	dualErr                  error
}

var fx fixtureSet

func TestMain(m *testing.M) {
	flag.Parse()
	if w := flag.Lookup("test.fuzzworker"); w != nil && w.Value.String() == "true" {
		// A fuzz worker only runs the fuzz function on inputs the coordinator sends; the
		// fixtures (two Go cross-builds, osslsigncode) would cost each worker a minute.
		fx.buildErr = errors.New("fixtures are not built in fuzz worker processes")
		fx.dualErr = fx.buildErr
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "authenticode-fixtures-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	fx.dir = dir
	fx.buildErr = buildFixtures(&fx)
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildFixtures(f *fixtureSet) error {
	var err error
	if f.ca, err = testfixtures.NewCA("Fixture Root CA"); err != nil {
		return err
	}
	if f.rsaLeaf, err = testfixtures.NewLeaf(f.ca, testfixtures.LeafOptions{CommonName: "Fixture RSA Signer", Key: testfixtures.KeyRSA}); err != nil {
		return err
	}
	if f.ecLeaf, err = testfixtures.NewLeaf(f.ca, testfixtures.LeafOptions{CommonName: "Fixture ECDSA Signer", Key: testfixtures.KeyECDSA}); err != nil {
		return err
	}
	if f.tsa, err = testfixtures.NewTSA(f.ca, "Fixture TSA"); err != nil {
		return err
	}
	f.caPEM = filepath.Join(f.dir, "ca.pem")
	if err := f.ca.WriteFiles(f.caPEM, ""); err != nil {
		return err
	}
	f.version = testfixtures.PEVersionInfo{FileVersion: "1.2.3.4", ProductVersion: "1.2.0", CompanyName: "Fixture Corp", ProductName: "Fixture Hello", OriginalFilename: "hello.exe"}
	opts := testfixtures.PEBuildOptions{Version: &f.version}
	if f.unsigned64, err = testfixtures.PEBuildHello(f.dir, "amd64", opts); err != nil {
		return err
	}
	if f.unsigned32, err = testfixtures.PEBuildHello(f.dir, "386", opts); err != nil {
		return err
	}
	tsa := &testfixtures.LocalTSA{TSA: f.tsa}
	sign := func(leaf *testfixtures.KeyPair, in, name string, o testfixtures.PESignOptions) (string, error) {
		out := filepath.Join(f.dir, name)
		return out, testfixtures.PESign(leaf, nil, in, out, o)
	}
	if f.rsa64, err = sign(f.rsaLeaf, f.unsigned64, "rsa64.exe", testfixtures.PESignOptions{}); err != nil {
		return err
	}
	if f.ecTS64, err = sign(f.ecLeaf, f.unsigned64, "ec-ts64.exe", testfixtures.PESignOptions{TSA: tsa}); err != nil {
		return err
	}
	if f.rsaTSPH32, err = sign(f.rsaLeaf, f.unsigned32, "rsa-ts-ph32.exe", testfixtures.PESignOptions{TSA: tsa, PageHashes: true}); err != nil {
		return err
	}
	if f.sha1PH64, err = sign(f.rsaLeaf, f.unsigned64, "sha1-ph64.exe", testfixtures.PESignOptions{Hash: crypto.SHA1, PageHashes: true}); err != nil {
		return err
	}
	// Dual signature: SHA-1 primary by the RSA leaf, SHA-256 nested by the ECDSA leaf with a
	// timestamp, both through osslsigncode (an independent signer).
	primary := filepath.Join(f.dir, "dual-primary.exe")
	f.dual = filepath.Join(f.dir, "dual.exe")
	f.dualErr = testfixtures.PESignOsslsigncode(f.rsaLeaf, f.unsigned64, primary, testfixtures.OsslsigncodeOptions{Hash: "sha1"})
	if f.dualErr == nil {
		f.dualErr = testfixtures.PESignOsslsigncode(f.ecLeaf, primary, f.dual, testfixtures.OsslsigncodeOptions{Hash: "sha256", Nest: true, TSA: f.tsa, TSAChain: nil})
	}
	return nil
}

func needFixtures(t testing.TB) {
	t.Helper()
	if fx.buildErr != nil {
		t.Fatalf("building fixtures: %v", fx.buildErr)
	}
}

func needDual(t testing.TB) {
	t.Helper()
	needFixtures(t)
	if fx.dualErr != nil {
		if _, err := exec.LookPath("osslsigncode"); err != nil {
			needTool(t, "osslsigncode")
		}
		t.Fatalf("building the dual-signed fixture: %v", fx.dualErr)
	}
}

// needTool skips the test when a cross-check tool is missing, except in CI (CI=true), where
// the cross-check must run.
func needTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI: %v", name, err)
		}
		t.Skipf("%s not installed; skipping this cross-check", name)
	}
	return p
}

// countingReaderAt counts the bytes read through it.
type countingReaderAt struct {
	r     io.ReaderAt
	n     atomic.Int64
	calls atomic.Int64
}

func (c *countingReaderAt) ReadAt(p []byte, off int64) (int, error) {
	n, err := c.r.ReadAt(p, off)
	c.n.Add(int64(n))
	c.calls.Add(1)
	return n, err
}

// verifyBytes runs the verifier on b without a tap.
func verifyBytes(t testing.TB, v *Verifier, b []byte, opts signers.Options) (*signers.Result, error) {
	t.Helper()
	return v.Verify(context.Background(), signers.Input{Path: "mem.exe", R: bytes.NewReader(b), Size: int64(len(b)), Format: hashing.FormatPE}, opts)
}

// verifyFile runs the verifier on a file, optionally through the streaming tap the way
// Inspect does (one read by the hasher, then Verify).
func verifyFile(t testing.TB, v *Verifier, path string, opts signers.Options, useTap bool) (*signers.Result, *countingReaderAt) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	in := signers.Input{Path: path, Size: st.Size(), Format: hashing.FormatPE}
	if useTap {
		h := hashing.NewHasher(hashing.Algorithms{})
		head := h.Buffer()[:hashing.SniffLen]
		n, _ := io.ReadFull(f, head)
		head = head[:n]
		tap := v.StreamTap(hashing.FormatPE, head, st.Size())
		if tap == nil {
			t.Fatalf("%s: StreamTap returned nil", path)
		}
		in.Tap = tap
		headCopy := append([]byte(nil), head...)
		if _, _, err := h.SumWithHead(headCopy, f, tap); err != nil {
			t.Fatal(err)
		}
	}
	cr := &countingReaderAt{r: f}
	in.R = cr
	res, err := v.Verify(context.Background(), in, opts)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return res, cr
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func isMalformed(err error) bool { return errors.Is(err, ErrMalformed) || errors.Is(err, ErrNotPE) }
