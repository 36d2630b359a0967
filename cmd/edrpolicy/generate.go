package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/edrpolicy/edrpolicy/edrpolicy"
	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/exporters"
	"github.com/edrpolicy/edrpolicy/exporters/plan"
	"github.com/edrpolicy/edrpolicy/internal/safeopen"
	"github.com/edrpolicy/edrpolicy/output"
	"github.com/edrpolicy/edrpolicy/report"
)

// generateOptions are the flags of `edrpolicy generate`; run turns them into
// edrpolicy.GenerateOptions.
type generateOptions struct {
	profile          string
	os               profile.OS
	appVersion       string
	assumePaths      string
	product          string
	install          string
	roots            []string
	installPaths     []string
	level            string
	trustRoots       string
	pins             []string
	vendors          []string
	out              string
	previous         string
	keepPrevious     bool
	yes              bool
	force            bool
	includeLogs      bool
	noScanExclusions bool
	includeArchives  bool
	timestamp        string
	table            bool // --format table: the rules for a human on stdout
	report           string
	riskySigners     []string
	jobs             int
	gov              edrpolicy.GovernanceOptions
	vendor           vendorFlags
	vcfg             vendorConfig // from vendor, made by takeTableFormat
	fleet            fleetFlags
}

// newGenerateCmd is `edrpolicy generate`.
func newGenerateCmd(a *app) *cobra.Command {
	o := &generateOptions{}
	c := &cobra.Command{
		Use:   "generate [flags]",
		Short: "Inspect an install, decide rules, write policy.json and vendor files",
		Long:  generateLong,
		Args:  cobra.NoArgs,
		RunE:  func(c *cobra.Command, _ []string) error { return o.run(c, a) },
	}
	o.bind(c)
	return c
}

// generateLong is the help text of `edrpolicy generate`.
const generateLong = `generate inspects the install folders given with --root, reads the version (--app-version
auto) or takes it from --app-version, and decides per executable the strongest criterion the
--level allows: hash (default), signer (valid signature whose chain is trusted or whose leaf
is pinned with --pin-signer; anything else falls back to a hash rule with the reason) or path
(exact file paths; never a folder of executables). Scan exclusions for caches come from the
profile for products with backup; --include-archives adds those of backup-archive folders.

Without --out the policy is printed to stdout. With --out DIR, policy.json, the vendor files
and MANIFEST.sha256 are written as one set: staged in DIR, fsynced, then renamed into place
with the manifest last; if anything fails, DIR keeps the previous set unchanged. The same
inputs give byte-identical files (no time is recorded unless --timestamp is given). Files an
earlier run listed in DIR's manifest and this run does not write are removed, so DIR always
holds exactly one run's files.

After an upgrade, --previous old/policy.json lists in "superseded" the previous rules the
new install no longer matches and warns (signer-change) when a signer's certificate was
renewed; with --vendor it also prints the upgrade plan per console (as diff --vendor: entries
to add, delete, update, keep, the previous policy exported with the same options) and writes
each vendor's removal file into --out; --keep-previous also keeps those rules, labelled with their app_version, while a
staged rollout runs both versions. generate never prompts; --yes is accepted for scripts.

With --evidence FILE (repeatable; - for stdin; .gz accepted) the policy covers what a fleet
runs: inspect --format json of any number of hosts, osqueryd result logs, osqueryi --json
arrays and Fleet query reports (edrpolicy osquery-pack prints the queries). Digests, versions,
signature results and Team IDs that too few hosts carry (--min-hosts, --min-share) are
fleet-outlier warnings naming the hosts, and get no rule; older versions enough hosts still
run keep their rules, labelled with their app_version. Signer rules need an inspection of the
same SHA-256 (--root, or inspect evidence): osquery reports no certificate.

Exit codes: 0 policy written; 1 policy written, but something needs someone before it is
deployed: files or folders of the install could not be read (each is an "unreadable" warning
and policy.json says "partial": true), a rule could not be exported for a vendor, the
--evidence holds fleet findings or unreadable lines, an interpreter or LOLBin got no rule
(--force allows it), executables are of another OS than --os, or a rule has already expired;
2 usage error (an empty or unknown flag value, --out holding a policy.json this tool did not
write or the folder of --previous), a root with nothing to inspect, a version or fact no
source gives (the message names the flag that supplies it), a version source whose signature
does not verify (--app-version auto; give the version), a guardrail refusal or a pinned
signer that signs much else (--force records either as a warning).`

