package exporters

import (
	"errors"
	"fmt"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/crowdstrike"
	"github.com/edrpolicy/edrpolicy/exporters/defender"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
	"github.com/edrpolicy/edrpolicy/hashing"
)

// Options are the options every exporter shares: which files to write, the expiry written
// into entries, extra digests of the inspected files, and how the refusals are applied
// (Admit). The zero value writes every kind of file, no expiry unless the policy asked for
// one, and refuses what the guardrails refuse.
//
// Each vendor's own configuration (Falcon host groups, SentinelOne scope, Defender device
// groups, ...) is not here: it is given to the vendor's exporter when it is made, as in
// defender.New(defender.Options{SHA1: true}); see Configured for the built-in three.
type Options struct {
	// Formats restricts the output to these kinds of file (json, csv, cer, ps1, plist: each
	// exporter's Formats lists the kinds it writes); empty means every kind. A kind no
	// exporter of the run writes is an error (Collect), a kind no built-in exporter writes
	// an *edrpolicy.OptionError for Formats (ValidateOptions).
	Formats []string
	// Expiration is the expiry written into every entry: "" (each rule's expires when the
	// policy asked for a governance expiry, else none), "none", "rule" (each rule's expires,
	// which for signer rules is at the latest the day of the leaf certificate's not_after)
	// or a date, YYYY-MM-DD (midnight UTC) or RFC 3339. The vendors write it in their own
	// fields: Defender ExpirationTime (CSV) and expirationTime (API), Falcon IOC expiration;
	// every entry's description (Falcon comment and description, SentinelOne description)
	// names the day.
	Expiration string
	// Digests are extra digests of the inspected files keyed by lower-case SHA-256: the SHA-1
	// SentinelOne hash exclusions take, the MD5 of a Falcon md5 IOC, the SHA-1 of a Defender
	// FileSha1 indicator. A policy made by an inspection that computed the digests the
	// exporters ask for (DigestsFor) carries them on its rules already; for another policy,
	// DigestsFromInventory builds this map from an inspection of the same install.
	Digests map[string]hashing.Digests

	// Force exports the rules the refusals would stop (Admit): path rules the guardrails
	// refuse (drive roots, temp folders, bare wildcards...), rules that allow an interpreter,
	// signer rules that name a risky signer; each becomes a warning (guardrail-forced,
	// interpreter-forced, risky-signer-forced). It is the only override: a forced warning in
	// the policy itself is not trusted. Executable folder rules are refused even with Force.
	Force bool
	// Guardrails adds a host check to the path guardrails (edrpolicy.GuardrailOptions); the
	// zero value judges paths by their spelling alone.
	Guardrails edrpolicy.GuardrailOptions
	// RiskySigners is the list a signer rule is judged against (nil:
	// edrpolicy.DefaultRiskySigners): a rule naming one is refused unless Force.
	RiskySigners *edrpolicy.RiskySigners
	// Interpreters is the list an executable rule is judged against (nil:
	// edrpolicy.DefaultInterpreters): a rule allowing one is refused unless Force.
	Interpreters *edrpolicy.Interpreters
}

// shared returns o as the exporters' shared options (same fields).
func (o Options) shared() core.Options { return core.Options(o) }

// Vendors configure the built-in exporters (see Configured). The zero value of each is
// that vendor's safe default, except that SentinelOne needs a scope to export.
type Vendors struct {
	// CrowdStrike configures the Falcon exporter.
	CrowdStrike crowdstrike.Options
	// SentinelOne configures the SentinelOne exporter.
	SentinelOne sentinelone.Options
	// Defender configures the Microsoft Defender exporter.
	Defender defender.Options
}

// Configured returns a new registry holding the built-in exporters, each made with its
// options in v. Every vendor's options are validated whether or not that vendor is exported
// later, so that a misspelt value is an error rather than a setting silently ignored: each
// fault is one *edrpolicy.OptionError of the join, naming the field as "CrowdStrike.Action",
// "SentinelOne.Mode", "Defender.MergePolicy", ... What depends on the policy (SentinelOne's
// scope, an Interoperability mode for a macOS policy, the Defender merge base) is checked
// when exporting.
func Configured(v Vendors) (*Registry, error) {
	if err := errors.Join(v.CrowdStrike.Validate(), v.SentinelOne.Validate(), v.Defender.Validate()); err != nil {
		return nil, err
	}
	r := NewRegistry()
	for _, e := range []Exporter{crowdstrike.New(v.CrowdStrike), sentinelone.New(v.SentinelOne), defender.New(v.Defender)} {
		r.byName[e.Name()] = e
	}
	return r, nil
}

// DigestsFor returns the digests besides SHA-256 that the named vendors' exporters write, as
// each is configured (Exporter.Digests): give them to the inspection
// (edrpolicy.InspectOptions.Digests) so that the policy's hash rules carry them. An unknown
// vendor is an error.
func DigestsFor(reg *Registry, vendors []string) (hashing.Algorithms, error) {
	var a hashing.Algorithms
	for _, v := range vendors {
		e, ok := reg.Lookup(v)
		if !ok {
			return a, fmt.Errorf("vendor %q: unknown; known vendors: %s", v, strings.Join(reg.Names(), ", "))
		}
		d := e.Digests()
		a.SHA1 = a.SHA1 || d.SHA1
		a.MD5 = a.MD5 || d.MD5
	}
	return a, nil
}

// ValidateOptions checks the values of o on their own, whatever vendors are exported: the
// formats (each a kind of file some built-in exporter writes) and the expiration. Each fault
// is one *edrpolicy.OptionError of the join, naming the field (Formats, Expiration). The
// vendors' own options are checked by Configured, or by each exporter's Export.
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
	return errors.Join(errs...)
}

func optionf(field, value, format string, args ...any) *edrpolicy.OptionError {
	return &edrpolicy.OptionError{Field: field, Value: value, Reason: fmt.Sprintf(format, args...)}
}
