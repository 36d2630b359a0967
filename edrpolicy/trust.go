package edrpolicy

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/edrpolicy/edrpolicy/signers"
)

// signerJudge decides which signatures are worth a signer rule and what such a rule names.
// Decide and Check share it, so that Check counts a file as covered by a signer rule only
// when Decide would have given it one. A signature is worth a signer rule when:
//
//   - it verifies (and the file's and its bundle's do);
//   - its leaf certificate may sign code: the extended key usage lists code signing, the key
//     usage (when present) allows digital signatures, and the leaf was valid when it signed:
//     at a timestamp from a trusted time-stamping authority, else now;
//   - its chain is trusted, or its leaf is pinned by thumbprint (a pin replaces that one
//     check, nothing else);
//   - its digests are strong (not MD5 or SHA-1), unless its signer is pinned;
//   - for Apple signatures, the CodeDirectory's Team ID agrees with the leaf's OU.
//
// A signer rule for an Apple signature names the Team ID only when the certificate proves it
// (provenTeamID); otherwise it names the leaf certificate's thumbprint.
type signerJudge struct {
	pins map[string]bool // normalized thumbprints and lower-case Team IDs
	now  time.Time
}

func newSignerJudge(pins []string, now time.Time) *signerJudge {
	j := &signerJudge{pins: map[string]bool{}, now: now}
	if j.now.IsZero() {
		j.now = time.Now()
	}
	for _, p := range pins {
		j.pins[normPin(p)] = true
	}
	return j
}

// pinnedLeaf reports whether s's leaf certificate is pinned by its SHA-1 or SHA-256
// thumbprint: one certificate, whose private key alone can make a valid signature.
func (j *signerJudge) pinnedLeaf(s *signers.Signature) bool {
	return s.Signer != nil && (j.pins[normPin(s.Signer.ThumbprintSHA1)] || j.pins[normPin(s.Signer.ThumbprintSHA256)])
}

// pinnedTeam reports whether s's Team ID is pinned. A Team ID is only a name: anyone can issue
// a certificate whose OU says "9YV9435DHD", so a Team ID pin counts only for the Team ID a
// certificate chaining to Apple's root proves (provenTeamID). It widens a rule; it never
// makes an untrusted signer trusted.
func (j *signerJudge) pinnedTeam(s *signers.Signature) bool {
	team, _ := provenTeamID(s)
	return team != "" && j.pins[strings.ToLower(team)]
}

func (j *signerJudge) pinned(s *signers.Signature) bool {
	return j.pinnedLeaf(s) || j.pinnedTeam(s)
}

// provenTeamID returns the Apple Team ID a signer rule may name for s: the single OU of a
// leaf that carries an Apple code-signing extension and whose chain is trusted and ends at
// Apple's root, and that agrees with the CodeDirectory's. Otherwise it returns why not; the
// Team ID in the CodeDirectory alone is never used.
func provenTeamID(s *signers.Signature) (string, string) {
	if s.Kind != signers.KindApple {
		return "", "not an Apple signature"
	}
	team, why := s.Signer.AppleTeamID()
	if why != "" {
		return "", why
	}
	if s.Chain != signers.ChainTrusted || s.Anchor != signers.AnchorApple {
		return "", "the leaf certificate does not chain to Apple's root CA; " + anchorText(s)
	}
	if s.TeamID != "" && s.TeamID != team {
		return "", fmt.Sprintf("the CodeDirectory's Team ID %q differs from the leaf certificate's OU %q", s.TeamID, team)
	}
	return team, ""
}

// anchorText says where s's chain ends, for reasons.
func anchorText(s *signers.Signature) string {
	if s.Chain != signers.ChainTrusted {
		c := string(s.Chain)
		if c == "" {
			c = "not checked"
		}
		return "chain " + c
	}
	switch s.Anchor {
	case signers.AnchorApple:
		return "chain trusted to Apple's root CA"
	case signers.AnchorSystem:
		return "chain trusted to a root of this machine's trust store"
	case signers.AnchorRoots:
		return "chain trusted to a root supplied as trusted for this run"
	}
	return "chain trusted"
}

