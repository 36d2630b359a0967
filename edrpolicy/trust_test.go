package edrpolicy

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

// trustCase is one signature shape: what Decide does with it at level signer, and, with the
// same judgement, whether Check counts a signer rule naming its signer as covering it.
type trustCase struct {
	name string
	os   profile.OS // windows or mac
	file FileEvidence
	pins []string
	// signer is true when Decide gives a signer rule; then value and team are that rule's
	// value and team_id, and narrowed says whether it is narrowed to the file.
	signer      bool
	value, team string
	narrowed    bool
	// reasonHas are parts of the rule's reason; warns are warning codes Decide must give.
	reasonHas []string
	warns     []WarningCode
}

const (
	expectedTeam = "9YV9435DHD" // the profile's expected Team ID for Code42 10.x (era code42)
	devIDExt     = "1.2.840.113635.100.6.1.13"
)

func cert(name, sha1 string, mutate ...func(*signers.Certificate)) *signers.Certificate {
	c := leaf(name, sha1, testNow.AddDate(2, 0, 0))
	for _, m := range mutate {
		m(c)
	}
	return c
}

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func stamped(s signers.Signature, at string, tsa signers.Chain) signers.Signature {
	t := day(at)
	s.Timestamp, s.TimestampChain = &t, tsa
	return s
}

func weak(s signers.Signature, what string) signers.Signature {
	s.WeakDigest = what
	if strings.HasPrefix(what, "sha1") {
		s.DigestAlgorithm = "sha1"
	}
	return s
}

// macSig is an Apple signature: CD team, leaf OUs and extensions, chain and anchor as given.
func macSig(cdTeam string, c *signers.Certificate, chain signers.Chain, anchor signers.Anchor) signers.Signature {
	return signers.Signature{Kind: signers.KindApple, Status: signers.StatusValid, Chain: chain, Anchor: anchor,
		TeamID: cdTeam, SigningID: "com.code42.app", Signer: c, DigestAlgorithm: "sha256"}
}

func devID(ous ...string) func(*signers.Certificate) {
	return func(c *signers.Certificate) {
		c.OrganizationalUnits = ous
		c.AppleExtensions = []string{devIDExt}
	}
}

func pe1(sigs ...signers.Signature) FileEvidence {
	return peFile("/r", "app.exe", h('1'), signers.StatusValid, sigs...)
}

func mac1(sigs ...signers.Signature) FileEvidence {
	return machoFile("/r", "Code42.app/Contents/MacOS/Code42", h('2'), signers.StatusValid, sigs...)
}

var (
	thumbA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	thumbB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
)

