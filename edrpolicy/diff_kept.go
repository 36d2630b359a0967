package edrpolicy

// mergeKept folds the two changes --keep-previous makes for one file into one: the rule of the
// previous version, now labelled with its app_version (a "changed" label), and the rule of the
// new build that replaces it (an "added" rule of the same identity) become one "changed" line
// from the old rule to the new one, marked Kept, whose reason says the old rule stays for the
// rollout window. Other changes are left as they are, in order.
func mergeKept(changes []RuleChange) []RuleChange {
	drop := map[int]bool{}
	out := make([]RuleChange, 0, len(changes))
	for i, c := range changes {
		if drop[i] {
			continue
		}
		if c.Change != ChangeChanged || c.Old == nil || c.New == nil || c.Old.AppVersion != "" || c.New.AppVersion == "" || ruleKey(c.Old) != ruleKey(c.New) {
			out = append(out, c)
			continue
		}
		j := addedOfIdentity(changes, drop, RuleIdentity(c.Old))
		if j < 0 {
			out = append(out, c)
			continue
		}
		drop[j] = true
		label := c.New.AppVersion
		m := change(ChangeChanged, c.Old, changes[j].New, changeReason(c.Old, changes[j].New)+"; the previous rule is kept for the rollout window, labelled app_version "+label)
		m.Kept = true
		out = append(out, m)
	}
	return out
}

// addedOfIdentity returns the index of an added, unlabelled rule of identity id not yet
// merged, or -1.
func addedOfIdentity(changes []RuleChange, drop map[int]bool, id string) int {
	for j, a := range changes {
		if !drop[j] && a.Change == ChangeAdded && a.New != nil && a.New.AppVersion == "" && RuleIdentity(a.New) == id {
			return j
		}
	}
	return -1
}
