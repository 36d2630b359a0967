package edrpolicy

import (
	"fmt"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/edrpolicy/edrpolicy/edrpolicy/profile"
	"github.com/edrpolicy/edrpolicy/hashing"
	"github.com/edrpolicy/edrpolicy/signers"
)

// DecideOptions configure Decide.
type DecideOptions struct {
	// Profile describes the application (required).
	Profile *profile.Profile
	// OS is windows, mac or linux (required).
	OS profile.OS
	// Version is the application version (X.Y[.Z]); required when the profile's paths for
	// OS depend on the version.
	Version string
	// VersionSource says where Version came from (recorded in the policy).
	VersionSource string
	// AssumePaths is the version whose path table to use when Version falls into a gap no
	// source covers (code42 8.1: "8.0" or "8.2").
	AssumePaths string
	// Product is the profile's product (empty: the profile's default).
	Product string
	// Level is the weakest criterion accepted for executables (default hash).
	Level Criterion
	// Install is all-users (default) or per-user: which rows of the path table apply.
	Install string
	// PinSigners are leaf thumbprints (SHA-1 or SHA-256 hex), whose signatures are accepted
	// even when their chain does not reach a trusted root, or Apple Team IDs, which widen
	// the rule for a Team ID a certificate under Apple's root proves (never an untrusted or
	// unproven one). A pin replaces the chain check only: the leaf must still be allowed to
	// sign code and be valid when it signed. A pinned signer may also carry a weak (MD5 or
	// SHA-1) digest, with a weak-digest warning.
	PinSigners []string
	// InstallPaths maps a FileEvidence.Root (an inspected directory) to the folders it is
	// installed as on endpoints; file rules name endpoint paths, never the inspecting
	// machine's. When it is empty, each root is mapped to the profile's main application
	// folder for OS, Version and Install, as InstallPaths maps it; a profile that has install
	// folders for OS but none for this version and install kind is then an
	// *OptionError{Field: "InstallPaths"} wrapping ErrNoInstallFolder. A root without a
	// mapping (a root without an entry, or a profile such as generic with no install folder
	// for OS) names its files relative to the root, with a relative-paths warning and never a
	// path rule. When it is given (not empty), a path table no source gives and that offers no
	// candidate table (the code42 Incydr tables) does not block: the policy gets the file
	// rules, no folder rules, and an unknown-paths warning.
	InstallPaths map[string][]string
	// NoScanExclusions drops the cache and archive scan exclusions the profile recommends.
	NoScanExclusions bool
	// IncludeArchives adds the scan exclusions of backup-archive folders (role archive). They
	// are left out by default: the code42 archive folders are defaults of version-4
	// documentation (confidence inferred) that an administrator may have moved, and an
	// exclusion of a folder that holds something else is a blind spot.
	IncludeArchives bool
	// IncludeLogs adds folder rules for log folders (roles that allow them on request).
	IncludeLogs bool
	// Force records a guardrail refusal (FindingGuardrail) as a warning instead of failing;
	// an executable folder rule is refused even then.
	Force bool
	// Guardrails adds a host check to the path guardrails (see GuardrailOptions): the only
	// way Decide learns anything about a machine. The zero value judges paths by their
	// spelling alone; the CLI passes HostGuardrails(), whose check applies only to a policy
	// for the OS it runs on.
	Guardrails GuardrailOptions
	// Now is the time for certificate-expiry warnings; zero means time.Now(). It is not
	// written to the policy.
	Now time.Time
	// Timestamp, when not zero, is written to the policy as "generated".
	Timestamp time.Time
	// Governance fills every rule's owner, justification, scope and expiry (see
	// GovernanceOptions) and is recorded in the policy.
	Governance GovernanceOptions
	// Generator is recorded as the policy's "generator"; nil means DefaultGenerator().
	Generator *Generator
	// Roots are recorded as the policy's "roots": the install folders inspected, as the user
	// gave them (Generate sets them from GenerateOptions.Roots when empty).
	Roots []string
	// RiskySigners are the signers a rule may not pin without Force (nil: the embedded
	// list, DefaultRiskySigners); Interpreters the programs that get no rule without Force
	// (nil: DefaultInterpreters).
	RiskySigners *RiskySigners
	Interpreters *Interpreters
	// Previous is the policy this one replaces: an era or signer change (a renewed
	// certificate above all) is reported as a signer-change warning, and the previous rules
	// the new install no longer matches are listed in Policy.Superseded.
	Previous *Policy
	// KeepPrevious adds the superseded rules of Previous that belong to another version to
	// the policy, each labelled with that version (Rule.AppVersion), for the rollout window in
	// which both versions run; rules Previous itself kept stay too, so that repeated runs
	// during the rollout give the same policy. Leave it off to end the window. It needs
	// Previous.
	KeepPrevious bool
}

// ExpiryWarning is how close to its not_after a signer certificate gets a warning.
const ExpiryWarning = 90 * 24 * time.Hour