// bind defines generate's flags on c, each bound to its field of o.
func (o *generateOptions) bind(c *cobra.Command) {
	f := c.Flags()
	f.StringVar(&o.profile, "profile", "", "built-in profile (code42, generic) or profile file (JSON); required")
	f.Var((*osValue)(&o.os), "os", "target OS: windows, mac or linux (required)")
	f.StringVar(&o.appVersion, "app-version", edrpolicy.VersionAuto, "application version X.Y[.Z], or auto to read it from --root")
	f.StringVar(&o.assumePaths, "assume-paths", "", "for a version no source covers, use the path table of this candidate version")
	f.StringVar(&o.product, "product", "", "product or plan of the profile (code42: crashplan, incydr-basic, incydr-advanced, incydr-gov-f1, incydr-professional, incydr-enterprise, incydr-horizon, incydr-gov-f2)")
	f.StringVar(&o.install, "install", profile.InstallAllUsers, "install kind: all-users or per-user")
	f.StringArrayVar(&o.roots, "root", nil, "install folder to inspect (repeatable)")
	f.StringArrayVar(&o.installPaths, "install-path", nil, "the folder each --root is installed as on endpoints, in --root order (default: the profile's main application folder)")
	f.StringVar(&o.level, "level", "hash", "weakest criterion accepted for executables: hash, signer or path")
	f.StringVar(&o.trustRoots, "roots", "", "PEM file of extra trusted root certificates")
	f.StringArrayVar(&o.pins, "pin-signer", nil, "leaf thumbprint (SHA-1 or SHA-256 hex) to trust in place of a trusted chain (the leaf must still allow code signing and be valid when it signed), or an Apple Team ID whose signer rules are not narrowed when a certificate under Apple's root proves it (repeatable)")
	f.StringArrayVar(&o.vendors, "vendor", nil, "vendor files to write: crowdstrike, sentinelone, defender (repeatable or comma-separated, any case)")
	f.StringVar(&o.out, "out", "", "output directory for policy.json and MANIFEST.sha256 (default: policy to stdout)")
	f.StringVar(&o.previous, "previous", "", "the policy this one replaces: renewed signers and era changes are reported, superseded rules listed")
	f.BoolVar(&o.keepPrevious, "keep-previous", false, "with --previous: also keep the superseded rules, labelled with their app_version, for a staged rollout")
	f.BoolVar(&o.yes, "yes", false, "unattended run (accepted for scripts; generate never prompts)")
	f.BoolVar(&o.force, "force", false, "record guardrail refusals as warnings instead of failing, and write those rules to the --vendor files")
	f.BoolVar(&o.includeLogs, "include-logs", false, "add folder rules for the profile's log folders")
	f.BoolVar(&o.noScanExclusions, "no-scan-exclusions", false, "leave out the cache and backup-archive scan exclusions")
	f.BoolVar(&o.includeArchives, "include-archives", false, "add the backup-archive scan exclusions (default: caches only; archive folders are defaults an administrator may have moved)")
	f.StringVar(&o.timestamp, "timestamp", "", "record a generation time: --timestamp (now) or --timestamp=2026-01-31T00:00:00Z")
	f.Lookup("timestamp").NoOptDefVal = "now"
	f.IntVar(&o.jobs, "jobs", 0, "files inspected in parallel (default: number of CPUs)")
	f.StringArrayVar(&o.riskySigners, "risky-signers", nil, "JSON file of more signers that sign too much to pin (the format of the built-in list: edrpolicy/riskdata/risky-signers.json; repeatable)")
	f.StringVar(&o.report, "report", "", "also write a change-approval report: FILE.md (Markdown) or FILE.html (self-contained HTML); with --previous and --vendor it lists the console entries to add, delete and keep")
	f.StringVar(&o.gov.Owner, "owner", "", "governance: owner recorded on every rule")
	f.StringVar(&o.gov.Justification, "justification", "", "governance: justification recorded on every rule")
	f.StringVar(&o.gov.Expires, "expires", "", "governance: review date of every rule: a date (2027-03-01) or a duration from today (90d, 12w, 6m, 1y; a rule carried over from --previous keeps its expiry); signer rules expire with their certificate at the latest")
	f.StringVar(&o.gov.MaxAge, "max-age", "", "governance: a rule expires this long (90d, 12w, 6m, 1y) after the day it first appeared (carried from --previous); a signer rule at its certificate's not_after if earlier")
	f.StringVar(&o.gov.Scope, "scope", "", "governance: scope (host group, policy) recorded on every rule")
	o.vendor.bind(f)
	o.fleet.bind(c)
	// generate inspects the install itself and asks for the digests the vendors need.
	_ = f.MarkHidden("inspection")
}

