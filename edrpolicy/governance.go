package edrpolicy

import (
	"fmt"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
)

// ModulePath is this module's path, how Generator finds its version in a binary's build
// information.
const ModulePath = "github.com/edrpolicy/edrpolicy"

// GeneratorName is Generator.Name in every policy this package writes.
const GeneratorName = "edrpolicy"

// Generator says which program wrote a policy: policy.json's "generator".
type Generator struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// DefaultGenerator is the Generator of this build: the module version from the build
// information ("(devel)" for a build from a source checkout without a version, such as `go
// test` and `go run` without VCS stamping). It holds no VCS revision or time, so every run of
// one binary writes the same bytes.
func DefaultGenerator() Generator {
	g := Generator{Name: GeneratorName, Version: "(devel)"}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return g
	}
	v := ""
	if bi.Main.Path == ModulePath {
		v = bi.Main.Version
	} else {
		for _, m := range bi.Deps {
			if m.Path == ModulePath {
				v = m.Version
				if m.Replace != nil && m.Replace.Version != "" {
					v = m.Replace.Version
				}
				break
			}
		}
	}
	if v != "" {
		g.Version = v
	}
	return g
}

// GovernanceOptions are the governance values asked for a policy (generate --owner,
// --justification, --expires, --max-age, --scope). Decide fills every rule from them and
// records them, as given, as policy.json's "governance".
type GovernanceOptions struct {
	Owner         string `json:"owner,omitempty"`
	Justification string `json:"justification,omitempty"`
	Scope         string `json:"scope,omitempty"`
	// Expires is a review date for every rule: a day (2027-03-01; an RFC 3339 time counts
	// as its UTC day) given to every rule, or a duration (90d, 12w, 6m, 1y) from the day of
	// the run for new rules, while a rule carried over from the previous policy keeps the
	// expiry it had. Signer rules never outlive their certificate: they carry the earlier of
	// this and the day of the leaf certificate's not_after.
	Expires string `json:"expires,omitempty"`
	// MaxAge is the longest a rule may live (90d, 12w, 6m, 1y): a rule expires MaxAge after
	// the day it first appeared (Rule.FirstSeen, carried from the previous policy), a
	// signer rule at the certificate's not_after if that comes first.
	MaxAge string `json:"max_age,omitempty"`
}

// IsZero reports whether no governance value is set.
func (g GovernanceOptions) IsZero() bool { return g == GovernanceOptions{} }

// ExpiresSet reports whether an expiry (Expires or MaxAge) was asked for: then the vendor
// files carry each rule's expiry (exporters.Options.Expiration "" means "rule" for such a
// policy).
func (g *GovernanceOptions) ExpiresSet() bool {
	return g != nil && (g.Expires != "" || g.MaxAge != "")
}

// DateLayout is how governance days are written in first_seen and messages.
const DateLayout = "2006-01-02"

var reDuration = regexp.MustCompile(`^([0-9]{1,5})([dwmy])$`)

// Duration is a governance duration: N days, weeks, months or years.
type Duration struct {
	N    int
	Unit byte // d, w, m or y
}

// ParseDuration parses a governance duration: 90d, 12w, 6m, 1y (at least one day, at most
// 100 years).
func ParseDuration(s string) (Duration, error) {
	m := reDuration.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return Duration{}, fmt.Errorf("%q is not a duration: want a number and d, w, m or y (90d, 12w, 6m, 1y)", s)
	}
	n, _ := strconv.Atoi(m[1])
	d := Duration{N: n, Unit: m[2][0]}
	if n == 0 {
		return Duration{}, fmt.Errorf("%q: a duration of zero expires everything at once", s)
	}
	if d.AddTo(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).After(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)) {
		return Duration{}, fmt.Errorf("%q is longer than 100 years", s)
	}
	return d, nil
}

// AddTo returns the day d after day (calendar months and years).
func (d Duration) AddTo(day time.Time) time.Time {
	switch d.Unit {
	case 'w':
		return day.AddDate(0, 0, 7*d.N)
	case 'm':
		return day.AddDate(0, d.N, 0)
	case 'y':
		return day.AddDate(d.N, 0, 0)
	}
	return day.AddDate(0, 0, d.N)
}

// ParseDay parses a governance day: YYYY-MM-DD, or an RFC 3339 time (its UTC day).
func ParseDay(s string) (time.Time, error) {
	if t, err := time.Parse(DateLayout, s); err == nil {
		return t, nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is not a date: want YYYY-MM-DD (or an RFC 3339 time)", s)
	}
	return Day(t), nil
}

// Day is midnight UTC of t's UTC day.
func Day(t time.Time) time.Time {
	u := t.UTC()
	return time.Date(u.Year(), u.Month(), u.Day(), 0, 0, 0, 0, time.UTC)
}

// formatExpires writes a governance day as policy.json's expires: RFC 3339 at midnight UTC.
func formatExpires(day time.Time) string { return Day(day).Format(time.RFC3339) }

