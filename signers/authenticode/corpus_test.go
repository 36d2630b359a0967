package authenticode

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sassoftware/relic/v7/lib/authenticode"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/signers"
)

// corpusDir is where scripts/corpus/pe.sh caches real signed PE files.
func corpusDir(t testing.TB) string {
	t.Helper()
	root := os.Getenv("EDRPOLICY_CORPUS")
	if root == "" {
		home, _ := os.UserHomeDir()
		root = filepath.Join(home, ".cache", "edrpolicy-corpus")
	}
	dir := filepath.Join(root, "pe")
	if m, _ := filepath.Glob(filepath.Join(dir, "*")); len(m) == 0 {
		t.Skipf("no PE corpus in %s; run scripts/corpus/pe.sh", dir)
	}
	return dir
}

func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	cases := []struct {
		file    string
		machine string
		sigs    int
		cn      []string
		version bool
	}{
		{"shimx64.efi.signed", "amd64", 2, []string{"Microsoft Windows UEFI Driver Publisher", "Microsoft UEFI CA 2023 signer"}, false},
		{"grubx64.efi.signed", "amd64", 1, []string{"Debian Secure Boot Signer 2022 - grub2"}, false},
		{"vmlinuz.efi", "amd64", 1, []string{"Debian Secure Boot Signer 2022 - linux"}, false},
		{"conpty-x64.dll", "amd64", 1, []string{"Microsoft Corporation"}, true},
		{"conpty-arm64.dll", "arm64", 1, []string{"Microsoft Corporation"}, true},
		{"OpenConsole-x64.exe", "amd64", 1, []string{"Microsoft Corporation"}, true},
		{"vsce-sign-x64.exe", "amd64", 1, []string{"Microsoft Corporation"}, true},
	}
	v := New()
	for _, tc := range cases {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			if _, err := os.Stat(path); err != nil {
				t.Skipf("%s not in the corpus", tc.file)
			}
			for _, useTap := range []bool{false, true} {
				res, _ := verifyFile(t, v, path, signers.Options{}, useTap)
				assert.Equal(t, signers.StatusValid, res.Status)
				assert.Equal(t, tc.machine, res.PE.Machine)
				require.Len(t, res.Signatures, tc.sigs)
				for i, s := range res.Signatures {
					assert.Equal(t, signers.StatusValid, s.Status, s.Error)
					assert.Equal(t, tc.cn[i], s.Signer.CommonName)
					assert.Equal(t, "sha256", s.DigestAlgorithm)
					assert.Equal(t, res.PE.AuthenticodeSHA256, s.SignedDigest)
					// Microsoft and Debian roots are not in a Linux system pool.
					assert.Equal(t, signers.ChainUnknownRoot, s.Chain, s.ChainError)
					// Real code-signing leaves say they sign code; their digests are strong.
					assert.Contains(t, s.Signer.ExtKeyUsage, signers.EKUCodeSigning)
					assert.Empty(t, s.WeakDigest)
				}
				if tc.version {
					require.NotNil(t, res.PE.Version)
					assert.Equal(t, "Microsoft Corporation", res.PE.Version.CompanyName)
					assert.NotEmpty(t, res.PE.Version.FileVersion)
					assert.NotEmpty(t, res.PE.Version.OriginalFilename)
				}
			}
			if lookTool("pesign") != "" || os.Getenv("CI") == "true" {
				res, _ := verifyFile(t, v, path, signers.Options{}, true)
				assert.Equal(t, pesignHash(t, path), res.PE.AuthenticodeSHA256)
			}
			if tc.sigs == 1 && (lookTool("osslsigncode") != "" || os.Getenv("CI") == "true") {
				res, _ := verifyFile(t, v, path, signers.Options{}, false)
				assert.Equal(t, []string{res.Signatures[0].SignedDigest}, osslDigests(t, path, ""))
				fps := signatureCertFingerprints(t, path)
				s := res.Signatures[0].Signer
				assert.Equal(t, s.CommonName, fps[s.ThumbprintSHA1], "openssl fingerprints: %v", sortedKeys(fps))
			}
		})
	}
}

// The EFI-stub kernel has an optional header with 6 data directories: relic fails on it, this
// package does not (TestCorpus checks the verdict).
func TestCorpusShortHeaderRelicFails(t *testing.T) {
	path := filepath.Join(corpusDir(t), "vmlinuz.efi")
	f, err := os.Open(path)
	if err != nil {
		t.Skip("vmlinuz.efi not in the corpus")
	}
	defer f.Close()
	_, err = authenticode.VerifyPE(f, false)
	assert.Error(t, err)
	b := readFile(t, path)
	p, err := parsePE(headerReader{head: b, size: int64(len(b))})
	require.NoError(t, err)
	assert.Equal(t, uint32(6), p.numDirs)
}