// options turns the flags into edrpolicy.GenerateOptions, one step at a time; the first
// step that fails gives the usage error.
func (o *generateOptions) options() (edrpolicy.GenerateOptions, error) {
	var g edrpolicy.GenerateOptions
	if err := o.checkFlags(); err != nil {
		return g, err
	}
	for _, step := range []func(*edrpolicy.GenerateOptions) error{o.decideOptions, o.clock, o.readPrevious, o.installRoots, o.inspectOptions} {
		if err := step(&g); err != nil {
			return edrpolicy.GenerateOptions{}, err
		}
	}
	return g, nil
}

// checkFlags checks the flags that need no file read: the vendors and --out, the formats,
// --report's kind, --os given.
func (o *generateOptions) checkFlags() error {
	vendors, err := exporters.ParseVendors(exporters.Default(), o.vendors) // a,b; any case
	if err != nil {
		return usageErr("--vendor %w", err)
	}
	o.vendors = vendors
	if len(o.vendors) > 0 && o.out == "" {
		return usageErr("--vendor needs --out DIR: vendor files are written next to policy.json")
	}
	if o.vendor.inspection != "" {
		return usageErr("--inspection is for export: generate computes the digests the vendors need itself")
	}
	if err := o.takeTableFormat(); err != nil {
		return err
	}
	if o.report != "" {
		if _, err := report.FormatFor(o.report); err != nil {
			return usageErr("--report: %w", err)
		}
	}
	if o.os == "" {
		return usageErr("--os is required: windows, mac or linux")
	}
	return nil
}

// decideOptions sets what Decide is given: the level, install kind, profile and signer
// lists. It also reads --roots, the trusted roots the inspection verifies with, between the
// profile and the risky-signer files, so that of several bad flags the same one is reported
// first as ever.
func (o *generateOptions) decideOptions(g *edrpolicy.GenerateOptions) error {
	level, err := edrpolicy.ParseCriterion(o.level)
	if err != nil {
		return usageErr("--level: %w", err)
	}
	if o.install != profile.InstallAllUsers && o.install != profile.InstallPerUser {
		return usageErr("--install %q: want all-users or per-user", o.install)
	}
	prof, err := resolveProfile(o.profile)
	if err != nil {
		return err
	}
	if g.Inspect.Verify, err = verifyOptions(o.trustRoots); err != nil {
		return err
	}
	risky, err := loadRiskySigners(o.riskySigners)
	if err != nil {
		return err
	}
	g.Decide = edrpolicy.DecideOptions{RiskySigners: risky,
		Profile: prof, OS: o.os, AssumePaths: o.assumePaths, Product: o.product, Level: level,
		Install: o.install, PinSigners: o.pins, NoScanExclusions: o.noScanExclusions,
		IncludeLogs: o.includeLogs, IncludeArchives: o.includeArchives, Force: o.force, Governance: o.gov, KeepPrevious: o.keepPrevious,
		Guardrails: edrpolicy.HostGuardrails(),
	}
	if o.keepPrevious && o.previous == "" {
		return usageErr("--keep-previous needs --previous old-policy.json: the rules to keep come from it")
	}
	return nil
}

