package edrpolicy

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/signers"
)

// TestDecideTimestamped: a signer rule records that its signatures were timestamped inside
// the leaf's validity only when every file it covers was (check then reports an expired
// certificate as a warning).
func TestDecideTimestamped(t *testing.T) {
	// A leaf valid from 2019 to 2030: every file gets a signer rule whatever its timestamp
	// (the leaf is valid now), and the rule records whether all of them were stamped inside
	// the validity.
	cert := leaf("Stamped Vendor", "5555555555555555555555555555555555555555", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC))
	cert.NotBefore = time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	at := func(y int, m time.Month) *time.Time { t := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC); return &t }
	sig := func(ts *time.Time) signers.Signature {
		s := authSig(cert, signers.StatusValid, signers.ChainTrusted, false)
		s.Timestamp = ts
		if ts != nil {
			s.TimestampChain = signers.ChainTrusted
		}
		return s
	}
	untrustedTSA := func(ts *time.Time) signers.Signature {
		s := sig(ts)
		s.TimestampChain = signers.ChainUnknownRoot
		return s
	}
	cases := []struct {
		name string
		ts   []*time.Time // one file per entry
		want bool
		make func(*time.Time) signers.Signature
	}{
		{"one file stamped inside validity", []*time.Time{at(2020, 1)}, true, nil},
		{"two files stamped inside validity", []*time.Time{at(2020, 1), at(2025, 6)}, true, nil},
		{"one of two files not stamped", []*time.Time{at(2020, 1), nil}, false, nil},
		{"not stamped", []*time.Time{nil}, false, nil},
		{"stamped by an authority whose chain is not trusted", []*time.Time{at(2020, 1)}, false, untrustedTSA},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv := &Inventory{SchemaVersion: 1}
			for i, ts := range c.ts {
				mk := c.make
				if mk == nil {
					mk = sig
				}
				inv.Files = append(inv.Files, peFile("/tmp/inst", string(rune('a'+i))+".exe", h(byte('a'+i)), signers.StatusValid, mk(ts)))
			}
			opts := winOpts(t, CriterionSigner)
			opts.PinSigners = []string{cert.ThumbprintSHA1}
			pol, err := Decide(inv, opts)
			require.NoError(t, err)
			var signerRules []Rule
			for _, r := range pol.Rules {
				if r.Criterion == CriterionSigner {
					signerRules = append(signerRules, r)
				}
			}
			require.Len(t, signerRules, 1)
			assert.Len(t, signerRules[0].Files, len(c.ts))
			assert.Equal(t, c.want, signerRules[0].Timestamped)
		})
	}
	// Stamped (by a trusted authority) before the certificate was valid: the leaf was not
	// valid when it signed, so there is no signer rule at all.
	opts := winOpts(t, CriterionSigner)
	opts.PinSigners = []string{cert.ThumbprintSHA1}
	pol, err := Decide(&Inventory{SchemaVersion: 1, Files: []FileEvidence{peFile("/tmp/inst", "a.exe", h('a'), signers.StatusValid, sig(at(2018, 1)))}}, opts)
	require.NoError(t, err)
	for _, r := range pol.Rules {
		assert.NotEqual(t, CriterionSigner, r.Criterion)
	}

	// After the certificate expired (generate on 2031-01-01) a signer rule still comes only
	// from files stamped while it was valid, and records it.
	opts.Now = time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	pol, err = Decide(&Inventory{SchemaVersion: 1, Files: []FileEvidence{peFile("/tmp/inst", "a.exe", h('a'), signers.StatusValid, sig(at(2020, 1)))}}, opts)
	require.NoError(t, err)
	n := 0
	for _, r := range pol.Rules {
		if r.Criterion == CriterionSigner {
			n++
			assert.True(t, r.Timestamped)
		}
	}
	assert.Equal(t, 1, n, "one signer rule from the file stamped inside the validity")
}
