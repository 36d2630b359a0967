package authenticode

import (
	"bytes"
	"encoding/binary"
	"encoding/pem"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/sassoftware/relic/v7/lib/authenticode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/corpus"
	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
)

// TestCorpusNPM checks the Microsoft-signed executables of npm packages. npm versions are
// immutable and pinned in scripts/corpus/pe.sh, so their expectations can be written down.
func TestCorpusNPM(t *testing.T) {
	want := map[string]struct {
		machine string
		cn      string
	}{
		"conpty-x64.dll":      {"amd64", "Microsoft Corporation"},
		"conpty-arm64.dll":    {"arm64", "Microsoft Corporation"},
		"OpenConsole-x64.exe": {"amd64", "Microsoft Corporation"},
		"vsce-sign-x64.exe":   {"amd64", "Microsoft Corporation"},
	}
	files := corpus.Need(t, "pe", corpus.SourceNPM)
	v := New()
	for _, cf := range files {
		exp, ok := want[cf.Name]
		if !ok {
			t.Errorf("%s: no expectations written for this pinned npm file", cf)
			continue
		}
		delete(want, cf.Name)
		t.Run(cf.Name, func(t *testing.T) {
			for _, useTap := range []bool{false, true} {
				res, _ := verifyFile(t, v, cf.Path, signers.Options{}, useTap)
				assert.Equal(t, signers.StatusValid, res.Status)
				assert.Equal(t, exp.machine, res.PE.Machine)
				require.Len(t, res.Signatures, 1)
				s := res.Signatures[0]
				assert.Equal(t, signers.StatusValid, s.Status, s.Error)
				assert.Equal(t, exp.cn, s.Signer.CommonName)
				assert.Equal(t, "sha256", s.DigestAlgorithm)
				assert.Equal(t, res.PE.AuthenticodeSHA256, s.SignedDigest)
				// Microsoft's roots are not in a Linux system pool.
				assert.Equal(t, signers.ChainUnknownRoot, s.Chain, s.ChainError)
				// Real code-signing leaves say they sign code; their digests are strong.
				assert.Contains(t, s.Signer.ExtKeyUsage, signers.EKUCodeSigning)
				assert.Empty(t, s.WeakDigest)
				require.NotNil(t, res.PE.Version)
				assert.Equal(t, "Microsoft Corporation", res.PE.Version.CompanyName)
				assert.NotEmpty(t, res.PE.Version.FileVersion)
				assert.NotEmpty(t, res.PE.Version.OriginalFilename)
			}
			res, _ := verifyFile(t, v, cf.Path, signers.Options{}, true)
			assert.Equal(t, pesignHash(t, cf.Path), res.PE.AuthenticodeSHA256)
			assert.Equal(t, []string{res.Signatures[0].SignedDigest}, osslDigests(t, cf.Path, ""))
			fps := signatureCertFingerprints(t, cf.Path)
			s := res.Signatures[0].Signer
			assert.Equal(t, s.CommonName, fps[s.ThumbprintSHA1], "openssl fingerprints: %v", sortedKeys(fps))
		})
	}
	if len(files) > 0 {
		assert.Empty(t, want, "pinned npm files missing from the corpus index")
	}
}

// TestCorpusDebian checks Debian's signed EFI images (shim, GRUB, the EFI-stub kernel). Debian's
// mirror serves only current versions and what they hold moves: shim has carried one signature
// and two, and signer names change with each new Secure Boot key. So nothing here is written
// down: the number of signatures and their issuers and subjects come from `sbverify --list`, the
// image digest from `pesign -h`, each leaf (subject, issuer, serial, thumbprints) from openssl on
// the certificate-table entry, the digest algorithm from `openssl asn1parse`, validity from
// `sbverify --cert LEAF`, and whether the chain is trusted from `openssl verify` against the
// system store. The package versions are logged (corpus.Need).
func TestCorpusDebian(t *testing.T) {
	files := corpus.Need(t, "pe", corpus.SourceDebian)
	for _, tool := range []string{"sbverify", "pesign", "openssl"} {
		needTool(t, tool)
	}
	v := New()
	for _, cf := range files {
		t.Run(cf.Name, func(t *testing.T) {
			checkAgainstTools(t, v, cf.Path)
		})
	}
}

