// Package exporters renders a policy (edrpolicy.Policy) as the files each EDR vendor imports:
// CrowdStrike Falcon (package exporters/crowdstrike), SentinelOne (exporters/sentinelone) and
// Microsoft Defender for Endpoint (exporters/defender).
//
// An Exporter never writes files: it returns them as []edrpolicy.OutputFile, with warnings
// for every rule the vendor cannot express and the fallback used, and the caller writes them
// with edrpolicy.WriteOutputs (atomically, with MANIFEST.sha256). The same policy and options
// always give byte-identical files.
//
// Default returns a new Registry holding the three built-in exporters; Registry.Register adds
// your own. There is no package-level registry to mutate.
//
// The vendors' formats and the parts of them that no primary source confirms are listed in
// each vendor package's documentation; UNCONFIRMED parts are labelled so in code, in
// documentation and in an export-unconfirmed warning whenever a file relies on them.
package exporters

import (
	"fmt"
	"sort"
	"strings"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/exporters/crowdstrike"
	"github.com/edrpolicy/edrpolicy/exporters/defender"
	"github.com/edrpolicy/edrpolicy/exporters/internal/core"
	"github.com/edrpolicy/edrpolicy/exporters/sentinelone"
	"github.com/edrpolicy/edrpolicy/hashing"
)

// Options configure an export: the formats, expiration, extra digests and each vendor's
// options. See the field documentation.
type Options = core.Options

// CrowdStrikeOptions, SentinelOneOptions and DefenderOptions are the per-vendor options.
type (
	CrowdStrikeOptions = core.CrowdStrikeOptions
	SentinelOneOptions = core.SentinelOneOptions
	DefenderOptions    = core.DefenderOptions
)

// Warning codes exporters use in the edrpolicy.Warning values they return.
const (
	WarnSkipped     = core.WarnSkipped     // a rule was not exported for a vendor
	WarnFallback    = core.WarnFallback    // a rule was exported in another form; the message says which
	WarnUnconfirmed = core.WarnUnconfirmed // a written file relies on a format no primary source confirms
	WarnNote        = core.WarnNote        // something worth knowing about the vendor's handling
)

// Exporter renders a policy as one vendor's files.
type Exporter interface {
	// Name is the vendor name used with --vendor, e.g. "crowdstrike".
	Name() string
	// Formats are the kinds of file the exporter can write (json, csv, ...), for --format.
	Formats() []string
	// Export returns the vendor files for p (none for a file that would be empty) and a
	// warning for each rule it could not express. An error means nothing should be written:
	// invalid options, a malformed rule value or a vendor limit exceeded.
	Export(p *edrpolicy.Policy, o Options) ([]edrpolicy.OutputFile, []edrpolicy.Warning, error)
}

// Registry maps vendor names to exporters. The zero value is not usable; use NewRegistry or
// Default.
type Registry struct {
	byName map[string]Exporter
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byName: map[string]Exporter{}} }

// Default returns a new registry holding the built-in exporters: crowdstrike, sentinelone and
// defender. Each call returns a fresh registry.
func Default() *Registry {
	r := NewRegistry()
	for _, e := range []Exporter{crowdstrike.New(), sentinelone.New(), defender.New()} {
		r.byName[e.Name()] = e
	}
	return r
}

// Register adds an exporter. Its name must be lower-case letters, digits and '-', and not
// already registered.
func (r *Registry) Register(e Exporter) error {
	if e == nil {
		return fmt.Errorf("exporters: Register: nil exporter")
	}
	name := e.Name()
	if name == "" || strings.Trim(name, "abcdefghijklmnopqrstuvwxyz0123456789-") != "" {
		return fmt.Errorf("exporters: Register: name %q: use lower-case letters, digits and '-'", name)
	}
	if _, dup := r.byName[name]; dup {
		return fmt.Errorf("exporters: Register: %q is already registered", name)
	}
	r.byName[name] = e
	return nil
}

// Lookup returns the exporter registered under name.
func (r *Registry) Lookup(name string) (Exporter, bool) {
	e, ok := r.byName[name]
	return e, ok
}

