package authenticode

// Legacy Authenticode timestamps: a PKCS#9 counterSignature (unauthenticated attribute
// 1.2.840.113549.1.9.6) holding the TSA's SignerInfo over the primary signature's
// encryptedDigest, as carried by binaries timestamped before RFC 3161 timestamps. The
// fixtures add one to files signed by the shared helpers (testfixtures.PEAddLegacyTimestamp);
// osslsigncode verifies them independently and, through `osslsigncode add -t`, embeds a
// countersignature served by an in-test HTTP TSA speaking the legacy protocol.

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/sassoftware/relic/v7/lib/authenticode"
	"github.com/sassoftware/relic/v7/lib/pkcs7"
	"github.com/sassoftware/relic/v7/lib/pkcs9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/internal/testfixtures"
	"github.com/edrpolicy/edrpolicy/signers"
)

type legacyFixtureSet struct {
	err error
	// rsa64 is fx.rsa64 with a SHA-256 countersignature by fx.tsa at stamp; sha1 is
	// fx.sha1PH64 with a SHA-1 countersignature (the primary's algorithm) at stamp.
	stamp       time.Time
	rsa64, sha1 string
	// A leaf valid from 50 to 5 minutes ago (expired now, by the real clock), and files it
	// signed: without a timestamp, stamped while it was valid (expiredStamp), stamped after it
	// expired, and stamped while valid by a TSA under a CA the tests do not trust.
	expiredStamp                  time.Time
	expiredPlain, expiredStamped  string
	expiredLate, expiredOtherTSA  string
	expiredLeaf, otherCA, otherTS *testfixtures.KeyPair
}

var (
	legacyOnce sync.Once
	lfx        legacyFixtureSet
)

func needLegacy(t testing.TB) {
	t.Helper()
	needFixtures(t)
	legacyOnce.Do(func() { lfx.err = buildLegacy(&lfx) })
	if lfx.err != nil {
		t.Fatalf("building the legacy-timestamp fixtures: %v", lfx.err)
	}
}

func buildLegacy(l *legacyFixtureSet) error {
	now := time.Now()
	l.stamp = now.Add(-17*time.Minute - 23*time.Second).UTC().Truncate(time.Second)
	l.rsa64 = filepath.Join(fx.dir, "legacy-rsa64.exe")
	if err := testfixtures.PEAddLegacyTimestamp(fx.rsa64, l.rsa64, &testfixtures.LegacyTSA{TSA: fx.tsa, Time: l.stamp}); err != nil {
		return err
	}
	l.sha1 = filepath.Join(fx.dir, "legacy-sha1-ph64.exe")
	if err := testfixtures.PEAddLegacyTimestamp(fx.sha1PH64, l.sha1, &testfixtures.LegacyTSA{TSA: fx.tsa, Time: l.stamp}); err != nil {
		return err
	}
	var err error
	if l.expiredLeaf, err = testfixtures.NewLeaf(fx.ca, testfixtures.LeafOptions{CommonName: "Fixture Expired Signer", NotBefore: now.Add(-50 * time.Minute), NotAfter: now.Add(-5 * time.Minute)}); err != nil {
		return err
	}
	if l.otherCA, err = testfixtures.NewCA("Fixture Other Root CA"); err != nil {
		return err
	}
	if l.otherTS, err = testfixtures.NewTSA(l.otherCA, "Fixture Other TSA"); err != nil {
		return err
	}
	l.expiredPlain = filepath.Join(fx.dir, "expired-plain.exe")
	if err := testfixtures.PESign(l.expiredLeaf, nil, fx.unsigned64, l.expiredPlain, testfixtures.PESignOptions{}); err != nil {
		return err
	}
	l.expiredStamp = now.Add(-30 * time.Minute).UTC().Truncate(time.Second)
	for _, s := range []struct {
		out  *string
		name string
		tsa  *testfixtures.LegacyTSA
	}{
		{&l.expiredStamped, "expired-stamped.exe", &testfixtures.LegacyTSA{TSA: fx.tsa, Time: l.expiredStamp}},
		{&l.expiredLate, "expired-stamped-late.exe", &testfixtures.LegacyTSA{TSA: fx.tsa, Time: now.Add(-2 * time.Minute)}},
		{&l.expiredOtherTSA, "expired-stamped-other-tsa.exe", &testfixtures.LegacyTSA{TSA: l.otherTS, Time: l.expiredStamp}},
	} {
		*s.out = filepath.Join(fx.dir, s.name)
		if err := testfixtures.PEAddLegacyTimestamp(l.expiredPlain, *s.out, s.tsa); err != nil {
			return err
		}
	}
	return nil
}