// checkAgainstTools compares this package's report on a real signed PE with what independent
// tools say about it, signature by signature.
func checkAgainstTools(t *testing.T, v *Verifier, path string) {
	t.Helper()
	listed := sbverifyList(t, path)
	entries := certTableEntries(t, readFile(t, path))
	require.Len(t, entries, len(listed), "sbverify --list and the certificate table disagree")
	imageDigest := pesignHash(t, path)
	t.Logf("%s: %d signature(s), image digest %s", filepath.Base(path), len(listed), imageDigest)
	for _, useTap := range []bool{false, true} {
		res, _ := verifyFile(t, v, path, signers.Options{}, useTap)
		assert.Equal(t, signers.StatusValid, res.Status)
		assert.Equal(t, imageDigest, res.PE.AuthenticodeSHA256)
		var top []signers.Signature
		for _, s := range res.Signatures {
			if !s.Nested {
				top = append(top, s)
			}
		}
		require.Len(t, top, len(listed))
		for i, s := range top {
			leaf := toolLeaf(t, entries[i])
			assert.Equal(t, listed[i].issuer, leaf.issuer, "signature %d: sbverify's issuer vs the leaf's", i+1)
			assert.Contains(t, listed[i].subjects, leaf.subject, "signature %d", i+1)
			assert.Equal(t, signers.StatusValid, s.Status, s.Error)
			require.NotNil(t, s.Signer)
			assert.Equal(t, leaf.sha1, s.Signer.ThumbprintSHA1, "signature %d", i+1)
			assert.Equal(t, leaf.sha256, s.Signer.ThumbprintSHA256, "signature %d", i+1)
			assert.Equal(t, leaf.serial, strings.TrimLeft(s.Signer.Serial, "0"), "signature %d", i+1)
			assert.Equal(t, leaf.cn, s.Signer.CommonName, "signature %d", i+1)
			assert.Equal(t, leaf.codeSigning, slices.Contains(s.Signer.ExtKeyUsage, signers.EKUCodeSigning), "signature %d: openssl says code signing: %v", i+1, leaf.codeSigning)
			alg := opensslDigestAlgorithm(t, entries[i])
			assert.Equal(t, alg, s.DigestAlgorithm, "signature %d", i+1)
			assert.Equal(t, alg == "sha1" || alg == "md5", s.WeakDigest != "", "signature %d: %s digest, weak_digest %q", i+1, alg, s.WeakDigest)
			if alg == "sha256" {
				assert.Equal(t, imageDigest, s.SignedDigest, "signature %d", i+1)
			}
			if leaf.chainTrusted {
				assert.Equal(t, signers.ChainTrusted, s.Chain, s.ChainError)
			} else {
				assert.NotEqual(t, signers.ChainTrusted, s.Chain, "openssl verify does not trust %s", leaf.subject)
			}
			// sbverify (OpenSSL's PKCS#7 code) checks the image digest and the signature
			// with this leaf as the trust anchor.
			out, err := run(t, "sbverify", "--cert", leaf.pemFile, path)
			assert.NoError(t, err, out)
			assert.Contains(t, out, "Signature verification OK")
		}
	}
}

type listedSig struct {
	issuer   string
	subjects []string
}

// sbverifyList parses `sbverify --list`: per signature, its issuer and certificate subjects
// (OpenSSL's one-line form, /C=US/O=.../CN=...).
func sbverifyList(t *testing.T, path string) []listedSig {
	t.Helper()
	out, err := run(t, "sbverify", "--list", path)
	require.NoError(t, err, out)
	var sigs []listedSig
	section := ""
	for _, line := range strings.Split(out, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(trimmed, "signature "):
			sigs = append(sigs, listedSig{})
		case trimmed == "image signature issuers:", trimmed == "image signature certificates:":
			section = trimmed
		case len(sigs) > 0 && strings.HasPrefix(trimmed, "- ") && section == "image signature issuers:":
			sigs[len(sigs)-1].issuer = strings.TrimPrefix(trimmed, "- ")
		case len(sigs) > 0 && strings.HasPrefix(trimmed, "- subject: "):
			sigs[len(sigs)-1].subjects = append(sigs[len(sigs)-1].subjects, strings.TrimPrefix(trimmed, "- subject: "))
		}
	}
	require.NotEmpty(t, sigs, out)
	return sigs
}

// certTableEntries returns the PKCS#7 blob of each WIN_CERTIFICATE entry, read with a few lines
// of its own (not this package's parser), so that openssl can look at each.
func certTableEntries(t *testing.T, b []byte) [][]byte {
	t.Helper()
	le := binary.LittleEndian
	pe := int(le.Uint32(b[0x3c:]))
	opt := pe + 24
	dir := opt + 112 + 4*8
	if le.Uint16(b[opt:]) == 0x10b {
		dir = opt + 96 + 4*8
	}
	off, size := int(le.Uint32(b[dir:])), int(le.Uint32(b[dir+4:]))
	require.LessOrEqual(t, off+size, len(b))
	var out [][]byte
	for p := off; p+8 <= off+size; {
		l := int(le.Uint32(b[p:]))
		require.Greater(t, l, 8)
		require.LessOrEqual(t, p+l, off+size)
		out = append(out, b[p+8:p+l])
		p += (l + 7) &^ 7
	}
	return out
}

