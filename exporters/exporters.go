// Package exporters renders a policy (edrpolicy.Policy) as the files each EDR vendor imports:
// CrowdStrike Falcon (package exporters/crowdstrike), SentinelOne (exporters/sentinelone) and
// Microsoft Defender for Endpoint (exporters/defender).
//
// An Exporter never writes files: it returns them as []output.File, with warnings
// for every rule the vendor cannot express and the fallback used, and the caller writes them
// with output.WriteSet (atomically, with MANIFEST.sha256). The same policy and options
// always give byte-identical files.
//
// Each vendor writes only what it can express. Where it cannot express a rule (no vendor
// expresses a signer rule narrowed to its files; Defender certificate indicators are
// Windows-only; a path holding a character the vendor reads as a pattern cannot name one
// file), it writes the strongest criterion it can within the policy's level: the files'
// hashes in its own hash type (policy.json's file_digests), or at the path level a file's
// exact path; an export-fallback warning and the entry's description say so. A file nothing covers
// is an export-skipped warning naming the vendor and the file.
//
// Collect returns, besides the files, every vendor Entry written and the Coverage
// (coverage.json, part of the output set): for each vendor, each executable of the policy and
// the entry that covers it, or why none does. Entries describe their rule by its files and
// reason, never by the application version or the rule's position, so a rule that did not
// change gives the same entry byte for byte in the next run.
//
// A program using the library inspects the install with the digests the chosen vendors write
// (DigestsFor), decides the policy (edrpolicy.Decide), then exports it: Configured returns a
// Registry holding the three built-in exporters, each configured with its vendor's options
// (crowdstrike.Options, sentinelone.Options, defender.Options), and Collect runs the chosen
// ones with the Options they share. Default is Configured with every vendor's defaults;
// Registry.Register adds your own exporter. There is no package-level registry to mutate.
// examples/endtoend in the repository is the whole job as a program to copy.
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
	"github.com/edrpolicy/edrpolicy/output"
)

// Warning codes exporters use in the edrpolicy.Warning values they return.
const (
	WarnSkipped     = core.WarnSkipped     // a rule was not exported for a vendor
	WarnFallback    = core.WarnFallback    // a rule was exported in another form; the message says which
	WarnUnconfirmed = core.WarnUnconfirmed // a written file relies on a format no primary source confirms
	WarnNote        = core.WarnNote        // something worth knowing about the vendor's handling
)

// Exporter renders a policy as one vendor's files. It takes the policy only as a Request,
// which Admit makes after applying the refusals, so that no exporter, built-in or your own,
// can be handed a policy the CLI would refuse.
type Exporter interface {
	// Name is the vendor name, e.g. "crowdstrike": lower-case letters, digits and '-'.
	Name() string
	// Formats are the kinds of file the exporter can write (json, csv, ...), the values
	// Options.Formats takes.
	Formats() []string
	// Digests are the digests besides SHA-256 that the exporter writes, as it is configured
	// (SentinelOne's SHA-1 hash exclusions, Falcon's md5 IOCs when asked for, Defender's
	// FileSha1 indicators when asked for). Ask for them before inspecting (DigestsFor,
	// edrpolicy.InspectOptions.Digests) so that the policy's hash rules carry them.
	Digests() hashing.Algorithms
	// Export returns the vendor files for the admitted policy (none for a file that would be
	// empty), the entries written into them, the policy files no entry covers and a warning
	// for each rule it could not express. An error means nothing should be written: a
	// Request that Admit did not make (ErrNotAdmitted), invalid options, a malformed rule
	// value or a vendor limit exceeded. Entries and Uncovered make coverage.json: an exporter
	// that reports neither shows every executable as not covered.
	Export(r *Request) (*VendorResult, error)
}

// Request is a policy admitted for export (see Admit): the only input an Exporter takes. Its
// methods: Policy returns the request's own copy of the policy; Options returns the shared
// options it was admitted with (the fields of Options, Expiration set to "rule" when the
// policy asked for a governance expiry and none was given); Warnings returns the refusals
// Force overrode; Admitted reports whether Admit made it (an exporter given any other
// Request returns ErrNotAdmitted).
type Request = core.Request

// ErrNotAdmitted is returned by an exporter given a Request that Admit did not make.
var ErrNotAdmitted = core.ErrNotAdmitted

// Admit judges p for export with o and returns the Request the exporters take, or the
// refusals as a *edrpolicy.GuardrailError: a path rule the guardrails refuse (a drive root, a
// temp folder, a bare wildcard, an environment variable, a UNC spelling...), an executable
// rule over a folder, a rule that allows an interpreter or living-off-the-land binary, a
// signer rule that names a risky signer (edrpolicy.Policy.RefusalsWith). o.Force overrides
// every refusal but the executable folder one, each then a warning (Request.Warnings). A
// forced warning in the policy itself is not trusted: anyone can write one into a policy
// file. Collect admits the policy itself; call Admit to run one exporter directly.
func Admit(p *edrpolicy.Policy, o Options) (*Request, error) { return core.Admit(p, o.shared()) }

// Registry maps vendor names to exporters. The zero value is not usable; use NewRegistry or
// Default.
type Registry struct {
	byName map[string]Exporter
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{byName: map[string]Exporter{}} }