func trustCases() []trustCase {
	good := cert("Vendor", thumbA)
	noEKU := cert("Vendor", thumbA, func(c *signers.Certificate) { c.ExtKeyUsage = nil })
	tlsEKU := cert("Vendor", thumbA, func(c *signers.Certificate) { c.ExtKeyUsage = []string{"server-auth", "client-auth"} })
	keyEnc := cert("Vendor", thumbA, func(c *signers.Certificate) { c.KeyUsage = []string{"key-encipherment"} })
	expired := cert("Vendor", thumbA, func(c *signers.Certificate) {
		c.NotBefore, c.NotAfter = day("2024-01-01"), day("2025-06-01")
	})
	future := cert("Vendor", thumbA, func(c *signers.Certificate) {
		c.NotBefore, c.NotAfter = day("2026-06-01"), day("2028-01-01")
	})
	other := cert("Other", thumbB)
	unknown, trusted, untrusted := signers.ChainUnknownRoot, signers.ChainTrusted, signers.ChainUntrusted
	pin := []string{thumbA}
	auth := func(c *signers.Certificate, chain signers.Chain) signers.Signature {
		return authSig(c, signers.StatusValid, chain, false)
	}
	nested := func(s signers.Signature) signers.Signature { s.Nested = true; return s }
	anchored := func(c *signers.Certificate) signers.Signature {
		return macSig(expectedTeam, c, trusted, signers.AnchorApple)
	}
	underRoots := func(c *signers.Certificate) signers.Signature {
		return macSig(expectedTeam, c, trusted, signers.AnchorRoots)
	}
	return []trustCase{
		// Item 10, Windows: a thumbprint pin replaces the chain to a trusted root, nothing else.
		{name: "pinned leaf", os: "windows", file: pe1(auth(good, unknown)), pins: pin, signer: true, value: thumbA, reasonHas: []string{"leaf certificate pinned by its thumbprint"}},
		{name: "pinned by SHA-256 thumbprint", os: "windows", file: pe1(auth(good, unknown)), pins: []string{good.ThumbprintSHA256}, signer: true, value: thumbA},
		{name: "pinned leaf without EKU", os: "windows", file: pe1(auth(noEKU, unknown)), pins: pin,
			reasonHas: []string{"the leaf certificate has no extended key usage", "pinning replaces only the chain to a trusted root"}},
		{name: "pinned leaf with TLS EKUs", os: "windows", file: pe1(auth(tlsEKU, unknown)), pins: pin,
			reasonHas: []string{"extended key usage (server-auth, client-auth) does not include code signing"}},
		{name: "pinned leaf whose key usage forbids signatures", os: "windows", file: pe1(auth(keyEnc, unknown)), pins: pin,
			reasonHas: []string{"key usage (key-encipherment) does not allow digital signatures"}},
		{name: "pinned leaf expired, no timestamp", os: "windows", file: pe1(auth(expired, unknown)), pins: pin,
			reasonHas: []string{"the leaf certificate expired on 2025-06-01 and the signature carries no timestamp"}},
		{name: "pinned leaf expired, trusted timestamp inside its validity", os: "windows", file: pe1(stamped(auth(expired, unknown), "2025-01-15", trusted)), pins: pin, signer: true, value: thumbA},
		{name: "pinned leaf expired, timestamp from an unknown TSA", os: "windows", file: pe1(stamped(auth(expired, unknown), "2025-01-15", unknown)), pins: pin,
			reasonHas: []string{"expired on 2025-06-01 and its timestamp (2025-01-15) is not from a trusted time-stamping authority (timestamp chain unknown-root)"}},
		{name: "pinned leaf timestamped after it expired", os: "windows", file: pe1(stamped(auth(expired, unknown), "2025-07-01", trusted)), pins: pin,
			reasonHas: []string{"timestamped on 2025-07-01, after the leaf certificate expired on 2025-06-01"}},
		{name: "pinned leaf timestamped before its validity", os: "windows", file: pe1(stamped(auth(expired, unknown), "2023-12-01", trusted)), pins: pin,
			reasonHas: []string{"timestamped on 2023-12-01, before the leaf certificate's validity began on 2024-01-01"}},
		{name: "pinned leaf not yet valid", os: "windows", file: pe1(auth(future, unknown)), pins: pin,
			reasonHas: []string{"the leaf certificate is not valid before 2026-06-01 (checked on 2026-01-01)"}},
		{name: "trusted chain, leaf with TLS EKUs", os: "windows", file: pe1(auth(tlsEKU, trusted)),
			reasonHas: []string{"does not include code signing"}},
		// Item 11 as Decide sees it: no pin, no trust; the reason names the failure, no flag.
		{name: "unknown root, not pinned", os: "windows", file: pe1(auth(good, unknown)),
			reasonHas: []string{"signer chain unknown-root", "leaf certificate (SHA-1 thumbprint " + thumbA + ") is not pinned"}},
		{name: "forged certificate", os: "windows", file: pe1(func() signers.Signature {
			s := auth(good, untrusted)
			s.ChainError = `the issuer's signature on certificate "Vendor" does not verify (forged or altered certificate)`
			return s
		}()), reasonHas: []string{"signer chain untrusted: the issuer's signature on certificate \"Vendor\" does not verify"}},
		// Item 15, Windows.
		{name: "sha1 signature, trusted chain", os: "windows", file: pe1(weak(auth(good, trusted), "sha1 image digest, sha1 signer digest")),
			reasonHas: []string{"weak digest (sha1 image digest, sha1 signer digest)", "the signer is not pinned"}, warns: []WarningCode{"weak-digest"}},
		{name: "md5 signature, trusted chain", os: "windows", file: pe1(weak(auth(good, trusted), "md5 image digest, md5 signer digest")),
			reasonHas: []string{"weak digest (md5 image digest"}, warns: []WarningCode{"weak-digest"}},
		{name: "sha1 signature, pinned", os: "windows", file: pe1(weak(auth(good, unknown), "sha1 image digest, sha1 signer digest")), pins: pin, signer: true, value: thumbA,
			reasonHas: []string{"weak digest (sha1 image digest, sha1 signer digest) accepted only because the signer is pinned"}, warns: []WarningCode{"weak-digest"}},
		{name: "dual-signed: sha1 primary and sha256 nested, both trusted", os: "windows",
			file: pe1(weak(auth(good, trusted), "sha1 image digest, sha1 signer digest"), nested(auth(other, trusted))), signer: true, value: thumbB, narrowed: true,
			reasonHas: []string{"chain trusted to a root of this machine's trust store"}, warns: []WarningCode{"weak-digest"}},
		{name: "dual-signed: sha1 primary pinned, sha256 nested unknown", os: "windows",
			file: pe1(weak(auth(good, unknown), "sha1 image digest"), nested(auth(other, unknown))), pins: pin, signer: true, value: thumbA,
			reasonHas: []string{"accepted only because the signer is pinned"}, warns: []WarningCode{"weak-digest"}},
		{name: "dual-signed: neither counts", os: "windows",
			file:      pe1(weak(auth(good, trusted), "sha1 image digest"), nested(auth(other, unknown))),
			reasonHas: []string{"nested signature (sha256): signer chain unknown-root", "primary signature (sha1): weak digest (sha1 image digest)"}, warns: []WarningCode{"weak-digest"}},

		// Item 9, macOS: the Team ID comes from a certificate that chains to Apple's root.
		{name: "Developer ID under Apple's root, expected team", os: "mac", file: mac1(anchored(cert("Dev", thumbA, devID(expectedTeam)))), signer: true, value: expectedTeam, team: expectedTeam,
			reasonHas: []string{"chain trusted to Apple's root CA"}},
		{name: "impostor under a --roots CA claiming the expected team", os: "mac", file: mac1(underRoots(cert("Dev", thumbA, devID(expectedTeam)))), signer: true, value: thumbA, narrowed: true,
			reasonHas: []string{"the rule names the leaf certificate, not a Team ID: the leaf certificate does not chain to Apple's root CA; chain trusted to a root supplied as trusted for this run"},
			warns:     []WarningCode{"team-id-unproven"}},
		{name: "impostor under --roots with the expected team pinned", os: "mac", file: mac1(underRoots(cert("Dev", thumbA, devID(expectedTeam)))), pins: []string{expectedTeam}, signer: true, value: thumbA, narrowed: true,
			warns: []WarningCode{"team-id-unproven"}},
		{name: "impostor under --roots, leaf pinned", os: "mac", file: mac1(underRoots(cert("Dev", thumbA, devID(expectedTeam)))), pins: pin, signer: true, value: thumbA,
			reasonHas: []string{"leaf certificate pinned by its thumbprint"}, warns: []WarningCode{"team-id-unproven"}},
		{name: "Apple root, no OU", os: "mac", file: mac1(anchored(cert("Dev", thumbA, devID()))), signer: true, value: thumbA, narrowed: true,
			reasonHas: []string{"the leaf certificate has no subject OU"}, warns: []WarningCode{"team-id-unproven"}},
		{name: "Apple root, Team ID in UID only", os: "mac", file: mac1(anchored(cert("Dev", thumbA, devID(), func(c *signers.Certificate) { c.UID = expectedTeam }))), signer: true, value: thumbA, narrowed: true,
			reasonHas: []string{`its UID attribute "9YV9435DHD" is not where Apple reads the Team ID`}, warns: []WarningCode{"team-id-unproven"}},
		{name: "Apple root, two OUs", os: "mac", file: mac1(anchored(cert("Dev", thumbA, devID(expectedTeam, "EVILTEAM01")))), signer: true, value: thumbA, narrowed: true,
			reasonHas: []string{"2 subject OUs"}, warns: []WarningCode{"team-id-unproven"}},
		{name: "Apple root, OU without the Apple extension", os: "mac", file: mac1(anchored(cert("Dev", thumbA, func(c *signers.Certificate) { c.OrganizationalUnits = []string{expectedTeam} }))), signer: true, value: thumbA, narrowed: true,
			reasonHas: []string{"not backed by an Apple code-signing extension"}, warns: []WarningCode{"team-id-unproven"}},
		{name: "OU differs from the CodeDirectory's team", os: "mac", file: mac1(anchored(cert("Dev", thumbA, func(c *signers.Certificate) { c.OrganizationalUnits = []string{"EVILTEAM01"} }))),
			reasonHas: []string{`the CodeDirectory's Team ID "9YV9435DHD" differs from the leaf certificate's OU "EVILTEAM01"`}, warns: []WarningCode{"team-id-unproven"}},
		{name: "Apple extension under a non-Apple root, chain unknown", os: "mac", file: mac1(macSig(expectedTeam, cert("Dev", thumbA, devID(expectedTeam)), unknown, "")), pins: []string{expectedTeam},
			reasonHas: []string{"signer chain unknown-root"}},
		// Item 10, macOS: a Team ID pin on a proven team does not excuse the leaf.
		{name: "team pinned, leaf expired without timestamp", os: "mac", file: mac1(anchored(cert("Dev", thumbA, devID(expectedTeam), func(c *signers.Certificate) {
			c.NotBefore, c.NotAfter = day("2024-01-01"), day("2025-06-01")
		}))), pins: []string{expectedTeam}, reasonHas: []string{"expired on 2025-06-01 and the signature carries no timestamp", "pinning replaces only the chain"}},
		{name: "team pinned, leaf without code-signing EKU", os: "mac", file: mac1(anchored(cert("Dev", thumbA, devID(expectedTeam), func(c *signers.Certificate) { c.ExtKeyUsage = []string{"email-protection"} }))), pins: []string{expectedTeam},
			reasonHas: []string{"extended key usage (email-protection) does not include code signing"}},
		{name: "team pinned, trusted timestamp inside validity", os: "mac", file: mac1(stamped(macSig("OTHERTEAM1", cert("Dev", thumbA, devID("OTHERTEAM1"), func(c *signers.Certificate) {
			c.NotBefore, c.NotAfter = day("2024-01-01"), day("2025-06-01")
		}), trusted, signers.AnchorApple), "2025-02-01", trusted)), pins: []string{"OTHERTEAM1"}, signer: true, value: "OTHERTEAM1", team: "OTHERTEAM1",
			reasonHas: []string{"Team ID pinned"}},
		// Item 15, macOS.
		{name: "SHA-1-only CodeDirectory under Apple's root", os: "mac", file: mac1(weak(anchored(cert("Dev", thumbA, devID(expectedTeam))), "sha1 CodeDirectory (no SHA-256 CodeDirectory)")),
			reasonHas: []string{"weak digest (sha1 CodeDirectory"}, warns: []WarningCode{"weak-digest"}},
		{name: "SHA-1-only CodeDirectory, team pinned", os: "mac", file: mac1(weak(anchored(cert("Dev", thumbA, devID(expectedTeam))), "sha1 CodeDirectory (no SHA-256 CodeDirectory)")), pins: []string{expectedTeam},
			signer: true, value: expectedTeam, team: expectedTeam, warns: []WarningCode{"weak-digest"}},
		{name: "universal file, slices by different leaves under --roots", os: "mac",
			file:      mac1(underRoots(cert("Dev", thumbA, devID(expectedTeam))), underRoots(cert("Dev", thumbB, devID(expectedTeam)))),
			reasonHas: []string{"slices signed by different signers (certificate " + thumbA + ", certificate " + thumbB + ")"}},
	}
}