type toolCert struct {
	pemFile, subject, issuer, cn, serial, sha1, sha256 string
	chainTrusted, codeSigning                          bool
}

// toolLeaf asks openssl for the certificates of one PKCS#7 entry and returns the leaf: the
// certificate that issued none of the others.
func toolLeaf(t *testing.T, der []byte) toolCert {
	t.Helper()
	dir := t.TempDir()
	sig := filepath.Join(dir, "sig.der")
	require.NoError(t, os.WriteFile(sig, der, 0o600))
	out, err := run(t, "openssl", "pkcs7", "-inform", "DER", "-in", sig, "-print_certs")
	require.NoError(t, err, out)
	var certs []toolCert
	var bundle []byte
	rest := []byte(out)
	for i := 0; ; i++ {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		p := filepath.Join(dir, "c"+string(rune('a'+i))+".pem")
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(blk), 0o600))
		bundle = append(bundle, pem.EncodeToMemory(blk)...)
		certs = append(certs, opensslCert(t, p))
	}
	require.NotEmpty(t, certs, out)
	issuers := map[string]bool{}
	for _, c := range certs {
		if c.subject != c.issuer {
			issuers[c.issuer] = true
		}
	}
	var leaves []toolCert
	for _, c := range certs {
		if !issuers[c.subject] {
			leaves = append(leaves, c)
		}
	}
	require.Len(t, leaves, 1, "certificates: %+v", certs)
	leaf := leaves[0]
	chain := filepath.Join(dir, "chain.pem")
	require.NoError(t, os.WriteFile(chain, bundle, 0o600))
	vout, err := run(t, "openssl", "verify", "-purpose", "any", "-untrusted", chain, leaf.pemFile)
	leaf.chainTrusted = err == nil && strings.Contains(vout, ": OK")
	return leaf
}

var reCN = regexp.MustCompile(`/CN=([^/]*)`)

func opensslCert(t *testing.T, pemFile string) toolCert {
	t.Helper()
	out, err := run(t, "openssl", "x509", "-noout", "-nameopt", "compat", "-subject", "-issuer", "-serial", "-in", pemFile)
	require.NoError(t, err, out)
	c := toolCert{pemFile: pemFile}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		k, v, _ := strings.Cut(line, "=")
		switch k {
		case "subject":
			c.subject = v
		case "issuer":
			c.issuer = v
		case "serial":
			c.serial = strings.TrimLeft(strings.ToLower(v), "0")
		}
	}
	if m := reCN.FindStringSubmatch(c.subject); m != nil {
		c.cn = m[1]
	}
	c.sha1, c.sha256 = opensslFingerprints(t, pemFile)
	eku, _ := run(t, "openssl", "x509", "-noout", "-ext", "extendedKeyUsage", "-in", pemFile)
	c.codeSigning = strings.Contains(eku, "Code Signing")
	return c
}

// opensslDigestAlgorithm returns the digest algorithm openssl asn1parse shows first in the
// SignedData (its digestAlgorithms set).
func opensslDigestAlgorithm(t *testing.T, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "sig.der")
	require.NoError(t, os.WriteFile(p, der, 0o600))
	out, err := run(t, "openssl", "asn1parse", "-inform", "DER", "-in", p)
	require.NoError(t, err, out)
	m := regexp.MustCompile(`OBJECT\s+:(sha1|sha256|sha384|sha512|md5)\b`).FindStringSubmatch(out)
	require.NotNil(t, m, out)
	return m[1]
}