// ruleIdentity is what a signer rule for s names: the proven Apple Team ID (value and team),
// else the leaf's SHA-1 thumbprint (value, no team).
func ruleIdentity(s *signers.Signature) (value, team string) {
	if t, _ := provenTeamID(s); t != "" {
		return t, t
	}
	if s.Signer == nil {
		return "", ""
	}
	return s.Signer.ThumbprintSHA1, ""
}

const dayLayout = "2006-01-02" // dates in reasons

// leafProblem says why s's leaf certificate may not sign code, or "" when it may. These
// checks apply to pinned leaves too.
func (j *signerJudge) leafProblem(s *signers.Signature) string {
	c := s.Signer
	switch {
	case len(c.ExtKeyUsage) == 0:
		return "the leaf certificate has no extended key usage: nothing allows it to sign code"
	case !contains(c.ExtKeyUsage, signers.EKUCodeSigning):
		return "the leaf certificate's extended key usage (" + strings.Join(c.ExtKeyUsage, ", ") + ") does not include code signing"
	case len(c.KeyUsage) > 0 && !contains(c.KeyUsage, signers.KUDigitalSignature):
		return "the leaf certificate's key usage (" + strings.Join(c.KeyUsage, ", ") + ") does not allow digital signatures"
	}
	return j.validityProblem(s)
}

// validityProblem checks that the leaf was valid when it signed: at the timestamp when a
// trusted time-stamping authority vouches for it, else now.
func (j *signerJudge) validityProblem(s *signers.Signature) string {
	c := s.Signer
	nb, na := c.NotBefore.UTC().Format(dayLayout), c.NotAfter.UTC().Format(dayLayout)
	if s.Timestamp != nil && s.TimestampChain == signers.ChainTrusted {
		t := s.Timestamp.UTC()
		switch {
		case t.Before(c.NotBefore):
			return fmt.Sprintf("timestamped on %s, before the leaf certificate's validity began on %s", t.Format(dayLayout), nb)
		case t.After(c.NotAfter):
			return fmt.Sprintf("timestamped on %s, after the leaf certificate expired on %s", t.Format(dayLayout), na)
		}
		return ""
	}
	switch {
	case j.now.Before(c.NotBefore):
		return fmt.Sprintf("the leaf certificate is not valid before %s (checked on %s)", nb, j.now.UTC().Format(dayLayout))
	case j.now.After(c.NotAfter) && s.Timestamp != nil:
		tc := string(s.TimestampChain)
		if tc == "" {
			tc = "not checked"
		}
		return fmt.Sprintf("the leaf certificate expired on %s and its timestamp (%s) is not from a trusted time-stamping authority (timestamp chain %s)", na, s.Timestamp.UTC().Format(dayLayout), tc)
	case j.now.After(c.NotAfter):
		return fmt.Sprintf("the leaf certificate expired on %s and the signature carries no timestamp", na)
	}
	return ""
}

// problem returns "" when s is worth a signer rule, else why not.
func (j *signerJudge) problem(s *signers.Signature) string {
	switch {
	case s.Status != signers.StatusValid:
		return "signature " + string(s.Status)
	case s.Signer == nil:
		return "no signer certificate"
	}
	if p := j.leafProblem(s); p != "" {
		if j.pinned(s) {
			p += " (pinning replaces only the chain to a trusted root)"
		}
		return p
	}
	if s.Kind == signers.KindApple {
		if ou := s.Signer.OrganizationalUnits; s.TeamID != "" && len(ou) > 0 && ou[0] != s.TeamID {
			return fmt.Sprintf("the CodeDirectory's Team ID %q differs from the leaf certificate's OU %q", s.TeamID, ou[0])
		}
	}
	if s.Chain != signers.ChainTrusted && !j.pinnedLeaf(s) {
		chain := string(s.Chain)
		if chain == "" {
			chain = "not checked"
		}
		msg := "signer chain " + chain
		if s.ChainError != "" {
			msg += ": " + s.ChainError
		}
		return msg + ", and the leaf certificate (SHA-1 thumbprint " + s.Signer.ThumbprintSHA1 + ") is not pinned"
	}
	if s.WeakDigest != "" && !j.pinned(s) {
		return "weak digest (" + s.WeakDigest + "): MD5 and SHA-1 signatures can be forged with collisions, and the signer is not pinned"
	}
	return ""
}