// clock sets "now" (SOURCE_DATE_EPOCH), checks the governance dates against it and sets the
// --timestamp to record.
func (o *generateOptions) clock(g *edrpolicy.GenerateOptions) error {
	now, err := sourceDateEpoch()
	if err != nil {
		return err
	}
	g.Decide.Now = now
	if err := edrpolicy.ValidateGovernance(o.gov, nowOr(now)); err != nil {
		return usageErr("%w", err)
	}
	switch o.timestamp {
	case "":
	case "now":
		g.Decide.Timestamp = time.Now().UTC().Truncate(time.Second)
	default:
		ts, err := time.Parse(time.RFC3339, o.timestamp)
		if err != nil {
			return usageErr("--timestamp %q: want an RFC 3339 time, or no value for now", o.timestamp)
		}
		g.Decide.Timestamp = ts
	}
	return nil
}

// readPrevious reads the --previous policy, if given.
func (o *generateOptions) readPrevious(g *edrpolicy.GenerateOptions) error {
	if o.previous == "" {
		return nil
	}
	prev, err := edrpolicy.ReadPolicy(o.previous)
	if err != nil {
		return usageErr("--previous: %w", err)
	}
	g.Decide.Previous = prev
	return nil
}

// installRoots sets the folders to inspect (cleaned), the folder each is installed as
// (--install-path, in --root order) and the roots recorded in the policy (as given).
func (o *generateOptions) installRoots(g *edrpolicy.GenerateOptions) error {
	roots := make([]string, len(o.roots))
	for i, r := range o.roots {
		roots[i] = filepath.Clean(r)
	}
	if len(o.installPaths) > 0 {
		if len(o.installPaths) != len(roots) {
			return usageErr("--install-path: give one per --root, in the same order (%d --root, %d --install-path)", len(roots), len(o.installPaths))
		}
		g.Decide.InstallPaths = map[string][]string{}
		for i, r := range roots {
			if o.installPaths[i] == "" {
				return usageErr("--install-path %d is empty", i+1)
			}
			g.Decide.InstallPaths[r] = append(g.Decide.InstallPaths[r], o.installPaths[i])
		}
	}
	g.Decide.Roots = append([]string(nil), o.roots...) // recorded as given
	g.Roots = roots
	g.AppVersion = o.appVersion
	return nil
}

// inspectOptions sets how the install is inspected. The inspection computes the digests the
// chosen vendors write besides SHA-256, as their exporters are configured (SentinelOne's
// SHA-1, --md5, --defender-sha1): they land on the hash rules of policy.json (sha1, md5).
func (o *generateOptions) inspectOptions(g *edrpolicy.GenerateOptions) error {
	digests, err := exporters.DigestsFor(o.vcfg.reg, o.vendors)
	if err != nil {
		return usageErr("--vendor %w", err)
	}
	g.Inspect.Jobs, g.Inspect.Digests = o.jobs, digests
	return nil
}

// run is generate: flags → options → inspect and decide → the policy on stdout, or the
// output set in --out.
func (o *generateOptions) run(c *cobra.Command, a *app) error {
	g, err := o.options()
	if err != nil {
		return err
	}
	pol, err := o.decide(c, a, g)
	if err != nil {
		return err
	}
	data, err := pol.JSON()
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("generate: encoding policy: %w", err)}
	}
	if o.out == "" {
		return o.printPolicy(a, pol, data)
	}
	return o.writeOut(a, g, pol, data)
}