// legacyCounterSignature returns the primary SignerInfo of the file's (only) signature, its
// counterSignature attribute and the SignerInfo inside, parsed with relic.
func legacyCounterSignature(t *testing.T, b []byte) (*pkcs7.SignerInfo, pkcs7.Attribute, *pkcs7.SignerInfo) {
	t.Helper()
	start, size, _ := certDir(t, b)
	entries, err := splitCertTable(b[start : start+size])
	require.NoError(t, err)
	require.Len(t, entries, 1)
	psd, err := pkcs7.Unmarshal(entries[0].data)
	require.NoError(t, err)
	require.Len(t, psd.Content.SignerInfos, 1)
	si := &psd.Content.SignerInfos[0]
	var types []string
	var attr pkcs7.Attribute
	for _, a := range si.UnauthenticatedAttributes {
		types = append(types, a.Type.String())
		if a.Type.Equal(pkcs9.OidAttributeCounterSign) {
			attr = a
		}
	}
	// Only the legacy countersignature: no RFC 3161 token, no nested signature.
	require.Equal(t, []string{"1.2.840.113549.1.9.6"}, types)
	cs := new(pkcs7.SignerInfo)
	require.NoError(t, si.UnauthenticatedAttributes.GetOne(pkcs9.OidAttributeCounterSign, cs))
	return si, attr, cs
}

// TestLegacyTimestampFixture checks that the fixture is what the brief calls a legacy
// timestamp, independently of the verifier: the countersignature's signed attributes are
// exactly contentType (id-data), signingTime (the time set, UTCTime) and messageDigest
// (hash of the primary's encryptedDigest), its digest algorithm follows the primary's, the
// TSA certificate was added to the SignedData, and relic's own PE verifier reads it.
func TestLegacyTimestampFixture(t *testing.T) {
	needLegacy(t)
	for _, tc := range []struct {
		path, alg string
		hash      func([]byte) []byte
	}{
		{lfx.rsa64, "2.16.840.1.101.3.4.2.1", func(b []byte) []byte { s := sha256.Sum256(b); return s[:] }},
		{lfx.sha1, "1.3.14.3.2.26", func(b []byte) []byte { s := sha1.Sum(b); return s[:] }},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			b := readFile(t, tc.path)
			si, _, cs := legacyCounterSignature(t, b)
			assert.Equal(t, tc.alg, si.DigestAlgorithm.Algorithm.String())
			assert.Equal(t, tc.alg, cs.DigestAlgorithm.Algorithm.String())
			var oids []string
			for _, a := range cs.AuthenticatedAttributes {
				oids = append(oids, a.Type.String())
			}
			// DER order of the SET OF (by encoding): contentType, signingTime, messageDigest.
			assert.Equal(t, []string{"1.2.840.113549.1.9.3", "1.2.840.113549.1.9.5", "1.2.840.113549.1.9.4"}, oids)
			var ct asn1.ObjectIdentifier
			require.NoError(t, cs.AuthenticatedAttributes.GetOne(pkcs7.OidAttributeContentType, &ct))
			assert.Equal(t, "1.2.840.113549.1.7.1", ct.String())
			var md []byte
			require.NoError(t, cs.AuthenticatedAttributes.GetOne(pkcs7.OidAttributeMessageDigest, &md))
			assert.Equal(t, tc.hash(si.EncryptedDigest), md)
			var rawTime asn1.RawValue
			require.NoError(t, cs.AuthenticatedAttributes.GetOne(pkcs7.OidAttributeSigningTime, &rawTime))
			assert.Equal(t, asn1.TagUTCTime, rawTime.Tag)
			assert.Equal(t, lfx.stamp.Format("060102150405Z"), string(rawTime.Bytes))
			assert.Equal(t, 0, cs.IssuerAndSerialNumber.SerialNumber.Cmp(fx.tsa.Cert.SerialNumber))
			assert.Equal(t, 1, bytes.Count(b, fx.tsa.Cert.Raw), "TSA certificate bundled once")

			f, err := os.Open(tc.path)
			require.NoError(t, err)
			defer f.Close()
			sigs, err := authenticode.VerifyPE(f, false)
			require.NoError(t, err)
			require.Len(t, sigs, 1)
			require.NotNil(t, sigs[0].CounterSignature)
			assert.True(t, sigs[0].CounterSignature.SigningTime.Equal(lfx.stamp))
			assert.Equal(t, fx.tsa.Cert.Raw, sigs[0].CounterSignature.Certificate.Raw)
			assert.NoError(t, sigs[0].VerifyChain(fx.ca.Pool(), nil, 0))
		})
	}
}