// fileSigners returns f's signatures that are worth a signer rule, the one to use first; or,
// when there is none, why not, and whether f's signature (or its bundle's seal) is broken.
func (j *signerJudge) fileSigners(f *FileEvidence, broken map[string]string) ([]*signers.Signature, string, bool) {
	if why := enclosingBroken(broken, f); why != "" {
		return nil, "the enclosing bundle's seal is broken (" + why + ")", true
	}
	switch f.SignatureStatus {
	case signers.StatusUnsigned:
		return nil, "unsigned: no signature to trust", false
	case signers.StatusAdhoc:
		return nil, "ad-hoc signature: no signer identity to trust", false
	case signers.StatusInvalid:
		return nil, invalidReason(f), true
	case signers.StatusValid:
	default:
		if f.Fleet != nil && f.Fleet.Note != "" {
			// Merged fleet evidence without a reference inspection: the note says why.
			return nil, f.Fleet.Note, false
		}
		return nil, "no signature information for this file (no verifier for its format)", false
	}
	if len(f.Signatures) == 0 {
		return nil, "signature status valid but no signature recorded", false
	}
	if f.Signatures[0].Kind == signers.KindApple {
		return j.appleSigners(f)
	}
	return j.authenticodeSigners(f)
}

func invalidReason(f *FileEvidence) string {
	why := "signature does not verify (tampered or malformed)"
	for _, s := range f.Signatures {
		if s.Status == signers.StatusInvalid && s.Error != "" {
			return why + ": " + s.Error
		}
	}
	if f.Error != "" {
		why += ": " + f.Error
	}
	return why
}

// appleSigners: every slice's signature must be worth a signer rule, and all must name the
// same identity (Team ID or leaf certificate).
func (j *signerJudge) appleSigners(f *FileEvidence) ([]*signers.Signature, string, bool) {
	first := &f.Signatures[0]
	for i := range f.Signatures {
		s := &f.Signatures[i]
		if s.Status != signers.StatusValid {
			return nil, "a slice's signature is " + string(s.Status), s.Status == signers.StatusInvalid
		}
		if why := j.problem(s); why != "" {
			if len(f.Signatures) > 1 {
				why = "slice " + orUnknown(s.Arch) + ": " + why
			}
			return nil, why, false
		}
		if a, b := identityText(first), identityText(s); a != b {
			return nil, fmt.Sprintf("slices signed by different signers (%s, %s)", a, b), false
		}
	}
	return []*signers.Signature{first}, "", false
}

func identityText(s *signers.Signature) string {
	v, team := ruleIdentity(s)
	if team != "" {
		return "Team ID " + team
	}
	return "certificate " + v
}

// authenticodeSigners orders the signatures strongest first (strong digests before MD5 and
// SHA-1, then the primary before nested ones) and keeps those worth a signer rule. A file
// dual-signed with SHA-1 and SHA-256 is judged by its SHA-256 signature: Microsoft deprecated
// SHA-1 for Authenticode, and Windows 7 and later stopped trusting SHA-1 code signatures
// made after 1 January 2016 (Microsoft Security Advisories 2880823 and 3123479,
// https://technet.microsoft.com/library/security/2880823 and .../3123479, "Windows
// Enforcement of SHA1 Certificates"); the SHA-1 signature is there for older systems.
func (j *signerJudge) authenticodeSigners(f *FileEvidence) ([]*signers.Signature, string, bool) {
	order := make([]*signers.Signature, 0, len(f.Signatures))
	for i := range f.Signatures {
		order = append(order, &f.Signatures[i])
	}
	sort.SliceStable(order, func(a, b int) bool {
		wa, wb := order[a].WeakDigest != "", order[b].WeakDigest != ""
		if wa != wb {
			return wb
		}
		return !order[a].Nested && order[b].Nested
	})
	var ok []*signers.Signature
	var whys []string
	for _, s := range order {
		why := j.problem(s)
		if why == "" {
			ok = append(ok, s)
			continue
		}
		whys = append(whys, why)
		if len(order) > 1 {
			whys[len(whys)-1] = sigLabel(s) + ": " + why
		}
	}
	if len(ok) > 0 {
		return ok, "", false
	}
	return nil, strings.Join(whys, "; "), false
}