func trustOpts(t *testing.T, c trustCase) DecideOptions {
	o := DecideOptions{Profile: code42(t), OS: c.os, Version: "10.0", Product: "crashplan", NoScanExclusions: true, Level: CriterionSigner, Now: testNow, PinSigners: c.pins}
	return o
}

// TestSignerTrustFamilies runs every shape through Decide and, with the resulting policy's
// pins, through Check's matching: Check counts a signer rule as covering the file exactly when
// Decide gave the file a signer rule, and never through a rule Decide would not make.
func TestSignerTrustFamilies(t *testing.T) {
	for _, tc := range trustCases() {
		t.Run(tc.name, func(t *testing.T) {
			f := tc.file
			pol, err := Decide(&Inventory{Files: []FileEvidence{f}}, trustOpts(t, tc))
			require.NoError(t, err)
			require.Len(t, pol.Rules, 1, "one executable, level signer, no scan exclusions for this product")
			r := pol.Rules[0]
			for _, part := range tc.reasonHas {
				assert.Contains(t, r.Reason, part)
			}
			assert.NotContains(t, r.Reason, "--", "a reason names no command-line flag")
			for _, w := range tc.warns {
				assert.Contains(t, warningCodes(pol), w)
			}
			if !tc.signer {
				assert.Equal(t, CriterionHash, r.Criterion, r.Reason)
			} else {
				require.Equal(t, CriterionSigner, r.Criterion, r.Reason)
				assert.Equal(t, tc.value, r.Value)
				assert.Equal(t, tc.team, r.TeamID)
				assert.Equal(t, tc.narrowed, r.FileName != "" || r.SigningID != "", "narrowed")
			}

			// Check with the policy's own rules: covered by signer exactly when Decide said so.
			in := NewInstall(&Inventory{}, pol.PinnedSigners, testNow)
			assert.Equal(t, tc.signer, r.Criterion == CriterionSigner && CheckSignerRuleAllows(&r, in, &f))
			// Check with signer rules for every identity the file's signatures claim (each
			// leaf thumbprint, each Team ID in a CodeDirectory or an OU), broad and narrowed:
			// one covers the file only when Decide would have made that very rule.
			for _, claim := range claimedRules(f) {
				got := CheckSignerRuleAllows(&claim, in, &f)
				want := tc.signer && (claim.Value == tc.value || claim.TeamID == "" && claimMatchesLeaf(claim, f, tc.value))
				assert.Equal(t, want, got, "rule %s (team %q)", claim.Value, claim.TeamID)
			}
		})
	}
}