// TestLegacyTimestampVerifies: a legacy-timestamped file is valid, its timestamp is exactly
// the countersignature's signingTime, and everything else is as without the timestamp.
func TestLegacyTimestampVerifies(t *testing.T) {
	needLegacy(t)
	v := NewWithoutSystemRoots()
	for _, tc := range []struct{ path, orig, alg string }{
		{lfx.rsa64, fx.rsa64, "sha256"},
		{lfx.sha1, fx.sha1PH64, "sha1"},
	} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			orig, _ := verifyFile(t, v, tc.orig, signers.Options{Roots: fx.ca.Pool()}, false)
			require.Len(t, orig.Signatures, 1)
			require.Nil(t, orig.Signatures[0].Timestamp)
			for _, useTap := range []bool{false, true} {
				res, _ := verifyFile(t, v, tc.path, signers.Options{Roots: fx.ca.Pool()}, useTap)
				assert.Equal(t, signers.StatusValid, res.Status)
				require.Len(t, res.Signatures, 1)
				s := res.Signatures[0]
				assert.Equal(t, signers.StatusValid, s.Status, s.Error)
				assert.Empty(t, s.Error)
				assert.Empty(t, s.Notes)
				require.NotNil(t, s.Timestamp)
				assert.True(t, s.Timestamp.Equal(lfx.stamp), "timestamp %v, want %v", s.Timestamp, lfx.stamp)
				assert.Equal(t, time.UTC, s.Timestamp.Location())
				assert.Equal(t, signers.ChainTrusted, s.Chain, s.ChainError)
				assert.Equal(t, tc.alg, s.DigestAlgorithm)
				// Adding the countersignature changed nothing else.
				o := orig.Signatures[0]
				assert.Equal(t, o.SignedDigest, s.SignedDigest)
				assert.Equal(t, o.Signer, s.Signer)
				assert.Equal(t, orig.PE, res.PE)
			}
		})
	}
}

