package core

import (
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
)

// Target is one thing a vendor is asked to write for a policy rule: the rule itself, or, when
// the vendor cannot express the rule, a fallback for some of its files (a hash entry for the
// files with one content, or the exact path of one file).
type Target struct {
	// Index is the rule's 0-based position in the policy.
	Index int
	// Rule is the policy rule.
	Rule *edrpolicy.Rule
	// Files are the endpoint files the entry covers.
	Files []string
	// Digest is, for a hash target, the content's digests (SHA256 always).
	Digest edrpolicy.FileDigest
	// Path and Match are, for a path target, the policy path value and match (the rule's
	// own, or one file's exact path when a signer rule falls back to paths at level path).
	Path  string
	Match edrpolicy.Match
	// Fallback says why the vendor writes this target in another form than the rule's
	// criterion; empty when it writes the rule as decided.
	Fallback string
}

// Exact reports whether a path target must name exactly one executable (every executable
// path rule, and a signer rule's file): then only '*' of the policy may be a pattern in it.
func (t Target) Exact() bool {
	return t.Rule.Role == profile.RoleExecutable || t.Rule.Criterion != edrpolicy.CriterionPath
}

// Entry returns the entry for t with the vendor's kind, type and value; File is set when the
// entry is rendered into a file.
func (t Target) Entry(vendor string, kind EntryKind, typ, value string) Entry {
	rule := t.Index
	e := Entry{Vendor: vendor, Kind: kind, Type: typ, Value: value, Platform: t.Rule.Platform, Rule: &rule,
		Files: append([]string(nil), t.Files...), Fallback: t.Fallback}
	if kind == EntryPath {
		e.Match = t.Match
		if e.Match == "" {
			e.Match = edrpolicy.MatchFile
		}
	}
	return e
}

// Vendor is what Plan needs of one vendor: for each kind of target, the vendor's items (T is
// the vendor's own record of an entry) or why it cannot express the target. An error means
// the policy is malformed (a digest that is not hex, a certificate that does not match its
// thumbprint) and nothing should be written.
type Vendor[T any] struct {
	// Name is the vendor name used in messages.
	Name string
	// Hash writes the files of one content (Target.Digest); why says what is missing (no
	// digest of the type the vendor takes).
	Hash func(Target) (items []T, why string, err error)
	// Signer writes a signer rule; why says why the vendor cannot express it (narrowed to
	// files, no certificate fields, a platform the vendor's certificate entries do not
	// cover): Plan then falls back to the files' hashes.
	Signer func(Target) (items []T, why string, err error)
	// Path writes a path target; why says why the vendor cannot name it in its pattern
	// language (a character it reads as a pattern, a form it does not take).
	Path func(Target) (items []T, why string, err error)
}

// Plan is the result of planning a policy for one vendor: the items to render, the files no
// item covers, and the fallback and skipped warnings.
type Plan[T any] struct {
	Items     []T
	Uncovered []Uncovered
	Warnings  []edrpolicy.Warning
}

// Uncovered is a group of a rule's files that a vendor's entries do not cover, and why.
type Uncovered struct {
	// Rule is the index of the policy rule: 0-based into policy.json's "rules", as check's
	// rules[N] names it.
	Rule   int      `json:"rule"`
	Files  []string `json:"files"`
	Reason string   `json:"reason"`
}

// MakePlan decides, rule by rule, what vendor v writes for policy p:
//
//   - a hash rule: its hash entries;
//   - a signer rule: the vendor's certificate entry, or when it cannot express the rule, for
//     each file the rule covers (policy.json's file_digests) a hash entry in the vendor's own
//     hash type, and at --level path, when no hash entry can be written, the file's exact
//     path;
//   - a path rule: its path entry, or when the vendor cannot name it and the rule is an
//     executable's exact path, the file's hash entry.
//
// Every fallback gives an export-fallback warning; every file nothing covers an
// export-skipped warning naming the vendor and the file, and an Uncovered record.
func MakePlan[T any](p *edrpolicy.Policy, v Vendor[T]) (*Plan[T], error) {
	pl := &Plan[T]{}
	for i := range p.Rules {
		r := &p.Rules[i]
		t := Target{Index: i, Rule: r, Files: r.Files}
		var (
			items []T
			why   string
			err   error
		)
		switch r.Criterion {
		case edrpolicy.CriterionHash:
			t.Digest = edrpolicy.FileDigest{SHA256: r.Value, SHA1: r.SHA1, MD5: r.MD5}
			items, why, err = v.Hash(t)
		case edrpolicy.CriterionSigner:
			items, why, err = v.Signer(t)
		case edrpolicy.CriterionPath:
			t.Path, t.Match = r.Value, r.Match
			items, why, err = v.Path(t)
		default:
			return nil, fmt.Errorf("%s: unknown criterion", RuleRef(i, r))
		}
		if err != nil {
			return nil, err
		}
		if why == "" {
			pl.Items = append(pl.Items, items...)
			continue
		}
		canFallBack := r.Criterion == edrpolicy.CriterionSigner ||
			r.Criterion == edrpolicy.CriterionPath && r.Role == profile.RoleExecutable && (r.Match == edrpolicy.MatchFile || r.Match == "")
		if !canFallBack {
			pl.skip(v.Name, t, r.Files, why)
			continue
		}
		if err := pl.fallBack(p, v, t, why); err != nil {
			return nil, err
		}
	}
	return pl, nil
}

