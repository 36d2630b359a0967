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
		return s
	}
	cases := []struct {
		name string
		ts   []*time.Time // one file per entry
		want bool
	}{
		{"one file stamped inside validity", []*time.Time{at(2020, 1)}, true},
		{"two files stamped inside validity", []*time.Time{at(2020, 1), at(2025, 6)}, true},
		{"one of two files not stamped", []*time.Time{at(2020, 1), nil}, false},
		{"stamped before the certificate was valid", []*time.Time{at(2018, 1)}, false},
		{"not stamped", []*time.Time{nil}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			inv := &Inventory{SchemaVersion: 1}
			for i, ts := range c.ts {
				inv.Files = append(inv.Files, peFile("/tmp/inst", string(rune('a'+i))+".exe", h(byte('a'+i)), signers.StatusValid, sig(ts)))
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
	// After the certificate expired (generate on 2031-01-01) a signer rule still comes only
	// from files stamped while it was valid, and records it.
	opts := winOpts(t, CriterionSigner)
	opts.PinSigners, opts.Now = []string{cert.ThumbprintSHA1}, time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
	pol, err := Decide(&Inventory{SchemaVersion: 1, Files: []FileEvidence{peFile("/tmp/inst", "a.exe", h('a'), signers.StatusValid, sig(at(2020, 1)))}}, opts)
	require.NoError(t, err)
	for _, r := range pol.Rules {
		if r.Criterion == CriterionSigner {
			assert.True(t, r.Timestamped)
		}
	}
}