// TestLegacyTimestampChain: with a verified legacy timestamp the signer's chain is judged at
// the countersignature's time, provided the TSA's own chain is trusted then.
func TestLegacyTimestampChain(t *testing.T) {
	needLegacy(t)
	v := NewWithoutSystemRoots()
	require.True(t, lfx.expiredLeaf.Cert.NotAfter.Before(time.Now()), "the leaf must have expired by the real clock")
	later := time.Now().AddDate(3, 0, 0) // after fx.rsaLeaf expires, before the CA and TSA do
	cases := []struct {
		name    string
		path    func() string
		opts    signers.Options
		stamp   func() *time.Time
		chain   signers.Chain
		errLike string
	}{
		{"expired leaf, no timestamp", func() string { return lfx.expiredPlain }, signers.Options{Roots: fx.ca.Pool()}, nil, signers.ChainUntrusted, "certificate has expired or is not yet valid"},
		{"expired leaf, legacy timestamp while valid", func() string { return lfx.expiredStamped }, signers.Options{Roots: fx.ca.Pool()}, func() *time.Time { return &lfx.expiredStamp }, signers.ChainTrusted, ""},
		{"expired leaf, legacy timestamp after expiry", func() string { return lfx.expiredLate }, signers.Options{Roots: fx.ca.Pool()}, nil, signers.ChainUntrusted, "certificate has expired or is not yet valid"},
		// The TSA chains to a root nobody trusts: the timestamp cannot vouch for the time, the
		// chain is judged now (expired), and the TSA's error is reported.
		{"expired leaf, legacy timestamp by an untrusted TSA", func() string { return lfx.expiredOtherTSA }, signers.Options{Roots: fx.ca.Pool()}, func() *time.Time { return &lfx.expiredStamp }, signers.ChainUnknownRoot, "timestamp: x509: certificate signed by unknown authority"},
		// Both roots trusted: the same file is trusted again.
		{"expired leaf, legacy timestamp by a TSA under a second trusted root", func() string { return lfx.expiredOtherTSA }, signers.Options{Roots: bothRoots()}, func() *time.Time { return &lfx.expiredStamp }, signers.ChainTrusted, ""},
		{"legacy timestamp, checked three years later", func() string { return lfx.rsa64 }, signers.Options{Roots: fx.ca.Pool(), Now: later}, func() *time.Time { return &lfx.stamp }, signers.ChainTrusted, ""},
		{"no timestamp, checked three years later", func() string { return fx.rsa64 }, signers.Options{Roots: fx.ca.Pool(), Now: later}, nil, signers.ChainUntrusted, "certificate has expired or is not yet valid"},
		{"legacy timestamp, no roots", func() string { return lfx.rsa64 }, signers.Options{}, func() *time.Time { return &lfx.stamp }, signers.ChainUnknownRoot, "x509: certificate signed by unknown authority"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, _ := verifyFile(t, v, tc.path(), tc.opts, false)
			require.Len(t, res.Signatures, 1)
			s := res.Signatures[0]
			// Chain status never changes signature validity.
			assert.Equal(t, signers.StatusValid, s.Status, s.Error)
			assert.Equal(t, tc.chain, s.Chain, s.ChainError)
			if tc.errLike == "" {
				assert.Empty(t, s.ChainError)
			} else {
				assert.Contains(t, s.ChainError, tc.errLike)
			}
			if tc.name == "expired leaf, legacy timestamp after expiry" {
				// Verified, so reported, even though it does not help the chain.
				require.NotNil(t, s.Timestamp)
				assert.True(t, s.Timestamp.After(lfx.expiredLeaf.Cert.NotAfter))
				return
			}
			if tc.stamp == nil {
				assert.Nil(t, s.Timestamp)
			} else {
				require.NotNil(t, s.Timestamp)
				assert.True(t, s.Timestamp.Equal(*tc.stamp()), "timestamp %v, want %v", s.Timestamp, *tc.stamp())
			}
		})
	}
}

func bothRoots() *x509.CertPool {
	p := fx.ca.Pool()
	p.AddCert(lfx.otherCA.Cert)
	return p
}

var osslTimestampRE = regexp.MustCompile(`(?m)^\s*Timestamp time: (.+)$`)

// osslVerify runs `osslsigncode verify` trusting the fixture CA for both chains.
func osslVerify(t *testing.T, path string) (string, error) {
	t.Helper()
	needTool(t, "osslsigncode")
	return run(t, "osslsigncode", "verify", "-in", path, "-CAfile", fx.caPEM, "-TSA-CAfile", fx.caPEM)
}

// osslTime formats t the way osslsigncode prints ASN.1 times (OpenSSL ASN1_TIME_print).
func osslTime(t time.Time) string { return t.UTC().Format("Jan _2 15:04:05 2006 GMT") }

// TestLegacyTimestampOsslsigncode: osslsigncode verifies the fixtures and prints the same
// countersignature time; it checks the expired leaf's chain at that time too.
func TestLegacyTimestampOsslsigncode(t *testing.T) {
	needLegacy(t)
	needTool(t, "osslsigncode")
	for _, tc := range []struct {
		path  string
		stamp time.Time
	}{{lfx.rsa64, lfx.stamp}, {lfx.sha1, lfx.stamp}, {lfx.expiredStamped, lfx.expiredStamp}} {
		t.Run(filepath.Base(tc.path), func(t *testing.T) {
			out, err := osslVerify(t, tc.path)
			require.NoError(t, err, out)
			assert.Contains(t, out, "Timestamp Server Signature verification: ok")
			assert.Contains(t, out, "Signature verification: ok")
			assert.Contains(t, out, "Signature verification time: "+osslTime(tc.stamp))
			m := osslTimestampRE.FindAllStringSubmatch(out, -1)
			require.Len(t, m, 1, out)
			assert.Equal(t, osslTime(tc.stamp), m[0][1])
			res, _ := verifyFile(t, NewWithoutSystemRoots(), tc.path, signers.Options{Roots: fx.ca.Pool()}, false)
			require.Len(t, res.Signatures, 1)
			require.NotNil(t, res.Signatures[0].Timestamp)
			assert.Equal(t, m[0][1], osslTime(*res.Signatures[0].Timestamp))
			assert.Equal(t, osslDigests(t, tc.path, fx.caPEM), []string{res.Signatures[0].SignedDigest})
		})
	}
	// Without the timestamp osslsigncode, like this package, rejects the expired leaf.
	out, err := osslVerify(t, lfx.expiredPlain)
	assert.Error(t, err, out)
	assert.Contains(t, out, "certificate has expired")
}