// fallBack writes, for a rule the vendor cannot express, each of its files by hash, or at
// level path (signer rules only) by exact path.
func (pl *Plan[T]) fallBack(p *edrpolicy.Policy, v Vendor[T], t Target, why string) error {
	r := t.Rule
	groups := digestGroups(r)
	if len(groups) == 0 {
		pl.skip(v.Name, t, r.Files, why+"; the policy holds no digests of the rule's files to fall back to (file_digests: regenerate it with this edrpolicy)")
		return nil
	}
	pathOK := r.Criterion == edrpolicy.CriterionSigner && p.Level == edrpolicy.CriterionPath
	var byHash, byPath int
	for _, g := range groups {
		ht := Target{Index: t.Index, Rule: r, Files: g.files, Digest: g.digest, Fallback: why + "; exported as a hash entry for this file"}
		items, hwhy, err := v.Hash(ht)
		if err != nil {
			return err
		}
		if hwhy == "" {
			pl.Items = append(pl.Items, items...)
			byHash += len(g.files)
			continue
		}
		if !pathOK {
			pl.skip(v.Name, t, g.files, why+"; no hash entry either: "+hwhy)
			continue
		}
		for _, f := range g.files {
			pt := Target{Index: t.Index, Rule: r, Files: []string{f}, Path: f, Match: edrpolicy.MatchFile,
				Fallback: why + "; exported as this file's exact path (the policy's level is path)"}
			items, pwhy, err := v.Path(pt)
			if err != nil {
				return err
			}
			if pwhy != "" {
				pl.skip(v.Name, t, []string{f}, why+"; no hash entry either: "+hwhy+"; no exact path entry either: "+pwhy)
				continue
			}
			pl.Items = append(pl.Items, items...)
			byPath++
		}
	}
	if byHash+byPath > 0 {
		var used []string
		if byHash > 0 {
			used = append(used, fmt.Sprintf("a hash entry for each of %d file(s)", byHash))
		}
		if byPath > 0 {
			used = append(used, fmt.Sprintf("the exact path of %d file(s) (the policy's level is path)", byPath))
		}
		pl.Warnings = append(pl.Warnings, Fallback(v.Name, t.Index, r, why, strings.Join(used, " and ")))
	}
	return nil
}

func (pl *Plan[T]) skip(vendor string, t Target, files []string, why string) {
	pl.Uncovered = append(pl.Uncovered, Uncovered{Rule: t.Index, Files: append([]string(nil), files...), Reason: why})
	pl.Warnings = append(pl.Warnings, SkippedFiles(vendor, t.Index, t.Rule, files, why))
}

type digestGroup struct {
	digest edrpolicy.FileDigest
	files  []string
}

// digestGroups groups a rule's file_digests by content, in the order of first appearance.
func digestGroups(r *edrpolicy.Rule) []digestGroup {
	var out []digestGroup
	at := map[string]int{}
	for _, fd := range r.FileDigests {
		key := strings.ToLower(fd.SHA256)
		if key == "" {
			continue
		}
		i, ok := at[key]
		if !ok {
			i = len(out)
			at[key] = i
			out = append(out, digestGroup{digest: fd})
		}
		g := &out[i]
		if g.digest.SHA1 == "" {
			g.digest.SHA1 = fd.SHA1
		}
		if g.digest.MD5 == "" {
			g.digest.MD5 = fd.MD5
		}
		g.files = append(g.files, fd.Path)
	}
	return out
}

// SkippedFiles is the warning for files of rule i a vendor's entries do not cover: it names
// the vendor, the files and the rule.
func SkippedFiles(vendor string, i int, r *edrpolicy.Rule, files []string, why string) edrpolicy.Warning {
	return edrpolicy.Warning{Code: WarnSkipped, Message: fmt.Sprintf("%s: %s not exported, %s NOT COVERED: %s", vendor, RuleRef(i, r), FileList(files), why), Files: append([]string(nil), files...)}
}