// Names lists the registered vendor names, sorted.
func (r *Registry) Names() []string {
	names := make([]string, 0, len(r.byName))
	for n := range r.byName {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Export runs the named vendors' exporters over p, in the order given, and returns all their
// files and warnings. It fails when a vendor is unknown, when a format in o.Formats is
// written by none of the vendors, when two exporters would write the same file name, when an
// exporter fails (the error names the vendor), or when a path rule is one the guardrails or
// check refuse (edrpolicy.PathRuleRefusals: a drive root, a temp folder, a bare wildcard, an
// environment variable, a UNC spelling..., or an executable rule over a folder) and o.Force
// does not override it. A guardrail-forced warning in the policy is not trusted: anyone can
// write one into a policy file.
func Export(reg *Registry, p *edrpolicy.Policy, vendors []string, o Options) ([]edrpolicy.OutputFile, []edrpolicy.Warning, error) {
	if reg == nil {
		return nil, nil, fmt.Errorf("exporters: nil registry")
	}
	if p == nil {
		return nil, nil, fmt.Errorf("exporters: nil policy")
	}
	if len(vendors) == 0 {
		return nil, nil, fmt.Errorf("no vendor given; known vendors: %s", strings.Join(reg.Names(), ", "))
	}
	var forcedWarns []edrpolicy.Warning
	if ge := p.RefusalsWith(o.Guardrails); ge != nil {
		if !o.Force || !ge.Forcible() {
			return nil, nil, ge
		}
		for _, r := range ge.Refusals {
			forcedWarns = append(forcedWarns, edrpolicy.Warning{Code: "guardrail-forced", Message: fmt.Sprintf("path rule %s exported with --force although it is %s", r.Path, r.Reason), Files: []string{r.Path}})
		}
	}
	var exps []Exporter
	seen := map[string]bool{}
	kinds := map[string]bool{}
	for _, v := range vendors {
		e, ok := reg.Lookup(v)
		if !ok {
			return nil, nil, fmt.Errorf("vendor %q: unknown; known vendors: %s", v, strings.Join(reg.Names(), ", "))
		}
		if seen[v] {
			continue
		}
		seen[v] = true
		exps = append(exps, e)
		for _, f := range e.Formats() {
			kinds[f] = true
		}
	}
	for _, f := range o.Formats {
		if !kinds[f] {
			return nil, nil, fmt.Errorf("format %q: not written by %s (formats: %s)", f, strings.Join(vendors, ", "), strings.Join(sortedKeys(kinds), ", "))
		}
	}
	var files []edrpolicy.OutputFile
	warns := forcedWarns
	names := map[string]string{}
	for _, e := range exps {
		fs, ws, err := e.Export(p, o)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		for _, f := range fs {
			if prev, dup := names[f.Name]; dup {
				return nil, nil, fmt.Errorf("%s and %s both write %s", prev, e.Name(), f.Name)
			}
			names[f.Name] = e.Name()
		}
		files = append(files, fs...)
		warns = append(warns, ws...)
	}
	return files, warns, nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// DigestsFromInventory indexes an inspection's digests by SHA-256, for Options.Digests: run
// `edrpolicy inspect --format json --digests sha1,md5` over the same install and pass the
// result here so that SentinelOne gets SHA-1 and Falcon MD5.
func DigestsFromInventory(inv *edrpolicy.Inventory) map[string]hashing.Digests {
	out := map[string]hashing.Digests{}
	if inv == nil {
		return out
	}
	for _, f := range inv.Files {
		if f.SHA256 == "" {
			continue
		}
		out[strings.ToLower(f.SHA256)] = f.Digests
	}
	return out
}

// CSVCell neutralises a CSV cell that a spreadsheet would run as a formula: a cell starting
// with = + - @, tab or carriage return gets a leading apostrophe.
func CSVCell(s string) string { return core.CSVCell(s) }

// PSQuote returns s as a PowerShell single-quoted string: nothing inside is expanded and
// every quote character (the apostrophe and the typographic single quotes PowerShell also
// accepts) is doubled.
func PSQuote(s string) string { return core.PSQuote(s) }

// GlobSyntax describes a vendor's path pattern syntax: the characters it reads as pattern
// syntax and its escape character (0 if it documents none). In a policy path rule '*' is the
// policy's own one-segment wildcard and every other character is literal.
type GlobSyntax = core.GlobSyntax

// EscapeGlob returns a policy path value in a vendor's syntax: literal metacharacters are
// escaped, or, when the vendor documents no escape, an error names the character and the
// rule should be refused with a warning.
func EscapeGlob(value string, g GlobSyntax) (string, error) { return core.EscapeGlob(value, g) }

// Describe is the description every exported entry carries: application, version, files,
// and the reason for the criterion.
func Describe(p *edrpolicy.Policy, r *edrpolicy.Rule) string { return core.Describe(p, r) }