// Decide turns an inventory into a policy. It is a function of its inputs: it does no I/O of
// its own (it opens, stats and reads no file, and resolves no symbolic link), keeps no state,
// and gives the same policy on every machine for the same inputs. Two inputs reach beyond
// them, and only when the caller gives them: opts.Guardrails.HostCheck, which Decide calls
// with each path rule's folder for a policy of opts.Guardrails.HostOS (the CLI's stats this
// machine's folder, HostGuardrails), and the clock, read once (time.Now) when opts.Now is
// zero. Inspect and Generate read the file system; Decide reads only the Inventory.
//
// For each executable (PE, Mach-O, and scripts the profile lists) it picks the criterion:
//
//   - level hash: a hash rule (SHA-256), one per distinct file content.
//   - level signer: a signer rule when the file's signature_status is valid and one of its
//     signatures is worth one (see signerJudge in trust.go: the leaf may sign code and was
//     valid when it signed, the chain is trusted or the leaf pinned, the digests are strong
//     or the signer pinned, an Apple Team ID agrees with the certificate); otherwise a hash
//     rule whose reason says what was found (unsigned, ad-hoc, invalid, unknown root and not
//     pinned, EKU missing, expired without a timestamp, weak digest, broken bundle seal). A
//     file whose signature does not verify is never covered by a signer rule. An Apple
//     signer rule names the Team ID only when a certificate chaining to Apple's root proves
//     it; otherwise it names the leaf certificate's thumbprint.
//   - level path: a signer rule where one is possible (as durable across upgrades and
//     stronger), otherwise an exact file path rule; a file whose signature does not verify
//     gets a hash rule, since a path rule would trust whatever replaces it.
//
// Scan exclusions for caches (and, with IncludeArchives, backup archives) are path rules from
// the profile (for products with backup), at every level unless NoScanExclusions. Every path
// rule passes the guardrails (see PathRuleRefusals), the rules kept with KeepPrevious too; a
// refusal is a *GuardrailError unless Force.
func Decide(inv *Inventory, opts DecideOptions) (*Policy, error) {
	d, err := newDecider(opts)
	if err != nil {
		return nil, err
	}
	return d.run(inv)
}

type decider struct {
	opts     DecideOptions
	prof     *profile.Profile
	product  *profile.Product
	version  profile.Version
	table    *profile.Table
	era      *profile.Era
	expected []profile.ExpectedSigner
	judge    *signerJudge
	gov      *governance
	risky    *RiskySigners
	interp   *Interpreters
	now      time.Time
	pol      *Policy
	warn     []Warning
}

// newDecider checks opts and resolves what the decision depends on: product, version, path
// table, era, expected signers and governance; it starts the policy with what it records.
func newDecider(opts DecideOptions) (*decider, error) {
	if err := checkDecideOptions(&opts); err != nil {
		return nil, err
	}
	d := &decider{opts: opts, prof: opts.Profile, now: opts.Now}
	if d.now.IsZero() {
		d.now = time.Now()
	}
	d.judge = newSignerJudge(opts.PinSigners, d.now)
	d.risky, d.interp = riskLists(opts.RiskySigners, opts.Interpreters)
	if err := d.resolveVersion(); err != nil {
		return nil, err
	}
	assumed, err := d.resolvePathTable()
	if err != nil {
		return nil, err
	}
	if err := checkPrevious(opts); err != nil {
		return nil, err
	}
	if d.gov, err = newGovernance(opts.Governance, opts.Previous, d.now); err != nil {
		return nil, err
	}
	d.era = d.prof.EraOf(opts.Product, d.version)
	d.expected = d.prof.SignersFor(opts.OS, opts.Product, d.version)
	d.pol = d.newPolicy()
	d.pathTableWarnings(assumed)
	return d, nil
}

// checkDecideOptions refuses a missing profile, an unknown OS, level or install kind, and
// sets the default level (hash).
func checkDecideOptions(opts *DecideOptions) error {
	if opts.Profile == nil {
		return &OptionError{Field: "Profile", Reason: "required: the profile of the application"}
	}
	if err := checkOS("OS", opts.OS); err != nil {
		return err
	}
	if opts.Level == "" {
		opts.Level = CriterionHash
	}
	if _, err := ParseCriterion(string(opts.Level)); err != nil {
		return optionf("Level", string(opts.Level), "want hash, signer or path")
	}
	return checkInstall(opts.Install)
}

// resolveVersion sets the product and the application version, which a profile whose paths
// for the OS depend on it requires.
func (d *decider) resolveVersion() error {
	p, opts := d.prof, d.opts
	var err error
	if d.product, err = p.Product(opts.Product); err != nil {
		return optionErr("Product", opts.Product, err)
	}
	if opts.Version != "" {
		if d.version, err = profile.ParseVersion(opts.Version); err != nil {
			return optionErr("Version", opts.Version, err)
		}
	} else if versioned(p, opts.OS) {
		return optionf("Version", "", "profile %s: the %s paths depend on the version: give the application version (X.Y.Z), or read it from the install", p.Name, opts.OS)
	}
	return nil
}