// governance is GovernanceOptions parsed, for one Decide run.
type governance struct {
	opts        GovernanceOptions
	today       time.Time
	expiresDay  time.Time // Expires as a day
	expiresDur  *Duration // Expires as a duration
	maxAge      *Duration
	carryExpiry bool             // the previous policy asked for an expiry: carried rules keep theirs
	prev        map[string]*Rule // previous rules by ruleKey
}

// ValidateGovernance checks the Expires and MaxAge values as Decide does: an *OptionError
// names the field (Governance.Expires, Governance.MaxAge); a date in the past is refused.
func ValidateGovernance(g GovernanceOptions, now time.Time) error {
	_, err := newGovernance(g, nil, now)
	return err
}

func newGovernance(g GovernanceOptions, prev *Policy, now time.Time) (*governance, error) {
	gv := &governance{opts: g, today: Day(now), prev: map[string]*Rule{}}
	if g.Expires != "" {
		if d, err := ParseDuration(g.Expires); err == nil {
			gv.expiresDur = &d
		} else if day, err2 := ParseDay(g.Expires); err2 == nil {
			if day.Before(gv.today) {
				return nil, optionf("Governance.Expires", g.Expires, "%s is in the past (today is %s)", day.Format(DateLayout), gv.today.Format(DateLayout))
			}
			gv.expiresDay = day
		} else {
			return nil, optionf("Governance.Expires", g.Expires, "want a date (2027-03-01) or a duration (90d, 12w, 6m, 1y)")
		}
	}
	if g.MaxAge != "" {
		d, err := ParseDuration(g.MaxAge)
		if err != nil {
			return nil, optionErr("Governance.MaxAge", g.MaxAge, err)
		}
		gv.maxAge = &d
	}
	if prev != nil {
		gv.carryExpiry = prev.Governance.ExpiresSet()
		for i := range prev.Rules {
			r := &prev.Rules[i]
			if _, dup := gv.prev[ruleKey(r)]; !dup {
				gv.prev[ruleKey(r)] = r
			}
		}
	}
	return gv, nil
}

// apply fills r's governance: owner, justification and scope as asked; first_seen (with
// MaxAge) carried from the previous policy's same rule or today; expires the earliest of
// the asked expiry, first_seen + MaxAge and the certificate's day.
func (g *governance) apply(r *Rule) {
	r.Owner, r.Justification, r.Scope = g.opts.Owner, g.opts.Justification, g.opts.Scope
	prev := g.prev[ruleKey(r)]
	var exp []time.Time
	if r.Criterion == CriterionSigner && r.Signer != nil && !r.Signer.NotAfter.IsZero() {
		exp = append(exp, Day(r.Signer.NotAfter))
	}
	switch {
	case !g.expiresDay.IsZero():
		exp = append(exp, g.expiresDay)
	case g.expiresDur != nil:
		if d, ok := g.carried(prev); ok {
			exp = append(exp, d)
		} else {
			exp = append(exp, g.expiresDur.AddTo(g.today))
		}
	}
	if g.maxAge != nil {
		first := g.today
		if prev != nil {
			if d, err := time.Parse(DateLayout, prev.FirstSeen); err == nil && !d.After(g.today) {
				first = d
			}
		}
		r.FirstSeen = first.Format(DateLayout)
		exp = append(exp, g.maxAge.AddTo(first))
	}
	r.Expires = ""
	if len(exp) > 0 {
		min := exp[0]
		for _, t := range exp[1:] {
			if t.Before(min) {
				min = t
			}
		}
		r.Expires = formatExpires(min)
	}
}

// carried returns the expiry the previous policy gave the same rule, when it asked for one.
func (g *governance) carried(prev *Rule) (time.Time, bool) {
	if prev == nil || !g.carryExpiry || prev.Expires == "" {
		return time.Time{}, false
	}
	d, err := ParseDay(prev.Expires)
	return d, err == nil
}

// record returns the governance to write as policy.json's "governance", or nil.
func (g *governance) record() *GovernanceOptions {
	if g.opts.IsZero() {
		return nil
	}
	o := g.opts
	return &o
}

// expiredWarning returns a warning naming the rules whose expiry day is today or past
// (a rule carried with --max-age may be), or nil.
func expiredWarning(rules []Rule, today time.Time) *Warning {
	var files []string
	n := 0
	for _, r := range rules {
		if r.Expires == "" {
			continue
		}
		if r.Signer != nil && !r.Signer.NotAfter.IsZero() && r.Expires == formatExpires(r.Signer.NotAfter) {
			// The certificate's own day, not an expiry anyone asked for: an expired
			// certificate is the signer-expired warning (and a timestamped signature outlives
			// it: check EDR011).
			continue
		}
		if d, err := ParseDay(r.Expires); err == nil && !d.After(Day(today)) {
			n++
			files = append(files, r.Files...)
		}
	}
	if n == 0 {
		return nil
	}
	return &Warning{Code: WarnExpired, Message: fmt.Sprintf("%d rule(s) have expired (expires on or before %s): review them, renew the approval or remove them; check fails on them", n, Day(today).Format(DateLayout)), Files: dedupe(files)}
}