// Default returns a new registry holding the built-in exporters, crowdstrike, sentinelone and
// defender, each with its default options (Configured with zero Vendors: a SentinelOne export
// then fails for want of a scope). Each call returns a fresh registry.
func Default() *Registry {
	r := NewRegistry()
	for _, e := range []Exporter{crowdstrike.New(crowdstrike.Options{}), sentinelone.New(sentinelone.Options{}), defender.New(defender.Options{})} {
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

// With returns a new registry holding r's exporters and e, which takes the place of the
// exporter registered under its name if there is one (a built-in exporter configured
// otherwise, say); r itself is unchanged. Its name must be lower-case letters, digits and
// '-'.
func (r *Registry) With(e Exporter) (*Registry, error) {
	out := NewRegistry()
	for n, x := range r.byName {
		if e != nil && n != e.Name() {
			out.byName[n] = x
		}
	}
	if err := out.Register(e); err != nil {
		return nil, err
	}
	return out, nil
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

// VendorResult is one vendor's export: files, the entries written into them, the policy files
// no entry covers, warnings.
type VendorResult = core.VendorResult

// Uncovered is a group of a rule's files that a vendor's entries do not cover, and why.
type Uncovered = core.Uncovered

// Result is an export of a policy for several vendors.
type Result struct {
	// Files are the vendor files, in vendor order, then coverage.json (when at least one
	// vendor reports its entries). Write them with output.WriteSet.
	Files []output.File
	// Entries are every vendor entry written, each with its vendor and file.
	Entries []Entry
	// Warnings are the guardrail-forced, fallback, skipped, unconfirmed and note warnings.
	Warnings []edrpolicy.Warning
	// Coverage is coverage.json's content: per vendor, each executable of the policy and the
	// entry that covers it, or why none does.
	Coverage *Coverage
}

// Export runs the named vendors' exporters over p and returns the files (coverage.json
// included) and warnings. It is Collect without the entries and coverage.
func Export(reg *Registry, p *edrpolicy.Policy, vendors []string, o Options) ([]output.File, []edrpolicy.Warning, error) {
	res, err := Collect(reg, p, vendors, o)
	if err != nil {
		return nil, nil, err
	}
	return res.Files, res.Warnings, nil
}

// Collect admits p (Admit: the refusals, with o.Force the only override), runs the named
// vendors' exporters over it, in the order given, and returns all their files, entries and
// warnings, and the coverage of the policy's executables per vendor. It fails when a vendor is
// unknown, when a format in o.Formats is written by none of the vendors, when a rule is
// refused (a *edrpolicy.GuardrailError), when two exporters would write the same file name, or
// when an exporter fails (the error names the vendor).
func Collect(reg *Registry, p *edrpolicy.Policy, vendors []string, o Options) (*Result, error) {
	if reg == nil {
		return nil, fmt.Errorf("exporters: nil registry")
	}
	if p == nil {
		return nil, fmt.Errorf("exporters: nil policy")
	}
	if len(vendors) == 0 {
		return nil, fmt.Errorf("no vendor given; known vendors: %s", strings.Join(reg.Names(), ", "))
	}
	req, err := Admit(p, o)
	if err != nil {
		return nil, err
	}
	res := &Result{Warnings: req.Warnings(), Coverage: &Coverage{SchemaVersion: CoverageSchemaVersion, Vendors: []VendorCoverage{}}}
	exps, err := lookupAll(reg, vendors, o)
	if err != nil {
		return nil, err
	}
	names := map[string]string{CoverageFileName: "coverage"}
	for _, e := range exps {
		vr, err := e.Export(req)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if vr.Vendor == "" {
			vr.Vendor = e.Name()
		}
		for _, f := range vr.Files {
			if prev, dup := names[f.Name]; dup {
				return nil, fmt.Errorf("%s and %s both write %s", prev, e.Name(), f.Name)
			}
			names[f.Name] = e.Name()
		}
		res.Files = append(res.Files, vr.Files...)
		res.Warnings = append(res.Warnings, vr.Warnings...)
		res.Entries = append(res.Entries, vr.Entries...)
		res.Coverage.Vendors = append(res.Coverage.Vendors, vendorCoverage(req.Policy(), vr))
	}
	sort.Slice(res.Coverage.Vendors, func(i, j int) bool { return res.Coverage.Vendors[i].Vendor < res.Coverage.Vendors[j].Vendor })
	data, err := res.Coverage.JSON()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", CoverageFileName, err)
	}
	res.Files = append(res.Files, output.File{Name: CoverageFileName, Data: data})
	return res, nil
}

// lookupAll returns the exporters of vendors (each once) and checks o.Formats against them.
func lookupAll(reg *Registry, vendors []string, o Options) ([]Exporter, error) {
	var exps []Exporter
	seen := map[string]bool{}
	kinds := map[string]bool{}
	for _, v := range vendors {
		e, ok := reg.Lookup(v)
		if !ok {
			return nil, fmt.Errorf("vendor %q: unknown; known vendors: %s", v, strings.Join(reg.Names(), ", "))
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
			return nil, fmt.Errorf("format %q: not written by %s (formats: %s)", f, strings.Join(vendors, ", "), strings.Join(sortedKeys(kinds), ", "))
		}
	}
	return exps, nil
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

// Entry is one exception as a vendor console holds it (kind, vendor type, value, file); see
// core.Entry. EntryKind is hash, certificate or path.
type (
	Entry     = core.Entry
	EntryKind = core.EntryKind
)

// Entry kinds.
const (
	EntryHash        = core.EntryHash
	EntryCertificate = core.EntryCertificate
	EntryPath        = core.EntryPath
)