// claimedRules are signer rules for every identity f's signatures claim.
func claimedRules(f FileEvidence) []Rule {
	var out []Rule
	seen := map[string]bool{}
	add := func(r Rule) {
		k := r.Value + "|" + r.TeamID
		if !seen[k] {
			seen[k] = true
			out = append(out, r)
		}
	}
	for _, s := range f.Signatures {
		if s.Signer != nil {
			add(Rule{Criterion: CriterionSigner, Value: s.Signer.ThumbprintSHA1})
			add(Rule{Criterion: CriterionSigner, Value: s.Signer.ThumbprintSHA256})
			for _, ou := range s.Signer.OrganizationalUnits {
				add(Rule{Criterion: CriterionSigner, Value: ou, TeamID: ou})
			}
		}
		if s.TeamID != "" {
			add(Rule{Criterion: CriterionSigner, Value: s.TeamID, TeamID: s.TeamID})
		}
	}
	return out
}

// claimMatchesLeaf: a thumbprint rule for the leaf whose identity Decide used (by SHA-1 or
// SHA-256 thumbprint), or for the leaf behind a proven Team ID rule.
func claimMatchesLeaf(r Rule, f FileEvidence, value string) bool {
	for _, s := range f.Signatures {
		if s.Signer == nil || !strings.EqualFold(r.Value, s.Signer.ThumbprintSHA1) && !strings.EqualFold(r.Value, s.Signer.ThumbprintSHA256) {
			continue
		}
		if v, _ := ruleIdentity(&s); v == value || s.Signer.ThumbprintSHA1 == value {
			return true
		}
	}
	return false
}