// resolvePathTable sets the path table for the OS, version, install kind and product, and
// returns the AssumePaths version (zero when none was given), which only a version no
// source covers may use.
func (d *decider) resolvePathTable() (profile.Version, error) {
	opts := d.opts
	q := profile.PathQuery{OS: opts.OS, Version: d.version, Install: opts.Install, Product: opts.Product, OwnInstallPaths: len(opts.InstallPaths) > 0}
	var err error
	if opts.AssumePaths != "" {
		if q.AssumePaths, err = profile.ParseVersion(opts.AssumePaths); err != nil {
			return q.AssumePaths, optionErr("AssumePaths", opts.AssumePaths, err)
		}
	}
	if d.table, err = d.prof.PathTable(q); err != nil {
		return q.AssumePaths, err
	}
	if opts.AssumePaths != "" && d.table.Assumed == nil {
		return q.AssumePaths, optionf("AssumePaths", opts.AssumePaths, "version %s is documented; an assumed path table is only for a version no source covers", d.version)
	}
	return q.AssumePaths, nil
}

// newPolicy starts the policy: what it records of the inputs, and no rules or warnings yet.
func (d *decider) newPolicy() *Policy {
	opts := d.opts
	prod := ""
	if d.product != nil {
		prod = d.product.Name
	}
	gen := DefaultGenerator()
	if opts.Generator != nil {
		gen = *opts.Generator
	}
	pol := &Policy{
		SchemaVersion:    SchemaVersion,
		Generator:        &gen,
		Roots:            append([]string(nil), opts.Roots...),
		Governance:       d.gov.record(),
		Profile:          d.prof.Name,
		Product:          prod,
		OS:               opts.OS,
		AppVersion:       d.version.String(),
		AppVersionSource: opts.VersionSource,
		Level:            opts.Level,
		Rules:            []Rule{},
		Warnings:         []Warning{},
		PinnedSigners:    pinList(opts.PinSigners),
	}
	if d.era != nil {
		pol.Era = d.era.Name
	}
	if !opts.Timestamp.IsZero() {
		pol.Generated = opts.Timestamp.UTC().Format(time.RFC3339)
	}
	return pol
}

// pathTableWarnings records an assumed path table (the paths of version assumed) and one no
// source gives (bridged by the install paths given).
func (d *decider) pathTableWarnings(assumed profile.Version) {
	if d.table.Assumed != nil {
		d.pol.AssumedPaths = assumed.String()
		d.warn = append(d.warn, Warning{Code: WarnAssumedPaths, Message: fmt.Sprintf("%s; the paths of %s were assumed", d.table.Assumed.Message, assumed)})
	}
	if d.table.Bridged != nil {
		d.warn = append(d.warn, Warning{Code: WarnUnknownPaths, Message: d.table.Bridged.Message + "; file rules name the install paths given, and no folder rules (scan exclusions, logs) were written"})
	}
}

func versioned(p *profile.Profile, os profile.OS) bool {
	for _, r := range p.Paths {
		if r.OS == os && !r.Versions.All() {
			return true
		}
	}
	return false
}

func normPin(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	return strings.NewReplacer(":", "", " ", "").Replace(s)
}

// verdict is the decision for one executable.
type verdict struct {
	file      *FileEvidence
	endpoints []string
	crit      Criterion
	reason    string
	sig       *signers.Signature // covering signature for signer rules
	tampered  bool
	// interpreter is set when the file is an interpreter or LOLBin given a rule with Force.
	interpreter *InterpreterMatch
}

// run decides the policy for inv: the executables and the criterion of each, the rules,
// then governance, order, warnings and summary.
func (d *decider) run(inv *Inventory) (*Policy, error) {
	if err := d.defaultInstallPaths(inv); err != nil {
		return nil, err
	}
	execs := d.executables(inv)
	d.relativePathsWarning(execs)
	d.unreadableWarnings(inv)
	if len(execs) == 0 {
		d.warn = append(d.warn, Warning{Code: WarnNoExecutables, Message: "no executable files were found under the inspected roots: the policy has no rules for program files"})
	}
	d.judgeExecutables(execs, brokenBundles(inv))
	d.trustWarnings(execs)
	ruled := d.interpreterVerdicts(execs) // interpreters and LOLBins: no rule without Force
	if err := d.addRules(ruled); err != nil {
		return nil, err
	}
	d.osMismatch(execs)
	d.unsealed(inv, execs)
	return d.finish(execs)
}

// executables returns a verdict (without criterion yet) for each file that gets a rule of
// its own: executables and the scripts the profile lists, not symbolic links, bundles or
// unread files.
func (d *decider) executables(inv *Inventory) []*verdict {
	scripts := d.prof.ScriptGlobs(d.opts.OS)
	var execs []*verdict
	for i := range inv.Files {
		f := &inv.Files[i]
		if f.Symlink != "" || f.Format == hashing.FormatAppBundle || f.SHA256 == "" {
			continue
		}
		if !f.IsExecutable() && !(len(scripts) > 0 && matchAny(scripts, f.Path)) {
			continue
		}
		execs = append(execs, &verdict{file: f, endpoints: d.endpoints(*f)})
	}
	return execs
}