// decide inspects the install (or reads the --evidence) and decides the policy, with a
// progress bar on a terminal.
func (o *generateOptions) decide(c *cobra.Command, a *app, g edrpolicy.GenerateOptions) (*edrpolicy.Policy, error) {
	bar := newProgressBar(a)
	g.Inspect.Progress = bar.update
	pol, err := o.generate(c.Context(), a, g)
	bar.finish()
	if err != nil {
		var ue *profile.UnknownError
		var ge *edrpolicy.GuardrailError
		var re *edrpolicy.RiskySignerError
		switch {
		case errors.As(err, &ue), errors.As(err, &ge), errors.As(err, &re):
			return nil, &exitErr{code: exitError, err: fmt.Errorf("generate: %w", err), note: "no files were written"}
		}
		return nil, &exitErr{code: exitError, err: fmt.Errorf("generate: %w", err)}
	}
	return pol, nil
}

// printPolicy is generate without --out: the policy (JSON, or the rules table) on stdout,
// its warnings on stderr, the --report file.
func (o *generateOptions) printPolicy(a *app, pol *edrpolicy.Policy, data []byte) error {
	var err error
	if o.table {
		err = writeRulesTable(a.stdout, pol)
	} else {
		_, err = a.stdout.Write(data)
	}
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("writing output: %w", err)}
	}
	for _, w := range pol.Warnings {
		warnLine(a, w.Code, w.Message)
	}
	if err := o.writeReport(a, pol, nil, nil, nil); err != nil {
		return err
	}
	return exitFor(a, pol, false)
}

// generatedSet is what generate writes into --out and what made it.
type generatedSet struct {
	files    []output.File     // policy.json, the vendor files, coverage.json, the removal files
	exported *exporters.Result // nil without --vendor
	upgrade  *plan.Plan        // nil without --previous and --vendor
	removals int               // how many of files are removal files
}

// writeOut is generate with --out: the folder checked, the set made and written, the
// --report file, then the summary, warnings and upgrade plan.
func (o *generateOptions) writeOut(a *app, g edrpolicy.GenerateOptions, pol *edrpolicy.Policy, data []byte) error {
	if err := checkOutDir(o.out, o.previous); err != nil && !o.force {
		return usageErr("generate: %w", err)
	}
	set, err := o.exportSet(g, pol, data)
	if err != nil {
		return err
	}
	if err := output.WriteSet(o.out, set.files); err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("generate: %w", err)}
	}
	if err := o.writeReport(a, pol, set.files, set.exported, set.upgrade); err != nil {
		return err
	}
	o.printWritten(a, pol, set)
	for _, w := range pol.Warnings {
		warnLine(a, w.Code, w.Message)
	}
	if set.upgrade != nil {
		if err := writePlanTable(a.stdout, set.upgrade); err != nil {
			return &exitErr{code: exitError, err: fmt.Errorf("writing output: %w", err)}
		}
	}
	attn := set.exported != nil && printExportResult(a, set.exported)
	return exitFor(a, pol, attn)
}

// exportSet makes the output set: policy.json, and with --vendor the vendor files and, with
// --previous, the upgrade plan's removal files.
func (o *generateOptions) exportSet(g edrpolicy.GenerateOptions, pol *edrpolicy.Policy, data []byte) (*generatedSet, error) {
	set := &generatedSet{files: []output.File{{Name: output.PolicyFileName, Data: data}}}
	if len(o.vendors) == 0 {
		return set, nil
	}
	eopts := o.vcfg.opts
	// The vendor files are written by this command: its --force is the override, the
	// policy's forced warnings are not; its rules are judged with the lists it was
	// decided with (--risky-signers).
	eopts.Force, eopts.Guardrails = o.force, g.Decide.Guardrails
	eopts.RiskySigners, eopts.Interpreters = g.Decide.RiskySigners, g.Decide.Interpreters
	exported, err := exporters.Collect(o.vcfg.reg, pol, o.vendors, eopts)
	if err != nil {
		return nil, &exitErr{code: exitError, err: fmt.Errorf("generate: %w", err), note: "no files were written"}
	}
	set.exported = exported
	set.files = append(set.files, exported.Files...)
	if g.Decide.Previous != nil {
		upgrade, rfiles, err := upgradePlan(o.vcfg.reg, g.Decide.Previous, o.previous, exported.Files, o.vendors, eopts)
		if err != nil {
			return nil, &exitErr{code: exitError, err: fmt.Errorf("generate: upgrade plan: %w", err), note: "no files were written"}
		}
		set.upgrade = upgrade
		set.files = append(set.files, rfiles...)
		set.removals = len(rfiles)
	}
	return set, nil
}