// A file inside a bundle whose seal is broken is not covered by a signer rule in Check either.
func TestCheckSignerBrokenBundle(t *testing.T) {
	s := apple(expectedTeam, "com.code42.app", signers.StatusValid, signers.ChainTrusted)
	exe := machoFile("/r", "Code42.app/Contents/MacOS/Code42", h('3'), signers.StatusValid, s)
	app := FileEvidence{Path: "Code42.app", Root: "/r", Format: hashing.FormatAppBundle, SignatureStatus: signers.StatusValid,
		Bundle: &signers.BundleInfo{Modified: []string{"Contents/Resources/x"}}}
	inv := &Inventory{Files: []FileEvidence{exe, app}}
	rule := Rule{Criterion: CriterionSigner, Value: expectedTeam, TeamID: expectedTeam}
	assert.False(t, CheckSignerRuleAllows(&rule, NewInstall(inv, nil, testNow), &inv.Files[0]))
	sealed := &Inventory{Files: []FileEvidence{exe}}
	assert.True(t, CheckSignerRuleAllows(&rule, NewInstall(sealed, nil, testNow), &sealed.Files[0]))
}

// Decide records its pins, normalized, so that Check judges pinned signers the same way.
func TestPinnedSignersRecorded(t *testing.T) {
	pol, err := Decide(&Inventory{}, DecideOptions{Profile: code42(t), OS: "windows", Version: "10.0", Now: testNow,
		PinSigners: []string{"AB:CD:EF", "abcdef", " 9YV9435DHD "}})
	require.NoError(t, err)
	assert.Equal(t, []string{"9yv9435dhd", "abcdef"}, pol.PinnedSigners)
}