// TestLegacyTimestampOsslsigncodeAdd: osslsigncode embeds the countersignature itself
// (`osslsigncode add -t URL`, the legacy Authenticode timestamp protocol: a base64
// TimeStampRequest posted, a base64 PKCS#7 SignedData back) from an in-test TSA. The
// verifier reads that file the same way, and the countersignature osslsigncode embedded is
// byte for byte the one PEAddLegacyTimestamp embeds (RSA PKCS#1 v1.5 is deterministic).
func TestLegacyTimestampOsslsigncodeAdd(t *testing.T) {
	needLegacy(t)
	needTool(t, "osslsigncode")
	srv := httptest.NewServer(&testfixtures.LegacyTSA{TSA: fx.tsa, Time: lfx.stamp})
	defer srv.Close()
	out := filepath.Join(t.TempDir(), "ossl-legacy.exe")
	msg, err := run(t, "osslsigncode", "add", "-t", srv.URL, "-in", fx.rsa64, "-out", out)
	require.NoError(t, err, msg)
	require.Contains(t, msg, "Succeeded")

	res, _ := verifyFile(t, NewWithoutSystemRoots(), out, signers.Options{Roots: fx.ca.Pool()}, true)
	assert.Equal(t, signers.StatusValid, res.Status)
	require.Len(t, res.Signatures, 1)
	s := res.Signatures[0]
	assert.Equal(t, signers.StatusValid, s.Status, s.Error)
	require.NotNil(t, s.Timestamp)
	assert.True(t, s.Timestamp.Equal(lfx.stamp), "timestamp %v, want %v", s.Timestamp, lfx.stamp)
	assert.Equal(t, signers.ChainTrusted, s.Chain, s.ChainError)

	ours, _ := verifyFile(t, NewWithoutSystemRoots(), lfx.rsa64, signers.Options{Roots: fx.ca.Pool()}, false)
	assert.Equal(t, ours.Signatures, res.Signatures)
	_, attrOssl, _ := legacyCounterSignature(t, readFile(t, out))
	_, attrOurs, _ := legacyCounterSignature(t, readFile(t, lfx.rsa64))
	assert.Equal(t, attrOurs.Values.FullBytes, attrOssl.Values.FullBytes, "countersignature attribute differs from osslsigncode's embedding")

	vout, err := osslVerify(t, out)
	require.NoError(t, err, vout)
	assert.Contains(t, vout, "Timestamp time: "+osslTime(lfx.stamp))
}

// legacyTamperSites locates, in a legacy-timestamped file, bytes of the countersignature.
func legacyTamperSites(t *testing.T, b []byte) map[string]int {
	t.Helper()
	_, _, cs := legacyCounterSignature(t, b)
	find := func(what string, needle []byte) int {
		require.Equal(t, 1, bytes.Count(b, needle), "%s must occur once", what)
		return bytes.Index(b, needle)
	}
	var md []byte
	require.NoError(t, cs.AuthenticatedAttributes.GetOne(pkcs7.OidAttributeMessageDigest, &md))
	utc, err := asn1.Marshal(lfx.stamp) // UTCTime, as written
	require.NoError(t, err)
	serial := cs.IssuerAndSerialNumber.SerialNumber.Bytes()
	require.Equal(t, 2, bytes.Count(b, serial), "TSA serial: in its certificate and in the countersignature")
	return map[string]int{
		"countersignature signature":     find("countersignature", cs.EncryptedDigest) + len(cs.EncryptedDigest)/2,
		"countersignature signingTime":   find("signingTime", utc) + len(utc) - 2, // last seconds digit
		"countersignature messageDigest": find("messageDigest", md) + 3,
		"countersignature issuer serial": bytes.LastIndex(b, serial) + len(serial) - 1,
	}
}

