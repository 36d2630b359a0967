package edrpolicy

import (
	"fmt"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// Change kinds of a RuleChange; the strings are part of `edrpolicy diff --format json`.
const (
	ChangeAdded   = "added"
	ChangeRemoved = "removed"
	ChangeChanged = "changed"
)

// PolicyDiff is the rule-level difference between two policies, as `edrpolicy diff` prints
// it. It is empty (Equal) when both policies have the same settings and the same rules.
type PolicyDiff struct {
	// Fields are the policy-level settings that differ (profile, product, os, app_version,
	// era, level, assumed_paths). generated, summary and warnings are not compared.
	Fields []FieldChange `json:"fields"`
	// Changes are the rules added, removed or changed, one per rule, sorted by file.
	Changes []RuleChange `json:"changes"`
}

// FieldChange is a policy-level setting with its old and new value.
type FieldChange struct {
	Field string `json:"field"`
	Old   string `json:"old"`
	New   string `json:"new"`
}

// RuleChange is one rule added, removed or changed.
type RuleChange struct {
	// Change is added, removed or changed.
	Change    string       `json:"change"`
	Criterion Criterion    `json:"criterion"`
	Platform  profile.OS   `json:"platform"`
	Role      profile.Role `json:"role"`
	// Files are the files of the new rule (of the old one when removed).
	Files []string `json:"files"`
	// Reason says in one line what changed, e.g. "file content changed (new build): sha256
	// 1a2b… → 3c4d…" or "signer certificate renewed: same subject, thumbprint … → …".
	Reason string `json:"reason"`
	// Renewed is true when the change is a signer certificate renewal (same subject or Team
	// ID, new certificate): exceptions that name the old certificate stop matching.
	Renewed bool `json:"renewed,omitempty"`
	// Kept is true when the old rule stays in the new policy, labelled with its app_version,
	// for the rollout window (generate --keep-previous): New is the rule of the new build.
	Kept bool  `json:"kept,omitempty"`
	Old  *Rule `json:"old,omitempty"`
	New  *Rule `json:"new,omitempty"`
}

// Equal reports whether the two policies had no difference.
func (d *PolicyDiff) Equal() bool { return len(d.Fields) == 0 && len(d.Changes) == 0 }

// Count returns the number of rule changes of a kind (ChangeAdded, ChangeRemoved,
// ChangeChanged).
func (d *PolicyDiff) Count(kind string) int {
	n := 0
	for _, c := range d.Changes {
		if c.Change == kind {
			n++
		}
	}
	return n
}

// Renewals returns the changes that are signer certificate renewals.
func (d *PolicyDiff) Renewals() []RuleChange {
	var out []RuleChange
	for _, c := range d.Changes {
		if c.Renewed {
			out = append(out, c)
		}
	}
	return out
}

// Diff compares two policies rule by rule. Rules are paired in two passes:
//
//  1. the same rule: same criterion, platform, role, value, match, file_name and signing_id
//     (a change there is in its files, certificate, expiry, reason, digests or governance);
//  2. the same identity (RuleIdentity): a hash rule over the same files with a new hash, a
//     signer rule of the same subject or Team ID (narrowed to the same file) with a new
//     certificate, a path rule of the same path with a new match.
//
// What is left is removed (old) or added (new). Diff never fails; a nil policy is empty.
func Diff(old, new *Policy) *PolicyDiff {
	if old == nil {
		old = &Policy{}
	}
	if new == nil {
		new = &Policy{}
	}
	d := &PolicyDiff{Fields: []FieldChange{}, Changes: []RuleChange{}}
	for _, f := range []struct{ name, a, b string }{
		{"profile", old.Profile, new.Profile},
		{"product", old.Product, new.Product},
		{"os", string(old.OS), string(new.OS)},
		{"app_version", old.AppVersion, new.AppVersion},
		{"era", old.Era, new.Era},
		{"level", string(old.Level), string(new.Level)},
		{"assumed_paths", old.AssumedPaths, new.AssumedPaths},
	} {
		if f.a != f.b {
			d.Fields = append(d.Fields, FieldChange{Field: f.name, Old: f.a, New: f.b})
		}
	}
	oldLeft, newLeft := pairRules(old.Rules, new.Rules, ruleKey, func(a, b *Rule) {
		if why := changeReason(a, b); why != "" {
			d.Changes = append(d.Changes, change(ChangeChanged, a, b, why))
		}
	})
	oldLeft, newLeft = pairRules(oldLeft, newLeft, RuleIdentity, func(a, b *Rule) {
		d.Changes = append(d.Changes, change(ChangeChanged, a, b, changeReason(a, b)))
	})
	for i := range oldLeft {
		d.Changes = append(d.Changes, change(ChangeRemoved, &oldLeft[i], nil, "not in the new policy"))
	}
	for i := range newLeft {
		why := "not in the old policy"
		if v := newLeft[i].AppVersion; v != "" {
			why = "kept from version " + v + " for the rollout window (app_version " + v + ")"
		}
		c := change(ChangeAdded, nil, &newLeft[i], why)
		// A signer rule shaped differently (broad instead of narrowed) for a signer whose
		// certificate changed is still a renewal.
		if o := renewedFrom(old.Rules, &newLeft[i]); o != nil {
			c.Renewed = true
			c.Reason = fmt.Sprintf("signer certificate renewed: same %s, new thumbprint %s (was %s)%s", sameWhat(o), short(thumb(&newLeft[i])), short(thumb(o)), notAfterChange(o, &newLeft[i]))
		}
		d.Changes = append(d.Changes, c)
	}
	d.Changes = mergeKept(d.Changes)
	sort.SliceStable(d.Changes, func(i, j int) bool {
		a, b := d.Changes[i], d.Changes[j]
		if fa, fb := firstFile(a.Files), firstFile(b.Files); fa != fb {
			return fa < fb
		}
		if a.Criterion != b.Criterion {
			return a.Criterion.rank() < b.Criterion.rank()
		}
		if a.Change != b.Change {
			return a.Change < b.Change
		}
		return a.Reason < b.Reason
	})
	return d
}

func firstFile(files []string) string {
	if len(files) == 0 {
		return ""
	}
	return files[0]
}

// pairRules pairs rules of a and b with equal keys (in order, so duplicate keys pair one to
// one), calls pair for each pair, and returns what is left of each side.
func pairRules(a, b []Rule, key func(*Rule) string, pair func(a, b *Rule)) (aLeft, bLeft []Rule) {
	byKey := map[string][]int{}
	for i := range b {
		k := key(&b[i])
		byKey[k] = append(byKey[k], i)
	}
	used := make([]bool, len(b))
	for i := range a {
		k := key(&a[i])
		idx := byKey[k]
		if len(idx) == 0 {
			aLeft = append(aLeft, a[i])
			continue
		}
		byKey[k] = idx[1:]
		used[idx[0]] = true
		pair(&a[i], &b[idx[0]])
	}
	for i := range b {
		if !used[i] {
			bLeft = append(bLeft, b[i])
		}
	}
	return aLeft, bLeft
}

// ruleKey identifies the same rule: what an EDR console matches on.
func ruleKey(r *Rule) string {
	return strings.Join([]string{string(r.Criterion), string(r.Platform), string(r.Role), r.Value, string(r.Match), r.FileName, r.SigningID}, "\x00")
}

// RuleIdentity is what stays the same about a rule across application versions: for a hash
// rule the files it covers, for a signer rule the signer's Team ID (Apple) or certificate
// subject (Authenticode) and the file_name or signing_id it is narrowed to, for a path rule
// its path. Diff pairs rules with the same identity as "changed" (a new build of the same
// file, a renewed certificate of the same signer) rather than as one removed and one added.
func RuleIdentity(r *Rule) string {
	parts := []string{string(r.Criterion), string(r.Platform), string(r.Role)}
	switch r.Criterion {
	case CriterionHash:
		files := append([]string(nil), r.Files...)
		sort.Strings(files)
		parts = append(parts, strings.Join(files, "\n"))
	case CriterionSigner:
		parts = append(parts, signerIdentity(r), r.FileName, r.SigningID)
	default:
		parts = append(parts, strings.ToLower(r.Value))
	}
	return strings.Join(parts, "\x00")
}

// signerIdentity is the Team ID of an Apple signer rule, else the leaf's subject, else the
// rule's value.
func signerIdentity(r *Rule) string {
	switch {
	case r.TeamID != "":
		return "team:" + r.TeamID
	case r.Signer != nil && r.Signer.Subject != "":
		return "subject:" + r.Signer.Subject
	}
	return "value:" + r.Value
}

func change(kind string, a, b *Rule, why string) RuleChange {
	r := b
	if r == nil {
		r = a
	}
	c := RuleChange{Change: kind, Criterion: r.Criterion, Platform: r.Platform, Role: r.Role, Files: append([]string{}, r.Files...), Reason: why}
	sort.Strings(c.Files)
	if a != nil {
		oc := *a
		c.Old = &oc
	}
	if b != nil {
		nc := *b
		c.New = &nc
	}
	c.Renewed = a != nil && b != nil && isRenewal(a, b)
	return c
}

// isRenewal reports whether b is a's signer with a new certificate.
func isRenewal(a, b *Rule) bool {
	if a.Criterion != CriterionSigner || b.Criterion != CriterionSigner {
		return false
	}
	return signerIdentity(a) == signerIdentity(b) && thumb(a) != thumb(b)
}

// renewedFrom returns a signer rule of old with r's signer identity but another certificate,
// when old has no rule with r's certificate.
func renewedFrom(old []Rule, r *Rule) *Rule {
	if r.Criterion != CriterionSigner {
		return nil
	}
	var found *Rule
	for i := range old {
		o := &old[i]
		if o.Criterion != CriterionSigner || o.Platform != r.Platform || signerIdentity(o) != signerIdentity(r) {
			continue
		}
		if thumb(o) == thumb(r) {
			return nil
		}
		if found == nil {
			found = o
		}
	}
	return found
}

func thumb(r *Rule) string {
	if r.Signer != nil && r.Signer.ThumbprintSHA1 != "" {
		return r.Signer.ThumbprintSHA1
	}
	return r.Value
}

// changeReason describes in one line how b differs from a, or "" when they are the same.
func changeReason(a, b *Rule) string {
	var why []string
	add := func(format string, args ...any) { why = append(why, fmt.Sprintf(format, args...)) }
	switch {
	case a.Criterion == CriterionSigner && isRenewal(a, b):
		add("signer certificate renewed: same %s, thumbprint %s → %s%s", sameWhat(a), short(thumb(a)), short(thumb(b)), notAfterChange(a, b))
	case a.Criterion == CriterionSigner && (a.Value != b.Value || thumb(a) != thumb(b)):
		add("signer changed: %s → %s", signerLabel(a), signerLabel(b))
	case a.Value != b.Value && a.Criterion == CriterionHash:
		add("file content changed (new build): sha256 %s → %s", short(a.Value), short(b.Value))
	case a.Value != b.Value:
		add("value %s → %s", a.Value, b.Value)
	}
	if a.Match != b.Match {
		add("match %s → %s", orNone(string(a.Match)), orNone(string(b.Match)))
	}
	if added, removed := setDiff(a.Files, b.Files); len(added)+len(removed) > 0 {
		var parts []string
		if len(added) > 0 {
			parts = append(parts, "+"+strings.Join(added, ", +"))
		}
		if len(removed) > 0 {
			parts = append(parts, "-"+strings.Join(removed, ", -"))
		}
		add("files %s", strings.Join(parts, " "))
	}
	if a.AppVersion != b.AppVersion {
		add("app_version label %s → %s", orNone(a.AppVersion), orNone(b.AppVersion))
	}
	if a.Criterion == CriterionHash && a.Value == b.Value && (a.SHA1 != b.SHA1 || a.MD5 != b.MD5) {
		add("other digests (sha1/md5) %s → %s", orNone(strings.TrimSpace(a.SHA1+" "+a.MD5)), orNone(strings.TrimSpace(b.SHA1+" "+b.MD5)))
	}
	for _, g := range []struct{ name, x, y string }{
		{"owner", a.Owner, b.Owner}, {"justification", a.Justification, b.Justification},
		{"scope", a.Scope, b.Scope}, {"source", a.Source, b.Source},
	} {
		if g.x != g.y {
			add("%s %q → %q", g.name, g.x, g.y)
		}
	}
	if a.Expires != b.Expires && !isRenewal(a, b) {
		add("expires %s → %s", orNone(a.Expires), orNone(b.Expires))
	}
	if a.Reason != b.Reason && len(why) == 0 {
		add("reason %q → %q", a.Reason, b.Reason)
	}
	return strings.Join(why, "; ")
}

func sameWhat(r *Rule) string {
	if r.TeamID != "" {
		return "Team ID " + r.TeamID
	}
	if r.Signer != nil {
		return "subject " + r.Signer.Subject
	}
	return "signer"
}

func signerLabel(r *Rule) string {
	name := r.Value
	if r.Signer != nil && r.Signer.CommonName != "" {
		name = r.Signer.CommonName
	}
	if r.TeamID != "" && name != r.TeamID {
		name += " (" + r.TeamID + ")"
	}
	return fmt.Sprintf("%s [%s]", name, short(thumb(r)))
}

func notAfterChange(a, b *Rule) string {
	if a.Signer == nil || b.Signer == nil || a.Signer.NotAfter.Equal(b.Signer.NotAfter) {
		return ""
	}
	return fmt.Sprintf(", not_after %s → %s", a.Signer.NotAfter.UTC().Format("2006-01-02"), b.Signer.NotAfter.UTC().Format("2006-01-02"))
}

// short abbreviates a long hex value to its first 12 characters.
func short(s string) string {
	if len(s) > 16 {
		return s[:12] + "…"
	}
	return s
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

// setDiff returns the items of b not in a (added) and of a not in b (removed), sorted.
func setDiff(a, b []string) (added, removed []string) {
	in := func(list []string, s string) bool {
		for _, x := range list {
			if x == s {
				return true
			}
		}
		return false
	}
	for _, s := range b {
		if !in(a, s) {
			added = append(added, s)
		}
	}
	for _, s := range a {
		if !in(b, s) {
			removed = append(removed, s)
		}
	}
	sort.Strings(added)
	sort.Strings(removed)
	return added, removed
}