// printWritten says on stdout what was written: policy.json with its summary and warning
// count, and with --vendor the vendor, coverage and removal files.
func (o *generateOptions) printWritten(a *app, pol *edrpolicy.Policy, set *generatedSet) {
	nWarn := len(pol.Warnings) // every warning line printed after this: the policy's and the export's
	if set.exported != nil {
		nWarn += len(set.exported.Warnings)
	}
	fmt.Fprintf(a.stdout, "%s: %s, %s\n", esc(filepath.Join(o.out, output.PolicyFileName)), esc(pol.Summary.Text), plural(nWarn, "warning"))
	if set.exported == nil {
		return
	}
	n := len(set.files) - 1 - set.removals // policy.json and the removal files
	also := ""
	if len(set.exported.Coverage.Vendors) > 0 {
		n, also = n-1, ", "+exporters.CoverageFileName
	}
	if set.removals > 0 {
		also += ", " + plural(set.removals, "removal file")
	}
	fmt.Fprintf(a.stdout, "%s: %s%s and %s\n", esc(o.out), plural(n, "vendor file"), also, output.ManifestName)
}

// exitFor is generate's exit: 1 when something needs someone before the policy is deployed
// (interpreters, attn: the export's findings), or when it was built from a partial read.
func exitFor(a *app, pol *edrpolicy.Policy, attn bool) error {
	if interpreters(a, pol) || attn {
		partialRead(a, pol)
		return attention()
	}
	return partialRead(a, pol)
}

// interpreters says on stderr what needs someone before the policy is deployed
// (Policy.Attention, the unreadable warnings aside: partialRead says those) and reports
// whether anything does: generate exits 1 for interpreters left without a rule (leave them
// to the EDR, or allow them with --force knowing that every script they run is allowed
// too), executables of another OS than --os, and rules that have already expired.
func interpreters(a *app, pol *edrpolicy.Policy) bool {
	attn := false
	for _, w := range pol.Attention() {
		switch w.Code {
		case edrpolicy.WarnInterpreter:
			fmt.Fprintf(a.stderr, "edrpolicy: %s got no rule: interpreters and living-off-the-land binaries run whatever they are given (give --force to allow them anyway)\n", plural(len(w.Files), "file"))
		case edrpolicy.WarnOSMismatch:
			fmt.Fprintf(a.stderr, "edrpolicy: %s of another OS than --os %s: check --os and --root (see the os-mismatch warning)\n", plural(len(w.Files), "executable"), esc(string(pol.OS)))
		case edrpolicy.WarnExpired:
			fmt.Fprintf(a.stderr, "edrpolicy: rules have expired (see the expired warning): renew the approval (--expires) or remove them\n")
		default:
			continue
		}
		attn = true
	}
	return attn
}

// loadRiskySigners returns the built-in risky-signer list extended with the files given.
func loadRiskySigners(files []string) (*edrpolicy.RiskySigners, error) {
	l := edrpolicy.DefaultRiskySigners()
	for _, f := range files {
		if f == "" {
			return nil, usageErr("--risky-signers: an empty file name")
		}
		data, err := safeopen.ReadFile("", f, safeopen.MaxProfile)
		if err != nil {
			return nil, usageErr("--risky-signers: %w", err)
		}
		more, err := edrpolicy.ParseRiskySigners(data)
		if err != nil {
			return nil, usageErr("--risky-signers %s: %w", f, err)
		}
		l.Add(more)
	}
	return l, nil
}