// TestLegacyTimestampTamper: a flipped byte in the countersignature makes the timestamp fail
// to verify, which makes the signature invalid (verify.go: "timestamp does not verify"), with
// no timestamp reported; osslsigncode rejects the same files.
func TestLegacyTimestampTamper(t *testing.T) {
	needLegacy(t)
	v := NewWithoutSystemRoots()
	orig := readFile(t, lfx.rsa64)
	sites := legacyTamperSites(t, orig)
	want := map[string]string{
		"countersignature signature":     "timestamp does not verify: crypto/rsa: verification error",
		"countersignature signingTime":   "timestamp does not verify: crypto/rsa: verification error",
		"countersignature messageDigest": "timestamp does not verify: pkcs7: content digest does not match",
		"countersignature issuer serial": "timestamp does not verify: certificate missing from signedData: serial=",
	}
	for name, off := range sites {
		t.Run(name, func(t *testing.T) {
			b := append([]byte(nil), orig...)
			if name == "countersignature signingTime" {
				b[off] ^= 0x01 // one second later or earlier: still a valid UTCTime
				_, _, cs := legacyCounterSignature(t, b)
				got, err := cs.SigningTime()
				require.NoError(t, err)
				require.Equal(t, time.Second, got.Sub(lfx.stamp).Abs())
			} else {
				b[off] ^= 0x40
			}
			for _, opts := range []signers.Options{{Roots: fx.ca.Pool()}, {Roots: fx.ca.Pool(), Now: time.Now().AddDate(3, 0, 0)}} {
				res, err := verifyBytes(t, v, b, opts)
				require.NoError(t, err)
				assert.Equal(t, signers.StatusInvalid, res.Status)
				require.Len(t, res.Signatures, 1)
				s := res.Signatures[0]
				assert.Equal(t, signers.StatusInvalid, s.Status)
				assert.Nil(t, s.Timestamp, "an unverified timestamp is not reported")
				if name == "countersignature issuer serial" {
					assert.Regexp(t, "^"+regexp.QuoteMeta(want[name])+"[0-9a-f]+ issuer: CN=Fixture Root CA, O=Fixture Trust$", s.Error)
				} else {
					assert.Equal(t, want[name], s.Error)
				}
				// The primary signature is untouched: signer and signed digest still reported.
				assert.Equal(t, "Fixture RSA Signer", s.Signer.CommonName)
				assert.NotEmpty(t, s.SignedDigest)
			}
			if lookTool("osslsigncode") == "" && os.Getenv("CI") != "true" {
				return
			}
			// osslsigncode rejects the timestamp too, but its policy differs: it drops the
			// timestamp and judges the signature alone, at the current time (no "Signature
			// verification time" line, which it prints when a timestamp vouches for the time).
			p := filepath.Join(t.TempDir(), "tampered.exe")
			require.NoError(t, os.WriteFile(p, b, 0o600))
			out, err := osslVerify(t, p)
			assert.NoError(t, err, out)
			assert.Contains(t, out, "Timestamp Server Signature verification: failed")
			assert.NotContains(t, out, "Timestamp Server Signature verification: ok")
			assert.NotContains(t, out, "Signature verification time:")
			assert.Contains(t, out, "Signature verification: ok")
		})
	}
}

// TestLegacyTimestampTamperExpired: the expired leaf's file with its countersignature's
// signature flipped. Here both verdicts say no: this package reports the signature invalid,
// and osslsigncode, judging the chain at the current time without the timestamp, fails on
// the expired leaf (it accepted the untampered file: TestLegacyTimestampOsslsigncode).
func TestLegacyTimestampTamperExpired(t *testing.T) {
	needLegacy(t)
	b := readFile(t, lfx.expiredStamped)
	_, _, cs := legacyCounterSignature(t, b)
	require.Equal(t, 1, bytes.Count(b, cs.EncryptedDigest))
	b[bytes.Index(b, cs.EncryptedDigest)+7] ^= 0x40
	res, err := verifyBytes(t, NewWithoutSystemRoots(), b, signers.Options{Roots: fx.ca.Pool()})
	require.NoError(t, err)
	require.Len(t, res.Signatures, 1)
	s := res.Signatures[0]
	assert.Equal(t, signers.StatusInvalid, s.Status)
	assert.Equal(t, "timestamp does not verify: crypto/rsa: verification error", s.Error)
	assert.Nil(t, s.Timestamp)
	assert.Equal(t, signers.ChainUntrusted, s.Chain)
	assert.Contains(t, s.ChainError, "certificate has expired or is not yet valid")

	needTool(t, "osslsigncode")
	p := filepath.Join(t.TempDir(), "tampered-expired.exe")
	require.NoError(t, os.WriteFile(p, b, 0o600))
	out, err := osslVerify(t, p)
	assert.Error(t, err, out)
	assert.Contains(t, out, "Timestamp Server Signature verification: failed")
	assert.Contains(t, out, "certificate has expired")
	assert.NotContains(t, out, "Succeeded")
}

