package authenticode

import (
	"crypto"
	"crypto/x509"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
)

// newWithSystemPool returns a Verifier whose "system pool" is p, so that a test can show what
// happens when the system pool and --roots both fail.
func newWithSystemPool(p *x509.CertPool) *Verifier {
	v := New()
	v.once.Do(func() { v.system = p })
	return v
}

// chainSet are PE files whose chains fail in different ways under fx.ca (the --roots CA).
type chainSet struct {
	other                                     *testfixtures.KeyPair // the tests' system pool
	forgedLeaf, forgedInter, expired, tlsEKU  string
	notYetValid, unknownRoot, sha1CA, noEKU   string
	keyEnc, expiredTS, md5, trustedWithInterm string
}

var (
	chainOnce sync.Once
	chainFx   chainSet
	chainErr  error
)

func buildChainSet(t *testing.T) *chainSet {
	t.Helper()
	needFixtures(t)
	chainOnce.Do(func() { chainErr = makeChainSet(&chainFx) })
	require.NoError(t, chainErr)
	return &chainFx
}

func makeChainSet(c *chainSet) error {
	var err error
	if c.other, err = testfixtures.NewCA("System Pool Root"); err != nil {
		return err
	}
	unknown, err := testfixtures.NewCA("Unknown Root")
	if err != nil {
		return err
	}
	impostor, err := testfixtures.NewImpostorCA(fx.ca) // "Fixture Root CA", another key
	if err != nil {
		return err
	}
	inter, err := testfixtures.NewIntermediate(fx.ca, "Fixture Intermediate", 0)
	if err != nil {
		return err
	}
	forgedInter, err := testfixtures.NewIntermediate(impostor, "Fixture Intermediate", 0)
	if err != nil {
		return err
	}
	sha1Inter, err := testfixtures.NewIntermediate(fx.ca, "Fixture SHA-1 CA", x509.SHA1WithRSA)
	if err != nil {
		return err
	}
	now := time.Now()
	type spec struct {
		out    *string
		name   string
		issuer *testfixtures.KeyPair
		inter  []*x509.Certificate
		leaf   testfixtures.LeafOptions
		sign   testfixtures.PESignOptions
	}
	past := testfixtures.LeafOptions{CommonName: "Expired Signer", NotBefore: now.AddDate(-2, 0, 0), NotAfter: now.AddDate(-1, 0, 0)}
	specs := []spec{
		{&c.forgedLeaf, "forged-leaf.exe", impostor, nil, testfixtures.LeafOptions{CommonName: "Forged Signer"}, testfixtures.PESignOptions{}},
		{&c.forgedInter, "forged-inter.exe", forgedInter, []*x509.Certificate{forgedInter.Cert}, testfixtures.LeafOptions{CommonName: "Signer Under Forged CA"}, testfixtures.PESignOptions{}},
		{&c.trustedWithInterm, "intermediate.exe", inter, []*x509.Certificate{inter.Cert}, testfixtures.LeafOptions{CommonName: "Signer Under Intermediate"}, testfixtures.PESignOptions{}},
		{&c.expired, "expired.exe", fx.ca, nil, past, testfixtures.PESignOptions{}},
		{&c.expiredTS, "expired-ts-late.exe", fx.ca, nil, past, testfixtures.PESignOptions{TSA: &testfixtures.LocalTSA{TSA: fx.tsa}}},
		{&c.notYetValid, "not-yet-valid.exe", fx.ca, nil, testfixtures.LeafOptions{CommonName: "Future Signer", NotBefore: now.AddDate(1, 0, 0), NotAfter: now.AddDate(2, 0, 0)}, testfixtures.PESignOptions{}},
		{&c.tlsEKU, "tls-eku.exe", fx.ca, nil, testfixtures.LeafOptions{CommonName: "TLS Server", EKU: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, testfixtures.PESignOptions{}},
		{&c.noEKU, "no-eku.exe", fx.ca, nil, testfixtures.LeafOptions{CommonName: "No EKU Signer", NoEKU: true}, testfixtures.PESignOptions{}},
		{&c.keyEnc, "key-encipherment.exe", fx.ca, nil, testfixtures.LeafOptions{CommonName: "Key Encipherment Signer", KeyUsage: x509.KeyUsageKeyEncipherment}, testfixtures.PESignOptions{}},
		{&c.unknownRoot, "unknown-root.exe", unknown, nil, testfixtures.LeafOptions{CommonName: "Unknown Root Signer"}, testfixtures.PESignOptions{}},
		{&c.sha1CA, "sha1-ca.exe", sha1Inter, []*x509.Certificate{sha1Inter.Cert}, testfixtures.LeafOptions{CommonName: "Signer Under SHA-1 CA"}, testfixtures.PESignOptions{}},
	}
	for _, s := range specs {
		leaf, err := testfixtures.NewLeaf(s.issuer, s.leaf)
		if err != nil {
			return err
		}
		*s.out = filepath.Join(fx.dir, s.name)
		if err := testfixtures.PESign(leaf, s.inter, fx.unsigned64, *s.out, s.sign); err != nil {
			return err
		}
	}
	// MD5 image digest, through osslsigncode (relic refuses to sign with MD5); optional.
	md5 := filepath.Join(fx.dir, "md5.exe")
	if testfixtures.PESignOsslsigncode(fx.rsaLeaf, fx.unsigned64, md5, testfixtures.OsslsigncodeOptions{Hash: "md5"}) == nil {
		c.md5 = md5
	}
	return nil
}

// Item 11: when the system pool and --roots both fail, the verdict is the most specific
// failure. The tests' "system pool" holds an unrelated root, as a real one does not hold the
// fixture CA; before, its unknown-authority error hid the --roots verdict.
func TestChainFailureMostSpecific(t *testing.T) {
	c := buildChainSet(t)
	cases := []struct {
		name    string
		file    func() string
		status  signers.Status
		chain   signers.Chain
		anchor  signers.Anchor
		errHas  string
		problem string
	}{
		{"forged leaf under the --roots CA's name", func() string { return c.forgedLeaf }, signers.StatusInvalid, signers.ChainUntrusted, "",
			`the issuer's signature on certificate "Forged Signer" does not verify (forged or altered certificate)`, `the issuer's signature on certificate "Forged Signer" does not verify`},
		{"forged intermediate", func() string { return c.forgedInter }, signers.StatusInvalid, signers.ChainUntrusted, "",
			`the issuer's signature on certificate "Fixture Intermediate" does not verify`, `the issuer's signature on certificate "Fixture Intermediate" does not verify`},
		{"expired leaf, no timestamp", func() string { return c.expired }, signers.StatusValid, signers.ChainUntrusted, "", "certificate has expired or is not yet valid", ""},
		{"expired leaf, timestamped after expiry", func() string { return c.expiredTS }, signers.StatusValid, signers.ChainUntrusted, "", "certificate has expired or is not yet valid", ""},
		{"leaf not yet valid", func() string { return c.notYetValid }, signers.StatusValid, signers.ChainUntrusted, "", "certificate has expired or is not yet valid", ""},
		{"leaf with a TLS EKU", func() string { return c.tlsEKU }, signers.StatusValid, signers.ChainUntrusted, "", "incompatible key usage", ""},
		{"chain to an unknown root", func() string { return c.unknownRoot }, signers.StatusValid, signers.ChainUnknownRoot, "", "certificate signed by unknown authority", ""},
		{"SHA-1 CA", func() string { return c.sha1CA }, signers.StatusValid, signers.ChainInsecureAlgorithm, "", "insecure algorithm SHA1-RSA", ""},
		{"trusted through an intermediate", func() string { return c.trustedWithInterm }, signers.StatusValid, signers.ChainTrusted, signers.AnchorRoots, "", ""},
		{"trusted, timestamped", func() string { return fx.ecTS64 }, signers.StatusValid, signers.ChainTrusted, signers.AnchorRoots, "", ""},
	}
	verifiers := map[string]*Verifier{"system pool and --roots": newWithSystemPool(c.other.Pool()), "--roots only": NewWithoutSystemRoots()}
	for _, tc := range cases {
		for vname, v := range verifiers {
			t.Run(tc.name+"/"+vname, func(t *testing.T) {
				res, _ := verifyFile(t, v, tc.file(), signers.Options{Roots: fx.ca.Pool()}, false)
				require.Len(t, res.Signatures, 1)
				s := res.Signatures[0]
				assert.Equal(t, tc.status, s.Status, s.Error)
				assert.Equal(t, tc.chain, s.Chain, s.ChainError)
				assert.Equal(t, tc.anchor, s.Anchor)
				assert.Contains(t, s.ChainError, tc.errHas)
				assert.NotContains(t, s.ChainError, "pin")
				if tc.problem != "" {
					assert.Contains(t, s.Error, tc.problem)
				}
			})
		}
	}
	// The same files trusted by the system pool instead: the anchor says so.
	res, _ := verifyFile(t, newWithSystemPool(fx.ca.Pool()), fx.rsa64, signers.Options{}, false)
	assert.Equal(t, signers.AnchorSystem, res.Signatures[0].Anchor)
	assert.Equal(t, signers.ChainTrusted, res.Signatures[0].Chain)
}

// osslsigncode, an independent verifier, also rejects the forged chains under the fixture CA
// (OpenSSL, matching issuers by key identifier too, does not even take the real CA as the
// issuer: "unable to get local issuer certificate"), and accepts the genuine intermediate.
func TestChainFailureCrossCheck(t *testing.T) {
	c := buildChainSet(t)
	needTool(t, "osslsigncode")
	for _, f := range []string{c.forgedLeaf, c.forgedInter} {
		out, err := run(t, "osslsigncode", "verify", "-in", f, "-CAfile", fx.caPEM)
		assert.Error(t, err, out)
		assert.Contains(t, out, "Signature verification: failed", filepath.Base(f))
	}
	out, err := run(t, "osslsigncode", "verify", "-in", c.trustedWithInterm, "-CAfile", fx.caPEM)
	assert.NoError(t, err, out)
}

// The timestamp's own chain is reported, so that only a trusted timestamp vouches for the
// signing time.
func TestTimestampChain(t *testing.T) {
	c := buildChainSet(t)
	v := NewWithoutSystemRoots()
	cases := []struct {
		name string
		file string
		opts signers.Options
		want signers.Chain
	}{
		{"trusted TSA", fx.ecTS64, signers.Options{Roots: fx.ca.Pool()}, signers.ChainTrusted},
		{"TSA under an unknown root", fx.ecTS64, signers.Options{}, signers.ChainUnknownRoot},
		{"TSA trusted, leaf expired before the timestamp", c.expiredTS, signers.Options{Roots: fx.ca.Pool()}, signers.ChainTrusted},
		{"no timestamp", fx.rsa64, signers.Options{Roots: fx.ca.Pool()}, ""},
	}
	for _, tc := range cases {
		res, _ := verifyFile(t, v, tc.file, tc.opts, false)
		assert.Equal(t, tc.want, res.Signatures[0].TimestampChain, tc.name)
	}
}

var (
	osslImageAlgRE  = regexp.MustCompile(`Message digest algorithm  : (\w+)`)
	osslSignerAlgRE = regexp.MustCompile(`Message digest algorithm: (\w+)`)
)

// osslWeak computes, from osslsigncode's report of each signature's image digest and signer
// digest algorithms, what weak_digest should say.
func osslWeak(t *testing.T, path string) []string {
	t.Helper()
	out, _ := run(t, "osslsigncode", "verify", "-in", path)
	var weak []string
	for _, sec := range strings.Split(out, "Signature Index:")[1:] {
		img, sig := osslImageAlgRE.FindStringSubmatch(sec), osslSignerAlgRE.FindStringSubmatch(sec)
		require.NotNil(t, img, sec)
		require.NotNil(t, sig, sec)
		var w []string
		for _, p := range [][2]string{{img[1], "image"}, {sig[1], "signer"}} {
			if a := strings.ToLower(p[0]); a == "sha1" || a == "md5" {
				w = append(w, a+" "+p[1]+" digest")
			}
		}
		weak = append(weak, strings.Join(w, ", "))
	}
	return weak
}

// Item 15: MD5 and SHA-1 image and signer digests are reported per signature, as osslsigncode
// reads the same files; a dual-signed file's SHA-256 signature is not weak.
func TestWeakDigest(t *testing.T) {
	c := buildChainSet(t)
	cases := []struct {
		name string
		file string
		want []string
	}{
		{"sha256", fx.rsa64, []string{""}},
		{"sha256 timestamped", fx.ecTS64, []string{""}},
		{"sha1 with page hashes", fx.sha1PH64, []string{"sha1 image digest, sha1 signer digest"}},
	}
	if fx.dualErr == nil {
		cases = append(cases, struct {
			name string
			file string
			want []string
		}{"dual sha1 + nested sha256", fx.dual, []string{"sha1 image digest, sha1 signer digest", ""}})
	}
	if c.md5 != "" {
		cases = append(cases, struct {
			name string
			file string
			want []string
		}{"md5", c.md5, []string{"md5 image digest, md5 signer digest"}})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := verifyFile(t, NewWithoutSystemRoots(), tc.file, signers.Options{Roots: fx.ca.Pool()}, true)
			var got []string
			for _, s := range res.Signatures {
				got = append(got, s.WeakDigest)
				assert.Equal(t, signers.StatusValid, s.Status, s.Error)
			}
			assert.Equal(t, tc.want, got)
			if lookTool("osslsigncode") != "" {
				assert.Equal(t, tc.want, osslWeak(t, tc.file), "osslsigncode's view")
			}
		})
	}
	assert.Equal(t, "", weakDigests(crypto.SHA256, crypto.SHA384))
	assert.Equal(t, "sha1 signer digest", weakDigests(crypto.SHA256, crypto.SHA1))
}