// relativePathsWarning warns of the inspected roots without an install path, whose files
// the rules name relative to the root.
func (d *decider) relativePathsWarning(execs []*verdict) {
	var relative []string
	for _, v := range execs {
		if d.unmapped(*v.file) {
			relative = appendUnique(relative, v.file.Root)
		}
	}
	if len(relative) > 0 {
		d.warn = append(d.warn, Warning{Code: WarnRelativePaths, Message: fmt.Sprintf("no install path for %s: the rules name its files relative to the inspected root, and no path rule is written for them; give each root the folder it is installed as on endpoints (its install path) for endpoint paths", strings.Join(relative, ", ")), Files: relative})
	}
}

// judgeExecutables sets each verdict's criterion from the level and the file's signature,
// and warns of files whose signature does not verify and of unexpected Team IDs.
func (d *decider) judgeExecutables(execs []*verdict, broken map[string]string) {
	var tampered, unexpected []string
	for _, v := range execs {
		sig, why, tamper := d.signerFor(v.file, broken)
		v.tampered = tamper
		if tamper {
			tampered = append(tampered, v.endpoints...)
		}
		if sig != nil {
			if msg := d.unexpectedSigner(sig); msg != "" {
				unexpected = append(unexpected, v.endpoints...)
			}
		}
		d.chooseCriterion(v, sig, why)
		d.exactPathOrHash(v)
	}
	if len(tampered) > 0 {
		d.warn = append(d.warn, Warning{Code: WarnTampered, Message: fmt.Sprintf("%d file(s) carry a signature that does not verify (tampered, truncated or a broken bundle seal): they get hash rules only; confirm the install is genuine before deploying", len(tampered)), Files: tampered})
	}
	if len(unexpected) > 0 {
		d.warn = append(d.warn, Warning{Code: WarnUnexpectedSigner, Message: fmt.Sprintf("valid signatures from a Team ID other than the one expected for era %s (%s)", d.pol.Era, d.expectedTeams()), Files: unexpected})
	}
}

// chooseCriterion sets v's criterion and reason: sig is the signature that may carry a
// signer rule (nil: none may, for the reason why), and v.tampered says whether the file's
// signature is broken.
func (d *decider) chooseCriterion(v *verdict, sig *signers.Signature, why string) {
	switch {
	case d.opts.Level == CriterionHash:
		v.crit, v.reason = CriterionHash, "hash level: the exact SHA-256 of this build"
	case sig != nil:
		v.crit, v.sig = CriterionSigner, sig
	case d.opts.Level == CriterionPath && !v.tampered && d.unmapped(*v.file):
		v.crit, v.reason = CriterionHash, why+"; no install path for its root, so no path rule"
	case d.opts.Level == CriterionPath && !v.tampered:
		v.crit, v.reason = CriterionPath, "no signer rule possible ("+why+"); the path level accepts an exact file path"
	case d.opts.Level == CriterionPath:
		v.crit, v.reason = CriterionHash, why+"; a path rule would trust whatever replaces this file, so only its exact hash"
	default:
		v.crit, v.reason = CriterionHash, why
	}
}

// addRules adds the rules for the ruled verdicts to the policy: hash, signer, then file and
// folder path rules (the file rules a folder rule covers dropped), which pass the guardrails;
// a risky signer without Force is an error.
func (d *decider) addRules(ruled []*verdict) error {
	d.pol.Rules = append(d.pol.Rules, d.hashRules(ruled)...)
	d.pol.Rules = append(d.pol.Rules, d.signerRules(ruled)...)
	markTimestamped(d.pol.Rules, ruled)
	fileRules := d.pathFileRules(ruled)
	folderRules := d.folderRules()
	fileRules = dropCovered(fileRules, folderRules)
	pathRules := append(fileRules, folderRules...)
	if err := d.guard(pathRules); err != nil {
		return err
	}
	d.pol.Rules = append(d.pol.Rules, pathRules...)
	if err := d.riskySigners(d.pol.Rules); err != nil {
		return err
	}
	d.markForcedInterpreters(d.pol.Rules, ruled)
	return nil
}

// finish applies governance to the rules, sorts them, adds the policy-wide warnings and the
// rules superseded since Previous, and writes the warnings and summary to the policy.
func (d *decider) finish(execs []*verdict) (*Policy, error) {
	for i := range d.pol.Rules {
		d.gov.apply(&d.pol.Rules[i])
	}
	sortRules(d.pol.Rules)
	d.warnings(execs)
	if d.opts.Previous != nil {
		if err := d.supersede(d.opts.Previous); err != nil {
			return nil, err
		}
	}
	if w := expiredWarning(d.pol.Rules, d.now); w != nil {
		d.warn = append(d.warn, *w)
	}
	d.pol.Warnings = d.warn
	sortWarnings(d.pol.Warnings)
	d.summary(len(execs))
	return d.pol, nil
}

