package exporters

import (
	"errors"
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
)

// ValidateOptions checks every enumerated value of o against what the built-in exporters
// take, whether or not their vendor is exported in this run, so that a misspelt flag is an
// error rather than a value silently ignored: the formats (the kinds of file some vendor
// writes), the expiration, Falcon's action and excluded_from, SentinelOne's path mode and
// Defender's merge policy. Each fault is one error of the join, naming the flag.
func ValidateOptions(o Options) error {
	var errs []error
	kinds := map[string]bool{}
	reg := Default()
	for _, n := range reg.Names() {
		e, _ := reg.Lookup(n)
		for _, f := range e.Formats() {
			kinds[f] = true
		}
	}
	for _, f := range o.Formats {
		if !kinds[f] {
			errs = append(errs, fmt.Errorf("--format %q: want %s", f, strings.Join(sortedKeys(kinds), ", ")))
		}
	}
	switch o.Expiration {
	case "", "none", "rule":
	default:
		if _, err := core.ParseExpiration(o.Expiration); err != nil {
			errs = append(errs, fmt.Errorf("--expiration %q: want none, rule, YYYY-MM-DD or an RFC 3339 time", o.Expiration))
		}
	}
	if a := o.CrowdStrike.Action; a != "" && a != "allow" && a != "no_action" {
		errs = append(errs, fmt.Errorf("--cs-action %q: want allow or no_action", a))
	}
	for _, e := range o.CrowdStrike.ExcludedFrom {
		if e != "blocking" && e != "extraction" {
			errs = append(errs, fmt.Errorf("--ml-excluded-from %q: want blocking or extraction", e))
		}
	}
	if m := o.SentinelOne.Mode; m != "" && !contains(sentinelone.Modes, m) {
		errs = append(errs, fmt.Errorf("--s1-mode %q: want one of %s", m, strings.Join(sentinelone.Modes, ", ")))
	}
	if m := o.Defender.MergePolicy; m != "" && m != "merge" && m != "admin_only" {
		errs = append(errs, fmt.Errorf("--merge-policy %q: want merge or admin_only", m))
	}
	return errors.Join(errs...)
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
