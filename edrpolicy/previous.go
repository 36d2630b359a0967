package edrpolicy

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// checkPrevious refuses a previous policy for another profile or OS, and KeepPrevious
// without a previous policy.
func checkPrevious(opts DecideOptions) error {
	p := opts.Previous
	if p == nil {
		if opts.KeepPrevious {
			return optionf("KeepPrevious", "", "needs the previous policy: the rules to keep come from it")
		}
		return nil
	}
	if p.OS != "" && p.OS != opts.OS {
		return optionf("Previous", "", "that policy is for os %s, this one for %s: give the previous policy of the same OS", p.OS, opts.OS)
	}
	if p.Profile != "" && opts.Profile != nil && p.Profile != opts.Profile.Name {
		return optionf("Previous", "", "that policy is for profile %s, this one for %s", p.Profile, opts.Profile.Name)
	}
	return nil
}

// supersede compares the decided policy with the previous one: it lists the previous rules
// the install no longer matches in Policy.Superseded, reports renewed signer certificates
// loudly (signer-change), and with KeepPrevious adds the superseded rules, labelled with
// their version, for the rollout window. The kept rules pass the guardrails again, as new
// rules do: a previous policy is a file anyone may have edited.
func (d *decider) supersede(prev *Policy) error {
	d.pol.PreviousAppVersion = prev.AppVersion
	diff := Diff(prev, d.pol)
	prevSuperseded := map[string]Superseded{}
	for _, s := range prev.Superseded {
		prevSuperseded[supersededKey(s.Criterion, s.Value, s.AppVersion, s.Files)] = s
	}
	var kept []Rule
	var keptFiles, goneFiles []string
	for _, c := range diff.Changes {
		if c.Old == nil || c.New != nil && ruleKey(c.Old) == ruleKey(c.New) {
			// Added, or the same exception with new files, reason or governance.
			continue
		}
		old := *c.Old
		ver := old.AppVersion
		if ver == "" {
			ver = prev.AppVersion
		}
		s := Superseded{Criterion: old.Criterion, Value: old.Value, Platform: old.Platform, Role: old.Role,
			Files: append([]string{}, old.Files...), AppVersion: ver, Reason: c.Reason}
		if c.New != nil {
			s.By = c.New.Value
		}
		// A rule a previous union kept keeps the entry that said why (repeated runs during the
		// rollout give the same policy).
		if was, ok := prevSuperseded[supersededKey(old.Criterion, old.Value, ver, old.Files)]; ok && old.AppVersion != "" {
			s = was
		}
		// Rules of another version stay while the rollout window is open (KeepPrevious), also
		// those a previous union already kept, so that a nightly run during the rollout gives
		// the same policy; a superseded rule of the current version itself is never kept.
		if d.opts.KeepPrevious && ver != d.pol.AppVersion {
			s.Kept = true
			if old.AppVersion == "" {
				old.AppVersion = ver
				old.Reason = strings.TrimSuffix(old.Reason, ".") + fmt.Sprintf("; kept from version %s for the rollout window: remove once every device runs a later version", orUnknown(ver))
			}
			kept = append(kept, old)
			keptFiles = append(keptFiles, old.Files...)
		} else {
			goneFiles = append(goneFiles, old.Files...)
		}
		d.pol.Superseded = append(d.pol.Superseded, s)
	}
	sort.SliceStable(d.pol.Superseded, func(i, j int) bool {
		a, b := d.pol.Superseded[i], d.pol.Superseded[j]
		if fa, fb := firstFile(a.Files), firstFile(b.Files); fa != fb {
			return fa < fb
		}
		if a.Criterion != b.Criterion {
			return a.Criterion.rank() < b.Criterion.rank()
		}
		return a.Value < b.Value
	})
	for i := range d.pol.Superseded {
		sort.Strings(d.pol.Superseded[i].Files)
	}
	d.renewals(diff)
	if n := len(d.pol.Superseded); n > 0 {
		msg := fmt.Sprintf("%d rule(s) of the previous policy (version %s) do not match this install (version %s): exceptions must be re-imported", n, orUnknown(prev.AppVersion), orUnknown(d.pol.AppVersion))
		if len(kept) == 0 {
			msg += "; devices still on the previous version lose them (keep the previous rules during a staged rollout)"
		}
		d.warn = append(d.warn, Warning{Code: WarnSuperseded, Message: msg, Files: dedupe(append(append([]string{}, keptFiles...), goneFiles...))})
	}
	if len(kept) > 0 {
		if err := d.guard(kept); err != nil {
			return fmt.Errorf("rules kept from the previous policy: %w", err)
		}
		d.warn = append(d.warn, Warning{Code: WarnKeptPrevious, Message: fmt.Sprintf("%d rule(s) of version %s kept for the rollout window (labelled with their app_version): regenerate without keeping them once every device runs %s", len(kept), keptVersions(kept), orUnknown(d.pol.AppVersion)), Files: dedupe(keptFiles)})
		d.pol.Rules = append(d.pol.Rules, kept...)
		sortRules(d.pol.Rules)
	}
	return nil
}

// renewals reports each renewed signer certificate once (a signer narrowed to several files
// has one rule per file): the moment signer-based exceptions break.
func (d *decider) renewals(diff *PolicyDiff) {
	type pair struct{ old, new string }
	files := map[pair][]string{}
	var order []pair
	msgs := map[pair]string{}
	for _, c := range diff.Renewals() {
		o := c.Old
		if o == nil {
			o = renewedFrom(d.opts.Previous.Rules, c.New)
		}
		if o == nil || c.New == nil {
			continue
		}
		p := pair{thumb(o), thumb(c.New)}
		if _, ok := files[p]; !ok {
			order = append(order, p)
			msgs[p] = fmt.Sprintf("SIGNER CERTIFICATE RENEWED: %s: thumbprint %s%s → %s%s; exceptions that name the old certificate (thumbprint, uploaded certificate, pinned signer) do not match files signed with the new one: re-import them",
				sameWhat(c.New), p.old, notAfter(o), p.new, notAfter(c.New))
		}
		files[p] = append(files[p], c.Files...)
	}
	for _, p := range order {
		d.warn = append(d.warn, Warning{Code: WarnSignerChange, Message: msgs[p], Files: dedupe(files[p])})
	}
}

func notAfter(r *Rule) string {
	if r.Signer == nil || r.Signer.NotAfter.IsZero() {
		return ""
	}
	return " (not_after " + r.Signer.NotAfter.UTC().Format(time.DateOnly) + ")"
}

func supersededKey(c Criterion, value, version string, files []string) string {
	f := append([]string(nil), files...)
	sort.Strings(f)
	return strings.Join(append([]string{string(c), value, version}, f...), "\x00")
}

func keptVersions(rules []Rule) string {
	var vs []string
	for _, r := range rules {
		vs = appendUnique(vs, r.AppVersion)
	}
	sort.Strings(vs)
	return strings.Join(vs, ", ")
}

func keptCount(rules []Rule) int {
	n := 0
	for _, r := range rules {
		if r.AppVersion != "" {
			n++
		}
	}
	return n
}

func dedupe(list []string) []string {
	out := appendUnique(nil, list...)
	sort.Strings(out)
	return out
}
