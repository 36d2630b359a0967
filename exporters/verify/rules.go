package verify

import (
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/check"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/hashing"
)

// probeName is the name given to the file or folder a probe path invents below a folder rule.
const probeName = "edrpolicy-probe"

// rulesExpressed checks that every hash and path rule the simulation did not already prove
// is expressed in each vendor's entries, route by route: a hash rule by its digests, a path
// rule by probe paths it covers (the file itself, a file in the folder, and for subfolders a
// file one folder deeper). Signer rules need the signed files and are proved by the
// simulation only.
func (c *checker) rulesExpressed() {
	for i := range c.pol.Rules {
		targets := c.ruleTargets(&c.pol.Rules[i])
		if len(targets) == 0 {
			continue
		}
		for _, v := range c.vendors {
			rd, _ := c.reg.Reader(v)
			routes := c.routes(v)
			var missing []route
			probe := ""
			for _, r := range routes {
				if t, ok := firstUncovered(rd, r, targets, c); ok {
					missing = append(missing, r)
					if probe == "" {
						probe = t.Path
					}
				}
			}
			if len(missing) > 0 {
				c.add(check.FindingRuleNotExported, check.SeverityError, v, probe, i, "%s: the rule is not expressed, %s does not reach %s: %s", v, what(&c.pol.Rules[i]), probe, gapText(routes, missing))
			}
		}
	}
}

// firstUncovered returns the first target no entry of route r allows.
func firstUncovered(rd exporters.Reader, r route, targets []exporters.Subject, c *checker) (exporters.Subject, bool) {
	for _, t := range targets {
		if !allows(rd, r.entries, t, c.now) {
			return t, true
		}
	}
	return exporters.Subject{}, false
}

// ruleTargets returns the targets that prove rule r expressed, or none when the simulation
// already did (or the rule is a signer rule).
func (c *checker) ruleTargets(r *edrpolicy.Rule) []exporters.Subject {
	first := r.Value
	if len(r.Files) > 0 {
		first = r.Files[0]
	}
	switch r.Criterion {
	case edrpolicy.CriterionHash:
		if c.simSums[strings.ToLower(r.Value)] {
			return nil
		}
		d := hashing.Digests{SHA256: strings.ToLower(r.Value), SHA1: strings.ToLower(r.SHA1), MD5: strings.ToLower(r.MD5)}
		return []exporters.Subject{{Platform: r.Platform, Path: first, PE: true, Digests: d}}
	case edrpolicy.CriterionPath:
		if r.Match == edrpolicy.MatchFile && c.simPaths[r.Value] {
			return nil
		}
		return pathProbes(r)
	}
	return nil
}

// pathProbes are concrete paths a path rule covers: the path itself for a file rule, a file
// in the folder for a folder rule, and also one a folder deeper for a subfolders rule.
func pathProbes(r *edrpolicy.Rule) []exporters.Subject {
	sep := "/"
	if r.Platform == profile.OSWindows {
		sep = `\`
	}
	base := strings.TrimRight(exporters.Concrete(r.Value), `/\`)
	var paths []string
	switch r.Match {
	case edrpolicy.MatchFile:
		paths = []string{base}
	case edrpolicy.MatchFolder:
		paths = []string{base + sep + probeName}
	case edrpolicy.MatchSubfolders:
		paths = []string{base + sep + probeName, base + sep + probeName + sep + probeName}
	}
	out := make([]exporters.Subject, 0, len(paths))
	for _, p := range paths {
		out = append(out, exporters.Subject{Platform: r.Platform, Path: p})
	}
	return out
}

// what names what a rule's probe stands for.
func what(r *edrpolicy.Rule) string {
	if r.Criterion == edrpolicy.CriterionHash {
		return "an allow entry for the file"
	}
	return "an exclusion"
}