func sigLabel(s *signers.Signature) string {
	l := "primary signature"
	if s.Nested {
		l = "nested signature"
	}
	if s.DigestAlgorithm != "" {
		l += " (" + s.DigestAlgorithm + ")"
	}
	return l
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// pinList is the pins as the policy records them (pinned_signers): normalized, sorted, once
// each. Check judges pinned signers as Decide did from this list.
func pinList(pins []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range pins {
		if n := normPin(p); n != "" && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// signerReason is the reason of a signer rule for s: how it is trusted, what it names and
// how far it reaches. It names no command-line flag (vendor consoles show it).
func (d *decider) signerReason(s *signers.Signature, broad bool) string {
	var via string
	switch {
	case d.judge.pinnedLeaf(s):
		via = "leaf certificate pinned by its thumbprint"
	case d.judge.pinnedTeam(s):
		via = anchorText(s) + ", Team ID pinned"
	default:
		via = anchorText(s)
	}
	r := "valid signature, " + via
	if s.Kind == signers.KindApple {
		if _, why := provenTeamID(s); why != "" {
			r += "; the rule names the leaf certificate, not a Team ID: " + why
		}
	}
	if s.WeakDigest != "" {
		r += "; weak digest (" + s.WeakDigest + ") accepted only because the signer is pinned"
	}
	if broad {
		return r + "; one rule per signer survives upgrades until the certificate is renewed"
	}
	return r + "; the signer is neither pinned nor the profile's expected signer, so the rule is narrowed to this file"
}

// trustWarnings reports weak digests and Apple Team IDs that certificates do not prove.
func (d *decider) trustWarnings(execs []*verdict) {
	var weakSkipped, weakPinned, unproven []string
	whys := map[string]bool{}
	for _, v := range execs {
		weak, claims := false, false
		for i := range v.file.Signatures {
			s := &v.file.Signatures[i]
			weak = weak || s.WeakDigest != ""
			if s.Kind == signers.KindApple && s.Status == signers.StatusValid && (s.TeamID != "" || s.Signer != nil && len(s.Signer.OrganizationalUnits) > 0) {
				if _, why := provenTeamID(s); why != "" {
					claims = true
					whys[why] = true
				}
			}
		}
		switch {
		case v.sig != nil && v.crit == CriterionSigner && v.sig.WeakDigest != "":
			weakPinned = append(weakPinned, v.endpoints...)
		case weak:
			weakSkipped = append(weakSkipped, v.endpoints...)
		}
		if claims {
			unproven = append(unproven, v.endpoints...)
		}
	}
	if len(weakSkipped) > 0 {
		d.warn = append(d.warn, Warning{Code: WarnWeakDigest, Message: fmt.Sprintf("%d file(s) carry a signature with a weak digest (MD5 or SHA-1): such a signature never gives a signer rule unless its signer is pinned; a file that also carries a strong signature is judged by that one", len(weakSkipped)), Files: weakSkipped})
	}
	if len(weakPinned) > 0 {
		d.warn = append(d.warn, Warning{Code: WarnWeakDigest, Message: fmt.Sprintf("%d file(s) get a signer rule from a signature with a weak digest (MD5 or SHA-1), only because its signer is pinned: a collision can give another file the same signature; prefer hash rules", len(weakPinned)), Files: weakPinned})
	}
	if len(unproven) > 0 {
		d.warn = append(d.warn, Warning{Code: WarnTeamIDUnproven, Message: fmt.Sprintf("%d file(s) name an Apple Team ID that their signing certificate does not prove (%s): no rule names that Team ID; a signer rule for them names the leaf certificate's thumbprint", len(unproven), joinSet(whys)), Files: unproven})
	}
}