// defaultInstallPaths maps the inventory's roots to the profile's main application folders
// when the caller gave no InstallPaths: the mapping InstallPaths returns, from the path table
// this decision uses. A profile that has install folders for the OS but none for this
// version and install kind is an *OptionError{Field: "InstallPaths"} (ErrNoInstallFolder):
// the files would otherwise keep the inspecting machine's relative names without need.
func (d *decider) defaultInstallPaths(inv *Inventory) error {
	if len(d.opts.InstallPaths) > 0 {
		return nil
	}
	paths, err := mapInstallRoots(d.prof, d.opts.OS, d.version, d.opts.Install, d.table, inv)
	if err != nil {
		return &OptionError{Field: "InstallPaths", Reason: err.Error() + ": give the folder each inspected root is installed as on endpoints", Err: err}
	}
	d.opts.InstallPaths = paths
	return nil
}

// endpoints maps a file to the paths it has on endpoints.
func (d *decider) endpoints(f FileEvidence) []string {
	sep := "/"
	if d.opts.OS == profile.OSWindows {
		sep = `\`
	}
	rel := strings.ReplaceAll(f.Path, "/", sep)
	bases, ok := d.opts.InstallPaths[f.Root]
	if !ok || len(bases) == 0 {
		if f.Root == "" {
			return []string{f.Path}
		}
		// No install path: the path on the inspecting machine would mean nothing on
		// endpoints, so the file keeps its path relative to the root (a relative-paths warning).
		return []string{rel}
	}
	out := make([]string, 0, len(bases))
	for _, b := range bases {
		out = append(out, strings.TrimRight(ExpandUserPath(d.opts.OS, b), `/\`)+sep+rel)
	}
	return out
}

// unmapped reports whether f lies under an inspected root that has no install path.
func (d *decider) unmapped(f FileEvidence) bool {
	return f.Root != "" && len(d.opts.InstallPaths[f.Root]) == 0
}

// ExpandUserPath turns a profile path's user placeholders into the wildcards EDR consoles
// take: "~" is /Users/* (mac) or /home/* (linux), and a Windows "<user>" segment is "*".
func ExpandUserPath(os profile.OS, p string) string {
	switch os {
	case profile.OSMac:
		if p == "~" || strings.HasPrefix(p, "~/") {
			return "/Users/*" + p[1:]
		}
	case profile.OSLinux:
		if p == "~" || strings.HasPrefix(p, "~/") {
			return "/home/*" + p[1:]
		}
	case profile.OSWindows:
		return strings.ReplaceAll(p, "<user>", "*")
	}
	return p
}

func displayName(f FileEvidence) string {
	if f.Root != "" && f.Root != f.Path {
		return strings.TrimRight(f.Root, `/\`) + "/" + f.Path
	}
	return f.Path
}

// brokenBundles returns the bundle directories (root + "\x00" + path) whose seal is broken.
func brokenBundles(inv *Inventory) map[string]string {
	out := map[string]string{}
	for _, f := range inv.Files {
		if f.Format != hashing.FormatAppBundle {
			continue
		}
		var why []string
		if f.SignatureStatus == signers.StatusInvalid {
			why = append(why, "bundle signature does not verify")
		}
		if f.Bundle != nil {
			if n := len(f.Bundle.Modified); n > 0 {
				why = append(why, fmt.Sprintf("%d sealed file(s) modified", n))
			}
			if n := len(f.Bundle.Missing); n > 0 {
				why = append(why, fmt.Sprintf("%d sealed file(s) missing", n))
			}
			if n := len(f.Bundle.Added); n > 0 {
				why = append(why, fmt.Sprintf("%d unsealed file(s) added", n))
			}
		}
		if len(why) > 0 {
			out[f.Root+"\x00"+f.Path] = f.Path + ": " + strings.Join(why, ", ")
		}
	}
	return out
}

func enclosingBroken(broken map[string]string, f *FileEvidence) string {
	for dir := path.Dir(f.Path); dir != "." && dir != "/" && dir != ""; dir = path.Dir(dir) {
		if why, ok := broken[f.Root+"\x00"+dir]; ok {
			return why
		}
	}
	return ""
}

// signerFor returns the signature that may carry a signer rule for f, or why none may, and
// whether f's signature (or its bundle's seal) is broken. The judgement is signerJudge's,
// which Check shares.
func (d *decider) signerFor(f *FileEvidence, broken map[string]string) (*signers.Signature, string, bool) {
	sigs, why, tampered := d.judge.fileSigners(f, broken)
	if len(sigs) == 0 {
		return nil, why, tampered
	}
	return sigs[0], "", false
}

// expectedSigner reports whether s is the profile's expected signer for this era. An Apple
// signer is expected only by a Team ID its certificate proves (provenTeamID): the Team ID in
// a CodeDirectory, or the OU and organization of a certificate under another root, are names
// anyone can write.
func (d *decider) expectedSigner(s *signers.Signature) bool {
	team, _ := provenTeamID(s)
	for _, e := range d.expected {
		if e.TeamID != "" && team == e.TeamID {
			return true
		}
		if s.Signer != nil && thumbprintIn(e.Thumbprints, s.Signer) {
			return true
		}
		if s.Kind == signers.KindApple {
			continue
		}
		if s.Signer != nil && (e.Organization != "" && strings.EqualFold(s.Signer.Organization, e.Organization) ||
			e.CommonName != "" && strings.EqualFold(s.Signer.CommonName, e.CommonName)) {
			return true
		}
	}
	return false
}

func (d *decider) expectedTeams() string {
	var t []string
	for _, e := range d.expected {
		if e.TeamID != "" {
			t = append(t, e.TeamID)
		}
	}
	return strings.Join(t, ", ")
}

// unexpectedSigner returns a message when s is an Apple signature from a Team ID other than
// the era's expected one.
func (d *decider) unexpectedSigner(s *signers.Signature) string {
	team, _ := provenTeamID(s)
	if s.Kind != signers.KindApple || team == "" || d.expectedTeams() == "" || d.expectedSigner(s) {
		return ""
	}
	return "unexpected Team ID " + team
}

func (d *decider) hashRules(execs []*verdict) []Rule {
	bySum := map[string]*Rule{}
	reasons := map[string]map[string]bool{}
	var order []string
	for _, v := range execs {
		if v.crit != CriterionHash {
			continue
		}
		r, ok := bySum[v.file.SHA256]
		if !ok {
			r = &Rule{Criterion: CriterionHash, Value: v.file.SHA256, SHA1: v.file.SHA1, MD5: v.file.MD5, Platform: d.opts.OS, Role: profile.RoleExecutable, Source: SourceInspected}
			bySum[v.file.SHA256] = r
			reasons[v.file.SHA256] = map[string]bool{}
			order = append(order, v.file.SHA256)
		}
		r.Files = appendUnique(r.Files, v.endpoints...)
		reasons[v.file.SHA256][v.reason] = true
	}
	out := make([]Rule, 0, len(order))
	for _, k := range order {
		r := bySum[k]
		r.Reason = joinSet(reasons[k])
		out = append(out, *r)
	}
	return out
}

func (d *decider) signerRules(execs []*verdict) []Rule {
	byKey := map[string]*Rule{}
	var order []string
	for _, v := range execs {
		if v.crit != CriterionSigner {
			continue
		}
		s := v.sig
		broad := d.broadSigner(s)
		r := Rule{Criterion: CriterionSigner, Platform: d.opts.OS, Role: profile.RoleExecutable, Source: SourceInspected, Signer: s.Signer}
		if s.Signer != nil {
			r.Certificate = s.Signer.Raw // expires: the certificate's day (governance.apply)
		}
		r.Value, r.TeamID = ruleIdentity(s)
		if !broad {
			if s.Kind == signers.KindApple {
				r.SigningID = s.SigningID
			} else {
				r.FileName = path.Base(v.file.Path)
				if v.file.PE != nil && v.file.PE.Version != nil && v.file.PE.Version.OriginalFilename != "" {
					r.FileName = v.file.PE.Version.OriginalFilename
				}
			}
		}
		r.Reason = d.signerReason(s, broad)
		key := r.Value + "\x00" + r.FileName + "\x00" + r.SigningID
		if have, ok := byKey[key]; ok {
			have.Files = appendUnique(have.Files, v.endpoints...)
			addFileDigests(have, v, d.judge.pinnedLeaf(s))
			continue
		}
		r.Files = appendUnique(nil, v.endpoints...)
		addFileDigests(&r, v, d.judge.pinnedLeaf(s))
		byKey[key] = &r
		order = append(order, key)
	}
	out := make([]Rule, 0, len(order))
	for _, k := range order {
		out = append(out, *byKey[k])
	}
	return out
}

func (d *decider) pathFileRules(execs []*verdict) []Rule {
	seen := map[string]int{}
	var out []Rule
	for _, v := range execs {
		if v.crit != CriterionPath {
			continue
		}
		for _, e := range v.endpoints {
			if i, ok := seen[e]; ok {
				out[i].Files = appendUnique(out[i].Files, e)
				continue
			}
			seen[e] = len(out)
			out = append(out, Rule{Criterion: CriterionPath, Value: e, Platform: d.opts.OS, Role: profile.RoleExecutable, Match: MatchFile, Files: []string{e}, Reason: v.reason, Source: SourceInspected,
				FileDigests: []FileDigest{{Path: e, SHA256: v.file.SHA256, SHA1: v.file.SHA1, MD5: v.file.MD5}}})
		}
	}
	return out
}

func (d *decider) folderRules() []Rule {
	var out []Rule
	seen := map[string]bool{}
	for _, row := range d.table.Rows {
		var reason string
		switch {
		case row.Rule == profile.RuleScanExclusion && !d.opts.NoScanExclusions:
			if row.BackupOnly && (d.product == nil || !d.product.Backup) {
				continue
			}
			if row.Role == profile.RoleArchive && !d.opts.IncludeArchives {
				continue
			}
			reason = "scan exclusion the source recommends: " + map[profile.Role]string{
				profile.RoleCache:   "cache files are benign records of the app's own operations",
				profile.RoleArchive: "backup archives are compressed and encrypted; scan the source, not the archive",
			}[row.Role]
		case row.Rule == profile.RuleOnRequest && row.Role == profile.RoleLogs && d.opts.IncludeLogs:
			reason = "log folder, included on request"
		default:
			continue
		}
		val := ExpandUserPath(d.opts.OS, row.Path)
		match := MatchSubfolders
		if row.Kind == "file" {
			match = MatchFile
		}
		if seen[val] {
			continue
		}
		seen[val] = true
		out = append(out, Rule{
			Criterion: CriterionPath, Value: val, Platform: d.opts.OS, Role: row.Role, Match: match,
			Files: []string{val}, Reason: strings.TrimSuffix(reason, ": "), Source: d.prof.SourceRefs(row.Source), Confidence: row.Confidence,
		})
	}
	return out
}

// dropCovered removes file rules that lie under a folder rule (same criterion, no stronger).
func dropCovered(files, folders []Rule) []Rule {
	var out []Rule
	for _, f := range files {
		covered := false
		for _, d := range folders {
			if d.Match == MatchSubfolders && under(f.Value, d.Value) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, f)
		}
	}
	return out
}

func under(p, dir string) bool {
	p, dir = strings.ToLower(strings.ReplaceAll(p, `\`, "/")), strings.ToLower(strings.ReplaceAll(dir, `\`, "/"))
	dir = strings.TrimRight(dir, "/")
	if ok, _ := path.Match(dir+"/*", p); ok {
		return true
	}
	return strings.HasPrefix(p, dir+"/")
}

// guard applies the guardrails to rules (PathRuleRefusals): a refusal is a *GuardrailError,
// or with Force (for refusals it may override) a guardrail-forced warning.
func (d *decider) guard(rules []Rule) error {
	var ge GuardrailError
	for i := range rules {
		ge.Refusals = append(ge.Refusals, PathRuleRefusals(&rules[i], d.opts.OS, d.opts.Guardrails)...)
	}
	if len(ge.Refusals) == 0 {
		return nil
	}
	if !d.opts.Force || !ge.Forcible() {
		return &ge
	}
	for _, r := range ge.Refusals {
		d.warn = append(d.warn, Warning{Code: WarnGuardrailForced, Message: fmt.Sprintf("path rule %s kept although it is %s: the refusal was overridden (forced)", r.Path, r.Reason), Files: []string{r.Path}})
	}
	return nil
}

func (d *decider) warnings(execs []*verdict) {
	var nHash int
	var hashFiles []string
	for _, r := range d.pol.Rules {
		switch r.Criterion {
		case CriterionHash:
			nHash++
			hashFiles = append(hashFiles, r.Files...)
		case CriterionSigner:
			if r.Signer == nil {
				continue
			}
			left := r.Signer.NotAfter.Sub(d.now)
			switch {
			case left < 0:
				d.warn = append(d.warn, Warning{Code: WarnSignerExpired, Message: fmt.Sprintf("signer %s (%s) expired on %s: files signed later carry a new certificate", r.Signer.CommonName, r.Value, r.Signer.NotAfter.UTC().Format("2006-01-02")), Files: r.Files})
			case left < ExpiryWarning:
				d.warn = append(d.warn, Warning{Code: WarnSignerExpiring, Message: fmt.Sprintf("signer %s (%s) expires on %s, within 90 days: the next release will be signed with a renewed certificate", r.Signer.CommonName, r.Value, r.Signer.NotAfter.UTC().Format("2006-01-02")), Files: r.Files})
			}
		}
	}
	if nHash > 0 && len(execs) > 0 {
		msg := fmt.Sprintf("%d hash rule(s) match version %s only: they break at the next upgrade (hashes change with every patch)", nHash, orUnknown(d.pol.AppVersion))
		if quotes := d.adviceText(d.prof.AdviceFor(profile.AdviceHash)); quotes != "" {
			msg += "; " + quotes
		}
		d.warn = append(d.warn, Warning{Code: WarnHashUpgrade, Message: msg, Files: hashFiles})
	}
	d.adviceWarnings()
	if d.opts.Level != CriterionHash && len(d.opts.PinSigners) == 0 {
		for _, u := range d.prof.UnknownsOf("signer", d.opts.OS, d.opts.Product, d.version) {
			d.warn = append(d.warn, Warning{Code: WarnUnknownSigner, Message: u.Message + "; signer rules for unpinned signers are narrowed to their files (" + u.Flag + ")"})
		}
	}
	for _, u := range d.prof.UnknownsOf("era", d.opts.OS, d.opts.Product, d.version) {
		d.warn = append(d.warn, Warning{Code: WarnUnknownEra, Message: u.Message + "; no signer is expected, so signer rules for unpinned signers are narrowed to their files (" + u.Flag + ")"})
	}
	for _, n := range d.prof.NotesFor(d.opts.OS, d.version) {
		d.warn = append(d.warn, Warning{Code: WarnNote, Message: n.Message + " (" + d.prof.SourceLabels(n.Source) + ")"})
	}
	if p := d.opts.Previous; p != nil {
		d.compareWithPrevious(p)
	}
}

func orUnknown(s string) string {
	if s == "" {
		return "(unknown)"
	}
	return s
}

// compareWithPrevious reports an era change and the signer values that appeared or went away.
func (d *decider) compareWithPrevious(prev *Policy) {
	if prev.Era != "" && d.pol.Era != "" && prev.Era != d.pol.Era {
		d.warn = append(d.warn, Warning{Code: WarnSignerChange, Message: fmt.Sprintf("era changed from %s (version %s) to %s (version %s): folder, service and signing certificate names change between eras; signer rules of the previous policy do not carry over", prev.Era, prev.AppVersion, d.pol.Era, d.pol.AppVersion)})
	}
	old, cur := map[string]bool{}, map[string]bool{}
	for _, r := range prev.Rules {
		if r.Criterion == CriterionSigner {
			old[r.Value] = true
		}
	}
	for _, r := range d.pol.Rules {
		if r.Criterion == CriterionSigner {
			cur[r.Value] = true
		}
	}
	var gone, added []string
	for v := range old {
		if !cur[v] {
			gone = append(gone, v)
		}
	}
	for v := range cur {
		if !old[v] {
			added = append(added, v)
		}
	}
	sort.Strings(gone)
	sort.Strings(added)
	if len(old) > 0 && (len(gone) > 0 || len(added) > 0) {
		d.warn = append(d.warn, Warning{Code: WarnSignerChange, Message: fmt.Sprintf("signers changed since the previous policy: removed [%s], added [%s]", strings.Join(gone, ", "), strings.Join(added, ", "))})
	}
}

func (d *decider) summary(files int) {
	s := Summary{Files: files, Rules: len(d.pol.Rules)}
	for _, r := range d.pol.Rules {
		switch r.Criterion {
		case CriterionHash:
			s.Hash++
		case CriterionSigner:
			s.Signer++
		case CriterionPath:
			s.Path++
		}
	}
	s.Text = fmt.Sprintf("%d files → %d rules: %d hash, %d signer, %d path", s.Files, s.Rules, s.Hash, s.Signer, s.Path)
	if kept := keptCount(d.pol.Rules); kept > 0 {
		var old []Rule
		for _, r := range d.pol.Rules {
			if r.AppVersion != "" {
				old = append(old, r)
			}
		}
		s.Text += fmt.Sprintf(" (%d kept from %s)", kept, keptVersions(old))
	}
	d.pol.Summary = s
}

func appendUnique(list []string, items ...string) []string {
	for _, it := range items {
		found := false
		for _, x := range list {
			if x == it {
				found = true
				break
			}
		}
		if !found {
			list = append(list, it)
		}
	}
	return list
}

func joinSet(m map[string]bool) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return strings.Join(keys, "; ")
}

// thumbprintIn reports whether the leaf's SHA-1 or SHA-256 thumbprint is in list.
func thumbprintIn(list []string, s *signers.Certificate) bool {
	for _, t := range list {
		if n := normPin(t); n != "" && (n == normPin(s.ThumbprintSHA1) || n == normPin(s.ThumbprintSHA256)) {
			return true
		}
	}
	return false
}

// adviceWarnings shows the profile's advice about exceptions, quoted with its sources, as
// warnings with code "advice": one per topic, in profile order. Advice on hash rules is joined
// to the hash-upgrade warning instead; advice on signer rules is shown when the policy has
// signer rules; advice on the backup selection is shown for products with backup.
func (d *decider) adviceWarnings() {
	hasSigner := false
	for _, r := range d.pol.Rules {
		hasSigner = hasSigner || r.Criterion == CriterionSigner
	}
	var topics []string
	byTopic := map[string][]profile.Advice{}
	for _, a := range d.prof.Advice {
		switch {
		case a.Topic == profile.AdviceHash:
			continue
		case a.Topic == profile.AdviceSigner && !hasSigner:
			continue
		case a.Topic == profile.AdviceBackupSelection && (d.product == nil || !d.product.Backup):
			continue
		}
		if _, ok := byTopic[a.Topic]; !ok {
			topics = append(topics, a.Topic)
		}
		byTopic[a.Topic] = append(byTopic[a.Topic], a)
	}
	for _, t := range topics {
		d.warn = append(d.warn, Warning{Code: WarnAdvice, Message: t + ": " + d.adviceText(byTopic[t])})
	}
}

// adviceText renders advice as `summary: "quote" (sources)`, joined with "; ".
func (d *decider) adviceText(list []profile.Advice) string {
	parts := make([]string, 0, len(list))
	for _, a := range list {
		parts = append(parts, fmt.Sprintf("%s: %q (%s)", a.Summary, strings.Join(strings.Fields(a.Quote), " "), d.prof.SourceLabels(a.Source)))
	}
	return strings.Join(parts, "; ")
}

// checkOS refuses an OS other than windows, mac or linux.
func checkOS(field string, os profile.OS) error {
	if os.Valid() {
		return nil
	}
	return optionf(field, string(os), "%v", profile.ErrUnknownOS)
}

// checkInstall refuses an install kind the profiles do not know: a misspelt one would select
// no row of the path table, and the policy would silently lose its folder rules.
func checkInstall(install string) error {
	switch install {
	case "", profile.InstallAllUsers, profile.InstallPerUser, profile.InstallLegacyOS:
		return nil
	}
	return optionf("Install", install, "want %s or %s (or %s)", profile.InstallAllUsers, profile.InstallPerUser, profile.InstallLegacyOS)
}