// TestLegacyTimestampSweep flips every byte of the counterSignature attribute: each flip is
// either detected (the file is invalid or malformed) or leaves nothing stronger than the
// original evidence (requireNoStrongerEvidence: e.g. a flipped attribute OID turns the
// countersignature into an ignored unknown attribute and the timestamp disappears). Exactly
// four flips go unnoticed, in fields no signature covers and nothing reads (known limit,
// like the envelope fields of RFC 3161 tokens in TestTamperSweep): the attribute's SET tag
// (relic reads the values without checking it), the countersignature's version (1 → 0; relic
// ignores it, unlike checkStructure for the primary) and the NULL parameters of its two
// algorithm identifiers (05 → 04, an empty OCTET STRING; RSA PKCS#1 v1.5 verification takes
// the hash from the OID).
func TestLegacyTimestampSweep(t *testing.T) {
	needLegacy(t)
	v := NewWithoutSystemRoots()
	orig := readFile(t, lfx.rsa64)
	base, err := verifyBytes(t, v, orig, signers.Options{Roots: fx.ca.Pool()})
	require.NoError(t, err)
	require.NotNil(t, base.Signatures[0].Timestamp)
	_, attr, cs := legacyCounterSignature(t, orig)
	raw, err := asn1.Marshal(attr)
	require.NoError(t, err)
	require.Equal(t, 1, bytes.Count(orig, raw))
	start := bytes.Index(orig, raw)

	// The positions, within raw, of the fields that are known not to matter.
	at := func(what string, needle []byte) int {
		require.Equal(t, 1, bytes.Count(raw, needle), what)
		return bytes.Index(raw, needle)
	}
	setTag := at("values", attr.Values.FullBytes)
	si := at("SignerInfo", cs.RawContent)
	var seq asn1.RawValue
	_, err = asn1.Unmarshal(cs.RawContent, &seq)
	require.NoError(t, err)
	version := si + len(seq.FullBytes) - len(seq.Bytes) + 2 // INTEGER 02 01 <01>
	require.Equal(t, []byte{2, 1, 1}, raw[version-2:version+1])
	digAlg, err := asn1.Marshal(cs.DigestAlgorithm)
	require.NoError(t, err)
	sigAlg, err := asn1.Marshal(cs.DigestEncryptionAlgorithm)
	require.NoError(t, err)
	nullDig := at("digestAlgorithm", digAlg) + len(digAlg) - 2
	nullSig := at("digestEncryptionAlgorithm", sigAlg) + len(sigAlg) - 2
	require.Equal(t, []byte{5, 0}, raw[nullDig:nullDig+2])
	require.Equal(t, []byte{5, 0}, raw[nullSig:nullSig+2])
	knownLimit := []int{setTag, version, nullDig, nullSig}

	var unnoticed []int
	detected, weaker := 0, 0
	for off := start; off < start+len(raw); off++ {
		b := append([]byte(nil), orig...)
		b[off] ^= 0x01
		res, err := verifyBytes(t, v, b, signers.Options{Roots: fx.ca.Pool()})
		if err != nil || signers.Aggregate(res.Signatures) == signers.StatusInvalid {
			detected++
			continue
		}
		what := fmt.Sprintf("countersignature attribute byte %d of %d", off-start, len(raw))
		requireNoStrongerEvidence(t, base, res, what)
		if assert.ObjectsAreEqual(base, res) {
			unnoticed = append(unnoticed, off-start)
			if os.Getenv("DEBUG_SWEEP") != "" {
				j, _ := json.Marshal(res.Signatures)
				t.Logf("%s: flip unnoticed: %s", what, j)
			}
		} else {
			weaker++
			// The only way to stay valid with a changed report: the timestamp is gone.
			require.Nil(t, res.Signatures[0].Timestamp, what)
		}
	}
	t.Logf("%d bytes: %d flips detected, %d dropped the timestamp, %d unnoticed (at %v)", len(raw), detected, weaker, len(unnoticed), unnoticed)
	assert.Equal(t, knownLimit, unnoticed)
}
