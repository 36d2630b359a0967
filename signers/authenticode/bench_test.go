package authenticode

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
)

var (
	largeOnce sync.Once
	largePath string
	largeErr  error
)

// largeSigned builds (once) a ~50 MB signed PE: hello padded with 48 MiB of embedded data.
func largeSigned(b *testing.B) string {
	needFixtures(b)
	largeOnce.Do(func() {
		var in string
		in, largeErr = testfixtures.PEBuildHello(fx.dir, "amd64", testfixtures.PEBuildOptions{PadBytes: 48 << 20})
		if largeErr != nil {
			return
		}
		largePath = filepath.Join(fx.dir, "large-signed.exe")
		largeErr = testfixtures.PESign(fx.rsaLeaf, nil, in, largePath, testfixtures.PESignOptions{TSA: &testfixtures.LocalTSA{TSA: fx.tsa}})
	})
	if largeErr != nil {
		b.Fatal(largeErr)
	}
	return largePath
}

// BenchmarkVerifyLarge compares inspecting a ~50 MB signed PE with `osslsigncode verify`.
//   - inspect: the whole inspect path: one streaming read for SHA-256 + Authenticode digest
//     (through the tap), then Verify.
//   - verify-readat: Verify alone, reading the file itself.
//   - osslsigncode: `osslsigncode verify -in F -CAfile ca.pem` as a subprocess.
//
// The bytes/op metric is the number of file bytes read.
func BenchmarkVerifyLarge(b *testing.B) {
	path := largeSigned(b)
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	v := NewWithoutSystemRoots()
	opts := signers.Options{Roots: fx.ca.Pool()}
	b.Run("inspect", func(b *testing.B) {
		h := hashing.NewHasher(hashing.Algorithms{})
		b.SetBytes(st.Size())
		for i := 0; i < b.N; i++ {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			head := h.Buffer()[:hashing.SniffLen]
			n, _ := io.ReadFull(f, head)
			head = head[:n]
			tap := v.StreamTap(hashing.FormatPE, head, st.Size())
			hd := append([]byte(nil), head...)
			if _, _, err := h.SumWithHead(hd, f, tap); err != nil {
				b.Fatal(err)
			}
			cr := &countingReaderAt{r: f}
			res, err := v.Verify(context.Background(), signers.Input{Path: path, R: cr, Size: st.Size(), Format: hashing.FormatPE, Tap: tap}, opts)
			if err != nil || res.Status != signers.StatusValid {
				b.Fatalf("%v %v", err, res)
			}
			b.ReportMetric(float64(st.Size()+cr.n.Load()), "bytes-read/op")
			f.Close()
		}
	})
	b.Run("verify-readat", func(b *testing.B) {
		b.SetBytes(st.Size())
		for i := 0; i < b.N; i++ {
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			cr := &countingReaderAt{r: f}
			res, err := v.Verify(context.Background(), signers.Input{Path: path, R: cr, Size: st.Size(), Format: hashing.FormatPE}, opts)
			if err != nil || res.Status != signers.StatusValid {
				b.Fatalf("%v %v", err, res)
			}
			b.ReportMetric(float64(cr.n.Load()), "bytes-read/op")
			f.Close()
		}
	})
	b.Run("osslsigncode", func(b *testing.B) {
		needTool(b, "osslsigncode")
		b.SetBytes(st.Size())
		for i := 0; i < b.N; i++ {
			out, err := exec.Command("osslsigncode", "verify", "-in", path, "-CAfile", fx.caPEM, "-TSA-CAfile", fx.caPEM).CombinedOutput()
			if err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
		}
	})
}