// takeTableFormat takes "table" out of --format (the other values are the vendor file kinds)
// and checks every value, also without --vendor: a misspelt --format is an error, not a
// value silently ignored.
func (o *generateOptions) takeTableFormat() error {
	var kinds []string
	for _, f := range o.vendor.formats {
		if f == "table" {
			o.table = true
			continue
		}
		kinds = append(kinds, f)
	}
	o.vendor.formats = kinds
	vc, err := o.vendor.config()
	if err != nil {
		var ee *exitErr
		if errors.As(err, &ee) {
			for _, oe := range edrpolicy.OptionErrors(err) {
				if oe.Field == "Formats" {
					return usageErr("%w (or table: the rules for a human on stdout)", ee.err)
				}
			}
		}
		return err
	}
	o.vcfg = vc
	return nil
}

// writeRulesTable prints the policy's rules for a human: one line per rule and file (the
// JSON has the rest).
func writeRulesTable(w io.Writer, pol *edrpolicy.Policy) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row(tw, "RULE", "CRITERION", "ROLE", "FILE", "VALUE", "EXPIRES", "REASON")
	for i, r := range pol.Rules {
		exp := "-"
		if len(r.Expires) >= 10 {
			exp = r.Expires[:10]
		}
		for j, f := range r.Files {
			if j == 0 {
				row(tw, fmt.Sprint(i), string(r.Criterion), string(r.Role), f, r.Value, exp, r.Reason)
				continue
			}
			row(tw, "", "", "", f, "", "", "")
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%s, %s\n", pol.Summary.Text, plural(len(pol.Warnings), "warning"))
	return err
}

// writeReport writes the --report file, if asked, after the output set: it is not part of
// the set (not in MANIFEST.sha256), wherever it is written. With --previous and --vendor it
// holds the per-console upgrade plan this run printed (the previous policy exported with the
// same options).
func (o *generateOptions) writeReport(a *app, pol *edrpolicy.Policy, files []output.File, exported *exporters.Result, upgrade *plan.Plan) error {
	if o.report == "" {
		return nil
	}
	format, _ := report.FormatFor(o.report) // checked in options
	in := &report.Input{Policy: pol, Files: report.FilesOf(files)}
	if exported != nil {
		in.Coverage = exported.Coverage
	}
	if upgrade != nil {
		in.Plan = report.FromPlan(upgrade)
		in.PlanNote = fmt.Sprintf("the console entries of the previous policy %s (exported with this run's options) compared with this run's files, grouped as each console holds them (as diff --vendor shows them)", o.previous)
	}
	data, err := report.Render(in, format)
	if err != nil {
		return &exitErr{code: exitError, err: fmt.Errorf("generate: --report: %w", err)}
	}
	if err := writeReport(o.report, data); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s: report (%s)\n", esc(o.report), format)
	return nil
}

// partialRead makes generate exit 1 when the policy was built from a partial read (files or
// folders that could not be read are its "unreadable" warnings).
func partialRead(a *app, pol *edrpolicy.Policy) error {
	if pol.Fleet != nil {
		return fleetExit(a, pol)
	}
	if !pol.Partial {
		return nil
	}
	n := 0
	for _, w := range pol.Warnings {
		if w.Code == edrpolicy.WarnUnreadable {
			n++
		}
	}
	fmt.Fprintf(a.stderr, "edrpolicy: the policy was built from a partial read: %d file(s) or folder(s) could not be read (the unreadable warnings name them)\n", n)
	return attention()
}

// sourceDateEpoch reads SOURCE_DATE_EPOCH (seconds since 1970, the reproducible-builds
// convention): when set, it is "today" for governance dates and "now" for certificate
// expiry warnings, so that a rebuild on another day gives the same bytes. Zero when unset.
func sourceDateEpoch() (time.Time, error) {
	v, ok := os.LookupEnv("SOURCE_DATE_EPOCH")
	if !ok || v == "" {
		return time.Time{}, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return time.Time{}, usageErr("SOURCE_DATE_EPOCH %q: want seconds since 1970-01-01 UTC", v)
	}
	return time.Unix(n, 0).UTC(), nil
}

func nowOr(t time.Time) time.Time {
	if t.IsZero() {
		return time.Now()
	}
	return t
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}