// TestTwoCertificateEntries keeps the case an earlier shim covered: a PE with two
// WIN_CERTIFICATE entries, each a valid signature of the same image by another signer. The
// file is built here (fixture builder) and, in a second variant, by sbsign, which appends a
// signature to a signed image; sbverify --list is the independent view of both.
func TestTwoCertificateEntries(t *testing.T) {
	needFixtures(t)
	needTool(t, "sbverify")
	dir := t.TempDir()
	built := filepath.Join(dir, "two-entries.exe")
	require.NoError(t, testfixtures.PEAppendSignature(fx.rsa64, fx.ecTS64, built))
	variants := map[string]string{"fixture builder": built}
	if tool := lookTool("sbsign"); tool != "" || os.Getenv("CI") == "true" {
		variants["sbsign"] = sbsignTwice(t, dir)
	}
	for name, path := range variants {
		t.Run(name, func(t *testing.T) {
			listed := sbverifyList(t, path)
			require.Len(t, listed, 2)
			res, _ := verifyFile(t, NewWithoutSystemRoots(), path, signers.Options{Roots: fx.ca.Pool()}, true)
			assert.Equal(t, signers.StatusValid, res.Status)
			require.Len(t, res.Signatures, 2)
			for i, s := range res.Signatures {
				assert.False(t, s.Nested)
				assert.Equal(t, signers.StatusValid, s.Status, s.Error)
				assert.Equal(t, signers.ChainTrusted, s.Chain, s.ChainError)
				assert.Equal(t, opensslCert(t, fx.caPEM).subject, listed[i].issuer)
				leafPEM := filepath.Join(t.TempDir(), "leaf.pem")
				require.NoError(t, os.WriteFile(leafPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: s.Signer.Raw}), 0o600))
				assert.Contains(t, listed[i].subjects, opensslCert(t, leafPEM).subject)
				assert.Equal(t, res.PE.AuthenticodeSHA256, s.SignedDigest)
			}
			assert.NotEqual(t, res.Signatures[0].Signer.ThumbprintSHA256, res.Signatures[1].Signer.ThumbprintSHA256)
			assert.Equal(t, pesignHash(t, path), res.PE.AuthenticodeSHA256)
			out, err := run(t, "sbverify", "--cert", fx.caPEM, path)
			assert.NoError(t, err, out)

			// Either entry tampered: only that signature is invalid and the file is invalid.
			b := readFile(t, path)
			entries := certTableEntries(t, b)
			for i, e := range entries {
				bad := bytes.Clone(b)
				at := bytes.Index(bad, e) + len(e) - 40 // inside the signature value
				bad[at] ^= 0xff
				res, err := verifyBytes(t, NewWithoutSystemRoots(), bad, signers.Options{Roots: fx.ca.Pool()})
				require.NoError(t, err)
				assert.Equal(t, signers.StatusInvalid, res.Status, "entry %d tampered", i+1)
				require.Len(t, res.Signatures, 2)
				assert.Equal(t, signers.StatusInvalid, res.Signatures[i].Status, "entry %d tampered", i+1)
				assert.Equal(t, signers.StatusValid, res.Signatures[1-i].Status, "entry %d untouched", 2-i)
			}
		})
	}
}

// sbsignTwice signs the unsigned fixture with the RSA leaf, then again with the ECDSA leaf, with
// sbsign (which appends a second certificate-table entry to a signed image).
func sbsignTwice(t *testing.T, dir string) string {
	t.Helper()
	needTool(t, "sbsign")
	sign := func(leaf *testfixtures.KeyPair, in, out string) {
		cert, key := filepath.Join(dir, "leaf.pem"), filepath.Join(dir, "leaf.key")
		require.NoError(t, leaf.WriteFiles(cert, key))
		o, err := run(t, "sbsign", "--key", key, "--cert", cert, "--output", out, in)
		require.NoError(t, err, o)
	}
	once, twice := filepath.Join(dir, "sbsign-1.exe"), filepath.Join(dir, "sbsign-2.exe")
	sign(fx.rsaLeaf, fx.unsigned64, once)
	sign(fx.ecLeaf, once, twice)
	return twice
}

// Debian's EFI-stub kernel has had an optional header with only 6 data directories (the Debian
// kernel moves, so the count is read from the header here): relic fails on such a file, this
// package does not (TestCorpusDebian checks the verdict).
func TestCorpusShortHeaderRelicFails(t *testing.T) {
	cf := corpus.NeedFile(t, "pe", "vmlinuz.efi")
	b := readFile(t, cf.Path)
	le := binary.LittleEndian
	opt := int(le.Uint32(b[0x3c:])) + 24
	dirs := le.Uint32(b[opt+108:])
	if le.Uint16(b[opt:]) == 0x10b {
		dirs = le.Uint32(b[opt+92:])
	}
	p, err := parsePE(headerReader{head: b, size: int64(len(b))})
	require.NoError(t, err)
	assert.Equal(t, dirs, p.numDirs)
	if dirs >= 16 {
		t.Skipf("%s has %d data directories now: no short optional header to test relic on", cf, dirs)
	}
	_, err = authenticode.VerifyPE(bytes.NewReader(b), false)
	assert.Error(t, err, "relic on a %d-directory optional header", dirs)
}
