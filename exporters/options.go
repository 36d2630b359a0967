package exporters

import (
	"errors"
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
)

// ValidateOptions checks every enumerated value of o against what the built-in exporters
// take, whether or not their vendor is exported in this run, so that a misspelt value is an
// error rather than a setting silently ignored: the formats (the kinds of file some vendor
// writes), the expiration, Falcon's action and excluded_from, SentinelOne's path mode and
// Defender's merge policy. Each fault is one *edrpolicy.OptionError of the join, naming the
// field (Formats, Expiration, CrowdStrike.Action, ...).
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
			errs = append(errs, optionf("Formats", f, "want %s", strings.Join(sortedKeys(kinds), ", ")))
		}
	}
	switch o.Expiration {
	case "", "none", "rule":
	default:
		if _, err := core.ParseExpiration(o.Expiration); err != nil {
			errs = append(errs, optionf("Expiration", o.Expiration, "want none, rule, YYYY-MM-DD or an RFC 3339 time"))
		}
	}
	if a := o.CrowdStrike.Action; a != "" && a != "allow" && a != "no_action" {
		errs = append(errs, optionf("CrowdStrike.Action", a, "want allow or no_action"))
	}
	for _, e := range o.CrowdStrike.ExcludedFrom {
		if e != "blocking" && e != "extraction" {
			errs = append(errs, optionf("CrowdStrike.ExcludedFrom", e, "want blocking or extraction"))
		}
	}
	if m := o.SentinelOne.Mode; m != "" && !contains(sentinelone.Modes, m) {
		errs = append(errs, optionf("SentinelOne.Mode", m, "want one of %s", strings.Join(sentinelone.Modes, ", ")))
	}
	if m := o.Defender.MergePolicy; m != "" && m != "merge" && m != "admin_only" {
		errs = append(errs, optionf("Defender.MergePolicy", m, "want merge or admin_only"))
	}
	return errors.Join(errs...)
}

func optionf(field, value, format string, args ...any) *edrpolicy.OptionError {
	return &edrpolicy.OptionError{Field: field, Value: value, Reason: fmt.Sprintf(format, args...)}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
