package authenticode

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/signers"
)

func lookTool(name string) string {
	p, err := exec.LookPath(name)
	if err != nil {
		return ""
	}
	return p
}

func run(t *testing.T, name string, args ...string) (string, error) {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

var pesignHashRE = regexp.MustCompile(`hash:\s*([0-9a-f]{64})`)

// pesignHash returns `pesign -h` (the SHA-256 Authenticode image digest).
func pesignHash(t *testing.T, path string) string {
	t.Helper()
	needTool(t, "pesign")
	out, err := run(t, "pesign", "-h", "-i", path)
	require.NoError(t, err, out)
	m := pesignHashRE.FindStringSubmatch(out)
	require.NotNil(t, m, out)
	return m[1]
}

var osslCalcRE = regexp.MustCompile(`Calculated message digest\s*:\s*([0-9A-F]+)`)

// osslDigests returns osslsigncode's "Calculated message digest" lines (one per signature,
// nested ones included), lower-case.
func osslDigests(t *testing.T, path, caFile string) []string {
	t.Helper()
	needTool(t, "osslsigncode")
	args := []string{"verify", "-in", path}
	if caFile != "" {
		args = append(args, "-CAfile", caFile, "-TSA-CAfile", caFile)
	}
	out, _ := run(t, "osslsigncode", args...)
	var ds []string
	for _, m := range osslCalcRE.FindAllStringSubmatch(out, -1) {
		ds = append(ds, strings.ToLower(m[1]))
	}
	require.NotEmpty(t, ds, out)
	return ds
}

// opensslFingerprints returns openssl's SHA-1 and SHA-256 fingerprints of a PEM certificate.
func opensslFingerprints(t *testing.T, pemPath string) (string, string) {
	t.Helper()
	needTool(t, "openssl")
	fp := func(alg string) string {
		out, err := run(t, "openssl", "x509", "-noout", "-fingerprint", "-"+alg, "-in", pemPath)
		require.NoError(t, err, out)
		_, v, ok := strings.Cut(strings.TrimSpace(out), "=")
		require.True(t, ok, out)
		return strings.ToLower(strings.ReplaceAll(v, ":", ""))
	}
	return fp("sha1"), fp("sha256")
}

func TestCrossCheckPesign(t *testing.T) {
	needFixtures(t)
	needTool(t, "pesign")
	files := []string{fx.unsigned64, fx.unsigned32, fx.rsa64, fx.ecTS64, fx.rsaTSPH32, fx.sha1PH64}
	if fx.dualErr == nil {
		files = append(files, fx.dual)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			res, _ := verifyFile(t, NewWithoutSystemRoots(), f, signers.Options{}, true)
			assert.Equal(t, pesignHash(t, f), res.PE.AuthenticodeSHA256)
		})
	}
}

func TestCrossCheckOsslsigncode(t *testing.T) {
	needFixtures(t)
	needTool(t, "osslsigncode")
	files := []string{fx.rsa64, fx.ecTS64, fx.rsaTSPH32, fx.sha1PH64}
	if fx.dualErr == nil {
		files = append(files, fx.dual)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			res, _ := verifyFile(t, NewWithoutSystemRoots(), f, signers.Options{Roots: fx.ca.Pool()}, false)
			var ours []string
			for _, s := range res.Signatures {
				ours = append(ours, s.SignedDigest)
			}
			assert.Equal(t, ours, osslDigests(t, f, fx.caPEM))
			out, err := run(t, "osslsigncode", "verify", "-in", f, "-CAfile", fx.caPEM, "-TSA-CAfile", fx.caPEM)
			assert.NoError(t, err, out)
			assert.Contains(t, out, "Signature verification: ok")
			for _, s := range res.Signatures {
				assert.Contains(t, out, "CN="+s.Signer.CommonName)
			}
		})
	}
}

func TestCrossCheckSbverify(t *testing.T) {
	needFixtures(t)
	needTool(t, "sbverify")
	// sbverify accepts SHA-256 signatures only.
	for _, f := range []string{fx.rsa64, fx.ecTS64, fx.rsaTSPH32} {
		t.Run(filepath.Base(f), func(t *testing.T) {
			out, err := run(t, "sbverify", "--cert", fx.caPEM, f)
			require.NoError(t, err, out)
			assert.Contains(t, out, "Signature verification OK")
			// A flipped code byte: sbverify and this package both reject it.
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			s := sectionOf(t, b, ".text")
			b[s.PointerToRaw+100] ^= 1
			bad := filepath.Join(t.TempDir(), "bad.exe")
			require.NoError(t, os.WriteFile(bad, b, 0o600))
			out, err = run(t, "sbverify", "--cert", fx.caPEM, bad)
			assert.Error(t, err, out)
			res, err := verifyBytes(t, NewWithoutSystemRoots(), b, signers.Options{Roots: fx.ca.Pool()})
			require.NoError(t, err)
			assert.Equal(t, signers.StatusInvalid, res.Status)
			assert.Contains(t, res.Signatures[0].Error, "image digest mismatch")
		})
	}
}

func TestCrossCheckOpensslThumbprints(t *testing.T) {
	needFixtures(t)
	for _, tc := range []struct {
		path string
		leaf func() *x509.Certificate
	}{{fx.rsa64, func() *x509.Certificate { return fx.rsaLeaf.Cert }}, {fx.ecTS64, func() *x509.Certificate { return fx.ecLeaf.Cert }}} {
		res, _ := verifyFile(t, NewWithoutSystemRoots(), tc.path, signers.Options{}, false)
		pemPath := filepath.Join(t.TempDir(), "leaf.pem")
		require.NoError(t, os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tc.leaf().Raw}), 0o600))
		s1, s256 := opensslFingerprints(t, pemPath)
		assert.Equal(t, s1, res.Signatures[0].Signer.ThumbprintSHA1)
		assert.Equal(t, s256, res.Signatures[0].Signer.ThumbprintSHA256)
	}
}

// signatureCertFingerprints extracts the signature with osslsigncode and returns openssl's
// SHA-1 fingerprint → subject for every certificate in it.
func signatureCertFingerprints(t *testing.T, path string) map[string]string {
	t.Helper()
	needTool(t, "osslsigncode")
	needTool(t, "openssl")
	dir := t.TempDir()
	der := filepath.Join(dir, "sig.der")
	out, err := run(t, "osslsigncode", "extract-signature", "-in", path, "-out", der)
	require.NoError(t, err, out)
	out, err = run(t, "openssl", "pkcs7", "-inform", "DER", "-in", der, "-print_certs")
	require.NoError(t, err, out)
	fps := map[string]string{}
	rest := []byte(out)
	for i := 0; ; i++ {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		p := filepath.Join(dir, "c.pem")
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(blk), 0o600))
		s1, _ := opensslFingerprints(t, p)
		c, err := x509.ParseCertificate(blk.Bytes)
		require.NoError(t, err)
		fps[s1] = c.Subject.CommonName
	}
	return fps
}

func sortedKeys(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
